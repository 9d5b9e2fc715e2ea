"""Jupyter notebooks: their code cells checked as one module, findings placed in cells,
fixes written back into the cells they change and nowhere else.

The code cells are joined in order, each after a marker comment line, so that a name
defined in one cell is followed into the next (the engine's reach works across them), and
the fixed module can be cut back into cells at the markers. IPython syntax (``%magic``,
``!shell``, ``x?``, ``?x``, ``x = !ls``, ``cd ..``) is masked first, a line by a placeholder
of the same line count, and put back byte for byte; a cell with a ``%%cell`` magic is not
Python and is left out, as ruff does. Cells are numbered as ruff numbers them: 1-based,
counting every cell, markdown and raw ones too (``nb.ipynb:cell 3:2:5: STB101 ...``).

The file is read with a JSON scanner that also tells where each cell's ``source`` is, so
a fix replaces that value and nothing else: outputs, metadata, key order, indentation and
the last line break stay the bytes they were. A changed ``source`` keeps its form (a string,
or a list of lines laid out like the original's).
"""

from __future__ import annotations

import ast
import bisect
import hashlib
import io
import json
import re
from dataclasses import dataclass, field, replace
from typing import Callable

from stablelint import engine, prefilter
from stablelint.config import number_too_long
from stablelint.diagnostics import Diagnostic

NOTEBOOK_SUFFIX = ".ipynb"


def is_notebook(path: str) -> bool:
    return path.lower().endswith(NOTEBOOK_SUFFIX)


class NotebookError(Exception):
    """The file is not a notebook we can read, or fixes could not be put back; one line."""


# -- reading the JSON, with where each cell's source is

_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _skip(text: str, at: int) -> int:
    return _WHITESPACE.match(text, at).end()


def _expect(text: str, at: int, char: str, what: str) -> None:
    if not text.startswith(char, at):
        raise json.JSONDecodeError(f"Expecting {what}", text, at)


def _after_item(text: str, at: int, closing: str) -> tuple[int, bool]:
    """After an array item or object member: where the next starts, or (just past the
    ``closing`` bracket, True)."""
    at = _skip(text, at)
    if text.startswith(",", at):
        return _skip(text, at + 1), False
    if text.startswith(closing, at):
        return at + 1, True
    raise json.JSONDecodeError("Expecting ',' delimiter", text, at)


def _object(text: str, at: int, skip_value: Callable[[str, int], int]) -> int:
    """Walks the JSON object at ``at``; each member's value is passed over by
    ``skip_value(key, start)``, which returns where it ends. Returns where the object ends."""
    _expect(text, at, "{", "'{'")
    at = _skip(text, at + 1)
    if text.startswith("}", at):
        return at + 1
    while True:
        _expect(text, at, '"', "property name enclosed in double quotes")
        key, at = json.decoder.scanstring(text, at + 1)
        at = _skip(text, at)
        _expect(text, at, ":", "':' delimiter")
        at, closed = _after_item(text, skip_value(key, _skip(text, at + 1)), "}")
        if closed:
            return at


def _source_spans(text: str) -> list[tuple[int, int] | None]:
    """Where each cell's ``source`` value is in the notebook's ``text`` (as json.loads
    reads it: the last of duplicate keys wins). Asked only when fixes are written."""
    spans: list[tuple[int, int] | None] = []

    def cell_member(key: str, at: int) -> int:
        end = _DECODER.raw_decode(text, at)[1]
        if key == "source":
            spans[-1] = (at, end)
        return end

    def top_member(key: str, at: int) -> int:
        if key != "cells" or not text.startswith("[", at):
            return _DECODER.raw_decode(text, at)[1]
        spans.clear()
        at = _skip(text, at + 1)
        if text.startswith("]", at):
            return at + 1
        while True:
            spans.append(None)
            end = _object(text, at, cell_member) if text.startswith("{", at) else _DECODER.raw_decode(text, at)[1]
            at, closed = _after_item(text, end, "]")
            if closed:
                return at

    end = _skip(text, _object(text, _skip(text, 1 if text.startswith("\ufeff") else 0), top_member))
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return spans


