"""What a student's terminal shows: commands that paste into a shell whatever the folder's
name, and stdout that cannot encode "±" or "²" (env24 L2, L3)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from proplab import report
from proplab.report_setup import rebuild_commands

# spaces, parentheses, an apostrophe and a non-ASCII letter: each breaks an unquoted command
ODD = "My runs (1) Zoë's"


def test_the_reports_rebuild_commands_paste_into_a_shell_as_one_folder(tmp_path: Path) -> None:
    out = tmp_path / ODD
    report_line, sweep_line = rebuild_commands(out, 3).splitlines()
    assert shlex.split(report_line) == ["proplab", "report", str(out)]
    assert shlex.split(sweep_line) == [
        "proplab", "sweep", str(out / "sweep.toml"), "--out", str(out), "--jobs", "3",
    ]  # fmt: skip


def test_the_not_a_sweep_folder_hint_pastes_into_a_shell(tmp_path: Path, capsys) -> None:
    out = tmp_path / ODD
    out.mkdir()
    assert report.main(str(out)) == 2
    err = capsys.readouterr().err
    command = re.search(r"`(proplab sweep [^`]*)`", err)
    assert command is not None, err
    assert shlex.split(command.group(1)) == ["proplab", "sweep", "FILE.toml", "--out", str(out)]
