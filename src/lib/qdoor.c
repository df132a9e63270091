/* The queue's door, both sides. The caller runs with its own rights;
   the door runs as the queue owner (mm-queue -l, started by mm-start):
   the socket is in a directory only the queue owner may write, so no
   one else can put a socket under its name, and each child takes the
   caller's uid from the kernel (SO_PEERCRED), never from the caller. */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include "fdpass.h"
#include "home.h"
#include "qdoor.h"

#define NFDS 4

static int address (struct sockaddr_un *sa, socklen_t *len, uid_t *owner)
{
  stralloc p = STRALLOC_ZERO ;
  struct stat st ;
  int ok = mm_path(&p, QDOOR_SOCKET) && p.len <= sizeof sa->sun_path ;
  if (ok)
  {
    memset(sa, 0, sizeof *sa) ;
    sa->sun_family = AF_UNIX ;
    memcpy(sa->sun_path, p.s, p.len) ;   /* with its NUL */
    *len = sizeof *sa ;
    /* the directory's owner is the door's: the socket is theirs */
    p.len -= sizeof "/socket" ;
    p.s[p.len] = 0 ;
    ok = stat(p.s, &st) == 0 && S_ISDIR(st.st_mode) && !(st.st_mode & 022) ;
    *owner = st.st_uid ;
  }
  stralloc_free(&p) ;
  return ok ;
}

int qdoor_hand (int const *fds, int *conn)
{
  struct sockaddr_un sa ;
  socklen_t salen ;
  uid_t owner, peer ;
  tain deadline ;
  int fd ;
  if (!address(&sa, &salen, &owner)) return 0 ;
  /* non-blocking: a door whose backlog is full is no door */
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) ;
  if (fd < 0) return 0 ;
  if (connect(fd, (struct sockaddr *)&sa, salen) < 0
   || !fdpass_peer_uid(fd, &peer) || (peer != owner && peer)
   || !fdpass_send(fd, fds, NFDS, "m", 1)) goto no ;
  /* 'k': a child has them; an end of file: the door let them be */
  tain_now_g() ;
  tain_addsec_g(&deadline, QDOOR_TAKE_TIMEOUT) ;
  if (fdpass_taken(fd, &deadline) != 1) goto no ;
  *conn = fd ;
  return 1 ;
 no:
  fd_close(fd) ;
  return 0 ;
}

int qdoor_status (int conn)
{
  unsigned char c ;
  ssize_t r ;
  tain deadline = TAIN_INFINITE ;
  for (;;)
  {
    if (!fdpass_wait(conn, &deadline)) { r = -1 ; break ; }
    r = read(conn, &c, 1) ;
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue ;
    break ;
  }
  fd_close(conn) ;
  return r == 1 ? c : EX_TEMPFAIL ;
}

/* ---------------------------------------------------------- the door */

typedef struct { pid_t pid ; int conn ; uid_t uid ; } kid ;
static kid kids[QDOOR_MAX] ;
static unsigned int nkids = 0 ;

static int door_listen (void)
{
  struct sockaddr_un sa ;
  int fd ;
  if (strlen(QDOOR_SOCKET) >= sizeof sa.sun_path) return (errno = ENAMETOOLONG, -1) ;
  memset(&sa, 0, sizeof sa) ;
  sa.sun_family = AF_UNIX ;
  strcpy(sa.sun_path, QDOOR_SOCKET) ;   /* relative to the home, our cwd */
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) ;
  if (fd < 0) return -1 ;
  /* a socket left by a door that died; the directory is ours alone */
  if ((unlink(QDOOR_SOCKET) < 0 && errno != ENOENT)
   || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0
   || chmod(QDOOR_SOCKET, 0666) < 0
   || listen(fd, QDOOR_MAX) < 0)
  {
    int e = errno ;
    fd_close(fd) ;
    return (errno = e, -1) ;
  }
  return fd ;
}

