"""The content-hash cache of the engine's findings: a file whose bytes were checked before,
by the same stablelint with the same ``assume-dtype``, is not parsed again.

What is cached is the engine's answer for a text, before select/ignore, per-file-ignores
and ``# noqa`` (those are applied to it on every run, so changing them needs no new
check). The key is: the file's absolute path (no rule reads it today, but an entry must
never outlive an assumption), its bytes, the code of stablelint itself (its version and a
hash of its modules: an edited rule is a different rule set), the cache format and
``assume-dtype``.

One small file per entry, ``<cache-dir>/<rule-set>/<ab>/<key>``: the findings, then the
record of what they rest on besides the text (the project index's other modules, callers
and precision profile), one read for both; written beside its final name and renamed into
it: concurrent runs each write whole entries, a reader sees a whole entry or none. A cache
that cannot be written costs one warning line, and the run goes on uncached; it never
changes a result or an exit status.

What an entry is trusted with, and no more: it is read only as a regular file (opened
without following a link, and without waiting: a FIFO is not read) of at most
`max_entry_size` bytes; its first line names its format, its key and a keyed digest of its
body, which must all be this entry's; and every finding in it must fit the text it is
read for (positions inside the text, a code some rule has, a message without control
characters, edits inside the text, imports that are dotted names). Anything else is a
miss, and the file is checked again. The digest's key is derived from stablelint's code,
not a secret: it proves an entry was written by this stablelint for this key, which a
truncated, edited or misplaced file cannot; it is no defence against someone who may
write the cache and knows how it is made (such a person may as well edit the code).

A cache folder that is a symbolic link is followed, as ruff follows one (that is how a
cache is moved to another disk), but only to a stablelint cache or an empty folder of the
user's; a link to anything else disables the cache for the run (one warning line), so
that a link planted in a checkout cannot make stablelint write into the folder it names.
Links inside the cache (a rule set's folder, an entry's folder, an entry) are never
followed. ``stablelint clean`` removes such a link, not what it points to (as ruff's).

Where it is, as in ruff: ``--cache-dir``, else ``cache-dir`` in ``[tool.stablelint]``,
else ``$STABLELINT_CACHE_DIR``, else ``.stablelint_cache`` in the project root (the
config file's folder, else the current one), with a ``.gitignore`` of ``*`` inside.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import time
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from stablelint import __version__
from stablelint.diagnostics import Diagnostic, Edit, Evidence, Fix, Import, ParseError

DEFAULT_DIR = ".stablelint_cache"
_RULE_SET_NAME = re.compile(r"[0-9a-f]{32}")
ENV_VAR = "STABLELINT_CACHE_DIR"
FORMAT = 3  # of an entry; part of the key
_HEADER = re.compile(rb"stablelint-cache (\d+) ([0-9a-f]{40}) ([0-9a-f]{40})\n")
_RULE_CODE = re.compile(rb"^\s+code = \"(STB\d{3})\"", re.M)  # as each rule class declares it
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # ANSI escapes start with one of these
_NEWLINE = re.compile(r"\r\n|\r|\n")  # where Python breaks lines, as the engine counts them
_DOTTED_NAME = re.compile(r"(?!\d)\w+(?:\.(?!\d)\w+)*")

_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by stablelint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


def cache_dir(option: str | None, configured: str | None, root: Path) -> Path:
    """The folder: the command line's, the config file's (already absolute), the
    environment's, or the default in ``root``."""
    chosen = option or configured or os.environ.get(ENV_VAR) or os.path.join(root, DEFAULT_DIR)
    return Path(os.path.abspath(os.path.expanduser(chosen)))


def rule_set_digest() -> str:
    """stablelint's version and the text of its modules: a rule edited in place (a
    development install) is another rule set, whatever the version says."""
    return _rule_set()[0]


def rule_codes() -> frozenset[str]:
    return _rule_set()[1]


