"""The README's examples work as written: its sweep file parses, its Python runs, its
command lines, flags, defaults, error messages and run-folder files are the CLI's."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import io
import json
import re
import subprocess
import sys
from contextlib import redirect_stdout
from itertools import product
from pathlib import Path

import docblocks
import numpy as np
import pytest

import proplab
from proplab import Conv1d, cli
from proplab.config import RunConfig
from proplab.experiments import run_one
from proplab.registry import canonical
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
    ns: dict = {}
    with redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), ns)  # noqa: S102 (our own README)
    lines = out.getvalue().splitlines()
    loss, acc = (float(v) for v in lines[4].split())  # after fit's 4 progress lines
    assert loss < 2e-4 and acc == 1.0  # "~1e-4, 1.0"
    # persona22 M1: the trained model's loss, not history.final_loss (the last epoch's row,
    # scored before its update: 9.9575e-05 against the model's 9.9566e-05 here)
    model, loss_fn, x, y = ns["model"], ns["loss_fn"], ns["x"], ns["y"]
    assert loss == float(loss_fn.forward(model(x), y)) != ns["history"].final_loss
    # persona22 M2: the lab's lines and figures from Python, as `proplab train` gives them
    # (the README's train example shows its first prediction line and its summary line)
    shown = re.search(
        r"prints exactly the lab's three kinds of lines on stdout\n\n```\n(.*?)```",
        README,
        flags=re.S,
    )[1].splitlines()
    predictions, summary = lines[5:26], lines[26]
    assert [line.split(" | Predict")[0] for line in predictions] == [
        f"Iter: {i} | Ground truth: {t}" for i, t in enumerate(y.ravel())
    ]
    _assert_same_but_the_last_digits(shown[2], predictions[0])
    _assert_same_but_the_last_digits(shown[-1], summary)
    comment = re.search(r"format_summary_line\(loss, acc\)\)  # (\S+ \S+)", code)[1]
    _assert_same_but_the_last_digits(comment, summary)  # the comment beside the print
    for name in ("comparison.png", "learning_curve.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "xor.npz").is_file()
    # the trace of one step on XOR's fourth row, checked, and no update without an optimizer
    assert (
        "x = [[0.1000  0.9000]]" in out.getvalue() and "(passed, tolerance 1e-06" in out.getvalue()
    )
    assert "UPDATE" not in out.getvalue()
    # the last print: the stack's 10 accuracies (NumPy may wrap them over two lines)
    text = out.getvalue()
    accuracies = [float(v) for v in text[text.rindex("[") + 1 : text.rindex("]")].split()]
    assert len(accuracies) == 10 and all(0.0 <= a <= 1.0 for a in accuracies)
    # model 3 taken out of the stack: its weights predict as the stack's replica 3 does
    np.testing.assert_array_equal(ns["single"](ns["x"]), ns["stack"](ns["x"])[3])
    assert ns["h3"].accuracy[-1] == ns["h"].final_accuracy[3]


def _section(heading: str) -> str:
    return README.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_doing_the_lab_comes_right_after_the_quick_start():
    """persona22 M7: a student's ~10 commands came after 1 000 lines; the Quick start's
    second paragraph was about planted bugs and the test count (now under Tests)."""
    from proplab.cli_commands import _default_out

    assert re.findall(r"^## (.+)$", README, flags=re.M)[:2] == ["Quick start", "Doing the lab"]
    section = _section("Doing the lab")
    folder = _default_out(RunConfig(dataset="xor")).as_posix()
    assert f"(`{folder}/`, or `--out DIR`" in " ".join(section.split())
    commands = {line.split()[1] for line in _command_lines(section)}
    assert commands >= {"train", "lab", "trace", "gradcheck", "play"}
    for doc in ("by_hand", "pitfalls", "own_layer"):
        assert f"(docs/{doc}.md)" in section
    quick = " ".join(_section("Quick start").split())
    count = r"~\d[\d ]* tests"  # the test count ("~5 400 tests")
    assert "hand-written bugs" not in quick and not re.search(count, quick)
    assert "hand-written bugs" in _section("Tests") and re.search(count, _section("Tests"))


# --- what the README (and docs/conv.md, benchmarks/README.md) says about the CLI ---

DOCS = Path(__file__).resolve().parents[1]
CONV_MD = (DOCS / "docs" / "conv.md").read_text(encoding="utf-8")
BENCH_README = (DOCS / "benchmarks" / "README.md").read_text(encoding="utf-8")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings}


def _default(command: str, dest: str):
    (action,) = [a for a in _subcommands()[command]._actions if a.dest == dest]
    return action.default


def _fenced(text: str) -> list[tuple[str, str]]:
    """``(language, body)`` of every fenced code block, in order."""
    return re.findall(r"^```(\w*)\n(.*?)^```$", text, flags=re.S | re.M)


def _command_lines(text: str) -> list[str]:
    """Every ``proplab <command> ...`` the text shows, in code blocks or inline code."""
    commands = set(_subcommands())
    lines = []
    for _, block in _fenced(text):
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith("proplab ") and line.split()[1] in commands:
                lines.append(line.split("#")[0])
    prose = re.sub(r"^```\w*\n.*?^```$", "", text, flags=re.S | re.M).replace("\n", " ")
    lines += [s for s in re.findall(r"`([^`]+)`", prose) if s.startswith("proplab ")]
    return lines


def test_every_flag_of_a_command_line_in_the_docs_is_an_option_of_that_command():
    commands = _subcommands()
    shown = _command_lines(README) + _command_lines(CONV_MD)
    assert len(shown) >= 8  # train, lab, sweep, report, the conv and zoo examples
    for line in shown:
        command = line.split()[1]
        assert command in commands, line
        flags = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", line))
        assert flags <= _options(commands[command]), (line, flags - _options(commands[command]))


def test_every_flag_the_readme_names_is_an_option_of_some_command():
    known = set().union(*(_options(p) for p in _subcommands().values()))
    # pip's own flags (a wheel's install and build: `pip install --force-reinstall ...`) are
    # pip's, not proplab's
    not_pip = re.sub(r"pip (?:install|wheel) [^`\n]*", "", README)
    assert "--force-reinstall" not in not_pip  # the pip lines, and only they, were taken out
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", not_pip))
    assert named - known == set()


def test_the_names_listed_for_a_flag_are_accepted_by_it():
    """``--loss {mse,bce,cross_entropy}``: each name is registered for that option."""
    listed = re.findall(r"`--([a-z-]+) \{([^}]*)\}`", README.replace("\n", " "))
    assert {flag for flag, _ in listed} >= {"loss", "init"}
    for flag, names in listed:
        for name in names.split(","):
            if name.strip() != "...":
                canonical(flag, name.strip())  # a ValueError for an unknown name


def test_the_defaults_the_readme_states_are_the_parsers_and_run_configs():
    flat = " ".join(README.split())
    assert _default("sweep", "stack") == re.search(r"\(`--stack (\w+)`, the default", flat)[1]
    memory = re.search(r"`--stack-memory MB` caps a stack's arrays, (\d+) by default", flat)[1]
    assert _default("sweep", "stack_memory") == _default("lab", "stack_memory") == int(memory)
    lab_jobs = re.search(r"lab\.toml\)\) in (\d+) processes", flat)[1]
    assert _default("lab", "jobs") == int(lab_jobs)
    report_jobs = re.search(r"figures in --jobs (\d+) processes", flat)[1]
    assert _default("report", "jobs") == int(report_jobs)
    conv = re.search(
        r"With the defaults \((\d+) filters, kernel (\d+), stride (\d+), padding (\d+), "
        r"then the lab's (\d+) hidden units, lr (\d+), ([\d ]+) epochs\)",
        flat,
    )
    cfg = RunConfig(model="conv")
    shown = [int(v.replace(" ", "")) for v in conv.groups()]
    assert shown == [
        cfg.filters,
        cfg.kernel_size,
        cfg.stride,
        cfg.padding,
        cfg.hidden,
        cfg.lr,
        cfg.epochs,
    ]


def _run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _error_lines(command: str) -> list[str]:
    return [line for line in README.splitlines() if line.startswith(f"proplab {command}: error:")]


def test_the_train_errors_the_readme_shows_are_what_the_cli_prints(tmp_path, capsys):
    shown = _error_lines("train")
    assert len(shown) == 3
    # the flag and the bad value each line names
    for line in shown:
        flag = re.search(r"argument (--[a-z-]+):", line)[1]
        value = re.search(r"'(\w+)'|got (-?[\d.]+)", line)
        value = value[1] or value[2].removesuffix(".0")
        code, out, err = _run_cli(["train", flag, value, "--out", str(tmp_path / "r")], capsys)
        assert (code, out, err.strip()) == (2, "", line)
    assert not (tmp_path / "r").exists()  # stopped before writing anything


def test_the_sweep_errors_the_readme_shows_are_what_the_cli_prints(tmp_path, capsys, monkeypatch):
    (text,) = _blocks("toml")
    unknown, malformed = _error_lines("sweep")
    monkeypatch.chdir(tmp_path)
    # as the README says: an activation axis with 'swish' added to [vary] ...
    Path("lr.toml").write_text(text + 'activation = ["sigmoid", "swish"]\n', encoding="utf-8")
    assert _run_cli(["sweep", "lr.toml", "--out", "out"], capsys) == (2, "", unknown + "\n")
    # ... or the first comma of the lr line left out
    lr_line = next(line for line in text.splitlines() if line.startswith("lr = ["))
    broken = text.replace(lr_line, lr_line.replace(",", "", 1))
    Path("lr.toml").write_text(broken, encoding="utf-8")
    assert _run_cli(["sweep", "lr.toml", "--out", "out"], capsys) == (2, "", malformed + "\n")
    assert not Path("out").exists()


def test_the_conv_geometry_error_in_the_docs_is_the_one_raised(tmp_path, capsys):
    (block,) = [b for _, b in _fenced(CONV_MD) if b.startswith("Conv1d: input length")]
    message = " ".join(block.split())
    with pytest.raises(ValueError) as exc:
        Conv1d(1, 4, 3, padding=0, rng=np.random.default_rng(0))(np.ones((5, 1, 2)))
    assert str(exc.value) == message
    # the README quotes its start, and the CLI reports it on --kernel-size with exit code 2
    quoted = re.search(r"`(Conv1d: input length[^`]*?)\s*\.\.\.`", README, flags=re.S)[1]
    assert message.startswith(" ".join(quoted.split()))
    argv = ["train", "--model", "conv", "--kernel-size", "3", "--padding", "0"]
    code, _, err = _run_cli([*argv, "--out", str(tmp_path / "r")], capsys)
    assert (code, err.strip()) == (2, f"proplab train: error: argument --kernel-size: {message}")


def test_the_python_names_the_readme_mentions_exist():
    for dotted in set(re.findall(r"\bproplab\.[A-Za-z_][\w.]*\w", README)):
        parts = dotted.split(".")
        obj = importlib.import_module(parts[0])
        for i, part in enumerate(parts[1:], start=2):
            if not hasattr(obj, part):  # a submodule not imported by proplab/__init__
                obj = importlib.import_module(".".join(parts[:i]))
            else:
                obj = getattr(obj, part)
    listed = re.search(r"Layers: (.*?)following\s+PyTorch", README, flags=re.S)[1]
    names = re.findall(r"`([A-Z]\w+)`", listed)
    assert len(names) >= 13 and set(names) <= set(proplab.__all__)


def test_the_benchmark_flags_the_docs_show_are_run_alls():
    shown = set()
    for line in BENCH_README.splitlines():
        if line.startswith("python benchmarks/run_all.py"):
            shown |= set(re.findall(r"--[a-z]+", line))
    assert shown >= {"--quick", "--only", "--publish"}
    run_all = DOCS / "benchmarks" / "run_all.py"
    done = subprocess.run(
        [sys.executable, str(run_all), "--help"], capture_output=True, text=True, check=True
    )
    assert shown <= set(re.findall(r"--[a-z]+", done.stdout))


def _run_folder_block() -> str:
    return re.search(r"## Run folders\n\n```\n(.*?)```", README, flags=re.S)[1]


@pytest.mark.slow
def test_the_run_folder_the_readme_lists_is_what_a_run_writes(tmp_path):
    block = _run_folder_block()
    files = set(re.findall(r"^  (\S+\.(?:json|csv|npz|png))", block, flags=re.M))
    assert len(files) == 9
    summary = run_one(RunConfig(dataset="xor", epochs=30, print_every=0), tmp_path, quiet=True)
    assert {p.name for p in tmp_path.iterdir()} == files
    columns = re.search(r"history\.csv\s+(.*?)\s{2,}", block)[1].split(", ")
    header = (tmp_path / "history.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == columns
    assert len((tmp_path / "history.csv").read_text(encoding="utf-8").splitlines()) == 1 + 30
    listed = re.search(r"final loss and accuracy, (.*?), \.\.\.", " ".join(block.split()))[1]
    on_disk = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert {"loss", "accuracy", *listed.split(", ")} <= set(on_disk) == set(summary)
    config = json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))
    versions = re.search(r'"versions": \{([^}]*)\}', block)[1].split(", ")
    listed_keys = set(re.findall(r'"(\w+)":', block.split("history.csv")[0]))
    assert set(config) == listed_keys == {"config", "versions", "platform", "blas_threads", "data"}
    assert set(config["versions"]) == set(versions)
    assert set(config["config"]) == {f.name for f in dataclasses.fields(RunConfig)}


@pytest.mark.slow
def test_the_train_example_prints_the_lines_the_readme_shows(tmp_path, capsys):
    (command,) = [c for c in _command_lines(README) if "--epochs 20000 --seed 0 --out" in c]
    argv = command.split()[1:]
    argv[argv.index("--out") + 1] = str(tmp_path / "xor")
    shown = re.search(
        r"prints exactly the lab's three kinds of lines on stdout\n\n```\n(.*?)```",
        README,
        flags=re.S,
    )[1].splitlines()
    code, out, _ = _run_cli([*argv, "--no-progress"], capsys)
    printed = out.splitlines()
    assert code == 0
    kept = [line for line in shown if line != "..."]
    assert len(kept) == 3
    for line, got in zip(kept, [printed[0], printed[4], printed[-1]], strict=True):
        _assert_same_but_the_last_digits(line, got)


_NUMBER = re.compile(r"\d+\.\d+")


def _assert_same_but_the_last_digits(shown: str, printed: str) -> None:
    """The same line but for the last digits of its decimals (within 1 %): 20 000 epochs
    amplify a rounding difference between CPUs' BLAS and exp kernels (the README says so)."""
    assert _NUMBER.sub("#", shown) == _NUMBER.sub("#", printed), (shown, printed)
    expected = [float(v) for v in _NUMBER.findall(shown)]
    assert [float(v) for v in _NUMBER.findall(printed)] == pytest.approx(expected, rel=1e-2)


