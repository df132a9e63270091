/* Routes: reading control/routes/NAME/ and matching recipients, senders
   and From: addresses against a route's filters; no privilege needed
   beyond reading control/ (the secrets are read by mm-remote only). */

#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/direntry.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include <skalibs/types.h>
#include "control.h"
#include "home.h"
#include "route.h"

#define PORT_SMTP 25  /* RFC 5321 4.5.4.2 */

static stralloc whybuf = STRALLOC_ZERO ;

static int setwhy (char const **why, char const *name, char const *text)
{
  whybuf.len = 0 ;
  if (!stralloc_cats(&whybuf, "route ") || !stralloc_cats(&whybuf, name)
   || !stralloc_cats(&whybuf, ": ") || !stralloc_cats(&whybuf, text) || !stralloc_0(&whybuf))
    *why = text ;
  else *why = whybuf.s ;
  return 0 ;
}

int route_name_valid (char const *name)
{
  size_t len = strlen(name) ;
  if (!len || len > ROUTE_NAME_MAX || name[0] == '.' || name[0] == '-') return 0 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    char c = name[i] ;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._-+", c))) return 0 ;
  }
  return 1 ;
}

/* Every file a route directory may hold (mm-routes(5)): mm-check
   reports the others, which are mostly typos (smarthots). */
static char const *const route_files[] =
{
  "smarthost", "port", "helo", "timeout-connect", "timeout-reply", "timeout-data",
  "authmech", "authuser", "authsecret", "authcommand", "timeout-authcommand",
  "tls", "tlsca", "tlspin", "tlscert", "tlskey", "tlsmin",
  "domains", "allowrcpt", "denyrcpt", "allowsender", "denysender", "allowfrom", "denyfrom",
  "last", "permanent", "onlinequery", "rewrite", "pop3", "smtpafterpop", 0
} ;

int route_file_known (char const *name)
{
  for (size_t i = 0 ; route_files[i] ; i++) if (!strcmp(route_files[i], name)) return 1 ;
  return 0 ;
}

int route_file (stralloc *sa, route const *r, char const *file)
{
  sa->len = 0 ;
  return stralloc_cats(sa, "control/routes/") && stralloc_cats(sa, r->name.s)
    && stralloc_catb(sa, "/", 1) && stralloc_cats(sa, file) && stralloc_0(sa) ;
}

/* 1 if the file exists under the route, 0 if not, -1 error */
static int route_has (route const *r, char const *file)
{
  stralloc rel = STRALLOC_ZERO, path = STRALLOC_ZERO ;
  struct stat st ;
  int e = 0 ;
  if (!route_file(&rel, r, file) || !mm_path(&path, rel.s)) { e = -1 ; goto end ; }
  if (stat(path.s, &st) == 0) e = 1 ;
  else if (errno != ENOENT) e = -1 ;
 end:
  stralloc_free(&rel) ;
  stralloc_free(&path) ;
  return e ;
}

static int route_lines (route const *r, char const *file, stralloc *sa)
{
  stralloc rel = STRALLOC_ZERO ;
  int e ;
  if (!route_file(&rel, r, file)) return -1 ;
  e = control_readlines(sa, rel.s) ;
  stralloc_free(&rel) ;
  return e ;
}

/* smarthost: "host", "host:port", "[literal]", "[literal]:port", or an
   IPv6 address without brackets (more than one colon, no port) */
