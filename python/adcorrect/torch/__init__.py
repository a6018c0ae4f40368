"""Layer 6, ``torch``: what users of PyTorch call (a facade, no code of its own).

- :func:`from_module`: an ``nn.Module`` and an example input, through ``torch.fx``,
  to a single-example IR network (batch it with :func:`adcorrect.nets.batch.batched`);
- :func:`load_model`: a model saved with ``torch.save(model)``, unpickled safely;
- :func:`batched_model`: a model over a mini-batch with a loss (``sum``, ``mse``, ``ce``),
  traced on the batch's first example (:func:`example_input`);
- :class:`Monitor`: both audits (:mod:`adcorrect.audit`) of a user's training loop.

The code is in :mod:`adcorrect.torchfx` (the import; what is supported and the
exactness conventions are in :mod:`adcorrect.torchfx.importer`) and
:mod:`adcorrect.audit.monitor`.

May import: ``torchfx``, ``audit``.
"""

from __future__ import annotations

from ..audit.monitor import Monitor
from ..torchfx.batching import batched_model, example_input
from ..torchfx.importer import from_module
from ..torchfx.load import load_model

__all__ = ["Monitor", "batched_model", "example_input", "from_module", "load_model"]
