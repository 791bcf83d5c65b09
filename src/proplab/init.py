"""Weight initialisers. Each takes an explicit ``numpy.random.Generator``.

``shape`` is the full array shape, replica axes included; fan-in and fan-out
are read from the last two axes ``(..., fan_in, fan_out)`` (PyTorch stores
Linear weights transposed, ``(out, in)``; proplab stores ``(in, out)`` so the
forward pass is ``x @ W``). For convolution weights ``(..., out_ch, in_ch, k)``
pass ``fan_in`` and ``fan_out`` explicitly.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Initializer = Callable[..., np.ndarray]


def _fans(shape: tuple[int, ...], fan_in: int | None, fan_out: int | None) -> tuple[int, int]:
    if fan_in is None or fan_out is None:
        if len(shape) < 2:
            raise ValueError(f"cannot infer fan-in/fan-out of shape {shape}; pass them explicitly")
        fan_in = shape[-2] if fan_in is None else fan_in
        fan_out = shape[-1] if fan_out is None else fan_out
    return fan_in, fan_out


def uniform(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    low: float = -1.0,
    high: float = 1.0,
    dtype: np.dtype | type = np.float64,
    **_: object,
) -> np.ndarray:
    """U(low, high) samples of the given shape."""
    if not low < high:
        raise ValueError(f"uniform init needs low < high, got low={low}, high={high}")
    return rng.uniform(low, high, size=shape).astype(dtype, copy=False)


def normal(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    std: float = 1.0,
    dtype: np.dtype | type = np.float64,
    **_: object,
) -> np.ndarray:
    """N(0, std^2) samples (the handout's ``np.random.randn``)."""
    return (rng.standard_normal(shape) * std).astype(dtype, copy=False)


def xavier_uniform(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    gain: float = 1.0,
    fan_in: int | None = None,
    fan_out: int | None = None,
    dtype: np.dtype | type = np.float64,
) -> np.ndarray:
    """Glorot & Bengio (2010): U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))."""
    fi, fo = _fans(shape, fan_in, fan_out)
    a = gain * math.sqrt(6.0 / (fi + fo))
    return rng.uniform(-a, a, size=shape).astype(dtype, copy=False)


def xavier_normal(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    gain: float = 1.0,
    fan_in: int | None = None,
    fan_out: int | None = None,
    dtype: np.dtype | type = np.float64,
) -> np.ndarray:
    """Glorot normal: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fi, fo = _fans(shape, fan_in, fan_out)
    std = gain * math.sqrt(2.0 / (fi + fo))
    return (rng.standard_normal(shape) * std).astype(dtype, copy=False)


def he_uniform(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    fan_in: int | None = None,
    fan_out: int | None = None,
    dtype: np.dtype | type = np.float64,
) -> np.ndarray:
    """He et al. (2015) for ReLU: U(-a, a), a = sqrt(6 / fan_in)."""
    fi, _ = _fans(shape, fan_in, fan_out)
    a = math.sqrt(6.0 / fi)
    return rng.uniform(-a, a, size=shape).astype(dtype, copy=False)


def he_normal(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    fan_in: int | None = None,
    fan_out: int | None = None,
    dtype: np.dtype | type = np.float64,
) -> np.ndarray:
    """He normal: N(0, 2 / fan_in)."""
    fi, _ = _fans(shape, fan_in, fan_out)
    return (rng.standard_normal(shape) * math.sqrt(2.0 / fi)).astype(dtype, copy=False)


def torch_default(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    fan_in: int | None = None,
    fan_out: int | None = None,
    dtype: np.dtype | type = np.float64,
) -> np.ndarray:
    """PyTorch's default for Linear and Conv: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    fi, _ = _fans(shape, fan_in, fan_out)
    a = 1.0 / math.sqrt(fi)
    return rng.uniform(-a, a, size=shape).astype(dtype, copy=False)


def draw_weights(
    shape: tuple[int, ...],
    init: Initializer,
    *,
    rng: np.random.Generator | None,
    rngs: list[np.random.Generator] | None,
    replicas: tuple[int, ...],
    owner: str,
    dtype: np.dtype | type = np.float64,
    **fans: int,
) -> np.ndarray:
    """A layer's weights, ``replicas + shape``, drawn with ``init``.

    With ``rngs`` (one Generator per replica) replica k gets exactly the
    weights a single layer drawn from ``rngs[k]`` would get; otherwise the
    whole array comes from ``rng``. ``owner`` names the layer in errors.
    """
    if rngs is not None:
        if len(rngs) != int(np.prod(replicas)):
            raise ValueError(f"got {len(rngs)} generators for replica shape {replicas}")
        w = np.stack([init(shape, r, dtype=dtype, **fans) for r in rngs])
        return w.reshape(replicas + shape)
    if rng is None:
        raise ValueError(f"{owner} needs rng=np.random.default_rng(seed) (or rngs=...)")
    return init(replicas + shape, rng, dtype=dtype, **fans)
