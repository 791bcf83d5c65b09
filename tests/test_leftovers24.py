"""fix24c: the leftovers of verify23 and claims23 - the last epoch's loss line (verify23 L3),
the float32 factor note (verify23 L1), the base model's name (claims23 L7), a paired bias
comparison (claims23 L5), one near-the-mean rule, and wrong types refused as TypeError."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest

from proplab.cli import main


def loss_epochs(text: str) -> list[int]:
    return [int(e) for e in re.findall(r"^epoch (\d+) loss : ", text, flags=re.M)]


# one small net: the printed epochs depend on --epochs only
SMALL = ("--dataset", "xor", "--hidden", "2", "--layers", "1", "--no-progress", "--quiet")


@pytest.mark.parametrize(
    ("epochs", "printed"),
    [
        # a quarter of 19 999 is 4 999: the last line comes at 19 999, not only at 19 996
        (19999, [4999, 9998, 14997, 19996, 19999]),
        (10, [2, 4, 6, 8, 10]),  # every 2 (10 // 4), as documented; 10 once
        (3000, [750, 1500, 2250, 3000]),
        (30000, [5000, 10000, 15000, 20000, 25000, 30000]),  # the default 5000 is fewer
    ],
)
def test_train_prints_the_last_epochs_line_once(
    tmp_path: Path, capsys, no_figures, epochs: int, printed: list[int]
) -> None:
    argv = ["train", *SMALL[:-1], "--epochs", str(epochs), "--out", str(tmp_path / "run")]
    assert main(argv) == 0
    assert loss_epochs(capsys.readouterr().out) == printed


def test_lab_prints_its_two_models_last_epoch_too(tmp_path: Path, capsys, no_figures) -> None:
    argv = ["lab", "--no-suite", "--no-progress", "--epochs", "7", "--out", str(tmp_path)]
    assert main(argv) == 0
    assert loss_epochs(capsys.readouterr().out) == [1, 2, 3, 4, 5, 6, 7] * 2  # 7 // 4 = 1
    argv = [*argv[:-1], str(tmp_path / "b"), "--print-every", "3"]
    assert main(argv) == 0
    assert loss_epochs(capsys.readouterr().out) == [3, 6, 7] * 2


def _history(run: Path) -> list[tuple[str, ...]]:
    """history.csv's rows without wall_time (the one column that differs run to run)."""
    with (run / "history.csv").open() as f:
        return [(r["epoch"], r["loss"], r["accuracy"]) for r in csv.DictReader(f)]


def test_print_every_does_not_change_the_history(tmp_path: Path, capsys, no_figures) -> None:
    rows = []
    for every in ("0", "3", "1000"):
        run = tmp_path / every
        argv = ["train", *SMALL, "--epochs", "11", "--print-every", every, "--out", str(run)]
        assert main(argv) == 0
        rows.append(_history(run))
    assert len(rows[0]) == 11 and rows[0] == rows[1] == rows[2]


def test_fit_stack_and_callbacks_train_log_the_last_epoch_too() -> None:
    """The rule lives in the training loops: fit (one model, a stack) and callbacks.train
    log every print_every epochs and the last, once; a run stopped by tol logs the line
    of the epoch it stopped at (verify24 L4: that loss was printed nowhere)."""
    from proplab.callbacks import train
    from proplab.config import RunConfig, build_loss, build_model, build_optimizer
    from proplab.data import generate_xor_easy
    from proplab.losses import MSELoss
    from proplab.models import mlp
    from proplab.optim import SGD
    from proplab.train import fit
    from proplab.train_text import format_epoch_line

    x, y = generate_xor_easy()
    for trainer in (fit, train):
        model = mlp(2, 3, 1, rng=np.random.default_rng(0))
        lines: list[str] = []
        trainer(model, MSELoss(), SGD(model.parameters(), lr=1.0), x, y, 11, print_every=4,
                log=lines.append)  # fmt: skip
        assert loss_epochs("\n".join(lines)) == [4, 8, 11], trainer
    cfg = RunConfig().validate()
    stack = build_model(cfg, 2, 1, seeds=[0, 1])
    lines = []
    opt = build_optimizer(cfg, stack.parameters())
    fit(stack, build_loss(cfg), opt, x, y, 11, print_every=4, log=lines.append)
    assert loss_epochs("\n".join(lines)) == [4, 8, 11]
    model = mlp(2, 3, 1, rng=np.random.default_rng(0))
    lines = []
    history = fit(model, MSELoss(), SGD(model.parameters(), lr=1.0), x, y, 11, print_every=4,
                  tol=10.0, log=lines.append)  # fmt: skip
    assert history.epochs_run == 1 and lines == [format_epoch_line(1, history.loss[0])]


