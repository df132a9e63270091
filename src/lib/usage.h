/* --help: every program's usage line. */
#ifndef MM_USAGE_H
#define MM_USAGE_H

/* When argv[1] is "--help": prints "usage: USAGE" on stdout and exits 0
   (111 if stdout fails). Otherwise returns. */
extern void usage_help (int argc, char const *const *argv, char const *usage) ;

#endif
