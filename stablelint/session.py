"""A check session: discover -> cache -> engine (or ``--jobs`` workers) -> results.

The one way files are checked and fixed: the ``check`` command, ``--add-noqa`` and
stdin all go through `check_text`; a fixed file is written by `stablelint.writer`.

Only this process writes files. ``--jobs`` workers compute the fixed text and send it
back; they ignore SIGINT, SIGTERM and SIGHUP and die with this process, so nothing writes
after it has gone (`stablelint.signals`).
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import errno
import gc
import io
import os
import stat
import sys
import tokenize
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stablelint import cache as results_cache
from stablelint import signals
from stablelint.config import Settings
from stablelint.diagnostics import Diagnostic, ParseError, StablelintError
from stablelint.discover import discover
from stablelint.noqa import keep_for

if TYPE_CHECKING:
    from stablelint import notebook


@dataclass
class Checked:
    """What a session found: a result per file, in the order of the paths given, and the
    paths it could not look into."""

    results: list[FileResult]
    missing: list[str]  # paths that do not exist
    unreadable: list[str]  # one line each: folders that could not be listed


def check_paths(paths: list[str], settings: Settings, mode: Mode, jobs: int = 1) -> Checked:
    """The files under ``paths`` found, checked (and fixed and written, with ``mode.fix``)."""
    discovery = discover(paths, settings)
    _set_project_root(discovery.files)
    try:
        results = check_files(discovery.files, settings, mode, jobs)
    finally:
        _set_project_root([])
    return Checked(results, list(discovery.missing), list(discovery.unreadable))


def _set_project_root(files: list[str]) -> None:
    """Without a configuration, the project index looks for each file's project root no
    higher than the common root of the paths checked (workers inherit it through the
    environment); a run reads the projects as they are now."""
    from stablelint.analysis import project_files

    folders = [os.path.dirname(os.path.abspath(path)) for path in files]
    if "stablelint.analysis.project" in sys.modules:  # its indexes; a run that loaded none has none
        sys.modules["stablelint.analysis.project"].reset()
    project_files.reset()
    project_files.set_root(os.path.commonpath(folders) if folders else None)


def open_cache(
    settings: Settings, *, folder_option: str | None, disabled: bool
) -> tuple[results_cache.Cache | None, str | None]:
    """The results cache a session uses (``None`` with ``--no-cache``), and a problem to show."""
    if disabled:
        return None, None
    folder = results_cache.cache_dir(folder_option, settings.cache_dir, settings.root)
    return results_cache.open_cache(folder, settings.assume_dtype, settings.numpy_like)


def check_data(path: str, data: bytes, settings: Settings, mode: Mode, *, excluded: bool = False) -> FileResult:
    """Bytes that are not read from ``path`` (standard input): checked under its name,
    or left as they are when ``excluded``. A crash is the result's error line."""
    if excluded:
        text = data.decode("utf-8", "surrogateescape")
        return FileResult(path, source=text, original=text)
    try:
        return check_text(path, data, settings, mode)
    except Exception as error:  # noqa: BLE001
        if os.environ.get("STABLELINT_DEBUG"):
            raise
        text = data.decode("utf-8", "surrogateescape")
        return FileResult(path, source=text, original=text, error=internal_error(error, path), crashed=True)


# -- checking and fixing one file


@dataclass
class Mode:
    fix: bool = False  # write the fixed text
    diff: bool = False  # compute the fixed text, only to show it
    unsafe: bool = False
    cache: results_cache.Cache | None = None  # the engine's findings by content (stablelint/cache.py)

    @property
    def fixing(self) -> bool:
        return self.fix or self.diff


@dataclass
class FileResult:
    path: str
    source: str = ""  # the text the reported findings refer to (the fixed one after --fix)
    original: str = ""
    encoding: str = "utf-8"
    diagnostics: list[Diagnostic] = field(default_factory=list)
    fixed: int = 0
    fixed_codes: tuple[str, ...] = ()  # the code of each fix applied (valid while ``fixed``)
    error: str | None = None  # one line for standard error: not read, not parsed, or not written
    crashed: bool = False  # the error is stablelint's own
    read_digest: bytes = b""  # of the bytes read: the file is written only if it still has them
    cells: notebook.Cells | None = None  # a notebook: its code cells, which the findings are on

    @property
    def changed(self) -> bool:
        return self.source != self.original


_ASCII = bytes(range(32, 127)) + b"\t\n\r\f"


