#!/bin/bash
# The system install (install.sh as root) into a temporary home with real
# users: --dry-run changes nothing; the users and groups of the users
# file are made once and then left alone; owners and modes give each role
# what it needs; control files come from the host's name; man pages and
# service directories are installed; a second run keeps the queue and
# the control files; --links refuses another MTA's files unless forced
# and says what it replaced; --services under a fake root.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/install-lib.sh"

itest_init mmta
plan 99

snapshot() {  # every file of the home and the fake root, with owner, mode and inode
  find "$IHOME" "$IROOT" -printf '%p %U %G %m %i %s\n' 2>/dev/null | sort
}

# ---- --dry-run first: prints the plan, changes nothing
itest_install --dry-run
st=$?
is "$st" 0 "--dry-run exits 0"
like "$(cat "$T/install.out")" "useradd --system .* $IS\$" "--dry-run prints the users it would make"
like "$(cat "$T/install.out")" "chmod 04711 $IHOME/bin/.mm-queue.new" "--dry-run prints the modes it would set"
ok '! getent passwd "$IS" >/dev/null && ! getent group "$IG" >/dev/null' "--dry-run made no user and no group"
ok '[ ! -e "$IHOME" ] && [ ! -e "$IROOT" ] && [ ! -e "$T/build" ]' "--dry-run wrote nothing, built nothing"

# ---- a non-root caller is refused
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH=/usr/bin:/bin \
  sh "$TOP/install.sh" --home "$IHOME" --users "$T/users" --build "$T/build" 2>&1)
is "$?" 77 "install.sh as an ordinary user exits 77" || diag "$out"

# ---- the install
itest_install --admin root-reader
st=$?
is "$st" 0 "install.sh exits 0" || diag "$(cat "$T/install.out")"
like "$(cat "$T/install.out")" "creating user $IQ" "it says which users it made"

nologin=$(command -v nologin || echo /usr/sbin/nologin)
for u in "$IQ" "$IS" "$ID" "$IR" "$IP" "$IA" "$IL"; do
  ent=$(getent passwd "$u")
  want_home=$IHOME
  [ "$u" = "$IA" ] && want_home=$IHOME/mail
  uid=$(echo "$ent" | cut -d: -f3)
  ok '[ -n "$ent" ] && [ "$(echo "$ent" | cut -d: -f6)" = "$want_home" ] && [ "$(echo "$ent" | cut -d: -f7)" = "$nologin" ] && [ "$uid" -lt 1000 ] && [ "$uid" -gt 0 ]' \
    "user $u: a system user, home $want_home, no login shell" || diag "$ent"
done
is "$(id -gn "$IQ") $(id -gn "$IS")" "$IG $IG" "the queue owner and the send user are in the queue's group"
for u in "$ID" "$IR" "$IP" "$IA" "$IL"; do
  is "$(id -Gn "$u")" "$u" "user $u has a group of its own and no other"
done
ok 'getent group "$IO" >/dev/null' "the online group exists"

# ---- owners and modes (README.install)
rgid=$IR
checkmode() {  # PATH "OWNER GROUP MODE"
  is "$(mode_of "$IHOME/$1")" "$2" "$1: $2"
}
checkmode . "root root 755"
checkmode bin "root root 755"
checkmode bin/mm-queue "$IQ root 4711"
checkmode bin/mm-qctl "$IQ root 4711"
checkmode bin/mm-remote "$IR $rgid 6510"
checkmode bin/mm-send "root $IG 750"
checkmode bin/mm-start "root root 700"
checkmode bin/mm-lspawn "root root 700"
checkmode bin/mm-smtpd "root root 755"
checkmode bin/mm-local "root root 755"
checkmode bin/sendmail "root root 755"
checkmode bin/mm-inject "root root 755"
checkmode bin/mm-online "root root 755"
ok '[ "$(readlink "$IHOME/bin/mailq")" = sendmail ] && [ "$(readlink "$IHOME/bin/mailrm")" = sendmail ] && [ "$(readlink "$IHOME/bin/runq")" = sendmail ] && [ "$(readlink "$IHOME/bin/newaliases")" = sendmail ]' \
  "bin/mailq, mailrm, runq, newaliases are links to sendmail"
checkmode control "root root 755"
checkmode control/me "root root 644"
checkmode queue "root root 755"
checkmode queue/tmp "$IQ $IG 2770"
checkmode queue/mess "$IQ $IG 2770"
checkmode queue/todo "$IQ $IG 2770"
checkmode queue/lock "root root 755"
checkmode queue/lock/send "$IQ $IG 660"
checkmode queue/lock/trigger "$IS $IG 622"
ok '[ -p "$IHOME/queue/lock/trigger" ]' "queue/lock/trigger is a fifo"
checkmode queue/online "root $IO 2775"
checkmode queue/flush "$IS $IO 2755"
checkmode mail "$IA $IA 700"
checkmode service/mm-send/log/main "$IL $IL 750"

