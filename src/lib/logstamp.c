/* Timestamps on a daemon's log lines when its stderr is a plain file
   (a private instance's log, a 2>>file under tcpserver): each line
   starts with the local time, "2026-12-02 03:28:48.123 +0100 ".
   multilog, s6-log and journald read a pipe and stamp lines
   themselves, so a pipe or a terminal stays as it is. In process: the
   stamped line goes out in the same single write as before, so lines
   of the processes sharing the file never mix, and nothing lags behind
   a process's exit. */

#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/stralloc.h>
#include "logstamp.h"

static int atstart = 1 ;
static stralloc line = STRALLOC_ZERO ;

static int catstamp (stralloc *sa)
{
  char buf[48] ;
  struct timespec ts ;
  struct tm tm ;
  size_t n ;
  if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || !localtime_r(&ts.tv_sec, &tm)) return stralloc_cats(sa, "? ") ;
  n = strftime(buf, 24, "%Y-%m-%d %H:%M:%S", &tm) ;
  buf[n++] = '.' ;
  buf[n++] = '0' + ts.tv_nsec / 100000000 ;
  buf[n++] = '0' + ts.tv_nsec / 10000000 % 10 ;
  buf[n++] = '0' + ts.tv_nsec / 1000000 % 10 ;
  n += strftime(buf + n, sizeof buf - n, " %z ", &tm) ;
  return stralloc_catb(sa, buf, n) ;
}

/* buffer_2's write: the same bytes, a stamp before each line */
static ssize_t stamped_writev (int fd, struct iovec const *v, unsigned int n)
{
  size_t total = 0 ;
  line.len = 0 ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    char const *s = v[i].iov_base ;
    size_t len = v[i].iov_len ;
    total += len ;
    while (len)
    {
      char const *nl = memchr(s, '\n', len) ;
      size_t k = nl ? (size_t)(nl - s) + 1 : len ;
      if ((atstart && !catstamp(&line)) || !stralloc_catb(&line, s, k)) return fd_writev(fd, v, n) ;
      atstart = !!nl ;
      s += k ; len -= k ;
    }
  }
  if (allwrite(fd, line.s, line.len) < line.len) return -1 ;
  return total ;
}

void logstamp_init (void)
{
  struct stat st ;
  if (fstat(2, &st) < 0 || !S_ISREG(st.st_mode)) return ;
  buffer_2->op = &stamped_writev ;
}
