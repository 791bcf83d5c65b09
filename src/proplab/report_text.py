"""Sentences computed from the numbers: observations per experiment and the lab's questions.

Nothing here is canned: every sentence is chosen and filled from the
measured groups, so when a result changes the text changes with it. The
explanations (why a linear stack is linear, what a bias shifts) are fixed,
but which of them is said, and the numbers around them, come from the data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from proplab.aggregate import Stats
from proplab.config import RunConfig
from proplab.report_data import MOVING, ExperimentView, GroupView, dataset_name
from proplab.sweep import format_value


def pct(fraction: float) -> str:
    """``0.5238 -> '52.4 %'`` (NaN -> 'n/a')."""
    return "n/a" if not math.isfinite(fraction) else f"{100.0 * fraction:.1f} %"


def acc_text(g: GroupView, test: bool = False) -> str:
    """``'52.4 ± 0.0 %'`` over the seeds that did not diverge; ``'n/a'`` when all did
    (``test``: the accuracy on the held-out set)."""
    s = g.test_accuracy if test else g.accuracy
    if s.n == 0:
        return "n/a"
    if s.n == 1:
        return pct(s.mean)
    return f"{100 * s.mean:.1f} ± {100 * s.std:.1f} %"


def loss_text(g: GroupView) -> str:
    """``'1.10e-04 ± 2.5e-05'``; a spread below 1e-9 of the mean (rounding noise) shows as 0."""
    s = g.loss
    if s.n == 0:
        return "n/a"
    if s.n == 1:
        return f"{s.mean:.2e}"
    std = 0.0 if s.std <= 1e-9 * abs(s.mean) else s.std
    return f"{s.mean:.2e} ± {std:.1e}"


def range_text(g: GroupView) -> str:
    s = g.accuracy
    if s.n == 0:
        return "n/a"
    return f"{100 * s.min:.1f}–{100 * s.max:.1f}"


def epochs_text(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:,.0f}"


def seeds(k: int, n: int) -> str:
    return f"{k}/{n} seeds"


def listing(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def setting_name(view: ExperimentView, setting: str, bracket: bool = True) -> str:
    """How a setting reads in a sentence: ``lr 0.001``, ``hidden 4``, or its own label
    (``bracket``: one of several axes in brackets, ``(lr=1, activation=tanh)``)."""
    axes = view.experiment.setting_axes
    if len(axes) == 1:
        try:
            float(setting)
        except ValueError:
            return setting
        return f"{axes[0].name} {setting}"
    # "lr=1, activation=tanh" holds a comma: in a list of settings it needs a bracket
    return f"({setting})" if bracket and ", " in setting else setting


# ---------------------------------------------------------------- observations


def observations(view: ExperimentView) -> list[str]:
    """Short findings for one experiment, per dataset, from its groups."""
    notes: list[str] = []
    for ds in view.datasets:
        gs = [g for s in view.settings if (g := view.get(s, ds)) is not None]
        if not gs:
            continue
        name = dataset_name(ds)

        def nm(g: GroupView) -> str:
            return setting_name(view, g.setting)

        # with a held-out set, accuracy is the training data's: the headline says so and
        # a second line gives the test set's
        notes.append(_headline(f"{name} (training set)" if view.has_test else name, gs, nm))
        if view.has_test:
            notes.append(_test_line(name, gs, nm))
        stalled = [g for g in gs if g.n_single]
        if len(gs) == 1 and stalled:
            notes.append(
                f"On {name}, {seeds(gs[0].n_single, gs[0].n)} end up giving every point "
                "the same class."
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
        spread = [g for g in gs if g.accuracy.n > 1 and g.accuracy.max - g.accuracy.min >= 0.05]
        if spread:
            parts = [f"{nm(g)} ({range_text(g)} %)" for g in spread]
            notes.append(f"On {name}, the result depends on the seed for {listing(parts)}.")
        moving = [g for g in gs if not g.all_perfect and g.median_tail_change > MOVING]
        for g in moving:
            # the change is measured either way: a loss going up is not "improving"
            how = {
                "falling": "is still improving at the end (its loss is falling",
                "rising": "gets worse at the end (its loss is rising",
                "mixed": "is still changing at the end (its loss moves both ways across seeds",
            }[g.trend]
            notes.append(
                f"On {name}, {nm(g)} {how}; median change "
                f"{100 * g.median_tail_change:.0f} % over the last 10 % of epochs): "
                "its accuracy may change with more epochs."
            )
    speed = _cost_note(view)
    if speed:
        notes.append(speed)
    return notes


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
        text = f"On {name}, {seeds(g.n_perfect, g.n)} reach 100 %"
        if g.n_perfect:
            text += f" (median first epoch at 100 %: {epochs_text(g.median_first_perfect)})"
        return text + f"; accuracy {acc_text(g)}, final loss {loss_text(g)}."
    perfect = [g for g in gs if g.all_perfect]
    if perfect:
        by_speed = sorted(perfect, key=lambda g: g.median_first_perfect)
        if len(perfect) == len(gs):
            who = "every setting reaches"
        elif len(perfect) == 1:
            who = f"only {nm(perfect[0])} reaches"
        else:
            who = f"{listing([nm(g) for g in perfect])} reach"
        if len(perfect) == 1:
            speed = f"median epochs to get there: {epochs_text(perfect[0].median_first_perfect)}"
        else:
            speeds = [f"{epochs_text(g.median_first_perfect)} for {nm(g)}" for g in by_speed]
            speed = f"median epochs to get there: {listing(speeds)}"
        rest = [f"{nm(g)} ends at {acc_text(g)}" for g in gs if not g.all_perfect and g.accuracy.n]
        others = f"; {listing(rest)}" if rest else ""
        return f"On {name}, {who} 100 % in every seed; {speed}{others}."
    # a setting with diverged seeds is averaged over its survivors only: it is neither
    # "all the same" as the others nor "the best" (its diverged seeds are said elsewhere)
    clean = [g for g in gs if not g.n_diverged]
    means = [g.accuracy.mean for g in clean]
    if len(clean) == len(gs) and max(means) - min(means) < 0.005:
        return f"On {name}, no setting reaches 100 % in every seed; all end at {pct(means[0])}."
    text = f"On {name}, no setting reaches 100 % in every seed"
    if not clean:
        return f"{text}, and every setting diverged in some seed."
    among = "" if len(clean) == len(gs) else " of the settings with no diverged seed"
    return f"{text}; the best{among} {_best(clean, nm)}."


def _best(gs: list[GroupView], nm: Callable[[GroupView], str], test: bool = False) -> str:
    """``'is lr 1, at 99.8 ± 0.4 %'``, or every setting whose mean shows the same as the
    best (``'are lr 1 and lr 0.1, at 99.8 ± 0.4 %'``): a tie has no single best."""

    def shown(g: GroupView) -> str:
        return pct((g.test_accuracy if test else g.accuracy).mean)

    top = shown(max(gs, key=lambda g: (g.test_accuracy if test else g.accuracy).mean))
    tied = [g for g in gs if shown(g) == top]
    if len(tied) == 1:
        return f"is {nm(tied[0])}, at {acc_text(tied[0], test)}"
    texts = {acc_text(g, test) for g in tied}
    if len(texts) == 1:
        return f"are {listing([nm(g) for g in tied])}, at {texts.pop()} each"
    return "are " + listing([f"{nm(g)} ({acc_text(g, test)})" for g in tied])


def _test_line(name: str, gs: list[GroupView], nm: Callable[[GroupView], str]) -> str:
    """The held-out test set's accuracy: the best setting(s), the lowest, and the largest
    train-minus-test gap when it is 2 points or more."""
    held = [g for g in gs if g.has_test]  # a test_fraction axis may hold out nothing
    scored = [g for g in held if g.test_accuracy.n]
    if not scored:
        return f"On {name}, no run has a test accuracy (every seed diverged)."
    means = [g.test_accuracy.mean for g in scored]
    every = "every setting" if len(held) == len(gs) else "every setting with a held-out set"
    if len(scored) > 1 and max(means) - min(means) < 0.005:
        text = f"On {name}, {every} scores {pct(means[0])} on the held-out test set"
    elif len(scored) == 1:
        g = scored[0]
        who = "" if len(gs) == 1 else f" of {nm(g)} (the only setting scored on one)"
        text = f"On {name}, the held-out test set{who} is scored at {acc_text(g, True)}"
    else:
        low = min(scored, key=lambda g: g.test_accuracy.mean)
        text = (
            f"On the held-out test set of {name}, the best {_best(scored, nm, True)}; "
            f"the lowest is {nm(low)}, at {acc_text(low, True)}"
        )
    gap = max(scored, key=lambda g: g.accuracy.mean - g.test_accuracy.mean)
    points = 100 * (gap.accuracy.mean - gap.test_accuracy.mean)
    if points >= 2:
        by = (
            f"by up to {points:.1f} points, for {nm(gap)}"
            if len(scored) > 1
            else f"by {points:.1f} points"
        )
        text += f"; training accuracy exceeds it {by}"
    return text + "."


# ---------------------------------------------------------------- the lab's questions


class Finder:
    """Find groups by how their configuration differs from the sweep's base."""

    def __init__(self, views: Sequence[ExperimentView], base: RunConfig) -> None:
        self.base = base.to_dict()
        self.groups = [g for v in views for g in v.groups]

    def diff(self, g: GroupView) -> dict[str, object]:
        cfg = g.config.to_dict()
        return {k: v for k, v in cfg.items() if k not in ("dataset", "seed") and v != self.base[k]}

    def find(self, dataset: str, test: Callable[[dict[str, object]], bool]) -> GroupView | None:
        for g in self.groups:
            if g.dataset == dataset and test(self.diff(g)):
                return g
        return None

    def datasets(self) -> list[str]:
        out: list[str] = []
        for g in self.groups:
            if g.dataset not in out:
                out.append(g.dataset)
        return out


