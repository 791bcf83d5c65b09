"""Activations: hand-worked values and derivatives, and a sigmoid that never warns.

pytest runs with warnings as errors, so any overflow warning fails these tests.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from proplab import Identity, LeakyReLU, Linear, ReLU, Sigmoid, Tanh
from proplab.activations import sigmoid


def reference_sigmoid(x: np.ndarray) -> np.ndarray:
    """The textbook formula, with its overflow silenced (exp(1000) = inf, 1 / inf = 0)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


# --- hand-worked values --------------------------------------------------------------


def test_sigmoid_by_hand():
    # sigma(0) = 1/2; sigma(ln 3) = 1 / (1 + 1/3) = 3/4; sigma(-ln 3) = 1/4
    layer = Sigmoid()
    s = layer.forward(np.array([[0.0], [math.log(3)], [-math.log(3)]]))
    np.testing.assert_allclose(s, [[0.5], [0.75], [0.25]], rtol=1e-15)
    # derivative written in the output: s (1 - s) = 1/4, 3/16, 3/16; times grad_out 1, 2, 4
    grad = layer.backward(np.array([[1.0], [2.0], [4.0]]))
    np.testing.assert_allclose(grad, [[0.25], [0.375], [0.75]], rtol=1e-15)


def test_sigmoid_derivative_uses_output_not_input():
    # at z = 2: s = 0.8807970779778823, s (1 - s) = 0.10499358540350662;
    # the pitfall z (1 - z) would give -2
    layer = Sigmoid()
    layer.forward(np.array([[2.0]]))
    assert layer.backward(np.array([[1.0]]))[0, 0] == pytest.approx(0.10499358540350662, rel=1e-14)


def test_tanh_by_hand():
    # tanh(ln 2) = (4 - 1) / (4 + 1) = 0.6;  1 - 0.6^2 = 0.64
    layer = Tanh()
    t = layer.forward(np.array([[math.log(2), -math.log(2)]]))
    np.testing.assert_allclose(t, [[0.6, -0.6]], rtol=1e-15)
    np.testing.assert_allclose(layer.backward(np.array([[1.0, 0.5]])), [[0.64, 0.32]], rtol=1e-15)


def test_relu_by_hand():
    layer = ReLU()
    np.testing.assert_array_equal(layer.forward(np.array([[-2.0, 0.0, 3.0]])), [[0.0, 0.0, 3.0]])
    # derivative 0 at x = 0, as in PyTorch
    np.testing.assert_array_equal(layer.backward(np.array([[5.0, 5.0, 5.0]])), [[0.0, 0.0, 5.0]])


def test_leaky_relu_by_hand():
    layer = LeakyReLU(0.1)
    np.testing.assert_allclose(layer.forward(np.array([[-2.0, 3.0]])), [[-0.2, 3.0]], rtol=1e-15)
    np.testing.assert_allclose(layer.backward(np.array([[10.0, 10.0]])), [[1.0, 10.0]], rtol=1e-15)
    assert LeakyReLU().negative_slope == 0.01  # PyTorch's default


@pytest.mark.parametrize("slope", [-0.1, math.inf, math.nan])
def test_leaky_relu_rejects_bad_slope(slope):
    with pytest.raises(ValueError, match=f"negative_slope.*{slope}"):
        LeakyReLU(slope)


def test_identity_passes_through():
    layer, x = Identity(), np.array([[-1.5, 2.0]])
    np.testing.assert_array_equal(layer.forward(x), x)
    np.testing.assert_array_equal(layer.backward(np.array([[3.0, 4.0]])), [[3.0, 4.0]])


@pytest.mark.parametrize(
    "make", [Sigmoid, Tanh, ReLU, lambda: LeakyReLU(0.2)], ids=["sigmoid", "tanh", "relu", "leaky"]
)
def test_replica_axes_pass_through(rng, make):
    # element-wise: a (K, n, d) stack is just a bigger array, replica k as on its own
    x, g = rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 4, 2))
    stacked = make()
    out, grad = stacked.forward(x), stacked.backward(g)
    for k in range(3):
        single = make()
        np.testing.assert_array_equal(out[k], single.forward(x[k]))
        np.testing.assert_array_equal(grad[k], single.backward(g[k]))


# --- sigmoid at the extremes: no warning, right values -------------------------------


def test_sigmoid_matches_formula_where_nothing_overflows():
    x = np.linspace(-700.0, 700.0, 2801)
    np.testing.assert_allclose(sigmoid(x), reference_sigmoid(x), rtol=1e-15, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_extremes_without_warning(dtype):
    big = float(np.finfo(dtype).max)
    x = np.array([-big, -1e4, -1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0, 1e4, big], dtype)
    s = sigmoid(x)
    assert s.dtype == dtype
    assert np.all(np.isfinite(s)) and np.all(s >= 0) and np.all(s <= 1)
    # the formula's value (0 or 1 once exp overflows), to the smallest normal float:
    # sigmoid clamps exp's argument instead of overflowing, which moves the
    # result by less than that
    np.testing.assert_allclose(
        s, reference_sigmoid(x), rtol=4 * np.finfo(dtype).eps, atol=np.finfo(dtype).tiny
    )
    assert s[x == 0] == 0.5
    assert np.all(s[x >= 100] == 1.0)


def test_sigmoid_named_values():
    s = sigmoid(np.array([1000.0, -1000.0, 1e308, -1e308]))
    np.testing.assert_array_equal(s[[0, 2]], [1.0, 1.0])
    assert np.all(s[[1, 3]] <= np.finfo(np.float64).tiny)
    s32 = sigmoid(np.array([100.0, -100.0], np.float32))
    assert s32[0] == np.float32(1.0) and 0 <= s32[1] <= np.finfo(np.float32).tiny


def test_sigmoid_module_backward_at_extremes():
    layer = Sigmoid()
    layer.forward(np.array([[-1e308, -1000.0, 1000.0, 1e308]]))
    grad = layer.backward(np.ones((1, 4)))
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, 0.0, atol=np.finfo(np.float64).tiny)