static int smarthost_parse (route *r, char const *s, char const **why)
{
  char const *colon = 0 ;
  size_t hostlen ;
  char const *host = s ;
  r->port = PORT_SMTP ;
  if (s[0] == '[')
  {
    char const *end = strchr(s, ']') ;
    if (!end) return setwhy(why, r->name.s, "smarthost: missing ]") ;
    host = s + 1 ; hostlen = end - host ;
    if (end[1] == ':') colon = end + 1 ;
    else if (end[1]) return setwhy(why, r->name.s, "smarthost: junk after ]") ;
  }
  else
  {
    colon = strchr(s, ':') ;
    if (colon && strchr(colon + 1, ':')) colon = 0 ;  /* a bare IPv6 address */
    hostlen = colon ? (size_t)(colon - s) : strlen(s) ;
  }
  if (colon)
  {
    unsigned int port ;
    size_t n = uint_scan(colon + 1, &port) ;
    if (!n || colon[1 + n] || !port || port > 65535) return setwhy(why, r->name.s, "smarthost: bad port") ;
    r->port = port ;
    r->portgiven = 1 ;
  }
  if (!hostlen) return setwhy(why, r->name.s, "smarthost: empty host") ;
  for (size_t i = 0 ; i < hostlen ; i++)
    if (host[i] == ' ' || host[i] == '\t' || host[i] == '/') return setwhy(why, r->name.s, "smarthost: bad host name") ;
  r->smarthost.len = 0 ;
  return stralloc_catb(&r->smarthost, host, hostlen) && stralloc_0(&r->smarthost) ? 1 : -1 ;
}

static void route_zero (route *r)
{
  memset(r, 0, sizeof *r) ;
  r->port = PORT_SMTP ;
}

static void route_free1 (route *r)
{
  stralloc_free(&r->name) ;
  stralloc_free(&r->smarthost) ;
  stralloc_free(&r->helo) ;
  stralloc_free(&r->domains) ;
  stralloc_free(&r->allowrcpt) ;
  stralloc_free(&r->denyrcpt) ;
  stralloc_free(&r->allowsender) ;
  stralloc_free(&r->denysender) ;
  stralloc_free(&r->allowfrom) ;
  stralloc_free(&r->denyfrom) ;
  stralloc_free(&r->why) ;
}

/* the route cannot be used: kept, marked, with the reason setwhy made */
static int mark_broken (route *r, char const *why)
{
  r->broken = 1 ;
  r->why.len = 0 ;
  return stralloc_cats(&r->why, why) && stralloc_0(&r->why) ;
}

/* 1 ok, 0 malformed, -1 error */
static int route_load1 (route *r, char const *name, char const **why)
{
  stralloc sa = STRALLOC_ZERO ;
  int e ;
  route_zero(r) ;
  if (!stralloc_cats(&r->name, name) || !stralloc_0(&r->name)) return -1 ;
  if (!stralloc_0(&r->smarthost)) goto err ;
  r->smarthost.len = 0 ;
  if (!route_file(&sa, r, "smarthost")) goto err ;
  {
    stralloc line = STRALLOC_ZERO ;
    e = control_readline(&line, sa.s, 0) ;
    if (e < 0) { stralloc_free(&line) ; goto err ; }
    if (e > 0 && line.len)
    {
      e = smarthost_parse(r, line.s, why) ;
      stralloc_free(&line) ;
      if (e < 0 || (!e && !mark_broken(r, *why))) goto err ;
    }
    else stralloc_free(&line) ;
  }
  if (!route_file(&sa, r, "helo")) goto err ;
  if (control_readline(&r->helo, sa.s, control_me()) < 0) goto err ;
  if (!r->helo.len && !r->broken && (setwhy(why, name, "empty helo"), !mark_broken(r, *why))) goto err ;
  if ((e = route_has(r, "permanent")) < 0) goto err ;
  r->permanent = e ;
  if ((e = route_has(r, "last")) < 0) goto err ;
  r->last = e ;
  if ((e = route_has(r, "smtpafterpop")) < 0) goto err ;
  r->smtpafterpop = e ;
  if (route_lines(r, "domains", &r->domains) < 0) goto err ;
  if (route_lines(r, "denyrcpt", &r->denyrcpt) < 0) goto err ;
  if (route_lines(r, "denysender", &r->denysender) < 0) goto err ;
  if (route_lines(r, "denyfrom", &r->denyfrom) < 0) goto err ;
  if ((e = route_lines(r, "allowrcpt", &r->allowrcpt)) < 0) goto err ;
  r->has_allowrcpt = e > 0 ;
  if ((e = route_lines(r, "allowsender", &r->allowsender)) < 0) goto err ;
  r->has_allowsender = e > 0 ;
  if ((e = route_lines(r, "allowfrom", &r->allowfrom)) < 0) goto err ;
  r->has_allowfrom = e > 0 ;
  stralloc_free(&sa) ;
  if (r->broken) *why = r->why.s ;
  return !r->broken ;
 err:
  stralloc_free(&sa) ;
  return -1 ;
}

