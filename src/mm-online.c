/* mm-online: tells mm-send which named connection is up, or that none
   is, and shows what waits for each route. Run by root (ip-up, ip-down,
   a NetworkManager dispatcher, cron), a member of the online group, or a
   private instance's owner. An install makes queue/online writable by
   the online group; mm-online itself has no privilege. Its only power
   is creating and removing queue/online/NAME and pulling the trigger.
   Root runs it too, so nothing in queue/online is opened by name but
   through statefile.h (a new file, never a planted link or fifo); the
   progress files it reads are mm-send's, in queue/flush, which only the
   send user can write. */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <skalibs/buffer.h>
#include <skalibs/direntry.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <sys/inotify.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "control.h"
#include "flushwake.h"
#include "home.h"
#include "privs.h"
#include "usage.h"
#include "queuefile.h"
#include "rfc822.h"
#include "route.h"
#include "statefile.h"
#include "trigger.h"
#include "users_conf.h"

#define USAGE "mm-online [ NAME | --wait [--timeout SECS] NAME | -d | down | --detect ]"

#define WAIT_DEFAULT 3600        /* seconds --wait waits at most */
#define WAIT_POLL_MS 200         /* how often --wait reads the progress file */
#define WAIT_WATCH_MS 5000       /* the same with a wake-up, in case one is missed */
#define DETECT_TIMEOUT 30        /* seconds an onlinequery command may take */
#define FLUSH_SUFFIX ".flush"     /* progress files of old versions, in queue/online */
#define EX_FAILED EX_DATAERR     /* --wait: a message failed for good */

static genalloc routes = GENALLOC_ZERO ;

static void nomem (void) gccattr_noreturn ;
static void nomem (void)
{
  strerr_diefu1sys(EX_TEMPFAIL, "allocate memory") ;
}

static void load_routes (void)
{
  char const *why = "" ;
  int r = routes_load(&routes, &why) ;
  if (r < 0) strerr_diefu1sys(EX_TEMPFAIL, "read control/routes") ;
  if (!r) strerr_dief2x(EX_CONFIG, "control/routes: ", why) ;
}

/* Root, a member of the online group, or a private instance's owner. */
static void check_permission (void)
{
  char const *groupname = users_conf_name(USERS_ONLINEGROUP) ;
  struct group *g ;
  uid_t uid = getuid() ;
  if (!uid) return ;
  if (mm_is_instance())
  {
    stralloc path = STRALLOC_ZERO ;
    struct stat st ;
    if (!mm_path(&path, "control/instance")) nomem() ;
    if (stat(path.s, &st) == 0 && st.st_uid == uid) { stralloc_free(&path) ; return ; }
    stralloc_free(&path) ;
  }
  g = getgrnam(groupname) ;
  if (g)
  {
    gid_t list[NGROUPS_MAX + 1] ;
    int n = getgroups(NGROUPS_MAX + 1, list) ;
    /* the real group only: a setgid mm-online must not let everyone in */
    if (getgid() == g->gr_gid) return ;
    for (int i = 0 ; i < n ; i++) if (list[i] == g->gr_gid) return ;
  }
  strerr_dief3x(EX_NOPERM, "only root, members of the group ", groupname, " or the instance's owner may change the online state") ;
}

static void online_path (stralloc *sa, char const *name, char const *suffix)
{
  stralloc rel = STRALLOC_ZERO ;
  if (!stralloc_cats(&rel, "queue/online/") || !stralloc_cats(&rel, name) || !stralloc_cats(&rel, suffix)
   || !stralloc_0(&rel) || !mm_path(sa, rel.s)) nomem() ;
  stralloc_free(&rel) ;
}

/* queue/flush/NAME: mm-send's progress of the flush of route NAME */
static void flush_path (stralloc *sa, char const *name)
{
  stralloc rel = STRALLOC_ZERO ;
  if (!stralloc_cats(&rel, FLUSH_DIR "/") || !stralloc_cats(&rel, name)
   || !stralloc_0(&rel) || !mm_path(sa, rel.s)) nomem() ;
  stralloc_free(&rel) ;
}

static void online_dir (void)
{
  stralloc sa = STRALLOC_ZERO ;
  if (!mm_path(&sa, "queue/online")) nomem() ;
  if (mkdir(sa.s, 0755) < 0 && errno != EEXIST) strerr_diefu2sys(EX_TEMPFAIL, "create ", sa.s) ;
  stralloc_free(&sa) ;
}

