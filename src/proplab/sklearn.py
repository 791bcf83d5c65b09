"""A scikit-learn estimator around proplab's hand-written MLP.

``proplab.sklearn.MLPClassifier`` works wherever scikit-learn expects a
classifier (``Pipeline``, ``cross_val_score``, ``GridSearchCV``, ``clone``)::

    from proplab.sklearn import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(64, 64), random_state=0).fit(X_train, y_train)
    clf.score(X_test, y_test), clf.predict_proba(X_test[:3]), clf.loss_curve_[-1]

It needs scikit-learn (``pip install proplab[datasets]``); the core of
proplab never imports this module. The network is
``in -> hidden... -> n_classes`` with a softmax cross-entropy loss (even for
two classes), trained by :func:`proplab.callbacks.train` with mini-batches.

It passes ``sklearn.utils.estimator_checks.check_estimator`` with its
default parameters (run in ``tests/test_sklearn.py``); no check is marked as
an expected failure. What is not checked, and why:

- not generated at all, because the estimator has no such feature (scikit-learn
  only runs them for estimators that do): the ``check_sample_weight*`` family
  and ``check_all_zero_sample_weights_error`` (``fit`` takes no
  ``sample_weight``), and ``check_classifiers_multilabel_*`` (one label per
  sample; the multilabel tag is off);
- passed trivially, for the same reasons: ``check_decision_proba_consistency``
  (no ``decision_function``), ``check_estimators_partial_fit_n_features`` (no
  ``partial_fit``), ``check_classifiers_one_label_sample_weights``;
- skipped by scikit-learn itself: ``check_array_api_input`` unless
  ``SCIPY_ARRAY_API=1`` is set (proplab computes in NumPy only), and
  ``check_classifier_data_not_an_array`` when pandas is not installed.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "proplab.sklearn needs scikit-learn; install it with: pip install proplab[datasets]"
    ) from exc

from proplab.callbacks import EarlyStopping, train
from proplab.core import Sequential
from proplab.losses import CrossEntropyLoss, softmax
from proplab.models import mlp
from proplab.optim import SGD, Adam, Optimizer
from proplab.registry import canonical
from proplab.splits import SplitError, stratified_indices

SOLVERS = ("adam", "sgd")


def _generator(random_state: Any) -> np.random.Generator:
    """A Generator from scikit-learn's ``random_state`` (None: fresh entropy, not global state)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.default_rng(random_state)
    raise ValueError(f"random_state must be None, an int or a Generator, got {random_state!r}")


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """Multilayer perceptron classifier with proplab's explicit backprop.

    Args:
        hidden_layer_sizes: units per hidden layer, e.g. ``(64, 64)``.
        activation: hidden activation name (``relu``, ``tanh``, ``sigmoid``, ...;
            scikit-learn's ``logistic`` is the sigmoid).
        solver: ``"adam"`` or ``"sgd"`` (SGD with ``momentum``).
        alpha: L2 weight decay, PyTorch style (``alpha * w`` added to every
            gradient, biases included; scikit-learn's ``alpha`` is scaled by
            the batch size instead).
        batch_size: samples per mini-batch (clipped to the data size); ``"auto"``
            is scikit-learn's ``min(200, n_samples)``.
        learning_rate_init: the optimizer's learning rate.
        max_iter: maximum number of epochs.
        tol, n_iter_no_change: stop once the training loss (or, with
            ``early_stopping``, the validation loss) has not improved by
            ``tol`` for ``n_iter_no_change`` epochs; otherwise warn with
            scikit-learn's ``ConvergenceWarning`` after ``max_iter`` epochs.
        early_stopping: hold out ``validation_fraction`` of the training
            data (stratified), stop on its loss and restore the best weights.
        momentum: SGD momentum (ignored by Adam).
        init: weight initialiser name (``he`` suits ReLU).
        random_state: seed for weights, shuffling and the validation split.

    Fitted attributes: ``classes_``, ``n_features_in_`` (and
    ``feature_names_in_`` for DataFrames), ``model_`` (the proplab
    ``Sequential``, outputting logits), ``loss_curve_`` (training loss per
    epoch), ``validation_loss_curve_`` (with early stopping, else None),
    ``n_iter_`` (epochs run), ``best_epoch_``.

    Shapes: ``X (n_samples, n_features)``, ``y (n_samples,)`` of any labels.
    """

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (64, 64),
        activation: str = "relu",
        solver: str = "adam",
        alpha: float = 0.0,
        batch_size: int = 64,
        learning_rate_init: float = 3e-3,
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        momentum: float = 0.9,
        init: str = "he",
        random_state: Any = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.momentum = momentum
        self.init = init
        self.random_state = random_state

    def _validate_params(self) -> tuple[list[int], str, str]:
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        if any(not isinstance(h, numbers.Integral) or h <= 0 for h in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}"
            )
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {self.solver!r}")
        for name in ("max_iter", "batch_size", "n_iter_no_change"):
            value = getattr(self, name)
            if name == "batch_size" and value == "auto":  # scikit-learn's default
                continue
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        # checked here under scikit-learn's names (the optimizer would call alpha
        # "weight_decay", the convergence rule would call tol "min_delta")
        for name, low, open_low in (
            ("alpha", 0.0, False),
            ("tol", 0.0, False),
            ("learning_rate_init", 0.0, True),
            ("momentum", 0.0, False),
        ):
            value = getattr(self, name)
            if (
                not isinstance(value, numbers.Real)
                or not np.isfinite(value)
                or (value <= low if open_low else value < low)
            ):
                bound = "> 0" if open_low else ">= 0"
                raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
        if self.momentum > 1:  # scikit-learn's bound too: past 1 the steps grow without end
            raise ValueError(f"momentum must be in [0, 1], got {self.momentum!r}")
        fraction = self.validation_fraction
        if (
            not isinstance(fraction, numbers.Real)
            or isinstance(fraction, bool)
            or not 0.0 < fraction < 1.0
        ):
            raise ValueError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}"
            )
        return (
            [int(h) for h in sizes],
            # scikit-learn's name for the sigmoid, so its grids work here too
            canonical(
                "activation", "sigmoid" if self.activation == "logistic" else self.activation
            ),
            canonical("init", self.init),
        )

    def _optimizer(self, model: Sequential) -> Optimizer:
        if self.solver == "adam":
            return Adam(model.parameters(), lr=self.learning_rate_init, weight_decay=self.alpha)
        return SGD(
            model.parameters(),
            lr=self.learning_rate_init,
            momentum=self.momentum,
            weight_decay=self.alpha,
        )

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Train a fresh network on ``X (n, features)`` and labels ``y (n,)``; return self."""
        hidden, activation, init = self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes, labels = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"MLPClassifier needs samples of at least 2 classes; y holds only one class: "
                f"{classes[0]}"
            )
        rng = _generator(self.random_state)
        labels = labels.reshape(-1, 1)
        validation, stopper = None, None
        if self.early_stopping:
            try:
                tr, va, _ = stratified_indices(labels, self.validation_fraction, 0.0, rng)
            except SplitError as exc:
                raise ValueError(f"early_stopping: {exc}") from None
            X, labels, validation = X[tr], labels[tr], (X[va], labels[va])
            stopper = EarlyStopping(self.n_iter_no_change, self.tol)
        model = mlp(
            X.shape[1],
            hidden,
            len(classes),
            activation=activation,
            output_activation=None,
            init=init,
            rng=rng,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # reported below as divergence
            history = train(
                model,
                CrossEntropyLoss(),
                self._optimizer(model),
                X,
                labels,
                self.max_iter,
                batch_size=min(200 if self.batch_size == "auto" else self.batch_size, len(X)),
                rng=rng,
                validation=validation,
                early_stopping=stopper,
                tol=self.tol,
                n_iter_no_change=self.n_iter_no_change,
                warn=False,
            )
        if history.stop_reason == "diverged":
            raise ValueError(f"{history.message} (learning_rate_init={self.learning_rate_init})")
        self.classes_ = classes
        self.model_ = model
        self.loss_curve_ = [float(v) for v in history.loss]
        self.validation_loss_curve_ = history.val_loss if self.early_stopping else None
        self.n_iter_ = history.epochs_run
        self.best_epoch_ = history.best_epoch if self.early_stopping else history.epochs_run
        if history.stop_reason == "completed":
            warnings.warn(
                f"MLPClassifier: stopped at max_iter={self.max_iter} epochs without converging "
                f"(the loss still improved by more than tol={self.tol} within "
                f"{self.n_iter_no_change} epochs); raise max_iter",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``, columns in the order of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return softmax(self.model_.forward(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row: ``(n,)`` of values from ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.classes_[self.model_.forward(X).argmax(axis=1)]
