"""Sweeps of regression runs (plane, multi-gauss): the file, stacks, tables, figures, resume.

A regression's targets are values, so its runs have no accuracy (NaN) and an R²
instead: each run folder's summary has ``r2`` (and ``test_r2``), the sweep's tables
carry them and their statistics over seeds, the printed table and the figures show
R² for those groups, and classification groups beside them keep their accuracy.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from proplab import sweep
from proplab.sweep import parse_spec

# two regression sets and a classification set, a held-out quarter, and an lr that
# diverges (40): every kind of cell the tables and figures must get right
MIXED = """
title = "regression beside classification"
[base]
epochs = 150
n = 48
activation = "tanh"
hidden = [6]
test_fraction = 0.25
print_every = 0
[vary]
dataset = ["plane", "multi-gauss", "circle"]
lr = [0.1, 0.5, 40.0]
seed = [0, 1, 2]
"""

REGRESSION_ONLY = """
title = "multi-gauss lr"
[base]
dataset = "multi-gauss"
epochs = 120
n = 40
activation = "tanh"
hidden = [5]
print_every = 0
[vary]
lr = [0.05, 0.3]
seed = [0, 1, 2]
"""


def _spec(text: str):
    return parse_spec(text, Path("regression.toml"))


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """The MIXED sweep trained both ways: ``(spec, plain dir, stacked dir, stacked result)``."""
    out = tmp_path_factory.mktemp("mixed")
    spec = _spec(MIXED)
    plain = sweep.run_sweep(spec, out / "plain", runner=sweep.choose_runner("off"))
    stacked = sweep.run_sweep(spec, out / "stacked", runner=sweep.choose_runner("auto"))
    assert plain.failed == {} and stacked.failed == {}
    return spec, out / "plain", out / "stacked", stacked


# ---------------------------------------------------------------- the sweep file


def test_a_regression_set_gets_its_identity_output_unless_the_file_sets_one():
    # the lab's sigmoid output is refused for values in [-1, 1]: without the set's own
    # default, `dataset = "multi-gauss"` alone made every run fail
    spec = _spec(REGRESSION_ONLY)
    assert {c.output_activation for c in spec.runs.values()} == {"identity"}
    # ... and the default is not a difference from [base] worth a folder name
    assert sorted(spec.runs)[0] == "dataset=multi-gauss,lr=0.05,seed=0"
    mixed = _spec(MIXED)
    outputs = {name.split(",")[0]: cfg.output_activation for name, cfg in mixed.runs.items()}
    assert outputs == {
        "dataset=plane": "identity",
        "dataset=multi-gauss": "identity",
        "dataset=circle": "sigmoid",
    }
    assert not any("output_activation" in name for name in mixed.runs)
    # a file that sets the output keeps it, and the name says so where it differs
    tanh = _spec(
        REGRESSION_ONLY.replace("[vary]", '[vary]\noutput_activation = ["tanh", "identity"]')
    )
    assert {c.output_activation for c in tanh.runs.values()} == {"tanh", "identity"}
    assert sum("output_activation=tanh" in n for n in tanh.runs) == 6


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'output_activation = "sigmoid"',
            "output_activation: 'sigmoid' outputs no negative value, but multi-gauss's "
            "targets span [-1, 1]",
        ),
        ('loss = "bce"', "loss: multi-gauss is a regression dataset"),
    ],
)
def test_an_output_or_loss_that_cannot_fit_values_is_refused_before_anything_runs(
    tmp_path, capsys, line, message
):
    path = tmp_path / "bad.toml"
    path.write_text(REGRESSION_ONLY.replace("[vary]", f"{line}\n[vary]"), encoding="utf-8")
    assert sweep.main(str(path), str(tmp_path / "out")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("proplab sweep: error: ") and message in err[0]
    assert not (tmp_path / "out" / "runs").exists() or not any(
        (tmp_path / "out" / "runs").iterdir()
    )
