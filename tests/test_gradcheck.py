"""Central-difference gradient checks of every module and loss, single and stacked.

All in float64. ReLU and LeakyReLU inputs are kept away from 0, where the
derivative jumps and central differences straddle the kink.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from proplab import (
    SGD,
    BCELoss,
    CrossEntropyLoss,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    Module,
    MSELoss,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    fit,
    generate_xor_easy,
    gradcheck,
    mlp,
)
from proplab.gradcheck import numeric_gradient, relative_error

TOL = 1e-7  # central differences in float64 reach ~1e-10 on these smooth functions


def own_notes(result) -> list[str]:
    """A result's notes but the one every check on fewer than 3 samples gets (tested in
    test_a_check_on_fewer_than_3_samples_says_a_missing_1_over_n_can_hide)."""
    return [note for note in result.notes if not note.startswith("checked on ")]


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values in +-[0.1, 2]: far from the kink of ReLU-like functions."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 2.0, size=shape)


def assert_gradcheck(result, names: set[str]) -> None:
    assert set(result.errors) == names
    assert result.ok, str(result)
    assert result.worst < TOL, str(result)


# --- modules, one model --------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
def test_linear(rng, bias):
    layer = Linear(3, 4, bias=bias, rng=rng)
    if bias:
        layer.bias.data[...] = rng.standard_normal(4)  # zero bias would hide nothing
    names = {"input", "weight", "bias"} if bias else {"input", "weight"}
    assert_gradcheck(gradcheck(layer, rng.standard_normal((5, 3))), names)


@pytest.mark.parametrize("module", [Sigmoid, Tanh, Identity])
def test_smooth_activations(rng, module):
    assert_gradcheck(gradcheck(module(), rng.uniform(-4, 4, size=(6, 3))), {"input"})


@pytest.mark.parametrize(
    "module", [ReLU, lambda: LeakyReLU(0.1), LeakyReLU], ids=["relu", "leaky_0.1", "leaky_default"]
)
def test_piecewise_activations(rng, module):
    x = away_from_zero(rng, (6, 3))
    assert (x > 0).any() and (x < 0).any()  # both branches are exercised
    assert_gradcheck(gradcheck(module(), x), {"input"})


def test_flatten(rng):
    # Conv1d layout (n, C, L) -> (n, C * L)
    assert_gradcheck(gradcheck(Flatten(), rng.standard_normal((4, 3, 5))), {"input"})


def test_sequential_by_hand(rng):
    model = Sequential(Linear(2, 3, rng=rng), Tanh(), Linear(3, 2, rng=rng), Sigmoid())
    names = {"input", "0.weight", "0.bias", "2.weight", "2.bias"}
    assert_gradcheck(gradcheck(model, rng.standard_normal((7, 2))), names)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
def test_mlp(rng, activation):
    model = mlp(2, (4, 3), 1, activation=activation, rng=rng)
    for p in model.parameters():
        if p.name == "bias":
            p.data[...] = rng.uniform(0.2, 0.5, size=p.shape)
    names = {"input"} | {f"{i}.{n}" for i in (0, 2, 4) for n in ("weight", "bias")}
    assert_gradcheck(gradcheck(model, rng.standard_normal((6, 2))), names)


def test_mlp_without_bias_or_output_activation(rng):
    model = mlp(3, 5, 2, activation="tanh", output_activation=None, bias=False, rng=rng)
    names = {"input", "0.weight", "2.weight", "4.weight"}
    assert_gradcheck(gradcheck(model, rng.standard_normal((4, 3))), names)


# --- losses, one model ---------------------------------------------------------------


def test_mse(rng):
    pred, target = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    assert_gradcheck(gradcheck(MSELoss(), pred, target), {"pred"})


def test_bce(rng):
    pred = rng.uniform(0.05, 0.95, size=(6, 1))
    target = rng.integers(0, 2, size=(6, 1)).astype(np.float64)
    assert_gradcheck(gradcheck(BCELoss(), pred, target), {"pred"})


def test_bce_soft_targets(rng):
    pred, target = rng.uniform(0.05, 0.95, size=(4, 3)), rng.uniform(0, 1, size=(4, 3))
    assert_gradcheck(gradcheck(BCELoss(), pred, target), {"pred"})


# --- replica stacks ------------------------------------------------------------------


@pytest.mark.parametrize("data_shape", [(5, 3), (3, 5, 3)], ids=["shared", "per-replica"])
def test_linear_replicas(rng, data_shape):
    layer = Linear(3, 2, rng=rng, replicas=(3,))
    assert layer.weight.shape == (3, 3, 2) and layer.bias.shape == (3, 2)
    layer.bias.data[...] = rng.standard_normal((3, 2))
    x = rng.standard_normal(data_shape)
    # the input gradient has the input's shape: summed over replicas for shared data
    assert layer.forward(x).shape == (3, 5, 2)
    assert layer.backward(np.ones((3, 5, 2))).shape == data_shape
    assert_gradcheck(gradcheck(layer, x), {"input", "weight", "bias"})


@pytest.mark.parametrize("activation", [Sigmoid, Tanh, Identity])
def test_activation_on_replica_stack(rng, activation):
    assert_gradcheck(gradcheck(activation(), rng.standard_normal((3, 4, 2))), {"input"})


def test_relu_on_replica_stack(rng):
    assert_gradcheck(gradcheck(ReLU(), away_from_zero(rng, (3, 4, 2))), {"input"})
    assert_gradcheck(gradcheck(LeakyReLU(0.2), away_from_zero(rng, (3, 4, 2))), {"input"})


def test_mlp_stack_with_shared_data(rng):
    model = mlp(2, 4, 1, activation="tanh", seeds=[1, 2, 3])
    names = {"input"} | {f"{i}.{n}" for i in (0, 2, 4) for n in ("weight", "bias")}
    assert_gradcheck(gradcheck(model, rng.standard_normal((5, 2))), names)


@pytest.mark.parametrize("target_shape", [(6, 1), (3, 6, 1)], ids=["shared", "per-replica"])
@pytest.mark.parametrize("loss", [MSELoss, BCELoss])
def test_losses_on_replica_stack(rng, loss, target_shape):
    pred = rng.uniform(0.05, 0.95, size=(3, 6, 1))
    target = rng.integers(0, 2, size=target_shape).astype(np.float64)
    value = loss()(pred, target)
    assert isinstance(value, np.ndarray) and value.shape == (3,)
    assert_gradcheck(gradcheck(loss(), pred, target), {"pred"})


# --- gradcheck catches wrong backward passes -----------------------------------------


class SigmoidDerivativeOfZ(Sigmoid):
    """The lab's classic bug: s(1 - s) evaluated at the input z instead of the output s."""

    def forward(self, x):
        self.z = x
        return super().forward(x)

    def backward(self, grad_out, need_input_grad=True):
        return grad_out * self.z * (1.0 - self.z)


class ScalarBiasGrad(Linear):
    """Bias gradient summed to a scalar (over samples *and* units) instead of per unit."""

    def backward(self, grad_out, need_input_grad=True):
        self.weight.accumulate(self.x.mT @ grad_out)
        self.bias.accumulate(np.sum(grad_out))
        return grad_out @ self.weight.data.mT


class WrongShapeInputGrad(Identity):
    """Returns one row of gradient, which broadcasts but is not dL/dx."""

    def backward(self, grad_out, need_input_grad=True):
        return grad_out.sum(axis=-2, keepdims=True)


class SumGradientMSE(MSELoss):
    """Reports the mean but returns the gradient of the sum (a pitfall in the seed)."""

    def backward(self):
        return 2.0 * self.diff


class MissingFactorTwoMSE(MSELoss):
    def backward(self):
        return self.diff / self.count


def test_gradcheck_catches_sigmoid_derivative_of_z(rng):
    result = gradcheck(SigmoidDerivativeOfZ(), rng.uniform(-3, 3, size=(5, 2)))
    assert not result.ok and result.errors["input"] > 0.1
    assert "FAILED" in str(result)
    assert gradcheck(Sigmoid(), rng.uniform(-3, 3, size=(5, 2))).ok  # the honest twin passes


def test_gradcheck_catches_scalar_bias_gradient(rng):
    layer = ScalarBiasGrad(3, 2, rng=rng)
    result = gradcheck(layer, rng.standard_normal((4, 3)))
    assert result.errors["weight"] < TOL and result.errors["input"] < TOL
    assert result.errors["bias"] > 0.1 and not result


def test_gradcheck_rejects_wrong_shape(rng):
    result = gradcheck(WrongShapeInputGrad(), rng.standard_normal((4, 3)))
    assert result.errors["input"] == np.inf and not result.ok


