/* The alias file (mm-aliases(5)): parsing control/aliases and expanding
   a local part into delivery targets. Runs inside mm-send; reads only. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include "address.h"
#include "control.h"
#include "home.h"
#include "alias.h"

#define INCLUDE_PREFIX ":include:"
#define INCLUDE_PREFIX_LEN 9

typedef struct aliasentry_s aliasentry ;
struct aliasentry_s
{
  size_t name ;      /* offset in file, lowercased */
  size_t targets ;   /* offset in file: ntargets NUL-terminated strings */
  unsigned int ntargets ;
  unsigned int line ;
} ;

static int isws (char c)
{
  return c == ' ' || c == '\t' || c == '\r' ;
}

static void lowercase (char *s, size_t len)
{
  for (size_t i = 0 ; i < len ; i++)
    if (s[i] >= 'A' && s[i] <= 'Z') s[i] += 'a' - 'A' ;
}

/* RFC 5322 3.2.3 atext plus '.': what a bare local name may contain. */
static int localname_valid (char const *s, size_t len)
{
  if (!len || len > LOCALPART_MAX) return 0 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    unsigned char c = s[i] ;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue ;
    if (!c || !strchr(".!#$%&'*+-/=?^_`{|}~", c)) return 0 ;
  }
  return 1 ;
}

/* Check one target as written (quotes already removed); NULL if good,
   else the reason. */
static char const *target_check (char const *s, size_t len)
{
  if (!len) return "empty target" ;
  for (size_t i = 0 ; i < len ; i++)
    if ((unsigned char)s[i] < 32 && s[i] != '\t') return "control character in target" ;
  switch (s[0])
  {
    case '|' : return len > 1 ? 0 : "empty command" ;
    case '/' : return 0 ;
    case '\\' : return len > 1 && localname_valid(s + 1, len - 1) ? 0 : "bad user name after \\" ;
    default : break ;
  }
  if (len >= INCLUDE_PREFIX_LEN && !strncasecmp(s, INCLUDE_PREFIX, INCLUDE_PREFIX_LEN))
  {
    size_t i = INCLUDE_PREFIX_LEN ;
    while (i < len && isws(s[i])) i++ ;
    return i < len && s[i] == '/' ? 0 : ":include: needs an absolute path" ;
  }
  if (address_at(s, len) < len)
  {
    char const *why ;
    return address_valid(s, len, &why) ? 0 : why ;
  }
  return localname_valid(s, len) ? 0 : "bad local name" ;
}

int alias_split (stralloc *sa, char const *s, size_t len)
{
  size_t i = 0 ;
  int n = 0 ;
  int linestart = 1 ;
  while (i < len)
  {
    size_t start, end, j ;
    int inquote = 0 ;
    while (i < len && (isws(s[i]) || s[i] == ',' || s[i] == '\n'))
    {
      if (s[i] == '\n') linestart = 1 ;
      i++ ;
    }
    if (i >= len) break ;
    if (linestart && s[i] == '#')
    {
      while (i < len && s[i] != '\n') i++ ;
      continue ;
    }
    linestart = 0 ;
    start = i ;
    for (; i < len ; i++)
    {
      if (inquote && s[i] == '\\' && i + 1 < len && s[i+1] != '\n') { i++ ; continue ; }
      if (s[i] == '\n') break ;
      if (s[i] == '"') inquote = !inquote ;
      else if (!inquote && s[i] == ',') break ;
    }
    if (inquote) return -2 ;
    end = i ;
    while (end > start && isws(s[end-1])) end-- ;
    if (s[start] == '"' && end - start >= 2 && s[end-1] == '"')
    {
      /* is the closing quote of the opening one at the very end? */
      int q = 0 ;
      size_t close = start ;
      for (j = start + 1 ; j < end ; j++)
      {
        if (s[j] == '\\' && j + 1 < end) { j++ ; continue ; }
        if (s[j] == '"') { close = j ; q++ ; break ; }
      }
      if (q && close == end - 1)
      {
        for (j = start + 1 ; j < end - 1 ; j++)
        {
          if (s[j] == '\\' && j + 1 < end - 1) j++ ;
          if (!stralloc_catb(sa, s + j, 1)) return -1 ;
        }
        if (!stralloc_0(sa)) return -1 ;
        n++ ;
        continue ;
      }
    }
    if (s[start] == '<' && end - start >= 2 && s[end-1] == '>') { start++ ; end-- ; }
    if (!stralloc_catb(sa, s + start, end - start) || !stralloc_0(sa)) return -1 ;
    n++ ;
  }
  return n ;
}