# ---- no root where root has no business
out=$(env -i PATH=/usr/bin:/bin TCPREMOTEIP=127.0.0.1 "$IHOME/bin/mm-smtpd" </dev/null 2>&1)
is "$?" 77 "mm-smtpd on the network refuses to run as root" || diag "$out"
like "$(printf 'QUIT\r\n' | "$IHOME/bin/sendmail" -bs 2>&1)" "^221 " "root's own sendmail -bs still works"
out=$("$IHOME/bin/mm-remote" isp example.org </dev/null 2>&1)
is "$?" 77 "mm-remote refuses a real uid of root" || diag "$out"
out=$(echo | "$IHOME/bin/mm-local" -s 1 -- root /root root@localhost "" "" 2>&1)
is "$?" 77 "mm-local never delivers as root" || diag "$out"

# ---- control files from the host's name
host=$(hostname -f 2>/dev/null || hostname)
is "$(cat "$IHOME/control/me")" "$host" "control/me is the host's name"
is "$(cat "$IHOME/control/locals")" "localhost
$host" "control/locals: localhost and the host's name"
like "$(cat "$IHOME/control/aliases")" "^root: postmaster$" "control/aliases sends root's mail to postmaster"
like "$(cat "$IHOME/control/aliases")" "^postmaster: root-reader$" "and postmaster's to the --admin user"
ok '[ ! -e "$IHOME/control/instance" ]' "no control/instance: this is an install"
ok '[ -s "$IHOME/control/tcp.smtp.cdb" ] && grep -q "^127\.:allow,RELAYCLIENT" "$IHOME/control/tcp.smtp"' \
  "control/tcp.smtp lets loopback relay, compiled into tcp.smtp.cdb"

