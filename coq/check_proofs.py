#!/usr/bin/env python3
"""Audit of the Coq development (run by `make check-proofs` after the build).

(a) No Admitted, admit, Axiom(s), Conjecture anywhere in coq/, and no
    Parameter/Hypothesis/Variable outside a Section.
(b) theories/Assumptions.v prints the assumptions of exactly the theorems stated
    in theories/Main.v; each may use only the allowlisted classical-reals axioms.
(c) One status line per main theorem.  Exit status 1 on any failure.
(d) The certified numbers: every conjunct "ndf_count net_X M_Y = N%nat" (or
    inc_count / ns_count with the spec's PyTorch choice) of a Main.v theorem
    named certified_*, with net_X and M_Y resolved to the spec file and the
    format through the "(* spec: ... *)" and "(* format: ... *)" lines of
    theories/Computation/Examples.v.  A certified_* conjunct that does not
    parse is an error.
(e) The certified numbers of batched (and tied) networks: a conjunct
    "ndf_count net_X M_Y = N%nat" or "inc_count net_X torch_X M_Y = N%nat"
    whose net_X is defined in theories/Computation/BatchExamples.v after a
    "(* batch: NETWORK BATCH LOSS *)" line (the JSON spec, the batch file and
    the loss of adcorrect's batched network; torch_X is PyTorch's choice at
    every copy).  They are exported apart, as "certified_batched", so that the
    unbatched cross-check never reads them as the bare network's numbers.

`--json FILE` also writes {"theorems": [{"name", "status", "axioms"}], "ok": bool,
"certified": [{"theorem", "network", "format", "quantity", "value"}],
"certified_batched": [{"theorem", "network", "batch", "loss", "format", "quantity",
"value"}]} for the comparison report (certified rows of proved theorems only).
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
THEORIES = HERE / "theories"

ALLOWED = {
    "ClassicalDedekindReals.sig_forall_dec",
    "ClassicalDedekindReals.sig_not_dec",
    "FunctionalExtensionality.functional_extensionality_dep",
    "Classical_Prop.classic",
    "PropExtensionality.propositional_extensionality",
    "PropExtensionalityFacts.propositional_extensionality",
    "ClassicalEpsilon.constructive_indefinite_description",
    "IndefiniteDescription.constructive_indefinite_description",
}
ALLOWED_SHORT = {a.rsplit(".", 1)[1] for a in ALLOWED}

FORBIDDEN_ANYWHERE = re.compile(r"\b(Admitted|admit|Axiom|Axioms|Conjecture)\b")
SECTION_ONLY = re.compile(r"^\s*(Parameter|Parameters|Hypothesis|Hypotheses|Variable|Variables)\b")
THEOREM = re.compile(r"^\s*(?:Theorem|Lemma|Corollary|Proposition)\s+([A-Za-z_][\w']*)", re.M)
PRINTED = re.compile(r"^\s*Print\s+Assumptions\s+(?:Main\.)?([\w']+)\s*\.", re.M)


def strip_comments(text: str) -> str:
    """Text with (* nested comments *) and "strings" blanked, newlines kept."""
    out: list[str] = []
    depth, i, in_str = 0, 0, False
    while i < len(text):
        two = text[i:i + 2]
        if in_str:
            if text[i] == '"':
                in_str = False
            out.append("\n" if text[i] == "\n" else " ")
            i += 1
        elif two == "(*":
            depth += 1
            out.append("  ")
            i += 2
        elif two == "*)" and depth:
            depth -= 1
            out.append("  ")
            i += 2
        elif depth:
            out.append("\n" if text[i] == "\n" else " ")
            i += 1
        else:
            if text[i] == '"':
                in_str = True
            out.append(text[i])
            i += 1
    return "".join(out)


def hygiene_errors() -> list[str]:
    """Forbidden commands in any .v file under coq/."""
    errors = []
    for path in sorted(HERE.rglob("*.v")):
        code = strip_comments(path.read_text())
        depth = 0
        for n, line in enumerate(code.splitlines(), 1):
            if re.match(r"^\s*Section\b", line):
                depth += 1
            elif re.match(r"^\s*End\b", line) and depth:
                depth -= 1
            m = FORBIDDEN_ANYWHERE.search(line)
            if m:
                errors.append(f"{path.relative_to(HERE)}:{n}: forbidden '{m.group(1)}'")
            m2 = SECTION_ONLY.match(line)
            if m2 and depth == 0:
                errors.append(f"{path.relative_to(HERE)}:{n}: '{m2.group(1)}' outside a Section")
    return errors


def parse_assumptions(output: str, names: list[str]) -> dict[str, list[str]]:
    """Axiom names per theorem from coqc's output of the marked Print Assumptions."""
    result: dict[str, list[str]] = {}
    blocks = re.split(r"^@@THEOREM (\S+)\s*$", output, flags=re.M)
    for name, body in zip(blocks[1::2], blocks[2::2]):
        if "Closed under the global context" in body:
            result[name] = []
        else:
            result[name] = [line.split()[0] for line in body.splitlines()
                            if line.strip() and not line[0].isspace() and line != "Axioms:"]
    return {n: result.get(n, ["<no output>"]) for n in names}


