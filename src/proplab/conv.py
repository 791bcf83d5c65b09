"""Conv1d in PyTorch's ``(n, channels, length)`` layout, its naive twin, and Unsqueeze.

The maths (a cross-correlation, as in PyTorch): with ``xp`` the input
zero-padded by ``padding`` at both ends,

    out[i, o, t] = b[o] + sum_{c, j} w[o, c, j] * xp[i, c, t * stride + j * dilation]

and ``L_out = (L + 2 * padding - dilation * (k - 1) - 1) // stride + 1``.

Two implementations of that one formula live here:

* :func:`conv1d_naive` and :func:`conv1d_naive_backward` are the readable
  version: the formula written as the obvious loops over sample, filter,
  position, channel and tap. They are slow (seconds for a modest batch) and
  exist to be read and to check the fast one against.
* :class:`Conv1d` is the same computation vectorised ("im2col"): a strided
  view lays every receptive field out as one column, so the whole convolution is
  one matrix product ``(O, C * k) @ (C * k, n * L_out)``. Its backward is two
  more products plus a scatter-add over the ``k`` taps ("col2im").

Shapes carry optional leading replica axes ``R`` like every proplab module:
weight ``(*R, O, C, k)``, bias ``(*R, O)``, input ``(*R, n, C, L)`` or shared
``(n, C, L)``, output ``(*R, n, O, L_out)``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from proplab import init as initializers
from proplab.checks import check_int, is_whole
from proplab.core import Module
from proplab.module_errors import (
    forward_first,
    not_an_array,
    reshaped_back,
)
from proplab.parameter import Parameter


def _check_geometry_args(kernel_size: int, stride: int, padding: int, dilation: int) -> None:
    for label, value, low in (
        ("kernel_size", kernel_size, 1),
        ("stride", stride, 1),
        ("dilation", dilation, 1),
        ("padding", padding, 0),
    ):
        check_int(value, f"Conv1d: {label}", low)


def conv1d_output_length(
    length: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """``L_out`` for an input of ``length``; ValueError naming the numbers if none fits.

    >>> conv1d_output_length(2, kernel_size=3, padding=1)
    2
    """
    _check_geometry_args(kernel_size, stride, padding, dilation)
    if isinstance(length, bool) or not isinstance(length, int | np.integer):
        raise ValueError(f"Conv1d: input length must be an integer, got {length!r}")
    padded = length + 2 * padding
    span = dilation * (kernel_size - 1) + 1  # how far one filter reaches
    if length <= 0 or padded < span:
        need = max(0, -(-(span - length) // 2))
        raise ValueError(
            f"Conv1d: input length {length} + 2*padding {padding} = {padded} is shorter than "
            f"the dilated kernel {span} (dilation {dilation} * (kernel_size {kernel_size} - 1) + 1), "
            f"so the output length would be {(padded - span) // stride + 1} <= 0; "
            f"use padding >= {need} or a smaller kernel"
        )
    return (padded - span) // stride + 1


# ----------------------------------------------------------------------------
# The readable version: the formula as loops (single model, no replica axes).
# ----------------------------------------------------------------------------


def conv1d_naive(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
) -> np.ndarray:
    """Forward pass by the definition. x ``(n, C, L)``, weight ``(O, C, k)``, bias ``(O,)``.

    Returns ``(n, O, L_out)``.
    """
    n, channels, length = x.shape
    filters, _, k = weight.shape
    length_out = conv1d_output_length(length, k, stride, padding, dilation)
    out = np.zeros((n, filters, length_out), dtype=np.result_type(x, weight))
    for i in range(n):
        for o in range(filters):
            for t in range(length_out):
                total = 0.0 if bias is None else bias[o]
                for c in range(channels):
                    for j in range(k):
                        pos = t * stride + j * dilation - padding  # index into unpadded x
                        if 0 <= pos < length:  # outside it the padding is zero
                            total += weight[o, c, j] * x[i, c, pos]
                out[i, o, t] = total
    return out


def conv1d_naive_backward(
    x: np.ndarray,
    weight: np.ndarray,
    grad_out: np.ndarray,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dx, dw, db)`` by the definition: each product in the forward sum sends its
    upstream gradient to both factors (chain rule, one term at a time).

    x ``(n, C, L)``, weight ``(O, C, k)``, grad_out ``(n, O, L_out)``.
    """
    n, channels, length = x.shape
    filters, _, k = weight.shape
    length_out = grad_out.shape[-1]
    dx = np.zeros(x.shape, dtype=np.result_type(x, grad_out))
    dw = np.zeros(weight.shape, dtype=np.result_type(weight, grad_out))
    db = np.zeros(filters, dtype=dw.dtype)
    for i in range(n):
        for o in range(filters):
            for t in range(length_out):
                g = grad_out[i, o, t]
                db[o] += g
                for c in range(channels):
                    for j in range(k):
                        pos = t * stride + j * dilation - padding
                        if 0 <= pos < length:
                            dx[i, c, pos] += weight[o, c, j] * g
                            dw[o, c, j] += x[i, c, pos] * g
    return dx, dw, db


