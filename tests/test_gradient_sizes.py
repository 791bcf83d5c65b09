"""Each layer's gradient size during training (gradients.csv, gradients.png)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from proplab import experiments, fit, plots
from proplab.cli import main
from proplab.config import RunConfig, build_loss, build_model, build_optimizer
from proplab.experiments import GRADIENTS, GRADIENTS_FIGURE, prepare_run, write_run_figures
from proplab.runio import read_csv
from proplab.snapshots import Snapshots, gradient_sizes, kept_epochs


def _trained(cfg: RunConfig, epochs: int):
    cfg, prep = prepare_run(cfg.replace(epochs=epochs))
    model = build_model(cfg, 2, 1)
    loss_fn = build_loss(cfg)
    snapshots = Snapshots(model, kept_epochs(epochs))
    snapshots.take(0)
    opt = build_optimizer(cfg, model.parameters())
    fit(model, loss_fn, opt, prep.x, prep.y, epochs, callback=snapshots.hook(),
        callback_every=snapshots.every)  # fmt: skip
    snapshots.take(epochs)
    return cfg, prep, model, loss_fn, snapshots


def test_each_size_is_the_mean_absolute_full_batch_gradient_at_that_state() -> None:
    cfg, prep, model, loss_fn, snapshots = _trained(RunConfig(dataset="xor"), 300)
    final = [p.data.copy() for p in model.parameters()]
    sizes = gradient_sizes(model, loss_fn, prep.x, prep.y, snapshots.states)
    assert sizes.epochs == kept_epochs(300) and sizes.sizes.shape == (len(sizes.epochs), 3)
    assert sizes.layers == ["1: Linear 2->10", "2: Linear 10->10", "3: Linear 10->1"]
    # by hand, for one kept state: a fresh model, one forward and backward
    row = sizes.epochs.index(50)
    fresh = build_model(cfg, 2, 1)
    fresh.load_state_dict(snapshots.states[50])
    loss_fn.forward(fresh.forward(prep.x), prep.y)
    fresh.backward(loss_fn.backward())
    weights = [p for name, p in fresh.named_parameters() if name.endswith("weight")]
    expected = [np.mean(np.abs(p.grad)) for p in weights]
    np.testing.assert_array_equal(sizes.sizes[row], expected)
    # the model keeps its final weights, its gradients cleared
    for p, before in zip(model.parameters(), final, strict=True):
        np.testing.assert_array_equal(p.data, before)
        assert not p.grad.any()


@pytest.mark.parametrize(("activation", "low", "high"), [("sigmoid", 20, 80), ("tanh", 0.5, 2)])
def test_the_sigmoid_starts_with_the_first_layers_gradient_vanishing(activation, low, high):
    # measured: the lab's XOR model starts with layer 3's mean |dL/dW| 38x layer 1's for the
    # sigmoid (each sigmoid's derivative is at most 1/4), 1.06x for tanh
    cfg, prep, model, loss_fn, snapshots = _trained(
        RunConfig(dataset="xor", activation=activation), 10
    )
    first = gradient_sizes(model, loss_fn, prep.x, prep.y, snapshots.states).sizes[0]
    assert low < first[2] / first[0] < high


def test_a_run_writes_the_sizes_and_their_figure_and_redraws_it(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["train", "--dataset", "xor", "--epochs", "400", "--out", str(out), "--quiet"]) == 0
    rows = read_csv(out / GRADIENTS)
    # at most a tenth of the training's passes: 40 of the kept states, evenly spaced
    epochs = [int(r["epoch"]) for r in rows]
    assert len(epochs) == 40 and set(epochs) <= set(kept_epochs(400))
    assert epochs[0] == 0 and epochs[-1] == 400
    assert list(rows[0]) == ["epoch", "1: Linear 2->10", "2: Linear 10->10", "3: Linear 10->1"]
    first = [float(v) for k, v in rows[0].items() if k != "epoch"]
    assert first[2] / first[0] > 20  # the same numbers as gradient_sizes gives
    image = imread(out / GRADIENTS_FIGURE)
    assert image.shape[0] > 300 and image.shape[1] > 600
    # a line in viridis' first colour (layer 1) is drawn
    dark = np.all(np.abs(image[..., :3] - (0.267, 0.005, 0.329)) < 0.05, axis=-1)
    assert dark.sum() > 200
    (out / GRADIENTS_FIGURE).unlink()
    write_run_figures(out)
    assert imread(out / GRADIENTS_FIGURE).shape == image.shape


def test_a_conv_model_labels_its_conv_layer_and_a_diverged_run_writes_none(tmp_path) -> None:
    conv = tmp_path / "conv"
    assert main(["train", "--model", "conv", "--epochs", "50", "--out", str(conv), "--quiet"]) == 0
    assert list(read_csv(conv / GRADIENTS)[0])[1:] == [
        "1: Conv1d 1->4 (kernel 2)", "2: Linear 12->10", "3: Linear 10->1",
    ]  # fmt: skip
    diverged = tmp_path / "diverged"
    args = ["train", "--activation", "identity", "--output-activation", "identity"]
    main([*args, "--lr", "100", "--epochs", "200", "--out", str(diverged), "--quiet"])
    assert (diverged / "summary.json").is_file()
    assert not (diverged / GRADIENTS).exists() and not (diverged / GRADIENTS_FIGURE).exists()


def test_many_samples_get_fewer_states_evenly_spaced_first_and_last_kept() -> None:
    # 200 full-batch passes over a million samples would cost as much as the training
    _, prep, model, loss_fn, snapshots = _trained(RunConfig(dataset="xor"), 300)
    n = len(prep.x)
    every = gradient_sizes(model, loss_fn, prep.x, prep.y, snapshots.states)
    fewer = gradient_sizes(model, loss_fn, prep.x, prep.y, snapshots.states, work=5 * n)
    assert len(every.epochs) == len(kept_epochs(300)) > 5
    assert len(fewer.epochs) == 5
    assert fewer.epochs[0] == 0 and fewer.epochs[-1] == 300
    assert np.all(np.diff(fewer.epochs) > 0)
    for epoch, row in zip(fewer.epochs, fewer.sizes, strict=True):  # the same numbers
        np.testing.assert_array_equal(row, every.sizes[every.epochs.index(epoch)])
    two = gradient_sizes(model, loss_fn, prep.x, prep.y, snapshots.states, work=1)
    assert two.epochs == [0, 300]


def _kept_gradient_figures(monkeypatch) -> list:
    """The Figures ``plots.gradient_sizes_figure`` draws from now on, kept to look into."""
    from proplab import plots

    figures = []
    draw = plots.gradient_sizes_figure
    monkeypatch.setattr(
        plots, "gradient_sizes_figure", lambda *a, **k: figures.append(draw(*a, **k))
    )
    return figures


def test_a_mini_batch_runs_epoch_e_is_the_weights_after_e_epochs_and_its_axis_says_so(
    tmp_path, monkeypatch
) -> None:
    # audit15c M1: with 100 rows in batches of 16 an epoch makes 7 updates, so the
    # weights "after that many updates" were not the ones gradients.csv's row holds
    from proplab.serialize import load

    figures = _kept_gradient_figures(monkeypatch)
    cfg = RunConfig(dataset="linear", batch_size=16, epochs=30, print_every=0)
    experiments.run_one(cfg, tmp_path / "run", quiet=True, progress=False)
    rows = {int(r["epoch"]): r for r in read_csv(tmp_path / "run" / GRADIENTS)}
    assert 15 in rows  # 3 of the 31 kept states: 0, 15, 30
    # the same run stopped after 15 epochs: its final weights are row 15's
    experiments.run_one(cfg.replace(epochs=15), tmp_path / "e15", quiet=True, progress=False,
                        figures=False)  # fmt: skip
    cfg, prep = prepare_run(cfg)
    model, loss_fn = load(tmp_path / "e15" / "model.npz"), build_loss(cfg)
    loss_fn.forward(model.forward(prep.x), prep.y)
    model.backward(loss_fn.backward())
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    expected = [float(np.mean(np.abs(p.grad))) for p in weights]
    np.testing.assert_allclose([float(v) for k, v in rows[15].items() if k != "epoch"],
                               expected, rtol=1e-12)  # fmt: skip
    (figure,) = figures
    label = figure.axes[0].get_xlabel()
    assert label.startswith("epoch (the weights after that many epochs;") and "update" not in label


def test_a_run_whose_gradients_die_says_so_and_keeps_its_first_sizes_visible(
    tmp_path, monkeypatch
) -> None:
    # audit15c M4: lr 1000 saturates every sigmoid with the first update (all 21 outputs
    # exactly 1.0), so every later gradient is exactly 0, which a log scale cannot draw:
    # the figure was empty axes, its one nonzero point (epoch 0) drawn without a marker

    figures = _kept_gradient_figures(monkeypatch)
    cfg = RunConfig(dataset="xor", lr=1000.0, epochs=100, print_every=0)
    summary = experiments.run_one(cfg, tmp_path, quiet=True, progress=False)
    assert summary["stop_reason"] == "completed"  # it did not diverge: its loss is 11/21
    rows = read_csv(tmp_path / GRADIENTS)
    sizes = np.array([[float(v) for k, v in r.items() if k != "epoch"] for r in rows])
    assert np.all(sizes[0] > 0) and not sizes[1:].any()
    (figure,) = figures
    ax = figure.axes[0]
    (note,) = [t.get_text() for t in ax.texts]
    assert note.startswith(
        f"every weight gradient is exactly 0 at each kept epoch from {rows[1]['epoch']} on"
    )
    assert "through the units (saturated, or dead ReLUs)" in note
    for line, size in zip(ax.lines, sizes[0], strict=True):  # epoch 0's point, marked
        assert list(line.get_xdata()) == [0.0] and list(line.get_ydata()) == [size]
        assert line.get_marker() == "o"


def test_a_relu_output_dead_from_the_start_gets_a_sigmoid_output_advised_and_no_warning(
    tmp_path, capsys
) -> None:
    """docs25 L6: `proplab train --dataset xor --output-activation relu` printed matplotlib's
    raw "Data has no positive values, and therefore cannot be log-scaled" (every gradient
    was 0 from epoch 0 on: nothing to scale a log axis to) and advised a smaller learning
    rate, which no dead ReLU output recovers from (warnings are errors here)."""
    out = tmp_path / "relu"
    argv = ["train", "--dataset", "xor", "--output-activation", "relu", "--epochs", "50"]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out  # beside the lab's result lines
    rows = read_csv(out / GRADIENTS)
    assert not np.array([[float(v) for k, v in r.items() if k != "epoch"] for r in rows]).any()
    (line,) = [x for x in printed.splitlines() if x.startswith("every weight gradient is exa")]
    assert line.endswith(
        "so the weights stopped changing; a ReLU output is 0 with slope 0 wherever its input "
        "is negative: for 0/1 targets use a sigmoid output (--output-activation sigmoid)"
    )
    # its figure: a log axis with nothing positive on it, and the note saying why
    epochs = np.array([float(r["epoch"]) for r in rows])
    figure = plots.gradient_sizes_figure(
        epochs, np.zeros((len(rows), 3)), ["1: L", "2: L", "3: L"], tmp_path / "g.png"
    )
    assert figure.axes[0].get_ylim() == (1.0, 10.0) and (tmp_path / "g.png").stat().st_size
    (note,) = [t.get_text() for t in figure.axes[0].texts]
    assert note.startswith("every weight gradient is exactly 0 at each kept epoch from 0 on")
    # no zero drawn on the log axis (a short run's were, marked, far under the frame)
    assert [len(line.get_xdata()) for line in figure.axes[0].lines] == [0, 0, 0]


def test_zero_from_is_the_first_epoch_of_the_all_zero_tail() -> None:
    from proplab.snapshots import zero_from

    epochs = np.array([0, 10, 20, 30])
    assert zero_from(epochs, [[1, 2], [0, 1], [0, 0], [0, 0]]) == 20
    assert zero_from(epochs, np.zeros((4, 2))) == 0
    assert zero_from(epochs, [[1, 2], [0, 0], [0, 0], [0, 1]]) is None  # alive at the end
    assert zero_from(epochs, [[1, 2], [0, 0], [0, 0], [0, np.nan]]) is None
    assert zero_from(epochs[:0], np.zeros((0, 2))) is None


def test_a_figure_whose_gradients_live_has_no_note(tmp_path) -> None:
    from proplab.plots import gradient_sizes_figure

    fig = gradient_sizes_figure(
        np.array([0, 10, 20]), np.array([[1e-3, 1e-2], [0.0, 1e-2], [1e-3, 1e-2]]),
        ["1: Linear 2->10", "2: Linear 10->1"], tmp_path / "g.png",
    )  # fmt: skip
    assert not fig.axes[0].texts
