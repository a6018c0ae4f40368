"""Layer 3, ``torchfx``: the PyTorch front end of the IR.

Safe loading of saved models (:mod:`.load`), exact tensor values (:mod:`.values`),
the ``torch.fx`` import of a module to a single-example IR network
(:mod:`.importer`, with :mod:`.ops`, :mod:`.tensors`, :mod:`.symbolic` and the
activation table :mod:`.act_table`; smooth operations :mod:`.smooth`, attention and
embeddings :mod:`.attention`, recurrent layers :mod:`.recurrent`, dropout masks
:mod:`.masks`), and batching a model with a loss (:mod:`.batching`).  What users call lives in :mod:`adcorrect.torch`.

May import: ``core``, ``numbers``, ``nets``.  (It only builds networks: no exact
decisions are made here.)
"""
