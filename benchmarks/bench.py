"""Time stablelint against its reference points on the same files, in one run.

    python benchmarks/corpus.py                 # once: download the corpus
    python benchmarks/bench.py                  # the whole corpus, best of 3
    python benchmarks/bench.py --quick          # every 20th file, 1 run: a sanity check
    python benchmarks/bench.py PATH... --repeat 5 --json out.json
    python benchmarks/bench.py --tools ast,pyflakes,stablelint-cli
    python benchmarks/bench.py --corpus app     # application code (benchmarks/app_corpus.py)
    python benchmarks/bench.py --corpus scipy   # SciPy's stats and special (dense in log/exp)

Rows (``--tools`` takes these names):

  ast               ``ast.parse`` of every file, in-process (sources read beforehand)
  libcst            ``libcst.parse_module``, in-process, on a seeded random sample of
                    files (``--libcst-lines``); lines/s is the sample's, the time is
                    extrapolated to all files; the table says so
  pyflakes          ``python -m pyflakes FILES``
  stablelint-engine ``stablelint.engine.check_source`` on every file, in-process
  stablelint-cli    ``stablelint --exit-zero --no-cache --jobs 1 FILES``: cold, one process
  stablelint-cold   the same with the cache on, emptied before each run (cold, writing it)
  stablelint-warm   the same with the cache filled beforehand (a re-run of an unchanged tree)
  stablelint-j2     ``--no-cache --jobs 2``: cold, two worker processes
  flake8            ``flake8 -j1 --exit-zero --isolated FILES``, stablelint plugin hidden
  flake8+stb        the same with the stablelint plugin (STB) loaded
  ruff              ``ruff check --no-cache --isolated --exit-zero -q FILES``

How the numbers are comparable:

* One list of files for every tool. Files are passed explicitly, never as directories:
  ``benchmarks/corpus/`` is git-ignored and tools that honour ``.gitignore`` while walking
  (ruff, stablelint) would check nothing; files named on the command line are always
  checked. Paths are relative to the files' common folder (the subprocess's working
  directory) to keep argv short; if argv would still exceed a quarter of the system's
  ARG_MAX the files are split into chunks, run one after the other, and the times summed.
* One process, one thread: flake8 runs with ``-j1``, ruff with ``RAYON_NUM_THREADS=1``,
  the others are single-process already. Subprocess rows include interpreter start-up,
  imports and file reading; in-process rows time only the parsing/checking.
* Rounds are interleaved (every tool once, then every tool again ...) and each row reports
  its median wall time (and its best), so a slow patch of the machine hits all tools alike:
  the machine may be shared, and the medians of interleaved runs are what to compare.
* Peak RSS of each subprocess is GNU time's ``%M`` (/usr/bin/time forks the tool, so the
  benchmark's own memory is not counted): the largest process of the tool's tree, with
  ``--jobs 2`` the largest of the parent and its workers, not their sum. CPU time is
  user + system of the whole tree, from ``wait4``.
* flake8 with and without the plugin: flake8 cannot switch an installed plugin off, so both
  rows run through ``benchmarks/flake8_runner.py``, which hides the STB entry point from
  flake8's plugin discovery for the "without" row (see its docstring). The header shows
  ``flake8 --version`` as each row sees it, proving which plugins were loaded. Both rows
  use ``--isolated`` so no config file in the tree changes what runs.

Budgets checked at the end (DESIGN.md "Speed budget"): the stablelint CLI at least as
fast as pyflakes; flake8 with the plugin at most 1.15x flake8 without it; a warm re-run
at least 20x faster than a cold one; ``--jobs 2`` at least 1.7x faster than ``--jobs 1``.
"""

from __future__ import annotations

import argparse
import ast
import atexit
import compileall
import importlib.util
import io
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import app_corpus  # noqa: E402
import corpus  # noqa: E402  (benchmarks/corpus.py, next to this file)

