/* The alias file (mm-aliases(5)): parsing and expansion to targets. */
#ifndef MM_ALIAS_H
#define MM_ALIAS_H

#include <stddef.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>

#define ALIAS_DEPTH_MAX 32   /* nested expansions before "alias loop" */
#define ALIAS_LINE_MAX 65536 /* one logical entry, continuations included */

/* The result of expanding one recipient. */
typedef struct aliasresult_s aliasresult ;
struct aliasresult_s
{
  size_t target ;   /* offset in strings: "u<user>", "|<cmd>", "/<path>" or "r<address>";
                       for an error result "!<name>", the name that failed */
  size_t error ;    /* offset in strings of a reason "5.1.1 ...", or (size_t)-1 when target is good */
} ;

typedef struct aliasdb_s aliasdb ;
struct aliasdb_s
{
  stralloc file ;    /* the alias file's contents, then the parsed strings */
  genalloc entries ; /* internal: one per alias, sorted by name */
  stralloc delimiters ; /* control/recipientdelimiter, NUL-terminated */
  uid_t admin ;      /* the alias file's owner: with root, whose :include: files are trusted */
} ;
#define ALIASDB_ZERO { .file = STRALLOC_ZERO, .entries = GENALLOC_ZERO, .delimiters = STRALLOC_ZERO, .admin = 0 }

/* Load path (relative to the home, normally "control/aliases"; an
   absolute path is used as it is), and control/recipientdelimiter. An
   absent file is an empty database. 1 ok, 0 syntax error (*line gets
   the line number, *why the reason), -1 I/O error (errno). */
extern int aliasdb_load (aliasdb *db, char const *path, unsigned int *line, char const **why) ;
extern void aliasdb_free (aliasdb *db) ;
/* Number of aliases in the file. */
extern unsigned int aliasdb_count (aliasdb const *db) ;

/* Expand the local part of a local recipient into targets, appending
   aliasresult records to out and strings to strings. user_exists(name)
   tells whether a local user exists. Remote addresses in the aliases
   become "r" targets; domains that control_islocal() accepts recurse.
   A local part that is no alias gives "u<user>" when the user exists,
   else an error result "5.1.1 no such user NAME". Duplicates already
   present in out are not appended again. postmaster always resolves:
   alias, else user, else "/<home>/mail/postmaster".
   An :include: file owned by neither root nor the alias file's owner
   is read only when everyone may read it (the reader must not show its
   own files on a user's behalf), and its commands and files, even
   through further includes, become error results "5.7.1 ...".
   Returns the number of results appended, -1 on ENOMEM or I/O error
   (an :include: file that cannot be read; errno set). */
extern int alias_expand (aliasdb const *db, char const *localpart, int (*user_exists)(char const *), genalloc *out, stralloc *strings) ;

/* Split a target list (an alias's right-hand side, an :include: file,
   a .forward) at commas and line ends outside double quotes. Each
   target is trimmed, unquoted when quotes enclose all of it, stripped
   of <> around it, and appended to sa NUL-terminated; empty pieces and
   lines starting with '#' are skipped. Returns the number of targets,
   -1 on ENOMEM, -2 on an unterminated quote. */
extern int alias_split (stralloc *sa, char const *s, size_t len) ;

#define aliasresult_ok(r) ((r)->error == (size_t)-1)

#endif
