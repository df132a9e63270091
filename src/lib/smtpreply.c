/* SMTP replies as mm-remote reads them from a server: no privilege, the
   server's bytes are outside input. */

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "smtpreply.h"

static int isdigit_ (char c) { return c >= '0' && c <= '9' ; }

int smtpreply_line (smtpreply *r, char const *l, size_t len, int nul)
{
  unsigned int code ;
  if (len < 3 || l[0] < '2' || l[0] > '5' || !isdigit_(l[1]) || !isdigit_(l[2])
   || (len > 3 && l[3] != ' ' && l[3] != '-') || nul) return (errno = EPROTO, -1) ;
  code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0') ;
  if (!r->nlines)
  {
    r->code = code ;
    r->text.len = r->lines.len = 0 ;
    if (!stralloc_catb(&r->text, l, 3)) return -2 ;
  }
  else if (code != r->code) return (errno = EPROTO, -1) ;
  if (++r->nlines > SMTPREPLY_LINES_MAX) return (errno = EPROTO, -1) ;
  if (len > 4)
  {
    if (!stralloc_catb(&r->text, " ", 1) || !stralloc_catb(&r->text, l + 4, len - 4)) return -2 ;
    if (!stralloc_catb(&r->lines, l + 4, len - 4)) return -2 ;
  }
  if (!stralloc_0(&r->lines)) return -2 ;
  if (len > 3 && l[3] == '-') return 0 ;
  if (!stralloc_0(&r->text)) return -2 ;
  r->text.len-- ;
  /* a result text is one line: no control characters */
  for (size_t i = 0 ; i < r->text.len ; i++)
    if ((unsigned char)r->text.s[i] < 32 || r->text.s[i] == 127) r->text.s[i] = ' ' ;
  r->nlines = 0 ;
  return 1 ;
}

int smtpreply_ehlo (smtpreply const *r, smtpext *x, stralloc *auth)
{
  size_t i = 0 ;
  unsigned int n = 0 ;
  memset(x, 0, sizeof *x) ;
  if (!stralloc_copyb(auth, " ", 1)) return 0 ;
  for (; i < r->lines.len ; i += strlen(r->lines.s + i) + 1, n++)
  {
    char const *l = r->lines.s + i ;
    size_t kw = 0 ;
    if (!n) continue ;  /* the greeting line */
    while (l[kw] && l[kw] != ' ' && l[kw] != '=') kw++ ;
#define IS(s) (kw == sizeof(s) - 1 && !strncasecmp(l, s, kw))
    if (IS("PIPELINING")) x->pipelining = 1 ;       /* RFC 2920 */
    else if (IS("CHUNKING")) x->chunking = 1 ;      /* RFC 3030 */
    else if (IS("8BITMIME")) x->eightbitmime = 1 ;  /* RFC 6152 */
    else if (IS("SMTPUTF8")) x->smtputf8 = 1 ;      /* RFC 6531 */
    else if (IS("STARTTLS")) x->starttls = 1 ;      /* RFC 3207 */
    else if (IS("SIZE"))                            /* RFC 1870 */
    {
      uint64_t u = 0 ;
      x->hassize = 1 ;
      if (l[kw] == ' ' && uint64_scan(l + kw + 1, &u)) x->maxsize = u ;
    }
    else if (IS("AUTH") && l[kw])        /* RFC 4954; "AUTH=" is an old form; a bare AUTH offers nothing */
    {
      if (!stralloc_cats(auth, l + kw + 1) || !stralloc_catb(auth, " ", 1)) return 0 ;
    }
#undef IS
  }
  for (i = 0 ; i < auth->len ; i++)
    if (auth->s[i] >= 'a' && auth->s[i] <= 'z') auth->s[i] -= 'a' - 'A' ;
  if (!stralloc_0(auth)) return 0 ;
  auth->len-- ;
  return 1 ;
}
