/* mm-check: prints mm's effective configuration (control files with
   their values or defaults, every route with where it goes, its filters,
   AUTH user and TLS settings, never a secret) and reports what is wrong
   with it: unparsable values, unknown files in a route directory, bad
   modes, mail no route can carry. Runs as its caller, reads only;
   exits 78 when it found an error. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <skalibs/buffer.h>
#include <skalibs/genalloc.h>
#include <skalibs/sgetopt.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "address.h"
#include "alias.h"
#include "control.h"
#include "home.h"
#include "privs.h"
#include "queuefile.h"
#include "route.h"
#include "usage.h"

#define USAGE "mm-check [ -q ]"
#define dienomem() strerr_diefusys(EX_TEMPFAIL, "allocate memory")
#define PORT_MAX 65535  /* RFC 793 */

static unsigned int nerrors = 0, nwarnings = 0 ;
static int quiet = 0 ;  /* -q: problems only */

static void out (char const *s)
{
  if (buffer_puts(buffer_1, s) < 0) strerr_diefusys(EX_TEMPFAIL, "write to stdout") ;
}

/* one line of the listing: up to four pieces */
static void show (char const *a, char const *b, char const *c, char const *d)
{
  if (quiet) return ;
  out(a) ; out(b) ; out(c) ; out(d) ; out("\n") ;
}

static void problem (int error, char const *a, char const *b, char const *c, char const *d)
{
  if (error) nerrors++ ; else nwarnings++ ;
  out(error ? "error: " : "warning: ") ;
  out(a) ; out(b) ; out(c) ; out(d) ; out("\n") ;
}

/* NUL-separated lines as "a, b, c" into sa (NUL-terminated) */
static char const *joined (stralloc *sa, stralloc const *lines, char const *sep)
{
  stralloc j = STRALLOC_ZERO ;
  for (size_t i = 0 ; i < lines->len ; i += strlen(lines->s + i) + 1)
    if ((i && !stralloc_cats(&j, sep)) || !stralloc_cats(&j, lines->s + i)) dienomem() ;
  if (!stralloc_0(&j)) dienomem() ;
  sa->len = 0 ;
  if (!stralloc_copy(sa, &j)) dienomem() ;
  stralloc_free(&j) ;
  return sa->s ;
}

/* ---- control/ ---- */

typedef struct setting_s setting ;
struct setting_s
{
  char const *file ;   /* under control/ */
  char const *def ;    /* shown when absent */
  char kind ;          /* n number, d duration, D durations, s string, l lines */
} ;

static setting const settings[] =
{
  { "me", 0, 's' },
  { "defaultdomain", 0, 's' },
  { "locals", 0, 'l' },
  { "databytes", "0 (no limit)", 'n' },
  { "delivery", 0, 'l' },
  { "concurrencylocal", "10", 'n' },
  { "queuelifetime", "5d", 'd' },
  { "warnings", "1h 4h 8h 1d 2d 3d", 'D' },
  { "bouncemaxbytes", "100000", 'n' },
  { "recipientdelimiter", "+", 's' },
  { "smtpdmaxrcpts", "100", 'n' },
  { "maxhops", "100", 'n' },
  { "smtpdtimeout", "5m", 'd' },
  { "smtpdgreetdelay", "0", 'd' },
  { "smtpdrcpthosts", "none", 'l' },
  { "resolvconf", "/etc/resolv.conf", 's' },
  { "tlscert", "none", 's' },
  { "tlskey", "none", 's' },
  { 0, 0, 0 }
} ;

/* every word of s is a duration */
static int durations_valid (char const *s)
{
  stralloc w = STRALLOC_ZERO ;
  int ok = 1 ;
  while (*s && ok)
  {
    size_t n = strcspn(s, " \t") ;
    unsigned long d ;
    if (n)
    {
      w.len = 0 ;
      if (!stralloc_catb(&w, s, n) || !stralloc_0(&w)) dienomem() ;
      ok = duration_scan(w.s, &d) ;
    }
    s += n ;
    s += strspn(s, " \t") ;
  }
  stralloc_free(&w) ;
  return ok ;
}

static char const *default_of (setting const *s)
{
  if (!strcmp(s->file, "me")) return control_me() ;
  if (!strcmp(s->file, "defaultdomain")) return control_me() ;
  if (!strcmp(s->file, "delivery")) return mm_is_instance() ? "* maildir ~/Maildir/" : "* mbox /var/mail/%u" ;
  return s->def ;
}

