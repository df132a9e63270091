#!/bin/bash
# A real install at work, as root: svscan runs the installed service
# directories (mm-send through mm-start, mm-smtpd under tcpserver with
# the tcprules cdb, both logs through multilog). Mail injected by an
# ordinary user and received over SMTP reaches two local users'
# Maildirs with the right owners; each daemon runs as its own user; the
# smtpd user cannot read the queue or the secrets; an ordinary user
# cannot remove another's message, cannot change the online state
# outside the online group, and cannot point the setuid mm-queue at
# another home; root's mail goes where the alias says; supervise
# restarts a killed mm-send and no mail is lost.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/install-lib.sh"

itest_init mmtb
for c in svscan supervise svc svstat multilog setuidgid tcpserver tcprules swaks ss; do
  has_cmd "$c" || skip_all "$c is not installed"
done
plan 72

umaildir() { echo "$T/home/$1/Maildir"; }
umail_files() { find "$(umaildir "$1")/new" "$(umaildir "$1")/cur" -type f 2>/dev/null | sort; }
umail_grep() {  # USER ERE: the files of USER with a matching line
  local f
  umail_files "$1" | while IFS= read -r f; do grep -Eq -- "$2" "$f" && echo "$f"; done
  return 0
}
umail_has() { [ -n "$(umail_grep "$1" "$2")" ]; }
umail_count() { umail_grep "$1" "$2" | grep -c . ; }
owners_of() { local f; for f in $(umail_grep "$1" "$2"); do stat -c %U "$f"; done | sort -u | tr '\n' ' '; }
queue_has() { grep -lq -- "$1" "$IHOME"/queue/mess/* 2>/dev/null; }
queue_id_of() { local f; f=$(grep -l -- "$1" "$IHOME"/queue/mess/* 2>/dev/null | head -n 1); echo "${f##*/}"; }
listening() { [ -n "$(ss -ltnH "sport = :$port" 2>/dev/null)" ]; }
send_log() { cat "$IHOME/service/mm-send/log/main/current" 2>/dev/null; }
send_log_has() { send_log | grep -Eq -- "$1"; }
proc_with() {  # EXE CWD-PREFIX: pids of EXE running with a cwd below CWD-PREFIX
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$1" ] || continue
    case $(readlink "$p/cwd" 2>/dev/null) in "$2"*) echo "${p#/proc/}" ;; esac
  done
  return 0
}
supp_groups() { awk '/^Groups:/ { $1 = ""; print }' "/proc/$1/status" | xargs; }
one_send() { [ "$(pids_of mm-send | grep -c .)" = 1 ]; }
one_lspawn() { [ "$(pids_of mm-lspawn | grep -c .)" = 1 ]; }
no_send() { [ -z "$(pids_of mm-send)" ] && [ -z "$(pids_of mm-lspawn)" ]; }

port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# ---- the install: two ordinary users, a route with its secrets, svscan
itest_users
mkdir -p "$IHOME/control/routes/isp/pop3"
echo 127.0.0.1:1 > "$IHOME/control/routes/isp/smarthost"
echo route-secret > "$IHOME/control/routes/isp/authsecret"
echo pop-secret > "$IHOME/control/routes/isp/pop3/secret"
itest_install --admin "$U1" --smtp-ip 127.0.0.1 --smtp-port "$port" \
  || bail "install.sh failed: $(cat "$T/install.out")"
echo '* maildir ~/Maildir/' > "$IHOME/control/delivery"
usermod -a -G "$IO" "$U2"
svscan_start
wait_until send_ready || bail "mm-send did not start under svscan: $(cat "$T/svscan.log"; send_log)"
wait_until listening || bail "tcpserver does not listen on 127.0.0.1:$port: $(cat "$IHOME/service/mm-smtpd/log/main/current" 2>/dev/null)"

