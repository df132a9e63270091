#!/bin/bash
# mm-remote with TLS through mm-tls, against python3-aiosmtpd with a test
# CA and certificates made by openssl: STARTTLS (required and
# opportunistic), implicit TLS, AUTH only over TLS, every bad certificate
# a temporary failure that names its cause, pins, a server that injects
# plaintext after its 220 to STARTTLS, a starttls route whose server
# offers no STARTTLS, and mm-remote -i showing what a server presents.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
need_aiosmtpd
has_cmd openssl || skip_all "openssl is not installed"
[ -x "$BUILD/mm-tls" ] || skip_all "mm-tls is not built (libtls-dev missing)"
plan 56

inst_new
remote_setup
C=$T/certs
"$TOOLS/tls-certs" "$C" || bail "tls-certs failed"
m=$(printf 'Subject: tls\n\nhello over TLS\n' | queue_msg -f alice@localhost bob@b.example)

# send M with route isp; the results on stdout, the log of this run in $T/run.log
send() { : > "$T/remote.log"; req "$m" alice@localhost bob@b.example | remote isp 127.0.0.1; cp "$T/remote.log" "$T/run.log"; }
fresh_route() { rm -rf "$MM_HOME/control/routes/isp"; route isp smarthost "127.0.0.1:$1"; }

# STARTTLS required, verified against the test CA
port=$(smtpserver good --pipelining --tls-cert "$C/good.pem" --tls-key "$C/good.key" --transcript "$T/good.tr")
fresh_route "$port"
route isp tls starttls
route isp tlsca "$C/ca.pem"
res=$(send)
like "$res" "^$m bob@b.example K" "STARTTLS with a certificate from the CA: accepted"
is "$(spool_count good)" 1 "the server has the message"
like "$(cat "$T/run.log")" "TLS: TLSv1\.[23] [A-Z0-9_-]+ verified sha256:[0-9a-f]{64} sha256:[0-9a-f]{64}" "mm-tls's report is logged: protocol, cipher, verified, pins"
like "$res" "127\.0\.0\.1\[127\.0\.0\.1\] \(TLSv1\.[23] [A-Z0-9_-]+\) said: 250" "the delivery's result names protocol and cipher"
is "$(grep -c '^C: EHLO' "$T/good.tr")" 2 "EHLO again after STARTTLS (capabilities forgotten)"
is "$(grep '^C: ' "$T/good.tr" | head -n 3 | sed 's/ .*//' | tr '\n' ' ')" "C: C: C: " "three commands before the mail"
is "$(grep '^C: ' "$T/good.tr" | head -n 3 | awk '{print $2}' | tr '\n' ' ')" "EHLO STARTTLS EHLO " "EHLO, STARTTLS, EHLO"

# the system trust store does not know the test CA
rm -f "$MM_HOME/control/routes/isp/tlsca"
res=$(send)
like "$res" "^$m bob@b.example Z4\.7\.5 TLS failed with 127\.0\.0\.1\[127\.0\.0\.1\]: TLS handshake failed: certificate verification failed: unable to get local issuer certificate" "a CA the system does not trust: temporary, the cause named"
like "$(cat "$T/run.log")" "error: 4\.7\.5 TLS failed .*unable to get local issuer" "and logged"
ok '[ -f "$MM_HOME/queue/mess/$m" ]' "the message is still queued"

