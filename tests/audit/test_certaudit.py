"""Audits of models with smooth operations (the certified engine): known truths decided,
float-only kinks told apart from exact ones, and AD against torch's float64 autograd on
random models drawn from the new ops."""

from __future__ import annotations

import random
from fractions import Fraction as Q

import pytest
import torch
from adcorrect.audit.run import Auditor
from adcorrect.core.errors import InputError
from adcorrect.exact.certified import certified_oracle
from adcorrect.nets.batch import Batch, batched, whole_batched
from adcorrect.torchfx.importer import from_module
from certad import (
    Applied,
    assert_ad_in_enclosures,
    assert_in_enclosures,
    random_smooth_model,
)
from torch import nn

pytestmark = pytest.mark.usefixtures("float32_default")


def _tanh_then_relu(c: float) -> nn.Module:
    m = nn.Sequential(nn.Linear(1, 1), nn.Tanh(), nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 2))
    with torch.no_grad():
        m[0].weight.fill_(1.0)
        m[0].bias.fill_(0.0)
        m[2].weight.fill_(1.0)
        m[2].bias.fill_(c)
        m[4].weight.copy_(torch.tensor([[1.0], [-1.0]]))
        m[4].bias.zero_()
    return m


def test_tanh_zero_only_in_float32() -> None:
    """relu(tanh(1/2) + c) with c = -float32(tanh(1/2)): 0 in float32 (a float kink), but
    tanh(1/2) is transcendental, so the exact pre-activation is certified non-zero."""
    c = -float(torch.tanh(torch.tensor(0.5)))
    m = _tanh_then_relu(c)
    x, y = torch.tensor([[0.5]]), torch.tensor([0])
    res = Auditor(m, x, "ce").audit(x, y)
    assert res["exact"]["kinked"] == 0 and res["exact"]["differentiable"] is True
    assert res["exact"]["inc"] is False
    assert res["execution"]["float_kinks"] == 1
    assert (res["differ"]["exact_only"], res["differ"]["float_only"]) == (0, 1)


def test_tanh_zero_exactly() -> None:
    """x = 0: tanh(0) = 0 exactly and the bias is 0, so relu sits on its kink in real
    arithmetic too; its own bias and non-zero adjoint make the loss non-differentiable."""
    m = _tanh_then_relu(0.0)
    x, y = torch.tensor([[0.0]]), torch.tensor([0])
    res = Auditor(m, x, "ce").audit(x, y)
    ex = res["exact"]
    assert (ex["kinked"], ex["differentiable"], ex["ns"]) == (1, False, True)
    assert res["execution"]["float_kinks"] == 1
    assert (res["differ"]["exact_only"], res["differ"]["float_only"]) == (0, 0)


def test_gelu_network_no_kink_certified() -> None:
    torch.manual_seed(3)
    m = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 3))
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 1, 0])
    res = Auditor(m, x, "ce").audit(x, y)
    ex = res["exact"]
    assert (ex["kinked"], ex["differentiable"], ex["inc"], ex["undecided"]) == (0, True, False,
                                                                               None)
    assert "T6_batch_ad_correct_smooth_tau_built" in res["theorem"]["applies"]


def test_ad_equals_torch_float64_on_200_random_models() -> None:
    """Where the certified oracle says differentiable, torch's float64 autograd lies in the
    certified enclosure of the gradient (widened by float64's own rounding, 1e-11
    relative); every model is decided."""
    rng = random.Random(17)
    decided = 0
    for t in range(200):
        torch.manual_seed(t)
        model, d_in = random_smooth_model(rng)
        x = torch.randn(2, d_in)
        y = torch.tensor([rng.randrange(3), rng.randrange(3)])
        m64 = model.double()  # the same parameters; eps and slopes as float64 kernels use them
        net = from_module(m64, x[:1].double())
        rows = tuple(tuple(Q(v) for v in r) for r in x.to(torch.float64).tolist())
        sub = batched(net, Batch(rows, tuple((Q(int(v)),) for v in y), (d_in,)), "ce")
        r = certified_oracle(sub, net.values)
        assert r.differentiable is True, (t, r.how)
        decided += 1
        assert_in_enclosures(r.ad, nn.functional.cross_entropy(m64(x.double()), y),
                             list(m64.parameters()))
    assert decided == 200


