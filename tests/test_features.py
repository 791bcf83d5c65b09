"""Input features (x1², x1·x2, sin...): hand-worked values, a central-difference check of
the backward, stacks, names, and PyTorch's autograd on the same formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from proplab import gradcheck
from proplab.features import FEATURES, Features, feature_names

ALL = list(FEATURES)


def test_values_by_hand() -> None:
    x = np.array([[2.0, 3.0], [-1.0, 0.5]])
    out = Features(ALL).forward(x)
    expected = [
        [2.0, 3.0, 4.0, 9.0, 6.0, math.sin(2.0), math.sin(3.0), math.sin(10.0), math.sin(15.0)],
        [-1.0, 0.5, 1.0, 0.25, -0.5, math.sin(-1.0), math.sin(0.5), math.sin(-5.0), math.sin(2.5)],
    ]
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    # the columns follow the order asked for
    np.testing.assert_array_equal(Features(["x1_x2", "x1"]).forward(x), [[6.0, 2.0], [-0.5, -1.0]])


def test_backward_by_hand() -> None:
    # L = 1*x1² + 1*x1x2 + 1*sin(x2): dL/dx1 = 2 x1 + x2, dL/dx2 = x1 + cos(x2)
    layer = Features(["x1_sq", "x1_x2", "sin_x2"])
    x = np.array([[2.0, 3.0]])
    layer.forward(x)
    grad = layer.backward(np.ones((1, 3)))
    np.testing.assert_allclose(grad, [[7.0, 2.0 + math.cos(3.0)]], rtol=1e-15)


def test_tensorflow_playgrounds_sin_features_by_hand() -> None:
    # TF's sin(X1) on its [-5, 5] data is sin(5 x1) on the zoo's [-1, 1]: x1 = 0.3 is its
    # X1 = 1.5. L = 2 sin(5 x1) - sin(5 x2): dL/dx1 = 10 cos(5 x1), dL/dx2 = -5 cos(5 x2)
    layer = Features(["sin_5x1", "sin_5x2"])
    x = np.array([[0.3, -0.7]])
    np.testing.assert_allclose(layer.forward(x), [[math.sin(1.5), math.sin(-3.5)]], rtol=1e-15)
    grad = layer.backward(np.array([[2.0, -1.0]]))
    np.testing.assert_allclose(grad, [[10 * math.cos(1.5), -5 * math.cos(-3.5)]], rtol=1e-15)


@pytest.mark.parametrize(
    "names", [ALL, ["x1_x2"], ["sin_x1", "x2_sq"], ["x2", "x1"], ["sin_5x2", "sin_5x1"]]
)
def test_backward_matches_central_differences(names) -> None:
    x = np.random.default_rng(0).normal(size=(6, 2))
    result = gradcheck(Features(names), x)
    assert result.ok, str(result)
    assert result.errors["input"] < 1e-8


def test_a_stack_maps_each_replicas_inputs() -> None:
    x = np.random.default_rng(1).normal(size=(3, 5, 2))  # 3 replicas' own data
    layer = Features(ALL)
    out = layer.forward(x)
    assert out.shape == (3, 5, 9)
    for k in range(3):
        np.testing.assert_array_equal(out[k], Features(ALL).forward(x[k]))
    grad = layer.backward(np.ones_like(out))
    single = Features(ALL)
    single.forward(x[1])
    np.testing.assert_array_equal(grad[1], single.backward(np.ones((5, 9))))


def test_names_and_aliases() -> None:
    assert feature_names(["X1", "x1^2", "x1*x2", "sin(x2)", "x2²"]) == (
        "x1",
        "x1_sq",
        "x1_x2",
        "sin_x2",
        "x2_sq",
    )
    assert repr(Features(["x1x2", "x1"])) == "Features(x1_x2, x1)"


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            ["x3"],
            r"features: unknown feature 'x3' \(accepted: x1, x2, x1_sq, x2_sq, x1_x2, sin_x1, sin_x2, "
            r"sin_5x1, sin_5x2\)",
        ),
        (["sinx1"], r"did you mean 'sin_x1'\?"),
        (["x1", "x1^2", "x1_sq"], r"features: 'x1_sq' is given twice"),
        ([], r"features: at least one is needed"),
        ("x1", r"features: must be a list of feature names, got 'x1'"),
    ],
)
def test_bad_names_are_named(names, message) -> None:
    with pytest.raises(ValueError, match=message):
        Features(names)


def test_inputs_other_than_two_are_refused() -> None:
    with pytest.raises(
        ValueError,
        match=r"Features takes two inputs \(x1, x2\) in the last axis, got shape \(4, 3\)",
    ):
        Features(["x1"]).forward(np.ones((4, 3)))


@pytest.mark.torch
def test_matches_torch_autograd() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).normal(size=(8, 2))
    g = np.random.default_rng(3).normal(size=(8, 9))
    layer = Features(ALL)
    out = layer.forward(x)
    grad = layer.backward(g)
    t = torch.tensor(x, requires_grad=True)
    a, b = t[:, 0], t[:, 1]
    sines = [torch.sin(a), torch.sin(b), torch.sin(5 * a), torch.sin(5 * b)]
    t_out = torch.stack([a, b, a * a, b * b, a * b, *sines], dim=-1)
    t_out.backward(torch.tensor(g))
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-14, atol=1e-15)


# --- through RunConfig, a run folder, the CLI and a sweep ---------------------------------


def test_a_config_takes_features_in_any_spelling() -> None:
    from proplab.config import ConfigError, RunConfig

    assert RunConfig(features=["x1", "x1*x2"]).validate().features == ["x1", "x1_x2"]
    assert RunConfig().validate().features is None
    with pytest.raises(ConfigError, match=r"^features: unknown feature 'x3'"):
        RunConfig(features=["x3"]).validate()
    with pytest.raises(ConfigError, match=r"^features: only the 'mlp' model takes input features"):
        RunConfig(features=["x1"], model="conv").validate()


def test_a_dataset_of_more_than_two_inputs_is_refused(tmp_path) -> None:
    from proplab.config import ConfigError, RunConfig
    from proplab.experiments import run_one

    csv = tmp_path / "three.csv"
    csv.write_text("a,b,c,label\n" + "".join(f"{i},{i % 3},{i % 5},{i % 2}\n" for i in range(20)))
    with pytest.raises(ConfigError) as err:
        run_one(RunConfig(dataset=str(csv), features=["x1_x2"]), tmp_path / "run", quiet=True)
    assert str(err.value) == (
        f"features: input features are functions of two inputs (x1, x2); {csv} has 3"
    )
    assert not (tmp_path / "run").exists()  # refused before the folder is made


def test_the_product_feature_solves_xor_quadrants_and_the_run_reloads(tmp_path) -> None:
    # TensorFlow Playground's lesson: with x1*x2 as an input one hidden layer of 2 units separates the
    # quadrants (97 %) where the same network on x1, x2 alone stays at 64 % (seed 0)
    from proplab import load
    from proplab.config import RunConfig
    from proplab.experiments import run_one
    from proplab.models import hidden_activations

    cfg = RunConfig(
        dataset="xor-quadrants", hidden=[2], activation="tanh", lr=0.5, epochs=300, seed=0
    )
    with_product = run_one(
        cfg.replace(features=["x1", "x2", "x1_x2"]), tmp_path / "f", quiet=True, figures=False
    )
    without = run_one(cfg, tmp_path / "raw", quiet=True, figures=False)
    assert with_product["accuracy"] >= 0.95 and without["accuracy"] <= 0.8
    model = load(tmp_path / "f" / "model.npz")
    assert isinstance(model.layers[0], Features) and model.layers[0].names == ("x1", "x2", "x1_x2")
    x = np.array([[0.5, 0.5], [-0.5, 0.5]])  # class 0 (same signs), class 1
    assert model.forward(x)[:, 0].round().tolist() == [0.0, 1.0]
    # the hidden units of a features model are computed from the raw inputs
    (units,) = hidden_activations(model, x)
    w, b = model.layers[1].weight.data, model.layers[1].bias.data
    np.testing.assert_allclose(units, np.tanh(Features(["x1", "x2", "x1_x2"]).forward(x) @ w + b))


def test_the_cli_trains_and_checks_features(tmp_path, capsys) -> None:
    from proplab.cli import main
    from proplab.runio import read_json

    out = tmp_path / "run"
    argv = ["--dataset", "circle", "--features", "x1^2", "x2^2", "--hidden", "2"]
    assert main(["train", *argv, "--epochs", "50", "--out", str(out), "--quiet"]) == 0
    assert read_json(out / "config.json")["config"]["features"] == ["x1_sq", "x2_sq"]
    capsys.readouterr()
    assert main(["gradcheck", *argv]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("gradcheck: (x1_sq, x2_sq)-2-2-1 sigmoid")
    assert lines[2].split()[:3] == ["0", "Features(x1_sq,", "x2_sq)"]
    assert lines[-1].startswith("gradcheck ok")


@pytest.mark.slow
def test_a_features_axis_trains_the_same_stacked_and_alone(tmp_path) -> None:
    from proplab.runio import read_json
    from proplab.sweep import choose_runner, parse_spec, run_sweep

    text = """
