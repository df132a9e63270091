#!/bin/bash
# Kill storm of remote delivery (issue 10, item 8): messages go through a
# permanent smarthost route to tests/tools/smtpserver (PIPELINING) while
# mm-send, then mm-remote, is killed with SIGKILL again and again and the
# queue runner restarted. No message is lost; a kill sends again only
# the messages in flight (mm-send(8)): those whose end of data was sent
# and whose reply was not yet recorded, at most 256 per kill (mm-remote's
# limit of messages in flight; MM_STORM_WINDOW). The figures are printed.
#   MM_STORM_N      messages per storm (default 60)
#   MM_STORM_KILLS  kills per storm at most (default 6)
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
. "$TOOLS/storm-lib.sh"
need_aiosmtpd
plan 7

N=${MM_STORM_N:-60}
KILLS=${MM_STORM_KILLS:-6}
WINDOW=${MM_STORM_WINDOW:-256}
inst_new
inst_user carol
remote_setup
port=$(smtpserver s1 --pipelining)
# a link with 20 ms each way, so that the storm lasts long enough for its kills
pport=$(proxy p1 "$port" -d 20)
route isp smarthost "127.0.0.1:$pport"
route isp permanent

STORM_PAUSE=20 STORM_REQUEUE=3 STORM_CHILD=mm-remote

# per storm: "lost L dups D" among the messages the server got
verdict() {  # PREFIX
  "$PYTHON" - "$T/s1.spool" "$1" "$N" <<'PY'
import os, re, sys
spool, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
count = {}
for name in os.listdir(spool):
    if name.startswith("."): continue
    t = open(os.path.join(spool, name), "rb").read().decode("utf-8", "replace")
    m = re.search(r"^Subject: storm %s (\d+)\r?$" % prefix, t, re.M)
    if m: count[int(m.group(1))] = count.get(int(m.group(1)), 0) + 1
print("lost", len([i for i in range(1, n + 1) if i not in count]), "dups", sum(c - 1 for c in count.values()))
PY
}

# one storm: N messages to the server, sent while PROG is killed
# (tests/tools/storm-lib.sh)
storm_queue() {  # PROG
  local i
  for i in $(seq 1 "$N"); do
    printf 'Subject: storm %s %s\n\nstorm %s %s\n' "$1" "$i" "$1" "$i" \
      | sendmail -f carol@localhost bob@b.example || diag "sendmail failed for message $i"
  done
}
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$STORM"; }

for prog in mm-send mm-remote; do
  storm $prog
  ok '[ "$STORM_KILLS" -gt 0 ]' "$prog was killed ($STORM_KILLS times)"
  is "$(field lost)" 0 "$prog killed: no message is lost"
  ok '[ "$(field dups)" -le $((STORM_KILLS * WINDOW)) ]' \
    "$prog killed: at most $WINDOW messages sent again per kill ($(field dups) for $STORM_KILLS kills)"
done
is "$(maildir_count carol)" 0 "no bounce or warning went to the sender"
