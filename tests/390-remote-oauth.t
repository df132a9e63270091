#!/bin/bash
# OAuth2 for SMTP AUTH: XOAUTH2 and OAUTHBEARER against python3-aiosmtpd
# with an authenticator that takes one bearer token and answers any
# other with the JSON 334 challenge; the token comes from a secret
# command (authcommand) run at each attempt. An expired token defers
# the mail with a log line that says what to do, and the next attempt
# with a renewed token sends it; a 2 KB token; a command that hangs is
# killed at its timeout, one that prints nothing or fails defers the
# route; the token is in no log line, no queue file and no argument list.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
need_aiosmtpd
plan 28

inst_new
remote_setup
good=ya29.$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)
printf '%s\n' "$good" > "$T/good.token"
p=$(smtpserver oauth --pipelining --auth XOAUTH2,OAUTHBEARER --user joe@example.org --token-file "$T/good.token" --token-log "$T/tokens")
route isp smarthost "127.0.0.1:$p"
route isp tls none     # loopback: the test server speaks no TLS
route isp authuser joe@example.org
# the token tool: prints the token in $T/token.now, as a real one would
# print its cached access token
printf '#!/bin/sh\ncat %s/token.now\n' "$T" > "$T/tokentool"
chmod 755 "$T/tokentool"
route isp authcommand "$T/tokentool"
m=$(printf 'Subject: oauth\n\nx\n' | queue_msg -f alice@localhost bob@b.example)
one() { req "$m" alice@localhost bob@b.example | remote isp 127.0.0.1; }

for mech in XOAUTH2 OAUTHBEARER; do
  route isp authmech $mech
  printf '%s\n' "$good" > "$T/token.now"
  res=$(one)
  like "$res" "^$m bob@b.example K" "$mech: a good token from the command sends the mail"
  like "$(tail -n 1 "$T/tokens")" "^ok $mech initial " "$mech: the server took it, as an initial response"
  like "$(cat "$T/remote.log")" "authenticated as joe@example.org with $mech" "$mech: logged"

  echo "ya29.expired" > "$T/token.now"
  : > "$T/remote.log"
  res=$(one)
  like "$res" "^$m bob@b.example Z4\.7\.8 the OAuth2 token was refused \((invalid_token|401)\): run the route's token tool" "$mech: an expired token defers the mail, naming the status"
  like "$(cat "$T/remote.log")" "token was refused .*run the route's token tool" "$mech: the log says what to do"
  like "$(cat "$T/oauth.log")" "AUTH $mech as joe@example.org: refused" "$mech: the server refused it"
  printf '%s\n' "$good" > "$T/token.now"
  res=$(one)
  like "$res" "^$m bob@b.example K" "$mech: the next attempt picks up the renewed token"
done
is "$(spool_count oauth)" 4 "four messages went through"
unlike "$(cat "$T/remote.log" "$T/oauth.log")" "Bearer|ya29\.expired" "no token in the logs"

# a 2 KB token
big=$(head -c 3000 /dev/urandom | base64 -w 0 | tr -dc 'A-Za-z0-9' | head -c 2100)
printf '%s\n' "$big" > "$T/big.token"
p2=$(smtpserver big --pipelining --auth XOAUTH2 --user joe@example.org --token-file "$T/big.token" --token-log "$T/tokens2")
route isp smarthost "127.0.0.1:$p2"
route isp authmech XOAUTH2
printf '%s\n' "$big" > "$T/token.now"
res=$(one)
like "$res" "^$m bob@b.example K" "a 2100-byte token"
is "$(tail -n 1 "$T/tokens2")" "ok XOAUTH2 two-step 2100" "the server got it whole, after an empty 334 (the line would pass 512 octets)"

# the secret must not leak: not in ps while the command runs, not in the
# queue, not in a log
printf '#!/bin/sh\nsleep 1\ncat %s/token.now\n' "$T" > "$T/slowtool"
chmod 755 "$T/slowtool"
route isp authcommand "$T/slowtool"
: > "$T/ps.out"
( one > "$T/slow.res" ) &
for i in 1 2 3 4 5 6 7 8 9 10; do ps -eo args >> "$T/ps.out"; sleep 0.15; done
wait
like "$(cat "$T/slow.res")" "^$m bob@b.example K" "a slow token tool is waited for"
like "$(cat "$T/ps.out")" "slowtool" "ps did see the tool run"
unlike "$(cat "$T/ps.out")" "$big" "the token is in no argument list"
ok '! grep -rqF "$big" "$MM_HOME/queue" "$MM_HOME/log" "$T/remote.log" 2>/dev/null' "the token is in no queue file and no log"

# a command that hangs: killed at its timeout, the mail waits
printf '#!/bin/sh\nsleep 60\n' > "$T/hang"
chmod 755 "$T/hang"
route isp authcommand "$T/hang"
route isp timeout-authcommand 1
: > "$T/remote.log"
res=$(one)
like "$res" "^$m bob@b.example Z4\.7\.0 authcommand timed out" "a hanging command: killed at its timeout, the mail waits"
ok '! pgrep -f "$T/hang" >/dev/null' "and nothing of it is left running"
is "$(spool_count big)" 2 "nothing was sent"

# a command that prints nothing, one that fails with a message
printf '#!/bin/sh\nexit 0\n' > "$T/empty"
printf '#!/bin/sh\necho "token expired, run: tokentool renew" >&2\nexit 1\n' > "$T/fails"
chmod 755 "$T/empty" "$T/fails"
route isp authcommand "$T/empty"
res=$(one)
like "$res" "^$m bob@b.example Z4\.7\.0 authcommand printed nothing" "a command that prints nothing: the mail waits"
route isp authcommand "$T/fails"
: > "$T/remote.log"
res=$(one)
like "$res" "^$m bob@b.example Z4\.7\.0 authcommand failed \(non-zero exit\) \(token expired, run: tokentool renew\)" "a failing command: its own words in the result"
like "$(cat "$T/remote.log")" "run the token tool by hand" "and the log says what to do"
done_testing
