/* Envelope addresses (RFC 5321 4.1.2): checking local@domain and parsing
   SMTP paths and command-line addresses; pure functions, no privilege. */

#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <skalibs/stralloc.h>
#include "address.h"

#define LABEL_MAX 63  /* RFC 1035 2.3.4 */
#define LITERAL_MAX 64  /* room for "IPv6:" and the longest IPv6 text form */

/* RFC 5322 3.2.3 atext */
static int isatext (unsigned char c)
{
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1 ;
  return c && !!strchr("!#$%&'*+-/=?^_`{|}~", c) ;
}

static int isletdig (unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ;
}

size_t address_at (char const *s, size_t len)
{
  size_t at = len ;
  int inquote = 0 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    if (inquote && s[i] == '\\' && i + 1 < len) { i++ ; continue ; }
    if (s[i] == '"') inquote = !inquote ;
    else if (!inquote && s[i] == '@') at = i ;
  }
  return at ;
}

/* RFC 5321 4.1.2 Dot-string */
static int dotstring_valid (char const *s, size_t len)
{
  if (!len || s[0] == '.' || s[len-1] == '.') return 0 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    if (s[i] == '.') { if (s[i-1] == '.') return 0 ; }
    else if (!isatext(s[i])) return 0 ;
  }
  return 1 ;
}

/* RFC 5321 4.1.2 Quoted-string: qtextSMTP or quoted-pairSMTP, ASCII only */
static int quoted_valid (char const *s, size_t len)
{
  if (len < 2 || s[0] != '"' || s[len-1] != '"') return 0 ;
  for (size_t i = 1 ; i + 1 < len ; i++)
  {
    unsigned char c = s[i] ;
    if (c == '\\')
    {
      if (i + 2 >= len) return 0 ;
      c = s[++i] ;
      if (c < 32 || c > 126) return 0 ;
    }
    else if (c == '"' || c < 32 || c > 126) return 0 ;
  }
  return 1 ;
}

/* RFC 5321 4.1.3: IPv4 dotted quad, or "IPv6:" and an IPv6 address */
static int literal_valid (char const *s, size_t len)
{
  char buf[LITERAL_MAX + 1] ;
  unsigned char bin[16] ;
  if (len < 2 || len - 2 > LITERAL_MAX || s[0] != '[' || s[len-1] != ']') return 0 ;
  /* inet_pton stops at a NUL: "[192.0.2.1\0junk]" must not pass */
  if (memchr(s + 1, 0, len - 2)) return 0 ;
  memcpy(buf, s + 1, len - 2) ;
  buf[len-2] = 0 ;
  if (!strncasecmp(buf, "IPv6:", 5)) return inet_pton(AF_INET6, buf + 5, bin) == 1 ;
  return inet_pton(AF_INET, buf, bin) == 1 ;
}

/* RFC 5321 4.1.2 Domain: sub-domains of letters, digits and inner hyphens */
static int domain_valid (char const *s, size_t len)
{
  size_t start = 0 ;
  if (!len) return 0 ;
  if (s[0] == '[') return literal_valid(s, len) ;
  for (size_t i = 0 ; i <= len ; i++)
  {
    if (i == len || s[i] == '.')
    {
      size_t l = i - start ;
      if (!l || l > LABEL_MAX) return 0 ;
      if (s[start] == '-' || s[i-1] == '-') return 0 ;
      start = i + 1 ;
    }
    else if (!isletdig(s[i]) && s[i] != '-') return 0 ;
  }
  return 1 ;
}

int address_valid (char const *s, size_t len, char const **why)
{
  size_t at = address_at(s, len) ;
  char const *reason = 0 ;
  if (!len) reason = "empty address" ;
  else if (len > ADDRESS_MAX) reason = "address too long" ;
  else if (at == len) reason = "no domain" ;
  else if (!at) reason = "empty local part" ;
  else if (at > LOCALPART_MAX) reason = "local part too long" ;
  else if (at + 1 == len) reason = "empty domain" ;
  else if (len - at - 1 > DOMAIN_MAX) reason = "domain too long" ;
  else if (s[0] == '"' ? !quoted_valid(s, at) : !dotstring_valid(s, at)) reason = "bad local part" ;
  else if (!domain_valid(s + at + 1, len - at - 1)) reason = "bad domain" ;
  if (reason) { if (why) *why = reason ; return 0 ; }
  return 1 ;
}

/* RFC 5321 4.1.2: a quoted local part that needs no quotes is the same
   mailbox as its dot-string ("alice" is alice): give the plain form, so
   that the queue, the alias lookup and the users see one name. s holds
   a valid quoted local part of at bytes; returns the new length of the
   local part, written in place. */
static size_t local_unquote (char *s, size_t at)
{
  char plain[LOCALPART_MAX] ;
  size_t n = 0 ;
  for (size_t i = 1 ; i + 1 < at ; i++)
  {
    if (s[i] == '\\') i++ ;
    plain[n++] = s[i] ;
  }
  if (!dotstring_valid(plain, n)) return at ;
  memcpy(s, plain, n) ;
  memmove(s + n, s + at, strlen(s + at) + 1) ;
  return n ;
}

static int isspace_ (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' ;
}

int address_parse (stralloc *sa, char const *s, size_t len, char const *qualify, char const **why)
{
  size_t base = 0, at ;
  sa->len = 0 ;
  while (len && isspace_(*s)) { s++ ; len-- ; }
  while (len && isspace_(s[len-1])) len-- ;
  if (len && s[0] == '<')
  {
    if (len < 2 || s[len-1] != '>') { if (why) *why = "unbalanced angle brackets" ; return 0 ; }
    s++ ; len -= 2 ;
    if (!len)
    {
      if (!stralloc_0(sa)) goto nomem ;
      sa->len-- ;
      return 1 ;
    }
    /* RFC 5321 4.1.2 A-d-l: a source route "@a,@b:" is ignored (C.) */
    if (s[0] == '@')
    {
      char const *colon = memchr(s, ':', len) ;
      if (!colon) { if (why) *why = "bad source route" ; return 0 ; }
      len -= colon + 1 - s ;
      s = colon + 1 ;
    }
  }
  if (!len) { if (why) *why = "empty address" ; return 0 ; }
  at = address_at(s, len) ;
  if (!stralloc_catb(sa, s, len)) goto nomem ;
  if (at == len && qualify && *qualify)
  {
    at = sa->len - base ;
    if (!stralloc_catb(sa, "@", 1) || !stralloc_cats(sa, qualify)) goto nomem ;
  }
  if (!address_valid(sa->s + base, sa->len - base, why)) { sa->len = base ; return 0 ; }
  if (sa->s[base] == '"')
  {
    size_t n ;
    if (!stralloc_0(sa)) goto nomem ;
    n = local_unquote(sa->s + base, at) ;
    sa->len -= at - n + 1 ;
    at = n ;
  }
  for (size_t i = base + at + 1 ; i < sa->len ; i++)
    if (sa->s[i] >= 'A' && sa->s[i] <= 'Z') sa->s[i] += 'a' - 'A' ;
  if (!stralloc_0(sa)) goto nomem ;
  sa->len-- ;
  return 1 ;
 nomem:
  sa->len = base ;
  if (why) *why = "out of memory" ;
  return 0 ;
}
