"""The README's speed figures, rendered from benchmarks/RESULTS.md.

The README's "Speed" table and its digits claim quote several benchmarks'
published sections. Copied by hand they fell behind RESULTS.md (audit16b H1,
M5), so they live between ``<!-- bench:NAME -->`` markers in README.md and are
written from RESULTS.md by ``run_all.py --publish`` (after it has rewritten
RESULTS.md), or by this script from the committed RESULTS.md::

    python benchmarks/published.py          # rewrite README.md's sections
    python benchmarks/published.py --check  # exit 1 if README.md's differ

tests/test_benchmarks.py checks that the committed README's sections are what
the committed RESULTS.md renders. Everything here reads RESULTS.md's Markdown
(the raw JSON in benchmarks/results/ is not committed).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import common  # noqa: E402

RESULTS_MD = HERE / "RESULTS.md"
README = HERE.parent / "README.md"

# the RESULTS.md sections each rendered block quotes
NEEDS = {"speed": ("lab", "stack", "conv", "digits", "suite"), "digits-claim": ("digits",)}


def sections(text: str) -> dict[str, str]:
    """``{name: body}`` of every ``<!-- bench:NAME -->`` section of a RESULTS.md (markers
    excluded)."""
    found = re.finditer(r"<!-- bench:([\w-]+) -->\n(.*?)<!-- /bench:\1 -->", text, re.S)
    return {m.group(1): m.group(2) for m in found}


def table(section: str, title: str) -> list[dict[str, str]]:
    """The rows of the table under ``#### title`` in ``section``, as ``{column: cell}``.

    Raises KeyError naming the title when the section has no such table.
    """
    head = f"#### {title}\n"
    if head not in section:
        raise KeyError(f"no table {title!r} in this section of RESULTS.md")
    lines = section.split(head, 1)[1].strip().splitlines()
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    columns, rows = cells[0], []
    for line, row in zip(lines[2:], cells[2:], strict=True):  # past the |---| line
        if not line.startswith("|"):
            break
        rows.append(dict(zip(columns, row, strict=True)))
    return rows


def row(rows: list[dict[str, str]], **match: str) -> dict[str, str]:
    """The one row whose cells equal ``match`` (column names with spaces: pass a dict)."""
    hits = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    if len(hits) != 1:
        raise KeyError(f"{len(hits)} rows match {match} (expected 1)")
    return hits[0]


def wall(cell: str) -> str:
    """``'1.47x (1.53x)'`` -> ``'1.47x'``: the wall-time part of a 'wall (CPU)' cell."""
    return cell.split(" (", 1)[0]


def cpu(cell: str) -> str:
    """``'1.47x (1.53x)'`` -> ``'1.53x'``: the CPU-time part of a 'wall (CPU)' cell."""
    return cell.split(" (", 1)[1].rstrip(")")


def run_info(section: str) -> dict[str, str]:
    """Command, quick mode, commit, date and load average of one published section."""
    command = re.search(r"Command: `([^`]*)`( \(quick mode\))?", section)
    machine = re.search(r"load average at start \[([^\]]*)\]", section)
    commit = re.search(r"proplab \S+ at commit (\S+)( \(src/ has uncommitted changes\))?", section)
    date = re.search(r"\n- [^\n]*, (\d{4}-\d\d-\d\d) \d\d:\d\d:\d\d [+-]\d{4}\n", section)
    cpu = re.search(r"- CPU: ([^,]+), (\d+) usable cores", section)
    versions = re.search(r"- Python (\S+), NumPy (\S+), PyTorch (\S+)", section)
    blas = re.search(r"- BLAS: (\w+) (\d+\.\d+\.\d+)", section)
    if not (command and machine and commit and date and cpu and versions):
        raise KeyError("a section of RESULTS.md lacks its command or machine paragraph")
    return {
        "command": command.group(1),
        "quick": " (quick mode: fewer repeats, not for quoting)" if command.group(2) else "",
        "commit": commit.group(1) + (" (src/ modified)" if commit.group(2) else ""),
        "date": date.group(1),
        "load": machine.group(1).replace(", ", " / "),
        "machine": f"a {cpu.group(2)}-core {cpu.group(1)}"
        + (f" ({blas.group(1).replace('openblas', 'OpenBLAS')} {blas.group(2)}," if blas else " (")
        + f" NumPy {versions.group(2)}, PyTorch {versions.group(3).replace('+cpu', ' CPU')})",
    }


def sources(found: dict[str, str], names: tuple[str, ...]) -> str:
    """Which run each benchmark's figures come from, runs with the same command and
    commit grouped: command, commit, date and load average at the start."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for name in names:
        info = run_info(found[name])
        key = (info["command"], info["commit"], info["date"], info["load"], info["quick"])
        groups.setdefault(key, []).append(name)
    # the README names no run_all flags (tests/test_readme.py checks its flags are the CLI's)
    parts = [
        f"{', '.join(group)}: {'published alone' if '--only' in command else 'a full run'} "
        f"at commit {commit}, {date}, load average at the start {load} (1, 5, 15 min){quick}"
        for (command, commit, date, load, quick), group in groups.items()
    ]
    return "; ".join(parts)


