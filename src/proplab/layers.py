"""Layers with weights: Linear, its slow textbook twin (read first), and the shape helpers.

Shapes carry optional leading replica axes ``R`` (``()`` for one model):
Linear maps ``(*R, n, in)`` (or shared data ``(n, in)``) to ``(*R, n, out)``
with weight ``(*R, in, out)`` and bias ``(*R, out)``.
"""

from __future__ import annotations

import math

import numpy as np

from proplab import init as initializers
from proplab.checks import check_int
from proplab.core import Module
from proplab.module_errors import (
    forward_first,
    grad_not_an_array,
    not_an_array,
    reshaped_back,
    wrong_grad_shape,
)
from proplab.parameter import Parameter, matmul

# From this many weights on, W^T is used as a view (BLAS's transposed kernel) instead of
# a contiguous copy. A transposed copy of a wide matrix costs more than the copy saves,
# and at power-of-two widths it thrashes the cache: 149 us for 256 x 256 (a plain copy
# 12 us), where the whole (21, 256) @ (256, 256) product on the view takes 76 us.
_TRANSPOSED_COPY_LIMIT = 128 * 128


def linear_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """The textbook layer, one sample and one output at a time (slow; read it first, test
    :class:`Linear` against it): y[i, k] = sum_j x[i, j] w[j, k] + b[k].

    x ``(n, in)``, w ``(in, out)``, b ``(out,)`` or None -> y ``(n, out)``.
    """
    n, (n_in, n_out) = x.shape[0], w.shape
    y = np.zeros((n, n_out), dtype=np.result_type(x, w))
    for i in range(n):
        for k in range(n_out):
            y[i, k] = sum(x[i, j] * w[j, k] for j in range(n_in)) + (0.0 if b is None else b[k])
    return y


