#!/bin/bash
# The queue file as INTERNALS 3.2 describes it, and tests/tools/age, which
# the warning and lifetime tests rely on: the header, the envelope, a "t"
# journal record appended (a torn last line cut off first), and mm-send
# still reading the file afterwards.
. "$(dirname "$0")/lib.sh"
plan 14

inst_new
printf 'Subject: queued\n\nbody\n' | sendmail -odq -f alice@localhost bob@localhost carol@remote.example
is "$?" 0 "sendmail -odq exits 0"
id=$(queue_ids)
is "$(queue_count)" 1 "one file in queue/mess"
f=$MM_HOME/queue/mess/$id
is "$(stat -c %i "$f")" "$id" "the id is the inode number"
like "$(head -c 25 "$f")" '^MM1 [0-9]{20}$' "header: MM1 and a 20-digit length"
len=$(head -c 24 "$f" | cut -c5- | sed 's/^0*//')
env=$(tail -c +$((25 + len + 1)) "$f")
like "$(head -c $((25 + len)) "$f" | tail -c +26 | head -n 1)" '^Received: \(mm-queue ' "the message starts with mm-queue's Received line"
is "$(printf '%s\n' "$env" | grep -E '^[ut]' | sed 's/[0-9]*$//' | tr '\n' ' ')" "u t " "envelope: uid and arrival time"
like "$env" '^oq$' "envelope: o flags with q (held by -odq)"
is "$(printf '%s\n' "$env" | grep -E '^[fr.]' | tr '\n' ' ')" "falice@localhost rbob@localhost rcarol@remote.example . " "envelope: sender, recipients in order, end"
t0=$(printf '%s\n' "$env" | sed -n 's/^t//p')

new=$(age_message "$id" 100)
is "$new" $((t0 - 100)) "age moves the arrival back 100 s"
is "$(tail -n 1 "$f")" "t$new" "as a t journal record"

printf 'zbob\ttorn' >>"$f"
new2=$(age_message "$id" 50)
is "$new2" $((new - 50)) "age starts from the last t record"
is "$(tail -c +$((25 + len + 1)) "$f" | tail -n 2 | tr '\n' ' ')" "t$new t$new2 " "a torn last line is cut off before the append"

# mm-send still reads the file: a foreground queue run delivers to bob
sendmail -q >"$T/q.out" 2>&1
is "$?" 0 "a queue run exits 0"
ok 'wait_until count_is 1 maildir_count bob' "and delivers the aged message"
