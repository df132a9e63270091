/* Stray CRs of a message become spaces, CRLF becomes LF (straycr.h);
   no privilege, no I/O. */

#include <string.h>
#include "straycr.h"

size_t straycr_fix (char *out, char const *in, size_t n, int *held)
{
  size_t w = 0 ;
  if (*held)
  {
    /* the CR that ended the last piece: a line end if an LF follows */
    if (!n || in[0] != '\n') out[w++] = ' ' ;
    *held = 0 ;
  }
  for (size_t i = 0 ; i < n ; i++)
  {
    if (in[i] != '\r') { out[w++] = in[i] ; continue ; }
    if (i + 1 == n) { *held = 1 ; break ; }
    if (in[i+1] != '\n') out[w++] = ' ' ;
  }
  return w ;
}
