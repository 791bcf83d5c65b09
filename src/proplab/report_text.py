"""Sentences computed from the numbers: observations per experiment, and the phrases
(scores, ranges, settings) that :mod:`proplab.report_answers` builds the lab's answers from.

Nothing here is canned: every sentence is chosen and filled from the
measured groups, so when a result changes the text changes with it. The
explanations (why a linear stack is linear, what a bias shifts) are fixed,
but which of them is said, and the numbers around them, come from the data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields

import numpy as np

from proplab.aggregate import Stats, clearly_below, difference_spread
from proplab.config import RunConfig, effective_momentum
from proplab.data import LAB_DATASETS
from proplab.report_data import (
    ACC_NOISE,
    MOVING,
    OSCILLATING,
    R2_NOISE,
    ExperimentView,
    GroupView,
    RunView,
    dataset_name,
)
from proplab.sweep_spec import format_value
from proplab.train_text import fixed


def pct(fraction: float) -> str:
    """``0.5238 -> '52.4 %'`` (NaN -> 'n/a')."""
    return "n/a" if not math.isfinite(fraction) else f"{100.0 * fraction:.1f} %"


def acc_text(g: GroupView, test: bool = False, named: bool = True) -> str:
    """``'52.4 ± 0.0 %'`` over the seeds that did not diverge; ``'n/a'`` when all did
    (``test``: the accuracy on the held-out set). A regression group has no accuracy:
    its R² instead, ``'R² 0.712 ± 0.036'`` (``named=False``: without the ``R²``, for a
    table column that says it)."""
    if g.regression:
        return r2_text(g.score(test), named)
    s = g.test_accuracy if test else g.accuracy
    if s.n == 0:
        return "n/a"
    if s.n == 1:
        return pct(s.mean)
    return f"{100 * s.mean:.1f} ± {100 * s.std:.1f} %"


def r2_value(value: float) -> str:
    """``0.71234 -> '0.712'`` (NaN -> 'n/a'): R² to three decimals, as proplab sweep prints it."""
    return "n/a" if not math.isfinite(value) else fixed(value, 3)


def r2_text(s: Stats, named: bool = True) -> str:
    """``'R² 0.712 ± 0.036'`` (one seed: no ±; ``'n/a'`` when every seed diverged)."""
    if s.n == 0:
        return "n/a"
    text = r2_value(s.mean) if s.n == 1 else f"{fixed(s.mean, 3)} ± {fixed(s.std, 3)}"
    return f"R² {text}" if named else text


def shown_score(g: GroupView, test: bool = False) -> str:
    """A group's mean score as a sentence shows it (``'52.4 %'``, ``'R² 0.712'``): two
    settings that show the same are tied."""
    mean = g.score(test).mean
    return f"R² {r2_value(mean)}" if g.regression else pct(mean)


def loss_text(g: GroupView) -> str:
    """``'1.10e-04 ± 2.5e-05'``; a spread below 1e-9 of the mean (rounding noise) shows as 0."""
    s = g.loss
    if s.n == 0:
        return "n/a"
    if s.n == 1:
        return f"{s.mean:.2e}"
    std = 0.0 if s.std <= 1e-9 * abs(s.mean) else s.std
    return f"{s.mean:.2e} ± {std:.1e}"


def range_text(g: GroupView, test: bool = False) -> str:
    """``'80.0–100.0'`` (in %), or a regression's R² ``'0.681 to 0.750'`` (a dash would
    read as a minus beside a negative R²); on the held-out set with ``test``."""
    s = g.score(test)
    if s.n == 0:
        return "n/a"
    if g.regression:
        return f"{r2_value(s.min)} to {r2_value(s.max)}"
    return f"{100 * s.min:.1f}–{100 * s.max:.1f}"


def epochs_text(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:,.0f}"


def _some_or_every(gs: Sequence[GroupView]) -> str:
    """``"every seed"`` when every seed of every group diverged, else ``"some seed"``."""
    return "every seed" if all(g.n_diverged == g.n for g in gs) else "some seed"


def seeds(k: int, n: int) -> str:
    return f"{k}/{n} seeds"


def listing(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# what a configuration says of its data (which, how much, which seed), its printing and the
# Conv1d's settings (the lab's model is an MLP): any of these may differ from the lab's and
# the network trained is still "the lab model"; every other setting is its network or its
# training (verify24 L2: an Adam, a BCE or an lr 0.01 base was still "the lab model")
_NOT_THE_MODEL = frozenset(
    ("dataset", "n", "noise", "test_fraction", "label", "drop_columns", "task", "seed")
    + ("print_every", "extra", "filters", "kernel_size", "stride", "padding")
)


def lab_or_base(config: Mapping[str, object], datasets: Sequence[str]) -> str:
    """``"lab"`` when ``config`` (a run's or a sweep's base, as a dict) is the lab model as
    the lab trains it, on ``datasets`` that are all the lab's (linear, xor): the same
    network (2-10-10-1, sigmoid, biases), loss, optimizer, learning rate, init, epochs and
    every other setting of its training, no early stop; else ``"base"``. A setting left
    out of ``config`` is the lab's. (claims23 L7: a circle sweep's "The lab model has 151
    parameters", an XOR sweep with tol 0.001 headed "The lab model on XOR".)"""
    lab = RunConfig()

    def same(key: str) -> bool:
        mine, theirs = config.get(key, getattr(lab, key)), getattr(lab, key)
        if key == "hidden":  # 10 is [10, 10]
            mine, theirs = (v if isinstance(v, list) else [v, v] for v in (mine, theirs))
        elif key == "momentum":  # unset: the optimizer's own (0 for SGD)
            optimizer = str(config.get("optimizer", lab.optimizer))
            mine = effective_momentum(optimizer, mine if isinstance(mine, float | int) else None)
            theirs = effective_momentum(lab.optimizer, lab.momentum)
        return bool(mine == theirs)

    keys = [f.name for f in fields(RunConfig) if f.name not in _NOT_THE_MODEL]
    lab_data = all(ds in LAB_DATASETS for ds in datasets)
    return "lab" if lab_data and all(same(k) for k in keys) else "base"


