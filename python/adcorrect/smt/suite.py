"""The default SMT suite: networks, formats and queries written by ``smt corpus``.

Bias networks 1-1, 1-2-1, 2-2-1, 1-3-1, 1-2-2-1 (every layer, the output
included, uses the activation, so that even 1-1 has a kink) with relu,
leaky_relu(1/8) and hardtanh; the bias-free T5a network of THEORY.md; formats
fp(3,3), fp16, bf16, e4m3fn, e2m1.  Exact-semantics queries for every format,
execution-semantics (QF_FP) queries for the IEEE-style formats.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..core.files import atomic_write_text
from ..nets.spec import Network, parse_network
from ..numbers.formats import Format, parse_format
from .generator import BIAS_ONLY_FAMILIES, EXACT_FAMILIES, FLOAT_FAMILIES, Query, generate

ARCHITECTURES = ("1-1", "1-2-1", "2-2-1", "1-3-1", "1-2-2-1")
ACTIVATIONS = ("relu", "leaky_relu(1/8)", "hardtanh")
FORMATS = ("fp(3,3)", "fp16", "bf16", "e4m3fn", "e2m1")
INPUTS = ("1", "1/2", "-1")

#: The committed sample (smt/sample/): (network, format, query).
SAMPLE = (
    ("relu-1-2-1", "fp(3,3)", "ad-correct"),
    ("relu-1-2-1", "fp(3,3)", "ns-implies-ndf"),
    ("relu-1-1", "fp(3,3)", "ndf-implies-ns"),
    ("relu-1-2-2-1", "fp16", "ndf-implies-ns-sides"),
    ("relu-1-2-1", "fp(3,3)", "bias-unique"),
    ("hardtanh-1-2-1", "e2m1", "clarke-combination"),
    ("leaky-1-2-1", "e4m3fn", "inc-witness"),
    ("relu-1-1", "fp(3,3)", "count"),
    ("t5a", "fp(3,3)", "inc-witness"),
    ("t5a", "fp16", "inc-witness-qf"),
    ("t5a", "fp(3,3)", "ns-implies-ndf"),
    ("relu-1-2-1", "fp16", "float-kink"),
    ("relu-1-2-1", "fp16", "float-bifurcation"),
    ("t5a", "bf16", "float-bifurcation"),
)


def slug(activation: str) -> str:
    return activation.split("(")[0].replace("_relu", "")


def dense(arch: str, activation: str) -> Network:
    """A bias network with layer sizes arch ('1-2-1') and the activation on every layer."""
    sizes = [int(s) for s in arch.split("-")]
    return parse_network({
        "name": f"{slug(activation)}-{arch}",
        "input": list(INPUTS[: sizes[0]]),
        "layers": [{"units": u, "activation": activation} for u in sizes[1:]],
    })


def t5a() -> Network:
    """THEORY.md T5a: bias-free; AD with relu'(0) = 0 is wrong at (0, 1, -1)."""
    return parse_network({
        "name": "t5a", "input": ["1"],
        "layers": [
            {"units": 1, "activation": "identity", "bias": False},
            {"units": 2, "activation": "relu", "bias": False},
            {"units": 1, "activation": "identity", "bias": False, "weights": [["1", "-1"]]},
        ],
    })


def bf121() -> Network:
    """Bias-free f = relu(v1 x) - relu(v2 x) at x = 1: T5a without its first neuron.  Its
    float-bifurcation-nz files are unsat (fl(v * 1) = v is never 0)."""
    return parse_network({
        "name": "bf-relu-1-2-1", "input": ["1"],
        "layers": [
            {"units": 2, "activation": "relu", "bias": False},
            {"units": 1, "activation": "identity", "bias": False, "weights": [["1", "-1"]]},
        ],
    })


def networks() -> list[Network]:
    return [dense(a, act) for act in ACTIVATIONS for a in ARCHITECTURES] + [t5a(), bf121()]


def formats() -> list[tuple[str, Format]]:
    return [(f, parse_format(f)) for f in FORMATS]


@dataclass(frozen=True)
class Item:
    """One file of the suite."""

    query: Query
    format_label: str  # the suite's name of the format (fp16, not fp(5,11))

    @property
    def relpath(self) -> Path:
        q = self.query
        return Path(q.net.name) / path_label(self.format_label) / f"{q.family}.smt2"


def path_label(fmt: str) -> str:
    """A shell-friendly directory name for a format: fp(3,3) -> fp3_3."""
    return fmt.replace("(", "").replace(")", "").replace(",", "_").replace("/", "over")


def items() -> Iterator[Item]:
    """Every (network, format, query) of the default suite, in a fixed order."""
    for net in networks():
        for label, fmt in formats():
            for family in EXACT_FAMILIES:
                if family == "bias-unique" and not any(
                        n.bias is not None and n.bias[0] == "param" for n in net.neurons):
                    continue
                if family in BIAS_ONLY_FAMILIES and not net.is_bias_network:
                    continue
                yield Item(Query(net, fmt, family), label)
            if fmt.kind == "ieee":
                for family in FLOAT_FAMILIES:
                    yield Item(Query(net, fmt, family), label)


DEFAULT_LIST = Path(__file__).with_name("default_corpus.txt")


def default_keys() -> set[str]:
    """The items of the default corpus (``make solve``), as relpaths without .smt2.

    The list is measured, not derived: ``bench/select_default.py`` keeps an item when some
    solver verified it within a quarter of the default time limit in each of three runs
    of the whole suite; everything else is the challenge corpus (``make challenge``)."""
    keys = set()
    for line in DEFAULT_LIST.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            keys.add(line)
    return keys


def key(item: Item) -> str:
    return item.relpath.with_suffix("").as_posix()


def split(which: list[Item] | None = None) -> tuple[list[Item], list[Item]]:
    """(default corpus, challenge corpus) of the suite (or of the given items)."""
    keys = default_keys()
    every = list(items()) if which is None else which
    return [i for i in every if key(i) in keys], [i for i in every if key(i) not in keys]


def sample_items() -> list[Item]:
    nets = {n.name: n for n in networks()}
    return [Item(Query(nets[n], parse_format(f), q), f) for n, f, q in SAMPLE]


def write_split(out: Path) -> tuple[list[Path], list[Path]]:
    """Write the default corpus under out/default and the challenge corpus under
    out/challenge (files of the other half or of older suites are removed)."""
    default, challenge = split()
    paths = write(out / "default", default), write(out / "challenge", challenge)
    keep = set(paths[0]) | set(paths[1])
    for p in sorted(out.rglob("*.smt2")):
        if p not in keep:
            p.unlink()
    return paths


def write(out: Path, which: list[Item] | None = None, flat: bool = False) -> list[Path]:
    """Write the suite (or the given items) under out; flat: out/<net>--<fmt>--<query>.smt2."""
    written = []
    for item in which if which is not None else items():
        rel = item.relpath
        path = out / ("--".join(rel.parts) if flat else rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = generate(item.query)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            atomic_write_text(path, text)
        written.append(path)
    return written
