"""Command line: ``proplab train``, ``predict``, ``gradcheck``, ``trace``, ``lab``,
``sweep``, ``report`` and ``play``.

``main(argv) -> int`` is the whole interface (tests call it directly). Bad
input never shows a traceback: it prints one line naming the bad value and
what is accepted, and returns 2. The lab's lines go to stdout; the progress
bar and notes about files go to stderr.

This module builds the parser and turns what goes wrong into that one line; the
options and the RunConfig they make live in :mod:`proplab.cli_flags`, the commands in
:mod:`proplab.cli_commands`.
"""

from __future__ import annotations

import argparse
import codecs
import os
import re
import signal
import sys
import textwrap
from collections.abc import Sequence
from typing import Any, NoReturn

from proplab import dataload
from proplab.checks import did_you_mean
from proplab.cli_commands import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    cmd_gradcheck,
    cmd_lab,
    cmd_play,
    cmd_predict,
    cmd_report,
    cmd_sweep,
    cmd_trace,
    cmd_train,
    cmd_verify,
)
from proplab.cli_flags import (
    add_conv_flags,
    add_data_flags,
    add_model_flags,
    add_optimizer_flags,
    add_stack_flags,
    add_training_flags,
    as_flags,
    eps_step,
    host,
    integer,
    number,
    path,
    samples,
)
from proplab.config import ConfigError, RunConfig
from proplab.csvdata import reads_reported
from proplab.gradcheck_numeric import EPS_RANGE
from proplab.registry import REGISTRIES
from proplab.runio import WRITE_ERRNOS, OutputDirError, stop_signals_as_ctrl_c
from proplab.threads import limit_blas_threads

EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a Unix tool cut off by `| head` exits with


# Negative numbers as argparse should see them: it takes only -1 and -0.5 for values, so
# `--lr -1e-3` or `--lr -inf` said "expected one argument" instead of naming the value.
_NEGATIVE_NUMBER = re.compile(
    r"^-(\d+\.?\d*(e[-+]?\d+)?|\.\d+(e[-+]?\d+)?|inf(inity)?|nan)$", re.IGNORECASE
)


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, wrapping lines at spaces only: its textwrap breaks at hyphens
    too, which cut a flag in the help's text in two ("--print-" at a line's end, "every")."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return textwrap.fill(
            " ".join(text.split()),
            width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
        )


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        # (a private attribute of argparse's; were it renamed, the old behaviour stays)
        self._negative_number_matcher = _NEGATIVE_NUMBER

    # argparse prints usage + error and exits; we want one line and a return code
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")


# names other libraries give a flag that proplab spells otherwise (difflib finds no match)
_FLAG_ALIASES = {"--learning-rate": "--lr"}


class _CommandParser(_Parser):
    """A subcommand's parser. argparse hands the arguments a subcommand does not know up
    to the top parser, whose error then says ``proplab: error:``; everything after the
    command's name is the command's, so its parser names them, as its other errors do."""

    # flag -> the other commands that take it (set by build_parser)
    elsewhere: dict[str, list[str]] = {}  # (replaced per parser, never mutated)

    # typeshed overloads it for a namespace of one's own class; proplab passes none
    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(self._unrecognized(extras, list(args or [])))
        return parsed, extras

    def _elsewhere(self, flag: str) -> str:
        """``"--epochs is an option of proplab train and lab, not of proplab gradcheck"``."""
        *most, last = self.elsewhere[flag]
        commands = f"{', '.join(most)} and {last}" if most else last
        return f"{flag} is an option of proplab {commands}, not of {self.prog}"

    def _unrecognized(self, extras: list[str], args: list[str]) -> str:
        """argparse's "unrecognized arguments: ...", with the flag nearest a mistyped one
        (``--hiden``: did you mean '--hidden'?), or, for a second value after a flag that
        takes one (``--lr 1 2``), that flag named."""
        words = f"unrecognized arguments: {' '.join(extras)}"
        first = extras[0]
        if first.startswith("--"):
            name = first.split("=", 1)[0]
            if name in self.elsewhere:  # (gradcheck --epochs is no misspelt --eps)
                return f"{words}; {self._elsewhere(name)}"
            flags = [o for o in self._option_string_actions if o.startswith("--")]
            alias = _FLAG_ALIASES.get(name.lower().replace("_", "-"))
            if alias is not None and alias not in flags:  # a command without --lr (verify20)
                if alias in self.elsewhere:
                    return f"{words}; {self._elsewhere(alias)}"
                alias = None
            return words + (f"; did you mean {alias!r}?" if alias else did_you_mean(name, flags))

        # the first stray value, right after a flag and its one value: that flag's (the
        # same text may be an earlier flag's value: --epochs 2 --lr 1 2, verify20)
        def after_one_value(i: int) -> bool:
            flag = self._option_string_actions.get(args[i - 2])
            return flag is not None and flag.nargs is None and not args[i - 1].startswith("--")

        at = next((i for i in range(2, len(args)) if args[i] == first and after_one_value(i)), -1)
        if at < 0:
            return words
        values = [args[at - 1]]
        for arg in args[at:]:  # up to the next flag (-2 is a value here)
            if arg.startswith("--"):
                break
            values.append(arg)
        return f"argument {args[at - 2]}: takes one value, got {' '.join(values)}"


