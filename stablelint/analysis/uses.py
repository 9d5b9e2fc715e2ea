"""How the result of an expression is used: whether its last digits can reach anything.

A precision loss matters only where the digits reach a result. They do not when the value
is rounded right after (``int(...)``, ``round(...)``, ``floor``, ``.long()``, ``astype(int)``),
nor when it is only compared with a threshold that is not 0 (``(ratio - 1).abs() > clip``:
a few units in the last place change the comparison only at the threshold itself).
"""

from __future__ import annotations

import ast

from stablelint.analysis.conditions import path_to

_ROUNDING = frozenset({"int", "round", "floor", "ceil", "trunc", "rint", "around", "long", "short"})
_INTEGER_DTYPES = ("int", "long", "uint", "bool")
_SAME_DIGITS = frozenset({"abs", "absolute", "fabs", "float", "item", "detach", "squeeze", "flatten", "reshape",
                          "view", "cpu"})


def digits_reach_result(root: ast.AST, node: ast.AST) -> bool:
    """False when ``node``'s value is rounded or only compared with a non-zero threshold
    right after (through ``abs``, a sign, parentheses); True otherwise."""
    path = path_to(root, node)
    if path is None:
        return True
    child = node
    for parent in reversed(path[:-1]):
        if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, (ast.USub, ast.UAdd)):
            child = parent
            continue
        if isinstance(parent, ast.Call):
            name = _name(parent.func)
            receiver = parent.func.value if isinstance(parent.func, ast.Attribute) else None
            on_child = receiver is child or (parent.args and parent.args[0] is child)
            if not on_child:
                return True
            if name in _ROUNDING or _casts_to_integer(parent, name):
                return False
            if name in _SAME_DIGITS:
                child = parent
                continue
            return True
        if isinstance(parent, ast.Attribute):
            continue  # ``x.abs`` of ``x.abs()``: the call above decides
        if isinstance(parent, ast.Compare) and len(parent.ops) == 1:
            other = parent.comparators[0] if parent.left is child else parent.left
            return _is_zero(other)
        return True
    return True


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _casts_to_integer(call: ast.Call, name: str) -> bool:
    if name not in ("astype", "to", "type", "cast"):
        return False
    for argument in list(call.args) + [keyword.value for keyword in call.keywords]:
        said = _name(argument) if isinstance(argument, (ast.Name, ast.Attribute)) else (
            argument.value if isinstance(argument, ast.Constant) and isinstance(argument.value, str) else ""
        )
        if said.startswith(_INTEGER_DTYPES) or said in ("int", "bool"):
            return True
    return False


def _is_zero(expr: ast.expr) -> bool:
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
        expr = expr.operand
    return isinstance(expr, ast.Constant) and expr.value == 0
