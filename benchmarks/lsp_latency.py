"""The language server's latency, as an editor sees it: time from an edit to the diagnostics
of the new text, on a large file; and the first diagnostics of a very large document.

    python benchmarks/lsp_latency.py                    # a 5,000-line file, 10 edits
    python benchmarks/lsp_latency.py --lines 20000 --edits 5
    python benchmarks/lsp_latency.py --megabytes 8      # one 8 MB document: time to first diagnostics
    python benchmarks/lsp_latency.py --files a.py b.py  # real files, joined into one document

The server runs as a subprocess over stdio (``stablelint server --change-delay 0``, so the
debounce delay is not counted), driven by pygls' client. The server publishes the function
edited first and again once what the edit reaches elsewhere is checked (if that changed the
findings): both times are given, the last one taken after a second without publications.
The file is model code of the kind the rules look at (layers, losses, a few findings),
repeated to the size asked for, or real modules joined (``--files``); each edit changes one
line in the middle (in real code: a comment typed at the end of a statement in a function),
and the time is from sending the change to receiving the diagnostics published for that
version. Peak memory is the server's (``/proc``, VmHWM).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

BLOCK = '''\
class Block{n}(torch.nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc = torch.nn.Linear(dim, dim)
        self.norm = torch.nn.LayerNorm(dim)

    def forward(self, x, target):
        h = self.norm(torch.relu(self.fc(x)))
        probs = F.softmax(h, dim=-1)
        loss = -torch.log(probs).gather(1, target[:, None]).mean()
        scale = torch.log(1 + h.abs()).mean()
        std = h.std(dim=0, keepdim=True)
        z = (h - h.mean(dim=0, keepdim=True)) / (std + 1e-5)
        return loss + scale + z.sum()


def helper_{n}(logits, y):
    p = torch.sigmoid(logits)
    safe = torch.clamp(p, 1e-6, 1 - 1e-6)
    return -(y * torch.log(safe) + (1 - y) * torch.log(1 - safe)).mean()


'''
HEADER = "import torch\nimport torch.nn.functional as F\n\n\n"


def source_of(lines: int | None = None, megabytes: float | None = None) -> str:
    block_lines = BLOCK.count("\n")
    if megabytes is not None:
        count = max(1, int(megabytes * 1024 * 1024 / len(BLOCK)))
    else:
        count = max(1, (lines - HEADER.count("\n")) // block_lines)
    return HEADER + "".join(BLOCK.format(n=n) for n in range(count))


def joined(paths: list[str]) -> str:
    """Real modules as one document (each ends with a newline and two blank lines)."""
    return "".join(Path(path).read_text().rstrip("\n") + "\n\n\n" for path in paths)


def edited_line(text: str) -> int:
    """The line an edit changes (0-based): in real code the one-line statement inside a
    function nearest the middle (a comment is typed at its end); else the middle line."""
    middle = text.count("\n") // 2
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return middle
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    lines = [
        node.lineno - 1 for function in functions for node in function.body
        if isinstance(node, (ast.Assign, ast.Expr, ast.Return)) and node.lineno == node.end_lineno
    ]
    return min(lines, key=lambda line: abs(line - middle), default=middle)


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


async def measure(text: str, edits: int, real: bool = False, settle: float = 1.0) -> dict:
    client = LanguageClient("lsp-latency", "1")
    published: dict[int | None, list[float]] = {}  # version -> when each publication arrived
    arrived = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        published.setdefault(params.version, []).append(time.perf_counter())
        arrived.set()

    await client.start_io(sys.executable, "-m", "stablelint", "server", "--change-delay", "0")
    pid = client._server.pid  # the subprocess pygls started
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.py"
        path.write_text(text)
        uri = path.as_uri()
        await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                             root_uri=Path(folder).as_uri()))
        client.initialized(types.InitializedParams())

        async def wait_for(version: int) -> float:
            while version not in published:
                arrived.clear()
                await asyncio.wait_for(arrived.wait(), timeout=600)
            return published[version][0]

        async def settled(version: int) -> float:
            """The last publication of ``version``: the server publishes the function edited
            first, then again if what the edit reaches elsewhere changed the findings."""
            while True:
                count = len(published[version])
                await asyncio.sleep(settle)
                if len(published[version]) == count:
                    return published[version][-1]

        sent = time.perf_counter()
        client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text)))
        first = await wait_for(1) - sent
        lines = text.splitlines(keepends=True)
        middle = edited_line(text)
        kept = lines[middle].rstrip("\r\n")
        latencies, completions = [], []
        for version in range(2, edits + 2):
            lines[middle] = f"{kept}  # edit {version}\n" if real else f"# edit {version}\n"
            changed = "".join(lines)
            sent = time.perf_counter()
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=version, uri=uri),
                [types.TextDocumentContentChangeWholeDocument(changed)],
            ))
            latencies.append(await wait_for(version) - sent)
            completions.append(await settled(version) - sent)
        peak = peak_rss_mb(pid)
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    return {"first": first, "latencies": latencies, "completions": completions, "peak_rss_mb": peak}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--lines", type=int, default=5000, help="lines of the document (default 5000)")
    size.add_argument("--megabytes", type=float, help="the document's size in MB instead")
    size.add_argument("--files", nargs="+", metavar="FILE", help="real modules joined into the document instead")
    parser.add_argument("--edits", type=int, default=10, help="edits timed (default 10; 0 with --megabytes)")
    args = parser.parse_args(argv)
    text = joined(args.files) if args.files else source_of(None if args.megabytes else args.lines, args.megabytes)
    edits = 0 if args.megabytes and args.edits == 10 else args.edits
    result = asyncio.run(measure(text, edits, real=bool(args.files)))
    print(f"document: {text.count(chr(10)):,} lines, {len(text) / 1e6:.2f} MB")
    print(f"open -> first diagnostics: {result['first'] * 1000:.0f} ms")
    for key, said in (("latencies", "edit -> diagnostics"), ("completions", "edit -> last diagnostics")):
        if result[key]:
            ms = sorted(seconds * 1000 for seconds in result[key])
            p90 = ms[min(len(ms) - 1, round(0.9 * (len(ms) - 1)))]
            print(f"{said}: median {statistics.median(ms):.0f} ms, p90 {p90:.0f} ms, best {ms[0]:.0f} ms, "
                  f"worst {ms[-1]:.0f} ms over {len(ms)} edits")
    if result["peak_rss_mb"] is not None:
        print(f"server peak RSS: {result['peak_rss_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
