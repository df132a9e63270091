/* mm-remote: the SMTP client for one destination. mm-send runs it as the
   remote user for one route and one destination host; it gets each
   queued message as a descriptor from mm-send (no access to the queue), sends
   them all over one connection with PIPELINING, and CHUNKING where the
   server offers it, and reports one result per recipient (INTERNALS 8.3).
   It holds the route's AUTH secret; it cannot write the queue. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/genalloc.h>
#include <skalibs/iopause.h>
#include <skalibs/ip46.h>
#include <skalibs/socket.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "base64.h"
#include "control.h"
#include "dns.h"
#include "home.h"
#include "privs.h"
#include "logstamp.h"
#include "usage.h"
#include "md5.h"
#include "sasl.h"
#include "secret.h"
#include "queuefile.h"
#include "rewrite.h"
#include "route.h"
#include "smtpio.h"
#include "smtpreply.h"
#include "tlsstart.h"

#define USAGE "mm-remote route destination | mm-remote -i route [destination] | mm-remote -t route [destination]"

#define PORT_SMTP 25              /* RFC 5321 4.5.4.2 */
#define PORT_SUBMISSIONS 465      /* RFC 8314 3.3: implicit TLS */
#define REPLYLINE_MAX 2048        /* RFC 5321 4.5.3.1.5 says 512; be lenient, cut beyond */
#define TIMEOUT_CONNECT 60
#define TIMEOUT_REPLY 300         /* RFC 5321 4.5.3.2: 5 minutes for most replies */
#define TIMEOUT_DATA 600          /* RFC 5321 4.5.3.2.6: 10 minutes after the end of data */
#define OUT_LOW 65536             /* refill the output when less is waiting */
#define INFLIGHT_MAX 256          /* messages sent and not yet answered */
#define IDLE_RECONNECTS 3         /* reconnections when the server hung up between messages */
#define SMTP_COMMAND_MAX 512      /* RFC 5321 4.5.3.1.4, CRLF included */

/* ------------------------------------------------------------ the setting */

static char const *routename ;
static char const *destination ;
static route *rt ;
static genalloc routes = GENALLOC_ZERO ;
static rewrite rw = REWRITE_ZERO ;
static unsigned long tconnect = TIMEOUT_CONNECT, treply = TIMEOUT_REPLY, tdata = TIMEOUT_DATA ;
static unsigned int directport = PORT_SMTP ;
static stralloc authmechs = STRALLOC_ZERO ;   /* NUL-separated, upper case */
static stralloc authuser = STRALLOC_ZERO ;
static stralloc authsecret = STRALLOC_ZERO ;

/* TLS (mm-routes(5) "tls"): the default is opportunistic STARTTLS */
#define TLS_NONE 0
#define TLS_MAY 1
#define TLS_STARTTLS 2
#define TLS_IMPLICIT 3
static int tlsmode = TLS_MAY ;
static stralloc tlsca = STRALLOC_ZERO, tlscert = STRALLOC_ZERO, tlskey = STRALLOC_ZERO, tlsmin = STRALLOC_ZERO ;
static stralloc tlspins = STRALLOC_ZERO ;   /* NUL-separated */
static int inspect = 0 ;                    /* -i: show what the server presents */
static int routetest = 0 ;                  /* -t: every step of a session, no mail */

/* where we are connected, for the log and the result texts */
static stralloc peer = STRALLOC_ZERO ;        /* "host[ip]" */

static void logline (char const *a, char const *b, char const *c, char const *d)
{
  if (routetest)
  {
    /* the steps go to the administrator as they happen */
    buffer_puts(buffer_1, a) ; buffer_puts(buffer_1, b) ; buffer_puts(buffer_1, c) ; buffer_puts(buffer_1, d) ;
    buffer_putsflush(buffer_1, "\n") ;
  }
  strerr_warn(PROG, ": ", routename, " ", peer.len ? peer.s : destination, ": ", a, b, c, d) ;
}

static void nomem (void) gccattr_noreturn ;
static void nomem (void)
{
  strerr_diefu1sys(EX_TEMPFAIL, "allocate memory") ;
}

/* ------------------------------------------------------------ messages */

typedef struct jrcpt_s jrcpt ;
struct jrcpt_s
{
  size_t addr ;     /* offset in job.sa */
  char result ;     /* 0 pending, 'K', 'Z', 'D' */
  int accepted ;    /* RCPT got 2xx */
  size_t text ;     /* offset in job.texts */
} ;

typedef struct job_s job ;
struct job_s
{
  stralloc sa ;          /* id \0 sender \0 rcpts \0 ... */
  size_t sender ;
  genalloc rcpts ;       /* jrcpt */
  stralloc texts ;
  int fd ;               /* the queue file, passed by mm-send; -1: open it by id */
  char *map ;            /* the whole queue file, mapped */
  size_t maplen ;
  char const *body ;     /* after the header section */
  size_t bodylen ;
  stralloc header ;      /* the header section, rewritten */
  stralloc xsender ;     /* the envelope sender, rewritten */
  uint64_t wiresize ;    /* bytes with CRLF line ends */
  int eightbit, utf8 ;
  int mailfailed ;       /* MAIL got no 2xx: every recipient gets its reply */
  uint64_t mailseq ;     /* its MAIL was the connection's mailseq-th */
  char mailresult ;
  size_t mailtext ;
  unsigned int naccepted ;
  unsigned int stage ;   /* next command to send without PIPELINING: 0 MAIL, 1..n RCPT, n+1 DATA/BDAT */
  /* the data on its way out */
  int part ;             /* 0 header, 1 body, 2 the end */
  size_t pos ;
  int bol ;
  uint64_t termend ;     /* output offset just past the end of data; 0 = not queued */
} ;

static int passed_pop (void) ;

#define JOB_ID(j) ((j)->sa.s)
#define JOB_RCPT(j, i) (genalloc_s(jrcpt, &(j)->rcpts) + (i))
#define JOB_NRCPTS(j) genalloc_len(jrcpt, &(j)->rcpts)

/* A queue of pointers, for jobs waiting and jobs in flight. */
typedef struct jobq_s jobq ;
struct jobq_s
{
  genalloc q ;   /* job * */
  size_t head ;
} ;
#define JOBQ_ZERO { .q = GENALLOC_ZERO, .head = 0 }

static size_t jobq_len (jobq const *q) { return genalloc_len(job *, &q->q) - q->head ; }
static job *jobq_first (jobq const *q) { return jobq_len(q) ? genalloc_s(job *, &q->q)[q->head] : 0 ; }
static job *jobq_at (jobq const *q, size_t i) { return genalloc_s(job *, &q->q)[q->head + i] ; }
static void jobq_push (jobq *q, job *j) { if (!genalloc_append(job *, &q->q, &j)) nomem() ; }
static job *jobq_pop (jobq *q)
{
  job *j = jobq_first(q) ;
  if (!j) return 0 ;
  if (++q->head == genalloc_len(job *, &q->q)) { q->head = 0 ; genalloc_setlen(job *, &q->q, 0) ; }
  return j ;
}

static jobq waiting = JOBQ_ZERO ;    /* read from mm-send, not started */
static jobq inflight = JOBQ_ZERO ;   /* commands sent, not finished */

static char buffer_1_buf[BUFFER_OUTSIZE] ;
static buffer results = BUFFER_INIT(&buffer_write, 1, buffer_1_buf, sizeof buffer_1_buf) ;

static void job_free (job *j)
{
  if (j->map) munmap(j->map, j->maplen) ;
  if (j->fd >= 0) close(j->fd) ;
  stralloc_free(&j->sa) ;
  genalloc_free(jrcpt, &j->rcpts) ;
  stralloc_free(&j->texts) ;
  stralloc_free(&j->header) ;
  stralloc_free(&j->xsender) ;
  free(j) ;
}

static void rcpt_set (job *j, size_t i, char result, char const *text)
{
  jrcpt *r = JOB_RCPT(j, i) ;
  if (r->result) return ;
  r->result = result ;
  r->text = j->texts.len ;
  if (!stralloc_cats(&j->texts, text) || !stralloc_0(&j->texts)) nomem() ;
}

/* Every recipient without a result gets this one. */
static void job_setall (job *j, char result, char const *text)
{
  for (size_t i = 0 ; i < JOB_NRCPTS(j) ; i++) rcpt_set(j, i, result, text) ;
}

/* Log a line, write the job's results to mm-send, free it. The line
   goes first: its time stamp is the moment the reply was read, before
   mm-send can act on it (bench/flush times the end of a flush from it). */
static void job_report (job *j)
{
  unsigned int k = 0, z = 0, d = 0 ;
  char const *last = "" ;
  for (size_t i = 0 ; i < JOB_NRCPTS(j) ; i++)
  {
    jrcpt *r = JOB_RCPT(j, i) ;
    if (!r->result) { r->result = 'Z' ; r->text = j->texts.len ; if (!stralloc_catb(&j->texts, "4.3.0 no result\0", 16)) nomem() ; }
    if (r->result == 'K') k++ ; else if (r->result == 'Z') z++ ; else d++ ;
    last = j->texts.s + r->text ;
  }
  {
    char fk[UINT_FMT], fn[UINT_FMT] ;
    fk[uint_fmt(fk, k)] = 0 ;
    fn[uint_fmt(fn, k + z + d)] = 0 ;
    if (k == k + z + d) logline("msg ", JOB_ID(j), ": accepted: ", last) ;
    else
    {
      static stralloc sa = STRALLOC_ZERO ;
      sa.len = 0 ;
      if (!stralloc_cats(&sa, ": ") || !stralloc_cats(&sa, fk) || !stralloc_cats(&sa, " of ") || !stralloc_cats(&sa, fn)
       || !stralloc_cats(&sa, " recipients accepted, last result: ") || !stralloc_cats(&sa, last) || !stralloc_0(&sa)) nomem() ;
      logline("msg ", JOB_ID(j), sa.s, "") ;
    }
  }
  for (size_t i = 0 ; i < JOB_NRCPTS(j) ; i++)
  {
    jrcpt *r = JOB_RCPT(j, i) ;
    char res[1] = { r->result } ;
    if (buffer_put(&results, JOB_ID(j), strlen(JOB_ID(j)) + 1) < 0
     || buffer_put(&results, j->sa.s + r->addr, strlen(j->sa.s + r->addr) + 1) < 0
     || buffer_put(&results, res, 1) < 0
     || buffer_put(&results, j->texts.s + r->text, strlen(j->texts.s + r->text) + 1) < 0)
      strerr_diefu1sys(EX_TEMPFAIL, "write results") ;
  }
  if (!buffer_flush(&results)) strerr_diefu1sys(EX_TEMPFAIL, "write results") ;
  job_free(j) ;
}