def _bn_model() -> nn.Module:
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2)).train()
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.5, -1.0], [0.25, 2.0]]))
        m[0].bias.zero_()
        m[3].weight.copy_(torch.tensor([[1.0, -0.5, 0.25], [-1.0, 0.75, 0.5]]))
    return m


def test_batchnorm_training_mode_structural_zero() -> None:
    """BatchNorm with the batch's statistics: channel 0 takes -1, 0, 1 over the batch (mean
    0), so example 1's normalised value is exactly (0 - 0) * rsqrt(var + eps) = 0 and the
    relu after it (beta 0) sits on its kink; beta[0] is that class's bias (T7 over smooth
    pre-activations) and its adjoint (through the next layer's column and the softmax,
    certified non-zero) makes the loss non-differentiable.  The audit leaves the running statistics alone."""
    torch.manual_seed(0)
    m = _bn_model()
    x = torch.tensor([[-1.0, 0.5], [0.0, 1.0], [1.0, -2.0]])
    y = torch.tensor([0, 1, 0])
    before = [b.clone() for b in m.buffers()]
    res = Auditor(m, x, "ce").audit(x, y)
    ex = res["exact"]
    assert (ex["kinked"], ex["differentiable"], ex["ns"], ex["undecided"]) == (1, False, True,
                                                                               None)
    assert [(c["neuron"], c["example"]) for c in ex["copies"]] == [("1[0]", 1)]
    assert res["theorem"]["applies"] == "T7_tied_ad_correct_smooth_tau"
    assert res["execution"]["float_kinks"] == 1
    assert m.training and all(torch.equal(a, b) for a, b in zip(before, m.buffers()))


def test_batchnorm_training_mode_gradient_matches_torch() -> None:
    """Off the kinks, AD of the whole-batch network equals torch's float64 autograd of the
    model in training mode (batch statistics) within the certified enclosures."""
    import copy

    torch.manual_seed(4)
    m = _bn_model()
    x = torch.tensor([[-1.0, 0.5], [0.25, 1.0], [1.0, -2.0], [0.5, 0.5]])
    y = torch.tensor([0, 1, 0, 1])
    net = from_module(m, x, whole_batch=True)
    rows = tuple(tuple(Q(v) for v in r) for r in x.to(torch.float64).tolist())
    sub = whole_batched(net, Batch(rows, tuple((Q(int(v)),) for v in y), (2,)), "ce")
    r = certified_oracle(sub, net.values)
    assert (r.differentiable, r.ad_correct, r.kinked) == (True, True, ())
    m64 = copy.deepcopy(m).double()
    # eps: float32's 1e-5 in the import, float64's in m64; 1e-9 relative covers both
    assert_in_enclosures(r.ad, nn.functional.cross_entropy(m64(x.double()), y),
                         list(m64.parameters()), Q(1, 10**9))


class AttnMax(nn.Module):
    """Attention weights softmax(q k^T / 2) and their max over the keys (a max pool)."""

    def __init__(self) -> None:
        super().__init__()
        self.q, self.k, self.o = nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = torch.softmax(self.q(x) @ self.k(x).transpose(1, 2) / 2.0, dim=-1)
        return self.o(nn.functional.max_pool1d(scores, kernel_size=3).flatten(1))


