/* mm-smtpd: the SMTP server for the LAN and local clients. It runs as the
   smtpd user under tcpserver (or as the caller for sendmail -bs) and has
   one power: handing accepted messages to mm-queue. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/sgetopt.h>
#include <skalibs/types.h>
#include "address.h"
#include "alias.h"
#include "base64.h"
#include "checkpw.h"
#include "control.h"
#include "date822.h"
#include "home.h"
#include "privs.h"
#include "logstamp.h"
#include "usage.h"
#include "qspawn.h"
#include "tcplisten.h"
#include "rfc822.h"
#include "route.h"
#include "smtpio.h"
#include "tlsstart.h"
#include "users.h"

#define USAGE "mm-smtpd [-s] (run by tcpserver, or by sendmail -bs) | mm-smtpd -l [-s] [-c max] [-x rules.cdb] [-u uid -g gid] ip port"

#define CMDLINE_MAX 510      /* RFC 5321 4.5.3.1.4: 512 octets with the CRLF */
#define CMDLINE_EXT 128      /* MAIL parameters may lengthen it (RFC 5321 4.5.3.1.4, RFC 1870 4) */
#define TEXTLINE_MAX 998     /* RFC 5321 4.5.3.1.6: 1000 octets with the CRLF */
#define PATH_LEN_MAX 256     /* RFC 5321 4.5.3.1.3: with the angle brackets */
#define RCPTS_DEFAULT 100    /* RFC 5321 4.5.3.1.8: at least 100 must be accepted */
#define HOPS_DEFAULT 100     /* RFC 5321 6.3: count at least 100 Received lines */
#define TIMEOUT_DEFAULT 300  /* RFC 5321 4.5.3.2.7: the server waits 5 minutes */
#define TIMEOUT_MAX 86400
#define ERRORS_MAX 20        /* bad commands before we hang up (cross-protocol junk) */
#define JUNK_MAX 100         /* NOOP, RSET, VRFY, HELP between messages before they count as errors */
#define RCPTS_OVERSHOOT 100  /* RCPTs past the limit answered 452 before each counts as an error */

static char binbuf[BUFFER_INSIZE] ;
static char boutbuf[BUFFER_OUTSIZE] ;
static buffer bin = BUFFER_INIT(&buffer_read, 0, binbuf, sizeof binbuf) ;
static buffer bout = BUFFER_INIT(&buffer_write, 1, boutbuf, sizeof boutbuf) ;

/* the session */
static char const *me ;
static char const *label = "unknown" ;   /* who the client is, for the log */
static char const *remoteip = 0 ;
static char const *remotehost = 0 ;
static char uidstr[UINT64_FMT] ;
static int local = 0 ;        /* sendmail -bs */
static int relayclient = 0 ;
static int refused = 0 ;      /* spoke before the greeting: only QUIT */
static unsigned int nerrors = 0 ;
static unsigned int njunk = 0 ;   /* keeps a client that sends nothing but NOOP from staying forever */
static unsigned int novershoot = 0 ;   /* RCPTs past smtpdmaxrcpts in this session */
static stralloc helo = STRALLOC_ZERO ;
static int greeted = 0, esmtp = 0 ;

/* TLS through mm-tls (DESIGN 8) and AUTH through checkpassword */
#define AUTH_FAILS_MAX 3     /* failed AUTHs before we hang up */
#define AUTH_DELAY 2         /* seconds before answering a failed AUTH */
#define AUTH_ARGS_MAX 16
static int tlsoffer = 0 ;    /* control/tlscert is there and we are on a socket */
static int tlson = 0 ;
static tlsstart tls = TLSSTART_ZERO ;
static char const *authargv[AUTH_ARGS_MAX + 2] ;  /* control/smtpdcheckpassword */
static unsigned int authargc = 0 ;
static stralloc authprog = STRALLOC_ZERO ;
static stralloc authuser = STRALLOC_ZERO ;        /* set once authenticated */
static unsigned int authfails = 0 ;
static int smtps = 0 ;       /* -s: TLS from the first byte */

/* the limits (mm-smtpd(8)) */
static unsigned long databytes, maxrcpts, maxhops, timeout, greetdelay ;
static stralloc rcpthosts = STRALLOC_ZERO ;
static stralloc landomains = STRALLOC_ZERO ;   /* globs of permanent routes */
static aliasdb aliases = ALIASDB_ZERO ;
static int aliases_ok = 0 ;   /* control/aliases parsed: unknown local users are refused */

/* the transaction */
static int inmail = 0, inbdat = 0 ;
static stralloc sender = STRALLOC_ZERO ;
static stralloc rcpts = STRALLOC_ZERO ;   /* NUL-terminated, one after the other */
static unsigned int nrcpts = 0 ;

/* the message on its way to mm-queue */
static struct
{
  qspawn q ;
  int running ;
  int reap ;             /* q's mm-queue committed and may still run */
  uint64_t wirebytes ;   /* as sent, CRLFs counted: what SIZE limits */
  uint64_t size ;        /* as queued, LF line ends */
  unsigned long hops ;
  int inheader ;
  char const *err ;      /* the reply that refuses it; the first one wins */
} msg ;

static smtpio_line line = SMTPIO_LINE_ZERO ;
static smtpio_line bline = SMTPIO_LINE_ZERO ;

#define LOG(...) strerr_warn(PROG, ": ", label, ": ", __VA_ARGS__)

static void deadline (tain *d, unsigned long secs)
{
  tain_now_g() ;
  tain_addsec_g(d, (int)secs) ;
}

static void bye (void) gccattr_noreturn ;
static void bye (void)
{
  tain d ;
  if (msg.running) qspawn_abort(&msg.q) ;
  deadline(&d, timeout) ;
  smtpio_flush(&bout, &d) ;
  _exit(0) ;
}

static void out (char const *s, size_t len)
{
  while (len)
  {
    size_t n = buffer_available(&bout) ;
    if (!n)
    {
      tain d ;
      deadline(&d, timeout) ;
      if (!smtpio_flush(&bout, &d))
      {
        LOG("connection lost while writing") ;
        if (msg.running) qspawn_abort(&msg.q) ;
        _exit(0) ;
      }
      continue ;
    }
    if (n > len) n = len ;
    buffer_putnoflush(&bout, s, n) ;
    s += n ; len -= n ;
  }
}

static void outs (char const *s) { out(s, strlen(s)) ; }

/* one reply line, CRLF added */
static void reply (char const *s) { outs(s) ; out("\r\n", 2) ; }

static void reply3 (char const *a, char const *b, char const *c)
{
  outs(a) ; outs(b) ; outs(c) ; out("\r\n", 2) ;
}

