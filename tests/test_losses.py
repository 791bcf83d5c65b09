"""Losses: hand-worked values and gradients, replica reduction, BCE at p = 0 and 1."""

from __future__ import annotations

import math

import numpy as np
import pytest

from proplab import BCELoss, CrossEntropyLoss, MSELoss

# --- MSE -----------------------------------------------------------------------------


def test_mse_two_samples_by_hand():
    pred = np.array([[0.5], [1.0]])
    target = np.array([[0.0], [1.0]])
    loss = MSELoss()
    # L = ((0.5 - 0)^2 + (1 - 1)^2) / 2 = 0.25 / 2 = 0.125
    value = loss(pred, target)
    assert isinstance(value, float) and value == 0.125
    # dL/dp = 2 (p - t) / N = 2 * [0.5, 0] / 2 = [0.5, 0]
    np.testing.assert_array_equal(loss.backward(), [[0.5], [0.0]])


def test_mse_mean_runs_over_samples_and_outputs():
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])
    target = np.zeros((2, 2))
    loss = MSELoss()
    # (1 + 4 + 9 + 16) / 4 = 7.5 ; gradient 2 p / 4 = p / 2
    assert loss(pred, target) == 7.5
    np.testing.assert_array_equal(loss.backward(), pred / 2)


def test_mse_accepts_integer_labels():
    # the lab's labels are int64 (n, 1); predictions float
    loss = MSELoss()
    assert loss(np.array([[0.25], [0.75]]), np.array([[0], [1]])) == pytest.approx(0.0625)


def test_mse_reduces_per_replica(rng):
    pred = rng.uniform(0, 1, size=(3, 5, 1))
    target = rng.integers(0, 2, size=(5, 1))  # shared by the three replicas
    loss = MSELoss()
    values = loss(pred, target)
    grad = loss.backward()
    assert values.shape == (3,) and grad.shape == (3, 5, 1)
    for k in range(3):
        single = MSELoss()
        assert values[k] == pytest.approx(single(pred[k], target), rel=1e-15)
        np.testing.assert_array_equal(grad[k], single.backward())


# --- BCE -----------------------------------------------------------------------------


def test_bce_two_samples_by_hand():
    pred = np.array([[0.8], [0.4]])
    target = np.array([[1.0], [0.0]])
    loss = BCELoss()
    # L = -(ln 0.8 + ln 0.6) / 2 = (0.22314355131 + 0.51082562377) / 2 = 0.36698458754
    assert loss(pred, target) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2, rel=1e-15)
    assert loss(pred, target) == pytest.approx(0.36698458754, rel=1e-10)
    # dL/dp = (p - t) / (p (1 - p)) / N: -0.2 / 0.16 / 2 = -0.625 ; 0.4 / 0.24 / 2 = 5/6
    np.testing.assert_allclose(loss.backward(), [[-0.625], [5 / 6]], rtol=1e-14)


def test_bce_at_zero_and_one_is_finite_like_pytorch():
    loss = BCELoss()
    pred = np.array([[0.0], [1.0], [0.0], [1.0]])
    target = np.array([[1.0], [0.0], [0.0], [1.0]])
    # PyTorch clamps each log at -100: a confidently wrong sample costs exactly 100,
    # a confidently right one 0 (0 * log 0 counts as 0). Mean = (100 + 100 + 0 + 0) / 4
    assert loss(pred, target) == 50.0
    # gradient (p - t) / max(p (1 - p), eps) / N with torch's eps, 1e-12 as a float32:
    # -1 / (4 eps), 1 / (4 eps), 0, 0, where 1 / (4 eps) = 2.5e11 (1 + 4.0e-9)
    eps = float(np.float32(1e-12))
    assert eps == 9.999999960041972e-13
    np.testing.assert_array_equal(loss.backward(), [[-1 / (4 * eps)], [1 / (4 * eps)], [0], [0]])


def test_bce_clamp_is_a_floor_on_the_log_not_on_p():
    # ln(1e-50) = -115.13 -> clamped to -100; ln(1e-40) = -92.1 stays
    loss = BCELoss()
    assert loss(np.array([[1e-50]]), np.array([[1.0]])) == 100.0
    assert loss(np.array([[1e-40]]), np.array([[1.0]])) == pytest.approx(40 * math.log(10))


