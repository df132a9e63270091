#!/bin/bash
# control/aliases (mm-aliases(5)), read at delivery time: lists, nested
# aliases, one delivery per final target, loops, bad targets next to good
# ones (the good ones delivered, a bounce for the bad ones), :include:,
# |pipe, /file (mbox) and /dir/ (Maildir) targets, user+extension, and
# postmaster without any alias.
. "$(dirname "$0")/lib.sh"
plan 41

dsn() { "$PYTHON" "$TOOLS/dsn" "$1"; }
# the first message in dave's Maildir (dave sends everything here) naming $1
bounce_for() { maildir_grep dave "$1" | head -n 1; }

inst_new
inst_user dave
mkdir -p "$T/outdir/new" "$T/outdir/cur" "$T/outdir/tmp"
printf 'alice\n# a comment\n\nbob\n' >"$T/list"
inst_start || bail "the queue runner did not start"

# postmaster resolves with no alias for it at all
sed -i '/^postmaster:/d' "$MM_HOME/control/aliases"
printf 'Subject: for the postmaster\n\nx\n' | sendmail -f dave@localhost postmaster@localhost
ok 'wait_until count_is 1 mbox_count "$MM_HOME/mail/postmaster"' "postmaster without an alias: mail/postmaster"

cat >>"$MM_HOME/control/aliases" <<EOC
postmaster: $OWNER
team: alice, bob
dup: alice, team,
  bob
loop1: loop2
loop2: loop1
selfloop: selfloop
mixed: alice, nosuchuser, bob
incl: :include:$T/list
badincl: :include:$T/no-such-list, bob
tofile: $T/out.mbox
todir: $T/outdir/
topipe: |$TOOLS/envdump $T/pipe
nested: team, tofile
badfile: $T/no-such-dir/x.mbox, alice
EOC

printf 'Subject: team\n\nx\n' | sendmail -f dave@localhost team@localhost
ok 'wait_until count_is 1 maildir_count alice' "a list: alice gets it"
ok 'wait_until count_is 1 maildir_count bob' "a list: bob gets it"

printf 'Subject: dup\n\nx\n' | sendmail -f dave@localhost dup@localhost
ok 'wait_until count_is 0 queue_count' "delivered"
is "$(maildir_count alice)/$(maildir_count bob)" 2/2 "alice and bob named directly and through a nested list (continued line) get one copy each"

printf 'Subject: direct and alias\n\nx\n' | sendmail -f dave@localhost alice@localhost team@localhost
ok 'wait_until count_is 0 queue_count' "delivered"
is "$(maildir_count alice)/$(maildir_count bob)" 3/3 "a user named and reached through an alias gets one copy"

# loops bounce, nothing is delivered
printf 'Subject: loop\n\nx\n' | sendmail -f dave@localhost loop1@localhost
ok 'wait_until has_mail dave loop1@localhost' "a two-alias loop bounces to the sender"
d=$(dsn "$(bounce_for loop1@localhost)")
like "$d" '^status: 5\.[0-9]+\.[0-9]+$' "with a permanent status"
like "$d" '^(diagnostic-code|text): .*loop' "saying it is a loop"
printf 'Subject: selfloop\n\nx\n' | sendmail -f dave@localhost selfloop@localhost
ok 'wait_until has_mail dave selfloop@localhost' "an alias naming itself (no such user) bounces"
ok 'wait_until count_is 0 queue_count' "the queue empties"
is "$(maildir_count alice)/$(maildir_count bob)" 3/3 "nothing was delivered for the loops"

# bad targets next to good ones
printf 'Subject: mixed\n\nx\n' | sendmail -f dave@localhost mixed@localhost
ok 'wait_until count_is 4 maildir_count alice' "good targets of a list with a bad one: alice"
ok 'wait_until count_is 4 maildir_count bob' "and bob are delivered"
ok 'wait_until has_mail dave nosuchuser' "a bounce for the unknown user"
d=$(dsn "$(bounce_for nosuchuser)")
is "$(printf '%s\n' "$d" | grep -c '^final-recipient:')" 1 "naming one failed recipient"
unlike "$d" '^final-recipient: .*(alice|bob)@' "not the good ones"

