"""How ``stablelint --fix`` scales with the number of fixes in one file, and what a large
check costs in memory.

    python benchmarks/fix_scaling.py                  # 8k/16k/32k/64k fixes in one file
    python benchmarks/fix_scaling.py 1000 2000        # other sizes
    python benchmarks/fix_scaling.py --memory 200000  # peak memory of checking 200k lines

Each size runs the real command line in a fresh process on a file of ``log(sigmoid(x))``
lines (one STB104 finding, with its evidence and a safe fix, each) and prints its wall
time and time per fix, then the time of combining those fixes alone (``engine._apply_verified``: the
overlap check and the splice, in this process). Linear keeps the per-fix columns flat;
the first includes the analysis, which has its own costs. ``--memory`` prints the peak
resident memory of the process checking that many such lines.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

HEADER = "import torch\n\n\ndef f(x):\n"
LINE = "    y{index} = torch.log(torch.sigmoid(x + {index}))\n"


def source_of(lines: int) -> str:
    return HEADER + "".join(LINE.format(index=index) for index in range(lines))


def run_stablelint(arguments: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak resident memory (kB) and CPU seconds of one stablelint process."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "stablelint", "-q", "--isolated", *arguments],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"stablelint exited {code}: {process.stderr.read().decode(errors='replace')}")
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def combining_seconds(lines: int) -> float:
    """The fixes of one round combined and spliced, without the analysis that finds them."""
    from stablelint import engine

    source = source_of(lines)
    fixes = [d.fix for d in engine.check_source(source, "many.py") if d.fix]
    start = time.perf_counter()
    fixed, applied = engine._apply_verified(source, fixes)
    elapsed = time.perf_counter() - start
    assert len(applied) == lines, (len(applied), lines)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[8000, 16000, 32000, 64000])
    parser.add_argument("--memory", type=int, metavar="LINES", help="measure the peak memory of a check instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.memory:
            path = os.path.join(folder, "many.py")
            with open(path, "w") as file:
                file.write(source_of(args.memory))
            elapsed, peak_kb, cpu = run_stablelint([path])
            print(f"check of {args.memory} lines: {elapsed:.2f} s ({cpu:.1f} cpu-s), peak RSS {peak_kb / 1024:.0f} MB")
            return
        print(f"{'fixes':>8} {'--fix s':>9} {'us/fix':>8} {'combine s':>10} {'us/fix':>8}")
        for size in args.sizes:
            path = os.path.join(folder, f"many_{size}.py")
            with open(path, "w") as file:
                file.write(source_of(size))
            elapsed, _, _ = run_stablelint(["--fix", path])
            with open(path) as file:
                left = sum(1 for line in file if "torch.log(1 +" in line)
            if left:
                sys.exit(f"{left} findings were not fixed")
            combine = combining_seconds(size)
            per_fix, combine_per_fix = elapsed / size * 1e6, combine / size * 1e6
            print(f"{size:>8} {elapsed:>9.2f} {per_fix:>8.0f} {combine:>10.3f} {combine_per_fix:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
