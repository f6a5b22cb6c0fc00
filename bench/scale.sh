#!/usr/bin/env bash
# Scale (issue #9): memory and round time from 16 to 1024 simulated ResNet-20 nodes
# (CIFAR-10 format) and from 16 to 10,000 logistic-regression nodes (Fashion-MNIST), D-PSGD on
# a ring, a few rounds each, one process per point. Prints a Markdown table.
#   bench/scale.sh [RESNET_NODES="16 128 1024"] [LOGREG_NODES="16 1000 10000"]
#   SCALE_PLOT_ONLY=1 bench/scale.sh    (table and plot of the runs already in build/scale-runs)
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
if [[ "${SCALE_PLOT_ONLY:-}" != 1 ]]; then
for n in $resnet; do
  run resnet20 "$n" 2 --set data.name=cifar10 --set data.path=build/w16-data \
    --set model.name=resnet20 --set train.batch_size=32
done
for n in $logreg; do
  run logreg "$n" 3 --set data.name=fashion_mnist --set model.name=logreg --set train.batch_size=6
done
fi
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
print("| model | nodes | params | peak RSS (MB) | round (s) | start-up (s) |")
print("|---|---|---|---|---|---|")
for d in sorted(os.listdir(out), key=lambda s: (s.split("-")[0], int(s.split("-")[1]))):
    s = json.load(open(os.path.join(out, d, "summary.json")))
    s.update(json.load(open(os.path.join(out, d, "timing.json"))))
    print(f"| {s['model']} | {s['nodes']} | {s['params']} | {s['peak_rss_bytes'] / 1e6:.0f} | "
          f"{s['round_seconds_mean']:.3f} | {s['setup_seconds']:.1f} |")
PY
# Log-log plot of memory and round time against nodes (gnuplot), to build/scale.png.
python3 - "$out" > build/scale.dat <<'PY'
import json, os, sys
out = sys.argv[1]
for model in ["resnet20", "logreg"]:
    print(f"# {model}")
    runs = [d for d in os.listdir(out) if d.startswith(model + "-")]
    for d in sorted(runs, key=lambda s: int(s.split("-")[1])):
        s = json.load(open(os.path.join(out, d, "summary.json")))
        s.update(json.load(open(os.path.join(out, d, "timing.json"))))
        print(s["nodes"], s["peak_rss_bytes"] / 1e6, s["round_seconds_mean"])
    print("\n")
PY
gnuplot <<'GP'
set terminal pngcairo size 1000,420 font ",10"
set output "build/scale.png"
set multiplot layout 1,2
set logscale xy
set grid
set xlabel "simulated nodes"
set key top left
set ylabel "peak RSS (MB)"
plot "build/scale.dat" index 0 using 1:2 with linespoints pt 7 title "ResNet-20", \
     "" index 1 using 1:2 with linespoints pt 7 title "logistic regression"
set ylabel "seconds per round"
plot "build/scale.dat" index 0 using 1:3 with linespoints pt 7 title "ResNet-20", \
     "" index 1 using 1:3 with linespoints pt 7 title "logistic regression"
unset multiplot
GP
echo "plot: build/scale.png" >&2
