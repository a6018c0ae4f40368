"""Activations of THEORY.md section 2: continuous, piecewise polynomial, exact.

An activation is given by strictly increasing breakpoints c_1 < ... < c_m and
polynomial pieces p_0 .. p_m (piece i lives on [c_i, c_{i+1}]), agreeing at the
breakpoints.  Kinks are the breakpoints whose one-sided slopes differ.  Smooth
activations (tanh, sigmoid, softplus, elu, gelu) have no kinks and no exact
polynomial form: they are accepted by the spec parser and by the float
cross-checks, and rejected with an InputError wherever exact arithmetic is
required (the exact engine, the counter and the SMT generator).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from ..core.errors import InputError
from ..numbers.rationals import parse_rational

Poly = tuple[Fraction, ...]  # coefficients, lowest degree first
Choice = str | Fraction  # "pytorch" | "left" | "right" | a number

CHOICE_NAMES = ("pytorch", "left", "right")


def poly_eval(p: Poly, x: Fraction) -> Fraction:
    """Value of the polynomial p at x."""
    acc = Fraction(0)
    for c in reversed(p):
        acc = acc * x + c
    return acc


def poly_deriv(p: Poly) -> Poly:
    """Derivative polynomial of p."""
    return tuple(Fraction(i) * c for i, c in enumerate(p))[1:] or (Fraction(0),)


def _poly(*coeffs: Fraction | int) -> Poly:
    return tuple(Fraction(c) for c in coeffs)


@dataclass(frozen=True)
class Activation:
    """A continuous piecewise-polynomial activation (or a smooth one, exact=False)."""

    name: str
    breakpoints: tuple[Fraction, ...] = ()
    pieces: tuple[Poly, ...] = ((Fraction(0), Fraction(1)),)
    torch_choice: tuple[Fraction, ...] = ()  # PyTorch's derivative at each breakpoint
    exact: bool = True
    float_fn: Callable[[float], float] | None = field(default=None, compare=False)
    fn: str = ""  # a smooth function's key in adcorrect.numbers.smoothfns.SMOOTH
    args: tuple[Fraction, ...] = ()  # its parameters (elu's alpha, softplus's beta)

    def _left_index(self, x: Fraction) -> int:
        return sum(1 for c in self.breakpoints if c < x)

    def _right_index(self, x: Fraction) -> int:
        return sum(1 for c in self.breakpoints if c <= x)

    @property
    def is_identity(self) -> bool:
        """Whether sigma(x) = x (no breakpoints, the single piece x)."""
        if not self.exact or self.breakpoints:
            return False
        coeffs = list(self.pieces[0])
        while len(coeffs) > 2 and coeffs[-1] == 0:
            coeffs.pop()
        return coeffs == [0, 1]

    def require_exact(self) -> None:
        """Raise InputError unless the activation is piecewise polynomial."""
        if not self.exact:
            raise InputError(
                f"activation {self.name} is not piecewise polynomial: exact analysis "
                "(count, smt, the exact oracle) needs relu-like activations; smooth ones are "
                "decided by the certified engine (check, audit)"
            )

    def value(self, x: Fraction) -> Fraction:
        """sigma(x), exactly."""
        self.require_exact()
        return poly_eval(self.pieces[self._left_index(x)], x)

    def slope_left(self, x: Fraction) -> Fraction:
        """sigma'_-(x)."""
        self.require_exact()
        return poly_eval(poly_deriv(self.pieces[self._left_index(x)]), x)

    def slope_right(self, x: Fraction) -> Fraction:
        """sigma'_+(x)."""
        self.require_exact()
        return poly_eval(poly_deriv(self.pieces[self._right_index(x)]), x)

    @property
    def kinks(self) -> tuple[Fraction, ...]:
        """ndf(sigma): breakpoints whose one-sided slopes differ."""
        return tuple(c for c in self.breakpoints if self.slope_left(c) != self.slope_right(c))

    def kink_table(self) -> tuple[tuple[Fraction, Fraction, Fraction, Fraction], ...]:
        """(point, left slope, right slope, PyTorch's derivative) at every kink; smooth
        activations included (elu(alpha) with alpha != 1 has one at 0)."""
        if self.exact:
            return tuple((c, self.slope_left(c), self.slope_right(c),
                          self.torch_choice[self.breakpoints.index(c)]) for c in self.kinks)
        from ..numbers.smoothfns import SMOOTH

        return tuple((k.at, k.left, k.right, k.torch) for k in SMOOTH[self.fn].kinks(self.args))

    def chosen(self, left: Fraction, right: Fraction, torch: Fraction, choice: Choice
               ) -> Fraction:
        """The derivative the choice takes at a kink with these slopes."""
        if choice == "left":
            return left
        if choice == "right":
            return right
        return torch if choice == "pytorch" else Fraction(choice)

    def is_kink(self, x: Fraction) -> bool:
        """Whether x is in ndf(sigma)."""
        return x in self.breakpoints and self.slope_left(x) != self.slope_right(x)

    def derivative(self, x: Fraction, choice: Choice = "pytorch") -> Fraction:
        """sigma'(x) off the kinks; the chosen derivative D sigma(x) at a kink."""
        if not self.is_kink(x):
            return self.slope_left(x)
        return self.chosen(self.slope_left(x), self.slope_right(x),
                           self.torch_choice[self.breakpoints.index(x)], choice)

    def value_float(self, x: float) -> float:
        """sigma(x) in float64 (for the smooth activations and cross-checks)."""
        if self.float_fn is not None:
            return self.float_fn(x)
        return float(self.value(Fraction(x)))