def setting_name(view: ExperimentView, setting: str, bracket: bool = True) -> str:
    """How a setting reads in a sentence: ``lr 0.001``, ``hidden 4``, or its own label
    (``bracket``: one of several axes in brackets, ``(lr=1, activation=tanh)``)."""
    axes = view.experiment.setting_axes
    if len(axes) == 1:
        # a yes/no axis's bare value says nothing ("only true reaches 100 %"): named, as
        # a number is, unless the file labelled it
        switch = setting in ("true", "false") and not any(
            s.named and s.label == setting for s in axes[0].settings
        )
        try:
            float(setting)
        except ValueError:
            return f"{axes[0].name} {setting}" if switch else setting
        return f"{axes[0].name} {setting}"
    # "lr=1, activation=tanh" holds a comma: in a list of settings it needs a bracket
    return f"({setting})" if bracket and ", " in setting else setting


# ---------------------------------------------------------------- observations


def observations(view: ExperimentView, earlier: Sequence[ExperimentView] = ()) -> list[str]:
    """Short findings for one experiment, per dataset, from its groups. ``earlier``: the
    experiments the report shows before it, whose findings it need not repeat (the lab
    model's runs are a setting of most experiments)."""
    notes: list[str] = []
    for ds in view.datasets:
        every = [g for s in view.settings if (g := view.get(s, ds)) is not None]
        name = dataset_name(ds)

        def nm(g: GroupView) -> str:
            return setting_name(view, g.setting)

        # a regression's groups are told by R², not accuracy (one CSV file under a task
        # axis is both kinds: each kind gets its own lines)
        for gs in ([g for g in every if not g.regression], [g for g in every if g.regression]):
            if gs:
                notes += _dataset_notes(view, name, gs, nm, earlier)
    speed = _cost_note(view)
    if speed:
        notes.append(speed)
    return notes


def shared_rate_notes(view: ExperimentView, views: Sequence[ExperimentView]) -> list[str]:
    """For an experiment that sets its own learning rate for every setting (the
    optimizers at one lr): per dataset, each setting short of 100 % here that another
    experiment's lr axis takes to 100 % in every seed, with everything else the same
    (report21 M5: "sgd ends at 50.5 %" at lr 0.1, while the lr table's sgd rows at lr 1
    and 10 reach 100 %). The rate decides that ranking as much as the setting does."""
    if "lr" not in view.experiment.own_base or not view.groups:
        return []
    rated = [
        v for v in views if v is not view and any(a.name == "lr" for a in v.experiment.setting_axes)
    ]

    def key(g: GroupView) -> dict[str, object]:
        return {k: v for k, v in g.config.to_dict().items() if k not in ("lr", "seed")}

    notes = []
    for ds in view.datasets:
        parts = []
        for s in view.settings:
            g = view.get(s, ds)
            if g is None or g.regression or g.perfect_for_good:
                continue
            for other in rated:
                better = [
                    h
                    for h in other.groups
                    if h.dataset == ds and h.perfect_for_good and key(h) == key(g)
                ]
                if better:
                    rates = listing([f"lr {format_value(h.config.lr)}" for h in better])
                    parts.append(
                        f"{setting_name(view, s)} ends at {acc_text(g)} but reaches 100 % "
                        f'in every seed at {rates} in "{other.experiment.title}"'
                    )
                    break
        if parts:
            notes.append(
                f"On {dataset_name(ds)}, every setting here trains at lr "
                f"{format_value(view.groups[0].config.lr)}: {listing(parts)} (its rows of "
                "that table), so the rate decides this ranking as much as the setting: each "
                "is compared at one shared rate, not at its own best."
            )
    return notes


