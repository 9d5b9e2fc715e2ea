"""What each command does, once its arguments are parsed (`stablelint.cli`): check files
or standard input, add ``# noqa``, remove the cache, list and explain the rules, serve.

The files are checked by a session (`stablelint.session`) and written by
`stablelint.writer`; what is left here is what to print, and the exit status.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import io
import os
import sys
import time
from collections import Counter
from pathlib import Path

from stablelint import cache as results_cache
from stablelint import format as output
from stablelint import rule_url, session
from stablelint.config import Settings, load_settings
from stablelint.diagnostics import Diagnostic, StablelintError
from stablelint.session import FileResult, Mode

STDIN = "-"
STDIN_DISPLAY_NAME = "stdin"  # flake8's name for it


def require_cwd() -> None:
    try:
        os.getcwd()
    except OSError as error:
        reason = error.strerror or str(error)
        raise StablelintError(f"cannot use the current directory: {reason} (was it removed?)") from None


# -- check


def check_command(args: argparse.Namespace, settings: Settings) -> int:
    mode = Mode(fix=args.fix, diff=args.diff, unsafe=args.unsafe_fixes)
    mode.cache, problem = session.open_cache(settings, folder_option=args.cache_dir, disabled=args.no_cache)
    if problem and not args.quiet:
        print(problem, file=sys.stderr)
    checked = session.check_paths(args.paths or ["."], settings, mode, args.jobs)
    warn_missing(checked.missing, args)
    for problem in checked.unreadable:
        print(problem, file=sys.stderr)
    results = checked.results
    for result in results:
        if result.error:
            print(result.error, file=sys.stderr)

    with findings_stream(args) as out:
        if mode.diff:
            out.write("".join(output.unified_diff(r.path, r.original, r.source) for r in results if r.changed))
        elif not args.fix_only:
            out.write(render(results, args, colour=use_colour(args, out)))
    if args.show_fixes:
        sys.stderr.write(show_fixes(results, mode))
    if not args.quiet:
        summary = summarize(results, mode, fix_only=args.fix_only, problems=bool(checked.unreadable))
        if summary:
            print(summary, file=sys.stderr)
    return exit_status(results, mode, args, usage_error=False, read_error=bool(checked.unreadable))


def warn_missing(missing: list[str], args: argparse.Namespace) -> None:
    """A path that does not exist is a warning, and the run goes on (ruff: a warning and
    exit 0; flake8: E902): a hook that names a deleted file should not fail for it."""
    if args.quiet:
        return
    for path in missing:
        print(f"stablelint: warning: {path}: No such file or directory", file=sys.stderr)


@contextlib.contextmanager
def findings_stream(args: argparse.Namespace):
    """Where the findings go: standard output, or ``-o FILE`` (written whole at the end;
    a file that cannot be written is an error, exit 2)."""
    if not args.output_file:
        yield sys.stdout
        return
    buffer = io.StringIO()
    yield buffer
    try:
        folder = os.path.dirname(os.path.abspath(args.output_file))
        os.makedirs(folder, exist_ok=True)
        with open(args.output_file, "w", encoding="utf-8") as file:
            file.write(buffer.getvalue())
    except OSError as error:
        raise StablelintError(f"{args.output_file}: cannot write: {error.strerror or error}") from None


def use_colour(args: argparse.Namespace, stream) -> bool:
    """--color always/never; auto: NO_COLOR (any value) turns it off, FORCE_COLOR (any
    value) on, else a terminal gets colour and a pipe or file does not."""
    choice = getattr(args, "color", "auto")
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return stream is sys.stdout or stream is sys.stderr
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


MAX_STDIN = 64 << 20  # bytes: source code that an editor pipes in; /dev/zero is not


def check_stdin(args: argparse.Namespace, settings: Settings) -> int:
    mode = Mode(fix=args.fix, diff=args.diff, unsafe=args.unsafe_fixes)
    path = args.stdin_filename or STDIN_DISPLAY_NAME
    try:
        if sys.stdin is None:
            raise OSError(errno.EBADF, "standard input is closed")
        data = sys.stdin.buffer.read(MAX_STDIN + 1)
    except (OSError, ValueError) as error:  # ValueError: closed in this process
        reason = getattr(error, "strerror", None) or "standard input is closed"
        print(f"{path}: cannot read: {reason}", file=sys.stderr)
        return 0 if args.exit_zero else 1
    if len(data) > MAX_STDIN:
        print(f"{path}: not read: standard input is larger than {MAX_STDIN >> 20} MiB", file=sys.stderr)
        return 0 if args.exit_zero else 1
    excluded = bool(
        args.stdin_filename
        and settings.force_exclude
        and settings.exclude_matcher().matches(os.path.abspath(args.stdin_filename))
    )
    result = session.check_data(path, data, settings, mode, excluded=excluded)
    if result.error:
        print(result.error, file=sys.stderr)
    if mode.diff:
        if result.changed:
            with findings_stream(args) as out:
                out.write(output.unified_diff(path, result.original, result.source))
    elif mode.fix:
        # An editor replaces its buffer with what comes out: always the whole text.
        sys.stdout.buffer.write(result.source.encode(result.encoding) if result.changed else data)
        sys.stdout.flush()
        if not args.fix_only:
            if args.output_file:
                with findings_stream(args) as out:
                    out.write(render([result], args))
            else:
                sys.stderr.write(render([result], args, colour=use_colour(args, sys.stderr)))
    else:
        with findings_stream(args) as out:
            out.write(render([result], args, colour=use_colour(args, out)))
    if args.show_fixes:
        sys.stderr.write(show_fixes([result], mode))
    if not args.quiet and not excluded:
        summary = summarize([result], mode, fix_only=args.fix_only)
        if summary:
            print(summary, file=sys.stderr)
    return exit_status([result], mode, args, usage_error=False)


def show_fixes(results: list[FileResult], mode: Mode) -> str:
    """``--show-fixes``: what --fix fixed (or --diff would fix), or what it could fix."""
    if mode.fixing:
        return output.fixes_applied([(r.path, r.fixed_codes) for r in results if r.fixed], would=mode.diff)
    reports = [output.FileReport(r.path, r.source, r.diagnostics) for r in results if r.diagnostics]
    return output.fixes_available(reports, unsafe=mode.unsafe)


def render(results: list[FileResult], args: argparse.Namespace, *, colour: bool = False) -> str:
    reports = [
        output.FileReport(r.path, r.cells.code if r.cells else r.source, r.diagnostics, r.cells)
        for r in results
        if r.diagnostics
    ]
    if args.statistics:
        diagnostics = [d for report in reports for d in report.diagnostics]
        rows = output.statistics(diagnostics)
        fixable = Counter(d.code for d in diagnostics if _fixable(d, args.unsafe_fixes))
        if args.format == "json":
            return output.statistics_json(rows, fixable)
        return output.statistics_text(rows, fixable)
    text = report(args.format, reports, unsafe=args.unsafe_fixes)
    if colour and args.format in ("text", "concise"):
        return output.coloured_lines(text)
    return text


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


def summarize(results: list[FileResult], mode: Mode, *, fix_only: bool = False, problems: bool = False) -> str:
    """ruff's closing lines, on standard error so standard output stays parseable."""
    remaining = [d for r in results for d in r.diagnostics]
    fixed = sum(r.fixed for r in results)
    if mode.diff:
        return f"Would fix {_errors(fixed)}." if fixed else ""
    if fix_only:
        return f"Fixed {_errors(fixed)}." if fixed else ""
    checked_all = not problems and not any(r.error for r in results)
    if mode.fix:
        if not fixed and not remaining:
            return "All checks passed!" if checked_all else ""
        return f"Found {_errors(fixed + len(remaining))} ({fixed} fixed, {len(remaining)} remaining)."
    if not remaining:
        return "All checks passed!" if checked_all else ""
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
    if getattr(args, "exit_non_zero_on_fix", False) and mode.fix and not mode.diff and any(r.fixed for r in results):
        return 1
    if read_error or any(r.error for r in results):
        return 1
    if mode.diff:
        return 1 if any(r.changed for r in results) else 0
    if getattr(args, "fix_only", False):
        return 0
    return 1 if any(r.diagnostics for r in results) else 0


