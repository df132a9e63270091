#!/bin/bash
# mm-online: marking routes up and down, the listing of what waits per
# route, who may change the state, --wait reading mm-send's progress
# file, --detect with onlinequery commands. A stand-in for the running
# queue runner holds queue/lock/send and reads the trigger fifo, so that
# the waiting can be checked byte by byte.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
plan 30

inst_new
remote_setup
online() { "$MM_HOME/bin/mm-online" "$@"; }
me=$(cat "$MM_HOME/control/me")

route isp smarthost 127.0.0.1:1
route isp allowsender "*@$me"
route lan permanent
route lan domains "*.lan"
route other smarthost 127.0.0.1:1
route other denyrcpt "*@secret.example"
echo other > "$MM_HOME/control/routes/order"

printf 'Subject: 1\n\nx\n' | queue_msg -f "alice@$me" bob@b.example carol@c.example >/dev/null
printf 'Subject: 2\n\nx\n' | queue_msg -f "alice@$me" x@secret.example >/dev/null
printf 'Subject: 3\n\nx\n' | queue_msg -f "stranger@elsewhere.example" y@host.lan >/dev/null
printf 'Subject: 4\n\nx\n' | queue_msg -f "alice@$me" alice@localhost >/dev/null

out=$(online)
is "$?" 0 "mm-online lists"
like "$out" "^route +state +waiting$" "a table"
like "$out" "^other +down +2 messages \(3 recipients\)$" "other: the order file first; secret.example is denied"
like "$out" "^isp +down +2 messages \(3 recipients\)$" "isp: only alice's messages (allowsender)"
like "$out" "^lan +permanent +1 message \(1 recipient\)$" "lan: permanent, *.lan only"
like "$out" "^3 messages with remote recipients in the queue$" "the local-only message is not counted"

online isp 2>>"$T/online.log"
is "$?" 0 "mm-online isp exits 0"
ok '[ -f "$MM_HOME/queue/online/isp" ]' "queue/online/isp exists"
like "$(online)" "^isp +up " "the listing says up"
online other 2>>"$T/online.log"
online -d 2>>"$T/online.log"
is "$?" 0 "mm-online -d exits 0"
is "$(ls "$MM_HOME/queue/online" | grep -v "\.flush$")" "" "every route is down (the progress files stay)"
like "$(online)" "^lan +permanent" "the permanent route stays up"
online isp 2>>"$T/online.log"; online down 2>>"$T/online.log"
is "$(ls "$MM_HOME/queue/online" | grep -v "\.flush$")" "" "'down' does the same"

online nosuch 2>"$T/err"
is "$?" 64 "an unknown route: exit 64"
like "$(cat "$T/err")" "no route named nosuch" "with a clear message"
online --bogus 2>/dev/null
is "$?" 64 "a bad option: exit 64"

if is_root && id nobody >/dev/null 2>&1; then
  setpriv --reuid=nobody --regid=nogroup --clear-groups env MM_HOME="$MM_HOME" "$MM_HOME/bin/mm-online" isp 2>"$T/err"
  is "$?" 77 "another user may not change the state"
  like "$(cat "$T/err")" "only root, members of the group" "and is told who may"
  ok '[ ! -e "$MM_HOME/queue/online/isp" ]' "nothing changed"
else
  skip 3 "needs root to run as another user"
fi

# a stand-in runner: holds the lock, records the trigger's bytes
cat > "$T/runner.py" <<'EOF'
import fcntl, os, sys, time
home, out = sys.argv[1], sys.argv[2]
lock = open(os.path.join(home, "queue/lock/send"), "r+")
fcntl.lockf(lock, fcntl.LOCK_EX)
fifo = os.open(os.path.join(home, "queue/lock/trigger"), os.O_RDONLY | os.O_NONBLOCK)
open(out, "w").close()
while True:
    try:
        b = os.read(fifo, 100)
    except BlockingIOError:
        b = b""
    if b:
        with open(out, "ab") as f:
            f.write(b)
    time.sleep(0.02)
EOF
bg "$PY" "$T/runner.py" "$MM_HOME" "$T/trigger.bytes"
wait_until test -e "$T/trigger.bytes"
online isp 2>>"$T/online.log"
ok 'wait_until grep -q o "$T/trigger.bytes"' "with a runner, mm-online pulls the trigger with 'o'"

progress() {  # the file mm-send writes, replaced whole (queue/flush/ROUTE)
  printf '%s\n' "$1" > "$MM_HOME/queue/flush/isp.tmp"
  mv "$MM_HOME/queue/flush/isp.tmp" "$MM_HOME/queue/flush/isp"
}
waitrun() {  # EXPECTED-PROGRESS-LINES... : run --wait, feed it, echo its status
  online --wait --timeout 30 isp >"$T/wait.out" 2>&1 &
  local pid=$! line
  wait_until test -e "$MM_HOME/queue/online/isp"
  sleep 0.3
  for line in "$@"; do progress "$line"; sleep 0.3; done
  wait $pid
  echo $?
}
progress "total 5 sent 5 deferred 0 failed 0 done 1"   # an old one: not this flush
rm -f "$MM_HOME/queue/online/isp"
is "$(waitrun "total 3 sent 1 deferred 0 failed 0 done 0" "total 3 sent 3 deferred 0 failed 0 done 1")" 0 "--wait: all sent, exit 0"
is "$(cat "$T/wait.out")" "sent 3 / deferred 0 / failed 0 of 3" "one line at the end when not on a terminal"
rm -f "$MM_HOME/queue/online/isp"
is "$(waitrun "total 3 sent 2 deferred 1 failed 0 done 1")" 75 "--wait: something deferred, exit 75"
rm -f "$MM_HOME/queue/online/isp"
is "$(waitrun "total 2 sent 1 deferred 0 failed 1 done 1")" 65 "--wait: something failed for good, exit 65"
rm -f "$MM_HOME/queue/online/isp"
online --wait --timeout 1 isp 2>"$T/err"
is "$?" 75 "--wait: no end of flush within the timeout, exit 75"
like "$(cat "$T/err")" "timed out waiting for the flush of route isp" "with a message"
if has_cmd script; then
  rm -f "$MM_HOME/queue/online/isp"
  ( sleep 1; progress "total 2 sent 1 deferred 0 failed 0 done 0"; sleep 0.5; progress "total 2 sent 2 deferred 0 failed 0 done 1" ) &
  feeder=$!
  script -qc "$MM_HOME/bin/mm-online --wait --timeout 30 isp" /dev/null > "$T/tty.out" 2>&1 </dev/null
  wait $feeder
  like "$(tr '\r' '\n' < "$T/tty.out")" "^sent 1 / deferred 0 / failed 0 of 2" "on a terminal the progress shows as it goes"
else
  skip 1 "script(1) is not installed"
fi

# --detect
route isp onlinequery "true"
route other onlinequery "exit 1"
online -d 2>>"$T/online.log"
online --detect 2>"$T/err"
is "$?" 0 "--detect exits 0"
ok '[ -f "$MM_HOME/queue/online/isp" ] && [ ! -f "$MM_HOME/queue/online/other" ]' "a query that succeeds brings its route up, one that fails keeps it down"
like "$(cat "$T/err")" "route isp is up" "the change is logged"
