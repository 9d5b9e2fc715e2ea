"""A code or prefix that matches no rule is a one-line error (exit 2) with a hint, on the
command line and in the config file; prefixes that match rules stay valid. The valid
codes come from the rule registry at run time."""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_cli import run

from stablelint import cli, selection
from stablelint.rules import ALL_RULES

UNSTABLE = "import torch\n\n\ndef loss(x):\n    return torch.log(torch.softmax(x, dim=1))\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STABLELINT_DEBUG", raising=False)
    (tmp_path / "model.py").write_text(UNSTABLE)
    return tmp_path


@pytest.mark.parametrize(
    "options, message",
    [
        (["--select", "STB999"], "--select: 'STB999' matches no rule (did you mean STB"),
        (["--select", "STB016"], "--select: 'STB016' matches no rule (did you mean STB106?)"),
        (["--select", "STB1,STB0"], "--select: 'STB0' matches no rule"),
        (["--select", ""], "--select: no codes given"),
        (["--select", " , "], "--select: no codes given"),
        (["--ignore", "STB016"], "--ignore: 'STB016' matches no rule (did you mean STB106?)"),
        (["--extend-ignore", "STB999"], "--ignore: 'STB999' matches no rule"),
        (["--extend-select", "STB13"], "--extend-select: 'STB13' matches no rule (did you mean STB"),
        (["--per-file-ignores", "model.py:STB1,STB016"], "--per-file-ignores: 'STB016' matches no rule (did you mean STB106?)"),
    ],
)
def test_a_code_that_matches_no_rule_is_one_line_and_exit_2(project, capsys, options, message):
    code, out, err = run(capsys, *options, "model.py")
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith(f"stablelint: error: {message}")


@pytest.mark.parametrize("prefix", ["STB", "STB1", "STB10", "STB101", "STB4", "STB40", "STB405", "STB11"])
def test_prefixes_that_match_rules_stay_valid(project, capsys, prefix):
    code, _, err = run(capsys, "--select", prefix, "model.py")
    assert code in (0, 1), err
    assert run(capsys, "--ignore", prefix, "model.py")[0] in (0, 1)
    assert run(capsys, "--per-file-ignores", f"other.py:{prefix}", "model.py")[0] == 1


def test_every_registered_code_and_each_of_its_prefixes_is_valid():
    for rule in ALL_RULES:
        for end in range(3, len(rule.code) + 1):
            assert selection.known([rule.code[:end]], "--select") == [rule.code[:end]]


def test_valid_codes_come_from_the_registry_at_run_time(project, capsys, monkeypatch):
    import stablelint.rules

    assert run(capsys, "--select", "STB901", "model.py")[0] == 2

    class NewFamilyRule(ALL_RULES[0]):
        code = "STB901"

    monkeypatch.setattr(stablelint.rules, "ALL_RULES", [*ALL_RULES, NewFamilyRule])
    selection.rule_codes.cache_clear()
    try:
        code, out, err = run(capsys, "--select", "STB9", "model.py")
        assert code == 0 and out == "", err  # valid now; the file has no STB9xx finding
    finally:
        selection.rule_codes.cache_clear()


@pytest.mark.parametrize(
    "codes, typo, hint",
    [
        (("STB101", "STB106", "STB216", "STB401"), "STB016", "STB106"),  # a swap beats a substitution
        (("STB101", "STB102"), "STB103", "STB102"),  # equally near: difflib's order
        (("STB101",), "STB999", None),  # nothing near enough
    ],
)
def test_the_hint_is_the_nearest_code(monkeypatch, codes, typo, hint):
    from stablelint import cache

    monkeypatch.setattr(selection, "rule_codes", lambda: codes)  # the registry
    monkeypatch.setattr(cache, "rule_codes", lambda: frozenset(codes))  # what the rule modules declare
    with pytest.raises(cli.StablelintError) as raised:
        selection.known([typo], "--select")
    assert (f"(did you mean {hint}?)" in str(raised.value)) if hint else "did you mean" not in str(raised.value)


@pytest.mark.parametrize(
    "table, message",
    [
        ('select = ["STB999"]', "[tool.stablelint] select: 'STB999' matches no rule (did you mean STB"),
        ('select = []', "[tool.stablelint] select: no codes given"),
        ('extend-select = ["STB016"]', "[tool.stablelint] extend-select: 'STB016' matches no rule (did you mean STB106?)"),
        ('ignore = ["STB1", "STB7"]', "[tool.stablelint] ignore: 'STB7' matches no rule"),
        ('extend-ignore = ["STB016"]', "[tool.stablelint] ignore: 'STB016' matches no rule (did you mean STB106?)"),
        ('per-file-ignores = { "tests/*" = ["STB016"] }',
         "[tool.stablelint] per-file-ignores.\"tests/*\": 'STB016' matches no rule (did you mean STB106?)"),
    ],
)
def test_the_same_in_the_config_file(project, capsys, table, message):
    (project / "pyproject.toml").write_text(f"[tool.stablelint]\n{table}\n")
    code, out, err = run(capsys, "model.py")
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith(f"stablelint: error: {project / 'pyproject.toml'}: {message}")


def test_valid_config_codes_still_work(project, capsys):
    (project / "pyproject.toml").write_text(
        '[tool.stablelint]\nselect = ["STB1"]\nextend-select = ["STB4"]\nignore = ["STB106"]\n'
        'per-file-ignores = { "tests/*" = ["STB10"] }\n'
    )
    code, out, err = run(capsys, "model.py")
    assert code == 1 and "STB101" in out, err


def test_add_noqa_sees_the_same_errors(project, capsys):
    code, _, err = run(capsys, "--add-noqa", "--select", "STB016", "model.py")
    assert code == 2 and "did you mean STB106?" in err
    assert (project / "model.py").read_text() == UNSTABLE


def test_flake8_keeps_its_own_select(project):
    """flake8 owns --select: a prefix no stablelint rule has is flake8's business there."""
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "STB9", "model.py"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout == "" and "error" not in result.stderr.lower(), result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "STB", "model.py"], capture_output=True, text=True
    )
    assert result.returncode == 1 and "STB101" in result.stdout
