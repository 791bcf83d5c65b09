"""The data zoo: exact geometry without noise, seeding, and learnability by a small MLP."""

from fractions import Fraction

import numpy as np
import pytest

from proplab.losses import CrossEntropyLoss
from proplab.models import mlp
from proplab.optim import Adam
from proplab.scoring import accuracy
from proplab.splits import train_test_split
from proplab.train import fit
from proplab.zoo import SPIRAL_R0, ZOO, circle, gauss, load_zoo, moons, spiral, xor_quadrants


@pytest.mark.parametrize("name", list(ZOO))
def test_shapes_balance_and_seeding(name: str) -> None:
    x, y = ZOO[name](101, 0.1, 7)
    assert x.shape == (101, 2) and x.dtype == np.float64
    assert y.shape == (101, 1) and y.dtype == np.int64
    assert np.bincount(y[:, 0]).tolist() == [50, 51]
    x2, y2 = ZOO[name](101, 0.1, np.random.default_rng(7))
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, _ = ZOO[name](101, 0.1, 8)
    assert not np.allclose(x, x3)
    # shuffled: the classes are not in two blocks
    assert np.count_nonzero(np.diff(y[:, 0])) > 10


def test_noiseless_geometry() -> None:
    x, y = circle(200, 0.0, 1)
    r = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(r[y[:, 0] == 0], 1.0)
    np.testing.assert_allclose(r[y[:, 0] == 1], 0.5)

    x, y = xor_quadrants(400, 0.0, 1)
    assert np.all(np.abs(x) >= 0.1) and np.all(np.abs(x) <= 1.0)
    np.testing.assert_array_equal(y[:, 0], (x[:, 0] * x[:, 1] < 0).astype(int))
    assert len({tuple(np.sign(p)) for p in x}) == 4  # all four quadrants

    x, y = moons(200, 0.0, 1)
    upper, lower = x[y[:, 0] == 0], x[y[:, 0] == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert np.all(upper[:, 1] >= 0) and np.all(lower[:, 1] <= 0.5)

    x, y = spiral(200, 0.0, 1)
    r = np.hypot(x[:, 0], x[:, 1])
    assert r.min() >= SPIRAL_R0 and r.max() <= 1.0
    # arm k sits at angle 2 pi (r - r0) / (1 - r0) + k pi
    a = 2 * np.pi * (r - SPIRAL_R0) / (1 - SPIRAL_R0) + np.pi * y[:, 0]
    np.testing.assert_allclose(np.cos(a) * r, x[:, 0], atol=1e-12)
    np.testing.assert_allclose(np.sin(a) * r, x[:, 1], atol=1e-12)


def test_gauss_blob_statistics() -> None:
    x, y = gauss(20000, 0.3, 2)
    for label, centre in ((0, 1.0), (1, -1.0)):
        blob = x[y[:, 0] == label]
        np.testing.assert_allclose(blob.mean(axis=0), [centre, centre], atol=0.03)
        np.testing.assert_allclose(blob.std(axis=0), [0.8, 0.8], atol=0.03)


def test_noise_is_gaussian_with_the_given_std() -> None:
    clean, _ = circle(5000, 0.0, 3)
    noisy, _ = circle(5000, 0.2, 3)
    # same generator draws up to the noise: the difference is the noise itself
    assert np.std(noisy - clean) == pytest.approx(0.2, rel=0.03)


def test_bad_arguments_and_names() -> None:
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        circle(1)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        moons(10, -0.1)
    with pytest.raises(ValueError, match="accepted: circle, xor-quadrants, gauss, spiral, moons"):
        load_zoo("swirl")
    np.testing.assert_array_equal(load_zoo("xor_quadrants", 20)[0], xor_quadrants(20)[0])


# (hidden widths, epochs, required test accuracy): a 2-8-8-2 ReLU net for the
# simple shapes, a wider 2-64-64-2 one for the spiral
LEARNABLE = {
    "circle": ((8, 8), 50, 0.95),
    "xor-quadrants": ((8, 8), 50, 0.95),
    "gauss": ((8, 8), 50, 0.95),
    "moons": ((8, 8), 50, 0.95),
    "spiral": ((64, 64), 200, 0.90),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(LEARNABLE))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_learnable_by_a_small_mlp(name: str, seed: int) -> None:
    hidden, epochs, required = LEARNABLE[name]
    x, y = load_zoo(name, n=500, noise=0.1, rng=seed)
    x_train, x_test, y_train, y_test = train_test_split(x, y, 0.2, seed)
    model = mlp(
        2, hidden, 2, activation="relu", output_activation=None, rng=np.random.default_rng(seed)
    )
    opt = Adam(model.parameters(), lr=0.01)
    fit(
        model,
        CrossEntropyLoss(),
        opt,
        x_train,
        y_train,
        epochs,
        batch_size=32,
        rng=np.random.default_rng(seed),
    )
    assert accuracy(model.forward(x_test), y_test) >= required


def test_cli_zoo_run_scores_train_and_test_apart(tmp_path, capsys: pytest.CaptureFixture) -> None:
    import json

    from proplab.cli import main
    from proplab.config import RunConfig
    from proplab.dataload import holdout
    from proplab.serialize import load
    from proplab.train_text import format_summary_line

    run = tmp_path / "moons"
    argv = ["train", "--dataset", "moons", "--n", "200", "--noise", "0.1", "--test-fraction",
            "0.2", "--seed", "3", "--hidden", "16", "--activation", "relu", "--loss", "ce",
            "--optimizer", "adam", "--lr", "0.02", "--batch-size", "32", "--epochs", "100",
            "--print-every", "0", "--no-progress", "--out", str(run)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["n_samples"], summary["n_test"]) == (160, 40)
    assert out == [
        f"train: {format_summary_line(summary['loss'], summary['accuracy'])}",
        f"test: {format_summary_line(summary['test_loss'], summary['test_accuracy'])}",
    ]
    assert summary["test_accuracy"] >= 0.95
    # the run drew moons(200, 0.1, seed 3) and held out the same stratified 40 points
    x, y = load_zoo("moons", 200, 0.1, 3)
    cfg = RunConfig(dataset="moons", test_fraction=0.2)
    _, _, x_test, y_test = holdout(cfg, x, y)
    assert np.bincount(y_test[:, 0]).tolist() == [20, 20]
    model = load(run / "model.npz")
    assert accuracy(model.forward(x_test), y_test) == summary["test_accuracy"]
    assert {"decision_boundary.png", "comparison.png"} <= {p.name for p in run.iterdir()}


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: moons(10, "a"), ValueError, r"moons: noise must be a finite number >= 0, got 'a'"),
        (
            lambda: moons(10, True),
            ValueError,
            r"moons: noise must be a finite number >= 0, got True",
        ),
        (lambda: moons(float("inf")), ValueError, r"moons: n must be an integer >= 2.*got inf"),
        (lambda: spiral(None), ValueError, r"spiral: n must be an integer >= 2.*got None"),
        (
            lambda: circle(10, 0.1, "a"),
            TypeError,
            r"circle: rng must be a numpy Generator or a seed",
        ),
        (lambda: circle(10, 0.1, 1.5), TypeError, r"circle: rng must be .*got 1.5"),
        (lambda: gauss(10, 0.1, False), TypeError, r"gauss: rng must be .*got False"),
    ],
)
def test_generator_arguments_are_named(call, error, message):
    """noise 'a' was a ufunc error, n inf an OverflowError, rng 'a' a SeedSequence message,
    and rng 0.0 / [] / False silently meant seed 0."""
    with pytest.raises(error, match=message):
        call()


