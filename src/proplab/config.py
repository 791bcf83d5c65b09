"""Run configuration: one dataclass, validated at the boundary, built into objects.

``RunConfig`` holds everything needed to rerun a training run (seed
included). :meth:`RunConfig.validate` rejects bad values with a message that
names the field, the value and what is accepted; :func:`build` turns a valid
config into ``(model, loss, optimizer)``.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import numpy as np

from proplab.checks import did_you_mean
from proplab.core import Sequential
from proplab.losses import Loss
from proplab.optim_base import Optimizer
from proplab.registry import canonical, resolve


class ConfigError(ValueError):
    """A configuration value is invalid; the message names it and what is accepted."""


MODELS = ("mlp", "conv")
TASKS = ("auto", "classification", "regression")

# Lab defaults (see README "Why these defaults"): 2-10-10-1 sigmoid MLP, MSE,
# full-batch SGD at lr 1.0 for 20k epochs, Xavier-uniform weights.
LAB_LR = 1.0
LAB_EPOCHS = 20000


@dataclass
class RunConfig:
    """Everything that defines one training run. Field names match the CLI flags."""

    dataset: str = "xor"
    n: int = 100  # samples for generated datasets ("linear" and the zoo)
    noise: float = 0.1  # zoo datasets only
    test_fraction: float = 0.0  # held-out share for evaluation (0: train = test, as in the lab)
    label: str | None = None  # CSV datasets: the label column
    # CSV datasets: columns that are no input (an ID, a name, a date), by name or index
    drop_columns: list[str | int] | None = None
    # "classification", "regression" (the label column holds values to predict), or
    # "auto": regression for the regression sets (plane, multi-gauss, diabetes) only
    task: str = "auto"
    model: str = "mlp"
    features: list[str] | None = None  # input features of (x1, x2), e.g. ["x1", "x2", "x1_x2"]
    # inputs -> (x - mean) / std with the training rows' statistics (a Standardize layer
    # first in the model): for data far from unit scale, such as heights in cm
    standardize: bool = False
    hidden: int | list[int] = 10
    activation: str = "sigmoid"
    output_activation: str = "sigmoid"
    bias: bool = True
    batchnorm: bool = False  # a BatchNorm1d after each hidden Linear, before its activation
    init: str = "xavier"
    loss: str = "mse"
    optimizer: str = "sgd"
    lr: float = LAB_LR
    momentum: float | None = None  # None: 0.9 for "momentum", else 0
    weight_decay: float = 0.0  # L2: + weight_decay * w in the gradient
    l1: float = 0.0  # L1: + l1 * sign(w) in the gradient (TensorFlow Playground's L1)
    dropout: float = 0.0  # p of a Dropout after each hidden activation (0: none)
    epochs: int = LAB_EPOCHS
    batch_size: int | None = None
    seed: int = 0
    tol: float | None = None
    print_every: int = 5000
    # convolutional model (``model = "conv"``)
    filters: int = 4
    kernel_size: int = 2
    stride: int = 1
    padding: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "config") -> RunConfig:
        """Build from a mapping; unknown keys are rejected with the accepted ones listed."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(
                f"{source}: unknown key {unknown[0]!r} (accepted: {', '.join(sorted(names))})"
                + did_you_mean(unknown[0], names)
            )
        return cls(**values)

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)

    @property
    def hidden_sizes(self) -> list[int]:
        return [self.hidden, self.hidden] if isinstance(self.hidden, int) else list(self.hidden)

    @property
    def effective_momentum(self) -> float:
        return effective_momentum(self.optimizer, self.momentum)

    def validate(self) -> RunConfig:
        """Check every field; return a copy with registry names in canonical spelling."""
        fixed: dict[str, Any] = {}
        for kind, name in (
            ("activation", "activation"),
            ("activation", "output_activation"),
            ("loss", "loss"),
            ("optimizer", "optimizer"),
            ("init", "init"),
        ):
            try:
                fixed[name] = canonical(kind, getattr(self, name))
            except ValueError as exc:
                raise ConfigError(f"{name}: {exc}") from None
        if self.model not in MODELS:
            raise ConfigError(
                f"model: unknown model {self.model!r} (accepted: {', '.join(MODELS)})"
            )
        if self.features is not None:
            from proplab.features import feature_names

            try:
                fixed["features"] = list(feature_names(self.features))
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            if self.model != "mlp":
                raise ConfigError(
                    f"features: only the 'mlp' model takes input features, got model {self.model!r}"
                )
        if not isinstance(self.dataset, str) or not self.dataset.strip():
            raise ConfigError(
                f"dataset: must be a dataset name or a path to a .csv file, got {self.dataset!r}"
            )
        task = str(self.task).strip().lower() if isinstance(self.task, str) else None
        if task not in TASKS:
            raise ConfigError(f"task: must be one of {', '.join(TASKS)}, got {self.task!r}")
        fixed["task"] = task
        if self.label is not None and (
            isinstance(self.label, bool) or not isinstance(self.label, str | int)
        ):  # (true is no column index)
            raise ConfigError(f"label: must be a column name or index, got {self.label!r}")
        fixed["drop_columns"] = _drop_columns(self.drop_columns)
        if not isinstance(self.standardize, bool | np.bool_):
            raise ConfigError(
                f"standardize: must be true or false (standardise the inputs with the "
                f"training rows' mean and standard deviation), got {self.standardize!r}"
            )
        if not isinstance(self.bias, bool | np.bool_):
            raise ConfigError(f"bias: must be true or false, got {self.bias!r}")
        _positive_number("lr", self.lr)
        _positive_int("epochs", self.epochs)
        _positive_int("n", self.n)
        if not (_is_int(self.hidden) or isinstance(self.hidden, list | tuple)):
            raise ConfigError(
                f"hidden: must be a positive integer or a list of them ([] for no hidden "
                f"layer), got {self.hidden!r}"
            )
        if _is_int(self.hidden) and self.hidden <= 0:
            raise ConfigError(
                f"hidden: must be a positive integer (two layers of it) or a list of them ([] "
                f"for no hidden layer: inputs straight to the output), got {self.hidden!r}"
            )
        for width in self.hidden_sizes:
            _positive_int("hidden", width)
        # (hidden is an int or a list by now: the check above refused the rest)
        if self.model == "conv" and isinstance(self.hidden, list | tuple) and len(self.hidden) != 1:
            # conv_net's Conv1d stands for the first hidden layer: one Linear width remains
            raise ConfigError(
                f"hidden: the conv model has one hidden Linear layer after its Conv1d (which "
                f"takes the first hidden layer's place): give one width H, got {self.hidden!r}"
            )
        if isinstance(self.hidden, tuple):
            # as config.json gives it back, so a run's config reads back equal to itself
            fixed["hidden"] = list(self.hidden)
        if self.momentum is not None:
            _number_in("momentum", self.momentum, 0.0, 1.0, below=True, why=MOMENTUM_WHY)
        _number_in("weight_decay", self.weight_decay, 0.0, math.inf)
        _number_in("l1", self.l1, 0.0, math.inf)
        self._check_dropout_and_batchnorm()
        _number_in("noise", self.noise, 0.0, math.inf)
        _number_in("test_fraction", self.test_fraction, 0.0, 1.0, below=True)
        if self.batch_size is not None:
            _positive_int("batch_size", self.batch_size)
        if self.tol is not None:
            _positive_number("tol", self.tol)
        _int_in("print_every", self.print_every, 0)
        _int_in("seed", self.seed, 0)
        _positive_int("filters", self.filters)
        _positive_int("kernel_size", self.kernel_size)
        _positive_int("stride", self.stride)
        _int_in("padding", self.padding, 0)
        if not (isinstance(self.extra, dict) and all(isinstance(k, str) for k in self.extra)):
            # free-form notes kept in config.json: a table of named values
            raise ConfigError(
                f'extra: must be a table of named values (e.g. {{ note = "..." }}), '
                f"got {self.extra!r}"
            )
        if fixed["loss"] == "bce" and fixed["output_activation"] != "sigmoid":
            raise ConfigError(
                f"loss: 'bce' needs output_activation 'sigmoid' (got {self.output_activation!r})"
            )
        if fixed["loss"] == "cross_entropy" and fixed["output_activation"] != "identity":
            # the loss applies the softmax itself; a second squashing would distort it
            raise ConfigError(
                "loss: 'cross_entropy' takes raw logits and needs output_activation 'identity' "
                f"(got {self.output_activation!r})"
            )
        return self.replace(**fixed)

    def _check_dropout_and_batchnorm(self) -> None:
        """dropout in [0, 1), batchnorm a bool, and both only where the MLP has hidden layers."""
        if (
            isinstance(self.dropout, bool)
            or not isinstance(self.dropout, int | float)
            or not (math.isfinite(self.dropout) and 0.0 <= self.dropout < 1.0)
        ):
            raise ConfigError(
                "dropout: must be a probability in [0, 1) (the share of hidden units zeroed "
                f"in training; 0 for none), got {self.dropout!r}"
            )
        if not isinstance(self.batchnorm, bool | np.bool_):
            raise ConfigError(f"batchnorm: must be true or false, got {self.batchnorm!r}")
        for name, used in (("dropout", self.dropout > 0), ("batchnorm", bool(self.batchnorm))):
            if used and self.model != "mlp":
                raise ConfigError(
                    f"{name}: only the 'mlp' model has it (after each hidden layer), got "
                    f"model {self.model!r}"
                )
            if used and not self.hidden_sizes:
                raise ConfigError(
                    f"{name}: goes after each hidden layer, and hidden={self.hidden!r} has none"
                )


