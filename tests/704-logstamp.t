#!/bin/bash
# A daemon's log lines carry the local time when its stderr is a plain
# file (a private instance's log): the runner's log, mm-smtpd under
# 2>>file, a foreground queue run. Through a pipe (multilog, journald,
# a terminal) they stay as they were.
. "$(dirname "$0")/lib.sh"

STAMP='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} [-+][0-9]{4} '
inst_new
inst_start || bail "the queue runner did not start"
printf 'Subject: x\n\nx\n' | sendmail alice@localhost
ok 'wait_until has_mail alice "^Subject: x"' "a message is delivered"
ok 'wait_until log_has "end msg"' "the runner logged it"
like "$(cat "$MM_HOME/log")" "^${STAMP}mm-send: delivery 1: success: " "the runner's log lines start with the local time"
is "$(grep -cEv "^${STAMP}" "$MM_HOME/log")" 0 "every line of the instance log does"
now=$(date +%Y-%m-%d)
like "$(tail -n 1 "$MM_HOME/log")" "^$now " "today's date"
inst_stop

# mm-smtpd: a plain file, a pipe, multilog
# the client's words in a file, there before mm-smtpd looks: a printf
# in a pipe may not have written yet, under load
printf 'EHLO early\r\nQUIT\r\n' >"$T/early.in"
early() { TCPREMOTEIP=192.0.2.66 "$MM_HOME/bin/mm-smtpd" <"$T/early.in" >/dev/null; }
early 2>>"$T/smtpd.log"
like "$(cat "$T/smtpd.log")" "^${STAMP}mm-smtpd: 192\\.0\\.2\\.66: error: spoke before the greeting\$" "mm-smtpd into a file: stamped"
early 2>&1 | cat >"$T/pipe.log"
like "$(cat "$T/pipe.log")" '^mm-smtpd: 192\.0\.2\.66: error: spoke before the greeting$' "into a pipe: plain"
if has_cmd multilog; then
  early 2>&1 | multilog t "$T/ml"
  like "$(cat "$T/ml/current")" '^@4000[0-9a-f]{20} mm-smtpd: 192\.0\.2\.66: error: spoke before the greeting$' \
    "under multilog: multilog's stamp only"
else
  skip 1 "multilog is not installed"
fi

# a foreground queue run (no runner): mm-send -1 and mm-lspawn
printf 'Subject: y\n\nx\n' | sendmail -odq bob@localhost
sendmail -q 2>>"$T/run.log"
ok 'has_mail bob "^Subject: y"' "a foreground queue run delivers"
like "$(cat "$T/run.log")" "^${STAMP}mm-send: end msg " "its lines in a file are stamped"
printf 'Subject: z\n\nx\n' | sendmail -odq bob@localhost
sendmail -q 2>&1 | cat >"$T/run2.log"
like "$(cat "$T/run2.log")" '^mm-send: end msg ' "through a pipe they are not"

done_testing
