/* RFC 5322 dates. */
#ifndef MM_DATE822_H
#define MM_DATE822_H

#include <time.h>

#define DATE822_LEN 64
/* "Sat, 21 Nov 2026 14:00:00 +0000" in local time with its offset.
   s must hold DATE822_LEN bytes; returns the length, s NUL-terminated. */
extern size_t date822_fmt (char *s, time_t t) ;

#endif