def disallowed(axioms: list[str]) -> list[str]:
    """The axioms outside the allowlist."""
    return [a for a in axioms if a not in ALLOWED and a.rsplit(".", 1)[-1] not in ALLOWED_SHORT]


CERTIFIED = re.compile(r"^\s*(?:Theorem|Lemma|Corollary|Proposition)\s+(certified_[\w']*)\s*:(.*?)\.\s*Proof\b",
                       re.M | re.S)
CONJUNCT = re.compile(r"(ndf|inc|ns)_count\s+net_(\w+)\s+(?:\(\s*spec_torch\s+spec_(\w+)\s*\)\s+)?"
                      r"M_(\w+)\s*=\s*(\d+)\s*%nat")
BATCH_CONJUNCT = re.compile(r"(ndf|inc)_count\s+net_(\w+)\s+(?:torch_(\w+)\s+)?M_(\w+)\s*=\s*(\d+)\s*%nat")
BATCH_LINE = re.compile(r"\(\*\s*batch:\s*(\S+)\s+(\S+)\s+(\S+)\s*\*\)\s*Definition\s+net_(\w+)\b")
SPEC_LINE = re.compile(r"\(\*\s*spec:\s*(\S+)\s*\*\)\s*Definition\s+spec_(\w+)\b")
FORMAT_LINE = re.compile(r"\(\*\s*format:\s*(\S+)\s*\*\)\s*Definition\s+fmt_(\w+)\b")


BATCH_EXAMPLES = THEORIES / "Computation" / "BatchExamples.v"


def certified_rows(main_v: str, examples_v: str, batch_v: str | None = None) -> tuple[list[dict], list[str]]:
    """The certified numbers of unbatched networks stated in Main.v, and the errors
    (unparsable conjuncts, unknown networks or formats, a choice taken from another
    spec).  Conjuncts about the networks of BatchExamples.v (batch_v; by default the
    development's file) are not among these rows: see certified_batched_rows."""
    rows, _, errors = _certified(main_v, examples_v, batch_v)
    return rows, errors


def certified_batched_rows(main_v: str, examples_v: str, batch_v: str | None = None) -> list[dict]:
    """The certified numbers of the batched and tied networks of BatchExamples.v."""
    return _certified(main_v, examples_v, batch_v)[1]