def linear_naive_backward(
    x: np.ndarray, w: np.ndarray, g: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The chain rule of :func:`linear_naive`, sample by sample: given g = dL/dy ``(n, out)``,
    returns dL/dx ``(n, in)``, dL/dw ``(in, out)`` and dL/db ``(out,)``.

    The local slopes are dy[i, k]/dw[j, k] = x[i, j], dy[i, k]/db[k] = 1 and
    dy[i, k]/dx[i, j] = w[j, k]; every sample's contribution to dw and db is summed (the
    loss's backward already divided by N: n * out for MSE and BCE, n for cross-entropy).
    """
    dx, dw, db = np.zeros_like(x, dtype=g.dtype), np.zeros_like(w), np.zeros(w.shape[1])
    for i in range(x.shape[0]):
        dw += np.outer(x[i], g[i])  # dy[i, k]/dw[j, k] = x[i, j]
        db += g[i]  # dy[i, k]/db[k] = 1
        dx[i] = w @ g[i]  # dL/dx[i, j] = sum_k w[j, k] g[i, k]
    return dx, dw, db


class Linear(Module):
    """y = x @ W + b: :func:`linear_naive` and :func:`linear_naive_backward` for whole
    arrays, plus optional leading replica axes and a few speed paths (each marked).

    Args:
        in_features, out_features: sizes of the last axis of input and output.
        bias: learn an additive bias (the handout has none; most students add it).
        rng: the Generator the weights are drawn from (required: no hidden seed).
        init: an initialiser from :mod:`proplab.init` (default Xavier uniform).
        replicas: leading replica shape, e.g. ``(K,)`` for a stack of K models.
        rngs: optional list of K Generators, one per replica, so replica k gets
            exactly the weights a single model built with ``rngs[k]`` would get;
            without ``replicas``, ``replicas=(K,)`` (as Dropout).
        dtype: float type of the weights and bias (default float64). A direct call
            computes in NumPy's promoted dtype of ``x`` and the weights (float64 ``x``
            through float32 weights gives float64, and so does dL/dx for a float64
            ``grad_out``); :func:`~proplab.fit` and :func:`~proplab.evaluate` cast ``x``
            to the model's dtype first.

    Shape:
        x ``(*R, n, in)`` or ``(n, in)`` -> ``(*R, n, out)``; ``weight`` is
        ``(*R, in, out)``, ``bias`` ``(*R, out)`` (zeros at first), ``R = replicas``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        rng: np.random.Generator | None = None,
        init: initializers.Initializer = initializers.xavier_uniform,
        replicas: tuple[int, ...] | int = (),
        rngs: list[np.random.Generator] | None = None,
        dtype: type = np.float64,
    ) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "Linear in_features")
        self.out_features = check_int(out_features, "Linear out_features")
        if not isinstance(bias, bool | np.bool_):
            raise TypeError(f"Linear bias must be True or False, got {bias!r}")
        replicas, rngs = initializers.replicas_and_rngs(replicas, rngs, "Linear")
        self.replicas = replicas
        w_shape = (self.in_features, self.out_features)
        w = initializers.draw_weights(
            w_shape, init, rng=rng, rngs=rngs, replicas=replicas, owner="Linear", dtype=dtype
        )
        self.weight = Parameter(w, replica_ndim=len(replicas), name="weight")
        self.params = {"weight": self.weight}
        self.bias: Parameter | None = None
        if bias:
            # Zero bias, as most lab solutions have (PyTorch and scikit-learn draw
            # it): the seed then only draws the weights.
            self.bias = Parameter(
                np.zeros(replicas + (self.out_features,), dtype), len(replicas), "bias"
            )
            self.params["bias"] = self.bias

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x @ W + b``: ``(n, in)`` -> ``(n, out)``; for a stack ``(*R, n, in)`` or shared
        ``(n, in)`` -> ``(*R, n, out)``. Keeps ``x`` for :meth:`backward`."""
        self.x = x
        try:
            out = matmul(x, self.weight.data)
        except (ValueError, TypeError, AttributeError):  # only on failure: no per-call checks
            raise self._input_error(x) from None
        if self.bias is not None:
            b = self.bias.data
            if b.ndim == 1:
                out += b
            elif self.out_features > 1 and out.size >= 256 * self.out_features:
                # A stack's bias (*R, out) broadcast over the n axis is added one
                # short row at a time (R x n inner loops of `out` elements); from a
                # few hundred rows on, a repeated copy (one long loop) is faster:
                # 1.6-1.8x on 85 replicas x 21 or 100 samples x 10 units. Same sums.
                out += np.repeat(b[..., None, :], out.shape[-2], axis=-2)
            else:
                out += b[..., None, :]  # a replica stack's bias (*R, 1, out) over the n axis
        return out

    def _input_error(self, x: object) -> Exception:
        """The clear error for an input ``forward`` could not multiply."""
        expected = f"(*R, n, {self.in_features})" if self.replicas else f"(n, {self.in_features})"
        if not isinstance(x, np.ndarray):
            return TypeError(
                f"Linear(in={self.in_features}, out={self.out_features}) takes a NumPy array "
                f"{expected}, got {type(x).__name__}; pass np.asarray(...)"
            )
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            got = "a scalar" if x.ndim == 0 else f"{x.shape[-1]} features (shape {x.shape})"
            return ValueError(
                f"Linear expects inputs {expected} with in_features={self.in_features}, got {got}"
            )
        if x.dtype.kind not in "biuf":
            return TypeError(f"Linear takes real numbers, got an array of dtype {x.dtype}")
        return ValueError(
            f"Linear: input shape {x.shape} does not fit the layer's replicas {self.replicas} "
            f"(pass shared data as (n, {self.in_features}) or stacked as {expected} "
            f"with R = {self.replicas})"
        )

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Chain rule for y = x W + b, with ``grad_out`` = dL/dy ``(*R, n, out)``.

        Adds dL/dW = x^T grad_out ``(*R, in, out)`` into ``weight.grad`` and dL/db = the
        sum of grad_out over the n samples ``(*R, out)`` into ``bias.grad``. Returns
        dL/dx = grad_out W^T with ``x``'s shape (summed over replicas for shared ``x``
        ``(n, in)``), or ``None`` when ``need_input_grad`` is False.

        Each sample i adds the outer product x_i^T g_i to dL/dW; ``x^T g`` is all n of
        them summed in one product. Likewise the bias gets g summed over samples,
        because every sample added the same b. Sums, not means: the loss's backward
        already divided by N.
        """
        try:
            x = self.x
        except AttributeError:
            raise forward_first(self, "x") from None
        # dL/dW = x^T g ; dL/db = sum of g over samples ; dL/dx = g W^T
        # x.mT: x transposed in its last two axes (x.T for one model; replica axes stay
        # in front)
        # (shared data x (n, in) feeding a replica stack: x^T broadcasts over R)
        try:
            self.weight.accumulate_matmul(x.mT, grad_out)
            if self.bias is not None:
                self.bias.accumulate_sum(grad_out, axis=-2)
        except (ValueError, TypeError, AttributeError) as exc:  # only on failure
            raise self._grad_error(grad_out, exc) from None
        if not need_input_grad:
            return None
        # dL/dx = grad_out W^T. Both branches below compute exactly that, bit for bit
        # (tests/test_replicas.py); they only choose how W^T is laid out in memory, for
        # speed in replica stacks. One model of the lab always takes the second: a matmul
        # with a contiguous copy of W^T.
        w = self.weight.data
        if w.ndim > 2 and self.out_features == 1 and grad_out.size >= 256:
            # a stack's output layer: g W^T is an outer product per replica, which
            # einsum does ~1.7x faster than a batched matmul with k = 1 on 85 x 100
            # samples (below ~256 rows its own Python-level overhead loses); same bits
            # as the single model's matmul, since each entry is one product
            # accumulated from +0 in both (signed zeros too)
            grad_in = np.einsum("...n,...i->...ni", grad_out[..., 0], w[..., 0])
        else:
            w_t = w.mT
            if w.shape[-1] * w.shape[-2] < _TRANSPOSED_COPY_LIMIT:
                # W^T as a contiguous copy: NumPy's batched matmul is up to 2x faster on
                # it than on the transposed view for a stack of small layers
                w_t = np.ascontiguousarray(w_t)
            # the choice depends on the layer's (in, out) only, never on the replicas: a
            # single model takes the same BLAS kernel (NN on the copy, NT on the view) as
            # each replica of a stack, so a stacked run equals it bit for bit
            grad_in = matmul(grad_out, w_t)
        if x.ndim < grad_in.ndim:
            # shared data feeds every replica, so its gradient is the sum over replicas
            grad_in = grad_in.sum(axis=tuple(range(grad_in.ndim - x.ndim)))
        return grad_in

    def _grad_error(self, grad_out: object, exc: Exception) -> Exception:
        """The clear error for a ``grad_out`` :meth:`backward` could not use (else ``exc``)."""
        x = self.x
        if not isinstance(grad_out, np.ndarray):
            return grad_not_an_array(self, grad_out)
        if x.ndim < 2:  # a 1-D input: forward's matmul took it, backward's x^T cannot
            return exc
        # the forward output's shape: x's rows, broadcast against the layer's replicas
        lead = np.broadcast_shapes(x.shape[:-2], self.replicas)
        return wrong_grad_shape(self, grad_out, lead + (x.shape[-2], self.out_features), exc)

    def extra_repr(self) -> str:
        r = f", replicas={self.replicas}" if self.replicas else ""
        return f"in={self.in_features}, out={self.out_features}, bias={self.bias is not None}{r}"


