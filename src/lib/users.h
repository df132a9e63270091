/* Local users: passwd entries with a uid other than 0 in an install,
   the directories home/NAME in a private instance (INTERNALS 1). */
#ifndef MM_USERS_H
#define MM_USERS_H

#include <sys/types.h>
#include <skalibs/stralloc.h>

#define USER_NAME_MAX 32   /* what useradd(8) accepts on Linux */

typedef struct mmuser_s mmuser ;
struct mmuser_s
{
  uid_t uid ;
  gid_t gid ;
  stralloc name ;   /* NUL-terminated */
  stralloc home ;   /* absolute, NUL-terminated */
} ;
#define MMUSER_ZERO { .uid = 0, .gid = 0, .name = STRALLOC_ZERO, .home = STRALLOC_ZERO }

/* 1 if name could be a user name: 1 to USER_NAME_MAX characters of
   letters, digits, '.', '_' and '-', not starting with '-' or '.'. */
extern int users_name_valid (char const *name, size_t len) ;

/* Look name up. In an install: getpwnam, and uid 0 is not a local user.
   In a private instance: home/NAME must be a directory; uid and gid are
   the caller's. 1 found, 0 no such user, -1 error (errno; temporary). */
extern int users_lookup (char const *name, mmuser *u) ;
extern void users_free (mmuser *u) ;

/* 1 if the local user exists, 0 if not. A lookup error counts as 1:
   a temporary failure must never turn into "no such user"; the
   delivery itself then fails temporarily. */
extern int users_exists (char const *name) ;

#endif
