/* Handing a message to mm-queue: the one way to put mail in the queue. */
#ifndef MM_QSPAWN_H
#define MM_QSPAWN_H

#include <sys/types.h>
#include <skalibs/buffer.h>

typedef struct qspawn_s qspawn, *qspawn_ref ;
struct qspawn_s
{
  pid_t pid ;       /* mm-queue's, or 0 when the door's child has it */
  int door ;        /* the door's connection for its child's code, or -1 */
  int messfd ;      /* write the message here (LF line ends) */
  int envfd ;       /* then the envelope here */
  int idfd ;        /* mm-queue writes "ID\n" here after the commit */
  buffer mess ;     /* buffered writer on messfd */
  char buf[8192] ;
} ;

/* Hand the message to the queue's door (qdoor.h) or, without one,
   start bin/mm-queue. 1 ok, 0 on failure (errno set). */
extern int qspawn_start (qspawn *q) ;
/* Append the envelope: optional flags (may be NULL or ""), the sender,
   n recipients; then close everything, wait, and return mm-queue's exit
   code (0 ok, 65 bad, 75 temporary; 75 if it died by a signal). When
   id is not NULL it receives the queue id (NUL-terminated, up to 21
   bytes) on success. */
extern int qspawn_finish (qspawn *q, char const *flags, char const *sender, char const *const *rcpts, unsigned int n, char *id) ;
/* The same, recording host (where the message came from: RECEIVED_HOST
   for pipes) in the envelope when it is not NULL. */
extern int qspawn_finish_host (qspawn *q, char const *flags, char const *host, char const *sender, char const *const *rcpts, unsigned int n, char *id) ;
/* The same (without host and id), for a caller that exits as soon as
   it knows: 0 as soon as mm-queue reports the commit, which it does
   before linking todo/ID and pulling the trigger; mm-queue finishes
   those on its own. */
extern int qspawn_finish_early (qspawn *q, char const *flags, char const *sender, char const *const *rcpts, unsigned int n) ;
/* qspawn_finish_host that returns 0 and the id as soon as mm-queue
   reports the commit; qspawn_reap then collects what is left of it. */
extern int qspawn_finish_host_early (qspawn *q, char const *flags, char const *host, char const *sender, char const *const *rcpts, unsigned int n, char *id) ;
/* After an early finish: wait for the mm-queue of q (it has committed
   and is linking todo/ID), or let the door's child be. */
extern void qspawn_reap (qspawn *q) ;
/* Give up without committing: mm-queue sees no envelope, removes what
   it wrote and exits. */
extern void qspawn_abort (qspawn *q) ;

/* Text of an mm-queue exit code, for a one-line error. */
extern char const *qspawn_strerror (int code) ;

#endif