/* ------------------------------------------------------------ requests from mm-send */

static stralloc reqbuf = STRALLOC_ZERO ;
static int reqeof = 0 ;

static int isdigits (char const *s)
{
  if (!*s) return 0 ;
  for (; *s ; s++) if (*s < '0' || *s > '9') return 0 ;
  return 1 ;
}

/* Take every complete request out of reqbuf. */
static void requests_parse (void)
{
  size_t start = 0 ;
  for (;;)
  {
    size_t p = start, fields = 0 ;
    job *j ;
    /* id, sender (maybe empty), recipients, then an empty field */
    for (;;)
    {
      char const *nul = memchr(reqbuf.s + p, 0, reqbuf.len - p) ;
      size_t end ;
      int empty ;
      if (!nul) goto out ;
      end = nul - reqbuf.s ;
      empty = end == p ;
      fields++ ;
      p = end + 1 ;
      if (fields > 2 && empty) break ;
    }
    j = calloc(1, sizeof *j) ;
    if (!j) nomem() ;
    j->fd = -1 ;
    if (reqbuf.s[start] == 'F')
    {
      /* mm-send passed the queue file with this byte */
      j->fd = passed_pop() ;
      start++ ;
    }
    if (!stralloc_catb(&j->sa, reqbuf.s + start, p - start)) nomem() ;
    {
      size_t q = strlen(j->sa.s) + 1 ;
      j->sender = q ;
      q += strlen(j->sa.s + q) + 1 ;
      while (q < j->sa.len && j->sa.s[q])
      {
        jrcpt r = { .addr = q, .result = 0, .accepted = 0, .text = 0 } ;
        if (!genalloc_append(jrcpt, &j->rcpts, &r)) nomem() ;
        q += strlen(j->sa.s + q) + 1 ;
      }
    }
    start = p ;
    if (!JOB_NRCPTS(j)) { job_free(j) ; continue ; }
    if (!isdigits(JOB_ID(j)))
    {
      job_setall(j, 'Z', "4.3.0 mm-remote: bad message id in the request") ;
      job_report(j) ;
      continue ;
    }
    jobq_push(&waiting, j) ;
  }
 out:
  if (start)
  {
    memmove(reqbuf.s, reqbuf.s + start, reqbuf.len - start) ;
    reqbuf.len -= start ;
  }
}

/* Queue files passed by mm-send over the request socket, in order. */
#define PASSED_MAX 256
static int passed[PASSED_MAX] ;
static unsigned int passed_head = 0, passed_n = 0 ;

static int passed_pop (void)
{
  int fd ;
  if (!passed_n) return -1 ;
  fd = passed[passed_head] ;
  passed_head = (passed_head + 1) % PASSED_MAX ;
  passed_n-- ;
  return fd ;
}

/* Like read, but keeps the descriptors that come along on a socket. */
static ssize_t request_recv (char *buf, size_t len)
{
  static int notsocket = 0 ;
  union { struct cmsghdr h ; char buf[CMSG_SPACE(sizeof(int) * 16)] ; } ctl ;
  struct iovec v = { .iov_base = buf, .iov_len = len } ;
  struct msghdr msg = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf } ;
  ssize_t r ;
  if (notsocket) return fd_read(0, buf, len) ;
  r = recvmsg(0, &msg, MSG_CMSG_CLOEXEC) ;
  if (r < 0 && errno == ENOTSOCK) { notsocket = 1 ; return fd_read(0, buf, len) ; }
  if (r < 0) return r ;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg) ; c ; c = CMSG_NXTHDR(&msg, c))
  {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue ;
    for (size_t i = 0 ; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) ; i++)
    {
      int fd ;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int)) ;
      if (passed_n == PASSED_MAX) { close(fd) ; continue ; }  /* mm-send never sends that many ahead */
      passed[(passed_head + passed_n++) % PASSED_MAX] = fd ;
    }
  }
  return r ;
}

/* Read what mm-send has written. 1 something or EOF, 0 nothing now. */
static int requests_read (void)
{
  char buf[8192] ;
  ssize_t r ;
  if (reqeof) return 0 ;
  r = request_recv(buf, sizeof buf) ;
  if (r < 0)
  {
    if (errno == EAGAIN || errno == EINTR) return 0 ;
    strerr_diefu1sys(EX_TEMPFAIL, "read requests") ;
  }
  if (!r)
  {
    reqeof = 1 ;
    if (reqbuf.len) strerr_warnw1x("a partial request at the end of the input was ignored") ;
    return 1 ;
  }
  if (!stralloc_catb(&reqbuf, buf, r)) nomem() ;
  requests_parse() ;
  return 1 ;
}

/* Until EOF: every request gets this result (no connection possible). */
static void fail_everything (char result, char const *text)
{
  job *j ;
  for (;;)
  {
    while ((j = jobq_pop(&waiting))) { job_setall(j, result, text) ; job_report(j) ; }
    if (reqeof) break ;
    {
      iopause_fd x = { .fd = 0, .events = IOPAUSE_READ, .revents = 0 } ;
      if (iopause_g(&x, 1, &tain_infinite) < 0 && errno != EINTR) strerr_diefu1sys(EX_TEMPFAIL, "iopause") ;
    }
    requests_read() ;
  }
}

/* ------------------------------------------------------------ the connection */

static int sock = -1 ;
static char sinbuf[BUFFER_INSIZE] ;
static buffer sin ;
static stralloc out = STRALLOC_ZERO ;   /* commands and data to send */
static size_t outpos = 0 ;
static uint64_t outqueued = 0, outwritten = 0 ;   /* totals, for "may have been delivered" */
static tain lastio ;
static smtpio_line rline = SMTPIO_LINE_ZERO ;

/* what the server offers (EHLO) */
static int esmtp, pipelining, chunking, eightbitmime, smtputf8, hassize, offerstarttls ;
static uint64_t maxsize ;
static stralloc authoffered = STRALLOC_ZERO ;   /* " MECH MECH " */

static smtpreply rep = SMTPREPLY_ZERO ;

static void out_put (char const *s, size_t n)
{
  if (!stralloc_catb(&out, s, n)) nomem() ;
  outqueued += n ;
}
static void out_puts (char const *s) { out_put(s, strlen(s)) ; }
static size_t out_pending (void) { return out.len - outpos ; }

/* Write what we can without blocking. 1 ok, 0 error. */
static int out_write (void)
{
  while (outpos < out.len)
  {
    ssize_t w = fd_write(sock, out.s + outpos, out.len - outpos) ;
    if (w < 0) return errno == EAGAIN || errno == EINTR ;
    outpos += w ;
    outwritten += w ;
    tain_copynow(&lastio) ;
  }
  out.len = outpos = 0 ;
  return 1 ;
}

/* Feed the bytes in sin to the reply being assembled. 1 a complete
   reply in rep, 0 need more, -1 junk from the server (errno EPROTO). */
static int reply_take (void)
{
  while (!buffer_isempty(&sin))
  {
    struct iovec v[2] ;
    size_t n, used ;
    char const *s ;
    buffer_rpeek(&sin, v) ;
    s = v[0].iov_base ; n = v[0].iov_len ;
    if (!n) { s = v[1].iov_base ; n = v[1].iov_len ; }
    used = smtpio_line_feed(&rline, s, n, REPLYLINE_MAX, SMTPIO_ANYLF) ;
    if (used == (size_t)-1) nomem() ;
    buffer_rseek(&sin, used) ;
    if (!rline.done) continue ;
    {
      int r = smtpreply_line(&rep, rline.text.s, rline.text.len, !!(rline.flags & SMTPIO_NUL)) ;
      if (r == -2) nomem() ;
      if (r) return r ;
    }
  }
  return 0 ;
}

static char const *connerr = 0 ;   /* why the last connection failed */
static stralloc connerrsa = STRALLOC_ZERO ;

static void setconnerr3 (char const *a, char const *b, char const *c)
{
  connerrsa.len = 0 ;
  if (!stralloc_cats(&connerrsa, a) || !stralloc_cats(&connerrsa, b) || !stralloc_cats(&connerrsa, c) || !stralloc_0(&connerrsa)) nomem() ;
  connerr = connerrsa.s ;
}
#define setconnerr(a, b) setconnerr3(a, b, "")

/* Wait for one reply, sending what is queued first. 1 ok (rep), 0 failed (connerr set). */
static int reply_get (unsigned long secs)
{
  tain deadline ;
  tain_now_g() ;
  tain_addsec_g(&deadline, secs) ;
  for (;;)
  {
    int r = reply_take() ;
    iopause_fd x = { .fd = sock, .events = IOPAUSE_READ, .revents = 0 } ;
    if (r > 0) return 1 ;
    if (r < 0) { setconnerr("4.5.0 protocol error: the server sent junk: ", peer.s) ; return 0 ; }
    if (out_pending()) x.events |= IOPAUSE_WRITE ;
    r = iopause_g(&x, 1, &deadline) ;
    if (r < 0) { if (errno == EINTR) continue ; strerr_diefu1sys(EX_TEMPFAIL, "iopause") ; }
    if (!r) { setconnerr("4.4.2 timeout waiting for a reply from ", peer.s) ; return 0 ; }
    if (x.revents & IOPAUSE_WRITE && !out_write()) { setconnerr("4.4.2 connection lost: ", peer.s) ; return 0 ; }
    if (x.revents & (IOPAUSE_READ | IOPAUSE_EXCEPT))
    {
      ssize_t n = buffer_fill(&sin) ;
      if (n > 0) continue ;
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue ;
      setconnerr("4.4.2 connection lost: ", peer.s) ;
      return 0 ;
    }
  }
}

/* "host[ip] said: 550 5.1.1 ..." */
static char const *said_raw (void)
{
  static stralloc sa = STRALLOC_ZERO ;
  sa.len = 0 ;
  if (!stralloc_cats(&sa, peer.s) || !stralloc_cats(&sa, " said: ") || !stralloc_catb(&sa, rep.text.s, rep.text.len) || !stralloc_0(&sa)) nomem() ;
  return sa.s ;
}

