"""Element-wise activations. Shape: any input shape, output of the same shape.

Each forward keeps exactly what its backward needs: sigmoid and tanh keep their
*output* (their derivatives are written in it), ReLU keeps the mask of where x > 0
(a NaN counted in, as PyTorch) and LeakyReLU its local slope (1 or the negative slope).

Dtypes, in a direct call: ReLU's, LeakyReLU's and Identity's backward return dL/dx in
NumPy's promoted dtype of ``grad_out`` and what forward kept; Sigmoid's and Tanh's write
it into an array of their output's dtype, so a float32 Sigmoid given a float64
``grad_out`` returns float32. (Promoting there too would take a dtype test on every
call; in :func:`~proplab.fit` every array has the model's dtype, so nothing differs.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from proplab.checks import short_repr
from proplab.core import Module
from proplab.module_errors import forward_first, wrong_grad_shape

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


_ZERO = {dtype: np.zeros((), dtype=dtype) for dtype in _ONE}
for _constant in _ZERO.values():
    _constant.flags.writeable = False


def _zero(dtype: np.dtype) -> np.ndarray | float:
    """The constant 0 as a 0-d array of ``dtype`` (any other dtype: the float 0.0)."""
    return _ZERO.get(dtype, 0.0)


# True only inside proplab.train.fit, which runs under np.errstate(over="ignore"):
# there exp(-x) may overflow to inf harmlessly (1 / (1 + inf) = 0, the right
# value), so the clamp below, one NumPy call per sigmoid, can be skipped.
_OVERFLOW_IGNORED = False


@contextmanager
def overflow_ignored() -> Iterator[None]:
    """Run a block under ``np.errstate(over="ignore", invalid="ignore")`` with the sigmoid's
    overflow clamp off (training loops use it). Results are the same except far in the
    saturated tail: below x = -708.8 (float64; -87.7 for float32) the clamped sigmoid
    stays at ~1e-308 (float32 ~1e-38) while the unclamped one falls to smaller values
    and then 0, as PyTorch's does."""
    global _OVERFLOW_IGNORED
    previous = _OVERFLOW_IGNORED
    with np.errstate(over="ignore", invalid="ignore"):
        _OVERFLOW_IGNORED = True
        try:
            yield
        finally:
            _OVERFLOW_IGNORED = previous


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-x)), with no overflow warning for any finite x.

    Any shape -> the same shape, a new float array (integers are computed as float64).
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    if x.ndim == 0:  # ufuncs return scalars for 0-d input; keep the in-place steps on arrays
        return _sigmoid(x.reshape(1)).reshape(())
    return _sigmoid(x)


