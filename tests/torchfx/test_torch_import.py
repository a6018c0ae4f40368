"""The PyTorch front end (adcorrect.torch): hand-built models with hand-computed IR,
values and gradients; safe loading; malformed models and ops (one-line InputError)."""

from __future__ import annotations

import pickle
from dataclasses import replace
from fractions import Fraction as Q
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from adcorrect.core.errors import InputError
from adcorrect.exact.engine import backward, forward, kink_neurons
from adcorrect.nets.batch import Batch, batched, load_batch
from adcorrect.nets.ir import Network
from adcorrect.nets.specv2 import network_to_v2, parse_network_v2
from adcorrect.torch import batched_model, example_input, from_module, load_model
from torch import nn

D = torch.float64


def t(rows: object, dtype: torch.dtype = D) -> torch.Tensor:
    return torch.tensor(rows, dtype=dtype)


def set_params(m: nn.Module, *values: object) -> nn.Module:
    """Assign the parameters in named_parameters() order."""
    with torch.no_grad():
        for p, v in zip(m.parameters(), values, strict=True):
            p.copy_(torch.as_tensor(v, dtype=p.dtype).reshape(p.shape))
    return m


def ad(net: Network, choice: str = "pytorch") -> tuple[Q, ...]:
    w = net.values
    assert w is not None
    return backward(net, w, forward(net, w), choice).grad


def outputs(net: Network) -> list[Q]:
    assert net.values is not None
    z = forward(net, net.values).z
    return [z[o] for o in net.outputs]


def torch_grad(m: nn.Module, x: torch.Tensor) -> list[Q]:
    m.zero_grad()
    m(x).sum().backward()
    return [Q(0) if p.grad is None else Q(v) for p in m.parameters()
            for v in (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).tolist()]


