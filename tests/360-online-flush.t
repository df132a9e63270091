#!/bin/bash
# Going online, end to end with the queue runner: mail for the outside
# waits while offline (no bounce, no failure) and leaves when mm-online
# brings a route up; mm-online --wait reports the flush; two providers
# with sender and recipient filters share the mail; a provider that
# defers leaves the message for the next one that comes up; a recipient
# deferred while another was delivered is sent alone later.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
need_aiosmtpd
plan 23

inst_new
remote_setup
me=$(cat "$MM_HOME/control/me")
online() { "$MM_HOME/bin/mm-online" "$@"; }

p1=$(smtpserver one --pipelining)
p2=$(smtpserver two --pipelining)
route isp1 smarthost "127.0.0.1:$p1"
route isp2 smarthost "127.0.0.1:$p2"
printf 'isp1\nisp2\n' > "$MM_HOME/control/routes/order"
inst_start || bail "the queue runner did not start"

# 1. offline: the message waits
printf 'Subject: offline\n\nwaits\n' | sendmail -f "alice@$me" bob@b.example
ok 'wait_until log_has "waiting for a connection: bob@b.example"' "offline, the message waits for a connection"
is "$(spool_count one)$(spool_count two)" 00 "nothing left"
is "$(queue_count)" 1 "it is queued"
unlike "$(cat "$MM_HOME/log")" "bounce queued|failure" "no bounce, no failure"

# 2. isp1 comes up: it leaves, and --wait says so
online --wait --timeout 60 isp1 >"$T/wait.out" 2>&1
is "$?" 0 "mm-online --wait isp1 exits 0"
is "$(cat "$T/wait.out")" "sent 1 / deferred 0 / failed 0 of 1" "and reports the flush"
is "$(spool_count one)" 1 "the message went through isp1"
ok 'wait_until count_is 0 queue_count' "the queue is empty"
online -d

# 3. two providers, sender and recipient filters
route isp1 allowsender "alice@*"
route isp2 allowsender "bob@*"
route isp1 denyrcpt "*@secret.example"
printf 'Subject: from alice\n\nx\n' | sendmail -f "alice@$me" dave@b.example
printf 'Subject: from bob\n\nx\n' | sendmail -f "bob@$me" dave@b.example
printf 'Subject: alice secret\n\nx\n' | sendmail -f "alice@$me" spy@secret.example
ok 'wait_until count_is 3 queue_count' "three messages wait"
online isp1 2>>"$T/online.log"
online isp2 2>>"$T/online.log"
ok 'wait_until count_is 2 spool_count one' "isp1 gets one more"
ok 'grep -q "^Subject: from alice" "$(spool_file one 2)"' "alice's message through isp1 (allowsender)"
ok 'wait_until count_is 1 spool_count two' "isp2 gets one"
ok 'grep -q "^Subject: from bob" "$(spool_file two 1)"' "bob's message through isp2 (allowsender)"
ok 'wait_until count_is 1 queue_count' "alice's message to secret.example stays: isp1 denies the recipient, isp2 the sender"
rm -f "$MM_HOME/control/routes/isp1/allowsender" "$MM_HOME/control/routes/isp2/allowsender" "$MM_HOME/control/routes/isp1/denyrcpt"
online isp1 2>>"$T/online.log"
ok 'wait_until count_is 3 spool_count one' "without the filters it leaves through isp1, first in the order"
ok 'wait_until count_is 0 queue_count' "the queue is empty"
online -d

# 4. a provider defers: the message waits for the next one that comes up
p3=$(smtpserver busy --pipelining --rcpt-reply "carol@b.example=451 4.3.0 try later")
route isp1 smarthost "127.0.0.1:$p3"
printf 'Subject: partial\n\nx\n' | sendmail -f "alice@$me" bob@b.example carol@b.example
online isp1 2>>"$T/online.log"
ok 'wait_until count_is 1 spool_count busy' "through isp1, bob is delivered"
is "$(grep -c '^to ' "$(spool_file busy 1)")" 1 "bob alone"
ok 'wait_until log_has "deferral: carol@b.example"' "carol is deferred"
is "$(queue_count)" 1 "the message stays queued for carol"
online -d
n2=$(spool_count two)
online --wait --timeout 60 isp2 >"$T/wait2.out" 2>&1
is "$?" 0 "when isp2 comes up, --wait exits 0"
ok 'wait_until count_is $((n2 + 1)) spool_count two' "carol's copy leaves through isp2"
is "$(grep '^to ' "$(spool_file two $((n2 + 1)))")" "to carol@b.example" "carol alone: bob is not sent twice"
