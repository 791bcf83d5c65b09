"""The lab's printed lines: the epoch line, one line per sample and the summary line.

``epoch 5000 loss : 0.0123456789``, ``Iter: 7 | Ground truth: 1 | Predict: 0.9999763808``
and ``loss=0.0000019285 accuracy=99.0%``, as the handout's script prints them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def fixed(value: float, digits: int) -> str:
    """``value`` to ``digits`` decimals, rounded first: -1e-13 is ``'0.000'``, not ``'-0.000'``
    (every R² proplab prints goes through it, so the same R² reads the same everywhere)."""
    return f"{round(value, digits) + 0.0:.{digits}f}"


def lab_number(value: float) -> str:
    """``value`` as the handout prints it, to 10 decimals (``0.0123456789``), but from a
    million on in exponent form (``1.4639439054e+192``): a loss on its way to divergence
    printed 190 digits."""
    value = float(value) + 0.0  # + 0.0: a ReLU output's -0.0 printed as "-0.0000000000"
    return f"{value:.10e}" if abs(value) >= 1e6 and math.isfinite(value) else f"{value:.10f}"


def format_epoch_line(epoch: int, loss: float) -> str:
    """The lab's progress line: ``epoch 5000 loss : 0.0123456789``."""
    return f"epoch {epoch} loss : {lab_number(loss)}"


def format_prediction_lines(
    pred: np.ndarray, y: np.ndarray, class_names: Sequence[object] | None = None
) -> list[str]:
    """One lab line per sample: ``Iter: 7 | Ground truth: 1 | Predict: 0.9999763808``.

    A regression target (not a whole number) is printed as the prediction is:
    ``Ground truth: -0.4210000000``. ``class_names``: what the file calls class k (a
    CSV's labels, ``["no", "yes"]``): the truth is printed by its name."""
    truth = y.reshape(-1)
    whole = bool(np.all(truth == np.round(truth)))

    def shown(t: float) -> str:
        if not whole:
            return lab_number(t)
        return str(class_names[int(t)]) if class_names is not None else str(int(t))

    return [
        f"Iter: {i} | Ground truth: {shown(t)} | Predict: {lab_number(p)}"
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
        return f"loss={lab_number(loss)} r2={'n/a' if math.isnan(r2) else fixed(r2, 4)}"
    return f"loss={lab_number(loss)} accuracy={format_percent(acc)}%"
