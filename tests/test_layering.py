"""The dependency arrow points one way: the NumPy core knows nothing of plotting,
reports, the CLI or the web (README's "Layout")."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import proplab

PACKAGE = Path(proplab.__file__).parent

# the NumPy-only core: it may import the standard library, NumPy and itself
CORE = {
    "activations", "batchnorm", "callbacks", "checks", "config", "conv", "core", "data",
    "dropout", "features", "gradcheck", "gradcheck_notes", "gradcheck_numeric", "history", "init",
    "interrupts", "layers", "losses", "metrics", "models", "module_errors", "optim", "optim_base",
    "parameter",
    "registry", "schedules", "scoring", "splits", "trace", "trace_check", "trace_compare",
    "trace_comparison", "trace_slips", "trace_text", "train", "train_text", "zoo", "zoo_regression",
}  # fmt: skip
# everything built on top of it (run folders, figures, reports, sweeps, CLI, web)
ON_TOP = {
    "__init__", "__main__", "aggregate", "cli", "cli_commands", "cli_flags", "csvdata", "csvtable",
    "datapath", "dataload", "diabetes", "digits", "experiments", "label_geometry", "model_check", "per_replica",
    "playground", "playground_server", "plots", "pools", "predict", "predict_out", "progress", "run_parts",
    "report", "report_answers", "report_data", "report_doc", "report_figures", "report_hidden", "report_lr",
    "report_html", "report_network", "report_setup", "report_text", "run_figures", "runio",
    "serialize", "serialize_streams", "sklearn", "snapshots", "stack_plan", "stacking", "sweep",
    "sweep_boundaries", "sweep_dots", "sweep_folder", "sweep_plots", "sweep_progress", "sweep_spec", "sweep_workers",
    "threads", "trace_plots", "trace_run", "train_out", "unit_plots", "value_plots", "verify",
    "zoo_plots",
}  # fmt: skip


# the modules `make typecheck` leaves out (none): pyproject's [tool.mypy] exclude, if it
# ever has one, must name exactly these
NOT_TYPECHECKED: set[str] = set()


def test_make_typecheck_checks_every_module_but_the_named_few() -> None:
    # `make typecheck` runs mypy on pyproject's [tool.mypy] files, the whole package, less
    # what its exclude patterns match (as mypy matches them: re.search on the path from the
    # project root): a pattern widened by mistake would drop modules unseen
    pyproject = Path(__file__).parents[1] / "pyproject.toml"
    mypy = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["mypy"]
    assert mypy["files"] == ["src/proplab"]
    paths = {p: f"src/proplab/{p.relative_to(PACKAGE).as_posix()}" for p in PACKAGE.rglob("*.py")}
    excluded = {
        p.relative_to(PACKAGE).with_suffix("").as_posix()
        for p, path in paths.items()
        if any(re.search(pattern, path) for pattern in mypy.get("exclude", []))
    }
    assert excluded == NOT_TYPECHECKED, (
        f"excluded but not named here: {sorted(excluded - NOT_TYPECHECKED)}; "
        f"named here but checked: {sorted(NOT_TYPECHECKED - excluded)}"
    )
    assert NOT_TYPECHECKED <= CORE | ON_TOP  # modules that exist


def imported_modules(source: str) -> set[str]:
    """Every module an import statement in ``source`` names, at any depth (imports
    inside functions count: they run too). ``from proplab import x`` names proplab.x."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # a relative import inside proplab/ is an import from proplab
            module = (
                "proplab" + (f".{node.module}" if node.module else "")
                if node.level
                else node.module
            )
            if module == "proplab":
                names.update(f"proplab.{alias.name}" for alias in node.names)
            else:
                names.add(module)
    return names


def outside_the_core(source: str) -> list[str]:
    """The modules ``source`` imports that a core module may not."""
    bad = []
    for name in sorted(imported_modules(source)):
        top, _, rest = name.partition(".")
        if top == "__future__" or top in sys.stdlib_module_names or top == "numpy":
            continue
        if top == "proplab" and rest.split(".")[0] in CORE:
            continue
        bad.append(name)
    return bad


