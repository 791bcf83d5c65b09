"""proplab.trace_plots (the network diagram of one training step) and proplab trace --figure.

The numbers are read back from the figure's Text artists (each carries a gid naming
its number) and compared with the trace's arrays; their boxes are measured in pixels
at the saved DPI, as tests/test_figures_layout.py measures the other figures.
"""

from __future__ import annotations

import math
import re

import matplotlib.image
import numpy as np
import pytest
from matplotlib.colors import to_rgb

import proplab
from proplab import cli
from proplab.config import RunConfig
from proplab.core import Sequential
from proplab.layers import Linear
from proplab.plots import DPI
from proplab.trace_plots import (
    BACKWARD_COLOR,
    FORWARD_COLOR,
    check_drawable,
    draw_step,
    step_figure,
)
from proplab.trace_run import trace_config
from proplab.trace_text import number


def _lab_trace(**changes):
    """One step of the lab's network (2-2-2-1 by default) on xor's first row, seed 0."""
    settings = {"dataset": "xor", "hidden": 2, "seed": 0, **changes}
    return trace_config(RunConfig(**settings), samples=1)


def _numbers(fig) -> dict[str, object]:
    """Every number in the figure by its gid."""
    texts = [t for t in fig.texts + fig.axes[0].texts if t.get_gid()]
    gids = [t.get_gid() for t in texts]
    assert len(gids) == len(set(gids)), "a number drawn twice"
    return {t.get_gid(): t for t in texts}


def _caption(fig) -> str:
    return " ".join(t.get_text() for t in fig.texts if not t.get_gid()).replace("\n", " ")


def _expected(trace, digits: int) -> dict[str, tuple[str, str]]:
    """What each number's Text should say and its colour, straight from the trace's arrays."""
    want: dict[str, tuple[str, str]] = {}
    fwd, bwd = FORWARD_COLOR, BACKWARD_COLOR
    for i, v in enumerate(trace.x[0], 1):
        want[f"x[{i}]"] = (f"x = {number(v, digits)}", fwd)
    linears = [s for s in trace.modules if isinstance(s.module, Linear)]
    for k, step in enumerate(linears, 1):
        after = trace.modules[step.index + 1] if step.index + 1 < len(trace.modules) else None
        w, g = step.params["weight"], step.grads["weight"]
        for i in range(w.shape[0]):
            for j in range(w.shape[1]):
                want[f"W{k}[{i + 1},{j + 1}]"] = (number(w[i, j], digits), fwd)
                want[f"dL/dW{k}[{i + 1},{j + 1}]"] = (number(g[i, j], digits), bwd)
        for j in range(w.shape[1]):
            want[f"z{k}[{j + 1}]"] = (f"z = {number(step.output[0, j], digits)}", fwd)
            want[f"dL/dz{k}[{j + 1}]"] = (f"dL/dz = {number(step.grad_output[0, j], digits)}", bwd)
            if after is not None:
                want[f"a{k}[{j + 1}]"] = (f"a = {number(after.output[0, j], digits)}", fwd)
            if "bias" in step.params:
                want[f"b{k}[{j + 1}]"] = (f"b = {number(step.params['bias'][j], digits)}", fwd)
    t = np.asarray(trace.target)
    for j in range(trace.pred.shape[1]):
        p = f"p = {number(trace.pred[0, j], digits)}"
        if t.shape == trace.pred.shape:
            p += f", t = {number(t[0, j], digits)}"
        want[f"p[{j + 1}]"] = (p, fwd)
        want[f"dL/dp[{j + 1}]"] = (f"dL/dp = {number(trace.grad_pred[0, j], digits)}", bwd)
    want["L"] = (f"L = {number(trace.loss, digits)}", fwd)
    if t.shape != trace.pred.shape:
        want["t"] = (f"t = class {int(t.reshape(-1)[0])}", fwd)
    return want


