/* Fuzz harness: DNS answers (src/lib/dns.c), as a name server or anyone
   who can spoof one sends them to mm-remote. The parser is static in
   dns.c, so this file includes it. Input: one byte choosing the question
   type (MX, A, AAAA, CNAME), then the answer message. */

#include "../src/lib/dns.c"
#include "fuzz.h"

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static unsigned int const types[4] = { TYPE_MX, TYPE_A, TYPE_AAAA, TYPE_CNAME } ;
  static char const *const qnames[4] = { "example.org", "Mx.Example.ORG.", "a.b.c.d.e", "x" } ;
  genalloc where = GENALLOC_ZERO ;
  stralloc host = STRALLOC_ZERO ;
  unsigned int type ;
  char const *qname ;
  unsigned char *m ;
  size_t len ;
  int e ;
  /* ask_udp and ask_tcp never hand over less than a header */
  if (size < 1 + DNS_HEADER) return 0 ;
  type = types[data[0] & 3] ;
  qname = qnames[(data[0] >> 2) & 3] ;
  len = size - 1 ;
  m = malloc(len) ;   /* exactly the answer: ASan sees a read past its end */
  if (!m) abort() ;
  memcpy(m, data + 1, len) ;
  e = parse(m, len, qname, type, &where) ;
  if (e != DNS_OK && e != DNS_NODATA && e != DNS_NXDOMAIN && e != DNS_TEMP) abort() ;
  if (e == DNS_OK)
  {
    size_t n = genalloc_len(size_t, &where) / 2 ;
    if (!n) abort() ;
    for (size_t i = 0 ; i < n ; i++)
    {
      size_t rd = genalloc_s(size_t, &where)[2*i], rdlen = genalloc_s(size_t, &where)[2*i+1] ;
      if (rd > len || rdlen > len - rd) abort() ;
      /* what dns_mx_lookup does with an MX record */
      if (type == TYPE_MX && rdlen >= 3)
      {
        size_t p = rd + 2 ;
        if (getname(m, len, &p, &host) && (host.len > DNS_NAME_MAX + 1 || host.s[host.len-1])) abort() ;
      }
    }
  }
  {
    /* every name in the message, read the way parse reads them */
    size_t pos = DNS_HEADER ;
    while (pos < len && getname(m, len, &pos, &host))
      if (host.s[host.len-1] || host.len > DNS_NAME_MAX + 1) abort() ;
  }
  free(m) ;
  genalloc_free(size_t, &where) ;
  stralloc_free(&host) ;
  return 0 ;
}
