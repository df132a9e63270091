/* checkpassword (the interface of DJB's program): fd 3 gets the user and
   the password, the exit code says yes or no. Runs as the caller. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/tai.h>
#include "checkpw.h"

static int spawn (pid_t *pid, char const **argv, int fd3)
{
  posix_spawn_file_actions_t fa ;
  int e = posix_spawn_file_actions_init(&fa) ;
  if (!e) e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ;
  if (!e) e = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) ;
  if (!e) e = posix_spawn_file_actions_adddup2(&fa, fd3, 3) ;
  if (!e) e = posix_spawn(pid, argv[0], &fa, 0, (char *const *)argv, environ) ;
  posix_spawn_file_actions_destroy(&fa) ;
  if (e) { errno = e ; return 0 ; }
  return 1 ;
}

/* waitpid with a deadline: the program is killed when it is too slow */
static int reap (pid_t pid, tain const *deadline)
{
  int w ;
  for (;;)
  {
    pid_t r = waitpid(pid, &w, WNOHANG) ;
    if (r == pid) break ;
    if (r < 0 && errno != EINTR) return -1 ;
    tain_now_g() ;
    if (!tain_less(&STAMP, deadline)) { kill(pid, SIGKILL) ; waitpid(pid, &w, 0) ; return (errno = ETIMEDOUT, -1) ; }
    {
      tain d, step ;
      tain_from_millisecs(&step, 20) ;
      tain_add_g(&d, &step) ;
      iopause_g(0, 0, &d) ;
    }
  }
  if (WIFEXITED(w) && !WEXITSTATUS(w)) return 1 ;
  if (WIFEXITED(w) && WEXITSTATUS(w) == 1) return 0 ;
  return (errno = EPROTO, -1) ;
}

int checkpw (char const **argv, unsigned int argc, char const *user, size_t ulen, char const *pass, size_t plen, tain const *deadline)
{
  char data[CHECKPW_DATA_MAX] ;
  size_t n = ulen + plen + 3 ;
  pid_t pid ;
  int p[2], r ;
  if (n > sizeof data || memchr(user, 0, ulen) || memchr(pass, 0, plen)) return 0 ;
  memcpy(data, user, ulen) ; data[ulen] = 0 ;
  memcpy(data + ulen + 1, pass, plen) ; data[ulen + 1 + plen] = 0 ;
  data[n - 1] = 0 ;   /* the timestamp, empty */
  argv[argc] = "/bin/true" ;
  argv[argc + 1] = 0 ;
  if (pipecoe(p) < 0) return -1 ;
  r = spawn(&pid, argv, p[0]) ;
  close(p[0]) ;
  if (!r) { close(p[1]) ; return -1 ; }
  /* fits in the pipe: no need to wait for the reader */
  if (allwrite(p[1], data, n) != n) { close(p[1]) ; memset(data, 0, sizeof data) ; kill(pid, SIGKILL) ; reap(pid, deadline) ; return -1 ; }
  close(p[1]) ;
  memset(data, 0, sizeof data) ;
  return reap(pid, deadline) ;
}
