"""LayerNorm, Linear over the last axis of a larger input and means over tokens in the
tensor filter (audit/tnorm.py, audit/tconv.py, tinterp's means): the exact outputs at
points of the input box, in Arb balls, lie within the radii of the float64, the
double-double and the tangent passes; and on token models (a patch embedding, LayerNorm,
token-wise and channel-wise Linear layers, relu-like activations, a mean over tokens,
a channels-last ConvNeXt-style block) the tensor filter's answer is the IR path's."""

from __future__ import annotations

import random
from fractions import Fraction
from types import SimpleNamespace

import pytest
import torch
from adcorrect.audit.certified import NOQ
from adcorrect.audit.run import Auditor
from adcorrect.audit.tdd import DD
from adcorrect.audit.tkernels import CT
from adcorrect.audit.tnorm import layer_norm_call
from flint import arb
from test_tfilter import _same
from test_tnorm import _arb, exact_bn_point, points
from torch import nn

F = nn.functional
F64 = torch.float64

pytestmark = pytest.mark.usefixtures("float32_default")


def _rows(t: torch.Tensor, k: int) -> list[list[Fraction]]:
    n = 1
    for s in t.shape[t.dim() - k:]:
        n *= s
    return [[Fraction(float(v)) for v in row] for row in t.reshape(-1, n)]


def _exact(rows: list[list[Fraction]], g: list[float], b: list[float], eps: float
           ) -> list[list[arb]]:
    """LayerNorm of each row (exact rationals), times g plus b entry by entry, in Arb."""
    out = []
    for row in rows:
        n = exact_bn_point([[_arb(v) for v in row]], [arb(1)], [arb(0)], eps)[0]
        out.append([_arb(Fraction(g[j])) * n[j] + _arb(Fraction(b[j]))
                    for j in range(len(row))])
    return out


def _case(seed: int, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor,
                                      torch.Generator]:
    gen = torch.Generator().manual_seed(seed)
    shape = (2, 3, 4) if k == 1 else (2, 2, 3, 2)
    V = torch.randn(shape, generator=gen, dtype=F64) * 2.0 ** (seed - 1)
    V[1, 0] = 0.75  # a flat row: exactly beta
    R = torch.rand(shape, generator=gen, dtype=F64) * 1e-7 * (seed % 2)
    ns = shape[len(shape) - k:]
    w, b = torch.randn(ns, generator=gen), torch.randn(ns, generator=gen)
    return V, R, w, b, gen


def _call(x: CT, k: int, w: torch.Tensor, b: torch.Tensor,
          dirs: dict[int, torch.Tensor] | None = None) -> CT:
    return layer_norm_call(x, tuple(x.V.shape[x.V.dim() - k:]), w, b, 1e-5,
                           lambda fn, *a: fn(*a), lambda p: (dirs or {}).get(id(p)),
                           SimpleNamespace(smooth=set(), terms=0))


