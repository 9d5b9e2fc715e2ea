"""The ``stablelint`` command: check, fix or diff files, list and explain the rules.

Exit status: 0 nothing reported, 1 findings remain (or a file could not be read or
parsed, as in flake8 and ruff), 2 a usage or configuration error, a missing path, or an
internal error. ``--exit-zero`` turns 1 into 0, never 2.

A folder that cannot be read is reported as an unreadable file is (exit 1).

Only this process writes files. ``--jobs`` workers compute the fixed text and send it
back; they ignore SIGINT, SIGTERM and SIGHUP and die with this process, so nothing writes
after it has gone. Those signals are deferred while a file is being replaced, so a file
is always either the original or the fully fixed text, and no temporary file stays behind.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import errno
import gc
import hashlib
import io
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from stablelint import __version__, rule_url, selection
from stablelint import cache as results_cache
from stablelint import format as output
from stablelint.config import DTYPES, Settings, load_settings, parse_per_file_ignores, split_codes
from stablelint.diagnostics import Diagnostic, ParseError, StablelintError
from stablelint.discover import discover
from stablelint.noqa import keep_for

if TYPE_CHECKING:
    from stablelint import notebook

STDIN = "-"
STDIN_DISPLAY_NAME = "stdin"  # flake8's name for it


def main(argv: list[str] | None = None) -> int:
    """Never a traceback: every failure is one ``stablelint: error:`` line and exit 2."""
    _replace_closed_streams()
    with _signals_handled():
        try:
            return run(sys.argv[1:] if argv is None else list(argv))
        except StablelintError as error:
            print(f"stablelint: error: {error}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("stablelint: interrupted", file=sys.stderr)
            return 130
        except Terminated as terminated:
            print(f"stablelint: terminated by {signal.Signals(terminated.signum).name}", file=sys.stderr)
            return 128 + terminated.signum
        except BrokenPipeError:
            # The reader went away (`stablelint . | head`): nothing left to say to it.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        except OSError as error:  # the environment, outside any one file (e.g. the cwd is gone)
            print(f"stablelint: error: {describe_os_error(error)}", file=sys.stderr)
            return 2
        except MemoryError:
            print("stablelint: error: out of memory", file=sys.stderr)
            return 2
        except Exception as error:  # noqa: BLE001 - the last line of defence
            if os.environ.get("STABLELINT_DEBUG"):
                raise
            print(_internal_error(error), file=sys.stderr)
            return 2


def describe_os_error(error: OSError) -> str:
    reason = error.strerror or str(error)
    return f"{error.filename}: {reason}" if error.filename else reason


def _replace_closed_streams() -> None:
    """Started with standard output or error closed (``>&-``), Python has None there:
    what would go to them is dropped, and the exit status still tells the outcome."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w"))


# -- signals
#
# SIGINT, SIGTERM and SIGHUP end a run the same orderly way: the workers are killed, no
# file is left half-replaced, no temporary file stays, and the exit status is 128 + the
# signal's number (130 for Ctrl-C, 143 for SIGTERM). While a file is being replaced the
# signal waits (see `signals_deferred`): it is honoured the moment the file is complete.


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived. A BaseException, like KeyboardInterrupt, so that the
    per-file ``except Exception`` does not take it for a crash in that file."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


_ENDING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@dataclass
class _SignalState:
    deferring: int = 0  # depth of `signals_deferred` sections
    pending: int | None = None  # a signal that arrived in one


_signal_state = _SignalState()


def _on_ending_signal(signum: int, frame) -> None:
    if _signal_state.deferring:
        _signal_state.pending = _signal_state.pending or signum
        return
    _raise_for(signum)


