/* Fuzz harness: envelope addresses (src/lib/address.c), as they come in
   MAIL FROM, RCPT TO and on sendmail's command line. */

#include <skalibs/stralloc.h>
#include "address.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static stralloc sa = STRALLOC_ZERO ;
  char *s = fuzz_strdup((char const *)data, size) ;
  char const *why = 0 ;
  size_t at = address_at(s, size) ;
  if (at > size) abort() ;
  if (address_valid(s, size, &why))
  {
    /* a valid address has its '@' inside it and fits the limits */
    if (at >= size || size > ADDRESS_MAX) abort() ;
  }
  else if (!why) abort() ;
  if (address_parse(&sa, s, size, 0, &why))
  {
    /* what address_parse gives is a valid address (or <>) */
    if (sa.len && !address_valid(sa.s, sa.len, &why)) abort() ;
    if (sa.s[sa.len]) abort() ;
  }
  if (address_parse(&sa, s, size, "example.org", &why) && sa.len)
  {
    if (address_at(sa.s, sa.len) >= sa.len) abort() ;
  }
  free(s) ;
  return 0 ;
}