def decode(data: bytes) -> tuple[str, str]:
    """PEP 263 decoding, with line endings and a byte-order mark kept as they are. As
    Python reads a file, a coding cookie must name an encoding that keeps ASCII as it is
    (Python says "encoding problem: utf-16" and runs nothing; the cookie itself was read
    as ASCII): SyntaxError otherwise."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    if encoding == "utf-8-sig":
        encoding = "utf-8"  # the BOM stays in the text, and is written back as it was
    if encoding != "utf-8" and not _keeps_ascii(encoding):
        raise SyntaxError(f"encoding problem: {encoding}")
    return data.decode(encoding), encoding


def _keeps_ascii(encoding: str) -> bool:
    try:
        return _ASCII.decode(encoding) == _ASCII.decode("ascii")
    except (UnicodeDecodeError, LookupError):
        return False


def check_text(path: str, data: bytes, settings: Settings, mode: Mode) -> FileResult:
    result = FileResult(path)
    try:
        result.original, result.encoding = decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as error:
        result.error = f"{path}: cannot decode: {getattr(error, 'msg', None) or error}"
        return result
    result.source = result.original
    try:
        _check_decoded(result, settings, mode, data)
    except ParseError as error:
        where = f"{path}:{error.line}:{error.col or 1}" if error.line else path
        _not_checked(result, f"{where}: {error}")
    except RecursionError:
        # Python compiles ~1000 nested unary operators; the analysis recurses once per level.
        _not_checked(result, f"{path}: cannot check: too deeply nested (beyond Python's recursion limit)")
    except MemoryError:
        _not_checked(result, f"{path}: cannot check: out of memory")
    return result


def _not_checked(result: FileResult, error: str) -> None:
    result.source, result.diagnostics, result.fixed, result.error = result.original, [], 0, error


def _check_decoded(result: FileResult, settings: Settings, mode: Mode, data: bytes) -> None:
    path, keep = result.path, keep_for(result.path, settings)
    if _is_notebook(path):
        _check_notebook(result, settings, mode, fix=mode.fixing)
        return
    found = _found(result, settings, mode.cache, data)
    if not mode.fixing:
        result.diagnostics = keep(result.source, found)
        return
    kept = keep(result.source, found)
    if not any(d.fix and (mode.unsafe or d.fix.safety == "safe") for d in kept):
        result.diagnostics = kept  # nothing to apply: fixing would change nothing
        return
    outcome = _engine().fix_source(result.source, path, keep=keep, unsafe=mode.unsafe, dtype=settings.assume_dtype)
    result.diagnostics, result.fixed, result.fixed_codes = outcome.remaining, outcome.applied, outcome.applied_codes
    if outcome.source != result.original:
        problem = _unwritable(outcome.source, result.encoding)
        if problem:
            # Leave the file as it was and report what it has, as if not fixing.
            result.diagnostics = _original_diagnostics(result, settings)
            result.fixed = 0
            result.error = f"{path}: fixes not applied: {problem}"
        else:
            result.source = outcome.source


def _is_notebook(path: str) -> bool:
    return path.lower().endswith(".ipynb")


def _check_notebook(result: FileResult, settings: Settings, mode: Mode, *, fix: bool) -> None:
    from stablelint import notebook

    try:
        outcome = notebook.check(
            result.original, result.path, keep=keep_for(result.path, settings), fix=fix, unsafe=mode.unsafe,
            dtype=settings.assume_dtype,
        )
    except notebook.NotebookError as error:
        _not_checked(result, f"{result.path}: {error}")
        return
    result.source, result.cells, result.diagnostics, result.fixed = (
        outcome.text, outcome.cells, outcome.diagnostics, outcome.fixed
    )
    result.error = "\n".join(outcome.problems) or None


def _engine():
    """The engine and its rules load when a file needs them: a re-run that the cache
    answers whole never imports them (they are most of the start-up)."""
    from stablelint import engine

    return engine


def _found(result: FileResult, settings: Settings, cache: results_cache.Cache | None, data: bytes) -> list[Diagnostic]:
    """The engine's findings in the text as read, from the cache when it has them."""
    if cache is None:
        return _engine().check_source(result.source, result.path, dtype=settings.assume_dtype)
    from stablelint.analysis import project_files

    key = cache.key(result.path, data)
    loaded = cache.load_entry(key, result.path, result.source, len(data))
    found = loaded[0] if loaded is not None else None
    if loaded is not None and loaded[1] and not project_files.unchanged(result.path, loaded[1]):
        # Some file of the project changed: the index says whether what the entry rests on did.
        from stablelint.analysis import project

        project.use_cache(cache)
        index = project.index_for(result.path)
        if index is None or not index.still(result.path, loaded[1]):
            found = None  # another module it rests on, or a caller it relied on, changed: check it again
    if isinstance(found, ParseError):
        raise found  # stored as such: a text that does not parse rests on nothing else
    if found is None:
        from stablelint.analysis import project

        project.use_cache(cache)  # the index keeps what it derives from each file there
        try:
            found = _engine().check_source(result.source, result.path, dtype=settings.assume_dtype)
        except ParseError as error:
            cache.store(key, error, len(data))
            raise
        index = project.index_for(result.path)
        cache.store(key, found, len(data), index.depends(result.path) if index is not None else None)
    return found


