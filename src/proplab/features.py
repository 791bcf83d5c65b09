"""Input features of two-feature data, as TensorFlow Playground offers them.

A network sees its inputs ``x1, x2``; :class:`Features` hands it chosen functions
of them instead: ``x1_sq`` (x1²), ``x1_x2`` (x1·x2), ``sin_x1``, ``sin_5x1``... With ``x1_x2``
among its inputs, XOR (the product's sign) is linearly separable, and a
network learns it in a fraction of the epochs: the classic lesson that the
right features can stand for hidden layers.

TensorFlow Playground's sin(X1) and sin(X2) are ``sin_5x1`` and ``sin_5x2`` here, sin(5 x1)
and sin(5 x2): its circle, spiral and xor lie in [-5, 5] (radius 5), the zoo's in [-1, 1]
(:mod:`proplab.zoo`: TF's points divided by :data:`TF_SCALE`), so its X1 is 5 x1. On
[-1, 1] ``sin_x1`` = sin(x1) is nearly x1 itself (a correlation of 0.999 over spiral's
points) and shows none of the stripes TF's lessons use; it stays as it is, for the runs
recorded with it.

It is a module without parameters, first in a model, so every figure that
evaluates the model on raw ``(x1, x2)`` points (decision boundaries, hidden
units) works unchanged, and its backward (dL/dx1, dL/dx2 by the chain rule) is
checked like any layer's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from proplab.checks import did_you_mean
from proplab.core import Module
from proplab.module_errors import forward_first

Array = np.ndarray


@dataclass(frozen=True)
class Feature:
    """One feature: its value and its two partial derivatives, as functions of (x1, x2)."""

    value: Callable[[Array, Array], Array]
    d_x1: Callable[[Array, Array], Array | float]
    d_x2: Callable[[Array, Array], Array | float]


# TensorFlow Playground's classification data (circle, spiral, xor: radius 5) over the zoo's
# (radius 1): its X1 is TF_SCALE * x1 here (its regression sets and plotted square are 6
# wide a side, the zoo_regression sets 1: the sin features are for the classification sets)
TF_SCALE = 5.0

FEATURES: dict[str, Feature] = {
    "x1": Feature(lambda a, b: a, lambda a, b: 1.0, lambda a, b: 0.0),
    "x2": Feature(lambda a, b: b, lambda a, b: 0.0, lambda a, b: 1.0),
    "x1_sq": Feature(lambda a, b: a * a, lambda a, b: 2.0 * a, lambda a, b: 0.0),
    "x2_sq": Feature(lambda a, b: b * b, lambda a, b: 0.0, lambda a, b: 2.0 * b),
    "x1_x2": Feature(lambda a, b: a * b, lambda a, b: b, lambda a, b: a),
    "sin_x1": Feature(lambda a, b: np.sin(a), lambda a, b: np.cos(a), lambda a, b: 0.0),
    "sin_x2": Feature(lambda a, b: np.sin(b), lambda a, b: 0.0, lambda a, b: np.cos(b)),
    # TensorFlow Playground's sin(X1), sin(X2) in the zoo's units: d/dx1 sin(5 x1) = 5 cos(5 x1)
    "sin_5x1": Feature(
        lambda a, b: np.sin(TF_SCALE * a),
        lambda a, b: TF_SCALE * np.cos(TF_SCALE * a),
        lambda a, b: 0.0,
    ),
    "sin_5x2": Feature(
        lambda a, b: np.sin(TF_SCALE * b),
        lambda a, b: 0.0,
        lambda a, b: TF_SCALE * np.cos(TF_SCALE * b),
    ),
}
# how TensorFlow Playground and a formula write them
FEATURE_ALIASES = {
    "x1^2": "x1_sq",
    "x1²": "x1_sq",
    "x2^2": "x2_sq",
    "x2²": "x2_sq",
    "x1*x2": "x1_x2",
    "x1x2": "x1_x2",
    "sin(x1)": "sin_x1",
    "sin(x2)": "sin_x2",
    "sin(5x1)": "sin_5x1",
    "sin(5*x1)": "sin_5x1",
    "sin(5x2)": "sin_5x2",
    "sin(5*x2)": "sin_5x2",
}


def feature_names(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` in canonical spelling; ValueError for an unknown name, a repeated one or
    none at all, naming what is accepted."""
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise ValueError(
            f"features: must be a list of feature names, got {names!r} "
            f"(accepted: {', '.join(FEATURES)})"
        )
    canonical = []
    for name in names:
        key = str(name).strip().lower().replace(" ", "")
        key = FEATURE_ALIASES.get(key, key)
        if key not in FEATURES:
            raise ValueError(
                f"features: unknown feature {name!r} (accepted: {', '.join(FEATURES)})"
                + did_you_mean(key, [*FEATURES, *FEATURE_ALIASES])
            )
        if key in canonical:
            raise ValueError(f"features: {key!r} is given twice")
        canonical.append(key)
    if not canonical:
        raise ValueError(f"features: at least one is needed (accepted: {', '.join(FEATURES)})")
    return tuple(canonical)


