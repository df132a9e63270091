/* The hand-over of a connection to a running mm-tls server over a Unix
   socket (SCM_RIGHTS), both sides; runs with the rights of either. The
   socket has an abstract name (Linux): nothing in the file system to
   create, own or clean up, and it goes away with the server. Anyone may
   bind a free abstract name, so each side checks that the other runs as
   its own uid before it trusts it with a connection. */

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/types.h>
#include "home.h"
#include "tlsserver.h"

#define NFDS 3

/* "\0mm-tls UID HOME": one server per home and user. 0 when the home is
   too long for a socket name, or relative (the same name for two homes):
   then there is no server, mm-tls is run. */
static int name (struct sockaddr_un *sa, socklen_t *len)
{
  static char const prefix[] = "mm-tls " ;
  char fmt[UINT_FMT] ;
  char const *home = mm_home() ;
  size_t u = uint_fmt(fmt, geteuid()), h = strlen(home) ;
  size_t n = 1 + sizeof prefix - 1 + u + 1 + h ;
  if (n > sizeof sa->sun_path || home[0] != '/') return 0 ;
  memset(sa, 0, sizeof *sa) ;
  sa->sun_family = AF_UNIX ;
  memcpy(sa->sun_path + 1, prefix, sizeof prefix - 1) ;
  memcpy(sa->sun_path + sizeof prefix, fmt, u) ;
  sa->sun_path[sizeof prefix + u] = ' ' ;
  memcpy(sa->sun_path + sizeof prefix + u + 1, home, h) ;
  *len = offsetof(struct sockaddr_un, sun_path) + n ;
  return 1 ;
}

int tlsserver_peer_ok (int conn)
{
  struct ucred uc ;
  socklen_t len = sizeof uc ;
  return !getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &uc, &len) && uc.uid == geteuid() ;
}

static int wait_readable (int fd, tain const *deadline)
{
  iopause_fd x = { .fd = fd, .events = IOPAUSE_READ, .revents = 0 } ;
  for (;;)
  {
    int r = iopause_g(&x, 1, deadline) ;
    if (r > 0) return 1 ;
    if (!r) return (errno = ETIMEDOUT, 0) ;
    if (errno != EINTR) return 0 ;
  }
}

static int sendfds (int fd, int const *fds, char const *args, size_t len)
{
  union { struct cmsghdr h ; char buf[CMSG_SPACE(NFDS * sizeof(int))] ; } c ;
  struct iovec v = { .iov_base = (void *)args, .iov_len = len } ;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf } ;
  struct cmsghdr *h = CMSG_FIRSTHDR(&m) ;
  memset(c.buf, 0, sizeof c.buf) ;
  h->cmsg_level = SOL_SOCKET ;
  h->cmsg_type = SCM_RIGHTS ;
  h->cmsg_len = CMSG_LEN(NFDS * sizeof(int)) ;
  memcpy(CMSG_DATA(h), fds, NFDS * sizeof(int)) ;
  return sendmsg(fd, &m, MSG_NOSIGNAL) == (ssize_t)len ;
}

int tlsserver_handoff (int net, int plain, char const *args, size_t len, tain const *deadline)
{
  struct sockaddr_un sa ;
  socklen_t salen ;
  int fds[NFDS] = { net, plain, 2 } ;
  char k ;
  ssize_t r ;
  int fd ;
  if (!len || len > TLSSERVER_ARGS_MAX || !name(&sa, &salen)) return 0 ;
  /* non-blocking: a server whose queue is full is no server */
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) ;
  if (fd < 0) return 0 ;
  if (connect(fd, (struct sockaddr *)&sa, salen) < 0 || !tlsserver_peer_ok(fd) || !sendfds(fd, fds, args, len))
  {
    fd_close(fd) ;
    return 0 ;
  }
  /* 'k' means the connection is the server's; an end of file before it
     means the server let it be (it is gone, or its files changed) */
  for (;;)
  {
    if (!wait_readable(fd, deadline)) { int e = errno ; fd_close(fd) ; errno = e ; return -1 ; }
    r = read(fd, &k, 1) ;
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue ;
    break ;
  }
  fd_close(fd) ;
  return r == 1 && k == 'k' ;
}

int tlsserver_listen (void)
{
  struct sockaddr_un sa ;
  socklen_t salen ;
  int fd ;
  if (!name(&sa, &salen)) return (errno = ENAMETOOLONG, -1) ;
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) ;
  if (fd < 0) return -1 ;
  if (bind(fd, (struct sockaddr *)&sa, salen) < 0 || listen(fd, 64) < 0)
  {
    int e = errno ;
    fd_close(fd) ;
    return (errno = e, -1) ;
  }
  return fd ;
}

int tlsserver_receive (int conn, int fds[3], stralloc *args, tain const *deadline)
{
  union { struct cmsghdr h ; char buf[CMSG_SPACE(NFDS * sizeof(int))] ; } c ;
  char buf[TLSSERVER_ARGS_MAX] ;
  struct iovec v = { .iov_base = buf, .iov_len = sizeof buf } ;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf } ;
  struct cmsghdr *h ;
  ssize_t r ;
  int n = 0 ;
  for (;;)
  {
    if (!wait_readable(conn, deadline)) return 0 ;
    r = recvmsg(conn, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) ;
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue ;
    break ;
  }
  if (r < 0) return 0 ;
  for (h = CMSG_FIRSTHDR(&m) ; h ; h = CMSG_NXTHDR(&m, h))
  {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue ;
    size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int) ;
    int got[NFDS + 1] ;
    if (k > NFDS) k = NFDS ;   /* more would have been cut: MSG_CTRUNC */
    memcpy(got, CMSG_DATA(h), k * sizeof(int)) ;
    for (size_t i = 0 ; i < k ; i++)
      if (n < NFDS) fds[n++] = got[i] ; else fd_close(got[i]) ;
  }
  if (n != NFDS || !r || m.msg_flags & (MSG_CTRUNC | MSG_TRUNC) || buf[r - 1])
  {
    while (n) fd_close(fds[--n]) ;
    return 0 ;
  }
  args->len = 0 ;
  return stralloc_catb(args, buf, r) ? 1 : (fd_close(fds[0]), fd_close(fds[1]), fd_close(fds[2]), 0) ;
}

int tlsserver_ack (int conn)
{
  return send(conn, "k", 1, MSG_NOSIGNAL) == 1 ;
}
