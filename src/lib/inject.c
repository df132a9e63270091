/* Completing a locally submitted message (Date, Message-ID, From, -t
   recipients, no Bcc) and handing it to mm-queue: mm-inject's job, and
   sendmail's in the same process. Runs as the caller, with no
   privilege of its own. */

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sysexits.h>
#include <skalibs/buffer.h>
#include <skalibs/genalloc.h>
#include <skalibs/random.h>
#include <skalibs/skamisc.h>
#include <skalibs/stralloc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include "address.h"
#include "base64.h"
#include "control.h"
#include "date822.h"
#include "home.h"
#include "qspawn.h"
#include "rfc822.h"
#include "inject.h"

#define ENCODED_WORD_CHUNK 45  /* bytes per RFC 2047 encoded word: 60 base64 chars + 12 = 72 <= 75 */
#define MSGID_RANDOM_LEN 8
#define PASSWD_FILE "/etc/passwd"

typedef struct field_s field ;
struct field_s
{
  size_t start ;  /* in header */
  size_t len ;    /* the whole field, folded lines and their LFs included */
} ;

static stralloc header = STRALLOC_ZERO ;  /* the header fields as read, LF line ends */
static genalloc fields = GENALLOC_ZERO ;  /* field */
static stralloc line = STRALLOC_ZERO ;
static stralloc rcpts = STRALLOC_ZERO ;   /* envelope recipients, NUL-terminated */
static int dots_end = 1 ;   /* without -i, a line "." ends the message */
static int ended = 0 ;
static qspawn queue ;
static int queue_started = 0 ;

/* Nothing may be queued once we give up: mm-queue commits only after
   the envelope, so killing it before that is enough. */
static void abandon (void)
{
  if (queue_started) { qspawn_abort(&queue) ; queue_started = 0 ; }
}

#define die_data(...) (abandon(), strerr_dief(EX_DATAERR, __VA_ARGS__))
#define die_temp(...) (abandon(), strerr_diefu(EX_TEMPFAIL, __VA_ARGS__))
#define die_tempsys(...) (abandon(), strerr_diefusys(EX_TEMPFAIL, __VA_ARGS__))
#define die_nomem() die_temp("allocate memory")
#define die_code(code, ...) (abandon(), strerr_dief(code, __VA_ARGS__))

/* The next line of the message into line, without its LF or CRLF.
   0 at the end of the message. */
static int nextline (void)
{
  int r ;
  if (ended) return 0 ;
  line.len = 0 ;
  r = skagetln(buffer_0, &line, '\n') ;
  if (r < 0 && errno != EPIPE) die_tempsys("read the message") ;
  if (!r) { ended = 1 ; return 0 ; }
  if (r < 0)  /* the last line has no newline */
  {
    ended = 1 ;
    if (!line.len) return 0 ;
  }
  else line.len-- ;
  if (line.len && line.s[line.len-1] == '\r') line.len-- ;
  if (memchr(line.s, 0, line.len)) die_data("message contains a NUL byte") ;
  if (dots_end && line.len && line.s[0] == '.')
  {
    if (line.len == 1) { ended = 1 ; return 0 ; }
    /* where a lone dot ends the message, a doubled one stands for one
       dot, as with sendmail 8 and masqmail */
    if (line.s[1] == '.') memmove(line.s, line.s + 1, --line.len) ;
  }
  return 1 ;
}

/* Reads the header section. Returns 1 if line holds the first body line
   (a line that is not a header field), 0 otherwise. */
static int read_header (void)
{
  int first = 1 ;
  while (nextline())
  {
    int cont ;
    if (!line.len) return 0 ;
    cont = line.s[0] == ' ' || line.s[0] == '\t' ;
    if (first && line.len >= 5 && !memcmp(line.s, "From ", 5)) { first = 0 ; continue ; }  /* an mbox From_ line */
    first = 0 ;
    if (cont ? !genalloc_len(field, &fields) : !rfc822_fieldname(line.s, line.len)) return 1 ;
    if (line.len > HEADER_LINE_MAX)
    {
      char fmt[SIZE_FMT] ;
      fmt[size_fmt(fmt, HEADER_LINE_MAX)] = 0 ;
      die_data("header line longer than ", fmt, " characters (RFC 5322 2.1.1)") ;
    }
    if (cont) genalloc_s(field, &fields)[genalloc_len(field, &fields) - 1].len += line.len + 1 ;
    else
    {
      field f = { .start = header.len, .len = line.len + 1 } ;
      if (!genalloc_append(field, &fields, &f)) die_nomem() ;
    }
    if (!stralloc_catb(&header, line.s, line.len) || !stralloc_catb(&header, "\n", 1)) die_nomem() ;
  }
  return 0 ;
}

