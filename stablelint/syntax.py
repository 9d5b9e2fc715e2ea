"""Walks over the standard ``ast`` that skip what no check reads.

``ast.iter_child_nodes`` is a generator that asks every field of every node, and hands out
the operator and context leaves (``Add``, ``Load``) that hold nothing: on a file dense in
formulas the walks cost more than parsing it. These give the same children in the same order,
without those leaves, for the walks that only look at expressions and statements.
"""

from __future__ import annotations

import ast
from bisect import bisect_left
from collections import deque
from typing import Callable, Iterator

# Fields that never hold an expression or a statement: operators, contexts, plain values.
_LEAF_FIELDS = frozenset({
    "ctx", "op", "ops", "id", "attr", "kind", "type_comment", "conversion", "is_async", "simple", "level", "module",
})
_FIELDS: dict[type, tuple[str, ...]] = {}
_NO_CHILDREN: tuple = ()


def node_fields(node: ast.AST) -> tuple[str, ...]:
    """The fields of ``node`` that can hold a node other than an operator or a context."""
    fields = _FIELDS.get(type(node))
    if fields is None:
        fields = _FIELDS[type(node)] = tuple(field for field in node._fields if field not in _LEAF_FIELDS)
    return fields


def _children_by_fields(node: ast.AST) -> list[ast.AST]:
    children = []
    for field in node_fields(node):
        value = getattr(node, field, None)
        if type(value) is list:
            for item in value:
                if isinstance(item, ast.AST):  # a dict's ``**spread`` key is None
                    children.append(item)
        elif isinstance(value, ast.AST):
            children.append(value)
    return children


# The commonest nodes of a formula, read directly (each in the order of its fields).
_CHILDREN: dict[type, Callable[[ast.AST], list | tuple]] = {
    ast.Name: lambda node: _NO_CHILDREN,
    ast.Constant: lambda node: _NO_CHILDREN,
    ast.Attribute: lambda node: (node.value,),
    ast.Call: lambda node: [node.func, *node.args, *node.keywords],
    ast.BinOp: lambda node: (node.left, node.right),
    ast.UnaryOp: lambda node: (node.operand,),
    ast.keyword: lambda node: (node.value,),
    ast.Subscript: lambda node: (node.value, node.slice),
    ast.Compare: lambda node: [node.left, *node.comparators],
    ast.Tuple: lambda node: node.elts,
    ast.List: lambda node: node.elts,
}


def child_nodes(node: ast.AST) -> list[ast.AST] | tuple[ast.AST, ...]:
    """``ast.iter_child_nodes(node)`` without operators and contexts (do not modify it)."""
    read = _CHILDREN.get(type(node))
    return read(node) if read is not None else _children_by_fields(node)


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk(node)`` (breadth first, the same order) without operators and contexts."""
    pending = deque([node])
    while pending:
        current = pending.popleft()
        pending.extend(child_nodes(current))
        yield current


def nodes_on_lines(tree: ast.Module, lines: list[int]) -> Iterator[tuple[ast.AST, ast.AST]]:
    """The nodes whose line range holds one of ``lines`` (sorted), each with the function (or
    module) it stands in, depth first (a call before its callee); nodes without a position
    are entered. Operators and contexts are left out, as in ``child_nodes``."""
    pending: list[tuple[ast.AST, ast.AST]] = [(tree, tree)]
    while pending:
        node, scope = pending.pop()
        start = getattr(node, "lineno", None)
        if start is not None:
            at = bisect_left(lines, start)
            if at == len(lines) or lines[at] > node.end_lineno:
                continue
        yield node, scope
        inner = node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else scope
        pending.extend((child, inner) for child in child_nodes(node))


_BLOCKS = frozenset({"body", "orelse", "finalbody"})


def statements(root: ast.AST) -> Iterator[ast.stmt]:
    """Every statement under ``root`` (and ``root`` itself if it is one), nested blocks,
    handlers and match cases included, functions' and classes' bodies too, in source order;
    expressions are not entered (no statement stands inside one)."""
    pending: list[ast.AST] = [root]
    while pending:
        current = pending.pop()
        if isinstance(current, ast.stmt):
            yield current
        inner: list[ast.AST] = []
        for field in current._fields:
            if field in _BLOCKS:
                inner.extend(getattr(current, field))
            elif field == "handlers":
                for handler in current.handlers:
                    inner.extend(handler.body)
            elif field == "cases":
                for case in current.cases:
                    inner.extend(case.body)
        pending.extend(reversed(inner))


def reference(expr: ast.expr) -> tuple[str, list[str]] | None:
    """``layers.heads.probs_of`` -> ("layers", ["heads", "probs_of"])."""
    attributes: list[str] = []
    while isinstance(expr, ast.Attribute):
        attributes.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    return expr.id, list(reversed(attributes))