# expired, wrong name, self-signed: each a temporary failure naming the cause
for c in expired:"certificate has expired" wrong:"name .127\.0\.0\.1. not present in server certificate" self:"self.signed certificate"; do
  name=${c%%:*} why=${c#*:}
  port=$(smtpserver "$name" --pipelining --tls-cert "$C/$name.pem" --tls-key "$C/$name.key")
  fresh_route "$port"; route isp tls starttls; route isp tlsca "$C/ca.pem"
  res=$(send)
  like "$res" "^$m bob@b.example Z4\.7\.5 TLS failed .*$why" "$name certificate: temporary failure: $why"
  is "$(spool_count "$name")" 0 "$name certificate: nothing delivered"
done

# the whole path: a queue run through the route, and mailq shows why the mail waits
port=$(cat "$T/expired.port")
fresh_route "$port"; route isp tls starttls; route isp tlsca "$C/ca.pem"; route isp permanent
sendmail -qo isp >"$T/qo.out" 2>&1
like "$("$MM_HOME/bin/mailq" 2>&1)" "4\.7\.5 TLS failed .*certificate has expired" "a queue run: mailq shows the TLS failure as the reason the mail waits"
ok '[ -f "$MM_HOME/queue/mess/$m" ]' "nothing bounced: the message is still queued"

# pins: the self-signed server accepted by its key's or its certificate's pin
keypin=$(openssl x509 -in "$C/self.pem" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
certpin=$(openssl x509 -in "$C/self.pem" -outform DER | sha256sum | cut -c1-64)
port=$(cat "$T/self.port")
fresh_route "$port"; route isp tls starttls
route isp tlspin "sha256:$keypin"
res=$(send)
like "$res" "^$m bob@b.example K" "a public key pin accepts the self-signed server"
like "$(cat "$T/run.log")" "TLS: .* pinned sha256:$certpin sha256:$keypin" "reported as pinned, with both pins"
route isp tlspin "$certpin"
res=$(send)
like "$res" "^$m bob@b.example K" "a certificate pin accepts it too"
route isp tlspin "sha256:$(printf '%064d' 0)"
res=$(send)
like "$res" "^$m bob@b.example Z4\.7\.5 TLS failed .*no pin matches the server certificate: certificate sha256:$certpin key sha256:$keypin" "a wrong pin refuses it and says what the server has"
is "$(spool_count self)" 2 "the self-signed server got the two pinned deliveries only"
route isp tlspin "not-a-pin"
res=$(send)
like "$res" "^$m bob@b.example Z4\.3\.5 tlspin" "a malformed pin is a configuration error"

# require_starttls and AUTH: AUTH goes over TLS
port=$(smtpserver auth --pipelining --tls-cert "$C/good.pem" --tls-key "$C/good.key" --require-starttls --auth PLAIN --user joe --password 'open sesame' --transcript "$T/auth.tr")
fresh_route "$port"; route isp tls starttls; route isp tlsca "$C/ca.pem"
route isp authmech PLAIN; route isp authuser joe; route isp authsecret 'open sesame'
chmod 600 "$MM_HOME/control/routes/isp/authsecret"
res=$(send)
like "$res" "^$m bob@b.example K" "require_starttls and AUTH PLAIN: accepted"
is "$(grep '^auth ' "$T/auth.spool/1" 2>/dev/null)" "auth joe" "authenticated over TLS"
is "$(grep '^C: ' "$T/auth.tr" | awk '{print $2}' | head -n 4 | tr '\n' ' ')" "EHLO STARTTLS EHLO AUTH " "AUTH only after STARTTLS and the second EHLO"

# opportunistic (no tls file) and AUTH, server without STARTTLS: the secret stays home
port=$(smtpserver clear --pipelining --auth PLAIN --user joe --password 'open sesame' --transcript "$T/clear.tr")
fresh_route "$port"
route isp authmech PLAIN; route isp authuser joe; route isp authsecret 'open sesame'
chmod 600 "$MM_HOME/control/routes/isp/authsecret"
res=$(send)
like "$res" "^$m bob@b.example Z4\.7\.0 not sending the AUTH secret over a connection that is not encrypted" "no STARTTLS: AUTH is not sent in clear, temporary failure"
unlike "$(cat "$T/clear.tr")" "^C: AUTH" "the server never saw AUTH"

# a starttls route whose server offers no STARTTLS: nothing in clear
port=$(smtpserver nostarttls --pipelining --transcript "$T/nostarttls.tr")
fresh_route "$port"; route isp tls starttls
res=$(send)
like "$res" "^$m bob@b.example Z4\.7\.0 the route requires TLS and the server offers no STARTTLS" "no STARTTLS offered: temporary failure, named"
is "$(grep '^C: ' "$T/nostarttls.tr" | awk '{print $2}' | grep -v '^EHLO$\|^QUIT$' | wc -l)" 0 "no command but EHLO went out"
is "$(spool_count nostarttls)" 0 "nothing delivered"
ok '[ -f "$MM_HOME/queue/mess/$m" ]' "the mail waits in the queue"

# plaintext injected after the 220 to STARTTLS (CVE-2011-0411): abort
port=$(smtpserver inject --pipelining --tls-cert "$C/good.pem" --tls-key "$C/good.key" --inject-after-starttls --transcript "$T/inject.tr")
fresh_route "$port"; route isp tls starttls; route isp tlsca "$C/ca.pem"
res=$(send)
like "$res" "^$m bob@b.example Z4\.7\.0 the server sent data after its 220 to STARTTLS" "bytes after the 220 to STARTTLS: the connection is aborted"
unlike "$(cat "$T/inject.tr")" "^C: (MAIL|RCPT|DATA)" "no MAIL after the injection"
is "$(grep -c '^C: EHLO' "$T/inject.tr")" 1 "no second EHLO either"

# implicit TLS (465 style)
port=$(smtpserver implicit --pipelining --tls-cert "$C/good.pem" --tls-key "$C/good.key" --implicit --transcript "$T/implicit.tr")
fresh_route "$port"; route isp tls implicit; route isp tlsca "$C/ca.pem"
res=$(send)
like "$res" "^$m bob@b.example K" "implicit TLS: accepted"
like "$(cat "$T/run.log")" "TLS: TLSv1\.[23] .* verified" "verified"
is "$(grep '^C: ' "$T/implicit.tr" | awk '{print $2}' | head -n 1)" "EHLO" "no STARTTLS on an implicit connection"
route isp tls bogus
res=$(send)
like "$res" "^$m bob@b.example Z4\.3\.5 tls: starttls, implicit, opportunistic or none" "a bad tls value is a configuration error"

# opportunistic STARTTLS (no tls file): a self-signed server is used, unverified
port=$(cat "$T/self.port")
fresh_route "$port"
res=$(send)
like "$res" "^$m bob@b.example K" "opportunistic STARTTLS with a self-signed server: accepted"
like "$(cat "$T/run.log")" "TLS: TLSv1\.[23] .* unverified" "reported as unverified"

# a server that never answers the handshake (fetchmail's CVE-2011-1947 hung for a week)
rm -f "$T/silent.port"
bg "$PY" -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 0)); s.listen(5)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1])
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' "$T/silent.port"
port=$(wait_port "$T/silent.port")
fresh_route "$port"; route isp tls implicit; route isp tlsca "$C/ca.pem"; route isp timeout-reply 2
res=$(send)
like "$res" "^$m bob@b.example Z4\.7\.5 TLS failed .*the TLS handshake timed out" "a silent server: the handshake times out (timeout-reply), temporary failure"

