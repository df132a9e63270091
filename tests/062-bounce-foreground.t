#!/bin/bash
# A foreground queue pass (sendmail -q with no queue runner, the cron-only
# host) delivers the bounces and warnings it makes in the same pass when
# they are local, instead of leaving them for the next pass.
. "$(dirname "$0")/lib.sh"
plan 6

inst_new
printf 'Subject: to nobody\n\nbody\n' | sendmail -odq -f alice@localhost nosuch@localhost
is "$?" 0 "queued for the next queue run"
is "$(queue_count)" 1 "it waits in the queue"
sendmail -q 2>"$T/q.log"
is "$?" 0 "sendmail -q (no runner) exits 0"
is "$(maildir_count alice)" 1 "the bounce reached the sender in the same pass"
is "$(queue_count)" 0 "nothing is left in the queue"
like "$(cat "$T/q.log" "$MM_HOME/log" 2>/dev/null)" "bounce msg [0-9]+ queued to alice@localhost" "the pass logged the bounce"
