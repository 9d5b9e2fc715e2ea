"""The language server, driven over stdio by pytest-lsp as an editor drives it: the
diagnostics it publishes, its code actions applied to the text, hover, and what it does
with quick edits. Every expected text is what the CLI itself makes of the same file."""

from __future__ import annotations

import asyncio
import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from stablelint.cli import main  # noqa: E402
from stablelint.engine import check_source  # noqa: E402
from stablelint.noqa import filter_noqa  # noqa: E402

in_session = pytest.mark.asyncio(loop_scope="module")  # one server for the module

SERVER = [sys.executable, "-m", "stablelint", "server", "--change-delay", "0.2"]
PYPROJECT = """\
[tool.stablelint]
per-file-ignores = { "quiet_*.py" = ["STB106"] }
"""
# STB101 (safe) after a character that is two UTF-16 units, STB108 (unsafe in PyTorch)
# on a line that has a noqa for another tool, STB106 (safe).
THREE = """\
import torch


def loss(z, x):
    label = "\U0001F642"; p = torch.log(torch.softmax(z, dim=-1))
    q = torch.log(1 + torch.exp(x))  # noqa: E501
    return p, q, torch.log(1 + x.tanh() / 1e5)
"""
ONE = """\
import torch


def nll(logits):
    return -torch.log(torch.softmax(logits, dim=1)).mean()
"""
# One finding, whose only fix is unsafe and adds an import.
UNSAFE = """\
import numpy as np


def f(log_p):
    return np.log(np.sum(np.exp(log_p)))
"""
CLEAN = "import torch\n\n\ndef loss(z):\n    return torch.log_softmax(z, dim=-1)\n"


class Published(dict):
    """``client.diagnostics``, remembering every publication for a document, not only the last."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}

    def __setitem__(self, uri, diagnostics):
        self.history.setdefault(uri, []).append(list(diagnostics))
        super().__setitem__(uri, diagnostics)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("project")
    (folder / "pyproject.toml").write_text(PYPROJECT)
    return folder


async def _start(client: LanguageClient, project: Path, editor: str, resolve: bool = True) -> None:
    client.diagnostics = Published()
    client.registrations = []

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:  # as an editor does: remember what to watch
        client.registrations.extend(params.registrations)

    capabilities = client_capabilities(editor)
    if not resolve:
        capabilities.text_document.code_action.resolve_support = None
    await client.initialize_session(types.InitializeParams(capabilities=capabilities, root_uri=project.as_uri()))


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, project: Path):
    await _start(lsp_client, project, "visual-studio-code")
    yield
    await lsp_client.shutdown_session()


async def published(client: LanguageClient, uri: str, count: int = 1) -> list[types.Diagnostic]:
    """The ``count``-th publication for ``uri`` (waiting for it)."""
    for _ in range(3000):
        history = client.diagnostics.history.get(uri, [])
        if len(history) >= count:
            return history[count - 1]
        await asyncio.sleep(0.01)
    raise AssertionError(f"no diagnostics published for {uri}")


def open_file(client: LanguageClient, project: Path, name: str, text: str) -> str:
    path = project / name
    path.write_text(text)
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
    )
    return uri


def close_file(client: LanguageClient, uri: str) -> None:
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))


def change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version, uri), [types.TextDocumentContentChangeWholeDocument(text)]
        )
    )


def cli_fixed(project: Path, name: str, text: str, *options: str) -> str:
    """What ``stablelint --fix`` writes, for a copy of the file in the same project."""
    copy = project / "cli" / name
    copy.parent.mkdir(exist_ok=True)
    copy.write_text(text)
    main(["--fix", "--quiet", *options, str(copy)])
    return copy.read_text()


def cli_explain(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["--explain", code])
    return out.getvalue().strip()


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    return len(text.encode("utf-16-le")) // 2


def offset(text: str, position: types.Position, encoding: str = "utf-16") -> int:
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    for index in range(len(line) + 1):
        if units(line[:index], encoding) >= position.character:
            return start + index
    return start + len(line)


def apply(text: str, edit: types.WorkspaceEdit, uri: str, encoding: str = "utf-16") -> str:
    """The client's side: apply a WorkspaceEdit's text edits (all relative to ``text``)."""
    if edit.document_changes:
        edits = [e for change in edit.document_changes if change.text_document.uri == uri for e in change.edits]
    else:
        edits = edit.changes[uri]
    spans = sorted(
        ((offset(text, e.range.start, encoding), offset(text, e.range.end, encoding), e.new_text) for e in edits),
        reverse=True,
    )
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


async def actions(client, uri, range_, diagnostics=(), only=None) -> list[types.CodeAction]:
    return await client.text_document_code_action_async(
        types.CodeActionParams(
            types.TextDocumentIdentifier(uri), range_, types.CodeActionContext(list(diagnostics), only=only)
        )
    )


async def edit_of(client: LanguageClient, action: types.CodeAction) -> types.WorkspaceEdit | None:
    """The action's edit, asked for as an editor asks when the user picks it."""
    if action.edit is not None:
        return action.edit
    return (await client.code_action_resolve_async(action)).edit


