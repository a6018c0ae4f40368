"""Coq's computable network (Computation/QSpec.v flattening, QNet.v, QAD.v) against the
exact Python engine, at points of fp(2,2): f(w), the pre-activations, AD with PyTorch's
choice and NS must be equal.  Runs coqc on the built development (make check-proofs);
skipped when the .vo files are absent."""

import random
import re
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from adcorrect.exact.engine import backward, forward, ns
from adcorrect.nets.coqspec import ident, q_list
from adcorrect.nets.spec import load_network
from adcorrect.numbers.formats import parse_format

ROOT = Path(__file__).resolve().parents[2]
COQ = ROOT / "coq"
BUILT = COQ / "theories/Computation/Examples.vo"

pytestmark = pytest.mark.skipif(shutil.which("coqc") is None or not BUILT.exists(),
                                reason="needs coqc and the built development (make check-proofs)")

# the layered (version-1) specs, which Examples.v renders (QSpec.v flattens layers)
SPECS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "examples").glob("*.json")
               if '"version": 2' not in p.read_text())
INT = re.compile(r"-?\d+")


def _points(W: int, n: int = 4) -> list[tuple[Fraction, ...]]:
    values = parse_format("fp(2,2)").values()
    rng = random.Random(W)
    return [tuple(Fraction(0) for _ in range(W))] + \
        [tuple(rng.choice(values) for _ in range(W)) for _ in range(n)]


def _parse_q_list(text: str) -> list[Fraction]:
    """Rationals printed as the Z list [num1; den1; num2; den2; ...] (see zs below)."""
    ints = [int(i) for i in INT.findall(text)]
    return [Fraction(a, b) for a, b in zip(ints[::2], ints[1::2])]


def zs(term: str) -> str:
    """A Coq list of Q as the Z list of numerators and denominators (Coq prints some
    rationals in hexadecimal)."""
    return f"flat_map (fun q => [Qnum q; Zpos (Qden q)]) ({term})"


def test_coq_matches_engine(tmp_path):
    lines = ["From Coq Require Import QArith List.",
             "From ADCorrect Require Import QAct QNet QAD QSpec Examples.",
             "Import ListNotations.", "Open Scope Q_scope."]
    cases = []
    for path in SPECS:
        net = load_network(ROOT / path)
        n = f"(spec_qnet spec_{ident(Path(path).stem)})"
        for w in _points(net.W):
            u = q_list(list(w))
            lines.append('Goal True. idtac "@@CASE". Abort.')
            lines.append(f"Eval vm_compute in {zs(f'[qnet_eval {n} {u}]')}.")
            lines.append(f"Eval vm_compute in "
                         f"{zs(f'map (qpreact {n} {u} (qzvec {n} {u})) (seq 0 (qsize {n}))')}.")
            lines.append(f"Eval vm_compute in {zs(f'qad {n} (torch_dq {n}) {u}')}.")
            lines.append(f"Eval vm_compute in qNS {n} (torch_dq {n}) {u}.")
            cases.append((path, net, w))
    src = tmp_path / "CoqEval.v"
    src.write_text("\n".join(lines) + "\n")
    proc = subprocess.run(["coqc", "-q", "-R", str(COQ / "theories"), "ADCorrect", str(src)],
                          capture_output=True, text=True, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    blocks = proc.stdout.split("@@CASE")[1:]
    assert len(blocks) == len(cases)
    for (path, net, w), block in zip(cases, blocks):
        results = [r.split(":")[0] for r in block.split("=")[1:]]
        f_text, y_text, ad_text, ns_text = results
        fw = forward(net, w)
        bw = backward(net, w, fw, "pytorch")
        where = f"{path} at {list(map(str, w))}"
        assert _parse_q_list(f_text) == [fw.out], where
        assert _parse_q_list(y_text) == list(fw.y), where
        assert _parse_q_list(ad_text) == list(bw.grad), where
        assert ns_text.strip() == ("true" if ns(net, fw, bw) else "false"), where
