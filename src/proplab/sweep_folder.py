"""Which runs a sweep folder already holds, and what a sweep does with them.

A sweep folder ``DIR`` holds one run folder per configuration in ``DIR/runs/``
and the sweep file it last ran as ``DIR/sweep.toml``. This module reads them
(:func:`read_summary`, :func:`run_problem`, :func:`is_finished`), matches a
sweep's runs with the folders there (:func:`survey`: reuse, rename, refuse)
and refuses a folder that holds another sweep (:func:`check_same_sweep`).
It trains nothing: :mod:`proplab.sweep_workers` does.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proplab.config import RunConfig
from proplab.datapath import data_file
from proplab.sweep_spec import SweepError, SweepSpec

RUNS_DIR = "runs"
SPEC_COPY = "sweep.toml"
SWEEP_LOG = "sweep_log.csv"  # one row per `proplab sweep` call: when, how long, what it did
PARKED = ".moving-"  # apply_moves' hidden folders in runs/, a run in each between its steps


@dataclass(frozen=True)
class RunJob:
    """One configuration to train into ``run_dir``."""

    name: str
    config: RunConfig
    run_dir: Path
    figures: bool = False  # per-run PNGs (the report draws its own figures from the files)

    @property
    def cost(self) -> float:
        """Rough relative cost for the ETA: epochs times a width factor."""
        return self.config.epochs * (1.0 + sum(self.config.hidden_sizes) / 40.0)


class DamagedRunError(SweepError):
    """A run folder has its ``summary.json`` but a file of the run is unreadable or missing."""


# summary.json values the tables and the report compute with (None: a diverged run)
SUMMARY_NUMBERS = (
    "loss", "accuracy", "final_loss", "final_accuracy", "epochs_run", "wall_time_s",
    "stacked_with", "test_loss", "test_accuracy", "r2", "test_r2",
)  # fmt: skip
NPZ_MAGIC = b"PK\x03\x04"  # an .npz is a zip archive


def read_summary(run_dir: Path) -> dict[str, Any]:
    """A run's ``summary.json``, checked; DamagedRunError naming the file otherwise."""
    from proplab.runio import read_json

    path = run_dir / "summary.json"
    try:
        summary = read_json(path)
    except (OSError, ValueError) as exc:  # a bad UTF-8 byte is a ValueError too
        raise DamagedRunError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(summary, dict):
        raise DamagedRunError(f"{path}: holds {type(summary).__name__}, not a JSON object")
    for key in SUMMARY_NUMBERS:
        value = summary.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise DamagedRunError(f"{path}: {key} is {value!r}, not a number")
    # every run writes how many epochs it ran; JSON that parses without it (``{}``, a hand
    # edit) is no run's summary, and the tables would turn its NaN into int (robust22 M1)
    epochs = [summary.get(k) for k in ("epochs_run", "epochs")]
    if not any(isinstance(v, int | float) and not isinstance(v, bool) for v in epochs):
        raise DamagedRunError(f"{path}: has no epochs_run (the epochs the run trained)")
    return summary


def run_problem(run_dir: Path) -> str | None:
    """What is wrong with a run folder that has a ``summary.json`` (None: nothing, or no summary).

    Cheap enough to run for every run of a resumed sweep: the small summary is
    parsed, the other files are only looked at (history.csv must end its last
    row and hold one per epoch the summary counts; model.npz must start like a zip),
    not parsed.
    """
    if not (run_dir / "summary.json").is_file():
        return None
    try:
        summary = read_summary(run_dir)
    except DamagedRunError as exc:
        return str(exc)
    history, model = run_dir / "history.csv", run_dir / "model.npz"
    for path in (history, model):
        if not path.is_file():
            return f"{path}: missing"
    with open(history, "rb") as f:
        # counted, not parsed: ~1 ms for 20 000 epochs
        lines, last = 0, b""
        while chunk := f.read(1 << 20):
            lines, last = lines + chunk.count(b"\n"), chunk
    if not last:
        return f"{history}: empty"
    if not last.endswith(b"\n"):  # the file is written whole (atomically): a cut one was damaged
        return f"{history}: cut short (its last row has no end of line)"
    # one row per epoch run: a file cut at a line's end by hand is damaged too (robust22 M3)
    epochs = summary.get("epochs_run")
    if isinstance(epochs, int) and not isinstance(epochs, bool) and lines - 1 != epochs:
        return f"{history}: {lines - 1} rows, but summary.json says {epochs} epochs run"
    with open(model, "rb") as f:
        if f.read(len(NPZ_MAGIC)) != NPZ_MAGIC:
            return f"{model}: not an .npz file"
    # a config.json no one can read (cli20 M6: `{`) cannot be checked against the sweep,
    # and predict and the report refuse the run: trained again, it is written anew (the
    # run's name is the sweep's, so its configuration is known), rather than refused
    # and left for the user to delete by hand
    config = run_dir / "config.json"
    if config.exists() and _stored(run_dir) is None:
        return f"{config}: not a readable run configuration"
    return None


