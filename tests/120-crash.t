#!/bin/bash
# Crash test: a few hundred messages are injected while mm-queue, sendmail
# itself, the queue runner (mm-send) and mm-local are killed with SIGKILL
# at random moments, and the runner is restarted each time. Afterwards
# every message whose sendmail exited 0 is delivered exactly once, none is
# delivered twice, and every delivered message is whole.
#   MM_CRASH_N      number of messages (default 300)
#   MM_CRASH_LOCAL  percent of mm-local processes killed (default 33)
#   MM_CRASH_SEND   0: do not kill the queue runner (default 1)
#   MM_CRASH_QUEUE  0: do not kill mm-queue nor sendmail (default 1)
. "$(dirname "$0")/lib.sh"
plan 8

N=${MM_CRASH_N:-300}
LOCAL_PCT=${MM_CRASH_LOCAL:-33}
KILL_SEND=${MM_CRASH_SEND:-1}
KILL_QUEUE=${MM_CRASH_QUEUE:-1}
inst_new
inst_user carol
# the sender is carol: any bounce or warning would show up there

# mm-queue killed at a random moment (0-20 ms into its work) in 1 run of 4;
# exec keeps the pid, so $$ is mm-queue itself. The sleeper keeps the id
# pipe open, so the pid is not reaped (and reused) before the kill.
mv "$MM_HOME/bin/mm-queue" "$MM_HOME/bin/mm-queue.real"
cat >"$MM_HOME/bin/mm-queue" <<WRAP
#!/bin/bash
if [ $KILL_QUEUE = 1 ] && [ \$((RANDOM % 4)) = 0 ]; then
  ( sleep \$(printf '0.%03d' \$((RANDOM % 20))); kill -9 \$\$ ) 2>/dev/null &
fi
exec "$MM_HOME/bin/mm-queue.real" "\$@"
WRAP
chmod 755 "$MM_HOME/bin/mm-queue"

# one message: unique subject and Message-ID, 20 numbered body lines;
# 1 run in 10 kills sendmail itself after 0-30 ms
cat >"$T/inject" <<'INJ'
#!/bin/bash
exec 2>>"$T/inject.err"
i=$1
{
  printf 'Subject: crash %s\nMessage-ID: <crash-%s@mm.test>\n\n' "$i" "$i"
  for l in $(seq 1 20); do echo "crash $i line $l"; done
} >"$T/msg.$i"
if [ "$KILL_QUEUE" = 1 ] && [ $((RANDOM % 10)) = 0 ]; then
  timeout -s KILL "$(printf '0.%03d' $((RANDOM % 30)))" "$MM_HOME/bin/sendmail" -f carol@localhost alice@localhost <"$T/msg.$i"
else
  "$MM_HOME/bin/sendmail" -f carol@localhost alice@localhost <"$T/msg.$i"
fi
echo $? >"$T/st/$i"
rm -f "$T/msg.$i"
INJ
chmod 755 "$T/inject"
mkdir "$T/st"

inst_start || bail "the queue runner did not start"
start=$SECONDS

# mm-local: a third of them killed at a random moment
"$PYTHON" "$TOOLS/chaos" "$MM_HOME" mm-local "$LOCAL_PCT" "$T/stop" >"$T/chaos.local" &
chaos_local=$!
# the queue runner: killed every 0.2-0.7 s and restarted
(
  kills=0
  while [ ! -e "$T/stop" ]; do
    sleep "$(printf '0.%d' $((2 + RANDOM % 6)))"
    [ "$KILL_SEND" = 1 ] || continue
    pid=$(runner_pid)
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
    inst_start >/dev/null 2>&1
  done
  echo $kills >"$T/chaos.send"
) 2>/dev/null &
chaos_send=$!

export T MM_HOME KILL_QUEUE
seq 1 "$N" | xargs -r -P 4 -n 1 "$T/inject"
touch "$T/stop"
wait "$chaos_local" "$chaos_send"
inject_time=$((SECONDS - start))

accepted=$(grep -lx 0 "$T"/st/* | wc -l)
refused=$((N - accepted))
diag "injected $N messages in ${inject_time} s: $accepted accepted, $refused refused;" \
  "killed: mm-send $(cat "$T/chaos.send"), mm-local $(cat "$T/chaos.local")" \
  "sendmail's errors: $(grep -v Killed "$T/inject.err" | sed 's/[0-9][0-9]*/N/g' | sort | uniq -c | sort -rn | head -n 5)"
ok '[ "$accepted" -gt $((N / 2)) ] && { [ "$refused" -gt 0 ] || [ "$KILL_QUEUE" = 0 ]; }' "most messages accepted, some refused by the kills"

# settle: a runner that is not killed, and queue runs until the queue is empty
inst_stop
inst_start || bail "the queue runner did not restart"
last_q=0
settle() {
  [ "$(queue_count)" = 0 ] && return 0
  if [ $((SECONDS - last_q)) -ge 2 ]; then sendmail -q; last_q=$SECONDS; fi
  return 1
}
WAIT_TIMEOUT=90
ok 'wait_until settle' "the queue empties after the restart"
[ "$(queue_count)" = 0 ] || diag "$(queue_count) messages left in the queue"

# count deliveries per message
"$PYTHON" - "$MM_HOME/home/alice/Maildir" "$T/st" "$N" >"$T/verdict" <<'PY'
import os, re, sys
maildir, stdir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
count = {}
broken = []
for sub in ("new", "cur"):
    d = os.path.join(maildir, sub)
    for name in os.listdir(d) if os.path.isdir(d) else []:
        with open(os.path.join(d, name), "rb") as f:
            text = f.read().decode("utf-8", "replace")
        m = re.search(r"^Subject: crash (\d+)$", text, re.M)
        if not m:
            continue
        i = int(m.group(1))
        count[i] = count.get(i, 0) + 1
        body = text.split("\n\n", 1)[1].splitlines() if "\n\n" in text else []
        if body != ["crash %d line %d" % (i, l) for l in range(1, 21)]:
            broken.append(i)
status = {}
for i in range(1, n + 1):
    try:
        status[i] = open(os.path.join(stdir, str(i))).read().strip()
    except OSError:
        status[i] = "?"
lost = [i for i in range(1, n + 1) if status[i] == "0" and count.get(i, 0) == 0]
dups = sorted(i for i, c in count.items() if c > 1)
extra = sorted(i for i in count if status.get(i) != "0")
print("lost", " ".join(map(str, lost)))
print("dups", " ".join(map(str, dups)))
print("broken", " ".join(map(str, sorted(set(broken)))))
print("delivered", len(count))
print("refused-but-delivered", len(extra))
PY
v=$(cat "$T/verdict")
diag "$v"
is "$(sed -n 's/^lost *//p' <<<"$v")" "" "no accepted message is lost"
is "$(sed -n 's/^dups *//p' <<<"$v")" "" "no message is delivered twice"
is "$(sed -n 's/^broken *//p' <<<"$v")" "" "every delivered message is whole"
ok '[ "$(sed -n "s/^delivered //p" <<<"$v")" -ge "$accepted" ]' "every accepted message is among the delivered"
is "$(maildir_count carol)" 0 "no bounce or warning went to the sender"
ok '[ $((SECONDS - start)) -lt 120 ]' "the crash test ran in $((SECONDS - start)) s"
