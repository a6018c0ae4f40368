"""A network whose float64 pass cannot decide one relu copy (shared by the tests of the
tensor filter's precise pass): x -> relu(x0 + x1), relu(x0) -> relu(h0 - h1 - shift) ->
linear.  At x = X_CANCEL = (1, 2^-70) the second pre-activation is exactly
2^-70 - shift, which float64 computes as 0 +- 2^-52 (1 + 2^-70 rounds to 1)."""

from __future__ import annotations

import torch
from torch import nn

X_CANCEL = torch.tensor([[1.0, 2.0 ** -70]])


def cancelling(shift: float = 0.0) -> nn.Module:
    m = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1), nn.ReLU(), nn.Linear(1, 1))
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([[1.0, 1.0], [1.0, 0.0]]))
        m[0].bias.zero_()
        m[2].weight.copy_(torch.tensor([[1.0, -1.0]]))
        m[2].bias.fill_(-shift)
        m[4].weight.fill_(1.0)
        m[4].bias.zero_()
    return m
