#!/bin/bash
# A permanent failure while the queue's disk is full (as root: a tmpfs
# over the instance's queue/): the bounce cannot be queued, so the
# message stays in the queue; once there is space again the next pass
# queues the bounce, and only then is the message removed (issue 10,
# item 6).
. "$(dirname "$0")/lib.sh"

need_tmpfs

plan 7

inst_new
inst_user carol
q=$MM_HOME/queue
cp -a "$q" "$T/queue.orig"
mount -t tmpfs -o size=512k,mode=700 tmpfs "$q" || bail "mount tmpfs on queue/"
at_exit "umount -l '$q'"
cp -a "$T/queue.orig/." "$q/"

# queued while no runner runs; nobody is no local user: a permanent failure
printf 'Subject: to nobody\n\nx\n' | sendmail -f carol@localhost nobody@localhost
is "$?" 0 "the message to an unknown user is queued"
id=$(queue_ids)

dd if=/dev/zero of="$q/filler" bs=4096 >/dev/null 2>&1; sync
sendmail -q 2>/dev/null
is "$(queue_ids)" "$id" "with the disk full the message stays queued: its bounce could not be queued"
is "$(maildir_count carol)" 0 "no bounce yet"

rm -f "$q/filler"
inst_start || bail "the queue runner did not start"
WAIT_TIMEOUT=20
ok 'wait_until count_is 1 maildir_count carol' "with space again the next pass queues the bounce and delivers it"
ok 'has_mail carol "^Subject: to nobody"' "the bounce carries the message"
ok 'wait_until count_is 0 queue_count' "and the message has left the queue"
inst_stop
is "$(maildir_count carol)" 1 "the bounce is sent once"
