#!/bin/bash
# Who sends: without -f the envelope sender and the From field come from
# the caller's entry in /etc/passwd (login name, gecos full name), read
# directly, not through the name service; a caller with no entry there
# is named by $LOGNAME or $USER, and one with neither is refused.
# sendmail does mm-inject's work in its own process (it needs no
# bin/mm-inject); mm-inject run directly does the same.
. "$(dirname "$0")/lib.sh"
plan 14

inst_new
DD=$(cat "$MM_HOME/control/defaultdomain")
entry=$(awk -F: -v u="$(id -u)" '$3 == u { print; exit }' /etc/passwd)
[ -n "$entry" ] || bail "the test needs the caller in /etc/passwd"
login=${entry%%:*}
gecos=$(printf '%s\n' "$entry" | cut -d: -f5 | cut -d, -f1)
# the id of the message queued since the last snapshot (ids are inode
# numbers: a new one need not be the largest)
snap() { before=$(queue_ids); }
new_id() { comm -13 <(printf '%s\n' "$before" | sort) <(queue_ids | sort) | head -n 1; }
snap

printf 'Subject: who\n\nhi\n' | sendmail -odq alice@localhost
is "$?" 0 "sendmail without -f exits 0"
id=$(new_id)
is "$(grep -a '^f' "$MM_HOME/queue/mess/$id" | tail -n 1)" "f$login@$DD" "the envelope sender is the login name from /etc/passwd at the default domain"
if [ -n "$gecos" ]; then
  ok 'grep -aqF "From: $gecos <$login@$DD>" "$MM_HOME/queue/mess/$id"' "From carries the gecos full name"
else
  ok 'grep -aqF "From: $login@$DD" "$MM_HOME/queue/mess/$id"' "From is the bare address (no gecos name)"
fi

# sendmail needs no bin/mm-inject
mv "$MM_HOME/bin/mm-inject" "$T/mm-inject"
printf 'Subject: no inject\n\nhi\n' | sendmail -odq bob@localhost
is "$?" 0 "sendmail queues mail with bin/mm-inject gone"
is "$(queue_count)" 2 "the message is in the queue"
mv "$T/mm-inject" "$MM_HOME/bin/mm-inject"

# mm-inject itself, as a program
snap
printf 'Subject: direct\n\nhi\n' | "$MM_HOME/bin/mm-inject" -q -F 'Direct Caller' carol@localhost
is "$?" 0 "mm-inject run directly exits 0"
id=$(new_id)
ok 'grep -aqF "From: Direct Caller <$login@$DD>" "$MM_HOME/queue/mess/$id"' "mm-inject completes the header the same way (-F)"
ok 'grep -aq "^Message-ID: <" "$MM_HOME/queue/mess/$id"' "mm-inject adds a Message-ID"

# a refused message leaves nothing behind, although mm-queue was already
# started when the refusal came
out=$(printf 'Subject: bad\n\nhi\n' | sendmail -odq 'not an address' 2>&1)
is "$?" 65 "an invalid recipient is refused with 65"
ok 'wait_until count_is 3 queue_count' "nothing more is queued"
ok '[ -z "$(ls -A "$MM_HOME/queue/tmp")" ]' "and no work file stays in queue/tmp"

# a caller who is not in /etc/passwd (root only: another uid is needed)
if is_root; then
  ghost=54321
  awk -F: -v u=$ghost '$3 == u { found = 1 } END { exit !found }' /etc/passwd && bail "uid $ghost is in /etc/passwd"
  chmod -R a+rwX "$MM_HOME"
  as_ghost() { setpriv --reuid=$ghost --regid=$ghost --clear-groups env -i PATH=/usr/bin:/bin MM_HOME="$MM_HOME" "$@"; }
  snap
  printf 'Subject: ghost\n\nboo\n' | as_ghost LOGNAME=casper "$MM_HOME/bin/sendmail" -odq alice@localhost
  is "$?" 0 "a caller with no passwd entry may send"
  id=$(new_id)
  is "$(grep -a '^f' "$MM_HOME/queue/mess/$id" | tail -n 1)" "fcasper@$DD" "named by \$LOGNAME"
  out=$(printf 'Subject: ghost\n\nboo\n' | as_ghost "$MM_HOME/bin/sendmail" -odq alice@localhost 2>&1)
  is "$?" 67 "without \$LOGNAME and \$USER it is refused with 67: $out"
else
  skip 3 "needs root to run as a uid with no passwd entry"
fi
