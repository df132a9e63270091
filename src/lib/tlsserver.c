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
#include <skalibs/types.h>
#include "fdpass.h"
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
  uid_t uid ;
  return fdpass_peer_uid(conn, &uid) && uid == geteuid() ;
}

int tlsserver_handoff (int net, int plain, char const *args, size_t len, tain const *deadline)
{
  struct sockaddr_un sa ;
  socklen_t salen ;
  int fds[NFDS] = { net, plain, 2 } ;
  int fd, r ;
  if (!len || len > TLSSERVER_ARGS_MAX || !name(&sa, &salen)) return 0 ;
  /* non-blocking: a server whose queue is full is no server */
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) ;
  if (fd < 0) return 0 ;
  if (connect(fd, (struct sockaddr *)&sa, salen) < 0 || !tlsserver_peer_ok(fd) || !fdpass_send(fd, fds, NFDS, args, len))
  {
    fd_close(fd) ;
    return 0 ;
  }
  /* 'k' means the connection is the server's; an end of file before it
     means the server let it be (it is gone, or its files changed) */
  r = fdpass_taken(fd, deadline) ;
  {
    int e = errno ;
    fd_close(fd) ;
    errno = e ;
  }
  return r ;
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
  char buf[TLSSERVER_ARGS_MAX] ;
  size_t r = fdpass_recv(conn, fds, NFDS, buf, sizeof buf, deadline) ;
  args->len = 0 ;
  if (r && !buf[r - 1] && stralloc_catb(args, buf, r)) return 1 ;
  if (r) for (int i = 0 ; i < NFDS ; i++) fd_close(fds[i]) ;
  return 0 ;
}

int tlsserver_ack (int conn)
{
  return send(conn, "k", 1, MSG_NOSIGNAL) == 1 ;
}
