"""The training loop: ``fit()`` trains a model and returns its ``History``.

One epoch is: forward -> loss -> backward (every gradient computed first) ->
optimizer step (every parameter updated afterwards). Full batch by default,
as in the lab; mini-batches with shuffling on request.
"""

from __future__ import annotations

import inspect
import math
import numbers
import time
import weakref
from collections.abc import Callable
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike

from proplab.activations import overflow_ignored
from proplab.checks import check_bool, check_int, is_whole, short_repr
from proplab.core import Module, eval_mode, train_mode
from proplab.history import (
    History,
    interrupt_cause,
    interrupted_message,
    last_update_diverged,
)
from proplab.interrupts import signals_at_epoch_end
from proplab.losses import Loss
from proplab.module_errors import is_proplabs, returned_no_array
from proplab.optim_base import Optimizer
from proplab.scoring import (
    accuracy,
    are_class_targets,
    as_arrays,
    check_finite,
    check_numbers,
    check_roles,
    check_stacking,
    in_model_dtype,
    no_accuracy,
    non_finite_loss,
    replica_losses_if_not_finite,
    samples_mismatch,
)
from proplab.train_text import format_epoch_line

EpochCallback = Callable[[int, "History"], None]


class _DeferredAccuracy:
    """Per-epoch accuracy computed in chunks: keep each epoch's predictions, score many at once.

    On the lab's networks one epoch costs ~40 NumPy calls; scoring every
    epoch on its own would add three more. Holding the (fresh, never reused)
    prediction arrays and thresholding a few thousand epochs in one vectorised
    call (:func:`~proplab.scoring.accuracy` of the stacked epochs: one 0.5-threshold
    rule for fit and for a lone score) gives identical numbers for a fraction of the
    cost. Memory stays bounded: a chunk holds at most ~8 MB of predictions. Most
    proplab modules return a fresh array from each forward pass; one that returns its
    input (Identity) or a view, or a hand-written one that returns one buffer it
    overwrites every epoch (``np.exp(..., out=self.buf)``), would score every kept
    epoch as the last: such a prediction is copied.
    """

    def __init__(self, y: np.ndarray, accuracies: list, pred_size: int) -> None:
        self.y = y
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
        preds = np.stack(self.pending)  # (epochs, *R, n, 1)
        self.pending.clear()
        # once per chunk, not per epoch; NaN for a diverged epoch's outputs, as ever
        values = np.asarray(accuracy(preds, self.y, labels_checked=True))  # (epochs, *R)
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
    # rng is None only with shuffle off (_checked_data refuses shuffling without one)
    order = rng.permutation(n) if shuffle and rng is not None else np.arange(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


# Overflow and inf - inf are how divergence shows up; fit detects it itself
# (stop_reason "diverged"), so NumPy's warnings would only be noise (or, under
# ``-W error`` as in the tests, an exception instead of the promised History).
def fit(
    model: Module,
    loss_fn: Loss,
    optimizer: Optimizer,
    x: ArrayLike,
    y: ArrayLike,
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
    callback_seconds: float | None = None,
) -> History:
    """Train ``model`` on ``(x, y)`` for up to ``epochs`` epochs; return the History.

    Each full-batch epoch is, in order (the rest of this module is checks, records and
    stopping)::

        optimizer.zero_grad()
        pred = model.forward(x)
        loss = loss_fn.forward(pred, y)
        model.backward(loss_fn.backward(), need_input_grad=False)
        optimizer.step()

    Args:
        optimizer: built on ``model.parameters()`` (or some of them, to freeze the
            rest); one over another model's parameters is refused.
        x: ``(n, in)`` shared by every replica, or ``(*R, n, in)``; an array or nested
            lists of numbers.
        y: targets ``(n, out)`` or ``(*R, n, out)``.
        batch_size: ``None`` for full batch (the lab); otherwise mini-batches,
            reshuffled every epoch with ``rng`` when ``shuffle``.
        print_every: log ``epoch E loss : L`` every this many epochs and at the last,
            also one that ``tol`` stopped at (0: never).
        tol: stop once the epoch loss is below ``tol`` (every replica's, for a stack).
        callback: called as ``callback(epoch, history)`` every ``callback_every``
            epochs and at the end (progress bars hook in here); with
            ``callback_seconds``, also after any epoch that ends that many seconds after
            the last call (a progress bar over a few slow epochs).

    A NaN or infinite loss stops training with ``stop_reason="diverged"``, as does a
    last update that leaves the final model's loss NaN or infinite (a stack's replica:
    its ``replica_stop_reason``);
    Ctrl-C stops it with ``"interrupted"``. Either way the model and the history so far
    are kept.

    Trains in training mode (dropout draws its masks, batchnorm normalises with each
    batch's statistics and updates its running ones), so the history's loss and
    accuracy are training-mode numbers; afterwards every module is back in the mode
    it was in (a new model's is training mode, as in PyTorch: predict with
    :func:`evaluate`, ``model.eval()`` or ``proplab.eval_mode(model)``).

    Before the first epoch ``fit`` runs ``model.forward`` once on the first sample, in
    evaluation mode, to learn the output width and the replica axes (no backward, no
    update): a layer that prints or counts its calls sees that call first. A loss of
    one's own is run on that prediction too, and refused there when its forward does
    not return one loss per model or its backward no array of pred's shape. After a run
    that completed its epochs, the final model is scored once more, also in evaluation
    mode (every replica still training, for a stack): a last update that blew it up
    makes the run (the replica) "diverged".
    """
    return _guarded_fit(
        model, loss_fn, optimizer, x, y, epochs, batch_size, shuffle, rng,
        print_every, log, tol, callback, callback_every, callback_seconds=callback_seconds,
    )  # fmt: skip


def _guarded_fit(
    model: Module, loss_fn: Loss, optimizer: Optimizer, *args: Any, **kw: Any
) -> History:
    """:func:`_fit` with the roles of its first three arguments checked, overflow warnings
    off and the model in training mode (put back after): what :func:`fit` and
    :func:`fit_without_last_check` run."""
    check_roles(model, loss_fn, optimizer)
    # overflow on the way to divergence is reported once, as "diverged", not as
    # a stream of NumPy warnings (and the sigmoid can skip its overflow clamp)
    with overflow_ignored(), train_mode(model):
        return _fit(model, loss_fn, optimizer, *args, **kw)


def check_optimizer_of(model: Module, optimizer: Optimizer, caller: str = "fit") -> None:
    """Refuse an optimizer over parameters that are not the model's: it would update
    another model (one built again after the optimizer) while this one never learns.
    A subset of the model's parameters is fine (the others stay frozen). ``caller``
    names the function the model was passed to, for the message."""
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
            f"the model's: build it from model.parameters() of the model passed to {caller} (a "
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
    x: ArrayLike,
    y: ArrayLike,
    epochs: int,
    batch_size: int | None,
    shuffle: bool,
    rng: np.random.Generator | None,
    print_every: int,
    log: Callable[[str], None],
    tol: float | None,
    callback: EpochCallback | None,
    callback_every: int,
    check_last_update: bool = True,
    callback_seconds: float | None = None,
) -> History:
    """The training loop behind :func:`fit` (same arguments, checked here): per epoch,
    zero_grad -> forward -> loss -> backward -> step, over the whole data or its
    mini-batches, recording the loss and accuracy in a :class:`History`."""
    epochs, batch_size, callback_every = _checked_settings(
        epochs, batch_size, rng, tol, print_every, callback_every
    )
    shuffle = check_bool(shuffle, "fit shuffle")  # "False" is truthy: it shuffled
    _check_hooks(callback, log, print_every)
    check_optimizer_of(model, optimizer)
    x, y = _checked_data(loss_fn, x, y, batch_size, shuffle, rng)
    n = x.shape[-2]
    # a float32 model computes in float32 (MSE's and BCE's integer targets too)
    x, y = in_model_dtype(model, x, y, getattr(loss_fn, "numeric_targets", False))
    history = History(tol=tol)
    full_batch = batch_size is None or batch_size >= n
    epochs_done, losses, accuracies, times = (
        history.epoch,
        history.loss,
        history.accuracy,
        history.wall_time,
    )
    deferred: _DeferredAccuracy | _NoAccuracy | None = None
    probe_shape = _probe(model, loss_fn, x, y)
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
    if callback_seconds is not None and not (
        isinstance(callback_seconds, numbers.Real)
        and not isinstance(callback_seconds, bool | np.bool_)
        and callback_seconds > 0
    ):
        raise ValueError(
            f"callback_seconds must be a number of seconds > 0 or None, got {callback_seconds!r}"
        )
    # the time of the last callback (from start): with callback_seconds, an epoch ending
    # that long after it calls back too (never, without)
    called_at, wait = 0.0, math.inf if callback_seconds is None else float(callback_seconds)
    signals = None
    try:
        with signals_at_epoch_end() as signals:
            # a stop signal waits for the epoch's end: weights, optimizer and history
            # then agree (src/proplab/interrupts.py)
            held = signals.held
            for epoch in range(1, epochs + 1):
                if held:  # a stop signal came during the previous epoch
                    signals.deliver()
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
                            accuracy(pred, y, labels_checked=True) if scored else no_accuracy(pred)
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
                    loss = cast(np.ndarray, loss)  # a stack's loss: one per replica
                    if stops.check(epoch, loss):
                        history.stop_reason, history.message = stops.overall(epoch)
                        # the last epoch's line, of the replicas that stopped below tol
                        # in it (a lone run's stop by tol logs its line too; verify24 L4)
                        last = (stops.stop_epoch == epoch) & (stops.reason == "converged")
                        if print_every and last.any():
                            log(format_epoch_line(epoch, float(np.mean(loss[last]))))
                        break
                    if print_every and (epoch % print_every == 0 or epoch == epochs):
                        log(format_epoch_line(epoch, float(np.mean(loss[stops.active]))))
                    if callback is not None and (
                        epoch % callback_every == 0 or times[-1] - called_at >= wait
                    ):
                        if deferred is not None:
                            deferred.flush()
                        callback(epoch, history)
                        called_at = times[-1]
                    continue
                if not _finite(loss):
                    history.stop_reason = "diverged"
                    history.message = (
                        f"training diverged at epoch {epoch}: the loss became {_show(loss)}; "
                        "try a smaller learning rate"
                        if epoch > 1 or not full_batch
                        # measured before the first update: no rate did this (diverge18)
                        else f"training diverged at epoch 1: the loss is {_show(loss)} before "
                        "any update, which no learning rate causes (weights from a diverged "
                        "run? inputs so large that the forward pass overflows?)"
                    )
                    break
                # the last epoch too: --epochs 19999 ends on its own line (verify23 L3),
                # and so does a run stopped below tol (verify24 L4)
                below_tol = tol is not None and bool(np.all(loss < tol))
                if print_every and (epoch % print_every == 0 or epoch == epochs or below_tol):
                    log(format_epoch_line(epoch, float(np.mean(loss))))
                if callback is not None and (
                    epoch % callback_every == 0 or times[-1] - called_at >= wait
                ):
                    if deferred is not None:
                        deferred.flush()
                    callback(epoch, history)
                    called_at = times[-1]
                if below_tol:
                    history.stop_reason = "converged"
                    history.message = f"loss below tol={tol} at epoch {epoch}"
                    break
            if held:  # it came during the last epoch, or the one that stopped the run
                signals.deliver()
    except KeyboardInterrupt as exc:
        history.stop_reason = "interrupted"
        history.interrupted_by = interrupt_cause(exc)
        history.mid_epoch = signals is not None and signals.at_once
    except (AttributeError, TypeError) as exc:
        # a loss's backward that forgot `return` hands the model None: name the loss
        # (a Sequential names it too; one Linear raised "'NoneType' ... has no attribute")
        if getattr(exc, "_proplab_noted", False):
            raise
        try:
            returned = loss_backward()
        except Exception:  # no forward ran yet: the error came before the loss
            raise exc from None
        if returned is not None:
            raise
        raise returned_no_array(type(loss_fn).__name__, None, loss=True) from exc
    if deferred is not None:
        deferred.flush()
    # an epoch cut short by Ctrl-C may have left a partial record: keep complete ones
    complete = min(len(epochs_done), len(losses), len(accuracies), len(times))
    for column in (epochs_done, losses, accuracies, times):
        del column[complete:]
    if history.stop_reason == "interrupted":  # counted once the records agree
        history.message = interrupted_message(complete, history.interrupted_by, history.mid_epoch)
    # a run stopped by tol had its last update after the loss that stopped it: that
    # update may have blown the model up as well as a completed run's last one
    last_update_unscored = history.stop_reason in ("completed", "converged")
    if stops.shape:
        stops.restore()
        if check_last_update and last_update_unscored:
            _check_replicas_last_update(model, loss_fn, x, y, history, stops)
        history.replica_stop_epoch = stops.stop_epoch
        history.replica_stop_reason = stops.reason
        diverged = int(np.count_nonzero(stops.reason == "diverged"))
        if history.stop_reason == "converged":  # every replica stopped: recount their ends
            history.stop_reason, history.message = stops.overall(history.epochs_run)
        elif history.stop_reason == "completed" and diverged == stops.reason.size:
            # every replica's last update blew it up
            history.stop_reason, history.message = stops.overall(history.epochs_run)
        elif history.stop_reason == "completed" and diverged:
            # "completed" is the stack's; its replicas' own ends are replica_stop_reason
            history.message = (
                f"{diverged} of {stops.reason.size} replicas diverged (replica_stop_reason, "
                "replica_stop_epoch); the others completed or stopped below tol"
            )
    elif check_last_update and last_update_unscored:
        _check_last_update(model, loss_fn, x, y, history)
    if callback is not None:
        callback(history.epochs_run, history)
    return history


