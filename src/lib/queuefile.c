/* Reading a queue file's envelope and journal, and appending journal
   records (INTERNALS 3.2). */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>
#include <skalibs/types.h>
#include "queuefile.h"

void qfile_header (char *s, uint64_t len)
{
  int i ;
  memcpy(s, "MM1 ", 4) ;
  for (i = 23 ; i >= 4 ; i--) { s[i] = '0' + len % 10 ; len /= 10 ; }
  s[24] = '\n' ;
}

int qfile_header_scan (char const *s, uint64_t *len)
{
  uint64_t u = 0 ;
  int i ;
  if (memcmp(s, "MM1 ", 4) || s[24] != '\n') return 0 ;
  for (i = 4 ; i < 24 ; i++)
  {
    if (s[i] < '0' || s[i] > '9') return 0 ;
    if (u > (UINT64_MAX - (s[i] - '0')) / 10) return 0 ;  /* 20 digits may say more than 64 bits hold */
    u = u * 10 + (s[i] - '0') ;
  }
  *len = u ;
  return 1 ;
}

void qfile_free (qfile *q)
{
  genalloc_free(size_t, &q->rcpts) ;
  genalloc_free(qrecord, &q->records) ;
  stralloc_free(&q->strings) ;
}

uint64_t qfile_next_retry (uint64_t arrival, uint64_t now)
{
  uint64_t age = now > arrival ? now - arrival : 0 ;
  uint64_t k = 1 ;
  while ((QUEUE_RETRY_STEP * k) * (QUEUE_RETRY_STEP * k) <= age) k++ ;
  return arrival + (QUEUE_RETRY_STEP * k) * (QUEUE_RETRY_STEP * k) ;
}

int qfile_hasflag (qfile const *q, char flag)
{
  return !!strchr(q->strings.s + q->flags, flag) ;
}

qrecord *qfile_record (qfile const *q, char const *target)
{
  size_t n = genalloc_len(qrecord, &q->records) ;
  qrecord *r = genalloc_s(qrecord, &q->records) ;
  for (size_t i = 0 ; i < n ; i++)
    if (!strcmp(q->strings.s + r[i].target, target)) return r + i ;
  return 0 ;
}

static int addstr (qfile *q, char const *s, size_t len, size_t *off)
{
  *off = q->strings.len ;
  return stralloc_catb(&q->strings, s, len) && stralloc_0(&q->strings) ;
}

static int scantime (char const *s, size_t len, uint64_t *t)
{
  return len && uint64_scan(s, t) == len ;
}

static size_t record_find (qfile const *q, char const *s, size_t len)
{
  qrecord const *r = genalloc_s(qrecord, &q->records) ;
  size_t n = genalloc_len(qrecord, &q->records) ;
  for (size_t i = 0 ; i < n ; i++)
  {
    char const *t = q->strings.s + r[i].target ;
    if (!strncmp(t, s, len) && !t[len]) return i ;
  }
  return n ;
}

/* One journal record: d, b, z carry a target (b and z a reason after a tab). */
static int journal_line (qfile *q, char const *s, size_t len)
{
  char kind = s[0] ;
  s++ ; len-- ;
  switch (kind)
  {
    case 'w' : return scantime(s, len, &q->warned) ;
    case 't' : return scantime(s, len, &q->arrival) ;
    case 'x' : case 'h' : case 'H' :
    {
      uint64_t u ;
      if (!scantime(s, len, &u)) return 0 ;
      if (kind == 'x') q->removed_by = u + 1 ;
      else if (kind == 'h') q->held_by = u + 1 ;
      else { q->held_by = 0 ; q->released = 1 ; }
      return 1 ;
    }
    case 'd' : case 'b' : case 'z' :
    {
      char const *tab = memchr(s, '\t', len) ;
      size_t tlen = tab ? (size_t)(tab - s) : len ;
      size_t i = record_find(q, s, tlen) ;
      qrecord *r ;
      if (!tlen) return 0 ;
      if (i == genalloc_len(qrecord, &q->records))
      {
        qrecord new = { .state = TARGET_PENDING, .hastext = 0 } ;
        if (!addstr(q, s, tlen, &new.target)) return -1 ;
        if (!genalloc_append(qrecord, &q->records, &new)) return -1 ;
      }
      r = genalloc_s(qrecord, &q->records) + i ;
      if (kind == 'd') r->state = TARGET_DONE ;
      else if (kind == 'b') r->state = TARGET_FAILED ;
      if (tab && (kind != 'z' || r->state == TARGET_PENDING))
      {
        size_t off ;
        if (!addstr(q, tab + 1, len - tlen - 1, &off)) return -1 ;
        r = genalloc_s(qrecord, &q->records) + i ;
        r->text = off ; r->hastext = 1 ;
      }
      return 1 ;
    }
    default : return 0 ;
  }
}

