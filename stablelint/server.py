"""``stablelint server``: the language server (LSP over standard input and output).

Diagnostics as you type, a quick fix per finding that has one, "Fix all stablelint
issues" (``source.fixAll.stablelint``, the safe fixes through the engine's own fix loop),
"add noqa" per finding, and the rule's page on hover. Settings are read as the CLI reads
them, from the pyproject.toml of the document's project.

The engine runs in one worker thread, so the event loop keeps reading messages while a
file is checked; a check is started a moment after the last change (debounced), and the
result of a check whose text has since changed is dropped: only the newest version of a
document is ever published. After an edit, the function edited is analysed first and
published with the other findings kept where their lines went; then what the edit can
reach elsewhere in the file, and the findings again if they changed (`stablelint.recheck`).
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import io
import logging
import re
from bisect import bisect_right
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from stablelint import __version__, engine, frameworks, notebook_cells, recheck, rule_url, session
from stablelint.add_noqa import add_noqa
from stablelint.analysis import project
from stablelint.config import Settings, load_settings
from stablelint.diagnostics import Diagnostic, StablelintError
from stablelint.docs import failure_text, page_address, page_text
from stablelint.noqa import keep_for
from stablelint.notebook import NotebookError
from stablelint.rules import RULES_BY_CODE
from stablelint.server_io import start_io

SOURCE = "stablelint"
FIX_ALL = f"{types.CodeActionKind.SourceFixAll.value}.{SOURCE}"  # source.fixAll.stablelint
CHANGE_DELAY = 0.3  # seconds of quiet after an edit before the document is checked again
MAX_CHANGE_DELAY = 3600.0
# Larger documents are not checked as you type (an 8 MB file took 50 s and 1.6 GB): the
# editor says so once, and the command line checks them.
MAX_DOCUMENT_MB = 1.0
_NEWLINE = re.compile(r"\r\n|\r|\n")
_PYTHON_SUFFIXES = (".py", ".pyi")
CONFIG_FILE_NAMES = ("/pyproject.toml",)  # where the settings are read from (config.py)
CONFIG_WATCH_PATTERNS = ("**/pyproject.toml",)

log = logging.getLogger(__name__)


def rule_docs_url(code: str) -> str | None:
    """The rule's page online, where ``$STABLELINT_DOCS_URL`` says (the one docs URL JSON,
    SARIF and ``--explain`` give); None without it (hover shows the page)."""
    return rule_url(code) if code in RULES_BY_CODE else None


def rule_page(code: str) -> str | None:
    """The rule's page as ``--explain`` prints it (Markdown)."""
    rule = RULES_BY_CODE.get(code)
    return None if rule is None else f"{page_text(rule)}\n{failure_text(rule)}\n\n{page_address(code)}"


# -- positions


class Lines:
    """Character offsets -> LSP positions. Lines break where Python's do (\\r\\n, \\r,
    \\n); columns are counted in the client's units (UTF-16 unless negotiated)."""

    def __init__(self, text: str, codec):
        self.text = text
        self.codec = codec
        self.starts = [0] + [match.end() for match in _NEWLINE.finditer(text)]

    def position(self, offset: int) -> types.Position:
        line = bisect_right(self.starts, offset) - 1
        return types.Position(line, self.codec.client_num_units(self.text[self.starts[line]:offset]))

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(self.position(start), self.position(end))

    def finding_range(self, finding: Diagnostic) -> types.Range:
        start = self._offset_of(finding.line, finding.col)
        return self.range(start, self._offset_of(finding.end_line, finding.end_col))

    def _offset_of(self, line: int, col: int) -> int:
        # The engine counts columns after a byte-order mark, which is not code.
        bom = 1 if line == 1 and self.text.startswith("\ufeff") else 0
        return self.starts[min(line, len(self.starts)) - 1] + col - 1 + bom

    def edits_to(self, new_text: str) -> list[types.TextEdit]:
        """The edits that turn this text into ``new_text``: one per changed run of lines,
        trimmed to the characters that differ (an editor keeps its cursor and marks)."""
        old_lines, new_lines = _split_lines(self.text), _split_lines(new_text)
        matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
        edits = []
        for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
            if tag == "equal":
                continue
            start = self.starts[old_start] if old_start < len(self.starts) else len(self.text)
            old = "".join(old_lines[old_start:old_end])
            new = "".join(new_lines[new_start:new_end])
            prefix = len(_common_prefix(old, new))
            suffix = len(_common_prefix(old[prefix:][::-1], new[prefix:][::-1]))
            edits.append(
                types.TextEdit(
                    self.range(start + prefix, start + len(old) - suffix), new[prefix:len(new) - suffix]
                )
            )
        return edits


