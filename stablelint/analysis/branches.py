"""Ranges narrowed by the conditions that guard a branch.

``if x > 30: ... elif x < -30: ... else: log1p(exp(x))`` computes the softplus only for
x in [-30, 30]; ``elif x < 18: log1p(exp(x))`` knows x < 18; ``where(x < 18,
log1p(exp(x)), x)`` selects the softplus only where x < 18 (its value; the unselected
branch still runs, which is the gradient's hazard, not the value's), and so does a mask
multiplied in, ``m * log(clamp(d, min=1e-12)) + (1 - m) * g`` with ``m = (d > 1e-5).float()``
(the robust PixelCNN++ selection written in PyTorch); ``if s <= 0: return`` leaves s > 0
after it. The bounds are about the expression compared, matched by its text
(``analysis.conditions``), and meet the range the value model gives the expression.
"""

from __future__ import annotations

import ast

from stablelint.analysis import conditions
from stablelint.analysis import intervals as iv


def bounds_at(
    root: ast.AST, node: ast.AST, target: ast.expr, *, where: bool = True, masks: bool = False
) -> iv.Interval | None:
    """The interval the branch conditions around ``node`` (inside ``root``) leave for
    ``target``, or None when they say nothing about it. ``where=False`` leaves out the
    conditions of a ``where`` around it: both its branches run, and a gradient flows back
    through the unselected one too (its value is right, its gradient may be NaN). ``masks``
    takes in masks multiplied in (``m * f``): only for an ``f`` finite everywhere, since
    ``0 * inf`` is NaN in the value itself."""
    path = conditions.path_to(root, node)
    if path is None:
        return None
    lo, hi = -iv.INF, iv.INF
    said = False
    for parent, child in zip(path, path[1:]):
        found: list[tuple[ast.cmpop, float]] = []
        if isinstance(parent, (ast.IfExp, ast.If, ast.While)) and child is not parent.test:
            taken = child is parent.body if isinstance(parent, ast.IfExp) else any(
                child is statement for statement in parent.body
            )
            found = conditions._bounds(parent.test, target, taken)
        elif where and isinstance(parent, ast.Call) and conditions._where_name(parent) and len(parent.args) == 3:
            if child is parent.args[1]:
                found = conditions._bounds(parent.args[0], target, True)
            elif child is parent.args[2]:
                found = conditions._bounds(parent.args[0], target, False)
        elif masks and isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mult):
            other = parent.right if child is parent.left else parent.left
            mask = _mask(root, other)
            if mask is not None:
                found = conditions._bounds(mask[0], target, mask[1])
        for block in conditions._blocks(parent):
            if any(statement is child for statement in block):
                earlier = block[: next(index for index, statement in enumerate(block) if statement is child)]
                if any(conditions._assigns(statement, target) for statement in earlier):
                    # rebound: the outer conditions were about the old value
                    lo, hi, said, found = -iv.INF, iv.INF, False, []
                found = found + _before(block, child, target)
        for op, bound in found:
            said = True
            if isinstance(op, (ast.Lt, ast.LtE)):
                hi = min(hi, bound)
            elif isinstance(op, (ast.Gt, ast.GtE)):
                lo = max(lo, bound)
            elif isinstance(op, ast.Eq):
                lo, hi = max(lo, bound), min(hi, bound)
    if not said or lo > hi:
        return None
    return iv.Interval(lo, hi)


_CASTS = frozenset({
    "float", "double", "half", "bfloat16", "to", "type", "type_as", "astype", "cast", "to_float", "asarray",
})


def _mask(root: ast.AST, expr: ast.expr, depth: int = 0) -> tuple[ast.expr, bool] | None:
    """``(test, holds)`` when ``expr`` is 1 exactly where ``test`` is ``holds`` and 0 elsewhere:
    a comparison cast to numbers (``(d > 1e-5).float()``, ``tf.cast(d > 1e-5, tf.float32)``,
    ``(d > 1e-5).astype(np.float32)``), ``1 - mask``, or a name bound once in ``root`` to one."""
    if depth > 4:
        return None
    if isinstance(expr, ast.Compare):
        return expr, True
    if isinstance(expr, ast.Call) and isinstance(expr.func, (ast.Attribute, ast.Name)):
        name = expr.func.attr if isinstance(expr.func, ast.Attribute) else expr.func.id
        if name in _CASTS:
            if isinstance(expr.func, ast.Attribute):
                inner = _mask(root, expr.func.value, depth + 1)  # ``(d > c).float()``
                if inner is not None:
                    return inner
            if expr.args:
                return _mask(root, expr.args[0], depth + 1)  # ``tf.cast(d > c, tf.float32)``
        return None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Sub) and conditions._number(expr.left) == 1:
        inner = _mask(root, expr.right, depth + 1)
        return (inner[0], not inner[1]) if inner is not None else None
    if isinstance(expr, ast.Name):
        bound = [
            statement.value for statement in ast.walk(root)
            if isinstance(statement, ast.Assign) and any(_binds(target, expr.id) for target in statement.targets)
        ]
        if len(bound) == 1:
            return _mask(root, bound[0], depth + 1)
    return None


def _binds(target: ast.expr, name: str) -> bool:
    return any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(target))


def _before(block: list[ast.stmt], child: ast.stmt, target: ast.expr) -> list[tuple[ast.cmpop, float]]:
    """Bounds from ``if <cond>: return/continue/raise`` and ``assert <cond>`` earlier in the block."""
    found: list[tuple[ast.cmpop, float]] = []
    for statement in block:
        if statement is child:
            break
        if isinstance(statement, ast.If) and conditions._exits(statement.body) and not statement.orelse:
            found += conditions._bounds(statement.test, target, False)
        elif isinstance(statement, ast.Assert):
            found += conditions._bounds(statement.test, target, True)
        elif conditions._assigns(statement, target):
            found = []  # the value compared is not the one used any more
    return found


def narrowed(interval: iv.Interval | None, bounds: iv.Interval | None) -> iv.Interval | None:
    """``interval`` (None: unknown) met with the branch ``bounds``."""
    if bounds is None:
        return interval
    if interval is None:
        return bounds
    lo, hi = max(interval.lo, bounds.lo), min(interval.hi, bounds.hi)
    return iv.Interval(lo, hi, interval.nan) if lo <= hi else interval
