#!/usr/bin/env python3
"""Bytes each node sent until a run first reached a target mean test accuracy.

For every RUN_DIR (a murmur run directory): the first evaluated round whose mean test
accuracy over the nodes is >= the target, and the bytes sent per node (mean over nodes) in
rounds 0..that round, from metrics.csv. The target is --target ACC, or --minus PT points
below the final mean accuracy of --reference RUN_DIR. Prints a Markdown table; runs that
never reach the target say so.
"""
import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path


def mean_acc_by_round(run: Path) -> list:
    acc = defaultdict(list)
    with open(run / "eval.csv", newline="") as f:
        for row in csv.DictReader(f):
            acc[int(row["round"])].append(float(row["test_acc"]))
    return sorted((r, sum(v) / len(v)) for r, v in acc.items())


def bytes_per_node_until(run: Path, last_round: int) -> float:
    total, nodes = 0, set()
    with open(run / "metrics.csv", newline="") as f:
        for row in csv.DictReader(f):
            if int(row["round"]) <= last_round:
                total += int(row["bytes_sent"])
                nodes.add(row["node"])
    return total / max(1, len(nodes))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", type=Path, nargs="+")
    p.add_argument("--target", type=float, help="mean test accuracy to reach (0..1)")
    p.add_argument("--reference", type=Path, help="run whose final mean accuracy sets the target")
    p.add_argument("--minus", type=float, default=1.0,
                   help="points below the reference's final accuracy (default 1)")
    a = p.parse_args()
    if a.target is None:
        if a.reference is None:
            p.error("give --target or --reference")
        ref = json.loads((a.reference / "summary.json").read_text())
        a.target = ref["final_acc_mean"] - a.minus / 100
    print(f"target mean accuracy: {a.target:.4f}\n")
    print("| run | first round at target | mean acc there | MB sent/node until then | "
          "final acc mean | MB sent/node (whole run) |")
    print("|---|---|---|---|---|---|")
    for run in a.runs:
        try:
            summary = json.loads((run / "summary.json").read_text())
            curve = mean_acc_by_round(run)
        except (OSError, ValueError) as e:
            print(f"bytes_to_accuracy.py: skipping {run}: {e}", file=sys.stderr)
            continue
        hit = next(((r, acc) for r, acc in curve if acc >= a.target), None)
        final = f"{summary['final_acc_mean']:.4f} | {summary['bytes_sent_per_node'] / 1e6:.1f}"
        if hit is None:
            print(f"| {run.name} | not reached | – | – | {final} |")
            continue
        mb = bytes_per_node_until(run, hit[0]) / 1e6
        print(f"| {run.name} | {hit[0] + 1} | {hit[1]:.4f} | {mb:.1f} | {final} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
