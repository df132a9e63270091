/* Root becoming the send user (mm-send) or the queue owner (the queue's
   door): the privilege changes that look users up by name, kept apart from privs.c so that programs
   which never switch users link no name service. */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <sysexits.h>
#include <skalibs/strerr.h>
#include "home.h"
#include "privs.h"
#include "users_conf.h"

/* uid and primary group of a role's user */
static void role_ids (unsigned int role, uid_t *u, gid_t *g)
{
  struct passwd *pw ;
  errno = 0 ;
  pw = getpwnam(users_conf_name(role)) ;
  if (!pw)
  {
    if (errno && errno != ENOENT && errno != ESRCH) strerr_diefu2sys(EX_TEMPFAIL, "look up user ", users_conf_name(role)) ;
    strerr_dief2x(EX_CONFIG, "no such user: ", users_conf_name(role)) ;
  }
  *u = pw->pw_uid ;
  *g = pw->pw_gid ;
}

void privs_become_send (void)
{
  uid_t su, ru ;
  gid_t sg, rg ;
  gid_t groups[1] ;
  size_t n = 0 ;
  if (geteuid() || mm_is_instance()) return ;
  role_ids(USERS_SEND, &su, &sg) ;
  role_ids(USERS_REMOTE, &ru, &rg) ;
  if (!su) strerr_dief2x(EX_CONFIG, "the send user must not be root: ", users_conf_name(USERS_SEND)) ;
  /* never group 0, and nothing when the remote user shares the queue group */
  if (rg && rg != sg) groups[n++] = rg ;
  if (setgroups(n, groups) < 0) strerr_diefu1sys(EX_TEMPFAIL, "set groups for the send user") ;
  if (setresgid(sg, sg, sg) < 0) strerr_diefu1sys(EX_TEMPFAIL, "set gid for the send user") ;
  if (setresuid(su, su, su) < 0) strerr_diefu1sys(EX_TEMPFAIL, "set uid for the send user") ;
  if (!getuid() || !geteuid()) strerr_dief1x(EX_TEMPFAIL, "still root after switching to the send user") ;
}

void privs_become_queue (void)
{
  uid_t qu ;
  gid_t qg ;
  if (geteuid() || mm_is_instance()) return ;
  role_ids(USERS_QUEUE, &qu, &qg) ;
  if (!qu) strerr_dief2x(EX_CONFIG, "the queue owner must not be root: ", users_conf_name(USERS_QUEUE)) ;
  if (setgroups(0, 0) < 0) strerr_diefu1sys(EX_TEMPFAIL, "drop groups for the queue owner") ;
  if (setresgid(qg, qg, qg) < 0) strerr_diefu1sys(EX_TEMPFAIL, "set gid for the queue owner") ;
  if (setresuid(qu, qu, qu) < 0) strerr_diefu1sys(EX_TEMPFAIL, "set uid for the queue owner") ;
  if (!getuid() || !geteuid()) strerr_dief1x(EX_TEMPFAIL, "still root after switching to the queue owner") ;
}
