"""Sweeps: a TOML experiment file becomes one run folder per configuration.

An experiment file is a base configuration plus axes to vary::

    title = "Learning rates"
    [base]                      # RunConfig fields shared by every run
    epochs = 20000
    [vary]                      # axes: every combination runs (seed is an axis too)
    dataset = ["linear", "xor"]
    lr = [1.0, 0.1, 0.001]
    seed = [0, 1, 2, 3, 4]

An axis value may be a table that sets several fields together (a *bundle*),
e.g. ``optimizer = [{optimizer = "sgd", lr = 1.0}, {optimizer = "adam", lr = 0.01,
label = "Adam"}]``. A file may instead hold several ``[[experiment]]`` tables
(each with ``name``, optional ``title``, ``section``, ``description``,
``optional``, ``base`` and ``vary``); the top-level ``[vary]`` axes (datasets,
seeds) are then shared by all of them. Identical configurations in different
experiments run once.

Every run folder is named from the fields that differ from the file's
``[base]`` (dataset first, seed last), e.g. ``runs/dataset=xor,lr=0.001,seed=3``,
so rerunning the same file finds the same folders: runs with a
``summary.json`` are skipped, the rest are (re)done. Everything is validated
before anything runs. :func:`run_jobs` is the one step that trains a list of
configurations; :func:`run_sweep` takes it as a parameter so a faster runner
(stacked training) can replace it.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import re
import sys
import time
import tomllib
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from proplab.config import ConfigError, RunConfig

SPEC_KEYS = ("title", "description", "base", "vary", "experiment")
EXPERIMENT_KEYS = ("name", "title", "section", "description", "optional", "base", "vary")
SECTIONS = ("results", "discussion", "extras", "other")
SEED_AXIS = "seed"
DATASET_AXIS = "dataset"
RUNS_DIR = "runs"
SPEC_COPY = "sweep.toml"
SWEEP_LOG = "sweep_log.csv"  # one row per `proplab sweep` call: when, how long, what it did
_FIELDS = tuple(f.name for f in fields(RunConfig))
_NAME_OK = re.compile(r"^[A-Za-z0-9_-]+$")


class SweepError(ConfigError):
    """A sweep file or folder is unusable; the message names the file, key and accepted values."""


# ---------------------------------------------------------------- the spec


@dataclass(frozen=True)
class Setting:
    """One value of an axis: the RunConfig fields it sets and how tables and legends show it."""

    label: str
    values: dict[str, Any]


@dataclass(frozen=True)
class Axis:
    name: str
    settings: tuple[Setting, ...]


@dataclass
class Experiment:
    """One comparison: its axes and, once expanded, its runs as ``(run name, {axis: label})``."""

    name: str
    title: str
    section: str
    description: str
    optional: bool
    base: dict[str, Any]
    axes: list[Axis]
    runs: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    skipped: str = ""  # why an optional experiment cannot run here ("" when it can)

    @property
    def setting_axes(self) -> list[Axis]:
        """The axes compared in this experiment (all but ``dataset`` and ``seed``)."""
        return [a for a in self.axes if a.name not in (DATASET_AXIS, SEED_AXIS)]

    def setting_label(self, labels: dict[str, str]) -> str:
        """How a run's setting is shown: its non-dataset, non-seed axis labels joined."""
        axes = self.setting_axes
        if len(axes) == 1:
            return labels[axes[0].name]
        return ", ".join(f"{a.name}={labels[a.name]}" for a in axes) or "base"


@dataclass
class SweepSpec:
    """A validated sweep file: its experiments and the unique runs they need, in order."""

    path: Path
    text: str
    title: str
    description: str
    base: dict[str, Any]
    shared_axes: list[Axis]
    experiments: list[Experiment]
    runs: dict[str, RunConfig]  # run name -> validated config (deduplicated)

    @property
    def active_runs(self) -> dict[str, RunConfig]:
        """Runs of the experiments that are not skipped."""
        wanted = {name for e in self.experiments if not e.skipped for name, _ in e.runs}
        return {n: c for n, c in self.runs.items() if n in wanted}


def suite_path(name: str = "lab") -> Path:
    """The shipped suite ``proplab/suites/<name>.toml``."""
    path = Path(str(resources.files("proplab") / "suites" / f"{name}.toml"))
    if not path.is_file():
        raise SweepError(f"no shipped suite named {name!r} (looked for {path})")
    return path


