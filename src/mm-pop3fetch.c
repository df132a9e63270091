/* mm-pop3fetch: fetches the POP3 accounts of routes and hands every
   message to mm-queue; a message is deleted on the server only after
   mm-queue committed it and its UIDL was recorded durably. Runs as the
   pop user (setuid to it in an install), which cannot read the queue. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/buffer.h>
#include <skalibs/bytestr.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "control.h"
#include "home.h"
#include "pop3.h"
#include "pop3account.h"
#include "pop3login.h"
#include "privs.h"
#include "logstamp.h"
#include "usage.h"
#include "qspawn.h"
#include "route.h"
#include "uidlstore.h"

#define USAGE "mm-pop3fetch [ ROUTE[/ACCOUNT] ... ]"
/* Commands in flight with PIPELINING: every RETR of a fetch, then every
   DELE, in one flight. The bound keeps them (at most 20 bytes each)
   within what the socket buffers hold while the server, busy writing
   messages we have not read yet, reads no commands. */
#define POP3_WINDOW 1000

#define say(a, ...) strerr_warn(PROG, ": ", (a)->label.s, ": ", __VA_ARGS__)

enum { M_KEEP, M_FETCH, M_SKIP, M_LATER, M_DELETE } ;

typedef struct message_s message ;
struct message_s
{
  unsigned long num ;
  size_t uid ;        /* offset in the session's uids */
  uint64_t size ;     /* what LIST said */
  int what ;          /* M_* */
  int queued ;        /* committed by mm-queue in this session */
  int deleted ;       /* DELE answered +OK */
} ;

typedef struct session_s session ;
struct session_s
{
  pop3account *a ;
  pop3 p ;
  tlsstart tls ;      /* mm-tls's arguments, then its report */
  uidlstore store ;
  stralloc uids ;     /* the listing's UIDLs, NUL-terminated */
  genalloc msgs ;     /* message, in listing order */
  stralloc why ;      /* the failure, for the account's line */
  unsigned long n_new, n_fetched, n_deleted, n_kept, n_skipped, n_refused, n_later ;
  int tempfail ;      /* a temporary refusal stopped the fetch */
} ;

static void nomem (void) gccattr_noreturn ;
static void nomem (void)
{
  strerr_diefu1sys(EX_TEMPFAIL, "allocate memory") ;
}

/* the reason for the account's line; 0 so that callers can return it */
static int failed (session *s, char const *a, char const *b)
{
  s->why.len = 0 ;
  if (!stralloc_cats(&s->why, a) || !stralloc_cats(&s->why, b ? b : "") || !stralloc_0(&s->why)) nomem() ;
  return 0 ;
}

static char const *uid_of (session const *s, message const *m)
{
  return s->uids.s + m->uid ;
}

static int status_ok (session *s, char const *what)
{
  char const *text ;
  int r = pop3_status(&s->p, &text) ;
  if (r < 0) return failed(s, s->p.err.s, 0) ;
  if (!r) { failed(s, what, text) ; return -1 ; }
  return 1 ;
}

/* ------------------------------------------------------------ the listing */

static session *cmp_session ;
static int cmpuid (void const *x, void const *y)
{
  message const *a = x, *b = y ;
  int c = strcmp(cmp_session->uids.s + a->uid, cmp_session->uids.s + b->uid) ;
  return c ? c : (a->num > b->num) - (a->num < b->num) ;
}

/* Two messages with one UIDL would let a commit of one delete the other. */
static int unique_uids (session *s)
{
  size_t n = genalloc_len(message, &s->msgs) ;
  message *copy ;
  int ok = 1 ;
  if (n < 2) return 1 ;
  copy = malloc(n * sizeof(message)) ;
  if (!copy) nomem() ;
  memcpy(copy, genalloc_s(message, &s->msgs), n * sizeof(message)) ;
  cmp_session = s ;
  qsort(copy, n, sizeof(message), &cmpuid) ;
  for (size_t i = 1 ; ok && i < n ; i++)
    if (!strcmp(uid_of(s, copy + i - 1), uid_of(s, copy + i)))
      ok = failed(s, "the server listed one UIDL for two messages: ", uid_of(s, copy + i)) ;
  free(copy) ;
  return ok ;
}

