/* Pulling the trigger: one byte into queue/lock/trigger, never blocking. */

#include <fcntl.h>
#include <unistd.h>
#include <skalibs/stralloc.h>
#include "home.h"
#include "trigger.h"

void trigger_pull (char c)
{
  stralloc path = STRALLOC_ZERO ;
  int fd ;
  if (!mm_path(&path, "queue/lock/trigger")) return ;
  fd = open(path.s, O_WRONLY | O_NONBLOCK | O_CLOEXEC) ;
  stralloc_free(&path) ;
  if (fd < 0) return ;  /* ENXIO: nobody listens; the next run finds it */
  if (write(fd, &c, 1) < 0) { }
  close(fd) ;
}