# -- --show-files, --show-settings, --watch


def show_files(args: argparse.Namespace, settings: Settings) -> int:
    """ruff's ``--show-files``: the files a check would read, sorted, one a line."""
    discovery = session.discover(args.paths or ["."], settings)
    warn_missing(discovery.missing, args)
    for problem in discovery.unreadable:
        print(problem, file=sys.stderr)
    with findings_stream(args) as out:
        out.write("".join(f"{path}\n" for path in sorted(discovery.files)))
    return 0


def show_settings(args: argparse.Namespace, settings: Settings) -> int:
    """ruff's ``--show-settings``: the settings the first file is checked with."""
    discovery = session.discover(args.paths or ["."], settings)
    first = min(discovery.files, default=None)

    def codes(values) -> str:
        return "[" + ", ".join(f'"{value}"' for value in values) + "]"

    layers = [
        f"select = {codes(layer.select) if layer.select is not None else '(unchanged)'}, "
        f"extend-select = {codes(layer.extend_select)}, ignore = {codes(layer.ignore)}"
        for layer in settings.selections
    ]
    lines = [
        f"Resolved settings for: {first if first is not None else '(no file found)'}",
        f"Settings path: {settings.config_file or '(none: defaults and the command line)'}",
        f"root = {settings.root}",
        *(f"selection[{number}]: {layer}" for number, layer in enumerate(layers)),
        "per-file-ignores = {" + ", ".join(f'"{p}" = {codes(c)}' for p, c in settings.per_file_ignores) + "}",
        f"exclude = {codes(settings.exclude)}",
        f"extend-exclude = {codes(settings.extend_exclude)}",
        f"respect-gitignore = {str(settings.respect_gitignore).lower()}",
        f"force-exclude = {str(settings.force_exclude).lower()}",
        f"assume-dtype = {settings.assume_dtype or '(float32 for tensors, float64 for NumPy)'}",
        f"fixable = {codes(settings.fixable) if settings.fixable is not None else '(all)'}",
        f"unfixable = {codes(settings.unfixable)}",
        f"cache-dir = {settings.cache_dir or '(default)'}",
    ]
    if first is not None:
        from stablelint.rules import ALL_RULES

        reported = settings.reports(first)
        lines.append(f"rules reported in {first} = {codes(r.code for r in ALL_RULES if reported(r.code))}")
    with findings_stream(args) as out:
        out.write("\n".join(lines) + "\n")
    return 0