def _check_last_update(
    model: Module, loss_fn: Loss, x: np.ndarray, y: np.ndarray, history: History
) -> None:
    """Call a run diverged whose last update blew the model up. Each epoch's loss is
    measured before its update, so a run whose final weights predict NaN was "completed"
    (and scored 52 % on XOR); this scores the final model once, in evaluation mode (no
    dropout mask drawn), as the lab's runs have always been."""
    final_loss = non_finite_loss(model, loss_fn, x, y)
    if final_loss is not None:
        history.stop_reason = "diverged"
        history.message = last_update_diverged(history.epochs_run, final_loss)


def _check_replicas_last_update(
    model: Module, loss_fn: Loss, x: np.ndarray, y: np.ndarray, history: History, stops: Any
) -> None:
    """:func:`_check_last_update` for each replica of a stack that ran every epoch or
    stopped below tol: one whose last update blew it up is diverged, at the last epoch or
    at the epoch of its stop, with the message a lone run gives. (A replica below tol
    keeps the weights of its stop, which its last update made after the loss that stopped
    it; a diverged one was scored non-finite already.)"""
    final = replica_losses_if_not_finite(model, loss_fn, x, y)
    unscored = (stops.reason == "completed") | (stops.reason == "converged")
    blown = ~np.isfinite(final) & unscored
    if blown.any():
        stops.stop_epoch[blown & (stops.reason == "completed")] = history.epochs_run
        stops.reason[blown] = "diverged"
        history.replica_final_loss = np.where(blown, final, 0.0)


