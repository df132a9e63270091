/* mm-tls: the only program linked with the TLS library. It runs as its
   parent's user (setgid to the tls group in an install, only to read the
   server key, dropped before the first byte from the network): it takes
   over the network descriptor on fd 0, does the handshake, reports its
   result in one line on fd 1 (a socket to the parent) and then relays
   plaintext between fd 1 and the TLS connection (INTERNALS 9). */

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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <tls.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/sgetopt.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include "home.h"
#include "privs.h"
#include "logstamp.h"
#include "tlsserver.h"
#include "usage.h"

#define USAGE "mm-tls -c [-O] [-I] [-n name] [-C cafile] [-p pin]... [-a cert -k key] [-m 1.2|1.3] [-t secs] [-T secs] | mm-tls -s [-m 1.2|1.3] [-t secs] [-T secs]"

#define NET 0
#define PLAIN 1
#define TIMEOUT_HANDSHAKE 60   /* seconds for the whole handshake */
#define TIMEOUT_IO 1200        /* seconds without progress while relaying */
#define PINS_MAX 16
#define KEY_MAX 65536          /* a PEM private key is a few KB */
#define RELAYBUF 16384         /* one TLS record */
#define SERVER_CERT "control/tlscert"
#define SERVER_KEY "control/tlskey"
#define SERVER_IDLE 60         /* seconds without a connection before a server exits */
#define SERVER_RECEIVE 10      /* seconds for a caller to send its descriptors */

static unsigned int thandshake = TIMEOUT_HANDSHAKE, tio = TIMEOUT_IO ;

/* ------------------------------------------------------------ the report */

static int reported = 0 ;

/* One line to the parent; the text becomes one line whatever it holds. */
static void report (char const *a, char const *b, char const *c)
{
  stralloc sa = STRALLOC_ZERO ;
  if (reported) return ;
  reported = 1 ;
  if (!stralloc_cats(&sa, a) || !stralloc_cats(&sa, b) || !stralloc_cats(&sa, c)) _exit(EX_TEMPFAIL) ;
  for (size_t i = 0 ; i < sa.len ; i++)
    if ((unsigned char)sa.s[i] < 32 || sa.s[i] == 127) sa.s[i] = ' ' ;
  if (!stralloc_catb(&sa, "\n", 1)) _exit(EX_TEMPFAIL) ;
  ndelay_off(PLAIN) ;
  allwrite(PLAIN, sa.s, sa.len) ;
  stralloc_free(&sa) ;
}

/* Handshake trouble: the parent learns why, and so does the log. */
static void fail (char const *a, char const *b) gccattr_noreturn ;
static void fail (char const *a, char const *b)
{
  report("fail ", a, b) ;
  strerr_warnw2x(a, b) ;
  _exit(EX_TEMPFAIL) ;
}

static void failtls (char const *what, struct tls *t)
{
  char const *e = tls_error(t) ;
  fail(what, e ? e : "unknown error") ;
}

/* ------------------------------------------------------------ pins */

static void hexcat (stralloc *sa, unsigned char const *s, unsigned int n)
{
  for (unsigned int i = 0 ; i < n ; i++)
  {
    char h[2] = { "0123456789abcdef"[s[i] >> 4], "0123456789abcdef"[s[i] & 15] } ;
    if (!stralloc_catb(sa, h, 2)) _exit(EX_TEMPFAIL) ;
  }
}

/* sa = hex SHA-256 of the DER of x (the certificate) or of its
   SubjectPublicKeyInfo (the key, which survives a renewal). */
static void pin_of (stralloc *sa, X509 *x, int key)
{
  unsigned char *der = 0, md[EVP_MAX_MD_SIZE] ;
  unsigned int mdlen = 0 ;
  int n = key ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : i2d_X509(x, &der) ;
  sa->len = 0 ;
  if (n <= 0 || !EVP_Digest(der, n, md, &mdlen, EVP_sha256(), 0)) fail("cannot hash the peer certificate", "") ;
  OPENSSL_free(der) ;
  hexcat(sa, md, mdlen) ;
  if (!stralloc_0(sa)) _exit(EX_TEMPFAIL) ;
  sa->len-- ;
}

