"""proplab.sklearn.MLPClassifier: scikit-learn's own estimator checks (the regressor's
too), real use, predict_log_proba, warm_start and partial_fit. The regressor's own tests
are in test_sklearn_regressor.py."""

import copy
import importlib
import pickle
import sys
import warnings
from fractions import Fraction

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import estimator_checks_generator  # noqa: E402

from proplab.digits import digits_split  # noqa: E402
from proplab.losses import softmax  # noqa: E402
from proplab.sklearn import MLPClassifier, MLPRegressor  # noqa: E402


def _check_params() -> list:
    """Every check ``check_estimator`` runs on ``MLPClassifier()`` and on
    ``MLPRegressor()``, one pytest case each.

    This is what ``check_estimator`` iterates over (and what scikit-learn's
    ``parametrize_with_checks`` parametrizes); no check is marked as an
    expected failure. ``check_classifiers_train`` trains to convergence on
    blobs three times (~0.6 s each), so it is marked slow; the regressor's
    ``check_regressors_train`` takes ~0.1 s and runs in the quick suite.
    """
    cases = []
    for estimator_class in (MLPClassifier, MLPRegressor):
        for estimator, check in estimator_checks_generator(estimator_class(), legacy=True):
            name = getattr(check, "func", check).__name__
            marks = [pytest.mark.slow] if name == "check_classifiers_train" else []
            case_id = f"{estimator_class.__name__}-{name}"
            cases.append(pytest.param(estimator, check, id=case_id, marks=marks))
    return cases


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(("estimator", "check"), _check_params())
def test_check_estimator(estimator: MLPClassifier | MLPRegressor, check) -> None:
    check(estimator)


def test_a_scikit_learn_older_than_1_6_is_named_with_the_version_found(monkeypatch) -> None:
    # scikit-learn 1.4 has no sklearn.utils.validation.validate_data (new in 1.6): the
    # message says scikit-learn is there but too old, not that it is missing
    import sklearn.utils.validation as validation

    monkeypatch.delattr(validation, "validate_data")
    monkeypatch.setattr(sklearn, "__version__", "1.4.2")
    monkeypatch.delitem(sys.modules, "proplab.sklearn")
    with pytest.raises(ImportError) as info:
        importlib.import_module("proplab.sklearn")
    assert str(info.value) == (
        "proplab.sklearn needs scikit-learn>=1.6 (validate_data, __sklearn_tags__), "
        "found 1.4.2; upgrade it with: pip install -U 'scikit-learn>=1.6'"
    )


def test_no_scikit_learn_says_how_to_install_it(monkeypatch) -> None:
    for name in ("sklearn", "sklearn.base"):  # None in sys.modules: the import fails
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "proplab.sklearn")
    with pytest.raises(ImportError) as info:
        importlib.import_module("proplab.sklearn")
    assert str(info.value) == (
        "proplab.sklearn needs scikit-learn; install it with: pip install 'proplab[datasets]'"
    )


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


def test_a_fraction_hyperparameter_is_a_number_like_any_other() -> None:
    # a Fraction is a numbers.Real: it passed the type check, then np.isfinite refused it
    # with "ufunc 'isfinite' not supported for the input types" (types18 L2)
    x, y = load_iris(return_X_y=True)
    x = StandardScaler().fit_transform(x)
    for name, accepted in (
        ("alpha", ">= 0"),
        ("tol", ">= 0"),
        ("learning_rate_init", "> 0"),
        ("momentum", ">= 0"),
    ):
        with pytest.raises(
            ValueError,
            match=rf"^{name} must be a finite number {accepted}, got Fraction\(-1, 10\)$",
        ):
            MLPClassifier(**{name: Fraction(-1, 10)}).fit(x, y)
        # one tenth as a Fraction trains exactly as 0.1 does
        common = {"solver": "sgd", "max_iter": 3, "random_state": 0}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            exact = MLPClassifier(**common, **{name: Fraction(1, 10)}).fit(x, y)
            floating = MLPClassifier(**common, **{name: 0.1}).fit(x, y)
        assert exact.loss_curve_ == floating.loss_curve_
        assert np.all(np.isfinite(exact.loss_curve_))


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


