/* MD5 (RFC 1321) and HMAC-MD5 (RFC 2104): only for CRAM-MD5, whose
   protocol fixes the hash; pure functions, no privilege. */

#include <string.h>
#include "md5.h"

/* RFC 1321 3.4: the per-round shift amounts and the sine table */
static unsigned char const shifts[64] =
{
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21
} ;

static uint32_t const sines[64] =
{
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391
} ;

static uint32_t rol (uint32_t x, unsigned int n)
{
  return (x << n) | (x >> (32 - n)) ;
}

static void block (md5 *c, unsigned char const *p)
{
  uint32_t m[16], a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3] ;
  for (unsigned int i = 0 ; i < 16 ; i++)
    m[i] = (uint32_t)p[4*i] | (uint32_t)p[4*i+1] << 8 | (uint32_t)p[4*i+2] << 16 | (uint32_t)p[4*i+3] << 24 ;
  for (unsigned int i = 0 ; i < 64 ; i++)
  {
    uint32_t f, t ;
    unsigned int g ;
    switch (i >> 4)
    {
      case 0 : f = (b & cc) | (~b & d) ; g = i ; break ;
      case 1 : f = (d & b) | (~d & cc) ; g = (5 * i + 1) & 15 ; break ;
      case 2 : f = b ^ cc ^ d ; g = (3 * i + 5) & 15 ; break ;
      default : f = cc ^ (b | ~d) ; g = (7 * i) & 15 ; break ;
    }
    t = d ; d = cc ; cc = b ;
    b = b + rol(a + f + sines[i] + m[g], shifts[i]) ;
    a = t ;
  }
  c->h[0] += a ; c->h[1] += b ; c->h[2] += cc ; c->h[3] += d ;
}

void md5_init (md5 *c)
{
  c->h[0] = 0x67452301 ; c->h[1] = 0xefcdab89 ; c->h[2] = 0x98badcfe ; c->h[3] = 0x10325476 ;
  c->len = 0 ;
}

void md5_update (md5 *c, char const *s, size_t n)
{
  unsigned char const *p = (unsigned char const *)s ;
  size_t have = c->len & 63 ;
  c->len += n ;
  if (have)
  {
    size_t k = 64 - have < n ? 64 - have : n ;
    memcpy(c->buf + have, p, k) ;
    p += k ; n -= k ;
    if (have + k < 64) return ;
    block(c, c->buf) ;
  }
  for (; n >= 64 ; p += 64, n -= 64) block(c, p) ;
  memcpy(c->buf, p, n) ;
}

void md5_final (md5 *c, unsigned char *digest)
{
  unsigned char pad[72] ;
  uint64_t bits = c->len << 3 ;
  size_t have = c->len & 63 ;
  size_t padlen = (have < 56 ? 56 : 120) - have ;
  memset(pad, 0, sizeof pad) ;
  pad[0] = 0x80 ;
  for (unsigned int i = 0 ; i < 8 ; i++) pad[padlen + i] = bits >> (8 * i) ;
  md5_update(c, (char const *)pad, padlen + 8) ;
  for (unsigned int i = 0 ; i < 4 ; i++)
  {
    digest[4*i] = c->h[i] ; digest[4*i+1] = c->h[i] >> 8 ;
    digest[4*i+2] = c->h[i] >> 16 ; digest[4*i+3] = c->h[i] >> 24 ;
  }
}

void hmac_md5 (char const *key, size_t keylen, char const *s, size_t n, unsigned char *digest)
{
  unsigned char k[64], pad[64], inner[MD5_DIGEST] ;
  md5 c ;
  memset(k, 0, sizeof k) ;
  if (keylen > 64)
  {
    md5_init(&c) ; md5_update(&c, key, keylen) ; md5_final(&c, k) ;
  }
  else memcpy(k, key, keylen) ;
  for (unsigned int i = 0 ; i < 64 ; i++) pad[i] = k[i] ^ 0x36 ;
  md5_init(&c) ; md5_update(&c, (char const *)pad, 64) ; md5_update(&c, s, n) ; md5_final(&c, inner) ;
  for (unsigned int i = 0 ; i < 64 ; i++) pad[i] = k[i] ^ 0x5c ;
  md5_init(&c) ; md5_update(&c, (char const *)pad, 64) ; md5_update(&c, (char const *)inner, MD5_DIGEST) ; md5_final(&c, digest) ;
}
