# tests/tools/remote-lib.sh: helpers for the tests of mm-remote and
# mm-online, sourced after tests/lib.sh. Every server listens on a
# loopback address, on a port the kernel picked.
#
#   remote_setup            bin/mm-remote and bin/mm-online in the instance,
#                           queue/online/ made
#   need_aiosmtpd           skip_all without python3-aiosmtpd
#   bg CMD...               run CMD in the background, killed at exit
#   free_port               a free TCP port on 127.0.0.1
#   wait_port FILE          wait for a --port-file to appear, print the port
#   smtpserver NAME [OPTS]  tests/tools/smtpserver on $SMTP_LISTEN (default
#                           127.0.0.1) port $SMTP_PORT (default: any), spool
#                           $T/NAME.spool, log $T/NAME.log; prints the port
#   mmsmtpd NAME [IP]       mm-smtpd of a second private instance $T/NAME
#                           under tcpserver, accepting mail for b.example
#                           (and RELAYCLIENT); prints the port
#   proxy NAME PORT [OPTS]  tests/tools/delayproxy to 127.0.0.1:PORT; prints its port
#   route NAME FILE [TEXT]  control/routes/NAME/FILE with TEXT (empty: touch)
#   queue_msg ARGS...       sendmail -odq ARGS with the message on stdin;
#                           prints the new message id
#   req ID SENDER RCPT...   one request for mm-remote (INTERNALS 8.3)
#   remote ROUTE DEST       run mm-remote with the requests on stdin;
#                           results as lines "ID RCPT RESULTTEXT" on stdout,
#                           its log appended to $T/remote.log
#   spool_count NAME        messages a smtpserver accepted
#   b_count                 messages the mm-smtpd instance queued

PY=/usr/bin/python3

remote_setup() {
  local p
  for p in mm-remote mm-online; do
    cp "$BUILD/$p" "$MM_HOME/bin/.$p.new" && mv -f "$MM_HOME/bin/.$p.new" "$MM_HOME/bin/$p"
  done
  mkdir -p "$MM_HOME/queue/online" "$MM_HOME/control/routes"
}

need_aiosmtpd() {
  [ -e /usr/lib/python3/dist-packages/aiosmtpd/__init__.py ] || skip_all "python3-aiosmtpd is not installed"
}

# the pids go to a file: bg runs inside $(...) subshells too
_bg_kill() {
  local p
  [ -f "$T/bg.pids" ] || return 0
  for p in $(cat "$T/bg.pids"); do kill "$p" 2>/dev/null; done
  for p in $(cat "$T/bg.pids"); do
    for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
  done
  return 0
}
at_exit _bg_kill
# stdout goes away, or a $(...) around the caller would wait for it
bg() { "$@" >/dev/null & echo $! >> "$T/bg.pids"; }

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
  wait_until test -s "$1" || bail "$1 did not appear"
  cat "$1"
}

smtpserver() {
  local name=$1; shift
  mkdir -p "$T/$name.spool"
  rm -f "$T/$name.port"
  bg "$PY" "$TOOLS/smtpserver" --spool "$T/$name.spool" --port-file "$T/$name.port" "$@" "${SMTP_LISTEN:-127.0.0.1}:${SMTP_PORT:-0}" 2>>"$T/$name.log"
  wait_port "$T/$name.port"
}

mmsmtpd() {
  local name=$1 ip=${2:-127.0.0.1} port i
  "$TOP/install.sh" --instance "$T/$name" --build "$BUILD" >/dev/null 2>&1 || bail "install.sh for $name failed"
  echo b.example >> "$T/$name/control/locals"
  mkdir -p "$T/$name/home/bob" "$T/$name/home/carol"
  port=$(free_port)
  bg env MM_HOME="$T/$name" RELAYCLIENT= tcpserver -q "$ip" "$port" "$T/$name/bin/mm-smtpd" 2>>"$T/$name.log"
  for ((i = 0; i < 200; i++)); do
    (exec 3<>"/dev/tcp/$ip/$port") 2>/dev/null && break
    sleep 0.05
  done
  echo "$port"
}

proxy() {
  local name=$1 port=$2; shift 2
  rm -f "$T/$name.port"
  bg "$PY" "$TOOLS/delayproxy" --port-file "$T/$name.port" "$@" 127.0.0.1:0 "127.0.0.1:$port" 2>>"$T/$name.log"
  wait_port "$T/$name.port"
}

route() {
  mkdir -p "$MM_HOME/control/routes/$1"
  if [ $# -ge 3 ]; then printf '%s\n' "$3" > "$MM_HOME/control/routes/$1/$2"
  else : > "$MM_HOME/control/routes/$1/$2"
  fi
}

queue_msg() {
  local before after
  before=$(queue_ids)
  sendmail -odq "$@" || return 1
  after=$(queue_ids)
  comm -13 <(echo "$before") <(echo "$after") | head -n 1
}

req() {
  local id=$1 sender=$2 r; shift 2
  printf '%s\0%s\0' "$id" "$sender"
  for r in "$@"; do printf '%s\0' "$r"; done
  printf '\0'
}

remote() {
  "$MM_HOME/bin/mm-remote" "$@" 2>>"$T/remote.log" | tr '\0' '\n' | awk 'NR % 3 == 1 { id = $0 } NR % 3 == 2 { rc = $0 } NR % 3 == 0 { print id " " rc " " $0 }'
}

spool_count() { find "$T/$1.spool" -maxdepth 1 -type f ! -name '.*' | grep -c . ; }
spool_file() { echo "$T/$1.spool/$2"; }
b_count() { ls "$T/${1:-b}/queue/mess" 2>/dev/null | grep -c . ; }
