/* TAP unit test of src/lib/rfc822.c: header fields and address lists. */

#include <stdio.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "rfc822.h"

static unsigned int n = 0 ;
static unsigned int failed = 0 ;

static void ok (int cond, char const *what, char const *detail)
{
  n++ ;
  if (!cond) failed++ ;
  printf("%sok %u - %s%s", cond ? "" : "not ", n, what, detail ? ": " : "") ;
  for (; detail && *detail ; detail++)
  {
    /* one TAP line: control characters are shown escaped */
    if (*detail == '\n') fputs("\\n", stdout) ;
    else if (*detail == '\r') fputs("\\r", stdout) ;
    else if (*detail == '\t') fputs("\\t", stdout) ;
    else if ((unsigned char)*detail < 32) printf("\\x%02x", (unsigned char)*detail) ;
    else putchar(*detail) ;
  }
  putchar('\n') ;
}

/* want: the expected addresses separated by '|', or NULL for a syntax error */
static void addrs (char const *value, char const *qualify, char const *want)
{
  stralloc sa = STRALLOC_ZERO ;
  stralloc got = STRALLOC_ZERO ;
  int r = rfc822_addresses(value, strlen(value), qualify, &sa) ;
  int good ;
  for (size_t i = 0 ; r > 0 && i < sa.len ; i++)
    stralloc_catb(&got, sa.s[i] ? sa.s + i : "|", 1) ;
  if (got.len) got.len-- ;
  stralloc_0(&got) ;
  if (!want) good = r == -1 && !sa.len ;
  else
  {
    int count = *want ? 1 : 0 ;
    for (char const *p = want ; *p ; p++) if (*p == '|') count++ ;
    good = r == count && !strcmp(got.s, want) ;
  }
  ok(good, want ? "addresses" : "syntax error", value) ;
  if (!good) printf("# got %d \"%s\", want %s\n", r, got.s, want ? want : "-1") ;
  stralloc_free(&sa) ;
  stralloc_free(&got) ;
}

static void qualifies (char const *value, char const *want, int count)
{
  stralloc sa = STRALLOC_ZERO ;
  int r = rfc822_qualify(value, strlen(value), "example.org", &sa) ;
  int good ;
  stralloc_0(&sa) ;
  good = want ? r == count && !strcmp(sa.s, want) : r == -1 ;
  ok(good, "qualify", value) ;
  if (!good) printf("# got %d \"%s\"\n", r, sa.s) ;
  stralloc_free(&sa) ;
}

static void field (char const *line, char const *name, int want)
{
  ok(rfc822_is_field(line, strlen(line), name) == want, want ? "is field" : "is not field", line) ;
}

