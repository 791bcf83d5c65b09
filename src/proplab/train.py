"""The training loop: ``fit()`` returns a ``History``; ``evaluate()`` scores a model.

One epoch is: forward -> loss -> backward (every gradient computed first) ->
optimizer step (every parameter updated afterwards). Full batch by default,
as in the lab; mini-batches with shuffling on request.
"""

from __future__ import annotations

import math
import numbers
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from proplab.activations import overflow_ignored
from proplab.core import Module, check_int, eval_mode, returned_no_array, train_mode
from proplab.losses import Loss, are_stacked_labels
from proplab.optim import Optimizer


@dataclass
class History:
    """What happened during training, one entry per completed epoch.

    ``epoch`` holds the epoch numbers 1, 2, ...; ``loss`` and ``accuracy`` hold
    floats for one model, arrays of the replica shape (``(K,)``) for a stack, each
    measured on that epoch's forward pass, before its update (with mini-batches:
    the sample-weighted mean over the epoch's batches); accuracy is a fraction in
    [0, 1], NaN for targets that are not 0/1 labels (regression). ``wall_time`` holds the seconds since training started, at each
    epoch's end. ``stop_reason`` is one of ``"completed"``, ``"converged"`` (loss
    below tolerance), ``"diverged"`` (NaN/inf loss) or ``"interrupted"``
    (Ctrl-C); ``message`` says it in words (``""`` when completed). For a stack,
    ``replica_stop_epoch`` and ``replica_stop_reason`` (shape ``R``) say when and
    why each replica stopped, and :meth:`replica` gives one replica's History; the
    stack's own ``stop_reason`` is ``"diverged"`` only when every replica diverged,
    and ``"converged"`` once every replica has stopped with at least one below the
    tolerance (some may have diverged: ``replica_stop_reason`` says which).
    """

    epoch: list[int] = field(default_factory=list)
    loss: list[float | np.ndarray] = field(default_factory=list)
    accuracy: list[float | np.ndarray] = field(default_factory=list)
    wall_time: list[float] = field(default_factory=list)
    stop_reason: str = "completed"
    message: str = ""
    tol: float | None = None  # the loss tolerance fit was given (None: none)
    # replica stacks only: the epoch each replica stopped at (0: ran every epoch)
    # and why ("completed", "converged", "diverged"); shape R
    replica_stop_epoch: np.ndarray | None = None
    replica_stop_reason: np.ndarray | None = None
    # scratch space a stack's history shares with the replica histories it gives
    # (writers cache what is the same for all of them there, e.g. the epoch column)
    shared: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def epochs_run(self) -> int:
        """The number of epochs completed (and recorded)."""
        return len(self.epoch)

    def replica(self, index: int | tuple[int, ...]) -> History:
        """The history replica ``index`` of a stack would have had, trained alone.

        Epochs after the replica stopped (converged or diverged; it was frozen
        while the others went on) are cut off, and its own stop reason is kept.
        """
        if self.replica_stop_epoch is None:
            raise ValueError("this History is of a single model, not a replica stack")
        stop = int(self.replica_stop_epoch[index])
        end = stop if stop else self.epochs_run
        reason = str(self.replica_stop_reason[index])
        if reason == "completed" and self.stop_reason == "interrupted":
            reason = "interrupted"
        # one (epochs, *R) array per column, built once and shared by every replica
        if getattr(self, "_stacked", None) is None or len(self._stacked[0]) != self.epochs_run:
            self._stacked = (np.asarray(self.loss), np.asarray(self.accuracy))
        losses, accuracies = self._stacked
        loss = losses[(slice(0, end), *np.atleast_1d(index))].tolist()
        message = {
            "converged": f"loss below tol={self.tol} at epoch {{end}}",
            "diverged": f"training diverged at epoch {end}: the loss became "
            f"{loss[-1] if loss else 'nan'}; try a smaller learning rate",
            "interrupted": self.message,
        }.get(reason, "")
        return History(
            epoch=list(self.epoch[:end]),
            loss=loss,
            accuracy=accuracies[(slice(0, end), *np.atleast_1d(index))].tolist(),
            wall_time=list(self.wall_time[:end]),
            stop_reason=reason,
            message=message.format(end=end),
            shared=self.shared,
        )

    def __repr__(self) -> str:
        """One line, not every epoch's numbers (a 20 000-epoch History printed 80 000):
        ``History(100 epochs, completed: loss 0.2568 -> 0.2493, accuracy 52.4% -> 52.4%)``;
        a stack gives the range over its replicas."""
        name = type(self).__name__
        if not self.epoch:
            return f"{name}(0 epochs, {self.stop_reason})"
        first_loss, last_loss = np.asarray(self.loss[0]), np.asarray(self.loss[-1])
        first_acc, last_acc = np.asarray(self.accuracy[0]), np.asarray(self.accuracy[-1])

        def span(values: np.ndarray, fmt: str) -> str:
            low, high = format(float(values.min()), fmt), format(float(values.max()), fmt)
            return low if low == high else f"{low} to {high}"

        runs = f" of a stack of {last_loss.size}" if last_loss.ndim else ""
        epochs = f"{self.epochs_run} epoch{'' if self.epochs_run == 1 else 's'}"
        # regression targets have no accuracy (NaN): say nothing of it
        scored = not (np.isnan(first_acc).all() and np.isnan(last_acc).all())
        return (
            f"{name}({epochs}{runs}, {self.stop_reason}: "
            f"loss {span(first_loss, '.4g')} -> {span(last_loss, '.4g')}"
            + (
                f", accuracy {span(100 * first_acc, '.1f')}% -> {span(100 * last_acc, '.1f')}%"
                if scored
                else ""
            )
            + ")"
        )

    @property
    def final_loss(self) -> float | np.ndarray:
        """The last epoch's loss (measured before that epoch's update): a float, or an
        array ``(K,)`` for a stack; NaN if no epoch ran."""
        return self.loss[-1] if self.loss else math.nan

    @property
    def final_accuracy(self) -> float | np.ndarray:
        """The last epoch's accuracy, a fraction in [0, 1] (measured before that epoch's
        update): a float, or an array ``(K,)`` for a stack; NaN if no epoch ran."""
        return self.accuracy[-1] if self.accuracy else math.nan

    def as_arrays(self) -> dict[str, np.ndarray]:
        """``{"epoch": (E,), "loss": (E, *R), "accuracy": (E, *R), "wall_time": (E,)}``."""
        return {
            "epoch": np.asarray(self.epoch, dtype=np.int64),
            "loss": np.asarray(self.loss, dtype=np.float64),
            "accuracy": np.asarray(self.accuracy, dtype=np.float64),
            "wall_time": np.asarray(self.wall_time, dtype=np.float64),
        }


