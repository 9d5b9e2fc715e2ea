"""A hostile or broken language client: the real server, over stdio. Every request gets an
answer (a result or a JSON-RPC error, -32602 for params that do not fit), a document never
opened is not an internal error, codeAction/resolve checks what the client sends back, and
a framing error costs at most the message it hit (and one log line), not the session."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import select
import subprocess
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types  # noqa: E402
from pygls.exceptions import JsonRpcException  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402
from test_server import ONE, SERVER, _start, published  # noqa: E402

in_session = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("project")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, project: Path):
    await _start(lsp_client, project, "visual-studio-code")
    yield
    await lsp_client.shutdown_session()


_request_ids = itertools.count(1)


async def request(client: LanguageClient, method: str, params) -> object:
    """A request with raw params, as a broken client sends them (pytest-lsp's client would
    type-check them first), answered within 30 s: its result, or raises its error."""
    request_id = f"raw-{next(_request_ids)}"
    answer: Future = Future()
    client.protocol._request_futures[request_id] = answer
    client.protocol._send_data({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
    return await asyncio.wait_for(asyncio.wrap_future(answer), 30)


async def error_of(client: LanguageClient, method: str, params) -> JsonRpcException:
    with pytest.raises(JsonRpcException) as raised:
        await request(client, method, params)
    return raised.value


def _position(line=0, character=0):
    return {"line": line, "character": character}


@in_session
@pytest.mark.parametrize(("method", "params"), [
    ("textDocument/hover", [1, 2, 3]),
    ("textDocument/hover", {"textDocument": {"uri": "file:///x.py"}}),
    ("textDocument/hover", {"textDocument": {"uri": "file:///x.py"}, "position": {"line": "first", "character": 0}}),
    ("textDocument/hover", {"textDocument": {"uri": "file:///x.py"}, "position": _position(-5)}),
    ("textDocument/codeAction", {"textDocument": {"uri": "file:///x.py"},
                                 "range": {"start": _position(-5), "end": _position()},
                                 "context": {"diagnostics": []}}),
    ("textDocument/codeAction", None),
    ("codeAction/resolve", "not an action"),
])
async def test_a_request_with_bad_params_is_answered_with_invalid_params(client: LanguageClient, method, params):
    error = await error_of(client, method, params)
    assert error.code == -32602


@in_session
async def test_hover_and_code_actions_on_a_document_never_opened_are_empty(client: LanguageClient, project: Path):
    for uri in ((project / "never_opened.py").as_uri(), (project / "missing.py").as_uri()):
        (project / "never_opened.py").write_text(ONE)
        assert await request(client, "textDocument/hover", {"textDocument": {"uri": uri}, "position": _position(4, 20)}) is None
        code_action = {"textDocument": {"uri": uri}, "range": {"start": _position(4), "end": _position(4, 30)},
                       "context": {"diagnostics": []}}
        assert await request(client, "textDocument/codeAction", code_action) is None


@in_session
async def test_resolve_checks_the_index_the_client_sends_back(client: LanguageClient, project: Path):
    path = project / "one.py"
    path.write_text(ONE)
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, ONE)))
    await published(client, uri)
    offered = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), types.Range(types.Position(4, 0), types.Position(4, 60)),
        types.CodeActionContext([]),
    ))
    fix = next(action for action in offered if action.data[2] == "fix")
    assert fix.data[3] == 0
    resolved = await request(client, "codeAction/resolve", {"title": fix.title, "data": fix.data})
    assert resolved.edit.documentChanges[0].edits  # the genuine index resolves
    for index in (-1, 1, 99999, "0", None, 0.5):
        data = [*fix.data[:3], index]
        error = await error_of(client, "codeAction/resolve", {"title": "x", "data": data})
        assert error.code == -32602, index
    for data in ([uri, 1, "rm -rf", 0], [uri], "x", None, [(project / "other.py").as_uri(), 1, "fix", 0]):
        error = await error_of(client, "codeAction/resolve", {"title": "x", "data": data})
        assert error.code == -32602, data
    # The session is still good.
    hover = await request(client, "textDocument/hover", {"textDocument": {"uri": uri}, "position": _position(4, 20)})
    assert "STB101" in hover.contents.value


# -- framing: raw bytes over the server's standard input


def frame(message: dict, length: int | None = None, header: bool = True) -> bytes:
    body = json.dumps(message).encode()
    if not header:
        return body
    return f"Content-Length: {len(body) if length is None else length}\r\n\r\n".encode() + body


def hover(request_id: int, uri: str) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "method": "textDocument/hover",
            "params": {"textDocument": {"uri": uri}, "position": _position(4, 20)}}


class RawServer:
    def __init__(self, cwd: Path):
        self.process = subprocess.Popen(
            SERVER, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.output = b""

    def send(self, data: bytes) -> None:
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def answers(self, ids: set, timeout: float = 30) -> dict:
        """The responses with these ids, read from standard output."""
        deadline = time.monotonic() + timeout
        found = {}
        while time.monotonic() < deadline:
            for part in self.output.split(b"Content-Length: ")[1:]:
                _, _, body = part.partition(b"\r\n\r\n")
                try:
                    message = json.loads(body[: int(part.split(b"\r\n")[0])])
                except ValueError:
                    continue
                if message.get("id") in ids and "method" not in message:
                    found[message.get("id")] = message
            if set(found) == ids:
                return found
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if ready:
                self.output += os.read(self.process.stdout.fileno(), 1 << 16)
        raise AssertionError(f"answers {sorted(ids - set(found))} never came; got {sorted(found)}")

    def stop(self) -> str:
        self.process.kill()
        self.process.wait(timeout=10)
        return self.process.stderr.read().decode()


@pytest.mark.parametrize("broken", ["no header", "length too short", "length too long", "length not a number"])
def test_after_a_framing_error_the_server_recovers_and_says_so(tmp_path, broken):
    (tmp_path / "one.py").write_text(ONE)
    uri = (tmp_path / "one.py").as_uri()
    server = RawServer(tmp_path)
    try:
        server.send(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}))
        server.answers({1})
        server.send(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        open_params = {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": ONE}}
        server.send(frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": open_params}))
        bad = hover(2, uri)
        length = len(json.dumps(bad))
        if broken == "no header":
            server.send(b"\r\n" + frame(bad, header=False))
        elif broken == "length not a number":
            server.send(b"Content-Length: many\r\n\r\n" + frame(bad, header=False))
        else:
            server.send(frame(bad, length - 10 if broken == "length too short" else length + 40))
        server.send(frame(hover(3, uri)) + frame(hover(4, uri)))
        answered = server.answers({2, 3, 4})
        # The message after the broken one, and the one after it, are answered as usual ...
        assert "STB101" in answered[3]["result"]["contents"]["value"]
        assert answered[4] == {**answered[3], "id": 4}
        # ... and the broken one too: its bytes were whole, so it was handled.
        assert answered[2] == {**answered[3], "id": 2}
    finally:
        stderr = server.stop()
    framing = [line for line in stderr.splitlines() if line.startswith("stablelint server: framing error: ")]
    assert len(framing) == 1 and framing[0].endswith("recovered: the message was handled"), stderr
    assert "Traceback" not in stderr


def test_a_body_that_is_not_json_is_answered_with_a_parse_error_and_the_session_goes_on(tmp_path):
    server = RawServer(tmp_path)
    try:
        server.send(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}))
        server.answers({1})
        server.send(b"Content-Length: 12\r\n\r\n{not json!!}")
        server.send(frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}))
        answered = server.answers({None, 3})
        assert answered[None]["error"]["code"] == -32700
        assert answered[3]["result"] is None
    finally:
        stderr = server.stop()
    assert "Traceback" not in stderr
