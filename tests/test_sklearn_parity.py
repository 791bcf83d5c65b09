"""proplab.sklearn where an audit against scikit-learn's MLPs (audit15d) found it differing:
sparse X, Nesterov momentum, validation_fraction=0.0, and the error messages. Where the
behaviour is scikit-learn's, the test runs scikit-learn's estimator beside proplab's."""

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
sparse = pytest.importorskip("scipy.sparse")  # installed with scikit-learn

from sklearn.exceptions import ConvergenceWarning  # noqa: E402

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
