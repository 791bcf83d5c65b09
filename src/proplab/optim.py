"""Optimizers, following PyTorch's documented update rules (``torch.optim``).

An optimizer receives the parameters once and owns their state (velocity,
squared-gradient sums, moments), laid out like the parameters. Layers never know
which optimizer runs. ``step()`` gathers state and hands the arithmetic to a
small function per rule (``sgd_update``, ``adagrad_update``,
``rmsprop_update``, ``adam_update``), which the tests check by hand: each
updates ``data`` and its state buffers in place, all arrays of one shape, with
every hyperparameter a float or an array broadcastable against them. (Plain
SGD, the lab's rule, is the one line in ``SGD.update``.)

Every hyperparameter may be a float or an array of the replica shape ``R``
(one value per model in a stack); arrays are broadcast over each parameter's
trailing axes.

Every rule takes two penalties, added to the gradient before the rule sees it
(:func:`regularized`): L2 ``weight_decay`` (``+ weight_decay * p``, PyTorch's
coupled form) and ``l1`` (``+ l1 * sign(p)``, the subgradient of
``l1 * sum(|p|)``, sign(0) = 0), biases included, as TensorFlow Playground's
"Regularization: L1 / L2" and its rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from proplab.core import Parameter

Hyper = float | np.ndarray


def _check(
    name: str,
    value: Hyper,
    low: float,
    high: float = math.inf,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> Hyper:
    """Validate a scalar or per-replica hyperparameter against [low, high].

    A per-replica array comes back as a read-only copy: the optimizer must not
    follow later writes into the caller's array (they would skip these checks),
    and writing into its own raises instead of changing a rate unchecked.
    """
    arr = np.asarray(value, dtype=np.float64)
    too_low = arr <= low if open_low else arr < low
    too_high = arr >= high if open_high else arr > high
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(too_low) or np.any(too_high):
        lo, hi = ("(" if open_low else "["), (")" if open_high else "]")
        shown = value if arr.ndim == 0 else arr.tolist()
        raise ValueError(
            f"Invalid {name}: {shown} (accepted: a finite number in {lo}{low}, {high}{hi})"
        )
    return float(arr) if arr.ndim == 0 else _read_only(arr)


def _read_only(value: np.ndarray | list | tuple) -> np.ndarray:
    """A per-replica hyperparameter as the optimizer keeps it: a float64 copy that cannot be
    written (later writes into the caller's array would skip every check)."""
    arr = np.array(value, dtype=np.float64)  # a copy, even of a float64 array
    arr.flags.writeable = False
    return arr


def _nonzero(value: Hyper) -> bool:
    """True if a scalar or per-replica hyperparameter is non-zero anywhere (no NumPy call for floats)."""
    return bool(np.any(value)) if isinstance(value, np.ndarray) else value != 0


def regularized(grad: np.ndarray, data: np.ndarray, weight_decay: Hyper, l1: Hyper) -> np.ndarray:
    """The gradient a rule steps on: ``grad + weight_decay * data + l1 * sign(data)``.

    L2 (``weight_decay``, PyTorch's coupled form) and L1 (the subgradient of
    ``l1 * sum(|p|)``, with sign(0) = 0: a weight at exactly 0, such as the bias a
    stack holds at zero for a replica without one, stays there) are added to the
    gradient before momentum or adaptive scaling see it. Either term is skipped when
    it is 0 everywhere; ``grad`` itself is never written (it is the parameters' .grad).
    """
    g = grad + weight_decay * data if _nonzero(weight_decay) else grad
    if _nonzero(l1):
        g = g + l1 * np.sign(data)
    return g


class ParamGroup:
    """Parameters of one dtype and replica shape packed into one flat buffer.

    ``data`` and ``grad`` are ``(*R, total)`` arrays; each parameter's
    ``data``/``grad`` become views into them. One elementwise update of the
    flat buffer then replaces one per parameter: on the lab's tiny networks the
    time is per-call overhead, so this halves the optimizer's cost.
    """

    def __init__(self, params: list[Parameter]) -> None:
        first = params[0]
        self.replica_ndim = first.replica_ndim
        replica_shape = first.replica_shape
        sizes = [int(np.prod(p.shape[self.replica_ndim :], dtype=np.int64)) for p in params]
        self.data = np.empty(replica_shape + (sum(sizes),), dtype=first.data.dtype)
        self.grad = np.zeros_like(self.data)
        offset = 0
        # (parameter, its data view, its grad view); a list of triples, not a zip:
        # sync_grads runs every step, and zip(strict=True) costs ~0.3 us per loop
        self.views: list[tuple[Parameter, np.ndarray, np.ndarray]] = []
        for p, size in zip(params, sizes, strict=True):
            span = slice(offset, offset + size)
            data_view = self.data[..., span].reshape(p.shape)
            grad_view = self.grad[..., span].reshape(p.shape)
            if not (
                np.shares_memory(data_view, self.data) and np.shares_memory(grad_view, self.grad)
            ):
                raise AssertionError("packing a parameter produced a copy, not a view")
            p._rebind(data_view, grad_view)
            self.views.append((p, data_view, grad_view))
            offset += size

    def __setstate__(self, state: dict) -> None:
        """After pickling or ``copy.deepcopy``: views are copied apart from the buffer they
        viewed (NumPy keeps no view across a copy), so the parameters would hold detached
        arrays and every step would move the buffer alone. View the copied buffer again."""
        self.__dict__.update(state)
        offset, views = 0, []
        for p, data_view, grad_view in self.views:
            size = int(np.prod(p.shape[self.replica_ndim :], dtype=np.int64))
            span = slice(offset, offset + size)
            offset += size
            mine = p._data is data_view  # else packed by another optimizer since
            data_view = self.data[..., span].reshape(p.shape)
            grad_view = self.grad[..., span].reshape(p.shape)
            views.append((p, data_view, grad_view))
            if mine:
                # the buffer holds the very values p had (p's arrays were views of it):
                # bind without copying (the copy may be a read-only memory map, joblib's)
                p._data, p._grad, p._grad_row = data_view, grad_view, None
            # else sync_grads takes p back (values copied in) if this optimizer steps
        self.views = views

    @property
    def params(self) -> list[Parameter]:
        """The packed parameters, in buffer order."""
        return [p for p, _, _ in self.views]

    def sync_grads(self) -> None:
        """Write true zeros where a gradient was cleared lazily and never accumulated,
        and apply each parameter's ``grad_mask``."""
        for p, data_view, grad_view in self.views:
            if p._data is not data_view:
                # another optimizer packed p since: take it back, values and gradient
                # included, or this one would silently update a detached copy
                p._rebind(data_view, grad_view)
            if p._grad_is_zero:
                p.materialize_grad()
            if p.grad_mask is not None:
                grad_view *= p.grad_mask


def _pack(params: list[Parameter]) -> list[ParamGroup]:
    groups: dict[tuple, list[Parameter]] = {}
    for p in params:
        groups.setdefault((p.data.dtype, p.replica_shape), []).append(p)
    return [ParamGroup(ps) for ps in groups.values()]


class Optimizer:
    """Base class: holds the parameters, their state and the hyperparameters.

    The parameters are packed into one flat buffer per dtype and replica shape
    (:class:`ParamGroup`); the state (velocity, squared-gradient sums,
    moments) is kept per group, in arrays of the same layout, so the state of
    parameter ``p`` is the matching slice. Subclasses implement
    ``update(group, state)`` with ``group.data`` and ``group.grad``.

    Hyperparameters live in ``hyper`` (a dict name -> value); each is a float
    or, for a replica stack of K models, a per-replica array of shape ``(K,)``
    (generally: the replica shape ``R``, or one that broadcasts to it). A
    training loop calls ``zero_grad()``, runs forward and backward (which add
    into every ``.grad``), then ``step()``; ``steps`` counts the steps taken.
    """

    # hyperparameters with an upper bound: name -> (bound, whether it is excluded);
    # set_hyper checks them as the constructor does
    _upper_bounds: dict[str, tuple[float, bool]] = {}

    def __init__(self, params: Iterable[Parameter], **hyper: Hyper) -> None:
        self.params: list[Parameter] = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Parameter):
                raise TypeError(f"optimizer takes Parameters, got {type(p).__name__}")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError("optimizer got the same parameter twice")
        self.groups = _pack(self.params)
        # each group with its state, paired once (step runs every epoch)
        self._group_states: list[tuple[ParamGroup, dict[str, np.ndarray]]] = [
            (group, {}) for group in self.groups
        ]
        self.steps = 0
        self._shaped: dict[tuple, Hyper] = {}
        self.hyper: dict[str, Hyper] = dict(hyper)
        for name, value in self.hyper.items():
            self._check_fits(name, value)

    def _check_fits(self, name: str, value: Hyper) -> None:
        """A per-replica hyperparameter must fit every group's replica shape ``R``: checked
        when set, not at the next step (an array as long as a single model's weight
        vector would otherwise be applied entry by entry)."""
        if not isinstance(value, np.ndarray):
            return
        for group in self.groups:
            replicas = group.data.shape[:-1]
            if value.ndim > len(replicas) or any(
                v not in (1, r) for v, r in zip(value.shape, replicas, strict=False)
            ):
                raise ValueError(
                    f"{name} per replica has shape {value.shape}, which does not fit the "
                    f"parameters' replica shape {replicas} (pass a float for one model)"
                )

    @property
    def state(self) -> list[dict[str, np.ndarray]]:
        """Each packed group's buffers (momentum, averages...), in group order."""
        return [state for _, state in self._group_states]

    @property
    def lr(self) -> Hyper:
        """The learning rate: a float, or a per-replica array ``(K,)`` for a stack.

        Assigning ``opt.lr = value`` goes through :meth:`set_hyper` (checked, takes
        effect at the next step).
        """
        return self.hyper["lr"]

    @lr.setter
    def lr(self, value: Hyper) -> None:
        self.set_hyper("lr", value)

    def set_hyper(self, name: str, value: Hyper) -> None:
        """Change a hyperparameter between steps (schedules use this).

        Raises ValueError for a name this optimizer does not have (it would be stored and
        never used), for a negative, infinite or NaN value (no rule takes one; lr 0
        freezes), and for one outside the range the constructor accepts (dampening and
        RMSProp's alpha at most 1, Adam's betas below 1).
        """
        if name not in self.hyper:
            raise ValueError(
                f"{type(self).__name__} has no hyperparameter {name!r} "
                f"(accepted: {', '.join(self.hyper)})"
            )
        arr = np.asarray(value)
        if not np.all(np.isfinite(arr) & (arr >= 0)):  # NaN fails >= too
            raise ValueError(
                f"{name} must be a finite number >= 0 (or an array of them), got {value!r}"
            )
        if name in self._upper_bounds:  # the constructor's range (e.g. beta1 < 1)
            high, open_high = self._upper_bounds[name]
            if np.any(arr >= high) if open_high else np.any(arr > high):
                raise ValueError(
                    f"{name} must be in [0, {high:g}{')' if open_high else ']'} as "
                    f"{type(self).__name__}'s constructor takes it, got {value!r}"
                )
        if isinstance(value, np.ndarray | list | tuple) and np.ndim(value) > 0:
            value = _read_only(value)
        self._check_fits(name, value)
        self.hyper[name] = value
        self._shaped = {k: v for k, v in self._shaped.items() if k[0] != name}
        self._hyper_changed(name)

    def _hyper_changed(self, name: str) -> None:
        """Hook for subclasses that precompute something from a hyperparameter."""

    def shaped(self, name: str, group: ParamGroup) -> Hyper:
        """Hyperparameter ``name`` broadcastable against ``group.data`` (cached)."""
        key = (name, id(group))
        try:
            return self._shaped[key]
        except KeyError:
            value = self.hyper[name]
            if isinstance(value, np.ndarray):
                value = value.reshape(value.shape + (1,) * (group.data.ndim - value.ndim))
            self._shaped[key] = value
            return value

    def shaped_array(self, name: str, group: ParamGroup) -> np.ndarray:
        """Like :meth:`shaped`, but a float comes back as a 0-d array of the group's dtype.

        NumPy converts a Python float operand on every ufunc call (~0.25 us on
        NumPy 2, as long as a small layer's arithmetic); a 0-d array of the
        right dtype is used as is and gives the same result.
        """
        key = (name, id(group), "array")
        try:
            return self._shaped[key]
        except KeyError:
            value = np.asarray(self.shaped(name, group), dtype=group.data.dtype)
            self._shaped[key] = value
            return value

    def zero_grad(self) -> None:
        """Set the gradient of every parameter this optimizer updates to zero (lazily:
        the next backward overwrites it instead of adding). Call it before each backward:
        gradients otherwise accumulate across steps."""
        for p in self.params:
            p._grad_is_zero = True

    def step(self) -> None:
        """Apply one update to every parameter, in place, from its current ``.grad``.

        Increments ``steps`` first (so the first step is ``t = 1`` in the formulas),
        applies each parameter's ``grad_mask``, then runs :meth:`update` on each
        packed group.
        """
        self.steps += 1
        for group, state in self._group_states:
            group.sync_grads()
            self.update(group, state)

    def update(self, group: ParamGroup, state: dict[str, np.ndarray]) -> None:
        """The rule itself, for one packed group: change ``group.data`` in place from
        ``group.grad`` (both ``(*R, total)``). ``state`` is the group's dict of buffers,
        empty before the first step; the rule creates and keeps what it needs there.
        Called by :meth:`step`; subclasses implement it."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.hyper.items())
        return f"{type(self).__name__}({args})"


def sgd_update(
    data: np.ndarray,
    grad: np.ndarray,
    buf: np.ndarray | None,
    first: bool,
    lr: Hyper,
    momentum: Hyper,
    dampening: Hyper,
    nesterov: bool,
    weight_decay: Hyper,
    l1: Hyper = 0.0,
) -> None:
    """One SGD step in place (torch.optim.SGD, plus the L1 term of :func:`regularized`).
    ``buf`` is the momentum buffer or None."""
    g = regularized(grad, data, weight_decay, l1)
    if buf is not None:
        if first:
            buf[...] = g  # PyTorch starts the buffer at the first gradient, undamped
        else:
            buf *= momentum
            if isinstance(momentum, np.ndarray) and _nonzero(dampening):
                # a replica with momentum 0 is plain SGD, which (alone, and in torch)
                # ignores dampening: its buffer must be exactly g, not (1 - dampening) g
                dampening = np.where(momentum == 0, 0.0, dampening)
            buf += (1.0 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    data -= lr * g


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening and Nesterov (torch.optim.SGD).

    With g the gradient (plus ``weight_decay * p`` and ``l1 * sign(p)`` when those
    penalties are on, see :func:`regularized`): without momentum, p <- p - lr g
    (the lab's plain gradient descent). With momentum mu: v <- mu v + (1 - dampening) g,
    except v = g on the first step (as in PyTorch); p <- p - lr v (Nesterov:
    p <- p - lr (g + mu v)).

    The lab handout's momentum rule ``v = b v + (1 - b) g`` is
    ``SGD(momentum=b, dampening=b)``, with one difference: here v starts at the
    first gradient g, where the handout's rule applied to v = 0 would give
    (1 - b) g, so the first step is larger.

    ``lr``, ``momentum``, ``dampening``, ``weight_decay`` and ``l1`` may each be a
    float or a per-replica array ``(K,)`` for a stack; ``nesterov`` is one bool for all
    (it needs every momentum > 0 and every dampening 0). A replica with momentum 0
    steps as plain SGD, dampening ignored.
    """

    _upper_bounds = {"dampening": (1.0, False)}

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: Hyper = 0.1,
        momentum: Hyper = 0.0,
        dampening: Hyper = 0.0,
        nesterov: bool = False,
        weight_decay: Hyper = 0.0,
        l1: Hyper = 0.0,
    ) -> None:
        lr = _check("learning rate", lr, 0.0)
        momentum = _check("momentum", momentum, 0.0)
        dampening = _check("dampening", dampening, 0.0, 1.0)
        weight_decay = _check("weight_decay", weight_decay, 0.0)
        l1 = _check("l1", l1, 0.0)
        if nesterov and (np.any(np.asarray(momentum) <= 0) or np.any(np.asarray(dampening) != 0)):
            raise ValueError(
                "Nesterov momentum requires a momentum > 0 and zero dampening, "
                f"got momentum={momentum}, dampening={dampening}"
            )
        super().__init__(
            params,
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            l1=l1,
        )
        self.nesterov = bool(nesterov)
        self._hyper_changed("momentum")

    def _hyper_changed(self, name: str) -> None:
        if name in ("momentum", "weight_decay", "l1"):
            self.use_momentum = _nonzero(self.hyper["momentum"])
            # no momentum and no penalty: p -= lr g, the lab's rule, in one NumPy call
            self.plain = not (
                self.use_momentum
                or _nonzero(self.hyper["weight_decay"])
                or _nonzero(self.hyper["l1"])
            )

    def update(self, group: ParamGroup, state: dict[str, np.ndarray]) -> None:
        """One SGD step (the class's rule) on packed ``group``; buffers kept in ``state``."""
        if self.plain:
            # plain gradient descent, the lab's rule, for every parameter at once:
            # group.data and group.grad pack them all (ParamGroup)
            group.data -= self.shaped_array("lr", group) * group.grad
            return
        first = "momentum_buffer" not in state
        if self.use_momentum and first:
            state["momentum_buffer"] = np.zeros_like(group.data)
        sgd_update(
            group.data,
            group.grad,
            state.get("momentum_buffer"),
            first,
            self.shaped("lr", group),
            self.shaped("momentum", group),
            self.shaped("dampening", group),
            self.nesterov,
            self.shaped("weight_decay", group),
            self.shaped("l1", group),
        )


