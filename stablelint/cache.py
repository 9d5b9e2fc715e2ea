"""The content-hash cache of the engine's findings: a file whose bytes were checked before,
by the same stablelint with the same ``assume-dtype``, is not parsed again.

What is cached is the engine's answer for a text, before select/ignore, per-file-ignores
and ``# noqa`` (those are applied to it on every run, so changing them needs no new
check). The key is: the file's absolute path (no rule reads it today, but an entry must
never outlive an assumption), its bytes, the code of stablelint itself (its version and a
hash of its modules: an edited rule is a different rule set), the cache format and
``assume-dtype``.

One small JSON file per entry, ``<cache-dir>/<rule-set>/<ab>/<key>``, written beside its
final name and renamed into it: concurrent runs each write whole entries, a reader sees a
whole entry or none. An entry that does not read back as findings (truncated, edited,
another format) is a miss. A cache that cannot be written costs one warning line, and the
run goes on uncached; it never changes a result or an exit status.

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
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from stablelint import __version__
from stablelint.diagnostics import Diagnostic, Edit, Evidence, Fix, Import

DEFAULT_DIR = ".stablelint_cache"
_RULE_SET_NAME = re.compile(r"[0-9a-f]{32}")
ENV_VAR = "STABLELINT_CACHE_DIR"
FORMAT = 2  # of an entry; part of the key

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
    digest = hashlib.blake2b(f"{__version__}\0{FORMAT}".encode(), digest_size=16)
    package = Path(__file__).resolve().parent
    for module in sorted(package.rglob("*.py")):
        with contextlib.suppress(OSError):
            digest.update(str(module.relative_to(package)).encode() + b"\0" + module.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class Cache:
    """Picklable: ``--jobs`` workers get a copy and read and write entries themselves."""

    folder: str  # <cache dir>/<rule set>
    salt: bytes  # the settings that change the engine's findings

    def key(self, path: str, data: bytes) -> str:
        name = os.path.abspath(path).encode("utf-8", "surrogateescape")
        digest = hashlib.blake2b(name + b"\0", digest_size=20, key=self.salt)
        digest.update(data)
        return digest.hexdigest()

    def _entry(self, key: str) -> str:
        return os.path.join(self.folder, key[:2], key[2:])

    def load(self, key: str, path: str) -> list[Diagnostic] | None:
        """The findings stored under ``key``, named ``path``; None when there are none
        (never stored, or an entry that does not read back)."""
        try:
            with open(self._entry(key), "rb") as stream:
                entry = json.loads(stream.read())
            return [_diagnostic(path, item) for item in entry]
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
            return None

    def store(self, key: str, diagnostics: list[Diagnostic]) -> None:
        """Write the entry whole (beside, then renamed); a failure is a cache miss next time."""
        target = self._entry(key)
        text = json.dumps([_item(d) for d in diagnostics], ensure_ascii=False, separators=(",", ":"))
        folder = os.path.dirname(target)
        try:
            try:
                descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".entry.")
            except FileNotFoundError:
                os.makedirs(folder, exist_ok=True)
                descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".entry.")
            try:
                with os.fdopen(descriptor, "wb") as stream:
                    stream.write(text.encode("utf-8", "surrogatepass"))
                os.replace(temporary, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except (OSError, UnicodeEncodeError):
            pass

    # -- what an entry rests on besides its own text (the project index: other modules, the
    # precision profile), beside the entry as ``<entry>.deps``: ``{name: digest}``.

    def store_depends(self, key: str, depends: dict[str, str]) -> None:
        if not depends:
            return
        target = self._entry(key) + ".deps"
        try:
            with open(target + ".tmp", "w", encoding="utf-8") as stream:
                json.dump(depends, stream, separators=(",", ":"))
            os.replace(target + ".tmp", target)
        except (OSError, UnicodeEncodeError):
            pass

    def depends_of(self, key: str) -> dict[str, str]:
        """What the entry under ``key`` rests on; empty when it rests on its text alone."""
        try:
            with open(self._entry(key) + ".deps", encoding="utf-8") as stream:
                depends = json.load(stream)
        except (OSError, ValueError):
            return {}
        return depends if isinstance(depends, dict) else {"<unreadable>": ""}


def open_cache(folder: Path, assume_dtype: str | None, shims: tuple = ()) -> tuple[Cache | None, str | None]:
    """The cache in ``folder``, made ready to write: ``(cache, None)``, or ``(None, why)``
    when it cannot be used (then the run is uncached). ``shims``: the ``numpy-like`` setting,
    which changes what a file's names mean."""
    rule_set = rule_set_digest()
    shim_text = ",".join(f"{module}={wraps}" for module, wraps in shims)
    salt = hashlib.blake2b(f"{rule_set}\0{assume_dtype or ''}\0{shim_text}".encode(), digest_size=32).digest()
    try:
        _prepare(folder)
        entries = folder / rule_set
        entries.mkdir(exist_ok=True)
        if not os.access(entries, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied", str(entries))
        os.utime(entries)  # in use: see _prune
    except OSError as error:
        reason = error.strerror or str(error)
        return None, f"stablelint: warning: cache disabled: {error.filename or folder}: {reason}"
    _prune(folder, keep=rule_set)
    return Cache(str(entries), salt), None


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
                shutil.rmtree(child.path, ignore_errors=True)
        except OSError:
            continue


def is_cache(folder: Path) -> bool:
    """A folder stablelint made (its CACHEDIR.TAG says so): the only kind ``clean`` removes."""
    try:
        return (folder / "CACHEDIR.TAG").read_text(encoding="utf-8") == _TAG
    except (OSError, UnicodeDecodeError):
        return False


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


def _diagnostic(path: str, item: list) -> Diagnostic:
    line, col, end_line, end_col, code, message, fix, evidence = item
    for number in (line, col, end_line, end_col):
        if type(number) is not int:
            raise TypeError("not a position")
    if type(code) is not str or type(message) is not str:
        raise TypeError("not a finding")
    if fix is not None:
        safety, edits, imports, description = fix
        if safety not in ("safe", "unsafe") or type(description) is not str:
            raise TypeError("not a fix")
        fix = Fix(
            safety,
            tuple(_edit(*edit) for edit in edits),
            tuple(_import(*item) for item in imports),
            description,
        )
    if evidence is not None:
        evidence = Evidence.from_dict(evidence)
    return Diagnostic(path, line, col, end_line, end_col, code, message, fix, evidence=evidence)


def _edit(start: int, end: int, content: str) -> Edit:
    if type(start) is not int or type(end) is not int or type(content) is not str or not 0 <= start <= end:
        raise TypeError("not an edit")
    return Edit(start, end, content)


def _import(module: str, name: str | None, asname: str | None) -> Import:
    if type(module) is not str or not all(part is None or type(part) is str for part in (name, asname)):
        raise TypeError("not an import")
    return Import(module, name, asname)
