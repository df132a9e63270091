/* Writing a message into an mbox (dot-lock and fcntl lock, cut back on
   failure) or a Maildir (tmp/, link into new/). Used by mm-local, as the
   recipient; no privilege of its own. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "mailbox.h"

#define MAILBOX_BUFFER 65536
#define DOTLOCK_TAG "mm-local "
#define DOTLOCK_TAG_LEN 9

/* ---- mboxrd quoting ---- */

int mboxquote_put (buffer *out, mboxquote *q, char const *s, size_t len)
{
  static char const from[5] = "From " ;
  size_t i = 0 ;
  while (i < len)
  {
    if (!q->inprefix)
    {
      char const *nl = memchr(s + i, '\n', len - i) ;
      size_t end = nl ? (size_t)(nl - s) + 1 : len ;
      if (buffer_put(out, s + i, end - i) < 0) return 0 ;
      i = end ;
      if (nl) { q->inprefix = 1 ; q->matched = 0 ; }
      continue ;
    }
    if (!q->matched && s[i] == '>')
    {
      if (buffer_put(out, ">", 1) < 0) return 0 ;
      i++ ;
      continue ;
    }
    if (s[i] == from[q->matched])
    {
      i++ ;
      if (++q->matched == sizeof from)
      {
        /* one more '>' anywhere in the run is the same as at its start */
        if (buffer_put(out, ">From ", 6) < 0) return 0 ;
        q->inprefix = 0 ;
      }
      continue ;
    }
    if (q->matched && buffer_put(out, from, q->matched) < 0) return 0 ;
    q->inprefix = 0 ;
  }
  return 1 ;
}

int mboxquote_end (buffer *out, mboxquote *q)
{
  int r = !q->inprefix || !q->matched || buffer_put(out, "From ", q->matched) >= 0 ;
  q->inprefix = 1 ; q->matched = 0 ;
  return r ;
}


/* ---- reasons ---- */

static int reason (stralloc *why, char const *a, char const *b, char const *c, char const *d)
{
  why->len = 0 ;
  if (!stralloc_cats(why, a) || (b && !stralloc_cats(why, b))
   || (c && !stralloc_cats(why, c)) || (d && !stralloc_cats(why, d)) || !stralloc_0(why)) return EX_TEMPFAIL ;
  why->len-- ;
  return EX_TEMPFAIL ;
}

/* A failed system call: always temporary; a full disk or quota says so. */
static int reasonsys (stralloc *why, char const *verb, char const *what)
{
  int e = errno ;
  if (e == ENOSPC || e == EDQUOT) return reason(why, "4.2.2 mailbox full or disk full: ", what, 0, 0) ;
  reason(why, "4.3.0 unable to ", verb, " ", what) ;
  if (!stralloc_catb(why, ": ", 2) || !stralloc_cats(why, strerror(e)) || !stralloc_0(why)) return EX_TEMPFAIL ;
  why->len-- ;
  return EX_TEMPFAIL ;
}


/* ---- mbox ---- */

/* The dot-lock PATH.lock next to the mailbox, as mail readers expect.
   Its holder keeps an fcntl lock on the lock file itself, which the
   kernel drops when the holder dies: so a lock file that is still linked
   but whose fcntl lock can be had belongs to a dead mm-local. It holds
   "mm-local PID SIZE", SIZE being the mailbox's size before the append;
   whoever takes over such a lock cuts the mailbox back to SIZE (the dead
   delivery was never reported done). A holder that finishes empties the
   file before it unlinks it, so a finished delivery is never cut.
   1 locked (*lockfd open), 0 no right to create it (the fcntl lock on
   the mailbox must do), -1 error (why set). *recover: a size to cut back
   to, or -1. */

static void dotlock_note (int lockfd, off_t size) ;

/* An fcntl lock on the lock file; 1 got it, 0 held by another process. */
static int lockfile_lock (int fd, int wait)
{
  struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 } ;
  while (fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl) < 0)
  {
    if (errno == EINTR) continue ;
    return 0 ;
  }
  return 1 ;
}

static int lockfile_linked (int fd)
{
  struct stat st ;
  return fstat(fd, &st) == 0 && st.st_nlink > 0 ;
}

/* A lock file that neither we (the recipient) nor root made: the
   recipient's own programs and root's make the only lock files that
   count for this mailbox. */
