"""A large text parsed in pieces gives exactly the tree (or the error) of one ``ast.parse``."""

from __future__ import annotations

import ast
import gc
import weakref
from pathlib import Path

import pytest

from stablelint import engine, pieces
from stablelint.diagnostics import ParseError

ROOT = Path(__file__).resolve().parent.parent


def dumped(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=True)


def parse_calls(monkeypatch) -> list[str]:
    """The texts `pieces` hands to ``ast.parse``."""
    texts: list[str] = []
    real = ast.parse

    def recording(source, *args, **kwargs):
        texts.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(pieces.ast, "parse", recording)
    return texts


@pytest.mark.parametrize("piece_lines", [3, 25, 200])
def test_same_tree_as_one_parse_on_the_project_and_its_fixtures(piece_lines):
    files = sorted((ROOT / "stablelint").rglob("*.py")) + sorted((ROOT / "fixtures").rglob("*.py"))
    assert len(files) > 100
    for path in files:
        source = path.read_text(encoding="utf-8")
        try:
            expected = dumped(ast.parse(source))
        except SyntaxError:
            continue
        assert dumped(pieces.parse_in_pieces(source, str(path), piece_lines=piece_lines)) == expected, path


GENERATED_FUNCTION = "import torch\n\n\ndef f(x):\n" + "".join(
    f"    y{index} = torch.log(torch.sigmoid(x + {index}))\n" for index in range(300)
)

CLASS_OF_METHODS = '''\
import torch


@decorated(
    twice=True,
)
class Model(torch.nn.Module):
    """A docstring whose lines
look like statements
    at every indentation
    """

''' + "".join(f'''\
    @staticmethod
    def method_{index}(x):
        """Doc {index}.
        y = not code
        """
        if x:
            return torch.log(x + {index})
        else:
            return (x +
                    {index})

''' for index in range(40)) + '''
with open("f") as handle:
''' + "".join(f"    line_{index} = handle.readline() \\\n        .strip()\n" for index in range(60)) + '''
try:
    pass
except ValueError:
    pass
finally:
    pass
'''


@pytest.mark.parametrize("source", [GENERATED_FUNCTION, CLASS_OF_METHODS], ids=["function", "class"])
@pytest.mark.parametrize("piece_lines", [4, 30])
def test_large_bodies_are_cut_and_give_the_same_tree(monkeypatch, source, piece_lines):
    expected = dumped(ast.parse(source))
    texts = parse_calls(monkeypatch)
    tree = pieces.parse_in_pieces(source, "big.py", piece_lines=piece_lines)
    assert dumped(tree) == expected
    # Cut: no piece is the whole text (a cut that failed would parse it at once).
    assert len(texts) > 3 and all(len(text.lstrip("\n")) < len(source) // 2 for text in texts)


@pytest.mark.parametrize("source", [
    "x = '''\n" + "a = 1\n" * 50 + "'''\n",  # a string's lines at the block's indentation
    "x = (\n" + "1,\n" * 50 + ")\n",  # inside brackets
    "if x:\n    pass\n" + "elif y:\n    pass\n" * 30 + "else:\n    pass\n",
    "def f():\n" + "    x = 1\n" * 50 + "  y = 2\n",  # an indentation error
    "def f():\n" + "    x = 1\n" * 50 + "\tz = 3\n",  # a tab
    "x = 1\n" * 50 + "x = (\n",  # a syntax error at the end
    "x = 1 \\\n" + "+ 1\n" * 50,
])
def test_texts_that_cannot_be_cut_give_the_tree_or_error_of_one_parse(source):
    try:
        expected = dumped(ast.parse(source))
    except SyntaxError as error:
        with pytest.raises(SyntaxError) as raised:
            pieces.parse_in_pieces(source, piece_lines=5)
        assert (raised.value.msg, raised.value.lineno) == (error.msg, error.lineno)
    else:
        assert dumped(pieces.parse_in_pieces(source, piece_lines=5)) == expected


def test_only_large_texts_are_cut(monkeypatch):
    texts = parse_calls(monkeypatch)
    pieces.parse(GENERATED_FUNCTION)
    assert texts == [GENERATED_FUNCTION]
    monkeypatch.setattr(pieces, "PIECES_ABOVE", 1000)
    texts.clear()
    tree = pieces.parse(GENERATED_FUNCTION, piece_lines=50)
    assert len(texts) > 3
    assert dumped(tree) == dumped(ast.parse(GENERATED_FUNCTION))


def test_the_engine_reports_a_syntax_error_of_a_large_text_where_one_parse_does(monkeypatch):
    monkeypatch.setattr(pieces, "PIECES_ABOVE", 100)
    monkeypatch.setattr(pieces, "PIECE_LINES", 20)
    source = GENERATED_FUNCTION + "    z = (\n"
    with pytest.raises(ParseError) as raised:
        engine.parse(source, "big.py")
    assert raised.value.line == source.count("\n")


def test_the_tree_of_a_checked_file_is_not_kept_by_the_project_index(tmp_path):
    path = tmp_path / "pkg" / "many.py"
    path.parent.mkdir()
    (path.parent / "__init__.py").write_text("")
    path.write_text(GENERATED_FUNCTION)
    walk = engine.plan_walk(GENERATED_FUNCTION, str(path))
    assert walk.index is not None and walk.findings()
    tree = weakref.ref(walk.tree)
    del walk
    gc.collect()
    assert tree() is None


def test_the_nodes_of_a_line_share_its_number():
    tree = pieces.parse_in_pieces(GENERATED_FUNCTION, piece_lines=40)
    assignment = tree.body[1].body[295]  # line 300
    call = assignment.value
    assert assignment.lineno == call.func.value.lineno == call.end_lineno == 300
    assert assignment.lineno is call.func.value.lineno is call.end_lineno is assignment.targets[0].end_lineno