/* The text of a result from the server's reply: the enhanced status
   code first, as mm-send's journal wants it, the server's own when it
   gave one (RFC 3463), else one made from the reply code's class. */
static char const *said (void)
{
  static stralloc full = STRALLOC_ZERO ;
  char cls = '0' + rep.code / 100 ;
  char const *t = rep.text.s ;
  full.len = 0 ;
  if (rep.text.len > 9 && t[4] == cls && t[5] == '.' && t[6] >= '0' && t[6] <= '9')
  {
    size_t n = 4 ;
    while (n < rep.text.len && t[n] != ' ') n++ ;
    if (!stralloc_catb(&full, t + 4, n - 4)) nomem() ;
  }
  else
  {
    char code[5] = { cls, '.', '0', '.', '0' } ;
    if (!stralloc_catb(&full, code, 5)) nomem() ;
  }
  if (!stralloc_catb(&full, " ", 1) || !stralloc_cats(&full, said_raw()) || !stralloc_0(&full)) nomem() ;
  return full.s ;
}

static char resultof (unsigned int code)
{
  return code >= 200 && code < 300 ? 'K' : code >= 500 ? 'D' : 'Z' ;
}

static tlsstart tls = TLSSTART_ZERO ;
static int tlson = 0 ;            /* the connection is encrypted: sock is mm-tls's socket */
static char const *tlshost = 0 ;  /* the name to verify and send as SNI */

static void closeconn (void)
{
  if (sock >= 0) fd_close(sock) ;
  sock = -1 ;
  if (tlson) tlsstart_end(&tls) ;   /* mm-tls saw the end of file: reap it */
  tlson = 0 ;
  out.len = outpos = 0 ;
  rline.done = 1 ;
  rep.nlines = 0 ;
}

static void tlsarg (char const *s)
{
  if (!tlsstart_arg(&tls, s)) strerr_dief1x(EX_SOFTWARE, "too many arguments for mm-tls") ;
}

/* mm-tls's arguments for this route and host (mm-tls(8)) */
static void tls_args (void)
{
  static char th[UINT_FMT], tt[UINT_FMT] ;
  th[uint_fmt(th, treply)] = 0 ;
  tt[uint_fmt(tt, (tdata > treply ? tdata : treply) + 60)] = 0 ;
  tls.argc = 1 ; tls.argv[1] = 0 ;
  tlsarg(inspect ? "-cI" : "-c") ;
  tlsarg("-n") ; tlsarg(tlshost) ;
  tlsarg("-t") ; tlsarg(th) ;
  tlsarg("-T") ; tlsarg(tt) ;
  if (tlsca.len) { tlsarg("-C") ; tlsarg(tlsca.s) ; }
  if (tlscert.len) { tlsarg("-a") ; tlsarg(tlscert.s) ; tlsarg("-k") ; tlsarg(tlskey.s) ; }
  if (tlsmin.len) { tlsarg("-m") ; tlsarg(tlsmin.s) ; }
  if (inspect) return ;
  for (size_t i = 0 ; i < tlspins.len ; i += strlen(tlspins.s + i) + 1) { tlsarg("-p") ; tlsarg(tlspins.s + i) ; }
  /* opportunistic: encrypt, but a certificate that does not verify is
     no reason to wait, unless the route named what to trust */
  if (tlsmode == TLS_MAY && !tlsca.len && !tlspins.len) tlsarg("-O") ;
}

/* Hand the connection to mm-tls; sock becomes the plaintext side.
   1 ok, 0 failed (connerr, the connection closed). */
static int tls_begin (void)
{
  tain deadline ;
  int r ;
  tls_args() ;
  tain_now_g() ;
  tain_addsec_g(&deadline, treply + 10) ;
  r = tlsstart_run(&tls, sock, &deadline) ;
  sock = -1 ;
  if (r <= 0)
  {
    setconnerr3("4.7.5 TLS failed with ", peer.s, ": ") ;
    connerrsa.len-- ;
    if (!stralloc_cats(&connerrsa, tls.report.s) || !stralloc_0(&connerrsa)) nomem() ;
    connerr = connerrsa.s ;
    logline("error: ", connerr, "", "") ;
    closeconn() ;
    return 0 ;
  }
  sock = tls.plain ;
  tls.plain = -1 ;
  tlson = 1 ;
  if (ndelay_on(sock) < 0) strerr_diefu1sys(EX_TEMPFAIL, "set the TLS socket non-blocking") ;
  buffer_init(&sin, &buffer_read, sock, sinbuf, sizeof sinbuf) ;
  logline("TLS: ", tls.report.s, "", "") ;
  /* every result text and log line names the protocol and cipher from now on */
  peer.len-- ;
  if (!stralloc_cats(&peer, " (") || !stralloc_cat(&peer, &tls.summary) || !stralloc_cats(&peer, ")") || !stralloc_0(&peer)) nomem() ;
  return 1 ;
}

static void noextensions (void) ;

/* RFC 3207 after EHLO. 1 go on (encrypted, or plaintext where the
   route allows it), 0 failed (connerr). */
static int starttls (void)
{
  if (tlson || tlsmode == TLS_NONE) return 1 ;
  if (!offerstarttls)
  {
    if (tlsmode == TLS_MAY) return 1 ;
    setconnerr("4.7.0 the route requires TLS and the server offers no STARTTLS: ", peer.s) ;
    return 0 ;
  }
  out_puts("STARTTLS\r\n") ;
  if (!reply_get(treply)) return 0 ;
  if (rep.code != 220)
  {
    if (tlsmode == TLS_MAY) { logline("STARTTLS refused, going on without TLS: ", rep.text.s, "", "") ; return 1 ; }
    setconnerr("4.7.0 STARTTLS refused: ", said_raw()) ;
    return 0 ;
  }
  /* CVE-2011-0411: bytes after the 220 were written before the
     handshake, by someone who wants them taken as coming through TLS */
  if (!buffer_isempty(&sin))
  {
    setconnerr("4.7.0 the server sent data after its 220 to STARTTLS (injection?): ", peer.s) ;
    logline("error: ", connerr, "", "") ;
    return 0 ;
  }
  if (!tls_begin()) return 0 ;
  /* RFC 3207 4.2: forget everything the server said before */
  esmtp = 0 ;
  noextensions() ;
  return 2 ;
}

/* Connect to ip:port and read the greeting. 1 ok, 0 failed (connerr). */
static uint16_t peerport ;   /* for OAUTHBEARER */

static int connect_to (ip46 const *ip, uint16_t port)
{
  peerport = port ;
  tain deadline ;
  sock = socket_tcp46_nbcoe(ip46_is6(ip)) ;
  if (sock < 0) { setconnerr("4.4.1 cannot create a socket: ", strerror(errno)) ; return 0 ; }
  tain_now_g() ;
  tain_addsec_g(&deadline, tconnect) ;
  if (!socket_deadlineconnstamp46_g(sock, ip, port, &deadline))
  {
    int e = errno ;
    if (e == ETIMEDOUT) setconnerr("4.4.1 connection timed out: ", peer.s) ;
    else if (e == ECONNREFUSED) setconnerr("4.4.1 connection refused: ", peer.s) ;
    else
    {
      setconnerr3("4.4.1 cannot connect to ", peer.s, ": ") ;
      connerrsa.len-- ;
      if (!stralloc_cats(&connerrsa, strerror(e)) || !stralloc_0(&connerrsa)) nomem() ;
      connerr = connerrsa.s ;
    }
    closeconn() ;
    return 0 ;
  }
  buffer_init(&sin, &buffer_read, sock, sinbuf, sizeof sinbuf) ;
  rline.done = 1 ; rep.nlines = 0 ;
  outqueued = outwritten = 0 ;
  tain_copynow(&lastio) ;
  if (tlsmode == TLS_IMPLICIT && !tls_begin()) return 0 ;
  if (!reply_get(treply)) { closeconn() ; return 0 ; }
  if (rep.code != 220)
  {
    setconnerr("4.4.1 refused at the greeting: ", said_raw()) ;
    closeconn() ;
    return 0 ;
  }
  return 1 ;
}

static void noextensions (void)
{
  pipelining = chunking = eightbitmime = smtputf8 = hassize = offerstarttls = 0 ;
  maxsize = 0 ;
  if (!stralloc_copyb(&authoffered, " ", 1) || !stralloc_0(&authoffered)) nomem() ;
  authoffered.len-- ;
}

static void ehlo_parse (void)
{
  smtpext x ;
  if (!smtpreply_ehlo(&rep, &x, &authoffered)) nomem() ;
  pipelining = x.pipelining ; chunking = x.chunking ; eightbitmime = x.eightbitmime ;
  smtputf8 = x.smtputf8 ; hassize = x.hassize ; maxsize = x.maxsize ;
  offerstarttls = x.starttls ;
}

/* 1 ok, 0 failed (connerr) */
static int helo (void)
{
  out_puts("EHLO ") ; out_puts(rt->helo.s) ; out_puts("\r\n") ;
  if (!reply_get(treply)) return 0 ;
  if (rep.code == 250)
  {
    esmtp = 1 ;
    ehlo_parse() ;
    return 1 ;
  }
  if (rep.code < 500) { setconnerr("4.4.1 EHLO refused: ", said_raw()) ; return 0 ; }
  /* RFC 5321 3.2: an old server, fall back to HELO */
  esmtp = 0 ;
  noextensions() ;
  out_puts("HELO ") ; out_puts(rt->helo.s) ; out_puts("\r\n") ;
  if (!reply_get(treply)) return 0 ;
  if (rep.code != 250) { setconnerr("4.4.1 HELO refused: ", said_raw()) ; return 0 ; }
  return 1 ;
}

static void b64line (char const *s, size_t n)
{
  stralloc sa = STRALLOC_ZERO ;
  if (!base64_cat(&sa, s, n)) nomem() ;
  out_put(sa.s, sa.len) ;
  out_puts("\r\n") ;
  stralloc_free(&sa) ;
}

