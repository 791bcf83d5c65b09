"""``proplab trace``: one training step of the network a RunConfig describes, every number.

:func:`trace_config` builds the data, model, loss and optimizer exactly as ``proplab
train`` does (same seed, same data preparation, same BLAS threads), optionally trains
``after`` epochs as that run would, and traces the next step on the first ``samples``
training rows (:func:`proplab.trace.trace_step`). With every training row and full
batches, the traced step is epoch ``after + 1`` of ``proplab train`` with the same
options, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from proplab.config import ConfigError, RunConfig, network_label
from proplab.progress import PROGRESS_SECONDS, ProgressBar
from proplab.run_parts import build_run_parts
from proplab.threads import blas_threads_for_a_run
from proplab.trace import StepTrace, trace_step

# a trace of more samples than this is refused: 30 000 rows printed 540 068 lines (49 MB)
MAX_TRACED_SAMPLES = 1000


def trace_config(
    cfg: RunConfig,
    samples: int | None = 1,
    after: int = 0,
    check: bool = True,
    row: int | None = None,
    progress: bool = False,
) -> StepTrace:
    """Trace one step of ``cfg``'s network on its first ``samples`` training rows (None:
    all of them), or on training row ``row`` alone (0-based), after ``after`` epochs of
    the training ``proplab train`` would do.

    ``progress``: progress bars on stderr (a terminal only) for the ``after`` epochs and
    the gradient check, which take a while on a large network (digits: ~25 s).

    Raises ConfigError for an invalid config, ``samples`` outside 1..rows, ``row``
    outside 0..rows - 1 or given with ``samples`` other than 1, or a negative ``after``.
    """
    from proplab.experiments import prepare_run

    if not (isinstance(after, int) and after >= 0):
        raise ConfigError(f"after: must be a whole number of epochs >= 0, got {after!r}")
    cfg, prep = prepare_run(cfg)
    x, y = prep.x, prep.y
    rows = x.shape[0]
    if row is not None:
        if samples != 1:
            raise ConfigError(
                f"row: a step on one row takes --samples 1 (the default), got --samples "
                f"{'all' if samples is None else samples}"
            )
        if not (isinstance(row, int) and 0 <= row < rows):
            raise ConfigError(
                f"row: must be from 0 to {rows - 1} (the training rows of {cfg.dataset}), "
                f"got {row!r}"
            )
    asked = samples
    if samples is None:
        samples = rows
    if not (isinstance(samples, int) and 1 <= samples <= min(rows, MAX_TRACED_SAMPLES)):
        most = min(rows, MAX_TRACED_SAMPLES)
        if isinstance(samples, int) and MAX_TRACED_SAMPLES < samples <= rows:
            raise ConfigError(
                f"samples: a trace prints every number of every sample, so at most "
                f"{MAX_TRACED_SAMPLES:,} (a hand calculation follows 1 to 4), got "
                f"{'all' if asked is None else samples} ({rows:,} training rows); proplab "
                "gradcheck checks the gradients on many rows"
            )
        # the most is the training rows, or the trace's cap on a bigger file (mut20: 1 000
        # was called "the training rows" of a file of 1 001)
        why = (
            f"the training rows of {cfg.dataset}"
            if most == rows
            else f"a trace's most; {cfg.dataset} has {rows:,} training rows"
        )
        raise ConfigError(f"samples: must be from 1 to {most} ({why}) or 'all', got {samples!r}")
    if cfg.batchnorm and samples < 2:
        raise ConfigError(
            f"samples: a batchnorm network needs at least 2 samples in a step (a batch of "
            f"one has no variance to normalise by), got {samples}"
        )
    with blas_threads_for_a_run():
        parts = build_run_parts(cfg, prep)
        model, loss_fn, optimizer = parts.model, parts.loss_fn, parts.optimizer
        trained, stopped_at_tol = 0, False
        if after:
            # the first epochs of proplab train's run (its batches, its tol: it stops there)
            bar = ProgressBar(after, desc=cfg.dataset, enabled=None if progress else False)
            history = parts.fit(
                after,
                callback=bar.fit_callback() if bar.enabled else None,
                callback_every=100,
                callback_seconds=PROGRESS_SECONDS,
            )
            bar.close()
            if history.stop_reason == "interrupted":
                # fit kept the Ctrl-C as its stop reason: the command stops as train does
                # (exit 130), not with a trace of an epoch no one asked for (cli20 H7)
                raise KeyboardInterrupt
            if history.stop_reason == "diverged":
                # a NaN model's trace would read as a wrong backward (its check fails)
                raise ConfigError(f"after: {history.message}")
            trained = history.epochs_run
            stopped_at_tol = history.stop_reason == "converged" and cfg.tol is not None
        picked = slice(0, samples) if row is None else slice(row, row + 1)
        which = "" if row is None else f", training row {row}"
        title = (
            f"One training step of {network_label(cfg, x.shape[-1], prep.n_out)} "
            f"({cfg.activation}, output {cfg.output_activation}, {cfg.loss} loss) on "
            f"{cfg.dataset}, seed {cfg.seed}, "
            + (f"after {trained:,} epochs of training" if trained else "at its initial weights")
            + (f" (stopped at the loss tol {cfg.tol:g})" if stopped_at_tol else "")
            + which
        )
        checking = ProgressBar(
            1, desc="gradient check", enabled=None if progress and check else False, unit="weight"
        )
        trace = trace_step(
            model,
            loss_fn,
            np.array(x[picked]),
            np.array(y[picked]),
            optimizer,
            check=check,
            title=title,
            progress=_ticks(checking) if checking.enabled else None,
        )
        if checking.enabled:
            checking.update(checking.count, force=True)  # its last state, then off the line:
            checking.clear()  # the trace's text follows
        return trace


def _ticks(bar: ProgressBar) -> Callable[[int, int], None]:
    """``progress(done, total)`` drawing ``bar``."""

    def tick(done: int, total: int) -> None:
        bar.total = total
        bar.update(done)

    return tick
