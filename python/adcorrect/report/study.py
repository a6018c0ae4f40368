"""The low-precision study (`make study`): how often real training meets kinks, exactly.

ReLU MLPs 64-w-w-10 (w in 16, 64, 256) are trained with cross-entropy on scikit-learn's
bundled digits (1797 8x8 images, pixels k/16; nothing is downloaded) in fp32, bf16, fp16,
OCP fp8 e4m3fn and e5m2, and the int8 grid (1/128) * {-128..127}, by plain SGD (learning
rate 0.1, batch 64).  fp32, bf16 and fp16 train natively (torch computes in the dtype,
SGD updates in it).  For fp8 and int8, which torch cannot compute in on the CPU, SGD
updates a float32 master copy and the model's parameters are that copy rounded to the
format (ml_dtypes, to nearest) at initialisation and after every optimiser step; the
computation is float32 on those values.  So every audited parameter vector lies in M^W.  Every ``EVERY``-th step is audited by :class:`adcorrect.torch.Monitor`:
the exact audit (kinked copies, NS, non-differentiability, ``inc``, undecided) and the
execution audit (float kinks, bifurcations).

Everything is seeded and each run uses one torch thread, so the summary table repeats
exactly from run to run (timings are kept apart, in ``timing.json``); the float kernels
are made CPU-independent (:data:`DETERMINISTIC_ENV`: ATen's non-vectorised kernels, MKL's
conditional numerical reproducibility, oneDNN at SSE4.1), so it repeats from machine to
machine too.  Runs are spread
over ``--jobs`` processes.  Outputs in ``--out``: ``study.json`` (per run: statistics and
per-step records), ``summary.md`` (the table), ``timing.json`` and the plots
``rates-steps.png``, ``rates-width.png``, ``bifurcations.png``.  The report
(:mod:`adcorrect.report.document`, ``make compare``) embeds them under "Real training".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from . import study_models
from .training import digits, train_audited

FORMATS = ("fp32", "bf16", "fp16", "e4m3fn", "e5m2", "int8:1/128")
WIDTHS = (16, 64, 256)
BATCH = 64
STEPS = 300
EVERY = 1
LR = 0.1
SEED = 20240917
#: Bertoin et al. (NeurIPS 2021): bifurcations in fp32 training of MLPs on MNIST, per 1000
#: initialisations, for widths 16, 64, 256 (a different data set and protocol).
BERTOIN_FP32_MNIST = {16: 21, 64: 163, 256: 478}


def run_one(fmt: str, width: int, steps: int = STEPS, every: int = EVERY,
            seed: int = SEED, data: tuple[Any, Any] | None = None) -> dict[str, Any]:
    """Train one model, auditing every ``every``-th step; statistics and records."""
    import torch
    from torch import nn

    from ..audit.dtypes import parse_dtype

    torch.set_num_threads(1)
    torch.manual_seed(seed + width)
    dtype = parse_dtype(fmt)
    x_all, y_all = digits() if data is None else (torch.as_tensor(data[0]),
                                                   torch.as_tensor(data[1]))
    model = nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                          nn.Linear(width, 10)).to(dtype.compute)
    mon, seconds, acc = train_audited(model, dtype, x_all, y_all, BATCH, steps, every, LR,
                                      seed)
    stats = mon.stats()
    stats.pop("seconds")
    records = [{k: r[k] for k in ("step", "kinked", "kinked_examples", "ns", "differentiable",
                                  "inc", "undecided", "certificate", "float_kinks",
                                  "bifurcation", "exact_only", "float_only", "not_in_format")}
               for r in mon.records]
    M = dtype.format.size
    n_kinks = 2 * width
    return {"format": fmt, "width": width, "steps": steps, "every": every, "batch": BATCH,
            "M": M, "n": n_kinks, "bound": BATCH * n_kinks / M, "accuracy": round(acc, 4),
            "stats": stats, "records": records, "seconds": seconds,
            "audit_seconds": sum(r["seconds"] for r in mon.records)}


def _any_job(args: tuple[Any, ...]) -> dict[str, Any]:
    """One run: ("mlp", format, width, steps, every, data) or (model, format, steps, every,
    data) for the models beyond MLPs."""
    if args[0] == "mlp":
        _, f, w, steps, every, data = args
        return run_one(f, w, steps, every, data=data)
    return study_models.run_model(*args[:4], data=args[4])


def rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The summary rows: per format and width."""
    out = []
    for r in runs:
        s = r["stats"]
        n = max(s["audited"], 1)
        out.append({
            "format": r["format"], "width": r["width"], "audited": s["audited"],
            "kinked": s["kinked_steps"] / n, "ns": s["ns_steps"] / n,
            "ndf": s["ndf_steps"] / n, "inc": s["inc_steps"], "float_kinks": s["float_kink_steps"] / n,
            "bifurcation": s["bifurcation_steps"] / n, "undecided": s["undecided_steps"],
            "exact_only": s["exact_only"], "float_only": s["float_only"],
            "bound": r["bound"], "accuracy": r["accuracy"]})
    return out


