/* TAP unit test of src/lib/queuefile.c: reading queue files whose
   header is damaged (cases found by fuzz/queuefile). */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "queuefile.h"

static unsigned int n = 0 ;
static unsigned int failed = 0 ;

static void ok (int cond, char const *what)
{
  n++ ;
  if (!cond) failed++ ;
  printf("%sok %u - %s\n", cond ? "" : "not ", n, what) ;
}

/* qfile_read of a file holding s */
static int readq (char const *s, qfile *q)
{
  int fd = memfd_create("mm-unit-queuefile", 0), r ;
  if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s)) { perror("memfd") ; return -9 ; }
  errno = 0 ;
  r = qfile_read(fd, q) ;
  close(fd) ;
  return r ;
}

int main (void)
{
  qfile q = QFILE_ZERO ;
  uint64_t len ;
  char hdr[MESS_HEADER_LEN] ;

  qfile_header(hdr, 6) ;
  ok(qfile_header_scan(hdr, &len) && len == 6, "a header reads back") ;
  ok(readq("MM1 00000000000000000006\nhello\nfa@b.example\nrc@d.example\n.\n", &q) == 1 && qfile_nrcpts(&q) == 1, "a good queue file") ;
  ok(!qfile_header_scan("MM1 99999999999999999999\n", &len), "a length past 64 bits is malformed, not wrapped around") ;
  ok(qfile_header_scan("MM1 18446744073709551615\n", &len) && len == UINT64_MAX, "the largest 64-bit length reads") ;
  /* 5 * 10^19 wraps around to a length that made a negative envelope offset */
  ok(readq("MM1 50000000000000000018\nSubject: x\n\nhello\nfa@b.example\nrc@d.example\n.\n", &q) == 0 && errno == EPROTO, "a length that wraps around: malformed") ;
  ok(readq("MM1 09223372036854775808\nx\nfa@b\nrc@d\n.\n", &q) == 0 && errno == EPROTO, "a length past the largest file offset: malformed") ;
  ok(readq("MM1 18446744073709551615\nx\nfa@b\nrc@d\n.\n", &q) == 0 && errno == EPROTO, "the largest length: malformed, no allocation of it") ;
  ok(readq("MM1 00000000000000000100\nshort\n", &q) == 0 && errno == EPROTO, "a length past the end of the file: malformed") ;
  qfile_free(&q) ;
  printf("1..%u\n", n) ;
  return !!failed ;
}
