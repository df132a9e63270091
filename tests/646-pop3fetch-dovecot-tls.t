#!/bin/bash
# mm-pop3fetch against dovecot-pop3d with TLS through mm-tls (as root,
# a private configuration with a certificate of a test CA): STLS, then
# POP3S, both verified; a certificate that does not lead to the CA of
# tlsca is refused, and nothing is deleted.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
. "$TOOLS/pop3-lib.sh"
. "$TOOLS/dovecot-lib.sh"
need_dovecot
has_cmd openssl || skip_all "openssl is not installed"
[ -x "$BUILD/mm-tls" ] || skip_all "no mm-tls in $BUILD"
plan 9

inst_new
remote_setup
C=$T/certs
"$TOOLS/tls-certs" "$C" >/dev/null 2>&1 || bail "tls-certs failed"
dovecot_start alice secret "$C/good.pem" "$C/good.key"

dovecot_put 20 3000
account isp dc "$DOVECOT_PORT" tls=stls "tlsca=$C/ca.pem"
fetch isp/dc
is "$?" 0 "STLS to dovecot: exit 0" || diag "$(cat "$T/fetch.out")"
like "$(cat "$T/fetch.out")" 'isp/dc: TLS: TLSv1\.[23] .* verified' "verified against the test CA"
like "$(cat "$T/fetch.out")" 'isp/dc: fetch done: new 20 fetched 20 deleted 20' "20 messages fetched and deleted"

dovecot_put 5
account isp dc "$DOVECOT_PORT_S" tls=implicit "tlsca=$C/ca.pem"
fetch isp/dc
is "$?" 0 "POP3S to dovecot: exit 0" || diag "$(cat "$T/fetch.out")"
like "$(cat "$T/fetch.out")" 'isp/dc: fetch done: new 5 fetched 5 deleted 5' "5 messages fetched and deleted"
deliver_all
is "$(find "$MM_HOME/home/alice/Maildir/new" -type f | wc -l)" 25 "25 delivered"

# a CA file that does not hold the server's issuer
dovecot_put 2
"$TOOLS/tls-certs" "$T/other" >/dev/null 2>&1 || bail "tls-certs failed"
account isp dc "$DOVECOT_PORT" tls=stls "tlsca=$T/other/ca.pem"
fetch isp/dc
is "$?" 75 "a certificate of another CA: exit 75"
like "$(cat "$T/fetch.out")" 'isp/dc: fetch failed: TLS failed: ' "one line saying TLS failed"
is "$(dovecot_count)" 2 "nothing deleted"
