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


# ---------------------------------------------------------------- from mutation testing


def _iris() -> tuple[np.ndarray, np.ndarray]:
    x, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(x), y


def _by_hand(x, y, epochs, *, solver, lr, alpha, momentum, hidden, activation, init, rng):
    """The network the estimator's parameters describe, trained full-batch step by step
    with the optimizer they name: what fit must do when batch_size covers the data."""
    from proplab.losses import CrossEntropyLoss
    from proplab.models import mlp
    from proplab.optim import SGD, Adam

    labels = np.unique(y, return_inverse=True)[1].reshape(-1, 1)
    model = mlp(x.shape[1], hidden, 3, activation=activation, output_activation=None,
                init=init, rng=rng)  # fmt: skip
    if solver == "sgd":
        opt = SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=alpha)
    else:
        opt = Adam(model.parameters(), lr=lr, weight_decay=alpha)
    loss = CrossEntropyLoss()
    for _ in range(epochs):
        opt.zero_grad()
        loss.forward(model.forward(x), labels)
        model.backward(loss.backward(), need_input_grad=False)
        opt.step()
    return model


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="sgd", lr=0.05, alpha=0.1, momentum=0.5, hidden=(5,), activation="tanh",
             init="xavier"),
        dict(solver="adam", lr=0.01, alpha=0.5, momentum=0.9, hidden=(6, 4),
             activation="sigmoid", init="he_normal"),
    ],
)  # fmt: skip
def test_the_parameters_reach_the_network_and_its_optimizer(params) -> None:
    # three full-batch epochs (batch_size >= n: no shuffling) must equal the same steps
    # taken by hand: solver, learning rate, alpha as weight decay, momentum (it acts from
    # the second step on), activation and init all change the weights
    x, y = _iris()
    clf = MLPClassifier(
        hidden_layer_sizes=params["hidden"],
        activation=params["activation"],
        solver=params["solver"],
        alpha=params["alpha"],
        batch_size=1000,
        learning_rate_init=params["lr"],
        max_iter=3,
        tol=0.0,
        momentum=params["momentum"],
        init=params["init"],
        random_state=np.random.default_rng(7),  # a Generator is used as it is
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(x, y)
    expected = _by_hand(x, y, 3, **params, rng=np.random.default_rng(7)).state_dict()
    got = clf.model_.state_dict()
    assert list(got) == list(expected)
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-12, atol=1e-15)


def test_random_state_as_a_random_state_or_none() -> None:
    x, y = _iris()

    def curve(random_state) -> list[float]:
        clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, tol=0.0, random_state=random_state)
        with pytest.warns(ConvergenceWarning):
            return clf.fit(x, y).loss_curve_

    # a RandomState seeds the network: equal seeds, equal runs; other seeds, other runs
    rs = np.random.RandomState
    assert curve(rs(0)) == curve(rs(0)) != curve(rs(1))
    # None draws fresh entropy each fit (never a fixed seed)
    assert curve(None) != curve(None)
    with pytest.raises(ValueError, match="random_state must be None, an int or a Generator"):
        MLPClassifier(random_state="seed").fit(x, y)


def test_an_int_hidden_layer_size_is_one_layer_as_in_scikit_learn() -> None:
    # scikit-learn reads hidden_layer_sizes=5 as one layer of 5 (proplab's mlp would
    # read the int 5 as the lab's two layers of 5)
    x, y = _iris()
    with pytest.warns(ConvergenceWarning):
        clf = MLPClassifier(hidden_layer_sizes=5, max_iter=1, random_state=0).fit(x, y)
    shapes = [w.shape for name, w in clf.model_.state_dict().items() if name.endswith("weight")]
    assert shapes == [(4, 5), (5, 3)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"hidden_layer_sizes": (4, 0)}, "hidden_layer_sizes must be positive integers"),
        ({"max_iter": True}, "max_iter must be a positive integer, got True"),
        ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
        ({"n_iter_no_change": 0}, "n_iter_no_change must be a positive integer, got 0"),
        ({"alpha": "0.1"}, "alpha must be a finite number >= 0, got '0.1'"),
        ({"validation_fraction": 0.0}, r"validation_fraction must be in \(0, 1\), got 0.0"),
        ({"validation_fraction": 1.0}, r"validation_fraction must be in \(0, 1\), got 1.0"),
        # found by an audit: a string was a raw TypeError from a comparison, and momentum
        # 1.5 (scikit-learn: [0, 1]) trained
        ({"validation_fraction": "a"}, r"validation_fraction must be in \(0, 1\), got 'a'"),
        ({"solver": "sgd", "momentum": 1.5}, r"momentum must be in \[0, 1\], got 1.5"),
    ],
)
def test_parameters_at_their_bounds_or_of_the_wrong_type_are_named(params, message) -> None:
    x, y = _iris()
    with pytest.raises(ValueError, match=f"^{message}"):
        MLPClassifier(**params).fit(x, y)


