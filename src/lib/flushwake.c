/* mm-send's wake-up call to mm-online --wait: a fifo in queue/flush
   that mm-send opens and closes after each progress file, so that every
   waiting reader sees a hang-up at once. No privilege of its own; root
   (mm-online) only ever opens it for reading. An inotify watch would do
   the same, but removing a watch waits for the kernel's mark reaper
   (2 to 25 ms measured at exit on Linux 6.18), which is most of the time
   between the last 250 and the end of mm-online --wait. */

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include "flushwake.h"

int flushwake_make (void)
{
  struct stat st ;
  if (lstat(FLUSHWAKE_PATH, &st) == 0)
  {
    if (S_ISFIFO(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 07777) == 0640) return 1 ;
    if (unlink(FLUSHWAKE_PATH) < 0) return 0 ;
  }
  else if (errno != ENOENT) return 0 ;
  if (mkfifo(FLUSHWAKE_PATH, 0640) < 0 && errno != EEXIST) return 0 ;
  /* the umask may have taken the group's read bit */
  return chmod(FLUSHWAKE_PATH, 0640) == 0 ;
}

void flushwake_poke (void)
{
  int fd = open(FLUSHWAKE_PATH, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC) ;
  if (fd >= 0) close(fd) ;
}

int flushwake_open (void)
{
  struct stat st ;
  int fd = open(FLUSHWAKE_PATH, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC) ;
  if (fd < 0) return -1 ;
  if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) { close(fd) ; return -1 ; }
  return fd ;
}
