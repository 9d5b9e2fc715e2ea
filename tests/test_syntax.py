"""The fast walks (``stablelint.syntax``, the prefilter's word index, ``path_to``) give what
the plain ones give, on the package's own code and on the corners of the grammar."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import stablelint
from stablelint import prefilter, syntax
from stablelint.analysis.conditions import path_to

SOURCES = sorted(Path(stablelint.__file__).parent.rglob("*.py"))
_LEAVES = (ast.expr_context, ast.operator, ast.cmpop, ast.unaryop, ast.boolop)

CORNERS = '''
import torch
@decorate(torch.log(x))
def f(a, b=torch.exp(1), *args, c: int = 2, **kwargs):
    x = 1; y = torch.log(x); z = {**d, "k": -x}
    try:
        pass
    except* ValueError as error:
        w = [v for v in range(3) if v > 1]
    else:
        w = lambda q: q + 1
    finally:
        del w
    match x:
        case [1, *rest] if rest:
            g = f"{x!r:>{y}}"
        case Point(x=0) | {"k": _}:
            pass
    async def h():
        async with a as b, c:
            async for i in b:
                await i
    return (yield from y)
class C(Base, metaclass=M):
    @property
    def p(self): return self.q[1:2, ::3]
'''


def _trees():
    yield "corners", ast.parse(CORNERS)
    for path in SOURCES:
        yield path.name, ast.parse(path.read_text())


@pytest.mark.parametrize("name,tree", list(_trees()), ids=lambda value: value if isinstance(value, str) else "")
def test_walk_and_statements_match_ast_walk(name, tree):
    expected = [node for node in ast.walk(tree) if not isinstance(node, _LEAVES)]
    walked = list(syntax.walk(tree))
    assert len(walked) == len(expected)
    assert all(a is b for a, b in zip(walked, expected))
    statements = list(syntax.statements(tree))
    assert sorted(map(id, statements)) == sorted(id(node) for node in ast.walk(tree) if isinstance(node, ast.stmt))
    assert [node.lineno for node in statements] == sorted(node.lineno for node in statements)


@pytest.mark.parametrize("name,tree", list(_trees())[:12], ids=lambda value: value if isinstance(value, str) else "")
def test_path_to_finds_every_node_below_its_ancestors(name, tree):
    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    for node in ast.walk(tree):
        if not hasattr(node, "lineno"):
            continue
        path = path_to(tree, node)
        ancestors = [node]
        while id(ancestors[-1]) in parents:
            ancestors.append(parents[id(ancestors[-1])])
        in_decorator = any(
            isinstance(outer, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and outer.lineno > node.lineno
            for outer in ancestors
        )
        if in_decorator:
            assert path is None  # above its ``def``: line ranges do not lead there
        else:
            assert path is not None and [id(step) for step in path] == [id(step) for step in reversed(ancestors)]


def _words_by_find(source: str, words, start=0, stop=None) -> list[int]:
    return sorted(offset for word in words for offset in prefilter._word_starts(source, word, start, stop))


# An ASCII text is searched in a translated copy, any other with a regex: both are checked.
TAILS = {
    "ascii": "\nlog.x = 1\nlog = log2 + 2log + log_ + _log + log1p(x) + x\tlog\r\nlog log log\nlog",
    "unicode": "\nlog·x = 1\nµlog = log² + ²log + loğ + log_ + _log + log1p(x)\n",
}


@pytest.mark.parametrize("tail", TAILS.values(), ids=TAILS.keys())
@pytest.mark.parametrize("path", SOURCES[:20], ids=lambda path: path.name)
def test_word_index_finds_what_str_find_finds(path, tail):
    source = path.read_text() + tail
    words = {"log", "x", "exp", "self", "def", "log1p", "µlog", "loğ", "a", "not_in_the_text"}
    assert prefilter.word_offsets(source, words) == _words_by_find(source, words)  # before the index exists
    assert prefilter.candidate_lines(source, set()) is not None  # builds the file's index
    middle = len(source) // 2
    assert prefilter.word_offsets(source, words) == _words_by_find(source, words)
    assert prefilter.word_offsets(source, words, middle) == _words_by_find(source, words, middle)
    assert prefilter.word_offsets(source, words, 10, middle) == _words_by_find(source, words, 10, middle)


def test_nodes_on_lines_are_the_nodes_spanning_a_line_with_their_function():
    source = "import torch\n\n\ndef f(x):\n    y = torch.log(x)\n    return y\n\n\nclass C:\n    def g(self, z):\n        return self.h(z) + 1\n"
    tree = ast.parse(source)
    lines = [5, 11]
    found = list(syntax.nodes_on_lines(tree, lines))
    expected = {
        id(node) for node in ast.walk(tree)
        if not isinstance(node, (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop))
        and (not hasattr(node, "lineno") or any(node.lineno <= line <= node.end_lineno for line in lines))
    }
    assert {id(node) for node, _ in found} == expected
    scopes = {node.id if isinstance(node, ast.Name) else None: scope for node, scope in found}
    assert scopes["x"].name == "f" and scopes["z"].name == "g" and scopes["torch"].name == "f"
    calls = [node for node, _ in found if isinstance(node, ast.Call)]
    funcs = [node for node, _ in found if any(node is call.func for call in calls)]
    order = [node for node, _ in found]
    assert all(order.index(call) < order.index(call.func) for call in calls) and len(funcs) == len(calls)
