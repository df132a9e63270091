/* Where the mm home is, and whether it is a private instance. */
#ifndef MM_HOME_H
#define MM_HOME_H

#include <skalibs/stralloc.h>

/* The home directory: $MM_HOME unless running setuid/setgid, else the
   compiled-in conf-home. Never NULL. */
extern char const *mm_home (void) ;

/* 1 if the home is a private instance (control/instance exists). */
extern int mm_is_instance (void) ;

/* sa = home + "/" + rel, NUL-terminated. 1 on success, 0 on ENOMEM. */
extern int mm_path (stralloc *sa, char const *rel) ;

/* Dies 78 with the fix (set MM_HOME, install.sh --instance, install.sh)
   when the home has no control/ directory: MM_HOME unset on a host
   without an install, or naming no instance. */
extern void mm_home_check (void) ;

/* chdir to the home after mm_home_check; dies 75 with a clear message
   when it fails. */
extern void mm_chdir_home (void) ;

/* 1 when real and effective ids differ (setuid or setgid program). */
extern int mm_privileged (void) ;

#endif
