"""Facts that prove a value bounded or guarded where a formula runs: selections by ``where``
and by masks multiplied in, values bounded by construction, and values no gradient reaches."""

from __future__ import annotations

import ast

import pytest

from stablelint.analysis import branches, intervals
from stablelint.engine import check_source


def _call_named(tree: ast.AST, name: str) -> ast.Call:
    return next(
        node for node in ast.walk(tree)
        if isinstance(node, ast.Call) and (getattr(node.func, "attr", "") or getattr(node.func, "id", "")) == name
    )


@pytest.mark.parametrize("code, bounds", [
    ("m = (d > 1e-5).float()\ny = m * torch.log(d) + (1 - m) * g", (1e-5, intervals.INF)),
    ("m = (d > 1e-5).float()\ny = m * g + (1.0 - m) * torch.log(d)", (-intervals.INF, 1e-5)),
    ("y = tf.cast(d > 0.5, tf.float32) * tf.math.log(d)", (0.5, intervals.INF)),
    ("y = (d < 3).astype(np.float32) * np.log(d)", (-intervals.INF, 3.0)),
    ("y = (d > 2).type_as(g) * torch.log(d)", (2.0, intervals.INF)),
    ("m = (d > 1e-5).float()\nm = m * 2\ny = m * torch.log(d)", None),  # bound twice: not a mask
    ("y = w * torch.log(d)", None),
])
def test_a_mask_multiplied_in_selects(code, bounds):
    tree = ast.parse("def f(d, g, w):\n" + "\n".join("    " + line for line in code.splitlines()))
    log = _call_named(tree, "log")
    found = branches.bounds_at(tree, log, log.args[0], masks=True)
    assert (found.lo, found.hi) == bounds if bounds is not None else found is None
    assert branches.bounds_at(tree, log, log.args[0]) is None  # 0 * log(0) is NaN: finite branches only


@pytest.mark.parametrize("code, reported", [
    ("d = torch.sigmoid(a) - torch.sigmoid(b)\n"
     "y = torch.where(d > 1e-5, torch.log(torch.clamp(d, min=1e-12)), g)", False),
    ("d = torch.sigmoid(a) - torch.sigmoid(b)\n"
     "m = (d > 1e-5).float()\ny = m * torch.log(d.clamp(min=1e-12)) + (1 - m) * g", False),
    ("d = torch.sigmoid(a) - torch.sigmoid(b)\n"
     "y = torch.where(d > 1e-5, torch.log(d), g)", True),  # no floor: NaN gradient through the other branch
    ("d = torch.sigmoid(a) - torch.sigmoid(b)\n"
     "y = torch.where(d > -1.0, torch.log(torch.clamp(d, min=1e-12)), g)", False),  # the floor alone keeps it finite
    ("d = torch.sigmoid(a) - torch.sigmoid(b)\ny = torch.log(d + 1e-7)", False),
    ("d = torch.sigmoid(a) - torch.sigmoid(b)\ny = torch.log(d.clamp(min=1e-46))", True),  # 0 in float32
    ("d = torch.sigmoid(a) - torch.sigmoid(b)\ny = torch.log(d)", True),
    ("d = torch.sigmoid(a) - torch.sigmoid(b)\n"
     "m = (d > 1e-5).float()\ny = m * torch.log(d) + (1 - m) * g", True),  # no floor: 0 * -inf = NaN
])
def test_a_log_sigmoid_difference_guarded_by_a_floor(code, reported):
    source = "import torch\ndef f(a, b, g):\n" + "\n".join("    " + line for line in code.splitlines()) + "\n"
    codes = [d.code for d in check_source(source)]
    assert ("STB119" in codes) is reported


@pytest.mark.parametrize("code, read_only", [
    ("norms = torch.sqrt(s)\nif torch.max(norms).item() < tol:\n    pass", True),
    ("norms = torch.sqrt(s)\nprint(float(norms.sum()))", True),
    ("norms = torch.sqrt(s)\nok = norms.max() < tol", True),
    ("norms = torch.sqrt(s)\nwriter.add_scalar('norm', norms.mean(), step)", True),
    ("norms = torch.sqrt(s)\nlabel = f'{norms.max():.3f}'", True),
    ("norms = torch.sqrt(s)\nprint(norms.max().item())\nloss = norms.mean()", False),
    ("norms = torch.sqrt(s)\nreturn norms", False),
    ("self.norms = torch.sqrt(s)", False),
    ("y = f(torch.sqrt(s)).item()", False),
])
def test_values_only_read_as_numbers(code, read_only):
    from stablelint.analysis.gradients import only_read_without_gradient

    tree = ast.parse("def f(s, tol):\n" + "\n".join("    " + line for line in code.splitlines()))
    assert only_read_without_gradient(tree, _call_named(tree, "sqrt")) is read_only


