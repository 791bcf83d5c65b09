"""The lab's questions answered from a sweep's numbers: activations, learning rates, bias.

Split from :mod:`proplab.report_text` (observations and the phrases both use).
Nothing here is canned: each answer is chosen and filled from the measured groups
(the explanations are fixed; which is said, and the numbers around it, are not).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from proplab.aggregate import Stats, clearly_below, difference_spread
from proplab.config import ConfigError, RunConfig, is_mini_batch
from proplab.report_data import (
    MOVING,
    ExperimentView,
    GroupView,
    RunView,
    best_line_hits,
    dataset_name,
    training_data,
)
from proplab.report_hidden import QUESTION as HIDDEN_QUESTION
from proplab.report_hidden import hidden_answer
from proplab.report_text import (
    NEAR_MEAN,
    acc_text,
    best_of,
    bounce_text,
    epochs_text,
    listing,
    loss_text,
    pct,
    r2_value,
    seeds,
    shown_score,
)
from proplab.sweep_spec import format_value


class Finder:
    """Find groups by how their configuration differs from the sweep's base.

    ``values``: the sweep file's own ``[base]`` table, when known. A run on a dataset of
    the other kind than the base's gets that kind's own output where the file names none
    (a sweep of circle and multi-gauss runs its multi-gauss runs with an identity
    output): it is compared with the base as that dataset's runs got it, so that output
    does not count as something the run changed.
    """

    def __init__(
        self,
        views: Sequence[ExperimentView],
        base: RunConfig,
        values: dict[str, object] | None = None,
    ) -> None:
        self.base = base.to_dict()
        self.values = values
        self._references: dict[tuple[str, str], dict[str, object]] = {}
        self.groups = [g for v in views for g in v.groups]
        # which experiment each group is from: an lr comparison may sit under its own base
        self.experiment_of = {id(g): v.experiment for v in views for g in v.groups}

    def reference(self, g: GroupView) -> dict[str, object]:
        """The base configuration as a run on ``g``'s dataset got it."""
        if self.values is None:
            return self.base
        from proplab.sweep_spec import with_regression_defaults

        own = {"dataset": g.config.dataset, "task": g.config.task}
        key = (own["dataset"], own["task"])
        if key not in self._references:
            try:
                cfg = RunConfig.from_dict(with_regression_defaults({**self.values, **own}))
                self._references[key] = cfg.validate().to_dict()
            except ConfigError:  # the base cannot run there: every run changed something
                self._references[key] = self.base
        return self._references[key]

    def diff(self, g: GroupView) -> dict[str, object]:
        cfg = g.config.to_dict()
        ref = self.reference(g)
        return {k: v for k, v in cfg.items() if k not in ("dataset", "seed") and v != ref[k]}

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
    values: dict[str, object] | None = None,
) -> list[tuple[str, list[str]]]:
    """The lab's three questions, each answered in a few paragraphs with the measured numbers,
    and a fourth on the hidden layers' width when the sweep varies it alone
    (:mod:`proplab.report_hidden`).

    ``n_params``: (weights, biases) of the base model; ``where`` (e.g. ``" on digits"``)
    says which dataset's model that is when the sweep's datasets differ in shape;
    ``values``: the sweep file's ``[base]`` table (see :class:`Finder`).
    """
    f = Finder(views, base, values)
    out = [
        ("What are activation functions for?", _activation_answer(f)),
        ("What does a too high or too low learning rate do?", _lr_answer(f)),
        ("What are weights and biases for?", _bias_answer(f, n_params, where)),
    ]
    hidden = hidden_answer(f)  # asked only when the sweep compares widths
    if hidden is not None:
        out.append((HIDDEN_QUESTION, hidden))
    return out


