"""The benchmarks' reference implementations compute the same numbers as proplab.

A speed comparison is only meaningful if every contender does the same work:
started from the same weights, each reference must produce proplab's loss
trajectory and final weights to 1e-12 (float64, 10 epochs, lr 1.0). No timing
is asserted anywhere. Also checks the harness: interleaved repeats, Markdown
output, and that run_all survives a failing benchmark.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest

import proplab

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_lab  # noqa: E402
import bench_stack  # noqa: E402
import common  # noqa: E402
import run_all  # noqa: E402

EPOCHS = 10
TOL = 1e-12


def proplab_weights(model) -> list[np.ndarray]:
    return [a for w, b in bench_lab.model_weights(model) for a in (w, b)]


def loop_weights(loop) -> list[np.ndarray]:
    return [loop.W1, loop.b1, loop.W2, loop.b2, loop.W3, loop.b3]


@pytest.mark.parametrize(("dataset", "hidden"), [("xor", 10), ("linear", 10), ("xor", 100)])
def test_lab_loops_match_proplab_fit(dataset: str, hidden: int) -> None:
    x, y = bench_lab.lab_data(dataset)
    start = bench_lab.model_weights(bench_lab.lab_model(hidden))
    ref = bench_lab.ProplabFit(hidden, x, y)
    # every contender really starts from the same weights
    flat_start = [arr for pair in start for arr in pair]
    for got, want in zip(proplab_weights(ref.model), flat_start, strict=True):
        np.testing.assert_array_equal(got, want)
    ref_losses = np.array(ref.train(EPOCHS))
    assert ref_losses.shape == (EPOCHS,)
    # the loss moved (down, or up at first for H=100 with lr 1.0), so a wrong update would show
    assert abs(ref_losses[-1] - ref_losses[0]) > 1e-3

    modules = bench_lab.ProplabModules(hidden, x, y)
    np.testing.assert_allclose(modules.train(EPOCHS), ref_losses, rtol=0, atol=TOL)
    for cls in (bench_lab.PlainLoop, bench_lab.TunedLoop):
        loop = cls(start, x, y)
        np.testing.assert_allclose(loop.train(EPOCHS), ref_losses, rtol=0, atol=TOL)
        for got, want in zip(loop_weights(loop), proplab_weights(ref.model), strict=True):
            np.testing.assert_allclose(got, want, rtol=0, atol=TOL)


def test_tuned_loop_continues_like_proplab() -> None:
    # two calls of train() continue from where the first stopped, like fit does
    x, y = bench_lab.lab_data("xor")
    start = bench_lab.model_weights(bench_lab.lab_model(10))
    ref, tuned = bench_lab.ProplabFit(10, x, y), bench_lab.TunedLoop(start, x, y)
    ref.train(5)
    tuned.train(5)
    np.testing.assert_allclose(tuned.train(5), ref.train(5), rtol=0, atol=TOL)


@pytest.mark.torch
@pytest.mark.parametrize(("dataset", "hidden"), [("xor", 10), ("linear", 100)])
def test_lab_torch_eager_matches_proplab(dataset: str, hidden: int) -> None:
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    x, y = bench_lab.lab_data(dataset)
    start = bench_lab.model_weights(bench_lab.lab_model(hidden))
    ref = bench_lab.ProplabFit(hidden, x, y)
    try:
        eager = bench_lab.TorchEager(start, x, y, threads=1)
        np.testing.assert_allclose(eager.train(EPOCHS), ref.train(EPOCHS), rtol=0, atol=TOL)
    finally:
        torch.set_num_threads(threads)
    linears = [m for m in eager.model if isinstance(m, torch.nn.Linear)]
    for lin, (w, b) in zip(linears, bench_lab.model_weights(ref.model), strict=True):
        np.testing.assert_allclose(lin.weight.detach().numpy().T, w, rtol=0, atol=TOL)
        np.testing.assert_allclose(lin.bias.detach().numpy(), b, rtol=0, atol=TOL)


@pytest.mark.parametrize(("k", "hidden", "n"), [(4, 10, None), (3, 6, 30)])
def test_stack_references_match_sequential_fits(k: int, hidden: int, n: int | None) -> None:
    x, y = bench_stack.stack_data(n)
    lrs = bench_stack.replica_lrs(k)
    assert len(set(lrs)) == k  # the replicas really have different learning rates
    sequential = bench_stack.ProplabSequential(k, hidden, x, y)
    ref = sequential.train(EPOCHS)  # (epochs, K)
    assert ref.shape == (EPOCHS, k)
    assert np.all(ref[-1] < ref[0])
    stacked = bench_stack.ProplabStacked(k, hidden, x, y)
    weights = bench_stack.stacked_weights(stacked.model)
    # the stack starts from exactly the sequential models' weights
    for i in range(k):
        single = proplab.mlp(2, hidden, 1, rng=np.random.default_rng(i))
        for (ws, bs), (w1, b1) in zip(weights, bench_lab.model_weights(single), strict=True):
            np.testing.assert_array_equal(ws[i], w1)
            np.testing.assert_array_equal(bs[i], b1)
    np.testing.assert_allclose(stacked.train(EPOCHS), ref, rtol=0, atol=TOL)
    tuned = bench_stack.TunedNumpyStacked(weights, x, y, lrs)
    np.testing.assert_allclose(tuned.train(EPOCHS), ref, rtol=0, atol=TOL)
    final = bench_stack.stacked_weights(stacked.model)
    for got, (w, _) in zip(tuned.W, final, strict=True):
        np.testing.assert_allclose(got, w, rtol=0, atol=TOL)


@pytest.mark.torch
def test_stack_torch_bmm_matches_proplab_stacked() -> None:
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    x, y = bench_stack.stack_data(None)
    k = 5
    lrs = bench_stack.replica_lrs(k)
    stacked = bench_stack.ProplabStacked(k, 10, x, y)
    weights = bench_stack.stacked_weights(stacked.model)
    ref = stacked.train(EPOCHS)
    try:
        for cls in (bench_stack.TorchBmmManual, bench_stack.TorchBmmAutograd):
            impl = cls(weights, x, y, lrs, 1)
            np.testing.assert_allclose(impl.train(EPOCHS), ref, rtol=0, atol=TOL)
            for got, (w, b) in zip(
                zip(impl.W, impl.B, strict=True),
                bench_stack.stacked_weights(stacked.model),
                strict=True,
            ):
                np.testing.assert_allclose(got[0].detach().numpy(), w, rtol=0, atol=TOL)
                np.testing.assert_allclose(got[1].detach().numpy()[:, 0, :], b, rtol=0, atol=TOL)
    finally:
        torch.set_num_threads(threads)


# ----------------------------------------------------------------------------- harness


def test_measure_interleaves_and_normalises() -> None:
    calls: list[str] = []

    def maker(name: str):
        def make(units: int):
            return lambda: calls.append(name)

        return make

    contenders = [common.Contender(n, maker(n), units=4, unit_scale=2) for n in "ABC"]
    timings = common.measure(contenders, repeats=3, warmup=False)
    # repeat r starts at contender r: every contender is first once
    assert calls == list("ABC" + "BCA" + "CAB")
    assert all(t.units == 8 and len(t.samples) == 3 for t in timings.values())
    assert timings["A"].median == sorted(timings["A"].samples)[1]


def test_paired_ratio_cancels_the_machine_slowing_down() -> None:
    # the machine runs 2x slower in the last two repeats; a is always 1.25x b
    b = [1.0, 1.0, 1.0, 2.0, 2.0]
    a = [1.25 * v for v in b]
    assert common.paired_ratio(a, b) == 1.25
    # a ratio of medians is fooled when the two shift differently: here 2.5 / 1.0
    a_late = [1.25, 1.25, 2.5, 2.5, 2.5]  # a hit the slow phase one repeat early
    assert statistics.median(a_late) / statistics.median(b) == 2.5
    assert common.paired_ratio(a_late, b) == 1.25
    with pytest.raises(ValueError, match="equal, non-empty sample lists, got 2 and 3"):
        common.paired_ratio([1.0, 2.0], [1.0, 2.0, 3.0])


def test_render_markdown_table() -> None:
    result = {
        "title": "T",
        "tables": [common.table("speed", ["impl", "us"], [["a", "1.5"], ["b", "30"]])],
        "notes": ["hello"],
    }
    text = common.render_markdown(result)
    assert "| impl | us |\n|---|---|\n| a | 1.5 |\n| b | 30 |" in text
    assert "- hello" in text
    assert common.fmt_us(31.24e-6) == "31.2" and common.fmt_us(350.4e-6) == "350"


def test_run_all_reports_a_failure_and_runs_the_rest(tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "bench_bad.py").write_text(
        "def run(quick=False):\n    raise RuntimeError('boom')\n"
    )
    (tmp_path / "bench_good.py").write_text(
        "import common\n"
        "def run(quick=False):\n"
        "    return {'title': 'Good', 'tables': [common.table('t', ['x'], [[quick]])]}\n"
    )
    (tmp_path / "bench_norun.py").write_text("X = 1\n")
    monkeypatch.setattr(run_all, "HERE", tmp_path)
    monkeypatch.setattr(run_all, "RESULTS", tmp_path / "results")
    assert run_all.main(["--quick"]) == 1  # one failure -> exit 1, after running the others
    out = capsys.readouterr().out
    assert "bad: FAILED" in out and "RuntimeError: boom" in out
    data = json.loads((tmp_path / "results" / "latest.json").read_text())
    runs = data["benchmarks"]
    assert runs["bad"]["error"] == "RuntimeError: boom"
    assert runs["good"]["result"]["tables"][0]["rows"] == [[True]]
    assert runs["norun"] == {"skipped": "no run(quick) function"}
    assert data["machine"]["numpy"] == np.__version__
    md = (tmp_path / "results" / "latest.md").read_text()
    assert "### Good" in md and "| True |" in md and "FAILED: `RuntimeError: boom`" in md
    assert run_all.main(["--only", "nope"]) == 2
    assert not (tmp_path / "RESULTS.md").exists()  # only --publish writes it


def test_publish_replaces_only_the_benchmarks_that_ran(tmp_path, monkeypatch) -> None:
    def good(value: str) -> str:
        return f"import common\ndef run(quick=False):\n    return {{'title': 'G', 'notes': ['{value}']}}\n"

    (tmp_path / "bench_one.py").write_text(good("one-v1"))
    (tmp_path / "bench_two.py").write_text(good("two-v1"))
    monkeypatch.setattr(run_all, "HERE", tmp_path)
    monkeypatch.setattr(run_all, "RESULTS", tmp_path / "results")
    assert run_all.main(["--quick", "--publish"]) == 0
    # a different length: the same length within the same second reused the cached
    # bytecode of v1 (checked by mtime in whole seconds and by size; hollow19)
    (tmp_path / "bench_one.py").write_text(good("one-version-2"))
    (tmp_path / "bench_two.py").write_text("def run(quick=False):\n    raise ValueError('x')\n")
    assert run_all.main(["--quick", "--publish"]) == 1
    text = (tmp_path / "RESULTS.md").read_text()
    # one's section was replaced, two's failed run kept its previous section
    assert "one-version-2" in text and "one-v1" not in text and "two-v1" in text
    assert text.count("<!-- bench:one -->") == 1 and text.count("<!-- /bench:two -->") == 1
    assert text.startswith("# proplab benchmark results")


def test_suite_benchmark_tables_each_training_unit(tmp_path) -> None:
    import bench_suite

    from proplab import sweep
    from proplab.sweep_spec import parse_spec

    spec = parse_spec(
        """
