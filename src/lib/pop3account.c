/* Reading a POP3 account's settings and secret as the pop user. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/bytestr.h>
#include <skalibs/direntry.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "address.h"
#include "control.h"
#include "home.h"
#include "pop3account.h"
#include "route.h"
#include "secret.h"

static int dirpath (stralloc *sa, char const *route, char const *name, char const *file)
{
  sa->len = 0 ;
  return stralloc_cats(sa, "control/routes/") && stralloc_cats(sa, route) && stralloc_cats(sa, "/pop3")
    && (!name || (stralloc_catb(sa, "/", 1) && stralloc_cats(sa, name)))
    && (!file || (stralloc_catb(sa, "/", 1) && stralloc_cats(sa, file))) && stralloc_0(sa) ;
}

static int cmp (void const *a, void const *b)
{
  return strcmp(*(char const *const *)a, *(char const *const *)b) ;
}

int pop3account_list (char const *route, stralloc *sa)
{
  stralloc rel = STRALLOC_ZERO, path = STRALLOC_ZERO, names = STRALLOC_ZERO ;
  genalloc idx = GENALLOC_ZERO ;
  direntry *d ;
  DIR *dir ;
  int r = -1 ;
  if (!dirpath(&rel, route, 0, 0) || !mm_path(&path, rel.s)) goto end ;
  dir = opendir(path.s) ;
  if (!dir) { if (errno == ENOENT || errno == ENOTDIR) r = 1 ; goto end ; }
  while ((errno = 0, d = readdir(dir)))
  {
    if (!route_name_valid(d->d_name)) continue ;   /* same rule as route names: no dot files */
    if (!stralloc_cats(&names, d->d_name) || !stralloc_0(&names)) { dir_close(dir) ; goto end ; }
  }
  if (errno) { dir_close(dir) ; goto end ; }
  dir_close(dir) ;
  for (size_t i = 0 ; i < names.len ; i += strlen(names.s + i) + 1)
  {
    char const *p = names.s + i ;   /* offsets: names does not move any more */
    if (!genalloc_append(char const *, &idx, &p)) goto end ;
  }
  qsort(genalloc_s(char const *, &idx), genalloc_len(char const *, &idx), sizeof(char const *), &cmp) ;
  for (size_t i = 0 ; i < genalloc_len(char const *, &idx) ; i++)
    if (!stralloc_cats(sa, genalloc_s(char const *, &idx)[i]) || !stralloc_0(sa)) goto end ;
  r = 1 ;
 end:
  stralloc_free(&rel) ; stralloc_free(&path) ; stralloc_free(&names) ;
  genalloc_free(char const *, &idx) ;
  return r ;
}

/* why texts of secret.c name no file: this says which */
static char whybuf[400] ;
static char const *because (char const *file, char const *why, stralloc const *diag)
{
  size_t n = 0 ;
  char const *parts[4] = { file, " ", why, diag && diag->len ? ": " : "" } ;
  for (unsigned int i = 0 ; i < 4 ; i++)
    for (char const *p = parts[i] ; *p && n < sizeof whybuf - 1 ; p++) whybuf[n++] = *p ;
  if (diag) for (size_t i = 0 ; i < diag->len && diag->s[i] && n < sizeof whybuf - 1 ; i++) whybuf[n++] = diag->s[i] ;
  whybuf[n] = 0 ;
  return whybuf ;
}

/* The password: the first line of the output of secretcommand when the
   account has one, else of the file secret (the pop user's alone). */
static int read_secret (pop3account *a, char const *route, char const *name, char const **why)
{
  stralloc rel = STRALLOC_ZERO, path = STRALLOC_ZERO, diag = STRALLOC_ZERO ;
  char const *w = "" ;
  int r = -1, cmd ;
  if (!dirpath(&rel, route, name, "secretcommand") || !mm_path(&path, rel.s)) goto end ;
  cmd = access(path.s, F_OK) == 0 ;
  a->secret.len = 0 ;
  if (cmd) r = secret_command(rel.s, SECRET_COMMAND_TIMEOUT, &a->secret, &diag, &w) ;
  else if (!dirpath(&rel, route, name, "secret")) goto end ;
  else r = secret_file(rel.s, &a->secret, &w) ;
  if (!r) *why = because(cmd ? "secretcommand:" : "the secret file", w, cmd ? &diag : 0) ;
 end:
  stralloc_free(&rel) ; stralloc_free(&path) ; stralloc_free(&diag) ;
  return r ;
}