@pytest.mark.parametrize("loss", [SumGradientMSE, MissingFactorTwoMSE])
def test_gradcheck_catches_wrong_loss_gradient(rng, loss):
    pred, target = rng.standard_normal((5, 1)), rng.standard_normal((5, 1))
    assert gradcheck(loss(), pred, target).errors["pred"] > 0.4


# --- the helpers themselves ----------------------------------------------------------


def test_numeric_gradient_of_cube():
    a = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = a.copy()
    grad = numeric_gradient(lambda: float(np.sum(a**3)), a, eps=1e-5)
    # d/da sum(a^3) = 3 a^2; central differences err by eps^2 (= 1e-10) exactly for a cubic
    np.testing.assert_allclose(grad, 3 * before**2, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(a, before)  # restored after perturbation


def test_numeric_gradient_perturbs_a_strided_view_in_place():
    base = np.array([[1.0, 9.0, -2.0, 9.0], [0.5, 9.0, 3.0, 9.0]])
    view = base[:, ::2]  # the entries 1, -2, 0.5, 3; the 9s must never move
    # d/dv sum(v^2) = 2 v
    grad = numeric_gradient(lambda: float(np.sum(view**2)), view)
    np.testing.assert_allclose(grad, [[2.0, -4.0], [1.0, 6.0]], rtol=0, atol=1e-8)
    np.testing.assert_array_equal(base[:, 1::2], 9.0)
    np.testing.assert_array_equal(view, [[1.0, -2.0], [0.5, 3.0]])


def test_numeric_gradient_restores_the_entry_when_f_raises():
    a = np.array([1.0, 2.0])
    calls = []

    def f() -> float:
        calls.append(1)
        if len(calls) == 2:  # the -eps nudge of the first entry
            raise ValueError("refused")
        return float(np.sum(a))

    with pytest.raises(ValueError, match="refused"):
        numeric_gradient(f, a)
    np.testing.assert_array_equal(a, [1.0, 2.0])  # not [0.999999, 2.0]


class _RefusesLargeWeight(Module):
    """A 1 x 1 linear map whose forward raises when its weight exceeds 1: gradcheck's
    +eps nudge of the weight (1.0 -> 1.000001) makes the forward raise."""

    def __init__(self) -> None:
        super().__init__()
        self.w = Parameter(np.array([[1.0]]), name="weight")
        self.params = {"weight": self.w}

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.w.data[0, 0] > 1.0:
            raise ValueError("weight above 1 not allowed")
        self.x = x
        return x @ self.w.data

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        self.w.grad += self.x.T @ grad
        return grad @ self.w.data.T


def test_gradcheck_leaves_a_parameter_exactly_as_found_when_a_nudged_forward_raises():
    model = _RefusesLargeWeight()
    with pytest.raises(ValueError, match="weight above 1"):
        gradcheck(model, np.ones((2, 1)))
    assert model.w.data[0, 0] == 1.0  # exactly: the nudged 1.000001 was put back


def test_relative_error_scales_by_array_magnitude():
    # max |a - n| = 0.5, largest magnitude 10 -> 0.05
    assert relative_error(np.array([10.0, 1.0]), np.array([10.0, 1.5])) == pytest.approx(0.05)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.zeros((2, 3)), np.zeros(3)) == np.inf


def test_gradcheck_leaves_parameters_unchanged(rng):
    model = mlp(2, 3, 1, rng=rng)
    before = model.state_dict()
    gradcheck(model, rng.standard_normal((4, 2)))
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_gradcheck_argument_errors(rng):
    with pytest.raises(ValueError, match="pred, target"):
        gradcheck(MSELoss(), np.ones((2, 1)))
    with pytest.raises(ValueError, match="one input"):
        gradcheck(Sigmoid(), np.ones((2, 1)), np.ones((2, 1)))


# --- bad arguments -----------------------------------------------------------------------


@pytest.mark.parametrize("eps", [0.0, -1e-6, float("nan")])
def test_gradcheck_eps_must_be_positive(eps):
    import proplab

    model = proplab.mlp(2, 3, 1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        proplab.gradcheck(model, np.ones((3, 2)), eps=eps)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        # no number at all: the wrong type, a TypeError as for an optimizer's lr
        ({"eps": True}, TypeError, r"eps must be a finite number > 0, got True"),
        ({"tolerance": True}, TypeError, r"tolerance must be a finite number >= 0, got True"),
        ({"tolerance": "1e-6"}, TypeError, r"tolerance must be a finite number >= 0, got '1e-6'"),
        ({"eps": None}, TypeError, r"eps must be a finite number > 0, got None"),
        # a number out of range: the wrong value
        ({"tolerance": float("inf")}, ValueError, r"tolerance must be a finite number >= 0, got inf"),
        ({"eps": 0.0}, ValueError, r"eps must be a finite number > 0, got 0.0"),
    ],
)  # fmt: skip
def test_gradcheck_refuses_bool_or_infinite_settings(kwargs, error, message):
    """tolerance=True and eps=True were taken, tolerance=inf made a check that cannot fail
    (api21 M5); a wrong type is a TypeError, a wrong value a ValueError (fix24c)."""
    import proplab

    with pytest.raises(error, match="^gradcheck: " + message + "$"):
        proplab.gradcheck(Linear(2, 3, rng=np.random.default_rng(0)), np.ones((3, 2)), **kwargs)


def test_gradcheck_takes_numpy_numbers():
    """np.float32(1e-6) was refused as 'no finite number' (api21 M5)."""
    import proplab

    layer = Linear(2, 3, rng=np.random.default_rng(0))
    result = proplab.gradcheck(layer, np.ones((3, 2)), eps=np.float64(1e-6), tolerance=np.int64(1))
    assert result.ok and result.tolerance == 1


def test_gradcheck_refuses_float32_models_and_non_modules():
    import proplab

    model = proplab.mlp(2, 3, 1, rng=np.random.default_rng(0), dtype=np.float32)
    with pytest.raises(ValueError, match="needs a float64 model: parameter '0.weight' is float32"):
        proplab.gradcheck(model, np.ones((3, 2)))
    with pytest.raises(TypeError, match="Module or Loss, got ufunc"):
        proplab.gradcheck(np.tanh, np.ones(2))
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        proplab.gradcheck(
            proplab.mlp(2, 3, 1, rng=np.random.default_rng(0)), np.ones((3, 2)), rng=0
        )


def test_nudges_across_a_relu_kink_are_not_compared_and_the_model_is_left_as_it_was():
    from proplab import ReLU, gradcheck, mlp
    from proplab.data import generate_xor_easy

    x, _ = generate_xor_easy()
    model = mlp(2, 10, 1, activation="relu", rng=np.random.default_rng(0))
    # XOR's (0, 0) with zero biases: all 2 x 10 hidden pre-activations are exactly 0, so
    # nudging a hidden bias or row 0's inputs moves them across the kink: central
    # differences there gave relative errors of ~0.1 for this correct backward
    assert np.array_equal(x[0], [0.0, 0.0])
    result = gradcheck(model, x[:4])
    assert result.kink_skipped == 10 + 10 + 2  # both hidden biases, row 0's two inputs
    assert result.uncompared == ["0.bias", "2.bias"]  # every nudge of them crosses
    assert not result.ok and result.worst < 1e-6
    assert "gradcheck incomplete: 0.bias, 2.bias not compared" in str(result)
    assert "note: 22 of 159 entries not compared: nudging them by +-eps moves a" in str(result)
    assert not any("forward" in vars(m) for m in model.layers if isinstance(m, ReLU))
    away = gradcheck(model, x[1:5])  # the same backward, away from the kink
    assert away.ok and away.kink_skipped == 0 and away.notes == []

    # a wrong ReLU backward is still caught where nudges do not cross the kink
    class Wrong(ReLU):
        def backward(self, grad_out, need_input_grad=True, out=None):
            return 0.5 * super().backward(grad_out, need_input_grad, out)

    model.layers[1] = Wrong()
    wrong = gradcheck(model, x[:4])
    assert wrong.worst == pytest.approx(0.5, rel=1e-6) and "FAILED" in str(wrong)


class _Scale(Module):
    """y = x * a, a of shape (3,): the tests below give it wrong backward passes."""

    def __init__(self) -> None:
        super().__init__()
        self.a = Parameter(np.array([0.5, -2.0, 3.0]), name="a")
        self.params = {"a": self.a}

    def forward(self, x):
        self.x = x
        return x * self.a.data


