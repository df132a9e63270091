/* POP3 client I/O over a nonblocking socket, with deadlines; runs as the
   pop user inside mm-pop3fetch. Parsing is pop3reply.c's. */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/ip46.h>
#include <skalibs/socket.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "dns.h"
#include "pop3.h"

static int fail (pop3 *p, char const *a, char const *b)
{
  p->err.len = 0 ;
  if (!stralloc_cats(&p->err, a) || !stralloc_cats(&p->err, b ? b : "") || !stralloc_0(&p->err))
  {
    p->err.len = 0 ;
    stralloc_cats(&p->err, "out of memory") ;
    stralloc_0(&p->err) ;
  }
  return 0 ;
}

static int failio (pop3 *p, char const *what)
{
  if (errno == ETIMEDOUT) return fail(p, "timed out ", what) ;
  if (errno == EPIPE || errno == ECONNRESET) return fail(p, "connection lost ", what) ;
  fail(p, what, ": ") ;
  p->err.len-- ;
  if (!stralloc_cats(&p->err, strerror(errno)) || !stralloc_0(&p->err)) p->err.len = 0 ;
  return 0 ;
}

static void deadline (pop3 *p, tain *d)
{
  tain_now_g() ;
  tain_addsec_g(d, p->timeout) ;
}

static int try_connect (pop3 *p, ip46 const *ip, uint16_t port)
{
  tain d ;
  p->fd = socket_tcp46_nbcoe(ip46_is6(ip)) ;
  if (p->fd < 0) return failio(p, "creating a socket") ;
  deadline(p, &d) ;
  if (!socket_deadlineconnstamp46_g(p->fd, ip, port, &d))
  {
    failio(p, "connecting") ;
    fd_close(p->fd) ; p->fd = -1 ;
    return 0 ;
  }
  return 1 ;
}

int pop3_connect (pop3 *p, char const *host, uint16_t port, unsigned int timeout)
{
  genalloc ips = GENALLOC_ZERO ;
  ip46 ip ;
  size_t n = ip46_scan(host, &ip) ;
  int r ;
  p->timeout = timeout ;
  p->capa = 0 ;
  if (n && !host[n]) r = try_connect(p, &ip, port) ;
  else
  {
    r = dns_ip46_lookup(&ips, host) ;
    if (r != DNS_OK) { genalloc_free(ip46, &ips) ; return fail(p, "cannot find the address of ", host) ; }
    r = 0 ;
    for (size_t i = 0 ; !r && i < genalloc_len(ip46, &ips) ; i++)
      r = try_connect(p, genalloc_s(ip46, &ips) + i, port) ;
    genalloc_free(ip46, &ips) ;
  }
  if (!r) return 0 ;
  buffer_init(&p->in, &buffer_read, p->fd, p->inbuf, sizeof p->inbuf) ;
  buffer_init(&p->out, &buffer_write, p->fd, p->outbuf, sizeof p->outbuf) ;
  p->line.done = 1 ;
  return 1 ;
}

int pop3_greeting (pop3 *p)
{
  char const *text ;
  int r = pop3_status(p, &text) ;
  if (r < 0) return 0 ;
  if (!r) return fail(p, "refused at the greeting: ", text) ;
  p->greeting.len = 0 ;
  if (!stralloc_cats(&p->greeting, text) || !stralloc_0(&p->greeting)) return fail(p, "out of memory", 0) ;
  return 1 ;
}

int pop3_flush (pop3 *p)
{
  tain d ;
  deadline(p, &d) ;
  if (!smtpio_flush(&p->out, &d)) return failio(p, "sending a command") ;
  return 1 ;
}

int pop3_put (pop3 *p, char const *cmd, char const *arg)
{
  size_t n = strlen(cmd) + (arg ? strlen(arg) + 1 : 0) + 2 ;
  if (n > buffer_available(&p->out) && !pop3_flush(p)) return 0 ;
  if (n > buffer_available(&p->out)) return fail(p, "command too long", 0) ;
  buffer_putnoflush(&p->out, cmd, strlen(cmd)) ;
  if (arg) { buffer_putnoflush(&p->out, " ", 1) ; buffer_putnoflush(&p->out, arg, strlen(arg)) ; }
  buffer_putnoflush(&p->out, "\r\n", 2) ;
  return 1 ;
}

/* One line of at most POP3_LINE_MAX bytes; a longer one, a NUL or the
   end of the connection fails. */
static int getline (pop3 *p, char const *what)
{
  tain d ;
  int r ;
  deadline(p, &d) ;
  r = smtpio_getline(&p->in, &p->out, &p->line, POP3_LINE_MAX, SMTPIO_ANYLF, &d) ;
  if (r < 0) return failio(p, what) ;
  if (!r) return fail(p, "connection lost ", what) ;
  if (p->line.flags & SMTPIO_TOOLONG) return fail(p, "the server sent a line of more than 512 bytes ", what) ;
  if (p->line.flags & SMTPIO_NUL) return fail(p, "the server sent a NUL byte ", what) ;
  return 1 ;
}

