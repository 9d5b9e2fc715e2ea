"""Walks fixtures/: inline expectations (bugbear style) and expected fixed output.

``fixtures/<CODE>/<name>.py``: every line that must be reported ends with
``# STB101: 12`` (code and 1-based column; several separated by commas); every other
line must be silent. ``<name>.py.fixed`` is the expected output of ``--fix``;
``<name>.py.unsafe-fixed`` the one of ``--fix --unsafe-fixes`` where it differs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from stablelint.engine import check_source, fix_source
from stablelint.noqa import filter_noqa

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MARKER = re.compile(r"#\s*(STB\d{3}:\s*\d+(?:\s*,\s*STB\d{3}:\s*\d+)*)\s*$")
FILES = sorted(FIXTURES.rglob("*.py"))


def expected_findings(source: str) -> set[tuple[int, str, int]]:
    expected = set()
    for number, line in enumerate(source.splitlines(), start=1):
        match = MARKER.search(line)
        if match:
            for item in match.group(1).split(","):
                code, column = item.split(":")
                expected.add((number, code.strip(), int(column)))
    return expected


def reported(source: str, path: Path):
    return filter_noqa(source, check_source(source, str(path)))


def test_there_are_fixtures_for_every_rule():
    from stablelint.rules import ALL_RULES

    for rule in ALL_RULES:
        folder = FIXTURES / rule.code
        assert any(folder.glob("*.py")), f"no fixtures for {rule.code}"
        assert any(folder.glob("*.py.fixed")) or any(folder.glob("*.py.unsafe-fixed")), f"no fix fixture for {rule.code}"


@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(FIXTURES)))
def test_findings_match_the_markers(path):
    source = path.read_text(encoding="utf-8")
    found = {(d.line, d.code, d.col) for d in reported(source, path)}
    expected = expected_findings(source)
    assert sorted(found - expected) == [], "reported but not marked"
    assert sorted(expected - found) == [], "marked but not reported"


FIXED = sorted(FIXTURES.rglob("*.py.fixed")) + sorted(FIXTURES.rglob("*.py.unsafe-fixed"))


@pytest.mark.parametrize("expected_path", FIXED, ids=lambda path: str(path.relative_to(FIXTURES)))
def test_fix_output_matches(expected_path):
    unsafe = expected_path.name.endswith(".unsafe-fixed")
    source_path = expected_path.with_name(expected_path.name.rsplit(".", 1)[0])
    source = source_path.read_text(encoding="utf-8")
    outcome = fix_source(source, str(source_path), keep=filter_noqa, unsafe=unsafe)
    assert outcome.source == expected_path.read_text(encoding="utf-8")
    ast.parse(outcome.source)
    again = fix_source(outcome.source, str(source_path), keep=filter_noqa, unsafe=unsafe)
    assert again.applied == 0, "fixing twice changed the file again"