def lab_row(found: dict[str, str], case: str, label: str, first: bool) -> str:
    times = table(found["lab"], LAB_TABLE)
    ratios = table(found["lab"], "Ratios (same run): wall time (CPU time)")

    def us(impl: str) -> str:
        return row(times, case=case, implementation=impl)["us/epoch wall"]

    r = row(ratios, case=case)
    refs = (
        f"tuned NumPy loop {us('tuned NumPy')} / PyTorch eager (1 thread) {us('torch eager (1 thr)')}"
        if first
        else f"tuned {us('tuned NumPy')} / PyTorch {us('torch eager (1 thr)')}"
    )
    slower = wall(r["proplab fit / tuned"])
    faster = wall(r["torch 1 thr / proplab fit"])
    return f"| {label} | {us('proplab fit')} | {refs} | {slower} slower / **{faster} faster** |"


LAB_TABLE = "Lab model (2-H-H-1 sigmoid, MSE, full-batch SGD lr 1.0, float64): time per epoch"
STACK_TABLE = "64 XOR nets (2-10-10-1 sigmoid, MSE, SGD, per-net lr): time per net-epoch"
SCALING_TABLE = (
    "How the stacked cost grows: us per net-epoch, wall (CPU); one factor changed at a time"
)
CONV_TABLE = "Conv1d forward + backward, batch 100, length 64, kernel 3, padding 1: time per step"
DIGITS_TABLE = "Digits, fixed stratified 80/20 split (1437 train / 360 test)"
SUITE_TABLE = "Lab suite: `proplab sweep lab` (the sweep part of `make lab`)"
UNITS_TABLE = "Where the training time goes (one row per training unit of the stacked sweep)"


def _ratio(a: str, b: str) -> str:
    return common.fmt_ratio(float(a) / float(b))


def _conv_time(us: str) -> str:
    v = float(us)
    if v >= 1e6:
        return f"{v / 1e6:.3g} s"
    if v >= 1e3:
        return f"{v / 1e3:.3g} ms"
    return f"{v:.3g} us"


def _pct(cell: str) -> str:
    return f"{float(cell.rstrip('%')):.1f} %"


