"""Metrics: accuracy, confusion matrix and one-hot for classes; R² for regression.

Conventions: labels are integers ``0..C-1`` of shape ``(n,)`` or ``(n, 1)``.
Model outputs become labels with :func:`predicted_labels`: one column is a
probability thresholded at 0.5 (the lab), several columns are scores
(logits or probabilities) and the arg-max wins.
"""

from __future__ import annotations

import math

import numpy as np

from proplab.checks import check_int, is_whole
from proplab.scoring import accuracy, check_numbers

__all__ = [
    "accuracy",
    "confusion_matrix",
    "labels_of",
    "one_hot",
    "predicted_labels",
    "r2_score",
]


def labels_of(y: np.ndarray, name: str = "y") -> np.ndarray:
    """Integer class labels ``(n,)`` from labels ``(n,)`` / ``(n, 1)`` or one-hot ``(n, C)``
    (or scores ``(n, C)``: their argmax).

    Raises ValueError for values that are not whole numbers >= 0 (probabilities
    such as 0.9 would otherwise be truncated to class 0: use predicted_labels).
    ``name``: the argument in messages (``y_true``).
    """
    y = np.asarray(y)
    if y.ndim > 2:  # flattened, a stack's labels were read as one long list
        raise ValueError(
            f"labels must be (n,), (n, 1) or one-hot (n, C), got shape {y.shape} (a stack's "
            "labels: one replica at a time)"
        )
    if y.ndim == 2 and y.shape[1] > 1:
        if y.shape[0] == 1 and _label_row(y):
            # labels as a row (y.T): argmax read them as 1 sample. Only whole numbers
            # >= 0 that are no one-hot row: one sample's scores (0.2, 3.0, -1.0) are
            # read by argmax, as several samples' are (verify21 R3)
            raise ValueError(
                f"{name} must be (n,), (n, 1) or one-hot (n, C), got one row of shape "
                f"{y.shape} that is no one-hot row: labels as a row? pass {name}.ravel()"
            )
        return y.argmax(axis=1)
    return _whole_labels(y.reshape(-1))


def _label_row(row: np.ndarray) -> bool:
    """Whether a ``(1, C)`` row looks like C labels: whole numbers >= 0, no one-hot row."""
    if row.dtype.kind not in "biuf" or _one_hot_like(row):
        return False
    return bool(np.all(np.isfinite(row)) and np.all(row >= 0) and np.all(np.round(row) == row))


def _one_hot_like(rows: np.ndarray) -> bool:
    """Whether every row holds values in [0, 1] summing to 1 (one-hot, or probabilities)."""
    if rows.dtype.kind not in "biuf":
        return False
    return bool(
        np.all((rows >= 0) & (rows <= 1)) and np.allclose(rows.sum(axis=-1), 1.0, atol=1e-6)
    )


def _whole_labels(flat: np.ndarray) -> np.ndarray:
    """``flat`` as int64 labels, or a ValueError naming the first value that is not a
    whole number >= 0 (a probability such as 0.9 would otherwise be truncated to 0)."""
    if flat.size == 0:
        return np.zeros(0, dtype=np.int64)
    if flat.dtype.kind == "O":  # Python numbers in an object array (pandas gives these)
        flat = np.asarray(flat.tolist())
    if flat.dtype.kind not in "iub":
        if flat.dtype.kind != "f" or not np.all(np.isfinite(flat)):
            bad = flat[0] if flat.dtype.kind != "f" else flat[~np.isfinite(flat)][0]
            bad = bad.item() if isinstance(bad, np.generic) else bad
            raise ValueError(f"labels must be whole numbers 0..C-1, got {bad!r}")
        whole = np.round(flat)
        if np.any(whole != flat):
            raise ValueError(
                f"labels must be whole numbers 0..C-1, got {flat[whole != flat][0].item()!r} "
                "(model outputs become labels with predicted_labels)"
            )
    labels = flat.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise ValueError(f"labels must be whole numbers 0..C-1, got {int(labels.min())}")
    return labels


def predicted_labels(pred: np.ndarray) -> np.ndarray:
    """Labels from model outputs: ``(*R, n, 1)`` probabilities -> 0/1, ``(*R, n, C)`` -> argmax.

    Shape: ``(*R, n, C)`` -> ``(*R, n)``.
    """
    pred = np.asarray(pred)
    if pred.ndim < 2:
        raise ValueError(
            f"predicted_labels takes model outputs (n, 1) or (n, C), got shape {pred.shape}"
        )
    if pred.shape[-1] == 1:
        return (pred[..., 0] > 0.5).astype(np.int64)
    return pred.argmax(axis=-1)


