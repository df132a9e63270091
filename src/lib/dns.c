/* A small DNS stub resolver for mm-remote (RFC 1035): one question at a
   time to the configured servers, UDP first, TCP when the answer was
   truncated; no privilege. The server list may come from a file named in
   the environment, so that tests can use a nameserver on a loopback port;
   a setuid or setgid program never reads that variable. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/iopause.h>
#include <skalibs/ip46.h>
#include <skalibs/random.h>
#include <skalibs/socket.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "control.h"
#include "dns.h"
#include "home.h"

#define DNS_UDP_MAX 512        /* RFC 1035 2.3.4: UDP messages, no EDNS */
#define DNS_TCP_MAX 65535      /* RFC 1035 4.2.2: two-byte length */
#define DNS_NAME_MAX 253       /* RFC 1035 2.3.4, in text form */
#define DNS_LABEL_MAX 63
#define DNS_CNAME_MAX 8        /* chains longer than this are broken */
#define DNS_HEADER 12

#define TYPE_A 1
#define TYPE_CNAME 5
#define TYPE_MX 15
#define TYPE_AAAA 28
#define CLASS_IN 1
#define RCODE_NXDOMAIN 3

static ip46 servers[DNS_SERVERS_MAX] ;
static uint16_t ports[DNS_SERVERS_MAX] ;
static unsigned int nservers = 0 ;
static int loaded = 0 ;
static int unreadable = 0 ;  /* errno of a resolver file that exists but could not be read */

static void addserver (char const *s, size_t len)
{
  char tmp[80] ;
  uint16_t port = DNS_PORT ;
  char const *hash ;
  size_t n ;
  if (nservers >= DNS_SERVERS_MAX || len >= sizeof tmp) return ;
  memcpy(tmp, s, len) ; tmp[len] = 0 ;
  hash = strchr(tmp, '#') ;
  if (hash)
  {
    unsigned int p ;
    n = uint_scan(hash + 1, &p) ;
    if (!n || hash[1 + n] || !p || p > 65535) return ;
    port = p ;
    tmp[hash - tmp] = 0 ;
  }
  n = ip46_scan(tmp, servers + nservers) ;
  if (!n || tmp[n]) return ;
  ports[nservers++] = port ;
}

static void loadconf (char const *path)
{
  stralloc sa = STRALLOC_ZERO ;
  size_t i = 0 ;
  if (!openslurpclose(&sa, path))
  {
    /* a file that cannot be read is not an empty one: no servers, every
       query fails temporarily (asking 127.0.0.1 instead could route
       mail by the wrong resolver's answers) */
    if (errno != ENOENT) unreadable = errno ;
    return ;
  }
  while (i < sa.len)
  {
    size_t end, a, b ;
    for (end = i ; end < sa.len && sa.s[end] != '\n' ; end++) ;
    if (end - i > 10 && !strncmp(sa.s + i, "nameserver", 10) && (sa.s[i+10] == ' ' || sa.s[i+10] == '\t'))
    {
      for (a = i + 10 ; a < end && (sa.s[a] == ' ' || sa.s[a] == '\t') ; a++) ;
      for (b = a ; b < end && sa.s[b] != ' ' && sa.s[b] != '\t' && sa.s[b] != '\r' ; b++) ;
      if (b > a) addserver(sa.s + a, b - a) ;
    }
    i = end + 1 ;
  }
  stralloc_free(&sa) ;
}

unsigned int dns_servers (ip46 *ips, uint16_t *p)
{
  if (!loaded)
  {
    char const *x = mm_privileged() ? 0 : getenv("MM_RESOLV_CONF") ;
    stralloc path = STRALLOC_ZERO ;
    loaded = 1 ;
    if (x && *x) loadconf(x) ;
    else if (mm_path(&path, "control/resolvconf") && access(path.s, F_OK) == 0) loadconf(path.s) ;
    else loadconf("/etc/resolv.conf") ;
    stralloc_free(&path) ;
    if (!nservers && !unreadable)
    {
      ip46_scan("127.0.0.1", servers) ;
      ports[0] = DNS_PORT ;
      nservers = 1 ;
    }
  }
  if (ips) memcpy(ips, servers, nservers * sizeof(ip46)) ;
  if (p) memcpy(p, ports, nservers * sizeof(uint16_t)) ;
  return nservers ;
}

