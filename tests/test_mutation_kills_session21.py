"""Tests for mutants the suite let live (mut21: session 21's API and module fixes: fit's
hook and role checks, evaluate's data checks, accuracy's class indices, labels_of and
one_hot, the optimizers' and schedules' number checks, save/load paths, the losses'
no-samples checks, the layers' gradient-shape errors).

Each test names the planted change (see docs/mutation.md, round 12) it kills and says why
the behaviour matters.
"""

from __future__ import annotations

import collections
from fractions import Fraction

import numpy as np
import pytest

from proplab import (
    SGD,
    CrossEntropyLoss,
    Flatten,
    Linear,
    MSELoss,
    ReduceLROnPlateau,
    accuracy,
    evaluate,
    fit,
    generate_xor_easy,
    mlp,
)
from proplab.conv import Unsqueeze
from proplab.metrics import confusion_matrix, labels_of, one_hot
from proplab.parameter import Parameter


def _model():
    return mlp(2, 4, 1, rng=np.random.default_rng(0))


# --- fit ---------------------------------------------------------------------------------


def test_fit_takes_a_log_whose_signature_python_cannot_read():
    """Kills T7 (train._check_hooks: a callable without a readable signature refused
    instead of left to its call). ``deque.append`` and ``set.add`` have no signature in
    CPython; refusing them would turn away a working log."""
    x, y = generate_xor_easy()
    model = _model()
    lines: collections.deque[str] = collections.deque()
    history = fit(model, MSELoss(), SGD(model.parameters(), lr=1.0), x, y, 3, print_every=1,
                  log=lines.append)  # fmt: skip
    assert history.epochs_run == 3
    assert len(lines) == 3 and list(lines)[0].startswith("epoch 1 loss : ")


def test_fit_refuses_y_with_more_samples_than_x():
    """Kills T8 (train._checked_data: ``y.shape[-2] != n`` as ``<``). y of 5 rows for x of
    4 must be named as such before training, not fail (or broadcast) inside the loss."""
    x, y = generate_xor_easy()
    model = _model()
    before = model[0].weight.data.copy()
    y5 = np.vstack([y, y[:1]])
    with pytest.raises(ValueError) as err:
        fit(model, MSELoss(), SGD(model.parameters(), lr=1.0), x, y5, 2)
    assert str(err.value) == f"x has {len(x)} samples but y has {len(x) + 1}"
    assert np.array_equal(before, model[0].weight.data)


def test_fit_names_an_optimizer_passed_as_the_model():
    """Kills R5 (scoring.check_roles: the model role's misplaced list without "an
    optimizer"). fit(sgd, loss, model, ...) must say the arguments are out of order, not
    that an SGD "has no forward or backward method"."""
    x, y = generate_xor_easy()
    model = _model()
    sgd = SGD(model.parameters(), lr=1.0)
    with pytest.raises(TypeError) as err:
        fit(sgd, MSELoss(), model, x, y, 2)
    assert str(err.value) == (
        "fit takes (model, loss_fn, optimizer, x, y, epochs): model got an optimizer (SGD), "
        "which belongs in optimizer: arguments in the wrong order?"
    )


# --- evaluate and accuracy -----------------------------------------------------------------


def test_evaluate_scores_a_stack_given_integer_labels_per_replica():
    """Kills E5 (evaluate: the sample-count check without ``not are_stacked_labels``).
    Labels (R, n) for a stack of R classifiers are one row of labels per replica (what
    CrossEntropyLoss reads), not a y of R samples."""
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # n = 4
    stack = mlp(2, 4, 2, seeds=[0, 1, 2])  # R = 3 != n = 4
    labels = np.array([[0, 1, 1, 0], [0, 1, 1, 0], [1, 1, 1, 1]])
    loss, acc, pred = evaluate(stack, CrossEntropyLoss(), x, labels)
    assert pred.shape == (3, 4, 2)
    expected = (pred.argmax(-1) == labels).mean(axis=-1)
    np.testing.assert_array_equal(acc, expected)
    np.testing.assert_allclose(
        loss, [CrossEntropyLoss().forward(pred[k], labels[k]) for k in range(3)]
    )


@pytest.mark.parametrize("label", [np.array([1, 3]), np.array([1.0, 3.0])])
def test_accuracy_refuses_the_label_equal_to_the_class_count(label):
    """Kills A4 and A5 (scoring._check_class_indices: ``labels < classes`` as ``<=`` for
    float labels, ``labels >= classes`` as ``>`` for integer ones). Label 3 of 3 classes
    (0..2) is one past the last: it matches no argmax and scored as a miss."""
    scores = np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]])
    with pytest.raises(ValueError) as err:
        accuracy(scores, label)
    assert str(err.value) == (
        f"accuracy: label {label[1]} is not a class index (accepted: integers 0..2)"
    )
    assert accuracy(scores, label - 1) == 0.5  # 0 and 2: the first row's argmax is 1