NO_FLAG_NOTE = (
    "NoFlag.backward takes no need_input_grad argument: a Sequential passes it to its first "
    "layer (with parameters), and fit passes need_input_grad=False there, so training fails "
    "(TypeError); write def backward(self, grad_out, need_input_grad=True), add the "
    "parameter gradients either way, and return None when it is False"
)


def test_a_backward_wrong_only_without_input_gradient_is_caught():
    class Scale(_Scale):
        def backward(self, grad_out, need_input_grad=True):
            if not need_input_grad:
                return None  # forgets dL/da on the path fit takes for a first layer
            self.a.accumulate_sum(grad_out * self.x, axis=-2)
            return grad_out * self.a.data

    result = gradcheck(Scale(), np.random.default_rng(1).normal(size=(5, 3)))
    assert not result.ok and result.errors["a"] == 1.0 and result.errors["input"] < 1e-8
    assert result.notes == [
        "a: backward(..., need_input_grad=False) gives another gradient (relative error "
        "1.0e+00); fit calls the first layer that way, so it would learn wrongly there"
    ]

    class NoFlag(Scale):
        def backward(self, grad_out):  # fit's first layer gets need_input_grad=False
            self.a.accumulate_sum(grad_out * self.x, axis=-2)
            return grad_out * self.a.data

    # its gradients are right, but fit fails on it: FAILED (it said ok, with a note)
    result = gradcheck(NoFlag(), np.random.default_rng(1).normal(size=(5, 3)))
    assert result.errors["a"] < 1e-8 and result.errors["input"] < 1e-8
    assert not result.ok and result.problems == [
        "NoFlag.backward takes no need_input_grad argument"
    ]
    assert str(result).splitlines()[2:] == [
        "gradcheck FAILED: NoFlag.backward takes no need_input_grad argument",
        "note: " + NO_FLAG_NOTE,
    ]
    with pytest.raises(TypeError, match=r"layer 0 \(NoFlag\).backward takes no need_input_grad"):
        model = Sequential(NoFlag(), Linear(3, 1, rng=np.random.default_rng(0)))
        x, y = np.ones((5, 3)), np.zeros((5, 1))
        fit(model, MSELoss(), SGD(model.parameters(), lr=0.1), x, y, epochs=1)
    # in a model, below a layer without parameters (where model.backward(g) works): the
    # layer that refuses the flag is named, not the Sequential
    model = Sequential(Identity(), NoFlag(), Tanh())
    result = gradcheck(model, np.random.default_rng(1).normal(size=(5, 3)))
    assert result.worst < 1e-8 and not result.ok
    assert result.problems == ["NoFlag.backward takes no need_input_grad argument"]
    # as a model's first layer: the same verdict (model.backward(g) passed the flag to it
    # even when True, and gradcheck raised instead; a review)
    model = Sequential(NoFlag(), Tanh())
    result = gradcheck(model, np.random.default_rng(1).normal(size=(5, 3)))
    assert result.worst < 1e-8 and not result.ok
    assert result.problems == ["NoFlag.backward takes no need_input_grad argument"]
    assert NO_FLAG_NOTE in result.notes


def test_a_parameterless_first_layer_without_the_flag_is_no_problem():
    # fit never passes it the flag (backprop stops at the first layer with parameters), so
    # a model with one first trains, and model.backward(g) and gradcheck must not refuse it
    from proplab import Linear, Sequential, Sigmoid

    class Square(Module):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, grad_out):  # no need_input_grad: it has no parameters
            return 2 * self.x * grad_out

    x = np.random.default_rng(1).normal(size=(5, 2))
    y = (x[:, :1] > 0) * 1.0
    model = Sequential(Square(), Linear(2, 1, rng=np.random.default_rng(0)), Sigmoid())
    result = gradcheck(model, x)
    assert result.ok and not result.problems, str(result)
    history = fit(model, MSELoss(), SGD(model.parameters(), lr=0.1), x, y, 3)
    assert history.epochs_run == 3


def test_saturated_outputs_are_not_compared_and_told_apart_from_a_wrong_backward():
    from proplab import Linear, Sequential, Sigmoid, gradcheck

    x = np.random.default_rng(1).normal(size=(4, 2))
    lin = Linear(2, 3, rng=np.random.default_rng(0))
    lin.bias.data[...] = 25.0  # sigmoid(25 + ...) = 1 - 1e-11: derivatives ~1e-11
    saturated = gradcheck(Sequential(lin, Sigmoid()), x)
    # gradients below the central differences' round-off: any tiny value would pass,
    # so nothing is compared (it failed them before, for rounding alone)
    assert not saturated.ok and saturated.uncompared == ["input", "0.weight", "0.bias"]
    assert "gradcheck incomplete: input, 0.weight, 0.bias not compared" in str(saturated)
    [note] = saturated.notes
    assert note.startswith("input, 0.weight, 0.bias not compared: every gradient entry is")
    assert "below the central differences' own round-off" in note

    class Wrong(Sigmoid):
        def backward(self, grad_out, need_input_grad=True, out=None):
            return 1.5 * super().backward(grad_out, need_input_grad, out)

    wrong = gradcheck(Sequential(Linear(2, 3, rng=np.random.default_rng(0)), Wrong()), x)
    # a real error gets no excuse, only what it is: 1.5 times the true gradient
    factor = "the backward is 1.5 times the central differences everywhere"
    assert not wrong.ok and wrong.notes[:-1] == [
        f"{name}: {factor}: a constant factor is missing or extra"
        for name in ("input", "0.weight", "0.bias")
    ]
    assert ": layer 1, Wrong(), is the first to fail (input 3.3e-01)" in wrong.notes[-1]
    assert wrong.errors["input"] == pytest.approx(1 / 3, rel=1e-6)


def test_a_nan_or_inf_gradient_fails_and_is_named():
    # NaN was the error of an array none of whose entries could be compared, so a
    # backward returning NaN read "incomplete: input not compared" (exit 0)
    class Broken(Sigmoid):
        def __init__(self, bad):
            super().__init__()
            self.bad = bad

        def backward(self, grad_out, need_input_grad=True, out=None):
            grad = super().backward(grad_out)
            grad[1, 0] = self.bad
            return grad

    x = np.random.default_rng(0).normal(size=(3, 2))
    for bad in (np.nan, np.inf):
        result = gradcheck(Broken(bad), x)
        assert result.errors["input"] == np.inf and result.worst > result.tolerance
        assert "FAILED" in str(result) and not result.uncompared
        assert result.notes == [
            f"input: the backward gave {bad} at index (1, 0) (1 of 6 entries not finite)"
        ]


def test_a_backward_that_overwrites_the_gradient_instead_of_adding_fails():
    class Overwrite(_Scale):
        def backward(self, grad_out, need_input_grad=True):
            self.a.grad = np.sum(grad_out * self.x, axis=-2)  # = instead of +=
            return grad_out * self.a.data if need_input_grad else None

    result = gradcheck(Overwrite(), np.random.default_rng(1).normal(size=(5, 3)))
    assert not result.ok and result.errors["a"] == 1.0 and result.errors["input"] < 1e-8
    assert result.notes == [
        "a: a second backward (no zero_grad between) did not add its gradient to the "
        "first (relative error 1.0e+00): backward must add into .grad (p.accumulate(...) "
        "or +=), not overwrite it"
    ]


def test_a_saturated_output_whose_central_differences_are_all_zero_is_explained():
    # tanh(43.6) is 1.0 in float64: every nudge leaves the loss unchanged (numeric
    # gradients exactly 0) while the backward gives ~1e-16; the note needed numeric != 0
    model = mlp(
        1,
        [9, 8, 7],
        1,
        activation="relu",
        output_activation="tanh",
        bias=False,
        init="normal",
        rng=np.random.default_rng(344602),
    )
    x = np.array([[6.3497147456332925], [15.221730621353672]])
    result = gradcheck(model, x, rng=np.random.default_rng(344602))
    # every gradient is below the central differences' round-off: not compared, said so
    assert not result.ok and result.worst <= result.tolerance
    assert set(result.uncompared) == {"input", "0.weight", "2.weight", "4.weight", "6.weight"}
    assert any("below the central differences' own round-off" in n for n in result.notes)


def test_a_loss_nudged_out_of_its_domain_leaves_those_entries_out():
    # BCELoss refuses 1.000001: a prediction at 1.0 made gradcheck raise about a value
    # the caller never passed
    pred = np.array([[1.0], [0.3], [0.0]])
    target = np.array([[1.0], [0.0], [1.0]])
    result = gradcheck(BCELoss(), pred, target)
    assert result.ok and result.errors["pred"] < 1e-8
    assert result.notes[0].startswith(
        "2 of 3 entries of pred not compared: BCELoss refuses them nudged by +-eps "
        "(BCELoss needs probabilities in [0, 1], got 1.000001"
    )
    wrong = BCELoss()
    wrong.backward = lambda: BCELoss.backward(wrong) * 1.01
    assert gradcheck(wrong, pred, target).errors["pred"] > 1e-3


