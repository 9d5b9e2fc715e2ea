"""``--fix --unsafe-fixes`` over a copy of the corpus: every file still parses, a second
run changes nothing, and no fixable finding is left of a rule that fixed the file.

    python benchmarks/fix_corpus.py                 # the default corpus
    python benchmarks/fix_corpus.py --all           # every pinned package
    python benchmarks/fix_corpus.py PATH... --keep  # other folders; keep the copy

Steps, all through the ``stablelint`` command, every rule on (``--extend-select STB4``),
``--jobs 2`` and one cache of the run's own (so the runs after the first re-check only
what changed):

1. copy every ``.py`` file into a temporary folder, and note which ones ``ast`` parses;
2. check the copy (``--format json --unsafe-fixes``): the codes with a fix, per file;
3. ``--fix --unsafe-fixes``; internal errors (``internal error`` on standard error, exit 2)
   are counted: there must be none;
4. every file that parsed before still parses;
5. ``--fix --unsafe-fixes --format json`` again: no file changes (digests compared), and
   no finding that still carries a fix has a code that was fixed in that file.

Exit status 0 when all holds, 1 otherwise (each problem is printed).
"""

from __future__ import annotations

import argparse
import ast
import collections
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench  # noqa: E402
import corpus  # noqa: E402

COMMON = ["--isolated", "--extend-select", "STB4", "--unsafe-fixes", "--exit-zero", "-q", "--jobs", "2"]


def parses(path: Path) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


def digests(files: list[Path]) -> dict[Path, bytes]:
    return {path: hashlib.blake2b(path.read_bytes(), digest_size=20).digest() for path in files}


def stablelint(folder: Path, cache: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "stablelint", *COMMON, "--cache-dir", str(cache), *args, "."],
        cwd=folder, capture_output=True, text=True, errors="replace", check=False,
    )
    return done, time.perf_counter() - start


def fixable_codes(report: str, folder: Path) -> dict[str, set[str]]:
    codes: dict[str, set[str]] = collections.defaultdict(set)
    for item in json.loads(report or "[]"):
        if item["fix"] is not None:
            codes[os.path.relpath(item["filename"], folder)].add(item["code"])
    return codes


def internal_errors(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stderr.splitlines() if "internal error" in line or "Traceback" in line]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="folders or files (default: the pinned corpus)")
    parser.add_argument("--all", action="store_true", help="every pinned package, not only the default ones")
    parser.add_argument("--keep", action="store_true", help="keep the fixed copy (its folder is printed)")
    args = parser.parse_args(argv)
    sources = bench.collect_paths(args.paths) if args.paths else bench.default_paths(
        corpus.PINS if args.all else corpus.DEFAULT_PINS
    )
    base = Path(os.path.commonpath([str(path.parent) for path in sources]))
    work = Path(tempfile.mkdtemp(prefix="stablelint-fix-corpus."))
    folder, cache = work / "tree", work / "cache"
    problems: list[str] = []
    try:
        files = []
        for source in sources:
            target = folder / source.relative_to(base)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            files.append(target)
        lines = sum(corpus.count_lines(path) for path in files)
        parsed = {path for path in files if parses(path)}
        print(f"{len(files):,} files, {lines:,} lines copied to {folder}; {len(files) - len(parsed)} do not parse")

        checked, seconds = stablelint(folder, cache, "--format", "json")
        before = fixable_codes(checked.stdout, folder)
        problems += internal_errors(checked)
        print(f"check: {seconds:.1f} s, exit {checked.returncode}; {sum(map(len, before.values())):,} "
              f"(file, code) pairs with a fix in {len(before):,} files")

        original = digests(files)
        fixed, seconds = stablelint(folder, cache, "--fix")
        problems += internal_errors(fixed)
        if fixed.returncode == 2:
            problems.append(f"--fix exited 2: {fixed.stderr.strip()[-300:]}")
        first = digests(files)
        changed = [path for path in files if first[path] != original[path]]
        print(f"fix: {seconds:.1f} s, exit {fixed.returncode}; {len(changed):,} files changed")

        broken = [path for path in changed if path in parsed and not parses(path)]
        problems += [f"{path.relative_to(folder)}: does not parse after --fix" for path in broken]

        again, seconds = stablelint(folder, cache, "--fix", "--format", "json")
        problems += internal_errors(again)
        second = digests(files)
        moved = [path for path in files if second[path] != first[path]]
        problems += [f"{path.relative_to(folder)}: the second --fix changed it again" for path in moved]
        after = fixable_codes(again.stdout, folder)
        left = 0
        for path in changed:
            name = str(path.relative_to(folder))
            still = before.get(name, set()) & after.get(name, set())
            if still:
                left += 1
                problems.append(f"{name}: fixable findings left of the rules that fixed it: {', '.join(sorted(still))}")
        remaining = collections.Counter(code for codes in after.values() for code in codes)
        print(f"second fix: {seconds:.1f} s, exit {again.returncode}; {len(moved)} files changed again; "
              f"{left} fixed files with fixable findings left of their rules")
        if remaining:
            print("fixable findings left (files per code; fixes that do not verify are skipped): "
                  + ", ".join(f"{code} {count}" for code, count in sorted(remaining.items())))
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
