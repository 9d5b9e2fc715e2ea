"""Analysis facts of where a value can be exactly the zero vector (``analysis.zeros``), of
test code (``analysis.test_code``) and of constructor sizes held by names (``analysis.shapes``)."""

from __future__ import annotations

import ast

import pytest

from stablelint.analysis.test_code import TestCode, is_test_module
from stablelint.engine import check_source


def _norm_reported(body: str) -> bool:
    source = "import torch\nimport torch.nn as nn\n\ndef f(x, y, mask, layer, ids):\n" + "\n".join(
        "    " + line for line in body.splitlines())
    return "STB205" in [d.code for d in check_source(source + "\n    return torch.sqrt((v ** 2).sum(-1))\n")]


@pytest.mark.parametrize("body, reported", [
    ("v = x - y", True),
    ("v = torch.relu(x)", True),
    ("v = x * mask", True),
    ("v = x * (y > 0)", True),
    ("v = torch.autograd.grad(x.sum(), y, create_graph=True)[0]", True),
    ("grads = x\nv = grads", True),
    ("v = nn.Linear(3, 4)(torch.relu(x))", True),
    ("v = x - 1.0", False),
    ("v = x", False),
    ("v = nn.Linear(3, 4)(x)", False),
    ("v = 2 * nn.Linear(3, 4)(x) + 1", False),
    ("v = torch.randn(4, 3)", False),
    ("v = y + torch.randn_like(y)", False),
])
def test_a_norm_is_reported_where_the_code_can_compute_the_zero_vector(body, reported):
    assert _norm_reported(body) is reported


@pytest.mark.parametrize("path, module", [
    ("tests/utils/torchutils_test.py", True), ("pkg/test_flows.py", True), ("repo/tests/framework/graphs.py", True),
    ("conftest.py", True), ("pkg/flows.py", False), ("scripts/test.py", False), (None, False),
])
def test_test_modules_by_name_and_directory(path, module):
    assert is_test_module(path) is module


@pytest.mark.parametrize("path, source, inside", [
    ("tests/a_test.py", "def test_x():\n    y = 1\n", True),
    ("tests/a_test.py", "def helper():\n    y = 1\n", False),
    ("tests/a_test.py", "def test():\n    y = 1\n", False),  # a bare ``test`` is often an evaluation loop
    ("pkg/model.py", "def test_x():\n    y = 1\n", False),
    ("pkg/model.py", "class TestFlow:\n    def test_x(self):\n        y = 1\n", True),
    ("pkg/model.py", "class FlowTests(unittest.TestCase):\n    def testInverse(self):\n        y = 1\n", True),
    ("pkg/model.py", "class FlowTests(unittest.TestCase):\n    def setUp(self):\n        y = 1\n", False),
    ("tests/a_test.py", "def test_x():\n    def inner():\n        y = 1\n", True),
])
def test_test_functions(path, source, inside):
    tree = ast.parse(source)
    assignment = next(node for node in ast.walk(tree) if isinstance(node, ast.Assign))
    assert TestCode(tree, path).contains(assignment) is inside


@pytest.mark.parametrize("body, reported", [
    ("size = 10\nm = torch.randn(size, size)", False),
    ("size = 64\nm = torch.randn(size, size)", True),
    ("n = 8\nm = torch.randn((2 * n, 2 * n))", True),
    ("n = 4\nm = torch.zeros(n, n) + torch.randn(n, n)", False),
    ("m = torch.randn(k, k)", True),
])
def test_sizes_held_by_names_prove_a_matrix_small(body, reported):
    source = "import torch\n\ndef f(k):\n" + "\n".join("    " + line for line in body.splitlines()) + (
        "\n    return torch.log(torch.abs(torch.det(m)))\n")
    assert ("STB601" in [d.code for d in check_source(source)]) is reported


@pytest.mark.parametrize("body, reported", [
    ("x = (self.w @ self.u.t()).squeeze()", False),
    ("x = self.rho", False),
    ("x = 2 * self.rho - 1", False),
    ("x = self.schedule(1.0)", False),
    ("x = self.schedule(t)", True),
    ("x = z @ self.w.t()", True),
    ("x = self.fc(z)", True),
])
def test_values_of_trained_parameters_alone_stay_below_exp_bounds(body, reported):
    source = (
        "import torch\nimport torch.nn as nn\n\nclass Flow(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.w = nn.Parameter(torch.randn(1, 2))\n"
        "        self.u = nn.Parameter(torch.randn(1, 2))\n        self.rho = nn.Parameter(torch.zeros(3))\n"
        "        self.fc = nn.Linear(2, 1)\n\n    def forward(self, z, t):\n"
        f"        {body}\n        return torch.log1p(torch.exp(x))\n"
    )
    assert ("STB108" in [d.code for d in check_source(source)]) is reported


@pytest.mark.parametrize("logits, reported", [
    ("torch.autograd.Variable(torch.rand(3, 5), requires_grad=True)", True),  # logits a cross-entropy drives apart
    ("torch.autograd.Variable(torch.rand(3, 5))", True),
])
def test_logits_held_as_marked_tensors_are_not_declared_parameters(logits, reported):
    source = (
        "import torch\nimport torch.nn.functional as F\n\ndef fit(y_one_hot):\n"
        f"    z = {logits}\n    p = F.softmax(z, dim=1)\n    return (y_one_hot * -torch.log(p)).sum(1).mean()\n"
    )
    assert ("STB101" in [d.code for d in check_source(source)]) is reported


def test_a_product_of_two_weights_is_no_layer_output_of_data():
    source = (
        "import tensorflow as tf\n\ndef flow(z):\n    w = tf.Variable(tf.zeros([4, 1]))\n"
        "    u = tf.Variable(tf.zeros([4, 1]))\n    d = tf.matmul(w, u, transpose_a=True)\n"
        "    e = tf.matmul(z, w)\n    return tf.exp(d), tf.exp(e)\n"
    )
    assert [(d.code, d.line) for d in check_source(source) if d.code == "STB124"] == [("STB124", 8)]
