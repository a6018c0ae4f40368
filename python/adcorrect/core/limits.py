"""Resource limits checked before any work starts (hostile or mistaken input).

Each limit has a default and an environment variable that raises (or lowers) it;
exceeding one is a one-line :class:`InputError` naming the limit, the value asked
for and how to raise it.  ``python -m adcorrect limits`` prints the table.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from .errors import InputError, LimitExceeded


@dataclass(frozen=True)
class Limit:
    """One resource limit."""

    name: str
    env: str
    default: int
    what: str

    @property
    def value(self) -> int:
        """The current value: the environment variable if set (a positive integer)."""
        text = os.environ.get(self.env)
        if text is None:
            return self.default
        try:
            v = int(text.replace("_", ""))
        except ValueError:
            raise InputError(f"{self.env}={text!r}: expected a positive integer") from None
        if v < 1:
            raise InputError(f"{self.env}={text!r}: expected a positive integer")
        return v


LIMITS: dict[str, Limit] = {lim.name: lim for lim in (
    Limit("neurons", "ADCORRECT_MAX_NEURONS", 1_000_000,
          "neurons of a network (a batched network counts every copy)"),
    Limit("params", "ADCORRECT_MAX_PARAMS", 10_000_000,
          "parameters of a network (a JSON spec, enumerated or checked exactly)"),
    Limit("model_params", "ADCORRECT_MAX_MODEL_PARAMS", 30_000_000,
          "parameters and buffers of a PyTorch model file (checked before any exact "
          "conversion; ResNet-50 has 25.6 M)"),
    Limit("exact_model_params", "ADCORRECT_MAX_EXACT_MODEL_PARAMS", 1_000_000,
          "parameters and buffers of a PyTorch model imported as an exact network"),
    Limit("terms", "ADCORRECT_MAX_TERMS", 100_000_000,
          "weights of a network (terms of all pre-activations)"),
    Limit("whole_terms", "ADCORRECT_MAX_WHOLE_TERMS", 16_000_000,
          "terms of a whole-batch network imported for batch statistics where the tensor "
          "filter leaves copies open (estimated before the import; 12 M take about 45 s)"),
    Limit("digits", "ADCORRECT_MAX_DIGITS", 4_000,
          "decimal digits of an integer, numerator or denominator"),
    Limit("exponent", "ADCORRECT_MAX_EXPONENT", 1_000,
          "magnitude of a decimal exponent (1e...)"),
    Limit("batch", "ADCORRECT_MAX_BATCH", 100_000,
          "examples in a batch (a batch file or a v2 spec's batch)"),
    Limit("batch_entries", "ADCORRECT_MAX_BATCH_ENTRIES", 1_000_000,
          "entries of a batch file's x or y (each read as an exact rational)"),
    Limit("tensor", "ADCORRECT_MAX_TENSOR", 100_000_000, "entries of a tensor or array"),
    Limit("torch_entries", "ADCORRECT_TORCH_MAX_ENTRIES", 2_000_000,
          "entries of one intermediate tensor of an imported PyTorch model"),
    Limit("file", "ADCORRECT_MAX_FILE_BYTES", 256 << 20,
          "bytes of an input file (spec, batch, model, SMT file; zip members decompressed)"),
    Limit("spec_bytes", "ADCORRECT_MAX_SPEC_BYTES", 1 << 20, "bytes of a JSON spec"),
    Limit("json_depth", "ADCORRECT_MAX_JSON_DEPTH", 64, "nesting depth of a JSON spec"),
    Limit("points", "ADCORRECT_MAX_POINTS", 10**10,
          "points of M^W enumerated without --force"),
    Limit("smt_neurons", "ADCORRECT_MAX_SMT_NEURONS", 2_000,
          "neurons of a network written as an SMT formula"),
    Limit("smt_bytes", "ADCORRECT_MAX_SMT_BYTES", 256 << 20, "bytes of an SMT formula"),
)}


def limit(name: str) -> int:
    """The current value of a limit."""
    return LIMITS[name].value


def magnitude(n: int) -> str:
    """n for a message: exact when short, else about 10^k (never thousands of digits)."""
    k = len(str(abs(n))) - 1 if abs(n) < 10**4000 else int(math.log10(abs(n)))
    if abs(n) >= 10**6 and abs(n) == 10**k:
        return f"10^{k}"
    if abs(n) < 10**15:
        return str(n)
    return f"about 10^{k}"


def elide(text: str, keep: int = 80) -> str:
    """text for a message: at most about ``keep`` characters (the middle of a longer text
    is replaced by ``...``, with its length)."""
    if len(text) <= keep:
        return text
    half = max(keep // 2 - 12, 4)
    return f"{text[:half]}...({len(text)} characters)...{text[-half:]}"


def check(name: str, value: int, where: str) -> None:
    """InputError if value exceeds the limit, naming it and how to raise it."""
    lim = LIMITS[name]
    cap = lim.value
    if value > cap:
        raise LimitExceeded(f"{where}: {lim.what.split(' (')[0]} = {magnitude(value)} exceeds "
                         f"the limit {magnitude(cap)} (set {lim.env} to raise it)")


def check_file(path: object, size: int) -> None:
    """InputError if a file is larger than the file limit."""
    check("file", size, str(path))


def table() -> list[tuple[str, str, str, str]]:
    """(name, environment variable, current value, meaning) for every limit."""
    return [(lim.name, lim.env, magnitude(lim.value), lim.what) for lim in LIMITS.values()]
