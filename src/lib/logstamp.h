/* Timestamps on log lines that go to a plain file. */
#ifndef MM_LOGSTAMP_H
#define MM_LOGSTAMP_H

/* When stderr is a regular file, every line written through buffer_2
   (strerr and the daemons' log lines) gets the local time in front;
   otherwise (a pipe to multilog or journald, a terminal) nothing
   changes. Call at the start of main. */
extern void logstamp_init (void) ;

#endif
