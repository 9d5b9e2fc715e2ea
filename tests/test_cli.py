"""The stablelint command end to end, with the real engine: exit codes, output formats,
--fix and --diff (byte-exact, atomic), standard input, errors without tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from stablelint import cli, engine, session, writer

UNSTABLE = "import torch\n\n\ndef loss(x):\n    return torch.log(torch.softmax(x, dim=1))\n"
FIXED = "import torch\n\n\ndef loss(x):\n    return torch.log_softmax(x, dim=1)\n"
CLEAN = "import torch\n\nx = torch.log_softmax(torch.zeros(2), 0)\n"
# STB102 in NumPy: the fix is unsafe and needs `import scipy.special`.
UNSAFE_ONLY = "import numpy as np\n\n\ndef f(log_p):\n    return np.log(np.sum(np.exp(log_p)))\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STABLELINT_DEBUG", raising=False)
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def codes_and_lines(out: str) -> list[tuple[str, int]]:
    """(path, line, code) of each text line, message left out: its wording may change."""
    found = []
    for line in out.splitlines():
        path, row, _col, rest = line.split(":", 3)
        found.append((path, int(row), rest.split()[0]))
    return found


# -- checking


def test_finding_exits_1_and_prints_the_flake8_line(project, capsys):
    (project / "model.py").write_text(UNSTABLE)
    (project / "clean.py").write_text(CLEAN)
    code, out, err = run(capsys, "model.py", "clean.py")
    assert code == 1
    assert out.startswith("model.py:5:12: STB101 ")
    assert len(out.splitlines()) == 1
    assert "Found 1 error." in err and "fixable with `--fix`" in err


def test_check_subcommand_is_optional_and_the_default_path_is_the_cwd(project, capsys):
    (project / "pkg").mkdir()
    (project / "pkg" / "model.py").write_text(UNSTABLE)
    outputs = [run(capsys, *args)[:2] for args in (["check"], [], ["check", "."], ["."])]
    assert all(result == (1, outputs[0][1]) for result in outputs)
    assert codes_and_lines(outputs[0][1]) == [("pkg/model.py", 5, "STB101")]


def test_clean_files_exit_0_with_ruffs_closing_line(project, capsys):
    (project / "clean.py").write_text(CLEAN)
    assert run(capsys, "clean.py") == (0, "", "All checks passed!\n")
    assert run(capsys, "-q", "clean.py") == (0, "", "")


def test_exit_zero(project, capsys):
    (project / "model.py").write_text(UNSTABLE)
    code, out, _ = run(capsys, "--exit-zero", "model.py")
    assert code == 0 and "STB101" in out


@pytest.mark.parametrize(
    "options, reported",
    [
        ([], True),
        (["--ignore", "STB101"], False),
        (["--ignore", "STB1"], False),
        (["--select", "STB4"], False),
        (["--select", "STB101"], True),
        (["--select", "STB101", "--ignore", "STB1"], True),  # the more specific prefix wins
        (["--select", "STB4", "--extend-select", "STB10"], True),
        (["--per-file-ignores", "model.py:STB1"], False),
    ],
)
def test_code_selection_options(project, capsys, options, reported):
    (project / "model.py").write_text(UNSTABLE)
    code, out, _ = run(capsys, *options, "model.py")
    assert code == (1 if reported else 0)
    assert ("STB101" in out) is reported


def test_config_file_is_applied(project, capsys):
    (project / "pyproject.toml").write_text('[tool.stablelint]\nper-file-ignores = { "tests/*" = ["STB101"] }\n')
    (project / "tests").mkdir()
    (project / "tests" / "test_model.py").write_text(UNSTABLE)
    (project / "model.py").write_text(UNSTABLE)
    code, out, _ = run(capsys)
    assert code == 1
    assert codes_and_lines(out) == [("model.py", 5, "STB101")]
    code, out, _ = run(capsys, "--isolated")
    assert len(codes_and_lines(out)) == 2


def test_config_is_found_from_the_first_path(project, capsys, monkeypatch):
    sub = project / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[tool.stablelint]\nignore = ["STB101"]\n')
    (sub / "model.py").write_text(UNSTABLE)
    assert run(capsys, "sub/model.py")[0] == 0


def test_noqa_comments_are_honoured(project, capsys):
    source = UNSTABLE.replace("dim=1))\n", "dim=1))  # noqa: STB101\n")
    (project / "model.py").write_text(source)
    assert run(capsys, "model.py")[:2] == (0, "")
    (project / "model.py").write_text(UNSTABLE.replace("dim=1))\n", "dim=1))  # noqa: STB102\n"))
    assert run(capsys, "model.py")[0] == 1


@pytest.mark.parametrize(
    "body, fragment",
    [
        ('select = "STB1"', "select"),
        ('colour = "red"', "colour"),
        ('ignore = ["E501"]', "E501"),
    ],
)
def test_bad_config_exits_2_with_one_clear_line(project, capsys, body, fragment):
    (project / "pyproject.toml").write_text(f"[tool.stablelint]\n{body}\n")
    (project / "model.py").write_text(UNSTABLE)
    code, out, err = run(capsys, "model.py")
    assert code == 2 and out == ""
    assert err.startswith("stablelint: error: ") and err.count("\n") == 1
    assert "pyproject.toml" in err and fragment in err
    assert "Traceback" not in err


def test_bad_code_on_the_command_line_exits_2(project, capsys):
    (project / "model.py").write_text(UNSTABLE)
    code, _, err = run(capsys, "--select", "E501", "model.py")
    assert code == 2 and "--select" in err and "E501" in err


def test_usage_error_exits_2(project, capsys):
    with pytest.raises(SystemExit) as raised:
        cli.main(["--no-such-option"])
    assert raised.value.code == 2


def test_missing_path_is_a_warning_and_the_rest_is_checked(project, capsys):
    # ruff: a warning and exit 0; flake8: E902. A hook naming a deleted file must not fail for it.
    (project / "model.py").write_text(UNSTABLE)
    code, out, err = run(capsys, "nope.py", "model.py")
    assert code == 1  # for model.py's finding
    assert "stablelint: warning: nope.py: No such file or directory" in err.splitlines()
    assert codes_and_lines(out) == [("model.py", 5, "STB101")]
    (project / "model.py").write_text(CLEAN)
    assert run(capsys, "nope.py", "model.py")[0] == 0


def test_syntax_error_is_one_line_and_the_other_files_are_checked(project, capsys):
    (project / "a.py").write_text(UNSTABLE)
    (project / "b.py").write_text("import torch\ny = torch.log(torch.softmax(x, 1))\nz = (1 +\n")
    (project / "c.py").write_text(CLEAN)
    (project / "d.py").write_text(UNSTABLE)
    code, out, err = run(capsys, "-q", ".")
    assert code == 1
    assert [path for path, _, _ in codes_and_lines(out)] == ["a.py", "d.py"]
    assert len(err.splitlines()) == 1 and err.startswith("b.py:3:") and "syntax error" in err


def test_syntax_error_alone_still_exits_1_as_in_flake8_and_ruff(project, capsys):
    (project / "b.py").write_text("import torch\ny = torch.log(\n")
    code, out, err = run(capsys, "b.py")
    assert code == 1 and out == "" and err.startswith("b.py:")
    assert run(capsys, "--exit-zero", "b.py")[0] == 0


def test_undecodable_and_unreadable_files_are_one_line_each(project, capsys):
    (project / "bad_utf8.py").write_bytes(b"import torch\nx = '\xff\xfe'\ny = torch.log(torch.softmax(x, 1))\n")
    (project / "bad_cookie.py").write_bytes(b"# -*- coding: klingon -*-\nx = 1\n")
    (project / "model.py").write_text(UNSTABLE)
    code, out, err = run(capsys, "bad_utf8.py", "bad_cookie.py", "model.py")
    assert code == 1
    assert codes_and_lines(out) == [("model.py", 5, "STB101")]
    lines = err.splitlines()
    assert any(line.startswith("bad_utf8.py: cannot decode") for line in lines)
    assert any(line.startswith("bad_cookie.py: cannot decode") for line in lines)


def test_unreadable_file_is_one_line_and_the_rest_is_checked(project, capsys, monkeypatch):
    (project / "a.py").write_text(UNSTABLE)
    (project / "b.py").write_text(UNSTABLE)

    real_read = session.read_source

    def guarded_read(path):  # root may read any file: the refusal is made here
        if os.path.basename(path) == "a.py":
            raise PermissionError(13, "Permission denied", path)
        return real_read(path)

    monkeypatch.setattr(session, "read_source", guarded_read)
    code, out, err = run(capsys, "-q", ".")
    assert code == 1
    assert err.splitlines() == ["a.py: cannot read: Permission denied"]
    assert codes_and_lines(out) == [("b.py", 5, "STB101")]


def test_excludes_apply_to_named_files_only_with_force_exclude(project, capsys):
    (project / "pyproject.toml").write_text('[tool.stablelint]\nextend-exclude = ["vendor"]\n')
    (project / "vendor").mkdir()
    (project / "vendor" / "lib.py").write_text(UNSTABLE)
    (project / "model.py").write_text(UNSTABLE)
    assert len(codes_and_lines(run(capsys, ".")[1])) == 1
    assert len(codes_and_lines(run(capsys, "vendor/lib.py", "model.py")[1])) == 2
    # What pre-commit runs: every file by name.
    code, out, _ = run(capsys, "--force-exclude", "vendor/lib.py", "model.py")
    assert codes_and_lines(out) == [("model.py", 5, "STB101")]
    assert codes_and_lines(run(capsys, "--extend-exclude", "model.py", ".")[1]) == []


def test_an_empty_folder_is_clean(project, capsys):
    assert run(capsys) == (0, "", "All checks passed!\n")


def test_internal_error_is_one_line_not_a_traceback_and_the_run_goes_on(project, capsys, monkeypatch):
    real_check_source = engine.check_source

    def broken_on_b(source, path, **kwargs):
        if path == "b.py":
            raise RuntimeError("engine exploded")
        return real_check_source(source, path, **kwargs)

    monkeypatch.setattr(engine, "check_source", broken_on_b)
    for name in ("a.py", "b.py", "c.py"):
        (project / name).write_text(UNSTABLE)
    code, out, err = run(capsys, "-q", ".")
    assert code == 2
    assert [path for path, _, _ in codes_and_lines(out)] == ["a.py", "c.py"]
    assert err.splitlines() == [
        "stablelint: error: internal error while checking b.py: RuntimeError: engine exploded "
        "(set STABLELINT_DEBUG=1 for a traceback)"
    ]


def test_internal_error_outside_any_file_is_one_line(project, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("discovery exploded")

    monkeypatch.setattr(session, "discover", broken)
    code, out, err = run(capsys, ".")
    assert (code, out) == (2, "")
    assert err.startswith("stablelint: error: internal error: RuntimeError: discovery exploded")
    assert "Traceback" not in err


def test_jobs_give_the_same_output(project, capsys):
    for i in range(20):
        (project / f"m{i:02}.py").write_text(UNSTABLE if i % 3 else CLEAN)
    sequential = run(capsys, "-q", ".")
    assert sequential[0] == 1 and len(sequential[1].splitlines()) == 13
    assert run(capsys, "-q", "--jobs", "2", ".") == sequential
    with pytest.raises(SystemExit) as raised:
        cli.main(["--jobs", "0", "."])
    assert raised.value.code == 2


def test_pep263_and_bom_files_are_checked_at_character_columns(project, capsys):
    latin = "# -*- coding: latin-1 -*-\nimport torch\ns = 'café'; y = torch.log(torch.softmax(s, 1))\n"
    (project / "latin.py").write_bytes(latin.encode("latin-1"))
    (project / "bom.py").write_bytes(b"\xef\xbb\xbf" + UNSTABLE.encode())
    code, out, err = run(capsys, "latin.py", "bom.py")
    assert code == 1, err
    assert "latin.py:3:17: STB101" in out
    assert "bom.py:5:12: STB101" in out


# -- output formats


def test_json_output_has_ruffs_shape(project, capsys):
    (project / "model.py").write_text(UNSTABLE)
    (project / "lse.py").write_text(UNSAFE_ONLY)
    code, out, _ = run(capsys, "--format", "json", "model.py", "lse.py")
    assert code == 1
    items = json.loads(out)
    assert sorted(item["code"] for item in items) == ["STB101", "STB102"]
    for item in items:
        assert {"code", "message", "filename", "location", "end_location", "fix", "noqa_row", "url", "cell"} <= set(item)
        assert os.path.isabs(item["filename"])
        assert set(item["location"]) == {"row", "column"}
    by_code = {item["code"]: item for item in items}
    stb101 = by_code["STB101"]
    assert stb101["location"] == {"row": 5, "column": 12}
    assert stb101["noqa_row"] == 5
    assert stb101["fix"]["applicability"] == "safe"
    assert by_code["STB102"]["fix"]["applicability"] == "unsafe"


def apply_json_edits(source: str, edits: list[dict]) -> str:
    """Apply ruff-style edits (1-based rows and columns) the way an editor would."""
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(location):
        return starts[location["row"] - 1] + location["column"] - 1

    for edit in sorted(edits, key=lambda edit: offset(edit["location"]), reverse=True):
        source = source[: offset(edit["location"])] + edit["content"] + source[offset(edit["end_location"]) :]
    return source


@pytest.mark.parametrize("source", [UNSTABLE, UNSAFE_ONLY, '"""Doc."""\n' + UNSAFE_ONLY, "# é\n" + UNSTABLE])
def test_json_fix_edits_reproduce_what_fix_writes(project, capsys, source):
    (project / "m.py").write_text(source, encoding="utf-8")
    items = json.loads(run(capsys, "--format", "json", "m.py")[1])
    assert len(items) == 1
    from_json = apply_json_edits(source, items[0]["fix"]["edits"])
    run(capsys, "--fix", "--unsafe-fixes", "m.py")
    assert from_json == (project / "m.py").read_text(encoding="utf-8")
    assert from_json != source


def test_json_with_no_findings_is_an_empty_list(project, capsys):
    (project / "clean.py").write_text(CLEAN)
    code, out, _ = run(capsys, "--format", "json", "clean.py")
    assert code == 0 and json.loads(out) == []


def test_statistics(project, capsys):
    (project / "a.py").write_text(UNSTABLE)
    (project / "b.py").write_text(UNSTABLE + UNSAFE_ONLY.replace("def f", "def g"))
    code, out, _ = run(capsys, "--statistics", ".")
    assert code == 1
    # ruff's layout: count, code, [*] where --fix fixes ([ ] where not), the rule's name
    assert out.splitlines() == ["2\tSTB101\t[*] log-of-softmax", "1\tSTB102\t[ ] naive-logsumexp"]
    stats = json.loads(run(capsys, "--statistics", "--format", "json", ".")[1])
    assert [(s["code"], s["count"], s["fixable"], s["fixable_count"]) for s in stats] == [
        ("STB101", 2, True, 2), ("STB102", 1, False, 0)
    ]


# -- --fix and --diff


def test_fix_rewrites_reports_the_rest_and_is_idempotent(project, capsys):
    (project / "model.py").write_text(UNSTABLE)
    (project / "lse.py").write_text(UNSAFE_ONLY)
    code, out, err = run(capsys, "--fix", "model.py", "lse.py")
    assert code == 1  # the unsafe fix is not applied: one finding remains
    assert (project / "model.py").read_text() == FIXED
    assert (project / "lse.py").read_text() == UNSAFE_ONLY
    assert codes_and_lines(out) == [("lse.py", 5, "STB102")]
    assert "Found 2 errors (1 fixed, 1 remaining)." in err
    code, out, err = run(capsys, "--fix", "model.py")
    assert (code, out) == (0, "") and (project / "model.py").read_text() == FIXED


def test_unsafe_fixes(project, capsys):
    (project / "lse.py").write_text(UNSAFE_ONLY)
    code, out, err = run(capsys, "--fix", "--unsafe-fixes", "lse.py")
    assert code == 0 and out == ""
    fixed = (project / "lse.py").read_text()
    assert "logsumexp" in fixed and "import scipy.special" in fixed
    assert "Found 1 error (1 fixed, 0 remaining)." in err


def test_diff_writes_nothing_and_exits_1_when_there_are_changes(project, capsys):
    (project / "model.py").write_text(UNSTABLE)
    code, out, err = run(capsys, "--diff", "model.py")
    assert code == 1
    assert (project / "model.py").read_text() == UNSTABLE
    assert out.startswith("--- model.py\n+++ model.py\n")
    assert "-    return torch.log(torch.softmax(x, dim=1))\n+    return torch.log_softmax(x, dim=1)\n" in out
    assert "Would fix 1 error." in err
    # The diff applies with `patch` and gives what --fix writes.
    if shutil.which("patch"):
        (project / "fix.diff").write_text(out)
        subprocess.run(["patch", "-p0", "-i", "fix.diff"], cwd=project, check=True, capture_output=True)
        assert (project / "model.py").read_text() == FIXED


def test_diff_without_changes_exits_0(project, capsys):
    (project / "lse.py").write_text(UNSAFE_ONLY)
    assert run(capsys, "--diff", "lse.py")[:2] == (0, "")
    code, out, _ = run(capsys, "--diff", "--unsafe-fixes", "lse.py")
    assert code == 1 and "+import scipy.special" in out
    assert (project / "lse.py").read_text() == UNSAFE_ONLY


def test_fix_keeps_crlf_line_endings_byte_exact(project, capsys):
    before = UNSTABLE.replace("\n", "\r\n").encode()
    (project / "crlf.py").write_bytes(before)
    assert run(capsys, "--fix", "crlf.py")[0] == 0
    assert (project / "crlf.py").read_bytes() == FIXED.replace("\n", "\r\n").encode()


def test_fix_keeps_a_pep263_encoding_byte_exact(project, capsys):
    def latin(code: str) -> bytes:
        return ("# -*- coding: latin-1 -*-\n# Grüße, café\n" + code).encode("latin-1")

    (project / "latin.py").write_bytes(latin(UNSTABLE))
    assert run(capsys, "--fix", "latin.py")[0] == 0
    assert (project / "latin.py").read_bytes() == latin(FIXED)


def test_fix_keeps_the_byte_order_mark_and_a_missing_final_newline(project, capsys):
    (project / "bom.py").write_bytes(b"\xef\xbb\xbf" + UNSTABLE.rstrip("\n").encode())
    assert run(capsys, "--fix", "bom.py")[0] == 0
    assert (project / "bom.py").read_bytes() == b"\xef\xbb\xbf" + FIXED.rstrip("\n").encode()


def test_fix_keeps_the_file_mode_and_leaves_no_temporary_file(project, capsys):
    script = project / "model.py"
    script.write_text(UNSTABLE)
    script.chmod(0o750)
    assert run(capsys, "--fix", "model.py")[0] == 0
    assert stat.S_IMODE(script.stat().st_mode) == 0o750
    assert sorted(p.name for p in project.iterdir()) == ["model.py"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_fix_in_a_read_only_folder_leaves_the_file_untouched(project, capsys):
    folder = project / "ro"
    folder.mkdir()
    (folder / "model.py").write_text(UNSTABLE)
    folder.chmod(0o555)
    try:
        code, out, err = run(capsys, "--fix", "ro/model.py")
    finally:
        folder.chmod(0o755)
    assert code == 1
    assert (folder / "model.py").read_text() == UNSTABLE
    assert "ro/model.py: cannot write the fixes" in err
    assert codes_and_lines(out) == [("ro/model.py", 5, "STB101")]
    assert sorted(p.name for p in folder.iterdir()) == ["model.py"]


def test_fix_that_cannot_be_written_leaves_the_file_untouched(project, capsys, monkeypatch):
    # Works as root too: the temporary file cannot be created.
    (project / "model.py").write_text(UNSTABLE)

    def no_temporary_files(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(writer.tempfile, "NamedTemporaryFile", no_temporary_files)
    code, out, err = run(capsys, "--fix", "model.py")
    assert code == 1
    assert (project / "model.py").read_text() == UNSTABLE
    assert "model.py: cannot write the fixes: Permission denied" in err
    assert codes_and_lines(out) == [("model.py", 5, "STB101")]


def test_failed_rename_removes_the_temporary_file(project, capsys, monkeypatch):
    (project / "model.py").write_text(UNSTABLE)

    def failing_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer.os, "replace", failing_replace)
    code, _, err = run(capsys, "--fix", "model.py")
    assert code == 1 and "No space left on device" in err
    assert (project / "model.py").read_text() == UNSTABLE
    assert sorted(p.name for p in project.iterdir()) == ["model.py"]


def test_fix_that_would_not_parse_is_not_written(project, capsys, monkeypatch):
    real_fix_source = engine.fix_source

    def breaking_fix_source(source, path, **kwargs):
        outcome = real_fix_source(source, path, **kwargs)
        outcome.source = outcome.source.replace("log_softmax(", "log_softmax((")
        return outcome

    monkeypatch.setattr(engine, "fix_source", breaking_fix_source)
    (project / "model.py").write_text(UNSTABLE)
    code, out, err = run(capsys, "--fix", "model.py")
    assert code == 1
    assert (project / "model.py").read_text() == UNSTABLE
    assert "model.py: fixes not applied: the fixed code does not parse" in err
    assert codes_and_lines(out) == [("model.py", 5, "STB101")]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_fix_through_a_symlink_keeps_the_link(project, capsys):
    (project / "real.py").write_text(UNSTABLE)
    (project / "link.py").symlink_to(project / "real.py")
    assert run(capsys, "--fix", "link.py")[0] == 0
    assert (project / "link.py").is_symlink()
    assert (project / "real.py").read_text() == FIXED


# -- standard input


def stablelint(*args: str, stdin: bytes = b"", cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stablelint", *args], input=stdin, cwd=cwd, capture_output=True, timeout=120
    )


def test_stdin_is_checked_under_its_display_name(project):
    result = stablelint("-", stdin=UNSTABLE.encode(), cwd=project)
    assert result.returncode == 1
    assert result.stdout.decode().startswith("stdin:5:12: STB101 ")
    result = stablelint("--stdin-filename", "src/model.py", "-", stdin=UNSTABLE.encode(), cwd=project)
    assert result.stdout.decode().startswith("src/model.py:5:12: STB101 ")


def test_stdin_filename_is_matched_by_per_file_ignores(project):
    (project / "pyproject.toml").write_text('[tool.stablelint]\nper-file-ignores = { "tests/*" = ["STB1"] }\n')
    result = stablelint("--stdin-filename", "tests/t.py", stdin=UNSTABLE.encode(), cwd=project)
    assert (result.returncode, result.stdout) == (0, b"")


def test_stdin_fix_writes_the_fixed_source_to_stdout(project):
    crlf = UNSTABLE.replace("\n", "\r\n").encode()
    result = stablelint("--fix", "-", stdin=crlf, cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout == FIXED.replace("\n", "\r\n").encode()
    # Nothing to fix, or a file that does not parse: the text comes back unchanged.
    for text in (CLEAN.encode(), b"import torch\ny = torch.log(\n"):
        result = stablelint("--fix", "-", stdin=text, cwd=project)
        assert result.stdout == text
    assert result.returncode == 1 and b"syntax error" in result.stderr


def test_stdin_fix_reports_remaining_findings_on_stderr(project):
    result = stablelint("--fix", "-", stdin=UNSAFE_ONLY.encode(), cwd=project)
    assert result.returncode == 1
    assert result.stdout == UNSAFE_ONLY.encode()
    assert b"stdin:5:12: STB102" in result.stderr


def test_stdin_diff(project):
    result = stablelint("--diff", "-", stdin=UNSTABLE.encode(), cwd=project)
    assert result.returncode == 1
    assert b"+    return torch.log_softmax(x, dim=1)" in result.stdout


def test_stdin_cannot_be_mixed_with_paths(project, capsys):
    (project / "a.py").write_text(CLEAN)
    code, _, err = run(capsys, "-", "a.py")
    assert code == 2 and "standard input" in err


# -- rules, --explain, --version, the console script


def test_rules_lists_every_rule(capsys):
    rules = pytest.importorskip("stablelint.rules").ALL_RULES
    code, out, _ = run(capsys, "rules")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == [rule.code for rule in rules]
    for line, rule in zip(lines, rules, strict=True):
        assert rule.name in line and rule.fix_safety in line
    items = json.loads(run(capsys, "rules", "--format", "json")[1])
    assert [item["code"] for item in items] == [rule.code for rule in rules]


def test_explain_prints_the_rules_documentation(capsys):
    rules = pytest.importorskip("stablelint.rules").ALL_RULES
    rule = rules[0]
    code, out, _ = run(capsys, "--explain", rule.code)
    assert code == 0
    assert rule.code in out and rule.name in out
    assert "What it does" in out
    assert run(capsys, "--explain", rule.code.lower())[1] == out
    assert run(capsys, "rules", rule.code)[1] == out


def test_explain_unknown_code_exits_2(capsys):
    pytest.importorskip("stablelint.rules")
    code, out, err = run(capsys, "--explain", "STB999")
    assert code == 2 and out == "" and "STB999" in err


def test_version(capsys):
    from stablelint import __version__

    with pytest.raises(SystemExit) as raised:
        cli.main(["--version"])
    assert raised.value.code == 0
    assert capsys.readouterr().out.strip() == f"stablelint {__version__}"


def test_console_script_and_module_agree(project):
    (project / "model.py").write_text(UNSTABLE)
    script = shutil.which("stablelint")
    if script is None:
        pytest.skip("stablelint is not installed (pip install -e .)")
    by_script = subprocess.run([script, "check", "model.py"], cwd=project, capture_output=True, text=True)
    by_module = stablelint("check", "model.py", cwd=project)
    assert by_script.returncode == by_module.returncode == 1
    assert by_script.stdout == by_module.stdout.decode()
