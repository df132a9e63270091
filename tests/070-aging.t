#!/bin/bash
# A message for a remote address waits for a connection (no route is up).
# Aged with tests/tools/age (a "t" journal record) past the first warning
# time (1h) it gets one delay warning; past control/queuelifetime (5d by
# default) it bounces. control/warnings and control/queuelifetime change
# both. No sleeping: each step is a queue run (sendmail -q).
. "$(dirname "$0")/lib.sh"
plan 32

dsn() { "$PYTHON" "$TOOLS/dsn" "$1"; }

inst_new
inst_start || bail "the queue runner did not start"

printf 'Subject: to the outside\n\nfar away\n' | sendmail -f alice@localhost carol@remote.example
is "$?" 0 "sendmail to a remote address exits 0"
ok 'wait_until log_has "msg [0-9]+: waiting for a connection: carol@remote\.example"' "log: waiting for a connection"
id=$(queue_ids)
ok '[ -n "$id" ] && [ "$(queue_count)" = 1 ]' "the message waits in the queue (id $id)"
is "$(maildir_count alice)" 0 "no warning yet"

# one hour later: a delay warning
age_message "$id" 3700 >/dev/null
is "$?" 0 "tests/tools/age moved the arrival back by 3700 s"
sendmail -q
ok 'wait_until count_is 1 maildir_count alice' "after an hour a delay warning reaches the sender"
ok 'log_has "msg $id: warning msg [0-9]+ queued to"' "log: warning queued"
w=$(maildir_files alice | head -n 1)
d=$(dsn "$w")
is "$?" 0 "the warning is a multipart/report"
like "$d" '^from: .*MAILER-DAEMON@' "from MAILER-DAEMON"
like "$d" '^return-path: <>$' "with the null envelope sender"
like "$d" '^action: delayed$' "Action: delayed"
like "$d" '^status: 4\.[0-9]+\.[0-9]+$' "Status: 4.x.x"
like "$d" '^final-recipient: rfc822; ?carol@remote\.example$' "for the waiting recipient"
like "$d" '^text: .*connection' "the text says the message waits for a connection"
like "$d" '^returned-header: Subject: to the outside$' "with the original headers"
is "$(queue_ids | grep -c "^$id\$")" 1 "the message is still queued"

# further queue runs do not repeat the warning (the next one is at 4h)
inst_stop
sendmail -q >>"$MM_HOME/log" 2>&1
is "$?" 0 "a foreground queue run exits 0"
sendmail -q >>"$MM_HOME/log" 2>&1
is "$(maildir_count alice)" 1 "no second warning from more queue runs"
is "$(log_count "msg $id: warning msg")" 1 "one warning in the log"

# past the lifetime (5 days): bounced, once, without more warnings
age_message "$id" 432000 >/dev/null
inst_start || bail "the queue runner did not restart"
sendmail -q
ok 'wait_until count_is 2 maildir_count alice' "past 5 days the sender gets a bounce"
ok 'wait_until count_is 0 queue_count' "and the message leaves the queue"
ok 'log_has "msg $id: expired: carol@remote\.example"' "log: expired"
b=$(maildir_files alice | while read -r f; do [ "$f" = "$w" ] || echo "$f"; done)
d=$(dsn "$b")
like "$d" '^action: failed$' "the bounce says Action: failed"
like "$d" '^status: 5\.4\.7$' "Status: 5.4.7 (delivery time expired)"
like "$d" '^final-recipient: rfc822; ?carol@remote\.example$' "for the remote recipient"
like "$d" '^returned-header: Subject: to the outside$' "with the original headers"
is "$(log_count "msg $id: warning msg")" 1 "still only one warning"

# control/queuelifetime and an empty control/warnings
inst_stop
echo 2h >"$MM_HOME/control/queuelifetime"
: >"$MM_HOME/control/warnings"
printf 'Subject: short life\n\nx\n' | sendmail -f bob@localhost dave@remote.example
id=$(queue_ids)
age_message "$id" 3700 >/dev/null
sendmail -q >>"$MM_HOME/log" 2>&1
sendmail -q >>"$MM_HOME/log" 2>&1
is "$(maildir_count bob)" 0 "an empty control/warnings: no warning after an hour"
is "$(queue_count)" 1 "the message still waits"
age_message "$id" 3600 >/dev/null
sendmail -q >>"$MM_HOME/log" 2>&1
sendmail -q >>"$MM_HOME/log" 2>&1
b=$(maildir_grep bob '^Action: failed$' | head -n 1)
ok '[ -n "$b" ]' "past control/queuelifetime (2h) it bounces"
is "$(queue_count)" 0 "and the queue is empty"
like "$(dsn "$b")" '^final-recipient: rfc822; ?dave@remote\.example$' "the bounce names the recipient"
