"""The training loop: it learns XOR, records a truthful History, stops cleanly, prints the lab's lines.

The last section holds a test for each pitfall listed in LAB_SPEC.md, except five that
are caught where their code is tested:
- the sigmoid derivative taken at z instead of the output:
  test_activations.py::test_sigmoid_derivative_uses_output_not_input;
- the MSE gradient written as ``y - t`` without the output sigmoid's derivative:
  test_core.py::test_linear_then_sigmoid_by_hand, test_losses.py and every gradcheck;
- one model object reused across both datasets: test_cli.py::test_lab_trains_both_datasets;
- a "Conv1D" that loops in Python (~60x slower than the MLP): test_vectorised.py;
- results that change with an unrecorded seed, through the CLI:
  test_experiments.py::test_run_one_writes_the_run_folder.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import proplab
from proplab import (
    SGD,
    Adam,
    Identity,
    Linear,
    MSELoss,
    ReLU,
    Sigmoid,
    Tanh,
    accuracy,
    evaluate,
    fit,
    gradcheck,
    mlp,
)
from proplab.gradcheck import numeric_gradient
from proplab.train_text import (
    format_epoch_line,
    format_percent,
    format_prediction_lines,
    format_summary_line,
)


def lab_model(seed: int = 0, **kw):
    """The lab's network: 2 -> 10 -> 10 -> 1, sigmoid everywhere."""
    return mlp(2, 10, 1, rng=np.random.default_rng(seed), **kw)


def lab_fit(model, x, y, epochs, lr=1.0, **kw):
    return fit(model, MSELoss(), SGD(model.parameters(), lr=lr), x, y, epochs, **kw)


# --- it learns -----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 4, 7])
def test_lab_network_learns_xor_to_100_percent(xor, seed):
    x, y = xor
    model = lab_model(seed)
    history = lab_fit(model, x, y, epochs=5000)
    loss, acc, pred = evaluate(model, MSELoss(), x, y)
    assert acc == 1.0 and history.final_accuracy == 1.0
    assert loss < 0.05 and history.stop_reason == "completed"
    np.testing.assert_array_equal(pred > 0.5, y == 1)


def test_xor_stalls_with_a_tiny_learning_rate(xor):
    # LAB_SPEC: with lr <= 1e-3 XOR stalls at 52.38 % (11/21)... or below: never near 100 %
    x, y = xor
    history = lab_fit(lab_model(0), x, y, epochs=300, lr=1e-3)
    assert max(history.accuracy) <= 11 / 21
    assert history.loss[-1] > 0.2  # still at the "predict about 0.5" plateau (MSE 0.25)


# --- History -------------------------------------------------------------------------


def test_history_records_every_epoch(xor):
    x, y = xor
    model = lab_model(1)
    initial_loss = MSELoss()(model.forward(x), y)
    history = lab_fit(model, x, y, epochs=40)
    assert history.epochs_run == 40 and history.epoch == list(range(1, 41))
    assert len(history.loss) == len(history.accuracy) == len(history.wall_time) == 40
    assert all(b >= a for a, b in zip(history.wall_time, history.wall_time[1:], strict=False))
    # epoch 1 records the loss of the weights it started from
    assert history.loss[0] == pytest.approx(initial_loss, rel=1e-14)
    assert history.final_loss == history.loss[-1] and history.final_accuracy == history.accuracy[-1]
    arrays = history.as_arrays()
    assert arrays["loss"].shape == arrays["accuracy"].shape == (40,)
    assert arrays["epoch"].dtype == np.int64


def test_history_equals_epoch_by_epoch_training(xor):
    # one fit of 60 epochs == 60 fits of one epoch (same optimizer, so the momentum carries)
    x, y = xor
    a, b = lab_model(2), lab_model(2)
    opt_a = SGD(a.parameters(), lr=0.5, momentum=0.9)
    opt_b = SGD(b.parameters(), lr=0.5, momentum=0.9)
    whole = fit(a, MSELoss(), opt_a, x, y, 60)
    pieces = [fit(b, MSELoss(), opt_b, x, y, 1) for _ in range(60)]
    np.testing.assert_array_equal(whole.loss, [h.loss[0] for h in pieces])
    np.testing.assert_array_equal(whole.accuracy, [h.accuracy[0] for h in pieces])
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(pa.data, pb.data)


def test_recorded_accuracy_is_that_of_the_epoch_start_weights(xor):
    x, y = xor
    model = lab_model(3)
    expected = []
    for _ in range(25):
        expected.append(accuracy(model.forward(x), y))
        lab_fit(model, x, y, epochs=1)
    history = lab_fit(lab_model(3), x, y, epochs=25)
    assert history.accuracy == expected


def test_stack_history_holds_arrays(xor):
    x, y = xor
    stack = mlp(2, 4, 1, seeds=[0, 1, 2])
    history = fit(stack, MSELoss(), SGD(stack.parameters(), lr=1.0), x, y, 5)
    arrays = history.as_arrays()
    assert arrays["loss"].shape == arrays["accuracy"].shape == (5, 3)
    # every epoch's row holds each replica's own number (hollow19: only shapes were checked)
    np.testing.assert_array_equal(arrays["loss"], np.array(history.loss))
    np.testing.assert_array_equal(arrays["accuracy"], np.array(history.accuracy))
    for k in range(3):
        assert arrays["loss"][:, k].tolist() == history.replica(k).loss
    assert len({tuple(column) for column in arrays["loss"].T}) == 3  # three trajectories


# --- stopping ------------------------------------------------------------------------


def test_tol_stops_early_as_converged(xor):
    x, y = xor
    history = lab_fit(lab_model(0), x, y, epochs=1000, tol=0.2495)
    assert history.stop_reason == "converged" and "tol=0.2495" in history.message
    assert history.epochs_run < 1000
    assert history.loss[-1] < 0.2495 <= min(history.loss[:-1])


def test_huge_learning_rate_diverges_with_advice(xor):
    x, y = xor
    model = lab_model(0, activation="relu", output_activation=None)
    history = lab_fit(model, x, y, epochs=500, lr=1e6)
    assert history.stop_reason == "diverged"
    assert "smaller learning rate" in history.message
    assert history.epochs_run < 500 and len(history.loss) == history.epochs_run
    assert not np.isfinite(history.loss[-1]) and np.all(np.isfinite(history.loss[:-1]))
    assert f"epoch {history.epochs_run}" in history.message


def test_the_final_model_is_scored_in_chunks_not_all_the_data_at_once():
    # review18: the last-update check ran one forward pass over 50 000 rows: 872 MB where
    # the mini-batch training of the same run peaked at 3 MB
    class Rows(proplab.Module):
        """Records how many rows each evaluation-mode forward pass gets."""

        def __init__(self) -> None:
            super().__init__()
            self.rows: list[int] = []

        def forward(self, x):
            if not self.training:
                self.rows.append(x.shape[-2])
            return x

        def backward(self, grad_out, need_input_grad=True):
            return grad_out

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10_000, 2)), rng.normal(size=(10_000, 1))
    rows = Rows()
    model = proplab.Sequential(Linear(2, 1, rng=rng), rows)
    opt = SGD(model.parameters(), lr=0.01)
    history = fit(model, MSELoss(), opt, x, y, 1, batch_size=100, rng=rng)
    assert history.stop_reason == "completed"
    assert rows.rows == [1, 4096, 4096, 1808]  # the probe, then the final model in chunks