/* count a refused command; too many end the session */
static void counterror (void)
{
  if (++nerrors >= ERRORS_MAX)
  {
    reply3("421 4.7.0 ", me, " too many errors, closing connection") ;
    LOG("too many errors, closing") ;
    bye() ;
  }
}

/* a refused command: answered, logged, counted */
static void err (char const *s)
{
  reply(s) ;
  LOG("error: ", s) ;
  counterror() ;
}

static void timedout (void) gccattr_noreturn ;
static void timedout (void)
{
  if (errno == ETIMEDOUT)
  {
    reply3("421 4.4.2 ", me, " timeout, closing connection") ;
    LOG("timeout") ;
  }
  else LOG("connection lost") ;
  bye() ;
}

static void transaction_reset (void)
{
  if (msg.running) { qspawn_abort(&msg.q) ; msg.running = 0 ; }
  inmail = inbdat = 0 ;
  sender.len = 0 ;
  rcpts.len = 0 ;
  nrcpts = 0 ;
  bline.done = 1 ;
}


/* addresses */

/* mm does not carry UTF-8 addresses (RFC 6531): mm-queue, the alias
   file and the users are ASCII, and mm-remote could not know whether the
   next hop takes them. So SMTPUTF8 is not offered, and an 8-bit address
   is refused at MAIL or RCPT, never after the data. */
#define NO_UTF8_ADDRESS "553 5.6.7 non-ASCII addresses are not supported here (no SMTPUTF8, RFC 6531)"

/* Find the end of "<...>" at s: quotes may hide a '>'. 0 when unbalanced. */
static size_t path_len (char const *s, size_t len)
{
  int inquote = 0 ;
  size_t i ;
  if (!len || s[0] != '<') return 0 ;
  for (i = 1 ; i < len ; i++)
  {
    if (inquote && s[i] == '\\' && i + 1 < len) { i++ ; continue ; }
    if (s[i] == '"') inquote = !inquote ;
    else if (!inquote && s[i] == '>') return i + 1 ;
  }
  return 0 ;
}

/* Domains anyone may send to: the local ones, the domains of permanent
   routes (the LAN), and control/smtpdrcpthosts (".lan" takes every
   subdomain of lan). d is NUL-terminated. */
static int domain_open (char const *d, size_t len)
{
  size_t i = 0 ;
  if (control_islocal(d, len)) return 1 ;  /* loaded at start: never -1 here */
  for (i = 0 ; i < landomains.len ; i += strlen(landomains.s + i) + 1)
    if (route_glob(landomains.s + i, d)) return 1 ;
  i = 0 ;
  while (i < rcpthosts.len)
  {
    char const *h = rcpthosts.s + i ;
    size_t hl = strlen(h) ;
    i += hl + 1 ;
    if (h[0] == '.' ? (len > hl && !strncasecmp(d + len - hl, h, hl)) : (hl == len && !strncasecmp(d, h, len))) return 1 ;
  }
  return 0 ;
}


/* the message */

static int msg_begin (void)
{
  char date[DATE822_LEN] ;
  /* RFC 3848: S for TLS, A for AUTH */
  char const *proto = !esmtp ? "SMTP" : tlson && authuser.len ? "ESMTPSA" : tlson ? "ESMTPS" : authuser.len ? "ESMTPA" : "ESMTP" ;
  msg.wirebytes = msg.size = 0 ;
  msg.hops = 0 ;
  msg.inheader = 1 ;
  msg.err = 0 ;
  if (msg.reap) { qspawn_reap(&msg.q) ; msg.reap = 0 ; }
  if (!qspawn_start(&msg.q)) return 0 ;
  msg.running = 1 ;
  date822_fmt(date, time(0)) ;
  buffer_puts(&msg.q.mess, "Received: from ") ;
  buffer_put(&msg.q.mess, helo.s, helo.len) ;
  if (local)
  {
    buffer_puts(&msg.q.mess, " (via sendmail -bs for uid ") ;
    buffer_puts(&msg.q.mess, uidstr) ;
    buffer_puts(&msg.q.mess, ")") ;
  }
  else
  {
    buffer_puts(&msg.q.mess, " (") ;
    if (remotehost) { buffer_puts(&msg.q.mess, remotehost) ; buffer_puts(&msg.q.mess, " ") ; }
    buffer_puts(&msg.q.mess, "[") ;
    buffer_puts(&msg.q.mess, remoteip ? remoteip : "unknown") ;
    buffer_puts(&msg.q.mess, "])") ;
  }
  buffer_puts(&msg.q.mess, "\n\tby ") ;
  buffer_puts(&msg.q.mess, me) ;
  buffer_puts(&msg.q.mess, " (mm-smtpd") ;
  if (authuser.len) { buffer_puts(&msg.q.mess, ", authenticated as ") ; buffer_put(&msg.q.mess, authuser.s, authuser.len) ; }
  buffer_puts(&msg.q.mess, ") with ") ;
  buffer_puts(&msg.q.mess, proto) ;
  /* RFC 8314 4.3: the protocol and cipher */
  if (tlson) { buffer_puts(&msg.q.mess, " (") ; buffer_put(&msg.q.mess, tls.summary.s, tls.summary.len) ; buffer_puts(&msg.q.mess, ")") ; }
  buffer_puts(&msg.q.mess, ";\n\t") ;
  buffer_puts(&msg.q.mess, date) ;
  buffer_puts(&msg.q.mess, "\n") ;
  return 1 ;
}

/* One line of the message (without its CRLF, dot-unstuffed); wire is the
   number of bytes it took on the wire. */
static void msg_line (char const *s, size_t len, unsigned int flags, size_t wire)
{
  msg.wirebytes += wire ;
  if (msg.err) return ;
  if (flags & SMTPIO_NUL) msg.err = "554 5.6.0 message refused: it contains a NUL character" ;
  else if (flags & SMTPIO_BARELF) msg.err = "554 5.6.0 message refused: bare LF in message (RFC 5321 2.3.8)" ;
  else if (flags & SMTPIO_BARECR) msg.err = "554 5.6.0 message refused: bare CR in message (RFC 5321 2.3.8)" ;
  else if (flags & SMTPIO_TOOLONG || len > TEXTLINE_MAX) msg.err = "500 5.5.2 message refused: line too long, more than 998 characters (RFC 5321 4.5.3.1.6)" ;
  else if (databytes && msg.wirebytes > databytes) msg.err = "552 5.3.4 message refused: too big (RFC 5321 4.5.3.1.9)" ;
  if (msg.err) return ;
  if (msg.inheader)
  {
    if (!len) msg.inheader = 0 ;
    else if ((rfc822_is_field(s, len, "received") || rfc822_is_field(s, len, "delivered-to")) && ++msg.hops > maxhops)
    {
      msg.err = "554 5.4.6 message refused: too many hops, a mail loop? (RFC 5321 6.3)" ;
      return ;
    }
  }
  msg.size += len + 1 ;
  if (buffer_put(&msg.q.mess, s, len) < 0 || buffer_put(&msg.q.mess, "\n", 1) < 0)
    msg.err = "451 4.3.0 queue temporarily unavailable: cannot write the message" ;
}

