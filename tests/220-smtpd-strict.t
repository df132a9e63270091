#!/bin/bash
# mm-smtpd's strictness and limits: each bad input gets a clear reply and
# never a crash or a hang. SIZE (parameter and real bytes), recipients per
# message, hop count, line and path lengths, bare LF / bare CR (no SMTP
# smuggling), NUL, 8-bit addresses and SMTPUTF8 (not offered), MAIL
# parameters, a client that speaks before the greeting, idle and
# trickling clients, commands after QUIT, too many errors, a bad control
# file. Conversations with swaks where it can send the input, raw bytes
# on the pipe where it cannot.
. "$(dirname "$0")/lib.sh"
has_cmd swaks || skip_all "swaks is not installed"
plan 78

inst_new
ME=$(cat "$MM_HOME/control/me")
SMTPD=$MM_HOME/bin/mm-smtpd
C=$MM_HOME/control

sw() { TCPREMOTEIP=192.0.2.7 swaks --pipe "$SMTPD" --timeout 20 --helo client.lan --from "bob@$ME" --to "alice@$ME" "$@" 2>&1; }
# raw bytes (printf %b) in a local session: sendmail -bs lets a client
# write before the greeting; everything else is as strict
raw() { printf '%b' "$1" | MM_SMTPD_LOCAL=1 "$SMTPD" 2>"$T/raw.log" | tr -d '\r'; }
n_queued() { queue_count; }
x() { head -c "$1" /dev/zero | tr '\0' "${2:-x}"; }
# swaks sending exact bytes as the data (printf %b); swaks adds the CRLF
# after the final dot itself
swdata() { printf '%b' "$1" >"$T/data"; sw --no-data-fixup --data "$T/data" | tr -d '\0'; }

# ---- SIZE
echo 2000 >"$C/databytes"
out=$(sw --quit-after EHLO)
like "$out" '^<-  250-SIZE 2000$' "EHLO announces SIZE with control/databytes"
out=$(raw "EHLO c\r\nMAIL FROM:<bob@$ME> SIZE=5000\r\nQUIT\r\n")
like "$out" '^552 5\.3\.4 message too big: the limit is 2000 bytes' "MAIL SIZE= over the limit: 552 5.3.4"
out=$(raw "EHLO c\r\nMAIL FROM:<bob@$ME> SIZE=1500\r\nQUIT\r\n")
like "$out" '^250 2\.1\.0 ' "MAIL SIZE= under the limit: 250"
out=$(raw "EHLO c\r\nMAIL FROM:<bob@$ME> SIZE=15x\r\nQUIT\r\n")
like "$out" '^501 5\.5\.4 bad SIZE' "a malformed SIZE: 501"
before=$(n_queued)
out=$(sw --body "$(for i in $(seq 40); do x 75; echo; done)")
like "$out" '^<\*\* 552 5\.3\.4 message refused: too big' "a message over the limit (no SIZE given): 552 5.3.4 after the data"
is "$(n_queued)" "$before" "nothing was queued"
out=$(sw --body "small enough")
like "$out" '^<-  250 2\.0\.0 ok: queued as' "a message under the limit is accepted"
rm "$C/databytes"
out=$(sw --quit-after EHLO)
like "$out" '^<-  250-SIZE$' "no limit: SIZE without a number"

# ---- recipients per message
echo 3 >"$C/smtpdmaxrcpts"
out=$(sw --to "alice@$ME,bob@$ME,alice@$ME,bob@$ME")
like "$out" '^<\*\* 452 4\.5\.3 too many recipients' "the 4th recipient over smtpdmaxrcpts 3: 452 4.5.3"
like "$out" 'accepted msg [0-9]+ from <[^>]*> rcpts 3 ' "the message goes on with 3 recipients"
rm "$C/smtpdmaxrcpts"
rcpts=$(for i in $(seq 100); do printf 'alice@%s,' "$ME"; done)
out=$(sw --to "${rcpts%,}" --quit-after RCPT)
is "$(printf '%s\n' "$out" | grep -c '^<-  250 2\.1\.5')" 100 "the default takes 100 recipients (RFC 5321 4.5.3.1.8)"

