/* Dropping privileges at program start: the caller's environment in a
   setuid program, root's supplementary groups, root itself. */

#include <errno.h>
#include <grp.h>
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
