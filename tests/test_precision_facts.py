"""The analysis facts that keep findings to real consequences: digits lost next to 1 per
dtype, how a result is used, and where no gradient flows."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from stablelint.analysis import digits, intervals, uses
from stablelint.analysis import values as v
from stablelint.analysis.gradients import GradientContext
from stablelint.engine import check_source
from stablelint.ir import ImportTable

UNKNOWN = v.Value(v.UNKNOWN)


@pytest.mark.parametrize("dtype, numpy_dtype", [("float16", np.float16), ("float32", np.float32),
                                                ("float64", np.float64)])
def test_half_the_digits_threshold_matches_numpy(dtype, numpy_dtype):
    # At the threshold, log(1 + x) computed in the dtype keeps about half of its digits.
    x = numpy_dtype(digits.half_digits_threshold(dtype))
    naive = np.log(numpy_dtype(1) + x)
    exact = np.log1p(np.float64(x))
    kept = -np.log10(abs(float(naive) - exact) / exact + 1e-300)
    assert digits.DIGITS[dtype] / 2 - 1.5 <= kept <= digits.DIGITS[dtype] / 2 + 1.5


def test_unknown_values_are_no_claim_in_any_dtype():
    assert digits.near_one(UNKNOWN, None, "float32") is None
    assert digits.near_one(UNKNOWN, None, "float16") is None
    assert digits.near_one(UNKNOWN, None, "float64") is None


def test_a_proven_range_decides_where_it_lies_throughout():
    assert digits.near_one(UNKNOWN, intervals.Interval(0.5, 10.0), "float32") is None  # x large
    assert digits.near_one(UNKNOWN, intervals.Interval(-1e-12, 1e-12), "float64") is not None
    assert digits.near_one(UNKNOWN, intervals.Interval(0.0, 1.0), "float64") is None
    assert digits.near_one(UNKNOWN, intervals.Interval(0.0, 1.0), "float32") is None  # reaches large x
    assert digits.near_one(UNKNOWN, intervals.Interval(0.0, 0.0), "float32") is None  # log(1 + 0) is exact
    witness = digits.near_one(UNKNOWN, intervals.Interval(-1e-5, 1e-5), "float32")
    assert witness is not None and witness.lost > digits.DIGITS["float32"] / 2
    # The witness is real: at it, float32's log(1 + x) has lost more than half its digits.
    x = np.float32(witness.witness)
    error = abs(float(np.log(np.float32(1) + x)) - np.log1p(float(x))) / np.log1p(float(x))
    assert error > 10 ** (-digits.DIGITS["float32"] / 2)


def test_a_uniform_draw_is_no_claim():
    draw = v.Value("rand", "torch")
    assert digits.near_one(draw, intervals.Interval(0.0, 1.0), "float32") is None
    assert digits.near_one(v.Value(v.NEG, "torch", (draw,)), intervals.Interval(-1.0, 0.0), "float32") is None


def _first(tree: ast.AST, kind: type) -> ast.AST:
    return next(node for node in ast.walk(tree) if isinstance(node, kind))


@pytest.mark.parametrize("code, reaches", [
    ("y = torch.exp(x) - 1", True),
    ("y = int(torch.exp(x) - 1)", False),
    ("y = round(-(torch.exp(x) - 1))", False),
    ("y = (torch.exp(x) - 1).abs() > clip", False),
    ("y = (torch.exp(x) - 1).abs() > 0", True),
    ("y = (torch.exp(x) - 1).astype(np.int64)", False),
    ("y = f(torch.exp(x) - 1)", True),
    ("y = w * (torch.exp(x) - 1)", True),
])
def test_digits_reach_the_result(code, reaches):
    tree = ast.parse(code)
    difference = next(node for node in ast.walk(tree) if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub))
    assert uses.digits_reach_result(tree, difference) is reaches


def test_a_term_sharing_an_input_may_cancel():
    tree = ast.parse("ratio = torch.exp(logratio)\ny = ((ratio - 1) - logratio).mean()")
    difference = next(node for node in ast.walk(tree) if isinstance(node, ast.BinOp) and ast.unparse(node) == "ratio - 1")
    logratio = tree.body[0].value.args[0]
    assert uses.digits_reach_result(tree, difference, (logratio,)) is True


@pytest.mark.parametrize("code, flows", [
    ("with torch.no_grad():\n    y = f(x)", False),
    ("with torch.inference_mode():\n    y = f(x)", False),
    ("with torch.set_grad_enabled(False):\n    y = f(x)", False),
    ("with torch.set_grad_enabled(True):\n    y = f(x)", True),
    ("@torch.no_grad()\ndef g(x):\n    y = f(x)", False),
    ("def train(x):\n    y = f(x)", True),
    ("def preprocess(x):\n    y = f(x)", False),
    ("class Data(torch.utils.data.Dataset):\n    def __getitem__(self, i):\n        y = f(i)", False),
])
def test_gradient_regions(code, flows):
    tree = ast.parse("import torch\n" + code)
    call = next(node for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "f")
    assert GradientContext(tree, ImportTable.from_tree(tree)).flows(call) is flows


def test_detached_and_numpy_values_take_no_gradient():
    source = (
        "import torch\nimport numpy as np\n"
        "def f(x, h):\n"
        "    a = torch.sqrt(x.detach().var(0)) + 1e-5\n"
        "    b = torch.sqrt(x.var(0)) + 1e-5\n"
        "    return a, b\n"
    )
    found = [(d.line, d.code) for d in check_source(source)]
    assert found == [(5, "STB202")]


@pytest.mark.parametrize("code, target, reaches", [
    ("y = torch.mean(1 - torch.exp(d_real)) - torch.mean(g(d_fake))", "1 - torch.exp(d_real)", False),
    ("y = ((ratio - 1) - logratio).mean()", "ratio - 1", False),  # unless told ratio = exp(logratio):
    ("y = (torch.exp(a) - 1) + self.offset", "torch.exp(a) - 1", False),
    ("y = self.scale * (torch.exp(self.a) - 1) + self.a", "torch.exp(self.a) - 1", True),
    ("y = -np.log(np.pi) - torch.log(1 + x ** 2)", "torch.log(1 + x ** 2)", False),
    ("y = torch.log(1 + (torch.exp(x) - 1))", "torch.exp(x) - 1", True),
    ("y = a * x - (s * (torch.exp(h) - 1.0)) * out", "torch.exp(h) - 1.0", True),
    ("y = b - 0.5 * (torch.exp(h) - 1.0)", "torch.exp(h) - 1.0", False),
    ("y = torch.log(-(torch.exp(x) - 1))", "torch.exp(x) - 1", True),
    ("y = torch.exp(x) - 1", "torch.exp(x) - 1", True),
])
def test_digits_swamped_by_a_term_from_other_inputs(code, target, reaches):
    tree = ast.parse(code)
    difference = next(
        node for node in ast.walk(tree) if isinstance(node, (ast.BinOp, ast.Call)) and ast.unparse(node) == target
    )
    assert uses.digits_reach_result(tree, difference) is reaches


def _call_named(tree: ast.AST, name: str) -> ast.Call:
    return next(node for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == name)


@pytest.mark.parametrize("code, bounds", [
    ("if x > 30:\n    y = x\nelif x < -30:\n    y = 0\nelse:\n    y = torch.exp(x)", (-30.0, 30.0)),
    ("if x < 18:\n    y = torch.exp(x)", (-intervals.INF, 18.0)),
    ("if x >= 20:\n    return x\ny = torch.exp(x)", (-intervals.INF, 20.0)),
    ("y = torch.where(x < 18, torch.exp(x), x)", (-intervals.INF, 18.0)),
    ("y = torch.exp(x)", None),
    ("if x < 18:\n    x = 2 * x\n    y = torch.exp(x)", None),
])
def test_ranges_narrowed_by_branch_conditions(code, bounds):
    from stablelint.analysis import branches

    tree = ast.parse("def f(x):\n" + "\n".join("    " + line for line in code.splitlines()))
    exp = _call_named(tree, "exp")
    found = branches.bounds_at(tree, exp, exp.args[0])
    assert (found.lo, found.hi) == bounds if bounds is not None else found is None


def test_a_where_bounds_the_value_only():
    from stablelint.analysis import branches

    tree = ast.parse("y = torch.where(x < 18, torch.exp(x), x)")
    exp = _call_named(tree, "exp")
    assert branches.bounds_at(tree, exp, exp.args[0], where=False) is None


@pytest.mark.parametrize("code, silent", [
    ("m = x.max(-1, keepdim=True).values\ne = torch.exp(x - m)\ny = e / e.sum(-1, keepdim=True)", True),
    ("def shift(x):\n    return x - x.max(-1, keepdim=True).values\n"
     "def f(x):\n    e = torch.exp(shift(x))\n    return e / e.sum(-1, keepdim=True)", True),
    ("m = torch.clamp(x.amax(-1, keepdim=True), min=torch.finfo(x.dtype).min)\n"
     "e = torch.exp(x - m)\ny = e / e.sum(-1, keepdim=True)", True),
    ("m = y.max(-1, keepdim=True).values\ne = torch.exp(x - m)\nz = e / e.sum(-1, keepdim=True)", False),
    ("m = torch.clamp(x.amax(-1, keepdim=True), max=0.0)\ne = torch.exp(x - m)\nz = e / e.sum(-1, keepdim=True)", False),
])
def test_a_maximum_subtracted_elsewhere(code, silent):
    source = "import torch\n" + code + "\n"
    codes = [d.code for d in check_source(source)]
    assert ("STB103" not in codes) is silent


@pytest.mark.parametrize("code, reported", [
    ("torch.log(torch.softmax(torch.tensor([1.0, 2.0, 3.0]), 0))", False),
    ("torch.log(torch.softmax(torch.tensor([0.0, 500.0]), 0))", True),
])
def test_constant_logits(code, reported):
    codes = [d.code for d in check_source(f"import torch\ny = {code}\n")]
    assert ("STB101" in codes) is reported


@pytest.mark.parametrize("code, said", [
    ("sigma = f(x)", "it is the scale sigma"),
    ("self.w_std = f(x)", "it is the scale w_std"),
    ("d = Normal(mu, f(x))", "it is the scale of Normal"),
    ("d = dist.Normal(loc=mu, scale=f(x))", "it is passed as scale="),
    ("d = HalfNormal(f(x))", "it is the scale of HalfNormal"),
    ("loss = f(x)", None),
    ("sigma = f(x) + 1.0", None),  # computed on: the sum is the scale, not f(x)
    ("d = Normal(f(x), s)", None),  # the location
    ("y = g(f(x))", None),
])
def test_scale_uses(code, said):
    from stablelint.analysis.scales import used_as_scale

    tree = ast.parse(code)
    call = next(node for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "f")
    assert used_as_scale(tree, call) == said


def test_a_softplus_scale_is_reported_for_its_zero_not_its_overflow():
    source = (
        "import torch\n"
        "def scale(rho):\n"
        "    sigma = torch.log(1 + torch.exp(rho))\n"
        "    return sigma\n"
        "def loss(margin):\n"
        "    return torch.log(1 + torch.exp(-margin)).mean()\n"
    )
    by_line = {d.line: d for d in check_source(source) if d.code == "STB108"}
    assert by_line[3].evidence.consequence == "underflow" and "is 0 once 1 + exp(x) rounds to 1" in by_line[3].message
    assert by_line[6].evidence.consequence == "overflow" and "overflows" in by_line[6].message
