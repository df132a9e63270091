/* Fuzz harness: control files (src/lib/control.c): one file read as a
   line, as lines, as a number and as a duration. */

#include <errno.h>
#include <skalibs/stralloc.h>
#include "control.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static int init = 0 ;
  static stralloc sa = STRALLOC_ZERO ;
  unsigned long u, secs ;
  size_t i ;
  int r ;
  if (!init) { fuzz_home() ; init = 1 ; }
  fuzz_put("control/x", data, size) ;
  r = control_readline(&sa, "control/x", "default") ;
  if (r != 1 || sa.s[sa.len]) abort() ;
  /* the line is trimmed and has no line end */
  if (sa.len && (memchr(sa.s, '\n', sa.len) || sa.s[0] == ' ' || sa.s[sa.len-1] == ' ')) abort() ;
  {
    char *s = fuzz_strdup(sa.s, sa.len) ;
    if (duration_scan(s, &secs) && !*s) abort() ;  /* "" is no duration */
    free(s) ;
  }
  r = control_readlines(&sa, "control/x") ;
  if (r < 0) abort() ;
  /* no empty line, no comment (a NUL in a line would make two) */
  if (!memchr(data, 0, size))
  {
    for (i = 0 ; i < sa.len ; i += strlen(sa.s + i) + 1)
      if (!sa.s[i] || sa.s[i] == '#') abort() ;
    if (i != sa.len) abort() ;
  }
  r = control_readulong(&u, "control/x", 7) ;
  if (r < 0 && errno != EINVAL) abort() ;
  return 0 ;
}
