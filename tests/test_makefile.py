"""The Makefile on a student's machine (env24): a too-old Python refused before any venv
or download, a venv of a removed interpreter rebuilt, `make help`, `make clean`, LC_ALL=C.

Each test runs make on a copy of the Makefile (and pyproject.toml) in a temporary folder,
with stand-in interpreters: nothing is installed.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def make(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    environ.update(env)
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=folder,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def old_python(path: Path) -> Path:
    """A stand-in for Python 3.10.13: this Python, told it is 3.10, running the -c code."""
    pretend = (
        "import sys; sys.version_info = (3, 10, 13, 'final', 0); "
        "sys.version = '3.10.13 (stand-in)'; exec(sys.argv[1])"
    )
    return script(path, f'exec "{sys.executable}" -c "{pretend}" "$2"\n')


def test_a_too_old_python_is_refused_before_any_venv(project: Path) -> None:
    """Python 3.10's pip spent minutes downloading numpy releases before it read
    requires-python (env24 M1): the Makefile says it in one line, and makes no .venv."""
    old = old_python(project / "py310" / "python3")
    result = make(project, "lab", f"PYTHON={old}")
    assert result.returncode != 0
    assert f"proplab needs Python 3.11 or newer; {old} is 3.10.13" in result.stderr
    assert "PYTHON=python3.11" in result.stderr
    assert not (project / ".venv").exists()


def test_a_venv_of_a_too_old_python_says_make_clean(project: Path) -> None:
    """A .venv made by Python 3.10 (before switching to 3.11) is named as the reason, with
    what to do, before pip runs in it."""
    old_python(project / ".venv" / "bin" / "python")
    result = make(project, "lab", f"PYTHON={sys.executable}")
    assert result.returncode != 0
    assert "proplab needs Python 3.11 or newer; .venv/bin/python is 3.10.13" in result.stderr
    assert "run make clean" in result.stderr
    assert "pip install" not in result.stdout
    assert not (project / ".venv" / ".proplab-dev.stamp").exists()


@pytest.mark.slow
def test_a_venv_whose_python_was_removed_is_rebuilt(project: Path) -> None:
    """A dangling .venv/bin/python (its interpreter upgraded away) made every make fail
    with 'No such file or directory' until .venv was deleted by hand (env24 L5)."""
    bin_dir = project / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "python3"):
        (bin_dir / name).symlink_to(project / "gone" / "python3")
    (project / ".venv" / ".proplab-dev.stamp").touch()  # the old venv's: installs again
    result = make(project, ".venv/bin/python", f"PYTHON={sys.executable}")
    assert result.returncode == 0, result.stderr
    version = subprocess.run(
        [str(bin_dir / "python"), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == str(tuple(sys.version_info[:2]))
    assert not (project / ".venv" / ".proplab-dev.stamp").exists()


def test_make_clean_deletes_the_venvs_and_keeps_the_results(project: Path) -> None:
    for made in (".venv/bin/python", ".venv-oldest/bin/python", "runs/lab/report.md"):
        (project / made).parent.mkdir(parents=True, exist_ok=True)
        (project / made).write_text("x")
    result = make(project, "clean")
    assert result.returncode == 0, result.stderr
    assert not (project / ".venv").exists() and not (project / ".venv-oldest").exists()
    assert (project / "runs" / "lab" / "report.md").read_text() == "x"


def test_make_help_names_every_target(project: Path) -> None:
    result = make(project, "help")
    assert result.returncode == 0, result.stderr
    phony = next(
        line
        for line in (project / "Makefile").read_text().splitlines()
        if line.startswith(".PHONY")
    )
    targets = phony.split(":", 1)[1].split()
    assert len(targets) >= 8
    for target in targets:
        if target != "help":
            assert f"make {target} " in result.stdout, target
    assert "runs/ and your results are kept" in result.stdout


def test_a_bare_make_is_make_lab(project: Path) -> None:
    bare, lab = make(project, "-n"), make(project, "-n", "lab")
    assert bare.returncode == lab.returncode == 0
    assert bare.stdout == lab.stdout
    assert "proplab lab" in bare.stdout


@pytest.mark.parametrize(("given", "seen"), [("C", "C.UTF-8"), ("POSIX", "C.UTF-8"), ("", "")])
def test_lc_all_c_reaches_the_venv_as_its_utf8_twin(project: Path, given: str, seen: str) -> None:
    """Python 3.11/3.12 read the editable install's .pth in the locale's encoding: under
    LC_ALL=C a clone path with non-ASCII letters stopped every .venv command (env24 L1)."""
    spy = script(project / "spy" / "python3", f'echo "$LC_ALL" > "{project}/lc.txt"\nexit 3\n')
    result = make(project, "lab", f"PYTHON={spy}", LC_ALL=given)
    assert result.returncode != 0  # the spy stops make at its first command
    assert (project / "lc.txt").read_text().strip() == seen
