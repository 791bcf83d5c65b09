"""Early stopping (restoring the best weights), convergence and its warning, schedules in train()."""

import math
import warnings

import numpy as np
import pytest

import proplab
from proplab.callbacks import ConvergenceWarning, EarlyStopping, train
from proplab.data import generate_linear, generate_xor_easy
from proplab.losses import CrossEntropyLoss, MSELoss
from proplab.models import mlp
from proplab.optim import SGD, Adam
from proplab.schedules import ReduceLROnPlateau, StepLR
from proplab.scoring import evaluate
from proplab.zoo import moons


def test_early_stopping_counts_by_hand() -> None:
    stop = EarlyStopping(patience=2, min_delta=0.1)
    # 1.0 best; 0.95 is no gain of > 0.1 (wait 1) but the new best; 0.8 gains 0.15
    # (reset); 0.75 gains only 0.05 (wait 1, new best); 0.9 (wait 2) -> stop
    values = [1.0, 0.95, 0.8, 0.75, 0.9]
    decisions = [stop.update(e, v) for e, v in enumerate(values, start=1)]
    assert decisions == [False, False, False, False, True]
    assert (stop.best, stop.best_epoch) == (0.75, 4)


def test_the_tol_rule_and_scikit_learns_code_can_stop_far_apart() -> None:
    """The docstring's example: the documented rule stops at epoch 4; scikit-learn's code
    (``_no_improvement_count > n_iter_no_change``, a gain of at least tol resets it) trains
    on through epoch 5's gain and stops at 9."""
    losses = [1.0, 1.0, 1.0, 1.0] + [0.5] * 5
    stop = EarlyStopping(patience=3, min_delta=1e-4, restore_best=False)
    ours = next(e for e, v in enumerate(losses, start=1) if stop.update(e, v))
    count, best, theirs = 0, math.inf, None
    for e, v in enumerate(losses, start=1):
        count = count + 1 if v > best - 1e-4 else 0
        best = min(best, v)
        if count > 3:
            theirs = e
            break
    assert (ours, theirs) == (4, 9)
    assert "here at epoch 4, scikit-learn's code at epoch 9" in " ".join(
        EarlyStopping.__doc__.split()
    )


def _overfitting_problem() -> tuple:
    # 40 noisy training points and a wide net: validation loss turns up early
    x, y = moons(40, 0.35, 0)
    x_val, y_val = moons(400, 0.35, 1)
    model = mlp(
        2, (64, 64), 2, activation="relu", output_activation=None, rng=np.random.default_rng(0)
    )
    return model, x, y, x_val, y_val


def test_early_stopping_restores_the_best_weights() -> None:
    model, x, y, x_val, y_val = _overfitting_problem()
    loss = CrossEntropyLoss()
    history = train(
        model,
        loss,
        Adam(model.parameters(), lr=0.01),
        x,
        y,
        500,
        validation=(x_val, y_val),
        early_stopping=EarlyStopping(patience=20),
    )
    assert history.stop_reason == "early_stopped"
    best = int(np.argmin(history.val_loss))
    assert history.best_epoch == best + 1 < history.epochs_run == best + 21
    # the model now holds the best epoch's weights: its validation loss is the minimum
    val_loss, _, _ = evaluate(model, loss, x_val, y_val)
    assert val_loss == pytest.approx(history.val_loss[best], rel=1e-12)
    assert history.val_loss[-1] > history.val_loss[best]


def test_convergence_stop_and_warning() -> None:
    x = np.linspace(-1, 1, 20)[:, None]
    y = 0.5 * x
    model = mlp(1, [], 1, output_activation=None, rng=np.random.default_rng(0))
    opt = SGD(model.parameters(), lr=0.5)
    # a linear fit converges: the loss stops improving by 1e-8 well before 1000 epochs
    history = train(model, MSELoss(), opt, x, y, 1000, min_improvement=1e-8, n_iter_no_change=5)
    assert history.stop_reason == "converged" and history.epochs_run < 1000
    np.testing.assert_allclose(model[0].weight.data, [[0.5]], atol=1e-3)
    # two epochs are not enough: scikit-learn-style ConvergenceWarning
    model = mlp(1, [], 1, output_activation=None, rng=np.random.default_rng(0))
    with pytest.warns(ConvergenceWarning, match="maximum of 2 epochs and has not converged"):
        history = train(
            model, MSELoss(), SGD(model.parameters(), lr=0.01), x, y, 2, min_improvement=1e-4
        )
    assert history.stop_reason == "completed"


