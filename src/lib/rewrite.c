/* Rewriting the local addresses of the envelope sender and of the
   originator fields when mail leaves through a route; pure text work
   for mm-remote, no privilege. The address lists are scanned here with
   the source position of every addr-spec kept, so that only the
   address itself is replaced and everything around it stays as it was. */

#include <errno.h>
#include <string.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include "address.h"
#include "control.h"
#include "rewrite.h"
#include "rfc822.h"
#include "route.h"

/* the originator fields (rfc822.h), and RFC 5322 3.6.7 Return-Path */
static int rewritten (char const *s, size_t len)
{
  if (rfc822_is_field(s, len, "Return-Path")) return 1 ;
  for (unsigned int k = 0 ; rfc822_originator_fields[k] ; k++)
    if (rfc822_is_field(s, len, rfc822_originator_fields[k])) return 1 ;
  return 0 ;
}

void rewrite_free (rewrite *rw)
{
  stralloc_free(&rw->rules) ;
}

static int isblank_ (char c)
{
  return c == ' ' || c == '\t' ;
}

int rewrite_load (rewrite *rw, char const *file, unsigned int *line)
{
  stralloc raw = STRALLOC_ZERO ;
  size_t i = 0 ;
  int r = control_readlines(&raw, file) ;
  unsigned int n = 0 ;
  rw->rules.len = 0 ;
  if (r <= 0) { stralloc_free(&raw) ; return r ; }
  /* rules apply to local addresses only: without control/locals none
     could be told apart, and they would leave unrewritten */
  if (control_locals_load() < 0) { stralloc_free(&raw) ; return -1 ; }
  /* control_readlines dropped comments and blank lines: count what is left */
  while (i < raw.len)
  {
    char const *s = raw.s + i ;
    size_t len = strlen(s), a = 0, b ;
    char const *why ;
    n++ ;
    i += len + 1 ;
    while (a < len && !isblank_(s[a])) a++ ;
    b = a ;
    while (b < len && isblank_(s[b])) b++ ;
    if (!a || b == len || b == a) goto bad ;
    {
      char const *to = s + b ;
      size_t tolen = len - b ;
      for (size_t k = 0 ; k < tolen ; k++) if (isblank_(to[k])) goto bad ;
      if (tolen > 2 && to[0] == '*' && to[1] == '@')
      {
        if (memchr(to + 2, '@', tolen - 2) || memchr(to + 2, '*', tolen - 2)) goto bad ;
      }
      else if (!address_valid(to, tolen, &why)) goto bad ;
    }
    if (!stralloc_catb(&rw->rules, s, a) || !stralloc_0(&rw->rules)
     || !stralloc_catb(&rw->rules, s + b, len - b) || !stralloc_0(&rw->rules)) { stralloc_free(&raw) ; return -1 ; }
  }
  stralloc_free(&raw) ;
  return 1 ;
 bad:
  stralloc_free(&raw) ;
  rw->rules.len = 0 ;
  *line = n ;
  errno = EINVAL ;
  return -2 ;
}

int rewrite_address (rewrite const *rw, char const *addr, size_t len, stralloc *out)
{
  size_t at = address_at(addr, len), i = 0 ;
  stralloc tmp = STRALLOC_ZERO ;
  out->len = 0 ;
  if (at < len && rw->rules.len && control_islocal(addr + at + 1, len - at - 1) > 0)
  {
    /* the patterns are matched against NUL-terminated copies */
    if (!stralloc_catb(&tmp, addr, len) || !stralloc_0(&tmp)) return -1 ;
    while (i < rw->rules.len)
    {
      char const *pat = rw->rules.s + i ;
      char const *to = pat + strlen(pat) + 1 ;
      int match ;
      i = (to - rw->rules.s) + strlen(to) + 1 ;
      if (strchr(pat, '@')) match = route_glob(pat, tmp.s) ;
      else
      {
        tmp.s[at] = 0 ;
        match = route_glob(pat, tmp.s) ;
        tmp.s[at] = '@' ;
      }
      if (!match) continue ;
      if (to[0] == '*' && to[1] == '@')
      {
        if (!stralloc_catb(out, addr, at) || !stralloc_cats(out, to + 1)) goto nomem ;
      }
      else if (!stralloc_cats(out, to)) goto nomem ;
      stralloc_free(&tmp) ;
      return stralloc_0(out) ? (out->len--, 1) : -1 ;
    }
  }
  stralloc_free(&tmp) ;
  if (!stralloc_catb(out, addr, len) || !stralloc_0(out)) return -1 ;
  out->len-- ;
  return 0 ;
 nomem:
  stralloc_free(&tmp) ;
  return -1 ;
}

