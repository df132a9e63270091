/* Dropping privileges at program start: the caller's environment in a
   setuid program, root's supplementary groups, root itself. */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <sysexits.h>
#include <skalibs/strerr.h>
#include "home.h"
#include "privs.h"
#include "users_conf.h"

#define PRIVS_PATH "PATH=/usr/bin:/bin"

static char *clean_environment[] = { PRIVS_PATH, 0 } ;

void privs_init (void)
{
  if (mm_privileged())
  {
    (void)mm_home() ;  /* the compiled-in home, decided before anything changes */
    environ = clean_environment ;
  }
  if (!geteuid() && setgroups(0, 0) < 0)
    strerr_diefu1sys(EX_TEMPFAIL, "drop supplementary groups") ;
}

void privs_refuse_root (void)
{
  if ((!getuid() || !geteuid()) && !mm_is_instance())
    strerr_dief1x(EX_NOPERM, "refusing to run as root") ;
}

void privs_drop_caller (void)
{
  gid_t g = getegid() ;
  uid_t u = geteuid() ;
  (void)mm_home() ;
  if (!mm_privileged()) return ;
  environ = clean_environment ;
  /* the group first: once the uid is dropped, the gid could not change */
  if (setresgid(g, g, g) < 0) strerr_diefu1sys(EX_TEMPFAIL, "drop the caller's group") ;
  if (setresuid(u, u, u) < 0) strerr_diefu1sys(EX_TEMPFAIL, "drop the caller's uid") ;
  if (getuid() != u || getgid() != g) strerr_dief1x(EX_TEMPFAIL, "the caller's ids did not go") ;
}

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