def is_finished(run_dir: Path) -> bool:
    """A run is finished when its ``summary.json`` (written last) and the files before it
    are in place; a damaged run is not, so a resumed sweep redoes it."""
    return (run_dir / "summary.json").is_file() and run_problem(run_dir) is None


@dataclass
class FolderPlan:
    """What a sweep folder holds for ``spec``: the jobs, the finished runs to take over
    from other folder names, and the run folders the sweep does not use."""

    jobs: list[RunJob]
    # job name -> a finished run folder that holds its configuration under another name
    # (a [base] edit renames runs; their training is not thrown away)
    moves: dict[str, Path] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)  # folder names not part of the sweep


def plan(spec: SweepSpec, out: Path, figures: bool = False) -> list[RunJob]:
    """The jobs of ``spec`` under ``out/runs``; refuse folders holding a different
    configuration, or a run trained on a data file that changed since (see :func:`survey`)."""
    return survey(spec, out, figures).jobs


def survey(spec: SweepSpec, out: Path, figures: bool = False) -> FolderPlan:
    """Match ``spec``'s runs with the run folders in ``out/runs`` (reads nothing else).

    A folder whose ``config.json`` holds another configuration is refused, unless the
    configuration wanted there is finished in another folder of ``out/runs`` that the
    sweep does not otherwise use, which :func:`apply_moves` then renames into place. A
    finished run whose recorded data file (:func:`proplab.experiments.data_record`)
    no longer matches the file is refused too: reusing it would report a model
    trained on other data. A field missing from an older ``config.json`` counts as its
    default. Raises SweepError naming the folder, what differs and what to do.
    """
    from proplab.experiments import data_record

    runs_dir = out / RUNS_DIR
    wanted = spec.active_runs
    stored = {p.name: _stored(p) for p in _run_folders(runs_dir)}
    files: dict[str, dict[str, Any] | None] = {}  # each data file hashed once per sweep

    def data_now(cfg: RunConfig) -> dict[str, Any] | None:
        key = str(data_file(cfg.dataset))  # the file, wherever the sweep file found it
        if key not in files:
            files[key] = data_record(cfg)
        return files[key]

    jobs, conflicts, changed = [], {}, []
    for name, cfg in wanted.items():
        run_dir = runs_dir / name
        jobs.append(RunJob(name, cfg, run_dir, figures))
        record = stored.get(name)
        if record is None:
            continue
        config, data = record
        stored_now, wanted_now = _results_of(config), _results_of(_as_json(cfg.to_dict()))
        diff = [k for k, v in wanted_now.items() if stored_now[k] != v]
        if diff:
            conflicts[name] = diff[0]
        elif data is not None and is_finished(run_dir):
            now = data_now(cfg)
            if now is not None and now.get("sha256") != data.get("sha256"):
                changed.append((name, data, now))
    if changed:
        raise SweepError(
            data_changed_message(changed, out, "put the old file back, or run the sweep into "
            "another --out folder to train on the file as it is now")
        )  # fmt: skip

    # finished runs the sweep does not use where they are: the ones a [base] edit renamed
    spare: dict[str, list[str]] = {}
    for folder, record in stored.items():
        if record is not None and (folder not in wanted or folder in conflicts):
            if is_finished(runs_dir / folder):
                spare.setdefault(_config_key(record[0]), []).append(folder)
    moves: dict[str, Path] = {}
    for name, cfg in wanted.items():
        if name in stored and name not in conflicts:
            continue  # its own folder serves it (or is redone in place)
        now = data_now(cfg)
        for folder in spare.get(_config_key(_as_json(cfg.to_dict())), []):
            data = stored[folder][1]  # type: ignore[index]
            if data is None or now is None or data.get("sha256") == now.get("sha256"):
                spare[_config_key(stored[folder][0])].remove(folder)  # type: ignore[index]
                moves[name] = runs_dir / folder
                break
    taken = {p.name for p in moves.values()}
    for name, k in conflicts.items():
        if name in taken:
            continue  # its run moves on to the name that wants it (and the wanted one in)
        config = stored[name][0]  # type: ignore[index]
        cfg = wanted[name]
        if name in moves:  # the wanted run is finished elsewhere, but this one would be lost
            raise SweepError(
                f"{runs_dir / name}: holds a run with {k}={config[k]!r} that {spec.path} no "
                f"longer asks for under any name; the run it wants there ({k}="
                f"{getattr(cfg, k)!r}) is finished in {moves[name]}. Use another --out "
                "folder, or move that run folder out of the sweep folder"
            )
        raise SweepError(
            f"{runs_dir / name}: holds a run with {k}={config[k]!r}, but {spec.path} now asks "
            f"for {k}={getattr(cfg, k)!r}; use another --out folder, or move that run folder "
            "out of the sweep folder to train the new one there"
        )
    left_out = sorted(f for f in stored if f not in wanted and f not in taken)
    return FolderPlan(jobs, moves, left_out)


