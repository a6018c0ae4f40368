"""The theorems' coverage from the fx graph (adcorrect.audit.tcoverage) against the IR's
(adcorrect.nets.theorems.coverage on from_module): on random CNNs (biases trainable,
frozen or absent, BatchNorm affine or not, every kinked activation, max, average and
adaptive pools, residual sums in both orders, an identity skip into an activation, a
conv output read twice, scalings, frozen tensors) and MLPs, and on hand-written models
(ResNet-style, reused modules, concatenated branches, Conv1d, gates: products and
quotients of tensors, smooth functions) and random gated CNNs; then the audit of a
ResNet-style model above the exact import limit, which reports the theorem."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import random
from pathlib import Path
from typing import Any

import pytest
import torch
from adcorrect.audit.run import Auditor
from adcorrect.audit.tcoverage import NotModelled, graph_coverage, structure_facts
from adcorrect.cli import main
from adcorrect.exact.certcheck import smooth_coverage
from adcorrect.nets.theorems import coverage, coverage_json
from adcorrect.torch import from_module
from test_tfilter import ShuffleUnit
from torch import nn

F = nn.functional

pytestmark = pytest.mark.usefixtures("float32_default")

ACTS = [nn.ReLU, lambda: nn.LeakyReLU(0.1), nn.Hardtanh, nn.ReLU6, nn.Hardswish,
        nn.Hardsigmoid, lambda: nn.Softshrink(0.25)]


class Net(nn.Module):
    """conv act [BN] pool, a conv block with a residual sum, a global pool, two linears;
    ``tied``: one-kink activations, biases, no max pool (tied classes: T7 can apply)."""

    def __init__(self, rng: random.Random, tied: bool) -> None:
        super().__init__()
        c = rng.choice([2, 3])
        acts = ACTS[:2] if tied else ACTS
        bias = (lambda p: tied or rng.random() < p)
        self.c1 = nn.Conv2d(1, c, 3, padding=rng.choice([0, 1]), bias=bias(0.7))
        self.bn = rng.choice([lambda: nn.BatchNorm2d(c), lambda: nn.BatchNorm2d(c, affine=False),
                              nn.Identity, nn.Identity])()
        self.a1 = rng.choice(acts)()
        self.pool = rng.choice([nn.AvgPool2d(2), nn.AvgPool2d(3, 1, 1), nn.Identity()] + (
            [] if tied else [nn.MaxPool2d(2), nn.MaxPool2d(3, 2, 1), nn.AdaptiveMaxPool2d(2)]))
        self.c2 = nn.Conv2d(c, c, 3, padding=1, bias=bias(0.7))
        self.bn2 = nn.BatchNorm2d(c) if rng.random() < 0.4 else nn.Identity()
        self.a2 = rng.choice(acts)()
        self.res = rng.choice(["none", "add", "add_first", "skip_act"])
        self.twice = rng.random() < 0.2
        self.scale = rng.choice([None, 0.5, -1.0, "neg", "plus1"])
        self.fc1 = nn.Linear(c, 4, bias=bias(0.85))
        self.a3 = rng.choice(acts)()
        self.fc2 = nn.Linear(4, 3)
        self.gpool = F.adaptive_avg_pool2d if tied else \
            rng.choice([F.adaptive_avg_pool2d, F.adaptive_max_pool2d])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(self.a1(self.bn(self.c1(x))))
        g = self.bn2(self.c2(h))
        if self.scale == "neg":
            g = -g
        elif self.scale == "plus1":
            g = g + 1
        elif self.scale is not None:
            g = g * self.scale
        if self.res == "add":
            h = self.a2(g + h)
        elif self.res == "add_first":
            h = self.a2(h + g)
        elif self.res == "skip_act":
            h = self.a2(h) + g  # an identity skip around the activation
        else:
            h = self.a2(g)
        if self.twice:
            h = h + F.relu(g)  # g read twice
        return self.fc2(self.a3(self.fc1(self.gpool(h, 1).flatten(1))))


class MLP(nn.Module):
    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        dims = [rng.choice([1, 2, 3])] + [rng.choice([1, 2, 3, 4])
                                          for _ in range(rng.choice([1, 2, 3]))]
        layers: list[nn.Module] = []
        for a, b in itertools.pairwise(dims):
            layers.append(nn.Linear(a, b, bias=rng.random() < 0.85))
            if rng.random() < 0.25:
                layers.append(nn.BatchNorm1d(b))
            layers.append(rng.choice(ACTS)())
        layers.append(nn.Linear(dims[-1], 2))
        self.body = nn.Sequential(*layers)
        self.skip = rng.random() < 0.3 and dims[0] == 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        return h + x if self.skip else h


def _freeze_some(m: nn.Module, rng: random.Random, p: float) -> nn.Module:
    for t in m.parameters():
        if rng.random() < p:
            t.requires_grad_(False)
    return m.eval()


def _cnn(seed: int) -> tuple[nn.Module, tuple[int, ...]]:
    rng = random.Random(seed)
    torch.manual_seed(seed)
    tied = rng.random() < 0.3
    m = Net(rng, tied)
    with torch.no_grad():
        for p in m.parameters():  # coarse values: zero weights happen
            p.copy_((p * 64).round() / 64)
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.copy_(torch.tensor([0.25, -0.5, 0.0][:mod.num_features]))
                mod.running_var.copy_(torch.tensor([1.0, 4.0, 0.25][:mod.num_features]))
    size = rng.choice([4, 5, 6])
    return _freeze_some(m, rng, 0.0 if tied else 0.12), (1, 1, size, size)


def _mlp(seed: int) -> tuple[nn.Module, tuple[int, ...]]:
    rng = random.Random(seed)
    torch.manual_seed(seed)
    m = MLP(rng)
    return _freeze_some(m, rng, 0.15), (1, m.body[0].in_features)


def _compare(m: nn.Module, shape: tuple[int, ...]) -> bool:
    """The graph's coverage is the IR's at batch 1 and 4 (and so are the labels of kinked
    neurons without an exclusive bias); False where the graph gives none."""
    gm = torch.fx.symbolic_trace(m)
    if graph_coverage(gm, m, 1, "pytorch", shape) is None:
        return False
    net = from_module(m, torch.zeros(shape))
    for B in (1, 4):
        g = graph_coverage(gm, m, B, "pytorch", shape)
        assert g is not None
        assert coverage_json(g) == coverage_json(coverage(net, B, "pytorch"))
    label = [n.label for n in net.neurons]
    facts = structure_facts(gm, m, shape)
    assert list(facts.no_exclusive) == list(dict.fromkeys(
        label[k] for k in net.no_exclusive_bias))[:20]
    return True


@pytest.mark.parametrize("kind", ["cnn", "mlp"])
def test_the_graph_coverage_is_the_irs_on_random_models(kind: str) -> None:
    make = _cnn if kind == "cnn" else _mlp
    answered = 0
    seen: set[str] = set()
    n = 150
    for seed in range(n):
        m, shape = make(seed)
        if not any(p.requires_grad for p in m.parameters()):
            n -= 1
            continue
        if _compare(m, shape):
            answered += 1
            gm = torch.fx.symbolic_trace(m)
            seen.add(graph_coverage(gm, m, 4, "pytorch", shape).theorem)  # type: ignore[union-attr]
    # no answer only where a frozen convolution's constant terms meet another summand's
    assert answered >= 0.95 * n, (answered, n)
    assert seen >= ({"none", "T6", "T6_dense_every_choice"} if kind == "mlp"
                    else {"none", "T7"}), seen


class Basic(nn.Module):
    """A ResNet basic block (no conv biases, BatchNorm, relu reused, identity or 1x1 skip)."""

    def __init__(self, c: int, out: int, stride: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(c, out, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.c2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(out)
        self.down = nn.Sequential(nn.Conv2d(c, out, 1, stride, bias=False),
                                  nn.BatchNorm2d(out)) if stride != 1 or c != out \
            else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.b2(self.c2(self.relu(self.b1(self.c1(x)))))
        return self.relu(out + self.down(x))


def _with_statistics(m: nn.Module) -> nn.Module:
    """m in eval mode with non-trivial BatchNorm running statistics."""
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 2.0)
    return m.eval()


def resnet(maxpool: bool = False) -> nn.Module:
    m = nn.Sequential(nn.Conv2d(3, 4, 3, 1, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                      *([nn.MaxPool2d(3, 2, 1)] if maxpool else []),
                      Basic(4, 4, 1), Basic(4, 8, 2), Basic(8, 8, 1),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))
    return _with_statistics(m)


def resnet18(w: int = 4) -> nn.Module:
    """bench/cnn_bench.py's ResNet-18 with channel widths w, 2w, 4w, 8w (7x7 stride-2 stem,
    3x3 max pool, four stages of two basic blocks)."""
    blocks: list[nn.Module] = []
    c = w
    for out, stride in ((w, 1), (2 * w, 2), (4 * w, 2), (8 * w, 2)):
        blocks += [Basic(c, out, stride), Basic(out, out, 1)]
        c = out
    m = nn.Sequential(nn.Conv2d(3, w, 7, 2, 3, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                      nn.MaxPool2d(3, 2, 1), *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                      nn.Linear(c, 10))
    return _with_statistics(m)


class Reuse(nn.Module):
    """One max pool and one relu module called twice (names repeat: ``/dupN``)."""

    def __init__(self) -> None:
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 1, 1), nn.Conv2d(1, 1, 1)
        self.pool, self.act = nn.MaxPool2d(2), nn.ReLU()
        self.fc = nn.Linear(1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(self.c1(x))  # pending entries into a max pool
        h = self.act(self.act(h))  # the second call reads a source: named after the module
        h = self.pool(self.act(self.c2(torch.cat([h, h + 1], 2))))
        return self.fc(h.flatten(1))


class Branches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(1, 2, 1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.cat([F.relu(self.a(x)), F.leaky_relu(self.b(x), 0.2)], 1).relu()
        return self.fc(F.adaptive_avg_pool2d(h, 1).view(1, -1))


class Conv1d(nn.Module):
    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.c = nn.Conv1d(2, 3, rng.choice([1, 2, 3]), padding=rng.choice([0, 1]),
                           stride=rng.choice([1, 2]))
        self.p = rng.choice([nn.MaxPool1d(2), nn.AvgPool1d(2), nn.Identity()])
        self.a = rng.choice(ACTS)()
        self.fc = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.adaptive_avg_pool1d(self.p(self.a(self.c(x))), 1).flatten(1))


class Shuffle(ShuffleUnit):
    """ShuffleNetV2's unit, then a permutation and a concatenation."""

    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(4, 3, 1)
        self.fc = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, p, q = self.unit(x)
        h = F.relu(self.c(torch.cat([q, p.permute(0, 1, 3, 2)], 1)))
        return self.fc(F.adaptive_avg_pool2d(h, 1).flatten(1))


