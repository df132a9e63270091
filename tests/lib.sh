# tests/lib.sh: TAP helpers and private-instance helpers for mm's tests.
# Sourced by every tests/*.t (bash). Nothing here touches the machine's
# own mail setup: every test runs on a fresh instance in a temporary
# directory, found by the programs through MM_HOME.
#
# TAP
#   plan N              print the plan first (or call done_testing at the end)
#   skip_all REASON     "1..0 # SKIP REASON" and exit 0
#   ok COND NAME        COND is a shell condition, evaluated with eval:
#                         ok '[ -s "$f" ]' "the file is not empty"
#   ok_cmd NAME CMD...  passes when CMD exits 0
#   is GOT WANT NAME    string equality
#   isnt GOT WANT NAME  string inequality
#   like GOT ERE NAME   some line of GOT matches the extended regex ERE
#   unlike GOT ERE NAME no line of GOT matches
#   skip N REASON       N "ok # skip" lines
#   diag TEXT...        "# TEXT" on stderr (prove shows it)
#   note TEXT...        "# TEXT" on stdout
#   bail REASON         "Bail out!" and exit
#   done_testing        prints "1..N" when there was no plan
#   The exit status is the number of failed tests (at most 254).
#
# Paths
#   TOP     the repository root
#   BUILD   $TOP/${MM_BUILD:-build} (MM_BUILD may be absolute)
#   TOOLS   $TOP/tests/tools
#   T       a scratch directory of the test, removed at exit (MM_KEEP=1 keeps it)
#
# Instances
#   inst_new            a fresh private instance in $T/mm (install.sh
#                       --instance), MM_HOME exported, local users alice and
#                       bob (home/alice, home/bob); removed at exit
#   inst_user NAME      another local user (home/NAME)
#   inst_start          start the queue runner (bin/mm-start) in the
#                       background, logging to $MM_HOME/log; waits until it
#                       holds queue/lock/send and listens on the trigger
#   inst_stop           SIGTERM the runner, SIGKILL after 10 s
#   inst_running        0 when the runner is alive
#   runner_pid          its pid
#   inst_pids PROG      pids of the instance's running bin/PROG processes
#   sendmail ARGS...    the instance's bin/sendmail
#   wait_until CMD...   poll CMD (every 50 ms) until it succeeds, for up to
#                       WAIT_TIMEOUT seconds (default 30); 1 on timeout
#   maildir_count USER  messages in home/USER/Maildir (new and cur)
#   maildir_files USER  their paths, one a line
#   maildir_grep USER ERE   messages of USER with a line matching ERE
#   has_mail USER ERE   some message of USER has a line matching ERE
#   nonempty DIR        DIR exists and has an entry
#   (wait_until runs its command again each time: give it a command such
#   as has_mail, not a $(...) that the shell expands once beforehand)
#   mbox_count FILE     "From " separator lines in an mbox (0 when absent)
#   queue_count         files in queue/mess
#   queue_ids           their names (message ids), one a line
#   log_has ERE         the instance log has a line matching ERE
#   log_count ERE       how many lines match
#   age_message ID SECS make message ID look SECS seconds older (tests/tools/age)
#   msg MAILBOXFILE     print a delivered message (alias of cat, for reading)
#   has_cmd CMD         0 when CMD is in PATH (for skips)
#   is_root             0 when running as root
#   need_tmpfs          skip_all unless root can mount a tiny tmpfs here

