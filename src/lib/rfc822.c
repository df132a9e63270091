/* RFC 5322 header fields: recognising fields, extracting and qualifying
   the addresses of an address list; pure functions, no privilege. */

#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include "rfc822.h"

/* One lexical token of an address list (RFC 5322 3.2). type is 'a' for
   an atom, 'q' for a quoted string (value unquoted), 'l' for a domain
   literal (value with its brackets), or one of the specials <>@,;:. */
typedef struct token_s token ;
struct token_s
{
  char type ;
  size_t srcend ;  /* offset just past the token in the header value */
  size_t val ;     /* offset of the value in the token strings */
  size_t vallen ;
} ;

typedef struct lexer_s lexer ;
struct lexer_s
{
  genalloc tokens ;  /* token */
  stralloc vals ;
} ;
#define LEXER_ZERO { .tokens = GENALLOC_ZERO, .vals = STRALLOC_ZERO }

/* RFC 5322 3.2.3 atext, plus 8-bit bytes (RFC 6532 UTF-8, or raw bytes
   in broken display names) */
size_t rfc822_skip_comment (char const *s, size_t len, size_t i)
{
  unsigned int depth = 0 ;
  for (; i < len ; i++)
  {
    if (s[i] == '\\') { i++ ; continue ; }
    if (s[i] == '(') depth++ ;
    else if (s[i] == ')' && !--depth) return i + 1 ;
  }
  return 0 ;
}

static int isatom (unsigned char c)
{
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 128) return 1 ;
  return c && !!strchr("!#$%&'*+-/=?^_`{|}~", c) ;
}

static int iswsp (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' ;
}

static int addtoken (lexer *lx, char type, size_t srcend, size_t val)
{
  token t = { .type = type, .srcend = srcend, .val = val, .vallen = lx->vals.len - val } ;
  return genalloc_append(token, &lx->tokens, &t) ;
}

/* Split s into tokens, dropping whitespace, folding and comments.
   1 ok, 0 syntax error, -1 out of memory. */
static int lex (lexer *lx, char const *s, size_t len)
{
  size_t i = 0 ;
  genalloc_setlen(token, &lx->tokens, 0) ;
  lx->vals.len = 0 ;
  while (i < len)
  {
    unsigned char c = s[i] ;
    size_t val = lx->vals.len ;
    if (iswsp(c)) { i++ ; continue ; }
    if (c == '(')  /* RFC 5322 3.2.2 comment, nested, with quoted-pairs */
    {
      i = rfc822_skip_comment(s, len, i) ;
      if (!i) return 0 ;
      continue ;
    }
    if (c == '"')  /* RFC 5322 3.2.4 quoted-string; folding removed */
    {
      for (i++ ; i < len && s[i] != '"' ; i++)
      {
        if (s[i] == '\r' || s[i] == '\n') continue ;
        if (s[i] == '\\') { if (++i >= len) return 0 ; }
        /* a NUL would cut the NUL-terminated address in two */
        if (!s[i]) return 0 ;
        if (!stralloc_catb(&lx->vals, s + i, 1)) return -1 ;
      }
      if (i >= len) return 0 ;
      i++ ;
      if (!addtoken(lx, 'q', i, val)) return -1 ;
      continue ;
    }
    if (c == '[')  /* RFC 5322 3.4.1 domain-literal; whitespace removed */
    {
      for (; i < len && s[i] != ']' ; i++)
      {
        if (iswsp(s[i])) continue ;
        if (s[i] == '[' && lx->vals.len > val) return 0 ;
        if (s[i] == '\\') { if (++i >= len) return 0 ; }
        if (!s[i]) return 0 ;
        if (!stralloc_catb(&lx->vals, s + i, 1)) return -1 ;
      }
      if (i >= len) return 0 ;
      if (!stralloc_catb(&lx->vals, "]", 1)) return -1 ;
      i++ ;
      if (!addtoken(lx, 'l', i, val)) return -1 ;
      continue ;
    }
    if (strchr("<>@,;:.", c) && c)
    {
      i++ ;
      if (!addtoken(lx, c, i, val)) return -1 ;
      continue ;
    }
    if (!isatom(c)) return 0 ;
    {
      size_t start = i ;
      while (i < len && isatom(s[i])) i++ ;
      if (!stralloc_catb(&lx->vals, s + start, i - start)) return -1 ;
    }
    if (!addtoken(lx, 'a', i, val)) return -1 ;
  }
  return 1 ;
}

/* RFC 5321 4.1.2 Dot-string: can the local part go out unquoted? */
static int isdotatom (char const *s, size_t len)
{
  if (!len || s[0] == '.' || s[len-1] == '.') return 0 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    if (s[i] == '.') { if (s[i-1] == '.') return 0 ; }
    else if ((unsigned char)s[i] >= 128 || !isatom(s[i])) return 0 ;
  }
  return 1 ;
}