/* The question: header, QNAME, QTYPE, QCLASS (RFC 1035 4.1). 1 ok, 0 bad name. */
static int mkquery (stralloc *q, char const *name, unsigned int type, uint16_t id)
{
  size_t len = strlen(name) ;
  char hdr[DNS_HEADER] = { id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0 } ;  /* RD, QDCOUNT 1 */
  if (len && name[len-1] == '.') len-- ;
  if (!len || len > DNS_NAME_MAX) return 0 ;
  q->len = 0 ;
  if (!stralloc_catb(q, hdr, DNS_HEADER)) return 0 ;
  for (size_t i = 0 ; i < len ;)
  {
    size_t j = i ;
    char l ;
    while (j < len && name[j] != '.') j++ ;
    if (j == i || j - i > DNS_LABEL_MAX) return 0 ;
    l = j - i ;
    if (!stralloc_catb(q, &l, 1) || !stralloc_catb(q, name + i, j - i)) return 0 ;
    i = j + 1 ;
  }
  {
    char tail[5] = { 0, type >> 8, type & 255, 0, CLASS_IN } ;
    if (!stralloc_catb(q, tail, 5)) return 0 ;
  }
  return 1 ;
}

/* Read a possibly compressed name at *pos into out (dotted, lowercase,
   NUL-terminated). 1 ok, 0 malformed. *pos moves past the name. */
static int getname (unsigned char const *m, size_t len, size_t *pos, stralloc *out)
{
  size_t p = *pos ;
  unsigned int jumps = 0 ;
  int jumped = 0 ;
  out->len = 0 ;
  for (;;)
  {
    unsigned int l ;
    if (p >= len) return 0 ;
    l = m[p] ;
    if ((l & 0xc0) == 0xc0)
    {
      if (p + 1 >= len || ++jumps > 64) return 0 ;
      if (!jumped) *pos = p + 2 ;
      jumped = 1 ;
      p = ((l & 0x3f) << 8) | m[p+1] ;
      continue ;
    }
    if (l & 0xc0) return 0 ;
    p++ ;
    if (!l) break ;
    /* the dot before the label counts, but not before the first one */
    if (p + l > len || out->len + !!out->len + l > DNS_NAME_MAX) return 0 ;
    if (out->len && !stralloc_catb(out, ".", 1)) return 0 ;
    for (unsigned int i = 0 ; i < l ; i++)
    {
      char c = m[p+i] ;
      if (c >= 'A' && c <= 'Z') c += 'a' - 'A' ;
      if (!stralloc_catb(out, &c, 1)) return 0 ;
    }
    p += l ;
  }
  if (!jumped) *pos = p ;
  return stralloc_0(out) ;
}

static int waitfd (int fd, short events, tain const *deadline)
{
  iopause_fd x = { .fd = fd, .events = events, .revents = 0 } ;
  for (;;)
  {
    int r = iopause_g(&x, 1, deadline) ;
    if (r < 0) { if (errno == EINTR) continue ; return 0 ; }
    if (!r) return (errno = ETIMEDOUT, 0) ;
    return 1 ;
  }
}

/* One exchange over UDP. >0 answer length, 0 nothing usable, -1 truncated */
static ssize_t ask_udp (ip46 const *ip, uint16_t port, stralloc const *q, unsigned char *ans, tain const *deadline)
{
  int fd = socket_udp46_nbcoe(ip46_is6(ip)) ;
  ssize_t r = 0 ;
  if (fd < 0) return 0 ;
  if (socket_connect46(fd, ip, port) < 0) goto end ;
  if (fd_send(fd, q->s, q->len, 0) != (ssize_t)q->len) goto end ;
  for (;;)
  {
    ssize_t n ;
    if (!waitfd(fd, IOPAUSE_READ, deadline)) goto end ;
    n = fd_recv(fd, (char *)ans, DNS_UDP_MAX, 0) ;
    if (n < 0) { if (errno == EAGAIN || errno == EINTR) continue ; goto end ; }
    /* a stray datagram with another id is ignored (RFC 5452 9.1) */
    if (n < DNS_HEADER || ans[0] != (unsigned char)q->s[0] || ans[1] != (unsigned char)q->s[1] || !(ans[2] & 0x80)) continue ;
    r = (ans[2] & 0x02) ? -1 : n ;
    break ;
  }
 end:
  fd_close(fd) ;
  return r ;
}

static int readfull (int fd, unsigned char *s, size_t n, tain const *deadline)
{
  while (n)
  {
    ssize_t r = fd_read(fd, (char *)s, n) ;
    if (r > 0) { s += r ; n -= r ; continue ; }
    if (!r) return 0 ;
    if (errno != EAGAIN && errno != EINTR) return 0 ;
    if (!waitfd(fd, IOPAUSE_READ, deadline)) return 0 ;
  }
  return 1 ;
}

