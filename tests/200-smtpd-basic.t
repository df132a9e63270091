#!/bin/bash
# mm-smtpd: the conversation with a real client (swaks over a pipe, as
# tcpserver or sendmail -bs would run it): greeting, EHLO extensions, a
# transaction into the queue and on to a Maildir, the Received line, the
# queue id in the 250 reply and the log, HELO, VRFY, HELP, NOOP, RSET,
# bad sequences (503), unknown commands, a local session.
. "$(dirname "$0")/lib.sh"
has_cmd swaks || skip_all "swaks is not installed"
plan 47

inst_new
inst_start || bail "the queue runner did not start"
ME=$(cat "$MM_HOME/control/me")
SMTPD=$MM_HOME/bin/mm-smtpd

# swaks talking to mm-smtpd on a pipe, as a LAN client 192.0.2.7
sw() { TCPREMOTEIP=192.0.2.7 swaks --pipe "$SMTPD" --timeout 20 --helo client.lan "$@" 2>&1; }
# a raw conversation (printf %b escapes) in a local session, which may
# send before the greeting
raw() { printf '%b' "$1" | MM_SMTPD_LOCAL=1 "$SMTPD" 2>/dev/null | tr -d '\r'; }

out=$(sw --to "alice@$ME" --from "bob@$ME" --header 'Subject: basic one')
like "$out" "^<-  220 $ME ESMTP mm-smtpd$" "greeting names control/me"
for ext in PIPELINING 'SIZE' 8BITMIME ENHANCEDSTATUSCODES CHUNKING; do
  like "$out" "^<-  250[- ]$ext( |\$)" "EHLO offers $ext"
done
unlike "$out" "^<-  250[- ]SMTPUTF8" "EHLO does not offer SMTPUTF8 (mm does not carry UTF-8 addresses)"
like "$out" '^<-  250 2\.1\.0 ' "MAIL: 250 2.1.0"
like "$out" '^<-  250 2\.1\.5 ' "RCPT: 250 2.1.5"
like "$out" '^<-  354 ' "DATA: 354"
like "$out" '^<-  250 2\.0\.0 ok: queued as [0-9]+$' "end of data: 250 2.0.0 with the queue id"
like "$out" '^<-  221 2\.0\.0 ' "QUIT: 221 2.0.0"
id=$(printf '%s\n' "$out" | sed -n 's/^<-  250 2\.0\.0 ok: queued as \([0-9]*\)$/\1/p')
like "$out" "^mm-smtpd: 192\.0\.2\.7: accepted msg $id from <bob@$ME> rcpts 1 size [0-9]+$" "log: accepted msg with the same id, sender, rcpts, size"

ok 'wait_until count_is 1 maildir_count alice' "the message reaches alice's Maildir"
f=$(maildir_files alice | head -n 1)
m=$(cat "$f" 2>/dev/null)
like "$m" '^Subject: basic one$' "the header arrives"
like "$m" '^Received: from client\.lan \(\[192\.0\.2\.7\]\)$' "Received: from HELO ([IP])"
like "$m" "^	by $ME \\(mm-smtpd\\) with ESMTP;\$" "Received: by ME (mm-smtpd) with ESMTP"
is "$(grep -c $'\r' "$f")" 0 "CRLF became LF in the queue"
is "$(awk '/^Received: \(mm-queue/ { f = 1; next } f && !/^[ \t]/ { print; exit }' "$f")" \
   "Received: from client.lan ([192.0.2.7])" "mm-smtpd's Received line comes right after mm-queue's"

# HELO: protocol SMTP, and with a host name from tcpserver
out=$(TCPREMOTEHOST=pc1.lan sw --to "bob@$ME" --from '<>' --header 'Subject: helo' --protocol SMTP)
like "$out" '^ -> HELO client\.lan' "swaks said HELO"
like "$out" '^<-  250 2\.0\.0 ok: queued as' "a HELO session can send, with the null sender"
ok 'wait_until count_is 1 maildir_count bob' "delivered to bob"
m=$(cat "$(maildir_files bob | head -n 1)" 2>/dev/null)
like "$m" '^Received: from client\.lan \(pc1\.lan \[192\.0\.2\.7\]\)$' "Received: from HELO (HOST [IP])"
like "$m" "with SMTP;\$" "Received: with SMTP after HELO"
like "$m" '^Return-Path: <>$' "the null sender is kept"

