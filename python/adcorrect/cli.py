"""Command line: `python -m adcorrect {formats,check,count,smt} ...`.

I/O only: every computation lives in the pure modules.  Bad input prints one
line `adcorrect: error: ...` and exits with status 2.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from .core.deadline import DEFAULT_TIME_LIMIT, Deadline
from .core.display import MAX_LINE, one_line
from .core.errors import InputError, Undecided
from .core.tables import render
from .core.version import VERSION as __version__
from .exact.certcheck import certified_check
from .exact.dead import dead_kinks
from .exact.engine import backward, forward, head_value, kink_neurons, ns
from .exact.oracle import DEFAULT_BUDGET, decide, same_vector
from .nets.activations import parse_choice
from .nets.batch import batched, load_batch, whole_batched
from .nets.ir import Network
from .nets.spec import load_network, parse_params
from .nets.theorems import coverage, coverage_json, theorem_line
from .numbers.cvalue import MAX_PRECISION, to_float
from .numbers.formats import ALIASES, listed_formats, parse_format
from .report.crosscheck import add_crosscheck_parser
from .report.document import add_report_parser
from .smt.cli import add_smt_parser

#: Longest error line (a longer message keeps its start and end).


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        raise InputError(message)


def _q(x: Fraction) -> str:
    return str(x)


def _vec(v: Sequence[Fraction] | None) -> list[str] | None:
    return None if v is None else [_q(x) for x in v]


def cmd_formats(args: argparse.Namespace) -> int:
    fmts = listed_formats()
    if args.json:
        print(json.dumps([{"name": f.name, "M": f.size} for f in fmts]))
        return 0
    aliases: dict[str, list[str]] = {}
    for alias, canon in ALIASES.items():
        aliases.setdefault(canon, []).append(alias)
    rows = [(f.name, ", ".join(aliases.get(f.name, [])), f.kind, f.size,
             f.max_abs if f.max_abs < 10**6 else f"{float(f.max_abs):.6g}") for f in fmts]
    print(render(["format", "aliases", "kind", "|M|", "max |x|"], rows))
    return 0


def _num(x: Any) -> str:
    """A Fraction or an exact cross-entropy number, as exact text."""
    return str(x)


def _nums(v: Sequence[Any] | None) -> list[str] | None:
    return None if v is None else [_num(x) for x in v]


def load_subject(path: str, batch_path: str | None, loss: str | None,
                 trust_model: bool = False) -> tuple[Network, Network, list[str], Any]:
    """(the network as given, the network whose f is checked: batched if a batch is given,
    the model's frozen parameter tensors: constants of the function, a function that
    checks the exact outputs against PyTorch's forward, or None for a spec)."""
    if (batch_path is None) != (loss is None):
        raise InputError("--batch and --loss go together")
    batch = load_batch(batch_path) if batch_path is not None else None
    frozen_names: list[str] = []
    verify = None
    if path.endswith((".pt", ".pth")):
        if batch is None:
            raise InputError(f"{path}: a model needs --batch FILE --loss mse|ce|sum "
                             "(the batch gives the input shape)")
        from .torchfx.batching import batch_input, example_input
        from .torchfx.importer import from_module
        from .torchfx.load import load_model
        from .torchfx.values import CouplesExamples, frozen

        model = load_model(path, trust=trust_model)
        frozen_names = frozen(model)
        verify = _forward_check(model, batch)
        try:
            net = from_module(model, example_input(batch), name=Path(path).stem)
        except CouplesExamples:  # batch statistics: the whole batch is one network
            net = from_module(model, batch_input(batch), name=Path(path).stem,
                              whole_batch=True)
            return net, whole_batched(net, batch, loss), frozen_names, verify  # type: ignore[arg-type]
    else:
        net = load_network(path)
    if not net.is_smooth:
        net.require_exact()
    subject = batched(net, batch, loss) if batch is not None else net  # type: ignore[arg-type]
    return net, subject, frozen_names, verify


def _forward_check(model: Any, batch: Any) -> Any:
    """A function of the exact outputs (B, n_out) that refuses a model whose own forward
    computes something else (:func:`adcorrect.torchfx.verify.check_forward`)."""
    import numpy as np
    import torch

    from .torchfx.batching import batch_input
    from .torchfx.verify import check_autograd_graph, check_forward

    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()),
                 torch.float64)
    x = batch_input(batch, dtype)

    def verify(outputs: Sequence[Fraction]) -> None:
        with torch.enable_grad():
            out = model(x)
        if not isinstance(out, torch.Tensor):
            raise InputError(f"the model returns a {type(out).__name__}, not a tensor")
        check_autograd_graph(out)
        check_forward(out, np.array([to_float(v) for v in outputs]).reshape(len(batch.x), -1),
                      dtype)

    return verify