def _split_lines(text: str) -> list[str]:
    return io.StringIO(text, newline="").readlines()


def _common_prefix(a: str, b: str) -> str:
    length = 0
    for x, y in zip(a, b):
        if x != y:
            break
        length += 1
    return a[:length]


# -- checking a document


@dataclass
class Checked:
    version: int | None
    source: str
    path: str
    settings: Settings
    findings: list[Diagnostic]  # after select/ignore, per-file-ignores and noqa
    fixed_all: str | None = None  # what `fix_all` made of this text, once asked
    syntax_error: tuple[int, int, str] | None = None  # line, column (1-based), message: the text does not parse
    recheck: recheck.Previous | None = None  # what a check of the next edit reuses


def check(path: str, source: str, previous: Checked | None = None) -> Checked:
    """Findings as the CLI would report them for this file (raises `StablelintError`
    for a bad config, `engine.ParseError` for code that does not parse). With the check
    of an earlier text of the document, only the code an edit can reach is analysed again
    (`stablelint.recheck`), the function edited first: `complete` walks the rest."""
    settings = load_settings(start=Path(path).parent)
    if settings.numpy_like:
        frameworks.add_shims(dict(settings.numpy_like))
    reusable = previous.recheck if previous is not None and previous.settings == settings else None
    found, state = recheck.check(source, path, settings.assume_dtype, reusable, first=reusable is not None)
    return Checked(None, source, path, settings, keep_for(path, settings)(source, found), recheck=state)


def complete(checked: Checked) -> Checked:
    """A check whose first pass walked only the function edited, one more of its pending
    ranges walked (`check`)."""
    found = recheck.complete(checked.recheck, parts=1)
    return replace(checked, findings=keep_for(checked.path, checked.settings)(checked.source, found))


def fix_all(checked: Checked) -> str:
    """The text ``stablelint --fix`` would write (editors ask on every cursor move)."""
    if checked.fixed_all is None:
        keep = keep_for(checked.path, checked.settings)
        outcome = engine.fix_source(checked.source, checked.path, keep=keep, dtype=checked.settings.assume_dtype)
        checked.fixed_all = outcome.source
    return checked.fixed_all


def with_noqa(source: str, finding: Diagnostic) -> str:
    """``source`` with ``# noqa: CODE`` for this finding, as ``stablelint --add-noqa``
    writes it: merged with the codes of a ``# noqa:`` already on the line, else a comment
    at the line's end (the last line of a statement continued with a backslash or of a
    string spanning lines, where flake8 looks for it)."""
    return add_noqa(source, [finding])[0]


# -- the server


