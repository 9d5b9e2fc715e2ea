"""Parsing a very large text in pieces: the tree of one `ast.parse`, at a lower peak.

While CPython's parser builds the Python tree of a text it still holds its own tree of the
whole text and its tokens: parsing 200,000 lines at once peaks at about twice the memory of
the tree it returns (1.75 GB for a 0.93 GB tree). Here a large text is cut into pieces of
whole statements, each piece parsed alone at its own line numbers and the statements
joined; the body of a large ``def``, ``class`` or ``with`` statement is cut the same way
(its first piece is parsed with the header, the others as the body of an ``if 1:`` at the
body's indentation). The peak is then the tree and one piece.

A cut is made only before a line that looks like a statement at the indentation of the
block being cut. A line that only looks so (inside a string, inside brackets, after a
backslash, an ``else:``) leaves a piece that does not parse, or one whose statements are
not where they must be; then the whole text is parsed at once. So the result, a tree or an
error, is always that of `ast.parse`; a text with tabs, form feeds or lone carriage returns
(whose indentation Python reads its own way) is parsed at once as well.
"""

from __future__ import annotations

import ast
import re

from stablelint.syntax import walk

# A text of more characters is parsed in pieces of about this many lines.
PIECES_ABOVE = 500_000
PIECE_LINES = 5_000

# A line at the block's indentation that continues the statement before it.
_CONTINUES = re.compile(r"(?:else|elif|except|finally|case)\b|[)\]}#.,\s]")
_DECORATOR = "@"
# Lines inside a docstring look like statements: the triple quotes on each line are counted
# (a miscount only costs a cut that fails, and a parse at once).
_TRIPLE_QUOTES = re.compile(r'"""|\'\'\'')
_BODY_CUT = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.With, ast.AsyncWith)
_BODY_HEADER = re.compile(r"(?:@|(?:async\s+)?(?:def|with)\b|class\b)")
_HEADER = re.compile(r"(?:async\s+)?(?:def|with)\b|class\b")


class _NotCut(Exception):
    """The text cannot be cut where it was: parse it at once."""


def parse(source: str, path: str = "<unknown>", *, piece_lines: int = PIECE_LINES) -> ast.Module:
    """``ast.parse(source, filename=path)``, in pieces when the text is large."""
    if len(source) <= PIECES_ABOVE or not _cuttable(source):
        return ast.parse(source, filename=path)
    return parse_in_pieces(source, path, piece_lines=piece_lines)


def parse_in_pieces(source: str, path: str = "<unknown>", *, piece_lines: int = PIECE_LINES) -> ast.Module:
    """The tree of ``ast.parse(source, filename=path)``, built piece by piece (whatever the
    text's size: the tests cut small texts into small pieces)."""
    if _cuttable(source):
        lines = source.split("\n")  # a carriage return before a newline stays on its line
        try:
            body = _Cutter(lines, path, max(piece_lines, 1)).block(0, len(lines), "")
        except (_NotCut, SyntaxError, ValueError, RecursionError, MemoryError):
            pass
        else:
            return ast.Module(body=body, type_ignores=[])
    return ast.parse(source, filename=path)


def _cuttable(source: str) -> bool:
    return "\t" not in source and "\f" not in source and source.count("\r") == source.count("\r\n")