# below this training R², a model does hardly better than predicting the targets' mean
NEAR_MEAN = 0.1


def _dataset_notes(
    view: ExperimentView,
    name: str,
    gs: list[GroupView],
    nm: Callable[[GroupView], str],
    earlier: Sequence[ExperimentView] = (),
) -> list[str]:
    """The findings on one dataset, from its groups of one kind (classification or values)."""
    notes: list[str] = []
    values = gs[0].regression
    # with a held-out set, the score is the training data's: the headline says so and
    # a second line gives the test set's
    train = f"{name} (training set)" if view.has_test else name
    notes.append(_value_headline(train, gs, nm) if values else _headline(train, gs, nm))
    if view.has_test:
        notes.append(_test_line(name, gs, nm))
    if values:
        notes += _near_mean(name, gs, nm)
    stalled = [g for g in gs if g.n_single]
    at = len(notes)  # where the one-class line goes, if any
    if len(gs) == 1 and stalled:
        notes.append(
            f"On {name}, {seeds(gs[0].n_single, gs[0].n)} end up giving every point the same class."
        )
    elif stalled:
        parts = [f"{nm(g)} ({seeds(g.n_single, g.n)}, {acc_text(g)})" for g in stalled]
        notes.append(
            f"On {name}, some runs end up giving every point the same class: {listing(parts)}."
        )
    for g in gs:
        if g.n_diverged:
            notes.append(
                f"On {name}, {nm(g)} diverged (the loss became NaN or infinite) "
                f"in {seeds(g.n_diverged, g.n)}."
            )
    for g in gs:
        stopped = _stopped_text(g)
        if stopped:
            notes.append(f"On {name}, {nm(g)} {stopped}")
    # over the seeds, on the training data and (held out) the test set: a test score may
    # spread where the training one does not (a regression overfitting by seed)
    scored = (False, True) if view.has_test else (False,)

    def spreads(g: GroupView, test: bool) -> bool:
        s = g.score(test)
        return s.n > 1 and s.max - s.min >= 0.05

    def ranges(g: GroupView) -> str:
        shown = [f"R² {range_text(g, t)}" if values else f"{range_text(g, t)} %" for t in scored]
        if len(shown) == 1:
            return shown[0]
        return f"{shown[0]} on the training set, {shown[1]} on the test set"

    # a seed that gives every point one class scores that class's share of its data:
    # where every seed does, the range is the datasets' class shares, not the seed's
    # luck in training (report21 M2); said beside the runs that end in one class
    spread = [g for g in gs if any(spreads(g, t) for t in scored)]
    shares = [g for g in spread if not values and g.n_single == g.n]
    spread = [g for g in spread if g not in shares]
    if shares:  # every seed of each gives one class: the one-class line is there
        notes[at] += (
            f" Where every seed does ({listing([nm(g) for g in shares])}), the accuracies "
            f"range over {listing([f'{range_text(g)} %' for g in shares])}: each is that "
            "seed's share of the class it gives, the data's spread, not the training's."
        )
    if spread:
        parts = [f"{nm(g)} ({ranges(g)})" for g in spread]
        notes.append(f"On {name}, the result depends on the seed for {listing(parts)}.")
    for g in gs:
        if g.oscillating:
            told = _told_before(g, earlier)
            notes.append(f"On {name}, {nm(g)} {told or oscillation_text(g)}")
        if g.steady_moving:
            # the other seeds' trend, said apart: an oscillating seed has none
            rest = g.n - len(g.oscillating_runs)
            other = "in its other seed, " if rest == 1 else f"in its other {rest} seeds, "
            who = f"{other}{nm(g)}" if g.oscillating else nm(g)
            notes.append(f"On {name}, {who} {_moving_text(g)}")
    return notes


def bounce_text(r: RunView) -> str:
    """How one oscillating seed bounces over the last 10 % of epochs: ``'its loss rises on
    50 % of the last 10 % of epochs (up and down on alternate epochs from epoch 3,582) and
    its accuracy stays at 99.0 %'``."""
    parts = []
    rises = r.tail_rises
    if math.isfinite(rises) and rises >= OSCILLATING:
        text = f"its loss rises on {100 * rises:.0f} % of the last 10 % of epochs"
        if r.cycle_from is not None:
            text += f" (up and down on alternate epochs from epoch {r.cycle_from:,})"
        parts.append(text)
    lo, hi = r.tail_accuracy_range
    if math.isfinite(lo):
        over = "" if parts else " over the last 10 % of epochs"
        parts.append(
            f"its accuracy stays at {pct(lo)}{over}"
            if lo == hi
            else f"its accuracy swings between {pct(lo)} and {pct(hi)}{over}"
        )
    return listing(parts)


