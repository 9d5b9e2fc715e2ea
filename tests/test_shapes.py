"""Shapes the analysis gives values (analysis.shapes): constructors, broadcasting and
reductions over literal dims; unknown stays unknown."""

from __future__ import annotations

import ast

import pytest

from stablelint.analysis.model import FileModel
from stablelint.ir import ImportTable, SourceIndex
from stablelint.rules.base import Context

PRELUDE = "import torch\nimport numpy as np\nimport jax\nimport jax.numpy as jnp\nimport tensorflow as tf\n"


def shape_of(expression: str):
    source = PRELUDE + f"y = {expression}\n"
    tree = ast.parse(source)
    ctx = Context(FileModel("t.py", SourceIndex(source), ImportTable.from_tree(tree), tree))
    return ctx.shape(ctx.value(tree.body[-1].value))


@pytest.mark.parametrize(
    "expression, shape",
    [
        ("torch.rand(3, 5)", (3, 5)),
        ("torch.randn((2, 4))", (2, 4)),
        ("torch.zeros(7)", (7,)),
        ("torch.zeros(2, 3, 4)", (2, 3, 4)),
        ("np.random.rand(4)", (4,)),
        ("np.zeros((2, 3))", (2, 3)),
        ("np.full((2, 3), 0.5)", (2, 3)),
        ("torch.linspace(0, 1, 9)", (9,)),
        ("jax.random.normal(key, (3, 2))", (3, 2)),
        ("tf.zeros([4, 1])", (4, 1)),
        ("torch.exp(torch.rand(3, 5)) * 2", (3, 5)),
        ("torch.rand(3, 1) + torch.rand(5)", (3, 5)),
        ("torch.rand(3, 5).sum(1)", (3,)),
        ("torch.rand(3, 5).sum(-1, keepdim=True)", (3, 1)),
        ("torch.rand(3, 5).sum()", ()),
        ("np.sum(np.zeros((2, 3)), axis=0)", (3,)),
    ],
)
def test_shapes_the_code_pins_down(expression, shape):
    assert shape_of(expression) == shape


@pytest.mark.parametrize("expression", ["x", "torch.exp(x)", "torch.rand(3, 5).sum(d)", "torch.rand(*dims)",
                                        "torch.rand(3, 5).sum(1, keepdim=keep)", "torch.rand_like(x)"])
def test_unknown_stays_unknown(expression):
    assert shape_of(expression) is None
