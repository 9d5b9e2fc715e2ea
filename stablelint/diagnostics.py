"""The values that flow from the rules to the front-ends: findings and their fixes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Safety = Literal["safe", "unsafe"]


@dataclass(frozen=True)
class Edit:
    """Replace ``source[start:end]`` (character offsets) with ``content``."""

    start: int
    end: int
    content: str


@dataclass(frozen=True)
class Import:
    """An import a fix needs: ``import module`` or ``from module import name``."""

    module: str
    name: str | None = None
    asname: str | None = None


@dataclass(frozen=True)
class Fix:
    safety: Safety
    edits: tuple[Edit, ...]
    imports: tuple[Import, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Diagnostic:
    """One finding. ``line`` and ``col`` are 1-based; ``col`` counts characters."""

    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    code: str
    message: str
    fix: Fix | None = field(default=None, compare=False)
    cell: int | None = None  # in a notebook: the cell (1-based among all cells); line and col are in it

    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.line, self.col, self.code)


class ParseError(Exception):
    """The source could not be parsed; ``str(self)`` is a one-line reason. (Here, not in
    the engine, so that the command can name it without loading the rules.)"""

    def __init__(self, message: str, line: int | None = None, col: int | None = None):
        super().__init__(message)
        self.line = line
        self.col = col


class StablelintError(Exception):
    """A problem with the user's input (bad option, bad config): reported, exit code 2."""
