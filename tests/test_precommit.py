"""The hooks in .pre-commit-hooks.yaml, run by pre-commit itself on a throwaway repo."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNSTABLE = "import torch\n\n\ndef loss(x):\n    return torch.log(torch.softmax(x, dim=1))\n"
FIXED = "import torch\n\n\ndef loss(x):\n    return torch.log_softmax(x, dim=1)\n"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")


def unreachable_index(folder: Path, env: dict[str, str] | None = None) -> str | None:
    """Why pip cannot get packages here, or None when it can: a quick download of one small
    dependency through pip's own configuration, with a short timeout and no retries so
    that a dead network does not stall the suite."""
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--timeout", "3", "--retries", "0",
        "--disable-pip-version-check", "--dest", str(folder), "pathspec",
    ]
    try:
        probe = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    except subprocess.TimeoutExpired:
        return "no package index answered within 60 s"
    if probe.returncode != 0:
        return (probe.stderr.strip().splitlines() or ["pip failed"])[-1]
    return None


@pytest.fixture(scope="module", autouse=True)
def package_index(tmp_path_factory):
    """pre-commit installs the hook into a fresh environment with pip: without a package
    index pip can reach (offline, behind a firewall) that cannot work, and is not ours to
    test."""
    reason = unreachable_index(tmp_path_factory.mktemp("index-probe"))
    if reason:
        pytest.skip(f"no package index is reachable, so pre-commit cannot install the hook ({reason})")


def test_the_probe_tells_when_no_index_is_reachable(tmp_path):
    # pip with no configuration file and an index nobody listens on: what offline looks like.
    offline = dict(os.environ, PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL="http://127.0.0.1:9/simple")
    offline.pop("PIP_FIND_LINKS", None)
    offline.pop("PIP_EXTRA_INDEX_URL", None)
    assert unreachable_index(tmp_path, offline)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def hook_home(tmp_path_factory):
    """One pre-commit cache for both tests, so the hook environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def run_hook(hook_id: str, project: Path, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook_id, "--all-files", "--verbose"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def throwaway_repo(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    (project / "model.py").write_text(UNSTABLE)
    (project / "clean.py").write_text("import torch\n\nx = torch.log_softmax(torch.zeros(2), 0)\n")
    git(project, "add", ".")
    return project


def test_check_hook_fails_on_a_finding(tmp_path, hook_home):
    project = throwaway_repo(tmp_path)
    result = run_hook("stablelint", project, hook_home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "model.py:5:12: STB101" in result.stdout
    assert "clean.py" not in result.stdout.split("Failed")[-1]
    assert (project / "model.py").read_text() == UNSTABLE


def test_fix_hook_rewrites_the_file(tmp_path, hook_home):
    project = throwaway_repo(tmp_path)
    result = run_hook("stablelint-fix", project, hook_home)
    # pre-commit fails a hook that modified files, as it does for every fixer.
    assert result.returncode == 1, result.stdout + result.stderr
    assert (project / "model.py").read_text() == FIXED
    again = run_hook("stablelint-fix", project, hook_home)
    assert again.returncode == 0, again.stdout + again.stderr


def test_hooks_check_and_fix_a_notebook(tmp_path, hook_home):
    nbformat = pytest.importorskip("nbformat")
    v4 = nbformat.v4
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    cells = [
        v4.new_code_cell("import torch"),
        v4.new_markdown_cell("The loss"),
        v4.new_code_cell("%matplotlib inline\nq = torch.log(torch.softmax(x, 1))"),
    ]
    nbformat.write(v4.new_notebook(cells=cells), str(project / "nb.ipynb"))
    git(project, "add", ".")
    result = run_hook("stablelint", project, hook_home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "nb.ipynb:cell 3:2:5: STB101" in result.stdout
    fixed = run_hook("stablelint-fix", project, hook_home)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    notebook = nbformat.read(str(project / "nb.ipynb"), as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells[2].source == "%matplotlib inline\nq = torch.log_softmax(x, 1)"
    assert run_hook("stablelint-fix", project, hook_home).returncode == 0


# -- the README's own configurations


def readme_configs() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("**pre-commit**"):readme.index("**ruff**")]
    return re.findall(r"```yaml\n(.*?)```", section, re.S)


def run_configured(project: Path, config: str, home: Path) -> subprocess.CompletedProcess:
    (project / ".pre-commit-config.yaml").write_text(config)
    git(project, "add", ".")  # pre-commit refuses a configuration that is not staged
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--verbose"],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )


def test_the_readme_names_a_clone_and_a_commit_not_a_placeholder():
    by_commit, local = readme_configs()
    assert "repo: /opt/stablelint" in by_commit and re.search(r"rev: [0-9a-f]{40}\n", by_commit)
    assert "repo: local" in local and "language: python" in local
    assert 'additional_dependencies: ["stablelint @ file:///opt/stablelint"]' in local


def test_the_readmes_commit_form_runs(tmp_path, hook_home):
    by_commit, _ = readme_configs()
    rev = re.search(r"rev: ([0-9a-f]{40})", by_commit).group(1)
    known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{rev}^{{commit}}"], capture_output=True)
    if known.returncode != 0:
        pytest.skip(f"this checkout's history does not have {rev} (a shallow clone?)")
    project = throwaway_repo(tmp_path)
    result = run_configured(project, by_commit.replace("/opt/stablelint", str(ROOT)), hook_home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "model.py:5:12: STB101" in result.stdout
    assert (project / "model.py").read_text() == UNSTABLE


def test_the_readmes_local_form_runs(tmp_path, hook_home):
    _, local = readme_configs()
    source = tmp_path / "stablelint-source"  # a copy: pip builds a folder in place
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "stablelint", source / "stablelint", ignore=shutil.ignore_patterns("__pycache__"))
    project = throwaway_repo(tmp_path)
    result = run_configured(project, local.replace("/opt/stablelint", str(source)), hook_home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "model.py:5:12: STB101" in result.stdout
    assert "clean.py" not in result.stdout.split("Failed")[-1]
