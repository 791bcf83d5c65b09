"""The random streams a model draws from while it trains, kept in a training checkpoint.

A :class:`~proplab.dropout.Dropout` layer draws a fresh mask on every training forward
pass from its Generator (a replica stack: one Generator per replica). When
``proplab.save(model, path, optimizer=opt)`` writes a checkpoint to train on from, it
records where each of those streams stands, and :func:`proplab.load` gives the layers
Generators standing at the same place: the loaded model draws the masks the saved one
would have drawn next. Layers that shared a Generator (:func:`proplab.mlp` gives all its
Dropout layers the weights' one) share one again, because each stream is saved once and
each layer names the streams it draws from.

The header entry (``"random_streams"``) looks like::

    {"states": [<bit_generator.state of stream 0>, ...],
     "dropout": [{"rng": 0}, {"rngs": [1, 2, 3]}, ...]}   # one per Dropout, in
                                                          # model.modules() order

A state is NumPy's own ``bit_generator.state`` dict with its arrays as lists; loading
only ever builds one of NumPy's bit generators (:data:`BIT_GENERATORS`), by name.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from proplab.core import Module
from proplab.dropout import Dropout
from proplab.runio import jsonable

STREAMS_KEY = "random_streams"

# the bit generators NumPy ships: the only classes a file's name can select
BIT_GENERATORS: dict[str, type[np.random.BitGenerator]] = {
    cls.__name__: cls
    for cls in (
        np.random.PCG64,
        np.random.PCG64DXSM,
        np.random.MT19937,
        np.random.Philox,
        np.random.SFC64,
    )
}


def _dropouts(model: Module) -> list[Dropout]:
    return [m for m in model.modules() if isinstance(m, Dropout)]


def streams_of(model: Module) -> dict[str, Any] | None:
    """The header entry recording ``model``'s Dropout streams (JSON values), or None when
    it has no Dropout layer."""
    layers = _dropouts(model)
    if not layers:
        return None
    index: dict[int, int] = {}  # id(Generator) -> its place in states: a shared one once
    states: list[Any] = []

    def place(generator: np.random.Generator) -> int:
        if id(generator) not in index:
            index[id(generator)] = len(states)
            states.append(jsonable(generator.bit_generator.state))
        return index[id(generator)]

    def entry(m: Dropout) -> dict[str, Any]:
        if m.rngs is not None:
            return {"rngs": [place(g) for g in m.rngs]}
        assert m.rng is not None  # Dropout refuses to be built with neither
        return {"rng": place(m.rng)}

    entries = [entry(m) for m in layers]
    return {"states": states, "dropout": entries}


def restore_streams(model: Module, entry: Any) -> None:
    """Give ``model``'s Dropout layers the Generators ``entry`` (from :func:`streams_of`)
    records. Raises ValueError saying what does not fit (the caller names the file)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("states"), list):
        raise ValueError(f"'{STREAMS_KEY}' must hold a list of 'states', got {entry!r:.80}")
    generators = [_generator(state, i) for i, state in enumerate(entry["states"])]
    layers, saved = _dropouts(model), entry.get("dropout")
    if not isinstance(saved, list) or len(saved) != len(layers):
        count = len(saved) if isinstance(saved, list) else saved
        raise ValueError(
            f"'{STREAMS_KEY}' records the streams of {count} Dropout layers, the "
            f"architecture has {len(layers)}"
        )

    def pick(i: object) -> np.random.Generator:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(generators):
            raise ValueError(f"stream {i!r} is not one of the {len(generators)} saved")
        return generators[i]

    for n, (layer, spec) in enumerate(zip(layers, saved, strict=True)):
        if isinstance(spec, dict) and set(spec) == {"rng"}:
            layer.rng, layer.rngs = pick(spec["rng"]), None
        elif isinstance(spec, dict) and set(spec) == {"rngs"} and isinstance(spec["rngs"], list):
            if len(spec["rngs"]) != math.prod(layer.replicas):
                raise ValueError(
                    f"Dropout layer {n} has replicas {layer.replicas} but "
                    f"{len(spec['rngs'])} saved streams"
                )
            layer.rng, layer.rngs = None, [pick(i) for i in spec["rngs"]]
        else:
            raise ValueError(f"Dropout layer {n}: expected {{'rng': i}} or {{'rngs': [...]}}")


def _generator(state: Any, i: int) -> np.random.Generator:
    """A Generator whose bit generator stands where ``state`` says (NumPy's classes only)."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    cls = BIT_GENERATORS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            f"stream {i}: unknown bit generator {name!r} (known: {', '.join(BIT_GENERATORS)})"
        )
    bit_generator = cls()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ValueError(f"stream {i}: not a {name} state ({exc})") from None
    return np.random.Generator(bit_generator)
