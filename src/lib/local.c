/* mm-local's work: one local delivery of one message for one recipient:
   the user's .forward or the method in control/delivery (mbox, Maildir,
   MDA), or an alias pipe or file. Runs as the recipient (the alias user
   for alias targets) in a child mm-lspawn forked, or in bin/mm-local;
   never as root in an install. */

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/exec.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sgetopt.h>
#include <skalibs/sig.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "address.h"
#include "alias.h"
#include "control.h"
#include "home.h"
#include "local.h"
#include "privs.h"
#include "logstamp.h"
#include "usage.h"
#include "mailbox.h"
#include "qspawn.h"
#include "rfc822.h"

#define USAGE "mm-local [ -s size ] [ -h host ] user home recipient sender target"
#define dieusage() strerr_dieusage(EX_USAGE, USAGE)

#define PIPE_TIMEOUT 3600          /* seconds a |command or an MDA may run */
#define HEADER_SCAN_MAX (1 << 20)  /* header bytes searched for Delivered-To and Message-ID */
#define OUTPUT_LINE_MAX 300        /* a command's output kept for the reason */
#define FORWARD_MAX 1000           /* entries in one .forward */
#define BUFFER_SIZE 65536

static char const *user, *userhome, *recipient, *sender, *target ;
static char const *host = "" ;
static uint64_t msgsize ;
static char const *deliverykey = 0 ;  /* -k: this delivery's own Maildir name */
static int havesize = 0 ;
static off_t msgstart ;

static stralloc prefix = STRALLOC_ZERO ;     /* Return-Path and Delivered-To */
static stralloc messageid = STRALLOC_ZERO ;
static stralloc done = STRALLOC_ZERO ;       /* what was delivered, for the success line */
static stralloc reason = STRALLOC_ZERO ;     /* the failure line */
static stralloc envstore = STRALLOC_ZERO ;   /* the environment of commands */
static char const *envp[16] ;

static gid_t spoolgid ;
static int hasspool = 0 ;
static int sfd = -1 ;


/* ---- results ---- */

static void dienomem (void)
{
  allwrite(1, "4.3.0 out of memory\n", 20) ;
  _exit(EX_TEMPFAIL) ;
}

/* Set the failure line from a NULL-terminated list of strings; returns code. */
static int fail (int code, ...)
{
  va_list ap ;
  char const *s ;
  reason.len = 0 ;
  va_start(ap, code) ;
  while ((s = va_arg(ap, char const *)))
    if (!stralloc_cats(&reason, s)) dienomem() ;
  va_end(ap) ;
  return code ;
}

/* A failed system call on what (a path): always temporary; a full disk
   or quota is said as such. */
static int failsys (char const *verb, char const *what)
{
  if (errno == ENOSPC || errno == EDQUOT)
    return fail(EX_TEMPFAIL, "4.2.2 mailbox full or disk full: ", what, (char const *)0) ;
  return fail(EX_TEMPFAIL, "4.3.0 unable to ", verb, " ", what, ": ", strerror(errno), (char const *)0) ;
}

static void done_add (char const *a, char const *b)
{
  if ((done.len && !stralloc_catb(&done, "; ", 2))
   || !stralloc_cats(&done, a) || (b && !stralloc_cats(&done, b))) dienomem() ;
}


/* ---- the mail spool group ---- */

/* mm-lspawn leaves the mail spool group as effective and saved gid.
   It is raised only while writing a mailbox that control/delivery
   names, and dropped for good in anything that runs a command. */
static void spool_init (void)
{
  if (getegid() == getgid()) return ;
  spoolgid = getegid() ;
  hasspool = 1 ;
  if (setegid(getgid()) < 0) { allwrite(1, "4.3.0 unable to set the effective gid\n", 38) ; _exit(EX_TEMPFAIL) ; }
}

static void spool_raise (void)
{
  if (hasspool && setegid(spoolgid) < 0) strerr_diefu1sys(EX_TEMPFAIL, "set the effective gid") ;
}

static void spool_lower (void)
{
  if (hasspool && setegid(getgid()) < 0) strerr_diefu1sys(EX_TEMPFAIL, "set the effective gid") ;
}

static int spool_drop (void)
{
  gid_t g = getgid() ;
  if (!hasspool) return 1 ;
  if (setresgid(g, g, g) < 0) return 0 ;
  hasspool = 0 ;
  return 1 ;
}


