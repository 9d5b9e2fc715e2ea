"""Maxima: ``x - max(x)``, the stable softmax/logsumexp trick, and the facts it needs
(is this expression a maximum, of which tensor; is it the same tensor as another)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from stablelint.analysis.conditions import path_to
from stablelint.ir import identifier_of, same_expression

if TYPE_CHECKING:
    from stablelint.analysis.site import Site


# Calls that change a tensor's shape or bookkeeping, not its values.
_SHAPE_OPS = frozenset({
    "unsqueeze", "expand_dims", "reshape", "view", "expand", "expand_as", "squeeze", "detach",
    "stop_gradient", "to", "type", "float", "double", "half", "astype", "broadcast_to", "clone", "copy",
})


def _names_a_max(identifier: str) -> bool:
    """``x_max``, ``maxes``, ``row_max``, ``lse``; not ``softmax_scale``."""
    for word in identifier.lower().split("_"):
        if "softmax" in word:
            continue
        if word.startswith("max") or word.endswith("max") or word in ("lse", "logsumexp", "amax"):
            return True
    return False


def is_max_like(ctx: Site, expr: ast.expr, of: ast.expr | None = None) -> bool:
    """``x.max(1, keepdim=True).values``, ``np.max(x)``, ``m`` with ``m = ...max...``.

    Names count by what they say (``maxes``, ``x_max``, ``lse``) as well as by their
    definition, which real code often rewrites (``maxes = masked_fill(maxes, ...)``).
    With ``of``, a max computed from another tensor than ``of`` does not count.
    """
    for _ in range(10):
        if _names_a_max(identifier_of(expr)) and not isinstance(expr, ast.Attribute | ast.Call):
            return True
        if isinstance(expr, ast.Attribute) and _names_a_max(expr.attr) and expr.attr != "values":
            return True
        if isinstance(expr, ast.Subscript):  # torch.max(x, 1)[0], m[..., None]
            expr = expr.value
            continue
        if isinstance(expr, ast.Attribute) and expr.attr == "values":
            expr = expr.value
            continue
        op = ctx.op(expr)
        if op is not None and op.kind == "max":
            # Python's max(xs) is the max of the elements a comprehension draws from xs.
            builtin = op.qualified_name == "builtins.max"
            return of is None or op.input is None or builtin or same_tensor(ctx, op.input, of)
        if op is not None and op.kind == "identity" and op.input is not None:
            expr = op.input
            continue
        inner = _shape_op_input(ctx, expr)
        if inner is not None:
            expr = inner
            continue
        if isinstance(expr, ast.Name):
            definition = reaching_definition(ctx, expr)
            if definition is None:
                return False
            expr = definition[0]
            continue
        return False
    return False


def reaching_definition(ctx: Site, name: ast.Name) -> tuple[ast.expr, int] | None:
    """The binding of ``name`` that the code at its line reads: the scope's current one, else
    (where branches rebind it further down: ``m = m.squeeze(dim)`` under ``if not keepdim:``)
    the one written before it in a block around it with no other binding in between
    (``m, _ = torch.max(x, dim, keepdim=True)``, its first element)."""
    current = ctx.env.definition(name.id)
    if current is not None:
        return current
    function = getattr(ctx.env, "function", None)
    line = getattr(name, "lineno", None)
    if function is None or line is None:
        return None
    path = path_to(function, name) or []
    bindings = [
        node for node in ast.walk(function)
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.With, ast.NamedExpr))
        and any(isinstance(target, ast.Name) and target.id == name.id and isinstance(target.ctx, ast.Store)
                for target in ast.walk(node) if not isinstance(node, ast.NamedExpr) or target is node.target)
    ]
    earlier = [node for node in bindings if node.lineno < line]
    loops = [parent for parent in path if isinstance(parent, (ast.For, ast.While))]
    if not earlier or any(
        loop.lineno <= node.lineno <= (loop.end_lineno or loop.lineno) for loop in loops for node in bindings
        if node.lineno > line
    ):
        return None  # a binding later in a loop around reaches it on the next turn
    binding = max(earlier, key=lambda node: node.lineno)
    in_a_block_around = any(
        any(statement is binding for statement in block) for parent in path for block in _blocks(parent)
    )
    if not in_a_block_around or not isinstance(binding, ast.Assign) or len(binding.targets) != 1:
        return None
    target = binding.targets[0]
    if isinstance(target, ast.Name):
        return binding.value, binding.lineno
    if isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name) \
            and target.elts[0].id == name.id:
        first = ast.Subscript(binding.value, ast.Constant(0), ast.Load())
        return ast.copy_location(first, binding.value), binding.lineno
    return None


def _blocks(parent: ast.AST) -> list[list[ast.stmt]]:
    return [
        block for field in ("body", "orelse", "finalbody")
        if isinstance(block := getattr(parent, field, None), list) and block and isinstance(block[0], ast.stmt)
    ]


def _is_module(ctx: Site, expr: ast.expr) -> bool:
    return ctx.imports.qualified_name(expr, ctx.env) is not None


def same_tensor(ctx: Site, left: ast.expr, right: ast.expr) -> bool:
    """The same array, up to definitions and value-preserving wrappers."""
    return same_expression(_strip_wrappers(ctx, left), _strip_wrappers(ctx, right))


def _shape_op_input(ctx: Site, expr: ast.expr) -> ast.expr | None:
    """``x`` of ``x.unsqueeze(1)`` or ``np.expand_dims(x, 1)``; None for other expressions."""
    if not (isinstance(expr, ast.Call) and identifier_of(expr.func) in _SHAPE_OPS):
        return None
    func = expr.func
    if isinstance(func, ast.Attribute) and not _is_module(ctx, func.value):
        return func.value
    return expr.args[0] if expr.args else None


def _strip_wrappers(ctx: Site, expr: ast.expr) -> ast.expr:
    for _ in range(6):
        resolved = ctx.resolve(expr)
        inner = _shape_op_input(ctx, resolved)
        if inner is None:
            return resolved
        expr = inner
    return expr


def _difference(expr: ast.expr) -> tuple[ast.expr, ast.expr] | None:
    """``a - b``, ``a.sub(b)``, ``torch.sub(a, b)``, ``np.subtract(a, b)`` as (a, b)."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Sub):
        return expr.left, expr.right
    if isinstance(expr, ast.Call) and identifier_of(expr.func) in ("sub", "subtract") and not expr.keywords:
        if len(expr.args) == 2:
            return expr.args[0], expr.args[1]
        if len(expr.args) == 1 and isinstance(expr.func, ast.Attribute):
            return expr.func.value, expr.args[0]
    return None


def is_shifted_by_max(ctx: Site, expr: ast.expr | None) -> bool:
    """``x - max(x)``: the stable logsumexp/softmax trick, or anything below it."""
    if expr is None:
        return False
    difference = _difference(ctx.resolve(expr))
    return difference is not None and is_max_like(ctx, difference[1], of=difference[0])
