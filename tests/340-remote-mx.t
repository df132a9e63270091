#!/bin/bash
# Direct delivery by MX: a real DNS server on loopback (dnsmasq, serving
# MX, A and AAAA records for .test) and SMTP servers on 127.0.0.x and ::1.
# MX preference order, fallback to the next MX, AAAA before A, the
# domain's own address when it has no MX, null MX (RFC 7505) and
# NXDOMAIN as permanent failures, a dead DNS server as a temporary one.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
need_aiosmtpd
has_cmd dnsmasq || [ -x /usr/sbin/dnsmasq ] || skip_all "dnsmasq (dnsmasq-base) is not installed"
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
"$PY" -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null || skip_all "no IPv6 loopback"
plan 13

inst_new
remote_setup

# one port for every SMTP server (a route's port file), on several addresses
port=$(free_port)
dnsport=$("$PY" -c 'import socket
for _ in range(50):
    u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1",0)); p=u.getsockname()[1]
    t=socket.socket()
    try: t.bind(("127.0.0.1",p))
    except OSError: continue
    print(p); break')
bg "$DNSMASQ" -k --conf-file=/dev/null --port="$dnsport" --listen-address=127.0.0.1 --bind-interfaces \
  --no-resolv --no-hosts --pid-file= --user="$(id -un)" --local=/test/ \
  --mx-host=mx.test,mx1.mx.test,10 --mx-host=mx.test,mx2.mx.test,20 \
  --host-record=mx1.mx.test,127.0.0.2 --host-record=mx2.mx.test,127.0.0.3,::1 \
  --mx-host=fallback.test,dead.fallback.test,10 --mx-host=fallback.test,mx2.mx.test,20 \
  --host-record=dead.fallback.test,127.0.0.5 \
  --mx-host=nullmx.test,.,0 \
  --host-record=plain.test,127.0.0.4
echo "nameserver 127.0.0.1#$dnsport" > "$T/resolv.conf"
export MM_RESOLV_CONF=$T/resolv.conf
ok 'wait_until "$PY" -c "import socket; s=socket.create_connection((\"127.0.0.1\", $dnsport))"' "dnsmasq listens"

SMTP_PORT=$port SMTP_LISTEN=127.0.0.2 smtpserver mx1 --pipelining >/dev/null
SMTP_PORT=$port SMTP_LISTEN=127.0.0.3 smtpserver mx2v4 --pipelining >/dev/null
SMTP_PORT=$port SMTP_LISTEN=::1 smtpserver mx2v6 --pipelining >/dev/null
SMTP_PORT=$port SMTP_LISTEN=127.0.0.4 smtpserver plain --pipelining >/dev/null

route direct port "$port"   # no smarthost: delivery by MX
m=$(printf 'Subject: by MX\n\nhello\n' | queue_msg -f alice@localhost bob@mx.test)

res=$(req "$m" alice@localhost bob@mx.test carol@mx.test | remote direct mx.test)
is "$(echo "$res" | grep -c ' K')" 2 "mx.test: both recipients accepted"
is "$(spool_count mx1)" 1 "by the most preferred MX"
like "$(cat "$T/remote.log")" "mm-remote: direct mx1\.mx\.test\[127\.0\.0\.2\]: connected" "the log names the MX host and its address"

: > "$T/remote.log"
res=$(req "$m" alice@localhost bob@fallback.test | remote direct fallback.test)
like "$res" "^$m bob@fallback.test K" "fallback.test: the first MX is dead, the second takes it"
like "$(cat "$T/remote.log")" "dead\.fallback\.test\[127\.0\.0\.5\]: cannot use this host: 4\.4\.1 connection refused" "the dead MX was tried first"
is "$(spool_count mx2v6)" 1 "the second MX over IPv6 (AAAA before A)"
is "$(spool_count mx2v4)" 0 "not over IPv4"

res=$(req "$m" alice@localhost bob@plain.test | remote direct plain.test)
like "$res" "^$m bob@plain.test K" "plain.test has no MX: its own A record is used"

res=$(req "$m" alice@localhost bob@nullmx.test | remote direct nullmx.test)
like "$res" "^$m bob@nullmx.test D5\.1\.10 nullmx\.test accepts no mail \(null MX, RFC 7505\)" "a null MX is a permanent failure"

res=$(req "$m" alice@localhost bob@nope.test | remote direct nope.test)
like "$res" "^$m bob@nope.test D5\.1\.2 domain not found" "NXDOMAIN is a permanent failure"

res=$(req "$m" alice@localhost bob@[127.0.0.4] | remote direct '[127.0.0.4]')
like "$res" "^$m bob@\[127.0.0.4\] K" "an address literal needs no DNS"

# a DNS server that does not answer: temporary
echo "nameserver 127.0.0.1#$(free_port)" > "$T/resolv.conf"
res=$(req "$m" alice@localhost bob@mx.test | remote direct mx.test)
like "$res" "^$m bob@mx.test Z4\.4\.3 temporary DNS failure" "no DNS answer is a temporary failure"
