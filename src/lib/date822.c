/* RFC 5322 section 3.3 date-time, in local time with a numeric zone. */

#include <stdio.h>
#include <time.h>
#include "date822.h"

size_t date822_fmt (char *s, time_t t)
{
  struct tm tm ;
  size_t n ;
  if (!localtime_r(&t, &tm)) gmtime_r(&t, &tm) ;
  n = strftime(s, DATE822_LEN, "%a, %d %b %Y %H:%M:%S %z", &tm) ;
  s[n] = 0 ;
  return n ;
}