static void msg_end (void)
{
  char id[32] ;
  char nr[UINT_FMT] ;
  char sz[UINT64_FMT] ;
  nr[uint_fmt(nr, nrcpts)] = 0 ;
  if (msg.err)
  {
    qspawn_abort(&msg.q) ;
    msg.running = 0 ;
    sz[uint64_fmt(sz, msg.wirebytes)] = 0 ;
    reply(msg.err) ;
    LOG(msg.err[0] == '4' ? "deferred msg from <" : "refused msg from <", sender.s, "> rcpts ", nr, " size ", sz, ": ", msg.err) ;
    return ;
  }
  {
    char const *list[nrcpts ? nrcpts : 1] ;
    size_t i = 0 ;
    unsigned int k ;
    int code ;
    for (k = 0 ; k < nrcpts ; k++) { list[k] = rcpts.s + i ; i += strlen(rcpts.s + i) + 1 ; }
    /* mail from the network always has its h field: its bounces carry
       the header only (report.c), a forged sender gets no copy */
    /* the 250 as soon as mm-queue has committed, not when it exits */
    code = qspawn_finish_host_early(&msg.q, "", remotehost && *remotehost ? remotehost : remoteip && *remoteip ? remoteip : local ? 0 : "unknown", sender.s, list, nrcpts, id) ;
    msg.running = 0 ;
    msg.reap = !code ;
    sz[uint64_fmt(sz, msg.size)] = 0 ;
    if (!code)
    {
      njunk = 0 ;
      reply3("250 2.0.0 ok: queued as ", id, "") ;
      LOG("accepted msg ", id, " from <", sender.s, "> rcpts ", nr, " size ", sz) ;
    }
    else if (code == EX_DATAERR)
    {
      reply("554 5.6.0 message refused by the queue") ;
      LOG("refused msg from <", sender.s, "> rcpts ", nr, " size ", sz, ": mm-queue: ", qspawn_strerror(code)) ;
    }
    else
    {
      reply3("451 4.3.0 ", qspawn_strerror(code), ", try again later") ;
      LOG("deferred msg from <", sender.s, "> rcpts ", nr, " size ", sz, ": mm-queue: ", qspawn_strerror(code)) ;
    }
  }
}


/* the commands */

/* sa = s, fit for a header: only what a host name or literal may hold */
static void sethost (stralloc *sa, char const *s)
{
  size_t i ;
  sa->len = 0 ;
  if (!stralloc_cats(sa, s) || !stralloc_0(sa)) strerr_diefu1sys(EX_TEMPFAIL, "allocate") ;
  sa->len-- ;
  for (i = 0 ; i < sa->len ; i++)
  {
    char c = sa->s[i] ;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr(".-_:[]", c)))) sa->s[i] = '?' ;
  }
}

static int auth_offered (void) ;

static void smtp_helo (char const *arg, int e)
{
  if (!*arg) { err(e ? "501 5.5.4 syntax: EHLO your-host-name" : "501 5.5.4 syntax: HELO your-host-name") ; return ; }
  transaction_reset() ;
  sethost(&helo, arg) ;
  greeted = 1 ;
  esmtp = e ;
  if (!e) { reply3("250 ", me, "") ; return ; }
  reply3("250-", me, " hello") ;
  reply("250-PIPELINING") ;
  if (databytes)
  {
    char n[ULONG_FMT] ;
    n[ulong_fmt(n, databytes)] = 0 ;
    reply3("250-SIZE ", n, "") ;
  }
  else reply("250-SIZE") ;
  reply("250-8BITMIME") ;
  reply("250-ENHANCEDSTATUSCODES") ;
  if (tlsoffer && !tlson) reply("250-STARTTLS") ;
  if (auth_offered()) reply("250-AUTH PLAIN LOGIN") ;
  reply("250 CHUNKING") ;
}

/* arg is "FROM:<path> params" (or "TO:"): find the path and the
   parameters. 1 ok, 0 syntax error (already answered). */
static int split_path (char const *arg, char const *key, char const **path, size_t *plen, char const **params)
{
  size_t kl = strlen(key), len ;
  if (strncasecmp(arg, key, kl)) return 0 ;
  arg += kl ;
  while (*arg == ' ') arg++ ;  /* "MAIL FROM: <x>" is common enough */
  len = strlen(arg) ;
  *plen = path_len(arg, len) ;
  if (!*plen) return 0 ;
  *path = arg ;
  arg += *plen ;
  if (*arg && *arg != ' ') return 0 ;
  while (*arg == ' ') arg++ ;
  *params = arg ;
  return 1 ;
}

static void smtp_mail (char const *arg, unsigned int flags)
{
  char const *path, *params ;
  char const *why ;
  size_t plen ;
  uint64_t size = 0 ;
  if (!greeted) { err("503 5.5.1 send EHLO first") ; return ; }
  if (inmail) { err("503 5.5.1 nested MAIL command: RSET first") ; return ; }
  if (!split_path(arg, "FROM:", &path, &plen, &params)) { err("501 5.5.4 syntax: MAIL FROM:<address> [parameters]") ; return ; }
  while (*params)
  {
    char const *p = params ;
    size_t n = strcspn(p, " ") ;
    params += n ;
    while (*params == ' ') params++ ;
    if (!esmtp) { err("555 5.5.4 MAIL parameters need EHLO") ; return ; }
    if (n > 5 && !strncasecmp(p, "SIZE=", 5))
    {
      size_t k = uint64_scan(p + 5, &size) ;
      if (!k || k != n - 5 || k > 19) { err("501 5.5.4 bad SIZE parameter (RFC 1870)") ; return ; }
    }
    else if (n > 5 && !strncasecmp(p, "BODY=", 5))
    {
      if (!((n == 9 && !strncasecmp(p + 5, "7BIT", 4)) || (n == 13 && !strncasecmp(p + 5, "8BITMIME", 8))))
      { err("555 5.5.4 BODY must be 7BIT or 8BITMIME (RFC 6152)") ; return ; }
    }
    else if (n == 8 && !strncasecmp(p, "SMTPUTF8", 8)) { err("555 5.5.4 SMTPUTF8 is not offered here (RFC 6531)") ; return ; }
    else { err("555 5.5.4 unknown MAIL parameter") ; return ; }
  }
  if (flags & SMTPIO_8BIT) { err(NO_UTF8_ADDRESS) ; return ; }
  if (plen > PATH_LEN_MAX) { err("501 5.1.7 sender path too long (RFC 5321 4.5.3.1.3)") ; return ; }
  if (!address_parse(&sender, path, plen, 0, &why))
  {
    reply3("501 5.1.7 bad sender address: ", why, "") ;
    LOG("error: bad sender address: ", why) ;
    counterror() ;
    return ;
  }
  if (databytes && size > databytes)
  {
    char n[ULONG_FMT] ;
    n[ulong_fmt(n, databytes)] = 0 ;
    reply3("552 5.3.4 message too big: the limit is ", n, " bytes (RFC 1870)") ;
    LOG("refused msg from <", sender.s, ">: SIZE over the limit") ;
    return ;
  }
  inmail = 1 ;
  nrcpts = 0 ;
  rcpts.len = 0 ;
  reply("250 2.1.0 sender ok") ;
}

