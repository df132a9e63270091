/* The socket between mm-smtpd and a running mm-tls server (INTERNALS 9):
   its name, and the hand-over of a connection's descriptors over it. */
#ifndef MM_TLSSERVER_H
#define MM_TLSSERVER_H

#include <skalibs/stralloc.h>
#include <skalibs/tai.h>

#define TLSSERVER_ARGS_MAX 256   /* the options sent with the descriptors */

/* The caller's side: give net, plain and our stderr to the server of
   this home and this uid, with args (n NUL-terminated strings, each
   after the other). 1: the server took them (the caller closes its
   copies and reads the report on plain as from an exec'd mm-tls);
   0: no server, or it did not take them: net is untouched, run mm-tls;
   -1: no answer by deadline (errno), the connection is lost. */
extern int tlsserver_handoff (int net, int plain, char const *args, size_t len, tain const *deadline) ;

/* The server's side. A listening socket under the name, close-on-exec,
   or -1 (errno EADDRINUSE: a server already runs). */
extern int tlsserver_listen (void) ;

/* 1 when the process at the other end of conn runs as our uid. */
extern int tlsserver_peer_ok (int conn) ;

/* Receive the three descriptors (net, plain, stderr) and the options
   into args by deadline. 1 done; 0 nothing sensible came (anything
   received is closed). */
extern int tlsserver_receive (int conn, int fds[3], stralloc *args, tain const *deadline) ;

/* Tell the caller that we took its connection: from now on it is ours. */
extern int tlsserver_ack (int conn) ;

#endif
