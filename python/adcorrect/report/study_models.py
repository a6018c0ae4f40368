"""The study beyond MLPs (`make study`): a ResNet trained with BatchNorm in training mode
and two-layer Transformer encoders (ReLU and GELU feed-forward blocks, LayerNorm) on
scikit-learn's bundled digits, in fp32, bf16 and OCP fp8 e4m3fn, audited by the certified
engine (smooth operations, batch statistics: the whole batch is one network) and the
execution audit.

- ``resnet``: 1x8x8 images; a 3x3 stem (4 channels) with BatchNorm and ReLU, then three
  residual stages (BasicBlocks of 4, 8 and 16 channels, strides 1, 2, 2, 1x1 projection
  shortcuts where the shape changes), global average pooling and a linear layer; trained
  in training mode, so every audited loss is the function of the batch's statistics.
- ``transformer-relu`` / ``transformer-gelu``: the digit as a sequence of its 8 rows
  (8 tokens of 8 pixels), a linear embedding to d_model 32, two encoder layers (2 heads,
  feed-forward 64, LayerNorm after each block, dropout 0), the mean over tokens and a
  linear layer.

Training: plain SGD (learning rate 0.05, batch 16, the batch the audit decides), 100
steps, every 10th audited; fp32 and bf16 train natively, e4m3fn keeps a float32 master
copy whose rounding to the format is the model's parameters (as in the MLP study).  Each
run is seeded and single-threaded; the table repeats from run to run on one machine.
"""

from __future__ import annotations

from typing import Any

MODELS = ("resnet", "transformer-relu", "transformer-gelu")
FORMATS = ("fp32", "bf16", "e4m3fn")
BATCH = 16
STEPS = 100
EVERY = 10
LR = 0.05
SEED = 20261206


def build(kind: str) -> Any:
    """The model of a kind (untrained, seeded by the caller)."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, c_in: int, c: int, stride: int) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(c_in, c, 3, stride, 1, bias=False)
            self.b1 = nn.BatchNorm2d(c)
            self.c2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
            self.b2 = nn.BatchNorm2d(c)
            self.down = None if stride == 1 and c_in == c else nn.Sequential(
                nn.Conv2d(c_in, c, 1, stride, bias=False), nn.BatchNorm2d(c))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
            return torch.relu(h + (x if self.down is None else self.down(x)))

    class ResNet(nn.Module):
        def __init__(self, c: int = 4) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c),
                                      nn.ReLU())
            self.l1, self.l2, self.l3 = Block(c, c, 1), Block(c, 2 * c, 2), Block(2 * c, 4 * c, 2)
            self.fc = nn.Linear(4 * c, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(self.l3(self.l2(self.l1(self.stem(x)))).mean((2, 3)))

    class Encoder(nn.Module):
        def __init__(self, act: str, d: int = 32) -> None:
            super().__init__()
            self.emb = nn.Linear(8, d)
            self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(
                d, 2, 2 * d, dropout=0.0, activation=act, batch_first=True), 2,
                enable_nested_tensor=False)
            self.fc = nn.Linear(d, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(self.enc(self.emb(x)).mean(1))

    if kind == "resnet":
        return ResNet()
    if kind in ("transformer-relu", "transformer-gelu"):
        return Encoder(kind.split("-")[1])
    raise ValueError(f"unknown model {kind!r} (use {', '.join(MODELS)})")


def shaped(kind: str, x: Any) -> Any:
    """Digits (N, 64) as the model's input: images (N, 1, 8, 8) or rows (N, 8, 8)."""
    return x.reshape(-1, 1, 8, 8) if kind == "resnet" else x.reshape(-1, 8, 8)


