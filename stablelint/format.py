"""How findings are printed: flake8's text lines (ruff's ``concise``), ruff's ``full``
with the source underlined, ruff's JSON, GitHub workflow commands, statistics, diffs.
SARIF is in `stablelint.sarif`."""

from __future__ import annotations

import bisect
import io
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from stablelint import rule_url
from stablelint.config import OPT_IN_PREFIXES
from stablelint.diagnostics import Diagnostic, Edit, Fix
from stablelint.noqa import NoqaIndex

if TYPE_CHECKING:
    from stablelint.notebook import Cells

# ``text`` and ``concise`` are the same lines (``text`` was the first name).
FORMATS = ("text", "concise", "full", "json", "github", "sarif")


@dataclass
class FileReport:
    """One checked file: its text (to turn fix offsets into rows and columns) and the
    findings that are reported."""

    path: str
    source: str
    diagnostics: list[Diagnostic]
    cells: Cells | None = None  # a notebook: `source` is its code cells joined, the findings are in cells


def fixable(diagnostic: Diagnostic, unsafe: bool) -> bool:
    """Would ``--fix`` (with ``--unsafe-fixes`` if ``unsafe``) fix it? Those are marked ``[*]``."""
    return diagnostic.fix is not None and (unsafe or diagnostic.fix.safety == "safe")


def text_line(diagnostic: Diagnostic, *, marked: bool = False) -> str:
    """flake8's line, as `flake8 --select STB` prints it, with ruff's ``[*]`` before the
    message of a finding ``--fix`` would fix (``marked``); in a notebook, ruff's position:
    ``nb.ipynb:cell 3:2:5: STB101 ...``."""
    mark = "[*] " if marked else ""
    cell = f"cell {diagnostic.cell}:" if diagnostic.cell is not None else ""
    return (
        f"{diagnostic.path}:{cell}{diagnostic.line}:{diagnostic.col}: {diagnostic.code} {mark}{diagnostic.message}"
    )


def text_report(reports: Iterable[FileReport], *, unsafe: bool = False) -> str:
    return "".join(
        text_line(d, marked=fixable(d, unsafe)) + "\n" for report in reports for d in report.diagnostics
    )


def level(code: str) -> str:
    """``error`` for the default rules; ``warning`` for the opt-in families, whose
    precision is not yet that of the default set (GitHub annotations, SARIF)."""
    return "warning" if code.startswith(OPT_IN_PREFIXES) else "error"


def fix_message(diagnostic: Diagnostic) -> str | None:
    """What the fix does, in a few words (ruff's fix title): the replacement when it is
    short, otherwise the rule's own advice (the ``use ...`` of its message)."""
    fix = diagnostic.fix
    if fix is None:
        return None
    if fix.description:
        return fix.description
    if len(fix.edits) == 1:
        content = fix.edits[0].content
        if content and "\n" not in content and len(content) <= 80:
            return f"Replace with `{content}`"
    advice = diagnostic.message.partition("; use ")[2].partition(" (")[0]
    return f"Use {advice}" if advice else "Rewrite into the stable form"


# -- ruff's `--output-format full`: the lines with the finding underlined


_CONTEXT = 2  # lines shown before and after the finding
_SHOWN_LINES = 8  # of a finding that spans more lines, the first ones


def full_report(reports: Iterable[FileReport], *, unsafe: bool = False) -> str:
    out = []
    for report in reports:
        lines = io.StringIO(report.source.removeprefix("\ufeff"), newline="").read().splitlines()
        for diagnostic in report.diagnostics:
            shown = lines
            if report.cells is not None and diagnostic.cell in report.cells.numbers:
                # a notebook's findings are placed in their cell: show the cell's lines
                shown = report.cells.texts[report.cells.numbers.index(diagnostic.cell)].splitlines()
            out.append(_full_entry(diagnostic, shown, fixable(diagnostic, unsafe)))
    return "".join(out)


def _cell(diagnostic: Diagnostic) -> str:
    return f"cell {diagnostic.cell}:" if diagnostic.cell is not None else ""


