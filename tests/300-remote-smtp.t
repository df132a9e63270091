#!/bin/bash
# mm-remote against real servers: mm-smtpd of another private instance
# (PIPELINING and CHUNKING) and python3-aiosmtpd (DATA, with and without
# PIPELINING). Several messages over one connection, per-recipient
# results, dots, 8-bit bodies, SIZE, a recipient that fails for now and
# is sent alone later. mm-remote is fed requests the way mm-send does
# (INTERNALS 8.3).
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
has_cmd tcpserver || skip_all "tcpserver (ucspi-tcp) is not installed"
need_aiosmtpd
plan 30

inst_new
remote_setup

body() { printf 'From: Alice <alice@%s>\nTo: bob@b.example\nSubject: %s\n\nline one\n.starts with a dot\n..two dots\n.\nlast line\n' "$(cat "$MM_HOME/control/me")" "$1"; }

m1=$(body one | queue_msg -i -f alice@localhost bob@b.example carol@b.example)
m2=$(body two | queue_msg -i -f alice@localhost bob@b.example)
m3=$(printf 'Subject: no final newline\n\nlast line without newline' | queue_msg -f alice@localhost bob@b.example)
ok '[ -n "$m1" ] && [ -n "$m2" ] && [ -n "$m3" ]' "three messages queued"

# 1. mm-smtpd: CHUNKING
port=$(mmsmtpd b)
route isp smarthost "127.0.0.1:$port"
res=$( { req "$m1" alice@localhost bob@b.example carol@b.example; req "$m2" alice@localhost bob@b.example; req "$m3" alice@localhost bob@b.example; } | remote isp 127.0.0.1)
is "$(echo "$res" | grep -c ' K2\.0\.0 ')" 4 "four recipients accepted"
like "$res" "^$m1 carol@b.example K2.0.0 127.0.0.1\[127.0.0.1\] said: 250 " "the result names the host and carries the server's reply"
is "$(b_count)" 3 "the other instance queued three messages"
ok 'grep -q "connected, ESMTP PIPELINING CHUNKING" "$T/remote.log"' "mm-remote saw PIPELINING and CHUNKING"
is "$(grep -c 'mm-remote: isp 127.0.0.1\[127.0.0.1\]: connected' "$T/remote.log")" 1 "all over one connection"
# the message arrives as it was queued (after the receiving side's Received lines)
message_of() {  # QUEUEFILE: the message from its From: line on
  "$PY" -c 'import sys
d=open(sys.argv[1],"rb").read(); n=int(d[4:24]); m=d[25:25+n]
sys.stdout.buffer.write(m[m.index(b"From: Alice"):] if b"From: Alice" in m else b"")' "$1"
}
sent1=$(message_of "$MM_HOME/queue/mess/$m1")
like "$sent1" '^\.$' "the queued message has a line with a single dot"
got=$(for f in "$T"/b/queue/mess/*; do grep -q '^Subject: one' "$f" && message_of "$f"; done)
is "$got" "$sent1" "the message is intact, dots and all, through BDAT"
ok 'grep -rq "last line without newline" "$T"/b/queue/mess/' "a message without a final newline is sent whole"

# 2. aiosmtpd with PIPELINING: DATA and dot-stuffing
p1=$(smtpserver s1 --pipelining)
route isp smarthost "127.0.0.1:$p1"
res=$( { req "$m1" alice@localhost bob@b.example carol@b.example; req "$m2" alice@localhost bob@b.example; } | remote isp 127.0.0.1)
is "$(echo "$res" | grep -c ' K2\.0\.0 ')" 3 "aiosmtpd: three recipients accepted"
is "$(spool_count s1)" 2 "aiosmtpd got two messages"
f=$(grep -l '^Subject: one' "$T"/s1.spool/* | head -n 1)
is "$(sed -n '/^From: Alice/,$p' "$f")" "$sent1" "the DATA transfer undoes to the same text"
is "$(head -n 3 "$f")" "from alice@localhost
to bob@b.example
to carol@b.example" "the envelope: sender and both recipients in one transaction"

# 3. without PIPELINING: one command at a time, same results
p2=$(smtpserver s2)
route isp smarthost "127.0.0.1:$p2"
res=$(req "$m1" alice@localhost bob@b.example carol@b.example | remote isp 127.0.0.1)
is "$(echo "$res" | grep -c ' K')" 2 "without PIPELINING both recipients are accepted"
is "$(spool_count s2)" 1 "and the server has the message"

# an old server: EHLO refused, HELO, no extensions
p8=$(smtpserver s8 --no-ehlo)
route isp smarthost "127.0.0.1:$p8"
: > "$T/remote.log"
res=$(req "$m2" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m2 bob@b.example K" "a server that refuses EHLO gets HELO and the message"
like "$(cat "$T/remote.log")" "connected, SMTP$" "plain SMTP, no extensions"

# 4. one recipient deferred, the other delivered; later only the deferred one
p3=$(smtpserver s3 --pipelining --rcpt-reply "carol@b.example=450 4.2.1 mailbox busy")
route isp smarthost "127.0.0.1:$p3"
res=$(req "$m1" alice@localhost bob@b.example carol@b.example | remote isp 127.0.0.1)
like "$res" "^$m1 bob@b.example K" "bob is accepted"
like "$res" "^$m1 carol@b.example Z4\.2\.1 127.0.0.1\[127.0.0.1\] said: 450 4\.2\.1 mailbox busy" "carol is deferred with the server's text"
p4=$(smtpserver s4 --pipelining)
route isp smarthost "127.0.0.1:$p4"
res=$(req "$m1" alice@localhost carol@b.example | remote isp 127.0.0.1)
like "$res" "^$m1 carol@b.example K" "the second try sends carol alone"
is "$(grep -c '^to ' "$T/s4.spool/1")" 1 "with carol only as recipient"

# 5. permanent failures: a refused recipient, a refused message
p5=$(smtpserver s5 --pipelining --rcpt-reply "nobody@b.example=550 5.1.1 no such user")
route isp smarthost "127.0.0.1:$p5"
res=$(req "$m2" alice@localhost nobody@b.example bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m2 nobody@b.example D5\.1\.1 .*550 5\.1\.1 no such user" "a 550 is a permanent failure with the server's text"
like "$res" "^$m2 bob@b.example K" "and does not stop the other recipient"
p6=$(smtpserver s6 --pipelining --data-reply "554 5.7.1 message refused")
route isp smarthost "127.0.0.1:$p6"
res=$(req "$m2" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m2 bob@b.example D5\.7\.1 .*554 5\.7\.1 message refused" "a refused end of data is permanent"

# 6. SIZE: too big is refused before sending
p7=$(smtpserver s7 --pipelining --size 100)
route isp smarthost "127.0.0.1:$p7"
res=$(req "$m2" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m2 bob@b.example D5\.3\.4 message too big" "a message over the server's SIZE fails with 5.3.4"
is "$(spool_count s7)" 0 "and was not sent"

# 7. 8-bit body: BODY=8BITMIME where offered
m4=$(printf 'Subject: 8bit\nContent-Type: text/plain; charset=utf-8\n\ncaf\303\251\n' | queue_msg -f alice@localhost bob@b.example)
route isp smarthost "127.0.0.1:$port"
res=$(req "$m4" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m4 bob@b.example K" "an 8-bit message is accepted"
ok 'grep -rq "caf" "$T"/b/queue/mess/' "and arrives"

# 8. nothing to do: no connection
: > "$T/remote.log"
res=$(printf '' | remote isp 127.0.0.1)
is "$res" "" "no requests, no results"
unlike "$(cat "$T/remote.log")" "connected" "and no connection"
