/* mm-send: the queue manager, as the send user. Finds new messages,
   expands aliases, hands local deliveries to mm-lspawn, records each
   result in the message's journal, retries, warns, bounces, and removes
   finished messages. Runs as a daemon (under mm-start) or, with -1, as
   one queue pass. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/ancil.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sgetopt.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "address.h"
#include "alias.h"
#include "control.h"
#include "flushwake.h"
#include "home.h"
#include "privs.h"
#include "logstamp.h"
#include "usage.h"
#include "queuefile.h"
#include "report.h"
#include "qdoor.h"
#include "rfc822.h"
#include "route.h"
#include "statefile.h"
#include "trigger.h"
#include "users.h"

#define USAGE "mm-send [ -1 [ -o route ] ]"
#define dieusage() strerr_dieusage(EX_USAGE, USAGE)

#define LSPAWN_OUT 5   /* requests to mm-lspawn (INTERNALS 5) */
#define LSPAWN_IN 6    /* results from mm-lspawn */
#define WARNINGS_DEFAULT "1h 4h 8h 1d 2d 3d"
#define LIFETIME_DEFAULT (5 * 86400)
#define CONCURRENCY_DEFAULT 10
#define BOUNCEMAX_DEFAULT 100000
#define WARNINGS_MAX 16
#define ACTIVE_MAX 200          /* messages open at once; the rest wait in the table */
#define CONN_MAX 64             /* mm-remote processes at most */
#define CONCURRENCY_REMOTE_DEFAULT 10
#define ROUTES_MAX 32           /* a bit per route in a target's tried set */
#define FROM_HEADER_MAX 65536   /* how much of a header we read for From: */
#define MESS_RESCAN_INTERVAL 900 /* seconds between looks for messages without a todo/ link */
#define BOUNCE_RETRY 60         /* seconds before a bounce that could not be queued is tried again */

/* Every message the queue holds, in memory: a few words each. */
typedef struct msg_s msg ;
struct msg_s
{
  uint64_t id ;
  uint64_t due ;        /* next time to look at it; 0 = now */
  uint32_t job ;        /* index + 1 in jobs while active, else 0 */
  unsigned char isnew ; /* not yet logged */
  unsigned char released ; /* a queue run let a held message go */
} ;

/* A target of an active message. */
typedef struct target_s target ;
struct target_s
{
  size_t name ;         /* offset in job strings: "u..", "|..", "/..", "r.." */
  size_t rcpt ;         /* offset in job strings: the recipient it came from */
  size_t error ;        /* expansion error text, or (size_t)-1 */
  size_t reason ;       /* the latest failure or deferral text, or (size_t)-1 */
  unsigned char state ; /* TARGET_PENDING, DONE, FAILED */
  unsigned char inflight ;
  unsigned char deferred ; /* a temporary failure this round */
  unsigned char conn ;     /* mm-remote connection + 1 while in flight there */
  uint32_t tried ;         /* routes that deferred it this round */
} ;

/* An active message: open, parsed, maybe with deliveries in flight. */
typedef struct job_s job ;
struct job_s
{
  uint64_t id ;
  int fd ;
  int used ;
  unsigned int inflight ;
  qfile q ;
  genalloc targets ;    /* target */
  stralloc strings ;
  stralloc froms ;      /* From: addresses, NUL-separated, read when a route needs them */
  int froms_read ;
  int remote_tried ;    /* a server deferred a remote target: retry on the schedule */
} ;

/* One mm-remote: a route and a destination, many messages. */
typedef struct conn_s conn ;
struct conn_s
{
  int used ;
  unsigned int route ;
  stralloc dest ;       /* "" for a smarthost, else the recipient domain */
  pid_t pid ;
  int reqfd ;           /* -1 once closed: no more messages for it */
  int resfd ;
  stralloc in ;
} ;

/* Progress of a route's flush, for mm-online --wait. */
typedef struct flush_s flush ;
struct flush_s
{
  int active ;
  unsigned int total, sent, deferred, failed ;
  char last[128] ;      /* the text last written for this flush */
  size_t lastlen ;
} ;

static genalloc msgs = GENALLOC_ZERO ;   /* msg */
static job jobs[ACTIVE_MAX] ;
static unsigned int njobs = 0 ;
static genalloc deliveries = GENALLOC_ZERO ;  /* uint32_t: (job index << 16 | target) + 1 */
static unsigned int inflight = 0 ;       /* local deliveries in flight */
static unsigned int rinflight = 0 ;      /* remote targets in flight */
static unsigned long concurrencyremote = CONCURRENCY_REMOTE_DEFAULT ;
static genalloc routes = GENALLOC_ZERO ;  /* route */
static int online[ROUTES_MAX] ;
static flush flushes[ROUTES_MAX] ;
static conn conns[CONN_MAX] ;
static unsigned int nconns = 0 ;
static char const *onlyroute = 0 ;       /* -o NAME: one pass through that route alone */
static int online_changed = 0 ;
static int flush_all = 0 ;               /* start a flush report for every route up */
static unsigned long concurrency = CONCURRENCY_DEFAULT ;
static unsigned long lifetime = LIFETIME_DEFAULT ;
static unsigned long bouncemax = BOUNCEMAX_DEFAULT ;
static unsigned long warnings[WARNINGS_MAX] ;
static unsigned int nwarnings = 0 ;
static aliasdb aliases = ALIASDB_ZERO ;
static struct timespec aliases_mtime ;
static int aliases_loaded = 0 ;
static int oneshot = 0 ;
static int stopping = 0 ;
static int queuerun = 0 ;
static int mess_rescan = 0 ;              /* look for messages without a todo/ link */
static uint64_t mess_rescan_next = 0 ;    /* and periodically */
static uint64_t now = 0 ;
static genalloc unlinks = GENALLOC_ZERO ;  /* uint64_t ids to remove, fsync batched */
static int unlinks_sync = 0 ;  /* one of them sent a report: its removal must be durable */
static int unlinks_unsynced = 0 ;  /* removals since the last fsync of queue/mess */
static buffer lsout ;
static char lsoutbuf[8192] ;
static stralloc lsin = STRALLOC_ZERO ;
static pid_t lspawn_pid = 0 ;

/* One log line on stderr: "mm-send: " and the pieces, up to a null. */
static void log_line (char const *s, ...)
{
  va_list ap ;
  va_start(ap, s) ;
  buffer_puts(buffer_2, "mm-send: ") ;
  for (; s ; s = va_arg(ap, char const *)) buffer_puts(buffer_2, s) ;
  buffer_putflush(buffer_2, "\n", 1) ;
  va_end(ap) ;
}
#define logl(...) log_line(__VA_ARGS__, (char const *)0)

static char const *u64 (uint64_t u)
{
  static char buf[4][UINT64_FMT] ;
  static unsigned int k = 0 ;
  k = (k + 1) & 3 ;
  buf[k][uint64_fmt(buf[k], u)] = 0 ;
  return buf[k] ;
}

static void dienomem (void)
{
  strerr_diefu1sys(EX_TEMPFAIL, "allocate memory") ;
}

/* ---- configuration ---- */

static void read_control (void)
{
  stralloc sa = STRALLOC_ZERO ;
  size_t i = 0 ;
  if (control_readulong(&concurrency, "control/concurrencylocal", CONCURRENCY_DEFAULT) < 0)
    strerr_diefu1sys(EX_CONFIG, "read control/concurrencylocal") ;
  if (!concurrency) concurrency = 1 ;
  if (concurrency > 1000) concurrency = 1000 ;
  if (control_readulong(&concurrencyremote, "control/concurrencyremote", CONCURRENCY_REMOTE_DEFAULT) < 0)
    strerr_diefu1sys(EX_CONFIG, "read control/concurrencyremote") ;
  if (!concurrencyremote) concurrencyremote = 1 ;
  if (concurrencyremote > CONN_MAX) concurrencyremote = CONN_MAX ;
  if (control_readulong(&bouncemax, "control/bouncemaxbytes", BOUNCEMAX_DEFAULT) < 0)
    strerr_diefu1sys(EX_CONFIG, "read control/bouncemaxbytes") ;
  if (control_readline(&sa, "control/queuelifetime", 0) < 0)
    strerr_diefu1sys(EX_CONFIG, "read control/queuelifetime") ;
  if (sa.len && !duration_scan(sa.s, &lifetime))
    strerr_dief2x(EX_CONFIG, "control/queuelifetime: not a duration: ", sa.s) ;
  if (control_readline(&sa, "control/warnings", WARNINGS_DEFAULT) < 0)
    strerr_diefu1sys(EX_CONFIG, "read control/warnings") ;
  nwarnings = 0 ;
  while (i < sa.len && nwarnings < WARNINGS_MAX)
  {
    size_t j ;
    while (i < sa.len && (sa.s[i] == ' ' || sa.s[i] == '\t' || sa.s[i] == ',')) i++ ;
    for (j = i ; j < sa.len && sa.s[j] != ' ' && sa.s[j] != '\t' && sa.s[j] != ',' ; j++) ;
    if (j > i)
    {
      char c = sa.s[j] ;
      sa.s[j] = 0 ;
      if (!duration_scan(sa.s + i, &warnings[nwarnings]))
        strerr_dief2x(EX_CONFIG, "control/warnings: not a duration: ", sa.s + i) ;
      sa.s[j] = c ;
      nwarnings++ ;
    }
    i = j ;
  }
  stralloc_free(&sa) ;
  {
    /* a control file that exists but cannot be read is never a default */
    char const *failed ;
    if (control_names_load(&failed) < 0) strerr_diefu2sys(EX_TEMPFAIL, "read ", failed) ;
    if (control_locals_load() < 0) strerr_diefu1sys(EX_TEMPFAIL, "read control/locals") ;
  }
}

