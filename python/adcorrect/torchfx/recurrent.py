"""Recurrent layers unrolled over the given sequence (``nn.LSTM``, ``nn.GRU``,
``nn.RNN``) as IR neurons: products, sigmoids and tanhs of THEORY.md section 8's smooth
pre-activations (relu for ``nn.RNN(nonlinearity='relu')``).

PyTorch's equations, initial states zero, gates in the rows of ``weight_ih_l{k}`` in
PyTorch's order (LSTM i, f, g, o; GRU r, z, n)::

    LSTM  i, f, o = sigmoid(W_i* x + b_i* + W_h* h + b_h*),  g = tanh(...)
          c' = f c + i g,  h' = o tanh(c')
    GRU   r, z = sigmoid(W_i* x + b_i* + W_h* h + b_h*)
          n = tanh(W_in x + b_in + r (W_hn h + b_hn)),  h' = (1 - z) n + z h
    RNN   h' = tanh or relu(W_ih x + b_ih + W_hh h + b_hh)

(``h' = n + z (h - n)`` for the GRU: the same function.)  Stacked layers read the
previous layer's output sequence; ``bidirectional`` runs a second pass from the last
step and concatenates the two hidden states at each step, as PyTorch does.

Supported: ``batch_first=True`` (the batch axis must come first), any ``num_layers``,
``bias`` or not, ``bidirectional``.  Refused with one line: ``batch_first=False``,
``proj_size > 0``, dropout between layers in training mode, an explicit initial state.
The module returns PyTorch's structure ``(output, h_n)`` (``(output, (h_n, c_n))`` for
the LSTM); only ``output`` is imported: ``h_n`` and ``c_n`` have the layers axis first,
and any use of them is an InputError (:class:`RecurrentFinalState`).

Neurons are named ``where/l{k}/t{t}/{gate}[j]`` for hidden unit j (``l{k}_reverse`` for
the reverse direction; ``#n`` after it in a whole-batch import): gates ``i f g o`` (LSTM), ``r z n`` (GRU), ``h`` (the hidden state; an RNN's
pre-activation), ``c`` and ``tanh_c`` (LSTM), ``hh`` (``W_hh h + b_hh``).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from torch import nn

from ..core.errors import InputError
from ..nets import activations as acts
from . import ops, tensors
from .fxargs import match_args
from .symbolic import Affine, Builder
from .values import Sym

Array = np.ndarray
ONE, MINUS = Fraction(1), Fraction(-1)
_SIGMOID = acts.smooth("sigmoid")
_TANH = acts.smooth("tanh")
_KINDS = (nn.LSTM, nn.GRU, nn.RNN)


class RecurrentFinalState:
    """``h_n`` / ``c_n`` of a recurrent layer, (layers x directions, batch, hidden): PyTorch
    puts the layers axis first, the IR needs the batch axis first, so only an integer
    index is imported (``h_n[-1]``: the last layer's final state, batch first).  Not a
    :class:`~.values.Sym`, so the importer refuses it wherever a tensor is expected
    (``expected a tensor, got RecurrentFinalState``); anything else on it raises this
    module's one-line InputError naming the layer."""

    def __init__(self, what: str, where: str, states: list[Array]) -> None:
        self.what = what
        self.where = where
        self.states = states

    def refuse(self, *_args: Any) -> Any:
        raise InputError(f"{self.what} of the recurrent layer {self.where} is not supported "
                         f"except by an integer index ({self.what}[-1]); or use the output "
                         "sequence (out[0])")

    def __getitem__(self, i: Any) -> Sym:
        if not isinstance(i, int) or isinstance(i, bool) or \
                not -len(self.states) <= i < len(self.states):
            return self.refuse()  # type: ignore[no-any-return]
        return Sym(self.states[i], True)

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = refuse
    __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __neg__ = __pos__ = refuse

    def __repr__(self) -> str:
        return f"RecurrentFinalState({self.what}, {self.where})"


def module_call(imp: Any, m: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any],
                where: str) -> Any:
    """A recurrent module, or NotImplemented."""
    kind = type(m)
    if kind not in _KINDS:
        return NotImplemented
    x, hx = match_args(args, kwargs, ("input", None), ("hx", None))
    if hx is not None:
        raise InputError("an explicit initial state (h0 / (h0, c0)) is not supported; pass only "
                         "the input (zero initial state)")
    if not m.batch_first:
        raise InputError("needs batch_first=True (the batch axis must come first)")
    if getattr(m, "proj_size", 0) > 0:
        raise InputError("proj_size > 0 is not supported")
    if m.training and m.dropout > 0 and m.num_layers > 1:
        raise InputError("dropout between layers in training mode is not supported (random); "
                         "call model.eval() first")
    if kind is nn.RNN and m.nonlinearity not in ("tanh", "relu"):
        raise InputError(f"nonlinearity {m.nonlinearity!r} is not supported")
    seq = imp.batched(x)
    if seq.ndim != 3:
        raise InputError(f"expects a 3-d input (batch, sequence, features), gets {seq.ndim}-d")
    if seq.shape[1] < 1:
        raise InputError("the input sequence is empty")
    if seq.shape[2] != m.input_size:
        raise InputError(f"expects {m.input_size} input features, gets {seq.shape[2]}")
    dirs = 2 if m.bidirectional else 1
    hs: list[Array] = []
    cs: list[Array] = []
    for k in range(m.num_layers):
        runs = [_direction(imp, m, seq, k, d, where) for d in range(dirs)]
        for d, (o, c) in enumerate(runs):  # the final step: the last one, or the first backward
            hs.append(o[:, 0 if d else -1, :])
            cs.append(c)  # type: ignore[arg-type]
        outs = [o for o, _ in runs]
        seq = outs[0] if dirs == 1 else np.concatenate(outs, axis=2)
    out = Sym(seq, True)
    h_n = RecurrentFinalState("h_n", where, hs)
    if kind is nn.LSTM:
        return out, (h_n, RecurrentFinalState("c_n", where, cs))
    return out, h_n


