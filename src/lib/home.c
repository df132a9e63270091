/* Finding the mm home: the compiled-in conf-home, or $MM_HOME for a
   private instance when the program is not setuid. */

#include <unistd.h>
#include <stdlib.h>
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

void mm_chdir_home (void)
{
  if (chdir(mm_home()) < 0) strerr_diefu2sys(EX_TEMPFAIL, "chdir to ", mm_home()) ;
}
