"""Model builders: ``mlp(...)`` for the lab's network, ``conv_net(...)`` for its
convolutional variant (and stacks of either).

The lab model is ``2 -> H -> H -> 1`` with a sigmoid after every layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from proplab import init as initializers
from proplab.checks import check_bool, check_int, is_whole, short_repr
from proplab.core import Module, Sequential
from proplab.features import Features, Standardize
from proplab.layers import Linear
from proplab.registry import resolve

ActivationSpec = str | type[Module] | Callable[[], Module]


def make_activation(spec: ActivationSpec) -> Module:
    """A fresh activation module from a name, a class or a factory."""
    if isinstance(spec, str):
        return resolve("activation", spec)()
    accepted = (
        "activation must be a name (sigmoid, tanh, relu, leaky_relu, identity), a Module "
        f"class or a factory returning a Module, got {spec!r}"
    )
    try:
        module = spec() if callable(spec) and not isinstance(spec, Module) else None
    except TypeError as exc:  # e.g. np.tanh, which wants an argument
        raise TypeError(f"{accepted} (calling it failed: {exc})") from None
    if not isinstance(module, Module):
        raise TypeError(accepted)
    return module


def replica_generators(
    seeds: Sequence[int] | None,
    replicas: int | tuple[int, ...],
    rng: np.random.Generator | None,
    owner: str = "mlp",
) -> tuple[tuple[int, ...], list[np.random.Generator] | None]:
    """Replica shape and one Generator per replica when ``seeds`` are given. ``owner``
    names the builder in messages."""
    if not hasattr(replicas, "__iter__"):
        # one number (2.5 or np.int64(2) failed as "object is not iterable"): 0 is none
        count = check_int(replicas, f"{owner} replicas", low=0)
        replicas = count if count else ()
    if seeds is not None and rng is not None:
        # the weights would come from the seeds alone: a silently unused rng misleads
        raise ValueError(
            "pass rng (one model, or a stack drawn in one go) or seeds (one per replica), not both"
        )
    if seeds is not None:
        if isinstance(seeds, str) or not hasattr(seeds, "__iter__"):
            raise TypeError(
                f"seeds must be a sequence of ints, one per replica, got {seeds!r} "
                f"(for {seeds!r} models: seeds=range({seeds!r}))"
            )
        seeds = list(seeds)
        if not seeds:
            raise ValueError("seeds is empty: pass one int seed >= 0 per replica")
        for s in seeds:
            # None would draw fresh entropy (an unrepeatable model), a bool or float is a typo
            if isinstance(s, bool | np.bool_) or not isinstance(s, int | np.integer) or s < 0:
                raise ValueError(f"seeds must be ints >= 0, got {s!r} in {seeds!r}")
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
    dropout: float = 0.0,
    batchnorm: bool = False,
) -> Sequential:
    """A multilayer perceptron: Linear + activation per hidden layer, then Linear + output activation.

    Args:
        hidden: units per hidden layer; an int ``H`` means the lab's *two* hidden layers
            ``(H, H)`` (``mlp(2, 8, 1)`` is 2-8-8-1), ``[H]`` one.
        activation: hidden activation (name, class or factory); ``"identity"`` for none.
        output_activation: activation after the last Linear (``None`` for raw outputs).
        bias: give every Linear a bias (``False``: the handout's ``Z = sigma(X W)``).
        init: weight initialiser from :mod:`proplab.init`, or its name (default Xavier).
        rng: Generator for every weight (one model, or a stack drawn in one go).
        seeds: one seed per replica instead of ``rng``: replica k then holds
            exactly the weights ``mlp(..., rng=np.random.default_rng(seeds[k]))`` has.
        replicas: leading replica shape (default: none, or ``len(seeds)``).
        dtype: float type of every weight (default float64; ``None`` is float64 too, as
            NumPy reads it, and an int type is refused); fit and evaluate cast the
            data (x, and float targets) to it, so a float32 model computes in float32.
            A direct call (``model(x)``) does not: it computes in NumPy's promoted dtype
            of x and the weights (a float32 model given float64 x returns float64).
        dropout: p of a :class:`~proplab.dropout.Dropout` after each hidden activation
            (0: none). Its masks continue the weights' stream: ``rng`` (or replica k's
            ``seeds[k]`` Generator) draws them after every weight is drawn.
        batchnorm: a :class:`~proplab.batchnorm.BatchNorm1d` after each hidden Linear,
            before its activation (where the original paper puts it); not on the output.
            Those Linear layers then have no bias: the normalisation would subtract it
            at once (its gradient is exactly 0), and batchnorm's own shift (beta) takes
            its place, as the paper notes.

    A hidden layer is then ``Linear [-> BatchNorm1d] -> activation [-> Dropout]``.

    Shape: ``(*R, n, in_features)`` or ``(n, in_features)`` -> ``(*R, n, out_features)``.
    """
    from proplab.batchnorm import BatchNorm1d  # local: the plain MLP's imports stay as they were
    from proplab.dropout import Dropout, check_probability

    p = check_probability(dropout, "mlp dropout")
    check_bool(batchnorm, "mlp batchnorm")
    check_bool(bias, "mlp bias")  # "False" is truthy: it gave every Linear a bias
    if isinstance(hidden, int | np.integer | float) and not isinstance(hidden, bool):
        widths = [hidden, hidden]
    elif isinstance(hidden, str) or not hasattr(hidden, "__iter__"):
        raise ValueError(f"hidden must be an int or a list of ints, got {hidden!r}")
    else:
        widths = list(hidden)
    for w in widths:
        check_int(
            w, f"hidden layer widths must be positive integers; hidden={short_repr(hidden)}: each"
        )
    for label, value in (("in_features", in_features), ("out_features", out_features)):
        check_int(value, f"mlp {label}")
    init_fn = resolve("init", init) if isinstance(init, str) else init
    shape, rngs = replica_generators(seeds, replicas, rng)
    sizes = [in_features, *[int(w) for w in widths], out_features]
    layers: list[Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        last = i == len(sizes) - 2
        own_bias = bias and (last or not batchnorm)  # batchnorm's beta stands in for it
        layers.append(
            Linear(
                fan_in,
                fan_out,
                own_bias,
                rng=rng,
                rngs=rngs,
                init=init_fn,
                replicas=shape,
                dtype=dtype,
            )
        )
        if not last:
            if batchnorm:
                layers.append(BatchNorm1d(fan_out, replicas=shape, dtype=dtype))
            layers.append(make_activation(activation))
            if p > 0:
                layers.append(Dropout(p, rng=rng, rngs=rngs, replicas=shape))
        elif output_activation is not None:
            layers.append(make_activation(output_activation))
    return Sequential(layers)


def hidden_activations(model: Sequential, x: np.ndarray) -> list[np.ndarray]:
    """What each hidden unit of an MLP computes on ``x``: one ``(n, H_l)`` array per hidden layer.

    ``model`` is a single (unstacked) MLP as :func:`mlp` builds it: per hidden
    layer a Linear, an optional BatchNorm1d, an activation and an optional Dropout,
    then the output Linear and an optional output activation. Hidden layer ``l``'s
    array is the output of its activation (column ``j`` is unit ``j``), computed in
    evaluation mode (batchnorm's running statistics, no dropout: what the trained
    model predicts with); the model's output is not included. ``x`` is
    ``(n, in_features)``; a model whose first layers are
    :class:`~proplab.features.Standardize` or :class:`~proplab.features.Features` takes
    the raw inputs. Raises ValueError for other models (a Conv1d
    network, a replica stack).
    """
    from proplab.batchnorm import BatchNorm1d
    from proplab.core import eval_mode
    from proplab.dropout import Dropout

    front, layers = _input_layers(model)
    stacked = [m.replicas for m in layers if isinstance(m, Linear | BatchNorm1d) and m.replicas]
    if stacked:
        raise ValueError(
            f"hidden_activations takes one model, got a replica stack of {stacked[0]} models "
            "(build one with mlp(..., rng=...) and load a replica's weights into it)"
        )
    blocks = _hidden_blocks(layers, BatchNorm1d, Dropout)
    if blocks is None:
        names = [type(m).__name__ for m in layers] if layers else type(model).__name__
        raise ValueError(
            "hidden_activations takes one MLP as mlp() builds it (Linear, optional "
            "BatchNorm1d, activation, optional Dropout, ..., Linear, optional activation), "
            f"got {names}"
        )
    outputs = []
    with eval_mode(model):
        for layer in front:  # the raw inputs through Standardize and Features first
            x = layer.forward(x)
        for block in blocks:
            for layer in block:
                x = layer.forward(x)
                if not isinstance(layer, Linear | BatchNorm1d | Dropout):
                    outputs.append(x)  # the activation's output: the units' values
    return outputs


def hidden_activation_names(model: Sequential) -> list[str]:
    """The class name of each hidden layer's activation of an MLP as :func:`mlp` builds it
    (``["Sigmoid", "Sigmoid"]``), in the order :func:`hidden_activations` gives their
    outputs; [] for other models."""
    from proplab.batchnorm import BatchNorm1d
    from proplab.dropout import Dropout

    blocks = _hidden_blocks(_input_layers(model)[1], BatchNorm1d, Dropout) or []
    return [
        type(m).__name__
        for block in blocks
        for m in block
        if not isinstance(m, Linear | BatchNorm1d | Dropout)
    ]


def _input_layers(model: Sequential) -> tuple[list[Module], list[Module]]:
    """A model's leading input layers (Standardize, then Features: what ``--standardize``
    and ``--features`` put before the MLP) and the layers after them. A model that
    standardises its inputs broke the report's hidden-units figure (csv18)."""
    layers = model.layers if isinstance(model, Sequential) else []
    k = 0
    while k < len(layers) and isinstance(layers[k], Standardize | Features):
        k += 1
    return layers[:k], layers[k:]


