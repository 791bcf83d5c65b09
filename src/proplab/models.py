"""Model builders: ``mlp(...)`` for the lab's network (and stacks of it).

The lab model is ``2 -> H -> H -> 1`` with a sigmoid after every layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from proplab import init as initializers
from proplab.core import Module, Sequential
from proplab.layers import Linear
from proplab.registry import resolve

ActivationSpec = str | type[Module] | Callable[[], Module]


def make_activation(spec: ActivationSpec) -> Module:
    """A fresh activation module from a name, a class or a factory."""
    if isinstance(spec, str):
        return resolve("activation", spec)()
    return spec()


def replica_generators(
    seeds: Sequence[int] | None, replicas: int | tuple[int, ...], rng: np.random.Generator | None
) -> tuple[tuple[int, ...], list[np.random.Generator] | None]:
    """Replica shape and one Generator per replica when ``seeds`` are given."""
    if seeds is not None:
        seeds = list(seeds)
        if replicas and int(np.prod(replicas)) != len(seeds):
            raise ValueError(f"replicas={replicas} but {len(seeds)} seeds were given")
        shape = (replicas,) if isinstance(replicas, int) and replicas else tuple(replicas or ())
        return shape or (len(seeds),), [np.random.default_rng(s) for s in seeds]
    if rng is None:
        raise ValueError("pass rng=np.random.default_rng(seed) or seeds=[...]")
    shape = (replicas,) if isinstance(replicas, int) and replicas else tuple(replicas or ())
    return shape, None


def mlp(
    in_features: int = 2,
    hidden: int | Sequence[int] = (10, 10),
    out_features: int = 1,
    *,
    activation: ActivationSpec = "sigmoid",
    output_activation: ActivationSpec | None = "sigmoid",
    bias: bool = True,
    init: str | initializers.Initializer = "xavier",
    rng: np.random.Generator | None = None,
    seeds: Sequence[int] | None = None,
    replicas: int | tuple[int, ...] = (),
    dtype: type = np.float64,
) -> Sequential:
    """A multilayer perceptron: Linear + activation per hidden layer, then Linear + output activation.

    Args:
        hidden: units per hidden layer; an int ``H`` means the lab's two layers ``(H, H)``.
        activation: hidden activation (name, class or factory); ``"identity"`` for none.
        output_activation: activation after the last Linear (``None`` for raw outputs).
        rng: Generator for every weight (one model, or a stack drawn in one go).
        seeds: one seed per replica instead of ``rng``: replica k then holds
            exactly the weights ``mlp(..., rng=np.random.default_rng(seeds[k]))`` has.
        replicas: leading replica shape (default: none, or ``len(seeds)``).

    Shape: ``(*R, n, in_features)`` or ``(n, in_features)`` -> ``(*R, n, out_features)``.
    """
    widths = [hidden, hidden] if isinstance(hidden, int | np.integer) else list(hidden)
    for w in widths:
        if int(w) != w or w <= 0:
            raise ValueError(f"hidden layer widths must be positive integers, got {w!r}")
    init_fn = resolve("init", init) if isinstance(init, str) else init
    shape, rngs = replica_generators(seeds, replicas, rng)
    sizes = [in_features, *[int(w) for w in widths], out_features]
    layers: list[Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(
            Linear(
                fan_in, fan_out, bias, rng=rng, rngs=rngs, init=init_fn, replicas=shape, dtype=dtype
            )
        )
        last = i == len(sizes) - 2
        if not last:
            layers.append(make_activation(activation))
        elif output_activation is not None:
            layers.append(make_activation(output_activation))
    return Sequential(layers)