/* Unknown local recipients are refused here, with the lookup delivery
   makes (mm-send: control/aliases, then the users), so that no bounce
   goes to a forged sender. The reply names no alias target: a file the
   aliases read is none of the client's business. 1 deliverable or
   cannot tell (delivery decides), 0 refused and answered. */
static int rcpt_known (char const *rcpt, size_t at)
{
  static genalloc res = GENALLOC_ZERO ;   /* aliasresult */
  static stralloc rs = STRALLOC_ZERO ;
  static stralloc lp = STRALLOC_ZERO ;
  char code[6] = "5.1.1" ;
  size_t n ;
  if (!aliases_ok || control_islocal(rcpt + at + 1, strlen(rcpt + at + 1)) <= 0) return 1 ;
  genalloc_setlen(aliasresult, &res, 0) ;
  rs.len = lp.len = 0 ;
  if (!stralloc_catb(&lp, rcpt, at) || !stralloc_0(&lp)) strerr_diefu1sys(EX_TEMPFAIL, "allocate") ;
  /* -1: an :include: file the smtpd user may not read, or no memory */
  if (alias_expand(&aliases, lp.s, &users_exists, &res, &rs) < 0) return 1 ;
  n = genalloc_len(aliasresult, &res) ;
  for (size_t i = 0 ; i < n ; i++)
    if (aliasresult_ok(genalloc_s(aliasresult, &res) + i)) return 1 ;
  if (n) memcpy(code, rs.s + genalloc_s(aliasresult, &res)[0].error, 5) ;
  outs("550 ") ; outs(code) ; outs(" <") ; outs(rcpt) ;
  reply(strcmp(code, "5.1.1") ? ">: undeliverable here (alias error)" : ">: no such user here") ;
  LOG("error: unknown recipient <", rcpt, ">") ;
  counterror() ;
  return 0 ;
}

static void smtp_rcpt (char const *arg, unsigned int flags)
{
  static stralloc rcpt = STRALLOC_ZERO ;
  char const *path, *params, *why ;
  size_t plen, at ;
  if (!inmail) { err("503 5.5.1 send MAIL first") ; return ; }
  if (!split_path(arg, "TO:", &path, &plen, &params)) { err("501 5.5.4 syntax: RCPT TO:<address>") ; return ; }
  if (*params) { err("555 5.5.4 unknown RCPT parameter") ; return ; }
  if (flags & SMTPIO_8BIT) { err(NO_UTF8_ADDRESS) ; return ; }
  if (plen > PATH_LEN_MAX) { err("501 5.1.3 recipient path too long (RFC 5321 4.5.3.1.3)") ; return ; }
  if (plen == 12 && !strncasecmp(path, "<postmaster>", 12))
  {
    /* RFC 5321 4.5.1: postmaster without a domain must be accepted */
    rcpt.len = 0 ;
    if (!stralloc_cats(&rcpt, "postmaster@") || !stralloc_cats(&rcpt, me) || !stralloc_0(&rcpt)) strerr_diefu1sys(EX_TEMPFAIL, "allocate") ;
    rcpt.len-- ;
  }
  else if (!address_parse(&rcpt, path, plen, 0, &why))
  {
    reply3("501 5.1.3 bad recipient address: ", why, "") ;
    LOG("error: bad recipient address: ", why) ;
    counterror() ;
    return ;
  }
  if (!rcpt.len) { err("501 5.1.3 a recipient cannot be empty") ; return ; }
  at = address_at(rcpt.s, rcpt.len) ;
  if (!relayclient)
  {
    /* user%host@here and friends route elsewhere: only for relay clients */
    int routed = memchr(rcpt.s, '%', at) || memchr(rcpt.s, '!', at) || memchr(rcpt.s, '@', at) ;
    if (at == rcpt.len || routed || !domain_open(rcpt.s + at + 1, rcpt.len - at - 1))
    {
      reply3("553 5.7.1 relaying denied: <", rcpt.s, "> is not a local address") ;
      LOG("relay refused to <", rcpt.s, ">") ;
      counterror() ;
      return ;
    }
  }
  if (nrcpts >= maxrcpts)
  {
    reply("452 4.5.3 too many recipients (RFC 5321 4.5.3.1.10)") ;
    /* a pipelining client may overshoot the limit a little; a flood of
       them counts as errors and ends the session */
    if (++novershoot > RCPTS_OVERSHOOT) { LOG("error: too many recipients") ; counterror() ; }
    else if (novershoot == 1) LOG("too many recipients") ;
    return ;
  }
  if (!rcpt_known(rcpt.s, at)) return ;
  if (!stralloc_catb(&rcpts, rcpt.s, rcpt.len + 1)) strerr_diefu1sys(EX_TEMPFAIL, "allocate") ;
  nrcpts++ ;
  reply("250 2.1.5 recipient ok") ;
}

