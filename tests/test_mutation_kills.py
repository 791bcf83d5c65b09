"""Tests written to kill mutants that survived the suite (mutation testing of review 21's
code: L1, optimizer copies, ReLU's constant, the estimators, the report's command).

Each test names the behaviour it pins down; the mutant it was written against is said in
a comment (a change of the source that the rest of the suite let through).
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from proplab import SGD, Adam, Parameter
from proplab.activations import LeakyReLU, ReLU, Sigmoid, Tanh, _one, _zero
from proplab.losses import MSELoss
from proplab.models import mlp
from proplab.optim import regularized
from proplab.train import fit

# ---------------------------------------------------------------- L1 never writes .grad


def test_regularized_with_l1_alone_leaves_the_gradient_unwritten():
    # mutant: g += l1 * sign(p) (in place): with weight_decay 0, g *is* the gradient
    grad, data = np.array([0.5, -1.0, 0.25]), np.array([1.0, -2.0, 0.0])
    g = regularized(grad, data, 0.0, 0.1)
    np.testing.assert_array_equal(g, [0.6, -1.1, 0.25])
    np.testing.assert_array_equal(grad, [0.5, -1.0, 0.25])


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_an_l1_step_leaves_the_parameters_gradient_as_backward_left_it(momentum):
    # the same mutant through an optimizer: p.grad (read by logs, gradcheck, a second
    # optimizer) must stay dL/dp, not dL/dp + l1 sign(p)
    p = Parameter(np.array([1.0, -2.0, 0.0]))
    opt = SGD([p], lr=0.1, momentum=momentum, l1=0.1)
    opt.zero_grad()
    p.grad = np.array([0.5, -1.0, 0.25])
    opt.step()
    np.testing.assert_array_equal(p.grad, [0.5, -1.0, 0.25])
    np.testing.assert_allclose(p.data, [0.94, -1.89, -0.025], rtol=1e-15)


# ---------------------------------------------------------------- optimizer copies


def test_a_copy_leaves_a_parameter_another_optimizer_packed_since_with_that_one():
    # mutant: ParamGroup.__setstate__ rebinds every parameter (mine = True), so the
    # optimizer unpickled last owned the parameters, with its stale buffer's values
    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    first = SGD(model.parameters(), lr=0.1)
    second = SGD(model.parameters(), lr=0.1)  # packs them anew: it owns them now
    weight = model.parameters()[0]
    weight.grad = np.ones_like(weight.data)
    second.step()  # moves the weight; first's buffer still holds the old values
    now = weight.data.copy()
    # the older optimizer unpickled last: the parameter must stay with the newer one
    model2, second2, first2 = pickle.loads(pickle.dumps((model, second, first)))
    weight2 = model2.parameters()[0]
    np.testing.assert_array_equal(weight2.data, now)
    assert np.shares_memory(weight2.data, second2.groups[0].data)
    assert not np.shares_memory(weight2.data, first2.groups[0].data)
    # a copy of the older optimizer alone: its parameters keep their current values
    first3 = copy.deepcopy(first)
    np.testing.assert_array_equal(first3.params[0].data, now)


def test_an_unpickled_optimizer_over_read_only_buffers_binds_without_writing():
    # mutant: __setstate__ binds through Parameter._rebind, which copies the values into
    # the buffer: pickle protocol 5 with read-only out-of-band buffers (shared memory,
    # a memory map) then fails to load at all
    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    opt = Adam(model.parameters(), lr=0.01)
    x = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[1.0], [1.0], [0.0]])
    fit(model, MSELoss(), opt, x, y, epochs=3)
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps((model, opt), protocol=5, buffer_callback=buffers.append)
    model2, opt2 = pickle.loads(data, buffers=[bytes(b.raw()) for b in buffers])
    assert not opt2.groups[0].data.flags.writeable
    for p2, p in zip(model2.parameters(), model.parameters(), strict=True):
        np.testing.assert_array_equal(p2.data, p.data)
        assert np.shares_memory(p2.data, opt2.groups[0].data)
    np.testing.assert_array_equal(model2.forward(x), model.forward(x))


# ---------------------------------------------------------------- ReLU's zero


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_keeps_the_inputs_float_dtype(dtype):
    # mutant: _zero returned float64's 0 for every dtype: max(x32, 0-d float64) is float64
    x = np.array([[-1.5, 0.0, 2.5]], dtype=dtype)
    y = ReLU().forward(x)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, np.array([[0.0, 0.0, 2.5]], dtype=dtype))


def test_the_shared_zero_and_one_constants_cannot_be_written():
    # mutant: _ZERO's constants left writable: one stray write (out=) would change every
    # later ReLU of that dtype
    for dtype in (np.float16, np.float32, np.float64):
        for constant, value in ((_zero(np.dtype(dtype)), 0.0), (_one(np.dtype(dtype)), 1.0)):
            assert constant.dtype == dtype and constant == value
            with pytest.raises(ValueError, match="read-only"):
                np.add(constant, 1, out=constant)


@pytest.mark.parametrize(
    ("make", "saved"),
    [(Sigmoid, "s"), (Tanh, "t"), (ReLU, "mask"), (lambda: LeakyReLU(0.1), "slope")],
    ids=["sigmoid", "tanh", "relu", "leaky_relu"],
)
def test_each_activations_backward_before_forward_names_what_forward_saves(make, saved):
    # mutant: Tanh's message named 'out', the attribute it kept before it became 't'
    act = make()
    with pytest.raises(AttributeError, match=rf"\.backward needs '{saved}', which forward saves"):
        act.backward(np.ones((2, 3)))
    x = np.array([[-1.0, 0.5, 2.0]])
    act.forward(x)
    assert hasattr(act, saved)
    assert act.backward(np.ones((1, 3))).shape == (1, 3)  # after forward, it works


# ---------------------------------------------------------------- Conv1dNaive's dtype


@pytest.mark.parametrize("x_dtype", [np.float32, np.int64])
def test_the_naive_twin_computes_in_the_wider_of_input_and_weight_dtypes(x_dtype):
    # mutant: Conv1dNaive's output took x's dtype alone: float64 weights on float32 data
    # came out float32 (rounded), on integer data as integers (truncated)
    from proplab.conv import Conv1d, Conv1dNaive

    fast, naive = (cls(2, 3, 2, rng=np.random.default_rng(0)) for cls in (Conv1d, Conv1dNaive))
    x = np.arange(24).reshape(3, 2, 4).astype(x_dtype)
    y_fast, y_naive = fast.forward(x), naive.forward(x)
    assert y_fast.dtype == y_naive.dtype == np.float64
    # the float64 convolution of the same numbers, by the definition
    w, b = naive.weight.data, naive.bias.data
    expected = np.array(
        [
            [[b[o] + np.sum(w[o] * x[i, :, t : t + 2]) for t in range(3)] for o in range(3)]
            for i in range(3)
        ]
    )
    np.testing.assert_allclose(y_naive, expected, rtol=1e-14)
    np.testing.assert_allclose(y_fast, expected, rtol=1e-14)


# ---------------------------------------------------------------- the report's command


def test_the_gradcheck_command_adds_layers_1_to_one_hidden_width_only():
    # mutant: any one-element list got " --layers 1", one input feature included
    from proplab import cli, cli_flags, report_network
    from proplab.config import RunConfig

    cfg = RunConfig(dataset="circles", features=["x1_x2"], hidden=5)
    command = report_network._gradcheck_command(cfg)
    assert command == "proplab gradcheck --dataset circles --features x1_x2 --hidden 5"
    one = RunConfig(dataset="circles", features=["x1_x2"], hidden=[5])
    command = report_network._gradcheck_command(one)
    assert command == "proplab gradcheck --dataset circles --features x1_x2 --hidden 5 --layers 1"
    again = cli_flags.config_from(cli.build_parser().parse_args(command.split()[1:]))
    assert (again.features, again.hidden_sizes) == (["x1_x2"], [5])


def test_the_naive_twins_input_gradient_has_the_dtype_of_weights_times_gradient():
    # mutant: dx took the dtype of x and w: a float32 layer given a float64 gradient
    # returned float32 (rounded) where Conv1d's W^T g is float64
    from proplab.conv import Conv1d, Conv1dNaive

    fast, naive = (
        cls(2, 3, 2, rng=np.random.default_rng(0), dtype=np.float32)
        for cls in (Conv1d, Conv1dNaive)
    )
    x = np.random.default_rng(1).normal(size=(4, 2, 4)).astype(np.float32)
    fast.forward(x), naive.forward(x)
    g = np.random.default_rng(2).normal(size=(4, 3, 3))  # float64
    dx_fast, dx_naive = fast.backward(g), naive.backward(g)
    assert dx_fast.dtype == dx_naive.dtype == np.float64
    # dx[i, c, t + j] += w[o, c, j] g[i, o, t], in float64 from the float32 weights
    w = naive.weight.data.astype(np.float64)
    expected = np.zeros((4, 2, 4))
    for j in range(2):
        expected[:, :, j : j + 3] += np.einsum("oc,iot->ict", w[:, :, j], g)
    np.testing.assert_allclose(dx_naive, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx_fast, expected, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- a bug found: copies of a model

# Parameter._grad_row, the cached view of .grad a bias gradient is written into, was
# copied apart from .grad by pickle, copy.deepcopy and joblib: the first backward after
# loading wrote the bias gradients into the detached copy (fixed: Parameter.__getstate__)


@pytest.mark.parametrize("duplicate", ["pickle", "deepcopy"])
def test_a_copied_model_alone_computes_the_bias_gradients_of_the_original(duplicate):
    x = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    y = np.array([[1.0], [1.0], [0.0], [0.0]])
    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    fit(model, MSELoss(), SGD(model.parameters(), lr=0.5), x, y, epochs=3)
    twin = pickle.loads(pickle.dumps(model)) if duplicate == "pickle" else copy.deepcopy(model)
    grads = []
    for m in (model, twin):
        loss = MSELoss()
        loss.forward(m.forward(x), y)
        m.zero_grad()
        m.backward(loss.backward())
        grads.append([p.grad.copy() for p in m.parameters()])
    for name, g, g_twin in zip(
        [p.name for p in model.parameters()], *grads, strict=True
    ):  # the biases' gradients were those of the last training step before the copy
        np.testing.assert_array_equal(g_twin, g, err_msg=name)