#define FIELD(i) (genalloc_s(field, &fields)[i])
#define FIELDS(i) (header.s + FIELD(i).start)

static int is (size_t i, char const *name)
{
  return rfc822_is_field(FIELDS(i), FIELD(i).len, name) ;
}

/* The value of field i: what follows the colon. */
static char const *value (size_t i, size_t *len)
{
  char const *s = FIELDS(i) ;
  char const *colon = memchr(s, ':', FIELD(i).len) ;
  *len = FIELD(i).len - (colon + 1 - s) ;
  return colon + 1 ;
}

static size_t findfield (char const *name)
{
  size_t n = genalloc_len(field, &fields) ;
  for (size_t i = 0 ; i < n ; i++) if (is(i, name)) return i ;
  return n ;
}

static int hasfield (char const *name)
{
  return findfield(name) < genalloc_len(field, &fields) ;
}

static void addrcpt (char const *s, char const *where)
{
  size_t len = strlen(s) ;
  char const *why ;
  if (!address_valid(s, len, &why)) die_data("invalid address ", s, where, ": ", why) ;
  for (size_t i = 0 ; i < rcpts.len ; i += strlen(rcpts.s + i) + 1)
    if (!strcmp(rcpts.s + i, s)) return ;
  if (!stralloc_catb(&rcpts, s, len + 1)) die_nomem() ;
}

/* Every address of an address list goes into the envelope. */
static void addrcpts (char const *list, size_t len, char const *qualify, char const *where)
{
  stralloc found = STRALLOC_ZERO ;
  int r = rfc822_addresses(list, len, qualify, &found) ;
  if (r < 0)
  {
    if (!where[0]) die_data("invalid address: ", list) ;
    die_data("bad address list", where) ;
  }
  for (size_t i = 0 ; i < found.len ; i += strlen(found.s + i) + 1) addrcpt(found.s + i, where) ;
  stralloc_free(&found) ;
}

/* A display name as an RFC 5322 phrase: atoms as they are, a quoted
   string when it has specials, RFC 2047 encoded words (UTF-8 assumed)
   when it has 8-bit bytes. */