/* The alias file is read at delivery time: reloaded whenever it changed. */
static int load_aliases (void)
{
  struct stat st ;
  unsigned int line = 0 ;
  char const *why = "" ;
  if (stat("control/aliases", &st) < 0)
  {
    if (errno != ENOENT) return 0 ;
    st.st_mtim.tv_sec = 0 ; st.st_mtim.tv_nsec = 0 ;
  }
  if (aliases_loaded && st.st_mtim.tv_sec == aliases_mtime.tv_sec && st.st_mtim.tv_nsec == aliases_mtime.tv_nsec) return 1 ;
  aliasdb_free(&aliases) ;
  {
    aliasdb zero = ALIASDB_ZERO ;
    aliases = zero ;
  }
  switch (aliasdb_load(&aliases, "control/aliases", &line, &why))
  {
    case 1 : break ;
    case 0 :
      logl("alert: control/aliases line ", u64(line), ": ", why) ;
      aliases_loaded = 0 ;
      return 0 ;
    default :
      logl("alert: unable to read control/aliases: ", strerror(errno)) ;
      aliases_loaded = 0 ;
      return 0 ;
  }
  aliases_mtime = st.st_mtim ;
  aliases_loaded = 1 ;
  return 1 ;
}

/* ---- the message table ---- */

static msg *msg_find (uint64_t id)
{
  msg *m = genalloc_s(msg, &msgs) ;
  size_t n = genalloc_len(msg, &msgs) ;
  for (size_t i = 0 ; i < n ; i++) if (m[i].id == id) return m + i ;
  return 0 ;
}

static msg *msg_add (uint64_t id, int isnew)
{
  msg *m = msg_find(id) ;
  if (m) { m->due = 0 ; return m ; }
  {
    msg x = { .id = id, .due = 0, .job = 0, .isnew = !!isnew, .released = 0 } ;
    if (!genalloc_append(msg, &msgs, &x)) dienomem() ;
  }
  return genalloc_s(msg, &msgs) + genalloc_len(msg, &msgs) - 1 ;
}

static void msg_remove (uint64_t id)
{
  msg *m = genalloc_s(msg, &msgs) ;
  size_t n = genalloc_len(msg, &msgs) ;
  for (size_t i = 0 ; i < n ; i++)
    if (m[i].id == id)
    {
      m[i] = m[n-1] ;
      genalloc_setlen(msg, &msgs, n - 1) ;
      return ;
    }
}

static int scan_id (char const *s, uint64_t *id)
{
  size_t n = uint64_scan(s, id) ;
  return n && !s[n] ;
}

/* New messages announce themselves with a link in todo/; returns how
   many did. */
static unsigned int scan_todo (void)
{
  unsigned int found = 0 ;
  DIR *dir = opendir("queue/todo") ;
  struct dirent *d ;
  char path[48] ;
  if (!dir) { logl("warning: unable to open queue/todo: ", strerror(errno)) ; return 0 ; }
  while ((d = readdir(dir)))
  {
    uint64_t id ;
    if (!scan_id(d->d_name, &id)) continue ;
    memcpy(path, "queue/todo/", 11) ;
    strcpy(path + 11, d->d_name) ;
    unlink(path) ;
    msg_add(id, 1) ;
    found++ ;
  }
  closedir(dir) ;
  return found ;
}

/* Every message in mess/: at start all of them; later (again) only
   those the table lacks, committed without their todo/ link (mm-queue
   killed after the commit, link() failing on a full disk). */
static void scan_mess (int again)
{
  DIR *dir = opendir("queue/mess") ;
  struct dirent *d ;
  if (!dir)
  {
    if (!again) strerr_diefu1sys(EX_TEMPFAIL, "open queue/mess") ;
    logl("warning: unable to open queue/mess: ", strerror(errno)) ;
    return ;
  }
  while ((d = readdir(dir)))
  {
    uint64_t id ;
    if (scan_id(d->d_name, &id) && (!again || !msg_find(id))) msg_add(id, again) ;
  }
  closedir(dir) ;
}

/* Work files of writers that died long ago. */
static void clean_tmp (void)
{
  DIR *dir = opendir("queue/tmp") ;
  struct dirent *d ;
  char path[300] ;
  if (!dir) return ;
  while ((d = readdir(dir)))
  {
    struct stat st ;
    if (d->d_name[0] == '.' || strlen(d->d_name) > 200) continue ;
    memcpy(path, "queue/tmp/", 10) ;
    strcpy(path + 10, d->d_name) ;
    if (stat(path, &st) == 0 && (uint64_t)st.st_mtime + QUEUE_TMP_MAXAGE < now)
    {
      unlink(path) ;
      logl("removed stale work file queue/tmp/", d->d_name) ;
    }
  }
  closedir(dir) ;
}

static void messpath (char *path, uint64_t id)
{
  memcpy(path, "queue/mess/", 11) ;
  path[11 + uint64_fmt(path + 11, id)] = 0 ;
}