def accuracy(
    pred: np.ndarray, target: np.ndarray, *, labels_checked: bool = False
) -> float | np.ndarray:
    """Fraction correct, per replica.

    One output column: prediction thresholded at 0.5 against 0/1 labels
    ``(n, 1)``. Several columns: argmax against integer labels ``(n,)`` or
    ``(n, 1)``, or one-hot rows / class probabilities ``(n, C)``. NaN for targets
    that are not labels (:func:`are_class_targets`: a regression's values, where
    thresholding or an argmax would invent a "correct"). Shape: ``(*R, n, C)`` ->
    float or ``R``. Arrays, or nested lists of numbers. ``labels_checked``: the
    caller knows the targets are labels (fit checks once, not every mini-batch).
    """
    if not isinstance(pred, np.ndarray) or not isinstance(target, np.ndarray):
        pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape[-1] == 1:
        if target.shape[-2:] != pred.shape[-2:]:
            # labels (n,) against (n, 1) would broadcast to an (n, n) table of hits
            raise ValueError(
                f"accuracy: target shape {target.shape} does not fit predictions {pred.shape}; "
                f"accepted: 0/1 labels (n, 1) = {pred.shape[-2:]}, or stacked (*R, n, 1)"
            )
        if not labels_checked and not are_binary_labels(target):
            return _no_accuracy(pred)
        correct = (pred > 0.5) == (target > 0.5)
        hits = np.count_nonzero(correct, axis=(-2, -1))
    else:
        if not labels_checked and not are_class_targets(target, pred.shape[-1], pred.shape):
            return _no_accuracy(pred)
        labels = (
            target.argmax(-1)
            if target.shape[-1] == pred.shape[-1]
            and target.ndim >= 2
            and not are_stacked_labels(pred, target)
            else target.reshape(
                target.shape[:-1] if target.ndim >= 2 and target.shape[-1] == 1 else target.shape
            )
        )
        hits = np.count_nonzero(pred.argmax(-1) == labels, axis=-1)
    acc = hits / pred.shape[-2]
    return float(acc) if np.ndim(acc) == 0 else acc


