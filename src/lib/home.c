/* Finding the mm home: the compiled-in conf-home, or $MM_HOME for a
   private instance when the program is not setuid. */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <sysexits.h>
#include "home.h"

extern char const auto_home[] ;

int mm_privileged (void)
{
  return getuid() != geteuid() || getgid() != getegid() ;
}

char const *mm_home (void)
{
  static char const *home = 0 ;
  if (!home)
  {
    char const *x = mm_privileged() ? 0 : getenv("MM_HOME") ;
    home = x && *x ? x : auto_home ;
  }
  return home ;
}

int mm_path (stralloc *sa, char const *rel)
{
  sa->len = 0 ;
  return stralloc_cats(sa, mm_home()) && stralloc_catb(sa, "/", 1) && stralloc_cats(sa, rel) && stralloc_0(sa) ;
}

int mm_is_instance (void)
{
  static int known = -1 ;
  if (known < 0)
  {
    stralloc sa = STRALLOC_ZERO ;
    known = mm_path(&sa, "control/instance") && access(sa.s, F_OK) == 0 ;
    stralloc_free(&sa) ;
  }
  return known ;
}

/* A home is there when its control/ directory is: a missing one is a
   wrong MM_HOME or no install, said with the fix (exit 78). Anything
   else (EACCES, EIO) is left to the caller's own error. */
void mm_home_check (void)
{
  char const *home = mm_home() ;
  char const *env = getenv("MM_HOME") ;
  size_t len = strlen(home) ;
  char path[len + sizeof("/control")] ;
  struct stat st ;
  memcpy(path, home, len) ;
  memcpy(path + len, "/control", sizeof("/control")) ;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return ;
  if (stat(path, &st) == 0) errno = ENOTDIR ;
  else if (errno != ENOENT && errno != ENOTDIR) return ;
  if (mm_privileged())
    strerr_dief(EX_CONFIG, "mm is not installed in ", home, " (", path, ": ", strerror(errno),
      "): install it as root with install.sh; a setuid program ignores MM_HOME") ;
  if (env && *env)
    strerr_dief(EX_CONFIG, "MM_HOME=", env, " names no mm instance (", path, ": ", strerror(errno),
      "): make one with install.sh --instance ", env, ", or set MM_HOME to an instance") ;
  strerr_dief(EX_CONFIG, "MM_HOME is not set and mm is not installed in ", home,
    ": for a private instance, install.sh --instance DIR and export MM_HOME=DIR; for the system, install.sh as root") ;
}

void mm_chdir_home (void)
{
  mm_home_check() ;
  if (chdir(mm_home()) < 0) strerr_diefu2sys(EX_TEMPFAIL, "chdir to ", mm_home()) ;
}
