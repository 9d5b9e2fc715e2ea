"""The ``stablelint`` command: check, fix or diff files, list and explain the rules.

Exit status: 0 nothing reported, 1 findings remain (or a file could not be read or
parsed, as in flake8 and ruff), 2 a usage or configuration error, a missing path, or an
internal error. ``--exit-zero`` turns 1 into 0, never 2.
"""

from __future__ import annotations

import argparse
import ast
import errno
import io
import os
import stat
import sys
import tempfile
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Callable

from stablelint import __version__, engine
from stablelint import format as output
from stablelint.config import Settings, load_settings, parse_per_file_ignores, split_codes
from stablelint.diagnostics import Diagnostic, StablelintError
from stablelint.discover import discover
from stablelint.noqa import filter_noqa

STDIN = "-"
STDIN_DISPLAY_NAME = "stdin"  # flake8's name for it


def main(argv: list[str] | None = None) -> int:
    """Never a traceback: every failure is one ``stablelint: error:`` line and exit 2."""
    try:
        return run(sys.argv[1:] if argv is None else list(argv))
    except StablelintError as error:
        print(f"stablelint: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stablelint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`stablelint . | head`): nothing left to say to it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as error:  # noqa: BLE001 - the last line of defence
        if os.environ.get("STABLELINT_DEBUG"):
            raise
        print(_internal_error(error), file=sys.stderr)
        return 2


def run(argv: list[str]) -> int:
    if argv[:1] == ["rules"]:
        return rules_command(argv[1:])
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
    option("--config", metavar="PATH", type=Path, help="read [tool.stablelint] from this file")
    option("--isolated", action="store_true", help="ignore every config file")

    reporting = parser.add_argument_group("output")
    option = reporting.add_argument
    option(
        "--format", "--output-format", dest="format", choices=output.FORMATS, default="text",
        help="text (flake8's lines) or json (ruff's shape)",
    )
    option("--statistics", action="store_true", help="print the count of each code instead of the findings")
    option("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    option("-q", "--quiet", action="store_true", help="no summary on standard error")
    option("--stdin-filename", metavar="NAME", help="the name of the file on standard input (messages, config)")
    option("--explain", metavar="CODE", help="print the documentation of a rule and exit")
    option("-j", "--jobs", type=_jobs, default=1, metavar="N", help="check in N processes ('auto': one per CPU)")
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


def settings_for(args: argparse.Namespace) -> Settings:
    first = args.stdin_filename if args.paths == [STDIN] or not args.paths and args.stdin_filename else None
    first = first or (args.paths[0] if args.paths else ".")
    start = Path(first) if os.path.isdir(first) else Path(first).parent
    if not start.is_dir():
        start = Path.cwd()
    settings = load_settings(start=start, config_file=args.config, isolated=args.isolated)

    def patterns(text: str | None) -> list[str] | None:
        return None if text is None else [item for item in text.replace(",", " ").split() if item]

    return settings.with_overrides(
        select=None if args.select is None else split_codes(args.select, "--select"),
        extend_select=split_codes(args.extend_select, "--extend-select") if args.extend_select else None,
        ignore=split_codes(args.ignore, "--ignore") if args.ignore else None,
        per_file_ignores=None if args.per_file_ignores is None else parse_per_file_ignores(args.per_file_ignores),
        exclude=patterns(args.exclude),
        extend_exclude=patterns(args.extend_exclude),
        force_exclude=args.force_exclude,
    )


# -- checking and fixing one file


@dataclass
class Mode:
    fix: bool = False  # write the fixed text
    diff: bool = False  # compute the fixed text, only to show it
    unsafe: bool = False

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
    error: str | None = None  # one line for standard error: not read, not parsed, or not written
    crashed: bool = False  # the error is stablelint's own

    @property
    def changed(self) -> bool:
        return self.source != self.original


def decode(data: bytes) -> tuple[str, str]:
    """PEP 263 decoding, with line endings and a byte-order mark kept as they are."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    if encoding == "utf-8-sig":
        encoding = "utf-8"  # the BOM stays in the text, and is written back as it was
    return data.decode(encoding), encoding


def keep_for(path: str, settings: Settings) -> Callable[[str, list[Diagnostic]], list[Diagnostic]]:
    """select/ignore, per-file-ignores and noqa: what is neither reported nor fixed."""
    reported = settings.reports(path)

    def keep(source: str, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
        return filter_noqa(source, [d for d in diagnostics if reported(d.code)])

    return keep


def check_text(path: str, data: bytes, settings: Settings, mode: Mode) -> FileResult:
    result = FileResult(path)
    try:
        result.original, result.encoding = decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as error:
        result.error = f"{path}: cannot decode: {getattr(error, 'msg', None) or error}"
        return result
    result.source = result.original
    keep = keep_for(path, settings)
    try:
        if not mode.fixing:
            result.diagnostics = keep(result.source, engine.check_source(result.source, path))
            return result
        outcome = engine.fix_source(result.source, path, keep=keep, unsafe=mode.unsafe)
    except engine.ParseError as error:
        where = f"{path}:{error.line}:{error.col or 1}" if error.line else path
        result.error = f"{where}: {error}"
        return result
    result.diagnostics, result.fixed = outcome.remaining, outcome.applied
    if outcome.source != result.original:
        problem = _unwritable(outcome.source, result.encoding)
        if problem:
            # Leave the file as it was and report what it has, as if not fixing.
            result.error = f"{path}: fixes not applied: {problem}"
            result.diagnostics = keep(result.original, engine.check_source(result.original, path))
            result.fixed = 0
        else:
            result.source = outcome.source
    return result


def _unwritable(fixed: str, encoding: str) -> str | None:
    """The engine re-parses every fix; a file is still never written unchecked."""
    try:
        ast.parse(fixed.removeprefix("\ufeff"))  # the BOM is an encoding mark, not code
    except (SyntaxError, ValueError) as error:
        return f"the fixed code does not parse ({getattr(error, 'msg', error)})"
    try:
        fixed.encode(encoding)
    except UnicodeEncodeError:
        return f"the fixed code cannot be written in the file's encoding ({encoding})"
    return None


def check_file(path: str, settings: Settings, mode: Mode) -> FileResult:
    """One file, start to end. A crash is that file's error line, and the run goes on
    (and exits 2): one odd file should not hide the findings in the others."""
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
    if mode.fix and not mode.diff and result.changed:
        try:
            write_atomically(path, result.source.encode(result.encoding))
        except OSError as error:
            result.error = f"{path}: cannot write the fixes: {error.strerror or error}"
            result.diagnostics = check_text(path, data, settings, Mode()).diagnostics
            result.fixed, result.source = 0, result.original
    return result


def write_atomically(path: str, data: bytes) -> None:
    """Write beside the file, keep its permissions, rename over it: a reader sees the old
    file or the new one, never half of one, and a failure leaves the old one."""
    target = os.path.realpath(path)  # through a symlink: replace the file, keep the link
    if not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
    mode = stat.S_IMODE(os.stat(target).st_mode)
    folder, name = os.path.split(target)
    temporary = tempfile.NamedTemporaryFile(dir=folder, prefix=f".{name}.", suffix=".stablelint", delete=False)
    try:
        with temporary:
            temporary.write(data)
            temporary.flush()
            os.fsync(temporary.fileno())
        os.chmod(temporary.name, mode)
        os.replace(temporary.name, target)
    except BaseException:
        try:
            os.unlink(temporary.name)
        except OSError:
            pass
        raise


# -- the check command


def check_command(args: argparse.Namespace) -> int:
    mode = Mode(fix=args.fix, diff=args.diff, unsafe=args.unsafe_fixes)
    reading_stdin = STDIN in args.paths or (not args.paths and args.stdin_filename)
    if reading_stdin and args.paths not in ([STDIN], []):
        raise StablelintError("'-' (standard input) cannot be combined with other paths")
    settings = settings_for(args)
    if reading_stdin:
        return check_stdin(args, settings, mode)

    discovery = discover(args.paths or ["."], settings)
    for missing in discovery.missing:
        print(f"{missing}: No such file or directory", file=sys.stderr)
    results = check_files(discovery.files, settings, mode, args.jobs)
    for result in results:
        if result.error:
            print(result.error, file=sys.stderr)

    if mode.diff:
        sys.stdout.write("".join(output.unified_diff(r.path, r.original, r.source) for r in results if r.changed))
    else:
        sys.stdout.write(render(results, args))
    if not args.quiet:
        summary = summarize(results, mode)
        if summary:
            print(summary, file=sys.stderr)
    return exit_status(results, mode, args, usage_error=bool(discovery.missing))


def check_files(paths: list[str], settings: Settings, mode: Mode, jobs: int) -> list[FileResult]:
    # Worker processes cost ~0.1 s to start: worth it only for a real tree.
    if jobs <= 1 or len(paths) < 8 * jobs:
        return [check_file(path, settings, mode) for path in paths]
    from concurrent.futures import ProcessPoolExecutor

    chunk = max(1, len(paths) // (jobs * 16))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(check_file, paths, repeat(settings), repeat(mode), chunksize=chunk))


def check_stdin(args: argparse.Namespace, settings: Settings, mode: Mode) -> int:
    path = args.stdin_filename or STDIN_DISPLAY_NAME
    data = sys.stdin.buffer.read()
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
    if not args.quiet and not excluded:
        summary = summarize([result], mode)
        if summary:
            print(summary, file=sys.stderr)
    return exit_status([result], mode, args, usage_error=False)


def render(results: list[FileResult], args: argparse.Namespace) -> str:
    reports = [output.FileReport(r.path, r.source, r.diagnostics) for r in results if r.diagnostics]
    if args.statistics:
        diagnostics = [d for report in reports for d in report.diagnostics]
        rows = output.statistics(diagnostics)
        if args.format == "json":
            fixable = Counter(d.code for d in diagnostics if _fixable(d, args.unsafe_fixes))
            return output.statistics_json(rows, fixable)
        return output.statistics_text(rows)
    if args.format == "json":
        return output.json_report(reports)
    return output.text_report(reports)


def _fixable(diagnostic: Diagnostic, unsafe: bool) -> bool:
    return diagnostic.fix is not None and (unsafe or diagnostic.fix.safety == "safe")


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


def exit_status(results: list[FileResult], mode: Mode, args: argparse.Namespace, *, usage_error: bool) -> int:
    if usage_error or any(r.crashed for r in results):
        return 2
    if args.exit_zero:
        return 0
    if any(r.error for r in results):
        return 1
    if mode.diff:
        return 1 if any(r.changed for r in results) else 0
    return 1 if any(r.diagnostics for r in results) else 0


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
    parser.add_argument("--format", "--output-format", dest="format", choices=output.FORMATS, default="text")
    args = parser.parse_args(argv)
    if args.code:
        return explain(args.code)
    rules = _registry()
    if args.format == "json":
        import json

        items = [
            {"code": r.code, "name": r.name, "fix_safety": r.fix_safety, "message": r.message} for r in rules
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
    from stablelint.docs import render

    page = render(rule)
    lines = [line for line in page.splitlines() if not line.startswith("<!--")]
    print("\n".join(lines).strip())
    return 0
