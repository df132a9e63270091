/* Fuzz harness: route files (src/lib/route.c, mm-routes(5)): the files
   of one route, control/routes/order, and the filters applied to
   addresses. Input, pieces separated by 0 bytes: order, smarthost, helo,
   domains, allowrcpt, denyrcpt, allowsender, denysender, allowfrom,
   denyfrom, then addresses to try, one a line. */

#include <skalibs/genalloc.h>
#include <skalibs/stralloc.h>
#include "route.h"
#include "fuzz.h"

static char const *const files[] = { "control/routes/order", "control/routes/r/smarthost", "control/routes/r/helo",
  "control/routes/r/domains", "control/routes/r/allowrcpt", "control/routes/r/denyrcpt", "control/routes/r/allowsender",
  "control/routes/r/denysender", "control/routes/r/allowfrom", "control/routes/r/denyfrom", 0 } ;

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  static int init = 0 ;
  genalloc routes = GENALLOC_ZERO ;
  char const *why = 0, *piece ;
  size_t len ;
  int r ;
  if (!init)
  {
    fuzz_home() ;
    fuzz_puts("control/me", "here.example\n") ;
    if (mkdir("control/routes", 0755) < 0 || mkdir("control/routes/r", 0755) < 0 || mkdir("control/routes/lan", 0755) < 0) abort() ;
    fuzz_puts("control/routes/lan/permanent", "") ;
    init = 1 ;
  }
  for (unsigned int i = 0 ; files[i] ; i++)
  {
    /* a missing piece is an absent file: the defaults get their turn */
    if (fuzz_piece(&data, &size, 0, &piece, &len)) fuzz_put(files[i], piece, len) ;
    else unlink(files[i]) ;
  }
  r = routes_load(&routes, &why) ;
  if (r < 0) abort() ;
  if (!r && !why) abort() ;
  if (r > 0)
  {
    route const *rt = genalloc_s(route, &routes) ;
    size_t n = genalloc_len(route, &routes) ;
    unsigned int k = 0 ;
    if (n != 2 || !routes_find(&routes, "r") || !routes_find(&routes, "lan")) abort() ;
    while (k++ < 8 && fuzz_piece(&data, &size, '\n', &piece, &len))
    {
      char *a = fuzz_strdup(piece, len) ;
      for (size_t i = 0 ; i < n ; i++)
      {
        (void)route_serves(rt + i, a) ;
        (void)route_allows_sender(rt + i, a) ;
        (void)route_allows_from(rt + i, a, len + 1) ;
      }
      (void)route_glob(a, "alice@here.example") ;
      (void)route_glob("*@*.example", a) ;
      (void)route_name_valid(a) ;
      free(a) ;
    }
  }
  routes_free(&routes) ;
  return 0 ;
}
