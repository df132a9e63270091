# tests/tools/install-lib.sh: helpers for the tests of the system install
# (tests/5NN-install-*.t), sourced after tests/lib.sh. They need root:
# install.sh creates real users and groups, with names of the test's own
# (PREFIX + a role letter), and installs into $T/mm with the system's
# files under $T/root. Nothing outside $T is touched but /etc/passwd,
# /etc/group and /etc/shadow, and every user, group and process the
# test made is removed at exit, whatever happened.
#
#   itest_init PREFIX   skip unless root with the tools; names:
#                       IQ IS ID IR IP IA IL (role users), IG (the queue's
#                       group), IO (online group), ITLS (the tls group), U1 U2 (ordinary users,
#                       made by itest_users); IHOME=$T/mm, IROOT=$T/root
#   itest_install ARGS  install.sh --home $IHOME --users $T/users
#                       --build $T/build --root $IROOT ARGS (output in $T/install.out)
#   itest_users         the ordinary users U1 and U2, homes in $T/home
#   as_user NAME CMD    CMD as NAME with its groups and a login's
#                       environment (env -i: PATH HOME USER LOGNAME)
#   as_role NAME CMD    CMD as NAME with its primary group only
#   mode_of PATH        "owner group octal-mode" (stat)
#   svscan_start        svscan on $IHOME/service (mm-send, mm-smtpd, their logs)
#   pids_of PROG        pids running $IHOME/bin/PROG
#   send_ready          mm-send holds queue/lock/send and reads the trigger
#   ids_of PID          "ruid euid rgid egid" of a process (ps)

itest_init() {
  is_root || skip_all "the install tests need root (real users, setuid programs)"
  case ${MM_BUILD:-build} in
    *asan*) skip_all "the install tests build their own programs; they run in the plain suite" ;;
  esac
  local c
  for c in useradd userdel groupadd groupdel usermod setpriv make cc; do
    has_cmd "$c" || skip_all "$c is not installed"
  done
  P=$1
  IQ=${P}q IS=${P}s ID=${P}d IR=${P}r IP=${P}p IA=${P}al IL=${P}l IG=$P IO=${P}on
  U1=${P}u1 U2=${P}u2
  IHOME=$T/mm IROOT=$T/root
  # lib.sh stops and shows what runs from $MM_HOME/bin; the programs of
  # an install ignore the variable, so it is not exported
  MM_HOME=$IHOME
  export -n MM_HOME
  ITLS=${P}tls
  printf '%s\n' "$IQ" "$IS" "$ID" "$IR" "$IP" "$IA" "$IL" "$IG" "$IO" "$ITLS" > "$T/users"
  # an earlier run that was killed may have left its accounts
  _itest_remove_accounts
  at_exit _itest_cleanup
}

_itest_users_all() { echo "$IQ $IS $ID $IR $IP $IA $IL $U1 $U2"; }
_itest_groups_all() { echo "$IG $IO $ID $IR $IP $IA $IL $U1 $U2 ${ITLS:-}"; }

# every process of the test's users or with its cwd or program in $T
_itest_procs() {
  local p exe cwd u uids=" "
  for u in $(_itest_users_all); do
    u=$(id -u "$u" 2>/dev/null) && uids="$uids$u "
  done
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = $$ ] && continue
    [ "${p#/proc/}" = "${BASHPID:-$$}" ] && continue
    exe=$(readlink "$p/exe" 2>/dev/null) || exe=
    cwd=$(readlink "$p/cwd" 2>/dev/null) || cwd=
    case "$exe" in "$T"/*) echo "${p#/proc/}"; continue ;; esac
    case "$cwd" in "$T"|"$T"/*) echo "${p#/proc/}"; continue ;; esac
    u=$(awk '/^Uid:/ { print $2; exit }' "$p/status" 2>/dev/null) || continue
    case "$uids" in *" $u "*) echo "${p#/proc/}" ;; esac
  done
}

_itest_kill_all() {
  local i pids
  # svscan first, so that nothing is started again
  pkill_exact_svscan
  for i in 1 2 3 4 5 6 7 8 9 10; do
    pids=$(_itest_procs)
    [ -n "$pids" ] || return 0
    kill -9 $pids 2>/dev/null
    sleep 0.1
  done
}

# svscan's pid is remembered by svscan_start
pkill_exact_svscan() {
  [ -n "${_svscan_pid:-}" ] && kill -9 "$_svscan_pid" 2>/dev/null
  _svscan_pid=
  return 0
}

_itest_remove_accounts() {
  local u g
  [ -n "${P:-}" ] || return 0
  _itest_kill_all
  for u in $(_itest_users_all); do
    getent passwd "$u" >/dev/null && userdel "$u" >/dev/null 2>&1
  done
  for g in $(_itest_groups_all); do
    getent group "$g" >/dev/null && groupdel "$g" >/dev/null 2>&1
  done
  return 0
}

_itest_cleanup() {
  if [ -d "$IHOME/service" ] && has_cmd svc; then
    svc -dx "$IHOME"/service/*/log "$IHOME"/service/* >/dev/null 2>&1
  fi
  if [ "$_tap_failed" -gt 0 ]; then
    local f
    for f in "$IHOME"/service/*/log/main/current "$T/svscan.log"; do
      [ -s "$f" ] && diag "last lines of $f:" "$(tail -n 30 "$f")"
    done
  fi
  _itest_remove_accounts
}

itest_install() {
  "$TOP/install.sh" --home "$IHOME" --users "$T/users" --build "$T/build" --root "$IROOT" "$@" >"$T/install.out" 2>&1
}

itest_users() {
  mkdir -p "$T/home"
  useradd -U -m -d "$T/home/$U1" -s /bin/sh "$U1" || bail "useradd $U1 failed"
  useradd -U -m -d "$T/home/$U2" -s /bin/sh "$U2" || bail "useradd $U2 failed"
}

as_user() {
  local u=$1; shift
  setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
    env -i PATH=/usr/bin:/bin HOME="$(getent passwd "$u" | cut -d: -f6)" USER="$u" LOGNAME="$u" "$@"
}

as_role() {
  local u=$1; shift
  setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups env -i PATH=/usr/bin:/bin "$@"
}

mode_of() { stat -c '%U %G %a' "$1" 2>/dev/null; }

svscan_start() {
  ( cd "$IHOME/service" && exec svscan . ) >"$T/svscan.log" 2>&1 &
  _svscan_pid=$!
  disown "$_svscan_pid" 2>/dev/null
}

pids_of() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$IHOME/bin/$1" ] && echo "${p#/proc/}"
  done
  return 0
}

send_ready() {
  local pid ino fd
  pid=$(pids_of mm-send | head -n 1)
  [ -n "$pid" ] || return 1
  ino=$(stat -c %i "$IHOME/queue/lock/send" 2>/dev/null) || return 1
  grep -Eq "[0-9a-f]+:[0-9a-f]+:$ino " /proc/locks || return 1
  for fd in /proc/"$pid"/fd/*; do
    [ "$(readlink "$fd" 2>/dev/null)" = "$IHOME/queue/lock/trigger" ] && return 0
  done
  return 1
}

ids_of() { ps -o ruid=,euid=,rgid=,egid= -p "$1" | awk '{ print $1, $2, $3, $4 }'; }
