/* Looking a system user up in /etc/passwd itself, for the statically
   linked programs that may not use the name service (INTERNALS 4). */
#ifndef MM_ETCPASSWD_H
#define MM_ETCPASSWD_H

#include <sys/types.h>

#define ETCPASSWD_FILE "/etc/passwd"

/* The uid of the user name in /etc/passwd: 1 found, 0 not there,
   -1 the file cannot be read (errno; temporary). */
extern int etcpasswd_uid (char const *name, uid_t *uid) ;

#endif
