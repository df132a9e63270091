#!/bin/bash
# The queue like Postfix's tools: mailq shows arrival time, size, sender,
# each recipient's state, last error and next attempt, and a totals line
# no script takes for a message; mm-qctl -h holds a message (a queue run
# does not send it), -H releases it, -q tries a deferred one now (long
# before its retry time), -r removes all, a sender's or a recipient's
# messages, -c prints a message with its envelope (postcat -q).
. "$(dirname "$0")/lib.sh"

inst_new
inst_user carl
inst_user dan
# carl's mailbox fails temporarily until $T/ok exists
cat >"$T/mda-carl" <<EOC
#!/bin/sh
[ -e "$T/ok" ] || { echo "4.2.1 carl is away"; exit 75; }
cat > "$T/carl.\$\$"
EOC
chmod +x "$T/mda-carl"
cat >"$MM_HOME/control/delivery" <<EOC
carl mda $T/mda-carl
* maildir ~/Maildir/
EOC
inst_start || bail "the queue runner did not start"
qctl() { "$MM_HOME/bin/mm-qctl" "$@"; }
new_id() {  # the id that is not in the list $1
  queue_ids | grep -vxF -f <(printf '%s\n' $1 x) | head -n 1
}

# a remote message, a held one, a deferred local one
printf 'Subject: out\n\nx\n' | sendmail -f alice@localhost carol@remote.example
ok 'wait_until log_has "waiting for a connection: carol@remote\.example"' "a remote message waits"
rid=$(queue_ids)
printf 'Subject: held\n\nx\n' | sendmail -odq -f bob@localhost dan@localhost
ok 'wait_until count_is 2 queue_count' "a held message is queued"
hid=$(new_id "$rid")
printf 'Subject: for carl\n\nx\n' | sendmail -f alice@localhost carl@localhost
ok 'wait_until log_has "deferral: .*carl is away"' "carl's delivery is deferred"
cid=$(new_id "$rid $hid")

out=$(qctl -l)
is "$?" 0 "mm-qctl -l exits 0"
like "$out" "^$rid +[0-9][0-9smhd]* +[0-9]+ bytes  from <alice@localhost>  arrived [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [-+][0-9]{4}\$" \
  "a message line: id, age, size, sender, arrival time"
like "$out" '^    carol@remote\.example: waiting for a connection; next attempt: none: no route may carry it \(mm-check\(8\) tells more\)$' \
  "a remote recipient no route may carry: said so"
mkdir -p "$MM_HOME/control/routes/isp"
echo '127.0.0.1:1' > "$MM_HOME/control/routes/isp/smarthost"
echo '*.example' > "$MM_HOME/control/routes/isp/domains"
like "$(qctl -l)" '^    carol@remote\.example: waiting for a connection; next attempt: when a route that may carry it is up$' \
  "with a route that may carry it (offline): its state and next attempt"
like "$out" '^    dan@localhost: pending; next attempt: at the next queue run \(sendmail -q\)$' "the held one's"
like "$out" '^    carl@localhost: pending: 4\.[0-9.]+ .*carl is away; next attempt: [0-9]{4}-[0-9]{2}-[0-9]{2} ' \
  "a deferred one: its last error and when it is tried again"
total=$(printf '%s\n' "$out" | tail -n 1)
sizes=$(printf '%s\n' "$out" | awk '/^[0-9]+ / { s += $3 } END { print s }')
is "$total" "-- 3 messages, $sizes bytes in the queue, 1 held" "the totals line adds the sizes and counts the held"
is "$(printf '%s\n' "$out" | grep -cE '^[0-9]+ ')" 3 "a script counting lines that start with an id finds 3 messages"
is "$(sendmail -bp | tail -n 1)" "$total" "mailq (sendmail -bp) ends with the same totals"

# -c: the message and its envelope
out=$(qctl -c "$cid")
is "$?" 0 "mm-qctl -c exits 0"
like "$out" "^\\*\\*\\* ENVELOPE queue/mess/$cid \\*\\*\\*\$" "it starts with the envelope"
like "$out" '^sender: <alice@localhost>$' "the sender"
like "$out" '^recipient: carl@localhost$' "the recipient"
like "$out" '^Subject: for carl$' "the message itself"
like "$out" '^zucarl	4\.[0-9.]+ .*carl is away' "the journal as stored"
is "$(printf '%s\n' "$out" | tail -n 1)" "*** END ***" "and the end"
qctl -c 999999999 >/dev/null 2>&1
is "$?" 67 "mm-qctl -c of an unknown id exits 67"

# -q: carl's next try is 100 s after arrival; requeued, it goes now
touch "$T/ok"
out=$(qctl -q "$cid")
is "$out" "msg $cid requeued" "mm-qctl -q says it requeued the message"
ok 'wait_until eval "ls $T/carl.* >/dev/null 2>&1"' "the deferred message is delivered at once, not at its retry time"

# -h: a queue run does not send a held message
out=$(qctl -h "$hid")
is "$out" "msg $hid held" "mm-qctl -h holds it"
like "$(qctl -l)" "^$hid .*  held by uid $(id -u)\$" "mailq says who held it"
like "$(qctl -l)" '^    dan@localhost: pending; next attempt: none while held' "and that nothing is tried while it is held"
printf 'Subject: marker\n\nx\n' | sendmail -odq dan@localhost
sendmail -q
ok 'wait_until has_mail dan "^Subject: marker"' "a queue run sends the other held message"
is "$(queue_ids | grep -cx "$hid")" 1 "the message held with -h stays"
is "$(maildir_grep dan '^Subject: held' | grep -c .)" 0 "and is not delivered"
out=$(qctl -H "$hid")
is "$out" "msg $hid released" "mm-qctl -H releases it"
ok 'wait_until has_mail dan "^Subject: held"' "released, it is delivered without another queue run"

# removal by sender, by recipient, ALL
for s in a b c; do printf 'Subject: %s\n\nx\n' "$s" | sendmail -f "$s@localhost" "x$s@remote.example"; done
printf 'Subject: a2\n\nx\n' | sendmail -f a@localhost y@remote.example
ok 'wait_until count_is 5 queue_count' "four more remote messages wait"
out=$(qctl -r -f A@localhost)
is "$(printf '%s\n' "$out" | tail -n 1)" "-- 2 messages removed" "mm-qctl -r -f removes the sender's two (case-insensitively)"
ok 'wait_until count_is 3 queue_count' "they leave the queue"
out=$("$MM_HOME/bin/mailrm" -t xb@remote.example)
is "$(printf '%s\n' "$out" | tail -n 1)" "-- 1 message removed" "mailrm -t removes a recipient's message"
ok 'wait_until count_is 2 queue_count' "it leaves"
like "$(qctl -l)" '^    xc@remote\.example: ' "the others stay"
out=$(qctl -r ALL)
is "$(printf '%s\n' "$out" | tail -n 1)" "-- 2 messages removed" "mm-qctl -r ALL removes the rest"
ok 'wait_until count_is 0 queue_count' "the queue is empty"
is "$(qctl -l)" "mail queue is empty" "and mailq says so"
out=$(qctl -h ALL)
is "$out" "-- 0 messages held" "ALL on an empty queue changes nothing"
qctl -h 2>/dev/null
is "$?" 64 "-h without an id is a usage error"

done_testing
