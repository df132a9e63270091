/* sendmail: the sendmail-compatible front door; maps the classic options
   onto mm's programs and execs them. Runs as the caller, no privilege. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/env.h>
#include <skalibs/gccattributes.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "alias.h"
#include "control.h"
#include "home.h"
#include "inject.h"
#include "privs.h"
#include "usage.h"
#include "trigger.h"

#define USAGE "sendmail [ -t ] [ -i ] [ -f sender ] [ -F fullname ] [ -odq ] [ -bm | -bp | -bs | -bi | -bV ] [ -q[interval] ] [ -qo name ] [ -Mrm id ... ] [ -- ] [ recipient ... ]"
#define VERSION "mm 0.1"

/* sendmail's options that take an argument, attached or as the next
   word; all the others are flags and may be clustered (-ti) */
#define OPTS_WITH_ARG "ABbCdeFfhLMNOopQRrVX"
#define OPTS_FLAGS "cGIimnsTtUv"

enum mode { MODE_SEND, MODE_PRINT, MODE_SMTP, MODE_ALIASES, MODE_VERSION, MODE_RUN, MODE_REMOVE } ;

static enum mode mode = MODE_SEND ;
static int opt_t = 0, opt_i = 0, opt_queueonly = 0 ;
static char const *opt_f = 0, *opt_F = 0 ;
static unsigned long interval = 0 ;  /* -qINTERVAL: seconds between queue runs, 0 = one run */

static void setmode (enum mode m)
{
  /* the last mode option wins, as with sendmail */
  mode = m ;
}

static void option_b (char const *arg)
{
  if (!strcmp(arg, "m")) setmode(MODE_SEND) ;
  else if (!strcmp(arg, "p")) setmode(MODE_PRINT) ;
  else if (!strcmp(arg, "s")) setmode(MODE_SMTP) ;
  else if (!strcmp(arg, "i")) setmode(MODE_ALIASES) ;
  else if (!strcmp(arg, "V")) setmode(MODE_VERSION) ;
  else strerr_dief(EX_USAGE, "-b", arg, " is not supported (use -bm, -bp, -bs, -bi or -bV)") ;
}

static void option_o (char const *arg)
{
  if (!strcmp(arg, "i")) opt_i = 1 ;
  else if (!strcmp(arg, "dq") || !strcmp(arg, "dd")) opt_queueonly = 1 ;
  else if (!strcmp(arg, "db") || !strcmp(arg, "di") || !strcmp(arg, "dbackground") || !strcmp(arg, "dinteractive")) opt_queueonly = 0 ;
  /* every other -oXXX is a sendmail.cf setting mm has no use for */
}

/* -q, -qINTERVAL, -qoNAME, -qRsubstr ...; returns 1 when the next
   word was used as the route name of "-qo NAME". */
static char const *qroute = 0 ;  /* -qo NAME */

static int option_q (char const *rest, char const *next)
{
  setmode(MODE_RUN) ;
  interval = 0 ;
  if (!*rest) return 0 ;
  if (rest[0] == 'o')
  {
    /* -qo NAME or -qoNAME: a queue run through route NAME alone */
    if (rest[1]) { qroute = rest + 1 ; return 0 ; }
    if (!next) strerr_dief(EX_USAGE, "-qo needs a route name") ;
    qroute = next ;
    return 1 ;
  }
  if (rest[0] == 'p') rest++ ;  /* -qpINTERVAL: sendmail's persistent runner, the same here */
  if (rest[0] >= '0' && rest[0] <= '9')
  {
    if (!duration_scan(rest, &interval) || !interval) strerr_dief(EX_USAGE, "bad queue run interval: ", rest) ;
    return 0 ;
  }
  /* -qR, -qS, -qI, -qf, -q!...: selective runs are not there yet: everything */
  return 0 ;
}

