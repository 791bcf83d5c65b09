"""Standardised inputs: the Standardize layer, ``standardize = true`` and ``--standardize``.

The case that asked for it: a CSV of heights (~170 cm) and weights (~70 kg). The lab's
sigmoid units saturate on such inputs and the run ends at one class everywhere (or R²
0); standardised with the training rows' statistics it learns the rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from proplab import gradcheck, load
from proplab.cli import main
from proplab.config import ConfigError, RunConfig, build_model
from proplab.core import Sequential
from proplab.dataload import holdout, input_scale_note, target_scale_note
from proplab.experiments import load_dataset, run_one
from proplab.features import Standardize, standardize_stats
from proplab.serialize import save


def body_csv(path: Path, regression: bool = False, n: int = 200) -> Path:
    """``height,weight,tall`` (or ``score``): 200 people, the label a linear rule of both."""
    rng = np.random.default_rng(7)
    height = rng.normal(170.0, 10.0, n)
    weight = rng.normal(70.0, 12.0, n)
    rule = (height - 170.0) / 10.0 + 0.5 * (weight - 70.0) / 12.0
    label = np.round(0.5 * rule, 4) if regression else (rule > 0).astype(int)
    name = "score" if regression else "tall"
    rows = [f"height,weight,{name}"] + [
        f"{h:.2f},{w:.2f},{v}" for h, w, v in zip(height, weight, label, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


# ---------------------------------------------------------------------------
# The layer


def test_values_and_gradient_by_hand() -> None:
    # mean (170, 5), std (10, 1) from two rows; the second column varies by 1
    layer = Standardize(np.array([170.0, 5.0]), np.array([10.0, 1.0]))
    out = layer(np.array([[160.0, 5.0], [190.0, 6.5]]))
    np.testing.assert_array_equal(out, [[-1.0, 0.0], [2.0, 1.5]])
    # y = (x - mean) / std: dL/dx = dL/dy / std
    np.testing.assert_array_equal(
        layer.backward(np.array([[1.0, 2.0], [-3.0, 4.0]])), [[0.1, 2.0], [-0.3, 4.0]]
    )


def test_a_float32_model_stays_float32_through_the_layer(tmp_path) -> None:
    # the float64 statistics upcast a float32 model's inputs, and so its whole forward
    layer = Standardize(np.array([170.0, 5.0]), np.array([10.0, 1.0]))
    out = layer(np.array([[160.0, 5.0], [190.0, 6.5]], dtype=np.float32))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.array([[-1.0, 0.0], [2.0, 1.5]], dtype=np.float32))
    assert layer.backward(np.ones((2, 2), dtype=np.float32)).dtype == np.float32
    cfg = RunConfig(dataset=str(body_csv(tmp_path / "body.csv")), label="tall", standardize=True)
    x = np.random.default_rng(0).normal(170.0, 10.0, size=(8, 2))
    model = build_model(cfg, 2, 1, stats=standardize_stats(x))
    assert model.forward(x.astype(np.float32)).dtype == np.float64  # float64 weights, as before
    assert layer.mean.dtype == np.float64  # the saved statistics keep their precision


def test_stats_are_the_population_ones_and_a_constant_column_is_only_centred() -> None:
    x = np.array([[160.0, 3.3, 1.0], [180.0, 3.3, 3.0], [170.0, 3.3, 2.0]])
    mean, std = standardize_stats(x)
    np.testing.assert_allclose(mean, [170.0, 3.3, 2.0])
    # ddof=0 (sqrt(200/3)); the constant column divides by 1, not 0 (or a rounding error)
    np.testing.assert_allclose(std, [np.sqrt(200.0 / 3.0), 1.0, np.sqrt(2.0 / 3.0)])
    out = Standardize(mean, std)(x)
    assert np.all(np.isfinite(out)) and np.all(out[:, 1] == 0.0)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out[:, [0, 2]].std(axis=0), 1.0)


def test_backward_matches_central_differences() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(170.0, 10.0, size=(6, 3))
    result = gradcheck(Standardize(*standardize_stats(x)), x)
    assert result.ok, str(result)
    assert result.errors["input"] < 1e-7
    # a stack: each replica's own statistics; shared inputs get the replicas' sum
    xs = rng.normal(size=(2, 5, 3)) * [[[1.0, 10.0, 100.0]]]
    stack = Standardize(*standardize_stats(xs))
    assert gradcheck(stack, xs).ok
    shared = rng.normal(size=(5, 3))
    assert gradcheck(stack, shared).ok


def test_a_stack_standardises_each_replica_with_its_own_statistics() -> None:
    xs = np.random.default_rng(2).normal(50.0, 20.0, size=(3, 8, 2))
    stack = Standardize(*standardize_stats(xs))
    assert stack.buffers["mean"].shape == (3, 2)
    out = stack(xs)
    grad = stack.backward(np.ones_like(out))
    for k in range(3):
        alone = Standardize(*standardize_stats(xs[k]))
        np.testing.assert_array_equal(out[k], alone(xs[k]))
        np.testing.assert_array_equal(grad[k], alone.backward(np.ones((8, 2))))


@pytest.mark.parametrize(
    ("mean", "std", "message"),
    [
        ([0.0, 1.0], [1.0], "one shape"),
        ([0.0], [0.0], "std finite and > 0"),
        ([np.nan], [1.0], "mean must be finite"),
    ],
)
def test_bad_statistics_are_refused(mean, std, message) -> None:
    with pytest.raises(ValueError, match=message):
        Standardize(np.array(mean), np.array(std))


def test_save_and_load_keep_the_statistics(tmp_path) -> None:
    x = np.random.default_rng(3).normal(170.0, 10.0, size=(2, 7, 2))  # a stack of 2
    model = Sequential(Standardize(*standardize_stats(x)))
    path = save(model, tmp_path / "m.npz")
    back = load(path)
    assert isinstance(back.layers[0], Standardize) and back.layers[0].replicas == (2,)
    np.testing.assert_array_equal(back(x), model(x))
    np.testing.assert_array_equal(back.layers[0].buffers["std"], model.layers[0].std)


# ---------------------------------------------------------------------------
# The config and the runs


def test_the_config_key_is_a_bool_and_default_off_changes_nothing() -> None:
    with pytest.raises(ConfigError, match=r"standardize: must be true or false.*got 'yes'"):
        RunConfig(standardize="yes").validate()
    with pytest.raises(ConfigError, match=r"standardize: must be true or false.*got 1"):
        RunConfig(standardize=1).validate()
    assert RunConfig().standardize is False
    # off: the model is the one it always was, first layer and weights alike
    plain = build_model(RunConfig(dataset="linear"), 2, 1)
    assert not any(isinstance(m, Standardize) for m in plain.modules())
    on = build_model(RunConfig(dataset="linear", standardize=True), 2, 1)
    assert isinstance(on.layers[0], Standardize) and len(on.layers) == len(plain.layers) + 1
    for a, b in zip(plain.parameters(), on.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)  # a layer without weights draws none


def test_a_sweep_names_the_key_only_when_it_is_on() -> None:
    from proplab.sweep import parse_spec
    from proplab.sweep_spec import SweepError

    text = '[base]\ndataset = "circle"\nepochs = 5\n[vary]\nstandardize = [false, true]\n'
    spec = parse_spec(text, "s.toml")
    assert list(spec.runs) == ["dataset=circle,seed=0", "dataset=circle,standardize=true,seed=0"]
    with pytest.raises(SweepError, match="standardize: must be true or false"):
        parse_spec('[base]\ndataset = "circle"\nstandardize = "yes"\n', "s.toml")


def test_statistics_come_from_the_training_rows_only(tmp_path) -> None:
    # the test share is held out by class: the statistics of all rows differ from the
    # training rows' in both columns, so taking the test rows in would show
    csv = body_csv(tmp_path / "body.csv")
    cfg = RunConfig(
        dataset=str(csv), label="tall", epochs=5, test_fraction=0.3, standardize=True
    ).validate()
    run_one(cfg, tmp_path / "run", quiet=True, progress=False, figures=False)
    layer = load(tmp_path / "run" / "model.npz").layers[0]
    x, y = load_dataset(cfg)
    x_train, _, x_test, _ = holdout(cfg, x, y)
    assert x_test.shape[0] == 60
    np.testing.assert_array_equal(layer.mean, x_train.mean(axis=0))
    np.testing.assert_array_equal(layer.std, x_train.std(axis=0))
    assert np.all(np.abs(layer.mean - x.mean(axis=0)) > 1e-3)
    assert np.all(np.abs(layer.std - x.std(axis=0)) > 1e-3)


def _train(tmp_path: Path, csv: Path, *flags: str) -> tuple[dict, str]:
    out = tmp_path / ("std" if "--standardize" in flags else "raw")
    argv = ["train", "--dataset", str(csv), "--epochs", "1500", "--optimizer", "adam"]
    argv += ["--lr", "0.01", "--test-fraction", "0.2", "--out", str(out), "--quiet"]
    argv += ["--no-progress", *flags]
    assert main(argv) == 0
    return json.loads((out / "summary.json").read_text()), str(out)


def test_heights_and_weights_train_only_standardised_and_the_note_says_so(tmp_path, capsys):
    csv = body_csv(tmp_path / "body.csv")
    raw, _ = _train(tmp_path, csv, "--label", "tall")
    err = capsys.readouterr().err
    # one class everywhere: the sigmoids of the first layer saturate at inputs of 170
    assert raw["test_accuracy"] < 0.8
    assert "'height' (mean 168.7," in err and "'weight' (mean 69.05," in err
    assert "pass --standardize" in err
    std, out = _train(tmp_path, csv, "--label", "tall", "--standardize")
    assert "--standardize" not in capsys.readouterr().err  # the note is for runs without it
    assert std["test_accuracy"] >= 0.95 and std["accuracy"] >= 0.95
    # the saved model takes raw rows (its first layer standardises) and predicts as scored
    model = load(Path(out) / "model.npz")
    x, y = load_dataset(RunConfig(dataset=str(csv), label="tall"))
    assert np.mean((model(x) > 0.5) == y) >= 0.95


@pytest.mark.slow
def test_a_regression_on_heights_fits_only_standardised(tmp_path, capsys) -> None:
    csv = body_csv(tmp_path / "body.csv", regression=True)
    flags = ("--label", "score", "--task", "regression")
    raw, _ = _train(tmp_path, csv, *flags)
    assert "pass --standardize" in capsys.readouterr().err
    std, _ = _train(tmp_path, csv, *flags, "--standardize")
    assert raw["r2"] < 0.5 and std["r2"] > 0.95 and std["test_r2"] > 0.95


def test_the_note_names_only_columns_far_from_unit_scale(tmp_path) -> None:
    csv = tmp_path / "mixed.csv"
    rows = ["small,big,label"] + [f"{i / 10:.1f},{1000 + i},{i % 2}" for i in range(20)]
    csv.write_text("\n".join(rows) + "\n")
    note = input_scale_note(RunConfig(dataset=str(csv)))
    assert note is not None and "column 'big' (mean 1010" in note and "'small'" not in note
    assert " is far from unit scale" in note
    assert input_scale_note(RunConfig(dataset=str(csv), standardize=True)) is None
    assert input_scale_note(RunConfig(dataset="circle")) is None  # generated: near unit scale


def test_an_id_column_is_named_standardized_or_not_and_targets_say_what_standardize_does(
    tmp_path,
) -> None:
    # csv18: an ID column 1..60 trained as an input, and the note said to standardise it;
    # a student who passed --standardize for prices of ~1e5 was not told it left them as is
    csv = tmp_path / "ids.csv"
    rows = ["id,height,tall"] + [f"{i + 1},{1.5 + (i % 7) / 10:.1f},{i % 2}" for i in range(30)]
    csv.write_text("\n".join(rows) + "\n")
    expected = (
        f"the input column 'id' of {csv} counts 1, 2, ..., 30: a row number is no property of "
        "a row; if it is an ID, leave it out (--drop-columns id; it is an input of the model)"
    )
    assert input_scale_note(RunConfig(dataset=str(csv))) == expected
    assert input_scale_note(RunConfig(dataset=str(csv), standardize=True)) == expected
    # what it says works: without the column nothing counts rows
    assert input_scale_note(RunConfig(dataset=str(csv), drop_columns=["id"])) is None
    prices = tmp_path / "prices.csv"
    rows = ["size,price"] + [f"{50 + i},{100_000 + 1000 * i}.5" for i in range(30)]
    prices.write_text("\n".join(rows) + "\n")
    cfg = RunConfig(dataset=str(prices), task="regression")
    plain = target_scale_note(cfg)
    assert plain is not None and "(subtract 114500, divide by 8655.44)" in plain
    assert target_scale_note(cfg.replace(standardize=True)) == (
        plain + "; --standardize scales the input columns only"
    )


def test_a_stacked_sweep_of_standardised_runs_equals_the_runs_alone(tmp_path) -> None:
    from test_stacking import assert_same_runs

    from proplab import sweep

    # moons is drawn with each seed: every replica has its own training rows and
    # statistics; activations differ too (a PerReplica block behind the Standardize)
    text = """