static aliasdb const *sortdb ;

static int entry_cmp (void const *a, void const *b)
{
  aliasentry const *x = a, *y = b ;
  return strcmp(sortdb->file.s + x->name, sortdb->file.s + y->name) ;
}

static int entry_keycmp (void const *key, void const *b)
{
  return strcmp((char const *)key, sortdb->file.s + ((aliasentry const *)b)->name) ;
}

static aliasentry const *entry_find (aliasdb const *db, char const *name)
{
  sortdb = db ;
  if (!genalloc_len(aliasentry, &db->entries)) return 0 ;  /* no file: bsearch wants a base */
  return bsearch(name, genalloc_s(aliasentry, &db->entries), genalloc_len(aliasentry, &db->entries), sizeof(aliasentry), &entry_keycmp) ;
}

/* One logical entry "name: targets" (continuations joined with \n). */
static int entry_parse (aliasdb *db, size_t start, size_t end, unsigned int line, char const **why)
{
  char const *s ;
  size_t colon, nstart, nend ;
  aliasentry e = { .line = line } ;
  int n ;
  size_t checked ;
  for (colon = start ; colon < end && db->file.s[colon] != ':' ; colon++) ;
  if (colon >= end) { *why = "missing colon after the alias name" ; return 0 ; }
  for (nstart = start ; nstart < colon && isws(db->file.s[nstart]) ; nstart++) ;
  for (nend = colon ; nend > nstart && isws(db->file.s[nend-1]) ; nend--) ;
  if (nend == nstart) { *why = "empty alias name" ; return 0 ; }
  for (size_t i = nstart ; i < nend ; i++)
  {
    char c = db->file.s[i] ;
    if (isws(c) || c == '"' || c == ',' || c == '@' || c == '\\' || (unsigned char)c < 32)
    {
      *why = c == '@' ? "alias name must be a local part, without @" : "bad character in alias name" ;
      return 0 ;
    }
  }
  if (nend - nstart > LOCALPART_MAX) { *why = "alias name too long" ; return 0 ; }
  e.name = db->file.len ;
  if (!stralloc_catb(&db->file, db->file.s + nstart, nend - nstart) || !stralloc_0(&db->file)) return -1 ;
  lowercase(db->file.s + e.name, nend - nstart) ;
  e.targets = db->file.len ;
  /* targets_split may grow file: copy the source text out first */
  {
    stralloc text = STRALLOC_ZERO ;
    if (!stralloc_catb(&text, db->file.s + colon + 1, end - colon - 1)) return -1 ;
    n = alias_split(&db->file, text.s, text.len) ;
    stralloc_free(&text) ;
  }
  if (n == -1) return -1 ;
  if (n == -2) { *why = "unterminated quote" ; return 0 ; }
  if (!n) { *why = "alias without targets" ; return 0 ; }
  s = db->file.s + e.targets ;
  checked = 0 ;
  for (int i = 0 ; i < n ; i++)
  {
    size_t l = strlen(s + checked) ;
    char const *w = target_check(s + checked, l) ;
    if (w) { *why = w ; return 0 ; }
    checked += l + 1 ;
  }
  e.ntargets = n ;
  return genalloc_append(aliasentry, &db->entries, &e) ? 1 : -1 ;
}

