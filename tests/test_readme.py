"""The README's examples work as written: its sweep file parses, its Python runs."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from itertools import product
from pathlib import Path

import numpy as np
import pytest

from proplab.sweep import parse_spec

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_the_sweep_file_example_parses_into_the_runs_it_describes():
    """It once set lr on two axes, which the sweep refuses ('axes both set lr')."""
    (text,) = _blocks("toml")
    spec = parse_spec(text, "lr.toml")
    axes = spec.experiments[0].axes
    assert len(spec.runs) == np.prod([len(a.settings) for a in axes])
    # the folder name the README shows next to it is one of them
    assert "dataset=xor,lr=0.001,seed=3" in spec.runs
    assert set(spec.runs) >= {
        f"dataset={d},lr={lr},seed={s}"
        for d, lr, s in product(["linear", "xor"], ["0.1", "0.001"], [0, 4])
    }


@pytest.mark.slow
def test_the_python_api_screen_runs_and_says_what_its_comments_say(tmp_path, monkeypatch):
    (code,) = [b for b in _blocks("python") if "import proplab" in b]
    monkeypatch.chdir(tmp_path)  # it saves xor.npz where it runs
    out = io.StringIO()
    with redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 (our own README)
    lines = out.getvalue().splitlines()
    loss, acc = (float(v) for v in lines[4].split())  # after fit's 4 progress lines
    assert loss < 2e-4 and acc == 1.0  # "~1e-4, 1.0"
    assert (tmp_path / "xor.npz").is_file()
    # the last print: the stack's 10 accuracies (NumPy may wrap them over two lines)
    text = out.getvalue()
    accuracies = [float(v) for v in text[text.rindex("[") + 1 : text.rindex("]")].split()]
    assert len(accuracies) == 10 and all(0.0 <= a <= 1.0 for a in accuracies)