# :include:
printf 'Subject: incl\n\nx\n' | sendmail -f dave@localhost incl@localhost
ok 'wait_until count_is 5 maildir_count alice' ":include: file: alice"
ok 'wait_until count_is 5 maildir_count bob' ":include: file: bob"
printf 'Subject: badincl\n\nx\n' | sendmail -f dave@localhost badincl@localhost
ok 'wait_until count_is 6 maildir_count bob' "a missing :include: file does not stop the good target"
ok 'wait_until has_mail dave badincl' "and bounces for the missing file"

# /file, /dir/, |pipe
printf 'Subject: tofile\n\nx\n' | sendmail -f dave@localhost tofile@localhost
ok 'wait_until count_is 1 mbox_count "$T/out.mbox"' "/file target: appended as mbox"
like "$(cat "$T/out.mbox")" '^Delivered-To: tofile@localhost$' "with Delivered-To of the alias"
printf 'Subject: todir\n\nx\n' | sendmail -f dave@localhost todir@localhost
ok 'wait_until nonempty "$T/outdir/new"' "/dir/ target: delivered as Maildir"
printf 'Subject: topipe\n\npiped\n' | sendmail -f dave@localhost topipe@localhost
ok 'wait_until test -s "$T/pipe.msg"' "|pipe target: the command ran"
like "$(cat "$T/pipe.env")" '^LOCAL_PART=topipe$' "with LOCAL_PART of the alias"
like "$(cat "$T/pipe.msg")" '^piped$' "reading the message"

# one final target reached twice gets one copy
printf 'Subject: nested file\n\nx\n' | sendmail -f dave@localhost tofile@localhost nested@localhost
ok 'wait_until count_is 0 queue_count' "delivered"
is "$(mbox_count "$T/out.mbox")" 2 "a /file reached directly and through a nested alias is written once"
is "$(maildir_count alice)/$(maildir_count bob)" 6/7 "the nested list is delivered too"

# a file target that cannot be written
printf 'Subject: badfile\n\nx\n' | sendmail -f dave@localhost badfile@localhost
ok 'wait_until count_is 7 maildir_count alice' "the good target next to an unwritable file is delivered"
ok 'wait_until log_has "deferral: .*no-such-dir"' "the file in a missing directory is deferred (temporary, mm-local(8))"

# the file is read at delivery time: a new alias works at once
echo "late: bob" >>"$MM_HOME/control/aliases"
printf 'Subject: late\n\nx\n' | sendmail -f dave@localhost late@localhost
ok 'wait_until count_is 8 maildir_count bob' "an alias added while the runner runs is used"

# alias names are case-insensitive, user+extension goes to the user
printf 'Subject: case\n\nx\n' | sendmail -f dave@localhost TEAM@localhost
ok 'wait_until count_is 9 maildir_count bob' "alias names are case-insensitive"
printf 'Subject: ext\n\nx\n' | sendmail -f dave@localhost alice+lists@localhost
ok 'wait_until count_is 9 maildir_count alice' "alice+lists reaches alice"
like "$(cat $(maildir_grep alice '^Subject: ext$') /dev/null)" '^Delivered-To: alice\+lists@localhost$' "with Delivered-To alice+lists@localhost"

# newaliases checks the file
"$MM_HOME/bin/newaliases" >"$T/na.out" 2>&1
is "$?" 0 "newaliases exits 0 on a good alias file"
like "$(cat "$T/na.out")" '^control/aliases: [0-9]+ aliases$' "and counts the aliases"
echo "this line has no colon" >>"$MM_HOME/control/aliases"
"$MM_HOME/bin/newaliases" >"$T/na.out" 2>&1
is "$?" 78 "newaliases exits 78 on a syntax error"
like "$(cat "$T/na.out")" 'aliases.*(line )?[0-9]+' "naming the line: $(head -n 1 "$T/na.out")"
