"""Test code: functions a test runner calls, on inputs the test writes itself.

A unit test builds its own inputs — a few hand-written numbers, a small random matrix, a
placeholder graph it only inspects — and compares what the code computes with a reference.
Where the analysis proves nothing of a value there, the plausible value is one a person
typed: of everyday magnitude (not past exp's over- or underflow bound) and of small size (a
matrix too small for its determinant to leave the dtype's range). A value the test
establishes (a literal array, a proven range, a named size) is judged as anywhere else.

Test code is a function named ``test_…`` or ``testX…`` (pytest's and unittest's names; not a
bare ``test``, which is often an evaluation loop over real data) in a test module
(``test_*.py``, ``*_test.py``, ``tests.py``, ``conftest.py`` or a file under a ``tests``
directory), or a method so named of a test class (``Test…``, or a base named ``…TestCase``),
with the functions nested in it.
"""

from __future__ import annotations

import ast
import re
from pathlib import PurePath

from stablelint.ir import identifier_of
from stablelint.syntax import statements

_TEST_FUNCTION = re.compile(r"test_\w*|test[A-Z0-9]\w*")
_TEST_MODULE = re.compile(r"test_\w*\.py|\w+_test\.py|tests\.py|conftest\.py")
_TEST_DIRECTORIES = frozenset({"test", "tests", "testing", "unittests", "unit_tests"})
_TEST_CLASS = re.compile(r"Test\w*")
_TEST_CASE_BASE = re.compile(r"\w*TestCase")


def is_test_module(path: str | None) -> bool:
    """Is ``path`` a module a test runner collects (by its name or its directory)?"""
    if not path:
        return False
    parts = PurePath(path).parts
    return bool(parts) and (
        _TEST_MODULE.fullmatch(parts[-1]) is not None or any(part in _TEST_DIRECTORIES for part in parts[:-1])
    )


class TestCode:
    """The line spans of one file's test functions, found the first time they are asked for."""

    __test__ = False  # not a test class itself (pytest collects ``Test…`` classes)

    def __init__(self, tree: ast.Module, path: str | None) -> None:
        self._tree = tree
        self._module = is_test_module(path)
        self._spans: list[tuple[int, int]] | None = None

    def contains(self, node: ast.AST | None) -> bool:
        """Does ``node`` run inside a test function?"""
        line = getattr(node, "lineno", None)
        if line is None:
            return False
        if self._spans is None:
            self._spans = list(self._find())
        return any(first <= line <= last for first, last in self._spans)

    def _find(self):
        test_classes = {
            id(node) for node in statements(self._tree)
            if isinstance(node, ast.ClassDef) and (
                _TEST_CLASS.fullmatch(node.name)
                or any(_TEST_CASE_BASE.fullmatch(identifier_of(base) or "") for base in node.bases)
            )
        }
        for owner in [self._tree, *(node for node in statements(self._tree) if id(node) in test_classes)]:
            if owner is self._tree and not self._module:
                continue
            for node in owner.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _TEST_FUNCTION.fullmatch(node.name):
                    yield node.lineno, node.end_lineno or node.lineno
