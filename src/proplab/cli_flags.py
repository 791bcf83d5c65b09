"""The CLI's options: their types, the flag groups the commands share, the arguments
turned into a :class:`~proplab.config.RunConfig`, and the flags a run would ignore refused.

Used by :mod:`proplab.cli` (which builds the parser from these groups) and
:mod:`proplab.cli_commands` (which turns the parsed arguments into a run).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import fields
from typing import Any

from proplab import dataload
from proplab.config import CONV_FIELDS, MODELS, MOMENTUM_OPTIMIZERS, ConfigError, RunConfig
from proplab.data import LAB_DATASETS
from proplab.features import FEATURES
from proplab.gradcheck_numeric import EPS_RANGE
from proplab.registry import REGISTRIES
from proplab.stack_plan import MAX_STACK_MB

CONFIG_FIELDS = {f.name for f in fields(RunConfig)}


# the largest whole number a flag takes: far beyond any epoch count, width or seed that
# could run, and exact as a float, so no later message or size estimate meets a 300-digit
# integer (``int(1e308)``) or float arithmetic that overflows on one
MAX_INTEGER = 10**15


def _plain(text: str) -> bool:
    """Whether ``text`` is written in ASCII without ``_``: Python's int() and float() also
    read ``1_0`` (10) and other scripts' digits (``١``, 1), which a flag should not."""
    return text.isascii() and "_" not in text


def integer(text: str) -> int:
    """An integer from -10**15 to 10**15 in ASCII digits; ``1e5`` is accepted as the whole
    number it is."""
    if not _plain(text):
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
    try:
        value = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not (math.isfinite(number) and number.is_integer()):
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        value = int(number)
    if abs(value) > MAX_INTEGER:
        raise argparse.ArgumentTypeError(f"expected an integer from -1e15 to 1e15, got {text!r}")
    return value


def width(text: str) -> int:
    """One ``--hidden`` width (:func:`integer`); ``4,4`` is refused with how a width per
    layer is written: ``--hidden 4 4`` (persona22 L4)."""
    try:
        return integer(text)
    except argparse.ArgumentTypeError as exc:
        parts = [part.strip() for part in text.split(",") if part.strip()]
        try:  # only widths, joined by commas: say how they are written
            widths = [integer(part) for part in parts] if "," in text else []
        except argparse.ArgumentTypeError:
            widths = []
        if not widths:
            raise
        written = " ".join(map(str, widths))
        raise argparse.ArgumentTypeError(
            f"{exc} (one width per layer is written --hidden {written})"
        ) from None


def number(text: str) -> float:
    """A number in ASCII (``1e-3``, ``inf``; not ``1_0``), as float() reads it."""
    if not _plain(text):
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def stack_memory(text: str) -> float:
    """``--stack-memory``: MB, more than 0 and at most
    :data:`~proplab.stack_plan.MAX_STACK_MB`."""
    value = number(text)
    if not 0 < value <= MAX_STACK_MB:  # NaN fails both
        raise argparse.ArgumentTypeError(
            f"must be a number of MB > 0 and <= {MAX_STACK_MB:,}, got {text!r}"
        )
    return value


def eps_step(text: str) -> float:
    """``gradcheck --eps``: a central-difference step within
    :data:`~proplab.gradcheck_numeric.EPS_RANGE`."""
    low, high = EPS_RANGE
    value = number(text)
    if not low <= value <= high:  # NaN fails both
        raise argparse.ArgumentTypeError(
            f"must be a step from {low:g} to {high:g} (central differences mean nothing "
            f"outside it in float64), got {text!r}"
        )
    return value


def host(text: str) -> str:
    """``play --host``: an address or host name. A blank one (``--host "$HOST"`` with the
    variable unset) would listen on every interface, the opposite of the local default
    (cli20 M4); one with spaces names no host."""
    if not text or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError(
            f"expected an address without spaces (127.0.0.1: this machine only; 0.0.0.0: "
            f"every interface), got {text!r}"
        )
    return text


