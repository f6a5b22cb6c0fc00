#!/usr/bin/env bash
# Scale (issue #9): memory and round time from 16 to 1024 simulated ResNet-20 nodes
# (CIFAR-10 format) and from 16 to 10,000 logistic-regression nodes (Fashion-MNIST), D-PSGD on
# a ring, a few rounds each, one process per point. Prints a Markdown table.
#   bench/scale.sh [RESNET_NODES="16 128 1024"] [LOGREG_NODES="16 1000 10000"]
set -euo pipefail
cd "$(dirname "$0")/.."
resnet=${1:-16 128 1024}
logreg=${2:-16 1000 10000}
python3 bench/make_cifar_like.py build/w16-data >/dev/null
out=build/scale-runs
mkdir -p $out
run() {  # name nodes rounds sets...
  local name=$1 n=$2 r=$3
  shift 3
  build/murmur run configs/smoke.toml --quiet --overwrite --out "$out/$name-$n" \
    --set run.nodes="$n" --set run.rounds="$r" --set topology.name=ring \
    --set algorithm.name=dpsgd --set partition.name=iid --set output.eval_every=0 \
    --set output.eval_avg_model=false --set data.test_subset=16 "$@"
}
for n in $resnet; do
  run resnet20 "$n" 2 --set data.name=cifar10 --set data.path=build/w16-data \
    --set model.name=resnet20 --set train.batch_size=32
done
for n in $logreg; do
  run logreg "$n" 3 --set data.name=fashion_mnist --set model.name=logreg --set train.batch_size=6
done
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
print("| model | nodes | params | peak RSS (MB) | round (s) | start-up (s) |")
print("|---|---|---|---|---|---|")
for d in sorted(os.listdir(out), key=lambda s: (s.split("-")[0], int(s.split("-")[1]))):
    s = json.load(open(os.path.join(out, d, "summary.json")))
    print(f"| {s['model']} | {s['nodes']} | {s['params']} | {s['peak_rss_bytes'] / 1e6:.0f} | "
          f"{s['round_seconds_mean']:.3f} | {s['setup_seconds']:.1f} |")
PY
