"""Element-wise activations. Shape: any input shape, output of the same shape.

Each forward keeps exactly what its backward needs: sigmoid and tanh keep their
*output* (their derivatives are written in it), ReLU keeps the input's sign.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from proplab.core import Module

# exp(x) overflows just above log(max float); clamping there keeps every finite
# input warning-free and changes sigmoid by less than the smallest normal float.
_EXP_LIMIT = {
    np.dtype(t): float(np.log(np.finfo(t).max)) - 1.0 for t in (np.float16, np.float32, np.float64)
}


# NumPy 2 converts a Python float operand on every ufunc call (~0.25 us, as
# long as the arithmetic on a small layer); a 0-d array of the data's dtype is
# taken as is and gives the same result.
_ONE = {np.dtype(t): np.ones((), dtype=t) for t in (np.float16, np.float32, np.float64)}
for _constant in _ONE.values():
    _constant.flags.writeable = False


def _one(dtype: np.dtype) -> np.ndarray | float:
    """The constant 1 as a 0-d array of ``dtype`` (any other dtype: the float 1.0)."""
    return _ONE.get(dtype, 1.0)


# True only inside proplab.train.fit, which runs under np.errstate(over="ignore"):
# there exp(-x) may overflow to inf harmlessly (1 / (1 + inf) = 0, the right
# value), so the clamp below, one NumPy call per sigmoid, can be skipped.
_OVERFLOW_IGNORED = False


@contextmanager
def overflow_ignored() -> Iterator[None]:
    """Run a block under ``np.errstate(over="ignore", invalid="ignore")`` with the sigmoid's
    overflow clamp off (training loops use it; results are identical)."""
    global _OVERFLOW_IGNORED
    previous = _OVERFLOW_IGNORED
    with np.errstate(over="ignore", invalid="ignore"):
        _OVERFLOW_IGNORED = True
        try:
            yield
        finally:
            _OVERFLOW_IGNORED = previous


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-x)), with no overflow warning for any finite x."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    if x.ndim == 0:  # ufuncs return scalars for 0-d input; keep the in-place steps on arrays
        return _sigmoid(x.reshape(1)).reshape(())
    return _sigmoid(x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Sigmoid of a float array into a new array, in five NumPy calls.

    exp(-x) overflows for x below -log(max float): clamp first, so no warning.
    (Measured: exp into a fresh array is ~2x faster than exp in place on a
    (64, 21, 10) stack, and divide(1, s) beats reciprocal(s).)
    """
    t = np.negative(x if _OVERFLOW_IGNORED else np.maximum(x, -_EXP_LIMIT[x.dtype]))
    s = np.exp(t)
    one = _one(s.dtype)
    np.add(s, one, out=s)
    return np.divide(one, s, out=s)


class Sigmoid(Module):
    """sigma(x) = 1 / (1 + e^-x);  d sigma / dx = s (1 - s), written in the output s."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = _sigmoid(x)
        return self.out

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        s = self.out
        # dL/dx = dL/ds * s (1 - s), computed in one fresh array
        local = np.subtract(_one(s.dtype), s)
        local *= s
        local *= grad_out
        return local


class Tanh(Module):
    """tanh(x);  d tanh / dx = 1 - t^2, written in the output t."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        t = self.out
        # dL/dx = dL/dt * (1 - t^2)
        local = np.multiply(t, t)
        np.subtract(_one(t.dtype), local, out=local)
        local *= grad_out
        return local


class ReLU(Module):
    """max(0, x);  derivative 1 where x > 0, else 0 (PyTorch's choice at x = 0)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x > 0
        return x * self.mask

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        return grad_out * self.mask


class LeakyReLU(Module):
    """x if x > 0 else slope * x;  derivative 1 or slope."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        if not np.isfinite(negative_slope) or negative_slope < 0:
            raise ValueError(f"negative_slope must be a finite number >= 0, got {negative_slope}")
        self.negative_slope = float(negative_slope)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.slope = np.where(x > 0, 1.0, self.negative_slope).astype(x.dtype, copy=False)
        return x * self.slope

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        return grad_out * self.slope

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Identity(Module):
    """No activation at all: f(x) = x (the lab's "without activation" experiment)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        return grad_out