/* XOAUTH2 and OAUTHBEARER (RFC 7628). The token goes as the initial
   response when the AUTH line stays within 512 octets, else after an
   empty 334 (RFC 4954 4: an initial response never stretches the line).
   A refused token comes back as a 334 with a JSON error: answered, its
   status logged, the final reply read. Same results as auth(). */
static int auth_oauth (char const *mech)
{
  stralloc b64 = STRALLOC_ZERO, status = STRALLOC_ZERO ;
  int bearer = !strcmp(mech, "OAUTHBEARER") ;
  if (!(bearer ? sasl_oauthbearer(&b64, authuser.s, tlshost ? tlshost : destination, peerport, authsecret.s)
               : sasl_xoauth2(&b64, authuser.s, authsecret.s))) nomem() ;
  out_puts("AUTH ") ; out_puts(mech) ;
  if (strlen(mech) + b64.len + 7 > SMTP_COMMAND_MAX)
  {
    out_puts("\r\n") ;
    if (!reply_get(treply)) { secret_free(&b64) ; return 0 ; }
    if (rep.code != 334) goto refused ;
  }
  else out_puts(" ") ;
  out_put(b64.s, b64.len) ;
  out_puts("\r\n") ;
  secret_free(&b64) ;
  if (!reply_get(treply)) return 0 ;
  if (rep.code == 334)
  {
    if (sasl_oauth_status(rep.text.s + 3, &status) < 0) nomem() ;
    out_puts(bearer ? SASL_OAUTHBEARER_ABORT : SASL_XOAUTH2_ABORT) ;
    out_puts("\r\n") ;
    if (!reply_get(treply)) { stralloc_free(&status) ; return 0 ; }
  }
  if (rep.code == 235) { stralloc_free(&status) ; logline("authenticated as ", authuser.s, " with ", mech) ; return 1 ; }
 refused:
  secret_free(&b64) ;
  setconnerr3("4.7.8 the OAuth2 token was refused (", status.len ? status.s : "no status",
    "): run the route's token tool to renew it; the mail waits") ;
  logline("error: authentication as ", authuser.s, " with ", mech) ;
  logline("error: ", connerr, ": ", said_raw()) ;
  stralloc_free(&status) ;
  return -1 ;
}

/* 1 authenticated or no AUTH wanted/offered, 0 connection trouble
   (connerr), -1 the server refused the credentials (connerr) */
static int auth (void)
{
  char const *mech = 0 ;
  char want[32] ;
  size_t i ;
  if (!authmechs.len) return 1 ;
  /* the secret never goes out in clear, unless the route says tls none */
  if (!tlson && tlsmode != TLS_NONE)
  {
    setconnerr("4.7.0 not sending the AUTH secret over a connection that is not encrypted: ", peer.s) ;
    logline("error: ", connerr, "", "") ;
    return 0 ;
  }
  for (i = 0 ; i < authmechs.len ; i += strlen(authmechs.s + i) + 1)
  {
    size_t n = strlen(authmechs.s + i) ;
    if (n + 3 > sizeof want) continue ;
    want[0] = ' ' ; memcpy(want + 1, authmechs.s + i, n) ; want[n+1] = ' ' ; want[n+2] = 0 ;
    if (strstr(authoffered.s, want)) { mech = authmechs.s + i ; break ; }
  }
  if (!mech)
  {
    /* sending without AUTH would only earn a 530 and a bounce: the
       mail waits, as with any other mismatch with the route's server */
    setconnerr3("4.7.0 the server offers none of the AUTH mechanisms in authmech (it offers:",
      authoffered.len > 2 ? authoffered.s : " nothing ", "), so nothing was sent") ;
    logline("error: ", connerr, "", "") ;
    return 0 ;
  }
  if (!strcmp(mech, "PLAIN"))   /* RFC 4616: authzid NUL authcid NUL passwd */
  {
    stralloc sa = STRALLOC_ZERO ;
    if (!stralloc_catb(&sa, "\0", 1) || !stralloc_cat(&sa, &authuser) || !stralloc_catb(&sa, "\0", 1) || !stralloc_cat(&sa, &authsecret)) nomem() ;
    out_puts("AUTH PLAIN ") ;
    b64line(sa.s, sa.len) ;
    stralloc_free(&sa) ;
    if (!reply_get(treply)) return 0 ;
  }
  else if (!strcmp(mech, "LOGIN"))   /* draft-murchison-sasl-login */
  {
    out_puts("AUTH LOGIN\r\n") ;
    if (!reply_get(treply)) return 0 ;
    if (rep.code == 334)
    {
      b64line(authuser.s, authuser.len) ;
      if (!reply_get(treply)) return 0 ;
      if (rep.code == 334)
      {
        b64line(authsecret.s, authsecret.len) ;
        if (!reply_get(treply)) return 0 ;
      }
    }
  }
  else if (!strcmp(mech, "XOAUTH2") || !strcmp(mech, "OAUTHBEARER")) return auth_oauth(mech) ;
  else   /* CRAM-MD5, RFC 2195 */
  {
    out_puts("AUTH CRAM-MD5\r\n") ;
    if (!reply_get(treply)) return 0 ;
    if (rep.code == 334)
    {
      stralloc chal = STRALLOC_ZERO, resp = STRALLOC_ZERO ;
      unsigned char digest[MD5_DIGEST] ;
      char const *b = rep.text.s + 3 ;
      while (*b == ' ') b++ ;
      if (!base64_decode_cat(&chal, b, strlen(b)))
      {
        if (errno == ENOMEM) nomem() ;
        out_puts("*\r\n") ;   /* RFC 4954 4: cancel */
        reply_get(treply) ;
        setconnerr("4.7.0 the server's CRAM-MD5 challenge is not base64: ", peer.s) ;
        stralloc_free(&chal) ;
        return -1 ;
      }
      hmac_md5(authsecret.s, authsecret.len, chal.s, chal.len, digest) ;
      if (!stralloc_copy(&resp, &authuser) || !stralloc_catb(&resp, " ", 1)) nomem() ;
      for (i = 0 ; i < MD5_DIGEST ; i++)
      {
        char hex[2] = { "0123456789abcdef"[digest[i] >> 4], "0123456789abcdef"[digest[i] & 15] } ;
        if (!stralloc_catb(&resp, hex, 2)) nomem() ;
      }
      b64line(resp.s, resp.len) ;
      stralloc_free(&chal) ;
      stralloc_free(&resp) ;
      if (!reply_get(treply)) return 0 ;
    }
  }
  if (rep.code == 235) { logline("authenticated as ", authuser.s, " with ", mech) ; return 1 ; }
  setconnerr("4.7.8 authentication failed: ", said_raw()) ;
  logline("error: authentication as ", authuser.s, " with ", mech) ;
  logline("error: ", connerr, "", "") ;
  return -1 ;
}

/* ------------------------------------------------------------ sending messages */

/* Expected replies, in the order the commands went out. */
#define E_MAIL 'M'
#define E_RCPT 'R'
#define E_DATA 'D'
#define E_DATAEND 'E'
#define E_BDAT 'B'
#define E_RSET 'S'

typedef struct expect_s expect ;
struct expect_s
{
  char kind ;
  job *j ;
  size_t rcpt ;
} ;
static genalloc expects = GENALLOC_ZERO ;
static size_t ehead = 0 ;

static size_t nexpect (void) { return genalloc_len(expect, &expects) - ehead ; }
static void expect_push (char kind, job *j, size_t rcpt)
{
  expect e = { .kind = kind, .j = j, .rcpt = rcpt } ;
  if (!genalloc_append(expect, &expects, &e)) nomem() ;
}
static expect *expect_first (void) { return nexpect() ? genalloc_s(expect, &expects) + ehead : 0 ; }
static void expect_pop (void)
{
  if (++ehead == genalloc_len(expect, &expects)) { ehead = 0 ; genalloc_setlen(expect, &expects, 0) ; }
}

static job *sending = 0 ;    /* its commands are going out (without PIPELINING, one by one) */
static job *datajob = 0 ;    /* its data is going out */
static job *await354 = 0 ;   /* DATA sent, 354 not yet seen: nothing may follow */
/* The commands queued so far may leave the server inside a mail
   transaction: the last MAIL's transaction has not been closed by an end
   of data, or its BDAT LAST has no 2xx yet. The next MAIL is then
   preceded by RSET (RFC 5321 4.1.1.5), so that a refused or unanswered
   transaction can never lend its envelope to the next message. */
static int txnopen = 0 ;
static uint64_t mailsqueued = 0 ;   /* MAIL commands queued on this connection */

static int has8bit (char const *s, size_t n)
{
  for (size_t i = 0 ; i < n ; i++) if ((unsigned char)s[i] >= 128) return 1 ;
  return 0 ;
}

static int hasctl (char const *s)
{
  for (; *s ; s++) if ((unsigned char)*s < 32 || *s == 127) return 1 ;
  return 0 ;
}

static uint64_t crlfsize (char const *s, size_t n)
{
  uint64_t lines = 0 ;
  char const *end = s + n ;
  while (s < end)
  {
    char const *lf = memchr(s, '\n', end - s) ;
    if (!lf) break ;
    lines++ ;
    s = lf + 1 ;
  }
  return n + lines ;
}

/* Map the message, rewrite its header and envelope sender, check the
   limits. 1 ready, 0 finished already (result set). */
