"""Names become classes in one place: the registered spellings, their aliases, and the
error (with a suggestion) for a name that is neither."""

from __future__ import annotations

import numpy as np
import pytest

from proplab import init
from proplab.core import did_you_mean
from proplab.registry import canonical, resolve


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        ("init", "kaiming_normal", "he_normal"),  # PyTorch's name
        ("init", "kaiming_uniform", "he"),
        ("init", "glorot_normal", "xavier_normal"),  # Keras's name
        ("init", "Glorot_Uniform", "xavier"),  # any case, as every registered name
        ("init", "xavier_uniform", "xavier"),
        ("init", "he_uniform", "he"),
        ("loss", "cross-entropy", "cross_entropy"),
        ("activation", " Leaky-ReLU ", "leaky_relu"),
    ],
)
def test_aliases_name_the_registered_draw_or_class(kind, name, expected):
    assert canonical(kind, name) == expected


def test_an_alias_draws_the_same_weights_as_its_registered_name():
    # he_normal: N(0, 2 / fan_in); kaiming_normal must be that very draw
    a = resolve("init", "kaiming_normal")((3, 4), rng=np.random.default_rng(5))
    b = init.he_normal((3, 4), rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("kind", "name", "suggestion"),
    [
        ("activation", "sigmod", "; did you mean 'sigmoid'?"),
        ("activation", "SIGMOD", "; did you mean 'sigmoid'?"),
        ("optimizer", "adma", "; did you mean 'adam'?"),
        ("init", "kaiming_norml", "; did you mean 'kaiming_normal'?"),  # aliases count too
        ("loss", "hinge", ""),  # nothing close: no guess
    ],
)
def test_an_unknown_name_lists_the_accepted_ones_and_suggests_the_nearest(kind, name, suggestion):
    with pytest.raises(ValueError) as info:
        canonical(kind, name)
    message = str(info.value)
    assert message.startswith(f"unknown {kind} {name!r} (accepted: ")
    assert message.endswith(")" + suggestion)


def test_did_you_mean_picks_the_closest_or_nothing():
    assert did_you_mean("epoch", ["lr", "epochs", "seed"]) == "; did you mean 'epochs'?"
    assert did_you_mean("xro", ["linear", "xor", "moons"]) == "; did you mean 'xor'?"
    assert did_you_mean("zzz", ["linear", "xor", "moons"]) == ""
    # persona22 L5: an accepted name with a part added after a separator, the longest
    for handout in ("xor_easy", "XOR_easy", "xor-easy"):
        assert did_you_mean(handout, ["linear", "xor", "xor-quadrants"]) == "; did you mean 'xor'?"
    assert did_you_mean("xor-quadrants-2", ["xor", "xor-quadrants"]) == (
        "; did you mean 'xor-quadrants'?"
    )
    assert did_you_mean("xorandmore", ["linear", "xor"]) == ""
    assert did_you_mean("", []) == ""


def test_the_dataset_loaders_suggest_the_nearest_name_too():
    from proplab.config import RunConfig
    from proplab.experiments import load_dataset
    from proplab.zoo import load_zoo

    with pytest.raises(ValueError, match=r"\(accepted: linear, xor, .*; did you mean 'xor'\?$"):
        load_dataset(RunConfig(dataset="xro"))
    with pytest.raises(ValueError, match=r"; did you mean 'spiral'\?$"):
        load_zoo("sprial", rng=np.random.default_rng(0))