class StablelintServer(LanguageServer):
    def __init__(self, change_delay: float = CHANGE_DELAY, max_document_mb: float = MAX_DOCUMENT_MB):
        # Full text on every change: pygls applies incremental changes with
        # str.splitlines, which also breaks lines at \f and \x1c, where editors do not.
        super().__init__(
            SOURCE, __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full,
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                [types.NotebookDocumentFilterWithCells([types.NotebookCellLanguage("python")], "jupyter-notebook")],
                save=True,
            ),
        )
        self.change_delay = change_delay
        self.max_document_chars = int(max_document_mb * 1_000_000) if max_document_mb else None
        self.engine_thread = ThreadPoolExecutor(1, thread_name_prefix="stablelint-engine")
        self.pending: dict[str, asyncio.Task] = {}  # by document or notebook uri
        self.checked: dict[str, Checked] = {}
        self.checked_notebooks: dict[str, notebook_cells.CheckedNotebook] = {}
        self.published_cells: dict[str, set[str]] = {}  # notebook uri -> the cells it last published to
        self.shown_errors: set[str] = set()

    def is_open(self, uri: str) -> bool:
        """Requests are answered for the documents the editor opened (pygls would read any
        other from the disk, or fail on one that is not there)."""
        return uri in self.workspace.text_documents

    def is_python(self, uri: str) -> bool:
        document = self.workspace.get_text_document(uri)
        return document.language_id == "python" or (document.path or "").endswith(_PYTHON_SUFFIXES)

    def notebook_of(self, cell_uri: str) -> str | None:
        """The notebook a cell document belongs to (None: not a cell of an open notebook)."""
        book = self.workspace.get_notebook_document(cell_uri=cell_uri)
        return None if book is None else book.uri

    def schedule(self, uri: str, delay: float) -> None:
        """Check the document after ``delay`` seconds; a check still waiting or running
        for an older version is cancelled (its result would be dropped anyway)."""
        if not self.is_python(uri):
            return
        self._schedule(uri, self._check_later(uri, delay))

    def schedule_notebook(self, uri: str, delay: float) -> None:
        self._schedule(uri, self._check_notebook_later(uri, delay))

    def _schedule(self, uri: str, check) -> None:
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[uri] = asyncio.get_running_loop().create_task(check)

    def recheck_all(self) -> None:
        """The settings may have changed: check every open file and notebook again."""
        self.checked.clear()
        self.checked_notebooks.clear()
        self.shown_errors.clear()
        for uri in list(self.workspace.text_documents):
            if self.notebook_of(uri) is None:
                self.schedule(uri, 0)
        for uri in list(self.workspace.notebook_documents):
            self.schedule_notebook(uri, 0)

    async def _check_later(self, uri: str, delay: float) -> None:
        await asyncio.sleep(delay)
        checked = await self.current(uri)
        if checked is None or self.pending.get(uri) is not asyncio.current_task():
            return
        self.publish(uri, checked)
        if checked.recheck is not None and checked.recheck.pending:
            # The function edited was checked first; now the rest of what the edit reaches
            # (a new edit cancels this, and its own check walks what is still pending).
            loop = asyncio.get_running_loop()
            try:
                completed = checked
                while completed.recheck.pending:  # a range at a time: a new edit waits for one only
                    completed = await loop.run_in_executor(self.engine_thread, complete, completed)
            except Exception:  # noqa: BLE001 - the first pass stays published
                log.exception("completing the check of %s", uri)
                completed = None
            current = self.pending.get(uri) is asyncio.current_task() and self.checked.get(uri) is checked
            if completed is not None and current:
                self.checked[uri] = completed
                if completed.findings != checked.findings:
                    self.publish(uri, completed)
        if self.pending.get(uri) is asyncio.current_task():
            del self.pending[uri]

    async def _check_notebook_later(self, uri: str, delay: float) -> None:
        await asyncio.sleep(delay)
        checked = await self.current_notebook(uri)
        if checked is None or self.pending.get(uri) is not asyncio.current_task():
            return
        del self.pending[uri]
        self.publish_notebook(uri, checked)

    async def current(self, uri: str) -> Checked | None:
        """The findings in the document's current version (None: it could not be
        checked, or it changed while it was being checked)."""
        document = self.workspace.get_text_document(uri)
        version, source = document.version, document.source
        cached = self.checked.get(uri)
        if cached is not None and cached.version == version and cached.source == source:
            return cached
        path = document.path or uri
        if self.max_document_chars is not None and len(source) > self.max_document_chars:
            limit = self.max_document_chars / 1_000_000
            self.show_error(
                f"{path} is not checked as you type: larger than {limit:g} MB (--max-document-size); "
                f"`stablelint {path}` checks it"
            )
            checked = Checked(version, source, path, Settings(root=Path.cwd()), [])
            self.checked[uri] = checked
            return checked
        loop = asyncio.get_running_loop()
        try:
            checked = await loop.run_in_executor(self.engine_thread, check, path, source, cached)
        except StablelintError as error:
            self.show_error(str(error))
            checked = Checked(version, source, path, Settings(root=Path.cwd()), [])
        except engine.ParseError as error:
            # Published as such (as ruff's server does), so no finding stays at a stale line.
            settings = cached.settings if cached is not None else Settings(root=Path.cwd())
            place = (error.line or 1, error.col or 1, str(error))
            # The next text that parses is compared with the last one that did.
            last_parsed = cached.recheck if cached is not None else None
            checked = Checked(version, source, path, settings, [], syntax_error=place, recheck=last_parsed)
        except Exception as error:  # noqa: BLE001 - one odd file must not end the server
            log.exception("checking %s", uri)
            self.show_error(f"internal error while checking {path}: {type(error).__name__}: {error}")
            return None
        checked.version = version
        self.checked[uri] = checked  # the check of the newer text re-checks from this one
        if self.workspace.get_text_document(uri).version != version:
            return None  # a newer text arrived meanwhile; its own check publishes
        return checked

    async def view(self, uri: str) -> Checked | CellView | None:
        """What code actions and hover read for a document: its own check, or, for a cell
        of a notebook, the notebook's check seen from that cell."""
        if not self.is_open(uri):
            return None
        notebook_uri = self.notebook_of(uri)
        if notebook_uri is not None:
            checked = await self.current_notebook(notebook_uri)
            return None if checked is None or notebook_cells.cell_of(checked, uri) is None else CellView(checked, uri)
        if not self.is_python(uri):
            return None
        return await self.current(uri)

    def show_error(self, message: str) -> None:
        if message in self.shown_errors:
            return
        self.shown_errors.add(message)
        self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"stablelint: {message}"))

    async def current_notebook(self, uri: str) -> notebook_cells.CheckedNotebook | None:
        """The findings in the notebook's current version, per cell (None: it changed
        while it was being checked, or it is closed)."""
        book = self.workspace.get_notebook_document(notebook_uri=uri)
        if book is None:
            return None
        version = book.version
        cells = tuple(
            notebook_cells.Cell(
                cell.document, cell.kind == types.NotebookCellKind.Code,
                self.workspace.get_text_document(cell.document).source,
            )
            for cell in book.cells
        )
        cached = self.checked_notebooks.get(uri)
        if cached is not None and cached.version == version and cached.cells == cells:
            return cached
        path = self.workspace.get_text_document(uri).path or uri  # the .ipynb's path: its settings
        loop = asyncio.get_running_loop()
        try:
            checked = await loop.run_in_executor(self.engine_thread, notebook_cells.check, path, cells)
        except (StablelintError, NotebookError) as error:
            self.show_error(str(error))
            checked = notebook_cells.CheckedNotebook(version, cells, path, Settings(root=Path.cwd()), {})
        except Exception as error:  # noqa: BLE001 - one odd notebook must not end the server
            log.exception("checking %s", uri)
            self.show_error(f"internal error while checking {path}: {type(error).__name__}: {error}")
            return None
        book = self.workspace.get_notebook_document(notebook_uri=uri)
        if book is None or book.version != version:
            return None
        checked.version = version
        self.checked_notebooks[uri] = checked
        return checked

    def publish(self, uri: str, checked: Checked) -> None:
        lines = self.lines(uri, checked.source)
        diagnostics = [lsp_diagnostic(finding, lines) for finding in checked.findings]
        if checked.syntax_error is not None:
            diagnostics.append(syntax_diagnostic(checked.syntax_error, lines))
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, diagnostics, checked.version))

    def publish_notebook(self, uri: str, checked: notebook_cells.CheckedNotebook) -> None:
        """Each cell gets its own findings (an empty list clears it); a cell that left the
        notebook since the last publication is cleared too."""
        cells = {cell.uri: cell for cell in checked.cells}
        for gone in self.published_cells.get(uri, set()) - cells.keys():
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(gone, []))
        for cell_uri, cell in cells.items():
            lines = self.lines(cell_uri, cell.text)
            diagnostics = [lsp_diagnostic(finding, lines) for finding in checked.findings.get(cell_uri, [])]
            if cell_uri in checked.syntax_errors:
                diagnostics.append(syntax_diagnostic(checked.syntax_errors[cell_uri], lines))
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(cell_uri, diagnostics))
        self.published_cells[uri] = set(cells)

    def forget_notebook(self, uri: str) -> None:
        pending = self.pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self.checked_notebooks.pop(uri, None)
        for cell_uri in self.published_cells.pop(uri, set()):
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(cell_uri, []))

    def forget(self, uri: str) -> None:
        pending = self.pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self.checked.pop(uri, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))

    def lines(self, uri: str, source: str) -> Lines:
        return Lines(source, self.workspace.get_text_document(uri).position_codec)

    def workspace_edit(self, uri: str, checked: Checked, lines: Lines, new_text: str) -> types.WorkspaceEdit:
        edits = lines.edits_to(new_text)
        capabilities = self.client_capabilities.workspace
        versioned = capabilities and capabilities.workspace_edit and capabilities.workspace_edit.document_changes
        if versioned and checked.version is not None:
            # The client then refuses the edit if the document has changed since.
            document = types.OptionalVersionedTextDocumentIdentifier(uri, checked.version)
            return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(document, edits)])
        return types.WorkspaceEdit(changes={uri: edits})

    def cells_edit(self, changed: dict[str, str]) -> types.WorkspaceEdit | None:
        """The edit that gives each cell in ``changed`` its new text."""
        if not changed:
            return None
        capabilities = self.client_capabilities.workspace
        versioned = capabilities and capabilities.workspace_edit and capabilities.workspace_edit.document_changes
        edits = {}
        for uri, new_text in changed.items():
            document = self.workspace.get_text_document(uri)
            edits[uri] = Lines(document.source, document.position_codec).edits_to(new_text)
        if versioned:
            return types.WorkspaceEdit(document_changes=[
                types.TextDocumentEdit(
                    types.OptionalVersionedTextDocumentIdentifier(uri, self.workspace.get_text_document(uri).version),
                    cell_edits,
                )
                for uri, cell_edits in edits.items()
            ])
        return types.WorkspaceEdit(changes=edits)


