"""Sweep files: TOML experiments read, validated and expanded into run configurations.

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
label = "Adam"}]``; there ``label`` is the setting's display label and
``label_column`` a CSV file's label column (RunConfig.label). A file may instead hold several ``[[experiment]]`` tables
(each with ``name``, optional ``title``, ``section``, ``description``,
``optional``, ``base`` and ``vary``); the top-level ``[vary]`` axes (datasets,
seeds) are then shared by all of them. Identical configurations in different
experiments run once.

Every run is named from the fields that differ from the file's ``[base]``
(dataset first, seed last), e.g. ``dataset=xor,lr=0.001,seed=3``, so the same
file always gives the same run folders. Everything is checked here, before
anything runs: a malformed file, an unknown key or an invalid value raises
:class:`SweepError` naming the file, the key and what is accepted.
"""

from __future__ import annotations

import itertools
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from proplab.checks import did_you_mean
from proplab.config import CONV_FIELDS, MOMENTUM_OPTIMIZERS, ConfigError, RunConfig
from proplab.dataload import ALL_ZOO, drawn_with, is_csv, is_regression_task, regression_problem
from proplab.datapath import DataPath, in_folder, not_found
from proplab.runio import short_folder_name

SPEC_KEYS = ("title", "description", "data_files", "base", "vary", "experiment")
EXPERIMENT_KEYS = ("name", "title", "section", "description", "optional", "base", "vary")
SECTIONS = ("results", "discussion", "extras", "other")
SEED_AXIS = "seed"
DATASET_AXIS = "dataset"
CONFIG_FIELDS = tuple(f.name for f in fields(RunConfig))
NAME_OK = re.compile(r"^[A-Za-z0-9_-]+$")


class SweepError(ConfigError):
    """A sweep file or folder is unusable; the message names the file, key and accepted values."""


# in a bundle, ``label`` is the setting's display label; the CSV label column
# (RunConfig.label, ``label`` in [base]) is set there by this key instead
LABEL_COLUMN = "label_column"


@dataclass(frozen=True)
class Setting:
    """One value of an axis: the RunConfig fields it sets and how tables and legends show it."""

    label: str
    values: dict[str, Any]
    named: bool = False  # the label was written in the file (a bundle's ``label``)


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
    own_base: tuple[str, ...] = ()  # the keys its own ``base`` sets (not the file's [base])

    @property
    def setting_axes(self) -> list[Axis]:
        """The axes compared in this experiment (all but ``dataset`` and ``seed``)."""
        return [a for a in self.axes if a.name not in (DATASET_AXIS, SEED_AXIS)]

    def dataset_label(self, labels: dict[str, str], dataset: str) -> str:
        """The column a run's results go in: its ``dataset``, or the dataset axis's label when
        that value is a bundle setting other fields too (``{dataset = "linear", n = 20}``),
        so two such bundles of one dataset stay apart."""
        axis = next((a for a in self.axes if a.name == DATASET_AXIS), None)
        if axis is None:
            return dataset
        setting = next(s for s in axis.settings if s.label == labels[DATASET_AXIS])
        return dataset if set(setting.values) == {DATASET_AXIS} else setting.label

    def setting_label(self, labels: dict[str, str]) -> str:
        """How a run's setting is shown: its non-dataset, non-seed axis labels joined."""
        axes = self.setting_axes
        if len(axes) == 1:
            return labels[axes[0].name]

        def shown(a: Axis) -> str:
            # a label written in the file says what it sets: "lr=momentum 0.9 at ..." would
            # claim that lr equals it
            named = any(s.named and s.label == labels[a.name] for s in a.settings)
            return labels[a.name] if named else f"{a.name}={labels[a.name]}"

        return ", ".join(shown(a) for a in axes) or "base"


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
    # each relative CSV path as written -> the absolute file it was found at (csv23 M3)
    data_files: dict[str, str] = field(default_factory=dict)

    @property
    def copy_text(self) -> str:
        """The text a sweep writes into its folder (``sweep.toml``): the file's own, headed
        by a ``data_files`` table naming where each relative CSV path was found, so the
        copy (``proplab report``, a sweep rerun from it) reads the same files from its own
        folder, which is not the sweep file's. A file that sets ``data_files`` itself (a
        copy run again) is copied as it is."""
        if not self.data_files or "data_files" in tomllib.loads(self.text):
            return self.text
        import json

        # JSON's string escapes are TOML's (non-ASCII kept as it is: TOML has no surrogates)
        table = ", ".join(
            f"{json.dumps(typed, ensure_ascii=False)} = {json.dumps(file, ensure_ascii=False)}"
            for typed, file in self.data_files.items()
        )
        return (
            "# proplab sweep: where each relative CSV path below was found when this copy "
            "was written\n"
            f"data_files = {{ {table} }}\n{self.text}"
        )

    @property
    def active_runs(self) -> dict[str, RunConfig]:
        """Runs of the experiments that are not skipped."""
        wanted = {name for e in self.experiments if not e.skipped for name, _ in e.runs}
        return {n: c for n, c in self.runs.items() if n in wanted}