/* One exchange over TCP (RFC 1035 4.2.2). >0 answer length, 0 failure */
static ssize_t ask_tcp (ip46 const *ip, uint16_t port, stralloc const *q, unsigned char *ans, tain const *deadline)
{
  int fd = socket_tcp46_nbcoe(ip46_is6(ip)) ;
  unsigned char lenbuf[2] ;
  char out[2] = { q->len >> 8, q->len & 255 } ;
  ssize_t r = 0 ;
  size_t n ;
  if (fd < 0) return 0 ;
  if (!socket_deadlineconnstamp46_g(fd, ip, port, deadline)) goto end ;
  {
    char msg[2 + DNS_UDP_MAX] ;
    size_t total = 2 + q->len, done = 0 ;
    if (q->len > DNS_UDP_MAX) goto end ;
    memcpy(msg, out, 2) ;
    memcpy(msg + 2, q->s, q->len) ;
    while (done < total)
    {
      ssize_t w = fd_write(fd, msg + done, total - done) ;
      if (w > 0) { done += w ; continue ; }
      if (w < 0 && errno != EAGAIN && errno != EINTR) goto end ;
      if (!waitfd(fd, IOPAUSE_WRITE, deadline)) goto end ;
    }
  }
  if (!readfull(fd, lenbuf, 2, deadline)) goto end ;
  n = (size_t)lenbuf[0] << 8 | lenbuf[1] ;
  if (n < DNS_HEADER || !readfull(fd, ans, n, deadline)) goto end ;
  if (ans[0] != (unsigned char)q->s[0] || ans[1] != (unsigned char)q->s[1] || !(ans[2] & 0x80)) goto end ;
  r = n ;
 end:
  fd_close(fd) ;
  return r ;
}

/* Records of one type in an answer. The owner names follow the CNAME
   chain from the question's name. Each record's RDATA offset and length
   is appended to where (pairs of size_t). Returns DNS_OK, DNS_NODATA,
   DNS_NXDOMAIN, or DNS_TEMP for a malformed or failed answer. */
static int parse (unsigned char const *m, size_t len, char const *qname, unsigned int qtype, genalloc *where)
{
  stralloc cur = STRALLOC_ZERO, owner = STRALLOC_ZERO, target = STRALLOC_ZERO ;
  unsigned int rcode = m[3] & 15, qd = m[4] << 8 | m[5], an = m[6] << 8 | m[7] ;
  size_t pos = DNS_HEADER, ansstart ;
  int e = DNS_TEMP ;
  if (rcode == RCODE_NXDOMAIN) { e = DNS_NXDOMAIN ; goto end ; }
  if (rcode) goto end ;
  for (unsigned int i = 0 ; i < qd ; i++)
  {
    if (!getname(m, len, &pos, &owner) || pos + 4 > len) goto end ;
    pos += 4 ;
  }
  if (!stralloc_cats(&cur, qname)) goto end ;
  if (cur.len && cur.s[cur.len-1] == '.') cur.len-- ;
  for (size_t i = 0 ; i < cur.len ; i++) if (cur.s[i] >= 'A' && cur.s[i] <= 'Z') cur.s[i] += 'a' - 'A' ;
  if (!stralloc_0(&cur)) goto end ;
  ansstart = pos ;
  /* follow CNAMEs first: they may come in any order */
  for (unsigned int hop = 0 ; hop < DNS_CNAME_MAX ; hop++)
  {
    int moved = 0 ;
    pos = ansstart ;
    for (unsigned int i = 0 ; i < an ; i++)
    {
      unsigned int type, rdlen ;
      size_t rd ;
      if (!getname(m, len, &pos, &owner) || pos + 10 > len) goto end ;
      type = m[pos] << 8 | m[pos+1] ;
      rdlen = m[pos+8] << 8 | m[pos+9] ;
      rd = pos + 10 ;
      if (rd + rdlen > len) goto end ;
      pos = rd + rdlen ;
      if (type == TYPE_CNAME && qtype != TYPE_CNAME && !strcmp(owner.s, cur.s))
      {
        size_t p = rd ;
        if (!getname(m, len, &p, &target)) goto end ;
        if (!stralloc_copyb(&cur, target.s, target.len)) goto end ;
        moved = 1 ;
        break ;
      }
    }
    if (!moved) break ;
  }
  pos = ansstart ;
  e = DNS_NODATA ;
  for (unsigned int i = 0 ; i < an ; i++)
  {
    unsigned int type, class, rdlen ;
    size_t rd ;
    if (!getname(m, len, &pos, &owner) || pos + 10 > len) { e = DNS_TEMP ; goto end ; }
    type = m[pos] << 8 | m[pos+1] ;
    class = m[pos+2] << 8 | m[pos+3] ;
    rdlen = m[pos+8] << 8 | m[pos+9] ;
    rd = pos + 10 ;
    if (rd + rdlen > len) { e = DNS_TEMP ; goto end ; }
    pos = rd + rdlen ;
    if (type != qtype || class != CLASS_IN || strcmp(owner.s, cur.s)) continue ;
    {
      size_t pair[2] = { rd, rdlen } ;
      if (!genalloc_catb(size_t, where, pair, 2)) { e = DNS_TEMP ; goto end ; }
    }
    e = DNS_OK ;
  }
 end:
  stralloc_free(&cur) ;
  stralloc_free(&owner) ;
  stralloc_free(&target) ;
  if (e == DNS_TEMP && !errno) errno = EPROTO ;
  return e ;
}