def test_a_loss_not_finite_before_any_update_does_not_blame_the_learning_rate(xor):
    # diverge18: a model loaded from a diverged run, trained on at lr 0.01, was told to try
    # a smaller learning rate; epoch 1's full-batch loss comes before any update
    x, y = xor
    model = lab_model(0)
    model[0].weight.data[0, 0] = np.nan
    history = lab_fit(model, x, y, epochs=10, lr=0.01)
    assert history.stop_reason == "diverged" and history.epochs_run == 1
    assert history.message == (
        "training diverged at epoch 1: the loss is nan before any update, which no learning "
        "rate causes (weights from a diverged run? inputs so large that the forward pass "
        "overflows?)"
    )


def test_a_stack_that_completed_with_diverged_replicas_says_how_many(xor):
    x, y = xor
    stack = mlp(2, 10, 1, activation="relu", output_activation=None, seeds=[0, 1, 2, 3])
    opt = SGD(stack.parameters(), lr=np.array([0.01, 1e6, 0.01, 1e6]))
    history = fit(stack, MSELoss(), opt, x, y, 100)
    assert history.stop_reason == "completed"
    assert list(history.replica_stop_reason) == ["completed", "diverged"] * 2
    assert history.message == (
        "2 of 4 replicas diverged (replica_stop_reason, replica_stop_epoch); the others "
        "completed or stopped below tol"
    )


def test_a_diverged_epoch_with_nan_predictions_has_no_accuracy(xor):
    # full batch, one output: the accuracies are scored in chunks (_DeferredAccuracy)
    x, y = xor
    model = lab_model(0, activation="identity", output_activation=None)
    history = lab_fit(model, x, y, epochs=200, lr=1e5)
    assert history.stop_reason == "diverged" and np.isnan(history.loss[-1])
    assert np.isnan(history.accuracy[-1]) and np.all(np.isfinite(history.accuracy[:-1]))
    stack = mlp(2, 10, 1, activation="identity", output_activation="identity", seeds=[0, 1])
    stacked = fit(stack, MSELoss(), SGD(stack.parameters(), lr=np.array([0.01, 1e5])), x, y, 200)
    assert list(stacked.replica_stop_reason) == ["completed", "diverged"]
    assert (
        np.isnan(stacked.replica(1).accuracy[-1]) and np.isfinite(stacked.replica(0).accuracy).all()
    )


def test_a_diverged_mini_batch_epoch_has_no_accuracy_and_evaluate_no_warning(xor):
    x, y = xor
    model = lab_model(0, activation="identity", output_activation=None)
    history = lab_fit(model, x, y, epochs=200, lr=50.0, batch_size=7, rng=np.random.default_rng(0))
    assert history.stop_reason == "diverged" and np.isnan(history.accuracy[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow in its forward pass: no RuntimeWarning
        loss, acc, pred = proplab.evaluate(model, MSELoss(), x, y)
    assert not np.isfinite(pred).all() and np.isnan(loss) and np.isnan(acc)
    for p in model.parameters():  # huge but finite weights: the forward pass overflows
        p.data[...] = 1e200  # (NaN weights above raise no overflow warning; review18)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, acc, pred = proplab.evaluate(model, MSELoss(), x, y)
    assert not np.isfinite(loss) and np.isnan(acc)


def test_data_that_is_not_finite_is_refused_before_training(xor):
    """A NaN in the data is no learning-rate problem: named where it is, nothing trained."""
    x, y = xor
    x = x.copy()
    x[3, 1] = np.nan
    model = lab_model(0)
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"x\[3, 1\] is nan: training data must be finite"):
        lab_fit(model, x, y, epochs=100)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters(), strict=True))
    y = y.astype(np.float64)
    y[20, 0] = -np.inf
    with pytest.raises(ValueError, match=r"y\[20, 0\] is -inf"):
        lab_fit(lab_model(0), xor[0], y, epochs=100)


def test_one_diverging_replica_is_recorded_and_does_not_stop_the_others(xor):
    x, y = xor
    stack = mlp(2, 10, 1, activation="relu", output_activation=None, seeds=[0, 1])
    opt = SGD(stack.parameters(), lr=np.array([0.01, 1e6]))
    history = fit(stack, MSELoss(), opt, x, y, 500)
    assert history.stop_reason == "completed" and history.epochs_run == 500
    assert list(history.replica_stop_reason) == ["completed", "diverged"]
    assert 0 < history.replica_stop_epoch[1] < 500 and history.replica_stop_epoch[0] == 0
    assert np.isfinite(history.loss[-1][0])
    alone = history.replica(1)
    assert alone.stop_reason == "diverged" and "smaller learning rate" in alone.message
    assert not np.isfinite(alone.loss[-1]) and np.all(np.isfinite(alone.loss[:-1]))


def test_ctrl_c_from_a_callback_keeps_the_history(xor):
    x, y = xor
    calls = []

    def callback(epoch, history):
        calls.append(epoch)
        if epoch == 30 and calls.count(30) == 1:
            raise KeyboardInterrupt

    model = lab_model(0)
    history = lab_fit(model, x, y, epochs=1000, callback=callback, callback_every=10)
    assert history.stop_reason == "interrupted" and "30 epochs" in history.message
    assert history.epochs_run == 30 and history.epoch == list(range(1, 31))
    assert len(history.loss) == len(history.accuracy) == len(history.wall_time) == 30
    assert calls == [10, 20, 30, 30]  # and once more at the end, with what was kept
    # the model keeps its 30 epochs of training
    assert MSELoss()(model.forward(x), y) < history.loss[0]


# --- mini-batches --------------------------------------------------------------------


def test_an_epochs_batches_cover_each_sample_once_in_a_fresh_order():
    """fit's batches (train._batches): index arrays of at most batch_size covering every
    sample once, drawn afresh each epoch from the one generator."""
    from proplab.train import _batches

    rng = np.random.default_rng(0)
    first = _batches(10, 4, True, rng)
    assert [len(b) for b in first] == [4, 4, 2]
    seen = np.concatenate(first).tolist()
    assert sorted(seen) == list(range(10)) and seen != list(range(10))
    again = np.concatenate(_batches(10, 4, True, rng)).tolist()
    assert sorted(again) == list(range(10)) and again != seen  # the next epoch's order
    ordered = [b.tolist() for b in _batches(10, 4, False, None)]
    assert ordered == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    # the whole data in one batch is a slice (a view, no gather), shuffled or not
    assert _batches(10, None, True, rng) == _batches(10, 10, True, rng) == [slice(None)]