# ---- each daemon under its own user
spid=$(pids_of mm-send)
is "$(ids_of "$spid")" "$(id -u "$IS") $(id -u "$IS") $(id -g "$IS") $(id -g "$IS")" "mm-send runs as the send user and the queue's group"
is "$(ps -o user= -p "$spid" | xargs)" "$IS" "ps shows mm-send under $IS"
is "$(supp_groups "$spid")" "$(id -g "$IR")" "its one supplementary group is the remote user's (to run mm-remote)"
lpid=$(pids_of mm-lspawn)
is "$(ids_of "$lpid")" "0 0 0 0" "mm-lspawn runs as root"
is "$(supp_groups "$lpid")" "" "with no supplementary group"
tpid=$(proc_with /usr/bin/tcpserver "$IHOME/service/mm-smtpd")
is "$(ids_of "$tpid")" "$(id -u "$ID") $(id -u "$ID") $(id -g "$ID") $(id -g "$ID")" "tcpserver runs as the smtpd user once it listens"
mlogs=$(for p in $(proc_with /usr/bin/multilog "$IHOME/service"); do ps -o user= -p "$p"; done | sort | uniq -c | xargs)
nlogs=$(ls -d "$IHOME"/service/*/log | wc -l)
is "$mlogs" "$nlogs $IL" "every service's multilog runs as the log user ($nlogs)"

# ---- an ordinary user's mail
printf 'Subject: from-u1-marker\n\nhello\n' | as_user "$U1" "$IHOME/bin/sendmail" "$U2@localhost"
is "$?" 0 "$U1's sendmail exits 0"
ok 'wait_until umail_has "$U2" from-u1-marker' "$U2 gets the message"
is "$(owners_of "$U2" from-u1-marker)" "$U2 " "the Maildir file belongs to $U2"
like "$(cat $(umail_grep "$U2" from-u1-marker))" "^Received: \(mm-queue [0-9]+ invoked by uid $(id -u "$U1")\)" \
  "mm-queue recorded $U1's uid"

# ---- SMTP: mm-smtpd under tcpserver as the smtpd user
exec 7<>"/dev/tcp/127.0.0.1/$port"
read -t 20 -r greeting <&7
like "$greeting" "^220 " "mm-smtpd greets"
dpid=$(pids_of mm-smtpd)
is "$(ids_of "$dpid")" "$(id -u "$ID") $(id -u "$ID") $(id -g "$ID") $(id -g "$ID")" "mm-smtpd runs as the smtpd user"
printf 'QUIT\r\n' >&7
exec 7>&- 7<&-
out=$(swaks --server 127.0.0.1 --port "$port" --from sender@example.org --to "$U1@localhost,$U2@localhost" \
  --header "Subject: smtp-marker" --body "over SMTP" 2>&1)
is "$?" 0 "swaks delivers to $U1 and $U2" || diag "$out"
ok 'wait_until umail_has "$U1" smtp-marker && wait_until umail_has "$U2" smtp-marker' "both get it"
is "$(owners_of "$U1" smtp-marker)|$(owners_of "$U2" smtp-marker)" "$U1 |$U2 " "each file belongs to its user"
out=$(swaks --server 127.0.0.1 --port "$port" --from sender@example.org --to faraway@remote.example \
  --header "Subject: relay-marker" --body "for elsewhere" 2>&1)
is "$?" 0 "loopback may relay (RELAYCLIENT from tcp.smtp.cdb)" || diag "$out"
ok 'wait_until queue_has relay-marker' "the relayed message waits in the queue"
rid=$(queue_id_of relay-marker)

# ---- what each role can read
m=$IHOME/queue/mess/$rid
a=$IHOME/control/routes/isp/authsecret
s=$IHOME/control/routes/isp/pop3/secret
is "$(mode_of "$a")|$(mode_of "$s")" "$IR root 400|$IP root 400" "route secret for the remote user, POP3 secret for the pop user"
is "$(mode_of "$m" | cut -d' ' -f2-)" "$IG 660" "a message file has the queue's group, mode 660"
ok '! as_role "$ID" ls "$IHOME/queue/mess" >/dev/null 2>&1' "the smtpd user cannot list the queue"
ok '! as_role "$ID" cat "$m" >/dev/null 2>&1' "the smtpd user cannot read a message"
ok '! as_role "$ID" cat "$a" >/dev/null 2>&1' "the smtpd user cannot read the route secret"
ok '! as_role "$ID" cat "$s" >/dev/null 2>&1' "the smtpd user cannot read the POP3 secret"
ok '! as_role "$ID" ls "$IHOME/mail" >/dev/null 2>&1' "the smtpd user cannot see postmaster's mailbox"
is "$(as_role "$IR" cat "$a" 2>&1)" route-secret "the remote user reads the route secret"
ok '! as_role "$IR" cat "$s" >/dev/null 2>&1' "the remote user cannot read the POP3 secret"
ok '! as_role "$IR" cat "$m" >/dev/null 2>&1' "the remote user cannot read the queue"
is "$(as_role "$IP" cat "$s" 2>&1)" pop-secret "the pop user reads the POP3 secret"
ok '! as_role "$IP" cat "$a" >/dev/null 2>&1 && ! as_role "$IP" cat "$m" >/dev/null 2>&1' "the pop user reads neither the route secret nor the queue"
ok '! as_user "$U1" cat "$m" >/dev/null 2>&1' "an ordinary user cannot read the queue"

# ---- removing someone else's message
printf 'Subject: held-marker\n\nheld\n' | as_user "$U1" "$IHOME/bin/sendmail" -odq "$U2@localhost"
ok 'wait_until queue_has held-marker' "$U1's held message (-odq) is in the queue"
hid=$(queue_id_of held-marker)
like "$(as_user "$U2" "$IHOME/bin/mailq" 2>&1)" "^$hid " "$U2's mailq lists it"
out=$(as_user "$U2" "$IHOME/bin/mailrm" "$hid" 2>&1)
is "$?" 77 "$U2's mailrm of $U1's message exits 77"
like "$out" "not yours" "and says why"
ok '[ -e "$IHOME/queue/mess/$hid" ]' "the message is still queued"
out=$(as_user "$U1" "$IHOME/bin/mailrm" "$hid" 2>&1)
is "$?" 0 "$U1 may remove it" || diag "$out"
ok 'wait_until eval "[ ! -e \"$IHOME/queue/mess/$hid\" ]"' "and it leaves the queue"
ok '! umail_has "$U2" held-marker' "undelivered"

# ---- the online state
out=$(as_user "$U1" "$IHOME/bin/mm-online" isp 2>&1)
is "$?" 77 "$U1 (not in $IO) cannot bring a route up" || diag "$out"
ok '[ ! -e "$IHOME/queue/online/isp" ]' "queue/online/isp was not made"
ok '! as_user "$U1" sh -c ": > \"$IHOME/queue/online/isp\"" 2>/dev/null' "nor can $U1 make it by hand"
like "$(as_user "$U1" "$IHOME/bin/mm-online" 2>&1)" "the queue is not readable" \
  "$U1 sees the routes' state but no counts"
out=$(as_user "$U2" "$IHOME/bin/mm-online" isp 2>&1)
is "$?" 0 "$U2 (in $IO) brings route isp up" || diag "$out"
ok '[ -e "$IHOME/queue/online/isp" ]' "queue/online/isp exists"
ok 'wait_until send_log_has "starting mm-remote for route isp"' "mm-send starts mm-remote for the waiting message"
unlike "$(send_log)" "mm-send: (fatal|warning): unable to exec .*mm-remote" "the send user may run mm-remote"
out=$(as_user "$U2" "$IHOME/bin/mm-online" -d 2>&1)
is "$?" 0 "$U2 takes it down" || diag "$out"
ok '[ ! -e "$IHOME/queue/online/isp" ]' "queue/online/isp is gone"

# ---- the setuid mm-queue ignores MM_HOME
ev=$T/evil
mkdir -p "$ev/control" "$ev/queue/tmp" "$ev/queue/mess" "$ev/queue/todo" "$ev/queue/lock"
echo 1 > "$ev/control/databytes"
chown -R "$U1" "$ev"
printf 'Subject: evil-marker\n\nwhere does this go\n' > "$T/evil.msg"
printf 'F%s\0T%s\0\0' "$U1@localhost" "$U2@localhost" > "$T/evil.env"
as_user "$U1" env MM_HOME="$ev" "$IHOME/bin/mm-queue" < "$T/evil.msg" 1< "$T/evil.env"
is "$?" 0 "mm-queue run by $U1 with MM_HOME=$ev exits 0 (that home's databytes would refuse)"
is "$(find "$ev/queue" -type f | wc -l)" 0 "nothing went into $ev"
ok 'wait_until umail_has "$U2" evil-marker' "the message went through the real queue"
like "$(as_user "$U1" env MM_HOME="$ev" "$IHOME/bin/mm-qctl" -l 2>&1)" "^$rid " "the setuid mm-qctl lists the real queue too"

# ---- remote delivery through a route with SMTP AUTH (the secret only the remote user reads)
peer_count() { find "$T/peer.spool" -type f 2>/dev/null | wc -l; }
if [ -e /usr/lib/python3/dist-packages/aiosmtpd/__init__.py ]; then
  mkdir -p "$T/peer.spool"
  "$PYTHON" "$TOOLS/smtpserver" --spool "$T/peer.spool" --port-file "$T/peer.port" --auth PLAIN \
    --user mmuser --password route-secret 127.0.0.1:0 >/dev/null 2>"$T/peer.log" &
  peerpid=$!
  disown "$peerpid" 2>/dev/null
  at_exit "kill $peerpid 2>/dev/null"
  wait_until test -s "$T/peer.port" || bail "the SMTP peer did not start: $(cat "$T/peer.log")"
  r=$IHOME/control/routes/lan
  mkdir -p "$r"
  echo "127.0.0.1:$(cat "$T/peer.port")" > "$r/smarthost"
  : > "$r/permanent"
  echo remote2.example > "$r/domains"
  echo PLAIN > "$r/authmech"
  echo none > "$r/tls"   # the loopback peer speaks no TLS: AUTH in clear is allowed explicitly
  echo mmuser > "$r/authuser"
  echo route-secret | install -o "$IR" -g root -m 0400 /dev/stdin "$r/authsecret"
  svc -h "$IHOME/service/mm-send"
  printf 'Subject: route-marker\n\nthrough the LAN route\n' | as_user "$U1" "$IHOME/bin/sendmail" someone@remote2.example
  ok 'wait_until count_is 1 peer_count' "the message goes out through route lan (mm-remote reads it from the descriptor mm-send hands over)"
  ok 'grep -q "^auth mmuser" "$T"/peer.spool/*' "authenticated"
  ok 'wait_until grep -q "AUTH PLAIN as mmuser: ok" "$T/peer.log"' "mm-remote, as the remote user, authenticates with the route's secret"
else
  skip 3 "python3-aiosmtpd is not installed"
fi

# ---- root's mail
printf 'Subject: to-root-marker\n\nfor root\n' | "$IHOME/bin/sendmail" root@localhost
ok 'wait_until umail_has "$U1" to-root-marker' "mail to root reaches $U1 (root: postmaster, postmaster: $U1)"
is "$(owners_of "$U1" to-root-marker)" "$U1 " "delivered as $U1"
is "$(find "$T/home" -mindepth 1 -user root | wc -l)" 0 "nothing in the users' homes belongs to root"

# ---- supervise keeps mm-send running; nothing is lost
old=$spid
for i in $(seq 1 12); do
  printf 'Subject: burst-%s-marker\n\nnumber %s\n' "$i" "$i" | as_user "$U1" "$IHOME/bin/sendmail" "$U2@localhost"
  [ "$i" = 4 ] && kill -9 "$old"
done
ok 'wait_until eval "[ -n \"\$(pids_of mm-send)\" ] && [ \"\$(pids_of mm-send)\" != $old ] && send_ready"' \
  "supervise started mm-send again after kill -9"
ok 'wait_until count_is 12 umail_count "$U2" "burst-[0-9]+-marker"' "all 12 messages arrive"
dups=
for i in $(seq 1 12); do
  n=$(umail_count "$U2" "^Subject: burst-$i-marker")
  [ "$n" = 1 ] || dups="$dups $i:$n"
done
is "$dups" "" "each exactly once"
ok 'wait_until one_lspawn' "one mm-lspawn again (the old one left)"
like "$(svstat "$IHOME/service/mm-send")" ": up " "svstat: mm-send is up"

# ---- the logs
ok 'send_log_has "mm-send: new msg [0-9]+ from <$U1@"' "mm-send's log lines go through multilog"
is "$(stat -c %U "$IHOME/service/mm-send/log/main/current")" "$IL" "the log belongs to the log user"
like "$(cat "$IHOME/service/mm-smtpd/log/main/current")" "tcpserver: (status|pid)" "tcpserver's log too"

# ---- without the service: root's sendmail -q runs a pass as the send user
svc -d "$IHOME/service/mm-send"
ok 'wait_until no_send' "svc -d stops mm-send and mm-lspawn"
printf 'Subject: runq-marker\n\nqueue run\n' | as_user "$U1" "$IHOME/bin/sendmail" "$U2@localhost"
ok '! umail_has "$U2" runq-marker' "with no queue runner the message waits"
if has_cmd strace; then
  out=$(strace -f -qq -e trace=setresuid -o "$T/strace.out" "$IHOME/bin/sendmail" -q 2>&1)
  st=$?
else
  out=$("$IHOME/bin/sendmail" -q 2>&1); st=$?
fi
is "$st" 0 "root's sendmail -q runs a queue pass" || diag "$out"
ok 'umail_has "$U2" runq-marker' "the message is delivered"
if has_cmd strace; then
  u=$(id -u "$IS")
  like "$(cat "$T/strace.out")" "setresuid\($u, $u, $u\) += 0" "mm-send -1 switched to the send user"
else
  skip 1 "strace is not installed"
fi