def load_spec(path: str | os.PathLike[str], *, check_build: bool = True) -> SweepSpec:
    """Read, validate and expand a sweep file; raise :class:`SweepError` before anything runs.

    ``check_build`` also builds every distinct model once (cheap), so an
    architecture that cannot be built is reported now, not mid-sweep; an
    ``optional = true`` experiment whose models cannot be built is marked
    ``skipped`` with the reason instead.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SweepError(f"{path}: no such sweep file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SweepError(f"{path}: cannot read sweep file ({exc})") from None
    return parse_spec(text, path, check_build=check_build)


def parse_spec(text: str, path: Path | str = "<sweep>", *, check_build: bool = True) -> SweepSpec:
    """Validate and expand sweep-file ``text`` (``path`` is used in messages)."""
    path = Path(path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SweepError(f"{path}: malformed TOML: {exc}") from None
    _check_keys(doc, SPEC_KEYS, f"{path}: top level")
    base = _table(doc.get("base", {}), f"{path}: [base]")
    reference = _validated(base, f"{path}: [base]")
    shared = _axes(doc.get("vary", {}), base, f"{path}: [vary]")

    raw_experiments = doc.get("experiment")
    if raw_experiments is None:
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", path.stem) or "sweep"
        raw_experiments = [{"name": stem, "title": doc.get("title", "")}]
        shared, own = [], shared  # a single-experiment file: its axes are the experiment's
    else:
        own = None
        if not isinstance(raw_experiments, list) or not raw_experiments:
            raise SweepError(f"{path}: 'experiment' must be one or more [[experiment]] tables")
    experiments: list[Experiment] = []
    runs: dict[str, RunConfig] = {}
    for i, raw in enumerate(raw_experiments):
        where = f"{path}: [[experiment]] #{i + 1}"
        exp = _experiment(raw, base, where, own)
        if any(e.name == exp.name for e in experiments):
            raise SweepError(f"{where}: duplicate experiment name {exp.name!r}")
        _expand(exp, shared, base, reference, runs, f"{path}: experiment {exp.name!r}")
        experiments.append(exp)
    spec = SweepSpec(
        path=path,
        text=text,
        title=str(doc.get("title", "") or path.stem),
        description=str(doc.get("description", "")),
        base=base,
        shared_axes=shared,
        experiments=experiments,
        runs=runs,
    )
    _check_data_and_models(spec, check_build)
    return spec


def _check_keys(table: dict[str, Any], accepted: Sequence[str], where: str) -> None:
    for key in table:
        if key not in accepted:
            raise SweepError(f"{where}: unknown key {key!r} (accepted: {', '.join(accepted)})")


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SweepError(f"{where}: must be a table of RunConfig fields, got {value!r}")
    _check_keys(value, _FIELDS, where)
    return dict(value)


def _validated(values: dict[str, Any], where: str) -> RunConfig:
    try:
        return RunConfig.from_dict(values, source=where).validate()
    except ConfigError as exc:
        msg = str(exc)
        raise SweepError(msg if msg.startswith(where) else f"{where}: {msg}") from None
    except TypeError as exc:  # e.g. a table where a number belongs
        raise SweepError(f"{where}: {exc}") from None


def _axes(vary: Any, base: dict[str, Any], where: str) -> list[Axis]:
    if not isinstance(vary, dict):
        raise SweepError(f"{where}: must be a table of axes (name = [values...]), got {vary!r}")
    axes = []
    for name, values in vary.items():
        at = f"{where} {name}"
        if not isinstance(values, list) or not values:
            raise SweepError(f"{at}: an axis must be a non-empty list of values, got {values!r}")
        settings = []
        for j, value in enumerate(values):
            settings.append(_setting(name, value, base, f"{at}[{j}]"))
        labels = [s.label for s in settings]
        dup = next((lab for lab in labels if labels.count(lab) > 1), None)
        if dup is not None:
            raise SweepError(f"{at}: value {dup!r} appears twice")
        axes.append(Axis(name, tuple(settings)))
    return axes


def _setting(axis: str, value: Any, base: dict[str, Any], where: str) -> Setting:
    if isinstance(value, dict):
        values = dict(value)
        label = values.pop("label", None)
        if not values:
            raise SweepError(f"{where}: a bundle must set at least one RunConfig field")
        _check_keys(values, (*_FIELDS, "label"), where)
        if label is None:
            main = values.get(axis)
            rest = [f"{k}={format_value(v)}" for k, v in values.items() if k != axis]
            label = format_value(main) if main is not None else ", ".join(rest)
            if main is not None and rest:
                label += f" ({', '.join(rest)})"
    else:
        if axis not in _FIELDS:
            raise SweepError(
                f"{where}: unknown key {axis!r} (accepted: {', '.join(_FIELDS)}; "
                "or use tables as values to set several fields under one axis name)"
            )
        values = {axis: value}
        label = format_value(value)
    _validated({**base, **values}, f"{where} = {_show(value)}")
    return Setting(str(label), values)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {v!r}" for k, v in value.items()) + "}"
    return repr(value)


def _experiment(raw: Any, base: dict[str, Any], where: str, own: list[Axis] | None) -> Experiment:
    if not isinstance(raw, dict):
        raise SweepError(f"{where}: must be a table, got {raw!r}")
    _check_keys(raw, EXPERIMENT_KEYS, where)
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_OK.match(name):
        raise SweepError(f"{where}: 'name' must be letters, digits, '_' or '-', got {name!r}")
    where = f"{where} ({name})"
    section = raw.get("section", "other")
    if section not in SECTIONS:
        raise SweepError(
            f"{where}: section {section!r} is not accepted (accepted: {', '.join(SECTIONS)})"
        )
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        raise SweepError(f"{where}: 'optional' must be true or false, got {optional!r}")
    exp_base = {**base, **_table(raw.get("base", {}), f"{where} base")}
    _validated(exp_base, f"{where} base")
    axes = own if own is not None else _axes(raw.get("vary", {}), exp_base, f"{where} vary")
    return Experiment(
        name=name,
        title=str(raw.get("title", "") or name),
        section=section,
        description=str(raw.get("description", "")),
        optional=optional,
        base=exp_base,
        axes=list(axes),
    )


def _expand(
    exp: Experiment,
    shared: list[Axis],
    base: dict[str, Any],
    reference: RunConfig,
    runs: dict[str, RunConfig],
    where: str,
) -> None:
    """Fill ``exp.runs`` with every combination of its axes (seeds innermost) and add to ``runs``."""
    axes = [a for a in [*exp.axes, *shared] if a.name != SEED_AXIS]
    axes += [a for a in [*exp.axes, *shared] if a.name == SEED_AXIS]
    exp.axes = axes
    if len({a.name for a in axes}) != len(axes):
        raise SweepError(f"{where}: an axis name appears twice (axes: {[a.name for a in axes]})")
    for combo in itertools.product(*(a.settings for a in axes)):
        values = dict(exp.base)
        owner: dict[str, str] = {}
        for axis, setting in zip(axes, combo, strict=True):
            for key, value in setting.values.items():
                if key in owner:
                    raise SweepError(
                        f"{where}: axes {owner[key]!r} and {axis.name!r} both set {key!r}"
                    )
                owner[key] = axis.name
                values[key] = value
        labels = {a.name: s.label for a, s in zip(axes, combo, strict=True)}
        shown = ", ".join(f"{k}={v}" for k, v in labels.items())
        cfg = _validated(values, f"{where} run ({shown})")
        name = run_name(cfg, reference)
        if name in runs and runs[name] != cfg:
            raise SweepError(f"{where}: two different configurations map to folder {name!r}")
        runs[name] = cfg
        exp.runs.append((name, labels))


def _check_data_and_models(spec: SweepSpec, check_build: bool) -> None:
    """Load each distinct dataset and build each distinct model once, before any training."""
    data_cache: dict[tuple[Any, ...], tuple[int, int]] = {}
    built: dict[tuple[Any, ...], str] = {}
    for exp in spec.experiments:
        for name, _ in exp.runs:
            cfg = spec.runs[name]
            dkey = (
                cfg.dataset,
                cfg.n,
                cfg.noise,
                cfg.label,
                cfg.seed if cfg.dataset != "xor" else 0,
            )
            if dkey not in data_cache:
                try:
                    x, y = _load_dataset(cfg)
                except (ValueError, OSError, KeyError) as exc:
                    raise SweepError(
                        f"{spec.path}: experiment {exp.name!r}: dataset: {exc}"
                    ) from None
                data_cache[dkey] = (int(x.shape[-1]), int(y.shape[-1]))
            if not check_build:
                continue
            arch = (
                cfg.model, tuple(cfg.hidden_sizes), cfg.activation, cfg.output_activation,
                cfg.bias, cfg.init, cfg.filters, cfg.kernel_size, cfg.stride, cfg.padding,
                data_cache[dkey],
            )  # fmt: skip
            if arch not in built:
                built[arch] = _build_problem(cfg, *data_cache[dkey])
            if built[arch]:
                if not exp.optional:
                    raise SweepError(
                        f"{spec.path}: experiment {exp.name!r}, run {name}: {built[arch]}"
                    )
                exp.skipped = exp.skipped or built[arch]


def _build_problem(cfg: RunConfig, n_in: int, n_out: int) -> str:
    """Why ``cfg``'s model cannot be built here ("" when it can)."""
    from proplab.config import build_model

    try:
        from proplab.experiments import check_available

        check_available(cfg)
    except ImportError:
        pass
    except ConfigError as exc:
        return f"model {cfg.model!r} is not available in this installation ({exc})"
    try:
        build_model(cfg, n_in, n_out)
    except (ImportError, AttributeError, NotImplementedError) as exc:
        return f"model {cfg.model!r} is not available in this installation ({exc})"
    except (ValueError, TypeError) as exc:
        return f"model {cfg.model!r} cannot be built: {exc}"
    return ""


