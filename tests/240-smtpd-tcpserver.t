#!/bin/bash
# mm-smtpd under a real tcpserver on loopback, with relay permission from
# a tcprules cdb as on a LAN: the environment (TCPREMOTEIP), relaying
# allowed and refused by rule, a denied client, a pipelined swaks
# session, a client that speaks before a greeting delay, and postfix's
# smtp-source sending 300 messages over concurrent sessions with nothing
# lost on the way to the Maildir. tests/245 runs the same against
# mm-smtpd -l, its own listener (SMTPD_LISTEN=1), and then what is its
# own (listen_checks, defined there).
[ -n "${SMTPD_LISTEN:-}" ] || . "$(dirname "$0")/lib.sh"
has_cmd swaks || skip_all "swaks is not installed"
[ -n "${SMTPD_LISTEN:-}" ] || has_cmd tcpserver || skip_all "tcpserver (ucspi-tcp) is not installed"
has_cmd tcprules || skip_all "tcprules (ucspi-tcp) is not installed"
plan $((25 + ${LISTEN_TESTS:-0}))

SMTP_SOURCE=${SMTP_SOURCE:-/var/cache/mm-tests/bin/smtp-source}
inst_new
ME=$(cat "$MM_HOME/control/me")

# 127.0.0.2 is "the LAN" here; 127.0.0.1 a stranger; 127.0.0.3 is denied
cat >"$T/rules" <<'EOF'
127.0.0.2:allow,RELAYCLIENT=""
127.0.0.3:deny
:allow
EOF
tcprules "$T/rules.cdb" "$T/rules.tmp" <"$T/rules"
ok '[ -s "$T/rules.cdb" ]' "tcprules built the cdb"

if [ -n "${SMTPD_LISTEN:-}" ]; then
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' >"$T/port"
  PORT=$(head -n 1 "$T/port")
  "$MM_HOME/bin/mm-smtpd" -l -c 20 -x "$T/rules.cdb" 127.0.0.1 "$PORT" 2>>"$T/smtpd.log" &
  tcps=$!
  at_exit "kill $tcps 2>/dev/null; wait $tcps 2>/dev/null"
  listening() { [ -n "$(ss -ltnH "sport = :$PORT" 2>/dev/null)" ]; }
  ok 'wait_until listening' "mm-smtpd -l listens"
else
  # -1 prints the port it got (we ask for port 0: any free one); no DNS
  # (-H remote, -l local), no ident (-R)
  tcpserver -1 -R -H -l 0 -c 20 -x "$T/rules.cdb" 127.0.0.1 0 "$MM_HOME/bin/mm-smtpd" \
    >"$T/port" 2>>"$T/smtpd.log" &
  tcps=$!
  at_exit "kill $tcps 2>/dev/null; wait $tcps 2>/dev/null"
  ok 'wait_until test -s "$T/port"' "tcpserver listens"
  PORT=$(head -n 1 "$T/port")
fi
logged() { grep -Ec -- "$1" "$T/smtpd.log"; }

sw() { swaks -s 127.0.0.1 -p "$PORT" --timeout 20 --from "bob@$ME" "$@" 2>&1; }

out=$(sw --to "alice@$ME" --header 'Subject: over tcp')
like "$out" '^<-  220 ' "swaks over TCP gets the greeting"
like "$out" '^<-  250 2\.0\.0 ok: queued as [0-9]+$' "a message to a local user is accepted from a stranger"
ok 'wait_until count_is 1 logged "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} [-+][0-9]{4} mm-smtpd: 127\.0\.0\.1: accepted msg [0-9]+ "' "log: the client's TCPREMOTEIP"
id=$(printf '%s\n' "$out" | sed -n 's/^<-  250 2\.0\.0 ok: queued as \([0-9]*\)$/\1/p')
ok 'grep -q "^Received: from .* (\[127\.0\.0\.1\])$" "$MM_HOME/queue/mess/$id"' "Received: names [127.0.0.1]"

