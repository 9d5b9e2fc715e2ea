"""The language server's reading loop over standard input: pygls's framing, made to
answer every request and to find its feet after a framing error.

pygls 2 reads ``Content-Length`` headers with a line-exact match, so one message without
the header, or with a wrong length, makes it lose that message and, as the next header
is then glued to the leftover bytes, every message after it: the editor waits forever.
And a request whose params do not fit their type is dropped without a reply. Here:

- Every complete JSON object that is a request gets a reply: its result, or a JSON-RPC
  error (-32602 for params that do not fit, -32700 for a body that is not JSON).
- A framing error is one ``stablelint server: framing error: ...`` warning on standard
  error, and reading goes on at the next ``Content-Length`` header: a header is found
  anywhere in a line (a body without a header is glued to the next one), a body never
  runs over the next header (a length too long; raw CR LF cannot occur inside a JSON
  string, so the header is not part of the body), and bytes left over before a header are
  joined to a body cut too short. A message whose bytes are whole is then handled as if
  it had been framed right (and the warning says "recovered"); one that is not is
  answered with an error when its id can be read, and otherwise only logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from typing import BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.io_ import StdoutWriter

log = logging.getLogger("stablelint.server")

_HEADER = re.compile(rb"Content-Length:[ \t]*(\d+)[ \t]*\r\n", re.IGNORECASE)
_HEADERS_END = b"\r\n\r\n"
_HEADER_NAME = b"Content-Length:"
_HEADER_VALUE_BYTES = frozenset(b" \t\r0123456789")
MAX_BODY = 1 << 30  # bytes; a larger Content-Length is a framing error, not a wait for a gigabyte
PARSE_ERROR = -32700
INVALID_REQUEST = -32600


def framing_warning(text: str) -> None:
    """One line on standard error, where editors show a server's log."""
    print(f"stablelint server: framing error: {text}", file=sys.stderr, flush=True)


class Framer:
    """Messages out of a byte stream with ``Content-Length`` framing, resynchronising after
    a bad frame. ``feed`` bytes, then iterate ``messages()``: (body, problem) pairs, where
    ``problem`` says what was wrong with the frame (None: nothing). A body that turns out
    not to be JSON is given back with `hold` while iterating: it may be a body cut short,
    whose rest comes before the next header."""

    def __init__(self):
        self.buffer = bytearray()
        self.held = b""
        # How much of the buffer the search for a header inside the body still to come has
        # read: a large body arrives in many reads, and searching all of it after each read
        # took quadratic time (an 8 MB document: seconds).
        self.searched = 0

    def feed(self, data: bytes) -> None:
        self.buffer += data

    def hold(self, body: bytes) -> None:
        self.held = body

    def _release(self, skipped: bytes = b"") -> tuple[bytes, str] | None:
        held, self.held = self.held, b""
        if not held and b"\r\n\r\n" in skipped:
            skipped = skipped.rpartition(b"\r\n\r\n")[2]  # after headers without a valid Content-Length
        if skipped.strip():
            problem = "a body shorter than its Content-Length" if held else "a message without a Content-Length header"
            return held + skipped, problem
        return (held, "a body that is not JSON") if held else None

    def messages(self, at_end: bool = False):
        while True:
            header = _HEADER.search(self.buffer)
            if header is None:
                if at_end:
                    released = self._release(bytes(self.buffer))
                    self.buffer.clear()
                    if released:
                        yield released
                return
            skipped = bytes(self.buffer[:header.start()])
            if header.start():
                del self.buffer[:header.start()]
                self.searched = 0
            released = self._release(skipped)
            if released:
                yield released
                continue  # the header is searched for again: the buffer starts with it
            header = _HEADER.match(self.buffer)
            headers_end = self.buffer.find(_HEADERS_END, header.end() - 2)
            if headers_end < 0:
                return  # the rest of the headers is still to come
            length = int(header.group(1))
            body_start = headers_end + len(_HEADERS_END)
            if length > MAX_BODY:
                del self.buffer[:body_start]
                self.searched = 0
                yield b"", f"a Content-Length of {length} bytes (more than {MAX_BODY})"
                continue
            next_header = _HEADER.search(self.buffer, self._search_from(body_start), body_start + length)
            if next_header is not None:
                # The length runs over the next message: the body is what comes before it.
                body = bytes(self.buffer[body_start:next_header.start()])
                del self.buffer[:next_header.start()]
                self.searched = 0
                yield body, f"a Content-Length of {length} bytes runs into the next message"
                continue
            if len(self.buffer) < body_start + length:
                self.searched = len(self.buffer)
                return  # the body is still to come
            body = bytes(self.buffer[body_start:body_start + length])
            del self.buffer[:body_start + length]
            self.searched = 0
            yield body, None

    def _search_from(self, body_start: int) -> int:
        """Where the search for a header in the body must start: after what earlier reads
        searched, less a header the end of that data may have cut (its name, and the
        spaces, digits and carriage return of its value there)."""
        start = self.searched
        if start <= body_start:
            return body_start
        while start > body_start and self.buffer[start - 1] in _HEADER_VALUE_BYTES:
            start -= 1
        return max(body_start, start - len(_HEADER_NAME))