title = "Features"
[base]
dataset = "xor-quadrants"
hidden = [2]
activation = "tanh"
lr = 0.5
epochs = 200
[vary]
features = [["x1", "x2"], ["x1", "x2", "x1_x2"]]
seed = [0, 1, 2]
"""
    histories = {}
    for stack in ("auto", "off"):
        out = tmp_path / stack
        run_sweep(parse_spec(text, "f.toml"), out, runner=choose_runner(stack))
        histories[stack] = {
            p.parent.name: p.read_text().splitlines() for p in (out / "runs").glob("*/history.csv")
        }
    assert len(histories["auto"]) == 6
    # stacked by features setting: the three seeds of each trained as one stack
    stacks = {
        p.parent.name: read_json(p)["stacked_with"]
        for p in (tmp_path / "auto" / "runs").glob("*/summary.json")
    }
    assert set(stacks.values()) == {3}, stacks
    for name, rows in histories["auto"].items():
        strip = [",".join(r.split(",")[:3]) for r in rows]  # wall_time differs
        assert strip == [",".join(r.split(",")[:3]) for r in histories["off"][name]], name
    final = {n: float(r[-1].split(",")[2]) for n, r in histories["auto"].items()}
    product = [a for n, a in final.items() if "x1_x2" in n]
    plain = [a for n, a in final.items() if "x1_x2" not in n]
    assert min(product) > max(plain)


def test_a_features_axis_is_labelled_by_canonical_names() -> None:
    # "x1-x2-x1*x2" read as a subtraction, in the file's spelling (a review)
    from proplab.sweep import parse_spec

    text = """
