#!/usr/bin/env bash
# The TorchScript model path against the built-in model (issue #30): the quickstart
# (configs/quickstart.toml: 16 nodes, D-PSGD, Fashion-MNIST) with the built-in `cnn` and with
# the same LeNet-5 written in Python and scripted (tests/fixtures/lenet5.pt), run alternately
# REPEATS times (default 3) for ROUNDS rounds (default 100) without intermediate
# evaluations; prints each run's mean round time (timing.json) and the ratio of the medians.
#   bench/torchscript.sh      (run from anywhere; uses build/murmur)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-100}
repeats=${REPEATS:-3}
out=build/torchscript-bench
rm -rf "$out"
common=(--set "run.rounds=$rounds" --set output.eval_every=0 --set output.eval_samples=1000
        --set "train.lr_decay_rounds=[]" --quiet)
for k in $(seq 1 "$repeats"); do
  build/murmur run configs/quickstart.toml "${common[@]}" --out "$out/cnn-$k"
  build/murmur run configs/quickstart.toml "${common[@]}" --out "$out/torchscript-$k" \
    --set model.name=torchscript --set model.path=tests/fixtures/lenet5.pt
done
/usr/bin/python3 - "$out" "$repeats" <<'PY'
import json, statistics, sys
out, repeats = sys.argv[1], int(sys.argv[2])
med = {}
print("| model | round time per run (s) | median (s) | final acc mean |")
print("|---|---|---|---|")
for m in ("cnn", "torchscript"):
    t = [json.load(open(f"{out}/{m}-{k}/timing.json"))["round_seconds_mean"] for k in range(1, repeats + 1)]
    acc = json.load(open(f"{out}/{m}-1/summary.json"))["final_acc_mean"]
    med[m] = statistics.median(t)
    print(f"| {m} | {' / '.join(f'{x:.4f}' for x in t)} | {med[m]:.4f} | {acc:.4f} |")
print(f"\nratio torchscript / cnn: {med['torchscript'] / med['cnn']:.3f}")
PY