def shipped_suites() -> list[str]:
    """The names of the shipped suites (``proplab/suites/*.toml``), sorted: ``["lab"]``."""
    folder = resources.files("proplab").joinpath("suites")
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


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


_UNCLOSED = re.compile(
    r"Unclosed (array|inline table) \((?:at line (\d+), column (\d+)|at end of document)\)"
)


def _unclosed_hint(text: str, message: str) -> str:
    """``"; the array opened on line 3 is never closed"`` for tomllib's "Unclosed array"
    error when the bracket opened on an earlier line than the one tomllib names (it names
    where it gave up: the next key's line, or the end of the file); else ``""``."""
    m = _UNCLOSED.match(message)
    if m is None:
        return ""
    kind, line, column = m.groups()
    lines = text.splitlines(keepends=True)
    stop = len(text) if line is None else sum(map(len, lines[: int(line) - 1])) + int(column) - 1
    opened = _innermost_open_bracket(text[:stop], "[" if kind == "array" else "{")
    if opened is None or (line is not None and opened == int(line)):
        return ""
    return f"; the {kind} opened on line {opened} is never closed"


def _innermost_open_bracket(text: str, bracket: str) -> int | None:
    """The line (1-based) of the innermost ``bracket`` still open at the end of ``text``,
    skipping strings and comments; None if none is open."""
    stack: list[tuple[str, int]] = []
    line, i = 1, 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            line += 1
        elif ch == "#":  # a comment runs to the end of its line
            i = text.find("\n", i)
            if i < 0:
                break
            continue
        elif ch in "\"'":  # a string: skip to its end ("""...""" and '''...''' span lines)
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            j = i + len(quote)
            while j < len(text) and not text.startswith(quote, j):
                j += 2 if ch == '"' and text[j] == "\\" else 1
            line += text.count("\n", i, j)
            i = j + len(quote)
            continue
        elif ch in "[{":
            stack.append((ch, line))
        elif ch in "]}" and stack:
            stack.pop()
        i += 1
    return next((at for opened, at in reversed(stack) if opened == bracket), None)