def _at(line: int, character: int) -> types.Range:
    return types.Range(types.Position(line, character), types.Position(line, character))


@in_session
async def test_diagnostics_on_open(client: LanguageClient, project: Path):
    uri = open_file(client, project, "three.py", THREE)
    diagnostics = await published(client, uri)
    cli = check_source(THREE, "three.py")
    assert [d.code for d in diagnostics] == ["STB101", "STB108", "STB106"] == [d.code for d in cli]
    first = diagnostics[0]
    line = THREE.splitlines()[4]
    start = line.index("torch.log(")
    end = line.index(")", line.index("dim=-1")) + 2
    # Columns in UTF-16 units: the emoji before the finding counts twice.
    assert first.range == types.Range(
        types.Position(4, units(line[:start], "utf-16")), types.Position(4, units(line[:end], "utf-16"))
    )
    assert units(line[:start], "utf-16") == start + 1
    for diagnostic, finding in zip(diagnostics, cli):
        assert diagnostic.source == "stablelint"
        assert diagnostic.severity == types.DiagnosticSeverity.Warning
        assert diagnostic.message == finding.message
        assert diagnostic.code_description is None  # no STABLELINT_DOCS_URL: no site to link; hover has the page
        assert diagnostic.range.end.line == finding.end_line - 1
    close_file(client, uri)


@in_session
async def test_quick_fix_is_what_fix_writes(client: LanguageClient, project: Path):
    uri = open_file(client, project, "one.py", ONE)
    (diagnostic,) = await published(client, uri)
    found = await actions(client, uri, diagnostic.range, [diagnostic])
    (fix,) = [a for a in found if a.kind == types.CodeActionKind.QuickFix and "noqa" not in a.title]
    assert fix.is_preferred and "unsafe" not in fix.title
    assert fix.diagnostics[0].code == "STB101"
    assert fix.edit is None  # VS Code resolves the edit when the fix is picked
    fixed = apply(ONE, await edit_of(client, fix), uri)
    assert fixed == cli_fixed(project, "one.py", ONE) != ONE
    close_file(client, uri)


@in_session
async def test_unsafe_quick_fix_says_so(client: LanguageClient, project: Path):
    uri = open_file(client, project, "unsafe.py", UNSAFE)
    (diagnostic,) = await published(client, uri)
    found = await actions(client, uri, diagnostic.range)
    (fix,) = [a for a in found if "noqa" not in a.title]
    assert "unsafe" in fix.title and not fix.is_preferred
    # The fix adds `import scipy.special`: the edit carries it too.
    assert apply(UNSAFE, await edit_of(client, fix), uri) == cli_fixed(project, "unsafe.py", UNSAFE, "--unsafe-fixes") != UNSAFE
    # Fix-all applies only safe fixes, and there are none here.
    assert list(await actions(client, uri, diagnostic.range, only=["source.fixAll"])) == []
    close_file(client, uri)


@in_session
async def test_fix_all_is_what_fix_writes(client: LanguageClient, project: Path):
    uri = open_file(client, project, "all.py", THREE)
    await published(client, uri)
    (fix_all,) = await actions(client, uri, _at(0, 0), only=[types.CodeActionKind.SourceFixAll])
    assert fix_all.kind == "source.fixAll.stablelint"
    assert fix_all.title == "Fix all stablelint issues"
    expected = cli_fixed(project, "all.py", THREE)
    assert apply(THREE, await edit_of(client, fix_all), uri) == expected
    assert "log_softmax" in expected and "log1p" in expected and "torch.log(1 + torch.exp(x))" in expected
    close_file(client, uri)


