/* The user and group names of an install, from conf-users. */
#ifndef MM_USERS_CONF_H
#define MM_USERS_CONF_H

#define USERS_QUEUE 0
#define USERS_SEND 1
#define USERS_SMTPD 2
#define USERS_REMOTE 3
#define USERS_POP 4
#define USERS_ALIAS 5
#define USERS_LOG 6
#define USERS_GROUP 7
#define USERS_ONLINEGROUP 8
#define USERS_N 9

extern char const *const auto_users[USERS_N] ;
#define users_conf_name(role) (auto_users[role])

#endif
