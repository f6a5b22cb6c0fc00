#!/usr/bin/python3
"""Your own PyTorch model in murmur: define it, script it, save it; then train it with
examples/torchscript/train.toml. Run with Debian's interpreter (it sees python3-torch 1.13,
the version of the C++ side):

  /usr/bin/python3 examples/torchscript/model.py build/my_net.pt
  build/murmur run examples/torchscript/train.toml
  /usr/bin/python3 -c "import torch; net = torch.jit.load('runs/my-net/model.pt'); print(net)"

forward(x) gets a batch as the dataset gives it (Fashion-MNIST: [B, 1, 28, 28] float32,
normalised) and returns [B, classes] logits. Every node starts from the weights saved here.
"""
import sys

import torch
from torch import nn


class SmallConvNet(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Linear(32 * 7 * 7, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "build/my_net.pt"
    torch.manual_seed(0)
    net = SmallConvNet()
    torch.jit.script(net).save(path)
    print(f"{path}: {sum(p.numel() for p in net.parameters())} parameters")
