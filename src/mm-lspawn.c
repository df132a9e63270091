/* mm-lspawn: runs one mm-local per local delivery for mm-send, as the
   recipient (or the alias user). Root in an install, and the only
   long-lived root process: it trusts nothing in its requests, and does
   nothing as root but open the queue file and change ids. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "address.h"
#include "alias.h"
#include "home.h"
#include "local.h"
#include "privs.h"
#include "logstamp.h"
#include "usage.h"
#include "queuefile.h"
#include "users.h"
#include "users_conf.h"

#define USAGE "mm-lspawn"

#define RESULT_TEXT_MAX 1000     /* mm-local's first line, as passed to mm-send */
#define NUMBER_MAX 20            /* digits of a delivery number or message id */
#define TARGET_MAX ALIAS_LINE_MAX
#define MAIL_SPOOL_GROUP "mail"  /* owns /var/mail on Debian; see mm-lspawn(8) */
#define LOCK_FD 3                /* the queue lock, as mm-local inherits it */

/* Request fields (INTERNALS 5) and the longest each may be. */
enum { F_NUMBER, F_ID, F_USER, F_RCPT, F_SENDER, F_TARGET, F_N } ;
static size_t const fieldmax[F_N] = { NUMBER_MAX, NUMBER_MAX, USER_NAME_MAX, ADDRESS_MAX, ADDRESS_MAX, TARGET_MAX } ;

typedef struct delivery_s delivery ;
struct delivery_s
{
  pid_t pid ;
  int fd ;                  /* mm-local's output, -1 once closed */
  int reaped ;
  int wstat ;
  size_t len ;              /* bytes of the first line kept */
  int linedone ;            /* the first line is complete: ignore the rest */
  char number[NUMBER_MAX + 1] ;
  char id[NUMBER_MAX + 1] ;
  char *target ;            /* the journal's name for it: "u" + user, or the alias target */
  char text[RESULT_TEXT_MAX] ;
} ;

static genalloc deliveries = GENALLOC_ZERO ;  /* delivery */
static stralloc results = STRALLOC_ZERO ;      /* not yet written to mm-send */
static stralloc home = STRALLOC_ZERO ;         /* absolute */
static int install ;                            /* not a private instance */
static int lockfd = -1 ;                        /* shared flock on queue/lock/send */
static pid_t self ;

static void dienomem (void)
{
  strerr_diefu1sys(EX_TEMPFAIL, "allocate memory") ;
}

static void result_add (char const *number, char kind, char const *text, size_t len)
{
  size_t start ;
  if (!stralloc_cats(&results, number) || !stralloc_0(&results)
   || !stralloc_catb(&results, &kind, 1)) dienomem() ;
  start = results.len ;
  if (!stralloc_catb(&results, text, len) || !stralloc_0(&results)) dienomem() ;
  /* one line of printable text: a NUL would break the record */
  for (size_t i = start ; i + 1 < results.len ; i++)
    if ((unsigned char)results.s[i] < 32) results.s[i] = ' ' ;
}


/* ---- a delivery's child: does mm-local's work ----
   Everything that needs root's view or the name service is prepared by
   mm-lspawn itself (prepare); the child moves descriptors, changes ids,
   enters the home directory and runs local_main (local.c), mm-local's
   code, in the forked process: no new program per delivery, whose start
   costs several times a fork (INTERNALS 5). Nothing of mm-lspawn's but
   the queue lock stays open in it, its signal handlers are undone, and
   after the id change the kernel makes it undumpable: the user cannot
   look into a copy of root's process. */

typedef struct plan_s plan ;
struct plan_s
{
  int fd ;                    /* the message, positioned after the queue header */
  uid_t uid ;
  gid_t gid, spool ;          /* spool: the mail spool group, kept as effective gid */
  gid_t *groups ;             /* the user's supplementary groups */
  int ngroups ;
  char const *argv[14] ;
  char const *envp[3] ;
  mmuser u ;
  stralloc envhome, key ;
  qfile q ;
  char size[UINT64_FMT] ;
} ;
#define PLAN_ZERO { .fd = -1, .groups = 0, .ngroups = 0, .u = MMUSER_ZERO, .envhome = STRALLOC_ZERO, .key = STRALLOC_ZERO, .q = QFILE_ZERO }

