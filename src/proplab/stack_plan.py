"""Which runs of a sweep train together, and in what order.

Runs whose configs differ only in per-replica scalars (seed, learning rate...)
and in variants a stack realises per block of replicas (activation, bias,
optimizer) share a *structure* and can train as one replica stack
(:mod:`proplab.stacking`: K models are one model whose arrays carry a leading
axis of K). Here: that grouping, splitting groups to a memory budget, a time
model of each training unit, and balancing units over worker processes.
"""

from __future__ import annotations

import json
import math
import traceback
from collections.abc import Sequence

from proplab.config import RunConfig

# Scalars that may differ between the replicas of one stack (print_every only
# affects logging) ...
PER_REPLICA = ("seed", "lr", "momentum", "weight_decay", "l1", "print_every")
# ... and choices a stack realises per block of replicas: activations through
# PerReplica, "no bias" as a bias held at zero by a gradient mask, the update
# rule through PerReplicaOptimizer. Everything else in a RunConfig must be equal.
VARIANTS = ("optimizer", "activation", "output_activation", "bias")

DEFAULT_MEMORY_BUDGET = 512 * 2**20  # bytes of arrays one stack may hold
# the largest budget --stack-memory takes, in MB (a petabyte): 1e308 MB in bytes
# overflowed int() (cli20 H6), and no stack of a lab's runs comes near it
MAX_STACK_MB = 10**9


def structure_key(cfg: RunConfig) -> str:
    """Runs with equal keys can share a stack (JSON of every field not per replica or variant)."""
    fields = {k: v for k, v in cfg.to_dict().items() if k not in PER_REPLICA + VARIANTS}
    return json.dumps(fields, sort_keys=True, default=str)


def update_rule(cfg: RunConfig) -> str:
    """The optimizer as a stack sees it: replicas with equal rules share one optimizer."""
    if cfg.optimizer in ("sgd", "momentum"):
        # with momentum 0 SGD's momentum path updates bit for bit as plain SGD
        # does (the buffer is exactly the gradient): one rule, momentum per replica
        return "sgd"
    # RMSprop likewise: with momentum 0 its buffer is exactly g / avg, the step
    # the plain path takes (see proplab.optim.rmsprop_update)
    return cfg.optimizer


def stackable(cfg: RunConfig, n_samples: int) -> bool:
    """Full-batch runs stack; mini-batch runs shuffle with their own seed and do not."""
    return cfg.batch_size is None or cfg.batch_size >= n_samples


def bytes_per_replica(cfg: RunConfig, n_samples: int, n_in: int, n_out: int) -> int:
    """A generous estimate of one replica's arrays: weights, optimizer state, activations."""
    widths = [n_in, *cfg.hidden_sizes, n_out]
    if cfg.model == "conv":
        widths.append(cfg.filters * (n_in + 2 * cfg.padding) * cfg.kernel_size)
    n_params = sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=False))
    # weights + grads + up to three optimizer buffers; ~6 arrays of n x width per layer
    return 8 * (5 * n_params + 6 * n_samples * sum(widths) + 2 * n_samples * (n_in + n_out))


# A rough time model of one epoch of a training unit, in microseconds, fitted on
# the lab suite's ten stacks (2-core AMD EPYC, NumPy 2.4): each epoch pays a fixed
# cost for its NumPy calls (twice that with a Conv1d layer), more for every extra
# activation/optimizer block of a stack, and arithmetic in proportion to replicas
# x samples x (multiply-adds per sample); then writing each run's folder, mostly
# the repr of its loss per epoch. Measured there, every stack's training time was
# within 15 % of the model's and every run alone's within 25 % (over, for the
# smallest nets). Only ratios matter: the sweep's ETA and the order in which
# workers take the units use it.
_CALLS_US = 46.0
_BLOCK_US = 26.0
_SAMPLE_US = 0.066
_MULADD_US = 0.00034
_WRITE_US = 3000.0
_WRITE_EPOCH_US = 1.1


