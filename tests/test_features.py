"""Input features (x1², x1·x2, sin...): hand-worked values, a central-difference check of
the backward, stacks, names, and PyTorch's autograd on the same formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from proplab import gradcheck
from proplab.features import FEATURES, Features, feature_names

ALL = list(FEATURES)


def test_values_by_hand() -> None:
    x = np.array([[2.0, 3.0], [-1.0, 0.5]])
    out = Features(ALL).forward(x)
    expected = [
        [2.0, 3.0, 4.0, 9.0, 6.0, math.sin(2.0), math.sin(3.0)],
        [-1.0, 0.5, 1.0, 0.25, -0.5, math.sin(-1.0), math.sin(0.5)],
    ]
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    # the columns follow the order asked for
    np.testing.assert_array_equal(Features(["x1_x2", "x1"]).forward(x), [[6.0, 2.0], [-0.5, -1.0]])


def test_backward_by_hand() -> None:
    # L = 1*x1² + 1*x1x2 + 1*sin(x2): dL/dx1 = 2 x1 + x2, dL/dx2 = x1 + cos(x2)
    layer = Features(["x1_sq", "x1_x2", "sin_x2"])
    x = np.array([[2.0, 3.0]])
    layer.forward(x)
    grad = layer.backward(np.ones((1, 3)))
    np.testing.assert_allclose(grad, [[7.0, 2.0 + math.cos(3.0)]], rtol=1e-15)


@pytest.mark.parametrize("names", [ALL, ["x1_x2"], ["sin_x1", "x2_sq"], ["x2", "x1"]])
def test_backward_matches_central_differences(names) -> None:
    x = np.random.default_rng(0).normal(size=(6, 2))
    result = gradcheck(Features(names), x)
    assert result.ok, str(result)
    assert result.errors["input"] < 1e-8


def test_a_stack_maps_each_replicas_inputs() -> None:
    x = np.random.default_rng(1).normal(size=(3, 5, 2))  # 3 replicas' own data
    layer = Features(ALL)
    out = layer.forward(x)
    assert out.shape == (3, 5, 7)
    for k in range(3):
        np.testing.assert_array_equal(out[k], Features(ALL).forward(x[k]))
    grad = layer.backward(np.ones_like(out))
    single = Features(ALL)
    single.forward(x[1])
    np.testing.assert_array_equal(grad[1], single.backward(np.ones((5, 7))))


def test_names_and_aliases() -> None:
    assert feature_names(["X1", "x1^2", "x1*x2", "sin(x2)", "x2²"]) == (
        "x1",
        "x1_sq",
        "x1_x2",
        "sin_x2",
        "x2_sq",
    )
    assert repr(Features(["x1x2", "x1"])) == "Features(x1_x2, x1)"


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            ["x3"],
            r"features: unknown feature 'x3' \(accepted: x1, x2, x1_sq, x2_sq, x1_x2, sin_x1, sin_x2\)",
        ),
        (["sinx1"], r"did you mean 'sin_x1'\?"),
        (["x1", "x1^2", "x1_sq"], r"features: 'x1_sq' is given twice"),
        ([], r"features: at least one is needed"),
        ("x1", r"features: must be a list of feature names, got 'x1'"),
    ],
)
def test_bad_names_are_named(names, message) -> None:
    with pytest.raises(ValueError, match=message):
        Features(names)


def test_inputs_other_than_two_are_refused() -> None:
    with pytest.raises(
        ValueError,
        match=r"Features takes two inputs \(x1, x2\) in the last axis, got shape \(4, 3\)",
    ):
        Features(["x1"]).forward(np.ones((4, 3)))


@pytest.mark.torch
def test_matches_torch_autograd() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).normal(size=(8, 2))
    g = np.random.default_rng(3).normal(size=(8, 7))
    layer = Features(ALL)
    out = layer.forward(x)
    grad = layer.backward(g)
    t = torch.tensor(x, requires_grad=True)
    a, b = t[:, 0], t[:, 1]
    t_out = torch.stack([a, b, a * a, b * b, a * b, torch.sin(a), torch.sin(b)], dim=-1)
    t_out.backward(torch.tensor(g))
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-14, atol=1e-15)
