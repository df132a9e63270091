/* Fuzz harness: POP3 responses (src/lib/pop3reply.c), as a POP3 server
   sends them to mm-pop3fetch: status, CAPA, UIDL and LIST lines and the
   APOP stamp, then a dot-stuffed RETR body. Input: one byte, the size
   of the pieces the body arrives in; response lines separated by LF up
   to a 0 byte; then the body. */

#include <skalibs/stralloc.h>
#include "pop3reply.h"
#include "fuzz.h"

static void lines (char const *s, size_t n)
{
  uint8_t const *p = (uint8_t const *)s ;
  char const *l ;
  size_t len ;
  while (fuzz_piece(&p, &n, '\n', &l, &len))
  {
    char *c = fuzz_strdup(l, len) ;   /* exactly the line: ASan sees past its end */
    char const *text, *uid ;
    unsigned long num ;
    uint64_t size ;
    size_t ulen, start, k ;
    int r = pop3_status_parse(c, len, &text) ;
    if (r > 1 || r < -1 || (r >= 0 && (text < c || text > c + len))) abort() ;
    (void)pop3_capa_line(c, len) ;
    if (pop3_uidl_line(c, len, &num, &uid, &ulen) && (!num || !ulen || ulen > POP3_UIDL_MAX || uid < c || uid + ulen > c + len)) abort() ;
    if (pop3_list_line(c, len, &num, &size) && !num) abort() ;
    if (pop3_apop_stamp(c, len, &start, &k) && (start + k > len || c[start] != '<' || c[start + k - 1] != '>')) abort() ;
    free(c) ;
  }
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static stralloc out = STRALLOC_ZERO ;
  pop3_body b = POP3_BODY_ZERO ;
  char const *l ;
  size_t len, piece ;
  if (!size) return 0 ;
  piece = data[0] + 1 ;
  data++ ; size-- ;
  if (fuzz_piece(&data, &size, 0, &l, &len)) lines(l, len) ;
  out.len = 0 ;
  while (size && !b.done)
  {
    size_t n = size < piece ? size : piece ;
    size_t before = out.len ;
    size_t used = pop3_body_feed(&b, (char const *)data, n, &out) ;
    if (used == (size_t)-1 || used > n || (used < n && !b.done)) abort() ;
    if (out.len - before > 2 * used + 2) abort() ;   /* what pop3_body_feed made room for */
    data += used ; size -= used ;
  }
  if (b.len != out.len) abort() ;
  /* the message has LF line ends: a CRLF is left in it only where a
     bare CR (kept, and flagged) came before a line end */
  if (out.len && memmem(out.s, out.len, "\r\n", 2) && !(b.flags & POP3_BODY_BARECR)) abort() ;
  return 0 ;
}
