/* The wake-up of mm-online --wait when mm-send replaces a progress
   file in queue/flush (INTERNALS 8.2). */
#ifndef MM_FLUSHWAKE_H
#define MM_FLUSHWAKE_H

#define FLUSHWAKE_PATH "queue/flush/.wake"   /* a fifo, relative to the home */

/* mm-send, in the home: makes queue/flush/.wake a fifo of its own
   (mode 0640: root and the online group read it), replacing whatever
   else has the name. 1 done, 0 failed (errno). */
extern int flushwake_make (void) ;

/* mm-send, after each progress file: opens the fifo for writing
   without blocking and closes it again. Every reader that opened it
   before sees POLLHUP; with no reader the open fails at once (ENXIO),
   which costs nothing. Nothing is ever written into it. */
extern void flushwake_poke (void) ;

/* mm-online, in the home: the fifo opened for reading, not blocking,
   never through a symlink, and a fifo only; -1 when there is none
   (an mm-send that does not poke: the caller falls back to another
   wake-up). Open it before reading the progress file, wait for
   IOPAUSE_READ, then close it and open it anew: the hang-up stays
   until then. */
extern int flushwake_open (void) ;

#endif
