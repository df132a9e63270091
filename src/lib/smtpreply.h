/* SMTP replies from a server (RFC 5321 4.2): assembling multiline
   replies from their lines, and reading the EHLO keywords. */
#ifndef MM_SMTPREPLY_H
#define MM_SMTPREPLY_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

#define SMTPREPLY_LINES_MAX 200   /* a reply longer than this is junk */

typedef struct smtpreply_s smtpreply ;
struct smtpreply_s
{
  unsigned int code ;
  unsigned int nlines ;  /* lines of the reply being assembled, 0 between replies */
  stralloc text ;        /* "550 5.1.1 first line second line", NUL-terminated, no control characters */
  stralloc lines ;       /* each line's text after the code, NUL-terminated */
} ;
#define SMTPREPLY_ZERO { .code = 0, .nlines = 0, .text = STRALLOC_ZERO, .lines = STRALLOC_ZERO }

/* Add one line of a reply (without its line end; nul: it held a NUL
   byte). 1 the reply is complete in r, 0 more lines must follow, -1
   junk (errno EPROTO: no code, a code that changes, too many lines),
   -2 out of memory. */
extern int smtpreply_line (smtpreply *r, char const *l, size_t len, int nul) ;

/* What a server offers in its EHLO reply. */
typedef struct smtpext_s smtpext ;
struct smtpext_s
{
  int pipelining, chunking, eightbitmime, smtputf8, hassize ;
  int starttls ;         /* RFC 3207 */
  uint64_t maxsize ;     /* SIZE's value, 0 when none was given */
} ;

/* Read the keywords of a complete 250 reply to EHLO into x; auth gets
   " MECH MECH " (upper case, NUL-terminated, the NUL not counted) from
   the AUTH lines. 1 ok, 0 out of memory. */
extern int smtpreply_ehlo (smtpreply const *r, smtpext *x, stralloc *auth) ;

#endif
