"""PyTorch front end of the network IR (:mod:`adcorrect.ir`).

- :func:`from_module`: an ``nn.Module`` and an example input, through ``torch.fx``,
  to a single-example IR network (batch it with :func:`adcorrect.batch.batched`);
- :func:`load_model`: a model saved with ``torch.save(model)``, unpickled safely.

See :mod:`adcorrect.torch.importer` for what is supported and the exactness
conventions (BatchNorm's 1/sqrt(var + eps), hyper-parameters, training mode).
"""

from __future__ import annotations

from .importer import from_module
from .load import load_model

__all__ = ["from_module", "load_model"]
