/* What each program gives up when it starts (README.install lists who
   holds which privilege in an install). */
#ifndef MM_PRIVS_H
#define MM_PRIVS_H

/* First thing in every main. A setuid or setgid program keeps nothing
   of its caller's environment but a fixed PATH (the home is pinned
   first, so MM_HOME was never looked at); a program running as root
   drops its supplementary groups. Dies 75 when that fails. */
extern void privs_init (void) ;

/* For programs with no use for root in an install: dies 77 when the
   real or the effective uid is 0. Private instances may run as root
   (a test run as root owns its instance). */
extern void privs_refuse_root (void) ;

/* For a setuid or setgid helper that has no use for its caller's
   identity (mm-remote): real and saved ids become the effective ones,
   so the caller's uid and primary group are gone for good. Call after
   privs_init. Dies 75 when that fails. */
extern void privs_drop_caller (void) ;

/* Root in an install becomes the send user, as mm-send: its uid, its
   primary group (the queue's group), and as the only supplementary
   group the remote user's primary group, which lets it run the setgid
   mm-remote and gives nothing else. No-op when not root or in a
   private instance. Dies 78 when a user is missing, 75 on failure. */
extern void privs_become_send (void) ;
/* The same for the queue owner, with no supplementary groups (privs_send.c). */
extern void privs_become_queue (void) ;

#endif
