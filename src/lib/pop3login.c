/* POP3 login methods for mm-pop3fetch (pop user): the secret goes only
   into the command sent, and that memory is cleared. */

#include <string.h>
#include <skalibs/stralloc.h>
#include "md5.h"
#include "pop3login.h"
#include "sasl.h"
#include "secret.h"

static int says (pop3 *p, char const *a, char const *b)
{
  p->err.len = 0 ;
  if (!stralloc_cats(&p->err, a) || !stralloc_cats(&p->err, b) || !stralloc_0(&p->err))
  {
    p->err.len = 0 ;
    stralloc_cats(&p->err, "out of memory") ;
    stralloc_0(&p->err) ;
  }
  return -1 ;
}

/* 1 +OK, 0 the connection failed (p->err), -1 -ERR (p->err: what, text) */
static int answer (pop3 *p, char const *what)
{
  char const *text ;
  int r = pop3_status(p, &text) ;
  if (r < 0) return 0 ;
  if (!r) return says(p, what, text) ;
  return 1 ;
}

static int login_plain (pop3 *p, pop3account const *a)
{
  stralloc cmd = STRALLOC_ZERO, b64 = STRALLOC_ZERO ;
  int r = 0 ;
  if (!sasl_plain(&b64, a->user.s, a->secret.s) || !stralloc_copys(&cmd, "PLAIN ")
   || !stralloc_cat(&cmd, &b64) || !stralloc_0(&cmd)) says(p, "out of memory", "") ;
  else if (pop3_put(p, "AUTH", cmd.s)) r = answer(p, "login refused (AUTH PLAIN): ") ;
  if (cmd.s) memset(cmd.s, 0, cmd.a) ;
  if (b64.s) memset(b64.s, 0, b64.a) ;
  stralloc_free(&cmd) ; stralloc_free(&b64) ;
  return r ;
}

/* With PIPELINING, USER and PASS go in one flight. */
static int login_user (pop3 *p, pop3account const *a)
{
  int pipe = !!(p->capa & POP3_CAPA_PIPELINING), r ;
  if (!pop3_put(p, "USER", a->user.s)) return 0 ;
  if (!pipe && (r = answer(p, "login refused (USER): ")) <= 0) return r ;
  if (!pop3_put(p, "PASS", a->secret.s)) return 0 ;
  if (pipe && (r = answer(p, "login refused (USER): ")) <= 0)
  {
    stralloc keep = STRALLOC_ZERO ;
    if (!r) return 0 ;
    /* the USER refusal is the reason; PASS's answer is read all the same */
    if (!stralloc_copy(&keep, &p->err)) return says(p, "out of memory", "") ;
    r = answer(p, "") ;
    stralloc_free(&p->err) ;
    p->err = keep ;
    return r ? -1 : 0 ;
  }
  return answer(p, "login refused (PASS): ") ;
}

static int login_apop (pop3 *p, pop3account const *a, size_t start, size_t n)
{
  static char const hex[] = "0123456789abcdef" ;
  md5 c ;
  unsigned char d[16] ;
  char arg[POP3_LINE_MAX] ;   /* "APOP USER DIGEST" fits a command line */
  size_t len = a->user.len ;
  if (len > sizeof arg - 34) return says(p, "the user name is too long for APOP", "") ;
  md5_init(&c) ;
  md5_update(&c, p->greeting.s + start, n) ;
  md5_update(&c, a->secret.s, a->secret.len) ;
  md5_final(&c, d) ;
  memcpy(arg, a->user.s, len) ;
  arg[len++] = ' ' ;
  for (unsigned int i = 0 ; i < 16 ; i++) { arg[len++] = hex[d[i] >> 4] ; arg[len++] = hex[d[i] & 15] ; }
  arg[len] = 0 ;
  memset(&c, 0, sizeof c) ;
  if (!pop3_put(p, "APOP", arg)) return 0 ;
  return answer(p, "login refused (APOP): ") ;
}

/* XOAUTH2 and OAUTHBEARER, always in two steps: some servers (Office
   365) refuse the token on the AUTH line. A refused token comes back as
   a continuation carrying a JSON error (RFC 7628 3.2.2): answered, its
   status named, the final -ERR read. */
static int login_oauth (pop3 *p, pop3account const *a, int bearer)
{
  char const *mech = bearer ? "OAUTHBEARER" : "XOAUTH2", *text ;
  stralloc b64 = STRALLOC_ZERO, status = STRALLOC_ZERO ;
  int r ;
  if (!pop3_put(p, "AUTH", mech)) return 0 ;
  r = pop3_sasl_reply(p, &text) ;
  if (r < 0) return 0 ;
  if (r != 2) return r ? says(p, "the server did not ask for the token (AUTH ", mech) : says(p, "login refused (AUTH): ", text) ;
  if (!(bearer ? sasl_oauthbearer(&b64, a->user.s, a->server.s, a->port, a->secret.s) : sasl_xoauth2(&b64, a->user.s, a->secret.s))
   || !stralloc_0(&b64)) return says(p, "out of memory", "") ;
  r = pop3_put(p, b64.s, 0) ;
  secret_free(&b64) ;
  if (!r) return 0 ;
  r = pop3_sasl_reply(p, &text) ;
  if (r < 0) return 0 ;
  if (r == 1) return 1 ;
  if (r == 2)
  {
    if (sasl_oauth_status(text, &status) < 0) return says(p, "out of memory", "") ;
    if (!pop3_put(p, bearer ? SASL_OAUTHBEARER_ABORT : SASL_XOAUTH2_ABORT, 0)) { stralloc_free(&status) ; return 0 ; }
    r = pop3_sasl_reply(p, &text) ;
    if (r < 0) { stralloc_free(&status) ; return 0 ; }
  }
  p->err.len = 0 ;
  if (!stralloc_cats(&p->err, "the OAuth2 token was refused (") || !stralloc_cats(&p->err, status.len ? status.s : text)
   || !stralloc_cats(&p->err, "): run the account's token tool (secretcommand) to renew it") || !stralloc_0(&p->err))
    says(p, "out of memory", "") ;
  stralloc_free(&status) ;
  return -1 ;
}

int pop3_login (pop3 *p, pop3account const *a)
{
  for (unsigned int i = 0 ; i < a->nauth ; i++)
  {
    size_t start, n ;
    switch (a->auth[i])
    {
      case POP3_AUTH_PLAIN :
        if (p->capa & POP3_CAPA_SASLPLAIN) return login_plain(p, a) ;
        break ;
      case POP3_AUTH_USER :
        if (p->capa & POP3_CAPA_USER || !p->capa) return login_user(p, a) ;
        break ;
      case POP3_AUTH_XOAUTH2 :
        if (p->capa & POP3_CAPA_SASLXOAUTH2) return login_oauth(p, a, 0) ;
        break ;
      case POP3_AUTH_OAUTHBEARER :
        if (p->capa & POP3_CAPA_SASLOAUTHBEARER) return login_oauth(p, a, 1) ;
        break ;
      case POP3_AUTH_APOP :
        if (p->greeting.len && pop3_apop_stamp(p->greeting.s, p->greeting.len - 1, &start, &n)) return login_apop(p, a, start, n) ;
        break ;
    }
  }
  return says(p, "the server offers none of the methods in auth", "") ;
}
