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
    what a wrong one looks like (``""`` when none of the usual slips fits); ``flipped``:
    it is proplab's array with every sign flipped (an array of zeros is both)."""

    name: str
    error: float
    ok: bool
    note: str = ""
    flipped: bool = False


@dataclass
class Comparison:
    """Every array compared, in calculation order. ``ok``: all within the tolerance;
    ``first_wrong``: the earliest that is not (None when all are); ``sign_convention``:
    the only differences are gradients of the other sign, with the updates right.
    ``tolerance``: the one used; ``precision``: ``"float32"`` (or ``"float16"``) when it
    was chosen for that float's rounding, else ``""``."""

    rows: list[Row] = field(default_factory=list)
    tolerance: float = 1e-7
    precision: str = ""

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def first_wrong(self) -> Row | None:
        return next((r for r in self.rows if not r.ok), None)

    @property
    def sign_convention(self) -> bool:
        """Every gradient compared is proplab's with every sign flipped (at least one not
        zero), every other array matches, and updated weights were among them: the descent-direction convention (dL/dp as
        2 (t - p) / N, ``W += lr dW``), a correct step written with the other sign (ta23
        M3: 12 WRONG rows and "first wrong: dL/dp" for a correct submission)."""
        gradients = [r for r in self.rows if r.name.startswith("dL/d")]
        others = [r for r in self.rows if not r.name.startswith("dL/d")]
        return (
            any(not r.ok for r in gradients)
            # every gradient, not some: one flipped dL/dz2 below a right dL/dp is a slip
            and all(r.flipped for r in gradients)
            and all(r.ok for r in others)
            and any(r.name.endswith(" new") for r in others)
        )

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
        rounding = (
            f": your arrays are {self.precision}, whose rounding reaches this"
            if self.precision
            else ""
        )
        if first is None:
            lines.append(
                f"all {len(self.rows)} arrays match proplab's (relative error <= "
                f"{self.tolerance:.2g}{rounding})"
            )
        elif self.sign_convention:
            wrong = sum(not r.ok for r in self.rows)
            updates = sum(r.name.endswith(" new") for r in self.rows)
            lines.append(
                f"{wrong} gradients are proplab's with every sign flipped, and the {updates} "
                "updated arrays match: your gradients are -dL/d..., the descent direction "
                "(t - p where proplab has p - t), and your update adds them (W + lr dW): a "
                "sign convention, not a slip"
            )
        else:
            wrong = sum(not r.ok for r in self.rows)
            lines.append(
                f"first wrong: {first.name} ({wrong} of {len(self.rows)} differ); the arrays "
                "compared before it are right, so look at how your code computes it from them"
                + (f" (tolerance {self.tolerance:.2g}{rounding})" if self.precision else "")
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()