# ---- hops
echo 5 >"$C/maxhops"
hdrs=$(for i in 1 2 3 4 5 6; do printf -- '--add-header\nReceived: from h%s by h%s; Sat, 1 Jan 2000 00:00:00 +0000\n' $i $((i+1)); done)
mapfile -t args <<<"$hdrs"
out=$(sw "${args[@]}")
like "$out" '^<\*\* 554 5\.4\.6 message refused: too many hops' "6 Received: lines over maxhops 5: 554 5.4.6"
like "$out" 'refused msg from <bob@[^>]*> rcpts 1 size [0-9]+: 554 5\.4\.6' "log: refused msg ... 554 5.4.6"
out=$(sw --add-header 'Received: from a by b; Sat, 1 Jan 2000 00:00:00 +0000' --add-header 'Delivered-To: x@a' --add-header 'Delivered-To: x@b' --add-header 'received: x' --add-header 'Received: y')
like "$out" '^<-  250 2\.0\.0 ok' "5 hops (Received and Delivered-To) are still fine"
out=$(sw --add-header 'Received: from a by b; Sat, 1 Jan 2000 00:00:00 +0000' --add-header 'Delivered-To: x@a' --add-header 'Delivered-To: x@b' --add-header 'received: x' --add-header 'Received: y' --add-header 'Delivered-To: z@c')
like "$out" '^<\*\* 554 5\.4\.6 ' "Delivered-To counts as a hop"
out=$(sw --body $'Received: in the body\nReceived: x\nReceived: x\nReceived: x\nReceived: x\nReceived: x\nReceived: x')
like "$out" '^<-  250 2\.0\.0 ok' "Received lines in the body are no hops"
rm "$C/maxhops"

# ---- line and path lengths
out=$(raw "EHLO c\r\nNOOP $(x 600)\r\nNOOP\r\nQUIT\r\n")
like "$out" '^500 5\.5\.2 line too long \(RFC 5321 4\.5\.3\.1\.4\)$' "a command line over 512 bytes: 500 5.5.2"
like "$out" '^250 2\.0\.0 ok$' "the session goes on after it"
out=$(raw "EHLO c\r\nNOOP $(x 5000)\r\nNOOP\r\nQUIT\r\n")
is "$(printf '%s\n' "$out" | grep -c '^500 5\.5\.2 line too long')" 1 "a very long line is one error, not many"
out=$(sw --body "$(x 1200)")
like "$out" '^<\*\* 500 5\.5\.2 message refused: line too long' "a text line over 998 characters: 500 5.5.2"
out=$(sw --body "$(x 998)")
like "$out" '^<-  250 2\.0\.0 ok' "a text line of 998 characters is fine"
out=$(sw --to "$(x 300)@$ME" --quit-after RCPT)
like "$out" '^<\*\* 501 5\.1\.3 recipient path too long' "a path over 256 bytes: 501 5.1.3"
out=$(sw --to "$(x 65)@$ME" --quit-after RCPT)
like "$out" '^<\*\* 501 5\.1\.3 bad recipient address: local part too long' "a local part over 64: 501 5.1.3"
out=$(sw --from "$(x 65)@$ME" --quit-after MAIL)
like "$out" '^<\*\* 501 5\.1\.7 bad sender address: local part too long' "a sender's local part over 64: 501 5.1.7"
out=$(sw --to "alice@$(x 250).$(x 10)" --quit-after RCPT)
like "$out" '^<\*\* 501 5\.1\.3 ' "a domain label over 63: 501 5.1.3"
out=$(raw "EHLO c\r\nMAIL FROM:bob@$ME\r\nQUIT\r\n")
like "$out" '^501 5\.5\.4 syntax: MAIL FROM:<address>' "a path without angle brackets: 501 5.5.4"

# ---- bare LF and bare CR: refused, and never the end of DATA
out=$(raw "EHLO c\nNOOP\r\nQUIT\r\n")
like "$out" '^500 5\.5\.2 bare LF in command' "a command ended by a bare LF: 500 5.5.2"
like "$out" '^250 2\.0\.0 ok$' "the next command is read normally"
out=$(raw "EHLO c\r\nNOOP a\rb\r\nQUIT\r\n")
like "$out" '^500 5\.5\.2 bare CR in command' "a bare CR in a command: 500 5.5.2"
for seq in '\n.\n' '\r.\n' '\r\n.\n' '\n.\r\n'; do
  before=$(n_queued)
  out=$(swdata "Subject: smuggle\r\n\r\nhello${seq}MAIL FROM:<evil@example.net>\r\nRCPT TO:<alice@$ME>\r\nDATA\r\nsmuggled\r\n.")
  like "$out" '^<\*\* 554 5\.6\.0 message refused: bare (LF|CR) in message' "DATA with '$seq' inside: refused as a whole (554 5.6.0)"
  is "$(printf '%s\n' "$out" | grep -c '^<-  250 2\.1\.0')" 1 "'$seq' did not end the message: no smuggled MAIL was answered"
  is "$(n_queued)" "$before" "'$seq': nothing queued"
done
out=$(swdata 'Subject: cr\r\n\r\nbare\rcr\r\n.')
like "$out" '^<\*\* 554 5\.6\.0 message refused: bare CR' "a bare CR in the data: 554 5.6.0"

