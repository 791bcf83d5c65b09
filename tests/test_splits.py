"""Stratified splits (fit's mini-batches: tests/test_train.py)."""

import signal

import numpy as np
import pytest

from proplab.metrics import one_hot
from proplab.splits import (
    SplitError,
    _min_rows,
    _part_sizes,
    stratified_indices,
    train_test_split,
    train_val_test_split,
)


def test_stratified_counts_worked_by_hand() -> None:
    # 100 rows: 50 / 30 / 20 of classes 0 / 1 / 2. test 20 % -> 10 / 6 / 4,
    # validation 10 % -> 5 / 3 / 2, train the rest -> 35 / 21 / 14.
    y = np.repeat(np.arange(3), [50, 30, 20])
    train, val, test = stratified_indices(y, val_fraction=0.1, test_fraction=0.2, rng=0)
    assert np.bincount(y[test]).tolist() == [10, 6, 4]
    assert np.bincount(y[val]).tolist() == [5, 3, 2]
    assert np.bincount(y[train]).tolist() == [35, 21, 14]
    # a partition: every row exactly once
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(100))


def test_rounding_follows_scikit_learn() -> None:
    # held-out parts round up (ceil(0.25 * 10) = 3), training keeps the rest
    y = np.arange(10) % 2
    train, val, test = stratified_indices(y, 0.0, 0.25, rng=1)
    assert (len(train), len(val), len(test)) == (7, 0, 3)
    assert sorted(np.bincount(y[test]).tolist()) == [1, 2]


def test_seeded_and_shuffled() -> None:
    y = np.arange(60) % 3
    a = stratified_indices(y, 0.2, 0.2, rng=5)
    b = stratified_indices(y, 0.2, 0.2, rng=np.random.default_rng(5))
    c = stratified_indices(y, 0.2, 0.2, rng=6)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(a[2], c[2])
    assert not np.array_equal(np.sort(a[0]), a[0])  # not left in index order


def test_split_arrays_follow_indices_and_one_hot_labels() -> None:
    x = np.arange(40.0).reshape(20, 2)
    labels = np.arange(20) % 2
    s = train_val_test_split(x, one_hot(labels), 0.0, 0.2, rng=3)
    assert s.x_train.shape == (16, 2) and s.x_test.shape == (4, 2) and s.x_val.shape == (0, 2)
    # each row keeps its label: x[i] = (2i, 2i + 1), label i % 2
    rows = (s.x_test[:, 0] / 2).astype(int)
    np.testing.assert_array_equal(s.y_test.argmax(1), rows % 2)
    x_tr, x_te, y_tr, y_te = train_test_split(x, labels[:, None], 0.2, rng=3)
    np.testing.assert_array_equal(x_te, s.x_test)
    np.testing.assert_array_equal(y_tr[:, 0], (x_tr[:, 0] / 2).astype(int) % 2)


def test_too_few_rows_are_explained() -> None:
    with pytest.raises(
        SplitError, match="5 rows are too few for a test share of 0.2 .* need at least 6 rows"
    ):
        stratified_indices(np.arange(5) % 2, 0.0, 0.2)
    assert len(stratified_indices(np.arange(6) % 2, 0.0, 0.2)[2]) == 2
    with pytest.raises(SplitError, match="class 1 has 1 row"):
        stratified_indices(np.array([0] * 20 + [1]), 0.0, 0.2)
    with pytest.raises(ValueError, match="must leave rows to train on"):
        stratified_indices(np.arange(10) % 2, 0.5, 0.5)


def _min_rows_by_counting(n_classes: int, val: float, test: float) -> int:
    """The definition of the minimum, counted up one row at a time (slow for tiny shares)."""
    n = n_classes
    while True:
        sizes = _part_sizes(n, val, test)
        if all(
            s >= n_classes for s, f in zip(sizes, (1 - val - test, val, test), strict=True) if f > 0
        ):
            return n
        n += 1


def test_min_rows_matches_counting_up() -> None:
    shares = (0.0, 0.001, 0.01, 0.05, 0.1, 0.15, 0.2, 1 / 3, 0.45, 0.5, 0.7, 0.9, 0.97)
    checked = 0
    for n_classes in (1, 2, 3, 7, 10):
        for val in shares:
            for test in shares:
                if val + test < 1:
                    expected = _min_rows_by_counting(n_classes, val, test)
                    assert _min_rows(n_classes, val, test) == expected, (n_classes, val, test)
                    checked += 1
    assert checked > 500


def test_min_rows_of_a_tiny_share_is_computed_not_counted() -> None:
    # counting up to ~1e10 rows one at a time took ~25 minutes: fail after 5 s instead
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("_min_rows counted up for too long"))
    signal.alarm(5)
    try:
        n = _min_rows(10, 0.0, 1e-9)
        with pytest.raises(SplitError, match="need at least 9000000001 rows"):
            stratified_indices(np.arange(20) % 10, 0.0, 1e-9)
    finally:
        signal.alarm(0)
    assert n == 9_000_000_001  # ceil(1e-9 * n) >= 10 first holds past n = 9e9
    assert _part_sizes(n, 0.0, 1e-9)[2] == 10 and _part_sizes(n - 1, 0.0, 1e-9)[2] == 9


# --- mutation-testing gaps: the allocation rules -----------------------------------------


def test_the_largest_remainder_wins_the_leftover_rows_and_ties_go_to_the_larger_class() -> None:
    from proplab.splits import _allocate

    # exact shares 2.5 / 1.5 / 1.0 of 5: floors 2 / 1 / 1, one row left; remainders tie
    # at 0.5 for classes 0 and 1: the larger class (0) takes it
    assert _allocate(np.array([5, 3, 2]), 5).tolist() == [3, 1, 1]
    # shares 1.2 / 2.7 / 2.1 of 6: floors 1 / 2 / 2, one row left: remainder 0.7 wins
    assert _allocate(np.array([4, 9, 7]), 6).tolist() == [1, 3, 2]
    y = np.repeat(np.arange(3), [4, 9, 7])
    _, _, test = stratified_indices(y, 0.0, 0.3, rng=0)
    assert np.bincount(y[test]).tolist() == [1, 3, 2]


def test_a_rare_class_still_gets_a_test_row() -> None:
    # 20 % of 20 rows is 4: proportionally 3.6 / 0.4, the rare class would get none
    y = np.repeat([0, 1], [18, 2])
    train, _, test = stratified_indices(y, 0.0, 0.2, rng=0)
    assert np.bincount(y[test]).tolist() == [3, 1]
    assert np.bincount(y[train]).tolist() == [15, 1]


def test_a_class_with_one_row_per_part_is_enough() -> None:
    y = np.repeat([0, 1, 2], [8, 8, 3])  # class 2: one row for each of three parts
    train, val, test = stratified_indices(y, 0.2, 0.2, rng=0)
    assert [int(np.sum(y[p] == 2)) for p in (train, val, test)] == [1, 1, 1]


def test_each_part_mixes_the_classes() -> None:
    """The rows of a part are shuffled together, not left class after class."""
    y = np.repeat([0, 1], 50)
    for part in stratified_indices(y, 0.2, 0.2, rng=0):
        labels = y[part]
        assert np.count_nonzero(np.diff(labels)) > 2  # a class-by-class order has one change