def test_a_stacks_mini_batches_cut_every_replica_along_the_same_samples(xor):
    """x (R, n, in) is cut along axis -2: each replica trains as it would alone on its own
    data with the same shuffle order."""
    x, y = xor
    xs = np.stack([x, 1.0 - x])  # two replicas, two datasets
    stack = mlp(2, 4, 1, seeds=[0, 1])
    fit(stack, MSELoss(), SGD(stack.parameters(), lr=1.0), xs, np.stack([y, y]), 3,
        batch_size=5, rng=np.random.default_rng(7))  # fmt: skip
    for k in range(2):
        alone = mlp(2, 4, 1, rng=np.random.default_rng(k))
        fit(alone, MSELoss(), SGD(alone.parameters(), lr=1.0), xs[k], y, 3,
            batch_size=5, rng=np.random.default_rng(7))  # fmt: skip
        for name, value in alone.state_dict().items():
            np.testing.assert_allclose(stack.state_dict()[name][k], value, rtol=1e-12, atol=0)


def test_minibatches_are_reproducible_with_the_same_seed(xor):
    x, y = xor
    runs = []
    for seed in (5, 5, 6):
        model = lab_model(0)
        h = lab_fit(model, x, y, epochs=20, batch_size=4, rng=np.random.default_rng(seed))
        runs.append((h.loss, model.state_dict()))
    assert runs[0][0] == runs[1][0]
    for name, value in runs[0][1].items():
        np.testing.assert_array_equal(value, runs[1][1][name])
    assert runs[0][0] != runs[2][0]  # another seed, another order


def test_minibatch_epoch_by_hand(xor):
    # shuffle=False: batches 0..6, 7..13, 14..20, each one forward/backward/step;
    # the recorded loss is the sample-weighted mean of the batch losses
    x, y = xor
    model, manual = lab_model(0), lab_model(0)
    history = lab_fit(model, x, y, epochs=3, batch_size=7, shuffle=False)
    opt, loss_fn = SGD(manual.parameters(), lr=1.0), MSELoss()
    for epoch in range(3):
        batch_losses = []
        for start in (0, 7, 14):
            opt.zero_grad()
            batch_losses.append(loss_fn(manual.forward(x[start : start + 7]), y[start : start + 7]))
            manual.backward(loss_fn.backward())
            opt.step()
        assert history.loss[epoch] == pytest.approx(np.mean(batch_losses), rel=1e-14)
    for pa, pb in zip(model.parameters(), manual.parameters(), strict=True):
        np.testing.assert_allclose(pa.data, pb.data, rtol=1e-14)


def test_batch_as_large_as_the_data_is_full_batch(xor):
    x, y = xor
    a, b = lab_model(0), lab_model(0)
    ha = lab_fit(a, x, y, epochs=10)
    hb = lab_fit(b, x, y, epochs=10, batch_size=21, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(ha.loss, hb.loss)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs must be a positive integer, got 0"),
        ({"epochs": 2.5}, "got 2.5"),
        ({"epochs": 5, "batch_size": 0}, "batch_size must be a positive integer or None, got 0"),
        ({"epochs": 5, "batch_size": 4}, "needs rng=np.random.default_rng"),
    ],
)
def test_fit_validates_its_arguments(xor, kwargs, message):
    x, y = xor
    model = lab_model(0)
    with pytest.raises(ValueError, match=message):
        fit(model, MSELoss(), SGD(model.parameters()), x, y, **kwargs)


def test_fit_rejects_mismatched_samples(xor):
    x, y = xor
    model = lab_model(0)
    with pytest.raises(ValueError, match="x has 21 samples but y has 20"):
        fit(model, MSELoss(), SGD(model.parameters()), x, y[:20], 5)


# --- what a run prints ---------------------------------------------------------------


def test_lab_line_formats():
    assert format_epoch_line(5000, 0.0123456789) == "epoch 5000 loss : 0.0123456789"
    lines = format_prediction_lines(
        np.array([[0.0000236192], [0.9999763808]]), np.array([[0], [1]])
    )
    assert lines == [
        "Iter: 0 | Ground truth: 0 | Predict: 0.0000236192",
        "Iter: 1 | Ground truth: 1 | Predict: 0.9999763808",
    ]
    # a ReLU output's -0.0 is printed as the 0 it is
    assert format_prediction_lines(np.array([[-0.0]]), np.array([[0]])) == [
        "Iter: 0 | Ground truth: 0 | Predict: 0.0000000000"
    ]
    assert format_summary_line(0.0000019285, 0.99) == "loss=0.0000019285 accuracy=99.0%"
    assert format_summary_line(0.25, 11 / 21) == "loss=0.2500000000 accuracy=52.38%"


def test_a_csv_s_class_names_are_the_truth_printed():
    # csv18: "Ground truth: 0" for a row whose file cell is "no"
    from proplab.dataload import result_lines

    pred, y = np.array([[0.2], [0.9]]), np.array([[0], [1]])
    assert format_prediction_lines(pred, y, ["no", "yes"]) == [
        "Iter: 0 | Ground truth: no | Predict: 0.2000000000",
        "Iter: 1 | Ground truth: yes | Predict: 0.9000000000",
    ]
    lines = result_lines(pred, y, 0.1, 1.0, None, class_names=[1, 2])
    assert lines[:2] == [
        "(Predict: the probability of 2; 1 below 0.5)",
        "Iter: 0 | Ground truth: 1 | Predict: 0.2000000000",
    ]
    assert result_lines(pred, y, 0.1, 1.0, None)[0].startswith("Iter: 0 | Ground truth: 0 |")


def test_huge_numbers_are_printed_in_exponent_form_not_in_190_digits():
    # diverge18: a loss on its way to divergence printed every digit of 1.46e192
    assert format_epoch_line(100, 1.4639439054e192) == "epoch 100 loss : 1.4639439054e+192"
    assert format_epoch_line(1, 999999.5) == "epoch 1 loss : 999999.5000000000"
    assert format_epoch_line(1, 1e6) == "epoch 1 loss : 1.0000000000e+06"
    assert format_epoch_line(4, float("inf")) == "epoch 4 loss : inf"
    assert format_prediction_lines(np.array([[-1.9568398945e9]]), np.array([[1]])) == [
        "Iter: 0 | Ground truth: 1 | Predict: -1.9568398945e+09"
    ]
    assert format_prediction_lines(np.array([[0.5]]), np.array([[0.25]])) == [
        "Iter: 0 | Ground truth: 0.2500000000 | Predict: 0.5000000000"
    ]
    assert format_summary_line(3.8292e306, 11 / 21) == "loss=3.8292000000e+306 accuracy=52.38%"
    assert format_summary_line(6.6e158, 0.5, r2=-1.0) == "loss=6.6000000000e+158 r2=-1.0000"


def test_prediction_line_numbering_matches_the_handout():
    pred = np.full((8, 1), 0.5)
    pred[7, 0] = 0.9999763808
    lines = format_prediction_lines(pred, np.ones((8, 1), dtype=np.int64))
    assert len(lines) == 8 and lines[0].startswith("Iter: 0 |")
    assert lines[7] == "Iter: 7 | Ground truth: 1 | Predict: 0.9999763808"


