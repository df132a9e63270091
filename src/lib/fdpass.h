/* Descriptors over a Unix socket (SCM_RIGHTS) with a short message, and
   waiting for a descriptor with a deadline: the hand-overs to the
   mm-queue door and to the mm-tls server. */
#ifndef MM_FDPASS_H
#define MM_FDPASS_H

#include <stddef.h>
#include <skalibs/tai.h>

#define FDPASS_MAX 4   /* descriptors in one message */

/* Send n descriptors with the len bytes of msg (len >= 1). 1 done, 0 not. */
extern int fdpass_send (int sock, int const *fds, unsigned int n, char const *msg, size_t len) ;

/* Receive exactly n descriptors (close-on-exec) and up to max bytes
   into buf by deadline. The number of bytes (>= 1) when n came; 0 when
   anything else came (what was received is closed), the peer closed or
   the deadline passed (errno ETIMEDOUT). */
extern size_t fdpass_recv (int sock, int *fds, unsigned int n, char *buf, size_t max, tain const *deadline) ;

/* 1 when fd is readable by deadline; 0 otherwise (errno). */
extern int fdpass_wait (int fd, tain const *deadline) ;

/* The taker's answer after fdpass_send: 1 when the byte "k" came by
   deadline (the descriptors are the taker's), 0 for anything else (an
   end of file: the taker let them be), -1 for none by deadline (errno). */
extern int fdpass_taken (int sock, tain const *deadline) ;

/* The uid of the process at the other end of a Unix socket, 1; 0 unknown. */
extern int fdpass_peer_uid (int sock, uid_t *uid) ;

#endif
