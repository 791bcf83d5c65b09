"""Weight initialisers: bounds and spreads from their formulas, explicit generators."""

from __future__ import annotations

import math

import numpy as np
import pytest

from proplab import init, mlp
from proplab.registry import resolve

FAN_IN, FAN_OUT = 200, 300  # large, so sample statistics sit close to their targets


def draw(fn, **kw):
    return fn((FAN_IN, FAN_OUT), np.random.default_rng(0), **kw)


def test_xavier_uniform_is_exactly_a_scaled_uniform_draw():
    # a = sqrt(6 / (200 + 300)) = sqrt(0.012) = 0.10954
    a = math.sqrt(6.0 / (FAN_IN + FAN_OUT))
    expected = np.random.default_rng(0).uniform(-a, a, size=(FAN_IN, FAN_OUT))
    np.testing.assert_array_equal(draw(init.xavier_uniform), expected)


@pytest.mark.parametrize(
    ("fn", "bound"),
    [
        (init.xavier_uniform, math.sqrt(6.0 / (FAN_IN + FAN_OUT))),
        (init.he_uniform, math.sqrt(6.0 / FAN_IN)),
        (init.torch_default, 1.0 / math.sqrt(FAN_IN)),
    ],
)
def test_uniform_family_bounds_and_spread(fn, bound):
    w = draw(fn)
    assert np.max(np.abs(w)) <= bound
    assert np.max(np.abs(w)) > 0.999 * bound  # 60 000 draws reach the edge
    # U(-a, a) has standard deviation a / sqrt(3)
    assert np.std(w) == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert abs(np.mean(w)) < 0.01 * bound


@pytest.mark.parametrize(
    ("fn", "std"),
    [
        (init.xavier_normal, math.sqrt(2.0 / (FAN_IN + FAN_OUT))),
        (init.he_normal, math.sqrt(2.0 / FAN_IN)),
        (lambda s, r: init.normal(s, r, std=0.3), 0.3),
    ],
)
def test_normal_family_spread(fn, std):
    w = draw(fn)
    assert np.std(w) == pytest.approx(std, rel=0.02)
    assert abs(np.mean(w)) < 0.02 * std


def test_xavier_gain_scales_the_bound():
    a = math.sqrt(6.0 / (FAN_IN + FAN_OUT))
    np.testing.assert_allclose(
        draw(init.xavier_uniform, gain=2.0), 2.0 * draw(init.xavier_uniform), rtol=1e-15
    )
    assert np.max(np.abs(draw(init.xavier_uniform, gain=2.0))) <= 2 * a


def test_uniform_range_and_validation():
    w = init.uniform((1000,), np.random.default_rng(1), low=0.25, high=0.5)
    assert w.min() >= 0.25 and w.max() < 0.5
    with pytest.raises(ValueError, match="low < high, got low=1.0, high=1.0"):
        init.uniform((2,), np.random.default_rng(1), low=1.0, high=1.0)


def test_fans_come_from_the_last_two_axes_of_a_replica_stack():
    # a stack of 40 weights (40, in=3, out=5): a = sqrt(6 / (3 + 5)) = 0.866 for each,
    # not sqrt(6 / (40 + 3)) = 0.374 as fans read from the first two axes would give
    w = init.xavier_uniform((40, 3, 5), np.random.default_rng(2))
    a = math.sqrt(6.0 / (3 + 5))
    np.testing.assert_array_equal(w, np.random.default_rng(2).uniform(-a, a, size=(40, 3, 5)))
    assert np.max(np.abs(w)) > 0.8


def test_explicit_fans_for_convolution_weights():
    # Conv1d weight (out_ch, in_ch, k) = (8, 2, 3): fan_in = 2 * 3, fan_out = 8 * 3
    w = init.he_uniform((8, 2, 3), np.random.default_rng(3), fan_in=6, fan_out=24)
    assert np.max(np.abs(w)) <= 1.0
    with pytest.raises(ValueError, match=r"cannot infer fan-in/fan-out of shape \(5,\)"):
        init.xavier_uniform((5,), np.random.default_rng(3))


@pytest.mark.parametrize(
    "fn", [init.xavier_uniform, init.xavier_normal, init.he_uniform, init.torch_default]
)
def test_dtype_and_reproducibility(fn):
    a = fn((3, 4), np.random.default_rng(5), dtype=np.float32)
    b = fn((3, 4), np.random.default_rng(5), dtype=np.float32)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, fn((3, 4), np.random.default_rng(6), dtype=np.float32))


@pytest.mark.parametrize(
    ("name", "bound"),
    [
        ("xavier", math.sqrt(6.0 / 12)),
        ("glorot", math.sqrt(6.0 / 12)),
        ("he", math.sqrt(6.0 / 2)),
        ("kaiming", math.sqrt(6.0 / 2)),
        ("torch", 1 / math.sqrt(2)),
    ],
)
def test_mlp_init_by_name(name, bound):
    # first layer 2 -> 10: xavier a = sqrt(6 / 12), he a = sqrt(6 / 2), torch 1 / sqrt(2)
    model = mlp(2, 10, 1, init=name, rng=np.random.default_rng(0))
    expected = resolve("init", name)((2, 10), np.random.default_rng(0))
    np.testing.assert_array_equal(model[0].weight.data, expected)
    assert np.max(np.abs(expected)) <= bound


def test_unknown_init_name_lists_the_accepted_ones():
    with pytest.raises(ValueError, match=r"unknown init 'zeros' \(accepted: xavier, .*he"):
        mlp(2, 3, 1, init="zeros", rng=np.random.default_rng(0))


