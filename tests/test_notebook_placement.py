"""Notebooks in SARIF and GitHub annotations: the region is in the .ipynb file itself (the
line of the JSON that holds the code, the column after the escapes before it), the message
names the cell, and no SARIF fix edits the JSON as if it were the code. Driven through the
CLI in a subprocess; SARIF validated against the official schema."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "tests" / "sarif-schema-2.1.0.json"
nbformat = pytest.importorskip("nbformat")
jsonschema = pytest.importorskip("jsonschema")
v4 = nbformat.v4

# A tab and quotes before the finding: escaped in the JSON, so the file's column differs.
CELL = 'label = "a\\tb"; s = "\\"q\\""\nq = torch.log(torch.softmax(x, 1)); r = 1'
FINDING = "torch.log(torch.softmax(x, 1))"


def stablelint(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("STABLELINT_DOCS_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "stablelint", "--isolated", "--no-cache", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )


def list_form(tmp_path: Path) -> Path:
    cells = [
        v4.new_code_cell("import torch\nx = torch.randn(3, 4) * 1e3"),
        v4.new_markdown_cell("The loss"),
        v4.new_code_cell(CELL),
    ]
    notebook = v4.new_notebook(cells=cells, metadata={"language_info": {"name": "python"}})
    nbformat.write(notebook, str(tmp_path / "nb.ipynb"))
    return tmp_path / "nb.ipynb"


def string_form(tmp_path: Path) -> Path:
    # Sources as one string each (what some tools write): the whole cell is one line of the file.
    notebook = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
             "source": "import torch\nx = torch.randn(3, 4) * 1e3"},
            {"cell_type": "markdown", "metadata": {}, "source": "The loss"},
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": CELL},
        ],
        "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5,
    }
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook, indent=1) + "\n", encoding="utf-8")
    return path


def region_text(path: Path, region: dict) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert region["startLine"] == region["endLine"]
    return lines[region["startLine"] - 1][region["startColumn"] - 1:region["endColumn"] - 1]


@pytest.mark.parametrize("make", [list_form, string_form])
def test_sarif_points_into_the_ipynb_file_and_names_the_cell(tmp_path, make):
    path = make(tmp_path)
    (tmp_path / "model.py").write_text(f"import torch\n\ny = {FINDING}\n")
    result = stablelint(tmp_path, "--format", "sarif", "--exit-zero", "nb.ipynb", "model.py")
    assert result.returncode == 0, result.stderr
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(log)
    by_file = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r for r in log["runs"][0]["results"]}
    notebook, module = by_file["nb.ipynb"], by_file["model.py"]
    region = notebook["locations"][0]["physicalLocation"]["region"]
    text = path.read_text(encoding="utf-8")
    holding = text.splitlines()[region["startLine"] - 1]
    assert "q = torch.log(torch.softmax(x, 1))" in holding  # the JSON line with the code
    assert region_text(path, region) == FINDING
    assert notebook["message"]["text"].startswith("cell 3:2:5: ")
    assert "fixes" not in notebook  # the code's edit is no edit of the JSON
    assert module["fixes"] and module["message"]["text"].startswith("log(softmax")


@pytest.mark.parametrize("make", [list_form, string_form])
def test_github_annotations_point_into_the_ipynb_file(tmp_path, make):
    path = make(tmp_path)
    result = stablelint(tmp_path, "--format", "github", "nb.ipynb")
    assert result.returncode == 1, result.stderr
    (annotation,) = result.stdout.splitlines()
    properties = dict(re.findall(r"(\w+)=([^,:]+)", annotation.split("::")[1]))
    region = {
        "startLine": int(properties["line"]), "startColumn": int(properties["col"]),
        "endLine": int(properties["endLine"]), "endColumn": int(properties["endColumn"]),
    }
    assert properties["file"] == "nb.ipynb"
    assert region_text(path, region) == FINDING
    assert annotation.split("::", 2)[2].startswith("nb.ipynb:cell 3:2:5: STB101 ")
