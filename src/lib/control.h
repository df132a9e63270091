/* Reading the one-setting-per-file control/ directory (mm-control(5)). */
#ifndef MM_CONTROL_H
#define MM_CONTROL_H

#include <stddef.h>
#include <skalibs/stralloc.h>

/* All functions take a path relative to the home, e.g. "control/me".
   Return 1 when the file was read, 0 when it is absent (default used),
   -1 on error (errno set; the caller treats it as temporary). */

/* First line, whitespace-trimmed, NUL-terminated; def when absent (an
   empty file is an empty value, not the default). */
extern int control_readline (stralloc *sa, char const *file, char const *def) ;

/* Every non-empty, non-comment (#) line, trimmed, each NUL-terminated
   and concatenated in sa. Absent file: sa empty, returns 0. */
extern int control_readlines (stralloc *sa, char const *file) ;

/* An unsigned number; def when absent. A malformed value is -1, EINVAL. */
extern int control_readulong (unsigned long *u, char const *file, unsigned long def) ;

/* A duration such as "90", "1h30m", "2d", "45s" (bare number = seconds)
   into seconds; 0 on a malformed string. */
extern int duration_scan (char const *s, unsigned long *secs) ;

/* Reads control/me and control/defaultdomain for control_me and
   control_defaultdomain, which fall back silently; -1 with errno set and
   *failed naming the file when one exists but cannot be read (the
   values of the last call then stay). Each call reads them again; a
   pointer from control_me or control_defaultdomain stays good (a value
   that changed gets a buffer of its own). */
extern int control_names_load (char const **failed) ;
/* control/me, or the system host name. */
extern char const *control_me (void) ;
/* control/defaultdomain, or control_me(). */
extern char const *control_defaultdomain (void) ;
/* 1 if domain (case-insensitive) is in control/locals (default:
   localhost and control_me()), 0 if not, -1 (errno set) when
   control/locals exists but cannot be read: a temporary error, never
   "not local". Loaded once, by the first call or control_locals_load. */
extern int control_islocal (char const *domain, size_t len) ;
/* (Re)reads control/locals for control_islocal: 0 ok, -1 (errno set)
   when it exists but cannot be read. Programs that route or accept mail
   call it at start (and on reload) and fail temporarily on -1. */
extern int control_locals_load (void) ;

#endif
