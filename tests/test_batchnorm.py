"""BatchNorm1d: a hand-worked batch, the naive twin, gradient checks, running statistics,
stacks, every optimizer, saving, the CLI (train and gradcheck) and bad input."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

import proplab
from proplab.batchnorm import (
    BatchNorm1d,
    BatchNorm1dNaive,
    batchnorm_naive_backward,
    batchnorm_naive_forward,
)
from proplab.cli import main
from proplab.config import ConfigError, RunConfig, check_batches

EPS = 1e-5


def test_a_two_by_two_batch_by_hand() -> None:
    # x = [[1, 10], [3, 30]]: feature 0 has mean 2 and biased variance ((-1)^2 + 1^2) / 2
    # = 1, feature 1 mean 20 and variance 100. So xhat = [[-a, -b], [a, b]] with
    # a = 1 / sqrt(1 + eps), b = 10 / sqrt(100 + eps): two samples always normalise to
    # about -1 and +1. With gamma = [2, 0.5], beta = [1, -1]: y = gamma * xhat + beta.
    bn = BatchNorm1d(2)
    bn.weight.data = [2.0, 0.5]
    bn.bias.data = [1.0, -1.0]
    x = np.array([[1.0, 10.0], [3.0, 30.0]])
    a, b = 1 / math.sqrt(1 + EPS), 10 / math.sqrt(100 + EPS)
    y = bn(x)
    np.testing.assert_allclose(
        y, [[1 - 2 * a, -1 - 0.5 * b], [1 + 2 * a, -1 + 0.5 * b]], rtol=1e-15
    )
    # Running statistics after one batch: 0.9 * (0, 0) + 0.1 * mean = [0.2, 2]; the variance
    # unbiased, n / (n - 1) = 2 times the biased one: 0.9 * 1 + 0.1 * [2, 200] = [1.1, 20.9].
    np.testing.assert_allclose(bn.running_mean, [0.2, 2.0], rtol=1e-15)
    np.testing.assert_allclose(bn.running_var, [1.1, 20.9], rtol=1e-15)
    # Backward with dL/dy = [[1, 0], [0, 1]]: dbeta = column sums = [1, 1]; dgamma =
    # sum of g * xhat = [1 * -a, 1 * b] = [-a, b]. For x, feature 0: dxhat = g * gamma =
    # [2, 0], sum 2, sum(dxhat * xhat) = -2a, so dx = inv_std / 2 * ([4, 0] - 2 - [-a, a] *
    # -2a) = inv_std (1 - a^2) [1, -1], and 1 - a^2 = eps / (1 + eps): nearly 0, because
    # moving one of two samples moves the mean and the variance so that both outputs stay
    # at about -1 and +1 (only eps lets them move at all). In general, with two samples,
    # dx = inv_std (1 - xhat^2) (dxhat_0 - dxhat_1) / 2 [1, -1]: feature 1 has dxhat =
    # [0, 0.5], half-difference -0.25, inv_std = 1 / sqrt(100 + eps), 1 - b^2 = eps / (100
    # + eps): dx = [-2.5e-9, 2.5e-9].
    dx = bn.backward(np.array([[1.0, 0.0], [0.0, 1.0]]))
    np.testing.assert_allclose(bn.bias.grad, [1.0, 1.0], rtol=1e-15)
    np.testing.assert_allclose(bn.weight.grad, [-a, b], rtol=1e-15)
    inv_std = np.array([1 / math.sqrt(1 + EPS), 1 / math.sqrt(100 + EPS)])
    shrink = np.array([EPS / (1 + EPS), EPS / (100 + EPS)])  # 1 - xhat^2
    half_difference = np.array([1.0, -0.25])  # (dxhat_0 - dxhat_1) / 2
    want = inv_std * shrink * half_difference
    # rtol 1e-6: dx is a difference of numbers near 1 (2 - 2 a^2), so it keeps only about
    # 16 - 5 = 11 of its digits
    np.testing.assert_allclose(dx, [want, -want], rtol=1e-6)
    np.testing.assert_allclose(dx, [[1.0e-5, -2.5e-9], [-1.0e-5, 2.5e-9]], rtol=2e-5)


def test_eval_mode_uses_the_running_statistics_by_hand() -> None:
    bn = BatchNorm1d(2)
    bn.running_mean[...] = [1.0, -2.0]
    bn.running_var[...] = [4.0, 0.25]
    bn.weight.data = [3.0, 1.0]
    bn.eval()
    x = np.array([[3.0, -2.0]])  # one sample is fine in eval mode
    want = [[3.0 * 2.0 / math.sqrt(4 + EPS), 0.0]]
    np.testing.assert_allclose(bn(x), want, rtol=1e-15)
    np.testing.assert_allclose(
        bn.backward(np.ones((1, 2))),
        [[3 / math.sqrt(4 + EPS), 1 / math.sqrt(0.25 + EPS)]],
        rtol=1e-15,
    )
    np.testing.assert_array_equal(bn.running_mean, [1.0, -2.0])  # eval never moves them


# ---------------------------------------------------------------------------
# the fast backward against its step-by-step twin


CASES = [
    # (replicas, input shape)
    ((), (5, 3)),
    ((), (2, 1)),
    ((), (40, 7)),
    ((3,), (3, 6, 4)),
    ((3,), (6, 4)),  # shared input feeding a stack
    ((2, 2), (2, 2, 5, 3)),
]


@pytest.mark.parametrize(("replicas", "shape"), CASES)
@pytest.mark.parametrize("training", [True, False])
def test_fast_equals_the_naive_twin_over_several_steps(replicas, shape, training, rng) -> None:
    fast = BatchNorm1d(shape[-1], replicas=replicas, momentum=0.3)
    naive = BatchNorm1dNaive(shape[-1], replicas=replicas, momentum=0.3)
    fast.weight.data = rng.normal(size=fast.weight.shape)
    fast.bias.data = rng.normal(size=fast.bias.shape)
    fast.running_var[...] = rng.uniform(0.5, 2, size=fast.running_var.shape)
    naive.load_state_dict(fast.state_dict())
    fast.train(training)
    naive.train(training)
    for _ in range(3):
        x = rng.normal(loc=2.0, scale=3.0, size=shape)
        y_fast, y_naive = fast(x), naive(x)
        np.testing.assert_allclose(y_fast, y_naive, rtol=0, atol=1e-12)
        g = rng.normal(size=y_fast.shape)
        fast.zero_grad()
        naive.zero_grad()
        np.testing.assert_allclose(fast.backward(g), naive.backward(g), rtol=0, atol=1e-12)
        for a, b in zip(fast.parameters(), naive.parameters(), strict=True):
            np.testing.assert_allclose(a.grad, b.grad, rtol=0, atol=1e-12)
        for (_, a), (_, b) in zip(fast.named_buffers(), naive.named_buffers(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-14)
        assert fast.backward(g, need_input_grad=False) is None


def test_the_naive_functions_match_their_definition(rng) -> None:
    x = rng.normal(size=(6, 3))
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    out, cache = batchnorm_naive_forward(x, gamma, beta, EPS)
    mean, var = x.mean(axis=-2), x.var(axis=-2)
    np.testing.assert_allclose(out, gamma * (x - mean) / np.sqrt(var + EPS) + beta, rtol=1e-13)
    np.testing.assert_allclose(cache["var_unbiased"], x.var(axis=-2, ddof=1), rtol=1e-14)
    g = rng.normal(size=(6, 3))
    dx, dgamma, dbeta = batchnorm_naive_backward(g, cache)
    np.testing.assert_allclose(dbeta, g.sum(axis=-2), rtol=1e-14)
    np.testing.assert_allclose(dgamma, (g * cache["xhat"]).sum(axis=-2), rtol=1e-13)
    # a backward that forgot the path through the mean (only through the variance and
    # xhat directly) would not sum dx over the samples to 0, as this one must: shifting
    # every sample by the same amount changes nothing
    np.testing.assert_allclose(dx.sum(axis=-2), 0.0, atol=1e-12)


# ---------------------------------------------------------------------------
# central differences


@pytest.mark.parametrize(("replicas", "shape"), CASES)
@pytest.mark.parametrize("cls", [BatchNorm1d, BatchNorm1dNaive])
def test_gradcheck_in_both_modes(replicas, shape, cls, rng) -> None:
    bn = cls(shape[-1], replicas=replicas)
    bn.weight.data = rng.normal(size=bn.weight.shape)
    bn.bias.data = rng.normal(size=bn.bias.shape)
    bn.running_mean[...] = rng.normal(size=bn.running_mean.shape)
    x = rng.normal(size=shape)
    before = {name: b.copy() for name, b in bn.named_buffers()}
    for mode in (True, False):
        result = proplab.gradcheck(bn.train(mode), x, rng=np.random.default_rng(1))
        assert result.ok, str(result)
        assert result.worst < 1e-6
    # the check put back the running statistics its forward passes moved
    for name, b in bn.named_buffers():
        np.testing.assert_array_equal(b, before[name])


def test_a_wrong_backward_fails_the_check(rng) -> None:
    class NoMeanPath(BatchNorm1d):  # dL/dx as if mean and variance were constants
        def backward(self, grad_out, need_input_grad=True):
            super().backward(grad_out, need_input_grad=False)
            return grad_out * self.weight.data * self.inv_std

    result = proplab.gradcheck(NoMeanPath(3), rng.normal(size=(4, 3)))
    assert not result.ok and result.errors["input"] > 0.1


def test_gradcheck_of_batchnorm_mlps_single_and_stacked(rng) -> None:
    model = proplab.mlp(2, [5, 4], 1, batchnorm=True, dropout=0.2, rng=rng)
    assert proplab.gradcheck(model, rng.normal(size=(6, 2))).ok
    stack = proplab.mlp(2, [5, 4], 3, batchnorm=True, seeds=[4, 5], activation="tanh")
    result = proplab.gradcheck(stack, rng.normal(size=(2, 6, 2)))
    assert result.ok, str(result)


# ---------------------------------------------------------------------------
# stacks, training, optimizers


def test_a_stack_normalises_each_replica_alone_bit_for_bit(rng) -> None:
    stack = BatchNorm1d(4, replicas=3)
    stack.weight.data = rng.normal(size=(3, 4))
    x = rng.normal(size=(3, 21, 4)) * [[[1.0]], [[10.0]], [[0.1]]]
    g = rng.normal(size=x.shape)
    y, dx = stack(x), stack.backward(g)
    for k in range(3):
        alone = BatchNorm1d(4)
        alone.weight.data = stack.weight.data[k]
        np.testing.assert_array_equal(alone(x[k]), y[k])
        np.testing.assert_array_equal(alone.backward(g[k]), dx[k])
        np.testing.assert_array_equal(alone.weight.grad, stack.weight.grad[k])
        np.testing.assert_array_equal(alone.running_var, stack.running_var[k])
    # each replica's own statistics: its scale (10, 1 or 0.1) is normalised away, up to
    # eps (which weighs on replica 2's variance of ~0.01)
    var = x.var(axis=-2)
    want = np.abs(stack.weight.data) * np.sqrt(var / (var + EPS))
    np.testing.assert_allclose(y.std(axis=-2), want, rtol=1e-12)


def test_mlp_puts_batchnorm_after_each_hidden_linear(rng) -> None:
    model = proplab.mlp(2, [4, 3], 1, batchnorm=True, activation="relu", rng=rng)
    names = [type(m).__name__ for m in model.layers]
    assert names == ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU"] + [
        "Linear",
        "Sigmoid",
    ]
    assert [m.num_features for m in model.layers if isinstance(m, BatchNorm1d)] == [4, 3]
    # no bias before a batchnorm (it would be subtracted at once); the output keeps its own
    assert [m.bias is not None for m in model.layers if isinstance(m, proplab.Linear)] == [
        False,
        False,
        True,
    ]
    # the same weights as without batchnorm: biases draw nothing
    plain = proplab.mlp(2, [4, 3], 1, activation="relu", rng=np.random.default_rng(20240611))
    for a, b in zip(model.layers[::3], plain.layers[::2], strict=True):
        np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert list(dict(model.named_buffers())) == [
        "1.running_mean", "1.running_var", "4.running_mean", "4.running_var",
    ]  # fmt: skip
    with pytest.raises(TypeError, match="batchnorm must be True or False"):
        proplab.mlp(2, 4, 1, batchnorm="yes", rng=rng)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "rmsprop", "adam"])
def test_every_optimizer_trains_gamma_and_beta(optimizer, xor) -> None:
    cfg = RunConfig(batchnorm=True, optimizer=optimizer, lr=0.05).validate()
    from proplab.config import build_model, build_optimizer

    model = build_model(cfg, 2, 1)
    opt = build_optimizer(cfg, model.parameters())
    proplab.fit(model, proplab.MSELoss(), opt, *xor, epochs=5)
    bn = model[1]
    assert not np.allclose(bn.weight.data, 1.0) and not np.allclose(bn.bias.data, 0.0)
    # five full batches moved the running mean 1 - 0.9^5 = 41 % of the way to the batch's
    assert np.abs(bn.running_mean).max() > 0


def test_running_statistics_follow_pytorchs_update_over_steps(rng) -> None:
    bn = BatchNorm1d(3, momentum=0.2)
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(5):
        x = rng.normal(loc=4.0, scale=2.0, size=(8, 3))
        bn(x)
        mean = 0.8 * mean + 0.2 * x.mean(axis=-2)
        var = 0.8 * var + 0.2 * x.var(axis=-2, ddof=1)
    np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-14)
    np.testing.assert_allclose(bn.running_var, var, rtol=1e-14)


def test_a_stacked_replica_stopped_early_keeps_its_running_statistics(xor) -> None:
    x, y = xor
    lrs = [4.0, 0.5]  # the first converges (tol) long before the second
    stack = proplab.mlp(2, 10, 1, batchnorm=True, seeds=[0, 0])
    opt = proplab.SGD(stack.parameters(), lr=np.array(lrs))
    h = proplab.fit(stack, proplab.MSELoss(), opt, x, y, epochs=3000, tol=0.01)
    stops = h.replica_stop_epoch
    assert stops[0] and (not stops[1] or stops[1] > stops[0])
    alone = proplab.mlp(2, 10, 1, batchnorm=True, rng=np.random.default_rng(0))
    opt = proplab.SGD(alone.parameters(), lr=lrs[0])
    proplab.fit(alone, proplab.MSELoss(), opt, x, y, epochs=3000, tol=0.01)
    for (name, a), (_, s) in zip(alone.named_buffers(), stack.named_buffers(), strict=True):
        np.testing.assert_array_equal(a, s[0], err_msg=name)
    for a, s in zip(alone.parameters(), stack.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, s.data[0])


def test_batchnorm_lets_the_sigmoid_lab_model_learn_xor_where_it_stalls(xor) -> None:
    # the lab's 2-10-10-1 sigmoid network at lr 1.0 sits on XOR's plateau (52 %) for its
    # first ~3000 epochs; with batchnorm every seed 0-4 is at 100 % by epoch 1000
    x, y = xor
    for seed in range(5):
        for batchnorm, want in ((False, 0.5238095238095238), (True, 1.0)):
            model = proplab.mlp(2, 10, 1, batchnorm=batchnorm, rng=np.random.default_rng(seed))
            opt = proplab.SGD(model.parameters(), lr=1.0)
            proplab.fit(model, proplab.MSELoss(), opt, x, y, epochs=1000)
            assert proplab.evaluate(model, proplab.MSELoss(), x, y)[1] == want, (seed, batchnorm)


# ---------------------------------------------------------------------------
# state, saving and loading


def test_state_dict_carries_the_running_statistics(rng) -> None:
    model = proplab.mlp(2, [3], 1, batchnorm=True, rng=rng)
    model(rng.normal(size=(5, 2)))
    state = model.state_dict()
    np.testing.assert_array_equal(state["1.running_mean"], model[1].running_mean)
    state["1.running_mean"] += 1.0  # a copy: the model's is unchanged
    assert not np.array_equal(state["1.running_mean"], model[1].running_mean)
    held = model[1].running_mean
    model.load_state_dict(state)
    assert model[1].running_mean is held  # copied in place: the layer's own array
    np.testing.assert_array_equal(held, state["1.running_mean"])
    del state["1.running_var"]
    with pytest.raises(ValueError, match=r"missing \['1.running_var'\]"):
        model.load_state_dict(state)
    state["1.running_var"] = np.ones(4)
    with pytest.raises(ValueError, match=r"buffer '1.running_var': model has shape \(3,\)"):
        model.load_state_dict(state)


@pytest.mark.parametrize("seeds", [None, [0, 1]])
def test_save_and_load_give_the_same_predictions_in_eval_mode(tmp_path, xor, seeds) -> None:
    x, y = xor
    kwargs = {"seeds": seeds} if seeds else {"rng": np.random.default_rng(0)}
    model = proplab.mlp(2, 10, 1, batchnorm=True, dropout=0.2, activation="tanh", **kwargs)
    opt = proplab.SGD(model.parameters(), lr=0.5)
    proplab.fit(model, proplab.MSELoss(), opt, x, y, epochs=300)
    model.eval()
    proplab.save(model, tmp_path / "m.npz")
    again = proplab.load(tmp_path / "m.npz")
    assert not again.training and not any(m.training for m in again.modules())
    np.testing.assert_array_equal(again(x), model(x))  # the running statistics came along
    for (na, a), (nb, b) in zip(model.named_buffers(), again.named_buffers(), strict=True):
        assert na == nb and np.array_equal(a, b) and np.abs(a).max() > 0
    assert repr(again) == repr(model)
    # saved in training mode, loaded in training mode
    proplab.save(model.train(), tmp_path / "t.npz")
    assert proplab.load(tmp_path / "t.npz").training


# ---------------------------------------------------------------------------
# bad input


def test_bad_input_is_refused_naming_it() -> None:
    bn = BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"expects inputs \(n, 3\), got shape \(4, 2\)"):
        bn(np.ones((4, 2)))
    with pytest.raises(ValueError, match="at least 2 samples per batch.*got 1"):
        bn(np.ones((1, 3)))
    np.testing.assert_array_equal(bn.eval()(np.ones((1, 3))), np.ones((1, 3)) / math.sqrt(1 + EPS))
    with pytest.raises(TypeError, match="takes a NumPy array"):
        bn([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"build it with replicas=\(2,\)"):
        bn(np.ones((2, 4, 3)))
    with pytest.raises(ValueError, match=r"do not match the layer's replicas \(3,\)"):
        BatchNorm1d(3, replicas=3)(np.ones((2, 4, 3)))
    with pytest.raises(ValueError, match="momentum must be a number in"):
        BatchNorm1d(3, momentum=None)
    with pytest.raises(ValueError, match="momentum must be a number in .*got 1.5"):
        BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match="eps must be a finite number > 0, got 0"):
        BatchNorm1d(3, eps=0)
    with pytest.raises(ValueError, match="num_features must be a positive integer, got 0"):
        BatchNorm1d(0)
    with pytest.raises(AttributeError, match="run forward"):
        BatchNorm1d(2).backward(np.ones((3, 2)))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dropout": 1.0}, r"dropout: must be a probability in \[0, 1\).*got 1.0"),
        ({"dropout": -0.2}, r"dropout: must be a probability.*got -0.2"),
        ({"dropout": "0.5"}, r"dropout: must be a probability.*got '0.5'"),
        ({"batchnorm": "yes"}, "batchnorm: must be true or false, got 'yes'"),
        ({"batchnorm": True, "model": "conv", "hidden": 10}, "batchnorm: only the 'mlp' model"),
        ({"dropout": 0.2, "model": "conv"}, "dropout: only the 'mlp' model"),
        ({"batchnorm": True, "hidden": []}, r"batchnorm: goes after each hidden layer.*none"),
    ],
)
def test_config_refuses_bad_values(changes, message) -> None:
    with pytest.raises(ConfigError, match=message):
        RunConfig(**changes).validate()


def test_a_batch_of_one_sample_is_refused_before_training() -> None:
    cfg = RunConfig(batchnorm=True, batch_size=3).validate()
    with pytest.raises(ConfigError, match=r"batch_size: 3 leaves a mini-batch of 1 sample \(100"):
        check_batches(cfg, 100)
    check_batches(cfg, 99)  # 33 batches of 3
    check_batches(cfg.replace(batchnorm=False), 100)  # no batchnorm: any batch is fine
    with pytest.raises(ConfigError, match="batch_size: 1 leaves"):
        check_batches(cfg.replace(batch_size=1), 10)


# ---------------------------------------------------------------------------
# the command line


def test_cli_train_writes_a_run_folder_of_a_batchnorm_dropout_network(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    argv = ["train", "--dataset", "circle", "--batchnorm", "--dropout", "0.1"]
    argv += ["--epochs", "300", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["batchnorm"] is True and config["dropout"] == 0.1
    model = proplab.load(out / "model.npz")
    assert not model.training  # saved ready to predict
    assert [type(m).__name__ for m in model.layers][:4] == [
        "Linear", "BatchNorm1d", "Sigmoid", "Dropout",
    ]  # fmt: skip
    # the summary's accuracy is the saved model's, in eval mode, on the run's data
    from proplab.experiments import prepare_run

    _, prep = prepare_run(RunConfig(**config))
    _, acc, _ = proplab.evaluate(model, proplab.MSELoss(), prep.x, prep.y)
    assert acc == summary["accuracy"] and acc > 0.8
    assert f"accuracy={proplab.train_text.format_percent(acc)}%" in printed
    rows = (out / "history.csv").read_text().splitlines()
    assert len(rows) == 301
    for figure in ("comparison.png", "learning_curve.png", "boundary_during_training.png"):
        assert (out / figure).stat().st_size > 10_000


def test_cli_default_folder_names_the_options(tmp_path, monkeypatch) -> None:
    from proplab.cli_commands import _default_out

    cfg = RunConfig(batchnorm=True, dropout=0.2)
    assert "-sigmoid-bn-dropout0.2-sgd" in str(_default_out(cfg))
    assert "-bn" not in str(_default_out(RunConfig()))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--dropout", "1"], r"argument --dropout: must be a probability in \[0, 1\).*got 1.0"),
        (["--dropout", "x"], "argument --dropout: expected a number, got 'x'"),
        (["--batchnorm", "--model", "conv"], "argument --batchnorm: only the 'mlp' model"),
        (["--batchnorm", "--hidden", "0"], "argument --batchnorm: goes after each hidden layer"),
        (["--batchnorm", "--batch-size", "3"], "argument --batch-size: 3 leaves a mini-batch"),
    ],
)
def test_cli_refuses_bad_flags_in_one_line(flags, message, tmp_path, capsys) -> None:
    argv = ["train", "--dataset", "circle", "--epochs", "5", "--out", str(tmp_path / "r")]
    assert main(argv + flags) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err), err


def test_cli_gradcheck_checks_batchnorm_and_dropout_layers(capsys) -> None:
    code = main(["gradcheck", "--batchnorm", "--dropout", "0.3", "--activation", "tanh"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "batchnorm, dropout 0.3" in out.splitlines()[0]
    rows = [line for line in out.splitlines() if "BatchNorm1d(10)" in line]
    assert len(rows) == 2  # both hidden layers' batchnorm, each checked alone
    assert out.count("Dropout(p=0.3)") == 2
    assert "gradcheck ok" in out
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert len(notes) == 2  # said once each, not once per check
    assert any("BatchNorm1d is checked in training mode" in n for n in notes)
    assert any("mask held fixed" in n for n in notes)
    assert main(["gradcheck", "--batchnorm", "--samples", "1"]) == 2
    assert "argument --samples: a batchnorm network is checked on at least 2" in (
        capsys.readouterr().err
    )


def test_a_runs_test_loss_curve_and_gradients_use_the_right_modes(tmp_path) -> None:
    # the test loss at the kept weights is scored in eval mode, as the summary's: at the
    # final weights the two are the same number (in training mode batchnorm would
    # normalise the test points with their own statistics, and dropout would drop units)
    out = tmp_path / "run"
    argv = ["train", "--dataset", "multi-gauss", "--batchnorm", "--dropout", "0.2"]
    argv += ["--epochs", "200", "--test-fraction", "0.2", "--out", str(out), "--no-progress"]
    assert main([*argv, "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    rows = (out / "test_loss.csv").read_text().splitlines()
    epoch, loss = rows[-1].split(",")
    assert int(epoch) == 200 and float(loss) == summary["test_loss"]
    # gradients.csv: the weighted layers only (batchnorm's scale is no layer of its own)
    assert rows and (out / "gradients.csv").read_text().splitlines()[0].count("Linear") == 3
    assert "BatchNorm" not in (out / "gradients.csv").read_text().splitlines()[0]


def test_gradient_sizes_train_mode_and_losses_at_eval_mode_put_the_model_back(xor) -> None:
    from proplab.snapshots import gradient_sizes, losses_at

    x, y = xor
    model = proplab.mlp(2, 10, 1, batchnorm=True, rng=np.random.default_rng(0))
    opt = proplab.SGD(model.parameters(), lr=1.0)
    states = {0: model.state_dict()}
    proplab.fit(model, proplab.MSELoss(), opt, x, y, epochs=50)
    states[50] = model.state_dict()
    model.eval()
    before = model.state_dict()
    sizes = gradient_sizes(model, proplab.MSELoss(), x, y, states)
    assert sizes.layers == ["1: Linear 2->10", "2: Linear 10->10", "3: Linear 10->1"]
    # the training-mode gradient at the final weights is the one fit's last step took
    again = proplab.mlp(2, 10, 1, batchnorm=True, rng=np.random.default_rng(0))
    again.load_state_dict(states[50])
    again.zero_grad()
    loss_fn = proplab.MSELoss()
    loss_fn.forward(again(x), y)
    again.backward(loss_fn.backward())
    np.testing.assert_array_equal(sizes.sizes[1, 0], np.mean(np.abs(again[0].weight.grad)))
    _, losses = losses_at(model, proplab.MSELoss(), x, y, states)
    again.load_state_dict(states[50])  # the training-mode pass above moved its statistics
    assert losses[1] == proplab.evaluate(again, proplab.MSELoss(), x, y)[0]
    assert not model.training  # both put the mode back, and the running statistics
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_the_boundary_as_it_forms_is_drawn_in_eval_mode(tmp_path, monkeypatch) -> None:
    # its last panel is the final model's prediction on the grid, as model.npz predicts
    # it (in training mode batchnorm would normalise the grid with its own statistics)
    from proplab import sweep_boundaries
    from proplab.experiments import prepare_run

    drawn = []
    monkeypatch.setattr(
        sweep_boundaries, "decision_boundaries", lambda rows, *a, **k: drawn.extend(rows)
    )
    out = tmp_path / "run"
    argv = ["train", "--dataset", "circle", "--batchnorm", "--dropout", "0.2", "--epochs", "100"]
    assert main([*argv, "--out", str(out), "--no-progress", "--quiet"]) == 0
    last = drawn[0][-1]
    assert last.title.startswith("after 100 epochs")
    config = json.loads((out / "config.json").read_text())["config"]
    _, prep = prepare_run(RunConfig(**config))
    u, v, points = sweep_boundaries.boundary_grid(prep.x)
    model = proplab.load(out / "model.npz")
    np.testing.assert_array_equal(last.prob, model(points).reshape(v.size, u.size))
    summary = json.loads((out / "summary.json").read_text())
    assert last.title.endswith(f"{100 * summary['accuracy']:.1f} %")


@pytest.mark.parametrize("cls", [BatchNorm1d, BatchNorm1dNaive])
@pytest.mark.parametrize("training", [True, False])
def test_float32_input_to_a_float64_layer_computes_in_float64(cls, training, rng) -> None:
    """The statistics were summed in float32 and the output came back float64, 1.7e-7 off
    the float64 computation (api21 L4); Linear and Conv1d promote exactly."""
    x32 = rng.normal(size=(8, 3)).astype(np.float32)
    g = rng.normal(size=(8, 3))
    a, b = cls(3), cls(3)
    for layer in (a, b):
        layer.running_mean[...], layer.running_var[...] = 0.3, 2.0  # non-trivial in eval mode
        layer.train(training)
    out_a, out_b = a(x32), b(x32.astype(np.float64))
    assert out_a.dtype == np.float64
    np.testing.assert_array_equal(out_a, out_b)
    np.testing.assert_array_equal(a.backward(g), b.backward(g))
    np.testing.assert_array_equal(a.weight.grad, b.weight.grad)
    np.testing.assert_array_equal(a.running_var, b.running_var)
