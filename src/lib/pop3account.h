/* POP3 accounts of a route: control/routes/ROUTE/pop3/ACCOUNT/, one
   file per setting (mm-pop3fetch(8)). */
#ifndef MM_POP3ACCOUNT_H
#define MM_POP3ACCOUNT_H

#include <stdint.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>

#define POP3_PORT 110
#define POP3S_PORT 995
enum { POP3_TLS_NONE, POP3_TLS_STLS, POP3_TLS_IMPLICIT } ;
#define POP3ACCOUNT_TIMEOUT 120   /* seconds per read or write by default */

#define POP3_AUTH_MAX 5
enum { POP3_AUTH_PLAIN = 1, POP3_AUTH_USER, POP3_AUTH_APOP, POP3_AUTH_XOAUTH2, POP3_AUTH_OAUTHBEARER } ;

typedef struct pop3account_s pop3account ;
struct pop3account_s
{
  stralloc route, name ;     /* NUL-terminated */
  stralloc label ;           /* "ROUTE/ACCOUNT" for the log */
  stralloc server ;          /* host, NUL-terminated */
  uint16_t port ;
  int tls ;                  /* POP3_TLS_* */
  stralloc tlsca, tlsmin ;   /* NUL-terminated, empty when absent */
  stralloc tlspins ;         /* NUL-separated */
  stralloc user ;
  stralloc secret ;          /* the password; never logged */
  stralloc rcpt ;            /* where the mail goes: local@domain */
  unsigned int auth[POP3_AUTH_MAX], nauth ;
  int keep ;                 /* leave messages on the server */
  unsigned long deleteafter ; /* seconds; 0 = never (with keep) */
  uint64_t maxsize ;         /* 0 = no limit */
  unsigned long maxmessages ; /* per session; 0 = no limit */
  unsigned int timeout ;
  stralloc statedir ;        /* pop/ROUTE/ACCOUNT, relative to the home */
} ;
#define POP3ACCOUNT_ZERO { .route = STRALLOC_ZERO, .name = STRALLOC_ZERO, .label = STRALLOC_ZERO, .server = STRALLOC_ZERO, .tlsca = STRALLOC_ZERO, .tlsmin = STRALLOC_ZERO, .tlspins = STRALLOC_ZERO, .user = STRALLOC_ZERO, .secret = STRALLOC_ZERO, .rcpt = STRALLOC_ZERO, .statedir = STRALLOC_ZERO }

/* The names of route's accounts, NUL-separated, sorted, appended to sa.
   1 ok (none is fine), -1 error (errno). */
extern int pop3account_list (char const *route, stralloc *sa) ;

/* Load one account; the secret is read too (a file the pop user alone
   may read). 1 ok, 0 a configuration error (*why says which), -1 I/O
   (errno; *why names the file). */
extern int pop3account_load (pop3account *a, char const *route, char const *name, char const **why) ;
extern void pop3account_free (pop3account *a) ;

#endif
