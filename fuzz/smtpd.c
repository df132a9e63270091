/* Fuzz harness: SMTP commands as mm-smtpd reads them from a client: its
   command loop, from the greeting to QUIT or the end of the input, in
   this process. mm-smtpd.c is included with its main renamed, its
   _exit turned into a return to the harness, its standard input and
   output replaced by the fuzz input and a capture of the replies, and
   mm-queue replaced by a stand-in (the qspawn_* functions below, which
   the linker takes instead of src/lib/qspawn.c) that checks the envelope
   as mm-queue would. Input: one byte of settings (bit 0: a relay
   client, bit 1: sendmail -bs, bits 2-3: the stand-in queue starts,
   accepts, refuses or defers), then the client's bytes. */

#include <setjmp.h>
#include <unistd.h>

static void fuzz_exit (int) __attribute__((noreturn)) ;
#define _exit(e) fuzz_exit(e)
#define main mm_smtpd_main
#include "../src/mm-smtpd.c"
#undef main
#undef _exit

#include <skalibs/stralloc.h>
#include "fuzz.h"

static jmp_buf session_end ;
static void fuzz_exit (int e) { (void)e ; longjmp(session_end, 1) ; }

/* the client: the fuzz input */
static uint8_t const *cin ;
static size_t cinlen ;
static ssize_t client_read (int fd, struct iovec const *v, unsigned int n)
{
  size_t done = 0 ;
  (void)fd ;
  for (unsigned int i = 0 ; i < n && cinlen ; i++)
  {
    size_t k = v[i].iov_len < cinlen ? v[i].iov_len : cinlen ;
    memcpy(v[i].iov_base, cin, k) ;
    cin += k ; cinlen -= k ; done += k ;
  }
  return done ;
}

/* the replies, checked at the end of the session */
static stralloc replies = STRALLOC_ZERO ;
static ssize_t client_write (int fd, struct iovec const *v, unsigned int n)
{
  size_t done = 0 ;
  (void)fd ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    if (!stralloc_catb(&replies, v[i].iov_base, v[i].iov_len)) abort() ;
    done += v[i].iov_len ;
  }
  return done ;
}

/* Every reply line is "DDD" or "DDD text", a continuation "DDD-text",
   with CRLF and no other CR, LF or NUL: nothing the client sent may
   break a reply apart. */
