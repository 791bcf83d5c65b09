"""The weights at a few epochs of a run, and the decision boundary drawn at each."""

from __future__ import annotations

import numpy as np
import pytest

from proplab import experiments, sweep_boundaries
from proplab.config import RunConfig, build_loss, build_model, build_optimizer
from proplab.data import generate_xor_easy
from proplab.runio import read_csv
from proplab.snapshots import (
    LEVELS,
    Snapshots,
    kept_epochs,
    pick_epochs,
    pick_kept_epochs,
    snapshot_epochs,
)
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
    # (then_seconds: no calls for time's sake, however slow the machine)
    hook = snaps.hook(
        lambda epoch, history: seen.append(epoch), then_every=50, then_seconds=float("inf")
    )
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


def test_the_hook_passes_on_slow_epochs_to_a_progress_callback_every_half_second(monkeypatch):
    # scale19 M3: a bar over 8 epochs of 0.4 s (100 000 rows in mini-batches) was drawn once,
    # at the end, the hook waiting for epoch 100
    import proplab.snapshots

    ticks = iter(np.arange(0.0, 100.0, 0.3))  # each look at the clock: 0.3 s later
    monkeypatch.setattr(proplab.snapshots.time, "perf_counter", lambda: float(next(ticks)))
    _, model, _ = _xor_model()
    snaps = Snapshots(model, [0, 1, 2, 8])
    seen = []
    hook = snaps.hook(lambda epoch, history: seen.append(epoch))
    for epoch in range(1, 9):  # fit calls it every epoch (every = 1)
        hook(epoch, None)
    assert seen == [2, 4, 6, 8]  # 0.6 s apart, and the last
    assert sorted(snaps.states) == [1, 2, 8]


@pytest.fixture
def drawn(monkeypatch):
    """Every (rows, title) sweep_boundaries.decision_boundaries is called with (it still draws)."""
    calls = []
    original = sweep_boundaries.decision_boundaries

    def spy(rows, path, title="", row_labels=()):
        calls.append((rows, title))
        return original(rows, path, title=title, row_labels=row_labels)

    monkeypatch.setattr(sweep_boundaries, "decision_boundaries", spy)
    return calls


def test_a_run_draws_the_boundary_at_each_snapshot_with_its_accuracy(tmp_path, drawn):
    cfg = RunConfig(dataset="xor", epochs=1000, print_every=0)
    summary = experiments.run_one(cfg, tmp_path, quiet=True, progress=False)
    path = tmp_path / experiments.BOUNDARY_DURING_TRAINING
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ((row,), title) = drawn[0]
    assert "the decision boundary as it forms" in title
    assert "of its fall" not in title  # 1 000 epochs of XOR's plateau: fixed epochs
    assert [p.title.split("\n")[0] for p in row] == [
        "after 0 epochs", "after 5 epochs", "after 20 epochs", "after 100 epochs",
        "after 200 epochs", "after 1,000 epochs",
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
    u, v, points = sweep_boundaries.boundary_grid(row[-1].x)
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


def test_a_run_keeps_its_weights_every_two_hundredth_of_its_epochs_and_early_on():
    kept = kept_epochs(20000)
    assert kept[:8] == [0, 10, 20, 50, 100, 200, 300, 400] and kept[-2:] == [19900, 20000]
    assert kept[4:] == list(range(100, 20001, 100))
    model = _xor_model()[1]
    assert Snapshots(model, kept).every == 10  # fit calls the hook every 10 epochs
    assert kept_epochs(1000)[:6] == [0, 1, 2, 5, 10, 15] and kept_epochs(3) == [0, 1, 2, 3]
    # a wide model keeps fewer: most=10 -> every 2 000 epochs
    assert kept_epochs(20000, most=10) == [0, 200, 400, 1000, *range(2000, 20001, 2000)]
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match=f"most must be a positive integer, got {bad!r}"):
            kept_epochs(100, most=bad)


def _plateau_then_fall(epochs=5000, start=2005, end=3005):
    """0.25 until ``start``, then straight down to 0 at ``end`` (the lab's XOR, drawn)."""
    e = np.arange(epochs)
    return 0.25 * np.clip((end - e) / (end - start), 0.0, 1.0)