def adagrad_update(
    data: np.ndarray,
    grad: np.ndarray,
    state_sum: np.ndarray,
    step: int,
    lr: Hyper,
    lr_decay: Hyper,
    eps: Hyper,
    weight_decay: Hyper,
    l1: Hyper = 0.0,
) -> None:
    """One AdaGrad step in place (torch.optim.Adagrad, plus the L1 term of :func:`regularized`)."""
    g = regularized(grad, data, weight_decay, l1)
    clr = lr / (1.0 + (step - 1) * lr_decay)
    state_sum += g * g
    data -= clr * g / (np.sqrt(state_sum) + eps)


class AdaGrad(Optimizer):
    """AdaGrad (torch.optim.Adagrad): a per-entry step shrinking with the summed squared gradients.

    At step t = 1, 2, ..., with g the gradient (plus ``weight_decay * p`` and
    ``l1 * sign(p)`` when those penalties are on, see :func:`regularized`)::

        s <- s + g^2                          (s starts at initial_accumulator_value)
        p <- p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)

    ``lr``, ``lr_decay``, ``weight_decay``, ``l1`` and ``eps`` may each be a float or
    a per-replica array ``(K,)`` for a stack; ``initial_accumulator_value`` is one
    float for all.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: Hyper = 0.01,
        lr_decay: Hyper = 0.0,
        weight_decay: Hyper = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: Hyper = 1e-10,
        l1: Hyper = 0.0,
    ) -> None:
        super().__init__(
            params,
            lr=_check("learning rate", lr, 0.0),
            lr_decay=_check("lr_decay", lr_decay, 0.0),
            weight_decay=_check("weight_decay", weight_decay, 0.0),
            eps=_check("epsilon value", eps, 0.0),
            l1=_check("l1", l1, 0.0),
        )
        self.initial_accumulator_value = float(
            _check("initial_accumulator_value", initial_accumulator_value, 0.0)
        )

    def update(self, group: ParamGroup, state: dict[str, np.ndarray]) -> None:
        """One AdaGrad step (the class's rule) on packed ``group``; buffers kept in ``state``."""
        if "sum" not in state:
            state["sum"] = np.full_like(group.data, self.initial_accumulator_value)
        adagrad_update(
            group.data,
            group.grad,
            state["sum"],
            self.steps,
            self.shaped("lr", group),
            self.shaped("lr_decay", group),
            self.shaped("eps", group),
            self.shaped("weight_decay", group),
            self.shaped("l1", group),
        )


def rmsprop_update(
    data: np.ndarray,
    grad: np.ndarray,
    square_avg: np.ndarray,
    grad_avg: np.ndarray | None,
    buf: np.ndarray | None,
    lr: Hyper,
    alpha: Hyper,
    eps: Hyper,
    momentum: Hyper,
    weight_decay: Hyper,
    l1: Hyper = 0.0,
) -> None:
    """One RMSprop step in place (torch.optim.RMSprop; centered when grad_avg is given;
    plus the L1 term of :func:`regularized`)."""
    g = regularized(grad, data, weight_decay, l1)
    square_avg *= alpha
    square_avg += (1.0 - alpha) * g * g
    if grad_avg is not None:
        grad_avg *= alpha
        grad_avg += (1.0 - alpha) * g
        avg = np.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        avg = np.sqrt(square_avg) + eps
    if buf is not None:
        buf *= momentum
        buf += g / avg
        data -= lr * buf
    else:
        # lr * (g / avg), not (lr * g) / avg: the momentum path's buffer of a replica
        # with momentum 0 is exactly g / avg, so both paths round alike and such a
        # replica in a stack steps as its model alone does
        data -= lr * (g / avg)


class RMSProp(Optimizer):
    """RMSprop (torch.optim.RMSprop): the step divided by a running RMS of the gradient.

    With g the gradient (plus ``weight_decay * p`` and ``l1 * sign(p)`` when those
    penalties are on, see :func:`regularized`)::

        v <- alpha v + (1 - alpha) g^2                       (v starts at 0)
        d = sqrt(v) + eps
        p <- p - lr g / d                                    (momentum 0)
        b <- mu b + g / d;  p <- p - lr b                    (momentum mu, b starts at 0)

    ``centered=True`` also keeps m <- alpha m + (1 - alpha) g and uses
    d = sqrt(v - m^2) + eps. ``lr``, ``alpha``, ``eps``, ``weight_decay``, ``l1`` and
    ``momentum`` may each be a float or a per-replica array ``(K,)`` for a stack;
    ``centered`` is one bool for all. A momentum first set above 0 later (``set_hyper``,
    a schedule) starts its buffer b at 0 then; torch.optim.RMSprop cannot do that
    (its step raises KeyError).
    """

    _upper_bounds = {"alpha": (1.0, False)}

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: Hyper = 0.01,
        alpha: Hyper = 0.99,
        eps: Hyper = 1e-8,
        weight_decay: Hyper = 0.0,
        momentum: Hyper = 0.0,
        centered: bool = False,
        l1: Hyper = 0.0,
    ) -> None:
        super().__init__(
            params,
            lr=_check("learning rate", lr, 0.0),
            alpha=_check("alpha value", alpha, 0.0, 1.0),
            eps=_check("epsilon value", eps, 0.0),
            weight_decay=_check("weight_decay", weight_decay, 0.0),
            momentum=_check("momentum value", momentum, 0.0),
            l1=_check("l1", l1, 0.0),
        )
        self.centered = bool(centered)
        self._hyper_changed("momentum")

    def _hyper_changed(self, name: str) -> None:
        if name == "momentum":
            self.use_momentum = _nonzero(self.hyper["momentum"])

    def update(self, group: ParamGroup, state: dict[str, np.ndarray]) -> None:
        """One RMSProp step (the class's rule) on packed ``group``; buffers kept in ``state``."""
        if "square_avg" not in state:
            state["square_avg"] = np.zeros_like(group.data)
            if self.centered:
                state["grad_avg"] = np.zeros_like(group.data)
        if self.use_momentum and "momentum_buffer" not in state:
            # from the first step, or from the step after a momentum was first set
            state["momentum_buffer"] = np.zeros_like(group.data)
        rmsprop_update(
            group.data,
            group.grad,
            state["square_avg"],
            state.get("grad_avg"),
            state.get("momentum_buffer"),
            self.shaped("lr", group),
            self.shaped("alpha", group),
            self.shaped("eps", group),
            self.shaped("momentum", group),
            self.shaped("weight_decay", group),
            self.shaped("l1", group),
        )