static int aliasdb_parse (aliasdb *db, size_t rawlen, unsigned int *line, char const **why)
{
  size_t i = 0, cur = 0 ;
  unsigned int lineno = 0, curline = 0 ;
  int have = 0, r ;
  /* An entry is its first line and the continuation lines after it,
     contiguous in the raw text; comment lines inside are blanked in
     place so that they neither end nor join anything. */
  while (i < rawlen)
  {
    size_t end, k ;
    lineno++ ;
    for (end = i ; end < rawlen && db->file.s[end] != '\n' ; end++) ;
    for (k = i ; k < end && isws(db->file.s[k]) ; k++) ;
    if (k == end || db->file.s[k] == '#')
    {
      /* blank or comment: blank it so it does not end or join anything */
      memset(db->file.s + i, ' ', end - i) ;
    }
    else if (k > i)
    {
      if (!have) { *line = lineno ; *why = "continuation line without an alias before it" ; return 0 ; }
    }
    else
    {
      if (have)
      {
        r = entry_parse(db, cur, i - 1, curline, why) ;
        if (r <= 0) { *line = curline ; return r ; }
      }
      have = 1 ; cur = i ; curline = lineno ;
    }
    if (have && end - cur > ALIAS_LINE_MAX) { *line = curline ; *why = "alias entry too long" ; return 0 ; }
    i = end + 1 ;
  }
  if (have)
  {
    r = entry_parse(db, cur, rawlen, curline, why) ;
    if (r <= 0) { *line = curline ; return r ; }
  }
  sortdb = db ;
  {
    aliasentry *e = genalloc_s(aliasentry, &db->entries) ;
    size_t n = genalloc_len(aliasentry, &db->entries) ;
    if (n > 1) qsort(e, n, sizeof(aliasentry), &entry_cmp) ;  /* e is NULL when there is no entry */
    for (size_t j = 1 ; j < n ; j++)
      if (!strcmp(db->file.s + e[j-1].name, db->file.s + e[j].name))
      {
        *line = e[j-1].line > e[j].line ? e[j-1].line : e[j].line ;
        *why = "duplicate alias name" ;
        return 0 ;
      }
  }
  return 1 ;
}

/* Read path into sa (replacing it) and fstat what was read: the owner
   that counts is the one of the file read, not of a path that may
   change. A fifo or a device is not read (EINVAL). 1 ok, 0 error. */
static int file_slurp (stralloc *sa, char const *path, struct stat *st)
{
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) ;
  int r ;
  if (fd < 0) return 0 ;
  if (fstat(fd, st) < 0) { fd_close(fd) ; return 0 ; }
  if (!S_ISREG(st->st_mode)) { fd_close(fd) ; errno = EINVAL ; return 0 ; }
  sa->len = 0 ;
  r = slurp(sa, fd) ;
  fd_close(fd) ;
  return r ;
}

int aliasdb_load (aliasdb *db, char const *path, unsigned int *line, char const **why)
{
  struct stat st ;
  stralloc fn = STRALLOC_ZERO ;
  int r ;
  db->file.len = 0 ;
  genalloc_setlen(aliasentry, &db->entries, 0) ;
  *line = 0 ; *why = "" ;
  if (control_readline(&db->delimiters, "control/recipientdelimiter", "+") < 0) return -1 ;
  if (path[0] == '/') r = stralloc_cats(&fn, path) && stralloc_0(&fn) ;
  else r = mm_path(&fn, path) ;
  if (!r) return -1 ;
  db->admin = 0 ;
  r = file_slurp(&db->file, fn.s, &st) ;
  stralloc_free(&fn) ;
  if (!r)
  {
    if (errno != ENOENT) return -1 ;
    db->file.len = 0 ;
    return 1 ;
  }
  db->admin = st.st_uid ;
  if (memchr(db->file.s, 0, db->file.len)) { *line = 1 ; *why = "NUL byte in the alias file" ; return 0 ; }
  return aliasdb_parse(db, db->file.len, line, why) ;
}

void aliasdb_free (aliasdb *db)
{
  stralloc_free(&db->file) ;
  genalloc_free(aliasentry, &db->entries) ;
  stralloc_free(&db->delimiters) ;
}

unsigned int aliasdb_count (aliasdb const *db)
{
  return genalloc_len(aliasentry, &db->entries) ;
}


/* Expansion */

typedef struct expander_s expander ;
struct expander_s
{
  aliasdb const *db ;
  int (*user_exists)(char const *) ;
  genalloc *out ;
  stralloc *strings ;
  stralloc stack ;        /* names on the current expansion path, NUL-separated */
  unsigned int depth ;
  unsigned int untrusted ;   /* inside :include: files the administrator does not own */
  int added ;
  int goodseen ;   /* a good target came out, new or a duplicate */
} ;

