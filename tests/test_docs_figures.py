"""The README's figures are what the commands draw today.

docs/figures/lab-xor-gradients.png kept an x-axis label ("updates") for weeks after the
code changed it ("epochs"): nothing compared the shipped pictures with the code's. Each
test here draws a figure the README shows, with the command that makes it, and compares.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from proplab import cli

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"


def assert_same_picture(shipped_png: Path, drawn_png: Path) -> None:
    """Under the matplotlib that drew the shipped PNG, all but 0.6 % of the pixels the same
    (a changed axis label alone changes 0.9 %; a CPU with other floating-point kernels,
    AVX-512 against AVX2, trains multi-gauss's network to weights whose contour lines and
    a title digit move 0.4 %); under a newer one, which may place glyphs a little
    differently, all but 1 %. Skipped under an older one: 3.8.4 (the floor) changes
    5 % of the pixels against 3.11.2's, more than drawing another seed's numbers does
    (1.4 %), so no tolerance tells the two apart."""
    from packaging.version import Version
    from PIL import Image

    shipped = matplotlib.image.imread(shipped_png)
    drawn = matplotlib.image.imread(drawn_png)
    with Image.open(shipped_png) as image:
        software = image.info["Software"]  # "Matplotlib version3.11.2, https://..."
    drawn_by = re.match(r"Matplotlib version(\S+),", software).group(1)
    if Version(matplotlib.__version__) < Version(drawn_by):
        pytest.skip(f"{shipped_png.name} was drawn by matplotlib {drawn_by}, this is older")
    assert shipped.shape == drawn.shape, shipped_png.name
    changed = np.mean(np.abs(shipped - drawn).max(axis=-1) > 0.1)
    allowed = 0.006 if Version(matplotlib.__version__) == Version(drawn_by) else 0.01
    assert changed < allowed, f"{shipped_png.name}: {changed:.2%} of its pixels differ"


@pytest.mark.slow
def test_the_lab_run_figures_the_readme_shows_are_what_proplab_lab_draws(tmp_path, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert cli.main(["lab", "--no-suite", "--out", str(tmp_path), "--no-progress"]) == 0
    capsys.readouterr()
    for shipped, drawn in (
        ("lab-xor-gradients.png", "gradients.png"),
        ("lab-xor-boundary-during-training.png", "boundary_during_training.png"),
    ):
        assert f"](docs/figures/{shipped})" in readme
        assert_same_picture(FIGURES / shipped, tmp_path / "xor" / drawn)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("shipped", "argv", "drawn"),
    [
        (
            "regression-multi-gauss.png",
            "--dataset multi-gauss --n 600 --hidden 32 --optimizer adam --lr 0.01 "
            "--test-fraction 0.2",
            "decision_boundary.png",
        ),
        (
            "diabetes-overfitting.png",
            "--dataset diabetes --lr 0.01 --epochs 1000",
            "learning_curve.png",
        ),
    ],
)
def test_the_run_figures_the_readme_shows_are_what_proplab_train_draws(
    tmp_path, capsys, shipped, argv, drawn
):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # the command is in the figure's caption (its alt text)
    caption = re.search(rf"!\[([^\]]*)\]\(docs/figures/{re.escape(shipped)}\)", readme).group(1)
    flags = argv.split()
    for flag, value in zip(flags[::2], flags[1::2], strict=True):
        said = {"--dataset": value, "--test-fraction": "a fifth held out"}.get(flag)
        assert (said or f"{flag} {value}") in caption, flag
    out = tmp_path / "run"
    assert cli.main(["train", *flags, "--out", str(out), "--quiet", "--no-progress"]) == 0
    capsys.readouterr()
    assert_same_picture(FIGURES / shipped, out / drawn)