out=$(sw --to someone@example.net --quit-after RCPT)
like "$out" '^<\*\* 553 5\.7\.1 relaying denied' "the stranger may not relay: 553 5.7.1"
ok 'wait_until count_is 1 logged "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} [-+][0-9]{4} mm-smtpd: 127\.0\.0\.1: relay refused to <someone@example\.net>$"' "log: relay refused"
out=$(sw -li 127.0.0.2 --to someone@example.net --quit-after RCPT)
like "$out" '^<-  250 2\.1\.5 ' "the LAN client (RELAYCLIENT by tcprules) may relay"
out=$(sw -li 127.0.0.3 --to "alice@$ME" --quit-after RCPT)
unlike "$out" '^<-  220 ' "a denied client gets no greeting"

out=$(sw --pipeline --to "alice@$ME,bob@$ME" --header 'Subject: pipelined')
like "$out" '^ -> DATA$' "swaks pipelines MAIL, RCPT, RCPT, DATA"
like "$out" '^<-  250 2\.0\.0 ok: queued as' "a pipelined transaction is accepted"

# a greeting delay catches a client that does not wait for it
echo 2 >"$MM_HOME/control/smtpdgreetdelay"
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'EHLO early\r\nQUIT\r\n' >&3
out=$(timeout 20 cat <&3 | tr -d '\r')
exec 3<&-
like "$out" '^554 5\.5\.1 .*spoke before the greeting' "a client that speaks during the greeting delay: 554"
out=$(sw --to "alice@$ME" --quit-after MAIL)
like "$out" '^<-  220 ' "a client that waits gets 220 after the delay"
rm "$MM_HOME/control/smtpdgreetdelay"

[ -z "${SMTPD_LISTEN:-}" ] || listen_checks

# smtp-source: 200 messages one per session, 10 sessions at once, then
# 100 more five sessions at once, many per session; nothing may be lost
if [ ! -x "$SMTP_SOURCE" ]; then
  skip 10 "smtp-source is not available (tests/tools/get-smtp-source, as root)"
  exit 0
fi
base=$(logged ' accepted msg ')
"$SMTP_SOURCE" -s 10 -m 200 -l 4096 -M client.lan -f "bob@$ME" -t "alice@$ME" -S 'smtp-source one' "127.0.0.1:$PORT" >"$T/ss1.out" 2>&1
is "$?" 0 "smtp-source: 200 messages, 10 concurrent sessions, exit 0"
"$SMTP_SOURCE" -d -s 5 -m 100 -l 4096 -M client.lan -f "bob@$ME" -t "bob@$ME" -S 'smtp-source two' "127.0.0.1:$PORT" >"$T/ss2.out" 2>&1
is "$?" 0 "smtp-source -d: 100 messages, several per session, exit 0"
ok 'wait_until count_is $((base + 300)) logged " accepted msg "' "log: 300 more messages accepted"
is "$(grep -c ' accepted msg ' "$T/smtpd.log" | tr -d ' ')" "$((base + 300))" "no message accepted twice"
unlike "$(cat "$T/smtpd.log")" 'deferred msg|refused msg|timeout' "no message refused or deferred"
is "$(grep ' accepted msg ' "$T/smtpd.log" | tail -n 300 | awk '$NF < 4096' | wc -l | tr -d ' ')" 0 "every message has its 4096 bytes of payload"
# the queue runner is not running yet: every accepted message must be
# in the queue (the first, the pipelined one, 300 from smtp-source)
is "$(queue_count)" 302 "nothing lost: all 302 accepted messages are in the queue"
inst_start || bail "the queue runner did not start"
WAIT_TIMEOUT=180
# at_least N CMD...: CMD prints a number >= N; wait_until runs it anew each time
at_least() { local want=$1 ; shift ; [ "$("$@")" -ge "$want" ] ; }
ok 'wait_until at_least 202 maildir_count alice' "alice got her 200 (and the first two)"
ok 'wait_until at_least 101 maildir_count bob' "bob got his 100 (and the pipelined one)"
is "$(maildir_grep alice '^Subject: smtp-source one' | wc -l | tr -d ' ')" 200 "exactly 200 smtp-source messages for alice"
is "$(maildir_grep bob '^Subject: smtp-source two' | wc -l | tr -d ' ')" 100 "exactly 100 for bob"
[ "$(queue_count)" = 0 ] || diag "still in the queue: $(queue_count) messages"
