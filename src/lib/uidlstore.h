/* The UIDLs of one POP3 account that are safely in the queue, kept in
   a file that is replaced atomically (write, fsync, rename, fsync the
   directory), under a lock that keeps a second fetch of the account out. */
#ifndef MM_UIDLSTORE_H
#define MM_UIDLSTORE_H

#include <stdint.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>

typedef struct uidlstore_s uidlstore ;
struct uidlstore_s
{
  stralloc dir ;       /* the account's state directory, NUL-terminated */
  int lockfd ;
  stralloc uids ;      /* the UIDLs, each NUL-terminated */
  genalloc recs ;      /* uidlrec */
} ;
#define UIDLSTORE_ZERO { .dir = STRALLOC_ZERO, .lockfd = -1, .uids = STRALLOC_ZERO, .recs = GENALLOC_ZERO }

typedef struct uidlrec_s uidlrec ;
struct uidlrec_s
{
  size_t pos ;         /* the UIDL at uids.s + pos */
  uint64_t when ;      /* when it was queued (seconds since the epoch) */
  int seen ;           /* listed by the server in this session */
} ;

/* Create dir (mode 0700) when missing, lock dir/lock (not waiting) and
   read dir/uidl. 1 ok, 0 another fetch holds the lock, -1 error (errno;
   EPROTO: a malformed uidl file). */
extern int uidlstore_open (uidlstore *s, char const *dir) ;
extern void uidlstore_close (uidlstore *s) ;

/* The record of uid, or NULL. */
extern uidlrec *uidlstore_find (uidlstore *s, char const *uid, size_t len) ;
/* Add a record (in memory). 1 ok, 0 ENOMEM. */
extern int uidlstore_add (uidlstore *s, char const *uid, size_t len, uint64_t when) ;
/* Forget the records not marked seen. */
extern void uidlstore_prune (uidlstore *s) ;
/* Write every record to dir/uidl durably. 1 ok, 0 error (errno). */
extern int uidlstore_write (uidlstore *s) ;

#endif