/* queue/mess fsynced: the removals so far survive a power loss. */
static void unlinks_durable (void)
{
  int dfd = open("queue/mess", O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  if (dfd < 0 || fsync(dfd) < 0) logl("warning: unable to fsync queue/mess: ", strerror(errno)) ;
  if (dfd >= 0) close(dfd) ;
  unlinks_sync = unlinks_unsynced = 0 ;
}

/* Finished messages leave the queue together: one directory fsync for
   all the unlinks of a loop turn, and none when no report was sent for
   them (nor, until a flush reports done, for a delivered message: see
   flush_write). Every "d" record is on disk before a message is
   finished, so a message whose removal a crash undoes comes back with
   nothing left to do and is removed again; one that bounced would
   bounce twice. */
static void flush_unlinks (void)
{
  size_t n = genalloc_len(uint64_t, &unlinks) ;
  uint64_t *ids = genalloc_s(uint64_t, &unlinks) ;
  char path[48] ;
  if (!n) return ;
  for (size_t i = 0 ; i < n ; i++)
  {
    messpath(path, ids[i]) ;
    if (unlink(path) < 0 && errno != ENOENT) logl("warning: unable to unlink ", path, ": ", strerror(errno)) ;
  }
  unlinks_unsynced = 1 ;
  if (unlinks_sync) unlinks_durable() ;
  for (size_t i = 0 ; i < n ; i++) logl("end msg ", u64(ids[i])) ;
  genalloc_setlen(uint64_t, &unlinks, 0) ;
}

/* ---- targets ---- */

static target *job_targets (job *j) { return genalloc_s(target, &j->targets) ; }
static size_t job_ntargets (job *j) { return genalloc_len(target, &j->targets) ; }
#define JS(j, off) ((j)->strings.s + (off))

static int addstr (stralloc *sa, char const *s, size_t len, size_t *off)
{
  *off = sa->len ;
  return stralloc_catb(sa, s, len) && stralloc_0(sa) ;
}

static int target_add (job *j, char const *name, size_t rcpt, char const *error)
{
  target t = { .error = (size_t)-1, .reason = (size_t)-1, .state = TARGET_PENDING, .inflight = 0, .deferred = 0 } ;
  size_t n = job_ntargets(j) ;
  for (size_t i = 0 ; i < n ; i++)
    if (!strcmp(JS(j, job_targets(j)[i].name), name)) return 1 ;
  if (!addstr(&j->strings, name, strlen(name), &t.name)) return 0 ;
  t.rcpt = rcpt ;
  if (error && !addstr(&j->strings, error, strlen(error), &t.error)) return 0 ;
  return genalloc_append(target, &j->targets, &t) ;
}

/* Recipients to targets: aliases for local domains, remote as they are. */
static int expand (job *j)
{
  unsigned int n = qfile_nrcpts(&j->q) ;
  genalloc res = GENALLOC_ZERO ;
  stralloc rs = STRALLOC_ZERO ;
  stralloc lp = STRALLOC_ZERO ;
  int ok = 1, local ;
  for (unsigned int i = 0 ; i < n && ok ; i++)
  {
    char const *r = qfile_rcpt(&j->q, i) ;
    size_t len = strlen(r), at = address_at(r, len) ;
    size_t rcpt ;
    if (!addstr(&j->strings, r, len, &rcpt)) { ok = 0 ; break ; }
    local = at < len ? control_islocal(r + at + 1, len - at - 1) : 0 ;
    if (local < 0) { ok = 0 ; break ; }  /* control/locals unreadable: defer */
    if (local)
    {
      genalloc_setlen(aliasresult, &res, 0) ;
      rs.len = 0 ; lp.len = 0 ;
      if (!stralloc_catb(&lp, r, at) || !stralloc_0(&lp)) { ok = 0 ; break ; }
      if (!aliases_loaded) { errno = EINVAL ; ok = 0 ; break ; }  /* a broken alias file defers local mail */
      if (alias_expand(&aliases, lp.s, &users_exists, &res, &rs) < 0) { ok = 0 ; break ; }
      for (size_t k = 0 ; k < genalloc_len(aliasresult, &res) ; k++)
      {
        aliasresult const *a = genalloc_s(aliasresult, &res) + k ;
        if (!target_add(j, rs.s + a->target, rcpt, a->error == (size_t)-1 ? 0 : rs.s + a->error)) { ok = 0 ; break ; }
      }
    }
    else
    {
      stralloc t = STRALLOC_ZERO ;
      ok = stralloc_catb(&t, "r", 1) && stralloc_catb(&t, r, len) && stralloc_0(&t) && target_add(j, t.s, rcpt, 0) ;
      stralloc_free(&t) ;
    }
  }
  genalloc_free(aliasresult, &res) ;
  stralloc_free(&rs) ;
  stralloc_free(&lp) ;
  if (!ok) return 0 ;
  /* what the journal already knows */
  for (size_t i = 0 ; i < job_ntargets(j) ; i++)
  {
    target *t = job_targets(j) + i ;
    qrecord const *r = qfile_record(&j->q, JS(j, t->name)) ;
    if (r) t->state = r->state ;
  }
  return 1 ;
}

/* ---- jobs ---- */

static void job_close (job *j)
{
  if (j->fd >= 0) close(j->fd) ;
  qfile_free(&j->q) ;
  genalloc_free(target, &j->targets) ;
  stralloc_free(&j->strings) ;
  stralloc_free(&j->froms) ;
  j->used = 0 ;
  njobs-- ;
}

static uint64_t arrival (job *j) { return j->q.arrival ; }

/* qmail's schedule (queuefile.c, which mm-qctl shows too). */
static uint64_t next_retry (uint64_t birth)
{
  return qfile_next_retry(birth, now) ;
}

/* The next warning time after the last one sent, or 0. */
static uint64_t next_warning (job *j)
{
  for (unsigned int i = 0 ; i < nwarnings ; i++)
  {
    uint64_t t = arrival(j) + warnings[i] ;
    if (t < arrival(j) + lifetime && j->q.warned < t) return t ;
  }
  return 0 ;
}

static int wants_reports (job *j)
{
  return *qfile_str(&j->q, j->q.sender) && !qfile_hasflag(&j->q, 'b') && !qfile_hasflag(&j->q, '2') && !qfile_hasflag(&j->q, 'w') ;
}

/* Append a journal record; a failure to record is logged, and the
   message is retried later rather than lost. */
static int journal (job *j, char kind, char const *a, char const *b, int sync)
{
  if (qfile_append(j->fd, &j->q, kind, a, b, sync)) return 1 ;
  logl("warning: msg ", u64(j->id), ": unable to write journal: ", strerror(errno)) ;
  return 0 ;
}

/* Remember why a target failed or waits, for the report. */
static void target_reason (job *j, size_t i, char const *text)
{
  size_t off ;
  /* text may live in j->strings itself, which addstr may move */
  if (text >= j->strings.s && text < j->strings.s + j->strings.len)
  {
    job_targets(j)[i].reason = text - j->strings.s ;
    return ;
  }
  if (addstr(&j->strings, text, strlen(text), &off)) job_targets(j)[i].reason = off ;
}

/* A target failed for good: journal first, then believe it. */
static int target_fail (job *j, size_t i, char const *text)
{
  if (!journal(j, 'b', JS(j, job_targets(j)[i].name), text, 1)) { job_targets(j)[i].deferred = 1 ; return 0 ; }
  job_targets(j)[i].state = TARGET_FAILED ;
  target_reason(j, i, text) ;
  return 1 ;
}

/* mm-send queued a message itself (a bounce, a warning): look at todo/
   before the next round, so that a one-shot pass delivers it too,
   without waiting for the trigger it does not have. */
static int queued_own = 0 ;

/* 1 when the report is committed to the queue, 0 when it could not be. */
static int send_report (job *j, int final)
{
  report r ;
  target *t = job_targets(j) ;
  size_t n = job_ntargets(j) ;
  char id[24] ;
  int code ;
  report_init(&r, j->fd, &j->q, final) ;
  for (size_t i = 0 ; i < n ; i++)
  {
    qrecord const *rec = qfile_record(&j->q, JS(j, t[i].name)) ;
    char const *text = t[i].reason != (size_t)-1 ? JS(j, t[i].reason) : rec && rec->hastext ? qfile_str(&j->q, rec->text) : 0 ;
    if (final && t[i].state == TARGET_FAILED)
      report_add(&r, JS(j, t[i].rcpt), JS(j, t[i].name), text ? text : "5.0.0 delivery failed", 1) ;
    else if (!final && t[i].state == TARGET_PENDING)
      report_add(&r, JS(j, t[i].rcpt), JS(j, t[i].name), text ? text : (JS(j, t[i].name)[0] == 'r' ? "4.4.1 waiting for a connection to the outside" : "4.0.0 delivery deferred"), 0) ;
  }
  code = report_send(&r, bouncemax, id) ;
  if (code)
  {
    logl("warning: msg ", u64(j->id), ": unable to queue report: ", report_strerror(code)) ;
    report_free(&r) ;
    return 0 ;
  }
  queued_own = 1 ;
  if (final) logl("msg ", u64(j->id), ": bounce msg ", id, " queued to ", report_recipient(&r)) ;
  else logl("msg ", u64(j->id), ": warning msg ", id, " queued to ", report_recipient(&r)) ;
  report_free(&r) ;
  return 1 ;
}

/* Nothing in flight: decide what happens next to the message. */
static void job_settle (job *j, msg *m)
{
  target *t = job_targets(j) ;
  size_t n = job_ntargets(j) ;
  int pending = 0, failed = 0, localpending = 0, remotepending = 0 ;
  uint64_t due = 0, w ;
  for (size_t i = 0 ; i < n ; i++)
  {
    if (t[i].state == TARGET_PENDING)
    {
      pending++ ;
      if (JS(j, t[i].name)[0] == 'r') remotepending++ ; else localpending++ ;
    }
    else if (t[i].state == TARGET_FAILED) failed++ ;
  }
  if (pending && now >= arrival(j) + lifetime)
  {
    /* too old: every pending target fails now */
    for (size_t i = 0 ; i < n ; i++)
      if (t[i].state == TARGET_PENDING)
      {
        qrecord const *rec = qfile_record(&j->q, JS(j, t[i].name)) ;
        stralloc why = STRALLOC_ZERO ;
        uint64_t age = now - arrival(j) ;
        int ok = stralloc_cats(&why, "5.4.7 message expired after ")
          && stralloc_cats(&why, u64(age >= 2 * 86400 ? age / 86400 : age / 3600)) && stralloc_cats(&why, age >= 2 * 86400 ? " days in the queue: " : " hours in the queue: ")
          && stralloc_cats(&why, rec && rec->hastext ? qfile_str(&j->q, rec->text) : (JS(j, t[i].name)[0] == 'r' ? "waiting for a connection to the outside" : "no delivery possible"))
          && stralloc_0(&why) ;
        if (!ok || !target_fail(j, i, why.s)) { stralloc_free(&why) ; m->due = now + 60 ; return ; }
        t = job_targets(j) ;
        logl("msg ", u64(j->id), ": expired: ", JS(j, t[i].rcpt), ": ", why.s) ;
        stralloc_free(&why) ;
        failed++ ;
      }
    pending = 0 ;
  }
  if (!pending)
  {
    if (failed)
    {
      /* the message goes only once its bounce is committed: a bounce
         that cannot be queued (a full disk) is tried again later */
      if (*qfile_str(&j->q, j->q.sender) || !qfile_hasflag(&j->q, '2'))
      {
        if (!send_report(j, 1)) { m->due = now + BOUNCE_RETRY ; return ; }
      }
      else logl("msg ", u64(j->id), ": double bounce failed, dropped") ;
      unlinks_sync = 1 ;
    }
    if (!genalloc_append(uint64_t, &unlinks, &j->id)) dienomem() ;
    m->due = (uint64_t)-1 ;
    return ;
  }
  w = next_warning(j) ;
  if (w && w <= now)
  {
    if (wants_reports(j)) send_report(j, 0) ;
    {
      char num[UINT64_FMT] ;
      num[uint64_fmt(num, now)] = 0 ;
      journal(j, 'w', num, 0, 0) ;
      j->q.warned = now ;
    }
    w = next_warning(j) ;
  }
  due = arrival(j) + lifetime ;
  if (w && w < due) due = w ;
  if (localpending || (remotepending && j->remote_tried))
  {
    uint64_t r = next_retry(arrival(j)) ;
    if (r < due) due = r ;
  }
  m->due = due ;
}

static void job_finish (job *j)
{
  msg *m = msg_find(j->id) ;
  if (m)
  {
    job_settle(j, m) ;
    m->job = 0 ;
    if (m->due == (uint64_t)-1) msg_remove(j->id) ;
  }
  job_close(j) ;
}

/* ---- talking to mm-lspawn ---- */

static void lspawn_request (job *j, size_t ti)
{
  target *t = job_targets(j) + ti ;
  char const *name = JS(j, t->name) ;
  char const *user, *tg ;
  uint32_t dn ;
  size_t slot ;
  stralloc req = STRALLOC_ZERO ;
  uint32_t code = ((uint32_t)(j - jobs) << 16 | (uint32_t)ti) + 1 ;
  /* a free delivery number */
  for (slot = 0 ; slot < genalloc_len(uint32_t, &deliveries) ; slot++)
    if (!genalloc_s(uint32_t, &deliveries)[slot]) break ;
  if (slot == genalloc_len(uint32_t, &deliveries))
  {
    uint32_t zero = 0 ;
    if (!genalloc_append(uint32_t, &deliveries, &zero)) dienomem() ;
  }
  genalloc_s(uint32_t, &deliveries)[slot] = code ;
  dn = slot + 1 ;
  if (name[0] == 'u') { user = name + 1 ; tg = "" ; }
  else { user = "" ; tg = name ; }  /* alias pipes and files: mm-lspawn runs them as the alias user */
  if (!stralloc_cats(&req, u64(dn)) || !stralloc_0(&req)
   || !stralloc_cats(&req, u64(j->id)) || !stralloc_0(&req)
   || !stralloc_cats(&req, user) || !stralloc_0(&req)
   || !stralloc_cats(&req, JS(j, t->rcpt)) || !stralloc_0(&req)
   || !stralloc_cats(&req, qfile_str(&j->q, j->q.sender)) || !stralloc_0(&req)
   || !stralloc_cats(&req, tg) || !stralloc_0(&req)) dienomem() ;
  if (buffer_put(&lsout, req.s, req.len) < 0 || !buffer_flush(&lsout))
    strerr_diefu1sys(EX_TEMPFAIL, "write to mm-lspawn") ;
  stralloc_free(&req) ;
  t->inflight = 1 ;
  j->inflight++ ;
  inflight++ ;
  logl("starting delivery ", u64(dn), ": msg ", u64(j->id), " to local ", name[0] == 'u' ? name + 1 : name, " for ", JS(j, t->rcpt)) ;
}

static void lspawn_result (char const *s, size_t len)
{
  uint64_t dn ;
  size_t n = uint64_scan(s, &dn) ;
  uint32_t code ;
  job *j ;
  target *t ;
  char kind ;
  char const *text ;
  if (!n || s[n] || n + 2 > len || !dn || dn > genalloc_len(uint32_t, &deliveries)
   || !(code = genalloc_s(uint32_t, &deliveries)[dn-1]))
  {
    logl("warning: garbled result from mm-lspawn") ;
    return ;
  }
  genalloc_s(uint32_t, &deliveries)[dn-1] = 0 ;
  code-- ;
  j = jobs + (code >> 16) ;
  t = job_targets(j) + (code & 0xffff) ;
  kind = s[n+1] ;
  text = s + n + 2 ;
  t->inflight = 0 ;
  j->inflight-- ;
  inflight-- ;
  switch (kind)
  {
    case 'K' :
      logl("delivery ", u64(dn), ": success: ", text) ;
      t->state = TARGET_DONE ;
      /* mm-lspawn has recorded it in the journal, fsynced, before
         telling us: nothing to write here */
      break ;
    case 'D' :
      logl("delivery ", u64(dn), ": failure: ", text) ;
      target_fail(j, t - job_targets(j), text) ;
      break ;
    default :
      logl("delivery ", u64(dn), ": deferral: ", text) ;
      journal(j, 'z', JS(j, t->name), text, 0) ;
      t->deferred = 1 ;
      target_reason(j, t - job_targets(j), text) ;
      break ;
  }
  if (!j->inflight) job_finish(j) ;
}

static void lspawn_read (void)
{
  char buf[4096] ;
  ssize_t r = read(LSPAWN_IN, buf, sizeof buf) ;
  size_t start = 0, i, zeros = 0 ;
  if (r < 0) { if (errno == EINTR || errno == EAGAIN) return ; strerr_diefu1sys(EX_TEMPFAIL, "read from mm-lspawn") ; }
  if (!r) strerr_dief1x(EX_TEMPFAIL, "mm-lspawn died") ;
  if (!stralloc_catb(&lsin, buf, r)) dienomem() ;
  /* records are two NUL-terminated fields */
  for (i = 0 ; i < lsin.len ; i++)
    if (!lsin.s[i] && ++zeros == 2)
    {
      lspawn_result(lsin.s + start, i - start) ;
      start = i + 1 ;
      zeros = 0 ;
    }
  memmove(lsin.s, lsin.s + start, lsin.len - start) ;
  lsin.len -= start ;
}

/* mm-send -1 has no mm-start: it starts its own mm-lspawn. */
static void lspawn_start (void)
{
  int req[2], res[2] ;
  stralloc path = STRALLOC_ZERO ;
  if (!mm_path(&path, "bin/mm-lspawn")) dienomem() ;
  if (pipe(req) < 0 || pipe(res) < 0) strerr_diefu1sys(EX_TEMPFAIL, "create pipes") ;
  lspawn_pid = fork() ;
  if (lspawn_pid < 0) strerr_diefu1sys(EX_TEMPFAIL, "fork") ;
  if (!lspawn_pid)
  {
    char const *argv[2] = { "mm-lspawn", 0 } ;
    close(req[1]) ; close(res[0]) ;
    if (fd_move2(0, req[0], 1, res[1]) < 0) _exit(EX_TEMPFAIL) ;
    execv(path.s, (char *const *)argv) ;
    strerr_diefu2sys(EX_TEMPFAIL, "exec ", path.s) ;
  }
  close(req[0]) ; close(res[1]) ;
  if (fd_move2(LSPAWN_OUT, req[1], LSPAWN_IN, res[0]) < 0) strerr_diefu1sys(EX_TEMPFAIL, "move descriptors") ;
  stralloc_free(&path) ;
}

/* ---- routes and mm-remote ---- */

static route *route_at (unsigned int k) { return genalloc_s(route, &routes) + k ; }
static unsigned int nroutes (void) { return genalloc_len(route, &routes) ; }

static void routes_reload (void)
{
  char const *why = "" ;
  routes_free(&routes) ;
  switch (routes_load(&routes, &why))
  {
    case 1 : break ;
    case 0 : logl("alert: control/routes: ", why) ; break ;
    default : logl("alert: unable to read control/routes: ", strerror(errno)) ; break ;
  }
  for (unsigned int k = 0 ; k < nroutes() ; k++)
    if (route_at(k)->broken) logl("alert: ", route_at(k)->why.s, ": the route carries nothing until it is fixed (mm-check shows it)") ;
  if (nroutes() > ROUTES_MAX)
  {
    logl("warning: only the first routes are used: at most ", u64(ROUTES_MAX)) ;
    genalloc_setlen(route, &routes, ROUTES_MAX) ;
  }
}

static void online_refresh (void)
{
  for (unsigned int k = 0 ; k < nroutes() ; k++)
  {
    route const *r = route_at(k) ;
    int up = onlyroute ? !strcmp(r->name.s, onlyroute) : route_isonline(r) ;
    if (up && !online[k] && !r->permanent && !flushes[k].active)
    {
      flush zero = { .active = 1 } ;
      flushes[k] = zero ;
    }
    online[k] = up ;
  }
}

/* The addresses of the From: field, for the routes' From filters. */
static void job_froms (job *j)
{
  char buf[FROM_HEADER_MAX] ;
  size_t len = j->q.messlen < sizeof buf ? j->q.messlen : sizeof buf ;
  ssize_t r ;
  size_t i = 0 ;
  j->froms_read = 1 ;
  r = pread(j->fd, buf, len, MESS_HEADER_LEN) ;
  if (r <= 0) return ;
  len = r ;
  while (i < len && buf[i] != '\n')
  {
    size_t end = i ;
    /* a field: its line and the continuation lines after it */
    for (;;)
    {
      char *nl = memchr(buf + end, '\n', len - end) ;
      if (!nl) { end = len ; break ; }
      end = nl - buf + 1 ;
      if (end >= len || (buf[end] != ' ' && buf[end] != '\t')) break ;
    }
    if (rfc822_is_field(buf + i, end - i, "from"))
    {
      char const *colon = memchr(buf + i, ':', end - i) ;
      if (colon) rfc822_addresses(colon + 1, buf + end - colon - 1, 0, &j->froms) ;
      return ;
    }
    i = end ;
  }
}

static int choose_route (job *j, target const *t)
{
  char const *rcpt = JS(j, t->name) + 1 ;
  char const *sender = qfile_str(&j->q, j->q.sender) ;
  for (unsigned int k = 0 ; k < nroutes() ; k++)
  {
    route const *r = route_at(k) ;
    if (!online[k] || (t->tried & (1u << k))) continue ;
    if (!route_serves(r, rcpt) || !route_allows_sender(r, sender)) continue ;
    if (r->has_allowfrom || r->denyfrom.len)
    {
      if (!j->froms_read) job_froms(j) ;
      if (!route_allows_from(r, j->froms.s ? j->froms.s : "", j->froms.len)) continue ;
    }
    return k ;
  }
  return -1 ;
}

/* The progress of route k's flush, for mm-online --wait (INTERNALS 8.2).
   "done 1" is written as soon as the route's last mm-remote closed its
   results (before its QUIT) and every result is recorded: the d records
   are fsynced as they come, and the finished messages are unlinked
   first, so that the queue --wait leaves behind holds nothing it
   reported sent. Each new text is followed by a poke of the wake-up
   fifo; a text that did not change is not written again. */
static void flush_write (unsigned int k)
{
  flush *f = flushes + k ;
  stralloc path = STRALLOC_ZERO, tmp = STRALLOC_ZERO, text = STRALLOC_ZERO ;
  int done = 1 ;
  for (unsigned int c = 0 ; c < CONN_MAX ; c++) if (conns[c].used && conns[c].route == k) done = 0 ;
  for (size_t i = 0 ; done && i < genalloc_len(msg, &msgs) ; i++)
    if (genalloc_s(msg, &msgs)[i].due <= now || genalloc_s(msg, &msgs)[i].job) done = 0 ;
  if (done)
  {
    /* a message reported sent is gone for good, power loss included */
    flush_unlinks() ;
    if (unlinks_unsynced) unlinks_durable() ;
    /* logged first: its stamp is not later than the report */
    logl("flush ", route_at(k)->name.s, " done: ", u64(f->sent), " sent, ", u64(f->deferred), " deferred, ", u64(f->failed), " failed") ;
  }
  if (stralloc_cats(&path, FLUSH_DIR "/") && stralloc_cats(&path, route_at(k)->name.s) && stralloc_0(&path)
   && stralloc_copy(&tmp, &path) && (tmp.len--, stralloc_cats(&tmp, ".tmp")) && stralloc_0(&tmp)
   && stralloc_cats(&text, "total ") && stralloc_cats(&text, u64(f->total))
   && stralloc_cats(&text, " sent ") && stralloc_cats(&text, u64(f->sent))
   && stralloc_cats(&text, " deferred ") && stralloc_cats(&text, u64(f->deferred))
   && stralloc_cats(&text, " failed ") && stralloc_cats(&text, u64(f->failed))
   && stralloc_cats(&text, done ? " done 1\n" : " done 0\n")
   && (text.len != f->lastlen || memcmp(text.s, f->last, text.len)))
  {
    /* progress only: no fsync, a crash just loses the display; a new
       file, never through a link (statefile.h) */
    if (statefile_write(FLUSH_DIR, path.s, tmp.s, text.s, text.len, 0644, 0))
    {
      flushwake_poke() ;
      f->lastlen = text.len <= sizeof f->last ? text.len : 0 ;
      memcpy(f->last, text.s, f->lastlen) ;
    }
    else if (errno != ENOENT) logl("warning: unable to write ", path.s, ": ", strerror(errno)) ;
  }
  if (done) f->active = 0 ;
  stralloc_free(&path) ; stralloc_free(&tmp) ; stralloc_free(&text) ;
}

static int conn_get (unsigned int k, char const *dest, size_t destlen)
{
  unsigned int i ;
  int req[2], res[2] ;
  conn *c = 0 ;
  for (i = 0 ; i < CONN_MAX ; i++)
    if (conns[i].used && conns[i].reqfd >= 0 && conns[i].route == k
     && conns[i].dest.len == destlen + 1 && !strncasecmp(conns[i].dest.s, dest, destlen))
      return i ;
  if (nconns >= concurrencyremote) return -1 ;
  for (i = 0 ; i < CONN_MAX ; i++) if (!conns[i].used) { c = conns + i ; break ; }
  if (!c) return -1 ;
  /* requests go over a socket: each carries its queue file, so that
     mm-remote needs no access to the queue */
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, req) < 0) return -1 ;
  if (pipe(res) < 0) { close(req[0]) ; close(req[1]) ; return -1 ; }
  c->dest.len = 0 ;
  if (!stralloc_catb(&c->dest, dest, destlen) || !stralloc_0(&c->dest)) dienomem() ;
  c->pid = fork() ;
  if (c->pid < 0)
  {
    close(req[0]) ; close(req[1]) ; close(res[0]) ; close(res[1]) ;
    return -1 ;
  }
  if (!c->pid)
  {
    stralloc path = STRALLOC_ZERO ;
    char const *argv[4] = { "mm-remote", route_at(k)->name.s, *c->dest.s ? c->dest.s : route_at(k)->smarthost.s, 0 } ;
    close(req[1]) ; close(res[0]) ;
    if (fd_move2(0, req[0], 1, res[1]) < 0) _exit(EX_TEMPFAIL) ;
    if (!mm_path(&path, "bin/mm-remote")) _exit(EX_TEMPFAIL) ;
    execv(path.s, (char *const *)argv) ;
    strerr_diefu2sys(EX_TEMPFAIL, "exec ", path.s) ;
  }
  close(req[0]) ; close(res[1]) ;
  coe(req[1]) ; coe(res[0]) ;
  ndelay_on(res[0]) ;
  c->reqfd = req[1] ; c->resfd = res[0] ;
  c->route = k ;
  c->in.len = 0 ;
  c->used = 1 ;
  nconns++ ;
  logl("starting mm-remote for route ", route_at(k)->name.s, " to ", *c->dest.s ? c->dest.s : route_at(k)->smarthost.s) ;
  return c - conns ;
}

