/* Small state files replaced whole in directories that another role
   may write: queue/online (root and the online group) and queue/flush
   (mm-send's progress files, INTERNALS 8.2). */
#ifndef MM_STATEFILE_H
#define MM_STATEFILE_H

#include <stddef.h>
#include <sys/types.h>

#define FLUSH_DIR "queue/flush"   /* ROUTE: mm-send's progress of a flush, for mm-online --wait */

/* Writes len bytes of s as path, through the work name tmp in the same
   directory: tmp is unlinked, then created anew with O_EXCL|O_NOFOLLOW
   (never a planted symlink, hard link or fifo: nothing but a new file
   of ours is written), filled, and renamed over path (rename replaces
   a planted path itself, it never follows it). With dosync the file and
   then its directory dir are fsynced. 1 done, 0 failed (errno; tmp is
   removed). */
extern int statefile_write (char const *dir, char const *path, char const *tmp, char const *s, size_t len, mode_t mode, int dosync) ;

/* Opens path for reading only if it is a regular file and not a
   symlink, without blocking on a planted fifo. The descriptor, or -1
   (errno; EINVAL for a file of another kind). */
extern int statefile_open (char const *path) ;

#endif
