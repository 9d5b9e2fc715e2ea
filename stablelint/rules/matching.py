"""Shapes the rules match on: a framework family, "1 + y", a max-subtraction, a count,
a reduction's axis arguments, and the spelling of a stable replacement call."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace

from stablelint import frameworks
from stablelint.analysis import values as v
from stablelint.analysis.counts import is_count_name
from stablelint.analysis.values import Value
from stablelint.fixes import ATOMS
from stablelint.ir import Op, constant_value, identifier_of, same_expression
from stablelint.rules.base import Context
from stablelint.signs import NONPOSITIVE, sign


def family(*ops: Op | None) -> str | None:
    """The framework the fix must speak: one framework for all ops, else None.

    Keras 3's ``keras.ops`` is its own family: its stable functions live in ``keras.ops``.
    """
    found = {op.framework for op in ops if op is not None and op.framework is not None}
    if len(found) != 1:
        return None
    (framework,) = found
    names = [op.qualified_name or "" for op in ops if op is not None]
    if framework == "tf" and any(name.startswith("keras.backend.") for name in names):
        return None  # Keras 2's backend: its stable functions are not keras.ops' (Keras 3 only)
    if framework == "tf" and any(name.startswith("keras.") for name in names):
        return "keras"
    return framework


def takes_only_input(op: Op) -> bool:
    positional, keywords = op.other_args()
    return op.input is not None and not positional and not keywords


def arguments_of(op: Op) -> list[ast.expr]:
    """Every sub-expression a fix copies out of ``op``'s call."""
    copied = [op.input] if op.method and op.input is not None else []
    return copied + list(op.call.args) + [keyword.value for keyword in op.call.keywords]


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


def is_max_like(ctx: Context, expr: ast.expr, of: ast.expr | None = None) -> bool:
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
            return of is None or op.input is None or builtin or _same_tensor(ctx, op.input, of)
        if op is not None and op.kind == "identity" and op.input is not None:
            expr = op.input
            continue
        inner = _shape_op_input(ctx, expr)
        if inner is not None:
            expr = inner
            continue
        if isinstance(expr, ast.Name):
            definition = ctx.env.definition(expr.id)
            if definition is None:
                return False
            expr = definition[0]
            continue
        return False
    return False


def _is_module(ctx: Context, expr: ast.expr) -> bool:
    return ctx.imports.qualified_name(expr, ctx.env) is not None


def _same_tensor(ctx: Context, left: ast.expr, right: ast.expr) -> bool:
    """The same array, up to definitions and value-preserving wrappers."""
    return same_expression(_strip_wrappers(ctx, left), _strip_wrappers(ctx, right))


def _shape_op_input(ctx: Context, expr: ast.expr) -> ast.expr | None:
    """``x`` of ``x.unsqueeze(1)`` or ``np.expand_dims(x, 1)``; None for other expressions."""
    if not (isinstance(expr, ast.Call) and identifier_of(expr.func) in _SHAPE_OPS):
        return None
    func = expr.func
    if isinstance(func, ast.Attribute) and not _is_module(ctx, func.value):
        return func.value
    return expr.args[0] if expr.args else None


def _strip_wrappers(ctx: Context, expr: ast.expr) -> ast.expr:
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


def is_shifted_by_max(ctx: Context, expr: ast.expr | None) -> bool:
    """``x - max(x)``: the stable logsumexp/softmax trick, or anything below it."""
    if expr is None:
        return False
    difference = _difference(ctx.resolve(expr))
    return difference is not None and is_max_like(ctx, difference[1], of=difference[0])


_COUNT_CALLS = frozenset({
    "len", "int", "numel", "size", "dim", "nelement", "count_nonzero", "range", "arange",
    "floor", "ceil", "round", "trunc",  # integer-valued: log(1 + floor(t)) is exact enough
})


def looks_like_count(ctx: Context, expr: ast.expr) -> bool:
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


