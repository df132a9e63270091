# tests/tools/storm-lib.sh: the kill storm of tests/12x, sourced after
# tests/lib.sh. A test defines
#   storm_queue PROG      queue the storm's N messages (the runner is stopped)
#   verdict PROG          print the storm's figures ("lost L dups D ...")
# and sets STORM_PAUSE (the longest pause between kills, in hundredths of
# a second), STORM_REQUEUE (a queue run every that many kills), STORM_CHILD
# (the delivery program that must be gone before the storm is over), N
# and KILLS. Then
#   storm PROG            queues, starts the runner, kill -9s PROG (mm-send:
#                         the runner) at random moments, restarting a dead
#                         runner, until KILLS kills or an empty queue; waits
#                         until the queue settles; sets STORM_KILLS and STORM
#   pids_of PROG          pids of the instance's bin/PROG processes

# (a delivery is a child of mm-lspawn named mm-local, not bin/mm-local)
pids_of() {  # PROG
  local p exe
  for p in $(find /proc -mindepth 2 -maxdepth 2 -name exe -lname "$MM_HOME/bin/*" 2>/dev/null | cut -d/ -f3); do
    exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
    case $1:$exe in
      mm-local:*/bin/mm-lspawn|mm-lspawn:*/bin/mm-lspawn)
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] && echo "$p" ;;
      *) [ "$exe" = "$MM_HOME/bin/$1" ] && echo "$p" ;;
    esac
  done
  return 0
}

# done when the queue is empty and no delivery runs; a queue run every 2 s
# retries at once what a kill deferred
_storm_last_q=0
_storm_settled() {
  [ "$(queue_count)" = 0 ] && [ -z "$(pids_of "$STORM_CHILD")" ] && return 0
  if [ $((SECONDS - _storm_last_q)) -ge 2 ]; then sendmail -q; _storm_last_q=$SECONDS; fi
  return 1
}

storm() {  # PROG
  local prog=$1 kills=0 rounds=0 pid
  inst_stop
  storm_queue "$prog"
  inst_start || bail "the queue runner did not start"
  while [ "$kills" -lt "$KILLS" ] && [ "$rounds" -lt 40 ] && [ "$(queue_count)" != 0 ]; do
    rounds=$((rounds + 1))
    sleep "$(printf '0.%02d' $((5 + RANDOM % STORM_PAUSE)))"
    if [ "$prog" = mm-send ]; then pid=$(runner_pid)
    else pid=$(pids_of "$prog" | shuf -n 1); fi
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
    # mm-send exits when its mm-lspawn dies; a runner that died is restarted
    sleep 0.05
    inst_running || inst_start >/dev/null 2>&1
    # what a kill cut short goes again now, not on the retry schedule
    [ $((rounds % STORM_REQUEUE)) = 0 ] && sendmail -q
  done
  inst_running || inst_start || bail "the queue runner did not restart"
  _storm_last_q=0
  WAIT_TIMEOUT=60 wait_until _storm_settled || diag "$(queue_count) messages left in the queue"
  STORM_KILLS=$kills
  STORM=$(verdict "$prog")
  diag "storm of $prog: $kills kills; $(echo $STORM)"
}