static message *bynum (session *s, unsigned long num)
{
  message *m = genalloc_s(message, &s->msgs) ;
  size_t n = genalloc_len(message, &s->msgs) ;
  /* the listings come in order: try the obvious place first */
  if (num && num <= n && m[num - 1].num == num) return m + num - 1 ;
  for (size_t i = 0 ; i < n ; i++) if (m[i].num == num) return m + i ;
  return 0 ;
}

/* UIDL and LIST, in one flight with PIPELINING. */
static int listing (session *s)
{
  char const *line ;
  size_t len ;
  int r, pipe = !!(s->p.capa & POP3_CAPA_PIPELINING) ;
  if (!pop3_put(&s->p, "UIDL", 0) || (pipe && !pop3_put(&s->p, "LIST", 0))) return failed(s, s->p.err.s, 0) ;
  r = status_ok(s, "the server has no UIDL command, which mm-pop3fetch needs to fetch each message once: ") ;
  if (r <= 0) return 0 ;
  while ((r = pop3_listline(&s->p, &line, &len)) > 0)
  {
    message m = { .size = 0, .what = M_KEEP, .queued = 0, .deleted = 0 } ;
    char const *uid ;
    size_t ulen ;
    if (!pop3_uidl_line(line, len, &m.num, &uid, &ulen)) return failed(s, "malformed UIDL line from the server", 0) ;
    if (bynum(s, m.num)) return failed(s, "the server listed a message number twice in UIDL", 0) ;
    m.uid = s->uids.len ;
    if (!stralloc_catb(&s->uids, uid, ulen) || !stralloc_0(&s->uids) || !genalloc_append(message, &s->msgs, &m)) nomem() ;
  }
  if (r < 0) return failed(s, s->p.err.s, 0) ;
  if (!pipe && !pop3_put(&s->p, "LIST", 0)) return failed(s, s->p.err.s, 0) ;
  if (status_ok(s, "LIST refused: ") <= 0) return 0 ;
  while ((r = pop3_listline(&s->p, &line, &len)) > 0)
  {
    unsigned long num ;
    uint64_t size ;
    message *m ;
    if (!pop3_list_line(line, len, &num, &size)) return failed(s, "malformed LIST line from the server", 0) ;
    m = bynum(s, num) ;
    if (m) m->size = size ;   /* a message that came after UIDL waits for the next session */
  }
  if (r < 0) return failed(s, s->p.err.s, 0) ;
  return unique_uids(s) ;
}

/* What to do with each message. */
static void plan (session *s, uint64_t now)
{
  pop3account const *a = s->a ;
  message *m = genalloc_s(message, &s->msgs) ;
  size_t n = genalloc_len(message, &s->msgs) ;
  uidlrec *r = genalloc_s(uidlrec, &s->store.recs) ;
  for (size_t i = 0 ; i < genalloc_len(uidlrec, &s->store.recs) ; i++) r[i].seen = 0 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    char const *uid = uid_of(s, m + i) ;
    uidlrec *known = uidlstore_find(&s->store, uid, strlen(uid)) ;
    if (known)
    {
      known->seen = 1 ;
      /* in the queue already: a delete that did not happen last time, or one now due */
      if (!a->keep || (a->deleteafter && now >= known->when + a->deleteafter)) m[i].what = M_DELETE ;
      else { m[i].what = M_KEEP ; s->n_kept++ ; }
      continue ;
    }
    s->n_new++ ;
    if (a->maxsize && m[i].size > a->maxsize)
    {
      char fmt[UINT64_FMT] ;
      fmt[uint64_fmt(fmt, m[i].size)] = 0 ;
      say(a, "msg ", uid, ": skipped: ", fmt, " bytes, more than maxsize; left on the server") ;
      m[i].what = M_SKIP ; s->n_skipped++ ;
    }
    else if (a->maxmessages && s->n_new - s->n_skipped > a->maxmessages) { m[i].what = M_LATER ; s->n_later++ ; }
    else m[i].what = M_FETCH ;
  }
  uidlstore_prune(&s->store) ;   /* gone from the server: forgotten at the next write */
}

/* ------------------------------------------------------------ fetching */

/* The body of an accepted RETR, into mm-queue. 1 read whole (the
   message queued, refused, or the fetch stopped: s->tempfail), 0 the
   connection failed. */