def bounce_short(g: GroupView) -> str:
    """``'seed 2 at 96.0–100.0 %'``: the oscillating seeds and their accuracy's range over
    the last 10 % of epochs, for a list of settings."""
    parts = []
    for r in g.oscillating_runs:
        lo, hi = r.tail_accuracy_range
        acc = (
            ""
            if not math.isfinite(lo)
            else f" at {pct(lo)}"
            if lo == hi
            else f" at {100 * lo:.1f}–{pct(hi)}"
        )
        parts.append(f"seed {r.record.seed}{acc}")
    return listing(parts)


def _told_before(g: GroupView, earlier: Sequence[ExperimentView]) -> str | None:
    """``'oscillates at the end in seed 2, the same run as in "The lab model"'`` when
    an earlier experiment has a setting whose oscillating runs are this group's (a sweep
    trains a configuration once: the lab model is a setting of most experiments, and its
    bouncing seed was described seven times); None when none has."""
    mine = {r.record.run for r in g.oscillating_runs}  # a run's name in the sweep folder
    for view in earlier:
        for h in view.groups:
            if h.dataset == g.dataset and mine <= {r.record.run for r in h.oscillating_runs}:
                which = listing([f"seed {r.record.seed}" for r in g.oscillating_runs])
                run = "run" if len(mine) == 1 else "runs"
                # an experiment of one setting ("base") is named by its title alone
                what = "" if len(view.settings) == 1 else f"{setting_name(view, h.setting)} "
                return (
                    f"oscillates at the end in {which}, the same {run} as "
                    f'{what}in "{view.experiment.title}".'
                )
    return None


def oscillation_text(g: GroupView) -> str:
    """What a group with oscillating seeds does at the end: ``'oscillates at the end in
    seed 2: its loss rises on ...'``; where a seed's accuracy swings, its final one is
    where the last update happened to land."""
    runs = g.oscillating_runs
    if len(runs) == 1:
        text = f"oscillates at the end in seed {runs[0].record.seed}: {bounce_text(runs[0])}."
    else:
        each = "; ".join(f"in seed {r.record.seed}, {bounce_text(r)}" for r in runs)
        text = f"oscillates at the end in {seeds(len(runs), g.n)}: {each}."
    if any(r.tail_accuracy_range[0] < r.tail_accuracy_range[1] for r in runs):
        text += (
            " A seed's final accuracy there is where the last update happened to land: "
            "one epoch more or less can change it."
        )
    return text


def change_pct(change: float) -> str:
    """A relative loss change as the "still moving" rule reads it: ``'67 %'``, with a
    decimal where whole percent would show the 5 % limit itself (``'5.2 %'`` is over
    "at most 5 %", ``'4.8 %'`` under it)."""
    shown = f"{100 * change:.0f}"
    if shown == f"{100 * MOVING:.0f}":
        shown = f"{100 * change:.1f}"
    return f"{shown} %"


# why a run stopped before its last epoch by its own rule (history.stop_reason)
STOP_RULES = {"converged": "its loss fell below tol", "early_stopped": "early stopping"}


def _stopped_text(g: GroupView) -> str:
    """How long the seeds that stopped by their own rule trained (a table scores each
    run's last model, whenever it stopped): ``'stopped by tol in 3/3 seeds, after 32
    to 47 epochs (of 3,000)'``; "" when none did."""
    stopped = [r.record for r in g.runs if r.record.stop_reason in STOP_RULES]
    if not stopped:
        return ""
    why = listing(sorted({STOP_RULES[r.stop_reason] for r in stopped}))
    ran = sorted(r.epochs for r in stopped)
    after = f"{ran[0]:,}" if ran[0] == ran[-1] else f"{ran[0]:,} to {ran[-1]:,}"
    where = "in its one seed" if g.n == 1 else f"in {seeds(len(stopped), g.n)}"
    return (
        f"stopped early ({why}) {where}, after {after} "
        f"epoch{'s' if ran[-1] != 1 else ''} (of {g.config.epochs:,})."
    )


