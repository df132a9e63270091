/* Logging in to a POP3 server (RFC 1939 USER/PASS and APOP, RFC 5034
   SASL PLAIN) with an account's methods, in the account's order. */
#ifndef MM_POP3LOGIN_H
#define MM_POP3LOGIN_H

#include "pop3.h"
#include "pop3account.h"

/* The first of a's methods the server offers (p->capa, p->greeting);
   APOP (MD5, CVE-2007-1558) only when a names it. A refusal is not
   followed by another method. 1 logged in, 0 the connection failed,
   -1 refused or no method (p->err has the server's words, never the
   secret). */
extern int pop3_login (pop3 *p, pop3account const *a) ;

#endif
