"""D-PSGD written in Python, and a top-k compressor written in Python, checked against
murmur's built-in dpsgd and topk (docs/python.md walks through them; the test suite runs
them, tests/python/test_extend.py).

    make build
    PYTHONPATH=build/python /usr/bin/python3 examples/python/my_algorithms.py
"""
import math
import os
import sys

import numpy as np

import murmur


class PythonDpsgd(murmur.Algorithm):
    """D-PSGD (Lian et al. 2017): send x to every out-peer, then x <- sum_j w_ij x_j over the
    node and the messages that arrived (weights renormalised when a message is missing)."""

    def send(self, ctx, round, node, x):
        return x  # one message, for every out-peer

    def receive(self, ctx, round, node, x, inbox):
        w = ctx.weights(round, node)  # {node: w_ii, in-peer j: w_ij}
        total = w[node] + sum(w[j] for j in inbox)
        mixed = (w[node] / total) * x
        for j, message in inbox.items():  # sender-id order
            mixed += (w[j] / total) * message
        x[:] = mixed  # in place: x is the node's parameter vector


class PythonTopK(murmur.Compressor):
    """Top-k by magnitude per segment (the model's tensors), ties to the lower index, as the
    built-in topk keeps them: k = ceil(ratio * length), at least 1. Payload: the k indices
    (uint32), then the k values (float32)."""

    def compress(self, x, ctx):
        kept, start = [], 0
        for length in ctx.segments:
            k = min(length, max(1, math.ceil(ctx.ratio * length)))
            order = np.argsort(-np.abs(x[start:start + length]), kind="stable")[:k]
            kept.append(np.sort(order) + start)
            start += length
        idx = np.concatenate(kept).astype(np.uint32)
        return idx.tobytes() + x[idx].astype(np.float32).tobytes()

    def decompress(self, data, n):
        k = len(data) // 8
        return (np.frombuffer(data[:4 * k], dtype=np.uint32),
                np.frombuffer(data[4 * k:], dtype=np.float32))


def main():
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    smoke = os.path.join(source, "configs", "smoke.toml")
    out = sys.argv[1] if len(sys.argv) > 1 else "runs/python-examples"
    keys = {"output.eval_every": 5}
    a = murmur.run(smoke, keys, out=f"{out}/dpsgd", overwrite=True)
    b = murmur.run(smoke, keys, out=f"{out}/python_dpsgd", overwrite=True,
                   algorithm=PythonDpsgd())
    print(f"D-PSGD      built-in {a.summary['final_acc_mean']:.4f}, "
          f"Python {b.summary['final_acc_mean']:.4f}")
    keys.update({"algorithm.name": "choco", "algorithm.gamma": 0.4, "compression.ratio": 0.1})
    c = murmur.run(smoke, dict(keys, **{"compression.name": "topk"}), out=f"{out}/choco_topk",
                   overwrite=True)
    d = murmur.run(smoke, keys, out=f"{out}/choco_python_topk", overwrite=True,
                   compressor=PythonTopK())
    print(f"CHOCO top-k built-in {c.summary['final_acc_mean']:.4f}, "
          f"Python {d.summary['final_acc_mean']:.4f}")


if __name__ == "__main__":
    main()
