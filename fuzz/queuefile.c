/* Fuzz harness: queue files (src/lib/queuefile.c): header, envelope and
   journal as qfile_read reads them from mess/ID. A queue file is written
   by mm-queue, but its journal also by mm-send and mm-lspawn, and a
   crash or a full disk can leave any of it torn. */

#include <sys/mman.h>
#include "queuefile.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static int fd = -1 ;
  static qfile q = QFILE_ZERO ;
  int r ;
  if (fd < 0 && (fd = memfd_create("mm-fuzz-queuefile", 0)) < 0) abort() ;
  if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size) abort() ;
  r = qfile_read(fd, &q) ;
  if (r < 0) abort() ;
  if (r > 0)
  {
    size_t n = qfile_nrcpts(&q) ;
    if (!n || q.sender >= q.strings.len || q.flags >= q.strings.len) abort() ;
    if (q.journalend < q.envstart || q.journalend > (off_t)size) abort() ;
    for (size_t i = 0 ; i < n ; i++)
    {
      char const *t = qfile_rcpt(&q, i) ;
      qrecord const *rec = qfile_record(&q, t) ;
      if (rec && (rec->target >= q.strings.len || (rec->hastext && rec->text >= q.strings.len) || rec->state > TARGET_FAILED)) abort() ;
    }
    (void)qfile_hasflag(&q, 'b') ;
    /* appending to what was read: the journal grows by one line */
    if (qfile_append(fd, &q, 'd', "rfuzz@example.org", 0, 0) != 1) abort() ;
    r = qfile_read(fd, &q) ;
    if (r != 1) abort() ;
    {
      qrecord const *rec = qfile_record(&q, "rfuzz@example.org") ;
      if (!rec || rec->state != TARGET_DONE) abort() ;
    }
  }
  return 0 ;
}
