"""Plots (matplotlib, imported lazily with the Agg backend): gradient norm per timestep on a
log scale, and training curves. Each function writes PNG/SVG/PDF (by suffix) atomically and
returns the path; SVG output carries no date and a fixed hash salt, so it is reproducible."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from autograd_rnn.viz.render import write_atomic

_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")  # Okabe-Ito
_MARKERS = ("o", "s", "^", "D", "v", "x")


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'autograd-rnn[plot]'") from None
    matplotlib.use("Agg", force=False)
    matplotlib.rcParams["svg.hashsalt"] = "autograd-rnn"
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path, overwrite: bool) -> Path:
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    if fmt not in ("png", "svg", "pdf"):
        raise ValueError(f"plot format must be png, svg or pdf, got {path.suffix!r}")
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt in ("svg", "pdf") else {}
    if fmt == "pdf":
        metadata["CreationDate"] = None
        metadata.pop("Date")
    fig.savefig(buffer, format=fmt, bbox_inches="tight", metadata=metadata)
    _pyplot().close(fig)
    return write_atomic(path, buffer.getvalue(), overwrite=overwrite)


def plot_gradient_norms(
    curves: Mapping[str, Mapping[int, float] | Sequence[float]],
    path: str | os.PathLike,
    *,
    title: str = "||dL/dh_t|| per timestep (loss at the last step)",
    overwrite: bool = False,
) -> Path:
    """One line per curve ({label: {t: norm}} or {label: [norm at t=1, ...]}), log y axis.

    Typical input: ``analysis.vanishing_curves()`` (RNN vs LSTM vs GRU on the same input).
    """
    if not curves:
        raise ValueError("curves is empty: pass {label: {t: norm}}")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for k, (label, curve) in enumerate(curves.items()):
        items = sorted(curve.items()) if isinstance(curve, Mapping) else list(
            enumerate(curve, start=1))
        steps = [t for t, v in items if v > 0]
        values = [v for t, v in items if v > 0]
        ax.plot(steps, values, label=label, color=_COLOURS[k % len(_COLOURS)],
                marker=_MARKERS[k % len(_MARKERS)], markersize=3, linewidth=1.5)
    ax.set_yscale("log")
    ax.set_xlabel("timestep t")
    ax.set_ylabel("gradient norm ||dL/dh_t||")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return _save(fig, path, overwrite)


def _series(history) -> dict[str, list[float]]:
    if isinstance(history, Mapping):
        return {k: [float(v) for v in vs] for k, vs in history.items()}
    history = list(history)
    if not history:
        raise ValueError("history is empty: nothing to plot")
    if isinstance(history[0], Mapping):
        keys = [k for k in history[0] if k not in ("step", "epoch", "iteration")]
        return {k: [float(h[k]) for h in history if k in h and h[k] is not None]
                for k in keys if isinstance(history[0][k], (int, float))}
    return {"loss": [float(v) for v in history]}


def plot_training_curves(
    history,
    path: str | os.PathLike,
    *,
    title: str = "training",
    log_y: bool = False,
    overwrite: bool = False,
) -> Path:
    """Loss (and any other numeric series) against the step.

    ``history``: a list of numbers (losses), a list of dicts (each a record such as
    ``{"step": 10, "loss": 0.3, "val_loss": 0.4}``), or a dict {series name: list}.
    """
    series = _series(history)
    if not series:
        raise ValueError("history has no numeric series to plot")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for k, (label, values) in enumerate(series.items()):
        ax.plot(range(1, len(values) + 1), values, label=label,
                color=_COLOURS[k % len(_COLOURS)], linewidth=1.3)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("value")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _save(fig, path, overwrite)
