"""Property tests on generated Python (hypothesmith): whatever the module, checking and
fixing it raise nothing but a ParseError, every fixed text parses, and fixing it again
changes nothing.

Generated modules rarely say ``log`` or ``exp``, so the second property plants
generated expressions inside the formulas the rules rewrite. The example counts are
fixed and the examples derandomized, so CI runs the same cases in bounded time.
"""

from __future__ import annotations

import ast

import pytest

hypothesmith = pytest.importorskip("hypothesmith")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from stablelint import engine  # noqa: E402

# hypothesmith compiles its grammar into each strategy it builds (~1 s): build it once.
MODULES = hypothesmith.from_grammar()
MODULE_EXAMPLES = 60
PLANTED_EXAMPLES = 140

# hypothesmith's own compile() of what it generates warns about code like `1()`.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

BOUNDED = dict(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

PRELUDE = "import math\nimport numpy as np\nimport scipy.special\nimport torch\nimport torch.nn.functional as F\n"

# Each {} is a generated expression (parenthesized); together they start every rule.
FORMULAS = [
    "torch.log(1 + {})",
    "({} + 1).log()",
    "torch.exp({}) - 1",
    "{}.exp() - 1.0",
    "torch.log(1 + torch.exp({}))",
    "torch.log(torch.sum(torch.exp({}), dim=1))",
    "torch.log(torch.sum(torch.exp({}), None))",
    "{}.exp().sum(-1, keepdim=True).log()",
    "torch.exp({0}) / torch.exp({0}).sum(1, keepdim=True)",
    "torch.log(torch.softmax({}, dim=-1))",
    "torch.log(F.softmax({}, 1))",
    "torch.log(torch.sigmoid({}))",
    "torch.log(1 - torch.sigmoid({}))",
    "torch.log(torch.exp({}) + torch.exp({}))",
    "np.log(np.sum(np.exp({}), axis=0))",
    "np.log(1 + np.exp({}))",
    "np.log(scipy.special.expit({}))",
    "math.log(1 + {})",
    "math.exp({}) - 1",
    "torch.log(1 + torch.log(1 + {}))",
]

# Where the formula stands: a module line, a function, a lambda, a default, a class body,
# a comprehension, an f-string, after an assignment the rules follow.
PLACES = [
    "y = {}\n",
    "def f(x):\n    return {}\n",
    "g = lambda x: {}\n",
    "def h(x, scale={}):\n    pass\n",
    "class C:\n    value = {}\n",
    "ys = [{} for x in range(3)]\n",
    "s = f'{{{}}}'\n",
    "def k(x):\n    p = {}\n    return torch.log(p)\n",
]


def assert_checks_and_fixes_cleanly(source: str) -> None:
    try:
        engine.check_source(source, "generated.py")
    except engine.ParseError:
        return  # not Python stablelint can read: reported as one line, never a crash
    for unsafe in (False, True):
        outcome = engine.fix_source(source, "generated.py", unsafe=unsafe)
        ast.parse(outcome.source)
        again = engine.fix_source(outcome.source, "generated.py", unsafe=unsafe)
        assert (again.source, again.applied) == (outcome.source, 0), "fixing twice changed the text"


@settings(max_examples=MODULE_EXAMPLES, **BOUNDED)
@given(MODULES)
def test_any_generated_module_is_checked_and_fixed_without_an_exception(source):
    assert_checks_and_fixes_cleanly(source)


def expressions_in(source: str) -> list[str]:
    """The text of every expression of a generated module."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found = (ast.get_source_segment(source, node) for node in ast.walk(tree) if isinstance(node, ast.expr))
    return [text for text in found if text and text.strip()]


# Arithmetic the rules see through (names, calls, methods, indexing, unary minus), built
# quickly; hypothesmith's grammar supplies the odd syntax.
ATOMS = st.sampled_from(["x", "w", "a.b", "2", "0.5", "1e-3", "-x", "x[0]", "x[..., None]", "f(x)"])
ARITHMETIC = st.recursive(
    ATOMS,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from([" + ", " - ", " * ", " / ", " @ ", " ** "]), inner).map("".join),
        inner.map(lambda text: f"-({text})"),
        inner.map(lambda text: f"torch.abs({text})"),
        inner.map(lambda text: f"({text}).sum(1)"),
        inner.map(lambda text: f"({text})[:, 0]"),
    ),
    max_leaves=8,
)


@st.composite
def planted_modules(draw) -> str:
    formula = draw(st.sampled_from(FORMULAS))
    generated = expressions_in(draw(MODULES))
    expression = st.one_of(ARITHMETIC, st.sampled_from(generated)) if generated else ARITHMETIC
    expressions = [f"({draw(expression)})" for _ in range(formula.count("{"))]
    place = draw(st.sampled_from(PLACES))
    planted = formula.format(*expressions) if "{0}" not in formula else formula.format(expressions[0])
    return PRELUDE + place.format(planted)


@settings(max_examples=PLANTED_EXAMPLES, **BOUNDED)
@given(planted_modules())
def test_generated_expressions_inside_the_unstable_formulas_are_fixed_cleanly(source):
    assert_checks_and_fixes_cleanly(source)
