#!/bin/bash
# The mm-tls server: the first STARTTLS session of mm-smtpd runs mm-tls,
# which forks a server that takes the next sessions over its Unix socket
# (a child each); with no server (never started, killed, or one that
# lets the connection be) mm-smtpd runs mm-tls as before; a new
# certificate ends the old server; a socket of another user is never
# given a connection. As root, in a system install: the server runs as
# the smtpd user without the tls group, and that user can read neither
# the key nor the server's memory.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
has_cmd swaks || skip_all "swaks is not installed"
has_cmd tcpserver || skip_all "tcpserver is not installed"
has_cmd openssl || skip_all "openssl is not installed"
[ -x "$BUILD/mm-tls" ] || skip_all "mm-tls is not built (libtls-dev missing)"
plan 26

# an instance of our own: the install part below takes $T/mm
MM_HOME=$T/inst
export MM_HOME
"$TOP/install.sh" --instance "$MM_HOME" --build "$BUILD" >"$T/install.out" 2>&1 || bail "install.sh --instance failed: $(cat "$T/install.out")"
mkdir -p "$MM_HOME/home/bob"
C=$T/certs
"$TOOLS/tls-certs" "$C" || bail "tls-certs failed"
cp "$C/good.pem" "$MM_HOME/control/tlscert"
cp "$C/good.key" "$MM_HOME/control/tlskey"
chmod 600 "$MM_HOME/control/tlskey"
echo b.example >> "$MM_HOME/control/locals"
port=$(free_port)
bg env MM_HOME="$MM_HOME" tcpserver -q 127.0.0.1 "$port" "$MM_HOME/bin/mm-smtpd" 2>>"$T/smtpd.log"
for ((i = 0; i < 200; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

# HOME: the server of that home, a session leader running its mm-tls
server_of() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$1/bin/mm-tls" ] || continue
    [ "$(awk '{ print $6 }' "$p/stat" 2>/dev/null)" = "${p#/proc/}" ] && echo "${p#/proc/}"
  done
  return 0
}
server() { server_of "$MM_HOME"; }
has_server() { [ -n "$(server)" ]; }
no_server() { [ -z "$(server)" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
other_than() { [ -n "$(server)" ] && [ "$(server)" != "$1" ]; }
sessions() { grep -c 'TLS: TLSv1' "$T/smtpd.log"; }
sw() { swaks --server "127.0.0.1:$port" --from alice@a.example --to bob@b.example --helo client.test --tls "$@" 2>&1; }
# a STARTTLS session that stays open until the file $T/done is there
hold() {
  rm -f "$T/ready" "$T/done"
  "$PY" - "$port" "$T/ready" "$T/done" > "$T/hold.out" 2>&1 <<'EOS' &
import os, socket, ssl, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
def reply(f):
    while True:
        l = f.readline().decode()
        if len(l) < 4 or l[3] != "-":
            return l.strip()
reply(f); s.sendall(b"EHLO x\r\n"); reply(f)
s.sendall(b"STARTTLS\r\n"); reply(f)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname="localhost"); g = t.makefile("rb")
t.sendall(b"EHLO x\r\n"); print("ehlo", reply(g))
open(sys.argv[2], "w").close()
for i in range(600):
    if os.path.exists(sys.argv[3]): break
    time.sleep(0.05)
t.sendall(b"QUIT\r\n"); print("quit", reply(g))
EOS
  holdpid=$!
  wait_until test -e "$T/ready" || diag "$(cat "$T/hold.out" "$T/smtpd.log")"
}
unhold() { touch "$T/done"; wait "$holdpid"; }
# a fake server on the socket's name (UID HOME): takes a connection,
# writes how many descriptors came with it, closes them without a word
fake() {
  "$PY" - "$1" "$MM_HOME" "$F/out" <<'EOS'
import array, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0mm-tls %s %s" % (sys.argv[1], sys.argv[2]))
s.listen(4)
print("listening", flush=True)
c, _ = s.accept()
fds = array.array("i")
msg, anc, flags, addr = c.recvmsg(256, socket.CMSG_LEN(16 * fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[:len(data) - (len(data) % fds.itemsize)])
open(sys.argv[3], "w").write("fds %d\n" % len(fds))
EOS
}

# no server: mm-tls runs, and leaves a server behind
is "$(server)" "" "no mm-tls server before the first STARTTLS session"
out=$(sw --header "Subject: first")
like "$out" "<~  250 2\.0\.0 ok: queued as" "the first STARTTLS session (mm-tls run by mm-smtpd) delivers"
wait_until has_server; s1=$(server)
isnt "$s1" "" "it left a server behind"
is "$(readlink "/proc/$s1/cwd")" "/" "the server is in /"
is "$(ls "/proc/$s1/fd" | sort -n | tr '\n' ' ')" "0 1 2 3 " "it holds its socket and /dev/null, nothing of its first caller's"
like "$(ls -l "/proc/$s1/fd/2")" "/dev/null" "its stderr is /dev/null"

# the server takes the next sessions, a child each
hold
like "$(cat "$T/hold.out")" "^ehlo 250" "a STARTTLS session through the server"
kids=$(for p in /proc/[0-9]*; do [ "$(readlink "$p/exe" 2>/dev/null)" = "$MM_HOME/bin/mm-tls" ] && [ "$(awk '{ print $4 }' "$p/stat")" = "$s1" ] && echo "${p#/proc/}"; done)
isnt "$kids" "" "its mm-tls is a child of the server"
like "$(readlink "/proc/${kids%% *}/fd/2")" "$T/smtpd.log" "and logs to the stderr of the mm-smtpd it serves"
unhold
like "$(cat "$T/hold.out")" "^quit 221" "the session ends normally"
out=$(sw --header "Subject: second")
like "$out" "<~  250 2\.0\.0 ok: queued as" "a message through the server is accepted"
like "$(cat "$(grep -l 'Subject: second' "$MM_HOME"/queue/mess/* | head -n 1)")" "with ESMTPS \(TLSv1\.[23] " "its Received line says ESMTPS"
is "$(server)" "$s1" "the same server is still there"

# a new certificate: the old server goes, the session sees the new one
cp "$C/self.pem" "$MM_HOME/control/tlscert.new" && mv "$MM_HOME/control/tlscert.new" "$MM_HOME/control/tlscert"
cp "$C/self.key" "$MM_HOME/control/tlskey.new" && chmod 600 "$MM_HOME/control/tlskey.new" && mv "$MM_HOME/control/tlskey.new" "$MM_HOME/control/tlskey"
out=$(printf 'QUIT\r\n' | openssl s_client -starttls smtp -connect "127.0.0.1:$port" 2>&1)
like "$out" "issuer=CN ?= ?localhost" "after the certificate changed, the session presents the new one"
wait_until gone "$s1"
ok 'gone "$s1"' "the old server is gone"
wait_until other_than "$s1"; s2=$(server)
isnt "$s2" "" "a new server took its place"

# a server that was killed: mm-tls is run again
kill -9 "$s2"
wait_until gone "$s2"
n=$(sessions)
out=$(sw --header "Subject: after a kill")
like "$out" "<~  250 2\.0\.0 ok: queued as" "with the server killed, the session runs mm-tls and delivers"
wait_until has_server
isnt "$(server)" "" "and a server is back"

# a socket that takes the connection and says nothing: mm-tls is run
kill -9 "$(server)"
wait_until no_server
F=$T/fake
mkdir -p "$F" && chmod 777 "$F"
fake "$(id -u)" > "$F/list" 2>&1 &
fakepid=$!
wait_until grep -qs listening "$F/list"
out=$(sw --header "Subject: beside a mute server")
like "$out" "<~  250 2\.0\.0 ok: queued as" "a server that lets the connection be: mm-tls is run, the mail is accepted"
wait "$fakepid"
is "$(cat "$F/out" 2>/dev/null)" "fds 3" "that server was handed the connection, its socket pair end and stderr"

# another user's socket on the name: never given a connection
if is_root && getent passwd nobody >/dev/null && has_cmd setpriv; then
  wait_until has_server
  kill -9 "$(server)"
  wait_until no_server
  rm -f "$F/out" "$F/list"
  setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups bash -c "$(declare -f fake); PY=$PY MM_HOME=$MM_HOME F=$F fake $(id -u)" > "$F/list" 2>&1 &
  fakepid=$!
  wait_until grep -qs listening "$F/list"
  out=$(sw --header "Subject: beside a stranger")
  like "$out" "<~  250 2\.0\.0 ok: queued as" "another user's socket on the name: mm-tls is run, the mail is accepted"
  wait "$fakepid"
  is "$(cat "$F/out" 2>/dev/null)" "fds 0" "and that socket got no descriptor"
  # and the server takes nothing from another user
  sw --quit-after EHLO >/dev/null
  wait_until has_server
  got=$(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$PY" - "$(id -u)" "$MM_HOME" <<'EOS'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("\0mm-tls %s %s" % (sys.argv[1], sys.argv[2]))
n = os.open("/dev/null", os.O_RDWR)
try:
    socket.send_fds(s, [b"-t\0" b"5\0"], [n, n, n])
    print(s.recv(1) or b"eof")
except (BrokenPipeError, ConnectionResetError):
    print(b"eof")
EOS
)
  is "$got" "b'eof'" "the server closes a connection from another user without taking it"
else
  skip 3 "another user's socket needs root, nobody and setpriv"
fi
for p in $(server); do kill "$p"; done

# a system install: the server as the smtpd user, the key out of its reach
if is_root && [ "${MM_BUILD#*asan}" = "${MM_BUILD:-build}" ] && has_cmd useradd && has_cmd setpriv && has_cmd make && has_cmd cc; then
  . "$TOOLS/install-lib.sh"
  itest_init h6t
  itest_install || bail "install.sh failed: $(tail -n 5 "$T/install.out")"
  cp "$C/good.pem" "$IHOME/control/tlscert"
  cp "$C/good.key" "$IHOME/control/tlskey"
  itest_install || bail "the second install.sh failed"
  port=$(free_port)
  tcpserver -q -u "$(id -u "$ID")" -g "$(id -g "$ID")" 127.0.0.1 "$port" "$IHOME/bin/mm-smtpd" 2>"$T/smtpd.log" &
  tcppid=$!
  at_exit "kill $tcppid 2>/dev/null"
  for ((i = 0; i < 200; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  sw --quit-after EHLO >/dev/null
  ihas_server() { [ -n "$(server_of "$IHOME")" ]; }
  wait_until ihas_server; s=$(server_of "$IHOME")
  dgid=$(id -g "$ID")
  is "$(awk '/^Uid:/ { print $2, $3, $4 } /^Gid:/ { print $2, $3, $4 }' "/proc/$s/status" 2>/dev/null | tr '\n' ' ')" \
    "$(id -u "$ID") $(id -u "$ID") $(id -u "$ID") $dgid $dgid $dgid " "the server runs as the smtpd user, without the tls group"
  as_role "$ID" cat "$IHOME/control/tlskey" >/dev/null 2>&1
  isnt "$?" 0 "the smtpd user cannot read the key"
  as_role "$ID" cat "/proc/$s/environ" >/dev/null 2>&1
  isnt "$?" 0 "nor the server's memory (it is not dumpable)"
else
  skip 3 "the install part needs root and the plain build"
fi