int qfile_read (int fd, qfile *q)
{
  char hdr[MESS_HEADER_LEN] ;
  stralloc raw = STRALLOC_ZERO ;
  struct stat st ;
  size_t i, envend = 0 ;
  int inenv = 1, r ;
  q->strings.len = 0 ;
  genalloc_setlen(size_t, &q->rcpts, 0) ;
  genalloc_setlen(qrecord, &q->records, 0) ;
  q->uid = q->arrival = q->warned = q->removed_by = q->held_by = 0 ;
  q->released = 0 ;
  q->host = (size_t)-1 ;
  q->key = (size_t)-1 ;
  q->sender = (size_t)-1 ;
  if (!stralloc_catb(&q->strings, "", 1)) return -1 ;
  q->flags = 0 ;
  if (pread(fd, hdr, MESS_HEADER_LEN, 0) != MESS_HEADER_LEN) goto proto ;
  if (!qfile_header_scan(hdr, &q->messlen)) goto proto ;
  if (fstat(fd, &st) < 0) return -1 ;
  /* compared before the addition: a damaged length must not wrap around */
  if (st.st_size < MESS_HEADER_LEN || q->messlen > (uint64_t)st.st_size - MESS_HEADER_LEN) goto proto ;
  q->envstart = MESS_HEADER_LEN + (off_t)q->messlen ;
  if (!stralloc_ready(&raw, st.st_size - q->envstart)) return -1 ;
  {
    ssize_t got = pread(fd, raw.s, st.st_size - q->envstart, q->envstart) ;
    if (got < 0) { stralloc_free(&raw) ; return -1 ; }
    raw.len = got ;
  }
  for (i = 0 ; i < raw.len ; )
  {
    char *nl = memchr(raw.s + i, '\n', raw.len - i) ;
    size_t len ;
    if (!nl) break ;  /* a torn last journal line */
    len = nl - (raw.s + i) ;
    if (!len) goto proto ;
    if (inenv)
    {
      char const *v = raw.s + i + 1 ;
      size_t vlen = len - 1 ;
      switch (raw.s[i])
      {
        case 'u' : if (!scantime(v, vlen, &q->uid)) goto proto ; break ;
        case 't' : if (!scantime(v, vlen, &q->arrival)) goto proto ; break ;
        case 'h' : if (!addstr(q, v, vlen, &q->host)) goto nomem ; break ;
        case 'k' : if (!addstr(q, v, vlen, &q->key)) goto nomem ; break ;
        case 'o' : if (!addstr(q, v, vlen, &q->flags)) goto nomem ; break ;
        case 'f' : if (!addstr(q, v, vlen, &q->sender)) goto nomem ; break ;
        case 'r' :
        {
          size_t off ;
          if (!addstr(q, v, vlen, &off) || !genalloc_append(size_t, &q->rcpts, &off)) goto nomem ;
          break ;
        }
        case '.' : if (vlen) goto proto ; inenv = 0 ; envend = i + 2 ; break ;
        default : goto proto ;
      }
    }
    else
    {
      /* a line followed by "#" was torn by a crash and closed off later */
      if (i + len + 2 < raw.len && raw.s[i + len + 1] == '#' && raw.s[i + len + 2] == '\n') r = 1 ;
      else if (raw.s[i] == '#') r = 1 ;
      else r = journal_line(q, raw.s + i, len) ;
      if (r < 0) goto nomem ;
      /* an unknown record from a newer version is skipped, not fatal */
    }
    i += len + 1 ;
  }
  if (inenv || q->sender == (size_t)-1 || !genalloc_len(size_t, &q->rcpts)) goto proto ;
  q->journalend = q->envstart + i ;
  (void)envend ;
  stralloc_free(&raw) ;
  return 1 ;
 proto:
  stralloc_free(&raw) ;
  errno = EPROTO ;
  return 0 ;
 nomem:
  stralloc_free(&raw) ;
  return -1 ;
}

int qfile_append_fd (int fd, char kind, char const *a, char const *b, int sync)
{
  struct stat st ;
  stralloc line = STRALLOC_ZERO ;
  int flags = fcntl(fd, F_GETFL) ;
  int ok ;
  char c = '\n' ;
  /* several processes append to one journal (mm-send, mm-lspawn,
     mm-qctl): O_APPEND makes each record land whole at the end */
  if (flags < 0 || (!(flags & O_APPEND) && fcntl(fd, F_SETFL, flags | O_APPEND) < 0)) return 0 ;
  if (fstat(fd, &st) < 0) return 0 ;
  if (st.st_size && pread(fd, &c, 1, st.st_size - 1) != 1) return 0 ;
  /* a record torn by a crash is closed off as a line of its own, which
     readers skip, rather than merged into ours */
  ok = (c == '\n' || stralloc_catb(&line, "\n#\n", 3))
    && stralloc_catb(&line, &kind, 1) && stralloc_cats(&line, a)
    && (!b || (stralloc_catb(&line, "\t", 1) && stralloc_cats(&line, b)))
    && stralloc_catb(&line, "\n", 1) ;
  if (ok)
  {
    for (size_t i = c != '\n' ? 4 : 1 ; i + 1 < line.len ; i++)
      if (line.s[i] == '\n') line.s[i] = ' ' ;  /* a reason is one line */
    ok = allwrite(fd, line.s, line.len) == line.len ;
  }
  if (ok && sync && fdatasync(fd) < 0) ok = 0 ;
  stralloc_free(&line) ;
  return ok ;
}

int qfile_append (int fd, qfile *q, char kind, char const *a, char const *b, int sync)
{
  off_t end ;
  if (!qfile_append_fd(fd, kind, a, b, sync)) return 0 ;
  /* with O_APPEND the offset is the end of what we wrote: no second fstat */
  end = lseek(fd, 0, SEEK_CUR) ;
  if (end >= 0) q->journalend = end ;
  return 1 ;
}
