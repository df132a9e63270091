#!/bin/bash
# A flush that goes wrong, end to end with the queue runner: the link dies
# in the middle of the data (nothing lost, nothing doubled when it comes
# back), a server drops the connection after the end of data (the one
# documented window: that message arrives twice), a server that stalls.
# The messages stay queued and leave with the next flush.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
has_cmd tcpserver || skip_all "tcpserver (ucspi-tcp) is not installed"
need_aiosmtpd
plan 14

inst_new
remote_setup
me=$(cat "$MM_HOME/control/me")
online() { "$MM_HOME/bin/mm-online" "$@"; }
big=$(head -c 60000 /dev/zero | tr '\0' 'y' | fold -w 70)

port=$(mmsmtpd b)
pp=$(proxy cut "$port" --cut 20000)
route isp smarthost "127.0.0.1:$pp"
inst_start || bail "the queue runner did not start"
for i in 1 2 3; do printf 'Subject: big %s\n\n%s\n' "$i" "$big" | sendmail -f "alice@$me" bob@b.example; done
ok 'wait_until count_is 3 queue_count' "three messages wait"

# 1. the link dies in the middle of the data
online --wait --timeout 60 isp >"$T/wait.out" 2>&1
is "$?" 75 "mm-online --wait: deferred, exit 75"
like "$(cat "$T/wait.out")" "deferred 3 / failed 0 of 3" "all three deferred"
is "$(queue_count)" 3 "all three still queued"
is "$(b_count)" 0 "the server kept nothing"
online -d

# the link is back
route isp smarthost "127.0.0.1:$port"
online --wait --timeout 60 isp >"$T/wait.out" 2>&1
is "$?" 0 "over a sound link, --wait exits 0"
ok 'wait_until count_is 0 queue_count' "the queue is empty"
is "$(b_count)" 3 "each message arrived exactly once"
online -d

# 2. the connection drops after the end of data: the documented window
p=$(smtpserver drop --pipelining --fault after-data)
route isp smarthost "127.0.0.1:$p"
printf 'Subject: window\n\nx\n' | sendmail -f "alice@$me" bob@b.example
online --wait --timeout 60 isp >"$T/wait.out" 2>&1
is "$?" 75 "a connection lost after the end of data: deferred"
ok 'log_has "may have been delivered"' "the log says it may have been delivered"
is "$(queue_count)" 1 "the message stays queued"
online -d
p2=$(smtpserver good --pipelining)
route isp smarthost "127.0.0.1:$p2"
online --wait --timeout 60 isp >/dev/null 2>&1
ok 'wait_until count_is 0 queue_count' "the next flush sends it"
is "$(( $(spool_count drop) + $(spool_count good) ))" 2 "it arrived twice: once in the window, once after; never more"
online -d

# 3. a stalled server: the reply timeout, the message stays
p3=$(smtpserver stall --pipelining --fault stall)
route isp smarthost "127.0.0.1:$p3"
route isp timeout-data 2
route isp timeout-reply 2
printf 'Subject: stall\n\nx\n' | sendmail -f "alice@$me" bob@b.example
online --wait --timeout 60 isp >"$T/wait.out" 2>&1
is "$?" 75 "a stalled server: deferred after the timeout"
