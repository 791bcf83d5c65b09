"""The commands of ``proplab``: ``cmd_train``, ``cmd_predict``, ``cmd_gradcheck``,
``cmd_trace``, ``cmd_lab``, ``cmd_sweep``, ``cmd_report``, ``cmd_verify`` and ``cmd_play``,
each taking the parsed arguments and returning the exit code.

Bad input raises :class:`UsageError` (a whole line, printed as it is) or
:class:`~proplab.config.ConfigError` (``field: message``, which :func:`proplab.cli.main`
words as the flag's error).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from proplab import dataload
from proplab.cli_flags import as_flags, config_from, quarter_print_every, refuse_ignored_flags
from proplab.config import ConfigError, RunConfig

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad command-line input; the message is the one line to print."""


def _dataset_defaults_note(args: argparse.Namespace, cfg: RunConfig) -> str | None:
    """One line naming the dataset's own defaults this run used (the flags not given),
    or None; ``--optimizer sgd`` with digits keeps the lr chosen for Adam, which it says."""
    own = dataload.dataset_defaults(cfg.dataset, cfg.task, cfg.model)
    used = {k: v for k, v in own.items() if getattr(args, k, None) is None and getattr(cfg, k) == v}
    if not used:
        return None
    note = (
        f"proplab {args.command}: --dataset {cfg.dataset} used its own defaults for the "
        f"options not given: {as_flags(used, cfg.model)}"
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
    extras = ("-std" if cfg.standardize else "") + extras  # not the raw-input run's folder
    name = f"{Path(str(cfg.dataset)).stem}-{cfg.model}-h{hidden}-{cfg.activation}{extras}-{cfg.optimizer}-lr{cfg.lr:g}-seed{cfg.seed}"
    from proplab.runio import short_folder_name

    return Path("runs") / "train" / short_folder_name(name)


def _regression_reason_first(cfg: RunConfig) -> None:
    """A regression's refused loss or output, named before ``validate`` would blame
    something else (``--dataset plane --loss bce``: "bce needs a sigmoid output")."""
    problem = dataload.regression_problem(cfg)
    if problem is not None:
        raise problem


def cmd_train(args: argparse.Namespace) -> int:
    """``proplab train``: one run, the lab's printout, a run folder."""
    cfg = quarter_print_every(args, config_from(args))
    _regression_reason_first(cfg)
    checked = cfg.validate()
    refuse_ignored_flags(args, checked)
    from proplab.runio import folder_lock
    from proplab.train_out import check_out_folder, free_default_folder

    if args.out:
        out = Path(args.out)
    else:
        # the default folder is named after a few settings only: a run of another
        # configuration there (another --epochs) is kept, and this one goes beside it
        out, note = free_default_folder(_default_out(cfg), checked, replace=args.replace)
        if note:
            print(f"proplab train: {note}", file=sys.stderr)
    # a second train into this run folder is refused while this one runs (robust22 H1)
    with folder_lock(out, "train"):
        if args.out:
            check_out_folder(out, checked, replace=args.replace)  # before anything is written
        return _train_into(args, cfg, checked, out)


def _train_into(args: argparse.Namespace, cfg: RunConfig, checked: RunConfig, out: Path) -> int:
    """:func:`cmd_train` once ``out`` is checked and locked: train, save, say what it did."""
    from proplab.experiments import run_one

    log: Callable[[str], Any] = (lambda line: None) if args.quiet else print
    try:
        summary = run_one(cfg, out, log=log, progress=not args.no_progress)
    except KeyboardInterrupt:
        # a Ctrl-C while the trained run was written waits for the writing: the run is
        # whole (a stale summary.json is removed when a run starts, so this one is ours)
        if (out / "summary.json").is_file():
            print(f"run saved to {out} (finished before the Ctrl-C)", file=sys.stderr)
        elif args.quiet and (out / "interrupted.json").is_file():
            # the lab's lines, which say where it went, are hidden: --quiet's help promises
            # that stderr still says where a run was saved
            print(f"partial run saved to {out} (interrupted.json)", file=sys.stderr)
        raise
    diverged = summary["stop_reason"] == "diverged"
    if diverged and args.quiet:  # exit 1 must say why even when the lab's lines are hidden
        print(f"proplab train: {summary['message']}", file=sys.stderr)
    # after the run, beside its result (and not before a bad-data error, which is one line)
    note = _dataset_defaults_note(args, checked)
    if note is not None:
        print(note, file=sys.stderr)
    for run_note in summary.get("notes", []):
        print(f"proplab train: {run_note}", file=sys.stderr)
    for scale in (dataload.input_scale_note(checked), dataload.target_scale_note(checked)):
        if scale is not None:
            print(f"proplab train: {scale}", file=sys.stderr)
    standardized = _standardized_note(checked, out) if not diverged else None
    if standardized is not None:
        print(f"proplab train: {standardized}", file=sys.stderr)
    print(f"run saved to {out}", file=sys.stderr)
    return EXIT_FAILED if diverged else EXIT_OK


def _standardized_note(cfg: RunConfig, out: Path) -> str | None:
    """With ``--standardize``, what the inputs were standardised with: each column's mean
    and standard deviation over the training rows, which the saved model keeps (csv18:
    nothing said what --standardize had done)."""
    if not cfg.standardize or not (out / "model.npz").is_file():
        return None
    from proplab.core import Sequential
    from proplab.features import Standardize
    from proplab.serialize import load

    model = load(out / "model.npz")  # train saved it: a Sequential, Standardize first
    first = model.layers[0] if isinstance(model, Sequential) else model
    if not isinstance(first, Standardize):
        return None
    names = dataload.csv_summary(cfg).get("features") or [
        f"x{k + 1}" for k in range(first.mean.shape[-1])
    ]
    columns = dataload.first_columns(
        [
            f"{name} {m:.4g} ± {s:.4g}"
            for name, m, s in zip(names, first.mean, first.std, strict=True)
        ]
    )
    return (
        f"inputs standardised with the training rows' mean ± standard deviation: {columns} "
        "(model.npz keeps them: it takes raw rows)"
    )


def cmd_gradcheck(args: argparse.Namespace) -> int:
    """``proplab gradcheck``: every backward of the configured network against central
    differences; exit 1 when one is over the tolerance."""
    from proplab.model_check import CheckTooLargeError, check_config, format_check

    if args.samples < 1:
        raise UsageError(
            f"proplab gradcheck: error: argument --samples: must be >= 1, got {args.samples}"
        )
    # (--eps's type, cli_flags.eps_step, keeps it within gradcheck_numeric.EPS_RANGE)
    if not (math.isfinite(args.tolerance) and args.tolerance > 0):
        raise UsageError(
            "proplab gradcheck: error: argument --tolerance: must be a number > 0, got "
            f"{args.tolerance:g}"
        )
    cfg = config_from(args)
    _regression_reason_first(cfg)
    refuse_ignored_flags(args, cfg.validate())
    try:
        check = check_config(cfg, args.samples, eps=args.eps, tolerance=args.tolerance)
    except CheckTooLargeError as exc:
        raise UsageError(f"proplab gradcheck: error: {exc}") from None
    print(format_check(check))
    # incomplete (arrays a kink kept from being compared) is no failure: exit 0, and said
    return EXIT_FAILED if check.failed else EXIT_OK


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
        from proplab.runio import TRACE_FIGURE, png_text

        problem = _new_file_problem(
            figure,
            (figure.suffix.lower() != ".png", "is not a .png file (the figure is a PNG)"),
            # only a figure trace drew is replaced, not a picture of the user's (cli20 L12)
            (
                figure.exists() and png_text(figure, "Source") != TRACE_FIGURE,
                "exists and is not a figure proplab trace drew (one it drew is replaced)",
            ),
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
    cfg = config_from(args)
    _regression_reason_first(cfg)
    refuse_ignored_flags(args, cfg.validate())
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

    from proplab.sweep import choose_runner, load_suite

    started = time.perf_counter()
    # every input is checked before any training (lab() checks the settings and its folders)
    if args.jobs < 1:
        raise UsageError(f"proplab lab: error: argument --jobs: must be >= 1, got {args.jobs}")
    if args.no_suite and args.suite is not None:  # one of them would be ignored (cli20 L13)
        raise UsageError(
            f"proplab lab: error: argument --suite: {args.suite!r} is not run with "
            "--no-suite; give one of the two"
        )
    runner = choose_runner(args.stack, args.stack_memory)
    spec = None if args.no_suite else load_suite(args.suite or "lab")
    # a short demo run still shows its loss falling (the default 5000 would print none)
    base = quarter_print_every(args, config_from(args))
    from proplab.runio import folder_lock

    # the lab's sweep takes the same lock again; another lab or sweep here is refused
    with folder_lock(args.out, "lab"):
        return _lab_into(args, base, spec, runner, started)


def _lab_into(
    args: argparse.Namespace, base: RunConfig, spec: Any, runner: Any, started: float
) -> int:
    """:func:`cmd_lab` once ``args.out`` is locked: the two lab runs, then the suite."""
    from proplab.data import LAB_DATASETS
    from proplab.experiments import lab
    from proplab.runio import ensure_writable_dir
    from proplab.sweep import RUNS_DIR, check_same_sweep, lab_suite
    from proplab.train_out import check_out_folder

    if spec is not None:
        ensure_writable_dir(Path(args.out) / RUNS_DIR)
        if not args.replace:  # another sweep's folder: refused before the lab runs train
            check_same_sweep(spec, Path(args.out), replace=False, stream=sys.stderr)
    for name in LAB_DATASETS:  # the two runs' folders, as train --out (verify20 N3)
        check_out_folder(
            Path(args.out) / name, base.replace(dataset=name).validate(), replace=args.replace
        )
    results = lab(args.out, base, progress=not args.no_progress)
    for name, summary in results.items():  # on stderr, as proplab train says them (ta23 M6)
        for note in summary.get("notes", []):
            print(f"proplab lab: {name}: {note}", file=sys.stderr)
    where = " and ".join(str(Path(args.out) / name) for name in results)
    print(f"lab runs saved to {where}")
    failed = [name for name, s in results.items() if s["stop_reason"] == "diverged"]
    if spec is not None:  # then every experiment of the suite, and the report
        code = lab_suite(
            spec,
            args.out,
            jobs=args.jobs,
            started=started,
            runner=runner,
            replace=args.replace,
            progress=not args.no_progress,
        )
        if code:
            return code
    return EXIT_FAILED if failed else EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    """``proplab sweep FILE --out DIR [--jobs N]``: every configuration of a TOML file."""
    from proplab.sweep import main as sweep_main

    return sweep_main(
        args.file,
        args.out,
        args.jobs,
        args.stack,
        args.stack_memory,
        figures=args.figures,
        replace=args.replace,
        progress=not args.no_progress,
    )


def cmd_report(args: argparse.Namespace) -> int:
    """``proplab report DIR``: report.md + report.html from a sweep folder, no training."""
    from proplab.report import main as report_main

    if args.jobs < 1:
        raise UsageError(f"proplab report: error: argument --jobs: must be >= 1, got {args.jobs}")
    return report_main(args.dir, jobs=args.jobs, progress=not args.no_progress)


def cmd_verify(args: argparse.Namespace) -> int:
    """``proplab verify RUN_DIR [RUN_DIR ...] [--rerun]``: does each run folder agree with
    itself (and, with --rerun, with a new run of its config)? 0 yes, 1 no."""
    from proplab.verify import run_folders, verify

    for folder in args.dirs:  # every path checked before the first run is
        run_folders(folder)
    checks = verify(args.dirs, rerun=args.rerun, progress=not args.no_progress)
    unchecked = sum(bool(c.unchecked) for c in checks)
    differ = sum(not c.ok for c in checks) - unchecked
    n = len(checks)
    print(
        f"{n - differ - unchecked} of {n} run{'s' if n != 1 else ''} agree"
        + (f"; {differ} differ{'s' if differ == 1 else ''}" if differ else "")
        + (f"; {unchecked} could not be checked" if unchecked else "")
    )
    return EXIT_FAILED if differ or unchecked else EXIT_OK


def cmd_play(args: argparse.Namespace) -> int:
    """``proplab play``: the playground page on a local server, until Ctrl-C."""
    from proplab.playground_server import serve

    if not 0 <= args.port <= 65535:
        raise UsageError(
            f"proplab play: error: argument --port: must be from 0 to 65535, got {args.port}"
        )
    try:
        serve(args.host, args.port, open_browser=args.open)
    except OSError as exc:  # the port taken, the host unknown
        raise UsageError(f"proplab play: error: {exc}") from None
    return EXIT_OK


def _new_file_problem(path: Path, *more: tuple[bool, str]) -> str | None:
    """Why ``path`` cannot be written as a new file, in words ("is a folder", "has no folder
    'x'", "is in a folder this user cannot write, 'x'"), else the words of the first of
    ``more`` (a test that holds, its words); None when nothing stands in the way."""
    if path.is_dir():
        return "is a folder"
    if not path.parent.is_dir():
        return f"has no folder {str(path.parent)!r}"
    if not os.access(path.parent, os.W_OK):
        return f"is in a folder this user cannot write, {str(path.parent)!r}"
    return next((words for holds, words in more if holds), None)


def cmd_predict(args: argparse.Namespace) -> int:
    """``proplab predict RUN_DIR --data FILE [--out FILE.csv]``: a run's model on the rows
    of a CSV file, as CSV on stdout (or in ``--out``); the score on labelled rows and a
    note of where the rows went on stderr."""
    from proplab.predict import (
        PredictError,
        open_run,
        output_header,
        output_names,
        predict,
        read_rows,
        write_csv,
    )
    from proplab.runio import atomic_open

    out = None if args.out is None else Path(args.out)
    if out is not None:  # before anything is predicted (predict_out says what is replaced)
        from proplab.predict_out import out_problem

        problem = out_problem(out, Path(args.data), Path(args.run_dir))
        if problem is not None:
            raise UsageError(
                f"proplab predict: error: argument --out: {str(out)!r} {problem}; give a new "
                ".csv file in a folder you can write"
            )
    try:
        run = open_run(args.run_dir)
        rows = read_rows(run, args.data)
        predicted = predict(run, rows)
        header = output_header(rows, predicted, output_names(run, rows))
    except PredictError as exc:
        raise UsageError(f"proplab predict: error: {exc}") from None
    if run.interrupted:
        print(
            f"proplab predict: {run.run_dir} was interrupted (Ctrl-C) after "
            f"{run.summary.get('epochs_run', '?')} of {run.cfg.epochs} epochs: these are the "
            "predictions of the weights it had then",
            file=sys.stderr,
        )
    if out is None:
        write_csv(sys.stdout, rows, predicted, header)
    else:
        with atomic_open(out, "w") as file:  # whole or not at all
            write_csv(file, rows, predicted, header)
    n = len(rows.table)
    if predicted.score is not None:
        print(f"proplab predict: {predicted.score}", file=sys.stderr)
    where = "stdout" if out is None else str(out)
    print(
        f"proplab predict: {n} row{'s' if n != 1 else ''} predicted by {run.run_dir} -> {where}",
        file=sys.stderr,
    )
    return EXIT_OK
