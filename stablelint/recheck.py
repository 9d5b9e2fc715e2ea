"""Re-checking an edited text (the language server, at every change): only the top-level
functions and classes the edit can reach are walked again; the findings in the others are
reused, moved to where their lines went.

A file's text is its units (top-level ``def`` and ``class`` statements, decorators
included) and its module-level code (every other top-level statement). A unit is walked
again when:

- its text changed (or it is new);
- it is connected to one walked again: one of the two spells a name the other binds (its
  own name, or one it declares ``global``), the way the analysis reaches across a file
  (a helper's return value, the arguments of its callers, a class's instances, bases and
  modules) — followed transitively;
- the lines the engine would walk in it changed (words defined elsewhere in the file make
  lines candidates: ``e = torch.exp(x)`` in one function, ``e - 1`` in another);
- lines moved and one of its findings says a line number.

Anything else is a full check: no previous check, a byte-order mark, module-level code that
changed or that spells a name of a unit walked again, a change of the file-wide switches of
the walk (`engine.Walk.switches`: half precision, imports, the ops visited, names bound to
constants) or of the words whose mere presence anywhere changes facts everywhere
(`FILE_WIDE_WORDS`). The project index is read from disk, where an unsaved edit is not: the
language server drops the previous check when a file is saved.

`tests/test_recheck.py` checks that a re-check finds exactly what a full check finds, over
many random edits of real files.
"""

from __future__ import annotations

import ast
import re
import symtable
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, replace

from stablelint import engine
from stablelint.diagnostics import Diagnostic

_NEWLINE = re.compile(r"\r\n|\r|\n")  # where Python's lines break (not str.splitlines')
_WORD = re.compile(r"[A-Za-z_]\w*")
_SAYS_A_LINE = re.compile(r"\blines? \d|:\d")
# Words whose presence anywhere in a file changes what the analysis says everywhere in it:
# ``autocast`` (regions are looked for only then) and a gradient asked for by the file itself
# (``analysis.gradients``: fresh random draws are leaves no gradient reaches otherwise).
FILE_WIDE_WORDS = ("autocast", "requires_grad", "watch")
_BOM = "\ufeff"
# A syntax tree takes about 150 times its text's size in memory: a very large document's
# is not kept between checks (the next one parses the whole text again).
KEEP_TREE = 1_000_000
_UNIT_KINDS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass
class Piece:
    """A top-level statement: lines ``first`` to ``last`` (1-based, decorators included)."""

    first: int
    last: int
    text: str
    position: int  # in the module's body


@dataclass
class Layout:
    """A text cut into units (top-level defs and classes) and module-level code (the
    other top-level statements)."""

    starts: list[int]  # offset of each line's first character; one more for the end
    units: list[Piece]
    module_code: list[Piece]

    def offset(self, line: int) -> int:
        return self.starts[min(line, len(self.starts)) - 1]


@dataclass(frozen=True)
class Names:
    """The names a piece of code spells (``ast.Name``) and those it binds at module level."""

    spelled: frozenset[str]
    binds: frozenset[str]


@dataclass
class Previous:
    """What a re-check needs of the last check of a document."""

    source: str
    layout: Layout
    switches: tuple
    file_words: tuple[bool, ...]
    walked: tuple[list[int], list[int], list[int]]  # lines, triggered lines, walrus lines
    findings: list[Diagnostic]  # the engine's, before select/ignore and noqa
    names: dict[str, Names]  # unit or statement text -> the names it spells and binds
    tree: ast.Module | None = None  # kept for a text of at most KEEP_TREE characters
    # A first pass (``first=True``) walked only the function edited: these line ranges
    # still hold the earlier findings, moved, until `complete` walks them with ``walk``.
    pending: list[tuple[int, int]] = field(default_factory=list)
    walk: engine.Walk | None = None


def check(
    source: str, path: str, dtype: str | None, previous: Previous | None, *, first: bool = False
) -> tuple[list[Diagnostic], Previous | None]:
    """The engine's findings in ``source`` (as `engine.check_source` gives them), and what
    the next re-check needs. Raises `engine.ParseError` as the engine does.

    ``first``: walk only the functions (methods) the edit is in, keep every other finding
    where its lines went, and leave the rest of what the edit can reach to `complete`
    (the language server publishes in between): the state's ``pending`` says what."""
    if source.startswith(_BOM):
        return engine.check_source(source, path, dtype=dtype), None
    starts = _line_starts(source)
    tree = _reparsed(previous, source, starts) if previous is not None else None
    walk = engine.plan_walk(source, path, tree=tree, dtype=dtype)
    if walk is None:
        return [], None
    layout = _layout(source, walk.tree, starts)
    names = previous.names if previous is not None else {}
    state = Previous(
        source, layout, walk.switches, _file_words(source),
        (walk.lines, walk.triggered.lines, walk.walrus_lines), [], {},
    )
    again = _to_walk(previous, state, names, walk.tree if first else None) if previous is not None else None
    if again is None:
        found = walk.findings()
    else:
        reused, walked_lines, edited = again
        if edited is not None:
            state.pending = _without(walked_lines, edited)
            walked_lines = edited
            if state.pending:
                state.walk = walk
        found = _merged(reused, walk, walked_lines)
    state.findings = found
    state.names = {text: names[text] for text in _texts(layout) if text in names}
    state.tree = walk.tree if len(source) <= KEEP_TREE else None
    return found, state