/* ---- the message ---- */

/* The message, as mailbox_writer: copied to out, mbox-quoted when
   quote is set. 1 ok, 0 error (errno; EPIPE when a reader went away). */
static int message_copy (buffer *out, int quote, int *lastnl)
{
  char buf[BUFFER_SIZE] ;
  uint64_t pos = 0 ;
  mboxquote q = MBOXQUOTE_ZERO ;
  char last = '\n' ;
  for (;;)
  {
    size_t want = sizeof buf ;
    ssize_t r ;
    if (havesize)
    {
      if (pos >= msgsize) break ;
      if (msgsize - pos < want) want = msgsize - pos ;
    }
    r = pread(0, buf, want, msgstart + pos) ;
    if (r < 0) { if (errno == EINTR) continue ; return 0 ; }
    if (!r)
    {
      if (havesize) { errno = EIO ; return 0 ; }  /* the queue file is shorter than it says */
      break ;
    }
    pos += r ;
    last = buf[r-1] ;
    if (quote ? !mboxquote_put(out, &q, buf, r) : buffer_put(out, buf, r) < 0) return 0 ;
  }
  if (quote && !mboxquote_end(out, &q)) return 0 ;
  if (lastnl) *lastnl = last == '\n' ;
  return 1 ;
}

/* Look through the header for Delivered-To (a loop) and Message-ID. */
static int header_scan (void)
{
  stralloc h = STRALLOC_ZERO ;
  size_t want = HEADER_SCAN_MAX, i = 0 ;
  ssize_t r ;
  int loop = 0 ;
  if (havesize && msgsize < want) want = msgsize ;
  if (!stralloc_ready(&h, want)) dienomem() ;
  for (;;)
  {
    r = pread(0, h.s + h.len, want - h.len, msgstart + h.len) ;
    if (r < 0) { if (errno == EINTR) continue ; stralloc_free(&h) ; return failsys("read", "the message") ; }
    if (!r) break ;
    h.len += r ;
    if (h.len == want || memmem(h.s, h.len, "\n\n", 2)) break ;
  }
  while (i < h.len && h.s[i] != '\n')
  {
    size_t end = i, vstart, vend ;
    /* a field is its line and the folded lines after it */
    for (;;)
    {
      char const *nl = memchr(h.s + end, '\n', h.len - end) ;
      end = nl ? (size_t)(nl - h.s) + 1 : h.len ;
      if (end >= h.len || (h.s[end] != ' ' && h.s[end] != '\t')) break ;
    }
    vstart = i + rfc822_fieldname(h.s + i, end - i) ;
    while (vstart < end && h.s[vstart] != ':') vstart++ ;
    vstart++ ;
    while (vstart < end && (h.s[vstart] == ' ' || h.s[vstart] == '\t')) vstart++ ;
    vend = end ;
    while (vend > vstart && (h.s[vend-1] == ' ' || h.s[vend-1] == '\t' || h.s[vend-1] == '\n' || h.s[vend-1] == '\r')) vend-- ;
    if (vstart <= vend)
    {
      if (rfc822_is_field(h.s + i, end - i, "Delivered-To")
       && vend - vstart == strlen(recipient) && !strncasecmp(h.s + vstart, recipient, vend - vstart)) loop = 1 ;
      else if (!messageid.len && rfc822_is_field(h.s + i, end - i, "Message-ID"))
      {
        for (size_t k = vstart ; k < vend ; k++)
          if (h.s[k] != '\n' && h.s[k] != '\r' && !stralloc_catb(&messageid, h.s + k, 1)) dienomem() ;
      }
    }
    i = end ;
  }
  stralloc_free(&h) ;
  if (!stralloc_0(&messageid)) dienomem() ;
  messageid.len-- ;
  if (loop) return fail(EX_DATAERR, "5.4.6 mail loop: already delivered to ", recipient, (char const *)0) ;
  return 0 ;
}


/* ---- the environment of commands ---- */

static void env_add (char const *name, char const *value, size_t len)
{
  if (!stralloc_cats(&envstore, name) || !stralloc_catb(&envstore, "=", 1)
   || !stralloc_catb(&envstore, value, len) || !stralloc_0(&envstore)) dienomem() ;
}

