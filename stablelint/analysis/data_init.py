"""Data-dependent initialisation: a value computed only to set where trained parameters start.

ActNorm and weight normalisation (their first batch) compute
statistics of a batch once and write them into parameters: ``self.logs.data.copy_(v)``,
``p.data = v``, ``nn.init.constant_(p, v)``. Training then moves those parameters, so digits
lost in the initial value reach no result. A NaN or an inf would stay, though: the value is
an initial value only if nothing on its way can turn a small error into one — a log, a
square root or a division of it comes after a clamp to a positive floor
(``log(clamp_min(v, 1e-6))``).

``only_initialises(function, node)`` says whether ``node``'s value reaches nothing but such
writes, through arithmetic, elementwise functions, reshapes and names bound to it.
"""

from __future__ import annotations

import ast

from stablelint.analysis.conditions import path_to
from stablelint.analysis.uses import reads_in
from stablelint.ir import identifier_of

# In-place writes of a parameter's data with a value (the value is the argument).
_WRITES = frozenset({"copy_", "fill_", "set_"})
# Functions and methods through which the value goes on its way, unchanged in kind.
_DERIVING = frozenset({
    "exp", "neg", "abs", "square", "pow", "mul", "add", "sub", "mean", "sum", "view", "reshape", "squeeze",
    "unsqueeze", "to", "type", "float", "double", "half", "expand", "expand_as", "flatten", "detach", "clone",
    "contiguous", "cpu", "cuda", "t", "transpose", "permute",
})
# Clamps to a floor: after one, a log or a square root of the value is finite.
_FLOORS = frozenset({"clamp", "clamp_min", "clip", "maximum", "clamp_", "clamp_min_"})
# Where a small error can become NaN or inf (a negative variance under sqrt, log(0)).
_SINGULAR = frozenset({"log", "sqrt", "rsqrt", "log2", "log10", "reciprocal", "log1p"})


def only_initialises(function: ast.AST, node: ast.AST, *, floored: bool = False, depth: int = 0) -> bool:
    """Does ``node``'s value only set the starting point of trained parameters (module doc)?"""
    path = path_to(function, node)
    if path is None or depth > 4:
        return False
    child = node
    for parent in reversed(path[:-1]):
        if isinstance(parent, ast.Attribute) and parent.value is child:
            child = parent  # ``v.view`` of ``v.view(...)``: the call above decides
            continue
        if isinstance(parent, ast.UnaryOp):
            child = parent
            continue
        if isinstance(parent, ast.BinOp):
            if isinstance(parent.op, ast.Div) and parent.right is child and not floored:
                return False  # divided by: a small error near 0 becomes inf
            child = parent
            continue
        if isinstance(parent, ast.Call):
            name = identifier_of(parent.func)
            on_child = parent.func is child or any(argument is child for argument in parent.args)
            if not on_child:
                return False
            if name in _WRITES and parent.func is not child:
                return _is_parameter_data(parent.func)
            if _is_initialiser(parent.func):
                return True
            if name in _FLOORS:
                floored = True
            elif name in _SINGULAR:
                if not floored:
                    return False
            elif name not in _DERIVING:
                return False
            child = parent
            continue
        if isinstance(parent, ast.Assign) and parent.value is child and len(parent.targets) == 1:
            target = parent.targets[0]
            if isinstance(target, ast.Attribute) and target.attr == "data":
                return True  # ``p.data = v``
            if not isinstance(target, ast.Name):
                return False
            reads = [read for read, _ in reads_in(function).get(target.id, [])]
            return bool(reads) and all(
                only_initialises(function, read, floored=floored, depth=depth + 1) for read in reads
            )
        return False
    return False


def _is_parameter_data(method: ast.expr) -> bool:
    """``self.logs.data.copy_``: a write into a parameter's data, past autograd."""
    return isinstance(method, ast.Attribute) and isinstance(method.value, ast.Attribute) and method.value.attr == "data"


def _is_initialiser(func: ast.expr) -> bool:
    """``nn.init.constant_(p, v)``, ``torch.nn.init.normal_``: an initialiser of a parameter."""
    return (
        isinstance(func, ast.Attribute) and func.attr.endswith("_") and isinstance(func.value, ast.Attribute)
        and func.value.attr == "init"
    )