def check_result(net_path: str, params: str | None, choice_text: str,
                 batch: str | None = None, loss: str | None = None, oracle: str = "fast",
                 budget: int | None = DEFAULT_BUDGET, trust_model: bool = False,
                 time_limit: float | None = DEFAULT_TIME_LIMIT,
                 max_precision: int = MAX_PRECISION) -> dict[str, Any]:
    """Everything `check` reports, as a JSON-ready dict."""
    net, subject, frozen_names, verify = load_subject(net_path, batch, loss, trust_model)
    choice = parse_choice(choice_text)
    if params is not None:
        w = parse_params(net, params)
    elif net.values is not None:
        w = net.values
    else:
        raise InputError(f"--params: network {net.name} has no stored parameter values; "
                         f"give its W = {net.W} parameters")
    if subject.is_smooth:
        res, r = certified_check(net, subject, w, choice, max_precision, Deadline(time_limit))
        if verify is not None and params is None and r.forward is not None:
            verify([r.forward.z[o] for o in subject.head.outputs])
        res["frozen"] = frozen_names
        if batch is not None:
            res.update(batch=subject.batch, loss=loss, kinked=[
                {"neuron": subject.neurons[k].label, "example": subject.neurons[k].example,
                 "kink": str(r.forward.y[k])} for k in r.kinked] if r.forward else [])
        return res
    fw = forward(subject, w)
    if verify is not None and params is None:
        verify([fw.z[o] for o in subject.head.outputs])
    bw = backward(subject, w, fw, choice)
    verdict = decide(subject, w, choice, mode=oracle, budget=budget,
                     deadline=Deadline(time_limit))
    ad = bw.grad
    undecided = verdict.reason
    inc: bool | None = None
    if verdict.differentiable is not None:
        try:
            inc = bool(verdict.differentiable) and not same_vector(ad, verdict.grad or ())
        except Undecided as e:
            undecided = f"comparing AD with the gradient: {e.reason}"
    kinks = kink_neurons(subject, fw)
    dead = dead_kinks(subject, w, fw.y, fw.z, kinks)
    try:
        ns_value: bool | None = ns(subject, fw, bw)
    except Undecided as e:
        ns_value, undecided = None, undecided or f"NS: {e.reason}"
    kinkset = set(kinks)
    neurons = [
        {"index": n.index, "name": n.label, "example": n.example, "layer": n.layer + 1,
         "unit": n.unit, "activation": n.activation.name, "y": _q(fw.y[n.index]),
         "z": _q(fw.z[n.index]), "kink": n.index in kinkset, "zbar": _num(bw.zbar[n.index])}
        for n in subject.neurons
    ]
    f = head_value(subject.head, fw.z)
    res: dict[str, Any] = {
        "network": net.name, "W": net.W, "params": dict(zip(net.param_names, _vec(w) or [])),
        "frozen": frozen_names,
        "choice": str(choice), "neurons": neurons, "f": _q(f) if isinstance(f, Fraction)
        else f"{f:.17g}", "f_exact": isinstance(f, Fraction), "layered": net.layers is not None,
        "kinks": list(kinks), "dead_kinks": sorted(dead), "ns": ns_value, "differentiable": verdict.differentiable,
        "ad": _nums(ad), "grad": _nums(verdict.grad), "witness": _vec(verdict.witness),
        "inc": inc, "certificate": verdict.explained, "undecided": undecided,
        "oracle": oracle, "bias_network": subject.is_bias_network,
        "no_exclusive_bias": list(dict.fromkeys(subject.neurons[k].label
                                                for k in subject.no_exclusive_bias)),
    }
    res["theorem"] = coverage_json(coverage(net, subject.batch, choice))
    if batch is not None:
        res["batch"] = subject.batch
        res["loss"] = loss
        res["kinked"] = [{"neuron": subject.neurons[k].label, "example": subject.neurons[k].example,
                          "kink": _q(fw.y[k])} for k in kinks]
    if not subject.head.is_rational:
        res["ad_approx"] = [float(x) if isinstance(x, Fraction) else x.approx() for x in ad]
        if verdict.grad is not None:
            res["grad_approx"] = [float(x) if isinstance(x, Fraction) else x.approx()
                                  for x in verdict.grad]
    return res


