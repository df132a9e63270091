/* SMTP line I/O: reading CRLF lines strictly, with deadlines, no privilege. */

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <skalibs/buffer.h>
#include <skalibs/error.h>
#include <skalibs/iopause.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "smtpio.h"

static int waitfor (int fd, short events, tain const *deadline)
{
  iopause_fd x = { .fd = fd, .events = events, .revents = 0 } ;
  for (;;)
  {
    int r = iopause_g(&x, 1, deadline) ;
    if (r < 0)
    {
      if (errno == EINTR) continue ;
      return 0 ;
    }
    if (!r) return (errno = ETIMEDOUT, 0) ;
    return 1 ;
  }
}

int smtpio_flush (buffer *out, tain const *deadline)
{
  while (!buffer_isempty(out))
  {
    if (buffer_flush(out)) return 1 ;
    if (!error_isagain(errno) && errno != EINTR) return 0 ;
    if (!waitfor(buffer_fd(out), IOPAUSE_WRITE, deadline)) return 0 ;
  }
  return 1 ;
}

ssize_t smtpio_fill (buffer *in, buffer *out, tain const *deadline)
{
  if (out && !smtpio_flush(out, deadline)) return -1 ;
  for (;;)
  {
    ssize_t r ;
    if (!waitfor(buffer_fd(in), IOPAUSE_READ, deadline)) return -1 ;
    r = buffer_fill(in) ;
    if (r >= 0) return r ;
    if (!error_isagain(errno) && errno != EINTR) return -1 ;
  }
}

/* Note odd bytes in n bytes of line text (no LF line end among them) and
   keep up to max + 1 of them: the extra one is room for the CR of a CRLF
   that may follow. */
static int take (smtpio_line *l, char const *s, size_t n, size_t max)
{
  size_t i ;
  for (i = 0 ; i < n ; i++)
  {
    unsigned char c = s[i] ;
    if (l->prevcr && c != '\n') l->flags |= SMTPIO_BARECR ;
    if (!c) l->flags |= SMTPIO_NUL ;
    else if (c & 0x80) l->flags |= SMTPIO_8BIT ;
    l->prevcr = c == '\r' ;
  }
  l->total += n ;
  if (l->text.len <= max)
  {
    size_t room = max + 1 - l->text.len ;
    if (!stralloc_catb(&l->text, s, n < room ? n : room)) return 0 ;
  }
  return 1 ;
}

int smtpio_line_close (smtpio_line *l, size_t max)
{
  if (l->total > max) l->flags |= SMTPIO_TOOLONG ;
  if (l->text.len > l->total) l->text.len = l->total ;
  if (l->text.len > max) l->text.len = max ;
  if (!stralloc_0(&l->text)) return 0 ;
  l->text.len-- ;
  l->done = 1 ;
  return 1 ;
}

size_t smtpio_line_feed (smtpio_line *l, char const *s, size_t n, size_t max, int mode)
{
  char const *lf ;
  size_t k ;
  if (l->done)
  {
    l->text.len = 0 ; l->total = 0 ; l->flags = 0 ; l->prevcr = 0 ; l->done = 0 ;
  }
  lf = memchr(s, '\n', n) ;
  if (!lf) return take(l, s, n, max) ? n : (size_t)-1 ;
  k = lf - s ;
  if (!take(l, s, k, max)) return (size_t)-1 ;
  if (l->prevcr)
  {
    l->total-- ;  /* the CR of the CRLF is no text */
    return smtpio_line_close(l, max) ? k + 1 : (size_t)-1 ;
  }
  l->flags |= SMTPIO_BARELF ;
  if (mode == SMTPIO_ANYLF) return smtpio_line_close(l, max) ? k + 1 : (size_t)-1 ;
  /* only CRLF ends the line: the bare LF is text */
  l->total++ ;
  if (l->text.len <= max && !stralloc_catb(&l->text, "\n", 1)) return (size_t)-1 ;
  return k + 1 ;
}

int smtpio_getline (buffer *in, buffer *out, smtpio_line *l, size_t max, int mode, tain const *deadline)
{
  l->text.len = 0 ; l->total = 0 ; l->flags = 0 ; l->prevcr = 0 ; l->done = 0 ;
  for (;;)
  {
    struct iovec v[2] ;
    char const *s ;
    size_t n, used ;
    if (buffer_isempty(in))
    {
      ssize_t r = smtpio_fill(in, out, deadline) ;
      if (r < 0) return -1 ;
      if (!r) return smtpio_line_close(l, max) ? 0 : -1 ;
    }
    buffer_rpeek(in, v) ;
    s = v[0].iov_base ; n = v[0].iov_len ;
    if (!n) { s = v[1].iov_base ; n = v[1].iov_len ; }
    used = smtpio_line_feed(l, s, n, max, mode) ;
    if (used == (size_t)-1) return -1 ;
    buffer_rseek(in, used) ;
    if (l->done) return 1 ;
  }
}
