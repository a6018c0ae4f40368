"""The number formats of the execution audit: what torch computes in, and how parameters
are kept in formats torch cannot compute in on the CPU.

- ``fp64``, ``fp32``, ``bf16``, ``fp16``: torch computes in that dtype (parameters,
  inputs and every operation; torch's CPU kernels).
- ``e4m3fn``, ``e5m2`` (OCP FP8) and ``int8:SCALE`` (the grid ``SCALE * {-128..127}``,
  SCALE a dyadic rational): torch has no arithmetic in them on the CPU, so the
  parameters hold values of the format (rounded to nearest with ml_dtypes, saturating
  at the largest finite value; for int8, ``round(p / SCALE)`` clamped to -128..127) in
  float32 tensors, and the forward/backward runs in float32 on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch

from ..core.errors import InputError
from ..numbers.formats import Format, parse_format
from ..numbers.rationals import parse_rational

NATIVE = {"fp64": torch.float64, "fp32": torch.float32, "bf16": torch.bfloat16,
          "fp16": torch.float16}
FP8 = {"e4m3fn": ("float8_e4m3fn", 448.0), "e5m2": ("float8_e5m2", 57344.0)}
NAMES = "fp32, bf16, fp16, fp64, e4m3fn, e5m2, int8:SCALE"


@dataclass(frozen=True)
class DType:
    """A format of the execution audit."""

    name: str
    compute: torch.dtype
    scale: Fraction | None = None  # int8 grids

    @property
    def native(self) -> bool:
        """Whether torch computes in the format itself."""
        return self.name in NATIVE

    @property
    def format(self) -> Format:
        """The set M (for |M| and the T2 bound)."""
        if self.name == "fp64":
            return parse_format("fp(11,53)")
        if self.scale is not None:
            return parse_format(f"int(8,{self.scale})")
        return parse_format(self.name)

    @property
    def computation(self) -> str:
        """How the forward/backward is computed, in words."""
        if self.native:
            return f"torch on the CPU in {str(self.compute).replace('torch.', '')}"
        return (f"torch on the CPU in float32, parameters holding {self.name} values "
                "(torch has no arithmetic in this format on the CPU)")

    def round(self, t: torch.Tensor) -> torch.Tensor:
        """t rounded to the format, as a tensor of the compute dtype."""
        t = t.detach()
        if self.native:
            return t.to(self.compute)
        v = t.to(torch.float32).cpu().numpy()
        if self.scale is not None:
            s = float(self.scale)
            k = np.clip(np.rint(v / s), -128, 127)
            return torch.from_numpy((k * s).astype(np.float32))
        import ml_dtypes

        name, top = FP8[self.name]
        clipped = np.clip(v, -top, top)
        return torch.from_numpy(clipped.astype(getattr(ml_dtypes, name)).astype(np.float32))

    def contains(self, t: torch.Tensor) -> torch.Tensor:
        """Which entries of t are values of the format (bool tensor)."""
        return self.round(t).to(torch.float64) == t.detach().to(torch.float64)


def parse_dtype(text: str) -> DType:
    """fp32 | bf16 | fp16 | fp64 | e4m3fn | e5m2 | int8:SCALE (InputError otherwise)."""
    t = str(text).strip().lower()
    alias = {"float32": "fp32", "float64": "fp64", "bfloat16": "bf16", "float16": "fp16",
             "half": "fp16", "float": "fp32", "double": "fp64", "float8_e4m3fn": "e4m3fn",
             "float8_e5m2": "e5m2"}
    t = alias.get(t, t)
    if t in NATIVE:
        return DType(t, NATIVE[t])
    if t in FP8:
        return DType(t, torch.float32)
    if t.startswith("int8:"):
        try:
            s = parse_rational(t[5:])
        except InputError:
            raise InputError(f"--dtype {text}: SCALE must be a rational, e.g. int8:1/64") \
                from None
        odd = s.numerator
        while odd and odd % 2 == 0:
            odd //= 2
        den = s.denominator
        if s <= 0 or den & (den - 1) or odd >= 1 << 16 or not 2.0 ** -100 < s < 2.0 ** 100:
            raise InputError(f"--dtype {text}: SCALE must be a positive dyadic rational "
                             "(e.g. 1/64) whose multiples by -128..127 are float32 numbers")
        return DType(f"int8:{s}", torch.float32, s)
    raise InputError(f"unknown dtype {text!r} (use {NAMES})")


def dtype_of(model: torch.nn.Module) -> DType:
    """The native format of a model's first floating parameter (fp32 if none)."""
    for p in model.parameters():
        if p.is_floating_point():
            for name, dt in NATIVE.items():
                if p.dtype == dt:
                    return DType(name, dt)
            raise InputError(f"parameters of dtype {p.dtype}: give --dtype ({NAMES})")
    return DType("fp32", torch.float32)