static void replies_check (void)
{
  size_t i = 0 ;
  while (i < replies.len)
  {
    char const *l = replies.s + i ;
    char const *crlf = memmem(l, replies.len - i, "\r\n", 2) ;
    size_t len ;
    if (!crlf) abort() ;  /* a reply without its CRLF */
    len = crlf - l ;
    if (len < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' || l[2] > '9') abort() ;
    if (len > 3 && l[3] != ' ' && l[3] != '-') abort() ;
    for (size_t k = 0 ; k < len ; k++) if (!l[k] || l[k] == '\r' || l[k] == '\n') abort() ;
    i += len + 2 ;
  }
}

/* The stand-in mm-queue. */
static unsigned int queue_mode ;   /* 0 starts and accepts, 1 fails to start, 2 refuses (65), 3 defers (75) */
static int devnull = -1 ;

int qspawn_start (qspawn *q)
{
  if (queue_mode == 1) return (errno = EAGAIN, 0) ;
  q->pid = 0 ; q->messfd = devnull ; q->envfd = -1 ; q->idfd = -1 ;
  buffer_init(&q->mess, &buffer_write, devnull, q->buf, sizeof q->buf) ;
  return 1 ;
}

/* mm-queue's check of an envelope address (mm-queue.c address_ok);
   SMTPUTF8 bytes count as letters, as mm-smtpd's path_parse sees them */
static void envelope_check (char const *s)
{
  size_t len = strlen(s) ;
  char *t = fuzz_strdup(s, len) ;
  char const *why ;
  for (size_t i = 0 ; i < len ; i++)
  {
    if ((unsigned char)t[i] < 32 || t[i] == 127) abort() ;
    if (t[i] & 0x80) t[i] = 'x' ;
  }
  if (!address_valid(t, len, &why)) abort() ;
  free(t) ;
}

int qspawn_finish_host (qspawn *q, char const *flags, char const *host, char const *sender, char const *const *rcpts, unsigned int n, char *id)
{
  (void)flags ; (void)host ;
  if (buffer_flush(&q->mess) < 0) abort() ;
  if (*sender) envelope_check(sender) ;
  if (!n) abort() ;   /* DATA without a recipient reached the queue */
  for (unsigned int i = 0 ; i < n ; i++) envelope_check(rcpts[i]) ;
  if (queue_mode == 2) return EX_DATAERR ;
  if (queue_mode == 3) return EX_TEMPFAIL ;
  memcpy(id, "1.2.3", 6) ;
  return 0 ;
}
int qspawn_finish (qspawn *q, char const *flags, char const *sender, char const *const *rcpts, unsigned int n, char *id)
{
  return qspawn_finish_host(q, flags, 0, sender, rcpts, n, id) ;
}
int qspawn_finish_early (qspawn *q, char const *flags, char const *sender, char const *const *rcpts, unsigned int n)
{
  char id[32] ;
  return qspawn_finish_host(q, flags, 0, sender, rcpts, n, id) ;
}
int qspawn_finish_host_early (qspawn *q, char const *flags, char const *host, char const *sender, char const *const *rcpts, unsigned int n, char *id)
{
  return qspawn_finish_host(q, flags, host, sender, rcpts, n, id) ;
}
void qspawn_reap (qspawn *q) { (void)q ; }
void qspawn_abort (qspawn *q) { (void)q ; }
char const *qspawn_strerror (int code) { return code == EX_DATAERR ? "refused" : "temporary failure" ; }

static void setup (void)
{
  fuzz_home() ;
  fuzz_puts("control/me", "here.example\n") ;
  fuzz_puts("control/locals", "here.example\nlocalhost\n") ;
  fuzz_puts("control/smtpdmaxrcpts", "5\n") ;
  fuzz_puts("control/databytes", "100000\n") ;
  fuzz_puts("control/maxhops", "3\n") ;
  fuzz_puts("control/smtpdrcpthosts", ".lan.example\n") ;
  /* a private instance: its users are home/alice and home/bob */
  fuzz_puts("control/instance", "") ;
  if (mkdir("home", 0755) < 0 || mkdir("home/alice", 0755) < 0 || mkdir("home/bob", 0755) < 0) abort() ;
  fuzz_puts("control/aliases", "postmaster: alice\nlist: alice, bob, carol@remote.example\n") ;
  if (mkdir("control/routes", 0755) < 0 || mkdir("control/routes/lan", 0755) < 0) abort() ;
  fuzz_puts("control/routes/lan/permanent", "") ;
  fuzz_puts("control/routes/lan/domains", "*.office.example\n") ;
  devnull = open("/dev/null", O_RDWR) ;
  /* iopause waits on fds 0 and 1: /dev/null is always ready */
  if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0) abort() ;
  PROG = "mm-smtpd" ;
  tain_now_set_stopwatch_g() ;
  uidstr[uint64_fmt(uidstr, getuid())] = 0 ;
  remoteip = "192.0.2.1" ;
  readcontrol() ;
  readroutes() ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static int init = 0 ;
  if (!init) { setup() ; init = 1 ; }
  if (!size) return 0 ;
  relayclient = data[0] & 1 ;
  local = !!(data[0] & 2) ;
  label = local ? "local uid 0" : remoteip ;
  queue_mode = (data[0] >> 2) & 3 ;
  cin = data + 1 ; cinlen = size - 1 ;
  replies.len = 0 ;
  buffer_init(&bin, &client_read, 0, binbuf, sizeof binbuf) ;
  buffer_init(&bout, &client_write, 1, boutbuf, sizeof boutbuf) ;
  /* a new session: what main starts with */
  transaction_reset() ;
  msg.running = 0 ;
  nerrors = njunk = 0 ;
  greeted = esmtp = refused = 0 ;
  helo.len = 0 ;
  line.done = bline.done = 1 ;
  if (!setjmp(session_end))
  {
    reply3("220 ", me, " ESMTP mm-smtpd") ;
    commands() ;
  }
  replies_check() ;
  /* FUZZ_SMTPD_SHOW=1 build/fuzz/smtpd FILE: the session's replies */
  if (getenv("FUZZ_SMTPD_SHOW")) fprintf(stderr, "%.*s", (int)replies.len, replies.s) ;
  return 0 ;
}