def _digits_epilog(parser: argparse.ArgumentParser) -> str:
    """The help's note on digits' own defaults, from ``dataload.DIGITS_DEFAULTS`` (the
    defaults each option's help shows are the lab's; digits would train badly on them)."""
    flags = {action.dest for action in parser._actions}
    own = {k: v for k, v in dataload.DIGITS_DEFAULTS.items() if k in flags}
    others = [
        f"{names} ({as_flags(values)})"
        for names, defaults in (
            ("the regression sets plane and multi-gauss", dataload.REGRESSION_DEFAULTS),
            ("diabetes", dataload.DIABETES_DEFAULTS),
        )
        if (values := {k: v for k, v in defaults.items() if k in flags})
    ]
    return (
        "The defaults shown are the lab's. --dataset digits has its own for the options "
        f"not given: {as_flags(own)}" + (f". So have {' and '.join(others)}." if others else "")
    )


def _add_replace_flag(parser: argparse.ArgumentParser, lab_runs: bool = False) -> None:
    runs = (
        "; and the two lab runs (<out>/linear, <out>/xor) when they hold runs of other "
        "settings: their run files are replaced"
        if lab_runs
        else ""
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="run into a --out folder that holds another sweep (another title): its "
        f"results and report are replaced, its run folders kept{runs}",
    )


