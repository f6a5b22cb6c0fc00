#!/usr/bin/env bash
# Checkpoint and resume across processes: a 3-rank run with output.checkpoint_every loses a
# rank to SIGKILL at a random round (mpirun then ends the job), is resumed with
# `mpirun -np 2 murmur run --resume` (another rank count) and must give the metrics.csv,
# eval.csv, algorithm files and accuracy/byte fields of an uninterrupted in-process run.
#   resume.sh MURMUR SOURCE_DIR WORK_DIR [SEED]
set -uo pipefail
murmur=$1 src=$2 work=$3
RANDOM=${4:-$$}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
rm -rf "$work" && mkdir -p "$work"
cases=(
  "choco_randomk|algorithm.name=choco topology.name=ring compression.name=randomk compression.ratio=0.1 algorithm.gamma=0.3 train.momentum=0.9"
  "relaysum_dbt|algorithm.name=relaysum topology.name=double_binary_tree"
  "vote_server_reuse|algorithm.name=majority_vote vote.mask_ratio=0.05 vote.server=5 vote.mask_reuse=4"
  "jwins|algorithm.name=jwins topology.name=regular topology.degree=3 jwins.save_accumulator=true"
)
source "$(dirname "$0")/compare.sh"
rounds=60 every=3 fail=0
for c in "${cases[@]}"; do
  name=${c%%|*}
  sets=()
  for kv in ${c#*|} network.seconds_per_sample=2e-5 run.rounds=$rounds output.eval_every=4 \
      output.checkpoint_every=$every comm.timeout_s=20; do
    sets+=(--set "$kv")
  done
  full=$work/$name-inproc part=$work/$name-mpi
  "$murmur" run "$src/configs/smoke.toml" "${sets[@]}" --quiet --out "$full" || exit 1
  kill_at=$((every + 4 + RANDOM % (rounds / 2 - every - 3)))
  mpirun -np 3 "$murmur" run "$src/configs/smoke.toml" "${sets[@]}" --quiet --out "$part" \
    >"$part.log" 2>&1 &
  launcher=$!
  until grep -q "^$kill_at," "$part/metrics.csv" 2>/dev/null; do
    kill -0 $launcher 2>/dev/null || break
    sleep 0.002
  done
  victim=$(pgrep -f "^$murmur run .*--out $part\$" | tail -1)
  [[ -n $victim ]] && kill -9 "$victim"
  wait $launcher
  rc=$?
  if [[ -z $victim || $rc -eq 0 || -e $part/summary.json ]]; then
    echo "FAIL $name: the job was not killed mid-run (mpirun exit $rc)"
    fail=1
    continue
  fi
  last=$(tail -n 1 "$part/metrics.csv" | cut -d, -f1)
  if ! mpirun -np 2 "$murmur" run --resume "$part" >"$part-resume.log" 2>&1; then
    echo "FAIL $name: resume failed:"
    cat "$part-resume.log"
    fail=1
    continue
  fi
  compare_runs "$name" "$full" "$part"
  grep -q '"ranks": 2' "$part/summary.json" || { echo "FAIL $name: not resumed on 2 ranks"; fail=1; }
  from=$(grep -o 'resuming from [^ ]*' "$part-resume.log" | sed 's/resuming from //')
  echo "ok $name: rank killed with $((last + 1)) rounds in metrics.csv (target $kill_at), resumed on 2 ranks from ${from##*/}"
done
exit $fail