def test_accuracy_refuses_a_negative_float_label():
    """Kills A9 (scoring._check_class_indices: the float branch without ``labels >= 0``).
    Label -1.0 (a "no class" marker read from a CSV as float) matched no argmax and was
    scored as a miss; the integer -1 was already refused, the float one must be too."""
    scores = np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]])
    with pytest.raises(ValueError) as err:
        accuracy(scores, np.array([1.0, -1.0]))
    assert str(err.value) == "accuracy: label -1.0 is not a class index (accepted: integers 0..2)"
    assert accuracy(scores, np.array([1.0, 0.0])) == 0.5


def test_evaluate_scores_a_two_axis_stack_given_labels_per_replica():
    """Kills S8 (scoring.check_stacking without its early return for labels per replica).
    Labels (2, 3, n) for a (2, 3) stack of classifiers are one row per replica; the
    shared-target rule (y.shape[:-2] broadcast to the replicas) refused them."""
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    stack = mlp(2, 4, 2, seeds=range(6), replicas=(2, 3))
    labels = np.tile([0, 1, 1, 0], (2, 3, 1))
    labels[1, 2] = [1, 1, 1, 1]
    loss, acc, pred = evaluate(stack, CrossEntropyLoss(), x, labels)
    assert pred.shape == (2, 3, 4, 2) and np.shape(loss) == (2, 3)
    np.testing.assert_array_equal(acc, (pred.argmax(-1) == labels).mean(axis=-1))
    np.testing.assert_allclose(loss[1, 2], CrossEntropyLoss().forward(pred[1, 2], labels[1, 2]))


# --- metrics --------------------------------------------------------------------------------


def test_labels_of_reads_several_rows_of_whole_scores_by_argmax():
    """Kills L2 (metrics.labels_of: the "labels as a row" refusal without
    ``y.shape[0] == 1``). Several samples' whole-number scores (votes per class) are
    their argmax; only a single row can be labels typed as a row."""
    votes = np.array([[0, 3, 1], [2, 0, 0], [1, 1, 4]])
    np.testing.assert_array_equal(labels_of(votes), [1, 0, 2])


def test_one_samples_whole_scores_with_a_negative_are_its_argmax():
    """Kills L3 (metrics._label_row without ``row >= 0``). One sample's scores
    [[-1, 3, 0]] cannot be labels (no label is negative): their argmax, class 1."""
    np.testing.assert_array_equal(labels_of(np.array([[-1.0, 3.0, 0.0]])), [1])


def test_one_samples_fractional_scores_are_its_argmax():
    """Kills L4 (metrics._label_row without the whole-number test). One sample's scores
    [[0.5, 3.0, 1.0]] (>= 0, not summing to 1) cannot be labels: their argmax, class 1,
    not a "labels as a row?" error."""
    np.testing.assert_array_equal(labels_of(np.array([[0.5, 3.0, 1.0]])), [1])


def test_one_hot_refuses_two_class_one_hot_rows():
    """Kills L8 (metrics.one_hot: ``labels.shape[1] != 1`` as ``> 2``). one_hot called
    twice on binary labels gets (n, 2) rows; read as 2n labels they gave (2n, 2)."""
    once = one_hot(np.array([0, 1, 1]))
    assert once.shape == (3, 2)
    with pytest.raises(ValueError) as err:
        one_hot(once)
    assert str(err.value) == (
        "one_hot takes labels (n,) or (n, 1), got shape (3, 2) (already one-hot?)"
    )


def test_confusion_matrix_names_y_pred_given_as_a_row_of_labels():
    """Kills L12 (metrics.confusion_matrix: y_pred's labels_of called with the name
    "y_true"). The hint must name the argument that is a row, or the user ravels the
    wrong one."""
    with pytest.raises(ValueError) as err:
        confusion_matrix(np.array([0, 1, 1]), np.array([[0, 2, 1]]))
    assert str(err.value) == (
        "y_pred must be (n,), (n, 1) or one-hot (n, C), got one row of shape (1, 3) that is "
        "no one-hot row: labels as a row? pass y_pred.ravel()"
    )


# --- optimizers and schedules -----------------------------------------------------------


def test_a_ragged_learning_rate_is_named_by_the_constructor_and_the_setter():
    """Kills OB5 (optim_base.check_number_type: NumPy's ValueError for a ragged list not
    caught). lr=[0.1, [0.2]] must be named with what is accepted, not NumPy's
    "inhomogeneous shape" error."""
    p = Parameter(np.ones(3))
    accepted = "(accepted: a real number, or an array of them, one per replica; got list)"
    with pytest.raises(TypeError) as err:
        SGD([p], lr=[0.1, [0.2]])
    assert str(err.value) == f"Invalid learning rate: [0.1, [0.2]] {accepted}"
    opt = SGD([p], lr=0.5)
    with pytest.raises(TypeError) as err:
        opt.lr = [0.1, [0.2]]
    assert str(err.value) == f"Invalid lr: [0.1, [0.2]] {accepted}"
    assert opt.lr == 0.5  # unchanged


