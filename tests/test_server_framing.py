"""The language server's framing of a large message that arrives in many reads."""

from __future__ import annotations

import json

import pytest

from stablelint import server_io


def framed(body: bytes, length: int | None = None) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % (len(body) if length is None else length) + body


def body_of(text: str) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"text": text}}).encode()


def fed_in_reads(data: bytes, size: int) -> list[tuple[bytes, str | None]]:
    framer = server_io.Framer()
    found = []
    for start in range(0, len(data), size):
        framer.feed(data[start:start + size])
        found += framer.messages()
    found += framer.messages(at_end=True)
    return found


class CountingHeader:
    """`server_io._HEADER` that counts the bytes its searches read."""

    def __init__(self, pattern):
        self.pattern = pattern
        self.read = 0

    def search(self, buffer, pos=0, endpos=None):
        end = len(buffer) if endpos is None else min(endpos, len(buffer))
        found = self.pattern.search(buffer, pos, end)
        self.read += max(0, (found.end() if found else end) - pos)
        return found

    def match(self, buffer, *args):
        return self.pattern.match(buffer, *args)


def test_a_large_body_is_searched_once_not_once_per_read(monkeypatch):
    body = body_of("x = torch.log(torch.softmax(h, dim=-1))\n" * 20_000)  # about 1 MB
    counting = CountingHeader(server_io._HEADER)
    monkeypatch.setattr(server_io, "_HEADER", counting)
    found = fed_in_reads(framed(body) + framed(b'{"a": 1}'), 1 << 12)
    assert found == [(body, None), (b'{"a": 1}', None)]
    # Each read's bytes are searched about once (plus a few bytes where a read ends), not
    # all the body received so far after each of its 250 reads.
    assert counting.read < 2 * len(body)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16, 64])
def test_a_header_cut_between_reads_inside_a_body_too_long_is_still_found(size):
    first, second = body_of("first"), body_of("second")
    data = framed(first, len(first) + 10_000) + framed(second)
    found = fed_in_reads(data, size)
    assert found == [
        (first, f"a Content-Length of {len(first) + 10_000} bytes runs into the next message"),
        (second, None),
    ]


@pytest.mark.parametrize("size", [1, 5, 40])
def test_a_header_with_spaces_and_a_carriage_return_cut_anywhere_is_found(size):
    first, second = body_of("a" * 50), body_of("b")
    data = framed(first, len(first) + 500) + b"content-length:   %d  \r\n\r\n" % len(second) + second
    found = fed_in_reads(data, size)
    assert [body for body, _ in found] == [first, second]
