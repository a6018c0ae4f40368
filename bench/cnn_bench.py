"""Benchmark of `adcorrect audit` on the CNNs people train (`make bench`): LeNet-5 (the
PyTorch tutorial's, 1x32x32), a VGG-11-style CNN with BatchNorm in eval mode (channel
widths divided by 8: 8-16-32-32-64-64-64-64, 3x32x32), a MobileNetV2-style net of
inverted residual blocks (expansion 4, depthwise 3x3, relu6, BatchNorm, 3x32x32) and a
torchvision-style ResNet-18 (3x32x32, written here from the published architecture:
7x7 stride-2 stem, 3x3 max pool, four stages of two basic blocks).

The BatchNorm models also run in training mode (batch statistics: ``(train)`` rows,
random parameters).  Parameters are random (fixed seed; inputs k/16) or trained (TRAIN_STEPS SGD steps,
RESNET_STEPS for ResNet-18, on scikit-learn's digits upsampled to 32x32, nothing
downloaded; inputs digits).  For each: the one-time import, the audit (exact and
execution, the model's plan built once) as a ratio to torch's forward+backward on the
same batch (CPU time of this process, one torch thread, medians of REPEAT alternating
runs), which filter answered (``tensor``: the tensor-level one, with its float64 and,
where needed, double-double passes; ``ir``: the IR's), the copies the filters left to
exact arithmetic, and whether the exact side decided (``undecided`` says why).  A model refused by a
limit is a row with the one-line reason.  Results also go to
bench/results/cnn_bench.json.
"""

from __future__ import annotations

import json
import resource
import time
from typing import Any

import torch
import torch.nn.functional as F
from adcorrect.audit.dtypes import parse_dtype
from adcorrect.audit.run import Auditor, prepared
from adcorrect.core.errors import InputError
from adcorrect.core.tables import render
from timing import alternate, save
from torch import nn

REPEAT = 3
SLOW = 10.0  # seconds: an audit slower than this is measured once
TIME_LIMIT = 30.0  # the audits' time limit for exact work (the CLI's default is 60 s)
TRAIN_STEPS = 200
RESNET_STEPS = 60  # ResNet-18's training steps (about 0.3 s each here)


class LeNet5(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def vgg11_8() -> nn.Module:
    layers: list[nn.Module] = []
    c = 3
    for v in (8, "M", 16, "M", 32, 32, "M", 64, 64, "M", 64, 64, "M"):
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c, int(v), 3, padding=1), nn.BatchNorm2d(int(v)), nn.ReLU()]
            c = int(v)
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(64, 10))


class InvertedResidual(nn.Module):
    def __init__(self, c: int, stride: int, out: int) -> None:
        super().__init__()
        h = 4 * c
        self.body = nn.Sequential(
            nn.Conv2d(c, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
            nn.Conv2d(h, h, 3, stride, 1, groups=h, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
            nn.Conv2d(h, out, 1, bias=False), nn.BatchNorm2d(out))
        self.skip = stride == 1 and c == out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) if self.skip else self.body(x)


def mobilenet_small() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6(),
                         InvertedResidual(8, 1, 8), InvertedResidual(8, 2, 16),
                         InvertedResidual(16, 1, 16), InvertedResidual(16, 2, 24),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(24, 10))


class Basic(nn.Module):
    def __init__(self, c: int, out: int, stride: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(c, out, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(out)
        self.c2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(out)
        self.down = nn.Sequential(nn.Conv2d(c, out, 1, stride, bias=False), nn.BatchNorm2d(out)) \
            if stride != 1 or c != out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.b2(self.c2(F.relu(self.b1(self.c1(x))))) + self.down(x))


def resnet18() -> nn.Module:
    blocks: list[nn.Module] = []
    c = 64
    for out, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        blocks += [Basic(c, out, stride), Basic(out, out, 1)]
        c = out
    return nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                         nn.MaxPool2d(3, 2, 1),
                         *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10))


def _eval(m: nn.Module) -> nn.Module:
    with torch.no_grad():  # non-trivial running statistics, then eval mode
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 2.0)
    return m.eval()


