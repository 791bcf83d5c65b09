"""Run every benchmark and write a JSON and a Markdown summary.

Usage::

    python benchmarks/run_all.py [--quick] [--only NAME [NAME ...]] [--publish]

Every ``benchmarks/bench_*.py`` with a ``run(quick)`` function is a benchmark;
``NAME`` is its file name without ``bench_`` (``lab``, ``stack``, ...). A
benchmark that fails prints its error and the others still run. Results go to
``benchmarks/results/latest.json`` and ``latest.md`` (plus a time-stamped copy
of each); ``--publish`` also writes the benchmarks that ran into
``benchmarks/RESULTS.md`` (the file the README quotes), replacing only their
own sections, each with the machine and command it came from, so benchmarks
run at different times can share the file. A benchmark whose module has ``DOC``
(a path) and ``doc_block(result, machine)`` also gets that doc's
``<!-- bench:NAME -->`` section rewritten (bench_conv: docs/conv.md's speed
table), so a doc quoting it cannot fall behind RESULTS.md; README.md's speed
table and digits claim are then rendered from the new RESULTS.md
(benchmarks/published.py). Do not publish a ``--quick`` run: its smoke-run
numbers would replace the published ones (its sections say "quick mode").
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # so ``import benchmarks.common`` works too
import common  # noqa: E402

RESULTS = HERE / "results"


def discover() -> dict[str, Path]:
    """``{name: path}`` of every ``bench_*.py`` beside this file, sorted by name."""
    return {p.stem.removeprefix("bench_"): p for p in sorted(HERE.glob("bench_*.py"))}


def load(name: str, path: Path) -> ModuleType:
    """Import a benchmark file as module ``bench_<name>``."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and a rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def markdown_report(
    machine: dict[str, Any], runs: dict[str, dict[str, Any]], quick: bool, command: str
) -> str:
    parts = [
        "# proplab benchmarks\n",
        f"Command: `{command}`{' (quick mode: fewer epochs and repeats)' if quick else ''}\n",
        common.machine_markdown(machine) + "\n",
    ]
    for name, entry in runs.items():
        if "error" in entry:
            parts.append(f"### {name}\n\nFAILED: `{entry['error']}`\n")
        elif "skipped" in entry:
            parts.append(f"### {name}\n\nskipped: {entry['skipped']}\n")
        else:
            parts.append(common.render_markdown(entry["result"]))
            parts.append(f"_({name}: {entry['seconds']:.0f} s)_\n")
    return "\n".join(parts)


PUBLISHED_HEADER = (
    "# proplab benchmark results\n\n"
    "Written by `python benchmarks/run_all.py --publish` (see README.md for how to\n"
    "read them). Each section states the command, the machine and the commit it\n"
    "ran on; ratios are only comparable within one section.\n"
)


def publish_sections(
    text: str, machine: dict[str, Any], runs: dict[str, dict[str, Any]], quick: bool, command: str
) -> str:
    """``text`` (a RESULTS.md) with the sections of the benchmarks in ``runs`` replaced or added.

    A section is delimited by ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``;
    failed or skipped benchmarks leave their previous section alone.
    """
    if not text.strip():
        text = PUBLISHED_HEADER
    for name, entry in runs.items():
        if "result" not in entry:
            continue
        body = (
            f"<!-- bench:{name} -->\n"
            + common.render_markdown(entry["result"])
            + f"\nCommand: `{command}`{' (quick mode)' if quick else ''}, "
            f"{entry['seconds']:.0f} s. Machine:\n\n"
            + common.machine_markdown(machine)
            + f"\n<!-- /bench:{name} -->"
        )
        replaced = replace_section(text, name, body)
        text = replaced if replaced is not None else text.rstrip("\n") + "\n\n" + body + "\n"
    return text