class Means(nn.Module):
    """Global average pools written as means (ShuffleNetV2, EfficientNet's heads)."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(2, 3, 3), nn.Conv2d(3, 3, 1)
        self.fc = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.a(x))
        g = F.relu(self.b(h))
        return self.fc(torch.mean(h, (2, 3), keepdim=True).flatten(1) + g.mean([-1, 2]))


class SE(nn.Module):
    """Squeeze-and-excitation (MobileNetV3, EfficientNet): a gate ``s * x``, s broadcast
    over the positions."""

    def __init__(self, c: int, gate: nn.Module) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(c, 2, 1), nn.Conv2d(2, c, 1)
        self.gate = gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(x, 1))))
        return self.gate(s) * x


class Gated(nn.Module):
    """Products and quotients of tensors and smooth functions: ``kind`` picks the layer
    after the convolution; a GLU-style gate (chunk, sigmoid, product) ends every one."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.c = nn.Conv2d(2, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.se = SE(3, nn.Hardsigmoid() if kind == "se" else nn.Sigmoid())
        self.gelu = nn.GELU()
        self.fc = nn.Linear(3 * 16, 4)
        self.out = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.c(x)
        k = self.kind
        if k in ("se", "se sigmoid"):
            h = self.se(F.hardswish(self.bn(h)))
        elif k == "swish by hand":
            h = h * torch.sigmoid(h)
        elif k == "silu":
            h = F.silu(self.bn(h))
        elif k == "gelu":
            h = self.gelu(h)
        elif k == "tanh method":
            h = F.relu(h).tanh()
        elif k == "quotient":
            h = F.relu(h) / torch.sigmoid(h)
        elif k == "square":
            h = h * h
        g = self.fc(h.flatten(1))
        a, b = g.chunk(2, 1)
        return self.out(F.relu(a) * torch.sigmoid(b))