def _moving_text(g: GroupView) -> str:
    """What a group still changing at the end does: its accuracy, when that moved by a
    point or more, else its loss (a loss heading for 0 keeps falling by large relative
    steps while the accuracy stays put: that is said, not left as "may change")."""
    if g.accuracy_moving or g.r2_moving:
        before, after = g.tail_r2 if g.r2_moving else g.tail_accuracy
        went = "rose" if after > before else "fell"
        shown = r2_value if g.r2_moving else pct
        return (
            f"{'is still learning' if after > before else 'is still changing'} at the end: its mean "
            f"{'R²' if g.r2_moving else 'accuracy'} {went} from {shown(before)} to "
            f"{shown(after)} over the last 10 % of epochs, and may change with more epochs."
        )
    # the change is measured either way: a loss going up is not "improving"
    how = {
        "falling": "is still improving at the end (its loss is falling",
        "rising": "gets worse at the end (its loss is rising",
        "mixed": "is still changing at the end (its loss moves both ways across seeds",
    }[g.trend]
    text = f"{how}; median change {change_pct(g.median_tail_change)} over the last 10 % of epochs)"
    if g.regression:
        return f"{text}, while its mean R² moved less than 0.01 over them."
    return f"{text}, while its mean accuracy moved less than a point over them."


def _value_headline(name: str, gs: list[GroupView], nm: Callable[[GroupView], str]) -> str:
    """A regression's headline: its R² (no accuracy, no "100 %" to reach), the best and
    the lowest setting."""
    if len(gs) == 1:
        g = gs[0]
        if not g.r2.n:
            return f"On {name}, every seed diverged: there is no R² to give."
        return f"On {name}, the final R² is {acc_text(g, named=False)} and the final loss {loss_text(g)}."
    # as for accuracy: a setting with diverged seeds is averaged over its survivors only
    clean = [g for g in gs if not g.n_diverged and g.r2.n]
    if not clean:
        return f"On {name}, every setting diverged in {_some_or_every(gs)}: no R² to compare."
    if len(clean) == len(gs) and len({shown_score(g) for g in clean}) == 1:
        end = "averages" if any(g.n > 1 for g in gs) else "ends at"
        return f"On {name}, every setting {end} {shown_score(clean[0])}."
    among = "" if len(clean) == len(gs) else " of the settings with no diverged seed"
    # as for accuracy: R² within the seeds' spread (or 0.02) of the highest is level with it
    tied = leaders(clean)
    if len(clean) > 1 and len(tied) == len(clean):
        return f"On {name}, none{among} ends clearly highest: {tie_list(tied, nm)}."
    text = f"On {name}, the highest R²{among} {best_of(clean, nm, spread=True)}"
    low = min(clean, key=lambda g: g.r2.mean)
    if low not in tied:
        text += f"; the lowest is {nm(low)}, at {acc_text(low)}"
    return text + "."


AGAINST_MEAN = ("worse than", "no better than", "hardly better than")


def against_mean(r2: float) -> str:
    """How an R² under NEAR_MEAN compares with predicting the targets' mean (R² 0), the
    words of :data:`AGAINST_MEAN`: ``'worse than'`` below -R2_NOISE, ``'no better than'``
    within R2_NOISE of 0, else ``'hardly better than'``. Every sentence on a model near the
    mean words it so (one rule: the learning-rate answer had two bins of its own)."""
    if r2 < -R2_NOISE:
        return "worse than"
    return "no better than" if r2 <= R2_NOISE else "hardly better than"


def _near_mean(name: str, gs: list[GroupView], nm: Callable[[GroupView], str]) -> list[str]:
    """The settings whose training R² is under NEAR_MEAN, each by how it compares with
    predicting the targets' mean (R² 0): worse (below -R2_NOISE), no better (within
    R2_NOISE of 0) or hardly better. Each setting is worded by its own R² (claims23 H3: one
    at 0.005 made R² -1970 "hardly better than the mean" with it)."""
    low = [g for g in gs if g.r2.n and g.r2.mean < NEAR_MEAN]
    if not low:
        return []
    bins = [(how, [g for g in low if against_mean(g.r2.mean) == how]) for how in AGAINST_MEAN]
    clauses: list[str] = []
    for how, members in bins:
        if not members:
            continue
        if len(gs) > 1:
            who = listing([f"{nm(g)} ({acc_text(g)})" for g in members])
        else:
            who = f"the model ({acc_text(members[0])})"
        verb = "ends" if len(members) == 1 else "end"
        # the mean's wording in full once; "than that" after it
        what = "that" if clauses else "predicting the targets' mean everywhere (R² 0)"
        clauses.append(f"{who} {verb} {how} {what}")
    return [f"On {name}, {'; '.join(clauses)}."]