int main (void)
{
  field("To: a@b\n", "to", 1) ;
  field("TO : a@b\n", "To", 1) ;
  field("To\t: a@b\n", "to", 1) ;
  field("Toolong: a@b\n", "to", 0) ;
  field("T: a@b\n", "to", 0) ;
  field(" To: a@b\n", "to", 0) ;
  field("To a@b\n", "to", 0) ;
  field("Resent-To: a@b\n", "resent-to", 1) ;
  ok(rfc822_fieldname("Subject: x", 10) == 7, "fieldname length", "Subject") ;
  ok(rfc822_fieldname("X-Foo  : x", 10) == 5, "fieldname with spaces", "X-Foo") ;
  ok(rfc822_fieldname("no colon here", 13) == 0, "not a field", "no colon here") ;
  ok(rfc822_fieldname(": empty", 7) == 0, "empty name", ": empty") ;
  ok(rfc822_fieldname("\tcont: x", 8) == 0, "continuation", "\\tcont: x") ;
  ok(rfc822_fieldname("From bob Sat Nov 21", 19) == 0, "mbox From_ line", 0) ;

  addrs("alice@example.org", 0, "alice@example.org") ;
  addrs(" alice@example.org , bob@example.org ", 0, "alice@example.org|bob@example.org") ;
  addrs("Alice <alice@Example.ORG>", 0, "alice@example.org") ;
  addrs("\"Smith, John\" <john@example.org>, bob@example.org", 0, "john@example.org|bob@example.org") ;
  addrs("John Q. Public <jqp@example.org>", 0, "jqp@example.org") ;
  addrs("alice@example.org (Alice Liddell)", 0, "alice@example.org") ;
  addrs("(comment (nested) \\) ) alice(x)@(y)example.org", 0, "alice@example.org") ;
  addrs("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", 0, "pete@silly.test") ;
  addrs("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;", 0, "c@a.test|joe@where.test|jdoe@one.test") ;
  addrs("undisclosed-recipients:;", 0, "") ;
  addrs("Friends: a@b.test;, c@d.test", 0, "a@b.test|c@d.test") ;
  addrs("\"john doe\"@example.org", 0, "\"john doe\"@example.org") ;
  addrs("\"john\"@example.org", 0, "john@example.org") ;
  addrs("\"john\".\"doe\"@example.org", 0, "john.doe@example.org") ;
  addrs("\"a\\\"b\"@example.org", 0, "\"a\\\"b\"@example.org") ;
  addrs("alice", "example.org", "alice@example.org") ;
  addrs("alice, Bob <bob>", "Example.Org", "alice@example.org|bob@example.org") ;
  addrs("alice", 0, "alice") ;
  addrs("<@relay.test,@b.test:carol@c.test>", 0, "carol@c.test") ;
  addrs("x@[192.0.2.1]", 0, "x@[192.0.2.1]") ;
  addrs("x@[ 192.0.2.1 ]", 0, "x@[192.0.2.1]") ;
  addrs("a@b.test,,, c@d.test", 0, "a@b.test|c@d.test") ;
  addrs("", 0, "") ;
  addrs("   ", 0, "") ;
  addrs("Nobody <>", 0, "") ;
  addrs(" a@b.test,\r\n c@d.test,\n\tMr \"E\r\n F\" <e@f.test>", 0, "a@b.test|c@d.test|e@f.test") ;
  addrs("\"folded\r\n name\"@x.test", 0, "\"folded name\"@x.test") ;
  addrs("=?UTF-8?Q?J=C3=B6rg?= <joerg@x.test>", 0, "joerg@x.test") ;
  addrs("J\xc3\xb6rg <joerg@x.test>", 0, "joerg@x.test") ;
  addrs("\"\"@x.test", 0, "\"\"@x.test") ;
  addrs("\"\"", "example.org", "\"\"@example.org") ;
  addrs("Empty <\"\"@x.test>, \"\".\"\"@y.test", 0, "\"\"@x.test|\".\"@y.test") ;
  addrs("a@B.Test.", 0, 0) ;
  addrs("a@b.test c@d.test", 0, 0) ;
  addrs("a@@b.test", 0, 0) ;
  addrs("a..b@c.test", 0, 0) ;
  addrs("a.@c.test", 0, 0) ;
  addrs("@c.test", 0, 0) ;
  addrs("a@", 0, 0) ;
  addrs("Alice <alice@example.org", 0, 0) ;
  addrs("Alice alice@example.org>", 0, 0) ;
  addrs("<a@b.test> trailing", 0, 0) ;
  addrs("<<a@b.test>>", 0, 0) ;
  addrs("\"unterminated@b.test", 0, 0) ;
  addrs("(unterminated a@b.test", 0, 0) ;
  addrs("a@[1.2.3.4", 0, 0) ;
  addrs("G1: G2: a@b.test;;", 0, 0) ;
  addrs("a@b.test;", 0, 0) ;
  addrs("a\\b@c.test", 0, 0) ;
  addrs("a\x01@c.test", 0, 0) ;
  addrs("a@b.test, c@d.test, e@f.test, g@h.test, i@j.test", 0, "a@b.test|c@d.test|e@f.test|g@h.test|i@j.test") ;

  {
    /* a NUL is no text of a quoted string or a domain literal: it would
       cut the NUL-terminated address in two (found by fuzz/rfc822) */
    static char const *const nul[] = { "\"a\0b\"@c.test", "\"a\\\0b\"@c.test", "a@[1.2.3.4\0]", "x <\"\0bob@evil.test\"@c.test>", 0 } ;
    static size_t const nullen[] = { 12, 13, 12, 27 } ;
    for (unsigned int k = 0 ; nul[k] ; k++)
    {
      stralloc sa = STRALLOC_ZERO ;
      int r = rfc822_addresses(nul[k], nullen[k], 0, &sa) ;
      ok(r == -1 && !sa.len, "syntax error", "a NUL in a quoted string or a domain literal") ;
      sa.len = 0 ;
      r = rfc822_qualify(nul[k], nullen[k], "example.org", &sa) ;
      ok(r == -1 && !sa.len, "qualify: syntax error", "a NUL in a quoted string or a domain literal") ;
      stralloc_free(&sa) ;
    }
  }

  qualifies("alice", "alice@example.org", 1) ;
  qualifies("alice@x.test", "alice@x.test", 0) ;
  qualifies("Alice <alice>, bob (Bob)", "Alice <alice@example.org>, bob@example.org (Bob)", 2) ;
  qualifies("\"Smith, J\" <js>,\n\tcarol@c.test", "\"Smith, J\" <js@example.org>,\n\tcarol@c.test", 1) ;
  qualifies("\"john doe\"", "\"john doe\"@example.org", 1) ;
  qualifies("team: a, b@c.test;", "team: a@example.org, b@c.test;", 1) ;
  qualifies("undisclosed-recipients:;", "undisclosed-recipients:;", 0) ;
  qualifies("a b", 0, 0) ;

  printf("1..%u\n", n) ;
  return !!failed ;
}