# --- claims23 L7: "the lab model" only for the lab's network, data, epochs and tol ---------


def test_lab_or_base_needs_the_labs_network_data_epochs_and_tol() -> None:
    from proplab.config import RunConfig
    from proplab.report_text import lab_or_base
    from proplab.sweep import load_suite

    lab = RunConfig.from_dict(load_suite("lab").base).validate().to_dict()  # the suite's base
    assert lab_or_base(lab, ["linear", "xor"]) == "lab"
    for changes, datasets in (
        ({}, ["linear", "circle"]),  # another dataset
        ({}, ["moons"]),
        ({"epochs": 5000}, ["xor"]),  # other epochs
        ({"tol": 0.001}, ["xor"]),  # an early stop
        ({"hidden": 4}, ["xor"]),  # another network
    ):
        assert lab_or_base({**lab, **changes}, datasets) == "base", (changes, datasets)


SHORT_XOR = """
[base]
dataset = "xor"
epochs = 40
print_every = 0
[vary]
seed = [0]
[[experiment]]
name = "baseline"
title = "One model"
section = "results"
[[experiment]]
name = "bias"
title = "Biases"
section = "discussion"
vary.bias = [true, false]
"""


@pytest.mark.slow
def test_a_custom_sweep_of_the_labs_network_is_the_base_model(tmp_path: Path) -> None:
    """claims23 L7: 40 epochs of the lab's network on XOR were headed "The lab model on
    XOR" and "The lab model has 151 parameters"."""
    import io

    from proplab import report
    from proplab.sweep import parse_spec, run_sweep

    spec = parse_spec(SHORT_XOR, Path("short.toml"))
    assert run_sweep(spec, tmp_path, stream=io.StringIO()).exit_code == 0
    report.build_report(tmp_path, log=lambda m: None, jobs=1)
    md = (tmp_path / "report.md").read_text()
    assert "### The base model on XOR" in md
    assert "*XOR: learning curve of the base model*" in md
    assert "The base model has 151 parameters: 130 weights and 21 biases." in md
    assert "lab model" not in md


# --- claims23 L5: a paired bias comparison that every seed agrees on ---------------------


def _bias_paras(dataset: str, without: list[float], with_: list[float]) -> list[str]:
    from test_report_claims_lr import BIAS_QUESTION, _answers, _bias_pair

    from proplab.config import RunConfig

    base = RunConfig(dataset=dataset, epochs=400)  # as _bias_pair trains them
    return _answers(_bias_pair(dataset, without, with_), base)[BIAS_QUESTION]


