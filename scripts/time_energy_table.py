#!/usr/bin/env python3
"""Simulated time and energy to accuracy targets, as a Markdown table (issue #33).

For every RUN_DIR (a finished murmur run, e.g. runs/paper/churn_fmnist/variant=*): the final
mean accuracy, the simulated seconds of the run, the mean energy per node (summary.json's
energy_j_per_node_mean) and for each of its output.acc_targets the simulated seconds and the
mean joules per node until the first evaluation that reached it (summary.json's time_to_acc;
"-" when never reached). A run that diverged says so.
    /usr/bin/python3 scripts/time_energy_table.py runs/paper/async_stragglers_fmnist/*/
"""
import json
import sys
from pathlib import Path


def main(dirs):
    runs = [Path(d) for d in dirs if (Path(d) / "summary.json").exists()]
    summaries = [json.loads((r / "summary.json").read_text()) for r in runs]
    targets = sorted({t for s in summaries for t in s.get("time_to_acc", {})}, key=float)
    head = ["run", "final acc", "sim s", "J/node"]
    head += [f"s to {t}" for t in targets] + [f"J/node to {t}" for t in targets]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for run, s in zip(runs, summaries):
        name = run.name.split("=", 1)[-1]
        if s.get("status") != "finished":
            print(f"| {name} | {s.get('status')} (round {s.get('diverged_round')}) |"
                  + " |" * (len(head) - 2))
            continue
        cells = [name, f"{s['final_acc_mean']:.3f}", f"{s['sim_seconds']:.1f}",
                 f"{s.get('energy_j_per_node_mean', 0):.0f}"]
        tta = s.get("time_to_acc", {})
        cells += [f"{tta[t]['sim_seconds']:.1f}" if tta.get(t) else "-" for t in targets]
        cells += [f"{tta[t]['energy_j_per_node']:.0f}" if tta.get(t) else "-" for t in targets]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