def parse_spec(text: str, path: Path | str = "<sweep>", *, check_build: bool = True) -> SweepSpec:
    """Validate and expand sweep-file ``text`` (``path`` is used in messages)."""
    path = Path(path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SweepError(f"{path}: malformed TOML: {exc}{_unclosed_hint(text, str(exc))}") from None
    _check_keys(doc, SPEC_KEYS, f"{path}: top level")
    _check_text(doc, ("title", "description"), f"{path}: top level")
    data_files: dict[str, str] = {}
    doc = _locate_data_files(doc, path, data_files)
    base = _table(doc.get("base", {}), f"{path}: [base]")
    reference = _validated(base, f"{path}: [base]")
    shared = _axes(doc.get("vary", {}), base, f"{path}: [vary]")

    raw_experiments = doc.get("experiment")
    if raw_experiments is None:
        # named "sweep" whatever the file is called: the copy in the sweep folder must agree
        # one implicit experiment: headed by the file's title, or "All runs" (not "sweep")
        title = doc.get("title", "") or "All runs"
        raw_experiments = [{"name": "sweep", "title": title, "section": "results"}]
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
        _expand(exp, shared, reference, runs, f"{path}: experiment {exp.name!r}")
        experiments.append(exp)
    spec = SweepSpec(
        path=path,
        text=text,
        title=str(doc.get("title", "") or "Sweep"),
        description=str(doc.get("description", "")),
        base=base,
        shared_axes=shared,
        experiments=experiments,
        runs=runs,
        data_files=data_files,
    )
    _check_data_and_models(spec, check_build)
    return spec


def _locate_data_files(doc: dict[str, Any], path: Path, found: dict[str, str]) -> dict[str, Any]:
    """``doc`` with every ``dataset`` value that is a relative CSV path located (a
    :class:`~proplab.datapath.DataPath`): relative to the sweep file's folder, as in most
    tools' configuration files, unless the file's ``data_files`` table names where it is
    (a sweep folder's copy of the file); a path not found there is read from the current
    folder, as before (csv23 M3). ``found`` gets each located path's file. The values stay
    the text as written, so run names do not change."""
    where = f"{path}: data_files"
    recorded = doc.get("data_files", {})
    if not isinstance(recorded, dict) or not all(
        isinstance(v, str) and v.strip() for v in recorded.values()
    ):
        raise SweepError(
            f"{where}: must be a table of CSV paths as written = the files they stand for "
            f'(data_files = {{ "iris.csv" = "/home/me/data/iris.csv" }}), got {_show(recorded)}'
        )
    folder = Path(os.path.abspath(path)).parent

    def locate(value: Any, key: str) -> Any:
        if isinstance(value, dict):
            return {k: locate(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [locate(v, key) for v in value]
        if key != DATASET_AXIS or not isinstance(value, str) or not is_csv(value):
            return value
        typed = value.strip()
        located = in_folder(value, folder, recorded.get(typed) or recorded.get(value))
        if isinstance(located, DataPath):
            found[typed] = str(located.file)
        return located

    return {k: v if k == "data_files" else locate(v, k) for k, v in doc.items()}


def _check_keys(table: dict[str, Any], accepted: Sequence[str], where: str) -> None:
    for key in table:
        if key not in accepted:
            raise SweepError(
                f"{where}: unknown key {key!r} (accepted: {', '.join(accepted)})"
                + did_you_mean(key, accepted)
            )


def _check_text(table: dict[str, Any], keys: Sequence[str], where: str) -> None:
    """Titles, descriptions and labels are text: a number, list or table there would be
    printed as its Python repr in the report's headings and legends."""
    for key in keys:
        value = table.get(key, "")
        if not isinstance(value, str):
            raise SweepError(f"{where}: {key!r} must be text in quotes, got {_show(value)}")


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SweepError(f"{where}: must be a table of RunConfig fields, got {value!r}")
    _check_keys(value, CONFIG_FIELDS, where)
    return dict(value)


# What a sweep file's regression run takes unless the file says otherwise: only the
# output it cannot do without. `proplab train`'s other regression defaults (tanh, Adam,
# 400 points...) are not applied, as digits' are not: a sweep file's runs are what it
# writes, and a plane run beside circle runs differs from them in the dataset alone.
SWEEP_REGRESSION_DEFAULTS: dict[str, Any] = {"output_activation": "identity"}


def with_regression_defaults(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` completed, for a regression (plane, multi-gauss, diabetes, or
    ``task = "regression"``), by an identity output when they name none.

    The lab's sigmoid output cannot reach a negative target and is refused for these
    sets, so without this ``dataset = "plane"`` alone would never run. Other datasets
    keep RunConfig's defaults (digits' CLI defaults would silently retrain existing
    sweep files' digits runs differently).
    """
    dataset = values.get("dataset", RunConfig.dataset)
    regression = isinstance(dataset, str) and is_regression_task(
        dataset, values.get("task", RunConfig.task)
    )
    return {**SWEEP_REGRESSION_DEFAULTS, **values} if regression else values


def _validated(values: dict[str, Any], where: str) -> RunConfig:
    try:
        cfg = RunConfig.from_dict(with_regression_defaults(values), source=where)
        problem = regression_problem(cfg)  # refused now, not in every run mid-sweep
        if problem is not None:
            raise problem
        return cfg.validate()
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
            other = sorted(set(settings[-1].values) - {SEED_AXIS})
            if name == SEED_AXIS and other:
                # tables pool the seeds of a setting: a seed that also changes `other`
                # would mix two settings in one mean
                raise SweepError(
                    f"{at}[{j}] = {_show(value)}: a seed value may set only 'seed' (it also "
                    f"sets {', '.join(map(repr, other))}); vary those on an axis of their own"
                )
        # duplicates by what they train, not by how they print: aliases (identity, none,
        # linear) are one setting; 10 (two layers) and [10] (one) are two
        trained = [_validated({**base, **s.values}, at).to_dict() for s in settings]
        for j, s in enumerate(settings):
            k = next((k for k in range(j) if trained[k] == trained[j]), None)
            if k is not None:
                raise SweepError(
                    f"{at}: values {settings[k].label!r} and {s.label!r} are the same setting "
                    f"({_show(s.values)} trains as {_show(settings[k].values)}); keep one"
                )
            k = next((k for k in range(j) if settings[k].label == s.label), None)
            if k is not None:
                raise SweepError(
                    f"{at}: values {_show(settings[k].values)} and {_show(s.values)} are both "
                    f"labelled {s.label!r}; give them distinct labels (label = ...)"
                )
        axes.append(Axis(name, tuple(settings)))
    return axes


def _setting(axis: str, value: Any, base: dict[str, Any], where: str) -> Setting:
    if isinstance(value, dict):
        values = dict(value)
        if "label" in values:
            _check_text(values, ("label",), where)
        label = values.pop("label", None)
        if LABEL_COLUMN in values:
            values["label"] = values.pop(LABEL_COLUMN)
        if not values:
            raise SweepError(f"{where}: a bundle must set at least one RunConfig field")
        for key in values:
            if key not in CONFIG_FIELDS:
                fields_ = ", ".join(k for k in CONFIG_FIELDS if k != "label")
                raise SweepError(
                    f"{where}: unknown key {key!r} in a bundle (accepted: {fields_}; "
                    f"'label' for the setting's display label, {LABEL_COLUMN!r} for a CSV "
                    "file's label column)" + did_you_mean(key, CONFIG_FIELDS)
                )
        if label is None:
            main = values.get(axis)
            rest = [f"{k}={format_value(v)}" for k, v in values.items() if k != axis]
            label = _label_value(main) if main is not None else ", ".join(rest)
            if main is not None and rest:
                label += f" ({', '.join(rest)})"
    else:
        if axis not in CONFIG_FIELDS:
            raise SweepError(
                f"{where}: unknown key {axis!r} (accepted: {', '.join(CONFIG_FIELDS)}; "
                "or use tables as values to set several fields under one axis name)"
                + did_you_mean(axis, CONFIG_FIELDS)
            )
        values = {axis: value}
        label = _features_label(value) if axis == "features" else _label_value(value)
    _validated({**base, **values}, f"{where} = {_show(value)}")
    return Setting(str(label), values, named=isinstance(value, dict) and "label" in value)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {v!r}" for k, v in value.items()) + "}"
    return repr(value)


def _experiment(raw: Any, base: dict[str, Any], where: str, own: list[Axis] | None) -> Experiment:
    if not isinstance(raw, dict):
        raise SweepError(f"{where}: must be a table, got {raw!r}")
    _check_keys(raw, EXPERIMENT_KEYS, where)
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_OK.match(name):
        raise SweepError(f"{where}: 'name' must be letters, digits, '_' or '-', got {name!r}")
    where = f"{where} ({name})"
    _check_text(raw, ("title", "description"), where)
    section = raw.get("section", "other")
    if section not in SECTIONS:
        raise SweepError(
            f"{where}: section {section!r} is not accepted (accepted: {', '.join(SECTIONS)})"
        )
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        raise SweepError(f"{where}: 'optional' must be true or false, got {optional!r}")
    own_base = _table(raw.get("base", {}), f"{where} base")
    exp_base = {**base, **own_base}
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
        own_base=tuple(own_base),
    )


def _expand(
    exp: Experiment,
    shared: list[Axis],
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
    for axis in axes:
        # an experiment's base key that every value of an axis sets would never be used,
        # while the report's setup table would still show it (one bundle overriding the
        # experiment's default, as Adam's lr among optimizers at lr 0.1, is fine)
        clash = [k for k in exp.own_base if all(k in s.values for s in axis.settings)]
        if clash:
            shared_or_own = "the shared [vary] axis" if axis in shared else "its axis"
            raise SweepError(
                f"{where}: base sets {clash[0]!r}, but {shared_or_own} {axis.name!r} sets "
                f"{clash[0]!r} in every run, so the base value is never used; remove one of the two"
            )
    csv_runs = conv_runs = 0
    label_without_csv: tuple[str, RunConfig] | None = None  # a base's column on a non-CSV run
    drop_without_csv: tuple[str, RunConfig] | None = None  # the same for drop_columns
    conv_field_unused: tuple[str, str, RunConfig] | None = None  # (field, run, config)
    # momentum, n, noise written in the file: the first run that ignores each (its
    # settings and why), and the ones some run uses (cli20 M2, as refuse_ignored_flags)
    ignored: dict[str, tuple[str, str, Any]] = {}
    used: set[str] = set()
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
        named = next((s for s in combo if s.named and "dataset" in s.values), None)
        if named is not None and is_csv(cfg.dataset) and cfg.label is None:
            # `label` means the CSV label column everywhere else (--label, [base]), so in
            # a bundle naming a CSV file with no column set it may well be meant so: taken
            # silently as a display label, the run would train on the last column. (A
            # display label on any other bundle, or with the column set, is unambiguous.)
            raise SweepError(
                f"{where}: a bundle's 'label' = {named.label!r} is the setting's display label, "
                f"but run ({shown}) reads the CSV file {cfg.dataset!r}, and 'label' in [base] "
                f"(or --label) would name its label column, which nothing sets: did you mean "
                f"the column? Set it with {LABEL_COLUMN} = {named.label!r} in the bundle (or "
                "label = ... in [base]) and leave out the display label"
            )
        reads_csv = is_csv(cfg.dataset)
        csv_runs += reads_csv
        if cfg.label is not None and not reads_csv:
            # `proplab train --label` on a dataset that is no CSV file is refused; here a
            # bundle's column always is, and a column from a base only when no run of the
            # experiment reads a CSV file (it would be ignored silently; beside CSV runs
            # it is theirs, as in [vary] dataset = ["heights.csv", "xor"])
            from_bundle = any("label" in s.values for s in combo)  # label_column, stored so
            if from_bundle:
                raise _label_without_csv(where, shown, cfg)
            label_without_csv = label_without_csv or (shown, cfg)
        for key in IGNORABLE:
            if key in values:
                why = _ignores(key, cfg)
                if why:
                    ignored.setdefault(key, (shown, why, values[key]))
                else:
                    used.add(key)
        if cfg.drop_columns and not reads_csv:  # beside CSV runs, theirs (as a base's label)
            drop_without_csv = drop_without_csv or (shown, cfg)
        conv_runs += cfg.model == "conv"
        unused = next((k for k in CONV_FIELDS if k in values and cfg.model != "conv"), None)
        if unused is not None and conv_field_unused is None:
            conv_field_unused = (unused, shown, cfg)
        name = run_name(cfg, _naming_reference(reference, exp.base, cfg.dataset, cfg.task))
        if name in runs and runs[name] != cfg:
            differ = [k for k, v in cfg.to_dict().items() if runs[name].to_dict()[k] != v]
            shown_ = ", ".join(
                f"{k}={getattr(runs[name], k)!r} and {getattr(cfg, k)!r}" for k in differ
            )
            raise SweepError(
                f"{where}: two different configurations ({shown_}) map to folder {name!r}, as "
                "run names print values rounded (6 digits) and a one-width hidden list like a "
                "number; use values that differ there"
            )
        runs[name] = cfg
        exp.runs.append((name, labels))
    if label_without_csv is not None and csv_runs == 0:
        raise _label_without_csv(where, *label_without_csv)
    for key, (shown, why, value) in ignored.items():
        if key not in used:  # beside a run that uses it (vary.optimizer), it is theirs
            raise SweepError(
                f"{where}: {_run(shown)} sets {key!r} = {_show(value)}, "
                f"but {why}, and no run of this experiment uses it"
            )
    if drop_without_csv is not None and csv_runs == 0:
        shown, cfg = drop_without_csv
        raise SweepError(
            f"{where}: {_run(shown)} sets drop_columns = {cfg.drop_columns!r}, but its dataset "
            f"{cfg.dataset!r} is not a CSV file (only a .csv file has columns to drop), and no "
            "run of this experiment reads one"
        )
    if conv_field_unused is not None and conv_runs == 0:
        # as `proplab train --filters 8` without --model conv; beside conv runs (vary.model
        # = ["mlp", "conv"]) the geometry is theirs
        field, shown, cfg = conv_field_unused
        raise SweepError(
            f"{where}: {_run(shown)} sets {field!r} = {getattr(cfg, field)!r}, but only the "
            f'convolutional model uses it (model = "conv"), and no run of this experiment '
            f"has it (this one is {cfg.model!r})"
        )


IGNORABLE = ("momentum", "n", "noise")  # fields some runs ignore (refuse_ignored_flags)


def _ignores(key: str, cfg: RunConfig) -> str:
    """Why the run ``cfg`` ignores ``key`` of :data:`IGNORABLE` ('' when it uses it)."""
    if key == "momentum":
        if cfg.optimizer in MOMENTUM_OPTIMIZERS:
            return ""
        return (
            f"optimizer {cfg.optimizer!r} has no momentum (accepted with: "
            f"{', '.join(MOMENTUM_OPTIMIZERS)})"
        )
    if key in drawn_with(cfg.dataset):
        return ""
    zoo = ", ".join(ALL_ZOO)
    if key == "n":
        return f"only linear and the zoo sets ({zoo}) are drawn with n samples, not {cfg.dataset!r}"
    return f"only the zoo sets ({zoo}) are drawn with noise, not {cfg.dataset!r}"


def _run(shown: str) -> str:
    """A run named by its settings in a message (``run (lr=0.1)``), or ``its run`` when it
    has none (an experiment without axes has one run)."""
    return f"run ({shown})" if shown else "its run"


def _label_without_csv(where: str, shown: str, cfg: RunConfig) -> SweepError:
    return SweepError(
        f"{where}: {_run(shown)} sets the label column {cfg.label!r}, but its dataset "
        f"{cfg.dataset!r} is not a CSV file (only a .csv file has label columns)"
    )


def _naming_reference(
    reference: RunConfig, base: dict[str, Any], dataset: str, task: str = "auto"
) -> RunConfig:
    """The ``[base]`` configuration a run on ``dataset`` (with ``task``) is named against:
    with that dataset's own defaults where no base sets the field, so a plane run beside
    circle runs is not named ``output_activation=identity`` (nor a circle run beside plane
    runs ``output_activation=sigmoid``) for a default nobody wrote."""
    own = with_regression_defaults({"dataset": dataset, "task": task})
    changes = {
        k: own.get(k, getattr(RunConfig, k)) for k in SWEEP_REGRESSION_DEFAULTS if k not in base
    }
    return reference.replace(**changes) if changes else reference


def _dataset_origin(
    spec: SweepSpec, exp: Experiment, cfg: RunConfig, field: str = "dataset"
) -> str:
    """Where the file sets the dataset ``cfg`` trains on (or its ``field``: the columns it
    drops), for an error about its data: ``[vary] dataset[1] = 'multi-gaus'``,
    ``experiment 'arch' vary dataset[0] = ...``, ``experiment 'arch' base`` or ``[base]``
    (the experiment that first needs it is not always the place to fix it)."""
    own = [a for a in exp.axes if a not in spec.shared_axes]
    for where, axes in (("[vary]", spec.shared_axes), (f"experiment {exp.name!r} vary", own)):
        for axis in axes:
            for j, setting in enumerate(axis.settings):
                values = setting.values
                if field in values and values[field] == getattr(cfg, field):
                    shown = values if len(values) > 1 else values[field]  # a bundle, or it
                    return f"{where} {axis.name}[{j}] = {_show(shown)}"
    return f"experiment {exp.name!r} base" if field in exp.own_base else "[base]"


def _check_data_and_models(spec: SweepSpec, check_build: bool) -> None:
    """Load each distinct dataset and build each distinct model once, before any training."""
    data_cache: dict[tuple[Any, ...], tuple[int, int]] = {}
    built: dict[tuple[Any, ...], str] = {}
    # batchnorm runs meet their batch sizes on the training rows (cli20 M7: every run of
    # batch_size 1 failed mid-sweep): the data of those runs is kept to split it
    arrays: dict[tuple[Any, ...], tuple[Any, Any]] = {}
    trained_rows: dict[tuple[Any, ...], int] = {}
    batchnorm = any(cfg.batchnorm for cfg in spec.runs.values())
    for exp in spec.experiments:
        for name, _ in exp.runs:
            cfg = spec.runs[name]
            dkey = (
                cfg.dataset,
                cfg.n,
                cfg.noise,
                cfg.label,
                # the columns left out change the inputs (and can be misspelt in one
                # setting only: review20 F7 found it when that run failed mid-sweep)
                tuple(cfg.drop_columns or ()),
                cfg.task,
                cfg.seed if cfg.dataset != "xor" else 0,
            )
            missing = not_found(cfg.dataset)  # every place looked, not the first (L3)
            if missing is not None:
                origin = _dataset_origin(spec, exp, cfg)
                raise SweepError(f"{spec.path}: {origin}: dataset: {missing}")
            if dkey not in data_cache:
                try:
                    x, y = _load_dataset(cfg)
                except (ValueError, OSError, KeyError) as exc:
                    # a column to drop that is not there: where that list is set
                    field = "drop_columns" if str(exc).startswith("drop_columns:") else "dataset"
                    raise SweepError(
                        f"{spec.path}: {_dataset_origin(spec, exp, cfg, field)}: {exc}"
                    ) from None
                data_cache[dkey] = (int(x.shape[-1]), int(y.shape[-1]))
                if batchnorm:
                    arrays[dkey] = (x, y)
            if cfg.batchnorm:
                problem = _batch_problem(cfg, arrays[dkey], trained_rows, dkey)
                if problem:
                    raise SweepError(f"{spec.path}: experiment {exp.name!r}, run {name}: {problem}")
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


def _batch_problem(
    cfg: RunConfig,
    data: tuple[Any, Any],
    trained_rows: dict[tuple[Any, ...], int],
    dkey: tuple[Any, ...],
) -> str:
    """Why batchnorm run ``cfg`` would fail on its batches ("" when it would not): the
    training rows after the test share is held out (``experiments.prepare_run``'s check,
    counted once per data and split)."""
    from proplab.config import check_batches
    from proplab.dataload import holdout, is_regression_run

    key = (*dkey, cfg.test_fraction, is_regression_run(cfg))
    try:
        if key not in trained_rows:
            trained_rows[key] = int(holdout(cfg, *data)[0].shape[0])
        check_batches(cfg, trained_rows[key])
    except ConfigError as exc:
        return str(exc)
    return ""


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
    """The run's own data (``experiments.load_dataset``: drawn from the seed's data stream,
    as the run draws it), imported on first use as above: experiments brings the
    run-figure modules, which reading a sweep file does not need."""
    from proplab.experiments import load_dataset

    return load_dataset(cfg)


def format_value(value: Any) -> str:
    """A config value as shown in run names and labels: ``1e-06``, ``0.1``, ``10``, ``8-4``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "-".join(format_value(v) for v in value) if value else "none"  # no hidden layer
    if value is None:
        return "none"
    return str(value)


def _features_label(value: Any) -> str:
    """Input features as a setting's label: ``(x1, x2, x1_x2)``, canonical names in brackets
    (``x1-x2`` read as a subtraction, in the file's own spelling ``x1*x2``, and bare commas
    ran together in a list of settings)."""
    from proplab.features import feature_names, inputs_label

    try:
        return inputs_label(feature_names(value))
    except ValueError:  # refused with its own message when the setting is validated
        return _label_value(value)


def _label_value(value: Any) -> str:
    """A value as a setting's label: as in run names, but exact where those round or merge.

    ``[10]`` (one layer) is not ``10`` (two), and ``0.0010000001`` is not ``0.001``. Run
    names keep :func:`format_value`, so finished runs of existing sweeps keep their folders.
    """
    if isinstance(value, list | tuple) and len(value) <= 1:  # [10] is one layer, 10 two
        return f"[{format_value(value[0]) if value else ''}]"
    if isinstance(value, float) and float(f"{value:g}") != value:
        return repr(value)
    return format_value(value)


def run_name(cfg: RunConfig, reference: RunConfig) -> str:
    """Folder name: ``key=value`` for each field that differs from ``reference``, plus dataset and seed."""
    mine, ref = cfg.to_dict(), reference.to_dict()
    keys = ["dataset"] + [
        k for k in CONFIG_FIELDS if k not in ("dataset", "seed") and mine[k] != ref[k]
    ]
    keys.append("seed")
    parts = [f"{k}={format_value(mine[k])}" for k in keys]
    return short_folder_name(re.sub(r"[^A-Za-z0-9._=,+-]", "_", ",".join(parts)))
