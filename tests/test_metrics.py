"""Metrics on labels: confusion matrix, one-hot, predicted labels (worked by hand)."""

import numpy as np
import pytest

from proplab.metrics import accuracy, confusion_matrix, labels_of, one_hot, predicted_labels


def test_confusion_matrix_by_hand() -> None:
    truth = np.array([0, 0, 1, 2, 2, 2])
    guess = np.array([0, 1, 1, 2, 0, 2])
    # row = truth, column = prediction: 0 -> {0, 1}, 1 -> {1}, 2 -> {2, 0, 2}
    expected = [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    np.testing.assert_array_equal(confusion_matrix(truth, guess), expected)
    np.testing.assert_array_equal(confusion_matrix(truth[:, None], one_hot(guess, 3)), expected)
    assert confusion_matrix(truth, guess, n_classes=4).shape == (4, 4)
    with pytest.raises(ValueError, match="6 labels but y_pred has 5"):
        confusion_matrix(truth, guess[:5])


def test_one_hot_and_back() -> None:
    hot = one_hot(np.array([[2], [0], [1]]))
    np.testing.assert_array_equal(hot, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(labels_of(hot), [2, 0, 1])
    assert one_hot(np.array([1]), 4).tolist() == [[0, 1, 0, 0]]
    with pytest.raises(ValueError, match="does not fit n_classes=2"):
        one_hot(np.array([0, 2]), 2)
    with pytest.raises(ValueError, match="labels must be whole numbers 0..C-1, got 0.5"):
        one_hot(np.array([0.5]))


def test_predicted_labels_threshold_or_argmax() -> None:
    np.testing.assert_array_equal(predicted_labels(np.array([[0.2], [0.7], [0.5]])), [0, 1, 0])
    scores = np.array([[[1.0, 3.0, 2.0], [5.0, 0.0, 0.0]], [[0.0, 0.0, 9.0], [0.0, 1.0, 0.0]]])
    np.testing.assert_array_equal(predicted_labels(scores), [[1, 0], [2, 1]])  # replica axis kept
    # the engine's accuracy agrees: 2 of 3 logit rows pick the label
    assert (
        accuracy(np.array([[2.0, 1.0], [0.0, 3.0], [4.0, 0.0]]), np.array([[0], [1], [1]])) == 2 / 3
    )


@pytest.mark.parametrize(
    ("y_true", "y_pred", "n_classes", "message"),
    [
        (
            [0, 1],
            [0.2, 0.9],
            None,
            r"got 0.2 \(model outputs become labels with predicted_labels\)",
        ),
        ([0.5, 1], [0, 1], None, r"labels must be whole numbers 0..C-1, got 0.5"),
        ([-1, 0], [0, 1], None, r"labels must be whole numbers 0..C-1, got -1"),
        ([0, np.nan], [0, 1], None, r"got nan"),
        ([0, 5], [0, 1], 2, r"label 5 does not fit n_classes=2 \(labels 0..1\)"),
        ([0, 1], [0, 1], 0, r"n_classes must be a positive integer, got 0"),
    ],
)
def test_confusion_matrix_refuses_what_is_not_a_label(y_true, y_pred, n_classes, message):
    """Probabilities were truncated to class 0 (0.9 counted as a 0), out-of-range labels
    gave reshape or bincount errors."""
    with pytest.raises(ValueError, match=message):
        confusion_matrix(np.array(y_true), np.array(y_pred), n_classes)


def test_whole_float_labels_are_labels():
    np.testing.assert_array_equal(
        confusion_matrix(np.array([[0.0], [1.0], [1.0]]), np.array([0, 1, 0])), [[1, 0], [1, 1]]
    )


@pytest.mark.parametrize(
    ("labels", "n_classes", "message"),
    [
        ([], None, r"one_hot of no labels needs n_classes"),
        ([0], True, r"one_hot n_classes must be a positive integer, got True"),
        ([0, 1], 2.5, r"one_hot n_classes must be a positive integer, got 2.5"),
        ([np.inf], None, r"labels must be whole numbers 0..C-1, got inf"),
        ([0, 3], 2, r"label 3 does not fit n_classes=2"),
    ],
)
def test_one_hot_names_what_is_wrong(labels, n_classes, message):
    """[] gave a zero-size reduction error, 2.5 classes were truncated to 2, inf gave
    'negative dimensions', True counted as 1 class."""
    with pytest.raises(ValueError, match=message):
        one_hot(np.array(labels), n_classes)


def test_one_hot_of_no_labels_with_n_classes_and_predicted_labels_of_a_scalar():
    assert one_hot(np.array([], dtype=np.int64), 3).shape == (0, 3)
    with pytest.raises(ValueError, match=r"model outputs \(n, 1\) or \(n, C\), got shape \(\)"):
        predicted_labels(0.7)


def test_confusion_matrix_refuses_a_label_equal_to_n_classes() -> None:
    # label 2 with n_classes=2 would land in row 1 + 1 of a flattened 2 x 2 table
    with pytest.raises(ValueError, match="label 2 does not fit n_classes=2"):
        confusion_matrix(np.array([0, 1]), np.array([0, 2]), n_classes=2)
    with pytest.raises(ValueError, match="label 2 does not fit n_classes=2"):
        confusion_matrix(np.array([2, 1]), np.array([0, 1]), n_classes=2)


def test_predicted_labels_threshold_a_stack_of_probability_columns() -> None:
    # (R=2, n=3, 1) probabilities -> (2, 3) labels, each thresholded at 0.5
    probs = np.array([[[0.2], [0.7], [0.5]], [[0.9], [0.1], [0.6]]])
    np.testing.assert_array_equal(predicted_labels(probs), [[0, 1, 0], [1, 0, 1]])


def test_confusion_matrix_sizes_itself_by_predictions_too() -> None:
    # truth only class 0, a prediction of class 1: C = 2
    np.testing.assert_array_equal(
        confusion_matrix(np.array([0, 0]), np.array([0, 1])), [[1, 1], [0, 0]]
    )
    with pytest.raises(ValueError, match="label 1 does not fit n_classes=1"):
        confusion_matrix(np.array([0, 0]), np.array([0, 1]), n_classes=1)


def test_a_model_with_non_finite_predictions_has_no_accuracy():
    # diverge18: NaN > 0.5 is False, so a diverged model's NaN outputs scored as class 0
    # (52.4 % on XOR, 10 % of ten classes)
    y = np.array([[0], [1], [0], [0]])
    assert np.isnan(accuracy(np.full((4, 1), np.nan), y))
    assert np.isnan(accuracy(np.array([[0.1], [np.inf], [0.2], [0.3]]), y))
    assert np.isnan(accuracy(np.full((4, 3), np.nan), np.array([0, 1, 2, 0])))
    # in a stack only the replica with them: the others keep theirs
    stack = np.array([[[0.1], [0.9], [0.2], [0.3]], [[np.nan], [0.9], [0.2], [0.3]]])
    scores = accuracy(stack, y)
    assert scores[0] == 1.0 and np.isnan(scores[1])
    assert accuracy(np.array([[0.1], [0.9], [0.6], [0.3]]), y) == 0.75  # finite: scored


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.eye(3), r"got shape \(3, 3\) \(already one-hot\?\)"),
        (np.array([[0, 2, 1]]), r"got shape \(1, 3\) \(labels as a row\? pass labels.ravel\(\)\)"),
        (np.zeros((2, 2, 1)), r"got shape \(2, 2, 1\) \(a stack's labels: one replica at a time\)"),
    ],
)
def test_one_hot_refuses_what_it_would_flatten(labels, message):
    """one_hot(np.eye(3)) gave (9, 2): the one-hot rows read as 9 labels (api21 H3)."""
    with pytest.raises(ValueError, match=r"^one_hot takes labels \(n,\) or \(n, 1\), " + message):
        one_hot(labels)
    with pytest.raises(ValueError, match=r"^one_hot takes labels"):
        one_hot(labels, 3)