def build_parser() -> argparse.ArgumentParser:
    from proplab import __version__

    parser = _Parser(prog="proplab", description="A NumPy-only backpropagation lab.")
    parser.add_argument("--version", action="version", version=f"proplab {__version__}")
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="{train,predict,gradcheck,trace,lab,sweep,report,verify,play}",
        parser_class=_CommandParser,
    )

    train = sub.add_parser("train", help="train one model and write its run folder")
    add_training_flags(train)
    train.add_argument(
        "--out",
        type=path,
        help="run folder: a new or empty folder, or a run folder of the same configuration "
        "(trained again); another folder is refused (default runs/train/<dataset>-...; when "
        "that holds a run of another configuration, it is kept and this run goes to the "
        "first free <name>-2, <name>-3, ...)",
    )
    train.add_argument(
        "--replace",
        action="store_true",
        help="train into a --out run folder that holds a run of another configuration, or "
        "an interrupted run's partial results (its run files are replaced, other files stay)",
    )
    train.add_argument(
        "--quiet",
        action="store_true",
        help="none of the lab's lines on stdout; stderr still says why a run failed and "
        "where it was saved",
    )
    train.epilog = _digits_epilog(train)
    train.set_defaults(func=cmd_train)

    predict = sub.add_parser(
        "predict",
        help="a trained run's predictions for the rows of a CSV file",
        description="Run a trained run's model (model.npz, in evaluation mode, as its own "
        "scores) on the rows of a CSV file and write them out as CSV: the file's columns as "
        "given, then 'prediction' (the class, named as the training file's label column "
        "names it, or a regression's value), then for a classification each class's "
        "probability, p_<class> (a model whose outputs are no probabilities, e.g. mse on "
        "an identity output, gets its outputs as output_<class>). A run trained on a CSV "
        "file takes its input columns by name (others are ignored); one trained on a "
        "generated dataset takes x1, x2 as the first two columns (digits: the 64 pixels, "
        "0 to 16). When the file also has the label column, the loss and accuracy (R² for "
        "a regression) on its rows go to stderr.",
        epilog="Example, on the repo's examples/body.csv (not in an installed wheel): "
        "proplab train --dataset examples/body.csv --label tall "
        "--standardize --out runs/body, then proplab predict runs/body --data new.csv "
        "--out predicted.csv. Exit status: 0, or 2 on bad input (no run folder, a missing "
        "column, a cell that is no number).",
    )
    predict.add_argument(
        "run_dir",
        type=path,
        metavar="RUN_DIR",
        help="a run folder of proplab train or a sweep (e.g. runs/lab/xor, or a sweep's "
        "runs/<name>)",
    )
    predict.add_argument(
        "--data",
        type=path,
        required=True,
        metavar="FILE",
        help="CSV file of the rows to predict (read as proplab train reads one)",
    )
    predict.add_argument(
        "--out",
        type=path,
        metavar="FILE.csv",
        help="write the predictions to this file (default: stdout); an existing file is "
        "replaced only if it is an earlier output of predict (refused otherwise)",
    )
    predict.set_defaults(func=cmd_predict)

    check = sub.add_parser(
        "gradcheck",
        help="check every gradient of a network against central differences",
        description="Build the network the options describe (as proplab train would, same "
        "seed and data) and compare each layer's backward, the whole model's and the loss's "
        "with central differences in float64, on the first samples of the dataset.",
        epilog="Exit status: 0 when every array passes or could not be compared (a ReLU "
        "kink, round-off; said under the table), 1 when one fails, 2 on bad input.",
    )
    add_data_flags(check, test_fraction=False)
    add_model_flags(check)
    check.add_argument(
        "--seed",
        type=integer,
        help=f"seed for the weights and the linear and zoo data (default {RunConfig().seed})",
    )
    add_conv_flags(check)
    check.add_argument(
        "--samples", type=integer, default=4, help="data rows to check on (default 4)"
    )
    check.add_argument(
        "--eps",
        type=eps_step,
        default=1e-6,
        help=f"central-difference step, from {EPS_RANGE[0]:g} to {EPS_RANGE[1]:g} (default 1e-06)",
    )
    check.add_argument(
        "--tolerance",
        type=number,
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
    add_data_flags(trace, test_fraction=True)
    add_model_flags(trace)
    add_optimizer_flags(trace)
    trace.add_argument(
        "--batch-size",
        type=integer,
        help="mini-batch size of the --after epochs (default: full batch)",
    )
    trace.add_argument(
        "--seed",
        type=integer,
        help=f"seed for weights, data and shuffling (default {RunConfig().seed})",
    )
    add_conv_flags(trace)
    trace.add_argument(
        "--samples",
        type=samples,
        default=1,
        help="the first N training rows the step is taken on, or 'all' (default 1)",
    )
    trace.add_argument(
        "--row",
        type=integer,
        help="the step on this one training row instead (0-based; default: the first rows)",
    )
    trace.add_argument(
        "--after",
        type=integer,
        default=0,
        help="train this many epochs first, as proplab train would (default 0: the initial "
        "weights)",
    )
    trace.add_argument(
        "--digits", type=integer, default=4, help="significant digits of each number (default 4)"
    )
    trace.add_argument("--no-check", action="store_true", help="skip the central-difference check")
    trace.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (drawn on a terminal for the --after epochs and the check)",
    )
    trace.add_argument(
        "--figure",
        type=path,
        metavar="PATH",
        help="also draw the step as a network diagram (PNG): each unit's z, a and dL/dz, each "
        "weight and its dL/dW, with --digits digits (one sample, Linear layers and "
        "element-wise activations, at most 8 units a layer)",
    )
    trace.set_defaults(func=cmd_trace)

    lab = sub.add_parser("lab", help="train the lab model on linear and xor (the lab defaults)")
    lab.add_argument(
        "--out", type=path, default="runs/lab", help="folder for the runs (default runs/lab)"
    )
    # the suite's runs come from its TOML file (lab_suite gets none of these three)
    only_models = "of the two lab models only; the suite keeps its own"
    lab.add_argument(
        "--epochs", type=integer, help=f"epochs {only_models} (default {RunConfig().epochs})"
    )
    lab.add_argument(
        "--lr", type=number, help=f"learning rate {only_models} (default {RunConfig().lr:g})"
    )
    lab.add_argument(
        "--seed", type=integer, help=f"seed {only_models} (default {RunConfig().seed})"
    )
    lab.add_argument(
        "--print-every",
        type=integer,
        metavar="N",
        help="print the lab's 'epoch E loss : L' line every N epochs of the two lab models "
        f"and at their last (default {RunConfig().print_every}, or a quarter of --epochs when "
        "that is fewer; 0: never)",
    )
    lab.add_argument(
        "--no-progress", action="store_true", help="no progress bar, nor the suite's progress line"
    )
    lab.add_argument(
        "--suite",
        type=path,
        help="experiment suite run after the two lab models, a TOML file or a shipped "
        "suite name (default: lab); it keeps its own settings (refused with --no-suite). "
        "The two lab models stay the handout's (2-10-10-1 on linear and xor), whatever the "
        "suite trains, and the report is the suite's: for another class setup, use "
        "proplab sweep FILE and proplab report",
    )
    lab.add_argument("--no-suite", action="store_true", help="only train the two lab models")
    lab.add_argument("--jobs", type=integer, default=2, help="parallel processes (default 2)")
    add_stack_flags(lab)
    _add_replace_flag(lab, lab_runs=True)
    lab.set_defaults(func=cmd_lab)

    sweep = sub.add_parser("sweep", help="run every configuration of a TOML experiment file")
    sweep.add_argument(
        "file", type=path, help="experiment file (TOML), or a shipped suite name (lab)"
    )
    sweep.add_argument("--out", type=path, required=True, help="sweep folder (rerun to resume)")
    sweep.add_argument("--jobs", type=integer, default=1, help="parallel processes (default 1)")
    add_stack_flags(sweep)
    sweep.add_argument(
        "--figures",
        action="store_true",
        help="also draw every run's PNG figures (slower; the report does not need them)",
    )
    _add_replace_flag(sweep)
    sweep.add_argument(
        "--no-progress", action="store_true", help="no progress line (messages still shown)"
    )
    sweep.set_defaults(func=cmd_sweep)

    report = sub.add_parser("report", help="rebuild report.md/.html from a sweep folder")
    report.add_argument("dir", type=path, help="sweep folder (from proplab sweep or proplab lab)")
    report.add_argument(
        "--jobs", type=integer, default=2, help="processes drawing the figures (default 2)"
    )
    report.add_argument(
        "--no-progress",
        action="store_true",
        help="no 'report: ...' progress lines (the folder written is still named)",
    )
    report.set_defaults(func=cmd_report)

    verify = sub.add_parser(
        "verify",
        help="check run folders: their data, model.npz against summary.json, a rerun",
        description="Check each run folder (a sweep folder: each of its runs): the data "
        "rebuilt from config.json against the fingerprint it recorded, model.npz re-scored "
        "on it against summary.json's loss and accuracy (to 1e-9 relative), history.csv's "
        "last row against summary.json's epochs_run and wall_time_s; with --rerun, the "
        "config trained again must give history.csv and the weights bit for bit. One line "
        "per run; exit code 0 when every run agrees, 1 when any differs.",
    )
    verify.add_argument("dirs", nargs="+", type=path, metavar="RUN_DIR", help="run or sweep folder")
    verify.add_argument(
        "--rerun",
        action="store_true",
        help="also train each run again and compare history.csv and model.npz bit for bit",
    )
    verify.add_argument("--no-progress", action="store_true", help="no progress bar")
    verify.set_defaults(func=cmd_verify)

    play = sub.add_parser(
        "play",
        help="train a network in your browser, watching its boundary and units",
        description="Serve the playground page on this machine: pick a dataset, the "
        "network, the activation, loss and optimizer, and watch the decision boundary, "
        "each hidden unit and the loss as it trains (stop with Ctrl-C).",
    )
    play.add_argument(
        "--host",
        type=host,
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every "
        "interface, and anyone on the network can reset and train the session: no password)",
    )
    play.add_argument(
        "--port", type=integer, default=8000, help="port (default 8000; 0: any free port)"
    )
    play.add_argument("--open", action="store_true", help="open the page in a web browser")
    play.set_defaults(func=cmd_play)
    commands: dict[str, _CommandParser] = sub.choices
    for parser_ in commands.values():  # which other commands take a flag this one lacks
        parser_.elsewhere = {
            flag: [name for name, other in commands.items() if flag in other._option_string_actions]
            for cmd in commands.values()
            for flag in cmd._option_string_actions
            if flag.startswith("--") and flag not in parser_._option_string_actions
        }
    return parser


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