static void plan_free (plan *pl)
{
  if (pl->fd >= 0) close(pl->fd) ;
  free(pl->groups) ;
  users_free(&pl->u) ;
  stralloc_free(&pl->envhome) ;
  stralloc_free(&pl->key) ;
  qfile_free(&pl->q) ;
}

/* Errors before the exec go to mm-lspawn through the pipe mm-local
   would write to; the exit code says temporary or permanent. Only
   write(2): this runs in the vfork child. */
static void child_fail (int code, char const *a, char const *b) gccattr_noreturn ;
static void child_fail (int code, char const *a, char const *b)
{
  char const *e = errno ? strerror(errno) : 0 ;
  if (write(1, a, strlen(a)) < 0) _exit(code) ;
  if (b && write(1, b, strlen(b)) < 0) _exit(code) ;
  if (e && code == EX_TEMPFAIL && (write(1, ": ", 2) < 0 || write(1, e, strlen(e)) < 0)) _exit(code) ;
  if (write(1, "\n", 1) < 0) _exit(code) ;
  _exit(code) ;
}

static void child (plan const *pl, int outfd) gccattr_noreturn ;
static void child (plan const *pl, int outfd)
{
  sigset_t none ;
  struct sigaction dfl = { .sa_handler = SIG_DFL } ;
  int argc = 0 ;
  /* mm-lspawn's signal handlers, blocked signals and ignored SIGPIPE
     are not mm-local's */
  selfpipe_finish() ;
  sigemptyset(&none) ;
  if (sigprocmask(SIG_SETMASK, &none, 0) < 0 || sigaction(SIGPIPE, &dfl, 0) < 0) _exit(EX_TEMPFAIL) ;
  if (dup2(outfd, 1) < 0 || ndelay_off(1) < 0 || dup2(pl->fd, 0) < 0) _exit(EX_TEMPFAIL) ;
  /* mm-local holds the queue lock until it ends (mm-lspawn(8)) */
  if (lockfd == LOCK_FD ? fcntl(LOCK_FD, F_SETFD, 0) < 0 : dup2(lockfd, LOCK_FD) < 0) _exit(EX_TEMPFAIL) ;
  /* every other delivery's pipe and message: none of this user's */
  if (close_range(LOCK_FD + 1, ~0U, 0) < 0) _exit(EX_TEMPFAIL) ;
  if (install)
  {
    /* for good: the mail spool group stays as effective and saved gid,
       so that mm-local can create and lock /var/mail/USER; mm-local
       drops it before running anything of the user's (mm-local(8)) */
    errno = 0 ;
    if (!pl->uid) child_fail(EX_NOPERM, "5.7.1 refusing to deliver as root", 0) ;
    if (setgroups(pl->ngroups, pl->groups) < 0) child_fail(EX_TEMPFAIL, "4.3.0 set groups for ", pl->u.name.s) ;
    if (setresgid(pl->gid, pl->spool, pl->spool) < 0) child_fail(EX_TEMPFAIL, "4.3.0 set gid for ", pl->u.name.s) ;
    if (setresuid(pl->uid, pl->uid, pl->uid) < 0) child_fail(EX_TEMPFAIL, "4.3.0 set uid for ", pl->u.name.s) ;
    errno = 0 ;
    if (!getuid() || !geteuid()) child_fail(EX_NOPERM, "5.7.1 refusing to deliver as root", 0) ;
  }
  /* after the id change, which clears it: a delivery whose mm-lspawn
     died has nobody to record it, so it ends too rather than finish
     unrecorded and be made again */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) child_fail(EX_TEMPFAIL, "4.3.0 set the parent death signal", 0) ;
  if (getppid() != self) _exit(EX_TEMPFAIL) ;
  if (chdir(pl->u.home.s) < 0) child_fail(EX_TEMPFAIL, "4.3.0 enter home directory ", pl->u.home.s) ;
  /* ps and top name it for what it does */
  if (prctl(PR_SET_NAME, "mm-local") < 0) { }
  environ = (char **)pl->envp ;
  while (pl->argv[argc]) argc++ ;
  _exit(local_main(argc, pl->argv)) ;
}