def test_the_shown_epochs_are_where_the_loss_made_10_50_90_and_99_percent_of_its_fall():
    kept = kept_epochs(5000)  # every 20 epochs
    # fallen by 10 % at 2105 (first kept: 2120), 50 % at 2505, 90 % at 2905, 99 % at 2995
    assert pick_epochs(kept, _plateau_then_fall()) == [0, 2120, 2520, 2920, 3000, 5000]
    # the same from the kept states of a Snapshots (the dict's keys)
    snaps = Snapshots(_xor_model()[1], kept)
    snaps.states = {e: {"w": np.full(1, float(e))} for e in kept}
    shown = snaps.shown(list(_plateau_then_fall()))
    assert list(shown) == [0, 2120, 2520, 2920, 3000, 5000] and shown[2520]["w"][0] == 2520
    # levels reached by the same kept epoch show it once; a stop at 3 100: the last is 3 100
    fast = np.where(np.arange(5000) < 10, 0.25, 0.0)
    assert pick_epochs(kept, fast) == [0, 10, 5000]
    assert pick_epochs([e for e in kept if e <= 3000] + [3100], _plateau_then_fall()[:3100]) == [
        0, 2120, 2520, 2920, 3000, 3100
    ]  # fmt: skip


@pytest.mark.parametrize(
    "losses",
    [
        np.linspace(0.25, 0.24, 5000),  # a plateau's drift: 4 % of the first value
        np.linspace(0.25, 0.30, 5000),  # rising
        np.r_[_plateau_then_fall()[:4000], [np.nan] * 1000],  # not finite
    ],
)
def test_a_loss_that_does_not_fall_shows_the_fixed_round_epochs(losses):
    # snapshot_epochs(5000) == [0, 20, 100, 500, 1000, 5000], all kept (every 20)
    assert pick_epochs(kept_epochs(5000), losses) == snapshot_epochs(5000)
    # a kept grid without them: each moved to the nearest kept epoch
    assert pick_epochs([0, 30, 90, 450, 1100, 5000], losses) == [0, 30, 90, 450, 1100, 5000]


def test_the_lab_xor_run_shows_its_boundary_forming_where_its_loss_falls(tmp_path, drawn):
    cfg = RunConfig(dataset="xor", epochs=5000, print_every=0)
    experiments.run_one(cfg, tmp_path, quiet=True, progress=False)
    (((row,), title),) = drawn
    assert title.endswith(
        "\nat the start, where the loss had made 10, 50, 90, 99 % of its fall, and the end"
    )
    epochs = [int(p.title.split()[1].replace(",", "")) for p in row]  # "after 2,300 epochs"
    history = read_csv(tmp_path / "history.csv")
    loss = np.array([float(r["loss"]) for r in history])  # loss[e]: after e updates
    fall = loss[0] - loss.min()
    assert fall > 0.2  # the run gets past its plateau (52.4 % until ~2 000 epochs)
    assert epochs[0] == 0 and epochs[-1] == 5000 and len(epochs) == 6
    kept = kept_epochs(5000)
    for epoch, level in zip(epochs[1:-1], (0.1, 0.5, 0.9, 0.99), strict=True):
        before = kept[kept.index(epoch) - 1]  # the kept epoch before had not got there
        assert loss[epoch] <= loss[0] - level * fall < loss[before]
    assert 2000 < epochs[1] < epochs[-2] < 5000  # all inside the transition, none on the plateau
    for panel, epoch in zip(row[:-1], epochs[:-1], strict=True):
        assert panel.title.split("\n")[1] == f"{100 * float(history[epoch]['accuracy']):.1f} %"


# ---------------------------------------------------------------- from mutation testing


def test_a_step_of_exactly_10_keeps_the_early_epochs_a_tenth_a_fifth_and_half_of_it():
    # 2 000 epochs / 200 = a step of 10: early 1, 2 and 5 (not the 1-2 of smaller steps)
    assert kept_epochs(2000)[:6] == [0, 1, 2, 5, 10, 20]


def test_a_loss_falls_by_more_than_a_tenth_of_its_first_value_by_its_lowest_point():
    from proplab.snapshots import loss_falls

    assert not loss_falls([10.0, 9.0])  # exactly 10 %: not more
    assert loss_falls([10.0, 8.5])
    assert loss_falls([1.0, 0.5, 1.0])  # it fell, even if it came back up
    assert not loss_falls([-1.0, -1.05])  # 5 % of the first value's size
    assert not loss_falls([])
    assert not loss_falls([1.0, 0.5, np.inf])  # not finite: a diverging run


