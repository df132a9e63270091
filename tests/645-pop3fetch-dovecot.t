#!/bin/bash
# mm-pop3fetch against a real POP3 server, Debian's dovecot-pop3d (as
# root, with a private configuration on a loopback port): 100 messages
# fetched with PIPELINING and SASL PLAIN and delivered once each, removed
# from the server; kept messages are not fetched again; delete after N
# days with aged UIDL records; USER/PASS; a wrong password.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
. "$TOOLS/pop3-lib.sh"
. "$TOOLS/dovecot-lib.sh"
need_dovecot
plan 17

inst_new
remote_setup
dovecot_start alice secret
account isp dc "$DOVECOT_PORT"

dovecot_put 100 3000
fetch isp/dc
is "$?" 0 "mm-pop3fetch against dovecot exits 0" || diag "$(cat "$T/fetch.out")"
like "$(cat "$T/fetch.out")" 'isp/dc: fetch done: new 100 fetched 100 deleted 100 kept 0 skipped 0 refused 0 later 0' "100 fetched and deleted"
is "$(dovecot_count)" 0 "dovecot's maildrop is empty"
unlike "$(cat "$T/fetch.out")" 'note: LIST said' "dovecot's LIST sizes match what came"
deliver_all
ids=$(find "$MM_HOME/home/alice/Maildir/new" -type f -exec grep -ah '^Message-ID:' {} +)
is "$(printf '%s\n' "$ids" | grep -c dovecot.test)" 100 "100 delivered"
is "$(printf '%s\n' "$ids" | sort -u | wc -l)" 100 "each once"
ok 'grep -q "^\.leading dot$" "$(find "$MM_HOME/home/alice/Maildir/new" -type f | head -n 1)"' "dot-stuffing is undone"
fetch isp/dc
like "$(cat "$T/fetch.out")" 'new 0 fetched 0 deleted 0' "a second fetch finds nothing"

# keep, then deleteafter with aged records
account isp dc "$DOVECOT_PORT" keep=yes auth=user
dovecot_put 4
fetch isp/dc
like "$(cat "$T/fetch.out")" 'new 4 fetched 4 deleted 0 kept 0' "keep (USER/PASS): four fetched, none deleted"
fetch isp/dc
like "$(cat "$T/fetch.out")" 'new 0 fetched 0 deleted 0 kept 4' "kept ones are not fetched again"
is "$(dovecot_count)" 4 "they stay on dovecot"
account isp dc "$DOVECOT_PORT" keep=yes deleteafter=1d auth=
awk -v old=$(($(date +%s) - 2 * 86400)) 'NR == 1 || NR == 3 { $1 = old } { print }' "$MM_HOME/pop/isp/dc/uidl" > "$T/aged"
cp "$T/aged" "$MM_HOME/pop/isp/dc/uidl"
fetch isp/dc
like "$(cat "$T/fetch.out")" 'new 0 fetched 0 deleted 2 kept 2' "deleteafter 1d: the two aged ones are deleted"
is "$(dovecot_count)" 2 "two stay on dovecot"
deliver_all
is "$(find "$MM_HOME/home/alice/Maildir/new" -type f | wc -l)" 104 "104 delivered in all, none twice"

# a wrong password
account isp dc "$DOVECOT_PORT" keep=
echo wrong > "$MM_HOME/control/routes/isp/pop3/dc/secret"
fetch isp/dc
is "$?" 75 "a wrong password: exit 75"
like "$(cat "$T/fetch.out")" 'isp/dc: fetch failed: login refused \(AUTH PLAIN\): .*: new 0' "one line with dovecot's words"
is "$(dovecot_count)" 2 "nothing deleted"