def syntax_diagnostic(error: tuple[int, int, str], lines: Lines) -> types.Diagnostic:
    line, col, message = error
    start = lines.starts[min(max(line, 1), len(lines.starts)) - 1] + max(col, 1) - 1
    start = min(start, len(lines.text))
    return types.Diagnostic(
        range=lines.range(start, start), message=message.replace("syntax error: ", "SyntaxError: ", 1),
        severity=types.DiagnosticSeverity.Error, source=SOURCE,
    )


def lsp_diagnostic(finding: Diagnostic, lines: Lines) -> types.Diagnostic:
    url = rule_docs_url(finding.code)
    return types.Diagnostic(
        range=lines.finding_range(finding),
        message=finding.message,
        severity=types.DiagnosticSeverity.Warning,
        code=finding.code,
        code_description=types.CodeDescription(url) if url else None,
        source=SOURCE,
    )


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(position: types.Position) -> tuple[int, int]:
        return position.line, position.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _wanted(kind: str, only: list[str] | None) -> bool:
    """``context.only`` names kinds hierarchically: "source.fixAll" asks for ours too."""
    return not only or any(kind == prefix or kind.startswith(prefix + ".") for prefix in only)


def fix_title(finding: Diagnostic) -> str:
    edits = finding.fix.edits
    rule = RULES_BY_CODE.get(finding.code)
    if len(edits) == 1 and "\n" not in edits[0].content and len(edits[0].content) <= 60:
        title = f"{finding.code}: replace with `{edits[0].content}`"
    else:
        title = f"{finding.code}: fix {rule.name if rule else 'the formula'}"
    return title if finding.fix.safety == "safe" else f"{title} (unsafe fix)"


