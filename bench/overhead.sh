#!/usr/bin/env bash
# Framework overhead and memory of the quickstart (BENCHMARKS.md). Run from the repo root
# after a build: bash bench/overhead.sh
set -euo pipefail
B=${BUILD_DIR:-build}
echo "== overhead: quickstart rounds vs the same local steps alone (same process)"
"$B/bench/murmur_bench_overhead" configs/quickstart.toml "${ROUNDS:-100}" "${REPEATS:-3}"

echo "== peak memory per simulated node (quickstart without evaluation, 20 rounds)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for n in 16 64; do
  "$B/murmur" run configs/quickstart.toml --quiet --out "$tmp/n$n" --set run.nodes=$n \
    --set run.rounds=20 --set output.eval_every=0 --set output.eval_avg_model=false \
    --set partition.min_samples=1
  rss=$(python3 -c "import json;print(json.load(open('$tmp/n$n/timing.json'))['peak_rss_bytes'])")
  echo "nodes $n: peak RSS $((rss / 1048576)) MiB"
  eval "rss$n=$rss"
done
python3 -c "print(f'per node: {($rss64 - $rss16) / 48 / 1048576:.2f} MiB ((RSS64 - RSS16) / 48)')"

echo "== kernels"
"$B/bench/murmur_bench_kernels" --benchmark_min_time=0.5
