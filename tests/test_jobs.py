"""How --jobs hands out the files (session._tasks): every file once, the largest first, in
groups that a worker finishes in about the same time."""

from __future__ import annotations

from stablelint import session


def test_every_file_is_in_one_task_and_the_largest_go_first(tmp_path):
    sizes = [10, 5000, 20, 300_000, 0, 40, 7, 120_000] + [100] * 300
    paths = []
    for number, size in enumerate(sizes):
        path = tmp_path / f"f{number}.py"
        path.write_text("x" * size)
        paths.append(str(path))
    paths.append(str(tmp_path / "missing.py"))  # the worker reports it; it still has a task
    tasks = session._tasks(paths, jobs=2)
    handed_out = [index for task in tasks for index in task]
    assert sorted(handed_out) == list(range(len(paths)))
    assert handed_out[:2] == [3, 7]  # 300 kB, then 120 kB
    assert len(tasks[0]) == 1  # a big file is a task of its own
    assert all(len(task) <= 64 for task in tasks)
    assert len(tasks) >= 8  # the small files too are spread over several tasks


def test_a_tree_of_empty_files_still_has_tasks(tmp_path):
    paths = []
    for number in range(200):
        (tmp_path / f"f{number}.py").write_text("")
        paths.append(str(tmp_path / f"f{number}.py"))
    tasks = session._tasks(paths, jobs=2)
    assert sorted(index for task in tasks for index in task) == list(range(200))
    assert all(len(task) <= 64 for task in tasks)
