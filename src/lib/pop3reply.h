/* Parsing what a POP3 server says (RFC 1939, RFC 2449): status lines,
   CAPA, UIDL and LIST lines, and the dot-stuffed body of a RETR. Pure
   functions on bytes, for mm-pop3fetch and the fuzz harnesses. */
#ifndef MM_POP3REPLY_H
#define MM_POP3REPLY_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>

#define POP3_LINE_MAX 512     /* RFC 2449 3: a response line, CRLF included */
#define POP3_UIDL_MAX 70      /* RFC 1939 7: 1 to 70 characters 0x21..0x7E */

/* A status line (without its line end): 1 "+OK", 0 "-ERR", -1 neither.
   *text points after the indicator and its space. */
extern int pop3_status_parse (char const *s, size_t len, char const **text) ;

/* A reply during SASL (RFC 5034 4): 2 a continuation "+ DATA" (*text:
   DATA, possibly empty), else as pop3_status_parse. */
extern int pop3_sasl_parse (char const *s, size_t len, char const **text) ;

/* Capabilities from CAPA lines (RFC 2449, RFC 5034 SASL). */
#define POP3_CAPA_PIPELINING 0x01
#define POP3_CAPA_UIDL       0x02
#define POP3_CAPA_USER       0x04
#define POP3_CAPA_SASLPLAIN  0x08
#define POP3_CAPA_STLS       0x10
#define POP3_CAPA_SASLXOAUTH2 0x20
#define POP3_CAPA_SASLOAUTHBEARER 0x40
extern unsigned int pop3_capa_line (char const *s, size_t len) ;

/* A UIDL line "N UID": 1 ok (*uid, *uidlen inside s), 0 malformed. */
extern int pop3_uidl_line (char const *s, size_t len, unsigned long *num, char const **uid, size_t *uidlen) ;
/* A LIST line "N SIZE": 1 ok, 0 malformed. */
extern int pop3_list_line (char const *s, size_t len, unsigned long *num, uint64_t *size) ;

/* The APOP timestamp "<...>" in a greeting: 1 found (*start, *n), 0 not. */
extern int pop3_apop_stamp (char const *s, size_t len, size_t *start, size_t *n) ;

/* A multi-line body being turned into a message with LF line ends and
   the dot-stuffing removed; ends at the line ".". */
#define POP3_BODY_NUL    0x01   /* a NUL byte */
#define POP3_BODY_BARELF 0x02   /* a LF without its CR (taken as a line end) */
#define POP3_BODY_BARECR 0x04   /* a CR without its LF (kept) */
typedef struct pop3_body_s pop3_body ;
struct pop3_body_s
{
  unsigned int state ;
  unsigned int flags ;   /* POP3_BODY_* */
  uint64_t len ;         /* bytes of message produced so far */
  uint64_t lines ;       /* line ends among them */
  int done ;             /* the final "." line was seen */
} ;
#define POP3_BODY_ZERO { .state = 0, .flags = 0, .len = 0, .lines = 0, .done = 0 }

/* Feed up to n bytes of s; append the message bytes they make to out.
   Stops right after the final line (b->done). Returns the number of
   bytes used, (size_t)-1 when out of memory. */
extern size_t pop3_body_feed (pop3_body *b, char const *s, size_t n, stralloc *out) ;

#endif