def is_mini_batch(cfg: RunConfig, n_samples: int) -> bool:
    """Whether ``cfg`` trains on mini-batches of its ``n_samples`` training samples (as
    ``fit`` decides: a ``batch_size`` under the sample count; at or above it, full batch)."""
    return cfg.batch_size is not None and cfg.batch_size < n_samples


def check_batches(cfg: RunConfig, n_samples: int) -> None:
    """Refuse a batchnorm run that would meet a batch of one sample (no variance to
    normalise by), naming the numbers: the whole training data, or the last mini-batch."""
    if not cfg.batchnorm:
        return
    if n_samples < 2:
        raise ConfigError(
            f"batchnorm: normalises over a batch's samples and needs at least 2; the training "
            f"data has {n_samples}"
        )
    size = cfg.batch_size
    if size is not None and size < n_samples and (size == 1 or n_samples % size == 1):
        raise ConfigError(
            f"batch_size: {size} leaves a mini-batch of 1 sample ({n_samples} training "
            "samples), which batchnorm cannot normalise (no variance); choose a batch size "
            "of at least 2 that leaves no single sample over"
        )


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _positive_int(name: str, value: Any) -> None:
    if not _is_int(value) or value <= 0:
        raise ConfigError(f"{name}: must be a positive integer, got {value!r}")


