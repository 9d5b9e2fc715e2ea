"""The content-hash cache (stablelint/cache.py) through the command: what hits, what misses,
and that a cache in any state never changes a result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stablelint import cache as results_cache
from stablelint import cli, engine

UNSTABLE = "import torch\n\n\ndef loss(x):\n    return torch.log(torch.softmax(x, dim=1))\n"
FIXED = "import torch\n\n\ndef loss(x):\n    return torch.log_softmax(x, dim=1)\n"
# STB102 in NumPy: only an unsafe fix, which adds an import.
UNSAFE_ONLY = "import numpy as np\n\n\ndef f(log_p):\n    return np.log(np.sum(np.exp(log_p)))\n"
# exp of a float16 input overflows only when tensors are assumed to be float16 (STB4, opt-in).
HALF_EXP = "import torch\n\n\ndef f(w):\n    h = torch.randn(3) @ w\n    return torch.exp(h)\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STABLELINT_DEBUG", raising=False)
    return tmp_path


@pytest.fixture
def engine_calls(monkeypatch):
    """The paths the engine is really run on (a hit does not run it)."""
    calls: list[str] = []
    real = engine.check_source

    def counted(source, path="<stdin>", **kwargs):
        calls.append(path)
        return real(source, path, **kwargs)

    monkeypatch.setattr(engine, "check_source", counted)
    return calls


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def entries(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and p.name not in (".gitignore", "CACHEDIR.TAG")
    )


def test_an_unchanged_file_is_not_checked_again_and_gives_the_same_output(project, capsys, engine_calls):
    (project / "model.py").write_text(UNSTABLE)
    (project / "other.py").write_text(UNSAFE_ONLY)
    first = run(capsys, "--format", "json", "--unsafe-fixes", "--cache-dir", "c", ".")
    assert sorted(engine_calls) == ["model.py", "other.py"]
    second = run(capsys, "--format", "json", "--unsafe-fixes", "--cache-dir", "c", ".")
    assert sorted(engine_calls) == ["model.py", "other.py"]  # no new call
    assert second == first
    # Everything the JSON needs came back: positions, end positions, messages, fixes and imports.
    items = json.loads(second[1])
    assert {item["code"] for item in items} == {"STB101", "STB102"}
    assert all(item["fix"] and item["fix"]["edits"] and item["end_location"] for item in items)


def test_a_changed_file_is_checked_again(project, capsys, engine_calls):
    (project / "model.py").write_text(UNSTABLE)
    run(capsys, "--cache-dir", "c", "model.py")
    (project / "model.py").write_text(UNSTABLE + "\ny = 1\n")
    code, out, _ = run(capsys, "--cache-dir", "c", "model.py")
    assert engine_calls == ["model.py", "model.py"]
    assert code == 1 and out.startswith("model.py:5:12: STB101 ")


def test_a_file_that_does_not_parse_is_reported_again_from_its_entry(project, capsys, engine_calls):
    (project / "model.py").write_text(UNSTABLE)
    (project / "broken.py").write_text("import torch\n\ndef f(:\n    return torch.log(x)\n")
    first = run(capsys, "--cache-dir", "c", ".")
    assert first[0] == 1 and "broken.py:3:7: syntax error" in first[2]
    assert sorted(engine_calls) == ["broken.py", "model.py"]
    assert run(capsys, "--cache-dir", "c", ".") == first
    assert sorted(engine_calls) == ["broken.py", "model.py"]  # both answered by their entries
    (project / "broken.py").write_text("import torch\n\ndef f(x):\n    return torch.log(x)\n")
    assert "broken.py" not in run(capsys, "--cache-dir", "c", ".")[2]
    assert sorted(engine_calls) == ["broken.py", "broken.py", "model.py"]


def test_the_same_text_under_another_name_is_another_entry(project, capsys, engine_calls):
    (project / "a.py").write_text(UNSTABLE)
    (project / "b.py").write_text(UNSTABLE)
    code, out, _ = run(capsys, "--cache-dir", "c", ".")
    assert sorted(engine_calls) == ["a.py", "b.py"]
    assert [line.split(":")[0] for line in out.splitlines()] == ["a.py", "b.py"]


def test_assume_dtype_is_part_of_the_key(project, capsys, engine_calls):
    (project / "model.py").write_text(HALF_EXP)
    run(capsys, "--cache-dir", "c", "--extend-select", "STB4", "model.py")
    code, out, _ = run(capsys, "--cache-dir", "c", "--extend-select", "STB4", "--assume-dtype", "float16", "model.py")
    assert engine_calls == ["model.py", "model.py"]
    uncached = run(capsys, "--no-cache", "--extend-select", "STB4", "--assume-dtype", "float16", "model.py")
    assert (code, out) == uncached[:2]


def test_selection_noqa_and_per_file_ignores_are_applied_to_cached_findings(project, capsys, engine_calls):
    (project / "model.py").write_text(UNSTABLE)
    assert run(capsys, "--cache-dir", "c", "model.py")[0] == 1
    assert run(capsys, "--cache-dir", "c", "--ignore", "STB101", "model.py")[:2] == (0, "")
    assert run(capsys, "--cache-dir", "c", "--per-file-ignores", "model.py:STB1", "model.py")[:2] == (0, "")
    assert run(capsys, "--cache-dir", "c", "--select", "STB101", "model.py")[0] == 1
    assert engine_calls == ["model.py"]  # one check served them all
    (project / "model.py").write_text(UNSTABLE.replace("dim=1))", "dim=1))  # noqa: STB101"))
    assert run(capsys, "--cache-dir", "c", "model.py")[:2] == (0, "")


def test_a_new_stablelint_is_a_new_rule_set(project, capsys, engine_calls, monkeypatch):
    (project / "model.py").write_text(UNSTABLE)
    run(capsys, "--cache-dir", "c", "model.py")
    monkeypatch.setattr(results_cache, "__version__", "999.0")
    code, out, _ = run(capsys, "--cache-dir", "c", "model.py")
    assert engine_calls == ["model.py", "model.py"]
    assert code == 1 and "STB101" in out
    assert len([p for p in (project / "c").iterdir() if p.is_dir()]) == 2


def test_the_rule_set_digest_follows_the_code_of_the_rules(monkeypatch, tmp_path):
    first = results_cache.rule_set_digest()
    assert results_cache.rule_set_digest() == first
    monkeypatch.setattr(results_cache, "__version__", "999.0")
    assert results_cache.rule_set_digest() != first


@pytest.mark.parametrize(
    "garbage", [b"", b"[", b"not json", b'{"a": 1}', b"[[1, 2]]", b'[[1,1,1,1,"STB101","m",["maybe",[],[],""]]]',
                b'[[1,1,1,1,"STB101","m",["safe",[[5,2,"x"]],[],""]]]', b"\xff\xfe"],
)
def test_a_corrupt_or_partial_entry_is_a_miss_and_is_replaced(project, capsys, engine_calls, garbage):
    (project / "model.py").write_text(UNSTABLE)
    expected = run(capsys, "--cache-dir", "c", "model.py")
    [entry] = entries(project / "c")
    entry.write_bytes(garbage)
    assert run(capsys, "--cache-dir", "c", "model.py") == expected
    assert engine_calls == ["model.py", "model.py"]
    assert run(capsys, "--cache-dir", "c", "model.py") == expected
    assert len(engine_calls) == 2  # the entry was written again, whole


@pytest.mark.parametrize("where", ["a_file/cache", "a_file"])
def test_a_cache_that_cannot_be_made_warns_once_and_the_run_is_uncached(project, capsys, engine_calls, where):
    (project / "a_file").write_text("not a folder\n")
    for name in ("a.py", "b.py"):
        (project / name).write_text(UNSTABLE)
    code, out, err = run(capsys, "--cache-dir", where, ".")
    assert code == 1 and len(out.splitlines()) == 2
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "cache disabled" in warnings[0] and "Traceback" not in err
    assert run(capsys, "-q", "--cache-dir", where, ".")[2] == ""  # -q: not even the warning
    assert len(engine_calls) == 4


def test_entries_that_cannot_be_written_do_not_fail_the_run(project, capsys, engine_calls):
    (project / "model.py").write_text(UNSTABLE)
    run(capsys, "--no-cache", "model.py")
    results_cache.open_cache(project / "c", None)  # made, then taken away file by file
    [rule_set] = [p for p in (project / "c").iterdir() if p.is_dir()]
    (rule_set / "ab").write_text("")  # no shard folder can be made...
    for name in "0123456789abcdef":
        for other in "0123456789abcdef":
            shard = rule_set / (name + other)
            if not shard.exists():
                shard.write_text("")  # ...because a file holds each name
    code, out, err = run(capsys, "--cache-dir", "c", "model.py")
    assert code == 1 and "STB101" in out and "Traceback" not in err
    assert entries(project / "c") == sorted(p for p in rule_set.iterdir())  # nothing else written


def test_no_cache_neither_reads_nor_writes(project, capsys, engine_calls, monkeypatch):
    monkeypatch.delenv(results_cache.ENV_VAR)
    (project / "model.py").write_text(UNSTABLE)
    run(capsys, "--no-cache", "model.py")
    run(capsys, "--no-cache", "model.py")
    assert engine_calls == ["model.py", "model.py"]
    assert not (project / results_cache.DEFAULT_DIR).exists()


def test_the_default_is_a_git_ignored_folder_in_the_project_root(project, capsys, engine_calls, monkeypatch):
    monkeypatch.delenv(results_cache.ENV_VAR)
    (project / "pyproject.toml").write_text("[tool.stablelint]\n")
    (project / "pkg").mkdir()
    (project / "pkg" / "model.py").write_text(UNSTABLE)
    monkeypatch.chdir(project / "pkg")
    run(capsys, "model.py")
    folder = project / results_cache.DEFAULT_DIR
    assert (folder / ".gitignore").read_text() == "*\n"
    assert (folder / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert len(entries(folder)) == 1
    run(capsys, "model.py")
    assert engine_calls == ["model.py"]


def test_where_the_cache_is_option_then_config_then_environment(project, capsys, monkeypatch):
    (project / "model.py").write_text(UNSTABLE)
    monkeypatch.setenv(results_cache.ENV_VAR, str(project / "from_env"))
    run(capsys, "model.py")
    assert len(entries(project / "from_env")) == 1
    (project / "pyproject.toml").write_text('[tool.stablelint]\ncache-dir = "from_config"\n')
    run(capsys, "model.py")
    assert len(entries(project / "from_config")) == 1
    run(capsys, "--cache-dir", "from_option", "model.py")
    assert len(entries(project / "from_option")) == 1


def test_cache_dir_in_the_config_must_be_a_string(project, capsys):
    (project / "pyproject.toml").write_text("[tool.stablelint]\ncache-dir = 3\n")
    (project / "model.py").write_text(UNSTABLE)
    code, _, err = run(capsys, "model.py")
    assert code == 2 and "cache-dir: expected a folder's path" in err


# -- fixing


def test_fix_after_a_check_fixes_from_the_text_not_from_the_entry(project, capsys):
    (project / "model.py").write_text(UNSTABLE)
    (project / "other.py").write_text(UNSAFE_ONLY)
    run(capsys, "--cache-dir", "c", ".")
    code, out, err = run(capsys, "--cache-dir", "c", "--fix", ".")
    assert (project / "model.py").read_text() == FIXED
    assert (project / "other.py").read_text() == UNSAFE_ONLY  # unsafe only: left alone, served by the cache
    assert "1 fixed" in err
    code, out, err = run(capsys, "--cache-dir", "c", "--fix", "--unsafe-fixes", ".")
    assert "scipy" in (project / "other.py").read_text()
    again = run(capsys, "--cache-dir", "c", "--fix", "--unsafe-fixes", ".")
    assert again[0] == 0 and (project / "model.py").read_text() == FIXED


def test_diff_from_a_warm_cache_is_the_same_as_cold(project, capsys):
    (project / "model.py").write_text(UNSTABLE)
    cold = run(capsys, "--no-cache", "--diff", "model.py")
    run(capsys, "--cache-dir", "c", "model.py")
    assert run(capsys, "--cache-dir", "c", "--diff", "model.py") == cold
    assert (project / "model.py").read_text() == UNSTABLE


# -- concurrent runs and --jobs


def _command(*args: str, cwd: Path) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).resolve().parents[1])}
    return subprocess.Popen(
        [sys.executable, "-m", "stablelint", *args], cwd=cwd, env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


# How long a run in a child process may take before the test gives up on it: four cold runs
# at once share the machine with whatever else runs (a full suite on a loaded CI machine),
# so this is a bound on a hang, not an expectation of speed.
RUN_TIMEOUT = 600


def _many_files(folder: Path, count: int = 40) -> None:
    texts = [UNSTABLE, UNSAFE_ONLY, FIXED, "x = 1\n", "import numpy as np\ny = np.log(1 + np.exp(2))\n"]
    for number in range(count):
        (folder / f"m{number:02d}.py").write_text(f"# {number}\n" + texts[number % len(texts)])


def test_concurrent_runs_share_a_cache_and_agree(project):
    _many_files(project)
    expected = subprocess.run(
        [sys.executable, "-m", "stablelint", "--no-cache", "--format", "json", "."], cwd=project,
        env={**os.environ, "PYTHONPATH": str(Path(cli.__file__).resolve().parents[1])}, capture_output=True, text=True,
        timeout=RUN_TIMEOUT,
    ).stdout
    runs = [_command("--cache-dir", "shared", "--format", "json", ".", cwd=project) for _ in range(4)]
    outputs = [run.communicate(timeout=RUN_TIMEOUT) for run in runs]
    assert [run.returncode for run in runs] == [1] * 4
    assert [out for out, _ in outputs] == [expected] * 4
    assert all("Traceback" not in err and "warning" not in err for _, err in outputs)
    # Every entry reads back whole, and a warm run says the same again.
    cache, _ = results_cache.open_cache(project / "shared", None)
    assert len(entries(project / "shared")) == 40
    for module in project.glob("m*.py"):
        data = module.read_bytes()
        assert cache.load(cache.key(str(module), data), "x.py", data.decode(), len(data)) is not None, module
    warm = _command("--cache-dir", "shared", "--format", "json", ".", cwd=project).communicate(timeout=RUN_TIMEOUT)
    assert warm[0] == expected
    assert not [p for p in (project / "shared").rglob(".entry.*")]  # no temporary left


@pytest.mark.parametrize("cached", [False, True])
def test_jobs_2_reports_what_jobs_1_reports(project, cached):
    _many_files(project, 48)
    cache = ["--cache-dir", "c"] if cached else ["--no-cache"]
    one = _command("--jobs", "1", *cache, "--format", "json", "--unsafe-fixes", ".", cwd=project).communicate(
        timeout=RUN_TIMEOUT)
    two = _command("--jobs", "2", *cache, "--format", "json", "--unsafe-fixes", ".", cwd=project).communicate(
        timeout=RUN_TIMEOUT)
    assert json.loads(one[0]) and one == two
    diff_one = _command("--jobs", "1", "--no-cache", "--diff", "--unsafe-fixes", ".", cwd=project).communicate(
        timeout=RUN_TIMEOUT)
    diff_two = _command("--jobs", "2", *cache, "--diff", "--unsafe-fixes", ".", cwd=project).communicate(
        timeout=RUN_TIMEOUT)
    assert diff_one[0] and diff_one == diff_two


def test_clean_removes_the_cache_a_check_here_uses(project, capsys, monkeypatch):
    monkeypatch.delenv(results_cache.ENV_VAR)  # the default folder, in the project
    (project / "model.py").write_text(UNSTABLE)
    assert run(capsys, "model.py")[0] == 1
    folder = project / results_cache.DEFAULT_DIR
    assert entries(folder)
    code, out, err = run(capsys, "clean")
    assert (code, out) == (0, "")
    assert err == f"Removing cache at: {folder}\n"
    assert not folder.exists()
    assert run(capsys, "clean") == (0, "", "")  # nothing left to remove


def test_clean_leaves_a_folder_that_is_not_a_stablelint_cache(project, capsys):
    mine = project / "data"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    code, _, err = run(capsys, "clean", "--cache-dir", "data")
    assert code == 2 and "not a stablelint cache" in err and len(err.splitlines()) == 1
    assert (mine / "keep.txt").read_text() == "mine"


def test_rule_sets_unused_for_a_week_are_pruned_and_recent_ones_kept(project, capsys):
    folder = project / "c"
    old, recent = folder / ("0" * 32), folder / ("1" * 32)
    other = folder / "not-a-rule-set"
    for stale in (old, recent, other):
        (stale / "ab").mkdir(parents=True)
        (stale / "ab" / "entry").write_text("[]")
    week_ago = os.path.getmtime(old) - results_cache.STALE_AFTER - 60
    os.utime(old, (week_ago, week_ago))
    os.utime(other, (week_ago, week_ago))
    (project / "model.py").write_text(UNSTABLE)
    assert run(capsys, "--cache-dir", "c", "model.py")[0] == 1
    assert not old.exists()
    assert recent.exists() and other.exists()
    assert (folder / results_cache.rule_set_digest()).is_dir()


# -- what an entry is trusted with: only what stablelint wrote for this key, and fits the text


def _the_entry(project: Path, module: Path) -> tuple[results_cache.Cache, str, Path]:
    cache, _ = results_cache.open_cache(project / "c", None)
    key = cache.key(str(module), module.read_bytes())
    return cache, key, Path(cache.folder) / key[:2] / key[2:]


def _signed(cache: results_cache.Cache, key: str, items: list) -> bytes:
    """An entry as stablelint writes it (a forger who knows how): header, key, digest of
    the body (these entries rest on their text alone: no record after it)."""
    body = json.dumps(items).encode()
    digest = cache._body_digest(key, body)
    return f"stablelint-cache {results_cache.FORMAT} {key} {digest}\n".encode() + body


def test_an_entry_holds_its_key_and_the_digest_of_its_body(project, capsys, engine_calls):
    (project / "model.py").write_text(UNSTABLE)
    expected = run(capsys, "--cache-dir", "c", "model.py")
    cache, key, entry = _the_entry(project, project / "model.py")
    header, _, body = entry.read_bytes().partition(b"\n")
    assert header.split()[:3] == [b"stablelint-cache", str(results_cache.FORMAT).encode(), key.encode()]
    # An empty list would hide the finding: with the old digest, with another key's, or without a header.
    other_key = "0" * 40
    for forged in (header + b"\n[]", _signed(cache, other_key, []), b"[]", _signed(cache, key, [])[:-1] + b" ]"):
        entry.write_bytes(forged)
        assert run(capsys, "--cache-dir", "c", "model.py") == expected
    assert len(engine_calls) == 5  # each forged entry was a miss, then written again


BAD_ITEMS = {
    "negative position": [-5, -3, -5, -3, "STB101", "m", None, None],
    "line past the end": [99999, 1, 99999, 2, "STB101", "m", None, None],
    "column past the line": [5, 500, 5, 501, "STB101", "m", None, None],
    "ends before it starts": [5, 12, 4, 1, "STB101", "m", None, None],
    "unknown code": [5, 12, 5, 20, "XYZ999", "m", None, None],
    "escape sequence": [5, 12, 5, 20, "STB101", "\x1b[2J\x1b[31mowned", None, None],
    "escape sequence in evidence": [5, 12, 5, 20, "STB101", "m", None, {"dtype": "float32", "consequence": "overflow", "range": "\x1b[2J"}],
    "evidence that is not evidence": [5, 12, 5, 20, "STB101", "m", None, {"dtype": "float32"}],
    "edit past the text": [5, 12, 5, 20, "STB101", "m", ["safe", [[0, 10**6, "x"]], [], "d"], None],
    "import that is code": [5, 12, 5, 20, "STB101", "m", ["safe", [[0, 0, ""]], [["os; os.system('x')", None, None]], "d"], None],
}


@pytest.mark.parametrize("item", BAD_ITEMS.values(), ids=BAD_ITEMS.keys())
def test_a_well_signed_entry_that_does_not_fit_the_text_is_a_miss(project, capsys, engine_calls, item):
    (project / "model.py").write_text(UNSTABLE)
    expected = run(capsys, "--cache-dir", "c", "model.py")
    cache, key, entry = _the_entry(project, project / "model.py")
    entry.write_bytes(_signed(cache, key, [item]))
    for format in ("text", "full", "github"):
        code, out, err = run(capsys, "--format", format, "--cache-dir", "c", "model.py")
        assert code == 1 and "\x1b" not in out + err and "internal error" not in err
        assert "-5" not in out and "99999" not in out and "XYZ999" not in out
    assert run(capsys, "--cache-dir", "c", "model.py") == expected
    assert len(engine_calls) == 2  # the forged entry was a miss once, and replaced


def test_a_well_signed_entry_that_fits_is_a_hit(project, capsys, engine_calls):
    # The converse, so the test above cannot pass by never reading an entry.
    (project / "model.py").write_text(UNSTABLE)
    run(capsys, "--cache-dir", "c", "model.py")
    cache, key, entry = _the_entry(project, project / "model.py")
    entry.write_bytes(_signed(cache, key, [[5, 12, 5, 20, "STB106", "a stored message", None, None]]))
    code, out, _ = run(capsys, "--cache-dir", "c", "model.py")
    assert (code, out) == (1, "model.py:5:12: STB106 a stored message\n")
    assert engine_calls == ["model.py"]


def test_the_codes_read_from_the_rule_modules_are_the_registry_s():
    from stablelint.rules import ALL_RULES

    assert results_cache.rule_codes() == {rule.code for rule in ALL_RULES}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero", "link to the source", "too large"])
def test_an_entry_that_is_not_a_regular_file_of_bounded_size_is_a_miss(project, capsys, kind):
    (project / "model.py").write_text(UNSTABLE)
    expected = subprocess.run(
        [sys.executable, "-m", "stablelint", "--cache-dir", "c", "model.py"], cwd=project, capture_output=True,
        text=True, timeout=120,
    )
    _, key, entry = _the_entry(project, project / "model.py")
    entry.unlink()
    if kind == "fifo":
        os.mkfifo(entry)
    elif kind == "too large":
        entry.write_bytes(b"x" * (results_cache.max_entry_size(len(UNSTABLE)) + 1))
    else:
        entry.symlink_to("/dev/zero" if kind == "link to /dev/zero" else project / "model.py")
    # A separate process with a timeout: a FIFO read would block it, /dev/zero would fill memory.
    again = subprocess.run(
        [sys.executable, "-m", "stablelint", "--cache-dir", "c", "model.py"], cwd=project, capture_output=True,
        text=True, timeout=60,
    )
    assert (again.returncode, again.stdout, again.stderr) == (expected.returncode, expected.stdout, expected.stderr)


def test_a_symlinked_cache_folder_to_a_folder_that_is_not_a_cache_is_not_written(project, capsys):
    mine = project / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    (project / "c").symlink_to(mine)
    (project / "model.py").write_text(UNSTABLE)
    code, out, err = run(capsys, "--cache-dir", "c", "model.py")
    assert code == 1 and "STB101" in out
    assert f"stablelint: warning: cache disabled: {project / 'c'}: a symbolic link to a folder that is not a " \
           "stablelint cache (not followed)" in err.splitlines()
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def test_a_symlinked_cache_folder_to_an_empty_folder_or_a_cache_is_used_and_clean_removes_the_link(
    project, capsys, engine_calls
):
    moved = project / "elsewhere"
    moved.mkdir()
    (project / "c").symlink_to(moved)
    (project / "model.py").write_text(UNSTABLE)
    assert run(capsys, "--cache-dir", "c", "model.py")[0] == 1
    assert results_cache.is_cache(moved) and entries(moved)
    assert run(capsys, "--cache-dir", "c", "model.py")[2].count("warning") == 0
    assert engine_calls == ["model.py"]  # the second run read the entry through the link
    # A link inside the cache is never followed.
    [rule_set] = [p for p in moved.iterdir() if p.is_dir()]
    for shard in list(rule_set.iterdir()):
        target = project / f"shard-{shard.name}"
        shard.rename(target)
        shard.symlink_to(target)
    assert run(capsys, "--cache-dir", "c", "model.py")[0] == 1
    assert len(engine_calls) == 2
    code, _, err = run(capsys, "clean", "--cache-dir", "c")
    assert code == 0 and not (project / "c").is_symlink()
    assert moved.is_dir() and results_cache.is_cache(moved)  # what the link named stays, as with ruff
