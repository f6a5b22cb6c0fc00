#!/usr/bin/python3
"""Writes the TorchScript test fixtures of tests/fixtures/ (committed: CI need not have
python3-torch). Run with Debian's interpreter, which sees python3-torch (the 1.13 that
matches libtorch-dev):  /usr/bin/python3 scripts/make_model_fixtures.py

  lenet5.pt     murmur's built-in `cnn` (LeNet-5) written in Python: same layers, same
                parameter order and shapes, so a flat vector means the same in both.
  tiny_mlp.pt   a 1x12x12 -> 10 MLP for the synthetic data (the every-algorithm test).
  bn_net.pt     a small conv net with BatchNorm, for buffers (model.script_buffers).
  char_gru.pt   a sequence model: tokens [B, L] of an 80-letter alphabet -> 80 logits.
  no_params.pt  a module without parameters (rejected).
"""
import os
import sys

import torch
from torch import nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


class LeNet5(nn.Module):
    """The built-in cnn: conv5x5(6, pad 2) - pool - conv5x5(16) - pool - 120 - 84 - classes."""

    def __init__(self, channels: int = 1, side: int = 28, classes: int = 10):
        super().__init__()
        self.c1 = nn.Conv2d(channels, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        s = (side // 2 - 4) // 2
        self.f1 = nn.Linear(16 * s * s, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = F.relu(self.f1(x.flatten(1)))
        return self.f3(F.relu(self.f2(x)))


class TinyMlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(144, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


class BnNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 6 * 6, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        return self.fc(x.flatten(1))


class CharGru(nn.Module):
    def __init__(self, vocab: int = 80, classes: int = 80):
        super().__init__()
        self.embedding = nn.Embedding(vocab, 8)
        self.gru = nn.GRU(8, 32, batch_first=True)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        h, _ = self.gru(self.embedding(x))
        return self.fc(h[:, -1])


class NoParams(nn.Module):
    def forward(self, x):
        return x.flatten(1)


def save(module, name):
    torch.manual_seed(7)
    path = os.path.join(OUT, name)
    torch.jit.script(module).save(path)
    print(f"{path}: {sum(p.numel() for p in module.parameters())} parameters")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(7)
    save(LeNet5(), "lenet5.pt")
    save(TinyMlp(), "tiny_mlp.pt")
    save(BnNet(), "bn_net.pt")
    save(CharGru(), "char_gru.pt")
    save(NoParams(), "no_params.pt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
