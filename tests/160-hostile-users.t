#!/bin/bash
# What one local user can do to another through mm, on a real install
# with real users (root only; issue 10, items 2 and 3):
# - a user's :include: list gives addresses only: its "|command" does
#   not run as the alias user, its /file is not written, and a link in
#   it to another user's queue file is not read, so no bounce quotes
#   that message;
# - in a world-writable spool (1777) an mbox made first by another user
#   is not delivered into (the mail waits, mm-send says why), and a
#   dot-lock another user planted cuts nothing.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/install-lib.sh"

itest_init mmhu
plan 16

send_log() { cat "$T/send.log" 2>/dev/null; }
send_log_has() { send_log | grep -Eq -- "$1"; }
queue_has() { grep -lq -- "$1" "$IHOME"/queue/mess/* 2>/dev/null; }
queue_id_of() { local f; f=$(grep -l -- "$1" "$IHOME"/queue/mess/* 2>/dev/null | head -n 1); echo "${f##*/}"; }
mbox_has() { grep -q -- "$2" "$1" 2>/dev/null; }

itest_users
itest_install --admin "$U1" || bail "install.sh failed: $(cat "$T/install.out")"
spool=$T/spool
mkdir -p "$spool" && chmod 1777 "$spool"
# the whole path must be open to the users (mktemp made $T 0700)
chmod 755 "$T" "$T/home"
printf '* mbox %s/%%u\n' "$spool" >"$IHOME/control/delivery"
h1=$T/home/$U1
cat >"$IHOME/control/aliases" <<EOF
postmaster: $U1
u1list: :include:$h1/list
u1leak: :include:$h1/leak
EOF
( exec env - PATH=/usr/bin:/bin "$IHOME/bin/mm-start" >"$T/send.log" 2>&1 ) &
disown $! 2>/dev/null
wait_until send_ready || bail "mm-send did not start: $(send_log)"

# ---- 2: a user's :include: list
printf '%s\n' "$U2" '"|/usr/bin/touch /tmp/mmhu-pwned"' "/tmp/mmhu-written" >"$h1/list"
chown "$U1:$U1" "$h1/list"; chmod 644 "$h1/list"
rm -f /tmp/mmhu-pwned /tmp/mmhu-written
printf 'Subject: to-the-list-7\n\nlist body\n' | as_user "$U1" "$IHOME/bin/sendmail" "u1list@localhost"
ok 'wait_until mbox_has "$spool/$U2" to-the-list-7' "the list's address ($U2) gets the message"
ok 'wait_until mbox_has "$spool/$U1" "no commands or files"' "$U1 gets a bounce that says why the rest failed"
ok '[ ! -e /tmp/mmhu-pwned ]' "the command in $U1's list did not run as the alias user"
ok '[ ! -e /tmp/mmhu-written ]' "the file in $U1's list was not written as the alias user"

# U2's message waits in the queue; U1 links to its queue file
printf 'Subject: private-7\n\nU2-SECRET-MARKER\n' | as_user "$U2" "$IHOME/bin/sendmail" -odq "$U2@localhost"
ok 'wait_until queue_has U2-SECRET-MARKER' "$U2's held message is in the queue"
qid=$(queue_id_of U2-SECRET-MARKER)
as_user "$U1" ln -s "$IHOME/queue/mess/$qid" "$h1/leak"
printf 'Subject: leak-7\n\nleak try\n' | as_user "$U1" "$IHOME/bin/sendmail" "u1leak@localhost"
ok 'wait_until mbox_has "$spool/$U1" "neither the administrator"' "the link to a queue file bounces: not readable by everyone"
ok '! grep -qi U2-SECRET-MARKER "$spool/$U1"' "no line of $U2's message reaches $U1"
as_user "$U1" rm -f "$h1/leak"
"$IHOME/bin/mailrm" "$qid" >/dev/null 2>&1

# ---- 3: a world-writable spool
mv "$spool/$U2" "$T/u2.mbox.kept"
as_user "$U1" sh -c "umask 0; : > '$spool/$U2'"
printf 'Subject: theft-7\n\nU2-PRIVATE-MAIL\n' | as_user "$U2" "$IHOME/bin/sendmail" "$U2@localhost"
ok 'wait_until send_log_has "mailbox is not owned by the recipient: $spool/$U2"' "an mbox $U1 made for $U2: deferred, and the log says why"
ok '! grep -q U2-PRIVATE-MAIL "$spool/$U2"' "nothing went into $U1's file"
ok 'queue_has U2-PRIVATE-MAIL' "the message waits in the queue"
rm -f "$spool/$U2"
mv "$T/u2.mbox.kept" "$spool/$U2"
is "$(stat -c %U "$spool/$U2")" "$U2" "$U2's own mbox is back"
"$IHOME/bin/sendmail" -q >/dev/null 2>&1
ok 'wait_until mbox_has "$spool/$U2" U2-PRIVATE-MAIL' "once the mbox is $U2's, the waiting message is delivered"

# a planted dot-lock that says "cut the mailbox back to 0 bytes"
before=$(stat -c %s "$spool/$U2")
as_user "$U1" sh -c "umask 0; printf 'mm-local 1 0\n' > '$spool/$U2.lock'"
printf 'Subject: after-lock-7\n\nafter the lock\n' | as_user "$U1" "$IHOME/bin/sendmail" "$U2@localhost"
ok 'wait_until mbox_has "$spool/$U2" after-lock-7' "mail still arrives past a lock $U1 planted"
ok 'mbox_has "$spool/$U2" to-the-list-7 && mbox_has "$spool/$U2" U2-PRIVATE-MAIL' "the earlier messages are all still there"
ok '[ "$(stat -c %s "$spool/$U2")" -gt "$before" ]' "the mailbox grew, it was not cut back"
ok 'send_log_has "ignoring $spool/$U2.lock: it belongs to another user"' "mm-local says it ignored the lock"
