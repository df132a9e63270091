#!/bin/bash
# mm-smtpd is never an open relay: local domains (control/locals), the
# domains of permanent routes and control/smtpdrcpthosts are open to
# anyone; anything else only for clients with RELAYCLIENT (tcprules) or a
# local session. Refusals are 553 5.7.1 and logged. Routing tricks in the
# local part (user%host@here) are refused too.
. "$(dirname "$0")/lib.sh"
has_cmd swaks || skip_all "swaks is not installed"
plan 22

inst_new
ME=$(cat "$MM_HOME/control/me")
SMTPD=$MM_HOME/bin/mm-smtpd

# a stranger on the LAN, without RELAYCLIENT
rcpt() { TCPREMOTEIP=192.0.2.9 swaks --pipe "$SMTPD" --timeout 20 --helo pc.lan --from "bob@$ME" --quit-after RCPT --to "$1" 2>&1; }
# a client that tcprules marked RELAYCLIENT
rcpt_relay() { TCPREMOTEIP=192.0.2.10 RELAYCLIENT= swaks --pipe "$SMTPD" --timeout 20 --helo pc.lan --from "bob@$ME" --quit-after RCPT --to "$1" 2>&1; }

out=$(rcpt "alice@$ME")
like "$out" '^<-  250 2\.1\.5 ' "anyone may send to a local domain (control/me)"
out=$(rcpt alice@LocalHost)
like "$out" '^<-  250 2\.1\.5 ' "localhost is local, case-insensitively"
out=$(rcpt someone@example.net)
like "$out" '^<\*\* 553 5\.7\.1 relaying denied: <someone@example\.net> is not a local address' "a remote domain without RELAYCLIENT: 553 5.7.1"
like "$out" '^mm-smtpd: 192\.0\.2\.9: relay refused to <someone@example\.net>$' "log: relay refused to <x>"
out=$(rcpt "someone%example.net@$ME")
like "$out" '^<\*\* 553 5\.7\.1 ' "user%host@local: refused"
out=$(rcpt "example.net!someone@$ME")
like "$out" '^<\*\* 553 5\.7\.1 ' "host!user@local: refused"
out=$(rcpt "\"someone@example.net\"@$ME")
like "$out" '^<\*\* 553 5\.7\.1 ' "\"user@host\"@local: refused"
out=$(rcpt "@$ME:someone@example.net")
like "$out" '^<\*\* 553 5\.7\.1 ' "a source route to a remote address: refused"
out=$(rcpt "someone@[127.0.0.1]")
like "$out" '^<\*\* 553 5\.7\.1 ' "an address literal that is not in control/locals: refused"
out=$(rcpt postmaster)
like "$out" '^<-  250 2\.1\.5 ' "<postmaster> without a domain is accepted (RFC 5321 4.5.1)"

out=$(rcpt_relay someone@example.net)
like "$out" '^<-  250 2\.1\.5 ' "with RELAYCLIENT, a remote domain is accepted"
out=$(rcpt_relay "someone%example.net@$ME")
like "$out" '^<\*\* 550 5\.1\.1 ' "with RELAYCLIENT, user%host@local is no local user: 550 5.1.1 at RCPT, as delivery would bounce it"
out=$(MM_SMTPD_LOCAL=1 swaks --pipe "$SMTPD" --timeout 20 --from "bob@$ME" --quit-after RCPT --to someone@example.net 2>&1)
like "$out" '^<-  250 2\.1\.5 ' "a local session (sendmail -bs) may relay"

# more local domains
printf 'localhost\n%s\nhome.example\n' "$ME" >"$MM_HOME/control/locals"
out=$(rcpt bob@home.example)
like "$out" '^<-  250 2\.1\.5 ' "a domain in control/locals is open"

# control/smtpdrcpthosts: exact names, and .domain for its subdomains
printf 'lan.example\n.office.example\n' >"$MM_HOME/control/smtpdrcpthosts"
out=$(rcpt x@lan.example)
like "$out" '^<-  250 2\.1\.5 ' "smtpdrcpthosts: an exact domain"
out=$(rcpt x@sub.lan.example)
like "$out" '^<\*\* 553 5\.7\.1 ' "smtpdrcpthosts: an exact domain does not take subdomains"
out=$(rcpt x@pc.office.example)
like "$out" '^<-  250 2\.1\.5 ' "smtpdrcpthosts: .domain takes subdomains"
out=$(rcpt x@office.example)
like "$out" '^<\*\* 553 5\.7\.1 ' "smtpdrcpthosts: .domain not the domain itself"

# permanent routes: their domains are the LAN's
mkdir -p "$MM_HOME/control/routes/lan" "$MM_HOME/control/routes/isp"
touch "$MM_HOME/control/routes/lan/permanent"
echo '*.lan' >"$MM_HOME/control/routes/lan/domains"
echo smtp.isp.example >"$MM_HOME/control/routes/isp/smarthost"
out=$(rcpt x@printer.lan)
like "$out" '^<-  250 2\.1\.5 ' "a domain of a permanent route is open"
out=$(rcpt x@example.org)
like "$out" '^<\*\* 553 5\.7\.1 ' "a route that is not permanent opens nothing"
rm "$MM_HOME/control/routes/lan/domains"
out=$(rcpt x@example.org)
like "$out" '^<\*\* 553 5\.7\.1 ' "a permanent route for any domain opens nothing"

# refusing relay is not a crash: the transaction goes on with good recipients
out=$(TCPREMOTEIP=192.0.2.9 swaks --pipe "$SMTPD" --timeout 20 --from "bob@$ME" --to "x@example.net,alice@$ME" --quit-after RCPT 2>&1)
like "$out" '^<-  250 2\.1\.5 ' "after a refused recipient the next one is accepted"