static void check_setting (setting const *s)
{
  stralloc path = STRALLOC_ZERO, v = STRALLOC_ZERO, j = STRALLOC_ZERO ;
  int r ;
  if (!stralloc_cats(&path, "control/") || !stralloc_cats(&path, s->file) || !stralloc_0(&path)) dienomem() ;
  r = s->kind == 'l' ? control_readlines(&v, path.s) : control_readline(&v, path.s, 0) ;
  if (r < 0) problem(1, path.s, ": cannot be read: ", strerror(errno), "") ;
  else if (!r)
  {
    if (!strcmp(s->file, "locals")) show(path.s, ": localhost, ", control_me(), " (default)") ;
    else show(path.s, ": ", default_of(s), " (default)") ;
  }
  else
  {
    unsigned long u ;
    char const *val = s->kind == 'l' ? joined(&j, &v, s->file[0] == 'd' ? "; " : ", ") : v.s ;
    show(path.s, ": ", val, "") ;
    if (s->kind == 'n' && control_readulong(&u, path.s, 0) < 0)
      problem(1, path.s, ": not a number: ", v.s, "") ;
    else if (s->kind == 'd' && !duration_scan(v.s, &u))
      problem(1, path.s, ": not a duration (90, 45m, 1h30m, 2d): ", v.s, "") ;
    else if (s->kind == 'D' && !durations_valid(v.s))
      problem(1, path.s, ": not a list of durations: ", v.s, "") ;
  }
  if (!strcmp(s->file, "tlskey") && r > 0)
  {
    struct stat st ;
    if (stat(v.s[0] == '/' ? v.s : path.s, &st) == 0 && (st.st_mode & 004))
      problem(1, path.s, ": the server key is readable by everyone: ", "chmod o-r it", "") ;
  }
  stralloc_free(&path) ;
  stralloc_free(&v) ;
  stralloc_free(&j) ;
}

static void check_aliases (void)
{
  aliasdb db = ALIASDB_ZERO ;
  unsigned int line = 0 ;
  char const *why = "" ;
  int r = aliasdb_load(&db, "control/aliases", &line, &why) ;
  if (r < 0) problem(1, "control/aliases: cannot be read: ", strerror(errno), "", "") ;
  else if (!r)
  {
    char fmt[UINT_FMT] ;
    fmt[uint_fmt(fmt, line)] = 0 ;
    problem(1, "control/aliases line ", fmt, ": ", why) ;
  }
  else
  {
    char fmt[UINT_FMT] ;
    fmt[uint_fmt(fmt, aliasdb_count(&db))] = 0 ;
    show("control/aliases: ", fmt, " aliases", "") ;
    aliasdb_free(&db) ;
  }
}

/* ---- routes ---- */

/* a route file's first line; 0 when absent */
static int route_line (route const *r, char const *file, stralloc *v)
{
  stralloc rel = STRALLOC_ZERO ;
  int e ;
  if (!route_file(&rel, r, file)) dienomem() ;
  e = control_readline(v, rel.s, 0) ;
  if (e < 0) problem(1, rel.s, ": cannot be read: ", strerror(errno), "") ;
  stralloc_free(&rel) ;
  return e > 0 ;
}

static int route_stat (route const *r, char const *file, struct stat *st)
{
  stralloc rel = STRALLOC_ZERO, path = STRALLOC_ZERO ;
  int e ;
  if (!route_file(&rel, r, file) || !mm_path(&path, rel.s)) dienomem() ;
  e = lstat(path.s, st) == 0 ;
  stralloc_free(&rel) ;
  stralloc_free(&path) ;
  return e ;
}

static void route_unknown (char const *name)
{
  stralloc dir = STRALLOC_ZERO ;
  DIR *d ;
  if (!stralloc_cats(&dir, "control/routes/") || !stralloc_cats(&dir, name) || !stralloc_0(&dir)) dienomem() ;
  d = opendir(dir.s) ;
  if (!d) { problem(1, dir.s, ": cannot be read: ", strerror(errno), "") ; stralloc_free(&dir) ; return ; }
  for (;;)
  {
    struct dirent *de ;
    errno = 0 ;
    de = readdir(d) ;
    if (!de) break ;
    if (de->d_name[0] == '.' || route_file_known(de->d_name)) continue ;
    problem(1, dir.s, "/", de->d_name, ": unknown file, ignored by mm (a typo? mm-routes(5) lists the files)") ;
  }
  closedir(d) ;
  stralloc_free(&dir) ;
}