def test_schedule_and_validation_are_recorded() -> None:
    x, y = moons(60, 0.1, 0)
    model = mlp(2, (8,), 2, activation="relu", output_activation=None, rng=np.random.default_rng(0))
    opt = SGD(model.parameters(), lr=0.4)
    history = train(
        model,
        CrossEntropyLoss(),
        opt,
        x,
        y,
        6,
        batch_size=20,
        rng=np.random.default_rng(0),
        validation=(x, y),
        schedule=StepLR(opt, 2, 0.5),
        tol=None,
    )
    # lr in force during each epoch: 0.4, 0.4, 0.2, 0.2, 0.1, 0.1
    assert history.lr == pytest.approx([0.4, 0.4, 0.2, 0.2, 0.1, 0.1])
    assert len(history.val_loss) == 6 and history.stop_reason == "completed"


def test_early_stopping_needs_validation() -> None:
    model = mlp(2, (4,), 2, output_activation=None, rng=np.random.default_rng(0))
    x, y = moons(20)
    with pytest.raises(ValueError, match="pass validation"):
        train(
            model,
            CrossEntropyLoss(),
            SGD(model.parameters()),
            x,
            y,
            3,
            early_stopping=EarlyStopping(),
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": -3}, r"epochs must be a positive integer, got -3"),
        ({"epochs": 2.5}, r"epochs must be a positive integer, got 2.5"),
        ({"tol": -1.0}, r"tol must be a finite number >= 0 or None, got -1.0"),
        ({"n_iter_no_change": 0}, r"n_iter_no_change must be a positive integer, got 0"),
        # were raw int()/math errors, or (True) taken as tol=1.0
        ({"epochs": "a"}, r"epochs must be a positive integer, got 'a'"),
        ({"n_iter_no_change": "a"}, r"n_iter_no_change must be a positive integer, got 'a'"),
        ({"tol": "a"}, r"tol must be a finite number >= 0 or None, got 'a'"),
        ({"tol": True}, r"tol must be a finite number >= 0 or None, got True"),
        ({"min_improvement": -1e-4}, r"min_improvement must be a finite number >= 0 or None"),
        ({"min_improvement": "a"}, r"min_improvement must be a finite number >= 0 or None"),
        ({"schedule": "step"}, r"schedule must be a learning-rate schedule"),
        ({"early_stopping": 5}, r"early_stopping must be an EarlyStopping, got 5"),
    ],
)
def test_bad_arguments_are_named_as_passed(kwargs, message):
    """epochs=-3 ran 0 epochs and warned of no convergence; tol and n_iter_no_change were
    reported as EarlyStopping's min_delta and patience."""
    x, y = moons(40, rng=np.random.default_rng(0))
    model = mlp(2, 4, 1, rng=np.random.default_rng(0))
    args = {"epochs": 5, **kwargs}
    with pytest.raises((ValueError, TypeError), match=message):
        train(model, MSELoss(), SGD(model.parameters(), lr=0.1), x, y, **args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("a",), r"patience must be a positive integer, got 'a'"),
        ((None,), r"patience must be a positive integer, got None"),
        ((3, "a"), r"min_delta must be a finite number >= 0, got 'a'"),
        ((3, None), r"min_delta must be a finite number >= 0, got None"),
        ((3, 0.0, "no"), r"restore_best must be True or False, got 'no'"),
    ],
)
def test_early_stopping_arguments_are_named(args, message):
    with pytest.raises(ValueError, match=message):
        EarlyStopping(*args)


def _xor_run(seed=0, lr=2.0, **kw):
    x, y = moons(30, 0.3, 0)
    model = mlp(2, 6, 1, rng=np.random.default_rng(seed), **kw)
    return model, SGD(model.parameters(), lr=lr), x, y


def _validation():
    return moons(60, 0.3, 1)


def _nothing_changed_before_a_refusal(model, before):
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])


def test_bad_validation_is_refused_before_training():
    """validation=x_val, a wrong width or NaN used to fail after an epoch had trained (raw
    evaluate() TypeError, NumPy error) or (NaN) to record NaN losses silently."""
    model, opt, x, y = _xor_run()
    x_val, y_val = _validation()
    before = model.state_dict()
    cases = [
        (x_val, r"validation must be a pair \(x_val, y_val\), got ndarray"),
        ((x_val,), r"got tuple of length 1"),
        ((x_val[:, :1], y_val), r"x_val must be numbers shaped like the training x \(n, 2\)"),
        ((np.where(x_val > 0.5, np.nan, x_val), y_val), r"x_val\[.*\] is nan: must be finite"),
        ((x_val, y_val[:5]), r"x_val has 60 samples and y_val 5"),
        ((x_val, np.zeros((60, 3))), r"validation: MSELoss: target shape \(60, 3\)"),
    ]
    for validation, message in cases:
        with pytest.raises(ValueError, match=message):
            train(model, MSELoss(), opt, x, y, 5, validation=validation)
    _nothing_changed_before_a_refusal(model, before)