/* Hand every remote target of j assigned to connection ci to it, as one request. */
static void remote_request (job *j, unsigned int ci)
{
  conn *c = conns + ci ;
  stralloc req = STRALLOC_ZERO ;
  unsigned int n = 0 ;
  if (!stralloc_cats(&req, u64(j->id)) || !stralloc_0(&req)
   || !stralloc_cats(&req, qfile_str(&j->q, j->q.sender)) || !stralloc_0(&req)) dienomem() ;
  for (size_t i = 0 ; i < job_ntargets(j) ; i++)
  {
    target *t = job_targets(j) + i ;
    if (t->conn != ci + 1 || t->inflight) continue ;
    if (!stralloc_cats(&req, JS(j, t->name) + 1) || !stralloc_0(&req)) dienomem() ;
    t->inflight = 1 ;
    j->inflight++ ;
    rinflight++ ;
    n++ ;
  }
  if (!stralloc_0(&req)) dienomem() ;
  if (n)
  {
    /* the marker byte 'F' carries a read-only descriptor of the queue file */
    char path[48] ;
    int fd ;
    messpath(path, j->id) ;
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) ;
    if (fd < 0 || ancil_send_fd(c->reqfd, fd, 'F') != 1)
      logl("warning: unable to pass msg ", u64(j->id), " to mm-remote: ", strerror(errno)) ;
    if (fd >= 0) close(fd) ;
    if (allwrite(c->reqfd, req.s, req.len) < req.len)
      logl("warning: unable to write to mm-remote for route ", route_at(c->route)->name.s, ": ", strerror(errno)) ;
    if (flushes[c->route].active) flushes[c->route].total += n ;
  }
  stralloc_free(&req) ;
}