def test_sigmoid_scalars_and_integers():
    assert float(sigmoid(0.0)) == 0.5
    assert float(sigmoid(np.float64(math.log(3)))) == pytest.approx(0.75, rel=1e-15)
    s = sigmoid(np.array([0, 2]))  # integers become float64
    assert s.dtype == np.float64
    np.testing.assert_allclose(s, [0.5, 1 / (1 + math.exp(-2))], rtol=1e-15)


def test_sigmoid_keeps_nan_and_handles_inf():
    s = sigmoid(np.array([np.nan, np.inf, -np.inf]))
    assert np.isnan(s[0]) and s[1] == 1.0 and 0 <= s[2] <= np.finfo(np.float64).tiny


def test_tanh_extremes_without_warning():
    t = Tanh().forward(np.array([-1e308, -1000.0, 1000.0, 1e308]))
    np.testing.assert_array_equal(t, [-1.0, -1.0, 1.0, 1.0])


@pytest.mark.parametrize("make", [Sigmoid, Tanh, ReLU, lambda: LeakyReLU(0.1)])
def test_out_argument_writes_the_same_numbers_into_the_given_array(make, rng):
    x = rng.standard_normal((3, 5, 4))
    g = rng.standard_normal((3, 5, 4))
    plain = make()
    expected_out, expected_grad = plain.forward(x), plain.backward(g)
    module = make()
    assert module.supports_out
    out, grad = np.full_like(x, np.nan), np.full_like(x, np.nan)
    assert module.forward(x, out=out) is out
    assert module.backward(g, out=grad) is grad
    np.testing.assert_array_equal(out, expected_out)
    np.testing.assert_array_equal(grad, expected_grad)


def test_integer_inputs_give_the_float_results():
    """Sigmoid raised KeyError on int64; LeakyReLU cast its slope to int (-2 -> 0)."""
    ints = np.array([[1, -2], [0, 3]])
    floats = ints.astype(np.float64)
    np.testing.assert_array_equal(Sigmoid()(ints), Sigmoid()(floats))
    np.testing.assert_array_equal(Sigmoid()([[1, -2], [0, 3]]), Sigmoid()(floats))
    np.testing.assert_array_equal(LeakyReLU(0.1)(ints), [[1.0, -0.2], [0.0, 3.0]])


@pytest.mark.parametrize("slope", ["a", True, -1, float("nan")])
def test_leaky_relu_slope_is_checked(slope):
    with pytest.raises(
        ValueError, match=rf"negative_slope must be a finite number >= 0, got {slope!r}"
    ):
        LeakyReLU(slope)


def test_leaky_relu_with_slope_0_is_relu():
    x = np.array([[-2.0, 0.0, 3.0]])
    act = LeakyReLU(0.0)
    np.testing.assert_array_equal(act(x), [[0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(act.backward(np.full((1, 3), 2.0)), [[0.0, 0.0, 2.0]])


def test_relu_gives_plus_zero_for_negatives_and_zero_at_minus_infinity():
    # x * (x > 0) gave -0.0 for every negative input and NaN at -inf; PyTorch gives 0
    x = np.array([[-3.0, -0.0, -np.inf, np.inf, 2.5]])
    y = ReLU().forward(x)
    np.testing.assert_array_equal(y, [[0.0, 0.0, 0.0, np.inf, 2.5]])
    assert not np.signbit(y[0, :3]).any()
    assert np.isnan(ReLU().forward(np.array([[np.nan]])))[0, 0]  # NaN stays NaN, as in torch
    out = np.full((1, 5), 7.0)
    assert ReLU().forward(x, out=out) is out and not np.signbit(out).any()


def test_relu_of_integers_is_float_like_every_activation():
    np.testing.assert_array_equal(ReLU()(np.array([[1, -2], [0, 3]])), [[1.0, 0.0], [0.0, 3.0]])
    assert ReLU()(np.array([[1, -2]])).dtype == np.float64


def test_the_dtypes_the_module_docstring_states_for_direct_calls():
    """Pinned so the docstring stays true (num21 M4): ReLU, LeakyReLU and Identity promote,
    Sigmoid and Tanh keep their output's dtype (promoting would cost a test every call),
    Linear computes in the promoted dtype of x and its weights."""
    x32 = np.array([[-1.0, 0.5]], dtype=np.float32)
    g64 = np.ones((1, 2))
    for make, promoted in [
        (Sigmoid, False),
        (Tanh, False),
        (ReLU, True),
        (lambda: LeakyReLU(0.1), True),
        (Identity, True),
    ]:
        act = make()
        act(x32)
        assert act.backward(g64).dtype == (np.float64 if promoted else np.float32)
    layer = Linear(2, 3, rng=np.random.default_rng(0), dtype=np.float32)
    assert layer(np.ones((1, 2))).dtype == np.float64
    assert layer(x32).dtype == np.float32
    assert layer.backward(np.ones((1, 3))).dtype == np.float64
