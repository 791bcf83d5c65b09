"""Classification metrics on labels: accuracy, confusion matrix, one-hot.

Conventions: labels are integers ``0..C-1`` of shape ``(n,)`` or ``(n, 1)``.
Model outputs become labels with :func:`predicted_labels`: one column is a
probability thresholded at 0.5 (the lab), several columns are scores
(logits or probabilities) and the arg-max wins.
"""

from __future__ import annotations

import numpy as np

from proplab.train import accuracy

__all__ = ["accuracy", "confusion_matrix", "labels_of", "one_hot", "predicted_labels"]


def labels_of(y: np.ndarray) -> np.ndarray:
    """Integer class labels ``(n,)`` from labels ``(n,)`` / ``(n, 1)`` or one-hot ``(n, C)``."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return y.reshape(-1).astype(np.int64)


def predicted_labels(pred: np.ndarray) -> np.ndarray:
    """Labels from model outputs: ``(*R, n, 1)`` probabilities -> 0/1, ``(*R, n, C)`` -> argmax.

    Shape: ``(*R, n, C)`` -> ``(*R, n)``.
    """
    pred = np.asarray(pred)
    if pred.shape[-1] == 1:
        return (pred[..., 0] > 0.5).astype(np.int64)
    return pred.argmax(axis=-1)


def one_hot(labels: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    """Rows of zeros with a one at each label. Shape: ``(n,)`` or ``(n, 1)`` -> ``(n, C)`` float64."""
    labels = np.asarray(labels).reshape(-1)
    if labels.size and (
        np.any(labels < 0) or np.any(labels != np.round(labels))
    ):  # a negative or fractional label would index the wrong column silently
        raise ValueError(f"one_hot needs integer labels >= 0, got {labels[:5].tolist()}...")
    labels = labels.astype(np.int64)
    c = int(labels.max()) + 1 if n_classes is None else int(n_classes)
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
    """
    t, p = labels_of(y_true), labels_of(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels but y_pred has {p.size}")
    c = int(max(t.max(initial=-1), p.max(initial=-1))) + 1 if n_classes is None else n_classes
    return np.bincount(t * c + p, minlength=c * c).reshape(c, c)