static route *named (char const *name)
{
  route *r = routes_find(&routes, name) ;
  if (!r) strerr_dief3x(EX_USAGE, "no route named ", name, " in control/routes") ;
  return r ;
}

/* queue/online/NAME, made durable: mm-send may start after a crash */
static void mark_up (route const *r)
{
  stralloc path = STRALLOC_ZERO, tmp = STRALLOC_ZERO, dir = STRALLOC_ZERO ;
  char stamp[UINT64_FMT + 1] ;
  size_t n ;
  if (r->permanent) return ;
  online_dir() ;
  online_path(&path, r->name.s, "") ;
  online_path(&tmp, r->name.s, ".tmp") ;
  if (!mm_path(&dir, "queue/online")) nomem() ;
  n = uint64_fmt(stamp, (uint64_t)time(0)) ;
  stamp[n++] = '\n' ;
  /* the online group may have planted NAME.tmp (as a link to a file of
     root's): only a new file of ours is written */
  if (!statefile_write(dir.s, path.s, tmp.s, stamp, n, 0644, 1))
    strerr_diefu2sys(EX_TEMPFAIL, "create ", path.s) ;
  stralloc_free(&path) ; stralloc_free(&tmp) ; stralloc_free(&dir) ;
}

static void mark_down (route const *r)
{
  stralloc path = STRALLOC_ZERO ;
  online_path(&path, r->name.s, "") ;
  if (unlink(path.s) < 0 && errno != ENOENT) strerr_diefu2sys(EX_TEMPFAIL, "remove ", path.s) ;
  stralloc_free(&path) ;
}

/* Every queue/online/NAME goes, configured or not (a route may have been
   removed while it was up); mm-send's progress files stay. */
static void all_down (void)
{
  stralloc dir = STRALLOC_ZERO, path = STRALLOC_ZERO ;
  DIR *d ;
  if (!mm_path(&dir, "queue/online")) nomem() ;
  d = opendir(dir.s) ;
  if (!d)
  {
    if (errno == ENOENT) { stralloc_free(&dir) ; return ; }
    strerr_diefu2sys(EX_TEMPFAIL, "open ", dir.s) ;
  }
  for (;;)
  {
    direntry *de ;
    size_t len ;
    errno = 0 ;
    de = readdir(d) ;
    if (!de) { if (errno) strerr_diefu2sys(EX_TEMPFAIL, "read ", dir.s) ; break ; }
    len = strlen(de->d_name) ;
    if (de->d_name[0] == '.') continue ;
    if (len > sizeof(FLUSH_SUFFIX) - 1 && !strcmp(de->d_name + len - (sizeof(FLUSH_SUFFIX) - 1), FLUSH_SUFFIX)) continue ;
    if (!route_name_valid(de->d_name)) continue ;
    online_path(&path, de->d_name, "") ;
    if (unlink(path.s) < 0 && errno != ENOENT) strerr_diefu2sys(EX_TEMPFAIL, "remove ", path.s) ;
  }
  dir_close(d) ;
  stralloc_free(&dir) ;
  stralloc_free(&path) ;
}

/* ------------------------------------------------------------ POP3 */

static pid_t fetcher = 0 ;   /* mm-pop3fetch NAME, alongside the flush */
static int fetchcode = -1 ;  /* its result: 0 fetched, 75 not, -1 no fetch */

/* Start mm-pop3fetch when the route has POP3 accounts (mm-pop3fetch(8)). */
static void fetch_start (route const *r)
{
  stralloc rel = STRALLOC_ZERO, path = STRALLOC_ZERO ;
  char const *argv[3] = { "mm-pop3fetch", r->name.s, 0 } ;
  struct stat st ;
  if (!route_file(&rel, r, "pop3") || !mm_path(&path, rel.s)) nomem() ;
  if (stat(path.s, &st) == 0 && S_ISDIR(st.st_mode))
  {
    if (!mm_path(&path, "bin/mm-pop3fetch")) nomem() ;
    fetcher = fork() ;
    if (fetcher < 0) { strerr_warnwu1sys("fork for mm-pop3fetch") ; fetcher = 0 ; fetchcode = EX_TEMPFAIL ; }
    else if (!fetcher)
    {
      execv(path.s, (char *const *)argv) ;
      strerr_diefu2sys(EX_TEMPFAIL, "exec ", path.s) ;
    }
  }
  stralloc_free(&rel) ; stralloc_free(&path) ;
}

