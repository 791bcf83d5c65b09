"""Scoring a model: ``accuracy()``, ``evaluate()``, ``predictions()`` (its outputs alone) and
the predicates that say when targets are labels.

Accuracy is defined for labels only (0/1 for one output, classes for several); for a
regression's values it is NaN rather than an invented "correct".
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from proplab.checks import short_repr
from proplab.core import Module, eval_mode
from proplab.losses import Loss, are_stacked_labels
from proplab.optim_base import Optimizer

_FIT = "fit takes (model, loss_fn, optimizer, x, y, epochs)"
_EVALUATE = "evaluate takes (model, loss_fn, x, y)"
# what each role must have: training calls these (a user's own loss or optimizer
# written from scratch has them too)
_NEEDS = {
    "model": ("forward", "backward"),
    "loss_fn": ("forward", "backward"),
    "optimizer": ("step", "zero_grad"),
}
# ... and what evaluate calls: a loss of one's own that only scores (forward, no
# backward) worked there before the check and still does (verify21 R1)
_SCORING_NEEDS = {"model": ("forward",), "loss_fn": ("forward",)}


def check_roles(model: object, loss_fn: object, *optimizer: object) -> None:
    """Refuse a class where an instance belongs (``MSELoss`` for ``MSELoss()``), proplab
    objects in another argument's place, and ``None``, a function or anything else
    without the methods training calls, naming what was passed; they failed deep inside
    the loop ("forward() missing 1 required positional argument: 'target'", "'NoneType'
    object has no attribute 'forward'"). Objects of the user's own (a loss written as a
    Module, say) pass as they are. Without ``optimizer``: :func:`evaluate`'s check."""
    scoring = not optimizer
    if (
        isinstance(model, Module)
        and isinstance(loss_fn, Loss)
        and (scoring or isinstance(optimizer[0], Optimizer))
    ):
        return  # all in place (callbacks.train calls fit every epoch: no loops then)
    roles = _EVALUATE if scoring else _FIT
    kinds: tuple[tuple[str, type, str], ...] = (
        ("a model", Module, "model"),
        ("a loss", Loss, "loss_fn"),
        ("an optimizer", Optimizer, "optimizer"),
    )
    checked: list[tuple[object, str, str, tuple[str, ...]]] = [
        (model, "model", "proplab.mlp(2, 10, 1)", ("a loss", "an optimizer")),
        # a loss may be a Module of the user's own: only an optimizer is surely misplaced
        (loss_fn, "loss_fn", "proplab.MSELoss()", ("an optimizer",)),
    ]
    if not scoring:
        checked.append(
            (
                optimizer[0],
                "optimizer",
                "proplab.SGD(model.parameters(), lr=1.0)",
                ("a model", "a loss"),
            )
        )
    for value, role, example, misplaced in checked:
        if isinstance(value, type) and issubclass(value, (Module, Loss, Optimizer)):
            raise TypeError(
                f"{roles}: {role} is the class {value.__name__}, not an instance of it: "
                f"pass e.g. {example}"
            )
        for what, kind, belongs in kinds:
            if what in misplaced and isinstance(value, kind):
                raise TypeError(
                    f"{roles}: {role} got {what} ({type(value).__name__}), which belongs in "
                    f"{belongs}: arguments in the wrong order?"
                )
        needs = (_SCORING_NEEDS if scoring else _NEEDS)[role]
        missing = [name for name in needs if not callable(getattr(value, name, None))]
        if missing:
            if value is None:
                got = "None"
            elif callable(value):
                got = f"the function {getattr(value, '__name__', type(value).__name__)}"
            else:
                got = f"a {type(value).__name__}"
            raise TypeError(
                f"{roles}: {role} got {got}, which has no {' or '.join(missing)} method: "
                f"pass e.g. {example}"
            )


