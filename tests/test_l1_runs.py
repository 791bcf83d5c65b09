"""L1 regularization end to end: RunConfig.l1, ``proplab train --l1``, sweeps that stack runs
differing only in l1, and the effect it is taught for (a wide net left with few weights)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from test_stacking import assert_same_runs

from proplab import runio, stack_plan, stacking, sweep
from proplab.cli import main
from proplab.config import ConfigError, RunConfig, build_loss, build_model, build_optimizer
from proplab.experiments import prepare_run, read_run_config
from proplab.scoring import evaluate
from proplab.serialize import load
from proplab.sweep_spec import parse_spec
from proplab.train import fit

# --- RunConfig ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-1e-3, "-0.001"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        ("0.1", "'0.1'"),
        (True, "True"),
    ],
)
def test_a_bad_l1_is_a_config_error_naming_field_and_value(value, shown):
    with pytest.raises(ConfigError) as err:
        RunConfig(l1=value).validate()
    assert str(err.value) == f"l1: must be a finite number in [0.0, inf], got {shown}"


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "rmsprop", "adam"])
def test_build_optimizer_passes_l1_beside_weight_decay(optimizer):
    cfg = RunConfig(optimizer=optimizer, l1=2e-3, weight_decay=1e-4).validate()
    model = build_model(cfg, 2, 1)
    opt = build_optimizer(cfg, model.parameters())
    assert opt.hyper["l1"] == 2e-3 and opt.hyper["weight_decay"] == 1e-4
    assert build_optimizer(RunConfig(optimizer=optimizer), model.parameters()).hyper["l1"] == 0.0


def test_a_config_without_l1_reads_as_l1_0(tmp_path):
    """Run folders written before l1 existed still load (and resume in a sweep)."""
    values = RunConfig(epochs=5).to_dict()
    del values["l1"]
    (tmp_path / "config.json").write_text(json.dumps({"config": values}))
    assert read_run_config(tmp_path).l1 == 0.0


# --- the CLI -----------------------------------------------------------------------------


def _trained(cfg: RunConfig):
    cfg, prep = prepare_run(cfg.validate())
    model = build_model(cfg, prep.x.shape[-1], prep.n_out)
    fit(model, build_loss(cfg), build_optimizer(cfg, model.parameters()), prep.x, prep.y,
        cfg.epochs, print_every=0)  # fmt: skip
    return model


def test_train_with_l1_writes_it_and_trains_with_it(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    argv = ["train", "--dataset", "circle", "--n", "60", "--hidden", "8", "--layers", "1"]
    argv += ["--activation", "tanh", "--lr", "0.5", "--epochs", "300", "--l1", "1e-3"]
    code = main([*argv, "--print-every", "0", "--out", str(run), "--quiet", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    stored = runio.read_json(run / "config.json")["config"]
    assert stored["l1"] == 0.001 and stored["weight_decay"] == 0.0
    cfg = read_run_config(run)
    assert cfg.l1 == 0.001
    # the saved weights are those of this config trained in Python with l1, and not without
    saved = load(run / "model.npz").parameters()
    with_l1, without = _trained(cfg), _trained(cfg.replace(l1=0.0))
    for mine, theirs in zip(saved, with_l1.parameters(), strict=True):
        np.testing.assert_array_equal(mine.data, theirs.data)
    apart = max(
        np.max(np.abs(a.data - b.data)) for a, b in zip(saved, without.parameters(), strict=True)
    )
    assert apart > 1e-3


def test_a_negative_l1_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code = main(["train", "--l1", "-1", "--out", str(out)])
    out_text, err = capsys.readouterr()
    assert code == 2 and out_text == ""
    assert err.splitlines() == [
        "proplab train: error: argument --l1: must be a finite number in [0.0, inf], got -1.0"
    ]
    assert not out.exists()


def test_l1_is_in_the_help(capsys) -> None:
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--l1 L1 L1 regularization: adds l1 * sign(w) to each gradient" in text


# --- sweeps: l1 per replica ---------------------------------------------------------------

SPEC = """
title = "l1 stacked"
[base]
dataset = "circle"
n = 40
hidden = [6]
activation = "tanh"
lr = 0.5
epochs = 60
print_every = 0
[vary]
seed = [0, 1]
[[experiment]]
name = "l1"
title = "L1 rate"
vary.l1 = [0.0, 0.001, 0.01]
[[experiment]]
name = "l1_adam"
title = "L1 with weight decay, Adam"
base.optimizer = "adam"
base.lr = 0.05
base.weight_decay = 0.001
base.l1 = 0.003
vary.bias = [true, false]
"""


def test_runs_differing_only_in_l1_share_a_structure():
    base = RunConfig(epochs=10).validate()
    assert "l1" in stack_plan.PER_REPLICA
    key = stack_plan.structure_key(base)
    assert stack_plan.structure_key(base.replace(l1=0.01, seed=3)) == key


def test_a_stack_gives_each_replica_its_own_l1(xor):
    """Stacked in Python: each replica with its l1 (and one without a bias: its bias, held
    at 0 by the gradient mask, stays 0 under L1 as sign(0) = 0) equals its run alone."""
    base = RunConfig(dataset="xor", epochs=40, print_every=0, hidden=[5]).validate()
    cfgs = [
        base.replace(seed=0),
        base.replace(seed=1, l1=0.01),
        base.replace(seed=2, l1=0.05, weight_decay=0.01),
        base.replace(seed=3, l1=0.02, bias=False),
        base.replace(seed=4, l1=0.01, optimizer="adam", lr=0.05),
    ]
    x, y = xor[0], xor[1].astype(np.float64)
    runs = stacking.train_stack(cfgs, [x] * 5, [y] * 5, 1)
    for cfg, run in zip(cfgs, runs, strict=True):
        alone = build_model(cfg, 2, 1)
        history = fit(alone, build_loss(cfg), build_optimizer(cfg, alone.parameters()), x, y,
                      cfg.epochs, print_every=0)  # fmt: skip
        assert run.history.loss == history.loss
        stacked = dict(run.model.named_parameters())
        for name, p in alone.named_parameters():
            np.testing.assert_array_equal(stacked[name].data, p.data, err_msg=name)
    assert all(
        np.all(p.data == 0.0) for n, p in runs[3].model.named_parameters() if n.endswith("bias")
    )


def test_a_sweep_varying_l1_stacked_equals_unstacked(tmp_path):
    spec = parse_spec(SPEC, "l1.toml")
    plain = sweep.run_sweep(
        spec, tmp_path / "plain", runner=sweep.choose_runner("off"), stream=io.StringIO()
    )
    stacked = sweep.run_sweep(
        spec, tmp_path / "stacked", runner=sweep.choose_runner("auto"), stream=io.StringIO()
    )
    assert plain.failed == {} and stacked.failed == {}
    summaries = assert_same_runs(tmp_path / "plain", tmp_path / "stacked")
    assert len(summaries) == 10
    # the runs are named by their l1, and every run trained in one stack of ten
    assert "dataset=circle,l1=0.001,seed=1" in summaries
    assert (
        "dataset=circle,bias=false,optimizer=adam,lr=0.05,weight_decay=0.001,l1=0.003,seed=0"
        in summaries
    )
    assert {s["stacked_with"] for s in summaries.values()} == {10}
    # each stored config keeps its l1
    for name, l1 in (("dataset=circle,seed=0", 0.0), ("dataset=circle,l1=0.01,seed=1", 0.01)):
        assert read_run_config(tmp_path / "stacked" / "runs" / name).l1 == l1


# --- the teaching effect ------------------------------------------------------------------

# One hidden layer of 16 tanh units on the circle (a handful would do), SGD lr 0.5, 2 000
# epochs. Measured with _sparsity(l1, seed) over seeds 0-9: without L1, 0-10 % of the
# weights under 1e-2 in size and 15-16 units in use; with l1 = 1e-3, 56-77 % of them and
# 3-7 units in use; training accuracy >= 97 % either way.
WIDE = {"dataset": "circle", "hidden": [16], "activation": "tanh", "lr": 0.5, "epochs": 2000}


def _sparsity(l1: float, seed: int) -> tuple[float, int, float]:
    """(share of weights with |w| < 1e-2, hidden units in use, training accuracy)."""
    cfg = RunConfig(**WIDE, l1=l1, seed=seed, print_every=0).validate()
    model = _trained(cfg)
    w_in, w_out = (p.data for p in model.parameters() if p.name == "weight")
    weights = np.concatenate([w_in.ravel(), w_out.ravel()])
    used = (np.abs(w_in).max(axis=0) > 1e-2) & (np.abs(w_out).max(axis=1) > 1e-2)
    cfg, prep = prepare_run(cfg)
    _, acc, _ = evaluate(model, build_loss(cfg), prep.x, prep.y)
    return float(np.mean(np.abs(weights) < 1e-2)), int(used.sum()), float(acc)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_l1_leaves_a_wide_net_with_few_weights(seed):
    small, units, acc = _sparsity(0.0, seed)
    small_l1, units_l1, acc_l1 = _sparsity(1e-3, seed)
    # measured for seeds 0, 1, 2: 4 %, 6 %, 8 % of the 48 weights -> 75 %, 77 %, 56 %;
    # units in use 16, 15, 16 -> 4, 3, 7
    assert small <= 0.2 and units >= 14
    assert small_l1 >= 0.45 and small_l1 - small >= 0.35
    assert units_l1 <= 9
    # ... and the circle is still learned (measured 97-100 % with L1, 98-100 % without)
    assert acc >= 0.93 and acc_l1 >= 0.93
