#!/usr/bin/env bash
# Guards "no result changes" across refactorings: runs configs/smoke.toml in many settings
# (every algorithm; faults, compressors, value codecs, quasi-global momentum, gossip-only
# rounds, auto-tuned gamma; energy, and the event simulation in process only) in process and
# under `mpirun -np RANKS`, and compares a digest of
# each run's results with the digests recorded in tests/result_digests.txt.
#
# The digest covers every CSV file of the run directory (metrics.csv, eval.csv and the
# algorithm's own files) and summary.json without its "transport" and "ranks" lines, so an
# MPI run must give the digest of the in-process one. The simulated time is deterministic
# (network.compute = "model"), so nothing is left out for timing.
#
#   scripts/result_digests.sh [--record] [--murmur BIN] [--ranks N] [--no-mpi] [--only NAME]
#
# --record rewrites tests/result_digests.txt from in-process runs (do this only on a tree whose
# results are known good). Digests depend on the floating-point code the machine runs (BLAS and
# LibTorch kernels, CPU vector width): record them on the machine that checks them.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
murmur=$top/build/murmur ranks=4 record=0 mpi=1 only=
while (($#)); do
  case $1 in
    --record) record=1 ;;
    --murmur) murmur=$2; shift ;;
    --ranks) ranks=$2; shift ;;
    --no-mpi) mpi=0 ;;
    --only) only=$2; shift ;;
    *) echo "result_digests.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
digests=$top/tests/result_digests.txt
[[ -x $murmur ]] || { echo "result_digests.sh: no murmur binary at $murmur (make build)" >&2; exit 2; }
if ((mpi)) && ! command -v mpirun >/dev/null; then
  echo "result_digests.sh: mpirun not found (openmpi-bin); use --no-mpi for in-process runs only" >&2
  exit 2
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none

topk="compression.name=topk compression.ratio=0.1"
cases=(
  "dpsgd_ring|algorithm.name=dpsgd"
  "dpsgd_qgm|algorithm.name=dpsgd topology.name=exponential train.quasi_global_momentum=true train.momentum=0.9"
  "dpsgd_zstd|algorithm.name=dpsgd compression.value_codec=zstd"
  "dpsgd_faults|algorithm.name=dpsgd topology.name=exponential faults.loss=0.1 faults.crash=2@3:8 faults.link_down=0-1@0:6 faults.delay_prob=0.2 faults.delay_ms=5"
  "dpsgd_final_gossip|algorithm.name=dpsgd run.final_gossip_rounds=4"
  "allreduce|algorithm.name=allreduce topology.name=complete"
  "local|algorithm.name=local"
  "choco_topk|algorithm.name=choco $topk algorithm.gamma=0.4"
  "choco_auto_gamma|algorithm.name=choco $topk"
  "choco_qsgd|algorithm.name=choco compression.name=qsgd algorithm.gamma=0.3"
  "choco_sign|algorithm.name=choco compression.name=sign algorithm.gamma=0.2"
  "choco_topk_quant|algorithm.name=choco compression.name=topk_quant compression.ratio=0.1 algorithm.gamma=0.4"
  "choco_randomk_faults|algorithm.name=choco topology.name=ring compression.name=randomk compression.ratio=0.1 algorithm.gamma=0.3 faults.loss=0.1 faults.crash=5@2:6"
  "choco_per_tensor_auto|algorithm.name=choco $topk compression.per_tensor=true compression.value_codec=auto algorithm.gamma=0.4"
  "choco_qgm|algorithm.name=choco $topk algorithm.gamma=0.4 train.quasi_global_momentum=true train.momentum=0.9"
  "sgp_one_peer|algorithm.name=sgp topology.name=one_peer_exponential"
  "sgp_faults|algorithm.name=sgp topology.name=directed_exponential faults.loss=0.1 faults.crash=3@2:5"
  "sparse_push|algorithm.name=sparse_push topology.name=k_peer_exponential $topk algorithm.gamma=0.5"
  "sparse_push_faults|algorithm.name=sparse_push topology.name=one_peer_exponential $topk algorithm.gamma=0.5 faults.loss=0.1 faults.crash=6@4"
  "scsp|algorithm.name=scsp topology.name=directed_ring $topk algorithm.gamma=0.5 algorithm.average_every=7"
  "relaysum_dbt|algorithm.name=relaysum topology.name=double_binary_tree"
  "relaysum_grad_bfs|algorithm.name=relaysum topology.name=torus relaysum.spanning_tree=bfs relaysum.variant=grad"
  "relaysum_mix_counts|algorithm.name=relaysum topology.name=chain relaysum.variant=mix relaysum.beta=0.7 relaysum.normalize=counts"
  "relaysum_faults|algorithm.name=relaysum topology.name=double_binary_tree faults.loss=0.1"
  "vote_server_faults|algorithm.name=majority_vote vote.mask_ratio=0.05 vote.server=5 faults.loss=0.05 faults.crash=2@3:6"
  "vote_all_to_all|algorithm.name=majority_vote vote.mode=all_to_all vote.mask_ratio=0.05"
  "vote_pipeline_quant|algorithm.name=majority_vote vote.mask_ratio=0.05 vote.pipeline=true vote.value_codec=quant vote.value_bits=4"
  "vote_momentum|algorithm.name=majority_vote vote.mask_ratio=0.05 vote.layerwise=true train.momentum=0 vote.momentum=0.9 vote.rescale_memory=true train.lr_decay_rounds=[6]"
  "vote_global_momentum|algorithm.name=majority_vote vote.mode=all_to_all vote.mask_ratio=0.05 train.momentum=0 vote.global_momentum=0.9 vote.mask_reuse=3"
  "jwins|algorithm.name=jwins topology.name=regular topology.degree=3 jwins.save_accumulator=true"
  "jwins_per_node_zstd|algorithm.name=jwins topology.name=ring jwins.share_counts=per_node compression.value_codec=zstd faults.loss=0.1"
  "gradient_tracking|algorithm.name=gradient_tracking topology.name=ring faults.loss=0.1"
  "d2|algorithm.name=d2 topology.name=chain"
  "exact_diffusion|algorithm.name=exact_diffusion topology.name=exponential"
  "epidemic_oracle|algorithm.name=epidemic epidemic.peers=3"
  "epidemic_local|algorithm.name=epidemic topology.name=complete epidemic.variant=local faults.loss=0.1"
  "beer_topk|algorithm.name=beer topology.name=ring compression.name=topk compression.ratio=0.1 algorithm.gamma=0.4"
  "clipped_gossip|algorithm.name=clipped_gossip topology.name=torus faults.loss=0.1"
  "byzantine_gaussian|algorithm.name=clipped_gossip topology.name=regular topology.degree=4 faults.byzantine=2,5 faults.attack=gaussian faults.attack_scale=0.1 clipped_gossip.clip_count=2"
  "gradient_tracking_cta|algorithm.name=gradient_tracking gradient_tracking.form=cta"
  "energy_rounds|algorithm.name=sgp topology.name=one_peer_exponential energy.compute_j_per_step=0.5 energy.rx_nj_per_bit=3"
  "event_dpsgd_churn|algorithm.name=dpsgd sim.mode=event churn.offline_fraction=0.2 churn.period_s=0.002 network.stragglers=2 energy.compute_watts=1 energy.tx_nj_per_bit=100"
  "event_adpsgd|algorithm.name=adpsgd sim.mode=event sim.window_s=0.002 churn.offline_fraction=0.2 churn.period_s=0.01 device.step_jitter=0.3 energy.tx_nj_per_bit=100"
  "event_async_push_sum|algorithm.name=async_push_sum sim.mode=event sim.window_s=0.002 async_push_sum.staleness_bound=2 network.stragglers=1 faults.loss=0.05"
)