static int retrieve (session *s, message *m)
{
  pop3account const *a = s->a ;
  char const *uid = uid_of(s, m) ;
  pop3_body b = POP3_BODY_ZERO ;
  stralloc chunk = STRALLOC_ZERO ;
  char const *rcpt = a->rcpt.s ;
  char id[32] ;
  qspawn q ;
  int started = qspawn_start(&q), writing = started, code ;
  if (!started) say(a, "msg ", uid, ": cannot start mm-queue: ", strerror(errno)) ;
  while (!b.done)
  {
    chunk.len = 0 ;
    if (!pop3_body_read(&s->p, &b, &chunk))
    {
      if (started) qspawn_abort(&q) ;
      stralloc_free(&chunk) ;
      return failed(s, s->p.err.s, 0) ;
    }
    if (b.flags & POP3_BODY_NUL) writing = 0 ;
    /* a write error is mm-queue's refusal; its exit code says which */
    if (writing && buffer_put(&q.mess, chunk.s, chunk.len) < 0) writing = 0 ;
  }
  stralloc_free(&chunk) ;
  if (b.len + b.lines != m->size)
  {
    char x[UINT64_FMT], y[UINT64_FMT] ;
    x[uint64_fmt(x, m->size)] = 0 ; y[uint64_fmt(y, b.len + b.lines)] = 0 ;
    say(a, "msg ", uid, ": note: LIST said ", x, " bytes, the message has ", y) ;
  }
  if (!started) { s->tempfail = 1 ; return 1 ; }
  if (b.flags & POP3_BODY_NUL)
  {
    qspawn_abort(&q) ;
    say(a, "msg ", uid, ": refused: the message contains a NUL byte (#5.6.0); left on the server") ;
    s->n_refused++ ;
    return 1 ;
  }
  code = qspawn_finish_host(&q, 0, a->server.s, "", &rcpt, 1, id) ;
  if (code == EX_DATAERR)
  {
    say(a, "msg ", uid, ": refused: ", qspawn_strerror(code), " (#5.6.0); left on the server") ;
    s->n_refused++ ;
    return 1 ;
  }
  if (code)
  {
    say(a, "msg ", uid, ": deferred: ", qspawn_strerror(code), " (#4.3.0); fetch stopped, nothing deleted") ;
    s->tempfail = 1 ;
    return 1 ;
  }
  /* committed: now the record, durably, before any DELE. A crash between
     the two is the one window in which the message is fetched twice. */
  if (!uidlstore_add(&s->store, uid, strlen(uid), (uint64_t)time(0))) nomem() ;
  if (!uidlstore_write(&s->store))
  {
    say(a, "msg ", uid, ": queued as ", id, " but its UIDL could not be recorded: ", strerror(errno), "; it will be fetched again") ;
    s->tempfail = 1 ;
    return 1 ;
  }
  m->queued = 1 ;
  s->n_fetched++ ;
  {
    char fmt[UINT64_FMT] ;
    fmt[uint64_fmt(fmt, b.len)] = 0 ;
    say(a, "msg ", uid, ": queued as ", id, " size ", fmt, " to <", a->rcpt.s, ">") ;
  }
  return 1 ;
}

/* Every RETR in one flight (a window of them in the air). 1 done (or
   stopped by a temporary refusal), 0 connection trouble. */
static int fetch (session *s)
{
  message *m = genalloc_s(message, &s->msgs) ;
  size_t n = genalloc_len(message, &s->msgs), sent = 0, done = 0, inflight = 0 ;
  unsigned int window = s->p.capa & POP3_CAPA_PIPELINING ? POP3_WINDOW : 1 ;
  while (done < n && !s->tempfail)
  {
    char const *text ;
    int r ;
    while (sent < n && inflight < window)
    {
      char num[ULONG_FMT] ;
      if (m[sent].what != M_FETCH) { sent++ ; continue ; }
      num[ulong_fmt(num, m[sent].num)] = 0 ;
      if (!pop3_put(&s->p, "RETR", num)) return failed(s, s->p.err.s, 0) ;
      sent++ ; inflight++ ;
    }
    while (done < sent && m[done].what != M_FETCH) done++ ;
    if (done >= n) break ;
    r = pop3_status(&s->p, &text) ;
    if (r < 0) return failed(s, s->p.err.s, 0) ;
    if (!r)
    {
      say(s->a, "msg ", uid_of(s, m + done), ": refused: the server said to RETR: ", text, "; left on the server") ;
      s->n_refused++ ;
    }
    else if (!retrieve(s, m + done)) return 0 ;
    done++ ; inflight-- ;
  }
  return 1 ;
}