def _verdict_text(res: dict[str, Any]) -> str:
    d = res["differentiable"]
    diff = "differentiable" if d else "undecided" if d is None else "NOT differentiable"
    return (f"NS(w) = {res['ns']}   oracle: {diff} [{res['certificate']}]   "
            f"inc (differentiable and AD wrong) = {res['inc']}")


def cmd_check(args: argparse.Namespace) -> int:
    res = check_result(args.network, args.params, args.choice, args.batch, args.loss,
                       args.oracle, args.budget, args.trust_model, args.time_limit,
                       args.precision)
    if args.json:
        print(json.dumps(res))
        return 0
    eq = "=" if res["f_exact"] else "~"
    head = f"network {res['network']}  W = {res['W']}  choice = {res['choice']}  f(w) {eq} {res['f']}"
    if "batch" in res:
        head += f"  batch = {res['batch']}  loss = {res['loss']}"
    print(head)
    if res["frozen"]:
        print("frozen (constants, not parameters): " + ", ".join(res["frozen"]))
    neurons = res["neurons"]
    if "batch" in res or len(neurons) > 40:
        shown = [n for n in neurons if n["kink"]]
        print(f"kinked neurons: {len(shown)} of {len(neurons)} (all neurons: --json)")
        rows = [(n["name"], n["example"], n["activation"], n["y"], n["zbar"]) for n in shown]
        if rows:
            print(render(["neuron", "example", "activation", "y", "zbar"], rows))
    elif res["layered"]:
        rows = [(n["index"], n["layer"], n["unit"], n["activation"], n["y"], n["z"],
                 "yes" if n["kink"] else "", n["zbar"]) for n in neurons]
        print(render(["neuron", "layer", "unit", "activation", "y", "z", "kink", "zbar"], rows))
    else:
        rows = [(n["index"], n["name"], n["activation"], n["y"], n["z"],
                 "yes" if n["kink"] else "", n["zbar"]) for n in neurons]
        print(render(["neuron", "name", "activation", "y", "z", "kink", "zbar"], rows))
    names = list(res["params"])
    grad = res["grad"] or [None] * len(names)
    prow = [(nm, v, a, g if g is not None else "-") for nm, v, a, g in
            zip(names, res["params"].values(), res["ad"], grad)]
    print()
    print(render(["parameter", "w", "AD", "true gradient"], prow))
    print()
    print(_verdict_text(res))
    if res["dead_kinks"]:
        print(f"dead kinks (input locally constant: no kink for differentiability, no choice "
              f"point for AD): {len(res['dead_kinks'])} of {len(res['kinks'])} kink neurons")
    if res["witness"] is not None:
        print("witness direction v (phi_w(v) != sum_i v_i phi_w(e_i)): "
              + ", ".join(res["witness"]))
    if res["undecided"]:
        print(f"undecided: {res['undecided']}")
    if res["oracle"] == "certified":
        print(f"certified values: exact rationals where they can be, else Arb balls "
              f"[mid +/- rad] at {res['precision']} bits")
    print(theorem_line(res["theorem"]))
    bias = "a bias network" if res["bias_network"] else "NOT a bias network"
    line = f"{bias} (THEORY.md section 3)"
    if res["no_exclusive_bias"]:
        names_nb = res["no_exclusive_bias"]
        more = f", ... ({len(names_nb)} in all)" if len(names_nb) > 8 else ""
        line += "; without a bias of their own: " + ", ".join(names_nb[:8]) + more
    if "batch" in res:
        line += "; a batched network is never a bias network: T1-T4 do not apply as stated " \
                "(THEORY.md 8.1)"
    print(line)
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from .core.files import check_output_path

    if args.inc_out is not None:  # before torch is imported or any work starts
        check_output_path(args.inc_out, "--inc-out spec")
    from .audit.report import audit_files, public, render_audit


    res = audit_files(args.model, args.batch, args.loss, args.dtype, args.choice, args.budget,
                      args.trust_model, args.inc_out, args.time_limit,
                      progress=not args.json, max_precision=args.precision)
    print(json.dumps(public(res)) if args.json else render_audit(res))
    return 0


