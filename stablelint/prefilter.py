"""The text prefilter: which files, and which of their lines, a rule can start at.

Every rule starts at a trigger word (``log``, ``exp``, ``std`` …), at a square minus
something, at a loss, or, in a file that may compute in half precision, at a constant.
These scans run over every file, parsed or not, so they are written to stay in C: whether
a file holds a word at all is found with ``str.find``; in a file that does, every word search
goes through `_WordIndex` (one translated copy of the text, searched per word with
``bytes.find``); every other regex either starts at a literal or runs only on the lines such
a search picked. A
regex alternating many words, or one anchored at the start of every line, costs more than
parsing the file.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import Iterable

from stablelint import frameworks


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _word_starts(source: str, word: str, start: int = 0, stop: int | None = None):
    """Offsets of ``word`` standing alone (``log``, not ``logging``) in ``source[start:stop]``."""
    find, length = source.find, len(word)
    stop = len(source) if stop is None else stop
    position = find(word, start, stop)
    while position != -1:
        if not (position and _is_word_char(source[position - 1])) and not _is_word_char(
            source[position + length : position + length + 1]
        ):
            yield position
        position = find(word, position + length, stop)


# ``\w`` is what `_is_word_char` accepts (``str.isalnum`` or "_"): each match is a word
# standing alone.
_WORD = re.compile(r"\w+")


class _WordIndex:
    """Where each word of one source stands alone, every word search of the file being
    checked answered in C. The file is asked about dozens of words (the trigger words, their
    aliases, the names defined from them, the loss and half-precision words); searching for
    each with ``str.find`` tested every hit inside a longer identifier (``x`` in ``max``) in
    Python, and cost more than parsing on code dense in short names.

    An ASCII text (nearly all code) is copied once with every character that cannot be in a
    word made a space (``bytes.translate``); a word standing alone is then `` word `` in the
    copy, found by ``bytes.find`` the first time it is asked. Another text is scanned once
    for every word (a regex in C, into a dictionary of offsets)."""

    def __init__(self, source: str):
        self.source = source
        self.offsets: dict[str, list[int]] = {}
        self._spaced: bytes | None = None
        self._words: set[bytes] | None = None
        if source.isascii():
            self._spaced = b" " + source.encode("ascii").translate(_WORD_BYTES) + b" "
            return
        offsets = self.offsets
        for match in _WORD.finditer(source):
            found = offsets.get(match.group())
            if found is None:
                offsets[match.group()] = [match.start()]
            else:
                found.append(match.start())

    def _spelled(self) -> set[bytes]:
        """The words of an ASCII text (the copy split, in C): most words asked are not in
        the file, and a search for one reads the whole copy."""
        if self._words is None:
            self._words = set(self._spaced.split())
        return self._words

    def _of(self, word: str) -> list[int]:
        """The sorted offsets of ``word`` (do not modify the list)."""
        found = self.offsets.get(word)
        if found is None:
            found = []
            if self._spaced is not None and word.isascii() and word.encode("ascii") in self._spelled():
                # `` word `` found at p in the copy (one space longer in front) is the word at p.
                needle = b" " + word.encode("ascii") + b" "
                find, step = self._spaced.find, len(needle) - 1  # the next may share the space
                position = find(needle)
                while position != -1:
                    found.append(position)
                    position = find(needle, position + step)
                self.offsets[word] = found
        return found

    def of(self, words: Iterable[str], start: int, stop: int | None) -> list[int]:
        words = tuple(words)
        stop = len(self.source) if stop is None else stop
        # A word counts where all of it stands within [start, stop), as str.find counts it.
        if len(words) == 1:
            found = self._of(words[0])  # sorted already: sliced below, a copy
            return found[bisect_left(found, start):bisect_right(found, stop - len(words[0]))]
        found = []
        for word in words:
            offsets = self._of(word)
            found.extend(offsets[bisect_left(offsets, start):bisect_right(offsets, stop - len(word))])
        found.sort()
        return found


# Every byte that is not a word character (``\w`` in ASCII) becomes a space.
_WORD_BYTES = bytes(code if chr(code).isalnum() and code < 128 or chr(code) == "_" else ord(" ") for code in range(256))


# The index of the file being checked: built by the scans that ask about many words
# (`candidate_lines` and after), read by every later word search in the same text.
_indexed: _WordIndex | None = None


def _word_index(source: str) -> _WordIndex:
    global _indexed
    index = _indexed
    if index is None or index.source is not source:
        index = _indexed = _WordIndex(source)
    return index


def word_offsets(source: str, words: Iterable[str], start: int = 0, stop: int | None = None) -> list[int]:
    """Sorted offsets of each word standing alone, within ``source[start:stop]``."""
    index = _indexed
    if index is not None and index.source is source:
        return index.of(words, start, stop)
    offsets = [offset for word in words for offset in _word_starts(source, word, start, stop)]
    offsets.sort()
    return offsets


def _indexed_offsets(source: str, words: Iterable[str]) -> list[int]:
    """`word_offsets` for a scan that asks about many words: through the word index."""
    return _word_index(source).of(words, 0, None)


def has_word(source: str, word: str) -> bool:
    """``word`` standing alone somewhere in ``source``."""
    return next(_word_starts(source, word), None) is not None


_NEWLINES = re.compile(r"\r\n|\r|\n")


def lines_of(source: str, offsets: Iterable[int]) -> list[int]:
    """The distinct 1-based lines of sorted offsets, counting line breaks as the tokenizer
    does ("\\r" alone is one too)."""
    if "\r" in source:
        def breaks(start: int, end: int) -> int:
            return sum(1 for _ in _NEWLINES.finditer(source, start, end))
    else:
        def breaks(start: int, end: int) -> int:
            return source.count("\n", start, end)
    lines: list[int] = []
    line, position = 1, 0
    for offset in offsets:
        line += breaks(position, offset)
        position = offset
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def word_lines(source: str, words: Iterable[str]) -> list[int]:
    """Lines on which one of ``words`` stands alone."""
    return lines_of(source, _indexed_offsets(source, words))


def _line_start(source: str, offset: int) -> int:
    return source.rfind("\n", 0, offset) + 1


# ---------------------------------------------------------------- the variance, written out

# ``mean(x**2) - mean(x)**2`` has no trigger word: a line with a square and a subtraction is
# one. Only lines holding a "*", "square" or "pow" are tried.
_SQUARE_HINT = re.compile(r"\*|square|pow")
_SQUARE_AND_MINUS_LINE = re.compile(
    r"(?=[^\n]*?(?:\*\*\s*2\b|\bsquare\b|\bpow\b|\b(\w+)\s*\*\s*\1\b))(?=[^\n]*?[\w)\]]\s*-\s*[\w(])"
)


def _square_line_starts(source: str):
    """Offsets of the starts of lines with a square and a subtraction."""
    last = -1
    for hint in _SQUARE_HINT.finditer(source):
        start = _line_start(source, hint.start())
        if start != last:
            last = start
            if _SQUARE_AND_MINUS_LINE.match(source, start):
                yield start


def square_minus_lines(source: str) -> list[int]:
    return lines_of(source, _square_line_starts(source))


def has_square_minus(source: str) -> bool:
    return next(_square_line_starts(source), None) is not None


# ------------------------------------------------------------------------------ the losses

_IDENTIFIER = re.compile(r"\w*")


def _loss_word_starts(source: str):
    """Offsets of the loss words (``binary_crossentropy``, ``BCELoss`` …) standing alone: the
    identifiers around each of the loss words' stems are looked up (a regex alternating the
    twenty words is a hundred times slower)."""
    for stem in frameworks.LOSS_STEMS:
        position = source.find(stem)
        while position != -1:
            start = position
            while start and _is_word_char(source[start - 1]):
                start -= 1
            if _IDENTIFIER.match(source, start).group() in frameworks.LOSS_WORDS:
                yield start
            position = source.find(stem, position + len(stem))


def mentions_a_loss(source: str) -> bool:
    """A loss's name stands in ``source``."""
    return next(_loss_word_starts(source), None) is not None


