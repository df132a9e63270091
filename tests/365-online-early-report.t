#!/bin/bash
# The end of a flush is the end of the work (issue 15): mm-send reports
# a route's flush as done once mm-remote has read the last reply that
# matters and every result is recorded, not when the server answers
# QUIT; mm-online --wait sleeps on mm-send's wake-up fifo
# (queue/flush/.wake), not on an inotify watch. Against a server that
# never answers QUIT: --wait returns with every message sent and the
# queue empty while mm-remote still waits for its 221, with the queue
# runner and with a pass of its own (whose output a caller can read
# through a pipe to its end meanwhile); kill -9 of mm-remote and of the
# queue runner after the report sends nothing twice.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
need_aiosmtpd
plan 23

inst_new
remote_setup
me=$(cat "$MM_HOME/control/me")
online() { "$MM_HOME/bin/mm-online" "$@"; }
fds() { ls -l "/proc/$1/fd" 2>/dev/null; }   # PID: where its descriptors lead

mute=$(smtpserver mute --pipelining --quit-stall)
route isp smarthost "127.0.0.1:$mute"
inst_start || bail "the queue runner did not start"

# 1. the wake-up fifo of the running queue runner
ok '[ -p "$MM_HOME/queue/flush/.wake" ]' "the queue runner keeps the fifo queue/flush/.wake"
is "$(stat -c %a "$MM_HOME/queue/flush/.wake")" 640 "mode 0640: root and the online group read it"

# 2. a server that never answers QUIT
for i in 1 2 3; do printf 'Subject: early %s\n\nx\n' "$i" | sendmail -f "alice@$me" bob@b.example; done
ok 'wait_until count_is 3 queue_count' "offline, three messages wait"
online --wait --timeout 60 isp >"$T/wait.out" 2>&1
is "$?" 0 "mm-online --wait isp exits 0"
is "$(cat "$T/wait.out")" "sent 3 / deferred 0 / failed 0 of 3" "every message is reported sent"
is "$(queue_count)" 0 "the queue is empty when --wait returns"
is "$(spool_count mute)" 3 "the server has the three"
rpid=$(inst_pids mm-remote)
ok '[ -n "$rpid" ]' "mm-remote still waits for the 221 to its QUIT: the report did not wait for it"
ok 'wait_until grep -q "QUIT: not answering" "$T/mute.log"' "its QUIT reached the server, which does not answer it"

# 3. kill -9 after the report: nothing is sent again
kill -9 $rpid "$(runner_pid)" 2>/dev/null
inst_stop
inst_start || bail "the queue runner did not start again"
online --wait --timeout 60 isp >"$T/wait2.out" 2>&1
is "$?" 0 "after kill -9 of mm-remote and the queue runner, a new flush exits 0"
is "$(cat "$T/wait2.out")" "sent 0 / deferred 0 / failed 0 of 0" "and has nothing to send"
is "$(spool_count mute)" 3 "nothing was sent twice"
is "$(log_count 'msg [0-9]+: success: ')" 3 "three successes in the log, no more"

# 4. no queue runner: mm-online's own pass reports without waiting for the 221
inst_stop
n=$(spool_count mute)
for i in 1 2; do printf 'Subject: oneshot %s\n\nx\n' "$i" | sendmail -f "alice@$me" bob@b.example; done
ok 'wait_until count_is 2 queue_count' "without a queue runner, two messages wait"
# read through a pipe, as $(...) does: mm-remote, left to finish its
# QUIT, does not hold it
out=$(online --wait --timeout 60 isp 2>&1)
is "$?" 0 "mm-online --wait runs the pass itself and exits 0"
like "$out" "^sent 2 / deferred 0 / failed 0 of 2$" "both reported sent"
like "$out" "mm-send: msg [0-9]+: success: bob@b.example via isp" "with the pass's log lines on its standard error"
ok '[ -n "$(inst_pids mm-remote)" ] && [ "$(spool_count mute)" = $((n + 2)) ] && [ "$(queue_count)" = 0 ]' \
  "delivered, the queue empty, and the output read to its end while mm-remote still waits for its 221"
ok '[ ! -e "$MM_HOME/queue/flush/.wake" ]' "the pass took its fifo away when it ended"

# 5. --wait sleeps on the fifo, not on an inotify watch
inst_start || bail "the queue runner did not start again"
online -d
stall=$(smtpserver stall --pipelining --fault stall)
route slow smarthost "127.0.0.1:$stall"
route slow domains "c.example"
printf 'Subject: stalled\n\nx\n' | sendmail -f "alice@$me" carol@c.example
ok 'wait_until log_has "waiting for a connection: carol@c.example"' "a message for a server that never answers its data waits"
"$MM_HOME/bin/mm-online" --wait --timeout 60 slow >"$T/wait3.out" 2>&1 &
wpid=$!
wait_until grep -q "stalling after the end of data" "$T/stall.log" || diag "the data never reached the server"
has_wake() { fds "$1" | grep -q 'queue/flush/\.wake$'; }
ok 'wait_until has_wake $wpid' "--wait has the fifo open while the flush goes on"
is "$(fds "$wpid" | grep -c 'anon_inode:inotify')" 0 "and no inotify watch"
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
kill -9 $(inst_pids mm-remote) 2>/dev/null
inst_stop
ok '[ ! -e "$MM_HOME/queue/flush/.wake" ]' "the fifo goes with the queue runner"
