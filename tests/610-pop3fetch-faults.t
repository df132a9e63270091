#!/bin/bash
# mm-pop3fetch and a misbehaving POP3 server (tests/tools/pop3server
# --fault): a drop in the middle of a RETR, lying LIST sizes, duplicate
# UIDLs, bare LFs, a NUL, a 10 MB line, garbage, a stall, a wrong
# password, no UIDL, refused DELEs and QUIT; a message mm-queue refuses
# for good (NUL, too big). Each gets one clear log line, and nothing is
# lost: every message is on the server or delivered, none twice.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
. "$TOOLS/pop3-lib.sh"
plan 48

inst_new
remote_setup

# a fresh maildrop of N messages and a server with the fault
setup() {  # NAME N FAULT...
  local name=$1 n=$2; shift 2
  pop3_drop "$name" "$n"
  port=$(pop3server "$name" "${@/#/--fault=}")
  account isp "$name" "$port" timeout=3
}
# the same maildrop served without faults: the clean fetch after one
clean() {
  port=$(pop3server "$1")
  account isp "$1" "$port"
  fetch "isp/$1"
}
failed_with() { grep -c "isp/$1: fetch failed: $2" "$T/fetch.out"; }
nothing_deleted() { [ ! -s "$T/$1.deleted" ] && [ "$(left "$1")" = "$2" ]; }
echo 0 > "$T/base"
count_new() {  # messages delivered since the last call, and none twice
  deliver_all
  local total dups base
  base=$(cat "$T/base")
  total=$(delivered | wc -l)
  dups=$(find "$MM_HOME/home/alice/Maildir/new" -type f -exec grep -h '^Message-ID:' {} + | sort | uniq -d | wc -l)
  echo "$((total - base)) $dups"
  echo "$total" > "$T/base"
}

# 1. the connection drops in the middle of the second RETR
setup drop 4 drop-retr
fetch isp/drop
is "$?" 75 "a dropped connection: exit 75"
is "$(failed_with drop 'connection lost in the middle of a message')" 1 "one line: connection lost in the middle of a message"
like "$(cat "$T/fetch.out")" 'fetched 1 deleted 0' "the first message was queued, nothing deleted"
ok 'nothing_deleted drop 4' "the server still has all four"
clean drop
like "$(cat "$T/fetch.out")" 'new 3 fetched 3 deleted 4 kept 0' "the clean fetch deletes the queued one without fetching it again"
is "$(count_new)" "4 0" "four delivered, none twice"

# 2. LIST lies about the sizes
setup lie 3 lie-list
fetch isp/lie
is "$?" 0 "lying LIST sizes: exit 0"
is "$(grep -c 'note: LIST said 1 bytes, the message has' "$T/fetch.out")" 3 "a note for each message"
is "$(count_new)" "3 0" "all three delivered once"

# 3. two messages with one UIDL
setup dup 3 dup-uidl
fetch isp/dup
is "$(failed_with dup 'the server listed one UIDL for two messages: uid00001')" 1 "duplicate UIDLs: one line naming it"
ok 'nothing_deleted dup 3' "nothing fetched or deleted"
is "$(queue_count)" 0 "nothing queued"

# 4. bare LFs everywhere
setup lf 3 barelf
fetch isp/lf
is "$?" 0 "bare LF line ends: exit 0"
is "$(count_new)" "3 0" "all three delivered once"
ok 'grep -q "^message 1$" $(grep -l "^Subject: m1$" "$MM_HOME"/home/alice/Maildir/new/*)' "with their text intact"

# 5. a reply line of 10 MB
setup long 2 longline
fetch isp/long
is "$(failed_with long 'the server sent a line of more than 512 bytes')" 1 "a 10 MB line: one line saying so"
ok 'nothing_deleted long 2' "nothing deleted"

# 6. garbage
setup garb 2 garbage
fetch isp/garb
is "$(failed_with garb 'the server answered neither +OK nor -ERR: "HELLO"')" 1 "garbage: one line quoting it"
ok 'nothing_deleted garb 2' "nothing deleted"

