"""Layer 5, ``report``: the jobs of ``make all``/``make study`` and what they write.

The counting suite against closed forms (:mod:`.suite`), the cross-check of the
Coq-certified numbers (:mod:`.crosscheck`), the low-precision training study
(:mod:`.study`), the plots (:mod:`.plots`) and report/REPORT.md
(:mod:`.document`).

May import: ``core``, ``numbers``, ``nets``, ``exact``, ``torchfx``, ``audit``, ``smt``.
"""
