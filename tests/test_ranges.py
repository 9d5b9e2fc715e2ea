"""The ranges the analysis gives expressions (``Ranges``, read by the STB4xx rules): what
the code establishes is a claim, what comes from something unknown is not."""

from __future__ import annotations

import ast
import math
import textwrap

import pytest

from stablelint.analysis.model import FileModel
from stablelint.engine import check_source
from stablelint.ir import ImportTable, SourceIndex
from stablelint.rules.base import Context

PRELUDE = "import torch\nimport torch.nn as nn\nimport numpy as np\n"


def range_of(expression: str):
    source = PRELUDE + f"y = {expression}\n"
    tree = ast.parse(source)
    ctx = Context(FileModel("t.py", SourceIndex(source), ImportTable.from_tree(tree), tree))
    value = ctx.value(tree.body[-1].value)
    return ctx.range(value), ctx.known_ends(value)


@pytest.mark.parametrize(
    "expression, low, high, ends",
    [
        ("torch.relu(h)", 0.0, math.inf, (True, False)),
        ("torch.rand(3)", 0.0, 1.0 - 2.0 ** -24, (True, True)),
        ("1 - nn.Linear(3, 3)(h)", -math.inf, math.inf, (True, True)),
        ("torch.softmax(h, 0) + 1e-8", 1e-8, 1.0 + 1e-8, (True, True)),
        ("torch.clamp(h, min=1e-6)", 1e-6, math.inf, (True, False)),
        ("torch.clamp(h, 0.0, 1.0)", 0.0, 1.0, (True, True)),
        ("h.std(0)", 0.0, math.inf, (True, False)),
        ("torch.exp(torch.linspace(0, 100, 5))", 1.0, math.inf, (True, True)),
        ("torch.sigmoid(torch.full((3,), 20.0))", 1.0, 1.0, (True, True)),
        ("torch.tanh(h) * 2", -2.0, 2.0, (True, True)),
    ],
)
def test_established_ranges(expression, low, high, ends):
    interval, known = range_of(expression)
    assert interval is not None
    assert interval.lo == pytest.approx(low, rel=1e-6, abs=1e-12)
    assert interval.hi == pytest.approx(high, rel=1e-6) if math.isfinite(high) else interval.hi == high
    assert known == ends


@pytest.mark.parametrize("expression", ["h", "h + 1", "torch.exp(h)", "h ** 2", "torch.abs(h)", "h / 3", "h @ w - h"])
def test_computed_from_unknown_is_unknown(expression):
    interval, _ = range_of(expression)
    assert interval is None


def test_float32_rounds_a_clamp_bound_to_one():
    interval, _ = range_of("1 - torch.clamp(h, 1e-8, 1 - 1e-8)")
    assert interval.lo <= 0.0  # 1 - 1e-8 is 1.0 in float32: 1 - p reaches 0


def test_unknown_is_never_a_hazard():
    code = """
    import torch
    def f(x, y):
        return torch.log(x), torch.exp(y), x / y, torch.sqrt(x - y), torch.log(torch.abs(x)), torch.exp(x) / (y @ x)
    """
    assert [d.code for d in check_source(textwrap.dedent(code), "t.py") if d.code.startswith("STB4")] == []


def test_an_array_filled_in_place_has_no_constant_range():
    code = """
    import numpy as np
    def merge(unique_inverse, scores):
        scores_max = np.max(scores)
        new_scores = np.zeros_like(scores)
        np.add.at(new_scores, unique_inverse, np.exp(scores - scores_max))
        return np.log(new_scores) + scores_max
    """
    assert check_source(textwrap.dedent(code), "t.py") == []


def test_a_quotient_of_bounded_values_proves_no_negative_sqrt():
    code = """
    import torch
    def step(t):
        a = torch.clamp(torch.cos(t), 0.0001, 0.9999)
        b = torch.clamp(torch.cos(t + 1), 0.0001, 0.9999)
        alpha = a / b
        return ((1 - alpha) * (1.0 - b) / (1.0 - a)).sqrt()
    """
    assert [d.code for d in check_source(textwrap.dedent(code), "t.py")] == []


@pytest.mark.parametrize(
    "code, reported",
    [
        ("torch.exp(torch.linspace(0, 20, 5, dtype=torch.float16))", True),  # 20 > 11.09 in float16
        ("torch.exp(torch.linspace(0, 20, 5, dtype=torch.float16).float())", False),
        ("torch.exp(torch.linspace(0, 20, 5).half())", True),
        ("torch.exp(torch.linspace(0, 20, 5).to(torch.float16))", True),
        ("torch.exp(torch.linspace(0, 20, 5))", False),
    ],
)
def test_the_dtype_the_code_gives_sets_the_overflow_bound(code, reported):
    source = f"import torch\ny = {code}\n"
    assert [d.code for d in check_source(source, "t.py")] == (["STB402"] if reported else [])


def test_assume_dtype_sets_the_bound_where_the_code_says_nothing():
    source = "import torch\nimport numpy as np\ny = torch.exp(torch.linspace(0, 20, 5))\nz = np.exp(np.linspace(0, 20, 5))\n"
    assert check_source(source, "t.py") == []
    found = check_source(source, "t.py", dtype="float16")
    assert [(d.line, d.code) for d in found] == [(3, "STB402")]  # NumPy stays float64
    assert "float16" in found[0].message