def _power(base: Hyper, step: int) -> Hyper:
    """``base ** step`` as Python computes it for each float.

    NumPy's vectorised power rounds differently from Python's (the C library's
    ``pow``) in ~5 % of cases, so per-replica betas must take Python's, or a
    replica of a stack would not step exactly as its model alone does.
    """
    if isinstance(base, np.ndarray):
        return np.array([b**step for b in base.ravel().tolist()]).reshape(base.shape)
    return base**step


def adam_update(
    data: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    max_exp_avg_sq: np.ndarray | None,
    step: int,
    lr: Hyper,
    beta1: Hyper,
    beta2: Hyper,
    eps: Hyper,
    weight_decay: Hyper,
    l1: Hyper = 0.0,
) -> None:
    """One Adam step in place (torch.optim.Adam, L2 weight decay, optional AMSGrad; plus
    the L1 term of :func:`regularized`)."""
    g = regularized(grad, data, weight_decay, l1)
    exp_avg *= beta1
    exp_avg += (1.0 - beta1) * g
    exp_avg_sq *= beta2
    exp_avg_sq += (1.0 - beta2) * g * g
    bias_correction1 = 1.0 - _power(beta1, step)
    bias_correction2_sqrt = np.sqrt(1.0 - _power(beta2, step))
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    else:
        second = exp_avg_sq
    denom = np.sqrt(second) / bias_correction2_sqrt + eps
    data -= (lr / bias_correction1) * exp_avg / denom