static void smtp_data (char const *arg)
{
  tain d ;
  if (*arg) { err("501 5.5.4 syntax: DATA") ; return ; }
  if (!inmail) { err("503 5.5.1 send MAIL first") ; return ; }
  if (!nrcpts) { err("503 5.5.1 no valid recipients") ; return ; }
  if (inbdat) { err("503 5.5.1 DATA in a BDAT transaction") ; return ; }
  if (!msg_begin())
  {
    reply("451 4.3.0 queue temporarily unavailable, try again later") ;
    LOG("cannot start mm-queue: ", strerror(errno)) ;
    return ;
  }
  reply("354 go ahead, end with <CRLF>.<CRLF>") ;
  for (;;)
  {
    char const *s ;
    size_t len ;
    int r ;
    /* one line within the timeout: a trickling client is cut off too */
    deadline(&d, timeout) ;
    r = smtpio_getline(&bin, &bout, &line, TEXTLINE_MAX + 1, SMTPIO_CRLFONLY, &d) ;
    if (r < 0) timedout() ;
    if (!r) { LOG("connection lost in DATA") ; bye() ; }
    s = line.text.s ; len = line.text.len ;
    /* only CRLF.CRLF ends it: a bare LF was kept as text (no smuggling) */
    if (!line.flags && len == 1 && s[0] == '.') break ;
    if (len && s[0] == '.') { s++ ; len-- ; }
    msg_line(s, len, line.flags, line.total + 2) ;
  }
  msg_end() ;
  transaction_reset() ;
}

/* Read the n bytes of a BDAT chunk; they make message lines when keep. */
static void bdat_read (uint64_t n, int keep)
{
  tain d ;
  size_t fresh = 0 ;
  deadline(&d, timeout) ;
  while (n)
  {
    struct iovec v[2] ;
    char const *s ;
    size_t len, k ;
    if (buffer_isempty(&bin))
    {
      ssize_t r = smtpio_fill(&bin, &bout, &d) ;
      if (r < 0) timedout() ;
      if (!r) { LOG("connection lost in BDAT") ; bye() ; }
    }
    buffer_rpeek(&bin, v) ;
    s = v[0].iov_base ; len = v[0].iov_len ;
    if (!len) { s = v[1].iov_base ; len = v[1].iov_len ; }
    if (len > n) len = n ;
    k = 0 ;
    while (keep && k < len)
    {
      size_t used = smtpio_line_feed(&bline, s + k, len - k, TEXTLINE_MAX, SMTPIO_ANYLF) ;
      if (used == (size_t)-1) strerr_diefu1sys(EX_TEMPFAIL, "allocate") ;
      k += used ;
      if (bline.done) msg_line(bline.text.s, bline.text.len, bline.flags, bline.total + 2) ;
    }
    buffer_rseek(&bin, len) ;
    n -= len ;
    /* each text line's worth of bytes within the timeout, as in DATA */
    fresh += len ;
    if (fresh > TEXTLINE_MAX + 2) { fresh = 0 ; deadline(&d, timeout) ; }
  }
}

static void smtp_bdat (char const *arg)
{
  uint64_t n ;
  size_t k = uint64_scan(arg, &n) ;
  int last = 0 ;
  if (!k || k > 19 || (arg[k] && arg[k] != ' '))
  {
    /* without a size the chunk cannot be skipped: nothing after it makes sense */
    reply3("554 5.5.4 ", me, " bad BDAT syntax, closing connection (RFC 3030)") ;
    LOG("error: bad BDAT syntax, closing") ;
    bye() ;
  }
  arg += k ;
  while (*arg == ' ') arg++ ;
  if (!strcasecmp(arg, "LAST")) last = 1 ;
  else if (*arg)
  {
    reply3("554 5.5.4 ", me, " bad BDAT syntax, closing connection (RFC 3030)") ;
    LOG("error: bad BDAT syntax, closing") ;
    bye() ;
  }
  if (!inmail || !nrcpts)
  {
    bdat_read(n, 0) ;
    err(inmail ? "503 5.5.1 no valid recipients" : "503 5.5.1 send MAIL first") ;
    return ;
  }
  if (!inbdat)
  {
    if (!msg_begin())
    {
      bdat_read(n, 0) ;
      reply("451 4.3.0 queue temporarily unavailable, try again later") ;
      LOG("cannot start mm-queue: ", strerror(errno)) ;
      transaction_reset() ;
      return ;
    }
    inbdat = 1 ;
    bline.done = 1 ;
  }
  bdat_read(n, 1) ;
  if (last && !bline.done && bline.text.len)
  {
    if (!smtpio_line_close(&bline, TEXTLINE_MAX)) strerr_diefu1sys(EX_TEMPFAIL, "allocate") ;
    msg_line(bline.text.s, bline.text.len, bline.flags, bline.total) ;
  }
  if (msg.err || last)
  {
    /* RFC 3030 2: a failed chunk ends the transaction */
    msg_end() ;
    transaction_reset() ;
    return ;
  }
  {
    char num[UINT64_FMT] ;
    num[uint64_fmt(num, n)] = 0 ;
    reply3("250 2.0.0 ", num, " octets received") ;
  }
}


/* the session */

/* The domains of permanent routes with a domains file: mail for the LAN
   is accepted from anyone. A route that serves any domain opens nothing. */
static void readroutes (void)
{
  genalloc routes = GENALLOC_ZERO ;
  char const *why = "" ;
  size_t i ;
  int r = routes_load(&routes, &why) ;
  if (r <= 0)
  {
    /* fail closed: only the local domains stay open */
    if (r < 0) strerr_warnwu1sys("read control/routes") ;
    else strerr_warnw2x("control/routes: ", why) ;
    routes_free(&routes) ;
    return ;
  }
  for (i = 0 ; i < genalloc_len(route, &routes) ; i++)
  {
    route const *rt = genalloc_s(route, &routes) + i ;
    if (rt->permanent && rt->domains.len && !stralloc_catb(&landomains, rt->domains.s, rt->domains.len))
      strerr_diefu1sys(EX_TEMPFAIL, "allocate") ;
  }
  routes_free(&routes) ;
}

/* control/aliases (mode 0644, root's) for the recipient check; without
   it every local recipient is taken and delivery decides, as before */
static void readaliases (void)
{
  unsigned int line ;
  char const *why ;
  int r = aliasdb_load(&aliases, "control/aliases", &line, &why) ;
  aliases_ok = r > 0 ;
  if (r < 0) strerr_warnwu1sys("read control/aliases: local recipients are not checked") ;
  else if (!r)
  {
    char n[UINT_FMT] ;
    n[uint_fmt(n, line)] = 0 ;
    strerr_warnw5x("control/aliases line ", n, ": ", why, ": local recipients are not checked") ;
  }
}

/* a value that does not parse: a configuration error, not an I/O error */
static int malformed (void)
{
  errno = EINVAL ;
  return 1 ;
}