/* The name of this delivery, the same every time it is tried: the
   message's unique name, its id, and a hash of recipient and target.
   mm-local names the Maildir file after it, so that a delivery that
   finished just before a crash is seen and not made twice. */
static char const *delivery_key (stralloc *sa, char const *msgkey, char const *const *f)
{
  uint32_t h = 2166136261u ;  /* FNV-1a */
  char fmt[UINT32_FMT] ;
  for (unsigned int i = F_RCPT ; i <= F_TARGET ; i += F_TARGET - F_RCPT)
    for (char const *s = f[i] ; ; s++)
    {
      h = (h ^ (unsigned char)*s) * 16777619u ;
      if (!*s) break ;
    }
  fmt[uint32_xfmt(fmt, h)] = 0 ;
  if (!stralloc_cats(sa, msgkey) || !stralloc_cats(sa, "Q") || !stralloc_cats(sa, f[F_ID])
   || !stralloc_cats(sa, "R") || !stralloc_cats(sa, fmt) || !stralloc_0(sa)) return 0 ;
  /* only what a Maildir name may hold */
  for (size_t i = 0 ; i + 1 < sa->len ; i++)
    if (!((sa->s[i] >= '0' && sa->s[i] <= '9') || (sa->s[i] >= 'A' && sa->s[i] <= 'Z') || (sa->s[i] >= 'a' && sa->s[i] <= 'z') || sa->s[i] == '.')) return 0 ;
  return sa->s ;
}

/* A delivery that cannot start: its result kind, with the text in why. */
static char fail (stralloc *why, char kind, char const *a, char const *b, char const *c)
{
  if (!stralloc_cats(why, a) || (b && !stralloc_cats(why, b)) || (c && !stralloc_cats(why, c))) dienomem() ;
  return kind ;
}

static char failsys (stralloc *why, char const *a, char const *b)
{
  char const *e = strerror(errno) ;
  fail(why, 'Z', "4.3.0 ", a, b) ;
  return fail(why, 'Z', ": ", e, 0) ;
}

/* Everything a delivery needs before its child starts. 0 when ready;
   else the result for mm-send ('Z' or 'D') with its text in why. */
