"""Figure text readable on white (WCAG: 4.5:1 for text), a11y24 L1."""

from pathlib import Path

import numpy as np
from matplotlib.colors import to_hex, to_rgb
from test_plots import _history  # a History of given losses and accuracies

from proplab import plots


def contrast_on_white(colour: object) -> float:
    """WCAG 2 contrast ratio of ``colour`` against white."""
    rgb = np.asarray(to_rgb(colour))  # type: ignore[arg-type]
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return 1.05 / (float(lin @ np.array([0.2126, 0.7152, 0.0722])) + 0.05)


def test_the_accuracy_axis_text_is_a_darker_orange_than_its_line(tmp_path: Path) -> None:
    fig = plots.learning_curve(_history([0.3, 0.2, 0.1], [0.5, 0.75, 1.0]), tmp_path / "lc.png")
    twin = fig.axes[1]
    assert contrast_on_white(plots.ACCURACY_COLOR) < 4.5  # the line's orange: 3.0:1
    label = twin.yaxis.label.get_color()
    ticks = {to_hex(t.get_color()) for t in twin.get_yticklabels()}
    assert ticks == {to_hex(label)} == {plots.ACCURACY_TEXT_COLOR}
    assert contrast_on_white(label) >= 4.5
    # the line keeps the orange it has in every other figure
    assert to_hex(twin.get_lines()[0].get_color()) == plots.ACCURACY_COLOR