static int fetch_wait (void)
{
  int wstat ;
  if (!fetcher) return fetchcode ;
  fetchcode = wait_pid(fetcher, &wstat) == fetcher && WIFEXITED(wstat) && !WEXITSTATUS(wstat) ? 0 : EX_TEMPFAIL ;
  fetcher = 0 ;
  return fetchcode ;
}

/* The queue pass here: bin/mm-send -1 with its standard error on a pipe
   that is copied to ours until it exits. mm-remote and mm-tls, which it
   leaves behind finishing their QUIT after the last result, then hold
   only that pipe, not our caller's descriptor: a caller that reads our
   output through a pipe ($(...), | logger) does not wait for the
   server's answer to QUIT. What they write after the pass is lost (they
   write nothing then but a fatal error). The wait status of mm-send. */
static int pass_run (char const *path)
{
  char const *argv[3] = { "mm-send", "-1", 0 } ;
  int p[2] = { -1, -1 }, sfd, wstat = 0 ;
  pid_t pid ;
  sfd = selfpipe_init() ;
  if (sfd >= 0 && (selfpipe_trap(SIGCHLD) < 0 || pipe(p) < 0)) { selfpipe_finish() ; sfd = -1 ; }
  else if (sfd >= 0 && (p[0] <= 2 || p[1] <= 2))
  {
    /* a caller without a standard error: nothing to copy to */
    fd_close(p[0]) ; fd_close(p[1]) ;
    selfpipe_finish() ;
    sfd = -1 ;
  }
  pid = fork() ;
  if (pid < 0) strerr_diefu1sys(EX_TEMPFAIL, "fork") ;
  if (!pid)
  {
    if (sfd >= 0) { selfpipe_finish() ; if (fd_move(2, p[1]) < 0) _exit(EX_TEMPFAIL) ; close(p[0]) ; }
    execv(path, (char *const *)argv) ;
    strerr_diefu2sys(EX_TEMPFAIL, "exec ", path) ;
  }
  if (sfd < 0)
  {
    if (wait_pid(pid, &wstat) < 0) strerr_diefu1sys(EX_TEMPFAIL, "wait for mm-send") ;
    return wstat ;
  }
  fd_close(p[1]) ;
  ndelay_on(p[0]) ;
  for (;;)
  {
    iopause_fd x[2] = { { .fd = sfd, .events = IOPAUSE_READ }, { .fd = p[0], .events = IOPAUSE_READ } } ;
    char buf[4096] ;
    ssize_t n = -1 ;
    if (iopause_g(x, 1 + (p[0] >= 0), &tain_infinite) < 0 && errno != EINTR) strerr_diefu1sys(EX_TEMPFAIL, "iopause") ;
    while (p[0] >= 0 && (n = read(p[0], buf, sizeof buf)) != 0)
    {
      if (n < 0) { if (errno == EINTR) continue ; if (errno == EAGAIN) break ; }
      if (n < 0 || allwrite(2, buf, n) < (size_t)n) { fd_close(p[0]) ; p[0] = -1 ; }
    }
    if (p[0] >= 0 && !n) { fd_close(p[0]) ; p[0] = -1 ; }   /* nobody holds it any more */
    while (selfpipe_read() > 0) ;
    if (waitpid(pid, &wstat, WNOHANG) == pid) break ;
  }
  if (p[0] >= 0)
  {
    /* what the pass wrote before it exited */
    char buf[4096] ;
    ssize_t n ;
    while ((n = read(p[0], buf, sizeof buf)) > 0 && allwrite(2, buf, n) == (size_t)n) ;
    fd_close(p[0]) ;
  }
  selfpipe_finish() ;
  return wstat ;
}

/* Trigger the running mm-send, or, when none runs and the caller may,
   run one queue pass in the foreground. 1 a pass ran here. */
static int flush (void)
{
  stralloc lock = STRALLOC_ZERO ;
  int fd, busy = 1 ;
  int allowed = !getuid() || mm_is_instance() ;
  if (!mm_path(&lock, "queue/lock/send")) nomem() ;
  fd = open(lock.s, O_RDONLY | O_CLOEXEC) ;
  if (fd >= 0)
  {
    busy = fd_islocked(fd) ;
    close(fd) ;
    if (busy < 0) busy = 1 ;
  }
  stralloc_free(&lock) ;
  trigger_pull(TRIGGER_ONLINE) ;
  if (busy) return 0 ;
  if (!allowed)
  {
    strerr_warnw1x("no queue runner is active: the mail goes out at the next queue run") ;
    return 0 ;
  }
  {
    stralloc path = STRALLOC_ZERO ;
    int wstat ;
    if (!mm_path(&path, "bin/mm-send")) nomem() ;
    fetch_wait() ;   /* the pass here delivers what the fetch queued */
    wstat = pass_run(path.s) ;
    if (!WIFEXITED(wstat) || WEXITSTATUS(wstat))
      strerr_warnw1x("the queue pass did not end well: see mm-send's messages") ;
    stralloc_free(&path) ;
  }
  return 1 ;
}