title = "standardised"
[base]
dataset = "moons"
n = 60
test_fraction = 0.25
standardize = true
hidden = [6]
epochs = 300
[vary]
seed = [0, 1, 2]
lr = [0.5, 1.0]
activation = ["sigmoid", "tanh"]
"""
    spec = sweep.parse_spec(text, "std.toml")
    plain = sweep.run_sweep(spec, tmp_path / "plain", runner=sweep.choose_runner("off"))
    stacked = sweep.run_sweep(spec, tmp_path / "stacked", runner=sweep.choose_runner("auto"))
    assert plain.failed == {} and stacked.failed == {}
    summaries = assert_same_runs(tmp_path / "plain", tmp_path / "stacked")
    assert len(summaries) == 12 and {s["stacked_with"] for s in summaries.values()} == {12}
    means = set()
    for name in summaries:
        a = load(tmp_path / "plain" / "runs" / name / "model.npz")
        b = load(tmp_path / "stacked" / "runs" / name / "model.npz")
        for (na, ba), (nb, bb) in zip(a.named_buffers(), b.named_buffers(), strict=True):
            assert na == nb
            np.testing.assert_array_equal(ba, bb)
        means.add(tuple(b.layers[0].mean))
    assert len(means) == 3  # one per seed's data


def test_a_standardised_runs_figure_titles_say_so() -> None:
    from proplab.run_figures import describe

    cfg = RunConfig(standardize=True, dropout=0.1)
    assert describe(cfg, 2, 1) == (
        "2-10-10-1 sigmoid, standardised inputs, dropout 0.1, mse, sgd lr=1"
    )
    assert (
        describe(cfg.replace(standardize=False), 2, 1)
        == "2-10-10-1 sigmoid, dropout 0.1, mse, sgd lr=1"
    )


def test_gradcheck_and_trace_take_standardize_as_the_report_prints_them(tmp_path, capsys):
    # the report checked the standardised network but printed commands for the raw one,
    # and neither command took --standardize
    from proplab.report_network import _gradcheck_command, _trace_command

    data = body_csv(tmp_path / "body.csv")
    cfg = RunConfig(dataset=str(data), label="tall", standardize=True).validate()
    command = _gradcheck_command(cfg)
    assert command == f"proplab gradcheck --dataset {data} --label tall --standardize"
    assert _trace_command(cfg).startswith(
        f"proplab trace --dataset {data} --label tall --standardize"
    )
    assert main(command.split()[1:]) == 0
    out = capsys.readouterr().out
    assert "  0  Standardize(2)" in out and "gradcheck ok" in out
    assert out.startswith("gradcheck: 2-10-10-1 sigmoid (output sigmoid, standardised inputs),")
    assert main(["trace", "--dataset", str(data), "--label", "tall", "--standardize", "--hidden",
                 "2", "--samples", "1", "--digits", "3"]) == 0  # fmt: skip
    assert "h1 = Standardize(x)" in capsys.readouterr().out


def test_train_says_what_standardize_standardised_with(tmp_path, capsys) -> None:
    # csv18: nothing said what --standardize had done; the line gives each column's mean and
    # deviation over the training rows, the numbers the saved model keeps
    csv = body_csv(tmp_path / "body.csv")
    out = tmp_path / "run"
    argv = ["train", "--dataset", str(csv), "--label", "tall", "--standardize", "--epochs", "5"]
    assert main([*argv, "--test-fraction", "0.2", "--out", str(out), "--no-progress"]) == 0
    err = capsys.readouterr().err.splitlines()
    layer = load(out / "model.npz").layers[0]
    (line,) = [e for e in err if "inputs standardised" in e]
    assert line == (
        "proplab train: inputs standardised with the training rows' mean ± standard deviation: "
        f"height {layer.mean[0]:.4g} ± {layer.std[0]:.4g}, weight {layer.mean[1]:.4g} ± "
        f"{layer.std[1]:.4g} (model.npz keeps them: it takes raw rows)"
    )
    x_train = np.loadtxt(csv, delimiter=",", skiprows=1, usecols=(0, 1))
    assert abs(layer.mean[0] - x_train[:, 0].mean()) < 2  # the training 80 %, near the whole


def test_notes_on_many_columns_list_the_first_eight_and_count_the_rest(tmp_path, capsys) -> None:
    # scale19 L5: 100 columns' means and deviations made one 2.4 KB line on stderr
    csv = tmp_path / "wide.csv"
    rows = [",".join([f"c{j}" for j in range(20)] + ["label"])]
    rows += [
        ",".join([f"{1000 * (j + 1) + i}" for j in range(20)] + [str(i % 2)]) for i in range(12)
    ]
    csv.write_text("\n".join(rows) + "\n")
    far = input_scale_note(RunConfig(dataset=str(csv)))
    assert far is not None and far.startswith(
        "the input columns 'c0' (mean 1006, standard deviation 3.452), 'c1' (mean 2006, "
    )
    assert f"'c7' (mean 8006, standard deviation 3.452), ... and 12 more of {csv} are far" in far
    assert "'c8'" not in far
    out = tmp_path / "run"
    argv = ["train", "--dataset", str(csv), "--standardize", "--epochs", "2", "--quiet"]
    assert main([*argv, "--no-progress", "--out", str(out)]) == 0
    (line,) = [e for e in capsys.readouterr().err.splitlines() if "inputs standardised" in e]
    layer = load(out / "model.npz").layers[0]
    assert layer.mean.shape == (20,)  # the model keeps all 20
    assert line.startswith(
        "proplab train: inputs standardised with the training rows' mean ± standard deviation: "
        f"c0 {layer.mean[0]:.4g} ± {layer.std[0]:.4g}, c1 "
    )
    assert line.endswith(
        f", c7 {layer.mean[7]:.4g} ± {layer.std[7]:.4g}, ... and 12 more (model.npz keeps "
        "them: it takes raw rows)"
    )
    assert " c8 " not in line and len(line) < 300


def test_standardize_equals_scikit_learns_standard_scaler() -> None:
    # hollow19: the one module with no outside reference; its statistics follow
    # StandardScaler (ddof 0, a constant column only centred)
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4)) * [1.0, 100.0, 0.01, 0.0] + [0.0, 170.0, -3.0, 7.0]
    ours = Standardize(*standardize_stats(x)).forward(x)
    np.testing.assert_allclose(
        ours, preprocessing.StandardScaler().fit_transform(x), rtol=1e-12, atol=1e-12
    )
    assert np.all(ours[:, 3] == 0.0)  # the constant column: centred only
