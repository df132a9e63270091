/* Reading control/ files: one setting per file, defaults when absent. */

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <skalibs/stralloc.h>
#include <skalibs/djbunix.h>
#include <skalibs/types.h>
#include "home.h"
#include "control.h"

static int isspace_ (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' ;
}

static int slurp_control (stralloc *sa, char const *file)
{
  stralloc path = STRALLOC_ZERO ;
  int r ;
  sa->len = 0 ;
  if (!mm_path(&path, file)) return -1 ;
  r = openslurpclose(sa, path.s) ;
  stralloc_free(&path) ;
  if (!r) return errno == ENOENT ? 0 : -1 ;
  return 1 ;
}

int control_readline (stralloc *sa, char const *file, char const *def)
{
  size_t i, end ;
  int r = slurp_control(sa, file) ;
  if (r < 0) return -1 ;
  if (r)
  {
    for (end = 0 ; end < sa->len && sa->s[end] != '\n' ; end++) ;
    for (i = 0 ; i < end && isspace_(sa->s[i]) ; i++) ;
    while (end > i && isspace_(sa->s[end-1])) end-- ;
    memmove(sa->s, sa->s + i, end - i) ;
    sa->len = end - i ;
  }
  if (!r)
  {
    sa->len = 0 ;
    if (def && !stralloc_cats(sa, def)) return -1 ;
  }
  if (!stralloc_0(sa)) return -1 ;
  sa->len-- ;
  return r ;
}

int control_readlines (stralloc *sa, char const *file)
{
  stralloc raw = STRALLOC_ZERO ;
  size_t i = 0 ;
  int r = slurp_control(&raw, file) ;
  sa->len = 0 ;
  if (r <= 0) { stralloc_free(&raw) ; return r ; }
  while (i < raw.len)
  {
    size_t start, end ;
    for (end = i ; end < raw.len && raw.s[end] != '\n' ; end++) ;
    start = i ; i = end + 1 ;
    while (start < end && isspace_(raw.s[start])) start++ ;
    while (end > start && isspace_(raw.s[end-1])) end-- ;
    if (start == end || raw.s[start] == '#') continue ;
    if (!stralloc_catb(sa, raw.s + start, end - start) || !stralloc_0(sa))
    {
      stralloc_free(&raw) ;
      return -1 ;
    }
  }
  stralloc_free(&raw) ;
  return 1 ;
}

int control_readulong (unsigned long *u, char const *file, unsigned long def)
{
  stralloc sa = STRALLOC_ZERO ;
  int r = control_readline(&sa, file, 0) ;
  if (r <= 0) { *u = def ; stralloc_free(&sa) ; return r ; }
  if (!sa.len || ulong_scan(sa.s, u) != sa.len)
  {
    stralloc_free(&sa) ;
    errno = EINVAL ;
    return -1 ;
  }
  stralloc_free(&sa) ;
  return 1 ;
}

int duration_scan (char const *s, unsigned long *secs)
{
  unsigned long total = 0 ;
  if (!*s) return 0 ;
  while (*s)
  {
    unsigned long n, unit ;
    size_t len = ulong_scan(s, &n) ;
    if (!len) return 0 ;
    s += len ;
    switch (*s)
    {
      case 0 : unit = 1 ; break ;
      case 's' : unit = 1 ; s++ ; break ;
      case 'm' : unit = 60 ; s++ ; break ;
      case 'h' : unit = 3600 ; s++ ; break ;
      case 'd' : unit = 86400 ; s++ ; break ;
      case 'w' : unit = 604800 ; s++ ; break ;
      default : return 0 ;
    }
    total += n * unit ;
  }
  *secs = total ;
  return 1 ;
}

static stralloc me = STRALLOC_ZERO ;
static stralloc dd = STRALLOC_ZERO ;

/* control/me, read once; -1 when it exists but cannot be read */
static int load_me (void)
{
  int r ;
  if (me.s) return 0 ;
  r = control_readline(&me, "control/me", 0) ;
  if (r > 0 && me.len) return 0 ;
  {
    /* the host name, also when control/me is unreadable: the error is
       for control_names_load to report */
    int e = errno ;
    me.len = 0 ;
    if (sagethostname(&me) < 0 || !stralloc_0(&me)) stralloc_free(&me) ;
    errno = e ;
  }
  return r < 0 ? -1 : 0 ;
}

static int load_defaultdomain (void)
{
  if (dd.s) return 0 ;
  return control_readline(&dd, "control/defaultdomain", 0) < 0 ? -1 : 0 ;
}

/* An unchanged value keeps its buffer; a changed one gets a new buffer
   and the old one is left alone, so that a pointer taken earlier
   (mm-smtpd's and inject's me) never dangles. Changes are rare. */
static void keep_if_same (stralloc *cur, stralloc *old)
{
  if (old->s && cur->s && old->len == cur->len && !memcmp(old->s, cur->s, cur->len))
  {
    stralloc_free(cur) ;
    *cur = *old ;
  }
}

/* Each call reads both files again (mm-send's SIGHUP and queue runs);
   when one cannot be read, the values of the last call stay. */
int control_names_load (char const **failed)
{
  stralloc oldme = me, olddd = dd ;
  int e ;
  me = (stralloc)STRALLOC_ZERO ;
  dd = (stralloc)STRALLOC_ZERO ;
  if (load_me() < 0) { *failed = "control/me" ; goto fail ; }
  if (load_defaultdomain() < 0) { *failed = "control/defaultdomain" ; goto fail ; }
  keep_if_same(&me, &oldme) ;
  keep_if_same(&dd, &olddd) ;
  return 0 ;
 fail:
  e = errno ;
  if (oldme.s)
  {
    stralloc_free(&me) ; stralloc_free(&dd) ;
    me = oldme ; dd = olddd ;
  }
  else stralloc_free(&olddd) ;
  errno = e ;
  return -1 ;
}

char const *control_me (void)
{
  load_me() ;
  return me.s ? me.s : "localhost" ;
}

char const *control_defaultdomain (void)
{
  load_defaultdomain() ;
  return dd.s && dd.len ? dd.s : control_me() ;
}

/* control/locals, or localhost and control_me() when it is absent; a
   file that exists but cannot be read is never taken for an absent one
   (local mail would leave through a smarthost) and is not cached. */
static stralloc locals = STRALLOC_ZERO ;
static int locals_loaded = 0 ;

int control_locals_load (void)
{
  int r = control_readlines(&locals, "control/locals") ;
  locals_loaded = 0 ;
  if (r < 0) return -1 ;
  if (!r)
  {
    char const *me = control_me() ;
    locals.len = 0 ;
    if (!stralloc_catb(&locals, "localhost", 10) || !stralloc_catb(&locals, me, strlen(me) + 1)) return -1 ;
  }
  locals_loaded = 1 ;
  return 0 ;
}

int control_islocal (char const *domain, size_t len)
{
  size_t i = 0 ;
  if (!locals_loaded && control_locals_load() < 0) return -1 ;
  while (i < locals.len)
  {
    size_t l = strlen(locals.s + i) ;
    if (l == len && !strncasecmp(locals.s + i, domain, len)) return 1 ;
    i += l + 1 ;
  }
  return 0 ;
}