@pytest.mark.parametrize(
    ("fraction", "text"),
    [
        (1.0, "100.0"),
        (0.99, "99.0"),
        (11 / 21, "52.38"),
        (1 / 3, "33.33"),
        (0.5, "50.0"),
        (0.905, "90.5"),
    ],
)
def test_format_percent(fraction, text):
    assert format_percent(fraction) == text


def test_print_every_logs_the_lab_line(xor):
    x, y = xor
    lines: list[str] = []
    history = lab_fit(lab_model(0), x, y, epochs=12, print_every=5, log=lines.append)
    # every 5 epochs, and the last (verify23 L3: --epochs 19999 printed no line at 19999)
    assert lines == [format_epoch_line(e, history.loss[e - 1]) for e in (5, 10, 12)]
    assert lines[0].startswith("epoch 5 loss : 0.")


# --- accuracy and evaluate -----------------------------------------------------------


def test_accuracy_by_hand():
    # thresholded at 0.5 (0.5 itself is class 0): predictions 0, 1, 0 vs labels 0, 1, 1 -> 2/3
    pred = np.array([[0.2], [0.7], [0.5]])
    assert accuracy(pred, np.array([[0], [1], [1]])) == pytest.approx(2 / 3)
    stack = np.stack([pred, 1 - pred])  # (2, 3, 1): second replica predicts 1, 0, 1 (0.5 -> 0)
    np.testing.assert_allclose(accuracy(stack, np.array([[0], [1], [1]])), [2 / 3, 0.0])
    # several columns: argmax against integer labels or one-hot rows
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert accuracy(logits, np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert accuracy(logits, np.array([[0, 1], [1, 0], [0, 1]])) == 1.0


def test_evaluate_does_not_train(xor):
    x, y = xor
    model = lab_model(0)
    before = model.state_dict()
    loss, acc, pred = evaluate(model, MSELoss(), x, y)
    assert loss == pytest.approx(np.mean((pred - y) ** 2), rel=1e-14)
    assert acc == accuracy(pred, y)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


# --- the lab's pitfalls (LAB_SPEC.md), one test each ---------------------------------


def test_pitfall_every_gradient_is_computed_before_any_update(xor):
    # The seed's layers updated their weights inside backward, so lower layers got
    # gradients through the *new* weights. Here backward changes no weight, and one
    # epoch moves every parameter by exactly -lr * (gradient at the old weights),
    # the gradient taken by finite differences of the loss, independent of backward.
    x, y = xor
    model = lab_model(0)
    before = model.state_dict()
    loss_fn = MSELoss()
    loss_fn(model.forward(x), y)
    model.backward(loss_fn.backward())
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name], err_msg=name)

    numeric = {
        name: numeric_gradient(lambda: MSELoss()(model.forward(x), y), p.data)
        for name, p in model.named_parameters()
    }
    lab_fit(model, x, y, epochs=1, lr=0.5)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.data, before[name] - 0.5 * numeric[name], rtol=0, atol=1e-9)


def test_pitfall_the_learning_rate_reaches_the_update(xor):
    # plain SGD: the first step is proportional to lr, for every parameter
    x, y = xor
    steps = {}
    for lr in (0.1, 0.3):
        model = lab_model(0)
        start = model.state_dict()
        lab_fit(model, x, y, epochs=1, lr=lr)
        steps[lr] = {n: p.data - start[n] for n, p in model.named_parameters()}
    for name in steps[0.1]:
        assert np.any(steps[0.1][name] != 0), name
        np.testing.assert_allclose(steps[0.3][name], 3 * steps[0.1][name], rtol=1e-9, atol=1e-15)
    # and over a run, two learning rates give two different curves
    slow = lab_fit(lab_model(0), x, y, epochs=200, lr=0.1)
    fast = lab_fit(lab_model(0), x, y, epochs=200, lr=1.0)
    assert fast.loss[-1] < slow.loss[-1] and fast.loss[1:] != slow.loss[1:]


@pytest.mark.parametrize(
    ("name", "cls"), [("tanh", Tanh), ("relu", ReLU), ("identity", Identity), ("sigmoid", Sigmoid)]
)
def test_pitfall_the_activation_applies_to_every_hidden_layer(name, cls):
    model = mlp(2, (4, 4, 4), 1, activation=name, rng=np.random.default_rng(0))
    kinds = [type(layer) for layer in model.layers]
    assert kinds == [Linear, cls, Linear, cls, Linear, cls, Linear, Sigmoid]


def test_pitfall_a_relu_run_keeps_its_sigmoid_output_and_learns(xor):
    # `proplab train --activation relu` (a RunConfig): ReLU in the hidden layers only. A
    # ReLU on the output "dies" (every prediction 0: 52 % on XOR, a third in the handout)
    from proplab.config import RunConfig, build_model

    model = build_model(RunConfig(activation="relu", seed=0).validate(), 2, 1)
    kinds = [type(layer) for layer in model.layers]
    assert kinds == [Linear, ReLU, Linear, ReLU, Linear, Sigmoid]
    x, y = xor
    history = lab_fit(model, x, y, epochs=3000, lr=0.5)
    assert history.final_accuracy == 1.0


def test_pitfall_no_activation_means_an_affine_network(rng):
    # the lab's "without activation" run: every hidden layer really is linear, so
    # f(a x1 + (1 - a) x2) = a f(x1) + (1 - a) f(x2)
    model = mlp(2, (5, 5), 1, activation="identity", output_activation=None, rng=rng)
    x1, x2 = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    mixed = model.forward(0.3 * x1 + 0.7 * x2)
    np.testing.assert_allclose(mixed, 0.3 * model.forward(x1) + 0.7 * model.forward(x2), rtol=1e-12)


def test_pitfall_the_recorded_loss_is_the_mean_and_the_gradient_is_its_gradient(xor):
    x, y = xor
    model = lab_model(0)
    pred = model.forward(x)
    mean = float(np.sum((pred - y) ** 2) / 21)
    lines: list[str] = []
    history = lab_fit(model, x, y, epochs=1, print_every=1, log=lines.append)
    assert history.loss[0] == pytest.approx(mean, rel=1e-14)
    assert lines == [format_epoch_line(1, mean)]
    # the gradient MSELoss hands to backward is the mean's: 2 (p - t) / n, confirmed numerically
    loss = MSELoss()
    loss(pred, y)
    np.testing.assert_allclose(loss.backward(), 2 * (pred - y) / 21, rtol=1e-15)
    assert gradcheck(MSELoss(), pred, y).worst < 1e-8


def test_pitfall_weights_are_not_zero_initialised(xor):
    # zero weights make every hidden unit identical forever; the default init does not
    x, _ = xor
    model = lab_model(0)
    w1 = model[0].weight.data
    assert len({tuple(col) for col in w1.T}) == w1.shape[1]  # 10 distinct hidden units
    hidden = model[1].forward(model[0].forward(x))  # (21, 10) first-layer activations
    gap = np.abs(hidden[:, :, None] - hidden[:, None, :]).max(axis=0)  # (10, 10) unit pairs
    assert np.min(gap + np.eye(10)) > 1e-3  # every pair of distinct units responds differently


