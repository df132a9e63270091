/* TAP unit test of src/lib/route.c (loading routes, globs, filters) and
   of the AUTH helpers src/lib/md5.c and src/lib/base64.c. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include "base64.h"
#include "md5.h"
#include "route.h"

static unsigned int n = 0 ;
static unsigned int failed = 0 ;
static char dir[] = "/tmp/mm-unit-route.XXXXXX" ;

static void ok (int cond, char const *what)
{
  n++ ;
  if (!cond) failed++ ;
  printf("%sok %u - %s\n", cond ? "" : "not ", n, what) ;
}

static void put (char const *rel, char const *s)
{
  char path[512] ;
  FILE *f ;
  snprintf(path, sizeof path, "%s/%s", dir, rel) ;
  f = fopen(path, "w") ;
  if (!f || fputs(s, f) < 0 || fclose(f)) { perror(path) ; exit(1) ; }
}

static void mk (char const *rel)
{
  char path[512] ;
  snprintf(path, sizeof path, "%s/%s", dir, rel) ;
  mkdir(path, 0755) ;
}

static char const *hex (unsigned char const *d)
{
  static char s[2 * MD5_DIGEST + 1] ;
  for (unsigned int i = 0 ; i < MD5_DIGEST ; i++) sprintf(s + 2 * i, "%02x", d[i]) ;
  return s ;
}

static char const *md5hex (char const *s)
{
  md5 c ;
  unsigned char d[MD5_DIGEST] ;
  md5_init(&c) ;
  md5_update(&c, s, strlen(s)) ;
  md5_final(&c, d) ;
  return hex(d) ;
}

int main (void)
{
  genalloc routes = GENALLOC_ZERO ;
  char const *why = "" ;
  route *isp, *lan, *vpn ;
  if (!mkdtemp(dir)) { perror("mkdtemp") ; return 1 ; }
  setenv("MM_HOME", dir, 1) ;
  mk("control") ; mk("queue") ; mk("queue/online") ;
  put("control/me", "laptop.home\n") ;
  mk("control/routes") ;
  mk("control/routes/isp") ; mk("control/routes/lan") ; mk("control/routes/vpn") ;
  put("control/routes/order", "vpn\nmissing\n") ;
  put("control/routes/isp/smarthost", "smtp.isp.example:587\n") ;
  put("control/routes/isp/denyrcpt", "*@secret.example\n") ;
  put("control/routes/isp/allowsender", "*@laptop.home\n<>\n") ;
  put("control/routes/isp/denyfrom", "boss@*\n") ;
  put("control/routes/lan/permanent", "") ;
  put("control/routes/lan/domains", "*.lan\nlan\n") ;
  put("control/routes/lan/helo", "gw.lan\n") ;
  put("control/routes/vpn/smarthost", "[2001:db8::1]:2525\n") ;
  put("control/routes/vpn/allowrcpt", "*@corp.example\n") ;

  printf("1..35\n") ;
  ok(routes_load(&routes, &why) == 1, "routes load") ;
  ok(genalloc_len(route, &routes) == 3, "three routes") ;
  ok(!strcmp(genalloc_s(route, &routes)[0].name.s, "vpn") && !strcmp(genalloc_s(route, &routes)[1].name.s, "isp")
     && !strcmp(genalloc_s(route, &routes)[2].name.s, "lan"), "the order file first, a missing name skipped, then alphabetically") ;
  isp = routes_find(&routes, "isp") ;
  lan = routes_find(&routes, "lan") ;
  vpn = routes_find(&routes, "vpn") ;
  ok(isp && lan && vpn && !routes_find(&routes, "nope"), "routes_find") ;
  ok(!strcmp(isp->smarthost.s, "smtp.isp.example") && isp->port == 587, "smarthost host:port") ;
  ok(!strcmp(vpn->smarthost.s, "2001:db8::1") && vpn->port == 2525, "smarthost [IPv6]:port") ;
  ok(!lan->smarthost.len && lan->port == 25, "no smarthost: direct delivery, port 25") ;
  ok(!strcmp(lan->helo.s, "gw.lan") && !strcmp(isp->helo.s, "laptop.home"), "helo, default control/me") ;
  ok(lan->permanent && !isp->permanent, "permanent") ;
  ok(route_isonline(lan) && !route_isonline(isp), "a permanent route is online, another is not") ;
  put("queue/online/isp", "") ;
  ok(route_isonline(isp), "queue/online/NAME makes it online") ;

  ok(route_serves(lan, "bob@host.lan") && route_serves(lan, "bob@LAN") && !route_serves(lan, "bob@example.org"), "domains") ;
  ok(route_serves(isp, "bob@example.org") && !route_serves(isp, "bob@secret.example"), "denyrcpt") ;
  ok(route_serves(vpn, "a@corp.example") && !route_serves(vpn, "a@example.org"), "allowrcpt") ;
  ok(route_allows_sender(isp, "alice@laptop.home") && !route_allows_sender(isp, "alice@other.example"), "allowsender") ;
  ok(route_allows_sender(isp, ""), "<> matches the null sender") ;
  ok(route_allows_sender(vpn, ""), "no sender filter allows everything") ;
  ok(route_allows_from(isp, "alice@laptop.home", 18) && !route_allows_from(isp, "alice@x\0boss@x", 15), "denyfrom: every From: address counts") ;
  ok(route_allows_from(isp, "", 0), "no From: is one empty address") ;
  put("control/routes/isp/allowrcpt", "*@example.org\n") ;
  put("control/routes/isp/denyrcpt", "*@example.org\n") ;
  routes_free(&routes) ;
  ok(routes_load(&routes, &why) == 1 && !route_serves(routes_find(&routes, "isp"), "a@example.org"), "deny wins over allow") ;
  routes_free(&routes) ;
  put("control/routes/isp/smarthost", "smtp.isp.example:99999\n") ;
  {
    route *isp2, *vpn2 ;
    int r = routes_load(&routes, &why) ;
    isp2 = routes_find(&routes, "isp") ;
    vpn2 = routes_find(&routes, "vpn") ;
    ok(r == 1 && isp2 && isp2->broken && strstr(isp2->why.s, "isp") && strstr(isp2->why.s, "port"), "a bad port makes the route broken, named, and kept") ;
    ok(vpn2 && !vpn2->broken, "the other routes load as before") ;
    ok(isp2 && isp2->denyrcpt.len && !route_serves(isp2, "a@example.org"), "a broken route's filters are still read") ;
  }
  routes_free(&routes) ;

  ok(route_glob("*", "") && route_glob("*", "abc") && route_glob("a*c", "abbbc") && !route_glob("a*c", "abcd"), "globs: *") ;
  ok(route_glob("a?c", "abc") && !route_glob("a?c", "ac"), "globs: ?") ;
  ok(route_glob("*@*.EXAMPLE", "x@a.b.example") && !route_glob("*@*.example", "x@example"), "globs: case, several stars") ;
  ok(route_name_valid("isp-1.de") && !route_name_valid(".x") && !route_name_valid("a/b") && !route_name_valid(""), "route names") ;

  /* RFC 1321 A.5 */
  ok(!strcmp(md5hex(""), "d41d8cd98f00b204e9800998ecf8427e"), "MD5 of the empty string") ;
  ok(!strcmp(md5hex("abc"), "900150983cd24fb0d6963f7d28e17f72"), "MD5 of abc") ;
  ok(!strcmp(md5hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"), "57edf4a22be3c955ac49da2e2107b67a"), "MD5 of 80 digits") ;
  {
    /* RFC 2104 and RFC 2195's example */
    unsigned char d[MD5_DIGEST] ;
    char const *chal = "<1896.697170952@postoffice.reston.mci.net>" ;
    hmac_md5("Jefe", 4, "what do ya want for nothing?", 28, d) ;
    ok(!strcmp(hex(d), "750c783e6ab0b503eaa86e310a5db738"), "HMAC-MD5, RFC 2104 test vector") ;
    hmac_md5("tanstaaftanstaaf", 16, chal, strlen(chal), d) ;
    ok(!strcmp(hex(d), "b913a602c7eda7a495b4e6e7334d3890"), "CRAM-MD5, RFC 2195's example") ;
  }
  {
    stralloc a = STRALLOC_ZERO, b = STRALLOC_ZERO ;
    base64_cat(&a, "\0joe\0open sesame", 16) ;
    stralloc_0(&a) ;
    ok(!strcmp(a.s, "AGpvZQBvcGVuIHNlc2FtZQ=="), "base64 of an AUTH PLAIN string") ;
    ok(base64_decode_cat(&b, a.s, a.len - 1) && b.len == 16 && !memcmp(b.s, "\0joe\0open sesame", 16), "and back") ;
    b.len = 0 ;
    ok(!base64_decode_cat(&b, "a=b", 3), "junk base64 is refused") ;
    stralloc_free(&a) ;
    stralloc_free(&b) ;
  }
  {
    char cmd[256] ;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir) ;
    if (system(cmd)) { }
  }
  return failed ? 1 : 0 ;
}