@pytest.mark.parametrize("code, flows", [
    ("u = torch.randn(3, 4)", False),
    ("u = torch.rand(3, 4) * 2 - 1", False),
    ("u = x + torch.randn_like(x)", True),
    ("u = torch.randn(3, 4)\nu.requires_grad_()", True),
])
def test_random_draws_take_no_gradient(code, flows):
    source = "import torch\ndef f(x):\n" + "\n".join("    " + line for line in code.splitlines()) + (
        "\n    return torch.sqrt((torch.relu(u) ** 2).sum(-1))\n")
    assert ("STB205" in [d.code for d in check_source(source)]) is flows


@pytest.mark.parametrize("code, reported", [
    ("m, _ = torch.max(x, dim=1, keepdim=True)\nx0 = x - m\nif not keep:\n    m = m.squeeze(1)\n"
     "y = m + torch.log(torch.sum(torch.exp(x0), dim=1))", False),
    ("m, _ = torch.max(x, dim=1, keepdim=True)\nif keep:\n    m = x.mean(1, keepdim=True)\nx0 = x - m\n"
     "y = torch.log(torch.sum(torch.exp(x0), dim=1))", True),
    ("_, m = torch.max(x, dim=1, keepdim=True)\nx0 = x - m\nif not keep:\n    m = m.squeeze(1)\n"
     "y = torch.log(torch.sum(torch.exp(x0), dim=1))", True),  # the indices, not the maximum
])
def test_a_maximum_read_before_a_branch_rebinds_it(code, reported):
    source = "import torch\ndef f(x, keep):\n" + "\n".join("    " + line for line in code.splitlines()) + (
        "\n    return y\n")
    assert ("STB102" in [d.code for d in check_source(source)]) is reported


@pytest.mark.parametrize("code, norm_above_zero", [
    ("a = np.array([0, 1])\nb = np.array([1, 0])\nd = b - a", True),
    ("a = np.array([0.0, 1.0])\nd = -(2 * a + 1)", True),
    ("a = np.array([1.0, 2.0])\nd = a - np.array([1.0, 2.0])", False),
    ("a = np.array([1.0, 2.0])\nd = a - np.array([1.0, 2.0, 3.0])", False),  # other shapes: no claim
    ("a = np.array([1.0, 2.0])\nd = a - x", False),
])
def test_norms_of_exact_vectors(code, norm_above_zero):
    source = "import numpy as np\ndef f(x):\n" + "\n".join("    " + line for line in code.splitlines()) + (
        "\n    return np.dot(d, x) / (np.linalg.norm(d) * np.linalg.norm(np.array([1.0, 0.0])))\n")
    assert ("STB204" not in [d.code for d in check_source(source)]) is norm_above_zero


@pytest.mark.parametrize("code, reported", [
    ("m = torch.rand(10, 10)\ny = torch.log(torch.exp(m / 2) + torch.exp(-m / 2))", False),
    ("m = torch.randn(10, 10) * 1000\ny = torch.log(torch.exp(m / 2) + torch.exp(-m / 2))", True),
    ("m = torch.rand(10, 10)\ny = torch.log(torch.exp(m) - torch.exp(-m))", True),
])
def test_logaddexp_of_arguments_inside_the_range_of_exp(code, reported):
    source = "import torch\ndef f():\n" + "\n".join("    " + line for line in code.splitlines()) + (
        "\n    return y\n")
    assert ("STB109" in [d.code for d in check_source(source)]) is reported


def test_a_module_object_of_another_file_sees_the_arguments_of_each_call(tmp_path):
    import textwrap

    from stablelint.analysis import project

    files = {
        "pyproject.toml": "[tool.stablelint]\n",
        "activations.py": """\
            import numpy as np


            class Sigmoid:
                def __call__(self, x):
                    return 1 / (1 + np.exp(-x))
        """,
        "losses.py": """\
            import numpy as np

            from activations import Sigmoid


            class LogisticLoss:
                def __init__(self):
                    self.log_func = Sigmoid()

                def clipped(self, y, y_pred):
                    p = self.log_func(np.clip(y_pred, 1e-15, 1 - 1e-15))
                    return y * np.log(p) + (1 - y) * np.log(1 - p)

                def raw(self, y, y_pred):
                    p = self.log_func((y_pred @ np.ones((3, 3))).astype(np.float32))
                    return y * np.log(p)
        """,
    }
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    project.reset()
    path = tmp_path / "losses.py"
    found = [(d.line, d.code) for d in check_source(path.read_text(), str(path))]
    assert found == [(16, "STB104")]


@pytest.mark.parametrize("code, reported", [
    ("y = math.log(1 + math.exp(x @ w))", False),  # math.exp raises: no inf carried on
    ("y = np.log(1 + np.exp(x @ log_w))", True),  # NumPy's float64 exp of log-weights overflows to inf
])
def test_python_floats_raise_instead_of_overflowing(code, reported):
    source = f"import math\nimport numpy as np\ndef f(x, w):\n    {code}\n    return y\n"
    assert ("STB108" in [d.code for d in check_source(source)]) is reported