@pytest.mark.slow  # 5 000 epochs of Adam on 400 points, ~2.5 s
def test_the_regression_result_the_readme_quotes_is_what_its_command_prints(tmp_path, capsys):
    # docs21 H1: the quoted line was another command's (the train line of --test-fraction 0.2)
    command, shown = re.search(
        r"`(proplab train --dataset multi-gauss)` prints\n`(loss=\S+ r2=\S+)`", README
    ).groups()
    argv = [*command.split()[1:], "--out", str(tmp_path / "run"), "--no-progress"]
    code, out, _ = _run_cli(argv, capsys)
    assert code == 0
    _assert_same_but_the_last_digits(shown, out.splitlines()[-1])


def test_the_gradcheck_example_prints_the_readmes_lines(capsys):
    block = next(b for _, b in _fenced(README) if b.startswith("$ proplab gradcheck"))
    command, *shown = block.strip().splitlines()
    assert cli.main(command.split()[2:]) == 0
    # errors below 1e-8 are round-off: their digits depend on the machine's BLAS
    printed = [docblocks.normalized(line) for line in capsys.readouterr().out.splitlines()]
    kept = [docblocks.normalized(line) for line in shown if line != "..."]
    assert len(kept) >= 10
    lines = iter(printed)
    assert all(line in lines for line in kept)  # each in order ("in" moves the iterator on)