static char prepare (char const *const *f, plan *pl, stralloc *why)
{
  char path[sizeof "queue/mess/" + NUMBER_MAX] ;
  char hdr[MESS_HEADER_LEN] ;
  uint64_t size ;
  struct stat st ;
  char const *name = f[F_USER] ;
  char const *host = 0 ;
  char const *key = 0 ;
  int r ;

  /* the message, opened as root: the user cannot read the queue */
  memcpy(path, "queue/mess/", 11) ;
  strcpy(path + 11, f[F_ID]) ;
  pl->fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC) ;
  if (pl->fd < 0) return failsys(why, "open ", path) ;
  if (pread(pl->fd, hdr, MESS_HEADER_LEN, 0) != MESS_HEADER_LEN || !qfile_header_scan(hdr, &size))
    return fail(why, 'Z', "4.3.0 queue file ", path, " has a bad header") ;
  if (fstat(pl->fd, &st) < 0) return failsys(why, "stat ", path) ;
  if ((uint64_t)st.st_size < MESS_HEADER_LEN + size) return fail(why, 'Z', "4.3.0 queue file ", path, " is truncated") ;
  if (qfile_read(pl->fd, &pl->q) > 0)
  {
    if (pl->q.host != (size_t)-1) host = qfile_str(&pl->q, pl->q.host) ;
    if (pl->q.key != (size_t)-1) key = delivery_key(&pl->key, qfile_str(&pl->q, pl->q.key), f) ;
  }
  if (lseek(pl->fd, MESS_HEADER_LEN, SEEK_SET) < 0) return failsys(why, "seek in ", path) ;

  /* pipe and file targets run as the alias user, never as anyone else */
  if (f[F_TARGET][0])
  {
    if (install) name = users_conf_name(USERS_ALIAS) ;
    else
    {
      struct passwd *pw = getpwuid(getuid()) ;
      name = pw && users_name_valid(pw->pw_name, strlen(pw->pw_name)) ? pw->pw_name : users_conf_name(USERS_ALIAS) ;
    }
  }
  if (f[F_TARGET][0] && !install)
  {
    /* a private instance: the alias user is the owner, at home in the instance */
    pl->u.uid = getuid() ; pl->u.gid = getgid() ;
    if (!stralloc_cats(&pl->u.name, name) || !stralloc_0(&pl->u.name)
     || !stralloc_copy(&pl->u.home, &home) || !stralloc_0(&pl->u.home)) dienomem() ;
  }
  else
  {
    r = users_lookup(name, &pl->u) ;
    if (r < 0) return failsys(why, "look up user ", name) ;
    if (!r)
    {
      if (f[F_TARGET][0]) return fail(why, 'Z', "4.3.5 alias user ", name, " does not exist") ;
      return fail(why, 'D', "5.1.1 no such user ", name, 0) ;
    }
  }
  if (install)
  {
    struct group *gr ;
    int n = 32 ;
    if (!pl->u.uid) return fail(why, 'D', "5.7.1 refusing to deliver as root", 0, 0) ;
    pl->uid = pl->u.uid ;
    pl->gid = pl->u.gid ;
    errno = 0 ;
    gr = getgrnam(MAIL_SPOOL_GROUP) ;
    if (!gr && errno && errno != ENOENT && errno != ESRCH) return failsys(why, "look up group ", MAIL_SPOOL_GROUP) ;
    pl->spool = gr ? gr->gr_gid : pl->gid ;
    for (;;)
    {
      int want = n ;
      gid_t *g = realloc(pl->groups, n * sizeof(gid_t)) ;
      if (!g) dienomem() ;
      pl->groups = g ;
      if (getgrouplist(pl->u.name.s, pl->gid, pl->groups, &n) >= 0) break ;
      if (n <= want) n = want * 2 ;
      if (n > 65536) return fail(why, 'Z', "4.3.0 too many groups for ", pl->u.name.s, 0) ;
    }
    pl->ngroups = n ;
  }

  if (!stralloc_cats(&pl->envhome, "MM_HOME=") || !stralloc_cat(&pl->envhome, &home) || !stralloc_0(&pl->envhome)) dienomem() ;
  pl->size[uint64_fmt(pl->size, size)] = 0 ;
  pl->envp[0] = "PATH=/usr/bin:/bin" ;
  pl->envp[1] = pl->envhome.s ;
  pl->envp[2] = 0 ;
  {
    unsigned int n = 0 ;
    pl->argv[n++] = "mm-local" ;
    pl->argv[n++] = "-s" ; pl->argv[n++] = pl->size ;
    if (host) { pl->argv[n++] = "-h" ; pl->argv[n++] = host ; }
    if (key) { pl->argv[n++] = "-k" ; pl->argv[n++] = key ; }
    pl->argv[n++] = "--" ;
    pl->argv[n++] = pl->u.name.s ;
    pl->argv[n++] = pl->u.home.s ;
    pl->argv[n++] = f[F_RCPT] ;
    pl->argv[n++] = f[F_SENDER] ;
    pl->argv[n++] = f[F_TARGET] ;
    pl->argv[n] = 0 ;
  }
  return 0 ;
}


/* ---- the parent ---- */

static int digits_valid (char const *s)
{
  size_t i = 0 ;
  for (; s[i] ; i++) if (s[i] < '0' || s[i] > '9') return 0 ;
  return i > 0 && i <= NUMBER_MAX ;
}

