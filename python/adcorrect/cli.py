"""Command line: `python -m adcorrect {formats,check,count,smt} ...`.

I/O only: every computation lives in the pure modules.  Bad input prints one
line `adcorrect: error: ...` and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from fractions import Fraction

from . import __version__
from .activations import parse_choice
from .engine import backward, forward, kink_neurons, ns
from .errors import InputError
from .formats import ALIASES, listed_formats, parse_format
from .oracle import decide
from .report import add_report_parser
from .smt.cli import add_smt_parser
from .spec import load_network, parse_params
from .tables import render


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


def check_result(net_path: str, params: str, choice_text: str) -> dict[str, object]:
    """Everything `check` reports, as a JSON-ready dict."""
    net = load_network(net_path)
    net.require_exact()
    choice = parse_choice(choice_text)
    w = parse_params(net, params)
    fw = forward(net, w)
    bw = backward(net, w, fw, choice)
    verdict = decide(net, w)
    ad = bw.grad
    inc = verdict.differentiable and verdict.grad != ad
    kinks = kink_neurons(net, fw)
    neurons = [
        {"index": n.index, "layer": n.layer + 1, "unit": n.unit, "activation": n.activation.name,
         "y": _q(fw.y[n.index]), "z": _q(fw.z[n.index]), "kink": n.index in kinks,
         "zbar": _q(bw.zbar[n.index])}
        for n in net.neurons
    ]
    return {
        "network": net.name, "W": net.W, "params": dict(zip(net.param_names, _vec(w) or [])),
        "choice": str(choice), "neurons": neurons, "f": _q(fw.out),
        "kinks": list(kinks), "ns": ns(net, fw, bw), "differentiable": verdict.differentiable,
        "ad": _vec(ad), "grad": _vec(verdict.grad), "witness": _vec(verdict.witness),
        "inc": inc,
    }


def cmd_check(args: argparse.Namespace) -> int:
    res = check_result(args.network, args.params, args.choice)
    if args.json:
        print(json.dumps(res))
        return 0
    print(f"network {res['network']}  W = {res['W']}  choice = {res['choice']}  f(w) = {res['f']}")
    rows = [(n["index"], n["layer"], n["unit"], n["activation"], n["y"], n["z"],
             "yes" if n["kink"] else "", n["zbar"]) for n in res["neurons"]]  # type: ignore[index]
    print(render(["neuron", "layer", "unit", "activation", "y", "z", "kink", "zbar"], rows))
    names = list(res["params"])  # type: ignore[arg-type]
    grad = res["grad"] or [None] * len(names)  # type: ignore[operator]
    prow = [(nm, v, a, g if g is not None else "-") for nm, v, a, g in
            zip(names, res["params"].values(), res["ad"], grad)]  # type: ignore[union-attr, arg-type]
    print()
    print(render(["parameter", "w", "AD", "true gradient"], prow))
    print()
    diff = "differentiable" if res["differentiable"] else "NOT differentiable"
    print(f"NS(w) = {res['ns']}   oracle: {diff}   inc (differentiable and AD wrong) = {res['inc']}")
    if res["witness"] is not None:
        print("witness direction v (phi_w(v) != sum_i v_i phi_w(e_i)): "
              + ", ".join(res["witness"]))  # type: ignore[arg-type]
    return 0


def cmd_count(args: argparse.Namespace) -> int:
    from .counter import count, render_count

    net = load_network(args.network)
    fmt = parse_format(args.format)
    res = count(net, fmt, parse_choice(args.choice), oracle=args.oracle, force=args.force,
                progress=not args.json and not args.quiet)
    print(json.dumps(res) if args.json else render_count(res))
    return 0


def cmd_suite(args: argparse.Namespace) -> int:

    from .suite import WORK_BUDGET, render_suite, run_suite

    res = run_suite(budget=WORK_BUDGET if args.budget is None else args.budget,
                    progress=not args.json)
    if args.json_out:
        from .smt.results import atomic_write_text

        atomic_write_text(args.json_out, json.dumps(res, indent=1) + "\n")
    print(json.dumps(res) if args.json else render_suite(res))
    return 0 if res["ok"] else 1


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="adcorrect", description="Exact checks of AD correctness "
                "(Lee, Park & Aiken, ICML 2023) on networks with machine-number parameters.")
    p.add_argument("--version", action="version", version=f"adcorrect {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    f = sub.add_parser("formats", help="list the number formats M with |M|")
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=cmd_formats)

    c = sub.add_parser("check", help="kinks, adjoints, NS, AD and the oracle at one w")
    c.add_argument("network")
    c.add_argument("--params", required=True, help="comma-separated rationals, W of them")
    c.add_argument("--choice", default="pytorch", help="pytorch | left | right | a number")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_check)

    n = sub.add_parser("count", help="exhaustive count over M^W")
    n.add_argument("network")
    n.add_argument("--format", required=True)
    n.add_argument("--choice", default="pytorch")
    n.add_argument("--oracle", action="store_true", help="also decide every point independently")
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

    add_smt_parser(sub)
    add_report_parser(sub)
    return p


def _glue_values(argv: list[str]) -> list[str]:
    """`--params -1,2` as `--params=-1,2`, so negative values are not taken for options."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in ("--params", "--choice") and i + 1 < len(argv):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(_glue_values(list(sys.argv[1:] if argv is None else argv)))
        return int(args.func(args) or 0)
    except InputError as e:
        msg = " ".join(str(e).split())
        print(f"adcorrect: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("adcorrect: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
