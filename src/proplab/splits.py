"""Stratified train/validation/test splits.

(Mini-batches are cut by :func:`proplab.train.fit` itself, ``train._batches``.)

A stratified split keeps each class's share the same in every part, so a
20 % test set of a 10-class problem holds about 20 % of every digit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from proplab.metrics import labels_of


class Split(NamedTuple):
    """Arrays of one split; ``x_val``/``y_val`` (or the test pair) are empty when not asked for."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


class SplitError(ValueError):
    """The data is too small (or too one-sided) for the split asked for."""


def _part_sizes(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    """scikit-learn's rounding: held-out parts round up, training gets the rest."""
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not (0.0 <= f < 1.0):
            raise ValueError(f"{name} must be in [0, 1), got {f!r}")
    n_test = math.ceil(test_fraction * n)
    n_val = math.ceil(val_fraction * n)
    return n - n_val - n_test, n_val, n_test


def _min_rows(n_classes: int, val_fraction: float, test_fraction: float) -> int:
    """The fewest rows for which every non-empty part gets at least one row per class."""
    # Counting up from n_classes takes ~n_classes / f steps (a hang for f = 1e-9), so start
    # at a lower bound instead. A held-out part holds ceil(f * n) >= C rows only once
    # f * n > C - 1; training holds n - ceil(v * n) - ceil(t * n) <= (1 - v - t) * n rows, so
    # needs n >= C / (1 - v - t). Each bound is lowered by 2 against float rounding, so the
    # scan below still returns the first n that fits: with one held-out part it is a few
    # steps, with two at most ~2 / (1 - v - t) (both ceilings may round against training).
    bounds = [n_classes, math.ceil(n_classes / (1.0 - val_fraction - test_fraction)) - 2]
    bounds += [math.floor((n_classes - 1) / f) - 2 for f in (val_fraction, test_fraction) if f > 0]
    n = max(bounds)
    while True:
        sizes = _part_sizes(n, val_fraction, test_fraction)
        fractions = (1.0 - val_fraction - test_fraction, val_fraction, test_fraction)
        if all(size >= n_classes for size, f in zip(sizes, fractions, strict=True) if f > 0):
            return n
        n += 1


def _allocate(counts: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` over classes proportionally to ``counts`` (largest remainder)."""
    exact = counts * (total / counts.sum())
    alloc = np.floor(exact).astype(np.int64)
    short = total - int(alloc.sum())
    # ties go to the larger class, then the lower label: deterministic
    order = np.lexsort((np.arange(len(counts)), -counts, -(exact - alloc)))
    alloc[order[:short]] += 1
    return alloc


def stratified_indices(
    y: np.ndarray,
    val_fraction: float = 0.0,
    test_fraction: float = 0.2,
    rng: np.random.Generator | int | None = None,
    class_names: Sequence[object] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays ``(train, val, test)`` with every class shared out proportionally.

    ``y``: labels ``(n,)`` / ``(n, 1)`` or one-hot ``(n, C)``. Raises
    :class:`SplitError` when a non-empty part could not hold every class at
    least once (too few rows, or a class with too few members), naming a class k by
    ``class_names[k]`` when given (a CSV file's labels).
    """
    labels = labels_of(y)
    n = labels.size
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"val_fraction + test_fraction must leave rows to train on, got "
            f"{val_fraction} + {test_fraction}"
        )
    sizes = _part_sizes(n, val_fraction, test_fraction)
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    fractions = (1.0 - val_fraction - test_fraction, val_fraction, test_fraction)
    parts = [
        (name, size, f)
        for name, size, f in zip(("train", "validation", "test"), sizes, fractions, strict=True)
        if f > 0
    ]
    for name, size, f in parts:
        if size < len(classes):
            raise SplitError(
                f"{n} rows are too few for a {name} share of {f:g} holding each of the "
                f"{len(classes)} classes (it would get {size}); need at least "
                f"{_min_rows(len(classes), val_fraction, test_fraction)} rows"
            )
    rare = counts.argmin()
    if counts[rare] < len(parts):
        raise SplitError(
            f"class {_named(classes[rare].item(), class_names)} has {counts[rare]} row(s); a "
            f"{'/'.join(name for name, _, _ in parts)} split needs at least {len(parts)} of every class"
        )
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng or 0)
    # per-class counts for test, then validation: proportional, then every class
    # gets a member in each non-empty part (taken from the largest allocation),
    # and keeps enough members for the parts still to fill
    per_part = []
    remaining = counts.copy()
    for size, later_parts in ((sizes[2], 1 + (sizes[1] > 0)), (sizes[1], 1)):
        alloc = _allocate(counts, size) if size else np.zeros_like(counts)
        if size:
            for empty in np.flatnonzero(alloc == 0):
                alloc[alloc.argmax()] -= 1
                alloc[empty] += 1
        alloc = np.minimum(alloc, remaining - later_parts)
        remaining -= alloc
        per_part.append(alloc)
    test_alloc, val_alloc = per_part
    train, val, test = [], [], []
    for c in range(len(classes)):
        members = gen.permutation(np.flatnonzero(inverse == c))
        t, v = test_alloc[c], val_alloc[c]
        test.append(members[:t])
        val.append(members[t : t + v])
        train.append(members[t + v :])
    shuffled = (gen.permutation(np.concatenate(p)).astype(np.int64) for p in (train, val, test))
    train_idx, val_idx, test_idx = shuffled
    return train_idx, val_idx, test_idx


def shuffled_indices(
    n: int,
    val_fraction: float = 0.0,
    test_fraction: float = 0.2,
    rng: np.random.Generator | int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays ``(train, val, test)`` of ``n`` rows drawn at random, not by class:
    the split for regression targets, which have no classes to share out. Part sizes
    round as :func:`stratified_indices`' do; :class:`SplitError` when a part asked for
    (or training) would be empty."""
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"val_fraction + test_fraction must leave rows to train on, got "
            f"{val_fraction} + {test_fraction}"
        )
    sizes = _part_sizes(n, val_fraction, test_fraction)
    if sizes[0] < 1:
        raise SplitError(
            f"{n} rows leave none to train on after holding out "
            f"{val_fraction + test_fraction:g} of them"
        )
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng or 0)
    order = gen.permutation(n).astype(np.int64)
    n_train, n_val = sizes[0], sizes[1]
    return order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]


def train_val_test_split(
    x: np.ndarray,
    y: np.ndarray,
    val_fraction: float = 0.0,
    test_fraction: float = 0.2,
    rng: np.random.Generator | int | None = None,
) -> Split:
    """Stratified split of ``x (n, ...)`` and ``y (n, ...)`` into train / validation / test."""
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
    tr, va, te = stratified_indices(y, val_fraction, test_fraction, rng)
    return Split(x[tr], y[tr], x[va], y[va], x[te], y[te])


def train_test_split(
    x: np.ndarray,
    y: np.ndarray,
    test_fraction: float = 0.2,
    rng: np.random.Generator | int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stratified ``(x_train, x_test, y_train, y_test)`` (scikit-learn's order)."""
    s = train_val_test_split(x, y, 0.0, test_fraction, rng)
    return s.x_train, s.x_test, s.y_train, s.y_test


def _named(label: int, class_names: Sequence[object] | None) -> str:
    """``0`` as a message names it: ``0``, or ``'chargeback'`` (class 0 of a file's)."""
    return repr(label) if class_names is None else repr(str(class_names[label]))
