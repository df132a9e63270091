#!/bin/bash
# mm-smtpd with TLS through mm-tls and AUTH through a checkpassword
# program, against swaks, openssl s_client and a scripted client:
# STARTTLS once, plaintext pipelined behind STARTTLS discarded and the
# session reset, implicit TLS (-s), the Received line with protocol and
# cipher, AUTH only over TLS, a wrong password refused, delayed and
# counted, relaying only after AUTH; and mm-remote delivering to it with
# STARTTLS.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
has_cmd swaks || skip_all "swaks is not installed"
has_cmd tcpserver || skip_all "tcpserver is not installed"
has_cmd openssl || skip_all "openssl is not installed"
[ -x "$BUILD/mm-tls" ] || skip_all "mm-tls is not built (libtls-dev missing)"
plan 32

inst_new
remote_setup
C=$T/certs
"$TOOLS/tls-certs" "$C" || bail "tls-certs failed"

# the receiving instance: b.example is local, no RELAYCLIENT
B=$T/b
"$TOP/install.sh" --instance "$B" --build "$BUILD" >/dev/null 2>&1 || bail "install.sh for b failed"
echo b.example >> "$B/control/locals"
mkdir -p "$B/home/bob"
cp "$C/good.pem" "$B/control/tlscert"
cp "$C/good.key" "$B/control/tlskey"
chmod 640 "$B/control/tlskey"
# a checkpassword program: user\0password\0timestamp\0 on fd 3; exec the rest on success
cat > "$T/checkpw" <<'EOS'
#!/usr/bin/python3
import os, sys
data = os.read(3, 512).split(b"\0")
if len(data) < 2 or data[0] != b"joe" or data[1] != b"open sesame":
    sys.exit(1)
os.execv(sys.argv[1], sys.argv[1:])
EOS
chmod 755 "$T/checkpw"
echo "$T/checkpw" > "$B/control/smtpdcheckpassword"

