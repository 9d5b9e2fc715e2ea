"""``--add-noqa``: a ``# noqa: STBxxx`` on every line with a finding, as ruff's ``--add-noqa``.

The comment goes on the line flake8 reads it from (`NoqaIndex.noqa_row`: the last line
of a multi-line string or a backslash-continued statement, otherwise the finding's own
line); codes already in a ``# noqa:`` there are kept, and the list is sorted and
deduplicated. Lines without a finding are never touched, so a second run adds nothing.
Files are checked by the same session as ``--fix`` (`session.check_text`) and written by
the same writer (`writer.write_atomically`).

In a notebook the directive goes into the cell's ``source``: the code cells are checked as
one module (as a check sees them), the directives are added to that module, and it is cut
back into cells by the notebook writer ``--fix`` uses, which replaces the changed sources
and nothing else (outputs, metadata, ids, key order and layout stay the bytes they were).
The new file is read back as JSON before it is written; a directive that cannot be placed
is a problem line, and the count says only what was written.
"""

from __future__ import annotations

import ast
import json
import tokenize

from stablelint import session, writer
from stablelint.config import Settings
from stablelint.diagnostics import Diagnostic
from stablelint.noqa import NOQA_INLINE, NoqaIndex

_BOM = "\ufeff"


def add_noqa(source: str, diagnostics: list[Diagnostic], reason: str = "") -> tuple[str, int]:
    """``source`` with the directives added, and how many lines got one; ``reason``
    (``--add-noqa=REASON``) follows the codes of a new directive: ``# noqa: STB101 REASON``."""
    if not diagnostics:
        return source, 0
    bom = _BOM if source.startswith(_BOM) else ""
    index = NoqaIndex(source)
    wanted: dict[int, set[str]] = {}
    for diagnostic in diagnostics:
        wanted.setdefault(index.noqa_row(diagnostic.line), set()).add(diagnostic.code)
    lines = list(index.lines)
    comments = _comments(lines)
    changed = 0
    for row, codes in sorted(wanted.items()):
        if not 1 <= row <= len(lines):
            continue
        line = lines[row - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        new_body = _with_directive(body, comments.get(row), codes, reason)
        if new_body != body:
            lines[row - 1] = new_body + ending
            changed += 1
    text = "".join(lines)
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):  # cannot happen for a comment at a line's end; never write it if it does
        return source, 0
    return bom + text, changed


def _comments(lines: list[str]) -> dict[int, tuple[int, str]]:
    """line -> (column, text) of the comment token on it."""
    found = {}
    try:
        for token in tokenize.generate_tokens(iter(lines).__next__):
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = (token.start[1], token.string)
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def _with_directive(body: str, comment: tuple[int, str] | None, codes: set[str], reason: str = "") -> str:
    if comment is not None:
        column, text = comment
        match = NOQA_INLINE.search(text)
        if match is not None:
            if match.group("codes") is None:
                return body  # a blanket directive already silences every code
            present = [code for code in match.group("codes").replace(",", " ").split() if code]
            merged = sorted(set(present) | codes)
            if set(merged) == set(present):
                return body
            rest = text[match.end():].strip()  # the match took the spaces before it
            suffix = f"  {rest}" if rest else (f" {reason}" if reason else "")
            new_text = f"{text[:match.start()]}# noqa: {', '.join(merged)}{suffix}"
            return body[:column] + new_text + body[column + len(text):]
    return body.rstrip() + "  # noqa: " + ", ".join(sorted(codes)) + (f" {reason}" if reason else "")


def add_noqa_to_file(path: str, settings: Settings, reason: str = "") -> tuple[str | None, int]:
    """Add the directives to one file, in place: a problem to report (or None), and how
    many lines got one."""
    try:
        data = session.read_source(path)
    except session.NotRegularFile:
        return f"{path}: not a regular file", 0
    except OSError as error:
        return f"{path}: cannot read: {error.strerror or error}", 0
    problems = []
    if path.lower().endswith(".ipynb"):
        problems, text, count = _add_to_notebook(path, data, settings, reason)
        encoding = "utf-8"
    else:
        result = session.check_text(path, data, settings, session.Mode())
        if result.error:
            return result.error, 0
        text, count = add_noqa(result.original, result.diagnostics, reason)
        encoding = result.encoding
    if count:
        try:
            writer.write_atomically(path, text.encode(encoding), expected=writer.digest(data))
        except writer.FileChanged:
            problems.append(f"{path}: not changed: the file changed while stablelint ran")
            count = 0
        except (OSError, UnicodeEncodeError) as error:
            problems.append(f"{path}: cannot write: {getattr(error, 'strerror', None) or error}")
            count = 0
    return "\n".join(problems) or None, count


def _add_to_notebook(path: str, data: bytes, settings: Settings, reason: str = "") -> tuple[list[str], str, int]:
    """(problem lines, the notebook's new text, directives added) for ``--add-noqa``."""
    from stablelint import engine, notebook
    from stablelint.noqa import keep_for

    try:
        text = data.decode("utf-8")  # JSON is UTF-8 (a BOM is kept: the reader skips it)
        book = notebook.Notebook(text, path)
    except UnicodeDecodeError as error:
        return [f"{path}: cannot decode: {error}"], "", 0
    except notebook.NotebookError as error:
        return [f"{path}: {error}"], "", 0
    try:
        cells = book.code()
        found = engine.check_source(cells.code, path, dtype=settings.assume_dtype)
        code, count = add_noqa(cells.code, keep_for(path, settings)(cells.code, found), reason)
        new_text = book.with_code(notebook.Cells.of(code, book.token)) if count else text
        json.loads(new_text.removeprefix("\ufeff"))  # never written unless it reads back as JSON
    except notebook.NotebookError as error:
        return [*book.problems, f"{path}: no directive added: {error}"], "", 0
    except engine.ParseError as error:
        return [*book.problems, f"{path}: cannot check the code cells together: {error}"], "", 0
    except (ValueError, RecursionError):
        return [*book.problems, f"{path}: no directive added: the notebook would not be valid JSON"], "", 0
    return book.problems, new_text, count