/* Append a result unless the same one is already in out. */
static int result_add (expander *x, char type, char const *value, size_t len, char const *error)
{
  aliasresult *r = genalloc_s(aliasresult, x->out) ;
  size_t n = genalloc_len(aliasresult, x->out) ;
  aliasresult new ;
  if (!error) x->goodseen = 1 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    char const *t = x->strings->s + r[i].target ;
    if (t[0] != type || strncmp(t + 1, value, len) || t[len + 1]) continue ;
    if (!error && aliasresult_ok(r + i)) return 1 ;
    if (error && !aliasresult_ok(r + i) && !strcmp(x->strings->s + r[i].error, error)) return 1 ;
  }
  new.target = x->strings->len ;
  if (!stralloc_catb(x->strings, &type, 1) || !stralloc_catb(x->strings, value, len) || !stralloc_0(x->strings)) return -1 ;
  new.error = (size_t)-1 ;
  if (error)
  {
    new.error = x->strings->len ;
    if (!stralloc_cats(x->strings, error) || !stralloc_0(x->strings)) return -1 ;
  }
  if (!genalloc_append(aliasresult, x->out, &new)) return -1 ;
  x->added++ ;
  return 1 ;
}

/* An error result for name; parent (may be NULL) names the alias. */
static int error_add (expander *x, char const *name, char const *code, char const *what, char const *parent, char const *detail)
{
  stralloc e = STRALLOC_ZERO ;
  int r = stralloc_cats(&e, code) && stralloc_catb(&e, " ", 1)
    && (!parent || (stralloc_cats(&e, "alias ") && stralloc_cats(&e, parent) && stralloc_catb(&e, ": ", 2)))
    && stralloc_cats(&e, what) && (!detail || stralloc_cats(&e, detail)) && stralloc_0(&e) ;
  if (r) r = result_add(x, '!', name, strlen(name), e.s) ;
  else r = -1 ;
  stralloc_free(&e) ;
  return r ;
}

static int on_stack (expander const *x, char const *name)
{
  for (size_t i = 0 ; i < x->stack.len ; i += strlen(x->stack.s + i) + 1)
    if (!strcmp(x->stack.s + i, name)) return 1 ;
  return 0 ;
}

/* "a -> b -> c" for the current path plus last. */
static int path_string (expander const *x, stralloc *sa, char const *last)
{
  for (size_t i = 0 ; i < x->stack.len ; i += strlen(x->stack.s + i) + 1)
    if (!stralloc_cats(sa, x->stack.s + i) || !stralloc_catb(sa, " -> ", 4)) return 0 ;
  return stralloc_cats(sa, last) && stralloc_0(sa) ;
}

static int push (expander *x, char const *name)
{
  x->depth++ ;
  return stralloc_cats(&x->stack, name) && stralloc_0(&x->stack) ;
}

static void pop (expander *x)
{
  size_t i = x->stack.len - 1 ;
  while (i && x->stack.s[i-1]) i-- ;
  x->stack.len = i ;
  x->depth-- ;
}

/* The alias whose targets are being expanded, for error texts: the
   innermost name on the path that is not an :include: file. */
static char const *current (expander const *x)
{
  char const *found = 0 ;
  for (size_t i = 0 ; i < x->stack.len ; i += strlen(x->stack.s + i) + 1)
    if (x->stack.s[i] != ':') found = x->stack.s + i ;
  return found ;
}

static int postmaster_fallback (expander *x)
{
  stralloc p = STRALLOC_ZERO ;
  char const *home = mm_home() ;
  int r ;
  if (home[0] != '/') r = sagetcwd(&p) == 0 && stralloc_catb(&p, "/", 1) ;
  else r = 1 ;
  r = r && stralloc_cats(&p, home) && stralloc_cats(&p, "/mail/postmaster") ;
  /* the target's type letter is the path's own leading slash */
  if (r) r = result_add(x, '/', p.s + 1, p.len - 1, 0) ;
  else r = -1 ;
  stralloc_free(&p) ;
  return r ;
}

static int expand_target (expander *x, char const *t, size_t len) ;

static int too_deep (expander *x, char const *name)
{
  stralloc p = STRALLOC_ZERO ;
  int r = path_string(x, &p, name) ? error_add(x, name, "5.4.6", "alias nesting too deep: ", 0, p.s) : -1 ;
  stralloc_free(&p) ;
  return r ;
}

