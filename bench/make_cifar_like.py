#!/usr/bin/env python3
"""Writes synthetic files in CIFAR-10's binary format (random pixels, labels 0-9) for timing.

    bench/make_cifar_like.py OUT_DIR     -> OUT_DIR/data_batch_{1..5}.bin, test_batch.bin

Each file holds 10,000 records of 1 label byte + 3072 pixel bytes, like the real dataset, so
murmur's cifar10 reader, partitioner and models see the real sizes.
"""
import os
import random
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(1)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        path = os.path.join(out, name)
        if os.path.exists(path) and os.path.getsize(path) == 10000 * 3073:
            continue
        pixels = rng.randbytes(10000 * 3072)
        with open(path + ".tmp", "wb") as f:
            for k in range(10000):
                f.write(bytes([k % 10]))
                f.write(pixels[k * 3072:(k + 1) * 3072])
        os.replace(path + ".tmp", path)
    print(f"CIFAR-10-format files in {out}")


if __name__ == "__main__":
    main()