# 7. a NUL in a reply
setup nul 2 nul-status
fetch isp/nul
is "$(failed_with nul 'the server sent a NUL byte')" 1 "a NUL in a status line: one line saying so"
ok 'nothing_deleted nul 2' "nothing deleted"

# 8. a stall in the middle of a message
setup stall 2 stall-retr
fetch isp/stall
is "$?" 75 "a stalled server: exit 75"
is "$(failed_with stall 'timed out in the middle of a message')" 1 "one line: timed out"
ok 'nothing_deleted stall 2' "nothing deleted"
is "$(queue_count)" 0 "nothing half-fetched is queued"

# 9. a wrong password
pop3_drop pw 2
port=$(pop3server pw --password other)
account isp pw "$port"
fetch isp/pw
is "$?" 75 "a wrong password: exit 75"
is "$(failed_with pw 'login refused (AUTH PLAIN): \[AUTH\] authentication failed')" 1 "one line with the server's words"
ok 'nothing_deleted pw 2' "nothing deleted"

# 10. no UIDL
setup nouidl 2 no-uidl
fetch isp/nouidl
is "$(failed_with nouidl 'the server has no UIDL command')" 1 "no UIDL: a clear error"
ok 'nothing_deleted nouidl 2' "nothing fetched or deleted"

# 11. QUIT refused: nothing is removed, and the next fetch deletes
#     the queued messages without fetching them again
setup quit 3 quit-err
fetch isp/quit
is "$(failed_with quit 'QUIT refused, so nothing was deleted')" 1 "QUIT refused: one line"
ok 'nothing_deleted quit 3' "the server kept everything"
clean quit
like "$(cat "$T/fetch.out")" 'new 0 fetched 0 deleted 3' "the next fetch only deletes"
is "$(count_new)" "3 0" "three delivered once"

# 12. DELE refused
setup dele 2 dele-err
fetch isp/dele
like "$(cat "$T/fetch.out")" 'msg uid00001: DELE refused: not today; left on the server' "a refused DELE: a line for the message"
like "$(cat "$T/fetch.out")" 'fetched 2 deleted 0' "counted as not deleted"
clean dele
like "$(cat "$T/fetch.out")" 'new 0 fetched 0 deleted 2' "the next fetch deletes them"
is "$(count_new)" "2 0" "two delivered once"

# 13. a message with a NUL byte stays on the server, the others come
pop3_drop bodynul 3
printf 'Subject: nul\n\na\0b\n' > "$T/bodynul.drop/uid00002"
port=$(pop3server bodynul)
account isp bodynul "$port"
fetch isp/bodynul
is "$?" 0 "a message with a NUL: exit 0"
like "$(cat "$T/fetch.out")" 'msg uid00002: refused: the message contains a NUL byte \(#5.6.0\); left on the server' "it is refused with a line"
like "$(cat "$T/fetch.out")" 'new 3 fetched 2 deleted 2 kept 0 skipped 0 refused 1' "the others are fetched and deleted"
is "$(ls "$T/bodynul.drop")" uid00002 "it stays on the server"
is "$(count_new)" "2 0" "two delivered once"

# 14. a message too big for the queue (control/databytes)
pop3_drop big 3
head -c 20000 /dev/zero | tr '\0' 'z' | fold -w 60 >> "$T/big.drop/uid00001"
echo 10000 > "$MM_HOME/control/databytes"
port=$(pop3server big)
account isp big "$port"
fetch isp/big
rm "$MM_HOME/control/databytes"
like "$(cat "$T/fetch.out")" 'msg uid00001: refused: message or envelope refused by mm-queue \(#5.6.0\); left on the server' "a message over databytes is refused with a line"
like "$(cat "$T/fetch.out")" 'message too big' "mm-queue says why"
like "$(cat "$T/fetch.out")" 'fetched 2 deleted 2 kept 0 skipped 0 refused 1' "the others are fetched"
is "$(ls "$T/big.drop")" uid00001 "it stays on the server"
is "$(count_new)" "2 0" "two delivered once"
