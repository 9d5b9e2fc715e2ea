"""The README's editor set-ups, tested as far as they can be without the editors: every
set-up starts the same command, and that command, started as a generic LSP client starts
it, answers ``initialize`` and publishes a finding for an opened file."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EDITORS = README[README.index("## In editors"):README.index("## As a libcst codemod")]

pytest.importorskip("pygls")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", EDITORS, re.S)


def test_every_editor_set_up_starts_stablelint_server():
    (vscode,) = [json.loads(b) for b in blocks("json") if "glspc.server.command" in b]
    commands = [[vscode["glspc.server.command"], *vscode["glspc.server.commandArguments"]]]
    assert vscode["glspc.server.languageId"] == ["python"]
    for lua in blocks("lua"):
        commands += [re.findall(r'"([^"]+)"', found) for found in re.findall(r"cmd = \{([^}]*)\}", lua)]
    helix = "".join(blocks("toml"))
    commands.append([re.search(r'command = "([^"]+)"', helix).group(1), *re.findall(r'"([^"]+)"', re.search(
        r"args = \[([^\]]*)\]", helix).group(1))])
    assert len(commands) >= 5  # VS Code, Neovim 0.11, 0.8-0.10, lspconfig, Helix
    assert all(command == ["stablelint", "server"] for command in commands), commands


def test_vscode_flake8_extension_is_told_to_use_the_environments_flake8():
    (settings,) = [json.loads(b) for b in blocks("json") if "flake8.importStrategy" in b]
    assert settings == {"flake8.importStrategy": "fromEnvironment"}


class Client:
    """A minimal LSP client over the server's standard input and output."""

    def __init__(self, command: list[str], cwd: Path):
        self.process = subprocess.Popen(
            command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self.messages: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 0

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.messages.put(json.loads(stream.read(length)))

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def request(self, method: str, params) -> dict:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == self.next_id and "method" not in m)

    def wait(self, wanted, seconds: float = 120) -> dict:
        while True:
            message = self.messages.get(timeout=seconds)
            if "method" in message and "id" in message:  # a request from the server: answer it
                self.send({"id": message["id"], "result": None})
            if wanted(message):
                return message


def test_the_command_speaks_lsp_as_a_generic_client_starts_it(tmp_path):
    executable = shutil.which("stablelint")
    command = [executable, "server"] if executable else [sys.executable, "-m", "stablelint", "server"]
    (tmp_path / "model.py").write_text("import torch\n\ny = torch.log(torch.softmax(x, 1))\n")
    client = Client(command, tmp_path)
    try:
        answer = client.request("initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}})
        capabilities = answer["result"]["capabilities"]
        assert capabilities["codeActionProvider"] and capabilities["hoverProvider"]
        assert answer["result"]["serverInfo"]["name"] == "stablelint"
        client.send({"method": "initialized", "params": {}})
        uri = (tmp_path / "model.py").as_uri()
        client.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": (tmp_path / "model.py").read_text(),
        }}})
        published = client.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                                 and m["params"]["uri"] == uri)
        assert [d["code"] for d in published["params"]["diagnostics"]] == ["STB101"]
        client.request("shutdown", None)
        client.send({"method": "exit", "params": None})
        assert client.process.wait(timeout=60) == 0
    finally:
        if client.process.poll() is None:
            client.process.kill()
            client.process.wait()
