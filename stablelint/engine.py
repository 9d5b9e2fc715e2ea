"""Runs every rule over one file's source. (Interface stub: the real engine is being written.)"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable

from stablelint.diagnostics import Diagnostic


class ParseError(Exception):
    """The source could not be parsed; ``str(self)`` is a one-line reason."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None):
        super().__init__(message)
        self.line = line
        self.col = col


def check_source(source: str, path: str = "<stdin>", *, tree: ast.Module | None = None) -> list[Diagnostic]:
    """All findings of all rules in ``source`` (no select/ignore/noqa filtering), sorted."""
    return []


@dataclass
class FixOutcome:
    source: str                    # the fixed source (== input when nothing was fixed)
    applied: int                   # how many fixes were applied
    remaining: list[Diagnostic]    # findings still in the fixed source (after ``keep``)


def fix_source(
    source: str,
    path: str = "<stdin>",
    *,
    keep: Callable[[Diagnostic], bool] = lambda diagnostic: True,
    unsafe: bool = False,
) -> FixOutcome:
    """Apply the fixes of the findings that ``keep`` accepts, repeatedly until none is left."""
    return FixOutcome(source, 0, [d for d in check_source(source, path) if keep(d)])