def test_tol_and_n_iter_no_change_decide_when_training_stops() -> None:
    # no epoch can improve a cross-entropy of ~1 by more than tol=100: the first epoch
    # sets the best and the next n_iter_no_change=3 fail to beat it, so 4 epochs run
    x, y = _iris()
    clf = MLPClassifier(tol=100.0, n_iter_no_change=3, random_state=0).fit(x, y)
    assert clf.n_iter_ == len(clf.loss_curve_) == 4
    # without early stopping: no validation curve, and the last epoch counts as the best
    assert clf.validation_loss_curve_ is None and clf.best_epoch_ == 4
    # the same rule on the validation loss with early stopping
    clf = MLPClassifier(tol=100.0, n_iter_no_change=3, early_stopping=True, random_state=0)
    clf.fit(x, y)
    assert clf.n_iter_ == len(clf.validation_loss_curve_) == 4


def test_early_stopping_trains_on_the_rest_and_validates_on_the_held_out_part(monkeypatch):
    import proplab.sklearn as module

    seen, train = {}, module.train

    def spy(model, loss, opt, x, y, epochs, **kwargs):
        seen["x"], seen["validation"] = x, kwargs["validation"]
        return train(model, loss, opt, x, y, epochs, **kwargs)

    monkeypatch.setattr(module, "train", spy)
    x, y = _iris()
    clf = MLPClassifier(early_stopping=True, validation_fraction=0.2, tol=100.0, random_state=0)
    clf.fit(x, y)
    trained, (held_out, held_labels) = seen["x"], seen["validation"]
    # 20 % of 150 held out (10 of each class, stratified), the other 120 trained on
    assert len(trained) == 120 and len(held_out) == 30
    assert np.bincount(held_labels[:, 0]).tolist() == [10, 10, 10]
    # together exactly the data, each row once (sorted rows as a multiset)
    both = np.concatenate([trained, held_out])
    np.testing.assert_array_equal(both[np.lexsort(both.T)], x[np.lexsort(x.T)])


def test_a_diverging_fit_raises_and_names_the_learning_rate() -> None:
    x, y = _iris()
    with pytest.raises(
        ValueError, match=r"^training diverged .*\(learning_rate_init=1000000\.0\)$"
    ):
        MLPClassifier(solver="sgd", learning_rate_init=1e6, random_state=0).fit(x * 1e3, y)


def test_scikit_learns_own_values_of_activation_and_batch_size_work() -> None:
    # a grid written for scikit-learn's MLPClassifier was refused: "logistic" is its
    # sigmoid, "auto" its min(200, n_samples) batch
    x, y = _iris()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(activation="logistic", batch_size="auto", max_iter=5, random_state=0)
        theirs = MLPClassifier(activation="sigmoid", batch_size=min(200, len(x)), max_iter=5,
                               random_state=0)  # fmt: skip
        ours.fit(x, y)
        theirs.fit(x, y)
    assert np.array_equal(ours.predict_proba(x), theirs.predict_proba(x))
    assert ours.loss_curve_ == theirs.loss_curve_
    assert ours.get_params()["activation"] == "logistic"  # kept as given (clone needs it)
    with pytest.raises(ValueError, match="^batch_size must be a positive integer, got 'big'"):
        MLPClassifier(batch_size="big").fit(x, y)
