/* One local delivery (local.c): what bin/mm-local runs, and what a
   delivery child of mm-lspawn runs without a new program (INTERNALS 5). */
#ifndef MM_LOCAL_H
#define MM_LOCAL_H

/* mm-local's arguments (mm-local(8)), descriptors (the message on 0,
   positioned after the queue header; the result line to 1; the queue
   lock on 3) and environment. Returns mm-local's exit code. */
extern int local_main (int argc, char const *const *argv) ;

#endif
