#!/usr/bin/env bash
# W16 (issue #9): full sharing, JWINS and CHOCO top-10% on 16 nodes of LeNet-GN, CIFAR-10
# format. Per variant: round time, pure compute (the 48 local steps of a round, measured in
# the same run: summary.json train_seconds / rounds), their ratio, start-up time, peak RSS
# and bytes per node per round.
#   bench/w16.sh          (run from anywhere; uses build/murmur; rounds: bench/w16.toml)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 bench/make_cifar_like.py build/w16-data >/dev/null
rm -rf build/w16-runs
# One process per variant, so that each peak RSS is the variant's own.
for v in ${VARIANTS:-full jwins choco-top10 full-zstd jwins-zstd choco-top10-zstd}; do
  build/murmur sweep bench/w16.sweep.toml --quiet --only "variant=$v" 2>/dev/null
done
VARIANTS="${VARIANTS:-}" python3 - <<'PY'
import json, os, sys
print("| variant | round (s) | pure compute (s) | ratio | start-up (s) | peak RSS (MB) | MB sent per node per round | final acc mean |")
print("|---|---|---|---|---|---|---|---|")
for v in (os.environ.get("VARIANTS") or "full jwins choco-top10 full-zstd jwins-zstd choco-top10-zstd").split():
    s = json.load(open(f"build/w16-runs/variant={v}/summary.json"))
    s.update(json.load(open(f"build/w16-runs/variant={v}/timing.json")))
    r = s["rounds"]
    rnd, comp = s["round_seconds_mean"], s["train_seconds"] / r
    print(f"| {v} | {rnd:.3f} | {comp:.3f} | {rnd / comp:.3f} | {s['setup_seconds']:.2f} | "
          f"{s['peak_rss_bytes'] / 1e6:.0f} | {s['bytes_sent_per_node'] / r / 1e6:.3f} | "
          f"{s['final_acc_mean']:.4f} |")
PY
