#!/bin/bash
# The privilege and file-system holes of issue 10, on a real install as
# root (real users and modes; skipped for an ordinary user):
#  - a member of the online group plants links in queue/online: root's
#    mm-online NAME writes no file through them, and mm-send's progress
#    file lives in queue/flush, where only the send user writes;
#  - control/locals that the send user cannot read is a temporary error
#    for mm-send and mm-smtpd, never "no local domains";
#  - mm-queue takes the envelope options b, 2, w and the H host only
#    from the send and smtpd users, and no control character in H;
#  - sendmail -q by an ordinary user with no runner exits 77;
#  - the mm-smtpd service runs tcpserver with -H: no DNS per connection.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/install-lib.sh"

itest_init mmpv
for c in svscan supervise svc multilog setuidgid tcpserver tcprules strace; do
  has_cmd "$c" || skip_all "$c is not installed"
done
plan 40

port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
itest_users
mkdir -p "$IHOME/control/routes/isp"
echo 127.0.0.1:1 > "$IHOME/control/routes/isp/smarthost"
itest_install --admin "$U1" --smtp-ip 127.0.0.1 --smtp-port "$port" \
  || bail "install.sh failed: $(cat "$T/install.out")"
echo '* maildir ~/Maildir/' > "$IHOME/control/delivery"
usermod -a -G "$IO" "$U2"

