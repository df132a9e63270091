/* mm-qctl: lists the queue (mailq) and removes messages from it (mailrm).
   Setuid the queue owner in an install: it trusts only the real uid and
   the compiled-in home, and takes queue ids as plain numbers. */

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
#include "trigger.h"
#include "users.h"

#define USAGE "mm-qctl -l | mm-qctl -r id ..."
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

/* ---- listing ---- */

static aliasdb aliases = ALIASDB_ZERO ;
static int aliases_ok = 0 ;

/* The state of one envelope recipient, from the journal records of the
   targets it leads to (as mm-send expands it). */
static void rcptstate (qfile const *q, char const *rcpt)
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
  }
  cat("\n") ;
}

typedef struct entry_s entry ;
struct entry_s
{
  uint64_t id ;
  uint64_t arrival ;
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
    catu(id) ; cat("  (unreadable queue file: malformed)\n") ;
  }
  else
  {
    e->arrival = q.arrival ;
    catu(id) ; cat("  ") ;
    catage(now > q.arrival ? now - q.arrival : 0) ; cat("  ") ;
    catu(q.messlen) ; cat(" bytes  from <") ;
    cat(qfile_str(&q, q.sender)) ; cat(">") ;
    if (qfile_hasflag(&q, 'q')) cat("  held until a queue run") ;
    if (qfile_hasflag(&q, 'b') || qfile_hasflag(&q, '2')) cat("  bounce") ;
    else if (qfile_hasflag(&q, 'w')) cat("  delay warning") ;
    if (q.removed_by) { cat("  removal requested by uid ") ; catu(q.removed_by - 1) ; }
    cat("\n") ;
    for (size_t i = 0 ; i < qfile_nrcpts(&q) ; i++) rcptstate(&q, qfile_rcpt(&q, i)) ;
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
    char fmt[SIZE_FMT] ;
    fmt[size_fmt(fmt, n)] = 0 ;
    if (buffer_puts(buffer_1, fmt) < 0
     || buffer_puts(buffer_1, n == 1 ? " message in the queue\n" : " messages in the queue\n") < 0
     || !buffer_flush(buffer_1)) strerr_diefusys(EX_TEMPFAIL, "write to stdout") ;
  }
  genalloc_free(entry, &entries) ;
  return 0 ;
}

/* ---- removing ---- */

static int lockfd = -1 ;
static int havelock = 0 ;

/* The owner of a private instance may remove anything from it. */
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

static void removemsg (char const *id, uid_t uid, int owner)
{
  qfile q = QFILE_ZERO ;
  stralloc mess = STRALLOC_ZERO ;
  stralloc todo = STRALLOC_ZERO ;
  int fd, r ;
  if (!id_valid(id)) strerr_dief(EX_USAGE, "msg ", id, ": not a queue id") ;
  if (!stralloc_cats(&mess, "queue/mess/") || !stralloc_cats(&mess, id) || !stralloc_0(&mess)
   || !stralloc_cats(&todo, "queue/todo/") || !stralloc_cats(&todo, id) || !stralloc_0(&todo)) dienomem() ;
  fd = open(mess.s, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) ;
  if (fd < 0)
  {
    if (errno == ENOENT) strerr_dief(EX_NOUSER, "msg ", id, ": not in the queue") ;
    strerr_diefusys(EX_TEMPFAIL, "open ", mess.s) ;
  }
  r = qfile_read(fd, &q) ;
  if (r < 0) strerr_diefusys(EX_TEMPFAIL, "read ", mess.s) ;
  if (!r) strerr_dief(EX_DATAERR, "msg ", id, ": malformed queue file") ;
  if (uid && (uint64_t)uid != q.uid && !owner) strerr_dief(EX_NOPERM, "msg ", id, ": not yours") ;

  if (!havelock && lockfd >= 0)
  {
    r = fd_lock(lockfd, 1, 1) ;
    if (r < 0) strerr_diefusys(EX_TEMPFAIL, "lock queue/lock/send") ;
    havelock = r ;
  }
  if (havelock)
  {
    /* no queue runner: the message goes now; todo first, so that a
       crash never leaves a notification without its message */
    if (unlink(todo.s) < 0 && errno != ENOENT) strerr_diefusys(EX_TEMPFAIL, "unlink ", todo.s) ;
    if (unlink(mess.s) < 0) strerr_diefusys(EX_TEMPFAIL, "unlink ", mess.s) ;
    syncdir("queue/mess") ;
  }
  else
  {
    /* the running queue runner owns the message: ask it to drop it */
    char fmt[UINT64_FMT] ;
    fmt[uint64_fmt(fmt, uid)] = 0 ;
    if (!qfile_append(fd, &q, 'x', fmt, 0, 1)) strerr_diefusys(EX_TEMPFAIL, "append to ", mess.s) ;
    if (link(mess.s, todo.s) < 0 && errno != EEXIST) strerr_diefusys(EX_TEMPFAIL, "link ", mess.s, " to ", todo.s) ;
    trigger_pull(TRIGGER_NEW) ;
  }
  close(fd) ;
  qfile_free(&q) ;
  stralloc_free(&mess) ;
  stralloc_free(&todo) ;
  if (buffer_puts(buffer_1, "msg ") < 0 || buffer_puts(buffer_1, id) < 0 || buffer_putsflush(buffer_1, " removed\n") < 0)
    strerr_diefusys(EX_TEMPFAIL, "write to stdout") ;
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
    int opt = subgetopt_r(argc, argv, "lr", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'l' : case 'r' : what = opt ; break ;
      default : dieusage() ;
    }
  }
  argc -= l.ind ; argv += l.ind ;
  mm_chdir_home() ;
  if (what == 'l') return list() ;
  if (what != 'r' || !argc) dieusage() ;
  {
    uid_t uid = getuid() ;
    int owner = instance_owner() ;
    /* a lock we cannot open: act as if a runner held it (the journal way) */
    lockfd = open("queue/lock/send", O_RDWR | O_CLOEXEC) ;
    for (int i = 0 ; i < argc ; i++) removemsg(argv[i], uid, owner) ;
  }
  return 0 ;
}
