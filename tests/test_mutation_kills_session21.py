"""Tests for mutants the suite let live (mut21: session 21's API and module fixes: fit's
hook and role checks, evaluate's data checks, accuracy's class indices, labels_of and
one_hot, the optimizers' and schedules' number checks, save/load paths, the losses'
no-samples checks, the layers' gradient-shape errors).

Each test names the planted change (see docs/mutation.md, round 12) it kills and says why
the behaviour matters.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest

from proplab import (
    SGD,
    CrossEntropyLoss,
    MSELoss,
    accuracy,
    evaluate,
    fit,
    generate_xor_easy,
    mlp,
)


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