RIDDERS_NOTE = (
    "pred: compared with Ridders' extrapolation of the central differences to step 0 "
    "(the loss curves too sharply here for a single step eps)"
)


def test_a_sharply_curved_loss_is_compared_by_extrapolation_which_still_catches_a_bug():
    # BCE with target 0 at p = 1 - 3e-6: a central difference with eps = 1e-6 is off by
    # ~eps^2 / (3 (1-p)^2) = 4 % (a correct backward FAILED); extrapolated to step 0, 3e-10
    pred, target = np.array([[1 - 3e-6], [0.3]]), np.array([[0.0], [0.0]])
    result = gradcheck(BCELoss(), pred, target)
    assert result.ok and result.worst < 1e-8 and own_notes(result) == [RIDDERS_NOTE]
    wrong = BCELoss()
    wrong.backward = lambda: BCELoss.backward(wrong) * 1.01
    result = gradcheck(wrong, pred, target)
    assert result.errors["pred"] == pytest.approx(0.01 / 1.01, rel=1e-6)
    # and not "likely not a backward error"
    assert not result.ok and own_notes(result) == [RIDDERS_NOTE]


def test_a_sharply_curved_loss_failure_is_explained_and_a_wrong_one_is_not():
    # 1.1e-6 from the edge: not even the extrapolation pins the derivative down
    pred = np.array([[1 - 1.1e-6], [0.3]])
    target = np.array([[0.0], [0.0]])
    result = gradcheck(BCELoss(), pred, target)
    assert not result.ok and any("likely not a backward error" in n for n in result.notes)
    assert RIDDERS_NOTE not in result.notes
    pred = np.array([[0.7], [0.3]])
    wrong = BCELoss()
    wrong.backward = lambda: BCELoss.backward(wrong) * 1.01
    result = gradcheck(wrong, pred, target)
    assert not result.ok and own_notes(result) == [  # no excuse: what it is
        "pred: the backward is 1.01 times the central differences everywhere: a constant "
        "factor is missing or extra"
    ]


def test_a_deep_sigmoid_network_within_round_off_passes_and_a_one_percent_bug_does_not(
    monkeypatch,
):
    # 2-4-4-4-1 sigmoid on XOR: first-layer gradients ~3e-5 differ from the central
    # differences by ~5e-11, well inside their round-off (~2e-9) but 1.8e-6 relative:
    # `proplab gradcheck --hidden 4 4 4` reported FAILED on this correct network
    from proplab.config import RunConfig
    from proplab.model_check import check_config, format_check

    check = check_config(RunConfig(hidden=[4, 4, 4]))
    assert check.ok and check.any_within_roundoff
    # the error shown is the plain relative error, whatever the tolerance (it was
    # divided by round-off / tolerance: 1.5e-7 at 1e-6, 1.5e-13 at 1e-12)
    assert check.worst_relative == pytest.approx(1.84e-6, rel=0.02)
    assert check.worst <= check.tolerance  # the judged error, as GradcheckResult.worst
    for tolerance in (1e-3, 1e-9, 1e-12):
        other = check_config(RunConfig(hidden=[4, 4, 4]), tolerance=tolerance)
        assert other.ok and [r.shown for r in other.rows] == [r.shown for r in check.rows]
    text = format_check(check)
    assert "1.8e-06  (within round-off)" in text
    assert text.splitlines()[-1].startswith(
        "gradcheck ok: worst relative error 1.8e-06 (within round-off; tolerance 1e-06) over "
    )
    at_1e3 = format_check(check_config(RunConfig(hidden=[4, 4, 4]), tolerance=1e-3))
    assert "within round-off" not in at_1e3 and "1.8e-06 <= 0.001 over" in at_1e3

    right = Sigmoid.backward

    def one_percent_off(self, grad_out, need_input_grad=True, out=None):
        return 1.01 * right(self, grad_out, need_input_grad, out)

    monkeypatch.setattr(Sigmoid, "backward", one_percent_off)
    bugged = check_config(RunConfig(hidden=[4, 4, 4]))
    assert bugged.failed and min(r.error for r in bugged.failed) > 1e-3


def test_a_wrong_backward_that_also_overwrites_reports_the_larger_error():
    """1.5x the gradient, and = instead of +=: the first backward is off by 1/3, the
    second (no zero_grad between) adds nothing, off by 1: the check reports 1 and why."""

    class WrongOverwrite(_Scale):
        def backward(self, grad_out, need_input_grad=True):
            self.a.grad = 1.5 * np.sum(grad_out * self.x, axis=-2)
            return grad_out * self.a.data if need_input_grad else None

    result = gradcheck(WrongOverwrite(), np.random.default_rng(1).normal(size=(5, 3)))
    assert result.errors["a"] == pytest.approx(1.0, rel=1e-6)
    assert result.errors["input"] < 1e-8 and "FAILED" in str(result)
    assert len(result.notes) == 1 and result.notes[0].startswith(
        "a: a second backward (no zero_grad between) did not add its gradient"
    )


def test_the_verdict_of_a_result_within_tolerance_with_an_uncompared_array():
    # worst == tolerance is within it: the verdict is "incomplete", not "FAILED"
    from proplab.gradcheck import GradcheckResult

    result = GradcheckResult(errors={"input": 1e-6, "0.weight": np.nan}, tolerance=1e-6)
    assert not result.ok and result.worst == result.tolerance
    assert str(result).splitlines()[-1] == "gradcheck incomplete: 0.weight not compared"
    assert GradcheckResult(errors={"input": 1e-6}, tolerance=1e-6).ok


def test_a_kinked_module_run_a_varying_number_of_times_marks_the_entries_uncompared():
    """A module whose ReLU runs only for inputs with a positive sum: at sum 0 every
    nudge changes how often the ReLU runs; those entries are not compared (no error)."""

    class Gate(Module):
        def __init__(self):
            super().__init__()
            self.relu = ReLU()

        def children(self):
            return [self.relu]

        def forward(self, x):
            self.on = x.sum() > 0
            return self.relu.forward(x) if self.on else 2 * x

        def backward(self, grad_out, need_input_grad=True):
            return self.relu.backward(grad_out) if self.on else 2 * grad_out

    result = gradcheck(Gate(), np.array([[1.0, -1.0]]))
    assert result.kink_skipped == 2 and result.uncompared == ["input"]
    assert gradcheck(Gate(), np.array([[1.0, -0.5]])).ok


def test_a_failure_within_ten_times_the_round_off_is_explained():
    """sigmoid(17.5 + ...) has derivatives ~3e-8: a 1.5x backward then differs from the
    central differences by 2-7 times their round-off (~6e-9). It fails, with the note
    that such a difference may be rounding (at bias 0 the same bug gets no note)."""

    class Wrong(Sigmoid):
        def backward(self, grad_out, need_input_grad=True, out=None):
            return 1.5 * super().backward(grad_out, need_input_grad, out)

    lin = Linear(2, 3, rng=np.random.default_rng(0))
    lin.bias.data[...] = 17.5
    result = gradcheck(Sequential(lin, Wrong()), np.random.default_rng(1).normal(size=(4, 2)))
    assert not result.ok and "FAILED" in str(result)
    [note, layers] = result.notes
    assert ": layer 1, Wrong(), is the first to fail" in layers
    assert note.split(":")[0] in ("input, 0.weight", "input, 0.weight, 0.bias")
    assert "likely not a backward error" in note


def test_relative_error_of_empty_arrays_is_zero():
    assert relative_error(np.zeros(0), np.zeros(0)) == 0.0
    assert relative_error(np.zeros((2, 0)), np.zeros((2, 0))) == 0.0


def test_cross_entropy_at_large_logits_is_judged_against_its_round_off():
    # log-sum-exp minus the logit: at logits ~1000 the loss is known only to ~1000 ulps,
    # and its central differences to ~1e-6; a correct backward failed at 1.03e-6
    rng = np.random.default_rng(9)
    pred, labels = rng.normal(size=(6, 4)) * 1000, rng.integers(0, 4, size=6)
    result = gradcheck(CrossEntropyLoss(), pred, labels)
    assert result.ok and result.worst < 1e-6 and not result.notes, str(result)
    wrong = CrossEntropyLoss()
    wrong.backward = lambda: CrossEntropyLoss.backward(wrong) * 1.01
    caught = gradcheck(wrong, pred, labels)
    assert not caught.ok and caught.errors["pred"] > 1e-4  # 1 % off, seen through the floor


