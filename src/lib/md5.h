/* MD5 (RFC 1321) and HMAC-MD5 (RFC 2104), for SMTP AUTH CRAM-MD5 (RFC 2195). */
#ifndef MM_MD5_H
#define MM_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_DIGEST 16

typedef struct md5_s md5 ;
struct md5_s
{
  uint32_t h[4] ;
  uint64_t len ;          /* bytes hashed so far */
  unsigned char buf[64] ;
} ;

extern void md5_init (md5 *c) ;
extern void md5_update (md5 *c, char const *s, size_t n) ;
extern void md5_final (md5 *c, unsigned char *digest) ;

/* HMAC-MD5 of s under key, into digest (MD5_DIGEST bytes). */
extern void hmac_md5 (char const *key, size_t keylen, char const *s, size_t n, unsigned char *digest) ;

#endif
