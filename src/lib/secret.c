/* Reading a secret from a file or from a command, as the role that
   uses it (mm-remote as the remote user, mm-pop3fetch as the pop user);
   no privilege of its own. */

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/stralloc.h>
#include <skalibs/tai.h>
#include "secret.h"

#define COMMAND_LINE_MAX 4096
#define DIAG_MAX 200

void secret_free (stralloc *sa)
{
  if (sa->s) memset(sa->s, 0, sa->a) ;
  stralloc_free(sa) ;
}

/* The first line of s, without CR LF, into out. 1, 0 (*why), -1 ENOMEM. */
static int firstline (char const *s, size_t len, stralloc *out, char const **why)
{
  char const *nl = memchr(s, '\n', len) ;
  size_t n = nl ? (size_t)(nl - s) : len ;
  if (n && s[n-1] == '\r') n-- ;
  if (!n) { *why = "is empty" ; return 0 ; }
  if (memchr(s, 0, n) || memchr(s, '\r', n)) { *why = "has a NUL or CR in its first line" ; return 0 ; }
  out->len = 0 ;
  if (!stralloc_catb(out, s, n) || !stralloc_0(out)) return -1 ;
  out->len-- ;
  return 1 ;
}

/* Up to max bytes of fd into sa; 1, 0 if there was more, -1 error. */
static int slurp_max (int fd, stralloc *sa, size_t max)
{
  for (;;)
  {
    ssize_t r ;
    if (!stralloc_readyplus(sa, 4096)) return -1 ;
    r = fd_read(fd, sa->s + sa->len, 4096) ;
    if (r < 0) return -1 ;
    if (!r) return 1 ;
    sa->len += r ;
    if (sa->len > max) return 0 ;
  }
}

int secret_file (char const *path, stralloc *out, char const **why)
{
  stralloc sa = STRALLOC_ZERO ;
  struct stat st ;
  int r = 0, fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) ;
  if (fd < 0)
  {
    *why = errno == ENOENT ? "is missing" : errno == ELOOP ? "is a symbolic link" : "cannot be read" ;
    return 0 ;
  }
  if (fstat(fd, &st) < 0) { *why = "cannot be read" ; goto end ; }
  if (!S_ISREG(st.st_mode)) { *why = "is not a regular file" ; goto end ; }
  if (st.st_uid != geteuid() || st.st_mode & 077)
  {
    *why = "must belong to the user that reads it and be readable by it alone (mode 0400 or 0600)" ;
    goto end ;
  }
  switch (slurp_max(fd, &sa, SECRET_MAX))
  {
    case -1 : if (errno == ENOMEM) r = -1 ; else *why = "cannot be read" ; goto end ;
    case 0 : *why = "is too long" ; goto end ;
  }
  r = firstline(sa.s, sa.len, out, why) ;
 end:
  fd_close(fd) ;
  secret_free(&sa) ;
  return r ;
}

/* The words of the command file: NUL-separated in words, count in *n. */
static int command_words (char const *cmdpath, stralloc *words, unsigned int *n, char const **why)
{
  stralloc sa = STRALLOC_ZERO ;
  struct stat st ;
  size_t len, i = 0 ;
  int r = 0, fd = open(cmdpath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) ;
  if (fd < 0) { *why = errno == ELOOP ? "is a symbolic link" : "cannot be read" ; return 0 ; }
  /* what it names runs with the role's rights: only root or the role may write it */
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) { *why = "is not a regular file" ; goto end ; }
  if ((st.st_uid && st.st_uid != geteuid()) || st.st_mode & 022)
  {
    *why = "must belong to root or to the user that runs it, and be writable by nobody else" ;
    goto end ;
  }
  switch (slurp_max(fd, &sa, COMMAND_LINE_MAX))
  {
    case -1 : if (errno == ENOMEM) r = -1 ; else *why = "cannot be read" ; goto end ;
    case 0 : *why = "is too long" ; goto end ;
  }
  len = sa.len ;
  {
    char const *nl = memchr(sa.s, '\n', len) ;
    if (nl) len = nl - sa.s ;
  }
  *n = 0 ;
  words->len = 0 ;
  while (i < len)
  {
    size_t j ;
    while (i < len && (sa.s[i] == ' ' || sa.s[i] == '\t' || sa.s[i] == '\r')) i++ ;
    if (i == len) break ;
    for (j = i ; j < len && sa.s[j] != ' ' && sa.s[j] != '\t' && sa.s[j] != '\r' ; j++) ;
    if (*n == SECRET_COMMAND_WORDS) { *why = "has too many words" ; goto end ; }
    if (!stralloc_catb(words, sa.s + i, j - i) || !stralloc_0(words)) { r = -1 ; goto end ; }
    if (memchr(sa.s + i, 0, j - i)) { *why = "has a NUL byte" ; goto end ; }
    (*n)++ ;
    i = j ;
  }
  if (!*n) { *why = "is empty" ; goto end ; }
  if (words->s[0] != '/') { *why = "must name the program by its absolute path" ; goto end ; }
  r = 1 ;
 end:
  fd_close(fd) ;
  stralloc_free(&sa) ;
  return r ;
}