class Flatten(Module):
    """Merge the axes after the sample axis: by default the last two, Conv1d's
    ``(*R, n, C, L)`` -> ``(*R, n, C*L)``.

    ``sample_axis`` is the position of the sample axis counted from the end of
    the input's shape before flattening (``-3`` for Conv1d output ``(n, C, L)``).
    """

    def __init__(self, sample_axis: int = -3) -> None:
        super().__init__()
        if (
            isinstance(sample_axis, bool)
            or not isinstance(sample_axis, int | np.integer)
            or sample_axis > -2
        ):
            raise ValueError(f"sample_axis must be an integer <= -2, got {sample_axis!r}")
        self.sample_axis = int(sample_axis)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x`` reshaped to ``(*R, n, a*b*...)`` (a view where NumPy can); keeps its shape."""
        try:
            self.in_shape = x.shape
        except AttributeError:  # a list: only on failure, no per-call check
            takes = "(n, C, L)" if self.sample_axis == -3 else f"with {-self.sample_axis}+ axes"
            raise not_an_array(self, x, takes) from None
        keep = x.ndim + self.sample_axis + 1
        if keep < 1:  # too few axes: the sample axis itself would be flattened away
            raise ValueError(
                f"Flatten(sample_axis={self.sample_axis}) needs inputs of at least "
                f"{-self.sample_axis} axes, got shape {x.shape}"
            )
        try:
            return x.reshape(x.shape[:keep] + (-1,))
        except ValueError:  # no samples: -1 is ambiguous in a reshape of size 0
            return x.reshape(self._out_shape(x.shape))

    def _out_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The output's shape for an input of ``in_shape``: the axes after the samples'
        merged into one."""
        keep = len(in_shape) + self.sample_axis + 1
        return in_shape[:keep] + (math.prod(in_shape[keep:]),)

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        """``grad_out`` reshaped back to the forward input's shape (no parameters; a
        reshape has derivative 1, and ``need_input_grad`` is ignored)."""
        try:
            in_shape = self.in_shape
        except AttributeError:
            raise forward_first(self, "in_shape") from None
        return reshaped_back(self, grad_out, in_shape, self._out_shape(in_shape))
