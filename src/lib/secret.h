/* Secrets (AUTH passwords, POP3 passwords, OAuth2 tokens) for the role
   that uses them: from a file only that role can read, or from a command
   run as that role. A secret is never logged, never written to the
   queue and never passed in an argument list. */
#ifndef MM_SECRET_H
#define MM_SECRET_H

#include <skalibs/stralloc.h>

#define SECRET_MAX 65536             /* an OAuth2 access token is 2 KB or more */
#define SECRET_COMMAND_TIMEOUT 30    /* seconds, unless the route says otherwise */
#define SECRET_COMMAND_WORDS 32

/* The first line of the file at path (relative to the home), which must
   be a regular file of the caller's euid, mode 0600 or stricter, and not
   a symbolic link. 1 ok, 0 refused (*why says why, for a log line, never
   the secret itself), -1 out of memory. */
extern int secret_file (char const *path, stralloc *out, char const **why) ;

/* Runs the command line in the file cmdpath (relative to the home): one
   line, words split at blanks, no shell and no quoting (write a script
   for anything more), the first word an absolute path. It runs as the
   caller with a clean environment (PATH, HOME, USER, LOGNAME), stdin
   /dev/null, its own process group, killed with its children after
   timeout seconds. The first line of its standard output is the secret;
   a command that exits non-zero, is killed, or prints nothing gives 0
   with *why naming that, and the first line of its standard error
   (cleaned, cut at 200 characters) in diag. -1 out of memory. */
extern int secret_command (char const *cmdpath, unsigned int timeout, stralloc *out, stralloc *diag, char const **why) ;

/* Overwrites and frees a secret. */
extern void secret_free (stralloc *sa) ;

#endif
