"""Branch guards: what the condition of an ``if``, a conditional expression or a
``where`` says about a value on the branch being taken.

``np.nan if var_y == 0 else 1 - r / var_y`` divides only where ``var_y`` is not 0;
``if s == 0: continue`` before ``x / s`` leaves only the ``s != 0`` case; the selected branch
of ``tf.where(g_norm > 0, w_norm / g_norm, 1.0)`` only where ``g_norm > 0``. The facts are
about the expression compared (``var_y``, ``s.sum()``), matched by its text.

A fact is one of ``"nonzero"``, ``"positive"``, ``"nonnegative"``.
"""

from __future__ import annotations

import ast
from bisect import bisect_right
from typing import Iterator

from stablelint.syntax import child_nodes, node_fields

_JUMPS = (ast.Return, ast.Continue, ast.Break, ast.Raise)
_WHERE = frozenset({"where", "select"})  # np/torch/jnp/tf where; jax.lax.select
FACTS_FOR = {  # the facts that rule a hazard out
    "zero": {"nonzero", "positive"},  # a division
    "nonpositive": {"positive"},  # a log
    "negative": {"nonnegative", "positive"},  # a sqrt
}


def _same(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a, annotate_fields=False, include_attributes=False) == ast.dump(
        b, annotate_fields=False, include_attributes=False
    )


def _strip(expr: ast.expr) -> ast.expr:
    """``abs(s)``, ``s.abs()``, ``float(s)``, ``s.item()`` compare like ``s`` for being 0."""
    while True:
        if isinstance(expr, ast.Call) and len(expr.args) == 1 and not expr.keywords and isinstance(
            expr.func, (ast.Name, ast.Attribute)
        ):
            name = expr.func.id if isinstance(expr.func, ast.Name) else expr.func.attr
            if name in ("abs", "absolute", "float", "fabs"):
                expr = expr.args[0]
                continue
        if isinstance(expr, ast.Call) and not expr.args and not expr.keywords and isinstance(expr.func, ast.Attribute):
            if expr.func.attr in ("abs", "item", "float", "double"):
                expr = expr.func.value
                continue
        return expr


def _number(expr: ast.expr) -> float | None:
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        inner = _number(expr.operand)
        return None if inner is None else -inner
    if isinstance(expr, ast.Constant) and type(expr.value) in (int, float):
        return float(expr.value)
    return None


def facts(test: ast.expr, target: ast.expr, holds: bool) -> set[str]:
    """What ``test`` being ``holds`` says about ``target``; for ``k - e``, what it says
    about ``e`` turned around (``p < 1`` makes ``1 - p`` positive)."""
    found = _facts(test, target, holds)
    if isinstance(target, ast.BinOp) and isinstance(target.op, ast.Sub) and _number(target.left) is not None:
        k = _number(target.left)
        for op, bound in _bounds(test, target.right, holds):
            if isinstance(op, ast.Lt) and k - bound >= 0 or isinstance(op, ast.LtE) and k - bound > 0:
                found |= {"positive", "nonzero", "nonnegative"}
            elif isinstance(op, ast.LtE) and k - bound == 0:
                found.add("nonnegative")
    return found


