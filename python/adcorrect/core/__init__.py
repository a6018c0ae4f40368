"""Layer 0, ``core``: what every layer may use.

The one error type of bad input and of undecided questions (:mod:`.errors`), the
resource limits on input with their environment variables (:mod:`.limits`), time
budgets of exact work (:mod:`.deadline`), the package version (:mod:`.version`),
atomic output files (:mod:`.files`), and plain-text output: aligned tables
(:mod:`.tables`), the progress bar (:mod:`.progress`) and printable, bounded lines
(:mod:`.display`).

May import: nothing from the package.
"""