def digits(shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled digits (8x8, values 0..16) upsampled to 32x32 (each pixel a
    4x4 block), divided by 16, repeated over the channels of ``shape``."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 16
    x = x.repeat_interleave(4, 2).repeat_interleave(4, 3).repeat(1, shape[0], 1, 1)
    return x, torch.tensor(d.target, dtype=torch.int64)


def trained(m: nn.Module, shape: tuple[int, ...], steps: int = TRAIN_STEPS) -> nn.Module:
    """The model after ``steps`` SGD steps (batch 32, train mode) on digits, then eval."""
    x, y = digits(shape)
    g = torch.Generator().manual_seed(2)
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    m.train()
    for _ in range(steps):
        i = torch.randint(0, len(x), (32,), generator=g)
        opt.zero_grad()
        F.cross_entropy(m(x[i]), y[i]).backward()
        opt.step()
    return m.eval()


def cases() -> list[tuple[str, nn.Module, tuple[int, ...], int, str, str]]:
    torch.manual_seed(0)
    return [("LeNet-5", LeNet5(), (1, 32, 32), 64, "fp32", "random"),
            ("LeNet-5", LeNet5(), (1, 32, 32), 64, "e4m3fn", "random"),
            ("LeNet-5", trained(LeNet5(), (1, 32, 32)), (1, 32, 32), 64, "fp32", "trained"),
            ("LeNet-5", trained(LeNet5(), (1, 32, 32)), (1, 32, 32), 64, "e4m3fn", "trained"),
            ("VGG-11/8 + BN", _eval(vgg11_8()), (3, 32, 32), 32, "fp32", "random"),
            ("VGG-11/8 + BN", trained(vgg11_8(), (3, 32, 32)), (3, 32, 32), 32, "fp32",
             "trained"),
            ("MobileNetV2-style", _eval(mobilenet_small()), (3, 32, 32), 32, "fp32", "random"),
            ("MobileNetV2-style", trained(mobilenet_small(), (3, 32, 32)), (3, 32, 32), 32,
             "fp32", "trained"),
            ("ResNet-18", _eval(resnet18()), (3, 32, 32), 32, "fp32", "random"),
            ("ResNet-18", trained(resnet18(), (3, 32, 32), RESNET_STEPS), (3, 32, 32), 32,
             "fp32", "trained"),
            ("VGG-11/8 + BN (train)", vgg11_8().train(), (3, 32, 32), 32, "fp32", "random"),
            ("MobileNetV2-style (train)", mobilenet_small().train(), (3, 32, 32), 32, "fp32",
             "random"),
            ("ResNet-18 (train)", resnet18().train(), (3, 32, 32), 32, "fp32", "random")]


def measure(name: str, model: nn.Module, shape: tuple[int, ...], B: int, dt: str,
            params: str) -> dict[str, Any]:
    dtype = parse_dtype(dt)
    g = torch.Generator().manual_seed(1)
    if params == "trained":
        xs, ys = digits(shape)
        i = torch.randint(0, len(xs), (B,), generator=g)
        x, y = xs[i], ys[i]
    else:
        x = torch.randint(0, 17, (B, *shape), generator=g).float() / 16
        y = torch.randint(0, 10, (B,), generator=g)
    row: dict[str, Any] = {"model": name, "params": params, "dtype": dt, "batch": B,
                           "W": sum(p.numel() for p in model.parameters())}
    m, _ = prepared(model, dtype)
    t0 = time.process_time()
    try:
        aud = Auditor(m, x, "ce", dtype=dtype, name=name, time_limit=TIME_LIMIT)
    except InputError as e:
        return {**row, "refused": str(e)}
    row["import_s"] = time.process_time() - t0
    xe = x.to(dtype.compute)
    def torch_step() -> None:
        m.zero_grad()
        F.cross_entropy(m(xe), y).backward()

    mt, ma, res = alternate(torch_step, lambda: aud.audit(x, y), REPEAT, slow=SLOW)
    e = res["exact"]
    return {**row, "torch_ms": 1e3 * mt, "audit_ms": 1e3 * ma, "ratio": ma / mt,
            "uncertain": e["uncertain"],
            "kinked": e["kinked"], "dead": e["dead"], "undecided": e["undecided"],
            "differentiable": e["differentiable"], "filter": e.get("filter", "ir"),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> int:
    torch.set_num_threads(1)
    rows = []
    for c in cases():
        rows.append(measure(*c))
        print(json.dumps(rows[-1]), flush=True)  # progress: one row per model
    print(render(["model", "params", "dtype", "B", "W", "import s", "torch ms", "audit ms",
                  "ratio", "filter", "uncertain", "kinked", "dead", "exact verdict"],
                 [(r["model"], r["params"], r["dtype"], r["batch"], r["W"],
                   f"{r['import_s']:.1f}" if "import_s" in r else "-",
                   f"{r['torch_ms']:.1f}" if "torch_ms" in r else "-",
                   f"{r['audit_ms']:.0f}" if "audit_ms" in r else "-",
                   f"{r['ratio']:.1f}" if "ratio" in r else "-", r.get("filter", "-"),
                   r.get("uncertain", "-"), r.get("kinked", "-"), r.get("dead", "-"),
                   ("refused: " + r["refused"][:70]) if "refused" in r else
                   ("undecided: " + r["undecided"][:60]) if r["undecided"] else
                   "differentiable" if r["differentiable"] else "not differentiable")
                  for r in rows]))
    save("cnn_bench", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