def _raise_for(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


@contextlib.contextmanager
def signals_deferred():
    """A section no SIGINT/SIGTERM/SIGHUP interrupts: one that arrives in it is raised at
    its end. Python runs signal handlers in the main thread whichever thread the signal
    reached, so a flag the handler reads covers every thread, which a signal mask would not."""
    _signal_state.deferring += 1
    try:
        yield
    finally:
        _signal_state.deferring -= 1
        if not _signal_state.deferring and _signal_state.pending is not None:
            signum, _signal_state.pending = _signal_state.pending, None
            _raise_for(signum)


def _is_start_up_handler(handler) -> bool:
    """The handler ``stablelint.__main__`` sets while the modules load."""
    return getattr(handler, "__module__", None) == "stablelint.__main__" or (
        getattr(handler, "__qualname__", None) == "_quietly"
    )


@contextlib.contextmanager
def _signals_handled():
    """Our handlers for the run, the previous ones back afterwards (``main`` is also called
    in-process, by tests and by programs that embed stablelint). A signal ignored by
    whoever started us (``nohup``) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in _ENDING_SIGNALS:
        handler = signal.getsignal(signum)
        if handler is signal.SIG_DFL or handler is signal.default_int_handler or _is_start_up_handler(handler):
            previous[signum] = signal.signal(signum, _on_ending_signal)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _worker_started(parent_pid: int) -> None:
    """In each ``--jobs`` worker. Ctrl-C reaches the whole process group, but the parent
    alone decides what a signal means (and kills the workers); a worker also dies with its
    parent, so that none keeps running, or holds the caller's stdout, after it is gone."""
    _collect_garbage_rarely()
    for signum in _ENDING_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _ENDING_SIGNALS)  # blocked while forking
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent_pid:  # the parent died before prctl took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass  # no prctl here: watch the parent instead

    def exit_when_orphaned() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=exit_when_orphaned, name="stablelint-parent-watch", daemon=True).start()


def run(argv: list[str]) -> int:
    if argv[:1] == ["rules"]:
        return rules_command(argv[1:])
    if argv[:1] == ["server"]:
        return server_command(argv[1:])
    if argv[:1] == ["clean"]:
        return clean_command(argv[1:])
    if argv[:1] == ["check"]:
        argv = argv[1:]
    args = build_parser().parse_args(argv)
    if args.explain:
        return explain(args.explain)
    return check_command(args)


