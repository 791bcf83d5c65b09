"""Early stopping (restoring the best weights), convergence and its warning, schedules in train()."""

import numpy as np
import pytest

from proplab.callbacks import ConvergenceWarning, EarlyStopping, train
from proplab.losses import CrossEntropyLoss, MSELoss
from proplab.models import mlp
from proplab.optim import SGD, Adam
from proplab.schedules import StepLR
from proplab.train import evaluate
from proplab.zoo import moons


def test_early_stopping_counts_by_hand() -> None:
    stop = EarlyStopping(patience=2, min_delta=0.1)
    # 1.0 best; 0.95 is no gain of > 0.1 (wait 1) but the new best; 0.8 gains 0.15
    # (reset); 0.75 gains only 0.05 (wait 1, new best); 0.9 (wait 2) -> stop
    values = [1.0, 0.95, 0.8, 0.75, 0.9]
    decisions = [stop.update(e, v) for e, v in enumerate(values, start=1)]
    assert decisions == [False, False, False, False, True]
    assert (stop.best, stop.best_epoch) == (0.75, 4)


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
    history = train(model, MSELoss(), opt, x, y, 1000, tol=1e-8, n_iter_no_change=5)
    assert history.stop_reason == "converged" and history.epochs_run < 1000
    np.testing.assert_allclose(model[0].weight.data, [[0.5]], atol=1e-3)
    # two epochs are not enough: scikit-learn-style ConvergenceWarning
    model = mlp(1, [], 1, output_activation=None, rng=np.random.default_rng(0))
    with pytest.warns(ConvergenceWarning, match="maximum of 2 epochs and has not converged"):
        history = train(model, MSELoss(), SGD(model.parameters(), lr=0.01), x, y, 2)
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
        ({"n_iter_no_change": 0}, r"n_iter_no_change must be an integer >= 1, got 0"),
    ],
)
def test_bad_arguments_are_named_as_passed(kwargs, message):
    """epochs=-3 ran 0 epochs and warned of no convergence; tol and n_iter_no_change were
    reported as EarlyStopping's min_delta and patience."""
    x, y = moons(40, rng=np.random.default_rng(0))
    model = mlp(2, 4, 1, rng=np.random.default_rng(0))
    args = {"epochs": 5, **kwargs}
    with pytest.raises(ValueError, match=message):
        train(model, MSELoss(), SGD(model.parameters(), lr=0.1), x, y, **args)