/* Ask the servers in turn. On DNS_OK, ans holds the answer and where
   the records. */
static int query (char const *name, unsigned int type, unsigned char *ans, size_t *anslen, genalloc *where)
{
  stralloc q = STRALLOC_ZERO ;
  ip46 ips[DNS_SERVERS_MAX] ;
  uint16_t p[DNS_SERVERS_MAX] ;
  unsigned int n = dns_servers(ips, p) ;
  int e = DNS_TEMP ;
  int lasterr = n ? ETIMEDOUT : unreadable ;
  uint16_t id ;
  random_buf((char *)&id, sizeof id) ;
  if (!mkquery(&q, name, type, id)) { stralloc_free(&q) ; errno = EINVAL ; return DNS_NXDOMAIN ; }
  for (unsigned int round = 0 ; round < DNS_ATTEMPTS ; round++)
    for (unsigned int i = 0 ; i < n ; i++)
    {
      tain deadline ;
      ssize_t r ;
      tain_now_g() ;
      tain_addsec_g(&deadline, DNS_TIMEOUT) ;
      r = ask_udp(ips + i, p[i], &q, ans, &deadline) ;
      if (r < 0) r = ask_tcp(ips + i, p[i], &q, ans, &deadline) ;
      if (r <= 0) { lasterr = errno ? errno : ETIMEDOUT ; continue ; }
      genalloc_setlen(size_t, where, 0) ;
      errno = 0 ;
      e = parse(ans, r, name, type, where) ;
      if (e != DNS_TEMP) { *anslen = r ; goto end ; }
      lasterr = errno ;  /* SERVFAIL or junk: the next server may do better */
    }
  errno = lasterr ;
 end:
  stralloc_free(&q) ;
  return e ;
}

static int cmpmx (void const *a, void const *b)
{
  dns_mx const *x = a, *y = b ;
  return x->pref < y->pref ? -1 : x->pref > y->pref ;
}

int dns_mx_lookup (genalloc *mxs, stralloc *names, char const *domain)
{
  unsigned char *ans = malloc(DNS_TCP_MAX) ;
  genalloc where = GENALLOC_ZERO ;
  stralloc host = STRALLOC_ZERO ;
  size_t anslen = 0, base = genalloc_len(dns_mx, mxs), n ;
  int e ;
  if (!ans) return DNS_TEMP ;
  e = query(domain, TYPE_MX, ans, &anslen, &where) ;
  if (e != DNS_OK) goto end ;
  n = genalloc_len(size_t, &where) / 2 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    size_t rd = genalloc_s(size_t, &where)[2*i], rdlen = genalloc_s(size_t, &where)[2*i+1], p = rd + 2 ;
    dns_mx mx ;
    if (rdlen < 3 || !getname(ans, anslen, &p, &host)) { e = DNS_TEMP ; errno = EPROTO ; goto end ; }
    mx.pref = ans[rd] << 8 | ans[rd+1] ;
    /* RFC 7505 3: a single MX with an empty exchange */
    if (!host.s[0])
    {
      if (n == 1) { e = DNS_NULLMX ; goto end ; }
      continue ;
    }
    mx.name = names->len ;
    if (!stralloc_catb(names, host.s, host.len)) { e = DNS_TEMP ; goto end ; }
    if (!genalloc_append(dns_mx, mxs, &mx)) { e = DNS_TEMP ; goto end ; }
  }
  n = genalloc_len(dns_mx, mxs) - base ;
  if (!n) { e = DNS_NODATA ; goto end ; }
  {
    dns_mx *s = genalloc_s(dns_mx, mxs) + base ;
    size_t i = 0 ;
    /* RFC 5321 5.1: equal preferences are tried in random order */
    for (size_t k = n ; k > 1 ; k--)
    {
      size_t j = random_uint32(k) ;
      dns_mx t = s[k-1] ; s[k-1] = s[j] ; s[j] = t ;
    }
    /* a stable insertion sort keeps that order within a preference */
    for (i = 1 ; i < n ; i++)
    {
      dns_mx t = s[i] ;
      size_t j = i ;
      while (j && cmpmx(s + j - 1, &t) > 0) { s[j] = s[j-1] ; j-- ; }
      s[j] = t ;
    }
  }
 end:
  free(ans) ;
  genalloc_free(size_t, &where) ;
  stralloc_free(&host) ;
  return e ;
}