Q=$IHOME/queue
mess_with() { grep -l -- "$1" "$Q"/mess/* 2>/dev/null | head -n 1; }
umail_has() { grep -rqs -- "$2" "$T/home/$1/Maildir/new" "$T/home/$1/Maildir/cur"; }
envelope() { printf '%s\0' "$@"; printf '\0'; }

# ---- 1. queue/online: links planted by a member of the online group
printf 'Subject: remote-marker\n\nfor elsewhere\n' | as_user "$U1" "$IHOME/bin/sendmail" far@remote.example
rm=$(mess_with remote-marker)
ok '[ -n "$rm" ]' "$U1's message for a remote address waits in the queue"
echo precious > "$T/victim"
chmod 0644 "$T/victim"
ok 'as_user "$U2" ln -s "$T/victim" "$Q/online/isp.tmp"' "$U2 (online group) can plant queue/online/isp.tmp -> a file of root's"
as_user "$U2" ln -s "$rm" "$Q/online/isp.flush.tmp" 2>/dev/null
ok '! as_user "$U2" ln -s "$rm" "$Q/flush/isp.tmp" 2>/dev/null' "but nothing in queue/flush, mm-send's own"
out=$("$IHOME/bin/mm-online" isp 2>&1)
is "$?" 0 "root's mm-online isp exits 0" || diag "$out"
is "$(cat "$T/victim")" precious "root wrote nothing through the planted link"
ok '[ -f "$Q/online/isp" ] && [ ! -L "$Q/online/isp" ]' "queue/online/isp is a file of its own"
is "$(head -c 4 "$rm")" "MM1 " "$U1's queue file is intact (no progress written through a link)"
like "$(as_user "$U1" "$IHOME/bin/mailq" 2>&1)" "far@remote\.example" "and still listed by mailq"
like "$(cat "$Q/flush/isp" 2>&1)" "^total 1 sent 0 deferred 1 failed 0 done 1$" "the progress file is queue/flush/isp"
is "$(mode_of "$Q/flush/isp")" "$IS $IO 640" "written by the send user for the online group"
ok 'as_user "$U2" cat "$Q/flush/isp" >/dev/null' "which $U2 can read (mm-online --wait)"
out=$("$IHOME/bin/mm-online" --wait --timeout 120 isp 2>&1)
is "$?" 75 "root's mm-online --wait isp reports the deferral (75)" || diag "$out"
like "$out" "sent 0 / deferred 1 / failed 0 of 1" "from the progress file"
"$IHOME/bin/mm-online" -d

# ---- 5. mm-queue: the fields of the trusted programs
envelope O2 "F$U1@localhost" "T$U2@localhost" > "$T/env.o2"
printf 'Subject: o2-marker\n\nx\n' | as_user "$U1" "$IHOME/bin/mm-queue" 1< "$T/env.o2" 2>"$T/err"
is "$?" 77 "$U1 asking mm-queue for a double bounce (O2) gets 77" || diag "$(cat "$T/err")"
like "$(cat "$T/err")" "for mm-send only" "with a one-line reason"
ok '[ -z "$(mess_with o2-marker)" ]' "nothing was queued"
envelope Ob "F$U1@localhost" "T$U2@localhost" > "$T/env.ob"
out=$(printf 'Subject: ob-marker\n\nx\n' | as_user "$U1" "$IHOME/bin/mm-queue" 1< "$T/env.ob" 2>&1)
is "$?" 77 "nor a bounce (Ob)"
envelope Oq "F$U1@localhost" "T$U2@localhost" > "$T/env.oq"
out=$(printf 'Subject: oq-marker\n\nx\n' | as_user "$U1" "$IHOME/bin/mm-queue" 1< "$T/env.oq" 2>&1)
is "$?" 0 "Oq (sendmail -odq) is for everyone" || diag "$out"
envelope "$(printf 'Hevil\rhost')" "F$U1@localhost" "T$U2@localhost" > "$T/env.h1"
out=$(printf 'Subject: h-user-marker\n\nx\n' | as_user "$U1" "$IHOME/bin/mm-queue" 1< "$T/env.h1" 2>&1)
is "$?" 0 "an H field from $U1 does not stop the message" || diag "$out"
f=$(mess_with h-user-marker)
ok '[ -n "$f" ] && ! grep -q "^h" "$f"' "but is not recorded"
out=$(printf 'Subject: h-bad-marker\n\nx\n' | as_role "$ID" "$IHOME/bin/mm-queue" 1< "$T/env.h1" 2>&1)
is "$?" 65 "the smtpd user's H with a CR is refused (65)" || diag "$out"
envelope Hgood.example "Fa@example.org" "T$U2@localhost" > "$T/env.h2"
out=$(printf 'Subject: h-good-marker\n\nx\n' | as_role "$ID" "$IHOME/bin/mm-queue" 1< "$T/env.h2" 2>&1)
is "$?" 0 "the smtpd user's H is taken" || diag "$out"
ok 'grep -qx hgood.example "$(mess_with h-good-marker)"' "and recorded"
envelope Hpop.example "Fa@example.org" "T$U2@localhost" > "$T/env.h3"
out=$(printf 'Subject: h-pop-marker\n\nx\n' | as_role "$IP" "$IHOME/bin/mm-queue" 1< "$T/env.h3" 2>&1)
ok 'grep -qx hpop.example "$(mess_with h-pop-marker)"' "the pop user's H (mm-pop3fetch) is recorded too"
printf 'Subject: ob-smtpd-marker\n\nx\n' | as_role "$ID" "$IHOME/bin/mm-queue" 1< "$T/env.ob" 2>/dev/null
is "$?" 77 "but the smtpd user may not queue a bounce (Ob)"
envelope Ow F "T$U2@localhost" > "$T/env.ow"
out=$(printf 'Subject: ow-marker\n\nx\n' | as_role "$IS" "$IHOME/bin/mm-queue" 1< "$T/env.ow" 2>&1)
is "$?" 0 "the send user may queue a warning (Ow)" || diag "$out"
ok 'grep -qx ow "$(mess_with ow-marker)"' "recorded as such"

# ---- 16. sendmail -q by an ordinary user
out=$(as_user "$U1" "$IHOME/bin/sendmail" -q 2>&1)
is "$?" 77 "$U1's sendmail -q with no runner exits 77 (sendmail(8))" || diag "$out"
like "$out" "no queue runner is active" "and says why"
svscan_start
trigger_reader() {
  local p fd
  for p in $(pids_of mm-send); do
    for fd in /proc/"$p"/fd/*; do
      [ "$(readlink "$fd" 2>/dev/null)" = "$Q/lock/trigger" ] && return 0
    done
  done
  return 1
}
ok 'wait_until trigger_reader' "mm-send runs under svscan and reads the trigger" || diag "$(cat "$T/svscan.log")"
out=$(as_user "$U1" "$IHOME/bin/sendmail" -q 2>&1)
is "$?" 0 "with a runner, $U1's sendmail -q asks it and exits 0" || diag "$out"

# ---- 16. tcpserver -H: no PTR lookup for each connection
listening() { [ -n "$(ss -ltnH "sport = :$port" 2>/dev/null)" ]; }
tcpserver_pid() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = /usr/bin/tcpserver ] || continue
    [ "$(readlink "$p/cwd" 2>/dev/null)" = "$IHOME/service/mm-smtpd" ] && echo "${p#/proc/}"
  done
  return 0
}
wait_until listening || bail "tcpserver does not listen on $port"
tp=$(tcpserver_pid | head -n 1)
like "$(tr '\0' ' ' < "/proc/$tp/cmdline")" " -H " "the mm-smtpd service runs tcpserver -H"
strace -f -qq -e trace=openat,open,connect,execve -o "$T/strace.out" -p "$tp" 2>/dev/null &
sp=$!
traced() { [ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$tp/status")" != 0 ]; }
wait_until traced || diag "strace did not attach"
exec 7<>"/dev/tcp/127.0.0.1/$port"
read -t 20 -r greeting <&7
printf 'QUIT\r\n' >&7
read -t 20 -r bye <&7
exec 7>&- 7<&-
like "$greeting" "^220 " "mm-smtpd greets through the traced tcpserver"
kill "$sp" 2>/dev/null
wait "$sp" 2>/dev/null
ok 'grep -q "bin/mm-smtpd" "$T/strace.out" && ! grep -q "resolv.conf\|:53)\|htons(53)" "$T/strace.out"' \
  "no resolver was read or asked for the connection" || diag "$(grep -n 'resolv\|53' "$T/strace.out" | head -n 5)"

# ---- 4. control/locals the send user cannot read (mm-send under svscan,
# as the send user from its start; root's foreground pass reads the
# control files before it drops to the send user)
chmod 0600 "$IHOME/control/locals"
svc -t "$IHOME/service/mm-send"
ok 'wait_until grep -q "unable to read control/locals" "$IHOME/service/mm-send/log/main/current"' \
  "mm-send with an unreadable control/locals stops with a one-line error" || diag "$(tail -n 5 "$IHOME/service/mm-send/log/main/current")"
printf 'Subject: locals-marker\n\nlocal mail\n' | as_user "$U1" "$IHOME/bin/sendmail" "$U2@localhost"
lm=$(mess_with locals-marker)
ok '[ -n "$lm" ]' "$U1's message for $U2@localhost is queued"
sleep 3   # supervise starts mm-send again each second: give a wrong one time to route it
unlike "$(cat "$IHOME/service/mm-send/log/main/current")" "waiting for a connection: $U2@localhost|starting delivery [0-9]+: msg ${lm##*/} " \
  "it was neither routed out nor delivered"
ok '[ -e "$lm" ] && ! grep -q "^[dbz]" <(tail -c +26 "$lm" | sed -n "/^\.\$/,\$p")' "the message waits, nothing recorded for it"
out=$(printf 'EHLO t\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<%s@localhost>\r\nQUIT\r\n' "$U2" \
  | as_role "$ID" env TCPREMOTEIP=127.0.0.1 "$IHOME/bin/mm-smtpd" 2>/dev/null)
like "$out" "^421 4\.3\.5 " "mm-smtpd answers 421 (try later), not a refusal of the local domain"
chmod 0644 "$IHOME/control/locals"
ok 'wait_until umail_has "$U2" locals-marker' "readable again: the restarted mm-send delivers it to $U2"