def _activation_answer(f: Finder) -> list[str]:
    layers = len(RunConfig.from_dict(f.base).hidden_sizes) + 1  # weight matrices of the base
    if f.base.get("bias", True):  # each layer x·W + b: the composition is one affine map
        product = "x"
        for i in range(1, layers + 1):
            product = f"({product}·W{i} + b{i})" if i < layers else f"{product}·W{i} + b{i}"
        product += " = x·W + b"
        kind = "affine map"
    else:
        product = "·".join(["x", *(f"W{i}" for i in range(1, layers + 1))]) + " = x·W"
        kind = "linear map"
    # a regression has no boundary: what the single linear map limits is the fitted function
    values = bool(f.groups) and all(g.regression for g in f.groups)
    can = (
        "fit only a linear function of its inputs (a plane over two inputs) to the values"
        if values
        else "draw only one straight boundary through the input space"
    )
    paras = [
        "Each hidden layer applies a nonlinear function after its linear map. Without one, "
        f"the layers collapse: {product} is itself a single {kind}, so the network can "
        f"{can}, however many layers it has."
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
    # judged where it matters, on the held-out set, when every compared group has one
    compared = [g for ds, g in none.items() if g is not None] + [
        b for ds, b in base.items() if b is not None and none.get(ds) is not None
    ]
    held = _all_held_out(compared)
    on = " on the held-out set" if held else ""
    parts, reversed_on = [], []
    for ds, g in sorted(none.items(), key=lambda kv: kv[0] != "xor"):
        if g is None:
            continue
        text = f"{dataset_name(ds)} reaches {acc_text(g, held)}{on}"
        if g.n_single:
            text += f" ({seeds(g.n_single, g.n)} give every point the same class)"
        b = base.get(ds)
        if b is not None:
            text += f", against {acc_text(b, held)} with {b.config.activation}"
            if held:
                text += f" (training: {acc_text(g)} against {acc_text(b)})"
                # the activations fit the training data better but generalise worse, each
                # by more than the seeds explain (persona22 M6: the bias answer's rule)
                noise = R2_NOISE if g.regression else ACC_NOISE
                if clearly_below(g.score(), b.score(), noise) and clearly_below(
                    b.score(True), g.score(True), noise
                ):
                    reversed_on.append((ds, b.config.activation))
        elif held:
            text += f" (training: {acc_text(g)})"
        parts.append(text)
    paras.append("Measured with the identity in the hidden layers: " + "; ".join(parts) + ".")
    for ds, act in reversed_on:
        paras.append(
            f"On {dataset_name(ds)} the held-out set reverses the training order: with "
            f"{act} the network fits its training data better, but scores lower on data it "
            "did not train on, so what the nonlinearity added there is overfitting."
        )
    flat = [
        dataset_name(ds)
        for ds, g in none.items()
        if g is not None
        and g.regression
        and g.r2.n
        and g.r2.mean < NEAR_MEAN
        and g.config.output_activation == "identity"
    ]
    if flat:  # a regression: the network without activations is a least-squares plane
        paras.append(
            "With an identity output as well, that network is a linear function of the "
            f"inputs, and its R² near 0 on {listing(flat)} says the targets have almost no "
            "linear trend: what the network with activations fits beyond their mean comes "
            "from its nonlinearity."
        )
    xor, lin = none.get("xor"), none.get("linear")
    xor_base = base.get("xor")
    if xor_base is not None and xor_base.accuracy.mean < 0.9:
        paras.append(
            f"With {_epochs(xor_base):,} epochs the network with activations does not "
            f"fit XOR either ({acc_text(xor_base)}), so this run cannot tell the two apart."
        )
    elif xor is not None and lin is not None:
        # without hidden activations the boundary is a straight line whatever the output
        # activation (sigmoid(x w + b) = 0.5 is the line x w + b = 0): XOR cannot be fit
        if xor.accuracy.max < 0.9 <= lin.accuracy.mean:
            paras.append(_one_line_on_xor(xor))
        elif xor.accuracy.max < 0.9:
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
    others: dict[str, list[GroupView]] = {}
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


def _one_line_on_xor(xor: GroupView) -> str:
    """What one straight boundary can do on XOR, beside what these runs did."""
    x, y = training_data(xor.runs[0].record.config)
    n = len(x)
    best = best_line_hits(x, y)
    text = (
        "That is what one straight boundary allows: the line x1 = x2 separates the linear "
        f"dataset, but no line separates XOR; the best line classifies {best} of its {n} "
        f"points ({pct(best / n)})."
    )
    if xor.accuracy.max < best / n - 1e-9:
        single = xor.n_single
        text += " Trained by gradient descent, this network does not even find that line: " + (
            f"{seeds(single, xor.n)} give every point the same class ({acc_text(xor)})."
            if single
            else f"it ends at {acc_text(xor)}."
        )
    return text


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


def _lr_answer(f: Finder) -> list[str]:
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
    # only where some seed of each such rate does not bounce: "the others descend"
    counts = [(sum(r.loss_bounces for r in g.runs), g.n) for g in gs if not g.n_diverged]
    others = all(k < n for k, n in counts if k)
    text = (
        f"Overshooting, measured on {name}: {'; '.join(parts)}. There the step is too long "
        "for the valley's curvature: it lands on the far side, higher than it started, and "
        "the next one jumps back, so the loss goes up on alternate epochs instead of "
        "settling" + (" (the other seeds, at the same rate, still descend)." if others else ".")
    )
    return f"{text} {flipping}" if flipping else text


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
        count = "in every seed" if g.n_diverged == g.n else f"in {seeds(g.n_diverged, g.n)}"
        rate = f"lr {format_value(g.config.lr)}"
        if chunks and chunks[-1][1] == count:
            chunks[-1][0].append(rate)
        else:
            chunks.append(([rate], count))
    where = listing([f"{listing(rates)} {count}" for rates, count in chunks])
    ends = [r.record.epochs for g in gone for r in g.runs if r.record.diverged]
    when = f", at epoch {int(np.median(ends)):,} (median over those runs)" if ends else ""
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
            f"{_first_epochs_text(high, first, second)} (median over seeds) and the "
            "sigmoids saturate"
            if starts and second > first
            else "the sigmoids saturate"
        )
        paras.append(
            f"Too high, measured: at lr {lr(high.config.lr)} on {name}, {jump}. In "
            f"{seeds(n_sat, high.n)} every output ends within 0.001 of 0 or 1 and every point "
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
            f"{lr(fast.config.lr)}: 100 % on {name} for good after a median "
            f"of {epochs_text(fast.median_perfect_from)} epochs"
        )
        lab = next((g for g in gs if g.config.lr == f.base["lr"]), None)
        if lab is not None and lab is not fast and lab.all_perfect:
            whose = "the lab's" if f.base["lr"] == RunConfig().lr else "the base"
            text += f", against {epochs_text(lab.median_perfect_from)} at {whose} lr {lr(lab.config.lr)}"
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
                f"only {moved_text} % over {epochs} and {name} ends at {acc_text(low)}"
                + (
                    ": the weights stay near their random start."
                    if brief
                    else ": the steps are so small that the weights stay near their random start."
                )
            )
        elif not low.all_perfect and perfect and not low.n_diverged:
            # still moving, but short of what a higher rate reached in the same epochs
            paras.append(
                f"Too low for {epochs}: lr {lr(low.config.lr)} changes the loss by a median of "
                f"{moved_text} % but ends at {acc_text(low)} on {name}, where lr "
                f"{lr(min(perfect, key=lambda g: g.config.lr).config.lr)} reaches 100 % in every "
                "seed; it is still on its way, and more epochs may take it there."
            )
        else:
            # a lowest rate that diverged in some seeds ends at its other seeds' accuracy
            # (diverge18: "ends at 100.0 ± 0.0 %" for a rate just called too high)
            survivors = (
                f" in the {seeds(low.n - low.n_diverged, low.n)} that did not diverge"
                if low.n_diverged
                else ""
            )
            paras.append(
                f"No tested rate was too low on {name}: even lr {lr(low.config.lr)} changes the "
                f"loss by a median of {moved_text} % over {epochs} and ends at "
                f"{acc_text(low)}{survivors}."
            )
    if brief:
        return paras
    between = [g for g in reversed(gs) if g is not high and g is not low]
    stuck = [g for g in between if g.n_single == g.n]
    # stuck above where it started (saturated, or a ReLU net blown up): too high as well,
    # no plateau that more epochs would leave (diverge18: lr 100 and 1000 beside 10000)
    worse = [g for g in stuck if _ended_worse(g)]
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


