"""Every layer is vectorised: the Python a training step runs does not grow with the data.

LAB_SPEC's last pitfall is a "Conv1D" that ran ~60x slower than the MLP: it looped in
Python over samples and positions. Speed itself is measured by ``make bench``, never
timed in a test; what a test can check exactly is the *work the interpreter does*: the
number of Python lines a forward and backward pass executes (proplab's and NumPy's own
Python). A vectorised layer runs the same lines for 4 samples or 64, for 3 positions or
30; a loop over samples or positions runs more lines for more of them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
import pytest

from proplab import Conv1d, MSELoss, mlp
from proplab.config import RunConfig, build_model
from proplab.conv import Conv1dNaive


def python_lines_run(step: Callable[[], object]) -> int:
    """How many Python lines ``step()`` executes, in every Python frame it enters."""
    lines = 0

    def tracer(frame, event, arg):
        nonlocal lines
        if event == "line":
            lines += 1
        return tracer

    previous = sys.gettrace()  # a coverage tool's tracer, put back after
    sys.settrace(tracer)
    try:
        step()
    finally:
        sys.settrace(previous)
    return lines


def training_step(model, x: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """One forward pass, loss and backward pass of ``model`` on ``x (n, in)``, ``y (n, out)``."""
    loss = MSELoss()

    def step() -> None:
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())

    step()  # warm: first-call set-up (a lazily built buffer) is not the per-step work
    return step


def lines_for(make_model: Callable[[], object], n: int, n_in: int = 2) -> int:
    rng = np.random.default_rng(0)
    model = make_model()
    x, y = rng.uniform(size=(n, n_in)), rng.uniform(size=(n, 1))
    return python_lines_run(training_step(model, x, y))


@pytest.mark.parametrize(
    "name",
    ["mlp (the lab model)", "conv (Conv1d + MLP)"],
)
def test_the_lab_models_run_the_same_python_for_4_samples_or_64(name):
    cfg = RunConfig(model=name.split()[0]).validate()

    def make():
        return build_model(cfg, 2, 1)

    assert lines_for(make, 4) == lines_for(make, 64) > 0


@pytest.mark.parametrize("length", [3, 30])
def test_conv1d_runs_the_same_python_for_any_batch_and_length(length):
    def layer_lines(n: int, length: int) -> int:
        rng = np.random.default_rng(0)
        conv = Conv1d(2, 4, kernel_size=3, padding=1, rng=rng)
        x = rng.standard_normal((n, 2, length))

        def step():
            conv.backward(np.ones_like(conv.forward(x)))

        step()
        return python_lines_run(step)

    assert layer_lines(4, length) == layer_lines(64, length) == layer_lines(4, 3)


def test_the_check_catches_a_conv1d_that_loops_in_python():
    # the slow, obvious twin (tested elsewhere to give the same numbers) loops over
    # samples and positions: the same count is what tells a vectorised layer from it
    def loop_lines(n: int) -> int:
        rng = np.random.default_rng(0)
        conv = Conv1dNaive(2, 4, kernel_size=3, padding=1, rng=rng)
        x = rng.standard_normal((n, 2, 5))

        def step():
            conv.backward(np.ones_like(conv.forward(x)))

        step()
        return python_lines_run(step)

    assert loop_lines(64) > 10 * loop_lines(4)


def test_an_mlp_layer_count_shows_in_the_lines_but_not_its_width():
    # the count does see the model's structure (one more layer, more lines) and is
    # blind to its width: the sizes of arrays are NumPy's business
    def lab(hidden):
        return lambda: mlp(2, hidden, 1, rng=np.random.default_rng(0))

    assert lines_for(lab((10, 10)), 21) == lines_for(lab((100, 100)), 21)
    assert lines_for(lab((10, 10, 10)), 21) > lines_for(lab((10, 10)), 21)