static int dotlock_foreign (struct stat const *st)
{
  return st->st_uid != geteuid() && st->st_uid != 0 ;
}

static int dotlock_get (char const *lockpath, char const *path, int *lockfd, off_t *recover, stralloc *why)
{
  time_t start = time(0) ;
  *recover = -1 ;
  for (;;)
  {
    struct stat st ;
    int fd = open3(lockpath, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) ;
    if (fd >= 0)
    {
      /* someone who took it for stale between our create and this lock
         holds it until it is gone: then start again */
      if (!lockfile_lock(fd, 1) || !lockfile_linked(fd)) { close(fd) ; continue ; }
      dotlock_note(fd, -1) ;
      *lockfd = fd ;
      return 1 ;
    }
    /* no right to create it: the fcntl lock must do; no directory: the
       open of the mailbox says so */
    if (errno == EACCES || errno == EPERM || errno == EROFS || errno == ENOENT) return 0 ;
    if (errno != EEXIST) return reasonsys(why, "create the lock file", lockpath), -1 ;
    fd = open3(lockpath, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0) ;
    if (fd < 0 && errno == ENOENT) continue ;
    if (fd < 0 ? lstat(lockpath, &st) == 0 && dotlock_foreign(&st) : fstat(fd, &st) == 0 && dotlock_foreign(&st))
    {
      /* planted by another user in a world-writable spool: no holder of
         ours, and never a size to cut the mailbox back to; it cannot be
         removed (sticky directory), so the fcntl lock must do */
      if (fd >= 0) close(fd) ;
      strerr_warnw3x("ignoring ", lockpath, ": it belongs to another user") ;
      return 0 ;
    }
    if (fd >= 0)
    {
      char text[64] ;
      ssize_t n = pread(fd, text, sizeof text - 1, 0) ;
      if (n > DOTLOCK_TAG_LEN && !memcmp(text, DOTLOCK_TAG, DOTLOCK_TAG_LEN))
      {
        /* ours: stale exactly when its holder's lock is gone while the
           file is still there */
        if (lockfile_lock(fd, 0))
        {
          if (!lockfile_linked(fd)) { close(fd) ; continue ; }
          n = pread(fd, text, sizeof text - 1, 0) ;
          if (n > DOTLOCK_TAG_LEN && !memcmp(text, DOTLOCK_TAG, DOTLOCK_TAG_LEN))
          {
            uint64_t pid, size ;
            size_t i = DOTLOCK_TAG_LEN, k ;
            text[n] = 0 ;
            k = uint64_scan(text + i, &pid) ;
            i += k ;
            if (k && text[i] == ' ' && uint64_scan(text + i + 1, &size)) *recover = (off_t)size ;
          }
          dotlock_note(fd, -1) ;
          *lockfd = fd ;
          return 1 ;
        }
        close(fd) ;
      }
      else
      {
        close(fd) ;
        /* another program's lock: stale only when old */
        if (lstat(lockpath, &st) == 0 && st.st_mtime + MAILBOX_DOTLOCK_STALE < time(0))
        {
          unlink(lockpath) ;
          continue ;
        }
      }
    }
    if (time(0) - start >= MAILBOX_LOCK_WAIT) return reason(why, "4.2.0 mailbox is locked: ", path, 0, 0), -1 ;
    sleep(1) ;
  }
}

/* Record who holds the lock and, once known, the size to go back to. */
static void dotlock_note (int lockfd, off_t size)
{
  char text[DOTLOCK_TAG_LEN + 2 * UINT64_FMT + 2] ;
  size_t n = DOTLOCK_TAG_LEN ;
  memcpy(text, DOTLOCK_TAG, DOTLOCK_TAG_LEN) ;
  n += uint64_fmt(text + n, getpid()) ;
  if (size >= 0)
  {
    text[n++] = ' ' ;
    n += uint64_fmt(text + n, size) ;
  }
  text[n++] = '\n' ;
  if (ftruncate(lockfd, 0) == 0) { ssize_t w = pwrite(lockfd, text, n, 0) ; (void)w ; }
}

static int fcntl_lock (int fd, char const *path, stralloc *why)
{
  time_t start = time(0) ;
  struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 } ;
  while (fcntl(fd, F_SETLK, &fl) < 0)
  {
    if (errno != EAGAIN && errno != EACCES && errno != EINTR) return reasonsys(why, "lock", path) ;
    if (time(0) - start >= MAILBOX_LOCK_WAIT) return reason(why, "4.2.0 mailbox is locked: ", path, 0, 0) ;
    sleep(1) ;
  }
  return 0 ;
}