/* Exactly these variables, documented in mm-local(8). */
static void env_build (void)
{
  size_t slen = strlen(sender), sat = address_at(sender, slen) ;
  size_t rlen = strlen(recipient), rat = address_at(recipient, rlen) ;
  char const *home = userhome ;
  size_t n = 0 ;
  env_add("SENDER", sender, slen) ;
  if (!stralloc_cats(&envstore, "RETURN_PATH=<") || !stralloc_cats(&envstore, sender)
   || !stralloc_catb(&envstore, ">", 1) || !stralloc_0(&envstore)) dienomem() ;
  env_add("SENDER_LOCAL", sender, sat) ;
  env_add("SENDER_DOMAIN", sat < slen ? sender + sat + 1 : "", sat < slen ? slen - sat - 1 : 0) ;
  env_add("RECEIVED_HOST", host, strlen(host)) ;
  env_add("LOCAL_PART", recipient, rat) ;
  env_add("DOMAIN", rat < rlen ? recipient + rat + 1 : "", rat < rlen ? rlen - rat - 1 : 0) ;
  env_add("USER", user, strlen(user)) ;
  env_add("LOGNAME", user, strlen(user)) ;
  env_add("MESSAGE_ID", messageid.s, messageid.len) ;
  env_add("QUALIFY_DOMAIN", control_defaultdomain(), strlen(control_defaultdomain())) ;
  env_add("HOME", home, strlen(home)) ;
  env_add("PATH", "/usr/bin:/bin", 13) ;
  for (size_t i = 0 ; i < envstore.len ; i += strlen(envstore.s + i) + 1) envp[n++] = envstore.s + i ;
  envp[n] = 0 ;
}


/* ---- running a command: |command and mda ---- */

static void collect (int fd, char *line, size_t *len, int *full)
{
  char buf[4096] ;
  for (;;)
  {
    ssize_t r = read(fd, buf, sizeof buf) ;
    if (r <= 0) return ;
    for (ssize_t i = 0 ; i < r && !*full ; i++)
    {
      if (buf[i] == '\n' || *len == OUTPUT_LINE_MAX) { if (*len) *full = 1 ; }
      else line[(*len)++] = (unsigned char)buf[i] < 32 ? ' ' : buf[i] ;
    }
  }
}

/* Feed Delivered-To, Return-Path and the message to fd, then exit. */
static void feeder (int fd)
{
  char buf[BUFFER_SIZE] ;
  buffer b = BUFFER_INIT(&buffer_write, fd, buf, sizeof buf) ;
  if (buffer_put(&b, prefix.s, prefix.len) < 0 || !message_copy(&b, 0, 0) || !buffer_flush(&b))
    _exit(errno == EPIPE ? 0 : EX_TEMPFAIL) ;  /* a command need not read it all */
  _exit(0) ;
}

/* Enhanced status for a command's permanent exit code (sysexits.h). */
static char const *exit_status (int code)
{
  switch (code)
  {
    case EX_NOUSER : return "5.1.1" ;
    case EX_NOPERM : return "5.7.1" ;
    case EX_DATAERR : return "5.6.0" ;
    case EX_CANTCREAT : return "5.2.0" ;
    default : return "5.3.0" ;
  }
}

/* Run argv (PATH searched) as this user, message on stdin, first line of
   stdout and stderr kept for the reason. what names it in texts. */