def answers(
    views: Sequence[ExperimentView],
    base: RunConfig,
    n_params: tuple[int, int],
    where: str = "",
) -> list[tuple[str, list[str]]]:
    """The lab's three questions, each answered in a few paragraphs with the measured numbers.

    ``n_params``: (weights, biases) of the base model; ``where`` (e.g. ``" on digits"``)
    says which dataset's model that is when the sweep's datasets differ in shape.
    """
    f = Finder(views, base)
    return [
        ("What are activation functions for?", _activation_answer(f)),
        ("What does a too high or too low learning rate do?", _lr_answer(f)),
        ("What are weights and biases for?", _bias_answer(f, n_params, where)),
    ]


def _activation_answer(f: Finder) -> list[str]:
    layers = len(RunConfig.from_dict(f.base).hidden_sizes) + 1  # weight matrices of the base
    product = "·".join(["x", *(f"W{i}" for i in range(1, layers + 1))])
    paras = [
        "Each hidden layer applies a nonlinear function after its linear map. Without one, "
        f"the layers collapse: {product} is itself a single linear map, so the network can "
        "draw only one straight boundary through the input space, however many layers it has."
    ]
    if RunConfig.from_dict(f.base).validate().activation == "identity":
        paras.append(
            "This sweep's base model itself has no hidden activation (identity), so its "
            "runs are the network without one; there is no base with activations to set "
            "them against."
        )
        return paras
    base = {ds: f.find(ds, lambda d: not d) for ds in f.datasets()}
    none = {ds: f.find(ds, lambda d: d == {"activation": "identity"}) for ds in f.datasets()}
    if not any(none.values()):
        paras.append("This sweep has no run without hidden activations to measure it.")
        return paras
    parts = []
    for ds, g in sorted(none.items(), key=lambda kv: kv[0] != "xor"):
        if g is None:
            continue
        text = f"{dataset_name(ds)} reaches {acc_text(g)}"
        if g.n_single:
            text += f" ({seeds(g.n_single, g.n)} give every point the same class)"
        b = base.get(ds)
        if b is not None:
            text += f", against {acc_text(b)} with {b.config.activation}"
        parts.append(text)
    paras.append("Measured with the identity in the hidden layers: " + "; ".join(parts) + ".")
    xor, lin = none.get("xor"), none.get("linear")
    xor_base = base.get("xor")
    if xor_base is not None and xor_base.accuracy.mean < 0.9:
        paras.append(
            f"With {_epochs(xor_base):,} epochs the network with activations does not "
            f"fit XOR either ({acc_text(xor_base)}), so this run cannot tell the two apart."
        )
    elif xor is not None and lin is not None:
        if xor.accuracy.max < 0.9 <= lin.accuracy.mean:
            paras.append(
                "That is exactly what one straight boundary allows: the line x0 = x1 separates "
                f"the linear dataset, but no line separates XOR (its best seed reaches only "
                f"{pct(xor.accuracy.max)})."
            )
        elif xor.accuracy.mean >= 0.9:
            paras.append(
                f"XOR is still fit here ({acc_text(xor)}): the output sigmoid alone bends the "
                "boundary enough for these 21 points."
            )
        else:
            paras.append(
                f"Both datasets suffer: linear ends at {acc_text(lin)} and XOR at {acc_text(xor)}."
            )
    linear_net = {
        ds: f.find(
            ds,
            lambda d: (
                d.get("activation") == "identity"
                and d.get("output_activation") == "identity"
                and set(d) <= {"activation", "output_activation", "lr"}
            ),
        )
        for ds in f.datasets()
    }
    parts = [f"{dataset_name(ds)} {acc_text(g)}" for ds, g in linear_net.items() if g is not None]
    if parts:
        g0 = next(g for g in linear_net.values() if g is not None)
        paras.append(
            "Without the output sigmoid as well (a purely linear network, lr "
            f"{format_value(g0.config.lr)}, which fits a least-squares plane): "
            + listing(parts)
            + "."
        )
    others = {}
    for ds in f.datasets():
        for g in f.groups:
            d = f.diff(g)
            if g.dataset == ds and set(d) == {"activation"} and d["activation"] != "identity":
                others.setdefault(ds, []).append(g)
    if "xor" in others:
        parts = [f"{g.config.activation} {acc_text(g)}" for g in others["xor"]]
        paras.append("Other nonlinearities on XOR: " + listing(parts) + ".")
    return paras


