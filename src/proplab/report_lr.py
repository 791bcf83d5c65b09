"""The report's answer on the learning rate: what a too high or too low rate did, measured
from the sweep's rate families (diverged, overshooting, flipping, still falling, too slow).

Split from :mod:`proplab.report_answers`, which asks the lab's questions in order and
calls :func:`lr_answer` for this one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from proplab.aggregate import Stats, clearly_below
from proplab.config import RunConfig, is_mini_batch
from proplab.report_data import (
    ACC_NOISE,
    MOVING,
    R2_NOISE,
    GroupView,
    RunView,
    dataset_name,
    training_data,
)
from proplab.report_text import (
    NEAR_MEAN,
    acc_text,
    against_mean,
    best_of,
    bounce_text,
    epochs_text,
    in_seeds,
    listing,
    loss_text,
    not_clearly,
    pct,
    r2_value,
    seeds,
    shown_score,
)
from proplab.sweep_spec import format_value

if TYPE_CHECKING:  # report_answers imports this module
    from proplab.report_answers import Finder


# a loss that changed by less than this over a whole run has barely moved
BARELY_MOVED = 0.1


def _lr_family(f: Finder, ds: str) -> list[GroupView]:
    """The groups on ``ds`` that differ only in their learning rate (lowest rate first):
    those that differ from the file's base in ``lr`` alone, else the largest set of
    groups whose configurations are the same but for ``lr`` (an lr axis under an
    experiment's own base, such as ``base.optimizer = "sgd"``); [] when there is none."""
    base: dict[float, GroupView] = {}
    families: dict[str, dict[float, GroupView]] = {}
    for g in f.groups:
        if g.dataset != ds:
            continue
        if set(f.diff(g)) <= {"lr"}:
            base.setdefault(g.config.lr, g)
        families.setdefault(_sans_lr(g), {}).setdefault(g.config.lr, g)
    if len(base) > 1:
        return [base[k] for k in sorted(base)]
    # the first family with the most rates (max keeps the first of equals)
    rates = max(families.values(), key=len, default={})
    return [rates[k] for k in sorted(rates)] if len(rates) > 1 else []


def _sans_lr(g: GroupView) -> str:
    """``g``'s configuration but for its rate and seed: equal for groups that differ in
    ``lr`` only."""
    cfg = g.config.to_dict()
    return repr(sorted((k, repr(v)) for k, v in cfg.items() if k not in ("seed", "lr")))


def _family_note(f: Finder, gs: list[GroupView], name: str) -> str | None:
    """What the rates ``gs`` on ``name`` share that the file's base does not (None when
    they differ from it in ``lr`` only): they are compared under that setting."""
    ref = f.reference(gs[0])
    own = {k: v for k, v in f.diff(gs[0]).items() if k != "lr"}
    if not own:
        return None
    changed = listing(
        [f"{k} {format_value(v)} (the base: {format_value(ref[k])})" for k, v in own.items()]
    )
    # the experiment that ran every one of these rates (another may share one of them)
    rates, key = {g.config.lr for g in gs}, _sans_lr(gs[0])
    ran: dict[int, set[float]] = {}
    for g in f.groups:
        exp = f.experiment_of.get(id(g))
        if exp is not None and g.dataset == gs[0].dataset and _sans_lr(g) == key:
            ran.setdefault(id(exp), set()).add(g.config.lr)
    exp = next(
        (f.experiment_of[id(g)] for g in f.groups if ran.get(id(f.experiment_of[id(g)])) == rates),
        None,
    )
    where = f' in the experiment "{exp.title or exp.name}"' if exp is not None else ""
    return (
        f"The rates on {name} are compared{where}, where every run has {changed}; "
        "everything else is the same."
    )


def _other_families_note(f: Finder, gs: list[GroupView], ds: str) -> str | None:
    """One sentence on the other settings of ``ds`` whose rate was varied too (besides the
    family ``gs`` the answer measures): which rates diverged under each; None if none."""
    key = _sans_lr(gs[0])
    families: dict[str, list[GroupView]] = {}
    for g in f.groups:
        if g.dataset == ds and _sans_lr(g) != key:
            families.setdefault(_sans_lr(g), []).append(g)
    parts = []
    for family in families.values():
        if len({g.config.lr for g in family}) < 2:
            continue
        family.sort(key=lambda g: g.config.lr)
        own = [f"{k} {format_value(v)}" for k, v in f.diff(family[0]).items() if k != "lr"]
        gone = [g for g in family if g.n_diverged]
        rates = listing([f"lr {format_value(g.config.lr)}" for g in gone])
        what = (
            f"{rates} {'diverges' if len(gone) == 1 else 'diverge'} in some seed"
            if gone
            else "no rate diverges"
        )
        parts.append(f"with {listing(own)}, {what}")
    if not parts:
        return None
    return f"The rate was also varied under other settings: {'; '.join(parts)}."


def lr_answer(f: Finder) -> list[str]:
    """The paragraphs answering "What does a too high or too low learning rate do?": the
    fixed explanation, then what each dataset's rate family shows."""
    paras = [
        "Each step moves the weights by the learning rate times the gradient. Too large, and "
        "a step overshoots the valley it aims for; too small, and the weights barely move."
    ]
    by_ds = {ds: gs for ds in f.datasets() if (gs := _lr_family(f, ds))}
    if not by_ds:
        paras.append("This sweep has no learning-rate comparison to measure it.")
        return paras
    # a regression has no accuracy, no class to get stuck in: its rates are told by R²
    classes = [ds for ds, gs in by_ds.items() if not gs[0].regression]
    values = [ds for ds, gs in by_ds.items() if gs[0].regression]
    classes.sort(key=lambda d: d != "xor")  # the lab's XOR first: it shows the most
    for i, ds in enumerate(classes + values):
        gs, name = by_ds[ds], dataset_name(ds)
        note = _family_note(f, gs, name)
        if ds in classes:
            # the first dataset in full; the others briefly, in one paragraph each
            found = _lr_classes(f, gs, name, brief=i > 0)
        else:
            # the scale of R² is explained once, for the first regression set
            found = _lr_values(gs, name, intro=ds == values[0])
        others = _other_families_note(f, gs, ds)
        if others is not None:
            # the rates of other settings were varied too: say which ones this answer
            # measures, and what the others did (diverge18: 12 relu runs diverged unsaid)
            if note is None:
                note = f"The rates on {name} compared here have every other setting as in the base."
            found = [*found, others]
        if note is not None:
            found = [note, *found]
        # a paragraph per effect, each dataset's together (report21 L2: a further dataset's
        # were one run-on paragraph after the first's "In between")
        paras += found
    return paras


def _oscillating_seeds(f: Finder, gs: list[GroupView]) -> Iterator[tuple[str, RunView]]:
    """Each seed still oscillating at the end, of the rates that did not diverge, highest
    rate first, with its rate as the answers name it ("lr 1 (the lab's)")."""
    for g in reversed(gs):
        if g.n_diverged:
            continue
        lab = " (the lab's)" if g.config.lr == f.base["lr"] == RunConfig().lr else ""
        for r in g.oscillating_runs:
            yield f"lr {format_value(g.config.lr)}{lab}", r


def _overshoot_text(f: Finder, gs: list[GroupView], name: str) -> str:
    """The overshoot as measured: the rates (highest first) with a seed whose loss still
    goes up and down at the end, and how ("" when none does; report21 H1). A seed whose
    accuracy alone swings while its loss falls did not overshoot: it is told apart by
    :func:`_flipping_text` (persona22 H1)."""
    parts = []
    for rate, r in _oscillating_seeds(f, gs):
        if not r.loss_bounces:
            continue
        text = f"at {rate} in seed {r.record.seed}, {bounce_text(r)}"
        if r.cycle_from is not None and r.loss.size >= 2:
            lo, hi = sorted(float(v) for v in r.loss[-2:])
            text += f", the loss alternating between {lo:.3g} and {hi:.3g} at the end"
        parts.append(text)
    flipping = _flipping_text(f, gs, name)
    if not parts:
        return flipping
    bouncing = [r for _, r in _oscillating_seeds(f, gs) if r.loss_bounces]
    # "on alternate epochs" only where every one is a period-2 cycle (claims23 M2: a loss
    # rising on 27 % of the last epochs was said to go up on alternate ones)
    how = (
        "goes up on alternate epochs"
        if all(r.cycle_from is not None for r in bouncing)
        else "goes up and down"
    )
    text = (
        f"Overshooting, measured on {name}: {'; '.join(parts)}. There the step is too long "
        "for the valley's curvature: it lands on the far side, higher than it started, and "
        f"the next one jumps back, so the loss {how} instead of settling"
    )
    text += _other_seeds_text([g for g in gs if not g.n_diverged])
    return f"{text} {flipping}" if flipping else text


# a loss that fell by more than this over the last 10 % of epochs still descends
DESCENDING = 0.01


def _other_seeds_text(gs: list[GroupView]) -> str:
    """What the seeds that do not bounce do, at the rates where some seed's loss bounces
    (the end of the overshoot's sentence): " (the other seeds, at the same rate, still
    descend)." when each of them still falls, else each rate's named ("seeds 0 and 1 of lr
    100 do not descend: every output is saturated ..."; claims23 M2), "." when
    every seed bounces."""
    said, down_only = [], True
    for g in reversed(gs):
        if not any(r.loss_bounces for r in g.runs):
            continue
        rest = [r for r in g.runs if not r.loss_bounces]
        if not rest:
            continue
        rate = f"lr {format_value(g.config.lr)}"
        down = [r for r in rest if r.tail_trend < -DESCENDING]
        if down:
            verb = "still descends" if len(down) == 1 else "still descend"
            said.append(f"{_seed_names(down)} of {rate} {verb}")
        for saturated in (True, False):
            still = [r for r in rest if r not in down and r.saturated == saturated]
            if not still:
                continue
            down_only = False
            end = float(np.median([r.record.final_loss for r in still]))
            trend = float(np.median([r.tail_trend for r in still]))
            if saturated:
                what = f"every output is saturated and the loss flat at {end:.3g}"
            elif trend > DESCENDING:
                what = f"their loss rises ({_signed(trend)} % over the last 10 % of epochs)"
            else:
                what = f"their loss is flat ({_signed(trend)} % over the last 10 % of epochs)"
            said.append(
                f"{_seed_names(still)} of {rate} {'does' if len(still) == 1 else 'do'} not descend: {what}"
            )
    if not said:
        return "."
    if down_only:
        return " (the other seeds, at the same rate, still descend)."
    return f". Of the other seeds, {'; '.join(said)}."


def _seed_names(runs: list[RunView]) -> str:
    """``'seed 2'``, ``'seeds 0 and 1'``."""
    ids = [str(r.record.seed) for r in runs]
    return f"seed{'s' if len(ids) > 1 else ''} {listing(ids)}"


def _signed(change: float) -> str:
    """A relative change in percent with its sign: ``'-0.0'``, ``'+3.1'``."""
    return f"{100 * change:+.2g}" if abs(change) < 0.1 else f"{100 * change:+.0f}"


def _flipping_text(f: Finder, gs: list[GroupView], name: str) -> str:
    """The seeds whose accuracy swings at the end while their loss falls over the same
    epochs, said as what they are: points near the decision boundary crossing it as it
    moves, not a step too long (persona22 H1: lr 0.01 on linear was called overshooting,
    its loss falling on every one of those epochs). "" when there is none."""
    parts = []
    for rate, r in _oscillating_seeds(f, gs):
        lo, hi = r.tail_accuracy_range
        if r.loss_bounces or not r.tail_trend < 0 or not lo < hi:
            continue  # a loss that did not fall over them is left to the bullets
        window = r.tail_loss
        # literal: two equal losses in a row are a step on which it did not fall
        how = "falls on every one of them" if np.all(np.diff(window) < 0) else "still falls"
        parts.append(
            f"at {rate} in seed {r.record.seed}, the accuracy swings between {pct(lo)} and "
            f"{pct(hi)} over the last 10 % of epochs while the loss {how}, from "
            f"{window[0]:.6g} to {window[-1]:.6g}"
        )
    if not parts:
        return ""
    return (
        f"Not overshooting, on {name}: {'; '.join(parts)}. A few points sit near the "
        "decision boundary, and as the weights keep moving they cross it back and forth: "
        "the loss, taken over every point, still goes down."
    )


def _diverged_text(gs: list[GroupView], name: str) -> str:
    """Every rate of ``gs`` that diverged in some seed, with its seed count (rates with the
    same count together: "lr 100 and lr 1000 in every seed"), and when the runs diverged."""
    gone = [g for g in gs if g.n_diverged]
    chunks: list[tuple[list[str], str]] = []  # (rates, "in k/n seeds"), in rate order
    for g in gone:
        count = in_seeds([g]) if g.n_diverged == g.n else f"in {seeds(g.n_diverged, g.n)}"
        rate = f"lr {format_value(g.config.lr)}"
        if chunks and chunks[-1][1] == count:
            chunks[-1][0].append(rate)
        else:
            chunks.append(([rate], count))
    where = listing([f"{listing(rates)} {count}" for rates, count in chunks])
    ends = [r.record.epochs for g in gone for r in g.runs if r.record.diverged]
    over = " (median over those runs)" if len(ends) > 1 else ""  # one run: its own epoch
    when = f", at epoch {int(np.median(ends)):,}{over}" if ends else ""
    return (
        f"Too high, measured: the loss diverges (it becomes inf or NaN) at {where} on {name}{when}."
    )


def _updates_per_epoch(g: GroupView) -> int:
    """How many weight updates one epoch of ``g``'s runs makes: 1 for full batch, else
    its mini-batches over the training samples (the last one may be smaller)."""
    cfg, rec = g.config, g.runs[0].record
    if cfg.batch_size is None:
        return 1
    x, _ = training_data(cfg)
    n_train = len(x) - rec.n_test
    return math.ceil(n_train / cfg.batch_size) if is_mini_batch(cfg, n_train) else 1


def _first_epochs_text(g: GroupView, first: float, second: float) -> str:
    """The loss's first two history rows, said as what they are: the loss before and after
    one update (full batch), or the means over an epoch's mini-batch updates."""
    updates = _updates_per_epoch(g)
    if updates == 1:
        return f"after a single update the loss jumps from {first:.3f} to {second:.3f}"
    # history.csv's row of a mini-batch epoch is the mean of its batches' losses, taken
    # while its updates happen: no row is the loss at the initial weights
    return (
        f"the mean loss over the first epoch ({updates} mini-batch updates) is {first:.3f} "
        f"and over the second {second:.3f}"
    )


def _lr_classes(f: Finder, gs: list[GroupView], name: str, brief: bool = False) -> list[str]:
    """The learning-rate answer from a classification's rates ``gs`` (lowest first);
    ``brief``: what was too high and too low only (a further dataset of the sweep)."""
    paras: list[str] = []
    high, low = gs[-1], gs[0]
    lr = format_value
    if high.n_diverged:
        paras.append(_diverged_text(gs, name))
    elif high.n_single and any(r.saturated for r in high.runs):
        n_sat = sum(r.saturated and r.single_class for r in high.runs)
        starts = [r.loss[:2] for r in high.runs if r.loss.size >= 2]
        first, second = (float(np.median([a[i] for a in starts])) for i in (0, 1))
        jump = (
            f"{_first_epochs_text(high, first, second)}"
            f"{' (median over seeds)' if len(starts) > 1 else ''} and the "
            "sigmoids saturate"
            if starts and second > first
            else "the sigmoids saturate"
        )
        paras.append(
            f"Too high, measured: at lr {lr(high.config.lr)} on {name}, {jump}. In "
            f"{seeds(n_sat, high.n) if high.n > 1 else 'its one seed'} every output ends within 0.001 of 0 or 1 and every point "
            f"gets the same class ({acc_text(high)}, final loss {loss_text(high)}); "
            + (
                "with the sigmoids flat, the gradient vanishes and training never recovers."
                if brief
                else "where the sigmoid is flat its slope s(1 − s) is about 0, so the gradient "
                "vanishes and training never recovers."
            )
        )
    else:
        # low accuracy alone is no sign of a too high rate: a rate that ends below 90 %
        # while every lower one ends lower still is undertrained, not past the valley
        paras.append(_too_high_compared(high, gs[:-1], name))
    overshoot = _overshoot_text(f, gs, name)
    if overshoot:
        paras.append(overshoot)
    perfect = [g for g in gs if g.perfect_for_good]
    if perfect and not brief:
        fast = min(perfect, key=lambda g: g.median_perfect_from)
        # the rates compared are the base's optimizer's: say so beside runs of others
        opt = fast.config.optimizer
        others = any(g.config.optimizer != opt for g in f.groups)
        text = (
            f"The fastest rate here{f' with {opt}' if others else ''} is lr "
            f"{lr(fast.config.lr)}: 100 % on {name} for good after "
            f"{'' if fast.n == 1 else 'a median of '}{epochs_text(fast.median_perfect_from)} epochs"
        )
        lab = next((g for g in gs if g.config.lr == f.base["lr"]), None)
        if lab is not None and lab is not fast and lab.all_perfect:
            whose = "the lab's" if f.base["lr"] == RunConfig().lr else "the base"
            text += f", against {epochs_text(lab.median_perfect_from)} at {whose} lr {lr(lab.config.lr)}"
        paras.append(text + ".")
    low_text = _too_low_classes(gs, name, brief)
    if low_text:
        paras.append(low_text)
    if brief:
        return paras
    between = [g for g in reversed(gs) if g is not high and g is not low]
    stuck = [g for g in between if g.n_single == g.n]
    # stuck above where it started (saturated, or a ReLU net blown up): too high as well,
    # no plateau that more epochs would leave (diverge18: lr 100 and 1000 beside 10000)
    worse = [g for g in stuck if ended_worse(g)]
    if worse:  # beside the highest rate's paragraph, which it extends
        paras.insert(1, _too_high_as_well(worse, name))
        stuck = [g for g in stuck if g not in worse]
    # a rate that stays on the plateau in some seeds only (lr 0.1 on XOR, 4 of 5)
    partly = [g for g in between if 0 < g.n_single < g.n]
    if stuck or partly:
        some = listing(
            [f"lr {lr(g.config.lr)} in {seeds(g.n_single, g.n)} ({acc_text(g)})" for g in partly]
        )
        if stuck:
            verb = "gives" if len(stuck) == 1 else "give"
            text = (
                f"In between, {listing(['lr ' + lr(g.config.lr) for g in stuck])} still {verb} "
                f"every {name} point the same class after {stuck[0].epochs_trained:,} epochs "
                f"{in_seeds([stuck[0]])}" + (f", and so does {some}" if partly else "")
            )
        else:
            text = (
                f"In between, {some} still {'gives' if len(partly) == 1 else 'give'} every "
                f"{name} point the same class after {partly[0].epochs_trained:,} epochs"
            )
        paras.append(
            text + ": the loss sits on a plateau where the gradient is small, and the smaller "
            "the rate the more epochs it takes to leave it."
        )
    return paras


def _percent(change: float) -> str:
    """A relative change in percent, two digits where it is small: ``'66'``, ``'7.5'``,
    ``'0.12'`` (not ``'0'`` for a loss that moved by 0.1 %)."""
    value = 100 * change
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"  # 100, not 1e+02


def _by_median(g: GroupView) -> str:
    """``'by a median of'`` over seeds, or ``'by'`` for a setting that ran one seed (a
    median of one is that seed's value)."""
    return "by" if g.n == 1 else "by a median of"


def _too_low_classes(gs: list[GroupView], name: str, brief: bool) -> str:
    """Whether the lowest rate of a classification's rates ``gs`` was too low, by the rule
    the regression's answer uses (:func:`_lr_values`): it barely moved, or it ends clearly
    below the best rate that did not diverge (``clearly_below``, 2 points and the seeds'
    spread), or it is lower within that spread (not shown), or it is not lower ("" when
    no seed has a loss change to measure). claims23 H1: "No tested rate was too low" for a
    lowest rate at 66 % beside 98 %, because only a rate at 100 % in every seed counted."""
    lr = format_value
    low = gs[0]
    change = [r.total_change for r in low.runs if math.isfinite(r.total_change)]
    if not change:
        return ""
    moved = float(np.median(change))
    moved_text = _percent(moved)
    epochs = f"{low.epochs_trained:,} epochs"
    by = _by_median(low)
    if moved < BARELY_MOVED:
        return (
            f"Too low, measured: at lr {lr(low.config.lr)} the loss changes {by} only "
            f"{moved_text} % over {epochs} and {name} ends at {acc_text(low)}"
            + (
                ": the weights stay near their random start."
                if brief
                else ": the steps are so small that the weights stay near their random start."
            )
        )
    clean = [g for g in gs if not g.n_diverged and g.accuracy.n]
    # the yardstick: the lowest rate at 100 % in every seed if one is, else the best
    perfect = [g for g in clean if g.perfect_for_good and g is not low]
    top = (
        min(perfect, key=lambda g: g.config.lr)
        if perfect
        else max(clean, key=lambda g: (g.accuracy.mean, -g.config.lr), default=low)
    )
    if (
        not low.n_diverged
        and top is not low
        and clearly_below(low.accuracy, top.accuracy, ACC_NOISE)
    ):
        where = (
            f"where lr {lr(top.config.lr)} reaches 100 % {in_seeds([top])}"
            if perfect
            else f"against {acc_text(top)} at lr {lr(top.config.lr)}"
        )
        text = (
            f"Too low for {epochs}: lr {lr(low.config.lr)} changes the loss {by} "
            f"{moved_text} % but ends at {acc_text(low)} on {name}, {where}"
        )
        if _still_falling(low):
            return f"{text}; it is still on its way, and more epochs may take it there."
        if low.median_tail_change <= MOVING:
            # settled short of the yardstick, not "on its way" (claims23 ties: lr 0.1 on
            # linear, 2/3 seeds on one class, the loss flat over the last 40 epochs)
            median = "" if low.n == 1 else "median "
            text += (
                f"; its loss barely moves at the end ({median}change "
                f"{_percent(low.median_tail_change)} % over the last 10 % of epochs)"
            )
        if low.n_single:
            every = "every point still gets the same class"
            text += (
                f", and in {seeds(low.n_single, low.n)} {every}" if low.n > 1 else f", and {every}"
            )
        return text + "."
    if not low.n_diverged and top is not low and pct(low.accuracy.mean) != pct(top.accuracy.mean):
        # lower, but not by more than the seeds explain: not shown either way
        return (
            f"No tested rate was shown to be too low on {name}: lr {lr(low.config.lr)} "
            f"changes the loss {by} {moved_text} % over {epochs} and ends at "
            f"{acc_text(low)}, below lr {lr(top.config.lr)}'s {acc_text(top)} but not by "
            f"more than {not_clearly(low.accuracy, top.accuracy, regression=False)}."
        )
    # a lowest rate that diverged in some seeds ends at its other seeds' accuracy
    # (diverge18: "ends at 100.0 ± 0.0 %" for a rate just called too high)
    survivors = (
        f" in the {seeds(low.n - low.n_diverged, low.n)} that did not diverge"
        if low.n_diverged
        else ""
    )
    return (
        f"No tested rate was too low on {name}: even lr {lr(low.config.lr)} changes the "
        f"loss {by} {moved_text} % over {epochs} and ends at {acc_text(low)}{survivors}."
    )


def ended_worse(g: GroupView) -> bool:
    """Whether every seed of ``g`` ended with its final loss at least 1.5 times its first
    epoch's: the rate made the model worse, not slow (a saturated run whose loss fell, as
    on unbalanced data, is not said to have risen; review18)."""
    return bool(g.runs) and all(
        r.loss.size >= 2 and math.isfinite(r.loss[0]) and r.record.final_loss >= 1.5 * r.loss[0]
        for r in g.runs
    )


def _too_high_as_well(worse: list[GroupView], name: str) -> str:
    """The sentence for rates below the highest that ended worse than they started."""
    lr = format_value
    parts = []
    for g in worse:
        first = float(np.median([r.loss[0] for r in g.runs if r.loss.size]))
        parts.append(f"lr {lr(g.config.lr)} (loss {first:.3g} → {loss_text(g)})")
    return (
        f"Too high as well: {listing(parts)} {'give' if len(worse) > 1 else 'gives'} every "
        f"{name} point the same class after {worse[0].epochs_trained:,} epochs "
        f"{in_seeds([worse[0]])}, the "
        "loss higher at the end than at the first epoch: no plateau that more epochs would "
        "leave; a smaller rate is what helps."
    )


def _too_high_as_well_values(worse: list[GroupView], name: str) -> str:
    """A regression's counterpart of :func:`_too_high_as_well`: the rates (below the
    highest, which did not diverge) whose loss ended higher than it started in every seed."""
    parts = []
    for g in worse:
        first = float(np.median([r.loss[0] for r in g.runs if r.loss.size]))
        parts.append(
            f"lr {format_value(g.config.lr)} (loss {first:.3g} → {loss_text(g)}, {acc_text(g)})"
        )
    verb = "end" if len(worse) > 1 else "ends"
    return (
        f"Too high as well: {listing(parts)} {verb} with the loss higher than at the first "
        f"epoch {in_seeds([worse[0]])} on {name}: the steps made the model worse than its "
        "random start, not slow; a smaller rate is what helps."
    )


def _no_fit_text(best: GroupView, name: str, held: bool, named: bool) -> str:
    """No rate fits the data: the best R² (``held``: on the held-out set) is under
    NEAR_MEAN, near or below what predicting the targets' mean gets (``named``: the
    sentence before named that best rate and its R²)."""
    on = " on the held-out set" if held else ""
    how = f"{against_mean(best.score(held).mean)} predicting the targets' mean everywhere (R² 0)"
    what = (
        "that best R² is"
        if named
        else f"the best, lr {format_value(best.config.lr)}, ends at {acc_text(best, held)}{on},"
    )
    return (
        f"No tested rate fits {name} in {best.epochs_trained:,} epochs: {what} {how}; these "
        "runs do not show which rate would fit it best."
    )


def _lr_values(gs: list[GroupView], name: str, intro: bool = True) -> list[str]:
    """The learning-rate answer from a regression's rates ``gs`` (lowest first), by R²
    and loss: what was too high (diverged, or clearly worse than a lower rate), the best
    rate, what was too low for the epochs given, and what the sweep cannot tell
    (``intro``: first say what R² measures)."""
    lr = format_value
    paras = []
    if intro:
        paras.append(
            f"On {name} the targets are values, so there is no accuracy to reach and no class "
            "to get stuck in: the rates are compared by R² (1: every value exact; 0: no better "
            "than predicting the targets' mean; below 0: worse than that) and by the final loss."
        )
    high, low = gs[-1], gs[0]
    if high.n_diverged:
        paras.append(_diverged_text(gs, name))
    else:
        paras.append(_too_high_values(high, gs[:-1], name))
    # a lower rate whose loss blew up without reaching inf (claims23 H4: lr 1 on
    # multi-gauss from 0.5 to 144, R² -1971, never called too high)
    worse = [g for g in reversed(gs[:-1]) if not g.n_diverged and ended_worse(g)]
    if worse:
        paras.append(_too_high_as_well_values(worse, name))
    clean = [g for g in gs if not g.n_diverged and g.r2.n]
    # compared where it matters, on the held-out set, when every rate has one
    held = bool(clean) and all(g.has_test and g.test_r2.n for g in clean)
    where = "held-out " if held else ""
    best = max(clean, key=lambda g: g.score(held).mean) if clean else None
    # the highest rate "ends best" was said just above, on the training data: only the
    # held-out set has more to add
    named = len(clean) > 1 and best is not None and (held or best is not high)
    if named and best is not None:
        among = "Of the rates that did not diverge, the" if len(clean) < len(gs) else "The"
        text = (
            f"{among} highest {where}R² on {name} "
            f"{best_of(clean, lambda g: f'lr {lr(g.config.lr)}', held)}"
        )
        if held:
            text += f" (training R²: {acc_text(best, named=False)})"
        text += "."
        s = best.test_r2 if held else best.r2
        if s.n > 1 and s.max - s.min > 0.1:
            n_test = best.runs[0].record.n_test
            on = f"{n_test} held-out points" if held else "its training data"
            text += (
                f" That R² ranges from {r2_value(s.min)} to {r2_value(s.max)} over the seeds: on {on}, "
                "a difference between rates smaller than that spread is not shown by this sweep."
            )
        paras.append(text)
    if best is not None and best.score(held).mean < NEAR_MEAN:
        paras.append(_no_fit_text(best, name, held, named))
    if low is high or low.n_diverged:
        return paras
    change = [r.total_change for r in low.runs if math.isfinite(r.total_change)]
    if not change:
        return paras
    moved = float(np.median(change))
    moved_text = f"{100 * moved:.0f}" if moved >= 0.1 else f"{100 * moved:.2g}"
    epochs = f"{low.epochs_trained:,} epochs"
    by = _by_median(low)
    top = max(clean, key=lambda g: g.score(held).mean) if clean else low
    on = " on the held-out set" if held else ""
    if moved < BARELY_MOVED:
        paras.append(
            f"Too low, measured: at lr {lr(low.config.lr)} the loss changes {by} "
            f"only {moved_text} % over {epochs} and {name} ends at {acc_text(low, held)}{on}: "
            "the steps are so small that the weights stay near their random start."
        )
    elif top is not low and clearly_below(low.score(held), top.score(held), R2_NOISE):
        text = (
            f"Too low for {epochs}: at lr {lr(low.config.lr)} the loss changes {by} "
            f"{moved_text} %, yet {name} ends at {acc_text(low, held)}{on} against "
            f"{acc_text(top, held)} at lr {lr(top.config.lr)}: smaller steps get less far in "
            "the same number of epochs"
        )
        if _still_falling(low):
            text += (
                f"; its loss is still falling at the end ({'' if low.n == 1 else 'median '}change "
                f"{100 * low.median_tail_change:.0f} % over the last 10 % of epochs), so it is "
                "slow rather than stuck, and more epochs would take it further"
            )
        paras.append(text + ".")
    elif top is not low and shown_score(low, held) != shown_score(top, held):
        # lower, but not by more than the seeds' spread: not shown either way
        why = not_clearly(low.score(held), top.score(held), regression=True)
        paras.append(
            f"No tested rate was shown to be too low on {name}: lr {lr(low.config.lr)} changes "
            f"the loss {by} {moved_text} % over {epochs} and ends at "
            f"{acc_text(low, held)}{on}, below lr {lr(top.config.lr)}'s "
            f"{acc_text(top, held, named=False)} but not by more than {why}."
        )
    else:
        paras.append(
            f"No tested rate was too low on {name}: even lr {lr(low.config.lr)} changes the "
            f"loss {by} {moved_text} % over {epochs} and ends at {acc_text(low, held)}{on}."
        )
    return paras


def _measured_too_high(
    high: GroupView,
    lower: list[GroupView],
    name: str,
    score: Callable[[GroupView], Stats],
    noise: float,
    scores: str,
    held: bool = False,
) -> str | None:
    """ "Too high, measured" when a lower rate ends clearly better than ``high`` by its
    ``score`` (accuracy or R², differences under ``noise`` ignored) or, at a score no
    different, by a loss more than twice as low; None when none does. ``scores`` names
    the score in the plural for the sentence ("accuracies", "R²"); ``held``: the scores
    are the held-out set's (no training loss is compared then)."""
    lr = format_value
    h = f"lr {lr(high.config.lr)}"
    better = [g for g in lower if clearly_below(score(high), score(g), noise)]
    on = " on the held-out set of" if held else " on"
    if better:
        b = max(better, key=lambda g: (score(g).mean, g.config.lr))
        # one seed each has no spread: the noise floor is what the gap cleared
        floor = f"{100 * noise:g} points" if scores == "accuracies" else f"{noise:g} of {scores}"
        cleared = "the spread over seeds" if max(high.n, b.n) > 1 else floor
        return (
            f"Too high, measured: {h} ends at {acc_text(high, held)}{on} {name}, while the "
            f"lower lr {lr(b.config.lr)} ends at {acc_text(b, held)}, a gap larger than "
            f"{cleared}."
        )
    if held:
        return None
    same = [g for g in lower if not clearly_below(score(g), score(high), noise)]
    # "more than twice as low": the floor of the gap is the lower rate's own loss
    better = [g for g in same if clearly_below(g.loss, high.loss, g.loss.mean)]
    if better:
        b = min(better, key=lambda g: (g.loss.mean, -g.config.lr))
        return (
            f"Too high, measured: {h} ends at a final loss of {loss_text(high)} on {name}, "
            f"while the lower lr {lr(b.config.lr)} ends at {loss_text(b)}, a gap larger than "
            f"the spread over seeds; their {scores} do not differ beyond it "
            f"({acc_text(high)} against {acc_text(b)})."
        )
    return None


def _too_high_values(high: GroupView, lower: list[GroupView], name: str) -> str:
    """Whether the highest rate ``high`` of a regression (which did not diverge) was too
    high: only if a lower rate ends clearly better, by R² or, at an R² no different, by a
    loss more than twice as low (as :func:`_too_high_compared` for accuracy)."""
    lr = format_value
    h = f"lr {lr(high.config.lr)}"
    lower = [g for g in lower if not g.n_diverged and g.r2.n]
    # judged where it matters, on the held-out set, when every rate has one (as the
    # sentence on the best rate is): a rate can fit its training data best and overfit
    held = bool(lower) and all(g.has_test and g.test_r2.n for g in [high, *lower])
    measured = _measured_too_high(
        high, lower, name, lambda g: g.score(held), R2_NOISE, "R²", held=held
    )
    if measured is not None:
        return measured
    above = [
        g
        for g in lower
        if g.score(held).mean > high.score(held).mean
        and shown_score(g, held) != shown_score(high, held)
    ]
    on = " on the held-out set" if held else ""
    if not lower:  # every lower rate diverged in some seed: nothing to compare with
        text = (
            f"No tested rate was shown to be too high on {name}: the highest, {h}, ends at "
            f"{acc_text(high)}."
        )
    elif not above:
        # a lower rate whose mean shows the same is a tie, not beaten (as best_of says)
        tied = [
            f"lr {lr(g.config.lr)}"
            for g in lower
            if shown_score(g, held) == shown_score(high, held)
        ]
        level = f" (tied with {listing(tied)})" if tied else ""
        text = (
            f"No tested rate was too high on {name}: the highest, {h}, ends best{on}{level}, "
            f"at {acc_text(high, held)}."
        )
    else:
        top = best_of(lower, lambda g: f"lr {lr(g.config.lr)}", held)
        rates = f"the best lower rate{'' if top.startswith('is ') else 's'} {top}"
        text = (
            f"No tested rate was shown to be too high on {name}: the highest, {h}, ends at "
            f"{acc_text(high, held)}{on}, and no lower rate ends better by more than "
            f"{_not_clearly_any(high, above, held)} ({rates})."
        )
    if _still_falling(high):
        text += _still_falling_text(high, bool(above))
    elif not above:
        text += " Where too high begins, only a higher rate would show."
    return text


def _still_falling(group: GroupView) -> bool:
    """The group's loss was still falling clearly at the end of its runs."""
    return group.median_tail_change > MOVING and group.trend == "falling"


def _still_falling_text(high: GroupView, above: bool) -> str:
    """The too-high answers' sentence for a highest rate whose loss had not finished falling
    (``above``: a lower rate ended better)."""
    return (
        f" Its loss is still falling after {high.epochs_trained:,} epochs (median change "
        f"{100 * high.median_tail_change:.0f} % over the last 10 % of epochs): it had not "
        f"finished, so {_longer_run(above)}."
    )


def _longer_run(above: bool) -> str:
    """What a longer run of the highest rate would show (``above``: a lower rate ended better)."""
    if above:
        return "a longer run would tell whether it catches up"
    return "a longer run would show how far it gets, and a higher rate where too high begins"


def _not_clearly_any(high: GroupView, above: list[GroupView], held: bool = False) -> str:
    """Why none of the lower rates ``above`` (which end higher than ``high``) ends clearly
    better: the spread over seeds, the noise floor, or each for some of them (``held``:
    on the held-out set)."""
    whys = {not_clearly(high.score(held), g.score(held), high.regression) for g in above}
    return " and ".join(sorted(whys)) if whys else "the spread over seeds"


def _too_high_compared(high: GroupView, lower: list[GroupView], name: str) -> str:
    """The sentence on whether the highest rate ``high`` (which neither diverged nor
    saturated) was too high, judged against the ``lower`` rates: only if one ends clearly better.

    Clearly better: a higher accuracy, or a loss more than twice as low at an accuracy
    no different, by more than the seeds' spread. Otherwise the highest rate was not
    shown too high, and when it has not finished (loss still falling, seeds still on
    the plateau) the sentence says that a longer run or a higher rate would tell.
    """
    lr = format_value
    h = f"lr {lr(high.config.lr)}"
    # a rate that diverged in some seed is averaged over its survivors: no fair comparison
    lower = [g for g in lower if not g.n_diverged and g.accuracy.n]
    measured = _measured_too_high(high, lower, name, lambda g: g.accuracy, ACC_NOISE, "accuracies")
    if measured is not None:
        return measured

    def shown(g: GroupView) -> str:
        return pct(g.accuracy.mean)

    # lower rates that end higher, if not by more than the seeds explain
    above = [g for g in lower if g.accuracy.mean > high.accuracy.mean and shown(g) != shown(high)]
    tied = any(shown(g) == shown(high) for g in lower)
    if not lower:  # every lower rate diverged in some seed: nothing to compare with
        text = (
            f"No tested rate was shown to be too high on {name}: the highest, {h}, ends at "
            f"{acc_text(high)}."
        )
    elif not above and high.accuracy.mean >= 0.9:
        text = f"No tested rate was too high on {name}: even {h} reaches {acc_text(high)}."
    else:
        top = best_of(lower, lambda g: f"lr {lr(g.config.lr)}")  # "is lr 0.1, at ..."
        rates = f"the best lower rate{'' if top.startswith('is ') else 's'} {top}"
        if not above and not tied:
            text = (
                f"No tested rate was too high on {name}: the highest, {h}, ends best, at "
                f"{acc_text(high)} ({rates})."
            )
        else:
            text = (
                f"No tested rate was shown to be too high on {name}: the highest, {h}, ends at "
                f"{acc_text(high)}, and no lower rate ends better by more than "
                f"{_not_clearly_any(high, above)} ({rates})."
            )
    if high.all_perfect:
        return text
    epochs = f"{high.epochs_trained:,} epochs"
    if _still_falling(high):
        text += _still_falling_text(high, bool(above))
    elif high.n_single:
        text += (
            f" In {seeds(high.n_single, high.n) if high.n > 1 else 'its one seed'} it still "
            f"gives every {name} point the same "
            f"class after {epochs}: those seeds have not left the plateau where the gradient "
            f"is small, so {_longer_run(bool(above))}."
        )
    return text
