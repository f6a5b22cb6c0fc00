#!/usr/bin/env python3
"""Prints one CSV row per run directory (those holding a summary.json) under DIR."""
import csv
import json
import sys
from pathlib import Path

FIELDS = ["run", "algorithm", "topology", "partition", "final_acc_mean", "final_acc_min",
          "final_acc_avg_model", "bytes_sent_per_node", "gamma", "rounds", "wall_seconds"]


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: summarize_runs.py DIR", file=sys.stderr)
        return 2
    root = Path(sys.argv[1])
    out = csv.DictWriter(sys.stdout, FIELDS, extrasaction="ignore", lineterminator="\n")
    out.writeheader()
    for summary in sorted(root.glob("*/summary.json")):
        try:
            row = json.loads(summary.read_text())
        except (OSError, json.JSONDecodeError) as e:
            print(f"summarize_runs.py: skipping {summary}: {e}", file=sys.stderr)
            continue
        row["run"] = summary.parent.name
        out.writerow(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
