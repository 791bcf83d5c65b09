"""Tests written to kill mutants of the replica-stack code that the rest of the suite let live.

Each test states the behaviour a plausible slip would break, and its docstring names
that slip ("mutant: ..."). They train small stacks for a few dozen epochs and compare
every replica with the same run trained alone, or read back what a stacked sweep wrote.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from test_stacking import _alone, _assert_stack_equals_alone

from proplab import stacking, sweep, sweep_workers
from proplab.config import RunConfig, build_loss, build_model, build_optimizer
from proplab.experiments import prepare_run
from proplab.train import fit


def _xor() -> tuple[np.ndarray, np.ndarray]:
    from proplab.data import generate_xor_easy

    x, y = generate_xor_easy()
    return x, y.astype(np.float64)


def _members(tmp_path: Path, cfgs: list[RunConfig]) -> list:
    """Plan members ``(job, cfg, prepared data)`` of ``cfgs``, run folders under ``tmp_path``."""
    out = []
    for i, c in enumerate(cfgs):
        cfg, prep = prepare_run(c)
        out.append((sweep.RunJob(f"r{i}", cfg, tmp_path / f"r{i}"), cfg, prep))
    return out


def test_a_stack_with_only_the_second_replicas_data_different_trains_it_on_its_own():
    """_stacked must compare every replica's data with the first one's, the second
    included: runs 0 and 2 share their data, run 1 has its own (mutant: arrays[2:])."""
    x, y = _xor()
    x_other, y_other = x[::-1].copy() * 0.5, 1.0 - y[::-1]
    cfgs = [RunConfig(epochs=40, print_every=0, seed=s).validate() for s in range(3)]
    _assert_stack_equals_alone(cfgs, [x, x_other, x], [y, y_other, y])


def test_a_stack_gives_each_replica_its_own_l1():
    """L1 is per replica like the learning rate (mutant: l1 left out of the stack's optimizer)."""
    x, y = _xor()
    base = RunConfig(epochs=40, print_every=0, lr=0.5).validate()
    cfgs = [base.replace(seed=0, l1=0.01), base.replace(seed=1), base.replace(seed=2, l1=0.002)]
    _assert_stack_equals_alone(cfgs, [x] * 3, [y] * 3)


def test_train_stack_refuses_runs_of_two_structures():
    """Two structures (here two widths) cannot share one stack: a clear error, not a
    stack built from the first run's shape (mutant: the check allowed two structures)."""
    x, y = _xor()
    base = RunConfig(epochs=5, print_every=0).validate()
    cfgs = [base, base.replace(seed=1, hidden=4)]
    with pytest.raises(ValueError, match="one structure"):
        stacking.train_stack(cfgs, [x, x], [y, y], 1)


def test_a_stack_that_raises_any_error_fails_its_runs_not_the_sweep(tmp_path, monkeypatch):
    """A stack whose training raises (any Exception, not only ValueError) reports each of
    its runs as failed, naming the error, and writes no run folder."""

    def broken(*args, **kwargs):
        raise RuntimeError("out of luck")

    monkeypatch.setattr(stacking, "train_stack", broken)
    base = RunConfig(epochs=5, print_every=0).validate()
    members = _members(tmp_path, [base, base.replace(seed=1)])
    outcomes = stacking.run_stack_unit(members)
    assert [name for name, _ in outcomes] == ["r0", "r1"]
    for _, outcome in outcomes:
        assert outcome["status"] == "failed"
        assert outcome["error"] == "RuntimeError: out of luck"
    assert list(tmp_path.iterdir()) == []


def test_a_worker_told_to_stop_cancels_its_stack_and_writes_nothing(tmp_path, monkeypatch):
    """After Ctrl-C the workers' stop event is set: a unit taken afterwards is cancelled,
    not trained (mutant: the stop event ignored)."""
    stop = threading.Event()
    stop.set()
    monkeypatch.setattr(sweep_workers, "STOP", stop)
    base = RunConfig(epochs=5, print_every=0).validate()
    members = _members(tmp_path, [base, base.replace(seed=1)])
    outcomes = stacking._run_unit(0, ("stack", members))
    assert outcomes == [("r0", {"status": "cancelled"}), ("r1", {"status": "cancelled"})]
    assert list(tmp_path.iterdir()) == []


def test_each_stack_of_a_sweep_reports_progress_in_its_own_cost(tmp_path):
    """Run one by one, a stack's progress is its fraction of the epochs times *its*
    training cost: when it ends, the in-flight work heard is that stack's whole cost
    (mutant: every unit weighted by the first unit's cost)."""
    from proplab import stack_plan

    base = RunConfig(print_every=0).validate()
    cfgs = [base.replace(seed=s, epochs=300) for s in range(2)]
    cfgs += [base.replace(seed=s, epochs=100, hidden=3) for s in range(3)]
    jobs = [sweep.RunJob(f"r{i}", c, tmp_path / f"r{i}") for i, c in enumerate(cfgs)]
    units, _ = stack_plan.plan_units(jobs)
    training = sorted(
        stack_plan.cost_of(m) - stack_plan.write_cost([c for _, c, _ in m]) for _, m in units
    )
    assert len(training) == 2 and training[0] < training[1] / 2  # two stacks, unequal costs
    heard: list[float] = []
    done = []
    stacking.run_stacked(
        jobs, workers=1, on_done=lambda job, o: done.append(o["status"]), on_progress=heard.append
    )
    assert done == ["done"] * 5
    assert max(heard) == pytest.approx(training[1])
    assert training[0] == pytest.approx(min(h for h in heard if h > 0.99 * training[0]))


def _measured_bytes(cfg: RunConfig, x: np.ndarray, n_out: int) -> int:
    """One replica's weights and gradients plus every layer's output on ``x (n, in)``, in bytes."""
    model = build_model(cfg, x.shape[-1], n_out)
    total = 2 * sum(p.data.nbytes for p in model.parameters())
    a = x
    for layer in model.layers:
        a = layer.forward(a)
        total += a.nbytes
    return total


@pytest.mark.parametrize(
    "changes",
    [{}, {"hidden": 32}, {"model": "conv", "filters": 8, "kernel_size": 5, "padding": 1}],
    ids=["lab", "wide", "conv"],
)
def test_the_memory_estimate_covers_a_replicas_weights_grads_and_activations(changes):
    """The stack budget counts bytes_per_replica per run: it must not be below what one
    replica really holds (weights, gradients, one forward pass), conv feature maps
    included (mutants: the estimate 8x too small, the conv maps left out)."""
    from proplab import stack_plan

    cfg = RunConfig(**changes).validate()
    x = np.random.default_rng(0).normal(size=(40, 50))
    measured = _measured_bytes(cfg, x, 1)
    assert stack_plan.bytes_per_replica(cfg, 40, 50, 1) >= measured


def test_a_run_over_the_budget_trains_alone_not_in_pairs():
    """Runs each bigger than the budget train alone, as single runs, not as stacks of one
    (mutant: at least two per stack)."""
    from proplab import stack_plan

    assert stack_plan.chunk([4, 7, 9], per_replica=2000, budget=1000) == [[4], [7], [9]]
    cfgs = [RunConfig(epochs=10, seed=s).validate() for s in range(3)]
    stacks, singles = stack_plan.group_runs(cfgs, [21] * 3, [2000] * 3, budget=1000)
    assert stacks == [] and singles == [0, 1, 2]


def test_a_batch_as_big_as_the_data_is_full_batch_and_stacks():
    """batch_size == n is full-batch training (fit takes the whole data at once), so such
    runs stack with the others (mutant: only batch_size > n stacked)."""
    from proplab import stack_plan

    base = RunConfig(epochs=10).validate()
    cfgs = [base.replace(seed=s, batch_size=21) for s in range(3)]
    stacks, singles = stack_plan.group_runs(cfgs, [21] * 3, [1000] * 3, budget=10**6)
    assert stacks == [[0, 1, 2]] and singles == []
    stacks, singles = stack_plan.group_runs(cfgs, [22] * 3, [1000] * 3, budget=10**6)
    assert stacks == [] and singles == [0, 1, 2]  # one sample more: mini-batches, alone


def test_the_time_model_charges_one_block_nothing_extra_and_writing_per_epoch():
    """unit_cost: an epoch of a one-variant unit pays the fixed call cost once, no block
    surcharge (extrapolated to zero samples); writing a run costs more the more epochs
    its history has (mutants: one block too many; write cost without epochs)."""
    from proplab import stack_plan

    cfg = RunConfig(epochs=1000).validate()
    cfgs = [cfg, cfg.replace(seed=1)]
    one, two = (stack_plan.unit_cost(cfgs, n, 2, 1) for n in (1, 2))
    fixed = 2 * one - two - stack_plan.write_cost(cfgs)  # the cost at n = 0
    assert fixed == pytest.approx(1000 * stack_plan._CALLS_US)
    mixed = [cfg, cfg.replace(seed=1, activation="tanh")]
    extra = stack_plan.unit_cost(mixed, 1, 2, 1) - one
    assert extra == pytest.approx(1000 * stack_plan._BLOCK_US)
    short, long = (stack_plan.write_cost([cfg.replace(epochs=e)]) for e in (100, 20000))
    assert long > 2 * short


def test_plan_units_splits_by_each_runs_estimate_and_puts_the_biggest_first(tmp_path):
    """A budget of three replicas' bytes (the xor data: 21 samples of 2 inputs) makes
    stacks of at most three, as even as can be (7 runs: 3, 2, 2), and units come biggest
    first so long stacks do not start last (mutants: samples and inputs swapped in the
    estimate; cheapest unit first)."""
    from proplab import stack_plan

    base = RunConfig(epochs=50, print_every=0).validate()
    cfgs = [base.replace(seed=s) for s in range(7)] + [base.replace(seed=9, epochs=5, hidden=3)]
    jobs = [sweep.RunJob(f"r{i}", c, tmp_path / f"r{i}") for i, c in enumerate(cfgs)]
    per = stack_plan.bytes_per_replica(base, 21, 2, 1)
    units, failures = stack_plan.plan_units(jobs, budget=3 * per)
    assert failures == []
    assert [(kind, [m[0].name for m in members]) for kind, members in units] == [
        ("stack", ["r0", "r1", "r2"]),
        ("stack", ["r3", "r4"]),
        ("stack", ["r5", "r6"]),  # was 3, 3 and a stack of one (r6)
        ("single", ["r7"]),
    ]
    costs = [stack_plan.cost_of(members) for _, members in units]
    assert costs == sorted(costs, reverse=True)


def test_balance_never_drops_the_last_run_of_a_split_stack():
    """Seven runs in three parts for three workers: sizes 3, 2 and 2
    (mutant: the last part dropped)."""
    from proplab import stack_plan

    members = _members(Path("unused"), [RunConfig(epochs=1000, seed=s) for s in range(7)])
    parts = stack_plan.balance([("stack", members)], workers=3)
    assert 1 < len(parts) <= 3
    assert [m[0].name for _, part in parts for m in part] == [f"r{i}" for i in range(7)]


def test_a_zero_learning_rate_freezes_every_replica_of_a_mixed_rule_stack():
    """set_hyper("lr", 0) (a scalar) is accepted by a PerReplicaOptimizer and reaches
    every block (mutant: a scalar 0 refused while an array of zeros is taken)."""
    from proplab.optim import SGD, Adam
    from proplab.per_replica import PerReplicaOptimizer

    base = RunConfig().validate()
    stack = build_model(base, 2, 1, seeds=[0, 1, 2])
    opt = PerReplicaOptimizer(
        stack.parameters(),
        [(2, lambda ps: SGD(ps, lr=0.5)), (1, lambda ps: Adam(ps, lr=0.01))],
    )
    opt.set_hyper("lr", 0)
    np.testing.assert_array_equal(opt.lr, [0.0, 0.0, 0.0])
    x, y = _xor()
    before = [p.data.copy() for p in stack.parameters()]
    fit(stack, build_loss(base), opt, x, y, 5)
    for b, p in zip(before, stack.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, b)


def test_a_stack_prints_the_mean_loss_of_the_replicas_still_training():
    """With print_every, a stack's line shows the mean loss of its active replicas: a
    diverged (NaN) replica is left out, not printed as 'loss : nan'."""
    x, y = _xor()
    cfg = RunConfig(activation="relu", output_activation="identity").validate()
    stack = build_model(cfg, 2, 1, seeds=[0, 1])
    opt = build_optimizer(cfg.replace(lr=0.1), stack.parameters())
    opt.set_hyper("lr", np.array([0.1, 1e7]))  # replica 1 diverges within a few epochs
    lines: list[str] = []
    history = fit(stack, build_loss(cfg), opt, x, y, 60, print_every=20, log=lines.append)
    assert list(history.replica_stop_reason) == ["completed", "diverged"]
    alone = history.replica(0).loss
    assert lines == [f"epoch {e} loss : {alone[e - 1]:.10f}" for e in (20, 40, 60)]


def test_a_batchnorm_stack_with_early_stops_keeps_each_replicas_running_statistics():
    """Batchnorm's running statistics move on every forward pass: a replica that stopped
    early must keep those of its stop, as it would alone (mutant: buffers not frozen)."""
    x, y = _xor()
    base = RunConfig(epochs=300, print_every=0, batchnorm=True, lr=2.0, tol=0.2).validate()
    cfgs = [base.replace(seed=s) for s in range(3)] + [base.replace(seed=3, lr=0.05)]
    runs = _assert_stack_equals_alone(cfgs, [x] * 4, [y] * 4)
    epochs = [r.history.epochs_run for r in runs]
    assert len(set(epochs)) > 1  # replicas stopped at different epochs
    for cfg, run in zip(cfgs, runs, strict=True):
        model, _ = _alone(cfg, x, y)
        buffers = dict(model.named_buffers())
        assert buffers  # the running mean and variance
        for name, value in run.model.named_buffers():
            np.testing.assert_allclose(value, buffers[name], rtol=1e-12, err_msg=name)


def test_the_stack_memory_option_sets_how_many_runs_share_a_stack(tmp_path, capsys):
    """``proplab sweep --stack-memory MB``: a budget of two xor replicas' estimated bytes
    stacks five seeds as 2 + 2 and one run alone (no ``stacked_with``), read back from
    each run's summary.json; the default 512 MB takes all five in one stack (mutants: MB
    read as KB, the option ignored, the budget dropped)."""
    import json

    from proplab import stack_plan
    from proplab.cli import main

    path = tmp_path / "seeds.toml"
    path.write_text('title = "seeds"\n[base]\nepochs = 20\n[vary]\nseed = [0, 1, 2, 3, 4]\n')
    per = stack_plan.bytes_per_replica(RunConfig().validate(), 21, 2, 1)
    mb = 2.5 * per / 2**20  # two replicas fit, three do not
    for out, extra, sizes in (
        (tmp_path / "two", ["--stack-memory", str(mb)], [1, 2, 2, 2, 2]),
        (tmp_path / "all", [], [5] * 5),
    ):
        assert main(["sweep", str(path), "--out", str(out), *extra]) == 0
        summaries = [json.loads(p.read_text()) for p in out.glob("runs/*/summary.json")]
        assert sorted(s.get("stacked_with", 1) for s in summaries) == sizes
    capsys.readouterr()


@pytest.mark.parametrize("mode", ["on", "Auto", "", "none"])
def test_only_the_two_stack_modes_are_accepted(mode):
    """--stack takes exactly auto or off; anything else is refused naming both (mutant:
    "on" accepted as auto)."""
    with pytest.raises(sweep.SweepError, match=rf"unknown mode {mode!r} \(accepted: auto, off\)"):
        sweep.choose_runner(mode)


def test_ctrl_c_in_a_parallel_stacked_sweep_tells_the_workers_to_take_no_new_stack(tmp_path):
    """Ctrl-C (here: raised by on_done when the first stack reports) sets the workers'
    stop event: a stack already handed to the pool's queue is cancelled, not trained.
    Five stacks of two runs on two workers: the two in training and at most the one a
    worker took the moment it finished finish; the others write nothing (mutant: the
    stop event not set, so the queued stack trains too)."""
    from proplab import stack_plan

    base = RunConfig(epochs=6000, print_every=0).validate()
    jobs = [sweep.RunJob(f"r{s}", base.replace(seed=s), tmp_path / f"r{s}") for s in range(10)]
    per = stack_plan.bytes_per_replica(base, 21, 2, 1)

    def ctrl_c(job, outcome):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stacking.run_stacked(jobs, workers=2, on_done=ctrl_c, budget=2 * per)
    finished = [job.name for job in jobs if sweep.is_finished(job.run_dir)]
    assert 2 <= len(finished) <= 6
    assert all(not job.run_dir.exists() for job in jobs if job.name not in finished)