/* The DELEs and QUIT in one flight. Nothing is removed unless QUIT
   succeeds (RFC 1939 6). 1 QUIT went well, 0 not. */
static int finish (session *s)
{
  message *m = genalloc_s(message, &s->msgs) ;
  size_t n = genalloc_len(message, &s->msgs), k = 0, sent = 0, done = 0 ;
  size_t *del = malloc((n + 1) * sizeof(size_t)) ;
  unsigned long ok = 0 ;
  int pipe = !!(s->p.capa & POP3_CAPA_PIPELINING), quitsent = 0, r = 0 ;
  size_t window = pipe ? POP3_WINDOW : 1 ;
  if (!del) nomem() ;
  for (size_t i = 0 ; i < n ; i++)
    if (m[i].what == M_DELETE || (m[i].queued && !s->a->keep)) del[k++] = i ;
  while (done < k)
  {
    message *d ;
    while (sent < k && sent - done < window)
    {
      char num[ULONG_FMT] ;
      num[ulong_fmt(num, m[del[sent]].num)] = 0 ;
      if (!pop3_put(&s->p, "DELE", num)) { failed(s, s->p.err.s, 0) ; goto end ; }
      sent++ ;
    }
    if (sent == k && pipe && !quitsent)
    {
      if (!pop3_put(&s->p, "QUIT", 0)) { failed(s, s->p.err.s, 0) ; goto end ; }
      quitsent = 1 ;
    }
    d = m + del[done++] ;
    r = status_ok(s, "DELE refused: ") ;
    if (!r) goto end ;
    if (r > 0) { d->deleted = 1 ; ok++ ; }
    else say(s->a, "msg ", uid_of(s, d), ": ", s->why.s, "; left on the server") ;
  }
  r = 0 ;
  if (!quitsent && !pop3_put(&s->p, "QUIT", 0)) { failed(s, s->p.err.s, 0) ; goto end ; }
  if (status_ok(s, "QUIT refused, so nothing was deleted: ") <= 0) goto end ;
  s->n_deleted = ok ;
  r = 1 ;
 end:
  free(del) ;
  return r ;
}

/* ------------------------------------------------------------ one account */

/* After QUIT: the deleted messages' records are no longer needed. A
   failed write only leaves records that the next listing drops. */
static void forget_deleted (session *s)
{
  message *m = genalloc_s(message, &s->msgs) ;
  size_t n = genalloc_len(message, &s->msgs) ;
  for (size_t i = 0 ; i < n ; i++)
    if (m[i].deleted)
    {
      uidlrec *r = uidlstore_find(&s->store, uid_of(s, m + i), strlen(uid_of(s, m + i))) ;
      if (r) r->seen = 0 ;
    }
  uidlstore_prune(&s->store) ;
  if (!uidlstore_write(&s->store)) say(s->a, "warning: cannot rewrite the UIDL record: ", strerror(errno)) ;
}

static void report (session *s, int ok)
{
  char f[7][ULONG_FMT] ;
  unsigned long v[7] = { s->n_new, s->n_fetched, s->n_deleted, s->n_kept, s->n_skipped, s->n_refused, s->n_later } ;
  for (unsigned int i = 0 ; i < 7 ; i++) f[i][ulong_fmt(f[i], v[i])] = 0 ;
  if (ok) say(s->a, "fetch done: new ", f[0], " fetched ", f[1], " deleted ", f[2], " kept ", f[3], " skipped ", f[4], " refused ", f[5], " later ", f[6]) ;
  else say(s->a, "fetch failed: ", s->why.s, ": new ", f[0], " fetched ", f[1], " deleted 0 kept ", f[3], " skipped ", f[4], " refused ", f[5], " later ", f[6], "; nothing deleted") ;
}

static void tlsarg (session *s, char const *arg)
{
  if (!tlsstart_arg(&s->tls, arg)) strerr_dief1x(EX_SOFTWARE, "too many arguments for mm-tls") ;
}