/* The codes of the children that exited, to their callers. */
static void reap (void)
{
  int wstat ;
  pid_t pid ;
  while ((pid = waitpid(-1, &wstat, WNOHANG)) > 0)
    for (unsigned int i = 0 ; i < nkids ; i++)
      if (kids[i].pid == pid)
      {
        unsigned char c = WIFEXITED(wstat) ? WEXITSTATUS(wstat) : EX_TEMPFAIL ;
        if (send(kids[i].conn, &c, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) { }
        fd_close(kids[i].conn) ;
        kids[i] = kids[--nkids] ;
        break ;
      }
}

static void child (int conn, int lfd, int sigfd, int watch, qdoor_child_fn *f)
{
  int fds[NFDS] ;
  char m ;
  uid_t uid ;
  tain deadline ;
  selfpipe_finish() ;
  fd_close(lfd) ; fd_close(sigfd) ;
  if (watch >= 0) fd_close(watch) ;
  for (unsigned int i = 0 ; i < nkids ; i++) fd_close(kids[i].conn) ;
  /* above the four places the descriptors go */
  if (conn < 4)
  {
    int c = fcntl(conn, F_DUPFD_CLOEXEC, 4) ;
    if (c < 0) _exit(EX_TEMPFAIL) ;
    fd_close(conn) ;
    conn = c ;
  }
  tain_now_g() ;
  tain_addsec_g(&deadline, QDOOR_TAKE_TIMEOUT) ;
  if (!fdpass_peer_uid(conn, &uid) || fdpass_recv(conn, fds, NFDS, &m, 1, &deadline) != 1 || m != 'm') _exit(EX_TEMPFAIL) ;
  for (unsigned int i = 0 ; i < NFDS ; i++)
    if (fds[i] < 4)
    {
      int c = fcntl(fds[i], F_DUPFD_CLOEXEC, 4) ;
      if (c < 0) _exit(EX_TEMPFAIL) ;
      fds[i] = c ;
    }
  if (dup2(fds[0], 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 3) < 0 || dup2(fds[3], 2) < 0) _exit(EX_TEMPFAIL) ;
  for (unsigned int i = 0 ; i < NFDS ; i++) fd_close(fds[i]) ;
  if (send(conn, "k", 1, MSG_NOSIGNAL) != 1) _exit(EX_TEMPFAIL) ;
  fd_close(conn) ;
  (*f)(uid) ;
  _exit(EX_SOFTWARE) ;
}

/* Room for one more child of uid: a caller that keeps its children
   waiting (a message that never ends) holds at most QDOOR_PER_UID, and
   a caller with no room is sent away at once, to start mm-queue itself,
   rather than wait in the backlog. */
static int room (uid_t uid)
{
  unsigned int n = 0 ;
  if (nkids >= QDOOR_MAX) return 0 ;
  for (unsigned int i = 0 ; i < nkids ; i++) n += kids[i].uid == uid ;
  return n < QDOOR_PER_UID ;
}

static void take (int lfd, int sigfd, int watch, qdoor_child_fn *f)
{
  for (;;)
  {
    pid_t pid ;
    uid_t uid ;
    int conn = accept4(lfd, 0, 0, SOCK_CLOEXEC) ;
    if (conn < 0)
    {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
        strerr_warnwu1sys("accept a connection") ;
      return ;
    }
    if (!fdpass_peer_uid(conn, &uid) || !room(uid)) { fd_close(conn) ; continue ; }
    pid = fork() ;
    if (pid < 0) { strerr_warnwu1sys("fork") ; fd_close(conn) ; return ; }
    if (!pid) child(conn, lfd, sigfd, watch, f) ;
    kids[nkids].pid = pid ;
    kids[nkids].uid = uid ;
    kids[nkids++].conn = conn ;
  }
}

int qdoor_serve (int watch, unsigned int idle, qdoor_child_fn *f)
{
  int stopping = 0 ;
  int lfd = door_listen() ;
  int sigfd ;
  tain last ;
  if (lfd < 0) return -1 ;
  tain_now_g() ;
  last = STAMP ;
  sigfd = selfpipe_init() ;
  if (sigfd < 0 || !selfpipe_trap(SIGCHLD) || !selfpipe_trap(SIGTERM)) strerr_diefu1sys(EX_TEMPFAIL, "trap signals") ;
  while (!stopping || nkids)
  {
    iopause_fd x[3] ;
    unsigned int n = 0, iw = 3, il = 3 ;
    x[n].fd = sigfd ; x[n].events = IOPAUSE_READ ; n++ ;
    if (!stopping && watch >= 0) { iw = n ; x[n].fd = watch ; x[n].events = IOPAUSE_READ ; n++ ; }
    if (!stopping) { il = n ; x[n].fd = lfd ; x[n].events = IOPAUSE_READ ; n++ ; }
    /* the only timer: closing once idle; a closed door wakes nobody */
    {
      tain deadline ;
      int r ;
      if (idle && !nkids && !stopping) tain_addsec(&deadline, &last, idle) ;
      r = iopause_g(x, n, idle && !nkids && !stopping ? &deadline : 0) ;
      if (r < 0) { if (errno == EINTR) continue ; strerr_diefu1sys(EX_TEMPFAIL, "iopause") ; }
      if (!r) stopping = 1 ;
    }
    if (x[0].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT))
      for (;;)
      {
        int sig = selfpipe_read() ;
        if (sig <= 0) break ;
        if (sig == SIGCHLD) reap() ;
        else if (sig == SIGTERM) stopping = 1 ;
      }
    if (iw < 3 && x[iw].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT))
    {
      char c ;
      ssize_t r = read(watch, &c, 1) ;
      if (!r || (r < 0 && errno != EINTR && errno != EAGAIN)) stopping = 1 ;
    }
    if (il < 3 && x[il].revents & IOPAUSE_READ) { take(lfd, sigfd, watch, f) ; last = STAMP ; }
    if (nkids) last = STAMP ;
    if (stopping && lfd >= 0)
    {
      /* callers from now on start mm-queue themselves */
      unlink(QDOOR_SOCKET) ;
      fd_close(lfd) ;
      lfd = -1 ;
    }
  }
  selfpipe_finish() ;
  return 0 ;
}
