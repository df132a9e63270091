/* A POP3 client connection (RFC 1939): commands out, status lines,
   listings and message bodies in, every read and write with a timeout. */
#ifndef MM_POP3_H
#define MM_POP3_H

#include <stdint.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include "pop3reply.h"
#include "smtpio.h"
#include "tlsstart.h"

typedef struct pop3_s pop3 ;
struct pop3_s
{
  int fd ;
  buffer in, out ;
  char inbuf[16384], outbuf[8192] ;
  unsigned int timeout ;   /* seconds each read and each write may take */
  smtpio_line line ;
  unsigned int capa ;      /* POP3_CAPA_* after pop3_capa */
  stralloc greeting ;      /* the +OK greeting's text, NUL-terminated */
  stralloc err ;           /* why the last call failed, NUL-terminated */
} ;
#define POP3_ZERO { .fd = -1, .line = SMTPIO_LINE_ZERO, .greeting = STRALLOC_ZERO, .err = STRALLOC_ZERO }

/* Connect to host:port (an address or a name). 1 ok, 0 failed (p->err). */
extern int pop3_connect (pop3 *p, char const *host, uint16_t port, unsigned int timeout) ;
/* Read the greeting into p->greeting. 1 ok, 0 failed (p->err). */
extern int pop3_greeting (pop3 *p) ;

/* Hand the connection to mm-tls (t holds its arguments); from then on p
   talks plaintext over t's socket and knows no capability. After STLS
   (stls set) bytes already received are an injection and fail.
   1 ok (t->report says how), 0 failed (p->err). */
extern int pop3_tls (pop3 *p, tlsstart *t, int stls) ;

/* Queue "CMD[ ARG]\r\n"; written at the next read or pop3_flush.
   1 ok, 0 failed (p->err). */
extern int pop3_put (pop3 *p, char const *cmd, char const *arg) ;
extern int pop3_flush (pop3 *p) ;

/* The next status line: 1 +OK, 0 -ERR (*text: the server's words),
   -1 the connection failed or the line is not a status (p->err). */
extern int pop3_status (pop3 *p, char const **text) ;

/* The same during SASL: 2 a continuation (*text its data). */
extern int pop3_sasl_reply (pop3 *p, char const **text) ;

/* The next line of a listing (CAPA, UIDL, LIST), dot-stuffing removed:
   1 a line (*s, *len, NUL-terminated), 0 the final ".", -1 error (p->err). */
extern int pop3_listline (pop3 *p, char const **s, size_t *len) ;

/* CAPA: p->capa from its listing. 1 ok (0 capabilities when the server
   answers -ERR), 0 failed (p->err). */
extern int pop3_capa (pop3 *p) ;

/* Read more of a message body: its bytes, LF line ends, are appended to
   out. 1 progress (b->done at the end), 0 failed (p->err). */
extern int pop3_body_read (pop3 *p, pop3_body *b, stralloc *out) ;

extern void pop3_close (pop3 *p) ;

#endif
