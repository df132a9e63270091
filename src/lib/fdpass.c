/* Descriptors over a Unix socket: SCM_RIGHTS both ways, with a
   deadline on the receiving side. Runs with the rights of either side. */

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include "fdpass.h"

int fdpass_wait (int fd, tain const *deadline)
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

int fdpass_send (int sock, int const *fds, unsigned int n, char const *msg, size_t len)
{
  union { struct cmsghdr h ; char buf[CMSG_SPACE(FDPASS_MAX * sizeof(int))] ; } c ;
  struct iovec v = { .iov_base = (void *)msg, .iov_len = len } ;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = CMSG_SPACE(n * sizeof(int)) } ;
  struct cmsghdr *h ;
  if (!n || n > FDPASS_MAX || !len) return (errno = EINVAL, 0) ;
  memset(c.buf, 0, sizeof c.buf) ;
  h = CMSG_FIRSTHDR(&m) ;
  h->cmsg_level = SOL_SOCKET ;
  h->cmsg_type = SCM_RIGHTS ;
  h->cmsg_len = CMSG_LEN(n * sizeof(int)) ;
  memcpy(CMSG_DATA(h), fds, n * sizeof(int)) ;
  return sendmsg(sock, &m, MSG_NOSIGNAL) == (ssize_t)len ;
}

/* every descriptor that came, kept in fds while there is room */
static unsigned int take (struct msghdr *m, int *fds, unsigned int n, int *extra)
{
  unsigned int got = 0 ;
  for (struct cmsghdr *h = CMSG_FIRSTHDR(m) ; h ; h = CMSG_NXTHDR(m, h))
  {
    size_t k ;
    int tmp[FDPASS_MAX + 1] ;
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue ;
    k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int) ;
    if (k > FDPASS_MAX + 1) k = FDPASS_MAX + 1 ;
    memcpy(tmp, CMSG_DATA(h), k * sizeof(int)) ;
    for (size_t i = 0 ; i < k ; i++)
      if (got < n) fds[got++] = tmp[i] ; else { fd_close(tmp[i]) ; *extra = 1 ; }
  }
  return got ;
}

size_t fdpass_recv (int sock, int *fds, unsigned int n, char *buf, size_t max, tain const *deadline)
{
  /* room for one more than asked: a sender of too many is seen, not cut */
  union { struct cmsghdr h ; char buf[CMSG_SPACE((FDPASS_MAX + 1) * sizeof(int))] ; } c ;
  struct iovec v = { .iov_base = buf, .iov_len = max } ;
  struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf } ;
  ssize_t r ;
  unsigned int got ;
  int extra = 0 ;
  if (!n || n > FDPASS_MAX) return (errno = EINVAL, 0) ;
  for (;;)
  {
    if (!fdpass_wait(sock, deadline)) return 0 ;
    r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) ;
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue ;
    break ;
  }
  if (r <= 0) return 0 ;
  got = take(&m, fds, n, &extra) ;
  if (got != n || extra || m.msg_flags & (MSG_CTRUNC | MSG_TRUNC))
  {
    while (got) fd_close(fds[--got]) ;
    return (errno = EPROTO, 0) ;
  }
  return r ;
}

int fdpass_taken (int sock, tain const *deadline)
{
  char k ;
  ssize_t r ;
  for (;;)
  {
    if (!fdpass_wait(sock, deadline)) return -1 ;
    r = read(sock, &k, 1) ;
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue ;
    return r == 1 && k == 'k' ;
  }
}

int fdpass_peer_uid (int sock, uid_t *uid)
{
  struct ucred uc ;
  socklen_t len = sizeof uc ;
  if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0) return 0 ;
  *uid = uc.uid ;
  return 1 ;
}
