"""``depup check-config``: every problem as FILE:LINE:COL: path: message and exit 1, or "valid" and exit 0."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.process.cli import main

FILES = Path(__file__).parent / "files"


@pytest.fixture(autouse=True)
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """check-config needs no environment: run it with none."""
    for name in list(os.environ):
        monkeypatch.delenv(name)


def test_a_valid_file_prints_valid_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "depup.yml"
    config.write_text("automerge: {enabled: true}\nlabels: [deps]\n")
    assert main(["check-config", str(config)]) == 0
    assert capsys.readouterr().out == "valid\n"


def test_an_empty_file_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "depup.yml").write_text("# nothing yet\n")
    assert main(["check-config", str(tmp_path / "depup.yml")]) == 0
    assert capsys.readouterr().out == "valid\n"


def test_mistakes_print_one_line_each_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "depup.yml"
    config.write_text("max_open_pr: 3\nschedule:\n  timezone: Mars/Olympus\n")
    assert main(["check-config", str(config)]) == 1
    out = capsys.readouterr()
    assert out.out.splitlines() == [
        f"{config}:1:1: unknown option 'max_open_pr' (did you mean 'max_open_prs'?)",
        f"{config}:3:13: schedule.timezone: unknown time zone 'Mars/Olympus' (an IANA name like 'UTC' or "
        "'Europe/Paris')",
    ]
    assert out.err == ""


def test_the_mistakes_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(FILES / "mistakes.yml")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 16
    assert all(line.startswith(f"{FILES / 'mistakes.yml'}:") for line in lines)


def test_a_syntax_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(FILES / "syntax.yml")]) == 1
    assert capsys.readouterr().out == (
        f"{FILES / 'syntax.yml'}:5:1: YAML syntax error: found unexpected end of stream (while scanning a quoted "
        "scalar at line 3)\n"
    )


def test_a_missing_file_says_so_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(tmp_path / "nope.yml")]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == f"depup: {tmp_path / 'nope.yml'}: cannot read it: No such file or directory\n"


def test_a_directory_is_not_readable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"depup: {tmp_path}: cannot read it: Is a directory\n"


def test_the_file_defaults_to_github_depup_yml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "depup.yml").write_text("enabled: nope\n")
    monkeypatch.chdir(tmp_path)
    assert main(["check-config"]) == 1
    assert capsys.readouterr().out == ".github/depup.yml:1:10: enabled: expected true or false, got 'nope'\n"