# ---- man pages, services
missing=
for f in "$TOP"/man/*.[1-8]; do
  s=${f##*.}
  cmp -s "$f" "$IROOT/usr/local/share/man/man$s/${f##*/}" || missing="$missing ${f##*/}"
done
is "$missing" "" "every man page is installed under PREFIX/usr/local/share/man"
ok 'grep -q "exec env - PATH=/usr/bin:/bin $IHOME/bin/mm-start" "$IHOME/service/mm-send/run" && [ -x "$IHOME/service/mm-send/run" ]' \
  "service/mm-send/run starts mm-start with a clean environment"
ok 'grep -q "setuidgid $IL multilog t ./main" "$IHOME/service/mm-send/log/run"' "its log runs multilog as the log user"
ok 'grep -q "tcpserver .*-x $IHOME/control/tcp.smtp.cdb -c" "$IHOME/service/mm-smtpd/run" && grep -q "id -u $ID" "$IHOME/service/mm-smtpd/run"' \
  "service/mm-smtpd/run: tcpserver with the rules, a limit, and the smtpd user"
ok 'sh -n "$IHOME/service/mm-send/run" && sh -n "$IHOME/service/mm-smtpd/run" && sh -n "$IHOME/service/mm-smtpd/log/run"' "the run scripts are valid sh"
is "$(cat "$IHOME/service/mm-smtpd/port") $(cat "$IHOME/service/mm-smtpd/concurrency")" "25 20" "mm-smtpd listens on port 25, 20 connections at most"
is "$(cat "$IHOME/service/mm-smtpd/listener")" tcpserver "under tcpserver unless --smtp-listener says otherwise"
ok 'grep -q "^ExecStart=$IHOME/service/mm-send/run" "$IHOME/systemd/mm-send.service" && grep -q "^ExecStart=$IHOME/service/mm-smtpd/run" "$IHOME/systemd/mm-smtpd.service"' \
  "systemd units run the same scripts"
ok '[ ! -e "$IROOT/etc/service" ] && [ ! -e "$IROOT/etc/systemd" ] && [ ! -e "$IROOT/usr/sbin/sendmail" ]' \
  "no links and no services without --links and --services"

# ---- a second run: the queue and the control files stay; a changed account is left alone
printf 'Subject: stays\n\nkept over an upgrade\n' | "$IHOME/bin/sendmail" -odq someone@localhost
id1=$(ls "$IHOME/queue/mess")
ok '[ -n "$id1" ]' "a message waits in the queue (no mm-send runs)"
echo changed.example > "$IHOME/control/me"
usermod -s /bin/false "$ID"
ino=$(stat -c %i "$IHOME/bin/mm-queue")
uids="$(id -u "$IQ") $(id -u "$IS") $(id -u "$ID")"
itest_install --admin root-reader
is "$?" 0 "a second run exits 0" || diag "$(cat "$T/install.out")"
unlike "$(cat "$T/install.out")" "creating (user|group)" "it makes no user or group again"
is "$(ls "$IHOME/queue/mess")" "$id1" "the queued message is still there"
is "$(cat "$IHOME/control/me")" changed.example "control/me kept its edit"
is "$(getent passwd "$ID" | cut -d: -f7)" /bin/false "an existing account is left as it is"
is "$(id -u "$IQ") $(id -u "$IS") $(id -u "$ID")" "$uids" "the users keep their uids"
isnt "$(stat -c %i "$IHOME/bin/mm-queue")" "$ino" "the programs were replaced (renamed into place)"
is "$(mode_of "$IHOME/bin/mm-queue")" "$IQ root 4711" "and keep their modes"
like "$("$IHOME/bin/mailq")" "^$id1 " "mailq (setuid mm-qctl) lists the message"

# ---- --dry-run on an install changes nothing
before=$(snapshot)
itest_install --dry-run --links --services daemontools
is "$?" 0 "--dry-run on an install exits 0"
is "$(snapshot)" "$before" "and changes nothing"

# ---- an account that would undo the separation stops the install
sed "3s/.*/$IS/" "$T/users" > "$T/users.bad"
before=$(snapshot)
out=$("$TOP/install.sh" --home "$IHOME" --users "$T/users.bad" --build "$T/build.bad" --root "$IROOT" 2>&1)
is "$?" 78 "an smtpd user in the queue's group: exit 78"
like "$out" "could read and change the queue" "it says why"
is "$(snapshot)" "$before" "nothing was changed"

# ---- links: another MTA's files are kept unless forced
mkdir -p "$IROOT/usr/sbin" "$IROOT/usr/bin"
printf '#!/bin/sh\necho other MTA\n' > "$IROOT/usr/sbin/sendmail"
chmod 755 "$IROOT/usr/sbin/sendmail"
ln -s /usr/sbin/exim4 "$IROOT/usr/bin/mailq"
before=$(snapshot)
itest_install --links
is "$?" 73 "--links with another MTA's files: exit 73"
like "$(cat "$T/install.out")" "$IROOT/usr/sbin/sendmail: a file" "it names the file it did not replace"
like "$(cat "$T/install.out")" "$IROOT/usr/bin/mailq: a symlink to /usr/sbin/exim4" "and the link"
is "$(snapshot)" "$before" "and changed nothing"

itest_install --force-links
is "$?" 0 "--force-links exits 0" || diag "$(cat "$T/install.out")"
like "$(cat "$T/install.out")" "replaced $IROOT/usr/sbin/sendmail \(a file\); it is now $IROOT/usr/sbin/sendmail.mm-saved" \
  "it says what it replaced and where the old one went"
like "$(cat "$T/install.out")" "replaced $IROOT/usr/bin/mailq \(a symlink to /usr/sbin/exim4\)" "the old mailq too"
is "$(cat "$IROOT/usr/sbin/sendmail.mm-saved")" "#!/bin/sh
echo other MTA" "the old sendmail is kept"
linked=
for l in usr/sbin/sendmail:sendmail usr/lib/sendmail:sendmail usr/bin/mailq:mailq usr/bin/runq:runq usr/bin/mailrm:mailrm usr/bin/newaliases:newaliases; do
  [ "$(readlink "$IROOT/${l%%:*}")" = "$IHOME/bin/${l#*:}" ] && linked="$linked ${l%%:*}"
done
is "$linked" " usr/sbin/sendmail usr/lib/sendmail usr/bin/mailq usr/bin/runq usr/bin/mailrm usr/bin/newaliases" \
  "all six links point into the install"
like "$("$IROOT/usr/bin/mailq")" "^$id1 " "PREFIX/usr/bin/mailq works as mailq"
itest_install --links
is "$?" 0 "--links again: mm's own links are no obstacle"
unlike "$(cat "$T/install.out")" "replaced|linking" "and nothing is replaced again"

# ---- services under the fake root
itest_install --services daemontools
ok '[ "$(readlink "$IROOT/etc/service/mm-send")" = "$IHOME/service/mm-send" ] && [ "$(readlink "$IROOT/etc/service/mm-smtpd")" = "$IHOME/service/mm-smtpd" ]' \
  "--services daemontools links the service directories into PREFIX/etc/service"
itest_install --services systemd
ok 'cmp -s "$IHOME/systemd/mm-send.service" "$IROOT/etc/systemd/system/mm-send.service" && cmp -s "$IHOME/systemd/mm-smtpd.service" "$IROOT/etc/systemd/system/mm-smtpd.service"' \
  "--services systemd installs the units under PREFIX"
like "$(cat "$T/install.out")" "then: systemctl daemon-reload; systemctl enable --now mm-send.service mm-smtpd.service" \
  "and says how to start them (not under a prefix)"