@pytest.mark.parametrize("digits", [3, 4])
def test_every_number_drawn_is_the_traces_in_its_colour(digits: int) -> None:
    trace = _lab_trace()
    drawn = _numbers(step_figure(trace, digits))
    want = _expected(trace, digits)
    # 2 x + 6 units x (z, a, dL/dz, b) + 10 weights x 2 + p, dL/dp, L
    assert len(want) == 2 + 5 * 4 + 20 + 3
    assert set(drawn) == set(want)
    for gid, (text, colour) in want.items():
        assert drawn[gid].get_text() == text, gid
        assert to_rgb(drawn[gid].get_color()) == to_rgb(colour), gid
    # and they are the numbers proplab trace prints for this step (its text, 4 digits):
    # z2 = [[0.5143 0.7866]], W1 = [[0.3355 -0.5639] ...], dL/dW2[1,2] = 0.03853, L 0.5121
    if digits == 4:
        assert drawn["z2[1]"].get_text() == "z = 0.5143"
        assert drawn["a3[1]"].get_text() == "a = 0.7156"
        assert drawn["W1[1,2]"].get_text() == "-0.5639"
        assert drawn["dL/dW2[1,2]"].get_text() == "0.03853"
        assert drawn["dL/dz1[1]"].get_text() == "dL/dz = 0.02109"
        assert drawn["p[1]"].get_text() == "p = 0.7156, t = 0"
        assert drawn["dL/dp[1]"].get_text() == "dL/dp = 1.431"
        assert drawn["L"].get_text() == "L = 0.5121"


def test_without_bias_with_raw_outputs_and_cross_entropy_class() -> None:
    # three classes, cross-entropy on raw outputs (no activation module), a class index t
    model = proplab.mlp(2, [3], 3, output_activation=None, bias=False, rng=np.random.default_rng(1))
    x, t = np.array([[0.3, -0.7]]), np.array([2])
    trace = proplab.trace_step(
        model, proplab.CrossEntropyLoss(), x, t, proplab.SGD(model.parameters(), lr=0.1)
    )
    drawn = _numbers(step_figure(trace, 3))
    want = _expected(trace, 3)
    assert set(drawn) == set(want)
    assert not any(g.startswith("b") for g in drawn)  # no bias, none drawn
    assert "a2[1]" not in drawn  # the output layer has no activation: z only
    assert drawn["t"].get_text() == "t = class 2"
    for gid, (text, _) in want.items():
        assert drawn[gid].get_text() == text, gid


def _box_corners(text, renderer) -> np.ndarray:
    """The corners (4, 2) of a drawn text's own box in pixels, turned as it is drawn."""
    angle = text.get_rotation()
    text.set_rotation(0)
    flat = text.get_window_extent(renderer)
    text.set_rotation(angle)
    if angle == 0:
        return np.array(
            [[flat.x0, flat.y0], [flat.x1, flat.y0], [flat.x1, flat.y1], [flat.x0, flat.y1]]
        )
    # the weights' labels are centred on their position and turned about it
    assert (text.get_ha(), text.get_va(), text.get_rotation_mode()) == (
        "center",
        "center",
        "anchor",
    )
    cx, cy = text.get_transform().transform(text.get_position())
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * [flat.width / 2, flat.height / 2]
    return np.array([[cx + c * u - s * v, cy + s * u + c * v] for u, v in half])


def _apart(p: np.ndarray, q: np.ndarray) -> bool:
    """Two convex polygons are apart when an edge normal of one separates them."""
    for poly in (p, q):
        for a, b in zip(poly, np.roll(poly, -1, axis=0), strict=True):
            n = np.array([a[1] - b[1], b[0] - a[0]])
            if (p @ n).max() <= (q @ n).min() or (q @ n).max() <= (p @ n).min():
                return True
    return False


def _traces_of_several_shapes():
    rng = np.random.default_rng(3)
    for n_in, hidden, n_out in ((3, [4], 4), (1, [], 8), (8, [8, 8], 2)):
        model = proplab.mlp(n_in, hidden, n_out, rng=rng)
        x, t = rng.normal(size=(1, n_in)), rng.uniform(size=(1, n_out))
        yield proplab.trace_step(
            model, proplab.MSELoss(), x, t, proplab.SGD(model.parameters(), lr=0.5)
        )