def _check_continuity(act: Activation) -> Activation:
    for i, c in enumerate(act.breakpoints):
        if poly_eval(act.pieces[i], c) != poly_eval(act.pieces[i + 1], c):
            raise InputError(f"activation {act.name} is discontinuous at {c}")
    return act


def relu() -> Activation:
    return Activation("relu", (Fraction(0),), (_poly(0), _poly(0, 1)), (Fraction(0),))


def relu_split() -> Activation:
    """relu with derivative 1/2 at 0: ``torch.maximum(a, b) = a + relu(b - a)`` and
    ``torch.minimum(a, b) = a - relu(a - b)`` with PyTorch's gradient at a tie (half to
    each side)."""
    return Activation("relu[tie 1/2]", (Fraction(0),), (_poly(0), _poly(0, 1)),
                      (Fraction(1, 2),))


def leaky_relu(a: Fraction) -> Activation:
    return Activation(f"leaky_relu({a})", (Fraction(0),), (_poly(0, a), _poly(0, 1)), (a,))


def hardtanh(lo: Fraction = Fraction(-1), hi: Fraction = Fraction(1)) -> Activation:
    if not lo < hi:
        raise InputError(f"hardtanh({lo},{hi}): needs min < max")
    name = "hardtanh" if (lo, hi) == (-1, 1) else f"hardtanh({lo},{hi})"
    return Activation(name, (lo, hi), (_poly(lo), _poly(0, 1), _poly(hi)), (Fraction(0),) * 2)


def clamp(lo: Fraction | None, hi: Fraction | None) -> Activation:
    """``torch.clamp(x, lo, hi)``: PyTorch's derivative at a bound is 1 (its backward keeps
    ``lo <= x <= hi``), unlike hardtanh's 0."""
    if lo is None and hi is None:
        raise InputError("clamp: at least one of min and max is needed")
    if lo is not None and hi is not None and not lo < hi:
        raise InputError(f"clamp({lo},{hi}): needs min < max")
    name = f"clamp({'' if lo is None else lo},{'' if hi is None else hi})"
    if lo is None:
        return Activation(name, (hi,), (_poly(0, 1), _poly(hi)), (Fraction(1),))  # type: ignore[arg-type]
    if hi is None:
        return Activation(name, (lo,), (_poly(lo), _poly(0, 1)), (Fraction(1),))
    return Activation(name, (lo, hi), (_poly(lo), _poly(0, 1), _poly(hi)), (Fraction(1),) * 2)


def threshold(th: Fraction, value: Fraction) -> Activation:
    """``nn.Threshold(th, value)``: x above th, else value; continuous only for value = th
    (else refused as discontinuous), PyTorch's derivative at th being 0 (its backward
    keeps ``x > th``)."""
    return _check_continuity(Activation(f"threshold({th},{value})", (th,),
                                        (_poly(value), _poly(0, 1)), (Fraction(0),)))


def relu6() -> Activation:
    return Activation("relu6", _poly(0, 6), (_poly(0), _poly(0, 1), _poly(6)), _poly(0, 0))


def hardsigmoid() -> Activation:
    return Activation(
        "hardsigmoid", _poly(-3, 3),
        (_poly(0), _poly(Fraction(1, 2), Fraction(1, 6)), _poly(1)), _poly(0, 0),
    )


def hardswish() -> Activation:
    return Activation(
        "hardswish", _poly(-3, 3),
        (_poly(0), _poly(0, Fraction(1, 2), Fraction(1, 6)), _poly(0, 1)), _poly(0, 1),
    )


def abs_() -> Activation:
    return Activation("abs", (Fraction(0),), (_poly(0, -1), _poly(0, 1)), (Fraction(0),))


def softshrink(lam: Fraction) -> Activation:
    if lam <= 0:
        raise InputError(f"softshrink({lam}): lambda must be > 0")
    return Activation(
        f"softshrink({lam})", (-lam, lam),
        (_poly(lam, 1), _poly(0), _poly(-lam, 1)), (Fraction(0),) * 2,
    )


def hardshrink(lam: Fraction) -> Activation:
    """``nn.Hardshrink(lambd)``: x where |x| > lambd, else 0; it jumps at +-lambd, so it
    is refused as discontinuous (lambd > 0)."""
    if lam <= 0:
        raise InputError(f"hardshrink({lam}): lambda must be > 0")
    return _check_continuity(Activation(
        f"hardshrink({lam})", (-lam, lam), (_poly(0, 1), _poly(0), _poly(0, 1)),
        (Fraction(0),) * 2))


