"""--add-noqa through the real command on real files: where each directive goes (the line
flake8 reads it from), merging with the codes already there, nothing else touched, the
file written as --fix writes it, and a second run adding nothing."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys

import pytest
from test_cli import run

from stablelint import session

SOURCE = '''\
import numpy as np
import torch


def f(x, p):
    a = torch.log(torch.softmax(x, dim=1))  # noqa: E501
    b = torch.log(1 + x.tanh() / 1e5)  # why
    c = torch.log(torch.softmax(x, dim=1)) + torch.log(1 + x.tanh() / 1e5)
    d = torch.log(
        torch.sigmoid(x))
    e = np.log(np.sum(np.exp(x * log_p))) + \\
        torch.log(1 + x.tanh() / 1e5)
    g = """
    """ + str(torch.exp(x.tanh() / 1e5) - 1)
    h = torch.log(1 + x.tanh() / 1e5)  # noqa: STB106
    k = torch.log(1 + x.tanh() / 1e5)  # noqa:E731,STB106 ,  explained
    m = torch.log(torch.softmax(x, 1))  # NOQA: W291  and a reason
    return a, b, c, d, e, g, h, k, m
'''
EXPECTED = '''\
import numpy as np
import torch


def f(x, p):
    a = torch.log(torch.softmax(x, dim=1))  # noqa: E501, STB101
    b = torch.log(1 + x.tanh() / 1e5)  # why  # noqa: STB106
    c = torch.log(torch.softmax(x, dim=1)) + torch.log(1 + x.tanh() / 1e5)  # noqa: STB101, STB106
    d = torch.log(  # noqa: STB104
        torch.sigmoid(x))
    e = np.log(np.sum(np.exp(x * log_p))) + \\
        torch.log(1 + x.tanh() / 1e5)  # noqa: STB102, STB106
    g = """
    """ + str(torch.exp(x.tanh() / 1e5) - 1)  # noqa: STB107
    h = torch.log(1 + x.tanh() / 1e5)  # noqa: STB106
    k = torch.log(1 + x.tanh() / 1e5)  # noqa:E731,STB106 ,  explained
    m = torch.log(torch.softmax(x, 1))  # noqa: STB101, W291  and a reason
    return a, b, c, d, e, g, h, k, m
'''


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STABLELINT_DEBUG", raising=False)
    return tmp_path


def test_adds_one_directive_per_line_on_the_line_flake8_reads(project, capsys):
    (project / "m.py").write_text(SOURCE)
    assert run(capsys, "m.py")[0] == 1
    code, out, err = run(capsys, "--add-noqa", "m.py")
    assert code == 0 and out == ""
    assert err.strip() == "Added 7 noqa directives."
    assert (project / "m.py").read_text() == EXPECTED
    # Every finding is now silenced, in stablelint and in flake8 alike.
    assert run(capsys, "m.py")[0] == 0
    flake8 = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "STB", "m.py"], capture_output=True, text=True
    )
    assert flake8.returncode == 0 and flake8.stdout == "", flake8.stdout + flake8.stderr


def test_lines_without_findings_are_untouched(project, capsys):
    (project / "m.py").write_text(SOURCE)
    run(capsys, "--add-noqa", "m.py")
    before, after = SOURCE.splitlines(), (project / "m.py").read_text().splitlines()
    assert len(before) == len(after)
    changed = [number for number, (old, new) in enumerate(zip(before, after), 1) if old != new]
    assert changed == [6, 7, 8, 9, 12, 14, 17]
    for number in changed:  # the code before the comment is kept as it was
        assert after[number - 1].startswith(before[number - 1].split("  #")[0])


def test_a_second_run_adds_nothing_and_writes_nothing(project, capsys):
    path = project / "m.py"
    path.write_text(SOURCE)
    run(capsys, "--add-noqa", "m.py")
    once = path.read_bytes()
    inode = path.stat().st_ino
    code, _, err = run(capsys, "--add-noqa", "m.py")
    assert code == 0 and err.strip() == "Added 0 noqa directives."
    assert path.read_bytes() == once and path.stat().st_ino == inode  # not even rewritten


def test_selection_decides_which_codes_are_added(project, capsys):
    (project / "m.py").write_text("import torch\ny = torch.log(torch.softmax(x, 1)) + torch.log(1 + x.tanh() / 1e5)\n")
    code, _, err = run(capsys, "--add-noqa", "--select", "STB106", "m.py")
    assert code == 0 and "Added 1 noqa directive." in err
    assert (project / "m.py").read_text().endswith("torch.log(1 + x.tanh() / 1e5)  # noqa: STB106\n")


def test_crlf_bom_and_a_missing_final_newline_are_kept(project, capsys):
    source = "\ufeffimport torch\r\ny = torch.log(1 + x.tanh() / 1e5)\r\nz = torch.log(1 + x.tanh() / 1e5)"
    (project / "m.py").write_bytes(source.encode("utf-8"))
    run(capsys, "--add-noqa", "m.py")
    expected = "\ufeffimport torch\r\ny = torch.log(1 + x.tanh() / 1e5)  # noqa: STB106\r\nz = torch.log(1 + x.tanh() / 1e5)  # noqa: STB106"
    assert (project / "m.py").read_bytes() == expected.encode("utf-8")


def test_written_as_fix_writes_the_file_mode_kept_and_no_temporary_file(project, capsys):
    path = project / "m.py"
    path.write_text("import torch\ny = torch.log(1 + x.tanh() / 1e5)\n")
    path.chmod(0o640)
    run(capsys, "--add-noqa", "m.py")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(os.listdir(project)) == ["m.py"]


def test_a_file_that_changes_meanwhile_is_left_alone(project, capsys, monkeypatch):
    path = project / "m.py"
    path.write_text("import torch\ny = torch.log(1 + x.tanh() / 1e5)\n")
    real_check = session.check_text

    def edited_while_checking(*args, **kwargs):
        result = real_check(*args, **kwargs)
        path.write_text("# edited by someone else\n")
        return result

    monkeypatch.setattr(session, "check_text", edited_while_checking)
    code, _, err = run(capsys, "--add-noqa", "m.py")
    assert code == 1 and "the file changed while stablelint ran" in err
    assert path.read_text() == "# edited by someone else\n"


def test_file_level_noqa_and_unparsable_files(project, capsys):
    (project / "skip.py").write_text("# flake8: noqa\nimport torch\ny = torch.log(1 + x.tanh() / 1e5)\n")
    (project / "broken.py").write_text("import torch\ny = torch.log(1 + x\n")
    code, _, err = run(capsys, "--add-noqa", "skip.py", "broken.py")
    assert code == 1 and "broken.py:" in err and "Added 0 noqa directives." in err
    assert (project / "skip.py").read_text() == "# flake8: noqa\nimport torch\ny = torch.log(1 + x.tanh() / 1e5)\n"
    assert (project / "broken.py").read_text() == "import torch\ny = torch.log(1 + x\n"


@pytest.mark.parametrize("options", [["--fix"], ["--diff"]])
def test_cannot_be_combined_with_fixing(project, capsys, options):
    (project / "m.py").write_text(SOURCE)
    code, _, err = run(capsys, "--add-noqa", *options, "m.py")
    assert code == 2 and len(err.splitlines()) == 1 and "--add-noqa" in err
    assert (project / "m.py").read_text() == SOURCE


def test_standard_input_is_refused(project):
    result = subprocess.run(
        [sys.executable, "-m", "stablelint", "--add-noqa", "-"], input=SOURCE, capture_output=True, text=True
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "standard input" in result.stderr


# -- notebooks: the directive goes into the cell's source, the rest of the file stays its bytes

NOTEBOOK_LAYOUTS = {
    # nbformat's own layout: indent 1, sources as lists of lines, ids, outputs, metadata
    "nbformat": None,
    "one line, string sources": (
        '{"cells": [{"cell_type": "markdown", "id": "m0", "metadata": {}, "source": "# title \\u00fc"}, '
        '{"cell_type": "code", "execution_count": 4, "id": "a1", "metadata": {"tags": ["x"]}, '
        '"outputs": [{"name": "stdout", "output_type": "stream", "text": "1\\n"}], '
        '"source": "import torch\\nq = torch.log(torch.softmax(x, 1))\\n%timeit q"}], '
        '"metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}'
    ),
    "indented by four, keys reordered, a list on one line": (
        '{\n    "nbformat": 4,\n    "nbformat_minor": 5,\n    "metadata": {},\n    "cells": [\n        {\n'
        '            "source": ["import torch\\n", "y = torch.log(1 + x.tanh() / 1e5)  # why\\n", "print(y)"],\n'
        '            "outputs": [],\n            "metadata": {},\n            "id": "b2",\n'
        '            "execution_count": null,\n            "cell_type": "code"\n        }\n    ]\n}\n'
    ),
}


def _nbformat_notebook(path) -> None:
    nbformat = pytest.importorskip("nbformat")
    v4 = nbformat.v4
    cells = [
        v4.new_code_cell("import torch\n\nx = torch.randn(3, 4) * 1e3", execution_count=1,
                         outputs=[v4.new_output("stream", name="stdout", text="tensor(...)\n")],
                         metadata={"tags": ["setup"]}),
        v4.new_markdown_cell("see below ü"),
        v4.new_code_cell("# the loss\nq = torch.log(torch.softmax(x, 1))\n!ls\nprint(q)", execution_count=2,
                         outputs=[v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="}, metadata={})]),
        v4.new_code_cell("y = torch.log(1 + x.tanh() / 1e5)  # noqa: E501\n"),
    ]
    nbformat.write(v4.new_notebook(cells=cells, metadata={"language_info": {"name": "python"}}), str(path))


def _without_sources(notebook: dict) -> dict:
    return {**notebook, "cells": [{k: v for k, v in cell.items() if k != "source"} for cell in notebook["cells"]]}


@pytest.mark.parametrize("layout", NOTEBOOK_LAYOUTS)
def test_add_noqa_in_a_notebook_writes_the_cell_source_and_keeps_everything_else(project, capsys, layout):
    import json

    path = project / "nb.ipynb"
    if NOTEBOOK_LAYOUTS[layout] is None:
        _nbformat_notebook(path)
    else:
        path.write_text(NOTEBOOK_LAYOUTS[layout], encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    found = run(capsys, "--isolated", "nb.ipynb")
    findings = found[1].count("\n")
    assert found[0] == 1 and findings >= 1

    code, out, err = run(capsys, "--isolated", "--add-noqa", "nb.ipynb")
    after = path.read_text(encoding="utf-8")
    assert code == 0 and out == ""
    assert err == f"Added {findings} noqa directive{'s' if findings != 1 else ''}.\n"
    old, new = json.loads(before), json.loads(after)  # valid JSON, always
    assert _without_sources(new) == _without_sources(old)  # outputs, metadata, ids, other cells
    # The directives are all that changed (at the ends of lines, or merged into a noqa there):
    # the layout is kept, and the count says what was written.
    directive = re.compile(r"(?:, |  # noqa: )STB1\d\d")
    assert directive.sub("", after) == before
    assert len(directive.findall(after)) == findings
    # The directives work, and a second run adds nothing and writes nothing.
    assert run(capsys, "--isolated", "nb.ipynb")[:2] == (0, "")
    assert run(capsys, "--isolated", "--add-noqa", "nb.ipynb")[:3] == (0, "", "Added 0 noqa directives.\n")
    assert path.read_text(encoding="utf-8") == after
    if NOTEBOOK_LAYOUTS[layout] is None:
        import nbformat

        nbformat.validate(nbformat.read(str(path), as_version=4))


def test_add_noqa_on_a_project_of_notebooks_and_modules(project, capsys):
    import json

    for number, text in enumerate(value for value in NOTEBOOK_LAYOUTS.values() if value):
        (project / f"nb{number}.ipynb").write_text(text, encoding="utf-8")
    _nbformat_notebook(project / "nb9.ipynb")
    (project / "model.py").write_text("import torch\ny = torch.log(1 + x.tanh() / 1e5)\n")
    (project / "broken.ipynb").write_text('{"cells": [', encoding="utf-8")
    code, _, err = run(capsys, "--isolated", "--add-noqa", ".")
    assert code == 1  # broken.ipynb could not be read; the others got their directives
    assert err.splitlines()[0].startswith("broken.ipynb: not a Jupyter notebook: invalid JSON")
    assert err.splitlines()[-1] == "Added 5 noqa directives."
    assert (project / "broken.ipynb").read_text(encoding="utf-8") == '{"cells": ['
    for path in project.glob("nb*.ipynb"):
        json.loads(path.read_text(encoding="utf-8"))
    assert run(capsys, "--isolated", ".", "--extend-exclude", "broken.ipynb")[:2] == (0, "")