/* The peer's chain, leaf first. */
static STACK_OF(X509) *peer_chain (struct tls *t)
{
  size_t len ;
  uint8_t const *pem = tls_peer_cert_chain_pem(t, &len) ;
  STACK_OF(X509) *chain = sk_X509_new_null() ;
  BIO *bio ;
  X509 *x ;
  if (!chain) _exit(EX_TEMPFAIL) ;
  if (!pem) return chain ;
  bio = BIO_new_mem_buf(pem, len) ;
  if (!bio) _exit(EX_TEMPFAIL) ;
  while ((x = PEM_read_bio_X509(bio, 0, 0, 0))) sk_X509_push(chain, x) ;
  BIO_free(bio) ;
  return chain ;
}

/* A pin as given: 64 hex digits, "sha256:" or "SHA256:" before them allowed. */
static int pin_valid (char const *p)
{
  size_t i ;
  if (!strncasecmp(p, "sha256:", 7)) p += 7 ;
  for (i = 0 ; p[i] ; i++)
    if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') || (p[i] >= 'A' && p[i] <= 'F'))) return 0 ;
  return i == 64 ;
}

static int pin_matches (char const *p, char const *hex)
{
  if (!strncasecmp(p, "sha256:", 7)) p += 7 ;
  return !strcasecmp(p, hex) ;
}

/* ------------------------------------------------------------ the handshake */

static void waitfor (int fd, int want, tain const *deadline, char const *what)
{
  iopause_fd x = { .fd = fd, .events = want == TLS_WANT_POLLOUT ? IOPAUSE_WRITE : IOPAUSE_READ, .revents = 0 } ;
  for (;;)
  {
    int r = iopause_g(&x, 1, deadline) ;
    if (r > 0) return ;
    if (!r) fail(what, " timed out") ;
    if (errno != EINTR) fail("iopause: ", strerror(errno)) ;
  }
}

static void handshake (struct tls *t)
{
  tain deadline ;
  tain_now_g() ;
  tain_addsec_g(&deadline, thandshake) ;
  for (;;)
  {
    int r = tls_handshake(t) ;
    if (!r) return ;
    if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT) { waitfor(NET, r, &deadline, "the TLS handshake") ; continue ; }
    failtls("TLS handshake failed: ", t) ;
  }
}

/* "ok PROTOCOL CIPHER VERIFY CERTPIN KEYPIN" (INTERNALS 9) */
static void report_ok (struct tls *t, char const *verify, char const *certpin, char const *keypin)
{
  stralloc sa = STRALLOC_ZERO ;
  char const *v = tls_conn_version(t), *c = tls_conn_cipher(t) ;
  if (!stralloc_cats(&sa, v ? v : "unknown") || !stralloc_catb(&sa, " ", 1)
   || !stralloc_cats(&sa, c ? c : "unknown") || !stralloc_catb(&sa, " ", 1)
   || !stralloc_cats(&sa, verify) || !stralloc_catb(&sa, " ", 1)
   || !stralloc_cats(&sa, certpin) || !stralloc_catb(&sa, " ", 1)
   || !stralloc_cats(&sa, keypin) || !stralloc_0(&sa)) _exit(EX_TEMPFAIL) ;
  report("ok ", sa.s, "") ;
  stralloc_free(&sa) ;
}

/* ------------------------------------------------------------ relaying */

/* Say close_notify, briefly: the peer may already be gone. */
static void closetls (struct tls *t)
{
  tain deadline ;
  tain_now_g() ;
  tain_addsec_g(&deadline, 10) ;
  for (;;)
  {
    iopause_fd x = { .fd = NET, .events = IOPAUSE_READ, .revents = 0 } ;
    int r = tls_close(t) ;
    if (r != TLS_WANT_POLLIN && r != TLS_WANT_POLLOUT) return ;
    if (r == TLS_WANT_POLLOUT) x.events = IOPAUSE_WRITE ;
    if (iopause_g(&x, 1, &deadline) <= 0) return ;
  }
}

typedef struct pipe_s relaybuf ;
struct pipe_s
{
  char buf[RELAYBUF] ;
  size_t len ;
  int eof ;
} ;