# a client certificate, when the server wants one
port=$(smtpserver clientcert --pipelining --tls-cert "$C/good.pem" --tls-key "$C/good.key" --implicit --client-ca "$C/ca.pem")
fresh_route "$port"; route isp tls implicit; route isp tlsca "$C/ca.pem"
res=$(send)
# (TLS 1.3: the server's refusal comes after the client's handshake, as an alert)
like "$res" "^$m bob@b.example Z4\.(7\.5 TLS failed|4\.2 connection lost)" "a server that wants a client certificate: without one, a temporary failure"
like "$(cat "$T/run.log")" "mm-tls: warning: TLS read: " "mm-tls logs why the connection ended"
route isp tlscert "$C/client.pem"; route isp tlskey "$C/client.key"
res=$(send)
like "$res" "^$m bob@b.example K" "with tlscert and tlskey: accepted"
rm "$MM_HOME/control/routes/isp/tlskey"
res=$(send)
like "$res" "^$m bob@b.example Z4\.3\.5 tlscert and tlskey go together" "tlscert without tlskey is a configuration error"

# the oldest protocol: TLS 1.2 by default, tlsmin 1.3 refuses a 1.2 server
port=$(smtpserver tls12 --pipelining --tls-cert "$C/good.pem" --tls-key "$C/good.key" --tls-max 1.2)
fresh_route "$port"; route isp tls starttls; route isp tlsca "$C/ca.pem"
res=$(send)
like "$res" "^$m bob@b.example K" "a TLS 1.2 server is accepted by default"
like "$(cat "$T/run.log")" "TLS: TLSv1\.2 " "and the report says TLSv1.2"
route isp tlsmin 1.3
res=$(send)
like "$res" "^$m bob@b.example Z4\.7\.5 TLS failed .*TLS handshake failed" "tlsmin 1.3: the handshake with it fails, a temporary failure"
is "$(spool_count tls12)" 1 "nothing went to it under tlsmin 1.3"

# mm-remote -i: what the server presents
port=$(cat "$T/wrong.port")
fresh_route "$port"; route isp tlsca "$C/ca.pem"
out=$("$MM_HOME/bin/mm-remote" -i isp 2>"$T/inspect.err")
like "$out" "^  subject: /CN=wrong\.example" "mm-remote -i prints the subject"
like "$out" "^  names: DNS:wrong\.example" "the names"
like "$out" "^  not after: 20[0-9-]+ " "the expiry"
like "$out" "^  public key pin: sha256:$(openssl x509 -in "$C/wrong.pem" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)" "the public key pin"
like "$out" "^verification: not verified: the certificate does not name the host" "and why it would not verify"