# -- options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stablelint",
        usage=(
            "stablelint [check] [options] [PATH ...]\n"
            "       stablelint rules [CODE]\n"
            "       stablelint server       (the language server)\n"
            "       stablelint clean        (remove the cache)\n"
            "       stablelint --explain CODE"
        ),
        description="Find numerically unstable formulas in PyTorch, TensorFlow/Keras, JAX and NumPy/SciPy "
        "code, and rewrite them into their stable forms.",
        epilog="Exit status: 0 clean, 1 findings (or an unreadable/unparsable file), 2 usage or config error.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: .); - is standard input")
    parser.add_argument("--version", action="version", version=f"stablelint {__version__}")

    fixing = parser.add_argument_group("fixing")
    fixing.add_argument("--fix", action="store_true", help="apply the safe fixes, in place")
    fixing.add_argument("--unsafe-fixes", action="store_true", help="also apply (or show) the unsafe fixes")
    fixing.add_argument(
        "--diff", action="store_true", help="print what --fix would change, write nothing; exit 1 if anything"
    )
    fixing.add_argument(
        "--show-fixes", action="store_true", help="list the fixes applied (with --fix) or available, on standard error"
    )
    fixing.add_argument(
        "--add-noqa", action="store_true", help="append '# noqa: CODE' to every line with a finding, in place"
    )

    selecting = parser.add_argument_group("choosing codes and files (these override the config file)")
    option = selecting.add_argument
    option("--select", metavar="CODES", help="code prefixes to report, e.g. STB1,STB201 (replaces the config's)")
    option("--extend-select", metavar="CODES", help="code prefixes to report in addition")
    option("--ignore", "--extend-ignore", dest="ignore", metavar="CODES", help="code prefixes not to report")
    option("--per-file-ignores", metavar="PATTERN:CODES", help="e.g. 'tests/*:STB1 setup.py:STB106'")
    option("--exclude", metavar="GLOBS", help="paths to skip (replaces the default excludes and the config's)")
    option("--extend-exclude", metavar="GLOBS", help="paths to skip in addition")
    option(
        "--force-exclude", action="store_true", default=None,
        help="exclude files named on the command line too (pre-commit names every file)",
    )
    option(
        "--assume-dtype", choices=DTYPES, metavar="DTYPE",
        help="what tensors compute in where the code does not say (float16, bfloat16, float32, float64)",
    )
    option("--config", metavar="PATH", type=Path, help="read [tool.stablelint] from this file")
    option("--isolated", action="store_true", help="ignore every config file")

    reporting = parser.add_argument_group("output")
    option = reporting.add_argument
    option(
        "--format", "--output-format", dest="format", choices=output.FORMATS, default="text",
        help="text or concise (flake8's lines, [*] where --fix fixes), full (with the source underlined), "
        "json (ruff's shape), github (workflow annotations), sarif (2.1.0, for code scanning)",
    )
    option("--statistics", action="store_true", help="print the count of each code instead of the findings")
    option("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    option("-q", "--quiet", action="store_true", help="no summary on standard error")
    option("--stdin-filename", metavar="NAME", help="the name of the file on standard input (messages, config)")
    option("--explain", metavar="CODE", help="print the documentation of a rule and exit")
    option("-j", "--jobs", type=_jobs, default=1, metavar="N", help="check in N processes ('auto': one per CPU)")
    option("--no-cache", action="store_true", help="check every file again; neither read nor write the cache")
    option(
        "--cache-dir", metavar="PATH",
        help=f"where the cache is (default: {results_cache.DEFAULT_DIR} in the project root; ${results_cache.ENV_VAR})",
    )
    return parser


def _jobs(text: str) -> int:
    if text == "auto":
        return os.cpu_count() or 1
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number or 'auto', got {text!r}")
    return jobs


def codes(text: str, option: str, *, empty_ok: bool = True) -> list[str]:
    return selection.known(split_codes(text, option), option, empty_ok=empty_ok)


def settings_for(args: argparse.Namespace) -> Settings:
    first = args.stdin_filename if args.paths == [STDIN] or not args.paths and args.stdin_filename else None
    first = first or (args.paths[0] if args.paths else ".")
    start = Path(first) if os.path.isdir(first) else Path(first).parent
    if not start.is_dir():
        start = Path.cwd()
    settings = load_settings(start=start, config_file=args.config, isolated=args.isolated)
    selection.check_config(settings)  # codes that match no rule are errors, not silence

    def patterns(text: str | None) -> list[str] | None:
        return None if text is None else [item for item in text.replace(",", " ").split() if item]

    return settings.with_overrides(
        select=None if args.select is None else codes(args.select, "--select", empty_ok=False),
        extend_select=codes(args.extend_select, "--extend-select") if args.extend_select else None,
        ignore=codes(args.ignore, "--ignore") if args.ignore else None,
        per_file_ignores=None if args.per_file_ignores is None else [
            (pattern, tuple(selection.known(found, "--per-file-ignores")))
            for pattern, found in parse_per_file_ignores(args.per_file_ignores)
        ],
        exclude=patterns(args.exclude),
        extend_exclude=patterns(args.extend_exclude),
        force_exclude=args.force_exclude,
        assume_dtype=args.assume_dtype,
    )


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


def decode(data: bytes) -> tuple[str, str]:
    """PEP 263 decoding, with line endings and a byte-order mark kept as they are."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    if encoding == "utf-8-sig":
        encoding = "utf-8"  # the BOM stays in the text, and is written back as it was
    return data.decode(encoding), encoding


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
    key = cache.key(result.path, data)
    found = cache.load(key, result.path)
    if found is None:
        found = _engine().check_source(result.source, result.path, dtype=settings.assume_dtype)
        cache.store(key, found)
    return found


def _original_diagnostics(result: FileResult, settings: Settings) -> list[Diagnostic]:
    """The findings in the file as it was read (it stays so when fixing fails)."""
    if _is_notebook(result.path):
        original = FileResult(result.path, source=result.original, original=result.original)
        _check_notebook(original, settings, Mode(), fix=False)
        result.cells = original.cells
        return original.diagnostics
    found = _engine().check_source(result.original, result.path, dtype=settings.assume_dtype)
    return keep_for(result.path, settings)(result.original, found)


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
    """A worker's share of the files (one task for many files: less to send back and forth).
    A file with nothing to report or write goes back without its text, which the parent
    would only unpickle to throw away."""
    results = [check_file(path, settings, mode) for path in paths]
    for result in results:
        if not result.diagnostics and not result.changed:
            result.source = result.original = ""
    return results


def check_file(path: str, settings: Settings, mode: Mode) -> FileResult:
    """One file, read and checked (and fixed in memory: `write_fixes` writes it). A crash
    is that file's error line, and the run goes on (and exits 2): one odd file should not
    hide the findings in the others. Runs in the ``--jobs`` workers."""
    try:
        return _check_file(path, settings, mode)
    except Exception as error:  # noqa: BLE001
        if os.environ.get("STABLELINT_DEBUG"):
            raise
        return FileResult(path, error=_internal_error(error, path), crashed=True)


def _internal_error(error: Exception, path: str | None = None) -> str:
    where = f" while checking {path}" if path else ""
    return (
        f"stablelint: error: internal error{where}: {type(error).__name__}: {error} "
        "(set STABLELINT_DEBUG=1 for a traceback)"
    )


def _check_file(path: str, settings: Settings, mode: Mode) -> FileResult:
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        return FileResult(path, error=f"{path}: cannot read: {error.strerror or error}")
    result = check_text(path, data, settings, mode)
    if result.changed:
        result.read_digest = _digest(data)
    return result


def write_fixes(result: FileResult, settings: Settings, mode: Mode) -> FileResult:
    """Write one file's fixed text, in the main process only. A file that changed since it
    was read is left alone: another program wrote it meanwhile, and its edit wins."""
    if not (mode.fix and not mode.diff and result.changed):
        return result
    try:
        write_atomically(result.path, result.source.encode(result.encoding), expected=result.read_digest or None)
    except FileChanged:
        # Its findings were in a text that is no longer there: report none.
        result.error = f"{result.path}: not fixed: the file changed while stablelint ran"
        result.diagnostics, result.fixed, result.source = [], 0, result.original
    except OSError as error:
        result.error = f"{result.path}: cannot write the fixes: {error.strerror or error}"
        result.diagnostics = _original_diagnostics(result, settings)
        result.fixed, result.source = 0, result.original
    return result


class FileChanged(Exception):
    """The file no longer holds the bytes that were read: another program wrote it."""


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=20).digest()


def write_atomically(path: str, data: bytes, *, expected: bytes | None = None) -> None:
    """Replace the file's content with ``data``, unless it no longer holds the bytes whose
    digest is ``expected`` (`FileChanged`): that is checked last, just before the rename.

    The new text is written beside the file, given its owner, group and permissions, and
    renamed over it: a reader sees the old file or the new one, never half of one, and a
    failure leaves the old one. A file with several hard links is rewritten in place
    instead, so that all its names keep naming one file. No signal interrupts this.
    """
    target = os.path.realpath(path)  # through a symlink: replace the file, keep the link
    if expected is not None and not os.path.lexists(target):
        raise FileChanged(target)  # removed meanwhile
    if not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
    with signals_deferred():
        status = os.stat(target)
        if status.st_nlink > 1:
            _rewrite_in_place(target, data, expected)
        else:
            _replace(target, data, status, expected)


def _replace(target: str, data: bytes, status: os.stat_result, expected: bytes | None) -> None:
    folder, name = os.path.split(target)
    temporary = tempfile.NamedTemporaryFile(dir=folder, prefix=f".{name}.", suffix=".stablelint", delete=False)
    try:
        with temporary:
            temporary.write(data)
            temporary.flush()
            os.fsync(temporary.fileno())
        _give_owner(temporary.name, status)
        os.chmod(temporary.name, stat.S_IMODE(status.st_mode))  # after chown, which clears set-id bits
        _pause_for_tests(target)
        if expected is not None and _current_digest(target) != expected:
            raise FileChanged(target)
        os.replace(temporary.name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary.name)
        raise


def _give_owner(new_file: str, status: os.stat_result) -> None:
    """The new file gets the old one's owner and group: root fixing a user's file must not
    make it root's. Without the right to give a file away, the group alone may still be
    set; without that either, the file is the writer's, as with any editor's save."""
    if not hasattr(os, "chown"):
        return
    created = os.stat(new_file)
    if (created.st_uid, created.st_gid) == (status.st_uid, status.st_gid):
        return
    try:
        os.chown(new_file, status.st_uid, status.st_gid)
    except OSError:
        with contextlib.suppress(OSError):
            os.chown(new_file, -1, status.st_gid)


def _rewrite_in_place(target: str, data: bytes, expected: bytes | None) -> None:
    _pause_for_tests(target)
    descriptor = os.open(target, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        current = _read_all(descriptor)
        if expected is not None and _digest(current) != expected:
            raise FileChanged(target)
        if len(data) > len(current) and hasattr(os, "posix_fallocate"):
            # Reserve the space first, so that the write cannot run out of it half-way.
            try:
                os.posix_fallocate(descriptor, 0, len(data))
            except OSError as error:
                if error.errno == errno.ENOSPC:
                    raise
                # Not every file system can; the write below is then unprotected.
        try:
            _write_all(descriptor, data)
            os.ftruncate(descriptor, len(data))
            os.fsync(descriptor)
        except OSError:
            with contextlib.suppress(OSError):  # put the old text back
                _write_all(descriptor, current)
                os.ftruncate(descriptor, len(current))
            raise
    finally:
        os.close(descriptor)


def _current_digest(target: str) -> bytes | None:
    try:
        descriptor = os.open(target, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None  # removed meanwhile: changed too
    try:
        return _digest(_read_all(descriptor))
    finally:
        os.close(descriptor)


def _read_all(descriptor: int) -> bytes:
    os.lseek(descriptor, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(descriptor, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(descriptor: int, data: bytes) -> None:
    os.lseek(descriptor, 0, os.SEEK_SET)
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view):]


def _pause_for_tests(target: str) -> None:
    """``STABLELINT_TEST_PAUSE_BEFORE_WRITE=SECONDS`` is a test hook, not a setting: it holds
    each write between the new text being ready and the check that the file is unchanged,
    and says so on standard error, so that a test can change the file, or send a signal,
    at exactly that moment (tests/test_robustness.py)."""
    pause = os.environ.get("STABLELINT_TEST_PAUSE_BEFORE_WRITE")
    if not pause:
        return
    print(f"stablelint: test pause before writing {target}", file=sys.stderr, flush=True)
    with contextlib.suppress(ValueError):
        time.sleep(float(pause))


# -- the check command


def check_command(args: argparse.Namespace) -> int:
    _require_cwd()
    mode = Mode(fix=args.fix, diff=args.diff, unsafe=args.unsafe_fixes)
    reading_stdin = STDIN in args.paths or (not args.paths and args.stdin_filename)
    if reading_stdin and args.paths not in ([STDIN], []):
        raise StablelintError("'-' (standard input) cannot be combined with other paths")
    settings = settings_for(args)
    if args.add_noqa:
        from stablelint.add_noqa import add_noqa_command

        return add_noqa_command(args, settings, reading_stdin)
    if reading_stdin:
        return check_stdin(args, settings, mode)

    mode.cache = _open_cache(args, settings)
    discovery = discover(args.paths or ["."], settings)
    for missing in discovery.missing:
        print(f"{missing}: No such file or directory", file=sys.stderr)
    for problem in discovery.unreadable:
        print(problem, file=sys.stderr)
    results = check_files(discovery.files, settings, mode, args.jobs)
    for result in results:
        if result.error:
            print(result.error, file=sys.stderr)

    if mode.diff:
        sys.stdout.write("".join(output.unified_diff(r.path, r.original, r.source) for r in results if r.changed))
    else:
        sys.stdout.write(render(results, args))
    if args.show_fixes:
        sys.stderr.write(show_fixes(results, mode))
    if not args.quiet:
        summary = summarize(results, mode)
        if summary:
            print(summary, file=sys.stderr)
    return exit_status(
        results, mode, args, usage_error=bool(discovery.missing), read_error=bool(discovery.unreadable)
    )


def show_fixes(results: list[FileResult], mode: Mode) -> str:
    """``--show-fixes``: what --fix fixed (or --diff would fix), or what it could fix."""
    if mode.fixing:
        return output.fixes_applied([(r.path, r.fixed_codes) for r in results if r.fixed], would=mode.diff)
    reports = [output.FileReport(r.path, r.source, r.diagnostics) for r in results if r.diagnostics]
    return output.fixes_available(reports, unsafe=mode.unsafe)


def _open_cache(args: argparse.Namespace, settings: Settings) -> results_cache.Cache | None:
    if args.no_cache:
        return None
    folder = results_cache.cache_dir(args.cache_dir, settings.cache_dir, settings.root)
    cache, problem = results_cache.open_cache(folder, settings.assume_dtype)
    if problem and not args.quiet:
        print(problem, file=sys.stderr)
    return cache


def clean_command(argv: list[str]) -> int:
    """``stablelint clean``, as ``ruff clean``: remove the cache a check here would use."""
    parser = argparse.ArgumentParser(prog="stablelint clean", description="Remove the cache a check here uses.")
    parser.add_argument("--cache-dir", metavar="PATH", help="the cache's folder (else as a check finds it)")
    parser.add_argument("--config", metavar="PATH", type=Path, help="read [tool.stablelint] from this file")
    parser.add_argument("--isolated", action="store_true", help="ignore every config file")
    args = parser.parse_args(argv)
    _require_cwd()
    settings = load_settings(start=Path.cwd(), config_file=args.config, isolated=args.isolated)
    folder = results_cache.cache_dir(args.cache_dir, settings.cache_dir, settings.root)
    if not folder.exists():
        return 0
    if not results_cache.is_cache(folder):
        raise StablelintError(f"{folder}: not a stablelint cache (no CACHEDIR.TAG of stablelint's); left alone")
    print(f"Removing cache at: {folder}", file=sys.stderr)
    try:
        shutil.rmtree(folder)
    except OSError as error:
        raise StablelintError(f"cannot remove {error.filename or folder}: {error.strerror or error}") from None
    return 0


def _require_cwd() -> None:
    try:
        os.getcwd()
    except OSError as error:
        reason = error.strerror or str(error)
        raise StablelintError(f"cannot use the current directory: {reason} (was it removed?)") from None


def _collect_garbage_rarely() -> None:
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
        _collect_garbage_rarely()
        return [write_fixes(check_file(path, settings, mode), settings, mode) for path in paths]
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
    from concurrent.futures import wait as wait_for
    from concurrent.futures.process import BrokenProcessPool

    # spawn, not fork: a worker forked while one of the pool's threads holds a lock can hang
    # on that lock before it ever runs _worker_started, and then outlives a killed parent.
    # A spawned worker starts clean, and its parent is still this process.
    context = multiprocessing.get_context("spawn")
    tasks = _tasks(paths, jobs)
    pool = ProcessPoolExecutor(jobs, context, initializer=_worker_started, initargs=(os.getpid(),))
    try:
        # While the pool runs, a signal is only recorded (the main thread is never
        # interrupted inside the pool's locks: "cannot release un-acquired lock"), and this
        # loop acts on it between two waits. The workers, and the pool's own threads, start
        # with the ending signals blocked; a worker ignores them before it unblocks them.
        # Results come back in the order they are done; they are reported in the order of
        # the paths.
        results: list[FileResult | None] = [None] * len(paths)
        with signals_deferred():
            with _signals_blocked():
                pending = {pool.submit(check_chunk, [paths[i] for i in task], settings, mode): task for task in tasks}
            while pending and _signal_state.pending is None:  # leaving the deferred section raises it
                done, _ = wait_for(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    for index, result in zip(task, future.result()):
                        results[index] = write_fixes(result, settings, mode)
                    if _signal_state.pending is not None:
                        break
    except BrokenProcessPool:
        _kill_workers(pool)
        raise StablelintError("a worker process died (out of memory?); try again with --jobs 1") from None
    except BaseException:
        _kill_workers(pool)
        raise
    pool.shutdown()
    return [result for result in results if result is not None]


def _tasks(paths: list[str], jobs: int) -> list[list[int]]:
    """The files in groups, as indexes into ``paths``: the largest first, so that no worker
    is left with a big file while the other idles at the end; each group ~1/64 of a
    worker's share of the bytes, so that a task is worth sending but the last ones are short."""
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
    for index in sorted(range(len(paths)), key=lambda i: -sizes[i]):
        group.append(index)
        group_size += sizes[index]
        if group_size >= share or len(group) >= 64:
            tasks.append(group)
            group, group_size = [], 0
    if group:
        tasks.append(group)
    return tasks


@contextlib.contextmanager
def _signals_blocked():
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _ENDING_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


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


def check_stdin(args: argparse.Namespace, settings: Settings, mode: Mode) -> int:
    path = args.stdin_filename or STDIN_DISPLAY_NAME
    try:
        if sys.stdin is None:
            raise OSError(errno.EBADF, "standard input is closed")
        data = sys.stdin.buffer.read()
    except (OSError, ValueError) as error:  # ValueError: closed in this process
        reason = getattr(error, "strerror", None) or "standard input is closed"
        print(f"{path}: cannot read: {reason}", file=sys.stderr)
        return 0 if args.exit_zero else 1
    excluded = (
        args.stdin_filename
        and settings.force_exclude
        and settings.exclude_matcher().matches(os.path.abspath(args.stdin_filename))
    )
    if excluded:
        text = data.decode("utf-8", "surrogateescape")
        result = FileResult(path, source=text, original=text)
    else:
        try:
            result = check_text(path, data, settings, mode)
        except Exception as error:  # noqa: BLE001
            if os.environ.get("STABLELINT_DEBUG"):
                raise
            text = data.decode("utf-8", "surrogateescape")
            result = FileResult(path, source=text, original=text, error=_internal_error(error, path), crashed=True)
    if result.error:
        print(result.error, file=sys.stderr)
    if mode.diff:
        if result.changed:
            sys.stdout.write(output.unified_diff(path, result.original, result.source))
    elif mode.fix:
        # An editor replaces its buffer with what comes out: always the whole text.
        sys.stdout.buffer.write(result.source.encode(result.encoding) if result.changed else data)
        sys.stdout.flush()
        sys.stderr.write(render([result], args))
    else:
        sys.stdout.write(render([result], args))
    if args.show_fixes:
        sys.stderr.write(show_fixes([result], mode))
    if not args.quiet and not excluded:
        summary = summarize([result], mode)
        if summary:
            print(summary, file=sys.stderr)
    return exit_status([result], mode, args, usage_error=False)


def render(results: list[FileResult], args: argparse.Namespace) -> str:
    reports = [
        output.FileReport(r.path, r.cells.code if r.cells else r.source, r.diagnostics, r.cells)
        for r in results
        if r.diagnostics
    ]
    if args.statistics:
        diagnostics = [d for report in reports for d in report.diagnostics]
        rows = output.statistics(diagnostics)
        if args.format == "json":
            fixable = Counter(d.code for d in diagnostics if _fixable(d, args.unsafe_fixes))
            return output.statistics_json(rows, fixable)
        return output.statistics_text(rows)
    return report(args.format, reports, unsafe=args.unsafe_fixes)


def report(format: str, reports: list[output.FileReport], *, unsafe: bool = False) -> str:
    """The findings in one of ``output.FORMATS`` (SARIF builds on the formats module, so
    the choice between them is made here, above both)."""
    if format == "json":
        return output.json_report(reports)
    if format == "full":
        return output.full_report(reports, unsafe=unsafe)
    if format == "github":
        return output.github_report(reports)
    if format == "sarif":
        from stablelint.sarif import sarif_report

        return sarif_report(reports)
    return output.text_report(reports, unsafe=unsafe)


def _fixable(diagnostic: Diagnostic, unsafe: bool) -> bool:
    return output.fixable(diagnostic, unsafe)


def _errors(count: int) -> str:
    return f"{count} error{'s' if count != 1 else ''}"


def summarize(results: list[FileResult], mode: Mode) -> str:
    """ruff's closing lines, on standard error so standard output stays parseable."""
    remaining = [d for r in results for d in r.diagnostics]
    fixed = sum(r.fixed for r in results)
    if mode.diff:
        return f"Would fix {_errors(fixed)}." if fixed else ""
    if mode.fix:
        if not fixed and not remaining:
            return ""
        return f"Found {_errors(fixed + len(remaining))} ({fixed} fixed, {len(remaining)} remaining)."
    if not remaining:
        return ""
    lines = [f"Found {_errors(len(remaining))}."]
    safe = sum(1 for d in remaining if _fixable(d, mode.unsafe))
    hidden = sum(1 for d in remaining if d.fix is not None and not _fixable(d, mode.unsafe))
    if safe:
        more = f" ({hidden} more with `--unsafe-fixes`)" if hidden else ""
        lines.append(f"[*] {safe} fixable with `--fix`{more}.")
    elif hidden:
        lines.append(f"No safe fixes available ({hidden} fixable with `--fix --unsafe-fixes`).")
    return "\n".join(lines)


def exit_status(
    results: list[FileResult], mode: Mode, args: argparse.Namespace, *, usage_error: bool, read_error: bool = False
) -> int:
    if usage_error or any(r.crashed for r in results):
        return 2
    if args.exit_zero:
        return 0
    if read_error or any(r.error for r in results):
        return 1
    if mode.diff:
        return 1 if any(r.changed for r in results) else 0
    return 1 if any(r.diagnostics for r in results) else 0


# -- the language server


def server_command(argv: list[str]) -> int:
    try:
        from stablelint.server import serve
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in ("pygls", "lsprotocol"):
            raise
        raise StablelintError("the language server needs pygls: pip install 'stablelint[lsp]'") from None
    return serve(argv)


# -- rules and --explain


def _registry():
    try:
        from stablelint.rules import ALL_RULES
    except ImportError as error:  # pragma: no cover - while the rules are being written
        raise StablelintError(f"the rule registry is not available ({error})") from None
    return ALL_RULES


def rules_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="stablelint rules", description="List the rules, or explain one.")
    parser.add_argument("code", nargs="?", help="explain this rule")
    parser.add_argument("--format", "--output-format", dest="format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    if args.code:
        return explain(args.code)
    rules = _registry()
    if args.format == "json":
        import json

        items = [
            {"code": r.code, "name": r.name, "fix_safety": r.fix_safety, "message": r.message, "url": rule_url(r.code)}
            for r in rules
        ]
        print(json.dumps(items, indent=2, ensure_ascii=False))
        return 0
    name_width = max((len(rule.name) for rule in rules), default=0)
    for rule in rules:
        print(f"{rule.code}  {rule.name:<{name_width}}  fix: {rule.fix_safety:<9}  {rule.message}")
    return 0


def explain(code: str) -> int:
    rules = {rule.code: rule for rule in _registry()}
    rule = rules.get(code.strip().upper())
    if rule is None:
        raise StablelintError(f"unknown rule {code!r}; `stablelint rules` lists them")
    from stablelint.docs import page_text

    print(page_text(rule))
    print(f"\nOnline: {rule_url(rule.code)}")
    return 0