static int parse_auth (pop3account *a, char const *s, char const **why)
{
  a->nauth = 0 ;
  while (*s)
  {
    size_t n ;
    unsigned int m ;
    while (*s == ' ' || *s == '\t' || *s == ',') s++ ;
    for (n = 0 ; s[n] && s[n] != ' ' && s[n] != '\t' && s[n] != ',' ; n++) ;
    if (!n) break ;
    if (n == 5 && !strncasecmp(s, "plain", 5)) m = POP3_AUTH_PLAIN ;
    else if (n == 4 && !strncasecmp(s, "user", 4)) m = POP3_AUTH_USER ;
    else if (n == 4 && !strncasecmp(s, "apop", 4)) m = POP3_AUTH_APOP ;
    else if (n == 7 && !strncasecmp(s, "xoauth2", 7)) m = POP3_AUTH_XOAUTH2 ;
    else if (n == 11 && !strncasecmp(s, "oauthbearer", 11)) m = POP3_AUTH_OAUTHBEARER ;
    else { *why = "auth: the methods are plain, user, apop, xoauth2 and oauthbearer" ; return 0 ; }
    if (a->nauth >= POP3_AUTH_MAX) { *why = "auth: too many methods" ; return 0 ; }
    a->auth[a->nauth++] = m ;
    s += n ;
  }
  if (!a->nauth) { *why = "auth: no method" ; return 0 ; }
  return 1 ;
}

/* one setting: its first line into sa (def when absent). 1, 0, -1 */
static int setting (stralloc *sa, char const *route, char const *name, char const *file, char const *def, char const **why)
{
  stralloc rel = STRALLOC_ZERO ;
  int r ;
  if (!dirpath(&rel, route, name, file)) return -1 ;
  r = control_readline(sa, rel.s, def) ;
  stralloc_free(&rel) ;
  if (r < 0) { *why = file ; return -1 ; }
  return r ;
}

static int number (unsigned long *u, char const *route, char const *name, char const *file, unsigned long def, char const **why)
{
  stralloc rel = STRALLOC_ZERO ;
  int r ;
  if (!dirpath(&rel, route, name, file)) return -1 ;
  r = control_readulong(u, rel.s, def) ;
  stralloc_free(&rel) ;
  *why = file ;
  if (r < 0) return errno == EINVAL ? 0 : -1 ;
  return 1 ;
}

