"""Selections: ``torch.max``/``min`` over a dimension, ``amax``/``amin``, comparisons and
``torch.where``.  Each model's exact AD (choice "pytorch", the exact engine over the
batch) equals torch's float64 autograd component by component, on dyadic parameters and
inputs chosen so that ties and kinks occur (every float64 operation is then exact, which
the test checks on the outputs first); and what is not modelled is refused with one line."""

from __future__ import annotations

from fractions import Fraction as Q

import pytest
import torch
from adcorrect.core.errors import InputError
from adcorrect.exact.engine import backward, forward, is_zero, kink_neurons
from adcorrect.nets.batch import Batch, batched
from adcorrect.torch import from_module
from certad import Applied
from torch import nn

D = torch.float64


class MaxDim(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(3, 4)
        self.o = nn.Linear(6, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.a(x).reshape(-1, 2, 2)
        return self.o(torch.cat([h.max(2).values, torch.min(h, dim=1)[0],
                                 torch.amax(h, 1, keepdim=True).reshape(-1, 2)], 1))


class Where(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(3, 4)
        self.o = nn.Linear(12, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.a(x)
        leaky = torch.where(h > 0, h, 0.25 * h)
        clip = torch.where(h.le(0.5), h, 0.5)  # min(h, 1/2), derivative 1 at 1/2
        zero = torch.where(0 >= h, torch.zeros(()), h)  # relu written by hand, 0 at 0
        return self.o(torch.cat([leaky, clip, zero], 1))


class MaskedWhere(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(3, 4)
        self.register_buffer("mask", torch.tensor([True, False, True, False]))
        self.register_buffer("keep", torch.tensor([0.0, 1.0, 1.0, 0.0]))
        self.o = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.a(x))
        return self.o(torch.where(self.mask, h, -h) + torch.where(self.keep != 0, h, 2 * h))


def _setup(model: nn.Module) -> tuple[nn.Module, torch.Tensor]:
    """Dyadic parameters; the first layer's rows make ties and kinks: units 0 and 1 equal,
    unit 2 zero at every input with x_0 = 0, unit 3 = 1/2 at x = (1, 0, 0)."""
    model = model.to(D)
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randint(-4, 5, p.shape, generator=g, dtype=D) / 4)
        model.a.weight.copy_(torch.tensor([[1, 0.5, 0], [1, 0.5, 0], [1, 0, 0],
                                           [0.25, 0, 0.5]], dtype=D))
        model.a.bias.copy_(torch.tensor([0, 0, 0, 0.25], dtype=D))
    x = torch.tensor([[0, 1, 0], [1, 0, 0], [0, 0, 1], [-1, 0.5, 0], [0.5, -1, 0]], dtype=D)
    return model, x


def _exact_vs_torch(model: nn.Module, x: torch.Tensor) -> int:
    """Asserts exact AD == autograd; returns the number of live kinked neurons."""
    B = x.shape[0]
    y = torch.tensor([[1.0], [-0.5], [2.0], [1.0], [-1.0]], dtype=D)
    net = from_module(model, x[:1])
    rows = tuple(tuple(Q(v) for v in x[i].tolist()) for i in range(B))
    ys = tuple(tuple(Q(v) for v in y[i].tolist()) for i in range(B))
    bnet = batched(net, Batch(rows, ys), "sum")
    w = bnet.values
    assert w is not None
    fw = forward(bnet, w)
    bw = backward(bnet, w, fw, "pytorch")
    model.zero_grad()
    out = model(x)
    assert [Q(v) for v in out.reshape(-1).tolist()] == [fw.z[o] for o in bnet.outputs]
    (y * out).sum().backward()
    tg = [Q(v) for p in model.parameters() for v in p.grad.reshape(-1).tolist()]
    assert tg == list(bw.grad)
    return sum(1 for k in kink_neurons(bnet, fw) if not is_zero(bw.zbar[k]))


@pytest.mark.parametrize("model", [MaxDim, Where, MaskedWhere])
def test_exact_ad_equals_autograd_at_ties_and_kinks(model: type[nn.Module]) -> None:
    m, x = _setup(model())
    assert _exact_vs_torch(m, x) > 0  # some tie or kink is live: the choice is tested


def test_where_activations_and_choices() -> None:
    """torch.where(h > 0, h, h/4) is leaky relu with PyTorch's slope 1/4 at 0 (the
    condition is false there); h.le(1/2) selects h at 1/2 (slope 1); a branch that is
    not affine in the compared value, or a jump, is refused."""
    m, x = _setup(Where())
    net = from_module(m, x[:1])
    names = {n.activation.name: n.activation for n in net.neurons}
    assert names["where(x>0,x,1/4x)"].torch_choice == (Q(1, 4),)
    assert names["where(x<=1/2,x,1/2)"].torch_choice == (Q(1),)
    assert names["where(x<=0,0,x)"].torch_choice == (Q(0),)


class _Jump(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.a(x)
        return torch.where(h > 0, h + 1, h)


class _Foreign(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(2, 2)
        self.b = nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(self.a(x) > 0, self.b(x), 0.0)


class _Indices(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(2, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x).max(1).indices.float()


class _AmaxWide(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(2, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.amax(self.a(x), dim=1, keepdim=True)


@pytest.mark.parametrize("model,needle", [
    (_Jump(), "is discontinuous at 0"),
    (_Foreign(), "each branch must be an affine function of the compared value"),
    (_Indices(), "indices of torch.max"),
    (_AmaxWide(), "torch.amax over 4 entries"),
    (Applied(lambda h: h.max()), "includes the batch axis"),
    (Applied(lambda h: torch.max(h, 0).values), "over the batch axis"),
    (Applied(lambda h: (h > 0).float()), "used other than as the condition of torch.where"),
    (Applied(lambda h: torch.where(h > 2 * h, h, 0.0)), "with a constant"),
    (Applied(lambda h: torch.where(h == 0, h, 0.0)), "measure zero"),
])
def test_refused_with_one_line(model: nn.Module, needle: str) -> None:
    with pytest.raises(InputError, match=needle) as e:
        from_module(model, torch.zeros(1, 2))
    assert "\n" not in str(e.value)


def test_audit_keeps_selections_out_of_the_execution_match() -> None:
    """torch.where and max reductions are selection neurons, like max-pool ties: the exact
    side counts their kinks, and the execution audit's activation calls still match the
    IR's activation neurons one to one (relu's here)."""
    from adcorrect.audit.run import Auditor

    m, x = _setup(MaskedWhere())
    model = nn.Sequential(m, nn.Flatten())  # relu calls next to where
    model = model.float()
    xf = x.float()
    res = Auditor(model, xf, "mse", name="w").audit(xf, torch.zeros(5, 1))
    assert res["activations"] == ["relu"]
    assert res["exact"]["kinked"] > 0
    assert res["differ"]["matched"] is True
    m2, x2 = _setup(Where())
    res2 = Auditor(m2.float(), x2.float(), "mse", name="w2").audit(x2.float(), torch.zeros(5, 1))
    assert res2["activations"] == [] and res2["differ"]["matched"] is True
