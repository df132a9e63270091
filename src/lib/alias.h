/* The alias file (mm-aliases(5)): parsing and expansion to targets. */
#ifndef MM_ALIAS_H
#define MM_ALIAS_H

#include <stddef.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>

#define ALIAS_DEPTH_MAX 32   /* nested expansions before "alias loop" */

/* The result of expanding one recipient. */
typedef struct aliasresult_s aliasresult ;
struct aliasresult_s
{
  size_t target ;   /* offset in strings: "u<user>", "|<cmd>", "/<path>" or "r<address>" */
  size_t error ;    /* offset in strings of a reason "5.1.1 ...", or (size_t)-1 when target is good */
} ;

typedef struct aliasdb_s aliasdb ;
struct aliasdb_s
{
  stralloc file ;    /* the alias file's contents, parsed in place */
  genalloc entries ; /* internal */
} ;
#define ALIASDB_ZERO { .file = STRALLOC_ZERO, .entries = GENALLOC_ZERO }

/* Load path (relative to the home, normally "control/aliases"). An
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
   Duplicates already present in out are not appended again. postmaster
   always resolves: alias, else user, else "/<home>/mail/postmaster".
   Returns the number of results appended, -1 on ENOMEM or I/O error. */
extern int alias_expand (aliasdb const *db, char const *localpart, int (*user_exists)(char const *), genalloc *out, stralloc *strings) ;

#endif