static int run_command (char const *const *argv, char const *what)
{
  int in[2], out[2] ;
  pid_t cmd, feed ;
  int wstat = 0, cmddone = 0, feeddone = 0, timedout = 0, full = 0 ;
  char line[OUTPUT_LINE_MAX + 1] ;
  size_t len = 0 ;
  char fmt[UINT_FMT] ;
  tain deadline ;

  pid_t parent = getpid() ;
  if (pipecoe(in) < 0) return failsys("create a pipe for", what) ;
  if (pipenbcoe(out) < 0) { close(in[0]) ; close(in[1]) ; return failsys("create a pipe for", what) ; }
  cmd = fork() ;
  if (cmd < 0) { close(in[0]) ; close(in[1]) ; close(out[0]) ; close(out[1]) ; return failsys("fork for", what) ; }
  if (!cmd)
  {
    selfpipe_finish() ;
    sig_blocknone() ;
    sig_restore(SIGPIPE) ;
    /* its own process group, so that a timeout reaches its children too */
    setsid() ;
    /* after the gid change, which clears it: a command whose mm-local
       died is cut short too, not left to finish a delivery that nobody
       records and that is made again (mm-local(8)) */
    if (!spool_drop() || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent
     || fd_move(0, in[0]) < 0 || ndelay_off(out[1]) < 0
     || fd_copy(2, out[1]) < 0 || fd_move(1, out[1]) < 0) _exit(EX_TEMPFAIL) ;
    exec_ae(argv[0], argv, envp) ;
    /* a missing or broken MDA is the administrator's to fix: mail waits */
    strerr_warnwu2sys("run ", argv[0]) ;
    _exit(EX_TEMPFAIL) ;
  }
  close(in[0]) ; close(out[1]) ;
  feed = fork() ;
  if (feed < 0)
  {
    close(in[1]) ;
    kill(-cmd, SIGKILL) ; kill(cmd, SIGKILL) ;
    waitpid_nointr(cmd, &wstat, 0) ;
    close(out[0]) ;
    return failsys("fork for", what) ;
  }
  if (!feed)
  {
    selfpipe_finish() ;
    sig_blocknone() ;
    close(out[0]) ;
    feeder(in[1]) ;
  }
  close(in[1]) ;

  tain_now_set_stopwatch_g() ;
  tain_addsec_g(&deadline, PIPE_TIMEOUT) ;
  while (!cmddone)
  {
    iopause_fd x[2] = { { .fd = sfd, .events = IOPAUSE_READ }, { .fd = out[0], .events = IOPAUSE_READ } } ;
    int r = iopause_g(x, out[0] >= 0 ? 2 : 1, &deadline) ;
    if (r < 0)
    {
      if (errno == EINTR) continue ;
      strerr_diefu1sys(EX_TEMPFAIL, "iopause") ;
    }
    if (!r)
    {
      timedout = 1 ;
      kill(-cmd, SIGKILL) ;
      kill(cmd, SIGKILL) ;
      waitpid_nointr(cmd, &wstat, 0) ;
      cmddone = 1 ;
      break ;
    }
    if (x[0].revents & IOPAUSE_READ)
    {
      int sig ;
      while ((sig = selfpipe_read()) > 0)
        if (sig == SIGCHLD)
        {
          int w ;
          if (!cmddone && wait_pid_nohang(cmd, &w) == cmd) { wstat = w ; cmddone = 1 ; }
          if (!feeddone && wait_pid_nohang(feed, &w) == feed) feeddone = 1 ;
        }
    }
    if (out[0] >= 0 && x[1].revents)
    {
      char buf[4096] ;
      ssize_t n = read(out[0], buf, sizeof buf) ;
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) { close(out[0]) ; out[0] = -1 ; }
      else if (n > 0)
        for (ssize_t i = 0 ; i < n && !full ; i++)
        {
          if (buf[i] == '\n' || len == OUTPUT_LINE_MAX) { if (len) full = 1 ; }
          else line[len++] = (unsigned char)buf[i] < 32 ? ' ' : buf[i] ;
        }
    }
  }
  if (out[0] >= 0)
  {
    /* what it wrote before exiting; a background child keeping the pipe
       open does not hold the delivery */
    collect(out[0], line, &len, &full) ;
    close(out[0]) ;
  }
  if (!feeddone)
  {
    kill(feed, SIGKILL) ;
    waitpid_nointr(feed, 0, 0) ;
  }
  line[len] = 0 ;
  if (timedout)
  {
    fmt[uint_fmt(fmt, PIPE_TIMEOUT)] = 0 ;
    return fail(EX_TEMPFAIL, "4.3.0 ", what, " timed out after ", fmt, " seconds", (char const *)0) ;
  }
  if (WIFSIGNALED(wstat))
  {
    fmt[uint_fmt(fmt, WTERMSIG(wstat))] = 0 ;
    return fail(EX_TEMPFAIL, "4.3.0 ", what, " killed by signal ", fmt, len ? ": " : "", line, (char const *)0) ;
  }
  switch (WEXITSTATUS(wstat))
  {
    case 0 : return 0 ;
    case EX_TEMPFAIL : case 111 :
      fmt[uint_fmt(fmt, WEXITSTATUS(wstat))] = 0 ;
      return fail(EX_TEMPFAIL, "4.3.0 ", what, " failed temporarily (exit ", fmt, ")", len ? ": " : "", line, (char const *)0) ;
    default :
    {
      int code = WEXITSTATUS(wstat) ;
      fmt[uint_fmt(fmt, code)] = 0 ;
      return fail(code >= EX__BASE && code <= EX__MAX ? code : EX_UNAVAILABLE,
        exit_status(code), " ", what, " failed (exit ", fmt, ")", len ? ": " : "", line, (char const *)0) ;
    }
  }
}

