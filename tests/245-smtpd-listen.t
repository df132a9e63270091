#!/bin/bash
# mm-smtpd -l, mm-smtpd as its own TCP listener (the install's service):
# everything tests/240 checks under tcpserver, against it (the same file,
# run with SMTPD_LISTEN=1: TCPREMOTEIP, RELAYCLIENT and a deny from the
# rules), and what is its own: a session is a fork of the listener, not
# a program it started;
# a denied client is logged; the connection limit holds connections in
# the backlog; SIGTERM stops the listener and not the sessions; a rules
# file that cannot be read lets nobody in; bad arguments are 64.
. "$(dirname "$0")/lib.sh"
has_cmd ss || skip_all "ss (iproute2) is not installed"
LISTEN_TESTS=12

# another listener on a port of its own: listener PORTFILE LOG ARGS...
listener() {
  local pf=$1 log=$2 p
  shift 2
  p=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  echo "$p" >"$pf"
  "$MM_HOME/bin/mm-smtpd" -l "$@" 127.0.0.1 "$p" >/dev/null 2>>"$log" &
  echo $!
}
up() { [ -n "$(ss -ltnH "sport = :$1" 2>/dev/null)" ]; }

listen_checks() {
  local sess lp p2 l2 out
  exec 3<>"/dev/tcp/127.0.0.1/$PORT"
  read -t 20 -r out <&3
  sess=$(for p in $(inst_pids mm-smtpd); do [ "$p" != "$tcps" ] && echo "$p"; done | head -n 1)
  is "$(awk '{ print $4 }' "/proc/$sess/stat" 2>/dev/null)" "$tcps" "a session is a child of the listener"
  is "$(readlink "/proc/$sess/exe")" "$MM_HOME/bin/mm-smtpd" "the same program, forked, no other started"
  printf 'QUIT\r\n' >&3
  exec 3<&- 3>&-
  like "$(cat "$T/smtpd.log")" "mm-smtpd: warning: denied: 127\\.0\\.0\\.3" "a denied client is logged"

  # one connection at a time: the second waits for the first to end
  lp=$(listener "$T/p2" "$T/l2.log" -c 1 -x "$T/rules.cdb")
  p2=$(cat "$T/p2")
  ok 'wait_until up "$p2"' "a listener with -c 1"
  exec 4<>"/dev/tcp/127.0.0.1/$p2"
  read -t 20 -r out <&4
  exec 5<>"/dev/tcp/127.0.0.1/$p2"
  out=
  read -t 1 -r out <&5
  is "$out" "" "the second connection gets no greeting while the first is open"
  printf 'QUIT\r\n' >&4
  exec 4<&- 4>&-
  read -t 20 -r out <&5
  like "$out" "^220 " "and its greeting once the first has ended"

  # SIGTERM: no new connections, the open one goes on
  kill -TERM "$lp"
  ok 'wait_until eval "! up $p2"' "SIGTERM closes the listener"
  printf 'QUIT\r\n' >&5
  read -t 20 -r out <&5
  like "$out" "^221 " "while the session it had keeps going"
  exec 5<&- 5>&-

  # rules that cannot be read: nobody is let in
  l2=$(listener "$T/p3" "$T/l3.log" -x "$T/missing.cdb")
  ok 'wait_until up "$(cat "$T/p3")"' "a listener with a missing rules file"
  out=$(swaks -s 127.0.0.1 -p "$(cat "$T/p3")" --timeout 10 --to "alice@$ME" --quit-after CONNECT 2>&1)
  unlike "$out" '^<-  220 ' "gets nobody in" 
  kill "$l2" 2>/dev/null
  "$MM_HOME/bin/mm-smtpd" -l 127.0.0.1 >/dev/null 2>&1
  is "$?" 64 "mm-smtpd -l without a port: 64"
  "$MM_HOME/bin/mm-smtpd" -x "$T/rules.cdb" >/dev/null 2>&1
  is "$?" 64 "listener options without -l: 64"
}

SMTPD_LISTEN=1
. "$(dirname "$0")/240-smtpd-tcpserver.t"