/* What a killed delivery appended after size was never reported
   delivered: it goes, and that message comes again with the retry. */
static void recover_tail (int fd, char const *path, off_t *size, off_t recover)
{
  char head[5] ;
  if (recover < 0 || *size <= recover) return ;
  if (pread(fd, head, 5, recover) != 5 || memcmp(head, "From ", 5) || ftruncate(fd, recover) < 0) return ;
  fsync(fd) ;
  *size = recover ;
  strerr_warnw2x("removed the partial message a killed delivery left at the end of ", path) ;
}

int mailbox_mbox (char const *path, char const *sender, char const *head, size_t headlen, mailbox_writer *w, stralloc *why)
{
  stralloc lockpath = STRALLOC_ZERO ;
  char buf[MAILBOX_BUFFER] ;
  buffer b ;
  char date[32] ;
  struct stat st ;
  struct tm tm ;
  time_t now = time(0) ;
  int fd, locked, lastnl, r = 0, lockfd = -1 ;
  off_t oldsize = 0, recover ;

  if (!strcmp(path, "/dev/null")) return 0 ;
  if (!stralloc_cats(&lockpath, path) || !stralloc_cats(&lockpath, ".lock") || !stralloc_0(&lockpath))
    return reasonsys(why, "allocate", "memory") ;
  locked = dotlock_get(lockpath.s, path, &lockfd, &recover, why) ;
  if (locked < 0) { r = EX_TEMPFAIL ; goto end ; }
  fd = open3(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600) ;
  if (fd < 0)
  {
    r = errno == ELOOP ? reason(why, "4.2.1 mailbox is a symbolic link: ", path, 0, 0) : reasonsys(why, "open mailbox", path) ;
    goto unlock ;
  }
  if (fstat(fd, &st) < 0) { r = reasonsys(why, "stat mailbox", path) ; goto close ; }
  if (!S_ISREG(st.st_mode)) { r = reason(why, "4.2.1 mailbox is not a regular file: ", path, 0, 0) ; goto close ; }
  /* in a world-writable spool anyone may make the file first: mail
     appended to it would be theirs to read (and a hard link would point
     the append at another of the recipient's files) */
  if (st.st_uid != geteuid()) { r = reason(why, "4.2.1 mailbox is not owned by the recipient: ", path, " (remove it, mm-local(8))", 0) ; goto close ; }
  if (st.st_nlink != 1) { r = reason(why, "4.2.1 mailbox has more than one name (a hard link): ", path, 0, 0) ; goto close ; }
  r = fcntl_lock(fd, path, why) ;
  if (r) goto close ;
  if (fstat(fd, &st) < 0) { r = reasonsys(why, "stat mailbox", path) ; goto close ; }
  oldsize = st.st_size ;
  recover_tail(fd, path, &oldsize, recover) ;
  if (lockfd >= 0) dotlock_note(lockfd, oldsize) ;

  gmtime_r(&now, &tm) ;
  strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm) ;
  buffer_init(&b, &buffer_write, fd, buf, sizeof buf) ;
  if (buffer_puts(&b, "From ") < 0 || buffer_puts(&b, *sender ? sender : "MAILER-DAEMON") < 0
   || buffer_puts(&b, " ") < 0 || buffer_puts(&b, date) < 0 || buffer_put(&b, "\n", 1) < 0
   || buffer_put(&b, head, headlen) < 0
   || !(*w)(&b, 1, &lastnl)
   || (!lastnl && buffer_put(&b, "\n", 1) < 0)
   || buffer_put(&b, "\n", 1) < 0
   || !buffer_flush(&b) || fsync(fd) < 0)
  {
    int e = errno ;
    if (ftruncate(fd, oldsize) == 0) fsync(fd) ;
    errno = e ;
    r = reasonsys(why, "write mailbox", path) ;
  }
 close:
  if (close(fd) < 0 && !r)
  {
    /* some file systems report a failed write (quota) only here */
    int e = errno ;
    int fd2 = open2(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC) ;
    if (fd2 >= 0) { if (ftruncate(fd2, oldsize) == 0) fsync(fd2) ; close(fd2) ; }
    errno = e ;
    r = reasonsys(why, "write mailbox", path) ;
  }
 unlock:
  if (locked > 0)
  {
    /* emptied first: whoever gets in before the unlink sees a finished
       delivery, not a dead one */
    if (ftruncate(lockfd, 0) < 0) { }
    unlink(lockpath.s) ;
    close(lockfd) ;
  }
 end:
  stralloc_free(&lockpath) ;
  return r ;
}


