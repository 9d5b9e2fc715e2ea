"""The codemod command, run the way libcst users run codemods (``python -m libcst.tool
codemod ...`` in a project with a .libcst.codemod.yaml); every file must come out as
``stablelint --fix`` writes it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stablelint.cli import main

PYPROJECT = '[tool.stablelint]\nignore = ["STB106"]\n'
FILES = {
    # STB101 (safe), STB108 (unsafe in PyTorch), STB106 (ignored by the project's config)
    "model.py": (
        "import torch\n\n\ndef loss(z, x):\n"
        "    p = torch.log(torch.softmax(z, dim=-1))  # keep this comment\n"
        "    q = torch.log(1 + torch.exp(x))\n"
        "    return p, q, torch.log(1 + x)\n"
    ),
    # one finding, whose fix is unsafe and adds `import scipy.special`
    "stats.py": "import numpy as np\n\n\ndef f(log_p):\n    return np.log(np.sum(np.exp(log_p)))\n",
    "clean.py": "import torch\n\n\ndef loss(z):\n    return torch.log_softmax(z, dim=-1)\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / ".libcst.codemod.yaml").write_text("modules: ['stablelint']\n")
    for folder in ("src", "expected"):
        (tmp_path / folder).mkdir()
        for name, text in FILES.items():
            (tmp_path / folder / name).write_text(text)
    return tmp_path


def codemod(project: Path, name: str, *args: str) -> subprocess.CompletedProcess:
    # The command's name comes first: libcst takes the first word it does not know for it.
    command = [sys.executable, "-m", "libcst.tool", "codemod", name, "--no-format", "-j", "1", "--hide-progress", *args]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=300)


def fixed_by_cli(project: Path, *options: str) -> dict[str, str]:
    """``stablelint --fix`` on the copies in expected/ (same project, same settings)."""
    main(["--fix", "--quiet", *options, str(project / "expected")])
    return {name: (project / "expected" / name).read_text() for name in FILES}


def contents(folder: Path) -> dict[str, str]:
    return {name: (folder / name).read_text() for name in FILES}


def test_codemod_writes_what_fix_writes(project: Path):
    clean = project / "src" / "clean.py"
    before = clean.stat().st_mtime_ns
    done = codemod(project, "codemod.StableForms", "src")
    assert done.returncode == 0, done.stderr
    assert contents(project / "src") == fixed_by_cli(project)
    model = (project / "src" / "model.py").read_text()
    assert "torch.log_softmax(z, dim=-1)  # keep this comment" in model
    assert "torch.log(1 + torch.exp(x))" in model  # unsafe: left
    assert "torch.log(1 + x)" in model  # STB106 is ignored in pyproject.toml
    # Files with nothing to fix are skipped, not rewritten.
    assert (project / "src" / "stats.py").read_text() == FILES["stats.py"]
    assert clean.read_text() == FILES["clean.py"] and clean.stat().st_mtime_ns == before
    assert f"Skipped codemodding {clean}: nothing to fix" in done.stderr
    assert "pass --unsafe-fixes" in done.stderr
    assert " - Transformed 1 files successfully." in done.stderr


def test_unsafe_fixes_flag_and_external_spelling(project: Path):
    # `-x` names the class by its full module path, with or without the yaml's modules.
    done = codemod(project, "stablelint.codemod.StableForms", "-x", "--unsafe-fixes", "src")
    assert done.returncode == 0, done.stderr
    assert contents(project / "src") == fixed_by_cli(project, "--unsafe-fixes")
    stats = (project / "src" / "stats.py").read_text()
    assert "import scipy.special" in stats and "scipy.special.logsumexp(log_p)" in stats
    assert "torch.nn.functional.softplus(x)" in (project / "src" / "model.py").read_text()
    assert (project / "src" / "clean.py").read_text() == FILES["clean.py"]


def test_the_dotted_name_needs_x(project: Path):
    # libcst looks a command up as `<module>.<command>` for each of the yaml's modules:
    # with `modules: ['stablelint']` the name is `codemod.StableForms`, the full path needs -x.
    done = codemod(project, "stablelint.codemod.StableForms", "src")
    assert done.returncode == 1
    assert "Could not find stablelint.codemod in any configured modules" in done.stderr
    assert contents(project / "src") == FILES