def test_labels_as_a_row_are_refused_with_a_ravel_hint():
    """confusion_matrix([[0, 1, 1]], [[0, 1, 0]]) counted 1 sample, not 3 (api21 H3)."""
    with pytest.raises(ValueError) as err:
        confusion_matrix(np.array([[0, 1, 1]]), np.array([[0, 1, 0]]))
    assert str(err.value) == (
        "y_true must be (n,), (n, 1) or one-hot (n, C), got one row of shape (1, 3) that is "
        "no one-hot row: labels as a row? pass y_true.ravel()"
    )
    with pytest.raises(ValueError) as err:  # [[0, 1, 0]] looks one-hot: the counts disagree
        confusion_matrix(np.array([0, 1, 1]), np.array([[0, 1, 0]]))
    assert str(err.value) == (
        "y_true has 3 labels but y_pred has 1 (y_pred is one row (1, 3): labels as a row? "
        "pass y_pred.ravel())"
    )
    with pytest.raises(ValueError, match=r"got shape \(2, 3, 1\)"):
        labels_of(np.zeros((2, 3, 1)))
    # one sample's one-hot row or probabilities is still one label
    np.testing.assert_array_equal(labels_of(np.array([[0, 1, 0]])), [1])
    np.testing.assert_array_equal(labels_of(np.array([[0.2, 0.1, 0.7]])), [2])
    # and one sample's scores are its argmax, as several samples' are; only whole numbers
    # >= 0 read as a row of labels (verify21 R3: scores were refused with a .ravel() hint)
    np.testing.assert_array_equal(labels_of(np.array([[0.2, 3.0, -1.0]])), [1])
    np.testing.assert_array_equal(
        confusion_matrix(np.array([1]), np.array([[0.2, 3.0, -1.0]])), [[0, 0], [0, 1]]
    )
