"""Dropout: in training, zero each entry with probability p and scale the rest by 1/(1 - p).

This is *inverted* dropout (Srivastava et al. 2014, as ``torch.nn.Dropout``): in
training mode each entry of the input is kept with probability ``1 - p`` and
multiplied by ``1 / (1 - p)``, so its expected value is the input's and nothing
needs rescaling when predicting; in evaluation mode (``model.eval()``, which
``evaluate`` and every figure use) the layer passes its input through.

Masks come from the ``numpy.random.Generator`` the layer is given, never from
global state. A replica stack gets an independent mask per replica: built with
``rngs`` (one Generator per replica, as :func:`proplab.mlp` does for ``seeds``),
replica k draws exactly the masks a single model built with ``rngs[k]`` draws, so
a stacked run equals the same run alone bit for bit.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from proplab import init as initializers
from proplab.checks import short_repr
from proplab.core import Module
from proplab.module_errors import forward_first


def check_probability(p: object, owner: str = "Dropout") -> float:
    """``p`` as a float if it is a number in [0, 1), else a ValueError naming it."""
    ok = isinstance(p, numbers.Real) and not isinstance(p, bool | np.bool_)
    # mypy narrows p to a Real through neither `ok` nor the numbers ABC (not typed as numbers)
    if not (ok and math.isfinite(p) and 0.0 <= p < 1.0):  # type: ignore[arg-type, operator]
        raise ValueError(
            f"{owner}: p must be a probability in [0, 1) (the share of units zeroed in "
            f"training; 1 would zero them all), got {short_repr(p)}"
        )
    return float(p)  # type: ignore[arg-type]


class Dropout(Module):
    """Inverted dropout: ``y = x * m / (1 - p)`` in training mode, with ``m`` an entry-wise
    0/1 mask drawn afresh on every forward (1 with probability ``1 - p``); ``y = x`` in
    evaluation mode.

    Args:
        p: the probability of zeroing an entry, in [0, 1) (0: the identity).
        rng: the Generator the masks are drawn from (one model, or a stack whose
            masks are drawn in one go); required, even for p = 0 (ValueError without
            it, as for Linear).
        rngs: instead of ``rng``, one Generator per replica: replica k's mask is
            ``rngs[k]``'s draw, the mask a single model built with ``rngs[k]`` gets.
        replicas: the leading replica shape (with ``rngs``: default ``(len(rngs),)``).

    Shape:
        any ``(*R, n, features)`` -> the same shape; shared data ``(n, features)``
        feeding a stack of ``replicas`` R -> ``(*R, n, features)``, one mask per replica.

    ``hold_mask`` (default False): when True, forward reuses the mask it drew last
    (if the shape fits) instead of drawing a new one. ``proplab.gradcheck`` sets it
    while it nudges inputs and weights, so every central difference differentiates
    the same function, ``x * m / (1 - p)`` for one fixed ``m``.

    Example:
        >>> drop = Dropout(0.5, rng=np.random.default_rng(0))
        >>> drop(np.ones((2, 4)))  # kept entries scaled by 1 / (1 - 0.5)
        array([[2., 0., 0., 0.],
               [2., 2., 2., 2.]])
        >>> drop.eval()(np.ones((1, 4)))
        array([[1., 1., 1., 1.]])
    """

    def __init__(
        self,
        p: float = 0.5,
        rng: np.random.Generator | None = None,
        *,
        rngs: list[np.random.Generator] | None = None,
        replicas: tuple[int, ...] | int = (),
    ) -> None:
        super().__init__()
        self.p = check_probability(p)
        if rng is not None and rngs is not None:
            raise ValueError("Dropout: pass rng (one stream) or rngs (one per replica), not both")
        if rngs is not None:
            rngs = list(rngs)
            bad = next((g for g in rngs if not isinstance(g, np.random.Generator)), None)
            if not rngs or bad is not None:
                raise TypeError(
                    "Dropout: rngs must be a non-empty list of numpy Generators, one per "
                    f"replica, got {short_repr(bad if rngs else rngs)}"
                )
            replicas = replicas or (len(rngs),)
        elif rng is None:
            # the same error as Linear's, Conv1d's and mlp's for a missing rng; required
            # whatever p: a p = 0 layer draws nothing, but its stream is saved with it
            raise ValueError(
                "Dropout needs rng=np.random.default_rng(seed) (or rngs, one Generator per "
                "replica), even for p = 0, got rng=None"
            )
        elif not isinstance(rng, np.random.Generator):
            raise TypeError(
                "Dropout draws random masks: pass rng=np.random.default_rng(seed) (or rngs, "
                f"one Generator per replica), got rng={short_repr(rng)}"
            )
        self.replicas = initializers.replica_shape(replicas, "Dropout")
        if rngs is not None and len(rngs) != math.prod(self.replicas):
            raise ValueError(
                f"Dropout: replicas={self.replicas} but {len(rngs)} Generators in rngs"
            )
        self.rng, self.rngs = rng, rngs
        self.hold_mask = False
        self.mask: np.ndarray | None = None  # m / (1 - p) of the last training forward

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x * m / (1 - p)`` with a fresh mask (training) or ``x`` itself (eval, or p = 0).

        Keeps the scaled mask ``m / (1 - p)`` for :meth:`backward` (None in eval mode).
        """
        try:
            self.in_ndim = x.ndim
        except AttributeError:
            raise TypeError(
                f"Dropout takes a NumPy array (n, features), got {type(x).__name__}"
            ) from None
        if not self.training or self.p == 0.0:
            self.mask = None
            return x
        shape = self._mask_shape(x)
        mask = self.mask
        if not (self.hold_mask and mask is not None and mask.shape == shape):
            mask = self._draw(shape, x.dtype if x.dtype.kind == "f" else np.dtype(np.float64))
        self.mask = mask
        return x * mask

    def _mask_shape(self, x: np.ndarray) -> tuple[int, ...]:
        """The mask's shape: ``x``'s, with the replica axes in front for shared ``x``."""
        if x.ndim < 2:
            raise ValueError(f"Dropout takes (n, features) or (*R, n, features), got {x.shape}")
        lead, replicas = x.shape[:-2], self.replicas
        if not lead and replicas:  # shared data feeding a stack: a mask per replica
            return replicas + x.shape
        if self.rngs is not None and lead != replicas:
            raise ValueError(
                f"Dropout: input replica axes {lead} (shape {x.shape}) do not match the "
                f"layer's replicas {replicas}, one Generator each"
            )
        return x.shape

    def _draw(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """A fresh scaled mask ``m / (1 - p)`` of ``shape`` (one draw per replica with rngs)."""
        if self.rngs is None:
            u = self.rng.random(shape)  # type: ignore[union-attr]
        else:
            u = np.empty(shape)
            per_replica = shape[len(self.replicas) :]
            for k, index in enumerate(np.ndindex(self.replicas)):
                # replica k's stream, drawn as a single model with rngs[k] draws it
                u[index] = self.rngs[k].random(per_replica)
        # keep where u >= p (probability 1 - p); kept entries carry the 1 / (1 - p) scale
        # (a division, as PyTorch's noise.div_(1 - p): the same bits as its mask)
        mask = (u >= self.p).astype(dtype)
        return np.divide(mask, 1.0 - self.p, out=mask)

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        """dL/dx = ``grad_out * m / (1 - p)`` with the forward's mask (``grad_out`` itself in
        eval mode); summed over replicas for shared ``x``. No parameters, so
        ``need_input_grad`` is ignored."""
        try:
            mask, in_ndim = self.mask, self.in_ndim
        except AttributeError:
            raise forward_first(self, "mask") from None
        # y = x * m / (1 - p)  =>  dL/dx = dL/dy * m / (1 - p): the kept units pass it on
        grad_in = grad_out if mask is None else grad_out * mask
        if grad_in.ndim > in_ndim:  # shared data fed every replica: their gradients add
            grad_in = grad_in.sum(axis=tuple(range(grad_in.ndim - in_ndim)))
        return grad_in

    def extra_repr(self) -> str:
        r = f", replicas={self.replicas}" if self.replicas else ""
        p = self.p + 0.0  # -0.0 shown as 0
        text = f"{p:g}"  # 0.3, not 0.30000000000000004 ...
        if float(text) != p:  # ... but never rounded: 0.9999999999999999 is not p=1, refused
            text = repr(p)
        return f"p={text}{r}"
