"""Tests for adcorrect.report.suite and adcorrect.nets.families (T2 suite, example specs, closed forms).

The closed forms are checked against brute force with the exact engine
(count_naive), not against the counter.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from adcorrect.cli import main
from adcorrect.exact.counter import count_naive
from adcorrect.nets.families import (
    dump_spec,
    example_specs,
    mlp_spec,
    network,
    one_hidden_closed_form,
    tight_closed_form,
    tight_kink_closed_form,
    tight_spec,
)
from adcorrect.nets.spec import load_network
from adcorrect.numbers.formats import parse_format
from adcorrect.report.suite import run_suite, suite_cases

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("stem", sorted(example_specs()))
def test_example_files_match_generators(stem: str) -> None:
    path = EXAMPLES / f"{stem}.json"
    assert path.read_text() == dump_spec(example_specs()[stem])
    net = load_network(path)
    assert net.name == stem


def test_example_shapes() -> None:
    specs = example_specs()
    assert network(specs["tight-relu-2"]).W == 2
    assert network(specs["tight-hardtanh-3"]).n_kinks == 6
    assert network(specs["relu-1-2-2-1"]).W == 13
    assert network(specs["tight-relu-2-v"]).W == 5
    for stem in ("relu-1-1", "relu-1-2-2-1", "leaky-1-2-1", "hardtanh-2-2-1", "tight-relu-2-v"):
        assert network(specs[stem]).is_bias_network


@pytest.mark.parametrize("act,kinks", [("relu", [0]), ("hardtanh", [-1, 1])])
@pytest.mark.parametrize("fmt_name", ["list(-1,0,1)", "list(-1,0,1/2,1)", "int(2,1)"])
@pytest.mark.parametrize("N", [1, 2])
@pytest.mark.parametrize("output_params", [False, True])
def test_tight_closed_forms_by_brute_force(act, kinks, fmt_name, N, output_params) -> None:
    fmt = parse_format(fmt_name)
    net = network(tight_spec(act, N, output_params))
    m = sum(1 for c in kinks if Fraction(c) in set(fmt.values()))
    naive = count_naive(net, fmt)
    assert naive["ns"] == tight_closed_form(fmt.size, m, N, output_params)
    assert naive["kink"] == tight_kink_closed_form(fmt.size, m, N, output_params)


@pytest.mark.parametrize("fmt_name", ["list(-1,1)", "list(-1,0,1)", "list(-1,0,2)"])
def test_one_hidden_closed_form_by_brute_force(fmt_name: str) -> None:
    fmt = parse_format(fmt_name)
    net = network(mlp_spec([1, 2, 1], "relu"))
    naive = count_naive(net, fmt)
    assert one_hidden_closed_form(fmt.values(), Fraction(1), [Fraction(0)], 2) == \
        (naive["kink"], naive["ns"])


def test_suite_small() -> None:
    res = run_suite(formats=("fp(2,2)", "int(3,1)"), budget=10**8)
    assert res["ok"]
    rows = {(r["network"], r["format"]): r for r in res["rows"]}
    assert len(rows) == len(res["rows"]) == 2 * len(suite_cases())
    # by hand: N neurons y_k = b_k, M = 11, relu (m = 1), hardtanh (m = 2)
    for N in (1, 2, 3):
        assert rows[(f"tight-relu-{N}", "fp(2,2)")]["ns"] == 11**N - 10**N
        assert rows[(f"tight-hardtanh-{N}", "fp(2,2)")]["ns"] == 11**N - 9**N
        assert rows[(f"tight-hardtanh-{N}", "int(3,1)")]["ns"] == 8**N - 6**N
        assert rows[(f"tight-relu-{N}", "fp(2,2)")]["bound"] == N * 11 ** (N - 1)
    assert rows[("tight-relu-1", "fp(2,2)")]["ratio"] == 1.0
    r = rows[("relu-1-2-1", "fp(2,2)")]
    assert r["ns"] == 11**7 - (11**3 - 11 * 10) ** 2 * 11 and r["matches_closed_form"]
    for row in res["rows"]:
        if not row["skipped"]:
            assert row["ns"] <= row["bound"] and row["within_bound"]


def test_suite_skips_over_budget() -> None:
    res = run_suite(formats=("fp(2,2)",), budget=1000)
    skipped = {r["network"] for r in res["rows"] if r["skipped"]}
    assert "relu-1-2-1" in skipped and "tight-relu-1" not in skipped
    assert res["ok"]


def test_cli_suite_json(capsys, tmp_path) -> None:
    out = tmp_path / "sub" / "counts.json"
    rc = main(["suite", "--json", "--budget", "100000", "--json-out", str(out)])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["ok"] and res["rows_run"] > 0
    assert json.loads(out.read_text())["rows"] == res["rows"]
    assert {"network", "format", "M", "W", "total", "skipped"} <= set(res["rows"][0])


def test_cli_suite_table(capsys) -> None:
    rc = main(["suite", "--budget", "100000"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "T2 bound" in out and "closed form" in out and "ns/bound" in out
    assert "all ok" in out
