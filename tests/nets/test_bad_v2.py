"""Malformed version-2 specs, batches and losses: one line `adcorrect: error: ...`, exit 2.

Every case mutates a valid spec or batch in one place; the message must name it.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from adcorrect.cli import main

GOOD: dict[str, Any] = {
    "version": 2, "name": "good", "inputs": ["x", "u"], "input": ["1", "-1/2"],
    "params": [{"name": "a", "value": "1/2"}, {"name": "b", "value": "0"},
               {"name": "c", "value": "2"}],
    "nodes": [{"name": "h", "activation": "relu", "terms": [["a", "x"], ["1", "u"]], "bias": "b"},
              {"name": "m", "max": ["h", "x"]},
              {"name": "o", "terms": [["c", "m"], ["a", "u"]]}],
    "outputs": ["o"],
}


def mutate(path: str, value: Any = None, delete: bool = False) -> dict[str, Any]:
    """GOOD with the field at a dotted path (list indices as numbers) replaced or deleted."""
    obj = copy.deepcopy(GOOD)
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
    target = obj
    for k in keys[:-1]:
        target = target[k]
    if delete:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return obj


BAD_SPECS: dict[str, tuple[Any, str]] = {  # case -> (spec, a word the message must contain)
    "version_3": (mutate("version", 3), "version"),
    "version_string": (mutate("version", "2"), "version"),
    "unknown_top_field": (mutate("layers", []), "unknown field"),
    "inputs_missing": (mutate("inputs", delete=True), "inputs"),
    "inputs_not_names": (mutate("inputs", ["1/2", "u"]), "inputs[0]"),
    "inputs_duplicate": (mutate("inputs", ["x", "x"]), "duplicate"),
    "input_length": (mutate("input", ["1"]), "input"),
    "input_not_rational": (mutate("input", ["1", "nan"]), "input[1]"),
    "params_duplicate": (mutate("params", ["a", "a", "c"]), "duplicate"),
    "param_is_input": (mutate("params", ["a", "b", "x"]), "also an input"),
    "param_unknown_field": (mutate("params.0", {"name": "a", "val": "1"}), "unknown field"),
    "param_value_inf": (mutate("params.0", {"name": "a", "value": "inf"}), "params[0].value"),
    "param_name_number": (mutate("params.0", "3"), "params[0]"),
    "nodes_empty": (mutate("nodes", []), "nodes"),
    "node_not_object": (mutate("nodes.0", "h"), "nodes[0]"),
    "node_unknown_field": (mutate("nodes.0.weights", []), "unknown field"),
    "node_name_reused": (mutate("nodes.2.name", "h"), "already used"),
    "node_name_is_param": (mutate("nodes.2.name", "a"), "already used"),
    "term_not_pair": (mutate("nodes.0.terms", [["a"]]), "terms[0]"),
    "term_unknown_param": (mutate("nodes.0.terms", [["zz", "x"]]), "unknown parameter"),
    "term_bad_coefficient": (mutate("nodes.0.terms", [["1/0", "x"]]), "terms[0]"),
    "term_later_source": (mutate("nodes.0.terms", [["a", "o"]]), "earlier node"),
    "term_self_source": (mutate("nodes.0.terms", [["a", "h"]]), "earlier node"),
    "bias_unknown_param": (mutate("nodes.0.bias", "bb"), "unknown parameter"),
    "unknown_activation": (mutate("nodes.0.activation", "swish"), "unknown activation"),
    "discontinuous_activation": (mutate("nodes.0.activation", "hardshrink"), "discontinuous"),
    "max_one_source": (mutate("nodes.1.max", ["h"]), "at least two"),
    "max_extra_field": (mutate("nodes.1.bias", "b"), "max node"),
    "max_unknown_source": (mutate("nodes.1.max", ["h", "q"]), "not an input or an earlier"),
    "outputs_empty": (mutate("outputs", []), "outputs"),
    "outputs_unknown": (mutate("outputs", ["zz"]), "not a node"),
    "two_outputs_no_loss": (mutate("outputs", ["h", "o"]), "loss"),
    "loss_unknown_kind": (mutate("loss", {"kind": "hinge"}), "unknown loss"),
    "loss_no_kind": (mutate("loss", {"weights": ["1"]}), "kind"),
    "loss_extra_field": (mutate("loss", {"kind": "mse", "targets": ["1"], "foo": 1}),
                         "unknown field"),
    "loss_weights_length": (mutate("loss", {"kind": "linear", "weights": ["1", "2"]}),
                            "loss.weights"),
    "loss_mse_no_targets": (mutate("loss", {"kind": "mse"}), "loss.targets"),
    "loss_ce_one_output": (mutate("loss", {"kind": "ce", "target": 0}), "cross-entropy"),
    "loss_ce_bad_target": ({**mutate("outputs", ["h", "o"]), "loss": {"kind": "ce",
                                                                       "target": 2}},
                           "loss.target"),
    "example_out_of_range": (mutate("nodes.0.example", 1), "example"),
    "batch_zero": (mutate("batch", 0), "batch"),
}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line(rc: int, out: str, err: str, word: str) -> None:
    assert rc == 2, (rc, out, err)
    assert out == "" and "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("adcorrect: error: "), err
    assert word in lines[0], (word, lines[0])


def test_good_spec_works(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "good.json"
    p.write_text(json.dumps(GOOD))
    rc, out, err = run(["check", str(p), "--json"], capsys)
    assert rc == 0, err
    res = json.loads(out)
    # h = relu(x/2 - u/2... ) = relu(1/2 + (-1/2) + 0) = 0 (kink); m = max(0, 1) = 1;
    # o = 2 * 1 + (1/2)(-1/2) = 7/4
    assert res["f"] == "7/4" and res["kinks"] == [0]


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_bad_v2_spec(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec, word = BAD_SPECS[case]
    p = tmp_path / f"{case}.json"
    p.write_text(json.dumps(spec))
    assert_one_line(*run(["check", str(p), "--params=1,0,2"], capsys), word)


def _good(tmp_path: Path) -> Path:
    p = tmp_path / "good.json"
    p.write_text(json.dumps(GOOD))
    return p


BAD_BATCHES: dict[str, tuple[Any, str, str]] = {  # case -> (x, y), loss, word
    "shape_mismatch": ((np.ones((3, 2)), np.ones((2, 1))), "mse", "examples"),
    "input_width": ((np.ones((2, 3)), np.ones((2, 1))), "mse", "input values"),
    "nan_input": ((np.array([[1.0, np.nan]]), np.ones((1, 1))), "mse", "NaN"),
    "inf_target": ((np.ones((1, 2)), np.array([[np.inf]])), "mse", "NaN or infinity"),
    "mse_target_width": ((np.ones((2, 2)), np.ones((2, 2))), "mse", "target"),
    "ce_one_logit": ((np.ones((2, 2)), np.zeros(2, dtype=np.int64)), "ce", "two outputs"),
    "sum_two_weights": ((np.ones((2, 2)), np.ones((2, 2))), "sum", "one weight"),
    "empty_batch": ((np.ones((0, 2)), np.ones((0, 1))), "mse", "no examples"),
    "string_dtype": ((np.array([["a", "b"]]), np.ones((1, 1))), "mse", "dtype"),
}


@pytest.mark.parametrize("case", sorted(BAD_BATCHES))
def test_bad_batch(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (x, y), loss, word = BAD_BATCHES[case]
    b = tmp_path / "b.npz"
    np.savez(b, x=x, y=y)
    assert_one_line(*run(["check", str(_good(tmp_path)), "--batch", str(b), "--loss", loss],
                         capsys), word)


def test_bad_batch_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = str(_good(tmp_path))
    cases = {
        "missing": (["--batch", str(tmp_path / "nope.npz"), "--loss", "mse"], "no such"),
        "no_y": (None, "arrays 'x' and 'y'"),
        "suffix": (["--batch", good, "--loss", "mse"], "unknown batch file type"),
        "garbage_npz": (None, "not a readable .npz"),
        "loss_without_batch": (["--loss", "mse"], "go together"),
        "batch_without_loss": (["--batch", str(tmp_path / "b.npz")], "go together"),
        "unknown_loss": (["--batch", str(tmp_path / "b.npz"), "--loss", "hinge"], "loss"),
        "garbage_pt": (None, "not a readable torch file"),
        "pt_not_dict": (None, "dict with tensors"),
    }
    np.savez(tmp_path / "b.npz", x=np.ones((2, 2)), y=np.ones((2, 1)))
    np.savez(tmp_path / "noy.npz", x=np.ones((2, 2)))
    (tmp_path / "garbage.npz").write_bytes(b"not a zip file")
    (tmp_path / "garbage.pt").write_bytes(b"\x80\x04not a pickle")
    import torch

    torch.save([torch.ones(2)], tmp_path / "list.pt")
    extra = {"no_y": str(tmp_path / "noy.npz"), "garbage_npz": str(tmp_path / "garbage.npz"),
             "garbage_pt": str(tmp_path / "garbage.pt"), "pt_not_dict": str(tmp_path / "list.pt")}
    for case, (args, word) in cases.items():
        argv = args if args is not None else ["--batch", extra[case], "--loss", "mse"]
        rc, out, err = run(["check", good, *argv], capsys)
        assert_one_line(rc, out, err, word)


def test_model_needs_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "m.pt"
    p.write_bytes(b"")
    assert_one_line(*run(["check", str(p)], capsys), "needs --batch")


def test_subprocess_one_line(tmp_path: Path) -> None:
    """One case as a real process: no traceback reaches the terminal."""
    import sys

    p = tmp_path / "bad.json"
    p.write_text(json.dumps(BAD_SPECS["term_later_source"][0]))
    res = subprocess.run([sys.executable, "-m", "adcorrect", "check", str(p)],
                         capture_output=True, text=True, check=False, timeout=60)
    assert_one_line(res.returncode, res.stdout, res.stderr, "earlier node")