class Net(nn.Module):
    """Linear(2,2) - relu - Linear(2,1)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(2, 2)
        self.fc2 = nn.Linear(2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(x)))


# -- hand-built models -------------------------------------------------------------------


def test_mlp_ir_values_and_gradient_at_a_kink() -> None:
    m = set_params(Net().double(), [[1, -1], [2, 0.5]], [0, -1], [[3, -2]], [0.25])
    net = from_module(m, t([[1, 1]]), name="mlp")
    assert net.name == "mlp" and net.input == (1, 1)
    assert net.param_names == ("fc1.weight[0,0]", "fc1.weight[0,1]", "fc1.weight[1,0]",
                               "fc1.weight[1,1]", "fc1.bias[0]", "fc1.bias[1]",
                               "fc2.weight[0,0]", "fc2.weight[0,1]", "fc2.bias[0]")
    assert net.values == (1, -1, 2, Q(1, 2), 0, -1, 3, -2, Q(1, 4))
    n0, n1, out = net.neurons
    assert (n0.name, n0.activation.name, n0.sources, n0.bias) == ("fc1[0]", "relu", (-1, -2),
                                                                  ("param", 4))
    assert n0.weights == (("param", 0), ("param", 1))
    assert (n1.name, n1.weights, n1.bias) == ("fc1[1]", (("param", 2), ("param", 3)), ("param", 5))
    assert (out.name, out.activation.name, out.sources) == ("fc2[0]", "identity", (0, 1))
    assert net.head.kind == "linear" and net.head.outputs == (2,) and net.head.coefs == (1,)
    assert net.is_bias_network and net.no_exclusive_bias == ()
    # y = (0, 3/2): neuron fc1[0] sits on relu's kink; f = -2 * 3/2 + 1/4
    fw = forward(net, net.values)
    assert fw.y[:2] == (0, Q(3, 2)) and fw.z[2] == Q(-11, 4)
    assert kink_neurons(net, fw) == (0,)
    # relu'(0) = 0 (PyTorch): dW1 = 0, db1 = 0; row 2: -2 * x; fc2: (z1, z2, 1)
    assert ad(net) == (0, 0, -2, -2, 0, -2, 0, Q(3, 2), 1)
    assert ad(net, "right") == (3, 3, -2, -2, 3, -2, 0, Q(3, 2), 1)
    assert list(ad(net)) == torch_grad(m, t([[1, 1]]))


def test_conv2d_neurons_and_gradient() -> None:
    conv = set_params(nn.Conv2d(1, 1, 2).double(), [[1, 0], [0, -1]], [0.5])
    x = t([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]])
    net = from_module(conv, x)
    assert net.input == tuple(range(1, 10))
    # a bare layer is read as a module named after its class
    assert [n.name for n in net.neurons] == ["Conv2d[0,0,0]", "Conv2d[0,0,1]",
                                             "Conv2d[0,1,0]", "Conv2d[0,1,1]"]
    n10 = net.neurons[2]
    # output (1, 0) reads x[1,0], x[1,1], x[2,0], x[2,1]: inputs 3, 4, 6, 7
    assert n10.sources == (-4, -5, -7, -8)
    assert n10.weights == tuple(("param", i) for i in range(4)) and n10.bias == ("param", 4)
    assert outputs(net) == [1 - 5 + Q(1, 2), 2 - 6 + Q(1, 2), 4 - 8 + Q(1, 2), 5 - 9 + Q(1, 2)]
    # d(sum of outputs)/dW[a,b] = sum of the inputs each weight meets; bias: 4 positions
    assert ad(net) == (12, 16, 24, 28, 4)
    # the bias is shared by the 4 positions: not a bias network (identity neurons aside,
    # the outputs are identity neurons here, so the report is empty and it is one)
    assert net.param_uses[4] == 4


def test_conv_stride_padding_groups_dilation_same_circular() -> None:
    conv = nn.Conv2d(2, 2, 2, stride=2, padding=1, groups=2).double()
    net = from_module(conv, torch.zeros(1, 2, 3, 3, dtype=D))
    # output shape (2, 2, 2); neuron of output (1, 0, 0): only x[1, 0, 0] with W[1,0,1,1]
    n = net.neurons[4]
    assert n.sources == (-10,) and n.weights == (("param", 7),) and n.bias == ("param", 9)
    # output (0, 1, 1): the window rows 1..2, cols 1..2 of channel 0
    n = net.neurons[3]
    assert n.sources == (-5, -6, -8, -9) and n.weights == tuple(("param", i) for i in range(4))
    dil = nn.Conv1d(1, 1, 2, dilation=2, bias=False).double()
    net = from_module(dil, torch.zeros(1, 1, 5, dtype=D))
    assert [nn_.sources for nn_ in net.neurons] == [(-1, -3), (-2, -4), (-3, -5)]
    same = nn.Conv1d(1, 1, 4, padding="same", bias=False).double()
    net = from_module(same, torch.zeros(1, 1, 5, dtype=D))
    # total padding 3: one before, two after; output 0 reads x[0..2] with kernel taps 1..3
    assert net.neurons[0].sources == (-1, -2, -3)
    assert net.neurons[0].weights == (("param", 1), ("param", 2), ("param", 3))
    circ = nn.Conv1d(1, 1, 3, padding=1, padding_mode="circular", bias=False).double()
    net = from_module(circ, torch.zeros(1, 1, 4, dtype=D))
    assert net.neurons[0].sources == (-4, -1, -2)  # x[-1] is x[3]


def test_avg_pools_exact_rational_weights() -> None:
    net = from_module(nn.AvgPool2d(3), torch.zeros(1, 1, 3, 3, dtype=D))
    (n,) = net.neurons
    assert n.sources == tuple(range(-1, -10, -1)) and n.weights == (("const", Q(1, 9)),) * 9
    pool = nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False)
    net = from_module(pool, torch.zeros(1, 1, 2, 2, dtype=D))
    assert net.neurons[0].sources == (-1,) and net.neurons[0].weights == (("const", 1),)
    pool = nn.AvgPool2d(2, stride=1, padding=1)  # padding counted: 1/4 each
    net = from_module(pool, torch.zeros(1, 1, 2, 2, dtype=D))
    assert net.neurons[0].weights == (("const", Q(1, 4)),)
    net = from_module(nn.AdaptiveAvgPool1d(3), torch.zeros(1, 1, 5, dtype=D))
    # PyTorch's windows [floor(5o/3), ceil(5(o+1)/3)): [0,2), [1,4), [3,5)
    assert [n.sources for n in net.neurons] == [(-1, -2), (-2, -3, -4), (-4, -5)]
    assert [n.weights[0][1] for n in net.neurons] == [Q(1, 2), Q(1, 3), Q(1, 2)]
    net = from_module(nn.AdaptiveAvgPool2d(1), torch.zeros(1, 1, 3, 3, dtype=D))
    assert net.neurons[0].weights == (("const", Q(1, 9)),) * 9


def test_batchnorm_folding_fp32_and_fp64() -> None:
    class M(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(1, 1, bias=False)
            self.bn = nn.BatchNorm1d(1, eps=1.0)
            self.act = nn.ReLU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.act(self.bn(self.fc(x)))

    for dtype, r in ((torch.float32, Q(11863283, 2**24)),  # float32(1/sqrt(2)) = 0x3f3504f3
                     (D, Q(float.fromhex("0x1.6a09e667f3bccp-1")))):  # 1.0/sqrt(2.0), doubles
        m = set_params(M().to(dtype).eval(), [[2]], [3], [0.5])
        m.bn.running_mean.fill_(0.25)
        m.bn.running_var.fill_(1.0)
        net = from_module(m, t([[1]], dtype))
        fc, norm, bn = net.neurons
        assert (fc.name, fc.activation.is_identity, fc.bias) == ("fc[0]", True, None)
        assert (norm.name, norm.sources, norm.weights) == ("bn[0]/norm", (0,), (("const", r),))
        assert norm.bias == ("const", -Q(1, 4) * r)
        assert (bn.name, bn.activation.name, bn.weights, bn.bias) == (
            "bn[0]", "relu", (("param", 1),), ("param", 2))
        # the bias is exclusive: Linear(bias=False) followed by BatchNorm is a bias network
        assert net.is_bias_network
        # what PyTorch's kernel computes for x = 1, weight 1, bias 0, mean 0 is r itself
        m2 = set_params(nn.BatchNorm1d(1, eps=1.0).to(dtype).eval(), [1], [0])
        m2.running_var.fill_(1.0)
        assert Q(m2(t([[1]], dtype)).item()) == r
        # f = 3 r (2 - 1/4) + 1/2; df/dgamma = r (2 - 1/4)
        assert outputs(net) == [3 * r * Q(7, 4) + Q(1, 2)]
        assert ad(net) == (3 * r, r * Q(7, 4), 1)


def test_bias_network_report_names() -> None:
    m = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 1)).double()
    net = from_module(m, torch.zeros(1, 2, dtype=D))
    assert not net.is_bias_network
    assert [net.neurons[k].name for k in net.no_exclusive_bias] == ["0[0]", "0[1]"]
    conv = nn.Sequential(nn.Conv1d(1, 1, 2), nn.ReLU()).double()
    net = from_module(conv, torch.zeros(1, 1, 3, dtype=D))
    assert [net.neurons[k].name for k in net.no_exclusive_bias] == ["0[0,0]", "0[0,1]"]
    pool = nn.Sequential(nn.Conv1d(1, 1, 1), nn.ReLU(), nn.MaxPool1d(3)).double()
    net = from_module(pool, torch.zeros(1, 1, 3, dtype=D))
    assert [net.neurons[k].name for k in net.no_exclusive_bias] == [
        "0[0,0]", "0[0,1]", "0[0,2]", "2[0,0]/tie2", "2[0,0]/tie3"]


def test_maxpool_tie_takes_first_element_like_pytorch() -> None:
    class M(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(1, 4)
            self.pool = nn.MaxPool1d(4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.pool(self.fc(x).view(1, 1, 4))

    m = set_params(M().double(), [[0], [0], [0], [0]], [0, 0, 0, 0])
    x = t([[1]])
    net = from_module(m, x)
    names = [n.name for n in net.neurons]
    assert names == ["fc[0]", "fc[1]", "fc[2]", "fc[3]", "pool[0,0]/tie2", "pool[0,0]/2",
                     "pool[0,0]/tie3", "pool[0,0]/3", "pool[0,0]/tie4", "pool[0,0]"]
    assert all(net.neurons[k].op == "max" for k in range(4, 10))
    # all four tie at 0: the max is the first element; its weight and bias get the gradient
    fw = forward(net, net.values)
    assert kink_neurons(net, fw) == (4, 6, 8)
    assert ad(net) == (1, 0, 0, 0, 1, 0, 0, 0)
    assert list(ad(net)) == torch_grad(m, x)
    # a tie of the last two after a larger third: the third wins
    set_params(m, [[0], [1], [2], [2]], [0, 0, 0, 0])
    net = from_module(m, x)
    assert ad(net) == (0, 0, 1, 0, 0, 0, 1, 0) and list(ad(net)) == torch_grad(m, x)


def test_activation_hyper_parameters_are_the_kernels_floats() -> None:
    m = nn.Sequential(nn.Linear(1, 1), nn.LeakyReLU())
    net = from_module(m.double(), torch.zeros(1, 1, dtype=D))
    # the double nearest 0.01, not 1/100
    assert net.neurons[0].activation.slope_left(Q(-1)) == Q(5764607523034235, 2**59)
    net = from_module(m.float(), torch.zeros(1, 1))
    # float32(0.01) = 0x3c23d70a = 10737418 * 2^-30
    assert net.neurons[0].activation.slope_left(Q(-1)) == Q(5368709, 2**29)
    ht = nn.Sequential(nn.Linear(1, 1), nn.Hardtanh(-0.5, 2.0), nn.Linear(1, 1),
                       nn.Softshrink(0.25), nn.Linear(1, 1), nn.ReLU6(), nn.Linear(1, 1),
                       nn.Hardsigmoid(), nn.Linear(1, 1), nn.Hardswish(), nn.Linear(1, 1)).double()
    net = from_module(ht, torch.zeros(1, 1, dtype=D))
    assert [n.activation.name for n in net.neurons] == [
        "hardtanh(-1/2,2)", "softshrink(1/4)", "relu6", "hardsigmoid", "hardswish", "identity"]


@pytest.mark.parametrize(("dtype", "value"), [
    (torch.float32, Q(13421773, 2**27)),   # float32(0.1) = 0x3dcccccd
    (torch.float64, Q(3602879701896397, 2**55)),
    (torch.bfloat16, Q(205, 2048)),        # 0x3dcd
    (torch.float16, Q(819, 8192)),         # 0x2e66
    (torch.float8_e4m3fn, Q(13, 128)),     # 1.625 * 2^-4
    (torch.float8_e5m2, Q(3, 32)),         # 1.5 * 2^-4
])
def test_parameters_read_exactly_in_every_dtype(dtype: torch.dtype, value: Q) -> None:
    m = nn.Linear(1, 1).to(dtype)
    with torch.no_grad():
        m.weight.copy_(torch.tensor([[0.1]], dtype=D).to(dtype))
        m.bias.copy_(torch.tensor([-0.1], dtype=D).to(dtype))
    net = from_module(m, torch.ones(1, 1).to(dtype))
    assert net.values == (value, -value) and net.input == (1,)


def test_functional_and_module_forms_agree() -> None:
    class Mod(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.a, self.b, self.c = nn.LeakyReLU(0.125), nn.Hardtanh(-2, 2), nn.Softshrink(0.5)
            self.pool = nn.MaxPool1d(2)
            self.avg = nn.AvgPool1d(2)
            self.flat = nn.Flatten()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.c(self.b(self.a(self.fc(x)))).view(1, 1, 4)
            return self.flat(self.pool(h) + self.avg(h))

    class Fun(Mod):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = F.linear(x, self.fc.weight, self.fc.bias)
            h = F.softshrink(F.hardtanh(F.leaky_relu(h, 0.125), -2.0, 2.0), 0.5)
            h = h.reshape(1, 1, 4)
            return torch.flatten(F.max_pool1d(h, 2) + F.avg_pool1d(h, 2), 1)

    torch.manual_seed(1)
    mod = Mod().double()
    fun = Fun().double()
    fun.load_state_dict(mod.state_dict())
    x = torch.randn(1, 4, dtype=D)
    a, b = from_module(mod, x), from_module(fun, x)

    def shape(net: Network) -> list[tuple[object, ...]]:
        return [(n.activation.name, n.sources, n.weights, n.bias, n.op) for n in net.neurons]

    assert shape(a) == shape(b) and a.param_names == b.param_names and a.values == b.values


def test_residual_shared_parameters_and_constants() -> None:
    class M(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = F.relu(self.fc(x) + 1)   # the constant becomes its own identity neuron
            return self.fc(h) - 0.5 * x  # the same Linear twice: shared parameters

    m = set_params(M().double(), [[1, 0], [0, 1]], [0, -2])
    x = t([[1, 1]])
    net = from_module(m, x)
    assert net.W == 6 and net.param_uses == (2, 2, 2, 2, 2, 2)
    names = [n.name for n in net.neurons]
    assert names[:4] == ["add[0]/const", "add[1]/const", "add[0]", "add[1]"]
    relu0 = net.neurons[2]
    assert relu0.activation.name == "relu" and relu0.bias == ("param", 4)
    assert relu0.sources == (-1, -2, 0) and relu0.weights[2] == ("const", 1)
    assert net.neurons[0].bias == ("const", 1) and net.neurons[0].sources == ()
    assert outputs(net) == [Q(2) - Q(1, 2), Q(-2) - Q(1, 2)]  # relu(2) = 2, relu(0) = 0
    assert list(ad(net)) == torch_grad(m, x)


def test_inplace_ops_read_out_of_place_when_nothing_else_reads() -> None:
    m = nn.Sequential(nn.Linear(2, 2), nn.ReLU(inplace=True), nn.Linear(2, 1)).double()
    net = from_module(m, torch.zeros(1, 2, dtype=D))
    assert [n.activation.name for n in net.neurons] == ["relu", "relu", "identity"]


def test_round_trip_through_json_v2() -> None:
    m = nn.Sequential(nn.Conv1d(1, 2, 2), nn.ReLU(), nn.MaxPool1d(2), nn.Flatten(),
                      nn.Linear(2, 2)).double()
    net = from_module(m, t([[[1, 0, -1]]]))
    back = parse_network_v2(network_to_v2(net))
    strip = [replace(n, op="") for n in net.neurons]
    assert list(back.neurons) == strip
    assert (back.param_names, back.values, back.input, back.head) == (
        net.param_names, net.values, net.input, net.head)


def test_batched_losses_on_an_imported_model() -> None:
    m = set_params(Net().double(), [[1, -1], [2, 0.5]], [0, -1], [[3, -2]], [0.25])
    net = from_module(m, t([[1, 1]]))
    xs = [[1, 1], [0, 2]]
    batch = Batch(tuple(tuple(Q(v) for v in r) for r in xs), ((Q(1),), (Q(-1),)))
    bnet = batched(net, batch, "mse")
    xt = t(xs)
    m.zero_grad()
    F.mse_loss(m(xt), t([[1], [-1]])).backward()
    tg = [Q(v) for p in m.parameters() for v in p.grad.reshape(-1).tolist()]
    assert list(ad(bnet)) == tg


# -- load_model -----------------------------------------------------------------------------


class Custom(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


def test_load_model_torch_nn_classes_without_trust(tmp_path: Path) -> None:
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(2, 3), nn.Dropout(), nn.LeakyReLU(0.1),
                      nn.Hardtanh(), nn.Softshrink(), nn.AdaptiveAvgPool1d(1)).eval()
    torch.save(m, tmp_path / "m.pt")
    loaded = load_model(tmp_path / "m.pt")
    assert isinstance(loaded, nn.Sequential) and str(loaded) == str(m)
    for (n1, p1), (n2, p2) in zip(m.named_parameters(), loaded.named_parameters(), strict=True):
        assert n1 == n2 and torch.equal(p1, p2)


def test_load_model_foreign_class_needs_trust(tmp_path: Path) -> None:
    torch.save(Custom(), tmp_path / "c.pt")
    with pytest.raises(InputError) as e:
        load_model(tmp_path / "c.pt")
    msg = str(e.value)
    assert "\n" not in msg and "test_torch_import.Custom" in msg and "--trust-model" in msg
    assert isinstance(load_model(tmp_path / "c.pt", trust=True), Custom)


def one_line(exc: pytest.ExceptionInfo[InputError], *parts: str) -> None:
    msg = str(exc.value)
    assert "\n" not in msg and len(msg) < 300, msg
    for p in parts:
        assert p in msg, (p, msg)


# -- malformed models and ops: one-line InputError ----------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit
def test_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(InputError) as e:
        load_model(tmp_path / "missing.pt")
    one_line(e, "no such model file")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file at all")
    with pytest.raises(InputError) as e:
        load_model(tmp_path / "junk.pt")
    one_line(e, "not a readable torch model file")
    torch.save(nn.Linear(1, 1).state_dict(), tmp_path / "sd.pt")
    with pytest.raises(InputError) as e:
        load_model(tmp_path / "sd.pt")
    one_line(e, "not a torch.nn.Module", "state_dict")
    torch.save({"x": torch.zeros(2)}, tmp_path / "t.pt")
    with pytest.raises(InputError) as e:
        load_model(tmp_path / "t.pt")
    one_line(e, "holds a dict")
    bad = nn.Linear(2, 1)
    with torch.no_grad():
        bad.weight[0, 1] = float("nan")
    torch.save(bad, tmp_path / "nan.pt")
    with pytest.raises(InputError) as e:
        load_model(tmp_path / "nan.pt")
    one_line(e, "parameter weight[0,1] is nan")
    torch.jit.save(torch.jit.script(nn.Linear(1, 1)), tmp_path / "ts.pt")
    with pytest.raises(InputError) as e:
        load_model(tmp_path / "ts.pt")
    one_line(e, "TorchScript archive")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(InputError) as e:
        load_model(tmp_path / "empty.pt")
    one_line(e, "not a readable torch model file (EOFError)")
    torch.save(torch.fx.symbolic_trace(nn.Linear(1, 1)), tmp_path / "gm.pt")
    with pytest.raises(InputError) as e:
        load_model(tmp_path / "gm.pt")
    one_line(e, "needs torch.fx.graph_module.reduce_graph_module", "--trust-model")
    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump(Custom(), f, protocol=2)  # a plain pickle, not a torch zip file
    with pytest.raises(InputError) as e:
        load_model(tmp_path / "evil.pt")
    one_line(e, "evil.pt")


class TwoInputs(nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x + y


class Branchy(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if x.sum() > 0 else -x


class Sine(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x)


class Product(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * x


class DropsBatch(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(-1)


class Pair(nn.Module):
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x, x


class Aliased(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x + 1
        g = h.relu_()
        return g + h


class Matmul(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ x.T


class TrainDrop(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, 0.5, self.training)


class ConstOut(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.ones(1, 2, dtype=D))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.p * 2


class HugePad(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (10**9, 10**9))


def _nan_linear() -> nn.Module:
    m = nn.Linear(2, 1).double()
    with torch.no_grad():
        m.bias[0] = float("inf")
    return m


MALFORMED = [
    (lambda: nn.Sequential(nn.Linear(2, 2), nn.Hardshrink()), torch.zeros(1, 2),
     ("Hardshrink at module 1", "discontinuous at -1/2")),
    (lambda: nn.LSTM(2, 2), torch.zeros(1, 1, 2), ("LSTM at module LSTM", "batch_first=True")),
    (lambda: Sine(), torch.zeros(1, 2), ("unsupported operation torch.sin", "node sin")),
    (lambda: Matmul(), torch.zeros(1, 2), ("unsupported attribute .T at node getattr_1",)),
    (lambda: Branchy(), torch.zeros(1, 2), ("torch.fx cannot trace", "TraceError")),
    (lambda: nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)).train(), torch.zeros(1, 2),
     ("BatchNorm1d at module 1 is in training mode", "model.eval()")),
    (lambda: nn.Sequential(nn.Dropout(0.5)).train(), torch.zeros(1, 2),
     ("Dropout at module 0 is in training mode",)),
    (lambda: TrainDrop().train(), torch.zeros(1, 2), ("dropout at node dropout",)),
    (lambda: nn.BatchNorm1d(2, track_running_stats=False).eval(), torch.zeros(1, 2),
     ("has no running statistics",)),
    (lambda: DropsBatch(), torch.zeros(1, 2), (".view() at node view", "batch axis")),
    (lambda: TwoInputs(), torch.zeros(1, 2), ("several tensors",)),
    (lambda: Pair(), torch.zeros(1, 2), ("returns a tuple",)),
    (lambda: Aliased(), torch.zeros(1, 2), ("relu_", "modifies add in place")),
    (lambda: nn.Linear(3, 1), torch.zeros(1, 2), ("Linear at module Linear: expects 3 input features, gets 2",)),
    (lambda: nn.Linear(2, 1), torch.zeros(2), ("example input", "shape (1, ...)")),
    (lambda: nn.Linear(2, 1), torch.zeros(2, 2), ("example input", "got shape (2, 2)")),
    (lambda: _nan_linear(), torch.zeros(1, 2, dtype=D), ("parameter bias[0] is inf",)),
    (lambda: nn.Linear(2, 1), torch.tensor([[0.0, float("nan")]]), ("example input[0,1] is nan",)),
    (lambda: ConstOut(), torch.zeros(1, 2, dtype=D), ("does not depend on the input",)),
    (lambda: nn.Sequential(nn.Linear(2, 2), nn.Softshrink(0.0)), torch.zeros(1, 2),
     ("lambd must be positive",)),
    (lambda: nn.MaxPool1d(2, return_indices=True), torch.zeros(1, 1, 2),
     ("return_indices",)),
    (lambda: nn.LPPool1d(2, 2), torch.zeros(1, 1, 2),
     ("unsupported module LPPool1d",)),
    (lambda: "not a module", torch.zeros(1, 2), ("expected a torch.nn.Module",)),
    (lambda: HugePad(), torch.zeros(1, 2), ("pad at node pad", "over the limit",
                                            "ADCORRECT_TORCH_MAX_ENTRIES")),
    (lambda: nn.AdaptiveAvgPool1d(10**7), torch.zeros(1, 1, 2), ("over the limit",)),
]


def test_huge_kernels_cost_nothing() -> None:
    """A window of 10^9 taps over a short input is clipped arithmetically."""
    net = from_module(nn.MaxPool1d(10**9, stride=1, padding=5 * 10**8), torch.zeros(1, 1, 2))
    assert len(net.neurons) == 3 * 2  # three outputs: max of both inputs (tie + identity)
    net = from_module(nn.AvgPool1d(10**9, padding=5 * 10**8), torch.zeros(1, 1, 2))
    assert net.neurons[0].weights == (("const", Q(1, 10**9)),) * 2


@pytest.mark.parametrize(("make", "x", "parts"), MALFORMED)
def test_malformed_models_one_line(make: object, x: torch.Tensor, parts: tuple[str, ...]) -> None:
    model = make()  # type: ignore[operator]
    with pytest.raises(InputError) as e:
        from_module(model, x)
    one_line(e, *parts)


def test_example_exactness_of_float32_input() -> None:
    net = from_module(nn.Linear(1, 1).float(), torch.tensor([[0.1]], dtype=torch.float32))
    assert net.input == (Q(np.float32(0.1).item()),) == (Q(13421773, 2**27),)


# -- less common ops, against torch.autograd --------------------------------------------------


class Zoo1d(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv1d(2, 2, 3, padding=1, padding_mode="reflect")
        self.c2 = nn.Conv1d(2, 2, 2, padding=1, padding_mode="circular", groups=2)
        self.avg = nn.AvgPool1d(2, stride=2, ceil_mode=True, count_include_pad=False)
        self.amax = nn.AdaptiveMaxPool1d(2)
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.pad(F.relu(self.c1(x)), (1, 2), mode="replicate")
        h = self.avg(self.c2(h))
        h = torch.cat([h, -h], 1)[:, 1:3]
        return self.fc(self.amax(h).flatten(1))


class Zoo2d(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c = nn.Conv2d(1, 2, 3, padding="same")
        self.avg = nn.AvgPool2d(3, stride=1, padding=1, divisor_override=4)
        self.pool = nn.MaxPool2d(2, stride=2, padding=1, dilation=2)
        self.s = nn.Parameter(torch.ones(()))
        self.fc = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.c(x), 0.25)
        h = F.adaptive_avg_pool2d(self.avg(h), 2) + self.pool(h)[:, :, :2, :2]
        h = torch.add(h * 0.5, F.pad(h, (0, 0, 0, 0), value=1.0) * self.s, alpha=0.25)
        h = F.hardtanh(h - 1, -0.5, 0.5) / 2
        return self.fc(torch.reshape(h, (1, -1)))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_op_zoo_against_autograd(kind: str, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    model = (Zoo1d() if kind == "1d" else Zoo2d()).double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randint(-4, 5, p.shape, generator=gen).double() / 4)
    shape = (1, 2, 5) if kind == "1d" else (1, 1, 4, 4)
    x = torch.randint(-2, 3, shape, generator=gen).double() / 2
    net = from_module(model, x)
    out = model(x)
    assert [Q(v) for v in out.reshape(-1).tolist()] == outputs(net)  # float64 exact here
    assert list(ad(net)) == torch_grad(model, x)


def test_python_constants_are_rounded_to_the_compute_type() -> None:
    class M(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(1, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.relu(self.fc(x) * 0.1) / 3

    for dtype, tenth in ((torch.float32, Q(13421773, 2**27)), (D, Q(0.1))):
        net = from_module(M().to(dtype), torch.zeros(1, 1, dtype=dtype))
        fc, scaled, out = net.neurons
        assert fc.activation.is_identity and scaled.weights == (("const", tenth),)
        assert scaled.activation.name == "relu" and out.weights == (("const", Q(1, 3)),)


def test_multiplication_by_a_parameter() -> None:
    class M(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(1, 2)
            self.s = nn.Parameter(torch.tensor([2.0, 3.0], dtype=D))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.relu(self.fc(x)) * self.s

    m = M().double()
    assert [n for n, _ in m.named_parameters()] == ["s", "fc.weight", "fc.bias"]
    set_params(m, [2, 3], [[1], [-1]], [0.5, 0.5])
    net = from_module(m, t([[1]]))
    assert [(n.name, n.sources, n.weights) for n in net.neurons[2:]] == [
        ("mul[0]", (0,), (("param", 0),)), ("mul[1]", (1,), (("param", 1),))]
    assert list(ad(net)) == torch_grad(m, t([[1]]))


def test_batchnorm_without_affine_and_functional_batchnorm() -> None:
    bn = nn.BatchNorm1d(2, eps=1.0, affine=False).double().eval()
    bn.running_mean.copy_(t([1, -2]))
    bn.running_var.copy_(t([3, 15]))  # 1/sqrt(4) = 1/2, 1/sqrt(16) = 1/4
    net = from_module(bn, t([[0, 0]]))
    assert [(n.name, n.weights, n.bias) for n in net.neurons] == [
        ("BatchNorm1d[0]", (("const", Q(1, 2)),), ("const", Q(-1, 2))),
        ("BatchNorm1d[1]", (("const", Q(1, 4)),), ("const", Q(1, 2)))]
    assert net.W == 0 and outputs(net) == [Q(-1, 2), Q(1, 2)]

    class Fun(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bn = nn.BatchNorm1d(2, eps=1.0)
            self.drop = nn.Dropout(0.5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = F.batch_norm(x, self.bn.running_mean, self.bn.running_var, self.bn.weight,
                             self.bn.bias, False, 0.1, self.bn.eps)
            return F.dropout(self.drop(h), 0.25, training=False)

    class Mod(Fun):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.bn(x)

    fun = Fun().double().eval()
    fun.bn.running_var.copy_(t([3, 15]))
    set_params(fun, [2, 3], [0.5, -0.5])
    mod = Mod().double().eval()
    mod.load_state_dict(fun.state_dict())
    a, b = from_module(fun, t([[1, 1]])), from_module(mod, t([[1, 1]]))
    assert [(n.sources, n.weights, n.bias) for n in a.neurons] == \
        [(n.sources, n.weights, n.bias) for n in b.neurons]
    assert list(ad(a)) == torch_grad(fun, t([[1, 1]]))


@pytest.mark.parametrize("loss", ["sum", "mse", "ce"])
def test_saved_model_and_batch_files_end_to_end(tmp_path: Path, loss: str) -> None:
    """torch.save(model) + a batch file -> load_model, load_batch, batched_model; AD equals
    autograd (exactly; cross-entropy within 1e-12)."""
    torch.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(1, 2, 2), nn.BatchNorm2d(2, eps=0.0), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2, 2)).double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randint(-4, 5, p.shape).double() / 4)
        model[1].running_var.fill_(0.25)
    x = torch.randint(-2, 3, (4, 1, 3, 3)).double() / 2
    y = {"sum": t([[1], [-1], [0.5], [2]]), "mse": t([[0, 1], [1, 0], [0.5, 0.5], [-1, 2]]),
         "ce": torch.tensor([0, 1, 1, 0])}[loss]
    torch.save(model, tmp_path / "m.pt")
    if loss == "mse":
        np.savez(tmp_path / "b.npz", x=x.numpy(), y=y.numpy())
        path = tmp_path / "b.npz"
    else:
        torch.save({"x": x, "y": y}, tmp_path / "b.pt")
        path = tmp_path / "b.pt"
    batch = load_batch(path)
    assert batch.shape == (1, 3, 3) and tuple(example_input(batch).shape) == (1, 1, 3, 3)
    net = batched_model(load_model(tmp_path / "m.pt"), batch, loss)
    assert net.batch == 4 and net.W == 2 * 4 + 2 + 2 + 2 + 2 * 2 + 2
    out = model(x)
    lossv = {"sum": lambda: (y * out).sum(), "mse": lambda: F.mse_loss(out, y),
             "ce": lambda: F.cross_entropy(out, y)}[loss]()
    model.zero_grad()
    lossv.backward()
    tg = [p.grad.reshape(-1).tolist() for p in model.parameters()]
    flat = [v for g in tg for v in g]
    grad = ad(net)
    if loss == "ce":
        for a, b in zip(flat, grad):
            assert abs(a - (float(b) if isinstance(b, Q) else b.approx())) <= 1e-12
    else:
        assert [Q(v) for v in flat] == list(grad)


def test_shape_arithmetic_in_forward() -> None:
    class M(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(6, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = x.view(x.size(0), x.size(1) * x.size(2)) / (x.shape[1] // 1)
            return self.fc(h)

    net = from_module(M().double(), torch.zeros(1, 2, 3, dtype=D))
    # six identity neurons x_i / 2 (a Linear reads neurons), then the output
    assert [n.weights for n in net.neurons[:6]] == [(("const", Q(1, 2)),)] * 6
    assert net.neurons[6].sources == tuple(range(6))


def test_adaptive_and_pool_windows_match_pytorch() -> None:
    """Which inputs each output reads, for every length and output size up to 7 (adaptive)
    and a grid of pooling settings: torch's output on one-hot inputs says it."""
    def support_torch(layer: nn.Module, n: int) -> list[set[int]]:
        eye = torch.eye(n, dtype=D).reshape(n, 1, n)
        out = layer(eye)[:, 0, :]  # (input j, output o)
        return [{j for j in range(n) if out[j, o] != 0} for o in range(out.shape[1])]

    def support_ir(layer: nn.Module, n: int) -> list[set[int]]:
        net = from_module(layer, torch.ones(1, 1, n, dtype=D))
        reads: dict[int, set[int]] = {}
        for nrn in net.neurons:  # max nodes: an output reads what its chain reads
            reads[nrn.index] = set().union(*({-s - 1} if s < 0 else reads[s]
                                             for s in nrn.sources)) if nrn.sources else set()
        return [reads[o] for o in net.outputs]

    for n in range(1, 8):
        for m in range(1, 8):
            for layer in (nn.AdaptiveAvgPool1d(m), nn.AdaptiveMaxPool1d(m)):
                assert support_ir(layer, n) == support_torch(layer, n), (layer, n)
    for n in (3, 4, 7):
        for k in range(1, 4):
            for s in (1, 2):
                for p in range(k // 2 + 1):
                    for ceil_mode in (False, True):
                        for layer in (nn.AvgPool1d(k, s, p, ceil_mode=ceil_mode),
                                      nn.MaxPool1d(k, s, p, ceil_mode=ceil_mode),
                                      nn.MaxPool1d(k, s, p, dilation=2, ceil_mode=ceil_mode)):
                            try:
                                want = support_torch(layer, n)
                            except RuntimeError:
                                continue  # PyTorch rejects the setting
                            assert support_ir(layer, n) == want, (layer, n)


def test_products_of_input_values_are_mul_neurons() -> None:
    """x * x (two factors computed from the input) is a product neuron, refused by the
    exact tools with one line and decided by the certified engine."""
    net = from_module(Product(), torch.zeros(1, 2))
    muls = [n for n in net.neurons if n.op == "mul"]
    assert len(muls) == 2 and all(n.sources[0] == n.sources[1] for n in muls)
    assert net.is_smooth
    with pytest.raises(InputError) as e:
        net.require_exact()
    one_line(e, "a product of values", "certified engine")
