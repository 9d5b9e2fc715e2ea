"""``# noqa`` exactly as flake8 reads it (flake8 7: ``defaults.py``, ``violation.py``,
``processor.py``), so the CLI and the flake8 plugin silence the same findings."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Callable

from stablelint.diagnostics import Diagnostic

if TYPE_CHECKING:
    from stablelint.config import Settings

# flake8's NOQA_INLINE_REGEXP, verbatim. Its quirks are part of the contract: the
# comment must be "#", one space, "noqa"; the code list must follow the colon after at
# most one space, or the comment silences everything on the line; and lowercase codes
# match the regex but then silence nothing, as codes are compared case-sensitively.
NOQA_INLINE = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
# flake8's NOQA_FILE: a line that starts with the file-level directive skips the file.
NOQA_FILE = re.compile(r"\s*# flake8[:=]\s*noqa", re.IGNORECASE)
# stablelint's own file-level directive, as ruff's file-level noqa (with or without codes): a comment
# line of its own; without codes it silences the file, with codes those codes in it.
STABLELINT_NOQA_FILE = re.compile(
    r"\s*#\s*stablelint\s*:\s*noqa(?:\s*:\s*(?P<codes>[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*))?\s*(?:#.*)?$",
    re.IGNORECASE,
)
_CODE_SEPARATOR = re.compile(r"[,\s]")
_MENTIONS_NOQA = re.compile("noqa", re.IGNORECASE)


def silences(comment_text: str, code: str) -> bool:
    """Does the ``# noqa`` in ``comment_text`` (if any) silence ``code``?"""
    match = NOQA_INLINE.search(comment_text)
    if match is None:
        return False
    codes_text = match.group("codes")
    if codes_text is None:
        return True
    codes = tuple(item for item in _CODE_SEPARATOR.split(codes_text) if item)
    return code.startswith(codes)


class NoqaIndex:
    """Where the ``# noqa`` for a line is looked for.

    Like flake8, a finding on any line of a token that spans lines (a triple-quoted
    string) or of a backslash-continued statement is silenced by a ``# noqa`` on any of
    those lines. A line break inside brackets ends that range, as in flake8: the comment
    must then be on the finding's first line.
    """

    def __init__(self, source: str):
        self.source = source.removeprefix("\ufeff")
        self._ranges: dict[int, tuple[int, int]] = {}  # line -> (first, last) line of its range
        self._tokens = None  # the tokenizer, where it stopped (None: not started, or done)
        self._read = 0  # the last line of the ranges read so far; -1: the whole text

    @cached_property
    def lines(self) -> list[str]:
        # Line breaks as Python counts them: \r\n, \n, and a lone \r, nothing else.
        return io.StringIO(self.source, newline="").readlines()

    def _read_to(self, line: int) -> None:
        """flake8's ``_noqa_line_mapping`` (line -> (first, last) line of its range), read
        only as far as the range that holds ``line``: a finding's range is known once the
        tokenizer has passed it, and a file's findings seldom stand at its end (tokenizing
        a whole 12,000-line module for one finding took most of ``--format json``'s time).
        A text that parses tokenizes without error; where the tokenizer stops on an error,
        every line is its own range, as in flake8."""
        if line <= self._read or self._read < 0:
            return
        if self._tokens is None:
            self._tokens = tokenize.generate_tokens(iter(self.lines).__next__)
        ranges = self._ranges
        no_line = len(self.lines) + 2
        first, last = no_line, -1  # a range is read to its end before the reading stops
        try:
            for token in self._tokens:
                if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                    continue
                first, last = min(first, token.start[0]), max(last, token.end[0])
                if token.type in (tokenize.NL, tokenize.NEWLINE):
                    for covered in range(first, last + 1):
                        ranges[covered] = (first, last)
                    self._read = max(self._read, last)
                    first, last = no_line, -1
                    if self._read >= line:
                        return
        except (tokenize.TokenError, SyntaxError):
            ranges.clear()  # flake8 then looks at the physical line alone
        self._tokens, self._read = None, -1  # the whole text is read

    def line_range(self, line: int) -> tuple[int, int]:
        self._read_to(line)
        return self._ranges.get(line, (line, line))

    def text_for(self, line: int) -> str:
        first, last = self.line_range(line)
        return "".join(self.lines[first - 1 : last])

    def noqa_row(self, line: int) -> int:
        """The line a ``# noqa`` for ``line`` is best written on (ruff's ``noqa_row``)."""
        return self.line_range(line)[1]

    def skips_file(self) -> bool:
        return any(NOQA_FILE.match(line) for line in self.lines) or self.file_exempt_codes() == ()

    def file_exempt_codes(self) -> tuple[str, ...] | None:
        """What ``# stablelint: noqa[: CODES]`` lines exempt in the whole file: None
        without one, () for all codes, else the code prefixes."""
        exempt: list[str] = []
        for line in self.lines:
            match = STABLELINT_NOQA_FILE.match(line)
            if match is None:
                continue
            if match.group("codes") is None:
                return ()
            exempt += [code.upper() for code in _CODE_SEPARATOR.split(match.group("codes")) if code]
        return tuple(exempt) if exempt else None

    def silenced(self, diagnostic: Diagnostic) -> bool:
        return silences(self.text_for(diagnostic.line), diagnostic.code)


def filter_noqa(source: str, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """The findings no ``# noqa`` silences. Tokenizes only files that have a finding
    and mention noqa at all."""
    if not diagnostics or not _MENTIONS_NOQA.search(source):
        return list(diagnostics)
    index = NoqaIndex(source)
    if index.skips_file():
        return []
    exempt = index.file_exempt_codes() or ()
    return [d for d in diagnostics if not (exempt and d.code.startswith(exempt)) and not index.silenced(d)]


def keep_for(path: str, settings: Settings) -> Callable[[str, list[Diagnostic]], list[Diagnostic]]:
    """select/ignore, per-file-ignores and noqa: what is neither reported nor fixed; and
    ``unfixable``: whose fix is dropped (reported, never fixed). The CLI, the language
    server and the codemod filter with it alike."""
    reported = settings.reports(path)

    def keep(source: str, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
        kept = filter_noqa(source, [d for d in diagnostics if reported(d.code)])
        return [d if d.fix is None or settings.can_fix(d.code) else replace(d, fix=None) for d in kept]

    return keep
