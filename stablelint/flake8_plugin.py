"""The flake8 plugin: flake8 already parsed the file, so the engine reuses its tree."""

from __future__ import annotations

import ast
import atexit
import gc
import os
from pathlib import Path
from typing import Iterator

from stablelint import __version__, frameworks
from stablelint.analysis import project as project_index
from stablelint.config import DTYPES, OPT_IN_PREFIXES, load_settings, names_opt_in
from stablelint.engine import check_source
from stablelint.noqa import NoqaIndex

_NUMPY_LIKE: dict[str, tuple] = {}  # folder -> the numpy-like setting of its configuration


def _numpy_like(filename: str) -> tuple:
    """The ``numpy-like`` modules of the [tool.stablelint] configuration above ``filename``
    (flake8 has no option for them: the CLI's configuration says), read once per folder."""
    folder = os.path.dirname(os.path.abspath(filename))
    known = _NUMPY_LIKE.get(folder)
    if known is None:
        try:
            known = tuple(load_settings(start=Path(folder)).numpy_like)
        except Exception:  # a bad configuration is the CLI's to report, not flake8's
            known = ()
        _NUMPY_LIKE[folder] = known
    return known


def _collect_garbage_rarely() -> None:
    """The analysis allocates many short-lived objects that reference counting frees, and
    keeps the project index (other modules' trees and values) for the whole run. The
    collector's default pass every 700 allocations walked flake8's heap while the engine ran,
    and, while flake8 ran, the index: restored between files, flake8's setting still cost a
    third of the plugin's time on application code. Rarer passes for the rest of the process,
    as the command line runs (cycles are still collected, every 100,000 allocations)."""
    thresholds = gc.get_threshold()
    if 0 < thresholds[0] < 100_000:  # 0: the collector is off, and stays so
        gc.set_threshold(100_000, *thresholds[1:])


def _leave_the_indexes_at_exit() -> None:
    """When flake8's process ends, the project indexes (other modules' trees, evaluators and
    values: millions of objects) are left to the operating system instead of being freed
    object by object by the interpreter's teardown, which took a third of the plugin's cost
    (0.73 of 2.14 cpu-s on a quarter of the application corpus; flake8 alone tears down in
    no time). A reference cycle holds them, and the collector no longer looks at it."""
    held: list = [project_index._INDEXES]
    held.append(held)
    gc.freeze()


_indexes_left_at_exit = False  # the exit handler above is registered (once per process)


class Plugin:
    name = "stablelint"
    version = __version__
    assume_dtype: str | None = None  # flake8's --stablelint-assume-dtype (or the config's)
    opt_in: tuple[str, ...] = ()  # opt-in families flake8's --select / --extend-select name

    def __init__(self, tree: ast.Module, lines: list[str], filename: str = "<stdin>"):
        self.tree = tree
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, manager) -> None:
        manager.add_option(
            "--stablelint-assume-dtype", choices=DTYPES, default=None, parse_from_config=True,
            help="stablelint: what tensors compute in where the code does not say (as stablelint's --assume-dtype)",
        )

    @classmethod
    def parse_options(cls, options) -> None:
        cls.assume_dtype = getattr(options, "stablelint_assume_dtype", None)
        # The opt-in families (STB4xx) report only when flake8's selection names them.
        selected = [*(getattr(options, "select", None) or ()), *(getattr(options, "extend_select", None) or ())]
        cls.opt_in = tuple(names_opt_in(selected))

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        source = "".join(self.lines)
        if not self.filename.startswith("<"):
            shims = _numpy_like(self.filename)
            if shims:
                frameworks.add_shims(dict(shims))
        _collect_garbage_rarely()
        global _indexes_left_at_exit
        if not _indexes_left_at_exit:
            atexit.register(_leave_the_indexes_at_exit)
            _indexes_left_at_exit = True
        found = check_source(source, self.filename, tree=self.tree, dtype=self.assume_dtype)
        # stablelint's file-level directive (flake8 applies its own file-level and line directives).
        exempt = NoqaIndex(source).file_exempt_codes() if found and "stablelint" in source else None
        if exempt == ():
            return
        for diagnostic in found:
            if exempt and diagnostic.code.startswith(exempt):
                continue
            if diagnostic.code.startswith(OPT_IN_PREFIXES) and not diagnostic.code.startswith(self.opt_in or ("-",)):
                continue
            # flake8 wants a 0-based column and prints it 1-based, as stablelint does.
            yield diagnostic.line, diagnostic.col - 1, f"{diagnostic.code} {diagnostic.message}", type(self)