def fit_without_last_check(
    model: Module,
    loss_fn: Loss,
    optimizer: Optimizer,
    x: ArrayLike,
    y: ArrayLike,
    epochs: int,
    *,
    batch_size: int | None = None,
    shuffle: bool = True,
    rng: np.random.Generator | None = None,
    tol: float | None = None,
) -> History:
    """:func:`fit` without its last step, the final model scored once: for
    :func:`proplab.callbacks.train`, which fits one epoch at a time, scores the model
    between epochs itself and checks the last update once at the end."""
    return _guarded_fit(
        model, loss_fn, optimizer, x, y, epochs, batch_size, shuffle, rng,
        0, print, tol, None, 100, check_last_update=False,
    )  # fmt: skip


def _checked_settings(
    epochs: int,
    batch_size: int | None,
    rng: np.random.Generator | None,
    tol: float | None,
    print_every: int,
    callback_every: int,
) -> tuple[int, int | None, int]:
    """:func:`fit`'s settings checked, each refused with its value named; returns
    ``epochs``, ``batch_size`` and ``callback_every`` as ints."""
    epochs = check_int(epochs, "epochs")  # also refuses bools, None, inf and NaN
    callback_every = check_int(callback_every, "callback_every")
    if batch_size is not None and not is_whole(batch_size, 1):
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    if batch_size is not None:
        batch_size = int(batch_size)  # 4.0 is whole: range() needs the int
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy Generator such as np.random.default_rng(0), got {rng!r}"
        )
    if tol is not None and not (
        isinstance(tol, numbers.Real)
        and not isinstance(tol, bool | np.bool_)
        and math.isfinite(tol)
        and tol >= 0
    ):
        # a loss is never negative: tol < 0 (or NaN) would silently never stop training
        raise ValueError(f"tol must be a finite number >= 0 or None, got {tol!r}")
    if not is_whole(print_every, 0):
        raise ValueError(f"print_every must be an integer >= 0 (0: never), got {print_every!r}")
    return epochs, batch_size, callback_every


