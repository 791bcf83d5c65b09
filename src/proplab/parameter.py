"""Parameter: a trainable array and its gradient, and the matrix product its gradients
accumulate through (:func:`matmul`, also the layers' forward and backward product).

Every array may carry leading *replica* axes: a stack of ``K`` independent
models is one model whose weights are ``(K, in, out)`` instead of ``(in, out)``.
"""

from __future__ import annotations

import numpy as np

_ONES_ROWS: dict[tuple[int, np.dtype], np.ndarray] = {}


def _ones_row(n: int, dtype: np.dtype) -> np.ndarray:
    """A cached read-only ``(1, n)`` row of ones (sums over the sample axis as a matmul)."""
    key = (n, dtype)
    row = _ONES_ROWS.get(key)
    if row is None:
        if len(_ONES_ROWS) > 64:
            _ONES_ROWS.clear()
        row = np.ones((1, n), dtype=dtype)
        row.flags.writeable = False
        _ONES_ROWS[key] = row
    return row


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` (written into ``out`` if given), as ``np.matmul`` computes it.

    Shapes: ``(*R, n, k) @ (*R, k, m) -> (*R, n, m)``. Two contiguous (or
    transposed) matrices go through ``np.dot``, which calls the same BLAS
    ``gemm`` with less dispatch: 0.6-1.0 us instead of 1.2-1.7 us on the lab's
    ``(21, 10)`` layers, where a model makes ~11 products per epoch. The bits
    are the same as ``np.matmul``'s, 2-D or batched (tests/test_core.py); a
    strided view may differ (NumPy's matmul then skips BLAS), so it and every
    replica stack keep ``np.matmul``.
    """
    # flags.forc: C- or Fortran-contiguous (a transposed matrix is). The method
    # a.dot is np.dot without its __array_function__ dispatcher (~0.07 us less)
    if a.ndim == 2 and b.ndim == 2 and a.flags.forc and b.flags.forc:
        try:
            return a.dot(b, out=out)
        except ValueError:  # out not C-contiguous or not of the result's dtype
            pass
    return np.matmul(a, b, out=out)


class Parameter:
    """A trainable array and the gradient of the loss with respect to it.

    ``data`` and ``grad`` have the same shape; ``grad`` is dL/d``data``, summed (``+=``)
    by every backward until ``zero_grad()``.

    Keep the Parameter, not its arrays: read ``p.data`` and ``p.grad`` each time.
    Building an optimizer moves both into views of its flat buffer
    (:class:`~proplab.optim_base.ParamGroup`), so an array taken from ``p.data``
    before that is a copy training never changes. ``p.data = values`` and
    ``p.data[...] = values`` both write into the live array. Clearing is lazy:
    ``zero_grad()`` sets a flag and the next accumulation overwrites instead of
    adding (one NumPy call less per parameter per step), so an array taken from
    ``p.grad`` before ``zero_grad()`` keeps the old numbers; ``p.grad`` read anew
    shows the true value.

    For replica stacks: ``replica_ndim`` counts the leading replica axes (0 for a
    single model), so optimizers can broadcast per-replica hyperparameters such as
    the learning rate. ``grad_mask`` (default ``None``): an array of 0s and 1s broadcastable to
    ``data``; optimizers multiply the gradient by it before every update, so
    entries where it is 0 keep their value, if the mask is set before the first
    step (momentum or Adam state built up earlier still moves them) and, with
    weight decay or l1, only while that value is 0. A stack uses it to hold a bias
    at zero for the replicas of models that have none.
    """

    __slots__ = (
        "_data",
        "_grad",
        "_grad_is_zero",
        "_grad_row",
        "_ones",
        "replica_ndim",
        "name",
        "grad_mask",
    )

    def __init__(self, data: np.ndarray, replica_ndim: int = 0, name: str = "") -> None:
        data = np.array(data)
        if data.dtype.kind not in "biuf":  # None, strings, objects, complex: no silent cast
            raise TypeError(
                f"Parameter {name!r} needs real numbers (a float array; bool or int arrays "
                f"are cast to float64), got dtype {data.dtype}"
            )
        if not np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float64)
        if (
            isinstance(replica_ndim, bool)
            or not isinstance(replica_ndim, int | np.integer)
            or not 0 <= replica_ndim <= data.ndim
        ):
            raise ValueError(f"replica_ndim={replica_ndim!r} must be an integer in 0..{data.ndim}")
        self._data = data
        self._grad = np.zeros_like(data)
        self._grad_is_zero = True
        self._grad_row: np.ndarray | None = None
        self._ones: np.ndarray | None = None  # the (1, n) row of ones accumulate_sum last used
        self.replica_ndim = replica_ndim
        self.name = name
        self.grad_mask: np.ndarray | None = None

    def __getstate__(self) -> dict:
        """For pickle and ``copy.deepcopy``: the slots, without ``_grad_row``, a view of
        ``_grad`` that a copy would detach from it (accumulate_sum would then write a bias
        gradient into the stale copy, not into ``.grad``); it is remade on first use."""
        state = {name: getattr(self, name) for name in self.__slots__ if hasattr(self, name)}
        state["_grad_row"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    @property
    def data(self) -> np.ndarray:
        """The parameter's values."""
        return self._data

    @data.setter
    def data(self, value: np.ndarray) -> None:
        # Assign in place: an optimizer may have packed this array into its
        # flat buffer, and rebinding would silently detach it from training.
        value = np.asarray(value)
        if value.shape != self._data.shape:
            raise ValueError(
                f"cannot assign shape {value.shape} to parameter {self.name!r} of shape "
                f"{self._data.shape}; build a new layer instead"
            )
        self._data[...] = value

    def _rebind(self, data: np.ndarray, grad: np.ndarray) -> None:
        """Move values and gradient into given views (optimizers pack parameters this way)."""
        data[...] = self._data
        if not self._grad_is_zero:
            grad[...] = self._grad
        self._data, self._grad = data, grad
        self._grad_row = None

    def materialize_grad(self) -> None:
        """Make the stored gradient array hold its true value (zeros after zero_grad)."""
        if self._grad_is_zero:
            self._grad.fill(0.0)
            self._grad_is_zero = False

    @property
    def grad(self) -> np.ndarray:
        """The accumulated gradient, same shape as ``data``."""
        self.materialize_grad()
        return self._grad

    @grad.setter
    def grad(self, value: np.ndarray) -> None:
        """A whole gradient, of ``data``'s shape exactly: a gradient assigned whole is
        never meant to broadcast (a bias's ``(n, out)`` not summed over samples, or one
        number spread over every entry)."""
        if np.shape(value) != self.shape:
            raise ValueError(
                f"parameter {self.name or '(unnamed)'!r} has shape {self.shape}; a gradient "
                f"assigned to its .grad must have that shape too, got {np.shape(value)}"
                + (" (sum over the samples?)" if np.ndim(value) == len(self.shape) + 1 else "")
            )
        self._grad[...] = value
        self._grad_is_zero = False

    @property
    def shape(self) -> tuple[int, ...]:
        """``data.shape``, replica axes included: ``(in, out)`` or ``(K, in, out)`` for a
        Linear weight."""
        return self.data.shape

    @property
    def replica_shape(self) -> tuple[int, ...]:
        """The leading replica axes, ``()`` for a single model."""
        return self.data.shape[: self.replica_ndim]

    def zero_grad(self) -> None:
        """Set the gradient to zero (lazily: no NumPy call until it is used)."""
        self._grad_is_zero = True

    def accumulate(self, value: np.ndarray) -> None:
        """``grad += value`` (``value`` broadcastable to ``grad``'s shape)."""
        try:
            if self._grad_is_zero:
                np.copyto(self._grad, value)
                self._grad_is_zero = False
            else:
                self._grad += value
        except ValueError as exc:  # only on the error path: no cost otherwise
            try:
                fits = np.broadcast_shapes(np.shape(value), self.shape) == self.shape
            except ValueError:
                fits = False
            if fits:  # not a shape problem: the error as NumPy says it
                raise
            raise ValueError(
                f"parameter {self.name or '(unnamed)'!r} has shape {self.shape}; its gradient "
                f"must have that shape too, got {np.shape(value)}"
            ) from exc

    def accumulate_matmul(self, a: np.ndarray, b: np.ndarray) -> None:
        """``grad += a @ b`` without a temporary on the first accumulation."""
        if self._grad_is_zero:
            matmul(a, b, out=self._grad)
            self._grad_is_zero = False
        else:
            self._grad += matmul(a, b)

    def accumulate_sum(self, a: np.ndarray, axis: int) -> None:
        """``grad += a.sum(axis)`` without a temporary on the first accumulation.

        The sum over the sample axis (``axis=-2``) is written as ``ones(1, n) @ a``:
        for a replica stack ``(K, n, out)`` NumPy's reduction over a middle axis
        is several times slower than this one matrix product (3.5-5.8x for 10-85
        replicas, 1.5x for one model, measured). It is the same sum added in another
        order, so it may differ from ``a.sum(axis)`` in the last bits (~1e-14): compare
        your own bias gradient with ``np.allclose``, not ``==``.
        """
        if axis == -2 and a.ndim >= 2:
            ones = self._ones
            if ones is None or ones.shape[1] != a.shape[-2] or ones.dtype is not a.dtype:
                ones = self._ones = _ones_row(a.shape[-2], a.dtype)
            out = self._grad_row
            if out is None:  # a view (*R, 1, out) of grad (*R, out), made once
                out = self._grad_row = self._grad[..., None, :]
            if self._grad_is_zero:
                matmul(ones, a, out=out)
                self._grad_is_zero = False
            else:
                out += matmul(ones, a)
            return
        if self._grad_is_zero:
            np.add.reduce(a, axis=axis, out=self._grad)
            self._grad_is_zero = False
        else:
            self._grad += np.add.reduce(a, axis=axis)

    def __repr__(self) -> str:
        label = f"{self.name} " if self.name else ""
        return f"Parameter({label}shape={self.data.shape}, dtype={self.data.dtype})"
