"""proplab.sklearn: tests written to kill mutants that survived the suite (mutation
testing of warm_start, partial_fit and the rollback of a failed fit). Each says which
change of the source it catches."""

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from test_sklearn import _iris, _same_weights  # the shared helpers

import proplab.sklearn  # noqa: E402
from proplab.sklearn import MLPClassifier  # noqa: E402


def test_a_partial_fit_on_the_later_classes_alone_learns_their_labels() -> None:
    # mutant: labels numbered among the classes y holds (np.unique), not among classes_:
    # y of classes 1 and 2 alone trained the outputs of classes 0 and 1
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(-2.0, 0.5, size=(30, 2)), rng.normal(2.0, 0.5, size=(30, 2))]
    y = np.r_[np.full(30, 1), np.full(30, 2)]
    clf = MLPClassifier(hidden_layer_sizes=(4,), learning_rate_init=0.05, random_state=0)
    clf.partial_fit(x, y, classes=[0, 1, 2])
    for _ in range(20):
        clf.partial_fit(x, y)
    np.testing.assert_array_equal(clf.predict(x), y)
    assert clf.predict_proba(x)[:, 0].max() < 0.05  # class 0 was never seen


def test_a_warm_fit_or_partial_fit_refuses_another_activation() -> None:
    # mutant: the architecture check compared the hidden sizes alone; a changed activation
    # went on training the fitted ReLU network as if it were tanh's
    x, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(8,), tol=100.0, warm_start=True, random_state=0)
    clf.fit(x, y)
    before = clf.predict_proba(x)
    clf.set_params(activation="tanh")
    message = (
        r"^hidden_layer_sizes=\(8,\), activation='tanh' describe hidden layers \[8\] of "
        r"tanh, but the fitted network \(continued by warm_start and partial_fit\) has \[8\] "
        r"of relu"
    )
    with pytest.raises(ValueError, match=message):
        clf.fit(x, y)
    with pytest.raises(ValueError, match=message):
        clf.partial_fit(x, y)
    np.testing.assert_array_equal(clf.set_params(activation="relu").predict_proba(x), before)


def test_a_momentum_set_between_partial_fits_applies_to_the_next_step() -> None:
    # mutant: _continued_optimizer updated lr and alpha but kept the old momentum.
    # Full batch: one step per call, no shuffle. With momentum 0 a step keeps no state,
    # so the third call must take the step a warm fit's fresh optimizer takes
    x, y = _iris()
    params = dict(hidden_layer_sizes=(8,), solver="sgd", momentum=0.9, batch_size=1000,
                  learning_rate_init=0.05, random_state=0)  # fmt: skip
    online = MLPClassifier(**params).partial_fit(x, y, classes=[0, 1, 2]).partial_fit(x, y)
    warm = MLPClassifier(**params).partial_fit(x, y, classes=[0, 1, 2]).partial_fit(x, y)
    online.set_params(momentum=0.0).partial_fit(x, y)
    assert online._opt.hyper["momentum"] == 0.0
    warm.set_params(momentum=0.0, warm_start=True, max_iter=1, tol=0.0)
    with pytest.warns(ConvergenceWarning):
        warm.fit(x, y)
    assert _same_weights(online, warm)
    # and not the step the kept momentum 0.9 would have taken
    kept = MLPClassifier(**params).partial_fit(x, y, classes=[0, 1, 2]).partial_fit(x, y)
    kept.partial_fit(x, y)
    assert not _same_weights(online, kept)


def test_after_a_diverged_partial_fit_the_next_one_starts_a_fresh_optimizer() -> None:
    # mutant: the optimizer of the diverged call was kept; its Adam moments held NaN, so
    # the next partial_fit (sane settings, weights put back) diverged too
    x, y = _iris()
    params = dict(hidden_layer_sizes=(8,), batch_size=1000, random_state=0)
    clf = MLPClassifier(**params).partial_fit(x, y, classes=[0, 1, 2])
    clf.set_params(learning_rate_init=1e300, batch_size=50)  # 3 steps: NaN within the epoch
    with pytest.raises(ValueError, match=r"^training diverged"):
        clf.partial_fit(x * 1e3, y)
    clf.set_params(learning_rate_init=3e-3, batch_size=1000).partial_fit(x, y)
    # the same as one step of a fresh Adam from the weights before the diverged call
    fresh = MLPClassifier(**params).partial_fit(x, y, classes=[0, 1, 2])
    fresh.set_params(warm_start=True, max_iter=1, tol=0.0)
    with pytest.warns(ConvergenceWarning):
        fresh.fit(x, y)
    assert np.isfinite(clf.loss_curve_).all() and len(clf.loss_curve_) == 2
    assert _same_weights(clf, fresh)


def test_a_cold_refit_starts_a_new_loss_curve() -> None:
    # mutant: loss_curve_ appended a refit without warm_start to the old network's curve
    x, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(8,), tol=100.0, random_state=0).fit(x, y)
    first = list(clf.loss_curve_)
    clf.fit(x, y)  # the same random_state: the same run again
    assert clf.loss_curve_ == first
    assert len(clf.loss_curve_) == clf.n_iter_ == 11  # tol=100: stops after 1 + 10 epochs


def test_an_interrupted_fit_puts_n_features_in_back(monkeypatch) -> None:
    # mutant: the rollback caught ValueError alone: Ctrl-C (KeyboardInterrupt) in a refit
    # on 3 columns left n_features_in_ = 3 beside the kept network of 4 inputs
    x, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(8,), tol=100.0, random_state=0).fit(x, y)
    before = clf.predict_proba(x)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(proplab.sklearn, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(x[:, :3], y)
    assert clf.n_features_in_ == 4
    fresh = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(x, y)
    assert not hasattr(fresh, "n_features_in_")
    monkeypatch.undo()
    np.testing.assert_array_equal(clf.predict_proba(x), before)


def test_a_failed_refit_puts_feature_names_in_back() -> None:
    # mutant: the rollback restored n_features_in_ alone. A fit on a DataFrame sets
    # feature_names_in_ (pandas is not installed here: set as such a fit leaves it); a
    # refit on a plain array removes it in validate_data, and must put it back on failure
    x, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(8,), tol=100.0, random_state=0).fit(x, y)
    names = np.array(["sepal length", "sepal width", "petal length", "petal width"], dtype=object)
    clf.feature_names_in_ = names
    one_of_class_2 = np.r_[np.zeros(20, int), np.ones(19, int), [2]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="class 2 has 1 row"):
            clf.set_params(early_stopping=True).fit(x[:40, :3], one_of_class_2)
    assert list(clf.feature_names_in_) == list(names) and clf.n_features_in_ == 4


# joblib.load detached each Parameter's _grad_row from its .grad, so the first batch after
# loading stepped the biases on the stale gradient saved with the model (fixed)
def test_an_estimator_saved_with_joblib_continues_partial_fit_as_the_original() -> None:
    import io

    import joblib

    x, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(8,), batch_size=32, random_state=0)
    for _ in range(3):
        clf.partial_fit(x, y, classes=[0, 1, 2])
    saved = io.BytesIO()
    joblib.dump(clf, saved)
    saved.seek(0)
    twin = joblib.load(saved)
    for model in (clf, twin):
        model.partial_fit(x, y)
    assert clf.loss_curve_ == twin.loss_curve_
    assert _same_weights(clf, twin)
