"""Layer 2, ``nets``: networks, the one IR every tool reads, and its text front ends.

Activations with their kinks, slopes and derivative choices (:mod:`.activations`,
THEORY.md section 2), the network IR (:mod:`.ir`, section 3), mini-batches with a
loss (:mod:`.batch`, section 8.1), the JSON specs, version 1 layered
(:mod:`.spec`) and version 2 DAG (:mod:`.specv2`) with their shared field checks
(:mod:`.fields`), the specs as Coq terms (:mod:`.coqspec`) and the families with
closed-form counts (:mod:`.families`).

May import: ``core``, ``numbers``.
"""
