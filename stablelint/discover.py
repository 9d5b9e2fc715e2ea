"""Which files a run checks: the paths given, folders walked for ``*.py``/``*.pyi`` and
Jupyter notebooks (``*.ipynb``), minus the excludes and whatever ``.gitignore`` files ignore."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from stablelint.config import PathMatcher, Settings

if TYPE_CHECKING:
    import pathspec  # loaded where a .gitignore is read: it is a slow import (asyncio)

PYTHON_SUFFIXES = (".py", ".pyi")
WALKED_SUFFIXES = (*PYTHON_SUFFIXES, ".ipynb")


@dataclass
class Discovery:
    files: list[str] = field(default_factory=list)  # as they are printed: relative to the path given
    missing: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # one line each: the folders that could not be read


class GitIgnores:
    """The .gitignore files that apply at one folder, nearest last.

    A nearer file overrides a farther one (git's rule), so they are asked nearest first
    and the first that has an opinion decides.
    """

    def __init__(self, specs: tuple[tuple[str, pathspec.PathSpec], ...] = ()):
        self.specs = specs

    def entering(self, folder: str, names: set[str]) -> GitIgnores:
        if ".gitignore" not in names:
            return self
        spec = _read_gitignore(os.path.join(folder, ".gitignore"))
        return GitIgnores((*self.specs, (folder, spec))) if spec else self

    def ignores(self, absolute_path: str, is_dir: bool) -> bool:
        for base, spec in reversed(self.specs):
            relative = os.path.relpath(absolute_path, base).replace(os.sep, "/")
            if is_dir:
                relative += "/"
            verdict = spec.check_file(relative).include
            if verdict is not None:
                return verdict
        return False

    @classmethod
    def above(cls, folder: str) -> GitIgnores:
        """The ignore files between the enclosing git repository's root and ``folder``
        (exclusive): running on ``src/`` still honours the root's .gitignore."""
        parents = []  # from the folder's parent up to the repository's root
        current = folder
        while not os.path.exists(os.path.join(current, ".git")):
            parent = os.path.dirname(current)
            if parent == current:
                return cls()  # not in a git repository: only the walked tree's own files
            current = parent
            parents.append(current)
        git_root = current
        specs = [(git_root, _read_gitignore(os.path.join(git_root, ".git", "info", "exclude")))]
        specs += [(parent, _read_gitignore(os.path.join(parent, ".gitignore"))) for parent in reversed(parents)]
        return cls(tuple((base, _not_ignoring(spec, base, folder)) for base, spec in specs if spec))


def _not_ignoring(spec: pathspec.PathSpec, base: str, folder: str) -> pathspec.PathSpec:
    """``spec`` without the patterns that ignore ``folder`` itself.

    The folder was named on the command line, so it is walked; and git matches a pattern
    against each path, not its parents (`corpus/` ignores the folder, not `corpus/a.py`
    on its own), while pathspec answers for a file inside an ignored folder too.
    """
    import pathspec

    relative = os.path.relpath(folder, base).replace(os.sep, "/") + "/"
    kept = [pattern for pattern in spec.patterns if not (pattern.include and pattern.match_file(relative) is not None)]
    return spec if len(kept) == len(spec.patterns) else pathspec.GitIgnoreSpec(kept)


def _read_gitignore(path: str) -> pathspec.PathSpec | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            lines = file.read().splitlines()
    except OSError:
        return None
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    return spec if len(spec) else None


def discover(paths: Sequence[str], settings: Settings) -> Discovery:
    """Expand ``paths`` into the files to check, sorted, each once.

    Files named here are always checked (unless ``force-exclude``, which pre-commit
    needs since it names every file); folders are walked.
    """
    excluded = settings.exclude_matcher()
    found: dict[str, str] = {}  # absolute path -> display path; the first spelling wins
    result = Discovery()
    for given in paths:
        absolute = os.path.abspath(given)
        if os.path.isdir(given):
            ignores = GitIgnores.above(absolute) if settings.respect_gitignore else None
            for display, file_absolute in _walk(given, absolute, excluded, ignores, result.unreadable):
                found.setdefault(file_absolute, display)
        elif os.path.exists(given):
            if settings.force_exclude and _excluded_with_parents(absolute, excluded, settings.root):
                continue
            if not _is_regular_file(given):
                # A FIFO would block the read, a device never end it (/dev/zero): not opened.
                result.unreadable.append(f"{given}: not a regular file")
                continue
            found.setdefault(absolute, given)
        else:
            problem = _stat_problem(given)
            if problem is None:
                result.missing.append(given)
            else:  # there, perhaps, but behind a folder that cannot be searched
                result.unreadable.append(f"{given}: cannot read: {problem}")
    result.files = sorted(found.values())
    return result


def _is_regular_file(path: str) -> bool:
    """What ``path`` names, through links, is a regular file (asked with stat, which
    opens nothing)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # gone or unreadable: the read says which, in its own line


def _stat_problem(path: str) -> str | None:
    """Why ``path`` cannot be looked at, unless it simply does not exist (None)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        return error.strerror or str(error)
    return None


def _walk(
    display_top: str, absolute_top: str, excluded: PathMatcher, ignores: GitIgnores | None, unreadable: list[str]
):
    # The folder named on the command line is walked even if a pattern matches it.
    shown_top = display_top
    display_top = "" if display_top in (".", "./") else display_top
    stack = [(display_top, absolute_top, ignores)]
    while stack:
        display_folder, absolute_folder, ignores = stack.pop()
        try:
            with os.scandir(absolute_folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except FileNotFoundError:
            continue  # removed while we walked: nothing left to check there
        except OSError as error:
            # Said, as an unreadable file is: its files would otherwise go unchecked unseen.
            unreadable.append(f"{display_folder or shown_top}: cannot read the folder: {error.strerror or error}")
            continue
        if ignores is not None:
            ignores = ignores.entering(absolute_folder, {entry.name for entry in entries})
        folders = []
        for entry in entries:
            absolute = os.path.join(absolute_folder, entry.name)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                if not is_dir and not (entry.name.endswith(WALKED_SUFFIXES) and entry.is_file()):
                    continue
            except OSError:
                continue
            if excluded and excluded.matches(absolute):
                continue
            if ignores is not None and ignores.ignores(absolute, is_dir):
                continue
            display = os.path.join(display_folder, entry.name) if display_folder else entry.name
            if is_dir:
                folders.append((display, absolute, ignores))
            else:
                yield display, absolute
        stack.extend(reversed(folders))


def _excluded_with_parents(absolute: str, excluded: PathMatcher, root: Path) -> bool:
    """``force-exclude``: the file or one of its folders (below the root) is excluded."""
    if not excluded:
        return False
    root_text = str(root)
    current = absolute
    while True:
        if excluded.matches(current):
            return True
        parent = os.path.dirname(current)
        if parent == current or not parent.startswith(root_text) or len(parent) < len(root_text):
            return False
        current = parent