def speed_block(found: dict[str, str]) -> str:
    """README.md's Speed table and where its figures come from, markers included."""
    lines = [
        "<!-- bench:speed -->",
        "| what | proplab | reference | ratio |",
        "|---|---|---|---|",
        lab_row(found, "xor H=10", "lab model, XOR, H=10: us per epoch", first=True),
        lab_row(found, "xor H=100", "lab model, XOR, H=100", first=False),
        lab_row(found, "linear H=10", "lab model, linear, H=10", first=False),
        lab_row(found, "linear H=100", "lab model, linear, H=100", first=False),
    ]
    stack = table(found["stack"], STACK_TABLE)
    stacked = row(stack, implementation="proplab stacked")
    seq = row(stack, implementation="proplab sequential")
    bmm = row(stack, implementation="torch bmm manual (1 thr)")
    lines.append(
        f"| 64 XOR nets, us per net-epoch | stacked {stacked['us/net-epoch wall']} "
        f"| proplab one by one {seq['us/net-epoch wall']} / PyTorch `bmm` stacked "
        f"{bmm['us/net-epoch wall']} "
        f"| **{wall(stacked['speed-up vs proplab sequential: wall (CPU)'])}** / "
        f"**{wall(bmm['time vs proplab stacked: wall (CPU)'])} faster** |"
    )
    lin = row(table(found["stack"], SCALING_TABLE), case="n=100 (linear)")
    ours, tuned, torch = (
        wall(lin[c]) for c in ("proplab stacked", "tuned NumPy stacked", "torch bmm manual (1 thr)")
    )
    lines.append(
        f"| 64 nets on the 100-point linear data (one data set shared by all) "
        f"| stacked {ours} | tuned NumPy stacked {tuned} / PyTorch `bmm` {torch} "
        f"| **{_ratio(tuned, ours)}** / **{_ratio(torch, ours)} faster** (ratios of medians) |"
    )
    conv = table(found["conv"], CONV_TABLE)
    conv_ratios = table(found["conv"], "Ratios (same run; > 1 means proplab is faster)")

    def c(case: str, impl: str) -> str:
        return _conv_time(
            row(conv, **{"case (in -> out channels)": case, "implementation": impl})[
                "us/step (median)"
            ]
        )

    r1, r2 = row(conv_ratios, case="1 -> 8"), row(conv_ratios, case="8 -> 16")
    naive, f64, f32 = (
        "naive loops / proplab",
        "torch float64 1 thr / proplab",
        "torch float32 1 thr / proplab",
    )
    lines += [
        f"| Conv1d fwd+bwd, batch 100, length 64, 1 -> 8 channels, k 3 | {c('1 -> 8', 'proplab')} "
        f"| naive loops {c('1 -> 8', 'naive loops')} / `torch.nn.functional.conv1d` float64 "
        f"{c('1 -> 8', 'torch float64 (1 thr)')} | **{r1[naive]}** / **{r1[f64]} faster** |",
        f"| Conv1d, 8 -> 16 channels | {c('8 -> 16', 'proplab')} "
        f"| naive {c('8 -> 16', 'naive loops')} / torch float64 {c('8 -> 16', 'torch float64 (1 thr)')} "
        f"(float32 {c('8 -> 16', 'torch float32 (1 thr)')}) "
        f"| **{r2[naive]}** / **{r2[f64]} faster** ({r2[f32]} vs float32) |",
    ]
    digits = table(found["digits"], DIGITS_TABLE)
    ours_d = row(digits, contender="proplab CLI recipe")
    same = row(digits, contender="scikit-learn, proplab's recipe")
    default = row(digits, contender="scikit-learn default fit (64,)")
    speed = "time vs proplab CLI recipe: wall (CPU)"
    lines.append(
        f"| digits: 64-64 ReLU, Adam 2e-3, batch 32, {ours_d['epochs']} epochs "
        f"| {ours_d['fit s']} s | scikit-learn `MLPClassifier`, the same recipe, "
        f"{same['fit s']} s | **{wall(same[speed])} faster** ({cpu(same[speed])} in CPU time), "
        f"{_pct(ours_d['test acc (median)'])} vs {_pct(same['test acc (median)'])} median "
        f"test accuracy (scikit-learn's default fit, `MLPClassifier((64,))`: "
        f"{default['epochs']} epochs of 200-image batches, {default['fit s']} s, "
        f"{_pct(default['test acc (median)'])}) |"
    )
    suite = table(found["suite"], SUITE_TABLE)
    on = row(suite, mode="stacked (--stack auto)")
    off = row(suite, mode="one run at a time (--stack off)")
    units = row(table(found["suite"], UNITS_TABLE), **{"training unit": "all units"})
    pairs = re.search(r"per pair of sweeps: (.*?)\. Results", found["suite"])
    same_results = re.search(r"Results identical in every sweep[^:]*: (\w+)", found["suite"])
    if not (pairs and same_results):
        raise KeyError("the suite section of RESULTS.md lacks its pairs or identity note")
    identical = "identical results" if same_results.group(1) == "True" else "**results differ**"
    lines.append(
        f"| the lab suite ({on['runs']} runs x 20 000 epochs, `--jobs 2`) "
        f"| stacked {on['wall s (median)']} s | one run at a time {off['wall s (median)']} s "
        f"| **{on['speed-up']} faster** (medians of 2 sweeps each, pairs "
        f"{pairs.group(1).replace(', ', ' and ')}; the training alone {units['speed-up']}), "
        f"{identical} |"
    )
    runs = sorted({run_info(found[n])["machine"] for n in NEEDS["speed"]})
    lines += [
        "",
        f"Written from benchmarks/RESULTS.md when a run is published (benchmarks/README.md), "
        f"on {' and '.join(runs)}. "
        f"Figures from {sources(found, NEEDS['speed'])}. Ratios are medians of per-repeat "
        "ratios for the lab model, the 64 XOR nets and digits (repeats interleaved, so each "
        "pair ran seconds apart); ratios of the medians for the linear-data stack, Conv1d "
        "and the suite (whose pairs of sweeps are given too).",
        "<!-- /bench:speed -->",
    ]
    return "\n".join(lines)


