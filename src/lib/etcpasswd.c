/* A user's uid from /etc/passwd, without the name service; no privilege. */

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include "etcpasswd.h"

int etcpasswd_uid (char const *name, uid_t *uid)
{
  struct passwd *pw ;
  FILE *f = fopen(ETCPASSWD_FILE, "re") ;
  if (!f) return -1 ;
  errno = 0 ;
  while ((pw = fgetpwent(f)))
    if (!strcmp(pw->pw_name, name)) break ;
  if (pw) *uid = pw->pw_uid ;
  else if (errno && errno != ENOENT)
  {
    /* a read error is not the end of the file */
    int e = errno ;
    fclose(f) ;
    errno = e ;
    return -1 ;
  }
  fclose(f) ;
  return !!pw ;
}
