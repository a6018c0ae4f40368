"""Audits of torchvision's own models (not part of `make bench`: torchvision is no
dependency of this project).  Each model is built with fresh weights (fixed seed,
``num_classes=10``), in eval mode, and audited on a batch of ``k/16`` images, as a user
outside this repository would; a row says what the audit answered, how long the import
and the audit took (wall clock), or the one-line refusal.

Run: ``.venv/bin/pip install --no-deps torchvision==0.28.0`` then
``.venv/bin/python bench/torchvision_sweep.py [MODELS] [DTYPE] [BATCH] [SIZE]``
(default: the models below, fp32, batch 2, 64x64).  torchvision's compiled operators
(nms, roi_align) need a matching torch build; the model definitions do not, so where
they fail to register the sweep registers nothing for them (no model here uses them).
"""

from __future__ import annotations

import sys
import time

import torch

MODELS = ("resnet18,squeezenet1_1,shufflenet_v2_x0_5,mobilenet_v2,mnasnet0_5,efficientnet_b0,"
          "mobilenet_v3_small,regnet_y_400mf,alexnet,vgg11_bn,googlenet,resnet50")


def _torchvision() -> object:
    """torchvision's model definitions, without its compiled operators' fake kernels."""
    register = torch.library.register_fake

    def skip_torchvision(name: object, *args: object, **kwargs: object) -> object:
        if isinstance(name, str) and name.startswith("torchvision::"):
            return lambda f: f
        return register(name, *args, **kwargs)  # type: ignore[arg-type]

    torch.library.register_fake = skip_torchvision  # type: ignore[assignment]
    try:
        import torchvision
    finally:
        torch.library.register_fake = register
    return torchvision


def main() -> int:
    from adcorrect.audit.dtypes import parse_dtype
    from adcorrect.audit.run import Auditor, prepared
    from adcorrect.core.errors import InputError

    argv = sys.argv[1:]
    names = (argv[0] if argv else MODELS).split(",")
    dtype = parse_dtype(argv[1] if len(argv) > 1 else "fp32")
    B = int(argv[2]) if len(argv) > 2 else 2
    S = int(argv[3]) if len(argv) > 3 else 64
    tv = _torchvision()
    torch.set_num_threads(1)
    for name in names:
        torch.manual_seed(0)
        model = tv.models.get_model(name, num_classes=10).eval()  # type: ignore[attr-defined]
        g = torch.Generator().manual_seed(1)
        x = torch.randint(0, 17, (B, 3, S, S), generator=g).float() / 16
        y = torch.randint(0, 10, (B,), generator=g)
        try:
            m, _ = prepared(model, dtype)
            t0 = time.perf_counter()
            aud = Auditor(m, x, "ce", dtype=dtype, time_limit=60)
            t1 = time.perf_counter()
            e = aud.audit(x, y)["exact"]
            t2 = time.perf_counter()
            verdict = e["undecided"] and f"undecided: {e['undecided']}" or \
                f"differentiable: {e['differentiable']}"
            print(f"{name:20s} W={aud.W:<10d} import {t1 - t0:6.2f} s  audit {t2 - t1:7.2f} s  "
                  f"filter={e.get('filter')}  uncertain={e['uncertain']}  "
                  f"kinked={e['kinked']}  dead={e['dead']}  {verdict[:110]}", flush=True)
        except InputError as err:
            print(f"{name:20s} refused: {err}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
