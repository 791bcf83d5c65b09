"""The report: text computed from numbers, Markdown/HTML rendering, and a real sweep end to end."""

from __future__ import annotations

import base64
import io
import json
import math
import re
import statistics
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest

from proplab import (
    report,
    report_answers,
    report_figures,
    report_network,
    report_setup,
    report_text,
)
from proplab.aggregate import Group, RunRecord
from proplab.config import ConfigError, RunConfig
from proplab.report_data import ExperimentView, GroupView, RunView, dataset_name
from proplab.report_doc import Bullets, Document, Figure, Heading, Para, Table, slug, to_markdown
from proplab.report_html import inline, to_html
from proplab.sweep import SPEC_COPY, load_spec, parse_spec, run_sweep

# ---------------------------------------------------------------- text from numbers

LR = '[vary]\nlr = [1.0, 0.001]\ndataset = ["xor"]\nseed = [0, 1, 2, 3, 4]\n'


def _runs(
    setting: str,
    lr: float,
    accs: list[float],
    *,
    single: bool = False,
    first: int | None = None,
    end_loss: float = 1e-3,
    seconds: float = 1.0,
    stacked_with: int = 1,
) -> list[RunView]:
    """Synthetic runs of one setting on XOR: final accuracies ``accs``, 1000 epochs each.

    The loss falls linearly from 0.26 to ``end_loss``; accuracy is 0.5 until
    epoch ``first`` and then its final value.
    """
    views = []
    for seed, acc in enumerate(accs):
        cfg = RunConfig(dataset="xor", lr=lr, seed=seed, epochs=1000)
        rec = RunRecord(
            "lr",
            setting,
            "xor",
            seed,
            f"r{setting}{seed}",
            cfg,
            end_loss,
            acc,
            1000,
            "completed",
            seconds,
            stacked_with,
        )
        curve = np.full(1000, acc)
        if first is not None:
            curve[: first - 1] = 0.5
        loss = np.linspace(0.26, end_loss, 1000)
        views.append(RunView(rec, Path("."), loss, curve, single_class=single))
    return views


def _view(groups: dict[str, list[RunView]]) -> ExperimentView:
    exp = parse_spec(LR, Path("lr.toml"), check_build=False).experiments[0]
    gvs = [
        GroupView(Group("lr", s, "xor", [r.record for r in runs]), runs)
        for s, runs in groups.items()
    ]
    return ExperimentView(exp, gvs, 0, list(groups), ["xor"])


def test_observations_are_computed_from_the_numbers():
    stalled = [11 / 21] * 5
    view = _view(
        {
            "1": _runs("1", 1.0, [1.0] * 5, first=300),
            "0.001": _runs("0.001", 0.001, stalled, single=True),
        }
    )
    notes = report_text.observations(view)
    assert (
        notes[0]
        == "On XOR, only lr 1 reaches 100 % in every seed; median epochs to get there for good: "
        "300; "
        "lr 0.001 ends at 52.4 ± 0.0 %."
    )
    assert notes[1] == (
        "On XOR, some runs end up giving every point the same class: lr 0.001 (5/5 seeds, 52.4 ± 0.0 %)."
    )
    # change the numbers, and the sentences change with them
    view = _view(
        {
            "1": _runs("1", 1.0, [1.0] * 5, first=250),
            "0.001": _runs("0.001", 0.001, [1.0] * 5, first=400),
        }
    )
    notes = report_text.observations(view)
    assert notes == [
        "On XOR, every setting reaches 100 % in every seed; median epochs to get there for good: "
        "250 for lr 1 and 400 for lr 0.001."
    ]
    view = _view(
        {"1": _runs("1", 1.0, [1.0, 1.0, 0.9, 1.0, 0.8]), "0.001": _runs("0.001", 0.001, [0.5] * 5)}
    )
    notes = report_text.observations(view)
    assert (
        notes[0]
        == "On XOR, no setting reaches 100 % in every seed; the best is lr 1, at 94.0 ± 8.9 %."
    )
    assert "the result depends on the seed for lr 1 (80.0–100.0 %)" in notes[1]


def test_cost_note_only_for_a_large_gap():
    cheap = _runs("1", 1.0, [1.0] * 5, first=10, seconds=0.05)  # 50 us per epoch
    costly = _runs("0.001", 0.001, [1.0] * 5, first=10, seconds=0.2)  # 200 us
    notes = report_text.observations(_view({"1": cheap, "0.001": costly}))
    assert notes[-1] == (
        "Training time per epoch (median over runs, wall clock): lr 1 50 µs and lr 0.001 200 µs; "
        "the costliest setting takes 4.0x as long as the cheapest."
    )
    similar = _runs("0.001", 0.001, [1.0] * 5, first=10, seconds=0.1)
    notes = report_text.observations(_view({"1": cheap, "0.001": similar}))
    assert not any("Training time" in n for n in notes)
    # runs from replica stacks of different sizes: their shares are not comparable
    small_stack = _runs("0.001", 0.001, [1.0] * 5, first=10, seconds=0.2, stacked_with=5)
    big_stack = _runs("1", 1.0, [1.0] * 5, first=10, seconds=0.05, stacked_with=85)
    notes = report_text.observations(_view({"1": big_stack, "0.001": small_stack}))
    assert not any("Training time" in n for n in notes)


def test_lr_answer_uses_the_measured_numbers():
    high = _runs("100", 100.0, [10 / 21] * 5, single=True, end_loss=10 / 21)
    for r in high:
        r.saturated = True
        r.loss[1:] = 10 / 21  # saturated after one step
    view = _view(
        {
            "100": high,
            "1": _runs("1", 1.0, [1.0] * 5, first=700),
            "0.001": _runs("0.001", 0.001, [11 / 21] * 5, single=True, end_loss=0.25),
        }
    )
    base = RunConfig(lr=1.0, epochs=1000)
    (_, lr_paras) = report_answers.answers([view], base, (130, 21))[1]
    text = " ".join(lr_paras)
    assert (
        "at lr 100 on XOR, after a single update the loss jumps from 0.260 to 0.476 (median "
        "over seeds) and the sigmoids saturate. In 5/5 seeds" in text
    )
    assert "(47.6 ± 0.0 %" in text
    assert (
        "The fastest rate here is lr 1: 100 % on XOR for good after a median of 700 epochs." in text
    )
    assert "at lr 0.001 the loss changes by a median of only 3.8 % over 1,000 epochs" in text
    # a high rate that trains fine is reported as such
    fine = _runs("100", 100.0, [1.0] * 5, first=90)
    view = _view({"100": fine, "1": _runs("1", 1.0, [1.0] * 5, first=700)})
    text = " ".join(report_answers.answers([view], base, (130, 21))[1][1])
    assert "No tested rate was too high on XOR: even lr 100 reaches 100.0 ± 0.0 %." in text
    assert (
        "The fastest rate here is lr 100: 100 % on XOR for good after a median of 90 epochs, "
        "against 700 at the lab's lr 1." in text
    )
    # ... and so is a low rate whose loss moved well (here by 99.6 %: 0.26 -> 1e-3)
    assert (
        "No tested rate was too low on XOR: even lr 1 changes the loss by a median of 100 %" in text
    )
    assert "Too low" not in text


def test_lr_answer_names_a_rate_that_stays_on_the_plateau_in_some_seeds():
    # found by looking at the lab report: lr 0.1 gives every XOR point one class in 4 of 5
    # seeds, and the answer named only the rates that do so in every seed
    def partly(setting: str, lr: float, k: int) -> list[RunView]:
        runs = _runs(setting, lr, [1.0] * (5 - k) + [11 / 21] * k)
        for r in runs[5 - k :]:
            r.single_class = True
        return runs

    groups = {
        "1": _runs("1", 1.0, [1.0] * 5, first=700),
        "0.1": partly("0.1", 0.1, 4),
        "0.01": _runs("0.01", 0.01, [11 / 21] * 5, single=True, end_loss=0.25),
        "0.001": _runs("0.001", 0.001, [11 / 21] * 5, single=True, end_loss=0.25),
    }
    base = RunConfig(lr=1.0, epochs=1000)
    text = " ".join(report_answers.answers([_view(groups)], base, (130, 21))[1][1])
    assert (
        "In between, lr 0.01 still gives every XOR point the same class after 1,000 epochs in "
        "every seed, and so does lr 0.1 in 4/5 seeds (61.9 ± 21.3 %): the loss sits on a "
        "plateau" in text
    )
    del groups["0.01"]
    text = " ".join(report_answers.answers([_view(groups)], base, (130, 21))[1][1])
    assert (
        "In between, lr 0.1 in 4/5 seeds (61.9 ± 21.3 %) still gives every XOR point the same "
        "class after 1,000 epochs: the loss sits" in text
    )


def _diverge(runs: list[RunView], seeds: list[int]) -> list[RunView]:
    """Mark ``seeds`` of ``runs`` as diverged: NaN loss and accuracy, as a run folder has."""
    for r in runs:
        if r.record.seed in seeds:
            r.record.final_loss = r.record.final_accuracy = math.nan
            r.record.stop_reason = "diverged"
            r.loss[-50:] = math.nan
    return runs


def test_a_setting_with_diverged_seeds_is_not_called_the_best():
    # lr 0.32's two surviving seeds average 95 %, but it diverged in the other three
    view = _view(
        {
            "0.32": _diverge(_runs("0.32", 0.32, [0.95] * 5), [0, 1, 2]),
            "0.1": _runs("0.1", 0.1, [0.9] * 5),
        }
    )
    notes = report_text.observations(view)
    assert notes[0] == (
        "On XOR, no setting reaches 100 % in every seed; the best of the settings with no "
        "diverged seed is lr 0.1, at 90.0 ± 0.0 %."
    )
    assert "On XOR, lr 0.32 diverged (the loss became NaN or infinite) in 3/5 seeds." in notes


def test_a_tie_for_the_best_names_every_tied_setting():
    # found by looking at the lab report: lr 1 and lr 0.1 both end at 99.8 ± 0.4 % on the
    # linear data, and "the best is lr 1" (max() takes the first) hid lr 0.1
    accs = [1.0, 1.0, 0.99, 1.0, 1.0]

    def first_note(other: list[float]) -> str:
        low = _runs("0.001", 0.001, [0.5] * 5)
        view = _view({"1": _runs("1", 1.0, accs), "0.1": _runs("0.1", 0.1, other), "0.001": low})
        return report_text.observations(view)[0]

    assert first_note(accs) == (
        "On XOR, no setting reaches 100 % in every seed; the best are lr 1 and lr 0.1, at "
        "99.8 ± 0.4 % each."
    )
    # the same mean with another spread: each named with its own
    assert first_note([1.0, 0.995, 0.995, 1.0, 1.0]).endswith(
        "the best are lr 1 (99.8 ± 0.4 %) and lr 0.1 (99.8 ± 0.3 %)."
    )
    # a mean 0.1 point lower is within the seeds' spread: tied too, each with its own
    # (claims23 M1: "the best is" for gaps far inside the spread)
    assert first_note([1.0, 1, 0.985, 1, 1]).endswith(
        "the best are lr 1 (99.8 ± 0.4 %) and lr 0.1 (99.7 ± 0.7 %), a gap within the spread "
        "over seeds."
    )
    # clearly lower (by more than the spread and 2 points): one best
    assert first_note([0.9] * 5).endswith("the best is lr 1, at 99.8 ± 0.4 %.")


def _held_out(runs: list[RunView], test_accs: list[float]) -> list[RunView]:
    for r, acc in zip(runs, test_accs, strict=True):
        r.record.test_accuracy, r.record.n_test = acc, 40
    return runs


def test_with_a_held_out_set_the_observations_say_which_accuracy_they_give():
    view = _view(
        {
            "1": _held_out(_runs("1", 1.0, [1.0] * 5, first=300), [0.9, 0.95, 0.9, 0.85, 0.9]),
            "0.001": _held_out(_runs("0.001", 0.001, [0.8] * 5), [0.8] * 5),
        }
    )
    assert view.has_test
    notes = report_text.observations(view)
    assert notes[0].startswith("On XOR (training set), only lr 1 reaches 100 % in every seed")
    assert notes[1] == (
        "On the held-out test set of XOR, the best is lr 1, at 90.0 ± 3.5 %; the lowest is "
        "lr 0.001, at 80.0 ± 0.0 %; training accuracy exceeds it by up to 10.0 points, for lr 1."
    )
    # every setting alike on the test set, and no gap worth a word
    view = _view(
        {
            "1": _held_out(_runs("1", 1.0, [0.9] * 5), [0.9] * 5),
            "0.001": _held_out(_runs("0.001", 0.001, [0.9] * 5), [0.8996] * 5),
        }
    )
    assert report_text.observations(view)[1] == (
        "On XOR, every setting scores 90.0 % on the held-out test set."
    )
    # within half a point but shown apart: no "every setting scores 90.0 %" (one is 89.9 %),
    # nor a best (claims23 M1: a gap under 2 points is noise)
    view = _view(
        {
            "1": _held_out(_runs("1", 1.0, [0.9] * 5), [0.9] * 5),
            "0.001": _held_out(_runs("0.001", 0.001, [0.9] * 5), [0.899] * 5),
        }
    )
    assert report_text.observations(view)[1] == (
        "On the held-out test set of XOR, none ends clearly best: lr 1 (90.0 ± 0.0 %) and "
        "lr 0.001 (89.9 ± 0.0 %), a gap within 2 points."
    )
    # without a held-out set nothing changes
    view = _view({"1": _runs("1", 1.0, [0.9] * 5), "0.001": _runs("0.001", 0.001, [0.8] * 5)})
    assert not view.has_test
    assert not any("test set" in n or "training set" in n for n in report_text.observations(view))


def test_settings_that_diverged_are_not_all_ending_at_one_accuracy_nor_settled():
    stalled = [11 / 21] * 5
    view = _view(
        {
            "100": _diverge(_runs("100", 100.0, [0.5] * 5), [0, 1, 2, 3, 4]),
            "10": _diverge(_runs("10", 10.0, stalled, end_loss=0.25), [0]),
            "0.1": _runs("0.1", 0.1, stalled, end_loss=0.25),
        }
    )
    # before: "all end at 52.4 %", with lr 100 ending nowhere and lr 10 on 4 seeds
    assert report_text.observations(view)[0] == (
        "On XOR, no setting reaches 100 % in every seed; the best of the settings with no "
        "diverged seed is lr 0.1, at 52.4 ± 0.0 %."
    )
    everything = _view({"100": _diverge(_runs("100", 100.0, [0.5] * 5), [0, 1, 2, 3, 4])})
    assert report_text._headline("XOR", everything.groups * 2, lambda g: g.setting) == (
        "On XOR, no setting reaches 100 % in every seed, and every setting diverged in every seed."
    )  # (diverge18: "in some seed" when every seed of every setting had)
    some = _view({"100": _diverge(_runs("100", 100.0, [0.5] * 5), [0, 1])})
    assert report_text._headline("XOR", some.groups * 2, lambda g: g.setting).endswith(
        "and every setting diverged in some seed."
    )
    # before: "Of the 3 distinct settings, 3 have settled" (a NaN tail change is not moving)
    assert report_setup._epochs_note([view], RunConfig(epochs=1000)) == (
        "**Epochs**: 1,000 per run (the handout trains up to 100,000). Of the 3 distinct "
        "settings, 1 has settled by then: at 100 % in every seed, or with the median seed's "
        "loss changing by at most 5 % and the mean accuracy by less than a point over the last "
        "10 % of epochs. 2 diverged in at least one seed."
    )
    one = _view({"0.1": _runs("0.1", 0.1, stalled, end_loss=0.25)})
    assert "Of the 1 distinct setting, 1 has settled" in report_setup._epochs_note(
        [one], RunConfig(epochs=1000)
    )


def test_activation_answer_when_the_base_has_no_hidden_activation():
    view = _view({"1": _runs("1", 1.0, [1.0] * 5, first=700)})
    paras = report_answers.answers([view], RunConfig(activation="none"), (130, 21))[0][1]
    # before: "This sweep has no run without hidden activations to measure it."
    assert paras[1] == (
        "This sweep's base model itself has no hidden activation (identity), so its runs are "
        "the network without one; there is no base with activations to set them against."
    )