def test_the_trace_example_prints_the_readmes_lines(capsys):
    block = next(b for _, b in _fenced(README) if b.startswith("$ proplab trace"))
    command, *shown = block.strip().splitlines()
    assert cli.main(command.split()[2:]) == 0
    printed = capsys.readouterr().out.splitlines()
    kept = [line for line in shown if line != "..."]
    assert len(kept) >= 20
    lines = iter(printed)
    assert all(line in lines for line in kept)  # each in order ("in" moves the iterator on)


def test_the_example_csv_files_are_the_ones_the_readme_describes(tmp_path):
    """examples/body.csv and body-score.csv, which the README's commands train on, are what
    tests/test_standardize.py's body_csv writes (its tests check the results quoted)."""
    from test_standardize import body_csv

    examples = Path(__file__).resolve().parents[1] / "examples"
    for name, regression in (("body.csv", False), ("body-score.csv", True)):
        assert f"--dataset examples/{name}" in README
        made = body_csv(tmp_path / name, regression=regression)
        assert (examples / name).read_bytes() == made.read_bytes()


def test_the_mutation_count_is_the_sum_of_the_recorded_rounds():
    """The README quoted "758 planted, 727 caught" with no record of where they came from;
    docs/mutation.md keeps each round, and the README's numbers are its totals."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "mutation.md").read_text()
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in text.splitlines()
        if re.match(r"\| (\d+|all) \|", line)
    ]
    *rounds, total = rows
    sums = [sum(int(r[k]) for r in rounds) for k in range(2, 7)]
    assert sums == [int(total[k]) for k in range(2, 7)]
    planted, suite, new, equivalent, left = sums
    assert planted == suite + new + equivalent + left
    said = " ".join(README.split())
    assert f"of {planted // 1000} {planted % 1000:03d} hand-written bugs" in said
    caught = suite + new
    assert f"they catch {caught // 1000} {caught % 1000:03d}; {equivalent} change nothing" in said
    assert f"and {left} were left without a test" in said
