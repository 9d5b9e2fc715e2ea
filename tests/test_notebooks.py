"""Jupyter notebooks end to end: real nbformat-4 files, checked cell by cell with ruff's
positions, fixed in place with every untouched byte kept, IPython syntax left as it was."""

from __future__ import annotations

import json
import os
import sys

import pytest

from stablelint import cli, writer

nbformat = pytest.importorskip("nbformat")
v4 = nbformat.v4

LOG_SOFTMAX = "q = torch.log(torch.softmax(x, 1))"
LOG_SOFTMAX_FIXED = "q = torch.log_softmax(x, 1)"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STABLELINT_DEBUG", raising=False)
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--isolated", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(path, cells, **metadata):
    notebook = v4.new_notebook(cells=cells, metadata=metadata or {"language_info": {"name": "python"}})
    nbformat.validate(notebook)
    nbformat.write(notebook, str(path))
    return path.read_text(encoding="utf-8")


def reread(path):
    notebook = nbformat.read(str(path), as_version=4)
    nbformat.validate(notebook)
    return notebook


def rich_notebook():
    """Markdown with an attachment, outputs with an image, execution counts, metadata, ids."""
    image = {"image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="}
    first = v4.new_code_cell(
        "import torch\n\nx = torch.randn(3, 4) * 1e3", execution_count=1,
        outputs=[v4.new_output("stream", name="stdout", text="tensor(...)\n")],
        metadata={"tags": ["setup"], "collapsed": False},
    )
    note = v4.new_markdown_cell("![plot](attachment:plot.png) see below ü", attachments={"plot.png": image})
    unstable = v4.new_code_cell(
        f"# the loss\n{LOG_SOFTMAX}\nprint(q)", execution_count=2,
        outputs=[v4.new_output("display_data", data=image, metadata={"needs_background": "light"})],
    )
    return [first, note, unstable, v4.new_raw_cell("raw text with torch.log(torch.softmax(x, 1))")]


# -- checking


def test_findings_are_placed_in_cells_numbered_as_ruff_numbers_them(project, capsys):
    # ruff counts every cell, markdown and raw ones included, from 1.
    write(project / "nb.ipynb", rich_notebook())
    code, out, err = run(capsys, "nb.ipynb")
    assert code == 1, err
    assert out.startswith("nb.ipynb:cell 3:2:5: STB101 ")
    assert len(out.splitlines()) == 1  # the raw cell is not code


def test_json_output_carries_the_cell_and_cell_relative_rows(project, capsys):
    write(project / "nb.ipynb", rich_notebook())
    code, out, _ = run(capsys, "--format", "json", "nb.ipynb")
    (item,) = json.loads(out)
    assert item["cell"] == 3 and item["code"] == "STB101"
    assert item["location"] == {"row": 2, "column": 5}
    assert item["end_location"]["row"] == 2 and item["noqa_row"] == 2
    (edit,) = item["fix"]["edits"]
    assert edit["location"]["row"] == 2 and edit["end_location"]["row"] == 2
    line = LOG_SOFTMAX
    start, end = edit["location"]["column"] - 1, edit["end_location"]["column"] - 1
    assert line[:start] + edit["content"] + line[end:] == LOG_SOFTMAX_FIXED


def test_folders_are_walked_for_notebooks_with_excludes_and_gitignore(project, capsys):
    for name in ("a.ipynb", "ignored.ipynb", "skipped/b.ipynb", "sub/c.ipynb"):
        (project / name).parent.mkdir(exist_ok=True)
        write(project / name, [v4.new_code_cell(f"import torch\n{LOG_SOFTMAX}")])
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("ignored.ipynb\n")
    code, out, _ = run(capsys, ".", "--extend-exclude", "skipped")
    assert code == 1
    assert sorted(line.split(":")[0] for line in out.splitlines()) == ["a.ipynb", os.path.join("sub", "c.ipynb")]


def test_a_name_from_an_earlier_cell_is_followed(project, capsys):
    write(project / "nb.ipynb", [
        v4.new_code_cell("import torch\np = torch.softmax(z, dim=1)"),
        v4.new_markdown_cell("Then"),
        v4.new_code_cell("loss = -torch.log(p).mean()"),
        v4.new_code_cell("e = torch.exp(t.tanh() / 1e5)"),
        v4.new_code_cell("w = e - 1"),
    ])
    code, out, _ = run(capsys, "nb.ipynb")
    lines = out.splitlines()
    assert [line.split(": ")[0] for line in lines] == ["nb.ipynb:cell 3:1:9", "nb.ipynb:cell 5:1:5"]
    assert lines[0].split(": ", 1)[1].startswith("STB101 ") and "on line 2 of cell 1" in lines[0]
    assert lines[1].split(": ", 1)[1].startswith("STB107 ") and "on line 1 of cell 4" in lines[1]