def test_cross_entropy_whose_every_gradient_is_below_round_off_is_not_compared():
    # one sample classified with a margin of 26: loss and gradient 5.7e-12, lost in the
    # round-off of 24.4 + 5.7e-12 - 24.4; every central difference is exactly 0, which
    # read as a relative error of 1.0 (FAILED) for a correct backward
    pred, labels = np.array([[24.43798786, -1.44962369]]), np.array([0])
    result = gradcheck(CrossEntropyLoss(), pred, labels)
    assert not result.ok and result.uncompared == ["pred"]
    assert str(result).splitlines()[1] == "gradcheck incomplete: pred not compared"
    assert own_notes(result) == [
        "pred not compared: every gradient entry is below the central differences' own "
        "round-off (~2e-08), so any tiny value would pass (check on inputs where the "
        "outputs are not saturated)"
    ]


def test_ridders_extrapolation_finds_a_sharp_derivative_and_restores_the_array():
    from proplab.gradcheck_numeric import ridders_derivative

    a = np.array([1 - 3e-6, 0.5])
    before = a.copy()
    value, error = ridders_derivative(lambda: float(-np.log1p(-a[0])), a, (0,), 1e-6)
    exact = 1 / 3e-6
    assert abs(value - exact) / exact < 1e-8 and 0 <= error < 1e-6 * exact
    single = float(numeric_gradient(lambda: float(-np.log1p(-a[0])), a)[0])
    assert abs(single - exact) / exact > 1e-2  # what one step eps gets wrong
    np.testing.assert_array_equal(a, before)


# ---------------------------------------------------------------- from mutation testing


def test_a_loss_far_larger_than_its_inputs_is_judged_against_its_own_round_off():
    # MSE of 0 against 1e5 is 1e10, known to ~2e-6 (its ulp): a 1e-6 nudge moves it by
    # 0.2, so the central difference carries ~1e-5 of round-off; the loss's value, not
    # only its largest input, sets the round-off floor, or the correct backward FAILED
    result = gradcheck(MSELoss(), np.array([[0.0]]), np.array([[1e5]]))
    assert result.ok and not own_notes(result), str(result)


def test_ridders_extrapolation_reaches_round_off_on_a_smooth_function():
    # exp at 0 from a step of 0.1: the tableau removes step^2, step^4, ... in turn, to
    # within a few ulps of exp'(0) = 1 (one Richardson column alone stops near 1e-14)
    from proplab.gradcheck_numeric import ridders_derivative

    a = np.array([0.0])
    value, error = ridders_derivative(lambda: float(np.exp(a[0])), a, (0,), 0.1)
    assert abs(value - 1.0) < 2e-15 and error < 2e-15


RIDDERS_AT_THE_EDGE = (np.array([[1 - 3e-6], [0.3]]), np.array([[0.0], [0.0]]))


def test_a_loss_within_tolerance_is_not_rechecked_by_extrapolation():
    # the single step's 3.8 % error at 3e-6 from 1 (see above) with a tolerance of
    # exactly that error: within it, so it stands as measured, with no note
    pred, target = RIDDERS_AT_THE_EDGE
    single = gradcheck(BCELoss(), pred, target, tolerance=1.0).errors["pred"]
    assert 0.03 < single < 0.05
    result = gradcheck(BCELoss(), pred, target, tolerance=single)
    assert result.ok and result.errors["pred"] == single and own_notes(result) == []


def test_a_loss_backward_of_the_wrong_shape_fails_without_an_extrapolation_note():
    pred, target = RIDDERS_AT_THE_EDGE
    wrong = BCELoss()
    wrong.backward = lambda: BCELoss.backward(wrong).T  # (1, 2) for a (2, 1) pred
    result = gradcheck(wrong, pred, target)
    assert not result.ok and result.errors["pred"] == np.inf
    assert own_notes(result) == [  # the shape, and no extrapolation note
        "pred: BCELoss.backward returned shape (1, 2) for pred (2, 1): dL/dpred has pred's shape"
    ]


# ---------------------------------------------------------------- a student's own layers
# (slips found by trying them: each gave a traceback from inside proplab, or no word)


class _MyReLU(Module):
    """A correct ReLU of the student's own: gradcheck does not know its kink."""

    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, grad_out, need_input_grad=True):
        return grad_out * self.mask


def test_a_failure_at_a_kink_of_the_users_own_layer_says_so():
    x, _ = generate_xor_easy()
    rng = np.random.default_rng(0)
    model = Sequential(Linear(2, 4, rng=rng), _MyReLU(), Linear(4, 1, rng=rng), Sigmoid())
    # XOR's (0, 0) with zero biases puts every ReLU input exactly at 0
    result = gradcheck(model, x[:4])
    assert not result.ok
    (note,) = [n for n in result.notes if "kink" in n]
    assert note.startswith(
        "input (1 of the 8 entries probed), 0.bias (4 of the 4 entries probed): "
    )
    assert "the backward matches one side" in note
    # away from 0 the same layer passes, with no such note
    clean = gradcheck(model, np.random.default_rng(1).normal(size=(4, 2)))
    assert clean.ok and not any("kink" in n for n in clean.notes)
    # a smooth layer whose backward is wrong gets no kink note
    wrong = gradcheck(_Halved(), np.random.default_rng(1).normal(size=(3, 2)))
    assert not wrong.ok and not any("kink" in n for n in wrong.notes)


class _Halved(Module):
    def forward(self, x):
        self.t = np.tanh(x)
        return self.t

    def backward(self, grad_out, need_input_grad=True):
        return 0.5 * grad_out * (1 - self.t**2)


class _NoReturn(Module):
    def forward(self, x):
        self.t = np.tanh(x)
        return self.t

    def backward(self, grad_out, need_input_grad=True):
        grad_out * (1 - self.t**2)  # noqa: B018 (the slip under test: no return)


class _Summed(_Halved):
    def backward(self, grad_out, need_input_grad=True):
        return (grad_out * (1 - self.t**2)).sum(0)  # summed over the samples


def test_a_backward_that_returns_nothing_is_named_in_gradcheck_and_in_a_model():
    x = np.random.default_rng(0).normal(size=(4, 3))
    with pytest.raises(TypeError) as err:
        gradcheck(_NoReturn(), x)
    assert str(err.value) == (
        "_NoReturn.backward returned None (did you forget `return`?): it must return dL/dx, "
        "a NumPy array of its input's shape (4, 3)"
    )
    rng = np.random.default_rng(0)
    model = Sequential(Linear(3, 3, rng=rng), _NoReturn(), Linear(3, 1, rng=rng))
    expected = (
        "layer 1 (_NoReturn).backward returned None (did you forget `return`?): it must "
        "return dL/dx, a NumPy array of its input's shape"
    )
    with pytest.raises(TypeError) as err:
        gradcheck(model, x)
    assert str(err.value) == expected
    y = np.zeros((4, 1))
    with pytest.raises(TypeError) as err:
        fit(model, MSELoss(), SGD(model.parameters(), lr=0.1), x, y, epochs=2)
    assert str(err.value) == expected


def test_a_backward_of_the_wrong_shape_is_named():
    x = np.random.default_rng(0).normal(size=(4, 3))
    result = gradcheck(_Summed(), x)
    assert result.errors["input"] == np.inf
    assert (
        "input: _Summed.backward returned shape (3,) for an input of shape (4, 3): dL/dx has "
        "the input's shape (one row per sample: no sum over them)"
    ) in result.notes
    # in a model, the next layer's backward fails: its error names where the shape came from
    rng = np.random.default_rng(0)
    model = Sequential(Linear(3, 3, rng=rng), _Summed(), Linear(3, 1, rng=rng))
    with pytest.raises(ValueError) as err:
        gradcheck(model, x)
    assert err.value.__notes__ == [
        "in layer 0 (Linear).backward, on a gradient of shape (3,) from layer 1 "
        "(_Summed).backward (a backward returns dL/dx with its input's shape)"
    ]
    # nested in another Sequential: still one note, the innermost's
    outer = Sequential(Sequential(Linear(3, 3, rng=rng), _Summed()), Linear(3, 1, rng=rng))
    outer.forward(x)
    with pytest.raises(ValueError) as err:
        outer.backward(np.ones((4, 1)))
    assert len(err.value.__notes__) == 1 and "(_Summed).backward" in err.value.__notes__[0]
    assert err.value.__cause__ is None  # raised as it was, not as its own cause


