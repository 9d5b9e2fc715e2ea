"""A reduction's axis and keep-dims arguments, read by its framework's signature."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from stablelint import frameworks
from stablelint.ir import Op


@dataclass
class ReductionArgs:
    axis: ast.expr | None
    axis_keyword: bool
    keepdims: ast.expr | None


def reduction_args(op: Op, framework: str) -> ReductionArgs | None:
    """Axis and keep-dims arguments of a ``sum``; None if it has others (dtype, out…)."""
    signature = frameworks.SUM_SIGNATURES.get("tf" if framework == "keras" else framework)
    if signature is None or op.qualified_name == "builtins.sum":
        return None  # Python's sum reduces the first axis only: no axis to pass on
    positional, keywords = op.other_args()
    args = ReductionArgs(None, False, None)
    if len(positional) > len(signature.positional):
        return None
    if any(isinstance(value, ast.Starred) for value in positional) or any(k.arg is None for k in keywords):
        return None  # *args / **kwargs: which parameter is which is unknown
    for role, value in zip(signature.positional, positional):
        if role == "axis":
            args.axis = value
        elif role == "keepdims":
            args.keepdims = value
        else:
            return None
    for keyword in keywords:
        if keyword.arg in signature.axis_names:
            args.axis, args.axis_keyword = keyword.value, True
        elif keyword.arg in signature.keepdims_names:
            args.keepdims = keyword.value
        elif not op.method and keyword.arg in ("input", "a", "input_tensor", "x") and keyword.value is op.input:
            continue
        else:
            return None
    return args