static int deliver_pipe (char const *command)
{
  char const *argv[4] = { "/bin/sh", "-c", command, 0 } ;
  stralloc what = STRALLOC_ZERO ;
  int r ;
  if (!stralloc_cats(&what, "command |") || !stralloc_cats(&what, command) || !stralloc_0(&what)) dienomem() ;
  r = run_command(argv, what.s) ;
  if (!r) done_add("delivered to ", what.s) ;
  stralloc_free(&what) ;
  return r ;
}


/* ---- mailboxes ---- */

/* spool: with the mail spool group (the mailbox control/delivery names). */
static int deliver_mbox (char const *path, int spool)
{
  int r ;
  if (spool) spool_raise() ;
  r = mailbox_mbox(path, sender, prefix.s, prefix.len, &message_copy, &reason) ;
  if (spool) spool_lower() ;
  if (!r) done_add(strcmp(path, "/dev/null") ? "delivered to mbox " : "discarded to ", path) ;
  return r ;
}

static int deliver_maildir (char const *dir)
{
  int r = mailbox_maildir(dir, deliverykey, prefix.s, prefix.len, &message_copy, &reason) ;
  if (!r) done_add("delivered to maildir ", dir) ;
  return r ;
}

/* A file target: a path ending in '/' is a Maildir, anything else an mbox. */
static int deliver_file (char const *path, int spool)
{
  size_t len = strlen(path) ;
  return len && path[len-1] == '/' ? deliver_maildir(path) : deliver_mbox(path, spool) ;
}


/* ---- control/delivery ---- */

/* Expand ~/ at the start, and %u %h %r %s %l %d %% (mm-local(8)). */
static void expand (stralloc *sa, char const *s, size_t len)
{
  size_t rlen = strlen(recipient), rat = address_at(recipient, rlen) ;
  size_t i = 0 ;
  if (len >= 2 && s[0] == '~' && s[1] == '/')
  {
    if (!stralloc_cats(sa, userhome) || !stralloc_catb(sa, "/", 1)) dienomem() ;
    i = 2 ;
  }
  for (; i < len ; i++)
  {
    int ok = 1 ;
    if (s[i] != '%' || i + 1 == len) { if (!stralloc_catb(sa, s + i, 1)) dienomem() ; continue ; }
    switch (s[++i])
    {
      case 'u' : ok = stralloc_cats(sa, user) ; break ;
      case 'h' : ok = stralloc_cats(sa, userhome) ; break ;
      case 'r' : ok = stralloc_cats(sa, recipient) ; break ;
      case 's' : ok = stralloc_cats(sa, sender) ; break ;
      case 'l' : ok = stralloc_catb(sa, recipient, rat) ; break ;
      case 'd' : ok = rat < rlen ? stralloc_catb(sa, recipient + rat + 1, rlen - rat - 1) : 1 ; break ;
      case '%' : ok = stralloc_catb(sa, "%", 1) ; break ;
      default : ok = stralloc_catb(sa, s + i - 1, 2) ; break ;
    }
    if (!ok) dienomem() ;
  }
}

static int isblank_ (char c) { return c == ' ' || c == '\t' ; }