def test_a_layers_own_bug_gets_no_shape_note_and_a_shared_layer_is_refused():
    x = np.random.default_rng(0).normal(size=(4, 3))
    rng = np.random.default_rng(0)

    class Typo(_Halved):
        def backward(self, grad_out, need_input_grad=True):
            return grad_out * (1 - slf.t**2)  # noqa: F821 (the bug under test)

    model = Sequential(Linear(3, 3, rng=rng), Typo(), Linear(3, 1, rng=rng))
    model.forward(x)
    with pytest.raises(NameError) as err:
        model.backward(np.ones((4, 1)))
    assert not getattr(err.value, "__notes__", [])  # its gradient's shape was right
    # one activation object at two places: its backward would use its second forward's
    # values at the first place too (silently, when the widths agree); refused when built
    sig = Sigmoid()
    with pytest.raises(ValueError) as err:
        Sequential(Linear(3, 3, rng=rng), sig, Linear(3, 3, rng=rng), sig)
    assert str(err.value) == (
        "Sequential: layer 3 is the same Sigmoid object as layer 1: a module keeps its "
        "forward's values for its backward, so each place needs one of its own "
        "(Sigmoid(...) again)"
    )


def test_a_gradient_that_cannot_be_cast_keeps_numpys_error():
    p = Parameter(np.zeros((2, 2)), name="w")
    with pytest.raises(TypeError, match="Cannot cast"):  # the shape is right: not a shape error
        p.accumulate(np.ones((2, 2)) * 1j)


def test_a_parameter_gradient_of_the_wrong_shape_names_the_parameter():
    class Scale(_Scale):
        def backward(self, grad_out, need_input_grad=True):
            self.a.accumulate((grad_out * self.x).sum(0, keepdims=True))  # (1, 3), not (3,)
            return grad_out * self.a.data

    with pytest.raises(ValueError) as err:
        gradcheck(Scale(), np.ones((4, 3)))
    assert str(err.value) == (
        "parameter 'a' has shape (3,); its gradient must have that shape too, got (1, 3)"
    )


def test_a_float32_forward_is_named_when_the_check_fails():
    class Float32Tanh(_Halved):
        def forward(self, x):
            self.t = np.tanh(x)
            return self.t.astype(np.float32)

        def backward(self, grad_out, need_input_grad=True):
            return grad_out * (1 - self.t**2)

    result = gradcheck(Float32Tanh(), np.random.default_rng(0).normal(size=(4, 2)))
    assert not result.ok
    assert (
        "Float32Tanh.forward returned float32, not float64: central differences of eps = "
        "1e-06 drown in its round-off (compute in float64)"
    ) in result.notes
    # the eps the check used, and no such note when the check passes
    x = np.random.default_rng(0).normal(size=(4, 2))
    wide = gradcheck(Float32Tanh(), x, eps=1e-2)
    assert not wide.ok and "of eps = 0.01 drown in its round-off" in wide.notes[0]
    assert gradcheck(Float32Tanh(), x, eps=1e-2, tolerance=1e-2).notes == []  # passes: no note


def test_printed_errors_are_relative_errors_whatever_the_tolerance():
    # a TA tightening the tolerance saw the errors shrink with it (1.5e-7 at 1e-6,
    # 1.5e-13 at 1e-12): they were divided by the round-off over the tolerance
    from proplab.config import RunConfig, build_model

    x, _ = generate_xor_easy()
    model = build_model(RunConfig(hidden=[4, 4, 4]), 2, 1)
    loose, strict = (gradcheck(model, x[:4], tolerance=t) for t in (1e-6, 1e-12))
    assert loose.ok and strict.ok
    assert loose.relative == strict.relative
    assert loose.relative["0.weight"] == pytest.approx(1.84e-6, rel=0.02)
    assert [n for n in loose.errors if loose.within_roundoff(n)] == ["0.weight"]
    assert str(loose).splitlines()[1] == "        0.weight: 1.84e-06  (within round-off)"
    assert str(strict).splitlines()[0] == "           input: 6.41e-08  (within round-off)"
    # an array well inside the tolerance is not marked
    assert str(loose).splitlines()[0] == "           input: 6.41e-08"


def test_an_array_below_round_off_prints_nan_and_a_wide_kinked_layer_probes_its_worst():
    # mutation testing: an array not compared has no plain relative error either (its row
    # prints nan); a kink note counts the entries it probed, at most KINK_PROBES of them
    from proplab import Linear, Sequential, Sigmoid, gradcheck

    x = np.random.default_rng(1).normal(size=(4, 2))
    lin = Linear(2, 3, rng=np.random.default_rng(0))
    lin.bias.data[...] = 25.0
    saturated = gradcheck(Sequential(lin, Sigmoid()), x)
    assert all(math.isnan(saturated.relative[n]) for n in ("input", "0.weight", "0.bias"))
    assert str(saturated).splitlines()[:3] == [
        "           input: nan", "        0.weight: nan", "          0.bias: nan",
    ]  # fmt: skip
    xor, _ = generate_xor_easy()
    rng = np.random.default_rng(0)
    model = Sequential(Linear(2, 30, rng=rng), _MyReLU(), Linear(30, 1, rng=rng), Sigmoid())
    (note,) = [n for n in gradcheck(model, xor[:4]).notes if "kink" in n]
    assert note.startswith("0.bias (20 of the 20 entries probed): the function has a kink")


def test_a_backward_returning_a_number_and_one_layer_twice_in_a_row_are_named():
    # mutation testing: "did you forget `return`?" only for None; a module object at two
    # neighbouring places is refused too; a non-array gradient given to the Sequential
    # itself gets the last layer's own error, not one about a layer above it
    class Number(_Halved):
        def backward(self, grad_out, need_input_grad=True):
            return 0.0

    with pytest.raises(TypeError) as err:
        gradcheck(Number(), np.ones((4, 3)))
    assert str(err.value) == (
        "Number.backward returned a float: it must return dL/dx, a NumPy array of its "
        "input's shape (4, 3)"
    )
    sig = Sigmoid()
    with pytest.raises(ValueError, match="layer 1 is the same Sigmoid object as layer 0"):
        Sequential(sig, sig, Linear(3, 3, rng=np.random.default_rng(0)))
    # one level down too (types18): two blocks sharing a ReLU trained on wrong gradients,
    # and gradcheck crashed on the model ("'ReLU' object has no attribute 'forward'")
    relu, rng = ReLU(), np.random.default_rng(0)
    first, second = Sequential(Linear(2, 3, rng=rng), relu), Sequential(Linear(3, 3, rng=rng), relu)
    with pytest.raises(ValueError) as err:
        Sequential(first, second)
    assert str(err.value).startswith("Sequential: layer 1.1 is the same ReLU object as layer 0.1:")
    with pytest.raises(ValueError, match="layer 1 is the same Sequential object as layer 0:"):
        Sequential(first, first)
    assert gradcheck(
        Sequential(first, Sequential(Linear(3, 3, rng=rng), ReLU())), rng.normal(size=(4, 2))
    ).ok
    model = Sequential(Linear(3, 3, rng=np.random.default_rng(0)), Tanh())
    model.forward(np.ones((4, 3)))
    with pytest.raises(TypeError) as err:
        model.backward(None)
    assert "layer" not in str(err.value)


# ------------------------------------------- a teaching assistant's audit (findings 2, 5, 7)


class _StudentLinear(Module):
    """A student's Linear, as a TA's skeleton has it (``.grad +=``), backward correct."""

    def __init__(self, n_in, n_out, rng):
        super().__init__()
        self.weight = Parameter(rng.normal(size=(n_in, n_out)) / np.sqrt(n_in), name="weight")
        self.bias = Parameter(rng.normal(size=n_out) * 0.1, name="bias")
        self.params = {"weight": self.weight, "bias": self.bias}

    def forward(self, x):
        self.x = x
        return x @ self.weight.data + self.bias.data

    def backward(self, grad_out, need_input_grad=True):
        self.weight.grad += self.x.T @ grad_out
        self.bias.grad += grad_out.sum(axis=0)
        return grad_out @ self.weight.data.T


