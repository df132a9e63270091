#!/bin/bash
# Bad input: no recipients, NUL bytes, a 1 MB header line, invalid
# addresses, a message over control/databytes, a bad control file, no
# home at all. Each gets a clear one-line error and a sysexits code, and
# nothing is queued. Missing control files fall back to their defaults.
. "$(dirname "$0")/lib.sh"
plan 66

inst_new
# no queue runner: whatever got queued stays visible

nothing_queued() {
  [ "$(queue_count)" = 0 ] && [ -z "$(ls -A "$MM_HOME/queue/tmp")" ] && [ -z "$(ls -A "$MM_HOME/queue/todo")" ]
}

# refused CODES NAME CMD...: the message in $T/in is refused with one of
# the exit codes (a|b), one line on stderr, nothing queued
refused() {
  local codes=$1 name=$2 st out; shift 2
  out=$("$@" <"$T/in" 2>&1 >/dev/null); st=$?
  ok "[[ $st =~ ^($codes)\$ ]]" "$name: exit $st (want $codes)"
  is "$(printf '%s\n' "$out" | grep -c .)" 1 "$name: one line: ${out:0:200}"
  ok nothing_queued "$name: nothing queued"
  err=$out
}

printf 'Subject: x\n\nbody\n' >"$T/in"
refused 64 "no recipients" sendmail
out=$(sendmail -Z alice@localhost <"$T/in" 2>&1); st=$?
is "$st" 64 "unknown option: exit 64"
like "$out" '-Z' "the error names the option (a usage line may follow)"
ok nothing_queued "unknown option: nothing queued"
refused 65 "-t without recipient headers" sendmail -t

printf 'Subject: nul\n\nbefore\0after\n' >"$T/in"
refused 65 "NUL byte in the body" sendmail alice@localhost
like "$err" 'NUL|nul|\\0|null' "the error names the NUL byte"
printf 'Subject: nul\0in header\n\nbody\n' >"$T/in"
refused 65 "NUL byte in a header" sendmail alice@localhost

{ printf 'Subject: '; head -c 1048576 /dev/zero | tr '\0' x; printf '\n\nbody\n'; } >"$T/in"
refused 65 "a 1 MB header line" sendmail alice@localhost
like "$err" '[Ll]ine|[Hh]eader|long' "the error says the line is too long"

printf 'Subject: x\n\nbody\n' >"$T/in"
for a in 'alice@' '@localhost' 'al ice@localhost' 'alice@local host' 'alice@@localhost' '<alice@localhost' 'alice@localhost>' "$(head -c 300 /dev/zero | tr '\0' a)@localhost"; do
  refused 65 "invalid address '${a:0:30}'" sendmail "$a"
done
refused 65 "invalid sender" sendmail -f 'bad sender@@x' alice@localhost

# control/databytes
echo 200 >"$MM_HOME/control/databytes"
{ printf 'Subject: big\n\n'; head -c 1000 /dev/zero | tr '\0' y; echo; } >"$T/in"
refused 65 "a message over control/databytes" sendmail alice@localhost
like "$err" '[Tt]oo (big|large)' "the error says it is too big"
echo "lots" >"$MM_HOME/control/databytes"
printf 'Subject: x\n\nbody\n' >"$T/in"
refused '75|78' "a malformed control/databytes" sendmail alice@localhost
like "$err" 'databytes' "the error names the control file"
rm -f "$MM_HOME/control/databytes"

# no home at all
out=$(printf 'Subject: x\n\nbody\n' | MM_HOME=$T/nowhere "$MM_HOME/bin/sendmail" alice@localhost 2>&1); st=$?
ok "[[ $st =~ ^(75|78)\$ ]]" "MM_HOME pointing nowhere: exit $st (want 75 or 78)"
is "$(printf '%s\n' "$out" | grep -c .)" 1 "one line: $out"
ok '! test -e "$T/nowhere"' "nothing is created there"

# a control file that is there but cannot be read is a temporary error,
# not a silent default (a directory in its place: root reads any file)
mv "$MM_HOME/control/defaultdomain" "$T/defaultdomain.saved"
mkdir "$MM_HOME/control/defaultdomain"
before=$(queue_count)
out=$(printf 'Subject: x\n\nbody\n' | sendmail alice@localhost 2>&1)
is "$?" 75 "an unreadable control/defaultdomain: exit 75"
like "$out" 'read control/defaultdomain' "the error names the file: $out"
is "$(queue_count)" "$before" "nothing is queued"
rmdir "$MM_HOME/control/defaultdomain" && mv "$T/defaultdomain.saved" "$MM_HOME/control/defaultdomain"

# missing control files: defaults (localhost and the host name are local)
rm -f "$MM_HOME/control/me" "$MM_HOME/control/defaultdomain" "$MM_HOME/control/locals" "$MM_HOME/control/aliases"
printf 'Subject: defaults\n\nbody\n' | sendmail alice@localhost
is "$?" 0 "without control/me, defaultdomain, locals, aliases sendmail still works"
printf 'Subject: defaults bare\n\nbody\n' | sendmail bob
is "$?" 0 "and qualifies a bare name"
inst_start || bail "the queue runner did not start"
ok 'wait_until count_is 1 maildir_count alice' "alice@localhost is delivered with the defaults"
ok 'wait_until count_is 1 maildir_count bob' "bob (qualified with the host name) is delivered with the defaults"
is "$(cat $(maildir_files bob) /dev/null | sed -n 's/^Delivered-To: bob@//p')" "$(hostname -f 2>/dev/null || hostname)" "the default domain is the system host name"
