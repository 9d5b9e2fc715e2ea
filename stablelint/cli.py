"""The ``stablelint`` command line: its arguments, and which command they ask for.

Exit status: 0 nothing reported, 1 findings remain (or a file could not be read or
parsed, as in flake8 and ruff), 2 a usage or configuration error, a missing path, or an
internal error. ``--exit-zero`` turns 1 into 0, never 2.

A folder that cannot be read is reported as an unreadable file is (exit 1).

What each command does is in `stablelint.commands`; files are checked by a session
(`stablelint.session`), written by `stablelint.writer`, and a signal ends a run as
`stablelint.signals` says.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
from pathlib import Path

from stablelint import __version__, commands, selection
from stablelint import cache as results_cache
from stablelint import format as output
from stablelint.commands import STDIN
from stablelint.config import (
    DTYPES,
    Settings,
    load_settings,
    parse_inline_setting,
    parse_per_file_ignores,
    split_codes,
)
from stablelint.diagnostics import StablelintError
from stablelint.session import internal_error
from stablelint.signals import Terminated, signals_handled


def main(argv: list[str] | None = None) -> int:
    """Never a traceback: every failure is one ``stablelint: error:`` line and exit 2."""
    _replace_closed_streams()
    with signals_handled():
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
            print(internal_error(error), file=sys.stderr)
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

def run(argv: list[str]) -> int:
    if argv[:1] == ["rules"]:
        return commands.rules_command(rules_parser().parse_args(argv[1:]))
    if argv[:1] == ["rule"]:  # ruff's `ruff rule CODE`
        return commands.rules_command(rule_parser().parse_args(argv[1:]))
    if argv[:1] == ["server"]:
        return commands.server_command(argv[1:])
    if argv[:1] == ["clean"]:
        return commands.clean_command(clean_parser().parse_args(argv[1:]))
    if argv[:1] == ["check"]:
        argv = argv[1:]
    # `--add-noqa=REASON`, as ruff takes it: the reason only with "=", so that
    # `--add-noqa file.py` still names a file.
    argv = [
        part
        for item in argv
        for part in (["--add-noqa", "--add-noqa-reason", item.partition("=")[2]]
                     if item.startswith("--add-noqa=") else [item])
    ]
    args = build_parser().parse_args(argv)
    args.add_noqa = (args.add_noqa_reason or "") if args.add_noqa else None
    if args.explain is not None:  # `--explain ''` too: it names no rule
        return commands.explain(args.explain)
    return check(args)


def check(args: argparse.Namespace) -> int:
    commands.require_cwd()
    _resolve_fix_flags(args)
    reading_stdin = STDIN in args.paths or (not args.paths and args.stdin_filename)
    if reading_stdin and args.paths not in ([STDIN], []):
        raise StablelintError("'-' (standard input) cannot be combined with other paths")
    if args.watch and (reading_stdin or args.add_noqa is not None or args.show_files or args.show_settings):
        raise StablelintError("--watch checks files again as they change; it reads no standard input")
    settings = settings_for(args)
    if args.show_settings:
        return commands.show_settings(args, settings)
    if args.show_files:
        return commands.show_files(args, settings)
    if args.silent:  # -s: nothing printed, the exit status alone tells (ruff's --silent)
        with open(os.devnull, "w") as nowhere, _redirected(nowhere):
            return _run_check(args, settings, reading_stdin)
    return _run_check(args, settings, reading_stdin)


def _run_check(args: argparse.Namespace, settings: Settings, reading_stdin: bool) -> int:
    if args.add_noqa is not None:
        return commands.add_noqa_command(args, settings, reading_stdin)
    if reading_stdin:
        return commands.check_stdin(args, settings)
    if args.watch:
        return commands.watch_command(args, lambda: settings_for(args))
    return commands.check_command(args, settings)


def _resolve_fix_flags(args: argparse.Namespace) -> None:
    """ruff's rules: --fix-only fixes and reports nothing else; --no-fix undoes --fix and
    --fix-only, whichever comes first on the line."""
    if args.fix_only:
        args.fix = True
    if args.no_fix:
        args.fix = args.fix_only = False
    if args.add_noqa is not None and re.match(r"[A-Za-z]+[0-9]+", args.add_noqa):
        raise StablelintError(f"--add-noqa={args.add_noqa!r}: a reason that starts like a code would be read as one")
    if args.add_noqa is not None and ("\n" in args.add_noqa or "\r" in args.add_noqa):
        raise StablelintError("--add-noqa: the reason must be one line")


@contextlib.contextmanager
def _redirected(stream):
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = stream
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


# -- options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stablelint",
        usage=(
            "stablelint [check] [options] [PATH ...]\n"
            "       stablelint rules [CODE]\n"
            "       stablelint rule CODE | --all\n"
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
    fixing.add_argument(
        "--fix-only", action="store_true", help="apply the fixes and report nothing else (exit 0 unless told otherwise)"
    )
    fixing.add_argument("--no-fix", action="store_true", help="undo --fix and --fix-only (e.g. in a wrapper's alias)")
    fixing.add_argument(
        "--exit-non-zero-on-fix", action="store_true", help="exit 1 when --fix changed a file, even if nothing remains"
    )
    fixing.add_argument("--unsafe-fixes", action="store_true", help="also apply (or show) the unsafe fixes")
    fixing.add_argument(
        "--diff", action="store_true", help="print what --fix would change, write nothing; exit 1 if anything"
    )
    fixing.add_argument(
        "--show-fixes", action="store_true", help="list the fixes applied (with --fix) or available, on standard error"
    )
    fixing.add_argument(
        "--add-noqa", action="store_true",
        help="append '# noqa: CODE' to every line with a finding, in place; --add-noqa=REASON adds the reason",
    )
    fixing.add_argument("--add-noqa-reason", metavar="REASON", help=argparse.SUPPRESS)
    fixing.add_argument("--fixable", metavar="CODES", help="code prefixes --fix may fix (replaces the config's)")
    fixing.add_argument("--unfixable", metavar="CODES", help="code prefixes --fix never fixes (replaces the config's)")

    selecting = parser.add_argument_group("choosing codes and files (these override the config file)")
    option = selecting.add_argument
    option("--select", metavar="CODES", help="code prefixes to report, e.g. STB1,STB201 (replaces the config's)")
    option("--extend-select", metavar="CODES", help="code prefixes to report in addition")
    option("--ignore", "--extend-ignore", dest="ignore", metavar="CODES", help="code prefixes not to report")
    option("--per-file-ignores", metavar="PATTERN:CODES", help="e.g. 'tests/*:STB1 setup.py:STB106'")
    option("--extend-per-file-ignores", metavar="PATTERN:CODES", help="per-file ignores in addition to the config's")
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
    option(
        "--numpy-like", metavar="MODULE[=WRAPPED],...",
        help="modules that re-export NumPy (or MODULE=jax.numpy, =scipy.special); extends numpy-like",
    )
    option(
        "--config", metavar="PATH|KEY=VALUE", action="append", default=[],
        help="read [tool.stablelint] from this file, or override one of its keys: --config 'unfixable = [\"STB2\"]'",
    )
    option("--isolated", action="store_true", help="ignore every config file")

    reporting = parser.add_argument_group("output")
    option = reporting.add_argument
    option(
        "--format", "--output-format", dest="format", choices=output.FORMATS, default=_default_format(),
        help="text or concise (flake8's lines, [*] where --fix fixes), full (with the source underlined), "
        f"json (ruff's shape), github (workflow annotations), sarif (2.1.0, for code scanning); ${FORMAT_ENV}",
    )
    option(
        "-o", "--output-file", metavar="PATH", default=os.environ.get(OUTPUT_FILE_ENV) or None,
        help=f"write the findings (or --diff, --statistics) to this file, not standard output; ${OUTPUT_FILE_ENV}",
    )
    option(
        "--color", choices=("auto", "always", "never"), default="auto",
        help="colour the findings: auto (on a terminal, unless NO_COLOR is set; FORCE_COLOR asks), always, never",
    )
    option("--statistics", action="store_true", help="print the count of each code instead of the findings")
    option("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    option("-q", "--quiet", action="store_true", help="the findings, and no summary or warnings on standard error")
    option("-s", "--silent", action="store_true", help="print nothing at all; the exit status tells")
    option("--show-files", action="store_true", help="list the files a check would look at, and exit")
    option("--show-settings", action="store_true", help="print the settings the first file is checked with, and exit")
    option("-w", "--watch", action="store_true", help="check again whenever a file (or the config) changes")
    option("--stdin-filename", metavar="NAME", help="the name of the file on standard input (messages, config)")
    option("--explain", metavar="CODE", help="print the documentation of a rule and exit")
    option("-j", "--jobs", type=_jobs, default=1, metavar="N", help="check in N processes ('auto': one per CPU)")
    option("--no-cache", action="store_true", help="check every file again; neither read nor write the cache")
    option(
        "--cache-dir", metavar="PATH",
        help=f"where the cache is (default: {results_cache.DEFAULT_DIR} in the project root; ${results_cache.ENV_VAR})",
    )
    return parser


FORMAT_ENV = "STABLELINT_OUTPUT_FORMAT"
OUTPUT_FILE_ENV = "STABLELINT_OUTPUT_FILE"


def _default_format() -> str:
    """``$STABLELINT_OUTPUT_FORMAT`` (as ruff's RUFF_OUTPUT_FORMAT); a value that is no
    format is an error, not silence."""
    chosen = os.environ.get(FORMAT_ENV, "").strip()
    if not chosen:
        return "text"
    if chosen not in output.FORMATS:
        raise StablelintError(f"${FORMAT_ENV}={chosen!r}: expected one of {', '.join(output.FORMATS)}")
    return chosen


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
    config_file, overrides = _config_options(args.config)
    settings = load_settings(start=start, config_file=config_file, isolated=args.isolated, overrides=overrides)
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
        extend_per_file_ignores=None if args.extend_per_file_ignores is None else [
            (pattern, tuple(selection.known(found, "--extend-per-file-ignores")))
            for pattern, found in parse_per_file_ignores(args.extend_per_file_ignores, "--extend-per-file-ignores")
        ],
        fixable=None if args.fixable is None else codes(args.fixable, "--fixable"),
        unfixable=None if args.unfixable is None else codes(args.unfixable, "--unfixable"),
        exclude=patterns(args.exclude),
        extend_exclude=patterns(args.extend_exclude),
        force_exclude=args.force_exclude,
        assume_dtype=args.assume_dtype,
        numpy_like=patterns(args.numpy_like),
    )


def _config_options(values: list[str]) -> tuple[Path | None, dict]:
    """``--config`` as ruff takes it: a file's path, or a TOML ``KEY = VALUE`` of
    [tool.stablelint] (several may be given; the last of a key wins)."""
    config_file, overrides = None, {}
    for value in values:
        if "=" not in value or os.path.isfile(value):
            if config_file is not None:
                raise StablelintError("--config: only one config file can be given")
            config_file = Path(value)
        else:
            overrides.update(parse_inline_setting(value))
    return config_file, overrides


def rules_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stablelint rules", description="List the rules, or explain one.")
    parser.add_argument("code", nargs="?", help="explain this rule")
    parser.add_argument("--format", "--output-format", dest="format", choices=("text", "json"), default="text")
    return parser


def rule_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stablelint rule", description="Print a rule's page, or list them all.")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("code", nargs="?", help="the rule's code, e.g. STB101")
    group.add_argument("--all", action="store_true", help="list every rule")
    parser.add_argument("--format", "--output-format", dest="format", choices=("text", "json"), default="text")
    return parser


def clean_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stablelint clean", description="Remove the cache a check here uses.")
    parser.add_argument("--cache-dir", metavar="PATH", help="the cache's folder (else as a check finds it)")
    parser.add_argument("--config", metavar="PATH", type=Path, help="read [tool.stablelint] from this file")
    parser.add_argument("--isolated", action="store_true", help="ignore every config file")
    return parser
