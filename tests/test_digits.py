"""The digits: loading, the fixed split, the missing-dependency message, >= 97 % test accuracy."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from proplab import digits  # noqa: E402
from proplab.cli import main  # noqa: E402
from proplab.config import RunConfig, build_loss, build_model, build_optimizer  # noqa: E402
from proplab.dataload import DIGITS_DEFAULTS  # noqa: E402
from proplab.scoring import accuracy  # noqa: E402
from proplab.train import fit  # noqa: E402
from proplab.train_text import format_summary_line  # noqa: E402


def format_summary_line_for(part: str, loss: float, acc: float) -> str:
    return f"{part}: {format_summary_line(loss, acc)}"


# images per digit 0..9 in scikit-learn's copy of the UCI set
CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_load_digits_values() -> None:
    x, y = digits.load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float64
    assert y.shape == (1797, 1) and y.dtype == np.int64
    assert np.bincount(y[:, 0]).tolist() == CLASS_COUNTS
    # pixels were integers 0..16, now scaled by 1/16 into [0, 1]
    np.testing.assert_array_equal(x * 16, np.round(x * 16))
    assert x.min() == 0.0 and x.max() == 1.0
    # the first image is a 0: its centre column (pixels 3 and 4 of row 3) is dark
    assert y[0, 0] == 0 and x[0].reshape(8, 8)[3, 3:5].max() == 0.0


def test_fixed_split_is_stratified_and_matches_scikit_learn() -> None:
    from sklearn.model_selection import train_test_split

    s = digits.digits_split()
    assert s.x_train.shape == (1437, 64) and s.x_test.shape == (360, 64)
    # every digit shared out 80/20, within one image
    for c, total in enumerate(CLASS_COUNTS):
        assert abs(np.sum(s.y_test == c) - 0.2 * total) <= 1
    x, y = digits.load_digits()
    _, x_test, _, _ = train_test_split(x, y, test_size=0.2, stratify=y[:, 0], random_state=0)
    np.testing.assert_array_equal(s.x_test, x_test)
    np.testing.assert_array_equal(digits.digits_split().y_train, s.y_train)  # fixed


def test_missing_scikit_learn_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install 'proplab\[datasets\]'"):
        digits.load_digits()
    code = main(["train", "--dataset", "digits", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("proplab train: error: argument --dataset: the digits dataset")
    assert err[0].endswith("pip install 'proplab[datasets]'")


def test_cli_digits_defaults(capsys: pytest.CaptureFixture) -> None:
    from proplab.cli import build_parser
    from proplab.cli_flags import config_from

    cfg = config_from(build_parser().parse_args(["train", "--dataset", "digits"]))
    assert (cfg.loss, cfg.output_activation, cfg.optimizer, cfg.batch_size) == (
        "cross_entropy", "identity", "adam", 32,
    )  # fmt: skip
    assert cfg.hidden_sizes == [64, 64] and cfg.test_fraction == 0.2
    # a flag the user gives wins over the dataset's default
    cfg = config_from(build_parser().parse_args(["train", "--dataset", "digits", "--lr", "0.01"]))
    assert cfg.lr == 0.01 and cfg.epochs == DIGITS_DEFAULTS["epochs"]
    # the output activation follows a loss the user picks, unless given too
    for argv, output in (
        (["--dataset", "digits", "--loss", "bce"], "sigmoid"),
        (["--dataset", "spiral", "--loss", "ce"], "identity"),
        (["--dataset", "spiral", "--loss", "ce", "--output-activation", "tanh"], "tanh"),
        (["--dataset", "spiral"], "sigmoid"),  # the lab's defaults elsewhere
    ):
        cfg = config_from(build_parser().parse_args(["train", *argv]))
        assert cfg.output_activation == output, argv


@pytest.mark.slow
def test_cli_digits_reaches_97_percent(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "digits"
    code = main(["train", "--dataset", "digits", "--no-progress", "--out", str(run)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["n_test"] == 360 and summary["test_accuracy"] >= 0.97
    assert out[-1] == format_summary_line_for(
        "test", summary["test_loss"], summary["test_accuracy"]
    )
    for figure in ("confusion_matrix.png", "predictions.png", "learning_curve.png"):
        assert (run / figure).stat().st_size > 10_000
    # benchmarks/bench_digits.py times exactly this recipe: same model, same score
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import bench_digits

    assert bench_digits.cli_recipe(digits.digits_split(), 0)() == summary["test_accuracy"]


@pytest.mark.slow
def test_digits_defaults_hold_for_other_seeds() -> None:
    # the same recipe through the same builders, seeds 1 and 2 (seed 0 is the CLI test)
    s = digits.digits_split()
    accs = []
    for seed in (1, 2):
        cfg = RunConfig(dataset="digits", seed=seed, **DIGITS_DEFAULTS).validate()
        model = build_model(cfg, 64, 10)
        opt = build_optimizer(cfg, model.parameters())
        fit(model, build_loss(cfg), opt, s.x_train, s.y_train, cfg.epochs,
            batch_size=cfg.batch_size, rng=np.random.default_rng([seed, 1]))  # fmt: skip
        accs.append(accuracy(model.forward(s.x_test), s.y_test))
    assert min(accs) >= 0.97


@pytest.mark.parametrize(
    ("fraction", "held_out", "trained_on"), [("0.001", 2, 1795), ("0.995", 1789, 8)]
)
def test_cli_digits_split_too_small_for_ten_classes(
    tmp_path: Path, capsys: pytest.CaptureFixture, fraction: str, held_out: int, trained_on: int
) -> None:
    out = tmp_path / "run"
    argv = ["train", "--dataset", "digits", "--test-fraction", fraction, "--out", str(out)]
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"proplab train: error: argument --test-fraction: digits: {fraction} holds out "
        f"{held_out} of the 1797 rows and trains on {trained_on}; the stratified split needs "
        "at least 10 (one per class) in each, so use a value from 0.005565 to 0.9944"
    ]
    assert not out.exists()
    # the ends of that range are accepted
    for fraction in (0.005565, 0.9944):
        split = digits.digits_split(fraction)
        assert min(len(split.y_train), len(split.y_test)) >= 10


# ---------------------------------------------------------------- from mutation testing


def test_another_fraction_and_seed_cut_as_scikit_learns_train_test_split() -> None:
    from sklearn.model_selection import train_test_split

    x, y = digits.load_digits()
    s = digits.digits_split(0.3, seed=5)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, stratify=y[:, 0], random_state=5
    )
    # 30 % of 1797 is 539.1: scikit-learn rounds the test part up to 540
    assert len(s.y_test) == 540 and len(s.y_train) == 1257
    for mine, theirs in zip(s, (x_train, y_train, x_test, y_test), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    # the seed matters: seed 0 at the same fraction holds out other images
    assert not np.array_equal(s.x_test, digits.digits_split(0.3, seed=0).x_test)