WATCH_INTERVAL = 0.5  # seconds between two looks at the files' times


def watch_command(args: argparse.Namespace, load_settings_again) -> int:
    """``--watch``: check, then check again each time a file under the paths, or the
    config file, changes (a new, changed or removed file). Ctrl-C ends it."""
    settings = load_settings_again()
    while True:
        print("Checking (watching for changes; Ctrl-C ends).", file=sys.stderr, flush=True)
        seen = _file_times(args, settings)
        check_command(args, settings)
        sys.stdout.flush()
        while _file_times(args, settings) == seen:
            time.sleep(WATCH_INTERVAL)
        print("File change detected.", file=sys.stderr, flush=True)
        try:
            settings = load_settings_again()
        except StablelintError as error:  # a config being edited: say so, keep the last good one
            print(f"stablelint: error: {error}", file=sys.stderr, flush=True)


def _file_times(args: argparse.Namespace, settings: Settings) -> dict[str, tuple[int, int]]:
    discovery = session.discover(args.paths or ["."], settings)
    paths = [*discovery.files, *([str(settings.config_file)] if settings.config_file else [])]
    times = {}
    for path in paths:
        try:
            status = os.stat(path)
        except OSError:
            continue
        times[path] = (status.st_mtime_ns, status.st_size)
    return times


