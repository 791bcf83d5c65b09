"""Dropout: inverted masks, train/eval modes, gradients with the mask held, stacks, sweeps.

Also the train/eval mode machinery every layer shares (``Module.train``/``eval``,
``eval_mode``, what ``fit`` and ``evaluate`` do with it).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import proplab
from proplab.core import eval_mode, train_mode
from proplab.dropout import Dropout
from proplab.gradcheck_numeric import numeric_gradient
from proplab.layers import Linear

# ---------------------------------------------------------------------------
# the layer


def test_a_hand_worked_mask() -> None:
    # p = 0.5 keeps an entry where the uniform draw u >= 0.5 and scales it by 1 / 0.5 = 2.
    # default_rng(0).random((2, 3)) is [[0.637, 0.270, 0.041], [0.017, 0.813, 0.913]]:
    # kept at (0, 0), (1, 1), (1, 2). So x = [[1, 2, 3], [4, 5, 6]] becomes
    # [[2, 0, 0], [0, 10, 12]], and dL/dx for dL/dy = 1 everywhere is that mask scaled:
    # [[2, 0, 0], [0, 2, 2]].
    drop = Dropout(0.5, rng=np.random.default_rng(0))
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(drop(x), [[2.0, 0.0, 0.0], [0.0, 10.0, 12.0]])
    np.testing.assert_array_equal(drop.backward(np.ones((2, 3))), [[2, 0, 0], [0, 2, 2]])


def test_training_keeps_a_share_of_one_minus_p_and_scales_it() -> None:
    x = np.random.default_rng(1).uniform(1, 2, size=(400, 50))  # never 0: kept = nonzero
    for p in (0.1, 0.5, 0.8):
        y = Dropout(p, rng=np.random.default_rng(2))(x)
        kept = y != 0
        # 20 000 Bernoulli draws: the share is within 4 standard deviations of 1 - p
        assert abs(kept.mean() - (1 - p)) < 4 * np.sqrt(p * (1 - p) / x.size)
        # x times the scaled mask 1 / (1 - p), as torch's x * noise: not x / (1 - p), which
        # rounds differently in the last bit
        np.testing.assert_array_equal(y[kept], x[kept] * (1 / (1 - p)))
        # inverted dropout keeps the expected value: the mean moves by sampling noise only
        assert abs(y.mean() / x.mean() - 1) < 0.03


def test_each_forward_draws_a_new_mask_and_backward_uses_the_last() -> None:
    drop = Dropout(0.3, rng=np.random.default_rng(3))
    x = np.ones((6, 5))
    first, second = drop(x), drop(x)
    assert not np.array_equal(first, second)
    g = np.random.default_rng(4).normal(size=(6, 5))
    np.testing.assert_array_equal(drop.backward(g), g * second)  # x = 1: y is the mask


def test_eval_mode_and_p_zero_are_the_identity() -> None:
    x = np.random.default_rng(5).normal(size=(4, 3))
    drop = Dropout(0.9, rng=np.random.default_rng(0)).eval()
    np.testing.assert_array_equal(drop(x), x)
    g = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(drop.backward(g), g)
    none = Dropout(0.0, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(none(x), x)
    np.testing.assert_array_equal(none.backward(g), g)


def test_a_stack_gets_each_replicas_own_mask_from_its_own_stream() -> None:
    seeds = [0, 1, 2]
    stack = Dropout(0.5, rngs=[np.random.default_rng(s) for s in seeds])
    alone = [Dropout(0.5, rng=np.random.default_rng(s)) for s in seeds]
    x = np.random.default_rng(6).uniform(1, 2, size=(3, 8, 4))
    for _ in range(3):  # several steps: the streams stay in step
        y = stack(x)
        for k in range(len(seeds)):
            np.testing.assert_array_equal(y[k], alone[k](x[k]))
    assert not np.array_equal(y[0] != 0, y[1] != 0)  # independent masks


def test_shared_input_feeding_a_stack_gets_a_mask_per_replica_and_summed_gradient() -> None:
    stack = Dropout(0.5, rng=np.random.default_rng(7), replicas=(4,))
    x = np.ones((5, 3))  # (n, F) shared by 4 replicas
    y = stack(x)
    assert y.shape == (4, 5, 3)
    assert len({(y[k] != 0).tobytes() for k in range(4)}) == 4
    g = np.random.default_rng(8).normal(size=(4, 5, 3))
    np.testing.assert_allclose(stack.backward(g), (g * y).sum(axis=0), rtol=1e-15)


@pytest.mark.parametrize("bad", [1, 1.0, -0.1, float("nan"), True, "0.5", None])
def test_p_outside_0_1_is_refused_naming_it(bad) -> None:
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\).*got"):
        Dropout(bad, rng=np.random.default_rng(0))


def test_no_generator_no_dropout() -> None:
    with pytest.raises(ValueError, match="rng=np.random.default_rng"):  # was TypeError
        Dropout(0.5)
    with pytest.raises(TypeError, match="rng=np.random.default_rng"):
        Dropout(0.5, rng=0)
    with pytest.raises(ValueError, match="not both"):
        Dropout(0.5, rng=np.random.default_rng(0), rngs=[np.random.default_rng(1)])
    with pytest.raises(ValueError, match=r"replicas=\(3,\) but 2 Generators"):
        Dropout(0.5, rngs=[np.random.default_rng(0), np.random.default_rng(1)], replicas=3)
    stack = Dropout(0.5, rngs=[np.random.default_rng(0), np.random.default_rng(1)])
    with pytest.raises(ValueError, match=r"replica axes \(3,\)"):
        stack(np.ones((3, 4, 2)))
    with pytest.raises(AttributeError, match="run forward"):
        Dropout(0.5, rng=np.random.default_rng(0)).backward(np.ones((2, 2)))


# ---------------------------------------------------------------------------
# gradient checks: the mask held fixed between the central differences


def test_gradcheck_holds_the_mask_and_says_so(rng) -> None:
    model = proplab.mlp(3, [6, 5], 2, activation="tanh", dropout=0.4, rng=rng)
    x = rng.normal(size=(4, 3))
    result = proplab.gradcheck(model, x)
    assert result.ok, str(result)
    assert result.worst < 1e-8
    assert any("held fixed" in note and "2 layers" in note for note in result.notes)
    # the hold is lifted afterwards: training draws fresh masks again
    assert not any(m.hold_mask for m in model.modules() if isinstance(m, Dropout))
    first = model(x)
    assert not np.array_equal(first, model(x))


@pytest.mark.parametrize("stacked", [False, True])
def test_gradcheck_leaves_the_dropout_streams_where_they_were(stacked) -> None:
    """ "gradcheck, then train" drew other masks than "train" alone: the check's forwards
    moved the layers' random streams (api17). A stack's per-replica streams too."""
    x, y = proplab.data.generate_xor_easy()

    def model():
        if stacked:
            return proplab.mlp(dropout=0.3, seeds=[0, 1])
        return proplab.mlp(dropout=0.3, rng=np.random.default_rng(0))

    losses = []
    for check_first in (False, True):
        m = model()
        if check_first:
            assert proplab.gradcheck(m, x[:5]).ok
        opt = proplab.SGD(m.parameters(), lr=1.0)
        losses.append(np.asarray(proplab.fit(m, proplab.MSELoss(), opt, x, y, epochs=20).loss))
    np.testing.assert_array_equal(losses[0], losses[1])


def test_without_the_held_mask_central_differences_are_noise(rng) -> None:
    class Unheld(Dropout):  # ignores the hold, as a random layer of the user's would
        @property
        def hold_mask(self) -> bool:
            return False

        @hold_mask.setter
        def hold_mask(self, value: bool) -> None:
            pass

    layer = Unheld(0.5, rng=rng)
    result = proplab.gradcheck(layer, rng.normal(size=(4, 3)))
    assert not result.ok
    assert any("not deterministic" in note for note in result.notes)


def test_gradcheck_of_a_stack_with_dropout(rng) -> None:
    stack = proplab.mlp(2, [4], 1, dropout=0.3, seeds=[0, 1, 2])
    result = proplab.gradcheck(stack, rng.normal(size=(3, 5, 2)))
    assert result.ok, str(result)
    shared = proplab.gradcheck(stack, rng.normal(size=(5, 2)))  # shared input
    assert shared.ok, str(shared)


def test_gradcheck_in_eval_mode_needs_no_hold(rng) -> None:
    model = proplab.mlp(2, [4], 1, dropout=0.5, rng=rng).eval()
    result = proplab.gradcheck(model, rng.normal(size=(4, 2)))
    assert result.ok and not any(n.startswith("Dropout") for n in result.notes)


def test_dropout_backward_equals_the_mask_derivative_by_central_differences(rng) -> None:
    # the same comparison by hand: with the mask fixed, y = x * m / (1 - p) is linear in x
    drop = Dropout(0.25, rng=rng)
    x = rng.normal(size=(5, 4))
    drop(x)
    drop.hold_mask = True
    g = rng.normal(size=(5, 4))
    analytic = drop.backward(g)
    numeric = numeric_gradient(lambda: float(np.sum(drop(x) * g)), x)
    np.testing.assert_allclose(analytic, numeric, atol=1e-9)


# ---------------------------------------------------------------------------
# train and eval modes


def test_train_and_eval_set_every_module_and_return_it() -> None:
    model = proplab.mlp(2, [3, 3], 1, dropout=0.2, batchnorm=True, rng=np.random.default_rng(0))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model and all(m.training for m in model.modules())
    assert model.train(False) is model and not model[1].training
    with pytest.raises(TypeError, match="True or False"):
        model.train("no")


def test_eval_mode_puts_back_each_modules_own_mode() -> None:
    model = proplab.mlp(2, [3], 1, batchnorm=True, rng=np.random.default_rng(0))
    model[1].eval()  # a batchnorm frozen on purpose, the rest training
    before = [m.training for m in model.modules()]
    with eval_mode(model):
        assert not any(m.training for m in model.modules())
    assert [m.training for m in model.modules()] == before
    with train_mode(model):
        assert all(m.training for m in model.modules())
    assert [m.training for m in model.modules()] == before


class Spy(proplab.Module):
    """Records the mode of every forward pass."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[bool] = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.seen.append(self.training)
        return x

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        return grad_out