def test_too_low_rate_reports_the_true_median_change():
    low = _runs("0.001", 0.001, [11 / 21] * 4, single=True)
    for r, end in zip(low, [0.26 * 0.99, 0.26 * 0.98, 0.26 * 0.97, 0.26 * 0.96], strict=True):
        r.loss[:] = np.linspace(0.26, end, r.loss.size)  # the loss moves by 1, 2, 3, 4 %
    view = _view({"1": _runs("1", 1.0, [1.0] * 4, first=700), "0.001": low})
    text = " ".join(report_answers.answers([view], RunConfig(lr=1.0, epochs=1000), (130, 21))[1][1])
    # median of 1, 2, 3 and 4 %: 2.5 % (before: the upper middle, 3 %)
    assert "at lr 0.001 the loss changes by a median of only 2.5 % over 1,000 epochs" in text


def test_first_epoch_at_100_counts_only_seeds_that_end_there():
    runs = _runs("1", 1.0, [1.0, 0.9, 0.9], first=7)
    for r, touched in zip(runs[1:], [20, 32], strict=True):
        r.accuracy[:] = 0.5
        r.accuracy[touched - 1 : touched + 10] = 1.0  # at 100 % for a while, then 90 %
        r.accuracy[-1] = 0.9
    notes = report_text.observations(_view({"1": runs}))
    # before: "median first epoch at 100 %: 20" over all three seeds; one seed's is no
    # median (claims23 M5)
    assert notes[0].startswith(
        "On XOR, 1/3 seeds reach 100 % (there for good from epoch 7); accuracy 93.3 ± 5.8 %"
    )


def test_epochs_to_100_count_from_the_last_return_not_the_first_touch():
    # seed 0 touches 100 % at epoch 10, falls back at 50-599 and holds from 600; seed 1
    # holds from 40; seed 2 reaches it only with its final model (after the last update)
    runs = _runs("1", 1.0, [1.0, 1.0, 1.0], first=10)
    runs[0].accuracy[49:599] = 0.95
    runs[1].accuracy[:39] = 0.5
    runs[2].accuracy[:] = 0.95
    assert [r.perfect_from for r in runs] == [600, 40, 1001]
    group = _view({"1": runs}).groups[0]
    assert group.median_perfect_from == 600.0  # the first touches' median would be 10
    notes = report_text.observations(_view({"1": runs, "0.1": _runs("0.1", 0.1, [0.9] * 3)}))
    assert notes[0].startswith(
        "On XOR, only lr 1 reaches 100 % in every seed; median epochs to get there for good: 600;"
    )


def test_a_rising_loss_is_not_called_improving():
    rising = _runs("1", 1.0, [0.9] * 3)
    for r in rising:
        r.loss[-101:] = np.linspace(0.2, 0.3, 101)  # up by half over the last 10 % of epochs
    notes = report_text.observations(_view({"1": rising}))
    assert (
        "On XOR, lr 1 gets worse at the end (its loss is rising; median change 50 % over the "
        "last 10 % of epochs), while its mean accuracy moved less than a point over them." in notes
    )
    falling = _runs("1", 1.0, [0.9] * 3)
    for r in falling:
        r.loss[-101:] = np.linspace(0.3, 0.2, 101)
    notes = report_text.observations(_view({"1": falling}))
    assert (
        "On XOR, lr 1 is still improving at the end (its loss is falling; median change 33 %"
        in (" ".join(notes))
    )
    rising[0].loss[-101:] = np.linspace(0.3, 0.2, 101)
    notes = report_text.observations(_view({"1": rising}))
    assert "lr 1 is still changing at the end (its loss moves both ways across seeds" in (
        " ".join(notes)
    )


# ---------------------------------------------------------------- rendering


def test_markdown_rendering():
    doc = Document("T")
    doc.add(Heading(2, "Setup"), Para("a **b** `c`"), Bullets(["x", "y"]))
    doc.add(
        Table(["k", "v"], [["a|b", "1"]], caption="cap"),
        Figure("runs/dataset=xor,seed=0/a b.png", "fig"),
    )
    md = to_markdown(doc)
    assert md.startswith("# T\n\nContents: [Setup](#setup)\n")
    assert "| k | v |\n|:---|---:|\n| a\\|b | 1 |" in md
    assert "![fig](runs/dataset=xor,seed=0/a%20b.png)" in md
    assert slug("Without activation functions?") == "without-activation-functions"


def test_titles_and_labels_show_as_written_in_markdown_as_in_html(tmp_path):
    title = "<i>Weird</i> [link](x.md) _it_ # 2 **bold**"
    doc = Document("T")
    doc.add(Heading(2, "Results"), Heading(3, title), Para("Desc with <b>tags</b> & leaky_relu"))
    doc.add(Heading(3, title), Bullets(["On XOR, line one\nline two", "- dash", "3. three"]))
    doc.add(Table(["setting", "v"], [["a*b*c", "1"]], caption=title))
    md = to_markdown(doc)
    # before: raw tags, a live link and emphasis in report.md, while report.html escaped them
    shown = "\\<i>Weird\\</i> \\[link\\](x.md) \\_it\\_ \\# 2 **bold**"
    assert f"### {shown}\n" in md and f"*{shown}*\n" in md
    assert "Desc with \\<b>tags\\</b> \\& leaky_relu\n" in md
    # a newline in a label no longer ends the bullet; list and quote marks stay text
    assert "- On XOR, line one line two\n- \\- dash\n- 3\\. three\n" in md
    assert "| a\\*b\\*c | 1 |" in md
    # the same text in HTML: escaped, with the two marks of the Document read alike
    html = to_html(doc, tmp_path)
    assert "&lt;i&gt;Weird&lt;/i&gt; [link](x.md) _it_ # 2 <strong>bold</strong>" in html
    # two experiments with one title: distinct ids, and the second keeps a working link
    ids = re.findall(r'id="([^"]+)"', html)
    assert len(ids) == len(set(ids)) == 3
    assert ids[1:] == ["iweirdi-linkxmd-_it_--2-bold", "iweirdi-linkxmd-_it_--2-bold-1"]


