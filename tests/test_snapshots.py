"""The weights at a few epochs of a run, and the decision boundary drawn at each."""

from __future__ import annotations

import numpy as np
import pytest

from proplab import experiments, sweep_plots
from proplab.config import RunConfig, build_loss, build_model, build_optimizer
from proplab.data import generate_xor_easy
from proplab.runio import read_csv
from proplab.snapshots import Snapshots, snapshot_epochs
from proplab.train import fit


@pytest.mark.parametrize(
    ("epochs", "expected"),
    [
        (1, [0, 1]),
        (10, [0, 1, 2, 10]),
        (1000, [0, 5, 20, 100, 200, 1000]),
        (20000, [0, 100, 500, 2000, 5000, 20000]),
        (100000, [0, 500, 2000, 10000, 20000, 100000]),
    ],
)
def test_snapshot_epochs_are_round_numbers_spread_over_the_run(epochs, expected):
    assert snapshot_epochs(epochs) == expected


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, None])
def test_snapshot_epochs_refuse_a_non_positive_or_fractional_count(bad):
    with pytest.raises(ValueError, match=f"epochs must be a positive integer, got {bad!r}"):
        snapshot_epochs(bad)


def _xor_model():
    cfg = RunConfig(dataset="xor")
    model = build_model(cfg, 2, 1, rng=np.random.default_rng(0))
    return cfg, model, build_optimizer(cfg, model.parameters())


def test_each_snapshot_holds_the_weights_a_run_of_that_many_epochs_ends_with():
    x, y = generate_xor_easy()
    cfg, model, opt = _xor_model()
    snaps = Snapshots(model, [0, 20, 50, 120])
    assert snaps.every == 10  # fit calls the hook every gcd(20, 50, 120) epochs
    snaps.take(0)
    fit(model, build_loss(cfg), opt, x, y, 120, callback=snaps.hook(), callback_every=snaps.every)
    assert sorted(snaps.states) == [0, 20, 50, 120]
    for epochs, state in snaps.states.items():
        _, alone, alone_opt = _xor_model()
        if epochs:
            fit(alone, build_loss(cfg), alone_opt, x, y, epochs)
        for name, value in alone.state_dict().items():
            np.testing.assert_array_equal(state[name], value)  # bit for bit, copies
    assert not np.shares_memory(snaps.states[120]["0.weight"], model[0].weight.data)


def test_the_hook_passes_on_to_a_progress_callback_at_its_own_pace_and_at_a_stop():
    x, y = generate_xor_easy()
    cfg, model, opt = _xor_model()
    snaps = Snapshots(model, [0, 5, 10, 300])
    seen = []
    hook = snaps.hook(lambda epoch, history: seen.append(epoch), then_every=50)
    # the loss falls below its value at epoch 203 (of 300) there: a stop off the 5-epoch beat
    history = fit(
        model,
        build_loss(cfg),
        opt,
        x,
        y,
        300,
        tol=0.2494586558643494,
        callback=hook,
        callback_every=5,
    )
    assert history.stop_reason == "converged" and history.epochs_run % 5 != 0
    assert history.epochs_run == 203 and seen == [50, 100, 150, 200, 203]
    assert sorted(snaps.states) == [5, 10]  # 300 never came; run_one takes the final one


def test_a_run_draws_the_boundary_at_each_snapshot_with_its_accuracy(tmp_path, monkeypatch):
    drawn = []
    original = sweep_plots.decision_boundaries

    def spy(rows, path, title="", row_labels=()):
        drawn.append((rows, title))
        return original(rows, path, title=title, row_labels=row_labels)

    monkeypatch.setattr(sweep_plots, "decision_boundaries", spy)
    cfg = RunConfig(dataset="xor", epochs=1000, print_every=0)
    summary = experiments.run_one(cfg, tmp_path, quiet=True, progress=False)
    path = tmp_path / experiments.BOUNDARY_DURING_TRAINING
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ((row,), title) = drawn[0]
    assert "the decision boundary as it forms" in title
    assert [p.title.split("\n")[0] for p in row] == [
        "epoch 0", "epoch 5", "epoch 20", "epoch 100", "epoch 200", "epoch 1,000"
    ]  # fmt: skip
    # the weights after e updates score what the history records one epoch later
    # (each epoch's accuracy is measured before its update), the last what the summary says
    history = read_csv(tmp_path / "history.csv")
    for panel, epoch in zip(row[:-1], [0, 5, 20, 100, 200], strict=True):
        assert panel.title.split("\n")[1] == f"{100 * float(history[epoch]['accuracy']):.1f} %"
    assert row[-1].title.split("\n")[1] == f"{100 * summary['accuracy']:.1f} %"
    # the last panel is the saved model's P(class 1) over the grid
    import proplab

    model = proplab.load(tmp_path / "model.npz")
    u, v, points = sweep_plots.boundary_grid(row[-1].x)
    np.testing.assert_array_equal(row[-1].prob, model.forward(points).reshape(v.size, u.size))


def test_no_boundary_during_training_without_one_output_or_after_divergence(tmp_path):
    # three classes: no single P(class 1) to draw
    rng = np.random.default_rng(0)
    rows = [f"{float(a)!r},{float(b)!r},{int(3 * a) % 3}" for a, b in rng.random((60, 2))]
    (tmp_path / "three.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    three = RunConfig(
        dataset=str(tmp_path / "three.csv"),
        epochs=20,
        loss="cross_entropy",
        output_activation="identity",
    )
    # a diverged run: its last weights would paint meaningless panels
    diverged = RunConfig(
        dataset="linear", activation="relu", output_activation="identity", lr=5.0, epochs=1000
    )
    for name, cfg, reason in (("three", three, "completed"), ("diverged", diverged, "diverged")):
        summary = experiments.run_one(cfg, tmp_path / name, quiet=True, progress=False)
        assert summary["stop_reason"] == reason
        assert (tmp_path / name / experiments.LEARNING_CURVE).is_file()
        assert not (tmp_path / name / experiments.BOUNDARY_DURING_TRAINING).exists()


def test_no_snapshots_are_taken_for_a_run_without_figures(tmp_path, monkeypatch):
    monkeypatch.setattr(Snapshots, "take", lambda self, epoch: pytest.fail("snapshot taken"))
    experiments.run_one(
        RunConfig(dataset="xor", epochs=30), tmp_path, quiet=True, progress=False, figures=False
    )
    assert not list(tmp_path.glob("*.png"))


def test_snapshot_epochs_round_to_1_2_5_on_a_log_scale():
    # 680 / 200 = 3.4 is nearer 5 than 2 on a log scale (2 on a linear one)
    assert snapshot_epochs(680) == [0, 5, 20, 50, 200, 680]