def _by_hand(
    x, y, epochs, *, solver, lr, alpha, momentum, hidden, activation, init, rng, nesterov=True
):
    """The network the estimator's parameters describe, trained full-batch step by step
    with the optimizer they name: what fit must do when batch_size covers the data."""
    from proplab.losses import CrossEntropyLoss
    from proplab.models import mlp
    from proplab.optim import SGD, Adam

    labels = np.unique(y, return_inverse=True)[1].reshape(-1, 1)
    model = mlp(x.shape[1], hidden, 3, activation=activation, output_activation=None,
                init=init, rng=rng)  # fmt: skip
    if solver == "sgd":
        opt = SGD(model.parameters(), lr=lr, momentum=momentum, nesterov=nesterov,
                  weight_decay=alpha)  # fmt: skip
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
        # nesterovs_momentum left at its default, True (scikit-learn's)
        dict(solver="sgd", lr=0.05, alpha=0.1, momentum=0.5, hidden=(5,), activation="tanh",
             init="xavier"),
        dict(solver="sgd", lr=0.05, alpha=0.1, momentum=0.5, hidden=(5,), activation="tanh",
             init="xavier", nesterov=False),
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
        # the default (True) unless the case names it
        **({"nesterovs_momentum": params["nesterov"]} if "nesterov" in params else {}),
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
    with pytest.raises(ValueError, match="random_state must be None, an int >= 0, a numpy"):
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
        ({"batch_size": 0}, "batch_size must be a positive integer or 'auto', got 0"),
        ({"n_iter_no_change": 0}, "n_iter_no_change must be a positive integer, got 0"),
        ({"alpha": "0.1"}, "alpha must be a finite number >= 0, got '0.1'"),
        ({"validation_fraction": -0.1}, r"validation_fraction must be in \[0, 1\), got -0.1"),
        ({"validation_fraction": 1.0}, r"validation_fraction must be in \[0, 1\), got 1.0"),
        # found by an audit: a string was a raw TypeError from a comparison, and momentum
        # 1.5 (scikit-learn: [0, 1]) trained
        ({"validation_fraction": "a"}, r"validation_fraction must be in \[0, 1\), got 'a'"),
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


def test_a_last_update_that_blows_up_raises_and_a_growing_loss_says_lower_the_rate() -> None:
    # diverge18: max_iter=6 fitted "successfully", predict_proba gave NaN and score 52 %;
    # at max_iter=5 the warning said the loss "still improved" (1.34 -> 1.27e86)
    from proplab.data import generate_xor_easy

    x, y = generate_xor_easy()

    def net(max_iter):
        return MLPClassifier(
            hidden_layer_sizes=(10, 10), max_iter=max_iter, random_state=0, activation="identity",
            solver="sgd", learning_rate_init=50.0, tol=0.0,
        )  # fmt: skip

    with pytest.raises(ValueError, match=r"^training diverged with its last update \(epoch 6\)"):
        net(6).fit(x, y.ravel())
    with pytest.warns(ConvergenceWarning) as caught:
        clf = net(5).fit(x, y.ravel())
    start, end = clf.loss_curve_[0], clf.loss_curve_[-1]
    assert str(caught[0].message) == (
        f"MLPClassifier: stopped at max_iter=5 epochs without converging (the loss grew from "
        f"{start:.3g} to {end:.3g}); lower learning_rate_init"
    )


