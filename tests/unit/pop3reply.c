/* TAP unit test of src/lib/pop3reply.c: POP3 status lines, CAPA, UIDL
   and LIST lines, the APOP stamp and the dot-stuffed body of a RETR. */

#include <stdio.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "pop3reply.h"

static unsigned int n = 0 ;
static unsigned int failed = 0 ;

static void ok (int cond, char const *what)
{
  n++ ;
  if (!cond) failed++ ;
  printf("%sok %u - %s\n", cond ? "" : "not ", n, what) ;
}

/* s fed in pieces of step bytes; the message made, the bytes used */
static size_t body (char const *s, size_t len, size_t step, stralloc *out, pop3_body *b)
{
  size_t used = 0 ;
  out->len = 0 ;
  while (used < len && !b->done)
  {
    size_t k = len - used < step ? len - used : step ;
    size_t r = pop3_body_feed(b, s + used, k, out) ;
    used += r ;
    if (r < k) break ;
  }
  return used ;
}

#define S(x) x, sizeof(x) - 1

int main (void)
{
  char const *t ;
  unsigned long num ;
  uint64_t size ;
  char const *uid ;
  size_t ulen, start, sn ;
  stralloc out = STRALLOC_ZERO ;

  ok(pop3_status_parse(S("+OK ready"), &t) == 1 && !strcmp(t, "ready"), "+OK with text") ;
  ok(pop3_status_parse(S("+OK"), &t) == 1 && !*t, "+OK alone") ;
  ok(pop3_status_parse(S("-ERR [AUTH] no"), &t) == 0 && !strcmp(t, "[AUTH] no"), "-ERR with text") ;
  ok(pop3_status_parse(S("+OKAY"), &t) < 0, "+OKAY is not a status") ;
  ok(pop3_status_parse(S("HELLO"), &t) < 0, "garbage is not a status") ;
  ok(pop3_status_parse(S(""), &t) < 0, "an empty line is not a status") ;

  ok(pop3_capa_line(S("PIPELINING")) == POP3_CAPA_PIPELINING, "CAPA PIPELINING") ;
  ok(pop3_capa_line(S("uidl")) == POP3_CAPA_UIDL, "CAPA uidl, any case") ;
  ok(pop3_capa_line(S("SASL LOGIN PLAIN CRAM-MD5")) == POP3_CAPA_SASLPLAIN, "SASL with PLAIN among others") ;
  ok(pop3_capa_line(S("SASL PLAIN XOAUTH2 OAUTHBEARER")) == (POP3_CAPA_SASLPLAIN | POP3_CAPA_SASLXOAUTH2 | POP3_CAPA_SASLOAUTHBEARER), "SASL: every mechanism of the line counts") ;
  {
    char const *t = 0 ;
    ok(pop3_sasl_parse(S("+ eyJzdGF0dXMiOiI0MDEifQ=="), &t) == 2 && !strcmp(t, "eyJzdGF0dXMiOiI0MDEifQ=="), "a SASL continuation with data") ;
    ok(pop3_sasl_parse(S("+"), &t) == 2 && !*t, "an empty continuation") ;
    ok(pop3_sasl_parse(S("+OK Logged in."), &t) == 1, "+OK is a status, not a continuation") ;
    ok(pop3_sasl_parse(S("-ERR [AUTH] failed"), &t) == 0, "-ERR") ;
    ok(pop3_sasl_parse(S("+x"), &t) < 0, "junk") ;
  }
  ok(pop3_capa_line(S("SASL PLAINX")) == 0, "SASL PLAINX is not PLAIN") ;
  ok(pop3_capa_line(S("STLS")) == POP3_CAPA_STLS, "CAPA STLS") ;
  ok(pop3_capa_line(S("PIPELININGX")) == 0, "a longer word is another capability") ;

  ok(pop3_uidl_line(S("1 abc"), &num, &uid, &ulen) && num == 1 && ulen == 3 && !memcmp(uid, "abc", 3), "UIDL line") ;
  ok(pop3_uidl_line(S("12 00000001a0b1c2d3 "), &num, &uid, &ulen) && num == 12 && ulen == 16, "UIDL line with a trailing space") ;
  ok(!pop3_uidl_line(S("0 abc"), &num, &uid, &ulen), "message number 0") ;
  ok(!pop3_uidl_line(S("1 a b"), &num, &uid, &ulen), "a UIDL with a space") ;
  ok(!pop3_uidl_line(S("1 "), &num, &uid, &ulen), "an empty UIDL") ;
  ok(!pop3_uidl_line(S("1 a\001"), &num, &uid, &ulen), "a control character in a UIDL") ;
  ok(!pop3_uidl_line(S("1 0123456789012345678901234567890123456789012345678901234567890123456789x"), &num, &uid, &ulen), "a UIDL of 71 characters") ;
  ok(!pop3_uidl_line(S("99999999999999999999999 a"), &num, &uid, &ulen), "a message number that overflows") ;
  ok(!pop3_uidl_line(S("x a"), &num, &uid, &ulen), "no number") ;

  ok(pop3_list_line(S("3 1024"), &num, &size) && num == 3 && size == 1024, "LIST line") ;
  ok(!pop3_list_line(S("3 "), &num, &size), "LIST without a size") ;
  ok(!pop3_list_line(S("3 12x"), &num, &size), "LIST with junk") ;

  ok(pop3_apop_stamp(S("+OK POP3 <1896.697170952@dbc.mtview.ca.us> ready"), &start, &sn) && sn == 33, "APOP stamp of RFC 1939") ;
  ok(!pop3_apop_stamp(S("+OK ready <no-at>"), &start, &sn), "no @, no stamp") ;
  ok(!pop3_apop_stamp(S("+OK ready"), &start, &sn), "no stamp") ;

  {
    static char const m[] = "Subject: x\r\n\r\n..leading dot\r\n.\r\nafter" ;
    for (size_t step = 1 ; step <= 4 ; step++)
    {
      pop3_body b = POP3_BODY_ZERO ;
      size_t used = body(S(m), step, &out, &b) ;
      ok(b.done && used == sizeof(m) - 1 - 5 && out.len == 25 && !memcmp(out.s, "Subject: x\n\n.leading dot\n", 25) && !b.flags,
         step == 1 ? "a body fed byte by byte: CRLF to LF, dot-stuffing removed, stops after the final line" : "the same in other pieces") ;
    }
  }
  {
    pop3_body b = POP3_BODY_ZERO ;
    body(S("a\nb\r\n.\n"), 100, &out, &b) ;
    ok(b.done && out.len == 4 && !memcmp(out.s, "a\nb\n", 4) && b.flags == POP3_BODY_BARELF, "bare LFs end lines and are noted") ;
  }
  {
    pop3_body b = POP3_BODY_ZERO ;
    body(S("a\0b\r\n.\r\n"), 100, &out, &b) ;
    ok(b.done && out.len == 4 && b.flags & POP3_BODY_NUL, "a NUL is noted") ;
  }
  {
    pop3_body b = POP3_BODY_ZERO ;
    body(S("a\rb\r\r\n.x\r\n.\r\n"), 100, &out, &b) ;
    ok(b.done && out.len == 7 && !memcmp(out.s, "a\rb\r\nx\n", 7) && b.flags & POP3_BODY_BARECR, "bare CRs are kept and noted, a stuffed dot before text is dropped") ;
  }
  {
    pop3_body b = POP3_BODY_ZERO ;
    body(S("line\r\n"), 100, &out, &b) ;
    ok(!b.done && b.lines == 1, "no final line: not done") ;
  }
  stralloc_free(&out) ;
  printf("1..%u\n", n) ;
  return !!failed ;
}
