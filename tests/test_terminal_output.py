"""What a student's terminal shows: commands that paste into a shell whatever the folder's
name, and stdout that cannot encode "±" or "²" (env24 L2, L3)."""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from proplab import cli, report
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


SMALL_SWEEP = """title = "small"
[base]
hidden = 4
epochs = 30
[vary]
dataset = ["xor"]
seed = [0, 1]
[[experiment]]
name = "lr"
vary.lr = [1.0, 0.1]
"""


@pytest.mark.parametrize(
    "ascii_env",
    [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "PYTHONUTF8": "0"}],
    ids=["PYTHONIOENCODING", "LC_ALL=C"],
)
def test_a_sweep_on_an_ascii_stdout_prints_plus_minus_and_ends_cleanly(
    tmp_path: Path, ascii_env: dict[str, str]
) -> None:
    # env24 L3: the sweep trained and wrote everything, then its table's "±" ended it
    # with a UnicodeEncodeError (exit 1)
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "PYTHONIOENCODING")}
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL_SWEEP, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "proplab", "sweep", str(spec), "--out", str(tmp_path / "out")]
        + ["--jobs", "1", "--no-progress"],
        capture_output=True,
        env={**env, **ascii_env},
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert b"Traceback" not in result.stderr
    assert b"(mean +- std over seeds" in result.stdout and result.stdout.isascii()


@pytest.mark.parametrize("command", ["train", "predict", "gradcheck", "trace"])
def test_help_pages_on_an_ascii_stdout_write_r_squared_as_r_caret_2(command, monkeypatch) -> None:
    written = io.BytesIO()
    ascii_out = io.TextIOWrapper(written, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", ascii_out)
    assert cli.main([command, "--help"]) == 0
    ascii_out.flush()
    assert b"R^2" in written.getvalue()
    assert sys.stdout is ascii_out and ascii_out.errors == "strict"  # as it was


def test_other_signs_are_escaped_as_pythons_stderr_does() -> None:
    # a CSV column's name, say: readable, and no UnicodeEncodeError
    assert "Zoë → σ² …".encode("ascii", "proplab.plain") == b"Zo\\xeb -> \\u03c3^2 ..."
    assert "±".encode("latin-1", "proplab.plain") == b"\xb1"  # what it can encode it keeps
    # a file name's undecodable byte (os.fsdecode in a C locale) goes out as it came in
    assert "run\udce9.csv".encode("ascii", "proplab.plain") == b"run\xe9.csv"