@pytest.mark.parametrize(
    "make",
    [
        lambda: [_lab_trace()],
        lambda: [_lab_trace(hidden=[3])],
        lambda: [_lab_trace(hidden=[4, 3], activation="tanh")],
        _traces_of_several_shapes,
    ],
    ids=["2-2-2-1", "2-3-1", "2-4-3-1", "3-4-4, 1-8, 8-8-8-2"],
)
def test_no_two_numbers_overlap_and_all_are_inside(make, tmp_path) -> None:
    for trace in make():
        fig = step_figure(trace)
        draw_step(trace, tmp_path / "step.png")  # the same layout, saved
        renderer = fig.canvas.get_renderer()
        assert fig.dpi == DPI
        width, height = fig.get_size_inches() * DPI
        everything = [t for t in fig.texts + fig.axes[0].texts if t.get_text()]
        boxes = {id(t): _box_corners(t, renderer) for t in everything}
        numbers = [t for t in everything if t.get_gid()]
        for t in everything:
            corners = boxes[id(t)]
            assert corners.min() >= -1 and corners[:, 0].max() <= width + 1, t.get_text()
            assert corners[:, 1].max() <= height + 1, t.get_text()
        lo = {k: c.min(axis=0) for k, c in boxes.items()}
        hi = {k: c.max(axis=0) for k, c in boxes.items()}
        for a in numbers:  # no number touches another text (numbers, headers, captions)
            for b in everything:
                near = np.all(lo[id(a)] < hi[id(b)]) and np.all(lo[id(b)] < hi[id(a)])
                if a is not b and near:  # (boxes whose bounds are apart are apart)
                    assert _apart(boxes[id(a)], boxes[id(b)]), (a.get_text(), b.get_text())


def _crosses(segment: np.ndarray, polygon: np.ndarray) -> bool:
    """Whether a segment (2, 2) passes through a convex polygon (k, 2), in pixels: points
    along it (every pixel or so) inside the polygon."""
    steps = int(np.abs(segment[1] - segment[0]).max()) + 2
    points = segment[0] + np.linspace(0, 1, steps)[:, None] * (segment[1] - segment[0])
    inside = np.ones(len(points), dtype=bool)
    for a, b in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        edge, rel = b - a, points - a
        inside &= edge[0] * rel[:, 1] - edge[1] * rel[:, 0] > 0  # left of every edge
    return bool(inside.any())


@pytest.mark.parametrize("hidden", [2, [3]], ids=["2-2-2-1", "2-3-1"])
def test_no_line_passes_under_a_weights_numbers(hidden) -> None:
    # a label on a crossing hides which of the two lines it belongs to: on these small
    # networks every weight's numbers sit where no other line runs (on denser ones,
    # 2-4-3-1 say, an odd label has one line under it)
    fig = step_figure(_lab_trace(hidden=hidden))
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    segments = [ax.transData.transform(line.get_xydata()) for line in ax.lines]
    labels = [t for t in ax.texts if (t.get_gid() or "").startswith(("W", "dL/dW"))]
    assert len(labels) == 2 * sum(
        s.params["weight"].size for s in _lab_trace(hidden=hidden).modules if s.params
    )
    for t in labels:
        box = _box_corners(t, renderer)
        under = [seg for seg in segments if _crosses(seg, box)]
        # its own line runs beside the box, not through it
        assert under == [], t.get_gid()


def test_a_dense_layer_is_left_bare_and_the_caption_says_so() -> None:
    trace = _lab_trace(hidden=[8, 8])
    fig = step_figure(trace, 3)
    drawn = _numbers(fig)
    # 64 crossing lines of W2 cannot all be labelled; W1's 16 and W3's 8 can
    assert not any(g.startswith(("W2[", "dL/dW2[")) for g in drawn)
    assert sum(g.startswith("W1[") for g in drawn) == 16
    assert sum(g.startswith("W3[") for g in drawn) == 8
    assert "The lines of W2 are too many to label legibly" in _caption(fig)
    # every unit keeps its numbers
    assert sum(g.startswith("dL/dz") for g in drawn) == 8 + 8 + 1
    assert "too many" not in _caption(step_figure(_lab_trace(), 3))


def test_the_caption_works_one_sgd_update_through() -> None:
    trace = _lab_trace()
    caption = _caption(step_figure(trace, 4))
    # the largest weight gradient of this step is dL/dW3[2,1] = 0.2001 (W3 = [[0.1234]
    # [1.231]]); SGD at lr 1 makes it 1.231 - 0.2001 = 1.030, as the text's UPDATE shows
    assert "SGD, lr 1: every weight steps W <- W - lr dL/dW" in caption
    assert "W3[2,1] (layer 2 unit 2 to layer 3 unit 1)" in caption
    assert "1.231 - 1 x 0.2001 = 1.030" in caption
    assert "0.5121 before the step, 0.3448 after" in caption
    w3 = trace.modules[4].updated["weight"]
    assert number(w3[1, 0], 4) == "1.030"