class FilePositions:
    """Where each character of the code cells is in the notebook's JSON text: a cell's
    source is one JSON string or a list of them, so the code's lines are escaped ``\\n``
    inside strings, and a column in the code is a column in the file only after the
    escapes before it are counted. Scanned when first asked (SARIF, GitHub annotations)."""

    def __init__(self, text: str):
        self.text = text
        self._strings: dict[int, list[tuple[int, int]]] | None = None  # cell number -> its JSON strings
        self._line_starts: list[int] = []

    def _scan(self) -> dict[int, list[tuple[int, int]]]:
        if self._strings is None:
            self._strings = {}
            self._line_starts = [0] + [match.end() for match in re.finditer(r"\r\n|\r|\n", self.text)]
            try:
                spans = _source_spans(self.text)
            except (json.JSONDecodeError, RecursionError):
                spans = []
            for number, span in enumerate(spans, start=1):
                if span is not None:
                    self._strings[number] = _json_strings(self.text, *span)
        return self._strings

    def locate(self, cell: int, line: int, col: int) -> tuple[int, int] | None:
        strings = self._scan().get(cell)
        if not strings:
            return None
        at_line, at_col, last = 1, 1, None
        for start, end in strings:
            at = start + 1  # past the opening quote
            while at < end - 1:
                if (at_line, at_col) == (line, col):
                    return self._line_column(at)
                if at_line > line:
                    return None
                char, width = _json_char(self.text, at)
                if char == "\n":
                    at_line, at_col = at_line + 1, 1
                else:
                    at_col += 1
                at += width
            last = end - 1  # the closing quote: where the code's end is
        if (at_line, at_col) == (line, col) and last is not None:
            return self._line_column(last)
        return None

    def _line_column(self, offset: int) -> tuple[int, int]:
        row = bisect.bisect_right(self._line_starts, offset)
        return row, offset - self._line_starts[row - 1] + 1


