"""Sign facts: can this expression be positive? (The first, smallest abstract domain.)

``exp(v)`` cannot overflow when ``v <= 0``: ``exp(-0.5 / s2 * x ** 2)``, ``exp(-abs(x))``
and ``exp(x - max(x))`` are safe, and rules about overflow stay silent on them.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from stablelint.analysis.maxima import is_max_like, is_shifted_by_max
from stablelint.ir import constant_value, identifier_of

if TYPE_CHECKING:
    from stablelint.analysis.site import Site

NONNEGATIVE, NONPOSITIVE, UNKNOWN = 1, -1, 0

# Functions whose result is never negative, whatever the framework.
_NONNEGATIVE_FUNCTIONS = frozenset({
    "abs", "absolute", "fabs", "square", "exp", "exp2", "sigmoid", "expit", "softmax", "softplus",
    "relu", "sqrt", "norm", "vector_norm", "cosh", "var", "std", "numel", "len",
})


def _is_even(exponent: ast.expr) -> bool:
    value = constant_value(exponent)
    return value is not None and value == int(value) and int(value) % 2 == 0


def sign(ctx: Site, expr: ast.expr, depth: int = 0) -> int:
    """NONNEGATIVE, NONPOSITIVE or UNKNOWN, following definitions through ``ctx``."""
    if depth > 12:
        return UNKNOWN
    value = constant_value(expr)
    if value is not None:
        return NONNEGATIVE if value >= 0 else NONPOSITIVE
    if isinstance(expr, ast.Name):
        definition = ctx.env.definition(expr.id)
        return UNKNOWN if definition is None else sign(ctx, definition[0], depth + 1)
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        return -sign(ctx, expr.operand, depth + 1)
    if isinstance(expr, ast.Call):
        name = identifier_of(expr.func)
        if name in ("pow", "power", "float_power"):  # x.pow(2), torch.pow(x, 2), np.power(x, 2)
            method = isinstance(expr.func, ast.Attribute) and len(expr.args) == 1
            exponent = expr.args[0] if method else (expr.args[1] if len(expr.args) > 1 else None)
            return NONNEGATIVE if exponent is not None and _is_even(exponent) else UNKNOWN
        return NONNEGATIVE if name in _NONNEGATIVE_FUNCTIONS else UNKNOWN
    if not isinstance(expr, ast.BinOp):
        return UNKNOWN
    operator = type(expr.op)
    if operator is ast.Pow:
        if _is_even(expr.right):
            return NONNEGATIVE
        return NONNEGATIVE if sign(ctx, expr.left, depth + 1) == NONNEGATIVE else UNKNOWN
    if operator is ast.Mult and ast.dump(expr.left) == ast.dump(expr.right):
        return NONNEGATIVE  # x * x
    left = sign(ctx, expr.left, depth + 1)
    if operator is ast.Sub and is_max_like(ctx, expr.right, of=expr.left):
        return NONPOSITIVE  # x - max(x)
    right = sign(ctx, expr.right, depth + 1)
    if UNKNOWN in (left, right):
        return UNKNOWN
    if operator in (ast.Mult, ast.Div):
        return left * right
    if operator is ast.Add and left == right:
        return left
    if operator is ast.Sub and left == -right:
        return left
    return UNKNOWN


def is_nonpositive(ctx: Site, expr: ast.expr | None) -> bool:
    """``-abs(x)``, ``-x**2 / s``, ``x - max(x)``: exp of these cannot overflow.

    A max-shift scaled by a factor (``r * (x - x_max)``, ``(x - m) / temperature``) counts
    too: the scale is a temperature or a sharpness, positive by intent, and the code shows
    the max-subtraction trick on purpose; so does a value the value model proves at most 0
    scaled the same way (``log(p) / temperature`` of probabilities p: a sharpened softmax)."""
    if expr is None:
        return False
    if is_shifted_by_max(ctx, expr) or sign(ctx, expr) == NONPOSITIVE:
        return True
    interval = ctx.range(ctx.value(expr))
    if interval is not None and interval.hi <= 0:
        return True  # the value model proves it (a max subtracted in a helper, a log-probability)
    resolved = ctx.resolve(expr)
    if isinstance(resolved, ast.BinOp) and isinstance(resolved.op, (ast.Mult, ast.Div)):
        sides = (resolved.left, resolved.right) if isinstance(resolved.op, ast.Mult) else (resolved.left,)
        for side, other in zip(sides, (resolved.right, resolved.left)):
            if is_shifted_by_max(ctx, side) and (constant_value(other) is None or constant_value(other) > 0):
                return True
    return _scaled_nonpositive(ctx, ctx.value(expr))


# At most this above 0 counts as at most 0 for a scale by intent: ``log(p + 1e-12)`` tops out at
# 1e-12, and its exp overflows only for a temperature below 1e-8, which no temperature is.
_ABOUT_ZERO = 1e-6


def _scaled_nonpositive(ctx: Site, value) -> bool:
    """``v * s`` or ``v / s`` with ``v`` proven at most 0 and ``s`` a scale not known to be
    negative: a written number above 0, a value proven above 0, or a name or attribute whose
    range is unknown (a temperature, positive by intent; not an unknown call's output)."""
    from stablelint.analysis import values as v

    if value.kind not in (v.MUL, v.DIV) or len(value.operands) != 2:
        return False
    pairs = [(value.operands[0], value.operands[1])]
    if value.kind == v.MUL:
        pairs.append((value.operands[1], value.operands[0]))
    for scaled, scale in pairs:
        interval = ctx.range(scaled)
        if interval is None or interval.hi > _ABOUT_ZERO or interval.nan:
            continue
        if scale.kind == v.CONST:
            if scale.const is not None and scale.const > 0:
                return True
            continue
        known = ctx.range(scale)
        if known is not None:
            if known.lo > 0:
                return True
            continue
        if scale.kind == v.UNKNOWN and isinstance(scale.node, (ast.Name, ast.Attribute)):
            return True  # a named scale: ``temperature``, ``self.beta``
    return False
