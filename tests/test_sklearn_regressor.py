"""proplab.sklearn.MLPRegressor: a smooth function learnt, one step against NumPy by hand,
the shapes predict returns, warm_start, partial_fit, early stopping and the errors.

scikit-learn's estimator checks for it run in test_sklearn.py, beside the classifier's.
"""

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from test_sklearn import _same_weights  # noqa: E402 (the shared helper)

from proplab.models import mlp  # noqa: E402
from proplab.sklearn import MLPRegressor  # noqa: E402


def _sin(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``x (n, 1)`` uniform on [-3, 3] and ``sin(x) (n,)``."""
    x = np.random.default_rng(seed).uniform(-3.0, 3.0, (n, 1))
    return x, np.sin(x[:, 0])


def test_it_learns_sin_on_minus_3_to_3() -> None:
    x, y = _sin()
    reg = MLPRegressor(hidden_layer_sizes=(32, 32), random_state=0).fit(x, y)
    grid = np.linspace(-3.0, 3.0, 201)[:, None]
    pred = reg.predict(grid)
    assert pred.shape == (201,)
    # score is R^2 (RegressorMixin): 1 - SSE / SST, computed here by hand
    truth = np.sin(grid[:, 0])
    r2 = 1.0 - np.sum((truth - pred) ** 2) / np.sum((truth - truth.mean()) ** 2)
    assert reg.score(grid, truth) == pytest.approx(r2, rel=1e-12)
    assert r2 > 0.9
    # the loss curve is the MSE per epoch, and it fell by orders of magnitude
    assert reg.loss_curve_[-1] < 0.02 * reg.loss_curve_[0]
    assert reg.n_iter_ == len(reg.loss_curve_) < 200  # converged by the tol rule


def test_one_step_is_a_hand_written_numpy_mse_gradient_step() -> None:
    # 2 inputs -> 3 tanh units -> 2 identity outputs, 5 samples; one partial_fit with a
    # batch covering the data is one full-batch step of plain SGD with weight decay
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    lr, alpha = 0.1, 0.01
    reg = MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", solver="sgd", momentum=0.0,
                       alpha=alpha, learning_rate_init=lr, batch_size=100, init="xavier",
                       random_state=11)  # fmt: skip
    # the first weights are what random_state=11 draws (as the estimator does)
    start = mlp(2, [3], 2, activation="tanh", output_activation=None, init="xavier",
                rng=np.random.default_rng(11)).state_dict()  # fmt: skip
    w1, b1, w2, b2 = (start[k] for k in ("0.weight", "0.bias", "2.weight", "2.bias"))
    reg.partial_fit(x, y)

    h = np.tanh(x @ w1 + b1)  # (5, 3)
    p = h @ w2 + b2  # (5, 2)
    loss = np.mean((p - y) ** 2)  # over samples and outputs: N = 10
    g_p = 2.0 * (p - y) / p.size
    g_w2, g_b2 = h.T @ g_p, g_p.sum(axis=0)
    g_z = (g_p @ w2.T) * (1.0 - h**2)
    g_w1, g_b1 = x.T @ g_z, g_z.sum(axis=0)
    expected = {  # alpha * w added to every gradient, biases included
        "0.weight": w1 - lr * (g_w1 + alpha * w1),
        "0.bias": b1 - lr * (g_b1 + alpha * b1),
        "2.weight": w2 - lr * (g_w2 + alpha * w2),
        "2.bias": b2 - lr * (g_b2 + alpha * b2),
    }
    got = reg.model_.state_dict()
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-12, atol=1e-15)
    assert reg.loss_curve_ == [pytest.approx(loss, rel=1e-12)]
    # the prediction is the network's output after the step, (n, 2) for a 2-D y
    h = np.tanh(x @ got["0.weight"] + got["0.bias"])
    np.testing.assert_allclose(reg.predict(x), h @ got["2.weight"] + got["2.bias"], rtol=1e-12)


def test_predict_has_the_shape_of_the_y_it_was_fitted_on() -> None:
    x, y = _sin(60)
    params = dict(hidden_layer_sizes=(4,), max_iter=3, tol=0.0, random_state=0)
    with pytest.warns(ConvergenceWarning):
        flat = MLPRegressor(**params).fit(x, y)
    with pytest.warns(ConvergenceWarning):
        column = MLPRegressor(**params).fit(x, y[:, None])
    with pytest.warns(ConvergenceWarning):
        three = MLPRegressor(**params).fit(x, np.stack([y, 2 * y, -y], axis=1))
    assert flat.predict(x).shape == (60,) and flat.n_outputs_ == 1
    assert column.predict(x).shape == (60, 1) and column.n_outputs_ == 1
    assert three.predict(x).shape == (60, 3) and three.n_outputs_ == 3
    # a 1-D y and its column train the same network, bit for bit
    np.testing.assert_array_equal(flat.predict(x), column.predict(x)[:, 0])


def test_warm_start_and_partial_fit_continue_the_fitted_network() -> None:
    x, y = _sin(100)
    params = dict(hidden_layer_sizes=(8,), batch_size=32, tol=0.0, random_state=2)
    # 4 epochs, then 3 partial_fit calls: the 7 epochs of one fit (same weights draw,
    # optimizer and shuffling stream continued), as for the classifier
    with pytest.warns(ConvergenceWarning):
        online = MLPRegressor(max_iter=4, **params).fit(x, y)
    for _ in range(3):
        online.partial_fit(x, y)
    with pytest.warns(ConvergenceWarning):
        seven = MLPRegressor(max_iter=7, **params).fit(x, y)
    assert _same_weights(online, seven) and online.loss_curve_ == seven.loss_curve_
    # a warm fit with plain full-batch SGD (no optimizer state, no shuffle): 4 + 3 = 7
    sgd = dict(hidden_layer_sizes=(8,), solver="sgd", momentum=0.0, batch_size=1000,
               learning_rate_init=0.05, tol=0.0, random_state=2)  # fmt: skip
    warm = MLPRegressor(max_iter=4, warm_start=True, **sgd)
    with pytest.warns(ConvergenceWarning):
        warm.fit(x, y)
    with pytest.warns(ConvergenceWarning):
        warm.set_params(max_iter=3).fit(x, y)
    with pytest.warns(ConvergenceWarning):
        once = MLPRegressor(max_iter=7, **sgd).fit(x, y)
    assert _same_weights(warm, once) and warm.loss_curve_ == once.loss_curve_


def test_early_stopping_holds_out_random_rows_and_keeps_the_best_epoch(monkeypatch) -> None:
    import proplab.sklearn as module

    seen, train = {}, module.train

    def spy(model, loss, opt, x, y, epochs, **kwargs):
        seen["x"], seen["validation"] = x, kwargs["validation"]
        return train(model, loss, opt, x, y, epochs, **kwargs)

    monkeypatch.setattr(module, "train", spy)
    x, y = _sin(40)
    reg = MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.05, early_stopping=True,
                       validation_fraction=0.25, n_iter_no_change=5, random_state=0)  # fmt: skip
    reg.fit(x, y)
    trained, (held_out, held_y) = seen["x"], seen["validation"]
    # ceil(0.25 * 40) = 10 rows held out, the other 30 trained on, each row once
    assert len(trained) == 30 and len(held_out) == 10
    np.testing.assert_array_equal(np.sort(np.concatenate([trained, held_out])[:, 0]),
                                  np.sort(x[:, 0]))  # fmt: skip
    np.testing.assert_array_equal(held_y[:, 0], np.sin(held_out[:, 0]))
    curve = reg.validation_loss_curve_
    assert reg.best_epoch_ == int(np.argmin(curve)) + 1 < reg.n_iter_


def test_errors_name_the_bad_value_and_what_is_accepted() -> None:
    x, y = _sin(40)
    x2 = np.hstack([x, x**2])
    reg = MLPRegressor(hidden_layer_sizes=(4,), tol=100.0, random_state=0).fit(x2, y)
    before = reg.model_.state_dict()
    # partial_fit after a fit on 2 features, given 3
    with pytest.raises(
        ValueError, match=r"^X has 3 features, but MLPRegressor is expecting 2 features as input"
    ):
        reg.partial_fit(np.hstack([x2, x]), y)
    # another number of outputs
    with pytest.raises(
        ValueError,
        match=r"^y has 2 outputs \(shape \(40, 2\)\), but the fitted network has 1; "
        r"accepted: y of shape \(n,\) or \(n, 1\)$",
    ):
        reg.partial_fit(x2, np.stack([y, y], axis=1))
    assert all(np.array_equal(reg.model_.state_dict()[k], v) for k, v in before.items())
    # too few rows for early stopping's split
    with pytest.raises(
        ValueError,
        match=r"^early_stopping: validation_fraction=0.1 of 1 samples holds out 1 and leaves "
        r"none to train on; accepted: a smaller validation_fraction or more samples",
    ):
        MLPRegressor(early_stopping=True).fit(x[:1], y[:1])
    # a target that is not numbers
    with pytest.raises(ValueError, match="could not convert string to float: 'a'"):
        MLPRegressor().fit(x[:3], np.array(["a", "b", "c"], dtype=object))
