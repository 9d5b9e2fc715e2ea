"""The flake8 plugin: flake8 already parsed the file, so the engine reuses its tree."""

from __future__ import annotations

import ast
from typing import Iterator

from stablelint import __version__
from stablelint.engine import check_source


class Plugin:
    name = "stablelint"
    version = __version__

    def __init__(self, tree: ast.Module, lines: list[str], filename: str = "<stdin>"):
        self.tree = tree
        self.lines = lines
        self.filename = filename

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        source = "".join(self.lines)
        for diagnostic in check_source(source, self.filename, tree=self.tree):
            # flake8 wants a 0-based column and prints it 1-based, as stablelint does.
            yield diagnostic.line, diagnostic.col - 1, f"{diagnostic.code} {diagnostic.message}", type(self)