set -u
export LC_ALL=C
umask 022

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case ${MM_BUILD:-build} in
  /*) BUILD=${MM_BUILD} ;;
  *) BUILD=$TOP/${MM_BUILD:-build} ;;
esac
TOOLS=$TOP/tests/tools
PYTHON=/usr/bin/python3
WAIT_TIMEOUT=${WAIT_TIMEOUT:-30}
export TOP BUILD TOOLS

# ---------------------------------------------------------------- TAP

_tap_n=0
_tap_failed=0
_tap_file=${0#"$TOP/"}
_tap_planned=
_tap_skipall=

plan() { _tap_planned=$1; echo "1..$1"; }

skip_all() { _tap_skipall=1; echo "1..0 # SKIP $*"; exit 0; }

# (with MM_FAILLOG set, tests/run's, each line also goes there, after the
# test's name, so that the run's end can repeat what a failed test said)
diag() {
  local l
  printf '%s\n' "$*" | while IFS= read -r l; do
    printf '# %s\n' "$l" >&2
    [ -z "${MM_FAILLOG:-}" ] || printf '%s: %s\n' "$_tap_file" "$l" >>"$MM_FAILLOG"
  done
}
note() { local l; printf '%s\n' "$*" | while IFS= read -r l; do printf '# %s\n' "$l"; done; }

bail() { echo "Bail out! $*"; exit 255; }

_tap_result() {  # STATUS NAME
  _tap_n=$((_tap_n + 1))
  if [ "$1" = 0 ]; then
    echo "ok $_tap_n - $2"
  else
    _tap_failed=$((_tap_failed + 1))
    echo "not ok $_tap_n - $2"
    local caller="${BASH_SOURCE[2]:-?}:${BASH_LINENO[1]:-?}"
    diag "  Failed test '$2' at $caller"
  fi
  return "$1"
}

# (local names with a leading underscore: COND may use any name of the test)
ok() {
  local _ok_st=0
  eval "$1" || _ok_st=1
  _tap_result $_ok_st "${2:-$1}"
}

ok_cmd() {
  local _ok_name=$1 _ok_st=0; shift
  "$@" || _ok_st=1
  _tap_result $_ok_st "$_ok_name"
}

is() {
  if [ "$1" = "$2" ]; then _tap_result 0 "$3"; return 0; fi
  _tap_result 1 "$3"
  diag "         got: '$1'" "    expected: '$2'"
  return 1
}

isnt() {
  if [ "$1" != "$2" ]; then _tap_result 0 "$3"; return 0; fi
  _tap_result 1 "$3"
  diag "    got '$1', expected anything else"
  return 1
}

like() {
  if printf '%s\n' "$1" | grep -Eq -- "$2"; then _tap_result 0 "$3"; return 0; fi
  _tap_result 1 "$3"
  diag "    no line matches /$2/ in:" "$(printf '%s\n' "$1" | head -n 40)"
  return 1
}

unlike() {
  if ! printf '%s\n' "$1" | grep -Eq -- "$2"; then _tap_result 0 "$3"; return 0; fi
  _tap_result 1 "$3"
  diag "    a line matches /$2/:" "$(printf '%s\n' "$1" | grep -E -- "$2" | head -n 10)"
  return 1
}

skip() {
  local i
  for ((i = 0; i < $1; i++)); do
    _tap_n=$((_tap_n + 1))
    echo "ok $_tap_n # skip $2"
  done
}

done_testing() { [ -n "$_tap_planned" ] || { echo "1..$_tap_n"; _tap_planned=$_tap_n; }; }

has_cmd() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" = 0 ]; }
# skip_all unless a tiny tmpfs can be mounted (root, and allowed here):
# the full-disk tests put a queue or a mailbox on one
need_tmpfs() {
  local probe=$T/tmpfs-probe
  is_root || skip_all "the full-disk test mounts a tmpfs: run as root"
  mkdir -p "$probe"
  mount -t tmpfs -o size=64k tmpfs "$probe" 2>/dev/null || skip_all "cannot mount a tmpfs here"
  umount "$probe"
}

# ---------------------------------------------------------------- scratch and cleanup

T=$(mktemp -d "${TMPDIR:-/tmp}/mm-test.XXXXXX") || bail "cannot create a temporary directory"
chmod 755 "$T"
export T
_cleanup_hooks=()
_sanitizer_re='ERROR: (Address|Leak)Sanitizer|runtime error: '

# at_exit CMD: run CMD (eval) at exit, before the instance is removed
at_exit() { _cleanup_hooks+=("$1"); }

_lib_exit() {
  local st=$?
  local h
  for h in "${_cleanup_hooks[@]+"${_cleanup_hooks[@]}"}"; do eval "$h" || true; done
  if [ -n "${MM_HOME:-}" ] && [ -d "$MM_HOME" ]; then
    inst_stop >/dev/null 2>&1 || true
    _kill_leftovers
    # a sanitizer report from a daemon fails the test even when the
    # daemon's death went unnoticed (a retried delivery, say)
    if [ -s "$MM_HOME/log" ] && grep -Eq "$_sanitizer_re" "$MM_HOME/log"; then
      _tap_failed=$((_tap_failed + 1))
      diag "a sanitizer report is in the instance log:" \
        "$(grep -E -B 3 -A 14 "$_sanitizer_re" "$MM_HOME/log" | grep -v '^  0x\|Shadow\|^ *[A-Z][a-z ]*: *[0-9a-f]\{2\}' | head -n 60)"
    elif [ "$_tap_failed" -gt 0 ] && [ -s "$MM_HOME/log" ]; then
      diag "last lines of the instance log $MM_HOME/log:" "$(tail -n 40 "$MM_HOME/log")"
    fi
  fi
  # anything mounted by the test under the scratch directory
  local m
  for m in $(awk -v t="$T" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  if [ "${MM_KEEP:-0}" = 1 ]; then
    diag "kept $T"
  else
    rm -rf "$T"
  fi
  if [ -z "$_tap_skipall" ]; then
    done_testing
    if [ "$_tap_n" != "$_tap_planned" ]; then
      diag "planned $_tap_planned tests but ran $_tap_n"
    fi
  fi
  [ $st = 255 ] && exit 255
  [ "$_tap_failed" -gt 254 ] && _tap_failed=254
  exit "$_tap_failed"
}
trap _lib_exit EXIT
trap 'exit 130' INT TERM
# a harness that went away: still stop the instance and clean up
trap 'exit 141' PIPE

# ---------------------------------------------------------------- polling

# A queue runner that died on its own (a crash) ends the wait at once:
# nothing will change any more, and the log says why.
_runner_gone=
wait_until() {
  local deadline=$((SECONDS + WAIT_TIMEOUT))
  while :; do
    "$@" && return 0
    [ $SECONDS -ge $deadline ] && return 1
    if [ -e "$T/runner.pid" ] && ! inst_running; then
      "$@" && return 0
      if [ -z "$_runner_gone" ]; then
        _runner_gone=1
        diag "the queue runner (pid $(runner_pid)) has died; its log ends:" "$(tail -n 5 "$MM_HOME/log" 2>/dev/null)"
      fi
      return 1
    fi
    sleep 0.05
  done
}

# ---------------------------------------------------------------- instances

inst_new() {
  [ -x "$TOP/install.sh" ] || bail "install.sh is missing"
  [ -x "$BUILD/sendmail" ] || bail "$BUILD/sendmail is missing: run make (B=${MM_BUILD:-build})"
  MM_HOME=$T/mm
  export MM_HOME
  "$TOP/install.sh" --instance "$MM_HOME" --build "$BUILD" >"$T/install.out" 2>&1 \
    || bail "install.sh --instance failed: $(cat "$T/install.out")"
  OWNER=$(cat "$MM_HOME/control/instance")
  export OWNER
  inst_user alice
  inst_user bob
}

inst_user() { mkdir -p "$MM_HOME/home/$1"; }

# pids of the instance's processes running bin/PROG
inst_pids() {
  local p exe
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    [ "$exe" = "$MM_HOME/bin/$1" ] && echo "${p#/proc/}"
  done
  return 0
}

_kill_leftovers() {
  local p exe
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    case $exe in "$MM_HOME"/bin/*) kill -9 "${p#/proc/}" 2>/dev/null ;; esac
  done
  return 0
}

runner_pid() { cat "$T/runner.pid" 2>/dev/null; }

_alive() {  # PID: alive and not a zombie
  local st
  [ -n "$1" ] || return 1
  st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

inst_running() { _alive "$(runner_pid)"; }

# the queue runner holds a lock on queue/lock/send (fcntl or flock: both
# show in /proc/locks by inode) and has the trigger fifo open
_runner_ready() {
  local pid ino fd
  pid=$(runner_pid)
  _alive "$pid" || return 2
  ino=$(stat -c %i "$MM_HOME/queue/lock/send" 2>/dev/null) || return 1
  grep -Eq "[0-9a-f]+:[0-9a-f]+:$ino " /proc/locks || return 1
  for fd in /proc/"$pid"/fd/*; do
    [ "$(readlink "$fd" 2>/dev/null)" = "$MM_HOME/queue/lock/trigger" ] && return 0
  done
  return 1
}

inst_start() {
  if inst_running; then return 0; fi
  _runner_gone=
  ( exec "$MM_HOME/bin/mm-start" >>"$MM_HOME/log" 2>&1 ) &
  echo $! >"$T/runner.pid"
  # no "Killed" job notice from the shell when a test kills it on purpose
  disown $! 2>/dev/null
  local deadline=$((SECONDS + 20)) r
  while :; do
    _runner_ready; r=$?
    [ $r = 0 ] && return 0
    if [ $r = 2 ]; then
      diag "the queue runner died at start:" "$(tail -n 20 "$MM_HOME/log" 2>/dev/null)"
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      diag "the queue runner did not take its lock and trigger within 20 s"
      return 1
    fi
    sleep 0.05
  done
}

inst_stop() {
  local pid i
  pid=$(runner_pid)
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 200; i++)); do
    _alive "$pid" || break
    sleep 0.05
  done
  _alive "$pid" && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  rm -f "$T/runner.pid"
  # mm-lspawn leaves when mm-send's pipe closes
  for ((i = 0; i < 100; i++)); do
    [ -z "$(inst_pids mm-lspawn)" ] && break
    sleep 0.05
  done
  return 0
}

sendmail() { "$MM_HOME/bin/sendmail" "$@"; }

# ---------------------------------------------------------------- mailboxes, queue, log

maildir_files() {
  local d=$MM_HOME/home/$1/Maildir
  [ -d "$d" ] || return 0
  find "$d/new" "$d/cur" -type f 2>/dev/null | sort
}

maildir_count() { maildir_files "$1" | grep -c . ; }

maildir_grep() {
  local f
  maildir_files "$1" | while IFS= read -r f; do
    grep -Eq -- "$2" "$f" && echo "$f"
  done
  return 0
}

has_mail() { [ -n "$(maildir_grep "$1" "$2")" ]; }

nonempty() { [ -n "$(ls -A "$1" 2>/dev/null)" ]; }

mbox_count() {
  [ -f "$1" ] || { echo 0; return 0; }
  grep -c '^From ' "$1"
}

queue_ids() { ls "$MM_HOME/queue/mess" 2>/dev/null | sort -n; }
queue_count() { queue_ids | grep -c . ; }

log_has() { grep -Eq -- "$1" "$MM_HOME/log" 2>/dev/null; }
log_count() { grep -Ec -- "$1" "$MM_HOME/log" 2>/dev/null; }

age_message() { "$PYTHON" "$TOOLS/age" "$MM_HOME" "$1" "$2"; }

msg() { cat "$@"; }

# count_is N CMD...: the output of CMD is N (for wait_until)
count_is() { local want=$1; shift; [ "$("$@")" = "$want" ]; }
