"""best_line_hits: how many points the best straight boundary gets right, against a slow
sweep over directions and cuts (the report quotes it for XOR: 16 of 21)."""

from __future__ import annotations

import numpy as np
import pytest

import proplab
from proplab.report_data import best_line_hits


def _swept(x: np.ndarray, y: np.ndarray, steps: int = 7_200) -> int:
    """The slow, obvious twin: every direction on a fine circle, every cut between two
    different projections, class 1 on either side."""
    y = y.reshape(-1) > 0.5
    best = 0
    for angle in np.linspace(0.0, 2 * np.pi, steps, endpoint=False):
        p = x @ np.array([np.cos(angle), np.sin(angle)])
        order = np.argsort(p, kind="stable")
        ps, ys = p[order], y[order]
        for k in range(len(p) + 1):
            if 0 < k < len(p) and ps[k] == ps[k - 1]:
                continue  # a cut cannot split equal projections
            hits = int((~ys[:k]).sum() + ys[k:].sum())
            best = max(best, hits, len(p) - hits)
    return best


def test_xor_and_the_linear_set():
    x, y = proplab.generate_xor_easy()
    assert best_line_hits(x, y) == 16 == _swept(x, y)  # 76.2 %: no line separates XOR
    x, y = proplab.generate_linear(100, rng=0)
    assert best_line_hits(x, y) == 100  # the line x0 = x1 separates it


@pytest.mark.parametrize("seed", range(12))
def test_matches_the_slow_sweep_on_random_points(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 13))
    x = rng.normal(size=(n, 2))
    if seed % 3 == 0:  # whole numbers: repeated points, collinear points, ties
        x = np.round(x)
    y = rng.integers(0, 2, n)
    assert best_line_hits(x, y) == _swept(x, y, steps=3_600)


def test_a_separable_set_and_one_with_a_point_given_both_classes():
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert best_line_hits(x, np.array([0, 0, 1, 1])) == 4
    assert best_line_hits(x, np.array([0, 1, 1, 0])) == 3  # the 4-point XOR
    twice = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    assert best_line_hits(twice, np.array([0, 1, 1])) == 2  # one copy is always wrong
