"""Which folders ``proplab train --out`` may write into, so that a run never replaces
what it should not (cli20 H3: a user's own config.json, another run, a sweep folder).

The rule, as ``proplab train --help`` and the README state it:

- a new or empty folder: written;
- a run folder of the same configuration (the same command run again, ``--print-every``
  aside): trained again, its run files replaced (as a sweep redoes a run);
- a run folder of another configuration, or the partial results of an interrupted run
  (``interrupted.json``): refused unless ``--replace``, as ``proplab sweep`` refuses
  another sweep's folder;
- any other folder that is not empty (no readable run ``config.json``: a user's files,
  a sweep folder): refused, ``--replace`` or not.

Only the run's own files are ever replaced (``experiments.RUN_OUTPUTS``); a file of the
user's inside a run folder stays.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from proplab.config import RunConfig
from proplab.runio import LOCK_FILE, OutputDirError, jsonable, read_json

CONFIG, SUMMARY, INTERRUPTED = "config.json", "summary.json", "interrupted.json"
IGNORED = ("print_every",)  # settings a run folder may differ in and still be this run


class OutFolderError(OutputDirError):
    """``--out`` names a folder train must not write into; the message says why and
    what to do (``replaceable``: ``--replace`` would allow it). The CLI prints it as
    ``argument --out: ...``, exit 2. ``problem``: what the folder holds, without the
    folder's name or the advice (``holds a run of another configuration (...)``)."""

    def __init__(self, message: str, replaceable: bool, problem: str) -> None:
        super().__init__(message)
        self.replaceable = replaceable
        self.problem = problem


def check_out_folder(out: Path, cfg: RunConfig, replace: bool = False) -> None:
    """Raise :class:`OutFolderError` when training ``cfg`` into ``out`` would replace what
    the rule above keeps (``cfg`` validated, as config.json records it)."""
    if not out.is_dir():  # new (or a file in the way: ensure_writable_dir says so)
        return
    # a lock file a killed proplab left is no file of the user's
    entries = sorted(p.name for p in out.iterdir() if p.name != LOCK_FILE)
    if not entries:
        return
    stored = _stored_config(out / CONFIG)
    if stored is None:
        if (out / "sweep.toml").is_file():
            what = "is a sweep folder (sweep.toml)"
        elif (out / CONFIG).exists():
            what = f"is not a run folder (its {CONFIG} is no run's configuration)"
        else:
            what = f"is not a run folder (no {CONFIG}; it holds {entries[0]!r}"
            what += f" and {len(entries) - 1} more)" if len(entries) > 1 else ")"
        raise OutFolderError(
            f"'{out}' {what}; give a new or empty folder (nothing there is replaced)",
            replaceable=False,
            problem=what,
        )
    now = json.loads(json.dumps(jsonable(cfg.to_dict())))
    # a field an older proplab did not write counts as its default
    defaults = json.loads(json.dumps(jsonable(RunConfig().to_dict())))
    # print_every changes what is printed, not the run's numbers: a folder trained with
    # another one is the same run (train's default became a quarter of --epochs; ta23 M6)
    diff = [k for k, v in now.items() if k not in IGNORED and stored.get(k, defaults[k]) != v]
    if diff:
        k = diff[0]
        n = len(diff) - 1
        more = f"; {n} more setting{'s differ' if n > 1 else ' differs'}" if n else ""
        problem = (
            f"holds a run of another configuration ({k}={stored.get(k, defaults[k])!r} there, "
            f"{now[k]!r} here{more})"
        )
    elif (out / INTERRUPTED).is_file() and not (out / SUMMARY).is_file():
        problem = f"holds the partial results of an interrupted run ({_epochs(out)})"
    else:
        return  # the same run again: trained anew, as a sweep redoes a run
    if replace:
        return
    raise OutFolderError(
        f"'{out}' {problem}; give another folder, or --replace to train this run there "
        "(its run files are replaced; other files stay)",
        replaceable=True,
        problem=problem,
    )


def free_default_folder(
    default: Path, cfg: RunConfig, replace: bool = False
) -> tuple[Path, str | None]:
    """The folder a run without ``--out`` goes to: ``default``
    (``runs/train/xor-mlp-h10x10-...``), or, when that holds something the rule keeps
    (a run of another configuration, say another ``--epochs``), the first of
    ``default-2``, ``default-3``, ... it may use; and a note saying so (None when
    ``default`` itself is used). ``--replace`` trains into ``default`` as with ``--out``."""
    try:
        check_out_folder(default, cfg, replace)
        return default, None
    except OutFolderError as exc:
        # the problem itself, not the message cut at its first "; ": a problem naming
        # several settings has one inside its parentheses
        why = exc.problem
    for k in itertools.count(2):
        candidate = default.with_name(f"{default.name}-{k}")
        try:
            check_out_folder(candidate, cfg)
        except OutFolderError:
            continue
        return candidate, f"{default} {why}, kept; this run goes to {candidate}"
    raise AssertionError("unreachable")  # itertools.count never ends


def _stored_config(path: Path) -> dict[str, Any] | None:
    """The ``config`` a run's config.json records, or None when it is no run's."""
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return None
    config = data.get("config") if isinstance(data, dict) else None
    return config if isinstance(config, dict) else None


def _epochs(out: Path) -> str:
    """``'interrupted.json: 124,580 of 1,000,000 epochs'`` (as much as the file says)."""
    try:
        info = read_json(out / INTERRUPTED)
        return f"{INTERRUPTED}: {int(info['epochs_run']):,} of {int(info['epochs']):,} epochs"
    except (OSError, ValueError, TypeError, KeyError):
        return INTERRUPTED
