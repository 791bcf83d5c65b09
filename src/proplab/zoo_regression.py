"""The zoo's regression sets, after TensorFlow Playground's "plane" and "multi gaussian".

Each generator takes ``n`` (samples), ``noise`` (standard deviation of
Gaussian noise added to each coordinate, in the dataset's own units; the
target always comes from the noiseless point, as in the classification zoo;
default 0, TensorFlow Playground's default, as 0.1 already caps the best
possible R² of multi-gauss near 0.6)
and ``rng`` (a ``numpy.random.Generator`` or a seed; default seed 0).
Points are uniform in [-1, 1]^2 (TensorFlow Playground's [-6, 6]^2 divided
by 6; its plane's target, (x + y) / 10 there, is rescaled to span [-1, 1] here). Returns ``x (n, 2)`` float64 and ``y (n, 1)`` float64 targets in
[-1, 1]: a value to predict, not a class.

- ``plane``: ``y = (x1 + x2) / 2``, a tilted plane (one linear unit fits it).
- ``multi-gauss``: six bumps in two rows of three, alternately +1 and -1 at
  their centres and falling linearly to 0 at distance 1/3 (so neighbours
  just touch); 0 between them. Each point takes the bump largest in size.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from proplab.zoo import Dataset, RngLike, _setup

# TensorFlow Playground's six centres (x, y, sign) on its [-6, 6] square, in ours
BUMPS = np.array(
    [
        (-4, 2.5, 1.0),
        (0, 2.5, -1.0),
        (4, 2.5, 1.0),
        (-4, -2.5, -1.0),
        (0, -2.5, 1.0),
        (4, -2.5, -1.0),
    ]
) / np.array([6.0, 6.0, 1.0])
BUMP_RADIUS = 2.0 / 6.0  # where a bump has fallen to 0 (TF: distance 2 of 6)


def _points(name: str, n: int, noise: float, rng: RngLike) -> tuple[np.ndarray, np.ndarray]:
    """``n`` clean points uniform in [-1, 1]^2 and the same points with the noise added."""
    n0, n1, gen = _setup(name, n, noise, rng, why="an R² needs two values")
    clean = gen.uniform(-1.0, 1.0, size=(n0 + n1, 2))
    # drawn even for noise 0, so one seed gives the same clean points at every noise level
    with np.errstate(over="ignore"):  # a noise near 1e308: refused just below
        noisy = clean + noise * gen.standard_normal(clean.shape)
    if not np.isfinite(noisy).all():
        raise ValueError(f"{noise:g} puts samples at infinity; use a smaller noise")
    return clean, noisy


def plane_target(x: np.ndarray) -> np.ndarray:
    """``(x1 + x2) / 2`` of points ``(n, 2)``, as ``(n, 1)``."""
    return x.sum(axis=-1, keepdims=True) / 2.0


def multi_gauss_target(x: np.ndarray) -> np.ndarray:
    """The six bumps' value at points ``(n, 2)``, as ``(n, 1)``: the largest in size wins."""
    distance = np.linalg.norm(x[:, None, :] - BUMPS[None, :, :2], axis=-1)  # (n, 6)
    height = np.clip(1.0 - distance / BUMP_RADIUS, 0.0, 1.0) * BUMPS[:, 2]
    # bumps never overlap (centres 2/3 apart, radius 1/3): at most one is nonzero,
    # so "largest in size" is the sum
    return height.sum(axis=-1, keepdims=True)


def plane(n: int = 200, noise: float = 0.0, rng: RngLike = None) -> Dataset:
    """Uniform points in [-1, 1]^2 with target ``(x1 + x2) / 2`` in [-1, 1]."""
    clean, noisy = _points("plane", n, noise, rng)
    return noisy, plane_target(clean)


def multi_gauss(n: int = 200, noise: float = 0.0, rng: RngLike = None) -> Dataset:
    """Uniform points in [-1, 1]^2 with six +1/-1 bumps as the target (see the module)."""
    clean, noisy = _points("multi-gauss", n, noise, rng)
    return noisy, multi_gauss_target(clean)


REGRESSION_ZOO: dict[str, Callable[..., Dataset]] = {
    "plane": plane,
    "multi-gauss": multi_gauss,
}
