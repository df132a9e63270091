#!/bin/bash
# mm-check lists the effective configuration (control files with their
# values or defaults; each route with where it goes, its filters, AUTH
# user, TLS settings; never a secret) and reports unknown files in a
# route directory, unparsable values, bad modes, a broken route (without
# hiding the others), and domains and queued mail no route can carry;
# it exits 78 on an error, 0 otherwise.
. "$(dirname "$0")/lib.sh"

inst_new
check() { "$MM_HOME/bin/mm-check" "$@" 2>&1; }
R=$MM_HOME/control/routes

out=$(check)
is "$?" 0 "a fresh instance checks clean"
like "$out" "^control/me: $(cat "$MM_HOME/control/me")\$" "control/me with its value"
like "$out" '^control/queuelifetime: 5d \(default\)$' "an absent file with its default"
like "$out" '^control/aliases: 3 aliases$' "the aliases are counted"
is "$(printf '%s\n' "$out" | tail -n 1)" "-- 0 errors, 0 warnings" "the totals line"

# a good route with AUTH and TLS settings
mkdir -p "$R/good"
echo 'smtp.good.example:587' > "$R/good/smarthost"
echo PLAIN > "$R/good/authmech"
echo me@good.example > "$R/good/authuser"
echo 'Sup3rS3cretValue' > "$R/good/authsecret"; chmod 400 "$R/good/authsecret"
echo starttls > "$R/good/tls"
echo '*.good.example' > "$R/good/domains"
echo '<>' > "$R/good/denysender"
out=$(check)
is "$?" 0 "a good route checks clean" || diag "$out"
like "$out" '^route good: offline$' "the route and its state"
like "$out" '^    smarthost smtp\.good\.example port 587$' "where it goes"
like "$out" '^    authuser me@good\.example$' "its AUTH user"
like "$out" '^    authsecret: present, mode 0400$' "its secret as present, with its mode"
unlike "$out" 'Sup3rS3cretValue' "never the secret itself"
like "$out" '^    tls starttls$' "its TLS mode"
like "$out" '^    domains \*\.good\.example$' "its domains"
like "$out" '^    denysender <>$' "its filters"
like "$out" '^warning: every route names its domains' "mail for other domains has no route: a warning"

# the mistakes of issue 14, each named
mkdir -p "$R/typo" "$R/bad" "$R/mx"
echo 'smtp.typo.example' > "$R/typo/smarthots"
echo 'smtp.bad.example:4o125' > "$R/bad/smarthost"
echo '4o125' > "$R/mx/port"
echo 'startls' > "$R/mx/tls"
echo 'PLAIN SCRAM' > "$R/mx/authmech"
echo u > "$R/mx/authuser"
echo s > "$R/mx/authsecret"; chmod 644 "$R/mx/authsecret"
echo 'abc' > "$R/mx/tlspin"
echo 'soon' > "$R/mx/timeout-connect"
echo '5 days' > "$MM_HOME/control/queuelifetime"
echo 'lots' > "$MM_HOME/control/databytes"
out=$(check)
is "$?" 78 "mm-check exits 78 on errors"
like "$out" '^error: control/routes/typo/smarthots: unknown file' "an unknown file in a route directory"
like "$out" '^error: route bad: smarthost: bad port$' "a port that does not parse in smarthost"
like "$out" '^route good: offline$' "the broken route hides no other route"
like "$out" '^error: route mx: port: not a port number: 4o125$' "a bad port file"
like "$out" '^error: route mx: tls: not starttls, implicit, opportunistic or none: startls$' "a bad tls mode"
like "$out" '^error: route mx: authmech: unknown mechanism SCRAM$' "an unknown AUTH mechanism"
like "$out" '^error: route mx: readable by others \(chmod 400 it\): authsecret$' "a secret readable by others"
like "$out" '^error: route mx: tlspin: not sha256: and 64 hex digits: abc$' "a bad pin"
like "$out" '^error: route mx: not a duration in timeout-connect$' "a bad timeout"
like "$out" '^error: control/queuelifetime: not a duration' "a bad duration in control/"
like "$out" '^error: control/databytes: not a number: lots$' "a bad number in control/"
unlike "$out" '^warning: every route names' "a route for any domain (mx) ends that warning"
is "$(printf '%s\n' "$out" | grep -c '^error: ')" 10 "ten errors"
is "$(printf '%s\n' "$out" | tail -n 1)" "-- 10 errors, 0 warnings" "counted in the totals"
unlike "$out" '^s$' "the other secret is not shown either"

# -q: the problems only
out=$(check -q)
is "$?" 78 "mm-check -q exits 78 too"
unlike "$out" '^control/me:' "-q lists no settings"
like "$out" '^error: route bad:' "but the errors"

# queued mail no route can carry (mx's errors gone, mx now only for .mx.example)
rm -rf "$R/typo" "$R/bad" "$R/mx/port" "$R/mx/tls" "$R/mx/authmech" "$R/mx/authuser" "$R/mx/authsecret" \
  "$R/mx/tlspin" "$R/mx/timeout-connect" "$MM_HOME/control/queuelifetime" "$MM_HOME/control/databytes" \
  "$MM_HOME/control/smtpdrcpthosts"
echo '*.mx.example' > "$R/mx/domains"
echo 'other.example' > "$MM_HOME/control/smtpdrcpthosts"
out=$(check)
like "$out" '^error: control/smtpdrcpthosts: other\.example: mm-smtpd accepts mail for it, but no route may carry it$' \
  "a relay domain no route carries"
echo '.mx.example' > "$MM_HOME/control/smtpdrcpthosts"
out=$(check)
unlike "$out" 'error: control/smtpdrcpthosts' "a relay domain a route carries (subdomains) is no error"
rm "$MM_HOME/control/smtpdrcpthosts"
printf 'Subject: x\n\nx\n' | sendmail -odq -f alice@localhost carol@nowhere.example dan@a.mx.example
id=$(queue_ids)
out=$(check)
is "$?" 78 "queued mail without a route is an error" || diag "$out"
like "$out" "^error: queue: msg $id: no route may carry it to carol@nowhere\\.example\$" "it names the message and recipient"
unlike "$out" 'dan@a\.mx\.example' "a recipient a route serves is not named"
echo 'alice@localhost' > "$R/good/denysender"
echo '*' > "$R/good/domains"
out=$(check)
like "$out" "^error: queue: msg $id: no route may carry it to carol@nowhere\\.example\$" "a route whose filters refuse the sender does not count"
rm "$R/good/denysender"
out=$(check)
is "$?" 0 "once a route may carry it, no error"

done_testing