/* The connection goes to mm-tls, verified against the account's server
   name (or tlsca, or the pins). 1 ok, 0 failed. */
static int tls (session *s, int stls)
{
  pop3account const *a = s->a ;
  static char t1[UINT_FMT], t2[UINT_FMT] ;
  t1[uint_fmt(t1, a->timeout)] = 0 ;
  t2[uint_fmt(t2, a->timeout + 60)] = 0 ;
  tlsarg(s, "-c") ;
  tlsarg(s, "-n") ; tlsarg(s, a->server.s) ;
  tlsarg(s, "-t") ; tlsarg(s, t1) ;
  tlsarg(s, "-T") ; tlsarg(s, t2) ;
  if (a->tlsca.len > 1) { tlsarg(s, "-C") ; tlsarg(s, a->tlsca.s) ; }
  if (a->tlsmin.len > 1) { tlsarg(s, "-m") ; tlsarg(s, a->tlsmin.s) ; }
  for (size_t i = 0 ; i < a->tlspins.len ; i += strlen(a->tlspins.s + i) + 1) { tlsarg(s, "-p") ; tlsarg(s, a->tlspins.s + i) ; }
  if (!pop3_tls(&s->p, &s->tls, stls)) return failed(s, s->p.err.s, 0) ;
  say(a, "TLS: ", s->tls.report.s) ;
  return 1 ;
}

/* RFC 2595 4: STLS, then CAPA again, everything said before forgotten */
static int stls (session *s)
{
  int r ;
  if (!(s->p.capa & POP3_CAPA_STLS)) return failed(s, "the account wants TLS and the server offers no STLS", 0) ;
  if (!pop3_put(&s->p, "STLS", 0)) return failed(s, s->p.err.s, 0) ;
  r = status_ok(s, "STLS refused: ") ;
  if (r <= 0) return 0 ;
  if (!tls(s, 1)) return 0 ;
  if (!pop3_capa(&s->p)) return failed(s, s->p.err.s, 0) ;
  return 1 ;
}

static int session_run (session *s)
{
  pop3account *a = s->a ;
  int r ;
  if (!pop3_connect(&s->p, a->server.s, a->port, a->timeout)) return failed(s, s->p.err.s, 0) ;
  if (a->tls == POP3_TLS_IMPLICIT && !tls(s, 0)) return 0 ;
  if (!pop3_greeting(&s->p)) return failed(s, s->p.err.s, 0) ;
  if (!pop3_capa(&s->p)) return failed(s, s->p.err.s, 0) ;
  if (a->tls == POP3_TLS_STLS && !stls(s)) return 0 ;
  if (pop3_login(&s->p, a) <= 0) return failed(s, s->p.err.s, 0) ;
  if (!listing(s)) return 0 ;
  plan(s, (uint64_t)time(0)) ;
  if (!fetch(s)) return 0 ;
  if (s->tempfail) return failed(s, "a temporary failure stopped the fetch", 0) ;
  r = finish(s) ;
  if (r) forget_deleted(s) ;
  return r ;
}

/* mkdir -p of the state directory pop/ROUTE/ACCOUNT, mode 0700 */
static int statedir (pop3account const *a, stralloc *dir)
{
  size_t base = strlen(mm_home()) + 1 ;
  if (!mm_path(dir, a->statedir.s)) nomem() ;
  for (size_t i = base ; i < dir->len ; i++)
    if (dir->s[i] == '/' || !dir->s[i])
    {
      char c = dir->s[i] ;
      dir->s[i] = 0 ;
      if (mkdir(dir->s, 0700) < 0 && errno != EEXIST) return 0 ;
      dir->s[i] = c ;
    }
  return 1 ;
}