def _json_strings(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The JSON strings of a ``source`` value at ``text[start:end]`` (a string, or a list of
    strings), each as (offset of its opening quote, offset just past its closing one)."""
    if text.startswith('"', start):
        return [(start, end)]
    strings = []
    at = _skip(text, start + 1)
    while text.startswith('"', at):
        string_end = json.decoder.scanstring(text, at + 1)[1]
        strings.append((at, string_end))
        at = _skip(text, string_end)
        if not text.startswith(",", at):
            break
        at = _skip(text, at + 1)
    return strings


_ESCAPED = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", '"': '"', "\\": "\\", "/": "/"}


def _json_char(text: str, at: int) -> tuple[str, int]:
    """The character a JSON string spells at ``at``, and how many characters spell it (an
    escaped surrogate pair is one code point)."""
    if text[at] != "\\":
        return text[at], 1
    kind = text[at + 1]
    if kind != "u":
        return _ESCAPED.get(kind, kind), 2
    code = int(text[at + 2:at + 6], 16)
    if 0xD800 <= code < 0xDC00 and text.startswith("\\u", at + 6):
        low = int(text[at + 8:at + 12], 16)
        if 0xDC00 <= low < 0xE000:
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), 12
    return chr(code), 6


# -- IPython syntax

# IPython's line magics, which it also runs without the % ("automagic"): `cd ..`, `pip install x`.
_AUTOMAGIC_NAMES = (
    "alias alias_magic autoawait autocall automagic bookmark cd code_wrap colors conda config debug dhist "
    "dirs doctest_mode edit env gui history killbgscripts load load_ext loadpy logoff logon logstart "
    "logstate logstop lsmagic macro magic mamba matplotlib micromamba notebook page pastebin pdb pdef pdoc "
    "pfile pinfo pinfo2 pip popd pprint precision prun psearch psource pushd pwd pycat pylab quickref "
    "recall rehashx reload_ext rerun reset reset_selective run save sc set_env sx system tb time timeit "
    "unalias unload_ext who who_ls whos xdel xmode"
).split()
_AUTOMAGIC = re.compile(r"[ \t]*(?:" + "|".join(_AUTOMAGIC_NAMES) + r")[ \t]+[^\s=(),\[\]+\-*/%<>!&|^@:;'\"]")
_HELP_AFTER = re.compile(r"%{0,2}[\w.*\[\]]+\?\??")  # `x?`, `np.log??`, `%timeit?`
_MAGIC_ASSIGNED = re.compile(r"[ \t]*[\w.,\[\]() \t*]+=[ \t]*[%!]")  # `files = !ls`, `t = %time f()`


def _is_ipython_line(line: str) -> bool:
    """A line IPython rewrites before Python sees it (asked only of lines Python rejects)."""
    stripped = line.strip()
    return (
        stripped[:1] in ("%", "!", "?")
        or _HELP_AFTER.fullmatch(stripped) is not None
        or _MAGIC_ASSIGNED.match(line) is not None
        or _AUTOMAGIC.match(line) is not None
    )


def _has_cell_magic(text: str) -> bool:
    """IPython takes a cell magic on the cell's first line that is not blank."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return first.lstrip().startswith("%%")


class _CellSyntaxError(Exception):
    def __init__(self, message: str, line: int, col: int):
        super().__init__(message)
        self.line, self.col = line, col


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


def _masked(text: str, placeholder: Callable[[int], str]) -> tuple[str, list[tuple[str, str]]]:
    """``text`` with each IPython line (and its backslash continuations) replaced by a
    placeholder statement, and the (placeholder text, original text) pairs. Only lines
    the parser rejects are looked at, so a ``?`` inside a string is never taken for help.
    Raises `_CellSyntaxError` when what is left is not Python."""
    lines = io.StringIO(text, newline="").readlines()
    magics: list[tuple[str, str]] = []
    masked_lines: set[int] = set()
    while True:
        try:
            ast.parse("".join(lines))
            return "".join(lines), magics
        except SyntaxError as error:
            index = (error.lineno or 1) - 1
            if not (0 <= index < len(lines)) or index in masked_lines or not _is_ipython_line(lines[index]):
                raise _CellSyntaxError(f"syntax error: {error.msg}", index + 1, error.offset or 1) from None
        except (ValueError, RecursionError, MemoryError) as error:
            raise _CellSyntaxError(f"cannot parse: {error or type(error).__name__}", 1, 1) from None
        end = index + 1
        while end < len(lines) and lines[end - 1].rstrip("\r\n").endswith("\\"):
            end += 1
        first = lines[index]
        indent = first[: len(first) - len(first.lstrip())]
        continued = [_ending(line) for line in lines[index + 1 : end]]  # emptied, the line count kept
        replacement = [indent + placeholder(len(magics)) + _ending(first), *continued]
        magics.append(("".join(replacement), "".join(lines[index:end])))
        lines[index:end] = replacement
        masked_lines.update(range(index, end))


# -- the code cells as one module

_BREAKS = re.compile(r"\r\n|\r|\n")


@dataclass
class Cells:
    """The analysed code cells joined into one module (``code``: what the findings' fix
    offsets refer to), and the line of ``code`` each cell starts on."""

    code: str
    starts: list[int] = field(default_factory=list)  # first line of each cell in `code`, ascending
    numbers: list[int] = field(default_factory=list)  # the cell's number, 1-based among all cells
    texts: list[str] = field(default_factory=list)  # each cell's part of `code`, marker left out
    in_file: FilePositions | None = None  # where the cells' code is in the notebook's own text

    @classmethod
    def of(cls, code: str, token: str) -> Cells:
        cells = cls(code)
        markers = list(_marker_pattern(token).finditer(code))
        line, position = 1, 0
        for number, match in enumerate(markers):
            line += len(_BREAKS.findall(code, position, match.start()))
            position = match.start()
            cells.starts.append(line + 1)
            cells.numbers.append(int(match.group(1)))
            end = markers[number + 1].start() if number + 1 < len(markers) else len(code)
            cells.texts.append(code[match.end():end])
        if markers and code[: markers[0].start()]:
            raise NotebookError("code was added above the first cell")
        return cells

    def locate(self, line: int) -> tuple[int, int]:
        """A line of ``code`` -> (cell number, 1-based line in that cell)."""
        index = max(bisect.bisect_right(self.starts, line) - 1, 0)
        return self.numbers[index], max(line - self.starts[index] + 1, 1)

    def code_line(self, cell: int, line: int) -> int:
        """(cell number, line in the cell) -> the line of ``code``."""
        return self.starts[self.numbers.index(cell)] + line - 1

    def file_position(self, cell: int, line: int, col: int) -> tuple[int, int] | None:
        """(cell number, line and column in the cell) -> (line, column) of the ``.ipynb``
        file where that character of the code is (both 1-based, columns in code points);
        None when the notebook's text is not known or does not hold it."""
        return None if self.in_file is None else self.in_file.locate(cell, line, col)


def _marker(token: str, number: int) -> str:
    return f"# <stablelint {token} cell {number}>\n"


def _marker_pattern(token: str) -> re.Pattern:
    return re.compile(rf"^# <stablelint {token} cell (\d+)>\n", re.M)


@dataclass
class _CodeCell:
    number: int  # 1-based among all cells
    as_list: bool  # the source is a list of lines (else one string)
    text: str  # the source, joined
    masked: str = ""  # what is analysed: IPython lines masked, ending in a line break
    magics: list[tuple[str, str]] = field(default_factory=list)
    newline_added: bool = False


class Notebook:
    def __init__(self, text: str, path: str):
        self.text = text
        self.path = path
        self.problems: list[str] = []  # one line each: cells not checked
        self.cells = self._code_cells()
        # Markers and placeholders carry a digest of the code: the code cannot contain them.
        code = "".join(cell.text for cell in self.cells).encode("utf-8", "surrogatepass")
        self.token = hashlib.blake2b(code, digest_size=5).hexdigest()

    def _code_cells(self) -> list[_CodeCell]:
        try:
            top = json.loads(self.text.removeprefix("\ufeff"))
        except json.JSONDecodeError as error:
            raise NotebookError(f"not a Jupyter notebook: invalid JSON: {error}") from None
        except RecursionError:
            raise NotebookError("not a Jupyter notebook: invalid JSON: nested too deeply") from None
        except ValueError as error:  # an integer longer than Python converts
            raise NotebookError(f"not a Jupyter notebook: invalid JSON: {number_too_long(error)}") from None
        if not isinstance(top, dict):
            raise NotebookError("not a Jupyter notebook (the file is JSON, but not an object)")
        if not isinstance(top.get("cells"), list):
            if isinstance(top.get("worksheets"), list):
                raise NotebookError("nbformat 3 notebooks are not supported (`jupyter nbconvert --to notebook`)")
            raise NotebookError('not a Jupyter notebook: no "cells" list')
        version = top.get("nbformat", 4)
        if version != 4:
            raise NotebookError(f"not a Jupyter notebook of format 4 (nbformat is {version!r})")
        cells = []
        for number, cell in enumerate(top["cells"], start=1):
            if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
                raise NotebookError(f'not a Jupyter notebook: cell {number} has no "cell_type"')
            if cell["cell_type"] != "code":
                continue
            source = cell.get("source")
            if isinstance(source, list) and all(isinstance(line, str) for line in source):
                cells.append(_CodeCell(number, True, "".join(source)))
            elif isinstance(source, str):
                cells.append(_CodeCell(number, False, source))
            else:
                raise NotebookError(f"not a Jupyter notebook: the source of cell {number} is not text")
        return cells if _is_python(top.get("metadata")) else []

    def _prepare(self) -> list[_CodeCell]:
        """Mask each cell; those that are not Python are left out (with a problem line)."""
        analysed = []
        for cell in self.cells:
            if _has_cell_magic(cell.text):
                continue
            prefix = f"_stablelint_{self.token}_{cell.number}_"
            try:
                cell.masked, cell.magics = _masked(cell.text, lambda magic: f"{prefix}{magic}")
            except _CellSyntaxError as error:
                where = f"{self.path}:cell {cell.number}:{error.line}:{error.col}"
                self.problems.append(f"{where}: {error} (cell not checked)")
                continue
            if cell.masked and not cell.masked.endswith("\n"):
                cell.masked += "\n"
                cell.newline_added = True
            analysed.append(cell)
        return analysed

    def code(self) -> Cells:
        """The code cells as one module. Files without a word any rule starts at are not
        parsed (as for .py files): nothing in them can be reported."""
        if not prefilter.might_match("".join(cell.text for cell in self.cells)):
            self.analysed: list[_CodeCell] = []
            return Cells("")
        self.analysed = self._prepare()
        return Cells.of("".join(_marker(self.token, cell.number) + cell.masked for cell in self.analysed), self.token)

    def with_code(self, fixed: Cells) -> str:
        """The notebook's text with the cells whose code ``fixed`` changed rewritten."""
        if fixed.numbers != [cell.number for cell in self.analysed]:
            raise NotebookError("the fixes moved a cell boundary")
        replacements = []
        try:
            spans = _source_spans(self.text)
        except (ValueError, RecursionError):  # json.loads read it: not expected
            spans = []
        if len(spans) < max((cell.number for cell in self.analysed), default=0):
            raise NotebookError("the cells' sources could not be found in the file")
        for cell, new in zip(self.analysed, fixed.texts):
            if new == cell.masked:
                continue
            for placeholder, original in cell.magics:
                if new.count(placeholder) != 1:
                    raise NotebookError(f"the fixes touched IPython syntax in cell {cell.number}")
                new = new.replace(placeholder, original)
            # The newline the cell was given goes after the magics are back: a placeholder
            # that became the cell's last line (its import below removed) still ends in it.
            if cell.newline_added and new.endswith("\n"):
                new = new[:-1]
            start, end = spans[cell.number - 1]
            replacements.append((start, end, self._serialized(cell, new, start, end)))
        pieces, cursor = [], 0
        for start, end, content in replacements:
            pieces += [self.text[cursor:start], content]
            cursor = end
        return "".join(pieces) + self.text[cursor:]

    def _serialized(self, cell: _CodeCell, text: str, start: int, end: int) -> str:
        ensure_ascii = self.text.isascii()  # escaped non-ASCII stays escaped
        if not cell.as_list:
            return json.dumps(text, ensure_ascii=ensure_ascii)
        opening, separator, closing, items = _list_layout(self.text, start, end)
        lines = re.findall(r"[^\n]*\n|[^\n]+$", text)  # as Jupyter splits them: after each "\n"
        # A line the cell already had keeps its own spelling (escapes included).
        encoded = [items.get(line) or json.dumps(line, ensure_ascii=ensure_ascii) for line in lines]
        if not encoded:
            return "[]"
        return "[" + opening + separator.join(encoded) + closing + "]"


def _list_layout(text: str, start: int, end: int) -> tuple[str, str, str, dict[str, str]]:
    """How the list at ``text[start:end]`` is laid out: the space after ``[``, between items
    (comma included) and before ``]``; and the JSON spelling of each of its lines."""
    at = start + 1
    first = _skip(text, at)
    opening = text[at:first]
    closing = text[len(text[:end - 1].rstrip(" \t\r\n")):end - 1]
    separator = None
    items: dict[str, str] = {}
    at = first
    while text.startswith('"', at):
        line, item_end = json.decoder.scanstring(text, at + 1)
        items.setdefault(line, text[at:item_end])
        after = _skip(text, item_end)
        if not text.startswith(",", after):
            break
        at = _skip(text, after + 1)
        separator = separator or text[item_end:at]
    if separator is None:
        separator = "," + opening if "\n" in opening else ", "
    return opening, separator, closing, items


def _is_python(metadata: object) -> bool:
    """Notebooks of other kernels (R, Julia ...) are not Python: nothing in them is checked."""
    if not isinstance(metadata, dict):
        return True
    for section, key in (("language_info", "name"), ("kernelspec", "language")):
        value = metadata.get(section)
        language = value.get(key) if isinstance(value, dict) else None
        if isinstance(language, str) and language.lower() not in ("python", "python3", "ipython"):
            return False
    return True


# -- checking and fixing

_LINE_MENTION = re.compile(r"\bon (lines?) (\d+(?:, \d+)*)")


def _placed(diagnostics: list[Diagnostic], cells: Cells) -> list[Diagnostic]:
    """Findings on ``cells.code`` -> findings in cells (and the lines their messages name)."""
    placed = []
    for diagnostic in diagnostics:
        cell, line = cells.locate(diagnostic.line)
        end_cell, end_line = cells.locate(diagnostic.end_line)

        def in_cells(match: re.Match, cell: int = cell) -> str:
            said = []
            for number in match.group(2).split(", "):
                other, other_line = cells.locate(int(number))
                said.append(str(other_line) if other == cell else f"{other_line} of cell {other}")
            return f"on {match.group(1)} {', '.join(said)}"

        message = _LINE_MENTION.sub(in_cells, diagnostic.message)
        placed.append(replace(diagnostic, cell=cell, line=line, end_line=end_line if end_cell == cell else line,
                              message=message))
    return placed


@dataclass
class Outcome:
    text: str  # the notebook's text (fixed, when fixing changed it)
    cells: Cells  # the code the findings are on
    diagnostics: list[Diagnostic]  # placed in cells
    fixed: int = 0
    problems: list[str] = field(default_factory=list)  # one line each, for standard error


Filter = Callable[[str, list[Diagnostic]], list[Diagnostic]]


def check(
    text: str, path: str, *, keep: Filter, fix: bool = False, unsafe: bool = False, dtype: str | None = None
) -> Outcome:
    """Check (and with ``fix``, fix) the notebook ``text``. Raises `NotebookError` when it
    is not a notebook; a cell that is not Python is a problem line, and the rest is checked."""
    outcome = _check(text, path, keep=keep, fix=fix, unsafe=unsafe, dtype=dtype)
    outcome.cells.in_file = FilePositions(outcome.text)
    return outcome


def _check(text: str, path: str, *, keep: Filter, fix: bool, unsafe: bool, dtype: str | None) -> Outcome:
    book = Notebook(text, path)
    cells = book.code()
    try:
        if not fix:
            found = keep(cells.code, engine.check_source(cells.code, path, dtype=dtype))
            return Outcome(text, cells, _placed(found, cells), problems=book.problems)
        outcome = engine.fix_source(cells.code, path, keep=keep, unsafe=unsafe, dtype=dtype)
    except engine.ParseError as error:  # each cell parses; together they should too
        where = ":cell {}:{}".format(*cells.locate(error.line)) if error.line else ""
        raise NotebookError(f"cannot check the code cells together{where}: {error}") from None
    if outcome.source == cells.code:
        return Outcome(text, cells, _placed(outcome.remaining, cells), problems=book.problems)
    try:
        fixed_cells = Cells.of(outcome.source, book.token)
        fixed_text = book.with_code(fixed_cells)
    except NotebookError as error:
        found = keep(cells.code, engine.check_source(cells.code, path, dtype=dtype))
        problems = [*book.problems, f"{path}: fixes not applied: {error}"]
        return Outcome(text, cells, _placed(found, cells), problems=problems)
    return Outcome(fixed_text, fixed_cells, _placed(outcome.remaining, fixed_cells), outcome.applied, book.problems)