@dataclass
class CellView:
    """One cell of a checked notebook, as the code actions and hover see a document: its
    text and its findings (whose fixes are on the notebook's cells joined as one module)."""

    notebook: notebook_cells.CheckedNotebook
    uri: str

    @property
    def version(self) -> int | None:
        return self.notebook.version

    @property
    def source(self) -> str:
        return notebook_cells.cell_of(self.notebook, self.uri).text

    @property
    def findings(self) -> list[Diagnostic]:
        return self.notebook.findings.get(self.uri, [])


def code_actions(ls: StablelintServer, uri: str, checked, params: types.CodeActionParams, lazy: bool):
    """The actions for the findings in ``params.range``, and fix-all (``checked``: a
    `Checked` document or a `CellView`). ``lazy``: the client asks for an action's edit
    when the user picks it (codeAction/resolve), so none is computed for the lists an
    editor requests at every cursor move."""
    lines = ls.lines(uri, checked.source)
    only = params.context.only
    actions = []

    def offer(title: str, kind: str, what: str, index: int = -1, diagnostic=None, preferred=None) -> None:
        data = [uri, checked.version, what, index]  # what codeAction/resolve needs to make the edit
        actions.append(types.CodeAction(title, kind, diagnostic and [diagnostic], is_preferred=preferred, data=data))

    if _wanted(types.CodeActionKind.QuickFix, only):
        for index, finding in enumerate(checked.findings):
            diagnostic = lsp_diagnostic(finding, lines)
            if not _overlaps(diagnostic.range, params.range):
                continue
            if finding.fix is not None:
                safe = finding.fix.safety == "safe"
                offer(fix_title(finding), types.CodeActionKind.QuickFix, "fix", index, diagnostic, safe)
            noqa = f"{finding.code}: add `# noqa: {finding.code}` on this line"
            offer(noqa, types.CodeActionKind.QuickFix, "noqa", index, diagnostic)
    safe_fixes = any(finding.fix is not None and finding.fix.safety == "safe" for finding in checked.findings)
    if safe_fixes and _wanted(FIX_ALL, only):
        offer("Fix all stablelint issues", FIX_ALL, "fix-all")
    if lazy:
        return actions
    for action in actions:
        action.edit = action_edit(ls, checked, action.data)
    return [action for action in actions if action.edit is not None]


