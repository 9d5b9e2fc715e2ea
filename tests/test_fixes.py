"""Fix mechanics: spelling names, applying edits, imports, re-parsing, idempotence."""

from __future__ import annotations

import ast
import textwrap

import pytest

from stablelint.diagnostics import Edit, Fix, Import
from stablelint.engine import ParseError, check_source, fix_source
from stablelint.fixes import apply_fixes, spell
from stablelint.ir import ImportTable


def table(code: str) -> ImportTable:
    return ImportTable.from_tree(ast.parse(code))


@pytest.mark.parametrize(
    "imports, target, expected",
    [
        ("import torch.nn.functional as F", "torch.nn.functional.logsigmoid", ("F.logsigmoid", ())),
        ("import torch", "torch.nn.functional.logsigmoid", ("torch.nn.functional.logsigmoid", ())),
        ("import numpy as np", "scipy.special.logsumexp", ("scipy.special.logsumexp", (Import("scipy.special"),))),
        ("from scipy import special", "scipy.special.logsumexp", ("special.logsumexp", ())),
        ("from scipy.special import logsumexp as lse", "scipy.special.logsumexp", ("lse", ())),
        ("import jax.numpy as jnp", "jax.nn.logsumexp", ("jax.nn.logsumexp", (Import("jax.nn"),))),
        ("import tensorflow as tf", "tensorflow.math.log1p", ("tf.math.log1p", ())),
        ("from keras.src import ops", "keras.ops.softplus", ("ops.softplus", ())),
    ],
)
def test_spell_uses_existing_bindings_first(imports, target, expected):
    assert spell(target, table(imports)) == expected


def test_spell_from_import_style_when_the_code_uses_it():
    assert spell("numpy.log1p", table("from numpy import log"), from_import=True) == (
        "log1p",
        (Import("numpy", "log1p"),),
    )


def test_overlapping_fixes_apply_the_first_only():
    source = "abcdefgh"
    first = Fix("safe", (Edit(1, 4, "X"),))
    overlapping = Fix("safe", (Edit(3, 6, "Y"),))
    later = Fix("safe", (Edit(6, 7, "Z"),))
    text, applied = apply_fixes(source, [later, overlapping, first])
    assert text == "aXefZh"
    assert applied == [first, later]


def test_missing_import_is_added_once_and_comments_survive():
    source = textwrap.dedent(
        '''\
        """Module docstring."""
        import numpy as np  # numerics


        def f(log_p, log_q):
            a = np.log(np.sum(np.exp(log_p), axis=1))  # row-wise
            b = np.log(np.sum(  # keep me
                np.exp(log_q),
                axis=0,
            ))
            return a, b
        '''
    )
    fixed = fix_source(source, "t.py", unsafe=True).source
    assert fixed.count("import scipy.special") == 1
    assert "import numpy as np  # numerics" in fixed
    assert "a = scipy.special.logsumexp(log_p, axis=1)  # row-wise" in fixed
    assert "b = scipy.special.logsumexp(log_q, axis=0)" in fixed
    ast.parse(fixed)
    assert fix_source(fixed, "t.py", unsafe=True).applied == 0


def test_numpy_logsumexp_is_unsafe_without_scipy_and_safe_with_it():
    without = "import numpy as np\ny = np.log(np.sum(np.exp(log_p)))\n"
    assert fix_source(without, "t.py").source == without
    with_scipy = "import numpy as np\nimport scipy\ny = np.log(np.sum(np.exp(log_p)))\n"
    assert "y = scipy.special.logsumexp(log_p)" in fix_source(with_scipy, "t.py").source


def test_nested_findings_are_fixed_over_several_rounds():
    source = "import torch\ny = torch.log(1 + (torch.exp(x.tanh() / 1e5) - 1))\n"
    outcome = fix_source(source, "t.py")
    assert outcome.source == "import torch\ny = torch.log1p(torch.expm1(x.tanh() / 1e5))\n"
    assert outcome.applied == 2


def test_crlf_line_endings_are_kept():
    source = "import torch\r\ny = torch.log(1 + x.tanh() / 1e5)\r\nz = 1\r\n"
    assert fix_source(source, "t.py").source == "import torch\r\ny = torch.log1p(x.tanh() / 1e5)\r\nz = 1\r\n"


def test_non_ascii_before_the_expression():
    source = 'import torch\ns = "ünïcödé"; y = torch.log(1 + x.tanh() / 1e5)\n'
    [diagnostic] = check_source(source, "t.py")
    assert diagnostic.col == len('s = "ünïcödé"; y = ') + 1
    assert fix_source(source, "t.py").source == 'import torch\ns = "ünïcödé"; y = torch.log1p(x.tanh() / 1e5)\n'


@pytest.mark.parametrize("source", ["def f(:\n  pass\n", "x = 1\x00 + log(2)\n", "log(" + "(" * 300 + ")" * 300 + ")\n"])
def test_unparsable_source_raises_a_one_line_parse_error(source):
    try:
        check_source(source + "import math\nmath.log(1 + y)\n", "bad.py")
    except ParseError as error:
        assert "\n" not in str(error)
    # a deeply nested but valid expression may also parse: then it must simply not crash


def test_files_without_trigger_words_are_not_parsed():
    assert check_source("this is not python at all (", "t.py") == []