def cmd_limits(args: argparse.Namespace) -> int:
    from .core.limits import LIMITS, table

    if args.json:
        print(json.dumps({lim.name: {"env": lim.env, "value": lim.value, "default": lim.default,
                                     "what": lim.what} for lim in LIMITS.values()}))
        return 0
    print(render(["limit", "environment variable", "value", "what"], table()))
    return 0


def cmd_count(args: argparse.Namespace) -> int:
    from .exact.counter import count, render_count

    net = load_network(args.network)
    fmt = parse_format(args.format)
    res = count(net, fmt, parse_choice(args.choice), oracle=args.oracle, force=args.force,
                progress=not args.json and not args.quiet)
    print(json.dumps(res) if args.json else render_count(res))
    return 0


def cmd_suite(args: argparse.Namespace) -> int:

    from .report.suite import WORK_BUDGET, render_suite, run_suite

    res = run_suite(budget=WORK_BUDGET if args.budget is None else args.budget,
                    progress=not args.json)
    if args.json_out:
        from .core.files import atomic_write_text

        atomic_write_text(args.json_out, json.dumps(res, indent=1) + "\n")
    print(json.dumps(res) if args.json else render_suite(res))
    return 0 if res["ok"] else 1


def cmd_coq_examples(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .nets.coqspec import EXAMPLES_V, render_examples

    root = Path(args.root)
    text = render_examples(root)
    target = root / EXAMPLES_V
    if args.check:
        current = target.read_text() if target.exists() else ""
        print(f"{target}: {'up to date' if current == text else 'OUT OF DATE'}")
        return 0 if current == text else 1
    target.write_text(text)
    print(f"wrote {target}")
    return 0


@functools.cache
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="adcorrect", description="Exact checks of AD correctness "
                "(Lee, Park & Aiken, ICML 2023) on networks with machine-number parameters.")
    p.add_argument("--version", action="version", version=f"adcorrect {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    f = sub.add_parser("formats", help="list the number formats M with |M|")
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=cmd_formats)

    lim = sub.add_parser("limits", help="the resource limits on input and how to raise them")
    lim.add_argument("--json", action="store_true")
    lim.set_defaults(func=cmd_limits)

    c = sub.add_parser("check", help="kinks, adjoints, NS, AD and the oracle at one w")
    c.add_argument("network", help="a JSON spec (version 1 or 2) or a model saved with "
                                   "torch.save(model)")
    c.add_argument("--params", help="comma-separated rationals, W of them (default: the "
                                    "stored values of a model or a v2 spec)")
    c.add_argument("--choice", default="pytorch", help="pytorch | left | right | a number")
    c.add_argument("--batch", help="a batch file: .pt with {'x', 'y'} tensors or .npz")
    c.add_argument("--loss", choices=("mse", "ce", "sum"), help="the batch loss (PyTorch's "
                   "MSELoss/CrossEntropyLoss with mean reduction, or sum_i y_i f(x_i))")
    c.add_argument("--oracle", default="fast", choices=("fast", "independent"))
    c.add_argument("--budget", type=_budget, default=DEFAULT_BUDGET,
                   help=f"most sign cones the oracle explores (default {DEFAULT_BUDGET})")
    c.add_argument("--time-limit", type=_seconds, default=DEFAULT_TIME_LIMIT, metavar="S",
                   help=f"seconds of exact work before 'undecided' (default "
                        f"{DEFAULT_TIME_LIMIT:g}; 0: none)")
    c.add_argument("--trust-model", action="store_true",
                   help="allow a model file to unpickle classes outside torch.nn")
    c.add_argument("--precision", type=_bits, default=MAX_PRECISION, metavar="BITS",
                   help=f"most bits of working precision of the certified engine (smooth "
                        f"operations; default {MAX_PRECISION})")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_check)

    a = sub.add_parser("audit", help="exact and execution audit of a PyTorch model on a batch")
    a.add_argument("model", help="a model saved with torch.save(model)")
    a.add_argument("--batch", required=True, help="a .pt with {'x', 'y'} tensors or an .npz")
    a.add_argument("--loss", required=True, choices=("ce", "mse", "sum"))
    a.add_argument("--dtype", help="fp32 | bf16 | fp16 | fp64 | e4m3fn | e5m2 | int8:SCALE "
                                   "(default: the model's own dtype)")
    a.add_argument("--choice", default="pytorch", help="pytorch | left | right | a number")
    a.add_argument("--budget", type=_budget, default=DEFAULT_BUDGET,
                   help=f"most sign cones the oracle explores (default {DEFAULT_BUDGET})")
    a.add_argument("--inc-out", metavar="PATH", help="where an inc point's v2 spec is saved "
                   "(default: MODEL.inc.json in the current directory)")
    a.add_argument("--time-limit", type=_seconds, default=DEFAULT_TIME_LIMIT, metavar="S",
                   help=f"seconds of exact work per audit before 'undecided' (default "
                        f"{DEFAULT_TIME_LIMIT:g}; 0: none)")
    a.add_argument("--trust-model", action="store_true",
                   help="allow a model file to unpickle classes outside torch.nn")
    a.add_argument("--precision", type=_bits, default=MAX_PRECISION, metavar="BITS",
                   help=f"most bits of working precision of the certified engine (smooth "
                        f"operations; default {MAX_PRECISION})")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_audit)

    n = sub.add_parser("count", help="exhaustive count over M^W")
    n.add_argument("network")
    n.add_argument("--format", required=True)
    n.add_argument("--choice", default="pytorch")
    n.add_argument("--oracle", nargs="?", const="fast", choices=("fast", "independent"),
                   help="also decide every kinked point with the oracle: fast (certificates "
                        "first; the default) or independent (cone search only, never NS)")
    n.add_argument("--force", action="store_true", help="allow more than 10^10 points")
    n.add_argument("--quiet", action="store_true", help="no progress bar")
    n.add_argument("--json", action="store_true")
    n.set_defaults(func=cmd_count)

    s = sub.add_parser("suite", help="the default counting suite (T2 bound and closed forms)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--json-out", metavar="PATH", help="also write the JSON result to PATH")
    s.add_argument("--budget", type=int, default=None,
                   help="skip rows enumerating more array elements than this")
    s.set_defaults(func=cmd_suite)

    e = sub.add_parser("coq-examples", help="render examples/*.json and the certified formats "
                       "as Coq terms (coq/theories/Computation/Examples.v)")
    e.add_argument("--root", default=".", help="the repository")
    e.add_argument("--check", action="store_true", help="only check that the file is up to date")
    e.set_defaults(func=cmd_coq_examples)

    add_smt_parser(sub)
    add_report_parser(sub)
    add_crosscheck_parser(sub)
    return p