def _cost_note(view: ExperimentView) -> str:
    """Training time per epoch per setting, when the settings differ in cost by over 2.5x.

    Times are wall clock, so whatever else ran on the machine adds noise of a
    few tens of percent: only a large gap says something about the model. Runs
    trained in replica stacks of different sizes are not compared: a run's
    share of a stack of 85 costs far less than one of a stack of 5.
    """
    sizes = {
        r.record.stacked_with
        for s in view.settings
        for ds in view.datasets
        if (g := view.get(s, ds)) is not None
        for r in g.runs
    }
    if len(sizes) > 1:
        return ""
    cost: dict[str, float] = {}
    for s in view.settings:
        per_epoch = [
            r.record.seconds / r.record.epochs
            for ds in view.datasets
            if (g := view.get(s, ds)) is not None
            for r in g.runs
            if r.record.epochs > 0 and math.isfinite(r.record.seconds)
        ]
        if per_epoch:
            cost[s] = float(np.median(per_epoch))
    if len(cost) < 2 or max(cost.values()) < 2.5 * min(cost.values()):
        return ""
    parts = [f"{setting_name(view, s)} {1e6 * c:.0f} µs" for s, c in cost.items()]
    ratio = max(cost.values()) / min(cost.values())
    return (
        f"Training time per epoch (median over runs, wall clock): {listing(parts)}; the "
        f"costliest setting takes {ratio:.1f}x as long as the cheapest."
    )


def _headline(name: str, gs: list[GroupView], nm: Callable[[GroupView], str]) -> str:
    if len(gs) == 1:
        g = gs[0]
        if g.n == 1:  # not "1/1 seeds reach 100 % (... from a median epoch of" one
            does = "reaches" if g.n_perfect else "does not reach"
            text = f"On {name}, its one seed {does} 100 %"
        else:
            text = f"On {name}, {seeds(g.n_perfect, g.n)} reach 100 %"
        if g.n_perfect:
            median = "a median epoch of" if g.n_perfect > 1 else "epoch"
            text += f" (there for good from {median} {epochs_text(g.median_perfect_from)})"
        if g.swings_across_perfect:
            k = g.swings_across_perfect
            who = "" if g.n == 1 else f" {seeds(k, g.n)}"
            text += f",{who} oscillating across it at the end"
        return text + f"; accuracy {acc_text(g)}, final loss {loss_text(g)}."
    # a setting whose seed ends at 100 % on an oscillation's upswing is not ranked as
    # reaching it: one epoch more or less and it would not (report21 H1)
    perfect = [g for g in gs if g.perfect_for_good]
    if perfect:
        by_speed = sorted(perfect, key=lambda g: g.median_perfect_from)
        if len(perfect) == len(gs):
            who = "every setting reaches"
        elif len(perfect) == 1:
            who = f"only {nm(perfect[0])} reaches"
        else:
            who = f"{listing([nm(g) for g in perfect])} reach"
        # "for good": a seed that touches 100 % and falls back is there from its last return;
        # a "median" of one seed is its epoch (claims23 M5)
        median = "median " if any(g.n > 1 for g in perfect) else ""
        if len(perfect) == 1:
            speed = (
                f"{median}epochs to get there for good: "
                f"{epochs_text(perfect[0].median_perfect_from)}"
            )
        else:
            # settings of different batch sizes: an epoch is not the same amount of work
            work = {id(g): _updates(g) for g in by_speed}
            differ = len(set(work.values())) > 1
            speeds = [
                f"{epochs_text(g.median_perfect_from)} for {nm(g)}"
                + (f" ({work[id(g)]})" if differ else "")
                for g in by_speed
            ]
            speed = f"{median}epochs to get there for good: {listing(speeds)}"
        rest = [_ends_at(g, nm) for g in gs if not g.perfect_for_good and g.accuracy.n]
        others = f"; {listing(rest)}" if rest else ""
        # "hidden 2 and hidden 10 reach 100 % in their one seed", not "in its"
        where = in_seeds(gs, plural=1 < len(perfect) < len(gs))
        return f"On {name}, {who} 100 % {where}; {speed}{others}."
    # a setting with diverged seeds is averaged over its survivors only: it is neither
    # "all the same" as the others nor "the best" (its diverged seeds are said elsewhere)
    clean = [g for g in gs if not g.n_diverged]
    shown = {pct(g.accuracy.mean) for g in clean}
    # one that ends at 100 % by an oscillation's luck did reach it, but does not stay
    reach = "stays at" if any(g.all_perfect for g in gs) else "reaches"
    # "all end at" only when every mean shows the same (99.0 and 99.3 % are not one value);
    # over several seeds that value is their mean, not where each ends (claims23 L2)
    if len(clean) == len(gs) and len(shown) == 1:
        who = "both" if len(gs) == 2 else "all"
        end = "average" if any(g.n > 1 for g in gs) else "end at"
        return f"On {name}, no setting {reach} 100 % {in_seeds(gs)}; {who} {end} {shown.pop()}."
    text = f"On {name}, no setting {reach} 100 % {in_seeds(gs)}"
    if not clean:
        return f"{text}, and every setting diverged in {_some_or_every(gs)}."
    among = "" if len(clean) == len(gs) else " of the settings with no diverged seed"
    swinging = [
        f"{seeds(g.swings_across_perfect, g.n)} of {nm(g)}" for g in gs if g.swings_across_perfect
    ]
    across = f"; {listing(swinging)} oscillate across 100 % at the end" if swinging else ""
    # a best within the seeds' spread of the others is no best (claims23 M1)
    tied = leaders(clean)
    if len(clean) > 1 and len(tied) == len(clean):
        return f"{text}; none{among} ends clearly best: {tie_list(tied, nm)}{across}."
    return f"{text}; the best{among} {best_of(clean, nm, spread=True)}{across}."


