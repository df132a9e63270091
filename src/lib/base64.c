/* Base64 (RFC 4648 4): encoding and decoding for SMTP AUTH; pure functions. */

#include <errno.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "base64.h"

static char const alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" ;

int base64_cat (stralloc *sa, char const *s, size_t n)
{
  unsigned char const *p = (unsigned char const *)s ;
  if (!stralloc_readyplus(sa, (n + 2) / 3 * 4)) return 0 ;
  for (; n ; p += 3, n = n > 3 ? n - 3 : 0)
  {
    unsigned long v = (unsigned long)p[0] << 16 | (n > 1 ? (unsigned long)p[1] << 8 : 0) | (n > 2 ? p[2] : 0) ;
    sa->s[sa->len++] = alphabet[v >> 18] ;
    sa->s[sa->len++] = alphabet[(v >> 12) & 63] ;
    sa->s[sa->len++] = n > 1 ? alphabet[(v >> 6) & 63] : '=' ;
    sa->s[sa->len++] = n > 2 ? alphabet[v & 63] : '=' ;
  }
  return 1 ;
}

int base64_decode_cat (stralloc *sa, char const *s, size_t n)
{
  unsigned long v = 0 ;
  unsigned int bits = 0, pad = 0 ;
  size_t base = sa->len ;
  for (size_t i = 0 ; i < n ; i++)
  {
    char const *x ;
    char c = s[i] ;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue ;
    if (c == '=') { pad++ ; continue ; }
    if (pad || !c || !(x = strchr(alphabet, c))) goto bad ;
    v = (v << 6) | (unsigned long)(x - alphabet) ;
    bits += 6 ;
    if (bits >= 8)
    {
      char b ;
      bits -= 8 ;
      b = (char)(v >> bits) ;
      if (!stralloc_catb(sa, &b, 1)) return 0 ;
      v &= (1UL << bits) - 1 ;
    }
  }
  if (pad > 2 || v) goto bad ;
  return 1 ;
 bad:
  sa->len = base ;
  errno = EINVAL ;
  return 0 ;
}