def test_the_levels_are_shares_of_the_fall_to_the_lowest_loss_reached_at_or_below():
    # a fall from 1.0 to 0.5 (not to 0): 10 % of it reached at 0.95, 50 % at 0.75,
    # 90 % at 0.55, 99 % at 0.505; losses[e] is the loss after e updates
    loss = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5]
    assert pick_epochs(range(7), loss) == [0, 1, 3, 5, 6]
    # a level met exactly counts as reached: 50 % of a fall from 1 to 0 is 0.5 at epoch 2
    steps = [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.0, 0.0]
    assert pick_epochs(range(9), steps) == [0, 2, 6, 8]
    # the fall is to the lowest loss, not the last: 1 to 0, then back up to 0.5
    assert pick_epochs(range(5), [1.0, 0.5, 0.0, 0.5]) == [0, 1, 2, 4]
    # in any order
    assert pick_epochs(list(range(9))[::-1], steps) == [0, 2, 6, 8]


def test_a_fall_after_the_last_measured_kept_epoch_picks_no_level():
    # kept 0, 10 and 20 (the final weights; the loss has 20 values, 0..19): the loss
    # falls at epoch 15, between the kept ones, so no kept state shows a level of it
    loss = [1.0] * 15 + [0.0] * 5
    assert pick_epochs([0, 10, 20], loss) == [0, 20]


def test_a_run_stopped_before_its_first_epoch_shows_its_one_state():
    # interrupted at once: only the weights at epoch 0 (the loss has one value)
    assert pick_epochs([0], [0.25]) == [0]


def test_shown_picks_from_the_states_taken_not_the_epochs_wanted():
    # wanted up to 300; training stopped at 15: the last state shown is 15
    snaps = Snapshots(_xor_model()[1], [0, 10, 20, 300])
    for epoch in (0, 10, 15):
        snaps.take(epoch)
    loss = np.linspace(1.0, 0.0, 15)  # losses of epochs 0..14; the weights at 15 are the last
    shown = snaps.shown(loss)
    assert list(shown) == [0, 10, 15]


def test_a_wide_model_keeps_fewer_copies_but_at_least_10(tmp_path, monkeypatch):
    # run_one keeps about 4 000 000 numbers of weights (~32 MB): at most KEPT = 200
    # states, at least 10. The epochs it asks Snapshots for, before any training:
    asked = []

    class Stop(Exception):
        pass

    def spy(model, epochs):
        asked.append(epochs)
        raise Stop

    monkeypatch.setattr(experiments, "Snapshots", spy)

    def kept_for(hidden, epochs):
        cfg = RunConfig(dataset="xor", hidden=hidden, epochs=epochs, print_every=0)
        with pytest.raises(Stop):
            experiments.run_one(cfg, tmp_path / f"run{len(asked)}", quiet=True, progress=False)
        return asked[-1]

    # 2-200-200-1: 600 + 40 200 + 201 = 41 001 numbers: 4e6 // 41 001 = 97 states,
    # one every 1000 / 97 ~ 10 epochs (not every 5 as for 200 states)
    assert kept_for([200, 200], 1000) == [0, 1, 2, 5, *range(10, 1001, 10)]
    # 2-1500-1500-1: 2 257 501 numbers: 4e6 // that = 1, raised to 10: every 2 epochs of 20
    assert kept_for([1500, 1500], 20) == [0, 1, *range(2, 21, 2)]
    # the lab's 2-10-10-1 (151 numbers): capped at 200 states, every 5 epochs of 1 000
    assert kept_for([10, 10], 1000) == kept_epochs(1000) == [0, 1, 2, *range(5, 1001, 5)]


def test_a_panel_after_one_epoch_says_epoch_not_epochs(tmp_path, drawn):
    # mutation testing: the singular, in a 3-epoch run's snapshots 0, 1 and 3
    cfg = RunConfig(dataset="xor", epochs=3, print_every=0)
    experiments.run_one(cfg, tmp_path, quiet=True, progress=False)
    ((row,), _) = drawn[0]
    assert [p.title.split("\n")[0] for p in row] == [
        "after 0 epochs", "after 1 epoch", "after 3 epochs",
    ]  # fmt: skip