def _int_in(name: str, value: Any, low: int) -> None:
    if not _is_int(value) or value < low:
        raise ConfigError(f"{name}: must be an integer >= {low}, got {value!r}")


def _positive_number(name: str, value: Any) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (math.isfinite(value) and value > 0)
    ):
        raise ConfigError(f"{name}: must be a finite number > 0, got {value!r}")


# momentum's upper end, 1, excluded: the velocity v <- momentum * v + g of a momentum of
# 1 or more never decays, and the run diverges (cli20 M3: 1.5 was accepted)
MOMENTUM_WHY = "a velocity that never decays diverges"


def _number_in(
    name: str, value: Any, low: float, high: float, below: bool = False, why: str = ""
) -> None:
    """A finite number (not a bool) in ``[low, high]``, or ``[low, high)`` with ``below``;
    ``why`` follows the range in the message."""
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and low <= value
        and (value < high if below else value <= high)
    )
    if not ok:
        span = f"[{low:g}, {high:g})" if below else f"[{low}, {high}]"
        because = f" ({why})" if why else ""
        raise ConfigError(f"{name}: must be a finite number in {span}{because}, got {value!r}")


# Random streams of one run, all derived from its seed: the weights use
# default_rng(seed) (so `mlp(rng=default_rng(seed))` is the run's model), the data
# and the mini-batch shuffling their own streams. Drawing the data from the same
# stream as the weights would make the first weights a rescaled copy of the first
# data coordinates.
DATA_STREAM = 2
SHUFFLE_STREAM = 1


