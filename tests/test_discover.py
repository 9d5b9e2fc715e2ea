"""Which files a run checks: folders walked, excludes, .gitignore, explicit files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stablelint.config import Settings, load_settings
from stablelint.discover import discover


def make(root: Path, *relative_paths: str, text: str = "x = 1\n") -> None:
    for relative in relative_paths:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def found(root: Path, *paths: str, settings: Settings | None = None) -> list[str]:
    settings = settings or Settings(root=root)
    os.chdir(root)
    return discover(list(paths) or ["."], settings).files


@pytest.fixture(autouse=True)
def _restore_cwd(monkeypatch):
    monkeypatch.chdir(Path.cwd())


def test_walks_python_files_sorted_and_skips_default_excludes(tmp_path):
    make(
        tmp_path,
        "b.py", "a.py", "stubs.pyi", "notes.txt", "script",
        "pkg/z.py", "pkg/sub/y.py",
        ".venv/lib/site.py", "venv/x.py", "build/lib/x.py", "dist/x.py", "node_modules/x.py",
        ".git/hooks/x.py", "__pycache__/x.py", ".tox/x.py", "pkg/.ipynb_checkpoints/x.py",
        "pkg/site-packages/x.py", ".mypy_cache/x.py",
    )
    assert found(tmp_path) == ["a.py", "b.py", "pkg/sub/y.py", "pkg/z.py", "stubs.pyi"]


def test_display_paths_keep_the_folder_given(tmp_path):
    make(tmp_path, "src/pkg/a.py")
    assert found(tmp_path, "src") == ["src/pkg/a.py"]
    assert found(tmp_path, "src/") == ["src/pkg/a.py"]
    assert found(tmp_path, str(tmp_path / "src")) == [str(tmp_path / "src" / "pkg" / "a.py")]


def test_files_named_explicitly_are_always_checked(tmp_path):
    make(tmp_path, "build/gen.py", "script", "ignored.py")
    (tmp_path / ".gitignore").write_text("ignored.py\n")
    assert found(tmp_path, "build/gen.py", "script", "ignored.py") == ["build/gen.py", "ignored.py", "script"]


def test_a_folder_named_explicitly_is_walked_even_if_excluded(tmp_path):
    make(tmp_path, "build/gen.py", "build/dist/x.py")
    assert found(tmp_path, "build") == ["build/gen.py"]


def test_each_file_once(tmp_path):
    make(tmp_path, "a.py", "pkg/b.py")
    assert found(tmp_path, ".", "a.py", "pkg", "./pkg/b.py") == ["a.py", "pkg/b.py"]


def test_missing_paths_are_collected_and_the_rest_still_found(tmp_path):
    make(tmp_path, "a.py")
    os.chdir(tmp_path)
    discovery = discover(["nope.py", "a.py", "gone/"], Settings(root=tmp_path))
    assert discovery.files == ["a.py"]
    assert discovery.missing == ["nope.py", "gone/"]


def test_config_exclude_and_extend_exclude(tmp_path):
    make(tmp_path, "src/a.py", "src/gen/b.py", "third_party/lib/c.py", "proto/x_pb2.py", "build/d.py", "tests/gen/e.py")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.stablelint]\nextend-exclude = ["third_party/**", "*_pb2.py", "src/gen"]\n'
    )
    settings = load_settings(start=tmp_path)
    # src/gen is anchored at the config's folder; tests/gen is not excluded by it.
    assert found(tmp_path, settings=settings) == ["src/a.py", "tests/gen/e.py"]

    (tmp_path / "pyproject.toml").write_text('[tool.stablelint]\nexclude = ["gen"]\n')
    settings = load_settings(start=tmp_path)
    # exclude replaces the defaults (as in ruff and flake8): build/ is walked now.
    assert found(tmp_path, settings=settings) == ["build/d.py", "proto/x_pb2.py", "src/a.py", "third_party/lib/c.py"]


def test_gitignore_is_respected_including_nested_files_and_negation(tmp_path):
    make(tmp_path, "keep.py", "generated.py", "logs/a.py", "pkg/local.py", "pkg/secret.py")
    make(tmp_path, "pkg/deep/gen_x.py", "pkg/deep/gen_keep.py")
    (tmp_path / ".gitignore").write_text("generated.py\nlogs/\ngen_*.py\n")
    (tmp_path / "pkg" / ".gitignore").write_text("secret.py\n")
    (tmp_path / "pkg" / "deep" / ".gitignore").write_text("!gen_keep.py\n")
    assert found(tmp_path) == ["keep.py", "pkg/deep/gen_keep.py", "pkg/local.py"]


def test_gitignore_above_the_walked_folder_counts_inside_a_repository(tmp_path):
    make(tmp_path, "src/a.py", "src/generated/b.py")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("src/generated/\n")
    assert found(tmp_path / "src", ".") == ["a.py"]


def test_git_info_exclude_counts(tmp_path):
    make(tmp_path, "a.py", "local_only.py")
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("local_only.py\n")
    assert found(tmp_path) == ["a.py"]


def test_respect_gitignore_false(tmp_path):
    make(tmp_path, "a.py", "generated.py")
    (tmp_path / ".gitignore").write_text("generated.py\n")
    (tmp_path / "pyproject.toml").write_text("[tool.stablelint]\nrespect-gitignore = false\n")
    assert found(tmp_path, settings=load_settings(start=tmp_path)) == ["a.py", "generated.py"]


def test_force_exclude_applies_the_excludes_to_named_files(tmp_path):
    make(tmp_path, "vendor/x.py", "src/a.py")
    (tmp_path / "pyproject.toml").write_text('[tool.stablelint]\nextend-exclude = ["vendor"]\nforce-exclude = true\n')
    settings = load_settings(start=tmp_path)
    assert found(tmp_path, "vendor/x.py", "src/a.py", settings=settings) == ["src/a.py"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinked_folders_are_not_followed(tmp_path):
    make(tmp_path, "pkg/a.py")
    (tmp_path / "pkg" / "loop").symlink_to(tmp_path / "pkg", target_is_directory=True)
    assert found(tmp_path) == ["pkg/a.py"]


def test_walk_is_fast_and_prunes_excluded_folders(tmp_path, monkeypatch):
    make(tmp_path, *[f"pkg{i}/mod{j}.py" for i in range(20) for j in range(20)])
    make(tmp_path, *[f".venv/lib/m{j}.py" for j in range(50)])
    scanned = []
    real_scandir = os.scandir

    def recording_scandir(path):
        scanned.append(os.path.basename(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", recording_scandir)
    files = found(tmp_path)
    assert len(files) == 400
    assert ".venv" not in scanned and "lib" not in scanned


def test_an_ignored_folder_named_explicitly_is_walked(tmp_path):
    # `stablelint corpus` inside a repository whose .gitignore has `corpus/`: the user
    # asked for it, and the root's other patterns still apply inside it.
    make(tmp_path, "corpus/pkg/a.py", "corpus/pkg/debug_x.py", "src/b.py")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("corpus/\ndebug_*.py\n")
    assert found(tmp_path, "corpus") == ["corpus/pkg/a.py"]
    assert found(tmp_path / "corpus", ".") == ["pkg/a.py"]
    assert found(tmp_path) == ["src/b.py"]
