"""The maximum subtracted: ``x - max(x)`` is at most 0, however it is written.

Real code subtracts the maximum on another line (``m = x.max(-1, keepdim=True).values``),
in a helper (``def shift(x): return x - x.max(...)``), clamps the maximum of a fully
masked row to ``finfo.min`` first (``m = torch.clamp(m, min=torch.finfo(x.dtype).min)``), or
subtracts a logsumexp (``x - logsumexp(x)``, itself at least the maximum). The value model
follows the names and helpers; this module reads the result: a difference whose subtrahend
is at least the maximum of the minuend. ``exp`` of it cannot overflow, so softmax,
logsumexp and logaddexp written that way are stable.
"""

from __future__ import annotations

import ast

from stablelint.analysis import values as v
from stablelint.analysis.values import Value
from stablelint.ir import same_expression

_AT_LEAST_THE_MAX = frozenset({"max", "logsumexp"})
_RAISING = frozenset({"clamp", "maximum"})  # clamp(m, min=c) and maximum(m, c) are >= m


def at_least_the_max(value: Value, depth: int = 0) -> Value | None:
    """The value whose maximum ``value`` is at least (``max(x)``, ``logsumexp(x)``, the
    same clamped from below or kept as ``.values`` / ``[0]`` / ``[..., None]``), or None."""
    if depth > 8:
        return None
    if value.kind in _AT_LEAST_THE_MAX:
        return value.operand()
    if value.kind == v.INDEX and value.operands:
        return at_least_the_max(value.operand(), depth + 1)
    if value.kind == "clamp" and value.operands and not _has_upper_bound(value):
        return at_least_the_max(value.operand(), depth + 1)
    if value.kind == "maximum":
        for operand in value.operands:
            found = at_least_the_max(operand, depth + 1)
            if found is not None:
                return found
    return None


def _has_upper_bound(clamp: Value) -> bool:
    bounds = clamp.detail if isinstance(clamp.detail, tuple) else (None, None)
    return len(bounds) > 1 and bounds[1] is not None


def is_max_shifted(value: Value) -> bool:
    """``x - m`` with ``m`` at least the maximum of ``x``: at most 0 everywhere."""
    if value.kind != v.SUB or len(value.operands) != 2:
        return False
    minuend, subtrahend = value.operands
    maximized = at_least_the_max(subtrahend)
    if maximized is not None and _same_values(minuend, maximized):
        return True
    return _is_maximum_of(subtrahend, minuend)


def _is_maximum_of(subtrahend: Value, minuend: Value) -> bool:
    """``a - maximum(a, b)``, ``a - max(a, b)`` (Python's): at most 0."""
    while subtrahend.kind == v.INDEX and subtrahend.operands and subtrahend.detail is not None:
        subtrahend = subtrahend.operand()
    if subtrahend.kind == "maximum":
        return any(operand is minuend or _same_node(operand, minuend) for operand in subtrahend.operands)
    call = subtrahend.node
    if subtrahend.kind == "max" and isinstance(call, ast.Call) and len(call.args) > 1 and minuend.node is not None:
        return any(isinstance(arg, ast.expr) and same_expression(arg, minuend.node) for arg in call.args)
    return False


def _same_node(a: Value, b: Value) -> bool:
    return a.node is not None and b.node is not None and same_expression(a.node, b.node)


def _same_values(a: Value, b: Value) -> bool:
    """The same array, as far as the value model can tell: the same value, or the same
    expression (up to reshapes); a maximum of an expression the model cannot see counts."""
    if a is b:
        return True
    a, b = _unwrapped(a), _unwrapped(b)
    if a is b:
        return True
    if a.node is None or b.node is None:
        return True
    if isinstance(a.node, ast.expr) and isinstance(b.node, ast.expr) and same_expression(a.node, b.node):
        return True
    return a.kind == b.kind and a.kind != v.UNKNOWN and a.operands == b.operands


def _unwrapped(value: Value) -> Value:
    for _ in range(6):
        if value.kind == v.INDEX and value.operands and value.detail is not None:
            value = value.operand()
        else:
            break
    return value
