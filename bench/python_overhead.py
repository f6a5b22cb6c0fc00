"""Per-round cost of an algorithm written in Python against the same algorithm in C++
(issue #31; BENCHMARKS.md "Python algorithms"): the quickstart (16 nodes, LeNet-5,
Fashion-MNIST) with the built-in dpsgd and with examples/python/my_algorithms.PythonDpsgd,
alternating, RUNS runs each of ROUNDS rounds; medians of timing.json's per-round figures.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py [ROUNDS] [RUNS]
"""
import json
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples", "python"))
import murmur  # noqa: E402
from my_algorithms import PythonDpsgd  # noqa: E402


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    config = os.path.join(HERE, "..", "configs", "quickstart.toml")
    keys = {"run.rounds": rounds, "output.eval_every": 0, "train.lr_decay_rounds": []}
    figures = {"C++ dpsgd": [], "Python dpsgd": []}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(runs):
            for label, algorithm in (("C++ dpsgd", None), ("Python dpsgd", PythonDpsgd())):
                out = os.path.join(tmp, f"{label.split()[0]}-{k}")
                murmur.run(config, keys, out=out, algorithm=algorithm)
                with open(os.path.join(out, "timing.json")) as f:
                    t = json.load(f)
                figures[label].append((t["round_seconds_mean"], t["train_seconds"] / rounds,
                                       t["comm_seconds"] / rounds))
    print(f"quickstart, {rounds} rounds, {runs} runs each (medians, seconds per round)")
    print("| algorithm | round | local training | communication |")
    print("|---|---|---|---|")
    medians = {}
    for label, rows in figures.items():
        medians[label] = [statistics.median(r[c] for r in rows) for c in range(3)]
        print(f"| {label} | {medians[label][0]:.4f} | {medians[label][1]:.4f} | "
              f"{medians[label][2]:.4f} |")
    c, p = medians["C++ dpsgd"], medians["Python dpsgd"]
    print(f"Python overhead per round: {p[0] - c[0]:+.4f} s ({p[0] / c[0]:.2f}x the round); "
          f"communication {p[2] / c[2]:.2f}x; local training {p[1] / c[1]:.2f}x")


if __name__ == "__main__":
    main()