def action_edit(ls: StablelintServer, checked, data) -> types.WorkspaceEdit | None:
    """The edit of the action that ``data`` (``[uri, version, what, finding]``) names."""
    uri, _, what, index = data
    if isinstance(checked, CellView):
        return _cell_action_edit(ls, checked, what, index)
    if what == "fix-all":
        new_text = fix_all(checked)
    elif what == "fix":
        new_text = engine.apply_fix(checked.source, checked.findings[index].fix)
    else:
        new_text = with_noqa(checked.source, checked.findings[index])
    if new_text is None or new_text == checked.source:
        return None
    return ls.workspace_edit(uri, checked, ls.lines(uri, checked.source), new_text)


def _cell_action_edit(ls: StablelintServer, cell: CellView, what: str, index: int) -> types.WorkspaceEdit | None:
    """A notebook's fixes may change other cells too (a softmax assigned in an earlier cell)."""
    if what == "fix-all":
        changed = notebook_cells.fix_all(cell.notebook)
    elif what == "fix":
        changed = notebook_cells.fixed_cells(cell.notebook, cell.findings[index])
    else:
        new_text = with_noqa(cell.source, cell.findings[index])
        changed = {cell.uri: new_text} if new_text != cell.source else {}
    return ls.cells_edit(changed)


_ACTIONS = ("fix", "noqa", "fix-all")


