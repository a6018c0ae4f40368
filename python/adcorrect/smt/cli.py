"""`adcorrect smt {generate,solve,count,corpus,solve-suite}`: I/O around the SMT modules.

Exit status: 0 when nothing is flagged; 1 when a verdict contradicts the
expected status, a model fails its re-check, a solver errs, or two solvers
disagree; 2 for bad input (InputError).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..core.display import one_line, printable
from ..core.errors import InputError
from ..core.files import atomic_write_text, check_output_path, regular_size
from ..core.tables import render
from ..nets.activations import parse_choice
from ..nets.spec import load_network
from ..numbers.formats import parse_format
from .executor import CONNECT_TIMEOUT, parse_executor
from .generator import FAMILIES, STATUSES, Query, generate
from .results import journal_path
from .runners import DEFAULT_MEMORY_MB, SOLVERS, RunResult
from .solving import solve


def _solvers(text: str) -> list[str]:
    if text == "all":
        return list(SOLVERS)
    names = [s.strip() for s in text.split(",") if s.strip()]
    for s in names:
        if s not in SOLVERS:
            raise InputError(f"unknown solver {s!r} (use {', '.join(SOLVERS)} or all)")
    return names


def _timeout(x: float) -> float:
    if not 0 < x <= 10**7:  # also refuses nan and infinity
        raise InputError(f"--timeout must be a positive number of seconds up to 10^7, got {x}")
    return x


def cmd_generate(args: argparse.Namespace) -> int:
    net = load_network(args.network)
    q = Query(net, parse_format(args.format), args.query, parse_choice(args.choice),
              args.semantics, args.expect)
    if args.output:
        check_output_path(args.output, "--output")
    text = generate(q)
    if args.output:
        _write(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _write(path: str, text: str) -> None:
    try:
        atomic_write_text(path, text)
    except OSError as e:
        raise InputError(f"{path}: cannot write ({e.strerror or e})") from None


def _note(r: RunResult) -> str:
    return r.flag or (r.message if r.verdict in ("skipped", "timeout", "unknown", "error")
                      else r.check)


def _print_runs(results: list[RunResult]) -> None:
    rows = [(r.file, r.solver, r.verdict, r.expected, f"{r.seconds:.2f}", _note(r)[:100])
            for r in results]
    print(render(["file", "solver", "verdict", "expected", "seconds", "note"], rows))


def _summary(results: list[RunResult]) -> int:
    flagged = [r for r in results if r.flag]
    verified = sum(r.verified for r in results)
    ran = [r for r in results if r.verdict != "skipped"]
    print(f"\n{len(ran)} runs: {verified} verified (sat/unsat matching an established "
          "status, or re-checked), "
          f"{sum(r.state == 'not established' for r in ran)} solved, status not established "
          f"(not verified), "
          f"{sum(r.verdict in ('unknown', 'timeout') for r in ran)} unknown/timeout (not "
          f"verified), {len(flagged)} flagged, "
          f"{sum(r.verdict == 'skipped' for r in results)} skipped")
    for r in flagged:
        print(one_line(f"FLAGGED: {r.file} [{r.solver}] verdict {r.verdict}, expected "
                       f"{r.expected}: {r.flag} {r.message or r.check}", 1000),
              file=sys.stderr)
    return 1 if flagged else 0


def _memory(mb: int) -> int | None:
    if mb < 0:
        raise InputError(f"--memory must be >= 0 MiB (0: no limit), got {mb}")
    return mb or None


def _jobs(n: int) -> int:
    if n < 1:
        raise InputError(f"--jobs must be >= 1, got {n}")
    return n


def cmd_solve(args: argparse.Namespace) -> int:
    for f in args.files:
        regular_size(f, "SMT-LIB file")  # no FIFOs, devices or folders
    outcome = solve(args.files, _solvers(args.solver), _timeout(args.timeout), _jobs(args.jobs),
                    parse_executor(args.executor, args.connect_timeout), _memory(args.memory))
    results = outcome.results
    if args.json:
        print(json.dumps([r.to_json() for r in results], indent=1))
        return 1 if any(r.flag for r in results) else 0
    _print_runs(results)
    return _summary(results)


_COUNTED = {"ns": ("NS(w)", "the exact engine"),
            "ndf": ("f not differentiable at w", "the oracle"),
            "inc": ("f differentiable at w, AD_D f(w) <> grad f(w)", "the oracle")}


def cmd_count(args: argparse.Namespace) -> int:
    from .allsat import count

    net = load_network(args.network)
    res = count(net, parse_format(args.format), args.quantity, parse_choice(args.choice),
                args.limit, _timeout(args.timeout))
    if args.json:
        print(json.dumps(res))
    else:
        what, checker = _COUNTED[args.quantity]
        print(f"network {printable(res['network'])}  format {res['format']}  W = {res['W']}  "
              f"|M| = {res['M']}  choice = {res['choice']}")
        print(f"|{{w in M^W : {what}}}| = {res['count']}   (z3, blocking clauses, "
              f"{res['seconds']:.2f} s; every counted point re-checked by {checker})")
    return 0


def cmd_corpus(args: argparse.Namespace) -> int:
    from . import suite

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: not a folder")
    t0 = time.perf_counter()
    try:
        if args.sample:
            paths = suite.write(out, suite.sample_items(), flat=True)
            print(f"wrote {len(paths)} files under {out} in {time.perf_counter() - t0:.1f} s")
            return 0
        default, challenge = suite.write_split(out)
    except OSError as e:
        raise InputError(f"--out {out}: cannot write ({e.strerror or e})") from None
    print(f"wrote {len(default)} files under {out / 'default'} (make solve) and "
          f"{len(challenge)} under {out / 'challenge'} (make challenge) in "
          f"{time.perf_counter() - t0:.1f} s")
    return 0


def cmd_smtlib(args: argparse.Namespace) -> int:
    from . import submission
    from .smtlib import check_tree

    out = Path(args.out)
    t0 = time.perf_counter()
    if not args.check_only:
        es = submission.write_tree(out)
        counts = submission.logic_counts(es)
        rows = [(logic, sum(c.values()), c["sat"], c["unsat"], c["unknown"])
                for logic, c in counts.items()]
        rows.append(("total", len(es), sum(r[2] for r in rows), sum(r[3] for r in rows),
                     sum(r[4] for r in rows)))
        print(render(["logic", "files", "sat", "unsat", "unknown"], rows))
        print(f"\nwrote {len(es)} files under {out / 'non-incremental'} in "
              f"{time.perf_counter() - t0:.1f} s")
    if not out.is_dir():
        raise InputError(f"{out}: no such folder")
    bad = check_tree(out)
    n = len(list(out.rglob("*.smt2")))
    for rel, vs in bad.items():
        for v in vs:
            print(f"VIOLATION {rel}: {v}", file=sys.stderr)
    print(f"compliance check: {n} files, {sum(map(len, bad.values()))} violations")
    return 1 if bad else 0


def _table(results: list[RunResult]) -> str:
    groups: dict[tuple[str, str], list[RunResult]] = defaultdict(list)
    for r in results:
        if r.verdict != "skipped":
            groups[(r.query, r.solver)].append(r)
    rows = []
    for (query, solver), rs in sorted(groups.items()):
        times = [r.seconds for r in rs]
        counts = {v: sum(r.verdict == v for r in rs)
                  for v in ("sat", "unsat", "unknown", "timeout", "error")}
        rows.append((query, solver, len(rs), counts["sat"], counts["unsat"],
                     sum(r.state == "verified" for r in rs),
                     sum(r.state == "not established" for r in rs),
                     counts["unknown"] + counts["timeout"], counts["error"],
                     sum(bool(r.flag) for r in rs), f"{statistics.median(times):.2f}",
                     f"{max(times):.2f}", f"{sum(times):.1f}"))
    return render(["query", "solver", "files", "sat", "unsat", "verified", "not estab.",
                   "unk/t.o.", "error", "flagged",
                   "median s", "max s", "total s"], rows)


def cmd_solve_suite(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    files = sorted(str(p) for p in root.rglob("*.smt2"))
    if not files:
        raise InputError(f"{root}: no .smt2 files (run `python -m adcorrect smt corpus` first)")
    solvers = _solvers(args.solver)
    check_output_path(args.results, "--results")
    check_output_path(journal_path(args.results), "--results journal")
    t0 = time.perf_counter()

    def progress(r: RunResult, done: int, total: int) -> None:
        if not args.json and (r.flag or done % 50 == 0 or done == total):
            print(one_line(f"[{done}/{total}] {r.file} {r.solver}: {r.verdict} {r.flag}",
                           1000), file=sys.stderr, flush=True)

    try:
        outcome = solve(files, solvers, _timeout(args.timeout), _jobs(args.jobs),
                        parse_executor(args.executor, args.connect_timeout),
                        _memory(args.memory), args.results, args.fresh, progress)
    except OSError as e:
        raise InputError(f"{args.results}: cannot write ({e.strerror or e})") from None
    except KeyboardInterrupt:
        where = f"partial results in {args.results} (marked partial)" if Path(
            args.results).exists() else "no job had finished, nothing written"
        print(f"\ninterrupted: {where}; run the same command again to resume",
              file=sys.stderr)
        return 130
    results = outcome.results
    wall = time.perf_counter() - t0
    if args.json:
        print(json.dumps([r.to_json() for r in results], indent=1))
        return 1 if any(r.flag for r in results) else 0
    print(_table(results))
    resumed = f"; {outcome.resumed} of {outcome.total} jobs resumed from an interrupted run" \
        if outcome.resumed else ""
    print(f"\nsuite wall time {wall:.1f} s with {args.jobs} parallel jobs ({args.executor})"
          f"{resumed}; results in {args.results}")
    return _summary(results)


def _add_run_options(p: argparse.ArgumentParser, jobs: int) -> None:
    p.add_argument("--jobs", type=int, default=jobs, help="solver processes at a time")
    p.add_argument("--executor", default="local",
                   help="local (default), dask (a local Dask cluster) or dask:ADDRESS "
                        "(e.g. dask:tcp://scheduler:8786)")
    p.add_argument("--connect-timeout", type=float, default=CONNECT_TIMEOUT,
                   help=f"seconds to wait for a Dask scheduler (default {CONNECT_TIMEOUT:g})")
    p.add_argument("--memory", type=int, default=DEFAULT_MEMORY_MB,
                   help=f"memory limit per solver process in MiB (default "
                        f"{DEFAULT_MEMORY_MB}; 0: none)")


def add_smt_parser(subparsers: Any) -> None:
    """Register `smt` and its subcommands on the top-level CLI."""
    smt = subparsers.add_parser("smt", help="generate and solve SMT-LIB queries")
    sub = smt.add_subparsers(dest="smt_command", required=True,
                             parser_class=type(smt))

    g = sub.add_parser("generate", help="write one SMT-LIB 2.6 query")
    g.add_argument("network")
    g.add_argument("--format", required=True)
    g.add_argument("--query", required=True, help=" | ".join(FAMILIES))
    g.add_argument("--choice", default="pytorch", help="pytorch | left | right | a number")
    g.add_argument("--semantics", choices=("exact", "ieee"), default=None,
                   help="exact (default for the paper's queries) or ieee (float-* queries)")
    g.add_argument("--expect", choices=STATUSES, default=None,
                   help="override the expected status written in the file")
    g.add_argument("-o", "--output", help="output file (default: stdout)")
    g.set_defaults(func=cmd_generate)

    s = sub.add_parser("solve", help="run solvers on query files and re-check models")
    s.add_argument("files", nargs="+")
    s.add_argument("--solver", default="all", help="z3 | cvc5 | bitwuzla | all")
    s.add_argument("--timeout", type=float, default=60.0, help="seconds per file and solver")
    _add_run_options(s, 1)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_solve)

    c = sub.add_parser("count", help="count w in M^W with NS(w), not differentiable (ndf) or "
                       "AD wrong at a differentiable point (inc), by blocking clauses (z3)")
    c.add_argument("network")
    c.add_argument("--format", required=True)
    c.add_argument("--quantity", default="ns", choices=("ns", "ndf", "inc"))
    c.add_argument("--choice", default="pytorch")
    c.add_argument("--limit", type=int, default=100_000, help="give up above this many models")
    c.add_argument("--timeout", type=float, default=600.0, help="seconds per solver call")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_count)

    k = sub.add_parser("corpus", help="write the default suite (make smt)")
    k.add_argument("--out", default="smt/generated")
    k.add_argument("--sample", action="store_true",
                   help="write only the small committed sample, flat (use --out smt/sample)")
    k.set_defaults(func=cmd_corpus)

    t = sub.add_parser("smtlib", help="write the SMT-LIB submission tree and check it "
                                      "(make smtlib)")
    t.add_argument("--out", default="smtlib")
    t.add_argument("--check-only", action="store_true",
                   help="only run the compliance checker over an existing tree")
    t.set_defaults(func=cmd_smtlib)

    v = sub.add_parser("solve-suite", help="all solvers over the suite (make solve)")
    v.add_argument("--dir", default="smt/generated")
    v.add_argument("--solver", default="all")
    v.add_argument("--timeout", type=float, default=10.0)
    _add_run_options(v, 2)
    v.add_argument("--results", "--json-out", dest="results", default="smt/results.json",
                   help="where to write the results JSON (atomically; partial until done)")
    v.add_argument("--fresh", action="store_true",
                   help="ignore the journal of an interrupted run instead of resuming it")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_solve_suite)