@in_session
async def test_add_noqa(client: LanguageClient, project: Path):
    uri = open_file(client, project, "noqa.py", THREE)
    diagnostics = await published(client, uri)
    by_code = {d.code: d for d in diagnostics}
    texts = {}
    for code in ("STB101", "STB108"):
        found = await actions(client, uri, by_code[code].range, [by_code[code]])
        (noqa,) = [a for a in found if "noqa" in a.title and a.diagnostics[0].code == code]
        texts[code] = apply(THREE, await edit_of(client, noqa), uri)
    assert texts["STB101"].splitlines()[4].endswith("dim=-1))  # noqa: STB101")
    # Merged with the codes already there, not a second comment.
    assert texts["STB108"].splitlines()[5] == "    q = torch.log(1 + torch.exp(x))  # noqa: E501, STB108"
    for code, text in texts.items():
        remaining = {d.code for d in filter_noqa(text, check_source(text, "noqa.py"))}
        assert remaining == {"STB101", "STB108", "STB106"} - {code}
    close_file(client, uri)


@in_session
async def test_hover_shows_the_rule_page(client: LanguageClient, project: Path):
    uri = open_file(client, project, "hover.py", ONE)
    (diagnostic,) = await published(client, uri)
    inside = types.Position(diagnostic.range.start.line, diagnostic.range.start.character + 3)
    hover = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), inside))
    assert hover.contents.kind == types.MarkupKind.Markdown
    evidence, _, page = hover.contents.value.partition("\n\n")
    assert evidence.startswith("**STB101**: underflow in float32: at logits = [0, -200] (float32): ")
    assert evidence.endswith("log_softmax(logits) = [0, -200]")
    assert page == cli_explain("STB101")
    assert hover.range == diagnostic.range
    nowhere = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 0))
    )
    assert nowhere is None
    close_file(client, uri)


@in_session
async def test_change_to_clean_text_clears(client: LanguageClient, project: Path):
    uri = open_file(client, project, "change.py", ONE)
    (diagnostic,) = await published(client, uri)
    offered = await actions(client, uri, diagnostic.range, [diagnostic])
    change(client, uri, 2, CLEAN)
    assert await published(client, uri, 2) == []
    # An action offered for the old text has no edit for the new one.
    assert offered and all([(await client.code_action_resolve_async(a)).edit is None for a in offered])
    close_file(client, uri)


@in_session
async def test_newer_text_wins(client: LanguageClient, project: Path):
    # The text is replaced before its first check ran: only the newer one is published.
    uri = open_file(client, project, "stale.py", ONE)
    change(client, uri, 2, CLEAN)
    assert await published(client, uri) == []
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))
    assert await published(client, uri, 2) == []
    assert client.diagnostics.history[uri] == [[], []]
    close_file(client, uri)


HELPER = """import torch


def probabilities(z):
    return torch.softmax(z, dim=-1)


def loss(z):
    return torch.log(probabilities(z))
"""


@in_session
async def test_an_edit_is_checked_first_where_it_is_then_where_it_reaches(client: LanguageClient, project: Path):
    uri = open_file(client, project, "helper.py", HELPER)
    assert [d.code for d in await published(client, uri)] == ["STB101"]
    change(client, uri, 2, HELPER.replace("torch.softmax(z, dim=-1)", "z"))
    # First the function edited, the finding in loss() kept; then loss(), which calls it.
    assert [d.code for d in await published(client, uri, 2)] == ["STB101"]
    assert await published(client, uri, 3) == []
    close_file(client, uri)


@in_session
async def test_settings_of_the_project(client: LanguageClient, project: Path):
    # per-file-ignores in the project's pyproject.toml turns STB106 off for quiet_*.py.
    uri = open_file(client, project, "quiet_three.py", THREE)
    assert [d.code for d in await published(client, uri)] == ["STB101", "STB108"]
    close_file(client, uri)



@in_session
async def test_code_that_does_not_parse_publishes_the_syntax_error(client: LanguageClient, project: Path):
    # As ruff's server does: the findings of the last text that parsed do not stay at lines
    # that have since moved; the syntax error is shown where it is.
    uri = open_file(client, project, "typing.py", ONE)
    assert len(await published(client, uri)) == 1
    change(client, uri, 2, ONE + "def half(:\n    return torch.log(\n")
    [error] = await published(client, uri, 2)
    assert error.severity == types.DiagnosticSeverity.Error and error.message.startswith("SyntaxError: ")
    assert error.range.start.line == 5  # the line of `def half(:` (0-based)
    change(client, uri, 3, CLEAN)
    assert await published(client, uri, 3) == []
    close_file(client, uri)


