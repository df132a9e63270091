/* SMTP line I/O over skalibs buffers with deadlines: for servers and clients. */
#ifndef MM_SMTPIO_H
#define MM_SMTPIO_H

#include <stddef.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>

/* What smtpio_getline saw in a line, besides its text. */
#define SMTPIO_BARELF   0x01  /* a LF without the CR before it (RFC 5321 2.3.8) */
#define SMTPIO_BARECR   0x02  /* a CR not followed by LF */
#define SMTPIO_NUL      0x04  /* a NUL byte */
#define SMTPIO_8BIT     0x08  /* a byte above 127 */
#define SMTPIO_TOOLONG  0x10  /* more than max bytes before the CRLF; text cut */

/* How a line ends. */
#define SMTPIO_ANYLF    0     /* any LF ends the line (commands, replies) */
#define SMTPIO_CRLFONLY 1     /* only CRLF ends it; a bare LF is text (DATA) */

/* Wait until in has data (flushing out first when it is not NULL, so that
   pipelined replies leave before we block) and read what is there.
   >0 bytes read, 0 end of file, -1 error (errno; ETIMEDOUT at deadline). */
extern ssize_t smtpio_fill (buffer *in, buffer *out, tain const *deadline) ;

/* Write out everything buffered in out by the deadline. 1 ok, 0 error. */
extern int smtpio_flush (buffer *out, tain const *deadline) ;

/* A line being assembled from the bytes of a stream, for readers that
   cannot let smtpio_getline read (BDAT chunks). */
typedef struct smtpio_line_s smtpio_line ;
struct smtpio_line_s
{
  stralloc text ;      /* the line without terminator, at most max bytes kept */
  size_t total ;       /* bytes of text seen, cut ones included */
  unsigned int flags ; /* SMTPIO_* bits */
  int prevcr ;         /* the last byte seen was a CR */
  int done ;           /* the line is complete; the next feed starts a new one */
} ;
#define SMTPIO_LINE_ZERO { .text = STRALLOC_ZERO, .total = 0, .flags = 0, .prevcr = 0, .done = 0 }

/* Feed up to n bytes of s into l, stopping after the end of a line (then
   l->done is set and text is NUL-terminated). Returns the number of bytes
   used, or (size_t)-1 when out of memory. */
extern size_t smtpio_line_feed (smtpio_line *l, char const *s, size_t n, size_t max, int mode) ;

/* End a partial line at end of input as if it were complete. 1 ok, 0 ENOMEM. */
extern int smtpio_line_close (smtpio_line *l, size_t max) ;

/* Read one line from in into l (flushing out first when it must wait).
   1 a line, 0 end of file (l holds a partial line), -1 error (errno;
   ETIMEDOUT when the deadline passed before the line was complete). */
extern int smtpio_getline (buffer *in, buffer *out, smtpio_line *l, size_t max, int mode, tain const *deadline) ;

#endif
