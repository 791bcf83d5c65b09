"""Layers called one by one, as in a loop written by hand: a list for an input, a gradient
of the wrong shape, a backward before forward each get one clear line, not NumPy's words."""

from __future__ import annotations

import numpy as np
import pytest

from proplab import Flatten, LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Tanh
from proplab.conv import Unsqueeze

X = np.arange(12.0).reshape(6, 2) / 10 - 0.3  # 6 samples, 2 features


@pytest.mark.parametrize(
    ("make", "x", "takes"), [(Flatten, X[:, None, :], "(n, C, L)"), (Unsqueeze, X, "(n, F)")]
)
def test_a_list_input_to_a_shape_layer_gets_the_type_error_linear_gives(make, x, takes) -> None:
    """AttributeError: 'list' object has no attribute 'shape' (or 'ndim') before."""
    layer = make()
    name = type(layer).__name__
    with pytest.raises(TypeError) as info:
        layer(x.tolist())
    assert str(info.value) == f"{name} takes a NumPy array {takes}, got list; pass np.asarray(...)"
    assert layer(x).shape == make()(x).shape  # the array itself is taken


@pytest.mark.parametrize("make", [Sigmoid, Tanh, ReLU, LeakyReLU])
def test_an_activation_takes_a_list_as_numpy_would(make) -> None:
    """Sigmoid and LeakyReLU raised AttributeError ('list' object has no attribute 'dtype'),
    ReLU a TypeError ('<=' not supported between list and int); Tanh took it. All four
    take it now (converted on the failure path only), as sigmoid() and np.tanh do."""
    act, ref = make(), make()
    np.testing.assert_array_equal(act(X.tolist()), ref(X))
    grad = np.linspace(-1, 1, 12).reshape(6, 2)
    np.testing.assert_array_equal(act.backward(grad), ref.backward(grad))


@pytest.mark.parametrize("make", [Sigmoid, Tanh, ReLU, LeakyReLU])
def test_text_input_is_named(make) -> None:
    """NumPy's 'ufunc ... did not contain a loop with signature matching types' before."""
    with pytest.raises(TypeError) as info:
        make()(np.array([["0.5", "1"]]))
    assert str(info.value) == f"{make.__name__} takes real numbers, got an array of dtype <U3"
    with pytest.raises(TypeError) as info:
        make()([["0.5", "1"]])
    assert str(info.value) == f"{make.__name__} takes real numbers, got [['0.5', '1']]"


def _wrong_shape(name: str, got: tuple[int, ...], had: tuple[int, ...]) -> str:
    return (
        f"{name}.backward: grad_out has shape {got}, but the forward's output had {had} "
        "(dL/doutput has the output's shape)"
    )


@pytest.mark.parametrize("grad_shape", [(6, 4), (5, 3)])
def test_linear_backward_names_a_gradient_of_the_wrong_shape(grad_shape) -> None:
    """NumPy's 'matmul: Output operand 0 has a mismatch in its core dimension 1 ...'."""
    layer = Linear(2, 3, rng=np.random.default_rng(0))
    layer(X)
    with pytest.raises(ValueError) as info:
        layer.backward(np.ones(grad_shape))
    assert str(info.value) == _wrong_shape("Linear", grad_shape, (6, 3))
    with pytest.raises(TypeError, match=r"^Linear\.backward takes grad_out as a NumPy array"):
        layer.backward(np.ones((6, 3)).tolist())
    stack = Linear(2, 3, rng=np.random.default_rng(0), replicas=4)
    stack(X)  # shared data feeding 4 replicas: the output is (4, 6, 3)
    with pytest.raises(ValueError) as info:
        stack.backward(np.ones((4, 6, 2)))
    assert str(info.value) == _wrong_shape("Linear", (4, 6, 2), (4, 6, 3))


@pytest.mark.parametrize("make", [Sigmoid, Tanh, ReLU, LeakyReLU])
def test_an_activations_backward_names_a_gradient_of_the_wrong_shape(make) -> None:
    """'operands could not be broadcast together with shapes (6,2) (6,3) (6,2)' before."""
    act = make()
    act(X)
    with pytest.raises(ValueError) as info:
        act.backward(np.ones((6, 3)))
    assert str(info.value) == _wrong_shape(make.__name__, (6, 3), (6, 2))
    assert act.backward(np.ones((6, 2))).shape == (6, 2)  # the right one still works


def test_inside_a_sequential_the_layer_note_is_still_added() -> None:
    model = Sequential(Linear(2, 3, rng=np.random.default_rng(0)), Sigmoid())
    model(X)
    with pytest.raises(ValueError) as info:
        model.backward(np.ones((6, 4)))
    assert str(info.value) == _wrong_shape("Sigmoid", (6, 4), (6, 3))
    assert info.value.__notes__ == [
        "in layer 1 (Sigmoid).backward, on a gradient of shape (6, 4) given to the Sequential "
        "(dL/d(output) has the output's shape)"
    ]


def test_flatten_backward_after_forward_does_not_say_run_forward_first() -> None:
    """The except AttributeError also covered grad_out.reshape: a list got 'Flatten.backward
    needs 'in_shape', which forward saves: run forward ...' although forward had run."""
    flat = Flatten()
    flat(X.reshape(6, 1, 2))
    with pytest.raises(TypeError) as info:
        flat.backward(np.ones((6, 2)).tolist())
    assert str(info.value) == (
        "Flatten.backward takes grad_out as a NumPy array (the output's shape), got list; "
        "pass np.asarray(...)"
    )
    with pytest.raises(ValueError) as info:
        flat.backward(np.ones((6, 3)))
    assert str(info.value) == _wrong_shape("Flatten", (6, 3), (6, 2))
    assert flat.backward(np.ones((6, 2))).shape == (6, 1, 2)


def test_unsqueeze_backward_names_a_gradient_of_the_wrong_shape() -> None:
    up = Unsqueeze()
    up(X)
    with pytest.raises(ValueError) as info:
        up.backward(np.ones((6, 1, 3)))
    assert str(info.value) == _wrong_shape("Unsqueeze", (6, 1, 3), (6, 1, 2))
    assert up.backward(np.ones((6, 1, 2))).shape == (6, 2)


def test_unsqueeze_backward_before_forward_says_so_as_every_layer_does() -> None:
    """AttributeError: 'Unsqueeze' object has no attribute 'in_shape' before (api21 L1)."""
    with pytest.raises(AttributeError) as info:
        Unsqueeze().backward(np.ones((6, 1, 2)))
    assert str(info.value) == (
        "Unsqueeze.backward needs 'in_shape', which forward saves: run forward (or compute "
        "the loss) before backward"
    )


def test_flatten_of_no_samples_gives_no_rows() -> None:
    """NumPy's 'cannot reshape array of size 0 into shape (0,newaxis)' before (api21 L2):
    -1 cannot be worked out from a size of 0, the merged width can."""
    flat = Flatten()
    out = flat(np.empty((0, 3, 4)))
    assert out.shape == (0, 12)
    assert flat.backward(np.empty((0, 12))).shape == (0, 3, 4)
    stacked = Flatten()(np.empty((2, 0, 3, 4)))  # a stack of 2 replicas, no samples
    assert stacked.shape == (2, 0, 12)
