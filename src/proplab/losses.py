"""Losses: ``forward(pred, target) -> loss`` and ``backward() -> dLoss/dpred``.

Shapes: ``pred`` is ``(*R, n, out)``; ``target`` is ``(n, out)`` or
``(*R, n, out)``. The loss is a mean over samples and outputs, reduced *per
replica*: a float for one model, an array of shape ``R`` for a stack (each
replica's gradient is then the gradient of its own loss).
"""

from __future__ import annotations

import numpy as np


class Loss:
    """Base class. Subclasses keep what ``backward`` needs during ``forward``."""

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, pred: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        return self.forward(pred, target)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _mean_last_two(a: np.ndarray) -> float | np.ndarray:
    """Mean over the sample and output axes; a float when there are no replica axes."""
    total = np.add.reduce(a.reshape(a.shape[:-2] + (-1,)), axis=-1)
    mean = total / (a.shape[-1] * a.shape[-2])
    return float(mean) if mean.ndim == 0 else mean


class MSELoss(Loss):
    """Mean squared error: L = mean((p - t)^2);  dL/dp = 2 (p - t) / N."""

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        self.diff = pred - target
        self.count = pred.shape[-1] * pred.shape[-2]
        return _mean_last_two(self.diff * self.diff)

    def backward(self) -> np.ndarray:
        return self.diff * (2.0 / self.count)


class BCELoss(Loss):
    """Binary cross-entropy on probabilities p in [0, 1].

    L = -mean(t log p + (1 - t) log(1 - p)). As in PyTorch, each log is clamped
    at -100 so p = 0 or p = 1 give a finite loss, and the gradient
    (p - t) / (p (1 - p)) / N is computed with p (1 - p) floored at 1e-12.
    """

    _LOG_FLOOR = -100.0
    _EPS = 1e-12

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        if np.any((pred < 0) | (pred > 1)):
            bad = pred[(pred < 0) | (pred > 1)].flat[0]
            raise ValueError(
                f"BCELoss needs probabilities in [0, 1], got {bad}; use a sigmoid output"
            )
        self.pred, self.target = pred, target
        self.count = pred.shape[-1] * pred.shape[-2]
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(pred), self._LOG_FLOOR)
            log_1mp = np.maximum(np.log1p(-pred), self._LOG_FLOOR)
        return _mean_last_two(-(target * log_p + (1.0 - target) * log_1mp))

    def backward(self) -> np.ndarray:
        p, t = self.pred, self.target
        return (p - t) / (np.maximum(p * (1.0 - p), self._EPS) * self.count)