def test_early_stopping_on_a_validation_loss_never_finite_raises_divergence() -> None:
    # types18: every validation loss inf (a huge target among the validation rows) left
    # best_epoch None and fit died in a bare TypeError, the estimator half-fitted
    x = np.random.default_rng(0).normal(size=(40, 2))
    t = x[:, 0].copy()
    t[4] = 1e200  # random_state=0 puts row 4 among the validation rows
    reg = MLPRegressor(hidden_layer_sizes=(4,), early_stopping=True, validation_fraction=0.1,
                       max_iter=5, random_state=0)  # fmt: skip
    with pytest.raises(ValueError, match=r"^training diverged at epoch 1: the validation loss"):
        reg.fit(x, t)
    assert not hasattr(reg, "n_iter_")


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
    with pytest.raises(
        ValueError, match="^batch_size must be a positive integer or 'auto', got 'big'"
    ):
        MLPClassifier(batch_size="big").fit(x, y)


# ---------------------------------------------------------------- predict_log_proba


def test_predict_log_proba_is_the_log_of_predict_proba() -> None:
    x, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(16,), tol=1e-3, random_state=0).fit(x, y)
    log_proba = clf.predict_log_proba(x)
    np.testing.assert_allclose(log_proba, np.log(clf.predict_proba(x)), rtol=0, atol=1e-12)
    # a trained model is confident somewhere: values far from 0 are compared too
    assert log_proba.min() < -5


def test_predict_log_proba_stays_finite_where_a_probability_underflows() -> None:
    x, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(16,), tol=1e-3, random_state=0).fit(x, y)
    # the output layer scaled 10^4 times: logits thousands apart, so exp(z - max)
    # underflows to 0 and log(predict_proba) is -inf there
    state = clf.model_.state_dict()
    clf.model_.load_state_dict({**state, "2.weight": state["2.weight"] * 1e4,
                                "2.bias": state["2.bias"] * 1e4})  # fmt: skip
    proba = clf.predict_proba(x)
    assert (proba == 0).sum() > 50
    log_proba = clf.predict_log_proba(x)
    assert np.isfinite(log_proba).all() and log_proba.min() < -1e3
    # the reference: z - logsumexp(z), by NumPy's logaddexp rather than a max shift
    z = clf.model_.forward(x)
    expected = z - np.logaddexp.reduce(z, axis=1, keepdims=True)
    np.testing.assert_allclose(log_proba, expected, rtol=1e-12, atol=1e-9)
    # where the probability is still a normal float, it is its log
    normal = proba > 1e-300
    np.testing.assert_allclose(log_proba[normal], np.log(proba[normal]), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(clf.classes_[log_proba.argmax(1)], clf.predict(x))


# ---------------------------------------------------------------- warm_start


def _same_weights(a: MLPClassifier | MLPRegressor, b: MLPClassifier | MLPRegressor) -> bool:
    """Bit-for-bit equal networks."""
    sa, sb = a.model_.state_dict(), b.model_.state_dict()
    return list(sa) == list(sb) and all(np.array_equal(sa[k], sb[k]) for k in sa)


def test_warm_start_continues_bit_for_bit_with_a_stateless_optimizer() -> None:
    # plain SGD (momentum 0) keeps no state, and a Generator as random_state is used as
    # it is, so the warm fit's shuffles come next in the same stream: 10 epochs and a
    # warm 10 more take exactly the steps of one fit of 20
    x, y = _iris()
    params = dict(hidden_layer_sizes=(8,), solver="sgd", momentum=0.0, learning_rate_init=0.05,
                  batch_size=32, tol=0.0)  # fmt: skip
    warm = MLPClassifier(max_iter=10, warm_start=True, random_state=np.random.default_rng(5),
                         **params)  # fmt: skip
    with pytest.warns(ConvergenceWarning):
        warm.fit(x, y)
    with pytest.warns(ConvergenceWarning):
        warm.fit(x, y)
    once = MLPClassifier(max_iter=20, random_state=np.random.default_rng(5), **params)
    with pytest.warns(ConvergenceWarning):
        once.fit(x, y)
    assert _same_weights(warm, once)
    # the loss curve runs on across the warm fit; n_iter_ is the last fit's epochs
    assert warm.loss_curve_ == once.loss_curve_ and len(warm.loss_curve_) == 20
    assert warm.n_iter_ == 10


def test_a_warm_fit_starts_from_the_fitted_weights_with_a_fresh_optimizer() -> None:
    # Here 10 + 10 epochs cannot equal 20 bit for bit, by scikit-learn's semantics: a
    # warm fit builds a new optimizer (Adam's moments and step count restart) and draws
    # its shuffles from random_state again (an int seed restarts the stream). So the
    # test is that the warm fit is exactly that: the first fit's weights, trained on
    # by a fresh Adam shuffling with default_rng(seed).
    from proplab.callbacks import train
    from proplab.losses import CrossEntropyLoss
    from proplab.models import mlp
    from proplab.optim import Adam

    x, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(8,), batch_size=32, max_iter=10, tol=0.0,
                        random_state=4, warm_start=True)  # fmt: skip
    with pytest.warns(ConvergenceWarning):
        clf.fit(x, y)
    start = clf.model_.state_dict()
    with pytest.warns(ConvergenceWarning):
        clf.fit(x, y)
    model = mlp(4, [8], 3, activation="relu", output_activation=None,
                rng=np.random.default_rng(99))  # fmt: skip
    model.load_state_dict(start)
    train(model, CrossEntropyLoss(), Adam(model.parameters(), lr=3e-3), x, y.reshape(-1, 1), 10,
          batch_size=32, rng=np.random.default_rng(4), tol=None, warn=False)  # fmt: skip
    got, expected = clf.model_.state_dict(), model.state_dict()
    assert all(np.array_equal(got[k], expected[k]) for k in expected)
    # and without warm_start a second fit starts over: the same as the first fit
    cold = clone(clf).set_params(warm_start=False)
    with pytest.warns(ConvergenceWarning):
        cold.fit(x, y)
    cold_start = cold.model_.state_dict()
    with pytest.warns(ConvergenceWarning):
        cold.fit(x, y)
    assert all(np.array_equal(cold.model_.state_dict()[k], cold_start[k]) for k in start)
    assert all(np.array_equal(cold_start[k], start[k]) for k in start)