static int text_valid (char const *s)
{
  for (; *s ; s++) if ((unsigned char)*s < 32 || *s == 127) return 0 ;
  return 1 ;
}

/* Why a request is malformed, or NULL. */
static char const *request_check (char const *const *f)
{
  if (!digits_valid(f[F_ID])) return "5.3.5 malformed request: message id" ;
  if (f[F_USER][0] && !users_name_valid(f[F_USER], strlen(f[F_USER]))) return "5.3.5 malformed request: user name" ;
  if (!f[F_RCPT][0] || !text_valid(f[F_RCPT])) return "5.3.5 malformed request: recipient" ;
  if (!text_valid(f[F_SENDER])) return "5.3.5 malformed request: sender" ;
  if (!text_valid(f[F_TARGET])) return "5.3.5 malformed request: target" ;
  if (f[F_TARGET][0])
  {
    if (f[F_TARGET][0] != '|' && f[F_TARGET][0] != '/') return "5.3.5 malformed request: target" ;
    if (f[F_USER][0] && strcmp(f[F_USER], users_conf_name(USERS_ALIAS)))
      return "5.7.1 pipe and file targets run as the alias user only" ;
  }
  else if (!f[F_USER][0]) return "5.3.5 malformed request: no user" ;
  return 0 ;
}

/* The queue runner's lock dies with mm-send; this shared lock, held by
   mm-lspawn and by each mm-local until they end, tells the next runner
   that deliveries of a runner that died still go on (mm-send waits for
   an exclusive lock before it asks for any). Taken at the first
   request: by then mm-send has waited for the previous deliveries. */
static int lock_take (void)
{
  if (lockfd >= 0) return 1 ;
  lockfd = open("queue/lock/send", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) ;
  if (lockfd < 0) { strerr_warnwu1sys("open queue/lock/send") ; return 0 ; }
  while (flock(lockfd, LOCK_SH) < 0)
    if (errno != EINTR)
    {
      strerr_warnwu1sys("lock queue/lock/send") ;
      close(lockfd) ;
      lockfd = -1 ;
      return 0 ;
    }
  return 1 ;
}

static void start (char const *const *f)
{
  delivery d = { .fd = -1, .reaped = 0, .wstat = 0, .len = 0, .linedone = 0 } ;
  int p[2] ;
  char const *bad ;
  if (!digits_valid(f[F_NUMBER]))
  {
    strerr_warnw1x("malformed request: bad delivery number, ignored") ;
    return ;
  }
  bad = request_check(f) ;
  if (bad)
  {
    strerr_warnw4x("delivery ", f[F_NUMBER], ": ", bad) ;
    result_add(f[F_NUMBER], 'D', bad, strlen(bad)) ;
    return ;
  }
  if (!lock_take())
  {
    char const *why = "4.3.0 unable to lock queue/lock/send" ;
    result_add(f[F_NUMBER], 'Z', why, strlen(why)) ;
    return ;
  }
  strcpy(d.number, f[F_NUMBER]) ;
  strcpy(d.id, f[F_ID]) ;
  {
    size_t ul = strlen(f[F_USER]), tl = strlen(f[F_TARGET]) ;
    d.target = malloc(tl ? tl + 1 : ul + 2) ;
    if (!d.target) dienomem() ;
    if (tl) memcpy(d.target, f[F_TARGET], tl + 1) ;
    else { d.target[0] = 'u' ; memcpy(d.target + 1, f[F_USER], ul + 1) ; }
  }
  {
    plan pl = PLAN_ZERO ;
    stralloc why = STRALLOC_ZERO ;
    char kind = prepare(f, &pl, &why) ;
    if (!kind && pipenbcoe(p) < 0)
    {
      kind = 'Z' ;
      if (!stralloc_cats(&why, "4.3.0 cannot create a pipe")) dienomem() ;
    }
    if (!kind)
    {
      d.pid = fork() ;
      if (!d.pid) child(&pl, p[1]) ;
      if (d.pid < 0)
      {
        close(p[0]) ; close(p[1]) ;
        kind = 'Z' ;
        if (!stralloc_cats(&why, "4.3.0 cannot fork")) dienomem() ;
      }
    }
    plan_free(&pl) ;
    if (kind)
    {
      free(d.target) ;
      result_add(f[F_NUMBER], kind, why.s, why.len) ;
      stralloc_free(&why) ;
      return ;
    }
    stralloc_free(&why) ;
  }
  close(p[1]) ;
  d.fd = p[0] ;
  if (!genalloc_append(delivery, &deliveries, &d)) dienomem() ;
}

