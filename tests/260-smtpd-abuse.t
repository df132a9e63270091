#!/bin/bash
# What a hostile SMTP client gets from mm-smtpd (issue 10, items 11-14):
# no SMTPUTF8 and no 8-bit address taken at MAIL or RCPT that the queue
# would refuse later; unknown local users refused at RCPT with the
# lookup delivery makes (users, control/aliases, user+ext, postmaster),
# so that a forged sender gets no bounce; a bounce of SMTP mail carries
# the header only (local mail keeps its whole copy); a RCPT flood and
# repeated EHLOs end in 421; "alice"@here is alice.
. "$(dirname "$0")/lib.sh"
has_cmd swaks || skip_all "swaks is not installed"
plan 35

dsn() { "$PYTHON" "$TOOLS/dsn" "$1"; }

inst_new
ME=$(cat "$MM_HOME/control/me")
SMTPD=$MM_HOME/bin/mm-smtpd
cat >"$MM_HOME/control/aliases" <<EOF
list: alice, bob
ghost: nobody-here
fails: "|exit 67"
EOF

# a LAN client on a pipe, as tcpserver runs it
sw() { TCPREMOTEIP=192.0.2.7 swaks --pipe "$SMTPD" --timeout 20 --helo client.lan "$@" 2>&1; }
# raw bytes (printf %b) from a network client that waits for the greeting
rawnet() { { sleep 0.2; printf '%b' "$1"; } | TCPREMOTEIP=192.0.2.8 "$SMTPD" 2>"$T/raw.log" | tr -d '\r'; }

# ---- 11: no SMTPUTF8, and nothing 8-bit accepted that the queue refuses
out=$(sw --from "bob@$ME" --to "alice@$ME" --quit-after EHLO)
unlike "$out" '^<-  250[- ]SMTPUTF8' "EHLO does not offer SMTPUTF8"
out=$(rawnet "EHLO c\r\nMAIL FROM:<bob@$ME> SMTPUTF8\r\nQUIT\r\n")
like "$out" '^555 5\.5\.4 SMTPUTF8 is not offered' "MAIL ... SMTPUTF8: 555 5.5.4 at once"
out=$(rawnet "EHLO c\r\nMAIL FROM:<bob@$ME>\r\nRCPT TO:<j\xc3\xb6rg@$ME>\r\nRCPT TO:<alice@$ME>\r\nDATA\r\nSubject: x\r\n\r\ny\r\n.\r\nQUIT\r\n")
like "$out" '^553 5\.6\.7 non-ASCII addresses are not supported' "a UTF-8 recipient: 553 5.6.7 at RCPT"
is "$(printf '%s\n' "$out" | grep -c '^250 2\.1\.5')" 1 "only the ASCII recipient got 250"
like "$out" '^250 2\.0\.0 ok: queued as' "and the message is queued for it, not refused after the data"

# ---- 12: unknown local recipients are refused at RCPT
before=$(queue_count)
out=$(sw --from forged@example.net --to "nosuch@$ME" --body "backscatter bait")
like "$out" "^<\*\* 550 5\.1\.1 <nosuch@$ME>: no such user here" "an unknown local user: 550 5.1.1 at RCPT"
like "$out" "error: unknown recipient <nosuch@$ME>" "log: unknown recipient"
is "$(queue_count)" "$before" "nothing queued, so nothing bounces to the forged sender"
out=$(sw --from forged@example.net --to "ghost@$ME" --quit-after RCPT)
like "$out" "^<\*\* 550 5\.1\.1 <ghost@$ME>: no such user here" "an alias that leads to no user: 550 5.1.1"
unlike "$out" 'nobody-here' "the reply does not show the alias's targets"
for r in alice Alice alice+tag list postmaster fails; do
  out=$(sw --from forged@example.net --to "$r@$ME" --quit-after RCPT)
  like "$out" '^<-  250 2\.1\.5 ' "$r@$ME exists for delivery: 250 at RCPT"