def test_a_negative_gradient_is_parenthesised_and_other_optimizers_said_in_words() -> None:
    model = Sequential(Linear(1, 1, rng=np.random.default_rng(0)))
    model.layers[0].weight.data[...] = 0.5
    model.layers[0].bias.data[...] = 0.0
    x, t = np.array([[2.0]]), np.array([[3.0]])
    trace = proplab.trace_step(
        model, proplab.MSELoss(), x, t, proplab.SGD(model.parameters(), lr=0.1)
    )
    # p = 1, dL/dp = 2 (p - t) = -4, dL/dW = x dL/dp = -8: W <- 0.5 - 0.1 x (-8) = 1.3
    assert "0.500 - 0.1 x (-8) = 1.30" in _caption(step_figure(trace, 3))
    adam = Sequential(Linear(2, 1, rng=np.random.default_rng(0)))
    trace = proplab.trace_step(
        adam, proplab.MSELoss(), np.ones((1, 2)), np.ones((1, 1)), proplab.Adam(adam.parameters())
    )
    caption = _caption(step_figure(trace))
    assert "takes its own step (not plain W <- W - lr dL/dW)" in caption
    assert " = " not in caption.split("takes its own step")[1]
    plain = Sequential(Linear(2, 1, rng=np.random.default_rng(0)))
    trace = proplab.trace_step(plain, proplab.MSELoss(), np.ones((1, 2)), np.ones((1, 1)))
    assert "lr" not in _caption(step_figure(trace))  # no optimizer, no update


def test_the_title_names_the_network_the_loss_and_the_sample() -> None:
    fig = step_figure(_lab_trace(), 4)
    title = fig._suptitle.get_text()
    assert title.startswith("One training step of 2-2-2-1 (sigmoid, output sigmoid, mse loss)")
    assert title.endswith("the sample: x = [0  0], t = 0")
    bare = Sequential(Linear(2, 3, rng=np.random.default_rng(0)), proplab.Sigmoid())
    trace = proplab.trace_step(
        bare, proplab.BCELoss(), np.array([[1.0, -2.0]]), np.full((1, 3), 0.5)
    )
    assert step_figure(trace)._suptitle.get_text() == (
        "One training step of a 2-3 network, BCELoss\nthe sample: x = [1  -2], t = [0.500  0.500  0.500]"
    )


def test_the_png_is_written_and_read_back(tmp_path) -> None:
    trace = _lab_trace()
    path = draw_step(trace, tmp_path / "step.png")
    assert path == tmp_path / "step.png"
    image = matplotlib.image.imread(path)
    width, height = step_figure(trace).get_size_inches() * DPI
    assert image.shape[:2] == (round(height), round(width))
    rgb = image[..., :3]
    # both colours of numbers are on the page, each in many pixels (text, legend swatch)
    for colour in (FORWARD_COLOR, BACKWARD_COLOR):
        near = np.abs(rgb - np.array(to_rgb(colour))).max(axis=-1) < 0.08
        assert near.sum() > 500, colour


def _dropout_trace():
    model = proplab.mlp(2, [2], 1, rng=np.random.default_rng(0), dropout=0.5)
    return proplab.trace_step(model, proplab.MSELoss(), np.ones((1, 2)), np.ones((1, 1)))


def _batchnorm_trace():
    # two samples (a step trains batchnorm on the batch's statistics): refused for its
    # module before its sample count
    model = proplab.mlp(2, [2], 1, rng=np.random.default_rng(0), batchnorm=True)
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    return proplab.trace_step(model, proplab.MSELoss(), x, np.ones((2, 1)))


def _conv_trace():
    model = proplab.conv_net(rng=np.random.default_rng(0))
    return proplab.trace_step(model, proplab.MSELoss(), np.ones((1, 2)), np.ones((1, 1)))


def _wide(n_in: int, hidden: int):
    model = proplab.mlp(n_in, [hidden], 1, rng=np.random.default_rng(0))
    return proplab.trace_step(model, proplab.MSELoss(), np.ones((1, n_in)), np.ones((1, 1)))


def _two_activations():
    model = Sequential(
        Linear(2, 2, rng=np.random.default_rng(0)), proplab.Sigmoid(), proplab.Tanh()
    )
    return proplab.trace_step(model, proplab.MSELoss(), np.ones((1, 2)), np.ones((1, 2)))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: trace_config(RunConfig(dataset="xor", hidden=2), samples=2),
         r"one sample; this trace has 2 samples \(use --samples 1"),
        (_dropout_trace, r"cannot draw Dropout \(module 3\); it draws Linear layers"),
        (_batchnorm_trace, r"cannot draw BatchNorm1d \(module 2\); it draws Linear layers"),
        (_conv_trace, r"cannot draw Unsqueeze \(module 1\), Conv1d \(module 2\) and Flatten \(module 4\); it "),
        (lambda: _wide(2, 9), r"at most 8 units a layer; layer 1 has 9 \(a narrower network"),
        (lambda: _wide(9, 2), r"at most 8 units a layer; the input has 9 \(fewer features"),
        (_two_activations, r"module 3 \(Tanh\), a second activation in a row"),
    ],
    ids=["2 samples", "dropout", "batchnorm", "conv", "9 hidden", "9 inputs", "sigmoid+tanh"],
)  # fmt: skip
def test_what_it_cannot_draw_is_refused_in_words(make, message, tmp_path) -> None:
    trace = make()
    for draw in (check_drawable, step_figure, lambda t: draw_step(t, tmp_path / "x.png")):
        with pytest.raises(ValueError, match=message):
            draw(trace)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("digits", [0, 18, 2.5])