[base]
dataset = "xor-quadrants"
[vary]
features = [["x1", "x2"], ["x1", "x2", "x1*x2"], ["sin(x1)", "x2"]]
"""
    (axis,) = parse_spec(text, "f.toml").experiments[0].axes
    assert [s.label for s in axis.settings] == ["(x1, x2)", "(x1, x2, x1_x2)", "(sin_x1, x2)"]


def test_no_hidden_layer_from_the_cli_and_in_the_report(tmp_path, capsys) -> None:
    # --hidden 0: inputs straight to the output; x1², x2² make the circle separable
    from types import SimpleNamespace

    from proplab import report_network
    from proplab.cli import main
    from proplab.config import ConfigError, RunConfig
    from proplab.runio import read_json

    out = tmp_path / "run"
    argv = ["--dataset", "circle", "--features", "x1_sq", "x2_sq", "--hidden", "0"]
    assert main(["train", *argv, "--epochs", "300", "--out", str(out), "--quiet"]) == 0
    assert read_json(out / "config.json")["config"]["hidden"] == []
    assert read_json(out / "summary.json")["accuracy"] >= 0.95
    capsys.readouterr()
    assert main(["gradcheck", *argv]) == 0
    assert capsys.readouterr().out.startswith("gradcheck: (x1_sq, x2_sq)-1 sigmoid")
    with pytest.raises(ConfigError, match=r"\(\[\] for no hidden layer: inputs straight"):
        RunConfig(hidden=0).validate()
    base = RunConfig(dataset="circle", hidden=[], features=["x1_sq", "x2_sq"])
    line = report_network.gradients_line(
        base, [SimpleNamespace(dataset="circle", config=base)], "circle"
    )
    assert "`proplab gradcheck --dataset circle --features x1_sq x2_sq --hidden 0` prints" in line


# ---------------------------------------------------------------- from mutation testing


def test_every_alias_names_its_feature_and_blanks_are_not_part_of_a_name() -> None:
    # only some aliases were checked: x1² could have named x2_sq unseen
    aliases = {
        "x1^2": "x1_sq",
        "x1²": "x1_sq",
        "x2^2": "x2_sq",
        "x2²": "x2_sq",
        "x1*x2": "x1_x2",
        "x1x2": "x1_x2",
        "sin(x1)": "sin_x1",
        "sin(x2)": "sin_x2",
        "sin(5x1)": "sin_5x1",
        "sin(5*x1)": "sin_5x1",
        "sin(5x2)": "sin_5x2",
        "sin(5*x2)": "sin_5x2",
    }
    for alias, name in aliases.items():
        assert feature_names([alias]) == (name,), alias
    # spaces inside a formula, and a tab or spaces around a name, are dropped
    assert feature_names(["x1 * x2", "sin( x1 )", " X2^2\t"]) == ("x1_x2", "sin_x1", "x2_sq")


def test_a_dataset_of_one_input_is_refused_before_training(tmp_path) -> None:
    # "!= 2", not "> 2": one input is refused as a config error too (not a ValueError of
    # the Features layer in the first epoch, after the run's folder is made)
    from proplab.config import ConfigError, RunConfig
    from proplab.experiments import run_one

    csv = tmp_path / "one.csv"
    csv.write_text("a,label\n" + "".join(f"{i},{i % 2}\n" for i in range(20)))
    with pytest.raises(ConfigError) as err:
        run_one(RunConfig(dataset=str(csv), features=["x1"]), tmp_path / "run", quiet=True)
    assert str(err.value) == (
        f"features: input features are functions of two inputs (x1, x2); {csv} has 1"
    )
    assert not (tmp_path / "run").exists()


def test_the_size_check_counts_the_features_as_the_networks_inputs(monkeypatch) -> None:
    # 3 features into 10-10-1: 3*10 + 10*10 + 10*1 = 140 weights (2 raw inputs give 130)
    from proplab import config
    from proplab.config import ConfigError, RunConfig, build_model

    monkeypatch.setattr(config, "_physical_memory", lambda: 8 * 100)  # 100 floats
    cfg = RunConfig(features=["x1", "x2", "x1_x2"]).validate()
    with pytest.raises(ConfigError) as err:
        build_model(cfg, 2, 1)
    assert str(err.value).startswith(
        "hidden: a network of widths [3, 10, 10, 1] has 140 weights and needs 140 floats"
    )
