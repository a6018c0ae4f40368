"""The exact audit's local test of zero adjoints (audit/exact.py, ``locally_zero``): where
it says a kinked copy's adjoint is exactly 0, the exact engine's backward pass over the
whole example says so too; and it spares that pass on max-pool ties below the window's
maximum (the adjoints the certified float64 pass leaves with radii)."""

from __future__ import annotations

import torch
from adcorrect.audit.dtypes import parse_dtype
from adcorrect.audit.exact import _Exact, locally_zero
from adcorrect.audit.rows import Rows as _Rows
from adcorrect.audit.run import Auditor, prepared
from adcorrect.exact.engine import is_zero
from torch import nn


def pool_cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
                         nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 2 * 2, 3))  # on 10x10 inputs


def fp8_cases() -> list[tuple[nn.Module, torch.Tensor, torch.Tensor]]:
    """Six pool CNNs in e4m3fn with inputs in quarters (exact ties and zeros abound)."""
    out = []
    for seed in range(6):
        torch.manual_seed(seed)
        model, _ = prepared(pool_cnn(), parse_dtype("e4m3fn"))
        x = torch.randint(0, 5, (3, 1, 10, 10)).float() / 4
        out.append((model, x, torch.randint(0, 3, (3,))))
    return out


def test_local_zeros_are_exact_zeros() -> None:
    """CNNs in e4m3fn (many exact ties and zeros): every kinked copy locally_zero calls
    zero has an exact adjoint of 0 (the exact engine); hundreds are (608 of 2819 kinked
    copies, the others dead or with a non-zero adjoint or an undecided piece)."""
    said_zero = checked = 0
    for seed, (model, x, y) in enumerate(fp8_cases()):
        aud = Auditor(model, x, "ce", dtype=parse_dtype("e4m3fn"))
        plan = aud.plan
        xe = aud._cast(x)
        rows = _Rows(xe, y, "ce")
        w = aud.weights()
        fwd = plan.forward(w, rows.xt)
        ex = _Exact(plan.net, rows, "ce", 3, w, "pytorch", 10 ** 9)
        for k, i in fwd.kink.nonzero().tolist():
            checked += 1
            if locally_zero(plan, fwd, w.tolist(), k, i, {}, "pytorch"):
                said_zero += 1
                assert is_zero(ex.zbar(i, k)), (seed, plan.net.neurons[k].label, i)
    assert checked >= 1000 and said_zero >= 500


def test_below_the_window_maximum_needs_no_exact_backward() -> None:
    """A max pool over relu(0), relu(0), relu(1), relu(2), the zeros live kinks (the
    input is 0 and the weight and bias move it): the tie 0 = 0 and the relu kinks lie below
    the window's maximum, their adjoints exactly 0; the audit decides without the exact
    engine's backward pass (no example evaluated exactly)."""
    model = nn.Sequential(nn.Conv1d(1, 1, 1), nn.ReLU(), nn.MaxPool1d(4), nn.Flatten(),
                          nn.Linear(1, 2))
    with torch.no_grad():
        model[0].weight.fill_(1.0)
        model[0].bias.fill_(0.0)
    x = torch.tensor([[[0.0, 0.0, 1.0, 2.0]], [[2.0, 0.0, 0.0, 1.0]]])
    aud = Auditor(model, x, "ce")
    aud.ir_first, aud.tensor_first = True, False
    res = aud.audit(x, torch.tensor([0, 1]))["exact"]
    assert res["differentiable"] is True and res["kinked"] >= 4
    assert res["exact_examples"] == 0


def test_tensor_filter_zero_adjoints_agree_with_the_exact_route() -> None:
    """The tensor filter's kinked relu copies read only by a max pool and certainly below
    every window's maximum (``zadj``: zero adjoint for every choice) leave the verdict to
    the rest; on e4m3fn CNNs its verdicts equal the IR's exact route's, and it decides
    batches with such copies alone."""
    from adcorrect.audit.tfilter import TensorFilter

    with_zero = 0
    dt = parse_dtype("e4m3fn")
    for seed, (model, x, y) in enumerate(fp8_cases()):
        found = TensorFilter(model, torch.float32).run(x)
        zero = sum(int(c.zadj.sum()) for c in found.calls if c.zadj is not None)
        with_zero += zero > 0
        tensor = Auditor(model, x, "ce", dtype=dt)
        tensor.tensor_first = True
        ir = Auditor(model, x, "ce", dtype=dt)
        ir.ir_first, ir.tensor_first = True, False
        a, b = tensor.audit(x, y)["exact"], ir.audit(x, y)["exact"]
        if a.get("filter") == "tensor" and a["undecided"] is None:
            assert (a["differentiable"], a["inc"]) == (b["differentiable"], b["inc"]), seed
            assert a["ns"] == b["ns"] or a["ns"] is None, seed
            if zero and found.live == 0:
                assert a["kinked"] >= zero
                assert any(c["zbar"] == "zero" for c in a["copies"])
    assert with_zero >= 3


def test_a_kink_below_the_window_maximum_by_hand() -> None:
    """relu(0), relu(0), relu(1), relu(2) into one max pool (the zeros live kinks): the
    tensor filter calls both zeros kinked with a zero adjoint and decides alone; with
    the maximum itself on the kink (relu(0) = max over 0, -1, -1, -1 inputs) it does not
    set that copy aside."""
    from adcorrect.audit.tfilter import TensorFilter

    model = nn.Sequential(nn.Conv1d(1, 1, 1), nn.ReLU(), nn.MaxPool1d(4), nn.Flatten(),
                          nn.Linear(1, 2))
    with torch.no_grad():
        model[0].weight.fill_(1.0)
        model[0].bias.fill_(0.0)
    found = TensorFilter(model, torch.float32).run(torch.tensor([[[0.0, 0.0, 1.0, 2.0]]]))
    (call,) = found.calls
    assert call.kink.tolist() == [[True, True, False, False]]
    assert call.zadj is not None and call.zadj.tolist() == [[True, True, False, False]]
    assert found.live == 0
    found = TensorFilter(model, torch.float32).run(torch.tensor([[[0.0, -1.0, -1.0, -1.0]]]))
    (call,) = found.calls
    assert call.kink.tolist() == [[True, False, False, False]]
    assert call.zadj is not None and not bool(call.zadj.any()) and found.live >= 1