def _full_entry(diagnostic: Diagnostic, lines: list[str], marked: bool) -> str:
    first = diagnostic.line
    last = max(first, min(diagnostic.end_line, first + _SHOWN_LINES - 1, len(lines)))
    before = max(1, first - _CONTEXT)
    while before < first and not lines[before - 1].strip():
        before += 1
    after = min(len(lines), last + _CONTEXT)
    while after > last and not lines[after - 1].strip():
        after -= 1
    width = len(str(after))
    gutter = " " * width + " |"
    mark = "[*] " if marked else ""
    out = [
        f"{diagnostic.code} {mark}{diagnostic.message}",
        f"{' ' * width}--> {diagnostic.path}:{_cell(diagnostic)}{first}:{diagnostic.col}",
        gutter,
    ]
    for row in range(before, after + 1):
        text = lines[row - 1] if row <= len(lines) else ""
        out.append(f"{row:>{width}} | {text}".rstrip())
        if first <= row <= last:
            start = diagnostic.col - 1 if row == first else len(text) - len(text.lstrip())
            end = diagnostic.end_col - 1 if row == diagnostic.end_line else len(text.rstrip())
            # Tabs stay tabs under the line, so the carets stand under the finding.
            padding = "".join(char if char == "\t" else " " for char in text[:start])
            out.append(f"{gutter} {padding}{'^' * max(1, end - start)}")
    if last < diagnostic.end_line:
        out.append(f"{gutter} ... (to line {diagnostic.end_line})")
    out.append(gutter)
    if diagnostic.evidence is not None:
        out.append(f"evidence: {diagnostic.evidence.text()}")
    message = fix_message(diagnostic)
    if message:
        unsafe_note = " (unsafe: with `--unsafe-fixes`)" if diagnostic.fix.safety == "unsafe" else ""
        out.append(f"help: {message}{unsafe_note}")
    return "\n".join(out) + "\n\n"


# -- GitHub Actions workflow commands (one annotation per finding)


def file_region(report: FileReport, diagnostic: Diagnostic) -> tuple[int, int, int, int]:
    """(line, column, end line, end column) of the finding in the file itself: for a
    notebook, where the ``.ipynb`` file holds that code (the cell is named in the message);
    an end that cannot be placed is the start's line."""
    d = diagnostic
    if report.cells is None or d.cell is None:
        return d.line, d.col, d.end_line, d.end_col
    start = report.cells.file_position(d.cell, d.line, d.col)
    if start is None:  # not expected: the cells came from this text
        return d.line, d.col, d.end_line, d.end_col
    end = report.cells.file_position(d.cell, d.end_line, d.end_col) or start
    return (*start, *end)


def github_report(reports: Iterable[FileReport]) -> str:
    out = []
    for report in reports:
        for d in report.diagnostics:
            line, col, end_line, end_col = file_region(report, d)
            properties = ",".join(
                f"{key}={_escape_property(str(value))}"
                for key, value in (
                    ("title", f"stablelint ({d.code})"), ("file", _workspace_path(d.path)), ("line", line),
                    ("col", col), ("endLine", end_line), ("endColumn", end_col),
                )
            )
            text = f"{d.path}:{_cell(d)}{d.line}:{d.col}: {d.code} {d.message}"
            help_text = fix_message(d)
            if help_text:
                text += f"\n  help: {help_text}"
            out.append(f"::{level(d.code)} {properties}::{_escape_data(text)}\n")
    return "".join(out)


def _workspace_path(path: str) -> str:
    """GitHub resolves an annotation's file against the checkout: a path below the current
    directory is given relative to it (``./a.py`` as ``a.py``), as the workflow runs there."""
    relative = os.path.relpath(path)
    return (path if relative.startswith("..") else relative).replace(os.sep, "/")


def _escape_data(text: str) -> str:
    # The escapes of @actions/core's `escapeData`.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


# -- `--show-fixes`