def path(text: str) -> str:
    """A file or folder argument: an empty one would silently mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return text


def samples(text: str) -> int | None:
    """``--samples``: a whole number, or ``all`` (None)."""
    if text.strip().lower() == "all":
        return None
    return integer(text)


def _names(kind: str) -> str:
    return ", ".join(REGISTRIES[kind][0])


def add_data_flags(p: argparse.ArgumentParser, test_fraction: bool = True) -> None:
    d = RunConfig()
    add = p.add_argument
    add(
        "--dataset",
        help="linear, xor, a zoo set (circle, xor-quadrants, gauss, spiral, moons), a "
        "regression set (plane, multi-gauss: values in [-1, 1], MSE, identity output), digits "
        "or diabetes (scikit-learn's; each with defaults of its own, listed below), or a path "
        f"to a .csv file (default {d.dataset})",
    )
    add("--n", type=integer, help=f"samples of linear and the zoo sets (default {d.n})")
    add("--noise", type=number, help=f"noise of the zoo sets (default {d.noise:g})")
    if test_fraction:
        add(
            "--test-fraction",
            type=number,
            help="held-out share for test accuracy, stratified (random for the regression "
            "sets; default 0: train = test, as in the lab; 0.2 for digits)",
        )
    add("--label", help="CSV label column: a name, or an index (default: the last column)")
    add(
        "--drop-columns",
        nargs="+",
        metavar="COL",
        help="CSV columns that are no input, each a name or else an index, as --label: an ID, a "
        "name, a date (default: every column but the label is an input)",
    )
    add(
        "--task",
        help="classification, regression (a CSV file's label column holds values to predict: "
        "MSE, R²), or auto (default: regression for plane, multi-gauss and diabetes)",
    )
    add(
        "--standardize",
        action="store_true",
        default=None,
        help="standardise each input column, (x - mean) / std with the mean and standard "
        "deviation of the training rows (never the test rows), as the model's first layer: "
        "for inputs far from unit scale, such as a CSV file's heights in cm; the saved "
        "model takes raw rows (default: the inputs as they are)",
    )


def add_model_flags(p: argparse.ArgumentParser) -> None:
    """The network and its loss (conv flags: :func:`add_conv_flags`)."""
    d = RunConfig()
    add = p.add_argument
    add("--model", help=f"{' or '.join(MODELS)} (default {d.model})")
    add(
        "--hidden",
        type=width,
        nargs="+",
        metavar="H",
        help=f"units per hidden layer: one value H for two layers (H, H), or one per layer; 0 for none (default {d.hidden})",
    )
    add(
        "--layers",
        type=integer,
        metavar="N",
        help="number of hidden layers of the one --hidden width H: --hidden 10 --layers 1 "
        "is one layer of 10 (default 2, the lab's)",
    )
    add(
        "--features",
        nargs="+",
        metavar="F",
        help="input features of a two-feature dataset, as TensorFlow Playground's: "
        f"{', '.join(FEATURES)} (default: the inputs x1 x2 as they are)",
    )
    add("--activation", help=f"hidden activation: {_names('activation')} (default {d.activation})")
    add("--output-activation", help=f"output activation (default {d.output_activation})")
    add(
        "--no-bias",
        dest="bias",
        action="store_false",
        default=None,
        help="Linear layers without bias",
    )
    add(
        "--init",
        help=f"weight initialiser: {_names('init')} (default {d.init}; PyTorch's and "
        "Keras's names too: kaiming_normal, glorot_uniform, ...)",
    )
    add("--loss", help=f"{_names('loss')} (default {d.loss})")
    add(
        "--dropout",
        type=number,
        metavar="P",
        help="dropout after each hidden activation: zero each unit with probability P in "
        f"[0, 1) while training, none when predicting (default {d.dropout:g}: none)",
    )
    add(
        "--batchnorm",
        action="store_true",
        default=None,
        help="BatchNorm1d after each hidden Linear, before its activation (batch "
        "statistics while training, running ones when predicting)",
    )


def add_conv_flags(p: argparse.ArgumentParser) -> None:
    d = RunConfig()
    conv = p.add_argument_group("convolutional model (--model conv)")
    conv.add_argument(
        "--filters", type=integer, help=f"Conv1d output channels (default {d.filters})"
    )
    conv.add_argument("--kernel-size", type=integer, help=f"(default {d.kernel_size})")
    conv.add_argument("--stride", type=integer, help=f"(default {d.stride})")
    conv.add_argument("--padding", type=integer, help=f"(default {d.padding})")


def add_training_flags(p: argparse.ArgumentParser) -> None:
    """Every RunConfig knob as a flag; defaults (None) come from RunConfig, in one place."""
    d = RunConfig()
    add_data_flags(p)
    add_model_flags(p)
    add_optimizer_flags(p)
    add = p.add_argument
    add("--epochs", type=integer, help=f"training epochs (default {d.epochs})")
    add("--batch-size", type=integer, help="mini-batch size (default: full batch, as in the lab)")
    add("--tol", type=number, help="stop once the loss is below this (default: never)")
    add("--seed", type=integer, help=f"seed for weights, data and shuffling (default {d.seed})")
    add(
        "--print-every",
        type=integer,
        metavar="N",
        help=f"log the lab's 'epoch E loss : L' line every N epochs and at the last one, 0 for "
        f"never (default {d.print_every}, or a quarter of --epochs when that is fewer; a "
        "dataset with defaults of its own, such as digits, starts from its own N)",
    )
    add_conv_flags(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_optimizer_flags(p: argparse.ArgumentParser) -> None:
    d = RunConfig()
    add = p.add_argument
    add("--optimizer", help=f"{_names('optimizer')} (default {d.optimizer})")
    add("--lr", type=number, help=f"learning rate (default {d.lr:g})")
    add(
        "--momentum",
        type=number,
        help="momentum, in [0, 1) (default 0.9 for 'momentum', else 0)",
    )
    add(
        "--weight-decay",
        type=number,
        help="L2 regularization: adds weight_decay * w to each gradient "
        f"(default {d.weight_decay:g})",
    )
    add(
        "--l1",
        type=number,
        help="L1 regularization: adds l1 * sign(w) to each gradient, which pulls "
        f"unneeded weights to near 0 (default {d.l1:g})",
    )


def add_stack_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack",
        choices=("auto", "off"),
        default="auto",
        help="auto (default): train runs of one network shape that differ only in seed, "
        "lr, momentum, weight decay, l1, activations, bias or optimizer as one replica stack, "
        "with identical results; off: one run at a time",
    )
    parser.add_argument(
        "--stack-memory",
        type=stack_memory,
        default=512,
        metavar="MB",
        help="largest stack, in MB of arrays (more than 0, at most 1,000,000,000); bigger groups are "
        "split (default 512)",
    )


def quarter_print_every(args: argparse.Namespace, cfg: RunConfig) -> RunConfig:
    """``cfg`` printing its loss line every quarter of ``--epochs`` when that is fewer than
    its ``print_every`` and ``--print-every`` was not given: ``--epochs 3000`` prints every
    750 (the default 5000 would print no line at all; ta23 M6), ``--epochs 10`` every 2.
    ``train`` and ``lab`` alike; :func:`proplab.fit` prints the last epoch's line as well
    (``--epochs 19999``: 4999, 9998, 14997, 19996 and 19999)."""
    if args.print_every is not None or args.epochs is None or not isinstance(cfg.print_every, int):
        return cfg
    return cfg.replace(print_every=min(cfg.print_every, max(1, args.epochs // 4)))


def config_from(args: argparse.Namespace, **fixed: Any) -> RunConfig:
    values = {k: v for k, v in vars(args).items() if k in CONFIG_FIELDS and v is not None}
    if values.get("hidden") == [0]:  # --hidden 0: no hidden layer
        values["hidden"] = []
    elif isinstance(values.get("hidden"), list) and len(values["hidden"]) == 1:
        values["hidden"] = values["hidden"][0]
    layers = getattr(args, "layers", None)
    if layers is not None and fixed.get("model", values.get("model")) == "conv":
        raise ConfigError(
            "layers: the conv model has one hidden Linear layer after its Conv1d; give its "
            "width with --hidden H, without --layers"
        )
    if layers is not None:
        dataset = fixed.get("dataset", values.get("dataset"))
        values["hidden"] = _hidden_layers(values.get("hidden"), layers, dataset)
    values.update(fixed)
    # dataset-specific defaults (digits) for the flags not given; see proplab.dataload
    return RunConfig(**dataload.with_dataset_defaults(values))


def _hidden_layers(hidden: int | list[int] | None, layers: int, dataset: Any) -> int | list[int]:
    """``--hidden H --layers N``: N layers of H (the lab's int H for N = 2, as without it).
    Without --hidden, H is the default width (digits' 64, else RunConfig's)."""
    if layers < 1:
        raise ConfigError(
            f"layers: must be a positive integer, got {layers} (--hidden 0 for no hidden layer)"
        )
    if hidden is None:
        default = dataload.with_dataset_defaults({"dataset": dataset}).get("hidden")
        hidden = RunConfig().hidden if default is None else default[0]
    if hidden == []:
        raise ConfigError("layers: --hidden 0 is no hidden layer; give --layers a width H > 0")
    if not isinstance(hidden, int):
        raise ConfigError(
            f"layers: takes one --hidden width H (N layers of H), got --hidden "
            f"{' '.join(map(str, hidden))}; give one width per layer instead, without --layers"
        )
    # the list of N widths is made before RunConfig's size check, so an N no machine
    # could hold ([H] * 10**30) must be refused here, not raise MemoryError/OverflowError
    from proplab.config import float64_size, physical_memory

    memory = physical_memory()
    floats = layers * hidden * (hidden + 1)  # each hidden-to-hidden Linear, bias included
    too_big = ConfigError(
        f"layers: {layers} layers of {hidden} units need {float64_size(floats)}, more "
        "than this machine can allocate"
    )
    if memory is not None and 8 * floats > memory:
        raise too_big
    try:  # where the OS does not say how much memory there is (Windows)
        return hidden if layers == 2 else [hidden] * layers
    except (MemoryError, OverflowError):
        raise too_big from None


def as_flags(values: dict[str, Any], model: str = "mlp") -> str:
    """``{"hidden": [64, 64], "lr": 0.002}`` -> ``"--hidden 64 64 --lr 0.002"``: the flags
    that give those values back for ``model``. An MLP's one hidden layer ``[32]`` is
    ``--hidden 32 --layers 1``, since ``--hidden 32`` alone is the lab's two layers of 32
    (the conv model's one hidden width is ``--hidden 32``: it takes no ``--layers``)."""
    parts = []
    for name, value in values.items():
        one_layer = isinstance(value, list | tuple) and len(value) == 1
        if name == "hidden" and one_layer and model != "conv":
            text = f"{value[0]} --layers 1"
        elif isinstance(value, list | tuple):
            text = " ".join(str(v) for v in value)
        else:
            text = f"{value:g}" if isinstance(value, float) else str(value)
        parts.append(f"--{name.replace('_', '-')} {text}")
    return " ".join(parts)


def refuse_ignored_flags(args: argparse.Namespace, cfg: RunConfig) -> None:
    """A flag this run would ignore is an error, not silence (``--momentum`` with Adam
    may be meant as its beta1, and nothing would say it changed nothing; ``--filters 8``
    without ``--model conv`` trained an MLP). ``cfg`` is validated; ``args`` may be
    ``proplab gradcheck``'s, which has no optimizer flags."""
    if getattr(args, "momentum", None) is not None and cfg.optimizer not in MOMENTUM_OPTIMIZERS:
        raise ConfigError(
            f"momentum: optimizer {cfg.optimizer!r} has no momentum "
            f"(accepted with: {', '.join(MOMENTUM_OPTIMIZERS)})"
        )
    if args.label is not None and not dataload.is_csv(cfg.dataset):
        raise ConfigError(
            f"label: only a CSV dataset has label columns, and {cfg.dataset!r} is not one"
        )
    if getattr(args, "drop_columns", None) is not None and not dataload.is_csv(cfg.dataset):
        raise ConfigError(
            f"drop_columns: only a CSV dataset has columns to drop, and {cfg.dataset!r} is not one"
        )
    if cfg.model != "conv":
        for name in CONV_FIELDS:
            if getattr(args, name) is not None:
                raise ConfigError(
                    f"{name}: only the convolutional model uses it (--model conv), "
                    f"and this one is {cfg.model!r}"
                )
    # --n and --noise shape generated data only; a name that is no dataset at all is
    # left to the loader, whose message suggests the nearest one
    key = str(cfg.dataset).strip().lower()
    fixed_data = (
        key in LAB_DATASETS
        or key in (dataload.DIGITS, dataload.DIABETES)
        or dataload.is_csv(cfg.dataset)
    )
    zoo = ", ".join(dataload.ALL_ZOO)
    if args.n is not None and fixed_data and key != "linear":
        raise ConfigError(
            f"n: only linear and the zoo sets ({zoo}) are drawn with n samples, "
            f"and {cfg.dataset!r} is not one"
        )
    if args.noise is not None and fixed_data:
        raise ConfigError(
            f"noise: only the zoo sets ({zoo}) are drawn with noise, and {cfg.dataset!r} is not one"
        )
