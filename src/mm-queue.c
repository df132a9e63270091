/* mm-queue: the only writer of new messages into the spool. Setuid to
   the queue owner in an install; commits a message crash-safely
   (INTERNALS 3.1) and pulls the trigger. */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/sgetopt.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "address.h"
#include "control.h"
#include "date822.h"
#include "etcpasswd.h"
#include "home.h"
#include "privs.h"
#include "qdoor.h"
#include "usage.h"
#include "queuefile.h"
#include "straycr.h"
#include "trigger.h"
#include "users_conf.h"

#define USAGE "mm-queue [ -d fd ] < message 1< envelope | mm-queue -l"
#define dieusage() strerr_dieusage(EX_USAGE, USAGE)

#define ENVELOPE_MAX (4 << 20)   /* 4 MB: about 16000 recipients of RFC 5321's 256 bytes */
#define WRITER_TIMEOUT 86400     /* a writer that hangs for a day has died */
#define HOST_MAX 300             /* an H field: a domain name (255) or an address literal, and a little */
#define OPTIONS_ANYONE "q"       /* O flags any caller may give (sendmail -odq) */

static char tmpname[64] ;
static char messname[32] ;
static int linked = 0 ;

/* Undo everything not yet committed; nothing half-written may stay
   where mm-send looks. */
static void cleanup (void)
{
  if (linked) unlink(messname) ;
  if (tmpname[0]) unlink(tmpname) ;
}

static void dietemp (char const *what)
{
  int e = errno ;
  cleanup() ;
  errno = e ;
  if (errno == ENOSPC || errno == EDQUOT)
    strerr_dief2x(EX_TEMPFAIL, what, ": disk full, message not queued (#4.3.1)") ;
  strerr_diefu2sys(EX_TEMPFAIL, what, " (#4.3.0)") ;
}

static void diebad (char const *why)
{
  cleanup() ;
  strerr_dief2x(EX_DATAERR, why, " (#5.6.0)") ;
}

static void ontimeout (int sig)
{
  (void)sig ;
  cleanup() ;
  _exit(EX_TEMPFAIL) ;
}

static void fsync_dir (char const *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  if (fd < 0 || fsync(fd) < 0) dietemp("fsync queue directory") ;
  close(fd) ;
}

/* An envelope address: no control characters, since the queue file is
   line-based; the rest is address_valid's job. */
static int address_ok (char const *s, size_t len, char const **why)
{
  for (size_t i = 0 ; i < len ; i++)
    if ((unsigned char)s[i] < 32 || s[i] == 127) { *why = "control character in address" ; return 0 ; }
  return address_valid(s, len, why) ;
}

/* The envelope fields of the trusted programs are taken only from
   callers whose real uid is root or one of their users, by the names of
   conf-users in /etc/passwd (mm-queue is static: no name service): O
   flags b, 2, w (a bounce, a double bounce, a warning) from the send
   user (mm-send); the H host also from the smtpd user (mm-smtpd) and the
   pop user (mm-pop3fetch, which has dropped its caller's uid). Anyone
   else could make a message that never bounces, or forge where it came
   from. In a private instance nothing is setuid and everyone is the
   owner, who could write the queue directly: trusted. 1 trusted, 0 not;
   dies 75 if /etc/passwd cannot be read. */
static int is_role (uid_t uid, int role)
{
  uid_t u ;
  int r = etcpasswd_uid(users_conf_name(role), &u) ;
  if (r < 0) dietemp("read " ETCPASSWD_FILE) ;
  return r && u == uid ;
}

static int trusted_options (uid_t uid)
{
  return !uid || mm_is_instance() || is_role(uid, USERS_SEND) ;
}

static int trusted_host (uid_t uid)
{
  return trusted_options(uid) || is_role(uid, USERS_SMTPD) || is_role(uid, USERS_POP) ;
}

/* An H field is one token that goes into the queue file and on into
   mm-local's arguments: no control characters, no space. */
static int host_ok (char const *s, size_t len)
{
  if (len > HOST_MAX) return 0 ;
  for (size_t i = 0 ; i < len ; i++)
    if ((unsigned char)s[i] <= 32 || s[i] == 127) return 0 ;
  return 1 ;
}

