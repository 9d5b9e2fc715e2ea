"""Where a project's files are: its root, its Python files, and a stamp of them.

Kept apart from the index (``project.py``) because a re-run that the cache answers needs
only this: which project a file belongs to, and whether any file of that project changed
name, size or time since an entry was stored (``unchanged``). It imports no part of the
evaluator, so such a run does not load it.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

MAX_FILES = 20000
MAX_FILE_BYTES = 1_000_000
_SKIPPED_FOLDERS = frozenset({
    ".git", ".hg", ".svn", "__pycache__", ".tox", ".nox", ".venv", "venv", "env", "node_modules",
    "site-packages", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".stablelint_cache", ".eggs", "build", "dist",
})
FILES = "<project files>"  # in what a cached finding rests on: every file's name, size and time


class DiskFiles:
    """The project's files on disk, below ``root``. The list of them is found once (the
    index's searches, its precision profile and the stamp all ask); ``forget`` finds it again."""

    def __init__(self, root: str):
        self.root = root
        self._python_files: list[str] | None = None

    def read(self, relative: str) -> str | None:
        full = os.path.join(self.root, relative)
        try:
            status = os.stat(full)
            if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_FILE_BYTES:
                return None  # a FIFO or device would block the read, or never end
            with open(full, "rb") as stream:
                data = stream.read()
        except OSError:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")

    def exists(self, relative: str) -> bool:
        return os.path.isfile(os.path.join(self.root, relative))

    def stamp(self) -> str:
        """A digest of every Python file's name, size and modification time."""
        digest = hashlib.blake2b(digest_size=16)
        root = self.root
        for relative in self.python_files():
            try:
                status = os.stat(os.path.join(root, relative))
            except OSError:
                continue
            digest.update(f"{relative}\0{status.st_size}\0{status.st_mtime_ns}\0".encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def forget(self) -> None:
        """A file may have been added or removed: list them again when next asked."""
        self._python_files = None

    def python_files(self) -> list[str]:
        """The ``.py`` files below the root, as ``os.walk`` from the top finds them (each
        folder's files sorted, then its folders, sorted, skipping `_SKIPPED_FOLDERS`, hidden
        ones and links), at most `MAX_FILES`."""
        if self._python_files is None:
            self._python_files = self._walk()
        return self._python_files

    def _walk(self) -> list[str]:
        found: list[str] = []
        pending = [(self.root, "")]
        while pending:
            folder, prefix = pending.pop()
            try:
                with os.scandir(folder) as listing:
                    entries = list(listing)
            except OSError:
                continue
            files, folders = [], []
            for entry in entries:
                try:
                    is_folder = entry.is_dir()
                except OSError:
                    is_folder = False
                if not is_folder:
                    files.append(entry.name)
                elif entry.name not in _SKIPPED_FOLDERS and not entry.name.startswith("."):
                    try:
                        if not entry.is_symlink():  # os.walk lists a linked folder, never enters it
                            folders.append(entry.name)
                    except OSError:
                        continue
            for name in sorted(files):
                if name.endswith(".py"):
                    found.append(prefix + name)
                    if len(found) >= MAX_FILES:
                        return found
            pending.extend((os.path.join(folder, name), f"{prefix}{name}/") for name in sorted(folders, reverse=True))
        return found


class MemoryFiles:
    """A project given as texts by relative path (a benchmark's snapshot, a test)."""

    def __init__(self, texts: dict[str, str]):
        self.texts = texts

    def read(self, relative: str) -> str | None:
        return self.texts.get(relative)

    def exists(self, relative: str) -> bool:
        return relative in self.texts

    def stamp(self) -> str:
        digest = hashlib.blake2b(digest_size=16)
        for relative in self.python_files():
            digest.update(relative.encode() + b"\0" + self.texts[relative].encode("utf-8", "surrogatepass") + b"\0")
        return digest.hexdigest()

    def forget(self) -> None:
        pass

    def python_files(self) -> list[str]:
        return sorted(path for path in self.texts if path.endswith(".py"))[:MAX_FILES]


# -- the stamp of each project's files on disk, once per run

_stamps: dict[str, str] = {}  # root -> DiskFiles(root).stamp()


def files_stamp(root: str, files: DiskFiles | None = None) -> str:
    stamp = _stamps.get(root)
    if stamp is None:
        stamp = _stamps[root] = (files if files is not None else DiskFiles(root)).stamp()
    return stamp


def forget_stamp(root: str) -> None:
    _stamps.pop(root, None)


def unchanged(path: str, depends: dict[str, str]) -> bool:
    """Did no file of the project of ``path`` change name, size or time since ``depends``
    (what a cached finding rests on) was recorded? Then everything it rests on is as it
    was. False says only that the index must look closer (``ProjectIndex.still``)."""
    if FILES not in depends:
        return False
    root = root_for(path)
    return root is not None and depends[FILES] == files_stamp(root)


# -- which project a file belongs to

_given_root: str | None = None


ROOT_VARIABLE = "STABLELINT_PROJECT_ROOT"


def set_root(root: str | None) -> None:
    """The folder a front-end gives (the CLI: the common root of the paths it checks): the
    search for a project's marker goes no higher; worker processes inherit it through the
    environment."""
    global _given_root
    _given_root = os.path.abspath(root) if root else None
    _roots.clear()
    if _given_root:
        os.environ[ROOT_VARIABLE] = _given_root
    else:
        os.environ.pop(ROOT_VARIABLE, None)


def reset() -> None:
    """Forget every root, configuration and stamp (a new run reads the projects as they are now)."""
    _roots.clear()
    _configured_folders.clear()
    _configured_above.clear()
    _marked.clear()
    _stamps.clear()
    _shared.clear()


# What marks the top of a project (besides a ``[tool.stablelint]`` configuration).
_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git", ".hg")
_roots: dict[str, str | None] = {}  # folder -> the root of the project its files belong to
_marked: dict[str, bool] = {}  # folder -> does it hold one of `_PROJECT_MARKERS`
_configured_above: dict[str, str | None] = {}  # folder -> the nearest configured folder holding it


def root_for(path: str) -> str | None:
    """The root of the project ``path`` belongs to: the folder of its configuration, else
    the nearest folder above it that marks a project (``pyproject.toml``, ``setup.py``,
    ``setup.cfg``, ``.git``, ``.hg``), searched no higher than the higher of the root a
    front-end gives and the current folder that holds it, else the folder holding its top package (its own folder for a
    script). A folder of many repositories is never one project by itself, nor are ``/``,
    the home folder and the temporary folder: a file directly in one has no project (None)."""
    if not path or path.startswith("<"):
        return None
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in _roots:
        _roots[folder] = _find_root(folder)
    return _roots[folder]


def _find_root(folder: str) -> str | None:
    configured = _nearest_configured(folder)
    if configured is not None:
        return configured
    holding = [candidate for candidate in (_given_root or os.environ.get(ROOT_VARIABLE), os.getcwd())
               if candidate and _below(folder, candidate)]
    # The higher of the two where both hold the file: the CLI given one file of a project,
    # run from inside that project, finds the marker flake8 run from there finds.
    bound = min(holding, key=len) if holding else None
    shared = _shared_folders()
    current = folder
    while True:
        if current not in shared and _has_marker(current):
            return current
        parent = os.path.dirname(current)
        if current == bound or parent == current:
            break
        current = parent
    current = folder
    while os.path.isfile(os.path.join(current, "__init__.py")) and os.path.dirname(current) not in shared | {current}:
        current = os.path.dirname(current)
    return None if current in shared else current


def _nearest_configured(folder: str) -> str | None:
    """The nearest folder holding ``folder`` (itself included) that is `_configured`."""
    if folder in _configured_above:
        return _configured_above[folder]
    climbed = []
    current = folder
    found = None
    while True:
        if current in _configured_above:
            found = _configured_above[current]
            break
        climbed.append(current)
        if _configured(current):
            found = current
            break
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for seen in climbed:
        _configured_above[seen] = found
    return found


def _has_marker(folder: str) -> bool:
    known = _marked.get(folder)
    if known is None:
        known = _marked[folder] = any(os.path.exists(os.path.join(folder, marker)) for marker in _PROJECT_MARKERS)
    return known


_shared: set[str] = set()


def _shared_folders() -> set[str]:
    """Folders that hold unrelated things, never a project by themselves (without a
    configuration): ``/``, the home folder (dotfiles under git) and the temporary folder
    (every program's scratch files). A file directly in one is checked alone; a package
    there is its own project."""
    if not _shared:
        import tempfile

        _shared.update({os.path.abspath(os.sep), os.path.abspath(os.path.expanduser("~")),
                        os.path.abspath(tempfile.gettempdir())})
    return _shared


_configured_folders: dict[str, bool] = {}


def _configured(folder: str) -> bool:
    """Does ``folder`` hold a pyproject.toml with ``[tool.stablelint]`` (``config.find_config``
    asked of one folder, each read once per run)?"""
    known = _configured_folders.get(folder)
    if known is None:
        from stablelint.config import _read_toml

        candidate = os.path.join(folder, "pyproject.toml")
        try:
            # A file that does not spell the name has no such table: not parsed.
            known = os.path.isfile(candidate) and b"stablelint" in Path(candidate).read_bytes() and \
                "stablelint" in _read_toml(Path(candidate)).get("tool", {})
        except Exception:  # an unreadable config is the CLI's to report, not the index's
            known = False
        _configured_folders[folder] = known
    return known


def _below(folder: str, root: str) -> bool:
    return folder == root or folder.startswith(root.rstrip(os.sep) + os.sep)
