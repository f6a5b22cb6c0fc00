#!/usr/bin/env bash
# The event-driven simulation at scale (issue #33; BENCHMARKS.md "Event simulation at scale"):
# NODES nodes (default 1,024) train logistic regression on Fashion-MNIST (Dirichlet 0.5) for
# WINDOWS windows of 0.5 simulated seconds, a local step of 16 samples taking 32 ms; AD-PSGD
# and D-PSGD on a random 4-regular graph, asynchronous push-sum on the one-peer exponential
# graph. Prints, per algorithm: simulated seconds, events (asynchronous runs), local-steps
# rounds, wall seconds of the loop (timing.json, evaluations excluded), wall seconds per
# simulated second, and the peak RSS.
#   bash bench/event_scale.sh [NODES] [WINDOWS] [MURMUR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
nodes=${1:-1024}
windows=${2:-20}
murmur=${3:-$top/build/murmur}
work=$(mktemp -d "${TMPDIR:-/tmp}/murmur-event-scale.XXXXXX")
trap 'rm -rf "$work"' EXIT
: > "$work/base.toml"  # every key below; the rest at its default
printf '%-15s %8s %9s %10s %9s %14s %9s\n' algorithm sim_s events steps loop_s wall_per_sim_s rss_MB
for algo in adpsgd async_push_sum dpsgd; do
  sets=(run.nodes="$nodes" run.seed=1 data.name=fashion_mnist partition.name=dirichlet
        partition.alpha=0.5 model.name=logreg train.lr=0.05 train.batch_size=16
        train.local_steps=1 sim.mode=event sim.window_s=0.5 network.seconds_per_sample=0.002
        energy.compute_watts=1 energy.tx_nj_per_bit=500 energy.rx_nj_per_bit=500
        output.eval_every=0 output.eval_samples=1000 output.save_model=false
        algorithm.name="$algo")
  case $algo in
    async_push_sum) sets+=(topology.name=one_peer_exponential run.rounds="$windows") ;;
    adpsgd) sets+=(topology.name=regular topology.degree=4 run.rounds="$windows") ;;
    # D-PSGD: about as many synchronous rounds as fit the same simulated time (a round: 32 ms
    # of steps, 4 frames of 31 kB leaving the uplink, 1 ms latency: ~43 ms).
    dpsgd) sets+=(topology.name=regular topology.degree=4
                  run.rounds=$(( windows * 500 / 43 ))) ;;
  esac
  args=()
  for s in "${sets[@]}"; do args+=(--set "$s"); done
  "$murmur" run "$work/base.toml" --quiet --out "$work/$algo" "${args[@]}" > /dev/null
  /usr/bin/python3 - "$work/$algo" "$algo" <<'PY'
import json, sys
d, algo = sys.argv[1], sys.argv[2]
s = json.load(open(d + "/summary.json"))
t = json.load(open(d + "/timing.json"))
loop = t["round_seconds_mean"] * (s["rounds"] + s["final_gossip_rounds"])
print("%-15s %8.1f %9s %10d %9.1f %14.3f %9.0f" % (
    algo, s["sim_seconds"], s.get("events", "-"), s["local_step_rounds_total"], loop,
    loop / s["sim_seconds"], t["peak_rss_bytes"] / 2**20))
PY
done
