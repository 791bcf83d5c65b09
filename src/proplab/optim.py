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

The base class, :class:`ParamGroup`, :func:`regularized` and the hyperparameter checks
are in :mod:`proplab.optim_base`; they are imported here too (``proplab.optim.Optimizer``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from proplab.checks import check_bool, short_repr
from proplab.optim_base import (  # noqa: F401  (Optimizer and regularized re-exported)
    Hyper,
    Optimizer,
    PackedArrays,
    ParamGroup,
    check,
    nonzero,
    regularized,
)
from proplab.parameter import Parameter


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
            if isinstance(momentum, np.ndarray) and nonzero(dampening):
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
    (1 - b) g, so the first step is 1 / (1 - b) times larger (10x at b = 0.9) and the
    two trajectories stay apart.

    ``lr``, ``momentum``, ``dampening``, ``weight_decay`` and ``l1`` may each be a
    float or a per-replica array ``(K,)`` for a stack; ``nesterov`` is one bool for all
    (it needs every momentum > 0 and every dampening 0). A replica with momentum 0
    steps as plain SGD, dampening ignored.
    """

    _upper_bounds = {"dampening": (1.0, False)}
    _options = ("nesterov",)
    _buffers = ("momentum_buffer",)

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
        nesterov = check_bool(nesterov, "SGD nesterov")  # "False" is truthy: it meant True
        lr = check("learning rate", lr, 0.0)
        momentum = check("momentum", momentum, 0.0)
        dampening = check("dampening", dampening, 0.0, 1.0)
        weight_decay = check("weight_decay", weight_decay, 0.0)
        l1 = check("l1", l1, 0.0)
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
        self.nesterov = nesterov
        self._hyper_changed("momentum")

    def _hyper_changed(self, name: str) -> None:
        if name in ("momentum", "weight_decay", "l1"):
            self.use_momentum = nonzero(self.hyper["momentum"])
            # no momentum and no penalty: p -= lr g, the lab's rule, in one NumPy call
            self.plain = not (
                self.use_momentum
                or nonzero(self.hyper["weight_decay"])
                or nonzero(self.hyper["l1"])
            )

    def update(self, group: PackedArrays, state: dict[str, np.ndarray]) -> None:
        """One SGD step (the class's rule) on packed ``group``; buffers kept in ``state``."""
        if self.plain:
            # plain gradient descent, the lab's rule W <- W - lr dL/dW, for every parameter
            # at once: the same as `for p in params: p.data -= lr * p.grad`, bit for bit,
            # because every p.data and p.grad is a view into group.data and group.grad
            # (ParamGroup), so this one subtraction updates them all
            group.data -= self.shaped_array("lr", group) * group.grad
            return
        first = "momentum_buffer" not in state
        if self.use_momentum and first:
            state["momentum_buffer"] = np.zeros_like(group.data)
        sgd_update(
            group.data,
            group.grad,
            # momentum set to 0 since the buffer was made: plain SGD, as torch's, which
            # skips the buffer (neither dampening it into the step nor changing it)
            state.get("momentum_buffer") if self.use_momentum else None,
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

    _options = ("initial_accumulator_value",)
    _buffers = ("sum",)

    def _required_buffers(self) -> tuple[str, ...]:
        return ("sum",)

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
            lr=check("learning rate", lr, 0.0),
            lr_decay=check("lr_decay", lr_decay, 0.0),
            weight_decay=check("weight_decay", weight_decay, 0.0),
            eps=check("epsilon value", eps, 0.0),
            l1=check("l1", l1, 0.0),
        )
        self.initial_accumulator_value = float(
            check("initial_accumulator_value", initial_accumulator_value, 0.0)
        )

    def update(self, group: PackedArrays, state: dict[str, np.ndarray]) -> None:
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
        # where square_avg overflowed to inf and grad_avg^2 did too (|g| > ~1.3e156),
        # inf - inf is NaN and poisoned the weights for good; torch's fused addcmul keeps
        # inf there (the step is 0). fmin picks square_avg (inf) over NaN and is v - m^2
        # elsewhere (never above v): one call, not an isposinf + where per step
        var = square_avg - grad_avg * grad_avg
        avg = np.sqrt(np.fmin(var, square_avg, out=var)) + eps
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
    _options = ("centered",)
    _buffers = ("square_avg", "grad_avg", "momentum_buffer")

    def _required_buffers(self) -> tuple[str, ...]:
        return ("square_avg", "grad_avg") if self.centered else ("square_avg",)

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
        centered = check_bool(centered, "RMSProp centered")
        super().__init__(
            params,
            lr=check("learning rate", lr, 0.0),
            alpha=check("alpha value", alpha, 0.0, 1.0),
            eps=check("epsilon value", eps, 0.0),
            weight_decay=check("weight_decay", weight_decay, 0.0),
            momentum=check("momentum value", momentum, 0.0),
            l1=check("l1", l1, 0.0),
        )
        self.centered = centered
        self._hyper_changed("momentum")

    def _hyper_changed(self, name: str) -> None:
        if name == "momentum":
            self.use_momentum = nonzero(self.hyper["momentum"])

    def update(self, group: PackedArrays, state: dict[str, np.ndarray]) -> None:
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
    correction2 = 1.0 - _power(beta2, step)
    # math.sqrt for one beta: a Python float, which NumPy 2 takes in the array's dtype
    # (np.sqrt's float64 scalar would turn a float32 model's whole step into float64);
    # both are the correctly rounded square root, so float64 steps keep their bits
    bias_correction2_sqrt = (
        np.sqrt(correction2) if isinstance(correction2, np.ndarray) else math.sqrt(correction2)
    )
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
    _options = ("amsgrad",)
    _buffers = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def _required_buffers(self) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if self.amsgrad else ())

    @classmethod
    def init_args(cls, hyper: dict[str, Hyper], options: dict[str, Any]) -> dict[str, Any]:
        """The constructor's arguments: ``beta1`` and ``beta2`` go in as ``betas``."""
        args = {**hyper, **options}
        args["betas"] = (args.pop("beta1"), args.pop("beta2"))
        return args

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
        amsgrad = check_bool(amsgrad, "Adam amsgrad")
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise ValueError(
                f"Adam betas must be a pair (beta1, beta2) such as (0.9, 0.999), got "
                f"{short_repr(betas)}"
            )
        super().__init__(
            params,
            lr=check("learning rate", lr, 0.0),
            beta1=check("beta parameter at index 0", betas[0], 0.0, 1.0, open_high=True),
            beta2=check("beta parameter at index 1", betas[1], 0.0, 1.0, open_high=True),
            eps=check("epsilon value", eps, 0.0),
            weight_decay=check("weight_decay", weight_decay, 0.0),
            l1=check("l1", l1, 0.0),
        )
        self.amsgrad = amsgrad

    def update(self, group: PackedArrays, state: dict[str, np.ndarray]) -> None:
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
