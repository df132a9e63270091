/* SASL responses for mm's clients: pure text, no privilege. The secret
   is only ever in the caller's buffers and the encoded result. */

#include <errno.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "base64.h"
#include "sasl.h"

#define STATUS_MAX 64

/* Encode raw into b64 (replacing it), then wipe raw. */
static int finish (stralloc *b64, stralloc *raw, int ok)
{
  b64->len = 0 ;
  ok = ok && base64_cat(b64, raw->s, raw->len) ;
  if (raw->s) memset(raw->s, 0, raw->a) ;
  stralloc_free(raw) ;
  return ok ;
}

int sasl_plain (stralloc *b64, char const *user, char const *secret)
{
  stralloc raw = STRALLOC_ZERO ;
  return finish(b64, &raw, stralloc_catb(&raw, "\0", 1) && stralloc_cats(&raw, user)
    && stralloc_catb(&raw, "\0", 1) && stralloc_cats(&raw, secret)) ;
}

int sasl_xoauth2 (stralloc *b64, char const *user, char const *token)
{
  stralloc raw = STRALLOC_ZERO ;
  return finish(b64, &raw, stralloc_cats(&raw, "user=") && stralloc_cats(&raw, user)
    && stralloc_cats(&raw, "\001auth=Bearer ") && stralloc_cats(&raw, token) && stralloc_catb(&raw, "\001\001", 2)) ;
}

int sasl_oauthbearer (stralloc *b64, char const *user, char const *host, uint16_t port, char const *token)
{
  stralloc raw = STRALLOC_ZERO ;
  char fmt[UINT16_FMT] ;
  int ok = stralloc_cats(&raw, "n,a=") ;
  /* RFC 5801 5.1: ',' and '=' in the authzid are escaped */
  for (char const *s = user ; ok && *s ; s++)
    ok = *s == ',' ? stralloc_cats(&raw, "=2C") : *s == '=' ? stralloc_cats(&raw, "=3D") : stralloc_catb(&raw, s, 1) ;
  fmt[uint16_fmt(fmt, port)] = 0 ;
  return finish(b64, &raw, ok && stralloc_cats(&raw, ",\001host=") && stralloc_cats(&raw, host)
    && stralloc_cats(&raw, "\001port=") && stralloc_cats(&raw, fmt)
    && stralloc_cats(&raw, "\001auth=Bearer ") && stralloc_cats(&raw, token) && stralloc_catb(&raw, "\001\001", 2)) ;
}

int sasl_oauth_status (char const *challenge, stralloc *status)
{
  stralloc json = STRALLOC_ZERO ;
  char const *p, *end ;
  int r = 0 ;
  while (*challenge == ' ') challenge++ ;
  if (!base64_decode_cat(&json, challenge, strlen(challenge)))
    return errno == ENOMEM ? -1 : 0 ;
  /* "status" : "VALUE" (a string), or a bare number */
  p = json.len ? memmem(json.s, json.len, "\"status\"", 8) : 0 ;
  if (!p) goto end ;
  end = json.s + json.len ;
  p += 8 ;
  while (p < end && (*p == ' ' || *p == '\t' || *p == ':')) p++ ;
  if (p < end && *p == '"') p++ ;
  status->len = 0 ;
  while (p < end && *p != '"' && *p != ',' && *p != '}' && status->len < STATUS_MAX)
  {
    char c = (unsigned char)*p < 32 || (unsigned char)*p >= 127 ? '?' : *p ;
    if (!stralloc_catb(status, &c, 1)) { r = -1 ; goto end ; }
    p++ ;
  }
  if (!status->len) goto end ;
  r = stralloc_0(status) ? 1 : -1 ;
  if (r > 0) status->len-- ;
 end:
  stralloc_free(&json) ;
  return r ;
}