def _original_diagnostics(result: FileResult, settings: Settings) -> list[Diagnostic]:
    """The findings in the file as it was read (it stays so when fixing fails)."""
    if _is_notebook(result.path):
        original = FileResult(result.path, source=result.original, original=result.original)
        _check_notebook(original, settings, Mode(), fix=False)
        result.cells = original.cells
        return original.diagnostics
    return findings_in(result.path, result.original, settings)


def findings_in(path: str, source: str, settings: Settings) -> list[Diagnostic]:
    """What a check reports in this text (the language server's too): the engine's
    findings that select/ignore, the per-file ignores and ``# noqa`` keep."""
    if settings.numpy_like:
        from stablelint import frameworks

        frameworks.add_shims(dict(settings.numpy_like))  # the language server's settings too
    found = _engine().check_source(source, path, dtype=settings.assume_dtype)
    return keep_for(path, settings)(source, found)


def _unwritable(fixed: str, encoding: str) -> str | None:
    """The engine re-parses every fix; a file is still never written unchecked."""
    try:
        ast.parse(fixed.removeprefix("\ufeff"))  # the BOM is an encoding mark, not code
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return f"the fixed code does not parse ({getattr(error, 'msg', error)})"
    try:
        fixed.encode(encoding)
    except UnicodeEncodeError:
        return f"the fixed code cannot be written in the file's encoding ({encoding})"
    return None


def check_chunk(paths: list[str], settings: Settings, mode: Mode) -> list[FileResult]:
    """A share of the files (one task for many files: less to send back and forth). A file
    with nothing to report or write goes back without its text, which the parent would only
    unpickle to throw away."""
    results = [check_file(path, settings, mode) for path in paths]
    for result in results:
        if not result.diagnostics and not result.changed:
            result.source = result.original = ""
    return results


def check_next_group() -> tuple[list[int], list[FileResult]]:
    """A ``--jobs`` worker's task: the next group of its part of the tree (`_Claims`), as
    ``(indexes into the paths, their results)``."""
    work = _WORKER
    group = work["claims"].claim(work["part"])
    if group is None:
        return [], []
    indexes = work["groups"][group]
    return indexes, check_chunk([work["paths"][index] for index in indexes], work["settings"], work["mode"])


def check_file(path: str, settings: Settings, mode: Mode) -> FileResult:
    """One file, read and checked (and fixed in memory: `write_fixes` writes it). A crash
    is that file's error line, and the run goes on (and exits 2): one odd file should not
    hide the findings in the others. Runs in the ``--jobs`` workers."""
    if settings.numpy_like:
        from stablelint import frameworks

        frameworks.add_shims(dict(settings.numpy_like))  # a worker starts without them
    try:
        return _check_file(path, settings, mode)
    except Exception as error:  # noqa: BLE001
        if os.environ.get("STABLELINT_DEBUG"):
            raise
        return FileResult(path, error=internal_error(error, path), crashed=True)


def internal_error(error: Exception, path: str | None = None) -> str:
    where = f" while checking {path}" if path else ""
    return (
        f"stablelint: error: internal error{where}: {type(error).__name__}: {error} "
        "(set STABLELINT_DEBUG=1 for a traceback)"
    )


class NotRegularFile(OSError):
    """A FIFO, a device or a socket where a source file was expected."""