static target *remote_target (job *j, char const *rcpt, unsigned int ci)
{
  for (size_t i = 0 ; i < job_ntargets(j) ; i++)
  {
    target *t = job_targets(j) + i ;
    char const *name = JS(j, t->name) ;
    if (name[0] == 'r' && t->inflight && t->conn == ci + 1 && !strcmp(name + 1, rcpt)) return t ;
  }
  return 0 ;
}

static void attempt (msg *m) ;

static void remote_result (unsigned int ci, char const *id, char const *rcpt, char const *res)
{
  conn *c = conns + ci ;
  uint64_t mid ;
  msg *m ;
  job *j ;
  target *t ;
  flush *f = flushes + c->route ;
  char const *rname = route_at(c->route)->name.s ;
  if (!scan_id(id, &mid) || !(m = msg_find(mid)) || !m->job
   || !(t = remote_target(j = jobs + m->job - 1, rcpt, ci)))
  {
    logl("warning: unexpected result from mm-remote for route ", rname) ;
    return ;
  }
  t->inflight = 0 ;
  t->conn = 0 ;
  j->inflight-- ;
  rinflight-- ;
  switch (res[0])
  {
    case 'K' :
    {
      int others = 0 ;
      logl("msg ", id, ": success: ", rcpt, " via ", rname, ": ", res + 1) ;
      t->state = TARGET_DONE ;
      for (size_t i = 0 ; i < job_ntargets(j) ; i++)
        if (job_targets(j)[i].state != TARGET_DONE) others = 1 ;
      if (others) journal(j, 'd', JS(j, t->name), 0, 1) ;
      if (f->active) f->sent++ ;
      break ;
    }
    case 'D' :
      logl("msg ", id, ": failure: ", rcpt, " via ", rname, ": ", res + 1) ;
      target_fail(j, t - job_targets(j), res + 1) ;
      if (f->active) f->failed++ ;
      break ;
    default :
      logl("msg ", id, ": deferral: ", rcpt, " via ", rname, ": ", res[0] == 'Z' ? res + 1 : res) ;
      journal(j, 'z', JS(j, t->name), res[0] == 'Z' ? res + 1 : res, 0) ;
      target_reason(j, t - job_targets(j), res[0] == 'Z' ? res + 1 : res) ;
      j->remote_tried = 1 ;
      if (c->route < 32) t->tried |= 1u << c->route ;
      /* a "last" route keeps what it deferred; otherwise the next online route may try */
      if (route_at(c->route)->last || choose_route(j, t) < 0) t->deferred = 1 ;
      if (f->active) f->deferred++ ;
      break ;
  }
  if (!j->inflight)
  {
    int again = 0 ;
    for (size_t i = 0 ; i < job_ntargets(j) ; i++)
    {
      target const *u = job_targets(j) + i ;
      if (u->state == TARGET_PENDING && !u->deferred && !u->inflight) again = 1 ;
    }
    if (again) attempt(m) ;
    else job_finish(j) ;
  }
}

