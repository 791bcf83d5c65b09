"""scikit-learn estimators around proplab's hand-written MLP.

``proplab.sklearn.MLPClassifier`` and ``proplab.sklearn.MLPRegressor`` work
wherever scikit-learn expects a classifier or a regressor (``Pipeline``,
``cross_val_score``, ``GridSearchCV``, ``clone``)::

    from proplab.sklearn import MLPClassifier, MLPRegressor
    clf = MLPClassifier(hidden_layer_sizes=(64, 64), random_state=0).fit(X_train, y_train)
    clf.score(X_test, y_test), clf.predict_proba(X_test[:3]), clf.loss_curve_[-1]
    reg = MLPRegressor(hidden_layer_sizes=(32,), random_state=0).fit(X_train, t_train)
    reg.score(X_test, t_test)  # R^2

They need scikit-learn 1.6 or newer (``pip install 'proplab[datasets]'``); the core of
proplab never imports this module. The classifier's network is
``in -> hidden... -> n_classes`` with a softmax cross-entropy loss (even for
two classes); the regressor's is ``in -> hidden... -> n_outputs`` with an
identity output and the mean squared error. ``X`` may be a dense array or a
scipy.sparse CSR/CSC matrix (as in scikit-learn, e.g. after ``TfidfVectorizer``);
a sparse ``X`` is densified with ``.toarray()`` first, so it takes the memory of
its dense twin and gives exactly its results. Both train with mini-batches by
:func:`proplab.callbacks.train`, and offer scikit-learn's ``warm_start`` and
``partial_fit`` (one epoch over the data given per call).

Both pass ``sklearn.utils.estimator_checks.check_estimator`` with their
default parameters (run in ``tests/test_sklearn.py``, every check one test
case); no check is marked as an expected failure.
Since both have ``partial_fit``, the checks that call it run too:
``check_estimators_partial_fit_n_features``, and the ``partial_fit`` parts of
``check_n_features_in_after_fitting`` and ``check_fit_score_takes_y``. What
is not checked, and why:

- not generated at all, because the estimators have no such feature
  (scikit-learn only runs them for estimators that do): the
  ``check_sample_weight*`` family and ``check_all_zero_sample_weights_error``
  (``fit`` takes no ``sample_weight``), and ``check_classifiers_multilabel_*``
  (one label per sample; the multilabel tag is off);
- passed trivially, for the same reasons: ``check_decision_proba_consistency``
  (no ``decision_function``), ``check_classifiers_one_label_sample_weights``;
- skipped by scikit-learn itself: ``check_array_api_input`` unless
  ``SCIPY_ARRAY_API=1`` is set (proplab computes in NumPy only), and, when
  pandas is not installed, ``check_classifier_data_not_an_array`` and
  ``check_regressor_data_not_an_array`` once their non-pandas half has passed.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

try:
    from scipy.sparse import issparse  # scikit-learn's own dependency
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import r2_score
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:
    try:  # installed but too old? validate_data and __sklearn_tags__'s Tags are 1.6's
        from sklearn import __version__ as _found
    except ImportError:
        raise ImportError(
            "proplab.sklearn needs scikit-learn; install it with: pip install 'proplab[datasets]'"
        ) from exc
    raise ImportError(
        f"proplab.sklearn needs scikit-learn>=1.6 (validate_data, __sklearn_tags__), "
        f"found {_found}; upgrade it with: pip install -U 'scikit-learn>=1.6'"
    ) from exc

from proplab.callbacks import EarlyStopping, loss_grew, train
from proplab.checks import did_you_mean
from proplab.core import Sequential, eval_mode
from proplab.layers import Linear
from proplab.losses import CrossEntropyLoss, Loss, MSELoss, softmax
from proplab.models import mlp
from proplab.optim import SGD, Adam
from proplab.optim_base import Optimizer
from proplab.registry import REGISTRIES, canonical
from proplab.splits import SplitError, stratified_indices

SOLVERS = ("adam", "sgd")
# sparse X that validate_data accepts (scikit-learn's MLPs' formats); densified at once
_SPARSE = ("csr", "csc")


_RANDOM_STATES = "None, an int >= 0, a numpy.random.RandomState or a numpy.random.Generator"


def _generator(random_state: Any) -> np.random.Generator:
    """A Generator from scikit-learn's ``random_state`` (None: fresh entropy, not global state)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if random_state is None:
        return np.random.default_rng()
    # a negative seed would reach NumPy's "expected non-negative integer", which names
    # neither random_state nor what it accepts
    if isinstance(random_state, numbers.Integral) and int(random_state) >= 0:
        return np.random.default_rng(int(random_state))
    raise ValueError(f"random_state must be {_RANDOM_STATES}, got {random_state!r}")