# -- add-noqa


def add_noqa_command(args: argparse.Namespace, settings: Settings, reading_stdin: bool) -> int:
    from stablelint.add_noqa import add_noqa_to_file

    if reading_stdin:
        raise StablelintError("--add-noqa edits files in place; it cannot read standard input")
    if args.fix or args.diff:
        raise StablelintError("--add-noqa cannot be combined with --fix or --diff")
    discovery = session.discover(args.paths or ["."], settings)
    warn_missing(discovery.missing, args)
    for problem in discovery.unreadable:
        print(problem, file=sys.stderr)
    added, failed = 0, bool(discovery.unreadable)
    for path in discovery.files:
        problem, count = add_noqa_to_file(path, settings, args.add_noqa or "")
        if problem:
            print(problem, file=sys.stderr)
            failed = True
        added += count
    if not args.quiet:
        print(f"Added {added} noqa directive{'s' if added != 1 else ''}.", file=sys.stderr)
    return 1 if failed and not args.exit_zero else 0


# -- clean


def clean_command(args: argparse.Namespace) -> int:
    """``stablelint clean``, as ``ruff clean``: remove the cache a check here would use."""
    require_cwd()
    settings = load_settings(start=Path.cwd(), config_file=args.config, isolated=args.isolated)
    folder = results_cache.cache_dir(args.cache_dir, settings.cache_dir, settings.root)
    if not folder.exists() and not folder.is_symlink():
        return 0
    if not folder.is_symlink() and not results_cache.is_cache(folder):
        raise StablelintError(f"{folder}: not a stablelint cache (no CACHEDIR.TAG of stablelint's); left alone")
    print(f"Removing cache at: {folder}", file=sys.stderr)
    try:
        results_cache.remove(folder)
    except OSError as error:
        raise StablelintError(f"cannot remove {error.filename or folder}: {error.strerror or error}") from None
    return 0


# -- the language server


def server_command(argv: list[str]) -> int:
    try:
        from stablelint.server import serve
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in ("pygls", "lsprotocol"):
            raise
        raise StablelintError(
            "the language server needs pygls: pip install 'pygls>=2' (or install stablelint with its [lsp] extra)"
        ) from None
    return serve(argv)


# -- rules and --explain


def _registry():
    try:
        from stablelint.rules import ALL_RULES
    except ImportError as error:  # pragma: no cover - while the rules are being written
        raise StablelintError(f"the rule registry is not available ({error})") from None
    return ALL_RULES


def rules_command(args: argparse.Namespace) -> int:
    """``stablelint rules [CODE]`` and ``stablelint rule CODE|--all``."""
    if args.code and args.format == "text":
        return explain(args.code)
    rules = [_rule(args.code)] if args.code else _registry()
    if args.format == "json":
        import json

        from stablelint.docs import page_text

        items = [
            {
                "code": r.code, "name": r.name, "fix_safety": r.fix_safety, "message": r.message,
                "url": rule_url(r.code), **({"explanation": page_text(r)} if args.code else {}),
            }
            for r in rules
        ]
        print(json.dumps(items[0] if args.code else items, indent=2, ensure_ascii=False))
        return 0
    name_width = max((len(rule.name) for rule in rules), default=0)
    for rule in rules:
        print(f"{rule.code}  {rule.name:<{name_width}}  fix: {rule.fix_safety:<9}  {rule.message}")
    return 0


def _rule(code: str):
    rule = {rule.code: rule for rule in _registry()}.get(code.strip().upper())
    if rule is None:
        raise StablelintError(f"unknown rule {code!r}; `stablelint rules` lists them")
    return rule


def explain(code: str) -> int:
    rule = _rule(code)
    from stablelint.docs import failure_text, page_address, page_text

    print(page_text(rule))
    print(failure_text(rule))
    print(f"\n{page_address(rule.code)}")
    return 0