/* A token of an address list, with where it is in the source. */
typedef struct atok_s atok ;
struct atok_s
{
  char type ;      /* 'a' atom, 'q' quoted string, 'l' domain literal, or one of <>@,;:. */
  size_t start ;
  size_t end ;
} ;

static int isatext (unsigned char c)
{
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 128) return 1 ;
  return c && !!strchr("!#$%&'*+-/=?^_`{|}~", c) ;
}

/* RFC 5322 3.2: split into tokens, skipping whitespace, folding and
   comments. 1 ok, 0 syntax error, -1 ENOMEM. */
static int lex (genalloc *toks, char const *s, size_t len)
{
  size_t i = 0 ;
  genalloc_setlen(atok, toks, 0) ;
  while (i < len)
  {
    unsigned char c = s[i] ;
    atok t = { .type = 0, .start = i, .end = 0 } ;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') { i++ ; continue ; }
    if (c == '(')  /* RFC 5322 3.2.2 comment, nested, with quoted-pairs */
    {
      i = rfc822_skip_comment(s, len, i) ;
      if (!i) return 0 ;
      continue ;
    }
    if (c == '"' || c == '[')
    {
      char close = c == '"' ? '"' : ']' ;
      for (i++ ; i < len && s[i] != close ; i++) if (s[i] == '\\') i++ ;
      if (i >= len) return 0 ;
      i++ ;
      t.type = c == '"' ? 'q' : 'l' ;
    }
    else if (c && strchr("<>@,;:.", c)) { i++ ; t.type = c ; }
    else if (isatext(c))
    {
      while (i < len && isatext(s[i])) i++ ;
      t.type = 'a' ;
    }
    else return 0 ;
    t.end = i ;
    if (!genalloc_append(atok, toks, &t)) return -1 ;
  }
  return 1 ;
}

/* The tokens [a, b) are an addr-spec with a domain: local-part "@"
   domain. Appends local@domain (the local part as written, the domain
   without whitespace) to addr. 1 yes, 0 no, -1 ENOMEM. */
static int addrspec (atok const *t, size_t a, size_t b, char const *src, stralloc *addr)
{
  size_t at = b ;
  addr->len = 0 ;
  for (size_t i = a ; i < b ; i++) if (t[i].type == '@') at = i ;
  if (at == b || at == a || at + 1 == b) return 0 ;
  for (size_t i = a ; i < b ; i++)
  {
    if (i == at) { if (!stralloc_catb(addr, "@", 1)) return -1 ; continue ; }
    if (i < at ? !strchr("aq.", t[i].type) : !strchr("al.", t[i].type)) return 0 ;
    if (!stralloc_catb(addr, src + t[i].start, t[i].end - t[i].start)) return -1 ;
  }
  return 1 ;
}

/* Rewrite every addr-spec of an address-list value into out. Returns
   the number rewritten, -1 ENOMEM, -2 a syntax error (out unchanged). */