def read_source(path: str) -> bytes:
    """The bytes of the file ``path``. It is opened without waiting (O_NONBLOCK: a FIFO
    with no writer would block an ordinary open) and read only if it is a regular file,
    checked on the open file (`NotRegularFile` otherwise): what discovery saw may have
    been replaced since by a FIFO or a link to a device, whose read never ends."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file", path)
        with os.fdopen(descriptor, "rb", closefd=False) as file:
            return file.read()
    finally:
        os.close(descriptor)


def _check_file(path: str, settings: Settings, mode: Mode) -> FileResult:
    try:
        data = read_source(path)
    except NotRegularFile:
        return FileResult(path, error=f"{path}: not a regular file")
    except OSError as error:
        return FileResult(path, error=f"{path}: cannot read: {error.strerror or error}")
    result = check_text(path, data, settings, mode)
    if result.changed:
        from stablelint import writer  # --fix only: a check need not load it (nor socket, tempfile)

        result.read_digest = writer.digest(data)
    return result


def write_fixes(result: FileResult, settings: Settings, mode: Mode) -> FileResult:
    """Write one file's fixed text, in the main process only. A file that changed since it
    was read is left alone: another program wrote it meanwhile, and its edit wins."""
    if not (mode.fix and not mode.diff and result.changed):
        return result
    from stablelint import writer

    try:
        writer.write_atomically(result.path, result.source.encode(result.encoding), expected=result.read_digest or None)
    except writer.FileChanged:
        # Its findings were in a text that is no longer there: report none.
        result.error = f"{result.path}: not fixed: the file changed while stablelint ran"
        result.diagnostics, result.fixed, result.source = [], 0, result.original
    except OSError as error:
        result.error = f"{result.path}: cannot write the fixes: {error.strerror or error}"
        result.diagnostics = _original_diagnostics(result, settings)
        result.fixed, result.source = 0, result.original
    return result


def collect_garbage_rarely() -> None:
    """A file's syntax tree is hundreds of thousands of young objects, freed by reference
    counting when the file is done. The collector's default pass every 700 allocations
    finds nothing in them and took a tenth of a cold run; the objects of the start-up are
    moved out of its sight."""
    gc.freeze()
    gc.set_threshold(100_000, 10, 10)


def check_files(paths: list[str], settings: Settings, mode: Mode, jobs: int) -> list[FileResult]:
    """Check (and fix) the files; the fixes of each file are written as its result comes."""
    # Worker processes cost ~0.1 s to start: worth it only for a real tree.
    if jobs <= 1 or len(paths) < 8 * jobs:
        collect_garbage_rarely()
        return [write_fixes(check_file(path, settings, mode), settings, mode) for path in paths]
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
    from concurrent.futures import wait as wait_for
    from concurrent.futures.process import BrokenProcessPool

    # spawn, not fork: a worker forked while one of the pool's threads holds a lock can hang
    # on that lock before it ever runs _worker_started, and then outlives a killed parent.
    # A spawned worker starts clean, and its parent is still this process.
    context = multiprocessing.get_context("spawn")
    groups = _tasks(paths, jobs)
    # A spawned worker is `python -c ...`, which puts the current folder first on sys.path: in a
    # folder holding a package named like a standard module (SciPy's `signal`) the worker would
    # import it instead. PYTHONSAFEPATH keeps the folder off the worker's path; the worker then
    # takes this process's sys.path, as spawn always does.
    safe_path = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    claims = _Claims(context, len(groups), jobs)  # its lock starts the resource tracker, a process too
    pool = ProcessPoolExecutor(
        jobs, context, initializer=_worker_started, initargs=(os.getpid(), paths, groups, claims, settings, mode)
    )
    try:
        # While the pool runs, a signal is only recorded (the main thread is never
        # interrupted inside the pool's locks: "cannot release un-acquired lock"), and this
        # loop acts on it between two waits. The workers, and the pool's own threads, start
        # with the ending signals blocked; a worker ignores them before it unblocks them.
        # Results come back in the order they are done; they are reported in the order of
        # the paths.
        results: list[FileResult | None] = [None] * len(paths)
        with signals.signals_deferred():
            with signals.signals_blocked():
                pending = {pool.submit(check_next_group) for _ in groups}
            while pending and signals.pending() is None:  # leaving the deferred section raises it
                done, _ = wait_for(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                for future in done:
                    pending.discard(future)
                    for index, result in zip(*future.result()):
                        results[index] = write_fixes(result, settings, mode)
                    if signals.pending() is not None:
                        break
    except BrokenProcessPool:
        _kill_workers(pool)
        raise StablelintError("a worker process died (out of memory?); try again with --jobs 1") from None
    except BaseException:
        _kill_workers(pool)
        raise
    finally:
        _restore_environment("PYTHONSAFEPATH", safe_path)
    pool.shutdown()
    return [result for result in results if result is not None]


def _restore_environment(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _tasks(paths: list[str], jobs: int) -> list[list[int]]:
    """The files in groups of neighbours (indexes into ``paths``, in the order of the paths),
    each ~1/64 of a worker's share of the bytes and at most 64 files, so that a task is worth
    sending but the last ones are short. A worker takes the groups of one stretch of the
    tree in turn (`_Claims`): its project index then reads (parses, evaluates) the modules
    around its own files, and a tree of many projects is split between the workers by
    project, not file by file."""
    sizes = []
    for path in paths:
        try:
            sizes.append(os.stat(path).st_size)
        except OSError:
            sizes.append(0)  # the worker reports it
    share = max(1, sum(sizes) // (jobs * 64))
    tasks: list[list[int]] = []
    group: list[int] = []
    group_size = 0
    for index in sorted(range(len(paths)), key=lambda i: paths[i]):
        group.append(index)
        group_size += sizes[index]
        if group_size >= share or len(group) >= 64:
            tasks.append(group)
            group, group_size = [], 0
    if group:
        tasks.append(group)
    return tasks


class _Claims:
    """Which worker checks which group (`_tasks`): the groups are cut into one stretch per
    worker, each worker takes the groups of its own stretch in order, and a worker whose
    stretch is done takes over the back half of the stretch with the most left. So each
    worker's files stay together, and the workers still end at about the same time.
    Shared by the workers (a small array under one lock): per stretch its next and its end
    group, then the count of workers started (a worker's stretch is its number)."""

    def __init__(self, context, count: int, jobs: int) -> None:
        self.jobs = jobs
        self.state = context.Array("i", 2 * jobs + 1)
        for part in range(jobs):
            self.state[2 * part], self.state[2 * part + 1] = part * count // jobs, (part + 1) * count // jobs

    def join(self) -> int:
        """The stretch of a worker that starts."""
        with self.state.get_lock():
            started = self.state[2 * self.jobs]
            self.state[2 * self.jobs] = started + 1
        return started % self.jobs

    def claim(self, part: int) -> int | None:
        """The next group for the worker of stretch ``part``; None when every group is taken."""
        state = self.state
        with state.get_lock():
            if state[2 * part] >= state[2 * part + 1]:
                fullest = max(range(self.jobs), key=lambda other: state[2 * other + 1] - state[2 * other])
                start, end = state[2 * fullest], state[2 * fullest + 1]
                if start >= end:
                    return None
                middle = (start + end) // 2
                state[2 * fullest + 1] = middle
                state[2 * part], state[2 * part + 1] = middle, end
            group = state[2 * part]
            state[2 * part] = group + 1
        return group


def _kill_workers(pool) -> None:
    """Stop at once: a worker still checking has nothing to say that anyone will read."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    for worker in workers:
        with contextlib.suppress(OSError, ValueError):
            worker.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        with contextlib.suppress(OSError, ValueError, AssertionError):
            worker.join(timeout=2)




_WORKER: dict = {}  # a ``--jobs`` worker's files, groups, claims, settings and stretch


def _worker_started(
    parent_pid: int, paths: list[str], groups: list[list[int]], claims: _Claims, settings: Settings, mode: Mode
) -> None:
    """Each ``--jobs`` worker, as it starts."""
    collect_garbage_rarely()
    signals.detach_worker(parent_pid)
    _WORKER.update(
        paths=paths, groups=groups, claims=claims, settings=settings, mode=mode, part=claims.join()
    )
    # The last exit handler (they run last registered first): a worker whose pool is shut
    # down ends without freeing its syntax trees and project index object by object, as
    # the command does (`stablelint.__main__.end_without_teardown`); the pool reads no
    # worker's exit status.
    atexit.register(_end_worker)


def _end_worker() -> None:
    flush_standard_streams()
    os._exit(0)


def flush_standard_streams() -> bool:
    """Flush standard output and error before a process ends without its teardown (a stream
    that is gone or closed is passed over: the language server closes its output when
    done); False when a reader went away (a flush failed)."""
    flushed = True
    for stream in (sys.stdout, sys.stderr):
        if stream is None or stream.closed:
            continue
        try:
            stream.flush()
        except OSError:
            flushed = False
    return flushed
