#!/bin/bash
# A full queue disk during a fetch (as root: a tiny tmpfs over the
# instance's queue/, in a private mount namespace): the fetch stops at
# the first message that does not fit, nothing is deleted on the server,
# nothing is lost; once there is space, the next fetch takes the rest
# and every message is delivered once.
if [ "$(id -u)" = 0 ] && [ -z "${MM_UNSHARED:-}" ] && command -v unshare >/dev/null 2>&1; then
  MM_UNSHARED=1 exec unshare -m --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
. "$TOOLS/pop3-lib.sh"

is_root || skip_all "the full-disk test mounts a tmpfs: run as root"
[ -n "${MM_UNSHARED:-}" ] || skip_all "no unshare(1) for a private mount namespace"
need_tmpfs
plan 11

inst_new
remote_setup
q=$MM_HOME/queue
cp -a "$q" "$T/queue.orig"
mount -t tmpfs -o size=1m,mode=755 tmpfs "$q" || bail "mount tmpfs on queue/"
cp -a "$T/queue.orig/." "$q/"

N=40
pop3_drop f $N 20000
port=$(pop3server f)
account isp f "$port"

# room for a few messages only
dd if=/dev/zero of="$q/filler" bs=4096 >/dev/null 2>&1
size=$(stat -c %s "$q/filler")
truncate -s $((size - 120000)) "$q/filler"
fetch isp/f
is "$?" 75 "a full queue disk during the fetch: exit 75"
like "$(cat "$T/fetch.out")" 'disk full' "mm-queue says the disk is full"
like "$(cat "$T/fetch.out")" 'deferred: queue temporarily unavailable \(#4.3.0\); fetch stopped, nothing deleted' "one line for the message that did not fit"
like "$(cat "$T/fetch.out")" 'fetch failed: a temporary failure stopped the fetch: .*; nothing deleted' "and one for the account"
got=$(grep -c 'queued as' "$T/fetch.out")
ok '[ "$got" -gt 0 ] && [ "$got" -lt $N ]' "some messages fitted ($got), not all"
ok '[ ! -s "$T/f.deleted" ] && [ "$(left f)" = $N ]' "nothing was deleted on the server"
is "$(find "$q/tmp" -type f | wc -l)" 0 "nothing half-written is left in queue/tmp"
rm -f "$q/filler"
fetch isp/f
is "$?" 0 "with space again the fetch exits 0"
like "$(cat "$T/fetch.out")" "new $((N - got)) fetched $((N - got)) deleted $N" "it fetches the rest and deletes all"
deliver_all
ids=$(find "$MM_HOME/home/alice/Maildir/new" -type f -exec grep -ah '^Message-ID:' {} +)
is "$(printf '%s\n' "$ids" | sort -u | wc -l)" $N "all $N delivered"
is "$(printf '%s\n' "$ids" | wc -l)" $N "none twice"