/* ------------------------------------------------------------ --wait */

typedef struct progress_s progress ;
struct progress_s
{
  unsigned long total, sent, deferred, failed, done ;
} ;

/* "total T sent S deferred D failed F done 0|1". 1 read, 0 absent or torn. */
static int progress_read (char const *path, progress *p, struct stat *st)
{
  char buf[256] ;
  ssize_t n ;
  int fd = statefile_open(path) ;
  char *s ;
  static char const *const keys[] = { "total", "sent", "deferred", "failed", "done" } ;
  unsigned long *vals[] = { &p->total, &p->sent, &p->deferred, &p->failed, &p->done } ;
  if (fd < 0) return 0 ;
  if (fstat(fd, st) < 0) { close(fd) ; return 0 ; }
  n = allread(fd, buf, sizeof buf - 1) ;
  close(fd) ;
  if (n <= 0) return 0 ;
  buf[n] = 0 ;
  s = buf ;
  for (unsigned int i = 0 ; i < 5 ; i++)
  {
    size_t k = strlen(keys[i]), m ;
    while (*s == ' ') s++ ;
    if (strncmp(s, keys[i], k) || s[k] != ' ') return 0 ;
    s += k + 1 ;
    m = ulong_scan(s, vals[i]) ;
    if (!m) return 0 ;
    s += m ;
  }
  return 1 ;
}

static void show (progress const *p, int tty, int final)
{
  char f[4][ULONG_FMT] ;
  f[0][ulong_fmt(f[0], p->sent)] = 0 ;
  f[1][ulong_fmt(f[1], p->deferred)] = 0 ;
  f[2][ulong_fmt(f[2], p->failed)] = 0 ;
  f[3][ulong_fmt(f[3], p->total)] = 0 ;
  if (tty && buffer_puts(buffer_1, "\r") < 0) return ;
  buffer_puts(buffer_1, "sent ") ; buffer_puts(buffer_1, f[0]) ;
  buffer_puts(buffer_1, " / deferred ") ; buffer_puts(buffer_1, f[1]) ;
  buffer_puts(buffer_1, " / failed ") ; buffer_puts(buffer_1, f[2]) ;
  buffer_puts(buffer_1, " of ") ; buffer_puts(buffer_1, f[3]) ;
  if (final || !tty) buffer_puts(buffer_1, "\n") ;
  buffer_flush(buffer_1) ;
}

/* 1 if the progress file is not the one that was there when we started:
   another inode or another modification time (an inode may be reused) */
static int changed (struct stat const *st, struct stat const *old)
{
  return st->st_ino != old->st_ino || st->st_mtim.tv_sec != old->st_mtim.tv_sec || st->st_mtim.tv_nsec != old->st_mtim.tv_nsec ;
}

/* The fallback when mm-send keeps no wake-up fifo (an older mm-send
   still running): an inotify watch on queue/flush, which mm-send's
   renames wake. Only then: closing a watch costs milliseconds at
   exit (flushwake.c). -1 when there is none either (the progress file
   is then read every WAIT_POLL_MS). */
static int flush_watch (void)
{
  stralloc dir = STRALLOC_ZERO ;
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC) ;
  if (fd < 0) return -1 ;
  if (!mm_path(&dir, FLUSH_DIR)) nomem() ;
  if (inotify_add_watch(fd, dir.s, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0) { fd_close(fd) ; fd = -1 ; }
  stralloc_free(&dir) ;
  return fd ;
}

/* Until the wake-up fifo hangs up (mm-send wrote a progress file since
   it was opened), or the inotify watch says the directory changed, or,
   as a safety net, WAIT_WATCH_MS with either and WAIT_POLL_MS with
   none. */
