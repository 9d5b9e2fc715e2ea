"""The application-code corpus: public ML repositories pinned by commit (model, training,
RL and probabilistic code as users write it), beside the library corpus of corpus.py.

Libraries with very large files flatter stablelint's ratio to pyflakes (pyflakes slows on
them far more than stablelint); the code users run a linter on is mostly this kind.

    python benchmarks/app_corpus.py --from-git DIR   # export from clones/snapshots in DIR
    python benchmarks/app_corpus.py --clone          # git clone each at its commit (network)
    python benchmarks/app_corpus.py                  # check what is there against the pins
    python benchmarks/bench.py --corpus app

Only the ``.py`` files at each pinned commit are kept, under benchmarks/corpus/app/ (git
ignores it). ``--from-git DIR`` reads ``DIR/<owner>+<name>/repo`` or ``DIR/<owner>+<name>``
(a git directory or a clone) with ``git archive``; nothing is downloaded then. Each pin
records how many files and lines it has, and a tree that does not match is reported.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from corpus import COMPLETE_MARKER, CORPUS_DIR, count_lines, python_files

APP_DIR = CORPUS_DIR / "app"


@dataclass(frozen=True)
class Repository:
    name: str  # owner/name on GitHub
    commit: str
    files: int  # .py files at the commit
    lines: int
    kind: str

    @property
    def folder(self) -> Path:
        return APP_DIR / self.name.replace("/", "+")


REPOSITORIES = [
    Repository("AntixK/PyTorch-VAE", "a6896b944c918dd7030e7d795a8c13e5c6345ec7", 49, 6028, "PyTorch VAEs"),
    Repository("CompVis/latent-diffusion", "a506df5756472e2ebaf9078affdde2c4f1502cd4", 38, 11461, "PyTorch diffusion"),
    Repository("CompVis/taming-transformers", "3ba01b241669f5ade541ce990f7650a3b8f65318", 42, 8073, "PyTorch VQGAN"),
    Repository("DLR-RM/stable-baselines3", "e05d2dbe6eda0acd0ef2e316e3e4065677add3eb", 97, 24666, "PyTorch RL"),
    Repository("NVIDIA/tacotron2", "185cd24e046cc1304b4f8e564734d2498c6e2e6f", 19, 2141, "PyTorch speech"),
    Repository("ShangtongZhang/DeepRL", "c0968b5c046314af09944843cdf06f4100c6bb95", 33, 3860, "PyTorch RL"),
    Repository("eriklindernoren/PyTorch-GAN", "36d3c77e5ff20ebe0aeefd322326a134a279b93e", 60, 9952, "PyTorch GANs"),
    Repository("facebookresearch/detr", "29901c51d7fe8712168b8d0d64351170bc0f83e0", 28, 4364, "PyTorch detection"),
    Repository("facebookresearch/dino", "7c446df5b9f45747937fb0d72314eb9f7b66930a", 12, 3782, "PyTorch SSL"),
    Repository("google/dopamine", "5873f5494ee0c2d7c016d0ab2ad530354fec59d0", 181, 39996, "TF/JAX RL"),
    Repository("google-research/simclr", "383d4143fd8cf7879ae10f1046a9baeb753ff438", 16, 5238, "TF SSL"),
    Repository("jaywalnut310/vits", "2e561ba58618d021b5b8323d3765880f7e0ecfdb", 17, 3211, "PyTorch TTS"),
    Repository("lucidrains/DALLE-pytorch", "58c1e1a4fef10725a79bd45cdb5581c03e3e59e7", 19, 3929, "PyTorch DALL-E"),
    Repository("openai/baselines", "ea25b9e8b234e6ee1bca43083f8f3cf974143998", 150, 16762, "TF1 RL"),
    Repository("pytorch/examples", "77f55b912142e11fcfdf5b530231fb9c52f181e8", 93, 11385, "PyTorch examples"),
    Repository("ultralytics/yolov5", "5081342f04fb287fc2e5f2b5a4e06752b7937b1c", 52, 16439, "PyTorch detection"),
    Repository("vwxyzjn/cleanrl", "fe8d8a03c41a7ef5b523e2e354bd01c363e786bb", 80, 17166, "PyTorch/JAX RL"),
]


def _git(*args: str, cwd: Path | None = None) -> bytes:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True).stdout


def _export(git_dir: Path, repository: Repository) -> None:
    """The .py files of ``repository.commit`` from a git directory, into its folder."""
    git = ["--git-dir", str(git_dir)]
    names = [name for name in _git(*git, "ls-tree", "-r", "-z", "--name-only", repository.commit).split(b"\0")
             if name.endswith(b".py")]
    archive = _git(*git, "archive", "--format=tar", repository.commit, "--", *(n.decode() for n in names))
    repository.folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(repository.folder, filter="data")
    (repository.folder / COMPLETE_MARKER).write_text(repository.commit + "\n")


def _git_dir_in(root: Path, repository: Repository) -> Path | None:
    folder = root / repository.name.replace("/", "+")
    for candidate in (folder / "repo", folder / ".git", folder):
        if (candidate / "HEAD").exists() or (candidate / "objects").is_dir():
            return candidate
    return None


def _clone(repository: Repository) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        clone = Path(scratch) / "clone"
        _git("clone", "--quiet", "--no-checkout", f"https://github.com/{repository.name}.git", str(clone))
        _export(clone / ".git", repository)


def paths() -> list[Path]:
    missing = [r.name for r in REPOSITORIES if not (r.folder / COMPLETE_MARKER).exists()]
    if missing:
        raise SystemExit(f"application corpus incomplete ({', '.join(missing)}): python benchmarks/app_corpus.py -h")
    return sorted(path for repository in REPOSITORIES for path in python_files(repository.folder))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--from-git", metavar="DIR", type=Path, help="export from git directories in DIR")
    source.add_argument("--clone", action="store_true", help="git clone each repository (needs the network)")
    args = parser.parse_args(argv)
    mismatched = 0
    for repository in REPOSITORIES:
        if not (repository.folder / COMPLETE_MARKER).exists():
            if args.from_git:
                git_dir = _git_dir_in(args.from_git, repository)
                if git_dir is None:
                    print(f"{repository.name}: not in {args.from_git}", file=sys.stderr)
                    continue
                _export(git_dir, repository)
            elif args.clone:
                _clone(repository)
            else:
                print(f"{repository.name}: missing", file=sys.stderr)
                continue
        files = python_files(repository.folder)
        lines = sum(count_lines(path) for path in files)
        ok = (len(files), lines) == (repository.files, repository.lines)
        mismatched += not ok
        print(f"{repository.name:<34} {repository.commit[:10]}  {len(files):>4} files  {lines:>7,} lines"
              f"{'' if ok else f'  (pinned: {repository.files} files, {repository.lines:,} lines)'}")
    total = sum(r.lines for r in REPOSITORIES)
    print(f"pinned total: {sum(r.files for r in REPOSITORIES)} files, {total:,} lines, in {APP_DIR}")
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
