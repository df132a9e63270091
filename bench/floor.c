/* floor: the least any durable MTA must do per message, for comparison
   with bench/local: write the message twice (once into a queue, once
   into a mailbox), each time a file with fsync, rename and a directory
   fsync. Usage: floor DIR N SIZE [-x]; prints messages per second.
   With -x each message costs what every MTA behind the sendmail
   interface must pay on top: one start of a program (this one, built
   static, run as "floor -1 DIR I SIZE") that does the two writes. */

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

static void durable (int dfd, char const *dir, unsigned int i, char const *buf, size_t size)
{
  char tmp[4096], name[4096] ;
  int fd ;
  snprintf(tmp, sizeof tmp, "%s/tmp.%u", dir, i) ;
  snprintf(name, sizeof name, "%s/%u", dir, i) ;
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600) ;
  if (fd < 0 || write(fd, buf, size) != (ssize_t)size || fsync(fd) < 0 || close(fd) < 0
   || rename(tmp, name) < 0 || fsync(dfd) < 0) { perror("floor") ; exit(1) ; }
}

extern char **environ ;

/* one message in a process of its own, as a sendmail would be */
static void spawn_one (char const *self, char const *dir, unsigned int i, size_t size)
{
  char si[32], ss[32] ;
  char *argv[] = { (char *)self, "-1", (char *)dir, si, ss, 0 } ;
  pid_t pid ;
  int wstat ;
  snprintf(si, sizeof si, "%u", i) ;
  snprintf(ss, sizeof ss, "%zu", size) ;
  if (posix_spawn(&pid, self, 0, 0, argv, environ) || waitpid(pid, &wstat, 0) < 0 || wstat) { perror("floor: spawn") ; exit(1) ; }
}

static int one (char const *dir, unsigned int i, size_t size)
{
  char qdir[4096], mdir[4096] ;
  char *buf = malloc(size) ;
  int qfd, mfd ;
  memset(buf, 'x', size) ;
  snprintf(qdir, sizeof qdir, "%s/queue", dir) ;
  snprintf(mdir, sizeof mdir, "%s/mailbox", dir) ;
  qfd = open(qdir, O_RDONLY | O_DIRECTORY) ; mfd = open(mdir, O_RDONLY | O_DIRECTORY) ;
  durable(qfd, qdir, i, buf, size) ;
  durable(mfd, mdir, i, buf, size) ;
  return 0 ;
}

int main (int argc, char **argv)
{
  int spawn ;
  char qdir[4096], mdir[4096] ;
  unsigned int n ;
  size_t size ;
  char *buf ;
  int qfd, mfd ;
  struct timespec a, b ;
  double secs ;
  if (argc == 5 && !strcmp(argv[1], "-1")) return one(argv[2], strtoul(argv[3], 0, 10), strtoul(argv[4], 0, 10)) ;
  spawn = argc == 5 && !strcmp(argv[4], "-x") ;
  if (argc != 4 && !spawn) { fprintf(stderr, "usage: floor DIR N SIZE [-x]\n") ; return 64 ; }
  n = strtoul(argv[2], 0, 10) ; size = strtoul(argv[3], 0, 10) ;
  buf = malloc(size) ; memset(buf, 'x', size) ;
  snprintf(qdir, sizeof qdir, "%s/queue", argv[1]) ;
  snprintf(mdir, sizeof mdir, "%s/mailbox", argv[1]) ;
  mkdir(argv[1], 0700) ; mkdir(qdir, 0700) ; mkdir(mdir, 0700) ;
  qfd = open(qdir, O_RDONLY | O_DIRECTORY) ; mfd = open(mdir, O_RDONLY | O_DIRECTORY) ;
  clock_gettime(CLOCK_MONOTONIC, &a) ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    if (spawn) { spawn_one(argv[0], argv[1], i, size) ; continue ; }
    durable(qfd, qdir, i, buf, size) ;
    durable(mfd, mdir, i, buf, size) ;
  }
  clock_gettime(CLOCK_MONOTONIC, &b) ;
  secs = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9 ;
  printf("%.1f\n", n / secs) ;
  return 0 ;
}
