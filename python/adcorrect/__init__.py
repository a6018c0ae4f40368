"""adcorrect: exact engine, SMT checks and tools for Lee, Park & Aiken (ICML 2023).

Correctness of automatic differentiation for neural networks whose parameters
are machine-representable numbers (see ../shared/THEORY.md for the contract).
"""

__version__ = "0.1.0"