def test_a_fraction_set_as_the_learning_rate_after_construction_trains():
    """Kills OB6 (Optimizer.check_hyper: the value's array without dtype=float64). The
    constructor takes Fraction(1, 10) (a real number); so must ``opt.lr = ...``, where
    an object array failed in np.isfinite."""
    p = Parameter(np.ones(3))
    opt = SGD([p], lr=0.5)
    opt.lr = Fraction(1, 10)
    p.grad[:] = 1.0
    opt.step()
    np.testing.assert_allclose(p.data, 0.9)


@pytest.mark.parametrize("name", ["threshold", "min_lr", "eps"])
def test_reduce_on_plateau_refuses_an_infinite_number(name):
    """Kills SC2 (ReduceLROnPlateau: threshold/min_lr/eps without ``math.isfinite``). An
    infinite threshold never sees an improvement, an infinite min_lr sets the rate to inf
    at the first cut."""
    opt = SGD([Parameter(np.ones(3))], lr=0.5)
    with pytest.raises(ValueError) as err:
        ReduceLROnPlateau(opt, **{name: float("inf")})
    assert str(err.value) == f"{name} must be a finite number >= 0, got inf"


# --- layers called by hand ------------------------------------------------------------------


def test_a_gradient_of_the_right_shape_keeps_numpys_own_error():
    """Kills ME1 (module_errors.wrong_grad_shape without ``shape == out_shape: return
    exc``). A complex grad_out of the right shape fails NumPy's cast; the error must stay
    NumPy's, not "grad_out has shape (4, 2), but the forward's output had (4, 2)"."""
    layer = Linear(3, 2, rng=np.random.default_rng(0))
    layer(np.ones((4, 3)))
    with pytest.raises(TypeError) as err:
        layer.backward(np.ones((4, 2)) * 1j)
    assert str(err.value).startswith("Cannot cast ufunc 'matmul' output from dtype('complex128')")


def test_linear_backward_after_a_one_dimensional_input_raises_numpys_error():
    """Kills LY1 (Linear._grad_error: ``x.ndim < 2`` as ``< 1``). Forward's matmul takes
    x (in,), backward's x^T cannot: NumPy's ValueError, not an IndexError from building
    the wrong-shape message."""
    layer = Linear(3, 2, rng=np.random.default_rng(0))
    np.testing.assert_allclose(layer(np.ones(3)), layer.weight.data.sum(0) + layer.bias.data)
    with pytest.raises(ValueError, match=r"^matrix transpose with ndim < 2 is undefined$"):
        layer.backward(np.ones(2))


@pytest.mark.parametrize(
    ("module", "takes"),
    [
        (Flatten(sample_axis=-2), "with 2+ axes"),
        (Flatten(), "(n, C, L)"),
        (Unsqueeze(axis=-3), "with 2+ axes"),
        (Unsqueeze(axis=-1), "with 1+ axes"),
        (Unsqueeze(), "(n, F)"),
    ],
)
def test_flatten_and_unsqueeze_given_a_list_name_the_axes_they_take(module, takes):
    """Kills LY7 and CV3 (Flatten's and Unsqueeze's not-an-array message always saying
    the default axis's shape). Flatten(sample_axis=-2) takes (n, F), not (n, C, L):
    the message must say what this layer takes."""
    with pytest.raises(TypeError) as err:
        module([[1.0, 2.0]])
    assert str(err.value) == (
        f"{type(module).__name__} takes a NumPy array {takes}, got list; pass np.asarray(...)"
    )


def test_unsqueeze_backward_given_a_list_asks_for_an_array():
    """Kills CV4 (Unsqueeze.backward without its grad_not_an_array branch). A list of the
    right shape must get the same TypeError as Linear's and Flatten's, not Python's
    "'list' object has no attribute 'reshape'"."""
    layer = Unsqueeze()
    np.testing.assert_array_equal(layer(np.ones((4, 3))), np.ones((4, 1, 3)))
    with pytest.raises(TypeError) as err:
        layer.backward(np.ones((4, 1, 3)).tolist())
    assert str(err.value) == (
        "Unsqueeze.backward takes grad_out as a NumPy array (the output's shape), got list; "
        "pass np.asarray(...)"
    )


# --- train's default folder -----------------------------------------------------------------


def test_the_default_folder_note_says_what_a_folder_that_is_no_run_holds(tmp_path):
    """Kills TO3 (train_out.check_out_folder: the non-replaceable OutFolderError's
    ``problem`` cut at its parenthesis). The note a run without --out prints must say why
    the default folder was kept, files and all, as the --out error says it."""
    from proplab.config import RunConfig
    from proplab.train_out import free_default_folder

    default = tmp_path / "xor-run"
    default.mkdir()
    (default / "notes.txt").write_text("mine", encoding="utf-8")
    (default / "b.txt").write_text("mine", encoding="utf-8")
    folder, note = free_default_folder(default, RunConfig())
    assert folder == tmp_path / "xor-run-2"
    assert note == (
        f"{default} is not a run folder (no config.json; it holds 'b.txt' and 1 more), kept; "
        f"this run goes to {folder}"
    )
