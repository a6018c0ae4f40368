"""Recurrent layers (adcorrect/torchfx/recurrent.py): nn.LSTM, nn.GRU and nn.RNN unrolled
over the sequence, decided by the certified engine with torch's float64 autograd inside
its enclosures, an audit end to end, and the refusals (one-line InputErrors)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from adcorrect.audit.run import Auditor
from adcorrect.core.errors import InputError
from adcorrect.torchfx.importer import from_module
from certad import assert_ad_in_enclosures
from torch import nn


class Last(nn.Module):
    """A recurrent layer, its output at the last step, a linear head."""

    def __init__(self, rnn: nn.Module, classes: int = 2) -> None:
        super().__init__()
        self.rnn = rnn
        width = rnn.hidden_size * (2 if rnn.bidirectional else 1)
        self.fc = nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.rnn(x)
        return self.fc(out[0][:, -1])


class Unpacked(nn.Module):
    """``out, (h, c) = lstm(x)`` using only the output sequence (mean over the steps)."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(3, 4, batch_first=True)
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, (_h, _c) = self.rnn(x)
        return self.fc(out.mean(1))


class FinalHidden(nn.Module):
    """Reads the final states by integer indices (PyTorch's h_n and c_n are (layers x
    directions, batch, hidden)): every layer's and direction's, and the last c_n."""

    def __init__(self, rnn: nn.Module) -> None:
        super().__init__()
        self.rnn = rnn
        n = rnn.num_layers * (2 if rnn.bidirectional else 1)
        self.fc = nn.Linear(rnn.hidden_size * (n + isinstance(rnn, nn.LSTM)), 2)
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.rnn(x)[1]
        c = None
        if isinstance(self.rnn, nn.LSTM):
            h, c = h
        parts = [h[i] for i in range(-self.n, 0)] + ([] if c is None else [c[-1]])
        return self.fc(torch.cat(parts, dim=1))


class SlicedState(nn.Module):
    """h_n[-2:] keeps the layers axis first: refused."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(3, 4, num_layers=2, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(x)[1][-2:].sum(0)


class ReturnsState(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(3, 4, batch_first=True)

    def forward(self, x: torch.Tensor) -> Any:
        return self.rnn(x)[1]


class StateArithmetic(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.RNN(3, 4, batch_first=True)
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> Any:
        out, h = self.rnn(x)
        return self.fc(out[:, -1] + 2 * h)


class StateIntoLinear(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.RNN(3, 4, batch_first=True)
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> Any:
        return self.fc(self.rnn(x)[1])


class WithState(nn.Module):
    """An explicit initial state: refused."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(3, 4, batch_first=True)
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = torch.zeros(1, 1, 4)
        return self.fc(self.rnn(x, h0)[0][:, -1])


CASES = {
    "lstm": lambda: nn.LSTM(3, 4, batch_first=True),
    "gru": lambda: nn.GRU(3, 4, batch_first=True),
    "rnn_tanh": lambda: nn.RNN(3, 4, batch_first=True),
    "rnn_relu": lambda: nn.RNN(3, 4, batch_first=True, nonlinearity="relu"),
    "lstm_2_layers": lambda: nn.LSTM(3, 4, num_layers=2, batch_first=True),
    "gru_no_bias": lambda: nn.GRU(3, 4, batch_first=True, bias=False),
    "lstm_bidirectional": lambda: nn.LSTM(3, 3, batch_first=True, bidirectional=True),
    "gru_bidirectional_2_layers": lambda: nn.GRU(3, 2, num_layers=2, batch_first=True,
                                                 bidirectional=True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_decided_and_ad_in_enclosures(case: str) -> None:
    torch.manual_seed(11)
    m = Last(CASES[case]()).double()
    x = torch.randn(2, 3, 3, dtype=torch.float64)
    assert_ad_in_enclosures(m, x, torch.tensor([0, 1]))


@pytest.mark.parametrize("case", ["lstm", "gru", "rnn_relu", "lstm_bidirectional",
                                  "gru_bidirectional_2_layers", "lstm_2_layers"])
def test_final_states_by_index(case: str) -> None:
    """h_n[i] for every layer and direction (the backward direction's final step is the
    first) and c_n[-1]: AD in the enclosures of torch's float64 autograd."""
    torch.manual_seed(14)
    m = FinalHidden(CASES[case]()).double()
    assert_ad_in_enclosures(m, torch.randn(2, 3, 3, dtype=torch.float64), torch.tensor([1, 0]))


def test_unpacked_outputs_mean_over_steps() -> None:
    torch.manual_seed(12)
    m = Unpacked().double()
    assert_ad_in_enclosures(m, torch.randn(2, 3, 3, dtype=torch.float64), torch.tensor([1, 0]))


def test_neuron_names() -> None:
    torch.manual_seed(0)
    net = from_module(Last(nn.LSTM(3, 4, batch_first=True)).double(),
                      torch.randn(1, 2, 3, dtype=torch.float64))
    names = {n.name for n in net.neurons}
    for nm in ("rnn/l0/t0/i[0]", "rnn/l0/t0/c[1]", "rnn/l0/t0/f[1]", "rnn/l0/t0/g[2]", "rnn/l0/t1/o[3]",
               "rnn/l0/t1/c[0]", "rnn/l0/t1/tanh_c[0]", "rnn/l0/t1/h[3]"):
        assert nm in names
    assert not any("/dup" in n for n in names)


@pytest.mark.usefixtures("float32_default")
def test_audit_float32_lstm_end_to_end() -> None:
    torch.manual_seed(13)
    m = Last(nn.LSTM(3, 4, num_layers=2, batch_first=True)).eval()
    x, y = torch.randn(2, 3, 3), torch.tensor([0, 1])
    res = Auditor(m, x, "ce").audit(x, y)
    assert res["exact"]["differentiable"] is True


@pytest.mark.usefixtures("float32_default")
@pytest.mark.parametrize(("model", "needle"), [
    (lambda: Last(nn.LSTM(3, 4)), "batch_first=True"),
    (lambda: Last(nn.LSTM(3, 4, batch_first=True, proj_size=2)), "proj_size"),
    (lambda: Last(nn.GRU(3, 4, num_layers=2, batch_first=True, dropout=0.5)).train(),
     "dropout"),
    (lambda: WithState(), "initial state"),
    (lambda: SlicedState(), "except by an integer index (h_n[-1])"),
    (lambda: StateArithmetic(), "h_n of the recurrent layer rnn is not supported"),
    (lambda: ReturnsState(), "returns a RecurrentFinalState"),
    (lambda: StateIntoLinear(), "h_n of the recurrent layer rnn is not supported"),
], ids=["batch_first", "proj_size", "dropout", "h0", "h_n_sliced", "h_n_arithmetic",
        "returns_h_n", "h_n_into_linear"])
def test_refused(model: Any, needle: str) -> None:
    with pytest.raises(InputError) as e:
        from_module(model(), torch.randn(1, 3, 3))
    msg = str(e.value)
    assert needle in msg and "\n" not in msg, msg


@pytest.mark.usefixtures("float32_default")
def test_dropout_in_eval_mode_or_one_layer_is_fine() -> None:
    from_module(Last(nn.GRU(3, 4, num_layers=2, batch_first=True, dropout=0.5)).eval(),
                torch.randn(1, 3, 3))
    with pytest.warns(UserWarning):
        rnn = nn.LSTM(3, 4, batch_first=True, dropout=0.5)  # no dropout with one layer
    from_module(Last(rnn).train(), torch.randn(1, 3, 3))
