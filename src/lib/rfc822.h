/* RFC 5322 header fields and address lists. */
#ifndef MM_RFC822_H
#define MM_RFC822_H

#include <stddef.h>
#include <skalibs/stralloc.h>
#include <skalibs/genalloc.h>

#define HEADER_LINE_MAX 998  /* RFC 5322 2.1.1, without CRLF */

/* 1 if the field starting at s (a whole field, folded lines included) is
   named name (case-insensitive), i.e. s begins "name:" (spaces allowed
   before the colon). */
extern int rfc822_is_field (char const *s, size_t len, char const *name) ;

/* Extract every address (addr-spec) from an address-list header value
   (display names, comments, groups, quoted local parts, folding
   allowed). Each is appended to sa NUL-terminated; bare local parts are
   qualified with qualify when it is not NULL. Returns the number found,
   -1 on a syntax error. */
extern int rfc822_addresses (char const *value, size_t len, char const *qualify, stralloc *sa) ;

/* Append to sa a copy of an address-list header value in which every
   bare local part (no '@') has "@qualify" added; display names,
   comments and folding are kept as they were. qualify must not be NULL.
   Returns the number of addresses qualified, -1 on a syntax error or
   ENOMEM (sa unchanged). */
extern int rfc822_qualify (char const *value, size_t len, char const *qualify, stralloc *sa) ;

/* If the line s begins a header field ("Name:" or "Name :", the name
   printable ASCII without ':'), the length of the name, else 0. */
extern size_t rfc822_fieldname (char const *s, size_t len) ;

/* Skip the comment "(...)" that starts at s[i] (nested, with quoted
   pairs; RFC 5322 3.2.2): the index just after it, 0 if it never ends. */
extern size_t rfc822_skip_comment (char const *s, size_t len, size_t i) ;

/* The address fields of a message, NULL-terminated, names as in RFC
   5322: the originator fields (3.6.2, 3.6.6, and the de facto
   Mail-Followup-To and Mail-Reply-To), which a route rewrites, and the
   recipient fields; mm-inject qualifies the bare local parts of both.
   Bcc is neither: it never leaves. */
extern char const *const rfc822_originator_fields[] ;
extern char const *const rfc822_recipient_fields[] ;

#endif