def _ended_worse(g: GroupView) -> bool:
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
        f"{name} point the same class after {_epochs(worse[0]):,} epochs in every seed, the "
        "loss higher at the end than at the first epoch: no plateau that more epochs would "
        "leave; a smaller rate is what helps."
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
    clean = [g for g in gs if not g.n_diverged and g.r2.n]
    # compared where it matters, on the held-out set, when every rate has one
    held = bool(clean) and all(g.has_test and g.test_r2.n for g in clean)
    where = "held-out " if held else ""
    best = max(clean, key=lambda g: g.score(held).mean) if clean else None
    # the highest rate "ends best" was said just above, on the training data: only the
    # held-out set has more to add
    if len(clean) > 1 and best is not None and (held or best is not high):
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
    if low is high or low.n_diverged:
        return paras
    change = [r.total_change for r in low.runs if math.isfinite(r.total_change)]
    if not change:
        return paras
    moved = float(np.median(change))
    moved_text = f"{100 * moved:.0f}" if moved >= 0.1 else f"{100 * moved:.2g}"
    epochs = f"{_epochs(low):,} epochs"
    top = max(clean, key=lambda g: g.score(held).mean) if clean else low
    on = " on the held-out set" if held else ""
    if moved < BARELY_MOVED:
        paras.append(
            f"Too low, measured: at lr {lr(low.config.lr)} the loss changes by a median of "
            f"only {moved_text} % over {epochs} and {name} ends at {acc_text(low, held)}{on}: "
            "the steps are so small that the weights stay near their random start."
        )
    elif top is not low and clearly_below(low.score(held), top.score(held), R2_NOISE):
        text = (
            f"Too low for {epochs}: at lr {lr(low.config.lr)} the loss changes by a median of "
            f"{moved_text} %, yet {name} ends at {acc_text(low, held)}{on} against "
            f"{acc_text(top, held)} at lr {lr(top.config.lr)}: smaller steps get less far in "
            "the same number of epochs"
        )
        if _still_falling(low):
            text += (
                f"; its loss is still falling at the end (median change "
                f"{100 * low.median_tail_change:.0f} % over the last 10 % of epochs), so it is "
                "slow rather than stuck, and more epochs would take it further"
            )
        paras.append(text + ".")
    elif top is not low and shown_score(low, held) != shown_score(top, held):
        # lower, but not by more than the seeds' spread: not shown either way
        why = _not_clearly(low.score(held), top.score(held), regression=True)
        paras.append(
            f"No tested rate was shown to be too low on {name}: lr {lr(low.config.lr)} changes "
            f"the loss by a median of {moved_text} % over {epochs} and ends at "
            f"{acc_text(low, held)}{on}, below lr {lr(top.config.lr)}'s "
            f"{acc_text(top, held, named=False)} but not by more than {why}."
        )
    else:
        paras.append(
            f"No tested rate was too low on {name}: even lr {lr(low.config.lr)} changes the "
            f"loss by a median of {moved_text} % over {epochs} and ends at {acc_text(low, held)}{on}."
        )
    return paras


