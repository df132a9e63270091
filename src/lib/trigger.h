/* Poking mm-send through queue/lock/trigger. */
#ifndef MM_TRIGGER_H
#define MM_TRIGGER_H

#define TRIGGER_NEW 'n'    /* a new message is in todo/ */
#define TRIGGER_RUN 'q'    /* a queue run: everything now, holds too */
#define TRIGGER_ONLINE 'o' /* the online state changed (mm-online) */

/* Write c to the home's queue/lock/trigger fifo without blocking.
   1 a running mm-send reads the fifo, 0 nobody listens (no fifo, or no
   reader: a foreground mm-send -1 does not listen), -1 another error
   (errno). Callers that only poke may ignore the result. */
extern int trigger_pull (char c) ;

#endif