# two recipients, one message
out=$(sw --to "alice@$ME,bob@$ME" --from "bob@$ME" --header 'Subject: two')
like "$out" "rcpts 2 size" "log: rcpts 2"
ok 'wait_until count_is 2 maildir_count alice' "alice got the second message"
ok 'wait_until count_is 2 maildir_count bob' "bob got it too"

# commands outside a transaction
out=$(raw 'EHLO me\r\nVRFY alice\r\nHELP\r\nNOOP\r\nRSET\r\nEXPN staff\r\nQUIT\r\n')
like "$out" '^252 2\.0\.0 ' "VRFY: 252"
like "$out" '^214 2\.0\.0 .*MAIL RCPT DATA BDAT' "HELP: 214 with the commands"
is "$(printf '%s\n' "$out" | grep -c '^250 2\.0\.0 ok$')" 2 "NOOP and RSET: 250 2.0.0"
like "$out" '^500 5\.5\.1 unknown command$' "EXPN (unknown here): 500 5.5.1"

# bad sequences
out=$(raw 'MAIL FROM:<a@b.example>\r\nQUIT\r\n')
like "$out" '^503 5\.5\.1 send EHLO first$' "MAIL before EHLO: 503"
out=$(raw 'EHLO me\r\nRCPT TO:<alice@localhost>\r\nQUIT\r\n')
like "$out" '^503 5\.5\.1 send MAIL first$' "RCPT before MAIL: 503"
out=$(raw 'EHLO me\r\nMAIL FROM:<a@b.example>\r\nDATA\r\nQUIT\r\n')
like "$out" '^503 5\.5\.1 no valid recipients$' "DATA without RCPT: 503"
out=$(raw 'EHLO me\r\nDATA\r\nQUIT\r\n')
like "$out" '^503 5\.5\.1 send MAIL first$' "DATA without MAIL: 503"
out=$(raw 'EHLO me\r\nMAIL FROM:<a@b.example>\r\nMAIL FROM:<a@b.example>\r\nQUIT\r\n')
like "$out" '^503 5\.5\.1 nested MAIL' "a second MAIL: 503"
out=$(raw 'EHLO me\r\nMAIL FROM:<a@b.example>\r\nRSET\r\nRCPT TO:<alice@localhost>\r\nQUIT\r\n')
like "$out" '^503 5\.5\.1 send MAIL first$' "RSET ends the transaction"
out=$(raw 'EHLO\r\nMAIL FROM:a@b.example\r\nQUIT\r\n')
like "$out" '^501 5\.5\.4 syntax: EHLO' "EHLO without a name: 501"

# a local session (sendmail -bs): may relay, says so in Received
out=$(MM_SMTPD_LOCAL=1 swaks --pipe "$SMTPD" --timeout 20 --helo laptop --to "alice@$ME" --from "bob@$ME" --header 'Subject: local' 2>&1)
like "$out" '^<-  250 2\.0\.0 ok: queued as' "a local session queues the message"
like "$out" "^mm-smtpd: local uid $(id -u): accepted msg" "log names the local uid"
ok 'wait_until count_is 3 maildir_count alice' "delivered"
ok '[ -n "$(maildir_grep alice "^Received: from laptop \(via sendmail -bs for uid $(id -u)\)$")" ]' "Received: via sendmail -bs for uid N"
out=$(MM_SMTPD_LOCAL=1 swaks --pipe "$SMTPD" --timeout 20 --to someone@elsewhere.example --from "bob@$ME" --quit-after RCPT 2>&1)
like "$out" '^<-  250 2\.1\.5 ' "a local session may relay"

# the real front door: sendmail -bs, with swaks and with a script that
# pipes the whole session at once
out=$(swaks --pipe "$MM_HOME/bin/sendmail -bs" --timeout 20 --helo mua --to "alice@$ME" --from "bob@$ME" --header 'Subject: via bs' 2>&1)
like "$out" '^<-  250 2\.0\.0 ok: queued as' "swaks through sendmail -bs: queued"
out=$(printf 'HELO script\r\nMAIL FROM:<bob@%s>\r\nRCPT TO:<alice@%s>\r\nDATA\r\nSubject: piped bs\r\n\r\nx\r\n.\r\nQUIT\r\n' "$ME" "$ME" | sendmail -bs 2>/dev/null | tr -d '\r')
like "$out" '^250 2\.0\.0 ok: queued as' "a session piped into sendmail -bs before the greeting is fine"
ok 'wait_until count_is 5 maildir_count alice' "both delivered"
