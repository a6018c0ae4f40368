"""PyTorch front end of the network IR (:mod:`adcorrect.ir`).

- :func:`from_module`: an ``nn.Module`` and an example input, through ``torch.fx``,
  to a single-example IR network (batch it with :func:`adcorrect.batch.batched`);
- :func:`load_model`: a model saved with ``torch.save(model)``, unpickled safely;
- :func:`batched_model`: a model over a mini-batch with a loss (``sum``, ``mse``, ``ce``),
  traced on the batch's first example (:func:`example_input`);
- :class:`Monitor`: both audits (:mod:`adcorrect.audit`) of a user's training loop.

See :mod:`adcorrect.torch.importer` for what is supported and the exactness
conventions (BatchNorm's 1/sqrt(var + eps), hyper-parameters, training mode).
"""

from __future__ import annotations

from .batching import batched_model, example_input
from .importer import from_module
from .load import load_model
from .monitor import Monitor

__all__ = ["Monitor", "batched_model", "example_input", "from_module", "load_model"]
