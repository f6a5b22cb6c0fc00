#!/usr/bin/env bash
# A rank that dies (SIGKILL) or hangs (SIGSTOP) mid-run, or never starts, ends the whole MPI
# job with an error, never a hang.
#   rank_failure.sh MURMUR SOURCE_DIR WORK_DIR
set -uo pipefail
victim_rank=
murmur=$1 src=$2 work=$3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
rm -rf "$work" && mkdir -p "$work"
fail=0

# Starts a long run on 3 ranks, waits until it trains, sends SIGNAL to one rank, and
# prints mpirun's exit code and the seconds it took to end after the signal.
hit() {
  local signal=$1 out=$work/$2 log=$work/$2.log
  mpirun -np 3 "$murmur" run "$src/configs/smoke.toml" --set run.rounds=1000000 \
    --set output.eval_every=0 --set comm.timeout_s=2 --quiet --out "$out" >"$log" 2>&1 &
  local launcher=$!
  for _ in $(seq 300); do [[ -s "$out/metrics.csv" ]] && break; sleep 0.1; done
  sleep 0.5
  local victim
  victim=$(pgrep -f "^$murmur run .*--out $out\$" | tail -1)
  [[ -n "$victim" ]] || { echo "FAIL $2: no rank process found"; kill "$launcher"; return 1; }
  victim_rank=$(tr '\0' '\n' </proc/"$victim"/environ | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
  kill "-$signal" "$victim"
  local start=$SECONDS
  for _ in $(seq 600); do kill -0 "$launcher" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$launcher" 2>/dev/null; then
    echo "FAIL $2: mpirun still running 60 s after SIG$signal to rank pid $victim"
    kill -9 "$victim" 2>/dev/null; kill "$launcher"; return 1
  fi
  wait "$launcher"; local rc=$?
  kill -CONT "$victim" 2>/dev/null; kill -9 "$victim" 2>/dev/null
  echo "$2: SIG$signal -> mpirun exit $rc after $((SECONDS - start)) s"
  [[ $rc -ne 0 ]] || { echo "FAIL $2: mpirun exited 0"; return 1; }
}

hit KILL killed || fail=1
hit STOP stopped || fail=1
# The ranks still running name the silent rank: in an exchange (with the round), or in the
# gather of a round's metrics at rank 0.
if ! grep -qE "waited 2 s (in round [0-9]* phase 0: .* rank $victim_rank \(node|for rank $victim_rank to gather)" "$work/stopped.log"; then
  echo "FAIL stopped: no timeout error naming rank $victim_rank"; cat "$work/stopped.log"; fail=1
fi
grep "murmur: error" "$work/stopped.log" | head -3

# A rank that never starts (stopped before it runs murmur) leaves the others inside MPI_Init:
# they end after comm.timeout_s instead of waiting for ever.
start=$SECONDS
timeout 120 mpirun -np 2 sh -c 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then kill -STOP $$; fi;
  exec "$0" run "$1/configs/smoke.toml" --set comm.timeout_s=3 --quiet --out "$2"' \
  "$murmur" "$src" "$work/startup" >"$work/startup.log" 2>&1
rc=$?
echo "startup: rank 1 stopped before MPI_Init -> mpirun exit $rc after $((SECONDS - start)) s"
if [[ $rc -eq 0 || $rc -eq 124 ]]; then
  echo "FAIL startup: mpirun exit $rc (124: still waiting after 120 s)"; fail=1
fi
if ! grep -q "MPI_Init did not finish within comm.timeout_s = 3 s" "$work/startup.log"; then
  echo "FAIL startup: no start-up timeout error"; cat "$work/startup.log"; fail=1
fi
exit $fail
