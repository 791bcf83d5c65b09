"""Every public signature's type hints resolve at run time (``typing.get_type_hints``,
``inspect.signature(eval_str=True)``), as tools that read them (IDEs, sphinx, pydantic,
typeguard) need: a hint named only under ``TYPE_CHECKING`` shows in ``help()`` and fails
there."""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing
from collections.abc import Callable, Iterator

import proplab
from proplab.trace_compare import Comparison


def _public_callables() -> Iterator[tuple[str, Callable]]:
    """Each function in ``proplab.__all__``; each class's ``__init__``, public methods and
    properties (their getters)."""
    for name in proplab.__all__:
        obj = getattr(proplab, name)
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                if isinstance(value, staticmethod | classmethod):
                    value = value.__func__
                if isinstance(value, property):
                    value = value.fget
                if inspect.isfunction(value):
                    yield f"{name}.{attr}", value


def test_every_public_signatures_hints_resolve() -> None:
    names, unresolved = [], []
    for name, function in _public_callables():
        names.append(name)
        try:
            typing.get_type_hints(function)
        except NameError as exc:  # a hint imported only for the type checker
            unresolved.append(f"{name}: {exc}")
    assert unresolved == []
    # the walk saw the API, not an empty list: functions, methods, properties
    assert {"fit", "Linear.__init__", "StepTrace.compare", "StepTrace.text"} <= set(names)
    assert len(names) > 100


def test_step_trace_compare_returns_the_comparison_class() -> None:
    hints = typing.get_type_hints(proplab.StepTrace.compare)
    assert hints["return"] is Comparison
    assert inspect.signature(proplab.StepTrace.compare, eval_str=True).return_annotation is (
        Comparison
    )


def test_the_trace_modules_import_in_either_order_without_a_cycle() -> None:
    # trace.py names Comparison at load; trace_compare.py imports trace.py: each must
    # import first in a fresh interpreter, and trace.py must not pull in trace_compare
    for first, second in [
        ("proplab.trace", "proplab.trace_compare"),
        ("proplab.trace_compare", "proplab.trace"),
    ]:
        code = (
            f"import sys, importlib; importlib.import_module({first!r}); "
            f"print({'proplab.trace_compare'!r} in sys.modules); importlib.import_module({second!r})"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        assert out.strip() == str(first == "proplab.trace_compare")