@pytest.mark.parametrize("code, reported", [
    ("z = torch.randn(1, 16)\nw = torch.randn(1, 16)", False),
    ("z = torch.randn(4, 16)[0]\nw = torch.randn(1, 16)", False),
    ("z = torch.zeros(1, 16)\nw = torch.randn(1, 16)", True),
    ("z = h @ torch.randn(16, 16)\nw = torch.randn(1, 16)", True),
])
def test_norms_of_normal_draws_are_above_zero(code, reported):
    source = "import torch\ndef f(h):\n" + "\n".join("    " + line for line in code.splitlines()) + (
        "\n    return (z * w).sum() / (z.norm() * w.norm())\n")
    assert ("STB204" in [d.code for d in check_source(source)]) is reported


@pytest.mark.parametrize("call, bounds", [
    ("tf.random.uniform(s, minval=1e-5, maxval=1.0 - 1e-5)", (1e-5, 1.0 - 1e-5)),
    ("tf.random.uniform(s, 0.5, 2.0)", (0.5, 2.0)),
    ("jax.random.uniform(key, s, minval=-1.0, maxval=1.0)", (-1.0, 1.0)),
    ("np.random.uniform(1e-5, 1 - 1e-5, size=3)", (1e-5, 1 - 1e-5)),
    ("np.random.uniform(size=3)", (2.0 ** -53, 1.0 - 2.0 ** -53)),  # float64: 0 once in 2^53 draws
    ("np.random.uniform(0.0, 10.0)", (10 * 2.0 ** -53, 10.0)),
    ("torch.empty(3).uniform_(1e-5, 1.0 - 1e-5)", (1e-5, 1.0 - 1e-5)),
    ("torch.rand(3)", (0.0, 1.0 - 2.0 ** -24)),
    ("tf.random.uniform(s, minval=low)", None),  # a bound the code does not establish
])
def test_uniform_draws_from_the_range_the_code_gives(call, bounds):
    from stablelint.analysis.model import FileModel
    from stablelint.ir import ImportTable, SourceIndex
    from stablelint.scopes import Env

    source = f"import jax\nimport numpy as np\nimport tensorflow as tf\nimport torch\ny = {call}\n"
    tree = ast.parse(source)
    model = FileModel("draws.py", SourceIndex(source), ImportTable.from_tree(tree), tree)
    found = model.range(model.value(tree.body[-1].value, Env()))
    assert (found.lo, found.hi) == bounds if bounds is not None else found is None


@pytest.mark.parametrize("name, flows", [
    ("normalized_columns_initializer", False),
    ("init_weights", False),
    ("weights_init", False),
    ("reset_parameters", False),
    ("initialize_weights", False),
    ("forward", True),
    ("initial_state", True),
])
def test_weight_initialisers_take_no_gradient(name, flows):
    from stablelint.analysis.gradients import GradientContext
    from stablelint.ir import ImportTable

    tree = ast.parse(f"import torch\ndef {name}(w):\n    y = f(w)\n")
    call = _call_named(tree, "f")
    assert GradientContext(tree, ImportTable.from_tree(tree)).flows(call) is flows


@pytest.mark.parametrize("expression, bounds", [
    ("t * t", (0.0, 9.0)),
    ("s.a * s.a", None),  # an attribute of an unknown object: unknown
    ("t * u", (-6.0, 6.0)),
    ("-0.5 * (1.0 + t * t)", (-5.0, -0.5)),
])
def test_a_value_times_itself_is_a_square(expression, bounds):
    from stablelint.analysis.model import FileModel
    from stablelint.ir import ImportTable, SourceIndex
    from stablelint.scopes import Env

    source = f"import torch\nt = torch.linspace(-2, 3, 10)\nu = torch.linspace(-2, 2, 10)\ny = {expression}\n"
    tree = ast.parse(source)
    model = FileModel("squares.py", SourceIndex(source), ImportTable.from_tree(tree), tree)
    env = Env()
    for statement in tree.body[1:-1]:
        env.bind(statement.targets[0].id, statement.value, statement.lineno)
    found = model.range(model.value(tree.body[-1].value, env))
    if bounds is None:
        assert found is None
    else:
        assert found is not None and found.lo == pytest.approx(bounds[0]) and found.hi == pytest.approx(bounds[1])


def test_a_mask_does_not_narrow_a_branch_that_overflows_without_gradients():
    # 0 * inf is NaN in the value itself: unlike a where, a mask guards nothing that overflows.
    source = (
        "import torch\n"
        "@torch.no_grad()\n"
        "def f(x):\n"
        "    m = (x < 18).float()\n"
        "    return m * torch.log(1 + torch.exp(x)) + (1 - m) * x\n"
    )
    assert "STB108" in [d.code for d in check_source(source)]