route *routes_find (genalloc const *routes, char const *name)
{
  size_t n = genalloc_len(route, routes) ;
  route *r = genalloc_s(route, routes) ;
  for (size_t i = 0 ; i < n ; i++) if (!strcmp(r[i].name.s, name)) return r + i ;
  return 0 ;
}

static int cmpstr (void const *a, void const *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b) ;
}

static int addroute (genalloc *routes, char const *name, char const **why)
{
  route r ;
  int e ;
  if (routes_find(routes, name)) return 1 ;
  e = route_load1(&r, name, why) ;
  /* a broken route stays in the list, marked: it carries nothing */
  if (e < 0) { int sv = errno ; route_free1(&r) ; errno = sv ; return e ; }
  if (!genalloc_append(route, routes, &r)) { route_free1(&r) ; return -1 ; }
  return 1 ;
}

/* 1 if name is one of the NUL-terminated strings in list */
static int listed (stralloc const *list, char const *name)
{
  for (size_t i = 0 ; i < list->len ; i += strlen(list->s + i) + 1)
    if (!strcmp(list->s + i, name)) return 1 ;
  return 0 ;
}

int routes_names (stralloc *names, char const **why)
{
  stralloc order = STRALLOC_ZERO, found = STRALLOC_ZERO, dir = STRALLOC_ZERO ;
  genalloc sorted = GENALLOC_ZERO ;  /* char *, into found */
  DIR *d ;
  int e = 1 ;
  size_t i ;
  if (control_readlines(&order, "control/routes/order") < 0) return -1 ;
  if (!mm_path(&dir, "control/routes")) { e = -1 ; goto end ; }
  d = opendir(dir.s) ;
  if (!d)
  {
    if (errno != ENOENT) e = -1 ;
    goto end ;  /* no routes at all: nothing leaves */
  }
  for (;;)
  {
    direntry *de ;
    struct stat st ;
    size_t base = dir.len ;
    errno = 0 ;
    de = readdir(d) ;
    if (!de) { if (errno) e = -1 ; break ; }
    if (de->d_name[0] == '.') continue ;
    dir.len-- ;
    if (!stralloc_catb(&dir, "/", 1) || !stralloc_cats(&dir, de->d_name) || !stralloc_0(&dir)) { e = -1 ; break ; }
    if (stat(dir.s, &st) < 0 || !S_ISDIR(st.st_mode)) { dir.len = base ; continue ; }
    dir.len = base ;
    if (!route_name_valid(de->d_name))
    {
      e = setwhy(why, de->d_name, "bad route name (letters, digits and ._-+ only)") ;
      break ;
    }
    if (!stralloc_cats(&found, de->d_name) || !stralloc_0(&found)) { e = -1 ; break ; }
  }
  dir_close(d) ;
  if (e <= 0) goto end ;
  for (i = 0 ; i < found.len ; i += strlen(found.s + i) + 1)
  {
    char *p = found.s + i ;
    if (!genalloc_append(char *, &sorted, &p)) { e = -1 ; goto end ; }
  }
  /* found.s does not move any more */
  qsort(genalloc_s(char *, &sorted), genalloc_len(char *, &sorted), sizeof(char *), &cmpstr) ;
  /* the order file first (a name there with no directory is skipped),
     then the others alphabetically, each once */
  for (i = 0 ; i < order.len ; i += strlen(order.s + i) + 1)
    if (listed(&found, order.s + i) && !listed(names, order.s + i)
     && !(stralloc_cats(names, order.s + i) && stralloc_0(names))) { e = -1 ; goto end ; }
  for (i = 0 ; i < genalloc_len(char *, &sorted) ; i++)
  {
    char const *name = genalloc_s(char *, &sorted)[i] ;
    if (!listed(names, name) && !(stralloc_cats(names, name) && stralloc_0(names))) { e = -1 ; goto end ; }
  }
 end:
  {
    int sv = errno ;
    stralloc_free(&order) ;
    stralloc_free(&found) ;
    stralloc_free(&dir) ;
    genalloc_free(char *, &sorted) ;
    errno = sv ;
  }
  return e ;
}

