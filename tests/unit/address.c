/* TAP unit test of src/lib/address.c: envelope address checks and parsing. */

#include <stdio.h>
#include <string.h>
#include <skalibs/stralloc.h>
#include "address.h"

static unsigned int n = 0 ;
static unsigned int failed = 0 ;

static void ok (int cond, char const *what, char const *detail)
{
  n++ ;
  if (!cond) failed++ ;
  printf("%sok %u - %s%s%s\n", cond ? "" : "not ", n, what, detail ? ": " : "", detail ? detail : "") ;
}

static void valid (char const *s)
{
  char const *why = 0 ;
  int r = address_valid(s, strlen(s), &why) ;
  ok(r == 1, "valid", s) ;
}

static void invalid (char const *s, char const *reason)
{
  char const *why = 0 ;
  int r = address_valid(s, strlen(s), &why) ;
  ok(r == 0 && why && !strcmp(why, reason), "invalid", s) ;
  if (r || !why || strcmp(why, reason)) printf("# got %d, reason %s, want %s\n", r, why ? why : "(none)", reason) ;
}

static void parses (char const *in, char const *qualify, char const *want)
{
  stralloc sa = STRALLOC_ZERO ;
  char const *why = 0 ;
  int r = address_parse(&sa, in, strlen(in), qualify, &why) ;
  int good = r == 1 && sa.s && !strcmp(sa.s, want) && sa.len == strlen(want) ;
  ok(good, "parse", in) ;
  if (!good) printf("# got %d \"%s\" (%s), want \"%s\"\n", r, r ? sa.s : "", why ? why : "", want) ;
  stralloc_free(&sa) ;
}

static void refuses (char const *in, char const *qualify)
{
  stralloc sa = STRALLOC_ZERO ;
  char const *why = 0 ;
  int r = address_parse(&sa, in, strlen(in), qualify, &why) ;
  ok(r == 0 && why, "parse refuses", in) ;
  stralloc_free(&sa) ;
}

static void at (char const *s, size_t want)
{
  ok(address_at(s, strlen(s)) == want, "address_at", s) ;
}

