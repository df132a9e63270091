/* Envelope addresses: local@domain strings, as stored in the queue. */
#ifndef MM_ADDRESS_H
#define MM_ADDRESS_H

#include <stddef.h>
#include <skalibs/stralloc.h>

#define ADDRESS_MAX 254   /* RFC 5321 4.5.3.1.3 path, less the brackets */
#define LOCALPART_MAX 64  /* RFC 5321 4.5.3.1.1 */
#define DOMAIN_MAX 255    /* RFC 5321 4.5.3.1.2 */

/* Index of the '@' that separates local part and domain (the last one
   outside quotes), or len when there is none. */
extern size_t address_at (char const *s, size_t len) ;

/* 1 if s is a syntactically valid local@domain (dot-atom or quoted local
   part, domain of labels or an [address literal]) within the limits. On
   0, *why is a short reason ("no domain", "address too long" ...). */
extern int address_valid (char const *s, size_t len, char const **why) ;

/* Parse an SMTP path "<...>" or a bare address from a command line into
   sa (NUL-terminated, brackets and a source route removed, domain
   lowercased). Empty path "<>" gives "". Bare local parts are qualified
   with qualify when it is not NULL. 1 ok, 0 invalid (*why set).
   sa is overwritten, not appended to; sa->len does not count the NUL.
   The local part keeps its case; quotes it does not need are removed
   ("alice"@x gives alice@x, "john doe"@x stays quoted). */
extern int address_parse (stralloc *sa, char const *s, size_t len, char const *qualify, char const **why) ;

#endif