def _drop_columns(value: object) -> list[str | int] | None:
    """``drop_columns`` checked: a list of column names or indices (None or [] for none)."""
    if value is None:
        return None
    given = [value] if isinstance(value, str) else value
    if not isinstance(given, list | tuple) or not all(
        isinstance(c, str | int) and not isinstance(c, bool) for c in given
    ):
        raise ConfigError(
            f"drop_columns: must be a list of CSV column names or indices, got {value!r}"
        )
    blank = next((c for c in given if isinstance(c, str) and not c.strip()), None)
    if blank is not None:
        raise ConfigError(f"drop_columns: a column name cannot be blank, got {blank!r}")
    twice = next((c for k, c in enumerate(given) if c in given[:k]), None)
    if twice is not None:
        raise ConfigError(f"drop_columns: names column {twice!r} twice")
    return list(given) or None


def network_label(cfg: RunConfig, n_in: int | str, n_out: int | str) -> str:
    """The layer widths, input to output: ``"2-10-10-1"``; with input features
    ``"(x1, x2, x1_x2)-10-10-1"``; a conv model ``"2-conv(4x2)-10-1"`` (its Conv1d, 4
    filters of kernel 2, takes the first hidden layer's place)."""
    if cfg.features:
        from proplab.features import inputs_label

        n_in = inputs_label(cfg.features)
    if cfg.model == "conv":
        widths = [n_in, f"conv({cfg.filters}x{cfg.kernel_size})", cfg.hidden_sizes[-1], n_out]
    else:
        widths = [n_in, *cfg.hidden_sizes, n_out]
    return "-".join(str(w) for w in widths)


def data_rng(cfg: RunConfig) -> np.random.Generator:
    """The Generator a run draws its generated dataset (linear, the zoo) from."""
    return np.random.default_rng([cfg.seed, DATA_STREAM])


def shuffle_rng(cfg: RunConfig) -> np.random.Generator:
    """The Generator a run shuffles its mini-batches with."""
    return np.random.default_rng([cfg.seed, SHUFFLE_STREAM])


def optimizer_kwargs(cfg: RunConfig) -> dict[str, Any]:
    """The keyword arguments ``cfg``'s optimizer is built with: ``lr``, ``weight_decay``,
    ``l1``, and ``momentum`` for the optimizers that have one. The one place a RunConfig
    field becomes an optimizer hyperparameter, for a single run (:func:`build_optimizer`)
    and a stack (:func:`proplab.stacking.build_stack_optimizer`) alike."""
    kwargs: dict[str, Any] = {"lr": cfg.lr, "weight_decay": cfg.weight_decay, "l1": cfg.l1}
    if cfg.optimizer in MOMENTUM_OPTIMIZERS:
        kwargs["momentum"] = cfg.effective_momentum
    return kwargs


def build_optimizer(cfg: RunConfig, params: list) -> Optimizer:
    """The optimizer named by ``cfg`` over ``params``."""
    return resolve("optimizer", cfg.optimizer)(params, **optimizer_kwargs(cfg))


# the optimizers a config's momentum goes to (AdaGrad and Adam have none)
def effective_momentum(optimizer: str, momentum: float | None) -> float:
    """The momentum ``optimizer`` runs with: ``momentum`` if set, else its default (0.9 for
    "momentum", 0 for the others that take one)."""
    if momentum is not None:
        return momentum
    return 0.9 if optimizer == "momentum" else 0.0


MOMENTUM_OPTIMIZERS = ("sgd", "momentum", "rmsprop")
# the fields only the convolutional model (model = "conv") reads
CONV_FIELDS = ("filters", "kernel_size", "stride", "padding")


def weight_decay_divergence_note(cfg: RunConfig) -> str | None:
    """Why a diverged run of ``cfg`` blew up when its weight decay alone does it, or None.

    With SGD, weight decay makes each step ``w -= lr * (g + weight_decay * w)``: a
    weight is multiplied by ``1 - lr * weight_decay`` whatever its gradient, which grows
    it once ``lr * weight_decay`` is over 2 (over ``2 (1 + momentum)`` with momentum, the
    heavy ball's bound). The divergence message says "a smaller learning rate", which is
    true but hides the knob that was set (cli20 L4: weight_decay 1e308 at lr 1)."""
    if cfg.optimizer not in ("sgd", "momentum") or not cfg.weight_decay:
        return None
    bound = 2 * (1 + cfg.effective_momentum)
    shrink = cfg.lr * cfg.weight_decay
    if not shrink > bound:
        return None
    return (
        f"lr x weight_decay = {shrink:g} is over {bound:g}: each step multiplies every weight "
        f"by {1 - shrink:g} whatever its gradient, so the weights grow until they overflow; "
        f"a weight_decay below {bound / cfg.lr:g} (at lr {cfg.lr:g}) cannot do that"
    )


