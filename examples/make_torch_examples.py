"""Writes the small PyTorch examples used in the README (run from the repository root):
examples/torch-mlp.pt (a 2-3-2 relu MLP saved with torch.save(model), dyadic weights) and
examples/torch-batch.pt (three examples and class labels, for --loss ce).  The first
and last examples put two hidden neurons exactly on their kink."""

from __future__ import annotations

import torch
from torch import nn


def main() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, -1.0], [0.5, 0.5], [1.0, 0.0]]))
        model[0].bias.copy_(torch.tensor([0.0, -1.0, 0.5]))
        model[2].weight.copy_(torch.tensor([[1.0, 2.0, -1.0], [0.5, -0.5, 1.0]]))
        model[2].bias.copy_(torch.tensor([0.0, 0.25]))
    model.eval()
    torch.save(model, "examples/torch-mlp.pt")
    torch.save({"x": torch.tensor([[1.0, 1.0], [2.0, 0.0], [1.0, 1.0]]),
                "y": torch.tensor([0, 1, 1])}, "examples/torch-batch.pt")


if __name__ == "__main__":
    main()