def _seconds(text: str) -> float | None:
    """A time limit in seconds (0: none)."""
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not v >= 0 or v == float("inf"):
        raise InputError(f"--time-limit: expected seconds >= 0, got {text[:40]!r}")
    return v or None


def _bits(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of bits, got {text!r}") from None
    if not 53 <= v <= 1 << 16:
        raise argparse.ArgumentTypeError(f"precision {v}: use 53 to 65536 bits")
    return v


def _budget(text: str) -> int:
    try:
        b = int(text)
    except ValueError:
        raise InputError(f"--budget: expected a positive integer, got {text!r}") from None
    if b < 1:
        raise InputError(f"--budget: expected a positive integer, got {text!r}")
    return b


def _glue_values(argv: list[str]) -> list[str]:
    """`--params -1,2` as `--params=-1,2`, so negative values are not taken for options."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in ("--params", "--choice", "--dtype") and i + 1 < len(argv):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    # inputs are bounded by adcorrect.core.limits; exact results may have many digits
    sys.set_int_max_str_digits(0)
    try:
        args = build_parser().parse_args(_glue_values(list(sys.argv[1:] if argv is None else argv)))
        return int(args.func(args) or 0)
    except InputError as e:
        prefix = "adcorrect: error: "
        print(prefix + one_line(str(e), MAX_LINE - len(prefix)), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("adcorrect: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader (e.g. `| head`) went away: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