def test_pitfall_zero_init_would_be_caught(xor):
    # the symmetric network the pitfall produces: all hidden units stay equal under training
    x, y = xor
    model = lab_model(0)
    for p in model.parameters():
        p.data[...] = 0.0
    lab_fit(model, x, y, epochs=50)
    w1 = model[0].weight.data
    # equal to a few ulps, not bit for bit: OpenBLAS computes a (21, 10) product's last
    # columns in a narrower kernel on some CPUs (AVX-512: columns 8-9 differ by 1 ulp),
    # while a distinct unit differs by far more (>1e-3, the test above)
    np.testing.assert_allclose(w1, np.repeat(w1[:, :1], 10, axis=1), rtol=1e-14, atol=0)


def test_pitfall_bias_gradient_has_the_bias_shape(rng):
    layer = Linear(3, 4, rng=rng)
    grad_out = rng.standard_normal((6, 4))
    layer.forward(rng.standard_normal((6, 3)))
    layer.backward(grad_out)
    assert layer.bias.grad.shape == (4,)
    np.testing.assert_allclose(layer.bias.grad, grad_out.sum(axis=0), rtol=1e-14)  # per unit
    stack = Linear(3, 4, rng=rng, replicas=(2,))
    stack.forward(rng.standard_normal((6, 3)))
    stack.backward(np.stack([grad_out, 2 * grad_out]))
    assert stack.bias.grad.shape == (2, 4)
    np.testing.assert_allclose(stack.bias.grad, [grad_out.sum(0), 2 * grad_out.sum(0)], rtol=1e-14)


def test_pitfall_results_depend_only_on_the_recorded_seed(xor):
    x, y = xor
    a = lab_fit(lab_model(9), x, y, epochs=30)
    b = lab_fit(lab_model(9), x, y, epochs=30)
    c = lab_fit(lab_model(10), x, y, epochs=30)
    assert a.loss == b.loss and a.loss != c.loss


def test_other_optimizers_train_the_lab_network(xor):
    x, y = xor
    model = lab_model(0)
    history = fit(model, MSELoss(), Adam(model.parameters(), lr=0.05), x, y, 600)
    assert history.final_accuracy == 1.0 and history.final_loss < 0.05


def test_deferred_accuracy_memory_stays_bounded_for_a_stack_with_shared_targets(monkeypatch, xor):
    # every replica predicts all 21 points: a pending prediction is K times the size of y
    from proplab import train

    held = []

    class Spy(train._DeferredAccuracy):
        def add(self, pred):
            super().add(pred)
            held.append(len(self.pending) * pred.nbytes)

    monkeypatch.setattr(train, "_DeferredAccuracy", Spy)
    x, y = xor
    model = mlp(2, 10, 1, seeds=range(200))
    history = fit(model, MSELoss(), SGD(model.parameters(), lr=1.0), x, y, 300)
    assert len(history.accuracy) == 300
    assert 0 < max(held) <= 8_000_000  # ~8 MB per chunk, as documented (was 10 MB here)


def test_accuracy_refuses_labels_that_would_broadcast(xor):
    x, y = xor
    pred = lab_model(0).forward(x)
    assert accuracy(pred, y) == pytest.approx(np.mean((pred > 0.5) == (y > 0.5)))
    with pytest.raises(ValueError, match=r"accuracy: target shape \(21,\) does not fit"):
        accuracy(pred, y.ravel())  # was 10.0: a 21 x 21 table of hits over 21 samples
    # flattened predictions (the student's .ravel()) were an IndexError from inside scoring
    for flat_y in (y, y.ravel()):
        with pytest.raises(ValueError, match=r"accuracy: predictions must be \(n, out\).*got "
                           r"shape \(21,\); .*\.reshape\(-1, 1\) gives the column back"):  # fmt: skip
            accuracy(pred.ravel(), flat_y)
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        accuracy(np.float64(0.7), 1.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"y": "ravel"}, r"y must be \(n, columns\).*got shape \(21,\); one column is y.reshape"),
        ({"x": "ravel"}, r"x must be \(n, columns\)"),
        ({"x": "empty"}, r"x has no samples \(shape \(0, 2\)\)"),
        ({"callback_every": 0}, r"callback_every must be a positive integer, got 0"),
        ({"print_every": -1}, r"print_every must be an integer >= 0 \(0: never\), got -1"),
        ({"tol": -1.0}, r"tol must be a finite number >= 0 or None, got -1.0"),
        ({"tol": float("nan")}, r"tol must be a finite number >= 0 or None, got nan"),
        ({"tol": True}, r"tol must be a finite number >= 0 or None, got True"),
    ],
)
def test_fit_names_bad_arguments_before_training(xor, change, message):
    x, y = xor
    kwargs = {}
    if change.get("y") == "ravel":
        y = y.ravel()
    if change.get("x") == "ravel":
        x = x.ravel()
    if change.get("x") == "empty":
        x, y = x[:0], y[:0]
    kwargs.update({k: v for k, v in change.items() if k not in ("x", "y")})
    model = lab_model(0)
    opt = SGD(model.parameters(), lr=1.0)
    with pytest.raises(ValueError, match=message):
        fit(model, MSELoss(), opt, x, y, 10, **kwargs)


@pytest.mark.parametrize(
    ("hooks", "message"),
    [
        (
            {"callback": "progress"},
            r"^fit callback must be a function callback\(epoch, history\) or None, got 'progress'$",
        ),
        (
            {"callback": lambda epoch: None},
            r"^fit callback must be a function callback\(epoch, history\) or None; "
            r"<lambda>\(epoch\) cannot be called so \(too many positional arguments\)$",
        ),
        (
            {"print_every": 10, "log": "stdout"},
            r"^fit log must be a function taking one line of text, such as print, got 'stdout'$",
        ),
        ({"print_every": 10, "log": None}, r"^fit log must be .* got None$"),
        ({"print_every": 10, "log": lambda: None}, r"^fit log must be .*<lambda>\(\) cannot"),
    ],
)
def test_fit_refuses_a_callback_or_log_it_cannot_call_before_training(xor, hooks, message):
    """They failed at their first call (epoch 10, or after the last epoch): the model had
    trained and the History was lost (api21 H2). Now nothing changes."""
    x, y = xor
    model = lab_model(0)
    opt = SGD(model.parameters(), lr=1.0)
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(TypeError, match=message):
        fit(model, MSELoss(), opt, x, y, 50, **hooks)
    assert opt.steps == 0
    for p, b in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, b)


def test_fit_takes_callbacks_with_defaults_or_star_args_and_an_unused_log(xor):
    x, y = xor
    model = lab_model(0)
    assert fit(model, MSELoss(), SGD(model.parameters()), x, y, 2, log=None).epochs_run == 2
    seen: list = []
    history = fit(
        model, MSELoss(), SGD(model.parameters()), x, y, 2,
        callback=lambda *args, extra=1: seen.append(args[0]), print_every=1, log=seen.append,
    )  # fmt: skip
    assert history.epochs_run == 2
    assert [type(s) for s in seen] == [str, str, int] and seen[2] == 2, seen
    assert seen[0].startswith("epoch 1 ") and seen[1].startswith("epoch 2 "), seen