static void conn_end (unsigned int ci)
{
  conn *c = conns + ci ;
  unsigned int k = c->route ;
  /* whatever it did not answer is deferred */
  for (unsigned int jj = 0 ; jj < ACTIVE_MAX ; jj++)
  {
    job *j = jobs + jj ;
    if (!j->used) continue ;
    for (size_t i = 0 ; i < job_ntargets(j) ; i++)
    {
      target *t = job_targets(j) + i ;
      if (t->inflight && t->conn == ci + 1)
      {
        char res[] = "Z4.4.0 mm-remote ended without a result for this recipient" ;
        char id[UINT64_FMT] ;
        id[uint64_fmt(id, j->id)] = 0 ;
        remote_result(ci, id, JS(j, t->name) + 1, res) ;
        if (!j->used) break ;
      }
    }
  }
  if (c->reqfd >= 0) close(c->reqfd) ;
  close(c->resfd) ;
  c->used = 0 ;
  nconns-- ;
  if (flushes[k].active) flush_write(k) ;
}

/* The complete records in c->in, each three NUL-terminated fields. */
static void remote_records (unsigned int ci)
{
  conn *c = conns + ci ;
  size_t start = 0, zeros = 0, f1 = 0, f2 = 0 ;
  if (!c->in.len) return ;
  for (size_t i = 0 ; i < c->in.len ; i++)
  {
    if (c->in.s[i]) continue ;
    zeros++ ;
    if (zeros == 1) f1 = i + 1 ;
    else if (zeros == 2) f2 = i + 1 ;
    else
    {
      remote_result(ci, c->in.s + start, c->in.s + f1, c->in.s + f2) ;
      start = i + 1 ;
      zeros = 0 ;
    }
  }
  memmove(c->in.s, c->in.s + start, c->in.len - start) ;
  c->in.len -= start ;
}

/* What mm-remote wrote, up to EAGAIN: its end of file, which follows
   its last result at once (it closes fd 1 before its QUIT), is then
   taken in the same turn, and the flush report goes out once. */
static void remote_read (unsigned int ci)
{
  conn *c = conns + ci ;
  char buf[4096] ;
  int eof = 0 ;
  for (;;)
  {
    ssize_t r = read(c->resfd, buf, sizeof buf) ;
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) break ;
    if (r <= 0) { eof = 1 ; break ; }
    if (!stralloc_catb(&c->in, buf, r)) dienomem() ;
  }
  remote_records(ci) ;
  if (eof) conn_end(ci) ;
  else if (flushes[c->route].active) flush_write(c->route) ;
}

/* After a pass has handed out what was due, each mm-remote gets EOF on
   its requests: it finishes, says QUIT and exits. */
static void conns_close_requests (void)
{
  for (unsigned int i = 0 ; i < CONN_MAX ; i++)
    if (conns[i].used && conns[i].reqfd >= 0)
    {
      close(conns[i].reqfd) ;
      conns[i].reqfd = -1 ;
    }
}

/* ---- looking at a message ---- */

static job *job_open (msg *m)
{
  char path[48] ;
  job *j = 0 ;
  int r ;
  for (unsigned int i = 0 ; i < ACTIVE_MAX ; i++) if (!jobs[i].used) { j = jobs + i ; break ; }
  if (!j) return 0 ;
  messpath(path, m->id) ;
  j->fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC) ;
  if (j->fd < 0)
  {
    if (errno == ENOENT) { msg_remove(m->id) ; return 0 ; }
    logl("warning: unable to open ", path, ": ", strerror(errno)) ;
    m->due = now + 60 ;
    return 0 ;
  }
  {
    qfile z = QFILE_ZERO ;
    j->q = z ;
  }
  j->targets = (genalloc)GENALLOC_ZERO ;
  j->strings = (stralloc)STRALLOC_ZERO ;
  j->froms = (stralloc)STRALLOC_ZERO ;
  j->froms_read = 0 ;
  j->remote_tried = 0 ;
  j->id = m->id ;
  j->inflight = 0 ;
  j->used = 1 ;
  njobs++ ;
  r = qfile_read(j->fd, &j->q) ;
  if (r <= 0)
  {
    if (!r) logl("alert: msg ", u64(m->id), ": queue file is damaged, left in place") ;
    else logl("warning: msg ", u64(m->id), ": unable to read: ", strerror(errno)) ;
    m->due = r ? now + 60 : (uint64_t)-2 ;
    job_close(j) ;
    return 0 ;
  }
  if (m->isnew)
  {
    char num[UINT64_FMT] ;
    num[uint64_fmt(num, j->q.messlen)] = 0 ;
    logl("new msg ", u64(m->id), " from <", qfile_str(&j->q, j->q.sender), "> uid ", u64(j->q.uid), " size ", num, " rcpts ", u64(qfile_nrcpts(&j->q))) ;
    m->isnew = 0 ;
  }
  return j ;
}