# ``self.criterion = nn.BCELoss()``: the name a loss object is bound to, when the loss word
# follows the "=".
_LOSS_OBJECT = re.compile(r"[ \t]*(?:[A-Za-z_][\w.]*\.)?([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)")


def loss_lines(source: str, aliases: set[str]) -> tuple[list[int], set[str]]:
    """Lines that can hold a loss finding, and the names loss objects are bound to.

    The loss rules (STB3xx) start at a loss function's call or at the call of a loss
    object, which is often built elsewhere (``self.criterion = nn.BCELoss()`` …
    ``self.criterion(p, y)``).
    """
    loss_offsets = sorted(set(_loss_word_starts(source)))
    objects = set()
    for offset in loss_offsets:
        assignment = _LOSS_OBJECT.match(source, _line_start(source, offset), offset)
        if assignment:
            objects.add(assignment.group(1))
    more = (aliases | objects) - frameworks.LOSS_WORDS
    offsets = sorted(set(loss_offsets).union(_indexed_offsets(source, more))) if more else loss_offsets
    return lines_of(source, offsets), objects


# ------------------------------------------------------------------- trigger words and names

# Names assigned on a line that computes one of these are followed to the lines using them
# (``e = torch.exp(x)`` … ``e - 1``; ``s = x.std(0)`` … ``x / s``).
_DEFINING_WORDS = (
    "exp", "std", "var", "norm", "relu", "rand", "det", "inv", "inverse", "nan", "NaN", "NAN", "one_hot", "eye",
)
# ... except a module's own layer or buffer of that name: ``h = self.norm(h)`` is a
# LayerNorm, ``self.std`` a constant. Following every ``h`` of a transformer block from
# there cost a sixth of the analysis and found nothing.
_MODULE_MEMBERS = frozenset({"norm", "std", "var"})
_ASSIGNED_NAMES = re.compile(r"[ \t]*([A-Za-z_]\w*(?:[ \t]*,[ \t]*[A-Za-z_]\w*)*)[ \t]*(?::[^=\n]*)?=(?!=)")
_ASSIGNED_NAME = re.compile(r"[ \t]*([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)")