# ----------------------------------------------------------------------------
# The module.
# ----------------------------------------------------------------------------


class Conv1d(Module):
    """1-D convolution (cross-correlation, as PyTorch) over ``(n, channels, length)``.

    Args:
        in_channels, out_channels: ``C`` and ``O``.
        kernel_size: taps per filter ``k``.
        stride, padding, dilation: as in ``torch.nn.Conv1d`` (zero padding on both ends).
        bias: learn one additive bias per filter (zero at start, like :class:`Linear`).
        rng: the Generator the weights are drawn from (required: no hidden seed).
        init: an initialiser from :mod:`proplab.init`, called with
            ``fan_in = C * k`` and ``fan_out = O * k`` (default Xavier uniform).
        replicas: leading replica shape, e.g. ``(K,)`` for a stack of K models.
        rngs: optional list of K Generators, one per replica, so replica k gets
            exactly the weights a single layer built with ``rngs[k]`` would get;
            without ``replicas``, ``replicas=(K,)`` (as Dropout).
        dtype: the parameters' dtype (default float64).

    Shape:
        x ``(*R, n, C, L)`` or shared ``(n, C, L)`` -> ``(*R, n, O, L_out)``;
        weight ``(*R, O, C, k)``, bias ``(*R, O)``.

    Example:
        >>> conv = Conv1d(1, 4, 3, padding=1, rng=np.random.default_rng(0))
        >>> conv(np.ones((5, 1, 2))).shape
        (5, 4, 2)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        bias: bool = True,
        *,
        rng: np.random.Generator | None = None,
        init: initializers.Initializer = initializers.xavier_uniform,
        replicas: tuple[int, ...] | int = (),
        rngs: list[np.random.Generator] | None = None,
        dtype: type = np.float64,
    ) -> None:
        super().__init__()
        for label, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            check_int(value, f"Conv1d: {label}")
        if not isinstance(bias, bool | np.bool_):
            raise TypeError(f"Conv1d: bias must be True or False, got {bias!r}")
        _check_geometry_args(kernel_size, stride, padding, dilation)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride = int(kernel_size), int(stride)
        self.padding, self.dilation = int(padding), int(dilation)
        replicas, rngs = initializers.replicas_and_rngs(replicas, rngs, "Conv1d")
        self.replicas = replicas
        self._length_out: dict[int, int] = {}
        # the one input length this layer was built for (conv_net sets it), or None for any
        self.input_length: int | None = None
        w_shape = (self.out_channels, self.in_channels, self.kernel_size)
        # PyTorch's fans for a conv weight: every output sees C*k inputs, every input feeds O*k outputs
        fans = {"fan_in": self.in_channels * self.kernel_size}
        fans["fan_out"] = self.out_channels * self.kernel_size
        w = initializers.draw_weights(
            w_shape,
            init,
            rng=rng,
            rngs=rngs,
            replicas=replicas,
            owner="Conv1d",
            dtype=dtype,
            **fans,
        )
        self.weight = Parameter(w, replica_ndim=len(replicas), name="weight")
        self.params = {"weight": self.weight}
        self.bias: Parameter | None = None
        if bias:
            self.bias = Parameter(
                np.zeros(replicas + (self.out_channels,), dtype), len(replicas), "bias"
            )
            self.params["bias"] = self.bias

    def output_length(self, length: int) -> int:
        """``L_out`` for inputs of ``length`` (ValueError naming the numbers if none fits)."""
        return conv1d_output_length(
            length, self.kernel_size, self.stride, self.padding, self.dilation
        )

    def _check_input(self, x: np.ndarray) -> int:
        try:
            bad = x.ndim < 3 or x.shape[-2] != self.in_channels
        except AttributeError:  # a list, say: caught here so valid arrays pay nothing
            raise TypeError(
                f"Conv1d takes a NumPy array (n, {self.in_channels}, length), got "
                f"{type(x).__name__}; pass np.asarray(...)"
            ) from None
        if bad:
            raise ValueError(
                f"Conv1d expects input (*R, n, {self.in_channels}, length) "
                f"(in_channels={self.in_channels}), got shape {x.shape}"
            )
        lead = x.shape[:-3]
        if lead and lead != self.replicas:
            raise ValueError(
                f"Conv1d: input replica axes {lead} do not match the layer's replicas "
                f"{self.replicas} (pass shared data as (n, C, L) or stacked as (*R, n, C, L))"
            )
        length = x.shape[-1]
        known = self._length_out.get(length)
        if known is None:  # validate each new input length once
            if self.input_length is not None and length != self.input_length:
                raise ValueError(
                    f"Conv1d was built for inputs of length {self.input_length} "
                    f"(conv_net's in_features={self.input_length}), got length {length} (shape {x.shape})"
                )
            known = self._length_out[length] = self.output_length(length)
        return known

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(*R, n, C, L)`` or shared ``(n, C, L)`` -> ``(*R, n, O, L_out)``; keeps the im2col
        matrix for :meth:`backward`."""
        length_out = self._check_input(x)
        p, s, d, k = self.padding, self.stride, self.dilation, self.kernel_size
        if p:
            xp = np.zeros(x.shape[:-1] + (x.shape[-1] + 2 * p,), dtype=x.dtype)
            xp[..., p:-p] = x
        else:
            xp = x
        # im2col: a read-only strided view (*Rx, C, k, n, L_out) whose entry
        # [c, j, i, t] is xp[i, c, t * stride + j * dilation]; the reshape copies
        # it into one (C * k, n * L_out) matrix. Positions stay on the last axis
        # so every later copy, sum and broadcast runs along long contiguous rows.
        *lead, n, channels, _ = xp.shape
        *st, st_n, st_c, st_l = xp.strides
        # one output position reads nothing at the stride: a stride beyond the input
        # (1e30, say) would otherwise overflow the view's byte strides
        step = s if length_out > 1 else 1
        windows = as_strided(
            xp,
            shape=(*lead, channels, k, n, length_out),
            strides=(*st, st_c, d * st_l, st_n, step * st_l),
            writeable=False,
        )
        cols = windows.reshape(*lead, channels * k, n * length_out)
        w = self.weight.data
        # out[o, (i, t)] = sum_{(c, j)} w[o, (c, j)] * cols[(c, j), (i, t)]: one matrix product
        out = w.reshape(w.shape[:-2] + (channels * k,)) @ cols
        if self.bias is not None:
            out += self.bias.data[..., None]
        self.x_shape, self.cols, self.length_out = x.shape, cols, length_out
        # (*R, O, n * L_out) -> (*R, n, O, L_out), copied to C order: the layers after it
        # (activation, Flatten) then run on contiguous rows and Flatten needs no copy
        # (measured on the lab's conv stacks: the epoch ~15 % faster than returning the view)
        return np.ascontiguousarray(out.reshape(out.shape[:-1] + (n, length_out)).swapaxes(-3, -2))

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Chain rule through out = W cols + b, with ``grad_out`` = dL/dout ``(*R, n, O, L_out)``.

        Adds dL/dW = g cols^T ``(*R, O, C, k)`` into ``weight.grad`` and dL/db = g summed
        over samples and positions ``(*R, O)`` into ``bias.grad``. Returns dL/dx
        ``(*R, n, C, L)`` (summed over replicas for shared ``x``), or None when
        ``need_input_grad`` is False: dcols = W^T g, then each tap j adds its rows back
        at the positions it read (t * stride + j * dilation), summing where windows
        overlap ("col2im").
        """
        try:
            cols = self.cols
        except AttributeError:
            raise forward_first(self, "cols") from None
        k, w = self.kernel_size, self.weight.data
        channels, filters = self.in_channels, self.out_channels
        # g[o, (i, t)]: the upstream gradient in the layout of the forward product
        # (one copy of grad_out, which arrives in forward's C-order (n, O, L_out) layout)
        g = grad_out.swapaxes(-3, -2)
        g = g.reshape(g.shape[:-3] + (filters, -1))
        # dL/dw = g cols^T ; dL/db = sum of g over samples and positions
        self.weight.accumulate((g @ cols.mT).reshape(w.shape))
        if self.bias is not None:
            self.bias.accumulate_sum(g, axis=-1)
        if not need_input_grad:
            return None
        # dL/dcols = w^T g, then col2im: tap j sends its rows back to the input
        # positions it read (t * stride + j * dilation), summing where they overlap.
        dcols = w.reshape(w.shape[:-2] + (channels * k,)).mT @ g
        n, length = self.x_shape[-3], self.x_shape[-1]
        length_out, s, d, p = self.length_out, self.stride, self.dilation, self.padding
        dcols = dcols.reshape(dcols.shape[:-2] + (channels, k, n, length_out))
        # dxp is laid out (*R, C, n, Lp) like dcols, so each tap's add runs over
        # matching contiguous rows; the (n, C, L) result is a transposed view.
        dxp = np.zeros(dcols.shape[:-4] + (channels, n, length + 2 * p), dtype=dcols.dtype)
        stop = s * (length_out - 1) + 1
        for j in range(k):
            # dcols[..., c, j, i, t] -> dxp[..., c, i, t * stride + j * dilation]
            dxp[..., j * d : j * d + stop : s] += dcols[..., j, :, :]
        dx = (dxp[..., p : p + length] if p else dxp).swapaxes(-3, -2)
        if len(self.x_shape) < dx.ndim:
            # shared data feeds every replica, so its gradient is the sum over replicas
            dx = dx.sum(axis=tuple(range(dx.ndim - len(self.x_shape))))
        return dx

    def extra_repr(self) -> str:
        parts = [f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"]
        for name, default in (("stride", 1), ("padding", 0), ("dilation", 1)):
            if getattr(self, name) != default:
                parts.append(f"{name}={getattr(self, name)}")
        if self.bias is None:
            parts.append("bias=False")
        if self.replicas:
            parts.append(f"replicas={self.replicas}")
        return ", ".join(parts)


class Conv1dNaive(Conv1d):
    """:class:`Conv1d` computed by :func:`conv1d_naive`'s loops, replica by replica.

    Same constructor, parameters, shapes, dtypes and errors as Conv1d; only the
    arithmetic is the slow, obviously-correct one. Tests and benchmarks use it as
    the twin.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        """As :meth:`Conv1d.forward`, computed by :func:`conv1d_naive` per replica."""
        length_out = self._check_input(x)
        w, b = self.weight.data, None if self.bias is None else self.bias.data
        lead = self.replicas
        dtype = np.result_type(x, w)  # as Conv1d's product: float32 stays float32
        out = np.zeros(lead + (x.shape[-3], self.out_channels, length_out), dtype=dtype)
        for r in np.ndindex(lead):
            xr = x[r] if x.ndim > 3 else x
            out[r] = conv1d_naive(
                xr, w[r], None if b is None else b[r], self.stride, self.padding, self.dilation
            )
        self.x = x
        return out

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """As :meth:`Conv1d.backward`, computed by :func:`conv1d_naive_backward` per replica."""
        try:
            x = self.x
        except AttributeError:
            raise forward_first(self, "x") from None
        w = self.weight.data
        dtype = np.result_type(w, grad_out)  # as Conv1d's dcols = W^T g
        dw, db = np.zeros_like(w), np.zeros(w.shape[:-2], dtype=w.dtype)
        dx = np.zeros(self.replicas + x.shape[-3:] if x.ndim > 3 else x.shape, dtype=dtype)
        for r in np.ndindex(self.replicas):
            xr = x[r] if x.ndim > 3 else x
            dxr, dw[r], db[r] = conv1d_naive_backward(
                xr, w[r], grad_out[r], self.stride, self.padding, self.dilation
            )
            if x.ndim > 3:
                dx[r] = dxr
            else:
                dx += dxr  # shared input: sum over replicas
        self.weight.accumulate(dw)
        if self.bias is not None:
            self.bias.accumulate(db)
        return dx if need_input_grad else None