def test_bad_digits_are_refused(digits) -> None:
    with pytest.raises(ValueError, match=f"digits must be an integer from 1 to 17, got {digits}"):
        step_figure(_lab_trace(), digits)


def test_the_cli_draws_after_printing_the_same_text(tmp_path, capsys) -> None:
    argv = ["trace", "--dataset", "xor", "--hidden", "2", "--seed", "0"]
    assert cli.main(argv) == 0
    plain = capsys.readouterr()
    png = tmp_path / "step.png"
    assert cli.main([*argv, "--figure", str(png)]) == 0
    drawn = capsys.readouterr()
    assert drawn.out == plain.out  # stdout is the text, unchanged
    assert drawn.err == plain.err + f"figure saved to {png}\n"
    image = matplotlib.image.imread(png)
    fig = step_figure(_lab_trace(), 4)  # the CLI draws with --digits (default 4)
    width, height = fig.get_size_inches() * DPI
    assert image.shape[:2] == (round(height), round(width))
    # --digits reaches the figure too: at 2 digits it is another picture
    assert cli.main([*argv, "--digits", "2", "--figure", str(tmp_path / "two.png")]) == 0
    two = matplotlib.image.imread(tmp_path / "two.png")
    assert two.shape != image.shape or not np.array_equal(two, image)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--samples", "all"], "argument --figure: the figure draws a step on one sample; "
         "this trace has 21 samples (use --samples 1"),
        (["--dropout", "0.2"], "argument --figure: the figure cannot draw Dropout (modules 3 and 6); it draws Linear"),
        (["--hidden", "9"], "argument --figure: the figure draws at most 8 units a layer; "
         "layer 1 has 9"),
    ],
)  # fmt: skip
def test_the_cli_refuses_a_network_it_cannot_draw_before_printing(
    extra, message, tmp_path, capsys
) -> None:
    png = tmp_path / "step.png"
    argv = ["trace", "--dataset", "xor", "--hidden", "2", *extra, "--figure", str(png)]
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"proplab trace: error: {message}")
    assert err.count("\n") == 1
    assert not png.exists()