FLAKE8_RUNNER = HERE / "flake8_runner.py"
QUICK_STRIDE = 20
FLAKE8_BUDGET = 1.15
WARM_BUDGET = 20.0  # cold / warm
JOBS_BUDGET = 1.7  # --jobs 1 / --jobs 2


# ---------------------------------------------------------------------------- files


@dataclass
class SourceFile:
    path: Path
    lines: int
    text: str | None  # None: not decodable


def collect_paths(paths: list[str]) -> list[Path]:
    found: set[Path] = set()
    for name in paths:
        path = Path(name).resolve()
        if path.is_dir():
            found.update(p for p in path.rglob("*.py") if p.is_file())
        elif path.is_file():
            found.add(path)
        else:
            raise SystemExit(f"no such file or directory: {name}")
    return sorted(found)


def default_paths(pins: list[corpus.Pin] = corpus.DEFAULT_PINS) -> list[Path]:
    missing = [pin for pin in pins if not (pin.folder / corpus.COMPLETE_MARKER).exists()]
    if missing:
        more = " --all" if any(not pin.default for pin in missing) else ""
        raise SystemExit(
            f"corpus not downloaded ({', '.join(pin.name for pin in missing)}): run python benchmarks/corpus.py{more}"
        )
    return sorted(path for pin in pins for path in corpus.python_files(pin.folder))


def read_sources(paths: list[Path]) -> list[SourceFile]:
    files = []
    for path in paths:
        data = path.read_bytes()
        lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        try:
            text = importlib.util.decode_source(data)  # honours coding cookies, like ast
        except (UnicodeDecodeError, SyntaxError):
            text = None
        files.append(SourceFile(path, lines, text))
    return files


# ---------------------------------------------------------------------------- results


@dataclass
class Row:
    name: str
    command: str
    times: list[float] = field(default_factory=list)
    peak_rss_kb: list[int] = field(default_factory=list)  # per run, subprocess rows only
    cpu_times: list[float] = field(default_factory=list)  # user + system seconds of the tree, per run
    lines_timed: int = 0  # lines the timed work covered (a sample for libcst)
    extrapolated: bool = False
    output_lines: int | None = None  # findings printed (informational)
    notes: list[str] = field(default_factory=list)
    unavailable: str | None = None

    @property
    def best(self) -> float | None:
        return min(self.times) if self.times else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def cpu_median(self) -> float | None:
        return statistics.median(self.cpu_times) if self.cpu_times else None

    @property
    def peak_rss_mb(self) -> float | None:
        return max(self.peak_rss_kb) / 1024 if self.peak_rss_kb else None

    def rate(self) -> float | None:
        return self.lines_timed / self.median if self.median else None

    def wall_for(self, total_lines: int) -> float | None:
        """Median wall time for all files: measured, or extrapolated from the sample's rate."""
        if self.median is None:
            return None
        return total_lines / self.rate() if self.extrapolated else self.median


# ---------------------------------------------------------------------------- tools


class Tool:
    """One row: ``prepare`` says whether it can run; ``run_once`` returns seconds."""

    name = ""

    def __init__(self, files: list[SourceFile], args: argparse.Namespace):
        self.files = files
        self.args = args
        self.row = Row(self.name, "")

    def prepare(self) -> None:
        pass

    def run_once(self) -> float:
        raise NotImplementedError


class AstParse(Tool):
    name = "ast"

    def prepare(self):
        self.sources = [(f.text, str(f.path)) for f in self.files if f.text is not None]
        self.row.command = "ast.parse(source) per file, in-process"
        self.row.lines_timed = sum(f.lines for f in self.files)

    def run_once(self):
        failures = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc. in the corpus
            start = time.perf_counter()
            for source, path in self.sources:
                try:
                    ast.parse(source, filename=path)
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    failures += 1
            elapsed = time.perf_counter() - start
        self.row.notes = [f"{failures} files do not parse"] if failures else []
        return elapsed