static void phrase (stralloc *sa, char const *name)
{
  size_t len = strlen(name) ;
  int eightbit = 0, special = 0 ;
  for (size_t i = 0 ; i < len ; i++)
  {
    unsigned char c = name[i] ;
    if (c >= 128) eightbit = 1 ;
    else if (c < 32 || c == 127) special = 1 ;
    else if (c != ' ' && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') && !strchr("!#$%&'*+-/=?^_`{|}~", c)) special = 1 ;
  }
  if (eightbit)
  {
    size_t i = 0 ;
    while (i < len)
    {
      size_t n = len - i < ENCODED_WORD_CHUNK ? len - i : ENCODED_WORD_CHUNK ;
      /* never split a UTF-8 sequence between two words */
      while (n > 1 && i + n < len && ((unsigned char)name[i+n] & 0xc0) == 0x80) n-- ;
      if (i && !stralloc_catb(sa, " ", 1)) die_nomem() ;
      if (!stralloc_cats(sa, "=?UTF-8?B?")) die_nomem() ;
      if (!base64_cat(sa, name + i, n)) die_nomem() ;
      if (!stralloc_cats(sa, "?=")) die_nomem() ;
      i += n ;
    }
  }
  else if (special)
  {
    if (!stralloc_catb(sa, "\"", 1)) die_nomem() ;
    for (size_t i = 0 ; i < len ; i++)
    {
      if (name[i] == '\r' || name[i] == '\n') continue ;
      if ((name[i] == '"' || name[i] == '\\') && !stralloc_catb(sa, "\\", 1)) die_nomem() ;
      if (!stralloc_catb(sa, name + i, 1)) die_nomem() ;
    }
    if (!stralloc_catb(sa, "\"", 1)) die_nomem() ;
  }
  else if (!stralloc_catb(sa, name, len)) die_nomem() ;
}

/* The full name from the passwd gecos field: up to the first comma,
   '&' standing for the capitalised login name. */
static void gecosname (stralloc *sa, struct passwd const *pw)
{
  char const *g = pw ? pw->pw_gecos : 0 ;
  sa->len = 0 ;
  for (; g && *g && *g != ',' ; g++)
  {
    if (*g == '&')
    {
      size_t start = sa->len ;
      if (!stralloc_cats(sa, pw->pw_name)) die_nomem() ;
      if (sa->len > start && sa->s[start] >= 'a' && sa->s[start] <= 'z') sa->s[start] -= 'a' - 'A' ;
    }
    else if (!stralloc_catb(sa, g, 1)) die_nomem() ;
  }
  if (!stralloc_0(sa)) die_nomem() ;
}

/* mm-queue's stderr goes to a pipe: its reason for refusing a message
   becomes our one-line error instead of a second line. It writes at
   most a line or two, well within the pipe's buffer. */
static int queue_errfd = -1 ;

static void queue_start (void)
{
  int p[2], saved = -1, ok ;
  if (pipe2(p, O_CLOEXEC) < 0) strerr_diefusys(EX_TEMPFAIL, "create a pipe: queue temporarily unavailable") ;
  saved = dup(2) ;
  if (saved < 0 || dup2(p[1], 2) < 0) strerr_diefusys(EX_TEMPFAIL, "redirect stderr: queue temporarily unavailable") ;
  ok = qspawn_start(&queue) ;
  {
    int e = errno ;
    if (dup2(saved, 2) < 0) _exit(EX_TEMPFAIL) ;
    errno = e ;
  }
  close(saved) ;
  close(p[1]) ;
  if (!ok) strerr_diefusys(EX_TEMPFAIL, "start mm-queue: queue temporarily unavailable") ;
  queue_errfd = p[0] ;
  queue_started = 1 ;
}

/* Exits with mm-queue's verdict, naming its reason. */
static void queue_report (int code)
{
  stralloc err = STRALLOC_ZERO ;
  char const *why = 0 ;
  for (;;)
  {
    char buf[1024] ;
    ssize_t r = read(queue_errfd, buf, sizeof buf) ;
    if (r < 0 && errno == EINTR) continue ;
    if (r <= 0) break ;
    if (!stralloc_catb(&err, buf, r)) break ;
  }
  close(queue_errfd) ;
  if (!code)
  {
    /* warnings of a successful mm-queue are passed on as they are */
    if (err.len && buffer_putflush(buffer_2, err.s, err.len) < 0) { }
    _exit(0) ;
  }
  while (err.len && (err.s[err.len-1] == '\n' || err.s[err.len-1] == '\r')) err.len-- ;
  if (err.len && stralloc_0(&err))
  {
    /* the last line is the fatal one; without its "mm-queue: fatal: " */
    char *line = strrchr(err.s, '\n') ;
    char *p ;
    line = line ? line + 1 : err.s ;
    p = strstr(line, ": fatal: ") ;
    why = p ? p + 9 : line ;
  }
  switch (code)
  {
    case EX_DATAERR : case EX_USAGE : case EX_NOPERM : case EX_CONFIG :
      strerr_dief(code, why ? why : qspawn_strerror(code)) ;
    default :
      if (why) strerr_dief(EX_TEMPFAIL, "queue temporarily unavailable: ", why) ;
      strerr_dief(EX_TEMPFAIL, "queue temporarily unavailable") ;
  }
}

static void put (char const *s, size_t len)
{
  /* a write error means mm-queue gave up; qspawn_finish says why */
  static int broken = 0 ;
  if (!broken && buffer_put(&queue.mess, s, len) < 0) broken = 1 ;
}

static void putfield (char const *name, stralloc const *val)
{
  put(name, strlen(name)) ;
  put(": ", 2) ;
  put(val->s, val->len) ;
  put("\n", 1) ;
}

/* The caller's passwd entry, read from /etc/passwd itself rather than
   through the name service: sendmail and mm-inject are linked
   statically (one dynamic loader less per message), and a static
   program cannot count on the name service's modules. A caller who is
   not in /etc/passwd (LDAP, sssd) is named by $LOGNAME or $USER, as
   qmail-inject does; the queue records the real uid either way. */
static struct passwd *passwd_entry (uid_t uid)
{
  static struct passwd found ;
  static stralloc strings = STRALLOC_ZERO ;
  struct passwd *pw ;
  FILE *f = fopen(PASSWD_FILE, "re") ;
  if (!f) return 0 ;
  while ((pw = fgetpwent(f)))
    if (pw->pw_uid == uid) break ;
  if (pw)
  {
    /* copied: fgetpwent's entry does not outlive fclose */
    size_t name = 0, gecos ;
    strings.len = 0 ;
    if (!stralloc_cats(&strings, pw->pw_name) || !stralloc_0(&strings)) die_nomem() ;
    gecos = strings.len ;
    if (!stralloc_cats(&strings, pw->pw_gecos ? pw->pw_gecos : "") || !stralloc_0(&strings)) die_nomem() ;
    found = *pw ;
    found.pw_name = strings.s + name ;
    found.pw_gecos = strings.s + gecos ;
    found.pw_passwd = found.pw_dir = found.pw_shell = 0 ;
    pw = &found ;
  }
  fclose(f) ;
  return pw ;
}

/* The caller's address, login@defaultdomain: the real uid decides, the
   environment only when the uid has no passwd entry. */
static struct passwd *whoami (stralloc *login, char const *dd)
{
  struct passwd *pw = passwd_entry(getuid()) ;
  char const *why ;
  if (pw) { if (!stralloc_cats(login, pw->pw_name)) die_nomem() ; }
  else
  {
    char const *x = getenv("LOGNAME") ;
    if (!x || !*x) x = getenv("USER") ;
    if (!x || !*x) die_code(EX_NOUSER, "no user name for this uid (not in " PASSWD_FILE ", no $LOGNAME)") ;
    if (!stralloc_cats(login, x)) die_nomem() ;
  }
  if (!stralloc_catb(login, "@", 1) || !stralloc_cats(login, dd) || !stralloc_0(login)) die_nomem() ;
  login->len-- ;
  if (!address_valid(login->s, login->len, &why)) die_code(EX_DATAERR, "invalid sender address ", login->s, ": ", why) ;
  return pw ;
}

/* -t: the recipients of the header fields; returns 1 for a resent message. */
static int header_recipients (char const *dd)
{
  /* RFC 5322 3.6.6: a resent message goes to its Resent- recipients */
  static char const *const plain[] = { "To", "Cc", "Bcc", 0 } ;
  static char const *const again[] = { "Resent-To", "Resent-Cc", "Resent-Bcc", 0 } ;
  size_t nfields = genalloc_len(field, &fields) ;
  int resent = 0 ;
  for (size_t i = 0 ; i < nfields ; i++)
    if (is(i, "Resent-To") || is(i, "Resent-Cc") || is(i, "Resent-Bcc")) resent = 1 ;
  for (size_t i = 0 ; i < nfields ; i++)
    for (char const *const *n = resent ? again : plain ; *n ; n++)
      if (is(i, *n))
      {
        size_t vlen ;
        char const *v = value(i, &vlen) ;
        char where[32] = " in " ;
        strcpy(where + 4, *n) ;
        strcat(where, ":") ;
        addrcpts(v, vlen, dd, where) ;
      }
  return resent ;
}

/* Field i is one of the address fields (rfc822.h). */
static int address_field (size_t i)
{
  static char const *const *const lists[] = { rfc822_originator_fields, rfc822_recipient_fields } ;
  for (unsigned int l = 0 ; l < 2 ; l++)
    for (char const *const *n = lists[l] ; *n ; n++)
      if (is(i, *n)) return 1 ;
  return 0 ;
}

/* The message's own fields, without Bcc, bare local parts qualified. */
static void write_fields (char const *dd)
{
  stralloc sa = STRALLOC_ZERO ;
  size_t nfields = genalloc_len(field, &fields) ;
  for (size_t i = 0 ; i < nfields ; i++)
  {
    if (is(i, "Bcc") || is(i, "Resent-Bcc")) continue ;  /* RFC 5322 3.6.3: blind copies stay blind */
    if (address_field(i))
    {
      /* bare local parts would be meaningless once the mail leaves */
      size_t vlen ;
      char const *v = value(i, &vlen) ;
      sa.len = 0 ;
      if (rfc822_qualify(v, vlen, dd, &sa) > 0)
      {
        put(FIELDS(i), v - FIELDS(i)) ;
        put(sa.s, sa.len) ;
        continue ;
      }
    }
    put(FIELDS(i), FIELD(i).len) ;
  }
  stralloc_free(&sa) ;
}

/* Date, Message-ID, From and To when the message lacks them. */
static void add_fields (char const *me, char const *fullname, struct passwd const *pw, stralloc const *login)
{
  stralloc sa = STRALLOC_ZERO ;
  if (!hasfield("Date"))
  {
    char date[DATE822_LEN] ;
    if (!stralloc_catb(&sa, date, date822_fmt(date, time(0)))) die_nomem() ;
    putfield("Date", &sa) ;
  }
  if (!hasfield("Message-ID"))
  {
    char fmt[UINT64_FMT] ;
    char rnd[MSGID_RANDOM_LEN] ;
    random_name(rnd, sizeof rnd) ;
    sa.len = 0 ;
    if (!stralloc_catb(&sa, "<", 1)
     || !stralloc_catb(&sa, fmt, uint64_fmt(fmt, (uint64_t)time(0)))
     || !stralloc_catb(&sa, ".", 1)
     || !stralloc_catb(&sa, fmt, uint64_fmt(fmt, (uint64_t)getpid()))
     || !stralloc_catb(&sa, ".", 1)
     || !stralloc_catb(&sa, rnd, sizeof rnd)
     || !stralloc_catb(&sa, "@", 1)
     || !stralloc_cats(&sa, me)
     || !stralloc_catb(&sa, ">", 1)) die_nomem() ;
    putfield("Message-ID", &sa) ;
  }
  if (!hasfield("From"))
  {
    stralloc name = STRALLOC_ZERO ;
    if (fullname) { if (!stralloc_cats(&name, fullname) || !stralloc_0(&name)) die_nomem() ; }
    else gecosname(&name, pw) ;
    sa.len = 0 ;
    if (name.s[0])
    {
      phrase(&sa, name.s) ;
      if (!stralloc_cats(&sa, " <") || !stralloc_catb(&sa, login->s, login->len) || !stralloc_catb(&sa, ">", 1)) die_nomem() ;
    }
    else if (!stralloc_catb(&sa, login->s, login->len)) die_nomem() ;
    putfield("From", &sa) ;
    stralloc_free(&name) ;
  }
  if (!hasfield("To") && !hasfield("Cc"))
  {
    sa.len = 0 ;
    if (!stralloc_cats(&sa, "undisclosed-recipients:;")) die_nomem() ;
    putfield("To", &sa) ;
  }
  stralloc_free(&sa) ;
}

void inject (inject_options const *o, unsigned int argc, char const *const *argv)
{
  int opt_t = o->t, opt_q = o->q, hasbody, resent = 0 ;
  char const *opt_f = o->f, *opt_F = o->F ;
  char const *dd, *me ;
  stralloc sender = STRALLOC_ZERO ;
  stralloc login = STRALLOC_ZERO ;
  struct passwd *pw ;
  dots_end = !o->i ;
  if (!opt_t && !argc) strerr_dief(EX_USAGE, "no recipients given (use -t to read them from the message)") ;
  /* mm-queue starts first: its exec runs on another CPU while this
     process reads the control files and the message; everything that
     fails before the envelope is written abandons it, and it commits
     nothing */
  queue_start() ;

  {
    char const *failed ;
    if (control_names_load(&failed) < 0) die_tempsys("read ", failed) ;
  }
  me = control_me() ;
  dd = control_defaultdomain() ;

  pw = whoami(&login, dd) ;
  if (opt_f && !*opt_f)
  {
    /* -f "" is the null sender, as -f "<>" */
    if (!stralloc_0(&sender)) die_nomem() ;
  }
  else if (opt_f)
  {
    char const *why ;
    if (!address_parse(&sender, opt_f, strlen(opt_f), dd, &why)) die_code(EX_DATAERR, "invalid sender address ", opt_f, ": ", why) ;
  }
  else if (!stralloc_copyb(&sender, login.s, login.len + 1)) die_nomem() ;

  for (unsigned int i = 0 ; i < argc ; i++) addrcpts(argv[i], strlen(argv[i]), dd, "") ;
  hasbody = read_header() ;
  if (opt_t) resent = header_recipients(dd) ;
  if (!rcpts.len) die_code(EX_DATAERR, "no recipients in the message's ", resent ? "Resent-To, Resent-Cc, Resent-Bcc" : "To, Cc, Bcc", " fields nor on the command line") ;

  write_fields(dd) ;
  add_fields(me, opt_F, pw, &login) ;
  put("\n", 1) ;
  if (hasbody) { put(line.s, line.len) ; put("\n", 1) ; }
  while (nextline()) { put(line.s, line.len) ; put("\n", 1) ; }

  {
    genalloc list = GENALLOC_ZERO ;  /* char const * */
    int code ;
    for (size_t i = 0 ; i < rcpts.len ; i += strlen(rcpts.s + i) + 1)
    {
      char const *r = rcpts.s + i ;
      if (!genalloc_append(char const *, &list, &r)) die_nomem() ;
    }
    queue_started = 0 ;
    code = qspawn_finish_early(&queue, opt_q ? "q" : "", sender.s, genalloc_s(char const *, &list), genalloc_len(char const *, &list)) ;
    /* committed: mm-queue's warnings after that (a todo/ link) are not
       the caller's business, and waiting for them costs a process exit */
    if (!code) _exit(0) ;
    queue_report(code) ;
  }
  _exit(0) ;  /* queue_report exits: not reached */
}
