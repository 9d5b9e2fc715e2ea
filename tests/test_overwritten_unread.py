"""analysis.uses.overwritten_unread: a value assigned to a name that the function body binds
again before any statement reads it reaches nothing."""

from __future__ import annotations

import ast
import textwrap

import pytest

from stablelint.analysis import uses


def _answer(body: str) -> bool:
    tree = ast.parse("def f(p, c, eps):\n" + textwrap.indent(textwrap.dedent(body), "    "))
    function = tree.body[0]
    log_call = next(node for node in ast.walk(function) if isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name) and node.func.id == "log")
    return uses.overwritten_unread(function, log_call)


@pytest.mark.parametrize(
    ("body", "overwritten"),
    [
        ("y = log(p)\ny = log(p + eps)\nreturn y", True),
        ("y = log(p)\nz = y\ny = 1\nreturn y, z", False),  # read before bound again
        ("y = log(p)\ny = y + 1\nreturn y", False),  # the binding statement reads it first
        ("y = log(p)\ny: float\nreturn 0", False),  # an annotation alone binds nothing
        ("y = log(p)\ny: float = 2.0\nreturn y", True),
        ("global y\ny = log(p)\ny = 2", False),
        ("if c:\n    y = log(p)\ny = 2\nreturn y", False),  # not a statement of the body itself
        ("y = log(p)\nif c:\n    y = 2\ny = 3\nreturn y", True),  # a branch not reading it is passed over
        ("y = log(p)\nif c:\n    print(y)\ny = 3\nreturn y", False),
        ("a = y = log(p)\ny = 2\nreturn a", False),
        ("y = log(p)\nreturn y", False),
        ("y = log(p)\nw = 1\nw = 2\ny = 3\nx = y\nreturn x, w", True),
    ],
)
def test_overwritten_unread(body: str, overwritten: bool) -> None:
    assert _answer(body) is overwritten


def test_each_finding_of_a_long_body_is_answered_from_one_index() -> None:
    lines = "".join(f"y{i} = log(p + {i})\n" for i in range(50)) + "y3 = 0\nreturn y3\n"
    tree = ast.parse("def f(p):\n" + textwrap.indent(lines, "    "))
    function = tree.body[0]
    calls = [node for node in ast.walk(function) if isinstance(node, ast.Call)]
    assert [uses.overwritten_unread(function, call) for call in calls] == [index == 3 for index in range(50)]