static int job_prepare (job *j)
{
  stralloc path = STRALLOC_ZERO ;
  struct stat st ;
  uint64_t len ;
  size_t hl ;
  char const *msg ;
  int fd ;
  /* an address never carries a line end into a command (the queue has
     only valid ones; this is the last line of defence) */
  if (hasctl(j->sa.s + j->sender)) { job_setall(j, 'D', "5.1.7 mm-remote: control characters in the sender address") ; return 0 ; }
  for (size_t i = 0 ; i < JOB_NRCPTS(j) ; i++)
    if (hasctl(j->sa.s + JOB_RCPT(j, i)->addr)) rcpt_set(j, i, 'D', "5.1.3 mm-remote: control characters in the recipient address") ;
  {
    size_t left = 0 ;
    for (size_t i = 0 ; i < JOB_NRCPTS(j) ; i++) if (!JOB_RCPT(j, i)->result) left++ ;
    if (!left) return 0 ;
  }
  if (j->fd >= 0) { fd = j->fd ; j->fd = -1 ; }
  else
  {
    if (!stralloc_cats(&path, "queue/mess/") || !stralloc_cats(&path, JOB_ID(j)) || !stralloc_0(&path)) nomem() ;
    fd = open(path.s, O_RDONLY | O_CLOEXEC) ;
    stralloc_free(&path) ;
  }
  if (fd < 0)
  {
    job_setall(j, 'Z', errno == ENOENT ? "4.3.0 mm-remote: the message is no longer in the queue" : "4.3.0 mm-remote: cannot open the queue file") ;
    return 0 ;
  }
  if (fstat(fd, &st) < 0 || st.st_size < MESS_HEADER_LEN) goto bad ;
  j->maplen = st.st_size ;
  j->map = mmap(0, j->maplen, PROT_READ, MAP_PRIVATE, fd, 0) ;
  if (j->map == MAP_FAILED) { j->map = 0 ; goto bad ; }
  fd_close(fd) ;
  fd = -1 ;
  if (!qfile_header_scan(j->map, &len) || len > (uint64_t)st.st_size - MESS_HEADER_LEN) goto bad ;
  msg = j->map + MESS_HEADER_LEN ;
  hl = header_length(msg, len) ;
  if (rewrite_header(&rw, msg, hl, &j->header) < 0) nomem() ;
  j->body = msg + hl ;
  j->bodylen = len - hl ;
  if (rewrite_address(&rw, j->sa.s + j->sender, strlen(j->sa.s + j->sender), &j->xsender) < 0) nomem() ;
  j->wiresize = crlfsize(j->header.s, j->header.len) + crlfsize(j->body, j->bodylen) ;
  if (len && msg[len-1] != '\n') j->wiresize += 2 ;
  j->eightbit = has8bit(j->header.s, j->header.len) || has8bit(j->body, j->bodylen) ;
  j->utf8 = has8bit(j->xsender.s, j->xsender.len) ;
  for (size_t i = 0 ; i < JOB_NRCPTS(j) ; i++)
    if (has8bit(j->sa.s + JOB_RCPT(j, i)->addr, strlen(j->sa.s + JOB_RCPT(j, i)->addr))) j->utf8 = 1 ;
  if (hassize && maxsize && j->wiresize > maxsize)
  {
    static stralloc sa = STRALLOC_ZERO ;
    char fmt[UINT64_FMT] ;
    fmt[uint64_fmt(fmt, maxsize)] = 0 ;
    sa.len = 0 ;
    if (!stralloc_cats(&sa, "5.3.4 message too big for ") || !stralloc_cats(&sa, peer.s)
     || !stralloc_cats(&sa, " (it takes at most ") || !stralloc_cats(&sa, fmt) || !stralloc_cats(&sa, " bytes)") || !stralloc_0(&sa)) nomem() ;
    job_setall(j, 'D', sa.s) ;
    return 0 ;
  }
  if (j->utf8 && !smtputf8)
  {
    job_setall(j, 'D', "5.6.7 non-ASCII address, and the server does not offer SMTPUTF8 (RFC 6531)") ;
    return 0 ;
  }
  j->part = 0 ; j->pos = 0 ; j->bol = 1 ;
  return 1 ;
 bad:
  if (fd >= 0) fd_close(fd) ;
  job_setall(j, 'Z', "4.3.0 mm-remote: cannot read the queue file") ;
  return 0 ;
}

/* Queue up to about max bytes of the data, CRLF line ends, dot-stuffed
   unless for BDAT. 1 when the whole data is queued. */
static int stream (job *j, size_t max, int stuff)
{
  while (max && j->part < 2)
  {
    char const *s = j->part ? j->body : j->header.s ;
    size_t n = j->part ? j->bodylen : j->header.len ;
    while (j->pos < n && max)
    {
      char const *p = s + j->pos ;
      size_t left = n - j->pos, k ;
      char const *lf ;
      if (j->bol && stuff && *p == '.') out_put(".", 1) ;
      if (left > max) left = max ;
      lf = memchr(p, '\n', left) ;
      k = lf ? (size_t)(lf - p) : left ;
      out_put(p, k) ;
      if (lf) { out_put("\r\n", 2) ; k++ ; j->bol = 1 ; }
      else j->bol = 0 ;
      j->pos += k ;
      max = max > k ? max - k : 0 ;
    }
    if (j->pos < n) return 0 ;
    j->part++ ;
    j->pos = 0 ;
  }
  if (j->part < 2) return 0 ;
  if (!j->bol) { out_put("\r\n", 2) ; j->bol = 1 ; }
  return 1 ;
}

static void mail_command (job *j)
{
  char fmt[UINT64_FMT] ;
  if (txnopen)
  {
    out_puts("RSET\r\n") ;
    expect_push(E_RSET, 0, 0) ;
  }
  txnopen = 1 ;
  j->mailseq = ++mailsqueued ;
  out_puts("MAIL FROM:<") ;
  out_put(j->xsender.s, j->xsender.len) ;
  out_puts(">") ;
  if (hassize)
  {
    fmt[uint64_fmt(fmt, j->wiresize)] = 0 ;
    out_puts(" SIZE=") ; out_puts(fmt) ;
  }
  if (j->eightbit && eightbitmime) out_puts(" BODY=8BITMIME") ;
  if (j->utf8 && smtputf8) out_puts(" SMTPUTF8") ;
  out_puts("\r\n") ;
  expect_push(E_MAIL, j, 0) ;
}

/* The last command of a message: DATA, or BDAT with the whole data. */
static void data_command (job *j)
{
  if (chunking)
  {
    char fmt[UINT64_FMT] ;
    fmt[uint64_fmt(fmt, j->wiresize)] = 0 ;
    out_puts("BDAT ") ; out_puts(fmt) ; out_puts(" LAST\r\n") ;
    datajob = j ;
  }
  else
  {
    out_puts("DATA\r\n") ;
    expect_push(E_DATA, j, 0) ;
    await354 = j ;
  }
}

static void job_done (job *) ;

/* Keep the output filled: data, then the next commands, as far as the
   protocol allows without a reply. */
static void produce (void)
{
  while (out_pending() < OUT_LOW)
  {
    if (datajob)
    {
      job *j = datajob ;
      if (!stream(j, OUT_LOW, !chunking)) continue ;
      /* RFC 5321 4.1.1.4: the end of data clears the transaction,
         whatever its reply */
      if (!chunking) { out_puts(".\r\n") ; if (j->mailseq == mailsqueued) txnopen = 0 ; }
      j->termend = outqueued ;
      expect_push(chunking ? E_BDAT : E_DATAEND, j, 0) ;
      datajob = 0 ;
      continue ;
    }
    if (await354) break ;
    if (!pipelining && nexpect()) break ;
    if (!sending)
    {
      job *j ;
      if (jobq_len(&inflight) >= INFLIGHT_MAX) break ;
      j = jobq_pop(&waiting) ;
      if (!j) break ;
      if (!job_prepare(j)) { job_report(j) ; continue ; }
      jobq_push(&inflight, j) ;
      sending = j ;
      j->stage = 0 ;
    }
    {
      job *j = sending ;
      size_t n = JOB_NRCPTS(j) ;
      if (!pipelining)
      {
        /* one command at a time; a refused MAIL or no recipient ends it */
        if (j->stage == 0) mail_command(j) ;
        else if (j->mailfailed) { sending = 0 ; job_done(j) ; continue ; }
        else if (j->stage <= n)
        {
          if (JOB_RCPT(j, j->stage - 1)->result) { j->stage++ ; continue ; }  /* failed already */
          out_puts("RCPT TO:<") ; out_puts(j->sa.s + JOB_RCPT(j, j->stage - 1)->addr) ; out_puts(">\r\n") ;
          expect_push(E_RCPT, j, j->stage - 1) ;
        }
        else if (!j->naccepted) { sending = 0 ; job_done(j) ; continue ; }  /* the next MAIL resets */
        else { data_command(j) ; sending = 0 ; }
        j->stage++ ;
        continue ;
      }
      mail_command(j) ;
      for (size_t i = 0 ; i < n ; i++)
      {
        if (JOB_RCPT(j, i)->result) continue ;  /* failed already */
        out_puts("RCPT TO:<") ; out_puts(j->sa.s + JOB_RCPT(j, i)->addr) ; out_puts(">\r\n") ;
        expect_push(E_RCPT, j, i) ;
      }
      data_command(j) ;
      sending = 0 ;
    }
  }
}

/* A job whose last reply came: report it and take it off the flight. */
static void job_done (job *j)
{
  /* replies come in order, so it is the first in flight */
  if (jobq_first(&inflight) == j) jobq_pop(&inflight) ;
  else
  {
    size_t n = jobq_len(&inflight) ;
    for (size_t i = 0 ; i < n ; i++)
      if (jobq_at(&inflight, i) == j)
      {
        job **a = genalloc_s(job *, &inflight.q) + inflight.head ;
        memmove(a + i, a + i + 1, (n - i - 1) * sizeof(job *)) ;
        genalloc_setlen(job *, &inflight.q, genalloc_len(job *, &inflight.q) - 1) ;
        break ;
      }
  }
  job_report(j) ;
}

/* A reply that does not fit the state the client knows the server to be
   in: the server sees another transaction than the client does, so
   nothing more may go over this connection. */
#define REPLY_JUNK 0
#define REPLY_OK 1
#define REPLY_OUTOFSEQ (-1)
static char const *outofseq = "" ;

static int reply_mail (job *j)
{
  if (rep.code / 100 == 2) return REPLY_OK ;
  /* 503 to MAIL: the server thinks a transaction is open */
  if (rep.code == 503) { outofseq = "503 to MAIL" ; return REPLY_OUTOFSEQ ; }
  /* without PIPELINING, produce() ends the job */
  j->mailfailed = 1 ;
  job_setall(j, resultof(rep.code), said()) ;
  return REPLY_OK ;
}

static int reply_rcpt (job *j, size_t i)
{
  if (j->mailfailed)
  {
    /* its result is MAIL's; a server that takes a recipient without a
       sender holds an envelope the client does not know of */
    if (rep.code / 100 == 2) { outofseq = "RCPT accepted after a refused MAIL" ; return REPLY_OUTOFSEQ ; }
    return REPLY_OK ;
  }
  if (rep.code / 100 == 2) { JOB_RCPT(j, i)->accepted = 1 ; j->naccepted++ ; }
  else rcpt_set(j, i, resultof(rep.code), said()) ;
  return REPLY_OK ;
}

