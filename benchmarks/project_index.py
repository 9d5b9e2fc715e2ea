"""The project index's cost and yield on one tree: every file checked alone, then with the
index of the tree, in one process each (cold, no cache); peak memory and the findings the
index adds (printed, for judging by hand).

    python benchmarks/project_index.py PATH [--with-index | --without-index] [--json OUT]

Run each mode in its own process (interleave them, medians of 3) so that peak memory is
the mode's own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--with-index", dest="index", action="store_true", default=True)
    parser.add_argument("--without-index", dest="index", action="store_false")
    parser.add_argument("--json", help="write the findings here")
    args = parser.parse_args(argv)

    from stablelint import engine
    from stablelint.analysis import project

    root = os.path.abspath(args.path)
    project.set_root(root)
    files = []
    for folder, folders, names in os.walk(root):
        folders[:] = sorted(f for f in folders if not f.startswith(".") and f != "__pycache__")
        files += [os.path.join(folder, name) for name in sorted(names) if name.endswith(".py")]
    findings, lines, errors = [], 0, 0
    started = time.perf_counter()
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as stream:
            source = stream.read()
        lines += source.count("\n")
        try:
            found = engine.check_source(source, path, project=None if args.index else False)
        except engine.ParseError:
            errors += 1
            continue
        findings += [(os.path.relpath(path, root), d.line, d.col, d.code, d.message) for d in found]
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mode = "with the index" if args.index else "without the index"
    print(f"{mode}: {len(files)} files, {lines} lines, {seconds:.2f} s, peak {peak:.0f} MB, "
          f"{len(findings)} findings, {errors} parse errors")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(findings, stream, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
