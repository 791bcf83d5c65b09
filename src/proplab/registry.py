"""Names become classes here, and only here: one registry, resolved once at the boundary.

The CLI and config files speak in strings (``"sigmoid"``, ``"adagrad"``); they
call :func:`resolve` once and pass objects everywhere else.
"""

from __future__ import annotations

from typing import Any

from proplab import activations, init, losses, optim
from proplab.checks import did_you_mean

ACTIVATIONS: dict[str, Any] = {
    "sigmoid": activations.Sigmoid,
    "tanh": activations.Tanh,
    "relu": activations.ReLU,
    "leaky_relu": activations.LeakyReLU,
    "identity": activations.Identity,
}
ACTIVATION_ALIASES = {
    "none": "identity",
    "linear": "identity",
    "leakyrelu": "leaky_relu",
    "leaky-relu": "leaky_relu",
}

LOSSES: dict[str, Any] = {
    "mse": losses.MSELoss,
    "bce": losses.BCELoss,
    "cross_entropy": losses.CrossEntropyLoss,  # softmax fused: the model outputs logits
}
LOSS_ALIASES = {
    "ce": "cross_entropy",
    "crossentropy": "cross_entropy",
    "cross-entropy": "cross_entropy",
}

OPTIMIZERS: dict[str, Any] = {
    "sgd": optim.SGD,
    "momentum": optim.SGD,  # SGD with momentum (the CLI's --momentum defaults to 0.9 for it)
    "adagrad": optim.AdaGrad,
    "rmsprop": optim.RMSProp,
    "adam": optim.Adam,
}

INITS: dict[str, Any] = {
    "xavier": init.xavier_uniform,
    "xavier_normal": init.xavier_normal,
    "he": init.he_uniform,
    "he_normal": init.he_normal,
    "uniform": init.uniform,
    "normal": init.normal,
    "torch": init.torch_default,
}

# PyTorch's and Keras's names for the same draws
INIT_ALIASES: dict[str, str] = {
    "glorot": "xavier",
    "kaiming": "he",
    "xavier_uniform": "xavier",
    "glorot_uniform": "xavier",
    "glorot_normal": "xavier_normal",
    "he_uniform": "he",
    "kaiming_uniform": "he",
    "kaiming_normal": "he_normal",
}

REGISTRIES: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "activation": (ACTIVATIONS, ACTIVATION_ALIASES),
    "loss": (LOSSES, LOSS_ALIASES),
    "optimizer": (OPTIMIZERS, {}),
    "init": (INITS, INIT_ALIASES),
}


def canonical(kind: str, name: str) -> str:
    """The registered spelling of ``name``, or a ValueError listing what is accepted."""
    table, aliases = REGISTRIES[kind]
    key = str(name).strip().lower()
    key = aliases.get(key, key)
    if key not in table:
        raise ValueError(
            f"unknown {kind} {name!r} (accepted: {', '.join(table)})"
            + did_you_mean(key, [*table, *aliases])
        )
    return key


def resolve(kind: str, name: str) -> Any:
    """The class or function registered under ``name`` for ``kind``."""
    return REGISTRIES[kind][0][canonical(kind, name)]