def accuracy(
    pred: ArrayLike, target: ArrayLike, *, labels_checked: bool = False
) -> float | np.ndarray:
    """Fraction correct, per replica.

    One output column: prediction thresholded at 0.5 against 0/1 labels
    ``(n, 1)``. Several columns: argmax against integer labels ``(n,)`` or
    ``(n, 1)``, or one-hot rows / class probabilities ``(n, C)``. NaN for a model
    with a prediction that is not a finite number (a diverged one: thresholded, its NaN
    outputs would count as class 0), and for targets that are not labels
    (:func:`are_class_targets`: a regression's values, where thresholding or an argmax
    would invent a "correct"). Shape: ``(*R, n, C)`` ->
    float or ``R``. Arrays, or nested lists of numbers. ``labels_checked``: the
    caller knows the targets are labels (fit checks once, not every mini-batch).
    """
    if not isinstance(pred, np.ndarray) or not isinstance(target, np.ndarray):
        pred, target = np.asarray(pred), np.asarray(target)
    if not labels_checked:  # text failed inside NumPy ("ufunc 'greater' did not contain...")
        check_numbers("accuracy: predictions", pred)
        check_numbers("accuracy: target", target)
    if pred.ndim < 2:  # (n,) from .ravel(): which axis holds the samples is lost
        raise ValueError(
            f"accuracy: predictions must be (n, out) or stacked (*R, n, out), got shape "
            f"{pred.shape}; a one-output model's predictions are (n, 1): do not ravel or "
            "squeeze them (.reshape(-1, 1) gives the column back)"
        )
    if pred.shape[-1] == 1:
        if target.shape[-2:] != pred.shape[-2:]:
            # labels (n,) against (n, 1) would broadcast to an (n, n) table of hits
            raise ValueError(
                f"accuracy: target shape {target.shape} does not fit predictions {pred.shape}; "
                f"accepted: 0/1 labels (n, 1) = {pred.shape[-2:]}, or stacked (*R, n, 1)"
            )
        if not labels_checked and not are_binary_labels(target):
            return no_accuracy(pred)
        correct = (pred > 0.5) == (target > 0.5)
        hits = np.count_nonzero(correct, axis=(-2, -1))
    else:
        if not labels_checked and not are_class_targets(target, pred.shape[-1], pred.shape):
            return no_accuracy(pred)
        if (
            target.shape[-1] == pred.shape[-1]
            and target.ndim >= 2
            and not are_stacked_labels(pred, target)
        ):
            labels = target.argmax(-1)
        else:
            labels = target.reshape(
                target.shape[:-1] if target.ndim >= 2 and target.shape[-1] == 1 else target.shape
            )
            if not labels_checked:
                _check_class_indices(labels, pred.shape[-1])
        hits = np.count_nonzero(pred.argmax(-1) == labels, axis=-1)
    acc = hits / pred.shape[-2]
    unscored = ~np.isfinite(pred).all(axis=(-2, -1))
    if unscored.any():  # NaN > 0.5 is False: a diverged model's NaN outputs scored as class 0
        acc = np.where(unscored, math.nan, acc)
    return float(acc) if np.ndim(acc) == 0 else acc


def _check_class_indices(labels: np.ndarray, classes: int) -> None:
    """Refuse labels that are no class index ``0..classes-1`` (in CrossEntropyLoss's words):
    labels 5 and 7 of 3 classes scored 0.0, fractions 0.0, -1 matched no argmax (api21 H4)."""
    if labels.dtype.kind == "b":
        return  # 0 and 1: classes of every model with several outputs
    if labels.dtype.kind == "f":
        whole = np.isfinite(labels) & (np.round(labels) == labels)
        bad = ~(whole & (labels >= 0) & (labels < classes))
    else:
        bad = (labels < 0) | (labels >= classes)
    if np.any(bad):
        raise ValueError(
            f"accuracy: label {labels[bad].flat[0]} is not a class index (accepted: integers "
            f"0..{classes - 1})"
        )


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


def no_accuracy(pred: np.ndarray) -> float | np.ndarray:
    """NaN accuracy for one model, or ``R`` of them for a stack ``(*R, n, out)``."""
    return math.nan if pred.ndim <= 2 else np.full(pred.shape[:-2], math.nan)