def _ct(V: torch.Tensor, R: torch.Tensor, **kw: object) -> CT:
    return CT(V, R, torch.full(V.shape, -NOQ, dtype=torch.int64),
              torch.zeros(V.shape, dtype=torch.bool), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("seed", range(3))
def test_outputs_enclose_the_exact_ones(seed: int, k: int) -> None:
    V, R, w, b, gen = _case(seed, k)
    out = _call(_ct(V, R), k, w, b)
    g, bb = w.reshape(-1).tolist(), b.reshape(-1).tolist()
    for t in points(V, R, gen):
        ex = _exact(_rows(V + R * t, k), g, bb, 1e-5)
        got = _rows(out.V, k)
        rad = out.R.reshape(len(got), -1)
        for i, row in enumerate(got):
            for j, v in enumerate(row):
                assert abs(ex[i][j] - _arb(v)).upper() <= arb(float(rad[i, j])), (i, j)
    if seed % 2 == 0:  # an exact flat row is its beta, exactly
        row = out.V[1, 0].reshape(-1)
        assert row.eq(b.to(F64).reshape(-1)[:row.numel()]).all() or k == 2
        assert out.R[1, 0].eq(0).all()


@pytest.mark.parametrize("seed", range(2))
def test_double_double_outputs_enclose_the_exact_ones(seed: int) -> None:
    V, _, w, b, gen = _case(seed + 10, 1)
    L = V * torch.randn(V.shape, generator=gen, dtype=F64) * 2.0 ** -54
    R = torch.rand(V.shape, generator=gen, dtype=F64) * 2.0 ** -80 * seed
    out = _call(_ct(V, torch.zeros_like(V), D=DD(V, L, R)), 1, w, b).D
    assert out is not None
    g, bb = w.tolist(), b.tolist()
    for t in points(V, R, gen):
        ex = _exact([[Fraction(float(h)) + Fraction(float(lo)) + Fraction(float(r)) *
                      Fraction(float(s)) for h, lo, r, s in zip(*rows)]
                     for rows in zip(*(u.reshape(-1, 4).tolist() for u in (V, L, R, t)))],
                    g, bb, 1e-5)
        H, Lo, Ro = (u.reshape(-1, 4) for u in (out.H, out.L, out.R))
        for i in range(H.shape[0]):
            for j in range(4):
                got = Fraction(float(H[i, j])) + Fraction(float(Lo[i, j]))
                assert abs(ex[i][j] - _arb(got)).upper() <= arb(float(Ro[i, j]))
    if seed == 0:
        live = out.H.abs() > 0
        assert float((out.R[live] / out.H[live].abs()).max()) < 1e-25


@pytest.mark.parametrize("seed", range(2))
def test_tangent_encloses_the_exact_directional_derivative(seed: int) -> None:
    """Against a central difference quotient in Arb (step 2^-150) at points of the box,
    along an input tangent and weight and bias directions."""
    V, R, w, b, gen = _case(seed + 20, 1)
    tv = torch.randn(V.shape, generator=gen, dtype=F64)
    dg, db = (torch.randn(4, generator=gen, dtype=F64) for _ in range(2))
    out = _call(_ct(V, R, T=(tv, torch.zeros_like(V))), 1, w, b, {id(w): dg, id(b): db})
    assert out.T is not None
    ov, orad = (u.reshape(-1, 4) for u in out.T)
    h = arb(2) ** -150
    for t in points(V, R, gen)[:3]:
        for i, (row, d) in enumerate(zip(_rows(V + R * t, 1), _rows(tv, 1))):
            s = [_arb(v) for v in row]
            du = [_arb(v) for v in d]
            up = exact_bn_point([[a + h * u for a, u in zip(s, du)]], [arb(1)], [arb(0)],
                                1e-5)[0]
            dn = exact_bn_point([[a - h * u for a, u in zip(s, du)]], [arb(1)], [arb(0)],
                                1e-5)[0]
            for j in range(4):
                ga, da = _arb(Fraction(float(w[j]))), _arb(Fraction(float(dg[j])))
                ba = _arb(Fraction(float(db[j])))
                yu = (ga + h * da) * up[j] + _arb(Fraction(float(b[j]))) + h * ba
                yd = (ga - h * da) * dn[j] + _arb(Fraction(float(b[j]))) - h * ba
                dev = abs((yu - yd) / (2 * h) - _arb(Fraction(float(ov[i, j]))))
                assert dev.upper() <= arb(float(orad[i, j])) + arb(2) ** -200, (i, j)


class Tokens(nn.Module):
    """A patch embedding to tokens, LayerNorm (module, functional, without affine), a
    token-mixing and a channel-mixing Linear with relu-like activations, a mean over
    tokens, a head; or a channels-last ConvNeXt-style block."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.kind = rng.choice(["mixer", "mixer", "convnext"])
        self.patch = nn.Conv2d(1, 4, 2, 2)
        self.n1 = rng.choice([lambda: nn.LayerNorm(4), lambda: nn.LayerNorm(
            4, elementwise_affine=False), lambda: nn.LayerNorm([9, 4])])()
        self.functional = rng.random() < 0.3
        self.tok = nn.Linear(9, 9, bias=rng.random() < 0.8)
        self.ch = nn.Linear(4, 4)
        self.dw = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.a1, self.a2 = (rng.choice([nn.ReLU, lambda: nn.LeakyReLU(0.1), nn.Hardtanh,
                                        lambda: nn.GELU("tanh")])() for _ in range(2))
        self.cw, self.cb = nn.Parameter(torch.randn(4)), nn.Parameter(torch.randn(4))
        self.head = nn.Linear(4, 3)

    def norm(self, h: torch.Tensor) -> torch.Tensor:
        m = self.n1
        if self.functional and isinstance(m, nn.LayerNorm):
            return F.layer_norm(h, m.normalized_shape, m.weight, m.bias, m.eps)
        return m(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.patch(x)  # (B, 4, 3, 3)
        if self.kind == "convnext":
            h = self.dw(p).permute(0, 2, 3, 1)  # channels last
            h = self.ch(self.a1(F.layer_norm(h, (4,), self.cw, self.cb)))
            h = p + h.permute(0, 3, 1, 2)
            return self.head(self.a2(h.mean((2, 3))))
        t = p.flatten(2).transpose(1, 2)  # (B, 9 tokens, 4)
        t = t + self.a2(self.ch(t))  # exact values: kinks happen
        t = t + self.tok(self.a1(self.norm(t)).transpose(1, 2)).transpose(1, 2)
        return self.head(t.mean(1))


def _tokens(seed: int) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    rng = random.Random(seed)
    torch.manual_seed(seed)
    m = Tokens(rng)
    with torch.no_grad():
        for p in m.parameters():  # coarse values: exact kinks happen
            p.copy_((p * 16).round() / 16)
    x = torch.randint(-2, 3, (3, 1, 6, 6)).float()
    return m.eval(), x, torch.randint(0, 3, (3,))


def test_token_models_agree_with_the_ir_path() -> None:
    """Every seed runs through the tensor filter (no Unsupported); where it decides, its
    answer is the IR path's: 23 of 24 seeds, 3 with kinked copies, all 3 certified not
    differentiable by one-sided derivatives."""
    decided = kinked = ndf = 0
    for seed in range(24):
        m, x, y = _tokens(seed)
        aud = Auditor(m, x, "ce", time_limit=20)
        assert aud.tfilter is not None
        aud.tfilter.run(x)
        aud.tensor_first = True
        tensor = aud.audit(x, y)
        if tensor["exact"].get("filter") != "tensor":
            continue
        decided += 1
        kinked += tensor["exact"]["kinked"] > 0
        ndf += tensor["exact"]["differentiable"] is False
        aud.tfilter = None
        _same(tensor, aud.audit(x, y))
    assert (decided, kinked, ndf) == (23, 3, 3)


@pytest.mark.parametrize("large", [False, True])
def test_structure_keys_import_the_ir_only_when_small(large: bool,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """LayerNorm is not modelled by the graph walk (audit/tcoverage.py): the structure keys
    of a batch the tensor filter decides come from the IR, imported for them, unless the
    filter counts more IR terms than STRUCTURE_TERMS (a 4-block ViT of width 64 took 40 s):
    then they say so, and the IR stays unimported."""
    from adcorrect.audit import tresult

    if large:
        monkeypatch.setattr(tresult, "STRUCTURE_TERMS", 10)
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 4, 2, 2), nn.MaxPool2d(1), nn.Flatten(2), nn.LayerNorm(9),
                      nn.Flatten(), nn.Linear(36, 3)).eval()
    x, y = torch.rand(2, 1, 6, 6), torch.tensor([0, 2])
    aud = Auditor(m, x, "ce")
    res = aud.audit(x, y)
    assert res["exact"]["filter"] == "tensor" and res["exact"]["differentiable"] is True
    if large:
        assert aud.net is None and res["theorem"]["applies"] is None
        assert "not modelled" in res["theorem"]["why"] and "terms" in res["theorem"]["why"]
    else:
        assert aud.net is not None and res["theorem"]["applies"] is not None


def test_an_imported_ir_above_the_size_rule_is_not_analysed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An MLP with LayerNorm goes to the IR first (imported at construction); above
    STRUCTURE_TERMS its coverage is not computed for a batch the tensor filter decides
    (it took as long as the import: 50 s of a 4-block ViT's 107 s first audit)."""
    from adcorrect.audit import tresult

    monkeypatch.setattr(tresult, "STRUCTURE_TERMS", 10)
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6), nn.ReLU(), nn.Linear(6, 3)).eval()
    x, y = torch.rand(3, 4), torch.tensor([0, 2, 1])
    aud = Auditor(m, x, "ce")
    assert aud.net is not None
    aud.tensor_first = True
    res = aud.audit(x, y)
    assert res["exact"]["filter"] == "tensor" and res["theorem"]["applies"] is None
    assert "too large to analyse" in res["theorem"]["why"]
