#!/bin/bash
# mm-pop3fetch against the scripted POP3 server: 100 messages fetched and
# delivered once each and deleted only after their commit; kept messages
# are not fetched again; deleteafter with aged UIDL records; maxsize and
# maxmessages; the login methods; the secret's mode; the lock that keeps
# a second fetch of an account out; the log lines.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
. "$TOOLS/pop3-lib.sh"
plan 45

inst_new
remote_setup

# 1. 100 messages
pop3_drop a 100 2000
pa=$(pop3server a)
account isp box "$pa"
fetch isp
is "$?" 0 "mm-pop3fetch isp exits 0"
is "$(grep -c ': msg uid[0-9]*: queued as [0-9]* size [0-9]* to <alice@' "$T/fetch.out")" 100 "a log line per message with its UIDL and queue id"
like "$(cat "$T/fetch.out")" 'isp/box: fetch done: new 100 fetched 100 deleted 100 kept 0 skipped 0 refused 0 later 0' "a line for the account with the counts"
is "$(left a)" 0 "the maildrop is empty"
is "$(queue_count)" 100 "100 messages are queued"
deliver_all
is "$(delivered | wc -l)" 100 "100 messages are delivered"
is "$(delivered | uniq -d | wc -l)" 0 "none twice"
is "$(delivered | sed 's/Subject: m//' | sort -n | tr '\n' ' ')" "$(seq 1 100 | tr '\n' ' ')" "each of them"
ok 'grep -q "^\.leading dot$" "$(find "$MM_HOME/home/alice/Maildir/new" -type f | head -n 1)"' "dot-stuffing is removed"
fetch isp
like "$(cat "$T/fetch.out")" 'new 0 fetched 0 deleted 0' "a second fetch finds nothing"
is "$(cat "$MM_HOME/pop/isp/box/uidl" | wc -l)" 0 "the deleted messages' records are dropped"
unlike "$(cat "$T/fetch.log" "$MM_HOME/log")" 'secret' "the password is in no log line"
ok '! grep -rqs secret "$MM_HOME/queue"' "nor in the queue"
ok '[ "$(grep -c "^RETR" "$T/a.transcript")" = 100 ]' "each message was retrieved once"

# 2. keep: fetched once, then left alone
pop3_drop k 5
pk=$(pop3server k)
account isp kept "$pk" keep=yes
fetch isp/kept
like "$(cat "$T/fetch.out")" 'new 5 fetched 5 deleted 0 kept 0' "keep: five fetched, none deleted"
is "$(left k)" 5 "they stay on the server"
fetch isp/kept
like "$(cat "$T/fetch.out")" 'new 0 fetched 0 deleted 0 kept 5' "a second fetch keeps them and fetches nothing"
is "$(grep -c '^RETR' "$T/k.transcript")" 5 "no message retrieved twice"
is "$(wc -l < "$MM_HOME/pop/isp/kept/uidl")" 5 "five UIDL records"

# 3. deleteafter: records aged three days go, the others stay
account isp kept "$pk" keep=yes deleteafter=2d
now=$(date +%s)
awk -v old=$((now - 3 * 86400)) 'NR <= 2 { $1 = old } { print }' "$MM_HOME/pop/isp/kept/uidl" > "$T/uidl.aged"
cp "$T/uidl.aged" "$MM_HOME/pop/isp/kept/uidl"
fetch isp/kept
like "$(cat "$T/fetch.out")" 'new 0 fetched 0 deleted 2 kept 3' "deleteafter 2d: the two aged messages are deleted"
is "$(left k)" 3 "three stay on the server"
is "$(sort "$T/k.deleted" | tr '\n' ' ')" "$(head -n 2 "$T/uidl.aged" | cut -d' ' -f2 | sort | tr '\n' ' ')" "the aged ones"
is "$(wc -l < "$MM_HOME/pop/isp/kept/uidl")" 3 "their records are gone"
is "$(grep -c '^RETR' "$T/k.transcript")" 5 "nothing was fetched again"