/* Before the exit: what the parent sent and nobody will read is
   dropped, so that the close is an end of file for the parent and not
   a reset that could swallow the last bytes we gave it. */
static void plain_end (void)
{
  char buf[4096] ;
  shutdown(PLAIN, SHUT_WR) ;
  ndelay_on(PLAIN) ;
  while (fd_read(PLAIN, buf, sizeof buf) > 0) ;
}

/* Move bytes both ways until one side ends, then flush toward the
   other and stop. Every step is tried until none makes progress; only
   then do we wait, on what the TLS layer said it needs. A step that
   would have blocked is not tried again before that wait: each try is
   a system call, and they were two thirds of mm-tls's reads. */
#define NETIN 1
#define NETOUT 2
#define PLAININ 4
#define PLAINOUT 8
static void relay (struct tls *t)
{
  static relaybuf in, out ;   /* in: network to parent; out: parent to network */
  int rwant = TLS_WANT_POLLIN, wwant = 0, blocked = 0 ;
  tain deadline ;
  if (ndelay_on(PLAIN) < 0) strerr_diefu1sys(EX_TEMPFAIL, "set the plaintext socket non-blocking") ;
  tain_now_g() ;
  tain_addsec_g(&deadline, tio) ;
  for (;;)
  {
    int progress = 0 ;
    ssize_t r ;
    if (!in.eof && in.len < sizeof in.buf && !(blocked & NETIN))
    {
      r = tls_read(t, in.buf + in.len, sizeof in.buf - in.len) ;
      if (r > 0) { in.len += r ; progress = 1 ; rwant = 0 ; }
      else if (!r) { in.eof = 1 ; progress = 1 ; }
      else if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT) { rwant = r ; blocked |= NETIN ; }
      else { strerr_warnw2x("TLS read: ", tls_error(t) ? tls_error(t) : "error") ; in.eof = 1 ; progress = 1 ; }
    }
    if (out.len && !(blocked & NETOUT))
    {
      r = tls_write(t, out.buf, out.len) ;
      if (r > 0) { memmove(out.buf, out.buf + r, out.len - r) ; out.len -= r ; progress = 1 ; wwant = 0 ; }
      else if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT) { wwant = r ; blocked |= NETOUT ; }
      else { strerr_warnw2x("TLS write: ", tls_error(t) ? tls_error(t) : "error") ; return ; }
    }
    if (in.len && !(blocked & PLAINOUT))
    {
      r = fd_write(PLAIN, in.buf, in.len) ;
      if (r > 0) { memmove(in.buf, in.buf + r, in.len - r) ; in.len -= r ; progress = 1 ; }
      else if (r < 0 && errno == EAGAIN) blocked |= PLAINOUT ;
      else if (r < 0 && errno != EINTR) return ;  /* the parent is gone */
    }
    if (!out.eof && out.len < sizeof out.buf && !(blocked & PLAININ))
    {
      r = fd_read(PLAIN, out.buf + out.len, sizeof out.buf - out.len) ;
      if (r > 0) { out.len += r ; progress = 1 ; }
      else if (r < 0 && errno == EAGAIN) blocked |= PLAININ ;
      else if (!r || errno != EINTR) { out.eof = 1 ; progress = 1 ; }
    }
    if (in.eof && !in.len) return ;      /* the peer is done and the parent has it all */
    if (out.eof && !out.len) { closetls(t) ; return ; }
    if (progress) { tain_now_g() ; tain_addsec_g(&deadline, tio) ; continue ; }
    {
      iopause_fd x[2] ;
      short ev = 0 ;
      if (!in.eof && in.len < sizeof in.buf) ev |= rwant == TLS_WANT_POLLOUT ? IOPAUSE_WRITE : IOPAUSE_READ ;
      if (out.len) ev |= wwant == TLS_WANT_POLLIN ? IOPAUSE_READ : IOPAUSE_WRITE ;
      x[0].fd = NET ; x[0].events = ev ; x[0].revents = 0 ;
      x[1].fd = PLAIN ; x[1].revents = 0 ;
      x[1].events = (in.len ? IOPAUSE_WRITE : 0) | (!out.eof && out.len < sizeof out.buf ? IOPAUSE_READ : 0) ;
      r = iopause_g(x, 2, &deadline) ;
      blocked = 0 ;
      if (r < 0 && errno != EINTR) strerr_diefu1sys(EX_TEMPFAIL, "iopause") ;
      if (!r) { strerr_warnw1x("no progress for too long: closing the connection") ; return ; }
    }
  }
}