/* Keep the first line of mm-local's output; discard the rest. */
static void drain (delivery *d)
{
  char buf[4096] ;
  for (;;)
  {
    ssize_t r = read(d->fd, buf, sizeof buf) ;
    if (r < 0 && errno == EINTR) continue ;
    if (r <= 0)
    {
      if (r < 0 && errno == EAGAIN) return ;
      close(d->fd) ;
      d->fd = -1 ;
      return ;
    }
    for (ssize_t i = 0 ; i < r && !d->linedone ; i++)
    {
      if (buf[i] == '\n' || d->len == RESULT_TEXT_MAX) d->linedone = 1 ;
      else d->text[d->len++] = buf[i] ;
    }
  }
}

/* The checkpoint: a delivery is in the message's journal, on disk,
   before anyone hears of it, so that it is not repeated even when
   mm-send died meanwhile. mm-send records it too if this fails. */
static void checkpoint (delivery const *d)
{
  char path[11 + NUMBER_MAX + 1] ;
  int fd ;
  memcpy(path, "queue/mess/", 11) ;
  strcpy(path + 11, d->id) ;
  fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW) ;
  if (fd < 0 || !qfile_append_fd(fd, 'd', d->target, 0, 1))
    strerr_warnwu4sys("record delivery ", d->number, " in ", path) ;
  if (fd >= 0) close(fd) ;
}

/* mm-local has exited: report it. */
static void finish (delivery *d)
{
  char kind ;
  char const *prefix = 0 ;
  char fmt[UINT_FMT] ;
  stralloc text = STRALLOC_ZERO ;
  if (d->fd >= 0)
  {
    /* what it wrote is in the pipe; a background grandchild holding the
       pipe open must not delay the result */
    drain(d) ;
    if (d->fd >= 0) { close(d->fd) ; d->fd = -1 ; }
  }
  if (WIFSIGNALED(d->wstat)) kind = 'Z' ;
  else switch (WEXITSTATUS(d->wstat))
  {
    case 0 : kind = 'K' ; break ;
    case EX_TEMPFAIL : case 111 : kind = 'Z' ; break ;
    default : kind = 'D' ; break ;
  }
  if (kind == 'Z' && (d->len < 2 || d->text[0] != '4' || d->text[1] != '.')) prefix = "4.3.0 " ;
  if (kind == 'D' && (d->len < 2 || d->text[0] != '5' || d->text[1] != '.')) prefix = "5.3.0 " ;
  if (prefix && !stralloc_cats(&text, prefix)) dienomem() ;
  if (!stralloc_catb(&text, d->text, d->len)) dienomem() ;
  if (!d->len)
  {
    if (WIFSIGNALED(d->wstat))
    {
      fmt[uint_fmt(fmt, WTERMSIG(d->wstat))] = 0 ;
      if (!stralloc_cats(&text, "mm-local killed by signal ") || !stralloc_cats(&text, fmt)) dienomem() ;
    }
    else if (kind == 'K') { if (!stralloc_cats(&text, "delivered")) dienomem() ; }
    else
    {
      fmt[uint_fmt(fmt, WEXITSTATUS(d->wstat))] = 0 ;
      if (!stralloc_cats(&text, "mm-local exited ") || !stralloc_cats(&text, fmt)) dienomem() ;
    }
  }
  if (kind == 'K') checkpoint(d) ;
  result_add(d->number, kind, text.s, text.len) ;
  stralloc_free(&text) ;
  free(d->target) ;
  d->target = 0 ;
}