static int parse (int argc, char const *const *argv)
{
  int i = 1 ;
  while (i < argc)
  {
    char const *a = argv[i] ;
    if (a[0] != '-' || !a[1]) break ;
    i++ ;
    if (!strcmp(a, "--")) break ;
    if (a[1] == '-') strerr_dief(EX_USAGE, "unknown option ", a, "; usage: ", USAGE) ;
    for (char const *p = a + 1 ; *p ; p++)
    {
      char c = *p ;
      char const *arg = 0 ;
      if (c == 'q')
      {
        if (option_q(p + 1, i < argc ? argv[i] : 0)) i++ ;
        break ;
      }
      if (!strchr(OPTS_FLAGS, c) && !strchr(OPTS_WITH_ARG, c))
      {
        char s[2] = { c, 0 } ;
        strerr_dief(EX_USAGE, "unknown option -", s, "; usage: ", USAGE) ;
      }
      if (strchr(OPTS_WITH_ARG, c))
      {
        if (p[1]) arg = p + 1 ;
        else if (i < argc) arg = argv[i++] ;
        else
        {
          char s[2] = { c, 0 } ;
          strerr_dief(EX_USAGE, "option -", s, " needs an argument; usage: ", USAGE) ;
        }
      }
      switch (c)
      {
        case 't' : opt_t = 1 ; break ;
        case 'i' : opt_i = 1 ; break ;
        case 'I' : setmode(MODE_ALIASES) ; break ;  /* old spelling of -bi */
        case 'b' : option_b(arg) ; break ;
        case 'o' : option_o(arg) ; break ;
        case 'f' : case 'r' : opt_f = arg ; break ;  /* -r: old spelling of -f */
        case 'F' : opt_F = arg ; break ;
        case 'M' :
          if (!strcmp(arg, "rm")) setmode(MODE_REMOVE) ;
          break ;  /* other -Mxvalue set sendmail macros: ignored */
        default : break ;  /* -B -C -d -N -R -V -X -h -L -O -p -Q -A -e and the flags -v -m -n -c -s -G -U -T */
      }
      if (arg) break ;
    }
  }
  return i ;
}

static char const *binpath (char const *prog)
{
  static stralloc sa = STRALLOC_ZERO ;
  stralloc rel = STRALLOC_ZERO ;
  if (!stralloc_cats(&rel, "bin/") || !stralloc_cats(&rel, prog) || !stralloc_0(&rel) || !mm_path(&sa, rel.s))
    strerr_diefusys(EX_TEMPFAIL, "allocate memory") ;
  stralloc_free(&rel) ;
  return sa.s ;
}

static void run (char const *prog, char const *const *argv) gccattr_noreturn ;
static void run (char const *prog, char const *const *argv)
{
  char const *path = binpath(prog) ;
  execv(path, (char *const *)argv) ;
  strerr_diefusys(errno == ENOENT ? EX_CONFIG : EX_TEMPFAIL, "exec ", path) ;
}

static void newaliases (void)
{
  aliasdb db = ALIASDB_ZERO ;
  unsigned int line = 0 ;
  char const *why = "" ;
  int r = aliasdb_load(&db, "control/aliases", &line, &why) ;
  if (r < 0) strerr_diefusys(EX_TEMPFAIL, "read control/aliases") ;
  if (!r)
  {
    char fmt[UINT_FMT] ;
    fmt[uint_fmt(fmt, line)] = 0 ;
    strerr_dief(EX_CONFIG, "control/aliases line ", fmt, ": ", why) ;
  }
  {
    char fmt[UINT_FMT] ;
    fmt[uint_fmt(fmt, aliasdb_count(&db))] = 0 ;
    if (buffer_putsflush(buffer_1, "control/aliases: ") < 0
     || buffer_putsflush(buffer_1, fmt) < 0
     || buffer_putsflush(buffer_1, " aliases\n") < 0) strerr_diefusys(EX_TEMPFAIL, "write to stdout") ;
  }
  aliasdb_free(&db) ;
}

/* One queue run: by the running mm-send if there is one (the trigger),
   else in the foreground when the caller may start a queue runner.
   With dofork the run happens in a child and its exit code is returned;
   without, the process becomes mm-send. */
static int queuerun (int dofork)
{
  char const *const argv[] = { "mm-send", "-1", qroute ? "-o" : 0, qroute, 0 } ;
  stralloc lock = STRALLOC_ZERO ;
  int allowed = getuid() == 0 || mm_is_instance() ;
  int fd, busy = 0 ;
  if (!mm_path(&lock, "queue/lock/send")) strerr_diefusys(EX_TEMPFAIL, "allocate memory") ;
  fd = open(lock.s, O_RDONLY | O_CLOEXEC) ;
  if (fd >= 0)
  {
    busy = fd_islocked(fd) ;
    if (busy < 0) strerr_diefusys(EX_TEMPFAIL, "check the lock on ", lock.s) ;
    close(fd) ;
  }
  else if (errno != ENOENT)
  {
    /* we cannot see the lock (an ordinary user in an install): a
       running mm-send reads the trigger, so a pull that finds no reader
       means there is none, and this caller may not start one */
    if (!allowed)
    {
      int r = trigger_pull(TRIGGER_RUN) ;
      if (r < 0) strerr_diefusys(EX_TEMPFAIL, "pull the trigger queue/lock/trigger") ;
      if (!r) strerr_dief(EX_NOPERM, "no queue runner is active, and only root or a private instance's owner may start one") ;
      stralloc_free(&lock) ;
      return 0 ;
    }
    strerr_diefusys(EX_TEMPFAIL, "open ", lock.s) ;
  }
  stralloc_free(&lock) ;
  if (busy)
  {
    /* a running mm-send sends through every route that is up; it takes
       no orders for one pass through one route */
    if (qroute) strerr_dief(EX_TEMPFAIL, "a queue runner is active: use mm-online ", qroute, " to send through ", qroute) ;
    trigger_pull(TRIGGER_RUN) ;
    return 0 ;
  }
  if (!allowed) strerr_dief(EX_NOPERM, "no queue runner is active, and only root or a private instance's owner may start one") ;
  if (!dofork) run("mm-send", argv) ;
  {
    int wstat ;
    pid_t pid = fork() ;
    if (pid < 0) { strerr_warnwusys("fork") ; return EX_TEMPFAIL ; }
    if (!pid) run("mm-send", argv) ;
    if (wait_pid(pid, &wstat) < 0) { strerr_warnwusys("wait for mm-send") ; return EX_TEMPFAIL ; }
    return WIFEXITED(wstat) ? WEXITSTATUS(wstat) : EX_TEMPFAIL ;
  }
}

