"""A tool that rewrites people's source must never lose their work, break it, or leave
anything behind: real files, real ``python -m stablelint`` processes, real signals.

``STABLELINT_TEST_PAUSE_BEFORE_WRITE`` (a test hook in writer.py) holds each write between
the new text being ready and the last check that the file is unchanged, and announces
it on standard error: the tests change the file, or send a signal, at that moment.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from stablelint import engine

PAUSE = "STABLELINT_TEST_PAUSE_BEFORE_WRITE"
ANNOUNCED = "stablelint: test pause before writing "
HEADER = "import torch\n\n\ndef f(x):\n"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and uses Linux signals")


def unstable(lines: int, seed: int = 0) -> str:
    return HEADER + "".join(f"    y{i} = torch.log(1 + x.tanh() * {seed + i + 1} / 1e7)\n" for i in range(lines))


def fixed(source: str) -> str:
    return engine.fix_source(source, "module.py").source


def environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in (PAUSE, "STABLELINT_DEBUG")}
    return {**env, **extra}


def stablelint(*args: str, cwd: Path, first: str = "", **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -m stablelint --isolated ARGS``. ``first`` is Python code run in the
    child just before it becomes stablelint (a launcher that execs it), rather than a
    preexec_fn: forking the test process, threads and all, to run Python can deadlock."""
    kwargs.setdefault("env", environment())
    launcher = f"import os, sys\n{first}\nos.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
    return subprocess.run(
        [sys.executable, "-c", launcher, "-m", "stablelint", "--isolated", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, **kwargs,
    )


class Run:
    """A stablelint process in its own process group, its stderr read line by line."""

    def __init__(self, *args: str, cwd: Path, pause: float | None = None):
        env = environment(**({PAUSE: str(pause)} if pause is not None else {}))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stablelint", "--isolated", *args],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        self.group = self.process.pid
        self.stderr: list[str] = []
        self.stdout: list[str] = []
        self.lines: queue.Queue[str] = queue.Queue()
        self.readers = [
            threading.Thread(target=self._read, args=(self.process.stderr, self.stderr, True), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stdout, self.stdout, False), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def wait_until_handling_signals(self, timeout: float = 180) -> None:
        """Until stablelint has its own SIGINT and SIGTERM handlers (``__main__`` sets both,
        SIGTERM second: Python catches only SIGINT by itself). A signal before that meets
        the interpreter still starting -- not stablelint -- and on a loaded machine that
        start can take longer than any fixed delay."""
        sigterm = 1 << (signal.SIGTERM - 1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(f"/proc/{self.process.pid}/status") as file:
                    caught = next(int(line.split()[1], 16) for line in file if line.startswith("SigCgt:"))
            except (OSError, StopIteration):
                caught = 0
            if caught & sigterm or self.process.poll() is not None:
                return
            assert time.monotonic() < deadline, "stablelint did not set its signal handlers"
            time.sleep(0.01)

    def _read(self, stream, into: list[str], announce: bool) -> None:
        for line in stream:
            into.append(line)
            if announce:
                self.lines.put(line)

    def wait_for(self, fragment: str, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line with {fragment!r} on stderr: {''.join(self.stderr)}") from None
            if fragment in line:
                return line

    def finish(self, timeout: float = 180) -> tuple[int, str, str]:
        """Exit status and output; the output's end proves no worker still holds the pipes."""
        code = self.process.wait(timeout=timeout)
        for reader in self.readers:
            reader.join(timeout=60)
            assert not reader.is_alive(), "a process left behind still holds stablelint's stdout or stderr"
        return code, "".join(self.stdout), "".join(self.stderr)


def live_processes_in_group(group: int) -> list[str]:
    """Processes (not zombies) of the process group, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                stat = file.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state not in ("Z", "X"):
            found.append(f"{entry} ({stat[stat.index('(') + 1:stat.rindex(')')]}, state {state})")
    return found


def children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as file:
            found += [int(child) for child in file.read().split()]
    return found


def assert_nothing_left(group: int, folder: Path) -> None:
    # Killed workers (and multiprocessing's resource tracker) end by themselves, soon; on
    # a loaded machine "soon" can be seconds, so the wait is for the condition, generously.
    deadline = time.monotonic() + 60
    while live_processes_in_group(group) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_processes_in_group(group) == []
    assert sorted(str(p) for p in folder.rglob("*.stablelint")) == []


def make_tree(folder: Path, files: int, lines: int) -> dict[Path, tuple[str, str]]:
    """``files`` modules of ``lines`` findings each: path -> (original, fixed)."""
    tree = {}
    expected = fixed(unstable(lines))
    for index in range(files):
        path = folder / f"m{index:02}.py"
        path.write_text(unstable(lines))
        tree[path] = (unstable(lines), expected)
    return tree


# -- 1. an edit made while stablelint runs is never overwritten


def test_a_file_changed_while_being_fixed_is_left_alone_and_the_others_are_fixed(tmp_path):
    (tmp_path / "a.py").write_text(unstable(5))
    (tmp_path / "b.py").write_text(unstable(5))
    other_writer = "# rewritten by another program while stablelint ran\n" + unstable(5, seed=100)
    run = Run("--fix", "a.py", "b.py", cwd=tmp_path, pause=1.0)
    assert run.wait_for(ANNOUNCED).rstrip().endswith("/a.py")
    (tmp_path / "a.py").write_text(other_writer)
    code, _, err = run.finish()
    assert code == 1
    assert "a.py: not fixed: the file changed while stablelint ran" in err
    assert (tmp_path / "a.py").read_text() == other_writer
    assert (tmp_path / "b.py").read_text() == fixed(unstable(5))
    assert "Found 5 errors (5 fixed, 0 remaining)." in err  # a.py's findings are not counted: unknown now
    assert_nothing_left(run.group, tmp_path)


def test_a_hard_linked_file_changed_while_being_fixed_is_left_alone(tmp_path):
    (tmp_path / "a.py").write_text(unstable(5))
    os.link(tmp_path / "a.py", tmp_path / "alias.py")
    other_writer = unstable(5, seed=100)
    run = Run("--fix", "a.py", cwd=tmp_path, pause=1.0)
    run.wait_for(ANNOUNCED)
    with open(tmp_path / "alias.py", "r+") as file:  # the same file, written in place
        file.write(other_writer)
    code, _, err = run.finish()
    assert code == 1 and "a.py: not fixed: the file changed while stablelint ran" in err
    assert (tmp_path / "a.py").read_text() == other_writer


# -- 2 and 5. interrupted: every file original or fixed, no temporary file, no process


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("to", ["parent", "group"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_a_write_completes_that_file_and_stops(tmp_path, signum, to, jobs):
    # The signal arrives while a file is being replaced (the test pause is inside that
    # section): it must wait until the file is complete, then stop the run.
    tree = make_tree(tmp_path, files=20, lines=40)
    # Each write waits 0.5 s: a test held up for a few seconds by a loaded machine still
    # signals long before half the files are written.
    run = Run("--fix", "--jobs", str(jobs), ".", cwd=tmp_path, pause=0.5)
    announced = Path(run.wait_for(ANNOUNCED).rstrip()[len(ANNOUNCED):])  # the real path
    (being_written,) = [path for path in tree if path.resolve() == announced]
    if jobs > 1:
        assert len(children(run.process.pid)) >= jobs  # the workers are running
    if to == "group":
        os.killpg(run.group, signum)
    else:
        run.process.send_signal(signum)
    code, _, err = run.finish()
    assert code == 128 + signum, err
    assert ("stablelint: interrupted" if signum == signal.SIGINT else "stablelint: terminated by SIGTERM") in err
    assert "Traceback" not in err
    contents = {path: path.read_text() for path in tree}
    assert contents[being_written] == tree[being_written][1], "the file being written when the signal came"
    assert all(contents[path] in (original, done) for path, (original, done) in tree.items())
    assert sum(contents[path] == original for path, (original, _) in tree.items()) > len(tree) // 2  # it stopped
    assert_nothing_left(run.group, tmp_path)


@pytest.mark.parametrize(("signum", "to"), [(signal.SIGINT, "group"), (signal.SIGTERM, "parent")])
def test_a_signal_at_any_moment_leaves_no_half_file(tmp_path, signum, to):
    # Without the pause: the signal lands wherever the run is, checking or writing.
    tree = make_tree(tmp_path, files=24, lines=40)
    for delay in (0.6, 1.2):
        for path, (original, _) in tree.items():
            path.write_text(original)
        run = Run("--fix", "--jobs", "2", ".", cwd=tmp_path)
        run.wait_until_handling_signals()  # the moments measured from stablelint's start, not Python's
        time.sleep(delay)
        if to == "group":
            os.killpg(run.group, signum)
        else:
            run.process.send_signal(signum)
        code, _, err = run.finish()
        # 0/1: it had finished before the signal; -signum: it came as Python was exiting,
        # after the run (a shell sees 128 + signum either way).
        assert code in (0, 1, 128 + signum, -signum), err
        assert "Traceback" not in err
        assert all(path.read_text() in texts for path, texts in tree.items())
        assert_nothing_left(run.group, tmp_path)


def test_workers_die_with_a_parent_that_is_killed(tmp_path):
    # SIGKILL cannot be caught: the workers must notice by themselves (PR_SET_PDEATHSIG)
    # and must not keep the caller's stdout and stderr open.
    make_tree(tmp_path, files=40, lines=40)
    run = Run("--jobs", "2", ".", cwd=tmp_path)
    deadline = time.monotonic() + 30
    while len(children(run.process.pid)) < 2:
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.01)
    workers = children(run.process.pid)
    run.process.kill()
    code, _, _ = run.finish()
    assert code == -signal.SIGKILL
    assert_nothing_left(run.group, tmp_path)
    assert not any(os.path.exists(f"/proc/{pid}/status") and "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
                   for pid in workers)


# -- 3. the owner, group and mode stay


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_fix_as_root_keeps_the_owner_group_and_mode(tmp_path):
    script = tmp_path / "model.py"
    script.write_text(unstable(3))
    os.chown(script, 12345, 23456)
    script.chmod(0o640)
    result = stablelint("--fix", "model.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    status = script.stat()
    assert (status.st_uid, status.st_gid, status.st_mode & 0o7777) == (12345, 23456, 0o640)
    assert script.read_text() == fixed(unstable(3))


# -- 6 and 7. ordinary environment problems are one line, never "internal error"


# As root, drop the capabilities that let root read any folder (CAP_DAC_OVERRIDE and
# CAP_DAC_READ_SEARCH) from the bounding set: the program exec'd next lacks them, and the
# folders' permissions apply to it as to a user.
NO_PERMISSION_OVERRIDE = """
if os.geteuid() == 0:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
"""


@pytest.fixture
def locked_folder(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "hidden.py").write_text(unstable(1))
    folder.chmod(0)
    listing = f"import os; os.listdir({str(folder)!r})"
    launcher = f"import os, sys\n{NO_PERMISSION_OVERRIDE}\nos.execv(sys.executable, [sys.executable, '-c', {listing!r}])"
    probe = subprocess.run([sys.executable, "-c", launcher], capture_output=True)
    if probe.returncode == 0:
        folder.chmod(0o755)
        pytest.skip("permissions cannot be made to apply here")
    yield folder
    folder.chmod(0o755)


def test_an_unreadable_folder_named_on_the_command_line_is_one_line(tmp_path, locked_folder):
    (tmp_path / "model.py").write_text(unstable(1))
    result = stablelint("locked", "model.py", cwd=tmp_path, first=NO_PERMISSION_OVERRIDE)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "locked: cannot read the folder: Permission denied"
    assert "internal error" not in result.stderr
    assert result.stdout.startswith("model.py:5:")


def test_an_unreadable_subfolder_is_reported_while_walking(tmp_path, locked_folder):
    (tmp_path / "model.py").write_text(unstable(1))
    result = stablelint(".", cwd=tmp_path, first=NO_PERMISSION_OVERRIDE)
    assert result.returncode == 1
    assert "locked: cannot read the folder: Permission denied" in result.stderr.splitlines()
    assert result.stdout.startswith("model.py:5:")
    # A file behind a folder that cannot be searched: its own line, not "No such file".
    behind = stablelint("locked/hidden.py", cwd=tmp_path, first=NO_PERMISSION_OVERRIDE)
    assert (behind.returncode, behind.stderr.strip()) == (1, "locked/hidden.py: cannot read: Permission denied")


def test_a_removed_current_directory_is_one_line(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    result = stablelint(str(tmp_path), cwd=gone, first=f"os.chdir({str(gone)!r}); os.rmdir({str(gone)!r})")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "stablelint: error: cannot use the current directory: No such file or directory (was it removed?)"
    )


def test_a_config_file_that_is_not_utf8_is_named(tmp_path):
    (tmp_path / "pyproject.toml").write_bytes(b'[tool.stablelint]\nselect = ["STB"]  # caf\xe9\n')
    (tmp_path / "model.py").write_text(unstable(1))
    result = subprocess.run(
        [sys.executable, "-m", "stablelint", "model.py"], cwd=tmp_path, capture_output=True, text=True,
        env=environment(), timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"stablelint: error: {tmp_path / 'pyproject.toml'}: not UTF-8 (byte 0xe9 at offset 41); TOML files are UTF-8"
    )


def test_a_closed_stdin_is_one_line(tmp_path):
    result = stablelint("-", cwd=tmp_path, first="os.close(0)")
    assert (result.returncode, result.stderr.strip()) == (1, "stdin: cannot read: standard input is closed")


def test_a_closed_stdout_still_gives_the_exit_status(tmp_path):
    (tmp_path / "model.py").write_text(unstable(1))
    result = stablelint("-q", "model.py", cwd=tmp_path, first="os.close(1)")
    assert (result.returncode, result.stderr) == (1, "")


def test_nesting_python_compiles_but_the_analysis_cannot_follow_is_one_line(tmp_path):
    # ~1000 unary minus signs compile; the analysis recurses once per level.
    (tmp_path / "deep.py").write_text("import torch\n\ny = torch.log(1 + torch.exp(" + "-" * 990 + "x))\n")
    (tmp_path / "model.py").write_text(unstable(1))
    compile((tmp_path / "deep.py").read_text(), "deep.py", "exec")
    for options in ((), ("--fix",)):
        result = stablelint(*options, "deep.py", "model.py", cwd=tmp_path)
        assert result.returncode == 1
        assert "deep.py: cannot check: too deeply nested (beyond Python's recursion limit)" in result.stderr
        assert "internal error" not in result.stderr


@pytest.mark.parametrize(("depth", "message"), [
    (3000, "deep.py: cannot parse: too deeply nested (beyond Python's recursion limit)"),
    (20000, "deep.py: cannot parse: too deeply nested or too large (the parser ran out of memory)"),
])
def test_nesting_python_cannot_parse_is_a_parse_error_line(tmp_path, depth, message):
    # CPython's parser raises RecursionError, and MemoryError without a message, for these.
    (tmp_path / "deep.py").write_text("import math\n\ny = " + "-" * depth + "math.log(1 + x.tanh() / 1e5)\n")
    result = stablelint("deep.py", cwd=tmp_path)
    assert (result.returncode, result.stderr.strip()) == (1, message)


# -- 9. hard links stay one file


def test_fix_keeps_hard_links(tmp_path):
    (tmp_path / "model.py").write_text(unstable(3))
    os.link(tmp_path / "model.py", tmp_path / "alias.py")
    result = stablelint("--fix", "model.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert os.path.samefile(tmp_path / "model.py", tmp_path / "alias.py")
    assert (tmp_path / "alias.py").read_text() == fixed(unstable(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alias.py", "model.py"]


# -- 10. the bad-input matrix: each case one line on standard error, the right exit status,
#        at once (a timeout), never a traceback or an internal error.
#
# A case is (files to make, arguments, expected exit status, the expected first stderr line);
# `{tmp}` in a line is the test's folder. Files are written by `make_inputs`.

class Fifo:
    """A FIFO in the matrix's files (nobody writes to it: a read would block forever)."""


class Link:
    def __init__(self, target: str):
        self.target = target


UNSTABLE_LINE = "import torch\ny = torch.log(1 + x.tanh() / 1e5)\n"

HUGE_INTEGER_NOTEBOOK = (
    '{"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": "import torch\\n"}], '
    '"metadata": {"n": ' + "9" * 5000 + '}, "nbformat": 4, "nbformat_minor": 5}'
)
DEEP_TOML = "[tool.stablelint]\nselect = " + "[" * 100_000 + "\n"

BAD_INPUTS = {
    "notebook with a 5000-digit integer": (
        {"big.ipynb": HUGE_INTEGER_NOTEBOOK}, ["big.ipynb"], 1,
        "big.ipynb: not a Jupyter notebook: invalid JSON: a number too long to read (more than 4300 digits)",
    ),
    "notebook with a 5000-digit integer, --fix": (
        {"big.ipynb": HUGE_INTEGER_NOTEBOOK}, ["--fix", "big.ipynb"], 1,
        "big.ipynb: not a Jupyter notebook: invalid JSON: a number too long to read (more than 4300 digits)",
    ),
    "notebook with a 5000-digit integer, --add-noqa": (
        {"big.ipynb": HUGE_INTEGER_NOTEBOOK}, ["--add-noqa", "big.ipynb"], 1,
        "big.ipynb: not a Jupyter notebook: invalid JSON: a number too long to read (more than 4300 digits)",
    ),
    "pyproject.toml nested 100,000 deep": (
        {"pyproject.toml": DEEP_TOML, "model.py": "x = 1\n"}, ["!not-isolated", "--config", "pyproject.toml", "model.py"], 2,
        "stablelint: error: {tmp}/pyproject.toml: invalid TOML: nested too deeply",
    ),
    "pyproject.toml nested 100,000 deep, found by walking up": (
        {"pyproject.toml": DEEP_TOML, "model.py": "x = 1\n"}, ["!not-isolated", "model.py"], 2,
        "stablelint: error: {tmp}/pyproject.toml: invalid TOML: nested too deeply",
    ),
    "pyproject.toml nested 100,000 deep, in clean": (
        {"pyproject.toml": DEEP_TOML}, ["!not-isolated", "clean"], 2,
        "stablelint: error: {tmp}/pyproject.toml: invalid TOML: nested too deeply",
    ),
    "pyproject.toml with a 5000-digit integer": (
        {"pyproject.toml": "[tool.stablelint]\nselect = " + "9" * 5000 + "\n", "model.py": "x = 1\n"},
        ["!not-isolated", "model.py"], 2,
        "stablelint: error: {tmp}/pyproject.toml: invalid TOML: a number too long to read (more than 4300 digits)",
    ),
    # FIFOs and devices named on the command line: not opened, one line each, exit 1.
    **{
        f"{name} {' '.join(options)}".strip(): (
            {"f.py": Fifo(), "z.py": Link("/dev/zero"), "u.py": Link("/dev/urandom"), "model.py": UNSTABLE_LINE},
            [*options, name], 1, f"{name}: not a regular file",
        )
        for name in ("f.py", "z.py", "u.py", "/dev/zero")
        for options in ((), ("--fix",), ("--add-noqa",))
    },
    "a FIFO beside a file with a finding": (
        {"f.py": Fifo(), "model.py": UNSTABLE_LINE}, ["f.py", "model.py"], 1, "f.py: not a regular file",
    ),
    "a coding cookie that does not decode the file (utf-16, even length)": (
        {"u16.py": b"# -*- coding: utf-16 -*-\nimport torch\ny = torch.log(1 + x.tanh() / 1e5)\n\n"}, ["u16.py"], 1,
        "u16.py: cannot decode: encoding problem: utf-16",
    ),
    "a coding cookie that does not decode the file, --fix": (
        {"u16.py": b"# -*- coding: utf-16 -*-\nimport torch\ny = torch.log(1 + x.tanh() / 1e5)\n\n"}, ["--fix", "u16.py"], 1,
        "u16.py: cannot decode: encoding problem: utf-16",
    ),
    "a coding cookie of a codec that is not a text encoding": (
        {"r.py": b"# coding: rot13\nx = 1\n"}, ["r.py"], 1, "r.py: cannot decode: encoding problem: rot13",
    ),
    "--explain ''": ({}, ["--explain", ""], 2, "stablelint: error: unknown rule ''; `stablelint rules` lists them"),
    "--per-file-ignores ':STB1'": (
        {"model.py": UNSTABLE_LINE}, ["--per-file-ignores", ":STB1", "model.py"], 2,
        "stablelint: error: --per-file-ignores: an empty pattern before ':STB1' (expected PATTERN:CODES)",
    ),
    "per-file-ignores with an empty pattern in pyproject.toml": (
        {"pyproject.toml": '[tool.stablelint]\nper-file-ignores = { "" = ["STB1"] }\n', "model.py": UNSTABLE_LINE},
        ["!not-isolated", "model.py"], 2,
        'stablelint: error: {tmp}/pyproject.toml: [tool.stablelint] per-file-ignores: an empty pattern '
        '(a path glob such as "tests/**")',
    ),
    **{
        f"server --change-delay {value}": (
            {}, ["server", "--change-delay", value], 2,
            "stablelint: error: --change-delay: expected a number of seconds from 0 to 3600",
        )
        for value in ("nan", "inf", "-1")
    },
}


def make_inputs(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Fifo):
            os.mkfifo(path)
        elif isinstance(content, Link):
            path.symlink_to(content.target)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def run_case(folder: Path, arguments: list[str], **kwargs) -> subprocess.CompletedProcess:
    """``!not-isolated`` first: the config files are read (else ``--isolated``)."""
    if arguments[:1] == ["!not-isolated"]:
        command = [sys.executable, "-m", "stablelint", *arguments[1:]]
    elif arguments[:1] in (["clean"], ["server"]):
        command = [sys.executable, "-m", "stablelint", *arguments]
    else:
        command = [sys.executable, "-m", "stablelint", "--isolated", *arguments]
    kwargs.setdefault("timeout", 60)
    return subprocess.run(command, cwd=folder, capture_output=True, env=environment(), **kwargs)


@pytest.mark.parametrize("case", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_one_line_and_the_right_exit_status(tmp_path, case):
    files, arguments, status, first_line = case
    make_inputs(tmp_path, files)
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file() and not path.is_symlink()}
    result = run_case(tmp_path, arguments)
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == status, stderr
    assert stderr.splitlines()[0] == first_line.format(tmp=tmp_path)
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert len([line for line in stderr.splitlines() if not line.startswith(("Found ", "Added ", "[*]"))]) == 1
    assert {path: path.read_bytes() for path in before} == before  # nothing was written


def test_standard_input_has_a_size_limit_and_dev_zero_is_one_line(tmp_path):
    from stablelint.commands import MAX_STDIN

    with open("/dev/zero", "rb") as zeros:
        result = run_case(tmp_path, ["-"], stdin=zeros)
    assert (result.returncode, result.stderr.decode()) == (
        1, f"stdin: not read: standard input is larger than {MAX_STDIN >> 20} MiB\n"
    )
    # Just under the limit is read and checked.
    source = UNSTABLE_LINE.encode()
    padded = source + b"#" * (MAX_STDIN - len(source) - 1) + b"\n"
    result = run_case(tmp_path, ["-"], input=padded, timeout=300)
    assert result.returncode == 1 and result.stdout.startswith(b"stdin:2:5: STB106"), result.stderr


def test_a_file_replaced_by_a_fifo_after_discovery_is_not_read(tmp_path):
    # What discovery saw can change before the read: the read checks the open file again.
    from stablelint import session

    os.mkfifo(tmp_path / "late.py")
    with pytest.raises(session.NotRegularFile):
        session.read_source(str(tmp_path / "late.py"))
    (tmp_path / "z.py").symlink_to("/dev/zero")
    with pytest.raises(session.NotRegularFile):
        session.read_source(str(tmp_path / "z.py"))
    (tmp_path / "m.py").write_text(UNSTABLE_LINE)
    assert session.read_source(str(tmp_path / "m.py")) == UNSTABLE_LINE.encode()


# -- 11. SIGKILL while fixing leaves a temporary that names its writer; the next --fix there removes it


def test_temporaries_left_by_a_killed_fix_are_removed_by_the_next_fix(tmp_path):
    tree = make_tree(tmp_path, 24, 3)
    run = Run("--fix", "--jobs", "2", ".", cwd=tmp_path, pause=30)
    run.wait_for(ANNOUNCED)
    os.killpg(run.group, signal.SIGKILL)
    run.process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while live_processes_in_group(run.group) and time.monotonic() < deadline:
        time.sleep(0.05)
    [left] = [path.name for path in tmp_path.iterdir() if path.name.endswith(".stablelint")]
    from stablelint import writer

    assert left.startswith(".m") and f"-{run.process.pid}." in left  # it names the process that wrote it
    # A temporary of a writer that is still running (this test) is not touched.
    alive = tmp_path / f".m00.py{writer.temporary_prefix('')[1:]}abcd1234.stablelint"
    alive.write_text("a writer still at work")
    # The leftover is never taken for source by a check, and the next --fix removes it.
    check = stablelint(".", cwd=tmp_path)
    assert check.returncode == 1 and ".stablelint" not in check.stdout + check.stderr
    result = stablelint("--fix", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".stablelint")) == [alive.name]
    assert all(path.read_text() in (original, expected) for path, (original, expected) in tree.items())
    assert all(path.read_text() == expected for path, (_, expected) in tree.items())