static void readcontrol (void)
{
  stralloc sa = STRALLOC_ZERO ;
  char const *bad = 0 ;
  if (control_names_load(&bad) < 0) { }  /* bad names the file */
  /* after the load, which replaces the value an earlier pointer saw */
  me = control_me() ;
  if (bad) { }
  else if (control_readulong(&databytes, "control/databytes", 0) < 0) bad = "control/databytes" ;
  else if (control_readulong(&maxrcpts, "control/smtpdmaxrcpts", RCPTS_DEFAULT) < 0 || (!maxrcpts && malformed())) bad = "control/smtpdmaxrcpts" ;
  else if (control_readulong(&maxhops, "control/maxhops", HOPS_DEFAULT) < 0) bad = "control/maxhops" ;
  else
  {
    int r = control_readline(&sa, "control/smtpdtimeout", 0) ;
    timeout = TIMEOUT_DEFAULT ;
    if (r < 0 || (r > 0 && (!duration_scan(sa.s, &timeout) || !timeout) && malformed())) bad = "control/smtpdtimeout" ;
    if (timeout > TIMEOUT_MAX) timeout = TIMEOUT_MAX ;
    greetdelay = 0 ;
    if (!bad)
    {
      r = control_readline(&sa, "control/smtpdgreetdelay", 0) ;
      if (r < 0 || (r > 0 && !duration_scan(sa.s, &greetdelay) && malformed())) bad = "control/smtpdgreetdelay" ;
      if (greetdelay > TIMEOUT_MAX) greetdelay = TIMEOUT_MAX ;
    }
    if (!bad && control_readlines(&rcpthosts, "control/smtpdrcpthosts") < 0) bad = "control/smtpdrcpthosts" ;
    if (!bad && control_locals_load() < 0) bad = "control/locals" ;
  }
  stralloc_free(&sa) ;
  if (!bad) readaliases() ;
  if (bad)
  {
    int e = errno ;
    if (!timeout) timeout = TIMEOUT_DEFAULT ;
    reply3("421 4.3.5 ", me, " configuration error, try again later") ;
    {
      tain d ;
      deadline(&d, timeout) ;
      smtpio_flush(&bout, &d) ;
    }
    errno = e ;
    if (e == EINVAL) strerr_dief2x(EX_CONFIG, bad, ": malformed value") ;
    strerr_diefu2sys(EX_TEMPFAIL, "read ", bad) ;
  }
}

/* A client that talks before our greeting does not wait for replies:
   a spam engine, or a cross-protocol attack. */
static int spoke_early (void)
{
  iopause_fd x = { .fd = 0, .events = IOPAUSE_READ, .revents = 0 } ;
  tain d ;
  int r ;
  deadline(&d, greetdelay) ;
  do r = iopause_g(&x, 1, &d) ; while (r < 0 && errno == EINTR) ;
  if (r <= 0) return 0 ;
  r = buffer_fill(&bin) ;
  if (!r) { LOG("connection closed before the greeting") ; _exit(0) ; }
  return r > 0 ;
}

/* TLS and AUTH */

/* control/tlscert offers STARTTLS (mm-tls reads it and the key);
   control/smtpdcheckpassword, a command line, offers AUTH. */
static void readtls (void)
{
  stralloc cert = STRALLOC_ZERO ;
  struct stat st ;
  int r ;
  if (!mm_path(&cert, "control/tlscert")) strerr_diefu1sys(EX_TEMPFAIL, "allocate") ;
  tlsoffer = !local && !fstat(0, &st) && S_ISSOCK(st.st_mode) && !access(cert.s, F_OK) ;
  stralloc_free(&cert) ;
  r = control_readline(&authprog, "control/smtpdcheckpassword", 0) ;
  if (r < 0) strerr_diefu1sys(EX_TEMPFAIL, "read control/smtpdcheckpassword") ;
  if (r <= 0 || !authprog.len) return ;
  for (size_t i = 0 ; i < authprog.len ;)
  {
    size_t j = i ;
    while (j < authprog.len && authprog.s[j] != ' ' && authprog.s[j] != '\t') j++ ;
    if (j > i)
    {
      if (authargc >= AUTH_ARGS_MAX) strerr_dief1x(EX_CONFIG, "control/smtpdcheckpassword: too many words") ;
      authargv[authargc++] = authprog.s + i ;
    }
    if (j < authprog.len) authprog.s[j] = 0 ;
    i = j + 1 ;
  }
  if (authargc && authargv[0][0] != '/') strerr_dief1x(EX_CONFIG, "control/smtpdcheckpassword: the program needs an absolute path") ;
}

/* AUTH only where the password cannot be read on the way: over TLS, or
   from this host itself */
static int auth_offered (void)
{
  int loopback = remoteip && (!strcmp(remoteip, "127.0.0.1") || !strcmp(remoteip, "::1")) ;
  return authargc && !authuser.len && (tlson || loopback) ;
}

/* The connection goes to mm-tls; from now on we talk to it. */
static void tls_begin (void)
{
  static char t1[ULONG_FMT], t2[ULONG_FMT] ;
  tain d ;
  int r, nul ;
  t1[ulong_fmt(t1, timeout)] = 0 ;
  t2[ulong_fmt(t2, timeout + 60)] = 0 ;
  tlsstart_arg(&tls, "-s") ; tlsstart_arg(&tls, "-t") ; tlsstart_arg(&tls, t1) ;
  tlsstart_arg(&tls, "-T") ; tlsstart_arg(&tls, t2) ;
  deadline(&d, timeout + 10) ;
  r = tlsstart_run(&tls, 0, &d) ;
  /* fd 1 is the same connection: ours no more */
  nul = open("/dev/null", O_RDWR) ;
  if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0) strerr_diefu1sys(EX_TEMPFAIL, "open /dev/null") ;
  if (nul > 1) close(nul) ;
  if (r <= 0) { LOG("error: TLS failed: ", tls.report.s) ; _exit(0) ; }
  tlson = 1 ;
  ndelay_on(tls.plain) ;
  buffer_init(&bin, &buffer_read, tls.plain, binbuf, sizeof binbuf) ;
  buffer_init(&bout, &buffer_write, tls.plain, boutbuf, sizeof boutbuf) ;
  LOG("TLS: ", tls.report.s) ;
}

static void smtp_starttls (char const *arg)
{
  tain d ;
  if (tlson) { err("503 5.5.1 TLS is already on") ; return ; }
  if (!tlsoffer) { err("502 5.5.1 STARTTLS is not offered here") ; return ; }
  if (*arg) { err("501 5.5.4 syntax: STARTTLS") ; return ; }
  reply("220 2.0.0 ready to start TLS") ;
  deadline(&d, timeout) ;
  if (!smtpio_flush(&bout, &d)) timedout() ;
  /* the 2011 and 2021 injections: what came with STARTTLS in clear
     must not be taken as said over TLS */
  if (!buffer_isempty(&bin)) LOG("error: plaintext pipelined after STARTTLS discarded") ;
  tls_begin() ;
  /* RFC 3207 4.2: nothing said before counts */
  transaction_reset() ;
  greeted = esmtp = 0 ;
  helo.len = 0 ;
}

