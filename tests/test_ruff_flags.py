"""The flags and behaviours a ruff user reaches for, each driven through the real command
in a subprocess (ruff's meaning, checked against ruff's documentation, in the README)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TWO = "import torch\n\n\ndef f(x):\n    y = torch.log(torch.softmax(x, 1))\n    return torch.log(1 + x.tanh() / 1e5) + y\n"
FIXED = "import torch\n\n\ndef f(x):\n    y = torch.log_softmax(x, 1)\n    return torch.log1p(x.tanh() / 1e5) + y\n"
CLEAN = "import torch\n\n\ndef f(x):\n    return torch.log_softmax(x, 1)\n"
ANSI = "\x1b["


def environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("NO_COLOR", "FORCE_COLOR", "STABLELINT_OUTPUT_FORMAT", "STABLELINT_OUTPUT_FILE")}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def stablelint(cwd: Path, *args: str, env: dict | None = None, stdin: str | None = None):
    return subprocess.run(
        [sys.executable, "-m", "stablelint", "--no-cache", *args], cwd=cwd, env=environment(**(env or {})),
        capture_output=True, text=True, timeout=300, input=stdin,
    )


@pytest.fixture
def project(tmp_path):
    (tmp_path / "m.py").write_text(TWO)
    return tmp_path


def codes(out: str) -> list[str]:
    return [line.split()[1] for line in out.splitlines() if ": STB" in line]


def test_output_file_takes_the_findings(project):
    result = stablelint(project, "-o", "out/findings.txt", "m.py")
    assert (result.returncode, result.stdout) == (1, "")
    assert codes((project / "out" / "findings.txt").read_text()) == ["STB101", "STB106"]
    by_env = stablelint(project, "--output-format", "json", "m.py", env={"STABLELINT_OUTPUT_FILE": "f.json"})
    assert by_env.stdout == "" and len(json.loads((project / "f.json").read_text())) == 2


def test_exit_non_zero_on_fix(project):
    assert stablelint(project, "--fix", "m.py").returncode == 0  # everything fixed
    (project / "m.py").write_text(TWO)
    result = stablelint(project, "--fix", "--exit-non-zero-on-fix", "m.py")
    assert result.returncode == 1 and (project / "m.py").read_text() == FIXED
    assert stablelint(project, "--fix", "--exit-non-zero-on-fix", "m.py").returncode == 0  # nothing left to fix


def test_fix_only_and_no_fix(project):
    result = stablelint(project, "--fix-only", "--unfixable", "STB106", "m.py")
    assert (result.returncode, result.stdout) == (0, "")  # STB106 remains, but --fix-only reports nothing
    assert result.stderr.strip() == "Fixed 1 error."
    assert "torch.log_softmax(x, 1)" in (project / "m.py").read_text()
    (project / "m.py").write_text(TWO)
    assert stablelint(project, "--fix-only", "--exit-non-zero-on-fix", "m.py").returncode == 1
    (project / "m.py").write_text(TWO)
    kept = stablelint(project, "--fix", "--no-fix", "m.py")
    assert kept.returncode == 1 and codes(kept.stdout) == ["STB101", "STB106"]
    assert (project / "m.py").read_text() == TWO


def test_fixable_and_unfixable(project):
    (project / "pyproject.toml").write_text('[tool.stablelint]\nunfixable = ["STB106"]\n')
    result = stablelint(project, "m.py")
    assert "STB101 [*]" in result.stdout and "STB106 log(1 + x)" in result.stdout  # no [*]: never fixed
    stablelint(project, "--fix", "m.py")
    text = (project / "m.py").read_text()
    assert "log_softmax" in text and "torch.log(1 + x.tanh() / 1e5)" in text
    (project / "m.py").write_text(TWO)
    (project / "pyproject.toml").write_text('[tool.stablelint]\nfixable = ["STB106"]\n')
    stablelint(project, "--fix", "m.py")
    text = (project / "m.py").read_text()
    assert "log1p" in text and "torch.log(torch.softmax" in text
    (project / "m.py").write_text(TWO)
    stablelint(project, "--fix", "--fixable", "STB1", "--unfixable", "STB101", "m.py")  # the command line wins
    text = (project / "m.py").read_text()
    assert "log1p" in text and "torch.log(torch.softmax" in text


def test_extend_per_file_ignores(project):
    (project / "tests").mkdir()
    (project / "tests" / "t.py").write_text(TWO)
    (project / "pyproject.toml").write_text(
        '[tool.stablelint]\nper-file-ignores = { "tests/*" = ["STB101"] }\n'
        'extend-per-file-ignores = { "tests/*" = ["STB106"] }\n'
    )
    assert codes(stablelint(project, "tests/t.py").stdout) == []
    (project / "pyproject.toml").write_text('[tool.stablelint]\nper-file-ignores = { "tests/*" = ["STB101"] }\n')
    assert codes(stablelint(project, "tests/t.py").stdout) == ["STB106"]
    more = stablelint(project, "--extend-per-file-ignores", "tests/*:STB106", "tests/t.py")
    assert codes(more.stdout) == []
    replaced = stablelint(project, "--per-file-ignores", "tests/*:STB106", "tests/t.py")
    assert codes(replaced.stdout) == ["STB101"]  # --per-file-ignores replaces the config's


def test_config_key_value(project):
    assert codes(stablelint(project, "--config", 'ignore = ["STB106"]', "m.py").stdout) == ["STB101"]
    (project / "pyproject.toml").write_text('[tool.stablelint]\nignore = ["STB101"]\n')
    assert codes(stablelint(project, "m.py").stdout) == ["STB106"]
    assert codes(stablelint(project, "--config", "ignore = []", "m.py").stdout) == ["STB101", "STB106"]
    bad = stablelint(project, "--config", "ignore = [", "m.py")
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1 and "Traceback" not in bad.stderr
    unknown = stablelint(project, "--config", "ignor = []", "m.py")
    assert unknown.returncode == 2 and "did you mean 'ignore'" in unknown.stderr


def test_file_level_noqa(project):
    (project / "m.py").write_text("# stablelint: noqa: STB106\n" + TWO)
    assert codes(stablelint(project, "m.py").stdout) == ["STB101"]
    (project / "m.py").write_text("# stablelint: noqa\n" + TWO)
    assert stablelint(project, "m.py").returncode == 0
    (project / "m.py").write_text(TWO + 'note = "# stablelint: noqa"\n')  # not a comment line: no effect
    assert codes(stablelint(project, "m.py").stdout) == ["STB101", "STB106"]


def test_file_level_noqa_in_flake8_too(project):
    (project / "m.py").write_text("# stablelint: noqa: STB106\n" + TWO)
    flake8 = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "STB", "m.py"], cwd=project, env=environment(),
        capture_output=True, text=True, timeout=300,
    )
    assert [line.split()[1] for line in flake8.stdout.splitlines()] == ["STB101"], flake8.stderr


def test_add_noqa_with_a_reason(project):
    result = stablelint(project, "--add-noqa=legacy numerics", "m.py")
    assert result.returncode == 0 and "Added 2 noqa directives." in result.stderr
    lines = (project / "m.py").read_text().splitlines()
    assert lines[4].endswith("# noqa: STB101 legacy numerics")
    assert lines[5].endswith("# noqa: STB106 legacy numerics")
    assert stablelint(project, "m.py").returncode == 0  # flake8's reading: the codes, then free text
    (project / "n.py").write_text(TWO)
    assert stablelint(project, "--add-noqa", "n.py").returncode == 0  # without "=", n.py is a path
    assert (project / "n.py").read_text().splitlines()[4].endswith("# noqa: STB101")


def test_silent_prints_nothing_and_the_status_tells(project):
    assert (stablelint(project, "-s", "m.py", "nope.py").returncode, ) == (1,)
    result = stablelint(project, "--silent", "m.py", "nope.py")
    assert (result.stdout, result.stderr) == ("", "")


def test_all_checks_passed_and_a_missing_path_is_a_warning(project):
    (project / "m.py").write_text(CLEAN)
    result = stablelint(project, "m.py", "gone.py")
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr.splitlines() == ["stablelint: warning: gone.py: No such file or directory", "All checks passed!"]


def test_statistics_and_json_severity(project):
    result = stablelint(project, "--statistics", "m.py")
    assert result.stdout.splitlines() == ["1\tSTB101\t[*] log-of-softmax", "1\tSTB106\t[*] log-of-one-plus"]
    stats = json.loads(stablelint(project, "--statistics", "--output-format", "json", "m.py").stdout)
    assert [(s["code"], s["fixable_count"]) for s in stats] == [("STB101", 1), ("STB106", 1)]
    items = json.loads(stablelint(project, "--output-format", "json", "m.py").stdout)
    assert {item["severity"] for item in items} == {"error"}


def test_output_format_from_the_environment(project):
    result = stablelint(project, "m.py", env={"STABLELINT_OUTPUT_FORMAT": "json"})
    assert [item["code"] for item in json.loads(result.stdout)] == ["STB101", "STB106"]
    explicit = stablelint(project, "--output-format", "concise", "m.py", env={"STABLELINT_OUTPUT_FORMAT": "json"})
    assert codes(explicit.stdout) == ["STB101", "STB106"]  # the command line wins
    bad = stablelint(project, "m.py", env={"STABLELINT_OUTPUT_FORMAT": "xml"})
    assert bad.returncode == 2 and bad.stderr.startswith("stablelint: error: $STABLELINT_OUTPUT_FORMAT='xml'")


def test_show_files_and_show_settings(project):
    (project / "sub").mkdir()
    (project / "sub" / "a.py").write_text(CLEAN)
    (project / "build").mkdir()
    (project / "build" / "gen.py").write_text(TWO)
    (project / "pyproject.toml").write_text('[tool.stablelint]\nunfixable = ["STB2"]\n')
    files = stablelint(project, "--show-files", ".")
    assert files.returncode == 0
    assert files.stdout.splitlines() == ["m.py", "sub/a.py"]  # sorted, build/ excluded, nothing checked
    settings = stablelint(project, "--show-settings", "m.py")
    assert settings.returncode == 0
    lines = settings.stdout.splitlines()
    assert lines[0] == "Resolved settings for: m.py"
    assert lines[1] == f"Settings path: {(project / 'pyproject.toml').resolve()}"
    assert 'unfixable = ["STB2"]' in lines


def test_colour(project):
    assert ANSI not in stablelint(project, "m.py").stdout  # a pipe: no colour
    assert ANSI in stablelint(project, "--color", "always", "m.py").stdout
    assert ANSI in stablelint(project, "m.py", env={"FORCE_COLOR": "1"}).stdout
    assert ANSI not in stablelint(project, "--color", "never", "m.py", env={"FORCE_COLOR": "1"}).stdout
    assert ANSI not in stablelint(project, "m.py", env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert ANSI not in (stablelint(project, "--output-format", "json", "m.py", env={"FORCE_COLOR": "1"}).stdout)
    assert ANSI in on_a_terminal(project, {})
    assert ANSI not in on_a_terminal(project, {"NO_COLOR": "1"})


def on_a_terminal(project: Path, env: dict) -> str:
    """What stablelint prints when its standard output is a terminal (a pseudo-terminal)."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "stablelint", "--no-cache", "-q", "m.py"], cwd=project,
            env=environment(**env), stdout=terminal, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed: the program is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=120)
    finally:
        os.close(controller)
    return b"".join(chunks).decode()


def test_watch_checks_again_when_a_file_changes(project):
    out, err = project / "watch.out", project / "watch.err"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "stablelint", "--no-cache", "--watch", "m.py"], cwd=project, env=environment(),
            stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
        )
    try:
        wait_for(lambda: codes(out.read_text()) == ["STB101", "STB106"], process)
        time.sleep(0.1)
        (project / "m.py").write_text(CLEAN)
        wait_for(lambda: "All checks passed!" in err.read_text(), process)
        assert "File change detected." in err.read_text()
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert process.returncode == 143  # SIGTERM ends it as any run: 128 + 15


def wait_for(condition, process, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, "stablelint --watch ended by itself"
        assert time.monotonic() < deadline, "nothing happened in time"
        time.sleep(0.1)
