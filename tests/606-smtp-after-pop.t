#!/bin/bash
# SMTP-after-POP: a route with the smtpafterpop flag fetches its POP3
# accounts to the end before it is marked up, so that a provider that
# relays only after a POP3 login takes the flush; without the flag the
# fetch runs alongside the flush.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
. "$TOOLS/pop3-lib.sh"
need_aiosmtpd
plan 7

inst_new
remote_setup
me=$(cat "$MM_HOME/control/me")
pop3_drop o 3
port=$(pop3server o --transcript "$T/both.tr")
account isp box "$port"
p=$(smtpserver isp --pipelining --transcript "$T/both.tr")
route isp smarthost "127.0.0.1:$p"
route isp smtpafterpop
inst_start || bail "the queue runner did not start"
printf 'Subject: out\n\nx\n' | sendmail -f "alice@$me" bob@b.example
ok 'wait_until log_has "waiting for a connection: bob@b.example"' "the outgoing message waits"

"$MM_HOME/bin/mm-online" --wait --timeout 60 isp >"$T/wait.out" 2>"$T/wait.err"
is "$?" 0 "mm-online --wait isp exits 0" || diag "$(cat "$T/wait.err")"
like "$(cat "$T/wait.out")" "^sent 1 / deferred 0 / failed 0 of 1" "the flush went"
like "$(cat "$T/wait.out")" "^fetch: done" "and the fetch"
is "$(left o)" 0 "the account was fetched"
# both servers write their transcripts into one file, in order: the
# POP3 session's QUIT comes before the SMTP session's EHLO
order=$(grep -n -E '^(C: EHLO|.*QUIT)' "$T/both.tr" | head -n 2 | cut -d: -f2- | tr -d '\r' | tr '\n' '|')
like "$order" "QUIT.*\|C: EHLO" "the POP3 session ended before the SMTP one began (SMTP-after-POP)"
"$MM_HOME/bin/mm-check" >"$T/check.out" 2>&1
unlike "$(cat "$T/check.out")" "smtpafterpop" "mm-check takes the flag as a known file"
inst_stop
