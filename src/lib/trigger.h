/* Poking mm-send through queue/lock/trigger. */
#ifndef MM_TRIGGER_H
#define MM_TRIGGER_H

#define TRIGGER_NEW 'n'    /* a new message is in todo/ */
#define TRIGGER_RUN 'q'    /* a queue run: everything now, holds too */
#define TRIGGER_ONLINE 'o' /* the online state changed (mm-online) */

/* Write c to the home's queue/lock/trigger fifo without blocking;
   silent when no mm-send listens. */
extern void trigger_pull (char c) ;

#endif