def _ends_at(g: GroupView, nm: Callable[[GroupView], str]) -> str:
    """``'relu ends at 99.8 ± 0.4 %'``, and how many of its seeds oscillate across 100 %."""
    text = f"{nm(g)} ends at {acc_text(g)}"
    k = g.swings_across_perfect
    if k:
        text += f" ({'' if g.n == 1 else f'{seeds(k, g.n)} '}oscillating across 100 %)"
    return text


def _updates(g: GroupView) -> str:
    """``'epochs of 30 updates'`` / ``'1 update'``: the weight updates in one of the
    group's epochs (its first seed's; the seeds share the batch size and data size)."""
    n = g.runs[0].record.updates_per_epoch if g.runs else 1
    return f"epochs of {n:,} updates" if n > 1 else "1 update per epoch"


def in_seeds(gs: list[GroupView], plural: bool = False) -> str:
    """``'in every seed'``, or ``'in its one seed'`` when every setting of ``gs`` ran one
    (``plural``: the sentence's subject is a list of settings, ``'in their one seed'``)."""
    if any(g.n > 1 for g in gs):
        return "in every seed"
    return "in their one seed" if plural else "in its one seed"


PAIRED_SEEDS = 3  # the fewest shared seeds whose every one can tell a paired comparison


def above_in_every_seed(
    a: GroupView, b: GroupView, test: bool = False
) -> tuple[int, float, float] | None:
    """``(n, smallest, largest)`` gap of ``b``'s final score over ``a``'s, seed by seed,
    when both ran the same ``n >= PAIRED_SEEDS`` seeds, none diverged, and ``b`` ends above
    ``a`` in every one; else None. Seed for seed the two settings share their data (and
    held-out split): a paired comparison, which can tell what the means' spread cannot
    (claims23 L5: with biases 89/69/70 % against 63/64/67 % without, "no clear
    difference")."""
    mine = {r.record.seed: s for r, s in zip(a.runs, a.run_scores(test), strict=True)}
    other = {r.record.seed: s for r, s in zip(b.runs, b.run_scores(test), strict=True)}
    if len(mine) != a.n or mine.keys() != other.keys() or len(mine) < PAIRED_SEEDS:
        return None  # a seed twice (another axis in the group) or seeds not shared
    gaps = [other[seed] - mine[seed] for seed in mine]
    if not all(math.isfinite(gap) and gap > 0 for gap in gaps):
        return None
    return len(gaps), min(gaps), max(gaps)


def gap_range(lo: float, hi: float, regression: bool) -> str:
    """``'3-26 points'`` of accuracy (fractions ``lo``, ``hi``), ``'0.012-0.300 of R²'``;
    one value when both show the same (``'5 points'``)."""

    def one(v: float) -> str:
        return r2_value(v) if regression else f"{100 * v:.1f}".removesuffix(".0")

    shown = one(lo) if one(lo) == one(hi) else f"{one(lo)}-{one(hi)}"
    return f"{shown} of R²" if regression else f"{shown} points"


def leaders(gs: list[GroupView], test: bool = False) -> list[GroupView]:
    """The settings of ``gs`` (each scored in some seed) that end level with the best: not
    :func:`~proplab.aggregate.clearly_below` it (by more than the seeds' spread and
    ACC_NOISE / R2_NOISE), the best first, then by mean (``test``: on the held-out set).
    The answers' rule for "X ends better than Y"; one point in one seed is no ranking."""
    top = max(gs, key=lambda g: g.score(test).mean)
    floor = R2_NOISE if top.regression else ACC_NOISE
    tied = [g for g in gs if not clearly_below(g.score(test), top.score(test), floor)]
    return sorted(tied, key=lambda g: -g.score(test).mean)  # stable: ties keep their order


def not_clearly(a: Stats, b: Stats, regression: bool) -> str:
    """Why mean ``a``, below ``b``, is not :func:`~proplab.aggregate.clearly_below` it, as
    a sentence says it ("not by more than ..."): the seeds' spread (twice the standard error of the
    difference), or the noise floor (0.02 of R², 2 points of accuracy) when the gap is
    beyond the spread but under the floor."""
    if b.mean - a.mean <= difference_spread(a, b):
        return "the spread over seeds"
    return f"{R2_NOISE:g} of R²" if regression else f"{100 * ACC_NOISE:g} points"