def test_a_rebinding_in_a_later_cell_is_seen(project, capsys):
    write(project / "nb.ipynb", [
        v4.new_code_cell("import torch\np = torch.softmax(z, dim=1)"),
        v4.new_code_cell("p = p + 1e-8"),
        v4.new_code_cell("loss = -torch.log(p).mean()"),
    ])
    assert run(capsys, "nb.ipynb")[:2] == (0, "")


MAGICS = (
    "%matplotlib inline\n"
    "!pip install torch\n"
    "files = !ls -la\n"
    "t = %timeit -o f()\n"
    "torch.log?\n"
    "?torch.exp\n"
    "torch.softmax??\n"
    "cd ..\n"
    "!echo one \\\n"
    "   two\n"
    "for i in range(3):\n"
    "    %time g(i)\n"
    "    y = torch.log(torch.softmax(x, 1))\n"
    'doc = """Is this a question?\n'
    '%not a magic, a string\n'
    '%%nor a cell magic\n'
    '"""\n'
    f"{LOG_SOFTMAX}  # after the magics"
)


def test_ipython_syntax_is_masked_and_kept_byte_for_byte(project, capsys):
    path = project / "nb.ipynb"
    before = write(path, [v4.new_code_cell("import torch"), v4.new_code_cell(MAGICS)])
    code, out, err = run(capsys, "nb.ipynb")
    assert code == 1 and err.count("not checked") == 0, err
    assert [line.split(": ")[0] for line in out.splitlines()] == ["nb.ipynb:cell 2:13:9", "nb.ipynb:cell 2:18:5"]

    code, out, err = run(capsys, "--fix", "nb.ipynb")
    assert code == 0, out + err
    expected = MAGICS.replace("    y = torch.log(torch.softmax(x, 1))", "    y = torch.log_softmax(x, 1)")
    expected = expected.replace(LOG_SOFTMAX, LOG_SOFTMAX_FIXED)
    assert reread(path).cells[1].source == expected
    assert "_stablelint" not in path.read_text()
    assert path.read_text() == before.replace(json.dumps(LOG_SOFTMAX)[:-1], json.dumps(LOG_SOFTMAX_FIXED)[:-1]).replace(
        json.dumps("    y = torch.log(torch.softmax(x, 1))\n"), json.dumps("    y = torch.log_softmax(x, 1)\n")
    )


def test_a_cell_magic_cell_is_not_python_and_is_left_alone(project, capsys):
    path = project / "nb.ipynb"
    before = write(path, [
        v4.new_code_cell("%%bash\necho 'torch.log(torch.softmax(x, 1))'"),
        v4.new_code_cell("\n%%time\nimport torch\n" + LOG_SOFTMAX),
    ])
    assert run(capsys, "nb.ipynb")[:2] == (0, "")
    assert run(capsys, "--fix", "nb.ipynb")[0] == 0
    assert path.read_text() == before


def test_a_cell_that_does_not_parse_is_skipped_and_the_rest_is_checked(project, capsys):
    path = project / "nb.ipynb"
    write(path, [
        v4.new_code_cell("import torch"),
        v4.new_code_cell("def broken(:\n    pass"),
        v4.new_code_cell(LOG_SOFTMAX),
    ])
    code, out, err = run(capsys, "nb.ipynb")
    assert code == 1
    assert out.startswith("nb.ipynb:cell 3:1:5: STB101 ")
    assert err.splitlines()[0] == "nb.ipynb:cell 2:1:12: syntax error: invalid syntax (cell not checked)"
    assert "Traceback" not in err

    code, out, err = run(capsys, "--fix", "nb.ipynb")
    assert code == 1 and "cell 2:1:12" in err  # still reported, and the other cell fixed
    cells = reread(path).cells
    assert cells[1].source == "def broken(:\n    pass" and cells[2].source == LOG_SOFTMAX_FIXED


