#!/bin/bash
# A committed message without its todo/ link (issue 10, item 9) is found
# by the running queue runner without a restart: when link() fails, the
# trigger byte comes without its link and mm-send looks in mess/; when
# mm-queue died after the commit (neither link nor byte), the next queue
# run (sendmail -q) finds it.
. "$(dirname "$0")/lib.sh"
plan 6

inst_new
inst_start || bail "the queue runner did not start"
q=$MM_HOME/queue

# link() into todo/ fails (todo is not a directory): the byte comes alone
mv "$q/todo" "$q/todo.away"
touch "$q/todo"
printf 'Subject: no link\n\nx\n' | sendmail alice@localhost 2>"$T/err"
is "$?" 0 "the message is committed although its todo/ link fails"
ok 'wait_until has_mail alice "^Subject: no link"' "the runner finds it by the notification without its link"
rm "$q/todo"; mv "$q/todo.away" "$q/todo"

# as if mm-queue died after the commit: no link and no trigger byte
mv "$q/todo" "$q/todo.away"; touch "$q/todo"
mv "$q/lock/trigger" "$q/lock/trigger.away"
printf 'Subject: no notice\n\nx\n' | sendmail alice@localhost 2>"$T/err"
is "$?" 0 "a message committed with neither link nor trigger"
rm "$q/todo"; mv "$q/todo.away" "$q/todo"
mv "$q/lock/trigger.away" "$q/lock/trigger"
printf 'Subject: next\n\nx\n' | sendmail bob@localhost
ok 'wait_until has_mail bob "^Subject: next"' "the next message is delivered"
sendmail -q
ok 'wait_until has_mail alice "^Subject: no notice"' "the queue run finds the message without a notice"
ok 'wait_until count_is 0 queue_count' "the queue is empty"
