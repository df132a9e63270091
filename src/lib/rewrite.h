/* Rewriting local addresses when mail leaves through a route
   (control/routes/NAME/rewrite, mm-routes(5)). */
#ifndef MM_REWRITE_H
#define MM_REWRITE_H

#include <stddef.h>
#include <skalibs/stralloc.h>

typedef struct rewrite_s rewrite ;
struct rewrite_s
{
  stralloc rules ;   /* pairs of NUL-terminated strings: pattern, replacement */
} ;
#define REWRITE_ZERO { .rules = STRALLOC_ZERO }

/* Read the rules in file (relative to the home): lines "PATTERN ADDRESS".
   PATTERN is a local part, a glob on it ("*" for every one), or a glob on
   the whole address when it holds an '@'; ADDRESS is the new address,
   or "*@DOMAIN" to keep the local part and change the domain. The first
   matching line wins. 1 read, 0 absent (no rules), -1 error (errno),
   -2 malformed (*line is the line number). */
extern int rewrite_load (rewrite *rw, char const *file, unsigned int *line) ;
extern void rewrite_free (rewrite *rw) ;

/* addr (local@domain, len bytes): when its domain is local
   (control/locals) and a rule matches, out = the new address
   (NUL-terminated) and 1 is returned; else out = addr and 0. -1 ENOMEM. */
extern int rewrite_address (rewrite const *rw, char const *addr, size_t len, stralloc *out) ;

/* Append to out the header section hdr (len bytes, LF line ends) with
   the local addresses of Return-Path, From, Sender, Reply-To and
   Mail-Followup-To rewritten in place: display names, comments, groups
   and folding are kept, a field that does not parse is left as it is.
   Returns the number of addresses rewritten, -1 ENOMEM. */
extern int rewrite_header (rewrite const *rw, char const *hdr, size_t len, stralloc *out) ;

/* The length of the header section of a message: up to and including
   the empty line that ends it, or len when there is none. */
extern size_t header_length (char const *s, size_t len) ;

#endif