def test_html_embeds_figures_and_escapes_text(tmp_path):
    png = tmp_path / "f.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    doc = Document("T <1>")
    doc.add(Heading(2, "Results"), Para("x < y **bold** `a<b`"), Figure("f.png", "cap & more"))
    page = to_html(doc, tmp_path)
    assert '<section id="results">' in page and "<title>T &lt;1&gt;</title>" in page
    assert "x &lt; y <strong>bold</strong> <code>a&lt;b</code>" in page
    src = re.search(r'<img src="data:image/png;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(src) == png.read_bytes()
    assert '<figcaption id="cap-1">cap &amp; more <a class="shrink"' in page
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")
    assert inline("**a** and **b**") == "<strong>a</strong> and <strong>b</strong>"


# ---------------------------------------------------------------- end to end

E2E = """
title = "Mini lab"
description = "A small sweep for the report test."
[base]
epochs = 300
[vary]
dataset = ["linear", "xor"]
seed = [0, 1, 2]

[[experiment]]
name = "baseline"
title = "The lab model"
section = "results"

[[experiment]]
name = "lr"
title = "Learning rate"
section = "discussion"
vary.lr = [1.0, 0.01]

[[experiment]]
name = "no_activation"
title = "Without activation functions"
section = "discussion"
vary.activation = ["sigmoid", "identity"]

[[experiment]]
name = "optimizer"
title = "Optimizers"
section = "extras"
vary.optimizer = [{ optimizer = "sgd" }, { optimizer = "adam", lr = 0.05 }]

[[experiment]]
name = "conv"
title = "Convolution"
section = "extras"
optional = true
vary.model = ["mlp", "conv"]
"""
SECTIONS = ("setup", "results", "discussion", "extras", "questions")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "sweep"
    spec = parse_spec(E2E, Path("mini.toml"))
    result = run_sweep(spec, out, jobs=2, stream=io.StringIO())
    assert result.exit_code == 0, result.failed
    report.build_report(out, log=lambda m: None)
    return out


def _tables(md: str) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Markdown tables keyed by the caption line above them."""
    tables = {}
    lines = md.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("*") and i + 2 < len(lines) and lines[i + 2].startswith("| "):
            rows = []
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"):
                rows.append([c.strip() for c in lines[j].strip("|").split(" | ")])
                j += 1
            tables[line.strip("*")] = (rows[0], rows[2:])
    return tables


def _expected(out: Path) -> dict[tuple[str, str, str], list[dict]]:
    """(experiment, setting, dataset) -> the summaries read straight from the run folders."""
    spec = load_spec(out / SPEC_COPY)
    found: dict[tuple[str, str, str], list[dict]] = {}
    for exp in spec.experiments:
        for name, labels in exp.runs:
            summary = json.loads((out / "runs" / name / "summary.json").read_text())
            key = (exp.name, exp.setting_label(labels), spec.runs[name].dataset)
            found.setdefault(key, []).append(summary)
    return found


@pytest.mark.slow
def test_report_tables_equal_the_run_folders(built):
    md = (built / "report.md").read_text()
    tables = _tables(md)
    spec = load_spec(built / SPEC_COPY)
    expected = _expected(built)
    checked = 0
    for exp in spec.experiments:
        header, rows = tables[f"{exp.title}: final accuracy and loss, mean ± std over 3 seeds"]
        assert header[1:4] == ["linear accuracy", "linear min–max %", "linear final loss"]
        for row in rows:
            for k, ds in enumerate(("linear", "xor")):
                summaries = expected[(exp.name, row[0], ds)]
                acc = [s["accuracy"] for s in summaries]
                loss = [s["loss"] for s in summaries]
                cells = row[1 + 3 * k : 4 + 3 * k]
                assert (
                    cells[0]
                    == f"{100 * statistics.mean(acc):.1f} ± {100 * statistics.stdev(acc):.1f} %"
                )
                assert cells[1] == f"{100 * min(acc):.1f}–{100 * max(acc):.1f}"
                spread = statistics.stdev(loss)
                spread = 0.0 if spread <= 1e-9 * statistics.mean(loss) else spread  # rounding noise
                assert cells[2] == f"{statistics.mean(loss):.2e} ± {spread:.1e}"
                checked += 1
    assert checked == 2 * (1 + 2 + 2 + 2 + 2)
    # and aggregate.csv holds the same numbers unrounded
    import csv

    with open(built / "aggregate.csv", newline="") as f:
        for row in csv.DictReader(f):
            acc = [
                s["accuracy"] for s in expected[(row["experiment"], row["setting"], row["dataset"])]
            ]
            assert float(row["accuracy_mean"]) == pytest.approx(statistics.mean(acc), rel=1e-12)
            assert float(row["accuracy_std"]) == pytest.approx(
                statistics.stdev(acc), rel=1e-9, abs=1e-15
            )


@pytest.mark.slow
def test_every_image_link_resolves_and_html_has_every_section(built):
    md = (built / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    # 2 lab figures per dataset, 3 per experiment (no accuracy plot for the one-setting
    # baseline, which instead shows its hidden units on each of the two datasets)
    assert len(links) == 2 * 2 + 3 * 5 - 1 + 2
    units = [link for link in links if "-units-" in link]
    assert units == ["figures/baseline-units-linear.png", "figures/baseline-units-xor.png"]
    for link in units:  # its points as hidden_units draws them: by class, in shape too
        caption = re.search(rf"!\[([^\]]*)\]\({re.escape(link)}\)", md)
        assert caption is not None
        assert caption.group(1).endswith(f"; points: the data, {report_figures.BY_CLASS}")
    # the first question's answer points to the XOR one
    answer = md.split("### What are activation functions for?")[1].split("###")[0]
    assert (
        "The Results show it unit by unit, in the figure of what each hidden unit computes on "
        "XOR: every first-layer unit is a soft half-plane, its 0.5 line is straight" in answer
    )
    for link in links:
        path = built / unquote(link)
        assert path.is_file(), link
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (built / "report.html").read_text()
    for section in SECTIONS:
        assert f'<section id="{section}">' in page
        assert f"](#{section})" in md
    embedded = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    assert [base64.b64decode(e) for e in embedded] == [
        (built / unquote(u)).read_bytes() for u in links
    ]
    assert 'src="http' not in page and "<link" not in page


@pytest.mark.slow
def test_report_text_answers_the_lab_questions_with_numbers(built):
    md = (built / "report.md").read_text()
    for question in (
        "What are activation functions for?",
        "What does a too high or too low learning rate do?",
        "What are weights and biases for?",
    ):
        assert f"### {question}" in md
    # the `built` lab report's sweep varies no width: no fourth question (report_hidden)
    assert "### What does the number of hidden units change?" not in md
    assert "Measured with the identity in the hidden layers: XOR reaches" in md
    # the setup states what was run
    assert "2 → 10 → 10 → 1 (MLP)" in md and "151 parameters (130 weights, 21 biases)" in md
    assert "**Seeds**: 0, 1, 2." in md and "300 per run" in md
    # the lab's network, but 300 epochs, not the lab's 20 000: the base model (claims23 L7)
    assert "The base model has 151 parameters: 130 weights and 21 biases." in md
    assert "A unit computes σ(w·x + b):" in md
    assert "(and the linear dataset's points)" in md and "training data = test data" in md
    # the gradient check the Setup states, and its command, which passes
    line = next(x for x in md.splitlines() if x.startswith("- **Gradients**: "))
    assert "match central differences (float64, 4 samples of linear)" in line
    command = re.search(r"`(proplab gradcheck [^`]*)`", line).group(1)
    from proplab import cli

    assert cli.main(command.split()[1:]) == 0


@pytest.mark.slow
def test_report_command_rebuilds_without_training(built, capsys):
    stamps = {p: p.stat().st_mtime_ns for p in built.glob("runs/*/*")}
    before = (built / "report.md").read_text()
    figures = {p.name: p.read_bytes() for p in (built / "figures").glob("*.png")}
    assert len(figures) >= 10
    (built / "report.md").unlink()
    (built / "report.html").unlink()
    for png in (built / "figures").glob("*.png"):
        png.unlink()
    # the fixture drew its figures in this process; these come from 2 worker processes
    assert report.main(str(built), jobs=2) == 0
    assert "report written to" in capsys.readouterr().out
    assert (built / "report.md").read_text() == before
    assert {p.name: p.read_bytes() for p in (built / "figures").glob("*.png")} == figures
    assert (built / "report.html").is_file()
    assert {p: p.stat().st_mtime_ns for p in built.glob("runs/*/*")} == stamps


def test_report_on_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    assert report.main(str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "not a sweep folder (no sweep.toml)" in err and "proplab sweep" in err
    # cli20 L5: a file was told to run `proplab sweep FILE.toml --out` onto itself
    data = tmp_path / "data.csv"
    data.write_text("x,y\n1,0\n")
    assert report.main(str(data)) == 2
    assert capsys.readouterr().err == (
        f"proplab report: error: {data}: is a file, not a sweep folder; give the folder "
        "`proplab sweep` or `proplab lab` wrote (its --out)\n"
    )


@pytest.mark.slow
def test_a_skipped_optional_experiment_gets_a_note(tmp_path, monkeypatch):
    import proplab.experiments as experiments

    def check(cfg):
        if cfg.model == "conv":
            raise ConfigError("model: 'conv' is not available in this installation (accepted: mlp)")

    monkeypatch.setattr(experiments, "check_available", check)
    text = '[base]\nepochs = 20\n[vary]\ndataset = ["xor"]\nseed = [0, 1]\n'
    text += '[[experiment]]\nname = "base"\nsection = "results"\n'
    text += '[[experiment]]\nname = "conv"\nsection = "extras"\noptional = true\nvary.model = ["mlp", "conv"]\n'
    spec = parse_spec(text, Path("s.toml"))
    result = run_sweep(spec, tmp_path, stream=io.StringIO())
    assert result.skipped_experiments == {"conv": spec.experiments[1].skipped}
    assert not any("model=conv" in p.name for p in (tmp_path / "runs").iterdir())
    report.build_report(tmp_path, log=lambda m: None)
    md = (tmp_path / "report.md").read_text()
    assert "**Skipped**: model 'conv' is not available in this installation" in md
    assert "| conv | Extras | model: mlp, conv |  | skipped |" in md


@pytest.mark.slow
def test_lab_command_trains_runs_the_suite_and_writes_the_report(tmp_path, capsys):
    from proplab.cli import main
    from proplab.train_text import format_summary_line

    suite = tmp_path / "suite.toml"
    suite.write_text(
        '[base]\nepochs = 200\n[vary]\ndataset = ["linear", "xor"]\nseed = [0, 1]\n'
        '[[experiment]]\nname = "baseline"\nsection = "results"\n'
        '[[experiment]]\nname = "lr"\nsection = "discussion"\nvary.lr = [1.0, 0.1]\n'
    )
    out = tmp_path / "lab"
    argv = ["lab", "--out", str(out), "--epochs", "300", "--suite", str(suite), "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr()
    lines = printed.out.splitlines()
    assert lines[-1] == f"report written to {out / 'report.md'} and {out / 'report.html'}"
    assert "runs done" not in printed.err  # --no-progress reaches the suite's progress line
    assert lines[-2].startswith("lab suite: 8 runs (0 reused, 8 trained, 0 failed) with --jobs 2")
    md = (out / "report.md").read_text()
    # the results section shows the two lab runs themselves (300 epochs, not the suite's 200)
    xor = json.loads((out / "xor" / "summary.json").read_text())
    assert "From the lab run `xor/` (seed 0), after 300 epochs" in md
    assert (
        "![XOR: ground truth and prediction (the lab's comparison figure)](xor/comparison.png)"
        in md
    )
    assert f"`{format_summary_line(xor['loss'], xor['accuracy'])}`" in md
    # the handout's per-sample lines, as printed, kept in the run folder and in the report
    # (report21 M3): XOR's 21 whole, linear's 100 folded with a link to the file
    kept = (out / "xor" / "predictions.txt").read_text().splitlines()
    assert len(kept) == 22 and kept[-1] == format_summary_line(xor["loss"], xor["accuracy"])
    assert kept == [line for line in lines if line.startswith(("Iter: ", "loss="))][100 + 1 :]
    assert "```\n" + "\n".join(kept) + "\n```" in md
    assert "All of it: [linear/predictions.txt](linear/predictions.txt)" in md
    assert len((out / "linear" / "predictions.txt").read_text().splitlines()) == 101
    # a lab folder from before the file: the report recomputes it from model.npz, the same
    (out / "xor" / "predictions.txt").unlink()
    report.build_report(out, log=lambda m: None)
    assert (out / "xor" / "predictions.txt").read_text().splitlines() == kept
    assert (out / "report.md").read_text() == md
    assert len(list((out / "runs").iterdir())) == 8
    # each layer's gradient size, with the order its gradients.csv shows
    order = report.gradient_order(out / "xor" / "gradients.csv")
    assert order.startswith(": at epoch 0 the smallest is layer") or order.startswith(
        ": the smallest is layer"
    )
    assert (
        "![XOR: how large each layer's weight gradient is as the model trains (mean \\|dL/dW\\| "
        f"on the training data, log scales){order}](xor/gradients.png)" in md
    )
    assert (out / "linear" / "gradients.png").is_file()
    html = (out / "report.html").read_text()
    assert "mean |dL/dW| on the training data" in html  # the escape is Markdown's only


def test_report_draws_boundaries_over_any_2d_data_and_names_the_rest(tmp_path):
    # a zoo dataset spreads beyond the lab's [0, 1] square; digits has 64 inputs and
    # ten classes, so no boundary: the report used to crash on it (matmul shapes)
    from proplab.report_data import ViewCache, experiment_views
    from proplab.report_figures import _boundary_rows

    text = "[base]\nepochs = 20\nhidden = 4\ntest_fraction = 0.2\n[vary]\nseed = [0, 1]\n"
    text += '[[experiment]]\nname = "zoo"\nsection = "extras"\nvary.dataset = ["moons", "xor"]\n'
    text += '[[experiment]]\nname = "digits"\nsection = "extras"\nbase.dataset = "digits"\n'
    text += (
        'base.loss = "cross_entropy"\nbase.output_activation = "identity"\nvary.lr = [0.1, 0.5]\n'
    )
    spec = parse_spec(text, Path("s.toml"))
    assert run_sweep(spec, tmp_path, stream=io.StringIO()).exit_code == 0
    report.build_report(tmp_path, log=lambda m: None, jobs=2)
    md = (tmp_path / "report.md").read_text()
    assert "No decision boundaries for digits: they are drawn over two inputs" in md
    # the setup describes each dataset as it is: ten classes, not a share of "class 1"
    assert (
        "**Data, digits**: 1797 samples of 64 features in 10 classes (the largest is 10 %)." in md
    )
    assert "**Data, moons**: 100 samples of 2 features; class 1 is 50 % of them." in md
    assert "A seed draws the initial weights (and the moons dataset's points);" in md
    assert (
        "20 % of each dataset held out as its test set: the tables and boundary panels give "
        "the accuracy on both parts, the accuracy figures on the test set." in md
    )
    assert "The base model on digits has " in md and "The lab model" not in md  # hidden 4, not 10
    assert "A unit computes σ(w·x + b):" in md  # sigmoid units, as in the lab
    assert "figures/zoo-boundaries.png" in md and "figures/digits-boundaries.png" not in md
    # with a held-out set the curves are the training loss, as a run's own figure says
    assert "training loss per epoch, pointwise median over 2 seeds" in md
    assert ": loss per epoch" not in md
    # the rerun command has the --jobs of the sweep's last call (it said 2 after --jobs 1)
    assert f"proplab sweep {tmp_path / 'sweep.toml'} --out {tmp_path} --jobs 1\n" in md
    assert (tmp_path / "figures" / "zoo-boundaries.png").is_file()
    assert (tmp_path / "figures" / "digits-curves.png").is_file()

    from proplab.aggregate import write_tables

    views = experiment_views(spec, write_tables(spec, tmp_path), ViewCache(tmp_path))
    rows, labels, undrawable = _boundary_rows(views[0], single=True)
    assert undrawable == [] and len(rows) == 1 and len(rows[0]) == 2  # moons and XOR side by side
    for p in rows[0]:  # each grid holds all of its data and the unit square
        assert p.grid_u[0] < min(p.x[:, 0].min(), 0) and p.grid_u[-1] > max(p.x[:, 0].max(), 1)
        assert p.grid_v[0] < min(p.x[:, 1].min(), 0) and p.grid_v[-1] > max(p.x[:, 1].max(), 1)
    assert rows[0][0].grid_u[0] < -1.0  # moons reaches x0 = -1.1
    assert [p.axis_names for p in rows[0]] == [None, None]  # x1 and x2, as the lab's figures
    assert _boundary_rows(views[1], single=False) == ([], [], ["digits"])


def test_boundary_panels_of_a_csv_name_their_axes_by_its_columns(tmp_path):
    # found by review: a CSV sweep's panels did not say which column is horizontal
    from proplab.aggregate import write_tables
    from proplab.report_data import ViewCache, experiment_views
    from proplab.report_figures import _boundary_rows

    rng = np.random.default_rng(0)
    rows = [(170 + 10 * a, 70 + 12 * b, int(a + b > 0)) for a, b in rng.normal(size=(40, 2))]
    csv = tmp_path / "people.csv"
    csv.write_text("height,weight,big\n" + "".join(f"{h},{w},{c}\n" for h, w, c in rows))
    text = f'[base]\ndataset = "{csv}"\nlabel = "big"\nepochs = 10\nstandardize = true\n'
    text += "[vary]\nlr = [0.1, 1.0]\nseed = [0]\n"
    spec = parse_spec(text, Path("s.toml"))
    out = tmp_path / "out"
    assert run_sweep(spec, out, stream=io.StringIO()).exit_code == 0
    views = experiment_views(spec, write_tables(spec, out), ViewCache(out))
    (row,), labels, _ = _boundary_rows(views[0], single=False)
    assert labels == ["people.csv"]
    assert [p.axis_names for p in row] == [("height", "weight")] * 2


@pytest.mark.slow
def test_histories_read_ahead_in_processes_equal_those_read_one_by_one(built):
    from proplab.aggregate import write_tables
    from proplab.report_data import ViewCache

    records = write_tables(load_spec(built / SPEC_COPY), built)
    runs = {r.run for r in records}  # some runs serve several experiments
    assert len(runs) >= 8  # enough for preload to use its processes
    ahead, plain = ViewCache(built), ViewCache(built)
    ahead.preload(records, jobs=2)
    assert ahead._histories.keys() == runs  # each read once, waiting for run()
    for r in records:
        a, b = ahead.run(r), plain.run(r)
        np.testing.assert_array_equal(a.loss, b.loss)
        np.testing.assert_array_equal(a.accuracy, b.accuracy)
        assert (a.single_class, a.saturated) == (b.single_class, b.saturated)
    assert ahead._histories == {}  # each handed over once


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_report_says_what_it_is_doing(built, jobs):
    lines: list[str] = []
    report.build_report(built, log=lines.append, jobs=jobs)
    spec = load_spec(built / SPEC_COPY)
    names = [e.name for e in spec.experiments]
    runs = {p.name for p in (built / "runs").iterdir()}
    assert lines[0] == f"report: reading {len(runs)} runs"
    assert lines[1] == f"report: drawing the figures of {len(names)} experiments"
    ticks = lines[2:-1]  # one line per experiment as its figures are written, counting up
    assert [t.split(" (")[0] for t in ticks] == [
        f"report: figures {i}/{len(names)}" for i in range(1, len(names) + 1)
    ]
    assert sorted(t.split(" (")[1].rstrip(")") for t in ticks) == sorted(names)
    assert lines[-1].startswith("report: ") and "figures)" in lines[-1]


def test_dataset_names_read_well_in_the_report():
    from proplab.report_data import dataset_name

    assert dataset_name("xor") == "XOR" and dataset_name("moons") == "moons"
    assert dataset_name("/data/exp 3/iris.csv") == "iris.csv"  # the file, not its folders


def test_report_on_a_sweep_with_a_dataset_not_yet_run(tmp_path):
    # an interrupted sweep: every XOR run unfinished (no summary.json), linear done
    text = '[base]\nepochs = 20\n[vary]\ndataset = ["linear", "xor"]\nseed = [0, 1]\n'
    text += '[[experiment]]\nname = "lr"\nsection = "discussion"\nvary.lr = [1.0, 0.1]\n'
    spec = parse_spec(text, Path("s.toml"))
    assert run_sweep(spec, tmp_path, stream=io.StringIO()).exit_code == 0
    for run in (tmp_path / "runs").glob("dataset=xor*"):
        (run / "summary.json").unlink()
    report.build_report(tmp_path, log=lambda m: None, jobs=1)
    md = (tmp_path / "report.md").read_text()
    assert "**Incomplete**: 4 of 8 runs are not finished" in md
    assert "figures/lr-boundaries.png" in md and "No decision boundaries" not in md


def test_bias_answer_names_the_base_models_own_network():
    view = _view({"1": _runs("1", 1.0, [1.0] * 5, first=700)})
    lab = report_answers.answers([view], RunConfig(), (130, 21))[2][1][0]
    assert lab.startswith("The lab model has 151 parameters") and "computes σ(w·x + b):" in lab
    other = report_answers.answers([view], RunConfig(activation="tanh", hidden=4), (30, 9))[2][1][0]
    assert other.startswith("The base model has 39 parameters: 30 weights and 9 biases.")
    assert "A unit computes f(w·x + b), with f its activation (tanh):" in other


def test_activation_answer_writes_the_product_of_the_base_networks_matrices():
    view = _view({"1": _runs("1", 1.0, [1.0] * 5, first=700)})
    lab = report_answers.answers([view], RunConfig(), (130, 21))[0][1][0]
    # with biases each layer is x·W + b, and so is their composition (report21 L4)
    assert (
        "the layers collapse: ((x·W1 + b1)·W2 + b2)·W3 + b3 = x·W + b is itself a single affine "
        "map, so the network can draw only one straight boundary" in lab
    )
    one_hidden = report_answers.answers([view], RunConfig(hidden=[5]), (15, 6))[0][1][0]
    assert "the layers collapse: (x·W1 + b1)·W2 + b2 = x·W + b is itself" in one_hidden
    no_bias = report_answers.answers([view], RunConfig(bias=False), (130, 0))[0][1][0]
    assert "the layers collapse: x·W1·W2·W3 = x·W is itself a single linear map" in no_bias


# ---------------------------------------------------------------- damaged run folders

DAMAGED = (
    '[base]\nepochs = 20\nprint_every = 0\n[vary]\ndataset = ["linear", "xor"]\nseed = [0, 1]\n'
)
VICTIM = "dataset=xor,seed=0"


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("damaged") / "sweep"
    assert run_sweep(parse_spec(DAMAGED, Path("s.toml")), out, stream=io.StringIO()).exit_code == 0
    return out


def _cut(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:300])


def _header_only(path: Path) -> None:
    path.write_text(path.read_text().splitlines(keepends=True)[0])


def _first_rows(path: Path) -> None:
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:10]))


@pytest.mark.parametrize(
    ("file", "damage", "problem"),
    [
        ("summary.json", lambda p: p.write_text('{"loss": 0.1, '), "not readable JSON"),
        ("summary.json", lambda p: p.write_text(""), "not readable JSON (Expecting value"),
        ("summary.json", lambda p: p.write_text('{"loss": "abc"}'), "loss is 'abc', not a number"),
        ("summary.json", lambda p: p.write_text("[1, 2]"), "holds list, not a JSON object"),
        ("history.csv", _cut, "cut short (its last row has no end of line)"),
        ("history.csv", Path.unlink, "missing"),
        ("model.npz", Path.unlink, "missing"),
        ("model.npz", lambda p: p.write_text("junk\n"), "not an .npz file"),
        # JSON that parses but is no run's summary (robust22 M1: a traceback, rc 1)
        ("summary.json", lambda p: p.write_text("{}"), "has no epochs_run"),
        # cut at a line's end (robust22 M3: the report trusted them)
        ("history.csv", _header_only, "0 rows, but summary.json says 20 epochs run"),
        ("history.csv", _first_rows, "9 rows, but summary.json says 20 epochs run"),
    ],
)
def test_a_damaged_run_stops_the_report_and_a_resumed_sweep_redoes_it(
    small_sweep, tmp_path, capsys, file, damage, problem
):
    import shutil

    out = tmp_path / "sweep"
    shutil.copytree(small_sweep, out)
    path = out / "runs" / VICTIM / file
    damage(path)
    # the report: one line naming the folder and the file, exit 2, no traceback
    assert report.main(str(out)) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"proplab report: error: {path}: {problem}")
    assert err[0].endswith("; rerun the sweep on this folder to redo that run")
    # a resumed sweep counts that run as unfinished, says why in one line and redoes it
    stream = io.StringIO()
    result = run_sweep(load_spec(out / SPEC_COPY), out, stream=stream)
    assert (result.reused, result.ran, result.exit_code) == (3, 1, 0)
    assert stream.getvalue().splitlines()[0].startswith(f"sweep: redoing run {VICTIM}: {path}: ")
    summary = json.loads((out / "runs" / VICTIM / "summary.json").read_text())
    assert summary["epochs_run"] == 20 and summary["dataset"] == "xor"
    assert report.main(str(out)) == 0


def test_a_history_with_junk_rows_is_named_by_the_report(small_sweep, tmp_path, capsys):
    import shutil

    out = tmp_path / "sweep"
    shutil.copytree(small_sweep, out)
    path = out / "runs" / VICTIM / "history.csv"
    # whole (a row per epoch), but not numbers
    rows = "".join(f"{e},{'abc' if e == 1 else 0.5},0.5,0.1\n" for e in range(1, 21))
    path.write_text("epoch,loss,accuracy,wall_time\n" + rows)
    assert report.main(str(out)) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1:] == [  # after the progress line "report: reading 4 runs"
        f"proplab report: error: {path}: not a readable history (could not convert string "
        "'abc' to float64 at row 0, column 2.)"
    ]


@pytest.mark.slow
def test_report_on_a_sweep_of_more_than_two_classes(tmp_path):
    # digits: 64 inputs, 10 classes (a learning curve, no comparison figure); xor: 2 -> 1
    text = 'title = "d"\n[base]\nepochs = 2\n[vary]\ndataset = ["digits", "xor"]\nseed = [0]\n'
    result = run_sweep(parse_spec(text, Path("d.toml")), tmp_path, stream=io.StringIO())
    assert not result.failed
    assert report.main(str(tmp_path)) == 0
    md = (tmp_path / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert "runs/dataset=digits,seed=0/learning_curve.png" in links
    assert "runs/dataset=digits,seed=0/comparison.png" not in links
    assert "runs/dataset=xor,seed=0/comparison.png" in links
    for link in links:
        assert (tmp_path / unquote(link)).is_file(), link
    page = (tmp_path / "report.html").read_text()
    assert page.count('<img src="data:image/png;base64,') == len(links)
    # the Setup describes each dataset's network as trained (its saved weights)
    for ds, widths in (("digits", "64 → 10 → 10 → 10"), ("xor", "2 → 10 → 10 → 1")):
        with np.load(tmp_path / "runs" / f"dataset={ds},seed=0" / "model.npz") as saved:
            sizes = {k: saved[k].size for k in saved.files if k.startswith("param.")}
        biases = sum(v for k, v in sizes.items() if k.endswith(".bias"))
        weights = sum(sizes.values()) - biases
        shown = (
            f"{widths} on {dataset_name(ds)}: {weights + biases} parameters ({weights} weights, "
        )
        assert shown in md
    assert "inputs → 10 → 10 → outputs (MLP)" in md
    # the lab's network on another dataset: the base model (claims23 L7)
    assert "The base model on digits has 870 parameters: 840 weights and 30 biases." in md


@pytest.mark.parametrize(
    "cfg",
    [
        RunConfig(),
        RunConfig(dataset="digits"),
        RunConfig(dataset="digits", loss="cross_entropy", output_activation="identity"),
        RunConfig(dataset="moons", n=50, hidden=[6, 3], activation="relu", bias=False, seed=3),
        RunConfig(model="conv", filters=3, kernel_size=3, padding=0, init="he"),
        # review20: the columns a CSV run leaves out (the command failed on the name column)
        RunConfig(dataset="people.csv", label="sport", drop_columns=["id", "patient name"]),
    ],
)
def test_the_gradcheck_command_in_the_report_checks_the_reports_network(cfg):
    import shlex

    from proplab import cli, cli_flags

    command = report_network._gradcheck_command(cfg)
    args = cli.build_parser().parse_args(shlex.split(command)[1:])
    again = cli_flags.config_from(args)
    for name in report_network._GRADCHECK_FIELDS:
        if name == "hidden":  # 10 and [10, 10] are one network
            assert again.hidden_sizes == cfg.hidden_sizes
        else:  # (an `or` over both let every other field pass once the widths matched)
            assert getattr(again, name) == getattr(cfg, name), name
    assert again.drop_columns == cfg.drop_columns  # named above only since review20


def test_the_commands_for_a_csv_regression_say_task_regression_and_run(tmp_path, capsys):
    # a CSV's float label is a regression only when told: without --task regression the
    # printed command stopped at argparse (exit 2)
    from proplab import cli

    rows = np.random.default_rng(0).uniform(size=(30, 3))
    lines = ["a,b,score"] + [
        f"{a:.4f},{b:.4f},{0.5 * a - 0.3 * b + 0.1 * c:.4f}" for a, b, c in rows
    ]
    (tmp_path / "scores.csv").write_text("\n".join(lines) + "\n")
    cfg = RunConfig(
        dataset=str(tmp_path / "scores.csv"), label="score", task="regression",
        hidden=[4], activation="tanh", output_activation="identity", optimizer="adam", lr=0.01,
    ).validate()  # fmt: skip
    command = report_network._gradcheck_command(cfg)
    assert "--task regression" in command
    assert cli.main(command.split()[1:]) == 0
    assert "gradcheck ok: worst relative error" in capsys.readouterr().out
    trace = report_network._trace_command(cfg)
    assert "--task regression" in trace and "--optimizer adam --lr 0.01" in trace
    assert cli.main(trace.split()[1:]) == 0


@pytest.mark.parametrize(
    "cfg",
    [
        RunConfig(dataset="xor"),
        RunConfig(dataset="xor", optimizer="adam", lr=0.01, weight_decay=0.001),
        RunConfig(dataset="moons", n=50, hidden=[6, 3], optimizer="momentum", momentum=0.5),
        RunConfig(dataset="circle", n=40, batchnorm=True, dropout=0.2, l1=0.001, seed=2),
    ],
)
def test_the_trace_command_in_the_report_traces_the_reports_network_and_optimizer(cfg):
    from proplab import cli, cli_flags

    command = report_network._trace_command(cfg)
    assert command.startswith("proplab trace --dataset ")
    again = cli_flags.config_from(cli.build_parser().parse_args(command.split()[1:]))
    assert again.hidden_sizes == cfg.hidden_sizes
    for name in (*report_network._GRADCHECK_FIELDS, *report_network._TRACE_FIELDS):
        if name != "hidden":
            assert getattr(again, name) == getattr(cfg, name), name


def test_the_gradients_line_reports_a_wrong_backward(monkeypatch):
    from types import SimpleNamespace

    from proplab.activations import Sigmoid

    records = [SimpleNamespace(dataset="xor", config=RunConfig(dataset="xor"))]
    line = report_network.gradients_line(RunConfig(), records, "xor")
    assert line.startswith("**Gradients**: the base model's backward passes match central")
    assert "(float64, 4 samples of xor): relative error below 1e-" in line
    assert "all 20 checked arrays" in line and "`proplab gradcheck --dataset xor`" in line
    right = Sigmoid.backward
    monkeypatch.setattr(
        Sigmoid, "backward", lambda self, g, need_input_grad=True, out=None: 2 * right(self, g)
    )
    line = report_network.gradients_line(RunConfig(), records, "xor")
    # the 3 Sigmoid layers alone and the 7 arrays of the whole model; Linear and MSE are right
    assert line.startswith("**Gradients**: FAILED: 10 of the 20 checked arrays")
    assert "differ from central differences (float64, 4 samples of xor) by more than 1e-06" in line
    assert "first Sigmoid() input (5.0e-01)" in line


def test_the_gradients_line_of_an_incomplete_check(monkeypatch):
    from types import SimpleNamespace

    from proplab import model_check

    # XOR's (0, 0) kept: two arrays of the whole ReLU model cannot be compared
    monkeypatch.setattr(model_check, "KINK_MARGIN", 0)
    records = [SimpleNamespace(dataset="xor", config=RunConfig(dataset="xor"))]
    line = report_network.gradients_line(RunConfig(activation="relu"), records, "xor")
    # the bound is round-off (its power of ten may differ on another BLAS)
    assert re.search(r"relative error below 1e-(0[7-9]|1\d) in 18 of the 20 checked arrays", line)
    assert "; 2 could not be compared (ReLU kinks);" in line
    assert "`proplab gradcheck --dataset xor --activation relu`" in line


# ---------------------------------------------------------------- from mutation testing the report


def _gv(
    setting: str,
    accs: list[float],
    dataset: str = "xor",
    *,
    first: int | None = None,
    end_loss: float = 1e-3,
    seconds: float | list[float] = 1.0,
    **cfg: object,
) -> GroupView:
    """A group of synthetic runs on any dataset and configuration (see ``_runs``)."""
    runs = []
    for seed, acc in enumerate(accs):
        config = RunConfig(**{"dataset": dataset, "seed": seed, "epochs": 1000, **cfg})
        secs = seconds[seed] if isinstance(seconds, list) else seconds
        rec = RunRecord(
            "x", setting, dataset, seed, f"r{setting}{dataset}{seed}", config, end_loss, acc,
            1000, "completed", secs, 1,
        )  # fmt: skip
        curve = np.full(1000, acc)
        if first is not None:
            curve[: first - 1] = 0.5
        runs.append(RunView(rec, Path("."), np.linspace(0.26, end_loss, 1000), curve))
    return GroupView(Group("x", setting, dataset, [r.record for r in runs]), runs)


def _answers(groups: list[GroupView], base: RunConfig | None = None) -> list[list[str]]:
    exp = parse_spec(LR, Path("lr.toml"), check_build=False).experiments[0]
    view = ExperimentView(exp, groups, 0, [], [])
    base = RunConfig(lr=1.0, epochs=1000) if base is None else base
    return [paras for _, paras in report_answers.answers([view], base, (130, 21))]


def test_one_seed_reads_as_a_percentage_and_a_spread_of_rounding_noise_as_zero():
    one = _view({"1": _runs("1", 1.0, [11 / 21])}).groups[0]
    assert report_text.acc_text(one) == "52.4 %"  # one seed: no ± (its std is NaN)
    g = _view({"1": _runs("1", 1.0, [0.5, 0.5])}).groups[0]
    g.group.records[0].final_loss = 0.1
    g.group.records[1].final_loss = 0.1 + 2**-56  # the last bits differ: summing order
    assert 0 < g.loss.std <= 1e-9 * 0.1
    assert report_text.loss_text(g) == "1.00e-01 ± 0.0e+00"
    g.group.records[1].final_loss = 0.3
    assert report_text.loss_text(g) == f"2.00e-01 ± {statistics.stdev([0.1, 0.3]):.1e}"


def test_observations_count_single_class_seeds_and_spreads_at_their_edges():
    runs = _runs("1", 1.0, [0.9, 0.9, 0.9, 11 / 21, 11 / 21])
    for r in runs[3:]:
        r.single_class = True
    other = _runs("0.001", 0.001, [0.1, 0.05])  # a spread of exactly 5 points counts
    assert 0.1 - 0.05 == 0.05
    notes = report_text.observations(_view({"1": runs, "0.001": other}))
    accs = [0.9] * 3 + [11 / 21] * 2
    assert (
        "On XOR, some runs end up giving every point the same class: lr 1 (2/5 seeds, "
        f"{100 * statistics.mean(accs):.1f} ± {100 * statistics.stdev(accs):.1f} %)." in notes
    )
    assert (
        "On XOR, the result depends on the seed for lr 1 (52.4–90.0 %) and lr 0.001 (5.0–10.0 %)."
        in notes
    )


def test_a_tail_change_of_exactly_5_percent_is_settled():
    runs = _runs("1", 1.0, [0.9] * 3)
    for r in runs:
        r.loss[:] = 20.0
        r.loss[-1] = 19.0  # (19 - 20) / 20 = -0.05 exactly: at most 5 %, settled
    assert runs[0].tail_trend == -0.05
    notes = report_text.observations(_view({"1": runs}))
    assert not any("at the end" in n for n in notes)
    assert "Still moving" not in report_setup._epochs_note([_view({"1": runs})], RunConfig())


def test_cost_note_uses_the_median_and_its_exact_threshold():
    # lr 1: 50 us per epoch in four seeds, 1 ms in one (a busy machine): median 50 us
    cheap = _runs("1", 1.0, [1.0] * 5, first=10, seconds=0.05)
    cheap[4].record.seconds = 1.0
    costly = _runs("0.001", 0.001, [1.0] * 5, first=10, seconds=0.15)  # 150 us: 3x
    notes = report_text.observations(_view({"1": cheap, "0.001": costly}))
    assert notes[-1] == (
        "Training time per epoch (median over runs, wall clock): lr 1 50 µs and lr 0.001 150 µs; "
        "the costliest setting takes 3.0x as long as the cheapest."
    )
    # exactly 2.5x is a large gap; a run without a time (NaN) is left out
    low = _runs("1", 1.0, [1.0] * 3, first=10, seconds=0.2)
    low[1].record.seconds = math.nan
    high = _runs("0.001", 0.001, [1.0] * 3, first=10, seconds=0.5)
    assert 0.5 / 1000 == 2.5 * (0.2 / 1000)
    notes = report_text.observations(_view({"1": low, "0.001": high}))
    assert notes[-1] == (
        "Training time per epoch (median over runs, wall clock): lr 1 200 µs and lr 0.001 500 µs; "
        "the costliest setting takes 2.5x as long as the cheapest."
    )


def test_headline_orders_speeds_and_skips_settings_with_no_surviving_seed():
    view = _view(
        {
            "1": _runs("1", 1.0, [1.0] * 5, first=400),
            "0.001": _runs("0.001", 0.001, [1.0] * 5, first=250),
        }
    )
    assert report_text.observations(view)[0] == (
        "On XOR, every setting reaches 100 % in every seed; median epochs to get there for good: "
        "250 for lr 0.001 and 400 for lr 1."
    )
    view = _view(
        {
            "1": _runs("1", 1.0, [1.0] * 3, first=40),
            "100": _diverge(_runs("100", 100.0, [0.5] * 3), [0, 1, 2]),
        }
    )
    assert report_text.observations(view)[0] == (
        "On XOR, only lr 1 reaches 100 % in every seed; median epochs to get there for good: 40."
    )
    # 90 % and 92 %: not "all end at" one accuracy (that is for a gap under 0.5 points)
    view = _view({"1": _runs("1", 1.0, [0.92] * 3), "0.001": _runs("0.001", 0.001, [0.9] * 3)})
    assert report_text.observations(view)[0] == (
        "On XOR, no setting reaches 100 % in every seed; the best is lr 1, at 92.0 ± 0.0 %."
    )


def test_activation_answer_compares_xor_first_and_quotes_its_best_seed():
    base = RunConfig(lr=1.0, epochs=1000)
    groups = [
        _gv("sigmoid", [1.0] * 3, "linear", lr=1.0),
        _gv("identity", [1.0] * 3, "linear", lr=1.0, activation="identity"),
        _gv("sigmoid", [1.0] * 3, "xor", lr=1.0),
        _gv("identity", [0.5, 0.6, 0.7], "xor", lr=1.0, activation="identity"),
    ]
    paras = _answers(groups, base)[0]
    xor = f"{100 * statistics.mean([0.5, 0.6, 0.7]):.1f} ± {100 * statistics.stdev([0.5, 0.6, 0.7]):.1f} %"
    assert paras[1] == (
        f"Measured with the identity in the hidden layers: XOR reaches {xor}, against "
        "100.0 ± 0.0 % with sigmoid; linear reaches 100.0 ± 0.0 %, against 100.0 ± 0.0 % with sigmoid."
    )
    # before: "no line separates XOR (its best seed reaches only 70.0 %)", as if no line
    # could do better; the best line gets 16 of XOR's 21 points
    assert paras[2] == (
        "That is what one straight boundary allows: the line x1 = x2 separates the linear "
        "dataset, but no line separates XOR; the best line classifies 16 of its 21 points "
        f"(76.2 %). Trained by gradient descent, this network does not even find that line: "
        f"it ends at {xor}."
    )
    # both below 90 %: both suffer
    groups[1] = _gv("identity", [0.6] * 3, "linear", lr=1.0, activation="identity")
    paras = _answers(groups, base)[0]
    assert paras[2] == (f"Both datasets suffer: linear ends at 60.0 ± 0.0 % and XOR at {xor}.")
    groups[1] = _gv("identity", [1.0] * 3, "linear", lr=1.0, activation="identity")
    # XOR's best seed at 95 % cannot happen with a straight boundary (at most 76.2 %): no
    # sentence (before: "Both datasets suffer: linear ends at 100.0 ± 0.0 %", or, at a mean
    # of 90 %, "the output sigmoid alone bends the boundary", which no sigmoid does)
    groups[3] = _gv("identity", [0.52, 0.52, 0.95], "xor", lr=1.0, activation="identity")
    paras = _answers(groups, base)[0]
    assert len(paras) == 2
    # the base with activations at 70 % on XOR cannot tell the two apart
    groups[2] = _gv("sigmoid", [0.7] * 3, "xor", lr=1.0)
    paras = _answers(groups, base)[0]
    assert paras[2] == (
        "With 1,000 epochs the network with activations does not fit XOR either "
        "(70.0 ± 0.0 %), so this run cannot tell the two apart."
    )
    # a network without biases is not "a purely linear network"
    groups.append(
        _gv(
            "lin",
            [0.5] * 3,
            "xor",
            lr=1.0,
            activation="identity",
            output_activation="identity",
            bias=False,
        )
    )
    assert not any("purely linear" in p for p in _answers(groups, base)[0])


def test_lr_answer_counts_saturated_single_class_seeds_and_takes_medians():
    high = _runs("100", 100.0, [10 / 21] * 5, single=True, end_loss=10 / 21)
    for r, jump in zip(high, [0.3, 0.3, 0.3, 0.3, 0.9], strict=True):
        r.saturated = True
        r.loss[1:] = jump
    high[3].single_class = high[4].single_class = False  # saturated, yet two classes
    low = _runs("0.001", 0.001, [11 / 21] * 4, single=True)
    for r, end in zip(low, [0.99, 0.98, 0.97, 0.90], strict=True):
        r.loss[:] = np.linspace(0.26, 0.26 * end, r.loss.size)  # moves by 1, 2, 3, 10 %
    view = _view({"100": high, "1": _runs("1", 1.0, [1.0] * 5, first=700), "0.001": low})
    text = " ".join(report_answers.answers([view], RunConfig(lr=1.0, epochs=1000), (130, 21))[1][1])
    assert "the loss jumps from 0.260 to 0.300 (median over seeds)" in text
    assert ". In 3/5 seeds every output ends within 0.001 of 0 or 1" in text
    assert "at lr 0.001 the loss changes by a median of only 2.5 % over 1,000 epochs" in text


def test_lr_answer_at_the_edges_of_too_low_and_stuck():
    # the loss moved by exactly 10 %: not "barely"
    low = _runs("0.001", 0.001, [0.9] * 3)
    for r in low:
        r.loss[:] = 20.0
        r.loss[-1] = 18.0
    assert low[0].total_change == 0.1
    mid = _runs("0.1", 0.1, [11 / 21] * 3, single=True)
    fast = _runs("100", 100.0, [1.0] * 3, first=90)
    lab = _runs("1", 1.0, [1.0, 1.0, 0.9], first=700)  # the lab's rate, not 100 % in every seed
    view = _view({"100": fast, "1": lab, "0.1": mid, "0.001": low})
    text = " ".join(report_answers.answers([view], RunConfig(lr=1.0, epochs=1000), (130, 21))[1][1])
    # 90 % where lr 100 reaches 100 % in every seed: too low for these epochs (before: "No
    # tested rate was too low", about the one rate that fell short)
    assert (
        "Too low for 1,000 epochs: lr 0.001 changes the loss by a median of 10 % but ends at "
        "90.0 ± 0.0 % on XOR, where lr 100 reaches 100 % in every seed; it is still on its "
        "way, and more epochs may take it there." in text
    )
    assert (
        "The fastest rate here is lr 100: 100 % on XOR for good after a median of 90 epochs."
        in text
    )
    assert (
        "In between, lr 0.1 still gives every XOR point the same class after 1,000 epochs in "
        "every seed" in text
    )
    # one seed of lr 0.1 away from the plateau: not "in every seed", but in how many
    mid[0].single_class = False
    text = " ".join(report_answers.answers([view], RunConfig(lr=1.0, epochs=1000), (130, 21))[1][1])
    assert "the same class after 1,000 epochs in every seed" not in text
    assert "In between, lr 0.1 in 2/3 seeds (52.4 ± 0.0 %) still gives every XOR point" in text


def test_lr_answer_counts_the_epochs_of_the_longest_run_not_the_first():
    # seed 0 of lr 0.1 stopped early (tol): the sentence gave its 400 epochs for all
    low = _runs("0.001", 0.001, [0.9] * 3)
    mid = _runs("0.1", 0.1, [11 / 21] * 3, single=True)
    mid[0].loss = mid[0].loss[:400]
    fast = _runs("100", 100.0, [1.0] * 3, first=90)
    lab = _runs("1", 1.0, [1.0] * 3, first=700)
    view = _view({"100": fast, "1": lab, "0.1": mid, "0.001": low})
    text = " ".join(report_answers.answers([view], RunConfig(lr=1.0, epochs=1000), (130, 21))[1][1])
    assert "lr 0.1 still gives every XOR point the same class after 1,000 epochs" in text


def test_bias_answer_thresholds():
    base = RunConfig(lr=1.0, epochs=1000)

    def said(base_accs, nob_accs, **kw):
        groups = [
            _gv("b", base_accs, "xor", lr=1.0, **kw),
            _gv("nob", nob_accs, "xor", lr=1.0, bias=False, **kw),
        ]
        return _answers(groups, base)[2]

    # 1 point worse is within the 2-point noise: not "worse"
    paras = said([1.0] * 3, [0.99] * 3)
    # one dataset, XOR: not "Both datasets", and no word of the linear dataset's line
    assert paras[2] == (
        "XOR is still fit without biases: the hidden sigmoids' outputs lie between 0 and 1, "
        "never centred on 0, so a weight on one adds a positive offset (its mean output times "
        "the weight) that the next layer can use like a bias."
    )
    # base below 90 %, without biases above: not "neither fits"
    paras = said([0.89] * 3, [0.95] * 3)
    assert paras[2].startswith("XOR is still fit without biases")
    # only one variant at 100 %: no epochs compared
    paras = said([0.9] * 3, [1.0] * 3, first=None)
    assert paras[1] == "Measured: XOR 100.0 ± 0.0 % without biases against 90.0 ± 0.0 % with them."


def test_run_and_group_views_compute_their_numbers():
    short = _runs("1", 1.0, [0.9])[0]
    short.loss = short.loss[:9]
    assert math.isnan(short.tail_trend)  # under 10 epochs: no last 10 %
    runs = _runs("1", 1.0, [1.0] * 3)
    for r, first in zip(runs, [100, 200, 900], strict=True):
        r.accuracy[: first - 1] = 0.5
    for r, end in zip(runs, [0.7, 0.8, 0.99], strict=True):  # tail changes 30, 20, 1 %
        r.loss[:] = 1.0
        r.loss[-1] = end
    g = _view({"1": runs}).groups[0]
    assert g.median_perfect_from == 200.0
    assert g.median_tail_change == pytest.approx(0.2)
    runs[2].loss[-1] = 1.01  # rising by 1 %: not moving, so the trend is the falling seeds'
    assert g.trend == "falling"
    # a diverged seed is no "same class" seed, whatever its flag says
    runs = _diverge(_runs("1", 1.0, [0.5] * 2, single=True), [0])
    assert _view({"1": runs}).groups[0].n_single == 1


def test_a_run_gives_every_point_one_class_when_no_output_is_above_one_half(monkeypatch):
    from proplab import report_data
    from proplab.report_data import ViewCache

    rec = _runs("1", 1.0, [0.5])[0].record
    monkeypatch.setattr(report_data, "read_history", lambda d: (np.ones(3), np.ones(3)))

    def flags(pred):
        monkeypatch.setattr(
            report_data, "final_predictions", lambda d, c: (None, None, np.array(pred)[:, None])
        )
        v = ViewCache(Path("."))
        v.run(rec)
        view = v.run(rec)
        return view.single_class, view.saturated

    assert flags([0.9, 0.95]) == (True, False)  # all class 1
    assert flags([0.1, 0.2]) == (True, False)  # all class 0
    assert flags([0.5, 0.7]) == (False, False)  # 0.5 is class 0: two classes
    assert flags([0.9999, 0.5]) == (False, False)  # one output not saturated
    assert flags([0.9999, 0.0001]) == (False, True)


def test_gradients_line_bound_is_the_next_power_of_ten_above_the_worst_error():
    from types import SimpleNamespace

    from proplab.model_check import check_config

    records = [SimpleNamespace(dataset="xor", config=RunConfig(dataset="xor"))]
    worst = check_config(RunConfig(dataset="xor")).worst_relative
    bound = 10.0 ** math.ceil(math.log10(worst))
    assert worst <= bound < 10 * worst
    line = report_network.gradients_line(RunConfig(), records, "xor")
    assert f"relative error below {bound:.0e} in all 20 checked arrays" in line


def test_epochs_note_counts_distinct_settings_and_what_still_moves():
    perfect = _runs("1", 1.0, [1.0] * 3, first=10)
    for r in perfect:
        r.loss[-101:] = np.linspace(0.02, 0.01, 101)  # still halving, but at 100 % already
    moving = _runs("0.001", 0.001, [0.9] * 3)
    for r in moving:
        r.loss[-101:] = np.linspace(0.3, 0.2, 101)  # -33 %
    view = _view({"1": perfect, "0.001": moving})
    again = _view({"1": perfect})  # a second experiment sharing lr 1's runs
    assert report_setup._epochs_note([view, again], RunConfig(epochs=1000)) == (
        "**Epochs**: 1,000 per run (the handout trains up to 100,000). Of the 2 distinct "
        "settings, 1 has settled by then: at 100 % in every seed, or with the median seed's "
        "loss changing by at most 5 % and the mean accuracy by less than a point over the last "
        "10 % of epochs. Loss still moving, accuracy steady: lr 0.001 on XOR (33 %) (the median "
        "seed's loss change over the last 10 % of epochs, over which the mean accuracy moved "
        "less than a point)."
    )


def test_epochs_note_says_which_experiment_a_repeated_setting_name_is_from():
    """Two experiments with their own bases each have an "lr 0.001 on XOR" (different runs):
    the note named both alike, "lr 0.001 on XOR (33 %), lr 0.001 on XOR (33 %)"."""
    import dataclasses

    text = '[vary]\ndataset = ["xor"]\n'
    for name, title in (("small", "Small net"), ("big", "Big net")):
        text += f'[[experiment]]\nname = "{name}"\ntitle = "{title}"\nvary.lr = [0.001]\n'
    views = []
    for exp in parse_spec(text, Path("two.toml"), check_build=False).experiments:
        runs = _runs("0.001", 0.001, [0.9] * 3)
        for r in runs:
            r.record = dataclasses.replace(r.record, run=f"{exp.name}-{r.record.run}")
            r.loss[-101:] = np.linspace(0.3, 0.2, 101)  # -33 %: still moving
        group = GroupView(Group("lr", "0.001", "xor", [r.record for r in runs]), runs)
        views.append(ExperimentView(exp, [group], 0, ["0.001"], ["xor"]))
    note = report_setup._epochs_note(views, RunConfig(epochs=1000))
    assert (
        'Loss still moving, accuracy steady: lr 0.001 on XOR in "Small net" (33 %), lr 0.001 '
        'on XOR in "Big net" (33 %)'
    ) in note
    # a name that is not repeated keeps its short form
    assert 'on XOR in "' not in report_setup._epochs_note(views[:1], RunConfig(epochs=1000))


def test_data_lines_state_the_class_shares(tmp_path):
    from types import SimpleNamespace

    from proplab.experiments import load_dataset

    def recs(ds, seeds=(0,)):
        return [
            SimpleNamespace(dataset=ds, seed=s, config=RunConfig(dataset=ds, seed=s)) for s in seeds
        ]

    _, y = load_dataset(RunConfig(dataset="xor"))
    ones = int(np.sum(y > 0.5))
    assert (ones, len(y)) == (10, 21)
    assert report_setup._describe_data("xor", recs("xor")) == (
        "the handout's 21 points on the two diagonals of the unit square (11 of class 0, 10 of "
        "class 1), the same in every run; a model that gives every point the larger class "
        "scores 52.4 %."
    )
    shares = [
        float(np.mean(load_dataset(RunConfig(dataset="linear", seed=s))[1] > 0.5)) for s in range(3)
    ]
    assert min(shares) < max(shares)
    # the inputs by the names the figures' axes give them ($x_1$, $x_2$), not NumPy's
    # columns 0 and 1: "x0 > x1" beside a figure whose x1 is the other input misled
    assert report_setup._describe_data("linear", recs("linear", range(3))) == (
        "100 points uniform in the unit square, class 0 if x1 > x2 else 1, drawn anew for each "
        f"seed; class 1 is {100 * min(shares):.0f}–{100 * max(shares):.0f} % of the points "
        "across seeds."
    )
    csv = tmp_path / "three.csv"
    labels = [0] * 6 + [1] * 3 + [2]
    csv.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{c}\n" for i, c in enumerate(labels)))
    assert report_setup._describe_data(str(csv), recs(str(csv))) == (
        "10 samples of 2 features in 3 classes (the largest is 60 %)."
    )
    # two named classes: class 1 by its name too (scale19: "class 1" of 'no' and 'yes')
    named = tmp_path / "named.csv"
    rows = "".join(f"{i},{i % 3},{'yes' if i % 4 == 0 else 'no'}\n" for i in range(12))
    named.write_text("a,b,answer\n" + rows)
    assert report_setup._describe_data(str(named), recs(str(named))) == (
        "12 samples of 2 features; class 1 ('yes') is 25 % of them."
    )


def test_time_line_counts_each_run_once_and_the_sweep_calls(tmp_path):
    from types import SimpleNamespace

    records = [
        SimpleNamespace(run=run, seconds=s)
        for run, s in [("a", 1.0), ("b", 2.0), ("c", 10.0), ("a", 1.0), ("d", math.nan)]
    ]
    (tmp_path / "sweep_log.csv").write_text("seconds,jobs,trained,reused\n40.0,2,3,0\n")
    assert report_setup._timing(tmp_path, records) == (
        "**Time**: the training loops of the 3 distinct runs took 13 s in total (median 2.0 s "
        "per run; figures and files not counted; a run trained in a stack of K counts 1/K of "
        "the stack's time until it stopped). Wall time of the sweep: 40 s over 1 call of `proplab sweep` (the "
        "last: --jobs 2, 3 runs trained, 0 reused)."
    )


@pytest.mark.parametrize(
    ("log", "said"),
    [
        # cli20 H2: an edited seconds cell was a ValueError traceback
        ("seconds,jobs,trained,reused\n40.0,2,3,0\nabc,1,1,0\n", "(line 3: seconds 'abc')"),
        # text without the log's columns was a KeyError
        ("x\n\x00\x01\n", "(line 2: no seconds)"),
        ("seconds,jobs,trained,reused\n40.0,2,3,0\n5,two,1,0\n", "(line 3: jobs 'two')"),
        ("seconds,jobs,trained,reused\n40.0,2,3,0\ninf,1,1,0\n", "(line 3: seconds 'inf')"),
    ],
)
def test_a_bad_sweep_log_row_is_left_out_and_said(tmp_path, log, said):
    from types import SimpleNamespace

    (tmp_path / "sweep_log.csv").write_text(log)
    text = report_setup._timing(tmp_path, [SimpleNamespace(run="a", seconds=1.0)])
    assert text.endswith(f" 1 row of sweep_log.csv left out {said}.")
    wall = " Wall time of the sweep: 40 s over 1 call"
    assert (wall in text) == log.startswith("seconds")  # the good row still counts


def test_an_undecodable_sweep_log_is_left_out_and_said(tmp_path):
    from types import SimpleNamespace

    (tmp_path / "sweep_log.csv").write_bytes(b"seconds\n\xff\xfe\n")
    text = report_setup._timing(tmp_path, [SimpleNamespace(run="a", seconds=1.0)])
    assert "sweep_log.csv left out: unreadable ('utf-8' codec can't decode" in text
    assert report_setup._sweep_calls(tmp_path, None)[0] == []


def test_experiment_table_counts_seeds_and_diverged_ones(tmp_path):
    view = _view(
        {
            "1": _runs("1", 1.0, [1.0] * 3, first=10),
            "0.001": _diverge(_runs("0.001", 0.001, [0.5] * 5), [0, 1]),
        }
    )
    doc = Document("T")
    report._experiment(doc, tmp_path, view, figures=[])
    header, rows = _tables(to_markdown(doc))[
        f"{view.experiment.title}: final accuracy and loss, mean ± std over 5 seeds"
    ]
    assert rows[1][:3] == ["0.001", "50.0 ± 0.0 % (2/5 diverged)", "50.0–50.0"]


@pytest.mark.parametrize(
    ("cfg", "command"),
    [
        (RunConfig(), "proplab gradcheck --dataset xor"),
        (RunConfig(bias=False), "proplab gradcheck --dataset xor --no-bias"),
        (
            RunConfig(dataset="moons", n=50, hidden=[6, 3], activation="relu", bias=False, seed=3),
            "proplab gradcheck --dataset moons --n 50 --hidden 6 3 --activation relu --no-bias --seed 3",
        ),
    ],
)
def test_the_gradcheck_command_is_exactly_the_options_that_differ(cfg, command):
    assert report_network._gradcheck_command(cfg) == command


def test_figures_name_the_lowest_seed_and_skip_a_diverged_runs_units(monkeypatch, tmp_path):
    from proplab import report_figures, sweep_boundaries, sweep_dots, sweep_plots

    drawn = {}
    for module, name in (
        (sweep_plots, "learning_curves"),
        (sweep_dots, "accuracy_dots"),
        (sweep_boundaries, "decision_boundaries"),
    ):
        monkeypatch.setattr(module, name, lambda *a, _n=name, **k: drawn.setdefault(_n, (a, k)))
    monkeypatch.setattr(report_figures, "_boundary_rows", lambda v, single: ([[None]], [""], []))
    view = _view(
        {
            "1": _diverge(_runs("1", 1.0, [1.0] * 3, first=10), [1]),
            "0.001": _runs("0.001", 0.001, [0.5] * 3),
        }
    )
    figures = report_figures.experiment_figures(view, tmp_path, "figures")
    # seed 1 of lr 1 diverged: past its end the median is over the other two (audit15a)
    assert figures[0].caption == (
        f"{view.experiment.title}: loss per epoch, pointwise median over 3 seeds (at each epoch, "
        "so it can switch seeds) with their min and max; "
        "past the last finite loss of a seed that diverged before the others of its setting "
        "(lr 1), they are over the seeds still going"
    )
    assert figures[-1].caption.startswith(
        f"{view.experiment.title}: the trained model's P(class 1) over the inputs (seed 0)"
    )
    assert drawn["decision_boundaries"][1]["title"].endswith("decision boundaries (seed 0)")
    dots = drawn["accuracy_dots"][0][0]
    assert drawn["accuracy_dots"][1]["xlabel"] == "lr"  # the ticks' values are lr's (F15)
    assert dots[0].accuracies[0] == 1.0 and math.isnan(dots[0].accuracies[1])  # seed 1 diverged
    # one setting whose lowest seed diverged: no hidden units drawn (nor its model read)
    single = _view({"1": _diverge(_runs("1", 1.0, [0.5] * 2), [0])})
    assert report_figures._unit_figures(single, tmp_path, "figures") == []


def test_a_curves_caption_says_a_stopped_seed_counts_with_its_last_loss(monkeypatch, tmp_path):
    # F5 (figs22): a seed stopped early by tol is carried at its last loss by the median
    # and band (sweep_plots.band); a diverged one is left out where its loss is not finite
    from proplab import report_figures, sweep_boundaries, sweep_dots, sweep_plots

    for module, name in (
        (sweep_plots, "learning_curves"),
        (sweep_dots, "accuracy_dots"),
        (sweep_boundaries, "decision_boundaries"),
    ):
        monkeypatch.setattr(module, name, lambda *a, **k: None)
    monkeypatch.setattr(report_figures, "_boundary_rows", lambda v, single: ([[None]], [""], []))

    stopped = _runs("0.1", 0.1, [1.0] * 3)
    stopped[0].loss = stopped[0].loss[:400]  # tol stopped seed 0 at epoch 400
    view = _view({"0.1": stopped, "1": _diverge(_runs("1", 1.0, [1.0] * 3), [2])})
    assert report_figures._ragged(view) == (["lr 0.1"], ["lr 1"])
    figures = report_figures.experiment_figures(view, tmp_path, "figures")
    caption = figures[0].caption
    assert (
        "a seed that stopped early (lr 0.1) counts with its last loss from its stop on" in caption
    )
    assert (
        "past the last finite loss of a seed that diverged before the others of its setting "
        "(lr 1), they are over the seeds still going" in caption
    )


def test_the_base_setting_of_each_lab_experiment_is_found_for_its_black_curve():
    from proplab.report_figures import base_setting
    from proplab.sweep import load_spec

    spec = load_spec(Path(report.__file__).parent / "suites" / "lab.toml")
    assert {e.name: base_setting(e) for e in spec.experiments} == {
        "baseline": None,  # one setting: nothing to single out
        "lr": "1",
        "hidden": "10",
        "no_activation": "sigmoid (lab)",
        "bias": "with biases (lab)",
        "optimizer": "sgd",  # its own base: sgd at lr 0.1
        "activation": "sigmoid",
        "conv": "MLP (lab)",
    }
    two_axes = parse_spec(
        "[vary]\nlr = [1.0, 0.1]\nactivation = ['sigmoid', 'tanh']\n", Path("s.toml"),
        check_build=False,
    )  # fmt: skip
    assert base_setting(two_axes.experiments[0]) is None


def test_a_setting_of_several_axes_is_bracketed_in_sentences():
    # "the best are lr=1, activation=tanh, lr=0.1, activation=tanh and ..." read as four
    spec = parse_spec(
        "[vary]\nlr = [1.0, 0.1]\nactivation = ['sigmoid', 'tanh']\n", Path("s.toml"),
        check_build=False,
    )  # fmt: skip
    view = ExperimentView(spec.experiments[0], [], 0, [], [])
    assert report_text.setting_name(view, "lr=1, activation=tanh") == "(lr=1, activation=tanh)"
    assert report_text.setting_name(view, "lr=1, activation=tanh", bracket=False) == (
        "lr=1, activation=tanh"
    )
    assert report_text.setting_name(_view({}), "0.001") == "lr 0.001"  # one axis: as before


def test_a_yes_no_setting_is_named_by_its_axis():
    # "only true reaches 100 % in every seed" (vary.standardize = [false, true]) named nothing
    spec = parse_spec("[vary]\nstandardize = [false, true]\n", Path("s.toml"), check_build=False)
    view = ExperimentView(spec.experiments[0], [], 0, [], [])
    assert report_text.setting_name(view, "true") == "standardize true"
    assert report_text.setting_name(view, "false") == "standardize false"
    labelled = parse_spec(
        "[vary]\nbias = [{ bias = true, label = 'with biases' }, { bias = false, label = 'false' }]\n",
        Path("s.toml"), check_build=False,
    )  # fmt: skip
    view = ExperimentView(labelled.experiments[0], [], 0, [], [])
    assert report_text.setting_name(view, "false") == "false"  # the file's own label stands
    assert report_text.setting_name(view, "with biases") == "with biases"


def test_the_test_set_line_names_best_lowest_and_gap_from_the_test_accuracies():
    # mutation testing: each branch of the held-out line, checked word for word
    def line(groups: dict[str, list[RunView]]) -> str:
        return report_text.observations(_view(groups))[1]

    # training and test order disagree (lr 0.001 lowest on the training data, best on the
    # test set); means 4 points apart are not "alike"; a gap of 5.2 points is named
    assert line(
        {
            "1": _held_out(_runs("1", 1.0, [0.952] * 5), [0.90] * 5),
            "0.1": _held_out(_runs("0.1", 0.1, [0.90] * 5), [0.85] * 5),
            "0.001": _held_out(_runs("0.001", 0.001, [0.85] * 5), [0.94] * 5),
        }
    ) == (
        "On the held-out test set of XOR, the best is lr 0.001, at 94.0 ± 0.0 %; the lowest is "
        "lr 0.1, at 85.0 ± 0.0 %; training accuracy exceeds it by up to 5.2 points, for lr 1."
    )
    # a tie on the test set (not on the training data) names both
    assert line(
        {
            "1": _held_out(_runs("1", 1.0, [0.95] * 5), [0.9] * 5),
            "0.1": _held_out(_runs("0.1", 0.1, [0.99] * 5), [0.9] * 5),
            "0.001": _held_out(_runs("0.001", 0.001, [0.5] * 5), [0.5] * 5),
        }
    ) == (
        "On the held-out test set of XOR, the best are lr 1 and lr 0.1, at 90.0 ± 0.0 % each; "
        "the lowest is lr 0.001, at 50.0 ± 0.0 %; training accuracy exceeds it by up to 9.0 "
        "points, for lr 0.1."
    )
    # one setting: its gap has no "up to"
    assert report_text.observations(
        _view({"1": _held_out(_runs("1", 1.0, [0.95] * 5), [0.925] * 5)})
    )[1] == (
        "On XOR, the held-out test set is scored at 92.5 ± 0.0 %; training accuracy exceeds it "
        "by 2.5 points."
    )
    # a setting with nothing held out (a test_fraction axis) is left out of "every setting"
    assert (
        line(
            {
                "1": _held_out(_runs("1", 1.0, [0.9] * 5), [0.9] * 5),
                "0.1": _held_out(_runs("0.1", 0.1, [0.9] * 5), [0.9] * 5),
                "0.001": _runs("0.001", 0.001, [0.5] * 5),
            }
        )
        == "On XOR, every setting with a held-out set scores 90.0 % on the held-out test set."
    )
    # and one held-out setting among others is named as the only one
    assert line(
        {"1": _held_out(_runs("1", 1.0, [0.9] * 5), [0.9] * 5), "0.1": _runs("0.1", 0.1, [0.9] * 5)}
    ) == (
        "On XOR, the held-out test set of lr 1 (the only setting scored on one) is scored at "
        "90.0 ± 0.0 %."
    )
    # every seed diverged: no test accuracy to give
    gone = _held_out(_diverge(_runs("1", 1.0, [0.9] * 2), [0, 1]), [math.nan] * 2)
    assert report_text.observations(_view({"1": gone}))[1] == (
        "On XOR, no run has a test accuracy (every seed diverged)."
    )


def test_the_setup_line_names_every_share_held_out_and_none_as_none():
    # mutation testing: a test_fraction axis of 0 and 0.25 is "25 %", not "0 % or 25 %"
    tail = (
        ": the tables and boundary panels give the accuracy on both parts, the accuracy "
        "figures on the test set"
    )
    assert report_setup._split_line({0.0, 0.25}) == (
        "25 % of each dataset held out as its test set (by setting; with none, training data "
        "= test data)" + tail
    )
    assert report_setup._split_line({0.2, 0.1}) == (
        "10 % or 20 % of each dataset held out as its test set" + tail
    )
    assert report_setup._split_line({0.0}) == "training data = test data, as in the lab"
    # found by audit16a (L7): said of a sweep whose data has no boundary panels
    assert report_setup._split_line({0.2}, panels=False) == (
        "20 % of each dataset held out as its test set: the tables give the accuracy on "
        "both parts, the accuracy figures on the test set"
    )


def test_the_gradients_line_shows_the_plain_relative_error_not_the_judged_one(monkeypatch):
    # mutation testing: a row within round-off passes with a judged error of 1e-7 while its
    # plain relative error is 3e-5: the bound and the FAILED line give the plain one
    from types import SimpleNamespace

    from proplab import model_check
    from proplab.model_check import CheckRow, ModelCheck

    title = "2-10-10-1 sigmoid (output sigmoid), mse loss, seed 0; 4 samples of xor, float64"
    rows = [
        CheckRow(0, "Linear(in=2, out=10, bias=True)", "weight", 20, 1e-7, relative=3e-5),
        CheckRow(None, "MSELoss", "pred", 4, 2e-8, relative=2e-8),
    ]
    monkeypatch.setattr(model_check, "check_config", lambda cfg: ModelCheck(title, rows))
    records = [SimpleNamespace(dataset="xor", config=RunConfig(dataset="xor"))]
    line = report_network.gradients_line(RunConfig(), records, "xor")
    assert "relative error below 1e-04 in all 2 checked arrays" in line
    rows[0] = CheckRow(0, "Linear(in=2, out=10, bias=True)", "weight", 20, 2e-3, relative=0.5)
    line = report_network.gradients_line(RunConfig(), records, "xor")
    assert "FAILED: 1 of the 2 checked arrays" in line
    assert "first Linear(in=2, out=10, bias=True) weight (5.0e-01)" in line


def test_an_experiment_of_several_axes_has_no_base_setting():
    # mutation testing: two axes have no single reference curve even when one axis's setting
    # equals the base; one axis of bundles finds the one whose values the base has
    from proplab.report_figures import base_setting

    two_axes = parse_spec(
        "[base]\nlr = 0.1\nactivation = 'tanh'\n[vary]\nlr = [1.0, 0.1]\n"
        "activation = ['sigmoid', 'tanh']\n", Path("s.toml"), check_build=False,
    )  # fmt: skip
    assert base_setting(two_axes.experiments[0]) is None
    bundles = (
        "[vary]\nlr = [{ lr = 0.1, label = 'slow' }, "
        "{ lr = 0.1, momentum = 0.0, label = 'slow, no momentum' }, { lr = 1.0, label = 'fast' }]\n"
    )
    spec = parse_spec("[base]\nlr = 0.1\n" + bundles, Path("s.toml"), check_build=False)
    assert base_setting(spec.experiments[0]) == "slow"


def test_the_curves_figure_is_told_the_base_setting_to_draw_in_black(tmp_path, monkeypatch):
    # mutation testing: experiment_figures hands learning_curves the base setting's label
    from proplab import report_figures, sweep_plots

    seen = []

    class Drawn(Exception):
        pass

    def spy(panels, path, title="", legend_title="", highlight=None, loss_name="loss"):
        seen.append((list(panels["XOR"]), legend_title, highlight))
        raise Drawn  # the curves are all this test needs (the rest reads run folders)

    monkeypatch.setattr(sweep_plots, "learning_curves", spy)
    exp = parse_spec("[base]\nlr = 0.001\n" + LR, Path("lr.toml"), check_build=False)
    groups = {"1": _runs("1", 1.0, [1.0] * 2), "0.001": _runs("0.001", 0.001, [0.5] * 2)}
    gvs = [GroupView(Group("lr", s, "xor", [r.record for r in rs]), rs) for s, rs in groups.items()]
    view = ExperimentView(exp.experiments[0], gvs, 0, list(groups), ["xor"])
    with pytest.raises(Drawn):
        report_figures.experiment_figures(view, tmp_path, "figures")
    ((sets, legend_title, highlight),) = seen
    assert [s.label for s in sets] == ["1", "0.001"] and legend_title == "lr"
    assert highlight == "0.001"


def test_the_fastest_rate_is_compared_with_the_sweeps_own_base_rate():
    # a sweep whose [base] has lr 0.1 was told "against 700 at the lab's lr 0.1" (the
    # lab's rate is 1)
    view = _view(
        {"1": _runs("1", 1.0, [1.0] * 5, first=90), "0.1": _runs("0.1", 0.1, [1.0] * 5, first=700)}
    )
    text = " ".join(report_answers.answers([view], RunConfig(lr=0.1, epochs=1000), (130, 21))[1][1])
    assert "after a median of 90 epochs, against 700 at the base lr 0.1." in text


def test_the_seeds_line_counts_a_zoo_set_given_as_a_bundle(tmp_path):
    # a bundle's label ("spiral small") is no dataset name: its points, redrawn per seed,
    # went unmentioned
    text = "[base]\nepochs = 20\nhidden = 4\nprint_every = 0\n[vary]\nseed = [0, 1]\n"
    text += "dataset = ['moons', { dataset = 'spiral', n = 40, label = 'spiral small' }]\n"
    assert (
        run_sweep(parse_spec(text, Path("s.toml")), tmp_path, stream=io.StringIO()).exit_code == 0
    )
    report.build_report(tmp_path, log=lambda m: None, jobs=1)
    md = (tmp_path / "report.md").read_text()
    assert "A seed draws the initial weights (and the points of moons and spiral small);" in md


def test_the_gradients_line_names_a_dead_relu_output_not_kinks():
    # every gradient exactly 0 (ReLU on the output, dead on these samples) was reported as
    # "could not be compared (ReLU kinks)" (a review)
    from types import SimpleNamespace

    base = RunConfig(dataset="xor", activation="relu", output_activation="relu", hidden=[2], seed=3)
    records = [SimpleNamespace(dataset="xor", config=base)]
    line = report_network.gradients_line(base, records, "xor")
    assert "could not be compared (every gradient exactly 0: a dead ReLU output)" in line
    assert "ReLU kinks" not in line


def test_a_one_layer_network_gets_the_gradcheck_command_that_builds_one():
    # `--hidden 2` builds 2-2-2-1: the report must not point at a command checking another
    # network; `--hidden 2 --layers 1` builds 2-2-1
    from types import SimpleNamespace

    base = RunConfig(dataset="xor", hidden=[2], activation="tanh")
    line = report_network.gradients_line(base, [SimpleNamespace(dataset="xor", config=base)], "xor")
    command = "proplab gradcheck --dataset xor --hidden 2 --layers 1 --activation tanh"
    assert line.endswith(
        f"; `{command}` prints them one by one, and `{command.replace('gradcheck', 'trace')}` "
        "one training step of it, number by number."
    )
    from proplab.cli import build_parser, main
    from proplab.cli_flags import config_from

    assert main(command.split()[1:]) == 0  # the command runs, on the network of the run
    assert config_from(build_parser().parse_args(command.split()[1:])) == base
    two = base.replace(hidden=[2, 2])
    line = report_network.gradients_line(two, [SimpleNamespace(dataset="xor", config=two)], "xor")
    assert "`proplab gradcheck --dataset xor --hidden 2 2 --activation tanh` prints" in line


# ---------------------------------------------------------------- from mutation testing (today's)


def test_the_uncompared_arrays_get_every_cause_gradchecks_notes_give():
    import importlib
    from types import SimpleNamespace

    gc = importlib.import_module("proplab.gradcheck_notes")
    kink = (
        "3 of 40 entries not compared: nudging them by +-eps moves a ReLU/LeakyReLU input "
        "across its kink at 0, where a central difference is not the derivative"
    )
    zero = gc.all_zero_note(["Linear(2, 1) bias"], "a dead ReLU output?")
    roundoff = gc.below_roundoff_note(["Linear(2, 2) weight"], 1e-10)
    causes = report_network._uncompared_causes
    assert causes(SimpleNamespace(notes=[kink, zero, roundoff])) == (
        "ReLU kinks; every gradient exactly 0: a dead ReLU output; gradients below round-off: "
        "saturated units"
    )
    # a cause in any note, not only the first
    assert causes(SimpleNamespace(notes=["Linear(2, 1): ok", roundoff])) == (
        "gradients below round-off: saturated units"
    )
    assert causes(SimpleNamespace(notes=["a note of another kind"])) == "see the check's notes"


def test_the_network_line_and_gradcheck_command_of_a_features_model():
    from proplab import cli, cli_flags

    cfg = RunConfig(
        dataset="xor-quadrants", features=["x1", "x2", "x1*x2"], hidden=[2, 2], activation="tanh"
    ).validate()
    assert report_network._architecture(cfg, 2, 1) == (
        "3 input features (x1, x2, x1_x2) → 2 → 2 → 1 (MLP), tanh after each hidden layer, "
        "sigmoid on the output, with biases"
    )
    command = report_network._gradcheck_command(cfg)
    assert command == (
        "proplab gradcheck --dataset xor-quadrants --features x1 x2 x1_x2 --hidden 2 2 "
        "--activation tanh"
    )
    again = cli_flags.config_from(cli.build_parser().parse_args(command.split()[1:]))
    assert again.features == ["x1", "x2", "x1_x2"]


def test_the_gradients_line_of_a_wrong_backward_says_the_command_shows_where(monkeypatch):
    from types import SimpleNamespace

    from proplab.activations import Sigmoid

    right = Sigmoid.backward
    monkeypatch.setattr(
        Sigmoid, "backward", lambda self, g, need_input_grad=True, out=None: 2 * right(self, g)
    )
    records = [SimpleNamespace(dataset="xor", config=RunConfig(dataset="xor"))]
    line = report_network.gradients_line(RunConfig(), records, "xor")
    assert line.endswith(
        "; `proplab gradcheck --dataset xor` shows where. A wrong backward pass makes these "
        "results something other than gradient descent."
    )


def test_the_base_table_shows_a_penalty_or_features_the_base_sets():
    # a sweep with [base] weight_decay or l1 changed every run, and the table did not say so
    lab = report_setup._base_rows(RunConfig())
    assert [k for k, _ in lab] == list(report_setup._SHOWN_FIELDS)  # the lab's: nothing more
    rows = dict(
        report_setup._base_rows(
            RunConfig(weight_decay=1e-3, l1=1e-4, features=["x1", "x1_x2"], tol=1e-5)
        )
    )
    assert (rows["weight_decay"], rows["l1"], rows["tol"]) == ("0.001", "0.0001", "1e-05")
    assert rows["features"] == "(x1, x1_x2)"
    assert "momentum" not in rows and "filters" not in rows
    # csv18: standardised inputs, a held-out share and a chosen label column were unsaid
    rows = dict(
        report_setup._base_rows(RunConfig(standardize=True, test_fraction=0.25, label="tall"))
    )
    assert (rows["standardize"], rows["test_fraction"], rows["label"]) == ("true", "0.25", "tall")
    conv = dict(report_setup._base_rows(RunConfig(model="conv", hidden=8, kernel_size=3)))
    assert (conv["hidden"], conv["filters"], conv["kernel_size"], conv["padding"]) == (
        "8", "4", "3", "1",
    )  # fmt: skip


def test_the_network_line_names_batchnorm_and_dropout() -> None:
    cfg = RunConfig(batchnorm=True, dropout=0.1).validate()
    text = report_network._architecture(cfg, 2, 1)
    assert text == (
        "2 → 10 → 10 → 1 (MLP), batchnorm then sigmoid after each hidden layer (then dropout "
        "0.1), sigmoid on the output, biases on the output (batchnorm's shift stands for the "
        "hidden ones)"
    )
    plain = report_network._architecture(RunConfig().validate(), 2, 1)
    assert plain == (
        "2 → 10 → 10 → 1 (MLP), sigmoid after each hidden layer, sigmoid on the output, with biases"
    )


def test_a_flat_loss_that_gives_every_point_one_class_is_a_plateau_not_settled():
    # found by review: a one-run sweep stuck at 52.4 % on XOR read "1 has settled by
    # then", and the lab report counted lr 0.01 and 0.001 on XOR (every point one class)
    # as settled while its own learning-rate answer says they may still leave the plateau
    stuck = _runs("0.01", 0.01, [11 / 21] * 5, single=True, end_loss=0.25)
    done = _runs("1", 1.0, [1.0] * 5, first=700)
    note = report_setup._epochs_note([_view({"1": done, "0.01": stuck})], RunConfig(epochs=1000))
    assert note == (
        "**Epochs**: 1,000 per run (the handout trains up to 100,000). Of the 2 distinct "
        "settings, 1 has settled by then: at 100 % in every seed, or with the median seed's "
        "loss changing by at most 5 % and the mean accuracy by less than a point over the last "
        "10 % of epochs. 1 has a flat loss but gives "
        "every point the same class, a plateau more epochs may or may not leave: lr 0.01 on "
        "XOR (5/5 seeds)."
    )
    alone = report_setup._epochs_note([_view({"0.01": stuck})], RunConfig(epochs=1000))
    assert alone.startswith(
        "**Epochs**: 1,000 per run (the handout trains up to 100,000). Of the 1 distinct "
        "setting, none has settled by then (at 100 % in every seed, or with the median seed's "
        "loss changing by at most 5 % and the mean accuracy by less than a point over the last "
        "10 % of epochs). 1 has a flat loss"
    )


def test_the_epochs_note_names_the_handout_only_for_the_handouts_data():
    # found by review: a sweep on the spiral read "(the handout trains up to 100,000)"
    import dataclasses

    done = _runs("1", 1.0, [1.0] * 3, first=700)
    lab = report_setup._epochs_note([_view({"1": done})], RunConfig(epochs=1000))
    assert lab.startswith("**Epochs**: 1,000 per run (the handout trains up to 100,000). Of ")
    spiral = [
        dataclasses.replace(r, record=dataclasses.replace(r.record, dataset="spiral")) for r in done
    ]
    other = report_setup._epochs_note([_view({"1": spiral})], RunConfig(epochs=1000))
    assert other.startswith("**Epochs**: 1,000 per run. Of the 1 distinct setting, 1 has ")


def test_the_epochs_note_names_experiments_of_their_own_length_and_tol():
    # claims23 M4: "5,000 per run ... settled by then" when experiments ran 1,500 and 8,000
    # epochs and two runs stopped at tol
    import dataclasses

    done = _runs("1", 1.0, [1.0] * 3, first=700)  # 1,000 epochs each
    note = report_setup._epochs_note([_view({"1": done})], RunConfig(epochs=5000))
    assert note.startswith(
        '**Epochs**: 5,000 per run (1,000 in "All runs"; the handout trains up to 100,000). '
        "Of the 1 distinct setting, 1 has settled by the end of their runs: "
    )
    stops = [
        dataclasses.replace(
            r, record=dataclasses.replace(r.record, config=r.record.config.replace(tol=1e-3))
        )
        for r in done
    ]
    note = report_setup._epochs_note([_view({"1": stops})], RunConfig(epochs=1000))
    assert note.startswith(
        "**Epochs**: 1,000 per run (the handout trains up to 100,000); a run stops early once "
        "its loss is below tol 0.001. Of the 1 distinct setting, 1 has settled by the end of "
        "their runs: "
    )
    # the same length everywhere and no tol: as before
    same = report_setup._epochs_note([_view({"1": done})], RunConfig(epochs=1000))
    assert "settled by then: " in same and "tol" not in same


def test_the_units_pointer_says_when_the_run_it_points_at_has_not_fitted_xor():
    # found by review: "the output combines those into the boundary XOR needs" under the
    # units of a run stuck at 52.4 %
    stuck = _view({"1": _runs("1", 1.0, [11 / 21, 1.0], single=True)})
    path = f"figures/{stuck.experiment.name}-units-xor.png"
    run = report._units_run([stuck], path)
    assert run is not None and run.seed == 0
    text = report._units_pointer(RunConfig(), run)
    assert text.endswith(
        "only the second layer, which combines those half-planes, can draw bent lines. The "
        "run drawn there (seed 0) ends at 52.4 % on XOR: its units have not formed the "
        "boundary XOR needs (yet)."
    )
    fitted = _view({"1": _runs("1", 1.0, [1.0, 11 / 21])})
    text = report._units_pointer(RunConfig(), report._units_run([fitted], path))
    assert text.endswith("and the output combines those into the boundary XOR needs.")
    assert report._units_run([fitted], "figures/other-units-xor.png") is None


def test_a_one_run_sweep_without_a_title_reads_in_the_singular(tmp_path):
    # found by review: "drawing the figures of 1 experiments", "mean ± std over 1 seeds",
    # and a results section headed "### sweep" (the implicit experiment's name)
    spec = parse_spec('[base]\nepochs = 30\ndataset = "xor"\n', Path("one.toml"))
    assert run_sweep(spec, tmp_path, stream=io.StringIO()).exit_code == 0
    lines: list[str] = []
    report.build_report(tmp_path, log=lines.append, jobs=1)
    assert "report: drawing the figures of 1 experiment" in lines
    md = (tmp_path / "report.md").read_text()
    assert "\n### All runs\n" in md and "### sweep" not in md
    assert "All runs: final accuracy and loss, one seed" in md
    assert "over 1 seeds" not in md


def test_lr_answer_names_every_diverged_rate_and_the_optimizer_it_compares():
    # found by review: "at lr 50 the loss overflows to NaN" (it became inf) with lr 5,
    # diverged too, unnamed; and "the fastest rate is lr 2" among plain-SGD runs only,
    # beside momentum runs that were faster
    five = _diverge(_runs("5", 5.0, [0.5] * 3), [0, 1])
    fifty = _diverge(_runs("50", 50.0, [0.5] * 3), [0, 1, 2])
    ok = _runs("1", 1.0, [1.0] * 3, first=300)
    text = " ".join(
        report_answers.answers(
            [_view({"1": ok, "5": five, "50": fifty})], RunConfig(lr=1.0, epochs=1000), (130, 21)
        )[1][1]
    )
    assert (
        "Too high, measured: the loss diverges (it becomes inf or NaN) at lr 5 in 2/3 seeds and "
        "lr 50 in every seed on XOR, at epoch 1,000 (median over those runs)." in text
    )
    assert "The fastest rate here is lr 1: 100 % on XOR" in text
    momentum = _gv("momentum", [1.0] * 3, lr=1.0, optimizer="momentum", first=40)
    groups = [_view({"1": ok, "5": five}).groups[0], _view({"5": five}).groups[0], momentum]
    text = " ".join(_answers(groups)[1])
    assert "The fastest rate here with sgd is lr 1: 100 % on XOR" in text


def test_saturated_single_class_runs_have_settled_not_on_a_plateau():
    # a too high rate saturates every output: no gradient comes back, the learning-rate
    # answer says "training never recovers"; the Epochs line called it a plateau that
    # "more epochs may or may not leave"
    high = _runs("100", 100.0, [10 / 21] * 3, single=True, end_loss=0.5)
    for r in high:
        r.saturated = True
        r.loss[:] = 0.5
    note = report_setup._epochs_note([_view({"100": high})], RunConfig(epochs=1000))
    assert "Of the 1 distinct setting, 1 has settled by then" in note
    assert "plateau" not in note
    high[0].saturated = False  # one seed stuck without saturating: that one may leave
    note = report_setup._epochs_note([_view({"100": high})], RunConfig(epochs=1000))
    assert "none has settled" in note and "plateau" in note


def test_an_accuracy_still_rising_is_moving_even_when_the_loss_barely_moves():
    # found by audit15a: lr 0.01 on linear rose from 68.0 to 73.8 % over the last 10 % of
    # epochs while its loss fell by a median 3.9 %, and was counted as settled
    rising = _runs("0.01", 0.01, [0.7, 0.75, 0.8])
    for r, start in zip(rising, [0.6, 0.7, 0.74], strict=True):
        r.loss[:] = 0.2
        r.loss[-1] = 0.2 * 0.97  # -3 %: under the loss's 5 %
        r.accuracy[899:] = np.linspace(start, r.record.final_accuracy, 101)
    view = _view({"0.01": rising, "1": _runs("1", 1.0, [1.0] * 3, first=10)})
    group = view.groups[0]
    assert group.median_tail_change == pytest.approx(0.03)
    assert group.tail_accuracy == pytest.approx((0.68, 0.75))
    assert group.accuracy_moving and group.moving
    assert (
        "On XOR, lr 0.01 is still learning at the end: its mean accuracy rose from 68.0 % to "
        "75.0 % over the last 10 % of epochs, and may change with more epochs."
    ) in report_text.observations(view)
    note = report_setup._epochs_note([view], RunConfig(epochs=1000))
    assert note.endswith(
        "Of the 2 distinct settings, 1 has settled by then: at 100 % in every seed, or with the "
        "median seed's loss changing by at most 5 % and the mean accuracy by less than a point "
        "over the last 10 % of epochs. Accuracy still changing over the last 10 % of epochs: "
        "lr 0.01 on XOR (mean accuracy 68.0 → 75.0 %); their accuracy could change with more "
        "epochs."
    )
    # a mean change just under a point is steady: the loss alone decides, and it settled
    for r in rising:
        r.accuracy[899:] = r.record.final_accuracy
    rising[0].accuracy[899] = 0.7 - 0.029  # mean change 0.97 points
    assert not group.accuracy_moving and not group.moving


def test_runs_stopped_by_their_own_rule_are_not_still_moving():
    # found by audit15a: runs that stopped at tol after 35-189 of 2,000 epochs were
    # "still improving at the end ... may change with more epochs"
    stopped = _runs("1", 1.0, [0.9] * 3)
    for r in stopped:
        r.record.stop_reason = "converged"
        r.loss[-101:] = np.linspace(0.3, 0.2, 101)  # -33 % over its own last 10 %
        r.accuracy[-101:] = np.linspace(0.8, 0.9, 101)
    view = _view({"1": stopped})
    group = view.groups[0]
    assert group.stopped_early and not group.moving
    assert math.isnan(group.median_tail_change)
    assert not any("at the end" in n for n in report_text.observations(view))
    assert report_setup._epochs_note([view], RunConfig(epochs=1000)).endswith(
        "Of the 1 distinct setting, 1 has settled by then: at 100 % in every seed, or with the "
        "median seed's loss changing by at most 5 % and the mean accuracy by less than a point "
        "over the last 10 % of epochs, or stopped early in every seed by their own rule (tol or "
        "early stopping)."
    )
    # one seed that ran all its epochs speaks for the group
    stopped[2].record.stop_reason = "completed"
    assert not group.stopped_early and group.moving
    assert group.median_tail_change == pytest.approx(1 / 3)


def test_all_end_at_is_said_only_when_every_setting_shows_the_same_accuracy():
    # found by audit15a: "all end at 99.3 %" with a setting at 99.0 % (within half a point)
    view = _view(
        {"4": _runs("4", 4.0, [1.0, 0.99, 0.99]), "10": _runs("10", 10.0, [0.99, 0.99, 0.99])}
    )
    # ... nor a best: 0.3 points is within the seeds' spread (claims23 M1)
    assert report_text.observations(view)[0] == (
        "On XOR, no setting reaches 100 % in every seed; none ends clearly best: lr 4 "
        "(99.3 ± 0.6 %) and lr 10 (99.0 ± 0.0 %), a gap within the spread over seeds."
    )
    same = _view({"4": _runs("4", 4.0, [0.99] * 3), "10": _runs("10", 10.0, [0.99] * 3)})
    # the shown value is the seeds' mean (claims23 L2: "all end at 98.0 %" over 96-100 %)
    assert report_text.observations(same)[0] == (
        "On XOR, no setting reaches 100 % in every seed; both average 99.0 %."
    )


def test_the_setup_says_the_tables_give_the_model_after_its_last_update(built: Path) -> None:
    # found by audit15a: tanh on linear seed 2 ends its curve (history.csv) at 100 % and its
    # table row (summary.json, after the last update) at 99 %, and nothing said which is which
    md = (built / "report.md").read_text()
    assert (
        "tables give the mean ± sample standard deviation over seeds of each run's final model, "
        "after its last update (a learning curve's points, history.csv's rows, are measured "
        "before each epoch's update, so a curve's last point can differ from it)."
    ) in md


def _report_of(folder: Path, sweep_text: str) -> str:
    """report.md of the sweep file ``sweep_text``, run into ``folder`` (one process)."""
    spec = parse_spec(sweep_text, Path("sweep.toml"))
    assert run_sweep(spec, folder, stream=io.StringIO()).exit_code == 0
    report.build_report(folder, log=lambda m: None, jobs=1)
    return (folder / "report.md").read_text()


def test_a_one_seed_experiments_accuracy_figure_is_not_captioned_mean_and_std(tmp_path):
    # found by audit15a: "final accuracy of every seed, mean ± std" over one seed
    md = _report_of(
        tmp_path,
        '[base]\nepochs = 30\ndataset = "xor"\n\n[[experiment]]\nname = "lr"\n'
        "vary.lr = [1.0, 0.1]\n",
    )
    assert "*lr: final accuracy (one seed)*" in md
    assert "mean ± std" not in md


def test_the_seeds_line_names_the_experiments_over_fewer_seeds(tmp_path):
    # found by audit15a: "Seeds: 0, 1, 2, 3, 4." above experiments that used 3 or 1 of them
    md = _report_of(
        tmp_path,
        '[base]\nepochs = 20\ndataset = "xor"\n\n[[experiment]]\nname = "lr"\n'
        'title = "Learning rate"\nvary.seed = [0, 1, 2]\nvary.lr = [1.0, 0.1]\n\n'
        '[[experiment]]\nname = "one"\ntitle = "One seed"\nvary.seed = [0]\n'
        "vary.hidden = [2, 4]\n",
    )
    assert '- **Seeds**: 0, 1, 2 (fewer in the "One seed" experiment: see its table). A seed' in md
    assert "*One seed: final accuracy and loss, one seed*" in md


def test_mini_batch_and_dropout_curves_say_what_their_points_are(tmp_path):
    # found by audit16a (H5, M8): the Setup said every curve point is "measured before each
    # epoch's update", where a mini-batch row is a mean over its batches and a dropout
    # row is measured with the masks on; the curve caption said nothing of either
    md = _report_of(
        tmp_path,
        '[base]\nepochs = 20\ndataset = "xor"\n\n[[experiment]]\nname = "plain"\n'
        'title = "Plain"\nvary.lr = [1.0, 0.5]\n\n[[experiment]]\nname = "noisy"\n'
        'title = "Noisy"\nbase.batch_size = 7\nvary.dropout = [0.0, 0.2]\n',
    )
    seeds = next(line for line in md.splitlines() if line.startswith("- **Seeds**"))
    assert (
        "A seed draws the initial weights, the order of the mini-batches and dropout's masks;"
    ) in seeds
    assert "each run's final model, after its last update and in evaluation mode (" in seeds
    assert (
        "are measured before each epoch's update (with mini-batches, the mean over the "
        "epoch's batches of each batch's loss before its own update; in training mode, "
        "with dropout's masks on), so a curve's last point can differ from it)."
    ) in seeds
    # each figure says it of its own runs: the plain experiment's curve has no note
    assert "*Plain: loss per epoch (one seed)*" in md
    assert (
        "*Noisy: loss per epoch (one seed); with mini-batches, the mean over the epoch's "
        "batches of each batch's loss before its own update; in training mode, with "
        "dropout's masks on*"
    ) in md


def _regression_group(loss: np.ndarray, variance: float = 0.185) -> GroupView:
    """Three seeds of a plane regression with the history loss ``loss`` (1000 epochs),
    whose final model's loss is the last row and R² = 1 - loss / variance."""
    group = _gv("1", [math.nan] * 3, "plane", lr=1.0)
    for r in group.runs:
        r.loss = loss.copy()
        r.record.final_loss = float(loss[-1])
        r.record.final_r2 = 1 - float(loss[-1]) / variance
    return group


def test_a_regression_loss_halving_at_r2_1_is_not_an_r2_that_may_change():
    # found by audit16a (M1): Adam's loss going 8.6e-5 -> 2.9e-5 at R² 0.9998 was "still
    # changing ...: its R² may change with more epochs"; the R² moved by 3e-4
    group = _regression_group(np.geomspace(0.2, 3e-5, 1000))
    before, after = group.tail_r2
    assert after - before == pytest.approx((group.runs[0].loss[899] - 3e-5) / 0.185)
    assert 0 < after - before < 1e-3
    assert group.moving and not group.r2_moving and not group.accuracy_moving
    assert report_text._moving_text(group) == (
        "is still improving at the end (its loss is falling; median change 59 % over the last "
        "10 % of epochs), while its mean R² moved less than 0.01 over them."
    )
    # a loss whose fall moves the R² by 0.01 or more: that R² may change
    rising = _regression_group(np.linspace(0.15, 0.05, 1000))
    before, after = rising.tail_r2
    assert (round(before, 3), round(after, 3)) == (0.676, 0.730)
    assert rising.r2_moving and rising.moving
    assert report_text._moving_text(rising) == (
        "is still learning at the end: its mean R² rose from 0.676 to 0.730 over the last "
        "10 % of epochs, and may change with more epochs."
    )


def test_runs_stopped_by_tol_say_after_how_many_epochs():
    # found by audit16a (M7): tol runs stopped after 6 to 115 epochs of 3,000 and the
    # report never said so; their table scores the model they stopped with
    runs = _runs("0.05", 1.0, [1.0, 1.0, 1.0])
    for r, epochs in zip(runs, (47, 32, 35), strict=True):
        r.record.stop_reason, r.record.epochs = "converged", epochs
    runs[2].record.stop_reason = "early_stopped"
    notes = report_text.observations(_view({"0.05": runs, "1": _runs("1", 1.0, [1.0] * 3)}))
    assert (
        "On XOR, lr 0.05 stopped early (early stopping and its loss fell below tol) in 3/3 "
        "seeds, after 32 to 47 epochs (of 1,000)." in notes
    )
    assert not any("lr 1 stopped" in n for n in notes)


def test_small_times_and_changes_at_the_limit_are_not_rounded_away():
    # found by audit16a (L4, L6): "median 0.0 s per run" for runs of 0.043 s, and a
    # setting "still moving (5 %)" under a rule of "at most 5 %" (it was 5.2 %)
    from proplab.report_setup import _seconds

    assert [_seconds(t) for t in (12.34, 0.3, 0.043, 0.0049)] == [
        "12.3 s", "0.3 s", "0.043 s", "0.0049 s",
    ]  # fmt: skip
    assert [report_text.change_pct(c) for c in (0.67, 0.052, 0.048, 0.06)] == [
        "67 %", "5.2 %", "4.8 %", "6 %",
    ]  # fmt: skip


def test_epochs_to_100_percent_name_the_updates_an_epoch_makes_when_batch_sizes_differ():
    # found by audit16a (M6): "145 for batch_size 5, 274 for batch_size 30 and 743 for
    # batch_size 150" ranked batch 5 fastest, where its epochs hold 30 updates each
    groups = {}
    for size, first in ((5, 145), (30, 274), (150, 743)):
        runs = _runs(str(size), 1.0, [1.0] * 3, first=first)
        for r in runs:
            r.record.config = RunConfig(dataset="xor", batch_size=size, seed=r.record.seed)
            r.record.n_samples = 150
        groups[str(size)] = runs
    notes = report_text.observations(_view(groups))
    assert notes[0] == (
        "On XOR, every setting reaches 100 % in every seed; median epochs to get there for "
        "good: 145 for lr 5 (epochs of 30 updates), 274 for lr 30 (epochs of 5 updates) and "
        "743 for lr 150 (1 update per epoch)."
    )
    assert [r.record.updates_per_epoch for r in groups["30"]] == [5, 5, 5]
    # one batch size for all: nothing to add
    same = report_text.observations(_view({"1": _runs("1", 1.0, [1.0] * 3, first=300)}))
    assert "updates" not in same[0]


def test_one_seed_settings_are_not_said_to_reach_100_percent_in_every_seed():
    # found by audit16a (L2): "only sigmoid out reaches 100 % in every seed" over one seed
    one = report_text.observations(
        _view({"1": _runs("1", 1.0, [1.0], first=300), "0.1": _runs("0.1", 0.1, [0.9])})
    )
    assert one[0].startswith("On XOR, only lr 1 reaches 100 % in its one seed; ")
    three = report_text.observations(
        _view({"1": _runs("1", 1.0, [1.0] * 3, first=300), "0.1": _runs("0.1", 0.1, [0.9] * 3)})
    )
    assert three[0].startswith("On XOR, only lr 1 reaches 100 % in every seed; ")


def test_boundary_panels_mark_the_points_each_run_held_out(tmp_path):
    # found by audit16a (L7): panels titled "train 98.9 %, test 90.0 %" drew every point
    # alike; the held-out ones are now diamonds, as in a run's own boundary figure
    from matplotlib.collections import PathCollection

    from proplab import report_figures, sweep_boundaries
    from proplab.dataload import holdout
    from proplab.report_data import training_data

    cfg = RunConfig(dataset="moons", n=40, test_fraction=0.25, seed=3).validate()
    x, y = training_data(cfg)
    shown_x, shown_y, held = report_figures._marked_test_points(cfg, x, y)
    _, _, x_test, y_test = holdout(cfg, x, y)
    assert held.sum() == 10 and len(held) == 40
    np.testing.assert_array_equal(shown_x[held], x_test)
    np.testing.assert_array_equal(shown_y[held], y_test)
    # the same points, only reordered: training first
    assert sorted(map(tuple, shown_x)) == sorted(map(tuple, x))
    assert report_figures._marked_test_points(cfg.replace(test_fraction=0.0), x, y)[2] is None

    u, w, points = sweep_boundaries.boundary_grid(shown_x)
    prob = (points[:, 0] > 0.5).astype(float).reshape(w.size, u.size)
    panel = sweep_boundaries.BoundaryPanel("p", u, w, prob, shown_x, shown_y, held_out=held)
    fig = sweep_boundaries.decision_boundaries([[panel]], tmp_path / "b.png")
    dots = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    # two classes as training dots, then the same two as held-out diamonds
    assert len(dots) == 4
    diamonds = np.concatenate([c.get_offsets() for c in dots[2:]])
    assert sorted(map(tuple, diamonds)) == sorted(map(tuple, x_test))


def test_a_one_setting_sweep_of_a_standardized_csv_reports_its_units(tmp_path, capsys):
    # csv18: seeds only (one setting: the units figure) and `standardize = true` made
    # `proplab report` end in a traceback, and the figure's name held the CSV's path
    from proplab.cli import main

    rng = np.random.default_rng(0)
    x = rng.normal([170.0, 70.0], [10.0, 15.0], size=(40, 2))
    label = ((x[:, 0] - 170) / 10 + (x[:, 1] - 70) / 15 > 0).astype(int)
    data = tmp_path / "data" / "people.csv"
    data.parent.mkdir()
    data.write_text(
        "height,weight,tall\n"
        + "".join(f"{a:.1f},{b:.1f},{c}\n" for (a, b), c in zip(x, label, strict=True))
    )
    spec = tmp_path / "s.toml"
    spec.write_text(
        f'title = "one csv"\n[base]\ndataset = "{data}"\nepochs = 30\nstandardize = true\n'
        "[vary]\nseed = [0, 1]\n"
    )
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["report", str(out), "--jobs", "1"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert (out / "figures" / "sweep-units-csv-people.png").is_file()
    assert "figures/sweep-units-csv-people.png" in (out / "report.md").read_text()


def test_a_spread_of_seeds_that_all_give_one_class_is_the_datas_not_the_seeds():
    # found by report21 (M2): "the result depends on the seed for lr 100 (40.0–54.0 %)"
    # while every seed gave every point one class: each scored its data's class share
    one_class = _runs("100", 100.0, [0.40, 0.54, 0.50], single=True)
    partly = _runs("0.001", 0.001, [0.52, 0.87, 0.55], single=True)
    partly[1].single_class = False  # one seed left the plateau: that spread is the seed's
    notes = report_text.observations(_view({"100": one_class, "0.001": partly}))
    assert notes[1] == (
        "On XOR, some runs end up giving every point the same class: lr 100 (3/3 seeds, "
        "48.0 ± 7.2 %) and lr 0.001 (2/3 seeds, 64.7 ± 19.4 %). Where every seed does "
        "(lr 100), the accuracies range over 40.0–54.0 %: each is that seed's share of the "
        "class it gives, the data's spread, not the training's."
    )
    assert notes[2] == "On XOR, the result depends on the seed for lr 0.001 (52.0–87.0 %)."


def test_the_gradient_caption_says_which_layer_the_csv_shows_smallest(tmp_path):
    # found by report21 (M1): "the layers nearest the input start with the smallest" stood
    # beside a figure where the middle layer was the smallest in 203 of 204 points
    path = tmp_path / "gradients.csv"
    head = "epoch,1: Linear 2->10,2: Linear 10->10,3: Linear 10->1\n"
    path.write_text(head + "0,0.001,0.003,0.04\n10,0.001,0.0004,0.001\n20,0.002,0.0003,0.001\n")
    assert report.gradient_order(path) == (
        ": at epoch 0 the smallest is layer 1 (Linear 2->10), nearest the input; after it, "
        "layer 2 (Linear 10->10), in all 2 logged points"
    )
    path.write_text(head + "0,0.001,0.003,0.04\n10,0.001,0.004,0.01\n20,0.002,0.0003,0.001\n")
    assert report.gradient_order(path) == (
        ": the smallest is layer 1 (Linear 2->10), nearest the input, at epoch 0 and after it "
        "in 1 of the 2 logged points"
    )
    assert report.gradient_order(tmp_path / "missing.csv") == ""


def test_settings_compared_at_one_shared_rate_point_at_the_rate_that_fits_them():
    # found by report21 (M5): "sgd ends at 50.5 ± 4.3 %" on XOR among optimizers at lr 0.1,
    # unsaid that the lr experiment's sgd reaches 100 % in every seed at lr 1 and 10
    spec = parse_spec(
        '[vary]\ndataset = ["xor"]\nseed = [0, 1]\n'
        '[[experiment]]\nname = "opt"\ntitle = "Optimizers"\nbase.lr = 0.1\n'
        'vary.optimizer = ["sgd", "adam"]\n'
        '[[experiment]]\nname = "lr"\ntitle = "Learning rate"\nvary.lr = [1.0, 0.1]\n',
        Path("s.toml"),
        check_build=False,
    )

    def group(exp: str, setting: str, accs: list[float], **cfg: object) -> GroupView:
        runs = _runs(setting, 1.0, accs, first=200)
        for r in runs:
            r.record.config = RunConfig(dataset="xor", seed=r.record.seed, epochs=1000, **cfg)
        return GroupView(Group(exp, setting, "xor", [r.record for r in runs]), runs)

    opt, lr = spec.experiments
    at_01 = group("opt", "sgd", [11 / 21] * 2, lr=0.1)
    views = [
        ExperimentView(
            opt, [at_01, group("opt", "adam", [1.0] * 2, lr=0.1, optimizer="adam")], 0,
            ["sgd", "adam"], ["xor"],
        ),
        ExperimentView(
            lr, [group("lr", "1", [1.0] * 2, lr=1.0), group("lr", "0.1", [11 / 21] * 2, lr=0.1)],
            0, ["1", "0.1"], ["xor"],
        ),
    ]  # fmt: skip
    assert report_text.shared_rate_notes(views[0], views) == [
        "On XOR, every setting here trains at lr 0.1: sgd ends at 52.4 ± 0.0 % but reaches "
        '100 % in every seed at lr 1 in "Learning rate" (its rows of that table), so the rate '
        "decides this ranking as much as the setting: each is compared at one shared rate, "
        "not at its own best."
    ]
    assert report_text.shared_rate_notes(views[1], views) == []  # lr is its axis, not its base
    views[1].groups[0].runs[1].record.final_accuracy = 20 / 21  # no rate reaches 100 %: nothing
    assert report_text.shared_rate_notes(views[0], views) == []


def test_a_regression_sweeps_hidden_units_caption_says_points_by_target_value(tmp_path, capsys):
    # unit_plots draws a regression's points by their target value on the value colour map
    # (no class shapes): the caption says so, where a classification's says BY_CLASS
    from proplab.cli import main

    spec = tmp_path / "s.toml"
    spec.write_text(
        'title = "plane"\n[base]\ndataset = "plane"\nepochs = 30\n[vary]\nseed = [0, 1]\n'
    )
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--no-progress"]) == 0
    assert main(["report", str(out), "--jobs", "1"]) == 0
    capsys.readouterr()
    md = (out / "report.md").read_text()
    caption = re.search(r"!\[([^\]]*)\]\((figures/[^)]*-units-plane\.png)\)", md)
    assert caption is not None, md
    assert caption.group(1).endswith("; points: the data, coloured by their target value")
    assert report_figures.BY_CLASS not in caption.group(1)
