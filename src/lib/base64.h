/* Base64 (RFC 4648 4) for SMTP AUTH (RFC 4954). */
#ifndef MM_BASE64_H
#define MM_BASE64_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* Append the encoding of n bytes of s to sa (not NUL-terminated). 1 ok, 0 ENOMEM. */
extern int base64_cat (stralloc *sa, char const *s, size_t n) ;
/* Append the decoding of s (n bytes, whitespace ignored) to sa.
   1 ok, 0 bad input (EINVAL) or ENOMEM. */
extern int base64_decode_cat (stralloc *sa, char const *s, size_t n) ;

#endif
