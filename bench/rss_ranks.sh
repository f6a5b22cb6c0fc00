#!/usr/bin/env bash
# Rank 0's peak RSS when the nodes are spread over MPI ranks (#29): 32 nodes of a 1.2M-parameter
# MLP (configs/smoke.toml, model.mlp_hidden = 1024, 2 rounds) in one process and under
# `mpirun -np 4`, for every algorithm. A rank should hold only its own nodes' state, so with 4
# ranks rank 0 should need well under half of what one process needs.
#   bench/rss_ranks.sh [MURMUR] [ALGORITHMS...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
murmur=${1:-$top/build/murmur}
shift || true
algos=("$@")
((${#algos[@]})) || algos=(majority_vote jwins relaysum dpsgd choco sgp sparse_push scsp allreduce local)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
work=$(mktemp -d "${TMPDIR:-/tmp}/murmur-rss.XXXXXX")
trap 'rm -rf "$work"' EXIT
settings() {
  local sets=(run.nodes=32 run.rounds=2 model.mlp_hidden=1024 output.eval_every=0 run.threads=1
              algorithm.name="$1")
  case $1 in
    choco) sets+=(compression.name=topk compression.ratio=0.01 algorithm.gamma=0.5) ;;
    sparse_push | scsp) sets+=(compression.name=topk compression.ratio=0.01 algorithm.gamma=0.5
                               topology.name=one_peer_exponential) ;;
    sgp) sets+=(topology.name=one_peer_exponential) ;;
    relaysum) sets+=(topology.name=double_binary_tree) ;;
    allreduce) sets+=(topology.name=complete) ;;
    jwins) sets+=(topology.name=regular topology.degree=4) ;;
  esac
  for s in "${sets[@]}"; do printf -- '--set\n%s\n' "$s"; done
}
rss() { grep -o '"peak_rss_bytes": [0-9]*' "$1/timing.json" | head -1 | awk '{printf "%.0f", $2 / 1e6}'; }
echo "| algorithm | 1 process: peak RSS (MB) | mpirun -np 4: rank 0 peak RSS (MB) | ratio |"
echo "|---|---:|---:|---:|"
for a in "${algos[@]}"; do
  mapfile -t sets < <(settings "$a")
  "$murmur" run "$top/configs/smoke.toml" "${sets[@]}" --quiet --out "$work/$a-1"
  mpirun -np 4 "$murmur" run "$top/configs/smoke.toml" "${sets[@]}" --quiet --out "$work/$a-4"
  # timing.json's per_rank table lists rank 0 first.
  one=$(rss "$work/$a-1")
  four=$(grep -A6 '"rank": 0' "$work/$a-4/timing.json" | grep -o '"peak_rss_bytes": [0-9]*' |
         awk '{printf "%.0f", $2 / 1e6}')
  echo "| $a | $one | $four | $(awk -v a="$four" -v b="$one" 'BEGIN { printf "%.2f", a / b }') |"
done
