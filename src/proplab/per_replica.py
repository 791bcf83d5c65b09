"""PerReplica: different parameterless modules (activations) on the replicas of one stack.

A replica stack trains K models as one, which pays NumPy's per-call cost once
for all of them. Models that differ only in an activation (sigmoid, tanh,
ReLU, none) can still share one stack: their Linear layers run as one, and
at the activation each contiguous block of replicas goes through its own
module. Each block is computed exactly as it would be alone (element-wise
functions do not care which other rows sit beside them), so every replica's
numbers are bit-identical to its model trained on its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from proplab.core import Module


class PerReplica(Module):
    """Apply ``modules[i]`` to replicas ``blocks[i]`` of the first (replica) axis.

    Args:
        parts: ``(count, module)`` pairs in replica order: the first ``count``
            replicas use the first module, the next ones the second, and so on.
            Modules must have no parameters (activations, reshapes).

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
            if any(True for _ in module.named_parameters()):
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
            out[block] = module.forward(x[block])
        return out

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        self._check(grad_out)
        grad_in = np.empty_like(grad_out)
        for block, module in self.blocks:
            grad_in[block] = module.backward(grad_out[block])
        return grad_in

    def extra_repr(self) -> str:
        return ", ".join(f"{b.start}:{b.stop}={type(m).__name__}" for b, m in self.blocks)