def identity() -> Activation:
    return Activation("identity")


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _softplus(x: float) -> float:
    return math.log1p(math.exp(-abs(x))) + max(x, 0.0)


_SMOOTH: dict[str, Callable[[float], float]] = {
    "tanh": math.tanh,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "elu": lambda x: x if x > 0 else math.expm1(x),
    "gelu": lambda x: 0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0))),
    "gelu_tanh": lambda x: 0.5 * x * (1.0 + math.tanh(math.sqrt(2.0 / math.pi)
                                                      * (x + 0.044715 * x ** 3))),
    "silu": lambda x: x * _sigmoid(x),
    "mish": lambda x: x * math.tanh(_softplus(x)),
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "rsqrt": lambda x: 1.0 / math.sqrt(x),
    "reciprocal": lambda x: 1.0 / x,
}

#: smooth functions with one parameter, and its default
_SMOOTH_ARG: dict[str, Fraction] = {"elu": Fraction(1), "softplus": Fraction(1)}


def smooth(fn: str, args: tuple[Fraction, ...] = ()) -> Activation:
    """The smooth activation ``fn`` (a key of ``numbers.smoothfns.SMOOTH``) with its
    parameters: ``elu(alpha)``, ``softplus(beta)``; no exact polynomial form (exact=False),
    decided by the certified engine (:mod:`adcorrect.exact.certified`)."""
    if fn in _SMOOTH_ARG and args == (_SMOOTH_ARG[fn],):
        args = ()
    if fn == "softplus" and args and args[0] <= 0:
        raise InputError(f"softplus({args[0]}): beta must be > 0")
    name = f"{fn}({','.join(map(str, args))})" if args else fn
    base = _SMOOTH[fn]
    if fn == "elu" and args:
        a = float(args[0])
        ffn: Callable[[float], float] = lambda x: x if x > 0 else a * math.expm1(x)
    elif fn == "softplus" and args:
        bt = float(args[0])
        ffn = lambda x: _softplus(bt * x) / bt
    else:
        ffn = base
    return Activation(name, exact=False, float_fn=ffn, fn=fn, args=args)

_DISCONTINUOUS = {"hardshrink", "step", "sign", "heaviside", "threshold"}

_FIXED: dict[str, Callable[[], Activation]] = {
    "relu": relu,
    "relu6": relu6,
    "hardsigmoid": hardsigmoid,
    "hardswish": hardswish,
    "abs": abs_,
    "identity": identity,
    "linear": identity,
}

KNOWN = (
    "relu, leaky_relu(a), hardtanh, relu6, hardsigmoid, hardswish, abs, softshrink(l), "
    "identity, tanh, sigmoid, softplus(beta), elu(alpha), gelu, gelu_tanh, silu, mish, exp, "
    "log, sqrt, rsqrt, reciprocal"
)

_SYNTAX = re.compile(r"^([a-z_0-9]+)(?:\((.*)\))?$")


def parse_activation(text: str) -> Activation:
    """The activation named by text, e.g. 'relu', 'leaky_relu(1/8)', 'softshrink(1/2)'."""
    if not isinstance(text, str):
        raise InputError(f"activation must be a string, got {text!r}")
    m = _SYNTAX.match(text.strip().lower().replace(" ", ""))
    if not m:
        raise InputError(f"malformed activation {text!r}")
    name, argtext = m.group(1), m.group(2)
    args = [parse_rational(a) for a in argtext.split(",")] if argtext else []
    if name in _DISCONTINUOUS:
        raise InputError(
            f"activation {name} is discontinuous; the theory (THEORY.md section 2) "
            "covers continuous piecewise-C1 activations only"
        )
    if name in _FIXED and not args:
        return _FIXED[name]()
    if name in _SMOOTH and not args:
        return smooth(name)
    if name in _SMOOTH_ARG and len(args) == 1:
        return smooth(name, (args[0],))
    if name == "leaky_relu" and len(args) <= 1:
        return _check_continuity(leaky_relu(args[0] if args else Fraction(1, 100)))
    if name == "hardtanh" and len(args) in (0, 2):
        return hardtanh(*args)
    if name == "softshrink" and len(args) <= 1:
        return softshrink(args[0] if args else Fraction(1, 2))
    if name in _FIXED or name in _SMOOTH or name in ("leaky_relu", "hardtanh", "softshrink"):
        raise InputError(f"activation {name}: wrong arguments in {text!r}")
    raise InputError(f"unknown activation {text!r} (known: {KNOWN})")


def parse_choice(text: str | Fraction) -> Choice:
    """A derivative choice: 'pytorch', 'left', 'right' or a rational number."""
    if isinstance(text, Fraction):
        return text
    t = str(text).strip().lower()
    if t in CHOICE_NAMES:
        return t
    try:
        return parse_rational(t)
    except InputError as e:
        if "exceeds the limit" in str(e):
            raise
        raise InputError(
            f"unknown derivative choice {text!r} (use pytorch, left, right or a number)"
        ) from None