def _activation(name: Any) -> str:
    """proplab's registered name for ``activation``; scikit-learn's ``logistic`` is the
    sigmoid (so its grids work here too), and a bad name's message lists it."""
    key = str(name).strip().lower()
    if key == "logistic":
        return "sigmoid"
    try:
        return canonical("activation", name)
    except ValueError:
        table, aliases = REGISTRIES["activation"]
        accepted = ["logistic", *table]
        raise ValueError(
            f"unknown activation {name!r} (accepted: {', '.join(accepted)})"
            + did_you_mean(key, [*accepted, *aliases])
        ) from None


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, from the logits: ``(n, C)`` -> ``(n, C)``.

    ``z - max - log(sum(exp(z - max)))``: finite for any finite logits, where
    ``log(softmax(z))`` is ``-inf`` once a probability underflows to 0 (a logit
    ~745 below the row's largest).
    """
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _dense(X: Any) -> np.ndarray:
    """``X (n, features)`` as a NumPy array: a sparse CSR/CSC matrix (which
    ``validate_data`` accepts, as scikit-learn's MLPs do) densified with
    ``.toarray()``, so the NumPy core never sees a sparse matrix."""
    return X.toarray() if issparse(X) else X


def _plain(values: Any) -> Any:
    """Labels as Python values for messages: ``[0, 1]``, not ``[np.int64(0), ...]``."""
    return np.asarray(values).tolist()


class _ScoredStopping(EarlyStopping):
    """Early stopping on the validation loss that also scores each epoch's weights on
    the held-out rows, as scikit-learn's ``validation_scores_`` (``score(model)``, e.g.
    accuracy or R²), in ``scores``."""

    def __init__(
        self, patience: int, min_delta: float, score: Callable[[Sequential], float]
    ) -> None:
        self._score = score
        super().__init__(patience, min_delta)

    def reset(self) -> None:
        super().reset()
        self.scores: list[float] = []

    def update(self, epoch: int, value: float, model: Any = None) -> bool:
        # train calls this once per epoch, after the epoch's update: the weights scored
        self.scores.append(self._score(model))
        return super().update(epoch, value, model)


class _BaseMLP(BaseEstimator):
    """What both estimators share: parameters, the network, fit / warm_start / partial_fit.

    A subclass says how targets become the loss's input (:meth:`_targets`),
    which loss it trains (:meth:`_loss`), how early stopping holds data out
    (:meth:`_validation_split`), and what ``validate_data`` checks on ``y``
    (``_y_checks``). The parameters are documented on :class:`MLPClassifier`.
    """

    _y_checks: dict[str, Any] = {}
    _out_activation: str  # out_activation_, as scikit-learn names the output function
    # set by fit (the ones the next warm fit or partial_fit reads back)
    model_: Sequential
    loss_curve_: list[float]
    _rng: np.random.Generator

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
        nesterovs_momentum: bool = True,
        init: str = "he",
        random_state: Any = None,
        warm_start: bool = False,
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
        self.nesterovs_momentum = nesterovs_momentum
        self.init = init
        self.random_state = random_state
        self.warm_start = warm_start

    # ------------------------------------------------------------------ subclass hooks

    def _targets(
        self, y: np.ndarray, keep: bool, warm: bool, classes: np.ndarray | None
    ) -> tuple[np.ndarray, int, dict[str, Any]]:
        """``y`` as the loss takes it (``(n, 1)`` labels or ``(n, k)`` values), the
        network's number of outputs, and the fitted attributes that describe ``y`` (set
        only once training has succeeded).

        ``keep``: the fitted network is continued (its targets must fit it); ``warm``:
        by a warm ``fit`` (not partial_fit); ``classes``: partial_fit's first ``classes``.
        """
        raise NotImplementedError

    def _loss(self) -> Loss:
        raise NotImplementedError

    def _validation_split(
        self, targets: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row indices ``(train, validation)`` for early stopping."""
        raise NotImplementedError

    @staticmethod
    def _held_out_score(out: np.ndarray, targets: np.ndarray) -> float:
        """scikit-learn's validation score of outputs ``(n, outputs)`` against the
        loss's ``targets`` (accuracy for the classifier, R² for the regressor)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ parameters

    def _validate_params(self) -> tuple[list[int], str, str]:
        given = self.hidden_layer_sizes
        sizes = [given] if isinstance(given, numbers.Integral) else list(given)
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
                also = " or 'auto'" if name == "batch_size" else ""
                raise ValueError(f"{name} must be a positive integer{also}, got {value!r}")
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
                # math's, not NumPy's: np.isfinite refuses a Fraction (a Real) with a ufunc error
                or not math.isfinite(value)
                or (value <= low if open_low else value < low)
            ):
                bound = "> 0" if open_low else ">= 0"
                raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
        if self.momentum > 1:  # scikit-learn's bound too: past 1 the steps grow without end
            raise ValueError(f"momentum must be in [0, 1], got {self.momentum!r}")
        for name in ("warm_start", "early_stopping", "nesterovs_momentum"):
            # a string "False" is truthy: it would silently mean True
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        fraction = self.validation_fraction
        # scikit-learn's range, [0, 1): 0.0 is fine while nothing is held out
        if (
            not isinstance(fraction, numbers.Real)
            or isinstance(fraction, bool)
            or not 0.0 <= fraction < 1.0
        ):
            raise ValueError(f"validation_fraction must be in [0, 1), got {fraction!r}")
        if self.early_stopping and fraction == 0.0:
            raise ValueError(
                f"validation_fraction={fraction!r} holds out no rows, but early_stopping=True "
                "stops on the loss of held-out rows; accepted: a validation_fraction in "
                "(0, 1) with early stopping (0.0 only without it)"
            )
        return (
            [int(h) for h in sizes],
            _activation(self.activation),
            canonical("init", self.init),
        )

    def _nesterov(self) -> bool:
        """SGD's ``nesterov``: ``nesterovs_momentum``, when there is momentum to look
        ahead with (with momentum 0 both rules are plain SGD; proplab's SGD refuses
        Nesterov without momentum, scikit-learn's ignores it)."""
        return bool(self.nesterovs_momentum) and self.momentum > 0

    def _new_optimizer(self, model: Sequential) -> Optimizer:
        """A fresh optimizer over ``model``'s parameters, as the parameters describe it."""
        if self.solver == "adam":
            return Adam(model.parameters(), lr=self.learning_rate_init, weight_decay=self.alpha)
        return SGD(
            model.parameters(),
            lr=self.learning_rate_init,
            momentum=self.momentum,
            nesterov=self._nesterov(),
            weight_decay=self.alpha,
        )

    def _continued_optimizer(self, model: Sequential) -> Optimizer:
        """partial_fit's optimizer: the one of the earlier calls (or of fit), state kept.

        Its momentum or Adam moments carry over, as in scikit-learn. A learning
        rate, ``alpha``, ``momentum`` or ``nesterovs_momentum`` changed with
        ``set_params`` between calls applies from the next step (scikit-learn
        silently keeps the old ones); a changed ``solver`` starts a fresh optimizer.
        """
        opt = self.__dict__.get("_opt")
        if opt is None or not isinstance(opt, Adam if self.solver == "adam" else SGD):
            return self._new_optimizer(model)
        wanted = {"lr": self.learning_rate_init, "weight_decay": self.alpha}
        if isinstance(opt, SGD):  # solver "sgd" (the check above)
            wanted["momentum"] = self.momentum
            # an option, not a hyperparameter: the momentum buffer serves both rules
            opt.nesterov = self._nesterov()
        for name, value in wanted.items():
            if opt.hyper[name] != value:
                opt.set_hyper(name, float(value))
        return opt

    # ------------------------------------------------------------------ training

    def _batch_size(self, n: int) -> int:
        return min(200 if self.batch_size == "auto" else self.batch_size, n)

    def _check_architecture(self, hidden: list[int], activation: str) -> None:
        """A warm fit or partial_fit continues the fitted network: its parameters must
        still describe it."""
        fitted_hidden, fitted_activation = self._architecture
        if (fitted_hidden, fitted_activation) != (hidden, activation):
            raise ValueError(
                f"hidden_layer_sizes={self.hidden_layer_sizes!r}, "
                f"activation={self.activation!r} describe hidden layers {hidden} of "
                f"{activation}, but the fitted network (continued by warm_start and "
                f"partial_fit) has {fitted_hidden} of {fitted_activation}; set them back, "
                "or fit a new network with warm_start=False"
            )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # CSR/CSC X, densified (as scikit-learn's MLPs tag it)
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted once a network exists (``n_features_in_`` alone is set by a fit that failed)."""
        return hasattr(self, "model_")

    def _fit(
        self, X: Any, y: Any, *, incremental: bool, classes: np.ndarray | None = None
    ) -> _BaseMLP:
        """fit (``incremental=False``: up to ``max_iter`` epochs, a new network unless
        ``warm_start``) or partial_fit (one epoch, continuing any fitted network).

        A call that fails (bad data, divergence, a split it cannot make) leaves the
        estimator as it was: ``validate_data`` sets ``n_features_in_`` (and
        ``feature_names_in_``) first, so they are put back.
        """
        names = ("n_features_in_", "feature_names_in_")
        saved = {k: self.__dict__[k] for k in names if k in self.__dict__}
        try:
            return self._fit_unguarded(X, y, incremental=incremental, classes=classes)
        except BaseException:
            for k in names:
                self.__dict__.pop(k, None)
            self.__dict__.update(saved)
            raise

    def _fit_unguarded(
        self, X: Any, y: Any, *, incremental: bool, classes: np.ndarray | None
    ) -> _BaseMLP:
        """:meth:`_fit`'s work, which may leave ``n_features_in_`` changed when it raises."""
        hidden, activation, init = self._validate_params()
        if incremental and self.early_stopping:
            raise ValueError(
                "partial_fit trains one epoch on the data it is given, with no data held "
                "out to stop on: early_stopping must be False, got True"
            )
        name = type(self).__name__
        # continue the fitted network (scikit-learn: partial_fit always, fit with warm_start)
        keep = hasattr(self, "model_") and (incremental or bool(self.warm_start))
        X, y = validate_data(
            self, X, y, dtype=np.float64, accept_sparse=_SPARSE, reset=not keep, **self._y_checks
        )
        X = _dense(X)
        targets, n_outputs, fitted = self._targets(y, keep, keep and not incremental, classes)
        if keep:
            self._check_architecture(hidden, activation)
        # partial_fit continues one random stream across calls, so k calls on the same
        # data shuffle as the k epochs of one fit; scikit-learn re-seeds every call
        # (with an int random_state every call would then shuffle in the same order).
        # A fit, warm or not, starts from random_state as scikit-learn's does.
        rng = self._rng if incremental and keep else _generator(self.random_state)
        validation, stopper = None, None
        if self.early_stopping:
            tr, va = self._validation_split(targets, rng)
            X, targets, validation = X[tr], targets[tr], (X[va], targets[va])
            held_x, held_t = validation

            def score(model: Sequential) -> float:
                with eval_mode(model):
                    return self._held_out_score(model.forward(held_x), held_t)

            stopper = _ScoredStopping(self.n_iter_no_change, self.tol, score)
        if keep:
            model = self.model_
            # scikit-learn's warm fit builds a new optimizer (momentum and Adam's
            # moments restart); partial_fit keeps the one it had
            optimizer = (
                self._continued_optimizer(model) if incremental else self._new_optimizer(model)
            )
            before = model.state_dict()  # put back if this call diverges
        else:
            model = mlp(
                X.shape[1],
                hidden,
                n_outputs,
                activation=activation,
                output_activation=None,
                init=init,
                rng=rng,
            )
            optimizer, before = self._new_optimizer(model), None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # reported below as divergence
            history = train(
                model,
                self._loss(),
                optimizer,
                X,
                targets,
                1 if incremental else self.max_iter,
                batch_size=self._batch_size(len(X)),
                rng=rng,
                validation=validation,
                early_stopping=stopper,
                # scikit-learn's tol is train's min_improvement; one epoch: no such rule
                min_improvement=None if incremental else self.tol,
                n_iter_no_change=self.n_iter_no_change,
                warn=False,
            )
        if history.stop_reason == "diverged":
            if before is not None:  # the fitted network stays as it was before this call
                model.load_state_dict(before)
                self.__dict__.pop("_opt", None)  # its state holds inf/NaN now
            raise ValueError(f"{history.message} (learning_rate_init={self.learning_rate_init})")
        for attr, value in fitted.items():
            setattr(self, attr, value)
        self.model_ = model
        self._opt, self._rng, self._architecture = optimizer, rng, (hidden, activation)
        # the loss curve runs on across warm fits and partial_fit calls, as in scikit-learn;
        # n_iter_, validation_loss_curve_ and best_epoch_ describe the last call only
        # (scikit-learn's validation_scores_ and best score carry on across warm fits)
        earlier = self.loss_curve_ if keep else []
        self.loss_curve_ = earlier + [float(v) for v in history.loss]
        self.validation_loss_curve_ = history.val_loss if self.early_stopping else None
        self.n_iter_ = history.epochs_run
        self.best_epoch_ = history.best_epoch if self.early_stopping else history.epochs_run
        # scikit-learn's validation_scores_ (one held-out score per epoch); the best is
        # that of the weights kept, those of the lowest validation loss
        self.validation_scores_ = stopper.scores if stopper is not None else None
        best = self.best_epoch_ or 0
        kept = stopper is not None and 1 <= best <= len(stopper.scores)
        self.best_validation_score_ = (
            stopper.scores[best - 1] if stopper is not None and kept else None
        )
        # scikit-learn's other fitted attributes, with its semantics: the last and the
        # lowest training loss (None with early stopping, which stops on the validation
        # loss), samples seen across warm fits and partial_fit calls, layers counting
        # input and output; loss_ and best_loss_ are proplab's loss, as loss_curve_ is
        self.loss_ = self.loss_curve_[-1]
        self.best_loss_ = None if self.early_stopping else min(self.loss_curve_)
        self.t_ = (getattr(self, "t_", 0) if keep else 0) + history.epochs_run * len(X)
        self.n_layers_ = len(hidden) + 2
        self.n_outputs_ = n_outputs
        self.out_activation_ = self._out_activation
        if not incremental and history.stop_reason == "completed":
            grew = loss_grew(history.val_loss if self.early_stopping else history.loss)
            warnings.warn(
                f"{name}: stopped at max_iter={self.max_iter} epochs without converging "
                + (
                    f"(the loss {grew}); lower learning_rate_init"
                    if grew
                    else f"(the loss still improved by more than tol={self.tol} within "
                    f"{self.n_iter_no_change} epochs); raise max_iter"
                ),
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Each layer's weights as scikit-learn names them: ``coefs_[i]`` is
        ``(units in, units out)`` of layer i (views of the network's, not copies)."""
        return [layer.weight.data for layer in self._linear_layers()]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Each layer's biases ``(units out,)``, as scikit-learn's ``intercepts_``."""
        # the network is built with biases: every Linear has one
        return [layer.params["bias"].data for layer in self._linear_layers()]

    def _linear_layers(self) -> list[Linear]:
        check_is_fitted(self)
        return [layer for layer in self.model_.layers if isinstance(layer, Linear)]

    def _forward(self, X: Any) -> np.ndarray:
        """The network's output for ``X (n, n_features)``: ``(n, outputs)``."""
        check_is_fitted(self)
        X = _dense(validate_data(self, X, dtype=np.float64, accept_sparse=_SPARSE, reset=False))
        with eval_mode(self.model_):  # a prediction: dropout off, batchnorm's running stats
            return self.model_.forward(X)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multilayer perceptron classifier with proplab's explicit backprop.

    Args:
        hidden_layer_sizes: units per hidden layer, e.g. ``(64, 64)``.
        activation: hidden activation name (``relu``, ``tanh``, ``sigmoid``, ...;
            scikit-learn's ``logistic`` is the sigmoid).
        solver: ``"adam"`` or ``"sgd"`` (SGD with ``momentum``, Nesterov's by default).
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
        validation_fraction: the part held out by ``early_stopping``, in
            ``[0, 1)`` as in scikit-learn (``0.0`` only without early stopping).
        momentum: SGD momentum (ignored by Adam).
        nesterovs_momentum: SGD with Nesterov's momentum (``True``, the default,
            which follows scikit-learn's: its steps are scikit-learn's) or plain
            heavy-ball momentum (``False``); ignored by Adam and when ``momentum`` is 0.
        init: weight initialiser name (``he`` suits ReLU).
        random_state: seed for weights, shuffling and the validation split: an
            int, a ``RandomState`` or a ``Generator``; ``None`` draws fresh entropy
            at every fit, so ``np.random.seed`` has no effect (unlike
            scikit-learn, whose ``None`` is NumPy's global random state).
        warm_start: ``fit`` continues from the fitted network's weights instead
            of drawing new ones (scikit-learn's semantics: a new optimizer, so
            momentum and Adam's moments restart, shuffling drawn from
            ``random_state`` again, ``max_iter`` more epochs at most; ``y`` must
            hold the same classes, the hidden layers and activation must be
            unchanged).

    ``partial_fit(X, y, classes=None)`` trains one epoch (mini-batches of
    ``batch_size``) on the data given, continuing the fitted network and its
    optimizer; ``classes`` (every label there will be) is required on the first
    call, as in scikit-learn.

    Fitted attributes: ``classes_``, ``n_features_in_`` (and
    ``feature_names_in_`` for DataFrames), ``model_`` (the proplab
    ``Sequential``, outputting logits), ``loss_curve_`` (training loss per
    epoch, across warm fits and partial_fit calls), ``validation_loss_curve_``
    (with early stopping, else None), ``n_iter_`` (epochs the last call ran),
    ``best_epoch_``, ``validation_scores_`` (with early stopping, else None:
    scikit-learn's, the accuracy on the held-out rows after each epoch of the
    last call), ``best_validation_score_`` (that of the weights kept, at
    ``best_epoch_``; None without early stopping), ``coefs_`` / ``intercepts_`` (each layer's weights and
    biases), and as scikit-learn's: ``loss_`` (the last epoch's training loss),
    ``best_loss_`` (the lowest; None with early stopping), ``t_`` (training samples
    seen, across warm fits and partial_fit calls), ``n_layers_`` (hidden layers + 2),
    ``n_outputs_`` (one per class, two for two classes, where scikit-learn has one)
    and ``out_activation_`` (``"softmax"``; scikit-learn's is ``"logistic"`` for two
    classes).

    Differences from scikit-learn's ``MLPClassifier`` (same names, other values):

    - defaults: ``hidden_layer_sizes=(64, 64)``, ``learning_rate_init=3e-3``,
      ``batch_size=64``, ``alpha=0.0`` and He initialisation, where scikit-learn
      has ``(100,)``, ``1e-3``, ``"auto"``, ``1e-4`` and Glorot's uniform one (it
      has no ``init``); the rest are its defaults (relu, adam, 200 epochs,
      ``tol=1e-4``, ``n_iter_no_change=10``, ``momentum=0.9``,
      ``nesterovs_momentum=True``, ``validation_fraction=0.1``).
    - not taken (a TypeError, or "Invalid parameter" from ``set_params`` and
      ``GridSearchCV``): ``learning_rate`` and ``power_t`` (no schedules),
      ``shuffle`` (always shuffled), ``verbose``, ``beta_1`` / ``beta_2`` /
      ``epsilon`` (Adam's are 0.9, 0.999 and 1e-8, its defaults), ``max_fun``
      and ``solver="lbfgs"``, ``sample_weight``.
    - ``loss_curve_``, ``loss_`` and ``best_loss_`` are the data loss (the
      cross-entropy) without the weight-decay term: scikit-learn's add
      ``0.5 * alpha * sum ||W||^2 / batch size``, the objective it minimises,
      so they differ when ``alpha > 0`` (equal with ``alpha=0``), and ``tol``
      watches another quantity.
    - ``early_stopping`` stops on the validation loss; scikit-learn stops on the
      validation score (accuracy), so the two stop at different epochs (on
      iris with ``(8,)`` units: scikit-learn after 12, proplab after 300, where
      the accuracy sat on a plateau as the loss fell). ``validation_scores_``
      records the score all the same.
    - the ``tol`` rule is scikit-learn's documented one: stop after
      ``n_iter_no_change`` epochs in a row without a gain above ``tol``. Its code
      needs one epoch more, so it stops at least one epoch later (where proplab
      stops at the ``max_iter``-th epoch, scikit-learn runs out of epochs and warns),
      and many epochs later when that extra epoch brings a gain and the count starts
      again.
    - ``random_state=None`` ignores ``np.random.seed`` (see above).

    Shapes: ``X (n_samples, n_features)``, ``y (n_samples,)`` of any labels.
    """

    _out_activation = "softmax"  # one logit per class, two for two classes

    def _targets(
        self, y: np.ndarray, keep: bool, warm: bool, classes: np.ndarray | None
    ) -> tuple[np.ndarray, int, dict[str, Any]]:
        """Labels ``(n,)`` -> class indices ``(n, 1)`` into ``classes_``; one output per class."""
        check_classification_targets(y)
        present = np.unique(y)
        if keep or classes is not None:
            known = self.classes_ if keep or classes is None else classes
            outside = present[~np.isin(present, known)]
            if warm:
                # scikit-learn's rule for a warm fit: the same classes, all of them
                if len(outside) or len(present) != len(known):
                    raise ValueError(
                        f"warm_start: y holds the classes {_plain(present)}, but the fitted "
                        f"network has classes_ {_plain(known)}; a warm fit needs y with "
                        "exactly those (or warm_start=False to fit a new network)"
                    )
            elif len(outside):
                raise ValueError(
                    f"y holds the label {_plain(outside[0])!r}, which is not in classes_ "
                    f"{_plain(known)}; accepted: those classes (fit's, or those given to "
                    "the first partial_fit: pass every label there will be as classes=)"
                )
        else:
            known = present
            if len(known) < 2:
                raise ValueError(
                    "MLPClassifier needs samples of at least 2 classes; y holds only one "
                    f"class: {known[0]}"
                )
        labels = np.searchsorted(known, y).reshape(-1, 1)
        return labels, len(known), {"classes_": known}

    def _loss(self) -> Loss:
        return CrossEntropyLoss()

    @staticmethod
    def _held_out_score(out: np.ndarray, targets: np.ndarray) -> float:
        """Accuracy: the share of rows whose largest logit is their class ``(n, 1)``."""
        return float(np.mean(out.argmax(axis=1) == targets[:, 0]))

    def _validation_split(
        self, targets: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        try:  # stratified: every class in both parts
            tr, va, _ = stratified_indices(targets, self.validation_fraction, 0.0, rng)
        except SplitError as exc:
            raise ValueError(f"early_stopping: {exc}") from None
        return tr, va

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Train on ``X (n, features)`` and labels ``y (n,)``; return self.

        A fresh network, or (``warm_start=True`` after a fit) the fitted one continued.
        """
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch on ``X (n, features)``, labels ``y (n,)``; return self.

        ``classes`` ``(n_classes,)``: every label any call will see (e.g.
        ``np.unique(y_all)``), required on the first call (when nothing is fitted
        yet); later calls may omit it or must repeat it. ``y`` may hold some of
        them only.
        """
        if not hasattr(self, "model_"):
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit, got None; "
                    "accepted: every label there will be, e.g. classes=np.unique(y_all)"
                )
            classes = self._checked_classes(classes)
        elif classes is not None:
            given = np.unique(np.asarray(classes))
            if not np.array_equal(given, self.classes_):
                raise ValueError(
                    f"classes={_plain(given)} is not the classes_ {_plain(self.classes_)} "
                    "this network was fitted with; accepted: those, or classes=None"
                )
            classes = None
        return self._fit(X, y, incremental=True, classes=classes)

    @staticmethod
    def _checked_classes(classes: Any) -> np.ndarray:
        """``classes`` as sorted distinct labels ``(n_classes,)``, at least two."""
        given = np.asarray(classes)
        if given.ndim != 1:
            raise ValueError(
                f"classes must be a 1-D list of labels, got an array of shape {given.shape}; "
                "accepted: every label there will be, e.g. classes=np.unique(y_all)"
            )
        try:
            check_classification_targets(given)
        except ValueError as exc:
            raise ValueError(
                f"classes={_plain(given)!r} are not class labels ({exc}); accepted: "
                "integers or strings"
            ) from None
        known = np.unique(given)
        if len(known) < 2:
            raise ValueError(
                f"classes must hold at least 2 distinct labels, got {_plain(known)}; "
                "accepted: every label there will be, e.g. classes=np.unique(y_all)"
            )
        return known

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``, columns in the order of ``classes_``."""
        return softmax(self._forward(X))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log class probabilities ``(n, n_classes)``, columns in the order of ``classes_``.

        ``log(predict_proba(X))``, but computed from the logits (a log-softmax):
        finite where a probability underflows to 0.
        """
        return _log_softmax(self._forward(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row: ``(n,)`` of values from ``classes_``."""
        logits = self._forward(X)  # first: unfitted, it raises NotFittedError
        return self.classes_[logits.argmax(axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multilayer perceptron regressor with proplab's explicit backprop.

    The parameters are :class:`MLPClassifier`'s (same names, defaults and
    meaning); the network ends in an identity output and trains on the mean
    squared error ``mean((pred - y)^2)`` over samples and outputs (scikit-learn's
    MLPRegressor reports half of it, so ``loss_curve_`` reads twice its values).
    Early stopping holds out a random ``validation_fraction`` of the rows; it stops
    on the validation loss, scikit-learn's on R².

    That loss also sets the step: its gradient is ``2 (pred - y) / (n k)`` for
    ``k`` outputs where scikit-learn's is ``(pred - y) / n`` (half the squared
    error, summed over outputs), so with ``solver="sgd"`` a step is ``2 / k``
    times scikit-learn's at the same ``learning_rate_init``: twice it for one
    output. Pass ``k / 2`` times scikit-learn's rate (half of it for one output)
    to take its steps; Adam barely notices the scale. ``tol`` acts on this loss,
    twice scikit-learn's reported one for any ``k``. The other differences from
    scikit-learn are :class:`MLPClassifier`'s (defaults, the parameters not
    taken, the loss without the ``alpha`` term, ``random_state=None``).
    ``partial_fit(X, y)`` trains one epoch on the data given, continuing the
    fitted network and its optimizer; ``y`` must keep the fitted number of
    outputs.

    Fitted attributes: ``n_outputs_``, ``n_features_in_``, ``model_``,
    ``loss_curve_``, ``validation_loss_curve_``, ``n_iter_``, ``best_epoch_``,
    ``validation_scores_`` and ``best_validation_score_`` (R² on the held-out rows),
    ``coefs_``, ``intercepts_``, ``loss_``, ``best_loss_``, ``t_``, ``n_layers_``,
    ``out_activation_`` (``"identity"``; as :class:`MLPClassifier`'s). ``score`` is R² (``RegressorMixin``).

    Shapes: ``X (n_samples, n_features)``; ``y (n_samples,)`` -> ``predict``
    ``(n,)``, or ``y (n_samples, n_outputs)`` -> ``predict`` ``(n, n_outputs)``.
    """

    # numbers only, one or several outputs (scikit-learn would turn a column (n, 1)
    # into (n,) with a warning; here it is one output, and predict returns (n, 1))
    _y_checks = {"multi_output": True, "y_numeric": True}
    _out_activation = "identity"

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _targets(
        self, y: np.ndarray, keep: bool, warm: bool, classes: np.ndarray | None
    ) -> tuple[np.ndarray, int, dict[str, Any]]:
        """Values ``(n,)`` or ``(n, k)`` -> ``(n, k)`` (``k = 1`` for a 1-D ``y``)."""
        values = y.reshape(-1, 1) if y.ndim == 1 else y
        if keep:
            if values.shape[1] != self.n_outputs_:
                accepted = "(n,) or (n, 1)" if self.n_outputs_ == 1 else f"(n, {self.n_outputs_})"
                raise ValueError(
                    f"y has {values.shape[1]} outputs (shape {y.shape}), but the fitted "
                    f"network has {self.n_outputs_}; accepted: y of shape {accepted}"
                )
            # predict keeps the shape of the y the network was built for
            return values, self.n_outputs_, {}
        return values, values.shape[1], {"n_outputs_": values.shape[1], "_flat_y": y.ndim == 1}

    def _loss(self) -> Loss:
        return MSELoss()

    @staticmethod
    def _held_out_score(out: np.ndarray, targets: np.ndarray) -> float:
        """R² of ``(n, k)`` predictions, averaged over the outputs (``score``'s)."""
        return float(r2_score(targets, out))

    def _validation_split(
        self, targets: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        n = len(targets)
        held = math.ceil(self.validation_fraction * n)  # scikit-learn's rounding
        if n - held < 1:
            raise ValueError(
                f"early_stopping: validation_fraction={self.validation_fraction} of {n} "
                f"samples holds out {held} and leaves none to train on; accepted: a smaller "
                "validation_fraction or more samples"
            )
        order = rng.permutation(n)
        return order[held:], order[:held]

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Train on ``X (n, features)`` and ``y (n,)`` or ``(n, outputs)``; return self.

        A fresh network, or (``warm_start=True`` after a fit) the fitted one continued.
        """
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch on ``X (n, features)`` and ``y (n,)`` or ``(n, outputs)``; return self."""
        return self._fit(X, y, incremental=True)

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ``(n,)`` for a network fitted on a 1-D ``y``, else ``(n, n_outputs)``."""
        out = self._forward(X)
        return out[:, 0] if self._flat_y else out