def test_bce_reduces_per_replica(rng):
    pred = rng.uniform(0.01, 0.99, size=(4, 6, 1))
    target = rng.integers(0, 2, size=(4, 6, 1)).astype(np.float64)  # per-replica targets
    loss = BCELoss()
    values = loss(pred, target)
    assert values.shape == (4,)
    for k in range(4):
        assert values[k] == pytest.approx(BCELoss()(pred[k], target[k]), rel=1e-15)


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan])
def test_bce_rejects_non_probabilities(bad):
    """NaN passed ((p < 0) | (p > 1) is False for it) and gave a NaN loss (num21 M2)."""
    with pytest.raises(ValueError, match=f"probabilities in \\[0, 1\\], got {bad}.*sigmoid"):
        BCELoss()(np.array([[0.5], [bad]]), np.array([[0.0], [1.0]]))


@pytest.mark.parametrize("bad", [-0.5, 2.0, math.nan])
def test_bce_check_targets_names_a_target_outside_0_1_nan_included(bad):
    with pytest.raises(ValueError) as info:
        BCELoss().check_targets(np.array([[1.0], [bad]]))
    assert str(info.value) == (
        f"BCELoss needs targets in [0, 1] (0/1 labels or probabilities), got {bad}"
    )
    BCELoss().check_targets(np.array([[0.0], [0.25], [1.0]]))  # probabilities pass


# --- target shapes -----------------------------------------------------------------


@pytest.mark.parametrize("loss_cls", [MSELoss, BCELoss])
@pytest.mark.parametrize(
    ("pred_shape", "target_shape"),
    [((21, 1), (21,)), ((21, 1), (1, 21)), ((21, 2), (21, 1)), ((3, 21, 1), (3, 21))],
)
def test_a_target_that_only_broadcasts_is_refused(loss_cls, pred_shape, target_shape):
    """Labels (n,) against predictions (n, 1) broadcast to (n, n): a plausible, wrong loss."""
    rng = np.random.default_rng(0)
    pred = rng.uniform(0.1, 0.9, pred_shape)
    target = rng.integers(0, 2, target_shape).astype(np.float64)
    with pytest.raises(ValueError, match=rf"{loss_cls.__name__}: target shape \({target_shape[0]}"):
        loss_cls()(pred, target)


@pytest.mark.parametrize("loss_cls", [MSELoss, BCELoss])
def test_shared_and_stacked_targets_and_lists_are_accepted(loss_cls):
    rng = np.random.default_rng(1)
    pred = rng.uniform(0.1, 0.9, (3, 5, 1))
    target = rng.integers(0, 2, (5, 1)).astype(np.float64)
    shared = loss_cls()(pred, target)
    stacked = loss_cls()(pred, np.broadcast_to(target, (3, 5, 1)))
    alone = [loss_cls()(pred[k], target.tolist()) for k in range(3)]
    np.testing.assert_array_equal(shared, stacked)
    np.testing.assert_allclose(shared, alone, rtol=1e-15)


def test_mse_of_a_stack_means_over_samples_and_outputs_per_replica():
    # replica 0: (1 + 4 + 9 + 16) / 4 = 7.5; replica 1: (4 * 4) / 4 = 4; gradient 2 p / 4
    pred = np.array([[[1.0, 2.0], [3.0, 4.0]], [[2.0, -2.0], [2.0, 2.0]]])
    loss = MSELoss()
    np.testing.assert_array_equal(loss(pred, np.zeros((2, 2))), [7.5, 4.0])
    np.testing.assert_array_equal(loss.backward(), pred / 2)


def test_mse_gradient_follows_the_batch_size_of_each_call():
    """One MSELoss on batches of different sizes (a last partial batch, validation):
    dL/dp = 2 (p - t) / N with each call's own N."""
    loss = MSELoss()
    loss(np.ones((4, 1)), np.zeros((4, 1)))
    np.testing.assert_array_equal(loss.backward(), np.full((4, 1), 0.5))
    assert loss(np.ones((2, 1)), np.zeros((2, 1))) == 1.0
    np.testing.assert_array_equal(loss.backward(), np.full((2, 1), 1.0))
    loss(np.ones((2, 1), dtype=np.float32), np.zeros((2, 1), dtype=np.float32))
    assert loss.backward().dtype == np.float32