@pytest.mark.parametrize(
    "content, reason",
    [
        ("import torch\nq = torch.log(torch.softmax(x, 1))\n", "invalid JSON: Expecting value: line 1 column 1"),
        ('{"cells": [', "invalid JSON"),
        ("[1, 2]", "not an object"),
        ('{"metadata": {}, "nbformat": 4}', 'no "cells" list'),
        ('{"worksheets": [], "nbformat": 3}', "nbformat 3"),
        ('{"cells": [], "nbformat": 5}', "format 4"),
        ('{"cells": [{"cell_type": "code", "source": 3}], "nbformat": 4}', "source of cell 1 is not text"),
        ('{"cells": [{"source": "x"}], "nbformat": 4}', 'cell 1 has no "cell_type"'),
        ('{"cells": [], "nbformat": 4} x', "Extra data"),
    ],
)
def test_a_file_that_is_not_a_notebook_is_one_line_and_exit_1(project, capsys, content, reason):
    (project / "nb.ipynb").write_text(content)
    (project / "model.py").write_text(f"import torch\n{LOG_SOFTMAX}\n")
    code, out, err = run(capsys, "nb.ipynb", "model.py")
    assert code == 1
    assert out.startswith("model.py:2:5: STB101")  # the rest is checked
    (line,) = [line for line in err.splitlines() if line.startswith("nb.ipynb")]
    assert line.startswith("nb.ipynb: ") and reason in line
    assert run(capsys, "--fix", "nb.ipynb")[0] == 1
    assert (project / "nb.ipynb").read_text() == content


def test_a_notebook_of_another_language_is_not_checked(project, capsys):
    write(project / "nb.ipynb", [v4.new_code_cell(LOG_SOFTMAX)], kernelspec={"name": "ir", "display_name": "R", "language": "R"})
    assert run(capsys, "nb.ipynb")[:2] == (0, "")


def test_noqa_in_a_cell(project, capsys):
    path = project / "nb.ipynb"
    before = write(path, [v4.new_code_cell("import torch"), v4.new_code_cell(f"{LOG_SOFTMAX}  # noqa: STB101")])
    assert run(capsys, "nb.ipynb")[:2] == (0, "")
    assert run(capsys, "--fix", "nb.ipynb")[0] == 0 and path.read_text() == before


# -- fixing


def test_fix_rewrites_only_the_changed_source(project, capsys):
    path = project / "nb.ipynb"
    before = write(path, rich_notebook())
    code, out, err = run(capsys, "--fix", "nb.ipynb")
    assert code == 0, out + err
    assert "1 fixed" in err
    after = path.read_text(encoding="utf-8")
    assert after == before.replace(json.dumps(LOG_SOFTMAX + "\n"), json.dumps(LOG_SOFTMAX_FIXED + "\n"))
    notebook = reread(path)
    assert notebook.cells[2].source == f"# the loss\n{LOG_SOFTMAX_FIXED}\nprint(q)"
    assert run(capsys, "--fix", "nb.ipynb")[:2] == (0, "") and path.read_text(encoding="utf-8") == after


def test_diff_shows_the_change_and_writes_nothing(project, capsys):
    path = project / "nb.ipynb"
    before = write(path, rich_notebook())
    code, out, _ = run(capsys, "--diff", "nb.ipynb")
    assert code == 1
    assert f"-    {json.dumps(LOG_SOFTMAX + chr(10))},\n" in out
    assert f"+    {json.dumps(LOG_SOFTMAX_FIXED + chr(10))},\n" in out
    assert path.read_text(encoding="utf-8") == before


def test_an_import_a_fix_needs_lands_in_the_first_cell(project, capsys):
    path = project / "nb.ipynb"
    write(path, [
        v4.new_code_cell("%load_ext autoreload\nimport numpy as np"),
        v4.new_code_cell("def f(log_p):\n    return np.log(np.sum(np.exp(log_p)))"),
    ])
    assert run(capsys, "--fix", "nb.ipynb")[0] == 1  # the fix is unsafe
    code, out, err = run(capsys, "--fix", "--unsafe-fixes", "nb.ipynb")
    assert code == 0, out + err
    cells = reread(path).cells
    # numpy's last use went with the fix: its import goes too, and the magic stays.
    assert cells[0].source == "import scipy.special\n\n%load_ext autoreload"
    assert cells[1].source == "def f(log_p):\n    return scipy.special.logsumexp(log_p)"


def handwritten(cells_json: str, tail: str = "") -> str:
    return '{"cells": [' + cells_json + '], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}' + tail