int main (void)
{
  char buf[400] ;

  at("a@b", 1) ;
  at("a@b@c", 3) ;
  at("\"a@b\"@c", 5) ;
  at("\"a\\\"@b\"@c", 7) ;
  at("local", 5) ;

  valid("alice@example.org") ;
  valid("a.b.c@example.org") ;
  valid("a+tag@example.org") ;
  valid("!#$%&'*+-/=?^_`{|}~@example.org") ;
  valid("x@localhost") ;
  valid("x@a-b.c-d.example") ;
  valid("x@123.example") ;
  valid("\"john doe\"@example.org") ;
  valid("\"a@b\"@example.org") ;
  valid("\"quote\\\"inside\"@example.org") ;
  valid("\"\"@example.org") ;
  valid("x@[192.0.2.1]") ;
  valid("x@[IPv6:2001:db8::1]") ;
  valid("x@[ipv6:::1]") ;

  invalid("", "empty address") ;
  invalid("alice", "no domain") ;
  invalid("@example.org", "empty local part") ;
  invalid("alice@", "empty domain") ;
  invalid(".alice@example.org", "bad local part") ;
  invalid("alice.@example.org", "bad local part") ;
  invalid("a..b@example.org", "bad local part") ;
  invalid("john doe@example.org", "bad local part") ;
  invalid("a(b)@example.org", "bad local part") ;
  invalid("\"unterminated@example.org", "no domain") ;
  invalid("\"bad\"quote\"@example.org", "no domain") ;
  invalid("\"bad\"x@example.org", "bad local part") ;
  invalid("\"tab\tx\"@example.org", "bad local part") ;
  invalid("caf\xc3\xa9@example.org", "bad local part") ;
  invalid("a@-example.org", "bad domain") ;
  invalid("a@example-.org", "bad domain") ;
  invalid("a@example..org", "bad domain") ;
  invalid("a@example.org.", "bad domain") ;
  invalid("a@.example.org", "bad domain") ;
  invalid("a@exa_mple.org", "bad domain") ;
  invalid("a@b@c", "bad local part") ;
  invalid("x@[192.0.2.256]", "bad domain") ;
  invalid("x@[IPv6:2001:db8::g]", "bad domain") ;
  invalid("x@[192.0.2.1", "bad domain") ;
  {
    /* inet_pton stops at a NUL: what follows it must still count */
    static char const lit4[] = "x@[192.0.2.1\0junk]" ;
    static char const lit6[] = "x@[IPv6:::1\0]" ;
    char const *why = 0 ;
    ok(!address_valid(lit4, sizeof lit4 - 1, &why) && why && !strcmp(why, "bad domain"), "invalid", "NUL inside an IPv4 literal") ;
    why = 0 ;
    ok(!address_valid(lit6, sizeof lit6 - 1, &why) && why && !strcmp(why, "bad domain"), "invalid", "NUL inside an IPv6 literal") ;
    ok(!address_valid("a\0b@example.org", 15, 0), "invalid", "NUL in the local part") ;
  }

  /* RFC 5321 limits: local part 64, label 63, path 254 */
  memset(buf, 'a', 64) ; strcpy(buf + 64, "@example.org") ;
  valid(buf) ;
  memset(buf, 'a', 65) ; strcpy(buf + 65, "@example.org") ;
  invalid(buf, "local part too long") ;
  strcpy(buf, "x@") ; memset(buf + 2, 'b', 63) ; strcpy(buf + 65, ".org") ;
  valid(buf) ;
  strcpy(buf, "x@") ; memset(buf + 2, 'b', 64) ; strcpy(buf + 66, ".org") ;
  invalid(buf, "bad domain") ;
  {
    /* x@ + 4 labels of 61 + dots = 254 exactly */
    size_t i = 2 ;
    strcpy(buf, "x@") ;
    for (int k = 0 ; k < 4 ; k++)
    {
      memset(buf + i, 'c', 61) ; i += 61 ;
      if (k < 3) buf[i++] = '.' ;
    }
    buf[i] = 0 ;
    ok(strlen(buf) == 249, "built a 249 byte address", 0) ;
    memcpy(buf + i, ".abcd", 6) ;
    valid(buf) ;
    memcpy(buf + i, ".abcde", 7) ;
    invalid(buf, "address too long") ;
  }

  parses("alice@example.org", 0, "alice@example.org") ;
  parses("<alice@example.org>", 0, "alice@example.org") ;
  parses("  <alice@EXAMPLE.Org>  ", 0, "alice@example.org") ;
  parses("Alice@Example.ORG", 0, "Alice@example.org") ;
  parses("<>", 0, "") ;
  parses("<>", "example.org", "") ;
  parses("alice", "example.org", "alice@example.org") ;
  parses("<postmaster>", "Example.Org", "postmaster@example.org") ;
  parses("<@relay.example,@other.example:bob@example.org>", 0, "bob@example.org") ;
  parses("\"john doe\"@example.org", 0, "\"john doe\"@example.org") ;
  parses("<\"a@b\"@example.org>", "x", "\"a@b\"@example.org") ;
  parses("x@[IPv6:2001:DB8::1]", 0, "x@[ipv6:2001:db8::1]") ;
  /* quotes that are not needed go: the same mailbox (RFC 5321 4.1.2) */
  parses("<\"alice\"@localhost>", 0, "alice@localhost") ;
  parses("\"Alice\"@Example.ORG", 0, "Alice@example.org") ;
  parses("\"a.b\"@x", 0, "a.b@x") ;
  parses("\"\\a\\l\\ice\"@x", 0, "alice@x") ;
  parses("\"alice\"", "example.org", "alice@example.org") ;
  parses("\"a..b\"@x", 0, "\"a..b\"@x") ;
  parses("\".a\"@x", 0, "\".a\"@x") ;
  parses("\"\"@x", 0, "\"\"@x") ;
  parses("\"a\\\"b\"@x", 0, "\"a\\\"b\"@x") ;
  refuses("alice", 0) ;
  refuses("alice", "") ;
  refuses("", "example.org") ;
  refuses("<alice@example.org", 0) ;
  refuses("<@relay.example bob@example.org>", 0) ;
  refuses("a b@example.org", 0) ;
  refuses("alice@bad..domain", 0) ;
  refuses("alice", "bad..domain") ;
  {
    /* the result overwrites sa and is NUL-terminated */
    stralloc sa = STRALLOC_ZERO ;
    char const *why ;
    int r = stralloc_cats(&sa, "junk") && address_parse(&sa, "b@c", 3, 0, &why) ;
    ok(r && sa.len == 3 && !strcmp(sa.s, "b@c"), "parse overwrites", 0) ;
    stralloc_free(&sa) ;
  }

  printf("1..%u\n", n) ;
  return !!failed ;
}
