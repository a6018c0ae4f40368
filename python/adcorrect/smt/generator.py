"""SMT-LIB 2.6 query files from a network, a format, a query family and an AD choice.

:func:`generate` renders one template per family (``templates/<family>.smt2.j2``)
around the definitions of :mod:`adcorrect.smt.encode`.  Output is deterministic
byte for byte.  Every file starts with a human header and one machine-readable
line ``; adcorrect-meta: {json}`` (network spec, format, family, semantics,
choice, expected status, the symbols to decode) that the runners use to re-check
models without the original spec file.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

import jinja2

from ..core.display import printable
from ..core.errors import InputError
from ..core.limits import check
from ..core.version import VERSION as __version__
from ..exact.engine import forward
from ..nets.activations import Choice
from ..nets.spec import Network
from ..numbers.formats import Format
from .cones import ARGUMENT, differentiable_lines, param_lines
from .encode import ExactEncoder, FloatEncoder, add, chosen_between, real
from .fold import fold_text
from .fprange import TEXT as RANGE_TEXT
from .fprange import range_lines
from .script import ScriptError, check_script
from .smtlib import required_logic, smt_text

#: Bumped whenever the generated text changes.
GENERATOR_VERSION = "4"
#: The date written as "Generated on" into every file's :source (set with the version, so
#: that the output stays byte-for-byte deterministic).
GENERATOR_DATE = "2026-11-28"

APPLICATION = ("correctness of automatic differentiation (AD) for neural networks whose "
               "parameters are machine-representable numbers")
PUBLICATION = ("W. Lee, S. Park, A. Aiken. On the Correctness of Automatic Differentiation "
               "for Neural Networks with Machine-Representable Parameters. ICML 2023.")

EXACT_FAMILIES = ("bias-unique", "ns-implies-ndf", "ndf-implies-ns", "ndf-implies-ns-sides",
                  "ad-correct", "inc-witness", "inc-witness-qf", "clarke-combination", "count")
#: Families defined for bias networks only.
BIAS_ONLY_FAMILIES = ("ndf-implies-ns-sides", "count-ndf-sides")
FLOAT_FAMILIES = ("float-kink", "float-bifurcation", "float-bifurcation-nz")
#: Float queries with the parameter range of :mod:`adcorrect.smt.fprange` (SMT-LIB tree only).
RANGE_FAMILIES = ("float-kink-range", "float-bifurcation-range")
#: Counting families (exact semantics), enumerated by `smt count`; not in the corpus.
COUNT_FAMILIES = ("count-ndf", "count-ndf-sides", "count-inc")
FAMILIES = EXACT_FAMILIES + FLOAT_FAMILIES + COUNT_FAMILIES + RANGE_FAMILIES
STATUSES = ("sat", "unsat", "unknown")
#: Largest card(M)^W decided by exhaustive enumeration when no theorem or witness applies.
ENUMERATION_POINTS = 10_000

DESCRIPTIONS = {
    "bias-unique": "two points differing only in the bias b_k of a neuron k, both with "
                   "y_k = c for a kink c of sigma_k",
    "ns-implies-ndf": "NS(w) and phi_w(e_i) + phi_w(-e_i) = 0 for every i "
                      "(NS without a one-sided witness along an axis)",
    "ndf-implies-ns": "not NS(w) and phi_w(v) <> sum_i v_i phi_w(e_i) for some real v "
                      "(f not differentiable without NS)",
    "ndf-implies-ns-sides": "not NS(w) and the bias derivatives ybar_k of reverse mode with "
                            "free one-sided slopes at kink neurons differ from those with the "
                            "left slopes (ndf-implies-ns without v, for bias networks)",
    "ad-correct": "not NS(w) and AD_D f(w) <> (phi_w(e_i))_i",
    "inc-witness": "AD_D f(w) <> (phi_w(e_i))_i, phi_w axis-symmetric, and "
                   "phi_w(v) = sum_i v_i phi_w(e_i) for all real v (f differentiable; "
                   "a universally quantified formula)",
    "inc-witness-qf": "AD_D f(w) <> (phi_w(e_i))_i and f differentiable (which implies the "
                      "axis symmetry of inc-witness), written without a quantifier: for "
                      "every sign pattern of the kink neurons, its cone is empty (Gordan "
                      "certificate) or its linear form is (phi_w(e_i))_i",
    "clarke-combination": "AD_D f(w) differs from the multilinear combination of the vertex "
                          "gradients grad f_s(w) with weights t_k = (D_k - sl_k)/(sr_k - sl_k), "
                          "or some t_k is outside [0, 1]",
    "count": "NS(w) (the runner enumerates the models with blocking clauses)",
    "count-ndf": "phi_w(v) <> sum_i v_i phi_w(e_i) for some real v: f is not differentiable at w "
                 "(the runner enumerates the w with blocking clauses)",
    "count-ndf-sides": "some choice of one-sided slopes at the kink neurons changes a bias "
                       "derivative ybar_k of reverse mode: f is not differentiable at w (bias "
                       "networks; the runner enumerates the w with blocking clauses)",
    "count-inc": "AD_D f(w) <> (phi_w(e_i))_i and phi_w axis-symmetric: the candidates for inc "
                 "(the runner keeps those at which count-ndf with w fixed is unsat)",
    "float-kink": "some pre-activation computed in the format (RNE) equals a kink exactly",
    "float-bifurcation": "the gradient computed in the format with the left slope at kinks "
                         "(relu'(0) = 0) differs from the one with the right slope "
                         "(relu'(0) = 1), both not NaN",
    "float-bifurcation-nz": "float-bifurcation with every parameter non-zero (the witnesses "
                            "with a zero parameter excluded)",
    "float-kink-range": f"float-kink where {RANGE_TEXT}",
    "float-bifurcation-range": f"float-bifurcation where {RANGE_TEXT}",
}


@dataclass(frozen=True)
class Query:
    """What to generate."""

    net: Network
    fmt: Format
    family: str
    choice: Choice = "pytorch"
    semantics: str | None = None  # None: the family's own
    expected: str | None = None  # None: default_expected
    note: str = ""  # an extra sentence for the file's :source (e.g. a known model count)
    reason: str = ""  # how a given expected status was established ("" : given by the user)


def network_to_obj(net: Network) -> dict[str, Any]:
    """The JSON spec of a network (v1 for layered networks, else v2); parse_network inverts it."""
    if net.spec is not None:
        return net.spec  # type: ignore[no-any-return]
    from ..nets.specv2 import network_to_v2

    return network_to_v2(net)


def family_semantics(family: str) -> str:
    return "ieee" if family in FLOAT_FAMILIES + RANGE_FAMILIES else "exact"


# -- expected answers ---------------------------------------------------------------------------


def _candidates(net: Network, fmt: Format) -> list[tuple[Fraction, ...]]:
    """Structured points to look for sat witnesses: {-1,0,1}^W when small, else zeros and
    ones, each also with one bias moved so that its neuron sits at a kink."""
    W = net.W
    unit = [Fraction(v) for v in (0, 1, -1) if fmt.contains(v)]
    if len(unit) ** W <= 729:
        bases = [tuple(p) for p in itertools.product(unit, repeat=W)]
    else:
        bases = [tuple([v] * W) for v in unit[:2]]
    pts = list(bases)
    for base in bases[:2]:
        for n in net.neurons:
            if n.bias is None or n.bias[0] != "param":
                continue
            b = n.bias[1]
            w0 = tuple(Fraction(0) if i == b else x for i, x in enumerate(base))
            y = forward(net, w0).y[n.index]
            for c in n.activation.kinks:
                pts.append(tuple(c - y if i == b else x for i, x in enumerate(w0)))
    return [p for p in dict.fromkeys(pts) if all(fmt.contains(x) for x in p)]


def _tiny_candidates(net: Network, fmt: Format) -> list[tuple[Fraction, ...]]:
    """Points of non-zero parameters that underflow: every parameter +-(smallest positive
    value), or +-1 on the biases and the smallest value on the weights."""
    tiny = min(v for v in fmt.values() if v > 0) if fmt.size <= 200_000 else None
    if tiny is None:
        from .fparith import FPFormat

        fp = FPFormat(*fmt.params)
        tiny = Fraction(1, 2 ** (fp.sb - 1)) * Fraction(2) ** fp.emin
    signs = list(itertools.product((1, -1), repeat=net.W)) if net.W <= 8 else [(1,) * net.W]
    return [tuple(s * tiny for s in sg) for sg in signs]


def _no_float_kink(net: Network) -> bool:
    """Every neuron with kinks has the single kink 0, no bias, and one input of value +-1
    weighted by a parameter: it computes fl(w x) = +-w exactly."""
    for n in net.neurons:
        if not n.activation.kinks:
            continue
        if n.activation.kinks != (Fraction(0),) or n.bias is not None:
            return False
        if len(n.sources) != 1 or n.sources[0] >= 0 or n.weights[0][0] != "param":
            return False
        if abs(net.input[-n.sources[0] - 1]) != 1:
            return False
    return True


def _witness(net: Network, fmt: Format, family: str, choice: Choice) -> str | None:
    """A structured point satisfying the query, as text, or None."""
    from .decode import check_point

    extra = _tiny_candidates(net, fmt) if family == "float-bifurcation-nz" else []
    for w in _candidates(net, fmt) + extra:
        if check_point(net, fmt, choice, family, w).ok:
            return "(" + ", ".join(map(str, w)) + ")"
    return None


def default_expected(net: Network, fmt: Format, family: str, choice: Choice) -> tuple[str, str]:
    """The expected status and its justification (a theorem, or a known witness)."""
    bias = net.is_bias_network
    if family == "count-inc" and bias:
        return "unsat", ("T3 and T5b: NS(w) implies phi_w not axis-symmetric, not NS(w) "
                         "implies AD_D f(w) = (phi_w(e_i))_i")
    if family == "bias-unique":
        return "unsat", ("y_k is affine in its own bias with coefficient 1 (the counting step "
                         "of T2)")
    if family == "ndf-implies-ns":
        return "unsat", "T5b: not NS(w) implies f differentiable at w, for every network"
    if family == "ndf-implies-ns-sides":
        return "unsat", ("T5b: not NS(w) implies f differentiable at w, i.e. every selection "
                         "gives the same gradient")
    if family == "ad-correct":
        return "unsat", "T5b: not NS(w) implies AD_D f(w) = grad f(w), for every network"
    if family == "clarke-combination" and all(
            chosen_between(n.activation, choice) for n in net.neurons):
            return "unsat", ("AD_D is multilinear in the choices D_k (every path meets a "
                             "neuron once), and every D lies between the one-sided slopes")
    if family in ("ns-implies-ndf", "inc-witness", "inc-witness-qf") and bias:
        return "unsat", ("T3 for bias networks (topmost witness along its bias axis)"
                         if family == "ns-implies-ndf" else
                         "T1: inc_M(f) is empty for bias networks")
    if family == "float-bifurcation-nz" and _no_float_kink(net):
        return "unsat", ("every neuron with a kink computes fl(w x) with x = +-1, i.e. +-w, "
                         "which is not 0, so no computed pre-activation is at the kink and "
                         "both backward passes use the same slopes")
    if family in FAMILIES:
        found = _witness(net, fmt, family, choice)
        if found:
            return "sat", (f"holds at the structured point w = {found}, re-checked exactly "
                           "by adcorrect (exact engine and oracle, or exact IEEE rounding)")
        if fmt.size ** net.W <= ENUMERATION_POINTS and family != "bias-unique":
            from .decode import check_point

            for w in itertools.product(fmt.values(), repeat=net.W):
                if check_point(net, fmt, choice, family, w).ok:
                    return "sat", (f"holds at w = ({', '.join(map(str, w))}), found by "
                                   "exhaustive enumeration of M^W")
            return "unsat", (f"exhaustive enumeration of all card(M)^W = {fmt.size ** net.W} "
                             "points with the exact engine and the oracle (or exact IEEE "
                             "rounding)")
        return "unknown", "no theorem applies and no structured witness was found"
    raise InputError(f"unknown query {family!r} (known: {', '.join(FAMILIES)})")


# -- rendering ----------------------------------------------------------------------------------


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("adcorrect.smt", "templates"),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True, autoescape=False,
    )
    env.globals.update(disj=disj, conj=conj, real=real, each=each, enc_sum=add)
    return env


def _nary(op: str, unit: str, terms: list[str]) -> str:
    terms = list(terms)
    if not terms:
        return unit
    return terms[0] if len(terms) == 1 else f"({op} {' '.join(terms)})"


def each(pattern: str, items: Any) -> list[str]:
    """[pattern.format(i=x) for x in items], for building assertions in templates."""
    return [pattern.format(i=x) for x in items]


def disj(terms: list[str]) -> str:
    """(or ...) that is valid for 0 and 1 arguments."""
    return _nary("or", "false", terms)


def conj(terms: list[str]) -> str:
    """(and ...) that is valid for 0 and 1 arguments."""
    return _nary("and", "true", terms)


def _architecture(net: Network) -> str:
    if net.layers is not None:
        sizes = [str(len(net.input))] + [str(layer.units) for layer in net.layers]
        shape = "-".join(sizes)
    else:
        shape = f"{len(net.neurons)} neurons, {len(net.outputs)} output(s)"
    acts = ", ".join(dict.fromkeys(n.activation.name for n in net.neurons))
    kind = "bias network" if net.is_bias_network else "not a bias network"
    return f"{shape} ({acts}); input x = ({', '.join(map(str, net.input))}); " \
           f"W = {net.W}; {kind}"


def _check(q: Query) -> str:
    if q.family not in FAMILIES:
        raise InputError(f"unknown query {q.family!r} (known: {', '.join(FAMILIES)})")
    sem = q.semantics or family_semantics(q.family)
    if sem not in ("exact", "ieee"):
        raise InputError(f"unknown semantics {sem!r} (use exact or ieee)")
    if sem != family_semantics(q.family):
        raise InputError(
            f"query {q.family} is defined in {family_semantics(q.family)} semantics only "
            f"(exact: {', '.join(EXACT_FAMILIES)}; "
            f"ieee: {', '.join(FLOAT_FAMILIES + RANGE_FAMILIES)})")
    if q.expected is not None and q.expected not in STATUSES:
        raise InputError(f"unknown expected status {q.expected!r} (use sat, unsat or unknown)")
    if q.family == "bias-unique" and not any(
            n.bias is not None and n.bias[0] == "param" and n.activation.kinks
            for n in q.net.neurons):
        raise InputError(f"query bias-unique: network {q.net.name} has no neuron with both "
                         "a bias parameter and a kink")
    q.net.require_linear_head("the SMT generator")
    check("smt_neurons", len(q.net.neurons), f"network {q.net.name}")
    if q.family in BIAS_ONLY_FAMILIES and not q.net.is_bias_network:
        raise InputError(f"query {q.family}: network {q.net.name} is not a bias network "
                         "(every neuron needs its own bias parameter); use ndf-implies-ns")
    q.net.require_exact()
    if sem == "ieee":
        FloatEncoder(q.net, q.fmt)  # refuses non-IEEE formats before any witness search
    return sem


def _writable(net: Network) -> Network:
    """net with its name and parameter names escaped for SMT-LIB text (see
    :func:`adcorrect.smt.smtlib.smt_text`); InputError if one cannot be written."""
    try:
        name = smt_text(net.name)
    except ValueError as e:
        raise InputError(f"network name '{printable(net.name)}' cannot be written into an "
                         f"SMT file: it {e}") from None
    names = []
    for p in net.param_names:
        try:
            names.append(smt_text(p))
        except ValueError as e:
            raise InputError(f"parameter name '{printable(p)}' cannot be written into an SMT "
                             f"file: it {e}") from None
    if name == net.name and tuple(names) == net.param_names:
        return net
    return dataclasses.replace(net, name=name, param_names=tuple(names))


def generate(q: Query) -> str:
    """The SMT-LIB text of one query (deterministic).  The text is a benchmark script
    (checked with :func:`adcorrect.smt.script.check_script`), printable ASCII."""
    sem = _check(q)
    net, fmt = _writable(q.net), q.fmt
    if q.expected is None:
        expected, reason = default_expected(net, fmt, q.family, q.choice)
    else:
        expected, reason = q.expected, q.reason or "given by the user"
    ctx: dict[str, Any] = {"W": net.W, "N": len(net.neurons), "neurons": net.neurons}
    if sem == "exact":
        enc = ExactEncoder(net, fmt, q.choice)
        ctx["enc"] = enc
        ctx["param_kind"] = "fp" if enc.fp else "real"
        sort_text = f"{enc.param_sort}, finite" if enc.fp else \
            f"Real, one of the {fmt.size} values (predicate inM)"
        decode = {"params": [f"p{i}" if enc.fp else f"w{i}" for i in range(net.W)]}
        if q.family == "bias-unique":
            decode["bias_copies"] = [
                f"{'p' if enc.fp else 'w'}q{n.bias[1]}"
                for n in net.neurons if n.bias is not None and n.bias[0] == "param"]
            ctx["bias_neurons"] = [
                n for n in net.neurons
                if n.bias is not None and n.bias[0] == "param" and n.activation.kinks]
        if q.family == "inc-witness-qf":
            ctx["cone_lines"] = differentiable_lines(enc)
            ctx["argument"] = ARGUMENT
            ctx["param_lines"] = param_lines(enc)
            ctx["param_kind"] = "real"
            decode["params"] = [f"w{i}" for i in range(net.W)]
            sort_text = f"Real, one of the {fmt.size} values" + (
                " (m 2^q with integer m, no FP theory)" if enc.fp else " (predicate inM)")
        if q.family in ("ndf-implies-ns", "count-ndf"):
            decode["direction"] = [f"v{i}" for i in range(net.W)]
    else:
        fenc = FloatEncoder(net, fmt)
        ctx["enc"] = fenc
        ctx["param_kind"] = "fp"
        sort_text = f"{fenc.fp.sort()}, finite"
        decode = {"params": [f"p{i}" for i in range(net.W)]}
        if q.family in RANGE_FAMILIES:
            ctx["range_block"] = "\n".join(range_lines(fenc))

    def render(logic: str) -> str:
        meta = {
            "version": __version__, "generator": GENERATOR_VERSION,
            "network": network_to_obj(net), "format": fmt.name, "query": q.family,
            "semantics": sem, "choice": str(q.choice), "expected": expected, "logic": logic,
            "param_kind": ctx["param_kind"], "decode": decode,
        }
        ctx["h"] = {
            "version": __version__, "generator": GENERATOR_VERSION, "network": net.name,
            "architecture": _architecture(net), "format": f"{fmt.name} (card(M) = {fmt.size})",
            "sort": sort_text, "query": q.family, "description": DESCRIPTIONS[q.family],
            "semantics": "exact (real arithmetic over machine-number parameters; "
                         "not for bit-vector-only solvers such as bitwuzla)" if sem == "exact"
                         else "ieee (pure QF_FP: the format's arithmetic, round to nearest even)",
            "choice": str(q.choice), "expected": expected, "reason": reason, "logic": logic,
            "meta": json.dumps(meta, sort_keys=True, separators=(",", ":")),
            "param_names": net.param_names,
        }
        for k, v in ctx["h"].items():  # one line each, in comments: nothing can end them
            if isinstance(v, str) and k != "meta":
                try:
                    ctx["h"][k] = smt_text(v)
                except ValueError as e:
                    raise InputError(f"the {k} text of {q.family} cannot be written: it "
                                     f"{e}") from None
        if not ctx["h"]["meta"].isascii() or "\n" in ctx["h"]["meta"]:
            raise InputError("the adcorrect-meta record is not one line of ASCII")
        ctx["h"]["source"] = _source(q, ctx["h"])
        template = _env().get_template(q.family.replace("-", "_") + ".smt2.j2")
        text = fold_text(re.sub(r"\n{3,}", "\n\n", template.render(**ctx)))
        check("smt_bytes", len(text), f"the {q.family} query of {net.name}")
        text = text.strip("\n") + "\n"
        if not all(" " <= c <= "~" or c == "\n" for c in text):
            raise InputError(f"the {q.family} query of {net.name}: text other than printable "
                             "ASCII")
        try:
            check_script(text)  # a benchmark script: no command but the allowed ones
        except ScriptError as e:
            raise InputError(f"the {q.family} query of {net.name} is not a benchmark script: "
                             f"{e}") from None
        return text

    draft = render("ALL")
    return render(required_logic(draft))


def _source(q: Query, h: dict[str, Any]) -> str:
    """The :source text: the SMT-LIB structured fields, then what the file says and how its
    status was established (no '|' or backslash: the text sits inside |...|)."""
    lines = [
        "Generated by: the adcorrect project",
        f"Generated on: {GENERATOR_DATE}",
        f"Generator: adcorrect {h['version']} (smt generator {h['generator']})",
        f"Application: {APPLICATION}",
        "Target solver: z3, cvc5, bitwuzla",
        f"Publications: {PUBLICATION}",
        f"Network: {h['network']}, {h['architecture']}.",
        f"Format: {h['format']}; parameters: {h['sort']}.",
        f"Query: {h['query']}, {h['description']}.",
        f"Semantics: {h['semantics']}.",
        f"AD choice: {h['choice']}.",
        f"Status: {h['expected']}, established by: {h['reason']}.",
    ]
    if q.family == "count":
        lines.append("Counting: the models (values of the parameters) of this file are the "
                     "points w of M^W with NS(w); their number is the quantity of interest "
                     "(adcorrect smt count enumerates them with blocking clauses).")
    if q.note:
        lines.append(q.note)
    try:
        return "\n".join(smt_text(line) for line in lines)
    except ValueError as e:
        raise InputError(f"the :source text of {q.family} cannot be written: it {e}") from None
