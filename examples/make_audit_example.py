"""Writes examples/audit-mlp.pt and examples/audit-batch.pt (the README's `audit` run):
a 64-16-16-10 ReLU MLP trained for 40 SGD steps on scikit-learn's digits with its
parameters kept in fp8 e4m3fn (float32 storage), and one batch of 32 digits (every 56th from the 43rd, a batch with a kinked copy).
Deterministic: `python examples/make_audit_example.py` rewrites the same files."""

from __future__ import annotations

from pathlib import Path

import torch
from adcorrect.report.study import digits
from torch import nn

HERE = Path(__file__).resolve().parent


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(7)
    x, y = digits()
    model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 10))
    master = [p.detach().clone().requires_grad_(True) for p in model.parameters()]
    opt = torch.optim.SGD(master, lr=0.1)
    g = torch.Generator().manual_seed(7)

    def to_e4m3() -> None:
        with torch.no_grad():
            for p, q in zip(model.parameters(), master):
                p.copy_(q.to(torch.float8_e4m3fn).float())

    to_e4m3()
    for _ in range(40):
        idx = torch.randint(0, x.shape[0], (32,), generator=g)
        model.zero_grad()
        nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        for p, q in zip(model.parameters(), master):
            q.grad = p.grad.clone()
        opt.step()
        to_e4m3()
    torch.save(model, HERE / "audit-mlp.pt")
    idx = torch.arange(32) * 56 + 43
    torch.save({"x": x[idx].clone(), "y": y[idx].clone()}, HERE / "audit-batch.pt")


if __name__ == "__main__":
    main()
