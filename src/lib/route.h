/* Routes: the ways out of this host (INTERNALS 8, mm-routes(5)). */
#ifndef MM_ROUTE_H
#define MM_ROUTE_H

#include <stddef.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>

typedef struct route_s route ;
struct route_s
{
  stralloc name ;        /* NUL-terminated */
  stralloc smarthost ;   /* "host" NUL-terminated, empty for direct MX */
  unsigned int port ;    /* smarthost port, default 25 */
  int portgiven ;        /* the smarthost file named the port */
  stralloc helo ;
  int permanent ;
  int last ;
  int smtpafterpop ;     /* fetch the route's POP3 accounts before its flush */
  stralloc domains ;     /* NUL-separated globs; empty = any */
  stralloc allowrcpt, denyrcpt, allowsender, denysender, allowfrom, denyfrom ; /* NUL-separated globs */
  int has_allowrcpt, has_allowsender, has_allowfrom ;  /* the allow file exists */
  int broken ;           /* a file says what mm cannot use: the route carries nothing */
  stralloc why ;         /* then: "route NAME: ...", NUL-terminated */
} ;

/* Load every route under control/routes/, in order (control/routes/order
   first, then alphabetically), appending to routes (genalloc of route).
   A route whose files cannot be used (a smarthost port "4o125") is kept
   with broken set and why: its filters still say which mail it would
   carry, so that mail waits with the reason instead of leaving another
   way, and the other routes are not touched. 1 ok, 0 a bad route
   directory name (*why), -1 I/O (errno). */
extern int routes_load (genalloc *routes, char const **why) ;
extern void routes_free (genalloc *routes) ;

/* The names of the route directories in the order routes_load uses,
   NUL-terminated, appended to names; 1 ok, 0 a bad name (*why), -1 I/O. */
extern int routes_names (stralloc *names, char const **why) ;
/* One route by name: 1 ok, 0 malformed (*why), -1 I/O (errno); on
   success free it with route_free. */
extern int route_load (route *r, char const *name, char const **why) ;
extern void route_free (route *r) ;
/* 1 if file is one that mm-routes(5) describes for a route directory. */
extern int route_file_known (char const *file) ;

/* 1 if the route is up: permanent, or queue/online/NAME exists. */
extern int route_isonline (route const *r) ;

/* 1 if the route may carry mail to rcpt (domains, allowrcpt, denyrcpt). */
extern int route_serves (route const *r, char const *rcpt) ;
/* 1 if it may carry mail with this return path ("" is <>, matched as "<>"). */
extern int route_allows_sender (route const *r, char const *sender) ;
/* 1 if it may carry a message whose From: addresses are these (n
   NUL-terminated strings in froms); no From: counts as one empty address. */
extern int route_allows_from (route const *r, char const *froms, size_t len) ;

/* Case-insensitive glob match with * and ?. */
extern int route_glob (char const *pattern, char const *s) ;

/* The route named name in routes, or NULL. */
extern route *routes_find (genalloc const *routes, char const *name) ;

/* sa = "control/routes/NAME/file", NUL-terminated (a path relative to the
   home, for the control_* functions). 1 ok, 0 ENOMEM. */
extern int route_file (stralloc *sa, route const *r, char const *file) ;

/* 1 if name may name a route: 1 to ROUTE_NAME_MAX letters, digits, '.',
   '_', '-' and '+', not starting with '.' or '-'. */
#define ROUTE_NAME_MAX 64
extern int route_name_valid (char const *name) ;

#endif