def _action_data(data) -> tuple[str, int | None, str, int]:
    """``codeAction/resolve``'s ``data`` as `code_actions` made it, ``[uri, version, what,
    finding]``, or -32602 (a client may send anything back)."""
    if not (isinstance(data, list) and len(data) == 4):
        raise JsonRpcInvalidParams("codeAction/resolve: data is not [uri, version, action, finding]")
    uri, version, what, index = data
    if not isinstance(uri, str) or not (version is None or type(version) is int) or what not in _ACTIONS:
        raise JsonRpcInvalidParams("codeAction/resolve: data is not [uri, version, action, finding]")
    if type(index) is not int or (what == "fix-all") != (index == -1):
        raise JsonRpcInvalidParams(f"codeAction/resolve: {index!r} is not a finding's index")
    return uri, version, what, index


def hover(ls: StablelintServer, uri: str, checked, position: types.Position) -> types.Hover | None:
    lines = ls.lines(uri, checked.source)
    at = types.Range(position, position)
    pages: dict[str, str] = {}
    evidence: dict[str, list[str]] = {}
    first_range = None
    for finding in checked.findings:
        found_range = lines.finding_range(finding)
        page = rule_page(finding.code) if _overlaps(found_range, at) else None
        if page:
            pages.setdefault(finding.code, page)
            if finding.evidence is not None:  # what goes wrong here, above the rule's page
                evidence.setdefault(finding.code, []).append(f"**{finding.code}**: {finding.evidence.text()}")
            first_range = first_range or found_range
    if not pages:
        return None
    shown = ["\n\n".join(evidence.get(code, []) + [page]) for code, page in pages.items()]
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, "\n\n---\n\n".join(shown)), first_range)


