"""Blocks of one replica stack that differ: activations (PerReplica), optimizers (PerReplicaOptimizer).

A replica stack trains K models as one, which pays NumPy's per-call cost once
for all of them. Models that differ only in an activation (sigmoid, tanh,
ReLU, none) or in their update rule (SGD, Adam, ...) can still share one
stack: their Linear layers run as one, and at the activation (or the update)
each contiguous block of replicas goes through its own module (or rule).
Each block is computed exactly as it would be alone (element-wise functions
do not care which other rows sit beside them), so every replica's numbers are
bit-identical to its model trained on its own, in float64 (the sweeps' dtype). A
float32 stack whose replicas have their own hyperparameters (arrays of lr, betas...)
steps in float64 where a model alone steps in float32 (NumPy applies a Python float
in the array's dtype, a float64 array of them in float64), so its replicas end an ulp
or so from their models alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from proplab.checks import check_int
from proplab.core import Module
from proplab.module_errors import returned_no_array
from proplab.optim_base import (
    Hyper,
    Optimizer,
    PackedArrays,
    ParamGroup,
    check_steps,
    layout_difference,
)
from proplab.parameter import Parameter


def _parts(owner: str, parts: object, what: str) -> list[tuple[int, object]]:
    """``parts`` as ``(count, item)`` pairs with whole positive counts, else a clear error.

    Blocks are given by counts in replica order, so they cannot overlap or come out of
    order; a count of 0, a negative or fractional one, a bool or None is refused here.
    """
    if isinstance(parts, str | bytes) or not isinstance(parts, Sequence | Iterable):
        raise TypeError(f"{owner} takes a list of (count, {what}) pairs, got {parts!r}")
    parts = list(parts)
    if not parts:
        raise ValueError(f"{owner} needs at least one (count, {what}) part")
    checked = []
    for i, part in enumerate(parts):
        if not isinstance(part, tuple | list) or len(part) != 2:
            raise TypeError(f"{owner}: part {i} must be a (count, {what}) pair, got {part!r}")
        count, item = part
        checked.append((check_int(count, f"{owner}: part {i}'s replica count"), item))
    return checked


class PerReplica(Module):
    """Apply each part's module to its block of replicas (the first, replica axis).

    Args:
        parts: ``(count, module)`` pairs in replica order: the first ``count``
            replicas use the first module, the next ones the second, and so on.
            Modules must have no parameters and keep their input's shape
            (element-wise activations).

    Shape: ``(K, n, ...)`` -> ``(K, n, ...)`` with ``K`` the sum of the counts;
    each module sees (and returns) its own block ``(count, n, ...)``. A 2-D
    ``(n, features)`` array is one model's, not a stack's, and is refused.
    """

    def __init__(self, parts: Sequence[tuple[int, Module]]) -> None:
        super().__init__()
        self.blocks: list[tuple[slice, Module]] = []
        start = 0
        seen: dict[int, int] = {}
        for i, (count, module) in enumerate(_parts("PerReplica", parts, "module")):
            if not isinstance(module, Module):
                raise TypeError(
                    f"PerReplica: part {i}'s module must be a Module such as Sigmoid(), "
                    f"got {module!r}"
                )
            if module.has_parameters():
                raise ValueError(
                    f"PerReplica takes parameterless modules, got {type(module).__name__} "
                    "with parameters"
                )
            if id(module) in seen:
                # a module keeps what its forward saw for its backward: one instance in
                # two blocks would hand the first block the second block's saved values
                raise ValueError(
                    f"PerReplica: parts {seen[id(module)]} and {i} share one "
                    f"{type(module).__name__} instance; give each part its own "
                    f"({type(module).__name__}() for each)"
                )
            seen[id(module)] = i
            self.blocks.append((slice(start, start + count), module))
            start += count
        self.replicas = start

    def children(self) -> list[Module]:
        return [module for _, module in self.blocks]

    def _check(self, a: np.ndarray) -> None:
        if a.ndim < 3 or a.shape[0] != self.replicas:
            raise ValueError(
                f"PerReplica over {self.replicas} replicas got an array of shape "
                f"{np.shape(a)}; it takes a stack's ({self.replicas}, samples, ...) arrays, "
                f"its first axis the {self.replicas} replicas"
                + (" (a 2-D array is one model's samples)" if np.ndim(a) == 2 else "")
            )

    def _failed(self, module: Module, block: slice, a: np.ndarray, exc: Exception) -> ValueError:
        """The error for a block's module that does not keep its input's shape (failure path)."""
        return ValueError(
            f"PerReplica: {type(module).__name__} of replicas {block.start}:{block.stop} did "
            f"not return an array of its input's shape {a[block].shape} ({exc}); PerReplica "
            "takes element-wise modules (activations)"
        )

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Each block's module on its rows: ``(K, n, ...)`` -> ``(K, n, ...)``."""
        self._check(x)
        out = np.empty_like(x)
        for block, module in self.blocks:
            try:
                if module.supports_out:  # written straight into its slice, no copy
                    got = _call_with_out(module.forward, x[block], out[block])
                else:
                    got = module.forward(x[block])
                _into(out, block, got, f"{type(module).__name__}.forward", x[block].shape)
            except ValueError as exc:
                raise self._failed(module, block, x, exc) from exc
        return out

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        """Each block's backward on its rows of ``grad_out`` ``(K, n, ...)``; returns dL/dx
        of the same shape (always: ``need_input_grad`` is ignored, there are no parameters)."""
        self._check(grad_out)
        grad_in = np.empty_like(grad_out)
        for block, module in self.blocks:
            try:
                if module.supports_out:
                    back = _call_with_out(module.backward, grad_out[block], grad_in[block])
                else:
                    back = module.backward(grad_out[block])
                _into(grad_in, block, back, type(module).__name__, grad_out[block].shape)
            except ValueError as exc:
                raise self._failed(module, block, grad_out, exc) from exc
        return grad_in

    def extra_repr(self) -> str:
        return ", ".join(f"{b.start}:{b.stop}={type(m).__name__}" for b, m in self.blocks)