# a loss that changed by less than this over a whole run has barely moved
BARELY_MOVED = 0.1


def _lr_answer(f: Finder) -> list[str]:
    paras = [
        "Each step moves the weights by the learning rate times the gradient. Too large, and "
        "a step overshoots the valley it aims for; too small, and the weights barely move."
    ]
    by_ds: dict[str, list[GroupView]] = {}
    for ds in f.datasets():
        seen = {}
        for g in f.groups:
            d = f.diff(g)
            if g.dataset == ds and set(d) <= {"lr"} and g.config.lr not in seen:
                seen[g.config.lr] = g
        if len(seen) > 1:
            by_ds[ds] = [seen[k] for k in sorted(seen)]
    if not by_ds:
        paras.append("This sweep has no learning-rate comparison to measure it.")
        return paras
    ds0 = "xor" if "xor" in by_ds else next(iter(by_ds))
    gs = by_ds[ds0]
    name = dataset_name(ds0)
    high, low = gs[-1], gs[0]
    lr = format_value
    if high.n_diverged:
        paras.append(
            f"Too high, measured: at lr {lr(high.config.lr)} the loss overflows to NaN in "
            f"{seeds(high.n_diverged, high.n)} on {name}."
        )
    elif high.n_single and any(r.saturated for r in high.runs):
        n_sat = sum(r.saturated and r.single_class for r in high.runs)
        starts = [r.loss[:2] for r in high.runs if r.loss.size >= 2]
        first, second = (float(np.median([a[i] for a in starts])) for i in (0, 1))
        jump = (
            f"after a single update the loss jumps from {first:.3f} to {second:.3f} "
            "(median over seeds) and the sigmoids saturate"
            if starts and second > first
            else "the sigmoids saturate"
        )
        paras.append(
            f"Too high, measured: at lr {lr(high.config.lr)} on {name}, {jump}. In "
            f"{seeds(n_sat, high.n)} every output ends within 0.001 of 0 or 1 and every point "
            f"gets the same class ({acc_text(high)}, final loss {loss_text(high)}); where the "
            "sigmoid is flat its slope s(1 − s) is about 0, so the gradient vanishes and "
            "training never recovers."
        )
    else:
        # low accuracy alone is no sign of a too high rate: a rate that ends below 90 %
        # while every lower one ends lower still is undertrained, not past the valley
        paras.append(_too_high_compared(high, gs[:-1], name))
    perfect = [g for g in gs if g.all_perfect]
    if perfect:
        fast = min(perfect, key=lambda g: g.median_first_perfect)
        text = (
            f"The fastest rate here is lr {lr(fast.config.lr)}: 100 % on {name} after a median "
            f"of {epochs_text(fast.median_first_perfect)} epochs"
        )
        lab = next((g for g in gs if g.config.lr == f.base["lr"]), None)
        if lab is not None and lab is not fast and lab.all_perfect:
            whose = "the lab's" if f.base["lr"] == RunConfig().lr else "the base"
            text += f", against {epochs_text(lab.median_first_perfect)} at {whose} lr {lr(lab.config.lr)}"
        paras.append(text + ".")
    change = [r.total_change for r in low.runs if math.isfinite(r.total_change)]
    if change:
        moved = float(np.median(change))
        pct = 100 * moved
        moved_text = f"{pct:.0f}" if pct >= 10 else f"{pct:.2g}"  # 100, not 1e+02
        epochs = f"{_epochs(low):,} epochs"
        if moved < BARELY_MOVED:
            paras.append(
                f"Too low, measured: at lr {lr(low.config.lr)} the loss changes by a median of "
                f"only {moved_text} % over {epochs} and {name} ends at {acc_text(low)}: the steps "
                "are so small that the weights stay near their random start."
            )
        else:
            paras.append(
                f"No tested rate was too low on {name}: even lr {lr(low.config.lr)} changes the "
                f"loss by a median of {moved_text} % over {epochs} and ends at {acc_text(low)}."
            )
    between = [g for g in reversed(gs) if g is not high and g is not low]
    stuck = [g for g in between if g.n_single == g.n]
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
                f"every {name} point the same class after {_epochs(stuck[0]):,} epochs in every "
                "seed" + (f", and so does {some}" if partly else "")
            )
        else:
            text = (
                f"In between, {some} still {'gives' if len(partly) == 1 else 'give'} every "
                f"{name} point the same class after {_epochs(partly[0]):,} epochs"
            )
        paras.append(
            text + ": the loss sits on a plateau where the gradient is small, and the smaller "
            "the rate the more epochs it takes to leave it."
        )
    return paras


