#!/bin/bash
# A permanent failure (unknown local user) bounces to the sender as an
# RFC 3464 multipart/report from MAILER-DAEMON with the original headers;
# good recipients of the same message are still delivered; a bounce that
# cannot be delivered goes to the postmaster; a message with the null
# sender that fails does not loop; large messages come back as headers.
. "$(dirname "$0")/lib.sh"
plan 35

dsn() { "$PYTHON" "$TOOLS/dsn" "$1"; }

inst_new
inst_start || bail "the queue runner did not start"

printf 'From: Alice <alice@localhost>\nTo: nosuch@localhost\nSubject: orig-subject-7\nX-Test: keep me\n\nthe original body\n' |
  sendmail -f alice@localhost nosuch@localhost
is "$?" 0 "sendmail accepts a message for an unknown local user (it bounces later)"
ok 'wait_until count_is 1 maildir_count alice' "a bounce arrives in the sender's mailbox"
ok 'wait_until count_is 0 queue_count' "the queue empties"
b=$(maildir_files alice | head -n 1)
d=$(dsn "$b")
is "$?" 0 "the bounce is a multipart/report"
like "$d" '^from: .*MAILER-DAEMON@' "from MAILER-DAEMON"
like "$d" '^to: .*alice@localhost' "to the sender"
like "$d" '^return-path: <>$' "with the null envelope sender"
like "$d" '^report-type: delivery-status$' "report-type=delivery-status"
like "$d" '^parts: text/plain,message/delivery-status,(message/rfc822|text/rfc822-headers)$' "three parts: text, delivery-status, the original"
like "$d" '^text: .*nosuch@localhost' "the text names the failed recipient"
like "$d" '^reporting-mta: dns; ?[^ ]+' "Reporting-MTA"
like "$d" '^final-recipient: rfc822; ?nosuch@localhost$' "Final-Recipient"
like "$d" '^action: failed$' "Action: failed"
like "$d" '^status: 5\.[0-9]+\.[0-9]+$' "Status: 5.x.x"
like "$d" '^returned-header: Subject: orig-subject-7$' "the original Subject comes back"
like "$d" '^returned-header: X-Test: keep me$' "and the other original headers"
like "$d" '^message-id: <' "the bounce has a Message-ID"
like "$d" '^date: ' "and a Date"
ok 'log_has "msg [0-9]+: bounce msg [0-9]+ queued to"' "log: bounce queued"

# one good and one bad recipient
printf 'Subject: half good\n\nbody\n' | sendmail -f alice@localhost bob@localhost nosuch2@localhost
ok 'wait_until count_is 1 maildir_count bob' "the good recipient gets the message"
ok 'wait_until count_is 2 maildir_count alice' "the sender gets a bounce"
ok 'wait_until count_is 0 queue_count' "the queue empties"
b=$(maildir_grep alice 'nosuch2@localhost' | head -n 1)
d=$(dsn "$b")
is "$(printf '%s\n' "$d" | grep -c '^final-recipient:')" 1 "the bounce names one recipient"
like "$d" '^final-recipient: rfc822; ?nosuch2@localhost$' "the bad one"
unlike "$d" '^final-recipient: .*bob@' "not the delivered one"

# the sender does not exist either: the bounce goes to the postmaster
printf 'Subject: double\n\nbody\n' | sendmail -f ghost@localhost nosuch3@localhost
ok 'wait_until has_mail "$OWNER" "nosuch3@localhost"' "the double bounce reaches the postmaster (the owner, by alias)"
ok 'wait_until count_is 0 queue_count' "and the queue empties: no loop"

# the null sender
printf 'Subject: from nobody\n\nbody\n' | sendmail -f '<>' nosuch4@localhost
is "$?" 0 "sendmail -f '<>' exits 0"
ok 'wait_until count_is 0 queue_count' "a failing message from <> leaves the queue"
ok 'wait_until log_has "end msg"' "its end is logged"
is "$(grep -l 'nosuch4@localhost' $(maildir_files alice) $(maildir_files bob) /dev/null | grep -c .)" 0 "nobody but the postmaster hears of it"

# a message bigger than control/bouncemaxbytes comes back as headers only
echo 1000 >"$MM_HOME/control/bouncemaxbytes"
inst_stop; inst_start || bail "the queue runner did not restart"
{ printf 'Subject: big one\n\n'; for i in $(seq 1 200); do echo "body line $i of the big message"; done; } |
  sendmail -f bob@localhost nosuch5@localhost
ok 'wait_until count_is 2 maildir_count bob' "the bounce of the big message arrives"
b=$(maildir_grep bob 'nosuch5@localhost' | head -n 1)
d=$(dsn "$b")
like "$d" '^returned-header: Subject: big one$' "it has the original headers"
is "$(printf '%s\n' "$d" | sed -n 's/^returned-body-lines: //p')" 0 "but not the body"
unlike "$(cat "$b" /dev/null)" '^body line 1 of' "no body line anywhere in it"
