"""What :func:`proplab.trace_compare.compare` returns: one :class:`Row` per array, in a
:class:`Comparison`.

Data only, apart from the comparison itself: :meth:`proplab.StepTrace.compare` names
:class:`Comparison` as its return type, and this module imports nothing of the trace, so
``trace.py`` imports it at load (its hints resolve, ``typing.get_type_hints`` works)
without a cycle through ``trace_compare.py``, which imports ``trace.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Row:
    """One of your arrays against proplab's: ``error`` is the largest difference relative
    to the larger array's largest entry (0 for equal, inf for another shape), ``note``
    what a wrong one looks like (``""`` when none of the usual slips fits)."""

    name: str
    error: float
    ok: bool
    note: str = ""


@dataclass
class Comparison:
    """Every array compared, in calculation order. ``ok``: all within the tolerance;
    ``first_wrong``: the earliest that is not (None when all are)."""

    rows: list[Row] = field(default_factory=list)
    tolerance: float = 1e-7

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def first_wrong(self) -> Row | None:
        return next((r for r in self.rows if not r.ok), None)

    def text(self) -> str:
        """One line per array, then a verdict naming the first wrong one."""
        width = max(len(r.name) for r in self.rows)
        lines = []
        for r in self.rows:
            verdict = "ok" if r.ok else "WRONG"
            error = "shape" if math.isinf(r.error) else f"{r.error:.1e}"
            lines.append(
                f"{r.name.ljust(width)}  {verdict:5}  {error:>7}"
                + (f"  {r.note}" if r.note else "")
            )
        first = self.first_wrong
        if first is None:
            lines.append(
                f"all {len(self.rows)} arrays match proplab's (relative error <= {self.tolerance:g})"
            )
        else:
            wrong = sum(not r.ok for r in self.rows)
            lines.append(
                f"first wrong: {first.name} ({wrong} of {len(self.rows)} differ); the arrays "
                "compared before it are right, so look at how your code computes it from them"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()