def digits_claim(found: dict[str, str]) -> str:
    """The README's digits sentence: proplab's fit against scikit-learn's on the same recipe."""
    digits = table(found["digits"], DIGITS_TABLE)
    same = row(digits, contender="scikit-learn, proplab's recipe")
    ratio = wall(same["time vs proplab CLI recipe: wall (CPU)"]).rstrip("x")
    return (
        f"<!-- bench:digits-claim -->{ratio}x faster to fit than scikit-learn's `MLPClassifier` "
        f"trained on the same recipe, to the same median accuracy "
        f"({_pct(same['test acc (median)'])})<!-- /bench:digits-claim -->"
    )


BLOCKS: dict[str, Callable[[dict[str, str]], str]] = {
    "speed": speed_block,
    "digits-claim": digits_claim,
}


def render(readme: str, results: str) -> str:
    """``readme`` with each of its ``<!-- bench:NAME -->`` blocks in BLOCKS rewritten
    from ``results`` (a RESULTS.md). Raises KeyError when ``results`` lacks a section
    or table a block quotes, or ``readme`` lacks a block."""
    found = sections(results)
    for name, block in BLOCKS.items():
        missing = [n for n in NEEDS[name] if n not in found]
        if missing:
            raise KeyError(f"RESULTS.md has no section {', '.join(missing)} (README block {name})")
        start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
        if start not in readme or end not in readme:
            raise KeyError(f"README.md has no {start} ... {end} block")
        i, j = readme.index(start), readme.index(end) + len(end)
        readme = readme[:i] + block(found) + readme[j:]
    return readme


def update_readme(results: str, readme_path: Path | None = None) -> bool:
    """Rewrite ``readme_path``'s (default README.md) blocks from ``results``; True if the
    file changed."""
    readme_path = readme_path or README
    old = readme_path.read_text(encoding="utf-8")
    new = render(old, results)
    if new == old:
        return False
    tmp = readme_path.with_name(readme_path.name + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, readme_path)  # atomic: a reader never sees half a README
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="do not write: exit 1 if README.md's blocks differ"
    )
    args = parser.parse_args(argv)
    results = RESULTS_MD.read_text(encoding="utf-8")
    readme = README.read_text(encoding="utf-8")
    try:
        new = render(readme, results)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    if args.check:
        if new != readme:
            print("README.md's speed figures differ from benchmarks/RESULTS.md", file=sys.stderr)
            return 1
        return 0
    print(
        "README.md rewritten" if update_readme(results, README) else "README.md already up to date"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