static void reap (void)
{
  for (;;)
  {
    int wstat ;
    pid_t pid = wait_nohang(&wstat) ;
    size_t n = genalloc_len(delivery, &deliveries) ;
    delivery *d = genalloc_s(delivery, &deliveries) ;
    if (pid <= 0) return ;
    for (size_t i = 0 ; i < n ; i++)
      if (d[i].pid == pid)
      {
        d[i].wstat = wstat ;
        finish(d + i) ;
        d[i] = d[n-1] ;
        genalloc_setlen(delivery, &deliveries, n - 1) ;
        break ;
      }
  }
}

/* Requests arrive as six NUL-terminated fields. A field longer than its
   limit is cut short, and the request it belongs to fails as malformed
   (start() sees the empty or invalid field). */
static stralloc inbuf = STRALLOC_ZERO ;
static stralloc fields = STRALLOC_ZERO ;
static unsigned int nfields = 0 ;
static int overlong = 0 ;

static void request_field (char const *s, size_t len)
{
  if (overlong || len > fieldmax[nfields])
  {
    /* keep it invalid: a control character is refused by every check */
    if (!stralloc_catb(&fields, "\001", 1)) dienomem() ;
    if (nfields == F_NUMBER && !stralloc_catb(&fields, "x", 1)) dienomem() ;
  }
  else if (!stralloc_catb(&fields, s, len)) dienomem() ;
  if (!stralloc_0(&fields)) dienomem() ;
  overlong = 0 ;
  if (++nfields == F_N)
  {
    char const *f[F_N] ;
    size_t pos = 0 ;
    for (unsigned int i = 0 ; i < F_N ; i++)
    {
      f[i] = fields.s + pos ;
      pos += strlen(fields.s + pos) + 1 ;
    }
    start(f) ;
    fields.len = 0 ;
    nfields = 0 ;
  }
}

/* 1 while fd 0 is open, 0 at EOF. */
static int requests_read (void)
{
  char buf[8192] ;
  size_t i, begin = 0 ;
  ssize_t r = read(0, buf, sizeof buf) ;
  if (r < 0) return errno == EINTR || errno == EAGAIN ? 1 : (strerr_warnwu1sys("read requests"), 0) ;
  if (!r)
  {
    if (nfields || inbuf.len) strerr_warnw1x("incomplete request at end of input, ignored") ;
    return 0 ;
  }
  for (i = 0 ; i < (size_t)r ; i++)
  {
    if (buf[i]) continue ;
    if (inbuf.len)
    {
      if (!stralloc_catb(&inbuf, buf + begin, i - begin)) dienomem() ;
      request_field(inbuf.s, inbuf.len) ;
      inbuf.len = 0 ;
    }
    else request_field(buf + begin, i - begin) ;
    begin = i + 1 ;
  }
  if (begin < (size_t)r)
  {
    if (inbuf.len + (r - begin) > fieldmax[nfields]) { overlong = 1 ; inbuf.len = 0 ; }
    else if (!stralloc_catb(&inbuf, buf + begin, r - begin)) dienomem() ;
  }
  return 1 ;
}

static int results_write (void)
{
  ssize_t w = write(1, results.s, results.len) ;
  if (w < 0)
  {
    if (errno == EAGAIN || errno == EINTR) return 1 ;
    strerr_warnwu1sys("write results to mm-send") ;
    results.len = 0 ;
    return 0 ;
  }
  memmove(results.s, results.s + w, results.len - w) ;
  results.len -= w ;
  return 1 ;
}

