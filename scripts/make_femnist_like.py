#!/usr/bin/python3
"""A LEAF-format, FEMNIST-like dataset built from Fashion-MNIST (issue #30): no real FEMNIST
can be downloaded here, so writers are synthesised.

  /usr/bin/python3 scripts/make_femnist_like.py OUT_DIR [--writers 300] [--seed 1]
                   [--source /usr/share/datasets/fashion-mnist]

Writes OUT_DIR/train/all_data_<k>.json and OUT_DIR/test/all_data_<k>.json in LEAF's layout
({"users", "num_samples", "user_data": {writer: {"x": [[784 floats in [0, 1]]], "y": [...]}}}),
read with data.name = "leaf", data.task = "femnist", partition.name = "natural".

How the writers are made (all draws from numpy's default_rng(seed)):
  * writer w has n_w ~ uniform{100..260} samples of 3 classes drawn without replacement from
    the 10 (label skew, as FEMNIST's writers have their own class mix), n_w / 3 per class,
    taken without replacement from the 60,000 Fashion-MNIST training images of those classes;
  * its style is one fixed affine distortion applied to all its images (feature skew, as
    each FEMNIST writer has a hand): rotation ~ U(-15, 15) degrees, shear ~ U(-0.25, 0.25),
    scale ~ U(0.85, 1.10), shift ~ U(-2, 2) pixels in x and y, about the image centre,
    sampled bilinearly; then a stroke gamma: v -> v ** g, g ~ U(0.6, 1.4);
  * 10% of each writer's samples (at least one) are its test samples, as LEAF splits by
    sample within users; the test set is every writer's test samples.
Labels stay Fashion-MNIST's 10 classes (FEMNIST has 62). Pixel values are written with 3
decimals (exact after murmur's rounding to bytes).
"""
import argparse
import gzip
import json
import os
import sys

import numpy as np


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(source, stem):
    for name in (stem + ".gz", stem):
        p = os.path.join(source, name)
        if os.path.exists(p):
            return p
    sys.exit(f"make_femnist_like: {stem}(.gz) not found in {source}")


def distort(images, rng):
    """One writer's affine distortion and stroke gamma, applied to images [n, 28, 28] in [0, 1]."""
    a = np.deg2rad(rng.uniform(-15, 15))
    shear = rng.uniform(-0.25, 0.25)
    scale = rng.uniform(0.85, 1.10)
    tx, ty = rng.uniform(-2, 2, size=2)
    gamma = rng.uniform(0.6, 1.4)
    # Forward map: p' = A p + t about the centre; sample the inverse for each output pixel.
    A = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.array(
        [[1.0, shear], [0.0, 1.0]])
    inv = np.linalg.inv(A)
    c = 13.5
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float64)
    px, py = xx - c - tx, yy - c - ty
    sx = inv[0, 0] * px + inv[0, 1] * py + c
    sy = inv[1, 0] * px + inv[1, 1] * py + c
    x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
    fx, fy = sx - x0, sy - y0

    def tap(ix, iy):
        ok = (ix >= 0) & (ix < 28) & (iy >= 0) & (iy < 28)
        v = images[:, np.clip(iy, 0, 27), np.clip(ix, 0, 27)]
        return v * ok

    out = (tap(x0, y0) * (1 - fx) * (1 - fy) + tap(x0 + 1, y0) * fx * (1 - fy) +
           tap(x0, y0 + 1) * (1 - fx) * fy + tap(x0 + 1, y0 + 1) * fx * fy)
    return np.clip(out, 0.0, 1.0) ** gamma


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--writers", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()
    images = read_idx(find(args.source, "train-images-idx3-ubyte"))
    labels = read_idx(find(args.source, "train-labels-idx1-ubyte"))
    rng = np.random.default_rng(args.seed)
    pools = [list(rng.permutation(np.flatnonzero(labels == c))) for c in range(10)]
    splits = {"train": {}, "test": {}}
    for w in range(args.writers):
        n = int(rng.integers(100, 261))
        classes = rng.choice(10, size=3, replace=False)
        idx = []
        for c in classes:
            take = n // 3
            idx += pools[c][:take]
            pools[c] = pools[c][take:]
        if not idx:
            continue
        idx = np.array(idx)[rng.permutation(len(idx))]
        x = distort(images[idx].astype(np.float64) / 255.0, rng)
        y = labels[idx].astype(int)
        n_test = max(1, len(idx) // 10)
        name = f"f{w:04d}_{int(rng.integers(0, 100)):02d}"
        for split, sl in (("test", slice(0, n_test)), ("train", slice(n_test, None))):
            splits[split][name] = (x[sl], y[sl])
    for split, users in splits.items():
        d = os.path.join(args.out, split)
        os.makedirs(d, exist_ok=True)
        names = sorted(users)
        # LEAF writes its users into several files; so do we (100 writers per file).
        for k in range(0, len(names), 100):
            part = names[k:k + 100]
            doc = {"users": part, "num_samples": [len(users[u][1]) for u in part], "user_data": {}}
            for u in part:
                x, y = users[u]
                doc["user_data"][u] = {
                    "x": [[float(f"{v:.3f}") for v in img.reshape(-1)] for img in x],
                    "y": [int(v) for v in y],
                }
            with open(os.path.join(d, f"all_data_{k // 100}.json"), "w") as f:
                json.dump(doc, f, separators=(",", ":"))
        total = sum(len(users[u][1]) for u in names)
        print(f"{d}: {len(names)} writers, {total} samples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