def test_a_dead_relu_output_compares_nothing_and_an_unused_parameter_still_is_compared():
    class Wrong(_StudentLinear):
        def backward(self, grad_out, need_input_grad=True):
            self.weight.grad += 3 * (self.x.T @ grad_out)  # three mistakes
            self.bias.grad += grad_out.mean(axis=0)
            return grad_out @ self.weight.data  # no transpose (square W)

    x, _ = generate_xor_easy()
    wrong = Wrong(2, 2, np.random.default_rng(0))
    out = Linear(2, 1, rng=np.random.default_rng(3))
    model = Sequential(wrong, Sigmoid(), out, ReLU())
    assert np.array_equal(model(x[1:5]), np.zeros((4, 1)))  # the ReLU output is dead
    # every gradient was exactly 0 in both: "ok" (an autograder passed this backward)
    result = gradcheck(model, x[1:5])
    names = ["input", "0.weight", "0.bias", "2.weight", "2.bias"]
    assert not result.ok and result.uncompared == names and result.worst == 0.0
    assert str(result).splitlines()[5:] == [
        "gradcheck incomplete: input, 0.weight, 0.bias, 2.weight, 2.bias not compared",
        "note: input, 0.weight, 0.bias, 2.weight, 2.bias not compared: every gradient is "
        "exactly 0 on these inputs, in the backward and in the central differences alike, "
        "so any backward would pass (a dead ReLU output? check on other inputs)",
    ]
    # on inputs where the output is alive the same model fails
    out.bias.data[...] = 5.0
    assert gradcheck(model, x[1:5]).worst > 0.1

    # one array exactly 0 among compared ones (an unused parameter) is compared, as before
    class Unused(_Scale):
        def __init__(self):
            super().__init__()
            self.params["b"] = Parameter(np.ones(3), name="b")  # in no computation

        def backward(self, grad_out, need_input_grad=True):
            self.a.accumulate_sum(grad_out * self.x, axis=-2)
            return grad_out * self.a.data

    result = gradcheck(Unused(), np.random.default_rng(1).normal(size=(5, 3)))
    assert result.ok and result.errors["b"] == 0.0 and result.notes == []

    # a loss flat where it is checked: nothing compared either
    class Hinge(MSELoss):
        def forward(self, pred, target):
            self.mask = pred > target
            return float(np.sum(np.maximum(pred - target, 0.0)))

        def backward(self):
            return 7.0 * self.mask  # wrong (the slope is 1), and 0 below the targets

    result = gradcheck(Hinge(), np.full((3, 1), -2.0), np.ones((3, 1)))
    assert not result.ok and result.uncompared == ["pred"]
    assert result.notes == [
        "pred not compared: every gradient is exactly 0 on these inputs, in the backward "
        "and in the central differences alike, so any backward would pass (a loss flat at "
        "these predictions? check on other inputs)"
    ]
    # where it is not flat its wrong slope fails: |7 - 1| / 7
    alive = gradcheck(Hinge(), np.full((3, 1), 2.0), np.ones((3, 1)))
    assert alive.errors["pred"] == pytest.approx(6 / 7)


def test_a_dead_relu_output_makes_the_cli_check_incomplete(capsys):
    from proplab.cli import main

    # XOR's first rows put the default network's ReLU output at exactly 0 (it said
    # "gradcheck ok" over rows of 0.0e+00)
    assert main(["gradcheck", "--output-activation", "relu"]) == 0  # incomplete exits 0
    lines = capsys.readouterr().out.splitlines()
    assert "gradcheck ok" not in "\n".join(lines)
    assert lines[13].split() == ["5", "ReLU()", "input", "4", "nan", "<-", "not", "compared"]
    (verdict,) = [line for line in lines if line.startswith("gradcheck incomplete")]
    assert verdict.startswith(
        "gradcheck incomplete: ReLU() input, whole model input, whole model 0.weight, "
    )
    assert lines[-1] == (
        "note: whole model: input, 0.weight, 0.bias, 2.weight, 2.bias, 4.weight, 4.bias not "
        "compared: every gradient is exactly 0 on these inputs, in the backward and in the "
        "central differences alike, so any backward would pass (a dead ReLU output? check "
        "on other inputs)"
    )


class _InplaceTanh(_Halved):
    """The right derivative, written into grad_out itself."""

    def backward(self, grad_out, need_input_grad=True):
        grad_out *= 1 - self.t**2
        return grad_out


INPLACE_BACKWARD_NOTE = (
    "_InplaceTanh.backward modified grad_out in place (the array it was given changed "
    "during the call): harmless in proplab's Sequential and fit, which do not use a "
    "gradient again after passing it down, but wrong in a module of your own that passes "
    "one gradient to two backwards (a skip connection); return a new array (grad_out * "
    "..., not grad_out *= ...). The gradients were checked on copies"
)


def test_a_backward_that_modifies_grad_out_is_checked_on_copies_and_noted():
    # it changed gradcheck's own output weights: FAILED (0.17) alone, ok inside a model
    x = np.random.default_rng(1).normal(size=(4, 3))
    result = gradcheck(_InplaceTanh(), x)
    assert result.ok and result.errors["input"] < 1e-8
    assert result.notes == [INPLACE_BACKWARD_NOTE]
    assert str(result).splitlines()[1] == "gradcheck ok"

    # the verdict is still about its math: a wrong derivative in place fails
    class Wrong(_InplaceTanh):
        def backward(self, grad_out, need_input_grad=True):
            grad_out *= 1 - self.t
            return grad_out

    wrong = gradcheck(Wrong(), x)
    assert wrong.errors["input"] > 0.1 and not wrong.ok
    # in a model it trains as it checks: Sequential does not reuse the gradient
    rng = np.random.default_rng(0)
    model = Sequential(Linear(3, 4, rng=rng), _InplaceTanh(), Linear(4, 1, rng=rng))
    assert gradcheck(model, x).ok


class _InplaceReLU(Module):
    """A ReLU with the right backward whose forward zeroes its input in place."""

    def forward(self, x):
        self.mask = x > 0
        x[~self.mask] = 0
        return x

    def backward(self, grad_out, need_input_grad=True):
        return grad_out * self.mask


def test_a_forward_that_modifies_its_input_fails_with_a_note_and_no_kink_note():
    x = np.random.default_rng(1).normal(size=(4, 3))
    kept = x.copy()
    result = gradcheck(_InplaceReLU(), x)
    assert np.array_equal(x, kept)  # the caller's array is left alone
    # checked on copies, its derivative is right; the in-place write is the failure
    assert result.errors["input"] < 1e-8 and not result.ok
    assert result.problems == ["_InplaceReLU.forward modified its input in place"]
    assert str(result).splitlines()[1:] == [
        "gradcheck FAILED: _InplaceReLU.forward modified its input in place",
        "note: input: _InplaceReLU.forward modified its input x in place (x changed during "
        "the call): in a model, x is the layer below's output, which that layer may keep "
        "for its backward (a Tanh keeps it), or your data for the first layer; compute the "
        "output in a new array (x * mask, np.where(mask, x, 0)), not in x. Its gradients "
        "were checked on a fresh copy of x for every forward pass",
    ]  # no kink note (it said the failure "may well not be a backward error")

    # with a wrong derivative too: FAILED by its error, still named, still no kink note
    class Wrong(_InplaceReLU):
        def backward(self, grad_out, need_input_grad=True):
            return 0.5 * grad_out * self.mask

    wrong = gradcheck(Wrong(), x)
    assert wrong.errors["input"] == pytest.approx(0.5) and len(wrong.notes) == 1
    assert str(wrong).splitlines()[1] == (
        "gradcheck FAILED (tolerance 1e-06): Wrong.forward modified its input in place"
    )


def test_a_random_forward_and_a_parameter_the_forward_does_not_read_are_named():
    x = np.random.default_rng(1).normal(size=(4, 3))

    class Dropout(Module):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(0)

        def forward(self, x):
            self.mask = (self.rng.random(x.shape) > 0.5) * 2.0
            return x * self.mask

        def backward(self, grad_out, need_input_grad=True):
            return grad_out * self.mask

    result = gradcheck(Dropout(), x)
    assert not result.ok and result.notes == [
        "Dropout.forward is not deterministic: two forward passes on the same x gave "
        "different outputs (a random mask, as dropout draws?), so its central differences "
        "are noise and say nothing of its backward (check it with the randomness fixed: "
        "the same mask on every call)"
    ]

    class KeptW(Module):
        def __init__(self, rng):
            super().__init__()
            self.W = rng.normal(size=(3, 2))
            self.weight = Parameter(self.W, name="weight")  # a copy of W
            self.params = {"weight": self.weight}

        def forward(self, x):
            self.x = x
            return x @ self.W

        def backward(self, grad_out, need_input_grad=True):
            self.weight.accumulate(self.x.T @ grad_out)
            return grad_out @ self.W.T

    result = gradcheck(KeptW(np.random.default_rng(0)), x)
    assert result.errors["weight"] == 1.0 and result.errors["input"] < 1e-8
    assert result.notes == [
        "weight: every central difference is exactly 0 (nudging the parameter does not "
        "change the output) while the backward gives a gradient: forward does not read the "
        "parameter's values; read them from it in every forward (self.weight.data), not "
        "from an array kept in __init__, which is a copy (Parameter(array) copies it)"
    ]
    # a deterministic forward that reads its parameters gets neither note
    wrong = gradcheck(_StudentLinear(3, 2, np.random.default_rng(0)), x)
    assert wrong.ok and wrong.notes == []


