/* The queue file mess/ID: header, message, envelope, journal (INTERNALS 3.2). */
#ifndef MM_QUEUEFILE_H
#define MM_QUEUEFILE_H

#include <stdint.h>
#include <sys/types.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>

#define MESS_HEADER_LEN 25
#define QUEUE_TMP_MAXAGE (36 * 3600)

/* One target's state, from the journal. */
#define TARGET_PENDING 0
#define TARGET_DONE 1
#define TARGET_FAILED 2

typedef struct qrecord_s qrecord ;
struct qrecord_s
{
  size_t target ;   /* offset in qfile.strings: target ("u", "|", "/", "r" + value) */
  size_t text ;     /* offset in qfile.strings: reason, for FAILED and last deferral */
  unsigned char state ;
  unsigned char hastext ;
} ;

typedef struct qfile_s qfile ;
struct qfile_s
{
  uint64_t messlen ;   /* message bytes after the header */
  uint64_t uid ;
  uint64_t arrival ;   /* t: last override wins */
  uint64_t warned ;    /* w: last warning time, 0 = none */
  uint64_t removed_by ; /* x: uid + 1, 0 = not removed */
  uint64_t held_by ;   /* h: uid + 1 while held by mm-qctl -h, 0 = not held */
  unsigned char released ; /* H: released by mm-qctl -H (also from -odq's hold) */
  off_t envstart ;     /* offset of the envelope */
  off_t journalend ;   /* offset just past the last complete journal line */
  size_t sender ;      /* offset in strings */
  size_t host ;        /* offset in strings, or SIZE_MAX */
  size_t key ;         /* offset in strings: the message's unique name, or SIZE_MAX */
  size_t flags ;       /* offset in strings ("" when none) */
  genalloc rcpts ;     /* size_t offsets in strings, one per recipient */
  genalloc records ;   /* qrecord: journal state per target, in order seen */
  stralloc strings ;   /* NUL-terminated strings */
} ;
#define QFILE_ZERO { .messlen = 0, .uid = 0, .arrival = 0, .warned = 0, .removed_by = 0, .held_by = 0, .released = 0, .envstart = 0, .journalend = 0, .sender = 0, .host = (size_t)-1, .key = (size_t)-1, .flags = 0, .rcpts = GENALLOC_ZERO, .records = GENALLOC_ZERO, .strings = STRALLOC_ZERO }

/* Read and parse the whole envelope and journal of an open queue file.
   1 ok, 0 malformed (errno EPROTO), -1 I/O error. */
extern int qfile_read (int fd, qfile *q) ;
extern void qfile_free (qfile *q) ;

#define qfile_str(q, off) ((q)->strings.s + (off))
#define qfile_nrcpts(q) genalloc_len(size_t, &(q)->rcpts)
#define qfile_rcpt(q, i) qfile_str(q, genalloc_s(size_t, &(q)->rcpts)[i])
extern int qfile_hasflag (qfile const *q, char flag) ;
/* The record for a target, or NULL. */
extern qrecord *qfile_record (qfile const *q, char const *target) ;

/* Append one journal line ("d" + target, etc., without the newline)
   with O_APPEND, so that concurrent appenders never overwrite each
   other; a torn last line (a crash mid-append) is closed off first.
   sync: fdatasync after. 1 ok, 0 error (errno set). */
extern int qfile_append (int fd, qfile *q, char kind, char const *a, char const *b, int sync) ;
/* The same for a file that was not read with qfile_read. */
extern int qfile_append_fd (int fd, char kind, char const *a, char const *b, int sync) ;

/* When a message that arrived at arrival and was deferred is tried
   again after now: qmail's schedule, (QUEUE_RETRY_STEP*k)^2 seconds
   after arrival (mm-send schedules by it, mm-qctl shows it). */
#define QUEUE_RETRY_STEP 10
extern uint64_t qfile_next_retry (uint64_t arrival, uint64_t now) ;

/* Header line for a message of len bytes, MESS_HEADER_LEN bytes. */
extern void qfile_header (char *s, uint64_t len) ;
/* Parse that header. 1 ok, 0 malformed. */
extern int qfile_header_scan (char const *s, uint64_t *len) ;

#endif
