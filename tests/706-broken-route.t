#!/bin/bash
# One broken route (a smarthost port "4o125") and one good route: the
# good one delivers, mm-online (listing, NAME, -d) works, the broken
# route's mail waits with the reason in mailq and nothing of it leaves,
# and mm-check names the broken route and a misspelt file.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
need_aiosmtpd

inst_new
remote_setup
online() { "$MM_HOME/bin/mm-online" "$@"; }
me=$(cat "$MM_HOME/control/me")
p=$(smtpserver good --pipelining)
route good smarthost "127.0.0.1:$p"
route good domains "*.good.example"
route bad smarthost "127.0.0.1:4o125"
route bad domains "*.bad.example"
route typo domains "*.typo.example"
route typo smarthots "127.0.0.1:$p"
inst_start || bail "the queue runner did not start"
ok 'wait_until log_has "alert: route bad: smarthost: bad port"' "mm-send names the broken route at start"

printf 'Subject: good\n\nx\n' | sendmail -f "alice@$me" x@a.good.example
printf 'Subject: bad\n\nx\n' | sendmail -f "alice@$me" y@a.bad.example
out=$(online 2>&1)
is "$?" 0 "mm-online lists the routes with a broken one among them" || diag "$out"
online good 2>"$T/err"
is "$?" 0 "mm-online good works" || diag "$(cat "$T/err")"
online bad 2>"$T/err"
is "$?" 0 "mm-online bad marks it up too" || diag "$(cat "$T/err")"
ok 'wait_until count_is 1 spool_count good' "the good route delivers"
ok 'wait_until eval "\"\$MM_HOME/bin/mailq\" | grep -q \"y@a\.bad\.example: .*4\.3\.5 route bad: smarthost: bad port\""' \
  "the broken route's message waits, with the reason in mailq"
is "$(spool_count good)" 1 "nothing of it left through the good route"
is "$(queue_count)" 1 "it is still queued"
unlike "$(cat "$MM_HOME/log")" 'bounce queued' "nothing bounced"
online -d 2>"$T/err"
is "$?" 0 "mm-online -d works" || diag "$(cat "$T/err")"
is "$(ls "$MM_HOME/queue/online")" "" "every route is down"

out=$("$MM_HOME/bin/mm-check" -q 2>&1)
is "$?" 78 "mm-check exits 78"
like "$out" '^error: route bad: smarthost: bad port$' "it names the broken route"
like "$out" '^error: control/routes/typo/smarthots: unknown file' "and the misspelt file"

done_testing