static int load_main (pop3account *a, char const *route, char const *name, char const **why)
{
  stralloc sa = STRALLOC_ZERO ;
  char const *w = 0 ;
  int r, hasport = 0 ;
  unsigned long u ;
  size_t n ;
  if ((r = setting(&a->server, route, name, "server", 0, why)) <= 0) { if (!r) *why = "no server file" ; goto end ; }
  n = str_chr(a->server.s, ':') ;
  a->port = POP3_PORT ;
  if (a->server.s[n])
  {
    uint16_t p ;
    size_t m = uint160_scan(a->server.s + n + 1, &p) ;
    r = 0 ;
    if (!m || a->server.s[n + 1 + m] || !p) { *why = "server: the port is not a number" ; goto end ; }
    a->port = p ;
    a->server.s[n] = 0 ; a->server.len = n + 1 ;
    hasport = 1 ;
  }
  if (!a->server.s[0]) { r = 0 ; *why = "server: empty" ; goto end ; }
  /* no secret goes over a plain connection unless the account says so */
  if ((r = setting(&sa, route, name, "tls", "stls", why)) < 0) goto end ;
  if (!strcmp(sa.s, "none")) a->tls = POP3_TLS_NONE ;
  else if (!strcmp(sa.s, "stls")) a->tls = POP3_TLS_STLS ;
  else if (!strcmp(sa.s, "implicit")) a->tls = POP3_TLS_IMPLICIT ;
  else { r = 0 ; *why = "tls: none, stls or implicit" ; goto end ; }
  if (a->tls == POP3_TLS_IMPLICIT && !hasport) a->port = POP3S_PORT ;
  if ((r = setting(&a->tlsca, route, name, "tlsca", "", why)) < 0) goto end ;
  if ((r = setting(&a->tlsmin, route, name, "tlsmin", "", why)) < 0) goto end ;
  if (!dirpath(&sa, route, name, "tlspin")) { r = -1 ; goto end ; }
  if (control_readlines(&a->tlspins, sa.s) < 0) { r = -1 ; *why = "tlspin" ; goto end ; }
  if ((r = setting(&a->user, route, name, "user", name, why)) < 0) goto end ;
  if ((r = setting(&sa, route, name, "auth", "plain user", why)) < 0) goto end ;
  if (!(r = parse_auth(a, sa.s, why))) goto end ;
  if ((r = setting(&sa, route, name, "to", name, why)) < 0) goto end ;
  if (!address_parse(&a->rcpt, sa.s, sa.len, control_defaultdomain(), &w) || !a->rcpt.len) { r = 0 ; *why = "to: not an address" ; goto end ; }
  if ((r = setting(&sa, route, name, "keep", "", why)) < 0) goto end ;
  a->keep = r == 1 ;
  if ((r = setting(&sa, route, name, "deleteafter", "", why)) < 0) goto end ;
  a->deleteafter = 0 ;
  if (r == 1 && (!duration_scan(sa.s, &a->deleteafter) || !a->deleteafter)) { r = 0 ; *why = "deleteafter: not a duration" ; goto end ; }
  if ((r = number(&u, route, name, "maxsize", 0, why)) <= 0) goto end ;
  a->maxsize = u ;
  if ((r = number(&a->maxmessages, route, name, "maxmessages", 0, why)) <= 0) goto end ;
  if ((r = number(&u, route, name, "timeout", POP3ACCOUNT_TIMEOUT, why)) <= 0) goto end ;
  if (!u || u > 86400) { r = 0 ; *why = "timeout: 1 to 86400 seconds" ; goto end ; }
  a->timeout = u ;
  r = 1 ;
 end:
  stralloc_free(&sa) ;
  return r ;
}

int pop3account_load (pop3account *a, char const *route, char const *name, char const **why)
{
  stralloc rel = STRALLOC_ZERO ;
  int r ;
  *why = "" ;
  if (!route_name_valid(route) || !route_name_valid(name)) { *why = "not a valid route or account name" ; return 0 ; }
  if (!stralloc_copys(&a->route, route) || !stralloc_0(&a->route)
   || !stralloc_copys(&a->name, name) || !stralloc_0(&a->name)
   || !stralloc_copys(&a->label, route) || !stralloc_catb(&a->label, "/", 1) || !stralloc_cats(&a->label, name) || !stralloc_0(&a->label)
   || !stralloc_copys(&a->statedir, "pop/") || !stralloc_cats(&a->statedir, route) || !stralloc_catb(&a->statedir, "/", 1) || !stralloc_cats(&a->statedir, name) || !stralloc_0(&a->statedir))
    return -1 ;
  if (!dirpath(&rel, route, name, 0)) return -1 ;
  {
    stralloc path = STRALLOC_ZERO ;
    struct stat st ;
    if (!mm_path(&path, rel.s)) { stralloc_free(&rel) ; return -1 ; }
    r = stat(path.s, &st) ;
    stralloc_free(&path) ;
    if (r < 0 || !S_ISDIR(st.st_mode)) { stralloc_free(&rel) ; *why = "no such account" ; return 0 ; }
  }
  r = load_main(a, route, name, why) ;
  if (r == 1) r = read_secret(a, route, name, why) ;
  stralloc_free(&rel) ;
  return r ;
}

void pop3account_free (pop3account *a)
{
  stralloc_free(&a->route) ; stralloc_free(&a->name) ; stralloc_free(&a->label) ;
  stralloc_free(&a->server) ; stralloc_free(&a->tlsca) ; stralloc_free(&a->tlsmin) ; stralloc_free(&a->tlspins) ;
  stralloc_free(&a->user) ; secret_free(&a->secret) ;
  stralloc_free(&a->rcpt) ; stralloc_free(&a->statedir) ;
}