@pytest.mark.parametrize("start", ["train", "eval"])
def test_fit_trains_in_training_mode_and_leaves_the_mode_it_found(xor, start) -> None:
    spy = Spy()
    model = proplab.Sequential(Linear(2, 1, rng=np.random.default_rng(0)), spy)
    getattr(model, start)()
    opt = proplab.SGD(model.parameters(), lr=0.1)
    proplab.fit(model, proplab.MSELoss(), opt, *xor, epochs=3)
    # the probe of the output width runs in eval mode, the three epochs in training mode,
    # and the final model is scored once in eval mode (did the last update blow it up?)
    assert spy.seen == [False, True, True, True, False]
    assert all(m.training == (start == "train") for m in model.modules())
    spy.seen.clear()
    proplab.evaluate(model, proplab.MSELoss(), *xor)
    assert spy.seen == [False]
    assert all(m.training == (start == "train") for m in model.modules())


def test_evaluate_predicts_without_dropout(xor) -> None:
    x, y = xor
    model = proplab.mlp(2, 10, 1, dropout=0.5, rng=np.random.default_rng(0))
    plain = proplab.mlp(2, 10, 1, rng=np.random.default_rng(0))  # the same weights
    _, _, pred = proplab.evaluate(model, proplab.MSELoss(), x, y)
    np.testing.assert_array_equal(pred, plain(x))
    assert model.training  # put back
    assert not np.array_equal(model(x), plain(x))  # training mode drops units


