"""Losses: ``forward(pred, target) -> loss`` and ``backward() -> dLoss/dpred``.

Shapes: ``pred`` is ``(*R, n, out)``; ``target`` is ``(n, out)`` or
``(*R, n, out)`` (CrossEntropyLoss also takes integer labels ``(n,)`` or
``(*R, n)``). The loss is a mean over samples and outputs (MSE, BCE), or over
samples only with the classes summed (CrossEntropyLoss, as in PyTorch), reduced
*per replica*: a float for one model, an array of shape ``R`` for a stack (each
replica's gradient is then the gradient of its own loss).

The mean is where the batch size enters backpropagation: each loss's backward
divides by N, and every layer below only sums over samples.
"""

from __future__ import annotations

from typing import Any, NoReturn, cast

import numpy as np

from proplab import activations
from proplab.module_errors import forward_first


class Loss:
    """Base class. Subclasses keep what ``backward`` needs during ``forward``.

    ``loss_fn(pred, target)`` is ``loss_fn.forward(pred, target)``: ``pred``
    ``(n, out)`` gives a float, ``(*R, n, out)`` (a stack of K models: ``(K, n, out)``)
    an array ``R`` (``(K,)``). ``backward()`` then returns dL/dpred, shape of ``pred``,
    which is what the model's ``backward`` takes.

    Overflow: a direct call runs under NumPy's error settings, so values near the float
    limits may give inf or NaN with NumPy's RuntimeWarnings (overflow, invalid value), as
    the same arithmetic in NumPy would; :func:`~proplab.fit` and :func:`~proplab.evaluate`
    turn those warnings off and record the run as diverged. (Modules: the same, see
    :class:`~proplab.Module`.)

    ``numeric_targets``: the loss computes with its targets as numbers (MSE, BCE), so
    :func:`~proplab.fit` hands it integer targets (XOR's 0/1 labels) in the model's float
    dtype: a float32 model then computes in float32. False (the default) leaves integer
    targets as they are, e.g. class indices for cross-entropy.
    """

    numeric_targets = False

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        """The loss of ``pred`` against ``target``: a float, or an array ``R`` for a stack.

        Also keeps what :meth:`backward` needs (each call replaces the last).
        """
        raise NotImplementedError(
            f"{type(self).__name__} has no forward: write forward(self, pred, target), which "
            "returns the loss and keeps on self what backward needs (docs/own_layer.md, "
            "'Your own loss')"
        )

    def backward(self) -> np.ndarray:
        """dL/dpred for the last :meth:`forward`, an array of ``pred``'s shape.

        For a stack, replica k's rows are the gradient of replica k's own loss.
        """
        raise NotImplementedError(
            f"{type(self).__name__} has no backward: write backward(self), which returns "
            "dL/dpred for the last forward (docs/own_layer.md, 'Your own loss')"
        )

    def check_targets(self, target: np.ndarray) -> None:
        """Refuse targets this loss cannot learn from (nothing by default). :func:`~proplab.fit`
        calls it once on ``y`` before training, rather than every step."""

    def __call__(self, pred: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        """Same as :meth:`forward`."""
        return self.forward(pred, target)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _as_target(loss: Loss, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``target`` as an array of the predictions' last two axes ``(n, out)`` (or stacked).

    NumPy would broadcast labels ``(n,)`` against predictions ``(n, 1)`` to an
    ``(n, n)`` difference and return a plausible but wrong loss, so a target of
    any other shape is an error. (Runs every epoch: attribute checks only.)
    """
    if type(target) is not np.ndarray:
        target = np.asarray(target)
    if np.ndim(pred) < 2:
        _flat_predictions(loss, pred)
    if target.shape[-2:] != pred.shape[-2:]:
        classes = pred.shape[-1]
        if classes > 1 and target.ndim >= 1 and (target.ndim == 1 or target.shape[-1] == 1):
            # class labels for a model with several outputs: a column of them cannot fit
            hint = f" (class labels for {classes} outputs: proplab.one_hot(labels, {classes}))"
        elif target.ndim == 1:
            hint = " (labels (n,) need .reshape(-1, 1))"
        else:
            hint = ""
        raise ValueError(
            f"{type(loss).__name__}: target shape {target.shape} does not fit predictions "
            f"{pred.shape}; accepted: (n, out) = {pred.shape[-2:]}, or stacked "
            f"(*R, n, out){hint}"
        )
    return target


def _predictions(loss: Loss, pred: Any) -> np.ndarray:
    """``pred`` if it is a NumPy array of real numbers, else a TypeError naming what it is
    (a list or a float has no ``.shape``: an AttributeError from inside the loss said
    nothing of the predictions; text has no subtraction)."""
    name = type(loss).__name__
    if not isinstance(pred, np.ndarray):
        raise TypeError(
            f"{name}: predictions must be a NumPy array (n, out) or (*R, n, out), got "
            f"{type(pred).__name__}; pass np.asarray(...)"
        )
    if pred.dtype.kind not in "fiu":
        raise TypeError(f"{name}: predictions must be real numbers, got dtype {pred.dtype}")
    return pred


def _flat_predictions(loss: Loss, pred: Any) -> NoReturn:
    """Refuse predictions of fewer than two axes, saying how they lost one."""
    raise ValueError(
        f"{type(loss).__name__}: predictions must be (n, out) or stacked (*R, n, out), got "
        f"shape {np.shape(pred)}; a one-output model's predictions are (n, 1): do not ravel "
        "or squeeze them (.reshape(-1, 1) gives the column back)"
    )


def _no_samples(loss: Loss, pred: np.ndarray) -> ValueError:
    """The error for predictions with no samples (or no outputs): their mean has no value,
    so refused as fit refuses an empty ``x``. (Raised where the count is computed, not
    checked first: a Python comparison, no NumPy call.)"""
    what = "samples" if pred.shape[-2] == 0 else "outputs"
    return ValueError(f"{type(loss).__name__}: pred has no {what} (shape {pred.shape})")


def _mean_last_two(a: np.ndarray) -> float | np.ndarray:
    """Mean over the sample and output axes; a float when there are no replica axes."""
    total = np.add.reduce(a.reshape(a.shape[:-2] + (-1,)), axis=-1)
    mean = total / (a.shape[-1] * a.shape[-2])
    return float(mean) if mean.ndim == 0 else mean


class MSELoss(Loss):
    """Mean squared error: L = mean((p - t)^2);  dL/dp = 2 (p - t) / N.

    The 2 comes from the square, the 1/N from the mean; the mean runs over samples
    and outputs, N = n * out (per replica). Shapes:
    ``pred`` ``(n, out)`` or ``(*R, n, out)``; ``target`` ``(n, out)`` (shared by
    every replica) or ``(*R, n, out)``; labels ``(n,)`` must be reshaped to
    ``(n, 1)``. The loss is a float for one model, an array ``R`` (``(K,)``) for
    a stack.
    """

    numeric_targets = True  # integer targets are numbers here, cast to the model's dtype

    def __init__(self) -> None:
        self._two_over_n_key: tuple[int, np.dtype] | None = None

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        """mean((pred - target)^2) per replica: a float, or an array ``R`` for a stack."""
        try:
            if type(target) is not np.ndarray or target.shape[-2:] != pred.shape[-2:]:
                target = _as_target(self, pred, target)  # converts, or names a bad shape
            diff = self.diff = pred - target
        except (AttributeError, TypeError):  # only on failure: no per-epoch checks
            _predictions(self, pred)  # names a list, a float or text given as predictions
            raise
        try:
            count = self.count = pred.shape[-1] * pred.shape[-2]  # N = n * out
        except IndexError:  # 1-D predictions and targets (caught here: free every epoch)
            _flat_predictions(self, pred)
        if self._two_over_n_key != (count, diff.dtype):
            if not count:  # here, once per shape: 2 / N below would divide by zero
                raise _no_samples(self, pred)
            # 2 / N as a 0-d array of the data's dtype: NumPy takes it as is,
            # where a Python float is converted on every call (same result)
            self._two_over_n_key = (count, diff.dtype)
            # integer predictions and targets (the API takes them): 2/N as a float, not 0
            scale = diff.dtype if diff.dtype.kind in "fc" else np.float64
            self._two_over_n = np.asarray(2.0 / count, dtype=scale)
        # sum of squares as a dot product: one BLAS call, and the same one
        # (ddot, per replica in vecdot) for a single model and for a stack, so a
        # stacked run's loss is bit-identical to the run alone
        if diff.ndim == 2:
            return float(np.vdot(diff, diff)) / count
        rows = diff.reshape(diff.shape[:-2] + (-1,))  # (*R, n*out)
        if activations._OVERFLOW_IGNORED:  # in fit: overflow is ignored already
            return np.vecdot(rows, rows) / count
        # vecdot warns on overflow where vdot (BLAS, one model's path) is silent: a stack
        # is silent too, as its models alone are (np.errstate costs ~1 us a call, so only
        # outside fit: 5.4 -> 6.5 us on an (85, 100, 1) stack)
        with np.errstate(over="ignore"):
            return np.vecdot(rows, rows) / count

    def backward(self) -> np.ndarray:
        """dL/dpred = 2 (pred - target) / N, N = n * out, with ``pred``'s shape."""
        try:
            return self.diff * self._two_over_n
        except AttributeError:
            raise forward_first(self, "diff") from None


class BCELoss(Loss):
    """Binary cross-entropy on probabilities p in [0, 1].

    L = -mean(t log p + (1 - t) log(1 - p)). As in PyTorch, each log is clamped
    at -100 so p = 0 or p = 1 give a finite loss, and the gradient
    (p - t) / (p (1 - p)) / N is computed with p (1 - p) floored at 1e-12 (as a float32:
    9.99999996e-13, PyTorch's exact floor).

    The gradient, per entry: d/dp of -[t log p + (1 - t) log(1 - p)] is
    -t/p + (1 - t)/(1 - p) = (p - t) / (p (1 - p)). After a sigmoid p = s(z) the
    chain rule multiplies it by ds/dz = s (1 - s), which cancels the denominator:
    the gradient with respect to the logit is just (s - t) / N, the same
    cancellation as CrossEntropyLoss's softmax (below). Here the two are separate
    modules and p (1 - p) is floored at 1e-12, so that holds while it is above the
    floor (|z| below ~27.6); a saturated sigmoid's gradient shrinks past it, as in
    PyTorch's BCELoss (its BCEWithLogitsLoss fuses the two).

    The mean runs over samples and outputs, N = n * out (per replica). Shapes:
    ``pred`` ``(n, out)`` or ``(*R, n, out)`` (e.g. a sigmoid output ``(n, 1)``);
    ``target`` 0/1 labels (or probabilities) ``(n, out)``, shared, or
    ``(*R, n, out)``. A ``pred`` outside [0, 1] (or NaN) is a ValueError, and so is such a
    target in :func:`~proplab.fit` and :func:`~proplab.evaluate` (:meth:`check_targets`;
    a direct call does not check targets). The loss is a
    float for one model, an array ``R`` (``(K,)``) for a stack.
    """

    numeric_targets = True  # integer targets are numbers here, cast to the model's dtype

    _LOG_FLOOR = -100.0
    # PyTorch's EPSILON, 1e-12, reaches its BCE gradient as a float32 constant:
    # 9.99999996e-13, not 1e-12. The same value here, so the gradient where the floor
    # binds (p within ~1e-12 of 0 or 1) is torch's, not 4e-9 off it
    _EPS = float(np.float32(1e-12))

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        """-mean(t log p + (1 - t) log(1 - p)) per replica: a float, or an array ``R``."""
        target = _as_target(self, _predictions(self, pred), target)
        # inside [0, 1] rather than outside it: NaN is neither, and is refused too (same
        # number of NumPy calls; the method .all() is quicker than the function np.any)
        inside = (pred >= 0) & (pred <= 1)
        if not inside.all():
            bad = pred[~inside].flat[0]
            raise ValueError(
                f"BCELoss needs probabilities in [0, 1], got {bad}; use a sigmoid output"
            )

        self.pred, self.target = pred, target
        self.count = count = pred.shape[-1] * pred.shape[-2]
        if not count:  # the mean over no entries: NaN and a RuntimeWarning otherwise
            raise _no_samples(self, pred)
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(pred), self._LOG_FLOOR)
            log_1mp = np.maximum(np.log1p(-pred), self._LOG_FLOOR)
        return _mean_last_two(-(target * log_p + (1.0 - target) * log_1mp))

    def check_targets(self, target: np.ndarray) -> None:
        """Refuse a target outside [0, 1]: no probability, and its loss has no minimum."""
        target = np.asarray(target)
        outside = ~((target >= 0) & (target <= 1))  # NaN included
        if np.any(outside):
            raise ValueError(
                f"BCELoss needs targets in [0, 1] (0/1 labels or probabilities), got "
                f"{target[outside].flat[0]}"
            )

    def backward(self) -> np.ndarray:
        """dL/dpred = (p - t) / (max(p (1 - p), eps) * N), eps = float32(1e-12), N = n * out,
        ``pred``'s shape."""
        try:
            p, t = self.pred, self.target
        except AttributeError:
            raise forward_first(self, "pred") from None
        return (p - t) / (np.maximum(p * (1.0 - p), self._EPS) * self.count)


def are_stacked_labels(pred: np.ndarray, target: np.ndarray) -> bool:
    """True for integer labels per replica ``(*R, n)`` against logits ``(*R, n, C)``.

    They are labels even when ``R == n == C`` makes them look like shared one-hot
    rows ``(n, C)``; CrossEntropyLoss and accuracy read targets by this one rule.
    """
    return target.shape == pred.shape[:-1] and target.dtype.kind in "iub"


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, stable for any finite logits. Shape: ``(..., C)`` -> same."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy on raw logits, fused (``torch.nn.CrossEntropyLoss``, mean).

    L = mean_i [ logsumexp(z_i) - z_i[t_i] ];   dL/dz = (softmax(z) - onehot(t)) / n.

    Why fused: through a separate softmax p = softmax(z), the chain rule would take
    dL/dp = -onehot / p and multiply it by the softmax's Jacobian diag(p) - p p^T;
    the product collapses to p - onehot. Computed in one step, nothing is divided by
    p (which underflows to 0 for a confidently wrong class) and no C x C Jacobian is
    built. The logits are shifted by their row maximum before ``exp``, so no finite
    logit overflows; the model's last layer must therefore have *no*
    activation (``output_activation="identity"``): the softmax lives here.

    Shapes: ``pred`` (logits) ``(*R, n, C)`` with ``C >= 2``. ``target`` is either
    integer labels in ``0..C-1`` of shape ``(n,)``, ``(n, 1)``, ``(*R, n)`` or
    ``(*R, n, 1)``, or one-hot rows / class probabilities ``(n, C)`` or
    ``(*R, n, C)`` (then ``L = -mean_i sum_c t_ic log p_ic``, as in PyTorch).
    The loss is a float for one model, an array ``R`` for a stack.
    """

    # set by forward: the class-probability targets, or the integer labels (one is None)
    soft: np.ndarray | None
    labels: np.ndarray | None

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float | np.ndarray:
        """Mean over the n samples of -log softmax(z)[label] (of -sum_c t_c log softmax(z)_c
        for one-hot or probability rows): a float, or an array ``R`` for a stack."""
        if _predictions(self, pred).ndim < 2 or pred.shape[-1] < 2:
            raise ValueError(
                f"CrossEntropyLoss needs logits (*R, n, C) with C >= 2 classes, got shape {pred.shape}"
            )
        n, c = pred.shape[-2], pred.shape[-1]
        if not n:  # no mean over no samples (and the labels' range check has no minimum)
            raise _no_samples(self, pred)
        target = np.asarray(target)
        shifted = pred - pred.max(axis=-1, keepdims=True)
        probs = np.exp(shifted)
        sum_exp = probs.sum(axis=-1, keepdims=True)
        probs /= sum_exp  # softmax(z), in place
        self.probs, self.n = probs, n
        log_sum = np.log(sum_exp)[..., 0]  # logsumexp(z) - max(z), per sample
        if (
            target.ndim >= 2
            and target.shape[-2:] == (n, c)
            and not are_stacked_labels(pred, target)
        ):
            # one-hot rows or class probabilities: -sum_c t_c (z_c - logsumexp z)
            self.soft, self.labels = target, None
            per_sample = log_sum * target.sum(axis=-1) - np.add.reduce(target * shifted, axis=-1)
        else:
            self.soft, self.labels = None, self._labels(target, pred.shape)
            per_sample = log_sum - self._pick(shifted, self.labels)
        loss = np.add.reduce(per_sample, axis=-1) / n
        return float(loss) if loss.ndim == 0 else loss

    @staticmethod
    def _labels(target: np.ndarray, pred_shape: tuple[int, ...]) -> np.ndarray:
        """Integer labels ``(n,)`` or ``(*R, n)``, checked to lie in ``0..C-1``."""
        n, c = pred_shape[-2], pred_shape[-1]
        labels = target
        if labels.ndim >= 2 and labels.shape[-1] == 1 and labels.shape[-2] == n:
            labels = labels[..., 0]
        if labels.ndim == 0 or labels.shape[-1] != n:
            raise ValueError(
                f"CrossEntropyLoss: target shape {target.shape} fits neither labels (n,) / (n, 1) "
                f"nor one-hot (n, C) for logits {pred_shape}"
            )
        as_int = labels if labels.dtype.kind in "iu" else labels.astype(np.int64)
        if (
            as_int.min() < 0
            or as_int.max() >= c
            or (as_int is not labels and np.any(as_int != labels))
        ):
            bad = labels[(as_int != labels) | (as_int < 0) | (as_int >= c)].flat[0]
            raise ValueError(
                f"CrossEntropyLoss: label {bad} is not a class index (accepted: integers 0..{c - 1})"
            )
        return as_int

    @staticmethod
    def _pick(a: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """``a[..., i, labels[i]]``: each sample's entry for its label. Shape ``(*R, n)``."""
        if a.ndim == 2:
            return a[np.arange(a.shape[0]), labels]
        index = np.broadcast_to(labels, a.shape[:-1])[..., None]
        return np.take_along_axis(a, index, axis=-1)[..., 0]

    def backward(self) -> np.ndarray:
        """dL/dz = (softmax(z) - onehot(t)) / n, shape ``(*R, n, C)`` like the logits.

        The mean is over the n samples only (classes are summed, as in PyTorch).
        For class-probability targets: (softmax(z) * sum_c t_c - t) / n.
        """
        try:
            scale = 1.0 / self.n
        except AttributeError:
            raise forward_first(self, "probs") from None
        if self.soft is not None:
            t = self.soft
            # d/dz of -sum_c t_c log p_c is p * sum_c t_c - t (= p - t for one-hot rows)
            return (self.probs * t.sum(axis=-1, keepdims=True) - t) * scale
        # (p - onehot(t)) / n: start from p / n and subtract 1/n at each sample's label
        grad = self.probs * scale
        labels = cast(np.ndarray, self.labels)  # soft is None: forward kept labels
        if grad.ndim == 2:
            grad[np.arange(grad.shape[0]), labels] -= scale
        else:
            index = np.broadcast_to(labels, grad.shape[:-1])[..., None]
            np.put_along_axis(grad, index, np.take_along_axis(grad, index, axis=-1) - scale, -1)
        return grad