def build_model(
    cfg: RunConfig,
    in_features: int,
    out_features: int,
    rng: np.random.Generator | None = None,
    seeds: list[int] | None = None,
    samples: int = 1,
    stats: tuple[np.ndarray, np.ndarray] | None = None,
) -> Sequential:
    """The network ``cfg`` describes (one model, or a stack when ``seeds`` is given).

    With ``cfg.standardize`` a :class:`~proplab.features.Standardize` layer comes first,
    holding ``stats``: the training rows' ``(mean, std)``, ``(F,)`` each (``(K, F)`` for a
    stack of K), as :func:`input_stats` gives them. Without ``stats`` it holds mean 0 and
    std 1 (the identity) until ``load_state_dict`` puts a trained model's in: building a
    model to load weights into, or to count them, needs no data.

    Raises ConfigError, naming the option and the size, for a network whose
    weights (and, for a conv model, the arrays ``samples`` rows need on their
    way through the conv layer) cannot be allocated. The check is arithmetic
    only: it runs before any array exists.
    """
    if cfg.model == "conv":
        # a kernel longer than the padded input is the error, whatever size it would take
        # (--kernel-size 1e14 was refused as too big, blamed on --hidden)
        from proplab.conv import conv1d_output_length

        try:
            conv1d_output_length(in_features, cfg.kernel_size, cfg.stride, cfg.padding)
        except ValueError as exc:
            raise ConfigError(f"kernel_size: {exc}") from None
    floats, field, what = _network_size(cfg, in_features, out_features, samples)
    floats *= max(1, len(seeds or ()))
    too_big = ConfigError(
        f"{field}: {what} needs {float64_size(floats)}, more than this machine can allocate"
    )
    memory = _physical_memory()
    if memory is not None and 8 * floats > memory:  # refused before touching any of it
        raise too_big
    try:
        model = _build_model(cfg, in_features, out_features, rng, seeds)
    except MemoryError:
        raise too_big from None
    if not cfg.standardize:
        return model
    from proplab.features import Standardize

    shape = (*([len(seeds)] if seeds is not None else []), in_features)
    mean, std = stats if stats is not None else (np.zeros(shape), np.ones(shape))
    if np.shape(mean) != shape or np.shape(std) != shape:
        raise ValueError(
            f"build_model: standardize statistics must be {shape} each (replicas, inputs), "
            f"got {np.shape(mean)} and {np.shape(std)}"
        )
    # first, and flat (as Features): the network's layers keep their order behind it
    return Sequential(Standardize(mean, std), *model.layers)


