/* Fuzz harness: RFC 5322 header fields and address lists
   (src/lib/rfc822.c), as they come in every message's header. */

#include <skalibs/stralloc.h>
#include "rfc822.h"
#include "rewrite.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static stralloc sa = STRALLOC_ZERO ;
  char *s = fuzz_strdup((char const *)data, size) ;
  size_t hl = header_length(s, size) ;
  size_t name = rfc822_fieldname(s, size) ;
  int n ;
  if (hl > size || name > size) abort() ;
  (void)rfc822_is_field(s, size, "from") ;
  (void)rfc822_is_field(s, size, "received") ;
  if (size && s[0] == '(' && rfc822_skip_comment(s, size, 0) > size) abort() ;
  sa.len = 0 ;
  n = rfc822_addresses(s, size, 0, &sa) ;
  if (n >= 0)
  {
    /* n NUL-terminated addresses */
    size_t i = 0 ;
    int k = 0 ;
    while (i < sa.len) { i += strlen(sa.s + i) + 1 ; k++ ; }
    if (k != n || i != sa.len) abort() ;
  }
  sa.len = 0 ;
  (void)rfc822_addresses(s, size, "example.org", &sa) ;
  if (!stralloc_copyb(&sa, "x", 1)) abort() ;
  n = rfc822_qualify(s, size, "example.org", &sa) ;
  if (n < 0 && sa.len != 1) abort() ;  /* an error leaves sa as it was */
  free(s) ;
  return 0 ;
}