# 4. maxsize and maxmessages
pop3_drop s 6
head -c 30000 /dev/zero | tr '\0' 'y' | fold -w 60 >> "$T/s.drop/uid00003"
ps=$(pop3server s)
account isp small "$ps" maxsize=10000 maxmessages=3
fetch isp/small
like "$(cat "$T/fetch.out")" 'msg uid00003: skipped: [0-9]+ bytes, more than maxsize; left on the server' "a message over maxsize is skipped with a log line"
like "$(cat "$T/fetch.out")" 'new 6 fetched 3 deleted 3 kept 0 skipped 1 refused 0 later 2' "maxmessages 3: three fetched, two left for later"
fetch isp/small
like "$(cat "$T/fetch.out")" 'new 3 fetched 2 deleted 2 kept 0 skipped 1 refused 0 later 0' "the next fetch takes the other two"
is "$(ls "$T/s.drop")" uid00003 "only the big one is left on the server"

# 5. login methods
pop3_drop l 1
pl=$(pop3server l)
account isp login "$pl" auth=user
fetch isp/login
like "$(cat "$T/fetch.out")" 'fetched 1' "USER/PASS"
ok 'grep -q "^USER" "$T/l.transcript" && ! grep -q "^AUTH" "$T/l.transcript"' "with auth user, USER and PASS are used"
pop3_drop l 1
account isp login "$pl" auth=
fetch isp/login
like "$(cat "$T/fetch.out")" 'fetched 1' "SASL PLAIN by default"
is "$(grep -c '^AUTH' "$T/l.transcript")" 1 "AUTH PLAIN was used"
pop3_drop ap 2
pap=$(pop3server ap --fault apop --fault no-capa)
account isp apop "$pap"
fetch isp/apop
like "$(cat "$T/fetch.out")" 'fetched 2' "a server without CAPA: USER/PASS"
ok '! grep -q "^APOP" "$T/ap.transcript"' "APOP is not used unless the account names it"
pop3_drop ap 1
account isp apop "$pap" auth=apop
fetch isp/apop
like "$(cat "$T/fetch.out")" 'fetched 1' "APOP when the account names it"
ok 'grep -q "^APOP" "$T/ap.transcript"' "APOP was used"

# 6. configuration errors are clear and fetch nothing
pop3_drop c 1
pc=$(pop3server c)
account isp conf "$pc"
chmod 644 "$MM_HOME/control/routes/isp/pop3/conf/secret"
fetch isp/conf
is "$?" 78 "a secret others may read: exit 78"
like "$(cat "$T/fetch.out")" 'the secret file must belong to the user that reads it and be readable by it alone' "saying so"
account isp conf "$pc" tls=
fetch isp/conf
like "$(cat "$T/fetch.out")" 'the account wants TLS and the server offers no STLS' "without tls none it refuses to send the password in the clear"
is "$(left c)" 1 "nothing was fetched"
fetch nosuchroute
is "$?" 64 "an unknown route: exit 64"
account isp conf "$pc" secret=
echo /bin/echo secret > "$MM_HOME/control/routes/isp/pop3/conf/secretcommand"
fetch isp/conf
like "$(cat "$T/fetch.out")" 'isp/conf: fetch done: new 1 fetched 1' "a secret from secretcommand"
pop3_drop c 1
echo /bin/false > "$MM_HOME/control/routes/isp/pop3/conf/secretcommand"
fetch isp/conf
like "$(cat "$T/fetch.out")" 'isp/conf: not fetched: secretcommand:' "a failing secretcommand: a clear line"
is "$(left c)" 1 "and nothing fetched"

# 7. one fetch of an account at a time
pop3_drop st 2
pst=$(pop3server st --fault stall-retr)
account isp stall "$pst" timeout=30
( "$MM_HOME/bin/mm-pop3fetch" isp/stall >"$T/first.out" 2>&1 & echo $! > "$T/first.pid"; wait )  &
wait_until grep -qs '^RETR' "$T/st.transcript"
fetch isp/stall
like "$(cat "$T/fetch.out")" 'another fetch of this account is running' "a second fetch of a locked account says so and leaves"
kill -9 "$(cat "$T/first.pid")"