typedef struct parse_s parse ;
struct parse_s
{
  lexer lx ;
  char const *qualify ;
  stralloc *out ;       /* addresses, NUL-terminated; may be NULL */
  genalloc *bare ;      /* size_t: where a bare local part ends in the source; may be NULL */
  stralloc local ;
} ;

#define TOK(p, i) (genalloc_s(token, &(p)->lx.tokens)[i])
#define TOKVAL(p, i) ((p)->lx.vals.s + TOK(p, i).val)

static int isword (char type)
{
  return type == 'a' || type == 'q' ;
}

/* One addr-spec in tokens [a, b) (RFC 5322 3.4.1, with the obsolete
   local part of words joined by dots). 1 ok, 0 syntax, -1 nomem. */
static int addrspec (parse *p, size_t a, size_t b)
{
  size_t i = a ;
  int quoted = 0 ;
  p->local.len = 0 ;
  for (;;)
  {
    if (i >= b || !isword(TOK(p, i).type)) return 0 ;
    if (TOK(p, i).type == 'q') quoted = 1 ;
    /* an empty quoted string "" may have no value stored at all */
    if (TOK(p, i).vallen && !stralloc_catb(&p->local, TOKVAL(p, i), TOK(p, i).vallen)) return -1 ;
    i++ ;
    if (i >= b || TOK(p, i).type != '.') break ;
    if (!stralloc_catb(&p->local, ".", 1)) return -1 ;
    i++ ;
  }
  if (i < b && TOK(p, i).type != '@') return 0 ;
  if (p->out)
  {
    stralloc *sa = p->out ;
    size_t start = sa->len ;
    if (!quoted || isdotatom(p->local.s, p->local.len))
    {
      if (!stralloc_catb(sa, p->local.s, p->local.len)) return -1 ;
    }
    else
    {
      if (!stralloc_catb(sa, "\"", 1)) return -1 ;
      for (size_t j = 0 ; j < p->local.len ; j++)
      {
        char c = p->local.s[j] ;
        if ((c == '"' || c == '\\') && !stralloc_catb(sa, "\\", 1)) return -1 ;
        if (!stralloc_catb(sa, &c, 1)) return -1 ;
      }
      if (!stralloc_catb(sa, "\"", 1)) return -1 ;
    }
    if (i < b || (p->qualify && *p->qualify))
    {
      size_t dstart ;
      if (!stralloc_catb(sa, "@", 1)) return -1 ;
      dstart = sa->len ;
      if (i < b)
      {
        i++ ;
        if (i < b && TOK(p, i).type == 'l')
        {
          if (!stralloc_catb(sa, TOKVAL(p, i), TOK(p, i).vallen)) return -1 ;
          i++ ;
        }
        else for (;;)
        {
          if (i >= b || TOK(p, i).type != 'a') { sa->len = start ; return 0 ; }
          if (!stralloc_catb(sa, TOKVAL(p, i), TOK(p, i).vallen)) return -1 ;
          i++ ;
          if (i >= b || TOK(p, i).type != '.') break ;
          if (!stralloc_catb(sa, ".", 1)) return -1 ;
          i++ ;
        }
        if (i < b) { sa->len = start ; return 0 ; }
      }
      else if (!stralloc_cats(sa, p->qualify)) return -1 ;
      for (size_t j = dstart ; j < sa->len ; j++)
        if (sa->s[j] >= 'A' && sa->s[j] <= 'Z') sa->s[j] += 'a' - 'A' ;
    }
    if (!stralloc_0(sa)) return -1 ;
  }
  else if (i < b)
  {
    /* only checking the syntax */
    i++ ;
    if (i < b && TOK(p, i).type == 'l') i++ ;
    else for (;;)
    {
      if (i >= b || TOK(p, i).type != 'a') return 0 ;
      i++ ;
      if (i >= b || TOK(p, i).type != '.') break ;
      i++ ;
    }
    if (i < b) return 0 ;
  }
  if (p->bare)
  {
    /* is there an '@' at all? */
    size_t j = a ;
    while (j < b && TOK(p, j).type != '@') j++ ;
    if (j == b)
    {
      size_t end = TOK(p, b-1).srcend ;
      if (!genalloc_append(size_t, p->bare, &end)) return -1 ;
    }
  }
  return 1 ;
}

/* One mailbox in tokens [a, b): a name-addr or an addr-spec. Returns
   the number of addresses (0 or 1), -1 syntax error, -2 nomem. */
