"""Stacked sweeps: compatible runs train as one replica stack, with results equal to running alone.

Equality is exact (bit for bit) for every number the run folders hold: the
stack does each replica's arithmetic with the same NumPy kernels in the same
order (matmul per replica, the same pairwise sums in the loss), so histories,
summaries and weights are identical, not merely close.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from proplab import stack_plan, stacking, sweep, sweep_workers
from proplab.config import RunConfig
from proplab.sweep_spec import parse_spec

SPEC = """
title = "stacking check"
[base]
epochs = 200
print_every = 0
[vary]
dataset = ["linear", "xor"]
seed = [0, 1, 2]
[[experiment]]
name = "lr"
title = "lr"
section = "discussion"
vary.lr = [1.0, 0.1]
[[experiment]]
name = "linear_net"
title = "no activation at all"
section = "discussion"
base.activation = "identity"
base.output_activation = "identity"
vary.lr = [1.0, 0.01]               # 1.0 diverges: those replicas must not disturb the others
[[experiment]]
name = "tol"
title = "tol"
section = "discussion"
base.tol = 0.2                      # some replicas stop early, at different epochs
base.lr = 2.0
vary.hidden = [10, 32]
[[experiment]]
name = "optimizer"
title = "optimizer"
section = "extras"
base.lr = 0.1
vary.optimizer = ["momentum", "adam", "rmsprop", "adagrad"]
[[experiment]]
name = "conv"
title = "conv"
section = "extras"
vary.model = ["conv"]
[[experiment]]
name = "activation"
title = "activations and biases stacked with the sigmoid runs"
section = "extras"
vary.activation = ["tanh", "relu", "leaky_relu", "identity"]
[[experiment]]
name = "bias"
title = "no bias"
section = "extras"
base.bias = false
vary.lr = [1.0, 0.1]
[[experiment]]
name = "tol_mixed"
title = "early stops inside a stack that mixes activations and update rules"
section = "extras"
base.tol = 0.2
base.lr = 0.5
vary.activation = ["sigmoid", "tanh"]
vary.optimizer = ["sgd", "adam"]
[[experiment]]
name = "minibatch"
title = "minibatch"
section = "extras"
base.batch_size = 8                 # shuffled with the run's own seed: trains alone
vary.hidden = [4]
"""

VOLATILE = {"wall_time_s", "us_per_epoch", "finished_at", "stacked_with", "stack_wall_time_s"}


def _read_history(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "history.csv", newline="") as fh:
        return [{k: v for k, v in row.items() if k != "wall_time"} for row in csv.DictReader(fh)]


def _summary(run_dir: Path) -> dict:
    data = json.loads((run_dir / "summary.json").read_text())
    return {k: v for k, v in data.items() if k not in VOLATILE}


def assert_same_runs(plain: Path, stacked: Path) -> dict[str, dict]:
    """Every run folder of sweep ``plain`` equals its twin in ``stacked`` bit for bit (each
    epoch's loss and accuracy, the summary, the weights); returns the stacked summaries."""
    from proplab import load

    names = sorted(p.name for p in (plain / "runs").iterdir())
    assert names == sorted(p.name for p in (stacked / "runs").iterdir())
    summaries = {}
    for name in names:
        a, b = plain / "runs" / name, stacked / "runs" / name
        assert _read_history(a) == _read_history(b), name
        assert _summary(a) == _summary(b), name
        ma, mb = load(a / "model.npz"), load(b / "model.npz")
        for pa, pb in zip(ma.parameters(), mb.parameters(), strict=True):
            np.testing.assert_array_equal(pa.data, pb.data)
        summaries[name] = json.loads((b / "summary.json").read_text())
    return summaries


@pytest.fixture(scope="module")
def two_sweeps(tmp_path_factory):
    spec = parse_spec(SPEC, "stacking.toml")
    out = tmp_path_factory.mktemp("sweeps")
    plain = sweep.run_sweep(spec, out / "plain", runner=sweep.choose_runner("off"))
    stacked = sweep.run_sweep(spec, out / "stacked", runner=sweep.choose_runner("auto"))
    return spec, out / "plain", out / "stacked", plain, stacked


@pytest.mark.slow
def test_stacked_sweep_equals_unstacked_bit_for_bit(two_sweeps):
    spec, plain, stacked, r_plain, r_stacked = two_sweeps
    assert r_plain.failed == {} and r_stacked.failed == {}
    summaries = assert_same_runs(plain, stacked)
    names = sorted(summaries)
    assert len(names) == r_plain.total == r_stacked.total
    reasons = {s["stop_reason"] for s in summaries.values()}
    stacked_sizes = {s.get("stacked_with", 1) for s in summaries.values()}
    # the sweep really exercised stops, divergence and stacks of several sizes
    assert {"completed", "converged", "diverged"} <= reasons
    # ... and stacks that mix activations (PerReplica) and models without bias
    assert 1 in stacked_sizes and max(stacked_sizes) >= 30
    results = [(plain / "results.csv").read_text(), (stacked / "results.csv").read_text()]
    assert len(results[0].splitlines()) == len(results[1].splitlines()) == len(names) + 1


BEYOND_THE_LAB = """
title = "stacking beyond the lab"
[base]
epochs = 40
print_every = 0
[vary]
seed = [0, 1, 2]
[[experiment]]
name = "digits"
title = "ten classes, softmax cross-entropy, weight decay, a held-out split"
section = "extras"
base.dataset = "digits"
base.loss = "cross_entropy"
base.output_activation = "identity"
base.hidden = 8
base.weight_decay = 1e-3
base.test_fraction = 0.25
base.lr = 0.5
vary.optimizer = ["sgd", "adam"]
[[experiment]]
name = "moons"
title = "two hidden layers of different widths, BCE, He init"
section = "extras"
base.dataset = "moons"
base.n = 64
base.loss = "bce"
base.init = "he"
base.hidden = [6, 4]
vary.activation = ["relu", "tanh"]
vary.lr = [0.3, 5.0]
[[experiment]]
name = "conv_stride"
title = "conv with stride 2 and no padding, momentum per replica"
section = "extras"
base.dataset = "circle"
base.n = 40
base.model = "conv"
base.filters = 3
base.kernel_size = 2
base.stride = 2
base.padding = 0
base.optimizer = "rmsprop"
vary.momentum = [0.0, 0.5]
"""


@pytest.mark.slow
def test_stacks_beyond_the_lab_equal_their_runs_alone(tmp_path):
    """Ten classes with a held-out split, two hidden widths, BCE, strided conv: same bits."""
    spec = parse_spec(BEYOND_THE_LAB, "beyond.toml")
    plain = sweep.run_sweep(spec, tmp_path / "plain", runner=sweep.choose_runner("off"))
    stacked = sweep.run_sweep(spec, tmp_path / "stacked", runner=sweep.choose_runner("auto"))
    assert plain.failed == {} and stacked.failed == {}
    summaries = assert_same_runs(tmp_path / "plain", tmp_path / "stacked")
    assert len(summaries) == 24
    sizes = {}
    for name, summary in summaries.items():
        sizes[name.split(",")[0]] = summary["stacked_with"]
        if name.startswith("dataset=digits"):  # evaluated on its held-out quarter too
            assert 0.0 <= summary["test_accuracy"] <= 1.0
    # each experiment trained as one stack (optimizers, activations and momentum as blocks)
    assert sizes == {"dataset=circle": 6, "dataset=digits": 6, "dataset=moons": 12}


def _cfgs():
    base = RunConfig(epochs=10).validate()
    return [
        base.replace(seed=0),
        base.replace(seed=1, lr=0.5),  # same structure: seed and lr are per replica
        base.replace(seed=2, hidden=4),  # other shape
        base.replace(seed=3, optimizer="adam"),  # other rule: its own block of the stack
        base.replace(seed=4, batch_size=5),  # mini-batches: alone
        base.replace(seed=5, momentum=0.9),  # SGD with momentum: plain SGD's rule ...
        base.replace(seed=6, momentum=0.5),  # ... momentum per replica
        base.replace(seed=7, activation="tanh"),  # activations: blocks of the stack
        base.replace(seed=8, bias=False, output_activation="identity"),  # no bias: masked
    ]


def test_group_runs_by_structure():
    cfgs = _cfgs()
    sizes = [21] * len(cfgs)
    stacks, singles = stack_plan.group_runs(cfgs, sizes, [1000] * len(cfgs), budget=10**6)
    assert sorted(map(sorted, stacks)) == [[0, 1, 3, 5, 6, 7, 8]]
    assert singles == [2, 4]


def test_update_rules():
    base = RunConfig().validate()
    rules = [
        stack_plan.update_rule(base.replace(**changes))
        for changes in (
            {},
            {"optimizer": "momentum"},
            {"momentum": 0.5},
            {"optimizer": "rmsprop"},
            {"optimizer": "rmsprop", "momentum": 0.9},
            {"optimizer": "adam"},
        )
    ]
    # plain SGD and SGD with momentum share a rule (momentum 0 updates as plain SGD),
    # and so do RMSprop with and without momentum (its buffer with momentum 0 is the
    # plain step g / avg)
    assert rules == ["sgd", "sgd", "sgd", "rmsprop", "rmsprop", "adam"]


def test_stack_optimizer_has_one_block_per_rule(xor):
    cfgs = [c for i, c in enumerate(_cfgs()) if i not in (2, 4)]
    order = sorted(range(len(cfgs)), key=lambda k: stack_plan.update_rule(cfgs[k]))
    cfgs = [cfgs[k] for k in order]
    stack = stacking.build_stack_model(cfgs, 2, 1)
    opt = stacking.build_stack_optimizer(cfgs, stack.parameters())
    assert [(b.start, b.stop, type(rule).__name__) for b, rule, _ in opt.blocks] == [
        (0, 1, "Adam"),
        (1, 7, "SGD"),
    ]
    np.testing.assert_array_equal(opt.lr, [c.lr for c in cfgs])
    opt.set_hyper("lr", np.arange(7.0))
    np.testing.assert_array_equal(opt.lr, np.arange(7.0))
    with pytest.raises(ValueError, match=r"lr per replica must have shape \(7,\)"):
        opt.set_hyper("lr", np.ones(3))


def test_group_is_split_to_fit_the_memory_budget():
    base = RunConfig(epochs=10).validate()
    cfgs = [base.replace(seed=s) for s in range(10)]
    stacks, singles = stack_plan.group_runs(cfgs, [21] * 10, [300] * 10, budget=1000)
    # the fewest stacks that fit, of even sizes (3, 3, 3 and a stack of one, before)
    assert [len(s) for s in stacks] == [3, 3, 2, 2] and singles == []
    assert sorted(i for s in stacks for i in s) == list(range(10))


def test_bad_stack_options_are_rejected():
    with pytest.raises(sweep.SweepError, match="accepted: auto, off"):
        sweep.choose_runner("sometimes")
    with pytest.raises(sweep.SweepError, match="MB > 0"):
        sweep.choose_runner("auto", 0)


@pytest.mark.parametrize("stack", ["auto", "off"])
def test_sweep_runs_do_not_format_lines_nobody_reads(tmp_path, monkeypatch, stack):
    """A sweep prints no run's per-sample lines, so it must not spend time formatting them."""
    from proplab import train_text

    def refuse(*args, **kwargs):
        raise AssertionError("a sweep run formatted its per-sample lines")

    monkeypatch.setattr(train_text, "format_prediction_lines", refuse)
    spec = parse_spec(SPEC.replace("epochs = 200", "epochs = 5"), "stacking.toml")
    result = sweep.run_sweep(
        spec, tmp_path, runner=sweep.choose_runner(stack), stream=io.StringIO()
    )
    assert not result.failed
    assert len(list(tmp_path.glob("runs/*/summary.json"))) == result.total


def test_ctrl_c_in_a_stack_keeps_finished_runs_and_resumes(tmp_path, monkeypatch):
    spec = parse_spec(SPEC.replace("epochs = 200", "epochs = 30"), "stacking.toml")
    calls = {"n": 0}
    real = stacking.train_stack

    def interrupt_second_stack(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(stacking, "train_stack", interrupt_second_stack)
    runner = sweep.choose_runner("auto")
    first = sweep.run_sweep(spec, tmp_path, runner=runner)
    assert first.interrupted
    done = {p.parent.name for p in tmp_path.glob("runs/*/summary.json")}
    assert 0 < len(done) < first.total
    mtimes = {n: (tmp_path / "runs" / n / "summary.json").stat().st_mtime_ns for n in done}

    monkeypatch.setattr(stacking, "train_stack", real)
    second = sweep.run_sweep(spec, tmp_path, runner=runner)
    assert not second.interrupted and second.reused == len(done)
    assert second.ran == second.total - len(done)
    for name, mtime in mtimes.items():  # finished runs were not redone
        assert (tmp_path / "runs" / name / "summary.json").stat().st_mtime_ns == mtime
    assert len(list(tmp_path.glob("runs/*/summary.json"))) == second.total


PROGRESS_SPEC = """
title = "progress"
[base]
epochs = EPOCHS
print_every = 0
[vary]
dataset = ["xor"]
seed = [0, 1, 2, 3]
[[experiment]]
name = "lr"
title = "lr"
section = "discussion"
vary.lr = [1.0, 0.5]
"""


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stack_in_training_reports_its_progress(tmp_path, workers):
    """A stack reports how far it has got while it trains (a stack of long runs
    reports nothing to on_done until it ends), in the units it announced through
    on_plan before training."""
    epochs = 400 if workers == 1 else 6000  # with workers, long enough for many polls
    spec = parse_spec(PROGRESS_SPEC.replace("EPOCHS", str(epochs)), "progress.toml")
    jobs = sweep.plan(spec, tmp_path)
    planned: dict[str, float] = {}
    events: list[tuple[str, float]] = []
    stacking.run_stacked(
        jobs,
        workers=workers,
        on_done=lambda job, outcome: events.append(("done", planned[job.name])),
        on_progress=lambda cost: events.append(("progress", cost)),
        on_plan=lambda costs: (planned.update(costs), events.append(("plan", 0.0))),
        poll_seconds=0.01,
    )
    assert events[0] == ("plan", 0.0) and set(planned) == {job.name for job in jobs}
    # one stack of 8 runs: each run carries an equal share of the stack's cost
    assert len(set(planned.values())) == 1
    total = sum(planned.values())
    assert sum(1 for kind, _ in events if kind == "done") == len(jobs) == 8
    # its progress comes before its runs finish, rising to the whole cost
    first_done = next(i for i, (kind, _) in enumerate(events) if kind == "done")
    before = [cost for kind, cost in events[:first_done] if kind == "progress"]
    assert len(before) >= 3
    # ... up to the cost of its training (writing the 8 run folders comes after)
    training = total - stack_plan.write_cost([job.config for job in jobs])
    assert 0 < training < total
    assert before == sorted(before) and 0 < before[0] < training
    if workers == 1:
        assert before[-1] == pytest.approx(training)
    else:  # two stacks of 4 in two workers (summed in another order: allow rounding)
        assert before[-1] <= training * (1 + 1e-12)


def test_sweep_progress_counts_the_work_in_flight():
    stream = io.StringIO()
    progress = sweep.Progress(total=4, skipped=0, cost=400.0, stream=stream)
    progress.partial(100.0)  # a stack of all four runs is a quarter done
    assert "0/4 runs done, 25 % of the work" in stream.getvalue()
    progress.partial(400.0)
    progress.update(100.0)  # its runs finish: in-flight work becomes done work
    progress.update(100.0)
    progress.update(100.0)
    progress.update(100.0)
    last = stream.getvalue().splitlines()[-1]
    assert last.startswith("sweep: 4/4 runs done, 100 % of the work") and "remaining ~0:00" in last
    assert progress.in_flight == 0.0


def test_unit_cost_model_orders_the_work_as_measured():
    """The ETA's time model: per run, a big stack is cheaper than a small one, which
    is cheaper than running alone; more samples, wider layers, a Conv1d layer, more
    epochs, mini-batches and extra activation/optimizer blocks all cost more."""
    base = RunConfig(epochs=1000).validate()

    def per_run(cfgs, n=100, n_in=2):
        return stack_plan.unit_cost(cfgs, n, n_in, 1) / len(cfgs)

    alone, five, many = per_run([base]), per_run([base] * 5), per_run([base] * 85)
    assert many < five < alone
    assert per_run([base], n=21) < alone  # XOR's 21 points vs the linear data's 100
    assert per_run([base.replace(hidden=32)]) > alone
    assert per_run([base.replace(hidden=2)]) < alone
    assert per_run([base.replace(model="conv")]) > alone
    assert per_run([base.replace(epochs=2000)]) == pytest.approx(2 * alone, rel=0.1)
    assert per_run([base.replace(batch_size=10)]) > 5 * alone  # ten batches per epoch
    mixed = (
        [base] * 40 + [base.replace(activation="tanh")] * 40 + [base.replace(optimizer="adam")] * 5
    )
    assert per_run(mixed) > many
    # writing the folders is part of the cost, and the whole of it once trained
    assert 0 < stack_plan.write_cost([base] * 5) < stack_plan.unit_cost([base] * 5, 100, 2, 1)


def test_a_stacked_sweep_weighs_its_progress_by_the_stacks(tmp_path, monkeypatch):
    """run_sweep's progress line takes the stacked runner's plan (the stack's cost,
    shared by its runs) instead of RunJob.cost, and ends at 100 % of that work."""
    spec = parse_spec(PROGRESS_SPEC.replace("EPOCHS", "50"), "progress.toml")
    units, _ = stack_plan.plan_units(sweep.plan(spec, tmp_path / "plan"))
    assert [len(members) for _, members in units] == [8]
    expected = stack_plan.cost_of(units[0][1])
    replans: list[float] = []
    real_replan = sweep.Progress.replan

    def spy(self, cost):
        replans.append(cost)
        real_replan(self, cost)

    monkeypatch.setattr(sweep.Progress, "replan", spy)
    stream = io.StringIO()
    result = sweep.run_sweep(spec, tmp_path, runner=sweep.choose_runner("auto"), stream=stream)
    assert result.ran == result.total == 8
    assert replans == [pytest.approx(expected)]
    assert expected != pytest.approx(sum(job.cost for job in sweep.plan(spec, tmp_path)))
    last = stream.getvalue().splitlines()[-1]
    assert last.startswith("sweep: 8/8 runs done, 100 % of the work")
    # one run at a time: each run's cost alone by the same time model
    replans.clear()
    jobs = sweep.plan(spec, tmp_path / "off")
    sweep.run_sweep(spec, tmp_path / "off", runner=sweep.choose_runner("off"), stream=io.StringIO())
    alone = sum(stack_plan.alone_costs(jobs).values())
    assert replans == [pytest.approx(alone)] and alone > expected  # stacked is cheaper


def test_progress_replan_starts_the_count_in_new_units():
    stream = io.StringIO()
    progress = sweep.Progress(total=2, skipped=0, cost=2000.0, stream=stream)
    progress.replan(10.0)  # the runner's own estimate: 6 + 4
    progress.partial(3.0)
    assert "0/2 runs done, 30 % of the work" in stream.getvalue()
    progress.update(6.0)
    progress.update(4.0)
    assert stream.getvalue().splitlines()[-1].startswith("sweep: 2/2 runs done, 100 % of the work")


def test_a_run_whose_data_fails_to_load_is_planned_at_no_cost(tmp_path):
    spec = parse_spec(PROGRESS_SPEC.replace("EPOCHS", "20"), "progress.toml")
    jobs = sweep.plan(spec, tmp_path)[:2]
    missing = tmp_path / "no-such-data.csv"
    bad = sweep.RunJob("bad", jobs[0].config.replace(dataset=str(missing)), tmp_path / "bad")
    planned: dict[str, float] = {}
    outcomes: dict[str, dict] = {}
    stacking.run_stacked(
        [*jobs, bad],
        on_done=lambda job, outcome: outcomes.update({job.name: outcome}),
        on_plan=planned.update,
    )
    assert planned["bad"] == 0.0 and outcomes["bad"]["status"] == "failed"
    assert str(missing.name) in outcomes["bad"]["error"]
    assert all(planned[job.name] > 0 and outcomes[job.name]["status"] == "done" for job in jobs)


def _members(n: int, dataset: str = "xor") -> list:
    """``n`` plan members of one structure (seed varies), as plan_units makes them."""
    from proplab.experiments import prepare_run

    out = []
    for seed in range(n):
        cfg, prep = prepare_run(RunConfig(dataset=dataset, epochs=1000, seed=seed))
        out.append((sweep.RunJob(f"r{seed}", cfg, Path("unused")), cfg, prep))
    return out


def test_balance_splits_a_stack_bigger_than_one_workers_share():
    one_group = [("stack", _members(40))]
    assert stack_plan.balance(one_group, workers=1) == one_group
    halves = stack_plan.balance(one_group, workers=2)
    assert [len(m) for _, m in halves] == [20, 20]
    assert [m[0] for _, part in halves for m in part] == [m[0] for m in one_group[0][1]]
    assert [len(m) for _, m in stack_plan.balance(one_group, workers=3)] == [14, 13, 13]
    # equal parts, never a leftover part below min_replicas (7 on 3 workers was 3, 3, 1)
    seven = [("stack", _members(7))]
    assert [len(m) for _, m in stack_plan.balance(seven, workers=3)] == [3, 2, 2]
    # never below min_replicas runs per part
    assert [len(m) for _, m in stack_plan.balance([("stack", _members(5))], workers=4)] == [3, 2]
    # stacks within their share stay whole, and a run alone is never split ...
    mixed = [("stack", _members(10)), ("stack", _members(10)), ("single", _members(1))]
    assert [len(m) for _, m in stack_plan.balance(mixed, workers=2)] == [10, 10, 1]
    # ... but a stack of 10 on the 100-point data outweighs the other two together
    mixed[1] = ("stack", _members(10, "linear"))
    assert [len(m) for _, m in stack_plan.balance(mixed, workers=2)] == [10, 5, 5, 1]
    assert [len(m) for _, m in stack_plan.balance([("single", _members(1))] * 3, 2)] == [1, 1, 1]


def test_a_split_stack_trains_the_same_runs(tmp_path):
    """With 2 workers a sweep of one structure trains as 2 stacks, in parallel, and
    every run's history equals the run trained alone."""
    spec = parse_spec(PROGRESS_SPEC.replace("EPOCHS", "300"), "progress.toml")
    outcomes: dict[str, dict] = {}
    jobs = sweep.plan(spec, tmp_path / "split")
    stacking.run_stacked(
        jobs, workers=2, on_done=lambda job, outcome: outcomes.update({job.name: outcome})
    )
    assert all(o["status"] == "done" for o in outcomes.values()) and len(outcomes) == 8
    sizes = [json.loads((j.run_dir / "summary.json").read_text())["stacked_with"] for j in jobs]
    assert sizes == [4] * 8
    alone = sweep.run_sweep(spec, tmp_path / "alone", runner=sweep.choose_runner("off"))
    assert alone.ran == 8
    for job in jobs:
        assert _read_history(job.run_dir) == _read_history(tmp_path / "alone" / "runs" / job.name)
        assert _summary(job.run_dir) == _summary(tmp_path / "alone" / "runs" / job.name)


def test_a_huge_jobs_count_starts_no_more_processes_than_there_is_work(tmp_path, monkeypatch):
    # a forked pool starts all its processes at once: --jobs 1000 took 52 s for 14 runs
    import concurrent.futures

    sizes = []

    class Recording(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, max_workers=None, **kwargs):
            sizes.append(max_workers)
            super().__init__(max_workers=max_workers, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Recording)  # stacked runner
    monkeypatch.setattr(sweep_workers, "ProcessPoolExecutor", Recording)  # one run at a time
    text = '[base]\nepochs = 20\n[vary]\ndataset = ["xor"]\nseed = [0, 1, 2, 3]\n'
    text += '[[experiment]]\nname = "a"\nvary.hidden = [2, 4]\n'
    spec = parse_spec(text, "s.toml")
    for mode in ("auto", "off"):
        sizes.clear()
        result = sweep.run_sweep(
            spec, tmp_path / mode, jobs=1000, runner=sweep.choose_runner(mode), stream=io.StringIO()
        )
        assert result.failed == {} and result.ran == 8
        assert sizes and max(sizes) <= 8, (mode, sizes)  # 8 runs: at most 8 workers


# --- mutation-testing gaps: every per-replica scalar reaches its own replica ------------


def _alone(cfg: RunConfig, x: np.ndarray, y: np.ndarray, n_out: int = 1):
    from proplab.config import build_loss, build_model, build_optimizer
    from proplab.train import fit

    model = build_model(cfg, x.shape[-1], n_out)
    opt = build_optimizer(cfg, model.parameters())
    history = fit(model, build_loss(cfg), opt, x, y, cfg.epochs, tol=cfg.tol)
    return model, history


def _assert_stack_equals_alone(cfgs, xs, ys, n_out=1):
    """Every replica of ``train_stack(cfgs, ...)`` has the history and weights of its run alone."""
    runs = stacking.train_stack(cfgs, xs, ys, n_out)
    for cfg, run, x, y in zip(cfgs, runs, xs, ys, strict=True):
        model, history = _alone(cfg, x, y, n_out)
        assert run.cfg == cfg
        mine = run.history
        assert (mine.stop_reason, mine.epoch) == (history.stop_reason, history.epoch), cfg.seed
        assert mine.message == history.message
        np.testing.assert_allclose(mine.loss, history.loss, rtol=1e-12)
        assert mine.accuracy == history.accuracy
        own = dict(run.model.named_parameters())
        assert set(own) == {name for name, _ in model.named_parameters()}
        for name, p in model.named_parameters():
            np.testing.assert_allclose(own[name].data, p.data, rtol=1e-12, err_msg=name)
    return runs


def test_a_stack_gives_each_replica_its_own_weight_decay_momentum_and_lr(xor):
    base = RunConfig(epochs=30, print_every=0).validate()
    cfgs = [
        base.replace(seed=3, weight_decay=0.0),
        base.replace(seed=1, weight_decay=0.05, lr=0.5),
        base.replace(seed=2, optimizer="momentum", lr=0.3),  # momentum 0.9 by default
        base.replace(seed=0, momentum=0.5, weight_decay=0.01),
        base.replace(seed=4, optimizer="rmsprop", lr=0.01, momentum=0.5),
    ]
    x, y = xor[0], xor[1].astype(np.float64)
    _assert_stack_equals_alone(cfgs, [x] * 5, [y] * 5)


def test_a_stack_of_runs_on_different_data_trains_each_on_its_own():
    from proplab.config import data_rng
    from proplab.data import generate_linear

    base = RunConfig(dataset="linear", n=30, epochs=30, print_every=0).validate()
    # the tanh run sorts after the sigmoid ones in the stack: its data must follow it
    cfgs = [
        base.replace(seed=s, tol=0.2465, activation=a)
        for s, a in ((2, "tanh"), (0, "sigmoid"), (1, "sigmoid"))
    ]
    data = [generate_linear(30, rng=data_rng(c)) for c in cfgs]
    xs, ys = [d[0] for d in data], [d[1].astype(np.float64) for d in data]
    runs = _assert_stack_equals_alone(cfgs, xs, ys)
    assert [(r.history.stop_reason, r.history.epochs_run) for r in runs] == [
        ("converged", 3),
        ("converged", 24),
        ("converged", 5),
    ]


def test_a_replica_blown_up_by_its_last_update_is_diverged_as_its_run_alone():
    # at lr 5 the 30th update sends this run's logits to inf (every epoch's loss, measured
    # before its update, is finite: 1.7e202 at epoch 30); its stack-mates train on
    from proplab.experiments import prepare_run

    base = RunConfig(
        dataset="linear", hidden=3, activation="leaky_relu", bias=False,
        loss="cross_entropy", output_activation="identity",
        lr=5.0, momentum=0.5, weight_decay=1e-3, epochs=30, seed=2, print_every=0,
    ).validate()  # fmt: skip
    cfgs = [base, base.replace(lr=0.05), base.replace(lr=0.1, seed=3)]
    preps = [prepare_run(c)[1] for c in cfgs]
    xs, ys = [p.x for p in preps], [p.y for p in preps]
    runs = _assert_stack_equals_alone(cfgs, xs, ys, preps[0].n_out)
    assert [r.history.stop_reason for r in runs] == ["diverged", "completed", "completed"]
    assert runs[0].history.message.startswith(
        "training diverged with its last update (epoch 30): the final model's loss is "
    )
    stack = runs[0].stack_history
    assert list(stack.replica_stop_epoch) == [30, 0, 0]
    assert stack.message.startswith("1 of 3 replicas diverged")
    # every replica blown up: the stack itself diverged, as fit says for a stack
    every = stacking.train_stack([base, base.replace(seed=2, lr=5.0 + 1e-12)], xs[:2], ys[:2], 2)
    assert every[0].stack_history.stop_reason == "diverged"
    assert every[0].stack_history.message == (
        "every replica diverged by epoch 30; try a smaller learning rate"
    )


def test_a_stack_interrupted_in_training_writes_no_run_folder(tmp_path):
    """Ctrl-C while the stack trains (fit keeps the history as "interrupted"): nothing of
    those unfinished runs is written, not even the interrupted.json of a run alone."""
    members = [
        (job.__class__(job.name, cfg, tmp_path / job.name), cfg, prep)
        for job, cfg, prep in _members(2)
    ]
    heard = []

    def ctrl_c_once(fraction: float) -> None:
        heard.append(fraction)
        if len(heard) == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stacking.run_stack_unit(members, ctrl_c_once)
    assert heard == [0.1, 0.1] and list(tmp_path.iterdir()) == []


def test_runs_differing_in_any_field_but_per_replica_scalars_and_variants_never_stack():
    base = RunConfig(epochs=10).validate()
    other = {
        "dataset": "linear", "n": 50, "noise": 0.2, "test_fraction": 0.25, "model": "conv",
        "hidden": 4, "init": "he", "loss": "bce", "epochs": 20, "batch_size": 7, "tol": 0.1,
        "filters": 2, "kernel_size": 3, "stride": 2, "padding": 0, "extra": {"note": "x"},
        "label": "y", "drop_columns": ["id"], "features": ["x1", "x1_x2"], "task": "classification",
        "dropout": 0.2, "batchnorm": True, "standardize": True,
    }  # fmt: skip
    fields = set(base.to_dict()) - set(stack_plan.PER_REPLICA) - set(stack_plan.VARIANTS)
    assert set(other) == fields  # every field that must be equal in a stack is tried
    for name, value in other.items():
        changed = base.replace(**{name: value})
        assert stack_plan.structure_key(changed) != stack_plan.structure_key(base), name
    same = base.replace(
        seed=1, lr=0.5, momentum=0.5, weight_decay=0.1, print_every=7, optimizer="adam",
        activation="tanh", output_activation="relu", bias=False,
    )  # fmt: skip
    assert stack_plan.structure_key(same) == stack_plan.structure_key(base)