# --- mutation-testing gaps: exact thresholds and partial epochs ------------------------


def test_recorded_accuracy_thresholds_an_output_of_exactly_one_half_as_accuracy_does(xor):
    """fit scores its epochs in chunks (_DeferredAccuracy): an output of exactly 0.5
    must count as class 0 there too, as accuracy() says (pred > 0.5)."""
    x, y = xor
    model = mlp(2, 4, 1, rng=np.random.default_rng(0))
    for p in model.parameters():
        p.data[...] = 0.0  # every output is sigmoid(0) = 0.5 exactly
    assert accuracy(model.forward(x), y) == 11 / 21  # the 11 points of label 0
    history = lab_fit(model, x, y, epochs=3)
    assert history.accuracy[0] == 11 / 21


def test_tol_stops_only_once_the_loss_is_strictly_below_it(xor):
    x, y = xor
    losses = lab_fit(lab_model(0), x, y, epochs=30).loss
    assert all(b < a for a, b in zip(losses[:12], losses[1:12], strict=False))  # decreasing
    tol = losses[9]  # epoch 10's loss exactly: not below tol, epoch 11's is
    history = lab_fit(lab_model(0), x, y, epochs=30, tol=tol)
    assert history.stop_reason == "converged" and history.epochs_run == 11
    assert history.loss == losses[:11] and history.loss[-1] < tol == history.loss[-2]


def test_ctrl_c_in_the_middle_of_an_epoch_keeps_only_complete_records(xor, monkeypatch):
    """Ctrl-C after epoch 4's loss was recorded but before its clock reading: the
    history keeps epochs 1-3, every column of the same length."""
    from types import SimpleNamespace

    from proplab import train

    calls = []

    def clock():
        calls.append(1)
        if len(calls) == 5:  # the start, then epochs 1, 2, 3; epoch 4's reading is cut
            raise KeyboardInterrupt
        return float(len(calls))

    monkeypatch.setattr(train, "time", SimpleNamespace(perf_counter=clock))
    x, y = xor
    history = lab_fit(lab_model(0), x, y, epochs=10)
    full = lab_fit(lab_model(0), x, y, epochs=3)
    assert history.stop_reason == "interrupted"
    assert history.epoch == [1, 2, 3] and history.wall_time == [1.0, 2.0, 3.0]
    assert history.loss == full.loss and history.accuracy == full.accuracy


# --- a student's slips: data typed as lists, an optimizer of another model ------------


def test_data_typed_as_lists_trains_as_the_same_arrays_do(xor):
    x, y = xor
    as_arrays = lab_fit(lab_model(0), x, y, 50)
    as_lists = lab_fit(lab_model(0), x.tolist(), y.tolist(), 50)  # was AttributeError: dtype
    assert as_lists.loss == as_arrays.loss and as_lists.accuracy == as_arrays.accuracy


def test_data_that_is_not_numbers_is_refused_with_its_dtype(xor):
    x, y = xor
    with pytest.raises(TypeError, match=r"x must hold numbers, got an array of dtype <U1"):
        lab_fit(lab_model(0), [["a", "b"]] * 21, y, 5)
    with pytest.raises(TypeError, match=r"y must hold numbers, got an array of dtype object"):
        lab_fit(lab_model(0), x, np.array([[None]] * 21), 5)


def test_an_optimizer_of_another_models_parameters_is_refused_and_a_subset_trains(xor):
    x, y = xor
    model, other = lab_model(0), lab_model(0)
    before = model.state_dict()
    # the model built again after its optimizer: training would move `other` only
    with pytest.raises(ValueError, match=r"the optimizer updates 6 of its 6 parameters that"):
        fit(model, MSELoss(), SGD(other.parameters(), lr=1.0), x, y, 5)
    mixed = model.parameters()[:2] + other.parameters()[2:3]
    with pytest.raises(ValueError, match=r"updates 1 of its 3 parameters that are not"):
        fit(model, MSELoss(), SGD(mixed, lr=1.0), x, y, 5)
    after = model.state_dict()
    assert all(np.array_equal(after[k], before[k]) for k in before)  # refused before training
    # a subset of the model's own parameters is fine: the first layer stays frozen
    frozen_first = SGD(model.parameters()[2:], lr=1.0)
    fit(model, MSELoss(), frozen_first, x, y, 5)
    after = model.state_dict()
    assert np.array_equal(after["0.weight"], before["0.weight"])
    assert not np.array_equal(after["2.weight"], before["2.weight"])
    # checked again for another model (the check remembers only the last pair it passed)
    with pytest.raises(ValueError, match=r"updates 4 of its 4 parameters that are not"):
        fit(other, MSELoss(), frozen_first, x, y, 5)
    fit(model, MSELoss(), frozen_first, x, y, 5)


def test_evaluate_and_accuracy_take_lists_as_fit_does(xor):
    x, y = xor
    model = lab_model(0)
    loss, acc, pred = evaluate(model, MSELoss(), x.tolist(), y.tolist())
    assert (loss, acc) == evaluate(model, MSELoss(), x, y)[:2]
    assert accuracy(pred.tolist(), y.tolist()) == accuracy(pred, y) == acc
    three = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    assert accuracy(three.tolist(), [[1], [2]]) == 0.5  # argmax 1 right, argmax 0 wrong


def test_a_history_prints_as_one_line_not_every_epoch():
    from proplab.callbacks import TrainHistory
    from proplab.history import History

    one = History(epoch=[1, 2, 3], loss=[0.3, 0.2, 0.1], accuracy=[0.5, 0.5, 1.0])
    assert repr(one) == "History(3 epochs, completed: loss 0.3 -> 0.1, accuracy 50.0% -> 100.0%)"
    stack = History(
        epoch=[1, 2],
        loss=[np.array([0.3, 0.4]), np.array([0.1, 0.2])],
        accuracy=[np.array([0.5, 0.5]), np.array([1.0, 0.5])],
        stop_reason="converged",
    )
    assert repr(stack) == (
        "History(2 epochs of a stack of 2, converged: loss 0.3 to 0.4 -> 0.1 to 0.2, "
        "accuracy 50.0% -> 50.0 to 100.0%)"
    )
    assert repr(History()) == "History(0 epochs, completed)"
    long = History(epoch=list(range(1, 20001)), loss=[0.25] * 20000, accuracy=[0.5] * 20000)
    assert (
        repr(long) == "History(20000 epochs, completed: loss 0.25 -> 0.25, accuracy 50.0% -> 50.0%)"
    )
    assert repr(TrainHistory(epoch=[1], loss=[0.5], accuracy=[0.0])).startswith(
        "TrainHistory(1 epoch, completed: loss 0.5 -> 0.5"
    )


