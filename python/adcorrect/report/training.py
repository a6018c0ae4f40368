"""What the study's runs share: the digits data set and the training loop audited by the
monitor (:mod:`adcorrect.report.study`, :mod:`adcorrect.report.study_models`)."""

from __future__ import annotations

import time
from typing import Any


def digits() -> tuple[Any, Any]:
    """scikit-learn's bundled digits: x (1797, 64) float32 with values k/16, y int64."""
    import torch
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.data, dtype=torch.float32) / 16
    y = torch.tensor(d.target, dtype=torch.int64)
    return x, y


def train_audited(model: Any, dtype: Any, x_all: Any, y_all: Any, batch: int, steps: int,
                  every: int, lr: float, seed: int) -> tuple[Any, float, float]:
    """Plain SGD with cross-entropy on (x_all, y_all), auditing every ``every``-th step with
    the monitor; for formats torch cannot compute in (fp8, int8) a float32 master copy
    whose rounding to the format is the model's parameters after every step.  Returns the
    monitor, the training seconds and the accuracy on all of x_all (eval mode)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from ..audit.monitor import Monitor

    params = list(model.parameters())
    master = [p.detach().clone().float().requires_grad_(True) for p in params]

    def keep_in_format() -> None:
        if not dtype.native:
            with torch.no_grad():
                for p, q in zip(params, master):
                    p.copy_(dtype.round(q))

    keep_in_format()
    opt = torch.optim.SGD(params if dtype.native else master, lr=lr)
    gen = torch.Generator().manual_seed(seed)
    mon = Monitor(model, nn.CrossEntropyLoss(), every=every, dtype=dtype, progress=False)
    n = x_all.shape[0]
    order, pos = torch.randperm(n, generator=gen), 0
    t0 = time.perf_counter()
    for _ in range(steps):
        if pos + batch > n:
            order, pos = torch.randperm(n, generator=gen), 0
        idx = order[pos:pos + batch]
        pos += batch
        x, y = x_all[idx].to(dtype.compute), y_all[idx]
        opt.zero_grad()
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()
        mon.step(x, y)
        if not dtype.native:
            for p, q in zip(params, master):
                q.grad = p.grad.detach().float().clone()
        opt.step()
        keep_in_format()
    seconds = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        acc = float((model(x_all.to(dtype.compute)).argmax(1) == y_all).float().mean())
    return mon, seconds, acc
