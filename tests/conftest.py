"""Shared fixtures: explicit generators, the lab's XOR data, and Ctrl-C as in a terminal."""

from __future__ import annotations

import signal

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


@pytest.fixture
def ctrl_c():
    """SIGINT raises KeyboardInterrupt, as in a terminal (a test run started in the
    background by a non-interactive shell inherits SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
