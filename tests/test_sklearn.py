"""proplab.sklearn.MLPClassifier: scikit-learn's own estimator checks, and real use."""

import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import estimator_checks_generator  # noqa: E402

from proplab.digits import digits_split  # noqa: E402
from proplab.losses import softmax  # noqa: E402
from proplab.sklearn import MLPClassifier  # noqa: E402


def _check_params() -> list:
    """Every check ``check_estimator(MLPClassifier())`` runs, one pytest case each.

    This is what ``check_estimator`` iterates over (and what scikit-learn's
    ``parametrize_with_checks`` parametrizes); no check is marked as an
    expected failure. ``check_classifiers_train`` trains to convergence on
    blobs three times, so it is marked slow.
    """
    cases = []
    for estimator, check in estimator_checks_generator(MLPClassifier(), legacy=True):
        name = getattr(check, "func", check).__name__
        marks = [pytest.mark.slow] if name == "check_classifiers_train" else []
        cases.append(pytest.param(estimator, check, id=name, marks=marks))
    return cases


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(("estimator", "check"), _check_params())
def test_check_estimator(estimator: MLPClassifier, check) -> None:
    check(estimator)


def test_fit_predict_proba_and_attributes() -> None:
    x, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = make_pipeline(
        StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), tol=1e-3, random_state=0)
    )
    clf.fit(x, names)
    mlp = clf[-1]
    assert list(mlp.classes_) == ["setosa", "versicolor", "virginica"]
    assert mlp.n_features_in_ == 4 and mlp.n_iter_ == len(mlp.loss_curve_) <= 200
    assert clf.score(x, names) >= 0.95
    proba = clf.predict_proba(x)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(mlp.classes_[proba.argmax(1)], clf.predict(x))
    # predict_proba is the softmax of the proplab model's logits
    xs = clf[0].transform(x[:5])
    np.testing.assert_allclose(proba[:5], softmax(mlp.model_.forward(xs)), rtol=1e-12)
    # the loss curve falls: the last loss is far below the first
    assert mlp.loss_curve_[-1] < 0.2 * mlp.loss_curve_[0]


def test_params_clone_and_cross_validation() -> None:
    clf = MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01, tol=1e-3, random_state=3)
    assert clf.get_params()["hidden_layer_sizes"] == (8,)
    clf.set_params(max_iter=300, solver="sgd")
    twin = clone(clf)
    assert twin.get_params() == clf.get_params() and not hasattr(twin, "model_")
    x, y = load_iris(return_X_y=True)
    scores = cross_val_score(make_pipeline(StandardScaler(), clf), x, y, cv=3)
    assert scores.min() >= 0.85


def test_same_random_state_same_model() -> None:
    x, y = load_iris(return_X_y=True)
    a = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=1, tol=1e-9)
    b = clone(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a.fit(x, y)
        b.fit(x, y)
    assert a.loss_curve_ == b.loss_curve_
    np.testing.assert_array_equal(a.predict_proba(x), b.predict_proba(x))


def test_convergence_warning_names_max_iter() -> None:
    x, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="stopped at max_iter=3 epochs without converging"):
        clf = MLPClassifier(max_iter=3, random_state=0).fit(x, y)
    assert clf.n_iter_ == 3


def test_early_stopping_keeps_the_best_validation_epoch() -> None:
    x, y = load_iris(return_X_y=True)
    clf = MLPClassifier(
        hidden_layer_sizes=(64, 64),
        learning_rate_init=0.01,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=15,
        random_state=0,
    ).fit(StandardScaler().fit_transform(x), y)
    curve = clf.validation_loss_curve_
    assert clf.best_epoch_ == int(np.argmin(curve)) + 1 < clf.n_iter_


def test_bad_parameters_are_named_at_fit() -> None:
    x, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="solver must be one of adam, sgd, got 'lbfgs'"):
        MLPClassifier(solver="lbfgs").fit(x, y)
    with pytest.raises(ValueError, match="unknown activation 'softplus'"):
        MLPClassifier(activation="softplus").fit(x, y)
    with pytest.raises(ValueError, match="only one class"):
        MLPClassifier().fit(x[:10], y[:10])
    # under scikit-learn's names, not those of the optimizer or the convergence rule
    for name, bad, accepted in (
        ("alpha", -1.0, ">= 0"),
        ("tol", -0.1, ">= 0"),
        ("learning_rate_init", 0.0, "> 0"),
        ("momentum", float("nan"), ">= 0"),
    ):
        with pytest.raises(ValueError, match=rf"^{name} must be a finite number {accepted}, got"):
            MLPClassifier(**{name: bad}).fit(x, y)


@pytest.mark.slow
def test_digits_at_least_as_accurate_as_scikit_learn() -> None:
    # scikit-learn's MLPClassifier((64,)) scores 97.2 % on this split
    s = digits_split()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(random_state=0).fit(s.x_train, s.y_train[:, 0])
    assert clf.score(s.x_test, s.y_test[:, 0]) >= 0.97
