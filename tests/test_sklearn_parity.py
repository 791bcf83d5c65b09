"""proplab.sklearn where an audit against scikit-learn's MLPs (audit15d) found it differing:
sparse X, Nesterov momentum, validation_fraction=0.0, and the error messages. Where the
behaviour is scikit-learn's, the test runs scikit-learn's estimator beside proplab's."""

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
sparse = pytest.importorskip("scipy.sparse")  # installed with scikit-learn

from sklearn.datasets import load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from test_sklearn import _iris  # noqa: E402 (the shared helper)

import proplab.sklearn  # noqa: E402
from proplab.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

# ---------------------------------------------------------------- sparse X (audit15d H1)


def _mostly_zero(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``x (120, 30)`` with ~85 % zeros (a bag-of-words shape) and labels ``(120,)`` of 3
    classes that depend on it."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(120, 30)) * (rng.random((120, 30)) < 0.15)
    return x, np.digitize(x[:, :10].sum(axis=1), [-0.5, 0.5])


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_x_gives_exactly_the_dense_inputs_results(fmt, monkeypatch) -> None:
    # scikit-learn's MLPs accept CSR/CSC X (e.g. after TfidfVectorizer); proplab refused
    # it with "Sparse data was passed for X, but dense data is required"
    x, y = _mostly_zero()
    xs = sparse.csr_matrix(x) if fmt == "csr" else sparse.csc_matrix(x)
    seen = []
    train = proplab.sklearn.train

    def spy(model, loss, opt, data, *args, **kwargs):
        seen.append(type(data))
        return train(model, loss, opt, data, *args, **kwargs)

    monkeypatch.setattr(proplab.sklearn, "train", spy)
    params = dict(hidden_layer_sizes=(16,), max_iter=30, batch_size=32, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense, sparse_fit = MLPClassifier(**params).fit(x, y), MLPClassifier(**params).fit(xs, y)
    # the NumPy core is handed a dense array, never the sparse matrix
    assert seen == [np.ndarray, np.ndarray]
    assert sparse_fit.loss_curve_ == dense.loss_curve_
    for method in ("predict", "predict_proba", "predict_log_proba"):
        expected = getattr(dense, method)(x)
        np.testing.assert_array_equal(getattr(sparse_fit, method)(xs), expected)
        np.testing.assert_array_equal(getattr(dense, method)(xs), expected)
    assert dense.score(xs, y) == dense.score(x, y) > 0.8
    # partial_fit, on sparse and on dense rows alike
    on_sparse = MLPClassifier(**params).partial_fit(xs, y, classes=[0, 1, 2]).partial_fit(xs, y)
    on_dense = MLPClassifier(**params).partial_fit(x, y, classes=[0, 1, 2]).partial_fit(x, y)
    np.testing.assert_array_equal(on_sparse.predict_proba(x), on_dense.predict_proba(x))
    # the regressor, and a COO matrix (validate_data turns it into CSR)
    t = x[:, :3] @ np.array([1.0, -2.0, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = MLPRegressor(**params).fit(xs, t)
        reg_dense = MLPRegressor(**params).fit(x, t)
    np.testing.assert_array_equal(reg.predict(sparse.coo_matrix(x)), reg_dense.predict(x))
    assert reg.score(xs, t) == reg_dense.score(x, t)


def test_a_text_pipeline_as_with_scikit_learns_mlp() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    docs = ["good great fine", "great good nice", "bad awful poor", "poor bad sad"] * 5
    labels = ["pos", "pos", "neg", "neg"] * 5
    pipe = make_pipeline(
        TfidfVectorizer(), MLPClassifier(hidden_layer_sizes=(8,), tol=1e-2, random_state=0)
    )
    pipe.fit(docs, labels)
    assert pipe.predict(["nice good", "sad awful"]).tolist() == ["pos", "neg"]


# ---------------------------------------------------------------- against scikit-learn's steps


def _trained_from_the_same_weights(ours, theirs, X, y, lr_ours, lr_theirs, epochs):
    """Both estimators after ``epochs`` full-batch epochs from scikit-learn's first weights.

    The audit's method: one throw-away warm fit at a learning rate of 1e-12 builds both
    networks; scikit-learn's ``coefs_`` / ``intercepts_`` are copied into proplab's (its
    are views); then both train on from there. With ``alpha=0`` and a batch covering the
    data (no shuffling matters) the two trainings are the same computation.
    """
    for est in (ours, theirs):
        est.set_params(max_iter=1, warm_start=True, learning_rate_init=1e-12, batch_size=len(X),
                       alpha=0.0, tol=0.0, n_iter_no_change=10_000, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y)
        ours.fit(X, y)
        for a, b in zip(
            ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True
        ):
            a[...] = b
        ours.set_params(learning_rate_init=lr_ours, max_iter=epochs).fit(X, y)
        theirs.set_params(learning_rate_init=lr_theirs, max_iter=epochs).fit(X, y)
    return ours, theirs


def _gap(ours, theirs) -> float:
    """The largest absolute difference between the two networks' weights and biases."""
    pairs = zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True)
    return max(float(np.abs(a - b).max()) for a, b in pairs)


@pytest.mark.parametrize("nesterov", [True, False])
def test_sgd_momentum_takes_scikit_learns_steps_nesterov_or_not(nesterov) -> None:
    # proplab's sgd was heavy-ball momentum only, where scikit-learn's default is
    # Nesterov's: the same parameters trained differently (loss after 20 epochs 0.8068
    # here, scikit-learn's 0.6142). nesterovs_momentum is scikit-learn's, default True
    from sklearn.neural_network import MLPClassifier as SkMLP

    assert MLPClassifier().nesterovs_momentum is SkMLP().nesterovs_momentum is True
    X, y = load_iris(return_X_y=True)
    common = dict(hidden_layer_sizes=(5,), solver="sgd", momentum=0.9)
    kw = common if nesterov else dict(common, nesterovs_momentum=False)
    ours, theirs = _trained_from_the_same_weights(
        MLPClassifier(**kw), SkMLP(**kw), X, y, 0.01, 0.01, 20
    )
    # the 20 epochs' losses (after the throw-away epoch, which started from other weights)
    np.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=1e-12)
    assert _gap(ours, theirs) < 1e-13
    # and Nesterov's steps are not heavy-ball's: the parameter reaches the optimizer
    other, _ = _trained_from_the_same_weights(
        MLPClassifier(**dict(common, nesterovs_momentum=not nesterov)), SkMLP(**kw), X, y,
        0.01, 0.01, 20,
    )  # fmt: skip
    assert abs(other.loss_curve_[-1] - theirs.loss_curve_[-1]) > 0.1


@pytest.mark.parametrize("outputs", [1, 3])
def test_the_regressors_sgd_step_is_2_over_k_times_scikit_learns(outputs) -> None:
    # proplab's MSE is mean((p - y)^2) over samples and outputs; scikit-learn's gradient
    # is that of half the squared error summed over outputs, per sample. So proplab at
    # learning rate L takes scikit-learn's steps at 2L/k (k outputs), Nesterov's momentum
    # included (its velocity scales with the step): at the same rate they differ
    from sklearn.neural_network import MLPRegressor as SkMLP

    X, _ = load_iris(return_X_y=True)
    y = X[:, :outputs] * 0.5 - 1.0  # (n, k) targets; (n,) for one output
    y = y[:, 0] if outputs == 1 else y
    kw = dict(hidden_layer_sizes=(5,), solver="sgd", momentum=0.9)
    lr = 0.002
    ours, theirs = _trained_from_the_same_weights(
        MLPRegressor(**kw), SkMLP(**kw), X, y, lr * outputs / 2, lr, 10
    )
    assert _gap(ours, theirs) < 1e-12
    same_rate, _ = _trained_from_the_same_weights(MLPRegressor(**kw), SkMLP(**kw), X, y, lr, lr, 10)
    assert _gap(same_rate, theirs) > 1e-3


def test_nesterovs_momentum_set_between_partial_fits_applies_to_the_next_step() -> None:
    x, y = load_iris(return_X_y=True)
    params = dict(hidden_layer_sizes=(4,), solver="sgd", batch_size=1000, random_state=0)
    online = MLPClassifier(**params).partial_fit(x, y, classes=[0, 1, 2])
    assert online._opt.nesterov is True
    online.set_params(nesterovs_momentum=False).partial_fit(x, y)
    assert online._opt.nesterov is False
    with pytest.raises(ValueError, match="^nesterovs_momentum must be True or False, got 'no'"):
        MLPClassifier(nesterovs_momentum="no").fit(x, y)


# ---------------------------------------------------------------- parameters (audit15d L6)


def test_validation_fraction_0_is_accepted_without_early_stopping_as_in_scikit_learn() -> None:
    # scikit-learn's range is [0, 1): a grid or a copied configuration with 0.0 was
    # refused ("must be in (0, 1)") although nothing is held out without early stopping
    from sklearn.neural_network import MLPClassifier as SkMLP

    x, y = load_iris(return_X_y=True)
    kw = dict(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        SkMLP(validation_fraction=0.0, **kw).fit(x, y)  # scikit-learn accepts it
        zero = MLPClassifier(validation_fraction=0.0, **kw).fit(x, y)
        default = MLPClassifier(**kw).fit(x, y)
    # the same training: the fraction is unused without early stopping
    assert zero.loss_curve_ == default.loss_curve_ and zero.t_ == 5 * 150
    # with early stopping there would be no rows to stop on: refused, saying why
    message = (
        r"^validation_fraction=0.0 holds out no rows, but early_stopping=True stops on the "
        r"loss of held-out rows; accepted: a validation_fraction in \(0, 1\) with early "
        r"stopping \(0.0 only without it\)$"
    )
    for estimator in (MLPClassifier, MLPRegressor):
        with pytest.raises(ValueError, match=message):
            estimator(validation_fraction=0.0, early_stopping=True).fit(x, y)


# ---------------------------------------------------------------- messages (audit15d L9)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        # NumPy's "expected non-negative integer" named neither the parameter nor the rest
        ({"random_state": -1}, "random_state must be None, an int >= 0, a "
         "numpy.random.RandomState or a numpy.random.Generator, got -1"),
        # RandomState is accepted, and the message says so
        ({"random_state": "seed"}, "random_state must be None, an int >= 0, a "
         "numpy.random.RandomState or a numpy.random.Generator, got 'seed'"),
        # scikit-learn's own name for the sigmoid is accepted: the list names it
        ({"activation": "softmax"}, "unknown activation 'softmax' (accepted: logistic, "
         "sigmoid, tanh, relu, leaky_relu, identity)"),
        ({"activation": "logistc"}, "unknown activation 'logistc' (accepted: logistic, "
         "sigmoid, tanh, relu, leaky_relu, identity); did you mean 'logistic'?"),
        # and so is scikit-learn's default batch size
        ({"batch_size": "Auto"}, "batch_size must be a positive integer or 'auto', got 'Auto'"),
    ],
)  # fmt: skip
def test_a_bad_value_is_named_with_everything_accepted(params, message) -> None:
    x, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError) as caught:
        MLPClassifier(**params).fit(x, y)
    assert str(caught.value) == message