def test_a_replica_stack_is_refused_before_training():
    # it trained one epoch, then failed with "only 0-dimensional arrays can be converted"
    x, y = moons(30, 0.3, 0)
    stack = mlp(2, 4, 1, seeds=range(3))
    before = stack.state_dict()
    with pytest.raises(ValueError, match=r"train takes one model, not a replica stack"):
        train(stack, MSELoss(), SGD(stack.parameters(), lr=1.0), x, y, 5)
    _nothing_changed_before_a_refusal(stack, before)


def test_a_schedule_of_another_optimizer_is_refused():
    model, opt, x, y = _xor_run()
    other_model, other, _, _ = _xor_run(1)
    with pytest.raises(ValueError, match="schedule was built on another optimizer"):
        train(model, MSELoss(), opt, x, y, 5, schedule=StepLR(other, 1, 0.5))
    assert other.lr == 2.0  # it used to be halved every epoch, this optimizer's never


def _weights_after(epochs, seed=0, lr=2.0, **kw):
    """The weights of the same run trained exactly ``epochs`` epochs."""
    model, opt, x, y = _xor_run(seed, lr, **kw)
    train(model, MSELoss(), opt, x, y, epochs, tol=None)
    return model.state_dict()


def test_restored_weights_are_the_best_epochs_after_ctrl_c():
    model, opt, x, y = _xor_run()
    calls = {"n": 0}

    class Interrupting(MSELoss):
        def forward(self, pred, target):
            calls["n"] += 1
            if calls["n"] == 2 * 150 + 1:  # one training + one validation pass per epoch
                raise KeyboardInterrupt  # during epoch 150's validation (after the probe)
            return super().forward(pred, target)

    history = train(
        model,
        Interrupting(),
        opt,
        x,
        y,
        1000,
        validation=_validation(),
        early_stopping=EarlyStopping(1000),
    )
    assert history.stop_reason == "interrupted"
    # every column one entry per epoch (val_loss was one short); no validation: NaN
    n = history.epochs_run
    lengths = {len(c) for c in (history.loss, history.accuracy, history.lr, history.wall_time)}
    assert lengths == {n} and len(history.val_loss) == len(history.val_accuracy) == n
    assert np.isnan(history.val_loss[-1]) and history.message.startswith(f"interrupted after {n}")
    assert history.best_epoch == int(np.nanargmin(history.val_loss)) + 1
    expected = _weights_after(history.best_epoch)
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, expected[name])


def test_divergence_names_its_epoch_and_keeps_columns_aligned():
    kw = {"activation": "identity", "output_activation": "identity"}
    model, opt, x, y = _xor_run(0, 0.6, **kw)
    history = train(
        model,
        MSELoss(),
        opt,
        x,
        y,
        3000,
        validation=_validation(),
        early_stopping=EarlyStopping(50),
    )
    n = history.epochs_run
    assert history.stop_reason == "diverged" and n > 1
    # the message said "at epoch 1": each epoch is a one-epoch fit
    assert history.message.startswith(f"training diverged at epoch {n}:")
    assert len(history.val_loss) == len(history.val_accuracy) == len(history.lr) == n
    assert history.best_epoch == int(np.nanargmin(history.val_loss)) + 1
    expected = _weights_after(history.best_epoch, 0, 0.6, **kw)
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, expected[name])


def test_an_early_stopping_reused_for_a_second_model_starts_afresh():
    # it kept the first training's best loss and weights: the second stopped after
    # `patience` epochs without a new best and loaded the first model's weights
    stop = EarlyStopping(5)
    x_val, y_val = _validation()
    first, opt, x, y = _xor_run(0)
    train(
        first, MSELoss(), opt, x, y, 400, validation=(x_val, y_val), early_stopping=stop, warn=False
    )
    second, opt, _, _ = _xor_run(1, lr=0.01)  # its validation loss stays above the first's
    history = train(
        second, MSELoss(), opt, x, y, 20, validation=(x_val, y_val), early_stopping=stop, warn=False
    )
    assert history.best_epoch == int(np.argmin(history.val_loss)) + 1
    expected = _weights_after(history.best_epoch, 1, 0.01)
    for name, p in second.named_parameters():
        np.testing.assert_array_equal(p.data, expected[name])


# --- mutation-testing gaps: the exact rules --------------------------------------------


def _lab(seed: int = 0):
    model = mlp(2, 10, 1, rng=np.random.default_rng(seed))
    return model, SGD(model.parameters(), lr=1.0)


