"""Run stablelint over the corpus and print what it found, for a human to check.

    python benchmarks/findings.py                      # the pinned corpus, in-process
    python benchmarks/findings.py --sample 40 --seed 1 # a different, bigger sample
    python benchmarks/findings.py --code STB106        # only one rule (prefix) in the sample
    python benchmarks/findings.py --cli                # through `stablelint --format json`
    python benchmarks/findings.py PATH...              # other files

Prints: files checked; files that do not parse; crashes (must be 0 — each one's
traceback is printed and the exit status is 1); findings per code and per package;
fixable findings by safety; and a seeded random sample of findings, each with two lines
of context either side, a caret under the column and the fix's edits, to judge by hand.

In-process (default) every file goes through ``stablelint.engine.check_source`` inside a
try/except, so a crash on one file is counted and shown and the run goes on. ``--cli``
runs the console script instead (``--format json --exit-zero``, files named explicitly
because ``benchmarks/corpus/`` is git-ignored) and reads its JSON; a crash there is
whatever the CLI reports on standard error.
"""

from __future__ import annotations

import argparse
import ast
import collections
import importlib.util
import json
import os
import random
import subprocess
import sys
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench  # noqa: E402  (file collection and argv chunking are shared)
import corpus  # noqa: E402


@dataclass
class Finding:
    path: Path
    line: int
    col: int  # 1-based, characters
    code: str
    message: str
    safety: str | None  # "safe" / "unsafe" / None: no fix
    edits: list[tuple[int, int, str]] | None = None  # (start, end, content) character offsets, in-process only
    fix_description: str = ""


@dataclass
class Outcome:
    findings: list[Finding]
    parse_failures: list[tuple[Path, str]]  # files the engine (or CLI) could not parse
    crashes: list[tuple[Path, str]]  # (file, traceback)


def package_of(path: Path) -> str:
    try:
        return path.relative_to(corpus.CORPUS_DIR).parts[0]
    except ValueError:
        return path.parent.name


def check_in_process(files: list[bench.SourceFile]) -> Outcome:
    from stablelint.engine import ParseError, check_source

    findings, parse_failures, crashes = [], [], []
    for number, source_file in enumerate(files, 1):
        if number % 500 == 0:
            print(f"[findings] {number}/{len(files)} files", file=sys.stderr, flush=True)
        if source_file.text is None:
            parse_failures.append((source_file.path, "not decodable"))
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                diagnostics = check_source(source_file.text, str(source_file.path))
        except ParseError as error:
            parse_failures.append((source_file.path, f"{error} (line {error.line})"))
            continue
        except Exception:
            crashes.append((source_file.path, traceback.format_exc()))
            continue
        for diagnostic in diagnostics:
            fix = getattr(diagnostic, "fix", None)
            findings.append(Finding(
                path=source_file.path,
                line=diagnostic.line,
                col=diagnostic.col,
                code=diagnostic.code,
                message=diagnostic.message,
                safety=getattr(fix, "safety", None) if fix else None,
                edits=[(edit.start, edit.end, edit.content) for edit in fix.edits] if fix else None,
                fix_description=getattr(fix, "description", "") if fix else "",
            ))
    return Outcome(findings, parse_failures, crashes)


def json_edits(fix: dict, text: str | None) -> list[tuple[int, int, str]] | None:
    """ruff-shaped edits (1-based row/column) as character offsets into ``text``."""
    if text is None:
        return None
    line_starts = [0]
    for line in text.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))

    def offset(location: dict) -> int:
        return line_starts[location["row"] - 1] + location["column"] - 1

    try:
        return [(offset(edit["location"]), offset(edit["end_location"]), edit["content"]) for edit in fix["edits"]]
    except (KeyError, IndexError, TypeError):
        return None


def check_with_cli(files: list[bench.SourceFile]) -> Outcome:
    text_of = {f.path: f.text for f in files}
    executable, help_text = bench.stablelint_cli_probe()
    if executable is None:
        raise SystemExit(f"the stablelint CLI is not available: {help_text}")
    prefix = [executable, "--format", "json", "--exit-zero"]
    for option, wanted in (("--isolated", ["--isolated"]), ("--jobs", ["--jobs", "1"]), ("--quiet", ["--quiet"])):
        if option in help_text:
            prefix += wanted  # no config, one process, no summary on standard error
    cwd = Path(os.path.commonpath([str(f.path.parent) for f in files]))
    relative = [str(f.path.relative_to(cwd)) for f in files]
    findings, parse_failures, crashes = [], [], []
    for argv in bench.chunk_argv(prefix, relative):
        done = subprocess.run(argv, check=False, cwd=cwd, capture_output=True, text=True, errors="replace")
        # Standard error: one line per file that could not be read or parsed
        # ("path:line:col: syntax error: ..."), or per crash ("stablelint: error: internal error ...", exit 2).
        for line in done.stderr.splitlines():
            if not line.strip():
                continue
            if "internal error" in line or line.startswith("Traceback"):
                crashes.append((cwd, line))
            else:
                name, _, reason = line.partition(": ")
                parse_failures.append((cwd / name.split(":")[0], reason or line))
        if done.returncode not in (0, 1) and not crashes:
            crashes.append((cwd, f"exit {done.returncode}\n{done.stderr}"))
        if not done.stdout.strip():
            continue
        for item in json.loads(done.stdout):
            fix = item.get("fix") or None
            location = item.get("location") or {}
            path = (cwd / item["filename"]).resolve()
            findings.append(Finding(
                path=path,
                line=location.get("row", 0),
                col=location.get("column", 0),
                code=item.get("code", "?"),
                message=item.get("message", ""),
                safety=(fix.get("applicability") or fix.get("safety")) if fix else None,
                edits=json_edits(fix, text_of.get(path)) if fix else None,
                fix_description=(fix.get("message") or "") if fix else "",
            ))
    return Outcome(findings, parse_failures, crashes)