# what a stdout that cannot encode them gets for the few non-ASCII signs proplab prints
# (PYTHONIOENCODING=ascii, or LC_ALL=C with UTF-8 mode off): "0.91 +- 0.02", "R^2"
_PLAIN = {"±": "+-", "²": "^2", "·": "*", "→": "->", "–": "-", "−": "-", "…": "...", "µ": "u"}
_PLAIN_ERRORS = "proplab.plain"


def _plain_text(exc: UnicodeError) -> tuple[str | bytes, int]:
    """A codec error handler: :data:`_PLAIN`'s stand-ins, anything else backslash-escaped
    (as Python's stderr does), instead of a UnicodeEncodeError after the work is done.
    A byte a file name had that the locale could not decode is written back as it was
    (as ``surrogateescape``, the C locale's handler, does)."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    c = exc.object[exc.start]  # one at a time: the encoder calls again for the next
    if "\udc80" <= c <= "\udcff":
        return bytes([ord(c) - 0xDC00]), exc.start + 1
    return _PLAIN.get(c) or c.encode("ascii", "backslashreplace").decode(), exc.start + 1


codecs.register_error(_PLAIN_ERRORS, _plain_text)


def _plain_stdout(stream: Any) -> str | None:
    """Have ``stream`` write :func:`_plain_text` for what its encoding cannot encode;
    return its errors handler before, to restore (``None``: left as it was)."""
    errors = getattr(stream, "errors", None)
    # "surrogateescape": Python's choice for a C locale's stdio (LC_ALL=C, UTF-8 mode off)
    if errors not in ("strict", "surrogateescape") or not hasattr(stream, "reconfigure"):
        return None
    try:
        stream.reconfigure(errors=_PLAIN_ERRORS)
    except (ValueError, OSError):  # closed or detached: leave it
        return None
    return errors


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    errors = _plain_stdout(sys.stdout)
    out = _ReaderGone(sys.stdout)
    sys.stdout = out
    try:
        code = _main(argv)
        out.flush()  # what is still buffered: the reader may have gone meanwhile
    finally:
        sys.stdout = out.stream
        if errors is not None:
            try:
                out.stream.reconfigure(errors=errors)
            except (ValueError, OSError):  # closed, or a reader gone with output buffered
                pass
    return EXIT_BROKEN_PIPE if out.gone else code


# errnos that mean "this could not be written" (other OSErrors name the call that failed)
_WRITE_ERRNOS = WRITE_ERRNOS


def disk_error(exc: OSError, args: argparse.Namespace | None) -> str:
    """One line for an OSError that reached the command line: the path and the reason,
    and for a sweep or the lab that the runs finished before it are kept."""
    reason = exc.strerror or str(exc)
    where = "" if exc.filename is None else f"{os.fsdecode(exc.filename)}: "
    if exc.errno in _WRITE_ERRNOS and exc.filename is not None:
        where = f"cannot write {os.fsdecode(exc.filename)}: "
    kept = ""
    if args is not None and args.command in ("sweep", "lab"):
        kept = " (finished runs are kept; rerun the same command to resume)"
    return f"{where}{reason}{kept}"


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args: argparse.Namespace | None = None
    prog = "proplab"
    try:
        args = parser.parse_args(argv)
        prog = f"proplab {args.command}"
        limit_blas_threads()  # small networks: extra BLAS threads only spin (see threads.py)

        def say(line: str) -> None:  # a big (or slow) CSV file read is said, not read in silence
            print(f"{prog}: {line}", file=sys.stderr)

        # kill PID / a closed terminal stop a command as Ctrl-C does: a run saves what it
        # trained (interrupted.json), a sweep keeps its finished runs
        with stop_signals_as_ctrl_c() as caught, reads_reported(say):
            try:
                return args.func(args)
            except KeyboardInterrupt:
                if not caught:
                    raise
                name = signal.Signals(caught[0]).name
                print(f"{prog}: interrupted by {name}", file=sys.stderr)
                return 128 + caught[0]  # the shell's convention: 143 for SIGTERM
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
    except OSError as exc:  # a full disk, a folder gone or made read-only while writing
        print(f"{prog}: error: {disk_error(exc, args)}", file=sys.stderr)
        return EXIT_FAILED
    except SystemExit as exc:  # --help / --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