static void route_where (route const *r)
{
  stralloc v = STRALLOC_ZERO ;
  char fmt[UINT_FMT] ;
  char const *state = r->permanent ? "permanent" : route_isonline(r) ? "online" : "offline" ;
  if (r->smarthost.len && r->smarthost.s[0])
  {
    fmt[uint_fmt(fmt, r->port)] = 0 ;
    show("route ", r->name.s, ": ", state) ;
    show("    smarthost ", r->smarthost.s, " port ", fmt) ;
  }
  else
  {
    show("route ", r->name.s, ": ", state) ;
    if (route_line(r, "port", &v))
    {
      unsigned int port ;
      size_t n = uint_scan(v.s, &port) ;
      show("    direct delivery by MX, port ", v.s, "", "") ;
      if (!n || v.s[n] || !port || port > PORT_MAX) problem(1, "route ", r->name.s, ": port: not a port number: ", v.s) ;
    }
    else show("    direct delivery by MX, port 25", "", "", "") ;
  }
  show("    helo ", r->helo.s, "", "") ;
  if (route_line(r, "onlinequery", &v)) show("    onlinequery: ", v.s, "", "") ;
  stralloc_free(&v) ;
}

static void route_timeouts (route const *r)
{
  static char const *const files[] = { "timeout-connect", "timeout-reply", "timeout-data", "timeout-authcommand", 0 } ;
  stralloc v = STRALLOC_ZERO ;
  for (size_t i = 0 ; files[i] ; i++)
  {
    unsigned long d ;
    if (!route_line(r, files[i], &v)) continue ;
    show("    ", files[i], " ", v.s) ;
    if (!duration_scan(v.s, &d) || !d) problem(1, "route ", r->name.s, ": not a duration in ", files[i]) ;
  }
  stralloc_free(&v) ;
}

/* a secret file: shown by its name and mode, never its content */
static void route_secret (route const *r, char const *file, int command)
{
  struct stat st ;
  char mode[8] ;
  if (!route_stat(r, file, &st)) return ;
  mode[0] = '0' ;
  for (int i = 0 ; i < 3 ; i++) mode[1 + i] = '0' + ((st.st_mode >> (6 - 3 * i)) & 7) ;
  mode[4] = 0 ;
  show("    ", file, ": present, mode ", mode) ;
  if (S_ISLNK(st.st_mode)) problem(1, "route ", r->name.s, ": a symbolic link, which mm refuses: ", file) ;
  else if (!command && (st.st_mode & 077)) problem(1, "route ", r->name.s, ": readable by others (chmod 400 it): ", file) ;
  else if (command && (st.st_mode & 022)) problem(1, "route ", r->name.s, ": writable by others (chmod 644 or 600 it): ", file) ;
}

static void route_auth (route const *r)
{
  static char const *const mechs[] = { "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER", 0 } ;
  stralloc v = STRALLOC_ZERO ;
  struct stat st ;
  int mech = route_line(r, "authmech", &v) ;
  if (mech)
  {
    show("    authmech ", v.s, "", "") ;
    for (char *w = strtok(v.s, " ,\t") ; w ; w = strtok(0, " ,\t"))
    {
      size_t i = 0 ;
      while (mechs[i] && strcasecmp(mechs[i], w)) i++ ;
      if (!mechs[i]) problem(1, "route ", r->name.s, ": authmech: unknown mechanism ", w) ;
    }
  }
  if (route_line(r, "authuser", &v)) show("    authuser ", v.s, "", "") ;
  else if (mech) problem(1, "route ", r->name.s, ": authmech without authuser", "") ;
  route_secret(r, "authsecret", 0) ;
  route_secret(r, "authcommand", 1) ;
  if (mech && !route_stat(r, "authsecret", &st) && !route_stat(r, "authcommand", &st))
    problem(1, "route ", r->name.s, ": authmech without authsecret or authcommand", "") ;
  stralloc_free(&v) ;
}