# The digest of a run directory: its CSV files and its summary without the launch's lines.
digest() {
  local d=$1
  { for f in $(cd "$d" && ls ./*.csv); do echo "== $f"; cat "$d/$f"; done
    grep -v -e '"transport":' -e '"ranks":' "$d/summary.json"; } | sha256sum | cut -c1-16
}

work=$(mktemp -d "${TMPDIR:-/tmp}/murmur-digests.XXXXXX")
trap 'rm -rf "$work"' EXIT
declare -A recorded=()
if ((!record)); then
  [[ -f $digests ]] || { echo "result_digests.sh: $digests is missing (run with --record)" >&2; exit 2; }
  while read -r name value; do [[ $name == \#* || -z $name ]] || recorded[$name]=$value; done <"$digests"
fi
out=() fail=0 count=0
for c in "${cases[@]}"; do
  name=${c%%|*}
  [[ -z $only || $name == "$only" ]] || continue
  sets=()
  for kv in ${c#*|} network.seconds_per_sample=2e-5 run.rounds=12 output.eval_every=4; do
    sets+=(--set "$kv")
  done
  "$murmur" run "$top/configs/smoke.toml" "${sets[@]}" --quiet --out "$work/$name"
  got=$(digest "$work/$name")
  out+=("$name $got")
  count=$((count + 1))
  if ((record)); then echo "recorded $name $got"; continue; fi
  want=${recorded[$name]:-none}
  if [[ $got != "$want" ]]; then echo "FAIL $name (in process): $got, recorded $want"; fail=1; fi
  if ((mpi)) && [[ $c != *sim.mode=event* ]]; then  # the event simulation runs in one process
    mpirun -np "$ranks" "$murmur" run "$top/configs/smoke.toml" "${sets[@]}" --quiet \
      --out "$work/$name-mpi"
    got_mpi=$(digest "$work/$name-mpi")
    if [[ $got_mpi != "$want" ]]; then echo "FAIL $name (mpirun -np $ranks): $got_mpi, recorded $want"; fail=1; fi
  fi
  ((fail)) || echo "ok $name $got"
done
if ((record)); then
  { echo "# Written by scripts/result_digests.sh --record on $(uname -m), $(git -C "$top" rev-parse --short HEAD)"
    printf '%s\n' "${out[@]}"; } >"$digests"
  echo "wrote $count digests to $digests"
else
  echo "$count cases, $( ((fail)) && echo "some differ" || echo "all identical")"
fi
exit $fail