def test_a_warm_fit_refuses_other_classes_or_another_network() -> None:
    x, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(8,), tol=100.0, warm_start=True, random_state=0)
    clf.fit(x, y)
    with pytest.raises(
        ValueError,
        match=r"^warm_start: y holds the classes \[0, 1\], but the fitted network has "
        r"classes_ \[0, 1, 2\]; a warm fit needs y with exactly those",
    ):
        clf.fit(x[:100], y[:100])
    clf.set_params(hidden_layer_sizes=(16,))
    with pytest.raises(
        ValueError,
        match=r"^hidden_layer_sizes=\(16,\), activation='relu' describe hidden layers \[16\] "
        r"of relu, but the fitted network \(continued by warm_start and partial_fit\) has "
        r"\[8\] of relu",
    ):
        clf.fit(x, y)
    # warm_start=False: a new network of the new size
    clf.set_params(warm_start=False).fit(x, y)
    assert clf.model_.state_dict()["0.weight"].shape == (4, 16)


# ---------------------------------------------------------------- partial_fit


def test_k_partial_fits_are_k_epochs_of_fit() -> None:
    # The equivalence: the first partial_fit draws the weights from random_state as fit
    # does; every call then runs one epoch of mini-batches, continuing the optimizer
    # (Adam's moments and step count) and the shuffling stream. So k calls on the whole
    # data take exactly the steps of fit with max_iter=k (tol=0: no early stop).
    x, y = _iris()
    params = dict(hidden_layer_sizes=(8,), batch_size=32, random_state=3)
    online = MLPClassifier(**params)
    for _ in range(7):
        online.partial_fit(x, y, classes=[2, 0, 1])  # any order: classes_ is sorted
    batch = MLPClassifier(max_iter=7, tol=0.0, **params)
    with pytest.warns(ConvergenceWarning):
        batch.fit(x, y)
    assert _same_weights(online, batch)
    assert online.loss_curve_ == batch.loss_curve_ and online.n_iter_ == 1
    assert list(online.classes_) == [0, 1, 2]
    # partial_fit after fit continues it the same way: 7 epochs + 3 calls = 10 epochs
    for _ in range(3):
        batch.partial_fit(x, y)
    ten = MLPClassifier(max_iter=10, tol=0.0, **params)
    with pytest.warns(ConvergenceWarning):
        ten.fit(x, y)
    assert _same_weights(batch, ten) and batch.loss_curve_ == ten.loss_curve_