class Adam(Optimizer):
    """Adam (Kingma & Ba), as torch.optim.Adam computes it: bias-corrected moments of the gradient.

    At step t = 1, 2, ..., with g the gradient (plus ``weight_decay * p`` when
    weight decay is on: L2 added to the gradient, not AdamW's decoupled decay; and
    ``l1 * sign(p)`` when l1 is on, see :func:`regularized`),
    ``(beta1, beta2) = betas`` and m, v starting at 0::

        m <- beta1 m + (1 - beta1) g
        v <- beta2 v + (1 - beta2) g^2
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    That is ``p - lr m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - beta1^t)``
    and ``v_hat = v / (1 - beta2^t)``: eps is added after the square root and the
    bias correction, as in PyTorch. Why the correction: m and v start at 0, so for
    small t they are biased toward 0 by the factor (1 - beta^t) (after one step m is
    (1 - beta1) g, not g); dividing by it undoes that. ``amsgrad=True`` keeps ``v_max <- max(v_max, v)``
    and uses it in place of v in the last line.

    ``lr``, each beta, ``eps``, ``weight_decay`` and ``l1`` may be a float or a
    per-replica array ``(K,)`` for a stack; ``amsgrad`` is one bool for all.
    """

    _upper_bounds = {"beta1": (1.0, True), "beta2": (1.0, True)}

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: Hyper = 0.001,
        betas: tuple[Hyper, Hyper] = (0.9, 0.999),
        eps: Hyper = 1e-8,
        weight_decay: Hyper = 0.0,
        amsgrad: bool = False,
        l1: Hyper = 0.0,
    ) -> None:
        super().__init__(
            params,
            lr=_check("learning rate", lr, 0.0),
            beta1=_check("beta parameter at index 0", betas[0], 0.0, 1.0, open_high=True),
            beta2=_check("beta parameter at index 1", betas[1], 0.0, 1.0, open_high=True),
            eps=_check("epsilon value", eps, 0.0),
            weight_decay=_check("weight_decay", weight_decay, 0.0),
            l1=_check("l1", l1, 0.0),
        )
        self.amsgrad = bool(amsgrad)

    def update(self, group: ParamGroup, state: dict[str, np.ndarray]) -> None:
        """One Adam step (the class's rule) on packed ``group``; buffers kept in ``state``."""
        if "exp_avg" not in state:
            state["exp_avg"] = np.zeros_like(group.data)
            state["exp_avg_sq"] = np.zeros_like(group.data)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(group.data)
        adam_update(
            group.data,
            group.grad,
            state["exp_avg"],
            state["exp_avg_sq"],
            state.get("max_exp_avg_sq"),
            self.steps,
            self.shaped("lr", group),
            self.shaped("beta1", group),
            self.shaped("beta2", group),
            self.shaped("eps", group),
            self.shaped("weight_decay", group),
            self.shaped("l1", group),
        )
