#!/bin/bash
# When mm-pop3fetch runs: mm-online NAME fetches the route's accounts
# alongside the flush (and --wait reports the fetch), mm-pop3fetch
# without arguments (the interval service) fetches the accounts of the
# routes that are up and nothing of the others.
. "$(dirname "$0")/lib.sh"
. "$TOOLS/remote-lib.sh"
. "$TOOLS/pop3-lib.sh"
plan 11

inst_new
remote_setup
online() { "$MM_HOME/bin/mm-online" "$@"; }
pop3_drop o 5
port=$(pop3server o)
account isp box "$port"
pop3_drop o2 2
port2=$(pop3server o2)
account other box "$port2"

# the interval mode: nothing while the routes are down
"$MM_HOME/bin/mm-pop3fetch" >"$T/out" 2>&1
is "$?" 0 "mm-pop3fetch without arguments exits 0"
is "$(left o)$(left o2)" 52 "with every route down nothing is fetched"

# mm-online --wait without a queue runner: the fetch, then the queue pass
online --wait --timeout 60 isp >"$T/wait.out" 2>"$T/wait.err"
is "$?" 0 "mm-online --wait isp exits 0" || diag "$(cat "$T/wait.err")"
like "$(cat "$T/wait.out")" 'fetch: done' "and reports the fetch"
like "$(cat "$T/wait.err")" 'isp/box: fetch done: new 5 fetched 5 deleted 5' "with mm-pop3fetch's lines"
is "$(left o)" 0 "the route's account is fetched"
is "$(delivered | wc -l)" 5 "and delivered by the queue pass"
is "$(left o2)" 2 "the other route's account is not"

# the interval mode now fetches the route that is up
pop3_drop o 3
"$MM_HOME/bin/mm-pop3fetch" >"$T/out" 2>&1
like "$(cat "$T/out")" 'isp/box: fetch done: new 3 fetched 3' "mm-pop3fetch without arguments fetches the route that is up"
is "$(left o2)" 2 "and leaves the one that is down"

# with a queue runner: mm-online returns, the mail arrives
online -d
inst_start || bail "the queue runner did not start"
online other 2>"$T/online.err"
ok 'wait_until count_is 10 eval "delivered | wc -l"' "mm-online other: its account is fetched and delivered by the runner"
