/* Replacing and reading small state files safely in a directory
   another role can write; no privilege of its own (root's mm-online
   uses it in queue/online). */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include "statefile.h"

static int syncdir (char const *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  int r ;
  if (fd < 0) return 0 ;
  r = fsync(fd) == 0 ;
  close(fd) ;
  return r ;
}

int statefile_write (char const *dir, char const *path, char const *tmp, char const *s, size_t len, mode_t mode, int dosync)
{
  int fd, e ;
  if (unlink(tmp) < 0 && errno != ENOENT) return 0 ;
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, mode) ;
  if (fd < 0) return 0 ;
  if (allwrite(fd, s, len) < len || (dosync && fsync(fd) < 0)) goto fail ;
  if (close(fd) < 0) { fd = -1 ; goto fail ; }
  fd = -1 ;
  if (rename(tmp, path) < 0) goto fail ;
  return !dosync || syncdir(dir) ;
 fail:
  e = errno ;
  if (fd >= 0) close(fd) ;
  unlink(tmp) ;
  errno = e ;
  return 0 ;
}

int statefile_open (char const *path)
{
  struct stat st ;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) ;
  if (fd < 0) return -1 ;
  if (fstat(fd, &st) < 0) { int e = errno ; close(fd) ; errno = e ; return -1 ; }
  if (!S_ISREG(st.st_mode)) { close(fd) ; errno = EINVAL ; return -1 ; }
  return fd ;
}
