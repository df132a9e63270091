/* mm-qctl: lists the queue (mailq), prints a queued message, and holds,
   releases, requeues and removes messages (mailrm). Setuid the queue
   owner in an install: it trusts only the real uid and the compiled-in
   home, and takes queue ids as plain numbers. mm-send owns the queue's
   state: every change but an unlink without a runner is a journal record
   (h, H, x) and a poke of the trigger (INTERNALS 3.2). */

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
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
#include "usage.h"
#include "queuefile.h"
#include "route.h"
#include "trigger.h"
#include "users.h"

#define USAGE "mm-qctl -l | mm-qctl -c id | mm-qctl -r|-h|-H|-q [ -f sender | -t recipient ] id ... | ALL"
#define dieusage() strerr_dieusage(EX_USAGE, USAGE)
#define dienomem() strerr_diefusys(EX_TEMPFAIL, "allocate memory")

#define QUEUE_ID_MAX 20  /* decimal digits of a 64-bit inode number */

static stralloc out = STRALLOC_ZERO ;

static void cat (char const *s)
{
  if (!stralloc_cats(&out, s)) dienomem() ;
}

static void catu (uint64_t u)
{
  char fmt[UINT64_FMT] ;
  if (!stralloc_catb(&out, fmt, uint64_fmt(fmt, u))) dienomem() ;
}

static int id_valid (char const *s)
{
  size_t len = strlen(s) ;
  if (!len || len > QUEUE_ID_MAX) return 0 ;
  for (size_t i = 0 ; i < len ; i++) if (s[i] < '0' || s[i] > '9') return 0 ;
  return 1 ;
}

/* "45s", "5m", "2h13m", "3d4h" */
static void catage (uint64_t secs)
{
  if (secs < 60) { catu(secs) ; cat("s") ; }
  else if (secs < 3600) { catu(secs / 60) ; cat("m") ; }
  else if (secs < 86400)
  {
    catu(secs / 3600) ; cat("h") ;
    if (secs % 3600 / 60) { catu(secs % 3600 / 60) ; cat("m") ; }
  }
  else
  {
    catu(secs / 86400) ; cat("d") ;
    if (secs % 86400 / 3600) { catu(secs % 86400 / 3600) ; cat("h") ; }
  }
}