static void flush_pause (int wake, int watch)
{
  tain t ;
  iopause_fd x = { .fd = wake >= 0 ? wake : watch, .events = IOPAUSE_READ, .revents = 0 } ;
  tain_from_millisecs(&t, x.fd >= 0 ? WAIT_WATCH_MS : WAIT_POLL_MS) ;
  tain_add_g(&t, &t) ;
  if (iopause_g(&x, x.fd >= 0, &t) > 0 && wake < 0)
  {
    char buf[4096] ;
    while (read(watch, buf, sizeof buf) > 0) ;
  }
}

/* Until mm-send says the flush of route r is done, in a progress file
   written since we started. The fifo is opened anew before each read
   of the file: a progress file renamed after the open hangs it up, one
   renamed before is the one read. */
static int wait_flush (route const *r, struct stat const *old, int hadold, unsigned long timeout, int ranhere)
{
  stralloc path = STRALLOC_ZERO ;
  int tty = isatty(1) ;
  progress p = { 0, 0, 0, 0, 0 } ;
  tain deadline ;
  struct stat st ;
  int wake = -1, watch = -1, watched = 0 ;
  flush_path(&path, r->name.s) ;
  tain_now_g() ;
  tain_addsec_g(&deadline, timeout) ;
  for (;;)
  {
    int fresh ;
    wake = flushwake_open() ;
    fresh = progress_read(path.s, &p, &st) && (!hadold || changed(&st, old) || ranhere) ;
    if (fresh)
    {
      if (p.done) break ;
      if (tty) show(&p, 1, 0) ;
    }
    else if (ranhere)
    {
      /* the pass ran here and left no progress file: nothing to report */
      strerr_warnw1x("mm-send wrote no progress file for this route") ;
      if (wake >= 0) fd_close(wake) ;
      if (watch >= 0) fd_close(watch) ;
      stralloc_free(&path) ;
      return 0 ;
    }
    if (wake < 0 && !watched)
    {
      /* only when there is something to wait for, and read again once
         it watches: nothing renamed in between is missed */
      watch = flush_watch() ;
      watched = 1 ;
      continue ;
    }
    tain_now_g() ;
    if (!tain_future(&deadline))
    {
      if (tty && fresh) buffer_putsflush(buffer_1, "\n") ;
      strerr_dief2x(EX_TEMPFAIL, "timed out waiting for the flush of route ", r->name.s) ;
    }
    flush_pause(wake, watch) ;
    if (wake >= 0) fd_close(wake) ;
  }
  if (wake >= 0) fd_close(wake) ;
  if (watch >= 0) fd_close(watch) ;
  stralloc_free(&path) ;
  show(&p, tty, 1) ;
  if (p.deferred) return EX_TEMPFAIL ;
  if (p.failed) return EX_FAILED ;
  return 0 ;
}

/* ------------------------------------------------------------ the listing */

typedef struct waiting_s waiting ;
struct waiting_s
{
  unsigned long messages, rcpts ;
} ;

/* From: addresses of the message in fd (the header only). */
static void from_addresses (int fd, uint64_t len, stralloc *froms)
{
  char buf[16384] ;
  ssize_t n ;
  size_t i = 0 ;
  froms->len = 0 ;
  if (lseek(fd, MESS_HEADER_LEN, SEEK_SET) < 0) return ;
  n = allread(fd, buf, len < sizeof buf ? (size_t)len : sizeof buf) ;
  if (n <= 0) return ;
  while (i < (size_t)n && buf[i] != '\n')
  {
    size_t end = i ;
    for (;;)
    {
      char const *lf = memchr(buf + end, '\n', n - end) ;
      end = lf ? (size_t)(lf - buf) + 1 : (size_t)n ;
      if (end >= (size_t)n || (buf[end] != ' ' && buf[end] != '\t')) break ;
    }
    if (rfc822_is_field(buf + i, end - i, "From"))
    {
      char const *colon = memchr(buf + i, ':', end - i) ;
      rfc822_addresses(colon + 1, buf + end - colon - 1, 0, froms) ;
    }
    i = end ;
  }
}

static int islocal_address (char const *a)
{
  char const *at = strrchr(a, '@') ;
  return !at || control_islocal(at + 1, strlen(at + 1)) ;
}