def _rule_set() -> tuple[str, frozenset[str]]:
    """The digest, and the codes the rule modules declare (``code = "STB101"``), read
    from the same text: a warm run that the cache answers does not import the rules."""
    digest = hashlib.blake2b(f"{__version__}\0{FORMAT}".encode(), digest_size=16)
    package = Path(__file__).resolve().parent
    codes: set[str] = set()
    for module in sorted(package.rglob("*.py")):
        with contextlib.suppress(OSError):
            text = module.read_bytes()
            relative = module.relative_to(package)
            digest.update(str(relative).encode() + b"\0" + text + b"\0")
            if relative.parts[0] == "rules":
                codes.update(code.decode() for code in _RULE_CODE.findall(text))
    return digest.hexdigest(), frozenset(codes)


MAX_DEPENDS_SIZE = 16 << 20  # bytes of an entry's record of what it rests on


def max_entry_size(data_size: int) -> int:
    """The largest entry read for a file of ``data_size`` bytes: a finding takes ~150
    bytes and needs a few bytes of code, so an entry is never near this."""
    return (1 << 20) + 64 * data_size


@dataclass(frozen=True)
class Cache:
    """Picklable: ``--jobs`` workers get a copy and read and write entries themselves."""

    folder: str  # <cache dir>/<rule set>
    salt: bytes  # the settings that change the engine's findings
    codes: frozenset[str] = frozenset()  # the codes of the rules; a finding of another is not ours

    def key(self, path: str, data: bytes) -> str:
        name = os.path.abspath(path).encode("utf-8", "surrogateescape")
        digest = hashlib.blake2b(name + b"\0", digest_size=20, key=self.salt)
        digest.update(data)
        return digest.hexdigest()

    def _entry(self, key: str) -> str:
        return os.path.join(self.folder, key[:2], key[2:])

    def _body_digest(self, key: str, body: bytes) -> str:
        return hashlib.blake2b(key.encode() + b"\0" + body, digest_size=20, key=self.salt).hexdigest()

    def load(self, key: str, path: str, text: str, data_size: int) -> list[Diagnostic] | None:
        """The findings stored under ``key`` for ``text`` (``data_size`` bytes), named
        ``path``; None when there are none: never stored, or an entry that is not one
        stablelint wrote for this key and this text (see the module's notes)."""
        loaded = self.load_entry(key, path, text, data_size)
        return loaded[0] if loaded is not None else None

    def load_entry(self, key: str, path: str, text: str, data_size: int):
        """The findings stored under ``key`` and what they rest on besides the text (the
        record after the findings, which the entry's digest covers: an entry whose record
        was lost, replaced or is not its own is a miss), or None."""
        raw = _read_regular_file(
            os.path.join(self.folder, key[:2]), key[2:], max_entry_size(data_size) + MAX_DEPENDS_SIZE)
        if raw is None:
            return None
        header_end = raw.find(b"\n") + 1
        header = _HEADER.fullmatch(raw, 0, header_end) if header_end else None
        if header is None or header.group(1) != str(FORMAT).encode() or header.group(2) != key.encode():
            return None
        rest = raw[header_end:]
        if header.group(3) != self._body_digest(key, rest).encode():
            return None
        # JSON holds no raw NUL (json.dumps escapes it): the mark cannot be inside the findings.
        body, mark, depends_raw = rest.partition(_DEPENDS_MARK)
        if header_end + len(body) > max_entry_size(data_size) or len(mark) + len(depends_raw) > MAX_DEPENDS_SIZE:
            return None
        try:
            depends = json.loads(depends_raw) if mark else {}
            if not isinstance(depends, dict):
                return None
            items = json.loads(body)
            if type(items) is dict:
                return _parse_error(items, _Fits(text, self.codes)), depends
            fits = _Fits(text, self.codes)
            return [_diagnostic(path, item, fits) for item in items], depends
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
            return None

    def store(self, key: str, diagnostics: list[Diagnostic] | ParseError, data_size: int,
              depends: dict[str, str] | None = None) -> None:
        """Write the entry whole (beside, then renamed): the findings, then the record of
        what they rest on besides the text (``depends``: the project index's modules and
        profile), both covered by its digest; a failure is a cache miss next time. A text
        that does not parse is stored as its ``ParseError``: a re-run reports it again
        without loading the engine."""
        target = self._entry(key)
        try:
            items = (
                {"parse_error": [str(diagnostics), diagnostics.line, diagnostics.col]}
                if isinstance(diagnostics, ParseError) else [_item(d) for d in diagnostics]
            )
            body = json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
            depends_raw = _DEPENDS_MARK + json.dumps(
                depends, sort_keys=True, separators=(",", ":")).encode() if depends else b""
        except (UnicodeEncodeError, TypeError, ValueError):
            return
        header = f"stablelint-cache {FORMAT} {key} {self._body_digest(key, body + depends_raw)}\n".encode()
        if len(header) + len(body) > max_entry_size(data_size) or len(depends_raw) > MAX_DEPENDS_SIZE:
            return  # it would not be read back
        folder = os.path.dirname(target)
        try:
            try:
                if stat.S_ISLNK(os.lstat(folder).st_mode):
                    return  # a link planted in the cache is not followed
            except FileNotFoundError:
                os.makedirs(folder, exist_ok=True)
            _write_whole(folder, target, header + body + depends_raw, ".entry.")
        except OSError:
            pass


    # -- records: facts of the project index kept by content across runs (each file's
    # precision-profile evidence), one file per project, ``<rule set>/index/<name>``, with
    # the same proof as an entry (a keyed digest of name and body) and the same care in reading.

    def load_record(self, name: str) -> bytes | None:
        """The body of the record ``name`` as this stablelint wrote it, or None."""
        raw = _read_regular_file(os.path.join(self.folder, _RECORDS), name, MAX_RECORD_SIZE)
        if raw is None:
            return None
        header_end = raw.find(b"\n") + 1
        header = _RECORD_HEADER.fullmatch(raw, 0, header_end) if header_end else None
        body = raw[header_end:]
        if header is None or header.group(1) != name.encode() or \
                header.group(2) != self._body_digest(_RECORDS + name, body).encode():
            return None
        return body

    def store_record(self, name: str, body: bytes) -> None:
        """Write the record whole (beside, then renamed); a failure costs a recomputation."""
        if len(body) > MAX_RECORD_SIZE - 200 or not _RECORD_NAME.fullmatch(name):
            return
        folder = os.path.join(self.folder, _RECORDS)
        header = f"stablelint-record {name} {self._body_digest(_RECORDS + name, body)}\n".encode()
        try:
            try:
                if stat.S_ISLNK(os.lstat(folder).st_mode):
                    return  # a link planted in the cache is not followed
            except FileNotFoundError:
                os.makedirs(folder, exist_ok=True)
            _write_whole(folder, os.path.join(folder, name), header + body, ".record.")
        except OSError:
            pass