static int reply_data (job *j)
{
  await354 = 0 ;
  if (rep.code == 354)
  {
    /* no data ever goes out for a transaction whose MAIL was refused */
    if (j->mailfailed) { outofseq = "354 to DATA after a refused MAIL" ; return REPLY_OUTOFSEQ ; }
    /* RFC 2920 3.1: even with no recipient accepted, a 354 must be
       followed by the end of data; it then carries nothing */
    if (!j->naccepted) { j->part = 2 ; j->bol = 1 ; }
    datajob = j ;
    return REPLY_OK ;
  }
  /* the transaction stays open on the server: txnopen makes the next
     MAIL go after a RSET */
  if (!j->mailfailed) job_setall(j, resultof(rep.code), said()) ;
  job_done(j) ;
  return REPLY_OK ;
}

static int reply_dataend (job *j, int bdat)
{
  if (j->mailfailed)
  {
    if (rep.code / 100 == 2) { outofseq = "data accepted after a refused MAIL" ; return REPLY_OUTOFSEQ ; }
  }
  else if (j->naccepted)
  {
    char res = resultof(rep.code) ;
    char const *text = said() ;
    for (size_t i = 0 ; i < JOB_NRCPTS(j) ; i++)
      if (JOB_RCPT(j, i)->accepted) rcpt_set(j, i, res, text) ;
  }
  /* a BDAT LAST that got its 2xx before another MAIL went out leaves the
     server outside a transaction */
  if (bdat && rep.code / 100 == 2 && j->mailseq == mailsqueued) txnopen = 0 ;
  job_setall(j, 'Z', "4.3.0 no recipient was accepted") ;
  job_done(j) ;
  return REPLY_OK ;
}

/* One reply, matched with the oldest command: REPLY_OK, REPLY_JUNK (no
   command waits for it) or REPLY_OUTOFSEQ (outofseq says why). */
static int handle_reply (void)
{
  expect e ;
  if (!nexpect()) return REPLY_JUNK ;
  e = *expect_first() ;
  expect_pop() ;
  switch (e.kind)
  {
    case E_MAIL : return reply_mail(e.j) ;
    case E_RCPT : return reply_rcpt(e.j, e.rcpt) ;
    case E_RSET :
      if (rep.code / 100 == 2) return REPLY_OK ;
      outofseq = "RSET refused" ;
      return REPLY_OUTOFSEQ ;
    case E_DATA : return reply_data(e.j) ;
    case E_DATAEND : return reply_dataend(e.j, 0) ;
    case E_BDAT : return reply_dataend(e.j, 1) ;
    default : return REPLY_JUNK ;
  }
}

/* The connection broke: the jobs in flight get their results. */
static void fail_inflight (char const *why)
{
  static stralloc maybe = STRALLOC_ZERO ;
  job *j ;
  maybe.len = 0 ;
  if (!stralloc_cats(&maybe, "4.4.2 connection to ") || !stralloc_cats(&maybe, peer.s)
   || !stralloc_cats(&maybe, " lost after the end of data: may have been delivered (") || !stralloc_cats(&maybe, why)
   || !stralloc_cats(&maybe, ")") || !stralloc_0(&maybe)) nomem() ;
  while ((j = jobq_pop(&inflight)))
  {
    int sent = j->termend && outwritten >= j->termend ;
    if (sent) logline("msg ", JOB_ID(j), ": warning: the connection was lost after the end of data: the message may have been delivered", "") ;
    job_setall(j, 'Z', sent ? maybe.s : why) ;
    job_report(j) ;
  }
  genalloc_setlen(expect, &expects, 0) ;
  ehead = 0 ;
  sending = datajob = await354 = 0 ;
}

#define SESSION_DONE 0
#define SESSION_FAILED 1      /* jobs were lost with it: next address */
#define SESSION_IDLE_LOST 2   /* the server hung up while nothing was going on */

/* Send everything over the open connection until mm-send is done. */
static int session (void)
{
  txnopen = 0 ;
  mailsqueued = 0 ;
  for (;;)
  {
    iopause_fd x[2] ;
    unsigned int n = 0 ;
    int busy, r ;
    tain deadline ;
    produce() ;
    if (reqeof && !jobq_len(&waiting) && !jobq_len(&inflight) && !nexpect() && !out_pending() && !sending && !datajob)
      return SESSION_DONE ;
    busy = nexpect() || out_pending() ;
    x[n].fd = sock ; x[n].events = IOPAUSE_READ ; x[n].revents = 0 ;
    if (out_pending()) x[n].events |= IOPAUSE_WRITE ;
    n++ ;
    if (!reqeof) { x[n].fd = 0 ; x[n].events = IOPAUSE_READ ; x[n].revents = 0 ; n++ ; }
    if (busy)
    {
      expect *e = expect_first() ;
      int slow = datajob || (e && (e->kind == E_DATAEND || e->kind == E_BDAT)) ;
      tain_addsec(&deadline, &lastio, slow ? tdata : treply) ;
    }
    else deadline = tain_infinite ;
    r = iopause_g(x, n, &deadline) ;
    if (r < 0)
    {
      if (errno == EINTR) continue ;
      strerr_diefu1sys(EX_TEMPFAIL, "iopause") ;
    }
    if (!r)
    {
      setconnerr("4.4.2 timeout waiting for ", peer.s) ;
      logline("error: timeout: no progress for too long", "", "", "") ;
      fail_inflight(connerr) ;
      return SESSION_FAILED ;
    }
    if (n > 1 && x[1].revents) requests_read() ;
    if (x[0].revents & IOPAUSE_WRITE && !out_write())
    {
      setconnerr("4.4.2 connection lost while sending to ", peer.s) ;
      logline("error: connection lost while sending: ", strerror(errno), "", "") ;
      fail_inflight(connerr) ;
      return SESSION_FAILED ;
    }
    if (x[0].revents & (IOPAUSE_READ | IOPAUSE_EXCEPT))
    {
      ssize_t got = buffer_fill(&sin) ;
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue ;
      if (got <= 0)
      {
        int idle = !jobq_len(&inflight) && !nexpect() ;
        setconnerr("4.4.2 connection lost: ", peer.s) ;
        if (idle) { logline("the server closed the connection", "", "", "") ; return SESSION_IDLE_LOST ; }
        logline("error: the server closed the connection in the middle of a transaction", "", "", "") ;
        fail_inflight(connerr) ;
        return SESSION_FAILED ;
      }
      tain_copynow(&lastio) ;
      while ((r = reply_take()) > 0)
      {
        int h = handle_reply() ;
        if (h == REPLY_OUTOFSEQ)
        {
          setconnerr3("4.5.0 protocol error: a reply out of sequence from ", peer.s, "") ;
          logline("error: a reply out of sequence (", outofseq, "): ", rep.text.s) ;
          fail_inflight(connerr) ;
          return SESSION_FAILED ;
        }
        if (h == REPLY_JUNK)
        {
          /* RFC 5321 3.8: a server may say 421 and close when it wants */
          if (rep.code == 421 && !nexpect() && !jobq_len(&inflight))
          {
            setconnerr("4.4.2 the server closed the connection: ", said_raw()) ;
            logline("the server is closing the connection: ", rep.text.s, "", "") ;
            return SESSION_IDLE_LOST ;
          }
          setconnerr("4.5.0 protocol error: an unexpected reply from ", peer.s) ;
          logline("error: an unexpected reply: ", rep.text.s, "", "") ;
          fail_inflight(connerr) ;
          return SESSION_FAILED ;
        }
      }
      if (r < 0)
      {
        setconnerr("4.5.0 protocol error: the server sent junk: ", peer.s) ;
        logline("error: the server sent something that is not an SMTP reply", "", "", "") ;
        fail_inflight(connerr) ;
        return SESSION_FAILED ;
      }
    }
  }
}

static void quit (void)
{
  out_puts("QUIT\r\n") ;
  reply_get(treply < 10 ? treply : 10) ;
  closeconn() ;
}

/* ------------------------------------------------------------ where to connect */

typedef struct target_s target ;
struct target_s
{
  size_t host ;   /* in targetnames */
  ip46 ip ;
  uint16_t port ;
} ;
static genalloc targets = GENALLOC_ZERO ;
static stralloc targetnames = STRALLOC_ZERO ;

static void target_add (char const *host, ip46 const *ip, uint16_t port)
{
  target t = { .host = targetnames.len, .ip = *ip, .port = port } ;
  if (!stralloc_cats(&targetnames, host) || !stralloc_0(&targetnames)) nomem() ;
  if (!genalloc_append(target, &targets, &t)) nomem() ;
}

/* An address literal: "1.2.3.4", "::1", "[1.2.3.4]", "[IPv6:::1]" */
static int literal (char const *s, ip46 *ip)
{
  char tmp[64] ;
  size_t n = strlen(s) ;
  if (n >= sizeof tmp) return 0 ;
  if (s[0] == '[' && n > 2 && s[n-1] == ']')
  {
    s++ ; n -= 2 ;
    if (n > 5 && !strncasecmp(s, "IPv6:", 5)) { s += 5 ; n -= 5 ; }
  }
  memcpy(tmp, s, n) ; tmp[n] = 0 ;
  n = ip46_scan(tmp, ip) ;
  return n && !tmp[n] ;
}

