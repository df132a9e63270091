#!/bin/bash
# mm-pop3fetch in a system install (as root, real users): setuid to the
# pop user, run by root and the online group only; it runs with the pop
# user's ids alone, keeps its records in pop/ (the pop user's), queues
# mail as the pop user, and the pop user can read neither the queue nor
# the remote user's secrets, nor the remote user the POP3 secret.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/install-lib.sh"
. "$TOOLS/remote-lib.sh"
. "$TOOLS/pop3-lib.sh"

itest_init mmpf
plan 17

itest_install || bail "install.sh failed: $(tail -n 5 "$T/install.out")"
itest_users
pop3_drop i 3
port=$(pop3server i)
MM_HOME=$IHOME account isp box "$port" "to=$U1"
touch "$IHOME/control/routes/isp/authsecret"
itest_install || bail "the second install.sh failed: $(tail -n 5 "$T/install.out")"
sec=$IHOME/control/routes/isp/pop3/box/secret

is "$(mode_of "$IHOME/bin/mm-pop3fetch")" "$IP $IO 4510" "bin/mm-pop3fetch: setuid to the pop user, for root and the online group"
is "$(mode_of "$sec")" "$IP root 400" "the account's secret is the pop user's alone"
is "$(mode_of "$IHOME/pop")" "$IP $IP 700" "pop/ belongs to the pop user"

# a fetch as root, stalled in the middle so that ps can look at it
pop3_drop st 1
pst=$(pop3server st --fault stall-retr)
MM_HOME=$IHOME account isp stall "$pst" "to=$U1" timeout=30
chown "$IP" "$IHOME/control/routes/isp/pop3/stall/secret"
( env -i PATH=/usr/bin:/bin "$IHOME/bin/mm-pop3fetch" isp/stall >"$T/stall.out" 2>&1 & )
wait_until grep -qs '^RETR' "$T/st.transcript"
pid=$(pids_of mm-pop3fetch | head -n 1)
pu=$(id -u "$IP")
ok '[ -n "$pid" ]' "the fetch runs"
is "$(ids_of "$pid" | cut -d' ' -f1,2)" "$pu $pu" "it runs as the pop user (real and effective uid)"
kill -9 "$pid" 2>/dev/null

out=$(env -i PATH=/usr/bin:/bin "$IHOME/bin/mm-pop3fetch" isp/box 2>&1)
is "$?" 0 "root runs mm-pop3fetch: exit 0" || diag "$out"
like "$out" 'isp/box: fetch done: new 3 fetched 3 deleted 3' "three messages fetched"
is "$(ls "$IHOME/queue/mess" | wc -l)" 3 "they are in the queue"
f=$(ls "$IHOME/queue/mess" | head -n 1)
ok 'grep -aq "^u$pu\$" "$IHOME/queue/mess/$f"' "queued by the pop user's uid"
is "$(stat -c '%U %a' "$IHOME/pop/isp/box")" "$IP 700" "its records are the pop user's"

ok '! as_role "$IP" ls "$IHOME/queue/mess" >/dev/null 2>&1' "the pop user cannot list the queue"
ok '! as_role "$IP" cat "$IHOME/queue/mess/$f" >/dev/null 2>&1' "nor read a message"
ok '! as_role "$IR" cat "$sec" >/dev/null 2>&1' "the remote user cannot read the POP3 secret"
out=$(as_user "$U1" "$IHOME/bin/mm-pop3fetch" isp 2>&1)
isnt "$?" 0 "a user outside the online group cannot run it"

# the interval service: one round of its run script fetches the routes
# that are up (a permanent one here) and nothing of the others
pop3_drop lan 2
plan_port=$(pop3server lan)
mkdir -p "$IHOME/control/routes/lan"
touch "$IHOME/control/routes/lan/permanent"
MM_HOME=$IHOME account lan box "$plan_port" "to=$U1"
chown "$IP" "$IHOME/control/routes/lan/pop3/box/secret"
pop3_drop i 1
out=$(cd "$IHOME/service/mm-pop3fetch" && echo 0 > interval && timeout 60 ./run 2>&1)
like "$out" 'lan/box: fetch done: new 2 fetched 2 deleted 2' "service/mm-pop3fetch/run fetches the permanent route's account"
unlike "$out" 'isp/' "and not the accounts of a route that is down"
is "$(left i)" 1 "which keep their mail"
