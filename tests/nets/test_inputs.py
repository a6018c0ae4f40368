"""Hostile JSON and batch input (issue 19): duplicate keys, the bracket-depth scan, v2
batch sizes, exact long doubles, tensor kinds and entry limits before conversion."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import torch
from adcorrect.core.errors import InputError
from adcorrect.nets.batch import by_value, exact_values, tensor_problem
from adcorrect.nets.fields import _json_depth, parse_json
from adcorrect.nets.specv2 import parse_network_v2


def _depth(obj: Any) -> int:
    """Reference: nesting depth of a decoded JSON value."""
    if isinstance(obj, dict):
        return 1 + max((_depth(v) for v in obj.values()), default=0)
    if isinstance(obj, list):
        return 1 + max((_depth(v) for v in obj), default=0)
    return 0


@pytest.mark.parametrize("text", [
    "1", '"[[["', "[]", "[[], {}]", '{"a": [[["]]]\\"", {}]]]}', '[{"k\\\\": ["[", "]"]}]',
    '{"a": {"b": {"c": [1, [2, [3]]]}}}', '["\\u005b", "x\\"[", [[]]]',
])
def test_json_depth_matches_decoded(text: str) -> None:
    assert _json_depth(text) == _depth(json.loads(text))


def test_duplicate_keys_refused_anywhere() -> None:
    with pytest.raises(InputError, match=r"^s\.json: the key 'units' occurs twice in one "
                       r"object$"):
        parse_json('{"layers": [{"units": 1, "units": 2}]}', "s.json")
    assert parse_json('{"a": {"a": 1}}', "s") == {"a": {"a": 1}}  # same key, two objects


def test_v2_batch_limit() -> None:
    spec = {"version": 2, "inputs": ["x"], "params": ["a"], "batch": 10**18,
            "nodes": [{"name": "h", "terms": [["a", "x"]]}], "outputs": ["h"]}
    with pytest.raises(InputError, match=r"^batch: examples in a batch = 10\^18 exceeds the "
                       r"limit 100000 \(set ADCORRECT_MAX_BATCH to raise it\)$"):
        parse_network_v2(spec)
    spec["batch"] = -(10**5000)
    with pytest.raises(InputError) as e:
        parse_network_v2(spec)
    assert len(str(e.value)) < 100


def test_longdouble_exact() -> None:
    if np.finfo(np.longdouble).nmant < 60:
        pytest.skip("long double is float64 here")
    one = np.longdouble(1)
    a = np.array([one + one / 2**60, -(one / 3), 0], dtype=np.longdouble)
    v = exact_values(a, "x")
    assert v[0] == Fraction(2**60 + 1, 2**60)
    # 1/3 rounded to a 64-bit significand: the nearest multiple of 2^-65 (round to even)
    assert v[1] == -Fraction(round(Fraction(2**65, 3)), 2**65)
    assert v[2] == 0
    with pytest.raises(InputError, match="^x: contains NaN or infinity$"):
        exact_values(np.array([np.longdouble("inf")]), "x")


def test_by_value_keeps_order() -> None:
    a = np.array([2.5, -0.0, 2.5, 1.0, 0.0])
    assert by_value(a, lambda v: Fraction(float(v))) == [Fraction(5, 2), 0, Fraction(5, 2), 1, 0]
    assert by_value(np.array([], dtype=np.float64), Fraction) == []


def test_tensor_kinds() -> None:
    assert tensor_problem(torch.ones(2)) is None
    assert tensor_problem(torch.nn.Parameter(torch.ones(2))) is None
    assert tensor_problem(torch.empty(2, device="meta")) == "a meta tensor (it has no values)"
    assert tensor_problem(torch.ones(2).to_sparse()) == "a sparse tensor (sparse_coo)"
    assert tensor_problem(torch.ones(2, dtype=torch.complex64)) == \
        "a complex tensor (complex64)"
    with pytest.raises(InputError, match="^batch x: a sparse tensor"):
        exact_values(torch.ones(1, 2).to_sparse(), "batch x")


def test_entry_limit_before_conversion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADCORRECT_MAX_BATCH_ENTRIES", "5")
    with pytest.raises(InputError, match=r"^batch x: entries of a batch file's x or y = 6 "
                       r"exceeds the limit 5"):
        exact_values(np.zeros((2, 3)), "batch x")
    assert exact_values(np.zeros((1, 5), dtype=np.int8), "batch x") == [0] * 5