# accuracy differences under 2 points are noise even with no spread over seeds
ACC_NOISE = 0.02


def _clearly_below(a: Stats, b: Stats, floor: float) -> bool:
    """Whether mean ``a`` is below mean ``b`` by more than the seeds explain: by more than
    ``floor`` and than twice the standard error of the difference (a lone seed has no
    spread, so its std counts as 0)."""
    if not (a.n and b.n):
        return False
    var = sum((s.std if math.isfinite(s.std) else 0.0) ** 2 / s.n for s in (a, b))
    return b.mean - a.mean > max(floor, 2.0 * math.sqrt(var))


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
    better = [g for g in lower if _clearly_below(high.accuracy, g.accuracy, ACC_NOISE)]
    if better:
        b = max(better, key=lambda g: (g.accuracy.mean, g.config.lr))
        return (
            f"Too high, measured: {h} ends at {acc_text(high)} on {name}, while the lower "
            f"lr {lr(b.config.lr)} ends at {acc_text(b)}, a gap larger than the spread over seeds."
        )
    same = [g for g in lower if not _clearly_below(g.accuracy, high.accuracy, ACC_NOISE)]
    # "more than twice as low": the floor of the gap is the lower rate's own loss
    better = [g for g in same if _clearly_below(g.loss, high.loss, g.loss.mean)]
    if better:
        b = min(better, key=lambda g: (g.loss.mean, -g.config.lr))
        return (
            f"Too high, measured: {h} ends at a final loss of {loss_text(high)} on {name}, "
            f"while the lower lr {lr(b.config.lr)} ends at {loss_text(b)}, a gap larger than "
            "the spread over seeds; their accuracies do not differ beyond it "
            f"({acc_text(high)} against {acc_text(b)})."
        )

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
        top = _best(lower, lambda g: f"lr {lr(g.config.lr)}")  # "is lr 0.1, at ..."
        rates = f"the best lower rate{'' if top.startswith('is ') else 's'} {top}"
        if not above and not tied:
            text = (
                f"No tested rate was too high on {name}: the highest, {h}, ends best, at "
                f"{acc_text(high)} ({rates})."
            )
        else:
            text = (
                f"No tested rate was shown to be too high on {name}: the highest, {h}, ends at "
                f"{acc_text(high)}, and no lower rate ends better by more than the spread over "
                f"seeds ({rates})."
            )
    if high.all_perfect:
        return text
    epochs = f"{_epochs(high):,} epochs"
    then = (
        "a longer run would show how far it gets, and a higher rate where too high begins"
        if not above
        else "a longer run would tell whether it catches up"
    )
    if high.median_tail_change > MOVING and high.trend == "falling":
        text += (
            f" Its loss is still falling after {epochs} (median change "
            f"{100 * high.median_tail_change:.0f} % over the last 10 % of epochs): it had not "
            f"finished, so {then}."
        )
    elif high.n_single:
        text += (
            f" In {seeds(high.n_single, high.n)} it still gives every {name} point the same "
            f"class after {epochs}: those seeds have not left the plateau where the gradient "
            f"is small, so {then}."
        )
    return text


