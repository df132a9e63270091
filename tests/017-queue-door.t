#!/bin/bash
# The queue's door (mm-queue -l, INTERNALS 3.4) in a private instance:
# started by mm-start with mm-send, it takes messages over
# queue/door/socket, a forked child each, and sendmail, mm-smtpd and the
# other callers use it before they start mm-queue themselves. What a
# child of the door does is what mm-queue does (the id after the commit,
# its exit code to the caller, its errors on the caller's stderr, nothing
# left of a writer that died), and when the door is gone every caller
# starts mm-queue again. It closes after a minute without a caller, and
# mm-send opens it again when new mail comes. The door's trust rules as the queue owner on a
# real install: tests/152.
. "$(dirname "$0")/lib.sh"
plan 37

inst_new
S=$MM_HOME/queue/door/socket
door_pids() { inst_pids mm-queue; }
client() { "$PYTHON" "$TOOLS/qdoor-client" "$@"; }
envelope() { printf '%s\0' "$@"; printf '\0'; }

ok '[ -d "$MM_HOME/queue/door" ] && [ ! -e "$S" ]' "install.sh --instance makes queue/door, empty"
inst_start || bail "the queue runner did not start"
ok 'wait_until test -S "$S"' "mm-start opens the door: queue/door/socket"
door=$(door_pids)
is "$(echo "$door" | grep -c .)" 1 "one mm-queue runs: the door"
is "$(tr '\0' ' ' < "/proc/$door/cmdline" 2>/dev/null)" "mm-queue -l " "as mm-queue -l"
is "$(awk '{ print $4 }' "/proc/$door/stat")" "$(runner_pid)" "a child of mm-send (SIGTERM when mm-send dies)"

# sendmail through the door: bin/mm-queue cannot be started
mv "$MM_HOME/bin/mm-queue" "$MM_HOME/bin/mm-queue.away"
printf 'Subject: via-door\n\nhello\n' | sendmail alice 2>"$T/err"
is "$?" 0 "sendmail queues with bin/mm-queue gone: the door took it" || diag "$(cat "$T/err")"
mv "$MM_HOME/bin/mm-queue.away" "$MM_HOME/bin/mm-queue"
ok 'wait_until has_mail alice via-door' "and it is delivered"
like "$(cat $(maildir_grep alice via-door))" "^Received: \(mm-queue [0-9]+ invoked by uid $(id -u)\); " "with the caller's uid from the kernel"

# a caller of the door speaking its protocol
envelope "Fbob@localhost" "Talice@localhost" > "$T/env.good"
out=$(printf 'Subject: client-good\n\nx\n' | client "$S" "$T/env.good")
like "$out" '^id [0-9]+$' "a child reports the queue id after the commit"
like "$out" '^status 0$' "and the door its exit code 0"
ok 'wait_until has_mail alice client-good' "the message is delivered"
envelope "Fbob@localhost" > "$T/env.norcpt"
out=$(printf 'Subject: client-norcpt\n\nx\n' | client "$S" "$T/env.norcpt" 2>"$T/err")
like "$out" '^status 65$' "an envelope without recipients: mm-queue's 65, through the door"
like "$(cat "$T/err")" "mm-queue: fatal: no recipients" "and its error on the caller's stderr"
out=$(printf 'Subject: client-died\n\nx\n' | client --die-after-message "$S" "$T/env.good" 2>"$T/err.died")
is "$?" 3 "a writer that dies before its envelope"
ok 'wait_until grep -q "incomplete envelope: writer died, message not queued" "$T/err.died"' "gets mm-queue's word for it on its stderr"
ok 'wait_until eval "[ -z \"\$(ls -A \"\$MM_HOME/queue/tmp\")\" ]"' "leaves nothing in queue/tmp"
out=$(printf 'Subject: client-fds\n\nx\n' | client --fds 2 "$S" "$T/env.good")
is "$?" 2 "two descriptors instead of four: not taken" || diag "$out"
is "$(echo "$(door_pids)" | grep -c .)" 1 "the door still runs, alone again once its children ended"
sleep 0.5
ok '! grep -rqs "client-norcpt\|client-died\|client-fds" "$MM_HOME/queue/mess" "$MM_HOME/home/alice/Maildir"' "none of the refused ones was queued"