def test_attention_scores_tie_exactly_at_a_max_pool() -> None:
    """Tokens 1 and 2 are equal, so for every query their attention weights are equal
    (the same function of the parameters, exactly: value numbering), and the max pool
    over the keys compares two equal weights: a tie on relu's kink in every row (3).  The
    tie's tangent form is exactly 0 (it persists under every perturbation), so the loss is
    differentiable and AD correct."""
    torch.manual_seed(0)
    m = AttnMax()
    t = torch.randn(4)
    x = torch.stack([torch.randn(4), t, t]).unsqueeze(0)
    res = Auditor(m, x, "ce").audit(x, torch.tensor([0]))
    ex = res["exact"]
    assert ex["kinked"] == 3 and all(c["neuron"].endswith("/tie3") for c in ex["copies"])
    assert (ex["differentiable"], ex["inc"], ex["undecided"]) == (True, False, None)
    assert "zero tangent" in ex["certificate"]


class Encoder(nn.Module):
    def __init__(self, act: str, norm_first: bool) -> None:
        super().__init__()
        self.emb = nn.Linear(4, 8)
        self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(
            8, 2, 16, dropout=0.0, activation=act, batch_first=True, norm_first=norm_first),
            num_layers=2, enable_nested_tensor=False)
        self.head = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.enc(self.emb(x)).mean(1))


@pytest.mark.parametrize(("act", "norm_first"), [("relu", False), ("gelu", True)])
def test_transformer_encoder_decided_and_matches_torch(act: str, norm_first: bool) -> None:
    """A two-layer Transformer encoder (multi-head attention, LayerNorm after or before,
    relu or gelu feed-forward): imported (PyTorch's forward agrees), decided, and AD within
    the certified enclosures of torch's float64 autograd."""
    torch.manual_seed(5)
    m = Encoder(act, norm_first).eval()
    x, y = torch.randn(2, 3, 4), torch.tensor([0, 2])
    aud = Auditor(m, x, "ce")
    res = aud.audit(x, y)
    assert res["exact"]["differentiable"] is True and res["exact"]["undecided"] is None
    m64 = Encoder(act, norm_first).double().eval()
    m64.load_state_dict(m.state_dict())
    assert_ad_in_enclosures(m64, x, y)


class CausalSDPA(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.q, self.k, self.v = nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4)
        self.o = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = nn.functional.scaled_dot_product_attention(self.q(x), self.k(x), self.v(x),
                                                       is_causal=True)
        return self.o(a.permute(0, 2, 1).mean(-1))


def test_causal_scaled_dot_product_attention() -> None:
    torch.manual_seed(6)
    m = CausalSDPA().double()
    assert_ad_in_enclosures(m, torch.randn(3, 5, 4), torch.tensor([0, 1, 1]))