static void dieperm (char const *why)
{
  cleanup() ;
  strerr_dief2x(EX_NOPERM, why, " (#5.7.1)") ;
}

/* A message from descriptors 0 (the message) and 1 (the envelope) into
   the queue, for the caller uid; the id on idfd after the commit. Exits
   with the code it returns on any failure. */
static int queue_message (uid_t uid, int idfd)
{
  int fd ;
  struct stat st ;
  uint64_t messlen = 0 ;
  unsigned long databytes = 0 ;
  stralloc env = STRALLOC_ZERO ;
  stralloc out = STRALLOC_ZERO ;
  char hdr[MESS_HEADER_LEN] ;
  char ibuf[65536], obuf[65536], fixbuf[65536 + 1] ;
  buffer w ;
  time_t now = time(0) ;
  struct timespec stamp ;

  /* with the pid, a name no other message ever had (mm-local's Maildir names) */
  clock_gettime(CLOCK_REALTIME, &stamp) ;
  signal(SIGPIPE, SIG_IGN) ;
  signal(SIGALRM, &ontimeout) ;
  alarm(WRITER_TIMEOUT) ;
  umask(007) ;
  mm_chdir_home() ;
  if (control_readulong(&databytes, "control/databytes", 0) < 0)
    strerr_diefu1sys(EX_TEMPFAIL, "read control/databytes") ;
  if (chdir("queue") < 0) strerr_diefu2sys(EX_TEMPFAIL, "chdir to ", "queue") ;

  /* S2: a work file named after us; a stale one is from a dead writer */
  {
    size_t n = 0 ;
    memcpy(tmpname, "tmp/", 4) ; n = 4 ;
    n += pid_fmt(tmpname + n, getpid()) ; tmpname[n++] = '.' ;
    n += uint64_fmt(tmpname + n, (uint64_t)now) ;
    tmpname[n] = 0 ;
  }
  fd = open(tmpname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0660) ;
  if (fd < 0 && errno == EEXIST)
  {
    unlink(tmpname) ;
    fd = open(tmpname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0660) ;
  }
  if (fd < 0) { tmpname[0] = 0 ; dietemp("create queue file") ; }
  if (fstat(fd, &st) < 0) dietemp("stat queue file") ;
  {
    size_t n = 5 ;
    memcpy(messname, "mess/", 5) ;
    n += uint64_fmt(messname + n, (uint64_t)st.st_ino) ;
    messname[n] = 0 ;
  }

  /* the message, behind a header that gets its length at the end */
  buffer_init(&w, &buffer_write, fd, obuf, sizeof obuf) ;
  qfile_header(hdr, 0) ;
  {
    char date[DATE822_LEN] ;
    char num[UINT64_FMT] ;
    if (!stralloc_catb(&out, hdr, MESS_HEADER_LEN)
     || !stralloc_cats(&out, "Received: (mm-queue ")
     || !stralloc_catb(&out, num, pid_fmt(num, getpid()))
     || !stralloc_cats(&out, " invoked by uid ")
     || !stralloc_catb(&out, num, uid_fmt(num, uid))
     || !stralloc_cats(&out, "); ")
     || !stralloc_catb(&out, date, date822_fmt(date, now))
     || !stralloc_catb(&out, "\n", 1)) dietemp("build Received line") ;
    if (buffer_put(&w, out.s, out.len) < 0) dietemp("write queue file") ;
    messlen = out.len - MESS_HEADER_LEN ;
  }
  {
    int heldcr = 0 ;
    for (;;)
    {
      ssize_t r = read(0, ibuf, sizeof ibuf) ;
      char const *s = ibuf ;
      size_t n = r ;
      if (r < 0) { if (errno == EINTR) continue ; dietemp("read message") ; }
      /* every message passes here: no stray CR gets into the queue */
      if (heldcr || memchr(ibuf, '\r', n)) { n = straycr_fix(fixbuf, ibuf, n, &heldcr) ; s = fixbuf ; }
      messlen += n ;
      if (databytes && messlen > databytes)
      {
        cleanup() ;
        strerr_dief1x(EX_DATAERR, "message too big (#5.3.4)") ;
      }
      if (buffer_put(&w, s, n) < 0) dietemp("write queue file") ;
      if (!r) break ;
    }
  }

  /* the envelope: fields, each ending in \0, and a final \0 */
  {
    char buf[4096] ;
    for (;;)
    {
      ssize_t r = read(1, buf, sizeof buf) ;
      if (r < 0) { if (errno == EINTR) continue ; dietemp("read envelope") ; }
      if (!r) break ;
      if (env.len + r > ENVELOPE_MAX) diebad("envelope too big") ;
      if (!stralloc_catb(&env, buf, r)) dietemp("read envelope") ;
    }
  }
  if (env.len < 2 || env.s[env.len - 1] || env.s[env.len - 2])
  {
    /* the writer died before finishing: nothing was promised to anyone */
    cleanup() ;
    strerr_dief1x(EX_TEMPFAIL, "incomplete envelope: writer died, message not queued (#4.3.0)") ;
  }
  {
    size_t i = 0 ;
    unsigned int nrcpt = 0 ;
    int havesender = 0 ;
    char num[UINT64_FMT] ;
    out.len = 0 ;
    if (!stralloc_catb(&out, "u", 1) || !stralloc_catb(&out, num, uid_fmt(num, uid))
     || !stralloc_catb(&out, "\nt", 2) || !stralloc_catb(&out, num, uint64_fmt(num, (uint64_t)now))
     || !stralloc_catb(&out, "\nk", 2) || !stralloc_catb(&out, num, uint64_fmt(num, (uint64_t)stamp.tv_sec))
     || !stralloc_catb(&out, ".M", 2) || !stralloc_catb(&out, num, uint64_fmt(num, (uint64_t)stamp.tv_nsec))
     || !stralloc_catb(&out, "P", 1) || !stralloc_catb(&out, num, pid_fmt(num, getpid()))
     || !stralloc_catb(&out, "\n", 1)) dietemp("build envelope") ;
    while (i < env.len - 1)
    {
      char const *field = env.s + i ;
      size_t len = strlen(field) ;
      char const *why ;
      i += len + 1 ;
      if (!len) diebad("empty envelope field") ;
      for (size_t j = 1 ; j < len ; j++)
        if (field[j] == '\n') diebad("newline in envelope field") ;
      switch (field[0])
      {
        case 'O' :
          if (havesender) diebad("option after sender") ;
          if (strspn(field + 1, "qb2w") != len - 1) diebad("unknown envelope option") ;
          if (strspn(field + 1, OPTIONS_ANYONE) != len - 1 && !trusted_options(uid))
            dieperm("envelope options other than q are for mm-send only") ;
          if (!stralloc_catb(&out, "o", 1) || !stralloc_catb(&out, field + 1, len - 1) || !stralloc_catb(&out, "\n", 1)) dietemp("build envelope") ;
          break ;
        case 'H' :
          if (havesender) diebad("host after sender") ;
          /* sendmail -bs runs mm-smtpd as its caller, which may say H:
             from anyone else it is dropped, the Received line says who */
          if (!trusted_host(uid)) break ;
          if (!host_ok(field + 1, len - 1)) diebad("control character or space in the host field") ;
          if (!stralloc_catb(&out, "h", 1) || !stralloc_catb(&out, field + 1, len - 1) || !stralloc_catb(&out, "\n", 1)) dietemp("build envelope") ;
          break ;
        case 'F' :
          if (havesender++) diebad("two senders in envelope") ;
          if (len > 1 && !address_ok(field + 1, len - 1, &why)) diebad("invalid sender address") ;
          if (!stralloc_catb(&out, "f", 1) || !stralloc_catb(&out, field + 1, len - 1) || !stralloc_catb(&out, "\n", 1)) dietemp("build envelope") ;
          break ;
        case 'T' :
          if (!havesender) diebad("recipient before sender") ;
          if (!address_ok(field + 1, len - 1, &why))
          {
            cleanup() ;
            strerr_dief4x(EX_DATAERR, "invalid recipient address ", field + 1, ": ", why) ;
          }
          if (!stralloc_catb(&out, "r", 1) || !stralloc_catb(&out, field + 1, len - 1) || !stralloc_catb(&out, "\n", 1)) dietemp("build envelope") ;
          nrcpt++ ;
          break ;
        default : diebad("unknown envelope field") ;
      }
    }
    if (!havesender) diebad("no sender in envelope") ;
    if (!nrcpt) diebad("no recipients") ;
    if (!stralloc_catb(&out, ".\n", 2)) dietemp("build envelope") ;
  }
  if (buffer_put(&w, out.s, out.len) < 0 || !buffer_flush(&w)) dietemp("write queue file") ;
  qfile_header(hdr, messlen) ;
  if (pwrite(fd, hdr, MESS_HEADER_LEN, 0) != MESS_HEADER_LEN) dietemp("write queue file") ;

  /* S3 -> S4: the data is on disk, then its name is: the commit */
  if (fsync(fd) < 0) dietemp("fsync queue file") ;
  close(fd) ;
  if (link(tmpname, messname) < 0) dietemp("link queue file") ;
  linked = 1 ;
  fsync_dir("mess") ;
  linked = 0 ;
  alarm(0) ;
  /* the id is the news of the commit: a caller that has it need not
     wait for the rest */
  if (idfd >= 0)
  {
    char line[32] ;
    size_t n = strlen(messname + 5) ;
    memcpy(line, messname + 5, n) ;
    line[n++] = '\n' ;
    if (allwrite(idfd, line, n) < n) { }
    close(idfd) ;
  }

  /* S5: the rest only speeds things up; a crash here loses nothing */
  {
    char todo[32] ;
    memcpy(todo, "todo/", 5) ;
    strcpy(todo + 5, messname + 5) ;
    if (link(messname, todo) < 0 && errno != EEXIST)
      strerr_warnwu2sys("link ", todo) ;
  }
  unlink(tmpname) ;
  trigger_pull(TRIGGER_NEW) ;
  return 0 ;
}