def apply_moves(moves: dict[str, Path], runs_dir: Path) -> None:
    """Rename each finished run folder of ``moves`` (job name -> folder) to its job's name.

    Two steps, so folders may swap names (a [base] edit does that): every folder first
    moves into a hidden temporary folder of ``runs_dir``, then to its new name. A
    crash in between leaves the runs in ``runs_dir/.moving-*``, not lost: the next
    sweep brings them back (:func:`recover_parked`).
    """
    import tempfile

    from proplab.runio import uninterrupted

    # a Ctrl-C waits for the renames, as for the rest of the folder's bookkeeping
    with uninterrupted():
        parked = []
        for name, folder in moves.items():
            hold = Path(tempfile.mkdtemp(dir=runs_dir, prefix=PARKED))
            os.rename(folder, hold / "run")
            parked.append((name, hold))
        for name, hold in parked:
            os.rename(hold / "run", runs_dir / name)
            hold.rmdir()


def recover_parked(runs_dir: Path) -> list[str]:
    """Move every run an :func:`apply_moves` killed between its two steps left in
    ``runs_dir/.moving-*/run`` back in sight, as ``recovered-1``, ``recovered-2``, ...,
    where :func:`survey` finds it (and reuses it under the name a sweep wants it by);
    returns those names. Empty ``.moving-*`` folders are removed."""
    import contextlib

    from proplab.runio import uninterrupted

    names: list[str] = []
    if not runs_dir.is_dir():
        return names
    with uninterrupted():
        for hold in sorted(runs_dir.glob(f"{PARKED}*")):
            if (hold / "run").is_dir():
                k = 1
                while (runs_dir / f"recovered-{k}").exists():
                    k += 1
                os.rename(hold / "run", runs_dir / f"recovered-{k}")
                names.append(f"recovered-{k}")
            with contextlib.suppress(OSError):  # not empty: something else, left alone
                hold.rmdir()
    return names


def data_changed_message(
    changed: list[tuple[str, dict[str, Any], dict[str, Any]]], out: Path, advice: str
) -> str:
    """One line: which data file changed since how many runs of ``out`` trained on it.

    ``changed`` holds (run name, the run's recorded data, the file's record now).
    """
    _, then, now = changed[0]
    same = [c for c in changed if c[1].get("file") == then.get("file")]
    others = len({c[1].get("file") for c in changed}) - 1
    runs = f"{len(same)} run" + ("s" if len(same) != 1 else "")
    also = f" (and {others} other data file{'s' if others != 1 else ''})" if others else ""
    return (
        f"{then.get('file')}: changed since {runs} in {out} trained on it (then "
        f"{then.get('bytes')} bytes, sha256 {str(then.get('sha256'))[:12]}; now {now['bytes']} "
        f"bytes, sha256 {now['sha256'][:12]}){also}; {advice}"
    )


