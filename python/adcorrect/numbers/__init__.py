"""Layer 1, ``numbers``: the numbers a theorem is stated over.

Exact rationals read from text and floats (:mod:`.rationals`), the machine-number
sets M of float, fixed-point and integer formats (:mod:`.formats`, THEORY.md
section 1), and the exact numbers r + sum P/S in Q(e^q) of cross-entropy adjoints
(:mod:`.expnum`, THEORY.md 8.2), and certified values, exact or Arb balls, with the
smooth functions of real models (:mod:`.cvalue`, :mod:`.smoothfns`).

May import: ``core``.
"""
