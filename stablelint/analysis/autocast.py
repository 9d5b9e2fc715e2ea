"""Autocast regions: where PyTorch's autocast decides the dtype an op computes in.

Inside ``with torch.autocast("cuda"):`` (or ``torch.cuda.amp.autocast()``, a decorator of
the same, ``dtype=torch.bfloat16``) matmuls, Linear and conv layers compute in float16 —
bfloat16 for ``device_type="cpu"`` — while exp, log, softmax, sum and the other ops on
autocast's float32 list compute in float32. Everything else computes in its inputs' dtype.
``enabled=False`` switches autocast off again for its block. (PyTorch, "Automatic Mixed
Precision package", op eligibility lists.)
"""

from __future__ import annotations

import ast

from stablelint.analysis import values as v
from stablelint.syntax import statements

# Value kinds autocast runs in the lower precision, and those it runs in float32.
LOWER = frozenset({"matmul", v.LINEAR})
FLOAT32 = frozenset({
    "exp", "log", "log1p", "expm1", "softmax", "log_softmax", "sum", "cumsum", "norm", "softplus", v.POW,
})
OFF = "off"  # an ``enabled=False`` block: ops compute in their inputs' dtype

_DTYPES = {"float16": "float16", "half": "float16", "bfloat16": "bfloat16"}


class Autocast:
    """The autocast regions of one file, found the first time they are asked for."""

    def __init__(self, tree: ast.Module, imports, source: str | None) -> None:
        self._tree = tree
        self._imports = imports
        self._wanted = source is None or "autocast" in source
        self._regions: list[tuple[int, int, str]] | None = None

    def at(self, node: ast.AST | None) -> str | None:
        """The autocast dtype at ``node`` (``OFF`` in a disabled block), or None outside autocast."""
        if not self._wanted or node is None or not hasattr(node, "lineno"):
            return None
        if self._regions is None:
            self._regions = self._find()
        found, width = None, None
        for first, last, dtype in self._regions:
            if first <= node.lineno <= last and (width is None or last - first < width):
                found, width = dtype, last - first  # the innermost region holding the node
        return found

    def _find(self) -> list[tuple[int, int, str]]:
        regions = []
        for node in statements(self._tree):
            if isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    dtype = self._autocast_dtype(item.context_expr)
                    if dtype is not None and node.body:
                        regions.append((node.body[0].lineno, node.end_lineno or node.lineno, dtype))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for decorator in node.decorator_list:
                    dtype = self._autocast_dtype(decorator)
                    if dtype is not None:
                        regions.append((node.body[0].lineno, node.end_lineno or node.lineno, dtype))
        return regions

    def _autocast_dtype(self, expr: ast.expr) -> str | None:
        if not isinstance(expr, ast.Call):
            return None
        qualified = self._imports.qualified_name(expr.func)
        if qualified is None or not qualified.startswith("torch.") or not qualified.endswith("autocast"):
            return None
        keywords = {keyword.arg: keyword.value for keyword in expr.keywords if keyword.arg}
        enabled = keywords.get("enabled")
        if isinstance(enabled, ast.Constant) and enabled.value is False:
            return OFF
        said = keywords.get("dtype")
        if isinstance(said, ast.Attribute) and said.attr in _DTYPES:
            return _DTYPES[said.attr]
        if said is not None:
            return None  # a dtype set elsewhere: no claim
        device = keywords.get("device_type", expr.args[0] if expr.args else None)
        if qualified.startswith("torch.cpu.") or (isinstance(device, ast.Constant) and device.value == "cpu"):
            return "bfloat16"
        if qualified.startswith("torch.cuda.") or (isinstance(device, ast.Constant) and device.value == "cuda"):
            return "float16"
        return None  # a device decided elsewhere: no claim