static int mailbox (parse *p, size_t a, size_t b)
{
  size_t lt = b, gt = b, i ;
  int r ;
  if (a == b) return 0 ;  /* RFC 5322 4.4 obs-addr-list: empty members */
  for (i = a ; i < b ; i++)
  {
    if (TOK(p, i).type == '<') { if (lt < b) return -1 ; lt = i ; }
    else if (TOK(p, i).type == '>') { if (lt == b || gt < b) return -1 ; gt = i ; }
  }
  if (lt < b)
  {
    /* the display name is not checked: broken ones are common */
    if (gt == b || gt + 1 != b) return -1 ;
    a = lt + 1 ; b = gt ;
    if (a == b) return 0 ;  /* "<>": no address */
    if (TOK(p, a).type == '@')  /* RFC 5322 4.4 obs-route, ignored */
    {
      while (a < b && TOK(p, a).type != ':') a++ ;
      if (a == b) return -1 ;
      a++ ;
    }
  }
  r = addrspec(p, a, b) ;
  return r < 0 ? -2 : r ? 1 : -1 ;
}

/* Walk the address list. Returns the number of addresses, -1 syntax
   error, -2 nomem. */
static int walk (parse *p, char const *s, size_t len)
{
  size_t i = 0, n ;
  int ingroup = 0, count = 0 ;
  int r = lex(&p->lx, s, len) ;
  if (r <= 0) return r < 0 ? -2 : -1 ;
  n = genalloc_len(token, &p->lx.tokens) ;
  while (i < n)
  {
    size_t start = i ;
    int inangle = 0 ;
    for (; i < n ; i++)
    {
      char t = TOK(p, i).type ;
      if (t == '<') inangle = 1 ;
      else if (t == '>') inangle = 0 ;
      else if (!inangle && (t == ',' || t == ';' || t == ':')) break ;
    }
    if (i < n && TOK(p, i).type == ':')
    {
      /* RFC 5322 3.4 group: the display name before ':' is dropped */
      if (ingroup || i == start) return -1 ;
      ingroup = 1 ;
      i++ ;
      continue ;
    }
    r = mailbox(p, start, i) ;
    if (r < 0) return r ;
    count += r ;
    if (i < n)
    {
      if (TOK(p, i).type == ';')
      {
        if (!ingroup) return -1 ;
        ingroup = 0 ;
      }
      i++ ;
    }
  }
  return count ;
}

static void parse_free (parse *p)
{
  genalloc_free(token, &p->lx.tokens) ;
  stralloc_free(&p->lx.vals) ;
  stralloc_free(&p->local) ;
}

int rfc822_addresses (char const *value, size_t len, char const *qualify, stralloc *sa)
{
  parse p = { .lx = LEXER_ZERO, .qualify = qualify, .out = sa, .bare = 0, .local = STRALLOC_ZERO } ;
  size_t base = sa->len ;
  int r = walk(&p, value, len) ;
  parse_free(&p) ;
  if (r < 0) { sa->len = base ; return -1 ; }
  return r ;
}

int rfc822_qualify (char const *value, size_t len, char const *qualify, stralloc *sa)
{
  genalloc bare = GENALLOC_ZERO ;
  parse p = { .lx = LEXER_ZERO, .qualify = 0, .out = 0, .bare = &bare, .local = STRALLOC_ZERO } ;
  size_t base = sa->len, from = 0, n ;
  int r = walk(&p, value, len) ;
  parse_free(&p) ;
  if (r < 0) { genalloc_free(size_t, &bare) ; return -1 ; }
  n = genalloc_len(size_t, &bare) ;
  for (size_t i = 0 ; i < n ; i++)
  {
    size_t at = genalloc_s(size_t, &bare)[i] ;
    if (!stralloc_catb(sa, value + from, at - from)
     || !stralloc_catb(sa, "@", 1)
     || !stralloc_cats(sa, qualify)) goto nomem ;
    from = at ;
  }
  if (!stralloc_catb(sa, value + from, len - from)) goto nomem ;
  genalloc_free(size_t, &bare) ;
  return (int)n ;
 nomem:
  genalloc_free(size_t, &bare) ;
  sa->len = base ;
  return -1 ;
}

size_t rfc822_fieldname (char const *s, size_t len)
{
  size_t i = 0, name ;
  /* RFC 5322 3.6.8 ftext: printable ASCII except ':' */
  while (i < len && (unsigned char)s[i] > 32 && (unsigned char)s[i] < 127 && s[i] != ':') i++ ;
  name = i ;
  if (!name) return 0 ;
  while (i < len && (s[i] == ' ' || s[i] == '\t')) i++ ;  /* RFC 5322 4.5.8 obs-optional */
  return i < len && s[i] == ':' ? name : 0 ;
}

int rfc822_is_field (char const *s, size_t len, char const *name)
{
  size_t n = rfc822_fieldname(s, len) ;
  return n && n == strlen(name) && !strncasecmp(s, name, n) ;
}

char const *const rfc822_originator_fields[] =
{
  "From", "Sender", "Reply-To", "Mail-Followup-To", "Mail-Reply-To",
  "Resent-From", "Resent-Sender", "Resent-Reply-To", 0
} ;

char const *const rfc822_recipient_fields[] = { "To", "Cc", "Resent-To", "Resent-Cc", 0 } ;
