"""The wheel built from this repo holds the package and nothing else (pkg25 L4, M1).

The other tests run on the editable install, which reads ``suites/`` and ``playground.html``
straight from ``src/``: a data file left out of pyproject's package-data would pass them all
and be missing only from an installed wheel. This test builds the wheel once, from a copy of
the files git tracks (so the repo gets no ``build/`` folder, whose stale copies a later build
would pick up), with the running interpreter's setuptools and no download
(``--no-build-isolation --no-index``), and reads its file list and metadata.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import proplab

REPO = Path(__file__).resolve().parents[1]
# pyproject's build-system requires this (license = "MIT", a PEP 639 expression); the dev
# extra installs it into the test venv, which --no-build-isolation builds with
SETUPTOOLS_FLOOR = 77


def _tracked() -> list[str]:
    """The repo's files as git tracks them (paths relative to the repo), or a skip."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the files to expect in the wheel are git's")
    done = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, text=True
    )
    if done.returncode != 0 or not done.stdout:
        pytest.skip(f"{REPO} is not a git checkout: the files to expect in the wheel are git's")
    return [name for name in done.stdout.split("\0") if name and (REPO / name).is_file()]


def _check_build_tools() -> None:
    if importlib.util.find_spec("pip") is None:
        pytest.skip(f"no pip in {sys.executable}'s environment to build the wheel with")
    try:
        found = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"no setuptools in {sys.executable}'s environment (pip install -e '.[dev]')")
    if int(found.split(".")[0]) < SETUPTOOLS_FLOOR:
        pytest.skip(
            f"setuptools {found} is older than the {SETUPTOOLS_FLOOR} the build needs "
            "(pip install -e '.[dev]' brings a newer one)"
        )


@pytest.mark.slow
def test_the_wheel_holds_every_module_and_data_file_and_nothing_else(tmp_path):
    tracked = _tracked()
    _check_build_tools()
    source = tmp_path / "source"
    for name in tracked:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    # what a working tree also holds, which must stay out of the wheel
    (source / "src" / "proplab" / "__pycache__").mkdir()
    (source / "src" / "proplab" / "__pycache__" / "core.cpython-311.pyc").write_bytes(b"")
    (source / "runs" / "lab").mkdir(parents=True)
    (source / "runs" / "lab" / "report.md").write_text("# a student's report\n")
    out = tmp_path / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation"]
        + ["--no-index", "--no-cache-dir", "--disable-pip-version-check", "-w", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    # one version, in __init__.py (M1): the wheel's name and METADATA say it
    version = proplab.__version__
    (wheel,) = out.iterdir()
    assert wheel.name == f"proplab-{version}-py3-none-any.whl"
    info = f"proplab-{version}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"{info}/METADATA").decode("utf-8")
        entry_points = archive.read(f"{info}/entry_points.txt").decode("utf-8")
    assert f"\nVersion: {version}\n" in metadata and "\nName: proplab\n" in metadata

    # every file git tracks under src/proplab/ (modules, playground.html, suites/*.toml), and
    # nothing else outside the dist-info: no __pycache__, tests/ or runs/
    package = {name.removeprefix("src/") for name in tracked if name.startswith("src/proplab/")}
    assert {"proplab/playground.html", "proplab/suites/lab.toml", "proplab/cli.py"} <= package
    shipped = {name for name in names if not name.startswith(f"{info}/")}
    assert shipped == package, (sorted(package - shipped), sorted(shipped - package))
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "runs/"))]

    assert "[console_scripts]\nproplab = proplab.cli:main\n" in entry_points
