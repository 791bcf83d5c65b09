"""Shared fixtures for the engine tests: explicit generators and the lab's XOR data."""

from __future__ import annotations

import numpy as np
import pytest

from proplab.data import generate_xor_easy


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded Generator per test (nothing touches global random state)."""
    return np.random.default_rng(20240611)


@pytest.fixture
def xor() -> tuple[np.ndarray, np.ndarray]:
    """The handout's 21 XOR points: ``x (21, 2)`` float64, ``y (21, 1)`` int64."""
    return generate_xor_easy()
