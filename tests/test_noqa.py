"""# noqa as flake8 reads it: the comment forms, the lines it covers, and flake8 itself."""

from __future__ import annotations

import subprocess
import sys
import tokenize

import pytest

from stablelint.diagnostics import Diagnostic
from stablelint.noqa import NoqaIndex, filter_noqa, silences


def finding(line: int, code: str = "STB101") -> Diagnostic:
    return Diagnostic("x.py", line, 1, line, 2, code, "message")


@pytest.mark.parametrize(
    "comment, code, expected",
    [
        ("x = 1  # noqa", "STB101", True),
        ("x = 1  # NOQA", "STB101", True),
        ("x = 1  # NoQa", "STB101", True),
        ("x = 1  # noqa: STB101", "STB101", True),
        ("x = 1  # noqa:STB101", "STB101", True),
        ("x = 1  # noqa: STB102", "STB101", False),
        ("x = 1  # noqa: STB102,STB101", "STB101", True),
        ("x = 1  # noqa: STB102, STB101", "STB101", True),
        ("x = 1  # noqa: STB102 STB101", "STB101", True),
        ("x = 1  # noqa: STB102,,STB101", "STB101", True),
        ("x = 1  # NOQA:STB1", "STB101", True),  # a prefix silences the codes under it
        ("x = 1  # noqa: STB10", "STB101", True),
        ("x = 1  # noqa: E501,STB101  explanation", "STB101", True),
        ("x = 1  # type: ignore  # noqa: STB101", "STB101", True),
        # flake8's quirks, kept on purpose:
        ("x = 1  #noqa", "STB101", False),  # needs "# noqa"
        ("x = 1  # noqa:stb101", "STB101", False),  # regex matches, codes compare case-sensitively
        ("x = 1  # noqa : STB102", "STB101", True),  # no code list right after the colon: blanket
        ("x = 1  # noqa:  STB102", "STB101", True),  # two spaces: blanket too
        ("x = 1  # noqa: E501,STB", "STB101", False),  # `STB` alone is not a code to the regex
        ("x = 1", "STB101", False),
    ],
)
def test_comment_forms(comment, code, expected):
    assert silences(comment, code) is expected


def test_noqa_inside_a_multiline_string_covers_the_whole_string():
    source = 'a = f(x); b = """\ntext  # noqa\n"""\nc = f(x)\n'
    kept = filter_noqa(source, [finding(1), finding(4)])
    assert [d.line for d in kept] == [4]


def test_backslash_continuation_is_one_range():
    source = "a = f(x) + \\\n    g(x)  # noqa: STB101\nb = 1\n"
    assert filter_noqa(source, [finding(1), finding(2), finding(3)]) == [finding(3)]


def test_line_break_inside_brackets_ends_the_range_as_in_flake8():
    source = "a = f(\n    x)  # noqa: STB101\nb = f(  # noqa: STB101\n    x)\n"
    kept = filter_noqa(source, [finding(1), finding(3)])
    assert [d.line for d in kept] == [1]


def test_crlf_and_lone_cr_line_endings():
    source = "a = 1\r\nb = f(x)  # noqa\r\nc = f(x)\rd = f(x)  # noqa\r"
    kept = filter_noqa(source, [finding(2), finding(3), finding(4)])
    assert [d.line for d in kept] == [3]


def test_file_level_flake8_noqa_skips_the_file():
    assert filter_noqa("# flake8: noqa\nx = f(x)\n", [finding(2)]) == []
    # Not at the start of a line: only an ordinary (blanket) noqa for that line.
    assert filter_noqa("x = 1  # flake8: noqa\ny = f(x)\n", [finding(2)]) == [finding(2)]


def test_byte_order_mark_is_not_part_of_the_first_line():
    assert filter_noqa("\ufeff# flake8: noqa\nx = f(x)\n", [finding(2)]) == []


def test_untokenizable_source_falls_back_to_the_physical_line():
    source = 'a = f(x)  # noqa\nb = """never closed\nc = f(x)  # noqa\n'
    index = NoqaIndex(source)
    assert index.silenced(finding(1)) and index.silenced(finding(3))
    assert not index.silenced(finding(2))