/* The user's own mailbox, by the method control/delivery gives. */
static int deliver_own (void)
{
  stralloc lines = STRALLOC_ZERO, arg = STRALLOC_ZERO ;
  char const *method = 0, *rest = 0 ;
  size_t methodlen = 0 ;
  int r = control_readlines(&lines, "control/delivery") ;
  if (r < 0) return fail(EX_TEMPFAIL, "4.3.0 unable to read control/delivery: ", strerror(errno), (char const *)0) ;
  {
    char const *star = 0 ;
    for (size_t i = 0 ; i < lines.len ; i += strlen(lines.s + i) + 1)
    {
      char const *l = lines.s + i ;
      size_t w = strcspn(l, " \t") ;
      if (w == strlen(user) && !strncmp(l, user, w)) { method = l ; break ; }
      if (w == 1 && l[0] == '*' && !star) star = l ;
    }
    if (!method) method = star ;
  }
  /* no file, or no line for this user: the built-in default */
  if (!method) method = mm_is_instance() ? "* maildir ~/Maildir/" : "* mbox /var/mail/%u" ;
  method += strcspn(method, " \t") ;
  while (isblank_(*method)) method++ ;
  methodlen = strcspn(method, " \t") ;
  rest = method + methodlen ;
  while (isblank_(*rest)) rest++ ;
  if (!methodlen || !*rest)
  {
    r = fail(EX_TEMPFAIL, "4.3.5 control/delivery: no method and argument for ", user, (char const *)0) ;
    goto end ;
  }
  if (methodlen == 4 && !strncmp(method, "mbox", 4))
  {
    expand(&arg, rest, strlen(rest)) ;
    if (!stralloc_0(&arg)) dienomem() ;
    r = deliver_mbox(arg.s, 1) ;
  }
  else if (methodlen == 7 && !strncmp(method, "maildir", 7))
  {
    expand(&arg, rest, strlen(rest)) ;
    if (!stralloc_0(&arg)) dienomem() ;
    r = deliver_maildir(arg.s) ;
  }
  else if (methodlen == 3 && !strncmp(method, "mda", 3))
  {
    /* split first, then expand: an address with a space stays one argument */
    char const *argv[64] ;
    size_t offs[64] ;
    unsigned int n = 0 ;
    char const *p = rest ;
    while (*p)
    {
      size_t w = strcspn(p, " \t") ;
      if (n == 63) { r = fail(EX_TEMPFAIL, "4.3.5 control/delivery: mda command too long", (char const *)0) ; goto end ; }
      offs[n++] = arg.len ;
      expand(&arg, p, w) ;
      if (!stralloc_0(&arg)) dienomem() ;
      p += w ;
      while (isblank_(*p)) p++ ;
    }
    for (unsigned int i = 0 ; i < n ; i++) argv[i] = arg.s + offs[i] ;
    argv[n] = 0 ;
    {
      stralloc what = STRALLOC_ZERO ;
      if (!stralloc_cats(&what, "mda ") || !stralloc_cats(&what, argv[0]) || !stralloc_0(&what)) dienomem() ;
      r = run_command(argv, what.s) ;
      if (!r) done_add("delivered by ", what.s) ;
      stralloc_free(&what) ;
    }
  }
  else
  {
    stralloc m = STRALLOC_ZERO ;
    if (!stralloc_catb(&m, method, methodlen) || !stralloc_0(&m)) dienomem() ;
    r = fail(EX_TEMPFAIL, "4.3.5 control/delivery: unknown method ", m.s, (char const *)0) ;
    stralloc_free(&m) ;
  }
 end:
  stralloc_free(&lines) ;
  stralloc_free(&arg) ;
  return r ;
}


/* ---- .forward ---- */

/* Reinject to the forward addresses, same sender, with our Delivered-To. */
static int forward (char const *const *rcpts, unsigned int n)
{
  qspawn q ;
  char id[32] ;
  int code ;
  if (!spool_drop()) return failsys("drop the mail group for", "forwarding") ;
  if (!qspawn_start(&q)) return failsys("run", "mm-queue") ;
  if (buffer_puts(&q.mess, "Delivered-To: ") < 0 || buffer_puts(&q.mess, recipient) < 0 || buffer_put(&q.mess, "\n", 1) < 0
   || !message_copy(&q.mess, 0, 0))
  {
    int e = errno ;
    qspawn_abort(&q) ;
    errno = e ;
    return failsys("forward", "the message") ;
  }
  code = qspawn_finish(&q, 0, sender, rcpts, n, id) ;
  /* only a refusal mm-queue documents as permanent bounces; anything
     unexpected is tried again */
  if (code == EX_DATAERR) return fail(EX_DATAERR, "5.3.0 forwarding refused: ", qspawn_strerror(code), (char const *)0) ;
  if (code) return fail(EX_TEMPFAIL, "4.3.0 forwarding failed: ", qspawn_strerror(code), (char const *)0) ;
  for (unsigned int i = 0 ; i < n ; i++) done_add(i ? "" : "forwarded to ", rcpts[i]) ;
  done_add("queued as msg ", id) ;
  return 0 ;
}

