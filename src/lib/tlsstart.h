/* The parent's side of mm-tls: hand the network over, read the report. */
#ifndef MM_TLSSTART_H
#define MM_TLSSTART_H

#include <sys/types.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>

#define TLSSTART_ARGS_MAX 40
#define TLSSTART_REPORT_MAX 1024

typedef struct tlsstart_s tlsstart ;
struct tlsstart_s
{
  char const *argv[TLSSTART_ARGS_MAX] ;  /* mm-tls's arguments, argv[0] "mm-tls" */
  unsigned int argc ;
  stralloc report ;    /* the report line without "ok "/"fail " (INTERNALS 9) */
  stralloc summary ;   /* "PROTOCOL CIPHER" after a handshake, for logs */
  int ok ;             /* the handshake succeeded */
  int plain ;          /* our end of the plaintext socket, -1 before */
  pid_t pid ;
} ;
#define TLSSTART_ZERO { .argv = { "mm-tls" }, .argc = 1, .report = STRALLOC_ZERO, .summary = STRALLOC_ZERO, .ok = 0, .plain = -1, .pid = 0 }

/* Add one argument (kept as a pointer: it must outlive tlsstart_run).
   0 when there are too many. */
extern int tlsstart_arg (tlsstart *t, char const *s) ;

/* Start bin/mm-tls with the arguments given on the network descriptor
   net, which is closed here in every case (the parent must never read
   the network again), and wait until deadline for its report. 1: the
   handshake succeeded, t->plain carries the plaintext; 0: TLS failed,
   t->report says why (t->plain is closed); -1: no mm-tls to run, or no
   report (errno, t->report says what). */
extern int tlsstart_run (tlsstart *t, int net, tain const *deadline) ;

/* Close the plaintext side and reap mm-tls (after its exit). */
extern void tlsstart_end (tlsstart *t) ;

#endif