def _assigned_from_words(source: str) -> set[str]:
    """Names assigned on a line that mentions exp, std … (``e = torch.exp(x)``, and
    ``e, f = exp(x), exp(-x)``)."""
    names: set[str] = set()
    last = -1
    for offset in _indexed_offsets(source, _DEFINING_WORDS):
        if offset >= 5 and source.startswith("self.", offset - 5):
            if _IDENTIFIER.match(source, offset).group() in _MODULE_MEMBERS:
                continue
        start = _line_start(source, offset)
        if start == last:
            continue
        last = start
        assignment = _ASSIGNED_NAMES.match(source, start, offset)
        if assignment:
            names.update(name.strip() for name in assignment.group(1).split(","))
    return names


_RETURN = re.compile(r"[ \t]*return\b")
_DEF_NAME = re.compile(r"def[ \t]+([A-Za-z_]\w*)")


def _returned_from_words(source: str) -> set[str]:
    """Functions that return an exp straight away (``def gamma(x): return lgamma(x).exp()``):
    a call of them carries the exp to its use (``gamma(a) / gamma(b)``)."""
    names: set[str] = set()
    for offset in _indexed_offsets(source, ("exp",)):
        start = _line_start(source, offset)
        if not _RETURN.match(source, start, offset):
            continue
        definition = source.rfind("def ", 0, start)
        match = _DEF_NAME.match(source, definition) if definition >= 0 else None
        if match:
            names.add(match.group(1))
    return names


def _assigned_from(source: str, names: set[str]) -> set[str]:
    """Names assigned alone on a line where one of ``names`` follows the "="."""
    assigned = set()
    for offset in _indexed_offsets(source, names):
        assignment = _ASSIGNED_NAME.match(source, _line_start(source, offset), offset)
        if assignment:
            assigned.add(assignment.group(1))
    return assigned