/* 1 if the address (parsed, qualified) is this user's own mailbox. */
static int is_self (char const *addr)
{
  size_t len = strlen(addr), at = address_at(addr, len) ;
  if (!strcasecmp(addr, recipient)) return 1 ;
  return at < len && at == strlen(user) && !strncasecmp(addr, user, at) && control_islocal(addr + at + 1, len - at - 1) ;
}

/* -1 when there is no .forward (or it is empty), else an exit code. */
static int dotforward (void)
{
  stralloc path = STRALLOC_ZERO, text = STRALLOC_ZERO, list = STRALLOC_ZERO, addrs = STRALLOC_ZERO, one = STRALLOC_ZERO ;
  char const *rcpts[FORWARD_MAX] ;
  unsigned int nfwd = 0 ;
  int n, r = 0, self = 0 ;
  struct stat st ;
  int fd ;
  char const *why ;

  if (!stralloc_cats(&path, userhome) || !stralloc_cats(&path, "/.forward") || !stralloc_0(&path)) dienomem() ;
  fd = open2(path.s, O_RDONLY | O_NOCTTY | O_CLOEXEC) ;
  if (fd < 0)
  {
    r = errno == ENOENT || errno == ENOTDIR ? -1 : failsys("read", path.s) ;
    goto end ;
  }
  if (fstat(fd, &st) < 0 || !slurp(&text, fd)) { r = failsys("read", path.s) ; close(fd) ; goto end ; }
  close(fd) ;
  if (st.st_uid != getuid() && st.st_uid != 0)
  {
    r = fail(EX_TEMPFAIL, "4.7.0 ", path.s, " is not owned by ", user, (char const *)0) ;
    goto end ;
  }
  if (st.st_mode & S_IWOTH)
  {
    r = fail(EX_TEMPFAIL, "4.7.0 ", path.s, " is writable by everyone", (char const *)0) ;
    goto end ;
  }
  if (memchr(text.s, 0, text.len)) { r = fail(EX_TEMPFAIL, "4.3.5 NUL byte in ", path.s, (char const *)0) ; goto end ; }
  n = alias_split(&list, text.s, text.len) ;
  if (n == -1) dienomem() ;
  if (n == -2) { r = fail(EX_TEMPFAIL, "4.3.5 unterminated quote in ", path.s, (char const *)0) ; goto end ; }
  if (!n) { r = -1 ; goto end ; }

  /* check it all before delivering anything */
  for (size_t i = 0 ; i < list.len ; i += strlen(list.s + i) + 1)
  {
    char const *e = list.s + i ;
    if (e[0] == '|' || e[0] == '/' || (e[0] == '~' && e[1] == '/')) continue ;
    if (e[0] == ':') { r = fail(EX_TEMPFAIL, "4.3.5 ", path.s, ": :include: is for the alias file only", (char const *)0) ; goto end ; }
    if (e[0] == '\\') e++ ;
    one.len = 0 ;
    if (!address_parse(&one, e, strlen(e), control_defaultdomain(), &why)) why = why ? why : "syntax error" ;
    else if (!one.len) why = "empty address" ;
    else why = 0 ;
    if (why)
    {
      r = fail(EX_TEMPFAIL, "4.3.5 ", path.s, ": bad address ", e, ": ", why, (char const *)0) ;
      goto end ;
    }
    if (is_self(one.s)) continue ;
    if (nfwd == FORWARD_MAX) { r = fail(EX_TEMPFAIL, "4.3.5 ", path.s, ": too many addresses", (char const *)0) ; goto end ; }
    nfwd++ ;
  }

  /* local entries in order; the first failure ends it (and a retry
     repeats the ones before: mm-local(8)); forwards go last, together */
  nfwd = 0 ;
  for (size_t i = 0 ; i < list.len && !r ; i += strlen(list.s + i) + 1)
  {
    char const *e = list.s + i ;
    if (e[0] == '|') r = deliver_pipe(e + 1) ;
    else if (e[0] == '/') r = deliver_file(e, 0) ;
    else if (e[0] == '~' && e[1] == '/')
    {
      stralloc p = STRALLOC_ZERO ;
      expand(&p, e, strlen(e)) ;
      if (!stralloc_0(&p)) dienomem() ;
      r = deliver_file(p.s, 0) ;
      stralloc_free(&p) ;
    }
    else
    {
      if (e[0] == '\\') e++ ;
      one.len = 0 ;
      if (!address_parse(&one, e, strlen(e), control_defaultdomain(), &why) || !stralloc_0(&one)) dienomem() ;
      if (is_self(one.s))
      {
        if (!self++) r = deliver_own() ;
      }
      else
      {
        if (!stralloc_cat(&addrs, &one)) dienomem() ;
        nfwd++ ;
      }
    }
  }
  if (!r && nfwd)
  {
    size_t pos = 0 ;
    for (unsigned int k = 0 ; k < nfwd ; k++)
    {
      rcpts[k] = addrs.s + pos ;
      pos += strlen(addrs.s + pos) + 1 ;
    }
    r = forward(rcpts, nfwd) ;
  }
 end:
  stralloc_free(&path) ; stralloc_free(&text) ; stralloc_free(&list) ;
  stralloc_free(&addrs) ; stralloc_free(&one) ;
  return r ;
}


