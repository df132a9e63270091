# tests/tools/dovecot-lib.sh: Debian's dovecot-pop3d as a POP3 server for
# mm-pop3fetch's tests, sourced after lib.sh and remote-lib.sh. It runs
# as root with a private configuration (dovecot -c): its own base_dir,
# state and log under $T/dovecot, a listener on a free loopback port and
# no other; the machine's own dovecot (if any) and mail are not touched.
#
#   need_dovecot            skip_all unless root with /usr/sbin/dovecot
#   dovecot_start USER PASS [CERT KEY]  start it with one user (mail owned
#                           by nobody); sets DOVECOT_PORT; with a certificate
#                           and key, STLS there and POP3S on DOVECOT_PORT_S
#   dovecot_start_oauth USER TOKENFILE   the same, its logins XOAUTH2 and
#                           OAUTHBEARER checked by an oauth2 passdb against
#                           tests/tools/oauth-introspect (the good token is
#                           the first line of TOKENFILE, read at each login;
#                           its log in $T/introspect.log)
#   dovecot_put N [SIZE]    N messages d1..dN into USER's Maildir/new
#   dovecot_count           messages left in the Maildir

need_dovecot() {
  is_root || skip_all "dovecot runs as root with its own configuration: run as root"
  [ -x /usr/sbin/dovecot ] || skip_all "dovecot-pop3d is not installed"
  [ -e /usr/lib/dovecot/pop3 ] || skip_all "dovecot-pop3d is not installed"
  id nobody >/dev/null 2>&1 || skip_all "no user nobody"
}

_dovecot_stop() {
  [ -f "$T/dovecot/run/master.pid" ] && kill "$(cat "$T/dovecot/run/master.pid")" 2>/dev/null
  return 0
}

dovecot_start_oauth() {
  local d=$T/dovecot
  mkdir -p "$d"
  rm -f "$d/introspect.port"
  bg "$PY" "$TOOLS/oauth-introspect" --token-file "$2" --user "$1" --port-file "$d/introspect.port" --log "$T/introspect.log"
  wait_until test -s "$d/introspect.port" || bail "the introspection endpoint did not start"
  cat > "$d/oauth2.conf" <<CONF
introspection_mode = post
introspection_url = http://127.0.0.1:$(cat "$d/introspect.port")/introspect
username_attribute = username
active_attribute = active
active_value = true
CONF
  DOVECOT_AUTH="xoauth2 oauthbearer" DOVECOT_PASSDB="driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $d/oauth2.conf" dovecot_start "$1" unused
}

dovecot_start() {
  local d=$T/dovecot
  DOVECOT_USER=$1
  mkdir -p "$d/run" "$d/state" "$d/mail/$1/new" "$d/mail/$1/cur" "$d/mail/$1/tmp" "$d/home"
  chown -R nobody:"$(id -gn nobody)" "$d/mail" "$d/home"
  DOVECOT_PORT=$(free_port)
  DOVECOT_PORT_S=0
  local ssl="ssl = no"
  if [ -n "${3:-}" ]; then
    DOVECOT_PORT_S=$(free_port)
    ssl="ssl = yes
ssl_cert = <$3
ssl_key = <$4"
  fi
  printf '%s:{PLAIN}%s::::\n' "$1" "$2" > "$d/passwd"
  cat > "$d/dovecot.conf" <<CONF
base_dir = $d/run
state_dir = $d/state
log_path = $d/log
instance_name = mm-test-$$
protocols = pop3
listen = 127.0.0.1
$ssl
disable_plaintext_auth = no
auth_mechanisms = ${DOVECOT_AUTH:-plain}
mail_location = maildir:$d/mail/%u
first_valid_uid = 1
passdb {
  ${DOVECOT_PASSDB:-driver = passwd-file
  args = $d/passwd}
}
userdb {
  driver = static
  args = uid=nobody gid=$(id -gn nobody) home=$d/home/%u
}
service pop3-login {
  inet_listener pop3 {
    port = $DOVECOT_PORT
  }
  inet_listener pop3s {
    port = $DOVECOT_PORT_S
    ssl = yes
  }
}
service anvil {
  chroot =
}
pop3_uidl_format = %08Xu%08Xv
CONF
  at_exit _dovecot_stop
  /usr/sbin/dovecot -c "$d/dovecot.conf" || bail "dovecot did not start: $(tail -n 5 "$d/log" 2>/dev/null)"
  wait_until "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $DOVECOT_PORT)).close()" 2>/dev/null \
    || bail "dovecot does not listen on $DOVECOT_PORT"
}

dovecot_put() {
  local d=$T/dovecot/mail/$DOVECOT_USER i pad=
  [ -n "${2:-}" ] && pad=$(head -c "$2" /dev/zero | tr '\0' 'x' | fold -w 70)
  for ((i = 1; i <= $1; i++)); do
    printf 'Subject: d%d\nMessage-ID: <d%d.%s@dovecot.test>\n\n.leading dot\nmessage %d\n%s\n' "$i" "$i" "$$" "$i" "$pad" > "$d/tmp/m$i.$$"
    mv "$d/tmp/m$i.$$" "$d/new/$(date +%s).M$i.$$.dovecot.test"
  done
  chown -R nobody "$d"
}

dovecot_count() {
  local d=$T/dovecot/mail/$DOVECOT_USER
  find "$d/new" "$d/cur" -type f | wc -l
}