# R² differences under 0.02 are noise even with no spread over seeds
R2_NOISE = 0.02


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


# accuracy differences under 2 points are noise even with no spread over seeds
ACC_NOISE = 0.02


def _still_falling(group: GroupView) -> bool:
    """The group's loss was still falling clearly at the end of its runs."""
    return group.median_tail_change > MOVING and group.trend == "falling"


def _still_falling_text(high: GroupView, above: bool) -> str:
    """The too-high answers' sentence for a highest rate whose loss had not finished falling
    (``above``: a lower rate ended better)."""
    return (
        f" Its loss is still falling after {_epochs(high):,} epochs (median change "
        f"{100 * high.median_tail_change:.0f} % over the last 10 % of epochs): it had not "
        f"finished, so {_longer_run(above)}."
    )


def _longer_run(above: bool) -> str:
    """What a longer run of the highest rate would show (``above``: a lower rate ended better)."""
    if above:
        return "a longer run would tell whether it catches up"
    return "a longer run would show how far it gets, and a higher rate where too high begins"


def _not_clearly(a: Stats, b: Stats, regression: bool) -> str:
    """Why mean ``a``, below ``b``, is not :func:`clearly_below` it, as a sentence says it
    ("not by more than ..."): the seeds' spread (twice the standard error of the
    difference), or the noise floor (0.02 of R², 2 points of accuracy) when the gap is
    beyond the spread but under the floor."""
    if b.mean - a.mean <= difference_spread(a, b):
        return "the spread over seeds"
    return f"{R2_NOISE:g} of R²" if regression else f"{100 * ACC_NOISE:g} points"


