/* The queue's door (INTERNALS 3.4): a long-lived mm-queue -l, started
   with the queue runner, takes messages over a Unix socket and forks a
   child for each, so that a caller need not start mm-queue itself.
   Both sides. */
#ifndef MM_QDOOR_H
#define MM_QDOOR_H

#include <sys/types.h>

#define QDOOR_DIR "queue/door"            /* the queue owner's alone */
#define QDOOR_SOCKET "queue/door/socket"  /* mode 0666: anyone may queue mail */
#define QDOOR_MAX 64                      /* children at once; more are sent away */
#define QDOOR_PER_UID 32                  /* of them for one caller's uid */
#define QDOOR_TAKE_TIMEOUT 10             /* seconds for the door to take a message */
#define QDOOR_IDLE 60                     /* seconds without a caller before the door closes */

/* The caller's side: give the door of this home the four descriptors an
   mm-queue would get (message, envelope, id, stderr). 1: a child of the
   door has them (the caller closes its copies); *conn then carries the
   child's exit code (qdoor_status). 0: no door, or it did not take
   them: start mm-queue. */
extern int qdoor_hand (int const *fds, int *conn) ;

/* The exit code of the door's child, and conn closed: its code, or 75
   when the door went away before it could say. */
extern int qdoor_status (int conn) ;

/* The door's side: the door's own descriptors are closed in each child,
   which gets the four descriptors on 0, 1, 3 and 2 and the caller's uid
   and runs f, which must not return. qdoor_serve returns (0) on SIGTERM,
   when watch (a pipe; -1 for none) reaches its end, or after idle
   seconds without a caller (0: never), once the last child exited; -1
   when the socket cannot be made (errno). */
typedef void qdoor_child_fn (uid_t uid) ;
extern int qdoor_serve (int watch, unsigned int idle, qdoor_child_fn *f) ;

#endif