def test_partial_fit_in_mini_batches_learns_digits() -> None:
    # 12 passes over the training images in chunks of 100, one partial_fit per chunk
    s = digits_split()
    x_train, y_train = s.x_train, s.y_train[:, 0]
    clf = MLPClassifier(hidden_layer_sizes=(64,), random_state=0)
    for _ in range(12):
        for start in range(0, len(x_train), 100):
            chunk = slice(start, start + 100)
            clf.partial_fit(x_train[chunk], y_train[chunk], classes=np.arange(10))
    assert len(clf.loss_curve_) == 12 * 15
    assert clf.score(s.x_test, s.y_test[:, 0]) >= 0.96


def test_the_first_partial_fit_may_see_only_some_classes() -> None:
    x, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    clf.partial_fit(x[:50], np.array(["setosa"] * 50), classes=["setosa", "versicolor",
                                                                  "virginica"])  # fmt: skip
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert clf.predict_proba(x).shape == (150, 3)
    # a later call brings the other classes (no classes= needed, or the same again)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf.partial_fit(x, names)
    clf.partial_fit(x, names, classes=["virginica", "setosa", "versicolor"])
    assert len(clf.loss_curve_) == 3


@pytest.mark.parametrize(
    ("first", "then", "message"),
    [
        # no classes on the first call
        ({}, None, r"^classes must be passed on the first call to partial_fit, got None; "
                   r"accepted: every label there will be"),
        ({"classes": [1]}, None, r"^classes must hold at least 2 distinct labels, got \[1\]; "
                                 r"accepted: every label there will be"),
        ({"classes": [[0, 1], [2, 3]]}, None,
         r"^classes must be a 1-D list of labels, got an array of shape \(2, 2\)"),
        ({"classes": [0.5, 1.5, 2.5]}, None,
         r"^classes=\[0.5, 1.5, 2.5\] are not class labels \(Unknown label type: continuous"),
        # y with a label outside classes, on the first call or a later one
        ({"classes": [0, 1]}, None, r"^y holds the label 2, which is not in classes_ \[0, 1\]; "
                                    r"accepted: those classes"),
        ({"classes": [0, 1, 2]}, {"y": "+5"},
         r"^y holds the label 5, which is not in classes_ \[0, 1, 2\]; accepted: those classes"),
        # another classes on a later call
        ({"classes": [0, 1, 2]}, {"classes": [0, 1, 2, 3]},
         r"^classes=\[0, 1, 2, 3\] is not the classes_ \[0, 1, 2\] this network was fitted "
         r"with; accepted: those, or classes=None"),
        # another number of features
        ({"classes": [0, 1, 2]}, {"x": "3 columns"},
         r"^X has 3 features, but MLPClassifier is expecting 4 features as input"),
    ],
)  # fmt: skip
def test_partial_fit_errors_name_the_bad_value_and_what_is_accepted(first, then, message):
    x, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(4,), random_state=0)
    if then is None:
        with pytest.raises(ValueError, match=message):
            clf.partial_fit(x, y, **first)
        assert not hasattr(clf, "model_")  # nothing half-fitted
        return
    clf.partial_fit(x, y, **first)
    before = clf.model_.state_dict()
    args = {"x": x, "y": y, "classes": None}
    if then.get("y") == "+5":
        args["y"] = np.where(y == 2, 5, y)
    if then.get("x") == "3 columns":
        args["x"] = x[:, :3]
    if "classes" in then:
        args["classes"] = then["classes"]
    with pytest.raises(ValueError, match=message):
        clf.partial_fit(args["x"], args["y"], classes=args["classes"])
    # a refused call leaves the network as it was
    assert all(np.array_equal(clf.model_.state_dict()[k], v) for k, v in before.items())
    assert len(clf.loss_curve_) == 1