title = "units"
[base]
epochs = 30
print_every = 0
[vary]
dataset = ["xor"]
seed = [0, 1]
[[experiment]]
name = "mix"
title = "mix"
section = "extras"
vary.activation = ["sigmoid", "tanh"]
[[experiment]]
name = "wide"
title = "wide"
section = "extras"
vary.hidden = [4]
""",
        "units.toml",
    )
    sweep.run_sweep(spec, tmp_path / "auto", runner=sweep.choose_runner("auto"))
    sweep.run_sweep(spec, tmp_path / "off", runner=sweep.choose_runner("off"))
    units = bench_suite._stacks(tmp_path / "auto", tmp_path / "off")
    # one stack of the 4 hidden-10 runs (two activations), one of the 2 hidden-4 runs
    assert sorted((u["runs"], u["size"]) for u in units) == [(2, 2), (4, 4)]
    mixed = next(u for u in units if u["runs"] == 4)
    assert mixed["what"] == "xor, mlp, hidden 10, 2 activation/optimizer pairs"
    assert all(u["seconds"] > 0 and u["us_per_net_epoch"] > 0 for u in units)
    assert units == sorted(units, key=lambda u: -u["seconds"])
    # each unit is matched with the same runs trained one at a time
    alone = {
        p.parent.name: json.loads(p.read_text())["wall_time_s"]
        for p in (tmp_path / "off" / "runs").glob("*/summary.json")
    }
    wide = next(u for u in units if u["runs"] == 2)
    wide_runs = [n for n in alone if "hidden=4" in n]
    assert len(wide_runs) == 2
    assert wide["alone_seconds"] == pytest.approx(sum(alone[n] for n in wide_runs))
    assert wide["speedup"] == pytest.approx(wide["alone_seconds"] / wide["seconds"])
    assert sum(u["alone_seconds"] for u in units) == pytest.approx(sum(alone.values()))


def test_module_overhead_twins_make_the_modules_numbers() -> None:
    """Each inline twin in bench_lab's overhead table must do the module's work:
    same return value bit for bit, same gradients written, same update applied."""
    from proplab.activations import overflow_ignored

    with overflow_ignored():
        steps = bench_lab.module_steps(10)
        assert len(steps) == 8
        for name, module_call, inline in steps:
            if name.startswith("SGD"):
                runner_data = module_call.__self__.groups[0].data
                start = runner_data.copy()
                module_call()
                after_module = runner_data.copy()
                assert not np.array_equal(after_module, start), name
                runner_data[...] = start
                inline()
                np.testing.assert_array_equal(runner_data, after_module, err_msg=name)
                continue
            got = module_call()
            if got is None:  # the first layer's backward: compare the gradients it wrote
                opt_grad = None
                for step_name, call, _ in steps:
                    if step_name.startswith("SGD"):
                        opt_grad = call.__self__.groups[0].grad
                written = opt_grad.copy()
                opt_grad[...] = np.nan
                inline()
                changed = ~np.isnan(opt_grad)
                assert changed.sum() == 10 * 10 + 10, name  # the hidden layer's W and b
                np.testing.assert_array_equal(opt_grad[changed], written[changed], err_msg=name)
                continue
            want = inline()
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=name)


def test_module_overhead_table_has_a_row_per_step() -> None:
    rows = bench_lab.module_overhead(calls=5, repeats=1)
    assert [r[0] for r in rows] == [name for name, _, _ in bench_lab.module_steps(10)]
    for _, ours, theirs, diff in rows:
        assert float(ours) > 0 and float(theirs) > 0
        assert abs(float(ours) - float(theirs) - float(diff)) < 0.02


@pytest.mark.slow
def test_one_shape_benchmark_trains_the_same_runs_with_one_and_two_workers(tmp_path) -> None:
    import bench_suite

    result = bench_suite._one_shape(tmp_path, quick=True, repeats=1)
    assert result["runs"] == 40 and result["identical"] is True
    assert set(result["wall_s"]) == {1, 2} and all(t > 0 for t in result["wall_s"].values())
    assert result["speedup"] == pytest.approx(result["wall_s"][1] / result["wall_s"][2])


def test_run_all_gives_each_benchmark_pytorchs_own_thread_count():
    """bench_conv left PyTorch at 1 thread, so bench_lab (run next) took 1 for the default
    and published no 2-thread rows."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    with run_all.torch_threads_kept():
        torch.set_num_threads(1 if before != 1 else 2)
        assert torch.get_num_threads() != before
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("bench_*.py")))
def test_bench_scripts_answer_help_and_refuse_unknown_options(script: str) -> None:
    import subprocess

    def call(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, str(BENCH / script), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    done = call("--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:") and "--quick" in done.stdout
    assert "|" not in done.stdout  # a usage text, not a benchmark's Markdown tables
    wrong = call("--quik")
    assert wrong.returncode == 2
    assert "unrecognized arguments: --quik" in wrong.stderr


def test_the_layers_benchmark_trains_the_networks_it_names(xor) -> None:
    """Each timed contender of bench_layers is the lab model with the named layers: its
    call trains exactly what mlp(..., **options) trains from seed 0, and the options bite
    (every variant's losses differ from the others')."""
    import bench_layers

    losses = {}
    for name, options in bench_layers.VARIANTS.items():
        history = bench_layers.contender(name, "xor").make(20)()
        model = proplab.mlp(2, 10, 1, rng=np.random.default_rng(0), **options)
        opt = proplab.SGD(model.parameters(), lr=1.0)
        want = proplab.fit(model, proplab.MSELoss(), opt, *xor, epochs=20)
        assert history.loss == want.loss, name
        losses[name] = tuple(history.loss)
    assert len(set(losses.values())) == len(bench_layers.VARIANTS)
    assert bench_layers.epochs_to_solve(range(1), epochs=300) == {
        "plain": [None],  # the lab model is still on XOR's plateau at epoch 300
        "batchnorm": [85],
        "dropout 0.2": [None],
        "batchnorm + dropout 0.2": [None],
    }


# ----------------------------------------------------------------------------- docs quoting


def published_section(name: str) -> str:
    """benchmarks/RESULTS.md's section of benchmark ``name`` (markers excluded)."""
    text = (BENCH / "RESULTS.md").read_text(encoding="utf-8")
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    return text[text.index(start) + len(start) : text.index(end)]


def markdown_rows(section: str, title: str) -> list[list[str]]:
    """The body rows of the table under the ``#### title`` heading of ``section``."""
    after = section.split(f"#### {title}\n", 1)[1]
    lines = [ln for ln in after.strip().splitlines()]
    table = []
    for line in lines[2:]:  # past the header and the |---| line
        if not line.startswith("|"):
            break
        table.append([cell.strip() for cell in line.strip("|").split("|")])
    return table


def test_conv_docs_speed_table_is_the_published_one() -> None:
    """audit15b M1: docs/conv.md quoted an older run than benchmarks/RESULTS.md's conv
    section (1475x where RESULTS.md says 1549.5x...). The doc's table must be what
    `run_all.py --publish` writes from the published rows (the JSON, benchmarks/results/,
    is not committed; RESULTS.md is rendered from the same result)."""
    import bench_conv

    section = published_section("conv")
    rows = markdown_rows(
        section,
        "Conv1d forward + backward, batch 100, length 64, kernel 3, padding 1: time per step",
    )
    assert len(rows) >= 4 and rows[0][:2] == ["1 -> 8", "naive loops"]
    commit = re.search(r"proplab \S+ at commit (.+)\n", section).group(1)
    load = re.search(r"load average at start \[([^\]]*)\]", section).group(1)
    want = bench_conv.doc_table(rows, commit, quick="(quick mode)" in section, load=load)
    assert f"load average at the start [{load}]" in want
    doc = bench_conv.DOC.read_text(encoding="utf-8")
    assert want in doc
    # the rendering itself, on the published numbers (184873 us, 1549.5x; 585 us, 0.72x)
    naive = next(r for r in rows if r[:2] == ["1 -> 8", "naive loops"])
    assert f"| 1 -> 8 channels | {float(naive[2]) / 1e3:.3g} ms ({float(naive[3][:-1]):.0f}x)" in (
        want
    )


def test_doc_table_formats_times_and_ratios_and_marks_missing_contenders() -> None:
    import bench_conv

    rows = [
        ["1 -> 8", "naive loops", "184873", "1549.5x", "9%"],
        ["1 -> 8", "proplab", "119", "1.00x", "11%"],
        ["1 -> 8", "torch float64 (1 thr)", "220", "1.84x", "24%"],
        ["1 -> 8", "torch float32 (1 thr)", "419", "3.52x", "19%"],
        ["8 -> 16", "naive loops", "2518956", "3121.1x", "5%"],
        ["8 -> 16", "proplab", "38.94", "1.00x", "20%"],
    ]
    text = bench_conv.doc_table(rows, "abc1234", quick=True)
    lines = text.splitlines()
    assert lines[0] == "<!-- bench:conv -->" and lines[-1] == "<!-- /bench:conv -->"
    assert (
        lines[3]
        == "| 1 -> 8 channels | 185 ms (1550x) | 119 us | 220 us (1.84x) | 419 us (3.52x) |"
    )
    assert lines[4] == "| 8 -> 16 channels | 2.52 s (3121x) | 38.9 us | n/a | n/a |"
    assert "at commit abc1234, quick mode: fewer repeats" in text


def test_publish_rewrites_the_doc_section_a_benchmark_quotes(tmp_path, monkeypatch, capsys) -> None:
    """run_all --publish rewrites, besides RESULTS.md, the <!-- bench:NAME --> section of
    the doc a benchmark names (DOC, doc_block), and nothing else of that doc."""
    doc = tmp_path / "doc.md"
    doc.write_text(
        "# Title\n\nbefore\n\n<!-- bench:fake -->\nold table\n<!-- /bench:fake -->\n\nafter\n"
    )
    (tmp_path / "bench_fake.py").write_text(
        "from pathlib import Path\n"
        f"DOC = Path({str(doc)!r})\n"
        "def run(quick=False):\n"
        "    return {'title': 'F', 'notes': ['n'], 'value': 42}\n"
        "def doc_block(result, machine):\n"
        "    return f\"<!-- bench:fake -->\\nvalue {result['value']} at {machine['commit']}\\n"
        '<!-- /bench:fake -->"\n'
    )
    unmarked = tmp_path / "unmarked.md"
    unmarked.write_text("no markers here\n")
    (tmp_path / "bench_other.py").write_text(
        "from pathlib import Path\n"
        f"DOC = Path({str(unmarked)!r})\n"
        "def run(quick=False):\n    return {'title': 'O'}\n"
        "def doc_block(result, machine):\n    return 'x'\n"
    )
    monkeypatch.setattr(run_all, "HERE", tmp_path)
    monkeypatch.setattr(run_all, "RESULTS", tmp_path / "results")
    real = common.machine_info
    monkeypatch.setattr(common, "machine_info", lambda: {**real(), "commit": "c0ffee1"})
    assert run_all.main(["--quick"]) == 0
    assert "old table" in doc.read_text()  # only --publish writes docs
    assert run_all.main(["--quick", "--publish"]) == 0
    assert doc.read_text() == (
        "# Title\n\nbefore\n\n<!-- bench:fake -->\nvalue 42 at c0ffee1\n<!-- /bench:fake -->"
        "\n\nafter\n"
    )
    assert unmarked.read_text() == "no markers here\n"
    assert "has no <!-- bench:other --> section: not updated" in capsys.readouterr().err
    assert "<!-- bench:fake -->" in (tmp_path / "RESULTS.md").read_text()


# ----------------------------------------------------------------------------- README's speed figures


README = BENCH.parent / "README.md"


def test_readme_speed_figures_are_the_published_ones(tmp_path, monkeypatch, capsys) -> None:
    """audit16b M5/H1: the README's Speed table and digits claim were copied by hand and
    nothing tied them to RESULTS.md. They are rendered from the committed RESULTS.md
    (`run_all.py --publish`, or `python benchmarks/published.py`); what is committed must
    be what RESULTS.md renders."""
    import published

    readme = README.read_text(encoding="utf-8")
    results = (BENCH / "RESULTS.md").read_text(encoding="utf-8")
    assert readme.count("<!-- bench:speed -->") == 1
    assert readme.count("<!-- bench:digits-claim -->") == 1
    assert published.render(readme, results) == readme
    # a stale table is caught: one published number changed -> the rendering differs
    lab = published.sections(results)["lab"]
    fit = published.row(
        published.table(lab, published.LAB_TABLE), case="xor H=10", implementation="proplab fit"
    )["us/epoch wall"]
    stale = readme.replace(
        f"| lab model, XOR, H=10: us per epoch | {fit} |",
        "| lab model, XOR, H=10: us per epoch | 29.4 |",
    )
    assert stale != readme and published.render(stale, results) == readme
    # and `published.py --check` says so (exit 1), without writing
    copy = tmp_path / "README.md"
    monkeypatch.setattr(published, "README", copy)
    copy.write_text(stale, encoding="utf-8")
    assert published.main(["--check"]) == 1 and copy.read_text(encoding="utf-8") == stale
    assert "differ from benchmarks/RESULTS.md" in capsys.readouterr().err
    assert published.main([]) == 0 and copy.read_text(encoding="utf-8") == readme
    assert published.main(["--check"]) == 0


def test_speed_table_quotes_each_published_number() -> None:
    """The rendering itself, read against RESULTS.md's rows independently of published.py."""
    import published

    results = (BENCH / "RESULTS.md").read_text(encoding="utf-8")
    block = published.speed_block(published.sections(results))
    lines = block.splitlines()
    assert lines[0] == "<!-- bench:speed -->" and lines[-1] == "<!-- /bench:speed -->"
    lab = markdown_rows(published_section("lab"), published.LAB_TABLE)
    fit, tuned, torch1 = (
        next(r for r in lab if r[:2] == ["xor H=10", impl])[2]
        for impl in ("proplab fit", "tuned NumPy", "torch eager (1 thr)")
    )
    ratios = markdown_rows(published_section("lab"), "Ratios (same run): wall time (CPU time)")
    xor = next(r for r in ratios if r[0] == "xor H=10")
    assert (
        f"| lab model, XOR, H=10: us per epoch | {fit} | tuned NumPy loop {tuned} / PyTorch "
        f"eager (1 thread) {torch1} | {xor[1].split()[0]} slower / **{xor[4].split()[0]} faster** |"
    ) in lines
    digits = markdown_rows(published_section("digits"), published.DIGITS_TABLE)
    ours = next(r for r in digits if r[0] == "proplab CLI recipe")
    same = next(r for r in digits if r[0] == "scikit-learn, proplab's recipe")
    default = next(r for r in digits if r[0] == "scikit-learn default fit (64,)")
    assert same[1] == ours[1] == "20" and default[1] == "200"  # the epochs column
    digits_line = next(ln for ln in lines if ln.startswith("| digits:"))
    assert f"| {ours[4]} s | scikit-learn `MLPClassifier`, the same recipe, {same[4]} s |" in (
        digits_line
    )
    assert f"**{same[6].split()[0]} faster**" in digits_line and f"{default[4]} s" in digits_line
    claim = published.digits_claim(published.sections(results))
    assert claim.startswith(f"<!-- bench:digits-claim -->{same[6].split()[0]} faster to fit")
    # where the figures come from: every run's commit and load average
    section = published_section("digits")
    load = re.search(r"load average at start \[([^\]]*)\]", section).group(1)
    commit = re.search(r"at commit (\S+)", section).group(1)
    assert f"at commit {commit}" in lines[-2] and load.replace(", ", " / ") in lines[-2]


def test_speed_block_says_quick_mode_and_names_a_missing_section() -> None:
    import published

    results = (BENCH / "RESULTS.md").read_text(encoding="utf-8")
    # the digits section as a quick run would have written it (whatever --only it ran with)
    start = results.index("<!-- bench:digits -->")
    end = results.index("<!-- /bench:digits -->")
    digits = re.sub(
        r"Command: `python benchmarks/run_all\.py ([^`]*)--publish`,",
        r"Command: `python benchmarks/run_all.py \1--quick --publish` (quick mode),",
        results[start:end],
    )
    quick = results[:start] + digits + results[end:]
    assert quick != results
    block = published.speed_block(published.sections(quick))
    assert "(quick mode: fewer repeats, not for quoting)" in block
    start = results.index("<!-- bench:suite -->")
    end = results.index("<!-- /bench:suite -->") + len("<!-- /bench:suite -->")
    with pytest.raises(KeyError, match="no section suite"):
        published.render(README.read_text(encoding="utf-8"), results[:start] + results[end:])
    with pytest.raises(KeyError, match="bench:speed"):
        published.render("no markers\n", results)


def test_publish_rewrites_the_readme_blocks_or_warns(tmp_path, capsys) -> None:
    """run_all.publish_readme: README's blocks rewritten from the new RESULTS.md; a RESULTS.md
    without a section the README quotes leaves it alone, with a warning."""
    results = (BENCH / "RESULTS.md").read_text(encoding="utf-8")
    readme = tmp_path / "README.md"
    text = (
        "# T\n\nbefore <!-- bench:digits-claim -->old<!-- /bench:digits-claim --> after\n\n"
        "<!-- bench:speed -->\nold table\n<!-- /bench:speed -->\n\nend\n"
    )
    readme.write_text(text)
    run_all.publish_readme("# only a header\n", readme)
    assert readme.read_text() == text
    assert "not updated: RESULTS.md has no section" in capsys.readouterr().err
    run_all.publish_readme(results, readme)
    new = readme.read_text()
    assert "old" not in new and new.startswith("# T\n\nbefore <!-- bench:digits-claim -->")
    assert new.endswith("<!-- /bench:speed -->\n\nend\n") and "| the lab suite (" in new


def test_run_all_help_says_what_publish_rewrites(capsys) -> None:
    with pytest.raises(SystemExit):
        run_all.main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "docs/conv.md" in out and "README.md" in out
    assert "do not combine with --publish" in out


def test_digits_same_recipe_contender_is_proplabs_recipe() -> None:
    """audit16b H2: the like-for-like scikit-learn contender trains proplab's recipe
    (architecture, activation, Adam and its lr, batch, exactly 20 epochs, no L2) and
    reaches the same accuracy as proplab's (97.5 % at seed 0 on the fixed split)."""
    pytest.importorskip("sklearn")
    import bench_digits

    from proplab.dataload import DIGITS_DEFAULTS
    from proplab.digits import digits_split

    params = bench_digits.sklearn_same_recipe(0).get_params()
    assert params["hidden_layer_sizes"] == (64, 64) == tuple(DIGITS_DEFAULTS["hidden"])
    assert (params["activation"], params["solver"]) == ("relu", "adam")
    assert (params["learning_rate_init"], params["batch_size"]) == (2e-3, 32)
    assert params["max_iter"] == params["n_iter_no_change"] == DIGITS_DEFAULTS["epochs"] == 20
    assert params["alpha"] == 0.0
    s = digits_split()
    go = bench_digits.contenders()[bench_digits.SAME_RECIPE](s, 0)
    acc = go()
    assert bench_digits.epochs_of(go) == 20
    assert acc == pytest.approx(0.975, abs=1 / 360)  # 351 of 360 test images
    ours = bench_digits.cli_recipe(s, 0)
    assert abs(ours() - acc) <= 0.01 and bench_digits.epochs_of(ours) == 20
