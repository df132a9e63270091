/* TAP unit test of src/lib/straycr.c: CRLF becomes LF, every other CR a
   space, whatever the pieces the message arrives in. */

#include <stdio.h>
#include <string.h>
#include "straycr.h"

static unsigned int n = 0 ;
static unsigned int failed = 0 ;

static void ok (int cond, char const *what)
{
  n++ ;
  if (!cond) failed++ ;
  printf("%sok %u - %s\n", cond ? "" : "not ", n, what) ;
}

/* in cut into pieces of at most piece bytes, then the final call */
static size_t fix (char *out, char const *in, size_t len, size_t piece)
{
  char buf[256] ;
  size_t w = 0 ;
  int held = 0 ;
  for (size_t i = 0 ; i < len ; i += piece)
  {
    size_t k = len - i < piece ? len - i : piece ;
    size_t m = straycr_fix(buf, in + i, k, &held) ;
    memcpy(out + w, buf, m) ;
    w += m ;
  }
  w += straycr_fix(out + w, "", 0, &held) ;
  out[w] = 0 ;
  return w ;
}

static void check (char const *in, char const *want, char const *what)
{
  size_t len = strlen(in) ;
  int all = 1 ;
  for (size_t piece = 1 ; piece <= len + 1 ; piece++)
  {
    char out[256] ;
    fix(out, in, len, piece) ;
    if (strcmp(out, want))
    {
      all = 0 ;
      printf("# pieces of %zu: got \"%s\"\n", piece, out) ;
      break ;
    }
  }
  ok(all, what) ;
}

int main (void)
{
  check("plain\nlines\n", "plain\nlines\n", "no CR: unchanged") ;
  check("a\r\nb\r\n", "a\nb\n", "CRLF becomes LF") ;
  check("x\r.\rMAIL FROM:<a@b>\r\n", "x . MAIL FROM:<a@b>\n", "bare CRs become spaces: the smuggling line stays one line") ;
  check("a\r\r\nb", "a \nb", "CR CR LF: a space, then the line end") ;
  check("end\r", "end ", "a CR at the very end becomes a space") ;
  check("\r\n\r", "\n ", "CRLF then a lone CR") ;
  check("", "", "nothing in, nothing out") ;
  {
    char out[8] ;
    int held = 0 ;
    size_t w = straycr_fix(out, "ab\r", 3, &held) ;
    ok(w == 2 && held, "a CR at the end of a piece is held") ;
    w = straycr_fix(out, "\nc", 2, &held) ;
    ok(w == 2 && !memcmp(out, "\nc", 2) && !held, "and dropped when the next piece starts with LF") ;
  }
  printf("1..%u\n", n) ;
  return failed ? 1 : 0 ;
}