# ---- NUL and 8-bit
out=$(raw "EHLO c\r\nNOOP a\0b\r\nQUIT\r\n")
like "$out" '^500 5\.5\.2 NUL character in command' "NUL in a command: 500 5.5.2"
out=$(swdata 'Subject: nul\r\n\r\na\0b\r\n.')
like "$out" '^<\*\* 554 5\.6\.0 message refused: it contains a NUL' "NUL in the data: 554 5.6.0"
out=$(raw "EHLO c\r\nMAIL FROM:<j\xc3\xb6rg@$ME>\r\nQUIT\r\n")
like "$out" '^553 5\.6\.7 non-ASCII addresses are not supported' "an 8-bit sender: 553 5.6.7"
out=$(raw "EHLO c\r\nMAIL FROM:<bob@$ME>\r\nRCPT TO:<j\xc3\xb6rg@$ME>\r\nQUIT\r\n")
like "$out" '^553 5\.6\.7 non-ASCII addresses are not supported' "an 8-bit recipient: 553 5.6.7"
out=$(raw "EHLO c\xe9\r\nQUIT\r\n")
like "$out" '^500 5\.5\.2 8-bit characters in a command' "8-bit in EHLO: 500 5.5.2"
out=$(raw "HELO c\r\nMAIL FROM:<bob@$ME> SMTPUTF8\r\nQUIT\r\n")
like "$out" '^555 5\.5\.4 MAIL parameters need EHLO' "MAIL parameters after HELO: 555 5.5.4"
out=$(raw "EHLO c\r\nMAIL FROM:<bob@$ME> SMTPUTF8\r\nQUIT\r\n")
like "$out" '^555 5\.5\.4 SMTPUTF8 is not offered' "MAIL ... SMTPUTF8: 555 5.5.4, it is not offered"
out=$(raw "EHLO c\r\nMAIL FROM:<bob@$ME> BODY=8BITMIME\r\nRCPT TO:<alice@$ME>\r\nDATA\r\nSubject: Gr\xc3\xbc\xc3\x9fe\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n.\r\nQUIT\r\n")
like "$out" '^250 2\.0\.0 ok: queued as' "8BITMIME: a message with 8-bit text is queued"
id=$(printf '%s\n' "$out" | sed -n 's/^250 2\.0\.0 ok: queued as \([0-9]*\)$/\1/p')
ok 'grep -q "with ESMTP;" "$MM_HOME/queue/mess/$id"' "8BITMIME: Received says ESMTP"
ok "grep -q '^Subject: Gr$(printf '\xc3\xbc\xc3\x9f')e\$' \"\$MM_HOME/queue/mess/$id\"" "8BITMIME: the 8-bit header is passed on unchanged"
out=$(raw "EHLO c\r\nMAIL FROM:<j\xf6rg@$ME>\r\nQUIT\r\n")
like "$out" '^553 5\.6\.7 non-ASCII addresses' "an address that is not even UTF-8: 553 5.6.7"

# ---- MAIL parameters
out=$(raw "EHLO c\r\nMAIL FROM:<bob@$ME> BODY=8BITMIME\r\nRSET\r\nMAIL FROM:<bob@$ME> BODY=7BIT\r\nQUIT\r\n")
is "$(printf '%s\n' "$out" | grep -c '^250 2\.1\.0 ')" 2 "BODY=8BITMIME and BODY=7BIT are accepted"
out=$(raw "EHLO c\r\nMAIL FROM:<bob@$ME> BODY=BINARYMIME\r\nQUIT\r\n")
like "$out" '^555 5\.5\.4 BODY must be' "BODY=BINARYMIME: 555 5.5.4"
out=$(raw "EHLO c\r\nMAIL FROM:<bob@$ME> FOO=bar\r\nQUIT\r\n")
like "$out" '^555 5\.5\.4 unknown MAIL parameter' "an unknown MAIL parameter: 555 5.5.4"
out=$(raw "EHLO c\r\nMAIL FROM:<bob@$ME>\r\nRCPT TO:<alice@$ME> NOTIFY=NEVER\r\nQUIT\r\n")
like "$out" '^555 5\.5\.4 unknown RCPT parameter' "an RCPT parameter: 555 5.5.4"

