#!/bin/bash
# SIGHUP makes the running mm-send take control/locals and control/me as
# they are now, and so does each queue run (sendmail -q): a domain added
# to locals is delivered locally without a restart, and bounces carry
# the new name.
. "$(dirname "$0")/lib.sh"

inst_new
inst_user carol
inst_start || bail "the queue runner did not start"
pid=$(runner_pid)

# a domain that is not local yet: the message waits for a connection
printf 'Subject: new domain\n\nx\n' | sendmail -f alice@localhost carol@newdom.example
ok 'wait_until log_has "waiting for a connection: carol@newdom\.example"' "mail for a domain not in locals waits for a connection"
echo newdom.example >> "$MM_HOME/control/locals"
kill -HUP "$pid"
ok 'wait_until has_mail carol "^Subject: new domain"' "after SIGHUP it is delivered locally"
ok '_alive "$pid"' "by the same mm-send, without a restart"

# a new name in control/me: a bounce after SIGHUP carries it
echo newname.example > "$MM_HOME/control/me"
kill -HUP "$pid"
printf 'Subject: to nobody\n\nx\n' | sendmail -f alice@localhost nosuchuser@localhost
ok 'wait_until has_mail alice "^From: Mail Delivery System <MAILER-DAEMON@newname\.example>"' "the bounce comes from the new name"
ok 'has_mail alice "^Reporting-MTA: dns; newname\.example"' "and names it as the reporting MTA"

# a queue run takes them too, without SIGHUP
echo third.example > "$MM_HOME/control/me"
echo thirddom.example >> "$MM_HOME/control/locals"
printf 'Subject: third\n\nx\n' | sendmail -f alice@localhost carol@thirddom.example
ok 'wait_until log_has "waiting for a connection: carol@thirddom\.example"' "a third domain waits"
sendmail -q
ok 'wait_until has_mail carol "^Subject: third"' "a queue run delivers it locally"
printf 'Subject: to nobody 2\n\nx\n' | sendmail -f alice@localhost nosuchuser2@localhost
ok 'wait_until has_mail alice "^From: Mail Delivery System <MAILER-DAEMON@third\.example>"' "and later bounces carry the name of that time"
ok '_alive "$pid"' "still the same mm-send"

done_testing