def _sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Sigmoid of a float array into a new array (or into ``out``), in four or five NumPy calls.

    exp(-x) overflows for x below -log(max float): clamp first, so no warning.
    (Measured: on one model's (21, 10) layer one fresh array from negative is
    faster than allocating ``out`` first; divide(1, s) beats reciprocal(s) on stacks.)
    """
    if not _OVERFLOW_IGNORED:
        x = np.maximum(x, -_EXP_LIMIT[x.dtype])
    # without out: one fresh array, the rest in place in it (out=None is not
    # passed: NumPy parses every keyword it gets, ~0.05 us each, 3 sigmoids an epoch)
    # s = 1 / (1 + exp(-x)), read inside out, in one array: s = -x; s = exp(s); s = s + 1;
    # s = 1 / s
    s = np.negative(x) if out is None else np.negative(x, out=out)
    np.exp(s, out=s)
    one = _one(s.dtype)
    np.add(s, one, out=s)
    return np.divide(one, s, out=s)


def _real_array(module: Module, x: object) -> np.ndarray:
    """``x`` as an array of real numbers, for a forward that failed on it: a list is
    converted (as ``np.tanh`` and :func:`sigmoid` take one), text or objects are a
    TypeError naming them. Called on the failure path only: no per-call check."""
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        got = f"an array of dtype {x.dtype}" if isinstance(x, np.ndarray) else short_repr(x)
        raise TypeError(f"{type(module).__name__} takes real numbers, got {got}")
    return array


# The element-wise activations below take an optional ``out`` (an array of the
# result's shape, never their input): PerReplica has each block of a replica
# stack written straight into its slice of one array instead of copying it there.


class Sigmoid(Module):
    """sigma(x) = 1 / (1 + e^-x);  d sigma / dx = s (1 - s), written in the output s.

    Shape: any shape -> the same shape (element-wise).
    """

    supports_out = True

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """1 / (1 + exp(-x)), element-wise: ``x`` of any shape -> the same shape.

        Keeps the output s for :meth:`backward`.
        ``out``: optional array of the result's shape (never ``x`` itself) to write the
        result into; PerReplica passes its slice of a stack's output so nothing is copied.
        """
        try:
            self.s = _sigmoid(x, out)
        except (KeyError, TypeError, AttributeError):  # only on failure: no per-call checks
            # integers, lists (a Linear layer's output is always a float array): as
            # sigmoid() does
            floats = _real_array(self, x)
            if np.issubdtype(floats.dtype, np.floating):
                if floats is x:
                    raise  # not the input's type (a float type with no clamp, an ``out``)
            else:
                floats = floats.astype(np.float64)
            self.s = _sigmoid(floats, out)
        return self.s

    def backward(
        self, grad_out: np.ndarray, need_input_grad: bool = True, out: np.ndarray | None = None
    ) -> np.ndarray:
        """dL/dx = ``grad_out`` * s (1 - s), with ``grad_out``'s (= ``x``'s) shape and s's
        dtype (see the module docstring).

        Uses what the last :meth:`forward` kept. ``need_input_grad`` is ignored (no
        parameters: the input gradient is all there is). ``out``: as in :meth:`forward`.
        """
        try:
            s = self.s
        except AttributeError:
            raise forward_first(self, "s") from None
        # dL/dx = dL/ds * s (1 - s), computed in one fresh array (or in out), in place
        # step by step; _one(dtype) is the number 1 (a 0-d array: NumPy skips a conversion)
        one = _one(s.dtype)
        grad_in = np.subtract(one, s) if out is None else np.subtract(one, s, out=out)
        grad_in *= s  # the local derivative ds/dx = s (1 - s)
        try:
            grad_in *= grad_out  # the chain rule: dL/dx = dL/ds * ds/dx
        except ValueError as exc:  # only on failure: both shapes named, not NumPy's words
            raise wrong_grad_shape(self, grad_out, s.shape, exc) from None
        return grad_in


class Tanh(Module):
    """tanh(x);  d tanh / dx = 1 - t^2, written in the output t.

    Shape: any shape -> the same shape (element-wise).
    """

    supports_out = True

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """tanh(x), element-wise: ``x`` of any shape -> the same shape.

        Keeps the output t for :meth:`backward`.
        ``out``: optional array of the result's shape (never ``x`` itself) to write the
        result into; PerReplica passes its slice of a stack's output so nothing is copied.
        """
        try:
            self.t = np.tanh(x, out=out)
        except TypeError:  # text, objects (np.tanh converts a list of numbers itself)
            _real_array(self, x)
            raise
        return self.t

    def backward(
        self, grad_out: np.ndarray, need_input_grad: bool = True, out: np.ndarray | None = None
    ) -> np.ndarray:
        """dL/dx = ``grad_out`` * (1 - t^2), with ``grad_out``'s (= ``x``'s) shape and t's
        dtype (see the module docstring).

        Uses what the last :meth:`forward` kept. ``need_input_grad`` is ignored (no
        parameters: the input gradient is all there is). ``out``: as in :meth:`forward`.
        """
        try:
            t = self.t
        except AttributeError:
            raise forward_first(self, "t") from None
        # dL/dx = dL/dt * (1 - t^2), in one array (or in out); _one(dtype) is the number 1
        grad_in = np.multiply(t, t, out=out)
        np.subtract(_one(t.dtype), grad_in, out=grad_in)  # the local derivative 1 - t^2
        try:
            grad_in *= grad_out  # the chain rule: dL/dx = dL/dt * dt/dx
        except ValueError as exc:  # only on failure: both shapes named, not NumPy's words
            raise wrong_grad_shape(self, grad_out, t.shape, exc) from None
        return grad_in


class ReLU(Module):
    """max(0, x);  derivative 1 where x > 0, else 0 (PyTorch's choice at x = 0).

    Shape: any shape -> the same shape (element-wise).
    """

    supports_out = True

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """max(0, x), element-wise: ``x`` of any shape -> the same shape.

        Keeps the mask "not x <= 0" for :meth:`backward`.
        ``out``: optional array of the result's shape (never ``x`` itself) to write the
        result into; PerReplica passes its slice of a stack's output so nothing is copied.
        """
        try:
            # not (x <= 0) rather than x > 0: a NaN input passes its gradient through, as
            # PyTorch's threshold_backward does, so a NaN stays visible below it
            self.mask = ~(x <= 0)
            # max(x, 0): 0 (not x * 0 = -0.0) for negative x, 0 (not NaN) at -inf, as PyTorch
            return np.maximum(x, _zero(x.dtype), out=out)
        except (TypeError, AttributeError):  # a list, text: only on failure, no per-call check
            array = _real_array(self, x)
            if array is x:
                raise
            return self.forward(array, out)

    def backward(
        self, grad_out: np.ndarray, need_input_grad: bool = True, out: np.ndarray | None = None
    ) -> np.ndarray:
        """dL/dx = ``grad_out`` * (x > 0), with ``grad_out``'s (= ``x``'s) shape (and
        ``grad_out`` itself where x was NaN, as PyTorch).

        Uses what the last :meth:`forward` kept. ``need_input_grad`` is ignored (no
        parameters: the input gradient is all there is). ``out``: as in :meth:`forward`.
        """
        try:
            return np.multiply(grad_out, self.mask, out=out)
        except AttributeError:
            raise forward_first(self, "mask") from None
        except ValueError as exc:  # only on failure: both shapes named, not NumPy's words
            raise wrong_grad_shape(self, grad_out, self.mask.shape, exc) from None


class LeakyReLU(Module):
    """x if x > 0 else slope * x;  derivative 1 or slope (``negative_slope``, default 0.01).

    Shape: any shape -> the same shape (element-wise).
    """

    supports_out = True

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        if (
            isinstance(negative_slope, bool)
            or not isinstance(negative_slope, int | float | np.number)
            or not np.isfinite(negative_slope)
            or negative_slope < 0
        ):
            raise ValueError(f"negative_slope must be a finite number >= 0, got {negative_slope!r}")
        self.negative_slope = float(negative_slope)

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """x if x > 0 else slope * x, element-wise: ``x`` of any shape -> the same shape.

        Keeps the local slope (1 or slope) for :meth:`backward`.
        ``out``: optional array of the result's shape (never ``x`` itself) to write the
        result into; PerReplica passes its slice of a stack's output so nothing is copied.
        """
        # the slope in the input's float dtype: cast to an integer input's dtype, 0.01
        # became 0 and negative inputs came out as 0
        try:
            dtype = x.dtype if x.dtype.kind == "f" else np.float64
            self.slope = np.where(x > 0, 1.0, self.negative_slope).astype(dtype, copy=False)
            return np.multiply(x, self.slope, out=out)
        except (TypeError, AttributeError):  # a list, text: only on failure, no per-call check
            array = _real_array(self, x)
            if array is x:
                raise
            return self.forward(array, out)

    def backward(
        self, grad_out: np.ndarray, need_input_grad: bool = True, out: np.ndarray | None = None
    ) -> np.ndarray:
        """dL/dx = ``grad_out`` * (1 if x > 0 else slope), with ``grad_out``'s (= ``x``'s) shape.

        Uses what the last :meth:`forward` kept. ``need_input_grad`` is ignored (no
        parameters: the input gradient is all there is). ``out``: as in :meth:`forward`.
        """
        try:
            return np.multiply(grad_out, self.slope, out=out)
        except AttributeError:
            raise forward_first(self, "slope") from None
        except ValueError as exc:  # only on failure: both shapes named, not NumPy's words
            raise wrong_grad_shape(self, grad_out, self.slope.shape, exc) from None

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Identity(Module):
    """No activation at all: f(x) = x (the lab's "without activation" experiment).

    Shape: any shape -> the same shape. Takes no ``out`` argument.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x`` itself (not a copy)."""
        return x

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        """``grad_out`` itself: dL/dx = dL/dy. ``need_input_grad`` is ignored."""
        return grad_out
