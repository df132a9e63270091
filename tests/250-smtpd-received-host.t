#!/bin/bash
# mm-smtpd records where a message came from in the queue file, and a
# pipe delivery sees it as RECEIVED_HOST; mail from sendmail has none.
. "$(dirname "$0")/lib.sh"
has_cmd swaks || skip_all "swaks is not installed"
plan 5

inst_new
ME=$(cat "$MM_HOME/control/me")
printf 'pipe: "|echo RH=$RECEIVED_HOST >> %s/rh.out"\n' "$T" >> "$MM_HOME/control/aliases"
inst_start || bail "the queue runner did not start"

out=$(TCPREMOTEIP=192.0.2.9 swaks --pipe "$MM_HOME/bin/mm-smtpd" --timeout 20 --helo client.lan --to "pipe@$ME" --from "bob@$ME" 2>&1)
like "$out" '^<-  250 2\.0\.0 ok: queued as [0-9]+$' "accepted over SMTP"
ok 'wait_until nonempty "$T/rh.out"' "the pipe ran"
is "$(head -n 1 "$T/rh.out")" "RH=192.0.2.9" "RECEIVED_HOST is the SMTP client's address"

lines() { wc -l < "$1" | tr -d ' ' ; }
printf 'Subject: local\n\nx\n' | "$MM_HOME/bin/sendmail" "pipe@$ME"
ok 'wait_until count_is 2 lines "$T/rh.out"' "the pipe ran for the message from sendmail"
is "$(sed -n 2p "$T/rh.out")" "RH=" "a message from sendmail has no RECEIVED_HOST"
