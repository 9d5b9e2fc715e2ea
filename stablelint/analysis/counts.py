"""Names real code gives to whole numbers: ``log(1 + n)`` of a count loses nothing."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from stablelint.ir import constant_value, identifier_of

if TYPE_CHECKING:
    from stablelint.analysis.site import Site

_COUNT_NAME = re.compile(
    r"(n|m|k|i|j|idx|index|depth|level|count|counts|length|size|len|dim|ndim|epoch|epochs|step|steps"
    r"|global_step|iteration|iterations|num_\w+|n_\w+|\w+_count|\w+_len|\w+_length|\w+_dim|\w+_steps"
    r"|\w+_epochs|(?:batch|hidden|vocab|window|kernel|patch|image|seq|sequence|embed|feature|input|output"
    r"|block|chunk|group|head|sample|population|corpus|dataset|buffer|memory|pool|grid)_size)"
)


def is_count_name(name: str) -> bool:
    return _COUNT_NAME.fullmatch(name) is not None


_COUNT_CALLS = frozenset({
    "len", "int", "numel", "size", "dim", "nelement", "count_nonzero", "range", "arange",
    "floor", "ceil", "round", "trunc",  # integer-valued: log(1 + floor(t)) is exact enough
})


def looks_like_count(ctx: Site, expr: ast.expr) -> bool:
    """``n``, ``len(x)``, ``x.shape[0]``, ``x.numel()``: integers, where log(1 + x) is exact."""
    if isinstance(expr, ast.Name) and is_count_name(expr.id):
        return True
    if isinstance(expr, ast.Attribute) and is_count_name(expr.attr):
        return True
    if isinstance(expr, ast.Call) and identifier_of(expr.func) in _COUNT_CALLS:
        return True
    if isinstance(expr, ast.Subscript) and identifier_of(expr.value) == "shape":
        return True
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.FloorDiv):
        return True
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Mult)):
        return looks_like_count(ctx, expr.left) and (
            looks_like_count(ctx, expr.right) or constant_value(expr.right) is not None
        )
    return False
