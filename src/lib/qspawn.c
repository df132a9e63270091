/* Running mm-queue: message on one pipe, envelope on another, the queue
   id back on a third. Used by every program that puts mail in the queue. */

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include "home.h"
#include "qdoor.h"
#include "qspawn.h"

int qspawn_start (qspawn *q)
{
  int pm[2], pe[2], pi[2] ;
  stralloc path = STRALLOC_ZERO ;
  signal(SIGPIPE, SIG_IGN) ;  /* a dead mm-queue is an error return, not a death */
  {
    /* a parent that ignores SIGCHLD (swaks --pipe) would make waitpid fail */
    struct sigaction sa ;
    if (sigaction(SIGCHLD, 0, &sa) == 0 && sa.sa_handler == SIG_IGN) signal(SIGCHLD, SIG_DFL) ;
  }
  if (!mm_path(&path, "bin/mm-queue")) return 0 ;
  if (pipecoe(pm) < 0) goto err0 ;
  if (pipecoe(pe) < 0) goto err1 ;
  if (pipecoe(pi) < 0) goto err2 ;
  q->pid = 0 ;
  q->door = -1 ;
  {
    /* the door first: a fork of a running mm-queue, not a new one */
    int fds[4] = { pm[0], pe[0], pi[1], 2 } ;
    if (!qdoor_hand(fds, &q->door)) q->door = -1 ;
  }
  if (q->door < 0)
  {
    /* posix_spawn, not fork: a fork copies the caller's page tables,
       which costs as much as the exec on a virtual machine */
    char const *argv[4] = { "mm-queue", "-d", "3", 0 } ;
    posix_spawn_file_actions_t fa ;
    int e = posix_spawn_file_actions_init(&fa) ;
    if (e) { errno = e ; goto err3 ; }
    e = posix_spawn_file_actions_adddup2(&fa, pm[0], 0) ;
    if (!e) e = posix_spawn_file_actions_adddup2(&fa, pe[0], 1) ;
    if (!e) e = posix_spawn_file_actions_adddup2(&fa, pi[1], 3) ;
    if (!e) e = posix_spawn(&q->pid, path.s, &fa, 0, (char *const *)argv, environ) ;
    posix_spawn_file_actions_destroy(&fa) ;
    if (e) { errno = e ; goto err3 ; }
  }
  close(pm[0]) ; close(pe[0]) ; close(pi[1]) ;
  q->messfd = pm[1] ; q->envfd = pe[1] ; q->idfd = pi[0] ;
  buffer_init(&q->mess, &buffer_write, q->messfd, q->buf, sizeof q->buf) ;
  stralloc_free(&path) ;
  return 1 ;
 err3:
  close(pi[0]) ; close(pi[1]) ;
 err2:
  close(pe[0]) ; close(pe[1]) ;
 err1:
  close(pm[0]) ; close(pm[1]) ;
 err0:
  stralloc_free(&path) ;
  return 0 ;
}

static int waitcode (qspawn *q)
{
  int wstat ;
  pid_t pid = q->pid ;
  if (q->door >= 0) { int c = qdoor_status(q->door) ; q->door = -1 ; return c ; }
  q->pid = 0 ;
  if (pid <= 0) return EX_TEMPFAIL ;
  if (waitpid_nointr(pid, &wstat, 0) < 0) return EX_TEMPFAIL ;
  if (WIFEXITED(wstat)) return WEXITSTATUS(wstat) ;
  return EX_TEMPFAIL ;
}

int qspawn_finish (qspawn *q, char const *flags, char const *sender, char const *const *rcpts, unsigned int n, char *id)
{
  return qspawn_finish_host(q, flags, 0, sender, rcpts, n, id) ;
}

/* The envelope, then mm-queue's id line: a whole one ("ID\n") means
   committed. With early, a commit returns 0 at once. */
static int finish (qspawn *q, char const *flags, char const *host, char const *sender, char const *const *rcpts, unsigned int n, char *id, int early)
{
  stralloc env = STRALLOC_ZERO ;
  int ok = buffer_flush(&q->mess) ;
  unsigned int i ;
  int code, committed ;
  char buf[32] ;
  size_t r, j = 0 ;
  close(q->messfd) ;
  if (flags && *flags && (!stralloc_catb(&env, "O", 1) || !stralloc_cats(&env, flags) || !stralloc_0(&env))) ok = 0 ;
  if (host && *host && (!stralloc_catb(&env, "H", 1) || !stralloc_cats(&env, host) || !stralloc_0(&env))) ok = 0 ;
  if (!stralloc_catb(&env, "F", 1) || !stralloc_cats(&env, sender) || !stralloc_0(&env)) ok = 0 ;
  for (i = 0 ; i < n ; i++)
    if (!stralloc_catb(&env, "T", 1) || !stralloc_cats(&env, rcpts[i]) || !stralloc_0(&env)) ok = 0 ;
  if (!stralloc_0(&env)) ok = 0 ;
  if (ok && allwrite(q->envfd, env.s, env.len) < env.len) ok = 0 ;
  stralloc_free(&env) ;
  close(q->envfd) ;
  r = allread(q->idfd, buf, sizeof buf - 1) ;
  while (j < r && buf[j] >= '0' && buf[j] <= '9' && j < 21) j++ ;
  if (id)
  {
    memcpy(id, buf, j) ;
    id[j] = 0 ;
  }
  close(q->idfd) ;
  committed = ok && j && j < r && buf[j] == '\n' ;
  if (early && committed) return 0 ;
  code = waitcode(q) ;
  /* the id is the commit, whatever happened to mm-queue after it */
  if (committed) return 0 ;
  if (!ok && !code) code = EX_TEMPFAIL ;  /* cannot happen: mm-queue saw a short envelope */
  return code ;
}

int qspawn_finish_host (qspawn *q, char const *flags, char const *host, char const *sender, char const *const *rcpts, unsigned int n, char *id)
{
  return finish(q, flags, host, sender, rcpts, n, id, 0) ;
}

int qspawn_finish_early (qspawn *q, char const *flags, char const *sender, char const *const *rcpts, unsigned int n)
{
  return finish(q, flags, 0, sender, rcpts, n, 0, 1) ;
}

void qspawn_abort (qspawn *q)
{
  /* an envelope that never comes makes mm-queue remove its work file
     and exit 75; a kill would leave the file behind */
  close(q->messfd) ; close(q->envfd) ; close(q->idfd) ;
  waitcode(q) ;
}

int qspawn_finish_host_early (qspawn *q, char const *flags, char const *host, char const *sender, char const *const *rcpts, unsigned int n, char *id)
{
  return finish(q, flags, host, sender, rcpts, n, id, 1) ;
}

void qspawn_reap (qspawn *q)
{
  if (q->door >= 0) { close(q->door) ; q->door = -1 ; }
  if (q->pid > 0) waitcode(q) ;
}

char const *qspawn_strerror (int code)
{
  switch (code)
  {
    case 0 : return "queued" ;
    case EX_DATAERR : return "message or envelope refused by mm-queue" ;
    case EX_USAGE : return "mm-queue was called wrongly" ;
    case EX_NOPERM : return "not allowed to queue mail" ;
    case EX_CONFIG : return "mm is misconfigured" ;
    default : return "queue temporarily unavailable" ;
  }
}