class _StudentMSE(MSELoss):
    def forward(self, pred, target):
        self.diff = pred - target
        return float(np.mean(self.diff**2))

    def backward(self):
        return 2 * self.diff / self.diff.size


def test_a_loss_backward_without_return_or_of_the_wrong_shape_is_named():
    pred = np.random.default_rng(2).uniform(size=(4, 1))
    target = np.array([[0.0], [1.0], [1.0], [0.0]])
    assert gradcheck(_StudentMSE(), pred, target).ok

    class NoReturn(_StudentMSE):
        def backward(self):
            2 * self.diff / self.diff.size  # noqa: B018 (the slip under test: no return)

    with pytest.raises(TypeError) as err:  # was "ufunc 'isfinite' not supported ..."
        gradcheck(NoReturn(), pred, target)
    assert str(err.value) == (
        "NoReturn.backward returned None (did you forget `return`?): a loss's backward must "
        "return dL/dpred, a NumPy array of pred's shape (4, 1)"
    )

    class Flat(_StudentMSE):
        def backward(self):
            return super().backward().ravel()

    result = gradcheck(Flat(), pred, target)  # was "pred: inf" and nothing else
    assert result.errors["pred"] == np.inf and result.notes == [
        "pred: Flat.backward returned shape (4,) for pred (4, 1): dL/dpred has pred's shape"
    ]
    # labels (n,): the student's loss broadcasts pred - target to (n, n)
    result = gradcheck(_StudentMSE(), pred, target.ravel())
    assert result.errors["pred"] == np.inf and result.notes == [
        "pred: _StudentMSE.backward returned shape (4, 4) for pred (4, 1): dL/dpred has "
        "pred's shape; the target is (4,): pred (4, 1) - target broadcasts to (4, 4) "
        "(labels (n,) need .reshape(-1, 1))"
    ]


def test_a_backward_off_by_a_constant_factor_is_named_with_the_factor():
    # read18: a forgotten 1/N said only "pred: 8.33e-01 / gradcheck FAILED"
    rng = np.random.default_rng(0)

    class _MSEWithoutMean(MSELoss):
        def backward(self):
            return super().backward() * self.diff.shape[-2]  # the 1/N forgotten

    result = gradcheck(_MSEWithoutMean(), rng.normal(size=(6, 1)), rng.normal(size=(6, 1)))
    assert not result.ok
    assert (
        "pred: the backward is 6 times the central differences everywhere: a constant factor "
        "is missing or extra (the mean's 1/N forgotten? N = 6 samples here)"
    ) in result.notes

    class _MSEWithoutTwo(MSELoss):
        def backward(self):
            return super().backward() / 2  # the square's 2 forgotten

    result = gradcheck(_MSEWithoutTwo(), rng.normal(size=(6, 1)), rng.normal(size=(6, 1)))
    assert result.notes[-1].endswith("(the 2 of a square's derivative forgotten?)")

    class _DoubledTanh(Tanh):
        def backward(self, grad_out, need_input_grad=True):
            return 2 * super().backward(grad_out)

    result = gradcheck(_DoubledTanh(), rng.normal(size=(4, 3)))
    assert any(
        note.endswith("is 2 times the central differences everywhere: a constant factor is "
                      "missing or extra")
        for note in result.notes
    ), result.notes  # fmt: skip

    # a sign slip (t - p where p - t belongs) is named as one (review18)
    class _MSEWrongSign(MSELoss):
        def backward(self):
            return -super().backward()

    result = gradcheck(_MSEWrongSign(), rng.normal(size=(6, 1)), rng.normal(size=(6, 1)))
    assert result.notes[-1] == (
        "pred: the backward is -1 times the central differences everywhere: its sign is flipped"
    )

    # a wrong backward that is no constant factor gets no such note
    class _WrongTanh(Tanh):
        def backward(self, grad_out, need_input_grad=True):
            return grad_out * (1 - self.t)  # forgot the square: 1 - t**2

    result = gradcheck(_WrongTanh(), rng.normal(size=(4, 3)))
    assert not result.ok and not any("times the central" in note for note in result.notes)


# --- which layer, and a transposed gradient (persona22 M5) -----------------------------


class SharedOutputSigmoid(Sigmoid):
    """Keeps its output on the class, shared by every instance: each passes alone, but in
    a model the second one's forward overwrites what the first one's backward reads."""

    kept: np.ndarray | None = None

    def forward(self, x):
        SharedOutputSigmoid.kept = 1.0 / (1.0 + np.exp(-x))
        return SharedOutputSigmoid.kept

    def backward(self, grad_out, need_input_grad=True):
        s = SharedOutputSigmoid.kept
        return grad_out * s * (1.0 - s)


class TransposedWeightGrad(Linear):
    """dL/dW = (x^T dL/dz)^T: for a square W, the right shape and the wrong values."""

    def backward(self, grad_out, need_input_grad=True):
        self.weight.accumulate((self.x.mT @ grad_out).mT)
        self.bias.accumulate(grad_out.sum(axis=-2))
        return grad_out @ self.weight.data.mT


def test_a_failed_sequential_names_the_first_layer_that_fails_alone(rng):
    # a wrong activation has no parameters: in the whole model it shows only as the
    # failing parameters below it (0.weight, 0.bias) and the input
    model = Sequential(Linear(2, 3, rng=rng), SigmoidDerivativeOfZ(), Linear(3, 1, rng=rng))
    x = rng.uniform(-2, 2, size=(5, 2))
    result = gradcheck(model, x)
    assert not result.ok and result.errors["2.weight"] < TOL and result.errors["0.weight"] > 0.01
    (note,) = [n for n in result.notes if n.startswith("checked layer by layer")]
    alone = gradcheck(model.layers[1], model.layers[0].forward(x), rng=np.random.default_rng(1))
    assert note == (
        "checked layer by layer (each alone, on the input it receives in this forward pass): "
        f"layer 1, SigmoidDerivativeOfZ(), is the first to fail (input "
        f"{alone.relative['input']:.1e}): the bug is in its backward, and the wrong dL/dx it "
        "returns reaches every layer below it"
    )
    assert f"note: {note}" in str(result)
    # a bad parameter gradient is named by its array, and nothing is said passed down
    model = Sequential(Linear(2, 3, rng=rng), Sigmoid(), ScalarBiasGrad(3, 2, rng=rng))
    (note,) = [n for n in gradcheck(model, x).notes if n.startswith("checked layer")]
    assert note.endswith(": layer 2, ScalarBiasGrad(in=3, out=2, bias=True), is the first to fail "
                         "(bias 1.0e+00): "
                         "the bug is in its backward")  # fmt: skip
    # a model that passes keeps its output: no layer-by-layer note
    model = Sequential(Linear(2, 3, rng=rng), Sigmoid(), Linear(3, 1, rng=rng))
    passing = gradcheck(model, x)
    assert passing.ok and not any("layer by layer" in n for n in passing.notes)


def test_layers_that_each_pass_alone_are_said_to_pass(rng):
    model = Sequential(
        Linear(2, 3, rng=rng), SharedOutputSigmoid(), Linear(3, 1, rng=rng), SharedOutputSigmoid()
    )
    result = gradcheck(model, rng.uniform(-2, 2, size=(5, 2)))
    assert not result.ok
    assert result.notes[-1] == (
        "checked layer by layer (each alone, on the input it receives in this forward pass): "
        "every layer passes, so each backward is right on its own; look at what the layers "
        "share (a class attribute or a global array that one layer's forward overwrites "
        "before another's backward reads it?)"
    )


def test_a_transposed_weight_gradient_is_named(rng):
    layer = TransposedWeightGrad(3, 3, rng=rng)
    result = gradcheck(layer, rng.standard_normal((4, 3)))
    assert result.errors["weight"] > 0.1 and result.errors["bias"] < TOL
    assert own_notes(result) == [
        "weight: the backward is the transpose of the central differences: a .T missing or "
        "extra (for a weight W of shape (in, out), used as x W, dL/dW = x^T dL/dout)"
    ]
    # a square weight whose gradient is wrong otherwise gets no such note
    assert not any("transpose" in n for n in gradcheck(ScalarBiasGrad(3, 3, rng=rng),
                                                       rng.standard_normal((4, 3))).notes)  # fmt: skip
