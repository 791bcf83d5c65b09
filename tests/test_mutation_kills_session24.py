"""Tests for mutants the suite let live (mut24: session 24's code fixes: a CSV run's data file
found from any folder (datapath, the sweep file's ``data_files``, the recorded path, verify's
UNCHECKED), decimal commas and the two-line delimiter sniff, the playground's weight and bias
edits, the report's near-the-mean wording and paired bias comparison, the schedules' and
gradcheck's type checks).

Each test names the planted change (see docs/mutation.md, round 15) it kills and says why
the behaviour matters.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from test_csv_paths import SWEEP, points, sweep_in

from proplab import experiments
from proplab.cli import main
from proplab.config import RunConfig
from proplab.csvdata import CsvError, load_csv
from proplab.csvtable import read_table
from proplab.datapath import data_file
from proplab.sweep import SweepError, load_spec, parse_spec
from proplab.verify import verify_run

# --- where a CSV file is found (datapath, sweep_spec, verify) ---------------------------------


def test_a_missing_file_is_named_beside_the_sweep_file(tmp_path, monkeypatch) -> None:
    """Kills D5 (first_found falls back to the last candidate, the current folder's). A
    file found nowhere is reported where a sweep file's relative path points first, beside
    the sweep file: that is where the student should put it, not the folder they ran from
    (since verify24 L3 the message names the current folder too, after it)."""
    c, d = tmp_path / "C", tmp_path / "D"
    c.mkdir(), d.mkdir()
    (c / "sw.toml").write_text('[base]\ndataset = "gone.csv"\nlabel = "label"\nepochs = 5\n')
    monkeypatch.chdir(d)
    with pytest.raises(SweepError) as err:
        load_spec(c / "sw.toml")
    assert str(err.value) == (
        f"{c / 'sw.toml'}: [base]: dataset: gone.csv: no such file, not beside the sweep file "
        f"({c / 'gone.csv'}) nor from here ({d / 'gone.csv'})"
    )


def test_a_folder_named_like_the_file_beside_the_sweep_file_is_passed_over(
    tmp_path, monkeypatch
) -> None:
    """Kills D6 (first_found takes the first candidate that exists, a folder too). A folder
    ``data.csv`` beside the sweep file is no data file: the one from the current folder is
    read, as the rule for a path not found beside the sweep file says."""
    c, d = tmp_path / "C", tmp_path / "D"
    file = sweep_in(c, 40)
    (c / "data.csv").unlink()
    (c / "data.csv").mkdir()
    points(d / "data.csv", 30)
    monkeypatch.chdir(d)
    spec = load_spec(file)
    assert {data_file(cfg.dataset) for cfg in spec.runs.values()} == {d / "data.csv"}


def test_a_copys_relative_data_files_entry_is_read_from_the_copys_folder(
    tmp_path, monkeypatch
) -> None:
    """Kills D9 (a data_files entry read from the current folder, not the copy's). A
    hand-edited copy may name a file relative to itself (``../C/data.csv``): it must mean
    the same file whatever folder the report or the rerun is started from."""
    c, out, deep = tmp_path / "C", tmp_path / "out", tmp_path / "E" / "sub"
    sweep_in(c, 40)
    out.mkdir(), deep.mkdir(parents=True)
    copy = out / "sweep.toml"
    copy.write_text('data_files = { "data.csv" = "../C/data.csv" }\n' + SWEEP)
    monkeypatch.chdir(deep)
    spec = load_spec(copy)
    files = {data_file(cfg.dataset).resolve() for cfg in spec.runs.values()}
    assert files == {(c / "data.csv").resolve()}


def test_an_absolute_data_file_not_found_is_named_alone(tmp_path) -> None:
    """Kills D12 (looked_in also names "from here" for an absolute path). An absolute path
    does not depend on the folder verify runs from: saying "nor from here (...)" would
    send the student to run verify elsewhere for nothing."""
    data = points(tmp_path / "A" / "points.csv", 40)
    cfg = RunConfig(dataset=str(data), label="label", epochs=20)
    experiments.run_one(cfg, tmp_path / "run", quiet=True, progress=False, figures=False)
    data.rename(tmp_path / "moved.csv")
    check = verify_run(tmp_path / "run")
    assert not check.ok and check.problems == []
    assert check.unchecked == f"its data file {str(data)!r} is not found"


def test_the_copys_data_files_survive_a_folder_name_outside_the_bmp(tmp_path, monkeypatch) -> None:
    """Kills S2 (copy_text escapes the found file's path as ASCII). JSON writes a character
    beyond U+FFFF as a surrogate pair, which TOML refuses: the sweep folder's copy of the
    file would then be unreadable (report, a rerun from the copy)."""
    c = tmp_path / "data \U0001f642"
    file = sweep_in(c, 40)
    monkeypatch.chdir(tmp_path)
    spec = load_spec(file)
    copied = tomllib.loads(spec.copy_text)
    assert copied["data_files"] == {"data.csv": str(c / "data.csv")}


def test_a_dataset_written_with_spaces_is_recorded_and_read_back_by_its_text(
    tmp_path, monkeypatch
) -> None:
    """Kills S3 (the copy's data_files looked up by the value with its spaces) and S4
    (data_files keyed by the value with its spaces). ``dataset = " data.csv "`` names
    data.csv (the value is stripped everywhere else): the copy must record it under that
    name and find it again from another folder."""
    c, e = tmp_path / "C", tmp_path / "E"
    sweep_in(c, 40)
    e.mkdir()
    (c / "sw.toml").write_text(SWEEP.replace('"data.csv"', '" data.csv "'))
    monkeypatch.chdir(c)
    spec = load_spec(c / "sw.toml")
    assert spec.data_files == {"data.csv": str(c / "data.csv")}
    copy = tmp_path / "out" / "sweep.toml"
    copy.parent.mkdir()
    copy.write_text(spec.copy_text)
    monkeypatch.chdir(e)
    again = load_spec(copy)
    assert {data_file(cfg.dataset) for cfg in again.runs.values()} == {c / "data.csv"}


def test_a_data_files_entry_of_blank_text_is_refused(tmp_path) -> None:
    """Kills S7 (data_files accepts an empty text). ``"data.csv" = ""`` names no file: it
    would be located at the copy's folder itself and silently passed over."""
    with pytest.raises(SweepError) as err:
        parse_spec('data_files = { "data.csv" = " " }\n' + SWEEP, tmp_path / "sw.toml")
    assert str(err.value).endswith("got {data.csv = ' '}")


def test_an_untitled_sweep_file_renamed_runs_into_its_folder_again(
    tmp_path, monkeypatch, capsys
) -> None:
    """Kills SF1 (check_same_sweep compares the copy with the file's own text, without its
    data_files). The same untitled sweep, its file renamed, is the same parsed content and
    must resume its runs, not be refused as another sweep."""
    c = tmp_path / "C"
    sweep_in(c, 40)
    (c / "sw.toml").write_text(SWEEP.replace('title = "relative"\n', ""))
    monkeypatch.chdir(c)
    out = tmp_path / "out"
    assert main(["sweep", "sw.toml", "--out", str(out), "--no-progress"]) == 0
    (c / "sw.toml").rename(c / "renamed.toml")
    capsys.readouterr()
    assert main(["sweep", "renamed.toml", "--out", str(out), "--no-progress"]) == 0
    assert "2 of 2 runs already finished" in capsys.readouterr().err


def test_a_sweep_started_from_a_folder_without_the_file_records_its_columns(
    tmp_path, monkeypatch
) -> None:
    """Kills DL2 (csv_summary reads the path as typed, from the current folder). A run's
    summary.json names its CSV's features, label column and classes, which predict needs
    to read new rows; a sweep started from another folder must record them too."""
    c, d = tmp_path / "C", tmp_path / "D"
    file = sweep_in(c, 40)
    d.mkdir()
    monkeypatch.chdir(d)
    out = tmp_path / "out"
    assert main(["sweep", str(file), "--out", str(out), "--no-progress"]) == 0
    for run in sorted((out / "runs").iterdir()):
        summary = json.loads((run / "summary.json").read_text())
        assert summary["features"] == ["a", "b"] and summary["label_column"] == "label"
        assert summary["classes"] == [0, 1]


# --- decimal commas and the delimiter (csvdata, csvtable) -------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "x"),
    [
        ("x;y\n-3;0\n5,1;1\n", [-3.0, 5.1]),  # C2: a negative whole number among them
        ("x;y\n0,125;0\n0,250;1\n", [0.125, 0.25]),  # C3: 0,125 groups no thousands
        ("x;y\n1,234;0\n5,1;1\n", [1.234, 5.1]),  # C5: not every comma like a thousands one
    ],
)
def test_a_column_of_decimal_commas_is_read_by_its_rules(tmp_path, text, x) -> None:
    """Kills C2 (a whole number's sign not allowed: -3 made the column text), C3 (0,125
    taken for a thousands separator: a leading 0 groups none) and C5 (one comma like a
    thousands separator made the whole column so). Each file is a spreadsheet's export
    that the rules say is read; refused, the student gets an error for a good file."""
    data = load_csv(write(tmp_path, text))
    assert data.x.ravel().tolist() == x and data.y.ravel().tolist() == [0, 1]


def test_a_missing_word_among_decimal_commas_is_named_as_missing(tmp_path) -> None:
    """Kills C9 (NA does not count as a cell of a decimal-comma column). The column is one
    of numbers with a gap: the message must name the gap, not refuse the 2,5 above it as
    'not a number'."""
    path = write(tmp_path, "a;b;y\n1;2,5;0\n3;NA;1\n")
    with pytest.raises(CsvError, match=r"line 3, column 'b': missing value \(NA\)"):
        load_csv(path)
    assert read_table(path).cells(0) == ["1", "2.5", "0"]


def test_a_header_with_a_comma_over_decimal_commas_keeps_its_name(tmp_path) -> None:
    """Kills C11 (every comma of a decimal column's cells read as a point, the header's
    too) and C21 (predict's bulk reader sniffing the delimiter on line 1 alone). The column
    'size, cm' keeps its name in load_csv and in predict's reader, which must pick the
    run's input column by that name."""
    path = write(tmp_path, "size, cm;label\n1,5;0\n2,5;1\n3,25;0\n")
    data = load_csv(path)
    assert data.feature_names == ["size, cm"] and data.x.ravel().tolist() == [1.5, 2.5, 3.25]
    table = read_table(path)
    assert table.names == ["size, cm", "label"] and table.cells(0) == ["1.5", "0"]


def test_a_delimiter_that_splits_line_two_otherwise_is_not_taken(tmp_path) -> None:
    """Kills C14 (every delimiter on line 1 counts, agreeing with line 2 or not) and C18
    (max over all of them). 'h, cm, avg;label' splits into 3 cells at ',' but 171.3;1
    into 1: the delimiter is ';', which splits both lines into 2."""
    path = write(tmp_path, "h, cm, avg;label\n171.3;1\n160.2;0\n")
    data = load_csv(path)
    assert data.feature_names == ["h, cm, avg"] and data.x.ravel().tolist() == [171.3, 160.2]


def test_the_most_cells_on_line_one_comes_before_the_most_numbers(tmp_path) -> None:
    """Kills C15 (numbers before cells in the sniff's order). ',' splits both lines into 3
    cells, ';' into 2 with more numbers: the rule is the most cells first, as the
    docstring says; numbers only break a tie."""
    path = write(tmp_path, "p,q,r;s\nx,y,1;2\nu,v,3;4\n")
    assert read_table(path).names == ["p", "q", "r;s"]


def test_numbers_break_a_tie_of_cells_among_agreeing_delimiters(tmp_path) -> None:
    """Kills C16 (no numbers tie-break: the comma wins). A headerless decimal-comma file
    splits into 3 cells at ',' and at ';' on both lines; only at ';' are they numbers."""
    path = write(tmp_path, "5,1;3,5;a\n4,9;3,25;b\n6,0;0,5;a\n")
    data = load_csv(path)
    assert data.x.tolist() == [[5.1, 3.5], [4.9, 3.25], [6.0, 0.5]]
    assert data.classes == ["a", "b"]


def test_predicts_reader_leaves_a_later_decimal_comma_to_the_cell_reader(tmp_path) -> None:
    """Kills C24 (csvtable's plain reader keeps a comma met after the first two rows). The
    row '5,5' is a decimal comma: predict must read 5.5, as load_csv does, not the text
    '5,5' (refused as no number when the run scores it)."""
    path = write(tmp_path, "a;b;y\n1;2;0\n3;4;1\n5,5;6;0\n")
    assert load_csv(path).x.tolist() == [[1, 2], [3, 4], [5.5, 6]]
    assert read_table(path).cells(2) == ["5.5", "6", "0"]


# --- the playground's edits --------------------------------------------------------------------


def test_a_bool_is_no_value_for_a_weight() -> None:
    """Kills PG4 (a bool accepted as a value). True is 1 to Python, but a page or script
    that sends true meant no number; as for an index, it is refused in one line."""
    from proplab.playground import Playground, PlaygroundError

    session = Playground({"dataset": "xor", "hidden": [2]})
    before = session.state([])["weights"][0][0][0]
    with pytest.raises(PlaygroundError, match=r"^value: must be a finite number, got True$"):
        session.set_weight(0, 0, 0, True)
    assert session.state([])["weights"][0][0][0] == before
    assert np.isfinite(before)


# --- the report's wording (report_text) ---------------------------------------------------------


def test_an_r2_at_the_noise_floor_either_side_of_zero_is_no_better_than_the_mean() -> None:
    """Kills R5 (below -R2_NOISE became at or below) and R6 (within R2_NOISE became strictly
    within). R² ±0.02 is within the noise floor of 0: 'no better than' the mean, as the
    rule says; either mutant words the same model 'worse than' or 'hardly better than'."""
    from proplab.report_data import R2_NOISE
    from proplab.report_text import against_mean

    assert against_mean(-R2_NOISE) == against_mean(R2_NOISE) == "no better than"
    assert against_mean(-0.021) == "worse than" and against_mean(0.021) == "hardly better than"


def test_a_seed_run_twice_in_a_group_is_no_paired_comparison() -> None:
    """Kills R11 (the check that each seed is in the group once dropped). A group holding
    a seed twice (another axis folded into it) cannot be paired seed for seed: comparing
    whichever run came last would claim 'in every one of the 3 seeds' from 4 runs."""
    from test_report_claims_lr import _falls, _group, _run

    from proplab.report_text import above_in_every_seed

    def group(scores: list[float], bias: bool) -> object:
        seeds = [0, 1, 2, 2]  # seed 2 twice
        pairs = zip(seeds, scores, strict=True)
        return _group([_run("circle", s, _falls(0.5, 0.1), v, bias=bias) for s, v in pairs])

    nob, base = group([0.63, 0.64, 0.67, 0.60], False), group([0.89, 0.69, 0.70, 0.72], True)
    assert nob.n == base.n == 4
    assert above_in_every_seed(nob, base) is None


def test_a_gap_the_same_in_every_seed_is_said_once() -> None:
    """Kills R16 (gap_range always a range). Gaps that show the same are one value: 'by
    5-5 points' reads as a slip in the report."""
    from proplab.report_text import gap_range

    assert gap_range(0.05, 0.0500001, False) == "5 points"
    assert gap_range(0.1, 0.1001, True) == "0.100 of R²"
    assert gap_range(0.035, 0.26, False) == "3.5-26 points"
    assert gap_range(0.012, 0.3, True) == "0.012-0.300 of R²"


def test_a_paired_held_out_comparison_pairs_held_out_scores_on_both_sides() -> None:
    """Kills R19 (the other variant's training scores paired with this one's held-out
    ones). With a held-out set the claim 'in every one of the 3 seeds' is about held-out
    scores: here with biases ends above in every seed held out, below in training."""
    from test_report_claims_lr import _bias_pair

    from proplab.report_text import above_in_every_seed

    base, nob = _bias_pair("circle", [0.63, 0.64, 0.67], [0.89, 0.69, 0.70])
    for group, train in ((base, 0.5), (nob, 0.9)):
        for run in group.runs:
            record = run.record
            record.n_test, record.test_accuracy = 20, record.final_accuracy
            record.final_accuracy = train
    assert above_in_every_seed(nob, base, test=True) == (
        3,
        pytest.approx(0.03),
        pytest.approx(0.26),
    )
    assert above_in_every_seed(nob, base) is None  # in training, without is above


def test_an_unclear_gap_after_a_paired_one_the_same_way_says_also() -> None:
    """Kills R22 (a paired 'ends lower' sentence not counted before the unclear one). The
    second sentence of the paragraph follows one that said 'ends lower' already: 'it also
    ends lower', as after a 'does worse'."""
    from test_report_claims_lr import BIAS_QUESTION, _answers, _bias_pair

    groups = _bias_pair("circle", [0.63, 0.64, 0.67], [0.89, 0.69, 0.70]) + _bias_pair(
        "xor-quadrants", [0.53, 0.88, 0.91], [0.93, 0.89, 0.91]
    )
    paras = _answers(groups, RunConfig(dataset="circle", epochs=400))[BIAS_QUESTION]
    assert paras[2].startswith("Without biases the network ends lower on circle in every one")
    assert paras[2].endswith(
        " On xor-quadrants it also ends lower, but by less than the spread over 3 seeds: no "
        "clear difference either way. More seeds would tell whether the biases matter there."
    )


def test_the_bias_answer_on_circle_is_about_the_base_model() -> None:
    """Kills R25 (the bias answer's lab_or_base given the lab's datasets, not the sweep's).
    The lab's network and epochs on circle are not the lab model: the lab trains on linear
    and XOR (claims23 L7, a circle sweep's 'The lab model has 151 parameters')."""
    from test_report_claims_lr import BIAS_QUESTION, _answers, _bias_pair

    groups = _bias_pair("circle", [0.63, 0.64, 0.67], [0.89, 0.69, 0.70])
    paras = _answers(groups, RunConfig(dataset="circle"))[BIAS_QUESTION]
    assert paras[0].startswith("The base model has 151 parameters: 130 weights and 21 biases.")


def test_the_no_fit_sentence_words_the_held_out_r2_it_reports() -> None:
    """Kills R28 (_no_fit_text words the training R² where it speaks of the held-out set).
    A best rate whose held-out R² is -0.5 is 'worse than' the mean there, though its
    training R² (0.05) is 'hardly better than' it."""
    from test_report_claims_lr import _falls, _group, _run

    from proplab import report_lr

    runs = [_run("multi-gauss", s, _falls(0.5, 0.1, 50), 0.05) for s in range(3)]
    for run in runs:
        run.record.n_test, run.record.test_r2 = 20, -0.5
    answer = report_lr._no_fit_text(_group(runs), "multi-gauss", held=True, named=True)
    assert "worse than predicting the targets' mean everywhere (R² 0)" in answer
    assert "hardly" not in answer


# --- schedules ---------------------------------------------------------------------------------


def _sgd():
    from proplab.optim import SGD
    from proplab.parameter import Parameter

    return SGD([Parameter(np.zeros(2))], lr=0.1)


def test_a_plateau_factor_of_zero_is_accepted_and_cuts_to_min_lr() -> None:
    """Kills G6 (factor 0 refused). The accepted range is [0, 1), as the message says: a
    factor of 0 drops the rate to min_lr at the first plateau."""
    from proplab.schedules import ReduceLROnPlateau

    opt = _sgd()
    schedule = ReduceLROnPlateau(opt, factor=0.0, patience=0, min_lr=0.001)
    schedule.step(1.0)
    schedule.step(1.0)
    assert opt.lr == pytest.approx(0.001)