def _call_with_out(
    method: Callable[..., np.ndarray | None], a: np.ndarray, out: np.ndarray
) -> np.ndarray | None:
    """``method(a, out=out)``: a module with ``supports_out`` takes ``out=`` beside what
    :class:`Module`'s own signature names (``forward(x)``, ``backward(grad_out)``)."""
    return method(a, out=out)


def _into(out: np.ndarray, block: slice, result: object, who: str, shape: tuple[int, ...]) -> None:
    """Make sure ``out[block]`` holds ``result``, what module ``who`` returned for the block:
    one with ``supports_out`` that is proplab's own wrote it there already; a layer of one's
    own that copied the flag but returned a new array left ``out`` as np.empty made it, and
    that garbage went on (read18). No array (a forgotten ``return``) is an error: assigned,
    None became NaN in every row of the block, with no error."""
    if not isinstance(result, np.ndarray):
        if who.endswith(".forward"):
            what = "None (did you forget `return`?)" if result is None else repr(result)
            raise TypeError(
                f"PerReplica: {who} returned {what}: it must return a NumPy array of its "
                f"input's shape {shape}"
            )
        raise returned_no_array(f"PerReplica: {who}", result, shape)
    if not np.may_share_memory(result, out):
        out[block] = result


class _Rows:
    """Rows ``block`` (a block of replicas) of a packed ParamGroup: what a rule updates."""

    __slots__ = ("data", "grad")

    def __init__(self, group: ParamGroup, block: slice) -> None:
        self.data, self.grad = group.data[block], group.grad[block]