/* The remote targets of one message still waiting, per route. */
static void count_message (char const *id, waiting *w, unsigned long *total, unsigned long *unroutable)
{
  stralloc path = STRALLOC_ZERO, pending = STRALLOC_ZERO, froms = STRALLOC_ZERO, t = STRALLOC_ZERO ;
  qfile q = QFILE_ZERO ;
  size_t nr = genalloc_len(route, &routes) ;
  int fd ;
  if (!stralloc_cats(&path, "queue/mess/") || !stralloc_cats(&path, id) || !stralloc_0(&path)) nomem() ;
  /* root reads here, in a directory the queue roles write: never a link */
  fd = open(path.s, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) ;
  if (fd < 0) goto end ;
  if (qfile_read(fd, &q) <= 0 || q.removed_by) goto end ;
  /* envelope recipients outside the local domains, and remote targets
     the journal knows (alias expansion) */
  for (size_t i = 0 ; i < qfile_nrcpts(&q) ; i++)
  {
    char const *rc = qfile_rcpt(&q, i) ;
    qrecord *rec ;
    if (islocal_address(rc)) continue ;
    if (!stralloc_copyb(&t, "r", 1) || !stralloc_cats(&t, rc) || !stralloc_0(&t)) nomem() ;
    rec = qfile_record(&q, t.s) ;
    if (rec && rec->state != TARGET_PENDING) continue ;
    if (!stralloc_cats(&pending, rc) || !stralloc_0(&pending)) nomem() ;
  }
  for (size_t i = 0 ; i < genalloc_len(qrecord, &q.records) ; i++)
  {
    qrecord const *rec = genalloc_s(qrecord, &q.records) + i ;
    char const *target = qfile_str(&q, rec->target) ;
    int seen = 0 ;
    if (target[0] != 'r' || rec->state != TARGET_PENDING) continue ;
    for (size_t k = 0 ; k < pending.len ; k += strlen(pending.s + k) + 1)
      if (!strcmp(pending.s + k, target + 1)) { seen = 1 ; break ; }
    if (!seen && (!stralloc_cats(&pending, target + 1) || !stralloc_0(&pending))) nomem() ;
  }
  if (!pending.len) goto end ;
  (*total)++ ;
  from_addresses(fd, q.messlen, &froms) ;
  for (size_t k = 0 ; k < nr ; k++)
  {
    route const *r = genalloc_s(route, &routes) + k ;
    unsigned long n = 0 ;
    if (!route_allows_sender(r, qfile_str(&q, q.sender)) || !route_allows_from(r, froms.s, froms.len)) continue ;
    for (size_t i = 0 ; i < pending.len ; i += strlen(pending.s + i) + 1)
      if (route_serves(r, pending.s + i)) n++ ;
    if (n) { w[k].messages++ ; w[k].rcpts += n ; }
  }
  /* a recipient that no route serves for this sender waits for ever */
  for (size_t i = 0 ; i < pending.len ; i += strlen(pending.s + i) + 1)
  {
    size_t k = 0 ;
    for (; k < nr ; k++)
    {
      route const *r = genalloc_s(route, &routes) + k ;
      if (route_allows_sender(r, qfile_str(&q, q.sender)) && route_allows_from(r, froms.s, froms.len) && route_serves(r, pending.s + i)) break ;
    }
    if (k == nr) { (*unroutable)++ ; break ; }
  }
 end:
  if (fd >= 0) close(fd) ;
  qfile_free(&q) ;
  stralloc_free(&path) ;
  stralloc_free(&pending) ;
  stralloc_free(&froms) ;
  stralloc_free(&t) ;
}

static void pad (char const *s, size_t width)
{
  size_t n = strlen(s) ;
  buffer_puts(buffer_1, s) ;
  while (n++ < width) buffer_put(buffer_1, " ", 1) ;
}

/* Counts the queue's waiting remote mail per route (w, nr entries),
   the messages with remote recipients (*total) and those with a
   recipient no route can ever carry (*unroutable). 0 if the queue
   cannot be read. */
static int queue_scan (waiting *w, unsigned long *total, unsigned long *unroutable)
{
  stralloc dir = STRALLOC_ZERO ;
  DIR *d ;
  if (!mm_path(&dir, "queue/mess")) nomem() ;
  d = opendir(dir.s) ;
  stralloc_free(&dir) ;
  if (!d) return 0 ;
  for (;;)
  {
    direntry *de ;
    errno = 0 ;
    de = readdir(d) ;
    if (!de) break ;
    if (de->d_name[0] < '0' || de->d_name[0] > '9') continue ;
    count_message(de->d_name, w, total, unroutable) ;
  }
  dir_close(d) ;
  return 1 ;
}

/* --wait: a flush cannot send what no route carries; say so, or the
   administrator waits for mail that never leaves. */
