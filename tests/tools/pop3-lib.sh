# tests/tools/pop3-lib.sh: helpers for the tests of mm-pop3fetch, sourced
# after tests/lib.sh and tests/tools/remote-lib.sh (bg, wait_port).
#
#   pop3_drop NAME N [SIZE]   maildrop $T/NAME.drop with N messages m1..mN
#                             (Subject: mI, body padded to about SIZE bytes)
#   pop3server NAME [OPTS]    tests/tools/pop3server on that maildrop, its
#                             deletions in $T/NAME.deleted; prints the port
#   account ROUTE ACCT PORT [FILE=TEXT]...  control/routes/ROUTE/pop3/ACCT
#                             for 127.0.0.1:PORT, user alice, secret
#                             "secret", tls none, mail to alice
#   fetch ARGS...             bin/mm-pop3fetch ARGS, its log appended to
#                             $T/fetch.log and kept in $T/fetch.out
#   delivered                 Subject lines delivered to alice, sorted
#   deliver_all               one queue pass (mm-send -1)

pop3_drop() {
  local d=$T/$1.drop i pad=
  mkdir -p "$d"
  [ -n "${3:-}" ] && pad=$(head -c "$3" /dev/zero | tr '\0' 'x' | fold -w 70)
  for ((i = 1; i <= $2; i++)); do
    printf 'Subject: m%d\nMessage-ID: <m%d.%s@pop3.test>\n\n.leading dot\nmessage %d\n%s\n' "$i" "$i" "$1" "$i" "$pad" > "$d/$(printf 'uid%05d' "$i")"
  done
}

pop3server() {
  local name=$1; shift
  rm -f "$T/$name.port"
  bg "$PY" "$TOOLS/pop3server" --maildrop "$T/$name.drop" --port-file "$T/$name.port" \
    --deleted-log "$T/$name.deleted" --transcript "$T/$name.transcript" "$@"
  wait_port "$T/$name.port"
}

account() {
  local route=$1 acct=$2 port=$3 d kv
  d=$MM_HOME/control/routes/$route/pop3/$acct
  mkdir -p "$d"
  echo "127.0.0.1:$port" > "$d/server"
  echo none > "$d/tls"
  echo alice > "$d/user"
  echo alice > "$d/to"
  ( umask 077; echo secret > "$d/secret" ); chmod 600 "$d/secret"
  shift 3
  for kv in "$@"; do
    if [ -z "${kv#*=}" ]; then rm -f "$d/${kv%%=*}"; else printf '%s\n' "${kv#*=}" > "$d/${kv%%=*}"; fi
  done
}

fetch() {
  "$MM_HOME/bin/mm-pop3fetch" "$@" >"$T/fetch.out" 2>&1
  local st=$?
  cat "$T/fetch.out" >> "$T/fetch.log"
  return $st
}

delivered() {
  local d=$MM_HOME/home/alice/Maildir
  [ -d "$d" ] || return 0
  find "$d/new" "$d/cur" -type f -exec grep -h '^Subject:' {} + 2>/dev/null | sort
}

deliver_all() { "$MM_HOME/bin/mm-send" -1 >>"$MM_HOME/log" 2>&1; }

left() { ls "$T/$1.drop" | wc -l; }
