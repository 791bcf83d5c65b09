"""Parameter, Module and Sequential; a tiny Linear example worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from proplab import SGD, Linear, Module, MSELoss, Parameter, Sequential, Sigmoid, fit, mlp
from proplab.layers import linear_naive, linear_naive_backward

# --- Parameter -----------------------------------------------------------------------


def test_parameter_converts_to_float_and_starts_with_zero_grad():
    p = Parameter([[1, 2], [3, 4]], name="w")
    assert p.data.dtype == np.float64 and p.shape == (2, 2)
    np.testing.assert_array_equal(p.grad, np.zeros((2, 2)))
    assert "w" in repr(p) and "(2, 2)" in repr(p)


def test_gradients_accumulate_until_zero_grad():
    p = Parameter(np.zeros(3))
    p.accumulate(np.array([1.0, 2.0, 3.0]))
    p.accumulate(np.array([0.5, 0.5, 0.5]))
    np.testing.assert_array_equal(p.grad, [1.5, 2.5, 3.5])
    p.zero_grad()
    np.testing.assert_array_equal(p.grad, [0.0, 0.0, 0.0])  # reading shows the true value
    p.zero_grad()
    p.accumulate(np.array([4.0, 5.0, 6.0]))  # lazy clear: overwrite, not add to stale values
    np.testing.assert_array_equal(p.grad, [4.0, 5.0, 6.0])


def test_accumulate_matmul_and_sum():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[1.0], [1.0]])
    p = Parameter(np.zeros((2, 1)))
    p.accumulate_matmul(a, b)  # [[3], [7]]
    p.accumulate_matmul(a, b)  # doubled
    np.testing.assert_array_equal(p.grad, [[6.0], [14.0]])
    q = Parameter(np.zeros(2))
    q.accumulate_sum(a, axis=0)  # column sums [4, 6]
    q.accumulate_sum(a, axis=0)
    np.testing.assert_array_equal(q.grad, [8.0, 12.0])
    q.zero_grad()
    q.accumulate_sum(a, axis=-2)
    np.testing.assert_array_equal(q.grad, [4.0, 6.0])


def test_grad_setter_and_replica_shape():
    p = Parameter(np.zeros((4, 2, 3)), replica_ndim=1)
    assert p.replica_shape == (4,)
    assert Parameter(np.zeros((2, 3))).replica_shape == ()
    p.grad = np.ones((4, 2, 3))
    p.accumulate(np.ones((4, 2, 3)))
    np.testing.assert_array_equal(p.grad, 2.0)


@pytest.mark.parametrize("bad", [-1, 3])
def test_replica_ndim_validated(bad):
    with pytest.raises(ValueError, match=f"replica_ndim={bad}"):
        Parameter(np.zeros((2, 2)), replica_ndim=bad)


# --- Linear by hand ------------------------------------------------------------------


def one_input_linear(w: float, b: float) -> Linear:
    layer = Linear(1, 1, rng=np.random.default_rng(0))
    layer.weight.data[...] = w
    layer.bias.data[...] = b
    return layer


def test_one_input_linear_by_hand():
    layer = one_input_linear(w=2.0, b=0.5)
    x = np.array([[1.0], [3.0]])
    # y = 2 x + 0.5 = [2.5, 6.5]
    np.testing.assert_array_equal(layer.forward(x), [[2.5], [6.5]])
    grad_in = layer.backward(np.array([[1.0], [2.0]]))
    # dL/dW = x^T g = 1*1 + 3*2 = 7;  dL/db = 1 + 2 = 3;  dL/dx = g W^T = [2, 4]
    np.testing.assert_array_equal(layer.weight.grad, [[7.0]])
    np.testing.assert_array_equal(layer.bias.grad, [3.0])
    np.testing.assert_array_equal(grad_in, [[2.0], [4.0]])


def test_linear_then_sigmoid_by_hand():
    # z = 1 * 0 + 0 = 0 -> s = 0.5; ds/dz = s (1 - s) = 0.25
    # dL/dW = x * 0.25 * g = 1 * 0.25 * 2 = 0.5 ; dL/db = 0.5
    model = Sequential(one_input_linear(w=0.0, b=0.0), Sigmoid())
    assert model.forward(np.array([[1.0]]))[0, 0] == 0.5
    model.backward(np.array([[2.0]]))
    assert model[0].weight.grad[0, 0] == 0.5 and model[0].bias.grad[0] == 0.5


def test_linear_without_bias_and_shapes():
    layer = Linear(3, 2, bias=False, rng=np.random.default_rng(0))
    assert layer.bias is None and list(layer.params) == ["weight"]
    assert layer.weight.shape == (3, 2)  # (in, out): forward is x @ W
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(layer.forward(x), x @ layer.weight.data)


@pytest.mark.parametrize(
    ("args", "message"),
    [((0, 2), "in_features must be a positive integer, got 0"), ((2, 1.5), "got 1.5")],
)
def test_linear_validates_sizes(args, message):
    with pytest.raises(ValueError, match=message):
        Linear(*args, rng=np.random.default_rng(0))


def test_linear_needs_a_generator():
    with pytest.raises(ValueError, match="default_rng"):
        Linear(2, 2)


def test_same_seed_same_weights_different_seed_different():
    a = Linear(4, 3, rng=np.random.default_rng(7)).weight.data
    b = Linear(4, 3, rng=np.random.default_rng(7)).weight.data
    c = Linear(4, 3, rng=np.random.default_rng(8)).weight.data
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


# --- Module / Sequential -------------------------------------------------------------


def test_named_parameters_of_mlp():
    model = mlp(2, 4, 1, rng=np.random.default_rng(0))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    shapes = [p.shape for p in model.parameters()]
    assert shapes == [(2, 4), (4,), (4, 4), (4,), (4, 1), (1,)]


def test_sequential_backward_runs_in_reverse():
    order = []

    class Tap(Sigmoid):
        def __init__(self, label):
            super().__init__()
            self.label = label

        def backward(self, grad_out, need_input_grad=True):
            order.append(self.label)
            return super().backward(grad_out)

    model = Sequential([Tap("a"), Tap("b"), Tap("c")])  # a list works too
    model.forward(np.zeros((1, 1)))
    # sigma(sigma(sigma(0))) chain: each factor s(1 - s) with s = 0.5, 0.6225, 0.6508
    grad = model.backward(np.ones((1, 1)))
    assert order == ["c", "b", "a"]
    s1 = 0.5
    s2 = 1 / (1 + np.exp(-s1))
    s3 = 1 / (1 + np.exp(-s2))
    expected = s1 * (1 - s1) * s2 * (1 - s2) * s3 * (1 - s3)
    assert grad[0, 0] == pytest.approx(expected, rel=1e-14)


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="Sequential takes Modules, got int"):
        Sequential(Sigmoid(), 3)


def test_zero_grad_clears_every_parameter(rng):
    model = mlp(2, 3, 1, rng=rng)
    model.forward(rng.standard_normal((4, 2)))
    model.backward(np.ones((4, 1)))
    assert all(np.any(p.grad != 0) for p in model.parameters())
    model.zero_grad()
    assert all(np.all(p.grad == 0) for p in model.parameters())


def test_backward_adds_into_grads(rng):
    # two backward passes without zero_grad give twice the gradient
    model = mlp(2, 3, 1, rng=rng)
    x = rng.standard_normal((4, 2))
    model.forward(x)
    model.backward(np.ones((4, 1)))
    once = [p.grad.copy() for p in model.parameters()]
    model.forward(x)
    model.backward(np.ones((4, 1)))
    for g1, p in zip(once, model.parameters(), strict=True):
        np.testing.assert_allclose(p.grad, 2 * g1, rtol=1e-15)


def test_state_dict_round_trip(rng):
    a, b = mlp(2, 3, 1, rng=rng), mlp(2, 3, 1, rng=rng)
    state = a.state_dict()
    b.load_state_dict(state)
    x = rng.standard_normal((5, 2))
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    state["0.weight"][...] = 99.0  # a copy: the model is untouched
    assert not np.any(a[0].weight.data == 99.0)


def test_load_state_dict_names_what_does_not_fit(rng):
    model = mlp(2, 3, 1, rng=rng)
    state = model.state_dict()
    del state["2.bias"]
    state["9.weight"] = np.zeros(1)
    with pytest.raises(ValueError, match=r"missing \['2.bias'\], unexpected \['9.weight'\]"):
        model.load_state_dict(state)
    state = model.state_dict()
    state["0.weight"] = np.zeros((3, 2))
    with pytest.raises(
        ValueError, match=r"'0.weight': model has shape \(2, 3\), state has \(3, 2\)"
    ):
        model.load_state_dict(state)


# ----------------------------------------------------------------------------- core.matmul


def _operands(rng, n, k, m, dtype):
    """Pairs (a (n, k), b (k, m)) in the layouts layers pass: contiguous and transposed views."""
    a = rng.standard_normal((n, k)).astype(dtype)
    b = rng.standard_normal((k, m)).astype(dtype)
    a_t = np.ascontiguousarray(a.T).T  # Fortran-ordered, as x.mT in a weight gradient
    b_t = np.ascontiguousarray(b.T).T
    return [(a, b), (a_t, b), (a, b_t), (a_t, b_t)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matmul_has_the_bits_of_np_matmul_alone_and_in_a_stack(dtype):
    # the single model's products go through np.dot; a replica stack's through a
    # batched np.matmul: a stacked run equals the run alone only if they agree
    from proplab.core import matmul

    rng = np.random.default_rng(0)
    checked = 0
    for n, k, m in [
        (1, 2, 10),
        (21, 2, 10),
        (21, 10, 10),
        (21, 10, 1),
        (100, 10, 10),
        (100, 32, 1),
        (1, 21, 10),
        (10, 21, 10),
        (257, 17, 33),
        (3, 100, 5),
    ]:
        for a, b in _operands(rng, n, k, m, dtype):
            got = matmul(a, b)
            want = np.matmul(a, b)
            stacked = np.matmul(np.stack([a, 2 * a, a]), np.stack([b, b, 3 * b]))
            assert got.dtype == want.dtype and got.flags.c_contiguous
            assert np.array_equal(got, want), (n, k, m)
            assert np.array_equal(got, stacked[0]), (n, k, m)
            out = np.full((n, m), np.nan, dtype)
            assert matmul(a, b, out=out) is out and np.array_equal(out, want)
            checked += 1
    assert checked == 40


def test_matmul_falls_back_to_np_matmul():
    from proplab.core import matmul

    rng = np.random.default_rng(1)
    wide = rng.standard_normal((21, 20))
    b = rng.standard_normal((10, 3))
    # a strided view: np.matmul skips BLAS there, so must we (np.dot's bits differ
    # here: one output column, as in the lab's output layer)
    column = b[:, :1].copy()
    assert not np.array_equal(np.dot(wide[:, ::2], column), np.matmul(wide[:, ::2], column))
    assert np.array_equal(matmul(wide[:, ::2], column), np.matmul(wide[:, ::2], column))
    # an out np.dot refuses (not C-contiguous, other dtype) still gets the product
    # (compared with np.matmul into the same kind of out: on some CPUs, AVX-512 ones,
    # its product into a Fortran-ordered out rounds differently from a @ b)
    out, expected = np.zeros((3, 21)).T, np.zeros((3, 21)).T
    matmul(wide[:, :10].copy(), b, out=out)
    assert np.array_equal(out, np.matmul(wide[:, :10].copy(), b, out=expected))
    np.testing.assert_allclose(out, wide[:, :10] @ b, rtol=1e-13)
    out32, expected32 = np.zeros((21, 3), np.float32), np.zeros((21, 3), np.float32)
    matmul(wide[:, :10].copy(), b, out=out32)
    assert np.array_equal(out32, np.matmul(wide[:, :10].copy(), b, out=expected32))
    np.testing.assert_allclose(out32, (wide[:, :10] @ b).astype(np.float32), rtol=1e-6)
    # stacks and vectors keep np.matmul's broadcasting and errors
    stack = rng.standard_normal((4, 21, 10))
    assert np.array_equal(matmul(stack, b), np.matmul(stack, b))
    assert np.array_equal(matmul(b[:, 0], np.ones((10, 2))), np.matmul(b[:, 0], np.ones((10, 2))))
    with pytest.raises(ValueError, match="mismatch"):
        matmul(wide, b)


# ----------------------------------------------------------------------------- bad input


def test_load_state_dict_checks_everything_before_copying(rng):
    """A bad entry late in the state must not leave earlier parameters overwritten."""
    model = mlp(2, 3, 1, rng=rng)
    before = model.state_dict()
    state = model.state_dict()
    state["0.weight"] = np.zeros((2, 3))  # fits, and comes first
    state["4.weight"] = np.zeros((1, 3))  # does not fit
    with pytest.raises(ValueError, match=r"'4.weight': model has shape \(3, 1\), state has"):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    state = model.state_dict()
    state["0.weight"] = np.zeros((2, 3))
    state["2.weight"] = np.full((3, 3), "a")
    with pytest.raises(ValueError, match=r"'2.weight': state holds dtype <U1"):
        model.load_state_dict(state)
    np.testing.assert_array_equal(model[0].weight.data, before["0.weight"])


@pytest.mark.parametrize("bad", [None, [1, 2]])
def test_load_state_dict_wants_a_dict(rng, bad):
    with pytest.raises(TypeError, match="dict of arrays"):
        mlp(2, 3, 1, rng=rng).load_state_dict(bad)


def test_empty_sequential_is_the_identity_both_ways():
    g = np.ones((2, 3))
    assert Sequential().backward(g) is g
    assert Sequential().backward(g, need_input_grad=False) is None


@pytest.mark.parametrize("bad", [None, ["a"], np.array([1j]), np.array([object()])])
def test_parameter_refuses_non_real_data(bad):
    with pytest.raises(TypeError, match="Parameter 'w' needs real numbers"):
        Parameter(bad, name="w")


@pytest.mark.parametrize("bad", [1.5, None, True])
def test_replica_ndim_must_be_an_integer(bad):
    with pytest.raises(ValueError, match="must be an integer in 0..2"):
        Parameter(np.zeros((2, 2)), replica_ndim=bad)


@pytest.mark.parametrize("bad", [None, float("inf"), float("nan"), True, "3", 2.5, 0])
def test_check_int_names_the_argument(bad):
    from proplab.core import check_int

    with pytest.raises(ValueError, match=rf"thing must be a positive integer, got {bad!r}"):
        check_int(bad, "thing")
    assert check_int(np.int64(3), "thing") == 3
    assert check_int(2.0, "thing") == 2


def test_backward_before_forward_says_so():
    """Every module raised a bare AttributeError ('Linear' object has no attribute 'x')."""
    from proplab import MSELoss, Sigmoid, mlp
    from proplab.conv import Conv1d
    from proplab.features import Features

    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    cases = [
        (lambda: model.backward(np.ones((4, 1))), "Sigmoid.backward needs 's'"),
        (lambda: model.layers[0].backward(np.ones((4, 3))), "Linear.backward needs 'x'"),
        (lambda: Sigmoid().backward(np.ones(2)), "Sigmoid.backward needs 's'"),
        (
            lambda: Conv1d(1, 2, 2, rng=np.random.default_rng(0)).backward(np.ones((1, 2, 1))),
            "Conv1d.backward needs 'cols'",
        ),
        (lambda: MSELoss().backward(), "MSELoss.backward needs 'diff'"),
        (lambda: Features(["x1_sq"]).backward(np.ones((4, 1))), "Features.backward needs 'x'"),
    ]
    for call, message in cases:
        with pytest.raises(AttributeError, match=rf"{message}, which forward saves"):
            call()
    with pytest.raises(AttributeError, match="'Sequential' object has no attribute 'weights'"):
        model.weights  # noqa: B018 (any other missing attribute keeps Python's message)
    x = np.ones((4, 2))
    model.forward(x)
    assert model.backward(np.ones((4, 1))).shape == (4, 2)  # and after forward, it works


def test_a_module_that_skipped_module_init_is_named():
    from proplab import SGD, Linear, Module, Sequential

    class NoSuper(Module):
        def __init__(self) -> None:  # forgot super().__init__()
            self.scale = 2.0

    model = Sequential(Linear(2, 2, rng=np.random.default_rng(0)), NoSuper())
    with pytest.raises(TypeError, match=r"NoSuper has no params: its __init__ must call super"):
        SGD(model.parameters())


def test_a_parameter_left_out_of_params_is_refused_not_silently_frozen():
    from proplab import SGD, Linear, Module, Parameter, Sequential

    class Scale(Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = Parameter(np.ones(2), name="a")  # never put in self.params

        def forward(self, x):
            return x * self.a.data

    lin = Linear(2, 2, rng=np.random.default_rng(0))
    model = Sequential(lin, Scale())
    with pytest.raises(ValueError, match=r"Scale\.a is a Parameter but not in Scale\.params"):
        SGD(model.parameters())

    class Tied(Module):  # holds a parameter another module of the tree registers: fine
        def __init__(self, weight: Parameter) -> None:
            super().__init__()
            self.weight = weight

    tied = Sequential(lin, Tied(lin.weight))
    assert tied.parameters() == [lin.weight, lin.bias]


def test_collecting_parameters_keeps_the_modules_attribute_storage_fast():
    # CPython 3.11+ keeps an instance's attributes inline until something asks for its
    # __dict__ (vars()); after that every self.x in forward and backward is slower.
    # parameters() once called vars() on every module: the lab model's epoch went
    # 29.5 -> 30.8 us. A materialized __dict__ shows among gc.get_referents.
    import gc

    from proplab import SGD, mlp

    def has_instance_dict(module) -> bool:
        return any(isinstance(r, dict) and "params" in r for r in gc.get_referents(module))

    probe = mlp(2, 10, 1, rng=np.random.default_rng(0)).layers[0]
    before = has_instance_dict(probe)
    vars(probe)  # what parameters() must not do
    if before or not has_instance_dict(probe):  # e.g. Python 3.13 keeps both
        pytest.skip("on this Python vars() does not change how attributes are stored")
    model = mlp(2, 10, 1, rng=np.random.default_rng(0))
    SGD(model.parameters())
    assert not any(has_instance_dict(m) for m in [model, *model.layers])


# --- found by mutation testing ---------------------------------------------------------


def test_assigning_data_copies_the_values_and_keeps_the_dtype():
    from proplab import SGD

    p = Parameter(np.zeros(2))
    values = np.array([1, 2])  # integers, and the caller's own array
    p.data = values
    values[0] = 99
    assert p.data.dtype == np.float64
    np.testing.assert_array_equal(p.data, [1.0, 2.0])
    # an optimizer that packed p trains the assigned values
    opt = SGD([p], lr=0.5)
    p.data = np.array([3.0, 4.0])
    p.grad = np.ones(2)
    opt.step()
    np.testing.assert_array_equal(p.data, [2.5, 3.5])


def test_no_input_gradient_still_reaches_a_linear_inside_a_nested_sequential(rng):
    """backward(need_input_grad=False) skips the layers below the first one with
    parameters; a Sequential holding a Linear has them, though its own params is empty."""
    from proplab import Identity

    inner = Linear(2, 1, rng=rng)
    model = Sequential(Identity(), Sequential(inner))
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    model.forward(x)
    assert model.backward(np.array([[1.0], [-2.0]]), need_input_grad=False) is None
    # dL/dW = x^T g = [1 - 6, 2 + 2]; dL/db = 1 - 2
    np.testing.assert_array_equal(inner.weight.grad, [[-5.0], [4.0]])
    np.testing.assert_array_equal(inner.bias.grad, [-1.0])


def test_a_float32_bias_gradient_is_summed_in_float32_after_a_float64_model(rng):
    """The sample-axis sum runs as a cached row of ones times the gradient; a float64 row
    cached for the same batch size must not make a float32 model's sum in float64."""
    n = 37
    lin64 = Linear(2, 3, rng=rng)
    lin64.forward(rng.standard_normal((n, 2)))
    lin64.backward(rng.standard_normal((n, 3)))
    lin32 = Linear(2, 3, rng=rng, dtype=np.float32)
    lin32.forward(rng.standard_normal((n, 2)).astype(np.float32))
    g = rng.standard_normal((n, 3)).astype(np.float32)
    lin32.backward(g)
    assert lin32.bias.grad.dtype == np.float32
    np.testing.assert_array_equal(lin32.bias.grad, (np.ones((1, n), np.float32) @ g)[0])


