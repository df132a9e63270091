#!/bin/bash
# Helpful errors: MM_HOME unset on a host without an install, or naming
# no instance, is said in one line that names MM_HOME and the fix, by
# sendmail, mailq, mailrm, runq, newaliases and the daemons alike (exit
# 78). --help on every program prints its usage line and exits 0;
# sendmail --help is no "unknown option"; install.sh --help has a line
# for every option it takes.
. "$(dirname "$0")/lib.sh"

inst_new
bin=$MM_HOME/bin
nowhere=$T/nowhere

# MM_HOME naming nothing
for c in "sendmail alice@localhost" "mailq" "mailrm 1" "runq" "newaliases" \
         "sendmail -bp" "sendmail -q" "sendmail -bs" "mm-inject alice@localhost" \
         "mm-qctl -l" "mm-online" "mm-send -1" "mm-start"; do
  set -- $c
  out=$(printf 'Subject: x\n\nx\n' | env MM_HOME="$nowhere" "$bin/$1" "${@:2}" 2>&1 </dev/null)
  st=$?
  is "$st" 78 "MM_HOME naming nothing: $c exits 78"
  like "$out" "MM_HOME=$nowhere names no mm instance .*install\\.sh --instance $nowhere" \
    "$c names MM_HOME and the fix" || diag "$out"
  is "$(printf '%s\n' "$out" | grep -c .)" 1 "$c says it in one line"
done
ok '[ ! -e "$nowhere" ]' "nothing was created there"

# an empty directory is no instance either
mkdir "$T/empty"
out=$(env MM_HOME="$T/empty" "$bin/mailq" 2>&1)
is "$?" 78 "MM_HOME naming an empty directory: mailq exits 78"
like "$out" "MM_HOME=$T/empty names no mm instance" "and says so"

# MM_HOME unset: the compiled-in home, when it is not installed here
home=$(head -n 1 "$TOP/conf-home")
if [ -d "$home/control" ]; then
  skip 4 "$home is installed on this machine"
else
  out=$(printf 'Subject: x\n\nx\n' | env -u MM_HOME "$bin/sendmail" alice@localhost 2>&1)
  is "$?" 78 "MM_HOME unset, no install: sendmail exits 78"
  like "$out" "MM_HOME is not set and mm is not installed in $home: .*install\\.sh --instance DIR and export MM_HOME=DIR" \
    "it names MM_HOME and both fixes"
  out=$(env -u MM_HOME "$bin/mailq" 2>&1)
  is "$?" 78 "MM_HOME unset, no install: mailq exits 78"
  unlike "$out" 'unable to exec' "and no longer says it cannot exec mm-qctl"
fi

# sendmail -bV needs no home
out=$(env MM_HOME="$nowhere" "$bin/sendmail" -bV 2>&1)
is "$?" 0 "sendmail -bV works without a home"

# --help everywhere, without a home
n=0
for p in "$BUILD"/mm-* "$BUILD/sendmail"; do
  [ -f "$p" ] && [ -x "$p" ] || continue
  name=${p##*/}
  out=$(env MM_HOME="$nowhere" "$p" --help 2>"$T/err")
  st=$?
  ok '[ $st = 0 ] && [[ $out == "usage: $name"* ]] && [ ! -s "$T/err" ]' "$name --help: a usage line on stdout, exit 0" \
    || diag "exit $st: $out $(cat "$T/err")"
  n=$((n + 1))
done
ok '[ $n -ge 13 ]' "every program was asked ($n)"
for alias in mailq runq newaliases mailrm; do
  out=$("$bin/$alias" --help 2>&1)
  ok '[ $? = 0 ] && [[ $out == usage:* ]]' "$alias --help prints the usage"
done
out=$("$bin/sendmail" --help 2>&1)
unlike "$out" 'unknown option' "sendmail --help is not an unknown option"
out=$("$bin/sendmail" --frobnicate alice@localhost 2>&1 </dev/null)
is "$?" 64 "an unknown long option is a usage error"
like "$out" 'unknown option --frobnicate;' "named as it was given"

# install.sh --help: exit 0, one line per option its parser takes
out=$("$TOP/install.sh" --help 2>&1)
is "$?" 0 "install.sh --help exits 0"
opts=$(sed -n '/^while \[ \$# -gt 0 \]; do/,/^done/p' "$TOP/install.sh" | grep -oE '^    --[a-z-]+\)' | tr -d ' )')
ok '[ "$(printf "%s\n" "$opts" | grep -c .)" -ge 14 ]' "the parser's options are found"
for o in $opts; do
  like "$out" "^  (-h, )?$o( |\$)" "install.sh --help has a line for $o"
done

done_testing