/* ---- Maildir ---- */

static int fsync_dir (char const *path)
{
  int fd = open2(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  int r ;
  if (fd < 0) return 0 ;
  r = fsync(fd) == 0 || errno == EINVAL ;
  close(fd) ;
  return r ;
}

/* The host part of a Maildir name: '/' and ':' escaped. */
static int maildir_host (stralloc *sa, char const *host)
{
  for (; *host ; host++)
  {
    int ok = *host == '/' ? stralloc_cats(sa, "\\057") : *host == ':' ? stralloc_cats(sa, "\\072") : stralloc_catb(sa, host, 1) ;
    if (!ok) return 0 ;
  }
  return stralloc_0(sa) ;
}

/* time.MusecPpidQseq.host */
static int maildir_name (stralloc *sa, char const *host)
{
  static unsigned int seq = 0 ;
  struct timeval tv ;
  char fmt[UINT64_FMT] ;
  gettimeofday(&tv, 0) ;
  sa->len = 0 ;
  fmt[uint64_fmt(fmt, tv.tv_sec)] = 0 ;
  if (!stralloc_cats(sa, fmt) || !stralloc_cats(sa, ".M")) return 0 ;
  fmt[uint64_fmt(fmt, tv.tv_usec)] = 0 ;
  if (!stralloc_cats(sa, fmt) || !stralloc_cats(sa, "P")) return 0 ;
  fmt[uint64_fmt(fmt, getpid())] = 0 ;
  if (!stralloc_cats(sa, fmt) || !stralloc_cats(sa, "Q")) return 0 ;
  fmt[uint64_fmt(fmt, ++seq)] = 0 ;
  if (!stralloc_cats(sa, fmt) || !stralloc_catb(sa, ".", 1)) return 0 ;
  return maildir_host(sa, host) ;
}

/* A delivery with a key has a name of its own: if it is already in new/
   or cur/ (an earlier try got that far and then died), it is done. */
static int maildir_has (stralloc const *dir, char const *name)
{
  stralloc p = STRALLOC_ZERO ;
  struct stat st ;
  int r = 0 ;
  static char const *const where[2] = { "new/", "cur/" } ;
  for (unsigned int i = 0 ; i < 2 && !r ; i++)
  {
    p.len = 0 ;
    if (!stralloc_cat(&p, dir) || !stralloc_cats(&p, where[i]) || !stralloc_cats(&p, name) || !stralloc_0(&p)) break ;
    if (stat(p.s, &st) == 0) r = 1 ;
    else if (i == 1)
    {
      /* a reader moves new/NAME to cur/NAME:2,FLAGS */
      p.len-- ;
      if (stralloc_cats(&p, ":2,") && stralloc_0(&p) && stat(p.s, &st) == 0) r = 1 ;
    }
  }
  stralloc_free(&p) ;
  return r ;
}

static int maildir_keyname (stralloc *sa, char const *key, char const *host)
{
  sa->len = 0 ;
  if (!stralloc_cats(sa, key) || !stralloc_catb(sa, ".", 1)) return 0 ;
  return maildir_host(sa, host) ;
}

int mailbox_maildir (char const *dirarg, char const *key, char const *head, size_t headlen, mailbox_writer *w, stralloc *why)
{
  static char const *const sub[4] = { "", "tmp", "new", "cur" } ;
  stralloc dir = STRALLOC_ZERO, tmp = STRALLOC_ZERO, new = STRALLOC_ZERO, host = STRALLOC_ZERO, name = STRALLOC_ZERO ;
  size_t dlen = strlen(dirarg), base ;
  char buf[MAILBOX_BUFFER] ;
  buffer b ;
  int fd, r = 0, made = 0 ;
  while (dlen > 1 && dirarg[dlen-1] == '/') dlen-- ;
  if (!stralloc_catb(&dir, dirarg, dlen) || !stralloc_catb(&dir, "/", 1)) goto nomem ;
  base = dir.len ;
  for (unsigned int i = 0 ; i < 4 ; i++)
  {
    dir.len = base ;
    if (!stralloc_cats(&dir, sub[i]) || !stralloc_0(&dir)) goto nomem ;
    if (mkdir(dir.s, 0700) == 0) made = 1 ;
    else if (errno != EEXIST) { r = reasonsys(why, "create Maildir", dir.s) ; goto end ; }
  }
  if (made)
  {
    /* new directories are entries of the Maildir and of its parent: on
       disk before a message in new/ counts as delivered, or a crash
       could take the delivered message with them (tests/125) */
    size_t p = base - 1 ;
    int ok ;
    while (p > 0 && dir.s[p-1] != '/') p-- ;
    dir.len = base ;
    if (!stralloc_0(&dir)) goto nomem ;
    ok = fsync_dir(dir.s) ;
    if (ok && p) { char c = dir.s[p] ; dir.s[p] = 0 ; ok = fsync_dir(dir.s) ; dir.s[p] = c ; }
    else if (ok) ok = fsync_dir(".") ;
    if (!ok) { r = reasonsys(why, "sync the new Maildir", dir.s) ; goto end ; }
  }
  dir.len = base ;
  if (sagethostname(&host) < 0 || !stralloc_0(&host)) { r = reasonsys(why, "get", "the host name") ; goto end ; }

  if (key)
  {
    if (!maildir_keyname(&name, key, host.s)) goto nomem ;
    if (maildir_has(&dir, name.s)) goto end ;
    /* a work file of an earlier try that died: start again */
    if (!stralloc_cat(&tmp, &dir) || !stralloc_cats(&tmp, "tmp/") || !stralloc_cats(&tmp, name.s) || !stralloc_0(&tmp)) goto nomem ;
    unlink(tmp.s) ;
    fd = open3(tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) ;
    if (fd < 0) { r = reasonsys(why, "create", tmp.s) ; goto end ; }
  }
  else for (unsigned int tries = 0 ; ; tries++)
  {
    if (!maildir_name(&name, host.s)) goto nomem ;
    tmp.len = 0 ;
    if (!stralloc_cat(&tmp, &dir) || !stralloc_cats(&tmp, "tmp/") || !stralloc_cats(&tmp, name.s) || !stralloc_0(&tmp)) goto nomem ;
    fd = open3(tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) ;
    if (fd >= 0) break ;
    if (errno != EEXIST || tries >= MAILBOX_MAILDIR_TRIES) { r = reasonsys(why, "create", tmp.s) ; goto end ; }
  }
  buffer_init(&b, &buffer_write, fd, buf, sizeof buf) ;
  if (buffer_put(&b, head, headlen) < 0 || !(*w)(&b, 0, 0) || !buffer_flush(&b) || fsync(fd) < 0)
  {
    r = reasonsys(why, "write", tmp.s) ;
    close(fd) ;
    unlink(tmp.s) ;
    goto end ;
  }
  if (close(fd) < 0) { r = reasonsys(why, "write", tmp.s) ; unlink(tmp.s) ; goto end ; }
  if (!stralloc_cat(&new, &dir) || !stralloc_cats(&new, "new/") || !stralloc_cats(&new, name.s) || !stralloc_0(&new)) goto nomem ;
  if (link(tmp.s, new.s) < 0)
  {
    /* file systems without hard links: the name is unique, rename will do */
    if ((errno != EPERM && errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP) || rename(tmp.s, new.s) < 0)
    {
      r = reasonsys(why, "link into", new.s) ;
      unlink(tmp.s) ;
      goto end ;
    }
  }
  else unlink(tmp.s) ;
  new.s[dir.len + 3] = 0 ;  /* DIR/new */
  if (!fsync_dir(new.s))
  {
    /* not known to be on disk: take it back, the retry delivers it */
    r = reasonsys(why, "sync", new.s) ;
    new.s[dir.len + 3] = '/' ;
    unlink(new.s) ;
  }
  goto end ;
 nomem:
  r = reasonsys(why, "allocate", "memory") ;
 end:
  stralloc_free(&dir) ; stralloc_free(&tmp) ; stralloc_free(&new) ;
  stralloc_free(&host) ; stralloc_free(&name) ;
  return r ;
}