def build_server(change_delay: float = CHANGE_DELAY, max_document_mb: float = MAX_DOCUMENT_MB) -> StablelintServer:
    server = StablelintServer(change_delay, max_document_mb)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: StablelintServer, params: types.DidOpenTextDocumentParams) -> None:
        # As a change, so that an open followed at once by an edit is checked once.
        ls.schedule(params.text_document.uri, ls.change_delay)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: StablelintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, ls.change_delay)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: StablelintServer, params: types.DidSaveTextDocumentParams) -> None:
        saved = params.text_document.uri
        if saved.endswith("/pyproject.toml"):
            ls.recheck_all()
        else:
            ls.checked.pop(saved, None)
            ls.schedule(saved, 0)
            saved_path = ls.workspace.get_text_document(saved).path
            if saved_path and saved_path.endswith(_PYTHON_SUFFIXES):
                # Other modules read it from disk through the project index: derive its
                # summary again and check the other open files, which may rest on it.
                project.forget(saved_path)
                for uri in list(ls.workspace.text_documents):
                    if uri != saved:
                        ls.checked.pop(uri, None)
                        ls.schedule(uri, 0)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: StablelintServer, params: types.InitializedParams) -> None:
        # Editors send didSave only for the files they hand the server (Python ones): ask
        # to be told of configuration changes, where the client can watch files for us.
        workspace = ls.client_capabilities.workspace
        watch = workspace and workspace.did_change_watched_files
        if not (watch and watch.dynamic_registration):
            return
        watchers = [types.FileSystemWatcher(pattern) for pattern in CONFIG_WATCH_PATTERNS]
        registration = types.Registration(
            "stablelint-config", types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            types.DidChangeWatchedFilesRegistrationOptions(watchers),
        )
        try:
            await ls.client_register_capability_async(types.RegistrationParams([registration]))
        except Exception:  # noqa: BLE001 - a client that refuses still gets didSave
            log.info("the client did not register the configuration watcher")

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def watched_files_changed(ls: StablelintServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(change.uri.endswith(CONFIG_FILE_NAMES) for change in params.changes):
            ls.recheck_all()

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    async def notebook_did_open(ls: StablelintServer, params: types.DidOpenNotebookDocumentParams) -> None:
        ls.schedule_notebook(params.notebook_document.uri, ls.change_delay)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    async def notebook_did_change(ls: StablelintServer, params: types.DidChangeNotebookDocumentParams) -> None:
        ls.schedule_notebook(params.notebook_document.uri, ls.change_delay)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    async def notebook_did_save(ls: StablelintServer, params: types.DidSaveNotebookDocumentParams) -> None:
        ls.checked_notebooks.pop(params.notebook_document.uri, None)
        ls.schedule_notebook(params.notebook_document.uri, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    async def notebook_did_close(ls: StablelintServer, params: types.DidCloseNotebookDocumentParams) -> None:
        ls.forget_notebook(params.notebook_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: StablelintServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=True),
    )
    async def code_action(ls: StablelintServer, params: types.CodeActionParams):
        uri = params.text_document.uri
        checked = await ls.view(uri)
        if checked is None:
            return None
        support = ls.client_capabilities.text_document and ls.client_capabilities.text_document.code_action
        lazy = bool(support and support.resolve_support and "edit" in support.resolve_support.properties)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(ls.engine_thread, code_actions, ls, uri, checked, params, lazy)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve_code_action(ls: StablelintServer, action: types.CodeAction) -> types.CodeAction:
        uri, version, what, index = _action_data(action.data)
        if not ls.is_open(uri):
            raise JsonRpcInvalidParams(f"codeAction/resolve: {uri} is not an open document")
        checked = await ls.view(uri)
        if checked is not None and checked.version == version:  # else the text changed: no edit
            if what != "fix-all" and not 0 <= index < len(checked.findings):
                raise JsonRpcInvalidParams(f"codeAction/resolve: no finding {index} in {uri}")
            if what == "fix" and checked.findings[index].fix is None:
                raise JsonRpcInvalidParams(f"codeAction/resolve: finding {index} in {uri} has no fix")
            loop = asyncio.get_running_loop()
            action.edit = await loop.run_in_executor(ls.engine_thread, action_edit, ls, checked, action.data)
        return action

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: StablelintServer, params: types.HoverParams):
        uri = params.text_document.uri
        checked = await ls.view(uri)
        return None if checked is None else hover(ls, uri, checked, params.position)

    return server


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="stablelint server",
        description="Run the language server on standard input and output (the Language Server Protocol).",
    )
    parser.add_argument("--stdio", action="store_true", help="accepted for clients that pass it; stdio is the default")
    parser.add_argument(
        "--change-delay", type=float, default=CHANGE_DELAY, metavar="SECONDS",
        help=f"quiet time after an edit before checking again (default {CHANGE_DELAY})",
    )
    parser.add_argument(
        "--max-document-size", type=float, default=MAX_DOCUMENT_MB, metavar="MB",
        help=f"larger documents are not checked as you type (default {MAX_DOCUMENT_MB:g}; 0: no limit)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.change_delay <= MAX_CHANGE_DELAY:  # also refuses nan
        raise StablelintError(f"--change-delay: expected a number of seconds from 0 to {MAX_CHANGE_DELAY:g}")
    if not 0 <= args.max_document_size < float("inf"):  # also refuses nan
        raise StablelintError("--max-document-size: expected a number of megabytes, 0 for no limit")
    _log_client_errors_without_traceback()
    # Each check allocates the objects of a syntax tree and its analysis, which reference
    # counting frees; the collector's default pass every 700 allocations took a quarter of
    # a re-check of a large file.
    session.collect_garbage_rarely()
    start_io(build_server(args.change_delay, args.max_document_size))
    return 0


class _ClientErrorsWithoutTraceback(logging.Filter):
    """pygls logs every JSON-RPC error it answers with its traceback; one the client
    caused (bad params) is the client's, and one line says it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], JsonRpcInvalidParams):
            record.msg = f"{record.getMessage()}: {record.exc_info[1].message}"
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


def _log_client_errors_without_traceback() -> None:
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_ClientErrorsWithoutTraceback())