/* 0 fetched, EX_TEMPFAIL not */
static int fetch_account (pop3account *a)
{
  session s = { .a = a, .p = POP3_ZERO, .tls = TLSSTART_ZERO, .store = UIDLSTORE_ZERO, .uids = STRALLOC_ZERO, .msgs = GENALLOC_ZERO, .why = STRALLOC_ZERO } ;
  stralloc dir = STRALLOC_ZERO ;
  int r, code = EX_TEMPFAIL ;
  if (!statedir(a, &dir)) { say(a, "fetch failed: cannot create ", dir.s, ": ", strerror(errno)) ; goto end ; }
  r = uidlstore_open(&s.store, dir.s) ;
  if (!r) { say(a, "not fetched: another fetch of this account is running") ; code = 0 ; goto end ; }
  if (r < 0)
  {
    say(a, "fetch failed: cannot read the UIDL record in ", dir.s, ": ", errno == EPROTO ? "malformed" : strerror(errno)) ;
    goto end ;
  }
  r = session_run(&s) ;
  report(&s, r) ;
  if (r) code = 0 ;
 end:
  pop3_close(&s.p) ;
  if (s.tls.pid) tlsstart_end(&s.tls) ;   /* mm-tls sees the end of file and exits */
  uidlstore_close(&s.store) ;
  stralloc_free(&s.uids) ; genalloc_free(message, &s.msgs) ; stralloc_free(&s.why) ;
  stralloc_free(&s.p.greeting) ; stralloc_free(&s.p.err) ; stralloc_free(&s.p.line.text) ;
  stralloc_free(&dir) ;
  return code ;
}

/* ------------------------------------------------------------ main */

static int worst = 0 ;

static void account (char const *route, char const *name)
{
  pop3account a = POP3ACCOUNT_ZERO ;
  char const *why ;
  int r = pop3account_load(&a, route, name, &why) ;
  if (r <= 0)
  {
    if (r < 0) strerr_warnwu6sys("read the account ", route, "/", name, ": ", why) ;
    else strerr_warn(PROG, ": ", route, "/", name, ": not fetched: ", why) ;
    if (r < 0 && worst != EX_CONFIG) worst = EX_TEMPFAIL ;
    if (!r) worst = EX_CONFIG ;
  }
  else
  {
    r = fetch_account(&a) ;
    if (r && !worst) worst = r ;
  }
  pop3account_free(&a) ;
}

static void route_accounts (char const *route)
{
  stralloc names = STRALLOC_ZERO ;
  if (pop3account_list(route, &names) < 0)
  {
    strerr_warnwu3sys("list the accounts of route ", route, " (control/routes/ROUTE/pop3)") ;
    if (!worst) worst = EX_TEMPFAIL ;
  }
  for (size_t i = 0 ; i < names.len ; i += strlen(names.s + i) + 1) account(route, names.s + i) ;
  stralloc_free(&names) ;
}

int main (int argc, char const *const *argv)
{
  genalloc routes = GENALLOC_ZERO ;
  char const *why = "" ;
  int r ;
  PROG = "mm-pop3fetch" ;
  usage_help(argc, argv, USAGE) ;
  logstamp_init() ;
  privs_init() ;
  if (mm_privileged()) privs_drop_caller() ;
  privs_refuse_root() ;
  argv++ ; argc-- ;
  if (argc && !strcmp(argv[0], "--")) { argv++ ; argc-- ; }
  for (int i = 0 ; i < argc ; i++) if (argv[i][0] == '-') strerr_dieusage(EX_USAGE, USAGE) ;
  umask(077) ;
  mm_chdir_home() ;
  if (control_names_load(&why) < 0) strerr_diefu2sys(EX_TEMPFAIL, "read ", why) ;
  r = routes_load(&routes, &why) ;
  if (r < 0) strerr_diefu1sys(EX_TEMPFAIL, "read control/routes") ;
  if (!r) strerr_dief2x(EX_CONFIG, "control/routes: ", why) ;
  if (!argc)
  {
    /* the interval mode: the routes that are up now, nothing while down */
    for (size_t i = 0 ; i < genalloc_len(route, &routes) ; i++)
    {
      route const *rt = genalloc_s(route, &routes) + i ;
      if (route_isonline(rt)) route_accounts(rt->name.s) ;
    }
    return worst ;
  }
  for (int i = 0 ; i < argc ; i++)
  {
    char name[ROUTE_NAME_MAX + 1] ;
    size_t n = str_chr(argv[i], '/') ;
    if (n > ROUTE_NAME_MAX) strerr_dief2x(EX_USAGE, "not a route name: ", argv[i]) ;
    memcpy(name, argv[i], n) ; name[n] = 0 ;
    if (!routes_find(&routes, name)) strerr_dief3x(EX_USAGE, "no route named ", name, " in control/routes") ;
    if (argv[i][n]) account(name, argv[i] + n + 1) ;
    else route_accounts(name) ;
  }
  return worst ;
}
