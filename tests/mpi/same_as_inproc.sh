#!/usr/bin/env bash
# Runs configs/smoke.toml with several algorithms and topologies in process and under
# `mpirun -np RANKS`, and checks that metrics.csv, eval.csv, the algorithm's own files and
# the accuracy and byte fields of summary.json are identical.
#   same_as_inproc.sh MURMUR SOURCE_DIR WORK_DIR [RANKS]
set -euo pipefail
murmur=$1 src=$2 work=$3 ranks=${4:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # CI runs as root
export OMPI_MCA_rmaps_base_oversubscribe=1                      # more ranks than cores
export OMPI_MCA_btl_vader_single_copy_mechanism=none            # containers forbid CMA
rm -rf "$work" && mkdir -p "$work"
cases=(
  "dpsgd_ring|algorithm.name=dpsgd topology.name=ring"
  "dpsgd_cyclic|algorithm.name=dpsgd topology.name=exponential comm.mapping=cyclic"
  "allreduce|algorithm.name=allreduce topology.name=complete"
  "sgp_one_peer|algorithm.name=sgp topology.name=one_peer_exponential"
  "sparse_push_k_peer|algorithm.name=sparse_push topology.name=k_peer_exponential compression.name=topk compression.ratio=0.1 algorithm.gamma=0.5"
  "scsp_directed|algorithm.name=scsp topology.name=directed_ring compression.name=topk compression.ratio=0.1 algorithm.gamma=0.5 algorithm.average_every=7"
  "choco_randomk|algorithm.name=choco topology.name=ring compression.name=randomk compression.ratio=0.1 algorithm.gamma=0.3"
  "relaysum_dbt|algorithm.name=relaysum topology.name=double_binary_tree"
  "relaysum_bfs_grad|algorithm.name=relaysum topology.name=torus relaysum.spanning_tree=bfs relaysum.variant=grad"
  "vote_server|algorithm.name=majority_vote vote.mask_ratio=0.05 vote.server=5"
  "vote_all_to_all|algorithm.name=majority_vote vote.mode=all_to_all vote.mask_ratio=0.05"
  "jwins|algorithm.name=jwins topology.name=regular topology.degree=3 jwins.save_accumulator=true"
  "gradient_tracking_faults|algorithm.name=gradient_tracking topology.name=ring faults.loss=0.1"
  "epidemic_local|algorithm.name=epidemic topology.name=complete epidemic.variant=local"
  "d2_chain|algorithm.name=d2 topology.name=chain"
  "exact_diffusion_torus|algorithm.name=exact_diffusion topology.name=torus"
  "epidemic_oracle|algorithm.name=epidemic epidemic.peers=3"
  "clipped_gossip|algorithm.name=clipped_gossip topology.name=exponential clipped_gossip.clip_count=2"
  "byzantine_sign_flip|algorithm.name=clipped_gossip topology.name=regular topology.degree=4 faults.byzantine=2,5 clipped_gossip.clip_count=2"
  "beer_topk|algorithm.name=beer topology.name=ring compression.name=topk compression.ratio=0.1 algorithm.gamma=0.4"
  "dpsgd_faults|algorithm.name=dpsgd topology.name=exponential faults.loss=0.1 faults.crash=2@3:8 faults.link_down=0-1@0:6"
  "sparse_push_faults|algorithm.name=sparse_push topology.name=one_peer_exponential compression.name=topk compression.ratio=0.1 algorithm.gamma=0.5 faults.loss=0.1 faults.crash=6@4"
  "relaysum_faults|algorithm.name=relaysum topology.name=double_binary_tree faults.loss=0.1"
  "torchscript_bn|algorithm.name=dpsgd topology.name=ring model.name=torchscript model.path=$src/tests/fixtures/bn_net.pt output.save_node_models=true"
)
source "$(dirname "$0")/compare.sh"
fail=0
for c in "${cases[@]}"; do
  name=${c%%|*}
  sets=()
  for kv in ${c#*|} network.seconds_per_sample=2e-5 run.rounds=12 output.eval_every=4; do sets+=(--set "$kv"); done
  "$murmur" run "$src/configs/smoke.toml" "${sets[@]}" --quiet --out "$work/$name-inproc"
  mpirun -np "$ranks" "$murmur" run "$src/configs/smoke.toml" "${sets[@]}" --quiet \
    --out "$work/$name-mpi"
  a=$work/$name-inproc b=$work/$name-mpi
  compare_runs "$name" "$a" "$b"
  grep -q "\"ranks\": $ranks" "$b/summary.json" || { echo "FAIL $name: not $ranks ranks"; fail=1; }
  # The saved models (node models gathered from every rank) are the same files.
  for m in model.pt $(cd "$a" && ls models/* 2>/dev/null); do
    cmp -s "$a/$m" "$b/$m" || { echo "FAIL $name: $m differs"; fail=1; }
  done
  echo "ok $name ($(ls "$a" | tr '\n' ' '))"
done
exit $fail
