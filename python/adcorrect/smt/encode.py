"""SMT-LIB 2.6 definitions for one network (THEORY.md sections 4 and 7).

Two encoders produce lists of command lines (``define-fun`` etc.) that the
templates lay out:

- :class:`ExactEncoder`: the theorems' semantics.  Parameters are machine
  numbers (an IEEE constant of sort ``(_ FloatingPoint eb sb)`` asserted finite
  and read through ``fp.to_real``, or a real constrained to a finite list of
  values); everything else is real arithmetic: the forward pass ``y_k``/``z_k``,
  kinks, one-sided slopes ``sl_k``/``sr_k``, the chosen derivative ``d_k``, the
  adjoints ``zbar_k``/``ybar_k``, ``AD_D f(w)`` as ``ad_i``, ``NS``, and the
  side-aware directional derivative ``phi`` as a function of the direction.
- :class:`FloatEncoder`: execution semantics, pure QF_FP: forward and backward
  passes in the format with RNE, in the operation order documented in
  :mod:`adcorrect.smt.fpexec` (which re-executes them exactly in Python).

Names: parameter ``i`` is ``p<i>`` (FP sort) and ``w<i>`` (its real value);
neuron ``k`` has ``y<k>``, ``z<k>`` and so on; a tag (e.g. ``q``) after the
letter names another copy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

from ..core.errors import InputError
from ..nets.activations import Activation, Choice, Poly, poly_deriv
from ..nets.spec import Network, Neuron, Value
from ..numbers.formats import Format
from .fparith import FPFormat
from .traverse import consumers, horner_plan, output_seeds

ZERO = "0.0"
ONE = "1.0"

#: Smallest significand width of an FP sort that z3 accepts; narrower IEEE-style
#: formats (fp(2,2)) are written as a disjunction of their values.
MIN_SB = 3

#: Largest list of values written as an explicit disjunction.
MAX_DISJUNCTION = 4096


# -- real-arithmetic term helpers ------------------------------------------------------------


def real(x: Fraction | int) -> str:
    """An SMT-LIB real literal for the rational x (decimal numerals only)."""
    x = Fraction(x)
    mag = f"{abs(x.numerator)}.0" if x.denominator == 1 else \
        f"(/ {abs(x.numerator)}.0 {x.denominator}.0)"
    return f"(- {mag})" if x < 0 else mag


def add(terms: Sequence[str]) -> str:
    """Sum, dropping literal zeros."""
    ts = [t for t in terms if t != ZERO]
    if not ts:
        return ZERO
    return ts[0] if len(ts) == 1 else f"(+ {' '.join(ts)})"


def mul(a: str, b: str) -> str:
    """Product, folding literal 0 and 1."""
    if ZERO in (a, b):
        return ZERO
    if a == ONE:
        return b
    if b == ONE:
        return a
    return f"(* {a} {b})"


def ite_chain(conds: Sequence[str], values: Sequence[str]) -> str:
    """(ite c1 v1 (ite c2 v2 ... vlast)) with len(values) == len(conds) + 1."""
    out = values[-1]
    for c, v in zip(reversed(conds), reversed(values[:-1])):
        out = out if v == out else f"(ite {c} {v} {out})"
    return out


def poly_term(p: Poly, y: str) -> str:
    """The real polynomial p at y."""
    terms = []
    for i, c in enumerate(p):
        if c == 0:
            continue
        mono = y if i == 1 else ONE if i == 0 else f"(* {' '.join([y] * i)})"
        terms.append(mul(real(c), mono))
    return add(terms)


def define(name: str, sort: str, body: str, args: Sequence[tuple[str, str]] = ()) -> str:
    """A define-fun command."""
    params = " ".join(f"({a} {s})" for a, s in args)
    sep = "" if body.startswith("\n") else " "
    return f"(define-fun {name} ({params}) {sort}{sep}{body})"


def choice_value(act: Activation, c: Fraction, choice: Choice) -> Fraction:
    """D sigma(c) at the kink c for the derivative choice."""
    return act.derivative(c, choice)


def chosen_between(act: Activation, choice: Choice) -> bool:
    """Whether D sigma(c) lies between the one-sided slopes at every kink."""
    for c in act.kinks:
        d, lo, hi = choice_value(act, c, choice), act.slope_left(c), act.slope_right(c)
        if not min(lo, hi) <= d <= max(lo, hi):
            return False
    return True


# -- exact semantics ----------------------------------------------------------------------


class ExactEncoder:
    """Real-arithmetic definitions of the network at machine-number parameters."""

    def __init__(self, net: Network, fmt: Format, choice: Choice) -> None:
        net.require_exact()
        self.net = net
        self.fmt = fmt
        self.choice = choice
        self.W = net.W
        if fmt.kind == "ieee" and fmt.params[1] >= MIN_SB:
            self.fp: FPFormat | None = FPFormat(*fmt.params)
        else:
            self.fp = None
            if fmt.size > MAX_DISJUNCTION:
                raise InputError(
                    f"format {fmt.name} has {fmt.size} values: too many for a finite "
                    f"disjunction (at most {MAX_DISJUNCTION}); use an IEEE fp(eb,sb) format"
                )

    # parameters

    @property
    def param_sort(self) -> str:
        return self.fp.sort() if self.fp else "Real"

    def membership(self) -> list[str]:
        """For non-IEEE formats: the predicate inM(x) (x is one of the values)."""
        if self.fp:
            return []
        vals = " ".join(f"(= x {real(v)})" for v in self.fmt.values())
        return [define("inM", "Bool", f"(or {vals})", [("x", "Real")])]

    def params(self, tag: str = "", indices: Sequence[int] | None = None) -> list[str]:
        """Declarations of parameters p<tag>i / w<tag>i, constrained to M."""
        lines = []
        names = self.net.param_names
        for i in range(self.W) if indices is None else indices:
            lines.append(f"; parameter {i}: {names[i]}")
            if self.fp:
                p = f"p{tag}{i}"
                lines.append(f"(declare-const {p} {self.fp.sort()})")
                lines.append(f"(assert (not (or (fp.isNaN {p}) (fp.isInfinite {p}))))")
                lines.append(define(f"w{tag}{i}", "Real", f"(fp.to_real {p})"))
            else:
                lines.append(f"(declare-const w{tag}{i} Real)")
                lines.append(f"(assert (inM w{tag}{i}))")
        return lines

    @staticmethod
    def renamer(b: int) -> Callable[[int], str]:
        """Parameter names of the copy of w whose parameter b is wq<b>."""
        return lambda i: f"wq{b}" if i == b else f"w{i}"

    @staticmethod
    def kink_literals(n: Neuron) -> list[str]:
        return [real(c) for c in n.activation.kinks]

    # forward pass

    def slot(self, v: Value | None, wname: Callable[[int], str]) -> str:
        if v is None:
            return ZERO
        kind, x = v
        return wname(x) if kind == "param" else real(x)

    def source(self, src: int, tag: str) -> str:
        return real(self.net.input[-src - 1]) if src < 0 else f"z{tag}{src}"

    def preactivation(self, n: Neuron, wname: Callable[[int], str], tag: str) -> str:
        terms = [mul(self.slot(wt, wname), self.source(src, tag))
                 for src, wt in zip(n.sources, n.weights)]
        return add(terms + [self.slot(n.bias, wname)])

    def forward(self, tag: str = "", wname: Callable[[int], str] | None = None,
                upto: int | None = None) -> list[str]:
        """y<tag>k and z<tag>k for neurons 0..upto (all by default)."""
        wname = wname or (lambda i: f"w{i}")
        lines = []
        for n in self.net.neurons[: None if upto is None else upto + 1]:
            k = n.index
            lines.append(f"; neuron {k} (layer {n.layer + 1}, unit {n.unit}, "
                         f"{n.activation.name})")
            lines.append(define(f"y{tag}{k}", "Real", self.preactivation(n, wname, tag)))
            lines.append(define(f"z{tag}{k}", "Real", self.sigma(n.activation, f"y{tag}{k}")))
        return lines

    # activations

    @staticmethod
    def sigma(act: Activation, y: str) -> str:
        """sigma(y): the piece whose closed interval contains y (left piece at a breakpoint)."""
        conds = [f"(<= {y} {real(c)})" for c in act.breakpoints]
        return ite_chain(conds, [poly_term(p, y) for p in act.pieces])

    @staticmethod
    def slope(act: Activation, y: str, side: str) -> str:
        """sigma'_-(y) (side 'left') or sigma'_+(y) (side 'right')."""
        op = "<=" if side == "left" else "<"
        conds = [f"({op} {y} {real(c)})" for c in act.breakpoints]
        return ite_chain(conds, [poly_term(poly_deriv(p), y) for p in act.pieces])

    def derivative(self, act: Activation, y: str) -> str:
        """D sigma(y): the choice at kinks, sigma'(y) elsewhere."""
        kinks = act.kinks
        conds = [f"(= {y} {real(c)})" for c in kinks]
        vals = [real(choice_value(act, c, self.choice)) for c in kinks]
        return ite_chain(conds, vals + [self.slope(act, y, "left")])

    @staticmethod
    def kink(act: Activation, y: str) -> str:
        conds = [f"(= {y} {real(c)})" for c in act.kinks]
        if not conds:
            return "false"
        return conds[0] if len(conds) == 1 else f"(or {' '.join(conds)})"

    def local(self) -> list[str]:
        """kink<k>, sl<k>, sr<k> (one-sided slopes) and d<k> (chosen derivative)."""
        lines = []
        for n in self.net.neurons:
            k, act, y = n.index, n.activation, f"y{n.index}"
            lines.append(define(f"kink{k}", "Bool", self.kink(act, y)))
            lines.append(define(f"sl{k}", "Real", self.slope(act, y, "left")))
            lines.append(define(f"sr{k}", "Real", self.slope(act, y, "right")))
            lines.append(define(f"d{k}", "Real", self.derivative(act, y)))
        return lines

    # reverse mode

    def backward(self, tag: str = "", deriv: Callable[[int], str] | None = None,
                 grads: bool = True) -> list[str]:
        """zbar<tag>k, ybar<tag>k and (if grads) ad<tag>i = AD f(w), with derivative
        deriv(k) at neuron k."""
        deriv = deriv or (lambda k: f"d{k}")
        net = self.net
        cons = consumers(net)
        seeds = output_seeds(net)
        lines = []
        for n in reversed(net.neurons):
            k = n.index
            seed = [real(seeds[k])] if k in seeds else []
            zb = add(seed + [mul(f"ybar{tag}{j}", self.slot(wt, lambda i: f"w{i}"))
                             for j, wt in cons[k]])
            lines.append(define(f"zbar{tag}{k}", "Real", zb))
            lines.append(define(f"ybar{tag}{k}", "Real", mul(f"zbar{tag}{k}", deriv(k))))
        if not grads:
            return lines
        per_param: list[list[str]] = [[] for _ in range(self.W)]
        for n in net.neurons:
            yb = f"ybar{tag}{n.index}"
            if n.bias is not None and n.bias[0] == "param":
                per_param[n.bias[1]].append(yb)
            for src, wt in zip(n.sources, n.weights):
                if wt[0] == "param":
                    per_param[wt[1]].append(mul(yb, self.source(src, "")))
        for i, g in enumerate(per_param):
            lines.append(define(f"ad{tag}{i}", "Real", add(g)))
        return lines

    def ns(self) -> list[str]:
        """NS: some kink neuron has a non-zero adjoint (needs local() and backward())."""
        conds = [f"(and kink{n.index} (not (= zbar{n.index} 0.0)))"
                 for n in self.net.neurons if n.activation.kinks]
        body = "false" if not conds else conds[0] if len(conds) == 1 else \
            "(or\n    " + "\n    ".join(conds) + ")"
        return [define("NS", "Bool", body)]

    # side-aware forward mode

    def phi(self) -> list[str]:
        """phi(v0..): the one-sided directional derivative of f at w along v (needs local())."""
        net = self.net
        bindings = []
        for n in net.neurons:
            k = n.index
            terms = []
            if n.bias is not None and n.bias[0] == "param":
                terms.append(f"v{n.bias[1]}")
            for src, wt in zip(n.sources, n.weights):
                if src >= 0:
                    terms.append(mul(self.slot(wt, lambda i: f"w{i}"), f"dz{src}"))
                if wt[0] == "param":
                    terms.append(mul(f"v{wt[1]}", self.source(src, "")))
            bindings.append((f"dy{k}", add(terms)))
            dz = (f"(ite (> dy{k} 0.0) (* sr{k} dy{k}) "
                  f"(ite (< dy{k} 0.0) (* sl{k} dy{k}) 0.0))")
            bindings.append((f"dz{k}", dz))
        body = add([mul(real(c), f"dz{o}") for o, c in output_seeds(net).items()])
        for name, term in reversed(bindings):
            body = f"(let (({name} {term}))\n  {body})"
        args = [(f"v{i}", "Real") for i in range(self.W)]
        return [define("phi", "Real", "\n  " + body, args)]

    def phi_at(self, direction: Sequence[str]) -> str:
        return f"(phi {' '.join(direction)})" if direction else "(phi)"

    def axis(self, sign: int) -> list[str]:
        """pe<i> = phi(e_i) (sign 1) or pm<i> = phi(-e_i) (sign -1)."""
        name = "pe" if sign > 0 else "pm"
        unit = ONE if sign > 0 else real(-1)
        return [define(f"{name}{i}", "Real",
                       self.phi_at([unit if j == i else ZERO for j in range(self.W)]))
                for i in range(self.W)]

    # selection gradients

    def sides(self) -> list[str]:
        """s<k> (a free side at every neuron with kinks: true = right) and two reverse passes:
        ybarS<k> with slope sr_k/sl_k as s_k says, ybarL<k> with sl_k everywhere.

        For a bias network, ybar<k> is the derivative along the bias b_k.  f is differentiable
        at w iff ybarS = ybarL for every choice of sides (see ndf_implies_ns_sides).
        """
        kinky = {n.index for n in self.net.neurons if n.activation.kinks}
        lines = [f"(declare-const s{k} Bool)" for k in sorted(kinky)]
        lines += self.backward("S", lambda k: f"(ite s{k} sr{k} sl{k})" if k in kinky
                               else f"sl{k}", grads=False)
        lines += self.backward("L", lambda k: f"sl{k}", grads=False)
        return lines

    # Clarke combination

    def clarke(self) -> list[str]:
        """t<k> (weight of the right vertex), one backward pass per vertex, comb<i>."""
        net = self.net
        lines = []
        kinky = [n for n in net.neurons if n.activation.kinks]
        for n in kinky:
            act = n.activation
            y = f"y{n.index}"
            conds = [f"(= {y} {real(c)})" for c in act.kinks]
            vals = [real((choice_value(act, c, self.choice) - act.slope_left(c))
                         / (act.slope_right(c) - act.slope_left(c))) for c in act.kinks]
            lines.append(define(f"t{n.index}", "Real", ite_chain(conds, vals + [ZERO])))
        combos: list[list[str]] = [[] for _ in range(self.W)]
        for bits in range(1 << len(kinky)):
            tag = "s" + "".join("R" if bits >> b & 1 else "L" for b in range(len(kinky)))
            side = {n.index: ("r" if bits >> b & 1 else "l") for b, n in enumerate(kinky)}
            lines.append(f"; vertex {tag}: " + ", ".join(
                f"neuron {k} {'right' if s == 'r' else 'left'}" for k, s in side.items()))
            lines += self.backward(tag, lambda k, side=side: f"s{side.get(k, 'l')}{k}")
            weight = " ".join(f"t{k}" if s == "r" else f"(- 1.0 t{k})" for k, s in side.items())
            wterm = f"(* {weight})" if len(side) > 1 else weight or ONE
            lines.append(define(f"weight{tag}", "Real", wterm))
            for i in range(self.W):
                combos[i].append(mul(f"weight{tag}", f"ad{tag}{i}"))
        for i, c in enumerate(combos):
            lines.append(define(f"comb{i}", "Real", add(c)))
        convex = [f"(<= 0.0 t{n.index}) (<= t{n.index} 1.0)" for n in kinky]
        lines.append(define("convex", "Bool",
                            "true" if not convex else f"(and {' '.join(convex)})"))
        return lines


