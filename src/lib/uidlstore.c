/* The per-account UIDL record of mm-pop3fetch (pop user): the file
   dir/uidl has one line "SECONDS UIDL" per message in the queue. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include <skalibs/types.h>
#include "pop3reply.h"
#include "uidlstore.h"

#define UIDL_FILE "/uidl"
#define UIDL_TMP "/uidl.tmp"
#define UIDL_LOCK "/lock"

static int path (stralloc *sa, uidlstore const *s, char const *file)
{
  sa->len = 0 ;
  return stralloc_cats(sa, s->dir.s) && stralloc_cats(sa, file) && stralloc_0(sa) ;
}

static int parse (uidlstore *s, char const *t, size_t len)
{
  size_t i = 0 ;
  while (i < len)
  {
    char const *nl = memchr(t + i, '\n', len - i) ;
    size_t end, n ;
    uint64_t when ;
    if (!nl) return (errno = EPROTO, 0) ;   /* the file is renamed into place whole */
    end = nl - t ;
    n = uint64_scan(t + i, &when) ;
    if (!n || t[i + n] != ' ' || end - i - n - 1 < 1 || end - i - n - 1 > POP3_UIDL_MAX)
      return (errno = EPROTO, 0) ;
    if (!uidlstore_add(s, t + i + n + 1, end - i - n - 1, when)) return 0 ;
    i = end + 1 ;
  }
  return 1 ;
}

int uidlstore_open (uidlstore *s, char const *dir)
{
  stralloc sa = STRALLOC_ZERO, text = STRALLOC_ZERO ;
  int r = -1, fd ;
  if (!stralloc_copys(&s->dir, dir) || !stralloc_0(&s->dir)) return -1 ;
  if (mkdir(dir, 0700) < 0 && errno != EEXIST) return -1 ;
  if (!path(&sa, s, UIDL_LOCK)) goto end ;
  s->lockfd = open(sa.s, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600) ;
  if (s->lockfd < 0) goto end ;
  r = fd_lock(s->lockfd, 1, 1) ;
  if (r <= 0) { if (!r) errno = EBUSY ; fd_close(s->lockfd) ; s->lockfd = -1 ; r = r < 0 ? -1 : 0 ; goto end ; }
  r = -1 ;
  if (!path(&sa, s, UIDL_FILE)) goto end ;
  fd = open(sa.s, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) ;
  if (fd < 0)
  {
    if (errno == ENOENT) r = 1 ;
    goto end ;
  }
  if (!slurp(&text, fd)) { fd_close(fd) ; goto end ; }
  fd_close(fd) ;
  if (parse(s, text.s, text.len)) r = 1 ;
 end:
  if (r < 0 && s->lockfd >= 0) { int e = errno ; fd_close(s->lockfd) ; s->lockfd = -1 ; errno = e ; }
  stralloc_free(&sa) ;
  stralloc_free(&text) ;
  return r ;
}

void uidlstore_close (uidlstore *s)
{
  if (s->lockfd >= 0) fd_close(s->lockfd) ;
  s->lockfd = -1 ;
  stralloc_free(&s->dir) ;
  stralloc_free(&s->uids) ;
  genalloc_free(uidlrec, &s->recs) ;
}

uidlrec *uidlstore_find (uidlstore *s, char const *uid, size_t len)
{
  uidlrec *r = genalloc_s(uidlrec, &s->recs) ;
  size_t n = genalloc_len(uidlrec, &s->recs) ;
  for (size_t i = 0 ; i < n ; i++)
  {
    char const *u = s->uids.s + r[i].pos ;
    if (!strncmp(u, uid, len) && !u[len]) return r + i ;
  }
  return 0 ;
}

int uidlstore_add (uidlstore *s, char const *uid, size_t len, uint64_t when)
{
  uidlrec r = { .pos = s->uids.len, .when = when, .seen = 1 } ;
  if (!stralloc_catb(&s->uids, uid, len) || !stralloc_0(&s->uids)) return 0 ;
  if (!genalloc_append(uidlrec, &s->recs, &r)) { s->uids.len = r.pos ; return 0 ; }
  return 1 ;
}

void uidlstore_prune (uidlstore *s)
{
  uidlrec *r = genalloc_s(uidlrec, &s->recs) ;
  size_t n = genalloc_len(uidlrec, &s->recs), j = 0 ;
  for (size_t i = 0 ; i < n ; i++) if (r[i].seen) r[j++] = r[i] ;
  genalloc_setlen(uidlrec, &s->recs, j) ;   /* uids keeps the dead strings until the next open */
}

int uidlstore_write (uidlstore *s)
{
  stralloc text = STRALLOC_ZERO, tmp = STRALLOC_ZERO, final = STRALLOC_ZERO ;
  uidlrec const *r = genalloc_s(uidlrec, &s->recs) ;
  size_t n = genalloc_len(uidlrec, &s->recs) ;
  int ok = 0, fd ;
  for (size_t i = 0 ; i < n ; i++)
  {
    char num[UINT64_FMT] ;
    if (!stralloc_catb(&text, num, uint64_fmt(num, r[i].when)) || !stralloc_catb(&text, " ", 1)
     || !stralloc_cats(&text, s->uids.s + r[i].pos) || !stralloc_catb(&text, "\n", 1)) goto end ;
  }
  if (!path(&tmp, s, UIDL_TMP) || !path(&final, s, UIDL_FILE)) goto end ;
  /* only we write here, under the lock: a leftover is a crashed fetch's */
  if (unlink(tmp.s) < 0 && errno != ENOENT) goto end ;
  fd = open(tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) ;
  if (fd < 0) goto end ;
  if (allwrite(fd, text.s, text.len) < text.len || fsync(fd) < 0) { int e = errno ; fd_close(fd) ; unlink(tmp.s) ; errno = e ; goto end ; }
  fd_close(fd) ;
  if (rename(tmp.s, final.s) < 0) goto end ;
  fd = open(s->dir.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  if (fd < 0) goto end ;
  if (fsync(fd) < 0) { int e = errno ; fd_close(fd) ; errno = e ; goto end ; }
  fd_close(fd) ;
  ok = 1 ;
 end:
  stralloc_free(&text) ; stralloc_free(&tmp) ; stralloc_free(&final) ;
  return ok ;
}
