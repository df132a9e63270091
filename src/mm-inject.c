/* mm-inject: completes a locally submitted message (Date, Message-ID,
   From, -t recipients, no Bcc) and hands it to mm-queue; runs as the
   caller, with no privilege of its own. The work is in inject.c, which
   sendmail runs in its own process. */

#include <sysexits.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include "home.h"
#include "inject.h"
#include "privs.h"
#include "usage.h"

#define USAGE "mm-inject [ -t ] [ -i ] [ -q ] [ -f sender ] [ -F fullname ] [ -- ] [ recipient ... ]"
#define dieusage() strerr_dieusage(EX_USAGE, USAGE)

int main (int argc, char const *const *argv)
{
  subgetopt l = SUBGETOPT_ZERO ;
  inject_options o = INJECT_OPTIONS_ZERO ;
  PROG = "mm-inject" ;
  usage_help(argc, argv, USAGE) ;
  privs_init() ;
  for (;;)
  {
    int opt = subgetopt_r(argc, argv, "tiqf:F:", &l) ;
    if (opt == -1) break ;
    switch (opt)
    {
      case 't' : o.t = 1 ; break ;
      case 'i' : o.i = 1 ; break ;
      case 'q' : o.q = 1 ; break ;
      case 'f' : o.f = l.arg ; break ;
      case 'F' : o.F = l.arg ; break ;
      default : dieusage() ;
    }
  }
  argc -= l.ind ; argv += l.ind ;
  mm_home_check() ;
  inject(&o, argc, argv) ;
}