def is_nonpositive(ctx: Context, expr: ast.expr | None) -> bool:
    """``-abs(x)``, ``-x**2 / s``, ``x - max(x)``: exp of these cannot overflow.

    A max-shift scaled by a factor (``r * (x - x_max)``, ``(x - m) / temperature``) counts
    too: the scale is a temperature or a sharpness, positive by intent, and the code shows
    the max-subtraction trick on purpose."""
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
    return False


def is_constant_expression(ctx: Context, expr: ast.expr) -> bool:
    """Literals and module constants only (``2``, ``np.pi / 2``): nothing to lose at run time."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Name) and node.id not in ctx.imports.names:
            return False
        if isinstance(node, ast.Call):
            return False
    return True


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


def is_true(expr: ast.expr | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is True


def axis_arguments(ctx: Context, args: ReductionArgs, framework: str, *, keep: bool = True) -> list[str]:
    key = "tf" if framework == "keras" else framework
    rendered = []
    if args.axis is not None:
        axis = ctx.text(args.axis)
        rendered.append(f"{frameworks.AXIS_KEYWORD[key]}={axis}" if args.axis_keyword else axis)
    if keep and args.keepdims is not None:
        rendered.append(f"{frameworks.KEEPDIMS_KEYWORD[key]}={ctx.text(args.keepdims)}")
    return rendered


def stable_call(ctx: Context, target: str, framework: str, arguments: list[str], *, like: Op | None):
    qualified = frameworks.STABLE[(target, framework)]
    function, imports = ctx.spell(qualified, like=like)
    return f"{function}({', '.join(arguments)})", imports


# -- on values (analysis.values): what the rules ask of the value model


def fixable(*values: Value) -> bool:
    """A fix may rewrite these: each is a call of a known function reached through names
    of the use's own scope (not an attribute set elsewhere, a module or a helper)."""
    return all(value.local and value.op is not None for value in values)


def is_unit(term: v.Term, others: list[v.Term]) -> bool:
    """``1``/``1.0``, or ``ones_like(t)`` beside a term computed from t (same shape)."""
    value = term.value
    if value.kind != v.CONST or abs(value.const) != 1.0:
        return False
    if not isinstance(value.detail, tuple):
        return True
    like = value.detail[1]
    for other in others:
        candidates = [other.node, other.value.node]
        if other.value.op is not None:
            candidates.append(other.value.op.input)
        if any(node is not None and same_expression(like, node) for node in candidates):
            return True
    return False


def one_plus_terms(value: Value) -> tuple[v.Term, list[v.Term]] | None:
    """``1 + rest`` in any order (``x + 1``, ``1 - x``, ``a - b + 1``, ``a + 1 - b``): the
    unit term and the rest; None when there is not exactly one +1 and nothing else constant."""
    found = v.terms(value)
    if len(found) < 2:
        return None
    units = [term for term in found if term.sign * (term.value.const or 0) == 1 and is_unit(term, found)]
    if len(units) != 1:
        return None
    rest = [term for term in found if term is not units[0]]
    if any(_is_constant(term.value) or _names_an_eps(term.node) for term in rest):
        return None  # ``1 + x - 0.5``, ``1 - p + eps``, ``+ torch.tensor(1e-7)``: the constant part is not 1
    return units[0], rest


def _is_constant(value: Value) -> bool:
    """A number, or an array holding one number (``torch.tensor(1e-7).float().to(device)``,
    ``np.full(n, 0.5)``)."""
    for _ in range(4):
        if value.kind != v.INDEX or not value.operands:
            break
        value = value.operand()  # a cast, a reshape or a move keeps the one number
    return value.kind == v.CONST or (
        value.kind == v.RANGED and getattr(value.detail, "lo", None) is not None and value.detail.lo == value.detail.hi
    )


_EPS_NAME = re.compile(r"(?:eps|epsilon|tiny|_?eps_?\w*|\w*_eps|\w*_epsilon|delta|jitter|smooth(?:ing)?)", re.I)


