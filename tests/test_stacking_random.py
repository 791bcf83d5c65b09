"""Random sweeps, stacked and one run at a time: same run folders, and a report without warnings.

Each trial draws a sweep from a seeded generator over what a stack may mix
(datasets, losses, inits, widths, conv geometry, weight decay, held-out
splits, early stops; per replica: seed, lr, momentum; per block: optimizer,
activation, bias), so combinations nobody wrote a test for still get one.
The same generator, run for hundreds of trials, found the report and
final-evaluation bugs fixed alongside it.
"""

from __future__ import annotations

import json
import random
import warnings

import pytest
from test_stacking import assert_same_runs

from proplab import report, sweep
from proplab.sweep_spec import parse_spec


def random_spec(trial: int) -> str:
    """A small sweep (at most 16 runs) drawn from ``random.Random(trial)``, as TOML."""
    r = random.Random(trial)
    dataset = r.choice(["linear", "xor", "circle", "moons", "digits"])
    model = "conv" if dataset in ("linear", "circle") and r.random() < 0.3 else "mlp"
    loss = r.choice(["mse", "bce", "cross_entropy"])
    output = {"mse": r.choice(["sigmoid", "identity"]), "bce": "sigmoid"}.get(loss, "identity")
    base = {
        "dataset": dataset,
        "model": model,
        "hidden": r.choice([3, 8, [6, 4]]),
        "loss": loss,
        "output_activation": output,
        "init": r.choice(["xavier", "he", "torch", "normal"]),
        "epochs": 40,
        "print_every": 0,
        "weight_decay": r.choice([0.0, 1e-3]),
        "test_fraction": r.choice([0.0, 0.25]),
    }
    if r.random() < 0.4:
        base["tol"] = r.choice([0.05, 0.2])
    if dataset in ("circle", "moons"):
        base["n"] = 40
    if model == "conv":  # two input features: kernel 2 with padding 1, stride 1 or 2
        if isinstance(base["hidden"], list):  # one hidden Linear after the conv: the last width
            base["hidden"] = base["hidden"][-1]
        base.update(filters=r.choice([2, 3]), kernel_size=2, stride=r.choice([1, 2]), padding=1)
    vary = {"seed": [0, 1], "lr": r.sample([1.0, 0.3, 5.0], 2)}
    variants = {
        "optimizer": r.sample(["sgd", "momentum", "adam", "rmsprop", "adagrad"], 2),
        "activation": r.sample(["sigmoid", "tanh", "relu", "leaky_relu", "identity"], 2),
        "bias": [True, False],
        "momentum": [0.0, 0.5],
    }
    name = r.choice(sorted(variants))
    vary[name] = variants[name]
    lines = ['title = "random"', "[base]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in base.items()]
    lines += ["[[experiment]]", 'name = "x"', 'section = "extras"']
    lines += [f"vary.{k} = {json.dumps(v)}" for k, v in vary.items()]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(6))
def test_a_random_sweep_stacked_equals_it_run_alone(tmp_path, trial):
    spec = parse_spec(random_spec(trial), "random.toml")
    plain = sweep.run_sweep(spec, tmp_path / "plain", runner=sweep.choose_runner("off"))
    stacked = sweep.run_sweep(spec, tmp_path / "stacked", runner=sweep.choose_runner("auto"))
    assert plain.failed == {} and stacked.failed == {}
    summaries = assert_same_runs(tmp_path / "plain", tmp_path / "stacked")
    assert len(summaries) == 8
    sizes = [s["stacked_with"] for s in summaries.values()]
    assert max(sizes) == 8  # one stack (full batch: every drawn variant stacks)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report.build_report(tmp_path / "stacked", log=lambda m: None)
    assert (tmp_path / "stacked" / "figures" / "x-curves.png").is_file()