/* ------------------------------------------------------------ client */

#define TRUST_STORE "/etc/ssl/certs/ca-certificates.crt"   /* Debian's ca-certificates */

static char const *servername = 0, *cafile = 0, *certfile = 0, *keyfile = 0, *minproto = "1.2" ;
static char const *pins[PINS_MAX] ;
static unsigned int npins = 0 ;
static int opportunistic = 0, inspect = 0 ;

static void set_protocols (struct tls_config *cf)
{
  uint32_t p ;
  char const *s = !strcmp(minproto, "1.3") ? "tlsv1.3" : "tlsv1.2,tlsv1.3" ;
  if (tls_config_parse_protocols(&p, s) < 0 || tls_config_set_protocols(cf, p) < 0)
    fail("cannot set the TLS protocols: ", tls_config_error(cf)) ;
}

/* The inspect mode's own check, for the administrator: would the chain
   verify against the trust store (or -C) and does it name the host? */
static char const *verify_chain (STACK_OF(X509) *chain)
{
  static char why[256] ;
  X509_STORE *store = X509_STORE_new() ;
  X509_STORE_CTX *ctx = X509_STORE_CTX_new() ;
  X509 *leaf = sk_X509_value(chain, 0) ;
  char const *r = "verified" ;
  if (!store || !ctx) _exit(EX_TEMPFAIL) ;
  if (!X509_STORE_load_locations(store, cafile ? cafile : TRUST_STORE, 0)) r = "not verified: cannot read the CA file" ;
  else if (!X509_STORE_CTX_init(ctx, store, leaf, chain)) r = "not verified: out of memory" ;
  else if (X509_verify_cert(ctx) != 1)
  {
    strcpy(why, "not verified: ") ;
    strncat(why, X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)), sizeof why - 20) ;
    r = why ;
  }
  else if (servername && X509_check_host(leaf, servername, 0, 0, 0) != 1 && X509_check_ip_asc(leaf, servername, 0) != 1)
    r = "not verified: the certificate does not name the host" ;
  X509_STORE_CTX_free(ctx) ;
  X509_STORE_free(store) ;
  return r ;
}

static void print_name (stralloc *sa, char const *label, X509_NAME *n)
{
  char buf[512] ;
  X509_NAME_oneline(n, buf, sizeof buf) ;
  if (!stralloc_cats(sa, label) || !stralloc_cats(sa, buf) || !stralloc_catb(sa, "\n", 1)) _exit(EX_TEMPFAIL) ;
}

static void print_time (stralloc *sa, char const *label, ASN1_TIME const *t)
{
  struct tm tm ;
  char buf[64] ;
  if (!ASN1_TIME_to_tm(t, &tm)) strcpy(buf, "?") ;
  else strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm) ;
  if (!stralloc_cats(sa, label) || !stralloc_cats(sa, buf) || !stralloc_catb(sa, "\n", 1)) _exit(EX_TEMPFAIL) ;
}

static void print_sans (stralloc *sa, X509 *x)
{
  GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, 0, 0) ;
  if (!stralloc_cats(sa, "  names:")) _exit(EX_TEMPFAIL) ;
  for (int i = 0 ; names && i < sk_GENERAL_NAME_num(names) ; i++)
  {
    GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i) ;
    if (g->type == GEN_DNS)
    {
      if (!stralloc_cats(sa, " DNS:") || !stralloc_catb(sa, (char const *)ASN1_STRING_get0_data(g->d.dNSName), ASN1_STRING_length(g->d.dNSName))) _exit(EX_TEMPFAIL) ;
    }
    else if (g->type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == 4)
    {
      unsigned char const *a = ASN1_STRING_get0_data(g->d.iPAddress) ;
      char fmt[UINT_FMT] ;
      if (!stralloc_cats(sa, " IP:")) _exit(EX_TEMPFAIL) ;
      for (int k = 0 ; k < 4 ; k++)
        if ((k && !stralloc_catb(sa, ".", 1)) || !stralloc_catb(sa, fmt, uint_fmt(fmt, a[k]))) _exit(EX_TEMPFAIL) ;
    }
  }
  GENERAL_NAMES_free(names) ;
  if (!stralloc_catb(sa, "\n", 1)) _exit(EX_TEMPFAIL) ;
}

