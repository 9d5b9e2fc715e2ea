"""Shapes: the rank and the known sizes of a value, where the code pins them down.

``torch.rand(3, 5)`` is ``(3, 5)``, ``np.zeros(n)`` is ``(None,)`` (rank 1, size unknown),
an elementwise op broadcasts its operands' shapes, a reduction over a literal dim drops it
(or keeps a 1 with ``keepdim=True``), a reduction over every element is ``()``. ``None``
is *unknown* (a parameter, a reshape with sizes the code does not say). Used where a
rewrite needs a dim the code leaves out: ``log(sum(exp(x)))`` of a vector is
``logsumexp(x, 0)``.
"""

from __future__ import annotations

import ast
from typing import Callable
from weakref import WeakKeyDictionary

from stablelint.analysis import values as v
from stablelint.analysis.reductions import reduction_args
from stablelint.analysis.values import Value

Shape = tuple  # of int | None, one per dim

_ELEMENTWISE = frozenset({
    "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "reciprocal", "abs", "square", "neg", "relu", "sigmoid",
    "tanh", "softplus", "clamp", "relu6", "elu", "gelu", "silu", "softsign", "hardsigmoid", "log_sigmoid",
    "softmax", "log_softmax", "cumsum", v.ADD, v.SUB, v.MUL, v.DIV, v.POW, v.NEG, "maximum", "minimum", "where",
})
_REDUCTIONS = frozenset({"sum", "mean", "max", "spread", "norm", "logsumexp"})
# Constructors and where their sizes are: all positional arguments (or one tuple), or the
# argument after a PRNG key (jax.random), or linspace's count.
_SIZED = frozenset({"rand", "randn"})
_FILLED_BY_SIZE = ("zeros", "ones", "empty", "full", "rand", "randn", "random", "normal", "uniform", "standard_normal")


SizeOf = Callable[[ast.expr], "int | None"]


def _sizes(expr: ast.expr, size_of: SizeOf | None = None) -> Shape | None:
    """``(3, 4)``, ``[3, 4]``, ``3``, ``n`` as a shape (unknown sizes as None)."""
    if isinstance(expr, (ast.Tuple, ast.List)):
        if any(isinstance(element, ast.Starred) for element in expr.elts):
            return None
        return tuple(_size(element, size_of) for element in expr.elts)
    return (_size(expr, size_of),)


def _size(expr: ast.expr, size_of: SizeOf | None = None) -> int | None:
    if isinstance(expr, ast.Constant) and type(expr.value) is int:
        return expr.value
    if size_of is not None and isinstance(expr, (ast.Name, ast.Attribute, ast.BinOp)):
        return size_of(expr)
    return None


def constructed(call: ast.Call, framework: str | None, size_of: SizeOf | None = None) -> Shape | None:
    """The shape a constructor call makes, from its arguments; ``size_of`` gives the whole
    number a size written as a name or a formula holds (``size = 10`` … ``randn(size, size)``)."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
    if name.endswith("_like"):
        return None
    if name == "linspace":
        count = call.args[2] if len(call.args) > 2 else keywords.get("num", keywords.get("steps"))
        return (_size(count, size_of),) if count is not None else None
    if name == "arange":
        return (None,)
    if name not in _FILLED_BY_SIZE:
        return None
    for key in ("size", "shape"):
        if key in keywords:
            return _sizes(keywords[key], size_of)
    args = list(call.args)
    if framework == "jax" and isinstance(func, ast.Attribute) and args:
        args = args[1:]  # jax.random.normal(key, shape)
    if name in ("full", "normal", "uniform") and framework != "jax":
        args = args[:1] if name == "full" else []  # full(shape, value); np normal(loc, scale, size)
    if not args or any(isinstance(arg, ast.Starred) for arg in args):
        return None
    if len(args) == 1:
        return _sizes(args[0], size_of)
    return tuple(_size(arg, size_of) for arg in args) if framework in ("torch", "numpy") else None


def _broadcast(shapes: list[Shape]) -> Shape | None:
    rank = max(len(shape) for shape in shapes)
    out = []
    for index in range(rank):
        sizes = {shape[index - rank + len(shape)] for shape in shapes if index - rank + len(shape) >= 0}
        known = {size for size in sizes if size is not None and size != 1}
        out.append(known.pop() if len(known) == 1 and None not in sizes else (1 if sizes == {1} else None))
    return tuple(out)


_UNKNOWN_YET = object()


class Shapes:
    """Shapes of values, memoized: ``of(value)`` is a tuple of sizes or None (unknown)."""

    def __init__(self, imports=None) -> None:
        # Held weakly: a value the evaluator no longer keeps is asked about no more.
        self._memo: WeakKeyDictionary[Value, Shape | None] = WeakKeyDictionary()
        self._imports = imports

    def of(self, value: Value | None, depth: int = 0) -> Shape | None:
        if value is None or depth > 24:
            return None
        cached = self._memo.get(value, _UNKNOWN_YET)
        if cached is not _UNKNOWN_YET:
            return cached
        shape = self._compute(value, depth)
        self._memo[value] = shape
        return shape

    def _compute(self, value: Value, depth: int) -> Shape | None:
        kind = value.kind
        if kind == v.CONST:
            return ()
        if value.shape is not None:
            return value.shape  # a constructor's, with the sizes its names hold (``analysis.evaluate``)
        if isinstance(value.node, ast.Call) and (kind in _SIZED or kind == v.RANGED):
            framework = value.framework
            if framework is None and self._imports is not None:
                qualified = self._imports.qualified_name(value.node.func) or ""
                framework = {"torch": "torch", "numpy": "numpy", "jax": "jax", "tensorflow": "tf"}.get(
                    qualified.split(".")[0])
            return constructed(value.node, framework)
        if kind in _ELEMENTWISE and value.operands:
            shapes = [self.of(operand, depth + 1) for operand in value.operands if operand is not None]
            if any(shape is None for shape in shapes) or not shapes:
                return None
            return _broadcast(shapes)
        if kind in _REDUCTIONS and value.operands and value.op is not None:
            return self._reduced(value, self.of(value.operands[0], depth + 1))
        return None

    def _reduced(self, value: Value, shape: Shape | None) -> Shape | None:
        if shape is None:
            return None
        args = reduction_args(value.op, value.framework or "torch")
        if args is None:
            return None
        keepdims = args.keepdims
        if isinstance(keepdims, ast.AST) and not isinstance(keepdims, ast.Constant):
            return None  # kept or not, the code does not say here
        keep = isinstance(keepdims, ast.Constant) and keepdims.value is True
        if args.axis is None or (isinstance(args.axis, ast.Constant) and args.axis.value is None):
            return tuple(1 for _ in shape) if keep else ()
        axes = args.axis.elts if isinstance(args.axis, (ast.Tuple, ast.List)) else [args.axis]
        dims = []
        for axis in axes:
            number = axis.operand.value * -1 if isinstance(axis, ast.UnaryOp) and isinstance(
                axis.op, ast.USub) and isinstance(axis.operand, ast.Constant) else getattr(axis, "value", None)
            if type(number) is not int or not -len(shape) <= number < len(shape):
                return None
            dims.append(number % len(shape))
        return tuple(1 if index in dims else size for index, size in enumerate(shape) if keep or index not in dims)
