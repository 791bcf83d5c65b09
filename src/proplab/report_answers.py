"""The lab's questions answered from a sweep's numbers: activations, learning rates, bias,
and the hidden layers' width (:mod:`proplab.report_lr` answers the learning rate's,
:mod:`proplab.report_hidden` the width's).

Split from :mod:`proplab.report_text` (observations and the phrases both use).
Nothing here is canned: each answer is chosen and filled from the measured groups
(the explanations are fixed; which is said, and the numbers around it, are not).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from proplab.aggregate import clearly_below
from proplab.config import ConfigError, RunConfig
from proplab.report_data import (
    ACC_NOISE,
    R2_NOISE,
    ExperimentView,
    GroupView,
    best_line_hits,
    dataset_name,
    training_data,
)
from proplab.report_hidden import QUESTION as HIDDEN_QUESTION
from proplab.report_hidden import hidden_answer
from proplab.report_lr import ended_worse, lr_answer
from proplab.report_text import (
    NEAR_MEAN,
    above_in_every_seed,
    acc_text,
    epochs_text,
    gap_range,
    lab_or_base,
    listing,
    pct,
    seeds,
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
        ("What does a too high or too low learning rate do?", lr_answer(f)),
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
            f"With {xor_base.epochs_trained:,} epochs the network with activations does not "
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


def _bias_answer(f: Finder, n_params: tuple[int, int], where: str = "") -> list[str]:
    weights, biases = n_params
    # the lab's network as the lab trains it, or whatever the sweep's base trains
    which = lab_or_base(f.base, f.datasets())
    act = f.base["activation"]
    unit = "σ(w·x + b)" if act == "sigmoid" else f"f(w·x + b), with f its activation ({act})"
    # a regression has no class boundary: a unit's output changes across the line
    # w·x + b = 0 all the same (claims23 L6: "its boundary" on multi-gauss)
    values = bool(f.groups) and all(g.regression for g in f.groups)
    what = (
        "the direction in which its output changes over the inputs, how steeply, and how "
        "strongly each input counts; its bias shifts where that change is centred (the line "
        "w·x + b = 0)"
        if values
        else "the direction and steepness of its boundary and how strongly each input "
        "counts; its bias shifts that boundary"
    )
    paras = [
        f"The {which} model{where} has {weights + biases} parameters: {weights} weights and {biases} "
        f"biases. A unit computes {unit}: its weights set {what}, which without a bias must "
        "pass through the origin of the unit's inputs."
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
    worse, unfit, regression, missing = [], [], [], []
    better: list[tuple[str, GroupView, GroupView]] = []  # clearly better without biases
    unclear: list[tuple[str, GroupView, GroupView]] = []  # apart, but within the seeds' spread
    close: list[tuple[str, GroupView, GroupView]] = []  # within the noise floor of each other
    # apart within the spread, but one variant above in every shared seed (lower: without)
    paired: list[tuple[str, tuple[int, float, float], bool, bool]] = []
    for ds, nob, base in pairs:
        text = f"{dataset_name(ds)} {acc_text(nob, held)}{on} without biases"
        if nob.all_perfect and base.all_perfect and not held:
            median = "" if nob.n == 1 else "median "  # a median of one seed is its value
            text += (
                f" ({median}{epochs_text(nob.median_perfect_from)} epochs to 100 % for good) "
                f"against {acc_text(base)} with them ({epochs_text(base.median_perfect_from)})"
            )
        else:
            text += f" against {acc_text(base, held)} with them"
        if held:
            text += f" (training: {acc_text(nob)} against {acc_text(base)})"
        parts.append(text)
        # worse only by more than the seeds explain, the rule the learning-rate answer
        # uses (persona22 M6: "does worse" from 2 points inside a 10-13 point spread); and
        # better by the same rule (claims23 H2: R² -0.013 without biases against -1971
        # with them was "about as well ... within 0.02 of R²")
        noise = R2_NOISE if base.regression else ACC_NOISE
        a, b = nob.score(held), base.score(held)
        name = dataset_name(ds)
        if not (a.n and b.n):
            missing.append(name)  # every seed of one variant diverged
        elif clearly_below(a, b, noise):
            worse.append(name)
        elif clearly_below(b, a, noise):
            better.append((name, nob, base))
        elif abs(a.mean - b.mean) > noise:
            # within the means' spread, but the same seeds (the same data) may all agree
            lo_side = above_in_every_seed(nob, base, held)
            hi_side = above_in_every_seed(base, nob, held)
            if lo_side is not None and a.mean < b.mean:
                paired.append((name, lo_side, base.regression, True))
            elif hi_side is not None and a.mean > b.mean:
                paired.append((name, hi_side, base.regression, False))
            else:
                unclear.append((name, nob, base))
        else:
            close.append((name, nob, base))
            # (a regression fits values by degrees: R² 0.7 is not nothing; under NEAR_MEAN
            # it is hardly better than their mean, which is no fit)
            if not (_fits(nob, held) or _fits(base, held)):
                unfit.append(name)
            elif base.regression:
                regression.append(name)
    paras.append("Measured: " + "; ".join(parts) + ".")
    said: list[str] = []
    if worse:
        where = "the held-out set of " if held else ""
        said.append(f"Without biases the network does worse on {where}{listing(worse)}.")
    if better:
        said.append(_better_text(better, held))
    for way in (True, False):
        same_way = [p for p in paired if p[3] is way]
        if same_way:
            said.append(_paired_text(same_way, held, lower=way))
    lower = [u for u in unclear if u[1].score(held).mean < u[2].score(held).mean]
    if lower:
        also = bool(worse) or any(p[3] for p in paired)
        said.append(_unclear_text(lower, held, also))
    higher = [u for u in unclear if u not in lower]
    if higher:
        also = bool(better) or any(not p[3] for p in paired)
        said.append(_unclear_text(higher, held, also, lower=False))
    if missing:
        said.append(
            f"On {listing(missing)} every seed of one variant diverged: there is nothing to "
            "compare."
        )
    if said:
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
        one = all(g.n == 1 for _, nob, base in close for g in (nob, base))
        paras.append(_still_fit([ds for ds, _, _ in pairs], [b for _, _, b in pairs], on, one))
    return paras


def _fits(g: GroupView, held: bool) -> bool:
    """Whether ``g`` fits its data: 90 % accuracy, or a regression's R² of NEAR_MEAN (0.1;
    below that it is hardly better than predicting the targets' mean)."""
    return g.score(held).mean >= (NEAR_MEAN if g.regression else 0.9)