@in_session
async def test_saving_the_config_checks_again(client: LanguageClient, project: Path):
    sub = project / "sub"
    sub.mkdir()
    config = sub / "pyproject.toml"
    config.write_text('[tool.stablelint]\nignore = ["STB106"]\n')
    uri = open_file(client, sub, "three.py", THREE)
    assert [d.code for d in await published(client, uri)] == ["STB101", "STB108"]
    config.write_text("[tool.stablelint]\n")
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(config.as_uri())))
    assert [d.code for d in await published(client, uri, 2)] == ["STB101", "STB108", "STB106"]
    close_file(client, uri)


@in_session
async def test_a_bad_config_is_one_message(client: LanguageClient, project: Path):
    broken = project / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text('[tool.stablelint]\nselect = "STB1"\n')
    uri = open_file(client, broken, "three.py", THREE)
    assert await published(client, uri) == []
    change(client, uri, 2, THREE + "\n")
    assert await published(client, uri, 2) == []
    errors = [m.message for m in client.messages if "pyproject.toml" in m.message]
    assert len(errors) == 1 and "select: expected a list of code prefixes" in errors[0]
    close_file(client, uri)


@in_session
async def test_utf8_positions_and_eager_edits(project: Path):
    """A client that prefers UTF-8 columns, takes edits without document versions and
    cannot resolve an action's edit later (neovim's capabilities, without resolve)."""
    config = ClientServerConfig(server_command=SERVER)
    client = await config.start()
    try:
        await _start(client, project, "neovim", resolve=False)
        uri = open_file(client, project, "utf8.py", THREE)
        first = (await published(client, uri))[0]
        line = THREE.splitlines()[4]
        assert first.range.start.character == units(line[: line.index("torch.log(")], "utf-8")
        found = await actions(client, uri, first.range, [first])
        (fix,) = [a for a in found if a.kind == types.CodeActionKind.QuickFix and "noqa" not in a.title]
        assert all(action.edit is not None for action in found)
        assert fix.edit.document_changes is None
        fixed = apply(THREE, fix.edit, uri, "utf-8")
        assert fixed == THREE.replace("torch.log(torch.softmax(z, dim=-1))", "torch.log_softmax(z, dim=-1)")
        await client.shutdown_session()
    finally:
        await client.stop()


@in_session
async def test_a_document_above_the_size_limit_is_one_message(project: Path):
    config = ClientServerConfig(server_command=SERVER + ["--max-document-size", "0.0005"])  # 500 characters
    client = await config.start()
    try:
        await _start(client, project, "visual-studio-code")
        large = THREE + "\n" + "# padding\n" * 60
        uri = open_file(client, project, "large.py", large)
        assert await published(client, uri) == []
        change(client, uri, 2, large + "\n")
        assert await published(client, uri, 2) == []
        said = [m.message for m in client.messages if "large.py" in m.message]
        assert len(said) == 1 and "larger than 0.0005 MB (--max-document-size)" in said[0]
        assert len(THREE) < 500
        small = open_file(client, project, "small.py", THREE)
        assert await published(client, small) != []
        await client.shutdown_session()
    finally:
        await client.stop()


