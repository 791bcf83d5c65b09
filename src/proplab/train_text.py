"""The lab's printed lines: the epoch line, one line per sample and the summary line.

``epoch 5000 loss : 0.0123456789``, ``Iter: 7 | Ground truth: 1 | Predict: 0.9999763808``
and ``loss=0.0000019285 accuracy=99.0%``, as the handout's script prints them.
"""

from __future__ import annotations

import math

import numpy as np


def fixed(value: float, digits: int) -> str:
    """``value`` to ``digits`` decimals, rounded first: -1e-13 is ``'0.000'``, not ``'-0.000'``
    (every R² proplab prints goes through it, so the same R² reads the same everywhere)."""
    return f"{round(value, digits) + 0.0:.{digits}f}"


def format_epoch_line(epoch: int, loss: float) -> str:
    """The lab's progress line: ``epoch 5000 loss : 0.0123456789``."""
    return f"epoch {epoch} loss : {loss:.10f}"


def format_prediction_lines(pred: np.ndarray, y: np.ndarray) -> list[str]:
    """One lab line per sample: ``Iter: 7 | Ground truth: 1 | Predict: 0.9999763808``.

    A regression target (not a whole number) is printed as the prediction is:
    ``Ground truth: -0.4210000000``."""
    truth = y.reshape(-1)
    whole = bool(np.all(truth == np.round(truth)))
    # + 0.0 turns a ReLU output's -0.0 into 0.0 ("Predict: -0.0000000000" looked negative)
    return [
        f"Iter: {i} | Ground truth: {int(t) if whole else f'{float(t) + 0.0:.10f}'} | "
        f"Predict: {float(p) + 0.0:.10f}"
        for i, (t, p) in enumerate(zip(truth, pred.reshape(-1), strict=True))
    ]


def format_percent(fraction: float) -> str:
    """``0.99 -> '99.0'``, ``11/21 -> '52.38'``, ``1 -> '100.0'``."""
    text = f"{100.0 * fraction:.2f}"
    return text[:-1] if text.endswith("0") else text


def format_summary_line(loss: float, acc: float, r2: float | None = None) -> str:
    """The lab's summary: ``loss=0.0000019285 accuracy=99.0%``; a regression run gives
    its R² instead (``r2`` not None): ``loss=0.0045829671 r2=0.9712``."""
    if r2 is not None:  # NaN: a single sample has no variance to explain
        return f"loss={loss:.10f} r2={'n/a' if math.isnan(r2) else fixed(r2, 4)}"
    return f"loss={loss:.10f} accuracy={format_percent(acc)}%"