def test_a_seed_and_its_generator_draw_the_same_points():
    x0, _ = moons(10, 0.1, None)
    np.testing.assert_array_equal(x0, moons(10, 0.1, 0)[0])
    np.testing.assert_array_equal(x0, moons(10, 0.1, np.random.default_rng(0))[0])
    assert not np.array_equal(x0, moons(10, 0.1, 1)[0])


def test_spiral_arms_start_at_their_inner_radius_and_noise_must_be_finite():
    x, _ = spiral(500, noise=0.0, rng=3)
    r = np.hypot(x[:, 0], x[:, 1])
    assert r.min() >= SPIRAL_R0 - 1e-12 and r.min() < SPIRAL_R0 + 0.01 and r.max() <= 1.0 + 1e-12
    assert SPIRAL_R0 == 0.2
    for bad in (np.inf, np.nan, -0.1):
        with pytest.raises(ValueError, match="moons: noise must be a finite number >= 0"):
            moons(20, noise=bad)


@pytest.mark.parametrize("name", list(ZOO))
def test_a_fraction_noise_is_a_number_like_any_other(name: str) -> None:
    # a Fraction is a numbers.Real: it passed the type check, then np.isfinite refused it
    # with a ufunc TypeError, and a Fraction times the points made an object array (types18 L2)
    x, y = load_zoo(name, n=30, noise=Fraction(1, 10), rng=1)
    x_float, y_float = load_zoo(name, n=30, noise=0.1, rng=1)
    assert x.dtype == np.float64
    np.testing.assert_array_equal(x, x_float)
    np.testing.assert_array_equal(y, y_float)
    with pytest.raises(
        ValueError, match=r"noise must be a finite number >= 0, got Fraction\(-1, 10\)$"
    ):
        load_zoo(name, n=30, noise=Fraction(-1, 10), rng=1)


def test_a_finite_noise_that_overflows_the_samples_is_refused(capsys, tmp_path) -> None:
    # noise 1e308 passed the finite check, then put samples at -inf: a warning, and a
    # traceback from fit ("training data must be finite numbers") after the folder was made
    from proplab.cli import main

    with pytest.raises(
        ValueError, match=r"^1e\+308 puts samples at infinity; use a smaller noise$"
    ):
        moons(20, noise=1e308, rng=0)
    out = tmp_path / "run"
    assert main(["train", "--dataset", "moons", "--noise", "1e308", "--out", str(out)]) == 2
    assert not out.exists()
    assert capsys.readouterr().err.strip() == (
        "proplab train: error: argument --noise: 1e+308 puts samples at infinity; use a "
        "smaller noise"
    )
    assert np.isfinite(moons(20, noise=1e200, rng=0)[0]).all()  # huge, still a number