def test_without_pygls_one_line_and_exit_2():
    code = "import sys; sys.modules['pygls'] = None; from stablelint.__main__ import run; sys.exit(run())"
    done = subprocess.run([sys.executable, "-c", code, "server"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "stablelint: error: the language server needs pygls: pip install 'pygls>=2' (or install stablelint with its [lsp] extra)"
    ]



# -- the pieces the actions are made of, without a client

BACKSLASH = "import torch\n\ny = torch.log(1 + \\\n    torch.exp(x))  # softplus\nz = torch.log(1 + x.tanh() / 1e5)\r\n"


@pytest.mark.parametrize(
    "text, code, line",
    [
        (BACKSLASH, "STB108", 3),  # the comment goes on the statement's last line, after the one there
        (BACKSLASH, "STB106", 4),  # \r\n stays
        ('import torch\ns = """\n""" + str(torch.log(1 + x.tanh() / 1e5))  # noqa:E501,\n', "STB106", 2),
        ("\ufeffimport torch\ny = torch.log(1 + x.tanh() / 1e5)  # noqa: E501 \n", "STB106", 1),
    ],
)
def test_noqa_goes_where_flake8_reads_it(text, code, line):
    from stablelint.server import with_noqa

    (finding,) = [d for d in check_source(text, "t.py") if d.code == code]
    noted = with_noqa(text, finding)
    assert code not in {d.code for d in filter_noqa(noted, check_source(noted, "t.py"))}
    old_lines, new_lines = text.splitlines(keepends=True), noted.splitlines(keepends=True)
    changed = [i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b]
    assert changed == [line] and len(old_lines) == len(new_lines)
    assert new_lines[line].endswith(old_lines[line][len(old_lines[line].rstrip("\r\n")):])
    assert new_lines[line].count("noqa") == 1


@pytest.mark.parametrize(
    "old, new",
    [
        ("a = 1\r\nb = f(x)\r\nc = 3\r\n", "import m\r\na = 1\r\nb = g(x)\r\nc = 3\r\n"),
        ("x = '\U0001F642'; y = f(x)\n", "x = '\U0001F642'; y = g(x, 1)\n"),
        ("a\rb\rc", "a\rB\rc\rd\n"),
        ("one\ntwo\n", ""),
        ("", "new\n"),
    ],
)
def test_edits_turn_the_text_into_the_new_one(old, new):
    from pygls.workspace.position_codec import PositionCodec

    from stablelint.server import Lines

    edits = Lines(old, PositionCodec()).edits_to(new)
    assert apply(old, types.WorkspaceEdit(changes={"u": edits}), "u") == new


# -- notebooks: the cells of one notebook are one module, as for the CLI's .ipynb files

NOTEBOOK = [  # (code cell?, text)
    (True, "import torch\n"),
    (False, "The softmax of the logits, then its log:"),
    (True, "p = torch.softmax(z, dim=-1)\n%time q = 1\n"),
    (True, "y = torch.log(p)\nw = torch.log(1 + z.tanh() / 1e5)"),
]


def open_notebook(client: LanguageClient, project: Path, name: str, cells=NOTEBOOK) -> tuple[str, list[str]]:
    path = project / name
    uri = path.as_uri()
    cell_uris = [f"vscode-notebook-cell:{path.as_posix()}#cell{number}" for number in range(len(cells))]
    kinds = {True: types.NotebookCellKind.Code, False: types.NotebookCellKind.Markup}
    client.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(
            types.NotebookDocument(
                uri, "jupyter-notebook", 1,
                [types.NotebookCell(kinds[code], cell_uri) for (code, _), cell_uri in zip(cells, cell_uris)],
            ),
            [
                types.TextDocumentItem(cell_uri, "python" if code else "markdown", 1, text)
                for (code, text), cell_uri in zip(cells, cell_uris)
            ],
        )
    )
    return uri, cell_uris


def ipynb(cells=NOTEBOOK) -> str:
    """The same notebook as a file, for the CLI."""
    nbformat = pytest.importorskip("nbformat")
    book = nbformat.v4.new_notebook(metadata={"language_info": {"name": "python"}})
    book.cells = [nbformat.v4.new_code_cell(text) if code else nbformat.v4.new_markdown_cell(text) for code, text in cells]
    return nbformat.writes(book)


def cli_findings(project: Path, name: str, text: str) -> list[tuple[int, int, int, str]]:
    """(cell, line, column, code) of each finding the CLI reports for the notebook file."""
    import json

    copy = project / "cli" / name
    copy.parent.mkdir(exist_ok=True)
    copy.write_text(text)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["--format", "json", "--no-cache", str(copy)])
    return [(f["cell"], f["location"]["row"], f["location"]["column"], f["code"]) for f in json.loads(out.getvalue())]


def cell_texts_after(cells, cell_uris, edit: types.WorkspaceEdit) -> list[str]:
    touched = {change.text_document.uri for change in edit.document_changes or []} | set(edit.changes or {})
    return [apply(text, edit, cell_uri) if cell_uri in touched else text for (_, text), cell_uri in zip(cells, cell_uris)]


def cells_of(notebook_text: str) -> list[str]:
    import json

    return ["".join(cell["source"]) for cell in json.loads(notebook_text)["cells"]]


@in_session
async def test_notebook_cells_are_one_module(client: LanguageClient, project: Path):
    # `p` is defined in cell 3 and logged in cell 4: found as the CLI finds it in the .ipynb,
    # published on cell 4's own document, at the line and column within that cell.
    uri, cell_uris = open_notebook(client, project, "one.ipynb")
    found = []
    for number, cell_uri in enumerate(cell_uris, start=1):
        for diagnostic in await published(client, cell_uri):
            found.append((number, diagnostic.range.start.line + 1, diagnostic.range.start.character + 1, diagnostic.code))
    assert found and found == cli_findings(project, "one.ipynb", ipynb())
    assert {code for *_, code in found} == {"STB101", "STB106"}
    client.notebook_document_did_close(
        types.DidCloseNotebookDocumentParams(
            types.NotebookDocumentIdentifier(uri), [types.TextDocumentIdentifier(u) for u in cell_uris]
        )
    )
    assert await published(client, cell_uris[3], 2) == []  # closing clears the cells


