/* Parsing POP3 server responses: no I/O, no state beyond the caller's. */

#include <string.h>
#include <strings.h>
#include "pop3reply.h"

int pop3_status_parse (char const *s, size_t len, char const **text)
{
  size_t n ;
  int r ;
  if (len >= 3 && !memcmp(s, "+OK", 3)) { r = 1 ; n = 3 ; }
  else if (len >= 4 && !memcmp(s, "-ERR", 4)) { r = 0 ; n = 4 ; }
  else return -1 ;
  if (n < len && s[n] != ' ') return -1 ;   /* "+OKAY" is not a status */
  if (n < len) n++ ;
  if (text) *text = s + n ;
  return r ;
}

/* s starts with word (case-insensitive) followed by the end or a space */
static int word (char const *s, size_t len, char const *w, size_t *next)
{
  size_t n = strlen(w) ;
  if (len < n || strncasecmp(s, w, n) || (len > n && s[n] != ' ')) return 0 ;
  if (next) *next = n ;
  return 1 ;
}

int pop3_sasl_parse (char const *s, size_t len, char const **text)
{
  if (len && s[0] == '+' && (len == 1 || s[1] == ' '))
  {
    *text = len > 2 ? s + 2 : "" ;
    return 2 ;
  }
  return pop3_status_parse(s, len, text) ;
}

unsigned int pop3_capa_line (char const *s, size_t len)
{
  size_t i = 0 ;
  if (word(s, len, "PIPELINING", 0)) return POP3_CAPA_PIPELINING ;
  if (word(s, len, "UIDL", 0)) return POP3_CAPA_UIDL ;
  if (word(s, len, "USER", 0)) return POP3_CAPA_USER ;
  if (word(s, len, "STLS", 0)) return POP3_CAPA_STLS ;
  if (word(s, len, "SASL", &i))
  {
    unsigned int r = 0 ;
    while (i < len)
    {
      size_t j ;
      while (i < len && s[i] == ' ') i++ ;
      for (j = i ; j < len && s[j] != ' ' ; j++) ;
      if (j - i == 5 && !strncasecmp(s + i, "PLAIN", 5)) r |= POP3_CAPA_SASLPLAIN ;
      else if (j - i == 7 && !strncasecmp(s + i, "XOAUTH2", 7)) r |= POP3_CAPA_SASLXOAUTH2 ;
      else if (j - i == 11 && !strncasecmp(s + i, "OAUTHBEARER", 11)) r |= POP3_CAPA_SASLOAUTHBEARER ;
      i = j ;
    }
    return r ;
  }
  return 0 ;
}

/* a message number: 1 and more, decimal, no overflow */
static size_t number (char const *s, size_t len, uint64_t *u)
{
  size_t i = 0 ;
  uint64_t x = 0 ;
  while (i < len && s[i] >= '0' && s[i] <= '9')
  {
    if (x > (UINT64_MAX - 9) / 10) return 0 ;
    x = x * 10 + (s[i++] - '0') ;
  }
  *u = x ;
  return i ;
}

int pop3_uidl_line (char const *s, size_t len, unsigned long *num, char const **uid, size_t *uidlen)
{
  uint64_t u ;
  size_t i = number(s, len, &u), j ;
  if (!i || !u || u > (unsigned long)-1 || i >= len || s[i] != ' ') return 0 ;
  i++ ;
  for (j = i ; j < len ; j++)
    if ((unsigned char)s[j] < 0x21 || (unsigned char)s[j] > 0x7e) break ;
  while (j < len && s[j] == ' ') j++ ;   /* trailing spaces are tolerated */
  if (j < len) return 0 ;
  while (j > i && s[j-1] == ' ') j-- ;
  if (j == i || j - i > POP3_UIDL_MAX) return 0 ;
  *num = u ; *uid = s + i ; *uidlen = j - i ;
  return 1 ;
}

int pop3_list_line (char const *s, size_t len, unsigned long *num, uint64_t *size)
{
  uint64_t u ;
  size_t i = number(s, len, &u), j ;
  if (!i || !u || u > (unsigned long)-1 || i >= len || s[i] != ' ') return 0 ;
  j = number(s + i + 1, len - i - 1, size) ;
  if (!j) return 0 ;
  for (j += i + 1 ; j < len ; j++) if (s[j] != ' ') return 0 ;
  *num = u ;
  return 1 ;
}

int pop3_apop_stamp (char const *s, size_t len, size_t *start, size_t *n)
{
  char const *a = memchr(s, '<', len) ;
  char const *b ;
  if (!a) return 0 ;
  b = memchr(a, '>', len - (a - s)) ;
  if (!b || b - a < 3 || memchr(a, '@', b - a) == 0) return 0 ;
  for (char const *p = a ; p <= b ; p++)
    if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) return 0 ;
  *start = a - s ; *n = b - a + 1 ;
  return 1 ;
}

/* body states: at the start of a line; after a leading dot; after ".\r";
   inside a line; after a CR inside a line */
enum { B_BOL, B_DOT, B_DOTCR, B_MID, B_CR } ;

size_t pop3_body_feed (pop3_body *b, char const *s, size_t n, stralloc *out)
{
  size_t i ;
  size_t start = out->len ;
  if (!stralloc_readyplus(out, 2 * n + 2)) return (size_t)-1 ;   /* ".\rX" makes 2 of 1 at most */
  for (i = 0 ; i < n && !b->done ; i++)
  {
    char c = s[i] ;
    if (!c) b->flags |= POP3_BODY_NUL ;
    switch (b->state)
    {
      case B_BOL :
        if (c == '.') { b->state = B_DOT ; continue ; }
        break ;
      case B_DOT :
        if (c == '\r') { b->state = B_DOTCR ; continue ; }
        if (c == '\n') { b->flags |= POP3_BODY_BARELF ; b->done = 1 ; continue ; }
        break ;   /* a stuffed dot: dropped */
      case B_DOTCR :
        if (c == '\n') { b->done = 1 ; continue ; }
        b->flags |= POP3_BODY_BARECR ;
        out->s[out->len++] = '\r' ;
        break ;
      case B_CR :
        if (c == '\n') { out->s[out->len++] = '\n' ; b->lines++ ; b->state = B_BOL ; continue ; }
        b->flags |= POP3_BODY_BARECR ;
        out->s[out->len++] = '\r' ;
        break ;
      default : break ;
    }
    /* a byte inside a line */
    if (c == '\r') { b->state = B_CR ; continue ; }
    if (c == '\n') { b->flags |= POP3_BODY_BARELF ; out->s[out->len++] = '\n' ; b->lines++ ; b->state = B_BOL ; continue ; }
    out->s[out->len++] = c ;
    b->state = B_MID ;
  }
  b->len += out->len - start ;
  return i ;
}