/* the start of a line, printable, for an error text */
static int garbage (pop3 *p, char const *what)
{
  char shown[61] ;
  size_t n = p->line.text.len < 60 ? p->line.text.len : 60 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    unsigned char c = p->line.text.s[i] ;
    shown[i] = c >= 0x20 && c < 0x7f ? c : '?' ;
  }
  shown[n] = 0 ;
  fail(p, what, ": ") ;
  p->err.len-- ;
  if (!stralloc_catb(&p->err, "\"", 1) || !stralloc_cats(&p->err, shown) || !stralloc_cats(&p->err, "\"") || !stralloc_0(&p->err)) p->err.len = 0 ;
  return -1 ;
}

int pop3_status (pop3 *p, char const **text)
{
  int r ;
  if (!getline(p, "waiting for a reply")) return -1 ;
  r = pop3_status_parse(p->line.text.s, p->line.text.len, text) ;
  if (r < 0) return garbage(p, "the server answered neither +OK nor -ERR") ;
  return r ;
}

int pop3_sasl_reply (pop3 *p, char const **text)
{
  int r ;
  if (!getline(p, "waiting for a reply")) return -1 ;
  r = pop3_sasl_parse(p->line.text.s, p->line.text.len, text) ;
  if (r < 0) return garbage(p, "the server answered neither +OK, -ERR nor a continuation") ;
  return r ;
}

int pop3_listline (pop3 *p, char const **s, size_t *len)
{
  char const *t ;
  size_t n ;
  if (!getline(p, "in a listing")) return -1 ;
  t = p->line.text.s ; n = p->line.text.len ;
  if (n && t[0] == '.')
  {
    if (n == 1) return 0 ;
    t++ ; n-- ;
  }
  *s = t ; *len = n ;
  return 1 ;
}

int pop3_capa (pop3 *p)
{
  char const *s ;
  size_t n ;
  int r ;
  p->capa = 0 ;
  if (!pop3_put(p, "CAPA", 0)) return 0 ;
  r = pop3_status(p, &s) ;
  if (r < 0) return 0 ;
  if (!r) return 1 ;   /* an RFC 1939 server: no extensions */
  while ((r = pop3_listline(p, &s, &n)) > 0) p->capa |= pop3_capa_line(s, n) ;
  return !r ;
}

int pop3_body_read (pop3 *p, pop3_body *b, stralloc *out)
{
  struct iovec v[2] ;
  size_t used ;
  if (!buffer_len(&p->in))
  {
    tain d ;
    ssize_t r ;
    deadline(p, &d) ;
    r = smtpio_fill(&p->in, &p->out, &d) ;
    if (r < 0) return failio(p, "in the middle of a message") ;
    if (!r) return fail(p, "connection lost in the middle of a message", 0) ;
  }
  buffer_rpeek(&p->in, v) ;
  used = pop3_body_feed(b, v[0].iov_base, v[0].iov_len, out) ;
  if (used == (size_t)-1) return fail(p, "out of memory", 0) ;
  if (!b->done && used == v[0].iov_len && v[1].iov_len)
  {
    size_t more = pop3_body_feed(b, v[1].iov_base, v[1].iov_len, out) ;
    if (more == (size_t)-1) return fail(p, "out of memory", 0) ;
    used += more ;
  }
  buffer_rseek(&p->in, used) ;
  return 1 ;
}

int pop3_tls (pop3 *p, tlsstart *t, int stls)
{
  tain d ;
  int r ;
  /* CVE-2011-0411: bytes after the +OK to STLS were sent before the
     handshake by someone who wants them taken as coming through TLS */
  if (stls && buffer_len(&p->in)) return fail(p, "the server sent data after its +OK to STLS (injection?)", 0) ;
  deadline(p, &d) ;
  r = tlsstart_run(t, p->fd, &d) ;
  p->fd = -1 ;   /* closed by tlsstart_run: never read again */
  if (r <= 0) return fail(p, "TLS failed: ", t->report.s ? t->report.s : "") ;
  p->fd = t->plain ;
  t->plain = -1 ;
  if (ndelay_on(p->fd) < 0) return failio(p, "setting the TLS socket non-blocking") ;
  buffer_init(&p->in, &buffer_read, p->fd, p->inbuf, sizeof p->inbuf) ;
  buffer_init(&p->out, &buffer_write, p->fd, p->outbuf, sizeof p->outbuf) ;
  p->line.done = 1 ;
  p->capa = 0 ;
  return 1 ;
}

void pop3_close (pop3 *p)
{
  if (p->fd >= 0) fd_close(p->fd) ;
  p->fd = -1 ;
}
