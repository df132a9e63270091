/* Fuzz harness: address rewriting (src/lib/rewrite.c): a route's rewrite
   file, then an envelope address and a header section rewritten by it.
   Input: rules, a 0 byte, an address, a 0 byte, the header section. */

#include <skalibs/stralloc.h>
#include "rewrite.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static int init = 0 ;
  static stralloc out = STRALLOC_ZERO ;
  rewrite rw = REWRITE_ZERO ;
  char const *rules = "", *addr = "", *hdr = "" ;
  size_t rlen = 0, alen = 0, hlen = 0 ;
  unsigned int line = 0 ;
  if (!init)
  {
    fuzz_home() ;
    fuzz_puts("control/me", "here.example\n") ;
    fuzz_puts("control/locals", "here.example\nlocalhost\n") ;
    init = 1 ;
  }
  fuzz_piece(&data, &size, 0, &rules, &rlen) ;
  fuzz_piece(&data, &size, 0, &addr, &alen) ;
  if (size) { hdr = (char const *)data ; hlen = size ; }
  fuzz_put("control/rewrite", rules, rlen) ;
  if (rewrite_load(&rw, "control/rewrite", &line) == -1) abort() ;  /* -2: a malformed file */
  {
    char *a = fuzz_strdup(addr, alen) ;
    char *h = fuzz_strdup(hdr, hlen) ;
    int r = rewrite_address(&rw, a, alen, &out) ;
    if (r < 0) abort() ;
    if (out.s && out.s[out.len]) abort() ;
    out.len = 0 ;
    r = rewrite_header(&rw, h, hlen, &out) ;
    if (r < 0) abort() ;
    /* nothing to rewrite: the header goes out as it came */
    if (!r && (out.len != hlen || memcmp(out.s, h, hlen))) abort() ;
    free(a) ; free(h) ;
  }
  rewrite_free(&rw) ;
  return 0 ;
}