def are_class_targets(
    y: np.ndarray, outputs: int, pred_shape: tuple[int, ...] | None = None
) -> bool:
    """Whether ``y`` holds classes for a model of ``outputs`` columns: 0/1 labels for one
    output; for several, rows of ``outputs`` values in [0, 1] summing to 1 (one-hot or
    class probabilities), or anything else (integer labels, checked by the loss).
    Several columns of other values (a regression of several outputs) are not classes."""
    y = np.asarray(y)
    if outputs == 1:
        return are_binary_labels(y)
    if y.ndim < 2 or y.shape[-1] != outputs:
        return True  # integer labels (n,) / (n, 1): the loss checks their range
    if pred_shape is not None and y.shape == tuple(pred_shape[:-1]) and y.dtype.kind in "iu":
        return True  # integer labels per replica (*R, n) (losses.are_stacked_labels)
    if y.dtype.kind == "b":
        return bool(np.all(y.sum(axis=-1) == 1))
    # one row per sample, a column per output: one-hot or probabilities (of any dtype:
    # integer counts of a regression are no classes)
    return bool(np.all((y >= 0) & (y <= 1)) and np.allclose(y.sum(axis=-1), 1.0, rtol=0, atol=1e-6))


def are_binary_labels(y: np.ndarray) -> bool:
    """Whether every target is 0 or 1: class labels for one output, not regression values."""
    y = np.asarray(y)
    return y.dtype.kind == "b" or bool(np.all((y == 0) | (y == 1)))


def _no_accuracy(pred: np.ndarray) -> float | np.ndarray:
    """NaN accuracy for one model, or ``R`` of them for a stack ``(*R, n, out)``."""
    return math.nan if pred.ndim <= 2 else np.full(pred.shape[:-2], math.nan)


def evaluate(
    model: Module, loss_fn: Loss, x: np.ndarray, y: np.ndarray
) -> tuple[float | np.ndarray, float | np.ndarray, np.ndarray]:
    """``(loss, accuracy, predictions)`` of the model on ``(x, y)``, without training.

    ``x`` ``(n, in)`` (a stack's replicas may share it) or ``(*R, n, in)``; ``y`` as
    ``loss_fn`` and :func:`accuracy` take it. ``loss`` and ``accuracy`` (a fraction in
    [0, 1]) are floats for one model, arrays ``(K,)`` (``R``) for a stack;
    ``predictions`` is the model's output ``(n, out)`` or ``(*R, n, out)``. The
    forward pass replaces what the model and ``loss_fn`` kept for a backward pass.
    ``x`` and ``y`` may also be nested lists of numbers, as for :func:`fit`.

    Scores in evaluation mode (dropout off, batchnorm's running statistics: what the
    model predicts with), then puts every module back in the mode it had.
    """
    x, y = _as_arrays(x, y)
    with eval_mode(model):
        pred = model.forward(x)
    return loss_fn.forward(pred, y), accuracy(pred, y), pred


def format_epoch_line(epoch: int, loss: float) -> str:
    """The lab's progress line: ``epoch 5000 loss : 0.0123456789``."""
    return f"epoch {epoch} loss : {loss:.10f}"


def format_prediction_lines(pred: np.ndarray, y: np.ndarray) -> list[str]:
    """One lab line per sample: ``Iter: 7 | Ground truth: 1 | Predict: 0.9999763808``.

    A regression target (not a whole number) is printed as the prediction is:
    ``Ground truth: -0.4210000000``."""
    truth = y.reshape(-1)
    whole = bool(np.all(truth == np.round(truth)))
    # + 0.0 turns a ReLU output's -0.0 into 0.0 ("Predict: -0.0000000000" looked negative)
    return [
        f"Iter: {i} | Ground truth: {int(t) if whole else f'{float(t) + 0.0:.10f}'} | "
        f"Predict: {float(p) + 0.0:.10f}"
        for i, (t, p) in enumerate(zip(truth, pred.reshape(-1), strict=True))
    ]


def format_percent(fraction: float) -> str:
    """``0.99 -> '99.0'``, ``11/21 -> '52.38'``, ``1 -> '100.0'``."""
    text = f"{100.0 * fraction:.2f}"
    return text[:-1] if text.endswith("0") else text


