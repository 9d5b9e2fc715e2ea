"""analysis.initial: a tensor made to be trained, read where nothing can have trained it yet."""

from __future__ import annotations

import ast

import pytest

from stablelint.analysis.initial import asks_for_gradient, read_before_any_use
from stablelint.engine import check_source


def _made_and_read(source: str) -> tuple[ast.Module, ast.Call, ast.Name]:
    tree = ast.parse(source)
    made = next(node for node in ast.walk(tree) if isinstance(node, ast.Call) and asks_for_gradient(node))
    read = max((node for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id == "w"
                and isinstance(node.ctx, ast.Load)), key=lambda node: (node.lineno, node.col_offset))
    return tree, made, read


@pytest.mark.parametrize("source, untouched", [
    ("w = torch.zeros(2, requires_grad=True)\ny = x @ w", True),
    ("w = torch.zeros(2, requires_grad=True)\nb = 1\ny = x @ w", True),
    ("w = torch.zeros(2, requires_grad=True)\nopt = SGD([w])\ny = x @ w", False),  # handed to an optimizer
    ("w = torch.zeros(2, requires_grad=True)\nw.data.normal_()\ny = x @ w", False),  # changed in place
    ("w = torch.zeros(2, requires_grad=True)\nfor i in n:\n    y = x @ w", False),  # a loop may train it first
    ("w = torch.zeros(2, requires_grad=True)\ndef f():\n    return x @ w", False),  # runs when called
    ("for i in n:\n    w = torch.zeros(2, requires_grad=True)\n    y = x @ w", True),  # made again each time
    ("w, v = torch.zeros(2, requires_grad=True), 1\ny = x @ w", False),  # not a plain binding
])
def test_read_before_any_use(source, untouched):
    tree, made, read = _made_and_read(source)
    assert read_before_any_use(tree, made, read) is untouched


def test_zero_weights_give_an_exact_logit():
    source = (
        "import torch\n"
        "W = torch.zeros((2, 1), requires_grad=True)\n"
        "b = torch.zeros(1, requires_grad=True)\n"
        "p = 1 / (1 + torch.exp(-(x.matmul(W) + b)))\n"
        "optimizer = torch.optim.SGD([W, b], lr=1)\n"
        "q = 1 / (1 + torch.exp(-(x.matmul(W) + b)))\n"
    )
    lines = [d.line for d in check_source(source) if d.code == "STB111"]
    assert lines == [6]