def test_a_gain_of_exactly_min_delta_is_no_improvement() -> None:
    stop = EarlyStopping(patience=2, min_delta=0.5)
    # 1.0 -> 0.5 gains exactly min_delta: the new best, but the count goes on
    assert [stop.update(e, v) for e, v in enumerate([1.0, 0.5, 0.5], start=1)] == [
        False,
        False,
        True,
    ]
    assert (stop.best, stop.best_epoch, stop.wait) == (0.5, 2, 2)


def test_the_convergence_rule_stops_after_n_iter_no_change_epochs_without_gain() -> None:
    # min_improvement=1.0: only the first epoch (from +inf) improves by more than that
    model, opt = _lab()
    x, y = generate_xor_easy()
    history = train(
        model, MSELoss(), opt, x, y, 50, min_improvement=1.0, n_iter_no_change=3, warn=False
    )
    assert history.stop_reason == "converged" and history.epochs_run == 4
    assert history.message == (
        "converged at epoch 4: the training loss improved by less than min_improvement=1.0 "
        "for 3 epochs"
    )


def test_min_improvement_zero_is_accepted_and_stops_only_on_no_gain_at_all() -> None:
    model, opt = _lab()
    x, y = generate_xor_easy()
    history = train(model, MSELoss(), opt, x, y, 5, min_improvement=0, warn=False)
    assert history.stop_reason == "completed" and history.epochs_run == 5


def test_the_convergence_rule_watches_the_training_loss_even_with_a_validation_set() -> None:
    """The flipped-label validation loss rises from epoch 7 while the training loss
    keeps gaining more than tol: training runs its 20 epochs, as without validation."""
    x, y = generate_linear(40, rng=0)
    runs = []
    for validation in (None, (x, 1 - y)):
        model, opt = _lab()
        runs.append(
            train(
                model,
                MSELoss(),
                opt,
                x,
                y,
                20,
                min_improvement=1e-5,
                n_iter_no_change=3,
                warn=False,
                validation=validation,
            )
        )
    alone, validated = runs
    assert np.all(np.diff(validated.val_loss[6:]) > 0)  # validation gets worse
    assert validated.stop_reason == alone.stop_reason == "completed"
    assert validated.epochs_run == alone.epochs_run == 20 and validated.loss == alone.loss


def test_reduce_lr_on_plateau_steps_on_the_validation_loss() -> None:
    x, y = generate_linear(40, rng=0)
    model, opt = _lab()
    schedule = ReduceLROnPlateau(opt, factor=0.5, patience=0)
    history = train(
        model, MSELoss(), opt, x, y, 12, tol=None, validation=(x, 1 - y), schedule=schedule
    )
    # the same schedule fed the recorded validation losses, by hand
    probe = SGD(mlp(2, 2, 1, rng=np.random.default_rng(0)).parameters(), lr=1.0)
    by_hand, expected = ReduceLROnPlateau(probe, factor=0.5, patience=0), []
    for val_loss in history.val_loss:
        expected.append(float(probe.lr))
        by_hand.step(val_loss)
    assert history.lr == expected and history.lr[-1] < 1.0 == history.lr[0]


def test_tol_means_what_it_means_in_fit_and_the_defaults_sit_out_the_plateau() -> None:
    # train's tol was scikit-learn's "improved by less than tol for 10 epochs", on by
    # default (1e-4): the lab model stopped at epoch 15 on its 0.25 plateau, 52 % right,
    # as "converged"; tol=1e-3 meant "below 1e-3" to fit and gave 13 epochs to train
    x, y = generate_xor_easy()
    model, opt = _lab()
    alone = proplab.fit(model, MSELoss(), opt, x, y, 20000, tol=1e-3)
    model, opt = _lab()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no rule asked for: no ConvergenceWarning
        history = train(model, MSELoss(), opt, x, y, 20000, tol=1e-3)
    assert alone.stop_reason == history.stop_reason == "converged"
    assert history.epochs_run == alone.epochs_run > 1000  # past the plateau
    assert history.loss == [float(v) for v in alone.loss] and history.accuracy[-1] == 1.0
    assert history.message == f"loss below tol=0.001 at epoch {alone.epochs_run}"