class Unsqueeze(Module):
    """Insert a length-1 axis: ``(*R, n, F)`` -> ``(*R, n, 1, F)`` with the default ``axis=-2``.

    Reads ``F`` features as a one-channel signal of length ``F`` for :class:`Conv1d`.
    ``axis`` counts from the end of the *output* shape (negative), so replica
    axes in front are untouched.
    """

    def __init__(self, axis: int = -2) -> None:
        super().__init__()
        if not is_whole(axis) or axis >= 0:
            raise ValueError(f"Unsqueeze: axis must be a negative integer, got {axis!r}")
        self.axis = int(axis)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(*R, n, F)`` -> ``(*R, n, 1, F)`` (with the default ``axis=-2``), a view."""
        try:
            ndim = x.ndim
        except AttributeError:  # a list: only on failure, no per-call check
            takes = "(n, F)" if self.axis == -2 else f"with {max(-self.axis - 1, 1)}+ axes"
            raise not_an_array(self, x, takes) from None
        if -self.axis > ndim + 1:
            raise ValueError(
                f"Unsqueeze(axis={self.axis}) needs an input of at least {-self.axis - 1} "
                f"axes, got shape {x.shape}"
            )
        # a reshape (a view): np.expand_dims gives the same array but costs ~2 us
        # of Python per call, as much as a small layer's arithmetic
        self.in_shape = x.shape
        cut = x.ndim + 1 + self.axis
        return x.reshape(x.shape[:cut] + (1,) + x.shape[cut:])

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """dL/dx: ``grad_out`` ``(*R, n, 1, F)`` reshaped back to the input's ``(*R, n, F)``."""
        if not need_input_grad:
            return None
        try:
            in_shape = self.in_shape
        except AttributeError:
            raise forward_first(self, "in_shape") from None
        cut = len(in_shape) + 1 + self.axis
        return reshaped_back(self, grad_out, in_shape, in_shape[:cut] + (1,) + in_shape[cut:])

    def extra_repr(self) -> str:
        return f"axis={self.axis}"
