#!/bin/bash
# Delivery through an MDA (procmail, and small programs that exit with
# chosen codes) and through an alias |pipe: the %-escapes of
# control/delivery, temporary (75) and permanent (67, 1) exit codes, and
# the exact environment a pipe gets.
. "$(dirname "$0")/lib.sh"
plan 32

inst_new
inst_user carol
inst_user dave
cat >"$MM_HOME/control/delivery" <<EOC
alice mda /usr/bin/procmail -m %h/.procmailrc
bob mda $T/mda-bob
carol mda $TOOLS/envdump $T/mda %u %r %s %l %d %h %%
* maildir ~/Maildir/
EOC
cat >>"$MM_HOME/control/aliases" <<EOC
pipe: |$TOOLS/envdump $T/pipe
pipefail: |$TOOLS/envdump -x 1 $T/pipefail
EOC
pm=$MM_HOME/home/alice/pm
mkdir -p "$pm"
cat >"$MM_HOME/home/alice/.procmailrc" <<EOC
MAILDIR=$pm
LOGFILE=$pm/log
:0
* ^Subject:.*urgent
urgent/
:0
inbox/
EOC
echo 75 >"$T/bob.code"
cat >"$T/mda-bob" <<EOC
#!/bin/sh
# an MDA whose exit code the test chooses; it keeps the message only on 0
code=\$(cat $T/bob.code)
cat >$T/bob.tmp || exit 75
[ "\$code" = 0 ] && cat $T/bob.tmp >>$T/bob.out
exit \$code
EOC
chmod +x "$T/mda-bob"
inst_start || bail "the queue runner did not start"

# procmail as the MDA
if has_cmd procmail; then
  printf 'Subject: urgent matter\n\nnow\n' | sendmail -f dave@localhost alice@localhost
  printf 'Subject: routine\n\nlater\n' | sendmail -f dave@localhost alice@localhost
  ok 'wait_until nonempty "$pm/urgent/new"' "procmail filed the urgent message in urgent/"
  ok 'wait_until nonempty "$pm/inbox/new"' "and the other one in inbox/"
  m=$(cat "$pm"/urgent/new/* 2>/dev/null)
  like "$m" '^Delivered-To: alice@localhost$' "the MDA gets the message with Delivered-To"
  like "$m" '^Return-Path: <dave@localhost>$' "and Return-Path"
  like "$m" '^now$' "and the body"
else
  skip 5 "procmail is not installed"
fi

# %-escapes in the MDA command line
printf 'Subject: escapes\n\nbody\n' | sendmail -f dave@localhost carol@localhost
ok 'wait_until test -s "$T/mda.msg"' "the MDA for carol ran"
is "$(cat "$T/mda.args" 2>/dev/null | tr '\n' ' ')" "carol carol@localhost dave@localhost carol localhost $MM_HOME/home/carol % " "%u %r %s %l %d %h %% expand"
like "$(cat "$T/mda.msg")" '^Subject: escapes$' "the MDA reads the message on stdin"
like "$(cat "$T/mda.id")" " cwd $MM_HOME/home/carol\$" "the MDA runs in the user's home"

# an MDA that exits 75: deferred, kept, delivered by a later queue run
printf 'Subject: for bob\n\nkeep me\n' | sendmail -f dave@localhost bob@localhost
ok 'wait_until log_has "delivery [0-9]+: deferral: "' "exit 75 from the MDA is a deferral"
is "$(queue_count)" 1 "the message stays in the queue"
ok '! test -e "$T/bob.out"' "and is not delivered"
echo 0 >"$T/bob.code"
sendmail -q
is "$?" 0 "sendmail -q exits 0"
ok 'wait_until test -s "$T/bob.out"' "after sendmail -q the MDA delivers it"
ok 'wait_until count_is 0 queue_count' "and the queue is empty"
is "$(grep -c '^keep me$' "$T/bob.out")" 1 "exactly once"

# an MDA that exits 67: permanent, bounced
echo 67 >"$T/bob.code"
printf 'Subject: refused by the mda\n\nno\n' | sendmail -f dave@localhost bob@localhost
ok 'wait_until has_mail dave "^Subject: refused by the mda"' "exit 67 from the MDA bounces to the sender"
ok 'wait_until count_is 0 queue_count' "the queue is empty"

# an alias |pipe and its environment
printf 'Subject: to the pipe\nMessage-ID: <pipe-test@example.org>\n\npiped body\n' | sendmail -f dave@localhost pipe@localhost
ok 'wait_until test -s "$T/pipe.msg"' "the alias pipe ran"
like "$(cat "$T/pipe.msg")" '^piped body$' "the pipe reads the message on stdin"
like "$(cat "$T/pipe.msg")" '^Delivered-To: pipe@localhost$' "with Delivered-To"
# exactly these, plus what /bin/sh itself exports (PWD, SHLVL, _, OLDPWD)
names=$(sed 's/=.*//' "$T/pipe.env" | grep -Ev '^(PWD|SHLVL|_|OLDPWD)$' | sort | tr '\n' ' ')
want=$(printf '%s\n' SENDER RETURN_PATH SENDER_LOCAL SENDER_DOMAIN RECEIVED_HOST LOCAL_PART DOMAIN USER LOGNAME MESSAGE_ID QUALIFY_DOMAIN HOME PATH | sort | tr '\n' ' ')
is "$names" "$want" "the pipe's environment is exactly the documented variables"
e=$(cat "$T/pipe.env")
like "$e" '^SENDER=dave@localhost$' "SENDER"
like "$e" '^RETURN_PATH=<?dave@localhost>?$' "RETURN_PATH"
like "$e" '^SENDER_LOCAL=dave$' "SENDER_LOCAL"
like "$e" '^SENDER_DOMAIN=localhost$' "SENDER_DOMAIN"
like "$e" '^LOCAL_PART=pipe$' "LOCAL_PART"
like "$e" '^DOMAIN=localhost$' "DOMAIN"
like "$e" "^QUALIFY_DOMAIN=$(cat "$MM_HOME/control/defaultdomain")\$" "QUALIFY_DOMAIN is control/defaultdomain"
like "$e" "^USER=$OWNER\$" "USER is the alias user (the owner of an instance)"
like "$e" '^MESSAGE_ID=.+' "MESSAGE_ID is set"

# a pipe that exits 1: permanent failure, bounced
printf 'Subject: pipe fails\n\nx\n' | sendmail -f dave@localhost pipefail@localhost
ok 'wait_until has_mail dave "^Subject: pipe fails"' "a pipe exiting 1 bounces to the sender"
