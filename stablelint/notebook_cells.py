"""A notebook an editor holds as separate cell documents, checked and fixed as one module.

The language server receives a notebook as a list of cells, each its own text document.
They are put together as an nbformat 4 notebook and handed to `stablelint.notebook`, so
that a name defined in one cell is followed into the next, IPython syntax is masked and
``%%cell`` magics are skipped exactly as the CLI does for an ``.ipynb`` file. Findings come
back placed in cells (line and column within the cell); a fix comes back as the new text
of each cell it changes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from stablelint import engine, notebook
from stablelint.config import Settings, load_settings
from stablelint.diagnostics import Diagnostic
from stablelint.noqa import keep_for


@dataclass(frozen=True)
class Cell:
    uri: str  # the cell's own text document
    code: bool  # a code cell; markup cells are kept, as they count in the cell numbers
    text: str


@dataclass
class CheckedNotebook:
    version: int | None
    cells: tuple[Cell, ...]
    path: str
    settings: Settings
    findings: dict[str, list[Diagnostic]]  # per cell uri; lines and columns within the cell
    syntax_errors: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # cell uri -> line, col, message
    fixed_all: dict[str, str] | None = None  # cell uri -> text after `fix_all`, once asked


def as_notebook(cells: tuple[Cell, ...]) -> str:
    """The cells as the text of an nbformat 4 notebook (Python)."""
    return json.dumps({
        "cells": [
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": cell.text}
            if cell.code else {"cell_type": "markdown", "metadata": {}, "source": cell.text}
            for cell in cells
        ],
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    })


def check(path: str, cells: tuple[Cell, ...]) -> CheckedNotebook:
    """Findings per cell, as the CLI reports them for the same notebook (raises
    `StablelintError` for a bad configuration, `notebook.NotebookError` when the code cells
    cannot be checked together)."""
    settings = load_settings(start=Path(path).parent)
    outcome = notebook.check(as_notebook(cells), path, keep=keep_for(path, settings), dtype=settings.assume_dtype)
    findings: dict[str, list[Diagnostic]] = {cell.uri: [] for cell in cells}
    for finding in outcome.diagnostics:
        findings[cells[finding.cell - 1].uri].append(finding)
    syntax_errors = {}
    for problem in outcome.problems:  # `path:cell N:LINE:COL: syntax error: ... (cell not checked)`
        match = _CELL_PROBLEM.search(problem)
        if match:
            number, line, col = (int(group) for group in match.group(1, 2, 3))
            syntax_errors[cells[number - 1].uri] = (line, col, match.group(4))
    return CheckedNotebook(None, cells, path, settings, findings, syntax_errors)


_CELL_PROBLEM = re.compile(r":cell (\d+):(\d+):(\d+): (.*?)(?: \(cell not checked\))?$")


def _cell_texts(notebook_text: str) -> list[str]:
    return ["".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for cell in json.loads(notebook_text)["cells"]]


def _changed(checked: CheckedNotebook, notebook_text: str) -> dict[str, str]:
    """The cells whose text ``notebook_text`` changes: cell uri -> new text."""
    return {
        cell.uri: new for cell, new in zip(checked.cells, _cell_texts(notebook_text)) if new != cell.text
    }


def fixed_cells(checked: CheckedNotebook, finding: Diagnostic) -> dict[str, str]:
    """The cells one finding's fix changes (its edits are on the cells joined as one module)."""
    book = notebook.Notebook(as_notebook(checked.cells), checked.path)
    code = book.code()
    new_code = engine.apply_fix(code.code, finding.fix)
    if new_code is None or new_code == code.code:
        return {}
    try:
        return _changed(checked, book.with_code(notebook.Cells.of(new_code, book.token)))
    except notebook.NotebookError:
        return {}  # the fix would move a cell boundary or touch IPython syntax


def fix_all(checked: CheckedNotebook) -> dict[str, str]:
    """The cells ``stablelint --fix`` would change in this notebook."""
    if checked.fixed_all is None:
        keep = keep_for(checked.path, checked.settings)
        outcome = notebook.check(
            as_notebook(checked.cells), checked.path, keep=keep, fix=True, dtype=checked.settings.assume_dtype
        )
        checked.fixed_all = _changed(checked, outcome.text)
    return checked.fixed_all


def cell_of(checked: CheckedNotebook, uri: str) -> Cell | None:
    return next((cell for cell in checked.cells if cell.uri == uri), None)


def in_cell(finding: Diagnostic) -> Diagnostic:
    """The finding as a finding of the cell's own text document (no cell number)."""
    return replace(finding, cell=None)