/* Fill targets. 1 ok; else fails every request and returns 0. */
static int find_targets (void)
{
  static stralloc why = STRALLOC_ZERO ;
  ip46 ip ;
  why.len = 0 ;
  if (rt->smarthost.len)
  {
    genalloc ips = GENALLOC_ZERO ;
    int e ;
    if (literal(rt->smarthost.s, &ip)) { target_add(rt->smarthost.s, &ip, rt->port) ; return 1 ; }
    e = dns_ip46_lookup(&ips, rt->smarthost.s) ;
    if (e == DNS_OK)
    {
      for (size_t i = 0 ; i < genalloc_len(ip46, &ips) ; i++) target_add(rt->smarthost.s, genalloc_s(ip46, &ips) + i, rt->port) ;
      genalloc_free(ip46, &ips) ;
      return 1 ;
    }
    genalloc_free(ip46, &ips) ;
    /* a smarthost that is not found is a configuration or DNS problem:
       never a reason to bounce */
    if (!stralloc_cats(&why, e == DNS_TEMP ? "4.4.3 temporary DNS failure looking up the smarthost " : "4.4.3 smarthost not found in the DNS: ")
     || !stralloc_cats(&why, rt->smarthost.s) || !stralloc_0(&why)) nomem() ;
    logline("error: ", why.s, "", "") ;
    fail_everything('Z', why.s) ;
    return 0 ;
  }
  if (literal(destination, &ip)) { target_add(destination, &ip, directport) ; return 1 ; }
  {
    genalloc mxs = GENALLOC_ZERO ;
    stralloc names = STRALLOC_ZERO ;
    int e = dns_mx_lookup(&mxs, &names, destination), temp = 0 ;
    char result = 'Z' ;
    if (e == DNS_OK)
    {
      for (size_t i = 0 ; i < genalloc_len(dns_mx, &mxs) ; i++)
      {
        genalloc ips = GENALLOC_ZERO ;
        char const *host = names.s + genalloc_s(dns_mx, &mxs)[i].name ;
        int f = dns_ip46_lookup(&ips, host) ;
        if (f == DNS_TEMP) temp = 1 ;
        for (size_t k = 0 ; k < genalloc_len(ip46, &ips) ; k++) target_add(host, genalloc_s(ip46, &ips) + k, directport) ;
        genalloc_free(ip46, &ips) ;
      }
      if (genalloc_len(target, &targets)) { genalloc_free(dns_mx, &mxs) ; stralloc_free(&names) ; return 1 ; }
      if (!stralloc_cats(&why, temp ? "4.4.3 temporary DNS failure looking up the MX hosts of " : "5.4.4 no MX host of ")
       || !stralloc_cats(&why, destination) || !stralloc_cats(&why, temp ? "" : " has an address")) nomem() ;
      result = temp ? 'Z' : 'D' ;
    }
    else if (e == DNS_NODATA)
    {
      /* RFC 5321 5.1: no MX, the domain itself is the host */
      genalloc ips = GENALLOC_ZERO ;
      int f = dns_ip46_lookup(&ips, destination) ;
      for (size_t k = 0 ; k < genalloc_len(ip46, &ips) ; k++) target_add(destination, genalloc_s(ip46, &ips) + k, directport) ;
      genalloc_free(ip46, &ips) ;
      if (genalloc_len(target, &targets)) { genalloc_free(dns_mx, &mxs) ; stralloc_free(&names) ; return 1 ; }
      result = f == DNS_TEMP ? 'Z' : 'D' ;
      if (!stralloc_cats(&why, result == 'Z' ? "4.4.3 temporary DNS failure looking up " : "5.1.2 no MX, A or AAAA record for ")
       || !stralloc_cats(&why, destination)) nomem() ;
    }
    else if (e == DNS_NXDOMAIN)
    {
      result = 'D' ;
      if (!stralloc_cats(&why, "5.1.2 domain not found in the DNS: ") || !stralloc_cats(&why, destination)) nomem() ;
    }
    else if (e == DNS_NULLMX)
    {
      result = 'D' ;
      if (!stralloc_cats(&why, "5.1.10 ") || !stralloc_cats(&why, destination) || !stralloc_cats(&why, " accepts no mail (null MX, RFC 7505)")) nomem() ;
    }
    else if (!stralloc_cats(&why, "4.4.3 temporary DNS failure looking up the MX of ") || !stralloc_cats(&why, destination)) nomem() ;
    if (!stralloc_0(&why)) nomem() ;
    genalloc_free(dns_mx, &mxs) ;
    stralloc_free(&names) ;
    logline("error: ", why.s, "", "") ;
    fail_everything(result, why.s) ;
    return 0 ;
  }
}

/* ------------------------------------------------------------ the route's settings */

static void config_fail (char const *why) gccattr_noreturn ;
static void config_fail (char const *why)
{
  strerr_warnw4x("route ", routename, ": ", why) ;
  fail_everything('Z', why) ;
  _exit(0) ;
}

static unsigned long duration (char const *file, unsigned long def)
{
  stralloc rel = STRALLOC_ZERO, sa = STRALLOC_ZERO ;
  unsigned long secs = def ;
  int r ;
  if (!route_file(&rel, rt, file)) nomem() ;
  r = control_readline(&sa, rel.s, 0) ;
  if (r < 0) config_fail("4.3.5 cannot read a timeout file") ;
  if (r > 0 && (!duration_scan(sa.s, &secs) || !secs)) config_fail("4.3.5 a timeout file is malformed") ;
  stralloc_free(&rel) ;
  stralloc_free(&sa) ;
  return secs ;
}

/* The secret: readable by the remote user alone (mm-routes(5)). */
/* The AUTH secret: the first line of what authcommand prints, run again
   at each attempt so that a refreshed OAuth2 token is picked up, or the
   authsecret file. Never logged, never in an argument list. */
static void read_secret (void)
{
  stralloc rel = STRALLOC_ZERO, msg = STRALLOC_ZERO, diag = STRALLOC_ZERO ;
  char const *why = 0 ;
  struct stat st ;
  int r ;
  if (!route_file(&rel, rt, "authcommand")) nomem() ;
  if (lstat(rel.s, &st) == 0)
  {
    r = secret_command(rel.s, duration("timeout-authcommand", SECRET_COMMAND_TIMEOUT), &authsecret, &diag, &why) ;
    if (r < 0) nomem() ;
    if (!r)
    {
      if (!stralloc_cats(&msg, "4.7.0 authcommand ") || !stralloc_cats(&msg, why)
       || (diag.len && (!stralloc_cats(&msg, " (") || !stralloc_cat(&msg, &diag) || !stralloc_cats(&msg, ")")))
       || !stralloc_cats(&msg, ": the secret cannot be had; run the token tool by hand to renew it") || !stralloc_0(&msg)) nomem() ;
      config_fail(msg.s) ;
    }
  }
  else if (errno != ENOENT) config_fail("4.3.5 cannot read authcommand") ;
  else
  {
    if (!route_file(&rel, rt, "authsecret")) nomem() ;
    r = secret_file(rel.s, &authsecret, &why) ;
    if (r < 0) nomem() ;
    if (!r && !strcmp(why, "is missing")) config_fail("4.3.5 authmech is set but neither authsecret nor authcommand exists") ;
    if (!r)
    {
      if (!stralloc_cats(&msg, "4.3.5 authsecret ") || !stralloc_cats(&msg, why) || !stralloc_0(&msg)) nomem() ;
      config_fail(msg.s) ;
    }
  }
  stralloc_free(&rel) ;
  stralloc_free(&msg) ;
  stralloc_free(&diag) ;
}

static void read_tlsfile (stralloc *sa, char const *file)
{
  stralloc rel = STRALLOC_ZERO ;
  if (!route_file(&rel, rt, file)) nomem() ;
  if (control_readline(sa, rel.s, 0) < 0) config_fail("4.3.5 cannot read a tls file of the route") ;
  if (sa->len && !sa->s[sa->len - 1]) sa->len-- ;   /* NUL-terminated, the NUL not counted */
  stralloc_free(&rel) ;
}

/* tls, tlsca, tlspin, tlscert, tlskey, tlsmin (mm-routes(5)) */
static void read_tls (void)
{
  stralloc sa = STRALLOC_ZERO, rel = STRALLOC_ZERO ;
  read_tlsfile(&sa, "tls") ;
  if (!sa.len) tlsmode = TLS_MAY ;
  else if (!strcasecmp(sa.s, "starttls")) tlsmode = TLS_STARTTLS ;
  else if (!strcasecmp(sa.s, "implicit")) tlsmode = TLS_IMPLICIT ;
  else if (!strcasecmp(sa.s, "none")) tlsmode = TLS_NONE ;
  else if (!strcasecmp(sa.s, "opportunistic")) tlsmode = TLS_MAY ;
  else config_fail("4.3.5 tls: starttls, implicit, opportunistic or none") ;
  read_tlsfile(&tlsca, "tlsca") ;
  read_tlsfile(&tlscert, "tlscert") ;
  read_tlsfile(&tlskey, "tlskey") ;
  read_tlsfile(&tlsmin, "tlsmin") ;
  if (!tlscert.len != !tlskey.len) config_fail("4.3.5 tlscert and tlskey go together") ;
  if (tlsmin.len && strcmp(tlsmin.s, "1.2") && strcmp(tlsmin.s, "1.3")) config_fail("4.3.5 tlsmin: 1.2 or 1.3") ;
  if (!route_file(&rel, rt, "tlspin")) nomem() ;
  if (control_readlines(&tlspins, rel.s) < 0) config_fail("4.3.5 cannot read tlspin") ;
  for (size_t i = 0 ; i < tlspins.len ; i += strlen(tlspins.s + i) + 1)
  {
    char const *p = tlspins.s + i ;
    size_t n ;
    if (!strncasecmp(p, "sha256:", 7)) p += 7 ;
    n = strspn(p, "0123456789abcdefABCDEF") ;
    if (n != 64 || p[n]) config_fail("4.3.5 tlspin: each line is sha256: and 64 hex digits") ;
  }
  if (tlsmode == TLS_IMPLICIT && rt->smarthost.len && !rt->portgiven) rt->port = PORT_SUBMISSIONS ;
  stralloc_free(&sa) ;
  stralloc_free(&rel) ;
}

