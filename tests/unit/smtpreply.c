/* TAP unit test of src/lib/smtpreply.c: assembling server replies and
   reading the EHLO keywords, as mm-remote does. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "smtpreply.h"

static unsigned int n = 0 ;
static unsigned int failed = 0 ;

static void ok (int cond, char const *what)
{
  n++ ;
  if (!cond) failed++ ;
  printf("%sok %u - %s\n", cond ? "" : "not ", n, what) ;
}

/* Feed the lines of s (separated by '\n') one by one; the last result. */
static int feed (smtpreply *r, char const *s)
{
  int res = 0 ;
  while (*s)
  {
    size_t len = strcspn(s, "\n") ;
    res = smtpreply_line(r, s, len, 0) ;
    if (res < 0) return res ;
    s += len ;
    if (*s) s++ ;
  }
  return res ;
}

int main (void)
{
  smtpreply r = SMTPREPLY_ZERO ;
  smtpext x ;
  stralloc auth = STRALLOC_ZERO ;

  ok(feed(&r, "250 ok") == 1 && r.code == 250 && !strcmp(r.text.s, "250 ok"), "one-line reply") ;
  ok(smtpreply_line(&r, "550-5.1.1 no", 12, 0) == 0 && r.nlines == 1, "a continuation line wants more") ;
  ok(smtpreply_line(&r, "550 such user", 13, 0) == 1 && !strcmp(r.text.s, "550 5.1.1 no such user"), "multiline text joined") ;
  ok(feed(&r, "220") == 1 && r.code == 220 && !strcmp(r.text.s, "220"), "code alone") ;
  errno = 0 ;
  ok(feed(&r, "250-a\n251 b") == -1 && errno == EPROTO, "a code that changes is junk") ;
  r.nlines = 0 ;
  ok(feed(&r, "hello") == -1, "no code is junk") ;
  ok(feed(&r, "250x") == -1, "no separator after the code is junk") ;
  ok(feed(&r, "199 x") == -1 && feed(&r, "600 x") == -1, "codes outside 2xx-5xx are junk") ;
  ok(smtpreply_line(&r, "250 a\0b", 7, 1) == -1, "a NUL is junk") ;
  ok(feed(&r, "250 a\tb\x7f") == 1 && !strcmp(r.text.s, "250 a b "), "control characters become spaces") ;
  {
    unsigned int i ;
    int res = 0 ;
    r.nlines = 0 ;
    for (i = 0 ; i <= SMTPREPLY_LINES_MAX && res == 0 ; i++) res = smtpreply_line(&r, "250-x", 5, 0) ;
    ok(res == -1, "too many lines are junk") ;
    r.nlines = 0 ;
  }

  ok(feed(&r, "250-mx.example\n250-PIPELINING\n250-size 1000\n250-AUTH plain login\n250-AUTH=CRAM-MD5\n250 CHUNKING") == 1
     && smtpreply_ehlo(&r, &x, &auth), "EHLO reply read") ;
  ok(x.pipelining && x.chunking && !x.eightbitmime && !x.smtputf8 && x.hassize && x.maxsize == 1000, "EHLO keywords") ;
  ok(!strcmp(auth.s, " PLAIN LOGIN CRAM-MD5 ") && auth.len == 22, "AUTH mechanisms, upper case") ;
  ok(feed(&r, "250-PIPELINING\n250 8BITMIME") == 1 && smtpreply_ehlo(&r, &x, &auth) && !x.pipelining && x.eightbitmime, "the greeting line is no keyword") ;
  /* a bare AUTH line offers nothing; its mechanisms are not those of the next line */
  ok(feed(&r, "250-mx\n250-AUTH\n250 SIZE 100") == 1 && smtpreply_ehlo(&r, &x, &auth), "EHLO with a bare AUTH read") ;
  ok(!strcmp(auth.s, " ") && x.hassize && x.maxsize == 100, "a bare AUTH offers no mechanism") ;
  ok(feed(&r, "250-mx\n250 AUTH") == 1 && smtpreply_ehlo(&r, &x, &auth) && !strcmp(auth.s, " "), "a bare AUTH last offers no mechanism") ;
  ok(feed(&r, "250-mx\n250 SIZE") == 1 && smtpreply_ehlo(&r, &x, &auth) && x.hassize && !x.maxsize, "SIZE without a value") ;

  printf("1..%u\n", n) ;
  return !!failed ;
}