def test_noqa_row_is_the_last_line_of_the_range():
    index = NoqaIndex('x = 1\ny = """\n\n"""\n')
    assert index.noqa_row(1) == 1
    assert index.noqa_row(2) == 4 and index.noqa_row(3) == 4


def test_ranges_are_read_only_as_far_as_asked_and_the_same_in_any_order(monkeypatch):
    source = 'x = 1\ny = """\n\n"""\nz = (1,\n  2)  # noqa\nw = a + \\\n  b\n' + "v = 2\n" * 1000
    everything = {line: NoqaIndex(source).line_range(line) for line in range(1, 1010)}
    assert everything[2] == everything[4] == (2, 4) and everything[5] == (5, 5) and everything[7] == (7, 8)
    asked = list(range(1012, -1, -1))
    backwards = NoqaIndex(source)
    assert {line: backwards.line_range(line) for line in asked} == {line: everything.get(line, (line, line)) for line in asked}
    lines_read = []
    original = tokenize.generate_tokens

    def counting(readline):
        def counted():
            line = readline()
            lines_read.append(line)
            return line
        return original(counted)

    monkeypatch.setattr(tokenize, "generate_tokens", counting)
    index = NoqaIndex(source)
    assert index.noqa_row(3) == 4 and index.text_for(8) == "w = a + \\\n  b\n"
    assert len(lines_read) < 20  # the 1,000 lines after the findings are not tokenized


def test_files_without_findings_or_without_noqa_are_not_tokenized(monkeypatch):
    def explode(*args, **kwargs):
        raise AssertionError("tokenized")

    monkeypatch.setattr(tokenize, "generate_tokens", explode)
    assert filter_noqa("x = f(  # noqa\n  y)\n", []) == []
    assert filter_noqa("x = f(\n  y)\n", [finding(1)]) == [finding(1)]


# -- the same file through flake8 and through stablelint

SAMPLE = '''\
import torch


def f(x):
    a = torch.log(torch.softmax(
        x, dim=1))  # noqa: STB101
    b = torch.log(torch.softmax(  # noqa: STB101
        x, dim=1))
    c = torch.log(torch.softmax(x, dim=1)); d = """
    text # noqa
    """
    e = torch.log(
        torch.softmax(x, dim=1)
    )
    g = torch.log(torch.softmax(x, dim=1))  # NOQA:STB1
    h = torch.log(torch.softmax(x, dim=1))  # noqa:stb101
    i = torch.log(torch.softmax(x, dim=1))  # noqa : STB102
    j = torch.log(torch.softmax(x, dim=1))  # noqa: STB102 STB101
    k = torch.log(torch.softmax(x, dim=1))  #noqa
    m = torch.log(torch.softmax(x, dim=1))  # noqa: E501,STB
    n = torch.log(torch.softmax(x, dim=1)) + \\
        torch.log(torch.softmax(x, dim=1))  # noqa: STB101
    return torch.log(torch.softmax(x, dim=1)) if x else f"""
    {x} # noqa
    """
'''


def test_stablelint_silences_what_flake8_silences(tmp_path):
    pytest.importorskip("flake8")
    (tmp_path / "sample.py").write_text(SAMPLE, encoding="utf-8")
    flake8 = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "STB", "sample.py"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert flake8.returncode in (0, 1), flake8.stderr
    ours = subprocess.run(
        [sys.executable, "-m", "stablelint", "--isolated", "sample.py"], cwd=tmp_path, capture_output=True, text=True
    )
    assert ours.returncode in (0, 1), ours.stderr
    flake8_lines = sorted(flake8.stdout.splitlines())
    # The same lines, but for ruff's [*] before the message of a finding --fix fixes.
    assert sorted(ours.stdout.replace(" [*] ", " ").splitlines()) == flake8_lines
    # The engine finds one on every assignment; noqa must have removed some, not all.
    reported_lines = {int(line.split(":")[1]) for line in flake8_lines}
    assert reported_lines == {5, 12, 16, 19, 20}