/* What the server presents, on fd 1 after the report line. */
static void print_chain (STACK_OF(X509) *chain)
{
  stralloc sa = STRALLOC_ZERO, pin = STRALLOC_ZERO ;
  for (int i = 0 ; i < sk_X509_num(chain) ; i++)
  {
    X509 *x = sk_X509_value(chain, i) ;
    char fmt[UINT_FMT] ;
    if (!stralloc_cats(&sa, "certificate ") || !stralloc_catb(&sa, fmt, uint_fmt(fmt, i)) || !stralloc_cats(&sa, "\n")) _exit(EX_TEMPFAIL) ;
    print_name(&sa, "  subject: ", X509_get_subject_name(x)) ;
    print_name(&sa, "  issuer: ", X509_get_issuer_name(x)) ;
    print_sans(&sa, x) ;
    print_time(&sa, "  not before: ", X509_get0_notBefore(x)) ;
    print_time(&sa, "  not after: ", X509_get0_notAfter(x)) ;
    pin_of(&pin, x, 0) ;
    if (!stralloc_cats(&sa, "  certificate pin: sha256:") || !stralloc_cat(&sa, &pin) || !stralloc_catb(&sa, "\n", 1)) _exit(EX_TEMPFAIL) ;
    pin_of(&pin, x, 1) ;
    if (!stralloc_cats(&sa, "  public key pin: sha256:") || !stralloc_cat(&sa, &pin) || !stralloc_catb(&sa, "\n", 1)) _exit(EX_TEMPFAIL) ;
  }
  if (sk_X509_num(chain))
  {
    if (!stralloc_cats(&sa, "verification: ") || !stralloc_cats(&sa, verify_chain(chain)) || !stralloc_catb(&sa, "\n", 1)) _exit(EX_TEMPFAIL) ;
  }
  ndelay_off(PLAIN) ;
  allwrite(PLAIN, sa.s, sa.len) ;
  stralloc_free(&sa) ;
  stralloc_free(&pin) ;
}

static struct tls *client_connect (void)
{
  struct tls_config *cf = tls_config_new() ;
  struct tls *t = tls_client() ;
  if (!cf || !t) fail("cannot set up TLS: out of memory", "") ;
  set_protocols(cf) ;
  if (tls_config_set_ca_file(cf, cafile ? cafile : TRUST_STORE) < 0) fail("cannot read the CA file: ", tls_config_error(cf)) ;
  if (certfile && tls_config_set_keypair_file(cf, certfile, keyfile) < 0)
    fail("cannot read the client certificate or key: ", tls_config_error(cf)) ;
  /* a pin replaces the chain and the name: it accepts a self-signed server */
  if (npins || opportunistic || inspect)
  {
    tls_config_insecure_noverifycert(cf) ;
    tls_config_insecure_noverifyname(cf) ;
  }
  if (tls_configure(t, cf) < 0) failtls("cannot set up TLS: ", t) ;
  if (tls_connect_fds(t, NET, NET, servername) < 0) failtls("cannot start TLS: ", t) ;
  handshake(t) ;
  tls_config_free(cf) ;
  return t ;
}

