/* Writing one message into an mbox file or a Maildir so that a crash or
   a full disk never leaves part of it behind (mm-local(8)). */
#ifndef MM_MAILBOX_H
#define MM_MAILBOX_H

#include <stddef.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>

#define MAILBOX_LOCK_WAIT 60       /* seconds to wait for a locked mbox */
#define MAILBOX_DOTLOCK_STALE 300  /* a .lock file older than this was left by a crash */
#define MAILBOX_MAILDIR_TRIES 10   /* unique names tried in tmp/ */

/* mboxrd quoting: a line matching ^>*From gets one more '>'. The text
   may come in pieces of any size. 1 ok, 0 write error (errno). */
typedef struct mboxquote_s mboxquote ;
struct mboxquote_s
{
  int inprefix ;          /* at the start of a line, among its '>'s */
  unsigned int matched ;  /* bytes of "From " seen there */
} ;
#define MBOXQUOTE_ZERO { .inprefix = 1, .matched = 0 }
extern int mboxquote_put (buffer *out, mboxquote *q, char const *s, size_t len) ;
/* End of the text: what is still held back. */
extern int mboxquote_end (buffer *out, mboxquote *q) ;

/* Where the message comes from: writes it to out, mbox-quoted when
   quote is set; *lastnl (when not NULL) tells whether its last byte was
   a newline. 1 ok, 0 error (errno). */
typedef int mailbox_writer (buffer *out, int quote, int *lastnl) ;

/* Append "From SENDER DATE", head, the message and an empty line to the
   mbox at path, under a dot-lock and an fcntl lock; cut it back on any
   failure. "/dev/null" takes everything. 0 delivered, else EX_TEMPFAIL
   with the reason ("4.2.2 mailbox full or disk full: ...") in why. */
extern int mailbox_mbox (char const *path, char const *sender, char const *head, size_t headlen, mailbox_writer *w, stralloc *why) ;

/* Deliver head and the message into the Maildir dir (tmp/, fsync, link
   into new/, fsync new/), creating dir, tmp, new and cur when missing.
   With a key (a name that is the same each time this delivery is tried)
   the file is named after it, and a file of that name already in new/
   or cur/ means an earlier try delivered it: nothing is written again.
   0 delivered, else EX_TEMPFAIL with the reason in why. */
extern int mailbox_maildir (char const *dir, char const *key, char const *head, size_t headlen, mailbox_writer *w, stralloc *why) ;

#endif