static int rewrite_list (rewrite const *rw, char const *s, size_t len, stralloc *out)
{
  genalloc toks = GENALLOC_ZERO ;
  stralloc addr = STRALLOC_ZERO, repl = STRALLOC_ZERO ;
  size_t base = out->len, from = 0, i = 0, n ;
  int count = 0, e = lex(&toks, s, len) ;
  atok const *t ;
  if (e <= 0) { e = e < 0 ? -1 : -2 ; goto end ; }
  t = genalloc_s(atok, &toks) ;
  n = genalloc_len(atok, &toks) ;
  while (i < n)
  {
    size_t start = i, a, b, segend ;
    int inangle = 0, r ;
    for (; i < n ; i++)
    {
      char c = t[i].type ;
      if (c == '<') inangle = 1 ;
      else if (c == '>') inangle = 0 ;
      else if (!inangle && (c == ',' || c == ';' || c == ':')) break ;
    }
    if (i < n && t[i].type == ':') { i++ ; continue ; }  /* a group's display name */
    a = start ; b = segend = i ;
    if (i < n) i++ ;
    for (size_t k = start ; k < segend ; k++)
      if (t[k].type == '<')
      {
        a = k + 1 ;
        for (b = a ; b < segend && t[b].type != '>' ; b++) ;
        if (b == segend) { e = -2 ; goto end ; }  /* no closing '>' */
        if (a < b && t[a].type == '@')  /* RFC 5322 4.4 obs-route */
        {
          while (a < b && t[a].type != ':') a++ ;
          if (a < b) a++ ;
        }
        break ;
      }
    if (a >= b) continue ;
    r = addrspec(t, a, b, s, &addr) ;
    if (r < 0) { e = -1 ; goto end ; }
    if (!r) continue ;
    r = rewrite_address(rw, addr.s, addr.len, &repl) ;
    if (r < 0) { e = -1 ; goto end ; }
    if (!r) continue ;
    if (!stralloc_catb(out, s + from, t[a].start - from) || !stralloc_catb(out, repl.s, repl.len)) { e = -1 ; goto end ; }
    from = t[b-1].end ;
    count++ ;
  }
  if (!stralloc_catb(out, s + from, len - from)) { e = -1 ; goto end ; }
  e = count ;
 end:
  if (e < 0) out->len = base ;
  genalloc_free(atok, &toks) ;
  stralloc_free(&addr) ;
  stralloc_free(&repl) ;
  return e ;
}

size_t header_length (char const *s, size_t len)
{
  size_t i = 0 ;
  while (i < len)
  {
    char const *lf ;
    if (s[i] == '\n') return i + 1 ;
    lf = memchr(s + i, '\n', len - i) ;
    if (!lf) return len ;
    i = lf - s + 1 ;
  }
  return len ;
}

int rewrite_header (rewrite const *rw, char const *hdr, size_t len, stralloc *out)
{
  size_t i = 0 ;
  int count = 0 ;
  if (!rw->rules.len) return stralloc_catb(out, hdr, len) ? 0 : -1 ;
  while (i < len)
  {
    size_t end = i, name ;
    int want = 0 ;
    /* one field: its line and the continuation lines after it */
    for (;;)
    {
      char const *lf = memchr(hdr + end, '\n', len - end) ;
      end = lf ? (size_t)(lf - hdr) + 1 : len ;
      if (end >= len || (hdr[end] != ' ' && hdr[end] != '\t')) break ;
    }
    name = rfc822_fieldname(hdr + i, end - i) ;
    if (name)
      want = rewritten(hdr + i, end - i) ;
    if (want)
    {
      char const *colon = memchr(hdr + i, ':', end - i) ;
      size_t vstart = colon - hdr + 1 ;
      int r ;
      if (!stralloc_catb(out, hdr + i, vstart - i)) return -1 ;
      r = rewrite_list(rw, hdr + vstart, end - vstart, out) ;
      if (r == -1) return -1 ;
      if (r == -2) { if (!stralloc_catb(out, hdr + vstart, end - vstart)) return -1 ; }
      else count += r ;
    }
    else if (!stralloc_catb(out, hdr + i, end - i)) return -1 ;
    i = end ;
  }
  return count ;
}
