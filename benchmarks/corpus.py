"""Download the pinned benchmark corpus: real ML code, as published on PyPI.

Each pinned wheel is fetched with ``pip download --no-deps --only-binary=:all:`` into
``benchmarks/corpus/.wheels/``, its sha256 is checked against the pin, and only its
``.py`` files are unpacked into ``benchmarks/corpus/<name>-<version>/`` (paths inside the
wheel are kept, ``*.dist-info`` is skipped). ``benchmarks/corpus/`` is git-ignored: the
downloaded code is never committed.

Idempotent: a package whose folder holds the ``.complete`` marker is left alone; a
half-unpacked folder (interrupted run) is removed and unpacked again.

    python benchmarks/corpus.py            # the default corpus (~1.16 M lines)
    python benchmarks/corpus.py --all      # plus the optional packages (transformers)
    python benchmarks/corpus.py timm optax # only these

The default set covers the four frameworks stablelint knows: PyTorch (diffusers, timm),
Keras 3 with its TensorFlow/JAX/NumPy/PyTorch backends (keras), and JAX (flax, optax).
transformers is optional: 1.2 M lines on its own, most of it copies of the same
modeling code, it would double the corpus without adding much variety.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
WHEEL_CACHE = CORPUS_DIR / ".wheels"
COMPLETE_MARKER = ".complete"


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    wheel: str  # the exact file pip downloads for this pin
    sha256: str
    framework: str
    default: bool = True
    platform: tuple[str, ...] = ()  # pip's --platform/--python-version/... for compiled wheels

    @property
    def folder(self) -> Path:
        return CORPUS_DIR / f"{self.name}-{self.version}"


PINS = [
    Pin("diffusers", "0.42.1", "diffusers-0.42.1-py3-none-any.whl",
        "9154faa704ce00e0b77f568e0d64786064368528aab5fc14eeea92f87d788014", "PyTorch"),
    Pin("timm", "1.0.31", "timm-1.0.31-py3-none-any.whl",
        "5bd50f7d0fe6d09bf9285ac2523234a1b7e6bf075c0be3e7aed09139fcb617c7", "PyTorch"),
    Pin("keras", "3.15.1", "keras-3.15.1-py3-none-any.whl",
        "836460e480930acbd19bb7a17e62f9ecad40e8a9af9a651fc8d0586a96d27e20",
        "TensorFlow/JAX/NumPy/PyTorch backends"),
    Pin("flax", "0.12.8", "flax-0.12.8-py3-none-any.whl",
        "807931d369cbc716fc447801ab39cd6c3c2614d573387a2319a028675dd34fe5", "JAX"),
    Pin("optax", "0.2.8", "optax-0.2.8-py3-none-any.whl",
        "e3ca2d36c99daab1800ae9dbc0545034382d6bc780b24d969e1b0df65fa31cb4", "JAX"),
    Pin("transformers", "5.23.0", "transformers-5.23.0-py3-none-any.whl",
        "018e82fd07490ad5bb58414f65e31576033dc7f36bed10c574843f69b90991bf", "PyTorch",
        default=False),
    # The large corpus (--all, ~3.6 M lines): the libraries stablelint's rules are about,
    # dense in log/exp/softmax/var, in every framework.
    Pin("torchmetrics", "1.9.0", "torchmetrics-1.9.0-py3-none-any.whl",
        "bfdcbff3dd1d96b3374bb2496eb39f23c4b28b8a845b6a18c313688e0d2d9ca1", "PyTorch", default=False),
    Pin("pyro-ppl", "1.9.2", "pyro_ppl-1.9.2-py3-none-any.whl",
        "4fa9a96e1af113a8b2bdf5d54299f6a86b05aa6f1be1761f520a7114c186902a", "PyTorch", default=False),
    Pin("gpytorch", "1.15.2", "gpytorch-1.15.2-py3-none-any.whl",
        "2112fdc7c0c0bf56a7f2444663cfc80fdfc3e19724399d6303a83d8efdd71e9e", "PyTorch", default=False),
    Pin("lightning", "2.6.6", "lightning-2.6.6-py3-none-any.whl",
        "2bcbd6ee840071cd076c7dc9953d7ac1040df92f1c5fa76583aae644f037ab85", "PyTorch", default=False),
    Pin("jax", "0.10.2", "jax-0.10.2-py3-none-any.whl",
        "724d73c4678d8b06f6a6ab4db1b8a2fea8cd4f1e2c2564f99601634ec7b8d1c6", "JAX", default=False),
    Pin("numpyro", "0.22.0", "numpyro-0.22.0-py3-none-any.whl",
        "0bbcd8e5319876306eaea595bc78c09201cbcde89bd5856f2867ab65e1dab0a5", "JAX", default=False),
    Pin("tensorflow-probability", "0.25.0", "tensorflow_probability-0.25.0-py2.py3-none-any.whl",
        "f3f4d6431656c0122906888afe1b67b4400e82bd7f254b45b92e6c5b84ea8e3e", "TensorFlow/JAX/NumPy",
        default=False),
    Pin("pymc", "5.28.5", "pymc-5.28.5-py3-none-any.whl",
        "29f44aa3edd727b29eb0a555eec0d9def4775a5d5c849eee31239384a5feaec2", "PyTensor/NumPy", default=False),
    # A compiled wheel: the platform is pinned too, so every machine downloads this file.
    Pin("scipy", "1.17.1", "scipy-1.17.1-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
        "43af8d1f3bea642559019edfe64e9b11192a8978efbd1539d7bc2aaa23d92de4", "NumPy/SciPy", default=False,
        platform=("--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
                  "--implementation", "cp", "--abi", "cp311")),
]
PINS_BY_NAME = {pin.name: pin for pin in PINS}
DEFAULT_PINS = [pin for pin in PINS if pin.default]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_wheel(pin: Pin) -> Path:
    wheel = WHEEL_CACHE / pin.wheel
    if not wheel.exists():
        WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary=:all:", *pin.platform, f"{pin.name}=={pin.version}", "-d", str(WHEEL_CACHE)],
            check=True,
        )
    if not wheel.exists():
        raise SystemExit(f"pip did not produce {wheel.name}; files: {sorted(p.name for p in WHEEL_CACHE.iterdir())}")
    actual = sha256_of(wheel)
    if actual != pin.sha256:
        raise SystemExit(f"{wheel.name}: sha256 {actual} does not match the pin {pin.sha256}")
    return wheel


def unpack_python_files(wheel: Path, folder: Path) -> None:
    # Unpack beside the target and rename, so an interrupted run never looks complete.
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            name = member.filename
            top = name.split("/", 1)[0]
            if not name.endswith(".py") or top.endswith((".dist-info", ".data")):
                continue
            target = staging / name
            if staging.resolve() not in target.resolve().parents:
                raise SystemExit(f"{wheel.name}: refusing unsafe path {name!r}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(member))
    (staging / COMPLETE_MARKER).write_text(f"{wheel.name} {sha256_of(wheel)}\n")
    staging.rename(folder)


def python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def count_lines(path: Path) -> int:
    data = path.read_bytes()
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def ensure(pin: Pin) -> str:
    """Make sure the pin is unpacked; return what was done."""
    if (pin.folder / COMPLETE_MARKER).exists():
        return "present"
    unpack_python_files(download_wheel(pin), pin.folder)
    return "unpacked"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"packages to fetch (known: {', '.join(PINS_BY_NAME)})")
    parser.add_argument("--all", action="store_true", help="also the optional packages")
    parser.add_argument("--list", action="store_true", help="print the pins and exit")
    args = parser.parse_args(argv)

    if args.list:
        for pin in PINS:
            print(f"{pin.name}=={pin.version}  {pin.framework}{'' if pin.default else '  (optional)'}")
        return 0
    unknown = [name for name in args.names if name not in PINS_BY_NAME]
    if unknown:
        parser.error(f"unknown package(s): {', '.join(unknown)}")
    pins = [PINS_BY_NAME[name] for name in args.names] if args.names else (PINS if args.all else DEFAULT_PINS)

    rows, total_files, total_lines = [], 0, 0
    for pin in pins:
        action = ensure(pin)
        files = python_files(pin.folder)
        lines = sum(count_lines(path) for path in files)
        total_files += len(files)
        total_lines += lines
        rows.append((f"{pin.name}-{pin.version}", pin.framework, action, len(files), lines))

    name_width = max(len(row[0]) for row in rows)
    framework_width = max(len(row[1]) for row in rows)
    print(f"{'package':<{name_width}}  {'framework':<{framework_width}}  {'status':<8}  {'files':>6}  {'lines':>9}")
    for name, framework, action, files, lines in rows:
        print(f"{name:<{name_width}}  {framework:<{framework_width}}  {action:<8}  {files:>6}  {lines:>9,}")
    print(f"{'total':<{name_width}}  {'':<{framework_width}}  {'':<8}  {total_files:>6}  {total_lines:>9,}")
    print(f"in {CORPUS_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
