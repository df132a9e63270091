#!/bin/bash
# The queue's door on a real install, as root (skipped otherwise): it
# runs as the queue owner with no other group, its socket is in a
# directory nobody else may write, and what a child of the door queues
# follows the rules of the setuid mm-queue for the caller's uid as the
# kernel gives it: the options b, 2, w and the H host only from the
# trusted users, the u field and Received line of the real caller.
# The install is made with --smtp-listener mm-smtpd: the service is
# mm-smtpd -l, as the smtpd user, and mail comes in through it.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/install-lib.sh"

itest_init mmqd
for c in svscan supervise svc multilog setuidgid tcpserver tcprules swaks ss; do
  has_cmd "$c" || skip_all "$c is not installed"
done
plan 28

port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
itest_users
mkdir -p "$IHOME/control/routes/isp"
echo 127.0.0.1:1 > "$IHOME/control/routes/isp/smarthost"
itest_install --admin "$U1" --smtp-ip 127.0.0.1 --smtp-port "$port" --smtp-listener mm-smtpd \
  || bail "install.sh failed: $(cat "$T/install.out")"
echo '* maildir ~/Maildir/' > "$IHOME/control/delivery"
Q=$IHOME/queue
S=$Q/door/socket
mess_with() { grep -l -- "$1" "$Q"/mess/* 2>/dev/null | head -n 1; }
envelope() { printf '%s\0' "$@"; printf '\0'; }
client() { "$PYTHON" "$TOOLS/qdoor-client" "$@"; }
chmod 0755 "$T"
cp "$TOOLS/qdoor-client" "$T/qdoor-client" && chmod 0755 "$T/qdoor-client"

is "$(mode_of "$Q/door")" "$IQ root 755" "queue/door is the queue owner's alone"
svscan_start
ok 'wait_until test -S "$S"' "the runner opens the door" || diag "$(cat "$T/svscan.log")"
door=$(pids_of mm-queue | head -n 1)
uq=$(id -u "$IQ") gq=$(id -g "$IQ")
is "$(ids_of "$door")" "$uq $uq $gq $gq" "the door runs as the queue owner, real and effective"
is "$(awk '/^Groups:/ { print $2 }' "/proc/$door/status")" "" "with no supplementary group"
is "$(stat -c '%U %a' "$S")" "$IQ 666" "its socket is the queue owner's, open to all"
ok '! as_user "$U1" rm -f "$S" 2>/dev/null && [ -S "$S" ]' "$U1 cannot remove it"
ok '! as_user "$U1" kill -0 "$door" 2>/dev/null' "nor signal the door"

u1=$(id -u "$U1")
envelope O2 "F$U1@localhost" "T$U2@localhost" > "$T/env.o2"
out=$(printf 'Subject: door-o2\n\nx\n' | as_user "$U1" "$PYTHON" "$T/qdoor-client" "$S" "$T/env.o2" 2>"$T/err")
like "$out" "^status 77$" "$U1 asking the door for a double bounce (O2) gets 77" || diag "$(cat "$T/err")"
like "$(cat "$T/err")" "for mm-send only" "with mm-queue's reason on $U1's stderr"
ok '[ -z "$(mess_with door-o2)" ]' "nothing was queued"
envelope Hforged.example "F$U1@localhost" "Tfar@remote.example" > "$T/env.h"
out=$(printf 'Subject: door-h-user\n\nx\n' | as_user "$U1" "$PYTHON" "$T/qdoor-client" "$S" "$T/env.h" 2>&1)
like "$out" "^status 0$" "an H field from $U1 does not stop the message" || diag "$out"
f=$(mess_with door-h-user)
ok '[ -n "$f" ] && ! grep -q "^hforged" "$f"' "but is not recorded (the message waits for its route)"
ok '[ -n "$f" ] && grep -qx "u$u1" "$f"' "the message is $U1's (u$u1), by the kernel's word"
envelope Hgood.example "Fa@example.org" "Tfar@remote.example" > "$T/env.h2"
out=$(printf 'Subject: door-h-smtpd\n\nx\n' | as_role "$ID" "$PYTHON" "$T/qdoor-client" "$S" "$T/env.h2" 2>&1)
like "$out" "^status 0$" "the smtpd user's H through the door" || diag "$out"
f=$(mess_with door-h-smtpd)
ok '[ -n "$f" ] && grep -qx hgood.example "$f"' "is recorded"
like "$(cat "$f" 2>/dev/null)" "invoked by uid $(id -u "$ID")\)" "with the smtpd user's uid in mm-queue's Received line"

# the door closes (as after a minute without a caller) and mm-send,
# the send user, opens it again through the setuid mm-queue
out=$(as_user "$U1" "$IHOME/bin/mm-queue" -l 2>&1 </dev/null)
is "$?" 77 "$U1 cannot open a door of its own (77)" || diag "$out"
kill -TERM "$door"
ok 'wait_until eval "[ ! -e \"$S\" ]"' "the door closed removes its socket"
printf 'Subject: door-reopen\n\nx\n' | as_user "$U1" "$IHOME/bin/sendmail" "$U2"
ok 'wait_until test -S "$S"' "new mail makes mm-send open it again"
door=$(pids_of mm-queue | head -n 1)
is "$(ids_of "$door" | cut -d' ' -f1,2)" "$uq $uq" "as the queue owner, real and effective, though the send user started it"
ok '! as_user "$U1" kill -0 "$door" 2>/dev/null' "which $U1 cannot signal"

# the service with --smtp-listener mm-smtpd: mm-smtpd -l as the smtpd user
is "$(cat "$IHOME/service/mm-smtpd/listener")" mm-smtpd "--smtp-listener mm-smtpd is the service's ./listener"
listening() { [ -n "$(ss -ltnH "sport = :$port" 2>/dev/null)" ]; }
ok 'wait_until listening' "mm-smtpd -l listens on the service's port"
lp=$(for p in $(pids_of mm-smtpd); do [ "$(readlink "/proc/$p/cwd")" = "$IHOME/service/mm-smtpd" ] && echo "$p"; done | head -n 1)
is "$(ids_of "$lp")" "$(id -u "$ID") $(id -u "$ID") $(id -g "$ID") $(id -g "$ID")" "as the smtpd user once it listens"
is "$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$lp/status" | xargs)" "$(id -g "$ID")" "with its group alone"
like "$(tr '\0' ' ' < "/proc/$lp/cmdline")" "mm-smtpd -l -x $IHOME/control/tcp.smtp.cdb -c 20 " "with the rules and the limit"
out=$(swaks --server 127.0.0.1 --port "$port" --from sender@example.org --to "$U2@localhost" --header "Subject: listen-marker" 2>&1)
like "$out" "<-  250 2\.0\.0 ok: queued as " "swaks delivers through it" || diag "$out"
ok 'wait_until eval "grep -rqs listen-marker \"$T/home/$U2/Maildir\""' "into $U2's Maildir"