def test_the_cli_refuses_a_figure_path_it_cannot_write(tmp_path, capsys) -> None:
    base = ["trace", "--dataset", "xor", "--hidden", "2", "--figure"]
    missing = tmp_path / "no" / "step.png"
    assert cli.main([*base, str(missing)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"proplab trace: error: argument --figure: {str(missing)!r} has no folder "
        f"{str(missing.parent)!r}; give a .png file in a folder you can write\n"
    )
    assert cli.main([*base, str(tmp_path)]) == 2
    assert re.search(r"argument --figure: '.*' is a folder", capsys.readouterr().err)
    assert cli.main([*base, ""]) == 2
    assert "argument --figure: expected a path" in capsys.readouterr().err
    # another format's name would get PNG bytes: refused
    assert cli.main([*base, str(tmp_path / "step.svg")]) == 2
    assert "'step.svg' is not a .png file" in capsys.readouterr().err.replace(
        str(tmp_path) + "/", ""
    )
    # a folder that exists but takes no file (/proc): one line, nothing printed before it
    assert cli.main([*base, "/proc/step.png"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("proplab trace: error: argument --figure: ")
    assert "Traceback" not in err and not (tmp_path / "step.svg").exists()


def test_the_cli_replaces_only_a_figure_trace_drew(tmp_path, capsys) -> None:
    # cli20 L12: an existing PNG of the user's was overwritten silently
    import matplotlib.pyplot as plt

    argv = ["trace", "--dataset", "xor", "--hidden", "2", "--samples", "1", "--no-check"]
    mine = tmp_path / "mine.png"
    fig = plt.figure(figsize=(1, 1))
    fig.savefig(mine)  # a matplotlib PNG, but not trace's
    plt.close(fig)
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    for path in (mine, text):
        before = path.read_bytes()
        assert cli.main([*argv, "--figure", str(path)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err == (
            f"proplab trace: error: argument --figure: {str(path)!r} exists and is not a figure "
            "proplab trace drew (one it drew is replaced); give a .png file in a folder you "
            "can write\n"
        )
        assert path.read_bytes() == before
    step = tmp_path / "step.png"
    assert cli.main([*argv, "--figure", str(step)]) == 0
    step.write_bytes(step.read_bytes())  # touched: still trace's
    assert cli.main([*argv, "--digits", "2", "--figure", str(step)]) == 0  # drawn again
    assert "figure saved to" in capsys.readouterr().err


def test_the_readmes_figure_is_this_command_s(tmp_path) -> None:
    # README shows docs/figures/trace_step.png as what this command draws: the same
    # picture, pixel for pixel, as long as the same matplotlib draws it. Row 3, not row
    # 0 (the origin), whose first-layer weight gradients are all 0 (clarity25 M2)
    from pathlib import Path

    from test_docs_figures import assert_same_picture

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    assert "--hidden 2 --row 3 --seed 0 --figure docs/figures/trace_step.png" in readme
    assert "](docs/figures/trace_step.png)" in readme
    png = tmp_path / "step.png"
    argv = ["trace", "--dataset", "xor", "--hidden", "2", "--row", "3", "--seed", "0"]
    assert cli.main([*argv, "--figure", str(png)]) == 0
    assert_same_picture(root / "docs" / "figures" / "trace_step.png", png)


def test_the_worked_update_says_when_no_weight_moves_and_keeps_three_digits() -> None:
    # XOR's first row is (0, 0): with no hidden layer every dL/dW = x dL/dz is 0, and a
    # worked 'W - 1 x 0 = W' for "the largest gradient" said nothing
    from proplab.config import RunConfig
    from proplab.trace_run import trace_config

    def caption(cfg: RunConfig, row: int, digits: int) -> str:
        texts = [t.get_text() for t in step_figure(trace_config(cfg, row=row), digits).texts]
        return " ".join(t for t in texts if "SGD" in t).replace("\n", " ")

    bare = caption(RunConfig(dataset="xor", hidden=[]), 0, 4)
    assert "on this sample every dL/dW is 0" in bare and "so only the biases move" in bare
    assert "the one with the largest gradient" not in bare
    # at --digits 1 each number was rounded alone: '0.9 - 1 x 0.1 = 0.7'
    worked = caption(RunConfig(dataset="xor", hidden=2), 3, 1)
    match = re.search(r"gradient: (\S+) - 1 x \((\S+)\) = (\S+)\.", worked)
    w, g, new = (float(v) for v in match.groups())
    assert all(len(v.lstrip("-0.")) >= 3 for v in match.groups())
    assert new == pytest.approx(w - g, abs=2e-3)


def test_a_layer_whose_labels_sit_on_crossings_is_left_bare() -> None:
    # F13 (figs22): 3 inputs to 5 units; 7 of W1's 15 labels sat on line crossings, so
    # which line each belonged to was a guess. Every layer still labelled has at most a
    # quarter of its labels with another line under them (measured in pixels)
    rng = np.random.default_rng(0)
    model = Sequential(
        Linear(3, 5, rng=rng), proplab.Tanh(), Linear(5, 5, rng=rng), proplab.Tanh(),
        Linear(5, 1, rng=rng),
    )  # fmt: skip
    x = np.array([[-1.157, -1.365, -0.2310]])
    fig = step_figure(proplab.trace_step(model, proplab.MSELoss(), x, np.array([[2434.0]])))
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    segments = [ax.transData.transform(line.get_xydata()) for line in ax.lines]
    drawn = _numbers(fig)
    for k, edges in ((1, 15), (2, 25), (3, 5)):
        labels = [t for g, t in drawn.items() if g.startswith(f"W{k}[")]
        assert len(labels) in (0, edges), k  # all of a layer's weights, or none
        on_crossing = 0
        for t in labels:
            box = _box_corners(t, renderer)
            # its own line passes beside it; any other one through it is a crossing
            on_crossing += sum(_crosses(seg, box) for seg in segments) > 0
        assert on_crossing * 4 <= len(labels), (k, on_crossing)
    assert not any(g.startswith("W1[") for g in drawn)
    assert "The lines of W1 and W2 are too many to label legibly" in _caption(fig)