/* -qINTERVAL: a queue run every interval, in the foreground, forever
   (under supervise, or cron's @reboot). */
static void queueloop (void)
{
  for (;;)
  {
    time_t start = time(0), now ;
    int code = queuerun(1) ;
    if (code)
    {
      char fmt[INT_FMT] ;
      fmt[int_fmt(fmt, code)] = 0 ;
      strerr_warnw("queue run failed with exit code ", fmt) ;
    }
    now = time(0) ;
    if (now >= start && (unsigned long)(now - start) < interval) sleep(interval - (now - start)) ;
  }
}

int main (int argc, char const *const *argv)
{
  char const *name = argv[0] ? strrchr(argv[0], '/') : 0 ;
  int i ;
  PROG = "sendmail" ;
  usage_help(argc, argv, USAGE) ;
  privs_init() ;
  name = name ? name + 1 : argv[0] ? argv[0] : "sendmail" ;
  if (!strcmp(name, "mailq")) { PROG = "mailq" ; mode = MODE_PRINT ; }
  else if (!strcmp(name, "runq")) { PROG = "runq" ; mode = MODE_RUN ; }
  else if (!strcmp(name, "newaliases")) { PROG = "newaliases" ; mode = MODE_ALIASES ; }
  else if (!strcmp(name, "mailrm")) { PROG = "mailrm" ; mode = MODE_REMOVE ; }

  if (mode == MODE_REMOVE)
  {
    /* mailrm ID ...: every word is a queue id */
    i = argc > 1 && !strcmp(argv[1], "--") ? 2 : 1 ;
  }
  else i = parse(argc, argv) ;
  argc -= i ; argv += i ;
  /* everything but -bV needs the home: say what is wrong with MM_HOME */
  if (mode != MODE_VERSION) mm_home_check() ;

  switch (mode)
  {
    case MODE_VERSION :
      if (buffer_putsflush(buffer_1, VERSION "\n") < 0) strerr_diefusys(EX_TEMPFAIL, "write to stdout") ;
      return 0 ;
    case MODE_ALIASES :
      newaliases() ;
      return 0 ;
    case MODE_PRINT :
    {
      char const *const args[] = { "mm-qctl", "-l", 0 } ;
      run("mm-qctl", args) ;
    }
    case MODE_SMTP :
    {
      char const *const args[] = { "mm-smtpd", 0 } ;
      if (setenv("MM_SMTPD_LOCAL", "1", 1) < 0) strerr_diefusys(EX_TEMPFAIL, "setenv") ;
      run("mm-smtpd", args) ;
    }
    case MODE_RUN :
      if (interval) queueloop() ;
      return queuerun(0) ;
    case MODE_REMOVE :
    {
      char const **args ;
      if (!argc) strerr_dief(EX_USAGE, "no message id given to remove") ;
      args = malloc((argc + 3) * sizeof(char const *)) ;
      if (!args) strerr_diefusys(EX_TEMPFAIL, "allocate memory") ;
      args[0] = "mm-qctl" ; args[1] = "-r" ;
      for (int j = 0 ; j < argc ; j++) args[2+j] = argv[j] ;
      args[argc+2] = 0 ;
      run("mm-qctl", args) ;
    }
    case MODE_SEND :
    default :
    {
      /* mm-inject's work, in this process: an exec less per message */
      inject_options o = { .t = opt_t, .i = opt_i, .q = opt_queueonly, .f = opt_f, .F = opt_F } ;
      inject(&o, argc, argv) ;
    }
  }
  return 0 ;
}
