#!/bin/bash
# kill -9 storms during a fetch of 300 messages, then a clean fetch:
# every message is delivered; none was deleted on the server before
# mm-queue committed it; a message is fetched twice only in the window
# between mm-queue's commit and its UIDL record, so there are at most as
# many duplicates as kills (mm-pop3fetch(8), THE GUARANTEE).
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
. "$TOOLS/pop3-lib.sh"
plan 8

inst_new
remote_setup
N=300
pop3_drop c $N
port=$(pop3server c)
account isp c "$port"

# the Message-IDs in the queue (mm-send does not run during the storm)
queued_ids() {
  find "$MM_HOME/queue/mess" -type f -exec grep -ah '^Message-ID:' {} + 2>/dev/null | sort -u
}
deleted_not_queued() {
  local q
  q=$(queued_ids)
  [ -s "$T/c.deleted" ] || return 0
  sed 's/^uid0*\([0-9]*\)$/Message-ID: <m\1.c@pop3.test>/' "$T/c.deleted" | sort -u | comm -23 - <(printf '%s\n' "$q") | wc -l
}

kills=0 early=0 rounds=0
for ((i = 0; i < 40 && $(left c) > 0; i++)); do
  "$MM_HOME/bin/mm-pop3fetch" isp/c >>"$T/storm.log" 2>&1 &
  pid=$!
  # somewhere between the login and the end of the fetch
  sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.02 + (r % 25) / 100 }')"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null
  rounds=$((rounds + 1))
  n=$(deleted_not_queued)
  [ "$n" = 0 ] || early=$((early + n))
done
note "$rounds rounds, $kills kills, $(wc -l < "$T/c.deleted" 2>/dev/null || echo 0) deleted on the server during the storm"
ok '[ "$kills" -ge 3 ]' "the storm killed mm-pop3fetch mid-fetch ($kills times)"
is "$early" 0 "no message was deleted on the server before it was in the queue"

fetch isp/c
is "$?" 0 "the clean fetch after the storm exits 0"
is "$(left c)" 0 "the maildrop is empty"
deliver_all
ids=$(find "$MM_HOME/home/alice/Maildir/new" -type f -exec grep -ah '^Message-ID:' {} +)
is "$(printf '%s\n' "$ids" | sort -u | wc -l)" $N "all $N messages are delivered"
dups=$(( $(printf '%s\n' "$ids" | wc -l) - N ))
note "duplicates: $dups (kills: $kills)"
ok '[ "$dups" -le "$kills" ]' "at most one duplicate per kill ($dups for $kills kills)"
is "$(find "$MM_HOME/queue/tmp" -type f | wc -l)" 0 "no work file is left in queue/tmp"
ok '[ ! -e "$MM_HOME/pop/isp/c/uidl" ] || [ "$(wc -l < "$MM_HOME/pop/isp/c/uidl")" = 0 ]' "the UIDL record is empty again"
