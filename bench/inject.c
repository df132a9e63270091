/* inject: the single stream of bench/local. Runs "sendmail ARGS < FILE"
   once per message file, one after another, each waited for, and stops
   at the first failure. A C loop (posix_spawn) rather than a shell one,
   so that the figure is mm's cost, not the shell's fork.
   Usage: inject SENDMAIL DIR N [ARGS...]  (messages are DIR/1 ... DIR/N);
   prints the elapsed seconds. */

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/wait.h>

extern char **environ ;

int main (int argc, char **argv)
{
  struct timespec a, b ;
  unsigned int n ;
  char **args ;
  if (argc < 4) { fprintf(stderr, "usage: inject SENDMAIL DIR N [ARGS...]\n") ; return 100 ; }
  n = strtoul(argv[3], 0, 10) ;
  args = argv + 3 ;
  args[0] = argv[1] ;  /* argv[0] of sendmail, then its arguments */
  clock_gettime(CLOCK_MONOTONIC, &a) ;
  for (unsigned int i = 1 ; i <= n ; i++)
  {
    char file[4096] ;
    posix_spawn_file_actions_t fa ;
    pid_t pid ;
    int wstat ;
    snprintf(file, sizeof file, "%s/%u", argv[2], i) ;
    posix_spawn_file_actions_init(&fa) ;
    posix_spawn_file_actions_addopen(&fa, 0, file, O_RDONLY, 0) ;
    if (posix_spawn(&pid, argv[1], &fa, 0, args, environ)) { perror("inject: spawn") ; return 111 ; }
    posix_spawn_file_actions_destroy(&fa) ;
    if (waitpid(pid, &wstat, 0) < 0) { perror("inject: wait") ; return 111 ; }
    if (!WIFEXITED(wstat) || WEXITSTATUS(wstat))
    {
      fprintf(stderr, "inject: message %u: sendmail failed (status %d)\n", i, wstat) ;
      return 1 ;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b) ;
  printf("%.6f\n", (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9) ;
  return 0 ;
}