_RECORDS = "index"  # the folder of the records (an entry's folder is two hex digits)
_RECORD_NAME = re.compile(r"[0-9a-f]{32}")
_RECORD_HEADER = re.compile(rb"stablelint-record ([0-9a-f]{32}) ([0-9a-f]{40})\n")
MAX_RECORD_SIZE = 64 << 20

_DEPENDS_MARK = b"\0deps\0"  # between an entry's findings and its record of what they rest on


def _write_whole(folder: str, target: str, data: bytes, prefix: str) -> None:
    """``data`` into ``target``, written beside it and renamed (a reader sees all or none)."""
    import tempfile  # a re-run that the cache answers writes nothing: not imported then

    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=prefix)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _read_regular_file(folder: str, name: str, limit: int) -> bytes | None:
    """The bytes of ``folder/name`` if it is a regular file (not a link, FIFO or device)
    of at most ``limit`` bytes, in a folder that is not a link; else None. Opening does not
    wait (O_NONBLOCK: a FIFO with no writer would block an ordinary open) and follows no link."""
    flags = os.O_RDONLY | _NO_FOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        if os.open in os.supports_dir_fd and _NO_FOLLOW:
            folder_descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | _NO_FOLLOW)
            try:
                descriptor = os.open(name, flags, dir_fd=folder_descriptor)
            finally:
                os.close(folder_descriptor)
        else:
            descriptor = os.open(os.path.join(folder, name), flags)
    except OSError:
        return None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode) or status.st_size > limit:
            return None
        chunks, size = [], 0
        while chunk := os.read(descriptor, min(1 << 20, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while being read
                return None
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(descriptor)


def open_cache(folder: Path, assume_dtype: str | None, shims: tuple = ()) -> tuple[Cache | None, str | None]:
    """The cache in ``folder``, made ready to write: ``(cache, None)``, or ``(None, why)``
    when it cannot be used (then the run is uncached). ``shims``: the ``numpy-like`` setting,
    which changes what a file's names mean."""
    rule_set, codes = _rule_set()
    shim_text = ",".join(f"{module}={wraps}" for module, wraps in shims)
    salt = hashlib.blake2b(f"{rule_set}\0{assume_dtype or ''}\0{shim_text}".encode(), digest_size=32).digest()
    try:
        problem = _link_problem(folder)
        if problem:
            return None, f"stablelint: warning: cache disabled: {folder}: {problem}"
        _prepare(folder)
        entries = folder / rule_set
        entries.mkdir(exist_ok=True)
        if not stat.S_ISDIR(os.lstat(entries).st_mode):
            return None, f"stablelint: warning: cache disabled: {entries}: not a folder (a link is not followed)"
        if not os.access(entries, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied", str(entries))
        os.utime(entries)  # in use: see _prune
    except OSError as error:
        reason = error.strerror or str(error)
        return None, f"stablelint: warning: cache disabled: {error.filename or folder}: {reason}"
    _prune(folder, keep=rule_set)
    return Cache(str(entries), salt, codes), None


def _link_problem(folder: Path) -> str | None:
    """Why a cache folder that is a symbolic link is not used (None: it is not a link, or
    it names a stablelint cache or an empty folder of this user's)."""
    if not folder.is_symlink():
        return None
    try:
        target = os.stat(folder)
    except OSError:
        return "a symbolic link to nothing (not followed)"
    if not stat.S_ISDIR(target.st_mode):
        return "a symbolic link to something that is not a folder (not followed)"
    if is_cache(folder):
        return None
    if hasattr(os, "geteuid") and target.st_uid != os.geteuid():
        return "a symbolic link to another user's folder (not followed)"
    if any(os.scandir(folder)):
        return "a symbolic link to a folder that is not a stablelint cache (not followed)"
    return None


STALE_AFTER = 7 * 24 * 3600  # seconds a rule set's entries are kept unused


def _prune(folder: Path, keep: str) -> None:
    """Remove the entries of other rule sets (older stablelint versions, edited rules)
    that no run has used for a week. Each upgrade makes a new rule set, so without this
    the cache would only grow; a week lets two versions share a cache (a pre-commit hook
    and a development install) without removing each other's entries."""
    now = time.time()
    try:
        children = list(os.scandir(folder))
    except OSError:
        return
    for child in children:
        if child.name == keep or not _RULE_SET_NAME.fullmatch(child.name):
            continue
        try:
            if child.is_dir(follow_symlinks=False) and now - child.stat(follow_symlinks=False).st_mtime > STALE_AFTER:
                import shutil

                shutil.rmtree(child.path, ignore_errors=True)
        except OSError:
            continue


def is_cache(folder: Path) -> bool:
    """A folder stablelint made (its CACHEDIR.TAG says so): the only kind ``clean`` removes."""
    try:
        return (folder / "CACHEDIR.TAG").read_text(encoding="utf-8") == _TAG
    except (OSError, UnicodeDecodeError):
        return False


def remove(folder: Path) -> None:
    """``stablelint clean``: the cache folder and what it holds; a folder that is a
    symbolic link loses the link only, and what it names stays (as ``ruff clean``)."""
    if folder.is_symlink():
        os.unlink(folder)
    else:
        import shutil

        shutil.rmtree(folder)


def _prepare(folder: Path) -> None:
    """Create the folder with a ``.gitignore`` of ``*`` (so git ignores it wherever it
    is) and a CACHEDIR.TAG (so backup tools skip it), as ruff does."""
    created = not folder.is_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in ((".gitignore", "*\n"), ("CACHEDIR.TAG", _TAG)):
        marker = folder / name
        if created or not marker.exists():
            try:
                with open(marker, "x", encoding="utf-8") as stream:
                    stream.write(text)
            except FileExistsError:
                pass  # another run made it meanwhile


# -- entries: one JSON array per text, one array per finding (no names: compact and fast)


def _item(diagnostic: Diagnostic) -> list:
    fix = diagnostic.fix
    return [
        diagnostic.line, diagnostic.col, diagnostic.end_line, diagnostic.end_col, diagnostic.code,
        diagnostic.message,
        None if fix is None else [
            fix.safety,
            [[edit.start, edit.end, edit.content] for edit in fix.edits],
            [[item.module, item.name, item.asname] for item in fix.imports],
            fix.description,
        ],
        None if diagnostic.evidence is None else diagnostic.evidence.to_dict(),
    ]


class _Fits:
    """What a stored finding must fit: the text it is read for, and the rules' codes."""

    def __init__(self, text: str, codes: frozenset[str]):
        self.text = text
        self.codes = codes
        self._line_starts: list[int] | None = None

    def offset(self, line: int, col: int) -> int:
        """The character offset of a 1-based (line, column) inside the text, or TypeError."""
        if self._line_starts is None:
            text = self.text
            if "\r" in text:
                self._line_starts = [0] + [match.end() for match in _NEWLINE.finditer(text)]
            else:  # each line's start from the lengths of those before it, in C
                self._line_starts = list(accumulate(map((1).__add__, map(len, text.split("\n"))), initial=0))[:-1]
        starts = self._line_starts
        if type(line) is not int or type(col) is not int or not 1 <= line <= len(starts) or col < 1:
            raise TypeError("not a position in the text")
        line_end = starts[line] if line < len(starts) else len(self.text)
        offset = starts[line - 1] + col - 1
        if offset > line_end:
            raise TypeError("not a position in the text")
        return offset


def _parse_error(item: dict, fits: _Fits) -> ParseError:
    message, line, col = item["parse_error"]
    if type(message) is not str or _CONTROL.search(message):
        raise TypeError("not a parse error")
    if line is not None:
        fits.offset(line, 1)
    if col is not None and (type(col) is not int or col < 0):
        raise TypeError("not a parse error")
    return ParseError(message, line, col)


def _diagnostic(path: str, item: list, fits: _Fits) -> Diagnostic:
    line, col, end_line, end_col, code, message, fix, evidence = item
    if fits.offset(line, col) > fits.offset(end_line, end_col):
        raise TypeError("a finding that ends before it starts")
    if type(code) is not str or code not in fits.codes or type(message) is not str or _CONTROL.search(message):
        raise TypeError("not a finding")
    if fix is not None:
        safety, edits, imports, description = fix
        if safety not in ("safe", "unsafe") or type(description) is not str or _CONTROL.search(description):
            raise TypeError("not a fix")
        fix = Fix(
            safety,
            tuple(_edit(*edit, len(fits.text)) for edit in edits),
            tuple(_import(*item) for item in imports),
            description,
        )
    if evidence is not None:
        evidence = Evidence.from_dict(evidence)
        if _CONTROL.search(evidence.text()):
            raise TypeError("not evidence")
    return Diagnostic(path, line, col, end_line, end_col, code, message, fix, evidence=evidence)


def _edit(start: int, end: int, content: str, text_length: int) -> Edit:
    if type(start) is not int or type(end) is not int or type(content) is not str:
        raise TypeError("not an edit")
    if not 0 <= start <= end <= text_length:
        raise TypeError("not an edit")
    return Edit(start, end, content)


def _import(module: str, name: str | None, asname: str | None) -> Import:
    if type(module) is not str or not _DOTTED_NAME.fullmatch(module):
        raise TypeError("not an import")
    for part in (name, asname):
        if part is not None and (type(part) is not str or not part.isidentifier()):
            raise TypeError("not an import")
    return Import(module, name, asname)
