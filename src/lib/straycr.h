/* Stray carriage returns in a message on its way into the queue. */
#ifndef MM_STRAYCR_H
#define MM_STRAYCR_H

#include <stddef.h>

/* The queue holds LF line ends only (INTERNALS 3.2), and a CR that ends
   no line could end one at a receiver that accepts a bare CR: mm-remote
   would send "x<CR>.<CR>MAIL FROM:..." as it stands, outbound SMTP
   smuggling (RFC 5321 2.3.8). A CR right before an LF goes; any other CR
   becomes a space (as Postfix's cleanup_replace_stray_cr_lf does).

   Copies n bytes from in to out (which has room for n + 1), fixing the
   CRs, and returns the length written. A CR at the end of in is held in
   *held (start with 0) until the next call shows what follows it; at
   the end of the message call once more with n = 0 to write it. */
extern size_t straycr_fix (char *out, char const *in, size_t n, int *held) ;

#endif
