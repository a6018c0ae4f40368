"""Layer 4, ``audit``: exact and execution audits of PyTorch training steps (THEORY.md 8.3).

- :class:`~adcorrect.audit.run.Auditor`: a model's plan, built once; ``audit(x, y)``
  audits a batch at the model's current parameters (both audits, a JSON-ready dict);
- :func:`~adcorrect.audit.exact.exact_audit`: the exact audit (filter, exact arithmetic
  where the filter cannot decide, the topmost group test, the oracle on the kinked
  examples);
- :func:`~adcorrect.audit.execution.execution_audit`: float kinks and bifurcations of
  torch's own computation (dropout in training mode: the recorded masks replayed);
- :mod:`~adcorrect.audit.certaudit`: the exact side for models with smooth operations
  (the certified engine);
- :func:`~adcorrect.audit.dtypes.parse_dtype`: the formats (fp32, bf16, fp16, fp64,
  e4m3fn, e5m2, int8:SCALE);
- :class:`~adcorrect.audit.monitor.Monitor`: both audits of a training loop (users import
  it from :mod:`adcorrect.torch`).

May import: ``core``, ``numbers``, ``nets``, ``exact``, ``torchfx``.
"""

from __future__ import annotations

from .dtypes import DType, parse_dtype
from .run import Auditor, prepared

__all__ = ["Auditor", "DType", "parse_dtype", "prepared"]
