/* Fuzz harness: SMTP replies (src/lib/smtpreply.c and smtpio's line
   reader), as a remote server sends them to mm-remote: lines assembled
   into replies, and EHLO replies read for their keywords. Input: one
   byte, the size of the pieces the bytes arrive in (as reads from the
   socket cut them), then the server's bytes. */

#include <skalibs/stralloc.h>
#include "smtpio.h"
#include "smtpreply.h"
#include "fuzz.h"

#define REPLYLINE_MAX 2048   /* as in mm-remote.c */

static void check (smtpreply const *r, stralloc *auth)
{
  smtpext x ;
  if (r->code < 200 || r->code > 599 || r->text.s[r->text.len]) abort() ;
  for (size_t i = 0 ; i < r->text.len ; i++)
    if ((unsigned char)r->text.s[i] < 32 || r->text.s[i] == 127) abort() ;
  if (r->lines.len && r->lines.s[r->lines.len-1]) abort() ;
  if (!smtpreply_ehlo(r, &x, auth)) abort() ;
  if (auth->s[auth->len] || auth->s[0] != ' ' || strlen(auth->s) != auth->len) abort() ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static smtpio_line line = SMTPIO_LINE_ZERO ;
  static smtpreply r = SMTPREPLY_ZERO ;
  static stralloc auth = STRALLOC_ZERO ;
  char const *s = (char const *)data ;
  size_t piece ;
  if (!size) return 0 ;
  piece = data[0] + 1 ;
  s++ ; size-- ;
  line.done = 1 ; line.text.len = 0 ;
  r.nlines = 0 ;
  while (size)
  {
    size_t n = size < piece ? size : piece ;
    size_t used = smtpio_line_feed(&line, s, n, REPLYLINE_MAX, SMTPIO_ANYLF) ;
    int e ;
    if (used == (size_t)-1 || used > n) abort() ;
    s += used ; size -= used ;
    if (!line.done) { if (used != n) abort() ; continue ; }
    if (line.text.len > REPLYLINE_MAX || line.text.s[line.text.len]) abort() ;
    e = smtpreply_line(&r, line.text.s, line.text.len, !!(line.flags & SMTPIO_NUL)) ;
    if (e == -2) abort() ;
    if (e < 0) { r.nlines = 0 ; continue ; }   /* mm-remote hangs up; go on with the next bytes */
    if (e > 0) check(&r, &auth) ;
  }
  return 0 ;
}
