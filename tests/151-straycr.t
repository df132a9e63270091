#!/bin/bash
# Stray carriage returns from a local submission (issue 10, item 10):
# mm-queue, which every message passes, turns CRLF into LF and every
# other CR into a space, so that "x<CR>.<CR>MAIL FROM:..." can never
# leave through mm-remote as an end of data and a new command at a
# receiver that takes a bare CR for a line end (RFC 5321 2.3.8). The
# message then goes to a real SMTP server (python3-aiosmtpd) and to a
# local Maildir, and neither gets a CR that ends no line.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
need_aiosmtpd
plan 11

inst_new
remote_setup

me=$(cat "$MM_HOME/control/me")
smuggle() { printf 'From: alice@%s\nTo: bob@b.example\nSubject: %s\n\nx\r.\rMAIL FROM:<evil@attacker.example>\rRCPT TO:<victim@b.example>\rDATA\r\ncrlf line\r\nlast CR\r' "$me" "$1"; }

id=$(smuggle remote | queue_msg -i -f alice@localhost bob@b.example)
ok '[ -n "$id" ]' "a message with bare CRs is accepted (sendmail exit 0)"
qf=$MM_HOME/queue/mess/$id
is "$(tr -cd '\r' < "$qf" | wc -c)" 0 "the queue file holds no CR at all"
like "$(cat "$qf")" '^x \. MAIL FROM:<evil@attacker\.example> RCPT TO:<victim@b\.example> DATA$' "each stray CR became a space: one line, as the sender's program wrote it"
like "$(cat "$qf")" '^crlf line$' "a CRLF line end became LF"
# mm-queue itself, fed directly: a CR at the very end of the message
printf 'Subject: raw\n\nend\r' | "$MM_HOME/bin/mm-queue" 1< <(printf 'Falice@localhost\0Tbob@b.example\0\0')
raw=$(grep -l '^Subject: raw' "$MM_HOME"/queue/mess/*)
tail=$("$PYTHON" -c 'import sys
d = open(sys.argv[1], "rb").read(); n = int(d[4:24])
sys.stdout.write(repr(d[25+n-5:25+n]))' "$raw")
is "$tail" "b'\nend '" "a CR at the very end of the message became a space"
# the length in the header counts what was written, not what was read
env=$("$PYTHON" -c 'import sys
d = open(sys.argv[1], "rb").read(); n = int(d[4:24])
sys.stdout.write(d[25+n:25+n+1].decode())' "$qf")
is "$env" u "the header's length ends where the envelope starts"

# out through mm-remote to a real server: the data has no bare CR
p1=$(smtpserver s1 --pipelining)
route isp smarthost "127.0.0.1:$p1"
res=$(req "$id" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$id bob@b.example K2\.0\.0 " "aiosmtpd accepted the message"
is "$(spool_count s1)" 1 "one message arrived, not two (no smuggled second one)"
is "$(tr -cd '\r' < "$(spool_file s1 1)" | wc -c)" 0 "what arrived holds no bare CR"
like "$(cat "$(spool_file s1 1)")" '^x \. MAIL FROM:<evil@attacker\.example> RCPT TO:' "the line arrived as one line"

# a local delivery gets the same (a foreground queue pass)
smuggle local | sendmail -i bob
sendmail -q >>"$MM_HOME/log" 2>&1
ok '[ "$(maildir_grep bob "^Subject: local" | xargs cat | tr -cd "\r" | wc -c)" = 0 ]' "the local mailbox gets no CR either"
