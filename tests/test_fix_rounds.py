"""How fixes are combined: which overlap, how many rounds a file takes, what a broken fix
costs, and that nesting converges (so a second ``--fix`` changes nothing).

No timing here (see benchmarks/fix_scaling.py): the work is counted instead.
"""

from __future__ import annotations

import math
import random
import subprocess
import sys

import pytest

from stablelint import engine, fixes
from stablelint.diagnostics import Edit, Fix


def pairwise_apply(source: str, fix_list: list[Fix]) -> tuple[str, list[Fix]]:
    """The definition apply_fixes must keep: a fix is skipped when one of its edits
    overlaps an edit of a fix taken before it (``start < other_end and other_start < end``)."""
    applied, taken = [], []
    for fix in sorted(fix_list, key=lambda fix: min(edit.start for edit in fix.edits)):
        spans = [(edit.start, edit.end) for edit in fix.edits]
        if any(start < end_taken and start_taken < end for start, end in spans for start_taken, end_taken in taken):
            continue
        applied.append(fix)
        taken.extend(spans)
    edits = sorted((edit for fix in applied for edit in fix.edits), key=lambda edit: edit.start)
    pieces, cursor = [], 0
    for edit in edits:
        pieces += [source[cursor:edit.start], edit.content]
        cursor = edit.end
    return "".join(pieces) + source[cursor:], applied


def random_fixes(generator: random.Random, length: int, count: int) -> list[Fix]:
    found = []
    for index in range(count):
        edits = []
        for _ in range(generator.choice((1, 1, 1, 2))):
            start = generator.randrange(length + 1)
            end = start if generator.random() < 0.2 else min(length, start + generator.randrange(1, 12))
            edits.append(Edit(start, end, f"<{index}>"))
        found.append(Fix("safe", tuple(edits)))
    return found


@pytest.mark.parametrize("seed", range(40))
def test_apply_fixes_takes_the_same_fixes_as_the_pairwise_definition(seed):
    generator = random.Random(seed)
    source = "".join(generator.choice("ab\n ") for _ in range(120))
    fix_list = random_fixes(generator, len(source), generator.randrange(1, 60))
    assert fixes.apply_fixes(source, fix_list) == pairwise_apply(source, fix_list)


CALL = "torch.log(1 + x)"


def calls_on_lines(count: int) -> tuple[str, list[int]]:
    """``y0 = torch.log(1 + x)`` … one per line, and where each call starts."""
    lines = [f"y{index} = " for index in range(count)]
    starts, offset = [], 0
    for line in lines:
        starts.append(offset + len(line))
        offset += len(line) + len(CALL) + 1
    return "".join(f"{line}{CALL}\n" for line in lines), starts


class CountingList(list):
    """A list that counts the elements read from it (bisect reads through __getitem__)."""

    reads = 0

    def __getitem__(self, index):
        CountingList.reads += 1
        return super().__getitem__(index)


class CountingSpans(fixes._TakenSpans):
    def __init__(self) -> None:
        self.starts, self.ends, self.points = CountingList(), CountingList(), CountingList()


def spans_read(monkeypatch, count: int) -> int:
    """Span reads of apply_fixes for ``count`` one-edit fixes, one per line, plus one
    insertion each (as an added import would be)."""
    monkeypatch.setattr(fixes, "_TakenSpans", CountingSpans)
    CountingList.reads = 0
    source, starts = calls_on_lines(count)
    fix_list = []
    for start in starts:
        fix_list.append(Fix("safe", (Edit(start, start + len(CALL), "torch.log1p(x)"),)))
        fix_list.append(Fix("safe", (Edit(start, start, ""),)))
    text, applied = fixes.apply_fixes(source, fix_list)
    assert len(applied) == 2 * count and text.count("torch.log1p(x)") == count
    return CountingList.reads


