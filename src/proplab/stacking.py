"""Train many compatible runs as one replica stack: a stack of models is a leading axis.

On the lab's networks an epoch costs a few dozen NumPy calls of ~1 us each,
whatever the array sizes. Runs that share their structure (data shape,
architecture, activation, loss, optimizer type, epochs...) and differ only in
seed and scalar hyperparameters train together when their weights carry a
leading replica axis: the per-call overhead is paid once for all of them.

Each replica is initialised from its own seed exactly as a lone run would
be, gets its own learning rate (and momentum, weight decay, l1), and stops on
its own (tolerance or divergence, see :func:`proplab.train.fit`), so every
run's history and weights equal those of the same run trained alone, up to
floating-point summation order in the loss value (see ``tests/test_stacking.py``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from proplab.config import RunConfig, build_loss, build_model, input_stats, optimizer_kwargs
from proplab.conv import Conv1d
from proplab.core import Module
from proplab.history import History
from proplab.layers import Linear
from proplab.optim_base import Optimizer
from proplab.parameter import Parameter
from proplab.per_replica import PerReplica, PerReplicaOptimizer
from proplab.progress import PROGRESS_SECONDS
from proplab.registry import resolve
from proplab.stack_plan import (
    DEFAULT_MEMORY_BUDGET,
    cost_of,
    failed_outcome,
    model_variant,
    plan_units,
    structure_key,
    update_rule,
    variant,
    write_cost,
)
from proplab.threads import blas_threads_for_a_run
from proplab.train import fit

if TYPE_CHECKING:  # the workers load multiprocessing: imported where a sweep runs them
    from proplab.sweep_folder import RunJob
    from proplab.sweep_workers import OnDone


@dataclass
class StackedRun:
    """One run of a stack, unstacked: its config, its model and (on demand) its history."""

    cfg: RunConfig
    model: Module
    stack_history: History
    index: int  # this run's replica in the stack

    @property
    def history(self) -> History:
        """The run's own History, built on each access: a stack of 85 runs x 20k
        epochs would hold ~200 MB of Python floats if every one were kept."""
        return self.stack_history.replica(self.index)


def _stacked(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """One shared array when every replica has the same data, else a stack ``(K, ...)``."""
    first = arrays[0]
    if all(a.shape == first.shape and np.array_equal(a, first) for a in arrays[1:]):
        return first
    return np.stack(arrays)


def _per_replica(values: Sequence[float]) -> float | np.ndarray:
    """A float when every replica agrees (keeps the scalar fast path), else an array."""
    return float(values[0]) if len(set(values)) == 1 else np.asarray(values, dtype=np.float64)


def _blocks(cfgs: Sequence[RunConfig], key: Callable[[RunConfig], object]) -> list[list[RunConfig]]:
    """Consecutive runs with equal ``key(cfg)``, as lists."""
    blocks: list[list[RunConfig]] = []
    for c in cfgs:
        if blocks and key(blocks[-1][0]) == key(c):
            blocks[-1].append(c)
        else:
            blocks.append([c])
    return blocks


def build_stack_optimizer(cfgs: Sequence[RunConfig], params: list[Parameter]) -> Optimizer:
    """The optimizer for a stack of ``cfgs``, each replica with its own lr (momentum, L2, L1).

    One rule (see :func:`update_rule`): that optimizer with per-replica
    hyperparameters. Several: a :class:`PerReplicaOptimizer` with one such
    optimizer per block of consecutive replicas of one rule.
    """
    blocks = _blocks(cfgs, update_rule)
    if len(blocks) > 1:
        return PerReplicaOptimizer(
            params,
            [(len(b), functools.partial(build_stack_optimizer, b)) for b in blocks],
        )
    # one rule: every replica's kwargs have the same names (sgd and momentum both take one)
    each = [optimizer_kwargs(c) for c in cfgs]
    kwargs = {name: _per_replica([k[name] for k in each]) for name in each[0]}
    return resolve("optimizer", cfgs[0].optimizer)(params, **kwargs)


def build_stack_model(
    cfgs: Sequence[RunConfig],
    n_in: int,
    n_out: int,
    stats: tuple[np.ndarray, np.ndarray] | None = None,
) -> Module:
    """One replica stack for ``cfgs`` (one structure, see :func:`structure_key`).

    Replica k is initialised exactly as ``build_model(cfgs[k], ...)``; with
    ``standardize``, ``stats`` are the replicas' ``(mean, std)`` ``(K, n_in)`` each (each
    run's own training rows', see :func:`train_stack`). Where the
    configs differ in activations, that layer becomes a :class:`PerReplica`;
    where some have no bias, every Linear gets a bias, held at zero for those
    replicas by a ``grad_mask`` (adding 0.0 changes no value).
    """
    has_bias = np.array([c.bias for c in cfgs])
    base = cfgs[0].replace(bias=bool(has_bias.any()))
    stack = build_model(base, n_in, n_out, seeds=[c.seed for c in cfgs], stats=stats)
    if not has_bias.all():
        # the weighted layers' biases only: batchnorm's shift (also "bias") is there
        # with or without them
        for module in stack.modules():
            p = module.params.get("bias") if isinstance(module, Linear | Conv1d) else None
            if p is not None:
                # (K, 1, ...) of 0/1: replicas without a bias never move theirs off 0
                mask = has_bias.reshape((-1,) + (1,) * (p.data.ndim - 1))
                p.grad_mask = mask.astype(p.data.dtype)
    blocks = _blocks(cfgs, model_variant)
    if len(blocks) == 1:
        return stack
    # each block's own model (its weights do not matter: only parameterless layers are used)
    models = [
        (len(b), build_model(b[0], n_in, n_out, rng=np.random.default_rng(0))) for b in blocks
    ]
    for i, layer in enumerate(stack.layers):
        if layer.has_parameters():
            continue
        own: list[tuple[int, Module]] = []
        for count, model in models:
            if own and repr(own[-1][1]) == repr(model.layers[i]):
                own[-1] = (own[-1][0] + count, own[-1][1])  # same module as the block before
            else:
                own.append((count, model.layers[i]))
        if len(own) > 1:
            stack.layers[i] = PerReplica(own)
    return stack


def train_stack(
    cfgs: Sequence[RunConfig],
    xs: Sequence[np.ndarray],
    ys: Sequence[np.ndarray],
    n_out: int,
    on_progress: Callable[[float], None] | None = None,
    callback: Callable[[int, History], None] | None = None,
) -> list[StackedRun]:
    """Train ``cfgs`` (one structure, see :func:`structure_key`) as one stack.

    ``xs[k]``, ``ys[k]`` are replica k's training data ``(n, in)``, ``(n, out)``.
    Returns one :class:`StackedRun` per config, in the order given, with a
    single (unstacked) model holding that replica's final weights and its own
    history. ``on_progress(fraction)``, if given, hears the fraction of the
    epochs done about a hundred times during training; ``callback(epoch, history)``
    is called by :func:`~proplab.train.fit` as often.
    """
    keys = {structure_key(c) for c in cfgs}
    if len(keys) != 1:
        raise ValueError("train_stack needs runs of one structure (see structure_key)")
    # replicas of one variant side by side: fewest PerReplica blocks and optimizers
    order = sorted(range(len(cfgs)), key=lambda k: json.dumps(variant(cfgs[k])))
    cfgs = [cfgs[k] for k in order]
    x, y = _stacked([xs[k] for k in order]), _stacked([ys[k] for k in order])
    n_in = x.shape[-1]
    cfg = cfgs[0]
    stats = None
    if cfg.standardize:
        # each run's statistics from its own training rows (a generated dataset's differ
        # with the seed), computed as the run alone computes them: the same bits
        own = [input_stats(c, xs[k]) for c, k in zip(cfgs, order, strict=True)]
        pairs = [p for p in own if p is not None]  # all: standardize is in structure_key
        assert len(pairs) == len(own)
        stats = (np.stack([m for m, _ in pairs]), np.stack([s for _, s in pairs]))
    stack = build_stack_model(cfgs, n_in, n_out, stats)
    optimizer = build_stack_optimizer(cfgs, stack.parameters())
    hook = callback
    if on_progress is not None:

        def hook(epoch: int, history: History) -> None:
            on_progress(epoch / cfg.epochs)
            if callback is not None:
                callback(epoch, history)

    history = fit(
        stack,
        build_loss(cfg),
        optimizer,
        x,
        y,
        cfg.epochs,
        tol=cfg.tol,
        callback=hook,
        callback_every=max(100, cfg.epochs // 100),
        callback_seconds=PROGRESS_SECONDS,
    )
    runs: dict[int, StackedRun] = {}  # by the index of its config in those given
    # the weights and the buffers (batchnorm's running statistics) of every replica
    stacked_state = {name: p.data for name, p in stack.named_parameters()}
    stacked_state.update(stack.named_buffers())
    for k, c in enumerate(cfgs):
        single = build_model(c, n_in, n_out)
        names = single.state_dict()  # without a bias, fewer than the stack has
        single.load_state_dict({name: stacked_state[name][k] for name in names})
        runs[order[k]] = StackedRun(c, single, history, k)
    return [runs[i] for i in range(len(cfgs))]


# ---------------------------------------------------------------------------
# The sweep runner: same signature as proplab.sweep.run_jobs


class StackInterrupted(KeyboardInterrupt):
    """Ctrl-C while a stack's runs were written: ``outcomes`` of those already finished.

    Each run is written whole (see :func:`proplab.runio.uninterrupted`): the Ctrl-C
    lands between two runs, and the ones before it are finished, not lost.
    """

    def __init__(self, outcomes: list[tuple[str, dict]]) -> None:
        super().__init__()
        self.outcomes = outcomes


def run_stack_unit(
    members: list,
    on_progress: Callable[[float], None] | None = None,
    callback: Callable[[int, History], None] | None = None,
) -> list[tuple[str, dict]]:
    """Train one stack of ``(job, cfg, prep)`` and finish each run's folder.

    Returns ``(job name, outcome)`` per member. A Ctrl-C during training
    writes nothing (those runs were not finished) and re-raises; one while the
    runs are written raises :class:`StackInterrupted` with the runs finished so far.
    ``on_progress(fraction)`` hears how far training has got (see :func:`train_stack`);
    ``callback(epoch, history)`` is passed on to :func:`~proplab.train.fit` (a sweep
    worker's stop request).
    Trains with the CLI's BLAS threads, as :func:`proplab.experiments.run_one` does (the
    same bits from Python as from the command line), and records them in config.json.
    """
    with blas_threads_for_a_run():
        return _run_stack_unit(members, on_progress, callback)


def _run_stack_unit(
    members: list,
    on_progress: Callable[[float], None] | None,
    callback: Callable[[int, History], None] | None = None,
) -> list[tuple[str, dict]]:
    import time

    from proplab.experiments import finish_run, start_run_dir
    from proplab.runio import uninterrupted

    start = time.perf_counter()
    cfgs = [cfg for _, cfg, _ in members]
    try:
        runs = train_stack(
            cfgs,
            [p.x for _, _, p in members],
            [p.y for _, _, p in members],
            members[0][2].n_out,
            on_progress,
            callback,
        )
    except Exception as exc:  # a broken group fails its runs, not the sweep
        return [(job.name, failed_outcome(exc)) for job, _, _ in members]
    if runs and runs[0].stack_history.stop_reason == "interrupted":
        raise KeyboardInterrupt
    seconds = time.perf_counter() - start
    outcomes: list[tuple[str, dict]] = []
    try:
        for (job, cfg, prep), run in zip(members, runs, strict=True):
            # one run at a time, whole: a Ctrl-C waits for the run in hand, then stops
            # the rest (each would take as long again)
            with uninterrupted():
                try:
                    run_dir = start_run_dir(cfg, job.run_dir, prep)  # its data: no rebuild
                    summary = finish_run(
                        cfg,
                        run_dir,
                        run.model,
                        build_loss(cfg),
                        run.history,
                        prep,
                        None,  # print nothing
                        extra={"stacked_with": len(members), "stack_wall_time_s": seconds},
                        figures=job.figures,
                    )
                except Exception as exc:
                    outcomes.append((job.name, failed_outcome(exc)))
                    continue
                outcomes.append(
                    (job.name, {"status": "done", "summary": summary, "seconds": seconds})
                )
    except KeyboardInterrupt:
        raise StackInterrupted(outcomes) from None
    return outcomes


# In worker processes: a shared array (one slot per unit) of the fraction of
# its epochs each stack has trained, which the parent reads for the progress line.
_PROGRESS: Any = None


def _init_stack_worker(stop: Any, progress: Any) -> None:
    from proplab import sweep_workers

    global _PROGRESS
    _PROGRESS = progress
    sweep_workers.init_worker(stop)


def _run_unit(
    index: int, unit: tuple[str, list], on_progress: Callable[[float], None] | None = None
) -> list[tuple[str, dict]]:
    """Train one unit (a stack, or a single run); ``(job name, outcome)`` per run.

    After Ctrl-C the runs already written are reported ``done`` (the last of them
    marked ``"stopped"`` when no run is left interrupted, so the caller still stops)
    and the others ``interrupted``. In a worker, the unit's training fraction goes to
    the shared progress slot ``index``, and training stops when the sweep asks.
    """
    from proplab import sweep_workers

    kind, members = unit
    if sweep_workers.STOP is not None and sweep_workers.STOP.is_set():
        return [(job.name, {"status": "cancelled"}) for job, _, _ in members]
    if on_progress is None and _PROGRESS is not None:
        shared = _PROGRESS

        def on_progress(fraction: float) -> None:
            shared[index] = fraction

    if kind == "single":
        job = members[0][0]
        return [(job.name, sweep_workers.run_job(job, progress=on_progress))]
    try:
        stop = sweep_workers.stop_callback(members[0][1].epochs)
        return run_stack_unit(members, on_progress, stop)
    except KeyboardInterrupt as exc:
        written = list(getattr(exc, "outcomes", []))
        rest = [(job.name, {"status": "interrupted"}) for job, _, _ in members[len(written) :]]
        if not rest and written:
            written[-1] = (written[-1][0], {**written[-1][1], "stopped": True})
        return written + rest


def run_stacked(
    jobs: Sequence[RunJob],
    *,
    workers: int = 1,
    on_done: OnDone,
    on_progress: Callable[[float], None] | None = None,
    on_plan: Callable[[dict[str, float]], None] | None = None,
    on_stop: Callable[[int, int], None] | None = None,
    budget: int = DEFAULT_MEMORY_BUDGET,
    poll_seconds: float = 0.5,
) -> None:
    """Sweep runner (``proplab.sweep.Runner``): compatible runs train as replica stacks.

    Runs whose structure matches (see :func:`structure_key`) are trained
    together, at most ``budget`` bytes of arrays per stack; the rest run one
    by one as usual. ``workers`` > 1 spreads stacks over processes.
    ``on_plan(costs)``, if given, hears once, before training, what each
    job will cost here (:func:`unit_cost` of its unit, shared equally among
    its runs; 0 for a run whose data failed to load): a run in a stack of
    85 costs far less than one in a stack of 5, which ``RunJob.cost`` cannot
    know. ``on_progress(cost)``, if given, then hears (every
    ``poll_seconds`` with workers) how much of the stacks in training is
    done, in those units: a stack of many long runs reports nothing to
    ``on_done`` until it ends, and the progress line should still move.
    Raises KeyboardInterrupt on Ctrl-C after the units in flight stop (with
    workers, ``on_stop(runs, stacked)`` first hears how many runs it waits for, and how
    many of them are in stacks (which save nothing when stopped); the
    workers stop their training at once, and a second Ctrl-C abandons them);
    finished run folders are never touched again.
    """
    from proplab.sweep_workers import WORKER_DIED, run_in_pool, stops_sweep

    by_name = {job.name: job for job in jobs}
    units, failures = plan_units(jobs, budget, workers)
    costs = [cost_of(members) for _, members in units]
    # in-flight progress counts training; writing the folders follows, then on_done
    training = [
        cost - write_cost([m[1] for m in members])
        for cost, (_, members) in zip(costs, units, strict=True)
    ]
    if on_plan is not None:
        planned = {job.name: 0.0 for job, _ in failures}
        for cost, (_, members) in zip(costs, units, strict=True):
            planned.update({m[0].name: cost / len(members) for m in members})
        on_plan(planned)
    for job, outcome in failures:
        on_done(job, outcome)

    def report(results: list[tuple[str, dict]]) -> None:
        # the runs finished are reported even when Ctrl-C came: they are kept
        for name, outcome in results:
            if outcome["status"] != "interrupted":
                on_done(by_name[name], outcome)
        if any(stops_sweep(outcome) for _, outcome in results):
            raise KeyboardInterrupt

    if workers <= 1 or len(units) <= 1:
        for i, unit in enumerate(units):
            hook = None
            if on_progress is not None:

                def hook(fraction: float, cost: float = training[i]) -> None:
                    on_progress(cost * fraction)

            report(_run_unit(i, unit, hook))
        return

    def _waiting_for(running: list[int]) -> tuple[int, int]:
        """(runs in progress, how many of them are in stacks, which save nothing)."""
        runs = [(kind, len(members)) for kind, members in (units[i] for i in running)]
        return sum(n for _, n in runs), sum(n for kind, n in runs if kind == "stack")

    def dead(i: int, exc: Exception) -> list[tuple[str, dict]]:
        err = {"status": "failed", "error": f"{WORKER_DIED} ({exc})"}
        return [(m[0].name, err) for m in units[i][1]]

    run_in_pool(
        [(_run_unit, (i, unit)) for i, unit in enumerate(units)],
        workers=workers,
        initializer=_init_stack_worker,
        costs=training,
        on_result=lambda i, results: report(results),
        on_dead=dead,
        on_progress=on_progress,
        on_stop=None if on_stop is None else lambda running: on_stop(*_waiting_for(running)),
        poll_seconds=poll_seconds,
    )
