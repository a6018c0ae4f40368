"""The networks and formats stated in Coq are the JSON specs and Python's formats.

coq/theories/Computation/Examples.v must be exactly the rendering of examples/*.json
and of the certified formats; the activation tags of QAct.v must have the
breakpoints, pieces and PyTorch choices of adcorrect.nets.activations."""

import re
from fractions import Fraction
from pathlib import Path

import pytest
from adcorrect.cli import main
from adcorrect.core.errors import InputError
from adcorrect.nets.activations import parse_activation
from adcorrect.nets.coqspec import (
    EXAMPLES_V,
    act_term,
    ident,
    q_term,
    render_examples,
    spec_term,
)
from adcorrect.nets.spec import load_network

ROOT = Path(__file__).resolve().parents[2]


def test_examples_v_is_the_rendering_of_the_specs():
    assert (ROOT / EXAMPLES_V).read_text() == render_examples(ROOT), \
        "run: python -m adcorrect coq-examples"


def test_cli_check(capsys):
    assert main(["coq-examples", "--root", str(ROOT), "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_cli_check_detects_drift(tmp_path, capsys):
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples/n.json").write_text(
        '{"input": ["1"], "layers": [{"units": 1, "activation": "relu"}]}')
    (tmp_path / EXAMPLES_V).parent.mkdir(parents=True)
    (tmp_path / EXAMPLES_V).write_text("stale\n")
    assert main(["coq-examples", "--root", str(tmp_path), "--check"]) == 1
    assert main(["coq-examples", "--root", str(tmp_path)]) == 0
    assert main(["coq-examples", "--root", str(tmp_path), "--check"]) == 0
    text = (tmp_path / EXAMPLES_V).read_text()
    assert "(* spec: examples/n.json *)\nDefinition spec_n : qspec :=\n  mk_spec [1]\n" \
           "    [mk_layer 1 QRelu true None None].\n" in text


def test_spec_without_coq_tag_is_listed(tmp_path):
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples/h.json").write_text(
        '{"input": ["1"], "layers": [{"units": 1, "activation": "hardswish"}]}')
    text = render_examples(tmp_path, ())
    assert "(* not rendered: examples/h.json: activation hardswish has no Coq" in text
    assert "Definition spec_h" not in text


def test_q_literals():
    assert [q_term(Fraction(x)) for x in ("3", "0", "-3", "1/8", "-1/2")] == \
        ["3", "0", "(-3)", "(1 # 8)", "(-1 # 2)"]


def test_identifiers():
    assert ident("relu-1-2-1") == "relu_1_2_1"
    assert ident("fp(2,2)") == "fp_2_2"
    assert ident("list(-1,0,1)") == "list_m1_0_1"
    assert ident("e2m1") == "e2m1"


def test_t5a_term_by_hand():
    assert spec_term(load_network(ROOT / "examples/t5a.json")) == (
        "mk_spec [1]\n"
        "    [mk_layer 1 QIdentity false None None;\n"
        "     mk_layer 2 QRelu false None None;\n"
        "     mk_layer 1 QIdentity false (Some [[1; (-1)]]) None]")


def test_activation_without_coq_tag():
    assert act_term("leaky_relu(1/8)") == "(QLeaky (1 # 8))"
    with pytest.raises(InputError, match="hardswish"):
        act_term("hardswish")


# -- QAct.v's tables against adcorrect.nets.activations ----------------------------------------


def _coq_table(name: str) -> dict[str, str]:
    """Constructor -> right-hand side of `Definition <name> (a : qact) ... match a with ... end.`"""
    text = (ROOT / "coq/theories/Computation/QAct.v").read_text()
    body = re.search(rf"Definition {name} \(a : qact\)[^:]*:[^:]*:=\s*match a with(.*?)end\.",
                     text, re.DOTALL).group(1)
    table = {}
    for heads, rhs in re.findall(r"((?:\|\s*\w+(?: \w+)?\s*)+)=>\s*(.*?)\s*(?=\||$)", body, re.DOTALL):
        for head in re.findall(r"\|\s*(\w+)", heads):
            table[head] = rhs.strip()
    return table


def _q_values(text: str, s: Fraction) -> list[Fraction]:
    """A Coq list (or single value) of Q literals, with s for the leaky slope."""
    items = text.strip("[]").split(";") if text.startswith("[") else [text]
    out = []
    for item in (i.strip() for i in items if i.strip()):
        if item == "s":
            out.append(s)
        else:
            num, _, den = item.partition("#")
            out.append(Fraction(int(num), int(den) if den else 1))
    return out


@pytest.mark.parametrize("name, tag", [
    ("identity", "QIdentity"), ("relu", "QRelu"), ("leaky_relu(1/8)", "QLeaky"),
    ("hardtanh", "QHardtanh"), ("relu6", "QRelu6"), ("hardsigmoid", "QHardsigmoid"),
    ("abs", "QAbs"),
])
def test_qact_tables_match_python(name, tag):
    act = parse_activation(name)
    s = Fraction(1, 8)
    bps = _q_values(_coq_table("qbps")[tag], s)
    slopes = _q_values(_coq_table("qslopes")[tag], s)
    icepts = _q_values(_coq_table("qicepts")[tag], s)
    torch = _q_values(_coq_table("qtorch")[tag], s) if tag in _coq_table("qtorch") else \
        _q_values(_coq_table("qtorch")["_"], s)
    assert bps == list(act.breakpoints)
    assert slopes == [p[1] if len(p) > 1 else Fraction(0) for p in act.pieces]
    assert icepts == [p[0] for p in act.pieces]
    assert all(len(p) <= 2 for p in act.pieces)
    assert all(c == torch[0] for c in act.torch_choice)
