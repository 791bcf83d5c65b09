"""The data zoo: two-class 2-D datasets beyond the lab's ``linear`` and ``xor``.

Every generator takes ``n`` (total samples, split ``n // 2`` / ``n - n // 2``
between classes 0 and 1), ``noise`` (standard deviation of Gaussian noise
added to each coordinate, in the dataset's own units; labels always come from
the noiseless point) and ``rng`` (a ``numpy.random.Generator`` or a seed;
default seed 0). Samples are shuffled. Returns ``x (n, 2)`` float64 and
``y (n, 1)`` int64 of 0/1, like the lab's datasets.

- ``circle``: class 1 on a circle of radius 0.5 inside class 0 on a circle of radius 1.
- ``xor-quadrants``: uniform in [-1, 1]^2, at least 0.1 from both axes;
  label 1 where x1 * x2 < 0 (the four-quadrant XOR; ``xor`` stays the lab's 21 points).
- ``gauss``: two Gaussian blobs at (1, 1) (class 0) and (-1, -1) (class 1),
  standard deviation ``0.5 + noise`` (the spread *is* the noise here).
- ``spiral``: two interleaved arms, one turn each, radius 0.2 -> 1 (arms 0.4 apart).
- ``moons``: scikit-learn's two interleaving half circles.

With the default ``noise=0.1`` every set is learnable by a small MLP (see
``tests/test_zoo.py`` for the accuracies reached).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np

from proplab.checks import check_int, did_you_mean
from proplab.data import generator

Dataset = tuple[np.ndarray, np.ndarray]
RngLike = np.random.Generator | int | None

# xor-quadrants keeps points this far from the axes, so noise 0.1 flips few labels
XOR_MARGIN = 0.1
SPIRAL_TURNS = 1.0
SPIRAL_R0 = 0.2


def _setup(
    name: str, n: int, noise: float, rng: RngLike, why: str = "one sample per class"
) -> tuple[int, int, np.random.Generator]:
    try:
        n = check_int(n, "n", low=2)  # also refuses bools, None, inf and NaN
    except ValueError:
        raise ValueError(f"{name}: n must be an integer >= 2 ({why}), got {n!r}") from None
    if (
        isinstance(noise, bool)
        or not isinstance(noise, numbers.Real)
        # math's, not NumPy's: np.isfinite refuses a Fraction (a Real) with a ufunc error
        or not (math.isfinite(noise) and noise >= 0)
    ):
        raise ValueError(f"{name}: noise must be a finite number >= 0, got {noise!r}")
    return n // 2, n - n // 2, generator(rng, name)


def _finish(x0: np.ndarray, x1: np.ndarray, noise: float, rng: np.random.Generator) -> Dataset:
    """Stack both classes, add the coordinate noise, shuffle."""
    x = np.concatenate([x0, x1])
    y = np.concatenate([np.zeros(len(x0), np.int64), np.ones(len(x1), np.int64)])
    # drawn even for noise 0, so one seed gives the same clean points and order
    # at every noise level: only the noise changes
    # as a float: a Fraction times an array would make an array of Python objects
    noise = float(noise)
    with np.errstate(over="ignore"):  # a noise near 1e308: refused just below
        x = x + noise * rng.standard_normal(x.shape)
    if not np.isfinite(x).all():
        raise ValueError(f"{noise:g} puts samples at infinity; use a smaller noise")
    order = rng.permutation(len(x))
    return x[order], y[order].reshape(-1, 1)


def circle(n: int = 200, noise: float = 0.1, rng: RngLike = None) -> Dataset:
    """Class 1 on a circle of radius 0.5 inside class 0 on a circle of radius 1."""
    n0, n1, gen = _setup("circle", n, noise, rng)
    t0, t1 = gen.uniform(0, 2 * np.pi, n0), gen.uniform(0, 2 * np.pi, n1)
    ring = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    inner = 0.5 * np.stack([np.cos(t1), np.sin(t1)], axis=1)
    return _finish(ring, inner, noise, gen)


def xor_quadrants(n: int = 200, noise: float = 0.1, rng: RngLike = None) -> Dataset:
    """Points in [-1, 1]^2 at least ``XOR_MARGIN`` from both axes; label 1 where x1 * x2 < 0."""
    n0, n1, gen = _setup("xor-quadrants", n, noise, rng)

    def quadrant_points(m: int, same_sign: bool) -> np.ndarray:
        mag = gen.uniform(XOR_MARGIN, 1.0, size=(m, 2))
        s0 = gen.choice([-1.0, 1.0], size=m)
        s1 = s0 if same_sign else -s0
        return mag * np.stack([s0, s1], axis=1)

    return _finish(quadrant_points(n0, True), quadrant_points(n1, False), noise, gen)


def gauss(n: int = 200, noise: float = 0.1, rng: RngLike = None) -> Dataset:
    """Two isotropic blobs, std ``0.5 + noise``, centred at (1, 1) (class 0) and (-1, -1)."""
    n0, n1, gen = _setup("gauss", n, noise, rng)
    std = 0.5 + noise
    # the blobs' spread *is* the noise here, so _finish adds none on top
    x0 = gen.normal(1.0, std, size=(n0, 2))
    x1 = gen.normal(-1.0, std, size=(n1, 2))
    return _finish(x0, x1, 0.0, gen)


def spiral(n: int = 200, noise: float = 0.1, rng: RngLike = None) -> Dataset:
    """Two arms ``r (cos a, sin a)``, ``a = 2 pi turns s + k pi``, ``r = r0 + (1 - r0) s``."""
    n0, n1, gen = _setup("spiral", n, noise, rng)

    def arm(m: int, phase: float) -> np.ndarray:
        s = gen.uniform(0.0, 1.0, m)
        r = SPIRAL_R0 + (1.0 - SPIRAL_R0) * s
        a = 2 * np.pi * SPIRAL_TURNS * s + phase
        return r[:, None] * np.stack([np.cos(a), np.sin(a)], axis=1)

    return _finish(arm(n0, 0.0), arm(n1, np.pi), noise, gen)


def moons(n: int = 200, noise: float = 0.1, rng: RngLike = None) -> Dataset:
    """scikit-learn's ``make_moons``: (cos t, sin t) and (1 - cos t, 0.5 - sin t), t in [0, pi]."""
    n0, n1, gen = _setup("moons", n, noise, rng)
    t0, t1 = gen.uniform(0, np.pi, n0), gen.uniform(0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    return _finish(upper, lower, noise, gen)


ZOO: dict[str, Callable[..., Dataset]] = {
    "circle": circle,
    "xor-quadrants": xor_quadrants,
    "gauss": gauss,
    "spiral": spiral,
    "moons": moons,
}


def load_zoo(name: str, n: int = 200, noise: float = 0.1, rng: RngLike = None) -> Dataset:
    """A zoo dataset by name (the CLI's ``--dataset``); ``xor_quadrants`` is accepted too.

    ``name`` is one of ``circle``, ``xor-quadrants``, ``gauss``, ``spiral``,
    ``moons`` (two classes: ``y (n, 1)`` int64 of 0/1), or one of the regression
    sets ``plane``, ``multi-gauss`` (:mod:`proplab.zoo_regression`: ``y (n, 1)``
    float64 values in [-1, 1]); ``n``, ``noise`` and ``rng`` as described in this
    module's docstring. ``x`` is ``(n, 2)`` float64. An unknown name raises
    ValueError listing the accepted ones.
    """
    from proplab.zoo_regression import REGRESSION_ZOO  # it builds on this module

    every = {**ZOO, **REGRESSION_ZOO}
    if not isinstance(name, str):  # a number or None has no .strip(): say what is accepted
        raise TypeError(
            f"load_zoo: name must be a zoo dataset name (accepted: {', '.join(every)}), "
            f"got {name!r}"
        )
    key = name.strip().lower().replace("_", "-")
    if key not in every:
        raise ValueError(
            f"unknown zoo dataset {name!r} (accepted: {', '.join(every)})"
            + did_you_mean(key, every)
        )
    return every[key](n, noise, rng)