done
out=$(sw --from forged@example.net --to "nosuch@$ME,alice@$ME" --body "one good")
like "$out" 'accepted msg [0-9]+ from <forged@example\.net> rcpts 1 ' "a good and an unknown recipient: queued for the good one"
out=$(MM_SMTPD_LOCAL=1 swaks --pipe "$SMTPD" --timeout 20 --from "bob@$ME" --to "nosuch@$ME" --quit-after RCPT 2>&1)
like "$out" '^<\*\* 550 5\.1\.1 ' "a local session (sendmail -bs) is told at RCPT too"
echo 'broken line without colon' >>"$MM_HOME/control/aliases"
out=$(sw --from forged@example.net --to "nosuch@$ME" --quit-after RCPT)
like "$out" '^<-  250 2\.1\.5 ' "a broken alias file: local recipients are taken (delivery defers them)"
like "$out" 'control/aliases line 4: .*local recipients are not checked' "and mm-smtpd says why"
sed -i '$d' "$MM_HOME/control/aliases"

# ---- 12: bounces of SMTP mail carry the header only
inst_start || bail "the queue runner did not start"
n0=$(maildir_count bob)
out=$(sw --from "bob@$ME" --to "fails@$ME" --header 'Subject: smtp-bounce-7' --body "SMTP-BODY-MARKER")
like "$out" '^<-  250 2\.0\.0 ok: queued as' "SMTP mail for a failing pipe is accepted"
ok 'wait_until count_is $((n0 + 1)) maildir_count bob' "its bounce reaches the sender"
b=$(maildir_grep bob 'smtp-bounce-7' | head -n 1)
d=$(dsn "$b")
like "$d" '^parts: text/plain,message/delivery-status,text/rfc822-headers$' "the bounce of SMTP mail has the header part only"
like "$d" '^returned-header: Subject: smtp-bounce-7$' "with the original Subject"
ok '! grep -q SMTP-BODY-MARKER "$b"' "and without the body"
printf 'Subject: local-bounce-7\n\nLOCAL-BODY-MARKER\n' | sendmail -f "bob@$ME" "fails@$ME"
ok 'wait_until count_is $((n0 + 2)) maildir_count bob' "a local message's bounce arrives"
b=$(maildir_grep bob 'local-bounce-7' | head -n 1)
like "$(dsn "$b")" '^parts: text/plain,message/delivery-status,message/rfc822$' "a local message comes back whole"
ok 'grep -q LOCAL-BODY-MARKER "$b"' "with its body"
inst_stop

# ---- 13: a RCPT flood and repeated EHLOs end the session
flood=$(for i in $(seq 400); do printf 'RCPT TO:<alice@%s>\\r\\n' "$ME"; done)
out=$(rawnet "EHLO c\r\nMAIL FROM:<bob@$ME>\r\n${flood}QUIT\r\n")
like "$out" '^421 4\.7\.0 .* too many errors' "400 RCPTs over a limit of 100: 421 too many errors"
is "$(printf '%s\n' "$out" | grep -c '^452 4\.5\.3')" 120 "100 overshooting RCPTs get 452, then 20 more count as errors"
ok '[ "$(grep -c "too many recipients" "$T/raw.log")" -le 21 ]' "the log has a line per error, not one per RCPT"
ehlos=$(for i in $(seq 200); do printf 'EHLO c\\r\\n'; done)
out=$(rawnet "${ehlos}QUIT\r\n")
like "$out" '^421 4\.7\.0 .* too many errors' "200 EHLOs: 421 too many errors"

# ---- 14: a quoted local part that needs no quotes is the same user
out=$(sw --from "bob@$ME" --to "\"alice\"@$ME" --header 'Subject: quoted-7')
like "$out" '^<-  250 2\.1\.5 ' "\"alice\"@$ME: 250 at RCPT"
id=$(printf '%s\n' "$out" | sed -n 's/^<-  250 2\.0\.0 ok: queued as \([0-9]*\)$/\1/p')
ok "grep -qx 'ralice@$ME' \"\$MM_HOME/queue/mess/$id\"" "the queue has the recipient as alice@$ME"
out=$(sw --from "bob@$ME" --to "\"john doe\"@$ME" --quit-after RCPT)
like "$out" "^<\*\* 550 5\.1\.1 <\"john doe\"@$ME>: no such user" "a quoted local part that needs its quotes is no user: 550 5.1.1"
