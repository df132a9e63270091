#!/bin/bash
# mm-remote when things go wrong: a link that dies in the middle of the
# data, a server that drops the connection after the end of data (the
# documented "may have been delivered" window), one that answers with
# junk, one that stalls, one that refuses connections or greets with
# 554. Every recipient gets a temporary result, nothing is lost, and the
# only duplicate is the one the window allows.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
has_cmd tcpserver || skip_all "tcpserver (ucspi-tcp) is not installed"
need_aiosmtpd
plan 18

inst_new
remote_setup
big=$(head -c 60000 /dev/zero | tr '\0' 'x' | fold -w 70)
m1=$(printf 'Subject: big\n\n%s\n' "$big" | queue_msg -f alice@localhost bob@b.example)
m2=$(printf 'Subject: small\n\nhello\n' | queue_msg -f alice@localhost bob@b.example)

# 1. the link dies in the middle of the data (mm-smtpd, CHUNKING); the
# proxy had taken all the bytes, so mm-remote cannot know how far they
# went: both messages are temporary failures, kept for the next try
port=$(mmsmtpd b)
pp=$(proxy cut "$port" --cut 20000)
route isp smarthost "127.0.0.1:$pp"
res=$( { req "$m1" alice@localhost bob@b.example; req "$m2" alice@localhost bob@b.example; } | remote isp 127.0.0.1)
like "$res" "^$m1 bob@b.example Z4\.4\.2 " "a link lost in the middle of the data: temporary"
like "$res" "^$m2 bob@b.example Z" "the message behind it is temporary too"
ok 'wait_until count_is 0 b_count' "the server kept nothing"
# the next try, over a sound link, delivers both once
route isp smarthost "127.0.0.1:$port"
res=$( { req "$m1" alice@localhost bob@b.example; req "$m2" alice@localhost bob@b.example; } | remote isp 127.0.0.1)
is "$(echo "$res" | grep -c ' K')" 2 "the retry delivers both"
is "$(b_count)" 2 "exactly once each"

# 2. the server drops the connection after the end of data, without a reply
p=$(smtpserver drop --pipelining --fault after-data)
route isp smarthost "127.0.0.1:$p"
: > "$T/remote.log"
res=$(req "$m2" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m2 bob@b.example Z4\.4\.2 connection to .* lost after the end of data: may have been delivered" "lost after the end of data: 'may have been delivered', temporary"
is "$(spool_count drop)" 1 "the server did keep it"
like "$(cat "$T/remote.log")" "msg $m2: warning: the connection was lost after the end of data" "the log warns about a possible duplicate"

# 3. junk instead of a reply
p=$(smtpserver junk --pipelining --fault garbage)
route isp smarthost "127.0.0.1:$p"
: > "$T/remote.log"
res=$(req "$m2" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m2 bob@b.example Z4\.4\.2 .*may have been delivered" "junk after the end of data: temporary, may have been delivered"
like "$(cat "$T/remote.log")" "not an SMTP reply" "the log says the server sent junk"

# 4. a server that stalls: the reply timeout
p=$(smtpserver stall --pipelining --fault stall)
route isp smarthost "127.0.0.1:$p"
route isp timeout-data 2
route isp timeout-reply 2
: > "$T/remote.log"
res=$(req "$m2" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m2 bob@b.example Z4\.4\.2 .*may have been delivered \(4\.4\.2 timeout" "a stalled server: temporary after the timeout"
like "$(cat "$T/remote.log")" "error: timeout" "the log says so"
rm -f "$MM_HOME/control/routes/isp/timeout-data" "$MM_HOME/control/routes/isp/timeout-reply"

# 5. no server at all, and a server that refuses at the greeting
dead=$(free_port)
route isp smarthost "127.0.0.1:$dead"
res=$(req "$m2" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m2 bob@b.example Z4\.4\.1 connection refused: 127\.0\.0\.1\[127\.0\.0\.1\]" "connection refused: temporary 4.4.1"
p=$(smtpserver refuse --greeting-reply "554 5.3.2 go away")
route isp smarthost "127.0.0.1:$p"
res=$(req "$m2" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m2 bob@b.example Z4\.4\.1 refused at the greeting: .*554 5\.3\.2 go away" "a 554 greeting: temporary, with the server's text"

# 6. a route that does not exist, a bad timeout: every request answered
res=$(req "$m2" alice@localhost bob@b.example | remote nosuch 127.0.0.1)
like "$res" "^$m2 bob@b.example Z4\.3\.5 no such route" "an unknown route: temporary, every request answered"
route isp timeout-reply soon
res=$(req "$m2" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m2 bob@b.example Z4\.3\.5 a timeout file is malformed" "a malformed route file: temporary, named"
rm -f "$MM_HOME/control/routes/isp/timeout-reply"

# 7. a message that left the queue meanwhile
route isp smarthost "127.0.0.1:$port"
res=$(req 999999999 alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^999999999 bob@b.example Z4\.3\.0 .*no longer in the queue" "a message no longer queued: temporary"
ok '[ -f "$MM_HOME/queue/mess/$m1" ] && [ -f "$MM_HOME/queue/mess/$m2" ]' "mm-remote never touches the queue"