static void client (void)
{
  struct tls *t = client_connect() ;
  STACK_OF(X509) *chain = peer_chain(t) ;
  stralloc certpin = STRALLOC_ZERO, keypin = STRALLOC_ZERO ;
  char const *verify = inspect || opportunistic ? "unverified" : "verified" ;
  if (!sk_X509_num(chain)) fail("the server sent no certificate", "") ;
  pin_of(&certpin, sk_X509_value(chain, 0), 0) ;
  pin_of(&keypin, sk_X509_value(chain, 0), 1) ;
  if (npins)
  {
    unsigned int i = 0 ;
    while (i < npins && !pin_matches(pins[i], certpin.s) && !pin_matches(pins[i], keypin.s)) i++ ;
    if (i == npins)
    {
      stralloc why = STRALLOC_ZERO ;
      if (!stralloc_cats(&why, "certificate sha256:") || !stralloc_cat(&why, &certpin)
       || !stralloc_cats(&why, " key sha256:") || !stralloc_cat(&why, &keypin) || !stralloc_0(&why)) _exit(EX_TEMPFAIL) ;
      fail("no pin matches the server certificate: ", why.s) ;
    }
    verify = "pinned" ;
  }
  if (!stralloc_insertb(&certpin, 0, "sha256:", 7) || !stralloc_insertb(&keypin, 0, "sha256:", 7)
   || !stralloc_0(&certpin) || !stralloc_0(&keypin)) _exit(EX_TEMPFAIL) ;
  report_ok(t, verify, certpin.s, keypin.s) ;
  if (inspect) { print_chain(chain) ; closetls(t) ; plain_end() ; return ; }
  sk_X509_pop_free(chain, X509_free) ;
  relay(t) ;
  plain_end() ;
}

/* ------------------------------------------------------------ server */

/* A file of the control directory into memory (the key: only with the
   tls group, and never one that everybody may read). */
static uint8_t *control_load (char const *rel, size_t *len, int secret, struct stat *loaded)
{
  stralloc path = STRALLOC_ZERO ;
  struct stat st ;
  uint8_t *buf ;
  ssize_t n ;
  int fd ;
  if (!mm_path(&path, rel)) _exit(EX_TEMPFAIL) ;
  fd = open(path.s, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) ;
  if (fd < 0) fail("cannot open ", path.s) ;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > KEY_MAX) fail("not a regular file of a sensible size: ", path.s) ;
  if (secret && st.st_mode & 004) fail("the key may be read by everybody; chmod o-r ", path.s) ;
  buf = malloc(st.st_size + 1) ;
  if (!buf) _exit(EX_TEMPFAIL) ;
  n = allread(fd, (char *)buf, st.st_size) ;
  if (n != st.st_size) fail("cannot read ", path.s) ;
  fd_close(fd) ;
  stralloc_free(&path) ;
  *len = n ;
  *loaded = st ;
  return buf ;
}

/* One connection on NET and PLAIN: the handshake, the report, the relay. */
static void session (struct tls *t)
{
  struct tls *c = 0 ;
  if (tls_accept_fds(t, &c, NET, NET) < 0) failtls("cannot start TLS: ", t) ;
  handshake(c) ;
  report_ok(c, "noclientcert", "-", "-") ;
  relay(c) ;
  plain_end() ;
}

static int minproto_set = 0 ;
static struct stat certst, keyst ;   /* the files as they were read */

static int same_file (char const *rel, struct stat const *was)
{
  stralloc path = STRALLOC_ZERO ;
  struct stat st ;
  int r = mm_path(&path, rel) && !lstat(path.s, &st) && st.st_dev == was->st_dev && st.st_ino == was->st_ino
    && st.st_size == was->st_size && st.st_mode == was->st_mode
    && st.st_mtim.tv_sec == was->st_mtim.tv_sec && st.st_mtim.tv_nsec == was->st_mtim.tv_nsec
    && st.st_ctim.tv_sec == was->st_ctim.tv_sec && st.st_ctim.tv_nsec == was->st_ctim.tv_nsec ;
  stralloc_free(&path) ;
  return r ;
}

/* The options a caller sends with its connection: -t and -T only (the
   rest is the server's, fixed when it started). */