/* Look at a due message: start what can be started now. */
static void attempt (msg *m)
{
  job *j = m->job ? jobs + m->job - 1 : job_open(m) ;
  size_t n ;
  int held ;
  if (!j) return ;
  m->job = (j - jobs) + 1 ;
  if (j->q.removed_by)
  {
    if (!j->inflight)
    {
      logl("msg ", u64(j->id), ": removed by uid ", u64(j->q.removed_by - 1)) ;
      if (!genalloc_append(uint64_t, &unlinks, &j->id)) dienomem() ;
      m->job = 0 ;
      msg_remove(j->id) ;
      job_close(j) ;
    }
    return ;
  }
  if (!job_ntargets(j) && !expand(j))
  {
    logl("warning: msg ", u64(j->id), ": unable to expand recipients: ", aliases_loaded ? strerror(errno) : "control/aliases is unreadable or malformed", ", retrying in a minute") ;
    m->job = 0 ; m->due = now + 60 ;
    job_close(j) ;
    return ;
  }
  /* -odq's hold ends with a queue run or mm-qctl -H; mm-qctl -h's only with -H */
  held = (qfile_hasflag(&j->q, 'q') && !m->released && !oneshot && !j->q.released) || j->q.held_by ;
  n = job_ntargets(j) ;
  for (size_t i = 0 ; i < n && !stopping ; i++)
  {
    target *t = job_targets(j) + i ;
    char const *name = JS(j, t->name) ;
    if (t->state != TARGET_PENDING || t->inflight || t->deferred) continue ;
    if (t->error != (size_t)-1)
    {
      logl("msg ", u64(j->id), ": failure: ", JS(j, t->rcpt), ": ", JS(j, t->error)) ;
      target_fail(j, i, JS(j, t->error)) ;
      continue ;
    }
    if (held) { t->deferred = 1 ; continue ; }
    if (name[0] == 'r')
    {
      int k = choose_route(j, t), ci ;
      char const *rcpt = name + 1 ;
      size_t at = address_at(rcpt, strlen(rcpt)) ;
      if (k < 0)
      {
        logl("msg ", u64(j->id), ": waiting for a connection: ", JS(j, t->rcpt)) ;
        t->deferred = 1 ;
        continue ;
      }
      if (route_at(k)->smarthost.len > 1) ci = conn_get(k, "", 0) ;
      else ci = conn_get(k, rcpt + at + 1, at < strlen(rcpt) ? strlen(rcpt) - at - 1 : 0) ;
      if (ci < 0) continue ;  /* no free connection: the next loop turn */
      t->conn = ci + 1 ;
      continue ;
    }
    if (inflight >= concurrency) continue ;  /* the rest when a slot frees up */
    lspawn_request(j, i) ;
  }
  for (size_t i = 0 ; i < n ; i++)
  {
    target const *t = job_targets(j) + i ;
    if (t->conn && !t->inflight) remote_request(j, t->conn - 1) ;
  }
  /* targets still waiting for a delivery slot or a connection keep the
     message open; run_due comes back to it when one frees up */
  for (size_t i = 0 ; i < n ; i++)
  {
    target const *t = job_targets(j) + i ;
    if (t->state == TARGET_PENDING && !t->deferred && !t->inflight && !t->conn) return ;
  }
  if (!j->inflight) job_finish(j) ;
}

/* ---- the loop ---- */

static int trigger_open (void)
{
  int fd = open("queue/lock/trigger", O_RDONLY | O_NONBLOCK | O_CLOEXEC) ;
  if (fd < 0) strerr_diefu1sys(EX_TEMPFAIL, "open queue/lock/trigger") ;
  /* keep a writer open so the fifo never reads as EOF */
  if (open("queue/lock/trigger", O_WRONLY | O_NONBLOCK | O_CLOEXEC) < 0)
    strerr_diefu1sys(EX_TEMPFAIL, "open queue/lock/trigger for writing") ;
  return fd ;
}

/* Each 'n' comes with a todo/ link, found before or after its byte:
   credit counts links found minus bytes read. Below zero, a commit's
   notification is missing, and mess/ is scanned for it. */
static int todo_credit = 0 ;

/* The queue's door (INTERNALS 4.1) closes after a minute without a
   caller; new mail opens it again, through the setuid mm-queue. A door
   that is open has its socket; one that was killed leaves its socket
   behind and stays closed until the runner restarts: callers start
   mm-queue themselves meanwhile. */
static pid_t door_pid = 0 ;

static void door_open (void)
{
  struct stat st ;
  stralloc path = STRALLOC_ZERO ;
  char const *argv[3] = { "mm-queue", "-l", 0 } ;
  int e ;
  if (oneshot || door_pid > 0 || stat(QDOOR_SOCKET, &st) == 0 || errno != ENOENT) return ;
  if (!mm_path(&path, "bin/mm-queue")) return ;
  e = posix_spawn(&door_pid, path.s, 0, 0, (char *const *)argv, environ) ;
  if (e) { errno = e ; door_pid = 0 ; strerr_warnwu2sys("open the queue's door: start ", path.s) ; }
  stralloc_free(&path) ;
}

static void trigger_read (int fd)
{
  char buf[64] ;
  ssize_t r ;
  int news = 0 ;
  while ((r = read(fd, buf, sizeof buf)) > 0)
  {
    if (memchr(buf, TRIGGER_RUN, r)) queuerun = mess_rescan = 1 ;
    if (memchr(buf, TRIGGER_ONLINE, r)) online_changed = 1 ;
    for (ssize_t i = 0 ; i < r ; i++) news += buf[i] == TRIGGER_NEW ;
  }
  todo_credit += (int)scan_todo() - news ;
  if (todo_credit < 0) mess_rescan = 1 ;
  if (news) door_open() ;
}

static void handle_signals (void)
{
  for (;;)
  {
    int sig = selfpipe_read() ;
    switch (sig)
    {
      case -1 : strerr_diefu1sys(EX_TEMPFAIL, "selfpipe_read") ;
      case 0 : return ;
      case SIGTERM : case SIGINT : stopping = 1 ; break ;
      case SIGALRM : queuerun = mess_rescan = 1 ; break ;
      case SIGHUP : read_control() ; aliases_loaded = 0 ; online_changed = 1 ; break ;
      case SIGCHLD :
      {
        int wstat ;
        pid_t pid ;
        while ((pid = waitpid(-1, &wstat, WNOHANG)) > 0)
        {
          if (pid == lspawn_pid && !stopping) strerr_dief1x(EX_TEMPFAIL, "mm-lspawn died") ;
          if (pid == door_pid) door_pid = 0 ;
        }
        break ;
      }
      default : break ;
    }
  }
}

/* A queue run: every message now, held ones too, retry schedule ignored. */
static void release_all (void)
{
  msg *m = genalloc_s(msg, &msgs) ;
  size_t n = genalloc_len(msg, &msgs) ;
  char const *failed = "control/locals" ;
  /* it takes control/me and control/locals as they are now, as SIGHUP does */
  if (control_names_load(&failed) < 0 || control_locals_load() < 0)
    logl("warning: queue run: unable to read ", failed, ": ", strerror(errno)) ;
  for (size_t i = 0 ; i < n ; i++)
  {
    m[i].released = 1 ;
    if (!m[i].job && m[i].due != (uint64_t)-2) m[i].due = 0 ;
  }
  queuerun = 0 ;
}

/* Start every due message while there is room; returns the next due time. */
static uint64_t run_due (void)
{
  uint64_t next = (uint64_t)-1 ;
  size_t i = 0 ;
  while (i < genalloc_len(msg, &msgs))
  {
    msg *m = genalloc_s(msg, &msgs) + i ;
    uint64_t id = m->id ;
    if (!m->job && m->due <= now && !stopping && njobs < ACTIVE_MAX)
    {
      attempt(m) ;
      /* attempt may have removed or moved it */
      m = msg_find(id) ;
      if (!m) continue ;
      if (m != genalloc_s(msg, &msgs) + i) continue ;
    }
    else if (m->job && !stopping)
    {
      /* an active message waiting for a delivery slot or a connection */
      job *j = jobs + m->job - 1 ;
      int waiting = 0 ;
      for (size_t k = 0 ; k < job_ntargets(j) ; k++)
      {
        target *t = job_targets(j) + k ;
        if (t->state == TARGET_PENDING && !t->inflight && !t->deferred && !t->conn
         && (JS(j, t->name)[0] == 'r' ? nconns < concurrencyremote : inflight < concurrency)) waiting = 1 ;
      }
      if (waiting) { attempt(m) ; m = msg_find(id) ; if (!m) continue ; }
    }
    if (!m->job && m->due < next) next = m->due ;
    i++ ;
  }
  return next ;
}

/* The runner lock dies with mm-send, but the deliveries it started may
   go on: mm-lspawn and each mm-local hold a shared flock on
   queue/lock/send until they end (mm-lspawn(8)). A new runner waits
   for them before it asks for any delivery, so that two runners never
   deliver the same message. The flock is taken on the descriptor of
   the runner lock itself: closing another descriptor of the file would
   drop that fcntl lock. */