@pytest.mark.parametrize(
    "before, after",
    [
        # source as one string: stays one string
        (handwritten('{"cell_type": "code", "execution_count": null, "id": "a1", "metadata": {}, "outputs": [], '
                     '"source": "import torch\\nq = torch.log(torch.softmax(x, 1))"}'),
         handwritten('{"cell_type": "code", "execution_count": null, "id": "a1", "metadata": {}, "outputs": [], '
                     '"source": "import torch\\nq = torch.log_softmax(x, 1)"}')),
        # a list on one line, no final line break in the file, keys in their own order
        (handwritten('{"source": ["import torch\\n", "q = torch.log(torch.softmax(x, 1))"], "outputs": [], '
                     '"metadata": {}, "id": "b2", "execution_count": 3, "cell_type": "code"}'),
         handwritten('{"source": ["import torch\\n", "q = torch.log_softmax(x, 1)"], "outputs": [], '
                     '"metadata": {}, "id": "b2", "execution_count": 3, "cell_type": "code"}')),
        # indented by four, a line break at the end, an escaped non-ASCII character kept escaped
        ('{\n    "cells": [\n        {\n            "cell_type": "code",\n            "execution_count": null,\n'
         '            "id": "c3",\n            "metadata": {},\n            "outputs": [],\n'
         '            "source": [\n                "import torch  # \\u00e9\\n",\n'
         '                "q = torch.log(torch.softmax(x, 1))"\n            ]\n        }\n    ],\n'
         '    "metadata": {},\n    "nbformat": 4,\n    "nbformat_minor": 5\n}\n',
         '{\n    "cells": [\n        {\n            "cell_type": "code",\n            "execution_count": null,\n'
         '            "id": "c3",\n            "metadata": {},\n            "outputs": [],\n'
         '            "source": [\n                "import torch  # \\u00e9\\n",\n'
         '                "q = torch.log_softmax(x, 1)"\n            ]\n        }\n    ],\n'
         '    "metadata": {},\n    "nbformat": 4,\n    "nbformat_minor": 5\n}\n'),
    ],
)
def test_fix_keeps_the_layout_of_the_file(project, capsys, before, after):
    path = project / "nb.ipynb"
    path.write_bytes(before.encode())
    nbformat.validate(reread(path))
    code, out, err = run(capsys, "--fix", "nb.ipynb")
    assert code == 0, out + err
    assert path.read_bytes() == after.encode()
    reread(path)


def test_fix_on_standard_input_writes_the_notebook(project, capsys, monkeypatch):
    import io

    text = write(project / "nb.ipynb", rich_notebook())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    code, out, err = run(capsys, "--fix", "--stdin-filename", "nb.ipynb", "-")
    assert code == 0, err
    assert json.loads(out)["cells"][2]["source"][1] == LOG_SOFTMAX_FIXED + "\n"


def test_a_notebook_that_cannot_be_written_keeps_its_findings(project, capsys, monkeypatch):
    path = project / "nb.ipynb"
    before = write(path, rich_notebook())

    def refuse(path, data, *, expected=None):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(writer, "write_atomically", refuse)
    code, out, err = run(capsys, "--fix", "nb.ipynb")
    assert code == 1 and "nb.ipynb: cannot write the fixes: Permission denied" in err
    assert out.startswith("nb.ipynb:cell 3:2:5: STB101 ")
    assert path.read_text(encoding="utf-8") == before


def test_a_notebook_changed_while_being_fixed_is_left_to_the_other_writer(project, capsys, monkeypatch):
    path = project / "nb.ipynb"
    write(path, rich_notebook())
    theirs = write(project / "theirs.ipynb", [v4.new_code_cell("x = 1")])
    monkeypatch.setattr(writer, "_pause_for_tests", lambda target: path.write_text(theirs, encoding="utf-8"))
    code, _, err = run(capsys, "--fix", "nb.ipynb")
    assert code == 1 and "nb.ipynb: not fixed: the file changed while stablelint ran" in err
    assert path.read_text(encoding="utf-8") == theirs


@pytest.mark.parametrize(
    "text",
    [
        handwritten('{"metadata": {"source": "not this"}, "cell_type": "code", "sou\\u0072ce": ["a\\n", "b"]}'),
        handwritten('{"source": "first", "cell_type": "code", "source": "the last wins"}, '
                    '{"cell_type": "markdown", "source": [], "attachments": {"x": {"source": 1}}}'),
        "\ufeff" + json.dumps({"cells": [{"cell_type": "raw", "source": "é"}], "nbformat": 4}, indent=3) + "\r\n",
    ],
)
def test_the_sources_are_found_where_json_reads_them(text):
    from stablelint.notebook import _source_spans

    cells = json.loads(text.removeprefix("\ufeff"))["cells"]
    spans = _source_spans(text)
    assert [json.loads(text[start:end]) for start, end in spans] == [cell["source"] for cell in cells]