def test_partial_fit_refuses_early_stopping() -> None:
    x, y = _iris()
    with pytest.raises(ValueError, match="^partial_fit trains one epoch .* early_stopping must "
                                         "be False, got True"):  # fmt: skip
        MLPClassifier(early_stopping=True).partial_fit(x, y, classes=[0, 1, 2])


def test_a_diverging_partial_fit_leaves_the_network_as_it_was() -> None:
    x, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    clf.partial_fit(x, y, classes=[0, 1, 2])
    before, proba = clf.model_.state_dict(), clf.predict_proba(x)
    # one epoch of 3 steps: only a learning rate this absurd overflows to NaN within it
    clf.set_params(solver="sgd", learning_rate_init=1e300)
    with pytest.raises(ValueError, match=r"^training diverged .*\(learning_rate_init=1e\+300\)"):
        clf.partial_fit(x * 1e3, y)
    assert all(np.array_equal(clf.model_.state_dict()[k], v) for k, v in before.items())
    np.testing.assert_array_equal(clf.predict_proba(x), proba)
    # and training goes on from there with sane settings
    clf.set_params(solver="adam", learning_rate_init=3e-3).partial_fit(x, y)
    assert np.isfinite(clf.loss_curve_).all() and len(clf.loss_curve_) == 2


@pytest.mark.parametrize("duplicate", [pickle.loads, copy.deepcopy], ids=["pickle", "deepcopy"])
def test_a_copied_model_continues_partial_fit_as_the_original_does(duplicate) -> None:
    # copying an optimizer copies its packed buffer apart from the model's weights (views
    # into it before); without repacking, the copy's partial_fit would change nothing
    x, y = _iris()
    clf = MLPClassifier(hidden_layer_sizes=(8,), batch_size=32, random_state=0)
    for _ in range(3):
        clf.partial_fit(x, y, classes=[0, 1, 2])
    twin = duplicate(pickle.dumps(clf)) if duplicate is pickle.loads else duplicate(clf)
    before = twin.predict_proba(x)
    for model in (clf, twin):
        model.partial_fit(x, y)
    assert _same_weights(clf, twin) and clf.loss_curve_ == twin.loss_curve_
    assert not np.array_equal(twin.predict_proba(x), before)  # it did train


def test_a_learning_rate_or_alpha_set_between_partial_fits_applies_to_the_next_step() -> None:
    # Full-batch plain SGD keeps no state and draws no shuffle, so a step depends only on
    # the weights and the hyperparameters: the second partial_fit, after set_params, must
    # take the step a warm fit (which builds a fresh optimizer from the parameters) takes
    x, y = _iris()
    params = dict(hidden_layer_sizes=(8,), solver="sgd", momentum=0.0, batch_size=1000,
                  learning_rate_init=0.05, random_state=0)  # fmt: skip
    online = MLPClassifier(**params).partial_fit(x, y, classes=[0, 1, 2])
    online.set_params(learning_rate_init=0.3, alpha=0.1).partial_fit(x, y)
    warm = MLPClassifier(**params).partial_fit(x, y, classes=[0, 1, 2])
    warm.set_params(learning_rate_init=0.3, alpha=0.1, warm_start=True, max_iter=1, tol=0.0)
    with pytest.warns(ConvergenceWarning):
        warm.fit(x, y)
    assert _same_weights(online, warm)
    # and not the step the old settings would have taken
    old = MLPClassifier(**params).partial_fit(x, y, classes=[0, 1, 2]).partial_fit(x, y)
    assert not _same_weights(online, old)