class PerReplicaOptimizer(Optimizer):
    """Different optimizers on blocks of a stack's replicas (the first replica axis).

    Args:
        params: the stack's parameters, each with one replica axis of length
            ``K`` (the sum of the counts).
        parts: ``(count, make)`` pairs in replica order; ``make(params)``
            builds the optimizer (rule and hyperparameters, per-replica arrays
            of length ``count`` allowed) for the next ``count`` replicas.

    The parameters are packed once, here; each block's optimizer then updates
    the rows of that flat buffer that belong to its replicas, with its own
    state. ``lr`` reads as one per-replica array of length ``K``, and
    ``set_hyper`` hands each block its slice of a per-replica array.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        parts: Sequence[tuple[int, Callable[[list[Parameter]], Optimizer]]],
    ) -> None:
        makes: list[tuple[int, Callable[[list[Parameter]], object]]] = []
        for i, (count, make) in enumerate(_parts("PerReplicaOptimizer", parts, "make")):
            if not callable(make):
                raise TypeError(
                    f"PerReplicaOptimizer: part {i}'s make must be a callable taking the "
                    f"block's parameters, e.g. lambda ps: SGD(ps, lr=0.1), got {make!r}"
                )
            makes.append((count, make))
        total = sum(count for count, _ in makes)
        super().__init__(params)
        for group in self.groups:
            if group.data.ndim != 2 or group.data.shape[0] != total:
                raise ValueError(
                    f"PerReplicaOptimizer over {total} replicas needs parameters with one "
                    f"replica axis of length {total}, got a packed shape {group.data.shape}"
                )
        # (replicas, rule, each row view paired with its state): pairs made once, as
        # step runs every epoch and zip(strict=True) costs ~0.3 us per loop
        self.blocks: list[tuple[slice, Optimizer, list[tuple[_Rows, dict]]]] = []
        start = 0
        for i, (count, make) in enumerate(makes):
            block = slice(start, start + count)
            rows = [_Rows(group, block) for group in self.groups]
            # the block's rule and hyperparameters, built on stand-ins of its rows' shapes
            # (it never sees the real parameters: they stay packed here)
            stand_ins = [Parameter(np.zeros_like(r.data), replica_ndim=1) for r in rows]
            rule = make(stand_ins)
            if not isinstance(rule, Optimizer) or isinstance(rule, PerReplicaOptimizer):
                raise TypeError(
                    f"PerReplicaOptimizer: part {i}'s make returned {rule!r}; it must build "
                    "one optimizer (SGD, Adam, ...) over the parameters it is given"
                )
            if [id(p) for p in rule.params] != [id(p) for p in stand_ins]:
                # its per-replica hyperparameters were checked against other parameters
                raise ValueError(
                    f"PerReplicaOptimizer: part {i}'s make returned a {type(rule).__name__} "
                    "over other parameters; it must build the optimizer over the parameters "
                    "it is given (lambda ps: SGD(ps, ...))"
                )
            self.blocks.append((block, rule, [(r, {}) for r in rows]))
            start = block.stop
        self.replicas = total

    @property
    def lr(self) -> np.ndarray:
        """Every replica's learning rate, shape ``(K,)`` (assigning goes through
        :meth:`set_hyper`)."""
        return self.hyper_array("lr")

    @lr.setter
    def lr(self, value: Hyper) -> None:
        self.set_hyper("lr", value)

    def _missing(self, name: str) -> ValueError | None:
        """The error for a hyperparameter some block's rule does not have, else None."""
        lacking = [(b, rule) for b, rule, _ in self.blocks if name not in rule.hyper]
        if not lacking:
            return None
        common = sorted(set.intersection(*(set(rule.hyper) for _, rule, _ in self.blocks)))
        where = ", ".join(f"{b.start}:{b.stop} ({type(rule).__name__})" for b, rule in lacking)
        return ValueError(
            f"PerReplicaOptimizer: {name!r} is not a hyperparameter of replicas {where} "
            f"(accepted for every block: {', '.join(common)})"
        )

    def hyper_array(self, name: str) -> np.ndarray:
        """Hyperparameter ``name`` of every replica, shape ``(K,)``."""
        missing = self._missing(name)
        if missing is not None:
            raise missing
        out = np.empty(self.replicas)
        for block, rule, _ in self.blocks:
            out[block] = rule.hyper[name]
        return out

    def set_hyper(self, name: str, value: Hyper) -> None:
        """Set ``name`` for every replica (a float, or an array of shape ``(K,)``).

        Every block is checked before any changes: a bad value leaves all as they were.
        """
        missing = self._missing(name)
        if missing is not None:
            raise missing
        if isinstance(value, list | tuple):
            value = np.asarray(value, dtype=np.float64)
        # one value per replica, else one value for all
        per_replica = value if isinstance(value, np.ndarray) and value.ndim > 0 else None
        if per_replica is not None and per_replica.shape != (self.replicas,):
            raise ValueError(
                f"{name} per replica must have shape ({self.replicas},), got {per_replica.shape}"
            )
        if isinstance(value, float | int) and not isinstance(value, bool):
            ok = math.isfinite(value) and value >= 0
        else:
            try:
                arr = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                arr = np.array(np.nan)
            ok = isinstance(value, np.ndarray | np.floating | np.integer) and bool(
                np.isfinite(arr).all() and (arr >= 0).all()
            )
        if not ok:
            shown = value.tolist() if isinstance(value, np.ndarray) else value
            raise ValueError(
                f"PerReplicaOptimizer: {name} must be a finite number >= 0 or an array of "
                f"{self.replicas} of them, got {shown!r}"
            )
        values = [
            (rule, value if per_replica is None else per_replica[block])
            for block, rule, _ in self.blocks
        ]
        for rule, v in values:  # every block's checks (its range too) before any change
            rule.check_hyper(name, v)
        for rule, v in values:
            rule.set_hyper(name, v)

    def step(self) -> None:
        """One update of every replica: each block's optimizer applies its own rule to its
        rows of the packed parameters (its step count advances too)."""
        self.steps += 1
        for group in self.groups:
            group.sync_grads()
        for _, rule, rows in self.blocks:
            rule.steps += 1
            for r, state in rows:
                rule.update(r, state)

    def state_dict(self) -> dict[str, Any]:
        """``type``, ``steps``, the packed ``groups``' layout, and ``blocks``: per block of
        replicas its ``replicas`` count and ``optimizer``, that rule's own state_dict (its
        hyperparameters, steps, and buffers: copies of its rows ``(count, total)``)."""
        return {
            "type": type(self).__name__,
            "steps": self.steps,
            "groups": self._layout(),
            "blocks": [
                {
                    "replicas": block.stop - block.start,
                    "optimizer": rule._state_dict([state for _, state in rows]),
                }
                for block, rule, rows in self.blocks
            ],
        }

    def _prepare_load(
        self, state: Any, where: str, states: list[dict[str, np.ndarray]] | None = None
    ) -> Callable[[], None]:
        """Check every block's state before any changes (see Optimizer.load_state_dict)."""
        prefix = "cannot load the optimizer state into this PerReplicaOptimizer"
        if not isinstance(state, dict) or state.get("type") != type(self).__name__:
            kind = state.get("type") if isinstance(state, dict) else state
            raise ValueError(
                f"{prefix}: it is the state of {kind!r:.80}, not of a PerReplicaOptimizer"
            )
        try:
            steps, groups, blocks = state["steps"], list(state["groups"]), list(state["blocks"])
            counts = [b["replicas"] for b in blocks]
            saved_rules = [b["optimizer"] for b in blocks]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{prefix}: not a state_dict() ({exc!r})") from None
        difference = layout_difference(groups, self._layout())
        if difference:
            raise ValueError(f"{prefix}: {difference}")
        mine = [b.stop - b.start for b, _, _ in self.blocks]
        if counts != mine:
            raise ValueError(f"{prefix}: its blocks hold {counts} replicas, this one's {mine}")
        check_steps(steps, prefix)
        applies = [
            rule._prepare_load(
                saved,
                f" of replicas {block.start}:{block.stop}",
                [state for _, state in rows],
            )
            for (block, rule, rows), saved in zip(self.blocks, saved_rules, strict=True)
        ]

        def apply() -> None:
            self.steps = int(steps)
            for apply_block in applies:
                apply_block()

        return apply

    def update(self, group: PackedArrays, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError("PerReplicaOptimizer.step updates each block with its own rule")

    def __repr__(self) -> str:
        inner = ", ".join(f"{b.start}:{b.stop}={rule!r}" for b, rule, _ in self.blocks)
        return f"PerReplicaOptimizer({inner})"
