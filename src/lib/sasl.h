/* The SASL responses mm's clients send (SMTP AUTH in mm-remote, POP3
   AUTH in mm-pop3fetch), base64-encoded, ready for the wire. */
#ifndef MM_SASL_H
#define MM_SASL_H

#include <stdint.h>
#include <skalibs/stralloc.h>

/* PLAIN (RFC 4616): NUL user NUL secret. */
extern int sasl_plain (stralloc *b64, char const *user, char const *secret) ;

/* XOAUTH2 (Google's and Microsoft's): "user=U^Aauth=Bearer T^A^A". */
extern int sasl_xoauth2 (stralloc *b64, char const *user, char const *token) ;

/* OAUTHBEARER (RFC 7628 3.1): the GS2 header with the user as authzid,
   then host, port and the bearer token. */
extern int sasl_oauthbearer (stralloc *b64, char const *user, char const *host, uint16_t port, char const *token) ;

/* The response to a failure challenge of XOAUTH2 or OAUTHBEARER (a 334
   or "+" carrying a JSON error): RFC 7628 3.2.3 wants %x01, XOAUTH2 an
   empty line; both are answered by the final failure reply. */
#define SASL_OAUTHBEARER_ABORT "AQ=="
#define SASL_XOAUTH2_ABORT ""

/* The "status" of the base64 JSON error in an OAuth2 failure challenge
   (RFC 7628 3.2.2), for the log: "invalid_token", or the HTTP-like code
   Google sends ("401"). 1 found (NUL-terminated in status, printable
   characters only), 0 not there or not base64, -1 ENOMEM. */
extern int sasl_oauth_status (char const *challenge, stralloc *status) ;

#endif