static void deliveries_wait (int fd)
{
  if (flock(fd, LOCK_EX | LOCK_NB) < 0)
  {
    if (errno != EWOULDBLOCK) strerr_diefu1sys(EX_TEMPFAIL, "lock queue/lock/send") ;
    logl("waiting for the deliveries of the previous queue runner to end") ;
    while (flock(fd, LOCK_EX) < 0)
      if (errno != EINTR) strerr_diefu1sys(EX_TEMPFAIL, "lock queue/lock/send") ;
  }
  if (flock(fd, LOCK_UN) < 0) strerr_diefu1sys(EX_TEMPFAIL, "unlock queue/lock/send") ;
}

static void tain_now_set (void)
{
  tain_now_g() ;
  now = (uint64_t)time(0) ;
}

int main (int argc, char const *const *argv)
{
  int lockfd, trigfd = -1, sigfd ;
  iopause_fd x[3 + CONN_MAX] ;
  unsigned int xconn[CONN_MAX], nxconn = 0 ;
  PROG = "mm-send" ;
  usage_help(argc, argv, USAGE) ;
  logstamp_init() ;
  privs_init() ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "1o:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case '1' : oneshot = 1 ; break ;
        case 'o' : onlyroute = l.arg ; break ;
        default : dieusage() ;
      }
    }
  }
  if (onlyroute && !oneshot) dieusage() ;
  mm_chdir_home() ;
  signal(SIGPIPE, SIG_IGN) ;
  umask(007) ;
  read_control() ;
  tain_now_set() ;

  /* two queue runners never deliver the same message */
  lockfd = open("queue/lock/send", O_RDWR | O_CREAT | O_CLOEXEC, 0660) ;
  if (lockfd < 0) strerr_diefu1sys(EX_TEMPFAIL, "open queue/lock/send") ;
  switch (fd_lock(lockfd, 1, 1))
  {
    case 1 : break ;
    case 0 :
      if (oneshot)
      {
        trigger_pull(TRIGGER_RUN) ;
        logl("another queue runner is active: asked it for a queue run") ;
        return 0 ;
      }
      logl("another queue runner is active: waiting for it to end") ;
      if (fd_lock(lockfd, 1, 0) != 1) strerr_diefu1sys(EX_TEMPFAIL, "lock queue/lock/send") ;
      break ;
    default : strerr_diefu1sys(EX_TEMPFAIL, "lock queue/lock/send") ;
  }
  deliveries_wait(lockfd) ;

  sigfd = selfpipe_init() ;
  if (sigfd < 0) strerr_diefu1sys(EX_TEMPFAIL, "selfpipe_init") ;
  {
    sigset_t set ;
    sigemptyset(&set) ;
    sigaddset(&set, SIGTERM) ; sigaddset(&set, SIGINT) ; sigaddset(&set, SIGHUP) ;
    sigaddset(&set, SIGALRM) ; sigaddset(&set, SIGCHLD) ;
    if (selfpipe_trapset(&set) < 0) strerr_diefu1sys(EX_TEMPFAIL, "trap signals") ;
  }
  if (oneshot) lspawn_start() ;
  else
  {
    struct stat st ;
    if (fstat(LSPAWN_OUT, &st) < 0 || fstat(LSPAWN_IN, &st) < 0)
      strerr_dief1x(EX_USAGE, "no mm-lspawn on descriptors 5 and 6: start mm-send through mm-start, or use mm-send -1") ;
    trigfd = trigger_open() ;
  }
  /* root (sendmail -q, mm-online) needs root only for mm-lspawn, which runs now */
  privs_become_send() ;
  coe(LSPAWN_OUT) ; coe(LSPAWN_IN) ;
  ndelay_on(LSPAWN_IN) ;
  buffer_init(&lsout, &buffer_write, LSPAWN_OUT, lsoutbuf, sizeof lsoutbuf) ;

  logl(oneshot ? "status: queue run starting" : "status: started") ;
  /* mm-online --wait sleeps on it while it exists; gone when we are */
  if (!flushwake_make()) logl("warning: unable to make the fifo ", FLUSHWAKE_PATH, ": ", strerror(errno)) ;
  clean_tmp() ;
  scan_todo() ;
  scan_mess(0) ;
  mess_rescan_next = now + MESS_RESCAN_INTERVAL ;
  if (oneshot) { release_all() ; flush_all = 1 ; }
  load_aliases() ;
  routes_reload() ;
  if (onlyroute)
  {
    int found = 0 ;
    for (unsigned int k = 0 ; k < nroutes() ; k++) if (!strcmp(route_at(k)->name.s, onlyroute)) found = 1 ;
    if (!found) strerr_dief2x(EX_CONFIG, "no such route: ", onlyroute) ;
  }

  for (;;)
  {
    uint64_t next ;
    tain deadline ;
    unsigned int n = 0 ;
    int r ;
    tain_now_set() ;
    if (mess_rescan || (!oneshot && now >= mess_rescan_next))
    {
      /* a message finished but not yet unlinked is not taken for a new one */
      flush_unlinks() ;
      scan_mess(1) ;
      mess_rescan = todo_credit = 0 ;
      mess_rescan_next = now + MESS_RESCAN_INTERVAL ;
    }
    if (queuerun) release_all() ;
    if (online_changed)
    {
      /* a route came up or went down: everything waiting looks again */
      routes_reload() ;
      for (size_t i = 0 ; i < genalloc_len(msg, &msgs) ; i++)
      {
        msg *m = genalloc_s(msg, &msgs) + i ;
        if (!m->job && m->due != (uint64_t)-2) m->due = 0 ;
      }
      online_changed = 0 ;
      flush_all = 1 ;
    }
    online_refresh() ;
    if (queued_own) { queued_own = 0 ; scan_todo() ; }
    if (flush_all)
    {
      /* every route that is up reports its flush, even an empty one */
      for (unsigned int k = 0 ; k < nroutes() ; k++)
        if (online[k]) { flush zero = { .active = 1 } ; flushes[k] = zero ; }
      flush_all = 0 ;
    }
    if (!stopping) load_aliases() ;
    next = run_due() ;
    conns_close_requests() ;
    flush_unlinks() ;
    for (unsigned int k = 0 ; k < nroutes() ; k++) if (flushes[k].active) flush_write(k) ;
    if (stopping && !inflight && !nconns) break ;
    if (oneshot && !inflight && !njobs && !nconns)
    {
      /* one pass: done when nothing is left that is due now, its own
         bounces included */
      int due = 0 ;
      if (queued_own) continue ;
      for (size_t i = 0 ; i < genalloc_len(msg, &msgs) ; i++)
        if (genalloc_s(msg, &msgs)[i].due <= now) due = 1 ;
      if (!due) break ;
    }
    x[n].fd = sigfd ; x[n].events = IOPAUSE_READ ; n++ ;
    x[n].fd = LSPAWN_IN ; x[n].events = IOPAUSE_READ ; n++ ;
    if (trigfd >= 0) { x[n].fd = trigfd ; x[n].events = IOPAUSE_READ ; n++ ; }
    {
      unsigned int ci[CONN_MAX], nc = 0, base = n ;
      for (unsigned int i = 0 ; i < CONN_MAX ; i++)
        if (conns[i].used) { ci[nc++] = i ; x[n].fd = conns[i].resfd ; x[n].events = IOPAUSE_READ ; n++ ; }
      (void)base ;
      memcpy(xconn, ci, nc * sizeof(unsigned int)) ;
      nxconn = nc ;
    }
    if (!oneshot && next > mess_rescan_next) next = mess_rescan_next ;
    if (next == (uint64_t)-1 || next == (uint64_t)-2 || oneshot) tain_add_g(&deadline, &tain_infinite_relative) ;
    else
    {
      tain d ;
      tain_from_millisecs(&d, next > now ? (int)((next - now > 86400 ? 86400 : next - now) * 1000) : 0) ;
      tain_add_g(&deadline, &d) ;
    }
    r = iopause_g(x, n, &deadline) ;
    if (r < 0) strerr_diefu1sys(EX_TEMPFAIL, "iopause") ;
    tain_now_set() ;
    if (x[0].revents & IOPAUSE_READ) handle_signals() ;
    if (x[1].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) lspawn_read() ;
    if (trigfd >= 0 && (x[2].revents & IOPAUSE_READ)) trigger_read(trigfd) ;
    for (unsigned int i = 0 ; i < nxconn ; i++)
      if (x[3 - (trigfd < 0) + i].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT)) remote_read(xconn[i]) ;
  }
  flush_unlinks() ;
  close(LSPAWN_OUT) ;
  if (lspawn_pid)
  {
    int wstat ;
    waitpid_nointr(lspawn_pid, &wstat, 0) ;
  }
  unlink(FLUSHWAKE_PATH) ;
  logl(oneshot ? "status: queue run done" : "status: exiting") ;
  return 0 ;
}
