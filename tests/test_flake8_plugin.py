"""flake8 --select STB shows what stablelint shows: same lines, columns and codes."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from stablelint.engine import check_source

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = '''\
import numpy as np
import torch
import torch.nn.functional as F


def losses(x, z, t):
    p = F.softmax(z, -1)
    a = torch.log(p)
    b = x.exp().sum(1).log()  # noqa: STB102
    c = np.log(1 + np.exp(t))  # noqa
    e = torch.exp(x.tanh() / 1e5)
    label = "é" * 3; d = e - 1
    return torch.log(torch.softmax(
        x,  # comment inside the call
        dim=1,
    )), a, b, c, d
'''


def flake8(*args: str, cwd: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", *args], cwd=cwd, capture_output=True, text=True
    )
    assert result.returncode in (0, 1), result.stderr
    return sorted(result.stdout.splitlines())


def test_plugin_is_registered_under_stb():
    plugins = {entry.name: entry.value for entry in entry_points(group="flake8.extension")}
    assert plugins.get("STB") == "stablelint.flake8_plugin:Plugin"


def test_flake8_reports_the_engine_findings_at_the_same_positions(tmp_path):
    (tmp_path / "sample.py").write_text(SAMPLE, encoding="utf-8")
    reported = flake8("--select", "STB", "sample.py", cwd=tmp_path)
    expected = sorted(
        f"sample.py:{d.line}:{d.col}: {d.code} {d.message}"
        for d in check_source(SAMPLE, "sample.py")
        if d.line not in (9, 10)  # the two noqa lines
    )
    assert reported == expected
    assert sorted(line.split(": ")[1].split()[0] for line in reported) == ["STB101", "STB101", "STB107"]
    # the non-ASCII string before `d = e - 1`: columns count characters, as in flake8
    assert "sample.py:12:26: STB107" in " ".join(reported)  # 27 if it counted UTF-8 bytes


def test_flake8_without_select_still_runs_the_plugin(tmp_path):
    (tmp_path / "sample.py").write_text(SAMPLE, encoding="utf-8")
    reported = flake8("--extend-select", "STB", "sample.py", cwd=tmp_path)
    assert any(": STB101 " in line for line in reported)


def test_assume_dtype_is_a_flake8_option_too(tmp_path):
    (tmp_path / "m.py").write_text("import torch\ny = torch.exp(torch.linspace(0, 20, 5))\n")
    assert flake8("--select", "STB", "m.py", cwd=tmp_path) == []
    # STB4xx is opt-in: named by flake8's selection, as by stablelint's.
    assert flake8("--select", "STB", "--stablelint-assume-dtype", "float16", "m.py", cwd=tmp_path) == []
    [line] = flake8("--select", "STB,STB4", "--stablelint-assume-dtype", "float16", "m.py", cwd=tmp_path)
    assert line.startswith("m.py:2:5: STB402") and "float16" in line
