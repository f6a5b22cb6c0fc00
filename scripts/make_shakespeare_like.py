#!/usr/bin/python3
"""A LEAF-format, Shakespeare-like next-character dataset from a public-domain text that a
Debian package ships (issue #30): no LEAF Shakespeare can be downloaded here.

  apt-get install bible-kjv      # the King James Version (1611), with its `bible` reader
  /usr/bin/python3 scripts/make_shakespeare_like.py OUT_DIR [--seq 80] [--stride 64]
                   [--test-stride 256]

The text: every verse of the KJV as `bible "Gen1:1-Rev22:21"` prints it, verse numbers and
chapter headings removed, one text per book. Users are the 66 books (LEAF's Shakespeare
users are the speaking roles of the plays); the KJV is of Shakespeare's time and uses only
letters of LEAF's 80-letter alphabet. As in LEAF, a sample is `seq` characters and its label
the character after them; training windows start every `stride` characters (LEAF: every
character), test windows every `test_stride` (a smaller test set, spread over every book).
The first 90% of each book's text gives its training samples, the last 10% its test samples
(split by position, so that no test window overlaps a training one).
Writes OUT_DIR/train/all_data.json and OUT_DIR/test/all_data.json; read them with
data.name = "leaf", data.task = "shakespeare", partition.name = "natural".
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys

LETTERS = "\n !\"&'(),-.0123456789:;>?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyz}"


def books():
    try:
        out = subprocess.run(["bible", "Gen1:1-Rev22:21"], capture_output=True, text=True,
                             check=True).stdout
    except FileNotFoundError:
        sys.exit("make_shakespeare_like: the `bible` program is missing; apt-get install bible-kjv")
    texts, book, verse = {}, None, []
    heading = re.compile(r"^(\S.*?) (\d+)$")
    for line in out.splitlines():
        m = heading.match(line)
        if m and not line.startswith(" "):
            book = m.group(1)
            texts.setdefault(book, [])
            continue
        v = re.match(r"^\s+\d+ (.*)$", line)
        text = v.group(1) if v else line.strip()
        if text and book is not None:
            texts[book].append(text)
    return {b: " ".join(t) for b, t in texts.items()}


def windows(text, seq, stride):
    return [(text[i:i + seq], text[i + seq]) for i in range(0, len(text) - seq, stride)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seq", type=int, default=80)
    ap.add_argument("--stride", type=int, default=64)
    ap.add_argument("--test-stride", type=int, default=256)
    args = ap.parse_args()
    docs = {s: {"users": [], "num_samples": [], "user_data": {}} for s in ("train", "test")}
    counts = {}
    for name, text in books().items():
        bad = set(text) - set(LETTERS)
        if bad:
            sys.exit(f"make_shakespeare_like: {name} has characters outside LEAF's alphabet: {bad}")
        for c in text:
            counts[c] = counts.get(c, 0) + 1
        cut = int(len(text) * 0.9)
        user = name.replace(" ", "_")
        for split, part in (("train", text[:cut]), ("test", text[cut:])):
            w = windows(part, args.seq, args.stride if split == "train" else args.test_stride)
            if not w:
                continue
            docs[split]["users"].append(user)
            docs[split]["num_samples"].append(len(w))
            docs[split]["user_data"][user] = {"x": [x for x, _ in w], "y": [y for _, y in w]}
    total = sum(counts.values())
    entropy = -sum(n / total * math.log(n / total) for n in counts.values())
    for split, doc in docs.items():
        d = os.path.join(args.out, split)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "all_data.json"), "w") as f:
            json.dump(doc, f)
        print(f"{d}: {len(doc['users'])} users, {sum(doc['num_samples'])} samples")
    print(f"unigram entropy of the text: {entropy:.4f} nats per character")
    return 0


if __name__ == "__main__":
    sys.exit(main())
