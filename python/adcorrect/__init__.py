"""adcorrect: exact engine, SMT checks and tools for Lee, Park & Aiken (ICML 2023).

Correctness of automatic differentiation for neural networks whose parameters
are machine-representable numbers (see ../shared/THEORY.md for the contract).
"""

from .core.version import VERSION as __version__

__all__ = ["__version__"]