def test_a_parameter_copies_the_array_it_is_made_from():
    values = np.zeros(2)
    p = Parameter(values)
    values += 1.0  # the caller's array is theirs: changing it does not move the weights
    np.testing.assert_array_equal(p.data, [0.0, 0.0])
    p.data[0] = 5.0
    np.testing.assert_array_equal(values, [1.0, 1.0])


def test_a_bad_width_passed_as_an_array_is_named_in_one_short_line():
    # weights passed as `hidden` by mistake printed both 10 x 10 matrices in full, twice
    import proplab

    with pytest.raises(ValueError) as err:
        proplab.mlp(2, [np.ones((10, 10)), 3], 1, rng=np.random.default_rng(0))
    message = str(err.value)
    assert "\n" not in message and len(message) < 300
    assert message.startswith("hidden layer widths must be positive integers; hidden=[array(")
    assert message.endswith("... (shape (10, 10))")
    # short values are shown whole, as before
    with pytest.raises(
        ValueError, match=r"hidden=\[4, 0\]: each must be a positive integer, got 0$"
    ):
        proplab.mlp(2, [4, 0], 1, rng=np.random.default_rng(0))


class _BiasNotSummed(Module):
    """A student's affine layer whose bias gradient is not summed over the samples."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self.weight = Parameter(rng.normal(size=(n_in, n_out)), name="weight")
        self.bias = Parameter(np.zeros(n_out), name="bias")
        self.params.update(weight=self.weight, bias=self.bias)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x @ self.weight.data + self.bias.data

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        self.weight.grad += self.x.T @ grad_out
        self.bias.grad += grad_out  # should be grad_out.sum(axis=0)
        return grad_out @ self.weight.data.T


class _WideGradient(Module):
    """A student's elementwise layer whose backward returns a gradient of another shape."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * 2.0

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        return np.concatenate([grad_out, grad_out], axis=-1) * 2.0


