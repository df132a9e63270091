#!/bin/bash
# sendmail -t (recipients from To, Cc and Bcc; command-line recipients
# added; Bcc removed) and the end of the message with and without -i/-oi:
# without it a line with a single dot ends the message.
. "$(dirname "$0")/lib.sh"
plan 27

inst_new
inst_user carol
inst_user dave
inst_start || bail "the queue runner did not start"

printf 'To: alice@localhost\nCc: Bob <bob@localhost>\nBcc: carol@localhost\nSubject: with -t\n\nbody\n' | sendmail -t
is "$?" 0 "sendmail -t exits 0"
ok 'wait_until count_is 1 maildir_count alice' "To: recipient gets it"
ok 'wait_until count_is 1 maildir_count bob' "Cc: recipient gets it"
ok 'wait_until count_is 1 maildir_count carol' "Bcc: recipient gets it"
for u in alice bob carol; do
  unlike "$(cat $(maildir_files $u) /dev/null)" '^Bcc:' "no Bcc: header in $u's copy"
done
like "$(cat $(maildir_files alice) /dev/null)" '^Cc: Bob <bob@localhost>$' "Cc: is kept"

# command-line recipients are added to the header recipients
printf 'To: alice@localhost\nSubject: with -t and args\n\nbody\n' | sendmail -t dave@localhost
is "$?" 0 "sendmail -t dave@localhost exits 0"
ok 'wait_until count_is 2 maildir_count alice' "the To: recipient gets it"
ok 'wait_until count_is 1 maildir_count dave' "the command-line recipient gets it too"

# folded and grouped address lists, Resent- headers ignored without Resent-
printf 'To: "Alice, A." <alice@localhost>,\n  bob@localhost (Bob)\nSubject: folded\n\nbody\n' | sendmail -t
ok 'wait_until count_is 3 maildir_count alice' "quoted display name with a comma: alice gets it"
ok 'wait_until count_is 2 maildir_count bob' "folded list: bob gets it"

# -t with no recipient anywhere
out=$(printf 'Subject: nobody\n\nbody\n' | sendmail -t 2>&1); st=$?
ok '[ $st = 64 ] || [ $st = 65 ]' "sendmail -t with no recipients fails with 64 or 65 (got $st)"
is "$(printf '%s\n' "$out" | grep -c .)" 1 "with a one-line error: $out"

# dots: without -i a line "." ends the message
printf 'Subject: dot\n\nbefore\n.\nafter\n' | sendmail bob@localhost
ok 'wait_until count_is 3 maildir_count bob' "delivered"
m=$(cat $(maildir_grep bob '^Subject: dot$') /dev/null)
like "$m" '^before$' "the text before the dot is there"
unlike "$m" '^after$' "without -i, the text after a lone dot is not"
unlike "$m" '^\.$' "nor the dot line"

printf 'Subject: dot -i\n\nbefore\n.\nafter\n..two\n' | sendmail -i bob@localhost
ok 'wait_until count_is 4 maildir_count bob' "delivered"
m=$(cat $(maildir_grep bob '^Subject: dot -i$') /dev/null)
is "$(printf '%s\n' "$m" | sed -n '/^before$/,$p' | tr '\n' '|')" 'before|.|after|..two|' "with -i the dot line and what follows are kept, .. is not unstuffed"

printf 'Subject: dot -oi\n\nbefore\n.\nafter\n' | sendmail -oi bob@localhost
ok 'wait_until count_is 5 maildir_count bob' "delivered"
m=$(cat $(maildir_grep bob '^Subject: dot -oi$') /dev/null)
like "$m" '^after$' "-oi is the same as -i"

# a dot followed by other text does not end the message
printf 'Subject: dotted\n\n.x\n..\n...x\nend\n' | sendmail bob@localhost
ok 'wait_until count_is 6 maildir_count bob' "delivered"
m=$(cat $(maildir_grep bob '^Subject: dotted$') /dev/null)
is "$(printf '%s\n' "$m" | sed -n '/^\.x$/,$p' | tr '\n' '|')" '.x|.|..x|end|' "lines .x and .. do not end the message; without -i a doubled dot stands for one"

# -i keeps them as they are, mm-inject run directly the same
printf 'Subject: dotted -i\n\n..\n...x\nend\n' | sendmail -i bob@localhost
ok 'wait_until count_is 7 maildir_count bob' "delivered"
m=$(cat $(maildir_grep bob '^Subject: dotted -i$') /dev/null)
is "$(printf '%s\n' "$m" | sed -n '/^\.\.$/,$p' | tr '\n' '|')" '..|...x|end|' "with -i a doubled dot stays"