def _gap_text(tied: list[GroupView], test: bool = False) -> str:
    """``'a gap within the spread over seeds'``: why the settings ``tied`` (best first) are
    level though their means show apart: the seeds' spread (twice the standard error of
    the difference) or, beyond it, the noise floor; '' when every mean shows the same."""
    top = tied[0]
    apart = [g for g in tied[1:] if shown_score(g, test) != shown_score(top, test)]
    if not apart:
        return ""
    whys = {not_clearly(g.score(test), top.score(test), top.regression) for g in apart}
    return f"{'a gap' if len(apart) == 1 else 'gaps'} within {' or '.join(sorted(whys))}"


def tie_list(tied: list[GroupView], nm: Callable[[GroupView], str], test: bool = False) -> str:
    """``'lr 1 and lr 0.1, at 99.8 ± 0.4 % each'`` when the settings ``tied`` show the same
    score, else each with its own and why they are level: ``'with biases (87.7 ± 3.2 %) and
    without biases (87.3 ± 3.8 %), a gap within the spread over seeds'``."""
    texts = {acc_text(g, test) for g in tied}
    if len(texts) == 1:
        return f"{listing([nm(g) for g in tied])}, at {texts.pop()} each"
    text = listing([f"{nm(g)} ({acc_text(g, test)})" for g in tied])
    gap = _gap_text(tied, test)
    return f"{text}, {gap}" if gap else text


def best_of(
    gs: list[GroupView],
    nm: Callable[[GroupView], str],
    test: bool = False,
    spread: bool = False,
) -> str:
    """``'is lr 1, at 99.8 ± 0.4 %'``, or every setting whose mean shows the same as the
    best (``'are lr 1 and lr 0.1, at 99.8 ± 0.4 % each'``): a tie has no single best. A
    regression's groups by R² (``'is lr 0.3, at R² 0.710 ± 0.036'``). With ``spread``,
    every setting not clearly below the best is tied with it (:func:`leaders`)."""
    if spread:
        tied = leaders(gs, test)
    else:
        top = shown_score(max(gs, key=lambda g: g.score(test).mean), test)
        tied = [g for g in gs if shown_score(g, test) == top]
    if len(tied) == 1:
        return f"is {nm(tied[0])}, at {acc_text(tied[0], test)}"
    return f"are {tie_list(tied, nm, test)}"


def _test_line(name: str, gs: list[GroupView], nm: Callable[[GroupView], str]) -> str:
    """The held-out test set's score (accuracy, or R² for a regression's groups): the best
    setting(s), the lowest, and the largest train-minus-test gap when it is 2 points of
    accuracy (0.02 of R²) or more."""
    values = gs[0].regression  # the groups are of one kind
    held = [g for g in gs if g.has_test]  # a test_fraction axis may hold out nothing
    scored = [g for g in held if g.score(True).n]
    if not held:
        return f"On {name}, nothing was held out: every score is on the training data."
    if not scored:
        what = "R²" if values else "accuracy"
        return f"On {name}, no run has a test {what} (every seed diverged)."
    means = [g.score(True).mean for g in scored]
    every = "every setting" if len(held) == len(gs) else "every setting with a held-out set"
    # a tie: scores that show the same (the accuracy's one decimal, R²'s three)
    tied = len({shown_score(g, True) for g in scored}) == 1
    if len(scored) > 1 and tied:
        text = f"On {name}, {every} scores {shown_score(scored[0], True)} on the held-out test set"
    elif len(scored) == 1:
        g = scored[0]
        who = "" if len(gs) == 1 else f" of {nm(g)} (the only setting scored on one)"
        text = f"On {name}, the held-out test set{who} is scored at {acc_text(g, True)}"
    elif len(level := leaders(scored, True)) == len(scored):  # level within the spread
        text = (
            f"On the held-out test set of {name}, none ends clearly best: "
            f"{tie_list(level, nm, True)}"
        )
    else:
        low = scored[means.index(min(means))]
        text = (
            f"On the held-out test set of {name}, the best {best_of(scored, nm, True, True)}; "
            f"the lowest is {nm(low)}, at {acc_text(low, True)}"
        )
    gap = max(scored, key=lambda g: g.score().mean - g.score(True).mean)
    diff = gap.score().mean - gap.score(True).mean
    if values and diff >= 0.02:
        by = f"by up to {diff:.3f}, for {nm(gap)}" if len(scored) > 1 else f"by {diff:.3f}"
        text += f"; training R² exceeds it {by}"
    elif not values and 100 * diff >= 2:
        points = 100 * diff
        by = (
            f"by up to {points:.1f} points, for {nm(gap)}"
            if len(scored) > 1
            else f"by {points:.1f} points"
        )
        text += f"; training accuracy exceeds it {by}"
    return text + "."
