#!/bin/bash
# Kill storms of local delivery (issue 10, item 7): messages to a mbox
# (alice), a Maildir (bob) and a command (carol, control/delivery mda)
# are delivered while one program is killed with SIGKILL again and again
# and the queue runner restarted: mm-send, then mm-lspawn, then mm-local.
# Every message is delivered (0 lost). Duplicates only in the windows
# mm-send(8) documents: none when mm-send dies (the deliveries it started
# hold queue/lock/send until they end, and the next runner waits), none
# ever in a Maildir (keyed names), and for the mbox and the command at
# most one per delivery cut short by the kill after its work was done:
# a kill of mm-local cuts one, a kill of mm-lspawn those in flight (at
# most control/concurrencylocal, 4 here).
#   MM_STORM_N      messages per storm (default 30)
#   MM_STORM_KILLS  kills per storm at most (default 8)
. "$(dirname "$0")/lib.sh"
. "$TOOLS/storm-lib.sh"
plan 19

N=${MM_STORM_N:-30}
KILLS=${MM_STORM_KILLS:-8}
inst_new
inst_user carol
mkdir "$T/pipe"
# the command takes a while, so that kills find it running; a file
# appears only once the whole message is in it
cat >"$T/deliver" <<EOS
#!/bin/sh
f=\$(mktemp "$T/pipe/m.XXXXXX") || exit 75
cat >"\$f.part" && sleep 0.2 && mv "\$f.part" "\$f"
EOS
chmod 755 "$T/deliver"
# few at a time, so that the storm lasts long enough for its kills
echo 4 >"$MM_HOME/control/concurrencylocal"
cat >"$MM_HOME/control/delivery" <<EOC
alice mbox ~/mbox
carol mda $T/deliver
* maildir ~/Maildir/
EOC

# counts each message by its Subject in the three places: "lost", "dups"
# (those delivered more than once), "broken" (not whole), per place
verdict() {  # PREFIX
  "$PYTHON" - "$MM_HOME/home" "$T/pipe" "$1" "$N" <<'PY'
import os, re, sys
home, pipedir, prefix, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def texts_mbox(path):
    try: data = open(path, "rb").read().decode("utf-8", "replace")
    except OSError: return []
    return re.split(r"\n(?=From )", data)
def texts_dir(d):
    out = []
    for sub in ("new", "cur", ""):
        p = os.path.join(d, sub)
        if not os.path.isdir(p): continue
        for name in os.listdir(p):
            f = os.path.join(p, name)
            if os.path.isfile(f) and not name.endswith(".part"):
                out.append(open(f, "rb").read().decode("utf-8", "replace"))
    return out
places = {"mbox": texts_mbox(os.path.join(home, "alice", "mbox")),
          "maildir": texts_dir(os.path.join(home, "bob", "Maildir")),
          "pipe": texts_dir(pipedir)}
for place, texts in places.items():
    count, broken = {}, set()
    for t in texts:
        m = re.search(r"^Subject: storm %s (\d+)$" % prefix, t, re.M)
        if not m: continue
        i = int(m.group(1))
        count[i] = count.get(i, 0) + 1
        body = t.split("\n\n", 1)[1].rstrip("\n").splitlines() if "\n\n" in t else []
        body = [l for l in body if l]
        if body != ["storm %s %d line %d" % (prefix, i, l) for l in range(1, 21)]:
            broken.add(i)
    lost = [i for i in range(1, n + 1) if i not in count]
    print(place, "lost", len(lost), "dups", sum(c - 1 for c in count.values()), "broken", len(broken))
PY
}

# one storm: N messages to a mbox, a Maildir and a command, delivered
# while PROG is killed (tests/tools/storm-lib.sh)
storm_queue() {  # PROG
  local i l
  for i in $(seq 1 "$N"); do
    { printf 'Subject: storm %s %s\n\n' "$1" "$i"
      for l in $(seq 1 20); do echo "storm $1 $i line $l"; done
    } | sendmail -f carol@localhost alice@localhost bob@localhost carol@localhost || diag "sendmail failed for message $i"
  done
}
STORM_PAUSE=30 STORM_REQUEUE=4 STORM_CHILD=mm-local
field() { awk -v p="$1" -v k="$2" '$1 == p { for (i = 2; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$STORM"; }

storm mm-send
ok '[ "$STORM_KILLS" -gt 0 ]' "mm-send was killed ($STORM_KILLS times)"
for p in mbox maildir pipe; do
  is "$(field $p lost) $(field $p dups)" "0 0" "mm-send killed: every message is delivered once to the $p"
done
is "$(field mbox broken)$(field maildir broken)$(field pipe broken)" 000 "mm-send killed: every delivered message is whole"

for prog in mm-lspawn mm-local; do
  storm $prog
  ok '[ "$STORM_KILLS" -gt 0 ]' "$prog was killed ($STORM_KILLS times)"
  for p in mbox maildir pipe; do is "$(field $p lost)" 0 "$prog killed: no message is lost in the $p"; done
  is "$(field maildir dups)" 0 "$prog killed: no message is delivered twice to the Maildir"
  per=1; [ $prog = mm-lspawn ] && per=4
  ok '[ "$(field mbox dups)" -le $((STORM_KILLS * per)) ] && [ "$(field pipe dups)" -le $((STORM_KILLS * per)) ]' \
    "$prog killed: mbox and command duplicates at most $per per kill ($(field mbox dups), $(field pipe dups))"
done
is "$(field mbox broken)$(field maildir broken)$(field pipe broken)" 000 "every delivered message is whole"
is "$(maildir_count carol)" 0 "no bounce or warning went to the sender"