static void unroutable_warn (void)
{
  size_t nr = genalloc_len(route, &routes) ;
  waiting *w = calloc(nr ? nr : 1, sizeof(waiting)) ;
  unsigned long total = 0, unroutable = 0 ;
  if (!w) nomem() ;
  if (queue_scan(w, &total, &unroutable) && unroutable)
  {
    char f[ULONG_FMT] ;
    f[ulong_fmt(f, unroutable)] = 0 ;
    strerr_warnw3x(f, unroutable == 1 ? " message has" : " messages have",
      " recipients that no route can carry: they wait until a route serves them (mm-check lists them)") ;
  }
  free(w) ;
}

static void list (void)
{
  size_t nr = genalloc_len(route, &routes), width = 5 ;
  waiting *w = calloc(nr ? nr : 1, sizeof(waiting)) ;
  unsigned long total = 0, unroutable = 0 ;
  int readable ;
  if (!w) nomem() ;
  readable = queue_scan(w, &total, &unroutable) ;
  for (size_t k = 0 ; k < nr ; k++)
  {
    size_t n = genalloc_s(route, &routes)[k].name.len ;
    if (n > width) width = n ;
  }
  pad("route", width + 2) ; pad("state", 11) ; buffer_puts(buffer_1, "waiting\n") ;
  for (size_t k = 0 ; k < nr ; k++)
  {
    route const *r = genalloc_s(route, &routes) + k ;
    pad(r->name.s, width + 2) ;
    pad(r->permanent ? "permanent" : route_isonline(r) ? "up" : "down", 11) ;
    if (!readable) buffer_puts(buffer_1, "?\n") ;
    else
    {
      char f[ULONG_FMT] ;
      f[ulong_fmt(f, w[k].messages)] = 0 ;
      buffer_puts(buffer_1, f) ;
      buffer_puts(buffer_1, w[k].messages == 1 ? " message" : " messages") ;
      f[ulong_fmt(f, w[k].rcpts)] = 0 ;
      buffer_puts(buffer_1, " (") ; buffer_puts(buffer_1, f) ;
      buffer_puts(buffer_1, w[k].rcpts == 1 ? " recipient)\n" : " recipients)\n") ;
    }
  }
  if (!nr) buffer_puts(buffer_1, "(no routes in control/routes: mail for other domains waits)\n") ;
  if (readable)
  {
    char f[ULONG_FMT] ;
    f[ulong_fmt(f, total)] = 0 ;
    buffer_puts(buffer_1, f) ;
    buffer_puts(buffer_1, total == 1 ? " message with remote recipients in the queue\n" : " messages with remote recipients in the queue\n") ;
    if (unroutable)
    {
      f[ulong_fmt(f, unroutable)] = 0 ;
      buffer_puts(buffer_1, f) ;
      buffer_puts(buffer_1, unroutable == 1 ? " of them has" : " of them have") ;
      buffer_puts(buffer_1, " recipients that no route can carry (mm-check lists them)\n") ;
    }
  }
  else buffer_puts(buffer_1, "(the queue is not readable: no counts)\n") ;
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(EX_TEMPFAIL, "write to stdout") ;
  free(w) ;
}

/* ------------------------------------------------------------ --detect */

/* Run the route's onlinequery command: exit 0 means up. 1 up, 0 down, -1 no command. */
static int query (route const *r)
{
  stralloc rel = STRALLOC_ZERO, cmd = STRALLOC_ZERO ;
  int e, wstat ;
  pid_t pid ;
  tain deadline ;
  if (!route_file(&rel, r, "onlinequery")) nomem() ;
  e = control_readline(&cmd, rel.s, 0) ;
  stralloc_free(&rel) ;
  if (e < 0) strerr_diefu3sys(EX_TEMPFAIL, "read the onlinequery of route ", r->name.s, "") ;
  if (!e || !cmd.len) { stralloc_free(&cmd) ; return -1 ; }
  pid = fork() ;
  if (pid < 0) strerr_diefu1sys(EX_TEMPFAIL, "fork") ;
  if (!pid)
  {
    char const *argv[4] = { "/bin/sh", "-c", cmd.s, 0 } ;
    int null = open("/dev/null", O_RDONLY) ;
    if (null >= 0) { dup2(null, 0) ; close(null) ; }
    execv(argv[0], (char *const *)argv) ;
    _exit(127) ;
  }
  tain_now_g() ;
  tain_addsec_g(&deadline, DETECT_TIMEOUT) ;
  for (;;)
  {
    pid_t w = waitpid(pid, &wstat, WNOHANG) ;
    tain t ;
    if (w == pid) break ;
    tain_now_g() ;
    if (!tain_future(&deadline))
    {
      kill(pid, SIGKILL) ;
      waitpid(pid, &wstat, 0) ;
      strerr_warnw3x("the onlinequery of route ", r->name.s, " took too long: counted as down") ;
      stralloc_free(&cmd) ;
      return 0 ;
    }
    tain_from_millisecs(&t, 50) ;
    tain_add_g(&t, &t) ;
    iopause_g(0, 0, &t) ;
  }
  stralloc_free(&cmd) ;
  return WIFEXITED(wstat) && !WEXITSTATUS(wstat) ;
}