def format_summary_line(loss: float, acc: float, r2: float | None = None) -> str:
    """The lab's summary: ``loss=0.0000019285 accuracy=99.0%``; a regression run gives
    its R² instead (``r2`` not None): ``loss=0.0045829671 r2=0.9712``."""
    if r2 is not None:  # NaN: a single sample has no variance to explain
        return f"loss={loss:.10f} r2={'n/a' if math.isnan(r2) else f'{r2:.4f}'}"
    return f"loss={loss:.10f} accuracy={format_percent(acc)}%"


EpochCallback = Callable[[int, "History"], None]


class _DeferredAccuracy:
    """Per-epoch accuracy computed in chunks: keep each epoch's predictions, score many at once.

    On the lab's networks one epoch costs ~40 NumPy calls; scoring every
    epoch on its own would add three more. Holding the (fresh, never reused)
    prediction arrays and thresholding a few thousand epochs in one vectorised
    call gives identical numbers for a fraction of the cost. Memory stays
    bounded: a chunk holds at most ~8 MB of predictions. Most proplab modules
    return a fresh array from each forward pass; one that returns its input
    (Identity) or a view, or a hand-written one that returns one buffer it
    overwrites every epoch (``np.exp(..., out=self.buf)``), would score every kept
    epoch as the last: such a prediction is copied.
    """

    def __init__(self, y: np.ndarray, accuracies: list, pred_size: int) -> None:
        self.truth = y > 0.5
        self.n = y.shape[-2]
        self.accuracies = accuracies
        self.pending: list[np.ndarray] = []
        self.chunk = max(1, 1_000_000 // max(pred_size, 1))
        self.last = np.empty(0)  # the array the model returned last epoch (none yet: size 0)

    def add(self, pred: np.ndarray) -> None:
        last, self.last = self.last, pred
        # the same buffer as last epoch's (or a view of it): its values change next epoch;
        # the first epoch's is copied always (whether the next reuses it is not known yet)
        if pred is last or (pred.base is not None and pred.base is last.base) or not last.size:
            pred = pred.copy()
        self.pending.append(pred)
        if len(self.pending) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        correct = np.stack(self.pending) > 0.5
        correct = correct == self.truth
        hits = np.count_nonzero(correct, axis=(-2, -1))
        self.pending.clear()
        values = hits / self.n
        if values.ndim == 1:
            self.accuracies.extend(values.tolist())
        else:
            self.accuracies.extend(list(values))


class _NoAccuracy:
    """Stands in for :class:`_DeferredAccuracy` where the targets are not 0/1 labels
    (regression): every epoch's accuracy is NaN, for one model or each replica."""

    def __init__(self, accuracies: list, replicas: tuple[int, ...]) -> None:
        self.accuracies = accuracies
        self.value = math.nan if not replicas else np.full(replicas, math.nan)

    def add(self, pred: np.ndarray) -> None:
        self.accuracies.append(self.value)

    def flush(self) -> None:
        pass


def _finite(loss: float | np.ndarray) -> bool:
    """Whether the loss (a float, or every replica's) is finite."""
    return math.isfinite(loss) if isinstance(loss, float) else bool(np.all(np.isfinite(loss)))


def _batches(
    n: int, batch_size: int | None, shuffle: bool, rng: np.random.Generator | None
) -> list[slice] | list[np.ndarray]:
    """One epoch's batches of ``n`` samples: the whole data, or index arrays of at most
    ``batch_size`` (in an order ``rng`` shuffles, when ``shuffle``)."""
    if batch_size is None or batch_size >= n:
        return [slice(None)]
    order = rng.permutation(n) if shuffle else np.arange(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


# Overflow and inf - inf are how divergence shows up; fit detects it itself
# (stop_reason "diverged"), so NumPy's warnings would only be noise (or, under
# ``-W error`` as in the tests, an exception instead of the promised History).
def fit(
    model: Module,
    loss_fn: Loss,
    optimizer: Optimizer,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    *,
    batch_size: int | None = None,
    shuffle: bool = True,
    rng: np.random.Generator | None = None,
    print_every: int = 0,
    log: Callable[[str], None] = print,
    tol: float | None = None,
    callback: EpochCallback | None = None,
    callback_every: int = 100,
) -> History:
    """Train ``model`` on ``(x, y)`` for up to ``epochs`` epochs; return the History.

    Args:
        optimizer: built on ``model.parameters()`` (or some of them, to freeze the
            rest); one over another model's parameters is refused.
        x: ``(n, in)`` shared by every replica, or ``(*R, n, in)``; an array or nested
            lists of numbers.
        y: targets ``(n, out)`` or ``(*R, n, out)``.
        batch_size: ``None`` for full batch (the lab); otherwise mini-batches,
            reshuffled every epoch with ``rng`` when ``shuffle``.
        print_every: log ``epoch E loss : L`` every this many epochs (0: never).
        tol: stop once the epoch loss is below ``tol`` (every replica's, for a stack).
        callback: called as ``callback(epoch, history)`` every ``callback_every``
            epochs and at the end (progress bars hook in here).

    A NaN or infinite loss stops training with ``stop_reason="diverged"``;
    Ctrl-C stops it with ``"interrupted"``. Either way the model and the
    history so far are kept.

    Trains in training mode (dropout draws its masks, batchnorm normalises with each
    batch's statistics and updates its running ones), so the history's loss and
    accuracy are training-mode numbers; afterwards every module is back in the mode
    it was in (a new model's is training mode, as in PyTorch: predict with
    :func:`evaluate`, ``model.eval()`` or ``proplab.eval_mode(model)``).
    """
    _check_roles(model, loss_fn, optimizer)
    # overflow on the way to divergence is reported once, as "diverged", not as
    # a stream of NumPy warnings (and the sigmoid can skip its overflow clamp)
    with overflow_ignored(), train_mode(model):
        return _fit(
            model,
            loss_fn,
            optimizer,
            x,
            y,
            epochs,
            batch_size,
            shuffle,
            rng,
            print_every,
            log,
            tol,
            callback,
            callback_every,
        )


_ROLES = "fit takes (model, loss_fn, optimizer, x, y, epochs)"


def _check_roles(model: object, loss_fn: object, optimizer: object) -> None:
    """Refuse a proplab class where an instance belongs (``MSELoss`` for ``MSELoss()``)
    and proplab objects in another argument's place, naming what was passed; they failed
    deep inside the loop ("forward() missing 1 required positional argument: 'target'").
    Objects of the user's own (a loss written as a Module, say) pass as they are."""
    if isinstance(model, Module) and isinstance(loss_fn, Loss) and isinstance(optimizer, Optimizer):
        return  # all in place (callbacks.train calls fit every epoch: no loops then)
    kinds = (("a model", Module, "model"), ("a loss", Loss, "loss_fn"))
    kinds += (("an optimizer", Optimizer, "optimizer"),)
    for value, role, example, misplaced in (
        (model, "model", "proplab.mlp(2, 10, 1)", ("a loss", "an optimizer")),
        # a loss may be a Module of the user's own: only an optimizer is surely misplaced
        (loss_fn, "loss_fn", "proplab.MSELoss()", ("an optimizer",)),
        (optimizer, "optimizer", "proplab.SGD(model.parameters(), lr=1.0)", ("a model", "a loss")),
    ):
        if isinstance(value, type) and issubclass(value, (Module, Loss, Optimizer)):
            raise TypeError(
                f"{_ROLES}: {role} is the class {value.__name__}, not an instance of it: "
                f"pass e.g. {example}"
            )
        for what, kind, belongs in kinds:
            if what in misplaced and isinstance(value, kind):
                raise TypeError(
                    f"{_ROLES}: {role} got {what} ({type(value).__name__}), which belongs in "
                    f"{belongs}: arguments in the wrong order?"
                )


def _as_arrays(*arrays: object) -> tuple[np.ndarray, ...]:
    """Lists (XOR typed in by hand) as arrays; arrays as they are (strings or objects
    are refused by fit's checks, naming the dtype)."""
    return tuple(a if isinstance(a, np.ndarray) else np.asarray(a) for a in arrays)


def _check_optimizer_of(model: Module, optimizer: Optimizer) -> None:
    """Refuse an optimizer over parameters that are not the model's: it would update
    another model (one built again after the optimizer) while this one never learns.
    A subset of the model's parameters is fine (the others stay frozen)."""
    params = getattr(optimizer, "params", None)
    if not params:
        return
    try:
        checked = _CHECKED_PAIRS.get(optimizer)
    except TypeError:  # an optimizer that cannot be weakly referenced
        checked = None
    if checked is not None and checked() is model:
        return  # callbacks.train calls fit every epoch: ~5 us saved each time
    own = {id(p) for _, p in model.named_parameters()}
    foreign = sum(id(p) not in own for p in params)
    if foreign:
        raise ValueError(
            f"the optimizer updates {foreign} of its {len(params)} parameters that are not "
            "the model's: build it from model.parameters() of the model passed to fit (a "
            "model built again after the optimizer is a new model, with new parameters)"
        )
    try:
        _CHECKED_PAIRS[optimizer] = weakref.ref(model)
    except TypeError:
        pass


# optimizer -> (a weak reference to) the model it was last checked against
_CHECKED_PAIRS: weakref.WeakKeyDictionary[Optimizer, weakref.ref[Module]] = (
    weakref.WeakKeyDictionary()
)


def _fit(
    model: Module,
    loss_fn: Loss,
    optimizer: Optimizer,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    batch_size: int | None,
    shuffle: bool,
    rng: np.random.Generator | None,
    print_every: int,
    log: Callable[[str], None],
    tol: float | None,
    callback: EpochCallback | None,
    callback_every: int,
) -> History:
    """The training loop behind :func:`fit` (same arguments, checked here): per epoch,
    zero_grad -> forward -> loss -> backward -> step, over the whole data or its
    mini-batches, recording the loss and accuracy in a :class:`History`."""
    epochs = check_int(epochs, "epochs")  # also refuses bools, None, inf and NaN
    callback_every = check_int(callback_every, "callback_every")
    if batch_size is not None and (int(batch_size) != batch_size or batch_size <= 0):
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    if tol is not None and not (
        isinstance(tol, numbers.Real)
        and not isinstance(tol, bool | np.bool_)
        and math.isfinite(tol)
        and tol >= 0
    ):
        # a loss is never negative: tol < 0 (or NaN) would silently never stop training
        raise ValueError(f"tol must be a finite number >= 0 or None, got {tol!r}")
    if int(print_every) != print_every or print_every < 0:
        raise ValueError(f"print_every must be an integer >= 0 (0: never), got {print_every!r}")
    _check_optimizer_of(model, optimizer)
    x, y = _as_arrays(x, y)
    for name, a in (("x", x), ("y", y)):
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold numbers, got an array of dtype {a.dtype}")
        if np.ndim(a) < 2:
            raise ValueError(
                f"{name} must be (n, columns) (or stacked (*R, n, columns)), got shape "
                f"{np.shape(a)}; one column is {name}.reshape(-1, 1)"
                + (
                    " (class labels for a model with C > 1 outputs: proplab.one_hot(y, C),"
                    " or CrossEntropyLoss with labels y.reshape(-1, 1))"
                    if name == "y"
                    else ""
                )
            )
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            # caught here, once: in training it would look like a learning-rate problem
            where = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
            raise ValueError(
                f"{name}{list(where)} is {a[where]}: training data must be finite numbers"
            )
    check_targets = getattr(loss_fn, "check_targets", None)  # a loss of the user's own may
    if check_targets is not None:  # have none; once here rather than every step
        check_targets(y)
    n = x.shape[-2]
    if n == 0:
        raise ValueError(f"x has no samples (shape {x.shape})")
    if y.shape[-2] != n:
        raise ValueError(f"x has {n} samples but y has {y.shape[-2]}")
    if batch_size is not None and batch_size < n and shuffle and rng is None:
        raise ValueError("mini-batch shuffling needs rng=np.random.default_rng(seed)")
    history = History(tol=tol)
    full_batch = batch_size is None or batch_size >= n
    epochs_done, losses, accuracies, times = (
        history.epoch,
        history.loss,
        history.accuracy,
        history.wall_time,
    )
    deferred = None
    # one forward pass on one sample tells the output width and the replica axes (in
    # eval mode: batchnorm cannot take one sample in training mode, which would also
    # move its running statistics, and dropout would draw a mask from the run's stream)
    try:
        with eval_mode(model):
            probe_shape = model.forward(x[..., :1, :]).shape
    except (ValueError, TypeError):
        model.forward(x)  # the same error, naming the caller's array rather than one row
        raise
    replicas = probe_shape[:-2]
    if y.ndim > 2:
        try:
            fits = np.broadcast_shapes(y.shape[:-2], replicas) == replicas
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"y is stacked as {y.shape} (replicas {y.shape[:-2]}), but the model "
                f"predicts {probe_shape[:-2] + (n, probe_shape[-1])} (replicas {replicas}): "
                "one target per replica, or one (n, out) shared by all"
            )
    # accuracy is defined for labels; one output's targets are checked here, once
    scored = are_class_targets(y, probe_shape[-1], (*probe_shape[:-2], n, probe_shape[-1]))
    if full_batch and probe_shape[-1] == 1:
        if scored:
            # a prediction holds every replica's outputs (y may be shared by all of them)
            deferred = _DeferredAccuracy(y, accuracies, int(np.prod(probe_shape)) * n)
        else:  # regression targets: no accuracy, one NaN per epoch (checked once, here)
            deferred = _NoAccuracy(accuracies, probe_shape[:-2])
    stops = _ReplicaStops(optimizer, tuple(probe_shape[:-2]), tol, model)
    # bound methods looked up once: this loop may run 100k times
    zero_grad, step = optimizer.zero_grad, optimizer.step
    forward, backward = model.forward, model.backward
    loss_forward, loss_backward = loss_fn.forward, loss_fn.backward
    clock = time.perf_counter
    start = clock()
    try:
        for epoch in range(1, epochs + 1):
            if full_batch:
                # forward -> loss -> backward (every gradient) -> step (every update)
                zero_grad()
                pred = forward(x)
                loss = loss_forward(pred, y)
                grad_pred = loss_backward()  # dL/dpred: where the chain rule starts
                backward(grad_pred, need_input_grad=False)  # dL/dparam into every .grad
                step()
                if deferred is not None:
                    deferred.add(pred)
                else:
                    accuracies.append(
                        accuracy(pred, y, labels_checked=True) if scored else _no_accuracy(pred)
                    )
            else:
                loss, acc = _minibatch_epoch(
                    model, loss_fn, optimizer, x, y, batch_size, shuffle, rng, scored
                )
                accuracies.append(acc)
            epochs_done.append(epoch)
            losses.append(loss)
            times.append(clock() - start)
            if stops.shape:
                # a stack: stopped replicas are frozen, the others go on
                if stops.check(epoch, loss):
                    history.stop_reason, history.message = stops.overall(epoch)
                    break
                if print_every and epoch % print_every == 0:
                    log(format_epoch_line(epoch, float(np.mean(loss[stops.active]))))
                if callback is not None and epoch % callback_every == 0:
                    if deferred is not None:
                        deferred.flush()
                    callback(epoch, history)
                continue
            if not _finite(loss):
                history.stop_reason = "diverged"
                history.message = (
                    f"training diverged at epoch {epoch}: the loss became {_show(loss)}; "
                    "try a smaller learning rate"
                )
                break
            if print_every and epoch % print_every == 0:
                log(format_epoch_line(epoch, float(np.mean(loss))))
            if callback is not None and epoch % callback_every == 0:
                if deferred is not None:
                    deferred.flush()
                callback(epoch, history)
            if tol is not None and np.all(loss < tol):
                history.stop_reason = "converged"
                history.message = f"loss below tol={tol} at epoch {epoch}"
                break
    except KeyboardInterrupt:
        history.stop_reason = "interrupted"
        history.message = f"interrupted after {len(losses)} epochs (Ctrl-C)"
    except (AttributeError, TypeError) as exc:
        # a loss's backward that forgot `return` hands the model None: name the loss
        # (a Sequential names it too; one Linear raised "'NoneType' ... has no attribute")
        if getattr(exc, "_proplab_noted", False) or loss_backward() is not None:
            raise
        raise returned_no_array(type(loss_fn).__name__, None, loss=True) from exc
    if deferred is not None:
        deferred.flush()
    # an epoch cut short by Ctrl-C may have left a partial record: keep complete ones
    complete = min(len(epochs_done), len(losses), len(accuracies), len(times))
    for column in (epochs_done, losses, accuracies, times):
        del column[complete:]
    if stops.shape:
        stops.restore()
        history.replica_stop_epoch = stops.stop_epoch
        history.replica_stop_reason = stops.reason
    if callback is not None:
        callback(history.epochs_run, history)
    return history


class _ReplicaStops:
    """Per-replica early stop and divergence for a stack: finished replicas are masked.

    A replica whose loss falls below ``tol`` or becomes NaN/inf is recorded
    and frozen (its learning rate set to 0), so it keeps the weights it
    stopped with while the others train on, exactly as if each ran alone.
    Its buffers (batchnorm's running statistics, which every forward pass moves)
    are put back as they were at its stop too.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        shape: tuple[int, ...],
        tol: float | None,
        model: Module | None = None,
    ) -> None:
        self.shape = shape
        self.optimizer, self.tol = optimizer, tol
        if not shape:
            return
        # the buffers with this stack's replica axes in front (one per replica to freeze)
        self.buffers = [
            b
            for _, b in (model.named_buffers() if model is not None else ())
            if b.shape[: len(shape)] == shape
        ]
        self.active = np.ones(shape, dtype=bool)
        self.stop_epoch = np.zeros(shape, dtype=np.int64)
        self.reason = np.full(shape, "completed", dtype=object)
        self.frozen: list[tuple[np.ndarray, list[np.ndarray]]] = []
        self.all_active = True
        self.base_lr = np.broadcast_to(np.asarray(optimizer.lr, dtype=np.float64), shape).copy()

    def check(self, epoch: int, loss: np.ndarray) -> bool:
        """Record replicas that stop at ``epoch``; True once every replica has stopped."""
        if self.all_active:
            # the common case, in one or two NumPy calls: every loss finite (the sum
            # of their squares is; one above ~1e154 overflows it and just takes the
            # exact path below) and none below tol. vdot: one BLAS call, ~0.9 us
            # less than a reduction with axis=None on a stack of 5
            if math.isfinite(np.vdot(loss, loss)) and (self.tol is None or loss.min() >= self.tol):
                return False
        finite = np.isfinite(loss)
        if finite.all() and (self.tol is None or loss[self.active].min() >= self.tol):
            return False
        diverged = self.active & ~finite
        converged = self.active & finite & (loss < self.tol) if self.tol is not None else False
        stopped = diverged | converged
        if not stopped.any():
            return False
        self.stop_epoch[stopped] = epoch
        self.reason[diverged] = "diverged"
        self.reason[converged] = "converged"
        self.active &= ~stopped
        self.all_active = False
        self.optimizer.set_hyper("lr", np.where(self.active, self.base_lr, 0.0))
        # a zero learning rate freezes a replica, except where its gradient is
        # NaN/inf (0 * inf = NaN): keep its weights as they were when it stopped
        arrays = [p.data for p in self.optimizer.params] + self.buffers
        self.frozen.append((stopped, [a[stopped].copy() for a in arrays]))
        return not self.active.any()

    def restore(self) -> None:
        """Put back every stopped replica's weights and buffers as they were at its stop."""
        if not self.shape:
            return
        arrays = [p.data for p in self.optimizer.params] + self.buffers
        for stopped, values in self.frozen:
            for a, value in zip(arrays, values, strict=True):
                a[stopped] = value

    def overall(self, epoch: int) -> tuple[str, str]:
        """Stop reason and message once every replica has stopped."""
        diverged = int(np.count_nonzero(self.reason == "diverged"))
        if diverged == self.reason.size:
            return "diverged", (
                f"every replica diverged by epoch {epoch}; try a smaller learning rate"
            )
        return "converged", (
            f"every replica stopped by epoch {epoch} ({diverged} diverged, "
            f"{self.reason.size - diverged} below tol={self.tol})"
        )


def _show(loss: float | np.ndarray) -> str:
    """A non-finite loss in words: the value, or the first bad one and how many replicas."""
    if np.ndim(loss) == 0:
        return str(float(loss))
    bad = np.asarray(loss)[~np.isfinite(loss)]
    return f"{bad.flat[0]} in {bad.size} of {np.size(loss)} replicas"


def _minibatch_epoch(
    model: Module,
    loss_fn: Loss,
    optimizer: Optimizer,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    shuffle: bool,
    rng: np.random.Generator | None,
    scored: bool = True,
) -> tuple[float | np.ndarray, float | np.ndarray]:
    """One pass over shuffled mini-batches; returns the sample-weighted mean loss and accuracy
    (NaN unless ``scored``: targets that are not labels)."""
    n = x.shape[-2]
    total_loss: float | np.ndarray = 0.0
    total_hits: float | np.ndarray = 0.0
    for idx in _batches(n, batch_size, shuffle, rng):
        xb, yb = x[..., idx, :], y[..., idx, :]
        m = xb.shape[-2]
        optimizer.zero_grad()
        pred = model.forward(xb)
        loss = loss_fn.forward(pred, yb)
        model.backward(loss_fn.backward(), need_input_grad=False)
        optimizer.step()
        total_loss = total_loss + loss * m
        if scored:
            total_hits = total_hits + accuracy(pred, yb, labels_checked=True) * m
    if not scored:
        return total_loss / n, _no_accuracy(pred)
    return total_loss / n, total_hits / n
