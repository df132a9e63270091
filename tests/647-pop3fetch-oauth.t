#!/bin/bash
# OAuth2 for POP3: mm-pop3fetch against dovecot-pop3d whose oauth2 passdb
# checks each token with a local introspection endpoint (RFC 7662), the
# token from the account's secretcommand, run at each fetch. XOAUTH2 and
# OAUTHBEARER, always in two steps (AUTH, then the token after "+ ");
# an expired token: the fetch fails naming dovecot's status and what to
# do, nothing is deleted, and the next fetch with a renewed token gets
# everything; a 2 KB token; the token in no log and no argument list.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
. "$TOOLS/pop3-lib.sh"
. "$TOOLS/dovecot-lib.sh"
need_dovecot
plan 15

inst_new
remote_setup
good=tok.$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)
printf '%s\n' "$good" > "$T/token.good"
dovecot_start_oauth alice "$T/token.good"
printf '#!/bin/sh\ncat %s/token.now\n' "$T" > "$T/tokentool"
chmod 755 "$T/tokentool"
login() {  # METHOD: the account with the token tool
  account isp dc "$DOVECOT_PORT" "auth=$1" secret=
  printf '%s\n' "$T/tokentool" > "$MM_HOME/control/routes/isp/pop3/dc/secretcommand"
}

for mech in xoauth2 oauthbearer; do
  login $mech
  printf '%s\n' "$good" > "$T/token.now"
  dovecot_put 3
  fetch isp/dc
  is "$?" 0 "$mech: a good token, exit 0" || diag "$(cat "$T/fetch.out")"
  like "$(cat "$T/fetch.out")" 'isp/dc: fetch done: new 3 fetched 3 deleted 3' "$mech: three fetched and deleted"
  echo tok.expired > "$T/token.now"
  dovecot_put 2
  fetch isp/dc
  is "$?" 75 "$mech: an expired token, exit 75"
  like "$(cat "$T/fetch.out")" "isp/dc: fetch failed: the OAuth2 token was refused \\([^)]+\\): run the account's token tool \\(secretcommand\\) to renew it" "$mech: the log names the refusal and what to do"
  is "$(dovecot_count)" 2 "$mech: nothing deleted"
  printf '%s\n' "$good" > "$T/token.now"
  fetch isp/dc
  like "$(cat "$T/fetch.out")" 'isp/dc: fetch done: new 2 fetched 2 deleted 2' "$mech: the renewed token gets them"
done

# a token of 2 KB
big=$(head -c 3000 /dev/urandom | base64 -w 0 | tr -dc 'A-Za-z0-9' | head -c 2100)
printf '%s\n' "$big" > "$T/token.good"
printf '%s\n' "$big" > "$T/token.now"
login xoauth2
dovecot_put 1
fetch isp/dc
like "$(cat "$T/fetch.out")" 'isp/dc: fetch done: new 1 fetched 1 deleted 1' "a 2100-byte token"
like "$(tail -n 1 "$T/introspect.log")" "^ok 2100$" "dovecot got it whole"
ok '! grep -rqF -e "$good" -e "$big" "$T/fetch.log" "$MM_HOME/queue" "$MM_HOME/log" "$T/dovecot/log" 2>/dev/null' "no token in a log or the queue"
