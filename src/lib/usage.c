/* --help for every program: the usage line on stdout, exit 0. Runs in
   any program before it reads anything else, so it needs no privilege
   and no home. */

#include <string.h>
#include <unistd.h>
#include <skalibs/buffer.h>
#include "usage.h"

void usage_help (int argc, char const *const *argv, char const *usage)
{
  if (argc < 2 || strcmp(argv[1], "--help")) return ;
  if (buffer_puts(buffer_1, "usage: ") < 0 || buffer_puts(buffer_1, usage) < 0
   || buffer_putsflush(buffer_1, "\n") < 0) _exit(111) ;
  _exit(0) ;
}