def _better_text(better: list[tuple[str, GroupView, GroupView]], held: bool) -> str:
    """The datasets where the network does clearly better *without* biases than with them:
    a setting that fails either way (neither variant fits), or one where the biases did
    not help; neither shows what biases are for (claims23 H2)."""
    on = " on the held-out set" if held else ""
    seeds_n = max(g.n for _, nob, base in better for g in (nob, base))
    cleared = "the spread over seeds" if seeds_n > 1 else "the noise floor, with one seed each"
    said = []
    fit = [t for t in better if _fits(t[1], held)]
    failed = [t for t in better if t not in fit]
    if fit:
        fit_names = [name for name, _, _ in fit]
        which = f"{listing(fit_names)} {'is' if len(fit_names) == 1 else 'are'}"
        said.append(
            f"{which} still fit without biases{on}, and better than with them by more than "
            f"{cleared}{_rose(fit, len(better))}: at this setting the biases did not help, so "
            "these runs do not show what they are for."
        )
    if failed:
        names = listing([name for name, _, _ in failed])
        where = "the held-out set of " if held else ""
        levels = sorted({"R² 0.1" if base.regression else "90 %" for _, _, base in failed})
        said.append(
            f"With biases the network does worse on {where}{names}, by more than {cleared}"
            f"{_rose(failed, len(better))}, and neither variant fits "
            f"{'it' if len(failed) == 1 else 'them'} (neither reaches {' or '.join(levels)}): "
            "a setting that fails either way, not what biases are for, so these runs do not "
            "show what the biases do."
        )
    return " ".join(said)


