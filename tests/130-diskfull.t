#!/bin/bash
# A full disk (as root: a tiny tmpfs mounted over the instance's queue/,
# then over a user's Maildir). sendmail exits 75 with a clear message and
# nothing half-queued is left or ever delivered; once there is space
# again mail flows. A full mailbox defers the delivery, and the message is
# delivered once, whole, when space comes back.
. "$(dirname "$0")/lib.sh"

need_tmpfs

plan 21

inst_new
q=$MM_HOME/queue
cp -a "$q" "$T/queue.orig"
mount -t tmpfs -o size=512k,mode=700 tmpfs "$q" || bail "mount tmpfs on queue/"
cp -a "$T/queue.orig/." "$q/"

fill() { dd if=/dev/zero of="$1" bs=4096 >/dev/null 2>&1; sync; }
nothing_queued() {
  [ "$(queue_count)" = 0 ] && [ -z "$(ls -A "$q/tmp")" ] && [ -z "$(ls -A "$q/todo")" ]
}

# no space at all
fill "$q/filler"
out=$(printf 'Subject: no space\n\nx\n' | sendmail alice@localhost 2>&1); st=$?
is "$st" 75 "with the queue's disk full sendmail exits 75"
like "$out" '[Dd]isk full|[Nn]o space' "saying the disk is full: $out"
ok nothing_queued "nothing is queued"

# a little space: the message does not fit halfway through
size=$(stat -c %s "$q/filler")
truncate -s $((size - 16384)) "$q/filler"
out=$({ printf 'Subject: half\n\n'; for i in $(seq 1 4000); do echo "line $i of a message that does not fit"; done; } | sendmail alice@localhost 2>&1); st=$?
is "$st" 75 "a message that fills the disk halfway exits 75"
like "$out" '[Dd]isk full|[Nn]o space' "saying the disk is full: $out"
ok nothing_queued "nothing half-written is left in queue/"

# the queue runner starts on the full disk and delivers nothing of the above
inst_start || bail "the queue runner did not start"
sendmail -q
rm -f "$q/filler"
printf 'Subject: marker\n\nx\n' | sendmail bob@localhost
is "$?" 0 "with space again sendmail exits 0"
ok 'wait_until count_is 1 maildir_count bob' "and the message is delivered"
ok 'wait_until count_is 0 queue_count' "the queue is empty"
is "$(maildir_count alice)" 0 "none of the refused messages was delivered"
printf 'Subject: after\n\nx\n' | sendmail alice@localhost
ok 'wait_until count_is 1 maildir_count alice' "mail to alice flows again"
inst_stop

# a full Maildir: the delivery is deferred, then done once
md=$MM_HOME/home/bob/Maildir
mv "$md" "$T/bob-maildir"
mkdir "$md"
mount -t tmpfs -o size=128k tmpfs "$md" || bail "mount tmpfs on bob's Maildir"
mkdir "$md/new" "$md/cur" "$md/tmp"
fill "$md/filler"
inst_start || bail "the queue runner did not restart"
{ printf 'Subject: big for bob\n\n'; for i in $(seq 1 1000); do echo "line $i for bob"; done; } | sendmail -f alice@localhost bob@localhost
is "$?" 0 "sendmail accepts mail for a user whose disk is full"
ok 'wait_until log_has "delivery [0-9]+: deferral: "' "the delivery is deferred"
like "$(grep 'deferral' "$MM_HOME/log" | tail -n 1)" 'deferral: 4\.[0-9]+\.[0-9]+ ' "with a temporary status code"
is "$(queue_count)" 1 "the message stays in the queue"
is "$(ls "$md/new" | wc -l | tr -d ' ')" 0 "nothing is in bob's new/"
is "$(maildir_count alice)" 1 "no bounce to the sender"
rm -f "$md/filler"
sendmail -q
ok 'wait_until count_is 1 maildir_count bob' "with space again a queue run delivers it"
ok 'wait_until count_is 0 queue_count' "the queue is empty"
f=$(maildir_files bob)
is "$(grep -c '^line [0-9]* for bob$' $f /dev/null | awk -F: '{ s += $NF } END { print s }')" 1000 "the message is whole"
is "$(ls "$md/tmp" | wc -l | tr -d ' ')" 0 "no partial file is left in Maildir/tmp"
