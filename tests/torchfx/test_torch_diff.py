"""Differential test of the PyTorch import: AD of imported models over a batch equals
torch.autograd, exactly.

Random float64 models (deterministic seeds) mix Linear, Conv2d (stride, padding,
dilation, groups, with or without bias), residual adds, BatchNorm in eval mode, every
exact activation (module and functional forms), ``torch.where`` written as leaky relu,
min and relu, MaxPool2d and AvgPool2d, under the three batch losses (sum, mse, ce via
adcorrect.nets.batch.batched).  Parameters and inputs
are dyadic with few bits and BatchNorm's var + eps is 1/4, 1 or 4, so every float64
operation of PyTorch's forward and backward pass is exact; the test checks this (the
model's float64 outputs equal the exact ones) before comparing gradients.

Pre-activations are put on kinks on purpose: after each layer is built, the bias
before an activation (the Linear/Conv bias or BatchNorm's beta) is moved so that a
chosen entry of a chosen example sits exactly on a kink; examples repeat and inputs
are small, so max-pool windows tie (zeros after relu, repeated values).
hardsigmoid/hardswish are kept off their middle piece, where PyTorch's float64
backward uses float32(1/6) and is not exact: every entry is moved to |y| >= 3, the
extreme one exactly onto the kink.

sum and mse: Fraction(torch grad) == adcorrect's exact AD_D (choice "pytorch"),
component by component (mse is the mean over B * n_out = a power of two entries).
ce: adcorrect's adjoints are exact ExpNums (THEORY.md 8.2); torch's float64
softmax is not exact, so each component is compared to ExpNum.approx() within
1e-12 relative to the largest component (a few thousand ulps at most).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from fractions import Fraction as Q
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from adcorrect.exact.engine import backward, forward, is_zero, kink_neurons
from adcorrect.nets.batch import Batch, batched
from adcorrect.torch import from_module
from torch import nn

D = torch.float64
N_MODELS = 240  # 80 per loss
LOSSES = ("sum", "mse", "ce")

def _where_leaky(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x > 0, x, 0.125 * x)  # slope 1/8 at 0: the condition is false


def _where_min(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x.le(0.5), x, 0.5)  # slope 1 at 1/2


def _where_relu(x: torch.Tensor) -> torch.Tensor:
    return torch.where(0 >= x, torch.zeros(()), x)  # slope 0 at 0


class _Fn(nn.Module):
    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)


# (name, module factory, functional form, kinks)
ACTS: list[tuple[str, Callable[[], nn.Module], Callable[[torch.Tensor], torch.Tensor],
                 list[float]]] = [
    ("relu", nn.ReLU, F.relu, [0.0]),
    ("leaky_relu", lambda: nn.LeakyReLU(0.125), lambda x: F.leaky_relu(x, 0.125), [0.0]),
    ("leaky_relu_half", lambda: nn.LeakyReLU(0.5), lambda x: F.leaky_relu(x, negative_slope=0.5),
     [0.0]),
    ("hardtanh", nn.Hardtanh, F.hardtanh, [-1.0, 1.0]),
    ("hardtanh_skew", lambda: nn.Hardtanh(-0.5, 2.0), lambda x: F.hardtanh(x, -0.5, 2.0),
     [-0.5, 2.0]),
    ("relu6", nn.ReLU6, F.relu6, [0.0, 6.0]),
    ("abs", lambda: _Abs(), torch.abs, [0.0]),
    ("softshrink", lambda: nn.Softshrink(0.5), lambda x: F.softshrink(x, 0.5), [-0.5, 0.5]),
    ("softshrink1", lambda: nn.Softshrink(1.0), lambda x: F.softshrink(x, 1.0), [-1.0, 1.0]),
    ("identity", nn.Identity, lambda x: x, []),
    ("hardsigmoid", nn.Hardsigmoid, F.hardsigmoid, [-3.0, 3.0]),
    ("hardswish", nn.Hardswish, F.hardswish, [-3.0, 3.0]),
    ("where_leaky", lambda: _Fn(_where_leaky), _where_leaky, [0.0]),
    ("where_min", lambda: _Fn(_where_min), _where_min, [0.5]),
    ("where_relu", lambda: _Fn(_where_relu), _where_relu, [0.0]),
]
SIXTHS = {"hardsigmoid", "hardswish"}


class _Abs(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.abs()


class RandomNet(nn.Module):
    """Layers interpreted from a plan (a Python list, unrolled by torch.fx)."""

    def __init__(self) -> None:
        super().__init__()
        self.plan: list[tuple[Any, ...]] = []
        self.count = 0

    def add(self, module: nn.Module) -> str:
        name = f"l{self.count}"
        self.count += 1
        self.add_module(name, module)
        return name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.prefix(x, None)

    def prefix(self, x: torch.Tensor, upto: int | None) -> torch.Tensor:
        """The steps before step ``upto``."""
        skip = x
        for step in self.plan[:upto]:
            kind = step[0]
            if kind == "module":
                x = getattr(self, step[1])(x)
            elif kind == "fn":
                x = step[1](x)
            elif kind == "save":
                skip = x
            elif kind == "addskip":
                x = x + skip if step[1] else torch.add(x, skip)
            elif kind == "flatten":
                x = torch.flatten(x, 1) if step[1] else x.view(x.size(0), -1)
        return x


def dyadic(rng: random.Random, k: int = 4, den: int = 4) -> float:
    return rng.randint(-k, k) / den


def fill(rng: random.Random, t: torch.Tensor, k: int = 4, den: int = 4) -> None:
    with torch.no_grad():
        t.copy_(torch.tensor([dyadic(rng, k, den) for _ in range(t.numel())],
                             dtype=D).reshape(t.shape))


class Maker:
    """Builds a RandomNet step by step, moving biases to put pre-activations on kinks."""

    def __init__(self, rng: random.Random, x: torch.Tensor) -> None:
        self.rng = rng
        self.x = x
        self.net = RandomNet().double().eval()
        self.bias: torch.Tensor | None = None  # the bias that shifts the next pre-activation

    def module(self, m: nn.Module) -> None:
        self.net.plan.append(("module", self.net.add(m.double().eval())))

    def affine(self, m: nn.Module) -> None:
        for p in m.parameters():
            fill(self.rng, p)
        self.module(m)
        self.bias = getattr(m, "bias", None)

    def batchnorm(self, channels: int, two_d: bool) -> None:
        bn = (nn.BatchNorm2d if two_d else nn.BatchNorm1d)(channels, eps=1 / 16)
        fill(self.rng, bn.weight)
        fill(self.rng, bn.bias)
        fill(self.rng, bn.running_mean)
        with torch.no_grad():
            bn.running_var.copy_(torch.tensor(
                [self.rng.choice([0.25, 1.0, 4.0]) - 1 / 16 for _ in range(channels)]))
        self.module(bn)
        self.bias = bn.bias

    def activation(self) -> None:
        name, make, fn, kinks = self.rng.choice(ACTS if self.bias is not None else
                                                [a for a in ACTS if a[0] not in SIXTHS])
        if self.bias is not None:
            self.calibrate(name, kinks)
        if self.rng.random() < 0.5:
            self.module(make())
        else:
            self.net.plan.append(("fn", fn))
        self.bias = None

    def calibrate(self, name: str, kinks: list[float]) -> None:
        assert self.bias is not None
        with torch.no_grad():
            pre = self.net(self.x)  # (B, C, ...) before the activation
            for c in range(pre.shape[1]):
                vals = pre[:, c].reshape(-1)
                if name in SIXTHS:
                    delta = (3 - vals.min()) if self.rng.random() < 0.5 else (-3 - vals.max())
                elif kinks and self.rng.random() < 0.7:
                    delta = self.rng.choice(kinks) - vals[self.rng.randrange(len(vals))]
                else:
                    continue
                self.bias[c] += delta


def mlp(rng: random.Random, x: torch.Tensor, n_out: int) -> RandomNet:
    mk = Maker(rng, x)
    width = x.shape[1]
    for _ in range(rng.randint(1, 3)):
        residual = rng.random() < 0.35
        new = width if residual else rng.randint(2, 4)
        if residual:
            mk.net.plan.append(("save",))
        bn = rng.random() < 0.35
        mk.affine(nn.Linear(width, new, bias=rng.random() < 0.8 or not bn))
        if bn:
            mk.batchnorm(new, False)
        if residual:
            mk.net.plan.append(("addskip", rng.random() < 0.5))
        mk.activation()
        width = new
    mk.affine(nn.Linear(width, n_out))
    return mk.net


def cnn(rng: random.Random, x: torch.Tensor, n_out: int) -> RandomNet:
    mk = Maker(rng, x)
    c, h, w = x.shape[1:]
    for _ in range(rng.randint(1, 2)):
        residual = rng.random() < 0.4
        if residual:
            k, groups = rng.choice([(1, 0), (3, 1)]), rng.choice([1, c])
            conv = nn.Conv2d(c, c, k[0], padding=k[1], groups=groups, bias=rng.random() < 0.7)
            mk.net.plan.append(("save",))
            new = c
        else:
            new = rng.choice([1, 2, 3]) if c != 2 else rng.choice([2, 4])
            while True:
                k = rng.choice([1, 2, 3])
                dil = rng.choice([1, 1, 2]) if k > 1 else 1
                pad = rng.randint(0, k // 2 + (dil - 1))
                stride = rng.choice([1, 1, 2])
                if min(h, w) + 2 * pad - dil * (k - 1) >= 1:
                    break
            groups = 2 if c == 2 and new % 2 == 0 and rng.random() < 0.4 else 1
            conv = nn.Conv2d(c, new, k, stride=stride, padding=pad, dilation=dil, groups=groups,
                             bias=rng.random() < 0.7)
        bn = rng.random() < 0.4 or conv.bias is None and rng.random() < 0.5
        mk.affine(conv)
        if bn:
            mk.batchnorm(new, True)
        if residual:
            mk.net.plan.append(("addskip", rng.random() < 0.5))
        mk.activation()
        c = new
        h, w = mk.net(x).shape[2:]
        if min(h, w) >= 2 and rng.random() < 0.7:
            if rng.random() < 0.75:
                k, s = 2, rng.choice([1, 2])
                pad = 1 if rng.random() < 0.2 else 0
                pool: nn.Module = nn.MaxPool2d(k, stride=s, padding=pad,
                                               ceil_mode=rng.random() < 0.2)
                if rng.random() < 0.5:
                    mk.module(pool)
                else:
                    mk.net.plan.append(("fn", lambda t, s=s, pad=pad: F.max_pool2d(
                        t, 2, stride=s, padding=pad)))
            else:
                mk.module(nn.AvgPool2d(2, stride=rng.choice([1, 2])))
            h, w = mk.net(x).shape[2:]
    mk.net.plan.append(("flatten", rng.random() < 0.5))
    mk.bias = None
    mk.affine(nn.Linear(c * h * w, n_out))
    return mk.net


def make_case(seed: int) -> tuple[RandomNet, torch.Tensor, str, torch.Tensor]:
    rng = random.Random(seed)
    loss = LOSSES[seed % 3]
    B = rng.choice([1, 2, 4])
    n_out = rng.choice([2, 4]) if loss == "ce" else rng.choice([1, 2, 4])
    conv = rng.random() < 0.55
    shape = (rng.choice([1, 2]), rng.choice([3, 4]), rng.choice([3, 4])) if conv else \
        (rng.randint(2, 3),)
    rows = []
    for i in range(B):
        if i and rng.random() < 0.3:
            rows.append(rows[rng.randrange(i)])  # a repeated example
        else:
            rows.append(torch.tensor([rng.choice([-1, -0.5, 0, 0, 0.5, 1, 2])
                                      for _ in range(int(torch.tensor(shape).prod()))],
                                     dtype=D).reshape(shape))
    x = torch.stack(rows)
    net = (cnn if conv else mlp)(rng, x, n_out)
    if loss == "ce":
        y = torch.tensor([rng.randrange(n_out) for _ in range(B)])
    elif loss == "mse":
        y = torch.tensor([[dyadic(rng) for _ in range(n_out)] for _ in range(B)], dtype=D)
    else:
        y = torch.tensor([[dyadic(rng, 4, 2)] for _ in range(B)], dtype=D)
    return net, x, loss, y


def torch_loss(out: torch.Tensor, loss: str, y: torch.Tensor) -> torch.Tensor:
    if loss == "sum":
        return (y * out).sum()
    if loss == "mse":
        return F.mse_loss(out, y)
    return F.cross_entropy(out, y)


def run_case(seed: int) -> dict[str, int]:
    model, x, loss, y = make_case(seed)
    B = x.shape[0]
    net = from_module(model, x[:1])
    rows = tuple(tuple(Q(v) for v in x[i].reshape(-1).tolist()) for i in range(B))
    ys = tuple((Q(v),) if loss != "mse" else tuple(Q(u) for u in y[i].tolist())
               for i, v in enumerate(y.reshape(B, -1)[:, 0].tolist()))
    bnet = batched(net, Batch(rows, ys), loss)
    w = bnet.values
    assert w is not None
    fw = forward(bnet, w)
    bw = backward(bnet, w, fw, "pytorch")

    model.zero_grad()
    out = model(x).reshape(B, -1)
    # PyTorch's float64 forward pass is exact: the same outputs, entry by entry
    assert [Q(v) for v in out.reshape(-1).tolist()] == [fw.z[o] for o in bnet.outputs], seed
    torch_loss(out, loss, y).backward()
    tg = [Q(v) for p in model.parameters()
          for v in (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).tolist()]
    assert len(tg) == len(bw.grad) == bnet.W
    if loss == "ce":
        approx = [float(g) if isinstance(g, (int, Q)) else g.approx() for g in bw.grad]
        tol = 1e-12 * max([1.0] + [abs(a) for a in approx])
        for i, (a, b) in enumerate(zip(tg, approx)):
            assert abs(float(a) - b) <= tol, (seed, bnet.param_names[i], float(a), b)
    else:
        assert tg == list(bw.grad), (seed, [(bnet.param_names[i], a, b) for i, (a, b) in
                                            enumerate(zip(tg, bw.grad)) if a != b][:3])
    kinks = kink_neurons(bnet, fw)
    live = [k for k in kinks if not is_zero(bw.zbar[k])]
    return {"kinked": int(bool(live)),
            "tie": int(any(bnet.neurons[k].op == "max" for k in live)),
            "sixths": int(any(n.activation.name in SIXTHS for n in bnet.neurons)),
            "bn": int(any(n.name.endswith("/norm") for n in bnet.neurons)),
            "residual": int(any(n.name.startswith("add") for n in bnet.neurons)),
            "conv": int(x.dim() == 4)}


@pytest.mark.parametrize("chunk", range(8))
def test_random_models_match_autograd_exactly(chunk: int) -> None:
    totals: dict[str, int] = {}
    for seed in range(chunk, N_MODELS, 8):
        for k, v in run_case(seed).items():
            totals[k] = totals.get(k, 0) + v
    n = len(range(chunk, N_MODELS, 8))
    # the cases exercise what they are meant to: kinked copies with non-zero adjoints
    # (where the derivative choice matters) in most models, and max-pool ties
    assert totals["kinked"] >= n // 2, totals
    assert totals["conv"] >= n // 4 and totals["bn"] >= 3 and totals["residual"] >= 2, totals
    assert totals["tie"] >= 1, totals
