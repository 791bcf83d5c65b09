"""Shared fixtures: explicit generators, the lab's XOR data, and Ctrl-C as in a terminal."""

from __future__ import annotations

import signal

import numpy as np
import pytest

from proplab import experiments
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


def fit_pressing_ctrl_c(at_epoch: int = 7):
    """A stand-in for ``train.fit`` (monkeypatched into ``run_parts.fit``) that trains as fit
    does and raises KeyboardInterrupt during epoch ``at_epoch``, as Ctrl-C would (fit
    keeps it as stop_reason "interrupted" and calls back again at the end)."""
    from proplab import train

    def fit_with_ctrl_c(*args, **kwargs):
        pressed = []

        def press(epoch, history):
            if not pressed and epoch == at_epoch:
                pressed.append(epoch)
                raise KeyboardInterrupt

        return train.fit(*args, **{**kwargs, "callback": press, "callback_every": 1})

    return fit_with_ctrl_c


@pytest.fixture
def no_figures(monkeypatch):
    """run_one without its figures (matplotlib's ~2 s): the printed lines are the same."""
    real = experiments.run_one

    def run_one(cfg, run_dir, **kwargs):
        return real(cfg, run_dir, **{**kwargs, "figures": False})

    monkeypatch.setattr(experiments, "run_one", run_one)
