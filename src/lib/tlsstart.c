/* Starting mm-tls on a connection and reading its one-line report, for
   mm-remote, mm-smtpd and mm-pop3fetch; runs with the caller's rights. */

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "home.h"
#include "tlsserver.h"
#include "tlsstart.h"

int tlsstart_arg (tlsstart *t, char const *s)
{
  if (t->argc + 1 >= TLSSTART_ARGS_MAX) return 0 ;
  t->argv[t->argc++] = s ;
  t->argv[t->argc] = 0 ;
  return 1 ;
}

static int setreport (tlsstart *t, char const *s, size_t n)
{
  t->report.len = 0 ;
  return stralloc_catb(&t->report, s, n) && stralloc_0(&t->report) ? (t->report.len--, 1) : 0 ;
}

static int spawn (tlsstart *t, int net, int child)
{
  stralloc path = STRALLOC_ZERO ;
  posix_spawn_file_actions_t fa ;
  int e ;
  if (!mm_path(&path, "bin/mm-tls")) return 0 ;
  e = posix_spawn_file_actions_init(&fa) ;
  if (!e) e = posix_spawn_file_actions_adddup2(&fa, net, 0) ;
  if (!e) e = posix_spawn_file_actions_adddup2(&fa, child, 1) ;
  if (!e) e = posix_spawn(&t->pid, path.s, &fa, 0, (char *const *)t->argv, environ) ;
  posix_spawn_file_actions_destroy(&fa) ;
  stralloc_free(&path) ;
  if (e) { errno = e ; return 0 ; }
  return 1 ;
}

/* Server mode goes to a running mm-tls server when there is one: the
   start of a process linked with OpenSSL costs more than the handshake
   (INTERNALS 9). 1 it took the connection, 0 run mm-tls, -1 no answer. */
static int server (tlsstart *t, int net, int child, tain const *deadline)
{
  char args[TLSSERVER_ARGS_MAX] ;
  size_t len = 0 ;
  if (t->argc < 2 || strcmp(t->argv[1], "-s")) return 0 ;
  for (unsigned int i = 2 ; i < t->argc ; i++)
  {
    size_t n = strlen(t->argv[i]) + 1 ;
    if (len + n > sizeof args) return 0 ;
    memcpy(args + len, t->argv[i], n) ;
    len += n ;
  }
  return tlsserver_handoff(net, child, args, len, deadline) ;
}

/* Read exactly the report line: what follows it is plaintext for the
   caller's own buffer. 1 ok, 0 EOF or junk, -1 error or timeout. */
static int getreport (tlsstart *t, tain const *deadline)
{
  char buf[TLSSTART_REPORT_MAX] ;
  size_t have = 0 ;   /* bytes of the line taken already, without its end */
  for (;;)
  {
    iopause_fd x = { .fd = t->plain, .events = IOPAUSE_READ, .revents = 0 } ;
    ssize_t n ;
    char *nl ;
    int r = iopause_g(&x, 1, deadline) ;
    if (r < 0) { if (errno == EINTR) continue ; return -1 ; }
    if (!r) return (errno = ETIMEDOUT, -1) ;
    n = recv(t->plain, buf + have, sizeof buf - have, MSG_PEEK) ;
    if (n < 0) { if (errno == EINTR || errno == EAGAIN) continue ; return -1 ; }
    if (!n) return 0 ;
    nl = memchr(buf + have, '\n', n) ;
    if (!nl)
    {
      /* all of it is the line: take it and wait for the rest */
      if (have + n == sizeof buf || recv(t->plain, buf + have, n, 0) != n) return 0 ;
      have += n ;
      continue ;
    }
    n = recv(t->plain, buf + have, nl + 1 - (buf + have), 0) ;
    if (n != nl + 1 - (buf + have)) return -1 ;
    return setreport(t, buf, have + n - 1) ? 1 : -1 ;
  }
}

/* "ok PROTOCOL CIPHER ..." -> summary "PROTOCOL CIPHER" */
static int parse (tlsstart *t)
{
  char const *s = t->report.s ;
  if (strncmp(s, "ok ", 3))
  {
    if (!strncmp(s, "fail ", 5)) return setreport(t, s + 5, strlen(s + 5)) ? 0 : -1 ;
    return 0 ;
  }
  {
    char const *p = s + 3, *e = strchr(p, ' ') ;
    if (e) e = strchr(e + 1, ' ') ;
    if (!e) e = p + strlen(p) ;
    t->summary.len = 0 ;
    if (!stralloc_catb(&t->summary, p, e - p) || !stralloc_0(&t->summary)) return -1 ;
    t->summary.len-- ;
    if (!setreport(t, p, strlen(p))) return -1 ;
  }
  t->ok = 1 ;
  return 1 ;
}

int tlsstart_run (tlsstart *t, int net, tain const *deadline)
{
  int sp[2], r ;
  t->ok = 0 ;
  t->plain = -1 ;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
  {
    close(net) ;
    setreport(t, "cannot make a socket pair", 25) ;
    return -1 ;
  }
  t->pid = 0 ;
  r = server(t, net, sp[1], deadline) ;
  if (!r) r = spawn(t, net, sp[1]) ;
  close(net) ;
  close(sp[1]) ;
  t->plain = sp[0] ;
  if (r < 0) { setreport(t, "no answer from the mm-tls server in time", 40) ; tlsstart_end(t) ; return -1 ; }
  if (!r) { setreport(t, "cannot run bin/mm-tls", 21) ; tlsstart_end(t) ; return -1 ; }
  r = getreport(t, deadline) ;
  if (r <= 0)
  {
    int e = errno ;
    if (r < 0 && e == ETIMEDOUT) setreport(t, "no TLS report from mm-tls in time", 33) ;
    else setreport(t, "mm-tls ended without a report", 29) ;
    if (t->pid > 0) kill(t->pid, SIGTERM) ;
    tlsstart_end(t) ;
    errno = e ;
    return -1 ;
  }
  r = parse(t) ;
  if (r <= 0) { tlsstart_end(t) ; return r ; }
  return 1 ;
}

void tlsstart_end (tlsstart *t)
{
  if (t->plain >= 0) close(t->plain) ;
  t->plain = -1 ;
  if (t->pid > 0)
  {
    int w ;
    while (waitpid(t->pid, &w, 0) < 0 && errno == EINTR) ;
    t->pid = 0 ;
  }
}