def run_model(kind: str, fmt: str, steps: int = STEPS, every: int = EVERY, seed: int = SEED,
              data: tuple[Any, Any] | None = None) -> dict[str, Any]:
    """Train one model in one format, auditing every ``every``-th step."""
    import torch

    from ..audit.dtypes import parse_dtype
    from .training import digits, train_audited

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    dtype = parse_dtype(fmt)
    x_all, y_all = digits() if data is None else (torch.as_tensor(data[0]),
                                                   torch.as_tensor(data[1]))
    x_all = shaped(kind, x_all)
    model = build(kind).to(dtype.compute).train()
    mon, seconds, acc = train_audited(model, dtype, x_all, y_all, BATCH, steps, every, LR, seed)
    stats = mon.stats()
    stats.pop("seconds")
    keys = ("step", "kinked", "kinked_examples", "ns", "differentiable", "inc", "undecided",
            "certificate", "float_kinks", "bifurcation", "exact_only", "float_only", "error")
    records = [{k: r.get(k) for k in keys} for r in mon.records]
    return {"model": kind, "format": fmt, "steps": steps, "every": every, "batch": BATCH,
            "W": sum(p.numel() for p in model.parameters()), "accuracy": round(acc, 4), "stats": stats,
            "records": records, "seconds": seconds,
            "audit_seconds": sum(r["seconds"] for r in mon.records)}


def rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per model and format: rates over the audited steps (inc, undecided, errors: counts)."""
    out = []
    for r in runs:
        s = r["stats"]
        n = max(s["audited"], 1)
        out.append({"model": r["model"], "format": r["format"], "W": r["W"],
                    "audited": s["audited"], "kinked": s["kinked_steps"] / n,
                    "ndf": s["ndf_steps"] / n, "inc": s["inc_steps"],
                    "float_kinks": s["float_kink_steps"] / n,
                    "bifurcation": s["bifurcation_steps"] / n,
                    "undecided": s["undecided_steps"], "errors": s["error_steps"],
                    "accuracy": r["accuracy"]})
    return out


def summary_markdown(runs: list[dict[str, Any]]) -> list[str]:
    """The table (deterministic: no timings)."""
    head = ["model", "format", "W", "audited steps", "kinked", "non-differentiable", "inc",
            "float kinks", "bifurcation", "undecided", "errors", "accuracy"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows(runs):
        lines.append("| " + " | ".join(str(c) for c in (
            r["model"], r["format"], r["W"], r["audited"], f"{r['kinked']:.3f}",
            f"{r['ndf']:.3f}", r["inc"], f"{r['float_kinks']:.3f}", f"{r['bifurcation']:.3f}",
            r["undecided"], r["errors"], f"{r['accuracy']:.3f}")) + " |")
    return lines


def plot(runs: list[dict[str, Any]], out: Any) -> str:
    """Rates per model and format (grouped bars); returns the file name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rs = rows(runs)
    models = list(dict.fromkeys(r["model"] for r in rs))
    formats = list(dict.fromkeys(r["format"] for r in rs))
    by = {(r["model"], r["format"]): r for r in rs}
    qs = [("kinked", "kinked copies"), ("ndf", "non-differentiable"),
          ("float_kinks", "float kinks"), ("bifurcation", "bifurcation")]
    fig, axes = plt.subplots(1, len(models), figsize=(4.3 * len(models), 3.4), sharey=True)
    axes = list(axes) if len(models) > 1 else [axes]
    step = 0.8 / len(qs)
    colors = plt.get_cmap("tab10").colors
    for ax, m in zip(axes, models):
        for j, (q, label) in enumerate(qs):
            vals = [by[(m, f)][q] if (m, f) in by else 0.0 for f in formats]
            xs = [i + j * step for i in range(len(formats))]
            ax.bar(xs, vals, width=step, label=label, color=colors[j])
            for xv, v in zip(xs, vals):
                if v == 0:  # an observed 0, marked so that it is not read as missing
                    ax.text(xv, 0.01, "0", ha="center", fontsize=6, color=colors[j])
        ax.set_xticks([i + 0.4 - step / 2 for i in range(len(formats))], formats)
        ax.set_title(m, fontsize=9)
        ax.set_ylim(0, 1)
    axes[0].set_ylabel("fraction of audited steps")
    axes[-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "rates-models.png", dpi=110)
    plt.close(fig)
    return "rates-models.png"