def one_hot(labels: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    """Rows of zeros with a one at each label. Shape: ``(n,)`` or ``(n, 1)`` -> ``(n, C)`` float64."""
    labels = np.asarray(labels)
    if labels.ndim > 2 or (labels.ndim == 2 and labels.shape[1] != 1):
        # flattened, one-hot rows (one_hot called twice) were read as n * C labels
        hint = (
            "labels as a row? pass labels.ravel()"
            if labels.ndim == 2 and labels.shape[0] == 1
            else "already one-hot?"
            if labels.ndim == 2
            else "a stack's labels: one replica at a time"
        )
        raise ValueError(f"one_hot takes labels (n,) or (n, 1), got shape {labels.shape} ({hint})")
    # a negative or fractional label would index the wrong column silently
    labels = _whole_labels(labels.reshape(-1))
    if n_classes is not None:
        c = check_int(n_classes, "one_hot n_classes")
    elif labels.size:
        c = int(labels.max()) + 1
    else:
        raise ValueError("one_hot of no labels needs n_classes")
    if labels.size and labels.max() >= c:
        raise ValueError(f"label {int(labels.max())} does not fit n_classes={c}")
    out = np.zeros((labels.size, c))
    out[np.arange(labels.size), labels] = 1.0
    return out


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, n_classes: int | None = None
) -> np.ndarray:
    """Counts ``M[i, j]`` of samples of true class ``i`` predicted as class ``j``.

    Rows are the truth, columns the prediction (scikit-learn's layout), so the
    diagonal holds the correct answers and ``M.sum() == n``. Shape ``(C, C)`` int64.

    ``y_true`` and ``y_pred`` are integer labels ``(n,)`` or ``(n, 1)`` or
    one-hot rows ``(n, C)`` (turn model outputs into labels with
    :func:`predicted_labels` first). ``C`` is ``n_classes``, or the largest
    label + 1 when it is not given.
    """
    t, p = labels_of(y_true, "y_true"), labels_of(y_pred, "y_pred")
    if t.shape != p.shape:
        hint = ""
        for name, given, other in (("y_true", y_true, p), ("y_pred", y_pred, t)):
            shape = np.shape(given)
            if len(shape) == 2 and shape[0] == 1 and shape[1] == other.size:
                # a one-hot-looking row of labels, e.g. [[0, 1, 0]]: read as 1 sample
                hint = f" ({name} is one row {shape}: labels as a row? pass {name}.ravel())"
        raise ValueError(f"y_true has {t.size} labels but y_pred has {p.size}{hint}")
    largest = int(max(t.max(initial=-1), p.max(initial=-1)))
    if n_classes is None:
        c = largest + 1
    else:
        if not is_whole(n_classes, 1):
            raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
        c = int(n_classes)
        if largest >= c:
            raise ValueError(f"label {largest} does not fit n_classes={c} (labels 0..{c - 1})")
    return np.bincount(t * c + p, minlength=c * c).reshape(c, c)


def r2_score(pred: np.ndarray, target: np.ndarray) -> float | np.ndarray:
    """The coefficient of determination ``1 - SS_res / SS_tot``, per replica.

    ``pred`` ``(n, k)`` or stacked ``(*R, n, k)``; ``target`` ``(n, k)`` (shared by a
    stack's replicas) or ``(*R, n, k)``. Several outputs are averaged, as
    scikit-learn's ``r2_score`` does by default. 1 is a perfect fit, 0 is no better
    than predicting the targets' mean, below 0 is worse than that. Constant
    targets (``SS_tot = 0``) give 1.0 for a perfect fit and 0.0 otherwise, as
    scikit-learn's; a single sample gives NaN (scikit-learn too); predictions so
    large their squares overflow give -inf. The argument order is proplab's
    (:func:`accuracy`'s: prediction first), the reverse of scikit-learn's
    ``r2_score(y_true, y_pred)``; R² is not symmetric. Returns a float for one
    model, an array ``R`` for a stack.
    """
    pred, target = np.asarray(pred), np.asarray(target)
    check_numbers("r2_score: predictions", pred)  # text: "could not convert string to float"
    check_numbers("r2_score: target", target)
    pred, target = pred.astype(np.float64, copy=False), target.astype(np.float64, copy=False)
    if pred.ndim < 2 or target.shape[-2:] != pred.shape[-2:]:
        raise ValueError(
            f"r2_score: target shape {target.shape} does not fit predictions {pred.shape}; "
            "accepted: both (n, k), or predictions stacked (*R, n, k)"
        )
    if pred.shape[-2] < 2:  # one sample has no variance to explain (scikit-learn: NaN too)
        return math.nan if pred.ndim == 2 else np.full(pred.shape[:-2], math.nan)
    # a diverging model's predictions overflow the squares: R² -inf, not a warning
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        residual = np.sum((target - pred) ** 2, axis=-2)  # (*R, k)
        total = np.sum((target - target.mean(axis=-2, keepdims=True)) ** 2, axis=-2)
        total = np.broadcast_to(total, residual.shape)
        score = np.where(total > 0, 1.0 - residual / total, np.where(residual == 0, 1.0, 0.0))
    score = score.mean(axis=-1)
    return float(score) if np.ndim(score) == 0 else score
