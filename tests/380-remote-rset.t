#!/bin/bash
# A transaction that did not end with the data accepted is reset before
# the next MAIL (RFC 5321 4.1.1.5, RFC 2920): a greylisted message (451 to
# its only RCPT, so the server refuses its DATA or BDAT and keeps the
# sender) followed by two good ones. The good ones arrive once each,
# each with its own sender, the greylisted one waits, nothing bounces,
# and the server's transcript has the RSET before the next MAIL. Against
# python3-aiosmtpd (PIPELINING, and PIPELINING with CHUNKING) and
# against mm-smtpd (CHUNKING). A reply that does not fit the state (503
# to MAIL, 354 after a refused MAIL) stops the connection, temporarily.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
# wait_until runs its command each time: a function, not a $(...)
waiting_at_least() { [ "$(log_count "waiting for a connection")" -ge "$1" ]; }
has_cmd tcpserver || skip_all "tcpserver (ucspi-tcp) is not installed"
need_aiosmtpd
plan 29

inst_new
remote_setup
m1=$(printf 'Subject: grey\n\none\n' | queue_msg -f s1@a.example grey@b.example)
m2=$(printf 'Subject: two\n\ntwo\n' | queue_msg -f s2@a.example bob@b.example)
m3=$(printf 'Subject: three\n\nthree\n' | queue_msg -f s3@a.example carol@b.example)
three() {
  { req "$m1" s1@a.example grey@b.example; req "$m2" s2@a.example bob@b.example; req "$m3" s3@a.example carol@b.example; } | remote isp 127.0.0.1
}
# "from SENDER to RCPT" of each message a smtpserver kept, in order
envelopes() {
  local f
  for f in $(ls "$T/$1.spool" | sort -n); do
    printf '%s %s\n' "$(sed -n 1p "$T/$1.spool/$f")" "$(sed -n 2p "$T/$1.spool/$f")"
  done
}
# the commands of a transcript, one a line, from the first MAIL on
commands() { sed -n 's/^C: \([A-Z]*\).*/\1/p' "$1" | sed -n '/^MAIL$/,$p' | tr '\n' ' '; }

for mode in pipelining chunking; do
  opts=(--pipelining)
  [ $mode = chunking ] && opts+=(--chunking)
  p=$(smtpserver "$mode" "${opts[@]}" --rcpt-reply 'grey@b.example=451 4.7.1 greylisted, try again later' --transcript "$T/$mode.tr")
  route isp smarthost "127.0.0.1:$p"
  res=$(three)
  like "$res" "^$m1 grey@b.example Z4\.7\.1 " "$mode: the greylisted message is deferred"
  like "$res" "^$m2 bob@b.example K" "$mode: the second message is accepted"
  like "$res" "^$m3 carol@b.example K" "$mode: the third message is accepted"
  unlike "$res" " D" "$mode: nothing failed for good"
  is "$(envelopes "$mode")" "$(printf 'from s2@a.example to bob@b.example\nfrom s3@a.example to carol@b.example')" \
    "$mode: the two good ones arrived once each, with their own senders"
  if [ $mode = chunking ]; then
    # BDAT goes out before its replies: every later MAIL is reset first
    is "$(commands "$T/$mode.tr")" "MAIL RCPT BDAT RSET MAIL RCPT BDAT RSET MAIL RCPT BDAT QUIT " "$mode: RSET before each MAIL after a BDAT"
  else
    is "$(commands "$T/$mode.tr")" "MAIL RCPT DATA RSET MAIL RCPT DATA MAIL RCPT DATA QUIT " "$mode: RSET after the refused DATA, none after an end of data"
  fi
  unlike "$(cat "$T/$mode.tr")" "nested MAIL" "$mode: no nested MAIL"
done

# mm-smtpd with CHUNKING, no relaying: a recipient it refuses for good
# (553) is the refused transaction here
inst2=$T/b
"$TOP/install.sh" --instance "$inst2" --build "$BUILD" >/dev/null 2>&1 || bail "install.sh for b failed"
echo b.example >> "$inst2/control/locals"
mkdir -p "$inst2/home/bob" "$inst2/home/carol"
port=$(free_port)
bg env MM_HOME="$inst2" tcpserver -q -H -R 127.0.0.1 "$port" "$inst2/bin/mm-smtpd" 2>>"$T/b.log"
wait_until bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null || bail "mm-smtpd did not start"
route isp smarthost "127.0.0.1:$port"
m4=$(printf 'Subject: elsewhere\n\nfour\n' | queue_msg -f s1@a.example dave@c.example)
res=$( { req "$m4" s1@a.example dave@c.example; req "$m2" s2@a.example bob@b.example; req "$m3" s3@a.example carol@b.example; } | remote isp 127.0.0.1)
like "$(cat "$T/remote.log")" "connected, ESMTP PIPELINING CHUNKING" "mm-smtpd offers CHUNKING"
like "$res" "^$m4 dave@c.example D5\.7\.1 " "mm-smtpd: the refused recipient fails"
like "$res" "^$m2 bob@b.example K" "mm-smtpd: the second message is accepted"
like "$res" "^$m3 carol@b.example K" "mm-smtpd: the third message is accepted"
senders=$(for f in "$inst2"/queue/mess/*; do sed -n 's/^f//p' "$f"; done | sort | tr '\n' ' ')
is "$senders" "s2@a.example s3@a.example " "mm-smtpd queued the two, each with its own sender"
unlike "$(cat "$T/b.log")" "nested MAIL" "mm-smtpd saw no nested MAIL"

# a reply out of sequence: a server that answers MAIL with 503 (it holds
# a transaction the client does not know of) stops the connection; no
# data goes out and nothing is a permanent failure
p=$(smtpserver seq --pipelining --mail-reply '503 5.5.1 Error: nested MAIL command' --transcript "$T/seq.tr")
route isp smarthost "127.0.0.1:$p"
: > "$T/remote.log"
res=$(three)
is "$(echo "$res" | grep -c ' Z4\.5\.0 protocol error: a reply out of sequence')" 3 "503 to MAIL: every message is deferred"
like "$(cat "$T/remote.log")" "a reply out of sequence \(503 to MAIL\)" "the log names the reply out of sequence"
is "$(commands "$T/seq.tr")" "MAIL RCPT DATA " "nothing follows the pipelined group, and no data"

# full pass through mm-send: greylisted, then the good ones; no bounce
p=$(smtpserver flush --pipelining --rcpt-reply 'grey@b.example=451 4.7.1 greylisted, try again later')
route isp smarthost "127.0.0.1:$p"
inst_start || bail "the queue runner did not start"
for i in 1 2 3; do
  rcpt=$(echo grey bob carol | cut -d' ' -f$i)
  printf 'Subject: flush %s\n\nx\n' "$i" | sendmail -f "s$i@a.example" "$rcpt@b.example"
done
ok 'wait_until waiting_at_least 3' "offline, the three wait"
"$MM_HOME/bin/mm-online" --wait --timeout 60 isp >"$T/wait.out" 2>&1
is "$?" 75 "mm-online --wait isp exits 75: one message was deferred"
is "$(cat "$T/wait.out")" "sent 2 / deferred 1 / failed 0 of 3" "the flush: one deferred, none failed"
is "$(envelopes flush)" "$(printf 'from s2@a.example to bob@b.example\nfrom s3@a.example to carol@b.example')" "the good ones arrived once each"
ok '! log_has "bounce msg"' "nothing bounced"
ok 'log_has "deferral: grey@b.example via isp: 4\.7\.1"' "the greylisted message waits"
inst_stop
done_testing
