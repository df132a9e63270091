#!/bin/bash
# mm-pop3fetch with TLS through mm-tls: STLS (RFC 2595) verified against
# a test CA, CAPA said again after it; POP3S (implicit TLS); a pinned
# self-signed server; and the refusals, none of which sends the
# password: a certificate that does not verify, a server without STLS,
# bytes injected after the +OK to STLS (CVE-2011-0411 style).
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
. "$TOOLS/pop3-lib.sh"
has_cmd openssl || skip_all "openssl is not installed"
[ -x "$BUILD/mm-tls" ] || skip_all "no mm-tls in $BUILD"
plan 17

inst_new
remote_setup
C=$T/certs
"$TOOLS/tls-certs" "$C" >/dev/null 2>&1 || bail "tls-certs failed"
no_password() { ! grep -Eq '^(PASS|AUTH|APOP)' "$T/$1.transcript"; }

# 1. STLS, verified by the test CA
pop3_drop s 3
port=$(pop3server s --tls-cert "$C/good.pem" --tls-key "$C/good.key")
account isp s "$port" tls=stls "tlsca=$C/ca.pem"
fetch isp/s
is "$?" 0 "STLS with the test CA: exit 0" || diag "$(cat "$T/fetch.out")"
like "$(cat "$T/fetch.out")" 'isp/s: TLS: TLSv1\.[23] .* verified' "the TLS line: protocol, cipher, verified"
like "$(cat "$T/fetch.out")" 'isp/s: fetch done: new 3 fetched 3 deleted 3' "three messages fetched"
is "$(grep -c '^CAPA' "$T/s.transcript")" 2 "CAPA again after TLS"
is "$(sed -n 2p "$T/s.transcript")" STLS "STLS before anything else"

# 2. POP3S
pop3_drop i 2
port=$(pop3server i --implicit --tls-cert "$C/good.pem" --tls-key "$C/good.key")
account isp i "$port" tls=implicit "tlsca=$C/ca.pem"
fetch isp/i
is "$?" 0 "implicit TLS: exit 0" || diag "$(cat "$T/fetch.out")"
like "$(cat "$T/fetch.out")" 'isp/i: fetch done: new 2 fetched 2 deleted 2' "two messages fetched"

# 3. a self-signed server: refused, then accepted by its pin
pop3_drop p 1
port=$(pop3server p --tls-cert "$C/self.pem" --tls-key "$C/self.key")
account isp p "$port" tls=stls "tlsca=$C/ca.pem"
fetch isp/p
is "$?" 75 "a certificate that does not verify: exit 75"
like "$(cat "$T/fetch.out")" 'isp/p: fetch failed: TLS failed: ' "one line saying TLS failed"
ok 'no_password p' "the password was not sent"
pin=sha256:$(openssl x509 -in "$C/self.pem" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
account isp p "$port" tls=stls tlsca= "tlspin=$pin"
fetch isp/p
like "$(cat "$T/fetch.out")" 'isp/p: fetch done: new 1 fetched 1' "accepted by its public key's pin"

# 4. no STLS offered (tls defaults to stls)
pop3_drop n 1
port=$(pop3server n)
account isp n "$port" tls=
fetch isp/n
like "$(cat "$T/fetch.out")" 'isp/n: fetch failed: the account wants TLS and the server offers no STLS' "no STLS: one line"
ok 'no_password n' "the password was not sent"
is "$(left n)" 1 "nothing fetched"

# 5. injection after the +OK to STLS
pop3_drop j 1
port=$(pop3server j --tls-cert "$C/good.pem" --tls-key "$C/good.key" --fault stls-inject)
account isp j "$port" tls=stls "tlsca=$C/ca.pem"
fetch isp/j
like "$(cat "$T/fetch.out")" 'isp/j: fetch failed: the server sent data after its \+OK to STLS \(injection\?\)' "bytes after the +OK to STLS: the session is dropped"
ok 'no_password j' "the password was not sent"
is "$(left j)" 1 "nothing fetched"