/* one base64 line of the client's for AUTH, decoded into sa; 0 cancelled or bad */
static int auth_read (stralloc *sa, char const *prompt)
{
  static smtpio_line l = SMTPIO_LINE_ZERO ;
  tain d ;
  int r ;
  reply(prompt) ;
  deadline(&d, timeout) ;
  r = smtpio_getline(&bin, &bout, &l, CMDLINE_MAX, SMTPIO_ANYLF, &d) ;
  if (r < 0) timedout() ;
  if (!r) bye() ;
  if (!strcmp(l.text.s, "*")) { err("501 5.7.0 AUTH cancelled") ; return 0 ; }
  sa->len = 0 ;
  if (!base64_decode_cat(sa, l.text.s, l.text.len)) { err("501 5.5.2 AUTH: not base64") ; return 0 ; }
  return 1 ;
}

static void auth_check (char const *user, size_t ulen, char const *pass, size_t plen)
{
  tain d ;
  int r = 0 ;
  deadline(&d, timeout) ;
  if (ulen && plen) r = checkpw(authargv, authargc, user, ulen, pass, plen, &d) ;
  if (r > 0)
  {
    authuser.len = 0 ;
    if (!stralloc_catb(&authuser, user, ulen) || !stralloc_0(&authuser)) strerr_diefu1sys(EX_TEMPFAIL, "allocate") ;
    authuser.len-- ;
    /* for the Received line: only what a user name may sensibly hold */
    for (size_t i = 0 ; i < authuser.len ; i++)
    {
      char c = authuser.s[i] ;
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr(".-_@+", c))) authuser.s[i] = '?' ;
    }
    relayclient = 1 ;
    reply("235 2.7.0 authenticated") ;
    LOG("authenticated as ", authuser.s) ;
    return ;
  }
  if (r < 0) { reply("454 4.7.0 temporary authentication failure") ; LOG("error: checkpassword failed: ", strerror(errno)) ; return ; }
  /* a slow answer and a limit: no password guessing at speed */
  sleep(AUTH_DELAY) ;
  reply("535 5.7.8 authentication failed") ;
  LOG("error: authentication failed") ;
  if (++authfails >= AUTH_FAILS_MAX)
  {
    reply3("421 4.7.0 ", me, " too many failed authentications, closing connection") ;
    LOG("too many failed authentications, closing") ;
    bye() ;
  }
}

static void smtp_auth (char const *arg)
{
  static stralloc a = STRALLOC_ZERO, b = STRALLOC_ZERO ;
  size_t mlen = strcspn(arg, " ") ;
  char const *init = arg[mlen] ? arg + mlen + 1 : 0 ;
  if (!auth_offered()) { err(authuser.len ? "503 5.5.1 already authenticated" : "503 5.5.1 AUTH is not offered here (STARTTLS first)") ; return ; }
  if (!greeted || !esmtp) { err("503 5.5.1 send EHLO first") ; return ; }
  if (inmail) { err("503 5.5.1 AUTH not in a mail transaction") ; return ; }
  if (mlen == 5 && !strncasecmp(arg, "PLAIN", 5))   /* RFC 4616 */
  {
    char const *z, *p ;
    if (init && strcmp(init, "="))
    {
      a.len = 0 ;
      if (!base64_decode_cat(&a, init, strlen(init))) { err("501 5.5.2 AUTH: not base64") ; return ; }
    }
    else if (init) a.len = 0 ;
    else if (!auth_read(&a, "334 ")) return ;
    /* authzid \0 authcid \0 password; an authzid other than the user is not ours to grant */
    z = a.len ? memchr(a.s, 0, a.len) : 0 ;
    p = z ? memchr(z + 1, 0, a.len - (z + 1 - a.s)) : 0 ;
    if (!p) { err("501 5.5.2 AUTH PLAIN: malformed") ; return ; }
    if (z != a.s && ((size_t)(z - a.s) != (size_t)(p - z - 1) || memcmp(a.s, z + 1, z - a.s))) { err("535 5.7.8 authorization identity refused") ; return ; }
    auth_check(z + 1, p - z - 1, p + 1, a.len - (p + 1 - a.s)) ;
    memset(a.s, 0, a.len) ;
  }
  else if (mlen == 5 && !strncasecmp(arg, "LOGIN", 5))   /* draft-murchison-sasl-login */
  {
    if (init) { a.len = 0 ; if (!base64_decode_cat(&a, init, strlen(init))) { err("501 5.5.2 AUTH: not base64") ; return ; } }
    else if (!auth_read(&a, "334 VXNlcm5hbWU6")) return ;
    if (!auth_read(&b, "334 UGFzc3dvcmQ6")) return ;
    auth_check(a.s, a.len, b.s, b.len) ;
    if (b.len) memset(b.s, 0, b.len) ;
  }
  else err("504 5.5.4 AUTH mechanisms here: PLAIN LOGIN") ;
}

