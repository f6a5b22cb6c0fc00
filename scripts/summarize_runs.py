#!/usr/bin/env python3
"""Summarises the run directories (those holding a summary.json) under DIR.

CSV (default): one row per run. --markdown: a table with, for compressed runs, the accuracy
difference to and the byte ratio against their full-precision baseline of the same
partition (choco against dpsgd_ring-<partition>, sparse_push and scsp against
sgp_onepeer-<partition>); run names are <row>-<partition>, as scripts/fmnist16.sh writes
them.
"""
import argparse
import csv
import json
import sys
from pathlib import Path

FIELDS = ["run", "algorithm", "topology", "partition", "final_acc_mean", "final_acc_min",
          "final_acc_avg_model", "bytes_sent_per_node", "gamma", "rounds", "final_gossip_rounds",
          "wall_seconds"]
BASELINE = {"choco": "dpsgd_ring", "sparse_push": "sgp_onepeer", "scsp": "sgp_onepeer"}


def load(root: Path) -> list:
    runs = []
    for summary in sorted(root.glob("*/summary.json")):
        try:
            row = json.loads(summary.read_text())
            timing = summary.parent / "timing.json"  # wall time and other measurements
            if timing.exists():
                row.update(json.loads(timing.read_text()))
        except (OSError, json.JSONDecodeError) as e:
            print(f"summarize_runs.py: skipping {summary}: {e}", file=sys.stderr)
            continue
        row["run"] = summary.parent.name
        runs.append(row)
    return runs


def markdown(runs: list) -> None:
    by_name = {r["run"]: r for r in runs}
    print("| run | final acc mean | min | avg model | MB sent/node | γ | Δ acc vs baseline (pt) "
          "| bytes: baseline / this |")
    print("|---|---|---|---|---|---|---|---|")
    for r in runs:
        part = r["run"].rsplit("-", 1)[-1]
        base = by_name.get(f"{BASELINE.get(r['algorithm'], '')}-{part}")
        delta = ratio = ""
        if base is not None:
            delta = f"{100 * (r['final_acc_mean'] - base['final_acc_mean']):+.2f}"
            ratio = f"{base['bytes_sent_per_node'] / r['bytes_sent_per_node']:.1f}×"
        gamma = f"{r['gamma']:g}" if "gamma" in r else ""
        print(f"| {r['run']} | {r['final_acc_mean']:.4f} | {r['final_acc_min']:.4f} | "
              f"{r['final_acc_avg_model']:.4f} | {r['bytes_sent_per_node'] / 1e6:.2f} | {gamma} | "
              f"{delta} | {ratio} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    runs = load(args.dir)
    if args.markdown:
        markdown(runs)
        return 0
    out = csv.DictWriter(sys.stdout, FIELDS, extrasaction="ignore", lineterminator="\n")
    out.writeheader()
    for r in runs:
        out.writerow(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