def test_mlp_puts_dropout_after_each_hidden_activation() -> None:
    model = proplab.mlp(2, [4, 3], 1, dropout=0.25, rng=np.random.default_rng(0))
    names = [type(m).__name__ for m in model.layers]
    assert names == ["Linear", "Sigmoid", "Dropout", "Linear", "Sigmoid", "Dropout", "Linear"] + [
        "Sigmoid"
    ]
    assert model[2].p == 0.25
    # the weights are those of the model without dropout: masks are drawn after them
    plain = proplab.mlp(2, [4, 3], 1, rng=np.random.default_rng(0))
    for a, b in zip(model.parameters(), plain.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(ValueError, match=r"mlp dropout: p must be a probability"):
        proplab.mlp(2, 4, 1, dropout=1.5, rng=np.random.default_rng(0))


def test_dropout_trains_and_a_seeded_run_repeats_bit_for_bit(xor) -> None:
    def run() -> tuple:
        model = proplab.mlp(2, 10, 1, activation="tanh", dropout=0.1, rng=np.random.default_rng(3))
        opt = proplab.SGD(model.parameters(), lr=0.5)
        history = proplab.fit(model, proplab.MSELoss(), opt, *xor, epochs=2000)
        return history, proplab.evaluate(model, proplab.MSELoss(), *xor)

    (h1, (loss1, acc1, _)), (h2, (loss2, _, _)) = run(), run()
    assert h1.loss == h2.loss and loss1 == loss2
    assert acc1 == 1.0 and loss1 < 0.05  # XOR learned with a tenth of the units dropped


def test_hidden_activations_of_a_dropout_batchnorm_mlp_are_eval_mode_values() -> None:
    model = proplab.mlp(2, [4, 3], 1, dropout=0.5, batchnorm=True, rng=np.random.default_rng(0))
    model[1].running_mean[...] = [0.1, -0.2, 0.3, 0.0]
    x = np.random.default_rng(1).normal(size=(6, 2))
    units = proplab.hidden_activations(model, x)
    bn = model[1]
    h1 = proplab.Sigmoid()(
        (model[0](x) - bn.running_mean) / np.sqrt(bn.running_var + bn.eps)
    )  # gamma 1, beta 0; no dropout when predicting
    np.testing.assert_allclose(units[0], h1, rtol=1e-14)
    assert [u.shape for u in units] == [(6, 4), (6, 3)]
    assert model.training  # put back


# ---------------------------------------------------------------------------
# sweeps: dropout runs stack, and stacked = unstacked


DROPOUT_SWEEP = """
title = "dropout stacked"
[base]
dataset = "circle"
n = 40
epochs = 150
print_every = 0
[vary]
seed = [0, 1, 2]
[[experiment]]
name = "dropout"
title = "dropout rates, each its own stack of seeds and activations (PerReplica blocks)"
section = "extras"
base.lr = 0.5
vary.dropout = [0, 0.2, 0.5]
vary.activation = ["tanh", "relu"]
[[experiment]]
name = "batchnorm"
title = "batchnorm and dropout, lr per replica, early stops and no-bias runs in the stack"
section = "extras"
base.batchnorm = true
base.dropout = 0.1
base.tol = 0.16
vary.lr = [0.5, 3.0]
vary.bias = [true, false]
"""


@pytest.mark.slow
def test_a_dropout_sweep_stacked_equals_unstacked_bit_for_bit(tmp_path) -> None:
    from test_stacking import assert_same_runs

    from proplab import sweep
    from proplab.sweep_spec import parse_spec

    spec = parse_spec(DROPOUT_SWEEP, "dropout.toml")
    plain = sweep.run_sweep(spec, tmp_path / "plain", runner=sweep.choose_runner("off"))
    stacked = sweep.run_sweep(spec, tmp_path / "stacked", runner=sweep.choose_runner("auto"))
    assert plain.failed == {} and stacked.failed == {}
    summaries = assert_same_runs(tmp_path / "plain", tmp_path / "stacked")
    assert len(summaries) == 18 + 12
    sizes = {name: s["stacked_with"] for name, s in summaries.items()}
    assert {sizes[n] for n in sizes if "activation=" in n} == {6}  # a stack per rate
    assert {sizes[n] for n in sizes if "batchnorm=true" in n} == {12}
    reasons = {s["stop_reason"] for n, s in summaries.items() if "batchnorm=true" in n}
    assert "converged" in reasons and "completed" in reasons  # some replicas stopped early
    # the running statistics of each run (early stops included) are its run alone's
    from proplab import load

    for name in summaries:
        a = load(tmp_path / "plain" / "runs" / name / "model.npz")
        b = load(tmp_path / "stacked" / "runs" / name / "model.npz")
        assert not a.training and not b.training  # saved ready to predict
        for (na, ba), (nb, bb) in zip(a.named_buffers(), b.named_buffers(), strict=True):
            assert na == nb
            np.testing.assert_array_equal(ba, bb)
    config = json.loads((tmp_path / "stacked" / "runs" / name / "config.json").read_text())
    assert config["config"]["batchnorm"] is True


def test_a_dropout_runs_learning_curve_says_its_training_numbers_have_units_dropped(
    tmp_path, monkeypatch
):
    # fit's loss and accuracy are taken as it trains, units dropped: the curve can sit
    # above the test loss (taken with none dropped), and its legend says why
    from proplab import plots
    from proplab.config import RunConfig
    from proplab.experiments import run_one

    fig = plots.learning_curve(
        {"epoch": [1, 2, 3], "loss": [0.3, 0.2, 0.25], "accuracy": [0.5, 0.6, 0.5]},
        tmp_path / "lc.png",
        training_note="dropout on",
    )
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        "loss (dropout on)",
        "accuracy (dropout on)",
    ]
    assert fig.axes[1].get_ylabel() == "accuracy (%)"  # the axis names the quantity only
    notes = []
    original = plots.learning_curve
    monkeypatch.setattr(
        plots,
        "learning_curve",
        lambda *a, **k: notes.append(k["training_note"]) or original(*a, **k),
    )
    for dropout in (0.0, 0.3):
        cfg = RunConfig(dataset="xor", epochs=20, dropout=dropout, print_every=0)
        run_one(cfg, tmp_path / f"run{dropout}", quiet=True, progress=False)
    assert notes == ["", "dropout on"]