/* name: lowercased, NUL-terminated local part. */
static int expand_name (expander *x, char const *name)
{
  aliasentry const *e = entry_find(x->db, name) ;
  if (e)
  {
    char const *t ;
    if (on_stack(x, name))
    {
      stralloc p = STRALLOC_ZERO ;
      int r ;
      if (x->user_exists(name)) return result_add(x, 'u', name, strlen(name), 0) ;
      r = path_string(x, &p, name) ? error_add(x, name, "5.4.6", "alias loop: ", 0, p.s) : -1 ;
      stralloc_free(&p) ;
      return r ;
    }
    if (x->depth >= ALIAS_DEPTH_MAX) return too_deep(x, name) ;
    if (!push(x, name)) return -1 ;
    t = x->db->file.s + e->targets ;
    for (unsigned int i = 0 ; i < e->ntargets ; i++)
    {
      size_t l = strlen(t) ;
      if (expand_target(x, t, l) < 0) return -1 ;
      t += l + 1 ;
    }
    pop(x) ;
    return 1 ;
  }
  if (x->user_exists(name)) return result_add(x, 'u', name, strlen(name), 0) ;
  if (x->db->delimiters.len)
  {
    size_t i = strcspn(name, x->db->delimiters.s) ;
    if (i && name[i])
    {
      stralloc base = STRALLOC_ZERO ;
      int r = 0 ;
      if (!stralloc_catb(&base, name, i) || !stralloc_0(&base)) return -1 ;
      if (entry_find(x->db, base.s) || x->user_exists(base.s)) r = expand_name(x, base.s) ;
      stralloc_free(&base) ;
      if (r) return r ;
    }
  }
  if (!strcmp(name, "postmaster")) return postmaster_fallback(x) ;
  return error_add(x, name, "5.1.1", "no such user ", current(x), name) ;
}

/* Expand name[0..len) after lowercasing a copy of it. */
static int expand_namen (expander *x, char const *name, size_t len)
{
  stralloc n = STRALLOC_ZERO ;
  int r ;
  if (!stralloc_catb(&n, name, len) || !stralloc_0(&n)) return -1 ;
  lowercase(n.s, len) ;
  r = expand_name(x, n.s) ;
  stralloc_free(&n) ;
  return r ;
}

static int expand_include (expander *x, char const *path)
{
  stralloc text = STRALLOC_ZERO, list = STRALLOC_ZERO, key = STRALLOC_ZERO ;
  struct stat st ;
  size_t i ;
  int n, r = 1, trusted ;
  if (!stralloc_cats(&key, INCLUDE_PREFIX) || !stralloc_cats(&key, path) || !stralloc_0(&key)) return -1 ;
  if (on_stack(x, key.s))
  {
    stralloc p = STRALLOC_ZERO ;
    r = path_string(x, &p, key.s) ? error_add(x, key.s, "5.4.6", "alias loop: ", 0, p.s) : -1 ;
    stralloc_free(&p) ;
    goto end ;
  }
  if (x->depth >= ALIAS_DEPTH_MAX) { r = too_deep(x, key.s) ; goto end ; }
  if (!file_slurp(&text, path, &st))
  {
    if (errno == ENOENT) r = error_add(x, key.s, "5.3.5", "include file does not exist: ", current(x), path) ;
    else if (errno == EINVAL) r = error_add(x, key.s, "5.3.5", "include file is not a regular file: ", current(x), path) ;
    else r = -1 ;
    goto end ;
  }
  trusted = !st.st_uid || st.st_uid == x->db->admin ;
  /* mm-send reads what its user may read (the queue among it): a user's
     file is read for the user only when everyone may read it */
  if (!trusted && !(st.st_mode & S_IROTH))
  {
    r = error_add(x, key.s, "5.7.1", "include file is neither the administrator's nor readable by everyone: ", current(x), path) ;
    goto end ;
  }
  if (memchr(text.s, 0, text.len)) { r = error_add(x, key.s, "5.3.5", "NUL byte in include file ", current(x), path) ; goto end ; }
  n = alias_split(&list, text.s, text.len) ;
  if (n == -1) { r = -1 ; goto end ; }
  if (n == -2) { r = error_add(x, key.s, "5.3.5", "unterminated quote in include file ", current(x), path) ; goto end ; }
  if (!push(x, key.s)) { r = -1 ; goto end ; }
  if (!trusted) x->untrusted++ ;
  for (i = 0 ; i < list.len ; )
  {
    size_t l = strlen(list.s + i) ;
    char const *why = target_check(list.s + i, l) ;
    if (why)
    {
      stralloc e = STRALLOC_ZERO ;
      r = stralloc_cats(&e, why) && stralloc_cats(&e, " in ") && stralloc_cats(&e, path) && stralloc_catb(&e, ": ", 2) && stralloc_catb(&e, list.s + i, l) && stralloc_0(&e) ;
      r = r ? error_add(x, list.s + i, "5.1.3", e.s, current(x), 0) : -1 ;
      stralloc_free(&e) ;
    }
    else r = expand_target(x, list.s + i, l) ;
    if (r < 0) break ;
    i += l + 1 ;
  }
  if (!trusted) x->untrusted-- ;
  pop(x) ;
 end:
  stralloc_free(&text) ;
  stralloc_free(&list) ;
  stralloc_free(&key) ;
  return r ;
}

