#!/bin/bash
# Mail that no route can ever carry (a recipient domain no route
# serves, or a sender every route refuses) is named: mm-online's listing
# counts it, and mm-online --wait warns about it after the flush instead
# of reporting "0 of 0" as if nothing were waiting.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
# wait_until runs its command each time: a function, not a $(...)
waiting_at_least() { [ "$(log_count "waiting for a connection")" -ge "$1" ]; }
need_aiosmtpd
plan 7

inst_new
remote_setup
me=$(cat "$MM_HOME/control/me")
p=$(smtpserver isp --pipelining)
route isp smarthost "127.0.0.1:$p"
route isp domains "*.b.example"
inst_start || bail "the queue runner did not start"

printf 'Subject: carried\n\nx\n' | sendmail -f "alice@$me" bob@mx.b.example
printf 'Subject: stranded\n\nx\n' | sendmail -f "alice@$me" carol@c.example
ok 'wait_until waiting_at_least 2' "both wait for a connection"

out=$("$MM_HOME/bin/mm-online" 2>&1)
like "$out" "^2 messages with remote recipients in the queue" "the listing counts both"
like "$out" "^1 of them has recipients that no route can carry" "and names the one no route carries"

"$MM_HOME/bin/mm-online" --wait --timeout 60 isp >"$T/wait.out" 2>"$T/wait.err"
is "$?" 0 "mm-online --wait isp: its own flush went well"
is "$(cat "$T/wait.out")" "sent 1 / deferred 0 / failed 0 of 1" "the carried message went"
like "$(cat "$T/wait.err")" "1 message has recipients that no route can carry: they wait until a route serves them" "--wait warns about the stranded one"
is "$(spool_count isp)" 1 "only the carried one reached the server"
inst_stop
