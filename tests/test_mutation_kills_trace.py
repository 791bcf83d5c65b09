"""Tests written to kill mutants that survived the suite (mutation testing of the trace
code: trace.py, trace_text.py, trace_check.py, trace_run.py, trace_plots.py, proplab
trace's CLI and the playground's one step by hand).

Each test names the behaviour it pins down; the mutant it was written against is said in
a comment (a change of the source that the rest of the suite let through).
"""

from __future__ import annotations

import numpy as np
import pytest

import proplab
from proplab.activations import Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from proplab.batchnorm import BatchNorm1d
from proplab.dropout import Dropout
from proplab.layers import Linear
from proplab.trace import trace_step
from proplab.trace_text import array_lines, number


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def _shown(text: str, label: str, digits: int = 4) -> str:
    """The value on the last line starting ``label =`` (stripped)."""
    return [ln for ln in _lines(text) if ln.startswith(f"{label} = ")][-1].split(" = ")[-1]


# ------------------------------------------- every element-wise module's own formulas


def _mixed_model() -> proplab.Sequential:
    rng = np.random.default_rng(0)
    return proplab.Sequential(
        Linear(2, 2, rng=rng), Tanh(),
        Linear(2, 2, rng=rng), ReLU(), Dropout(0.5, rng=np.random.default_rng(1)),
        Linear(2, 2, rng=rng), LeakyReLU(0.1),
        Linear(2, 1, rng=rng), Identity(),
    )  # fmt: skip


X2 = np.array([[0.5, -1.0], [1.0, 2.0]])
T2 = np.array([[1.0], [0.0]])


def test_each_element_wise_module_shows_its_formula_and_its_numbers_fit_it() -> None:
    # mutants: tanh' = 1 + a^2, relu' = 1 where z >= 0, leaky forward without its input,
    # dropout scaled by 1/p, dropout named d3 (after layer 2 it is d2)
    model = _mixed_model()
    trace = trace_step(model, proplab.MSELoss(), X2, T2)
    lines = _lines(trace.text())
    for line in (
        "a1 = tanh(z1)   (element-wise)",
        "dL/dz1 = dL/da1 * f'(z1),  f'(z1) = 1 - a1^2   (element-wise)",
        "a2 = max(0, z2)   (element-wise)",
        "dL/dz2 = dL/da2 * f'(z2),  f'(z2) = 1 where z2 > 0, else 0   (element-wise)",
        "d2 = a2 * mask / (1 - 0.5)   (element-wise)",
        "a3 = z3 where z3 > 0, else 0.1 z3   (element-wise)",
        "dL/dz3 = dL/da3 * f'(z3),  f'(z3) = 1 where z3 > 0, else 0.1   (element-wise)",
        "a4 = z4 (identity)   (element-wise)",
        "dL/dz4 = dL/da4 * f'(z4),  f'(z4) = 1   (element-wise)",
    ):
        assert line in lines
    # and the numbers are what the formulas say
    tanh, relu, drop, leaky = (trace.modules[i] for i in (1, 3, 4, 6))
    np.testing.assert_allclose(tanh.local, 1 - tanh.output**2)
    np.testing.assert_array_equal(relu.local, (relu.input > 0).astype(float))
    mask = drop.local != 0
    np.testing.assert_allclose(drop.output, drop.input * mask / (1 - 0.5))
    np.testing.assert_allclose(leaky.output, np.where(leaky.input > 0, 1, 0.1) * leaky.input)


def test_the_loss_after_reuses_the_steps_dropout_mask() -> None:
    # mutant: the loss after the step drawn with a fresh dropout mask
    model = _mixed_model()
    trace = trace_step(model, proplab.MSELoss(), X2, T2, proplab.SGD(model.parameters(), lr=0.05))
    mask = trace.modules[4].local != 0
    h = X2
    for step in trace.modules:
        m = step.module
        if isinstance(m, Linear):
            h = h @ step.updated["weight"] + step.updated["bias"]
        elif isinstance(m, Dropout):
            h = h * mask / (1 - m.p)
        elif isinstance(m, Tanh):
            h = np.tanh(h)
        elif isinstance(m, ReLU):
            h = np.maximum(h, 0)
        elif isinstance(m, LeakyReLU):
            h = np.where(h > 0, h, 0.1 * h)
    assert trace.loss_after == pytest.approx(np.mean((h - T2) ** 2), rel=1e-12)


# ------------------------------------------------------------------ names of the arrays


def test_a_nested_sequential_is_traced_as_the_flat_one() -> None:
    # mutant: the modules of a Sequential inside a Sequential are not taken one by one
    flat = proplab.mlp(2, 2, 1, rng=np.random.default_rng(0))
    nested = proplab.Sequential(
        proplab.Sequential(*flat.layers[:2]), proplab.Sequential(*flat.layers[2:])
    )
    x, t = np.array([[0.5, 1.0]]), np.array([[1.0]])
    a = trace_step(flat, proplab.MSELoss(), x, t).text()
    b = trace_step(nested, proplab.MSELoss(), x, t).text()
    assert a == b and "z1 = x W1 + b1   (Linear, 2 -> 2)" in _lines(b)


def test_modules_before_the_first_layer_are_numbered_1() -> None:
    # mutants: an activation, a batchnorm before any layer named a0 / bn0 / gamma0
    rng = np.random.default_rng(0)
    model = proplab.Sequential(BatchNorm1d(2), Tanh(), Linear(2, 1, rng=rng))
    x = np.array([[0.5, 1.0], [-1.0, 2.0]])
    trace = trace_step(model, proplab.MSELoss(), x, np.array([[1.0], [0.0]]))
    assert [s.name for s in trace.modules] == ["bn1", "a1", "z1"]
    lines = _lines(trace.text())
    assert "a1 = tanh(bn1)   (element-wise)" in lines
    assert "gamma1 = [1  1]" in lines and "beta1 = [0  0]" in lines


def test_two_activations_in_a_row_get_a_prime() -> None:
    # mutants: every name primed; the second one primed twice
    rng = np.random.default_rng(0)
    model = proplab.Sequential(Linear(2, 2, rng=rng), Tanh(), Sigmoid(), Linear(2, 1, rng=rng))
    trace = trace_step(model, proplab.MSELoss(), np.array([[0.5, 1.0]]), np.array([[1.0]]))
    assert [s.name for s in trace.modules] == ["z1", "a1", "a1'", "z2"]
    assert "a1' = sigmoid(a1) = 1 / (1 + exp(-a1))   (element-wise)" in _lines(trace.text())


def test_inputs_with_more_than_two_axes_are_refused() -> None:
    # mutant: only x.ndim < 2 refused (a replica stack's (K, n, in) data went through)
    model = proplab.mlp(2, 2, 1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"inputs x of shape \(n, in\).*got shape \(1, 1, 2\)"):
        trace_step(model, proplab.MSELoss(), np.zeros((1, 1, 2)), np.zeros((1, 1)))
