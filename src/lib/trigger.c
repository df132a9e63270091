/* Pulling the trigger: one byte into queue/lock/trigger, never blocking. */

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include "home.h"
#include "trigger.h"

int trigger_pull (char c)
{
  stralloc path = STRALLOC_ZERO ;
  int fd, r = 1 ;
  if (!mm_path(&path, "queue/lock/trigger")) return -1 ;
  fd = open(path.s, O_WRONLY | O_NONBLOCK | O_CLOEXEC) ;
  stralloc_free(&path) ;
  /* ENXIO: nobody listens; the next run finds it */
  if (fd < 0) return errno == ENXIO || errno == ENOENT ? 0 : -1 ;
  /* EAGAIN: the fifo is full of pokes already, the runner will look */
  if (write(fd, &c, 1) < 0 && errno != EAGAIN) r = -1 ;
  close(fd) ;
  return r ;
}
