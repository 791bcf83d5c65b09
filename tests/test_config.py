"""RunConfig.build_model's memory check: refused from arithmetic, naming the option."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import proplab.config as config
from proplab.cli import main
from proplab.config import ConfigError, RunConfig, build_model

GIB = 2**30


@pytest.fixture
def four_gib(monkeypatch) -> None:
    """A machine with 4 GiB of RAM, and no array allowed: the check must refuse first."""
    monkeypatch.setattr(config, "_physical_memory", lambda: 4 * GIB)

    def no_allocation(*args):
        raise AssertionError("the model was built although it cannot fit")

    monkeypatch.setattr(config, "_build_model", no_allocation)


def conv(**changes) -> RunConfig:
    return RunConfig(model="conv", **changes).validate()


def test_conv_filters_count_toward_the_size(four_gib) -> None:
    # 1e8 filters x 3 positions x 10 hidden units: 3.3e9 weights (was counted as 2-10-10-1)
    with pytest.raises(ConfigError, match=r"^filters: a conv network of 100,000,000 filters x 3"):
        build_model(conv(filters=100_000_000), 2, 1)


def test_conv_padding_counts_through_the_per_sample_arrays(four_gib) -> None:
    # a huge stride leaves one position (a handful of weights), but each sample's padded
    # input is 2e9 floats: the weights alone would let this through
    cfg = conv(padding=1_000_000_000, stride=10_000_000_000)
    floats, field, _ = config._network_size(cfg, 2, 1, samples=1)
    assert field == "padding" and floats > 2_000_000_000
    with pytest.raises(
        ConfigError, match=r"^padding: .* padding 1,000,000,000\) .* \(15 GiB in float64\)"
    ):
        build_model(cfg, 2, 1)


def test_conv_per_sample_arrays_scale_with_the_samples(four_gib, monkeypatch) -> None:
    cfg = conv(padding=10_000_000, stride=10_000_000)  # 3 positions: 4 * 3 * 10 weights or so
    # one sample's padded input is 2e7 floats (160 MB): fits; a hundred samples do not
    with pytest.raises(ConfigError, match=r"for 100 sample\(s\), needs 2,00\d,\d{3},\d{3} floats"):
        build_model(cfg, 2, 1, samples=100)
    monkeypatch.setattr(config, "_build_model", lambda *args: "built")
    assert build_model(cfg, 2, 1, samples=1) == "built"


def test_a_conv_model_that_fits_is_built(monkeypatch) -> None:
    monkeypatch.setattr(config, "_physical_memory", lambda: 4 * GIB)
    model = build_model(conv(filters=8, hidden=16), 2, 1, samples=1000)
    assert sum(p.data.size for p in model.parameters()) == 8 * 3 + (8 * 3 + 1) * 16 + 17


def test_cli_names_the_conv_option(tmp_path: Path, capsys, four_gib) -> None:
    out = tmp_path / "run"
    code = main(["train", "--model", "conv", "--filters", "100000000", "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("proplab train: error: argument --filters: a conv network of ")
    assert err.count("\n") == 1 and "more than this machine can allocate" in err
    assert not out.exists()


def test_widths_squared_past_float_range_are_refused_not_overflowed(four_gib) -> None:
    # cli20 H1: (1e308)**2 floats, divided by 2**30 as floats, raised OverflowError
    with pytest.raises(
        ConfigError,
        match=r"^hidden: a network of widths \[2, about 1\.0e\+308, about 1\.0e\+308, 1\] "
        r"has about 1\.0e\+616 weights and needs about 1\.0e\+616 floats "
        r"\(about 7\.4e\+607 GiB in float64\), more than this machine can allocate$",
    ):
        build_model(RunConfig(hidden=10**308).validate(), 2, 1)


def test_hidden_layers_past_float_range_are_refused_not_overflowed(four_gib) -> None:
    from proplab.cli_flags import _hidden_layers

    with pytest.raises(ConfigError, match=r"^layers: 3 layers of .* need about 3\.0e\+616 floats"):
        _hidden_layers(10**308, 3, "xor")


@pytest.mark.parametrize(
    ("floats", "words"),
    [
        (1_200, "1,200 floats (0 GiB in float64)"),
        (3 * 2**27 + 3 * 2**25, "503,316,480 floats (4 GiB in float64)"),  # 3.75, rounded
        (10**21 - 1, "999,999,999,999,999,999,999 floats (7,450,580,596,924 GiB in float64)"),
        (10**21, "about 1.0e+21 floats (7,450,580,596,924 GiB in float64)"),
        (27 * 10**5000, "about 2.7e+5001 floats (about 2.0e+4993 GiB in float64)"),
    ],
    ids=[
        "small",
        "rounded",
        "21 digits",
        "22 digits",
        "5002 digits",
    ],  # str() of 5002 digits raises
)
def test_float64_size_words(floats: int, words: str) -> None:
    assert config.float64_size(floats) == words


def test_a_kernel_longer_than_the_input_is_blamed_not_the_size(four_gib) -> None:
    # cli20 M1: kernel 1e14 made 4e14 weights, refused as too big and blamed on --hidden
    with pytest.raises(ConfigError, match=r"^kernel_size: Conv1d: input length 2 \+ 2\*padding 1"):
        build_model(conv(kernel_size=10**14), 2, 1)


def test_a_huge_kernel_that_fits_is_named_by_the_size_check(four_gib) -> None:
    cfg = conv(kernel_size=10**10 + 2, padding=5 * 10**9)  # just fits the padded input
    assert config._network_size(cfg, 2, 1, samples=1)[1] == "kernel_size"


# --- mutation-testing gaps: validate's bounds and canonical names ------------------------

MOMENTUM = "a velocity that never decays diverges"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"test_fraction": 1.0}, "test_fraction: must be a finite number in [0, 1), got 1.0"),
        # cli20 L3: a bool is no number (false was taken as 0, true named no number)
        (
            {"test_fraction": False},
            "test_fraction: must be a finite number in [0, 1), got False",
        ),
        ({"test_fraction": True}, "test_fraction: must be a finite number in [0, 1), got True"),
        ({"label": True}, "label: must be a column name or index, got True"),
        (
            {"momentum": -0.5},
            f"momentum: must be a finite number in [0, 1) ({MOMENTUM}), got -0.5",
        ),
        # cli20 M3: a momentum of 1 or more never lets the velocity decay, and diverges
        (
            {"momentum": 1.0},
            f"momentum: must be a finite number in [0, 1) ({MOMENTUM}), got 1.0",
        ),
        (
            {"momentum": 1.5},
            f"momentum: must be a finite number in [0, 1) ({MOMENTUM}), got 1.5",
        ),
        ({"seed": -1}, "seed: must be an integer >= 0, got -1"),
        ({"batch_size": 0}, "batch_size: must be a positive integer, got 0"),
        ({"tol": 0.0}, "tol: must be a finite number > 0, got 0.0"),
        ({"padding": -1}, "padding: must be an integer >= 0, got -1"),
        ({"lr": 0.0}, "lr: must be a finite number > 0, got 0.0"),
        ({"weight_decay": -1e-3}, "weight_decay: must be a finite number in [0.0, inf]"),
        ({"hidden": [10, 0]}, "hidden: must be a positive integer, got 0"),
        ({"loss": "bce", "output_activation": "identity"}, "loss: 'bce' needs output_activation"),
    ],
)
def test_validate_refuses_each_value_out_of_bounds(changes, message) -> None:
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        RunConfig(**changes).validate()


def test_validate_accepts_the_bounds_and_spells_names_canonically() -> None:
    cfg = RunConfig(
        test_fraction=0.0, momentum=0.0, seed=0, batch_size=1, tol=1e-300, padding=0,
        weight_decay=0.0, activation="ReLU", output_activation=" Sigmoid", loss="BCE",
        optimizer="Adam", init="Glorot",
    ).validate()  # fmt: skip
    assert (cfg.activation, cfg.output_activation, cfg.loss, cfg.optimizer, cfg.init) == (
        "relu",
        "sigmoid",
        "bce",
        "adam",
        "xavier",
    )


def test_only_the_momentum_optimizer_defaults_to_momentum() -> None:
    momenta = {
        name: RunConfig(optimizer=name).validate().effective_momentum
        for name in ("sgd", "momentum", "rmsprop")
    }
    assert momenta == {"sgd": 0.0, "momentum": 0.9, "rmsprop": 0.0}
    for name, momentum in momenta.items():
        cfg = RunConfig(optimizer=name).validate()
        opt = config.build_optimizer(cfg, build_model(cfg, 2, 1).parameters())
        assert float(opt.hyper["momentum"]) == momentum, name


def test_registry_aliases_name_the_same_things() -> None:
    from proplab.registry import canonical

    pairs = [("activation", "linear", "identity"), ("activation", "None", "identity"),
             ("activation", "Leaky-ReLU", "leaky_relu"), ("loss", "CE", "cross_entropy"),
             ("init", "kaiming", "he"), ("init", "glorot", "xavier")]  # fmt: skip
    assert [canonical(kind, name) for kind, name, _ in pairs] == [c for _, _, c in pairs]


def test_an_unknown_config_key_is_named_with_the_nearest_field() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^config: unknown key 'epoch' \(accepted: .*\); did you mean 'epochs'\?$",
    ):
        RunConfig.from_dict({"dataset": "xor", "epoch": 5})


def test_a_weight_decay_that_alone_diverges_sgd_is_named() -> None:
    # cli20 L4: weight_decay 1e308 diverged and was told only "try a smaller learning rate"
    from proplab.config import weight_decay_divergence_note

    note = weight_decay_divergence_note(RunConfig(weight_decay=3.0))
    assert note == (
        "lr x weight_decay = 3 is over 2: each step multiplies every weight by -2 whatever its "
        "gradient, so the weights grow until they overflow; a weight_decay below 2 (at lr 1) "
        "cannot do that"
    )
    # the bound is 2 / lr, and 2 (1 + momentum) / lr with momentum (0.9 for 'momentum')
    assert "below 0.4 (at lr 5)" in weight_decay_divergence_note(
        RunConfig(lr=5.0, weight_decay=0.5)
    )
    assert weight_decay_divergence_note(RunConfig(weight_decay=1.9)) is None
    assert weight_decay_divergence_note(RunConfig(optimizer="momentum", weight_decay=3.7)) is None
    assert "is over 3.8" in weight_decay_divergence_note(
        RunConfig(optimizer="momentum", weight_decay=3.9)
    )
    # Adam normalises the step: the decay's factor is no longer 1 - lr x weight_decay
    assert weight_decay_divergence_note(RunConfig(optimizer="adam", weight_decay=1e9)) is None
    assert weight_decay_divergence_note(RunConfig()) is None