def input_stats(cfg: RunConfig, x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The ``stats`` :func:`build_model` takes for ``cfg`` trained on the rows ``x``
    ``(n, F)`` (the training rows only, never the test share): ``(mean, std)`` ``(F,)``
    each with ``cfg.standardize``, else None."""
    if not cfg.standardize:
        return None
    from proplab.features import standardize_stats

    return standardize_stats(x)


def _network_size(
    cfg: RunConfig, in_features: int, out_features: int, samples: int
) -> tuple[int, str, str]:
    """``(floats, option, description)``: a lower bound on what one model needs in memory.

    An MLP counts its weights. A conv model (see :func:`proplab.models.conv_net`)
    also counts, per sample, the zero-padded input, its im2col copy and the
    ``(filters, L_out)`` maps: with a huge ``padding`` and ``stride`` these can be
    far larger than the weights. The option named is the one driving the size.
    """
    if cfg.model != "conv":
        widths = [len(cfg.features or ()) or in_features, *cfg.hidden_sizes, out_features]
        weights = sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=False))
        shown = ", ".join(_count(w, sep="") for w in widths)
        return weights, "hidden", f"a network of widths [{shown}] has {_count(weights)} weights and"
    hidden, k = cfg.hidden_sizes[-1], cfg.kernel_size
    padded = in_features + 2 * cfg.padding
    # conv1d_output_length without its checks: impossible geometry is left to the builder
    length_out = max(0, (padded - k) // cfg.stride + 1)
    maps = cfg.filters * length_out
    weights = cfg.filters * (k + 1) + (maps + 1) * hidden + (hidden + 1) * out_features
    floats = weights + samples * (padded + k * length_out + maps)
    # the option whose value is out of all proportion (a --padding of 1e9 with a huge
    # --stride makes few maps but a huge padded input)
    field = max(
        ("filters", cfg.filters), ("padding", 2 * cfg.padding), ("hidden", hidden),
        ("kernel_size", k), key=lambda pair: pair[1],
    )[0]  # fmt: skip
    what = (
        f"a conv network of {_count(cfg.filters)} filters x {_count(length_out)} positions "
        f"(kernel {_count(k, sep='')}, stride {_count(cfg.stride)}, padding "
        f"{_count(cfg.padding)}) into {_count(hidden)} hidden units has {_count(weights)} "
        f"weights and, for {samples:,} sample(s),"
    )
    return floats, field, what


def float64_size(floats: int) -> str:
    """``"1,200 floats (0 GiB in float64)"``: a count and its size, in integer arithmetic
    (``8 * floats / 2**30`` of a width squared past 1e154 raised OverflowError)."""
    gib = (8 * floats + 2**29) // 2**30  # rounded to the nearest GiB
    return f"{_count(floats)} floats ({_count(gib)} GiB in float64)"


def _count(n: int, sep: str = ",") -> str:
    """``"1,200"``, or ``"about 2.7e+616"`` past 21 digits: a message naming a size
    prints no 300-digit number (and str() refuses ints past 4,300 digits)."""
    if n < 10**21:
        return f"{n:,}" if sep else str(n)
    exponent = math.floor(math.log10(n))  # log10 takes ints of any size
    tenths = n // 10 ** (exponent - 1)  # the first two digits, in integers
    return f"about {tenths // 10}.{tenths % 10}e+{exponent}"


def physical_memory() -> int | None:
    """Bytes of RAM, or None where the OS does not say (for size checks before allocating)."""
    return _physical_memory()


def _physical_memory() -> int | None:
    """Bytes of RAM (None where the OS does not say: then allocation failures tell)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _build_model(
    cfg: RunConfig,
    in_features: int,
    out_features: int,
    rng: np.random.Generator | None,
    seeds: list[int] | None,
) -> Sequential:
    from proplab.models import mlp  # local: models imports registry, keep this module light

    if rng is None and seeds is None:
        rng = np.random.default_rng(cfg.seed)
    elif rng is not None and seeds is not None:  # here: the conv branch blames kernel_size
        raise ValueError("build_model takes rng or seeds, not both")
    if cfg.model == "conv":
        from proplab.models import conv_net

        try:
            return conv_net(
                in_features,
                cfg.filters,
                cfg.hidden_sizes[-1],
                out_features,
                kernel_size=cfg.kernel_size,
                stride=cfg.stride,
                padding=cfg.padding,
                activation=cfg.activation,
                output_activation=cfg.output_activation,
                bias=cfg.bias,
                init=cfg.init,
                rng=rng,
                seeds=seeds,
            )
        except ValueError as exc:  # a kernel that does not fit this many input features
            raise ConfigError(f"kernel_size: {exc}") from None
    if cfg.features and in_features != 2:
        raise ConfigError(
            f"features: input features are functions of two inputs (x1, x2); {cfg.dataset} "
            f"has {in_features}"
        )
    net = mlp(
        len(cfg.features) if cfg.features else in_features,
        cfg.hidden_sizes,
        out_features,
        activation=cfg.activation,
        output_activation=cfg.output_activation,
        bias=cfg.bias,
        init=cfg.init,
        rng=rng,
        seeds=seeds,
        dropout=cfg.dropout,
        batchnorm=cfg.batchnorm,
    )
    if not cfg.features:
        return net
    from proplab.features import Features

    # first, and flat: the MLP's layers keep their order behind it
    return Sequential(Features(cfg.features), *net.layers)


def build_loss(cfg: RunConfig) -> Loss:
    return resolve("loss", cfg.loss)()