static int expand_target (expander *x, char const *t, size_t len)
{
  size_t at ;
  /* qmail would run them as the file's owner; mm runs pipes and files
     as the alias user only, so a user's list may hold addresses alone */
  if (x->untrusted && (t[0] == '|' || t[0] == '/'))
  {
    stralloc n = STRALLOC_ZERO ;
    int r = stralloc_catb(&n, t, len) && stralloc_0(&n) ;
    r = r ? error_add(x, n.s, "5.7.1", "no commands or files from an :include: file the administrator does not own: ", current(x), n.s) : -1 ;
    stralloc_free(&n) ;
    return r ;
  }
  switch (t[0])
  {
    case '|' : return result_add(x, '|', t + 1, len - 1, 0) ;
    case '/' : return result_add(x, '/', t + 1, len - 1, 0) ;
    case '\\' :
    {
      stralloc n = STRALLOC_ZERO ;
      int r ;
      if (!stralloc_catb(&n, t + 1, len - 1) || !stralloc_0(&n)) return -1 ;
      lowercase(n.s, n.len) ;
      r = x->user_exists(n.s) ? result_add(x, 'u', n.s, n.len - 1, 0)
        : error_add(x, n.s, "5.1.1", "no such user ", current(x), n.s) ;
      stralloc_free(&n) ;
      return r ;
    }
    default : break ;
  }
  if (len >= INCLUDE_PREFIX_LEN && !strncasecmp(t, INCLUDE_PREFIX, INCLUDE_PREFIX_LEN))
  {
    size_t i = INCLUDE_PREFIX_LEN ;
    while (i < len && isws(t[i])) i++ ;
    return expand_include(x, t + i) ;
  }
  at = address_at(t, len) ;
  if (at < len)
  {
    int local = control_islocal(t + at + 1, len - at - 1) ;
    if (local < 0) return -1 ;  /* control/locals unreadable: temporary */
    if (local) return expand_namen(x, t, at) ;
    {
      stralloc a = STRALLOC_ZERO ;
      int r ;
      if (!stralloc_catb(&a, t, len)) return -1 ;
      lowercase(a.s + at + 1, len - at - 1) ;
      r = result_add(x, 'r', a.s, a.len, 0) ;
      stralloc_free(&a) ;
      return r ;
    }
  }
  return expand_namen(x, t, len) ;
}

int alias_expand (aliasdb const *db, char const *localpart, int (*user_exists)(char const *), genalloc *out, stralloc *strings)
{
  expander x = { .db = db, .user_exists = user_exists, .out = out, .strings = strings, .stack = STRALLOC_ZERO, .depth = 0, .untrusted = 0, .added = 0, .goodseen = 0 } ;
  stralloc name = STRALLOC_ZERO ;
  int r ;
  size_t len = strlen(localpart) ;
  if (!stralloc_catb(&name, localpart, len) || !stralloc_0(&name)) return -1 ;
  lowercase(name.s, len) ;
  r = expand_name(&x, name.s) ;
  /* postmaster (RFC 5321 4.5.1) must reach someone even when its alias
     leads nowhere */
  if (r >= 0 && !x.goodseen && !strcmp(name.s, "postmaster")) r = postmaster_fallback(&x) ;
  stralloc_free(&name) ;
  stralloc_free(&x.stack) ;
  return r < 0 ? -1 : x.added ;
}
