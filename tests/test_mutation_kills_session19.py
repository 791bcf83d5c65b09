"""Tests for mutants the suite let live (hollow19's planted bugs in metrics and schedules).

Each names the planted change it kills.
"""

from __future__ import annotations

import numpy as np
import pytest

from proplab import SGD, Linear
from proplab.metrics import predicted_labels, r2_score
from proplab.schedules import ReduceLROnPlateau
from proplab.scoring import accuracy


def test_a_prediction_of_exactly_one_half_is_class_0_for_accuracy_as_for_the_labels() -> None:
    # mutant M1: accuracy thresholded at >= 0.5 (class 1) where predicted_labels says 0
    pred = np.array([[0.5], [0.5], [0.75]])
    assert predicted_labels(pred).tolist() == [0, 0, 1]
    assert accuracy(pred, np.array([[0], [1], [1]])) == pytest.approx(2 / 3)
    assert accuracy(pred, np.array([[0], [0], [1]])) == 1.0


def test_r2_of_several_outputs_averages_each_output_s_own_score() -> None:
    # mutants M3 (the total sum of squares about the mean of every output together) and
    # M4 (only the first output scored): by hand, output 1 scores 0.5 and output 2 -1.0
    target = np.array([[0.0, 10.0], [2.0, 14.0]])  # means 1 and 12; SS_tot 2 and 8
    pred = np.array([[0.0, 12.0], [1.0, 12.0]])  # SS_res 1 and 8 -> 1 - 1/2, 1 - 8/8
    assert r2_score(pred, target) == pytest.approx((0.5 + 0.0) / 2)
    skl = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y = rng.normal(size=(30, 3)) * [1.0, 10.0, 100.0] + [0.0, 5.0, -50.0]
    guess = y + rng.normal(size=(30, 3)) * [0.5, 9.0, 20.0]
    assert r2_score(guess, y) == pytest.approx(skl.r2_score(y, guess), rel=1e-12)


def test_reduce_on_plateau_measures_a_relative_threshold_against_the_best() -> None:
    # mutant Sc4: mode "min" with threshold_mode "rel" read as abs (best - threshold).
    # best 10, threshold 0.01: improvement needs < 9.9 (rel), not < 9.99 (abs)
    layer = Linear(1, 1, rng=np.random.default_rng(0))
    opt = SGD(layer.parameters(), lr=1.0)
    plateau = ReduceLROnPlateau(opt, patience=0, threshold=0.01, threshold_mode="rel")
    plateau.step(10.0)
    plateau.step(9.95)  # within 1 % of the best: a bad epoch, and patience 0 cuts at once
    assert opt.lr == pytest.approx(0.1) and float(plateau.best) == 10.0
    plateau.step(9.8)  # below 9.9: an improvement
    assert opt.lr == pytest.approx(0.1) and float(plateau.best) == 9.8
    absolute = SGD(Linear(1, 1, rng=np.random.default_rng(0)).parameters(), lr=1.0)
    same = ReduceLROnPlateau(absolute, patience=0, threshold=0.01, threshold_mode="abs")
    same.step(10.0)
    same.step(9.95)  # below 10 - 0.01: an improvement in abs mode
    assert absolute.lr == 1.0 and float(same.best) == 9.95
