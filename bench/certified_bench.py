"""Benchmark of the certified audit (`make bench`): models with smooth operations and
batch statistics, audit time / torch forward+backward time on the same batch of 64, in one
run (issue target: within 10x).

Models: the study's (:mod:`adcorrect.report.study_models`) ResNet (BatchNorm in training
mode: the whole batch is one network) and Transformer encoders with ReLU and GELU
feed-forward blocks, fixed seed, random parameters, inputs k/16 on the digits' shapes;
fp32; cross-entropy.  Both sides run in this process with one torch thread and are timed
in CPU time (``time.process_time``), alternating ``REPEAT`` times; the ratio is that of the
medians.  The audit is both audits (certified exact side and execution), the model
imported once (reported apart).  Results also go to bench/results/certified_bench.json.
"""

from __future__ import annotations

import sys
from typing import Any

import torch
from adcorrect.audit.run import Auditor
from adcorrect.core.tables import render
from adcorrect.report.study_models import MODELS, build, shaped
from timing import alternate, save
from torch import nn

REPEAT = 3
B = 64


def measure(kind: str) -> dict[str, Any]:
    torch.manual_seed(0)
    m = build(kind).train()
    x = shaped(kind, torch.randint(0, 17, (B, 64)).float() / 16)
    y = torch.randint(0, 10, (B,), generator=torch.Generator().manual_seed(1))
    aud = Auditor(m, x, "ce", name=kind)

    def torch_step() -> None:
        m.zero_grad()
        nn.functional.cross_entropy(m(x), y).backward()

    aud.audit(x, y)  # warm-up: the whole-batch import of the ResNet happens here
    torch_step()
    mt, ma, res = alternate(torch_step, lambda: aud.audit(x, y), REPEAT)
    e = res["exact"]
    # the IR is imported only where the tensor filter leaves copies open (None: not needed)
    neurons = None if aud.net is None else len(aud.net.neurons)
    return {"model": kind, "batch": B, "W": aud.W, "neurons": neurons,
            "filter": e.get("filter", "ir"),
            "torch_ms": 1e3 * mt, "audit_ms": 1e3 * ma, "ratio": ma / mt,
            "import_s": aud.import_seconds, "kinked": e["kinked"],
            "differentiable": e["differentiable"], "undecided": e["undecided"]}


def main() -> int:
    torch.set_num_threads(1)
    rows = [measure(k) for k in MODELS]
    table = [(r["model"], r["batch"], r["W"], "-" if r["neurons"] is None else r["neurons"],
              r["filter"], f"{r['torch_ms']:.1f}",
              f"{r['audit_ms']:.0f}", f"{r['ratio']:.0f}", f"{r['import_s']:.1f}",
              r["kinked"], r["differentiable"]) for r in rows]
    print("certified audit time / torch forward+backward time (CPU time, medians of "
          f"{REPEAT} alternating runs, one torch thread; target <= 10)")
    print(render(["model", "B", "W", "IR neurons", "filter", "torch ms", "audit ms", "ratio",
                  "import s", "kinked", "differentiable"], table))
    save("certified_bench", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
