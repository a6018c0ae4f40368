"""BatchNorm in training mode through the tensor filter (audit/tnorm.py): the whole-batch
import waits until a batch needs it, and the filter's verdicts agree with the
whole-batch certified oracle's (the route every such audit took before)."""

from __future__ import annotations

import torch
from adcorrect.audit.run import Auditor
from torch import nn


class ConvBN(nn.Module):
    """conv - BatchNorm2d - relu - pool (max or average) - conv - BatchNorm2d - relu +
    residual - head."""

    def __init__(self, pool: str) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(2) if pool == "max" else nn.AvgPool2d(2)
        self.c1, self.b1 = nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4)
        self.c2, self.b2 = nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 3 * 3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(torch.relu(self.b1(self.c1(x))))
        h = torch.relu(self.b2(self.c2(h)) + h)
        return self.fc(h.flatten(1))


def mlp_bn() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 6),
                         nn.BatchNorm1d(6, affine=False), nn.ReLU(), nn.Linear(6, 3))


def oracle(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict:
    """The audit by the whole-batch import alone (the tensor filter switched off)."""
    aud = Auditor(model, x, "ce")
    aud.tfilter = None
    return aud.audit(x, y)


def verdict(res: dict) -> tuple:
    ex = res["exact"]
    return ex["kinked"], ex["differentiable"], ex["ns"], ex["inc"]


def test_filter_verdicts_agree_with_the_whole_batch_oracle() -> None:
    decided = compared = 0
    for seed in range(8):
        torch.manual_seed(seed)
        cnn = seed % 2 == 0
        model = (ConvBN("max" if seed % 4 == 0 else "avg") if cnn else mlp_bn()).train()
        x = torch.randint(0, 17, (4, 1, 6, 6) if cnn else (5, 4)).float() / 16
        y = torch.randint(0, 3, (x.shape[0],))
        aud = Auditor(model, x, "ce")
        assert aud.deferred and aud.whole == {}  # no whole-batch import yet
        res = aud.audit(x, y)
        if res["exact"].get("filter") == "tensor":
            assert aud.whole == {}
            decided += 1
        ref = oracle(model, x, y)
        if ref["exact"]["undecided"] is None:  # max-pool ties of dead relus stop it (0, 4)
            compared += 1
            assert verdict(res) == verdict(ref), seed
            assert [v["exact"] for v in res["verdicts"]] == \
                [v["exact"] for v in ref["verdicts"]]
    assert decided == 8  # random parameters put no copy near a live kink
    assert compared == 6


def kinked_bn(zero_adjoint: bool) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """An input column of zeros and a first-layer row reading only it make channel 0
    constant over the batch (its bias), so BatchNorm outputs beta = 0 exactly there and
    relu sits on its kink in every example (5 kinked copies); with ``zero_adjoint`` the
    next layer does not read that channel."""
    torch.manual_seed(1)
    model = mlp_bn().train()
    with torch.no_grad():
        model[0].weight[0] = torch.tensor([1.0, 0.0, 0.0, 0.0])
        if zero_adjoint:
            model[3].weight[:, 0] = 0.0
    x = torch.randint(0, 17, (5, 4)).float() / 16
    x[:, 0] = 0.0
    return model, x, torch.randint(0, 3, (5,))


def test_kink_with_an_adjoint_is_certified_by_tangents() -> None:
    """The tangent pass through batch statistics gives one-sided derivatives that do not
    cancel: not differentiable, decided by the tensor filter (no whole-batch import), as
    the whole-batch oracle decides; the running statistics are as before."""
    model, x, y = kinked_bn(False)
    before = [b.clone() for b in model.buffers()]
    aud = Auditor(model, x, "ce")
    res = aud.audit(x, y)
    assert res["exact"]["filter"] == "tensor" and aud.whole == {}
    assert res["exact"]["witness"]["kind"] == "L'(w; d) + L'(w; -d) != 0"
    assert verdict(res) == verdict(oracle(model, x, y)) == (5, False, True, False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.buffers()))


def test_kink_without_an_adjoint_goes_to_the_oracle() -> None:
    """The same kinks with a zero adjoint: no certificate, so the whole-batch network is
    imported for this batch and the oracle decides (differentiable), with the theorem
    analysed on it."""
    model, x, y = kinked_bn(True)
    aud = Auditor(model, x, "ce")
    res = aud.audit(x, y)
    assert res["exact"].get("filter") != "tensor" and 5 in aud.whole
    assert verdict(res) == verdict(oracle(model, x, y))
    assert res["exact"]["kinked"] == 5 and res["exact"]["differentiable"] is True
    assert res["exact"]["undecided"] is None
    assert res["theorem"]["applies"] is not None


def test_whole_batch_import_over_its_limit_is_undecided(monkeypatch) -> None:
    """Where the whole-batch network would be over ADCORRECT_MAX_WHOLE_TERMS, the batch
    the filter leaves open is undecided with that reason (no import is made)."""
    monkeypatch.setenv("ADCORRECT_MAX_WHOLE_TERMS", "10")
    model, x, y = kinked_bn(True)
    aud = Auditor(model, x, "ce")
    res = aud.audit(x, y)
    assert aud.whole == {} and "ADCORRECT_MAX_WHOLE_TERMS" in res["exact"]["undecided"]
    assert res["exact"]["differentiable"] is None


def test_deep_bn_stack_radii_stay_small() -> None:
    """Ten Linear-BatchNorm-relu layers at batch 32: every copy decided by the filter in
    float64 (the radii grow additively through batch statistics)."""
    torch.manual_seed(5)
    layers: list[nn.Module] = [nn.Linear(8, 32)]
    for _ in range(10):
        layers += [nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 32)]
    model = nn.Sequential(*layers, nn.Linear(32, 3)).train()
    x = torch.randint(0, 17, (32, 8)).float() / 16
    y = torch.randint(0, 3, (32,))
    aud = Auditor(model, x, "ce")
    found = aud.tfilter.run(x)
    assert found.live == 0 and found.pool_unc == 0
    res = aud.audit(x, y)
    assert res["exact"]["filter"] == "tensor" and res["exact"]["differentiable"] is True
    assert aud.whole == {}


def test_batch_statistics_list_the_irs_smooth_functions() -> None:
    """The IR normalises by batch statistics with ``rsqrt`` neurons and lists them among
    the activations; the tensor filter's answer lists the same (it had listed relu only)."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(2, 2)).train()
    x, y = torch.rand(3, 1, 4, 4), torch.tensor([0, 1, 0])
    aud = Auditor(m, x, "ce")
    got = aud.audit(x, y)
    assert got["exact"]["filter"] == "tensor"
    aud.tfilter = None
    ref = aud.audit(x, y)
    assert ref["exact"].get("filter") is None
    assert got["activations"] == ref["activations"] == ["relu", "rsqrt"]
