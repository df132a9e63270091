#!/bin/bash
# Delivery into mbox files (control/delivery "USER mbox PATH" with ~/ and
# %u): the "From " separator line, From-quoting of body lines, the blank
# line between messages, and locking when many deliveries to one mbox run
# at once.
. "$(dirname "$0")/lib.sh"
plan 16

inst_new
cat >"$MM_HOME/control/delivery" <<EOC
alice mbox ~/mbox
bob mbox $MM_HOME/mail/%u
* maildir ~/Maildir/
EOC
inst_start || bail "the queue runner did not start"
mbox=$MM_HOME/home/alice/mbox

printf 'Subject: one\n\nFrom here the body starts\nplain line\n>From there\n' | sendmail -f carol@example.org alice@localhost
is "$?" 0 "sendmail exits 0"
ok 'wait_until count_is 1 mbox_count "$mbox"' "delivered into ~/mbox"
printf 'Subject: two\n\nsecond message\n' | sendmail -f carol@example.org alice@localhost
ok 'wait_until count_is 2 mbox_count "$mbox"' "a second message is appended"
m=$(cat "$mbox")
like "$(head -n 1 "$mbox")" '^From carol@example\.org (Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}$' "the separator is 'From SENDER asctime-date'"
like "$m" '^>From here the body starts$' "a body line starting with 'From ' is quoted"
unlike "$m" '^From here' "no unquoted 'From ' line in the body"
like "$m" '^plain line$' "other lines are unchanged"
like "$m" '^Return-Path: <carol@example\.org>$' "Return-Path is added"
like "$m" '^Delivered-To: alice@localhost$' "Delivered-To is added"
# every separator but the first follows an empty line; the file ends with one
is "$(awk 'NR > 1 && /^From / && prev != "" { bad++ } { prev = $0 } END { print bad + 0 }' "$mbox")" 0 "messages are separated by an empty line"
is "$(tail -c 2 "$mbox" | od -An -c | tr -d ' ')" '\n\n' "the mbox ends with an empty line"
is "$(maildir_count alice)" 0 "nothing went to alice's Maildir"

# %u in an absolute path
printf 'Subject: for bob\n\nhi\n' | sendmail bob@localhost
ok 'wait_until count_is 1 mbox_count "$MM_HOME/mail/bob"' "%u expands to the user name"

# locking: 12 messages of 200 numbered lines each, delivered in parallel
# (queued while the runner is stopped, so that they are delivered at once)
inst_user carol
echo "carol mbox ~/mbox" >>"$MM_HOME/control/delivery"
inst_stop
for i in $(seq 1 12); do
  { printf 'Subject: lock %s\n\n' "$i"; for l in $(seq 1 200); do echo "message $i line $l"; done; } |
    sendmail carol@localhost &
done
wait
inst_start || bail "the queue runner did not restart"
cmbox=$MM_HOME/home/carol/mbox
ok 'wait_until count_is 12 mbox_count "$cmbox"' "12 parallel deliveries into one mbox"
ok 'wait_until count_is 0 queue_count' "the queue is empty"
check=$("$PYTHON" - "$cmbox" <<'PY'
import mailbox, re, sys
bad = []
msgs = list(mailbox.mbox(sys.argv[1]))
seen = set()
for m in msgs:
    n = re.match(r"lock (\d+)$", m["Subject"] or "")
    if not n:
        bad.append("bad subject %r" % m["Subject"]); continue
    n = n.group(1)
    seen.add(n)
    body = m.get_payload().splitlines()
    want = ["message %s line %d" % (n, l) for l in range(1, 201)]
    if body[:200] != want or any(body[200:]):
        bad.append("message %s is not contiguous" % n)
if len(seen) != 12: bad.append("%d distinct messages" % len(seen))
print("ok" if not bad else "; ".join(bad))
PY
)
is "$check" ok "every message is whole and not interleaved with another"