static int takeargs (stralloc const *args)
{
  char const *a[8] ;
  unsigned int n = 0 ;
  for (size_t i = 0 ; i < args->len ; i += strlen(args->s + i) + 1)
  {
    if (n == 8) return 0 ;
    a[n++] = args->s + i ;
  }
  if (n & 1) return 0 ;
  for (unsigned int i = 0 ; i < n ; i += 2)
  {
    unsigned int *v = !strcmp(a[i], "-t") ? &thandshake : !strcmp(a[i], "-T") ? &tio : 0 ;
    if (!v || !uint0_scan(a[i + 1], v) || !*v) return 0 ;
  }
  return 1 ;
}

static void net_setup (void) ;

/* A child of the server: take the caller's descriptors, say so, serve. */
static void connection (struct tls *t, int conn) gccattr_noreturn ;
static void connection (struct tls *t, int conn)
{
  stralloc args = STRALLOC_ZERO ;
  int fds[3] ;
  tain d ;
  signal(SIGCHLD, SIG_DFL) ;
  tain_now_g() ;
  tain_addsec_g(&d, SERVER_RECEIVE) ;
  if (!tlsserver_receive(conn, fds, &args, &d) || !takeargs(&args)) _exit(0) ;
  if (dup2(fds[0], NET) < 0 || dup2(fds[1], PLAIN) < 0 || dup2(fds[2], 2) < 0) _exit(EX_TEMPFAIL) ;
  for (int i = 0 ; i < 3 ; i++) if (fds[i] > 2) fd_close(fds[i]) ;
  /* not a byte of the network before the caller let its copy go */
  if (!tlsserver_ack(conn)) _exit(0) ;
  fd_close(conn) ;
  stralloc_free(&args) ;
  logstamp_init() ;
  net_setup() ;
  session(t) ;
  _exit(0) ;
}

/* The server: a connection at a time from the socket, a child for each;
   gone after SERVER_IDLE seconds without one (it wakes for nothing
   else), or when the certificate or the key changed, so that the next
   mm-tls reads the new ones. */
static void serve (struct tls *t, int l) gccattr_noreturn ;
static void serve (struct tls *t, int l)
{
  int nul = open("/dev/null", O_RDWR) ;
  if (nul < 0 || dup2(nul, NET) < 0 || dup2(nul, PLAIN) < 0 || dup2(nul, 2) < 0) _exit(EX_TEMPFAIL) ;
  if (nul > 2) fd_close(nul) ;
  /* nothing of the first caller's stays open (a pipe whose end of file
     someone waits for), nor its directory */
  if (l != 3) { if (dup2(l, 3) < 0) _exit(EX_TEMPFAIL) ; fd_close(l) ; l = 3 ; }
  ndelay_on(l) ;   /* a caller gone between the wake-up and accept: no wait */
  close_range(4, ~0U, 0) ;
  if (chdir("/") < 0) _exit(EX_TEMPFAIL) ;
  setsid() ;
  signal(SIGCHLD, SIG_IGN) ;   /* the kernel reaps the children */
  for (;;)
  {
    iopause_fd x = { .fd = l, .events = IOPAUSE_READ, .revents = 0 } ;
    tain deadline ;
    int conn, r ;
    tain_now_g() ;
    tain_addsec_g(&deadline, SERVER_IDLE) ;
    r = iopause_g(&x, 1, &deadline) ;
    if (!r) _exit(0) ;
    if (r < 0) { if (errno == EINTR) continue ; _exit(EX_TEMPFAIL) ; }
    conn = accept4(l, 0, 0, SOCK_CLOEXEC) ;
    if (conn < 0) continue ;
    if (!tlsserver_peer_ok(conn)) { fd_close(conn) ; continue ; }
    /* the caller, seeing no 'k', runs mm-tls itself */
    if (!same_file(SERVER_CERT, &certst) || !same_file(SERVER_KEY, &keyst))
    {
      fd_close(l) ;   /* the name is free before the caller runs mm-tls */
      _exit(0) ;
    }
    r = fork() ;
    if (!r) { fd_close(l) ; connection(t, conn) ; }
    fd_close(conn) ;
  }
}

/* The next connections of this home go to a server forked from here,
   which has paid for OpenSSL's start, the key and the configuration
   already; one server at a time (the socket's name is taken). */
