"""Score stablelint on the hand-labeled set of real numerical-stability sites.

``benchmarks/labeled/sites*.csv`` list sites (source, path, line range, family, label
hazard|guarded); see ``benchmarks/labeled/README.md``. This script

1. materialises each source: a PyPI pin is the wheel ``benchmarks/corpus.py`` unpacks
   (downloaded with ``pip download --no-deps --only-binary=:all:`` and checked against its
   sha256 when missing, unless ``--no-download``); a GitHub source is read from a local
   snapshot ``/work/.mirror/<owner>+<name>*/`` with ``git show <commit>:<path>``. A source
   that is not present is one ``skip`` line and the rest is scored;
2. runs ``stablelint.engine.check_source(source, path)`` in-process on each file of the set,
   with the project index of its source (every Python file of the snapshot or the
   package: values and precision settings from the other files; ``--no-project`` checks
   each file alone);
3. matches findings to sites. A site is *flagged* when a finding whose code starts with
   one of the site family's prefixes (``FAMILY_CODES``) starts on a line in
   ``[line, end_line]``. The looser ``any`` columns accept any STB code there, except a
   finding that already belongs by family to another site on the same lines.

It prints, per family and in total: hazards, found, recall; guarded, flagged, flag rate;
and the same two with any code. Findings in the scored files that fall on no labeled site
are counted (listed with ``--verbose``), as a hint for growing the set.

    python benchmarks/labeled.py                 # all families
    python benchmarks/labeled.py --family log-softmax --verbose
    python benchmarks/labeled.py --json result.json   # or --json - for JSON only
    python benchmarks/labeled.py --sites benchmarks/fresh/set1.csv --root /work/fresh/set1 --all-files \\
        --default-only --findings-csv findings.csv          # an exported tree, every file, default rules

``--root DIR`` reads a GitHub source from an already exported tree ``DIR/<owner>__<name>/<path>``
(``git archive`` of the commit in the ``source`` column) instead of a snapshot; ``--all-files``
also checks every other ``.py`` file under those folders, so that every finding on the
repositories is counted (and written with ``--findings-csv``, for judging). ``--default-only``
drops the opt-in families (``config.OPT_IN_PREFIXES``: STB4xx, STB203); ``--opt-in PREFIX`` keeps
one of them again (repeatable).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SITES_DIR = HERE / "labeled"  # sites.csv, and one sites-<family>.csv per rule family added later
MIRROR = Path("/work/.mirror")

# Which stablelint code prefixes should report each family (DESIGN.md, "Rule codes").
FAMILY_CODES: dict[str, tuple[str, ...]] = {
    "log-softmax": ("STB101",),
    "logsumexp": ("STB102",),
    "naive-softmax": ("STB103",),
    "log-sigmoid": ("STB104",),
    "log-one-minus-sigmoid": ("STB105",),
    "log1p": ("STB106",),
    "expm1": ("STB107",),
    "softplus": ("STB108",),
    "activation": ("STB1",),
    "log-domain": ("STB4",),
    "division": ("STB4",),
    "sqrt": ("STB4",),
    "exp-overflow": ("STB4", "STB124"),  # STB124: exp of a trained layer's raw output (default)
    "eps-absorbed": ("STB4", "STB5"),
    "variance": ("STB2",),
    "std-eps": ("STB2",),
    "cross-entropy": ("STB3",),
    "linalg": ("STB6",),
    "log-exp-misc": ("STB1",),  # log(exp(x)), log(1 - exp(x)), x*log(x), atan(y/x), hand-written tanh
    "norm-eps": ("STB2", "STB4"),  # x / norm(x), cosine similarity without eps
    "mask-constant": ("STB5",),  # -1e9 / -1e4 masks that overflow or vanish in float16
    "nan-compare": ("STB5",),
    "loss-probabilities": ("STB3",),  # a loss object or call fed probabilities
}


@dataclass
class Site:
    id: str
    source: str
    path: str
    line: int
    end_line: int
    family: str
    label: str
    reason: str
    excerpt: str
    flagged: list = field(default_factory=list)  # findings of the family's codes
    flagged_any: list = field(default_factory=list)  # any STB finding not owned by another site

    def covers(self, line: int) -> bool:
        return self.line <= line <= self.end_line

    def wants(self, code: str) -> bool:
        return code.startswith(FAMILY_CODES.get(self.family, ("STB",)))


def load_sites(path: Path = SITES_DIR) -> list[Site]:
    """The sites of one CSV file, or of every ``sites*.csv`` in a folder (ids must be unique)."""
    files = sorted(path.glob("sites*.csv")) if path.is_dir() else [path]
    sites: list[Site] = []
    for file in files:
        with file.open(newline="", encoding="utf-8") as stream:
            sites += [
                Site(row["id"], row["source"], row["path"], int(row["line"]), int(row["end_line"]),
                     row["family"], row["label"], row["reason"], row["excerpt"])
                for row in csv.DictReader(stream)
            ]
    duplicated = sorted({s.id for s in sites if [t.id for t in sites].count(s.id) > 1})
    if duplicated:
        raise SystemExit(f"labeled.py: site ids used twice: {', '.join(duplicated[:5])}")
    return sites


# ---------------------------------------------------------------- sources

class SourceUnavailable(Exception):
    pass


class PypiSource:
    def __init__(self, spec: str, download: bool):
        name, _, version = spec[len("pypi:"):].partition("==")
        sys.path.insert(0, str(HERE))
        import corpus  # benchmarks/corpus.py: the pins, sha256 checks and unpacking

        pin = corpus.PINS_BY_NAME.get(name)
        if pin is None or pin.version != version:
            raise SourceUnavailable(f"{spec} is not pinned in benchmarks/corpus.py")
        if not (pin.folder / corpus.COMPLETE_MARKER).exists():
            if not download:
                raise SourceUnavailable(f"{pin.folder} not unpacked (run python benchmarks/corpus.py {name})")
            try:
                corpus.ensure(pin)
            except (Exception, SystemExit) as error:  # pip or sha256 failure
                raise SourceUnavailable(f"{spec}: {error}") from error
        self.root = pin.folder

    def read(self, path: str) -> str:
        return (self.root / path).read_text(encoding="utf-8", errors="replace")


class ExportedSource:
    """A GitHub source already exported to ``root/<owner>__<name>/`` (``git archive`` of its commit)."""

    def __init__(self, spec: str, root: Path):
        repo = spec[len("github:"):].partition("@")[0]
        owner, _, name = repo.partition("/")
        self.folder = root / f"{owner}__{name}"
        if not self.folder.is_dir():
            raise SourceUnavailable(f"{spec}: no exported tree {self.folder}")

    def read_many(self, paths) -> dict[str, str]:
        texts = {}
        for path in paths:
            try:
                texts[path] = (self.folder / path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                pass
        return texts

    def all_paths(self) -> list[str]:
        return sorted(str(p.relative_to(self.folder)) for p in self.folder.rglob("*.py") if p.is_file())


class GithubSource:
    def __init__(self, spec: str):
        repo, _, commit = spec[len("github:"):].partition("@")
        owner, _, name = repo.partition("/")
        self.commit = commit
        self.git_dir = None
        for candidate in sorted(MIRROR.glob(f"{owner}+{name}*")):
            for git_dir in (candidate / "repo", candidate):
                if (git_dir / "HEAD").exists() and self._has_commit(git_dir):
                    self.git_dir = git_dir
                    break
            if self.git_dir:
                break
        if self.git_dir is None:
            raise SourceUnavailable(f"{spec}: no snapshot with commit {commit[:12]} under {MIRROR}/{owner}+{name}*")

    def _has_commit(self, git_dir: Path) -> bool:
        result = subprocess.run(["git", f"--git-dir={git_dir}", "cat-file", "-e", f"{self.commit}^{{commit}}"],
                                capture_output=True)
        return result.returncode == 0

    def python_paths(self) -> list[str]:
        out = subprocess.run(["git", f"--git-dir={self.git_dir}", "ls-tree", "-r", "--name-only", self.commit],
                             capture_output=True, check=True, text=True).stdout
        return [path for path in out.splitlines() if path.endswith(".py")]

    def read_many(self, paths: list[str]) -> dict[str, str]:
        """All files in one ``git cat-file --batch`` call."""
        request = "".join(f"{self.commit}:{path}\n" for path in paths).encode()
        out = subprocess.run(["git", f"--git-dir={self.git_dir}", "cat-file", "--batch"],
                             input=request, capture_output=True, check=True).stdout
        texts, offset = {}, 0
        for path in paths:
            end = out.index(b"\n", offset)
            header = out[offset:end].split()
            offset = end + 1
            if len(header) < 3 or header[1] == b"missing":
                continue
            size = int(header[2])
            texts[path] = out[offset:offset + size].decode("utf-8", errors="replace")
            offset += size + 1
        return texts


def materialise(sites: list[Site], download: bool, log, projects: dict | None = None,
                root: Path | None = None, all_files: bool = False) -> dict[tuple[str, str], str]:
    """The texts of the labeled files; with ``projects``, also each source's project index
    (its other files: ``stablelint.analysis.project``), by source. With ``root``, a GitHub source
    is read from the exported tree ``root/<owner>__<name>/``; with ``all_files``, every ``.py`` file
    of that tree is checked, not only the labeled ones."""
    by_source: dict[str, set[str]] = defaultdict(set)
    for site in sites:
        by_source[site.source].add(site.path)
    files: dict[tuple[str, str], str] = {}
    for spec, paths in by_source.items():
        n_sites = sum(1 for site in sites if site.source == spec)
        try:
            if spec.startswith("pypi:"):
                source = PypiSource(spec, download)
                texts = {}
                for path in sorted(paths):
                    try:
                        texts[path] = source.read(path)
                    except OSError:
                        pass
                if projects is not None:
                    from stablelint.analysis.project import ProjectIndex

                    projects[spec] = ProjectIndex(str(source.root))
            elif spec.startswith("github:") and root is not None:
                exported = ExportedSource(spec, root)
                if all_files:
                    paths = paths | set(exported.all_paths())
                texts = exported.read_many(sorted(paths))
                if projects is not None:
                    from stablelint.analysis.project import ProjectIndex

                    projects[spec] = ProjectIndex(str(exported.folder))
            elif spec.startswith("github:"):
                github = GithubSource(spec)
                if projects is not None:
                    from stablelint.analysis.project import MemoryFiles, ProjectIndex

                    every = github.read_many(github.python_paths())
                    projects[spec] = ProjectIndex(f"{spec}:", MemoryFiles(every))
                    texts = {path: every[path] for path in paths if path in every}
                else:
                    texts = github.read_many(sorted(paths))
            else:
                raise SourceUnavailable(f"{spec}: unknown kind of source")
        except SourceUnavailable as error:
            log(f"skip {error} ({n_sites} sites)")
            continue
        for path in sorted(paths - texts.keys()):
            log(f"skip {spec}:{path}: not in the source")
        for path, text in texts.items():
            files[(spec, path)] = text
    return files


# ---------------------------------------------------------------- scoring

@dataclass
class Finding:
    source: str
    path: str
    line: int
    col: int
    code: str
    message: str

    def where(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


def run_engine(files: dict[tuple[str, str], str], log, projects: dict | None = None) -> tuple[list[Finding], dict]:
    from stablelint import engine

    findings, stats = [], {"files": 0, "parse_errors": 0, "crashes": 0, "seconds": 0.0}
    started = time.perf_counter()
    for (spec, path), text in sorted(files.items()):
        stats["files"] += 1
        try:
            index = projects.get(spec) if projects is not None else None
            # A PyPI source is a folder on disk (its files by absolute path), a GitHub one in memory.
            on_disk = index is not None and not hasattr(index.files, "texts")
            diagnostics = engine.check_source(text, str(Path(index.root) / path) if on_disk else path,
                                              project=index or False)
        except engine.ParseError as error:
            stats["parse_errors"] += 1
            log(f"parse error {spec}:{path}: {error}")
            continue
        except Exception:  # a crash is reported, the run goes on
            stats["crashes"] += 1
            log(f"CRASH {spec}:{path}\n{traceback.format_exc()}")
            continue
        for d in diagnostics:
            findings.append(Finding(spec, path, getattr(d, "line", 0), getattr(d, "col", 0),
                                    str(getattr(d, "code", "")), str(getattr(d, "message", ""))))
    stats["seconds"] = round(time.perf_counter() - started, 3)
    return findings, stats


def match(sites: list[Site], findings: list[Finding]) -> list[Finding]:
    """Attach findings to sites; return the findings that fall on no site."""
    sites_by_file: dict[tuple[str, str], list[Site]] = defaultdict(list)
    for site in sites:
        sites_by_file[(site.source, site.path)].append(site)
    unmatched = []
    for finding in findings:
        here = [s for s in sites_by_file.get((finding.source, finding.path), []) if s.covers(finding.line)]
        owners = [s for s in here if s.wants(finding.code)]
        for site in owners:
            site.flagged.append(finding)
        for site in (owners or here):
            if finding.code.startswith("STB"):
                site.flagged_any.append(finding)
        if not here:
            unmatched.append(finding)
    return unmatched


def pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}" if whole else "-"


def summarise(sites: list[Site]) -> dict:
    rows = {}
    for family in list(FAMILY_CODES) + sorted({s.family for s in sites} - FAMILY_CODES.keys()):
        group = [s for s in sites if s.family == family]
        if not group:
            continue
        rows[family] = counts(group)
    return {"families": rows, "total": counts(sites)}


def counts(group: list[Site]) -> dict:
    hazards = [s for s in group if s.label == "hazard"]
    guarded = [s for s in group if s.label == "guarded"]
    return {
        "hazards": len(hazards),
        "found": sum(bool(s.flagged) for s in hazards),
        "found_any": sum(bool(s.flagged_any) for s in hazards),
        "guarded": len(guarded),
        "flagged": sum(bool(s.flagged) for s in guarded),
        "flagged_any": sum(bool(s.flagged_any) for s in guarded),
    }


def table(summary: dict) -> str:
    header = (f"{'family':<22} {'codes':<10} {'hazards':>7} {'found':>6} {'recall%':>8} "
              f"{'guarded':>8} {'flagged':>8} {'flag%':>6}   "
              f"{'found*':>6} {'recall*%':>8} {'flagged*':>8} {'flag*%':>6}")
    lines = [header, "-" * len(header)]

    def row(name, codes, c):
        return (f"{name:<22} {codes:<10} {c['hazards']:>7} {c['found']:>6} {pct(c['found'], c['hazards']):>8} "
                f"{c['guarded']:>8} {c['flagged']:>8} {pct(c['flagged'], c['guarded']):>6}   "
                f"{c['found_any']:>6} {pct(c['found_any'], c['hazards']):>8} {c['flagged_any']:>8} "
                f"{pct(c['flagged_any'], c['guarded']):>6}")

    for family, c in summary["families"].items():
        lines.append(row(family, ",".join(FAMILY_CODES.get(family, ("?",))), c))
    lines.append("-" * len(header))
    lines.append(row("total", "", summary["total"]))
    lines.append("(* = any STB code on the site's lines)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=Path, default=SITES_DIR,
                        help="a sites CSV, or a folder of sites*.csv (default: %(default)s)")
    parser.add_argument("--family", action="append", help="score only this family (repeatable)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="list missed hazards, flagged guarded sites and findings on no site")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON (- for standard output only)")
    parser.add_argument("--no-download", action="store_true", help="skip PyPI sources that are not unpacked")
    parser.add_argument("--no-project", action="store_true",
                        help="check each labeled file alone, without the index of its source's other files")
    parser.add_argument("--root", type=Path, help="read GitHub sources from DIR/<owner>__<name>/ (exported trees)")
    parser.add_argument("--all-files", action="store_true",
                        help="with --root: check every .py file of each source, not only the labeled ones")
    parser.add_argument("--default-only", action="store_true",
                        help="count only the default rules (drop the opt-in families STB4xx, STB203)")
    parser.add_argument("--opt-in", action="append", default=[], metavar="PREFIX",
                        help="with --default-only: keep this opt-in family too (repeatable), e.g. STB4")
    parser.add_argument("--findings-csv", metavar="FILE",
                        help="write every counted finding (source, path, line, code, message)")
    args = parser.parse_args(argv)
    if args.all_files and args.root is None:
        parser.error("--all-files needs --root")

    json_only = args.json == "-"
    out = sys.stderr if json_only else sys.stdout

    def log(message: str) -> None:
        print(message, file=out)

    sites = load_sites(args.sites)
    unknown = sorted({s.family for s in sites} - FAMILY_CODES.keys())
    if unknown:
        log(f"note: families without a code mapping (any STB code counts): {', '.join(unknown)}")
    if args.family:
        wanted = set(args.family)
        bad = wanted - {s.family for s in sites}
        if bad:
            parser.error(f"unknown family: {', '.join(sorted(bad))}")
        sites = [s for s in sites if s.family in wanted]

    projects = None if args.no_project else {}
    files = materialise(sites, download=not args.no_download, log=log, projects=projects,
                        root=args.root, all_files=args.all_files)
    scored = [s for s in sites if (s.source, s.path) in files]
    skipped = len(sites) - len(scored)
    findings, stats = run_engine(files, log, projects)
    if args.default_only:
        from stablelint.config import OPT_IN_PREFIXES

        dropped = tuple(prefix for prefix in OPT_IN_PREFIXES if not any(prefix.startswith(o) or o.startswith(prefix)
                                                                         for o in args.opt_in))
        findings = [f for f in findings if not f.code.startswith(dropped or ("-",))]
    if args.findings_csv:
        with open(args.findings_csv, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(["source", "path", "line", "col", "code", "message"])
            for f in sorted(findings, key=lambda f: (f.source, f.path, f.line, f.col, f.code)):
                writer.writerow([f.source, f.path, f.line, f.col, f.code, f.message])
    unmatched = match(scored, findings)

    try:
        import stablelint
        version = getattr(stablelint, "__version__", "?")
        location = str(Path(stablelint.__file__).resolve().parent)
    except Exception:  # pragma: no cover - the import already worked in run_engine
        version, location = "?", "?"

    summary = summarise(scored)
    result = {
        "stablelint": {"version": version, "path": location},
        "sites": len(sites), "scored": len(scored), "skipped": skipped,
        "files": stats["files"], "parse_errors": stats["parse_errors"], "crashes": stats["crashes"],
        "engine_seconds": stats["seconds"], "findings": len(findings),
        "findings_on_no_site": len(unmatched),
        "summary": summary,
        "missed_hazards": [s.id for s in scored if s.label == "hazard" and not s.flagged],
        "flagged_guarded": [s.id for s in scored if s.label == "guarded" and s.flagged],
        "sites_detail": [
            {"id": s.id, "family": s.family, "label": s.label, "codes": sorted({f.code for f in s.flagged}),
             "codes_any": sorted({f.code for f in s.flagged_any})}
            for s in scored
        ],
    }

    if not json_only:
        print(f"stablelint {version} from {location}")
        print(f"{len(scored)} of {len(sites)} sites scored ({skipped} skipped), {stats['files']} files, "
              f"{len(findings)} findings, engine {stats['seconds']:.2f} s, "
              f"{stats['parse_errors']} parse errors, {stats['crashes']} crashes")
        print()
        print(table(summary))
        print()
        print(f"findings on no labeled site: {len(unmatched)}")
        if args.verbose:
            missed = [s for s in scored if s.label == "hazard" and not s.flagged]
            print(f"\nmissed hazards ({len(missed)}):")
            for s in missed:
                extra = f"  [other: {','.join(sorted({f.code for f in s.flagged_any}))}]" if s.flagged_any else ""
                print(f"  {s.id} {s.family:<22} {s.source.split('@')[0]} {s.path}:{s.line}  {s.excerpt}{extra}")
            flagged = [s for s in scored if s.label == "guarded" and s.flagged]
            print(f"\nflagged guarded sites ({len(flagged)}):")
            for s in flagged:
                codes = ",".join(sorted({f.code for f in s.flagged}))
                print(f"  {s.id} {s.family:<22} {codes:<8} {s.source.split('@')[0]} {s.path}:{s.line}  {s.excerpt}")
            print(f"\nfindings on no labeled site ({len(unmatched)}):")
            for f in unmatched:
                print(f"  {f.code} {f.source.split('@')[0]} {f.where()}  {f.message[:100]}")
    if args.json:
        text = json.dumps(result, indent=2)
        if json_only:
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    return 1 if stats["crashes"] else 0


if __name__ == "__main__":
    sys.exit(main())
