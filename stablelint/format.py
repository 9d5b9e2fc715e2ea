"""How findings are printed: flake8's text lines, ruff's JSON, statistics, diffs."""

from __future__ import annotations

import bisect
import difflib
import io
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from stablelint.diagnostics import Diagnostic, Edit, Fix
from stablelint.noqa import NoqaIndex

if TYPE_CHECKING:
    from stablelint.notebook import Cells

FORMATS = ("text", "json")


@dataclass
class FileReport:
    """One checked file: its text (to turn fix offsets into rows and columns) and the
    findings that are reported."""

    path: str
    source: str
    diagnostics: list[Diagnostic]
    cells: Cells | None = None  # a notebook: `source` is its code cells joined, the findings are in cells


def text_line(diagnostic: Diagnostic) -> str:
    """Exactly flake8's line, so `stablelint` and `flake8 --select STB` print the same; in a
    notebook, ruff's: ``nb.ipynb:cell 3:2:5: STB101 ...``."""
    cell = f"cell {diagnostic.cell}:" if diagnostic.cell is not None else ""
    return f"{diagnostic.path}:{cell}{diagnostic.line}:{diagnostic.col}: {diagnostic.code} {diagnostic.message}"


def text_report(reports: Iterable[FileReport]) -> str:
    return "".join(text_line(d) + "\n" for report in reports for d in report.diagnostics)


# -- JSON (ruff's `--output-format json`)


class Positions:
    """Character offsets -> 1-based (row, column), with the line breaks Python counts."""

    _BREAK = re.compile(r"\r\n|\r|\n")

    def __init__(self, source: str, cells: Cells | None = None):
        self.line_starts = [0] + [match.end() for match in self._BREAK.finditer(source)]
        self.cells = cells

    def location(self, offset: int) -> dict[str, int]:
        row = bisect.bisect_right(self.line_starts, offset)
        column = offset - self.line_starts[row - 1] + 1
        return {"row": self.cells.locate(row)[1] if self.cells else row, "column": column}


def _rule_names() -> dict[str, str]:
    try:
        from stablelint.rules import ALL_RULES
    except ImportError:  # pragma: no cover - while the registry is being written
        return {}
    return {rule.code: rule.name for rule in ALL_RULES}


def json_report(reports: Iterable[FileReport]) -> str:
    names = _rule_names()
    items = []
    for report in reports:
        if not report.diagnostics:
            continue
        positions = Positions(report.source, report.cells)
        noqa = NoqaIndex(report.source)
        filename = os.path.abspath(report.path) if report.path != "stdin" else report.path
        for diagnostic in report.diagnostics:
            items.append(
                {
                    "cell": diagnostic.cell,
                    "code": diagnostic.code,
                    "end_location": {"row": diagnostic.end_line, "column": diagnostic.end_col},
                    "filename": filename,
                    "fix": _json_fix(diagnostic.fix, report.source, positions),
                    "location": {"row": diagnostic.line, "column": diagnostic.col},
                    "message": diagnostic.message,
                    "name": names.get(diagnostic.code),
                    "noqa_row": _noqa_row(noqa, diagnostic, report.cells),
                    "url": None,
                }
            )
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def _noqa_row(noqa: NoqaIndex, diagnostic: Diagnostic, cells: Cells | None) -> int:
    if cells is None or diagnostic.cell is None:
        return noqa.noqa_row(diagnostic.line)
    return cells.locate(noqa.noqa_row(cells.code_line(diagnostic.cell, diagnostic.line)))[1]


def _json_fix(fix: Fix | None, source: str, positions: Positions) -> dict | None:
    if fix is None:
        return None
    edits = sorted(fix.edits, key=lambda edit: edit.start)
    if fix.imports:
        edits = sorted([*edits, *_import_edits(source, fix, edits)], key=lambda edit: edit.start)
    return {
        "applicability": fix.safety,
        "edits": [
            {
                "content": edit.content,
                "end_location": positions.location(edit.end),
                "location": positions.location(edit.start),
            }
            for edit in edits
        ],
        "message": fix.description or None,
    }


def _import_edits(source: str, fix: Fix, edits: list[Edit]) -> list[Edit]:
    """The insertion the fix's imports make, as an edit on the original text: the fix
    applied with and without them differs in one place, nearly always above the edits."""
    from stablelint.fixes import add_imports, apply_fixes

    without, _ = apply_fixes(source, [fix])
    try:
        with_imports = add_imports(without, set(fix.imports))
    except Exception:
        return []
    if with_imports == without:
        return []
    start = 0
    while start < min(len(without), len(with_imports)) and without[start] == with_imports[start]:
        start += 1
    end_without, end_with = len(without), len(with_imports)
    while end_without > start and end_with > start and without[end_without - 1] == with_imports[end_with - 1]:
        end_without, end_with = end_without - 1, end_with - 1
    # Map the changed span of `without` back onto `source`, across the fix's own edits.
    shift = 0  # how much longer `without` is than `source` before the current edit
    for edit in edits:
        start_in_without = edit.start + shift
        if start_in_without >= end_without:
            break
        if start_in_without + len(edit.content) > start:
            return []  # the imports touch the fix's own text: no separate edit to give
        shift += len(edit.content) - (edit.end - edit.start)
    return [Edit(start - shift, end_without - shift, with_imports[start:end_with])]


# -- statistics


def statistics(diagnostics: Iterable[Diagnostic]) -> list[tuple[int, str, str]]:
    """(count, code, message) per code, sorted by code; the message is the rule's own
    (a finding's may add which line a name is defined on)."""
    counts: Counter[str] = Counter()
    first_message: dict[str, str] = {}
    for diagnostic in diagnostics:
        counts[diagnostic.code] += 1
        first_message.setdefault(diagnostic.code, diagnostic.message)
    messages = _rule_messages()
    return [(counts[code], code, messages.get(code, first_message[code])) for code in sorted(counts)]


def _rule_messages() -> dict[str, str]:
    try:
        from stablelint.rules import ALL_RULES
    except ImportError:  # pragma: no cover
        return {}
    return {rule.code: rule.message for rule in ALL_RULES}


def statistics_text(rows: list[tuple[int, str, str]]) -> str:
    """flake8's ``--statistics`` lines: ``3     STB101 message``."""
    return "".join(f"{count:<5} {code} {message}\n" for count, code, message in rows)


def statistics_json(rows: list[tuple[int, str, str]], fixable: Counter[str]) -> str:
    names = _rule_names()
    items = [
        {"code": code, "name": names.get(code), "message": message, "count": count, "fixable": fixable[code] > 0}
        for count, code, message in rows
    ]
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


# -- diffs


def unified_diff(path: str, before: str, after: str) -> str:
    """``--diff``: a unified diff that `patch -p0`/`git apply` understand, even for a
    last line without a line break."""
    before_lines = io.StringIO(before, newline="").readlines()
    after_lines = io.StringIO(after, newline="").readlines()
    out = []
    for line in difflib.unified_diff(before_lines, after_lines, fromfile=path, tofile=path):
        out.append(line)
        if not line.endswith(("\n", "\r")):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)