def unit_cost(cfgs: Sequence[RunConfig], n_samples: int, n_in: int, n_out: int) -> float:
    """Estimated microseconds to train ``cfgs`` as one unit (a stack, or one run alone),
    writing their run folders included (that part is :func:`write_cost`)."""
    cfg = cfgs[0]
    calls, muladds = _CALLS_US, 0
    widths = [n_in, *cfg.hidden_sizes, n_out]
    if cfg.model == "conv":  # Conv1d(1, filters) over the inputs, then Linear(maps, hidden)
        maps = cfg.filters * max(n_in + 2 * cfg.padding - cfg.kernel_size + 1, 1)
        calls, muladds = 2 * calls, maps * cfg.kernel_size
        widths = [maps, cfg.hidden_sizes[0], n_out]
    muladds += sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=False))
    batch = cfg.batch_size or n_samples
    batches = -(-n_samples // min(batch, n_samples))  # ceil
    blocks = len({variant(c) for c in cfgs})
    per_epoch = batches * (calls + _BLOCK_US * (blocks - 1))
    per_epoch += len(cfgs) * n_samples * (_SAMPLE_US + _MULADD_US * muladds)
    return max(c.epochs for c in cfgs) * per_epoch + write_cost(cfgs)


def write_cost(cfgs: Sequence[RunConfig]) -> float:
    """The part of :func:`unit_cost` spent writing the runs' folders once trained."""
    return sum(_WRITE_US + _WRITE_EPOCH_US * c.epochs for c in cfgs)


def chunk(indices: Sequence[int], per_replica: int, budget: int) -> list[list[int]]:
    """Split one group into the fewest stacks that each fit in ``budget`` bytes (at
    least one run each), of sizes differing by one at most: 9 runs that fit 4 at a
    time are 3, 3, 3 (not 4, 4 and a leftover run alone)."""
    size = max(1, budget // max(per_replica, 1))
    return even_parts(list(indices), math.ceil(len(indices) / size))


def even_parts(items: list, parts: int) -> list[list]:
    """``items`` in order, cut into ``parts`` runs of lengths differing by one at most
    (the longer ones first): 7 items in 3 parts are 3, 2, 2."""
    small, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        stop = start + small + (i < extra)
        out.append(items[start:stop])
        start = stop
    return out


def group_runs(
    cfgs: Sequence[RunConfig],
    n_samples: Sequence[int],
    per_replica_bytes: Sequence[int],
    budget: int = DEFAULT_MEMORY_BUDGET,
) -> tuple[list[list[int]], list[int]]:
    """``(stacks, singles)``: index lists of runs to train together, and runs to train alone."""
    groups: dict[str, list[int]] = {}
    singles: list[int] = []
    for i, cfg in enumerate(cfgs):
        if stackable(cfg, n_samples[i]):
            groups.setdefault(structure_key(cfg), []).append(i)
        else:
            singles.append(i)
    stacks: list[list[int]] = []
    for members in groups.values():
        if len(members) == 1:
            singles.extend(members)
            continue
        for part in chunk(members, max(per_replica_bytes[i] for i in members), budget):
            if len(part) > 1:
                stacks.append(part)
            else:  # a replica near the budget alone: a single run, not a stack of one
                singles.extend(part)
    return stacks, sorted(singles)


def variant(cfg: RunConfig) -> tuple:
    # activations first: one activation's replicas side by side make the fewest
    # PerReplica blocks (extra calls on every layer, forward and backward); an
    # extra optimizer block costs less (measured 5-9 % faster than rule first)
    return (*model_variant(cfg), update_rule(cfg))


def model_variant(cfg: RunConfig) -> tuple:
    return tuple(getattr(cfg, name) for name in VARIANTS[1:])


def plan_units(
    jobs: Sequence, budget: int = DEFAULT_MEMORY_BUDGET, workers: int = 1
) -> tuple[list, list]:
    """``(units, failures)``: units are ``("stack", members)`` or ``("single", [member])``.

    Each member is ``(job, validated cfg, prepared data)``; jobs whose data
    cannot be loaded come back as ``(job, outcome)`` failures. With
    ``workers`` > 1, a stack costing more than one worker's fair share of the
    work is split (see :func:`balance`), so no worker idles while one trains it.
    """
    members, failures = prepare_members(jobs)
    cfgs = [cfg for _, cfg, _ in members]
    sizes = [p.x.shape[-2] for _, _, p in members]
    per_replica = [
        bytes_per_replica(cfg, p.x.shape[-2], p.x.shape[-1], p.n_out) for _, cfg, p in members
    ]
    stacks, singles = group_runs(cfgs, sizes, per_replica, budget)
    units = [("stack", [members[i] for i in idx]) for idx in stacks]
    units += [("single", [members[i]]) for i in singles]
    units = balance(units, workers)
    # biggest first: with several workers the long stacks should not start last
    units.sort(key=lambda u: -cost_of(u[1]))
    return units, failures


def balance(units: list, workers: int, min_replicas: int = 2) -> list:
    """Split every stack that costs more than ``1/workers`` of all the work into equal parts.

    A sweep whose runs all share one structure is one stack, and one process
    would train it while the others idle; in ``ceil(cost / share)`` parts (at
    most ``workers``, each of at least ``min_replicas`` runs) the workers share
    it. Each part pays the per-call cost again, which a stack of tens of
    replicas hardly notices. Results do not change: replicas never interact.
    """
    if workers <= 1:
        return units
    share = sum(cost_of(members) for _, members in units) / workers
    out = []
    for kind, members in units:
        parts = min(workers, len(members) // min_replicas, math.ceil(cost_of(members) / share))
        if kind != "stack" or parts <= 1:
            out.append((kind, members))
            continue
        # sizes differing by one at most: 7 runs in 3 parts are 3, 2, 2 (ceil-sized slices
        # gave 3, 3, 1: a "stack" of one, below min_replicas)
        out += [("stack", part) for part in even_parts(members, parts)]
    return out


def cost_of(members: Sequence) -> float:
    """:func:`unit_cost` of a unit's ``(job, cfg, prepared data)`` members."""
    x, n_out = members[0][2].x, members[0][2].n_out
    return unit_cost([cfg for _, cfg, _ in members], x.shape[-2], x.shape[-1], n_out)


def prepare_members(jobs: Sequence) -> tuple[list, list]:
    """``(members, failures)``: ``(job, validated cfg, prepared data)`` for each job
    whose data loads, ``(job, outcome)`` for each whose data does not."""
    from proplab.experiments import prepare_run

    members, failures = [], []
    for job in jobs:
        try:
            cfg, prep = prepare_run(job.config)
        except Exception as exc:
            failures.append((job, failed_outcome(exc)))
            continue
        members.append((job, cfg, prep))
    return members, failures


def alone_costs(jobs: Sequence) -> dict[str, float]:
    """:func:`unit_cost` of each job trained on its own, by job name.

    For a sweep run one run at a time: the time model knows the data and
    the model (a Conv1d run costs about twice an MLP run, a mini-batch
    epoch several full-batch ones), where ``RunJob.cost`` knows only epochs
    and widths. Loads each job's data (the lab's take milliseconds); a job
    whose data cannot be loaded is planned at 0 (it will fail at once).
    """
    members, failures = prepare_members(jobs)
    costs = {job.name: 0.0 for job, _ in failures}
    costs.update({m[0].name: cost_of([m]) for m in members})
    return costs


def failed_outcome(exc: BaseException) -> dict:
    """The outcome of a run that raised ``exc`` (what :func:`proplab.sweep.run_job` reports);
    ``"write_error"``: a full disk's line (:func:`proplab.runio.write_error`), which stops
    the sweep, as every run after it would fail the same way."""
    from proplab.runio import write_error

    outcome = {
        "status": "failed",
        "error": f"{type(exc).__name__}: {exc}",
        "traceback": traceback.format_exc(),
    }
    disk = write_error(exc)
    if disk is not None:
        outcome["write_error"] = disk
    return outcome
