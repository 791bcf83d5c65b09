"""Bad input, systematically: every command's options and every sweep-file key against
the same kinds of bad values (0, -1, nan, inf, a fraction for an integer, text for a
number, a misspelt or empty name, a missing file or a folder).

Each refused call must return 2, print one line on stderr naming the bad value and
what is accepted, show no traceback, and write nothing (no --out folder, nothing in the
current folder). The table came from a fuzz of the whole cross product (helper fuzz14);
it keeps one case per kind of check, so a check that goes missing is caught.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from proplab import fit, load_zoo, mlp
from proplab.cli import main
from proplab.losses import MSELoss
from proplab.optim import SGD

# (argv before --out, words the one-line message must hold: the bad value first)
CLI_CASES: list[tuple[list[str], tuple[str, ...]]] = [
    (["train", "--lr", "nan"], ("nan", "--lr", "> 0")),
    (["train", "--lr", "-1"], ("-1", "--lr", "> 0")),
    (["train", "--lr", "abc"], ("'abc'", "--lr", "number")),
    (["train", "--lr", ""], ("''", "--lr", "number")),
    (["train", "--lr", "inf"], ("inf", "--lr", "finite")),
    # argparse took only -1 and -0.5 for values: these said "expected one argument"
    (["train", "--lr", "-inf"], ("-inf", "--lr", "> 0")),
    (["train", "--lr", "-1e-3"], ("-0.001", "--lr", "> 0")),
    (["train", "--noise", "-1E5"], ("-100000.0", "--noise", "[0.0, inf]")),
    (["trace", "--lr", "-Infinity"], ("-inf", "--lr", "> 0")),
    (["train", "--momentum", "-1"], ("-1", "--momentum", "[0, 1)")),
    (["train", "--weight-decay", "inf"], ("inf", "--weight-decay", "finite")),
    (["train", "--l1", "nan"], ("nan", "--l1", "finite")),
    (["train", "--tol", "-1"], ("-1", "--tol", "> 0")),
    (["train", "--noise", "-1"], ("-1", "--noise", "[0.0, inf]")),
    (["train", "--test-fraction", "1.5"], ("1.5", "--test-fraction", "[0, 1)")),
    (["train", "--dropout", "1.5"], ("1.5", "--dropout", "[0, 1)")),
    (["train", "--epochs", "0"], ("0", "--epochs", "positive integer")),
    (["train", "--epochs", "-1"], ("-1", "--epochs", "positive integer")),
    (["train", "--epochs", "1.5"], ("'1.5'", "--epochs", "integer")),
    (["train", "--epochs", "1e400"], ("'1e400'", "--epochs", "integer")),
    (["train", "--epochs", "true"], ("'true'", "--epochs", "integer")),
    (["train", "--batch-size", "0"], ("0", "--batch-size", "positive integer")),
    (["train", "--n", "0"], ("0", "--n", "positive integer")),
    (["train", "--seed", "-1"], ("-1", "--seed", ">= 0")),
    (["train", "--print-every", "-1"], ("-1", "--print-every", ">= 0")),
    (["train", "--hidden", "-1"], ("-1", "--hidden", "positive integer")),
    (["train", "--layers", "0"], ("0", "--layers", "positive integer")),
    # [H] * N was built first: MemoryError / OverflowError tracebacks
    (["train", "--layers", str(10**15)], (str(10**15), "--layers", "can allocate")),
    # past 1e15 the flag refuses the number itself, as typed (cli20: 300-digit messages)
    (["train", "--layers", str(10**30)], (f"'{10**30}'", "--layers", "from -1e15 to 1e15")),
    (["gradcheck", "--layers", str(2**40)], (str(2**40), "--layers", "can allocate")),
    (["train", "--model", "conv", "--filters", "0"], ("0", "--filters", "positive integer")),
    (["train", "--model", "conv", "--padding", "-1"], ("-1", "--padding", ">= 0")),
    (["train", "--activation", "sigmod"], ("'sigmod'", "--activation", "sigmoid")),
    (["train", "--optimizer", "adma"], ("'adma'", "--optimizer", "adam")),
    (["train", "--loss", ""], ("''", "--loss", "mse")),
    (["train", "--init", "3"], ("'3'", "--init", "xavier")),
    (["train", "--model", "Sigmoid"], ("'Sigmoid'", "--model", "mlp")),
    (["train", "--task", "sigmod"], ("'sigmod'", "--task", "classification")),
    (["train", "--dataset", "sigmod"], ("sigmod", "dataset", "xor")),
    (["train", "--features", "sigmod"], ("sigmod", "features", "x1_sq")),
    (["train", "--label", "y"], ("'xor'", "--label", "CSV")),
    (["gradcheck", "--samples", "0"], ("0", "--samples", ">= 1")),
    (["gradcheck", "--eps", "nan"], ("nan", "--eps", "from 1e-10 to 0.001")),
    (["gradcheck", "--tolerance", "-1"], ("-1", "--tolerance", "> 0")),
    (["trace", "--digits", "0"], ("0", "--digits", "1 to 17")),
    (["trace", "--after", "-1"], ("-1", "--after", ">= 0")),
    (["trace", "--lr", "nan"], ("nan", "--lr", "> 0")),
    (["lab", "--no-suite", "--jobs", "0"], ("0", "--jobs", ">= 1")),
    (["lab", "--no-suite", "--epochs", "0"], ("0", "--epochs", "positive integer")),
    (["lab", "--suite", "sigmod"], ("sigmod", "sweep file")),
    (["play", "--port", "-1"], ("-1", "--port", "0 to 65535")),
    (["play", "--port", "abc"], ("'abc'", "--port", "integer")),
]


def _refused(capsys, argv: list[str]) -> str:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (argv, code, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines  # one line, nothing else
    return lines[0]


@pytest.mark.parametrize(("argv", "words"), CLI_CASES, ids=lambda v: " ".join(v))
def test_cli_option_refused_in_one_line(capsys, tmp_path, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)  # a default runs/ folder would land here
    extra = ["--no-progress", "--quiet", "--epochs", "2"] if argv[0] == "train" else []
    if argv[0] == "train" and "--epochs" in argv:
        extra = ["--no-progress", "--quiet"]
    out = ["--out", str(tmp_path / "out")] if argv[0] in ("train", "lab") else []
    line = _refused(capsys, [*argv, *extra, *out])
    assert line.startswith(f"proplab {argv[0]}: error:"), line
    for word in words:
        assert word in line, (word, line)
    assert list(tmp_path.iterdir()) == []  # nothing written for a refused run


@pytest.mark.parametrize("layers", [10**15, 10**30])
def test_layers_no_machine_holds_are_refused_where_the_os_does_not_say_its_memory(
    monkeypatch, layers
):
    """Where the OS does not report its memory (Windows), an N too large to list
    ([H] * N: OverflowError or MemoryError) is refused by the same message (the CLI's
    --layers stops at 1e15; a caller of config_from may pass more)."""
    from proplab import config
    from proplab.cli_flags import _hidden_layers
    from proplab.config import ConfigError

    monkeypatch.setattr(config, "_physical_memory", lambda: None)
    with pytest.raises(ConfigError, match=r"^layers: .* more than this machine can allocate$"):
        _hidden_layers(10, layers, "xor")


def _files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "folder"
    folder.mkdir()
    (tmp_path / "binary.toml").write_bytes(b"\x00\xff\xfe\x89PNG")
    (tmp_path / "syntax.toml").write_text("title = \n[base\n")
    (tmp_path / "empty.toml").write_text("")
    return {"missing": tmp_path / "nope.toml", "folder": folder}


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("missing", ("nope.toml", "no such sweep file")),
        ("folder", ("folder", "not a sweep file")),
        ("binary.toml", ("binary.toml", "cannot read")),
        ("syntax.toml", ("syntax.toml", "malformed TOML")),
    ],
)
def test_sweep_file_refused(capsys, tmp_path, name, words):
    paths = _files(tmp_path)
    file = paths.get(name, tmp_path / name)
    before = sorted(tmp_path.rglob("*"))
    line = _refused(capsys, ["sweep", str(file), "--out", str(tmp_path / "out")])
    for word in words:
        assert word in line, (word, line)
    assert sorted(tmp_path.rglob("*")) == before


BASE = "[base]\nepochs = 2\nprint_every = 0\n"
# (sweep file text, words the message must hold)
TOML_CASES: list[tuple[str, tuple[str, ...]]] = [
    ("title = 1\n", ("top level", "'title'", "text in quotes", "1")),
    ('description = ["a"]\n', ("top level", "'description'", "text in quotes", "['a']")),
    ("lr = 0.1\n", ("'lr'", "accepted", "base")),
    ("base = 1\n", ("[base]", "table", "1")),
    ("vary = 1\n", ("[vary]", "table", "1")),
    (BASE + "lrr = 1\n", ("'lrr'", "[base]", "did you mean 'lr'")),
    (BASE + "lr = -1\n", ("[base]", "lr", "> 0", "-1")),
    (BASE + "lr = nan\n", ("[base]", "lr", "> 0", "nan")),
    (BASE + 'lr = "abc"\n', ("[base]", "lr", "'abc'")),
    (BASE + "lr = true\n", ("[base]", "lr", "True")),
    (BASE + "lr = [1]\n", ("[base]", "lr", "[1]")),
    (BASE + "hidden = 1.5\n", ("hidden", "1.5", "positive integer")),
    (BASE + "hidden = -1\n", ("hidden", "-1", "positive integer")),
    ("[base]\nepochs = 0\n", ("epochs", "0", "positive integer")),
    ("[base]\nepochs = 1.5\n", ("epochs", "1.5", "positive integer")),
    (BASE + "seed = -1\n", ("seed", "-1", ">= 0")),
    (BASE + "dropout = 1\n", ("dropout", "1", "[0, 1)")),
    (BASE + "test_fraction = inf\n", ("test_fraction", "inf", "[0, 1)")),
    (BASE + 'activation = "sigmod"\n', ("'sigmod'", "activation", "sigmoid")),
    (BASE + 'optimizer = "adma"\n', ("'adma'", "optimizer", "adam")),
    (BASE + 'model = "Conv"\n', ("'Conv'", "model", "mlp, conv")),
    (BASE + 'task = ""\n', ("''", "task", "classification")),
    (BASE + "bias = 1\n", ("bias", "1", "true or false")),
    (BASE + 'dataset = "sigmod"\n', ("sigmod", "dataset")),
    (BASE + 'dataset = "nope.csv"\n', ("nope.csv", "dataset")),
    # a CSV label column on a dataset that is no CSV file: refused, as --label is
    (BASE + 'label = "y"\n', ("'y'", "label column", "'xor'", "CSV")),
    (BASE + "[vary]\nlr = []\n", ("[vary] lr", "non-empty list", "[]")),
    (BASE + "[vary]\nlr = 0.1\n", ("[vary] lr", "non-empty list", "0.1")),
    (BASE + "[vary]\nlrr = [0.1]\n", ("'lrr'", "[vary]", "did you mean 'lr'")),
    (BASE + "[vary]\nlr = [0.1, 0.1]\n", ("[vary] lr", "same setting", "0.1")),
    (BASE + "[vary]\nlr = [0.1, -1]\n", ("[vary] lr[1]", "-1", "> 0")),
    (BASE + "[vary]\nopt = [{ lr = 0.1, label = 1 }]\n", ("opt[0]", "'label'", "text in quotes")),
    (BASE + '[vary]\nopt = [{ label = "x" }]\n', ("opt[0]", "at least one RunConfig field")),
    (BASE + "[vary]\nopt = [{ lrr = 0.1 }]\n", ("opt[0]", "'lrr'", "did you mean 'lr'")),
    (BASE + "[vary]\nseed = [{ seed = 1, lr = 0.1 }]\n", ("seed[0]", "'lr'", "only 'seed'")),
    ('experiment = 1\n' + BASE, ("'experiment'", "[[experiment]]")),
    (BASE + '[[experiment]]\ntitle = "x"\n', ("#1", "'name'", "None")),
    (BASE + '[[experiment]]\nname = "a b"\n', ("#1", "'name'", "'a b'", "letters, digits")),
    (BASE + '[[experiment]]\nname = "a"\n[[experiment]]\nname = "a"\n', ("#2", "duplicate", "'a'")),
    (BASE + '[[experiment]]\nname = "a"\nsection = "Results"\n', ("'Results'", "results, discussion")),
    (BASE + '[[experiment]]\nname = "a"\noptional = "yes"\n', ("'optional'", "'yes'", "true or false")),
    (BASE + '[[experiment]]\nname = "a"\ntitle = [1]\n', ("(a)", "'title'", "text in quotes", "[1]")),
    (BASE + '[[experiment]]\nname = "a"\nfoo = 1\n', ("#1", "'foo'", "accepted")),
    (BASE + '[[experiment]]\nname = "a"\nvary.lr = []\n', ("(a) vary lr", "non-empty list")),
    (BASE + '[[experiment]]\nname = "a"\nbase.lr = 0\n', ("(a) base", "lr", "> 0", "0")),
    (BASE + 'extra = "abc"\n', ("[base]", "extra", "table of named values", "'abc'")),
]  # fmt: skip


@pytest.mark.parametrize(("text", "words"), TOML_CASES, ids=lambda v: " ".join(str(v).split()))
def test_sweep_key_refused_in_one_line(capsys, tmp_path, text, words):
    file = tmp_path / "s.toml"
    file.write_text(text)
    line = _refused(capsys, ["sweep", str(file), "--out", str(tmp_path / "out"), "--no-progress"])
    assert line.startswith(f"proplab sweep: error: {file}"), line  # names the file
    for word in words:
        assert word in line, (word, line)
    assert [p.name for p in tmp_path.iterdir()] == ["s.toml"]  # nothing written


def _fit(**kwargs) -> None:
    model = mlp(2, 3, rng=np.random.default_rng(0))
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    fit(model, MSELoss(), SGD(model.parameters(), lr=0.5), x, y, 2, log=lambda s: None, **kwargs)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, "abc"])
@pytest.mark.parametrize("name", ["batch_size", "print_every"])
def test_fit_whole_number_argument_refused_by_name(name, value):
    # inf reached int() and escaped as OverflowError ("cannot convert float infinity")
    with pytest.raises(ValueError, match=rf"^{name} must be an? .*got {value!r}"):
        _fit(**{name: value})


@pytest.mark.parametrize("name", [3, None, 1.5, ["circle"]])
def test_load_zoo_name_not_text_refused_by_name(name):
    # a number had no .strip(): AttributeError from inside load_zoo
    got = re.escape(repr(name))
    with pytest.raises(TypeError, match=rf"name must be a zoo dataset name .*circle.*got {got}$"):
        load_zoo(name)


def _api_cases():
    """(what, call, words its ValueError must hold): whole-number arguments given inf or
    NaN (int() of them escaped as OverflowError/ValueError without the argument's name)
    and True as a hyperparameter (float(True) is 1.0, so SGD(lr=True) trained at lr 1)."""
    from proplab.conv import Unsqueeze
    from proplab.metrics import confusion_matrix
    from proplab.models import conv_net
    from proplab.optim import Adam
    from proplab.schedules import ReduceLROnPlateau

    model = mlp(2, 3, rng=np.random.default_rng(0))
    params = model.parameters()
    x, y = np.zeros((4, 2)), np.zeros((4, 1))
    return [
        ("Unsqueeze axis inf", lambda: Unsqueeze(axis=-math.inf), ("axis", "-inf")),
        ("Unsqueeze axis nan", lambda: Unsqueeze(axis=math.nan), ("axis", "nan")),
        ("patience inf", lambda: ReduceLROnPlateau(SGD(params), patience=math.inf), ("patience", "inf")),
        ("cooldown nan", lambda: ReduceLROnPlateau(SGD(params), cooldown=math.nan), ("cooldown", "nan")),
        ("conv_net inf", lambda: conv_net(math.inf), ("in_features", "inf")),
        ("conv_net filters inf", lambda: conv_net(2, filters=math.inf, rng=np.random.default_rng(0)), ("filters", "inf")),
        ("n_classes inf", lambda: confusion_matrix([0, 1], [1, 0], n_classes=math.inf), ("n_classes", "inf")),
        ("fit batch_size inf", lambda: fit(model, MSELoss(), SGD(params), x, y, 2, batch_size=math.inf), ("batch_size", "inf")),
        ("SGD lr True", lambda: SGD(params, lr=True), ("learning rate", "True", "not True/False")),
        ("SGD momentum True", lambda: SGD(params, momentum=True), ("momentum", "True")),
        ("Adam lr [True]", lambda: Adam(params, lr=[True]), ("learning rate", "True")),
    ]  # fmt: skip


@pytest.mark.parametrize("case", range(11))
def test_api_argument_refused_by_name(case):
    what, call, words = _api_cases()[case]
    with pytest.raises(ValueError) as err:
        call()
    for word in words:
        assert word in str(err.value), (what, str(err.value))


@pytest.mark.parametrize("loss", ["MSELoss", "BCELoss", "CrossEntropyLoss"])
@pytest.mark.parametrize(
    ("pred", "words"),
    [
        ([[0.3, 0.7]], ("a NumPy array", "got list", "np.asarray")),
        (0.3, ("a NumPy array", "got float")),
        (np.array([["a", "b"]]), ("real numbers", "dtype <U1")),
    ],
    ids=["list", "float", "text"],
)
def test_a_loss_names_predictions_that_are_no_array_of_numbers(loss, pred, words):
    """A list or a float as predictions ended in AttributeError ('list' object has no
    attribute 'shape'), text in a UFuncTypeError: neither said it was the predictions."""
    from proplab import losses

    target = np.array([[0]]) if loss == "CrossEntropyLoss" else np.array([[1.0, 0.0]])
    if loss != "CrossEntropyLoss" and not isinstance(pred, list | np.ndarray):
        target = np.array([[1.0]])
    with pytest.raises(TypeError) as err:
        getattr(losses, loss)().forward(pred, target)
    message = str(err.value)
    assert message.startswith(f"{loss}: predictions must be"), message
    for word in words:
        assert word in message, (word, message)


def test_one_hot_takes_python_numbers_in_an_object_array_and_names_what_is_no_label():
    """An object array of Python ints (as pandas gives) ended in AttributeError ('int'
    object has no attribute 'item') inside the label check."""
    from proplab import one_hot

    np.testing.assert_array_equal(
        one_hot(np.array([0, 2, 1], dtype=object), 3), [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    )
    with pytest.raises(ValueError, match=r"labels must be whole numbers 0\.\.C-1, got None"):
        one_hot(np.array([None, 1], dtype=object), 2)
    with pytest.raises(ValueError, match=r"got 0\.5 \(model outputs become labels"):
        one_hot(np.array([0.5, 1], dtype=object), 2)


@pytest.mark.parametrize("bad", ["x", "target"])
def test_trace_step_names_inputs_that_hold_no_numbers(bad):
    """Object or text arrays reached the matmul (UFuncTypeError: Cannot cast ufunc
    'multiply' output from dtype('O')); fit names them, and trace_step now does too."""
    from proplab import trace_step

    model = mlp(2, 3, rng=np.random.default_rng(0))
    x, target = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[1.0], [0.0]])
    arrays = {"x": x, "target": target}
    arrays[bad] = arrays[bad].astype(object) if bad == "x" else np.array([["a"], ["b"]])
    kind = "object" if bad == "x" else "<U1"
    with pytest.raises(TypeError, match=rf"^trace_step: {bad} must hold numbers, got .*{kind}"):
        trace_step(model, MSELoss(), arrays["x"], arrays["target"])


def test_python_m_proplab_prints_no_traceback(tmp_path):
    """The real entry point, end to end: one line, exit 2, nothing written."""
    proc = subprocess.run(
        [sys.executable, "-m", "proplab", "train", "--lr", "nan", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "proplab train: error: argument --lr: must be a finite number > 0, got nan"
    ]
    assert list(tmp_path.iterdir()) == []


def test_report_of_a_two_epoch_sweep(capsys, tmp_path):
    """A 2-epoch sweep (the cheapest a user tries first) reports: its curves have 2
    points, where np.convolve(mode="same") gave 3 and `proplab report` a traceback."""
    file = tmp_path / "s.toml"
    file.write_text(BASE + "[vary]\nlr = [0.1, 1.0]\n")
    out = tmp_path / "out"
    assert main(["sweep", str(file), "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["report", str(out), "--jobs", "1"]) == 0
    out_text, err = capsys.readouterr()
    assert "Traceback" not in err
    assert f"report written to {out / 'report.md'}" in out_text + err
    assert "lr" in (out / "report.md").read_text()
    assert (out / "figures" / "sweep-curves.png").read_bytes()[:4] == b"\x89PNG"
    assert "report: done (" in err
    # --no-progress, as train, sweep, lab and verify take it: no 'report: ...' lines, the
    # folder written still named (it was refused as an unknown argument)
    assert main(["report", str(out), "--jobs", "1", "--no-progress"]) == 0
    out_text, err = capsys.readouterr()
    assert err == "" and out_text == (
        f"report written to {out / 'report.md'} and {out / 'report.html'}\n"
    )