# ---- speaking before the greeting (not a local session); a greeting
# delay makes sure the client's bytes are there when mm-smtpd looks
echo 2 >"$C/smtpdgreetdelay"
out=$(printf 'EHLO early\r\nMAIL FROM:<a@b.example>\r\nQUIT\r\n' | TCPREMOTEIP=192.0.2.66 "$SMTPD" 2>"$T/early.log" | tr -d '\r')
is "$(printf '%s\n' "$out" | head -n 1)" "554 5.5.1 $ME you spoke before the greeting" "a client that speaks first gets 554 instead of 220"
like "$out" '^503 5\.5\.1 you spoke before the greeting: only QUIT now$' "then every command but QUIT: 503"
is "$(printf '%s\n' "$out" | tail -n 1)" "221 2.0.0 $ME closing connection" "QUIT still works"
# a plain file: each line starts with the local time (src/lib/logstamp.c)
like "$(cat "$T/early.log")" '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} [-+][0-9]{4} mm-smtpd: 192\.0\.2\.66: error: spoke before the greeting$' "log: spoke before the greeting"
rm "$C/smtpdgreetdelay"

# ---- an idle client and a trickling one (control/smtpdtimeout)
echo 1 >"$C/smtpdtimeout"
out=$( { printf 'EHLO c\r\n'; sleep 4; } | MM_SMTPD_LOCAL=1 "$SMTPD" 2>"$T/idle.log" | tr -d '\r')
like "$out" "^421 4\\.4\\.2 $ME timeout, closing connection\$" "an idle client: 421 4.4.2 after smtpdtimeout"
like "$(cat "$T/idle.log")" ': timeout$' "log: timeout"
echo 2 >"$C/smtpdtimeout"
out=$( { printf 'EHLO c\r\n'; for c in N O O P ' ' a b c d e f g; do printf %s "$c"; sleep 0.5; done; printf '\r\n'; } \
  | MM_SMTPD_LOCAL=1 "$SMTPD" 2>/dev/null | tr -d '\r')
like "$out" '^421 4\.4\.2 .* timeout' "a client trickling one byte every 0.5 s is cut off after 2 s"
unlike "$out" '^250 2\.0\.0 ok$' "the trickled command was never run"
out=$( { printf 'EHLO c\r\nMAIL FROM:<bob@%s>\r\nRCPT TO:<alice@%s>\r\nDATA\r\n' "$ME" "$ME"; sleep 0.2; printf 'Subject: slow\r\n'; sleep 4; } \
  | MM_SMTPD_LOCAL=1 "$SMTPD" 2>/dev/null | tr -d '\r')
like "$out" '^421 4\.4\.2 .* timeout' "a client that stops in DATA: 421 4.4.2"
rm "$C/smtpdtimeout"

# ---- after QUIT, too many errors
out=$(raw "EHLO c\r\nQUIT\r\nNOOP\r\nMAIL FROM:<a@b.example>\r\n")
is "$(printf '%s\n' "$out" | tail -n 1)" "221 2.0.0 $ME closing connection" "nothing is answered after QUIT"
like "$(cat "$T/raw.log")" 'error: commands after QUIT ignored' "log: commands after QUIT ignored"
out=$(raw "EHLO c\r\n$(for i in $(seq 30); do printf 'BOGUS\\r\\n'; done)QUIT\r\n")
is "$(printf '%s\n' "$out" | grep -c '^500 5\.5\.1 unknown command')" 20 "20 errors are answered"
is "$(printf '%s\n' "$out" | tail -n 1)" "421 4.7.0 $ME too many errors, closing connection" "then 421 4.7.0 closes the session"

# ---- a malformed control file: 421, exit 78
echo lots >"$C/databytes"
out=$(printf 'QUIT\r\n' | MM_SMTPD_LOCAL=1 "$SMTPD" 2>"$T/cfg.log"; echo "exit=$?")
like "$out" "^421 4\\.3\\.5 $ME configuration error" "a malformed control/databytes: 421 4.3.5"
like "$out" '^exit=78$' "and exit 78"
like "$(cat "$T/cfg.log")" 'control/databytes: malformed value' "the log names the file"
rm "$C/databytes"

# ---- a usage error
"$SMTPD" extra </dev/null >/dev/null 2>&1
is "$?" 64 "an argument: exit 64"
echo soon >"$C/smtpdtimeout"
out=$(printf 'QUIT\r\n' | MM_SMTPD_LOCAL=1 "$SMTPD" 2>"$T/cfg.log"; echo "exit=$?")
like "$out" '^exit=78$' "a malformed control/smtpdtimeout: exit 78"
like "$(cat "$T/cfg.log")" 'control/smtpdtimeout: malformed value' "the log names it"
rm "$C/smtpdtimeout"

# a client that only says NOOP: after 100, each one counts as an error
out=$(raw "EHLO c\r\n$(for i in $(seq 130); do printf 'NOOP\\r\\n'; done)QUIT\r\n")
is "$(printf '%s\n' "$out" | grep -c '^250 2\.0\.0 ok$')" 119 "100 NOOPs, then 19 more counted as errors"
is "$(printf '%s\n' "$out" | tail -n 1)" "421 4.7.0 $ME too many errors, closing connection" "the 20th closes the session"