# -- execution semantics -------------------------------------------------------------------


class FloatEncoder:
    """QF_FP definitions: the network computed in the format with RNE (see fpexec)."""

    def __init__(self, net: Network, fmt: Format) -> None:
        net.require_exact()
        if fmt.kind != "ieee":
            raise InputError(
                f"format {fmt.name} is not an IEEE-style fp(eb,sb) format: execution "
                "semantics (QF_FP) needs one; use --semantics exact")
        if fmt.params[1] < MIN_SB:
            raise InputError(f"format {fmt.name}: FP sorts with fewer than {MIN_SB} "
                             "significand bits are not accepted by z3; use --semantics exact")
        self.net = net
        self.fp = FPFormat(*fmt.params)
        self.W = net.W
        self.used: dict[str, Fraction] = {}

    def const(self, x: Fraction) -> str:
        """The name of the constant x rounded to the format (InputError on overflow); its
        definition, with the value in a comment, is in constants()."""
        r = self.fp.round(x)
        if not isinstance(r, Fraction):
            raise InputError(f"constant {x} overflows format fp({self.fp.eb},{self.fp.sb})")
        name = "k" + ("m" if r < 0 else "") + (
            f"{abs(r.numerator)}" if r.denominator == 1 else
            f"{abs(r.numerator)}d{r.denominator}")
        self.used[name] = r
        return name

    def constants(self) -> list[str]:
        """define-fun of every constant named by const() so far, by value, with its value."""
        return [f"{define(name, 'F', self.fp.literal(x))} ; {x}"
                for name, x in sorted(self.used.items(), key=lambda kv: kv[1])]

    def params(self) -> list[str]:
        lines = []
        for i, name in enumerate(self.net.param_names):
            lines.append(f"; parameter {i}: {name}")
            lines.append(f"(declare-const p{i} F)")
            lines.append(f"(assert (not (or (fp.isNaN p{i}) (fp.isInfinite p{i}))))")
        return lines

    def slot(self, v: Value | None) -> str | None:
        if v is None:
            return None
        kind, x = v
        return f"p{x}" if kind == "param" else self.const(x)

    def source(self, src: int) -> str:
        return self.const(self.net.input[-src - 1]) if src < 0 else f"fz{src}"

    def poly(self, p: Poly, y: str) -> str:
        """Horner evaluation in the format (see traverse.horner_plan for the folding rules)."""
        acc: str | None = None
        for op, c in horner_plan(p, self.fp):
            if op == "const":
                acc = self.const(c)
            elif op == "y":
                acc = y
            elif op == "mul_y":
                acc = f"(fp.mul RNE {y} {acc})"
            elif op == "add":
                acc = f"(fp.add RNE {self.const(c)} {acc})"
        assert acc is not None
        return acc

    def sigma(self, act: Activation, y: str) -> str:
        conds = [f"(fp.leq {y} {self.const(c)})" for c in act.breakpoints]
        return ite_chain(conds, [self.poly(p, y) for p in act.pieces])

    def kink_conds(self, act: Activation, y: str) -> list[str]:
        """fp.eq against every kink representable in the format."""
        return [f"(fp.eq {y} {self.const(c)})" for c in act.kinks
                if self.fp.representable(c)]

    def forward(self) -> list[str]:
        """fy<k> (pre-activation: products summed left to right, then + bias) and fz<k>."""
        lines = []
        for n in self.net.neurons:
            k = n.index
            acc: str | None = None
            for src, wt in zip(n.sources, n.weights):
                prod = f"(fp.mul RNE {self.slot(wt)} {self.source(src)})"
                acc = prod if acc is None else f"(fp.add RNE {acc} {prod})"
            b = self.slot(n.bias)
            if b is not None:
                acc = b if acc is None else f"(fp.add RNE {acc} {b})"
            lines.append(f"; neuron {k} (layer {n.layer + 1}, unit {n.unit}, "
                         f"{n.activation.name})")
            lines.append(define(f"fy{k}", "F", acc or self.const(Fraction(0))))
            lines.append(define(f"fz{k}", "F", self.sigma(n.activation, f"fy{k}")))
        return lines

    def kinks(self) -> list[str]:
        """fkink<k>: the computed pre-activation equals a kink exactly."""
        lines = []
        for n in self.net.neurons:
            conds = self.kink_conds(n.activation, f"fy{n.index}")
            body = "false" if not conds else conds[0] if len(conds) == 1 else \
                f"(or {' '.join(conds)})"
            lines.append(define(f"fkink{n.index}", "Bool", body))
        return lines

    def derivative(self, act: Activation, y: str, side: str) -> str:
        """The slope used by AD: the side's one-sided slope at kinks, sigma'(y) elsewhere."""
        conds: list[str] = []
        vals: list[str] = []
        for c in act.kinks:
            if self.fp.representable(c):
                conds.append(f"(fp.eq {y} {self.const(c)})")
                s = act.slope_left(c) if side == "left" else act.slope_right(c)
                vals.append(self.const(s))
        bconds = [f"(fp.leq {y} {self.const(c)})" for c in act.breakpoints]
        rest = ite_chain(bconds, [self.poly(poly_deriv(p), y) for p in act.pieces])
        return ite_chain(conds, vals + [rest])

    def backward(self, side: str) -> list[str]:
        """Backward pass with the left (L) or right (R) slope at kinks: fg<S><i>."""
        tag = "L" if side == "left" else "R"
        net = self.net
        cons = consumers(net)
        seeds = output_seeds(net)
        lines = [f"; backward pass with the {side} slope at kinks"]
        for n in reversed(net.neurons):
            k = n.index
            acc: str | None = self.const(seeds[k]) if k in seeds else None
            for j, wt in cons[k]:
                prod = f"(fp.mul RNE fybar{tag}{j} {self.slot(wt)})"
                acc = prod if acc is None else f"(fp.add RNE {acc} {prod})"
            zb = acc or self.const(Fraction(0))
            lines.append(define(f"fzbar{tag}{k}", "F", zb))
            d = self.derivative(n.activation, f"fy{k}", side)
            lines.append(define(f"fybar{tag}{k}", "F", f"(fp.mul RNE fzbar{tag}{k} {d})"))
        grads: list[list[str]] = [[] for _ in range(self.W)]
        for n in net.neurons:
            yb = f"fybar{tag}{n.index}"
            if n.bias is not None and n.bias[0] == "param":
                grads[n.bias[1]].append(yb)
            for src, wt in zip(n.sources, n.weights):
                if wt[0] == "param":
                    grads[wt[1]].append(f"(fp.mul RNE {yb} {self.source(src)})")
        for i, g in enumerate(grads):
            acc2: str | None = None
            for t in g:
                acc2 = t if acc2 is None else f"(fp.add RNE {acc2} {t})"
            lines.append(define(f"fg{tag}{i}", "F", acc2 or self.const(Fraction(0))))
        return lines
