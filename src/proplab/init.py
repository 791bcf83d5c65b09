"""Weight initialisers. Each takes an explicit ``numpy.random.Generator``.

``shape`` is the full array shape, replica axes included; fan-in and fan-out
are read from the last two axes ``(..., fan_in, fan_out)`` (PyTorch stores
Linear weights transposed, ``(out, in)``; proplab stores ``(in, out)`` so the
forward pass is ``x @ W``). For convolution weights ``(..., out_ch, in_ch, k)``
pass ``fan_in`` and ``fan_out`` explicitly.

Each returns a new array of ``shape`` and ``dtype`` (float64 by default), e.g.
``xavier_uniform((2, 10), rng)`` for one Linear(2, 10) weight or
``xavier_uniform((K, 2, 10), rng)`` for a stack of K. ``uniform`` and ``normal``
accept and ignore ``fan_in``/``fan_out``, so any initialiser can be called as
``init(shape, rng, fan_in=..., fan_out=...)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

Initializer = Callable[..., np.ndarray]


def _check_rng(rng: object, who: str) -> None:
    if not isinstance(rng, np.random.Generator | np.random.RandomState):
        raise TypeError(
            f"{who}: rng must be a numpy Generator such as np.random.default_rng(0), "
            f"got {type(rng).__name__} {rng!r}"
        )


def _fans(shape: tuple[int, ...], fan_in: int | None, fan_out: int | None) -> tuple[int, int]:
    shape = (shape,) if np.ndim(shape) == 0 else tuple(shape)  # type: ignore[assignment]
    if fan_in is None or fan_out is None:
        if len(shape) < 2:
            raise ValueError(f"cannot infer fan-in/fan-out of shape {shape}; pass them explicitly")
        fan_in = shape[-2] if fan_in is None else fan_in
        fan_out = shape[-1] if fan_out is None else fan_out
    for label, fan in (("fan_in", fan_in), ("fan_out", fan_out)):
        if isinstance(fan, bool) or not isinstance(fan, int | np.integer) or fan <= 0:
            raise ValueError(
                f"{label} must be a positive integer (read from shape {shape} unless passed), "
                f"got {fan!r}: fan-scaled initialisers divide by it"
            )
    return fan_in, fan_out


def _check_scale(label: str, value: object, who: str) -> float:
    """A finite number >= 0 (a gain or a standard deviation)."""
    try:
        # value may be anything (a TypeError is caught): math.isfinite and >= take any number
        ok = not isinstance(value, bool | str) and math.isfinite(value) and value >= 0  # type: ignore[arg-type, operator]
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(f"{who}: {label} must be a finite number >= 0, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def uniform(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    low: float = -1.0,
    high: float = 1.0,
    dtype: np.dtype | type = np.float64,
    **_: object,
) -> np.ndarray:
    """U(low, high) samples of the given shape."""
    _check_rng(rng, "uniform")
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"uniform init needs finite low < high, got low={low}, high={high}")
    return rng.uniform(low, high, size=shape).astype(dtype, copy=False)


def normal(
    shape: tuple[int, ...],
    rng: np.random.Generator,
    std: float = 1.0,
    dtype: np.dtype | type = np.float64,
    **_: object,
) -> np.ndarray:
    """N(0, std^2) samples (the handout's ``np.random.randn``)."""
    _check_rng(rng, "normal")
    _check_scale("std", std, "normal")
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
    _check_rng(rng, "xavier_uniform")
    _check_scale("gain", gain, "xavier_uniform")
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
    _check_rng(rng, "xavier_normal")
    _check_scale("gain", gain, "xavier_normal")
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
    _check_rng(rng, "he_uniform")
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
    _check_rng(rng, "he_normal")
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
    _check_rng(rng, "torch_default")
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
    ``init`` may also be a registered name (``"xavier"``, ``"he"``...).
    """
    if isinstance(init, str):
        from proplab.registry import resolve  # local: the registry imports this module

        init = resolve("init", init)
    elif not callable(init):
        raise TypeError(
            f"{owner}: init must be an initialiser from proplab.init or its name "
            f"(xavier, he, uniform, normal, ...), got {init!r}"
        )
    if np.dtype(dtype).kind != "f":
        raise TypeError(
            f"{owner}: dtype must be a float type (float64, float32...), got {np.dtype(dtype)}: "
            f"weights drawn into it would be truncated"
        )
    if rngs is not None:
        rngs = list(rngs)
        if len(rngs) != int(np.prod(replicas)):
            raise ValueError(
                f"{owner}: got {len(rngs)} generators for replica shape {replicas}: "
                "rngs needs one Generator per replica"
            )
        for r in rngs:
            _check_rng(r, f"{owner} rngs entry")
        w = np.stack([init(shape, r, dtype=dtype, **fans) for r in rngs])
        return w.reshape(replicas + shape)
    if rng is None:
        raise ValueError(f"{owner} needs rng=np.random.default_rng(seed) (or rngs=...)")
    _check_rng(rng, owner)
    return init(replicas + shape, rng, dtype=dtype, **fans)


def replicas_and_rngs(
    replicas: object, rngs: object, owner: str
) -> tuple[tuple[int, ...], list[np.random.Generator] | None]:
    """A layer's replica shape and its ``rngs`` as a list: with ``rngs`` and no
    ``replicas``, one replica per Generator, ``(len(rngs),)`` (as Dropout does)."""
    shape = replica_shape(replicas, owner)
    if rngs is None:
        return shape, None
    try:
        if isinstance(rngs, np.random.Generator):  # one Generator is rng=, not a list
            raise TypeError
        listed = list(rngs)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(
            f"{owner}: rngs must be a list of numpy Generators, one per replica, got {rngs!r}"
        ) from None
    if not shape and listed:
        shape = (len(listed),)
    return shape, listed


def replica_shape(replicas: object, owner: str) -> tuple[int, ...]:
    """``replicas`` (an int, ``0`` for none, or a tuple of positive ints) as a shape tuple."""
    if isinstance(replicas, int | np.integer) and not isinstance(replicas, bool):
        if replicas < 0:
            raise ValueError(f"{owner}: replicas must be >= 0 (0: a single model), got {replicas}")
        return (int(replicas),) if replicas else ()
    try:
        # any iterable will do (each entry is checked below); the rest raise TypeError
        shape: tuple[Any, ...] | None = tuple(replicas)  # type: ignore[arg-type]
    except TypeError:
        shape = None
    if shape is None or not all(
        isinstance(k, int | np.integer) and not isinstance(k, bool) and k > 0 for k in shape
    ):
        raise ValueError(
            f"{owner}: replicas must be an int or a tuple of positive ints, got {replicas!r}"
        )
    return tuple(int(k) for k in shape)