@in_session
async def test_notebook_quick_fix_and_fix_all_are_what_fix_writes(client: LanguageClient, project: Path):
    uri, cell_uris = open_notebook(client, project, "two.ipynb")
    diagnostics = await published(client, cell_uris[3])
    expected = cells_of(cli_fixed(project, "two.ipynb", ipynb()))
    [fix_all] = await actions(client, cell_uris[3], _at(0, 0), only=[types.CodeActionKind.SourceFixAll])
    assert cell_texts_after(NOTEBOOK, cell_uris, await edit_of(client, fix_all)) == expected
    # One quick fix: only its own cells change, and the other finding stays.
    log1p = next(d for d in diagnostics if d.code == "STB106")
    quick_fixes = await actions(client, cell_uris[3], log1p.range, [log1p], only=[types.CodeActionKind.QuickFix])
    [quick_fix] = [a for a in quick_fixes if "noqa" not in a.title]
    after = cell_texts_after(NOTEBOOK, cell_uris, await edit_of(client, quick_fix))
    assert after[3] == "y = torch.log(p)\nw = torch.log1p(z.tanh() / 1e5)" and after[:3] == [text for _, text in NOTEBOOK[:3]]
    # noqa goes on the finding's line of its cell.
    noqa = next(a for a in quick_fixes if "noqa" in a.title)
    after = cell_texts_after(NOTEBOOK, cell_uris, await edit_of(client, noqa))
    assert after[3] == "y = torch.log(p)\nw = torch.log(1 + z.tanh() / 1e5)  # noqa: STB106"


@in_session
async def test_notebook_edit_checks_again(client: LanguageClient, project: Path):
    uri, cell_uris = open_notebook(client, project, "three.ipynb")
    assert len(await published(client, cell_uris[3])) == 2
    client.notebook_document_did_change(
        types.DidChangeNotebookDocumentParams(
            types.VersionedNotebookDocumentIdentifier(version=2, uri=uri),
            types.NotebookDocumentChangeEvent(
                cells=types.NotebookDocumentCellChanges(
                    text_content=[
                        types.NotebookDocumentCellContentChanges(
                            types.VersionedTextDocumentIdentifier(version=2, uri=cell_uris[3]),
                            [types.TextDocumentContentChangeWholeDocument("y = torch.log_softmax(z, -1)\n")],
                        )
                    ]
                )
            ),
        )
    )
    assert await published(client, cell_uris[3], 2) == []
    # The cell with the softmax has nothing of its own either way.
    assert await published(client, cell_uris[2], 2) == []


@in_session
async def test_notebook_cell_that_does_not_parse(client: LanguageClient, project: Path):
    cells = [*NOTEBOOK[:3], (True, "y = torch.log(p\n"), (True, "torch.log(1 + z.tanh() / 1e5)\n")]
    uri, cell_uris = open_notebook(client, project, "four.ipynb", cells)
    [error] = await published(client, cell_uris[3])
    assert error.severity == types.DiagnosticSeverity.Error and error.message.startswith("SyntaxError: ")
    assert [d.code for d in await published(client, cell_uris[4])] == ["STB106"]  # the other cells are checked


@in_session
async def test_config_change_seen_through_watched_files(client: LanguageClient, project: Path):
    # Clients configured for Python files never send didSave for pyproject.toml: the server
    # asks to be told of it (workspace/didChangeWatchedFiles) and checks again when it changes.
    assert any(r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES for r in client.registrations)
    uri = open_file(client, project, "watched.py", THREE)
    assert sorted(d.code for d in await published(client, uri)) == ["STB101", "STB106", "STB108"]
    config = project / "pyproject.toml"
    before = config.read_text()
    try:
        config.write_text(before.replace('"quiet_*.py"', '"watched.py"'))
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams([types.FileEvent(config.as_uri(), types.FileChangeType.Changed)])
        )
        assert [d.code for d in await published(client, uri, 2)] == ["STB101", "STB108"]
    finally:
        config.write_text(before)
    close_file(client, uri)