static void child (char const *const *argv, int out, int err)
{
  static char env[4][300] ;
  char const *envp[5] = { "PATH=/usr/bin:/bin", 0, 0, 0, 0 } ;
  struct passwd *pw = getpwuid(geteuid()) ;
  int null = open("/dev/null", O_RDONLY) ;
  unsigned int k = 1 ;
  setpgid(0, 0) ;
  if (null < 0 || fd_move(0, null) < 0 || fd_move(1, out) < 0 || fd_move(2, err) < 0) _exit(126) ;
  if (pw && strlen(pw->pw_dir) < 290 && strlen(pw->pw_name) < 290)
  {
    strcpy(env[0], "HOME=") ; strcat(env[0], pw->pw_dir) ; envp[k++] = env[0] ;
    strcpy(env[1], "USER=") ; strcat(env[1], pw->pw_name) ; envp[k++] = env[1] ;
    strcpy(env[2], "LOGNAME=") ; strcat(env[2], pw->pw_name) ; envp[k++] = env[2] ;
  }
  execve(argv[0], (char *const *)argv, (char *const *)envp) ;
  _exit(errno == ENOENT ? 127 : 126) ;
}

/* Reads the child's stdout into sa and the start of its stderr into err
   until both end or the deadline. 1 done, 0 timed out or too much, -1 error. */
static int collect (int out, int errfd, tain const *deadline, stralloc *sa, stralloc *err, char const **why)
{
  int open_[2] = { 1, 1 } ;
  while (open_[0] || open_[1])
  {
    iopause_fd x[2] ;
    unsigned int n = 0, io[2] ;
    int r ;
    if (open_[0]) { x[n].fd = out ; x[n].events = IOPAUSE_READ ; io[n++] = 0 ; }
    if (open_[1]) { x[n].fd = errfd ; x[n].events = IOPAUSE_READ ; io[n++] = 1 ; }
    r = iopause_g(x, n, deadline) ;
    if (r < 0) { if (errno == EINTR) continue ; return -1 ; }
    if (!r) { *why = "timed out" ; return 0 ; }
    for (unsigned int i = 0 ; i < n ; i++)
    {
      char buf[4096] ;
      ssize_t got ;
      if (!x[i].revents) continue ;
      got = fd_read(x[i].fd, buf, sizeof buf) ;
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue ;
      if (got <= 0) { open_[io[i]] = 0 ; continue ; }
      if (!io[i])
      {
        if (sa->len + got > SECRET_MAX) { memset(buf, 0, sizeof buf) ; *why = "printed too much" ; return 0 ; }
        if (!stralloc_catb(sa, buf, got)) return -1 ;
        memset(buf, 0, sizeof buf) ;
      }
      else if (err->len < COMMAND_LINE_MAX && !stralloc_catb(err, buf, got)) return -1 ;
    }
  }
  return 1 ;
}

