"""Names, aliases and definitions: what the normalizer follows, and where it stops."""

from __future__ import annotations

import textwrap

import pytest

from stablelint.engine import check_source, fix_source


def findings(code: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in check_source(textwrap.dedent(code), "t.py")]


def fixed(code: str, unsafe: bool = False) -> str:
    return fix_source(textwrap.dedent(code), "t.py", unsafe=unsafe).source


@pytest.mark.parametrize(
    "imports, call",
    [
        ("import torch as th", "th.log(th.softmax(x, 1))"),
        ("from torch.nn import functional as fn\nimport torch", "torch.log(fn.softmax(x, 1))"),
        ("from torch import log, softmax", "log(softmax(x, 1))"),
        ("from numpy import log as ln\nfrom scipy.special import softmax as sm", "ln(sm(log_lik))"),
        ("from jax import numpy as jnp2, nn", "jnp2.log(nn.softmax(x))"),
        ("from scipy import special\nimport numpy", "numpy.log(special.softmax(log_lik, axis=0))"),
        ("import tensorflow.compat.v1 as tf1\nimport tensorflow as tf", "tf.math.log(tf.nn.softmax(x))"),
        ("from keras import ops", "ops.log(ops.softmax(x))"),
        ("def f():\n    import torch\n    return torch.log(torch.softmax(x, 1))", None),
    ],
)
def test_aliases_resolve(imports, call):
    code = imports + (f"\ny = {call}\n" if call else "\n")
    assert [code for _, code in findings(code)] == ["STB101"]


def test_unimported_names_are_not_guessed():
    assert findings("y = log(softmax(x))\nz = np.log(np.sum(np.exp(log_p)))\n") == []
    assert findings("import mylib as np\ny = np.log(np.exp(log_odds) + 1)\n") == []


def test_definition_is_followed_and_named_in_the_message():
    code = """
    import torch.nn.functional as F
    import torch

    def f(z):
        p = F.softmax(z, -1)
        return torch.log(p)
    """
    [diagnostic] = check_source(textwrap.dedent(code), "t.py")
    assert (diagnostic.line, diagnostic.code) == (7, "STB101")
    assert "p is defined on line 6" in diagnostic.message
    assert "return F.log_softmax(z, -1)" in fixed(code)


@pytest.mark.parametrize(
    "between",
    [
        "p = p + 1e-8",
        "p.clamp_(min=1e-8)",
        "p[p == 0] = 1e-8",
        "p += 1e-8",
        "if flag:\n    p = p.clamp(min=1e-8)",
        "for _ in range(3):\n    p = p * 0.5 + 1e-8",
        "try:\n    p = safe(p)\nexcept ValueError:\n    pass",
        "with ctx() as p:\n    pass",
        "del p\np = q",
        "p, q = q, p",
    ],
)
def test_a_name_changed_before_the_use_is_not_followed(between):
    body = textwrap.indent(f"p = F.softmax(z, -1)\n{between}\nreturn torch.log(p)\n", "    ")
    code = f"import torch\nimport torch.nn.functional as F\n\ndef f(z, q, flag):\n{body}"
    assert findings(code) == []


def test_same_definition_in_both_branches_is_followed():
    code = """
    import torch

    def f(z, flag):
        p = torch.softmax(z, 1)
        if flag:
            print("x")
        else:
            pass
        return torch.log(p)
    """
    assert findings(code) == [(10, "STB101")]


def test_definitions_do_not_leak_between_scopes():
    code = """
    import torch
    p = torch.softmax(z, 1)

    def f(p):
        return torch.log(p)

    class C:
        p = torch.sigmoid(z)

        def g(self, p):
            return torch.log(p)
    """
    assert findings(code) == []


def test_inputs_rebound_between_definition_and_use_block_the_fix():
    code = """
    import torch

    def f(z):
        p = torch.softmax(z, 1)
        z = z * 2
        return torch.log(p)
    """
    assert findings(code) == [(7, "STB101")]
    assert fixed(code, unsafe=True) == textwrap.dedent(code)


def test_self_referencing_definition_is_reported_but_not_rewritten():
    code = """
    import torch

    def f(x):
        x = torch.softmax(x, 1)
        return torch.log(x)
    """
    assert findings(code) == [(6, "STB101")]
    assert fixed(code, unsafe=True) == textwrap.dedent(code)


def test_a_call_in_the_moved_code_makes_the_fix_unsafe():
    code = """
    import torch

    def f(model, x):
        p = torch.softmax(model(x), 1)
        return torch.log(p)
    """
    assert fixed(code) == textwrap.dedent(code)
    assert "return torch.log_softmax(model(x), 1)" in fixed(code, unsafe=True)


def test_walrus_and_comprehensions():
    code = """
    import torch

    def f(xs):
        if (p := torch.softmax(xs[0], 1)) is not None:
            a = torch.log(p)
        return [torch.log(torch.sigmoid(x)) for x in xs]
    """
    assert findings(code) == [(6, "STB101"), (7, "STB104")]


def test_match_statement_branches_merge():
    code = """
    import torch

    def f(z, mode):
        p = torch.softmax(z, 1)
        match mode:
            case "clamp":
                p = p.clamp(min=1e-8)
            case _:
                pass
        return torch.log(p)
    """
    assert findings(code) == []


def test_log_used_as_a_local_variable_is_not_a_call_of_log():
    code = """
    import torch

    def f(log, x):
        log(torch.softmax(x, 1))
        log = print
        return log(1 + x)
    """
    assert findings(code) == []
