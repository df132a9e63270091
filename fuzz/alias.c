/* Fuzz harness: alias files (src/lib/alias.c): parsing control/aliases
   and an :include: file, and expanding local parts through them.
   Input: the alias file, a 0 byte, the include file, a 0 byte, local
   parts to expand, one a line. ":include:@" in the files stands for
   ":include:HOME/" (the harness's scratch home, where the include file
   is HOME/inc), since :include: needs an absolute path. */

#include <errno.h>
#include <strings.h>
#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include "alias.h"
#include "fuzz.h"

static int user_exists (char const *name)
{
  return !strcmp(name, "alice") || !strcmp(name, "bob") || !strcmp(name, "postmaster") ;
}

/* An :include: path with a '/' of its own could name a device or a
   fifo of the machine and block or never end; the harness keeps to the
   files of its home (inc, and directories that fail to read). */
static int reaches_out (uint8_t const *s, size_t n)
{
  int inc = 0, slash = 0 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    if (s[i] == '/') slash = 1 ;
    if (i + 9 <= n && !strncasecmp((char const *)s + i, ":include:", 9)) inc = 1 ;
  }
  return inc && slash ;
}

/* Write the file with ":include:@" made ":include:HOME/". */
static void home_put (char const *path, char const *s, size_t n)
{
  static stralloc sa = STRALLOC_ZERO ;
  char const *home = fuzz_home() ;
  sa.len = 0 ;
  for (size_t i = 0 ; i < n ; i++)
  {
    if (i + 10 <= n && !strncasecmp(s + i, ":include:@", 10))
    {
      if (!stralloc_catb(&sa, s + i, 9) || !stralloc_cats(&sa, home) || !stralloc_catb(&sa, "/", 1)) abort() ;
      i += 9 ;
    }
    else if (!stralloc_catb(&sa, s + i, 1)) abort() ;
  }
  fuzz_put(path, sa.s, sa.len) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static int init = 0 ;
  aliasdb db = ALIASDB_ZERO ;
  genalloc out = GENALLOC_ZERO ;
  stralloc strings = STRALLOC_ZERO, split = STRALLOC_ZERO ;
  char const *file = "", *inc = "", *names = "" ;
  size_t flen = 0, ilen = 0, nlen = 0 ;
  unsigned int line ;
  char const *why ;
  int r ;
  if (reaches_out(data, size)) return 0 ;
  if (!init)
  {
    fuzz_home() ;
    fuzz_puts("control/me", "here.example\n") ;
    fuzz_puts("control/locals", "here.example\nlocalhost\n") ;
    fuzz_puts("control/recipientdelimiter", "+-\n") ;
    init = 1 ;
  }
  fuzz_piece(&data, &size, 0, &file, &flen) ;
  fuzz_piece(&data, &size, 0, &inc, &ilen) ;
  if (size) { names = (char const *)data ; nlen = size ; }
  {
    r = alias_split(&split, file, flen) ;
    if (r < -2) abort() ;
  }
  home_put("control/aliases", file, flen) ;
  home_put("inc", inc, ilen) ;
  r = aliasdb_load(&db, "control/aliases", &line, &why) ;
  if (r < 0) abort() ;
  if (!r && !why) abort() ;
  if (r > 0)
  {
    char const *name ;
    size_t len ;
    uint8_t const *s = (uint8_t const *)names ;
    size_t n = nlen ;
    unsigned int k = 0 ;
    while (k++ < 8 && fuzz_piece(&s, &n, '\n', &name, &len))
    {
      char *p = fuzz_strdup(name, len) ;
      size_t before = genalloc_len(aliasresult, &out) ;
      int got = alias_expand(&db, p, &user_exists, &out, &strings) ;
      if (got < 0) { if (errno == ENOMEM) abort() ; }
      else
      {
        /* every result points into strings */
        aliasresult const *res = genalloc_s(aliasresult, &out) ;
        if (genalloc_len(aliasresult, &out) != before + (size_t)got) abort() ;
        for (size_t i = 0 ; i < genalloc_len(aliasresult, &out) ; i++)
          if (res[i].target >= strings.len || (!aliasresult_ok(res + i) && res[i].error >= strings.len)) abort() ;
      }
      free(p) ;
    }
  }
  aliasdb_free(&db) ;
  genalloc_free(aliasresult, &out) ;
  stralloc_free(&strings) ;
  stralloc_free(&split) ;
  return 0 ;
}