def test_a_float32_models_data_is_cast_once_not_every_epoch(monkeypatch) -> None:
    # fit and evaluate ran every epoch and each cast the float64 data again (4 copies an epoch)
    from proplab import scoring
    from proplab import train as train_module

    copies = []
    cast = scoring.in_model_dtype

    def counting(model, x, y, numeric_targets=False):
        cx, cy = cast(model, x, y, numeric_targets)
        copies.extend(a for a, b in ((cx, x), (cy, y)) if a is not b)
        return cx, cy

    monkeypatch.setattr(scoring, "in_model_dtype", counting)
    monkeypatch.setattr(train_module, "in_model_dtype", counting)
    x, y = generate_linear(40, rng=0)
    x, y = x.astype(np.float64), y.astype(np.float64)
    model = mlp(2, 4, 1, rng=np.random.default_rng(0), dtype=np.float32)
    history = train(model, MSELoss(), SGD(model.parameters(), lr=0.5), x, y, 30, validation=(x, y))
    assert history.epochs_run == 30 and isinstance(history.val_loss[-1], float)
    assert len(copies) <= 2  # the validation's first check, before the loop casts it once


# --- divergence (diverge18) -----------------------------------------------------------------


def _exploding() -> tuple[proplab.Module, SGD]:
    """XOR's 2-10-10-1 net without nonlinearity at lr 50: losses 1.06, 3.1e10, 6.9e64, then
    inf in epoch 4; after 3 epochs the weights are finite but the final model's loss is inf."""
    model = mlp(2, 10, 1, activation="identity", output_activation="identity", rng=np.random.default_rng(0))  # fmt: skip
    return model, SGD(model.parameters(), lr=50.0)


def test_a_last_update_that_blows_the_model_up_is_divergence():
    # it was "completed": each epoch's loss is measured before its update
    x, y = generate_xor_easy()
    model, opt = _exploding()
    history = proplab.fit(model, MSELoss(), opt, x, y, 3)
    assert history.stop_reason == "diverged" and history.epochs_run == 3
    assert history.message == (
        "training diverged with its last update (epoch 3): the final model's loss is inf; "
        "try a smaller learning rate"
    )
    model, opt = _exploding()
    trained = train(model, MSELoss(), opt, x, y, 3)
    assert (trained.stop_reason, trained.message) == (history.stop_reason, history.message)
    model, opt = _exploding()  # two epochs: the final model is finite, the run completed
    assert proplab.fit(model, MSELoss(), opt, x, y, 2).stop_reason == "completed"


def test_an_infinite_validation_loss_is_divergence_not_a_plateau():
    # early stopping called it "not improved" and ReduceLROnPlateau cut the rate; with inf
    # from the start, "best inf at epoch 0", nothing restored
    x, y = generate_xor_easy()
    model, opt = _exploding()
    stopper = EarlyStopping(patience=2)
    schedule = ReduceLROnPlateau(opt, patience=0)
    history = train(
        model, MSELoss(), opt, x, y, 50,
        validation=(x, y), early_stopping=stopper, schedule=schedule,
    )  # fmt: skip
    assert history.stop_reason == "diverged" and history.epochs_run == 3
    assert history.message == (
        "training diverged at epoch 3: the validation loss became inf; try a smaller learning rate"
    )
    assert history.best_epoch == 1  # the best weights are back: the model predicts again
    assert evaluate(model, MSELoss(), x, y)[0] == pytest.approx(history.val_loss[0])
    assert history.lr == [50.0, 50.0, 5.0]  # cut once, after epoch 2's rise; not for the inf


def test_the_convergence_warning_of_a_growing_loss_says_to_lower_the_rate():
    # it said the loss "was still improving ... raise epochs or the learning rate"
    x, y = generate_xor_easy()
    model = mlp(2, 4, 1, activation="identity", output_activation="identity", rng=np.random.default_rng(0))  # fmt: skip
    with pytest.warns(ConvergenceWarning) as caught:
        history = train(model, MSELoss(), SGD(model.parameters(), lr=0.5), x, y, 4, min_improvement=0.0)  # fmt: skip
    assert history.stop_reason == "completed" and history.loss[-1] > history.loss[0]
    assert str(caught[0].message) == (
        f"training stopped at the maximum of 4 epochs and has not converged: the training loss "
        f"grew from {history.loss[0]:.3g} to {history.loss[-1]:.3g}; try a smaller learning rate"
    )


def test_a_loss_not_finite_before_any_update_does_not_blame_the_rate_in_train_either():
    x, y = generate_xor_easy()
    model = mlp(2, 4, 1, rng=np.random.default_rng(0))
    model[0].weight.data[0, 0] = np.nan  # weights of a diverged run
    history = train(model, MSELoss(), SGD(model.parameters(), lr=0.01), x, y, 5)
    assert history.stop_reason == "diverged" and history.epochs_run == 1
    assert history.message.startswith(
        "training diverged at epoch 1: the loss is nan before any update, which no learning "
        "rate causes"
    )
