"""Layer 3, ``exact``: exact decisions on one network at one parameter vector or over M^W.

The exact forward pass, AD, NS and directional derivatives (:mod:`.engine`,
THEORY.md sections 4 and 7), the differentiability oracle with its certificates
(:mod:`.oracle`), the vectorised evaluation over blocks of M^W
(:mod:`.vectorised`) and the exhaustive counter (:mod:`.counter`); the certified engine
for networks with smooth operations: certified values and reverse mode (:mod:`.certval`),
the quick passes (:mod:`.certvec`, :mod:`.certquick`), the oracle (:mod:`.certified`) and
what ``check`` reports (:mod:`.certcheck`).

May import: ``core``, ``numbers``, ``nets``.
"""