@pytest.mark.parametrize("p", [0.0, 0.5])
def test_a_missing_rng_is_the_error_linear_and_mlp_give_even_for_p_0(p: float) -> None:
    """audit15b L2: Dropout raised TypeError for a missing rng where Linear, Conv1d and mlp
    raise ValueError; p = 0 draws no mask, but the rng stays required (and is said so)."""
    import proplab

    with pytest.raises(ValueError, match=r"needs rng=np.random.default_rng\(seed\)") as err:
        Dropout(p)
    assert str(err.value).endswith("even for p = 0, got rng=None")
    for build in (lambda: proplab.Linear(2, 3), lambda: proplab.mlp(2, 2, 1)):
        with pytest.raises(ValueError, match="rng=np.random.default_rng"):
            build()
    with pytest.raises(TypeError, match="got rng=0"):  # a wrong type stays a TypeError
        Dropout(p, rng=0)


@pytest.mark.parametrize(
    ("p", "shown"),
    [
        (0.3, "p=0.3"),
        (0.9999999999999999, "p=0.9999999999999999"),
        (-0.0, "p=0"),
        (1e-7, "p=1e-07"),
    ],
)
def test_repr_never_rounds_p_to_another_value(p, shown) -> None:
    """0.9999999999999999 (accepted) printed as p=1 (refused), -0.0 as p=-0 (num21 L5)."""
    rng = np.random.default_rng(0)
    assert repr(Dropout(p, rng=rng)) == f"Dropout({shown})"
    assert repr(Dropout(p, rng=rng, replicas=2)) == f"Dropout({shown}, replicas=(2,))"
