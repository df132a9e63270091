#!/bin/bash
# mm-smtpd's CHUNKING (BDAT, RFC 3030), pipelined: chunks are taken by
# byte count, without dot-stuffing, a CRLF may be split between chunks,
# BDAT 0 LAST, and a failed or misplaced chunk is read and thrown away so
# that its bytes are never taken as commands. swaks has no BDAT, so the
# client is a pipelined byte stream on mm-smtpd's standard input (as in
# sendmail -bs).
. "$(dirname "$0")/lib.sh"
plan 26

inst_new
ME=$(cat "$MM_HOME/control/me")
SMTPD=$MM_HOME/bin/mm-smtpd

raw() { printf '%b' "$1" | MM_SMTPD_LOCAL=1 "$SMTPD" 2>"$T/raw.log" | tr -d '\r'; }
# BDAT for exact bytes (given with printf %b escapes): "BDAT n[ LAST]\r\n" + bytes
bdat() { local b; b=$(printf '%b' "$1" | wc -c); printf 'BDAT %s%s\\r\\n%s' "$b" "${2:+ $2}" "$1"; }
qid() { printf '%s\n' "$1" | sed -n 's/^250 2\.0\.0 ok: queued as \([0-9]*\)$/\1/p' | head -n 1; }
# the message part of a queue file: after the 25-byte header, up to the envelope
body_of() { tail -c +26 "$MM_HOME/queue/mess/$1" | sed '/^u[0-9]*$/,$d'; }

HEAD="EHLO c\r\nMAIL FROM:<bob@$ME>\r\nRCPT TO:<alice@$ME>\r\n"

out=$(raw "$HEAD$(bdat 'Subject: one chunk\r\n\r\n.leading dot stays\r\n' LAST)QUIT\r\n")
like "$out" '^250 2\.0\.0 ok: queued as [0-9]+$' "BDAT LAST: queued"
id=$(qid "$out")
m=$(body_of "$id")
like "$m" '^Subject: one chunk$' "the header is there"
like "$m" '^\.leading dot stays$' "no dot-unstuffing in BDAT"
is "$(printf '%s' "$m" | grep -c $'\r')" 0 "CRLF became LF"
like "$(cat "$T/raw.log")" "accepted msg $id from <bob@$ME> rcpts 1 size" "log: accepted msg"

out=$(raw "$HEAD$(bdat 'Subject: three\r')$(bdat '\n\r\nfirst line\r\nsecond ')$(bdat 'half\r\n' LAST)QUIT\r\n")
is "$(printf '%s\n' "$out" | grep -Ec '^250 2\.0\.0 [0-9]+ octets received$')" 2 "each middle chunk: 250 with its size"
id=$(qid "$out")
m=$(body_of "$id")
like "$m" '^Subject: three$' "a CRLF split between chunks is one line end"
like "$m" '^second half$' "a line split between chunks is joined"
is "$(printf '%s\n' "$m" | grep -c '^$')" 1 "and no empty line was made up"

out=$(raw "$HEAD$(bdat 'Subject: zero\r\n\r\nbody\r\n')BDAT 0 LAST\r\nQUIT\r\n")
like "$out" '^250 2\.0\.0 ok: queued as' "BDAT 0 LAST ends the message"

out=$(raw "$HEAD$(bdat 'Subject: no final CRLF\r\n\r\nlast line' LAST)QUIT\r\n")
id=$(qid "$out")
is "$(body_of "$id" | tail -n 1)" "last line" "a last line without CRLF is kept"

# two transactions in one session, both chunked
out=$(raw "$HEAD$(bdat 'Subject: a\r\n\r\na\r\n' LAST)MAIL FROM:<bob@$ME>\r\nRCPT TO:<bob@$ME>\r\n$(bdat 'Subject: b\r\n\r\nb\r\n' LAST)QUIT\r\n")
is "$(printf '%s\n' "$out" | grep -c '^250 2\.0\.0 ok: queued as')" 2 "two chunked transactions in one pipelined session"

# misplaced chunks: answered 503, their bytes swallowed
out=$(raw "EHLO c\r\n$(bdat 'NOOP\r\n' LAST)QUIT\r\n")
like "$out" '^503 5\.5\.1 send MAIL first$' "BDAT without MAIL: 503"
unlike "$out" '^250 2\.0\.0 ok$' "its bytes were not run as a command"
out=$(raw "EHLO c\r\nMAIL FROM:<bob@$ME>\r\n$(bdat 'RSET\r\n' LAST)QUIT\r\n")
like "$out" '^503 5\.5\.1 no valid recipients$' "BDAT without RCPT: 503"
out=$(raw "$HEAD$(bdat 'Subject: x\r\n\r\n')DATA\r\nQUIT\r\n")
like "$out" '^503 5\.5\.1 DATA in a BDAT transaction$' "DATA after BDAT: 503"

# a bad chunk ends the transaction; the chunks after it are swallowed
before=$(queue_count)
out=$(raw "$HEAD$(bdat 'Subject: bare\n\nLF\n')$(bdat 'NOOP\r\n' LAST)QUIT\r\n")
like "$out" '^554 5\.6\.0 message refused: bare LF' "a chunk with bare LFs: 554 5.6.0"
like "$out" '^503 5\.5\.1 send MAIL first$' "the next chunk of the failed transaction: 503"
unlike "$out" '^250 2\.0\.0 ok$' "and its bytes were not run"
is "$(queue_count)" "$before" "nothing queued"

echo 100 >"$MM_HOME/control/databytes"
out=$(raw "$HEAD$(bdat "Subject: big\r\n\r\n$(head -c 200 /dev/zero | tr '\0' x)\r\n" LAST)QUIT\r\n")
like "$out" '^552 5\.3\.4 message refused: too big' "BDAT over control/databytes: 552 5.3.4"
rm "$MM_HOME/control/databytes"

echo 2 >"$MM_HOME/control/maxhops"
out=$(raw "$HEAD$(bdat 'Received: a\r\nReceived: b\r\nDelivered-To: c\r\n\r\nx\r\n' LAST)QUIT\r\n")
like "$out" '^554 5\.4\.6 ' "the hop limit applies to BDAT too"
rm "$MM_HOME/control/maxhops"

# a BDAT without a size cannot be skipped: the session ends
out=$(raw "$HEAD""BDAT lots\r\nQUIT\r\n")
like "$out" "^554 5\\.5\\.4 $ME bad BDAT syntax, closing connection" "BDAT without a size: 554 5.5.4 and close"
unlike "$out" '^221 ' "nothing is read after it"
out=$(raw "$HEAD""BDAT 4 FIRST\r\nabcdQUIT\r\n")
like "$out" '^554 5\.5\.4 ' "BDAT with a bad keyword: 554 5.5.4"

# a client that stops in the middle of a chunk
echo 1 >"$MM_HOME/control/smtpdtimeout"
out=$( { printf "EHLO c\r\nMAIL FROM:<bob@$ME>\r\nRCPT TO:<alice@$ME>\r\nBDAT 100 LAST\r\nonly a few bytes"; sleep 4; } | MM_SMTPD_LOCAL=1 "$SMTPD" 2>/dev/null | tr -d '\r')
like "$out" '^421 4\.4\.2 .*timeout' "a stalled chunk: 421 4.4.2"
rm "$MM_HOME/control/smtpdtimeout"