class _Cutter:
    def __init__(self, lines: list[str], path: str, piece_lines: int):
        self.lines = lines
        self.path = path
        self.piece_lines = piece_lines
        self.numbers: dict[int, int] = {}  # each line number above 256, one int object

    def block(self, start: int, stop: int, indent: str) -> list[ast.stmt]:
        """The statements of lines ``start`` to ``stop`` (0-based, ``stop`` excluded), a
        sequence of whole statements at indentation ``indent``."""
        if stop - start <= self.piece_lines:
            return self.piece(start, stop, indent)
        starts = self.statement_starts(start, stop, indent)
        statements: list[ast.stmt] = []
        piece_start = start
        for position, first in enumerate(starts):
            last = starts[position + 1] if position + 1 < len(starts) else stop
            if last - first > self.piece_lines and _BODY_HEADER.match(self.lines[first], len(indent)):
                if first > piece_start:
                    statements += self.piece(piece_start, first, indent)
                statements.append(self.large_statement(first, last, indent))
                piece_start = last
            elif last - piece_start > self.piece_lines and first > piece_start:
                statements += self.piece(piece_start, first, indent)
                piece_start = first
        if piece_start < stop:
            statements += self.piece(piece_start, stop, indent)
        return statements

    def statement_starts(self, start: int, stop: int, indent: str) -> list[int]:
        """The lines in ``start``..``stop`` that look like the first line of a statement at
        ``indent`` (not a decorated definition's ``def``: its decorators start it)."""
        found = []
        depth = len(indent)
        after_decorator = False
        open_quotes = None  # the delimiter of a triple-quoted string open at the line's start
        lines = self.lines
        for number in range(start, stop):
            line = lines[number]
            inside = open_quotes is not None
            if '""' in line or "''" in line:
                for quotes in _TRIPLE_QUOTES.findall(line):
                    if open_quotes is None:
                        open_quotes = quotes
                    elif quotes == open_quotes:
                        open_quotes = None
            if inside or len(line) <= depth or not line.startswith(indent) or _CONTINUES.match(line, depth):
                continue
            if not after_decorator:
                found.append(number)
            after_decorator = line.startswith(_DECORATOR, depth)
        return found

    def large_statement(self, first: int, last: int, indent: str) -> ast.stmt:
        """A ``def``, ``class`` or ``with`` statement of lines ``first`` to ``last``: its
        header with the start of its body parsed as one piece, the rest of the body cut as
        a block of its own."""
        body_indent = self.body_indent(first, last, indent)
        if not body_indent:
            raise _NotCut
        # The cut: a statement of the body, not its first (the header needs one), about
        # half a piece into it.
        middle = first + self.piece_lines // 2
        body = self.body_start(first, last, indent)
        cut = next((start for start in self.statement_starts(body, last, body_indent)[1:] if start >= middle), None)
        if cut is None:
            raise _NotCut
        head = self.piece(first, cut, indent)
        if len(head) != 1 or type(head[0]) not in _BODY_CUT or head[0].body[0].col_offset != len(body_indent):
            raise _NotCut
        statement = head[0]
        rest = self.block(cut, last, body_indent)
        if not rest:
            raise _NotCut
        statement.body.extend(rest)
        statement.end_lineno, statement.end_col_offset = rest[-1].end_lineno, rest[-1].end_col_offset
        return statement

    def body_start(self, first: int, last: int, indent: str) -> int:
        """The line after the header of the statement at ``first`` (after its decorators,
        the line that ends in a colon; a guess that a failed parse corrects)."""
        number = first
        while number < last and not _HEADER.match(self.lines[number], len(indent)):
            number += 1
        while number < last and not self.lines[number].partition("#")[0].rstrip().endswith(":"):
            number += 1
        return number + 1

    def body_indent(self, first: int, last: int, indent: str) -> str:
        """The indentation of most lines of a statement deeper than its own: its body's (a
        guess that `large_statement` checks against the tree)."""
        counts: dict[str, int] = {}
        step = max(1, (last - first) // 1000)
        for number in range(first + 1, last, step):
            line = self.lines[number]
            stripped = line.lstrip(" ")
            if stripped and not stripped.startswith("#") and len(line) - len(stripped) > len(indent):
                depth = line[:len(line) - len(stripped)]
                counts[depth] = counts.get(depth, 0) + 1
        if not counts:
            return ""
        most = max(counts.values())
        # Of the common ones, the shallowest: nested blocks are indented further (a class's
        # methods have more lines in their bodies than ``def`` lines).
        return min((depth for depth, count in counts.items() if count * 50 >= most), key=len)

    def piece(self, start: int, stop: int, indent: str) -> list[ast.stmt]:
        text = "\n".join(self.lines[start:stop])
        if not indent:
            return self.shared(ast.parse("\n" * start + text, filename=self.path).body)
        if start < 1:
            raise _NotCut
        wrapper = ast.parse("\n" * (start - 1) + "if 1:\n" + text, filename=self.path).body
        if len(wrapper) != 1 or type(wrapper[0]) is not ast.If or wrapper[0].lineno != start:
            raise _NotCut
        return self.shared(wrapper[0].body)

    def shared(self, statements: list[ast.stmt]) -> list[ast.stmt]:
        """The statements, their nodes' line numbers made one int object per line: the
        parser makes two for each node (its first and last line), and above 256 each is
        an object of its own, a sixth of a large tree's memory."""
        numbers = self.numbers
        same = numbers.setdefault
        for statement in statements:
            for node in walk(statement):
                fields = node.__dict__
                line = fields.get("lineno")
                if line is not None and line > 256:
                    fields["lineno"] = same(line, line)
                    line = fields["end_lineno"]
                    fields["end_lineno"] = same(line, line)
        return statements