static void command (void)
{
  char const *s = line.text.s ;
  size_t vlen = strcspn(s, " ") ;
  char const *arg = s + vlen ;
  unsigned int flags = line.flags ;
  if (*arg == ' ') arg++ ;
  if (flags & SMTPIO_NUL) { err("500 5.5.2 NUL character in command") ; return ; }
  if (flags & SMTPIO_BARELF) { err("500 5.5.2 bare LF in command (RFC 5321 2.3.8)") ; return ; }
  if (flags & SMTPIO_BARECR) { err("500 5.5.2 bare CR in command (RFC 5321 2.3.8)") ; return ; }
  if (flags & SMTPIO_TOOLONG) { err("500 5.5.2 line too long (RFC 5321 4.5.3.1.4)") ; return ; }
#define IS(v) (vlen == sizeof(v) - 1 && !strncasecmp(s, v, vlen))
  if (refused && !IS("QUIT")) { err("503 5.5.1 you spoke before the greeting: only QUIT now") ; return ; }
  if (line.text.len > CMDLINE_MAX && !IS("MAIL")) { err("500 5.5.2 line too long (RFC 5321 4.5.3.1.4)") ; return ; }
  if (flags & SMTPIO_8BIT && !IS("MAIL") && !IS("RCPT")) { err("500 5.5.2 8-bit characters in a command (RFC 5321 2.4)") ; return ; }
  /* a repeated EHLO or HELO is junk as well (a client after STARTTLS
     says it once more) */
  if ((IS("NOOP") || IS("RSET") || IS("VRFY") || IS("HELP") || (greeted && (IS("EHLO") || IS("HELO")))) && ++njunk > JUNK_MAX)
  {
    LOG("error: too many NOOP, RSET, VRFY, HELP or repeated EHLO commands") ;
    counterror() ;
  }
  if (IS("EHLO")) smtp_helo(arg, 1) ;
  else if (IS("HELO")) smtp_helo(arg, 0) ;
  else if (IS("MAIL")) smtp_mail(arg, flags) ;
  else if (IS("RCPT")) smtp_rcpt(arg, flags) ;
  else if (IS("DATA")) smtp_data(arg) ;
  else if (IS("BDAT")) smtp_bdat(arg) ;
  else if (IS("STARTTLS")) smtp_starttls(arg) ;
  else if (IS("AUTH")) smtp_auth(arg) ;
  else if (IS("RSET"))
  {
    if (*arg) err("501 5.5.4 syntax: RSET") ;
    else { transaction_reset() ; reply("250 2.0.0 ok") ; }
  }
  else if (IS("NOOP")) reply("250 2.0.0 ok") ;
  else if (IS("QUIT"))
  {
    reply3("221 2.0.0 ", me, " closing connection") ;
    if (!buffer_isempty(&bin)) LOG("error: commands after QUIT ignored") ;
    bye() ;
  }
  else if (IS("VRFY")) reply("252 2.0.0 cannot VRFY, but send mail and delivery will be tried") ;
  else if (IS("HELP"))
  {
    reply("214-2.0.0 mm-smtpd, see mm-smtpd(8); commands:") ;
    reply("214 2.0.0 EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH") ;
  }
  else err("500 5.5.1 unknown command") ;
#undef IS
}

/* The session after the greeting: one command after another until the
   client leaves (fuzz/smtpd.c runs it too). */
static void commands (void) gccattr_noreturn ;
static void commands (void)
{
  for (;;)
  {
    tain d ;
    int r ;
    /* the whole command within the timeout: a trickling client is cut off */
    deadline(&d, timeout) ;
    r = smtpio_getline(&bin, &bout, &line, CMDLINE_MAX + CMDLINE_EXT, SMTPIO_ANYLF, &d) ;
    if (r < 0) timedout() ;
    if (!r)
    {
      if (line.text.len) LOG("connection lost in the middle of a command") ;
      else if (inmail) LOG("connection lost in a transaction") ;
      bye() ;
    }
    command() ;
  }
}

/* -s (implicit TLS); -l and its options: mm-smtpd is its own listener
   (tcplisten.c), and main goes on in each connection's child */
static void options (int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  tcplisten t = { .max = TCPLISTEN_MAX_DEFAULT, .rules = 0, .setids = 0 } ;
  int listen = 0, hasu = 0, hasg = 0 ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "slc:x:u:g:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 's' : smtps = 1 ; break ;
      case 'l' : listen = 1 ; break ;
      case 'c' : if (!uint0_scan(l.arg, &t.max) || !t.max) strerr_dieusage(EX_USAGE, USAGE) ; break ;
      case 'x' : t.rules = l.arg ; break ;
      case 'u' : if (!uid0_scan(l.arg, &t.uid)) strerr_dieusage(EX_USAGE, USAGE) ; hasu = 1 ; break ;
      case 'g' : if (!gid0_scan(l.arg, &t.gid)) strerr_dieusage(EX_USAGE, USAGE) ; hasg = 1 ; break ;
      default : strerr_dieusage(EX_USAGE, USAGE) ;
    }
  }
  argc -= l.ind ; argv += l.ind ;
  if (!listen) { if (argc || hasu || hasg || t.rules) strerr_dieusage(EX_USAGE, USAGE) ; return ; }
  if (argc != 2 || hasu != hasg || !uint160_scan(argv[1], &t.port)) strerr_dieusage(EX_USAGE, USAGE) ;
  t.ip = argv[0] ;
  t.setids = hasu ;
  tcplisten_run(&t) ;
}

int main (int argc, char const *const *argv)
{
  char const *x ;
  PROG = "mm-smtpd" ;
  usage_help(argc, argv, USAGE) ;
  logstamp_init() ;
  privs_init() ;
  options(argc, argv) ;
  mm_home_check() ;
  signal(SIGPIPE, SIG_IGN) ;
  /* a parent that ignores SIGCHLD would take mm-queue's exit code from us */
  signal(SIGCHLD, SIG_DFL) ;
  tain_now_set_stopwatch_g() ;
  uidstr[uint64_fmt(uidstr, getuid())] = 0 ;
  x = getenv("MM_SMTPD_LOCAL") ;
  local = x && *x && strcmp(x, "0") ;
  /* on the network it runs as the smtpd user (tcpserver -u -g); root has no business here */
  if (!local) privs_refuse_root() ;
  remoteip = getenv("TCPREMOTEIP") ;
  x = getenv("TCPREMOTEHOST") ;
  if (x && *x)
  {
    static stralloc host = STRALLOC_ZERO ;
    sethost(&host, x) ;
    remotehost = host.s ;
  }
  if (local)
  {
    static stralloc lab = STRALLOC_ZERO ;
    if (!stralloc_cats(&lab, "local uid ") || !stralloc_cats(&lab, uidstr) || !stralloc_0(&lab)) strerr_diefu1sys(EX_TEMPFAIL, "allocate") ;
    label = lab.s ;
    relayclient = 1 ;
  }
  else
  {
    if (remoteip && *remoteip) label = remoteip ;
    relayclient = !!getenv("RELAYCLIENT") ;
    /* a slow client must not block our writes forever */
    if (!isatty(0)) ndelay_on(0) ;
    if (!isatty(1)) ndelay_on(1) ;
  }
  readcontrol() ;
  readroutes() ;
  readtls() ;
  if (smtps)
  {
    /* implicit TLS (RFC 8314): the client's first bytes are its hello */
    if (!tlsoffer) strerr_dief1x(EX_CONFIG, "-s needs control/tlscert and control/tlskey, and a network connection") ;
    tls_begin() ;
  }
  else if (!local) refused = spoke_early() ;
  if (refused)
  {
    reply3("554 5.5.1 ", me, " you spoke before the greeting") ;
    LOG("error: spoke before the greeting") ;
  }
  else reply3("220 ", me, " ESMTP mm-smtpd") ;
  commands() ;
}
