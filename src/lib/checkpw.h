/* Checking a user's password with an external program that has the
   checkpassword interface, so that mm holds no user database. */
#ifndef MM_CHECKPW_H
#define MM_CHECKPW_H

#include <stddef.h>
#include <skalibs/tai.h>

#define CHECKPW_DATA_MAX 512   /* what a checkpassword program reads from fd 3 */

/* Run argv[0] with its arguments and "/bin/true" appended (argv has
   room for one more pointer and a NULL), standard input and output on
   /dev/null, fd 3 a pipe carrying "user\0password\0\0". It is killed
   at deadline. 1 accepted (exit 0), 0 refused (exit 1, or input too
   long), -1 temporary (anything else; errno). */
extern int checkpw (char const **argv, unsigned int argc, char const *user, size_t ulen, char const *pass, size_t plen, tain const *deadline) ;

#endif
