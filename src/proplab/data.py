"""The lab's two datasets, with the handout's exact semantics.

Inputs are ``(n, 2)`` float64, labels ``(n, 1)`` int64 of 0/1.
"""

from __future__ import annotations

import numpy as np

from proplab.checks import check_int


def generator(rng: np.random.Generator | int | None, owner: str) -> np.random.Generator:
    """``rng`` as a Generator: itself, a seed NumPy takes (an int >= 0, a list of them,
    a SeedSequence), or None for seed 0.

    Raises a TypeError naming ``owner`` for anything else: NumPy's own message speaks of
    SeedSequence entropy, not of the argument, and it takes False and 0.0 as seed 0.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng(0)
    try:
        if isinstance(rng, bool | float | str):
            raise TypeError
        return np.random.default_rng(rng)
    except (TypeError, ValueError):
        raise TypeError(
            f"{owner}: rng must be a numpy Generator or a seed (an integer >= 0), got {rng!r}"
        ) from None


def generate_linear(
    n: int = 100, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform in the unit square; label 0 if x0 > x1, else 1.

    ``rng`` is a Generator or a seed (default seed 0, so the data is always
    reproducible). Returns ``x (n, 2)`` float64 and ``y (n, 1)`` int64.
    """
    try:
        n = check_int(n, "n")  # also refuses bools, None, inf and NaN
    except ValueError:
        raise ValueError(f"generate_linear needs a positive integer n, got {n!r}") from None
    x = generator(rng, "generate_linear").uniform(0.0, 1.0, size=(n, 2))
    y = np.where(x[:, 0] > x[:, 1], 0, 1).astype(np.int64).reshape(-1, 1)
    return x, y


def generate_xor_easy() -> tuple[np.ndarray, np.ndarray]:
    """The handout's 21 XOR points, interleaved 0, 1, 0, 1, ...

    For i in 0..10: (0.1 i, 0.1 i) with label 0, then, unless 0.1 i == 0.5,
    (0.1 i, 1 - 0.1 i) with label 1. Returns ``x (21, 2)``, ``y (21, 1)``.
    """
    points: list[tuple[float, float]] = []
    labels: list[int] = []
    for i in range(11):
        points.append((0.1 * i, 0.1 * i))
        labels.append(0)
        if 0.1 * i == 0.5:
            continue
        points.append((0.1 * i, 1 - 0.1 * i))
        labels.append(1)
    return np.array(points, dtype=np.float64), np.array(labels, dtype=np.int64).reshape(-1, 1)


# the handout's own name, so a student's `generate_XOR_easy()` copied from it runs as written
generate_XOR_easy = generate_xor_easy


# the lab's dataset names; :data:`proplab.experiments.DATASETS` loads them by a run's config
LAB_DATASETS = ("linear", "xor")


def plane_axes(x: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(u, v)``: ``size`` points along each of two inputs, over the unit square widened
    to hold every sample of ``x`` ``(n, 2)``, plus 5 % of its span on each side
    (``[-0.05, 1.05]`` for the lab's data, the whole cloud for a zoo dataset). An input
    whose samples all lie outside [0, 1] (a CSV's heights, 145 to 190) spans its samples
    alone: the unit square would push them into a corner of a plot from 0 to 190."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    near = (lo <= 1.0) & (hi >= 0.0)  # the samples' span meets [0, 1]
    lo = np.where(near, np.minimum(lo, 0.0), lo)
    hi = np.where(near, np.maximum(hi, 1.0), hi)
    pad = 0.05 * (hi - lo)
    return (
        np.linspace(lo[0] - pad[0], hi[0] + pad[0], size),
        np.linspace(lo[1] - pad[1], hi[1] + pad[1], size),
    )


def plane_points(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``(v.size * u.size, 2)`` points of the grid, ``points[j * u.size + i] = (u[i], v[j])``."""
    uu, vv = np.meshgrid(u, v)
    return np.column_stack([uu.ravel(), vv.ravel()])