static void read_route (void)
{
  char const *why = "" ;
  stralloc rel = STRALLOC_ZERO, sa = STRALLOC_ZERO ;
  unsigned int line = 0 ;
  int r = routes_load(&routes, &why) ;
  if (r < 0) config_fail("4.3.5 cannot read control/routes") ;
  if (!r) config_fail(why) ;
  rt = routes_find(&routes, routename) ;
  if (!rt) config_fail("4.3.5 no such route in control/routes") ;
  if (rt->broken)
  {
    /* its mail waits with the reason; the other routes are not touched */
    if (!stralloc_cats(&sa, "4.3.5 ") || !stralloc_cats(&sa, rt->why.s) || !stralloc_0(&sa)) nomem() ;
    config_fail(sa.s) ;
  }
  tconnect = duration("timeout-connect", TIMEOUT_CONNECT) ;
  treply = duration("timeout-reply", TIMEOUT_REPLY) ;
  tdata = duration("timeout-data", TIMEOUT_DATA) ;
  if (!route_file(&rel, rt, "port")) nomem() ;
  {
    unsigned long port ;
    r = control_readulong(&port, rel.s, PORT_SMTP) ;
    if (r < 0 || !port || port > 65535) config_fail("4.3.5 the port file is malformed") ;
    directport = port ;
  }
  if (!route_file(&rel, rt, "rewrite")) nomem() ;
  r = rewrite_load(&rw, rel.s, &line) ;
  if (r == -1) config_fail("4.3.5 cannot read the rewrite file") ;
  if (r == -2) config_fail("4.3.5 the rewrite file is malformed") ;
  if (!route_file(&rel, rt, "authmech")) nomem() ;
  if (control_readline(&sa, rel.s, 0) < 0) config_fail("4.3.5 cannot read authmech") ;
  /* one or more mechanisms, the first the server offers is used */
  for (size_t i = 0 ; i < sa.len ;)
  {
    size_t j = i ;
    while (j < sa.len && sa.s[j] != ' ' && sa.s[j] != '\t' && sa.s[j] != ',') j++ ;
    if (j > i)
    {
      size_t start = authmechs.len ;
      if (!stralloc_catb(&authmechs, sa.s + i, j - i) || !stralloc_0(&authmechs)) nomem() ;
      for (size_t k = start ; k < authmechs.len ; k++)
        if (authmechs.s[k] >= 'a' && authmechs.s[k] <= 'z') authmechs.s[k] -= 'a' - 'A' ;
      if (strcmp(authmechs.s + start, "PLAIN") && strcmp(authmechs.s + start, "LOGIN") && strcmp(authmechs.s + start, "CRAM-MD5")
       && strcmp(authmechs.s + start, "XOAUTH2") && strcmp(authmechs.s + start, "OAUTHBEARER"))
        config_fail("4.3.5 authmech: only PLAIN, LOGIN, CRAM-MD5, XOAUTH2 and OAUTHBEARER are known") ;
    }
    i = j + 1 ;
  }
  if (authmechs.len)
  {
    if (!route_file(&rel, rt, "authuser")) nomem() ;
    if (control_readline(&authuser, rel.s, 0) <= 0 || !authuser.len) config_fail("4.3.5 authmech is set but authuser is missing") ;
    read_secret() ;
  }
  read_tls() ;
  stralloc_free(&rel) ;
  stralloc_free(&sa) ;
}

/* ------------------------------------------------------------ main */

static void setpeer (char const *host, ip46 const *ip)
{
  char fmt[IP46_FMT] ;
  fmt[ip46_fmt(fmt, ip)] = 0 ;
  peer.len = 0 ;
  if (!stralloc_cats(&peer, host) || !stralloc_catb(&peer, "[", 1) || !stralloc_cats(&peer, fmt)
   || !stralloc_catb(&peer, "]", 1) || !stralloc_0(&peer)) nomem() ;
}

/* -i: connect as for mail, start TLS and print what the server shows */
/* Connect to a target and make it ready for mail: greeting, EHLO,
   STARTTLS as the route says, EHLO again, AUTH. 1 ready, 0 this host
   cannot be used, -1 the credentials were refused (connection closed,
   connerr set and logged in both cases). */
static int session_open (target const *tg)
{
  int r ;
  setpeer(targetnames.s + tg->host, &tg->ip) ;
  tlshost = targetnames.s + tg->host ;
  if (!connect_to(&tg->ip, tg->port))
  {
    logline("cannot use this host: ", connerr, "", "") ;
    return 0 ;
  }
  if (routetest) logline("greeting: ", rep.text.s, "", "") ;
  r = helo() ;
  if (r && routetest) logline("EHLO: ", rep.text.s, "", "") ;
  if (r) r = starttls() ;
  if (r == 2)
  {
    r = helo() ;
    if (r && routetest) logline("EHLO after STARTTLS: ", rep.text.s, "", "") ;
  }
  if (!r)
  {
    logline("cannot use this host: ", connerr, "", "") ;
    closeconn() ;
    return 0 ;
  }
  r = auth() ;
  if (r < 0)
  {
    out_puts("QUIT\r\n") ;
    out_write() ;
    closeconn() ;
    return -1 ;
  }
  if (!r) { logline("cannot use this host: ", connerr, "", "") ; closeconn() ; return 0 ; }
  if (routetest && !authmechs.len) logline("AUTH: none configured", "", "", "") ;
  {
    static stralloc ext = STRALLOC_ZERO ;
    ext.len = 0 ;
    if (!stralloc_cats(&ext, esmtp ? "ESMTP" : "SMTP") || (pipelining && !stralloc_cats(&ext, " PIPELINING"))
     || (chunking && !stralloc_cats(&ext, " CHUNKING")) || (hassize && !stralloc_cats(&ext, " SIZE"))
     || !stralloc_0(&ext)) nomem() ;
    logline("connected, ", ext.s, "", "") ;
  }
  return 1 ;
}

/* -t: the route's way out, step by step, without sending mail (what an
   administrator would otherwise do with swaks --auth). */
static int routetest_run (void)
{
  read_route() ;
  if (!rt->smarthost.len && !destination[0]) strerr_dieusage(EX_USAGE, USAGE) ;
  reqeof = 1 ;
  if (!find_targets()) return EX_TEMPFAIL ;
  for (size_t t = 0 ; t < genalloc_len(target, &targets) ; t++)
  {
    int r = session_open(genalloc_s(target, &targets) + t) ;
    if (r < 0) return EX_TEMPFAIL ;
    if (!r) continue ;
    out_puts("QUIT\r\n") ;
    if (reply_get(treply < 10 ? treply : 10)) logline("QUIT: ", rep.text.s, "", "") ;
    closeconn() ;
    logline("the route works: no mail was sent", "", "", "") ;
    return 0 ;
  }
  logline("giving up: ", connerr, "", "") ;
  return EX_TEMPFAIL ;
}

static int inspect_run (void)
{
  read_route() ;
  if (!rt->smarthost.len && !destination[0]) strerr_dieusage(EX_USAGE, USAGE) ;
  reqeof = 1 ;
  if (tlsmode != TLS_IMPLICIT) tlsmode = TLS_STARTTLS ;
  if (!find_targets()) return EX_TEMPFAIL ;
  for (size_t t = 0 ; t < genalloc_len(target, &targets) ; t++)
  {
    target const *tg = genalloc_s(target, &targets) + t ;
    char buf[4096] ;
    ssize_t n ;
    int r ;
    setpeer(targetnames.s + tg->host, &tg->ip) ;
    tlshost = targetnames.s + tg->host ;
    if (!connect_to(&tg->ip, tg->port) || (!tlson && (!helo() || !(r = starttls()))))
    {
      logline("cannot use this host: ", connerr, "", "") ;
      closeconn() ;
      continue ;
    }
    buffer_putsflush(buffer_1, "server: ") ;
    buffer_puts(buffer_1, peer.s) ;
    buffer_puts(buffer_1, "\nTLS: ") ;
    buffer_puts(buffer_1, tls.report.s) ;
    buffer_putsflush(buffer_1, "\n") ;
    ndelay_off(sock) ;
    while ((n = fd_read(sock, buf, sizeof buf)) > 0) buffer_putflush(buffer_1, buf, n) ;
    closeconn() ;
    return 0 ;
  }
  strerr_warnw2x("giving up: ", connerr) ;
  return EX_TEMPFAIL ;
}

int main (int argc, char const *const *argv)
{
  size_t t = 0 ;
  unsigned int idle = 0 ;
  PROG = "mm-remote" ;
  usage_help(argc, argv, USAGE) ;
  logstamp_init() ;
  /* setuid and setgid the remote user: nothing of mm-send's identity stays */
  privs_init() ;
  /* -i needs nothing of its caller, root included: drop it first */
  if (argc > 1 && !strcmp(argv[1], "-i")) { inspect = 1 ; privs_drop_caller() ; argv++ ; argc-- ; }
  else if (argc > 1 && !strcmp(argv[1], "-t")) { routetest = 1 ; argv++ ; argc-- ; }
  privs_refuse_root() ;
  privs_drop_caller() ;
  if ((inspect || routetest) && argc == 2 && argv[1][0]) { routename = argv[1] ; destination = "" ; }
  else if (argc != 3 || !argv[1][0] || !argv[2][0]) strerr_dieusage(EX_USAGE, USAGE) ;
  else { routename = argv[1] ; destination = argv[2] ; }
  signal(SIGPIPE, SIG_IGN) ;
  tain_now_set_stopwatch_g() ;
  mm_chdir_home() ;
  if (inspect) return inspect_run() ;
  if (routetest) return routetest_run() ;
  if (ndelay_on(0) < 0) strerr_diefu1sys(EX_TEMPFAIL, "set the request pipe non-blocking") ;
  read_route() ;

  /* nothing to do until the first request: no connection for nothing */
  while (!reqeof && !jobq_len(&waiting))
  {
    iopause_fd x = { .fd = 0, .events = IOPAUSE_READ, .revents = 0 } ;
    if (iopause_g(&x, 1, &tain_infinite) < 0 && errno != EINTR) strerr_diefu1sys(EX_TEMPFAIL, "iopause") ;
    requests_read() ;
  }
  if (!jobq_len(&waiting)) return 0 ;

  if (!find_targets()) return 0 ;
  setconnerr("4.4.1 no host to connect to", "") ;
  while (t < genalloc_len(target, &targets))
  {
    target const *tg = genalloc_s(target, &targets) + t ;
    int r = session_open(tg) ;
    if (r < 0)
    {
      /* wrong credentials are the same everywhere: stop here */
      fail_everything('Z', connerr) ;
      return 0 ;
    }
    if (!r) { t++ ; continue ; }
    r = session() ;
    if (r == SESSION_DONE)
    {
      /* every result is out: closing them now lets mm-send count the
         flush as done without waiting for the 221 to QUIT */
      fd_close(1) ;
      quit() ;
      return 0 ;
    }
    closeconn() ;
    if (r == SESSION_IDLE_LOST && ++idle <= IDLE_RECONNECTS) continue ;
    t++ ;
  }
  logline("giving up: ", connerr, "", "") ;
  fail_everything('Z', connerr) ;
  return 0 ;
}
