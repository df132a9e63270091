/* Delivery status notifications (RFC 3464): bounces and delay warnings. */
#ifndef MM_REPORT_H
#define MM_REPORT_H

#include <skalibs/stralloc.h>
#include "queuefile.h"

typedef struct report_s report ;
struct report_s
{
  int fd ;              /* the queue file of the original message */
  qfile const *q ;
  int final ;           /* 1 bounce (failed), 0 delay warning */
  unsigned int n ;
  stralloc human ;      /* the text/plain part's list */
  stralloc status ;     /* the message/delivery-status per-recipient fields */
  stralloc to ;         /* where the report goes */
} ;

extern void report_init (report *r, int fd, qfile const *q, int final) ;
/* One recipient: the address it was sent to, the target, the reason
   (starting with an enhanced status code). */
extern void report_add (report *r, char const *rcpt, char const *target, char const *text, int failed) ;
/* Compose and queue it (from <>, to the sender, or to postmaster for a
   message that had no sender). Returns mm-queue's exit code; id gets the
   new message's id. bouncemax: the whole message is attached up to this
   size, else only its header. */
extern int report_send (report *r, unsigned long bouncemax, char *id) ;
extern char const *report_recipient (report const *r) ;
extern char const *report_strerror (int code) ;
extern void report_free (report *r) ;

#endif