def _check_hooks(callback: object, log: object, print_every: int) -> None:
    """Refuse a ``callback`` that cannot be called as ``callback(epoch, history)`` and a
    ``log`` that cannot be called with one line (when ``print_every`` uses it), before the
    first epoch: they failed at their first call, the model trained and the History lost."""
    hooks: list[tuple[object, str, str, tuple]] = []
    if callback is not None:
        hooks.append(
            (callback, "callback", "a function callback(epoch, history) or None", (0, None))
        )
    if print_every:
        hooks.append((log, "log", "a function taking one line of text, such as print", ("",)))
    for value, label, usage, args in hooks:
        if not callable(value):
            raise TypeError(f"fit {label} must be {usage}, got {short_repr(value)}")
        try:
            signature = inspect.signature(value)
        except (TypeError, ValueError):  # some builtins have none: left to their call
            continue
        try:
            signature.bind(*args)
        except TypeError as exc:
            name = getattr(value, "__name__", type(value).__name__)
            raise TypeError(
                f"fit {label} must be {usage}; {name}{signature} cannot be called so ({exc})"
            ) from None


def _checked_data(
    loss_fn: Loss,
    x: ArrayLike,
    y: ArrayLike,
    batch_size: int | None,
    shuffle: bool,
    rng: np.random.Generator | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``y`` as arrays, checked: numbers, at least 2-D, finite, as many samples,
    targets the loss takes; returns them."""
    x, y = as_arrays(x, y)
    for name, a in (("x", x), ("y", y)):
        check_numbers(name, a)
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
        # caught here, once: in training it would look like a learning-rate problem
        check_finite(name, a, "training data")
    check_targets = getattr(loss_fn, "check_targets", None)  # a loss of the user's own may
    if check_targets is not None:  # have none; once here rather than every step
        check_targets(y)
    n = x.shape[-2]
    if n == 0:
        raise ValueError(f"x has no samples (shape {x.shape})")
    if y.shape[-2] != n:
        raise samples_mismatch(x, y)
    if batch_size is not None and batch_size < n and shuffle and rng is None:
        raise ValueError("mini-batch shuffling needs rng=np.random.default_rng(seed)")
    return x, y


def _probe(model: Module, loss_fn: Loss, x: np.ndarray, y: np.ndarray) -> tuple[int, ...]:
    """The shape of the model's prediction for one sample, ``(*R, 1, out)``: it tells the
    output width and the replica axes ``R``. Checked on it, before any training: a stack's
    parameters, a stacked ``y``, and a loss of the user's own (its forward returns one loss
    per model, its backward dL/dpred of pred's shape), which in training failed far from
    the loss (a flat gradient inside the Sigmoid below it) or not at all (a loss that
    averages the replicas trains them on each other's errors; read18)."""
    # in eval mode: batchnorm cannot take one sample in training mode, which would also
    # move its running statistics, and dropout would draw a mask from the run's stream
    try:
        with eval_mode(model):
            pred = model.forward(x[..., :1, :])
    except (ValueError, TypeError):
        model.forward(x)  # the same error, naming the caller's array rather than one row
        raise
    check_stacking(model, pred, x.shape[-2], y)
    if not is_proplabs(type(loss_fn)):  # proplab's own losses are tested to keep it
        _check_loss_contract(loss_fn, pred, y[..., :1, :])
    return pred.shape


def _check_loss_contract(loss_fn: Loss, pred: np.ndarray, target: np.ndarray) -> None:
    """Refuse a loss whose forward on ``pred`` ``(*R, 1, out)`` does not return one loss per
    model (a float, or an array ``R`` for a stack) or whose backward returns no array of
    pred's shape. A loss that cannot take one sample is left to fail, or not, in training."""
    name = type(loss_fn).__name__
    try:
        loss = loss_fn.forward(pred, target)
        grad = loss_fn.backward()
    except Exception:  # e.g. a loss that needs two samples: training runs it on all of them
        return
    replicas = pred.shape[:-2]
    if np.shape(loss) != replicas:
        one = "a float" if not replicas else f"an array of shape {replicas}, one per replica"
        raise ValueError(
            f"{name}.forward returned a loss of shape {np.shape(loss)} for predictions of "
            f"shape {pred.shape} (one sample, checked before training): it must return one "
            f"loss per model, {one} (reduce over the last two axes only, axis=(-2, -1): "
            "samples and outputs)"
        )
    if not isinstance(grad, np.ndarray):
        raise returned_no_array(name, grad, loss=True)
    if grad.shape != pred.shape:
        raise ValueError(
            f"{name}.backward returned shape {grad.shape} for predictions of shape "
            f"{pred.shape} (one sample, checked before training): dL/dpred has pred's "
            "shape (do not ravel or squeeze it)"
        )


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
        # the others keep the rate they have now (a schedule or a callback may have
        # changed it since fit began)
        lr = np.broadcast_to(np.asarray(self.optimizer.lr, dtype=np.float64), self.shape)
        self.optimizer.set_hyper("lr", np.where(self.active, lr, 0.0))
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
    batch_size: int | None,
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
        return total_loss / n, no_accuracy(pred)
    return total_loss / n, total_hits / n