static int detect (void)
{
  int changed = 0, up = 0 ;
  for (size_t k = 0 ; k < genalloc_len(route, &routes) ; k++)
  {
    route const *r = genalloc_s(route, &routes) + k ;
    int was, now ;
    if (r->permanent) continue ;
    now = query(r) ;
    if (now < 0) continue ;
    was = route_isonline(r) ;
    if (now) { mark_up(r) ; up = 1 ; } else mark_down(r) ;
    if (now != was)
    {
      changed = 1 ;
      strerr_warni3x("route ", r->name.s, now ? " is up" : " is down") ;
    }
  }
  if (changed) { if (up) flush() ; else trigger_pull(TRIGGER_ONLINE) ; }
  return 0 ;
}

/* ------------------------------------------------------------ main */

int main (int argc, char const *const *argv)
{
  char const *name = 0 ;
  int down = 0, dowait = 0, dodetect = 0 ;
  unsigned long timeout = WAIT_DEFAULT ;
  PROG = "mm-online" ;
  usage_help(argc, argv, USAGE) ;
  privs_init() ;
  for (int i = 1 ; i < argc ; i++)
  {
    char const *a = argv[i] ;
    if (!strcmp(a, "-d") || !strcmp(a, "--down") || !strcmp(a, "down")) down = 1 ;
    else if (!strcmp(a, "-w") || !strcmp(a, "--wait")) dowait = 1 ;
    else if (!strcmp(a, "--detect")) dodetect = 1 ;
    else if (!strcmp(a, "-t") || !strcmp(a, "--timeout"))
    {
      if (++i >= argc || !duration_scan(argv[i], &timeout) || !timeout) strerr_dieusage(EX_USAGE, USAGE) ;
    }
    else if (!strcmp(a, "--")) { if (i + 1 < argc) name = argv[++i] ; if (i + 1 < argc) strerr_dieusage(EX_USAGE, USAGE) ; }
    else if (a[0] == '-') strerr_dieusage(EX_USAGE, USAGE) ;
    else if (!name) name = a ;
    else strerr_dieusage(EX_USAGE, USAGE) ;
  }
  if (down + dodetect + !!name > 1 || (dowait && !name)) strerr_dieusage(EX_USAGE, USAGE) ;
  mm_chdir_home() ;
  load_routes() ;
  if (!down && !dodetect && !name) { list() ; return 0 ; }
  check_permission() ;
  if (down)
  {
    all_down() ;
    trigger_pull(TRIGGER_ONLINE) ;
    return 0 ;
  }
  if (dodetect) return detect() ;
  {
    route const *r = named(name) ;
    stralloc path = STRALLOC_ZERO ;
    struct stat old ;
    int hadold, ranhere ;
    flush_path(&path, r->name.s) ;
    hadold = stat(path.s, &old) == 0 ;
    stralloc_free(&path) ;
    if (r->smtpafterpop)
    {
      /* SMTP-after-POP: the provider lets us relay once we logged in
         to POP3, so the fetch ends before the route is up */
      fetch_start(r) ;
      if (fetch_wait()) strerr_warnw1x("smtpafterpop: the fetch failed; the flush may be refused") ;
    }
    mark_up(r) ;
    if (!r->smtpafterpop) fetch_start(r) ;
    ranhere = flush() ;
    if (!dowait) return 0 ;
    {
      int code = wait_flush(r, &old, hadold, timeout, ranhere), f = fetch_wait() ;
      unroutable_warn() ;
      if (f >= 0 && buffer_putsflush(buffer_1, f ? "fetch: failed (see the lines of mm-pop3fetch)\n" : "fetch: done\n") < 0) { }
      return code ? code : f > 0 ? f : 0 ;
    }
  }
}
