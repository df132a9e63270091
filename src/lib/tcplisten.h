/* A TCP listener in the program that serves the connections, for
   mm-smtpd -l: what tcpserver -H -R -l 0 -x RULES -c MAX -u -g does, with
   a fork per connection and no program started (INTERNALS 4.2). */
#ifndef MM_TCPLISTEN_H
#define MM_TCPLISTEN_H

#include <stdint.h>
#include <sys/types.h>

typedef struct tcplisten_s tcplisten ;
struct tcplisten_s
{
  char const *ip ;       /* an IPv4 or IPv6 address to bind */
  uint16_t port ;
  unsigned int max ;     /* connections at once */
  char const *rules ;    /* a tcprules cdb, or NULL: everyone allowed */
  uid_t uid ;            /* after the bind, when setids */
  gid_t gid ;
  int setids ;
} ;
#define TCPLISTEN_MAX_DEFAULT 40

/* Binds and listens, drops to gid and uid, then accepts. Returns in a
   child for each allowed connection, with the connection on 0 and 1
   and the environment of tcpserver (PROTO, TCPLOCALIP, TCPLOCALPORT,
   TCPREMOTEIP, TCPREMOTEPORT and the rule's variables). The listener
   itself never returns: it exits 0 on SIGTERM, 111 when it cannot
   listen. */
extern void tcplisten_run (tcplisten const *t) ;

/* The rule for ip in a tcprules cdb: 1 allow (its variables set in the
   environment), 0 deny, -1 the file cannot be read (errno). */
extern int tcplisten_rules (char const *file, char const *ip) ;

#endif