def _hidden_blocks(layers: list[Module], norm: type, drop: type) -> list[list[Module]] | None:
    """The hidden layers of an MLP's ``layers`` (``[Linear, (norm), activation, (drop)]``
    each), or None when ``layers`` is not Linear/activation blocks, an output Linear and at
    most one output activation. Activations are parameterless and neither norm nor drop."""

    def is_activation(m: Module) -> bool:
        return not isinstance(m, Linear | norm | drop) and not m.has_parameters()

    blocks: list[list[Module]] = []
    i = 0
    while i < len(layers) and isinstance(layers[i], Linear):
        block, j = [layers[i]], i + 1
        if j < len(layers) and isinstance(layers[j], norm):
            block.append(layers[j])
            j += 1
        if j >= len(layers) or not is_activation(layers[j]):
            break  # no activation after it: the output Linear (checked below)
        block.append(layers[j])
        j += 1
        if j < len(layers) and isinstance(layers[j], drop):
            block.append(layers[j])
            j += 1
        if j >= len(layers):
            break  # the output's activation: this block was the output layer
        blocks.append(block)
        i = j
    rest = layers[i:]
    if not rest or not isinstance(rest[0], Linear):
        return None
    if len(rest) > 2 or (len(rest) == 2 and not is_activation(rest[1])):
        return None
    return blocks