def inputs_label(names: Sequence[str]) -> str:
    """``"(x1, x2, x1_x2)"``: a network's input features where a width would stand."""
    return f"({', '.join(names)})"


class Features(Module):
    """Inputs ``(x1, x2)`` -> the chosen features, one column each.

    Args:
        names: feature names from :data:`FEATURES` (or their :data:`FEATURE_ALIASES`),
            in the order of the output's columns.

    Shape:
        x ``(*R, n, 2)`` -> ``(*R, n, k)``, ``k = len(names)``; no parameters.
    """

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__()
        self.names = feature_names(names)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The chosen features of ``x`` ``(*R, n, 2)`` -> ``(*R, n, k)``, k features in the
        order given; keeps ``x`` for :meth:`backward`."""
        if x.shape[-1] != 2:
            raise ValueError(
                f"Features takes two inputs (x1, x2) in the last axis, got shape {x.shape}"
            )
        self.x = x
        x1, x2 = x[..., 0], x[..., 1]
        return np.stack([FEATURES[name].value(x1, x2) for name in self.names], axis=-1)

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        """dL/dx_i = sum over features f of dL/df * df/dx_i (no parameters: the flag is
        ignored)."""
        try:
            x = self.x
        except AttributeError:
            raise forward_first(self, "x") from None
        x1, x2 = x[..., 0], x[..., 1]
        grad_x1 = np.zeros_like(x1)
        grad_x2 = np.zeros_like(x2)
        for column, name in enumerate(self.names):
            feature, g = FEATURES[name], grad_out[..., column]
            grad_x1 = grad_x1 + g * feature.d_x1(x1, x2)
            grad_x2 = grad_x2 + g * feature.d_x2(x1, x2)
        return np.stack([grad_x1, grad_x2], axis=-1)

    def __repr__(self) -> str:
        return f"Features({', '.join(self.names)})"


def standardize_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, std)`` of each feature of ``x`` over its samples, what :class:`Standardize`
    takes: x ``(*R, n, F)`` -> two arrays ``(*R, F)`` (float64).

    ``std`` is the population standard deviation (``ddof=0``, as scikit-learn's
    StandardScaler); a column whose rows are all equal gets ``std = 1`` instead of 0, so
    it is only centred (to exactly 0) rather than divided by zero.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2 or x.shape[-2] < 1:
        raise ValueError(f"standardize_stats takes samples (*R, n, F), n >= 1, got shape {x.shape}")
    mean = x.mean(axis=-2)
    std = x.std(axis=-2)
    # exactly constant (max == min), not "std below some epsilon": np.std of a constant
    # column can come out a rounding error above 0, and dividing by it would blow the
    # column up to +-1 noise
    constant = x.max(axis=-2) == x.min(axis=-2)
    # its mean as its value exactly (a sum of n copies of 3.3, divided by n, may not be
    # 3.3), so the column becomes exactly 0
    return np.where(constant, x[..., 0, :], mean), np.where(constant, 1.0, std)


class Standardize(Module):
    """Inputs -> ``(x - mean) / std``, feature by feature, with fixed statistics.

    The statistics are the training rows' (:func:`standardize_stats`), fixed when the
    layer is built: buffers, saved with the model (``buffer.0.mean``...) and put back by
    ``load_state_dict``, never trained. First in a model, it lets the network see inputs
    near unit scale while everything outside it (a saved model's predictions, figures
    drawn over the data's range) keeps the data's own units.

    Args:
        mean: ``(*R, F)``, subtracted from each feature.
        std: ``(*R, F)``, each feature's divisor; every entry finite and > 0.

    Shape:
        x ``(*R, n, F)`` or shared ``(n, F)`` -> ``(*R, n, F)``; no parameters. A stack
        (``R`` non-empty) holds each replica's own statistics.

    Example:
        >>> layer = Standardize(*standardize_stats(np.array([[160.0, 5.0], [180.0, 5.0]])))
        >>> layer(np.array([[160.0, 5.0], [190.0, 6.0]]))  # mean (170, 5), std (10, 1)
        array([[-1.,  0.],
               [ 2.,  1.]])
    """

    def __init__(self, mean: np.ndarray, std: np.ndarray) -> None:
        super().__init__()
        mean = np.array(mean, dtype=np.float64)  # copies: the caller's arrays stay theirs
        std = np.array(std, dtype=np.float64)
        if mean.ndim < 1 or mean.shape != std.shape:
            raise ValueError(
                f"Standardize takes mean and std of one shape (*R, F), got {mean.shape} and "
                f"{std.shape}"
            )
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)):
            raise ValueError(
                "Standardize: mean must be finite and std finite and > 0 (a constant column "
                f"takes std 1), got mean {mean!r:.80} and std {std!r:.80}"
            )
        self.mean, self.std = mean, std
        self.buffers = {"mean": self.mean, "std": self.std}

    @property
    def num_features(self) -> int:
        """``F``, the number of input columns."""
        return self.mean.shape[-1]

    @property
    def replicas(self) -> tuple[int, ...]:
        """The leading replica shape ``R`` (``()`` for one model)."""
        return self.mean.shape[:-1]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(x - mean) / std`` for x ``(*R, n, F)`` or shared ``(n, F)``; keeps x's shape
        for :meth:`backward`."""
        if not isinstance(x, np.ndarray) or x.ndim < 2 or x.shape[-1] != self.num_features:
            raise ValueError(
                f"Standardize({self.num_features} features) expects inputs (*R, n, "
                f"{self.num_features}), got {getattr(x, 'shape', type(x).__name__)}"
            )
        lead = x.shape[:-2]
        if lead and lead != self.replicas:
            raise ValueError(
                f"Standardize: input replica axes {lead} (shape {x.shape}) do not match the "
                f"layer's replicas {self.replicas}"
            )
        self.in_shape = x.shape
        mean, std = self.mean, self.std
        if x.dtype != mean.dtype and x.dtype.kind == "f":
            # a float32 model's inputs stay float32 (the float64 statistics would upcast)
            mean, std = mean.astype(x.dtype), std.astype(x.dtype)
        self.std_used = std
        # (*R, F) -> (*R, 1, F): one row of statistics for every sample of its replica
        return (x - mean[..., None, :]) / std[..., None, :]

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        """dL/dx = dL/dy / std (y = (x - mean) / std; no parameters, the flag is ignored);
        summed over the replicas for shared inputs ``(n, F)``."""
        try:
            in_shape, std = self.in_shape, self.std_used
        except AttributeError:
            raise forward_first(self, "in_shape") from None
        grad = grad_out / std[..., None, :]
        if grad.shape != in_shape:  # shared data fed every replica: add their gradients
            grad = grad.reshape(-1, *in_shape).sum(axis=0)
        return grad

    def __repr__(self) -> str:
        replicas = f", replicas={self.replicas}" if self.replicas else ""
        return f"Standardize({self.num_features}{replicas})"
