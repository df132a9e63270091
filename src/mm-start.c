/* mm-start: starts the queue's door (mm-queue -l, as the queue owner),
   wires the pipes between mm-send and mm-lspawn, starts mm-lspawn (root
   in an install), drops to the send user and becomes mm-send, as
   qmail-start does. Run by supervise, or by hand in a private instance. */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <sysexits.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include "home.h"
#include "privs.h"
#include "logstamp.h"
#include "usage.h"
#include "users_conf.h"

#define USAGE "mm-start"

/* The door lives as long as mm-send, our pid after the exec, at most: it
   asks for SIGTERM when its parent dies, and mm-send reaps it and opens
   it again when it closed for idleness. It is forked before the pipes,
   so that it holds none of them. Without a door every caller starts
   mm-queue itself: a warning, not an end. */
static void start_door (void)
{
  pid_t pid = fork() ;
  if (pid < 0) { strerr_warnwu1sys("fork the queue's door") ; return ; }
  if (!pid)
  {
    char const *qargv[3] = { "mm-queue", "-l", 0 } ;
    stralloc path = STRALLOC_ZERO ;
    privs_become_queue() ;
    if (!mm_path(&path, "bin/mm-queue")) strerr_diefu1sys(EX_TEMPFAIL, "allocate") ;
    execv(path.s, (char *const *)qargv) ;
    strerr_diefu2sys(EX_TEMPFAIL, "exec ", path.s) ;
  }
}

int main (int argc, char const *const *argv)
{
  int req[2], res[2] ;
  pid_t pid ;
  stralloc path = STRALLOC_ZERO ;
  struct passwd *pw = 0 ;
  PROG = "mm-start" ;
  usage_help(argc, argv, USAGE) ;
  logstamp_init() ;
  privs_init() ;
  if (argc > 1) strerr_dieusage(EX_USAGE, USAGE) ;
  mm_chdir_home() ;
  if (!geteuid() && !mm_is_instance())
  {
    pw = getpwnam(users_conf_name(USERS_SEND)) ;
    if (!pw) strerr_dief2x(EX_CONFIG, "no such user: ", users_conf_name(USERS_SEND)) ;
  }
  start_door() ;
  if (pipe(req) < 0 || pipe(res) < 0) strerr_diefu1sys(EX_TEMPFAIL, "create pipes") ;
  pid = fork() ;
  if (pid < 0) strerr_diefu1sys(EX_TEMPFAIL, "fork") ;
  if (!pid)
  {
    char const *cargv[2] = { "mm-lspawn", 0 } ;
    close(req[1]) ; close(res[0]) ;
    if (fd_move2(0, req[0], 1, res[1]) < 0) strerr_diefu1sys(EX_TEMPFAIL, "move descriptors") ;
    if (!mm_path(&path, "bin/mm-lspawn")) strerr_diefu1sys(EX_TEMPFAIL, "allocate") ;
    execv(path.s, (char *const *)cargv) ;
    strerr_diefu2sys(EX_TEMPFAIL, "exec ", path.s) ;
  }
  close(req[0]) ; close(res[1]) ;
  if (fd_move2(5, req[1], 6, res[0]) < 0) strerr_diefu1sys(EX_TEMPFAIL, "move descriptors") ;
  /* mm-send needs nothing of root's but the right to run mm-remote */
  if (pw) privs_become_send() ;
  if (!mm_path(&path, "bin/mm-send")) strerr_diefu1sys(EX_TEMPFAIL, "allocate") ;
  {
    char const *sargv[2] = { "mm-send", 0 } ;
    execv(path.s, (char *const *)sargv) ;
  }
  strerr_diefu2sys(EX_TEMPFAIL, "exec ", path.s) ;
}