def _bias_answer(f: Finder, n_params: tuple[int, int], where: str = "") -> list[str]:
    weights, biases = n_params
    # the lab's network (2-10-10-1 sigmoid with biases), or whatever the sweep's base trains
    lab = RunConfig()
    shape = ("model", "hidden", "activation", "output_activation", "bias")
    which = "lab" if all(f.base[k] == getattr(lab, k) for k in shape) else "base"
    act = f.base["activation"]
    unit = "σ(w·x + b)" if act == "sigmoid" else f"f(w·x + b), with f its activation ({act})"
    paras = [
        f"The {which} model{where} has {weights + biases} parameters: {weights} weights and {biases} "
        f"biases. A unit computes {unit}: its weights set the direction and steepness of "
        "its boundary and how strongly each input counts; its bias shifts that boundary, "
        "which without a bias must pass through the origin of the unit's inputs."
    ]
    parts = []
    worse, unfit = [], []
    for ds in sorted(f.datasets(), key=lambda d: d != "xor"):
        nob = f.find(ds, lambda d: d == {"bias": False})
        base = f.find(ds, lambda d: not d)
        if nob is None or base is None:
            continue
        text = f"{dataset_name(ds)} {acc_text(nob)} without biases"
        if nob.all_perfect and base.all_perfect:
            text += (
                f" (median {epochs_text(nob.median_first_perfect)} epochs to 100 %) against "
                f"{acc_text(base)} with them ({epochs_text(base.median_first_perfect)})"
            )
        else:
            text += f" against {acc_text(base)} with them"
        parts.append(text)
        if nob.accuracy.mean < base.accuracy.mean - 0.02:
            worse.append(dataset_name(ds))
        if base.accuracy.mean < 0.9 and nob.accuracy.mean < 0.9:
            unfit.append(dataset_name(ds))
    if not parts:
        paras.append("This sweep has no run without biases to measure it.")
        return paras
    paras.append("Measured: " + "; ".join(parts) + ".")
    if worse:
        paras.append(f"Without biases the network does worse on {listing(worse)}.")
    elif unfit:
        paras.append(
            f"On {listing(unfit)} neither variant fits the data at this budget, so the "
            "comparison shows no effect of the biases there."
        )
    else:
        paras.append(
            "Both datasets are still fit without biases: the hidden sigmoids output 0.5 at a "
            "zero input, a constant that the next layer can use like a bias, and the linear "
            "dataset's boundary x0 = x1 passes through the origin anyway."
        )
    return paras


def _epochs(group: GroupView) -> int:
    """The epochs a setting trained: its longest run's (a seed may stop early at ``tol``)."""
    return max(r.loss.size for r in group.runs)
