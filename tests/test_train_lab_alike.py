"""``proplab train`` and ``proplab lab`` print alike (ta23 M6): the loss line every quarter
of a short ``--epochs``, and a model's one-class note on stderr; and ``lab --help`` says
whose its two models are (ta23 L2)."""

from __future__ import annotations

import re

from proplab import experiments
from proplab.cli import build_parser, main


def loss_lines(text: str) -> list[str]:
    return re.findall(r"^epoch (\d+) loss : ", text, flags=re.M)


def test_train_prints_the_loss_every_quarter_of_a_short_run_as_lab_does(
    tmp_path, capsys, no_figures
):
    flags = ["--dataset", "xor", "--epochs", "40", "--no-progress"]
    assert main(["train", *flags, "--out", str(tmp_path / "a")]) == 0
    assert loss_lines(capsys.readouterr().out) == ["10", "20", "30", "40"]  # not none (5000)
    assert main(["train", *flags, "--print-every", "0", "--out", str(tmp_path / "b")]) == 0
    assert loss_lines(capsys.readouterr().out) == []  # given: kept
    assert main(["train", *flags, "--print-every", "25", "--out", str(tmp_path / "c")]) == 0
    assert loss_lines(capsys.readouterr().out) == ["25", "40"]  # and the last (verify23 L3)


def test_a_dataset_with_its_own_print_every_takes_the_quarter_when_fewer(capsys):
    from proplab.cli_flags import config_from, quarter_print_every

    def print_every(*argv: str) -> int:
        args = build_parser().parse_args(["train", *argv])
        return quarter_print_every(args, config_from(args)).print_every

    assert print_every("--dataset", "digits") == 5  # its own, no --epochs
    assert print_every("--dataset", "digits", "--epochs", "8") == 2
    assert print_every("--dataset", "digits", "--epochs", "400") == 5
    assert print_every("--epochs", "30000") == 5000
    assert print_every("--epochs", "3") == 1


def test_both_helps_state_the_same_rule():
    commands = build_parser()._subparsers._group_actions[0].choices
    rule = "(default 5000, or a quarter of --epochs when that is fewer"
    for command in ("train", "lab"):
        assert rule in " ".join(commands[command].format_help().split()), command


def test_lab_says_each_models_one_class_note_on_stderr(tmp_path, capsys, monkeypatch):
    note = "every training row is predicted class 0, the class of 52.4 % of them: ..."

    def lab(out, base, **_):  # the two lab runs' summaries, as experiments.lab returns them
        return {
            "linear": {"stop_reason": "completed"},
            "xor": {"stop_reason": "completed", "notes": [note]},
        }

    monkeypatch.setattr(experiments, "lab", lab)
    assert main(["lab", "--no-suite", "--out", str(tmp_path / "lab"), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert err == f"proplab lab: xor: {note}\n"
    assert note not in out


def test_lab_help_says_its_two_models_are_the_handouts_not_the_suites():
    commands = build_parser()._subparsers._group_actions[0].choices
    text = " ".join(commands["lab"].format_help().split())
    assert "The two lab models stay the handout's (2-10-10-1 on linear and xor)" in text
    assert "use proplab sweep FILE and proplab report" in text