def test_every_module_is_either_core_or_on_top() -> None:
    # a new module must be placed on one side of the arrow, here and in the README
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules == CORE | ON_TOP, (
        f"not classified: {sorted(modules - CORE - ON_TOP)}; "
        f"no longer there: {sorted((CORE | ON_TOP) - modules)}"
    )
    assert not CORE & ON_TOP


@pytest.mark.parametrize("module", sorted(CORE))
def test_the_core_imports_only_the_standard_library_numpy_and_the_core(module: str) -> None:
    assert outside_the_core((PACKAGE / f"{module}.py").read_text()) == []


def test_the_check_sees_imports_anywhere_and_of_any_form() -> None:
    source = (
        "import numpy as np\nimport math, json\nfrom proplab.core import Module\n"
        "from proplab import init as initializers\nfrom . import cli\n"
        "def draw():\n    import matplotlib.pyplot as plt\n"
        "class A:\n    def f(self):\n        from proplab import plots\n"
        "try:\n    import torch\nexcept ImportError:\n    pass\n"
        "from proplab.report import build_report\n"
    )
    assert outside_the_core(source) == [
        "matplotlib.pyplot", "proplab.cli", "proplab.plots", "proplab.report", "torch",
    ]  # fmt: skip
    relative = "from .report import build_report\nfrom .core import Module\nfrom . import plots\n"
    assert outside_the_core(relative) == ["proplab.plots", "proplab.report"]


def test_importing_the_whole_core_loads_nothing_beyond_numpy() -> None:
    # in a fresh interpreter: this one has loaded matplotlib for other tests
    code = (
        "import sys\n"
        f"for m in {sorted(CORE)!r}: __import__('proplab.' + m)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}"
        " - set(sys.stdlib_module_names) - {'numpy', 'proplab'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    # NumPy's Cython extensions register cython_runtime; _distutils_hack is setuptools'
    loaded = [m for m in eval(out) if not m.startswith(("_", "cython_runtime"))]
    assert loaded == [], f"the core pulled in {loaded}"


def test_reading_a_sweep_folder_loads_no_process_pool() -> None:
    # aggregate and the report read run folders; they imported proplab.sweep, which
    # pulled in the workers and multiprocessing (sweep_folder and sweep_spec suffice)
    code = (
        "import sys\nimport proplab.aggregate, proplab.report\n"
        "print(sorted(m for m in ('multiprocessing', 'concurrent.futures', 'proplab.sweep',"
        " 'proplab.sweep_workers') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert eval(out) == []


def test_the_cores_docstring_examples_run_as_written() -> None:
    # each example imports what it uses: it runs from its own module, under doctest
    import doctest
    import importlib

    attempted = {}
    for module in sorted(CORE):
        results = doctest.testmod(importlib.import_module(f"proplab.{module}"), verbose=False)
        assert results.failed == 0, module
        attempted[module] = results.attempted
    # the examples there are (conv's three, gradcheck's, the new layers') ran: none was
    # silently skipped
    assert attempted["conv"] >= 3 and attempted["gradcheck"] >= 3
    assert attempted["dropout"] >= 2 and attempted["batchnorm"] >= 2


def test_names_moved_out_of_core_and_optim_keep_their_old_import_paths() -> None:
    # core.py and optim.py were split; users' code and the docs import these from there
    import proplab.core
    import proplab.optim
    from proplab import checks, module_errors, optim_base, parameter

    moved = {
        proplab.core: {
            checks: ["check_int", "did_you_mean", "short_repr"],
            parameter: ["Parameter", "matmul"],
            module_errors: [
                "NoInputGradFlagError", "forward_first", "is_proplabs", "returned_no_array",
            ],
        },
        proplab.optim: {optim_base: ["Hyper", "Optimizer", "ParamGroup", "regularized"]},
    }  # fmt: skip
    for old, homes in moved.items():
        for home, names in homes.items():
            for name in names:
                assert getattr(old, name) is getattr(home, name), (old.__name__, name)
    assert proplab.Parameter is parameter.Parameter and proplab.Optimizer is optim_base.Optimizer