def data_changes(
    records: Sequence[tuple[str, RunConfig]], out: Path
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The finished runs of ``out/runs`` (name, config) whose recorded data file differs
    from the file now: (name, recorded, now). Each file is hashed once; runs without a
    file record (generated and built-in data, whose arrays' fingerprint ``proplab verify``
    checks, or a folder from before proplab recorded it) are not checked: a resume would
    otherwise rebuild every reused run's data."""
    from proplab.experiments import data_record

    files: dict[str, dict[str, Any] | None] = {}
    changed = []
    for name, cfg in records:
        record = _stored(out / RUNS_DIR / name)
        if record is None or record[1] is None or not is_finished(out / RUNS_DIR / name):
            continue
        key = str(data_file(cfg.dataset))  # the file, wherever the sweep file found it
        if key not in files:
            files[key] = data_record(cfg)
        now = files[key]
        if now is not None and now.get("sha256") != record[1].get("sha256"):
            changed.append((name, record[1], now))
    return changed


def _run_folders(runs_dir: Path) -> list[Path]:
    if not runs_dir.is_dir():
        return []
    # .moving-*: apply_moves' temporary folders
    return sorted(p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


@functools.cache
def _defaults() -> dict[str, Any]:
    return _as_json(RunConfig().to_dict())


def _as_json(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` as config.json holds them (lists for tuples), to compare with it."""
    import json

    from proplab.runio import jsonable

    return json.loads(json.dumps(jsonable(values)))


def _config_key(config: dict[str, Any]) -> str:
    import json

    return json.dumps(_results_of(config), sort_keys=True)


def _results_of(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` (config.json's form) with only what can change a run's numbers: without
    ``print_every`` (a sweep's runs print nothing), and with ``momentum`` as the optimizer
    uses it (unset is 0.9 for "momentum" and 0 for "sgd" and "rmsprop"; the others take
    none), so a resume does not refuse an edit that changes no result (robust22 L2)."""
    from proplab.config import MOMENTUM_OPTIMIZERS, effective_momentum

    out = {k: v for k, v in config.items() if k != "print_every"}
    if "momentum" in out:
        optimizer = out.get("optimizer")
        out["momentum"] = (
            float(effective_momentum(optimizer, out["momentum"]))
            if optimizer in MOMENTUM_OPTIMIZERS
            else None
        )
    return out


def _stored(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """A run folder's stored configuration (every RunConfig field: one an older proplab
    did not write counts as its default) and its data record, or None without a
    readable ``config.json``."""
    from proplab.experiments import DATA
    from proplab.runio import read_json

    path = run_dir / "config.json"
    if not path.is_file():
        return None
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return None
    record = None
    if isinstance(data, dict) and isinstance(data.get("config"), dict):
        record = data.get(DATA) if isinstance(data.get(DATA), dict) else None
        data = data["config"]
    if not isinstance(data, dict):
        return None
    # a key a newer proplab wrote is not ours to compare; a missing one is the default
    return {k: data.get(k, v) for k, v in _defaults().items()}, record


def check_same_sweep(spec: SweepSpec, out: Path, replace: bool, stream: Any) -> None:
    """Refuse to run ``spec`` into a folder holding another sweep (another title in its
    ``sweep.toml``): its results.csv and report would be replaced and its run folders
    left out. Same parsed content, or the same title (an edited file), pass. Two files
    without a title are known by their path (the last one :data:`SWEEP_LOG` records):
    the same file, edited, passes; another file is another sweep."""
    import tomllib

    path = out / SPEC_COPY
    try:
        old = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no sweep here yet (or an unreadable copy: replaced)
        return
    new = tomllib.loads(spec.copy_text)  # as the copy would be written now
    if old == new:  # comments and layout do not make another sweep
        return
    old_title = str(old.get("title", "") or "Sweep")
    untitled = not old.get("title") and not new.get("title")
    old_file = last_sweep_file(out) if untitled else None
    if old_title == spec.title and (old_file is None or old_file == sweep_file(spec)):
        return  # the same sweep, edited: survey refuses what it cannot reuse
    folders = [p.name for p in _run_folders(out / RUNS_DIR)]
    foreign = sum(name not in spec.active_runs for name in folders)
    if old_file is None:
        old_name, new_name = repr(old_title), f"{spec.path} ({spec.title!r})"
    else:  # neither has a title to tell them apart: name them by their files
        old_name, new_name = f"of {old_file} (untitled)", f"{spec.path} (untitled)"
    what = (
        f"{foreign} of its {len(folders)} run folders are not part of {new_name} "
        "and would be left out"
        if foreign
        else f"its results.csv and report would be replaced by {new_name}'s"
    )
    if replace:
        stream.write(f"sweep: --replace: {out} held the sweep {old_name}; {what}\n")
        return
    hint = " (or give both files the same title: an untitled file is known by its path)"
    raise SweepError(
        f"{out}: holds the sweep {old_name} ({path}); {what}. Use another --out folder, "
        "or pass --replace to run it into this one (its results.csv, report and sweep.toml "
        f"are replaced; no run folder is deleted){hint if old_file else ''}"
    )


def sweep_file(spec: SweepSpec) -> str:
    """The absolute path of the sweep file ``spec`` was read from, as the log records it."""
    return str(Path(spec.path).resolve())


def last_sweep_file(out: Path) -> str | None:
    """The sweep file the last logged call ran into ``out`` (None: no log, or an older one
    without that column)."""
    from proplab.runio import read_csv

    try:
        rows = read_csv(out / SWEEP_LOG)
    except (OSError, ValueError):
        return None
    return (rows[-1].get("file") or None) if rows else None


def sweep_digest(text: str) -> str:
    """A short hash of a sweep file's content (comments and layout aside)."""
    import hashlib
    import json
    import tomllib

    content = json.dumps(tomllib.loads(text), sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()[:16]
