"""run_parts: the one place proplab train, proplab trace --after and the playground build and
train a configured network, so they stay one run (weights, batches, tol)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from proplab.config import RunConfig
from proplab.experiments import prepare_run, run_one
from proplab.report_data import read_history
from proplab.run_parts import build_run_parts
from proplab.serialize import load


def _train(cfg: RunConfig, out: Path) -> tuple[dict, np.ndarray, list[np.ndarray]]:
    summary = run_one(cfg, out, quiet=True, progress=False, figures=False)
    losses, _ = read_history(out)
    weights = [p.data for p in load(out / "model.npz").parameters()]
    return summary, losses, weights


def test_training_in_pieces_is_proplab_trains_one_run(tmp_path: Path) -> None:
    # shuffled mini-batches: the pieces must draw the batches of one long run from one
    # stream (a fresh shuffling stream per piece would repeat the first epochs' order)
    cfg = RunConfig(dataset="xor", hidden=[4], batch_size=5, epochs=300, lr=0.5, seed=3)
    _, losses, weights = _train(cfg, tmp_path / "run")
    parts = build_run_parts(*prepare_run(cfg))
    first = parts.fit(120)
    rest = parts.fit(180)
    np.testing.assert_array_equal(np.r_[first.loss, rest.loss], losses)
    for mine, saved in zip((p.data for p in parts.model.parameters()), weights, strict=True):
        np.testing.assert_array_equal(mine, saved)


def test_fit_stops_at_the_configs_tol_as_proplab_train_does(tmp_path: Path) -> None:
    cfg = RunConfig(dataset="xor", hidden=[4], epochs=2000, lr=1.0, tol=0.2, seed=0)
    summary, losses, weights = _train(cfg, tmp_path / "run")
    assert summary["stop_reason"] == "converged" and summary["epochs_run"] < 2000
    history = build_run_parts(*prepare_run(cfg)).fit(2000)
    assert history.stop_reason == "converged"
    assert len(history.loss) == summary["epochs_run"] == len(losses)
    assert history.loss[-1] < 0.2 <= history.loss[-2]
    np.testing.assert_array_equal(history.loss, losses)