/* The first line of what the command said on stderr, printable, short. */
static int diag_line (stralloc const *err, stralloc *diag)
{
  size_t n = 0 ;
  diag->len = 0 ;
  while (n < err->len && err->s[n] != '\n' && n < DIAG_MAX) n++ ;
  if (!stralloc_catb(diag, err->s, n)) return -1 ;
  for (size_t i = 0 ; i < diag->len ; i++)
    if ((unsigned char)diag->s[i] < 32 || (unsigned char)diag->s[i] >= 127) diag->s[i] = ' ' ;
  if (!stralloc_0(diag)) return -1 ;
  diag->len-- ;
  return 0 ;
}

/* Waits for the child until the deadline, then kills it. Its process
   group goes too: nothing it started outlives it. */
static int reap (pid_t pid, tain const *deadline, int *wstat)
{
  pid_t w ;
  for (;;)
  {
    w = waitpid(pid, wstat, WNOHANG) ;
    if (w == pid || (w < 0 && errno != EINTR)) break ;
    tain_now_g() ;
    if (!tain_less(&STAMP, deadline)) { kill(pid, SIGKILL) ; w = waitpid_nointr(pid, wstat, 0) ; break ; }
    {
      tain d ;
      tain_from_millisecs(&d, 10) ;
      tain_add_g(&d, &d) ;
      iopause_g(0, 0, &d) ;
    }
  }
  kill(-pid, SIGKILL) ;
  return w == pid ;
}

int secret_command (char const *cmdpath, unsigned int timeout, stralloc *out, stralloc *diag, char const **why)
{
  stralloc words = STRALLOC_ZERO, sa = STRALLOC_ZERO, err = STRALLOC_ZERO ;
  char const *argv[SECRET_COMMAND_WORDS + 1] ;
  unsigned int n = 0 ;
  int po[2], pe[2], wstat, r ;
  pid_t pid ;
  tain deadline ;
  diag->len = 0 ;
  if (!stralloc_0(diag)) return -1 ;
  diag->len = 0 ;
  r = command_words(cmdpath, &words, &n, why) ;
  if (r <= 0) { stralloc_free(&words) ; return r ; }
  for (unsigned int i = 0, off = 0 ; i < n ; i++) { argv[i] = words.s + off ; off += strlen(words.s + off) + 1 ; }
  argv[n] = 0 ;
  if (pipe2(po, O_CLOEXEC) < 0) { stralloc_free(&words) ; *why = "cannot be started (pipe)" ; return 0 ; }
  if (pipe2(pe, O_CLOEXEC) < 0) { fd_close(po[0]) ; fd_close(po[1]) ; stralloc_free(&words) ; *why = "cannot be started (pipe)" ; return 0 ; }
  pid = fork() ;
  if (pid < 0) { r = 0 ; *why = "cannot be started (fork)" ; goto close ; }
  if (!pid) { fd_close(po[0]) ; fd_close(pe[0]) ; child(argv, po[1], pe[1]) ; }
  fd_close(po[1]) ; fd_close(pe[1]) ;
  po[1] = pe[1] = -1 ;
  tain_now_g() ;
  tain_addsec_g(&deadline, timeout) ;
  r = collect(po[0], pe[0], &deadline, &sa, &err, why) ;
  if (r <= 0) kill(pid, SIGKILL) ;
  if (!reap(pid, &deadline, &wstat)) { if (r > 0) { r = 0 ; *why = "vanished" ; } }
  else if (r > 0 && (!WIFEXITED(wstat) || WEXITSTATUS(wstat)))
  {
    r = 0 ;
    *why = WIFSIGNALED(wstat) ? "was killed by a signal" : WEXITSTATUS(wstat) == 127 ? "names a program that does not exist"
         : WEXITSTATUS(wstat) == 126 ? "names a program that cannot be run" : "failed (non-zero exit)" ;
  }
  if (r > 0)
  {
    if (!sa.len || sa.s[0] == '\n' || sa.s[0] == '\r') { r = 0 ; *why = "printed nothing" ; }
    else r = firstline(sa.s, sa.len, out, why) ;
  }
  if (!r && diag_line(&err, diag) < 0) r = -1 ;
 close:
  fd_close(po[0]) ; fd_close(pe[0]) ;
  if (po[1] >= 0) fd_close(po[1]) ;
  if (pe[1] >= 0) fd_close(pe[1]) ;
  stralloc_free(&words) ;
  secret_free(&sa) ;
  stralloc_free(&err) ;
  return r ;
}