def test_the_overlap_check_reads_a_logarithmic_number_of_spans_per_fix(monkeypatch):
    # The old check compared each fix with every fix taken before it: n²/2 reads.
    for count in (1000, 4000):
        reads = spans_read(monkeypatch, count)
        assert reads <= 2 * count * (4 * math.log2(2 * count) + 4), (count, reads)
    small, large = spans_read(monkeypatch, 2000), spans_read(monkeypatch, 8000)
    assert large < 5 * small  # n log n: four times the fixes, a little over four times the reads


def many_fixes_source(count: int) -> str:
    return "import torch\n\n\ndef f(x):\n" + "".join(f"    y{i} = torch.log(1 + x.tanh() * {i + 1} / 1e7)\n" for i in range(count))


def test_independent_fixes_are_applied_in_one_round(monkeypatch):
    checks = []
    real_check_source = engine.check_source

    def counting_check_source(source, path="<stdin>", **kwargs):
        checks.append(path)
        return real_check_source(source, path, **kwargs)

    monkeypatch.setattr(engine, "check_source", counting_check_source)
    outcome = engine.fix_source(many_fixes_source(500), "many.py")
    assert outcome.applied == 500 and outcome.remaining == []
    assert len(checks) == 2  # the round, and the check that finds nothing left


def test_a_fix_that_breaks_the_code_is_found_by_halving_and_the_others_are_kept(monkeypatch):
    count = 1024
    source, starts = calls_on_lines(count)
    fix_list = []
    for index, start in enumerate(starts):
        content = "torch.log1p(x" if index == 700 else "torch.log1p(x)"  # a rule's bug: unbalanced
        fix_list.append(Fix("safe", (Edit(start, start + len(CALL), content),)))
    parses = []
    real_parses = engine._parses
    monkeypatch.setattr(engine, "_parses", lambda text: parses.append(1) or real_parses(text))
    fixed, applied = engine._apply_verified(source, fix_list)
    assert len(applied) == count - 1 and fixed.count("torch.log1p(x)") == count - 1
    assert "y700 = torch.log(1 + x)" in fixed
    # One bad fix: a parse per level of halving on its side, two per level plus the
    # unions: about 2 log2(n), where trying them one by one parsed the file n times.
    assert len(parses) <= 3 * math.log2(count) + 4, len(parses)


def nested(depth: int) -> str:
    expression = "x.tanh() / 1e5"  # proven small: the digits lost next to 1 are a claim
    for _ in range(depth):
        expression = f"torch.log(1 + {expression})"
    return f"import torch\n\n\ndef f(x):\n    return {expression}\n"


def test_nested_fixes_converge_so_a_second_fix_changes_nothing(tmp_path):
    # Each round fixes the outermost log of a chain (the inner ones overlap it): 30
    # levels take 30 rounds, where the engine used to stop after 10.
    script = tmp_path / "nested.py"
    script.write_text(nested(30))
    command = [sys.executable, "-m", "stablelint", "--isolated", "--fix", "nested.py"]
    first = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "0 remaining" in first.stderr and "torch.log1p(torch.log1p(" in script.read_text()
    fixed_once = script.read_bytes()
    second = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (second.returncode, second.stdout, second.stderr) == (0, "", "All checks passed!\n")
    assert script.read_bytes() == fixed_once


def test_fixes_that_undo_each_other_stop_instead_of_looping(monkeypatch):
    # A (buggy) pair of rules that swap two spellings forever: the seen-text check ends it.
    from stablelint.diagnostics import Diagnostic

    def flip_flop(source, path="<stdin>", **kwargs):
        old, new = ("a", "b") if "a" in source else ("b", "a")
        start = source.index(old)
        fix = Fix("safe", (Edit(start, start + 1, new),))
        return [Diagnostic(path, 1, start + 1, 1, start + 2, "STB999", "flip", fix)]

    monkeypatch.setattr(engine, "check_source", flip_flop)
    outcome = engine.fix_source("a\n", "flip.py")
    assert outcome.source in ("a\n", "b\n") and outcome.applied <= 2