# a caller that keeps children waiting holds 32 of them at most; the
# 33rd is sent away at once, to start mm-queue itself (first the door
# has reaped every child so far: a zombie still counts)
door=$(door_pids)
wait_until eval '[ -z "$(cat "/proc/$door/task/$door/children" 2>/dev/null | tr -d " ")" ]' || diag "the door still has children: $(cat "/proc/$door/task/$door/children")"
held=$("$PYTHON" - "$S" 2>"$T/held.err" <<'PY'
import os, socket, sys
taken, refused, keep = 0, 0, []
for i in range(33):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sys.argv[1])
    fds = [os.pipe() for _ in range(3)]
    try:
        socket.send_fds(s, [b'm'], [fds[0][0], fds[1][0], fds[2][1], 2])
        k = s.recv(1)
    except socket.timeout:
        k = b'timeout'
    except (ConnectionResetError, BrokenPipeError):
        k = b''   # sent away before or after our descriptors came
    if k == b'k': taken += 1
    elif k == b'': refused += 1
    keep.append((s, fds))
print(taken, refused)
PY
)
is "$held" "32 1" "one caller gets 32 children of the door, the 33rd an end of file at once" || diag "$(tail -n 3 "$T/held.err")"
ok 'wait_until eval "[ \"\$(door_pids | grep -c .)\" = 1 ]"' "they end when their caller goes away"

# closed by SIGTERM (as after a minute without a caller): the socket
# goes, the next message is queued by a started mm-queue, and its news
# makes mm-send open the door again, for the message after it
kill -TERM "$door"
ok 'wait_until eval "[ -z \"\$(door_pids)\" ] && [ ! -e \"\$S\" ]"' "a door told to close removes its socket and exits"
printf 'Subject: reopen-1\n\nhello\n' | sendmail alice
is "$?" 0 "sendmail queues without a door"
ok 'wait_until test -S "$S"' "and mm-send opens the door again on the news"
door=$(door_pids)
is "$(awk '{ print $4 }' "/proc/$door/stat" 2>/dev/null)" "$(runner_pid)" "as its child"
mv "$MM_HOME/bin/mm-queue" "$MM_HOME/bin/mm-queue.away"
printf 'Subject: reopen-2\n\nhello\n' | sendmail alice
is "$?" 0 "the next message goes through the new door"
mv "$MM_HOME/bin/mm-queue.away" "$MM_HOME/bin/mm-queue"
ok 'wait_until has_mail alice reopen-2' "and is delivered"

# a minute without a caller: the door closes by itself (nothing of it
# runs on an idle machine) and opens again with the next message
sleep 55   # (not a busy wait for the minute)
ok 'WAIT_TIMEOUT=20 wait_until eval "[ -z \"\$(door_pids)\" ] && [ ! -e \"\$S\" ]"' "after a minute without a caller the door closes"
ok 'inst_running' "the runner stays"
printf 'Subject: after-idle\n\nhello\n' | sendmail alice
ok 'wait_until test -S "$S"' "the next message opens it again"
door=$(door_pids)

# the door dies: callers start mm-queue themselves
kill -9 "$door"
ok 'wait_until eval "[ -z \"\$(door_pids)\" ]"' "the door killed"
printf 'Subject: after-kill\n\nhello\n' | sendmail alice
is "$?" 0 "sendmail still queues (its socket is left, nobody answers)"
ok 'wait_until has_mail alice after-kill' "and it is delivered"
ok 'inst_running' "mm-send lives on without its door"

# the runner stops: the door goes with it
inst_stop
inst_start || bail "the queue runner did not start again"
ok 'wait_until eval "[ -n \"\$(door_pids)\" ]"' "a new runner opens the door again, over the old socket"
inst_stop
ok 'wait_until eval "[ -z \"\$(door_pids)\" ] && [ ! -e \"\$S\" ]"' "with the runner stopped no door runs and its socket is gone" || diag "$(door_pids)"
printf 'Subject: no-runner\n\nhello\n' | sendmail alice
ok '[ -n "$(grep -rl no-runner "$MM_HOME/queue/mess")" ]' "sendmail starts mm-queue itself: the message waits in the queue"