class _NoFlag(Module):
    """A student's scaling layer (one learnt factor) whose backward takes no need_input_grad."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = Parameter(np.array([3.0]), name="scale")
        self.params["scale"] = self.scale

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x * self.scale.data

    def backward(self, grad_out):  # type: ignore[override]
        self.scale.grad += np.sum(grad_out * self.x, keepdims=True).reshape(1)
        return grad_out * self.scale.data


def _shape_error_note(model: Sequential, x: np.ndarray) -> str:
    out = model.forward(x)
    with pytest.raises(ValueError) as err:
        model.backward(np.ones_like(out))
    (note,) = err.value.__notes__
    return note


def test_a_shape_error_under_proplabs_layer_blames_the_users_layer() -> None:
    # the (4, 2) gradient from the Sigmoid is right: the bias not summed is the bug
    x = np.ones((4, 3))
    model = Sequential(Linear(3, 3, rng=np.random.default_rng(0)), _BiasNotSummed(3, 2), Sigmoid())
    assert _shape_error_note(model, x) == (
        "in layer 1 (_BiasNotSummed).backward, given a gradient of shape (4, 2) from layer 2 "
        "(Sigmoid).backward (proplab's, the shape of layer 1's output): the error is in layer "
        "1's own backward (each parameter's gradient has that parameter's shape, a bias's "
        "summed over the samples; dL/dx has the input's)"
    )


def test_a_shape_error_between_two_users_layers_names_both_suspects() -> None:
    x = np.ones((4, 2))
    model = Sequential(_BiasNotSummed(2, 2), _WideGradient())
    assert _shape_error_note(model, x) == (
        "in layer 0 (_BiasNotSummed).backward, given a gradient of shape (4, 4) from layer 1 "
        "(_WideGradient).backward: either that backward is wrong (a backward returns dL/dx "
        "with its input's shape) or layer 0's own (a parameter's gradient has the "
        "parameter's shape)"
    )


def test_a_backward_without_need_input_grad_is_named_where_fit_calls_it_so() -> None:
    x, y = np.ones((4, 2)), np.zeros((4, 1))
    rng = np.random.default_rng(0)
    first = Sequential(_NoFlag(), Linear(2, 1, rng=rng))
    with pytest.raises(TypeError) as err:
        fit(first, MSELoss(), SGD(first.parameters(), lr=0.1), x, y, epochs=1)
    assert str(err.value) == (
        "layer 0 (_NoFlag).backward takes no need_input_grad: write it as def backward(self, "
        "grad_out, need_input_grad=True) (fit and Sequential pass need_input_grad=False to a "
        "model's first layer, which then need not compute dL/dx)"
    )
    # above the first layer it is called with the gradient alone, and trains
    later = Sequential(Linear(2, 2, rng=rng), _NoFlag(), Linear(2, 1, rng=rng))
    history = fit(later, MSELoss(), SGD(later.parameters(), lr=0.01), x, y, epochs=3)
    assert history.epochs_run == 3 and history.loss[-1] < history.loss[0]


def test_another_type_error_in_a_first_layer_is_raised_as_it_is() -> None:
    class _Broken(_NoFlag):
        def backward(self, grad_out, need_input_grad=True):
            return grad_out + "oops"

    model = Sequential(_Broken(), Linear(2, 1, rng=np.random.default_rng(0)))
    model.forward(np.ones((4, 2)))
    with pytest.raises(TypeError) as err:
        model.backward(np.ones((4, 1)), need_input_grad=False)
    assert "need_input_grad" not in str(err.value)
    assert "ufunc 'add' did not contain a loop" in str(err.value)


def test_a_loss_backward_returning_none_is_named_in_fit() -> None:
    class _ForgetfulMSE(MSELoss):
        def backward(self):
            super().backward()  # the gradient computed, not returned

    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    x, y = np.ones((4, 2)), np.zeros((4, 1))
    with pytest.raises(TypeError) as err:
        fit(model, _ForgetfulMSE(), SGD(model.parameters(), lr=0.1), x, y, epochs=1)
    assert str(err.value) == (  # fit tries a loss of one's own before training
        "_ForgetfulMSE.backward returned None (did you forget `return`?): a loss's backward "
        "must return dL/dpred, a NumPy array of pred's shape"
    )
    loss = _ForgetfulMSE()
    loss.forward(model.forward(x), y)  # a loop of one's own hands the model the None
    with pytest.raises(TypeError) as err:
        model.backward(loss.backward(), need_input_grad=False)
    assert str(err.value) == (
        "Sequential.backward was given None for dL/d(output): it takes an array of the "
        "output's shape (a loss's backward that forgot `return`?)"
    )


# ---------------------------------------------------------------- from mutation testing (today's)


class _BrokenNoFlag(_NoFlag):
    """A layer whose backward takes no need_input_grad and has a TypeError of its own."""

    def backward(self, grad_out):  # type: ignore[override]
        return grad_out + "oops"


def test_a_type_error_where_no_flag_was_passed_is_raised_as_it_is() -> None:
    # only a layer called as backward(grad, False) can fail for want of the parameter:
    # a layer above the first (called with the gradient alone) ...
    from proplab.core import NoInputGradFlagError

    above = Sequential(Linear(2, 2, rng=np.random.default_rng(0)), _BrokenNoFlag())
    above.forward(np.ones((4, 2)))
    with pytest.raises(TypeError) as err:
        above.backward(np.ones((4, 2)), need_input_grad=False)
    assert not isinstance(err.value, NoInputGradFlagError)
    assert "ufunc 'add' did not contain a loop" in str(err.value)
    # ... and the first layer when dL/dx is wanted (the flag is passed only when False)
    first = Sequential(_BrokenNoFlag(), Linear(2, 1, rng=np.random.default_rng(0)))
    first.forward(np.ones((4, 2)))
    with pytest.raises(TypeError) as err:
        first.backward(np.ones((4, 1)))
    assert not isinstance(err.value, NoInputGradFlagError)
    assert "ufunc 'add' did not contain a loop" in str(err.value)


def test_a_wrong_gradient_given_to_a_sequential_is_noted_as_such() -> None:
    model = Sequential(Linear(2, 3, rng=np.random.default_rng(0)))
    model.forward(np.ones((4, 2)))
    with pytest.raises(ValueError) as err:
        model.backward(np.ones((4, 5)))
    assert err.value.__notes__ == [
        "in layer 0 (Linear).backward, on a gradient of shape (4, 5) given to the Sequential "
        "(dL/d(output) has the output's shape)"
    ]


def test_a_shape_error_between_two_of_proplabs_modules_names_both_suspects() -> None:
    # a Sequential is proplab's but holds the user's layers: the gradient it hands down
    # may be wrong, so the Linear below is not named the culprit
    inner = Sequential(_WideGradient())
    model = Sequential(Linear(2, 3, rng=np.random.default_rng(0)), inner)
    assert _shape_error_note(model, np.ones((4, 2))) == (
        "in layer 0 (Linear).backward, given a gradient of shape (4, 6) from layer 1 "
        "(Sequential).backward: either that backward is wrong (a backward returns dL/dx "
        "with its input's shape) or layer 0's own (a parameter's gradient has the "
        "parameter's shape)"
    )


def test_a_backward_whose_signature_cannot_be_read_is_assumed_to_take_the_flag() -> None:
    # getattr has no signature inspect can read: its TypeError is not blamed on the flag
    from proplab.core import NoInputGradFlagError

    class _Builtin(Module):
        backward = staticmethod(getattr)  # backward(grad, False) -> getattr(grad, False)

        def __init__(self) -> None:
            super().__init__()
            self.w = Parameter(np.ones(1), name="w")
            self.params["w"] = self.w

        def forward(self, x: np.ndarray) -> np.ndarray:
            return x

    model = Sequential(_Builtin())
    model.forward(np.ones((4, 2)))
    with pytest.raises(TypeError) as err:
        model.backward(np.ones((4, 2)), need_input_grad=False)
    assert not isinstance(err.value, NoInputGradFlagError)
    assert str(err.value) == "attribute name must be string, not 'bool'"


def test_a_gradient_assigned_whole_must_have_the_parameters_shape():
    # the setter broadcast: a (2,) row filled every row of a (3, 2) weight, one number
    # every bias entry; a bias's (n, out) not summed failed with NumPy's words
    w = Parameter(np.zeros((3, 2)), name="W")
    for value in (np.array([1.0, 2.0]), 5.0, np.ones((1, 3, 2))):
        with pytest.raises(ValueError, match=r"^parameter 'W' has shape \(3, 2\); a gradient "):
            w.grad = value
        assert not np.any(w.grad)  # unchanged
    b = Parameter(np.zeros(2), name="b")
    with pytest.raises(ValueError, match=r"got \(4, 2\) \(sum over the samples\?\)$"):
        b.grad = np.ones((4, 2))
    w.grad = np.arange(6.0).reshape(3, 2)  # the right shape, as before
    w.grad += np.ones((3, 2))  # and += (which assigns the sum back)
    np.testing.assert_array_equal(w.grad, np.arange(6.0).reshape(3, 2) + 1)


# --- Linear against its slow textbook twin ------------------------------------------------


def test_the_naive_twin_is_the_textbook_formula_by_hand():
    x, w, b = np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]]), np.array([0.5])
    np.testing.assert_array_equal(linear_naive(x, w, b), [[11.5]])  # 1*3 + 2*4 + 0.5
    dx, dw, db = linear_naive_backward(x, w, np.array([[2.0]]))
    np.testing.assert_array_equal(dx, [[6.0, 8.0]])  # g * w^T
    np.testing.assert_array_equal(dw, [[2.0], [4.0]])  # x^T g
    np.testing.assert_array_equal(db, [2.0])


@pytest.mark.parametrize("bias", [True, False])
def test_linear_equals_its_naive_twin(bias):
    rng = np.random.default_rng(3)
    layer = Linear(4, 3, bias=bias, rng=rng)
    if bias:
        layer.bias.data = rng.normal(size=3)
    x, g = rng.normal(size=(7, 4)), rng.normal(size=(7, 3))
    b = layer.bias.data if bias else None
    np.testing.assert_allclose(layer.forward(x), linear_naive(x, layer.weight.data, b), rtol=1e-13)
    dx = layer.backward(g)
    naive_dx, naive_dw, naive_db = linear_naive_backward(x, layer.weight.data, g)
    np.testing.assert_allclose(dx, naive_dx, rtol=1e-13)
    np.testing.assert_allclose(layer.weight.grad, naive_dw, rtol=1e-13)
    if bias:
        np.testing.assert_allclose(layer.bias.grad, naive_db, rtol=1e-13)


@pytest.mark.parametrize("shared", [True, False])
def test_a_linear_stack_is_its_naive_twin_replica_by_replica(shared):
    rng = np.random.default_rng(4)
    layer = Linear(3, 2, replicas=(3,), rng=rng)
    layer.bias.data = rng.normal(size=(3, 2))
    x = rng.normal(size=(5, 3)) if shared else rng.normal(size=(3, 5, 3))
    g = rng.normal(size=(3, 5, 2))
    y, dx = layer.forward(x), layer.backward(g)
    summed_dx = 0.0
    for k in range(3):
        xk = x if shared else x[k]
        w, b = layer.weight.data[k], layer.bias.data[k]
        np.testing.assert_allclose(y[k], linear_naive(xk, w, b), rtol=1e-12)
        naive_dx, naive_dw, naive_db = linear_naive_backward(xk, w, g[k])
        np.testing.assert_allclose(layer.weight.grad[k], naive_dw, rtol=1e-12)
        np.testing.assert_allclose(layer.bias.grad[k], naive_db, rtol=1e-12)
        if shared:
            summed_dx = summed_dx + naive_dx
        else:
            np.testing.assert_allclose(dx[k], naive_dx, rtol=1e-12)
    if shared:  # shared data feeds every replica: its gradient is the replicas' sum
        np.testing.assert_allclose(dx, summed_dx, rtol=1e-12, atol=1e-15)


def test_a_module_or_loss_without_backward_says_what_to_write():
    """gradcheck of a Module with forward only raised NotImplementedError with no message
    (api21 M8)."""
    from proplab import Loss, Module, gradcheck

    class Double(Module):
        def forward(self, x):
            return 2 * x

    with pytest.raises(NotImplementedError) as info:
        gradcheck(Double(), np.ones((3, 2)))
    assert str(info.value) == (
        "Double has no backward: write backward(self, grad_out, need_input_grad=True), which "
        "adds dL/dparam into each parameter's grad and returns dL/dx (docs/own_layer.md)"
    )

    class Empty(Module):
        pass

    with pytest.raises(NotImplementedError, match=r"^Empty has no forward: write forward\(self"):
        Empty()(np.ones((3, 2)))

    class Half(Loss):
        def forward(self, pred, target):
            return 0.0

    with pytest.raises(NotImplementedError) as info:
        Half().backward()
    assert str(info.value) == (
        "Half has no backward: write backward(self), which returns dL/dpred for the last "
        "forward (docs/own_layer.md, 'Your own loss')"
    )
    with pytest.raises(NotImplementedError, match=r"^Loss has no forward: write forward\(self"):
        Loss()(np.ones((3, 1)), np.ones((3, 1)))