static void route_tls (route const *r)
{
  stralloc v = STRALLOC_ZERO, lines = STRALLOC_ZERO, rel = STRALLOC_ZERO ;
  if (route_line(r, "tls", &v))
  {
    show("    tls ", v.s, "", "") ;
    if (strcasecmp(v.s, "starttls") && strcasecmp(v.s, "implicit") && strcasecmp(v.s, "opportunistic") && strcasecmp(v.s, "none"))
      problem(1, "route ", r->name.s, ": tls: not starttls, implicit, opportunistic or none: ", v.s) ;
  }
  else show("    tls opportunistic (default)", "", "", "") ;
  if (route_line(r, "tlsmin", &v))
  {
    show("    tlsmin ", v.s, "", "") ;
    if (strcmp(v.s, "1.2") && strcmp(v.s, "1.3")) problem(1, "route ", r->name.s, ": tlsmin: not 1.2 or 1.3: ", v.s) ;
  }
  if (route_line(r, "tlsca", &v)) show("    tlsca ", v.s, "", "") ;
  if (route_line(r, "tlscert", &v)) show("    tlscert ", v.s, "", "") ;
  if (route_line(r, "tlskey", &v)) show("    tlskey ", v.s, "", "") ;
  if (!route_file(&rel, r, "tlspin")) dienomem() ;
  if (control_readlines(&lines, rel.s) > 0)
    for (size_t i = 0 ; i < lines.len ; i += strlen(lines.s + i) + 1)
    {
      char const *p = lines.s + i ;
      size_t n = strlen(p), k = 7 ;
      show("    tlspin ", p, "", "") ;
      if (n == 71 && !strncmp(p, "sha256:", 7)) while (k < n && strchr("0123456789abcdefABCDEF", p[k])) k++ ;
      if (n != 71 || k != n) problem(1, "route ", r->name.s, ": tlspin: not sha256: and 64 hex digits: ", p) ;
    }
  stralloc_free(&v) ;
  stralloc_free(&lines) ;
  stralloc_free(&rel) ;
}

static void route_filters (route const *r)
{
  static char const *const files[] = { "domains", "allowrcpt", "denyrcpt", "allowsender", "denysender", "allowfrom", "denyfrom", "rewrite", 0 } ;
  stralloc lines = STRALLOC_ZERO, rel = STRALLOC_ZERO, j = STRALLOC_ZERO ;
  for (size_t i = 0 ; files[i] ; i++)
  {
    int e ;
    if (!route_file(&rel, r, files[i])) dienomem() ;
    e = control_readlines(&lines, rel.s) ;
    if (e < 0) problem(1, rel.s, ": cannot be read: ", strerror(errno), "") ;
    else if (e) show("    ", files[i], " ", joined(&j, &lines, ", ")) ;
    else if (!i) show("    domains any", "", "", "") ;
  }
  if (r->last) show("    last", "", "", "") ;
  stralloc_free(&lines) ;
  stralloc_free(&rel) ;
  stralloc_free(&j) ;
}

static void route_pop3 (route const *r)
{
  stralloc rel = STRALLOC_ZERO, path = STRALLOC_ZERO ;
  DIR *d ;
  if (!route_file(&rel, r, "pop3") || !mm_path(&path, rel.s)) dienomem() ;
  d = opendir(path.s) ;
  if (d)
  {
    for (;;)
    {
      struct dirent *de = readdir(d) ;
      if (!de) break ;
      if (de->d_name[0] != '.') show("    pop3 account ", de->d_name, " (mm-pop3fetch(8))", "") ;
    }
    closedir(d) ;
  }
  stralloc_free(&rel) ;
  stralloc_free(&path) ;
}

/* every route, each checked on its own: one broken route hides no other */
static void check_routes (genalloc *routes)
{
  stralloc names = STRALLOC_ZERO ;
  char const *why = "" ;
  int e = routes_names(&names, &why) ;
  if (e < 0) problem(1, "control/routes: cannot be read: ", strerror(errno), "", "") ;
  else if (!e) problem(1, why, "", "", "") ;
  if (!names.len && e > 0) show("no routes: mail for other hosts waits in the queue (mm-routes(5))", "", "", "") ;
  for (size_t i = 0 ; i < names.len ; i += strlen(names.s + i) + 1)
  {
    route r ;
    int k = route_load(&r, names.s + i, &why) ;
    if (k <= 0)
    {
      show("route ", names.s + i, ": broken", "") ;
      if (k < 0) problem(1, "route ", names.s + i, ": cannot be read: ", strerror(errno)) ;
      else problem(1, why, "", "", "") ;
      route_unknown(names.s + i) ;
      continue ;
    }
    route_where(&r) ;
    route_auth(&r) ;
    route_tls(&r) ;
    route_timeouts(&r) ;
    route_filters(&r) ;
    route_pop3(&r) ;
    route_unknown(names.s + i) ;
    if (!genalloc_append(route, routes, &r)) dienomem() ;
  }
  stralloc_free(&names) ;
}

/* ---- what no route carries ---- */

static int carried (genalloc const *routes, char const *rcpt, char const *sender)
{
  route const *r = genalloc_s(route, routes) ;
  for (size_t i = 0 ; i < genalloc_len(route, routes) ; i++)
    if (route_serves(r + i, rcpt) && (!sender || route_allows_sender(r + i, sender))) return 1 ;
  return 0 ;
}

static int islocal (char const *addr)
{
  size_t len = strlen(addr), at = address_at(addr, len) ;
  return at < len && control_islocal(addr + at + 1, len - at - 1) > 0 ;
}