def _request_id(body: bytes):
    """The id of the request in ``body``, if it is a JSON object that has one (else None)."""
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if isinstance(raw, dict) and "method" in raw and isinstance(raw.get("id"), (int, str)):
        return raw["id"]
    return None


def _why(cause: BaseException | None) -> str:
    """What cattrs found wrong in the params, in a few words (``invalid value @ $.range.start``)."""
    if cause is None:
        return ""
    try:
        import cattrs

        if isinstance(cause, cattrs.BaseValidationError):
            return ": " + "; ".join(cattrs.transform_error(cause)[:3])
    except Exception:  # noqa: BLE001 - only the wording of an error line depends on it
        pass
    text = str(cause).splitlines()
    return f": {text[0]}" if text else ""


class QuietDeserializeErrors(logging.Filter):
    """pygls logs a traceback for each message whose params do not fit; `handle_body`
    answers it and says so in one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unable to deserialize message")


def handle_body(protocol, body: bytes, problem: str | None) -> bool:
    """Hand one message to pygls, and answer a request pygls would have dropped. False:
    ``body`` is not JSON and came without a framing problem (it may be a body cut short:
    the caller holds it, and it comes back with its rest and a problem)."""
    try:
        message = json.loads(body, object_hook=protocol.structure_message)
    except JsonRpcException as error:
        request_id = _request_id(body)
        detail = _why(error.__cause__)
        if problem is not None:
            framing_warning(f"{problem}; its bytes are whole, but not a valid message{detail}")
        code = error.code if isinstance(error, JsonRpcInvalidParams) else INVALID_REQUEST
        answer = "no id to answer" if request_id is None else f"answered with {code}"
        log.warning("stablelint server: a message that does not fit its type%s (%s)", detail, answer)
        if request_id is not None:
            protocol._send_response(request_id, error=types.ResponseError(code, f"{error.message}{detail}"))
        return True
    except (ValueError, RecursionError):
        if problem is None:
            return False
        request_id = _request_id(body)
        framing_warning(f"{problem}; the message is lost")
        protocol._send_response(request_id, error=types.ResponseError(PARSE_ERROR, "Parse error: not a JSON message"))
        return True
    if problem is not None:
        framing_warning(f"{problem}; recovered: the message was handled")
    try:
        protocol.handle_message(message)
    except Exception:  # noqa: BLE001 - as pygls's own loop: one message must not end the server
        log.exception("Unable to handle message")
    return True


async def read_messages(server, stdin: BinaryIO) -> None:
    """pygls's ``run_async``, with `Framer` in place of its line-exact header reading."""
    loop = asyncio.get_running_loop()
    framer = Framer()
    read = getattr(stdin, "read1", stdin.read)
    while not server._stop_event.is_set():
        data = await loop.run_in_executor(server.thread_pool, read, 1 << 16)
        framer.feed(data)
        for body, problem in framer.messages(at_end=not data):
            if not body and problem is not None:
                framing_warning(problem + "; skipped")
            elif not handle_body(server.protocol, body, problem):
                framer.hold(body)
        if not data:
            break


def start_io(server, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
    """pygls's ``start_io`` (asynchronous), reading with `read_messages`."""
    import threading

    logging.getLogger("pygls.protocol.json_rpc").addFilter(QuietDeserializeErrors())
    server._stop_event = threading.Event()
    server.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
    try:
        asyncio.run(read_messages(server, stdin or sys.stdin.buffer))
    except BrokenPipeError:
        log.error("Connection to the client is lost! Shutting down the server.")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()