def test_what_the_messages_list_is_accepted() -> None:
    x, y = load_iris(return_X_y=True)
    kw = dict(hidden_layer_sizes=(4,), max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        by_state = MLPClassifier(random_state=np.random.RandomState(0), **kw).fit(x, y)
        by_int = MLPClassifier(random_state=0, activation="Logistic", batch_size="auto", **kw)
        by_int.fit(x, y)
        sigmoid = MLPClassifier(random_state=0, activation="sigmoid", batch_size=150, **kw)
        sigmoid.fit(x, y)
    assert by_state.n_iter_ == 3
    assert by_int.loss_curve_ == sigmoid.loss_curve_


# ---------------------------------------------------------------- validation scores (M3)


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_validation_scores_are_scikit_learns_score_of_each_epoch_on_the_held_out_rows(
    estimator, monkeypatch
) -> None:
    # scikit-learn's MLPs record validation_scores_ (accuracy / R² of the held-out rows
    # after each epoch) and best_validation_score_; code plotting them got AttributeError
    from sklearn.metrics import accuracy_score, r2_score

    seen, train = {}, proplab.sklearn.train

    def spy(*args, **kwargs):
        seen["validation"] = kwargs["validation"]
        return train(*args, **kwargs)

    monkeypatch.setattr(proplab.sklearn, "train", spy)
    x, y = _iris()
    target = y if estimator is MLPClassifier else np.c_[x[:, 0] - x[:, 1], x[:, 2] * 0.5]
    # Adam at a small rate: the validation loss falls every one of the first epochs, so
    # the weights kept after e epochs are epoch e's, and a fit of e epochs is the first
    # e epochs of a longer one (same random_state)
    kw = dict(hidden_layer_sizes=(6,), learning_rate_init=1e-3, early_stopping=True,
              validation_fraction=0.2, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        long = estimator(max_iter=6, **kw).fit(x, target)
        assert len(long.validation_scores_) == len(long.validation_loss_curve_) == 6
        for e in (1, 3, 6):
            short = estimator(max_iter=e, **kw).fit(x, target)
            assert short.best_epoch_ == e  # the last epoch's weights kept
            held_x, held_t = seen["validation"]
            if estimator is MLPClassifier:
                expected = accuracy_score(short.classes_[held_t[:, 0]], short.predict(held_x))
            else:
                expected = r2_score(held_t, short.predict(held_x))
            assert long.validation_scores_[e - 1] == short.best_validation_score_ == expected
        # without early stopping there are none, as in scikit-learn
        plain = estimator(max_iter=2).fit(x, target)
    assert plain.validation_scores_ is None and plain.best_validation_score_ is None
    assert long.best_validation_score_ == long.validation_scores_[long.best_epoch_ - 1]