int main (int argc, char const *const *argv)
{
  int sfd ;
  int reading = 1, writing = 1 ;
  PROG = "mm-lspawn" ;
  usage_help(argc, argv, USAGE) ;
  logstamp_init() ;
  privs_init() ;
  if (argc > 1) strerr_dieusage(EX_USAGE, USAGE) ;
  {
    char const *h = mm_home() ;
    if (h[0] != '/' && (sagetcwd(&home) < 0 || !stralloc_catb(&home, "/", 1))) dienomem() ;
    if (!stralloc_cats(&home, h)) dienomem() ;
  }
  mm_chdir_home() ;
  install = !mm_is_instance() ;
  self = getpid() ;
  if (install && geteuid()) strerr_dief1x(EX_NOPERM, "an install's mm-lspawn must run as root") ;
  if (ndelay_on(0) < 0 || ndelay_on(1) < 0) strerr_diefu1sys(EX_TEMPFAIL, "set descriptors non-blocking") ;
  if (sig_ignore(SIGPIPE) < 0) strerr_diefu1sys(EX_TEMPFAIL, "ignore SIGPIPE") ;
  sfd = selfpipe_init() ;
  if (sfd < 0) strerr_diefu1sys(EX_TEMPFAIL, "create the selfpipe") ;
  {
    sigset_t set ;
    sigemptyset(&set) ;
    sigaddset(&set, SIGCHLD) ;
    sigaddset(&set, SIGTERM) ;
    if (!selfpipe_trapset(&set)) strerr_diefu1sys(EX_TEMPFAIL, "trap signals") ;
  }

  for (;;)
  {
    size_t n = genalloc_len(delivery, &deliveries) ;
    iopause_fd x[3 + n] ;
    unsigned int nx = 0, ireq = 0, iout = 0 ;
    size_t idx[3 + n] ;
    if (!reading && !n && !results.len) break ;
    if (!writing && !reading && !n) break ;
    x[nx].fd = sfd ; x[nx].events = IOPAUSE_READ ; nx++ ;
    if (reading) { ireq = nx ; x[nx].fd = 0 ; x[nx].events = IOPAUSE_READ ; nx++ ; }
    if (writing && results.len) { iout = nx ; x[nx].fd = 1 ; x[nx].events = IOPAUSE_WRITE ; nx++ ; }
    for (size_t i = 0 ; i < n ; i++)
    {
      delivery const *d = genalloc_s(delivery, &deliveries) + i ;
      if (d->fd < 0) continue ;
      idx[nx] = i ;
      x[nx].fd = d->fd ; x[nx].events = IOPAUSE_READ ; nx++ ;
    }
    if (iopause(x, nx, 0, 0) < 0)
    {
      if (errno == EINTR) continue ;
      strerr_diefu1sys(EX_TEMPFAIL, "iopause") ;
    }
    if (x[0].revents & IOPAUSE_READ)
      for (;;)
      {
        int sig = selfpipe_read() ;
        if (sig <= 0)
        {
          if (sig < 0) strerr_diefu1sys(EX_TEMPFAIL, "read the selfpipe") ;
          break ;
        }
        if (sig == SIGCHLD) reap() ;
        else if (sig == SIGTERM) reading = 0 ;  /* finish what runs, take nothing new */
      }
    for (unsigned int k = 1 ; k < nx ; k++)
    {
      if (!x[k].revents) continue ;
      if (reading && k == ireq) reading = requests_read() ;
      else if (iout && k == iout) writing = results_write() ;
      else if (x[k].fd != 0 && x[k].fd != 1)
      {
        /* reap() may have reordered deliveries: find it again by fd */
        size_t i = idx[k] ;
        delivery *d = genalloc_s(delivery, &deliveries) ;
        if (i >= genalloc_len(delivery, &deliveries) || d[i].fd != x[k].fd) continue ;
        drain(d + i) ;
      }
    }
    if (writing && results.len && !reading && !genalloc_len(delivery, &deliveries))
    {
      /* last results: wait for mm-send to take them */
      if (ndelay_off(1) < 0 || allwrite(1, results.s, results.len) < results.len) strerr_warnwu1sys("write results to mm-send") ;
      results.len = 0 ;
    }
  }
  return 0 ;
}