def complete(state: Previous, parts: int | None = None) -> list[Diagnostic]:
    """The findings of a first pass's text, its pending lines walked: what `check` without
    ``first`` finds. ``state`` becomes the state of a complete check. With ``parts``, only
    that many of the pending ranges are walked (the language server walks one at a time,
    so that a new edit does not wait for the rest)."""
    todo = state.pending if parts is None else state.pending[:parts]
    if todo:
        reused = [finding for finding in state.findings if not _inside(finding.line, todo)]
        state.findings = _merged(reused, state.walk, todo)
    state.pending = state.pending[len(todo):]
    if not state.pending:
        state.walk = None
    return state.findings


def _merged(reused: list[Diagnostic], walk: engine.Walk, walked_lines: list[tuple[int, int]]) -> list[Diagnostic]:
    lines = {line for first, last in walked_lines for line in range(first, last + 1)}
    return sorted(set(reused + (walk.findings(within=lines) if lines else [])), key=Diagnostic.sort_key)


def _inside(line: int, ranges: list[tuple[int, int]]) -> bool:
    return any(first <= line <= last for first, last in ranges)


def _without(ranges: list[tuple[int, int]], taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The lines of ``ranges`` outside ``taken``, as ranges."""
    lines = sorted({line for first, last in ranges for line in range(first, last + 1) if not _inside(line, taken)})
    result: list[tuple[int, int]] = []
    for line in lines:
        if result and result[-1][1] == line - 1:
            result[-1] = (result[-1][0], line)
        else:
            result.append((line, line))
    return result


def _edited_functions(tree: ast.Module, unit: Piece, region: tuple[int, int]) -> tuple[int, int]:
    """The lines a first pass walks in a unit the edit changed: the method the edited lines
    are in, or the whole unit."""
    statement = tree.body[unit.position]
    if isinstance(statement, ast.ClassDef):
        for member in statement.body:
            if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([member.lineno] + [d.lineno for d in member.decorator_list])
                if start <= region[0] and region[1] <= member.end_lineno:
                    return start, member.end_lineno
    return unit.first, unit.last


def _texts(layout: Layout):
    yield from (unit.text for unit in layout.units)
    yield from (statement.text for statement in layout.module_code)


def _names(piece: Piece, cache: dict[str, Names]) -> Names:
    """The module-level names ``piece`` reads (not those its functions bind for
    themselves: ``i`` of a loop is not the module's ``i``) and those it binds there, from
    Python's own symbol tables."""
    found = cache.get(piece.text)
    if found is not None:
        return found
    try:
        top = symtable.symtable(piece.text, "<piece>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        words = _word_set(piece.text)  # every word read and bound: the most that can be
        found = cache[piece.text] = Names(words, words)
        return found
    spelled, binds = set(), set()
    for symbol in top.get_symbols():
        if symbol.is_referenced():
            spelled.add(symbol.get_name())
        if symbol.is_assigned() or symbol.is_imported() or symbol.is_declared_global():
            binds.add(symbol.get_name())
    pending = top.get_children()
    while pending:
        table = pending.pop()
        pending.extend(table.get_children())
        for symbol in table.get_symbols():
            if symbol.is_global():
                spelled.add(symbol.get_name())
                if symbol.is_declared_global():
                    binds.add(symbol.get_name())
    found = cache[piece.text] = Names(frozenset(spelled), frozenset(binds))
    return found


def _file_words(source: str) -> tuple[bool, ...]:
    return tuple(word in source for word in FILE_WIDE_WORDS)


def _line_starts(source: str) -> list[int]:
    starts = [0] + [match.end() for match in _NEWLINE.finditer(source)]
    if starts[-1] != len(source):
        starts.append(len(source))
    return starts


def _reparsed(previous: Previous, source: str, starts: list[int]) -> ast.Module | None:
    """The tree of ``source`` from the previous one, where an edit changed the lines of one
    top-level statement and no line came or went: that statement parsed alone (at its
    lines), the others kept. None where the whole text must be parsed."""
    old = previous.layout
    if previous.tree is None or len(starts) != len(old.starts):
        return None
    if source == previous.source:
        return previous.tree
    lines = len(starts) - 1
    first = _common_lines(previous.source, old, source, starts) + 1
    last = lines - _common_lines(previous.source, old, source, starts, backwards=True, limit=lines - first + 1)
    around = [piece for piece in (*old.units, *old.module_code) if piece.first <= last and first <= piece.last]
    if len(around) != 1 or not (around[0].first <= first and last <= around[0].last):
        return None
    piece = around[0]
    text = source[starts[piece.first - 1]:starts[min(piece.last, lines)]]
    try:
        body = ast.parse("\n" * (piece.first - 1) + text).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    statement = previous.tree.body[piece.position]
    if len(body) != 1 or type(body[0]) is not type(statement) or body[0].end_lineno != piece.last or min(
        [body[0].lineno] + [d.lineno for d in getattr(body[0], "decorator_list", ())]
    ) != piece.first:
        return None
    spliced = list(previous.tree.body)
    spliced[piece.position] = body[0]
    return ast.Module(body=spliced, type_ignores=[])


def _layout(source: str, tree: ast.Module, starts: list[int]) -> Layout:
    layout = Layout(starts, [], [])
    for position, statement in enumerate(tree.body):
        first = min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", ())])
        text = source[layout.offset(first):layout.offset(statement.end_lineno + 1)]
        pieces = layout.units if isinstance(statement, _UNIT_KINDS) else layout.module_code
        pieces.append(Piece(first, statement.end_lineno, text, position))
    return layout


def _to_walk(
    previous: Previous, now: Previous, cache: dict, tree: ast.Module | None = None
) -> tuple[list[Diagnostic], list[tuple[int, int]], list[tuple[int, int]] | None] | None:
    """The findings reused from ``previous``, the line ranges of ``now`` to walk again, and
    with ``tree`` (a first pass) the ranges to walk first; None when the whole text must be
    checked."""
    if previous.switches != now.switches or previous.file_words != now.file_words:
        return None
    if any(_overlaps(s.first, s.last, span) for s in previous.layout.module_code for span in previous.pending):
        return None
    old, new = previous.layout, now.layout
    if [statement.text for statement in old.module_code] != [statement.text for statement in new.module_code]:
        return None
    old_lines, new_lines = len(old.starts) - 1, len(new.starts) - 1
    prefix = _common_lines(previous.source, old, now.source, new.starts)
    most = min(old_lines, new_lines) - prefix
    suffix = _common_lines(previous.source, old, now.source, new.starts, backwards=True, limit=most)
    delta = new_lines - old_lines
    old_region, new_region = (prefix + 1, old_lines - suffix), (prefix + 1, new_lines - suffix)
    if any(_overlaps(s.first, s.last, old_region) for s in old.module_code) or any(
        _overlaps(s.first, s.last, new_region) for s in new.module_code
    ):
        return None
    # Pieces before and after the edited lines keep their text; the others are new.
    old_units = {(unit.first, unit.text): unit for unit in old.units}
    matched: dict[int, Piece] = {}  # index in new.units -> the same unit in the old text
    for position, unit in enumerate(new.units):
        if unit.last < new_region[0]:
            key = (unit.first, unit.text)
        elif unit.first > new_region[1]:
            key = (unit.first - delta, unit.text)
        else:
            continue
        if key in old_units and not any(_overlaps(key[0], old_units[key].last, span) for span in previous.pending):
            matched[position] = old_units.pop(key)  # (a unit a first pass left pending is walked again)
    changed_old = list(old_units.values())  # their names: a caller of a function removed changes too
    walked = {position for position in range(len(new.units)) if position not in matched}
    binds: set[str] = set()
    spelled: set[str] = set()
    for unit in changed_old + [new.units[position] for position in walked]:
        names = _names(unit, cache)
        binds |= names.binds
        spelled |= names.spelled
    # Each statement of module-level code that reads a name walked again is walked again:
    # what it binds may change, and what it passes to the functions it calls.
    module = [_names(statement, cache) for statement in new.module_code]
    module_walked: set[int] = set()
    grown = True
    while grown:
        grown = False
        for position, names in enumerate(module):
            if position not in module_walked and names.spelled & binds:
                module_walked.add(position)
                binds |= names.binds
                spelled |= names.spelled
                grown = True
        for position, unit in enumerate(new.units):
            if position in walked:
                continue
            names = _names(unit, cache)
            if names.binds & spelled or names.spelled & binds:
                walked.add(position)
                binds |= names.binds
                spelled |= names.spelled
                grown = True
    # The lines the engine walks in a unit kept may change with words defined elsewhere.
    for position, old_unit in matched.items():
        if position not in walked and _walked_in(previous.walked, old_unit) != _walked_in(
            now.walked, new.units[position]
        ):
            walked.add(position)
    # Reuse the findings of the units kept and of module-level code, moved with their lines.
    kept = {old_unit.first: (old_unit, new.units[position]) for position, old_unit in matched.items()}
    unit_starts = sorted(kept)
    reused = []
    for finding in previous.findings:
        at = bisect_right(unit_starts, finding.line) - 1
        pair = kept[unit_starts[at]] if at >= 0 else None
        if pair is not None and finding.line <= pair[0].last:
            old_unit, new_unit = pair
            shift = new_unit.first - old_unit.first
            start, end = old.offset(old_unit.first), old.offset(old_unit.last + 1)
            if finding.end_line > old_unit.last or not _edits_within(finding, start, end) or (
                delta != 0 and _says_a_line(finding)
            ):
                walked.add(new.units.index(new_unit))
                continue
            reused.append(_moved(finding, shift, new.offset(new_unit.first) - start))
        elif any(unit.first <= finding.line <= unit.last for unit in old.units):
            continue  # in a unit changed or gone
        elif not any(old.module_code[position].first <= finding.line <= old.module_code[position].last
                         for position in module_walked):
            # Module-level code kept: its findings move with the lines after the edit.
            start, end = old.offset(old_region[0]), old.offset(old_region[1] + 1)
            if finding.line <= old_region[1] < finding.end_line or not _edits_outside(finding, start, end) or (
                delta != 0 and _says_a_line(finding)
            ):
                return None
            after = finding.line > old_region[1]
            reused.append(_moved(finding, delta if after else 0, new.offset(new_region[1] + 1) - end if after else 0))
    walked_lines = [(new.units[position].first, new.units[position].last) for position in sorted(walked)]
    walked_lines += [(new.module_code[position].first, new.module_code[position].last) for position in module_walked]
    walked_lines.sort()
    if tree is None:
        reused = [finding for finding in reused if not _inside(finding.line, walked_lines)]
        return reused, walked_lines, None
    # A first pass: the functions edited; every other finding kept where its lines went.
    changed_new = [new.units[position] for position in range(len(new.units)) if position not in matched]
    edited = sorted(_edited_functions(tree, unit, new_region) for unit in changed_new)
    start, end = old.offset(old_region[0]), old.offset(old_region[1] + 1)
    char_shift = new.offset(new_region[1] + 1) - end
    carried = []
    for finding in previous.findings:
        if finding.end_line < old_region[0] and _edits_outside(finding, start, end):
            carried.append(finding)
        elif finding.line > old_region[1] and _edits_outside(finding, start, end):
            carried.append(_moved(finding, delta, char_shift))
    carried = [finding for finding in carried if not _inside(finding.line, edited)]
    return carried, walked_lines, edited


def _word_set(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text))


def _common_lines(old_source: str, old: Layout, new_source: str, new_starts: list[int], *, backwards: bool = False,
                  limit: int | None = None) -> int:
    """How many lines the two texts share at their start (or end)."""
    old_starts = old.starts
    old_count, new_count = len(old_starts) - 1, len(new_starts) - 1
    most = min(old_count, new_count) if limit is None else max(0, limit)
    same = 0
    while same < most:
        if backwards:
            old_line, new_line = old_count - same, new_count - same
        else:
            old_line = new_line = same + 1
        if old_source[old_starts[old_line - 1]:old_starts[old_line]] != new_source[
            new_starts[new_line - 1]:new_starts[new_line]
        ]:
            break
        same += 1
    return same


def _overlaps(first: int, last: int, region: tuple[int, int]) -> bool:
    return first <= region[1] and region[0] <= last


def _walked_in(walked: tuple[list[int], ...], unit: Piece) -> tuple:
    """The lines walked in ``unit``, counted from its first line."""
    return tuple(
        tuple(line - unit.first for line in lines[bisect_left(lines, unit.first):bisect_right(lines, unit.last)])
        for lines in walked
    )


def _edits_within(finding: Diagnostic, start: int, end: int) -> bool:
    return finding.fix is None or all(start <= edit.start and edit.end <= end for edit in finding.fix.edits)


def _edits_outside(finding: Diagnostic, start: int, end: int) -> bool:
    return finding.fix is None or all(edit.end <= start or edit.start >= end for edit in finding.fix.edits)


def _says_a_line(finding: Diagnostic) -> bool:
    evidence = finding.evidence.text() if finding.evidence is not None else ""
    return bool(_SAYS_A_LINE.search(finding.message) or _SAYS_A_LINE.search(evidence))


def _moved(finding: Diagnostic, lines: int, characters: int) -> Diagnostic:
    if not lines and not characters:
        return finding
    fix = finding.fix
    if fix is not None and characters:
        edits = tuple(replace(edit, start=edit.start + characters, end=edit.end + characters) for edit in fix.edits)
        fix = replace(fix, edits=edits)
    return replace(finding, line=finding.line + lines, end_line=finding.end_line + lines, fix=fix)