# ---------------------------------------------------------------- audit15c M2


def test_a_mini_batch_run_picks_where_the_kept_weights_own_loss_fell(tmp_path, drawn, monkeypatch):
    # history.csv's mini-batch loss is the mean over the epoch's batches while the weights
    # move (0.257 for epoch 1, where the first weights' loss is 0.277). Picked from it, this
    # run's "10 %" panel was epoch 30, where the weights' own loss had made 44 % of its fall
    states = {}
    measure = experiments.gradient_sizes

    def spy(model, loss_fn, x, y, kept, work):  # every kept state, as the run passes them
        states.update(kept)
        return measure(model, loss_fn, x, y, kept, work=work)

    monkeypatch.setattr(experiments, "gradient_sizes", spy)
    cfg = RunConfig(dataset="linear", batch_size=16, epochs=2000, print_every=0)
    experiments.run_one(cfg, tmp_path, quiet=True, progress=False)
    (((row,), title),) = drawn
    assert title.endswith(
        "\nat the start, where the full-batch loss had made 10, 50, 90, 99 % of its fall, and the end"
    )
    shown = [int(p.title.split()[1].replace(",", "")) for p in row]  # "after 2,000 epochs"
    # by hand: each kept state's mean squared error on all 100 training rows
    _, prep = experiments.prepare_run(cfg)
    model = build_model(cfg, 2, 1)
    loss = {}
    for epoch, state in states.items():
        model.load_state_dict(state)
        loss[epoch] = float(np.mean((model.forward(prep.x) - prep.y) ** 2))
    # the candidates are the states whose gradients the run measured (200 of the 204 kept)
    measured = [int(r["epoch"]) for r in read_csv(tmp_path / "gradients.csv")]
    start, fall = loss[0], loss[0] - min(loss[e] for e in measured)
    firsts = [next(e for e in measured if loss[e] <= start - level * fall) for level in LEVELS]
    assert shown == sorted({0, *firsts, 2000}) == [0, 5, 40, 80, 500, 2000]
    # what the history's running mean picked: its "10 %" epoch had made far more of the fall
    history = [float(r["loss"]) for r in read_csv(tmp_path / "history.csv")]
    assert pick_epochs(kept_epochs(2000), history)[1] == 30
    assert (start - loss[30]) / fall > 0.4


@pytest.mark.parametrize("batch_size", [None, 100])
def test_a_full_batch_run_picks_the_epochs_it_picked_from_its_history(tmp_path, drawn, batch_size):
    # a batch of all 100 samples is full batch: its history's loss is the kept weights' own,
    # and it picks as before the mini-batch fix (audit15c recomputed these for linear)
    cfg = RunConfig(dataset="linear", batch_size=batch_size, print_every=0)  # 20 000 epochs
    experiments.run_one(cfg, tmp_path, quiet=True, progress=False)
    (((row,), title),) = drawn
    assert title.endswith(
        "\nat the start, where the loss had made 10, 50, 90, 99 % of its fall, and the end"
    )
    shown = [int(p.title.split()[1].replace(",", "")) for p in row]
    history = [float(r["loss"]) for r in read_csv(tmp_path / "history.csv")]
    assert shown == pick_epochs(kept_epochs(20000), history) == [0, 10, 300, 500, 3600, 20000]


def test_picking_from_the_kept_states_losses_takes_them_in_epoch_order():
    # losses[i] belongs to epochs[i]; the fall is from epoch 0's 1.0 to the lowest, 0.0
    epochs, losses = [20, 0, 10, 30, 40], [0.4, 1.0, 0.95, 0.0, 0.05]
    assert pick_kept_epochs(epochs, losses) == [0, 20, 30, 40]  # 10 %, 50 %: 20; 90, 99 %: 30
    # a plateau's drift: the fixed round epochs (snapshot_epochs(40): 0, 1, 5, 10, 40), nearest kept
    assert pick_kept_epochs(epochs, [1.0, 0.99, 0.98, 0.97, 0.96]) == [0, 10, 40]
    with pytest.raises(ValueError, match="5 epochs but 4 losses: one loss per kept epoch"):
        pick_kept_epochs(epochs, losses[:4])
