"""Small argument checks used all over proplab: a whole number, a misspelt name, a bad
value named without printing a whole array."""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable

import numpy as np


def is_whole(value: object, low: int | None = None) -> bool:
    """Whether ``value`` is a whole number (``>= low`` if given): ``3`` and ``3.0`` are,
    bools, text, None, NaN, inf and fractions are not. Never raises: ``int()`` of inf or
    NaN raises OverflowError or ValueError, which a check must not let escape as such."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
        return False
    try:
        # mypy's stubs type neither int() of a numbers.Real nor comparing one (the ABCs
        # are not typed as numbers); both work for every Real that gets here
        return int(value) == value and (low is None or value >= low)  # type: ignore[call-overload, operator]
    except (OverflowError, ValueError):  # inf, nan
        return False


def check_int(value: object, label: str, low: int = 1) -> int:
    """``value`` as an int if it is a whole number >= ``low``, else a ValueError naming it.

    ``label`` names the argument in the message (e.g. ``"Linear in_features"``).
    Whole floats such as ``2.0`` pass; bools, strings, None, NaN, inf and
    fractions do not.
    """
    if not is_whole(value, low):
        kind = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise ValueError(f"{label} must be {kind}, got {short_repr(value)}")
    return int(value)  # type: ignore[call-overload]


def check_bool(value: object, label: str) -> bool:
    """``value`` as a bool if it is ``True`` or ``False`` (or NumPy's), else a TypeError
    naming it: a yes/no option given ``"False"`` (truthy) or ``None`` would silently mean
    the wrong thing. ``label`` names the option, e.g. ``"Adam amsgrad"``."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{label} must be True or False, got {short_repr(value)}")
    return bool(value)


def did_you_mean(name: object, choices: Iterable[str]) -> str:
    """``"; did you mean 'epochs'?"`` for the accepted name nearest a misspelt one (as
    difflib judges close), or ``""``: the end of an "unknown name" error message."""
    key = str(name).strip().lower()
    names = [str(c) for c in choices]
    close = difflib.get_close_matches(key, names, n=1)
    if not close:
        # an accepted name with a part added after a separator: the handout's XOR_easy
        # (generate_XOR_easy) is 'xor' (persona22 L5); the longest such name
        dashed = key.replace("_", "-")
        starts = [c for c in names if dashed.startswith(c.lower().replace("_", "-") + "-")]
        close = sorted(starts, key=len, reverse=True)[:1]
    return f"; did you mean {close[0]!r}?" if close else ""


def short_repr(value: object, limit: int = 80) -> str:
    """``repr(value)`` cut to about ``limit`` characters: an error message naming a bad
    value should not print a whole weight matrix passed by mistake."""
    text = " ".join(repr(value).split())  # an array's repr spans lines
    if len(text) <= limit:
        return text
    shape = f" (shape {value.shape})" if isinstance(value, np.ndarray) else ""
    return f"{text[:limit].rstrip()} ...{shape}"