def evaluate(
    model: Module, loss_fn: Loss, x: ArrayLike, y: ArrayLike
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
    check_roles(model, loss_fn)
    x, y = as_arrays(x, y)
    for name, a in (("x", x), ("y", y)):
        check_numbers(name, a)  # x + 5j lost its imaginary part in the model's dtype
    x, y = in_model_dtype(model, x, y, getattr(loss_fn, "numeric_targets", False))
    if x.ndim >= 2 and x.shape[-2] == 0:  # as fit says it (the loss divided by 0)
        raise ValueError(f"x has no samples (shape {x.shape})")
    for name, a in (("x", x), ("y", y)):
        check_finite(name, a, "data to score")  # NaN predictions scored as class 0
    check_targets = getattr(loss_fn, "check_targets", None)  # as fit: BCE's targets 3.0
    if check_targets is not None:  # gave a negative loss
        check_targets(y)
    pred = _outputs(model, x)
    check_stacking(model, pred, x.shape[-2], y)
    if y.ndim >= 2 and y.shape[-2] != x.shape[-2] and not are_stacked_labels(pred, y):
        raise samples_mismatch(x, y)
    with np.errstate(over="ignore", invalid="ignore"):
        return loss_fn.forward(pred, y), accuracy(pred, y), pred


def predictions(model: Module, x: ArrayLike) -> np.ndarray:
    """The model's outputs on ``x`` as :func:`evaluate` scores them, without targets.

    In evaluation mode (dropout off, batchnorm's running statistics; every module is put
    back in the mode it had), ``x`` in the model's float dtype. Shape: ``(n, in)`` or
    ``(*R, n, in)`` -> ``(n, out)`` or ``(*R, n, out)``. ``proplab predict`` names its
    classes from these, so it cannot disagree with a run's own scores.
    """
    (x,) = as_arrays(x)
    dtype = model_dtype(model)
    if dtype is not None and x.dtype != dtype and x.dtype.kind in "biuf":
        x = x.astype(dtype)
    if x.ndim >= 2 and x.shape[-2] == 0:
        raise ValueError(f"x has no samples (shape {x.shape})")
    check_finite("x", x, "data to predict on")
    return _outputs(model, x)


def _outputs(model: Module, x: np.ndarray) -> np.ndarray:
    """``model.forward(x)`` in evaluation mode (the one forward of :func:`evaluate` and
    :func:`predictions`)."""
    # a diverged model overflows: its NaN loss and accuracy say so, warnings would repeat it
    with eval_mode(model), np.errstate(over="ignore", invalid="ignore"):
        return model.forward(x)


def non_finite_loss(
    model: Module, loss_fn: Loss, x: np.ndarray, y: np.ndarray, rows: int = 4096
) -> float | None:
    """The loss of one model on ``(x (n, in), y)`` if it is NaN or infinite, else None:
    :func:`replica_losses_if_not_finite` of a model that is no stack."""
    loss = replica_losses_if_not_finite(model, loss_fn, x, y, rows)
    return None if np.isfinite(loss) else float(loss)


def replica_losses_if_not_finite(
    model: Module, loss_fn: Loss, x: np.ndarray, y: np.ndarray, rows: int = 4096
) -> np.ndarray:
    """The final loss per replica ``R`` (``()`` for one model) where it is NaN or infinite,
    0.0 where it is finite (``~np.isfinite(result)`` picks the replicas blown up).

    :func:`evaluate` on ``rows`` samples at a time (one pass over a large data set at once
    took 872 MB where its mini-batch training took 3); a replica's value is that of its
    first chunk whose loss is not finite (then the whole data's is not either), and the
    scoring stops once every replica has one."""
    n = np.shape(x)[-2]
    found = None
    for start in range(0, n, rows):
        part = slice(start, start + rows)
        loss = np.asarray(evaluate(model, loss_fn, x[..., part, :], y[..., part, :])[0])
        new = ~np.isfinite(loss) if found is None else ~np.isfinite(loss) & np.isfinite(found)
        found = np.where(new, loss, 0.0 if found is None else found)
        if not np.isfinite(found).any():  # every replica blown up: no need to look further
            break
    assert found is not None  # fit refuses data with no samples
    return found


def in_model_dtype(
    model: Module, x: np.ndarray, y: np.ndarray, numeric_targets: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``x`` (numbers) and float ``y`` in the float dtype of the model's parameters.

    NumPy's data is float64: fed as it is to a float32 model, every activation and
    gradient would be computed in float64 (only the weights stay float32). Integer
    targets (class labels) stay as they are, unless ``numeric_targets`` (the loss's
    :attr:`~proplab.Loss.numeric_targets`: MSE and BCE compute with them as numbers, and
    a float32 model's XOR labels made their gradient float64). Shapes unchanged; no copy
    when the dtypes already agree. The first parameter's dtype stands for the model's (one
    generator step, not a walk of the whole tree: evaluate runs every epoch of
    :func:`proplab.callbacks.train`).
    """
    dtype = model_dtype(model)
    if dtype is None:
        return x, y
    if x.dtype != dtype and x.dtype.kind in "biuf":
        x = x.astype(dtype)
    if y.dtype != dtype and (y.dtype.kind == "f" or (numeric_targets and y.dtype.kind in "biu")):
        y = y.astype(dtype)
    return x, y


def model_dtype(model: Module) -> np.dtype | None:
    """The float dtype of the model's first parameter, which stands for the model's (None:
    no parameters, or not floats)."""
    first = next(iter(model.named_parameters()), None)
    dtype = first[1].data.dtype if first is not None else None
    return dtype if dtype is not None and dtype.kind == "f" else None


def check_finite(name: str, a: np.ndarray, what: str) -> None:
    """Refuse NaN or inf in ``a``, naming the first: ``"x[0, 1] is nan: training data
    must be finite numbers"`` (``what`` = "training data")."""
    if a.dtype.kind in "fc" and not np.isfinite(a).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        raise ValueError(f"{name}{list(where)} is {a[where]}: {what} must be finite numbers")


def as_arrays(*arrays: object) -> tuple[np.ndarray, ...]:
    """Lists (XOR typed in by hand) as arrays; arrays as they are (strings or objects
    are refused by fit's checks, naming the dtype). The arrays are ``x`` and ``y`` in
    messages: a masked array is refused (NumPy's masked arithmetic failed inside the
    loop, "'numpy.ndarray' object has no attribute '_data'", and its hidden values would
    train), and rows of different lengths get a note on NumPy's error."""
    out = []
    for name, a in zip(("x", "y"), arrays, strict=False):
        if isinstance(a, np.ma.MaskedArray) and not np.ma.getmaskarray(a).any():
            a = np.ma.getdata(a)  # nothing masked: its plain values (verify21 R2)
        if isinstance(a, np.ma.MaskedArray):
            raise TypeError(
                f"{name} is a masked array, which is not taken: fill its masked entries "
                f"({name}.filled(value)) or leave those samples out of x and y, and pass "
                "a plain array"
            )
        if not isinstance(a, np.ndarray):
            try:
                a = np.asarray(a)
            except ValueError as exc:  # ragged nested lists
                raise ValueError(
                    f"{name} is no table of numbers: rows of different lengths? ({exc})"
                ) from None
        out.append(a)
    return tuple(out)


def check_numbers(name: str, a: np.ndarray) -> None:
    """Refuse an array that holds no real numbers (text, complex, dates, objects), naming
    its dtype: ``"x must hold numbers, got an array of dtype <U1"``."""
    if a.dtype.kind not in "biuf":
        if a.dtype.kind == "O" and a.ndim == 0:  # not an array at all: None, say
            raise TypeError(f"{name} must be an array of numbers, got {short_repr(a.item())}")
        raise TypeError(f"{name} must hold numbers, got an array of dtype {a.dtype}")


def samples_mismatch(x: np.ndarray, y: np.ndarray) -> ValueError:
    """The error for ``x`` and ``y`` of different sample counts; labels given as a row per
    replica, ``(R, n)`` for one model, get a word on what is accepted (verify21 N2)."""
    n = x.shape[-2]
    hint = ""
    if y.ndim == 2 and y.shape[-1] == n:
        hint = (
            f" (y {y.shape} looks like {y.shape[0]} rows of {n} labels: labels are (n,) or "
            f"(n, 1); labels (R, n) need a stack of R models)"
        )
    return ValueError(f"x has {n} samples but y has {y.shape[-2]}{hint}")


def check_stacking(model: Module, pred: np.ndarray, n: int, y: np.ndarray) -> None:
    """Refuse targets stacked for other replicas than the model's prediction ``pred`` has
    (a stacked ``y`` for one model, whose loss came back as an array of one) and a stack
    whose layers do not all have its replica axes (an unstacked model given a stacked
    ``x``). ``n``: the samples of x (``fit`` checks one sample's prediction before
    training)."""
    replicas = pred.shape[:-2]
    if replicas:
        params = [p for _, p in model.named_parameters()]
        if any(p.data.shape[: len(replicas)] != replicas for p in params) and all(
            p.replica_ndim == 0 for p in params
        ):
            # no layer has the replica axes: one model, given a stacked x (verify21 N1: the
            # message below spoke of "this stack" and a layer of one's own)
            raise ValueError(
                f"x is stacked for replicas {replicas}, but the model is one model (no "
                "replica axes on its parameters): pass x (n, in), or build a stack with "
                "mlp(..., seeds=[...])"
            )
        check_replica_parameters(model, replicas)
    if are_stacked_labels(pred, y):
        return  # integer labels per replica (*R, n): the loss reads them so
    if y.ndim > 2:
        try:
            fits = np.broadcast_shapes(y.shape[:-2], replicas) == replicas
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"y is stacked as {y.shape} (replicas {y.shape[:-2]}), but the model "
                f"predicts {replicas + (n, pred.shape[-1])} (replicas {replicas}): "
                "one target per replica, or one (n, out) shared by all"
            )


def check_replica_parameters(model: Module, replicas: tuple[int, ...]) -> None:
    """Refuse a stack with a parameter shared by its replicas: a layer of one's own with a
    parameter but no replica axes (an activation with a learnable beta, put in
    ``mlp(seeds=...)``) made the replicas train each other, silently (api17)."""
    for name, p in model.named_parameters():
        if p.data.shape[: len(replicas)] != replicas:
            raise ValueError(
                f"parameter {name!r} has shape {p.data.shape}, but this stack's replica shape "
                f"is {replicas}: in a stack each layer with parameters needs one set per "
                f"replica, on leading axes {replicas} (a layer of your own: see "
                "docs/own_layer.md, before 'An activation without parameters')"
            )
