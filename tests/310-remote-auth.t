#!/bin/bash
# mm-remote's SMTP AUTH against python3-aiosmtpd: PLAIN, LOGIN and
# CRAM-MD5; a wrong password is a clear logged error and a temporary
# result (the message stays queued); a secret readable by others is
# refused; a mechanism the server does not offer is not used.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
need_aiosmtpd
plan 25

inst_new
remote_setup
# these servers offer no STARTTLS: AUTH in clear only because the route says so
route isp tls none
m=$(printf 'Subject: auth\n\nhello\n' | queue_msg -f alice@localhost bob@b.example)

for mech in PLAIN LOGIN CRAM-MD5; do
  name=s-$mech
  port=$(smtpserver "$name" --pipelining --auth "$mech" --user joe --password 'open sesame')
  route isp smarthost "127.0.0.1:$port"
  route isp authmech "$mech"
  route isp authuser joe
  route isp authsecret 'open sesame'
  chmod 600 "$MM_HOME/control/routes/isp/authsecret"
  res=$(req "$m" alice@localhost bob@b.example | remote isp 127.0.0.1)
  like "$res" "^$m bob@b.example K" "AUTH $mech: the message is accepted"
  is "$(grep '^auth ' "$T/$name.spool/1" 2>/dev/null)" "auth joe" "AUTH $mech: the server saw user joe authenticated"
done
like "$(cat "$T/remote.log")" "authenticated as joe with CRAM-MD5" "the log says how mm-remote authenticated"

# a wrong password
port=$(smtpserver wrong --pipelining --auth PLAIN,LOGIN --user joe --password 'open sesame')
route isp smarthost "127.0.0.1:$port"
route isp authmech PLAIN
route isp authsecret 'close sesame'
chmod 600 "$MM_HOME/control/routes/isp/authsecret"
: > "$T/remote.log"
res=$(req "$m" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m bob@b.example Z4\.7\.8 authentication failed: 127\.0\.0\.1\[127\.0\.0\.1\] said: 535" "a wrong password: temporary 4.7.8 with the server's reply"
like "$(cat "$T/remote.log")" "mm-remote: isp 127\.0\.0\.1\[127\.0\.0\.1\]: error: authentication as joe with PLAIN" "a clear error in the log"
is "$(spool_count wrong)" 0 "nothing was sent"
ok '[ -f "$MM_HOME/queue/mess/$m" ]' "the message is still queued"

# a secret others can read is not used
route isp authsecret 'open sesame'
chmod 644 "$MM_HOME/control/routes/isp/authsecret"
: > "$T/remote.log"
res=$(req "$m" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m bob@b.example Z4\.3\.5 authsecret must belong to the user that reads it and be readable by it alone" "a secret readable by others: temporary, named"
like "$(cat "$T/remote.log")" "authsecret must belong" "and logged"
chmod 600 "$MM_HOME/control/routes/isp/authsecret"

# the configured mechanism is not offered: the first one of the list that is
route isp authmech "CRAM-MD5 LOGIN"
res=$(req "$m" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m bob@b.example K" "authmech lists mechanisms in order of preference; LOGIN is used"
like "$(cat "$T/remote.log")" "authenticated as joe with LOGIN" "as the log says"

# none of the configured mechanisms is offered: nothing is sent, the mail
# waits (sending without AUTH would only earn a 530 and a bounce)
route isp authmech "CRAM-MD5"
before=$(spool_count wrong)
: > "$T/remote.log"
res=$(req "$m" alice@localhost bob@b.example | remote isp 127.0.0.1)
like "$res" "^$m bob@b.example Z4\.7\.0 the server offers none of the AUTH mechanisms in authmech \(it offers: (PLAIN LOGIN|LOGIN PLAIN) \)" "no configured mechanism offered: temporary, naming what the server offers"
like "$(cat "$T/remote.log")" "error: 4\.7\.0 the server offers none of the AUTH mechanisms" "and logged"
is "$(spool_count wrong)" "$before" "nothing was sent"

# mm-remote -t: the route's session step by step, without mail
route isp authmech PLAIN
out=$("$MM_HOME/bin/mm-remote" -t isp 2>&1); st=$?
is "$st" 0 "mm-remote -t isp: the route works, exit 0"
like "$out" "^greeting: 220 " "it shows the greeting"
like "$out" "^EHLO: 250 .*AUTH" "the EHLO reply"
like "$out" "^authenticated as joe with PLAIN" "the AUTH step"
like "$out" "^QUIT: 221" "and the QUIT"
is "$(spool_count wrong)" "$before" "and sends no mail"
route isp authsecret 'close sesame'
chmod 600 "$MM_HOME/control/routes/isp/authsecret"
out=$("$MM_HOME/bin/mm-remote" -t isp 2>&1); st=$?
ok '[ "$st" = 75 ] && printf "%s\n" "$out" | grep -q "authentication failed: .*535"' "with a wrong password it says so and exits 75"