/* "2026-12-02 03:15:02 +0100": local time with its offset */
static void catdate (uint64_t t)
{
  char buf[64] ;
  time_t tt = (time_t)t ;
  struct tm tm ;
  if (!localtime_r(&tt, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z", &tm)) { catu(t) ; return ; }
  cat(buf) ;
}

/* ---- listing ---- */

static void catnext (qfile const *, int, int, uint64_t) ;

/* the routes, to tell mail that waits for one from mail no route may
   carry (as mm-check says); 0 when they cannot be read */
static genalloc routes = GENALLOC_ZERO ;  /* route */
static int routes_ok = 0 ;

static int routable (char const *rcpt, char const *sender)
{
  route const *r = genalloc_s(route, &routes) ;
  if (!routes_ok) return 1 ;
  for (size_t i = 0 ; i < genalloc_len(route, &routes) ; i++)
    if (!r[i].broken && route_serves(r + i, rcpt) && route_allows_sender(r + i, sender)) return 1 ;
  return 0 ;
}
static aliasdb aliases = ALIASDB_ZERO ;
static int aliases_ok = 0 ;

/* The state of one envelope recipient, from the journal records of the
   targets it leads to (as mm-send expands it). */
static void rcptstate (qfile const *q, char const *rcpt, uint64_t now)
{
  size_t len = strlen(rcpt), at = address_at(rcpt, len) ;
  int local = at < len && control_islocal(rcpt + at + 1, len - at - 1) ;
  stralloc names = STRALLOC_ZERO ;  /* targets, NUL-terminated */
  qrecord const *failed = 0, *deferred = 0 ;
  unsigned int ntargets = 0, ndone = 0, nknown = 0 ;

  if (local && aliases_ok)
  {
    genalloc res = GENALLOC_ZERO ;
    stralloc rs = STRALLOC_ZERO ;
    stralloc lp = STRALLOC_ZERO ;
    if (!stralloc_catb(&lp, rcpt, at) || !stralloc_0(&lp)) dienomem() ;
    if (alias_expand(&aliases, lp.s, &users_exists, &res, &rs) > 0)
      for (size_t k = 0 ; k < genalloc_len(aliasresult, &res) ; k++)
        if (!stralloc_cats(&names, rs.s + genalloc_s(aliasresult, &res)[k].target) || !stralloc_0(&names)) dienomem() ;
    genalloc_free(aliasresult, &res) ;
    stralloc_free(&rs) ;
    stralloc_free(&lp) ;
  }
  if (!names.len)
  {
    /* no alias information: the user's own target, or the remote one */
    size_t start = names.len ;
    if (!stralloc_catb(&names, local ? "u" : "r", 1) || !stralloc_catb(&names, rcpt, local ? at : len) || !stralloc_0(&names)) dienomem() ;
    if (local)
      for (size_t i = start + 1 ; i < names.len ; i++)
        if (names.s[i] >= 'A' && names.s[i] <= 'Z') names.s[i] += 'a' - 'A' ;
  }
  for (size_t i = 0 ; i < names.len ; i += strlen(names.s + i) + 1)
  {
    qrecord const *r = qfile_record(q, names.s + i) ;
    ntargets++ ;
    if (!r) continue ;
    nknown++ ;
    if (r->state == TARGET_DONE) ndone++ ;
    else if (r->state == TARGET_FAILED) { if (!failed) failed = r ; }
    else if (r->hastext && !deferred) deferred = r ;
  }
  stralloc_free(&names) ;

  cat("    ") ;
  cat(rcpt) ;
  cat(": ") ;
  if (failed)
  {
    cat("failed") ;
    if (failed->hastext) { cat(": ") ; cat(qfile_str(q, failed->text)) ; }
  }
  else if (ntargets && ndone == ntargets) cat("delivered") ;
  else
  {
    cat(local ? "pending" : "waiting for a connection") ;
    if (ndone) { cat(" (") ; catu(ndone) ; cat(" of ") ; catu(ntargets) ; cat(" targets delivered)") ; }
    if (deferred) { cat(": ") ; cat(qfile_str(q, deferred->text)) ; }
    if (!local && !routable(rcpt, qfile_str(q, q->sender))) cat("; next attempt: none: no route may carry it (mm-check(8) tells more)") ;
    else catnext(q, local, !!deferred, now) ;
  }
  cat("\n") ;
}

/* The next attempt, as mm-send schedules it (job_settle, attempt) */
static void catnext (qfile const *q, int local, int deferred, uint64_t now)
{
  cat("; next attempt: ") ;
  if (q->held_by) cat("none while held (mm-qctl -H releases it)") ;
  else if (qfile_hasflag(q, 'q') && !q->released) cat("at the next queue run (sendmail -q)") ;
  else if (deferred) { catdate(qfile_next_retry(q->arrival, now)) ; if (!local) cat(", when a route that may carry it is up") ; }
  else cat(local ? "now" : "when a route that may carry it is up") ;
}

typedef struct entry_s entry ;
struct entry_s
{
  uint64_t id ;
  uint64_t arrival ;
  uint64_t size ;
  int held ;
  size_t text ;   /* offset in out */
  size_t len ;
} ;

static int entry_cmp (void const *a, void const *b)
{
  entry const *x = a, *y = b ;
  if (x->arrival != y->arrival) return x->arrival < y->arrival ? -1 : 1 ;
  return x->id < y->id ? -1 : x->id > y->id ;
}

/* One message's lines into out; 0 if it vanished meanwhile. */
static int describe (char const *name, uint64_t id, uint64_t now, entry *e)
{
  qfile q = QFILE_ZERO ;
  stralloc path = STRALLOC_ZERO ;
  int fd, r ;
  if (!stralloc_cats(&path, "queue/mess/") || !stralloc_cats(&path, name) || !stralloc_0(&path)) dienomem() ;
  /* setuid: a message file is never a link (queue/mess is written by
     the queue roles only, but nothing there is taken on trust) */
  fd = open(path.s, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) ;
  if (fd < 0)
  {
    if (errno == ENOENT) { stralloc_free(&path) ; return 0 ; }  /* delivered while we looked */
    strerr_diefusys(EX_TEMPFAIL, "open ", path.s) ;
  }
  r = qfile_read(fd, &q) ;
  close(fd) ;
  e->id = id ;
  e->text = out.len ;
  if (r <= 0)
  {
    if (r < 0) strerr_diefusys(EX_TEMPFAIL, "read ", path.s) ;
    e->arrival = 0 ;
    e->size = 0 ;
    e->held = 0 ;
    catu(id) ; cat("  (unreadable queue file: malformed)\n") ;
  }
  else
  {
    e->arrival = q.arrival ;
    e->size = q.messlen ;
    e->held = q.held_by || (qfile_hasflag(&q, 'q') && !q.released) ;
    catu(id) ; cat("  ") ;
    catage(now > q.arrival ? now - q.arrival : 0) ; cat("  ") ;
    catu(q.messlen) ; cat(" bytes  from <") ;
    cat(qfile_str(&q, q.sender)) ; cat(">  arrived ") ;
    catdate(q.arrival) ;
    if (q.held_by) { cat("  held by uid ") ; catu(q.held_by - 1) ; }
    else if (qfile_hasflag(&q, 'q') && !q.released) cat("  held until a queue run") ;
    if (qfile_hasflag(&q, 'b') || qfile_hasflag(&q, '2')) cat("  bounce") ;
    else if (qfile_hasflag(&q, 'w')) cat("  delay warning") ;
    if (q.removed_by) { cat("  removal requested by uid ") ; catu(q.removed_by - 1) ; }
    cat("\n") ;
    for (size_t i = 0 ; i < qfile_nrcpts(&q) ; i++) rcptstate(&q, qfile_rcpt(&q, i), now) ;
  }
  e->len = out.len - e->text ;
  qfile_free(&q) ;
  stralloc_free(&path) ;
  return 1 ;
}

static int list (void)
{
  genalloc entries = GENALLOC_ZERO ;  /* entry */
  DIR *dir ;
  uint64_t now = time(0) ;
  size_t n ;
  {
    unsigned int line ;
    char const *why ;
    aliases_ok = aliasdb_load(&aliases, "control/aliases", &line, &why) > 0 ;
    routes_ok = routes_load(&routes, &why) > 0 ;
  }
  dir = opendir("queue/mess") ;
  if (!dir) strerr_diefusys(EX_TEMPFAIL, "open queue/mess") ;
  for (;;)
  {
    struct dirent *d ;
    uint64_t id ;
    entry e ;
    errno = 0 ;
    d = readdir(dir) ;
    if (!d) break ;
    if (!id_valid(d->d_name) || !uint64_scan(d->d_name, &id)) continue ;
    if (describe(d->d_name, id, now, &e) && !genalloc_append(entry, &entries, &e)) dienomem() ;
  }
  if (errno) strerr_diefusys(EX_TEMPFAIL, "read queue/mess") ;
  closedir(dir) ;
  n = genalloc_len(entry, &entries) ;
  if (!n)
  {
    if (buffer_putsflush(buffer_1, "mail queue is empty\n") < 0) strerr_diefusys(EX_TEMPFAIL, "write to stdout") ;
    return 0 ;
  }
  qsort(genalloc_s(entry, &entries), n, sizeof(entry), &entry_cmp) ;
  for (size_t i = 0 ; i < n ; i++)
  {
    entry const *e = genalloc_s(entry, &entries) + i ;
    if (buffer_put(buffer_1, out.s + e->text, e->len) < 0) strerr_diefusys(EX_TEMPFAIL, "write to stdout") ;
  }
  {
    /* the totals start with "--": a message line starts with its id,
       a recipient line with spaces */
    uint64_t bytes = 0, held = 0 ;
    for (size_t i = 0 ; i < n ; i++)
    {
      bytes += genalloc_s(entry, &entries)[i].size ;
      held += genalloc_s(entry, &entries)[i].held ;
    }
    out.len = 0 ;
    cat("-- ") ; catu(n) ; cat(n == 1 ? " message, " : " messages, ") ;
    catu(bytes) ; cat(" bytes in the queue, ") ; catu(held) ; cat(" held\n") ;
    if (buffer_put(buffer_1, out.s, out.len) < 0 || !buffer_flush(buffer_1)) strerr_diefusys(EX_TEMPFAIL, "write to stdout") ;
  }
  genalloc_free(entry, &entries) ;
  return 0 ;
}

/* ---- changing: remove, hold, release, requeue ---- */

static int lockfd = -1 ;
static int havelock = 0 ;
static uid_t caller ;
static int owner ;  /* the owner of a private instance may change anything in it */

/* Which messages: the ids given, ALL, or those of one sender or recipient */
static char const *want_sender = 0, *want_rcpt = 0 ;

static int instance_owner (void)
{
  struct stat st ;
  return mm_is_instance() && stat("control/instance", &st) == 0 && st.st_uid == getuid() ;
}

static void syncdir (char const *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  if (fd < 0 || fsync(fd) < 0) strerr_diefusys(EX_TEMPFAIL, "sync ", dir) ;
  close(fd) ;
}

static int selected (qfile const *q)
{
  if (want_sender && strcasecmp(qfile_str(q, q->sender), want_sender)) return 0 ;
  if (want_rcpt)
  {
    for (size_t i = 0 ; i < qfile_nrcpts(q) ; i++)
      if (!strcasecmp(qfile_rcpt(q, i), want_rcpt)) return 1 ;
    return 0 ;
  }
  return 1 ;
}

static int permitted (qfile const *q)
{
  return !caller || (uint64_t)caller == q->uid || owner ;
}

/* Removal: unlinked now when no queue runner is active, else an x
   record for the runner, which owns the message. */
static void do_remove (int fd, qfile *q, char const *mess, char const *todo)
{
  int r ;
  if (!havelock && lockfd >= 0)
  {
    r = fd_lock(lockfd, 1, 1) ;
    if (r < 0) strerr_diefusys(EX_TEMPFAIL, "lock queue/lock/send") ;
    havelock = r ;
  }
  if (havelock)
  {
    /* todo first, so that a crash never leaves a notification without its message */
    if (unlink(todo) < 0 && errno != ENOENT) strerr_diefusys(EX_TEMPFAIL, "unlink ", todo) ;
    if (unlink(mess) < 0) strerr_diefusys(EX_TEMPFAIL, "unlink ", mess) ;
    syncdir("queue/mess") ;
    return ;
  }
  {
    char fmt[UINT64_FMT] ;
    fmt[uint64_fmt(fmt, caller)] = 0 ;
    if (!qfile_append(fd, q, 'x', fmt, 0, 1)) strerr_diefusys(EX_TEMPFAIL, "append to ", mess) ;
  }
  if (link(mess, todo) < 0 && errno != EEXIST) strerr_diefusys(EX_TEMPFAIL, "link ", mess, " to ", todo) ;
  trigger_pull(TRIGGER_NEW) ;
}

/* Hold (h), release (H) or requeue: a journal record if any, then the
   message is announced in todo/ so that a runner looks at it now. */
static void do_mark (int fd, qfile *q, char kind, char const *mess, char const *todo)
{
  if (kind)
  {
    char fmt[UINT64_FMT] ;
    fmt[uint64_fmt(fmt, caller)] = 0 ;
    if (!qfile_append(fd, q, kind, fmt, 0, 1)) strerr_diefusys(EX_TEMPFAIL, "append to ", mess) ;
  }
  if (link(mess, todo) < 0 && errno != EEXIST) strerr_diefusys(EX_TEMPFAIL, "link ", mess, " to ", todo) ;
  trigger_pull(TRIGGER_NEW) ;
}

static char const *done_word (char op)
{
  return op == 'r' ? " removed" : op == 'h' ? " held" : op == 'H' ? " released" : " requeued" ;
}

/* One message; quiet: part of ALL or a selection, where a message that
   left meanwhile, is not the caller's, or does not match is skipped.
   1 changed, 0 skipped. */
static int change (char const *id, char op, int quiet)
{
  qfile q = QFILE_ZERO ;
  stralloc mess = STRALLOC_ZERO ;
  stralloc todo = STRALLOC_ZERO ;
  int fd, r, changed = 0 ;
  if (!id_valid(id)) strerr_dief(EX_USAGE, "msg ", id, ": not a queue id") ;
  if (!stralloc_cats(&mess, "queue/mess/") || !stralloc_cats(&mess, id) || !stralloc_0(&mess)
   || !stralloc_cats(&todo, "queue/todo/") || !stralloc_cats(&todo, id) || !stralloc_0(&todo)) dienomem() ;
  fd = open(mess.s, O_RDWR | O_NOFOLLOW | O_CLOEXEC) ;
  if (fd < 0)
  {
    if (errno != ENOENT) strerr_diefusys(EX_TEMPFAIL, "open ", mess.s) ;
    if (!quiet) strerr_dief(EX_NOUSER, "msg ", id, ": not in the queue") ;
    goto end ;
  }
  r = qfile_read(fd, &q) ;
  if (r < 0) strerr_diefusys(EX_TEMPFAIL, "read ", mess.s) ;
  if (!r) { if (quiet) goto end ; strerr_dief(EX_DATAERR, "msg ", id, ": malformed queue file") ; }
  if (!permitted(&q)) { if (quiet) goto end ; strerr_dief(EX_NOPERM, "msg ", id, ": not yours") ; }
  if (!selected(&q)) { if (quiet) goto end ; strerr_dief(EX_NOUSER, "msg ", id, ": does not match the sender or recipient given") ; }
  if (op == 'r') do_remove(fd, &q, mess.s, todo.s) ;
  else do_mark(fd, &q, op == 'q' ? 0 : op, mess.s, todo.s) ;
  changed = 1 ;
  if (buffer_puts(buffer_1, "msg ") < 0 || buffer_puts(buffer_1, id) < 0 || buffer_putsflush(buffer_1, done_word(op)) < 0
   || buffer_putsflush(buffer_1, "\n") < 0) strerr_diefusys(EX_TEMPFAIL, "write to stdout") ;
 end:
  if (fd >= 0) close(fd) ;
  qfile_free(&q) ;
  stralloc_free(&mess) ;
  stralloc_free(&todo) ;
  return changed ;
}

/* ALL, or every message of -f/-t: each message the caller may change */
static void change_all (char op)
{
  genalloc ids = GENALLOC_ZERO ;  /* uint64_t: read first, the directory changes under us */
  uint64_t n = 0 ;
  DIR *dir = opendir("queue/mess") ;
  if (!dir) strerr_diefusys(EX_TEMPFAIL, "open queue/mess") ;
  for (;;)
  {
    struct dirent *d ;
    uint64_t id ;
    errno = 0 ;
    d = readdir(dir) ;
    if (!d) break ;
    if (!id_valid(d->d_name) || !uint64_scan(d->d_name, &id)) continue ;
    if (!genalloc_append(uint64_t, &ids, &id)) dienomem() ;
  }
  if (errno) strerr_diefusys(EX_TEMPFAIL, "read queue/mess") ;
  closedir(dir) ;
  for (size_t i = 0 ; i < genalloc_len(uint64_t, &ids) ; i++)
  {
    char fmt[UINT64_FMT] ;
    fmt[uint64_fmt(fmt, genalloc_s(uint64_t, &ids)[i])] = 0 ;
    n += change(fmt, op, 1) ;
  }
  genalloc_free(uint64_t, &ids) ;
  out.len = 0 ;
  cat("-- ") ; catu(n) ; cat(n == 1 ? " message" : " messages") ; cat(done_word(op)) ; cat("\n") ;
  if (buffer_put(buffer_1, out.s, out.len) < 0 || !buffer_flush(buffer_1)) strerr_diefusys(EX_TEMPFAIL, "write to stdout") ;
}

/* ---- printing one message with its envelope (postcat -q) ---- */

static void put (char const *s, size_t len)
{
  if (buffer_put(buffer_1, s, len) < 0) strerr_diefusys(EX_TEMPFAIL, "write to stdout") ;
}

/* bytes [from, from+len) of the queue file to stdout */
static void copy (int fd, off_t from, uint64_t len, char const *path)
{
  char buf[8192] ;
  while (len)
  {
    ssize_t r = pread(fd, buf, len < sizeof buf ? len : sizeof buf, from) ;
    if (r < 0) strerr_diefusys(EX_TEMPFAIL, "read ", path) ;
    if (!r) break ;
    put(buf, r) ;
    from += r ; len -= r ;
  }
}

static int show (char const *id)
{
  qfile q = QFILE_ZERO ;
  stralloc path = STRALLOC_ZERO ;
  struct stat st ;
  int fd, r ;
  if (!id_valid(id)) strerr_dief(EX_USAGE, "msg ", id, ": not a queue id") ;
  if (!stralloc_cats(&path, "queue/mess/") || !stralloc_cats(&path, id) || !stralloc_0(&path)) dienomem() ;
  fd = open(path.s, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) ;
  if (fd < 0)
  {
    if (errno == ENOENT) strerr_dief(EX_NOUSER, "msg ", id, ": not in the queue") ;
    strerr_diefusys(EX_TEMPFAIL, "open ", path.s) ;
  }
  r = qfile_read(fd, &q) ;
  if (r < 0) strerr_diefusys(EX_TEMPFAIL, "read ", path.s) ;
  if (!r) strerr_dief(EX_DATAERR, "msg ", id, ": malformed queue file") ;
  /* the content is the sender's and the recipients' business only */
  if (!permitted(&q)) strerr_dief(EX_NOPERM, "msg ", id, ": not yours") ;
  if (fstat(fd, &st) < 0) strerr_diefusys(EX_TEMPFAIL, "stat ", path.s) ;
  out.len = 0 ;
  cat("*** ENVELOPE ") ; cat(path.s) ; cat(" ***\n") ;
  cat("queue id: ") ; cat(id) ; cat("\n") ;
  if (q.key != (size_t)-1) { cat("name: ") ; cat(qfile_str(&q, q.key)) ; cat("\n") ; }
  cat("arrival: ") ; catdate(q.arrival) ; cat("\n") ;
  cat("size: ") ; catu(q.messlen) ; cat(" bytes\n") ;
  cat("uid: ") ; catu(q.uid) ; cat("\n") ;
  if (q.host != (size_t)-1) { cat("received from: ") ; cat(qfile_str(&q, q.host)) ; cat("\n") ; }
  if (*qfile_str(&q, q.flags)) { cat("flags: ") ; cat(qfile_str(&q, q.flags)) ; cat("\n") ; }
  cat("sender: <") ; cat(qfile_str(&q, q.sender)) ; cat(">\n") ;
  for (size_t i = 0 ; i < qfile_nrcpts(&q) ; i++) { cat("recipient: ") ; cat(qfile_rcpt(&q, i)) ; cat("\n") ; }
  cat("*** MESSAGE ***\n") ;
  put(out.s, out.len) ;
  copy(fd, MESS_HEADER_LEN, q.messlen, path.s) ;
  out.len = 0 ;
  cat("*** ENVELOPE AND JOURNAL AS STORED ***\n") ;
  put(out.s, out.len) ;
  copy(fd, q.envstart, st.st_size - q.envstart, path.s) ;
  if (buffer_putsflush(buffer_1, "*** END ***\n") < 0) strerr_diefusys(EX_TEMPFAIL, "write to stdout") ;
  close(fd) ;
  qfile_free(&q) ;
  stralloc_free(&path) ;
  return 0 ;
}

int main (int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  int what = 0 ;
  PROG = "mm-qctl" ;
  usage_help(argc, argv, USAGE) ;
  privs_init() ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "lcrhHqf:t:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'l' : case 'c' : case 'r' : case 'h' : case 'H' : case 'q' : what = opt ; break ;
      case 'f' : want_sender = l.arg ; break ;
      case 't' : want_rcpt = l.arg ; break ;
      default : dieusage() ;
    }
  }
  argc -= l.ind ; argv += l.ind ;
  mm_chdir_home() ;
  caller = getuid() ;
  owner = instance_owner() ;
  if (what == 'l') return list() ;
  if (what == 'c') { if (argc != 1) dieusage() ; return show(argv[0]) ; }
  if (!what) dieusage() ;
  if (want_sender && !strcmp(want_sender, "<>")) want_sender = "" ;
  if (!argc && !want_sender && !want_rcpt) dieusage() ;
  /* a lock we cannot open: act as if a runner held it (the journal way) */
  if (what == 'r') lockfd = open("queue/lock/send", O_RDWR | O_CLOEXEC) ;
  if (!argc || (argc == 1 && !strcmp(argv[0], "ALL"))) change_all(what) ;
  else for (int i = 0 ; i < argc ; i++) change(argv[i], what, 0) ;
  return 0 ;
}