/* /etc/hosts, as the system resolver reads it first */
static int hostsfile (genalloc *ips, char const *host)
{
  stralloc sa = STRALLOC_ZERO ;
  size_t i = 0, hl = strlen(host) ;
  int found = 0 ;
  if (hl && host[hl-1] == '.') hl-- ;
  if (!openslurpclose(&sa, "/etc/hosts")) return 0 ;
  while (i < sa.len)
  {
    size_t end, a, b ;
    ip46 ip ;
    char addr[64] ;
    for (end = i ; end < sa.len && sa.s[end] != '\n' ; end++) ;
    for (a = i ; a < end && (sa.s[a] == ' ' || sa.s[a] == '\t') ; a++) ;
    for (b = a ; b < end && sa.s[b] != ' ' && sa.s[b] != '\t' && sa.s[b] != '#' ; b++) ;
    if (b > a && b - a < sizeof addr && sa.s[a] != '#')
    {
      size_t n ;
      memcpy(addr, sa.s + a, b - a) ; addr[b - a] = 0 ;
      n = ip46_scan(addr, &ip) ;
      if (n && !addr[n])
      {
        while (b < end && sa.s[b] != '#')
        {
          size_t c ;
          while (b < end && (sa.s[b] == ' ' || sa.s[b] == '\t')) b++ ;
          for (c = b ; c < end && sa.s[c] != ' ' && sa.s[c] != '\t' && sa.s[c] != '#' && sa.s[c] != '\r' ; c++) ;
          if (c - b == hl && !strncasecmp(sa.s + b, host, hl))
          {
            if (!genalloc_append(ip46, ips, &ip)) break ;
            found = 1 ;
            break ;
          }
          if (c == b) break ;
          b = c ;
        }
      }
    }
    i = end + 1 ;
  }
  stralloc_free(&sa) ;
  return found ;
}

int dns_ip46_lookup (genalloc *ips, char const *host)
{
  unsigned char *ans ;
  genalloc where = GENALLOC_ZERO ;
  size_t anslen = 0 ;
  int e6, e4, e ;
  if (hostsfile(ips, host)) return DNS_OK ;
  ans = malloc(DNS_TCP_MAX) ;
  if (!ans) return DNS_TEMP ;
  e6 = query(host, TYPE_AAAA, ans, &anslen, &where) ;
  if (e6 == DNS_OK)
    for (size_t i = 0 ; i < genalloc_len(size_t, &where) / 2 ; i++)
    {
      size_t rd = genalloc_s(size_t, &where)[2*i], rdlen = genalloc_s(size_t, &where)[2*i+1] ;
      ip46 ip ;
      if (rdlen != 16) continue ;
      ip46_from_ip6(&ip, (char const *)ans + rd) ;
      if (!genalloc_append(ip46, ips, &ip)) { e6 = DNS_TEMP ; break ; }
    }
  if (e6 == DNS_NXDOMAIN) { e = e6 ; goto end ; }
  e4 = query(host, TYPE_A, ans, &anslen, &where) ;
  if (e4 == DNS_OK)
    for (size_t i = 0 ; i < genalloc_len(size_t, &where) / 2 ; i++)
    {
      size_t rd = genalloc_s(size_t, &where)[2*i], rdlen = genalloc_s(size_t, &where)[2*i+1] ;
      ip46 ip ;
      if (rdlen != 4) continue ;
      ip46_from_ip4(&ip, (char const *)ans + rd) ;
      if (!genalloc_append(ip46, ips, &ip)) { e4 = DNS_TEMP ; break ; }
    }
  if (e6 == DNS_OK || e4 == DNS_OK) e = DNS_OK ;
  else if (e6 == DNS_TEMP || e4 == DNS_TEMP) e = DNS_TEMP ;
  else e = e4 ;
 end:
  free(ans) ;
  genalloc_free(size_t, &where) ;
  return e ;
}