def summary_markdown(runs: list[dict[str, Any]]) -> list[str]:
    """The table (deterministic: no timings)."""
    head = ["format", "width", "audited steps", "kinked copies", "NS", "non-differentiable",
            "inc", "float kinks", "bifurcation", "undecided", "exact-only / float-only kinks",
            "T2 bound B n/|M|", "accuracy"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows(runs):
        lines.append("| " + " | ".join(str(c) for c in (
            r["format"], r["width"], r["audited"], f"{r['kinked']:.3f}", f"{r['ns']:.3f}",
            f"{r['ndf']:.3f}", r["inc"], f"{r['float_kinks']:.3f}", f"{r['bifurcation']:.3f}",
            r["undecided"], f"{r['exact_only']} / {r['float_only']}", f"{r['bound']:.3g}",
            f"{r['accuracy']:.3f}")) + " |")
    return lines


def plots(runs: list[dict[str, Any]], out: Path) -> list[str]:
    """The three figures; returns their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    formats = list(dict.fromkeys(r["format"] for r in runs))
    widths = sorted({r["width"] for r in runs})
    colors = dict(zip(formats, plt.get_cmap("tab10").colors))
    by = {(r["format"], r["width"]): r for r in runs}

    fig, axes = plt.subplots(1, len(widths), figsize=(4.2 * len(widths), 3.4), sharey=True)
    axes = list(axes) if len(widths) > 1 else [axes]
    for ax, w in zip(axes, widths):
        for f in formats:
            r = by.get((f, w))
            if r is None:
                continue
            steps = [rec["step"] for rec in r["records"]]
            ndf = [1.0 if rec["differentiable"] is False else 0.0 for rec in r["records"]]
            k = 25
            smooth = [sum(ndf[max(0, i - k + 1):i + 1]) / len(ndf[max(0, i - k + 1):i + 1])
                      for i in range(len(ndf))]
            ax.plot(steps, smooth, label=f, color=colors[f])
        ax.set_title(f"64-{w}-{w}-10")
        ax.set_xlabel("training step")
    axes[0].set_ylabel("non-differentiable batch loss\n(fraction of steps, 25-step window)")
    axes[-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "rates-steps.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    # an observed 0 is drawn (hollow) below every bound line, never above one
    bounds = [min(1.0, r["bound"]) for r in runs if r["bound"] > 0]
    floor = min(0.5 / max(max(r["stats"]["audited"] for r in runs), 1),
                0.1 * min(bounds, default=1.0))
    for f in formats:
        ws = [w for w in widths if (f, w) in by]
        rate = [by[(f, w)]["stats"]["ndf_steps"] / max(by[(f, w)]["stats"]["audited"], 1)
                for w in ws]
        ax.plot(ws, [max(v, floor) for v in rate], "-", color=colors[f], label=f"{f} observed")
        ax.plot([w for w, v in zip(ws, rate) if v > 0], [v for v in rate if v > 0], "o",
                color=colors[f])
        ax.plot([w for w, v in zip(ws, rate) if v == 0], [floor for v in rate if v == 0], "o",
                mfc="none", color=colors[f])
        ax.plot(ws, [min(1.0, by[(f, w)]["bound"]) for w in ws], "--", color=colors[f],
                alpha=0.6, label=f"{f} bound min(1, B n/|M|)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("width w")
    ax.set_ylabel("fraction of steps with a non-differentiable loss")
    ax.set_title(f"observed rate vs the batched T2 bound (0: hollow, at {floor:.1e})",
                 fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(out / "rates-width.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    bars = formats + ["Bertoin et al. 2021"]
    step = 0.8 / len(bars)
    for j, f in enumerate(bars):
        vals = []
        for w in widths:
            if f.startswith("Bertoin"):
                vals.append(BERTOIN_FP32_MNIST.get(w, 0))
            else:
                r = by.get((f, w))
                vals.append(1000 * r["stats"]["bifurcation_steps"] / max(r["stats"]["audited"], 1)
                            if r else 0)
        label = ("Bertoin et al. 2021: fp32, MNIST, per 1000 initialisations (different "
                 "data set)") if f.startswith("Bertoin") else f"{f}: per 1000 audited steps"
        ax.bar([i + j * step for i in range(len(widths))], vals, width=step, label=label,
               color="black" if f.startswith("Bertoin") else colors[f],
               alpha=0.5 if f.startswith("Bertoin") else 1.0)
    ax.set_xticks([i + 0.4 - step / 2 for i in range(len(widths))], [str(w) for w in widths])
    ax.set_xlabel("width w")
    ax.set_ylabel("bifurcations per 1000")
    ax.set_title("float gradient bifurcations (relu'(0) = 0 vs 1), digits", fontsize=9)
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "bifurcations.png", dpi=110)
    plt.close(fig)
    return ["rates-steps.png", "rates-width.png", "bifurcations.png"]


def section_markdown(study_dir: Path) -> str:
    """The "Real training" section of report/REPORT.md, from ``study_dir/study.json`` (empty
    if the study has not been run)."""
    path = study_dir / "study.json"
    if not path.is_file():
        return ""
    data = json.loads(path.read_text())
    runs = data["runs"]
    audited = sum(r["stats"]["audited"] for r in runs)
    undecided = sum(r["stats"]["undecided_steps"] for r in runs)
    inc = sum(r["stats"]["inc_steps"] for r in runs)
    rel = study_dir.name
    out = ["", "## Real training", "",
           ("The low-precision study (`make study`, `python/adcorrect/study.py`): ReLU MLPs "
           "64-w-w-10 trained with cross-entropy on scikit-learn's bundled digits, batch "
           f"{data['batch']}, {data['steps']} SGD steps (learning rate {data['lr']}), every "
           f"{'step' if data['every'] == 1 else str(data['every']) + '-th step'} audited "
           "by both audits. fp8 and int8 parameters are kept in the format after every "
           "optimiser step (a float32 master copy rounded with ml_dtypes), so every audited "
           "parameter vector lies in M^W. Fractions are of audited steps; inc and undecided "
           "are counts. The T2 bound is the batched bound B n / |M| of THEORY.md 8.1 with "
           "n = 2w: a bound on the fraction of *all* of M^W, not on a training trajectory."),
           "", *summary_markdown(runs), "",
           (f"`inc` points (T6 predicts none for relu networks): {inc}. Undecided: {undecided} "
           f"of {audited} audited steps."), "",
           f"![non-differentiable rate over training]({rel}/rates-steps.png)", "",
           f"![rate versus width with the bound]({rel}/rates-width.png)", "",
           f"![bifurcations next to Bertoin et al.]({rel}/bifurcations.png)", "",
           ("Bertoin et al. (NeurIPS 2021) report fp32 bifurcations on MNIST per 1000 "
           "initialisations (21, 163, 478 for widths 16, 64, 256): a different data set and "
           "protocol, shown for scale only.")]
    mruns = data.get("model_runs") or []
    if mruns:
        mp = data["model_protocol"]
        out += ["", "### Beyond MLPs", "",
                ("A ResNet trained with BatchNorm in training mode and two-layer Transformer "
                 "encoders (ReLU and GELU feed-forward blocks, LayerNorm) on the digits "
                 f"(`python/adcorrect/report/study_models.py`): batch {mp['batch']}, "
                 f"{mp['steps']} SGD steps (learning rate {mp['lr']}), every "
                 f"{mp['every']}-th step audited by the certified engine (exact where it "
                 "can be, Arb balls elsewhere; the ResNet's batch is one network) and the "
                 "execution audit. Rates are fractions of audited steps; inc, undecided and "
                 "errors are counts."), "", *study_models.summary_markdown(mruns), "",
                f"![rates per model and format]({rel}/rates-models.png)"]
    return "\n".join(out) + "\n"


#: CPU-independent kernels for the study's processes (set before torch is imported):
#: ATen's non-vectorised kernels, MKL's conditional numerical reproducibility and oneDNN
#: restricted to SSE4.1, so the trajectories do not depend on the CPU's vector width
DETERMINISTIC_ENV = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE",
                     "DNNL_MAX_CPU_ISA": "SSE41", "OMP_NUM_THREADS": "1",
                     "MKL_NUM_THREADS": "1"}


def main(argv: list[str] | None = None) -> int:
    os.environ.update(DETERMINISTIC_ENV)  # before digits() imports torch; workers inherit it
    p = argparse.ArgumentParser(prog="python -m adcorrect.report.study", description=__doc__.split(
        "\n")[0])
    p.add_argument("--out", default="report/study")
    p.add_argument("--steps", type=int, default=STEPS)
    p.add_argument("--every", type=int, default=EVERY)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--formats", default=",".join(FORMATS))
    p.add_argument("--widths", default=",".join(map(str, WIDTHS)))
    p.add_argument("--models", default=",".join(("mlp", *study_models.MODELS)),
                   help="mlp and the models beyond MLPs (resnet, transformer-relu, "
                        "transformer-gelu)")
    p.add_argument("--model-formats", default=",".join(study_models.FORMATS))
    p.add_argument("--model-steps", type=int, default=study_models.STEPS)
    p.add_argument("--model-every", type=int, default=study_models.EVERY)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    formats = args.formats.split(",")
    widths = [int(w) for w in args.widths.split(",")]
    x, y = digits()
    data = (x.numpy(), y.numpy())
    models = [m for m in args.models.split(",") if m]
    mformats = args.model_formats.split(",")
    jobs: list[tuple[Any, ...]] = [
        ("mlp", f, w, args.steps, args.every, data) for w in sorted(widths, reverse=True)
        for f in formats] if "mlp" in models else []
    jobs += [(m, f, args.model_steps, args.model_every, data) for m in models if m != "mlp"
             for f in mformats]
    t0 = time.perf_counter()
    if args.jobs > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(args.jobs) as pool:
            done = pool.map(_any_job, jobs, chunksize=1)
    else:
        done = [_any_job(j) for j in jobs]
    runs = [r for r in done if "width" in r]
    mruns = [r for r in done if "model" in r]
    runs.sort(key=lambda r: (formats.index(r["format"]), r["width"]))
    mruns.sort(key=lambda r: (models.index(r["model"]), mformats.index(r["format"])))
    wall = time.perf_counter() - t0
    timing = {"wall_seconds": wall, "jobs": args.jobs,
              "runs": [{"format": r.pop("format_", r["format"]), "width": r["width"],
                        "seconds": r.pop("seconds"), "audit_seconds": r.pop("audit_seconds")}
                       for r in runs]}
    timing["models"] = [{"model": r["model"], "format": r["format"],
                         "seconds": r.pop("seconds"), "audit_seconds": r.pop("audit_seconds")}
                        for r in mruns]
    figures = plots(runs, out) if runs else []
    if mruns:
        figures.append(study_models.plot(mruns, out))
    data = {"formats": formats, "widths": widths, "steps": args.steps, "every": args.every,
            "batch": BATCH, "lr": LR, "seed": SEED, "bertoin_fp32_mnist": BERTOIN_FP32_MNIST,
            "runs": runs, "figures": figures, "model_runs": mruns, "kernels": DETERMINISTIC_ENV,
            "model_protocol": {"batch": study_models.BATCH, "steps": args.model_steps,
                               "every": args.model_every, "lr": study_models.LR,
                               "seed": study_models.SEED}}
    (out / "study.json").write_text(json.dumps(data, indent=1) + "\n")
    (out / "timing.json").write_text(json.dumps(timing, indent=1) + "\n")
    table = summary_markdown(runs) if runs else []
    if mruns:
        table += ["", *study_models.summary_markdown(mruns)]
    (out / "summary.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))
    audited = sum(r["stats"]["audited"] for r in (*runs, *mruns))
    undecided = sum(r["stats"]["undecided_steps"] for r in (*runs, *mruns))
    print(f"\nundecided: {undecided} of {audited} audited steps; wall time {wall:.0f} s "
          f"({args.jobs} processes); wrote {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