# --- bad arguments ---------------------------------------------------------------------

FAN_SCALED = [init.xavier_uniform, init.xavier_normal, init.he_uniform, init.he_normal]
FAN_SCALED.append(init.torch_default)


@pytest.mark.parametrize("fn", FAN_SCALED)
@pytest.mark.parametrize(
    ("shape", "kw", "message"),
    [
        ((0, 3), {}, "fan_in must be a positive integer .*got 0"),
        ((2, 3), {"fan_in": 0, "fan_out": 3}, "fan_in must be a positive integer"),
        ((2, 3), {"fan_in": 2, "fan_out": -1}, "fan_out must be a positive integer .*got -1"),
        (3, {}, r"cannot infer fan-in/fan-out of shape \(3,\)"),
    ],
)
def test_fan_scaled_inits_refuse_empty_or_negative_fans(fn, shape, kw, message):
    # these used to end in ZeroDivisionError or "math domain error"
    with pytest.raises(ValueError, match=message):
        fn(shape, np.random.default_rng(0), **kw)


@pytest.mark.parametrize("fn", [init.uniform, init.normal, *FAN_SCALED])
@pytest.mark.parametrize("bad", [0, None, "seed"])
def test_inits_want_a_generator(fn, bad):
    with pytest.raises(TypeError, match=r"rng must be a numpy Generator .*default_rng\(0\)"):
        fn((2, 3), bad)


@pytest.mark.parametrize(
    ("fn", "kw", "message"),
    [
        (init.normal, {"std": -1.0}, "normal: std must be a finite number >= 0, got -1.0"),
        (init.normal, {"std": float("nan")}, "std must be a finite number >= 0, got nan"),
        (init.xavier_uniform, {"gain": float("nan")}, "gain must be a finite number >= 0"),
        (init.xavier_normal, {"gain": -2}, "xavier_normal: gain must be a finite number >= 0"),
        (init.uniform, {"high": float("inf")}, "finite low < high"),
    ],
)
def test_spread_arguments_are_checked(fn, kw, message):
    with pytest.raises(ValueError, match=message):
        fn((2, 3), np.random.default_rng(0), **kw)


def test_layers_refuse_integer_weight_dtypes():
    from proplab import Linear

    # an int dtype used to truncate every drawn weight to 0 or -1
    with pytest.raises(TypeError, match="dtype must be a float type .*got int64"):
        Linear(2, 3, rng=np.random.default_rng(0), dtype=np.int64)


def test_draw_weights_takes_a_name_and_refuses_non_callables():
    from proplab import Linear

    a = Linear(2, 3, rng=np.random.default_rng(0), init="he")
    b = Linear(2, 3, rng=np.random.default_rng(0), init=init.he_uniform)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    with pytest.raises(ValueError, match="unknown init 'hee'"):
        Linear(2, 3, rng=np.random.default_rng(0), init="hee")
    with pytest.raises(TypeError, match="init must be an initialiser from proplab.init"):
        Linear(2, 3, rng=np.random.default_rng(0), init=None)
    with pytest.raises(TypeError, match=r"rngs entry: rng must be a numpy Generator"):
        Linear(2, 3, rngs=[0, 1], replicas=2)


def test_xavier_normal_gain_scales_the_spread():
    # std = gain * sqrt(2 / (fan_in + fan_out)): doubling the gain doubles every draw
    np.testing.assert_array_equal(
        draw(init.xavier_normal, gain=2.0), 2.0 * draw(init.xavier_normal)
    )


def test_replicas_0_is_a_single_model_and_rngs_must_match_the_replica_count():
    from proplab import Linear

    lin = Linear(2, 3, replicas=0, rng=np.random.default_rng(0))
    assert lin.weight.shape == (2, 3) and lin.bias.shape == (3,)
    assert init.replica_shape(0, "Linear") == ()
    rngs = [np.random.default_rng(s) for s in range(3)]
    with pytest.raises(ValueError, match=r"got 3 generators for replica shape \(2,\)"):
        Linear(2, 3, replicas=2, rngs=rngs)
    with pytest.raises(ValueError, match=r"got 3 generators for replica shape \(4,\)"):
        Linear(2, 3, replicas=4, rngs=rngs)


@pytest.mark.parametrize("kind", ["Linear", "Conv1d"])
def test_rngs_alone_give_one_replica_per_generator_as_dropout_does(kind: str) -> None:
    """audit15b L1: Linear(2, 3, rngs=[g0, g1]) raised 'got 2 generators for replica shape
    ()'; Dropout(rngs=...) already takes replicas=(len(rngs),)."""
    import proplab

    def build(**kw):
        if kind == "Linear":
            return proplab.Linear(2, 3, **kw)
        return proplab.Conv1d(2, 3, 2, **kw)

    stack = build(rngs=[np.random.default_rng(s) for s in (4, 5)])
    assert stack.replicas == (2,)
    for k, seed in enumerate((4, 5)):
        single = build(rng=np.random.default_rng(seed))
        np.testing.assert_array_equal(stack.weight.data[k], single.weight.data)
        np.testing.assert_array_equal(stack.bias.data[k], single.bias.data)
    explicit = build(rngs=[np.random.default_rng(s) for s in (4, 5)], replicas=2)
    np.testing.assert_array_equal(explicit.weight.data, stack.weight.data)
    with pytest.raises(TypeError, match=rf"{kind}: rngs must be a list of numpy Generators"):
        build(rngs=np.random.default_rng(0))
