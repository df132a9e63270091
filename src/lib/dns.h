/* A small DNS stub resolver (RFC 1035) for mm-remote: MX, A and AAAA,
   over UDP with a TCP retry when the answer is truncated. */
#ifndef MM_DNS_H
#define MM_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include <skalibs/ip46.h>

#define DNS_PORT 53            /* RFC 1035 4.2 */
#define DNS_SERVERS_MAX 3      /* like resolv.conf(5) MAXNS */
#define DNS_TIMEOUT 5          /* seconds per try, resolv.conf(5)'s default */
#define DNS_ATTEMPTS 2         /* rounds over the servers */

/* Results */
#define DNS_OK 1
#define DNS_NODATA 0           /* the name exists, without records of that type */
#define DNS_TEMP (-1)          /* no usable answer: try later (errno set) */
#define DNS_NXDOMAIN (-2)      /* the name does not exist (RCODE 3) */
#define DNS_NULLMX (-3)        /* RFC 7505: the domain accepts no mail */

typedef struct dns_mx_s dns_mx ;
struct dns_mx_s
{
  unsigned int pref ;
  size_t name ;               /* offset of the NUL-terminated host name in the names stralloc */
} ;

/* The servers: $MM_RESOLV_CONF (not when setuid or setgid), else
   control/resolvconf, else /etc/resolv.conf; "nameserver ADDRESS" lines,
   ADDRESS an IPv4 or IPv6 address, optionally followed by #PORT.
   Default 127.0.0.1. Read once. None (0) when the file exists but
   cannot be read: every lookup is then DNS_TEMP with that errno. */
extern unsigned int dns_servers (ip46 *ips, uint16_t *ports) ;

/* MX records of domain, appended to mxs (dns_mx) in preference order,
   equal preferences in random order. DNS_OK, DNS_NODATA (no MX: use the
   domain's own address, RFC 5321 5.1), DNS_NXDOMAIN, DNS_NULLMX, DNS_TEMP. */
extern int dns_mx_lookup (genalloc *mxs, stralloc *names, char const *domain) ;

/* Addresses of host (AAAA first, then A; /etc/hosts first), appended to
   ips (ip46). DNS_OK, DNS_NODATA, DNS_NXDOMAIN, DNS_TEMP. */
extern int dns_ip46_lookup (genalloc *ips, char const *host) ;

#endif
