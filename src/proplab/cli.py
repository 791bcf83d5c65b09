"""Command line: ``proplab train``, ``gradcheck``, ``trace``, ``lab``, ``sweep``, ``report``
and ``play``.

``main(argv) -> int`` is the whole interface (tests call it directly). Bad
input never shows a traceback: it prints one line naming the bad value and
what is accepted, and returns 2. The lab's lines go to stdout; the progress
bar and notes about files go to stderr.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, NoReturn

from proplab import dataload
from proplab.config import MODELS, MOMENTUM_OPTIMIZERS, ConfigError, RunConfig
from proplab.data import LAB_DATASETS
from proplab.features import FEATURES
from proplab.registry import REGISTRIES
from proplab.runio import OutputDirError
from proplab.threads import limit_blas_threads

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a Unix tool cut off by `| head` exits with
CONFIG_FIELDS = {f.name for f in fields(RunConfig)}


class UsageError(Exception):
    """Bad command-line input; the message is the one line to print."""


class _Parser(argparse.ArgumentParser):
    # argparse prints usage + error and exits; we want one line and a return code
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")


class _CommandParser(_Parser):
    """A subcommand's parser. argparse hands the arguments a subcommand does not know up
    to the top parser, whose error then says ``proplab: error:``; everything after the
    command's name is the command's, so its parser names them, as its other errors do."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


def _integer(text: str) -> int:
    """An integer; ``1e5`` and ``20_000`` are accepted when they are whole numbers."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not (math.isfinite(value) and value.is_integer()):
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
    return int(value)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _path(text: str) -> str:
    """A file or folder argument: an empty one would silently mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return text


def _names(kind: str) -> str:
    return ", ".join(REGISTRIES[kind][0])


def _add_data_flags(p: argparse.ArgumentParser, test_fraction: bool = True) -> None:
    d = RunConfig()
    add = p.add_argument
    add(
        "--dataset",
        help="linear, xor, a zoo set (circle, xor-quadrants, gauss, spiral, moons), a "
        "regression set (plane, multi-gauss: values in [-1, 1], MSE, identity output), digits "
        "or diabetes (scikit-learn's; each with defaults of its own, listed below), or a path "
        f"to a .csv file (default {d.dataset})",
    )
    add("--n", type=_integer, help=f"samples of linear and the zoo sets (default {d.n})")
    add("--noise", type=_number, help=f"noise of the zoo sets (default {d.noise:g})")
    if test_fraction:
        add(
            "--test-fraction",
            type=_number,
            help="held-out share for test accuracy, stratified (random for the regression "
            "sets; default 0: train = test, as in the lab; 0.2 for digits)",
        )
    add("--label", help="CSV label column: a name, or an index (default: the last column)")
    add(
        "--task",
        help="classification, regression (a CSV file's label column holds values to predict: "
        "MSE, R²), or auto (default: regression for plane, multi-gauss and diabetes)",
    )