def test_a_fit_that_fails_leaves_the_estimator_as_it_was() -> None:
    # validate_data set n_features_in_ before training: a failed first fit looked fitted
    # (predict raised AttributeError, not NotFittedError), and a failed refit on another
    # width left the kept network refusing the data it was fitted on
    from sklearn.exceptions import NotFittedError

    from proplab.sklearn import MLPRegressor

    rng = np.random.default_rng(0)
    x3 = rng.normal(size=(40, 3)) * 1e3
    reg = MLPRegressor(learning_rate_init=1e6, solver="sgd", random_state=0, max_iter=5)
    with pytest.raises(ValueError, match="diverged"):
        reg.fit(x3, rng.normal(size=40) * 1e6)
    assert [k for k in vars(reg) if k.endswith("_")] == []
    with pytest.raises(NotFittedError):
        reg.predict(x3)

    x2 = rng.normal(size=(40, 2))
    clf = MLPClassifier(random_state=0, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x2, np.arange(40) % 2)
    before = clf.predict_proba(x2)
    one_of_class_2 = np.r_[np.zeros(20, int), np.ones(19, int), [2]]
    with pytest.raises(ValueError, match="class 2 has 1 row"):
        clf.set_params(early_stopping=True).fit(x3, one_of_class_2)
    assert clf.n_features_in_ == 2
    np.testing.assert_array_equal(clf.predict_proba(x2), before)


def test_coefs_and_intercepts_are_the_network_as_scikit_learn_lays_it_out() -> None:
    from sklearn.neural_network import MLPClassifier as SkMLP

    x, y = load_iris(return_X_y=True)
    ours = MLPClassifier(hidden_layer_sizes=(6, 5), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(x, y)
        theirs = SkMLP(hidden_layer_sizes=(6, 5), max_iter=5, random_state=0).fit(x, y)
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    # the forward pass by hand from them (ReLU hidden layers, softmax out) is predict_proba
    h = x
    for w, b in zip(ours.coefs_[:-1], ours.intercepts_[:-1], strict=True):
        h = np.maximum(h @ w + b, 0.0)
    logits = h @ ours.coefs_[-1] + ours.intercepts_[-1]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(ours.predict_proba(x), e / e.sum(axis=1, keepdims=True), rtol=1e-12)
    with pytest.raises(NotFittedError):
        MLPClassifier().coefs_  # noqa: B018


def test_scikit_learns_other_fitted_attributes_follow_its_semantics() -> None:
    from sklearn.neural_network import MLPClassifier as SkMLP

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    kwargs = {"hidden_layer_sizes": (8, 4), "max_iter": 30, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, theirs = MLPClassifier(**kwargs).fit(X, y), SkMLP(**kwargs).fit(X, y)
    for name in ("n_layers_", "t_"):
        assert getattr(ours, name) == getattr(theirs, name), name  # 4 layers, 30 x 150 samples
    assert ours.t_ == 30 * 150 and ours.n_layers_ == 4
    assert ours.out_activation_ == theirs.out_activation_ == "softmax"  # three classes
    assert ours.n_outputs_ == theirs.n_outputs_ == 3
    assert ours.loss_ == ours.loss_curve_[-1] and ours.best_loss_ == min(ours.loss_curve_)
    # samples seen carry on across partial_fit calls and warm fits, and start again
    part = MLPClassifier(hidden_layer_sizes=(4,), random_state=0)
    for _ in range(3):
        part.partial_fit(X, y, classes=np.unique(y))
    assert part.t_ == 3 * 150
    warm = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm.fit(X, y).fit(X, y)
        assert warm.t_ == 10 * 150
        warm.set_params(warm_start=False).fit(X, y)
    assert warm.t_ == 5 * 150 and warm.loss_ == warm.loss_curve_[-1]
    # early stopping stops on the validation loss: no best training loss, as scikit-learn
    early = MLPClassifier(hidden_layer_sizes=(4,), early_stopping=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        early.fit(X, y)
    assert early.best_loss_ is None and early.t_ == early.n_iter_ * 135  # 10 % held out
    reg = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, np.c_[y, -y])
    assert (reg.out_activation_, reg.n_outputs_, reg.n_layers_) == ("identity", 2, 3)