int routes_load (genalloc *routes, char const **why)
{
  stralloc names = STRALLOC_ZERO ;
  int e = routes_names(&names, why) ;
  for (size_t i = 0 ; e > 0 && i < names.len ; i += strlen(names.s + i) + 1)
    e = addroute(routes, names.s + i, why) ;
  {
    int sv = errno ;
    stralloc_free(&names) ;
    errno = sv ;
  }
  return e ;
}

int route_load (route *r, char const *name, char const **why)
{
  int e = route_load1(r, name, why) ;
  /* the reason outlives the route it came from */
  if (!e) *why = stralloc_copy(&whybuf, &r->why) ? whybuf.s : "malformed route" ;
  if (e <= 0) { int sv = errno ; route_free1(r) ; errno = sv ; }
  return e ;
}

void route_free (route *r)
{
  route_free1(r) ;
}

void routes_free (genalloc *routes)
{
  size_t n = genalloc_len(route, routes) ;
  for (size_t i = 0 ; i < n ; i++) route_free1(genalloc_s(route, routes) + i) ;
  genalloc_free(route, routes) ;
}

int route_isonline (route const *r)
{
  stralloc path = STRALLOC_ZERO ;
  int up ;
  if (r->permanent) return 1 ;
  if (!stralloc_cats(&path, "queue/online/") || !stralloc_cats(&path, r->name.s) || !stralloc_0(&path)) return 0 ;
  {
    stralloc full = STRALLOC_ZERO ;
    up = mm_path(&full, path.s) && access(full.s, F_OK) == 0 ;
    stralloc_free(&full) ;
  }
  stralloc_free(&path) ;
  return up ;
}

static char lower (char c)
{
  return c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c ;
}

int route_glob (char const *p, char const *s)
{
  /* iterative matching with one backtrack point: linear enough for the
     short patterns of route files */
  char const *star = 0, *resume = 0 ;
  while (*s)
  {
    if (*p == '*') { star = p++ ; resume = s ; continue ; }
    if (*p && (*p == '?' || lower(*p) == lower(*s))) { p++ ; s++ ; continue ; }
    if (!star) return 0 ;
    p = star + 1 ;
    s = ++resume ;
  }
  while (*p == '*') p++ ;
  return !*p ;
}

/* 1 if any of the NUL-separated globs in list matches s */
static int anymatch (stralloc const *list, char const *s)
{
  for (size_t i = 0 ; i < list->len ; i += strlen(list->s + i) + 1)
    if (route_glob(list->s + i, s)) return 1 ;
  return 0 ;
}

int route_serves (route const *r, char const *rcpt)
{
  char const *at = strrchr(rcpt, '@') ;
  char const *domain = at ? at + 1 : "" ;
  if (r->domains.len && !anymatch(&r->domains, domain)) return 0 ;
  if (anymatch(&r->denyrcpt, rcpt)) return 0 ;
  if (r->has_allowrcpt && !anymatch(&r->allowrcpt, rcpt)) return 0 ;
  return 1 ;
}

int route_allows_sender (route const *r, char const *sender)
{
  char const *s = *sender ? sender : "<>" ;
  if (anymatch(&r->denysender, s)) return 0 ;
  if (r->has_allowsender && !anymatch(&r->allowsender, s)) return 0 ;
  return 1 ;
}

int route_allows_from (route const *r, char const *froms, size_t len)
{
  size_t i = 0 ;
  if (!len) froms = "" ;
  do
  {
    char const *a = froms + i ;
    /* deny wins over allow; every address must be allowed */
    if (anymatch(&r->denyfrom, a)) return 0 ;
    if (r->has_allowfrom && !anymatch(&r->allowfrom, a)) return 0 ;
    i += strlen(a) + 1 ;
  } while (i < len) ;
  return 1 ;
}