class Bag(nn.Module):
    """Token embeddings (row 0 the padding row), averaged, tanh, a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.e, self.lin = nn.Embedding(10, 4, padding_idx=0), nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(torch.tanh(self.e(x).mean(1)))


def test_embedding_reads_token_indices() -> None:
    """nn.Embedding picks weight rows by the batch's token indices (imported per batch);
    the padding row is a constant, as PyTorch gives it no gradient; AD matches torch."""
    torch.manual_seed(7)
    x, y = torch.tensor([[1, 2, 0], [3, 3, 9]]), torch.tensor([0, 2])
    aud = Auditor(Bag(), x, "ce")
    assert aud.per_batch and aud.audit(x, y)["exact"]["differentiable"] is True
    x2 = torch.tensor([[4, 5, 6], [7, 8, 1]])
    assert aud.audit(x2, y)["exact"]["differentiable"] is True
    assert_ad_in_enclosures(Bag().double(), x, y)


def test_dropout_in_training_mode_uses_the_audited_mask() -> None:
    """Dropout(0.5) in training mode: the audit records the mask its own forward pass
    draws, imports the model with it (per batch) and replays it in the execution audit
    and PyTorch's forward check; AD of that function equals torch's autograd with the
    same mask (float64), within the enclosures; the model stays in training mode."""
    from adcorrect.audit.execution import forward_with, record_masks, trace

    torch.manual_seed(8)
    m = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(0.5), nn.Linear(8, 3)).train()
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    aud = Auditor(m, x, "ce")
    assert aud.needs_masks and aud.per_batch
    for _ in range(2):
        ex = aud.audit(x, y)["exact"]
        assert (ex["differentiable"], ex["undecided"]) == (True, None)
    m64 = m.double()
    gm = trace(m64)
    masks = record_masks(gm, x.double())
    assert len(masks) == 1 and set(masks[0].unique().tolist()) <= {0.0, 2.0}
    net = from_module(m64, x.double(), whole_batch=True, masks=masks)
    rows = tuple(tuple(Q(v) for v in r) for r in x.double().tolist())
    sub = whole_batched(net, Batch(rows, tuple((Q(int(v)),) for v in y), (4,)), "ce")
    r = certified_oracle(sub, net.values)
    assert_in_enclosures(r.ad, nn.functional.cross_entropy(forward_with(gm, x.double(), masks),
                                                           y), list(m64.parameters()))
    assert m.training


class GroupNormNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c, self.g, self.o = nn.Conv2d(1, 4, 3, padding=1), nn.GroupNorm(2, 4), nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.o(nn.functional.silu(self.g(self.c(x))).mean((2, 3)))


def test_group_norm_matches_torch() -> None:
    torch.manual_seed(9)
    assert_ad_in_enclosures(GroupNormNet().double(), torch.randn(2, 1, 4, 4),
                             torch.tensor([0, 2]))


def test_clamp_takes_pytorchs_inclusive_derivative() -> None:
    """torch.clamp(x, 0, 1): PyTorch's derivative at a bound is 1 (hardtanh's is 0); at
    x = (0, 1/2) the first unit sits on clamp's lower bound with its own bias: NS, not
    differentiable, and the float run hits the same kinks."""
    class C(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin, self.out = nn.Linear(2, 3), nn.Linear(3, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.out(torch.clamp(self.lin(x), min=0.0, max=1.0))

    m = C()
    with torch.no_grad():
        m.lin.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        m.lin.bias.zero_()
    net = from_module(m, torch.zeros(1, 2))
    act = net.neurons[0].activation
    assert act.name == "clamp(0,1)" and act.derivative(Q(0)) == 1 == act.derivative(Q(1))
    x, y = torch.tensor([[0.0, 0.5], [1.0, 2.0]]), torch.tensor([0, 1])
    res = Auditor(m, x, "ce").audit(x, y)
    assert (res["exact"]["kinked"], res["exact"]["differentiable"]) == (2, False)
    assert res["execution"]["float_kinks"] == 2


class MaxMin(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.o = nn.Linear(2, 3), nn.Linear(2, 3), nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.a(x), self.b(x)
        return self.o(torch.maximum(a, b) + torch.minimum(torch.tanh(a), b))


def test_elementwise_maximum_and_minimum() -> None:
    """torch.maximum/minimum of two tensors: max nodes whose tie splits the gradient in
    half, as PyTorch's does; AD matches torch off ties.  With b's parameters equal to a's
    every maximum ties (3 units x 3 examples), and since a and b move independently each
    tie is a crease: not differentiable."""
    torch.manual_seed(0)
    assert_ad_in_enclosures(MaxMin().double(), torch.randn(3, 2), torch.tensor([0, 1, 1]))
    m = MaxMin()
    with torch.no_grad():
        m.b.weight.copy_(m.a.weight)
        m.b.bias.copy_(m.a.bias)
    net = from_module(m, torch.zeros(1, 2))
    ties = [n for n in net.neurons if "/tie" in n.name]
    assert len(ties) == 6 and ties[0].activation.derivative(Q(0)) == Q(1, 2)
    x = torch.randn(3, 2)
    ex = Auditor(m, x, "ce").audit(x, torch.tensor([0, 1, 1]))["exact"]
    assert (ex["kinked"], ex["differentiable"]) == (9, False)


class CausalLM(nn.Module):
    """A decoder-only block: a Transformer encoder with the causal mask (a buffer, as
    nn.Transformer.generate_square_subsequent_mask makes it), then MultiheadAttention with
    a boolean mask (True: masked out)."""

    def __init__(self) -> None:
        super().__init__()
        self.emb, self.head = nn.Linear(4, 8), nn.Linear(8, 3)
        self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(
            8, 2, 16, dropout=0.0, batch_first=True), 1, enable_nested_tensor=False)
        self.att = nn.MultiheadAttention(8, 2, batch_first=True)
        self.register_buffer("causal", nn.Transformer.generate_square_subsequent_mask(5))
        self.register_buffer("upper", torch.triu(torch.ones(5, 5, dtype=torch.bool), 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.enc(self.emb(x), mask=self.causal, is_causal=True)
        a = self.att(h, h, h, attn_mask=self.upper, need_weights=False)[0]
        return self.head(a[:, -1])


def test_causal_masks_of_encoders_and_multihead_attention() -> None:
    """Stored masks (a float causal mask with -inf above the diagonal, kept as a tensor;
    a boolean one with MultiheadAttention's convention, True = masked out): the import
    agrees with PyTorch, and AD matches torch's float64 autograd."""
    torch.manual_seed(10)
    m = CausalLM().double().eval()
    assert_ad_in_enclosures(m, torch.randn(2, 5, 4), torch.tensor([0, 2]))


class _Var(nn.Module):
    """var and std in their method and function forms, with and without Bessel's
    correction, feeding a hand-written normalisation."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(3, 8)
        self.o = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.a(x).reshape(-1, 2, 4)
        v = h.var(-1, keepdim=True)
        sd = torch.std(h, dim=2, correction=0, keepdim=True)
        u = torch.var(h, 1, False, True)  # the old signature: unbiased=False, keepdim
        return self.o(((h - h.mean(-1, keepdim=True)) / (sd + 1) + v + u).reshape(-1, 8))


def test_variance_and_std_follow_autograd() -> None:
    """x.var/torch.std with PyTorch's corrections (1 by default, 0, unbiased=False):
    decided, AD in the enclosures of torch's float64 autograd; over every axis or with
    a correction as large as the count, one line."""
    torch.manual_seed(5)
    assert_ad_in_enclosures(_Var().double(), torch.randn(4, 3), torch.tensor([0, 1, 1, 0]))
    for fn, needle in ((lambda h: h.var(), "includes the batch axis"),
                       (lambda h: h.std(1, correction=4), "divides by 0")):
        with pytest.raises(InputError, match=needle):
            from_module(Applied(fn), torch.zeros(1, 2))


def test_only_the_examples_on_kinks_are_decided_exactly() -> None:
    """Examples 2 and 4 of six put relu inputs exactly on 0 (tanh(0) = 0, zero biases);
    the quick pass certifies the other four and only the two open examples go to the
    certified oracle.  The verdict, the kinked copies with their places in the batch and
    their adjoints (the batch's loss scale) equal the oracle's on the whole batch."""
    torch.manual_seed(2)
    m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 4), nn.ReLU(),
                      nn.Linear(4, 3)).double()
    with torch.no_grad():
        m[0].bias.zero_()
        m[2].bias.zero_()
    x = torch.randn(6, 3, dtype=torch.float64)
    x[2] = 0
    x[4] = 0
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    res = Auditor(m, x, "ce").audit(x, y)["exact"]
    net = from_module(m, x[:1])
    rows = tuple(tuple(Q(v) for v in r) for r in x.tolist())
    full = batched(net, Batch(rows, tuple((Q(int(v)),) for v in y), (3,)), "ce")
    r = certified_oracle(full, net.values)
    assert res["kinked"] == len(r.kinked) == 8 and res["kinked_examples"] == 2
    assert res["differentiable"] is r.differentiable is False
    assert res["ns"] is r.ns is True
    expected = sorted((full.neurons[k].example, float(r.zbar[k])) for k in r.kinked)
    assert sorted((c["example"], c["zbar_approx"]) for c in res["copies"]) == expected
