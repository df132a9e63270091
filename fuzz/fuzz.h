/* Helpers shared by the fuzz harnesses (fuzz/README): a scratch mm home
   for the parsers that read files, and cutting one input into pieces. */
#ifndef MM_FUZZ_H
#define MM_FUZZ_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ftw.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

/* Make a fresh home with control/ in it, export it as MM_HOME and enter
   it; the loaders read paths relative to it. Once per process. In
   /dev/shm when there is one: ext4 flushes a file truncated by O_TRUNC,
   which would make a file harness 20 times slower. */
static int fuzz_rm1 (char const *path, struct stat const *st, int flag, struct FTW *ftw)
{
  (void)st ; (void)flag ; (void)ftw ;
  (void)remove(path) ;
  return 0 ;
}
static char *fuzz_home_dir = 0 ;
static void fuzz_home_remove (void)
{
  if (fuzz_home_dir) nftw(fuzz_home_dir, &fuzz_rm1, 16, FTW_DEPTH | FTW_PHYS) ;
}

static inline char const *fuzz_home (void)
{
  static char dir[] = "/dev/shm/mm-fuzz.XXXXXX" ;
  static char tmp[] = "/tmp/mm-fuzz.XXXXXX" ;
  static char *home = 0 ;
  if (home) return home ;
  home = access("/dev/shm", W_OK) == 0 ? mkdtemp(dir) : 0 ;
  if (!home) home = mkdtemp(tmp) ;
  if (!home || chdir(home) < 0 || mkdir("control", 0755) < 0) { perror("mm-fuzz: scratch home") ; abort() ; }
  setenv("MM_HOME", home, 1) ;
  fuzz_home_dir = home ;
  atexit(&fuzz_home_remove) ;  /* a crash leaves it for a look */
  return home ;
}

/* Write n bytes to path (relative to the home), replacing it. */
static inline void fuzz_put (char const *path, void const *s, size_t n)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644) ;
  if (fd < 0 || (n && write(fd, s, n) != (ssize_t)n) || close(fd) < 0) { perror(path) ; abort() ; }
}
static inline void fuzz_puts (char const *path, char const *s) { fuzz_put(path, s, strlen(s)) ; }

/* The next piece of the input, up to the separator byte sep (not
   included) or its end: *s and *n move past it. 0 when nothing is left. */
static inline int fuzz_piece (uint8_t const **s, size_t *n, uint8_t sep, char const **piece, size_t *len)
{
  uint8_t const *e ;
  if (!*n) return 0 ;
  e = memchr(*s, sep, *n) ;
  *piece = (char const *)*s ;
  *len = e ? (size_t)(e - *s) : *n ;
  *s += *len + !!e ;
  *n -= *len + !!e ;
  return 1 ;
}

/* A NUL-terminated copy of the piece, on the heap (free it), so that
   ASan sees every read past its end. */
static inline char *fuzz_strdup (char const *s, size_t n)
{
  char *p = malloc(n + 1) ;
  if (!p) abort() ;
  memcpy(p, s, n) ;
  p[n] = 0 ;
  return p ;
}

#endif
