#!/bin/bash
# As root, a system install: mm-tls is setgid to the tls group and is the
# only program linked with libtls; control/tlskey is readable by the tls
# group alone, so the smtpd user cannot read it, and mm-smtpd running as
# the smtpd user still offers STARTTLS because mm-tls reads the key and
# then drops the group (real, effective and saved) for the session.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/install-lib.sh"
itest_init h5t
has_cmd readelf || skip_all "readelf is not installed"
has_cmd tcpserver || skip_all "tcpserver is not installed"
has_cmd openssl || skip_all "openssl is not installed"
plan 10

itest_install || bail "install.sh failed: $(tail -n 5 "$T/install.out")"
is "$(mode_of "$IHOME/bin/mm-tls")" "root $ITLS 2755" "mm-tls: root, setgid $ITLS, mode 2755"
ok 'getent group "$ITLS" >/dev/null' "install.sh made the tls group"

linked=$(for f in "$IHOME"/bin/*; do [ -L "$f" ] && continue; readelf -d "$f" 2>/dev/null | grep -q 'NEEDED.*libtls' && basename "$f"; done)
is "$linked" "mm-tls" "mm-tls is the only program that links libtls (readelf -d)"

"$TOOLS/tls-certs" "$T/certs" || bail "tls-certs failed"
cp "$T/certs/good.pem" "$IHOME/control/tlscert"
cp "$T/certs/good.key" "$IHOME/control/tlskey"
chmod 644 "$IHOME/control/tlscert" "$IHOME/control/tlskey"
itest_install || bail "the second install.sh failed"
is "$(mode_of "$IHOME/control/tlskey")" "root $ITLS 640" "install.sh gives the key to the tls group, mode 0640"
as_role "$ID" cat "$IHOME/control/tlskey" >/dev/null 2>&1
isnt "$?" 0 "the smtpd user cannot read the key"

port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tcpserver -q -u "$(id -u "$ID")" -g "$(id -g "$ID")" 127.0.0.1 "$port" "$IHOME/bin/mm-smtpd" 2>"$T/smtpd.log" &
tcppid=$!
at_exit "kill $tcppid 2>/dev/null"
for ((i = 0; i < 200; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

# a session over STARTTLS that stays open while we look at mm-tls
"$PYTHON" - "$port" "$T/ready" "$T/done" > "$T/client.out" 2>&1 <<'EOS' &
import os, socket, ssl, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
def reply(f):
    while True:
        l = f.readline().decode()
        if len(l) < 4 or l[3] != "-":
            return l.strip()
reply(f); s.sendall(b"EHLO x\r\n"); reply(f)
s.sendall(b"STARTTLS\r\n"); print("starttls", reply(f))
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname="localhost"); g = t.makefile("rb")
t.sendall(b"EHLO x\r\n"); print("ehlo", reply(g))
open(sys.argv[2], "w").close()
for i in range(600):
    if os.path.exists(sys.argv[3]): break
    time.sleep(0.05)
t.sendall(b"QUIT\r\n"); print("quit", reply(g))
EOS
client=$!
wait_until test -e "$T/ready" || diag "$(cat "$T/client.out" "$T/smtpd.log")"
like "$(cat "$T/client.out")" "^ehlo 250 " "STARTTLS works for mm-smtpd as the smtpd user"
tlspid=$(pids_of mm-tls | head -n 1)
gids=$(awk '/^Gid:/ { print $2, $3, $4 }' "/proc/$tlspid/status" 2>/dev/null)
dgid=$(id -g "$ID")
is "$gids" "$dgid $dgid $dgid" "mm-tls relays with the smtpd user's group only: real, effective, saved"
ok '! grep -q "$(getent group "$ITLS" | cut -d: -f3)" <(awk "/^Groups:/" "/proc/$tlspid/status")' "and no tls group among its groups"
is "$(awk '/^Uid:/ { print $2, $3 }' "/proc/$tlspid/status" 2>/dev/null)" "$(id -u "$ID") $(id -u "$ID")" "it runs as the smtpd user"
touch "$T/done"
wait "$client"
like "$(cat "$T/client.out")" "^quit 221 " "the session ends normally"
kill "$tcppid" 2>/dev/null
wait "$tcppid" 2>/dev/null
