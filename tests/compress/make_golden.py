#!/usr/bin/python3
"""Writes the PyWavelets golden vectors the wavelet tests compare against.

Run with Debian's python3 and python3-pywt:  /usr/bin/python3 tests/compress/make_golden.py
Output: tests/compress/golden/wavelet_<name>_n<N>_l<L>.txt, one value per line:
  line 1: "n level wavelet", then the input x (n lines), then the concatenated coefficients
  of pywt.wavedec(x, wavelet, mode='symmetric', level=level) ([cA_L, cD_L, ..., cD_1]).
Inputs are float32 values from a fixed seed, written with 9 significant digits (exact).
"""
import os
import warnings

import numpy as np
import pywt

warnings.simplefilter("ignore")  # pywt warns when a level is above its recommended maximum
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20261122)
cases = [("haar", 16, 3), ("haar", 33, 2), ("db2", 10, 2), ("sym2", 100, 4), ("sym2", 257, 4),
         ("sym2", 7, 1), ("db4", 64, 3), ("db4", 7, 1), ("sym4", 129, 4), ("sym4", 1000, 5)]
for name, n, level in cases:
    x = rng.standard_normal(n).astype(np.float32)
    coeffs = np.concatenate(pywt.wavedec(x.astype(np.float64), name, mode="symmetric", level=level))
    with open(os.path.join(out, f"wavelet_{name}_n{n}_l{level}.txt"), "w") as f:
        f.write(f"{n} {level} {name}\n")
        f.writelines(f"{v:.9g}\n" for v in x)
        f.writelines(f"{v:.17g}\n" for v in coeffs)
