"""How --jobs hands out the files (session._tasks, session._Claims): every file once, in
groups of neighbours that a worker finishes in about the same time, each worker taking the
groups of its own stretch of the tree."""

from __future__ import annotations

import multiprocessing

from stablelint import session


def test_every_file_is_in_one_task_of_neighbours(tmp_path):
    sizes = [10, 5000, 20, 300_000, 0, 40, 7, 120_000] + [100] * 300
    paths = []
    for number, size in enumerate(sizes):
        path = tmp_path / f"f{number:03}.py"
        path.write_text("x" * size)
        paths.append(str(path))
    paths.append(str(tmp_path / "missing.py"))  # the worker reports it; it still has a task
    paths.reverse()  # the groups follow the paths' order, not the order they were given in
    tasks = session._tasks(paths, jobs=2)
    handed_out = [index for task in tasks for index in task]
    assert sorted(handed_out) == list(range(len(paths)))
    assert [paths[index] for index in handed_out] == sorted(paths)
    big = next(task for task in tasks if paths.index(str(tmp_path / "f003.py")) in task)
    assert paths[big[-1]].endswith("f003.py")  # a big file ends its group
    assert all(len(task) <= 64 for task in tasks)
    assert len(tasks) >= 8  # the small files too are spread over several tasks


def test_each_worker_takes_its_own_stretch_then_half_of_the_rest():
    claims = session._Claims(multiprocessing.get_context("spawn"), 10, jobs=2)
    first, second = claims.join(), claims.join()
    assert (first, second) == (0, 1)
    assert [claims.claim(first) for _ in range(5)] == [0, 1, 2, 3, 4]
    assert claims.claim(second) == 5
    # The first worker's stretch is done: it takes over the back half of what is left.
    assert [claims.claim(first) for _ in range(2)] == [8, 9]
    assert [claims.claim(second) for _ in range(3)] == [6, 7, None]
    assert claims.claim(first) is None


def test_a_tree_of_empty_files_still_has_tasks(tmp_path):
    paths = []
    for number in range(200):
        (tmp_path / f"f{number}.py").write_text("")
        paths.append(str(tmp_path / f"f{number}.py"))
    tasks = session._tasks(paths, jobs=2)
    assert sorted(index for task in tasks for index in task) == list(range(200))
    assert all(len(task) <= 64 for task in tasks)


def test_workers_do_not_import_the_checked_folders_packages(tmp_path):
    """A worker started in a folder holding a package named like a standard module (SciPy's
    `signal`) imports the standard module, not the folder's."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    shadow = tmp_path / "signal"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('the folder shadowed the standard module')\n")
    for number in range(20):
        (tmp_path / f"f{number}.py").write_text("import torch\ny = torch.log(torch.softmax(x, 1))\n")
    # Started as the installed `stablelint` command is: a script whose own folder is first on
    # sys.path (`python -m` would put the checked folder there in this process too).
    scripts = tmp_path.parent / f"{tmp_path.name}-bin"
    scripts.mkdir()
    (scripts / "stablelint").write_text(
        "import sys\nfrom stablelint.__main__ import run\nif __name__ == '__main__':\n    sys.exit(run())\n"
    )
    checkout = str(Path(session.__file__).resolve().parents[1])
    run = subprocess.run(
        [sys.executable, str(scripts / "stablelint"), "--jobs", "2", "--no-cache", "--select", "STB101", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": checkout},
    )
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 1, run.stderr
    assert run.stdout.count("STB101") == 20