def _rose(pairs: list[tuple[str, GroupView, GroupView]], n_better: int) -> str:
    """``'; with them the loss ends higher than at the first epoch in every seed'`` where
    the runs with biases ended above where they started (they went wrong, not slow), with
    the datasets' names when more than one is compared; "" where none did."""
    blown = [name for name, _, base in pairs if ended_worse(base)]
    if not blown:
        return ""
    where = "" if n_better == 1 else f" on {listing(blown)}"
    return f"; with them the loss ends higher than at the first epoch in every seed{where}"


def _paired_text(
    paired: list[tuple[str, tuple[int, float, float], bool, bool]], held: bool, lower: bool
) -> str:
    """The datasets where the network without biases ends ``lower`` (else higher) than with
    them in every one of the seeds both ran, though the means' gap is within their spread
    (:func:`~proplab.report_text.above_in_every_seed`): said as the seeds show it."""
    on = " on the held-out set" if held else ""
    way = "lower" if lower else "higher"
    counts = {n for _, (n, _, _), _, _ in paired}
    each = [
        f"{name} by {gap_range(lo, hi, regression)}" for name, (_, lo, hi), regression, _ in paired
    ]
    if len(paired) == 1:
        name, (n, lo, hi), regression, _ = paired[0]
        where = f"on {name}{on} in every one of the {n} seeds, by {gap_range(lo, hi, regression)}"
    else:
        seeds_n = f"the {counts.pop()}" if len(counts) == 1 else "their"
        where = f"{on} in every one of {seeds_n} seeds, on {listing(each)}"
    return (
        f"Without biases the network ends {way} {where.strip()} (each seed against the same "
        "seed with biases, on the same data), though the averages differ by less than the "
        "spread over seeds."
    )


def _unclear_text(
    unclear: list[tuple[str, GroupView, GroupView]], held: bool, also: bool, lower: bool = True
) -> str:
    """The datasets where the network without biases ends lower on average (``lower``;
    else higher), but by no more than the spread over seeds explains
    (:func:`clearly_below`): no clear difference, said with the seed counts (``also``:
    another dataset was clearly apart the same way)."""
    names = listing([name for name, _, _ in unclear])
    counts = sorted({g.n for _, nob, base in unclear for g in (nob, base)})
    on = " on the held-out set" if held else ""
    way = "lower" if lower else "higher"
    lead = (
        f"On {names} it also ends {way}{on}"
        if also and lower
        else f"On {names} it ends higher on average{on}"
        if also
        else (f"Without biases the network ends {way} on average on {names}{on}")
    )
    return (
        f"{lead}, but by less than the spread over {' and '.join(map(str, counts))} seeds: "
        "no clear difference either way. More seeds would tell whether the biases matter there."
    )


def _all_held_out(groups: list[GroupView]) -> bool:
    """Whether every group of ``groups`` has a held-out score to compare (not every seed
    diverged): then the held-out set, not the training data, tells which does better."""
    return bool(groups) and all(g.has_test and g.score(True).n for g in groups)


def _still_fit(datasets: list[str], bases: list[GroupView], on: str, one: bool = False) -> str:
    """Why every dataset of ``datasets`` is fit as well without biases, said only where it
    holds: a sigmoid's 0.5 at a zero input (sigmoid hidden units only), and the linear
    dataset's boundary through the origin (when it is one of them). ``one``: every group
    ran one seed, which the sentence says (claims23 M5: no hedge at all)."""
    if one:
        on += " (one seed each)"
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