start_smtpd() {  # NAME ARGS: mm-smtpd under tcpserver on 127.0.0.1; prints the port
  local name=$1 port i; shift
  port=$(free_port)
  bg env MM_HOME="$B" tcpserver -q 127.0.0.1 "$port" "$B/bin/mm-smtpd" "$@" 2>>"$T/$name.log"
  for ((i = 0; i < 200; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  echo "$port"
}
port=$(start_smtpd smtpd)
sport=$(start_smtpd smtps -s)
# the queued message (nothing delivers in b)
bmail() { grep -l "$1" "$B"/queue/mess/* 2>/dev/null | head -n 1; }
sw() { swaks --server "127.0.0.1:$port" --from alice@a.example --helo client.test "$@" 2>&1; }

# STARTTLS
out=$(sw --to bob@b.example --tls --header "Subject: over starttls" --quit-after EHLO)
like "$out" "^<-  250-STARTTLS" "STARTTLS is offered in clear"
out=$(swaks --server "127.0.0.1:$port" --local-interface 127.0.0.2 --quit-after EHLO 2>&1)
unlike "$out" "AUTH" "AUTH is not offered in clear to another address than 127.0.0.1"
out=$(swaks --server "127.0.0.1:$port" --local-interface 127.0.0.2 --tls --quit-after EHLO 2>&1)
like "$out" "^ ~> EHLO" "swaks --tls: EHLO again over TLS"
like "$out" "^<~  250-AUTH PLAIN LOGIN" "AUTH is offered over TLS"
unlike "$(echo "$out" | grep '^<~ ')" "STARTTLS" "STARTTLS is not offered again"
out=$(sw --to bob@b.example --tls --header "Subject: over starttls")
like "$out" "^<~  250 2\.0\.0 .*queued" "swaks --tls: accepted over TLS"
f=$(bmail 'over starttls')
like "$(cat "$f" 2>/dev/null)" "with ESMTPS \(TLSv1\.[23] [A-Z0-9_-]+\);" "the Received line records ESMTPS, protocol and cipher"
like "$(cat "$T/smtpd.log")" "mm-smtpd: 127\.0\.0\.1: TLS: TLSv1\.[23] .* noclientcert - -" "mm-tls's report is logged"

# a second STARTTLS is refused
out=$(printf 'EHLO x\r\nSTARTTLS\r\nQUIT\r\n' | openssl s_client -quiet -starttls smtp -connect "127.0.0.1:$port" 2>/dev/null)
like "$out" "^503 5\.5\.1 TLS is already on" "openssl s_client: STARTTLS twice is refused"

# plaintext pipelined behind STARTTLS: discarded, the session reset
"$PY" - "$port" > "$T/inject.out" 2>&1 <<'EOS'
import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        l = f.readline().decode()
        lines.append(l.strip())
        if len(l) < 4 or l[3] != "-":
            return lines
print("greeting", reply())
s.sendall(b"EHLO x\r\n"); print("ehlo", reply()[-1])
s.sendall(b"STARTTLS\r\nMAIL FROM:<evil@x.example>\r\nRCPT TO:<bob@b.example>\r\n")
print("starttls", reply())
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname="localhost")
g = t.makefile("rb")
t.sendall(b"RCPT TO:<bob@b.example>\r\n")
print("after", g.readline().decode().strip())
t.sendall(b"QUIT\r\n"); print("quit", g.readline().decode().strip())
EOS
like "$(cat "$T/inject.out")" "^starttls \['220 2\.0\.0 ready to start TLS'\]" "STARTTLS answered 220 and nothing else for the pipelined commands"
like "$(cat "$T/inject.out")" "^after 503 5\.5\.1 send MAIL first" "after TLS the pipelined MAIL did not count: the session was reset"
like "$(cat "$T/smtpd.log")" "error: plaintext pipelined after STARTTLS discarded" "and it is logged"

# AUTH: a wrong password, then the right one; relaying only after AUTH
out=$(sw --to carol@x.example --tls)
like "$out" "553 5\.7\.1 relaying denied" "no relaying without AUTH"
out=$(sw --to carol@x.example --tls --auth PLAIN --auth-user joe --auth-password 'wrong')
like "$out" "535 5\.7\.8 authentication failed" "a wrong password is refused"
like "$(cat "$T/smtpd.log")" "error: authentication failed" "and logged"
out=$(sw --to carol@x.example --tls --auth LOGIN --auth-user joe --auth-password 'open sesame' --header "Subject: relayed after auth")
like "$out" "235 2\.7\.0 authenticated" "AUTH LOGIN with the right password"
like "$out" "<~  250 2\.0\.0 .*queued" "relaying after AUTH"
like "$(cat "$T/smtpd.log")" "mm-smtpd: 127\.0\.0\.1: authenticated as joe" "the log names the user"
out=$(sw --to bob@b.example --tls --auth PLAIN --auth-user joe --auth-password 'open sesame' --header "Subject: plain auth")
like "$out" "235 2\.7\.0 authenticated" "AUTH PLAIN with the right password"
like "$(cat "$(bmail 'plain auth')" 2>/dev/null)" "\(mm-smtpd, authenticated as joe\) with ESMTPSA \(TLSv1" "Received: names the user and ESMTPSA"
# three failures end the session
"$PY" - "$port" > "$T/fails.out" 2>&1 <<'EOS'
import base64, socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
def reply(f):
    while True:
        l = f.readline().decode()
        if len(l) < 4 or l[3] != "-":
            return l.strip()
reply(f); s.sendall(b"EHLO x\r\n"); reply(f); s.sendall(b"STARTTLS\r\n"); reply(f)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname="localhost"); g = t.makefile("rb")
t.sendall(b"EHLO x\r\n"); reply(g)
t.sendall(b"AUTH PLAIN =\r\n"); print("empty", reply(g))
t.sendall(b"AUTH LOGIN\r\n"); reply(g); t.sendall(b"\r\n"); reply(g); t.sendall(b"\r\n"); print("emptylogin", reply(g))
bad = base64.b64encode(b"\0joe\0guess").decode()
# the empty AUTH LOGIN was the first failure: two more end the session
for i in range(2):
    t.sendall(("AUTH PLAIN %s\r\n" % bad).encode())
    print("try", i, reply(g))
print("then", reply(g))
EOS
like "$(cat "$T/fails.out")" "^empty 501 5\.5\.2 AUTH PLAIN: malformed" "an empty AUTH PLAIN response is malformed"
like "$(cat "$T/fails.out")" "^emptylogin 535 5\.7\.8" "an empty AUTH LOGIN user and password are refused"
like "$(cat "$T/fails.out")" "^try 1 535" "the third failure is refused too"
like "$(cat "$T/fails.out")" "^then 421 4\.7\.0 .*too many failed authentications" "and the server hangs up"

# implicit TLS (-s): swaks --tlsc and openssl s_client
out=$(swaks --server "127.0.0.1:$sport" --tlsc --from alice@a.example --to bob@b.example --header "Subject: implicit tls" 2>&1)
like "$out" "<~  220 .* ESMTP mm-smtpd" "swaks --tlsc: the greeting comes over TLS"
like "$out" "<~  250 2\.0\.0 .*queued" "and the message is accepted"
unlike "$out" "250-STARTTLS" "no STARTTLS on an implicit TLS connection"
out=$(printf 'QUIT\r\n' | openssl s_client -quiet -connect "127.0.0.1:$sport" -CAfile "$C/ca.pem" -verify_return_error -verify_hostname localhost 2>&1)
like "$out" "^220 .* ESMTP mm-smtpd" "openssl s_client: implicit TLS verified against the test CA"

# mm-remote to mm-smtpd with STARTTLS, verified
m=$(printf 'Subject: remote to smtpd\n\nhello\n' | queue_msg -f alice@localhost bob@b.example)
route isp smarthost "127.0.0.1:$port"
route isp tls starttls
route isp tlsca "$C/ca.pem"
res=$(req "$m" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m bob@b.example K" "mm-remote delivers to mm-smtpd over STARTTLS"
like "$(cat "$T/remote.log")" "TLS: TLSv1\.[23] .* verified" "verified"
like "$(cat "$(bmail 'remote to smtpd')" 2>/dev/null)" "with ESMTPS \(TLSv1" "the Received line says ESMTPS"

# no key, no TLS: a missing key is a clear error, not a plaintext session
mv "$B/control/tlskey" "$B/control/tlskey.off"
out=$(sw --to bob@b.example --tls --quit-after EHLO)
like "$(cat "$T/smtpd.log")" "mm-smtpd: 127\.0\.0\.1: error: TLS failed: cannot open .*control/tlskey" "a missing key: the TLS failure is logged"
mv "$B/control/tlskey.off" "$B/control/tlskey"