int local_main (int argc, char const *const *argv)
{
  int r ;
  PROG = "mm-local" ;
  usage_help(argc, argv, USAGE) ;
  logstamp_init() ;
  privs_init() ;
  spool_init() ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "s:h:k:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 's' : if (!uint640_scan(l.arg, &msgsize)) dieusage() ; havesize = 1 ; break ;
        case 'h' : host = l.arg ; break ;
        case 'k' : deliverykey = l.arg ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  /* mm-lspawn's queue lock (mm-lspawn(8)) is held until mm-local
     ends, and by nothing it runs */
  if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF) strerr_diefu1sys(EX_TEMPFAIL, "set the queue lock close-on-exec") ;
  if (argc != 5) dieusage() ;
  user = argv[0] ; userhome = argv[1] ; recipient = argv[2] ; sender = argv[3] ; target = argv[4] ;
  if (!*user || userhome[0] != '/') dieusage() ;
  /* an install never delivers as root; a private instance owned by
     root (a test run) runs everything as root */
  if ((!getuid() || !geteuid()) && !mm_is_instance())
  {
    allwrite(1, "5.7.1 mm-local refuses to run as root\n", 38) ;
    return EX_NOPERM ;
  }
  msgstart = lseek(0, 0, SEEK_CUR) ;
  if (msgstart < 0)
  {
    allwrite(1, "4.3.0 the message on standard input is not seekable\n", 52) ;
    return EX_TEMPFAIL ;
  }
  if (sig_ignore(SIGPIPE) < 0) strerr_diefu1sys(EX_TEMPFAIL, "ignore SIGPIPE") ;
  sfd = selfpipe_init() ;
  if (sfd < 0 || !selfpipe_trap(SIGCHLD)) { allwrite(1, "4.3.0 unable to set up signals\n", 31) ; return EX_TEMPFAIL ; }

  if (!stralloc_cats(&prefix, "Return-Path: <") || !stralloc_cats(&prefix, sender)
   || !stralloc_cats(&prefix, ">\nDelivered-To: ") || !stralloc_cats(&prefix, recipient)
   || !stralloc_catb(&prefix, "\n", 1)) dienomem() ;
  r = header_scan() ;
  if (!r)
  {
    /* a control file that exists but cannot be read is never a default */
    char const *failed = "control/locals" ;
    if (control_names_load(&failed) < 0 || control_locals_load() < 0)
      r = fail(EX_TEMPFAIL, "4.3.0 unable to read ", failed, ": ", strerror(errno), (char const *)0) ;
  }
  if (!r)
  {
    env_build() ;
    switch (target[0])
    {
      case 0 :
        r = dotforward() ;
        if (r < 0) r = deliver_own() ;
        break ;
      case '|' :
        if (!spool_drop()) { r = failsys("drop", "the mail group") ; break ; }
        r = deliver_pipe(target + 1) ;
        break ;
      case '/' :
        if (!spool_drop()) { r = failsys("drop", "the mail group") ; break ; }
        r = deliver_file(target, 0) ;
        break ;
      default :
        r = fail(EX_USAGE, "5.3.5 bad target ", target, (char const *)0) ;
        break ;
    }
  }
  if (r)
  {
    if (!stralloc_catb(&reason, "\n", 1)) dienomem() ;
    allwrite(1, reason.s, reason.len) ;
    return r ;
  }
  if (!done.len) done_add("delivered", 0) ;
  if (!stralloc_catb(&done, "\n", 1)) dienomem() ;
  allwrite(1, done.s, done.len) ;
  return 0 ;
}