class LibcstParse(Tool):
    name = "libcst"

    def prepare(self):
        try:
            import libcst
        except ImportError as error:
            self.row.unavailable = f"libcst not importable: {error}"
            return
        self.parse_module = libcst.parse_module
        shuffled = [f for f in self.files if f.text is not None]
        random.Random(self.args.seed).shuffle(shuffled)
        sample, lines = [], 0
        for f in shuffled:
            if lines >= self.args.libcst_lines:
                break
            sample.append(f)
            lines += f.lines
        self.sample = sample
        self.row.lines_timed = lines
        self.row.extrapolated = len(sample) < len(self.files)
        self.row.command = "libcst.parse_module(source) per file, in-process"
        if self.row.extrapolated:
            self.row.notes.append(
                f"sample of {len(sample)} files / {lines:,} lines (seed {self.args.seed}); time extrapolated"
            )

    def run_once(self):
        import libcst

        failures = 0
        start = time.perf_counter()
        for f in self.sample:
            try:
                self.parse_module(f.text)
            except (libcst.ParserSyntaxError, RecursionError):
                failures += 1
        elapsed = time.perf_counter() - start
        self.row.notes = self.row.notes[:1] + ([f"{failures} sampled files do not parse"] if failures else [])
        return elapsed


class StablelintEngine(Tool):
    name = "stablelint-engine"

    def prepare(self):
        try:
            from stablelint.engine import check_source
        except Exception as error:  # not written yet, or broken mid-edit
            self.row.unavailable = f"stablelint.engine.check_source not importable: {type(error).__name__}: {error}"
            return
        self.check_source = check_source
        self.sources = [(f.text, str(f.path)) for f in self.files if f.text is not None]
        self.row.command = "stablelint.engine.check_source(source, path) per file, in-process"
        self.row.lines_timed = sum(f.lines for f in self.files)

    def run_once(self):
        try:
            from stablelint.engine import ParseError
        except ImportError:
            ParseError = SyntaxError
        findings = parse_errors = crashes = 0
        first_crash = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            for source, path in self.sources:
                try:
                    findings += len(self.check_source(source, path))
                except ParseError:
                    parse_errors += 1
                except Exception:
                    crashes += 1
                    first_crash = first_crash or f"{path}: {traceback.format_exc(limit=-1).strip().splitlines()[-1]}"
            elapsed = time.perf_counter() - start
        self.row.output_lines = findings
        self.row.notes = [f"{parse_errors} parse errors"] if parse_errors else []
        if crashes:
            self.row.notes.append(f"{crashes} CRASHES (first: {first_crash}); see findings.py")
        return elapsed


class Command(Tool):
    """A subprocess over the file list: argv = prefix + [relative paths]."""

    ok_codes: ClassVar[tuple[int, ...]] = (0,)
    env_extra: ClassVar[dict[str, str]] = {}

    def argv_prefix(self) -> list[str] | None:
        raise NotImplementedError

    def prepare(self):
        prefix = self.argv_prefix()
        if prefix is None:
            return  # unavailable, reason already set
        self.cwd = Path(os.path.commonpath([str(f.path.parent) for f in self.files]))
        relative = [str(f.path.relative_to(self.cwd)) for f in self.files]
        self.chunks = chunk_argv(prefix, relative)
        self.env = {**os.environ, **self.env_extra}
        shown = [Path(arg).name if arg in (sys.executable, shutil.which(Path(arg).name)) else arg for arg in prefix]
        self.row.command = " ".join(shown) + " FILES"
        self.row.lines_timed = sum(f.lines for f in self.files)
        if len(self.chunks) > 1:
            self.row.notes.append(f"argv split into {len(self.chunks)} chunks")

    def before_run(self) -> None:
        """Set-up that is not timed (the cache rows empty or fill their cache here)."""

    def run_once(self):
        self.before_run()
        elapsed, output_lines, peak, cpu = 0.0, 0, 0, 0.0
        for argv in self.chunks:
            seconds, done, usage, peak_kb = run_measured(argv, self.cwd, self.env)
            elapsed += seconds
            peak = max(peak, peak_kb)
            cpu += usage.ru_utime + usage.ru_stime
            if done.returncode not in self.ok_codes:
                tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
                raise ToolFailed(f"exit {done.returncode}: {' | '.join(tail)}")
            output_lines += self.count_output(done)
        self.row.output_lines = output_lines
        self.row.peak_rss_kb.append(peak)
        self.row.cpu_times.append(cpu)
        return elapsed


    def count_output(self, done: subprocess.CompletedProcess) -> int:
        return sum(1 for line in done.stdout.splitlines() if line.strip())


TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_measured(argv: list[str], cwd: Path, env: dict) -> tuple[float, subprocess.CompletedProcess, object, int]:
    """(wall seconds, the finished process, its resource usage, its peak RSS in KB): the
    child is reaped with ``wait4``, whose usage is that child's and its reaped
    descendants' (CPU time of all, peak RSS of the largest), which
    ``getrusage(RUSAGE_CHILDREN)`` (summed and maximised over every child so far) is not.
    Output goes to temporary files, so that no pipe fills while we wait."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        # A forked child starts with this process's peak RSS (the sources read for the
        # in-process rows), which exec does not reset: GNU time, small, forks the tool
        # itself and reports the tool's own peak.
        wrapped = [TIME, "-f", "%M", "-o", rss.name, *argv] if TIME else argv
        start = time.perf_counter()
        process = subprocess.Popen(wrapped, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        texts = []
        for stream in (out, err):
            stream.seek(0)
            texts.append(stream.read().decode("utf-8", "replace"))
        peak_kb = usage.ru_maxrss
        if TIME:
            reported = rss.read().split()
            peak_kb = int(reported[-1]) if reported and reported[-1].isdigit() else 0
    done = subprocess.CompletedProcess(argv, process.returncode, texts[0], texts[1])
    return elapsed, done, usage, peak_kb


class ToolFailed(Exception):
    pass


def chunk_argv(prefix: list[str], paths: list[str]) -> list[list[str]]:
    try:
        arg_max = os.sysconf("SC_ARG_MAX")
    except (ValueError, OSError, AttributeError):
        arg_max = 128 * 1024
    env_size = sum(len(k) + len(v) + 2 for k, v in os.environ.items())
    budget = max(16 * 1024, arg_max // 4 - env_size)
    size = lambda args: sum(len(a.encode()) + 1 for a in args)  # noqa: E731
    chunks, current, current_size = [], [], size(prefix)
    for path in paths:
        path_size = len(path.encode()) + 1
        if current and current_size + path_size > budget:
            chunks.append(prefix + current)
            current, current_size = [], size(prefix)
        current.append(path)
        current_size += path_size
    if current:
        chunks.append(prefix + current)
    return chunks


class Pyflakes(Command):
    name = "pyflakes"
    ok_codes: ClassVar[tuple[int, ...]] = (0, 1)  # 1: it found something

    def argv_prefix(self):
        if importlib.util.find_spec("pyflakes") is None:
            self.row.unavailable = "pyflakes not installed"
            return None
        # -P: the working directory (the files' common folder) is not put on sys.path, where a
        # package of the checked tree named like a standard module (scipy/io) would shadow it
        # and pyflakes would fail at start-up.
        return [sys.executable, *(["-P"] if sys.version_info >= (3, 11) else []), "-m", "pyflakes"]


def stablelint_executable() -> str | None:
    beside_python = Path(sys.executable).parent / "stablelint"
    return shutil.which("stablelint") or (str(beside_python) if beside_python.exists() else None)


def stablelint_cli_probe() -> tuple[str | None, str]:
    """(executable, help text) if ``stablelint --help`` works, else (None, reason)."""
    executable = stablelint_executable()
    if executable is None:
        return None, "no stablelint console script on PATH"
    try:
        done = subprocess.run([executable, "--help"], check=False, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"stablelint --help: {error}"
    if done.returncode != 0:
        tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        return None, f"stablelint --help exits {done.returncode}: {tail[0]}"
    return executable, done.stdout


class StablelintCli(Command):
    name = "stablelint-cli"
    ok_codes: ClassVar[tuple[int, ...]] = (0, 1)  # 1: a file did not parse; 2: usage error or crash
    jobs = "1"
    cached = False  # with a cache of this row's own (else --no-cache: every run cold)

    def argv_prefix(self):
        executable, help_text = stablelint_cli_probe()
        if executable is None:
            self.row.unavailable = help_text
            return None
        prefix = [executable, "--exit-zero"]
        if self.cached:
            if "--cache-dir" not in help_text:
                self.row.unavailable = "this stablelint has no --cache-dir"
                return None
            self.cache_dir = tempfile.mkdtemp(prefix="stablelint-bench-cache.")
            atexit.register(shutil.rmtree, self.cache_dir, True)
            prefix += ["--cache-dir", self.cache_dir]
        # No config file, one process (or two), findings only (like ruff -q), each only if
        # the CLI has it.
        for option, wanted in (("--no-cache", [] if self.cached else ["--no-cache"]), ("--isolated", ["--isolated"]),
                               ("--jobs", ["--jobs", self.jobs]), ("--quiet", ["-q"])):
            if option in help_text:
                prefix += wanted
        return prefix

    def count_output(self, done):
        # Text format: one "path:line:col: CODE message" line per finding (+ maybe a summary).
        return sum(1 for line in done.stdout.splitlines() if ": STB" in line)


class StablelintCold(StablelintCli):
    """Cold with the cache on: what a first run in a fresh checkout costs, writes included."""

    name = "stablelint-cold"
    cached = True

    def before_run(self):
        shutil.rmtree(self.cache_dir, ignore_errors=True)


class StablelintWarm(StablelintCli):
    """Every file unchanged since the last run: the cache answers for all of them."""

    name = "stablelint-warm"
    cached = True

    def before_run(self):
        if not getattr(self, "warmed", False):
            for argv in self.chunks:
                run_measured(argv, self.cwd, self.env)
            self.warmed = True


class StablelintJobs2(StablelintCli):
    name = "stablelint-j2"
    jobs = "2"


class Flake8(Command):
    name = "flake8"
    drop: ClassVar[tuple[str, ...]] = ("--drop", "STB")

    def argv_prefix(self):
        if importlib.util.find_spec("flake8") is None:
            self.row.unavailable = "flake8 not installed"
            return None
        return [sys.executable, str(FLAKE8_RUNNER), *self.drop, "--", "-j1", "--exit-zero", "--isolated"]

    def prepare(self):
        super().prepare()
        if self.row.unavailable is None:
            self.row.command = self.row.command.replace(f"python {FLAKE8_RUNNER}", "flake8_runner.py")


class Flake8WithStablelint(Flake8):
    name = "flake8+stb"
    drop: ClassVar[tuple[str, ...]] = ()

    def prepare(self):
        super().prepare()
        if self.row.unavailable is None and "stablelint" not in flake8_version(drop=False):
            self.row.unavailable = "the stablelint flake8 plugin is not installed (pip install -e . --no-deps)"


class Ruff(Command):
    name = "ruff"
    env_extra: ClassVar[dict[str, str]] = {"RAYON_NUM_THREADS": "1"}  # ruff is multi-threaded by default

    def argv_prefix(self):
        executable = shutil.which("ruff")
        if executable is None:
            self.row.unavailable = "ruff not on PATH"
            return None
        return [executable, "check", "--no-cache", "--isolated", "--exit-zero", "-q", "--output-format=concise"]


TOOLS: dict[str, type[Tool]] = {
    tool.name: tool
    for tool in (AstParse, LibcstParse, Pyflakes, StablelintEngine, StablelintCli, StablelintCold, StablelintWarm,
                 StablelintJobs2, Flake8, Flake8WithStablelint, Ruff)
}


# ---------------------------------------------------------------------------- header


def run_text(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unavailable ({error})"
    text = (done.stdout.strip() or done.stderr.strip()).replace("\n", " ")
    return text if done.returncode == 0 else f"unavailable (exit {done.returncode}: {text[-120:]})"


def flake8_version(drop: bool) -> str:
    return run_text([sys.executable, str(FLAKE8_RUNNER), *(["--drop", "STB"] if drop else []), "--", "--version"])


def module_version(name: str) -> str:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return "not installed"


def stablelint_revision() -> str:
    try:
        import stablelint

        root = Path(stablelint.__file__).resolve().parent.parent
    except Exception:
        return ""
    revision = run_text(["git", "-C", str(root), "log", "-1", "--format=%h %cs"])
    return "" if revision.startswith("unavailable") else f" (git {revision})"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def byte_compile_stablelint() -> str:
    """Byte-compile stablelint's modules where they are imported from, as ``pip install``
    does (the tools it is compared with are installed so). A development checkout run
    with ``PYTHONDONTWRITEBYTECODE`` would otherwise compile its ~90 modules from source
    in every process: ~0.15 s at each start, in each worker and in each warm run."""
    spec = importlib.util.find_spec("stablelint")
    if spec is None or spec.origin is None:
        return "stablelint not importable"
    package = Path(spec.origin).parent
    ok = compileall.compile_dir(str(package), quiet=1)
    return f"byte-compiled in {package}" if ok else f"byte-compiling {package} failed: compiled from source"


def header(files: list[SourceFile], description: str) -> dict:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "machine": f"{cpu_model()}; nproc {affinity} (cpu_count {os.cpu_count()}); {platform.platform()}",
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "files": description,
        "versions": {
            "stablelint": module_version("stablelint") + stablelint_revision() + f"; {byte_compile_stablelint()}",
            "flake8 (without STB)": flake8_version(drop=True),
            "flake8 (with STB)": flake8_version(drop=False),
            "pyflakes": module_version("pyflakes"),
            "libcst": module_version("libcst"),
            "ruff": run_text([shutil.which("ruff") or "ruff", "--version"]),
        },
    }


# ---------------------------------------------------------------------------- report


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}"


def fmt_rate(rate: float | None) -> str:
    if rate is None:
        return "-"
    return f"{rate / 1000:,.1f} k" if rate < 1e7 else f"{rate / 1e6:,.1f} M"


def render(info: dict, rows: list[Row], total_files: int, total_lines: int, repeat: int) -> str:
    out = io.StringIO()
    print("stablelint benchmark", file=out)
    print(f"  machine : {info['machine']}", file=out)
    print(f"  python  : {info['python']}", file=out)
    for tool, version in info["versions"].items():
        print(f"  {tool:<21}: {version}", file=out)
    print(f"  files   : {info['files']}", file=out)
    print(f"  total   : {total_files:,} files, {total_lines:,} lines; wall time = median of {repeat} interleaved runs",
          file=out)
    print(file=out)

    ast_rate = next((row.rate() for row in rows if row.name == "ast" and row.best), None)
    table = [("tool", "median s", "best s", "cpu s", "lines/s", "x ast", "peak RSS", "output", "command / notes")]
    for row in rows:
        if row.unavailable:
            table.append((row.name, "-", "-", "-", "-", "-", "-", "-", f"not available: {row.unavailable}"))
            continue
        wall = row.wall_for(total_lines)
        rate = row.rate()
        relative = f"{ast_rate / rate:,.1f}x" if ast_rate and rate else "-"
        wall_text = ("~" if row.extrapolated else "") + fmt_seconds(wall)
        best_text = "-" if row.extrapolated else fmt_seconds(row.best)
        rss = "-" if row.peak_rss_mb is None else f"{row.peak_rss_mb:,.0f} MB"
        output = "-" if row.output_lines is None else f"{row.output_lines:,}"
        notes = "; ".join([row.command, *row.notes])
        cpu = "-" if row.cpu_median is None else fmt_seconds(row.cpu_median)
        table.append((row.name, wall_text, best_text, cpu, fmt_rate(rate), relative, rss, output, notes))
    columns = len(table[0]) - 1
    widths = [max(len(line[i]) for line in table) for i in range(columns)]
    for index, line in enumerate(table):
        cells = [line[0].ljust(widths[0])] + [line[i].rjust(widths[i]) for i in range(1, columns)] + [line[columns]]
        print("  ".join(cells).rstrip(), file=out)
        if index == 0:
            print("  ".join("-" * w for w in widths) + "  " + "-" * 15, file=out)
    print("\n'x ast' = time relative to ast.parse (2.0x = half its speed); 'output' = findings", file=out)
    print("printed (parse errors excluded); '~' = extrapolated from a sample; peak RSS = the", file=out)
    print("largest process of the tool's tree, largest over the runs; cpu s = median user + system", file=out)
    print("time of the tool's processes (less sensitive than wall time to a loaded machine).", file=out)

    print("\nbudgets (DESIGN.md):", file=out)
    for line in budget_lines(rows):
        print(f"  {line}", file=out)
    return out.getvalue()


def budget_lines(rows: list[Row]) -> list[str]:
    by_name = {row.name: row for row in rows}

    def timed(name: str) -> Row | None:
        row = by_name.get(name)
        return row if row is not None and row.best and not row.unavailable else None

    lines = []
    cli, pyflakes = timed("stablelint-cli"), timed("pyflakes")
    if cli and pyflakes:
        ratio = pyflakes.median / cli.median
        verdict = "PASS" if cli.median <= pyflakes.median else "FAIL"
        lines.append(f"stablelint CLI vs pyflakes alone: {ratio:.2f}x pyflakes' speed (budget >= 1.00x)  {verdict}"
                     + cpu_ratio(pyflakes, cli))
    else:
        lines.append("stablelint CLI vs pyflakes alone: not measured (a row is not available)")
    with_stb, without = timed("flake8+stb"), timed("flake8")
    if with_stb and without:
        ratio = with_stb.median / without.median
        verdict = "PASS" if ratio <= FLAKE8_BUDGET else "FAIL"
        extra = ""
        if with_stb.output_lines is not None and without.output_lines is not None:
            extra = f"; {with_stb.output_lines - without.output_lines:,} more findings with the plugin"
        lines.append(
            f"flake8 with / without stablelint: {ratio:.3f}x (budget <= {FLAKE8_BUDGET:.2f}x)  {verdict}"
            f"  [+{with_stb.median - without.median:.1f} s{extra}]" + cpu_ratio(with_stb, without)
        )
    else:
        lines.append("flake8 with / without stablelint: not measured (a row is not available)")
    for slow_name, fast_name, budget, what in (
        ("stablelint-cold", "stablelint-warm", WARM_BUDGET, "warm re-run vs cold (cache)"),
        ("stablelint-cli", "stablelint-j2", JOBS_BUDGET, "--jobs 2 vs --jobs 1"),
    ):
        slow, fast = timed(slow_name), timed(fast_name)
        if slow and fast:
            ratio = slow.median / fast.median
            verdict = "PASS" if ratio >= budget else "FAIL"
            lines.append(f"{what}: {ratio:.2f}x faster (budget >= {budget:.1f}x)  {verdict}"
                         + (cpu_ratio(slow, fast) if fast_name == "stablelint-warm" else ""))
        else:
            lines.append(f"{what}: not measured (a row is not available)")
    return lines


def cpu_ratio(numerator: Row, denominator: Row) -> str:
    if not numerator.cpu_median or not denominator.cpu_median:
        return ""
    return f"  (cpu time: {numerator.cpu_median / denominator.cpu_median:.2f}x)"


# ---------------------------------------------------------------------------- main

SCIPY_PACKAGES = ("stats", "special")  # scipy/<these>: 175 k lines dense in log/exp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", help="files/directories (default: the pinned corpus)")
    parser.add_argument("--repeat", "-n", type=int, default=None,
                        help="runs per tool, best kept (default 3; 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help=f"every {QUICK_STRIDE}th file only, and 1 run unless --repeat is given")
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help=f"comma-separated subset of: {', '.join(TOOLS)}")
    parser.add_argument("--libcst-lines", type=int, default=60_000,
                        help="lines in libcst's random sample (default 60000; 0 = all files)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the libcst sample")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON ('-' = stdout, no table)")
    parser.add_argument("--all", action="store_true",
                        help="the whole corpus (python benchmarks/corpus.py --all), not only the default packages")
    parser.add_argument("--corpus", choices=("library", "app", "scipy"), default="library",
                        help="without PATHs: the library corpus (default), the application corpus "
                             "(app_corpus.py), or SciPy's stats and special packages")
    parser.add_argument("--stride", type=int, default=None,
                        help=f"every Nth file only (--quick is --stride {QUICK_STRIDE})")
    args = parser.parse_args(argv)
    if args.libcst_lines <= 0:
        args.libcst_lines = float("inf")
    repeat = args.repeat or (1 if args.quick else 3)
    names = [name.strip() for name in args.tools.split(",") if name.strip()]
    unknown = [name for name in names if name not in TOOLS]
    if unknown:
        parser.error(f"unknown tool(s) {', '.join(unknown)}; known: {', '.join(TOOLS)}")

    if args.paths:
        paths, description = collect_paths(args.paths), " ".join(args.paths)
    elif args.corpus == "app":
        paths = app_corpus.paths()
        description = f"application corpus: {len(app_corpus.REPOSITORIES)} repositories pinned by commit"
    elif args.corpus == "scipy":
        scipy = corpus.PINS_BY_NAME["scipy"]
        paths = [path for path in default_paths([scipy]) if path.relative_to(scipy.folder).parts[1] in SCIPY_PACKAGES]
        description = f"scipy-{scipy.version}: scipy/stats and scipy/special"
    else:
        pins = corpus.PINS if args.all else corpus.DEFAULT_PINS
        paths = default_paths(pins)
        description = "pinned corpus: " + ", ".join(f"{p.name}-{p.version}" for p in pins)
    stride = args.stride or (QUICK_STRIDE if args.quick else 1)
    if stride > 1:
        paths = paths[::stride]
        description += f" (every {stride}th file)"
    if not paths:
        raise SystemExit("no .py files to benchmark")
    files = read_sources(paths)
    total_lines = sum(f.lines for f in files)
    undecodable = sum(1 for f in files if f.text is None)
    if undecodable:
        description += f"; {undecodable} files not decodable (skipped by in-process rows)"

    info = header(files, description)
    tools = [TOOLS[name](files, args) for name in names]
    for tool in tools:
        tool.prepare()
    for round_number in range(1, repeat + 1):
        for tool in tools:
            if tool.row.unavailable:
                continue
            log(f"round {round_number}/{repeat}: {tool.name} ...")
            try:
                seconds = tool.run_once()
            except ToolFailed as error:
                tool.row.unavailable = f"failed ({error})"
                continue
            tool.row.times.append(seconds)
            log(f"round {round_number}/{repeat}: {tool.name} {seconds:.2f} s")

    rows = [tool.row for tool in tools]
    if args.json != "-":
        print(render(info, rows, len(files), total_lines, repeat))
    if args.json:
        payload = {
            **info,
            "total_files": len(files),
            "total_lines": total_lines,
            "repeat": repeat,
            "rows": [
                {
                    "tool": row.name,
                    "command": row.command,
                    "available": row.unavailable is None,
                    "unavailable_reason": row.unavailable,
                    "times_s": row.times,
                    "best_s": row.best,
                    "median_s": row.median,
                    "peak_rss_kb": row.peak_rss_kb,
                    "cpu_s": row.cpu_times,
                    "lines_timed": row.lines_timed,
                    "lines_per_s": row.rate(),
                    "wall_s_all_files": row.wall_for(total_lines),
                    "extrapolated": row.extrapolated,
                    "output_lines": row.output_lines,
                    "notes": row.notes,
                }
                for row in rows
            ],
            "budgets": budget_lines(rows),
        }
        text = json.dumps(payload, indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    return 0


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