def _seq(*layers: nn.Module) -> nn.Module:
    return nn.Sequential(*layers).eval()


HAND: dict[str, tuple[Any, tuple[int, ...], str]] = {
    "resnet": (resnet, (1, 3, 8, 8), "T7"),
    "resnet with a max pool": (lambda: resnet(True), (1, 3, 8, 8), "none"),
    "resnet-18, narrow": (resnet18, (1, 3, 16, 16), "none"),  # the max pool's ties
    "reused modules": (Reuse, (1, 1, 2, 4), "none"),
    "branches": (Branches, (1, 1, 4, 4), "none"),
    "shuffle": (Shuffle, (1, 4, 4, 4), ""),
    "means": (Means, (1, 2, 4, 4), ""),
    "mlp + BatchNorm1d": (lambda: _seq(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(),
                                       nn.Linear(4, 2)), (1, 3), "T6"),
    "mlp + hardtanh": (lambda: _seq(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Hardtanh(),
                                    nn.Linear(4, 2)), (1, 3), "T6_dense_every_choice"),
    "conv to one position": (lambda: _seq(nn.Conv2d(1, 2, 3), nn.Hardtanh(), nn.Flatten(),
                                          nn.Linear(2, 1)), (1, 1, 3, 3),
                             "T6_dense_every_choice"),
    "tied conv": (lambda: _seq(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.Flatten(),
                               nn.Linear(8, 1)), (1, 1, 3, 3), "T7"),
    **{f"conv1d {i}": (lambda i=i: Conv1d(random.Random(i)).eval(), (1, 2, 5), "")
       for i in range(8)},
    **{f"gated: {k}": (lambda k=k: _with_statistics(Gated(k)), (1, 2, 4, 4), t)
       for k, t in (("se", "none"), ("se sigmoid", "none"), ("swish by hand", "T6"),
                    ("silu", "T6"), ("gelu", "T6"), ("tanh method", "T7"),
                    ("quotient", "none"), ("square", "T6"))},
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_the_graph_coverage_is_the_irs_on_hand_written_models(name: str) -> None:
    make, shape, theorem = HAND[name]
    torch.manual_seed(0)
    m = make()
    assert _compare(m, shape)
    g = graph_coverage(torch.fx.symbolic_trace(m), m, 4, "pytorch", shape)
    assert g is not None and (not theorem or g.theorem == theorem), g


def test_repeated_names_get_the_irs_dup_suffix() -> None:
    m = Reuse().eval()
    facts = structure_facts(torch.fx.symbolic_trace(m), m, (1, 1, 2, 4))
    assert "pool[0,0,0]/tie2/dup2" in facts.lacking and "act[0,0,0]" in facts.lacking


class Recurrent(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inp, self.c = nn.Conv2d(1, 2, 1), nn.Conv2d(2, 2, 3, padding=1)
        self.fc = nn.Linear(2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.c(torch.relu(self.c(torch.relu(self.inp(x))))))
        return self.fc(F.adaptive_avg_pool2d(h, 1).flatten(1))


def test_no_answer_where_the_structure_is_not_modelled() -> None:
    """A recurrence (one conv applied twice: its class reads itself) and a parameter used
    as a weight outside a module."""
    m = Recurrent().eval()
    gm = torch.fx.symbolic_trace(m)
    assert not coverage(from_module(m, torch.zeros(1, 1, 3, 3)), 1).ordered
    with pytest.raises(NotModelled, match="its own bias class"):
        structure_facts(gm, m, (1, 1, 3, 3))
    assert graph_coverage(gm, m, 1, "pytorch", (1, 1, 3, 3)) is None

    class Functional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.ones(2, 2))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(F.linear(x, self.w))

    f = Functional()
    assert graph_coverage(torch.fx.symbolic_trace(f), f, 1, "pytorch", (1, 2)) is None


def _audit_json(tmp: Path, m: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
    torch.save(m, tmp / "m.pt")
    torch.save({"x": x, "y": y}, tmp / "b.pt")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["audit", str(tmp / "m.pt"), "--batch", str(tmp / "b.pt"), "--loss", "ce",
                   "--json", "--trust-model"])
    assert rc == 0
    return json.loads(buf.getvalue())


def test_an_audit_above_the_import_limit_reports_the_theorem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ResNet-style model, above a lowered exact import limit: the tensor filter alone
    decides, and the theorem (T7: tied BatchNorm biases, identity skips) comes from the
    graph; the same keys as the IR's audit below the limit."""
    torch.manual_seed(0)
    m = resnet()
    x, y = torch.randint(0, 17, (3, 3, 8, 8)).float() / 16, torch.tensor([0, 1, 2])
    ir = _audit_json(tmp_path, m, x, y)
    monkeypatch.setenv("ADCORRECT_MAX_EXACT_MODEL_PARAMS", "100")
    above = _audit_json(tmp_path, m, x, y)
    assert above["exact"]["filter"] == "tensor"
    assert above["theorem"]["applies"] == "T7"
    for k in ("theorem", "bias_network", "single_bias_network", "no_exclusive_bias"):
        assert above[k] == ir[k], k
    aud = Auditor(m, x, "ce")
    assert aud.net is None


def test_an_audit_keeps_the_old_answer_where_the_graph_gives_none(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADCORRECT_MAX_EXACT_MODEL_PARAMS", "10")
    torch.manual_seed(0)
    m = Recurrent().eval()
    x = torch.rand(2, 1, 3, 3)
    res = Auditor(m, x, "sum").audit(x, torch.ones(2))
    assert res["theorem"]["applies"] is None and res["bias_network"] is None
    assert res["theorem"]["why"].startswith("structure not analysed")


@pytest.mark.parametrize(("kind", "pool", "theorem"), [
    ("se", True, "none"), ("silu", False, "T6_batch_ad_correct_smooth_tau_built")])
def test_a_gated_model_is_audited_without_its_neurons(kind: str, pool: bool,
                                                      theorem: str) -> None:
    """Squeeze-and-excitation and GLU gates (products of tensors) and smooth functions are
    read from the graph: where the tensor filter decides, the audit's theorem keys are
    the IR's, read for smooth pre-activations; with a max pool first (the tensor filter
    goes first), the first audit imports no neuron (the IR import took 2.9 s of 3 on a
    small MobileNetV3)."""
    torch.manual_seed(0)
    m = _with_statistics(nn.Sequential(nn.MaxPool2d(2) if pool else nn.Identity(),
                                       Gated(kind)))
    side = 8 if pool else 4
    x, y = torch.randint(0, 17, (3, 2, side, side)).float() / 16, torch.tensor([0, 1, 0])
    aud = Auditor(m, x, "ce")
    aud.tensor_first = True
    res = aud.audit(x, y)
    assert res["exact"]["filter"] == "tensor" and res["exact"]["undecided"] is None
    assert aud.net is None or not pool
    net = from_module(m, torch.zeros(1, 2, side, side))
    assert net.is_smooth
    assert res["theorem"] == smooth_coverage(net, 3, "pytorch")
    assert res["theorem"]["applies"] == theorem
    assert res["single_bias_network"] is (kind == "silu")


SMOOTH = [nn.Sigmoid, nn.Tanh, nn.GELU, nn.SiLU, nn.Softplus]


class GatedNet(nn.Module):
    """A random CNN with a gate: squeeze-and-excitation, a self-gate ``h * sigmoid(h)``, a
    product or a quotient of two branches; kinked and smooth activations, biases present
    or not."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        c = rng.choice([2, 3])
        bias = (lambda: rng.random() < 0.7)
        self.c1 = nn.Conv2d(1, c, 3, padding=1, bias=bias())
        self.a1 = rng.choice(ACTS + SMOOTH)()
        self.kind = rng.choice(["se", "self", "branches", "quotient"])
        self.se = SE(c, rng.choice([nn.Sigmoid, nn.Hardsigmoid])())
        self.c2, self.c3 = nn.Conv2d(c, c, 1, bias=bias()), nn.Conv2d(c, c, 3, padding=1,
                                                                      bias=bias())
        self.a2 = rng.choice(ACTS + SMOOTH)()
        self.fc1, self.a3, self.fc2 = nn.Linear(c, 3, bias=bias()), rng.choice(ACTS)(), \
            nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.a1(self.c1(x))
        if self.kind == "se":
            h = self.se(h)
        elif self.kind == "self":
            h = h * torch.sigmoid(h)
        elif self.kind == "branches":
            h = self.c2(h) * self.a2(self.c3(h))
        else:
            h = self.a2(self.c2(h)) / torch.sigmoid(self.c3(h))
        return self.fc2(self.a3(self.fc1(F.adaptive_avg_pool2d(h, 1).flatten(1))))


def test_the_graph_coverage_is_the_irs_on_random_gated_models() -> None:
    answered, seen = 0, set()
    for seed in range(60):
        rng = random.Random(seed)
        torch.manual_seed(seed)
        m = _freeze_some(GatedNet(rng), rng, 0.1)
        if _compare(m, (1, 1, 4, 4)):
            answered += 1
            gm = torch.fx.symbolic_trace(m)
            seen.add(graph_coverage(gm, m, 4, "pytorch", (1, 1, 4, 4)).theorem)  # type: ignore[union-attr]
    assert answered == 60 and seen == {"none", "T6", "T6_dense_every_choice", "T7"}, seen
