/* Local user lookup for alias expansion (mm-send) and delivery
   (mm-lspawn): passwd in an install, home/NAME in a private instance.
   Reads only; no privilege needed. */

#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "home.h"
#include "users.h"

int users_name_valid (char const *name, size_t len)
{
  if (!len || len > USER_NAME_MAX || name[0] == '-' || name[0] == '.') return 0 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    char c = name[i] ;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
       || c == '.' || c == '_' || c == '-')) return 0 ;
  }
  return 1 ;
}

static int absolute_home (stralloc *sa)
{
  char const *home = mm_home() ;
  sa->len = 0 ;
  if (home[0] != '/' && (sagetcwd(sa) < 0 || !stralloc_catb(sa, "/", 1))) return 0 ;
  return stralloc_cats(sa, home) ;
}

static int instance_lookup (char const *name, mmuser *u)
{
  struct stat st ;
  if (!absolute_home(&u->home)
   || !stralloc_cats(&u->home, "/home/")
   || !stralloc_cats(&u->home, name)
   || !stralloc_0(&u->home)) return -1 ;
  if (stat(u->home.s, &st) < 0)
    return errno == ENOENT || errno == ENOTDIR ? 0 : -1 ;
  if (!S_ISDIR(st.st_mode)) return 0 ;
  u->uid = getuid() ;
  u->gid = getgid() ;
  return 1 ;
}

static int passwd_lookup (char const *name, mmuser *u)
{
  struct passwd *pw ;
  errno = 0 ;
  pw = getpwnam(name) ;
  if (!pw)
    return !errno || errno == ENOENT || errno == ESRCH || errno == EBADF || errno == EPERM ? 0 : -1 ;
  if (!pw->pw_uid) return 0 ;  /* root is never a mail user: alias it */
  u->uid = pw->pw_uid ;
  u->gid = pw->pw_gid ;
  u->home.len = 0 ;
  if (!stralloc_cats(&u->home, pw->pw_dir) || !stralloc_0(&u->home)) return -1 ;
  return 1 ;
}

int users_lookup (char const *name, mmuser *u)
{
  size_t len = strlen(name) ;
  if (!users_name_valid(name, len)) return 0 ;
  u->name.len = 0 ;
  if (!stralloc_catb(&u->name, name, len + 1)) return -1 ;
  return mm_is_instance() ? instance_lookup(name, u) : passwd_lookup(name, u) ;
}

void users_free (mmuser *u)
{
  stralloc_free(&u->name) ;
  stralloc_free(&u->home) ;
}

int users_exists (char const *name)
{
  mmuser u = MMUSER_ZERO ;
  int r = users_lookup(name, &u) ;
  users_free(&u) ;
  return r != 0 ;
}
