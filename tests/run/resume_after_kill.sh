#!/usr/bin/env bash
# Checkpoint and resume, end to end, for every algorithm: a run with output.checkpoint_every
# is killed with SIGKILL at a random round, resumed with `murmur run --resume`, and its
# metrics.csv, eval.csv, the algorithm's own files and summary.json must equal those of an
# uninterrupted run with the same seed, byte for byte (the measurements are in timing.json).
# Every other case first corrupts (odd cases) or truncates (cases 2 mod 4) the newest
# checkpoint: the resume must warn naming that file and use the one before.
#   resume_after_kill.sh MURMUR SOURCE_DIR WORK_DIR [SEED]
set -euo pipefail
murmur=$1 src=$2 work=$3
seed=${4:-$$}
RANDOM=$seed
rm -rf "$work" && mkdir -p "$work"
cases=(
  "dpsgd_momentum|algorithm.name=dpsgd topology.name=ring train.momentum=0.9 train.nesterov=true"
  "allreduce|algorithm.name=allreduce topology.name=complete train.weight_decay=1e-3"
  "local|algorithm.name=local"
  "sgp_one_peer|algorithm.name=sgp topology.name=one_peer_exponential"
  "choco_topk|algorithm.name=choco topology.name=ring compression.name=topk compression.ratio=0.1 algorithm.gamma=0.5"
  "choco_randomk_ef|algorithm.name=choco topology.name=exponential compression.name=randomk compression.ratio=0.1 algorithm.gamma=0.3"
  "sparse_push_k_peer|algorithm.name=sparse_push topology.name=k_peer_exponential compression.name=topk compression.ratio=0.1 algorithm.gamma=0.5"
  "scsp_directed|algorithm.name=scsp topology.name=directed_ring compression.name=topk compression.ratio=0.1 algorithm.gamma=0.5 algorithm.average_every=7"
  "relaysum_dbt|algorithm.name=relaysum topology.name=double_binary_tree"
  "relaysum_bfs_grad|algorithm.name=relaysum topology.name=torus relaysum.spanning_tree=bfs relaysum.variant=grad"
  "relaysum_mix_counts|algorithm.name=relaysum topology.name=chain relaysum.variant=mix relaysum.normalize=counts"
  "vote_server_reuse|algorithm.name=majority_vote vote.mask_ratio=0.05 vote.server=5 vote.mask_reuse=4"
  "vote_all_to_all|algorithm.name=majority_vote vote.mode=all_to_all vote.mask_ratio=0.05 vote.layerwise=true"
  "jwins|algorithm.name=jwins topology.name=regular topology.degree=3 jwins.save_accumulator=true"
  "gradient_tracking_faults|algorithm.name=gradient_tracking topology.name=ring faults.loss=0.1 faults.crash=3@10:30"
  "d2_chain|algorithm.name=d2 topology.name=chain"
  "exact_diffusion|algorithm.name=exact_diffusion topology.name=torus"
  "epidemic_oracle|algorithm.name=epidemic epidemic.peers=3"
  "clipped_gossip_faults|algorithm.name=clipped_gossip topology.name=torus faults.loss=0.1"
  "byzantine_gaussian|algorithm.name=dpsgd topology.name=ring faults.byzantine=3 faults.attack=gaussian faults.attack_scale=0.01 faults.attack_from=20"
  "beer_randomk|algorithm.name=beer topology.name=ring compression.name=randomk compression.ratio=0.1 algorithm.gamma=0.3"
  "sgp_faults|algorithm.name=sgp topology.name=one_peer_exponential faults.loss=0.1 faults.crash=3@10:30,5@20"
  "choco_faults|algorithm.name=choco topology.name=ring compression.name=topk compression.ratio=0.1 algorithm.gamma=0.5 faults.loss=0.1 faults.crash=3@10:30"
  "dpsgd_event_churn|algorithm.name=dpsgd sim.mode=event churn.offline_fraction=0.2 churn.period_s=0.01 network.stragglers=2 energy.tx_nj_per_bit=100"
  "adpsgd_churn|algorithm.name=adpsgd sim.mode=event sim.window_s=0.004 churn.offline_fraction=0.2 churn.period_s=0.05 network.stragglers=2 energy.compute_watts=1"
  "async_push_sum_bound|algorithm.name=async_push_sum sim.mode=event sim.window_s=0.004 async_push_sum.staleness_bound=2 device.step_jitter=0.3 faults.loss=0.05"
)
rounds=80 every=3
fail=0 k=0
for c in "${cases[@]}"; do
  name=${c%%|*}
  sets=()
  for kv in ${c#*|} network.seconds_per_sample=2e-5 run.rounds=$rounds output.eval_every=4 \
      output.checkpoint_every=$every; do
    sets+=(--set "$kv")
  done
  full=$work/$name-full part=$work/$name-resumed
  "$murmur" run "$src/configs/smoke.toml" "${sets[@]}" --quiet --out "$full"
  # Kill at a random round in [every + 4, rounds / 2]: at least one checkpoint exists.
  kill_at=$((every + 4 + RANDOM % (rounds / 2 - every - 3)))
  "$murmur" run "$src/configs/smoke.toml" "${sets[@]}" --quiet --out "$part" &
  pid=$!
  until grep -q "^$kill_at," "$part/metrics.csv" 2>/dev/null; do
    kill -0 $pid 2>/dev/null || break
    sleep 0.002
  done
  kill -9 $pid 2>/dev/null || true
  status=0
  wait $pid || status=$?
  if [[ $status -ne 137 || -e $part/summary.json ]]; then
    echo "FAIL $name: the run was not killed mid-run (exit $status)"
    fail=1
    continue
  fi
  last=$(tail -n 1 "$part/metrics.csv" | cut -d, -f1)
  mapfile -t ckpts < <(ls -r "$part"/checkpoints/*.ckpt)
  bad=""
  if ((k % 2 == 1 && ${#ckpts[@]} >= 2)); then  # flip one byte in the middle
    bad=${ckpts[0]}
    size=$(stat -c %s "$bad")
    printf '\xff' | dd of="$bad" bs=1 seek=$((size / 2)) conv=notrunc status=none
    printf '\x00' | dd of="$bad" bs=1 seek=$((size / 2 + 1)) conv=notrunc status=none
  elif ((k % 4 == 2 && ${#ckpts[@]} >= 2)); then  # a torn write
    bad=${ckpts[0]}
    truncate -s $(($(stat -c %s "$bad") / 3)) "$bad"
  fi
  log=$work/$name-resume.log
  if ! "$murmur" run --resume "$part" >"$log" 2>&1; then
    echo "FAIL $name: resume failed:"
    cat "$log"
    fail=1
    continue
  fi
  if [[ -n $bad ]] && ! grep -q "checkpoint $bad: .*trying the one before" "$log"; then
    echo "FAIL $name: no warning naming the damaged $bad:"
    cat "$log"
    fail=1
  fi
  from=$(grep -o 'resuming from [^ ]*' "$log" | sed 's/resuming from //')
  for f in $(cd "$full" && ls *.csv); do
    if ! cmp -s "$full/$f" "$part/$f"; then echo "FAIL $name: $f differs"; fail=1; fi
  done
  if ! diff "$full/summary.json" "$part/summary.json" >"$work/$name-summary.diff"; then
    echo "FAIL $name: summary.json differs:"
    cat "$work/$name-summary.diff"
    fail=1
  fi
  echo "ok $name: killed with $((last + 1)) rounds in metrics.csv (target $kill_at), resumed from ${from##*/}${bad:+ (damaged ${bad##*/})}"
  k=$((k + 1))
done
# The kill rounds come from this seed: a failure is reproduced with it as the 4th argument.
((fail)) && echo "resume_after_kill.sh: some case failed; rerun with seed $seed: $0 $murmur $src $work $seed"
exit $fail
