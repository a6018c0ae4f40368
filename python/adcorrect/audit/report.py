"""`python -m adcorrect audit`: files in, both audits side by side out (text or JSON), and an
``inc`` point saved as a version-2 spec."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..core.deadline import DEFAULT_TIME_LIMIT
from ..core.errors import InputError
from ..core.files import atomic_write_text, check_output_path
from ..core.tables import render
from ..nets.theorems import theorem_line
from ..torchfx.verify import cannot_run

SHOWN = 20  # kinked copies and differences listed in the text output


def load_batch_tensors(path: str) -> tuple[Any, Any]:
    """x and y of a batch file (.pt with {"x", "y"} tensors, or .npz), as tensors."""
    import numpy as np
    import torch

    from ..nets.batch import read_batch_file

    x, y = read_batch_file(path)
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "fiu" or y.dtype.kind not in "fiu":
            raise InputError(f"{path}: x and y must be numeric arrays")
        for key, a in (("x", x), ("y", y)):
            if a.dtype.kind == "f" and a.dtype.itemsize > 8:
                raise InputError(f"{path}: {key} has dtype {a.dtype} (long double), which "
                                 "torch cannot run; `check` reads it exactly")
        try:
            return torch.from_numpy(x), torch.from_numpy(y)
        except TypeError as e:
            raise InputError(f"{path}: torch cannot hold these arrays ({e})") from None
    return x, y


def audit_files(model_path: str, batch_path: str, loss: str, dtype_text: str | None = None,
                choice: str = "pytorch", budget: int | None = None, trust: bool = False,
                inc_out: str | None = None, time_limit: float | None = DEFAULT_TIME_LIMIT,
                progress: bool = False, max_precision: int | None = None) -> dict[str, Any]:
    """Both audits of a saved model on a batch file (a JSON-ready dict)."""
    from ..exact.oracle import DEFAULT_BUDGET
    from ..nets.activations import parse_choice
    from ..nets.batch import LOSSES
    from ..torchfx.load import load_model
    from .dtypes import dtype_of, parse_dtype
    from .run import Auditor, check_batch, prepared

    if loss not in LOSSES:
        raise InputError(f"unknown loss {loss!r} (use {', '.join(LOSSES)})")
    dtype = parse_dtype(dtype_text) if dtype_text is not None else None
    ch = parse_choice(choice)
    model = load_model(model_path, trust=trust)
    x, y = load_batch_tensors(batch_path)
    check_batch(x, y, loss)
    dtype = dtype or dtype_of(model)
    m, changed = prepared(model, dtype)
    try:
        aud = Auditor(m, x, loss, dtype=dtype, choice=ch,
                      budget=DEFAULT_BUDGET if budget is None else budget,
                      name=Path(model_path).stem, time_limit=time_limit, progress=progress,
                      **({} if max_precision is None else {"max_precision": max_precision}))
        res = aud.audit(x, y)
    except RuntimeError as e:
        raise cannot_run(e) from None
    res["params_rounded"] = changed
    res["import_seconds"] = aud.import_seconds
    res["inc_spec"] = None
    net = res.pop("_inc_network", None)
    values = res.pop("_inc_values", None)
    if net is not None:
        from ..nets.specv2 import network_to_v2

        out = Path(inc_out or f"{Path(model_path).stem}.inc.json")
        spec = network_to_v2(replace(net, values=tuple(values)))
        check_output_path(out, "inc spec")
        try:
            atomic_write_text(out, json.dumps(spec, indent=1) + "\n")
        except OSError as e:
            raise InputError(f"{out}: cannot write the inc spec ({e.strerror})") from None
        res["inc_spec"] = str(out)
    return res


def _yes(v: Any) -> str:
    return "undecided" if v is None else "yes" if v else "no"


def render_audit(res: dict[str, Any]) -> str:
    """The text report: both audits side by side, kinked copies, differences."""
    e, x = res["exact"], res.get("execution")
    head = (f"audit {res['network']}  W = {res['W']}  batch = {res['batch']}  "
            f"loss = {res['loss']}  choice = {res['choice']}")
    lines = [head]
    if res.get("frozen"):
        lines.append("frozen (constants, not parameters): " + ", ".join(res["frozen"][:8])
                     + (f", ... ({len(res['frozen'])} in all)" if len(res["frozen"]) > 8 else ""))
    if res.get("activations"):
        lines.append("activations, with the constants PyTorch's kernels use (exact): "
                     + ", ".join(_decimals(a) for a in res["activations"]))
    if x is not None:
        lines.append(f"execution: {x['dtype']}, {x['computation']}; parameters rounded to "
                     f"the format: {res.get('params_rounded', 0)}")
    found = f"{e['kinked']} in {e['kinked_examples']} example(s)"
    if e.get("dead"):
        found += f" + {e['dead']} dead"
    if not e.get("kinks_known", True):
        found = f"undecided ({e['uncertain']} copies uncertain; at least {e['kinked']} found)"
    rows = [
        ("copies on a kink", found, x["float_kinks"] if x else "-"),
        ("derivative choice matters (exact: NS; float: bifurcation)", _yes(e["ns"]),
         _yes(x["bifurcation"]) if x else "-"),
        ("batch loss differentiable", _yes(e["differentiable"]), "-"),
        ("AD wrong at a differentiable point (inc)", _yes(e["inc"]), "-"),
        ("gradient entries that change with the kink slope", "-",
         x["changed_gradient_entries"] if x else "-"),
    ]
    lines.append(render(["question", "exact (real arithmetic)", "execution (torch)"], rows))
    lines.append(f"exact verdict decided by: {e['certificate']}")
    if e["undecided"]:
        lines.append(f"undecided: {e['undecided']}")
    if e["witness"]:
        w = e["witness"]
        parts = "; ".join(f"{k} = {_short(v)}" for k, v in w.items() if k != "kind")
        lines.append(f"witness ({w['kind']}): {parts}")
    if e.get("dead"):
        lines.append(f"dead kinks: {e['dead']} kinked copies whose input is locally constant "
                     "(e.g. a max-pool tie of relu outputs of negative values): no kink for "
                     "differentiability, no choice point for AD")
    if e["copies"]:
        lines.append("")
        lines.append(f"kinked copies ({len(e['copies'])}; first {min(SHOWN, len(e['copies']))}):")
        lines.append(render(["neuron", "example", "kink", "adjoint"],
                            [(c["neuron"], c["example"], c["kink"], c["zbar"] or "-")
                             for c in e["copies"][:SHOWN]]))
    d = res.get("differ")
    if d is not None:
        lines.append("")
        if not d.get("kinks_known", True):
            lines.append("exact kinks undecided: no copy-by-copy comparison with the float "
                         "kinks")
        elif not d["matched"]:
            lines.append("exact and float kinks could not be matched copy by copy")
        else:
            lines.append(f"copies where exact and float kinks differ: {d['exact_only']} exact "
                         f"only, {d['float_only']} float only")
            if d["rows"]:
                lines.append(render(["neuron", "example", "exact y", "float y", "exact kink",
                                     "float kink"],
                                    [(r["neuron"], r["example"], r["exact_y"], r["float_y"],
                                      _yes(r["exact_kink"]), _yes(r["float_kink"]))
                                     for r in d["rows"][:SHOWN]]))
        v = res.get("verdicts", [])
        dis = [r for r in v if r["agree"] is False]
        if dis:
            lines.append("verdicts that differ: " + "; ".join(
                f"{r['question']}: exact {_yes(r['exact'])}, float {_yes(r['execution'])}"
                for r in dis))
    if e["inc"]:
        lines.append("")
        t6 = "; a counterexample to T6 for this network" if res["single_bias_network"] else ""
        lines.append(f"inc point (differentiable, AD wrong{t6}):")
        table = e.get("inc_table", [])
        lines.append(render(["parameter", "w", "AD", "gradient"],
                            [(r["name"], r["w"], r["ad"], r["grad"]) for r in table]))
        if len(table) < res["W"]:
            lines.append(f"(the {len(table)} parameters where AD and the gradient differ; all "
                         "W in --json)")
        if res.get("inc_spec"):
            lines.append(f"saved as a version-2 spec: {res['inc_spec']} (python -m adcorrect "
                         "check it)")
    lines.append("")
    if res.get("theorem"):
        lines.append(theorem_line(res["theorem"]))
    lines.append(
        ("a batched network is never a bias network (THEORY.md 8.1); " if res["batch"] > 1
         else "") + "the single-example "
        f"network is {'' if res['single_bias_network'] else 'NOT '}a bias network"
        + ("" if res["single_bias_network"] else " (without a bias of their own: "
           + ", ".join(res["no_exclusive_bias"][:8]) + ")"))
    return "\n".join(lines)


def _decimals(text: str) -> str:
    """Fractions p/q in text followed by their nearest double, for people."""
    return re.sub(r"(-?\d+)/(\d+)", lambda m: f"{m[0]} (~{int(m[1]) / int(m[2]):.10g})", text)


def _short(v: Any) -> str:
    if isinstance(v, dict):
        items = list(v.items())
        text = ", ".join(f"{k}: {val}" for k, val in items[:6])
        return "{" + text + (f", ... ({len(items)} entries)" if len(items) > 6 else "") + "}"
    return str(v)


def public(res: dict[str, Any]) -> dict[str, Any]:
    """The result without its internal entries."""
    return {k: v for k, v in res.items() if not k.startswith("_")}
