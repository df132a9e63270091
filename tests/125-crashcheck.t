#!/bin/bash
# The crash-consistency check (issue 10): the file-system calls of
# injection, delivery into a Maildir and removal are recorded with
# strace -f, and tests/tools/crashcheck replays them, for a crash after
# each call, keeping only what was fsynced: every survivor must be a
# state INTERNALS 3.1 allows (no accepted message lost or cut short, none
# delivered twice). The same trace without mm-queue's fsync of queue/mess
# must fail the check, so that the check is seen to bite.
. "$(dirname "$0")/lib.sh"
has_cmd strace || skip_all "strace is not installed"
strace -f -qq -o /dev/null true 2>/dev/null || skip_all "strace cannot trace here (ptrace refused)"
plan 5

inst_new
calls=openat,open,creat,write,writev,pwrite64,link,linkat,rename,renameat,renameat2,unlink,unlinkat,fsync,fdatasync,ftruncate,mkdir,mkdirat,chdir,fchdir,clone,clone3,fork,vfork
for i in 1 2 3; do printf 'Subject: crash check %s\n\nline %s\n' "$i" "$i" >"$T/m$i"; done
# a first message is delivered (the Maildir is made) and removed, then a
# second one's commit fsyncs queue/mess again, then both are delivered
(cd "$MM_HOME" && strace -f -qq -s 0 -y -o "$T/trace" -e trace=$calls sh -c '
  bin/sendmail alice@localhost <"$1" && bin/sendmail -q &&
  bin/sendmail alice@localhost bob@localhost <"$2" && bin/sendmail bob@localhost <"$3" && bin/sendmail -q' sh "$T/m1" "$T/m2" "$T/m3") 2>"$T/run.err"
is "$?" 0 "injection, delivery and removal ran under strace"
is "$(maildir_count alice) $(maildir_count bob) $(queue_count)" "2 2 0" "everything was delivered and removed"

out=$("$PYTHON" "$TOOLS/crashcheck" "$MM_HOME" "$T/trace" "$MM_HOME"); st=$?
diag "$(tail -n 1 <<<"$out")"
is "$st" 0 "a crash after any call leaves a state INTERNALS allows: $(head -n 3 <<<"$out")"

grep -v 'fsync([0-9]*</[^>]*/queue/mess>)' "$T/trace" >"$T/trace.nosync"
out=$("$PYTHON" "$TOOLS/crashcheck" "$MM_HOME" "$T/trace.nosync" "$MM_HOME"); st=$?
is "$st" 1 "without the fsync of queue/mess the check fails"
like "$out" 'msg [0-9]+ lost' "naming the lost message"