def fixes_applied(fixed: list[tuple[str, Iterable[str]]], *, would: bool = False) -> str:
    """ruff's list after ``--fix --show-fixes``: per file, how many of each code were fixed.
    ``fixed`` is (path, codes of the applied fixes)."""
    counted = [(path, Counter(codes)) for path, codes in fixed]
    counted = [(path, counts) for path, counts in counted if counts]
    if not counted:
        return ""
    names = _rule_names()
    total = sum(sum(counts.values()) for _, counts in counted)
    out = [f"{'Would fix' if would else 'Fixed'} {total} error{'s' if total != 1 else ''}:"]
    for path, counts in counted:
        out.append(f"- {path}:")
        out += [f"    {counts[code]} × {code} ({names.get(code, code)})" for code in sorted(counts)]
    return "\n".join(out) + "\n"


def fixes_available(reports: Iterable[FileReport], *, unsafe: bool = False) -> str:
    """``--show-fixes`` without ``--fix``: each finding that has a fix, and what it does."""
    out = []
    count = 0
    for report in reports:
        entries = []
        for d in report.diagnostics:
            if d.fix is None:
                continue
            count += 1
            note = "" if fixable(d, unsafe) else " (unsafe: with `--unsafe-fixes`)"
            mark = "[*] " if fixable(d, unsafe) else ""
            entries.append(f"    {d.line}:{d.col} {d.code} {mark}{fix_message(d)}{note}")
        if entries:
            out += [f"- {report.path}:", *entries]
    if not count:
        return ""
    return f"Fixes available for {count} error{'s' if count != 1 else ''}:\n" + "\n".join(out) + "\n"


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
                    "evidence": diagnostic.evidence.to_dict() if diagnostic.evidence else None,
                    "filename": filename,
                    "fix": _json_fix(diagnostic, report.source, positions),
                    "location": {"row": diagnostic.line, "column": diagnostic.col},
                    "message": diagnostic.message,
                    "name": names.get(diagnostic.code),
                    "noqa_row": _noqa_row(noqa, diagnostic, report.cells),
                    "severity": level(diagnostic.code),
                    "url": rule_url(diagnostic.code) if diagnostic.code in names else None,
                }
            )
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def _noqa_row(noqa: NoqaIndex, diagnostic: Diagnostic, cells: Cells | None) -> int:
    if cells is None or diagnostic.cell is None:
        return noqa.noqa_row(diagnostic.line)
    return cells.locate(noqa.noqa_row(cells.code_line(diagnostic.cell, diagnostic.line)))[1]


def _json_fix(diagnostic: Diagnostic, source: str, positions: Positions) -> dict | None:
    fix = diagnostic.fix
    if fix is None:
        return None
    return {
        "applicability": fix.safety,
        "edits": [
            {
                "content": edit.content,
                "end_location": positions.location(edit.end),
                "location": positions.location(edit.start),
            }
            for edit in fix_edits(fix, source)
        ],
        "message": fix_message(diagnostic),
    }


def fix_edits(fix: Fix, source: str) -> list[Edit]:
    """The fix's edits on the original text, in order, with the insertion of its imports."""
    edits = sorted(fix.edits, key=lambda edit: edit.start)
    if fix.imports:
        edits = sorted([*edits, *_import_edits(source, fix, edits)], key=lambda edit: edit.start)
    return sorted([*edits, *_dead_code_edits(source, fix)], key=lambda edit: edit.start)


def _dead_code_edits(source: str, fix: Fix) -> list[Edit]:
    """The deletions of what the fix leaves unused (``--fix`` makes them too), as edits on
    the original text; none where one would touch the fix's own edits."""
    from stablelint.dead_assignments import fix_dead_code_edits
    from stablelint.fixes import apply_fixes

    without, _ = apply_fixes(source, [fix])
    own = sorted(fix.edits, key=lambda edit: edit.start)
    if fix.imports:
        own = sorted([*own, *_import_edits(source, fix, own)], key=lambda edit: edit.start)
        without, _ = apply_fixes(source, [Fix(fix.safety, tuple(own))])
    deletions = []
    changes = [(edit.start, edit.end, edit.content) for edit in own]
    for start, end, content in fix_dead_code_edits(source, without, changes):
        shift = 0  # how much longer `without` is than `source` before this span
        for edit in own:
            edited_start = edit.start + shift
            if edited_start >= end:
                break
            if edited_start + len(edit.content) > start:
                return []
            shift += len(edit.content) - (edit.end - edit.start)
        deletions.append(Edit(start - shift, end - shift, content))
    return deletions


