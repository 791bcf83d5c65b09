"""Conv1d: a hand-worked example, gradient checks over a geometry grid, the
vectorised layer against its naive twin, geometry errors, the conv_net builder,
and (slow) the lab's convolutional model trained on XOR and linear."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from proplab import cli, serialize
from proplab.config import RunConfig, build_loss, build_model, build_optimizer
from proplab.conv import (
    Conv1d,
    Conv1dNaive,
    Unsqueeze,
    conv1d_naive,
    conv1d_naive_backward,
    conv1d_output_length,
)
from proplab.data import generate_xor_easy
from proplab.experiments import load_dataset
from proplab.gradcheck import gradcheck
from proplab.init import xavier_uniform
from proplab.layers import Flatten, Linear
from proplab.models import conv_net
from proplab.train import fit

STRIDES = (1, 2, 3)
PADDINGS = (0, 1, 2)
DILATIONS = (1, 2)
CHANNELS = ((1, 1), (2, 3), (3, 2))  # (in, out)
KERNELS = (1, 2, 3)
GRID = list(itertools.product(STRIDES, PADDINGS, DILATIONS, CHANNELS, KERNELS))
GRID_IDS = [f"s{s}-p{p}-d{d}-c{c[0]}to{c[1]}-k{k}" for s, p, d, c, k in GRID]
# replica layouts: a single model; a stack of 2 fed shared (n, C, L) data; a
# (2, 2) stack fed per-replica (2, 2, n, C, L) data
REPLICAS = {"single": ((), False), "shared": ((2,), True), "stacked": ((2, 2), False)}
N, LENGTH = 2, 7


def make_conv(cls, rng, s, p, d, channels, k, replicas=()):
    """A layer with random (nonzero) bias, so the bias path is really exercised."""
    conv = cls(channels[0], channels[1], k, s, p, d, rng=rng, replicas=replicas)
    conv.bias.data[...] = rng.standard_normal(conv.bias.data.shape)
    return conv


def make_input(rng, channels, replicas, shared):
    lead = () if shared else replicas
    return rng.standard_normal(lead + (N, channels[0], LENGTH))


# ----------------------------------------------------------------------------- by hand


def test_hand_worked_example() -> None:
    # x = [1, 2, 3] padded to [0, 1, 2, 3, 0]; w = [1, 0, -1] takes x[t] - x[t + 2]:
    # out = [0 - 2, 1 - 3, 2 - 0] + bias 0.5 = [-1.5, -1.5, 2.5]
    conv = Conv1d(1, 1, 3, padding=1, rng=np.random.default_rng(0))
    conv.weight.data[...] = [[[1.0, 0.0, -1.0]]]
    conv.bias.data[...] = 0.5
    x = np.array([[[1.0, 2.0, 3.0]]])
    np.testing.assert_array_equal(conv(x), [[[-1.5, -1.5, 2.5]]])
    dx = conv.backward(np.ones((1, 1, 3)))
    # dw[j] = sum_t xp[t + j]: [0+1+2, 1+2+3, 2+3+0]; db = 3 positions
    np.testing.assert_array_equal(conv.weight.grad, [[[3.0, 6.0, 5.0]]])
    np.testing.assert_array_equal(conv.bias.grad, [3.0])
    # dx[pos] = sum of w[j] over the (t, j) that read it: [w0+w1, w0+w1+w2, w1+w2]
    np.testing.assert_array_equal(dx, [[[1.0, 0.0, -1.0]]])


def test_stride_dilation_hand_example() -> None:
    # stride 2, dilation 2, k 2: out[t] = w0 x[2t] + w1 x[2t + 2] over x = 0..6
    conv = Conv1d(1, 1, 2, stride=2, dilation=2, bias=False, rng=np.random.default_rng(0))
    conv.weight.data[...] = [[[1.0, 10.0]]]
    x = np.arange(7.0).reshape(1, 1, 7)
    np.testing.assert_array_equal(conv(x), [[[0 + 20.0, 2 + 40.0, 4 + 60.0]]])
    np.testing.assert_array_equal(conv1d_naive(x, conv.weight.data, None, 2, 0, 2), conv(x))


def test_output_length_formula() -> None:
    # (L + 2p - d(k - 1) - 1) // s + 1, as torch.nn.Conv1d documents
    assert conv1d_output_length(64, 3, 1, 1, 1) == 64
    assert conv1d_output_length(10, 3, 2, 0, 1) == 4
    assert conv1d_output_length(10, 3, 3, 2, 2) == 4
    assert conv1d_output_length(2, 2, 1, 1) == 3
    assert conv1d_output_length(2, 3, 1, 1) == 2


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize(("s", "p", "d", "channels", "k"), GRID, ids=GRID_IDS)
@pytest.mark.parametrize("layout", list(REPLICAS))
def test_gradcheck_grid(s, p, d, channels, k, layout, rng) -> None:
    replicas, shared = REPLICAS[layout]
    conv = make_conv(Conv1d, rng, s, p, d, channels, k, replicas)
    x = make_input(rng, channels, replicas, shared)
    result = gradcheck(conv, x, rng=rng)
    assert set(result.errors) == {"input", "weight", "bias"}
    assert result.ok, str(result)


# ----------------------------------------------------------------------------- naive twin


@pytest.mark.parametrize(("s", "p", "d", "channels", "k"), GRID, ids=GRID_IDS)
@pytest.mark.parametrize("layout", list(REPLICAS))
def test_fast_matches_naive_twin(s, p, d, channels, k, layout, rng) -> None:
    replicas, shared = REPLICAS[layout]
    fast = make_conv(Conv1d, rng, s, p, d, channels, k, replicas)
    naive = make_conv(Conv1dNaive, rng, s, p, d, channels, k, replicas)
    naive.load_state_dict(fast.state_dict())
    x = make_input(rng, channels, replicas, shared)
    y_fast, y_naive = fast(x), naive(x)
    assert y_fast.shape == replicas + (N, channels[1], conv1d_output_length(LENGTH, k, s, p, d))
    np.testing.assert_allclose(y_fast, y_naive, rtol=0, atol=1e-12)
    g = rng.standard_normal(y_fast.shape)
    dx_fast, dx_naive = fast.backward(g), naive.backward(g)
    assert dx_fast.shape == x.shape
    np.testing.assert_allclose(dx_fast, dx_naive, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.weight.grad, naive.weight.grad, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.bias.grad, naive.bias.grad, rtol=0, atol=1e-12)


@pytest.mark.parametrize("stride", [10**30, 2**62])
@pytest.mark.parametrize("layout", list(REPLICAS))
def test_a_stride_beyond_the_input_reads_one_window_as_the_naive_twin(stride, layout, rng):
    """A stride past the input's end leaves one output position, the first window: the
    strided view must not multiply the huge stride into byte strides (OverflowError: Python
    int too large to convert to C long, a traceback from `proplab train --stride 1e30`)."""
    replicas, shared = REPLICAS[layout]
    fast = make_conv(Conv1d, rng, stride, 1, 1, (2, 3), 2, replicas)
    naive = make_conv(Conv1dNaive, rng, stride, 1, 1, (2, 3), 2, replicas)
    naive.load_state_dict(fast.state_dict())
    x = make_input(rng, (2, 3), replicas, shared)
    y = fast(x)
    assert y.shape[-1] == 1
    np.testing.assert_allclose(y, naive(x), rtol=0, atol=1e-12)
    g = rng.standard_normal(y.shape)
    np.testing.assert_allclose(fast.backward(g), naive.backward(g), rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.weight.grad, naive.weight.grad, rtol=0, atol=1e-12)


def test_gradients_accumulate_and_skip_input_grad(rng) -> None:
    conv = make_conv(Conv1d, rng, 1, 1, 1, (2, 3), 3)
    x = rng.standard_normal((4, 2, 9))
    g = rng.standard_normal(conv(x).shape)
    assert conv.backward(g, need_input_grad=False) is None
    once = conv.weight.grad.copy(), conv.bias.grad.copy()
    conv.backward(g)
    np.testing.assert_allclose(conv.weight.grad, 2 * once[0], rtol=1e-14)
    np.testing.assert_allclose(conv.bias.grad, 2 * once[1], rtol=1e-14)
    _, dw, db = conv1d_naive_backward(x, conv.weight.data, g, 1, 1, 1)
    np.testing.assert_allclose(once[0], dw, rtol=0, atol=1e-12)
    np.testing.assert_allclose(once[1], db, rtol=0, atol=1e-12)


def test_replica_k_is_the_single_layer_built_from_its_generator(rng) -> None:
    seeds = [3, 1, 4]
    stack = Conv1d(2, 3, 3, padding=1, rngs=[np.random.default_rng(s) for s in seeds], replicas=3)
    x = rng.standard_normal((5, 2, 6))
    out = stack(x)
    for r, seed in enumerate(seeds):
        single = Conv1d(2, 3, 3, padding=1, rng=np.random.default_rng(seed))
        np.testing.assert_array_equal(stack.weight.data[r], single.weight.data)
        np.testing.assert_allclose(out[r], single(x), rtol=0, atol=1e-15)


def test_weight_init_uses_conv_fans() -> None:
    # xavier bound sqrt(6 / (fan_in + fan_out)) with fan_in = C k = 6, fan_out = O k = 12
    conv = Conv1d(2, 4, 3, rng=np.random.default_rng(0))
    expected = xavier_uniform((4, 2, 3), np.random.default_rng(0), fan_in=6, fan_out=12)
    np.testing.assert_array_equal(conv.weight.data, expected)
    assert np.abs(conv.weight.data).max() <= np.sqrt(6 / 18)
    assert np.abs(conv.weight.data).max() > 0.8 * np.sqrt(6 / 18)  # the bound is really used
    np.testing.assert_array_equal(conv.bias.data, np.zeros(4))


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("length", "k", "s", "p", "d", "message"),
    [
        (2, 3, 1, 0, 1, r"input length 2 \+ 2\*padding 0 = 2 is shorter than the dilated kernel 3"),
        (2, 5, 1, 1, 1, r"input length 2 \+ 2\*padding 1 = 4 is shorter than the dilated kernel 5"),
        (5, 3, 1, 0, 3, r"= 5 is shorter than the dilated kernel 7 \(dilation 3"),
        (2, 5, 1, 1, 1, r"output length would be 0 <= 0; use padding >= 2"),
        (4, 3, 0, 0, 1, r"stride must be a positive integer, got 0"),
        (4, 3, 1, 0, 0, r"dilation must be a positive integer, got 0"),
        (4, 0, 1, 0, 1, r"kernel_size must be a positive integer, got 0"),
        (4, 3, 1, -1, 1, r"padding must be an integer >= 0, got -1"),
    ],
)
def test_impossible_geometry_names_the_numbers(length, k, s, p, d, message) -> None:
    with pytest.raises(ValueError, match=message):
        conv1d_output_length(length, k, s, p, d)
    if s >= 1 and d >= 1 and k >= 1 and p >= 0:
        # a valid layer meeting a too-short input fails at forward, with the same message
        conv = Conv1d(1, 2, k, s, p, d, rng=np.random.default_rng(0))
        with pytest.raises(ValueError, match=message):
            conv(np.zeros((3, 1, length)))
    else:
        with pytest.raises(ValueError, match=message):
            Conv1d(1, 2, k, s, p, d, rng=np.random.default_rng(0))


def test_bad_input_shapes_are_named(rng) -> None:
    conv = Conv1d(2, 3, 2, rng=rng)
    with pytest.raises(
        ValueError, match=r"expects input \(\*R, n, 2, length\).*got shape \(4, 3, 5\)"
    ):
        conv(np.zeros((4, 3, 5)))
    with pytest.raises(ValueError, match=r"got shape \(4, 5\)"):
        conv(np.zeros((4, 5)))
    with pytest.raises(
        ValueError, match=r"replica axes \(3,\) do not match the layer's replicas \(\)"
    ):
        conv(np.zeros((3, 4, 2, 5)))
    with pytest.raises(ValueError, match="in_channels must be a positive integer, got 0"):
        Conv1d(0, 3, 2, rng=rng)
    with pytest.raises(ValueError, match="needs rng="):
        Conv1d(1, 3, 2)


# ----------------------------------------------------------------------------- model pieces


def test_unsqueeze_and_flatten_round_trip(rng) -> None:
    x = rng.standard_normal((2, 5, 3))  # a replica stack of 2, 5 samples, 3 features
    up = Unsqueeze()
    signal = up(x)
    assert signal.shape == (2, 5, 1, 3)
    np.testing.assert_array_equal(signal[:, :, 0, :], x)
    np.testing.assert_array_equal(up.backward(signal * 2.0), x * 2.0)
    flat = Flatten(-3)
    maps = rng.standard_normal((2, 5, 4, 3))  # (R, n, C, L)
    np.testing.assert_array_equal(flat(maps)[1, 2], maps[1, 2].reshape(-1))  # channel-major
    with pytest.raises(ValueError, match="negative integer, got 0"):
        Unsqueeze(0)


@pytest.mark.parametrize("axis", [-1, -2, -3, -4])
def test_unsqueeze_matches_expand_dims_every_axis(rng, axis) -> None:
    x = rng.standard_normal((2, 5, 3))
    up = Unsqueeze(axis)
    out = up(x)
    expected = np.expand_dims(x, axis)
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)
    assert np.shares_memory(out, x)  # a view, no copy
    grad = rng.standard_normal(expected.shape)
    np.testing.assert_array_equal(up.backward(grad), np.squeeze(grad, axis))
    assert up.backward(grad, need_input_grad=False) is None


def test_unsqueeze_rejects_an_axis_beyond_the_input() -> None:
    with pytest.raises(
        ValueError,
        match=r"Unsqueeze\(axis=-4\) needs an input of at least 3 axes, got shape \(5, 3\)",
    ):
        Unsqueeze(-4)(np.zeros((5, 3)))


@pytest.mark.parametrize(("k", "length_out"), [(2, 3), (3, 2)])
def test_conv_net_structure(k, length_out) -> None:
    model = conv_net(2, 5, 7, 1, kernel_size=k, padding=1, rng=np.random.default_rng(0))
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds == [
        "Unsqueeze",
        "Conv1d",
        "Sigmoid",
        "Flatten",
        "Linear",
        "Sigmoid",
        "Linear",
        "Sigmoid",
    ]
    assert model.layers[4].in_features == 5 * length_out
    x = np.random.default_rng(1).random((6, 2))
    # the same network by hand: conv (naive), sigmoid, flatten, two affine maps
    conv, lin1, lin2 = model.layers[1], model.layers[4], model.layers[6]
    h1 = 1 / (1 + np.exp(-conv1d_naive(x[:, None, :], conv.weight.data, conv.bias.data, 1, 1)))
    h2 = 1 / (1 + np.exp(-(h1.reshape(6, -1) @ lin1.weight.data + lin1.bias.data)))
    want = 1 / (1 + np.exp(-(h2 @ lin2.weight.data + lin2.bias.data)))
    np.testing.assert_allclose(model(x), want, rtol=0, atol=1e-14)


def test_conv_net_gradcheck_with_replicas(rng) -> None:
    model = conv_net(2, 3, 4, 1, kernel_size=3, padding=1, seeds=[0, 1])
    result = gradcheck(model, rng.random((2, 5, 2)), rng=rng)
    assert result.ok, str(result)
    assert len(result.errors) == 1 + 6  # input + conv/linear/linear weights and biases


def test_conv_net_seeds_match_single_models() -> None:
    x = np.random.default_rng(2).random((9, 2))
    stack = conv_net(2, 4, 6, 1, seeds=[5, 6])
    for r, seed in enumerate([5, 6]):
        single = conv_net(2, 4, 6, 1, rng=np.random.default_rng(seed))
        np.testing.assert_allclose(stack(x)[r], single(x), rtol=0, atol=1e-15)


def test_conv_net_geometry_error_at_build_time() -> None:
    with pytest.raises(ValueError, match=r"input length 2 \+ 2\*padding 0 = 2 .* dilated kernel 3"):
        conv_net(2, 4, 6, 1, kernel_size=3, padding=0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="filters must be a positive integer, got 0"):
        conv_net(2, 0, 6, 1, rng=np.random.default_rng(0))


def test_build_model_reads_the_conv_fields() -> None:
    cfg = RunConfig(model="conv", filters=6, kernel_size=3, stride=1, padding=1, hidden=5)
    model = build_model(cfg.validate(), 2, 1)
    conv = model.layers[1]
    assert isinstance(conv, Conv1d)
    assert (conv.out_channels, conv.kernel_size, conv.padding) == (6, 3, 1)
    assert isinstance(model.layers[4], Linear) and model.layers[4].in_features == 6 * 2
    assert model.layers[4].out_features == 5


def test_save_and_load_round_trip(tmp_path) -> None:
    x = np.random.default_rng(3).random((7, 2))
    for model in (
        conv_net(2, 3, 5, 1, kernel_size=3, padding=2, stride=2, rng=np.random.default_rng(0)),
        conv_net(2, 3, 5, 1, seeds=[0, 1, 2]),
    ):
        path = serialize.save(model, tmp_path / "conv.npz")
        loaded = serialize.load(path)
        np.testing.assert_array_equal(loaded(x), model(x))
        assert repr(loaded) == repr(model)


# ----------------------------------------------------------------------------- end to end


@pytest.mark.slow
@pytest.mark.parametrize(("dataset", "wanted"), [("xor", 1.0), ("linear", 0.99)])
def test_conv_model_learns_the_lab_datasets_for_seeds_0_to_4(dataset, wanted) -> None:
    """The CLI defaults for ``--model conv``, five seeds trained at once as a replica stack.

    Each seed k gets what ``proplab train --model conv --seed k`` gets: weights
    from default_rng(k) and, for ``linear``, data drawn from seed k's data stream
    (``experiments.load_dataset``).
    """
    cfg = RunConfig(dataset=dataset, model="conv").validate()
    seeds = [0, 1, 2, 3, 4]
    data = [load_dataset(cfg.replace(seed=s)) for s in seeds]
    x = np.stack([d[0] for d in data])
    y = np.stack([d[1] for d in data]).astype(np.float64)
    model = build_model(cfg, 2, 1, seeds=seeds)
    history = fit(
        model, build_loss(cfg), build_optimizer(cfg, model.parameters()), x, y, cfg.epochs
    )
    acc = np.asarray(history.final_accuracy)
    assert acc.shape == (5,)
    assert np.all(acc >= wanted), acc


# ----------------------------------------------------------------------------- CLI


def test_cli_conv_flags_reach_the_saved_model(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    argv = ["train", "--model", "conv", "--dataset", "xor", "--filters", "3"]
    argv += ["--kernel-size", "3", "--stride", "2", "--padding", "2", "--epochs", "5"]
    argv += ["--quiet", "--no-progress", "--out", str(out)]
    assert cli.main(argv) == 0
    model = serialize.load(out / "model.npz")
    conv = model.layers[1]
    assert isinstance(conv, Conv1d)
    assert (conv.out_channels, conv.kernel_size, conv.stride, conv.padding) == (3, 3, 2, 2)
    # length 2 + 2*2 = 6, span 3, stride 2 -> L_out 2: the Linear after it reads 3 * 2 values
    assert model.layers[4].in_features == 6


def test_cli_impossible_geometry_is_a_one_line_error(tmp_path, capsys) -> None:
    argv = ["train", "--model", "conv", "--kernel-size", "5", "--padding", "0"]
    assert cli.main([*argv, "--quiet", "--no-progress", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert err.startswith("proplab train: error: argument --kernel-size: Conv1d: input length 2")
    assert "= 2 is shorter than the dilated kernel 5" in err
    assert "use padding >= 2" in err


@pytest.mark.slow
def test_cli_conv_defaults_solve_xor(tmp_path) -> None:
    out = tmp_path / "run"
    assert (
        cli.main(["train", "--model", "conv", "--quiet", "--no-progress", "--out", str(out)]) == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["accuracy"] == 1.0
    x, y = generate_xor_easy()
    pred = serialize.load(out / "model.npz")(x)
    np.testing.assert_array_equal(pred > 0.5, y == 1)  # the reloaded model scores 100 % too


def test_an_input_exactly_as_long_as_the_kernel_gives_one_output() -> None:
    # L + 2p = d (k - 1) + 1: the filter fits once, L_out = 1 (torch.nn.Conv1d agrees)
    assert conv1d_output_length(3, 3) == 1
    assert conv1d_output_length(5, 3, dilation=2) == 1
    assert conv1d_output_length(1, 3, padding=1) == 1
    conv = Conv1d(1, 1, 3, rng=np.random.default_rng(0))
    conv.weight.data[...] = [[[1.0, 10.0, 100.0]]]
    np.testing.assert_array_equal(conv(np.array([[[1.0, 2.0, 3.0]]])), [[[321.0]]])


def test_inputs_a_conv_layer_cannot_take_are_refused(rng) -> None:
    with pytest.raises(ValueError, match="sample_axis must be an integer <= -2, got -1"):
        Flatten(-1)
    stack = Conv1d(1, 2, 3, rng=rng, replicas=3)
    # one replica's worth (1, n, C, L) would broadcast over the 3 and get a (3, ...) gradient
    with pytest.raises(ValueError, match=r"input replica axes \(1,\) do not match .* \(3,\)"):
        stack(np.zeros((1, 4, 1, 5)))
    conv = Conv1d(1, 2, 3, rng=rng)
    conv.input_length = 5  # what conv_net sets
    conv(np.zeros((2, 1, 5)))
    with pytest.raises(ValueError, match="built for inputs of length 5"):
        conv(np.zeros((2, 1, 6)))


def test_the_naive_twin_keeps_float32_and_names_a_backward_before_forward() -> None:
    # it returned float64 for a float32 layer and raised a bare AttributeError
    fast, naive = (
        cls(2, 3, 2, rng=np.random.default_rng(0), dtype=np.float32)
        for cls in (Conv1d, Conv1dNaive)
    )
    with pytest.raises(AttributeError, match="Conv1dNaive.backward needs 'x', which forward"):
        naive.backward(np.ones((1, 3, 3), dtype=np.float32))
    x = np.random.default_rng(1).normal(size=(4, 2, 4)).astype(np.float32)
    y_fast, y_naive = fast.forward(x), naive.forward(x)
    assert y_fast.dtype == y_naive.dtype == np.float32
    np.testing.assert_allclose(y_naive, y_fast, rtol=1e-5, atol=1e-6)
    g = np.ones_like(y_fast)
    dx_fast, dx_naive = fast.backward(g), naive.backward(g)
    assert dx_fast.dtype == dx_naive.dtype == np.float32
    np.testing.assert_allclose(dx_naive, dx_fast, rtol=1e-5, atol=1e-6)
    assert naive.weight.grad.dtype == naive.bias.grad.dtype == np.float32
    np.testing.assert_allclose(naive.weight.grad, fast.weight.grad, rtol=1e-5, atol=1e-5)


def test_the_conv_models_label_is_the_network_built(capsys) -> None:
    # it read "conv(4x2) + 2-7-7-1": a second hidden layer the conv model does not have
    from proplab.cli import main
    from proplab.config import network_label

    cfg = RunConfig(model="conv", hidden=7, dataset="xor")
    model = build_model(cfg, 2, 1)
    linear_widths = [
        layer.weight.data.shape[-1]
        for layer in model.layers
        if hasattr(layer, "weight") and layer.weight.data.ndim == 2
    ]
    assert linear_widths == [7, 1]  # one hidden Linear of 7, then the output
    assert network_label(cfg, 2, 1) == "2-conv(4x2)-7-1"
    assert network_label(RunConfig(hidden=[5, 3], features=["x1", "x1_x2"]), 2, 1) == (
        "(x1, x1_x2)-5-3-1"
    )
    assert main(["gradcheck", "--model", "conv", "--hidden", "7"]) == 0
    assert capsys.readouterr().out.startswith("gradcheck: 2-conv(4x2)-7-1 sigmoid")