def _not_clearly_any(high: GroupView, above: list[GroupView], held: bool = False) -> str:
    """Why none of the lower rates ``above`` (which end higher than ``high``) ends clearly
    better: the spread over seeds, the noise floor, or each for some of them (``held``:
    on the held-out set)."""
    whys = {_not_clearly(high.score(held), g.score(held), high.regression) for g in above}
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
    epochs = f"{_epochs(high):,} epochs"
    if _still_falling(high):
        text += _still_falling_text(high, bool(above))
    elif high.n_single:
        text += (
            f" In {seeds(high.n_single, high.n)} it still gives every {name} point the same "
            f"class after {epochs}: those seeds have not left the plateau where the gradient "
            f"is small, so {_longer_run(bool(above))}."
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
    pairs = []
    for ds in sorted(f.datasets(), key=lambda d: d != "xor"):
        nob = f.find(ds, lambda d: d == {"bias": False})
        base = f.find(ds, lambda d: not d)
        if nob is not None and base is not None:
            pairs.append((ds, nob, base))
    if not pairs:
        paras.append("This sweep has no run without biases to measure it.")
        return paras
    # judged where it matters, on the held-out set, when every compared group has one
    held = _all_held_out([g for _, nob, base in pairs for g in (nob, base)])
    on = " on the held-out set" if held else ""
    parts = []
    worse, unfit, regression = [], [], []
    unclear: list[tuple[str, GroupView, GroupView]] = []  # lower, but within the seeds' spread
    for ds, nob, base in pairs:
        text = f"{dataset_name(ds)} {acc_text(nob, held)}{on} without biases"
        if nob.all_perfect and base.all_perfect and not held:
            text += (
                f" (median {epochs_text(nob.median_perfect_from)} epochs to 100 % for good) "
                f"against {acc_text(base)} with them ({epochs_text(base.median_perfect_from)})"
            )
        else:
            text += f" against {acc_text(base, held)} with them"
        if held:
            text += f" (training: {acc_text(nob)} against {acc_text(base)})"
        parts.append(text)
        # worse only by more than the seeds explain, the rule the learning-rate answer
        # uses (persona22 M6: "does worse" from 2 points inside a 10-13 point spread)
        noise = R2_NOISE if base.regression else ACC_NOISE
        a, b = nob.score(held), base.score(held)
        if clearly_below(a, b, noise):
            worse.append(dataset_name(ds))
        elif a.n and b.n and a.mean < b.mean - noise:
            unclear.append((dataset_name(ds), nob, base))
        # (an R² of 0.7 fits values, if not closely: no threshold of "fitting" for them)
        if not base.regression and base.score(held).mean < 0.9 and nob.score(held).mean < 0.9:
            unfit.append(dataset_name(ds))
        if base.regression:
            regression.append(dataset_name(ds))
    paras.append("Measured: " + "; ".join(parts) + ".")
    if worse or unclear:
        said: list[str] = []
        if worse:
            where = "the held-out set of " if held else ""
            said.append(f"Without biases the network does worse on {where}{listing(worse)}.")
        if unclear:
            said.append(_unclear_text(unclear, held, bool(worse)))
        paras.append(" ".join(said))
    elif unfit:
        paras.append(
            f"On {listing(unfit)} neither variant fits the data{on} at this budget, so the "
            "comparison shows no effect of the biases there."
        )
    elif regression:  # the lab's explanation below is about its sigmoids and its line
        paras.append(
            f"Without biases the network fits {listing(regression)} about as well as with "
            f"them{on} (within 0.02 of R²): these data do not show what the biases are for."
        )
    else:
        paras.append(_still_fit([ds for ds, _, _ in pairs], [b for _, _, b in pairs], on))
    return paras


def _unclear_text(unclear: list[tuple[str, GroupView, GroupView]], held: bool, also: bool) -> str:
    """The datasets where the network without biases ends lower on average, but by no
    more than the spread over seeds explains (:func:`clearly_below`): no clear
    difference, said with the seed counts (``also``: another dataset was clearly worse)."""
    names = listing([name for name, _, _ in unclear])
    counts = sorted({g.n for _, nob, base in unclear for g in (nob, base)})
    on = " on the held-out set" if held else ""
    lead = (
        f"On {names} it also ends lower{on}"
        if also
        else (f"Without biases the network ends lower on average on {names}{on}")
    )
    return (
        f"{lead}, but by less than the spread over {' and '.join(map(str, counts))} seeds: "
        "no clear difference either way. More seeds would tell whether the biases matter there."
    )


def _all_held_out(groups: list[GroupView]) -> bool:
    """Whether every group of ``groups`` has a held-out score to compare (not every seed
    diverged): then the held-out set, not the training data, tells which does better."""
    return bool(groups) and all(g.has_test and g.score(True).n for g in groups)


def _still_fit(datasets: list[str], bases: list[GroupView], on: str) -> str:
    """Why every dataset of ``datasets`` is fit as well without biases, said only where it
    holds: a sigmoid's 0.5 at a zero input (sigmoid hidden units only), and the linear
    dataset's boundary through the origin (when it is one of them)."""
    names = [dataset_name(ds) for ds in datasets]
    which = (
        f"{names[0]} is"
        if len(names) == 1
        else "Both datasets are"
        if len(names) == 2
        else f"All {len(names)} datasets are"
    )
    reasons = []
    if all(g.config.activation == "sigmoid" for g in bases):
        reasons.append(
            "the hidden sigmoids' outputs lie between 0 and 1, never centred on 0, so a weight "
            "on one adds a positive offset (its mean output times the weight) that the next "
            "layer can use like a bias"
        )
    if "linear" in datasets:
        reasons.append("the linear dataset's boundary x1 = x2 passes through the origin anyway")
    if not reasons:
        return (
            f"{which} still fit without biases{on} (within 2 points of accuracy): these data "
            "do not show what the biases are for."
        )
    return f"{which} still fit without biases{on}: " + ", and ".join(reasons) + "."


def _epochs(group: GroupView) -> int:
    """The epochs a setting trained: its longest run's (a seed may stop early at ``tol``)."""
    return max(r.loss.size for r in group.runs)