def _import_edits(source: str, fix: Fix, edits: list[Edit]) -> list[Edit]:
    """The insertion the fix's imports make, as an edit on the original text: the fix
    applied with and without them differs in one place, nearly always above the edits."""
    from stablelint.fixes import apply_fixes, insert_imports, missing_imports

    missing = missing_imports(source, set(fix.imports))  # a fix never edits the imports
    if not missing:
        return []
    without, _ = apply_fixes(source, [fix])
    try:
        with_imports = insert_imports(without, missing)
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


def statistics_text(rows: list[tuple[int, str, str]], fixable: Counter[str] | None = None) -> str:
    """ruff's ``--statistics`` lines, most frequent first: the count, the code, ``[*]``
    where ``--fix`` fixes some of them (``[ ]`` where it fixes none, when any is
    fixable), and the rule's name (``3\tSTB101\t[*] log-of-softmax``)."""
    fixable = fixable or Counter()
    names = _rule_names()
    ordered = sorted(rows, key=lambda row: (-row[0], row[1]))
    count_width = max((len(str(count)) for count, _, _ in ordered), default=0)
    code_width = max((len(code) for _, code, _ in ordered), default=0)
    any_fixable = any(fixable[code] for _, code, _ in ordered)
    lines = []
    for count, code, message in ordered:
        mark = ("[*] " if fixable[code] else "[ ] ") if any_fixable else ""
        lines.append(f"{count:>{count_width}}\t{code:<{code_width}}\t{mark}{names.get(code) or message}\n")
    return "".join(lines)


def statistics_json(rows: list[tuple[int, str, str]], fixable: Counter[str]) -> str:
    names = _rule_names()
    items = [
        {
            "code": code, "name": names.get(code), "message": message, "count": count,
            "fixable": fixable[code] > 0, "fixable_count": fixable[code],
        }
        for count, code, message in rows
    ]
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


_ANSI = {"bold": "\x1b[1m", "red": "\x1b[1;31m", "cyan": "\x1b[36m", "reset": "\x1b[0m"}
_TEXT_LINE = re.compile(r"^(?P<path>.+?):(?P<where>(?:cell \d+:)?\d+:\d+): (?P<code>[A-Z]+\d+) (?P<fix>\[\*\] )?")


def coloured_lines(text: str) -> str:
    """The text findings coloured as ruff colours them: the path bold, the code bold red,
    ``[*]`` cyan."""
    out = []
    for line in text.splitlines(keepends=True):
        match = _TEXT_LINE.match(line)
        if match is None:
            out.append(line)
            continue
        fix = f"{_ANSI['cyan']}[*]{_ANSI['reset']} " if match.group("fix") else ""
        out.append(
            f"{_ANSI['bold']}{match.group('path')}{_ANSI['reset']}{_ANSI['cyan']}:{_ANSI['reset']}"
            f"{match.group('where')}{_ANSI['cyan']}:{_ANSI['reset']} "
            f"{_ANSI['red']}{match.group('code')}{_ANSI['reset']} "
            f"{fix}{line[match.end():]}"
        )
    return "".join(out)


# -- diffs


def unified_diff(path: str, before: str, after: str) -> str:
    """``--diff``: a unified diff that `patch -p0`/`git apply` understand, even for a
    last line without a line break."""
    before_lines = io.StringIO(before, newline="").readlines()
    after_lines = io.StringIO(after, newline="").readlines()
    out = []
    import difflib  # --diff only

    for line in difflib.unified_diff(before_lines, after_lines, fromfile=path, tofile=path):
        out.append(line)
        if not line.endswith(("\n", "\r")):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)
