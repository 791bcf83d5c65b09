"""runio.write_columns_csv: exact float text, fixed decimals, repeated values."""

from __future__ import annotations

import math

import numpy as np

from proplab import runio


def test_columns_csv_round_trips_floats_exactly_and_rounds_named_columns(tmp_path):
    rng = np.random.default_rng(0)
    epochs = np.arange(1, 301)
    loss = rng.random(300) * 1e-3
    accuracy = rng.integers(0, 22, 300) / 21  # few distinct values: formatted once each
    clock = np.cumsum(rng.random(300) * 1e-4)
    path = runio.write_columns_csv(
        tmp_path / "h.csv",
        {"epoch": epochs, "loss": loss, "accuracy": accuracy, "wall_time": clock},
        {"wall_time": 6},
    )
    rows = runio.read_csv(path)
    assert [int(r["epoch"]) for r in rows] == epochs.tolist()
    assert [float(r["loss"]) for r in rows] == loss.tolist()
    assert [float(r["accuracy"]) for r in rows] == accuracy.tolist()
    assert [r["wall_time"] for r in rows] == [f"{t:.6f}" for t in clock.tolist()]
    # the same text the csv-module writer gives for the exact columns
    runio.write_csv(
        tmp_path / "ref.csv",
        ["epoch", "loss", "accuracy"],
        zip(epochs.tolist(), loss.tolist(), accuracy.tolist(), strict=True),
    )
    mine = runio.write_columns_csv(
        tmp_path / "mine.csv", {"epoch": epochs, "loss": loss, "accuracy": accuracy}
    )
    assert mine.read_text() == (tmp_path / "ref.csv").read_text()


def test_columns_csv_writes_plain_lists_and_an_empty_table(tmp_path):
    path = runio.write_columns_csv(tmp_path / "a.csv", {"k": [1, 2], "v": [0.5, float("nan")]})
    assert path.read_text() == "k,v\n1,0.5\n2,nan\n"
    empty = runio.write_columns_csv(tmp_path / "e.csv", {"k": [], "v": []})
    assert empty.read_text() == "k,v\n"


def test_json_writes_every_non_finite_float_as_null(tmp_path):
    values = {"a": math.inf, "b": -math.inf, "c": [1.5, np.float64(np.inf)], "d": math.nan}
    path = runio.write_json(tmp_path / "s.json", values)
    assert runio.read_json(path) == {"a": None, "b": None, "c": [1.5, None], "d": None}


def test_folder_names_are_shortened_only_beyond_the_limit():
    limit = runio.MAX_FOLDER_NAME
    assert runio.short_folder_name("a" * limit) == "a" * limit
    longer = runio.short_folder_name("a" * (limit + 1))
    assert len(longer) == limit and ",hash=" in longer
    assert longer != runio.short_folder_name("a" * (limit + 2))