def candidate_lines(source: str, aliases: set[str]) -> list[int]:
    """Lines that can hold a finding: the trigger words and their aliases, and the lines
    that use names defined from them (``e = exp(x)`` … ``w = e`` … ``w - 1``)."""
    words = set(frameworks.TRIGGER_OPS | aliases)
    defined = _assigned_from_words(source) | _returned_from_words(source)
    searched: set[str] = set()
    for _ in range(3):  # names defined from those names, a few links deep
        if not defined - words:
            break
        words |= defined
        fresh = defined - searched
        searched |= fresh
        defined = _assigned_from(source, fresh) | defined
    words |= defined
    lines = word_lines(source, words)
    squares = square_minus_lines(source) + one_minus_tiny_lines(source)
    return sorted(set(lines).union(squares)) if squares else lines


# A bound or constant written ``1 - 1e-8``: the clamp rule STB504 starts there (no trigger word).
# The pattern starts at its literal "1" (one that starts with ``\b`` is tried at every
# position); the word boundary before it is tested on each match.
_ONE_MINUS_TINY = re.compile(r"1(?:\.0*)?\s*-\s*\d+(?:\.\d*)?[eE]-\d+")


def _one_minus_tiny_starts(source: str):
    """Where ``\\b1 - 1e-8`` matches, as ``finditer`` would find it."""
    position = 0
    while (match := _ONE_MINUS_TINY.search(source, position)) is not None:
        start = match.start()
        if start and _is_word_char(source[start - 1]):
            position = start + 1  # no boundary: the same search from the next character
        else:
            yield start
            position = match.end()


def one_minus_tiny_lines(source: str) -> list[int]:
    if "e-" not in source and "E-" not in source:
        return []
    return lines_of(source, _one_minus_tiny_starts(source))


def might_match(source: str) -> bool:
    """Can any rule match in ``source``? Every rule starts at a trigger word, at a square
    minus something, or at a loss."""
    if any(has_word(source, word) for word in frameworks.TRIGGER_OPS):
        return True
    return has_square_minus(source) or mentions_a_loss(source) or bool(one_minus_tiny_lines(source))


# ------------------------------------------------------------------------- half precision

def may_be_half(source: str, dtype: str | None) -> bool:
    """Can this file compute in float16/bfloat16? Then the STB5xx rules check its constants."""
    return dtype in ("float16", "bfloat16") or any(has_word(source, word) for word in frameworks.HALF_PRECISION_WORDS)


# What the STB5xx rules start at: a number with an exponent or of five digits and more
# (``1e-8``, ``-1e9``, ``100000``), ``masked_fill``/``where``, and names bound to such a number.
_HALF_NUMBER = re.compile(r"\d(?:[eE][-+]?\d|\d{4})")
_HALF_WORDS = ("masked_fill", "masked_fill_", "where")
# ``eps = 1e-8``, ``eps: float = 1e-8``, ``f(eps=1e-8)``: found at the "=", then the name
# before it is read back.
_EQUALS_CONSTANT = re.compile(r"=\s*-?[\d.]+(?:[eE][-+]?\d+|\d{4,})\b")
_NAME_BEFORE_EQUALS = re.compile(r"(?<!\w)([A-Za-z_]\w*)\s*(?::\s*\w+\s*)?")


def _bound_to_constant(source: str) -> frozenset[str]:
    names = set()
    for match in _EQUALS_CONSTANT.finditer(source):
        equals = match.start()
        start = _line_start(source, equals)
        for name in _NAME_BEFORE_EQUALS.finditer(source, start, equals):
            if name.end() == equals:
                names.add(name.group(1))
                break
    return frozenset(names)


def half_precision_candidates(source: str) -> bool:
    """Does the file hold a constant a precision rule could start at (``1e-8``, ``-1e9``)?
    Only then is the project's precision profile asked about it."""
    return _HALF_NUMBER.search(source) is not None


def half_precision_lines(source: str) -> tuple[list[int], frozenset[str]]:
    """The lines a precision rule can start at, in a file that may compute in half
    precision, and the names bound to a constant there (``eps = 1e-8``)."""
    offsets = [match.start() for match in _HALF_NUMBER.finditer(source)]
    names = _bound_to_constant(source)
    offsets = sorted(set(offsets).union(_indexed_offsets(source, (*_HALF_WORDS, *names))))
    return lines_of(source, offsets), names
