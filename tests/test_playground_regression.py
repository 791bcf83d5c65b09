"""The playground's regression sets (``plane``, ``multi-gauss``), as TensorFlow Playground
has them: offered next to the classification sets, trained with MSE on an identity output
unless told otherwise, scored by R² (no accuracy), the map the predicted value. In Python
here; over HTTP in test_playground_server.py, in chromium in test_playground_browser.py."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_playground import one_run, strict_json

from proplab import playground
from proplab.config import RunConfig
from proplab.experiments import prepare_run
from proplab.playground import Playground, PlaygroundError, options
from proplab.zoo_regression import BUMPS as BUMP_CENTRES
from proplab.zoo_regression import multi_gauss_target, plane_target

# a multi-gauss session that learns the bumps in a few hundred epochs (measured: R² 0.95
# on its 300 training points and 0.93 on its 100 test points after 500 epochs)
BUMPS = {
    "dataset": "multi-gauss",
    "n": 400,
    "noise": 0.0,
    "test_fraction": 0.25,
    "hidden": [8, 8],
    "activation": "tanh",
    "optimizer": "adam",
    "lr": 0.01,
    "batch_size": 10,
    "seed": 1,
}


def r2_by_hand(pred: np.ndarray, y: np.ndarray) -> float:
    """1 - SS_res / SS_tot, written out (not proplab.metrics)."""
    pred, y = pred.reshape(-1), y.reshape(-1)
    residual = sum((t - p) ** 2 for t, p in zip(y.tolist(), pred.tolist(), strict=True))
    mean = sum(y.tolist()) / len(y)
    total = sum((t - mean) ** 2 for t in y.tolist())
    return 1.0 - residual / total


def test_options_offer_the_regression_sets_after_the_classification_sets() -> None:
    choices = strict_json(options())
    assert choices["datasets"][-2:] == ["plane", "multi-gauss"]
    assert [n for n in choices["datasets"] if choices["tasks"][n] == "regression"] == [
        "plane",
        "multi-gauss",
    ]
    # each dataset's own settings, as `proplab train` has them: a regression's output
    # reaches -1, and its network trains with Adam (the lab's SGD at lr 1.0 blows it up)
    regression = {
        "loss": "mse", "output_activation": "identity", "activation": "tanh",
        "optimizer": "adam", "lr": 0.03, "n": 400, "noise": 0.0,
    }  # fmt: skip
    assert choices["dataset_defaults"]["plane"] == regression
    assert choices["dataset_defaults"]["multi-gauss"] == regression
    for name in ("xor", "linear", "circle", "spiral"):
        lab = {
            "loss": "mse", "output_activation": "sigmoid", "activation": "sigmoid",
            "optimizer": "sgd", "lr": 1.0, "n": 100, "noise": 0.1,
        }  # fmt: skip
        assert choices["dataset_defaults"][name] == lab
    assert choices["defaults"]["output_activation"] == "sigmoid"  # the lab's, on xor


def test_a_regression_reset_takes_mse_an_identity_output_and_the_targets_as_values() -> None:
    session = Playground({"dataset": "plane", "n": 50, "noise": 0.0, "test_fraction": 0.2})
    setup = strict_json(session.setup())
    assert setup["task"] == setup["state"]["task"] == "regression"
    assert setup["settings"]["output_activation"] == "identity"
    assert setup["settings"]["loss"] == "mse" and setup["settings"]["lr"] == 0.03
    assert setup["settings"]["optimizer"] == "adam" and setup["settings"]["activation"] == "tanh"
    assert setup["widths"] == [2, 10, 10, 1]
    # noise 0: each point's target is (x1 + x2) / 2 of that point; 40 train, 10 test
    for part, n in (("train", 40), ("test", 10)):
        x, y = np.array(setup[part]["x"]), np.array(setup[part]["y"])
        assert x.shape == (n, 2) and y.shape == (n,)
        np.testing.assert_allclose(y, plane_target(x)[:, 0], atol=2e-5)
    assert min(setup["train"]["y"]) < -0.5 and max(setup["train"]["y"]) > 0.5
    # another output that reaches negative values, and another learning rate, when asked for
    tanh = Playground({"dataset": "multi-gauss", "output_activation": "tanh", "lr": 0.1})
    assert (tanh.cfg.output_activation, tanh.cfg.lr) == ("tanh", 0.1)


def test_the_regression_defaults_fit_plane_where_the_labs_stick() -> None:
    # the regression sets' own settings (tanh, Adam at 0.03) fit plane; the lab's sigmoid
    # network at SGD lr 1.0 throws the identity output far past the targets on the first
    # updates and the sigmoids saturate for good
    session = Playground({"dataset": "plane", "test_fraction": 0.2})
    assert (session.cfg.lr, session.cfg.optimizer, session.cfg.activation) == (
        0.03, "adam", "tanh",
    )  # fmt: skip
    state = session.step(1_000)
    assert state["r2"] > 0.99 and state["test_r2"] > 0.99
    lab = {"optimizer": "sgd", "activation": "sigmoid", "lr": 1.0}
    stuck = Playground({"dataset": "plane", "test_fraction": 0.2, **lab}).step(1_000)
    assert stuck["r2"] < -100 and stuck["stopped"] == ""


def test_the_zoos_spelling_of_a_regression_set_is_taken() -> None:
    session = Playground({"dataset": "Multi_Gauss", "n": 30})
    assert session.cfg.dataset == "multi-gauss"
    assert session.setup()["settings"]["output_activation"] == "identity"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"loss": "bce"},
            r"^loss: plane is a regression \(targets are values to predict, not classes\), "
            r"so 'bce' does not apply; accepted: mse$",
        ),
        # bce's own rule (a sigmoid output) is not the reason: the task is
        ({"loss": "bce", "output_activation": "tanh"}, r"so 'bce' does not apply; accepted: mse"),
        (
            {"loss": "ce", "output_activation": "identity"},
            r"so 'cross_entropy' does not apply; accepted: mse",
        ),
        (
            {"output_activation": "sigmoid"},
            r"^output_activation: 'sigmoid' outputs values in \[0, 1\] only, but plane's "
            r"targets are negative as well as positive; accepted: tanh, leaky_relu, identity$",
        ),
        ({"output_activation": "ReLU"}, r"output_activation: 'relu' outputs values in \[0, inf\]"),
        # a name no registry knows is named as for any dataset
        ({"loss": "mae"}, r"^loss: unknown loss 'mae' \(accepted: "),
    ],
)
def test_a_loss_or_output_a_regression_cannot_use_is_refused(settings, message) -> None:
    session = Playground({"dataset": "circle", "n": 40})
    session.step(10)
    before = [p.data.copy() for p in session.model.parameters()]
    with pytest.raises(PlaygroundError, match=message):
        session.reset({"dataset": "plane", **settings})
    # the session is left as it was, and trains on
    assert session.cfg.dataset == "circle" and session.epoch == 10
    for old, now in zip(before, session.model.parameters(), strict=True):
        np.testing.assert_array_equal(old, now.data)
    assert session.step(1)["epoch"] == 11


def test_r2_is_sent_and_accuracy_is_not() -> None:
    session = Playground(BUMPS)
    session.step(100)
    state = strict_json(session.step(400))
    assert state["accuracy"] is None and state["test_accuracy"] is None
    for x, y, key in ((session.x, session.y, "r2"), (session.x_test, session.y_test, "test_r2")):
        pred = session.model.forward(x)
        assert state[key] == pytest.approx(r2_by_hand(pred, y), abs=2e-5)
        loss = float(np.mean((pred - y) ** 2))  # MSE: the mean squared error
        assert state[key.replace("r2", "loss")] == pytest.approx(loss, rel=5e-5)
    # the bumps are learned: 500 epochs explain most of the held-out variance
    assert state["test_r2"] > 0.85 and state["r2"] > 0.85
    # before training the network explains nothing: R² about 0 or below
    assert Playground(BUMPS).state([])["r2"] < 0.1


def test_a_classification_session_sends_no_r2() -> None:
    state = strict_json(Playground({"dataset": "circle", "test_fraction": 0.2}).step(5))
    assert state["task"] == "classification"
    assert state["r2"] is None and state["test_r2"] is None
    assert 0.0 <= state["accuracy"] <= 1.0 and 0.0 <= state["test_accuracy"] <= 1.0


def test_the_map_is_the_predicted_value_at_the_grid_points_not_clipped() -> None:
    session = Playground(BUMPS)
    session.step(500)
    setup = session.setup()
    u, v = np.array(setup["grid"]["u"]), np.array(setup["grid"]["v"])
    points = np.array([[a, b] for b in v for a in u])  # row j at v[j], as the page draws it
    expected = session.model.forward(points)[:, 0].reshape(playground.GRID, playground.GRID)
    boundary = np.array(setup["state"]["boundary"], dtype=float)
    np.testing.assert_allclose(boundary, expected, atol=6e-4)
    # a value, not a probability: the -1 bumps go well below 0
    assert boundary.min() < -0.6 and boundary.max() > 0.6
    # and it shows the bumps: at the grid point nearest each centre, the bump's sign and
    # over half its height (the cones' tips are rounded off), and between them about 0
    for cx, cy, sign in BUMP_CENTRES:
        j, i = np.abs(v - cy).argmin(), np.abs(u - cx).argmin()
        assert multi_gauss_target(np.array([[u[i], v[j]]]))[0, 0] * sign > 0.8
        assert boundary[j, i] * sign > 0.5
    j, i = np.abs(v).argmin(), np.abs(u).argmin()
    assert abs(boundary[j, i]) < 0.15


def test_steps_train_the_same_weights_as_one_run() -> None:
    # mini-batches (one shuffling stream across steps), Adam (its step count), a test share
    session = Playground(BUMPS)
    session.step(30)
    session.state([])  # drawing runs forwards between steps: no effect on training
    session.step(70)
    # the session's output is identity though BUMPS names none: so is the reference's
    reference = one_run({**BUMPS, "output_activation": "identity"}, 100)
    for mine, theirs in zip(session.model.parameters(), reference.parameters(), strict=True):
        np.testing.assert_array_equal(mine.data, theirs.data)
    # and the test share is the one a run holds out (at random: nothing to stratify)
    _, prep = prepare_run(RunConfig(**BUMPS, output_activation="identity"))
    np.testing.assert_array_equal(session.x_test, prep.x_test)


def test_a_regression_session_ends_where_proplab_train_ends(tmp_path) -> None:
    from proplab.experiments import run_one
    from proplab.serialize import load

    settings = {**BUMPS, "hidden": [6], "optimizer": "momentum", "lr": 0.05}
    session = Playground(settings)
    for epochs in (1, 49, 100):
        state = session.step(epochs)
    cfg = RunConfig(**settings, output_activation="identity", epochs=150)
    run_one(cfg, tmp_path, quiet=True, figures=False, progress=False)
    saved = load(tmp_path / "model.npz")
    for mine, theirs in zip(session.model.parameters(), saved.parameters(), strict=True):
        np.testing.assert_array_equal(mine.data, theirs.data)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["accuracy"] is None
    assert state["r2"] == pytest.approx(summary["r2"], abs=2e-5)
    assert state["test_r2"] == pytest.approx(summary["test_r2"], abs=2e-5)


def test_a_diverged_regression_sends_none_for_its_numbers() -> None:
    settings = {"dataset": "plane", "n": 40, "test_fraction": 0.25, "optimizer": "sgd"}
    session = Playground({**settings, "lr": 1e6})
    state = strict_json(session.step(50))
    assert state["stopped"].startswith("training diverged at epoch ")
    for key in ("loss", "r2", "test_loss", "test_r2", "accuracy", "test_accuracy"):
        assert state[key] is None, key