class _BufferSigmoid(proplab.Module):
    """A hand-written sigmoid that returns one output buffer, overwritten every forward."""

    def __init__(self, view: bool = False) -> None:
        super().__init__()
        self.buf: np.ndarray | None = None
        self.view = view

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.buf is None or self.buf.shape != x.shape:
            self.buf = np.empty_like(x)
        np.negative(x, out=self.buf)
        np.exp(self.buf, out=self.buf)
        self.buf += 1.0
        np.reciprocal(self.buf, out=self.buf)
        return self.buf[:] if self.view else self.buf

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        return grad_out * self.buf * (1.0 - self.buf)


@pytest.mark.parametrize("view", [False, True])
def test_a_forward_returning_a_reused_buffer_gets_each_epochs_accuracy(view) -> None:
    # fit scores the kept predictions in chunks; a reused buffer once scored every epoch
    # as the last (0.857 from epoch 1 on XOR instead of 0.524)
    x, y = proplab.generate_xor_easy()
    histories = []
    for output in (proplab.Sigmoid(), _BufferSigmoid(view)):
        rng = np.random.default_rng(0)
        model = proplab.Sequential(
            proplab.Linear(2, 10, rng=rng),
            proplab.Sigmoid(),
            proplab.Linear(10, 10, rng=rng),
            proplab.Sigmoid(),
            proplab.Linear(10, 1, rng=rng),
            output,
        )
        opt = proplab.SGD(model.parameters(), lr=1.0)
        histories.append(proplab.fit(model, proplab.MSELoss(), opt, x, y, epochs=3000))
    fresh, reused = histories
    assert fresh.accuracy[0] == pytest.approx(11 / 21) and fresh.accuracy[-1] > 0.8
    assert reused.accuracy == fresh.accuracy
    np.testing.assert_allclose(reused.loss, fresh.loss, rtol=1e-12)  # the sigmoid rounds apart


def test_a_loss_backward_without_return_is_named_whatever_the_model() -> None:
    # one Linear (logistic regression) raised "'NoneType' object has no attribute 'ndim'"
    class _ForgetfulMSE(MSELoss):
        def backward(self):
            super().backward()

    x, y = np.ones((4, 2)), np.zeros((4, 1))
    model = Linear(2, 1, rng=np.random.default_rng(0))
    with pytest.raises(TypeError) as err:
        fit(model, _ForgetfulMSE(), SGD(model.parameters(), lr=0.1), x, y, epochs=2)
    assert str(err.value) == (
        "_ForgetfulMSE.backward returned None (did you forget `return`?): a loss's backward "
        "must return dL/dpred, a NumPy array of pred's shape"
    )

    # a user's callback failing with an AttributeError is raised as it is
    def callback(epoch, history):
        raise AttributeError("my callback")

    with pytest.raises(AttributeError, match="my callback"):
        fit(
            model,
            MSELoss(),
            SGD(model.parameters(), lr=0.1),
            x,
            y,
            2,
            callback=callback,
            callback_every=1,
        )


def test_a_float32_model_trains_and_scores_in_float32_on_float64_data(xor):
    # NumPy's float64 data made every activation and gradient of a float32 model float64
    x, y = xor[0], xor[1].astype(np.float64)
    seen = set()

    class Spy(proplab.Module):
        def forward(self, a):
            seen.add(a.dtype)
            return a

        def backward(self, g, need_input_grad=True):
            seen.add(g.dtype)
            return g

    def run(xs, ys):
        model = mlp(2, 10, 1, rng=np.random.default_rng(0), dtype=np.float32)
        model.layers.insert(2, Spy())
        history = fit(model, MSELoss(), SGD(model.parameters(), lr=1.0), xs, ys, 50)
        return model, history

    model, history = run(x, y)  # float64
    assert x.dtype == y.dtype == np.float64 and seen == {np.dtype(np.float32)}
    twin, twin_history = run(x.astype(np.float32), y.astype(np.float32))
    assert history.loss == twin_history.loss
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    loss, acc, pred = proplab.evaluate(model, MSELoss(), x, y)
    assert pred.dtype == np.float32 and seen == {np.dtype(np.float32)}
    assert (loss, acc) == proplab.evaluate(twin, MSELoss(), x.astype(np.float32), y)[:2]


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_a_float32_model_on_integer_labels_computes_in_float32(loss) -> None:
    """XOR's labels are int64: MSE's and BCE's gradient came out float64, and every layer's
    backward with it (numerics17). They now take the labels in the model's dtype; a float64
    model's run is unchanged bit for bit."""
    x, labels = proplab.data.generate_xor_easy()
    assert labels.dtype.kind == "i"
    loss_fn = {"mse": proplab.MSELoss, "bce": proplab.BCELoss}[loss]
    seen = []
    for dtype in (np.float32, np.float64):
        runs = []
        for y in (labels, labels.astype(dtype)):
            model = proplab.mlp(rng=np.random.default_rng(0), dtype=dtype)
            backward = model.backward

            def spy(grad, *args, backward=backward, dtype=dtype, **kwargs):
                seen.append((dtype, grad.dtype))
                return backward(grad, *args, **kwargs)

            model.backward = spy
            opt = proplab.SGD(model.parameters(), lr=1.0)
            runs.append(proplab.fit(model, loss_fn(), opt, x, y, epochs=50).loss)
        assert runs[0] == runs[1]  # integer labels train exactly as float ones
    assert set(seen) == {(np.float32, np.dtype(np.float32)), (np.float64, np.dtype(np.float64))}


def test_a_stack_with_a_parameter_its_replicas_would_share_is_refused() -> None:
    """A Swish with a learnable beta of one's own, put in mlp(seeds=...), got one beta for
    every replica: the replicas trained each other and nothing said so (api17)."""

    class Swish(proplab.Module):
        def __init__(self) -> None:
            super().__init__()
            self.beta = proplab.Parameter(np.ones(()))
            self.params["beta"] = self.beta

        def forward(self, x):
            self.x, self.s = x, 1 / (1 + np.exp(-self.beta.data * x))
            return x * self.s

        def backward(self, grad_out, need_input_grad=True):
            x, s, b = self.x, self.s, self.beta.data
            self.beta.accumulate(np.sum(grad_out * x * x * s * (1 - s)))
            return grad_out * (s + b * x * s * (1 - s))

    x, y = proplab.data.generate_xor_easy()
    model = mlp(activation=Swish, seeds=[0, 1, 2])
    with pytest.raises(ValueError) as err:
        fit(model, MSELoss(), SGD(model.parameters(), lr=1.0), x, y, epochs=5)
    assert str(err.value).startswith(
        "parameter '1.beta' has shape (), but this stack's replica shape is (3,): in a stack "
        "each layer with parameters needs one set per replica"
    )
    # one model of it trains
    alone = mlp(activation=Swish, rng=np.random.default_rng(0))
    assert fit(alone, MSELoss(), SGD(alone.parameters(), lr=1.0), x, y, epochs=5).epochs_run == 5


