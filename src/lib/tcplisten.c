/* A TCP listener for mm-smtpd -l: binds as root, runs as the smtpd user,
   forks a child per connection that returns to the caller (no exec),
   with tcpserver's environment and tcprules' rules. */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <skalibs/cdb.h>
#include <skalibs/djbunix.h>
#include <skalibs/fmtscan.h>
#include <skalibs/iopause.h>
#include <skalibs/ip46.h>
#include <skalibs/selfpipe.h>
#include <skalibs/socket.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "tcplisten.h"

/* The variables of a rule: "+NAME=value" sets, "+NAME" unsets; "D" denies. */
static int rule_apply (char const *s, uint32_t len)
{
  uint32_t i = 0 ;
  while (i < len)
  {
    char const *item = s + i ;
    uint32_t n = 0 ;
    while (i + n < len && item[n]) n++ ;
    if (n && item[0] == 'D') return 0 ;
    if (n > 1 && item[0] == '+')
    {
      char name[256] ;
      char const *eq = memchr(item + 1, '=', n - 1) ;
      size_t nl = eq ? (size_t)(eq - item - 1) : n - 1 ;
      if (nl && nl < sizeof name)
      {
        memcpy(name, item + 1, nl) ;
        name[nl] = 0 ;
        if (eq) { char v[4096] ; size_t vl = n - 2 - nl ; if (vl < sizeof v) { memcpy(v, eq + 1, vl) ; v[vl] = 0 ; setenv(name, v, 1) ; } }
        else unsetenv(name) ;
      }
    }
    i += n + 1 ;
  }
  return 1 ;
}

/* tcpserver's order without host names or ident: the address, then its
   prefixes up to each '.' (':' for IPv6), longest first, then "". */
int tcplisten_rules (char const *file, char const *ip)
{
  cdb c = CDB_ZERO ;
  size_t len = strlen(ip) ;
  char sep = strchr(ip, ':') ? ':' : '.' ;
  int r = -1 ;
  if (!cdb_init(&c, file)) return -1 ;
  for (;;)
  {
    cdb_data d ;
    int f = cdb_find(&c, &d, ip, len) ;
    if (f < 0) break ;
    if (f) { r = rule_apply(d.s, d.len) ; break ; }
    if (!len) { r = 1 ; break ; }   /* no rule at all: tcpserver allows */
    /* the next shorter prefix ending in the separator */
    do len-- ; while (len && ip[len - 1] != sep) ;
  }
  cdb_free(&c) ;
  return r ;
}

static void setenv_ip_port (char const *ipname, char const *portname, ip46 const *ip, uint16_t port)
{
  char fmt[IP46_FMT] ;
  char pfmt[UINT16_FMT] ;
  fmt[ip46_fmt(fmt, ip)] = 0 ;
  pfmt[uint16_fmt(pfmt, port)] = 0 ;
  if (setenv(ipname, fmt, 1) < 0 || setenv(portname, pfmt, 1) < 0) strerr_diefu1sys(111, "set the environment") ;
}

static int listen_on (tcplisten const *t)
{
  ip46 ip ;
  int fd ;
  /* "0", as tcpserver takes it (the service's ./ip): every IPv4 address */
  char const *a = strcmp(t->ip, "0") ? t->ip : "0.0.0.0" ;
  if (!ip46_scan(a, &ip)) strerr_dief2x(100, "not an IP address: ", t->ip) ;
  fd = socket_tcp46_internal(ip46_is6(&ip), O_NONBLOCK | O_CLOEXEC) ;
  if (fd < 0) strerr_diefu1sys(111, "create a socket") ;
  if (socket_bind46_reuse(fd, &ip, t->port) < 0) strerr_diefu2sys(111, "bind to ", t->ip) ;
  if (socket_listen(fd, t->max > 20 ? t->max : 20) < 0) strerr_diefu1sys(111, "listen") ;
  return fd ;
}

static void drop (tcplisten const *t)
{
  if (!t->setids) return ;
  if (setgroups(1, &t->gid) < 0 || setgid(t->gid) < 0) strerr_diefu1sys(111, "set the group") ;
  if (setuid(t->uid) < 0) strerr_diefu1sys(111, "set the user") ;
}

/* In the child: the connection on 0 and 1, its environment, its rule. */
static void child (tcplisten const *t, int conn)
{
  ip46 lip, rip ;
  uint16_t lport, rport ;
  char rfmt[IP46_FMT] ;
  selfpipe_finish() ;
  if (socket_local46(conn, &lip, &lport) < 0 || socket_remote46(conn, &rip, &rport) < 0) _exit(111) ;
  if (setenv("PROTO", "TCP", 1) < 0) _exit(111) ;
  setenv_ip_port("TCPLOCALIP", "TCPLOCALPORT", &lip, lport) ;
  setenv_ip_port("TCPREMOTEIP", "TCPREMOTEPORT", &rip, rport) ;
  rfmt[ip46_fmt(rfmt, &rip)] = 0 ;
  if (t->rules)
  {
    int r = tcplisten_rules(t->rules, rfmt) ;
    if (r < 0) { strerr_warnwu2sys("read ", t->rules) ; _exit(111) ; }
    if (!r) { strerr_warnw2x("denied: ", rfmt) ; _exit(100) ; }
  }
  if (fd_move(0, conn) < 0 || fd_copy(1, 0) < 0) _exit(111) ;
}

void tcplisten_run (tcplisten const *t)
{
  unsigned int n = 0 ;
  int lfd = listen_on(t), sigfd ;
  drop(t) ;
  sigfd = selfpipe_init() ;
  if (sigfd < 0 || !selfpipe_trap(SIGCHLD) || !selfpipe_trap(SIGTERM)) strerr_diefu1sys(111, "trap signals") ;
  for (;;)
  {
    iopause_fd x[2] = { { .fd = sigfd, .events = IOPAUSE_READ }, { .fd = lfd, .events = IOPAUSE_READ } } ;
    /* at the limit, connections wait in the backlog */
    if (iopause_g(x, n < t->max ? 2 : 1, 0) < 0)
    {
      if (errno == EINTR) continue ;
      strerr_diefu1sys(111, "iopause") ;
    }
    if (x[0].revents & IOPAUSE_READ)
      for (;;)
      {
        int sig = selfpipe_read() ;
        if (sig <= 0) break ;
        if (sig == SIGTERM) _exit(0) ;   /* the sessions go on */
        if (sig == SIGCHLD) { int w ; while (wait_nohang(&w) > 0) if (n) n-- ; }
      }
    if (n < t->max && x[1].revents & IOPAUSE_READ)
      while (n < t->max)
      {
        pid_t pid ;
        int conn = accept4(lfd, 0, 0, SOCK_CLOEXEC) ;
        if (conn < 0)
        {
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
            strerr_warnwu1sys("accept a connection") ;
          break ;
        }
        pid = fork() ;
        if (pid < 0) { strerr_warnwu1sys("fork") ; fd_close(conn) ; break ; }
        if (!pid) { fd_close(lfd) ; child(t, conn) ; return ; }
        fd_close(conn) ;
        n++ ;
      }
  }
}