@pytest.mark.parametrize("loss", [MSELoss(), BCELoss()])
@pytest.mark.parametrize("target_shape", [(3,), (3, 1)])
def test_flat_predictions_are_named_not_an_index_error(loss, target_shape) -> None:
    # a student ravels the model's (n, 1) output: IndexError from deep inside the loss,
    # or against (n, 1) targets a hint to one-hot 3 "classes"
    pred = np.array([0.2, 0.7, 0.9])
    target = np.array([0.0, 1.0, 1.0]).reshape(target_shape)
    name = type(loss).__name__
    with pytest.raises(ValueError) as info:
        loss.forward(pred, target)
    assert str(info.value) == (
        f"{name}: predictions must be (n, out) or stacked (*R, n, out), got shape (3,); a "
        "one-output model's predictions are (n, 1): do not ravel or squeeze them "
        "(.reshape(-1, 1) gives the column back)"
    )
    # the column back is accepted, and gives the loss of the three samples
    expected = (
        (0.04 + 0.09 + 0.01) / 3
        if name == "MSELoss"
        else -(math.log(0.8) + math.log(0.7) + math.log(0.9)) / 3
    )
    got = loss.forward(pred.reshape(-1, 1), target.reshape(-1, 1))
    assert got == pytest.approx(expected, rel=1e-12)


def test_mse_of_integer_predictions_and_targets_has_its_float_gradient() -> None:
    """2/N was stored in the data's dtype: int64 made it 0 and the gradient silently 0."""
    loss = MSELoss()
    pred, target = np.array([[1], [2], [3], [4]]), np.array([[0], [2], [3], [3]])
    assert loss.forward(pred, target) == 0.5
    np.testing.assert_array_equal(loss.backward(), [[0.5], [0.0], [0.0], [0.5]])


@pytest.mark.parametrize(
    "loss, pred, target",
    [
        (MSELoss(), np.empty((0, 1)), np.empty((0, 1))),
        (MSELoss(), np.empty((3, 0, 1)), np.empty((0, 1))),  # a stack of empty batches
        (BCELoss(), np.empty((0, 1)), np.empty((0, 1))),
        (CrossEntropyLoss(), np.empty((0, 3)), np.empty(0, dtype=int)),
        (CrossEntropyLoss(), np.empty((0, 3)), np.empty((0, 3))),  # one-hot rows
    ],
)
def test_a_loss_of_no_samples_is_refused_as_fit_refuses_it(loss, pred, target) -> None:
    """They raised ZeroDivisionError (MSE), returned NaN with a RuntimeWarning (BCE, soft
    cross-entropy) or NumPy's zero-size reduction error (cross-entropy labels)."""
    name = type(loss).__name__
    with pytest.raises(ValueError) as info:
        loss(pred, target)
    assert str(info.value) == f"{name}: pred has no samples (shape {pred.shape})"
    # the same loss still works on a batch afterwards (MSE caches 2 / N per shape)
    good = np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])[:, : pred.shape[-1]]
    labels = np.array([0, 1]) if target.ndim == 1 else np.array([[1.0, 0, 0], [0, 1, 0]])
    value = loss(good, labels if name == "CrossEntropyLoss" else np.ones((2, 1)))
    assert math.isfinite(value) and value > 0


def test_mse_of_no_outputs_says_outputs() -> None:
    with pytest.raises(ValueError, match=r"^MSELoss: pred has no outputs \(shape \(4, 0\)\)$"):
        MSELoss()(np.empty((4, 0)), np.empty((4, 0)))


def test_mse_of_a_stack_is_as_silent_on_overflow_as_each_model_alone() -> None:
    """One model's loss (BLAS vdot) overflowed to inf silently, a stack's (vecdot) with a
    RuntimeWarning, for the same numbers (num21 M3)."""
    import warnings

    pred = np.array([[[1e200], [0.0]], [[1.0], [0.0]]])  # replica 0 overflows
    target = np.zeros((2, 1))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        alone = [MSELoss()(pred[k], target) for k in range(2)]
        stacked = MSELoss()(pred, target)
    assert [str(w.message) for w in seen] == []
    assert alone == [math.inf, 0.5]
    np.testing.assert_array_equal(stacked, alone)
