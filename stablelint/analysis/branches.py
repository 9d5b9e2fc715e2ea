"""Ranges narrowed by the conditions that guard a branch.

``if x > 30: ... elif x < -30: ... else: log1p(exp(x))`` computes the softplus only for
x in [-30, 30]; ``elif x < 18: log1p(exp(x))`` knows x < 18; ``where(x < 18,
log1p(exp(x)), x)`` selects the softplus only where x < 18 (its value; the unselected
branch still runs, which is the gradient's hazard, not the value's); ``if s <= 0: return``
leaves s > 0 after it. The bounds are about the expression compared, matched by its text
(``analysis.conditions``), and meet the range the value model gives the expression.
"""

from __future__ import annotations

import ast

from stablelint.analysis import conditions
from stablelint.analysis import intervals as iv


def bounds_at(root: ast.AST, node: ast.AST, target: ast.expr, *, where: bool = True) -> iv.Interval | None:
    """The interval the branch conditions around ``node`` (inside ``root``) leave for
    ``target``, or None when they say nothing about it. ``where=False`` leaves out the
    conditions of a ``where`` around it: both its branches run, and a gradient flows back
    through the unselected one too (its value is right, its gradient may be NaN)."""
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
