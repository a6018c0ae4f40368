"""relu's tangent in the tensor filter's one-sided derivatives
(:func:`adcorrect.audit.ttangent.activation`): the incoming tangent itself (a product by
1) where the input is positive or on the kink with a positive tangent, exactly 0
elsewhere; the general piecewise route, run on the same copies, gives the same values
within its (wider) radii, and a kinked copy whose tangent has no certain sign still
refuses the certificate."""

from __future__ import annotations

import pytest
import torch
from adcorrect.audit import ttangent
from adcorrect.audit.floatact import act_table
from adcorrect.nets.activations import relu

F64 = torch.float64


def _copies(seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    n = 400
    V = torch.randn(n, generator=g, dtype=F64)
    V[::7] = 0.0  # kinked copies: exact zeros
    R = torch.where(V == 0, 0.0, V.abs() * 1e-9)
    kink = V == 0
    const = torch.rand(n, generator=g) < 0.2
    tv = torch.randn(n, generator=g, dtype=F64)
    tv[::21] = 0.0
    tr = torch.where(tv == 0, 0.0, tv.abs() * 1e-3)
    return V, R, kink, const, tv, tr


@pytest.mark.parametrize("seed", range(5))
def test_relu_tangent_is_exact_and_within_the_general_route(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    tab = act_table(relu())
    V, R, kink, const, tv, tr = _copies(seed)
    v, r = ttangent.activation(tab, V, R, kink, const, (tv, tr),
                               lambda: ttangent.slopes(None, None, tab, V, R))
    keep = ((V > 0) | (kink & (tv > tr))) & ~const
    assert torch.equal(v, torch.where(keep, tv, 0.0))
    assert torch.equal(r, torch.where(keep, tr, 0.0))
    monkeypatch.setattr(ttangent, "is_relu", lambda t: False)
    gv, gr = ttangent.activation(tab, V, R, kink, const, (tv, tr),
                                 lambda: ttangent.slopes(None, None, tab, V, R))
    assert bool(((v - gv).abs() <= gr).all()) and bool((r <= gr).all())


def test_a_kinked_copy_without_a_certain_tangent_sign_refuses() -> None:
    tab = act_table(relu())
    V = torch.tensor([0.0, 1.0], dtype=F64)
    with pytest.raises(ttangent.NoCertificate):
        ttangent.activation(tab, V, torch.zeros(2, dtype=F64), V == 0,
                            torch.zeros(2, dtype=torch.bool),
                            (torch.tensor([1e-3, 1.0], dtype=F64),
                             torch.tensor([1e-2, 0.0], dtype=F64)), lambda: (V, V))