def _load_dataset(cfg: RunConfig) -> tuple[Any, Any]:
    try:
        from proplab.experiments import load_dataset
    except ImportError:  # the experiments module is not there yet: the lab's two datasets
        from proplab.data import load_lab_dataset

        return load_lab_dataset(cfg.dataset, cfg.n, cfg.seed)
    return load_dataset(cfg)


def format_value(value: Any) -> str:
    """A config value as shown in run names and labels: ``1e-06``, ``0.1``, ``10``, ``8-4``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "-".join(format_value(v) for v in value)
    if value is None:
        return "none"
    return str(value)


def run_name(cfg: RunConfig, reference: RunConfig) -> str:
    """Folder name: ``key=value`` for each field that differs from ``reference``, plus dataset and seed."""
    mine, ref = cfg.to_dict(), reference.to_dict()
    keys = ["dataset"] + [k for k in _FIELDS if k not in ("dataset", "seed") and mine[k] != ref[k]]
    keys.append("seed")
    parts = [f"{k}={format_value(mine[k])}" for k in keys]
    return re.sub(r"[^A-Za-z0-9._=,+-]", "_", ",".join(parts))


# ---------------------------------------------------------------- running


@dataclass(frozen=True)
class RunJob:
    """One configuration to train into ``run_dir``."""

    name: str
    config: RunConfig
    run_dir: Path

    @property
    def cost(self) -> float:
        """Rough relative cost for the ETA: epochs times a width factor."""
        return self.config.epochs * (1.0 + sum(self.config.hidden_sizes) / 40.0)


# on_done(job, outcome): outcome["status"] is "done", "failed" or "cancelled"
OnDone = Callable[[RunJob, dict[str, Any]], None]
# A runner trains every job (in any order, in any processes) and calls on_done
# once per job; on Ctrl-C it raises KeyboardInterrupt after the runs in flight
# stop. Issue 5's stacked runner has this same signature.
Runner = Callable[..., None]


def is_finished(run_dir: Path) -> bool:
    """A run is finished when its ``summary.json`` exists (it is written last)."""
    return (run_dir / "summary.json").is_file()


_STOP: Any = None  # a multiprocessing.Event in worker processes


def _init_worker(stop: Any) -> None:
    global _STOP
    _STOP = stop


def _discard(_msg: str) -> None:
    pass


def train_one(cfg: RunConfig, run_dir: Path) -> dict[str, Any]:
    """Train one configuration into ``run_dir`` quietly (tests replace this to count calls)."""
    from proplab.experiments import run_one

    return run_one(cfg, run_dir, log=_discard, quiet=True, progress=False)


def run_job(job: RunJob) -> dict[str, Any]:
    """Train one job with ``experiments.run_one`` (quietly); never raises except on Ctrl-C."""
    if _STOP is not None and _STOP.is_set():
        return {"status": "cancelled"}
    start = time.perf_counter()
    try:
        summary = train_one(job.config, job.run_dir)
    except KeyboardInterrupt:
        return {"status": "interrupted"}
    except Exception as exc:  # one broken run must not stop the sweep
        return {
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    if not is_finished(job.run_dir):
        return {"status": "interrupted"}  # run_one returns after Ctrl-C without a summary
    return {"status": "done", "summary": summary, "seconds": time.perf_counter() - start}


def run_jobs(jobs: Sequence[RunJob], *, workers: int = 1, on_done: OnDone) -> None:
    """Train ``jobs`` (one by one, or in ``workers`` processes) and report each to ``on_done``.

    Raises KeyboardInterrupt on Ctrl-C once the runs in flight have stopped;
    queued runs are cancelled. Finished run folders are never touched again.
    """
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            outcome = run_job(job)
            if outcome["status"] == "interrupted":
                raise KeyboardInterrupt
            on_done(job, outcome)
        return
    ctx = multiprocessing.get_context()
    stop = ctx.Event()
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(stop,)
    )
    futures = {pool.submit(run_job, job): job for job in jobs}
    try:
        for fut in as_completed(futures):
            try:
                outcome = fut.result()
            except BrokenProcessPool as exc:
                outcome = {"status": "failed", "error": f"worker process died ({exc})"}
            if outcome["status"] == "interrupted":
                raise KeyboardInterrupt
            on_done(futures[fut], outcome)
    except KeyboardInterrupt:
        stop.set()  # workers finish (or abandon) the run in hand and take no new one
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class Progress:
    """Overall progress on stderr: runs done, elapsed, estimated remaining (cost-weighted)."""

    def __init__(self, total: int, skipped: int, cost: float, stream: Any = None) -> None:
        self.total, self.done, self.cost_total, self.cost_done = total, skipped, cost, 0.0
        self.stream = sys.stderr if stream is None else stream
        self.start = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = -math.inf

    def line(self) -> str:
        elapsed = time.perf_counter() - self.start
        eta = "?"
        if self.cost_done > 0:
            eta = _clock(elapsed / self.cost_done * (self.cost_total - self.cost_done))
        return f"sweep: {self.done}/{self.total} runs done, elapsed {_clock(elapsed)}, remaining ~{eta}"

    def update(self, cost: float, note: str = "") -> None:
        self.done += 1
        self.cost_done += cost
        now = time.perf_counter()
        final = self.done == self.total
        if self.tty:
            self.stream.write("\r\033[K" + self.line() + (f"  {note}" if note else ""))
            if final:
                self.stream.write("\n")
        elif final or now - self._last >= 5.0:
            self.stream.write(self.line() + "\n")
            self._last = now
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.done != self.total:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


@dataclass
class SweepResult:
    """What a sweep did: counts, failures (name -> error), whether Ctrl-C stopped it."""

    total: int
    reused: int
    ran: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    seconds: float = 0.0
    skipped_experiments: dict[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 130 if self.interrupted else (1 if self.failed else 0)


def plan(spec: SweepSpec, out: Path) -> list[RunJob]:
    """The jobs of ``spec`` under ``out/runs``; refuse folders holding a different configuration."""
    jobs = []
    for name, cfg in spec.active_runs.items():
        run_dir = out / RUNS_DIR / name
        stored = _stored_config(run_dir)
        if stored is not None:
            diff = [k for k, v in cfg.to_dict().items() if k in stored and stored[k] != v]
            if diff:
                k = diff[0]
                raise SweepError(
                    f"{run_dir}: holds a run with {k}={stored[k]!r}, but {spec.path} now asks for "
                    f"{k}={getattr(cfg, k)!r}; use another --out folder or delete that run folder"
                )
        jobs.append(RunJob(name, cfg, run_dir))
    return jobs


def _stored_config(run_dir: Path) -> dict[str, Any] | None:
    from proplab.runio import read_json

    path = run_dir / "config.json"
    if not path.is_file():
        return None
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and isinstance(data.get("config"), dict):
        data = data["config"]
    if not isinstance(data, dict):
        return None
    # JSON has no tuples: compare lists with lists
    return {k: v for k, v in data.items() if k in _FIELDS}


def run_sweep(
    spec: SweepSpec,
    out: str | os.PathLike[str],
    *,
    jobs: int = 1,
    runner: Runner = run_jobs,
    stream: Any = None,
) -> SweepResult:
    """Run every configuration of ``spec`` into ``out``; write results.csv and aggregate.csv.

    Finished runs (with ``summary.json``) are reused. Ctrl-C stops the sweep
    keeping every finished run; the CSVs are written either way.
    """
    from proplab import aggregate
    from proplab.runio import ensure_writable_dir, write_text

    out = ensure_writable_dir(out)
    (out / RUNS_DIR).mkdir(exist_ok=True)
    all_jobs = plan(spec, out)
    write_text(out / SPEC_COPY, spec.text)
    todo = [j for j in all_jobs if not is_finished(j.run_dir)]
    result = SweepResult(total=len(all_jobs), reused=len(all_jobs) - len(todo))
    result.skipped_experiments = {e.name: e.skipped for e in spec.experiments if e.skipped}
    stream = sys.stderr if stream is None else stream
    for name, why in result.skipped_experiments.items():
        stream.write(f"sweep: skipping experiment {name!r}: {why}\n")
    if result.reused:
        stream.write(f"sweep: {result.reused} of {result.total} runs already finished in {out}\n")
    progress = Progress(len(all_jobs), result.reused, sum(j.cost for j in todo), stream)

    def on_done(job: RunJob, outcome: dict[str, Any]) -> None:
        if outcome["status"] == "done":
            result.ran += 1
        elif outcome["status"] == "failed":
            result.failed[job.name] = outcome.get("error", "unknown error")
            stream.write(f"\nsweep: run {job.name} failed: {result.failed[job.name]}\n")
        progress.update(job.cost, job.name)

    start = time.perf_counter()
    try:
        if todo:
            runner(todo, workers=max(1, int(jobs)), on_done=on_done)
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        progress.close()
        result.seconds = time.perf_counter() - start
        aggregate.write_tables(spec, out)
        _append_log(out, result, jobs)
    finished = sum(is_finished(j.run_dir) for j in all_jobs)
    if result.interrupted:
        stream.write(
            f"sweep: interrupted; {finished}/{result.total} runs are finished and kept. "
            "Rerun the same command to resume.\n"
        )
    return result


def _append_log(out: Path, result: SweepResult, jobs: int) -> None:
    from proplab.runio import read_csv, write_csv

    path = out / SWEEP_LOG
    header = ["finished_at", "seconds", "jobs", "trained", "reused", "failed", "interrupted"]
    rows = [[r.get(k, "") for k in header] for r in read_csv(path)] if path.is_file() else []
    rows.append(
        [
            time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            round(result.seconds, 2),
            jobs,
            result.ran,
            result.reused,
            len(result.failed),
            result.interrupted,
        ]
    )
    write_csv(path, header, rows)


def load_suite(file: str | os.PathLike[str]) -> SweepSpec:
    """A sweep file, or the name of a shipped suite (``"lab"``) when no such file exists."""
    path = Path(file)
    if not path.exists() and _NAME_OK.match(str(file)):
        shipped = Path(str(resources.files("proplab") / "suites" / f"{file}.toml"))
        if shipped.is_file():
            path = shipped
    return load_spec(path)


def main(file: str, out: str, jobs: int = 1) -> int:
    """``proplab sweep FILE --out DIR [--jobs N]``: returns the exit code (2: bad file)."""
    if jobs < 1:
        print(f"proplab sweep: error: argument --jobs: must be >= 1, got {jobs}", file=sys.stderr)
        return 2
    try:
        spec = load_suite(file)
        result = run_sweep(spec, out, jobs=jobs)
    except SweepError as exc:
        print(f"proplab sweep: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"sweep: {result.total} runs ({result.reused} reused, {result.ran} trained, "
        f"{len(result.failed)} failed) in {result.seconds:.1f} s; "
        f"results in {Path(out) / 'results.csv'} and {Path(out) / 'aggregate.csv'}"
    )
    return result.exit_code


def lab_suite(
    spec: SweepSpec, out: str | os.PathLike[str], *, jobs: int = 2, started: float | None = None
) -> int:
    """``proplab lab`` after the two lab runs: run the suite into ``out``, write the report.

    Returns the sweep's exit code (0, 1 if runs failed, 130 on Ctrl-C). After
    Ctrl-C no report is written: rerunning resumes the sweep and then writes it.
    """
    from proplab.report import build_report

    started = time.perf_counter() if started is None else started
    result = run_sweep(spec, out, jobs=jobs)
    if result.interrupted:
        return result.exit_code
    md, html = build_report(out, log=lambda msg: print(msg, file=sys.stderr))
    minutes, seconds = divmod(int(round(time.perf_counter() - started)), 60)
    print(
        f"lab suite: {result.total} runs ({result.reused} reused, {result.ran} trained, "
        f"{len(result.failed)} failed) with --jobs {jobs}; the lab took {minutes} min {seconds} s"
    )
    print(f"report written to {md} and {html}")
    return result.exit_code