def conv_net(
    in_features: int = 2,
    filters: int = 4,
    hidden: int = 10,
    out_features: int = 1,
    *,
    kernel_size: int = 2,
    stride: int = 1,
    padding: int = 1,
    dilation: int = 1,
    activation: ActivationSpec = "sigmoid",
    output_activation: ActivationSpec | None = "sigmoid",
    bias: bool = True,
    init: str | initializers.Initializer = "xavier",
    rng: np.random.Generator | None = None,
    seeds: Sequence[int] | None = None,
    replicas: int | tuple[int, ...] = (),
    dtype: type = np.float64,
) -> Sequential:
    """The lab's convolutional model: both hidden layers are a transformation + an activation.

    ``in_features`` inputs are read as a one-channel signal of that length;
    hidden layer 1 is ``Conv1d(1, filters, kernel_size)`` + activation, whose
    ``(filters, L_out)`` maps are flattened; hidden layer 2 is
    ``Linear(filters * L_out, hidden)`` + activation; then ``Linear(hidden,
    out_features)`` + output activation. With the lab's 2 features, padding 1
    lets a kernel of 2 or 3 fit (``L_out`` 3 or 2). Impossible geometry raises
    a ValueError naming the numbers. ``rng``/``seeds``/``replicas`` as in :func:`mlp`.

    Shape: ``(*R, n, in_features)`` or ``(n, in_features)`` -> ``(*R, n, out_features)``.
    """
    from proplab.conv import Conv1d, Unsqueeze  # local: keeps the MLP path's imports unchanged
    from proplab.layers import Flatten

    for label, value in (("filters", filters), ("hidden", hidden), ("in_features", in_features)):
        if not is_whole(value, 1):
            raise ValueError(f"conv_net: {label} must be a positive integer, got {value!r}")
    check_bool(bias, "conv_net bias")
    init_fn = resolve("init", init) if isinstance(init, str) else init
    shape, rngs = replica_generators(seeds, replicas, rng, "conv_net")
    # keyword arguments shared by the conv and Linear layers (of different types)
    common: dict[str, Any] = {
        "rng": rng,
        "rngs": rngs,
        "init": init_fn,
        "replicas": shape,
        "dtype": dtype,
    }
    check_int(out_features, "conv_net out_features")
    conv = Conv1d(1, filters, kernel_size, stride, padding, dilation, bias, **common)
    length_out = conv.output_length(int(in_features))
    conv.input_length = int(in_features)  # another width is refused by name, not deep in Linear
    layers: list[Module] = [
        Unsqueeze(-2),  # (n, F) -> (n, 1, F): one channel of length F
        conv,
        make_activation(activation),
        Flatten(-3),  # (n, filters, L_out) -> (n, filters * L_out)
        Linear(int(filters) * length_out, int(hidden), bias, **common),
        make_activation(activation),
        Linear(int(hidden), out_features, bias, **common),
    ]
    if output_activation is not None:
        layers.append(make_activation(output_activation))
    return Sequential(layers)
