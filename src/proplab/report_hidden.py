"""The report's hidden-units answer: what the width of the hidden layers changed, measured.

Split from :mod:`proplab.report_answers` (which asks it as its fourth question, when
the sweep varies the width alone). As there, the explanation is fixed and everything
around it is chosen and filled from the measured groups: which widths leave a seed on
a plateau, which reach 100 % and how soon, and on which datasets the width changed
nothing.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from proplab.aggregate import Stats, clearly_below
from proplab.report_data import (
    ACC_NOISE,
    MOVING,
    PERFECT,
    R2_NOISE,
    GroupView,
    RunView,
    best_line_hits,
    dataset_name,
)
from proplab.report_text import acc_text, bounce_short, epochs_text, listing, pct

if TYPE_CHECKING:  # report_answers imports this module
    from proplab.report_answers import Finder

QUESTION = "What does the number of hidden units change?"
PLATEAU_FACTOR = 1.25  # a plateau: the loss stays within this factor of itself ...
PLATEAU_SHARE = 0.1  # ... over at least this share of the run's epochs, short of 100 %
BEST_LINE_POINTS = 200  # the exact best line is O(n^3 log n): only for small datasets
# "k points predicted fully wrong": the final loss within 10 % of k / n (an MSE over n points)
FULLY_WRONG = 0.1


def plateau(run: RunView) -> tuple[int, int, float] | None:
    """``(first, last, loss)``: the longest stretch of epochs (1-based, inclusive) over which
    ``run``'s loss stays within PLATEAU_FACTOR of itself while its accuracy is below 100 %,
    and the loss where it starts; None when no such stretch lasts PLATEAU_SHARE of the run.

    A loss falling slowly but steadily after every point is right is no plateau (its
    accuracy is 100 %); one stuck at 0.054 for 15,000 epochs with a point wrong is.
    """
    loss = np.asarray(run.loss, dtype=np.float64)
    wrong = np.asarray(run.accuracy) < PERFECT
    n = min(loss.size, wrong.size)
    best = (0, 0)
    start = 0
    top: deque[int] = deque()  # indices of the window's maxima, then minima, in order
    low: deque[int] = deque()
    for k in range(n):
        if not (wrong[k] and math.isfinite(loss[k]) and loss[k] > 0):
            top.clear()
            low.clear()
            start = k + 1
            continue
        while top and loss[top[-1]] <= loss[k]:
            top.pop()
        top.append(k)
        while low and loss[low[-1]] >= loss[k]:
            low.pop()
        low.append(k)
        while loss[top[0]] > PLATEAU_FACTOR * loss[low[0]]:
            start += 1
            if top[0] < start:
                top.popleft()
            if low[0] < start:
                low.popleft()
        if k - start > best[1] - best[0]:
            best = (start, k)
    first, last = best
    if last - first + 1 < PLATEAU_SHARE * n or n == 0:
        return None
    return first + 1, last + 1, float(loss[first])


def _width_family(f: Finder, ds: str) -> list[GroupView]:
    """The groups on ``ds`` that differ from the base in their hidden widths alone (and the
    base itself), narrowest first; [] when fewer than two widths."""
    gs = [g for g in f.groups if g.dataset == ds and set(f.diff(g)) <= {"hidden"}]
    by_width: dict[tuple[int, ...], GroupView] = {}
    for g in gs:
        by_width.setdefault(tuple(g.config.hidden_sizes), g)
    if len(by_width) < 2:
        return []
    return [by_width[k] for k in sorted(by_width, key=lambda w: (sum(w), w))]


def width_name(g: GroupView) -> str:
    """``'hidden 4'`` (every hidden layer 4 wide) or ``'hidden 8-4'``."""
    sizes = g.config.hidden_sizes
    return f"hidden {sizes[0] if len(set(sizes)) == 1 else '-'.join(map(str, sizes))}"


def hidden_answer(f: Finder) -> list[str] | None:
    """The paragraphs answering QUESTION, or None when the sweep has no two widths to compare."""
    families = {ds: fam for ds in f.datasets() if (fam := _width_family(f, ds))}
    if not families:
        return None
    paras = [
        "Each unit of the first hidden layer splits the inputs along one straight line (where "
        "its w·x + b is 0) into a soft half-plane; the layers after it combine those "
        "half-planes. The width sets how many of them there are to combine: with few, gradient "
        "descent must place each one right, with no spare to take over a badly placed one."
    ]
    for ds in sorted(families, key=lambda d: d != "xor"):
        paras.append(_dataset_text(ds, families[ds]))
    return paras


def _line_note(g: GroupView) -> str:
    """``' (no straight line separates it: the best classifies 16 of its 21 points)'``, or
    that one does; '' for data too large to check or with no two inputs and one output."""
    from proplab.report_data import training_data

    x, y = training_data(g.config)
    if g.regression or x.ndim != 2 or x.shape[1] != 2 or len(x) > BEST_LINE_POINTS:
        return ""
    if y.ndim != 1 and y.shape[-1] != 1:
        return ""
    hits = best_line_hits(x, y)
    if hits == len(x):
        return "one straight line separates it"
    return f"no straight line separates it: the best classifies {hits} of its {len(x)} points"


def _dataset_text(ds: str, gs: list[GroupView]) -> str:
    """What the widths ``gs`` (narrowest first) did on ``ds``, in one paragraph."""
    name = dataset_name(ds)
    scores = ", ".join(f"{width_name(g)} {acc_text(g)}" for g in gs)
    means = [g.score().mean for g in gs if g.score().n]
    line = _line_note(gs[0])
    if gs[0].regression or not means:
        return f"On {name}: {scores}.{_widest_text(gs)}"
    if len({pct(m) for m in means}) == 1:  # every width at the same shown mean
        text = f"On {name} the width changes nothing: {scores}."
        if line.startswith("one"):
            text += f" {line[0].upper()}{line[1:]}, and even {width_name(gs[0])} can draw it."
        return text
    text = f"On {name} ({line}): {scores}." if line else f"On {name}: {scores}."
    stuck: list[tuple[str, int, str]] = []  # (seed, plateau's first epoch, what it ends at)
    left: list[str] = []
    stuck_widths: list[GroupView] = []
    creeping: list[str] = []  # short of 100 % in a flat band, but the loss still falling
    for g in gs:
        for r in g.runs:
            if r.record.diverged or r.oscillating:
                continue
            p = plateau(r)
            if p is None:
                continue
            first, last, level = p
            seed = f"{width_name(g)} seed {r.record.seed}"
            if r.record.final_accuracy < PERFECT and last >= r.loss.size - 1:
                if r.tail_trend < -MOVING:
                    # within the band from the start, yet falling by over 5 % at the end: a
                    # slow learner in a short run, not stuck (ta23 H1, claims23 M3)
                    creeping.append(
                        f"{seed} (at {pct(r.record.final_accuracy)}, its loss down "
                        f"{100 * -r.tail_trend:.2g} % over the last 10 % of epochs)"
                    )
                    continue
                stuck_widths += [g] if g not in stuck_widths else []
                ends = (
                    f"{pct(r.record.final_accuracy)}, the loss within {PLATEAU_FACTOR:g}x of "
                    f"{level:.2g}{_points_wrong(r)}"
                )
                stuck.append((seed, first, ends))
            elif r.perfect_from is not None and _after_start(r, first, level):
                left.append(
                    f"{seed} at {level:.2g} for {last - first + 1:,} epochs (to epoch {last:,}; "
                    f"100 % from {r.perfect_from:,})"
                )
    if stuck:
        seeds = [f"{seed} (from epoch {first:,})" for seed, first, _ in stuck]
        endings = {e for _, _, e in stuck}
        if len(endings) == 1:  # the same plateau: said once
            text += f" Stuck on a plateau to the end: {listing(seeds)}, at {endings.pop()}."
        else:
            text += (
                " Stuck on a plateau to the end: "
                + listing([f"{s}, at {e}" for s, (_, _, e) in zip(seeds, stuck, strict=True)])
                + "."
            )
    if creeping:
        text += f" Short of 100 % but not stuck, the loss still falling: {listing(creeping)}."
    if left:
        text += f" On a plateau for a while, then off it: {listing(left)}."
    if stuck and widest_clear(gs, stuck_widths):
        wider = [width_name(g) for g in gs[gs.index(stuck_widths[-1]) + 1 :]]
        text += f" No seed of {' or '.join(wider)} ends on one."
    text += _widest_text(gs)
    text += _speed_text(gs)
    return text


def _widest_text(gs: list[GroupView]) -> str:
    """``' The widest is clearly worse: hidden 128 ends at 81.0 ± 3.6 % against 99.7 ±
    0.6 % for hidden 4, and oscillates at the end in 3/3 seeds (...)'`` when the widest of
    ``gs`` (narrowest first) ends :func:`~proplab.aggregate.clearly_below` the best width
    (claims23 M3: the answer's "no spare to take over" reads as wider = better); ''
    otherwise."""
    wide = gs[-1]
    scored = [g for g in gs if g.score().n]
    if not wide.score().n or len(scored) < 2:
        return ""
    best = max(scored, key=lambda g: g.score().mean)
    floor = R2_NOISE if wide.regression else ACC_NOISE
    if best is wide or not clearly_below(wide.score(), best.score(), floor):
        return ""
    text = (
        f" The widest is clearly worse: {width_name(wide)} ends at {acc_text(wide)} against "
        f"{acc_text(best)} for {width_name(best)}"
    )
    if wide.oscillating:
        k = len(wide.oscillating_runs)
        seeds = f"seed {wide.oscillating_runs[0].record.seed}" if k == 1 else f"{k}/{wide.n} seeds"
        text += f", and oscillates at the end in {seeds}"
        if not wide.regression:
            text += f" ({bounce_short(wide)} over the last 10 % of epochs)"
    return text + "."


def _after_start(r: RunView, first: int, level: float) -> bool:
    """Whether a plateau is one the run reached by learning (a partial fit), not the one it
    starts on: it begins after the first 1 % of epochs, below 90 % of the first loss."""
    return first > 0.01 * r.loss.size and level < 0.9 * float(r.loss[0])


def widest_clear(gs: list[GroupView], stuck: list[GroupView]) -> bool:
    """Whether the seeds left on a plateau are all of the narrower widths: every width
    wider than the widest of ``stuck`` ends at 100 % in every seed."""
    wider = gs[max(gs.index(g) for g in stuck) + 1 :]
    return bool(wider) and all(g.all_perfect for g in wider)


def _points_wrong(r: RunView) -> str:
    """``', about 1/21 = 0.048: one point predicted fully wrong, the rest right'`` when the
    run's final loss is what its wrong points cost at an error of about 1 each (an MSE over
    n points, within FULLY_WRONG of wrong / n), else ``', 30 of 100 points wrong'``.

    With sigmoid outputs every error is at most 1, so a final loss that close to wrong / n
    leaves the wrong points' squared errors near 1 on average; a model hedging near 0.5
    gets as many points wrong at a far lower loss (claims23 H5: circle hidden 1, 30 points
    wrong at a loss of 0.19, none with an error over 0.9). '' for a held-out run or none wrong.
    """
    n = r.record.n_samples
    acc = r.record.final_accuracy
    if n <= 0 or r.record.n_test:  # the accuracy of a held-out run is not on n points
        return ""
    wrong = round((1.0 - acc) * n)
    if wrong < 1:
        return ""
    cfg = r.record.config
    bounded = cfg.loss == "mse" and cfg.output_activation == "sigmoid"
    if not bounded or abs(r.record.final_loss * n / wrong - 1.0) > FULLY_WRONG:
        return f", {wrong} of {n} points wrong"
    points = "one point" if wrong == 1 else f"{wrong} points"
    return f", about {wrong}/{n} = {wrong / n:.2g}: {points} predicted fully wrong, the rest right"


def _speed_text(gs: list[GroupView]) -> str:
    """Which widths reach 100 % and how soon (median over the seeds that do), and whether
    the widest was the fastest: "takes longer" only when the seeds' spread does not explain
    the gap (:func:`~proplab.aggregate.clearly_below`); '' when fewer than two widths reach
    100 %."""
    reach = [g for g in gs if math.isfinite(g.median_perfect_from)]
    if len(reach) < 2:
        return ""
    parts = [f"{epochs_text(g.median_perfect_from)} for {width_name(g)}" for g in reach]
    # one seed each: no median, and no spread to weigh a gap against (claims23 M5)
    lone = all(g.n == 1 for g in reach)
    if lone:
        lead = "Epochs to 100 % for good, one seed each"
    else:
        lead = "Median epochs to 100 % for good, over the seeds that get there"
    text = f" {lead}: {listing(parts)}."
    # against the fastest width that reaches 100 % in every seed, when two do: a width
    # whose median counts only its lucky seeds is no fair rival
    sure = [g for g in reach if g.perfect_for_good]
    wide = reach[-1]
    fastest = min(sure if len(sure) > 1 else reach, key=lambda g: g.median_perfect_from)
    if fastest is not wide and fastest.median_perfect_from < wide.median_perfect_from:
        if not clearly_below(
            Stats.of(fastest.perfect_epochs), Stats.of(wide.perfect_epochs), floor=0.0
        ):
            # a later median the seeds' spread explains: no claim either way
            return text + (
                f" More units are not faster here, nor clearly slower: {width_name(wide)}'s "
                f"median is later than {width_name(fastest)}'s by less than the spread over "
                "seeds."
            )
        text += (
            f" More units are not faster here: {width_name(wide)} takes longer than "
            f"{width_name(fastest)}"
        )
        slow, quick = _median_halving(wide), _median_halving(fastest)
        if math.isfinite(slow) and math.isfinite(quick) and slow > quick:
            median = "epoch" if lone else "a median epoch"
            text += (
                f", and its loss takes until {median} {epochs_text(slow)} to "
                f"fall to half its start, against {epochs_text(quick)}"
            )
        text += " (in one seed each: the spread over seeds is unknown)." if lone else "."
    return text


def _median_halving(g: GroupView) -> float:
    """The median over seeds of the first epoch (1-based) at which the loss is below half
    its first epoch's (NaN when no seed gets there)."""
    at = []
    for r in g.runs:
        loss = np.asarray(r.loss, dtype=np.float64)
        below = np.flatnonzero(loss < 0.5 * loss[0]) if loss.size else np.array([])
        if below.size:
            at.append(int(below[0]) + 1)
    return float(np.median(at)) if at else math.nan