def test_fit_names_a_bad_rng_and_takes_a_whole_float_batch_size() -> None:
    """Both said "MSELoss.backward needs 'diff'": the except clause meant for a loss whose
    backward forgot `return` ran that backward before any forward (api17)."""
    x, y = proplab.data.generate_xor_easy()
    model = mlp(rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"^rng must be a numpy Generator .*, got 0$"):
        fit(model, MSELoss(), SGD(model.parameters()), x, y, 5, batch_size=4, rng=0)
    runs = []
    for batch in (4, 4.0):
        m = mlp(rng=np.random.default_rng(0))
        opt = SGD(m.parameters())
        runs.append(
            fit(m, MSELoss(), opt, x, y, 5, batch_size=batch, rng=np.random.default_rng(1)).loss
        )
    assert runs[0] == runs[1]


def test_evaluate_on_no_samples_says_so() -> None:
    model = mlp(rng=np.random.default_rng(0))
    x, y = proplab.data.generate_xor_easy()
    with pytest.raises(ValueError, match=r"^x has no samples \(shape \(0, 2\)\)$"):
        evaluate(model, MSELoss(), x[:0], y[:0])


def test_evaluate_refuses_data_with_nan_as_fit_does() -> None:
    """evaluate took an all-NaN column and scored 52.4 %: NaN predictions count as class 0
    (api17), where fit refuses the same data."""
    model = mlp(rng=np.random.default_rng(0))
    x, y = proplab.data.generate_xor_easy()
    x = x.astype(float)
    x[0, 1] = np.nan
    with pytest.raises(ValueError, match=r"^x\[0, 1\] is nan: data to score must be finite"):
        evaluate(model, MSELoss(), x, y)
    with pytest.raises(ValueError, match=r"^x\[0, 1\] is nan: training data must be finite"):
        fit(model, MSELoss(), SGD(model.parameters()), x, y, 1)


class _Huber(proplab.Loss):
    """A student's Huber loss (delta 1), mean over samples and outputs."""

    def forward(self, pred, target):
        self.d = pred - target
        a = np.abs(self.d)
        return np.mean(np.where(a <= 1.0, 0.5 * self.d**2, a - 0.5), axis=(-2, -1))

    def backward(self):
        return np.clip(self.d, -1.0, 1.0) / (self.d.shape[-2] * self.d.shape[-1])


class _HuberOverEveryAxis(_Huber):
    def forward(self, pred, target):
        return float(np.mean(super().forward(pred, target)))  # a stack's replicas averaged too


class _HuberFlatGradient(_Huber):
    def backward(self):
        return super().backward().ravel()


def test_a_loss_of_ones_own_is_checked_before_training_and_named() -> None:
    # read18: a loss averaging a stack's replicas trained them silently (one float of loss
    # beside three accuracies); a flat dL/dpred failed inside the Sigmoid below it
    x, y = proplab.generate_xor_easy()

    def train(loss, seeds=None):
        model = mlp(seeds=seeds) if seeds else mlp(rng=np.random.default_rng(0))
        return fit(model, loss, SGD(model.parameters(), lr=1.0), x, y, epochs=3)

    with pytest.raises(ValueError) as err:
        train(_HuberOverEveryAxis(), seeds=range(3))
    assert str(err.value) == (
        "_HuberOverEveryAxis.forward returned a loss of shape () for predictions of shape "
        "(3, 1, 1) (one sample, checked before training): it must return one loss per "
        "model, an array of shape (3,), one per replica (reduce over the last two axes only, "
        "axis=(-2, -1): samples and outputs)"
    )
    with pytest.raises(ValueError, match=r"^_HuberFlatGradient.backward returned shape \(1,\) "):
        train(_HuberFlatGradient())
    # the same loss done right trains a stack as its models alone
    stacked = train(_Huber(), seeds=range(3))
    alone = [train(_Huber(), seeds=[s]) for s in range(3)]
    np.testing.assert_array_equal(stacked.final_loss, [h.final_loss[0] for h in alone])
    assert stacked.epochs_run == 3


def test_a_loss_that_cannot_take_one_sample_is_left_to_training() -> None:
    class _NeedsTwo(_Huber):
        def forward(self, pred, target):
            if pred.shape[-2] < 2:
                raise ValueError("needs two samples")
            return super().forward(pred, target)

    x, y = proplab.generate_xor_easy()
    model = mlp(rng=np.random.default_rng(0))
    history = fit(model, _NeedsTwo(), SGD(model.parameters(), lr=1.0), x, y, epochs=3)
    assert history.epochs_run == 3 and np.isfinite(history.final_loss)


@pytest.mark.parametrize(
    ("seconds", "tick", "called"),
    [
        (None, 0.3, [10]),  # every 100 epochs (never, in 10) and at the end
        (0.5, 0.3, [2, 4, 6, 8, 10, 10]),  # epochs ending 0.6 s after the last call
        (0.5, 1.0, list(range(1, 11)) + [10]),  # every epoch takes a second
    ],
)
def test_callback_seconds_calls_back_on_slow_epochs(xor, monkeypatch, seconds, tick, called):
    # scale19 M3: a progress bar over a few slow epochs was drawn once, at the end
    import proplab.train

    ticks = iter(np.arange(0.0, 100.0, tick))  # fit's clock: each epoch ends `tick` s later
    monkeypatch.setattr(proplab.train.time, "perf_counter", lambda: float(next(ticks)))
    x, y = xor
    model = lab_model(0)
    seen = []
    fit(
        model, MSELoss(), SGD(model.parameters(), lr=1.0), x, y, 10,
        callback=lambda epoch, history: seen.append((epoch, history.epochs_run)),
        callback_seconds=seconds,
    )  # fmt: skip
    assert seen == [(e, e) for e in called]


@pytest.mark.parametrize("bad", [0, -1.0, True, "1", float("nan")])
def test_callback_seconds_refuses_what_is_no_positive_number(xor, bad):
    x, y = xor
    model = lab_model(0)
    with pytest.raises(
        ValueError, match=f"callback_seconds must be a number of seconds > 0 or None, got {bad!r}"
    ):
        fit(model, MSELoss(), SGD(model.parameters(), lr=1.0), x, y, 2, callback_seconds=bad)


def test_a_large_file_prints_the_first_rows_iter_lines_and_says_how_many_more() -> None:
    # scale19 L2: a 50 000-row file printed 50 000 Iter: lines
    from proplab.dataload import ITER_LINES_MAX, ITER_LINES_SHOWN, result_lines

    rng = np.random.default_rng(0)
    for n in (ITER_LINES_MAX, ITER_LINES_MAX + 1):
        pred, y = rng.random((n, 1)), rng.integers(0, 2, (n, 1))
        lines = result_lines(pred, y, 0.25, 0.5, None)
        assert lines[-1] == "loss=0.2500000000 accuracy=50.0%"
        iters = [line for line in lines if line.startswith("Iter: ")]
        shown = n if n <= ITER_LINES_MAX else ITER_LINES_SHOWN
        assert iters[-1].startswith(f"Iter: {shown - 1} | Ground truth: {y[shown - 1, 0]} |")
        assert len(iters) == shown and len(lines) == shown + 1 + (n > ITER_LINES_MAX)
    assert lines[-2] == (
        f"... {n - ITER_LINES_SHOWN:,} more rows not shown (proplab predict RUN --data FILE "
        "writes every row's prediction)"
    )