def _direction(imp: Any, m: nn.Module, seq: Array, k: int, d: int, where: str
               ) -> tuple[Array, Array | None]:
    """One layer in one direction over the sequence: the hidden states, shape (B, T, H),
    and the final cell state (LSTM; else None)."""
    sfx = "_reverse" if d else ""
    W_ih = imp.weights(getattr(m, f"weight_ih_l{k}{sfx}"), f"weight_ih_l{k}{sfx}")
    W_hh = imp.weights(getattr(m, f"weight_hh_l{k}{sfx}"), f"weight_hh_l{k}{sfx}")
    b_ih = imp.weights(getattr(m, f"bias_ih_l{k}{sfx}"), f"bias_ih_l{k}{sfx}") \
        if m.bias else None
    b_hh = imp.weights(getattr(m, f"bias_hh_l{k}{sfx}"), f"bias_hh_l{k}{sfx}") \
        if m.bias else None
    B, T, _ = seq.shape
    H = m.hidden_size
    out = ops.new_array((B, T, H))
    h: Array | None = None  # None: the zero initial state
    c: Array | None = None
    for t in (range(T - 1, -1, -1) if d else range(T)):
        base = f"{where}/l{k}{sfx}/t{t}"
        gx = ops.linear(imp.b, seq[:, t, :], W_ih, b_ih, f"{base}/x")
        gh = _hidden(imp.b, h, W_hh, b_hh, B, f"{base}/hh")
        if isinstance(m, nn.LSTM):
            h, c = _lstm(imp.b, gx, gh, c, H, base)
        elif isinstance(m, nn.GRU):
            h = _gru(imp.b, gx, gh, h, H, base)
        else:
            h = _rnn(imp.b, gx, gh, m.nonlinearity, base)
        out[:, t, :] = h
    return out, c


def _hidden(b: Builder, h: Array | None, W: Array, bias: Array | None, B: int,
            name: str) -> Array | None:
    """``W h + bias`` (B, G): with h zero, the bias alone (None without a bias)."""
    if h is not None:
        return ops.linear(b, h, W, bias, name)
    if bias is None:
        return None
    out = ops.new_array((B, W.shape[0]))
    for idx in np.ndindex(*out.shape):
        out[idx] = Affine((), bias[idx[1]], ops.label(name, idx))
    return out