static void serve_later (struct tls *t)
{
  int l ;
  pid_t pid ;
  if (minproto_set) return ;   /* the server's protocols are the default ones */
  l = tlsserver_listen() ;
  if (l < 0) return ;
  pid = fork() ;
  if (!pid) serve(t, l) ;
  fd_close(l) ;
}

static void server (void)
{
  struct tls_config *cf = tls_config_new() ;
  struct tls *t = tls_server() ;
  size_t certlen, keylen ;
  uint8_t *cert = control_load(SERVER_CERT, &certlen, 0, &certst) ;
  uint8_t *key = control_load(SERVER_KEY, &keylen, 1, &keyst) ;
  /* the key is in memory: the tls group goes before the network */
  if (setresgid(getgid(), getgid(), getgid()) < 0) strerr_diefu1sys(EX_TEMPFAIL, "drop the tls group") ;
  /* and the user it runs as may not read it from our memory either */
  prctl(PR_SET_DUMPABLE, 0) ;
  if (!cf || !t) fail("cannot set up TLS: out of memory", "") ;
  set_protocols(cf) ;
  if (tls_config_set_keypair_mem(cf, cert, certlen, key, keylen) < 0) fail("cannot use the certificate and key: ", tls_config_error(cf)) ;
  memset(key, 0, keylen) ;
  free(key) ;
  free(cert) ;
  if (tls_configure(t, cf) < 0) failtls("cannot set up TLS: ", t) ;
  serve_later(t) ;
  session(t) ;
}

/* ------------------------------------------------------------ main */

static void net_setup (void)
{
  /* TLS writes records, often several small ones in a row (the
     handshake's last flight, session tickets, a reply): Nagle would
     hold each after the first until an ACK that the peer delays */
  int one = 1 ;
  if (ndelay_on(NET) < 0) strerr_diefu1sys(EX_TEMPFAIL, "set the network descriptor non-blocking") ;
  setsockopt(NET, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ;
}

int main (int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  int mode = 0 ;
  PROG = "mm-tls" ;
  usage_help(argc, argv, USAGE) ;
  logstamp_init() ;
  privs_init() ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "csOIn:C:p:a:k:m:t:T:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 'c' : case 's' : mode = opt ; break ;
      case 'O' : opportunistic = 1 ; break ;
      case 'I' : inspect = 1 ; break ;
      case 'n' : servername = l.arg ; break ;
      case 'C' : cafile = l.arg ; break ;
      case 'p' :
        if (npins >= PINS_MAX) strerr_dief1x(EX_USAGE, "too many pins") ;
        if (!pin_valid(l.arg)) strerr_dief2x(EX_USAGE, "a pin is 64 hex digits (sha256:HEX): ", l.arg) ;
        pins[npins++] = l.arg ; break ;
      case 'a' : certfile = l.arg ; break ;
      case 'k' : keyfile = l.arg ; break ;
      case 'm' :
        if (strcmp(l.arg, "1.2") && strcmp(l.arg, "1.3")) strerr_dief2x(EX_USAGE, "the minimum protocol is 1.2 or 1.3: ", l.arg) ;
        minproto = l.arg ; minproto_set = 1 ; break ;
      case 't' : if (!uint0_scan(l.arg, &thandshake) || !thandshake) strerr_dieusage(EX_USAGE, USAGE) ; break ;
      case 'T' : if (!uint0_scan(l.arg, &tio) || !tio) strerr_dieusage(EX_USAGE, USAGE) ; break ;
      default : strerr_dieusage(EX_USAGE, USAGE) ;
    }
  }
  if (!mode || l.ind != argc || (!certfile != !keyfile)) strerr_dieusage(EX_USAGE, USAGE) ;
  signal(SIGPIPE, SIG_IGN) ;
  tain_now_set_stopwatch_g() ;
  net_setup() ;
  /* OpenSSL's cleanup at exit frees its every table: more work than
     the handshake, for memory that the exit frees anyway */
  if (mode == 's') { server() ; _exit(0) ; }
  else
  {
    /* the files a client names are read with the caller's rights alone */
    if (setresgid(getgid(), getgid(), getgid()) < 0) strerr_diefu1sys(EX_TEMPFAIL, "drop the tls group") ;
    client() ;
  }
  return 0 ;
}
