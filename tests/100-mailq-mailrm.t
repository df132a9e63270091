#!/bin/bash
# mailq (sendmail -bp) lists each message with its id, sender, recipients
# and state; mailrm (sendmail -Mrm) removes messages: the instance owner
# can, another user (when the suite runs as root) cannot.
. "$(dirname "$0")/lib.sh"
plan 25

inst_new
inst_start || bail "the queue runner did not start"

out=$("$MM_HOME/bin/mailq" 2>&1)
is "$?" 0 "mailq on an empty queue exits 0"
like "$out" '^mail queue is empty$' "and says the queue is empty"

printf 'Subject: out\n\nx\n' | sendmail -f alice@localhost carol@remote.example dan@remote2.example
ok 'wait_until log_has "waiting for a connection: dan@remote2\.example"' "a remote message waits for a connection"
rid=$(queue_ids)
printf 'Subject: held\n\nx\n' | sendmail -odq -f bob@localhost alice@localhost
ok 'wait_until count_is 2 queue_count' "a held message is queued too"
hid=$(queue_ids | grep -v "^$rid\$")

out=$("$MM_HOME/bin/mailq" 2>&1)
is "$?" 0 "mailq exits 0"
like "$out" "\\b$rid\\b" "mailq shows the remote message's id ($rid)"
like "$out" "\\b$hid\\b" "and the held message's id ($hid)"
like "$out" '<?alice@localhost>?' "the sender"
like "$out" 'carol@remote\.example' "a recipient"
like "$out" 'dan@remote2\.example' "the other recipient"
like "$out" '[Cc]onnection' "the state of the remote one (waiting for a connection)"
like "$out" '[Hh]eld|[Hh]old' "the state of the held one"
# the same listing, but for the ages, which may tick between two runs
noage() { sed -E 's/^([0-9]+) +[0-9][0-9smhd]* /\1 AGE /' ; }
is "$(sendmail -bp 2>&1 | noage)" "$(printf '%s\n' "$out" | noage)" "sendmail -bp prints the same"
ln -s "$MM_HOME/bin/sendmail" "$T/mailq"
is "$("$T/mailq" 2>&1 | noage)" "$(printf '%s\n' "$out" | noage)" "any link named mailq prints the same"

# another user may not remove the owner's messages
if is_root; then
  setpriv --reuid=65534 --regid=65534 --clear-groups env MM_HOME="$MM_HOME" "$MM_HOME/bin/mailrm" "$rid" >"$T/other.out" 2>&1
  st=$?
  isnt "$st" 0 "mailrm as another user fails ($(head -n 1 "$T/other.out"))"
  is "$(queue_ids | grep -c "^$rid\$")" 1 "and the message stays"
else
  skip 2 "removal by another user is tested as root"
fi

# the owner removes both
"$MM_HOME/bin/mailrm" "$rid" >"$T/rm.out" 2>&1
is "$?" 0 "mailrm ID exits 0 for the owner"
# mm-send does the removal: mailq shows "removal requested" until then
listed() { "$MM_HOME/bin/mailq" 2>&1 | grep -qw "$1"; }
ok 'wait_until eval "! listed $rid"' "mailq no longer lists it"
ok 'wait_until eval "! queue_ids | grep -qx $rid"' "its queue file goes"
sendmail -Mrm "$hid" >"$T/rm2.out" 2>&1
is "$?" 0 "sendmail -Mrm ID exits 0"
ok 'wait_until count_is 0 queue_count' "the queue is empty"
sendmail -q
printf 'Subject: marker\n\nx\n' | sendmail bob@localhost
ok 'wait_until count_is 1 maildir_count bob' "a later message is delivered"
is "$(maildir_count alice)" 0 "the removed held message is never delivered"

out=$("$MM_HOME/bin/mailrm" 999999999 2>&1); st=$?
is "$st" 67 "mailrm of an unknown id exits 67"
is "$(printf '%s\n' "$out" | grep -c .)" 1 "with a one-line error: $out"
