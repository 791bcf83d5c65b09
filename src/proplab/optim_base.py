"""The Optimizer base class and what it stands on: the hyperparameter checks, the
penalties every rule adds to the gradient (:func:`regularized`), and :class:`ParamGroup`,
the flat buffer the parameters are packed into. The rules themselves are in
:mod:`proplab.optim`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import numpy as np

from proplab.checks import short_repr
from proplab.parameter import Parameter

Hyper = float | np.ndarray


def check(
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
    check_number_type(name, value)
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


def check_number_type(name: str, value: object) -> None:
    """Refuse a hyperparameter that is no real number (nor an array of them), naming it:
    ``True`` (a ValueError: ``float(True)`` is 1.0, so ``lr=True`` trained at 1), text,
    ``None``, a complex number or any other object (TypeError). Text such as ``"0.1"``
    was converted by NumPy where the constructor took it but failed inside NumPy
    (``isfinite``) when assigned as ``opt.lr``."""
    try:
        kind = np.asarray(value).dtype.kind
    except ValueError:  # a ragged list
        kind = "O"
    if kind == "b":  # True is no learning rate (float(True) is 1.0)
        raise ValueError(f"Invalid {name}: {value!r} (accepted: a number, not True/False)")
    if kind not in "iuf" and not (
        isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
    ):  # (a Fraction is a real number in an object array)
        raise TypeError(
            f"Invalid {name}: {short_repr(value)} (accepted: a real number, or an array of "
            f"them, one per replica; got {type(value).__name__})"
        )


def _read_only(value: np.ndarray | list | tuple) -> np.ndarray:
    """A per-replica hyperparameter as the optimizer keeps it: a float64 copy that cannot be
    written (later writes into the caller's array would skip every check)."""
    arr = np.array(value, dtype=np.float64)  # a copy, even of a float64 array
    arr.flags.writeable = False
    return arr


def nonzero(value: Hyper) -> bool:
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
    g = grad + weight_decay * data if nonzero(weight_decay) else grad
    if nonzero(l1):
        g = g + l1 * np.sign(data)
    return g


class PackedArrays(Protocol):
    """What an update rule changes in place: ``data`` from ``grad``, both ``(*R, total)``.
    A :class:`ParamGroup` is one; so are the rows of one that a block of replicas owns
    (:class:`proplab.per_replica.PerReplicaOptimizer` hands each block's rule those)."""

    data: np.ndarray
    grad: np.ndarray


class ParamGroup:
    """Parameters of one dtype and replica shape packed into one flat buffer.

    ``data`` and ``grad`` are ``(*R, total)`` arrays; each parameter's
    ``data``/``grad`` become views into them (arrays taken from a parameter before
    are no longer its own: read ``p.data`` anew). One elementwise update of the
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


def _grouped(params: Iterable[Parameter]) -> dict[tuple, list[Parameter]]:
    """Parameters by ``(dtype, replica shape)``, in first-seen order: one packed group each
    (what :func:`_pack` packs and :func:`layout_of` describes, so the two cannot drift)."""
    groups: dict[tuple, list[Parameter]] = {}
    for p in params:
        groups.setdefault((p.data.dtype, p.replica_shape), []).append(p)
    return groups


def _pack(params: list[Parameter]) -> list[ParamGroup]:
    return [ParamGroup(ps) for ps in _grouped(params).values()]


Layout = list[dict]  # per packed group: {"dtype": name, "replicas": R, "shapes": [shape, ...]}


def layout_of(params: Iterable[Parameter]) -> Layout:
    """How an optimizer over ``params`` packs them (the groups of :func:`_pack`, in order):
    each group's dtype, replica shape ``R`` and parameter shapes. Computed without packing,
    so a saved state can be checked against parameters before an optimizer is built."""
    return [
        {"dtype": dtype.name, "replicas": list(replicas), "shapes": [list(p.shape) for p in ps]}
        for (dtype, replicas), ps in _grouped(params).items()
    ]


def layout_difference(
    saved: Layout, mine: Layout, whose: str = "this optimizer's parameters"
) -> str | None:
    """What differs between a saved layout and ``mine`` (``whose``), in words, or None."""
    if len(saved) != len(mine):
        return (
            f"saved for {len(saved)} parameter group(s) (one per dtype and replica shape), "
            f"{whose} make {len(mine)}"
        )
    for i, (s, m) in enumerate(zip(saved, mine, strict=True)):
        if s["dtype"] != m["dtype"]:
            return f"group {i} was saved for {s['dtype']} parameters, {whose} are {m['dtype']}"
        if list(s["replicas"]) != list(m["replicas"]):
            return (
                f"group {i} was saved for replica shape {tuple(s['replicas'])}, {whose} "
                f"have replica shape {tuple(m['replicas'])}"
            )
        saved_shapes = [list(shape) for shape in s["shapes"]]
        if saved_shapes != m["shapes"]:
            return (
                f"group {i} was saved for parameter shapes {saved_shapes}, {whose} have "
                f"{m['shapes']}"
            )
    return None


def check_steps(steps: object, prefix: str) -> None:
    """A saved state's step count must be a whole number >= 0 (else ValueError, ``prefix``
    first)."""
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"{prefix}: steps must be a whole number >= 0, got {steps!r}")


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
    # constructor options that are not hyperparameters (nesterov, amsgrad...): saved in
    # state_dict, and a state is only loaded into an optimizer with the same ones
    _options: tuple[str, ...] = ()
    # the buffers update() may keep in a group's state (state_dict refuses others)
    _buffers: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Parameter], **hyper: Hyper) -> None:
        # the two everyday slips, named (they said "got Linear" and "'method' object is
        # not iterable")
        if callable(getattr(params, "parameters", None)):
            raise TypeError(
                f"optimizer takes the model's parameters, got the {type(params).__name__} "
                "itself: pass model.parameters()"
            )
        if callable(params) and getattr(params, "__name__", "") == "parameters":
            raise TypeError(
                "optimizer got the method model.parameters, not its result: call it, "
                "model.parameters()"
            )
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
        value = self.check_hyper(name, value)
        self.hyper[name] = value
        self._shaped = {k: v for k, v in self._shaped.items() if k[0] != name}
        self._hyper_changed(name)

    def check_hyper(self, name: str, value: Hyper) -> Hyper:
        """``value`` as :meth:`set_hyper` would store it (an array read-only), or the
        ValueError it would raise; nothing changes."""
        if name not in self.hyper:
            raise ValueError(
                f"{type(self).__name__} has no hyperparameter {name!r} "
                f"(accepted: {', '.join(self.hyper)})"
            )
        check_number_type(name, value)  # the constructor's type check (text, None, True...)
        arr = np.asarray(value, dtype=np.float64)
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
        return value

    def _hyper_changed(self, name: str) -> None:
        """Hook for subclasses that precompute something from a hyperparameter."""

    def shaped(self, name: str, group: PackedArrays) -> Hyper:
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

    def shaped_array(self, name: str, group: PackedArrays) -> np.ndarray:
        """Like :meth:`shaped`, but a float comes back as a 0-d array of the group's dtype.

        NumPy converts a Python float operand on every ufunc call (~0.25 us on
        NumPy 2, as long as a small layer's arithmetic); a 0-d array of the
        right dtype is used as is and gives the same result.
        """
        key = (name, id(group), "array")
        try:
            # an "array" key holds what the except branch stored: an ndarray, never a float
            return self._shaped[key]  # type: ignore[return-value]
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

    def update(self, group: PackedArrays, state: dict[str, np.ndarray]) -> None:
        """The rule itself, for one packed group: change ``group.data`` in place from
        ``group.grad`` (both ``(*R, total)``). ``state`` is the group's dict of buffers,
        empty before the first step; the rule creates and keeps what it needs there.
        Called by :meth:`step`; subclasses implement it."""
        # an empty NotImplementedError said nothing of what was missing (api21 M8)
        raise NotImplementedError(
            f"{type(self).__name__} has no update rule: an Optimizer subclass writes "
            "update(self, group, state), which changes group.data in place from group.grad "
            "(proplab.SGD.update is one)"
        )

    @classmethod
    def init_args(cls, hyper: dict[str, Hyper], options: dict[str, Any]) -> dict[str, Any]:
        """The constructor's keyword arguments for these hyperparameters and options (what
        rebuilds a saved optimizer; Adam joins beta1 and beta2 into ``betas``)."""
        return {**hyper, **options}

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue training exactly: a dict with ``type`` (the class
        name), ``hyper`` (floats, or copies of per-replica arrays), ``options``
        (nesterov, amsgrad...), ``steps``, and ``groups``: per packed group its layout
        (``dtype``, ``replicas`` R, parameter ``shapes``) and ``state``, copies of its
        buffers ``(*R, total)``. Nothing in it aliases the optimizer's arrays."""
        return self._state_dict([state for _, state in self._group_states])

    def _state_dict(self, states: list[dict[str, np.ndarray]]) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "hyper": {
                k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in self.hyper.items()
            },
            "options": {name: getattr(self, name) for name in self._options},
            "steps": self.steps,
            "groups": [
                {**layout, "state": {k: np.array(v) for k, v in state.items()}}
                for layout, state in zip(self._layout(), states, strict=True)
            ],
        }

    def _layout(self) -> Layout:
        return layout_of(p for group in self.groups for p in group.params)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take over a :meth:`state_dict`: hyperparameters (as PyTorch does: the saved
        ones replace the constructor's), step count and buffers, copied (later writes to
        ``state`` do not reach this optimizer). Refused with a ValueError naming what
        differs when the state is another type's, has other options, or was saved for
        parameters of other shapes, dtype or replica count; nothing changes then."""
        self._prepare_load(state, "")()

    def _prepare_load(
        self, state: Any, where: str, states: list[dict[str, np.ndarray]] | None = None
    ) -> Callable[[], None]:
        """Check ``state`` against this optimizer and copy its arrays; return what applies
        it (so a PerReplicaOptimizer checks every block before changing any)."""
        mine = type(self).__name__
        prefix = f"cannot load the optimizer state{where} into this {mine}"
        if not isinstance(state, dict) or "type" not in state:
            raise ValueError(f"{prefix}: expected a dict from state_dict(), got {state!r:.80}")
        if state["type"] != mine:
            raise ValueError(
                f"{prefix}: it is the state of {state['type']} (build a {state['type']}, or "
                "use proplab.serialize.load_optimizer, which does)"
            )
        try:
            hyper, options = dict(state["hyper"]), dict(state["options"])
            steps, groups = state["steps"], list(state["groups"])
            difference = layout_difference(groups, self._layout())
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{prefix}: not a state_dict() ({exc!r})") from None
        if difference:
            raise ValueError(f"{prefix}: {difference}")
        for name in self._options:
            if options.get(name) != getattr(self, name):
                raise ValueError(
                    f"{prefix}: {name} is {options.get(name)!r} in the state, "
                    f"{getattr(self, name)!r} here (build it with {name}={options.get(name)!r})"
                )
        if set(hyper) != set(self.hyper):
            raise ValueError(
                f"{prefix}: its hyperparameters are {sorted(hyper)}, this one's "
                f"{sorted(self.hyper)}"
            )
        check_steps(steps, prefix)
        try:
            checked = {name: self.check_hyper(name, value) for name, value in hyper.items()}
        except (TypeError, ValueError) as exc:  # TypeError: not a number at all
            raise ValueError(f"{prefix}: {exc}") from None
        buffers = []
        for i, (group, saved) in enumerate(zip(self.groups, groups, strict=True)):
            copies = {}
            missing = [k for k in self._required_buffers() if k not in saved.get("state", {})]
            if steps > 0 and missing:
                # the next step would make it afresh (zeros) while the step count goes on
                raise ValueError(
                    f"{prefix}: group {i} has no {', '.join(missing)}, which {mine} keeps "
                    f"from its first step (the state says {steps} steps were taken)"
                )
            for key, value in dict(saved.get("state", {})).items():
                shape, dtype = group.data.shape, group.data.dtype
                if key not in self._buffers:
                    raise ValueError(
                        f"{prefix}: group {i} has a buffer {key!r}, which {mine} does not "
                        f"keep (it keeps {', '.join(self._buffers)})"
                    )
                if not isinstance(value, np.ndarray) or value.shape != shape:
                    raise ValueError(
                        f"{prefix}: group {i}'s {key} has shape {np.shape(value)}, its "
                        f"packed parameters {shape}"
                    )
                if value.dtype != dtype:
                    raise ValueError(
                        f"{prefix}: group {i}'s {key} is {value.dtype}, its parameters {dtype}"
                    )
                copies[key] = np.array(value)  # a copy: no aliasing with the caller's dict
            buffers.append(copies)
        targets = states if states is not None else self.state

        def apply() -> None:
            for name, value in checked.items():
                self.set_hyper(name, value)
            self.steps = int(steps)
            # the dicts themselves are kept (step pairs each group with its dict once)
            for target, copies in zip(targets, buffers, strict=True):
                target.clear()
                target.update(copies)

        return apply

    def _required_buffers(self) -> tuple[str, ...]:
        """The buffers every step of this rule keeps, whatever its hyperparameters (a state
        after a step without them is incomplete)."""
        return ()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.hyper.items())
        return f"{type(self).__name__}({args})"
