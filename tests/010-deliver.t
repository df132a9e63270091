#!/bin/bash
# Local delivery into Maildir: user@localhost, user@hostname (control/me),
# a bare local part, the default locals when control/locals is absent,
# header completion by mm-inject, the trace headers of mm-queue and
# mm-local, one copy for a repeated recipient, and a real MUA (s-nail)
# calling sendmail.
. "$(dirname "$0")/lib.sh"
plan 34

inst_new
inst_start || bail "the queue runner did not start"
ME=$(cat "$MM_HOME/control/me")

printf 'Subject: first\nTo: alice@localhost\n\nhello alice\n' | sendmail -f alice@localhost alice@localhost
is "$?" 0 "sendmail to alice@localhost exits 0"
ok 'wait_until count_is 1 maildir_count alice' "delivered into alice's Maildir"
f=$(maildir_files alice | head -n 1)
m=$(cat "$f" 2>/dev/null)
like "$m" '^Subject: first$' "the Subject is kept"
like "$m" '^Delivered-To: alice@localhost$' "mm-local adds Delivered-To"
like "$m" '^Return-Path: <alice@localhost>$' "mm-local adds Return-Path with the envelope sender"
like "$m" '^Received: \(mm-queue [0-9]+ invoked by uid [0-9]+\); ' "mm-queue adds its Received line"
like "$m" '^Date: [A-Z][a-z][a-z], [ 0-9]?[0-9] [A-Z][a-z][a-z] [0-9]{4} [0-9:]{8} [-+][0-9]{4}' "mm-inject adds an RFC 5322 Date"
like "$m" '^Message-ID: <[^ ]+@[^ ]+>$' "mm-inject adds a Message-ID"
like "$m" '^From: ' "mm-inject adds From"
is "$(tail -n 1 "$f" 2>/dev/null)" "hello alice" "the body arrives intact"
ok 'case $f in */new/*) true ;; *) false ;; esac' "the message is in new/"
ok 'wait_until count_is 0 queue_count' "the queue is empty after delivery"
ok 'log_has "new msg [0-9]+ from <alice@localhost> uid [0-9]+ size [0-9]+ rcpts 1"' "log: new msg with sender, uid, size, rcpts"
ok 'log_has "starting delivery [0-9]+: msg [0-9]+ to local alice"' "log: starting delivery to local alice"
ok 'log_has "delivery [0-9]+: success: "' "log: delivery success"
ok 'log_has "end msg [0-9]+"' "log: end msg"

# user@hostname, with the host name in control/me
printf 'Subject: to the host name\n\nhi\n' | sendmail "bob@$ME"
is "$?" 0 "sendmail to bob@$ME exits 0"
ok 'wait_until count_is 1 maildir_count bob' "bob@\$(control/me) is local"

# the domain is case-insensitive
printf 'Subject: upper\n\nhi\n' | sendmail alice@LOCALHOST
ok 'wait_until count_is 2 maildir_count alice' "alice@LOCALHOST is delivered to alice"

# a bare local part is qualified with control/defaultdomain
printf 'Subject: bare\n\nhi\n' | sendmail bob
ok 'wait_until count_is 2 maildir_count bob' "a bare local part (bob) is delivered"
f=$(maildir_grep bob '^Subject: bare$')
like "$(cat $f /dev/null)" "^Delivered-To: bob@$(cat "$MM_HOME/control/defaultdomain")\$" "qualified with control/defaultdomain"

# one copy for a recipient given twice, and for two spellings of one
printf 'Subject: twice\n\nhi\n' | sendmail alice@localhost alice@localhost "alice@$ME"
ok 'wait_until count_is 0 queue_count' "the queue empties"
is "$(maildir_grep alice '^Subject: twice$' | grep -c .)" 1 "a recipient named three times gets one copy"

# the original sender header is kept, a missing one is made from the caller
printf 'From: Alice Example <alice@localhost>\nSubject: own from\n\nhi\n' | sendmail bob@localhost
ok 'wait_until count_is 3 maildir_count bob' "delivered"
f=$(maildir_grep bob '^Subject: own from$')
is "$(grep -c '^From: ' $f /dev/null | awk -F: '{ s += $NF } END { print s }')" 1 "an existing From: is kept, not doubled"

# without control/locals: localhost and control/me are local
inst_stop
rm -f "$MM_HOME/control/locals"
echo mm-test.example >"$MM_HOME/control/me"
inst_start || bail "the queue runner did not restart"
printf 'Subject: default locals\n\nhi\n' | sendmail bob@mm-test.example
is "$?" 0 "sendmail to bob@mm-test.example exits 0"
ok 'wait_until count_is 4 maildir_count bob' "without control/locals, control/me is a local domain"
printf 'Subject: default locals 2\n\nhi\n' | sendmail alice@localhost
ok 'wait_until count_is 4 maildir_count alice' "without control/locals, localhost is a local domain"

# a real MUA: s-nail calls sendmail -i -- RECIPIENT
if has_cmd s-nail; then
  # a clean environment, as a user's MUA has, but the instance and the
  # sanitizer settings of an ASan run; no dead.letter outside $T
  echo "written with s-nail" | env -i PATH=/usr/bin:/bin HOME="$T" MM_HOME="$MM_HOME" \
    ${ASAN_OPTIONS+ASAN_OPTIONS="$ASAN_OPTIONS"} ${UBSAN_OPTIONS+UBSAN_OPTIONS="$UBSAN_OPTIONS"} \
    s-nail -:/ -Snosave -SDEAD="$T/dead.letter" -Smta="$MM_HOME/bin/sendmail" -s 'via s-nail' alice@localhost
  is "$?" 0 "s-nail exits 0"
  ok 'wait_until count_is 5 maildir_count alice' "s-nail's message is delivered"
  f=$(maildir_grep alice '^Subject: via s-nail$')
  m=$(cat $f /dev/null)
  like "$m" '^User-Agent: s-nail' "with s-nail's headers"
  like "$m" '^written with s-nail$' "and its body"
  like "$m" '^Message-ID: <' "completed with a Message-ID"
else
  skip 4 "s-nail is not installed"
fi
ok 'wait_until count_is 0 queue_count' "nothing is left in the queue"
