"""Shapes the rules match on: a framework family, "1 + y", a softmax written out, and the
spelling of a stable replacement call. (The facts they rest on — signs, maxima, counts, a
reduction's axis arguments — are the analysis's, in ``analysis/``.)"""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from stablelint import frameworks
from stablelint.analysis import values as v
from stablelint.analysis.reductions import ReductionArgs
from stablelint.analysis.values import Value
from stablelint.fixes import ATOMS
from stablelint.ir import Op, identifier_of, same_expression
from stablelint.rules.base import Context


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


def is_constant_expression(ctx: Context, expr: ast.expr) -> bool:
    """Literals and module constants only (``2``, ``np.pi / 2``): nothing to lose at run time."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Name) and node.id not in ctx.imports.names:
            return False
        if isinstance(node, ast.Call):
            return False
    return True


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
    if not same and denominator.op.input is not None:
        # ``exp(clip(x, -87, 87)) / sum(exp(x))``: one side clipped, the other not, is still
        # the softmax of x, and the unclipped side overflows (``clipped_apart`` tells).
        same = same_expression(_unclamped(exp), _unclamped(denominator))
    return (exp, total, denominator) if same else None


def _unclamped(exp: Value) -> ast.expr | None:
    """The input of ``exp``, or of the clip/clamp that is its input."""
    inner = exp.operand() if exp.operands else None
    if inner is not None and inner.kind == "clamp" and inner.op is not None and inner.op.input is not None:
        return inner.op.input
    return exp.op.input


def clipped_apart(exp: Value, denominator: Value) -> bool:
    """Do the numerator's and the denominator's exp take different inputs (one of them clipped)?"""
    return denominator.node is not exp.node and not same_expression(exp.op.input, denominator.op.input)


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
    an exp that underflows to 0 there gives the correctly rounded 0). Python's ``math.exp``
    raises past its range instead of overflowing (``intervals.RAISES_INSTEAD_OF_INF``)."""
    from stablelint.analysis import intervals

    argument = ctx.range(exp.operand())
    if exp.node is not None and exp.op is not None and exp.op.input is not None:
        argument = ctx.range_at(exp.node, exp.op.input)  # narrowed by the branch it runs in
    raises = exp.framework in intervals.RAISES_INSTEAD_OF_INF  # ``math.exp``: an OverflowError, never inf
    if argument is None:
        return raises and not underflow_matters
    dtype = ctx.dtype_of(exp)
    below = not underflow_matters or intervals.EXP_UNDERFLOW[dtype] / 2 < argument.lo
    return below and (raises or argument.hi < intervals.EXP_OVERFLOW[dtype] - 1)


def activation_input(activation: Value) -> dict[str, Value] | None:
    """A failure model's ``x``: the input of an activation called in the code (a layer's
    activation applies to the layer's output, which its operand is not)."""
    written_out = activation.detail == "written out" and activation.operand() is not v.UNKNOWN_VALUE
    return {"x": activation.operand()} if activation.op is not None or written_out else None
