/* A locally submitted message, completed and handed to mm-queue. */
#ifndef MM_INJECT_H
#define MM_INJECT_H

#include <skalibs/gccattributes.h>

typedef struct inject_options_s inject_options ;
struct inject_options_s
{
  int t ;           /* -t: recipients from the header too */
  int i ;           /* -i: a line "." does not end the message */
  int q ;           /* -q: queue only, no immediate delivery attempt */
  char const *f ;   /* -f: envelope sender, or NULL for the caller */
  char const *F ;   /* -F: full name for a missing From, or NULL */
} ;
#define INJECT_OPTIONS_ZERO { .t = 0, .i = 0, .q = 0, .f = 0, .F = 0 }

/* Reads the message on stdin, queues it for the n recipients (and the
   header's with -t), and exits: 0 when queued, else a sysexits code
   after a one-line error on stderr. */
extern void inject (inject_options const *o, unsigned int n, char const *const *rcpts) gccattr_noreturn ;

#endif