def _bounds(test: ast.expr, target: ast.expr, holds: bool) -> list[tuple[ast.cmpop, float]]:
    """``(op, c)`` with ``target op c`` known where ``test`` is ``holds``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _bounds(test.operand, target, not holds)
    if isinstance(test, ast.BoolOp):
        if isinstance(test.op, ast.And) == holds:
            return [bound for value in test.values for bound in _bounds(value, target, holds)]
        return []
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return []
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if _number(left) is not None and _number(right) is None:
        left, right = right, left
        op = {ast.Lt: ast.Gt(), ast.Gt: ast.Lt(), ast.LtE: ast.GtE(), ast.GtE: ast.LtE()}.get(type(op), op)
    bound = _number(right)
    if bound is None or not _same(left, target):
        return []
    if not holds:
        op = {ast.Lt: ast.GtE(), ast.GtE: ast.Lt(), ast.Gt: ast.LtE(), ast.LtE: ast.Gt()}.get(type(op))
    return [(op, bound)] if op is not None else []


def _facts(test: ast.expr, target: ast.expr, holds: bool) -> set[str]:
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _facts(test.operand, target, not holds)
    if isinstance(test, ast.BoolOp):
        # ``a and b`` true: both hold; ``a or b`` false: neither holds.
        if isinstance(test.op, ast.And) == holds:
            return set().union(*(_facts(value, target, holds) for value in test.values))
        return set()
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if _number(left) is not None and _number(right) is None:
            left, right = right, left
            op = {ast.Lt: ast.Gt(), ast.Gt: ast.Lt(), ast.LtE: ast.GtE(), ast.GtE: ast.LtE()}.get(type(op), op)
        bound = _number(right)
        stripped = _strip(left)
        if bound is None or not (_same(left, target) or _same(stripped, target)):
            return set()
        absolute = stripped is not left
        if not holds:
            op = {ast.Eq: ast.NotEq(), ast.NotEq: ast.Eq(), ast.Lt: ast.GtE(), ast.GtE: ast.Lt(),
                  ast.Gt: ast.LtE(), ast.LtE: ast.Gt()}.get(type(op))
        if isinstance(op, ast.NotEq) and bound == 0:
            return {"nonzero"}
        if isinstance(op, ast.Gt) and bound >= 0 or isinstance(op, ast.GtE) and bound > 0:
            return {"nonzero"} if absolute else {"positive", "nonzero", "nonnegative"}
        if isinstance(op, ast.GtE) and bound == 0 and not absolute:
            return {"nonnegative"}
        return set()
    if _same(test, target) or _same(_strip(test), target):
        return {"nonzero"} if holds else set()  # ``if s:`` — a truthy number is not 0
    if isinstance(test, ast.Call) and holds is False and test.args:
        name = test.func.attr if isinstance(test.func, ast.Attribute) else getattr(test.func, "id", "")
        if name in ("isclose", "allclose") and len(test.args) == 2 and _number(test.args[1]) == 0:
            return {"nonzero"} if _same(test.args[0], target) else set()
    return set()


def path_to(root: ast.AST, node: ast.AST) -> list[ast.AST] | None:
    """The nodes from ``root`` down to ``node`` (both included), or None."""
    line = getattr(node, "lineno", None)
    stack: list[tuple[ast.AST, Iterator[ast.AST]]] = [(root, _children_near(root, line))]
    while stack:
        parent, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        if child is node:
            return [entry[0] for entry in stack] + [node]
        first, last = getattr(child, "lineno", None), getattr(child, "end_lineno", None)
        if line is None or first is None or (first <= line <= (last or first)):
            stack.append((child, _children_near(child, line)))
    return None


_BLOCKS = frozenset({"body", "orelse", "finalbody"})


def _first_line(statement: ast.stmt) -> int:
    return statement.lineno


def _children_near(node: ast.AST, line: int | None) -> Iterator[ast.AST]:
    """``node``'s children (operators and contexts aside), each block of statements cut to
    the ones that can span ``line``: a module of a thousand functions is not asked, one
    statement after another, whether each holds the line."""
    if line is None:
        return iter(child_nodes(node))
    children: list[ast.AST] = []
    for field in node_fields(node):
        value = getattr(node, field, None)
        if type(value) is list:
            if field in _BLOCKS:
                # Statements follow each other: those spanning ``line`` end the run of the
                # ones starting on or before it.
                end = start = bisect_right(value, line, key=_first_line)
                while start and (value[start - 1].end_lineno or value[start - 1].lineno) >= line:
                    start -= 1
                children.extend(value[start:end])
            else:
                children.extend(item for item in value if isinstance(item, ast.AST))
        elif isinstance(value, ast.AST):
            children.append(value)
    return iter(children)


def _where_name(call: ast.Call) -> str | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    return name if name in _WHERE else None


def _exits(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], _JUMPS)


def known_facts(root: ast.AST, node: ast.AST, target: ast.expr) -> set[str]:
    """The facts about ``target`` that hold where ``node`` runs, from the branches around it
    inside ``root`` (a function, or the module) and the early exits and asserts before it."""
    path = path_to(root, node)
    if path is None:
        return set()
    found: set[str] = set()
    for parent, child in zip(path, path[1:]):
        if isinstance(parent, (ast.IfExp, ast.If, ast.While)) and child is not parent.test:
            if isinstance(parent, ast.IfExp):
                taken = child is parent.body
            else:
                taken = any(child is statement for statement in parent.body)
            found |= facts(parent.test, target, taken)
        elif isinstance(parent, ast.Call) and _where_name(parent) and len(parent.args) == 3:
            if child is parent.args[1]:
                found |= facts(parent.args[0], target, True)
            elif child is parent.args[2]:
                found |= facts(parent.args[0], target, False)
        for block in _blocks(parent):
            if any(statement is child for statement in block):
                found |= _before(block, child, target)
    return found


def _blocks(parent: ast.AST) -> Iterator[list[ast.stmt]]:
    for field in ("body", "orelse", "finalbody"):
        block = getattr(parent, field, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            yield block


def _before(block: list[ast.stmt], child: ast.stmt, target: ast.expr) -> set[str]:
    """Facts from ``if <cond>: return/continue/raise`` and ``assert <cond>`` earlier in the block."""
    found: set[str] = set()
    for statement in block:
        if statement is child:
            break
        if isinstance(statement, ast.If) and _exits(statement.body) and not statement.orelse:
            found |= facts(statement.test, target, False)
        elif isinstance(statement, ast.Assert):
            found |= facts(statement.test, target, True)
        elif _assigns(statement, target):
            found = set()  # the value compared is not the one used any more
    return found


def _assigns(statement: ast.stmt, target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return any(
            isinstance(n, ast.Name) and n.id == target.id and isinstance(n.ctx, ast.Store) for n in ast.walk(statement)
        )
    return False


def guarded(root: ast.AST, node: ast.AST, target: ast.expr, hazard: str) -> bool:
    """Does a branch around ``node`` rule out ``hazard`` (``zero``, ``nonpositive``,
    ``negative``) for ``target``?"""
    return bool(known_facts(root, node, target) & FACTS_FOR[hazard])
