/* TAP unit test of the answer parsing in src/lib/dns.c (static there,
   so the file is included): names at the length limit (a case found by
   fuzz/dns), compression, and records picked from an answer. */

#include "../../src/lib/dns.c"
#include <stdio.h>

static unsigned int n = 0 ;
static unsigned int failed = 0 ;

static void ok (int cond, char const *what)
{
  n++ ;
  if (!cond) failed++ ;
  printf("%sok %u - %s\n", cond ? "" : "not ", n, what) ;
}

/* A name of labels of the given lengths ("aaa.bbb"), in wire form at m. */
static size_t wirename (unsigned char *m, unsigned int const *labels, unsigned int k)
{
  size_t p = 0 ;
  for (unsigned int i = 0 ; i < k ; i++)
  {
    m[p++] = labels[i] ;
    memset(m + p, 'a' + i, labels[i]) ;
    p += labels[i] ;
  }
  m[p++] = 0 ;
  return p ;
}

int main (void)
{
  unsigned char m[600] ;
  stralloc out = STRALLOC_ZERO ;
  genalloc where = GENALLOC_ZERO ;
  size_t pos, len ;
  /* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 characters: the longest name */
  unsigned int l253[4] = { 63, 63, 63, 61 } ;
  unsigned int l254[4] = { 63, 63, 63, 62 } ;

  len = wirename(m, l253, 4) ; pos = 0 ;
  ok(getname(m, len, &pos, &out) && out.len == 254 && strlen(out.s) == 253 && pos == len, "a name of 253 characters reads") ;
  len = wirename(m, l254, 4) ; pos = 0 ;
  ok(!getname(m, len, &pos, &out), "a name of 254 characters is malformed (RFC 1035 2.3.4)") ;
  {
    unsigned int one[1] = { 63 } ;
    len = wirename(m, one, 1) ; pos = 0 ;
    ok(getname(m, len, &pos, &out) && out.len == 64, "one label of 63") ;
  }
  /* "MX.Example" then a pointer to it from offset 12 */
  memcpy(m, "\2MX\7Example\0\300\0", 14) ;
  pos = 12 ;
  ok(getname(m, 14, &pos, &out) && !strcmp(out.s, "mx.example") && pos == 14, "a compressed name, lowercased, ends after the pointer") ;
  memcpy(m, "\300\0", 2) ; pos = 0 ;
  ok(!getname(m, 2, &pos, &out), "a pointer loop is malformed") ;

  /* an answer: header, question example.org MX, one MX record */
  {
    static unsigned char const ans[] = {
      0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
      7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0, 0, TYPE_MX, 0, CLASS_IN,
      0xc0, 12, 0, TYPE_MX, 0, CLASS_IN, 0, 0, 1, 0, 0, 7, 0, 10, 2, 'm', 'x', 0xc0, 12 } ;
    int e = parse(ans, sizeof ans, "Example.ORG.", TYPE_MX, &where) ;
    ok(e == DNS_OK && genalloc_len(size_t, &where) == 2 && genalloc_s(size_t, &where)[1] == 7, "an MX record found") ;
    pos = genalloc_s(size_t, &where)[0] + 2 ;
    ok(getname(ans, sizeof ans, &pos, &out) && !strcmp(out.s, "mx.example.org"), "its exchange") ;
    genalloc_setlen(size_t, &where, 0) ;
    ok(parse(ans, sizeof ans - 1, "example.org", TYPE_MX, &where) == DNS_TEMP, "a cut answer is malformed") ;
  }
  {
    /* a resolver file that exists but cannot be read (here a directory:
       EISDIR) gives no servers, not the default 127.0.0.1 */
    ip46 ips[DNS_SERVERS_MAX] ;
    genalloc mxs = GENALLOC_ZERO ;
    stralloc names = STRALLOC_ZERO ;
    setenv("MM_RESOLV_CONF", "/", 1) ;
    ok(dns_servers(ips, 0) == 0, "an unreadable resolver file: no servers") ;
    ok(dns_mx_lookup(&mxs, &names, "example.org") == DNS_TEMP, "and a lookup fails for now") ;
  }
  printf("1..%u\n", n) ;
  return !!failed ;
}