def rule_names() -> dict[str, str]:
    try:
        from stablelint.rules import ALL_RULES
    except Exception:
        return {}
    return {getattr(rule, "code", "?"): getattr(rule, "name", "") for rule in ALL_RULES}


def ast_parse_failures(files: list[bench.SourceFile]) -> int:
    failures = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for source_file in files:
            try:
                ast.parse(source_file.text if source_file.text is not None else b"\xff")
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                failures += 1
    return failures


def show_context(finding: Finding, text: str | None, context: int) -> list[str]:
    if text is None:
        return ["    (source not readable)"]
    lines = text.splitlines()
    first, last = max(1, finding.line - context), min(len(lines), finding.line + context)
    width = len(str(last))
    shown = []
    for number in range(first, last + 1):
        marker = ">" if number == finding.line else " "
        shown.append(f"  {marker} {number:>{width}} | {lines[number - 1]}")
        if number == finding.line:
            shown.append(f"    {' ' * width} | {' ' * (finding.col - 1)}^")
    if finding.edits:
        for start, end, content in finding.edits:
            shown.append(f"    fix ({finding.safety}): {text[start:end]!r} -> {content!r}")
    elif finding.safety:
        shown.append(f"    fix ({finding.safety}): {finding.fix_description}")
    else:
        shown.append("    no fix")
    return shown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", help="files/directories (default: the pinned corpus)")
    parser.add_argument("--sample", type=int, default=25, help="findings to show with context (default 25)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    parser.add_argument("--code", default="", help="sample only codes with this prefix, e.g. STB106")
    parser.add_argument("--context", type=int, default=2, help="lines of context either side (default 2)")
    parser.add_argument("--cli", action="store_true", help="run the CLI (--format json) instead of the engine")
    parser.add_argument("--json", metavar="FILE", help="also write every finding as JSON lines")
    args = parser.parse_args(argv)

    paths = bench.collect_paths(args.paths) if args.paths else bench.default_paths()
    files = bench.read_sources(paths)
    text_of = {f.path: f.text for f in files}
    total_lines = sum(f.lines for f in files)

    if args.cli:
        outcome, mode = check_with_cli(files), "stablelint CLI --format json"
    else:
        if importlib.util.find_spec("stablelint.engine") is None:
            raise SystemExit("stablelint.engine is not importable (pip install -e . --no-deps)")
        outcome, mode = check_in_process(files), "stablelint.engine.check_source, in-process"

    print(f"stablelint findings ({mode})")
    print(f"  files checked          : {len(files):,} ({total_lines:,} lines)")
    print(f"  fail to parse (ast)    : {ast_parse_failures(files)}")
    print(f"  parse errors reported  : {len(outcome.parse_failures)}")
    for path, reason in outcome.parse_failures[:10]:
        print(f"      {path}: {reason}")
    print(f"  crashes                : {len(outcome.crashes)}{'  <-- must be 0' if outcome.crashes else ''}")
    print(f"  findings               : {len(outcome.findings):,} in "
          f"{len({f.path for f in outcome.findings}):,} files")

    names = rule_names()
    by_code = collections.Counter(f.code for f in outcome.findings)
    packages = sorted({package_of(f.path) for f in files})
    by_code_package = collections.Counter((f.code, package_of(f.path)) for f in outcome.findings)
    by_code_safety = collections.Counter((f.code, f.safety) for f in outcome.findings)
    print("\nfindings per code (fixable: safe / unsafe fixes; then per package):")
    short = {package: package.split("-")[0] for package in packages}
    head = f"  {'code':<7} {'name':<24} {'total':>6} {'safe':>5} {'unsafe':>6}  " + "  ".join(
        f"{short[p]:>{max(6, len(short[p]))}}" for p in packages)
    print(head)
    for code in sorted(set(by_code) | set(names)):
        cells = "  ".join(f"{by_code_package[(code, p)]:>{max(6, len(short[p]))}}" for p in packages)
        print(f"  {code:<7} {names.get(code, ''):<24} {by_code[code]:>6} {by_code_safety[(code, 'safe')]:>5} "
              f"{by_code_safety[(code, 'unsafe')]:>6}  {cells}")
    safety = collections.Counter(f.safety or "no fix" for f in outcome.findings)
    print("\nfixable by safety: " + ", ".join(f"{kind} {count}" for kind, count in sorted(safety.items())))

    population = [f for f in outcome.findings if f.code.startswith(args.code)]
    sample = random.Random(args.seed).sample(population, min(args.sample, len(population)))
    sample.sort(key=lambda f: (str(f.path), f.line, f.col))
    print(f"\nsample: {len(sample)} of {len(population)} findings"
          f"{f' with code {args.code}*' if args.code else ''} (seed {args.seed})")
    for finding in sample:
        try:
            shown_path = finding.path.relative_to(corpus.CORPUS_DIR)
        except ValueError:
            shown_path = finding.path
        print(f"\n{shown_path}:{finding.line}:{finding.col}: {finding.code} {finding.message}")
        for line in show_context(finding, text_of.get(finding.path), args.context):
            print(line)

    if outcome.crashes:
        print("\nCRASHES:")
        for path, trace in outcome.crashes:
            print(f"\n--- {path}\n{trace}")
    if args.json:
        with open(args.json, "w") as stream:
            for finding in outcome.findings:
                record = {"path": str(finding.path), "line": finding.line, "col": finding.col,
                          "code": finding.code, "message": finding.message, "safety": finding.safety}
                stream.write(json.dumps(record) + "\n")
    return 1 if outcome.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