/* a child of the door: the caller's descriptors are in place */
static void door_child (uid_t uid)
{
  _exit(queue_message(uid, 3)) ;
}

/* mm-queue -l: the door (INTERNALS 4.1), as the queue owner, from
   mm-start (as the queue owner) or mm-send (the send user, through the
   setuid bit). It ends with mm-send (SIGTERM when its parent dies) or
   after QDOOR_IDLE seconds without a caller. Anyone else would give
   the door, and every message through it, their own resource limits. */
static int door (void)
{
  uid_t ruid = getuid(), euid = geteuid() ;
  pid_t parent = getppid() ;
  if (ruid != euid)
  {
    if (ruid && !is_role(ruid, USERS_SEND))
      strerr_dief1x(EX_NOPERM, "the door is opened by mm-start and mm-send only (#5.7.1)") ;
    /* the queue owner's through and through: not signalled by its caller */
    if (setresuid(euid, euid, euid) < 0) strerr_diefu1sys(EX_TEMPFAIL, "become the queue owner") ;
  }
  /* after the uid change, which clears it */
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent || getppid() == 1) return EX_TEMPFAIL ;
  /* nothing of the parent's but standard input, output and error */
  if (close_range(3, ~0U, 0) < 0) strerr_diefu1sys(EX_TEMPFAIL, "close descriptors") ;
  mm_chdir_home() ;
  if (qdoor_serve(-1, QDOOR_IDLE, &door_child) < 0)
    strerr_diefu2sys(EX_TEMPFAIL, "open the door ", QDOOR_SOCKET) ;
  return 0 ;
}

int main (int argc, char const *const *argv)
{
  int idfd = -1 ;
  int listen = 0 ;
  PROG = "mm-queue" ;
  usage_help(argc, argv, USAGE) ;
  privs_init() ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "d:l", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'd' : if (!int0_scan(l.arg, &idfd)) dieusage() ; break ;
        case 'l' : listen = 1 ; break ;
        default : dieusage() ;
      }
    }
  }
  if (listen) return door() ;
  return queue_message(getuid(), idfd) ;
}