def _names_an_eps(node: ast.expr | None) -> bool:
    """``eps``, ``self.epsilon``, ``EPS``, ``K.epsilon()``: a small constant by its name."""
    if isinstance(node, ast.Call) and not node.args:
        node = node.func
    name = identifier_of(node) if node is not None else ""
    return bool(name) and _EPS_NAME.fullmatch(name) is not None


def terms_text(ctx: Context, found: list[v.Term]) -> str | None:
    """Source for the sum of these signed terms, in their written order."""
    pieces = []
    for index, term in enumerate(found):
        if term.node is None:
            return None
        text = ctx.text(term.node)
        node = term.node
        if not isinstance(node, ATOMS + (ast.BinOp, ast.UnaryOp)) or (
            isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub))
        ) or (isinstance(node, ast.UnaryOp) and term.sign < 0):
            text = f"({text})"
        if index == 0:
            pieces.append(text if term.sign > 0 else f"-{text}")
        else:
            pieces.append(f" + {text}" if term.sign > 0 else f" - {text}")
    return "".join(pieces)


def naive_softmax_parts(quotient: Value) -> tuple[Value, Value, Value] | None:
    """``exp(x) / sum(exp(x))`` as (numerator exp, sum, denominator exp)."""
    if quotient.kind != v.DIV:
        return None
    exp, total = quotient.operand(0), quotient.operand(1)
    if total.kind == v.INDEX and total.operand().kind == "sum":
        total = replace(total.operand(), op=None)  # tile/broadcast of the sum: report, no fix
    if exp.kind != "exp" or total.kind != "sum" or exp.op is None or total.operand().kind != "exp":
        return None
    denominator = total.operand()
    if denominator.kind != "exp" or denominator.op is None or exp.op.input is None:
        return None
    same = denominator.node is exp.node or (
        denominator.op.input is not None and same_expression(exp.op.input, denominator.op.input)
    )
    return (exp, total, denominator) if same else None


def softmax_of(value: Value) -> Value | None:
    """A softmax, called or written out (``e / e.sum(-1, keepdim=True)``)."""
    if value.kind == "softmax" or naive_softmax_parts(value) is not None:
        return value
    return None


def rewrapped(ctx: Context, indexed: Value, content: str) -> str | None:
    """The text of ``indexed`` (``p[..., i]``, ``p.gather(1, y)``, ``p.view(-1)``) with its
    base ``p`` replaced by ``content``: log is elementwise, so it may go inside."""
    if indexed.node is None or not isinstance(indexed.detail, ast.AST):
        return None
    base_start, base_end = ctx.index.span(indexed.detail)
    start, end = ctx.index.span(indexed.node)
    if not start <= base_start <= base_end <= end:
        return None
    text = ctx.index.source
    return text[start:base_start] + content + text[base_end:end]


def exp_cannot_overflow(ctx: Context, exp: Value, *, underflow_matters: bool = True) -> bool:
    """The interval engine shows exp's argument stays within the dtype's range on both
    sides (``exp(torch.tanh(x))``, ``exp(torch.clamp(s, -20, 20))``): nothing to stabilise.
    Without ``underflow_matters`` only the upper end counts (``log1p(exp(clamp(x, max=20)))``:
    an exp that underflows to 0 there gives the correctly rounded 0)."""
    from stablelint.analysis import intervals

    argument = ctx.range(exp.operand())
    if exp.node is not None and exp.op is not None and exp.op.input is not None:
        argument = ctx.range_at(exp.node, exp.op.input)  # narrowed by the branch it runs in
    if argument is None:
        return False
    dtype = ctx.dtype_of(exp)
    below = not underflow_matters or intervals.EXP_UNDERFLOW[dtype] / 2 < argument.lo
    return below and argument.hi < intervals.EXP_OVERFLOW[dtype] - 1
