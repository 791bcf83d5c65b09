"""Blocks of one replica stack that differ: activations (PerReplica), optimizers (PerReplicaOptimizer).

A replica stack trains K models as one, which pays NumPy's per-call cost once
for all of them. Models that differ only in an activation (sigmoid, tanh,
ReLU, none) or in their update rule (SGD, Adam, ...) can still share one
stack: their Linear layers run as one, and at the activation (or the update)
each contiguous block of replicas goes through its own module (or rule).
Each block is computed exactly as it would be alone (element-wise functions
do not care which other rows sit beside them), so every replica's numbers are
bit-identical to its model trained on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from proplab.core import Module, Parameter
from proplab.optim import Hyper, Optimizer, ParamGroup


class PerReplica(Module):
    """Apply ``modules[i]`` to replicas ``blocks[i]`` of the first (replica) axis.

    Args:
        parts: ``(count, module)`` pairs in replica order: the first ``count``
            replicas use the first module, the next ones the second, and so on.
            Modules must have no parameters and keep their input's shape
            (element-wise activations).

    Shape: ``(K, ...)`` -> ``(K, ...)`` with ``K`` the sum of the counts; each
    module sees (and returns) its own block ``(count, ...)``.
    """

    def __init__(self, parts: Sequence[tuple[int, Module]]) -> None:
        super().__init__()
        if not parts:
            raise ValueError("PerReplica needs at least one (count, module) part")
        self.blocks: list[tuple[slice, Module]] = []
        start = 0
        for count, module in parts:
            if int(count) != count or count <= 0:
                raise ValueError(f"PerReplica: replica counts must be positive, got {count!r}")
            if module.has_parameters():
                raise ValueError(
                    f"PerReplica takes parameterless modules, got {type(module).__name__} "
                    "with parameters"
                )
            self.blocks.append((slice(start, start + int(count)), module))
            start += int(count)
        self.replicas = start

    def children(self) -> list[Module]:
        return [module for _, module in self.blocks]

    def _check(self, a: np.ndarray) -> None:
        if a.ndim == 0 or a.shape[0] != self.replicas:
            raise ValueError(
                f"PerReplica over {self.replicas} replicas got an array of shape {a.shape}; "
                f"its first axis must be the {self.replicas} replicas"
            )

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check(x)
        out = np.empty_like(x)
        for block, module in self.blocks:
            if module.supports_out:  # written straight into its slice, no copy
                module.forward(x[block], out=out[block])
            else:
                out[block] = module.forward(x[block])
        return out

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        self._check(grad_out)
        grad_in = np.empty_like(grad_out)
        for block, module in self.blocks:
            if module.supports_out:
                module.backward(grad_out[block], out=grad_in[block])
            else:
                grad_in[block] = module.backward(grad_out[block])
        return grad_in

    def extra_repr(self) -> str:
        return ", ".join(f"{b.start}:{b.stop}={type(m).__name__}" for b, m in self.blocks)


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
        super().__init__(params)
        total = sum(int(count) for count, _ in parts)
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
        for count, make in parts:
            block = slice(start, start + int(count))
            rows = [_Rows(group, block) for group in self.groups]
            # the block's rule and hyperparameters, built on stand-ins of its rows' shapes
            # (it never sees the real parameters: they stay packed here)
            rule = make([Parameter(np.zeros_like(r.data), replica_ndim=1) for r in rows])
            self.blocks.append((block, rule, [(r, {}) for r in rows]))
            start = block.stop
        self.replicas = total

    @property
    def lr(self) -> np.ndarray:
        return self.hyper_array("lr")

    @lr.setter
    def lr(self, value: Hyper) -> None:
        self.set_hyper("lr", value)

    def hyper_array(self, name: str) -> np.ndarray:
        """Hyperparameter ``name`` of every replica, shape ``(K,)``."""
        out = np.empty(self.replicas)
        for block, rule, _ in self.blocks:
            out[block] = rule.hyper[name]
        return out

    def set_hyper(self, name: str, value: Hyper) -> None:
        """Set ``name`` for every replica (a float, or an array of shape ``(K,)``)."""
        per_replica = isinstance(value, np.ndarray) and value.ndim > 0
        if per_replica and value.shape != (self.replicas,):
            raise ValueError(
                f"{name} per replica must have shape ({self.replicas},), got {value.shape}"
            )
        for block, rule, _ in self.blocks:
            rule.set_hyper(name, value[block] if per_replica else value)

    def step(self) -> None:
        self.steps += 1
        for group in self.groups:
            group.sync_grads()
        for _, rule, rows in self.blocks:
            rule.steps += 1
            for r, state in rows:
                rule.update(r, state)

    def update(self, group: ParamGroup, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError("PerReplicaOptimizer.step updates each block with its own rule")

    def __repr__(self) -> str:
        inner = ", ".join(f"{b.start}:{b.stop}={rule!r}" for b, rule, _ in self.blocks)
        return f"PerReplicaOptimizer({inner})"
