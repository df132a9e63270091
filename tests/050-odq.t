#!/bin/bash
# sendmail -odq queues without delivering; the next queue run (sendmail
# -q) delivers. With a running queue runner -q triggers it; without one,
# -q runs one pass in the foreground.
. "$(dirname "$0")/lib.sh"
plan 14

inst_new
inst_start || bail "the queue runner did not start"

printf 'Subject: held\n\nwait for -q\n' | sendmail -odq alice@localhost
is "$?" 0 "sendmail -odq exits 0"
ok 'wait_until log_has "new msg [0-9]+ from "' "the runner has seen the message"
# a message sent after it is delivered: the runner is past the held one
printf 'Subject: marker\n\nnow\n' | sendmail bob@localhost
ok 'wait_until count_is 1 maildir_count bob' "a later message without -odq is delivered"
ok 'wait_until log_has "end msg [0-9]+"' "and finished"
is "$(maildir_count alice)" 0 "the -odq message is not delivered before a queue run"
is "$(queue_count)" 1 "it waits in the queue"
sendmail -q
is "$?" 0 "sendmail -q exits 0"
ok 'wait_until count_is 1 maildir_count alice' "after sendmail -q it is delivered"
ok 'wait_until count_is 0 queue_count' "and the queue is empty"

# without a runner: -q runs one pass in the foreground and returns after it
inst_stop
printf 'Subject: held 2\n\nwait for -q\n' | sendmail -odq alice@localhost
is "$?" 0 "sendmail -odq exits 0 with no runner"
printf 'Subject: not held\n\nno runner\n' | sendmail bob@localhost
is "$(maildir_count alice)/$(maildir_count bob)" 1/1 "with no runner nothing is delivered"
sendmail -q >"$T/q.out" 2>&1
is "$?" 0 "sendmail -q with no runner exits 0"
is "$(maildir_count alice)/$(maildir_count bob)" 2/2 "when it returns, both messages are delivered"
is "$(queue_count)" 0 "and the queue is empty"