def replace_section(text: str, name: str, body: str) -> str | None:
    """``text`` with its ``<!-- bench:NAME -->`` ... ``<!-- /bench:NAME -->`` section
    (markers included) replaced by ``body``; None when ``text`` has no such section."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    if start not in text or end not in text:
        return None
    return text[: text.index(start)] + body + text[text.index(end) + len(end) :]


def publish_docs(
    runs: dict[str, dict[str, Any]], modules: dict[str, ModuleType], machine: dict[str, Any]
) -> list[Path]:
    """Rewrite the ``<!-- bench:NAME -->`` section of each doc a benchmark that ran
    quotes (its module's ``DOC`` and ``doc_block``); returns the docs written. A doc
    without the section is left alone, with a warning."""
    written = []
    for name, entry in runs.items():
        module = modules.get(name)
        doc, block = getattr(module, "DOC", None), getattr(module, "doc_block", None)
        if "result" not in entry or doc is None or not callable(block):
            continue
        doc = Path(doc)
        text = doc.read_text(encoding="utf-8") if doc.exists() else ""
        new = replace_section(text, name, block(entry["result"], machine))
        if new is None:
            print(
                f"warning: {doc} has no <!-- bench:{name} --> section: not updated",
                file=sys.stderr,
            )
            continue
        write_atomic(doc, new)
        written.append(doc)
    return written


def publish_readme(results: str, readme: Path | None = None) -> None:
    """Rewrite README.md's speed figures from ``results`` (the new RESULTS.md): its
    ``<!-- bench:speed -->`` table and ``<!-- bench:digits-claim -->`` phrase
    (benchmarks/published.py). When RESULTS.md lacks a section they quote, or the
    README lacks the markers, warn and leave the README alone."""
    import published

    path = readme or HERE.parent / "README.md"
    if not path.exists():
        return
    try:
        changed = published.update_readme(results, path)
    except KeyError as exc:
        print(f"warning: {path} not updated: {exc.args[0]}", file=sys.stderr)
        return
    if changed:
        print(f"rewrote the speed figures of {path}", file=sys.stderr)


@contextlib.contextmanager
def torch_threads_kept() -> Iterator[None]:
    """Restore PyTorch's thread count after a benchmark (bench_conv's growth table left it
    at 1, so the next benchmark, bench_lab, took 1 for the default and lost its 2-thread rows)."""
    torch = common.optional_torch()
    threads = torch.get_num_threads() if torch is not None else None
    try:
        yield
    finally:
        if torch is not None:
            torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Without --publish only benchmarks/results/ (not committed) is written.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer epochs and repeats (smoke run); do not combine with --publish, which "
        "would put smoke-run numbers into RESULTS.md and the docs quoting it",
    )
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="run only these benchmarks (e.g. lab stack)"
    )
    parser.add_argument(
        "--publish",
        action="store_true",
        help="also write the benchmarks that ran into benchmarks/RESULTS.md, and rewrite "
        "from it the <!-- bench:NAME --> sections of the docs quoting them (docs/conv.md's "
        "speed table; README.md's speed table and digits claim, see benchmarks/published.py)",
    )
    args = parser.parse_args(argv)
    if args.quick and args.publish:
        print(
            "warning: --quick --publish puts smoke-run numbers into benchmarks/RESULTS.md "
            "and the docs quoting it",
            file=sys.stderr,
        )

    found = discover()
    wanted = list(found)
    if args.only:
        names = [n.removeprefix("bench_").removesuffix(".py") for n in args.only]
        unknown = [n for n in names if n not in found]
        if unknown:
            print(
                f"unknown benchmark {', '.join(unknown)} (accepted: {', '.join(found)})",
                file=sys.stderr,
            )
            return 2
        wanted = names

    command = "python benchmarks/run_all.py " + " ".join(argv if argv is not None else sys.argv[1:])
    machine = common.machine_info()
    print("# proplab benchmarks\n\n" + common.machine_markdown(machine) + "\n", flush=True)
    runs: dict[str, dict[str, Any]] = {}
    modules: dict[str, ModuleType] = {}
    failed = 0
    try:
        for name in wanted:
            start = time.perf_counter()
            try:
                module = modules[name] = load(name, found[name])
                if not callable(getattr(module, "run", None)):
                    runs[name] = {"skipped": "no run(quick) function"}
                    print(f"### {name}: skipped (no run(quick) function)\n", flush=True)
                    continue
                print(f"running {name} ...", file=sys.stderr, flush=True)
                with torch_threads_kept():  # each benchmark reads PyTorch's default count
                    result = module.run(quick=args.quick)
                if not isinstance(result, dict):
                    result = {"title": name, "value": result}
                result.setdefault("name", name)
                seconds = time.perf_counter() - start
                runs[name] = {"result": result, "seconds": seconds}
                print(common.render_markdown(result), flush=True)
                print(f"_({name}: {seconds:.0f} s)_\n", flush=True)
            except Exception as exc:  # one broken benchmark must not stop the others
                failed += 1
                runs[name] = {
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(),
                    "seconds": time.perf_counter() - start,
                }
                print(f"### {name}: FAILED\n\n```\n{traceback.format_exc()}```\n", flush=True)
    except KeyboardInterrupt:
        print("interrupted: writing the results gathered so far", file=sys.stderr)

    payload = {
        "command": command,
        "quick": args.quick,
        "machine": machine,
        "benchmarks": runs,
    }
    text_json = json.dumps(common.to_jsonable(payload), indent=1)
    text_md = markdown_report(machine, runs, args.quick, command)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for stem in ("latest", f"run-{stamp}"):
        write_atomic(RESULTS / f"{stem}.json", text_json)
        write_atomic(RESULTS / f"{stem}.md", text_md)
    if args.publish:
        published = HERE / "RESULTS.md"
        old = published.read_text() if published.exists() else ""
        new = publish_sections(old, machine, runs, args.quick, command)
        write_atomic(published, new)
        for doc in publish_docs(runs, modules, machine):
            print(f"rewrote its section of {doc}", file=sys.stderr)
        publish_readme(new)
    print(f"wrote {RESULTS / 'latest.json'} and {RESULTS / 'latest.md'}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