static void check_coverage (genalloc const *routes)
{
  stralloc hosts = STRALLOC_ZERO, a = STRALLOC_ZERO ;
  route const *r = genalloc_s(route, routes) ;
  size_t i, n = genalloc_len(route, routes) ;
  for (i = 0 ; i < n ; i++) if (!r[i].domains.len && !r[i].has_allowrcpt) break ;
  if (n && i == n)
    problem(0, "every route names its domains or recipients: mail for any other address waits in the queue until it expires", "", "", "") ;
  if (control_readlines(&hosts, "control/smtpdrcpthosts") > 0)
    for (i = 0 ; i < hosts.len ; i += strlen(hosts.s + i) + 1)
    {
      char const *d = hosts.s + i ;
      a.len = 0 ;
      if (!stralloc_cats(&a, d[0] == '.' ? "postmaster@host" : "postmaster@") || !stralloc_cats(&a, d) || !stralloc_0(&a)) dienomem() ;
      if (!islocal(a.s) && !carried(routes, a.s, 0))
        problem(1, "control/smtpdrcpthosts: ", d, ": mm-smtpd accepts mail for it, but no route may carry it", "") ;
    }
  stralloc_free(&hosts) ;
  stralloc_free(&a) ;
}

/* one queued message: its remote recipients not done yet */
static void check_message (genalloc const *routes, char const *id)
{
  qfile q = QFILE_ZERO ;
  stralloc path = STRALLOC_ZERO, t = STRALLOC_ZERO ;
  int fd ;
  if (!stralloc_cats(&path, "queue/mess/") || !stralloc_cats(&path, id) || !stralloc_0(&path)) dienomem() ;
  fd = open(path.s, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) ;
  if (fd >= 0 && qfile_read(fd, &q) > 0 && !q.removed_by)
    for (size_t i = 0 ; i < qfile_nrcpts(&q) ; i++)
    {
      char const *rcpt = qfile_rcpt(&q, i) ;
      qrecord const *rec ;
      if (islocal(rcpt)) continue ;
      t.len = 0 ;
      if (!stralloc_catb(&t, "r", 1) || !stralloc_cats(&t, rcpt) || !stralloc_0(&t)) dienomem() ;
      rec = qfile_record(&q, t.s) ;
      if (rec && rec->state != TARGET_PENDING) continue ;
      if (!carried(routes, rcpt, qfile_str(&q, q.sender)))
        problem(1, "queue: msg ", id, ": no route may carry it to ", rcpt) ;
    }
  if (fd >= 0) close(fd) ;
  qfile_free(&q) ;
  stralloc_free(&path) ;
  stralloc_free(&t) ;
}

static void check_queue (genalloc const *routes)
{
  DIR *d = opendir("queue/mess") ;
  if (!d)
  {
    show("queue: not readable by this user; run mm-check as root to check the queued mail", "", "", "") ;
    return ;
  }
  for (;;)
  {
    struct dirent *de = readdir(d) ;
    if (!de) break ;
    if (de->d_name[0] >= '0' && de->d_name[0] <= '9') check_message(routes, de->d_name) ;
  }
  closedir(d) ;
}

int main (int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  genalloc routes = GENALLOC_ZERO ;  /* route */
  PROG = "mm-check" ;
  usage_help(argc, argv, USAGE) ;
  privs_init() ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "q", &l) ;
    if (opt == -1) break ;
    if (opt == 'q') quiet = 1 ;
    else strerr_dieusage(EX_USAGE, USAGE) ;
  }
  mm_chdir_home() ;
  show("home: ", mm_home(), mm_is_instance() ? " (a private instance)" : "", "") ;
  {
    char const *failed = 0 ;
    if (control_names_load(&failed) < 0) problem(1, failed, ": cannot be read: ", strerror(errno), "") ;
  }
  for (size_t i = 0 ; settings[i].file ; i++) check_setting(settings + i) ;
  check_aliases() ;
  check_routes(&routes) ;
  check_coverage(&routes) ;
  check_queue(&routes) ;
  {
    char e[UINT_FMT], w[UINT_FMT] ;
    e[uint_fmt(e, nerrors)] = 0 ;
    w[uint_fmt(w, nwarnings)] = 0 ;
    out("-- ") ; out(e) ; out(nerrors == 1 ? " error, " : " errors, ") ; out(w) ; out(nwarnings == 1 ? " warning\n" : " warnings\n") ;
  }
  if (!buffer_flush(buffer_1)) strerr_diefusys(EX_TEMPFAIL, "write to stdout") ;
  routes_free(&routes) ;
  return nerrors ? EX_CONFIG : 0 ;
}