def _pre(b: Builder, gx: Array, gh: Array | None, rows: slice, name: str) -> Array:
    """The pre-activations ``gx + gh`` of the rows of one gate, shape (B, H)."""
    x, h = gx[:, rows], None if gh is None else gh[:, rows]
    out = ops.new_array(x.shape)
    for idx in np.ndindex(*x.shape):
        items = [(ONE, x[idx])] if h is None else [(ONE, x[idx]), (ONE, h[idx])]
        out[idx] = b.lincomb(items, ops.label(name, idx))
    return out


def _apply(b: Builder, x: Array, act: acts.Activation, name: str) -> Array:
    """act entrywise: a pending entry becomes its own activation neuron (named after it),
    a source is read by a new neuron ``name[b, j]``."""
    out = ops.new_array(x.shape)
    for idx in np.ndindex(*x.shape):
        out[idx] = b.activate(x[idx], act, ops.label(name, idx))
    return out


def _entrywise(x: Array, fn: Any, name: str) -> Array:
    out = ops.new_array(x.shape)
    for idx in np.ndindex(*x.shape):
        out[idx] = fn(idx, ops.label(name, idx))
    return out


def _lstm(b: Builder, gx: Array, gh: Array | None, c: Array | None, H: int, base: str
          ) -> tuple[Array, Array]:
    i, f, g, o = (_apply(b, _pre(b, gx, gh, slice(j * H, (j + 1) * H), f"{base}/{nm}"), act,
                         f"{base}/{nm}")
                  for j, (nm, act) in enumerate((("i", _SIGMOID), ("f", _SIGMOID),
                                                 ("g", _TANH), ("o", _SIGMOID))))

    def cell(idx: tuple[int, ...], nm: str) -> Affine:
        if c is None:  # f * 0 vanishes
            return tensors.times(b, i[idx], g[idx], nm)
        ig = tensors.times(b, i[idx], g[idx], f"{nm}/ig")
        return b.lincomb(((ONE, tensors.times(b, f[idx], c[idx], f"{nm}/fc")), (ONE, ig)), nm)

    c_new = _entrywise(i, cell, f"{base}/c")
    for e in c_new.reshape(-1):
        b.source(e)  # c' is a neuron: read by tanh and by the next step
    tc = _apply(b, c_new, _TANH, f"{base}/tanh_c")
    h_new = _entrywise(o, lambda idx, nm: tensors.times(b, o[idx], tc[idx], nm), f"{base}/h")
    return h_new, c_new


def _gru(b: Builder, gx: Array, gh: Array | None, h: Array | None, H: int, base: str
         ) -> Array:
    r, z = (_apply(b, _pre(b, gx, gh, slice(j * H, (j + 1) * H), f"{base}/{nm}"), _SIGMOID,
                   f"{base}/{nm}") for j, nm in enumerate("rz"))
    rows = slice(2 * H, 3 * H)
    xn, hn = gx[:, rows], None if gh is None else gh[:, rows]

    def pre_n(idx: tuple[int, ...], nm: str) -> Affine:
        if hn is None:
            return b.lincomb(((ONE, xn[idx]),), nm)
        rh = tensors.times(b, r[idx], hn[idx], f"{nm}/rh")
        return b.lincomb(((ONE, xn[idx]), (ONE, rh)), nm)

    n = _apply(b, _entrywise(r, pre_n, f"{base}/n"), _TANH, f"{base}/n")

    def new_h(idx: tuple[int, ...], nm: str) -> Affine:
        if h is None:  # (1 - z) n
            return b.lincomb(((ONE, n[idx]), (MINUS, tensors.times(b, z[idx], n[idx],
                                                                   f"{nm}/zn"))), nm)
        diff = b.lincomb(((ONE, h[idx]), (MINUS, n[idx])), f"{nm}/h-n")
        return b.lincomb(((ONE, n[idx]), (ONE, tensors.times(b, z[idx], diff, f"{nm}/zd"))),
                         nm)

    return _entrywise(n, new_h, f"{base}/h")


def _rnn(b: Builder, gx: Array, gh: Array | None, nonlinearity: str, base: str) -> Array:
    act = _TANH if nonlinearity == "tanh" else acts.relu()
    return _apply(b, _pre(b, gx, gh, slice(None), f"{base}/h"), act, f"{base}/h")