def _certified(main_v: str, examples_v: str, batch_v: str | None) -> tuple[list[dict], list[dict], list[str]]:
    """Unbatched rows, batched rows, errors."""
    if batch_v is None:
        batch_v = BATCH_EXAMPLES.read_text() if BATCH_EXAMPLES.exists() else ""
    specs = {ident: path for path, ident in SPEC_LINE.findall(examples_v)}
    formats = {ident: name for name, ident in FORMAT_LINE.findall(examples_v)}
    batches = {ident: (net, batch, loss) for net, batch, loss, ident in BATCH_LINE.findall(batch_v)}
    rows, brows, errors = [], [], []
    for name, statement in CERTIFIED.findall(strip_comments(main_v)):
        for conj in (c.strip() for c in statement.split("/\\")):
            text = " ".join(conj.split())
            mb = BATCH_CONJUNCT.fullmatch(text)
            if mb is not None and mb.group(2) in batches:
                quantity, net, choice_of, fmt, value = mb.groups()
                if (quantity == "ndf") != (choice_of is None) or choice_of not in (None, net):
                    errors.append(f"{name}: {quantity}_count of net_{net} must use "
                                  f"{'no choice' if quantity == 'ndf' else f'torch_{net}'}")
                    continue
                if fmt not in formats:
                    errors.append(f"{name}: M_{fmt} is not in Computation/Examples.v")
                    continue
                network, batch, loss = batches[net]
                brows.append({"theorem": name, "network": network, "batch": batch, "loss": loss,
                              "format": formats[fmt], "quantity": quantity, "value": int(value)})
                continue
            m = CONJUNCT.fullmatch(text)
            if m is None:
                errors.append(f"{name}: cannot read the certified number in '{text}'")
                continue
            quantity, net, choice_of, fmt, value = m.groups()
            if (quantity == "ndf") != (choice_of is None) or choice_of not in (None, net):
                errors.append(f"{name}: {quantity}_count of net_{net} must use "
                              f"{'no choice' if quantity == 'ndf' else f'(spec_torch spec_{net})'}")
                continue
            if net not in specs or fmt not in formats:
                errors.append(f"{name}: net_{net} or M_{fmt} is not in Computation/Examples.v")
                continue
            rows.append({"theorem": name, "network": specs[net], "format": formats[fmt],
                         "quantity": quantity, "value": int(value)})
    return rows, brows, errors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the status as JSON to this file")
    args = ap.parse_args()
    ok = True
    errors = hygiene_errors()
    for e in errors:
        print(f"check-proofs: {e}")
    ok &= not errors

    main_v = (THEORIES / "Main.v").read_text()
    names = THEOREM.findall(strip_comments(main_v))
    ass_v = (THEORIES / "Assumptions.v").read_text()
    printed = PRINTED.findall(strip_comments(ass_v))
    if sorted(names) != sorted(printed):
        print("check-proofs: Assumptions.v does not print exactly the theorems of Main.v: "
              f"missing {sorted(set(names) - set(printed))}, extra {sorted(set(printed) - set(names))}")
        ok = False
    proc = subprocess.run(
        ["coqc", "-q", "-R", "theories", "ADCorrect", "theories/Assumptions.v"],
        cwd=HERE, capture_output=True, text=True,
    )
    if proc.returncode != 0:
        print("check-proofs: Assumptions.v failed:\n" + proc.stderr.strip())
        ok = False
    axioms = parse_assumptions(proc.stdout, names)
    rows = []
    for name in names:
        bad = disallowed(axioms[name])
        status = "proved" if not bad and proc.returncode == 0 else "FAILING"
        ok &= status == "proved"
        shown = ", ".join(a.rsplit(".", 1)[-1] for a in axioms[name]) or "none"
        extra = f"; NOT ALLOWED: {', '.join(bad)}" if bad else ""
        print(f"{name}: {status} (axioms: {shown}{extra})")
        rows.append({"name": name, "status": status, "axioms": axioms[name]})
    examples = THEORIES / "Computation" / "Examples.v"
    certified, batched, cerrors = _certified(main_v, examples.read_text() if examples.exists() else "",
                                             None)
    for e in cerrors:
        print(f"check-proofs: {e}")
    ok &= not cerrors
    proved = {r["name"] for r in rows if r["status"] == "proved"}
    certified = [c for c in certified if c["theorem"] in proved]
    batched = [c for c in batched if c["theorem"] in proved]
    print(f"check-proofs: {len(certified)} certified numbers, {len(batched)} for batched networks")
    print(f"check-proofs: {len(names)} main theorems, "
          f"{'all proved with allowed axioms only' if ok else 'FAILED'}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        out = Path(args.json)  # written to a temporary file, then renamed (never half-written)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(json.dumps({"theorems": rows, "ok": ok, "certified": certified,
                                   "certified_batched": batched}, indent=1))
        tmp.replace(out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