def test_biases_better_in_every_shared_seed_is_said_not_hedged() -> None:
    # bias2's circle: with biases 89 / 69 / 70 %, without 63 / 64 / 67 % (seeds 0-2, the
    # same data seed for seed); the means' gap (11 points) is within their spread
    paras = _bias_paras("circle", [0.63, 0.64, 0.67], [0.89, 0.69, 0.70])
    assert paras[2] == (
        "Without biases the network ends lower on circle in every one of the 3 seeds, by "
        "3-26 points (each seed against the same seed with biases, on the same data), though "
        "the averages differ by less than the spread over seeds."
    )
    # bias2's xor-quadrants: 93 / 89 / 91 against 53 / 88 / 91, level in seed 2: the
    # spread rule as before
    paras = _bias_paras("xor-quadrants", [0.53, 0.88, 0.91], [0.93, 0.89, 0.91])
    assert paras[2] == (
        "Without biases the network ends lower on average on xor-quadrants, but by less than "
        "the spread over 3 seeds: no clear difference either way. More seeds would tell "
        "whether the biases matter there."
    )
    # the other way round: higher without biases in every seed
    paras = _bias_paras("circle", [0.89, 0.69, 0.70], [0.63, 0.64, 0.67])
    assert paras[2].startswith(
        "Without biases the network ends higher on circle in every one of the 3 seeds, by 3-26"
    )


def test_the_paired_rule_needs_three_shared_finite_seeds() -> None:
    from test_report_claims_lr import _bias_pair

    from proplab.report_text import above_in_every_seed

    nob, base = _bias_pair("circle", [0.63, 0.64, 0.67], [0.89, 0.69, 0.70])[::-1]
    assert above_in_every_seed(nob, base) == (3, pytest.approx(0.03), pytest.approx(0.26))
    assert above_in_every_seed(base, nob) is None
    two_nob, two_base = _bias_pair("circle", [0.63, 0.64, 0.67], [0.89, 0.69, 0.70])[::-1]
    two_nob.runs.pop(), two_base.runs.pop()  # two seeds: too few to tell
    assert above_in_every_seed(two_nob, two_base) is None
    other_seed = _bias_pair("circle", [0.63, 0.64, 0.67], [0.89, 0.69, 0.70])
    other_seed[0].runs[2].record.seed = 7  # not the same seeds: nothing paired
    assert above_in_every_seed(other_seed[1], other_seed[0]) is None


# --- one rule for an R² near the mean ------------------------------------------------------


@pytest.mark.parametrize(
    ("r2", "how"),
    [(-0.5, "worse than"), (-0.01, "no better than"), (0.015, "no better than"),
     (0.05, "hardly better than")],
)  # fmt: skip
def test_the_lr_answer_and_the_observations_word_an_r2_near_the_mean_alike(
    r2: float, how: str
) -> None:
    """report_lr._no_fit_text had two bins (< 0 worse, else hardly better) where the
    observations (report_text._near_mean) have three: R² 0.015 was "hardly better than"
    the mean in the answer and "no better than" it in the bullets of the same report."""
    from test_report_claims_lr import _falls, _group, _run

    from proplab import report_lr, report_text

    group = _group([_run("multi-gauss", s, _falls(0.5, 0.1, 50), r2) for s in range(3)])
    answer = report_lr._no_fit_text(group, "multi-gauss", held=False, named=True)
    assert f"that best R² is {how} predicting the targets' mean everywhere (R² 0)" in answer
    (bullet,) = report_text._near_mean("multi-gauss", [group], lambda g: "lr 1")
    assert f" ends {how} predicting the targets' mean everywhere (R² 0)." in bullet


# --- api leftovers: dtype=None, a Decimal lr, wrong types ------------------------------------


def test_mlp_dtype_none_is_the_default_float64_and_a_decimal_lr_is_refused() -> None:
    """mlp(dtype=None) builds what mlp() does (NumPy reads None as float64: documented, not
    refused); a Decimal lr is no real number to Python and is refused in one line."""
    import decimal

    from proplab.models import mlp
    from proplab.optim import SGD

    plain = mlp(rng=np.random.default_rng(3))
    given = mlp(rng=np.random.default_rng(3), dtype=None)
    for a, b in zip(plain.parameters(), given.parameters(), strict=True):
        assert b.data.dtype == np.float64
        np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(TypeError, match=r"^Invalid learning rate: Decimal\('0.5'\) \(accepted"):
        SGD(plain.parameters(), lr=decimal.Decimal("0.5"))
