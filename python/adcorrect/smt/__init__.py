"""Layer 4, ``smt``: the SMT pillar (THEORY.md section 7): queries, solvers, verdicts.

Encoding a network in SMT-LIB 2.6, exact and in a float format (:mod:`.encode`,
:mod:`.fparith`, the shared traversal :mod:`.traverse`, the quantifier-free cone
form :mod:`.cones`), query files from templates (:mod:`.generator`, with the
adcorrect-meta record :mod:`.meta` and the default suite :mod:`.suite`), SMT-LIB
logics and the submission tree (:mod:`.smtlib`, :mod:`.submission`), input files
checked as benchmark scripts before a solver sees them (:mod:`.script`), running
z3, cvc5 and bitwuzla in child processes that cannot outlive the run
(:mod:`.worker`, :mod:`.procs`, :mod:`.runners`) on a local pool or Dask
(:mod:`.executor`), journaled results (:mod:`.results`,
:mod:`.solving`), models decoded and re-checked exactly (:mod:`.decode`,
:mod:`.fpexec`), AllSAT counts (:mod:`.allsat`) and the ``smt`` commands
(:mod:`.cli`).

May import: ``core``, ``numbers``, ``nets``, ``exact``.
"""