def _add_model_flags(p: argparse.ArgumentParser) -> None:
    """The network and its loss (conv flags: :func:`_add_conv_flags`)."""
    d = RunConfig()
    add = p.add_argument
    add("--model", help=f"{' or '.join(MODELS)} (default {d.model})")
    add(
        "--hidden",
        type=_integer,
        nargs="+",
        metavar="H",
        help=f"units per hidden layer: one value H for two layers (H, H), or one per layer; 0 for none (default {d.hidden})",
    )
    add(
        "--layers",
        type=_integer,
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
        type=_number,
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


def _add_conv_flags(p: argparse.ArgumentParser) -> None:
    d = RunConfig()
    conv = p.add_argument_group("convolutional model (--model conv)")
    conv.add_argument(
        "--filters", type=_integer, help=f"Conv1d output channels (default {d.filters})"
    )
    conv.add_argument("--kernel-size", type=_integer, help=f"(default {d.kernel_size})")
    conv.add_argument("--stride", type=_integer, help=f"(default {d.stride})")
    conv.add_argument("--padding", type=_integer, help=f"(default {d.padding})")


def _add_training_flags(p: argparse.ArgumentParser) -> None:
    """Every RunConfig knob as a flag; defaults (None) come from RunConfig, in one place."""
    d = RunConfig()
    _add_data_flags(p)
    _add_model_flags(p)
    _add_optimizer_flags(p)
    add = p.add_argument
    add("--epochs", type=_integer, help=f"training epochs (default {d.epochs})")
    add("--batch-size", type=_integer, help="mini-batch size (default: full batch, as in the lab)")
    add("--tol", type=_number, help="stop once the loss is below this (default: never)")
    add("--seed", type=_integer, help=f"seed for weights, data and shuffling (default {d.seed})")
    add(
        "--print-every",
        type=_integer,
        help=f"log every N epochs, 0 for never (default {d.print_every})",
    )
    _add_conv_flags(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_optimizer_flags(p: argparse.ArgumentParser) -> None:
    d = RunConfig()
    add = p.add_argument
    add("--optimizer", help=f"{_names('optimizer')} (default {d.optimizer})")
    add("--lr", type=_number, help=f"learning rate (default {d.lr:g})")
    add("--momentum", type=_number, help="momentum (default 0.9 for 'momentum', else 0)")
    add(
        "--weight-decay",
        type=_number,
        help="L2 regularization: adds weight_decay * w to each gradient "
        f"(default {d.weight_decay:g})",
    )
    add(
        "--l1",
        type=_number,
        help="L1 regularization: adds l1 * sign(w) to each gradient, which pulls "
        f"unneeded weights to near 0 (default {d.l1:g})",
    )


def _config_from(args: argparse.Namespace, **fixed: Any) -> RunConfig:
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
    return hidden if layers == 2 else [hidden] * layers


def _as_flags(values: dict[str, Any]) -> str:
    """``{"hidden": [64, 64], "lr": 0.002}`` -> ``"--hidden 64 64 --lr 0.002"``."""
    parts = []
    for name, value in values.items():
        if isinstance(value, list | tuple):
            text = " ".join(str(v) for v in value)
        else:
            text = f"{value:g}" if isinstance(value, float) else str(value)
        parts.append(f"--{name.replace('_', '-')} {text}")
    return " ".join(parts)


def _digits_epilog(parser: argparse.ArgumentParser) -> str:
    """The help's note on digits' own defaults, from ``dataload.DIGITS_DEFAULTS`` (the
    defaults each option's help shows are the lab's; digits would train badly on them)."""
    flags = {action.dest for action in parser._actions}
    own = {k: v for k, v in dataload.DIGITS_DEFAULTS.items() if k in flags}
    others = [
        f"{names} ({_as_flags(values)})"
        for names, defaults in (
            ("the regression sets plane and multi-gauss", dataload.REGRESSION_DEFAULTS),
            ("diabetes", dataload.DIABETES_DEFAULTS),
        )
        if (values := {k: v for k, v in defaults.items() if k in flags})
    ]
    return (
        "The defaults shown are the lab's. --dataset digits has its own for the options "
        f"not given: {_as_flags(own)}" + (f". So have {' and '.join(others)}." if others else "")
    )


def _dataset_defaults_note(args: argparse.Namespace, cfg: RunConfig) -> str | None:
    """One line naming the dataset's own defaults this run used (the flags not given),
    or None; ``--optimizer sgd`` with digits keeps the lr chosen for Adam, which it says."""
    own = dataload.dataset_defaults(cfg.dataset, cfg.task)
    used = {k: v for k, v in own.items() if getattr(args, k, None) is None and getattr(cfg, k) == v}
    if not used:
        return None
    note = (
        f"proplab {args.command}: --dataset {cfg.dataset} used its own defaults for the "
        f"options not given: {_as_flags(used)}"
    )
    if "lr" in used and "optimizer" in own and cfg.optimizer != own["optimizer"]:
        note += (
            f"; that --lr {used['lr']:g} was chosen for {own['optimizer']}, not for "
            f"{cfg.optimizer}: pass your own --lr"
        )
    return note


def _default_out(cfg: RunConfig) -> Path:
    hidden = "x".join(str(h) for h in cfg.hidden_sizes)
    extras = ("-bn" if cfg.batchnorm else "") + (f"-dropout{cfg.dropout:g}" if cfg.dropout else "")
    name = f"{Path(str(cfg.dataset)).stem}-{cfg.model}-h{hidden}-{cfg.activation}{extras}-{cfg.optimizer}-lr{cfg.lr:g}-seed{cfg.seed}"
    from proplab.runio import short_folder_name

    return Path("runs") / "train" / short_folder_name(name)


# the flags only the convolutional model reads (RunConfig fields)
CONV_FIELDS = ("filters", "kernel_size", "stride", "padding")


def _refuse_ignored_flags(args: argparse.Namespace, cfg: RunConfig) -> None:
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


def cmd_train(args: argparse.Namespace) -> int:
    """``proplab train``: one run, the lab's printout, a run folder."""
    from proplab.experiments import run_one  # heavy imports only when training

    cfg = _config_from(args)
    _regression_reason_first(cfg)
    checked = cfg.validate()
    _refuse_ignored_flags(args, checked)
    out = Path(args.out) if args.out else _default_out(cfg)
    log: Callable[[str], Any] = (lambda line: None) if args.quiet else print
    summary = run_one(cfg, out, log=log, progress=not args.no_progress)
    diverged = summary["stop_reason"] == "diverged"
    if diverged and args.quiet:  # exit 1 must say why even when the lab's lines are hidden
        print(f"proplab train: {summary['message']}", file=sys.stderr)
    # after the run, beside its result (and not before a bad-data error, which is one line)
    note = _dataset_defaults_note(args, checked)
    if note is not None:
        print(note, file=sys.stderr)
    scale = dataload.target_scale_note(checked)
    if scale is not None:
        print(f"proplab train: {scale}", file=sys.stderr)
    print(f"run saved to {out}", file=sys.stderr)
    return EXIT_FAILED if diverged else EXIT_OK


def cmd_gradcheck(args: argparse.Namespace) -> int:
    """``proplab gradcheck``: every backward of the configured network against central
    differences; exit 1 when one is over the tolerance."""
    from proplab.model_check import CheckTooLargeError, check_config, format_check

    if args.samples < 1:
        raise UsageError(
            f"proplab gradcheck: error: argument --samples: must be >= 1, got {args.samples}"
        )
    for flag in ("eps", "tolerance"):
        value = getattr(args, flag)
        if not (math.isfinite(value) and value > 0):
            raise UsageError(
                f"proplab gradcheck: error: argument --{flag}: must be a number > 0, got {value:g}"
            )
    cfg = _config_from(args)
    _regression_reason_first(cfg)
    _refuse_ignored_flags(args, cfg.validate())
    try:
        check = check_config(cfg, args.samples, eps=args.eps, tolerance=args.tolerance)
    except CheckTooLargeError as exc:
        raise UsageError(f"proplab gradcheck: error: {exc}") from None
    print(format_check(check))
    # incomplete (arrays a kink kept from being compared) is no failure: exit 0, and said
    return EXIT_FAILED if check.failed else EXIT_OK


def _samples(text: str) -> int | None:
    """``--samples``: a whole number, or ``all`` (None)."""
    if text.strip().lower() == "all":
        return None
    return _integer(text)


def cmd_trace(args: argparse.Namespace) -> int:
    """``proplab trace``: one training step, every number; exit 1 when its check fails."""
    from proplab.trace_run import trace_config

    if not 1 <= args.digits <= 17:
        raise UsageError(
            f"proplab trace: error: argument --digits: must be from 1 to 17, got {args.digits}"
        )
    if args.after < 0:
        raise UsageError(
            f"proplab trace: error: argument --after: must be >= 0 epochs, got {args.after}"
        )
    figure = None if args.figure is None else Path(args.figure)
    if figure is not None:
        problem = (
            "is a folder"
            if figure.is_dir()
            else f"has no folder {str(figure.parent)!r}"
            if not figure.parent.is_dir()
            else f"is in a folder this user cannot write, {str(figure.parent)!r}"
            if not os.access(figure.parent, os.W_OK)
            else "is not a .png file (the figure is a PNG)"
            if figure.suffix.lower() != ".png"
            else None
        )
        if problem is not None:
            raise ConfigError(
                f"figure: {str(figure)!r} {problem}; give a .png file in a folder you can write"
            )
    if args.batch_size is not None and args.after == 0:
        raise UsageError(
            "proplab trace: error: argument --batch-size: it sets the mini-batches of the "
            "--after epochs, and there are none; the traced step is on the rows --samples "
            "or --row give"
        )
    cfg = _config_from(args)
    _regression_reason_first(cfg)
    _refuse_ignored_flags(args, cfg.validate())
    trace = trace_config(
        cfg,
        args.samples,
        after=args.after,
        check=not args.no_check,
        row=args.row,
        progress=not args.no_progress,
    )
    if figure is not None:
        from proplab.trace_plots import check_drawable, draw_step

        try:  # refused before anything is printed, as other bad input is
            check_drawable(trace)
        except ValueError as exc:
            raise ConfigError(f"figure: {exc}") from None
        try:  # drawn before the text is printed: a failure is then one line, nothing else
            draw_step(trace, figure, args.digits)
        except OSError as exc:
            raise ConfigError(f"figure: cannot write {str(figure)!r}: {exc.strerror}") from None
    print(trace.text(args.digits))
    if figure is not None:
        print(f"figure saved to {figure}", file=sys.stderr)
    return EXIT_FAILED if trace.check_failed else EXIT_OK


def cmd_lab(args: argparse.Namespace) -> int:
    """``proplab lab``: the lab model on both datasets (``<out>/linear``, ``<out>/xor``),
    then the lab suite into ``<out>/runs`` and the report ``<out>/report.md`` (+ .html)."""
    import time

    from proplab.experiments import lab
    from proplab.runio import ensure_writable_dir
    from proplab.sweep import RUNS_DIR, choose_runner, lab_suite, load_suite

    started = time.perf_counter()
    # every input is checked before any training (lab() checks the settings and its folders)
    if args.jobs < 1:
        raise UsageError(f"proplab lab: error: argument --jobs: must be >= 1, got {args.jobs}")
    runner = choose_runner(args.stack, args.stack_memory)
    spec = None if args.no_suite else load_suite(args.suite)
    if spec is not None:
        ensure_writable_dir(Path(args.out) / RUNS_DIR)
    if args.print_every is None and args.epochs is not None:
        # a short demo run still shows its loss falling (the default 5000 would print none)
        args.print_every = min(RunConfig().print_every, max(1, args.epochs // 4))
    results = lab(args.out, _config_from(args), progress=not args.no_progress)
    where = " and ".join(str(Path(args.out) / name) for name in results)
    print(f"lab runs saved to {where}")
    failed = [name for name, s in results.items() if s["stop_reason"] == "diverged"]
    if spec is not None:  # then every experiment of the suite, and the report
        code = lab_suite(spec, args.out, jobs=args.jobs, started=started, runner=runner)
        if code:
            return code
    return EXIT_FAILED if failed else EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    """``proplab sweep FILE --out DIR [--jobs N]``: every configuration of a TOML file."""
    from proplab.sweep import main as sweep_main

    return sweep_main(
        args.file, args.out, args.jobs, args.stack, args.stack_memory, figures=args.figures
    )


def cmd_report(args: argparse.Namespace) -> int:
    """``proplab report DIR``: report.md + report.html from a sweep folder, no training."""
    from proplab.report import main as report_main

    if args.jobs < 1:
        print(
            f"proplab report: error: argument --jobs: must be >= 1, got {args.jobs}",
            file=sys.stderr,
        )
        return 2
    return report_main(args.dir, jobs=args.jobs)


def cmd_play(args: argparse.Namespace) -> int:
    """``proplab play``: the playground page on a local server, until Ctrl-C."""
    from proplab.playground_server import serve

    if not 0 <= args.port <= 65535:
        print(
            f"proplab play: error: argument --port: must be from 0 to 65535, got {args.port}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        serve(args.host, args.port, open_browser=args.open)
    except OSError as exc:
        print(f"proplab play: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _add_stack_flags(parser: argparse.ArgumentParser) -> None:
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
        type=_number,
        default=512,
        metavar="MB",
        help="largest stack, in MB of arrays; bigger groups are split (default 512)",
    )


def build_parser() -> argparse.ArgumentParser:
    from proplab import __version__

    parser = _Parser(prog="proplab", description="A NumPy-only backpropagation lab.")
    parser.add_argument("--version", action="version", version=f"proplab {__version__}")
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="{train,gradcheck,trace,lab,sweep,report,play}",
        parser_class=_CommandParser,
    )

    train = sub.add_parser("train", help="train one model and write its run folder")
    _add_training_flags(train)
    train.add_argument("--out", type=_path, help="run folder (default runs/train/<dataset>-...)")
    train.add_argument(
        "--quiet",
        action="store_true",
        help="none of the lab's lines on stdout; stderr still says why a run failed and "
        "where it was saved",
    )
    train.epilog = _digits_epilog(train)
    train.set_defaults(func=cmd_train)

    check = sub.add_parser(
        "gradcheck",
        help="check every gradient of a network against central differences",
        description="Build the network the options describe (as proplab train would, same "
        "seed and data) and compare each layer's backward, the whole model's and the loss's "
        "with central differences in float64, on the first samples of the dataset.",
        epilog="Exit status: 0 when every array passes or could not be compared (a ReLU "
        "kink, round-off; said under the table), 1 when one fails, 2 on bad input.",
    )
    _add_data_flags(check, test_fraction=False)
    _add_model_flags(check)
    check.add_argument(
        "--seed",
        type=_integer,
        help=f"seed for the weights and the linear and zoo data (default {RunConfig().seed})",
    )
    _add_conv_flags(check)
    check.add_argument(
        "--samples", type=_integer, default=4, help="data rows to check on (default 4)"
    )
    check.add_argument(
        "--eps", type=_number, default=1e-6, help="central-difference step (default 1e-06)"
    )
    check.add_argument(
        "--tolerance",
        type=_number,
        default=1e-6,
        help="largest relative error that passes (default 1e-06)",
    )
    check.epilog = f"{check.epilog} {_digits_epilog(check)}"
    check.set_defaults(func=cmd_gradcheck)

    trace = sub.add_parser(
        "trace",
        help="print one training step number by number, to check a hand calculation",
        description="Build the network the options describe (as proplab train would, same "
        "seed and data) and print one training step on its first samples as the hand "
        "calculation runs: every layer's output on the way forward, the loss, every "
        "chain-rule product on the way back, each weight's gradient and its update, and "
        "a check of every gradient against central differences.",
        epilog="A step small enough to do by hand: --hidden 2 --samples 1. With --samples "
        "all and full batches, the step is epoch AFTER + 1 of proplab train with the same "
        "options, bit for bit. Exit status: 0, 1 when the gradient check fails, 2 on bad "
        "input.",
    )
    _add_data_flags(trace, test_fraction=True)
    _add_model_flags(trace)
    _add_optimizer_flags(trace)
    trace.add_argument(
        "--batch-size",
        type=_integer,
        help="mini-batch size of the --after epochs (default: full batch)",
    )
    trace.add_argument(
        "--seed",
        type=_integer,
        help=f"seed for weights, data and shuffling (default {RunConfig().seed})",
    )
    _add_conv_flags(trace)
    trace.add_argument(
        "--samples",
        type=_samples,
        default=1,
        help="the first N training rows the step is taken on, or 'all' (default 1)",
    )
    trace.add_argument(
        "--row",
        type=_integer,
        help="the step on this one training row instead (0-based; default: the first rows)",
    )
    trace.add_argument(
        "--after",
        type=_integer,
        default=0,
        help="train this many epochs first, as proplab train would (default 0: the initial "
        "weights)",
    )
    trace.add_argument(
        "--digits", type=_integer, default=4, help="significant digits of each number (default 4)"
    )
    trace.add_argument("--no-check", action="store_true", help="skip the central-difference check")
    trace.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (drawn on a terminal for the --after epochs and the check)",
    )
    trace.add_argument(
        "--figure",
        type=_path,
        metavar="PATH",
        help="also draw the step as a network diagram (PNG): each unit's z, a and dL/dz, each "
        "weight and its dL/dW, with --digits digits (one sample, Linear layers and "
        "element-wise activations, at most 8 units a layer)",
    )
    trace.set_defaults(func=cmd_trace)

    lab = sub.add_parser("lab", help="train the lab model on linear and xor (the lab defaults)")
    lab.add_argument(
        "--out", type=_path, default="runs/lab", help="folder for the runs (default runs/lab)"
    )
    # the suite's runs come from its TOML file (lab_suite gets none of these three)
    only_models = "of the two lab models only; the suite keeps its own"
    lab.add_argument(
        "--epochs", type=_integer, help=f"epochs {only_models} (default {RunConfig().epochs})"
    )
    lab.add_argument(
        "--lr", type=_number, help=f"learning rate {only_models} (default {RunConfig().lr:g})"
    )
    lab.add_argument(
        "--seed", type=_integer, help=f"seed {only_models} (default {RunConfig().seed})"
    )
    lab.add_argument(
        "--print-every",
        type=_integer,
        metavar="N",
        help="print the lab's 'epoch E loss : L' line every N epochs of the two lab models "
        f"(default {RunConfig().print_every}, or a quarter of --epochs when that is fewer; "
        "0: never)",
    )
    lab.add_argument("--no-progress", action="store_true", help="no progress bar")
    lab.add_argument(
        "--suite",
        type=_path,
        default="lab",
        help="experiment suite run after the two lab models, a TOML file or a shipped "
        "suite name (default: lab); it keeps its own settings",
    )
    lab.add_argument("--no-suite", action="store_true", help="only train the two lab models")
    lab.add_argument("--jobs", type=_integer, default=2, help="parallel processes (default 2)")
    _add_stack_flags(lab)
    lab.set_defaults(func=cmd_lab)

    sweep = sub.add_parser("sweep", help="run every configuration of a TOML experiment file")
    sweep.add_argument(
        "file", type=_path, help="experiment file (TOML), or a shipped suite name (lab)"
    )
    sweep.add_argument("--out", type=_path, required=True, help="sweep folder (rerun to resume)")
    sweep.add_argument("--jobs", type=_integer, default=1, help="parallel processes (default 1)")
    _add_stack_flags(sweep)
    sweep.add_argument(
        "--figures",
        action="store_true",
        help="also draw every run's PNG figures (slower; the report does not need them)",
    )
    sweep.set_defaults(func=cmd_sweep)

    report = sub.add_parser("report", help="rebuild report.md/.html from a sweep folder")
    report.add_argument("dir", type=_path, help="sweep folder (from proplab sweep or proplab lab)")
    report.add_argument(
        "--jobs", type=_integer, default=2, help="processes drawing the figures (default 2)"
    )
    report.set_defaults(func=cmd_report)

    play = sub.add_parser(
        "play",
        help="train a network in your browser, watching its boundary and units",
        description="Serve the playground page on this machine: pick a dataset, the "
        "network, the activation, loss and optimizer, and watch the decision boundary, "
        "each hidden unit and the loss as it trains (stop with Ctrl-C).",
    )
    play.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    play.add_argument(
        "--port", type=_integer, default=8000, help="port (default 8000; 0: any free port)"
    )
    play.add_argument("--open", action="store_true", help="open the page in a web browser")
    play.set_defaults(func=cmd_play)
    return parser


def _regression_reason_first(cfg: RunConfig) -> None:
    """A regression's refused loss or output, named before ``validate`` would blame
    something else (``--dataset plane --loss bce``: "bce needs a sigmoid output")."""
    problem = dataload.regression_problem(cfg)
    if problem is not None:
        raise problem


def _default_loss_conflict(rest: str, args: argparse.Namespace) -> str | None:
    """The message for a loss error when the loss is the dataset's default, not a flag.

    ``train --dataset digits --output-activation sigmoid`` blamed ``--loss``, which the
    user never passed; the flag given is ``--output-activation``, and the way out is
    another ``--loss`` (each one named that accepts that output) or no such flag.
    """
    loss = dataload.dataset_defaults(getattr(args, "dataset", None)).get("loss")
    given = getattr(args, "output_activation", None)
    if getattr(args, "loss", "") is not None or given is None or loss is None:
        return None
    fitting = []
    for other in REGISTRIES["loss"][0]:
        try:
            RunConfig(loss=other, output_activation=given).validate()
        except ConfigError:
            continue
        fitting.append(f"--loss {other}")
    remedy = f"pass {' or '.join(fitting)}, or" if fitting else "or"
    return (
        f"argument --output-activation: --dataset {str(args.dataset).strip()} trains with "
        f"--loss {loss} unless told otherwise, and{rest}; {remedy} leave out --output-activation"
    )


def _flag_message(message: str, args: argparse.Namespace | None) -> str:
    """``"lr: must be > 0"`` -> ``"argument --lr: must be > 0"`` when ``lr`` is a flag here."""
    field, sep, rest = message.partition(":")
    if sep and args is not None and field == "loss":
        conflict = _default_loss_conflict(rest, args)
        if conflict is not None:
            return conflict
    if sep and args is not None and field in vars(args):
        return f"argument --{field.replace('_', '-')}:{rest}"
    return message


class _ReaderGone:
    """``sys.stdout`` during a command: once its reader has closed the pipe (``proplab
    train | head``), further output is dropped instead of raising, so a run still
    finishes and writes its folder; :func:`main` then exits with 141, as a Unix tool cut
    off by its reader does. The real stream's descriptor is pointed at devnull, so
    Python's last flush at exit raises nothing either
    (https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""

    def __init__(self, stream: Any) -> None:
        self.stream, self.gone = stream, False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._lost()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._lost()

    def _lost(self) -> None:
        self.gone = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
        except (OSError, ValueError, AttributeError):
            pass  # a stream without a descriptor (a test's capture): nothing to redirect

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    out = _ReaderGone(sys.stdout)
    sys.stdout = out  # type: ignore[assignment]
    try:
        code = _main(argv)
        out.flush()  # what is still buffered: the reader may have gone meanwhile
    finally:
        sys.stdout = out.stream
    return EXIT_BROKEN_PIPE if out.gone else code


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args: argparse.Namespace | None = None
    prog = "proplab"
    try:
        args = parser.parse_args(argv)
        prog = f"proplab {args.command}"
        limit_blas_threads()  # small networks: extra BLAS threads only spin (see threads.py)
        return args.func(args)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        print(f"{prog}: error: {_flag_message(str(exc), args)}", file=sys.stderr)
        return EXIT_USAGE
    except OutputDirError as exc:
        print(f"{prog}: error: argument --out: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # --help / --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
