#!/bin/bash
# ~/.forward: forwarding to another user, \user for the user's own mailbox,
# /file and |pipe entries run as the user, forwarding to a remote address,
# and a forwarding loop that bounces instead of going round.
. "$(dirname "$0")/lib.sh"
plan 19

inst_new
for u in carol dave erin frank; do inst_user "$u"; done
echo "alice" >"$MM_HOME/home/bob/.forward"
cat >"$MM_HOME/home/carol/.forward" <<EOC
\\carol
$T/carol.mbox
"|$TOOLS/envdump $T/fwdpipe"
EOC
echo "erin" >"$MM_HOME/home/dave/.forward"
echo "dave" >"$MM_HOME/home/erin/.forward"
inst_start || bail "the queue runner did not start"

printf 'Subject: for bob\n\nx\n' | sendmail -f frank@localhost bob@localhost
ok 'wait_until count_is 1 maildir_count alice' "bob's .forward sends it to alice"
ok 'wait_until count_is 0 queue_count' "the queue empties"
is "$(maildir_count bob)" 0 "bob keeps no copy"
m=$(cat $(maildir_files alice) /dev/null)
like "$m" '^Delivered-To: bob@localhost$' "the forwarded copy records bob's Delivered-To"
like "$m" '^Return-Path: <frank@localhost>$' "and keeps the original envelope sender"

printf 'Subject: for carol\n\ncarol body\n' | sendmail -f frank@localhost carol@localhost
ok 'wait_until count_is 1 maildir_count carol' "\\carol delivers into carol's own Maildir"
ok 'wait_until count_is 1 mbox_count "$T/carol.mbox"' "a /file line appends to the file"
ok 'wait_until test -s "$T/fwdpipe.msg"' "a |pipe line runs the command"
ok 'wait_until count_is 0 queue_count' "the queue empties"
is "$(mbox_count "$T/carol.mbox")/$(maildir_count carol)" 1/1 "each once"
e=$(cat "$T/fwdpipe.env" 2>/dev/null)
like "$e" '^USER=carol$' "the pipe runs for carol (USER)"
like "$e" "^HOME=$MM_HOME/home/carol\$" "with carol's HOME"
like "$e" '^LOCAL_PART=carol$' "LOCAL_PART"
like "$e" '^SENDER=frank@localhost$' "SENDER"
like "$(cat "$T/fwdpipe.msg")" '^carol body$' "the pipe reads the message"

# a loop through two .forward files bounces to the sender
printf 'Subject: round and round\n\nx\n' | sendmail -f frank@localhost dave@localhost
ok 'wait_until has_mail frank "round and round"' "a .forward loop bounces to the sender"
ok 'wait_until count_is 0 queue_count' "and the queue empties"
is "$(maildir_count dave)/$(maildir_count erin)" 0/0 "nothing is delivered to the looping users"

# forwarding to a remote address queues it for the outside
echo "someone@remote.example" >"$MM_HOME/home/bob/.forward"
printf 'Subject: outward\n\nx\n' | sendmail -f frank@localhost bob@localhost
ok 'wait_until log_has "waiting for a connection: someone@remote\.example"' "a .forward to a remote address waits for a connection"
