"""Autocast blocks set the dtype ops compute in: matmuls and Linear/conv layers in the
autocast dtype, exp/log/softmax/sum in float32, the rest in their inputs' dtype."""

from __future__ import annotations

import ast
import textwrap

import pytest

from stablelint.analysis.model import FileModel
from stablelint.ir import ImportTable, SourceIndex
from stablelint.rules.base import Context


def dtypes(body: str, assumed: str | None = None) -> dict[str, str]:
    """The dtype of every ``name = ...`` assigned in ``body``, as the rules see it."""
    source = "import torch\nimport torch.nn as nn\nfrom torch.cuda.amp import autocast\n" + textwrap.dedent(body)
    tree = ast.parse(source)
    ctx = Context(FileModel("t.py", SourceIndex(source), ImportTable.from_tree(tree), tree, dtype=assumed))
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = ctx.dtype_of(ctx.value(node.value))
    return found


@pytest.mark.parametrize(
    "opener, lower",
    [
        ('torch.autocast("cuda")', "float16"),
        ('torch.autocast(device_type="cuda")', "float16"),
        ('torch.autocast("cpu")', "bfloat16"),
        ('torch.autocast("cuda", dtype=torch.bfloat16)', "bfloat16"),
        ("torch.cuda.amp.autocast()", "float16"),
        ("autocast()", "float16"),
        ("torch.cpu.amp.autocast()", "bfloat16"),
    ],
)
def test_an_autocast_block_lowers_matmuls_and_keeps_exp_in_float32(opener, lower):
    found = dtypes(f"""
        with {opener}:
            m = x @ w
            shifted = (x @ w) + 1e-8
            e = torch.exp(x @ w)
            s = torch.softmax(x @ w, -1)
        after = x @ w
    """)
    assert (found["m"], found["shifted"]) == (lower, lower)
    assert (found["e"], found["s"]) == ("float32", "float32")
    assert found["after"] == "float32"  # outside the block: the default


def test_a_disabled_block_inside_autocast_computes_in_the_inputs_dtype():
    found = dtypes("""
        with torch.autocast("cuda"):
            low = x @ w
            with torch.autocast("cuda", enabled=False):
                full = x @ w
    """)
    assert found["low"] == "float16"
    assert found["full"] == "float32"


def test_a_decorated_function_is_an_autocast_region():
    found = dtypes("""
        @torch.autocast("cuda")
        def forward(x, w):
            m = x @ w
            return m
    """)
    assert found["m"] == "float16"


def test_a_device_set_elsewhere_is_no_claim():
    found = dtypes("""
        with torch.autocast(device_type=x.device.type):
            m = x @ w
    """, assumed="float64")
    assert found["m"] == "float64"  # the assume-dtype setting, not a guess


def test_an_explicit_cast_wins_over_the_block():
    found = dtypes("""
        with torch.autocast("cuda"):
            m = (x @ w).float()
            k = (x @ w).float() + 1e-8
    """)
    assert (found["m"], found["k"]) == ("float32", "float32")


def test_a_linear_layer_in_an_autocast_block_overflows_exp_at_the_float32_bound():
    source = textwrap.dedent("""
        import torch
        import torch.nn as nn

        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)

            def forward(self, x):
                with torch.autocast("cuda"):
                    return torch.exp(self.fc(x))
    """)
    from stablelint.engine import check_source

    found = [d for d in check_source(source, "t.py", dtype="float16") if d.code in ("STB124", "STB402")]
    assert [d.code for d in found] == ["STB124"]  # a layer's raw output: the default rule's, not STB402's
    assert "in float32" in found[0].message  # exp is on autocast's float32 list
