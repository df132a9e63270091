/* mm-local: one local delivery of one message for one recipient, as the
   recipient; the work is in local.c, which mm-lspawn's delivery children
   run without starting this program (INTERNALS 5). */

#include "local.h"

int main (int argc, char const *const *argv)
{
  return local_main(argc, argv) ;
}
