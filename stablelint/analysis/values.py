"""The abstract value of an expression: what produced it, and what is known of it.

One ``Value`` per expression, computed on demand by ``evaluate.Evaluator`` and read by
every rule. It says which canonical op produced the value (``softmax``, ``sigmoid``,
``exp``, ``add`` …, with the values of its operands), where that op stands in the file,
whether the use reaches it through same-scope names only (then a fix may copy its code)
or from further away (an attribute set in another method, a module object, a helper's
return, the arguments of every call site), and whether it holds whole numbers.

Ranges, dtypes and shapes are facts of the same value; they are added here, not in a
second analysis beside it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, NamedTuple

if TYPE_CHECKING:
    from stablelint.ir import Op

# Kinds that are not the output of an op.
UNKNOWN = "unknown"  # nothing is known: a parameter, an attribute never set here
CONST = "const"  # a number written in the code (or a module constant such as pi)
MODULE = "module"  # an object that computes ``detail.output`` when called (nn.Softmax(dim=1))
INDEX = "index"  # ``v[...]``, ``v.gather(...)``, ``take_along_axis(v, ...)``: elements of v
ATTRIBUTE = "attribute"  # ``v.name`` of an array: ``x.shape``, ``x.values`` …
LINEAR = "linear"  # the output of an affine layer (Linear, Dense, conv): spans all of R
TUPLE = "tuple"  # a tuple written out (``return prob, logit``): its elements are the operands
WEIGHT = "weight"  # a trainable weight (``tf.Variable``, ``nn.Parameter``): no range, learned
RANGED = "ranged"  # an array built with a known range of values (zeros, full, arange, linspace): detail

# Binary arithmetic, whatever the spelling (``a - b``, ``a.sub(b)``, ``np.subtract(a, b)``).
ADD, SUB, MUL, DIV, POW, NEG, FLOORDIV, MOD = "add", "sub", "mul", "div", "pow", "neg", "floordiv", "mod"


@dataclass(frozen=True)
class ModuleSpec:
    """What a module object computes: ``output`` is the op kind of its call's result."""

    output: str
    framework: str | None
    description: str  # ``nn.Softmax(dim=1)``, as written (shortened)
    line: int
    result: "Value | None" = None  # for a class of this file: the value its forward returns
    file: str | None = None  # the project file it is built in, when not the file at hand
    # For a class of the project: what its forward returns given the values a call passes
    # (positional, keywords), or None when that is not known — the result with the call's
    # own arguments (``sigmoid(clip(y, 1e-15, 1))`` through ``Sigmoid()(y)``).
    forward_with: "Callable[[list[Value], dict[str, Value]], Value | None] | None" = field(default=None, compare=False)
    # For a class of the project: the value of an attribute its methods set (``model.loss``,
    # ``self.loss = nn.BCELoss()`` in ``__init__``), or None when that is not known.
    attribute: "Callable[[str], Value | None] | None" = field(default=None, compare=False)
    qualified: str | None = None  # a framework module's class (``torch.nn.BCELoss``), for one built elsewhere


@dataclass(frozen=True, eq=False)
class Value:
    kind: str
    framework: str | None = None
    operands: tuple["Value", ...] = ()
    node: ast.AST | None = None  # the expression computing it, when it stands in this file
    op: "Op | None" = None  # the call's canonical op (calls of known functions only)
    const: float | None = None  # the number, for CONST
    integer: bool = False  # holds whole numbers only (counts, indices, lengths, integer dtypes)
    local: bool = True  # reached through names of the use's own scope only: a fix may copy it
    via: tuple[tuple[str, int], ...] = ()  # the names followed from the use, with their lines
    origin: str | None = None  # how a non-local value reached the use, said in messages
    detail: object = None  # kind-specific: a ModuleSpec, an attribute name …
    dtype: str | None = None  # float16/bfloat16/float32/float64 where the code says so (a cast, dtype=)
    detached: bool = False  # cut from the autodiff graph (``.detach()``, ``stop_gradient``): no gradient flows back
    # A constructor's shape with the sizes its names and formulas hold (``randn(size, size)``
    # after ``size = 10``: (10, 10)); None: ``analysis.shapes`` reads the call's literals.
    shape: tuple | None = None

    @property
    def known(self) -> bool:
        return self.kind != UNKNOWN

    def through(self, name: str, line: int) -> "Value":
        """The same value, reached through ``name`` bound on ``line``."""
        return self.but(via=((name, line),) + self.via)

    def remote(self, origin: str | None) -> "Value":
        """The same value, reached from outside the use's scope (no fix may copy it)."""
        return self.but(local=False, origin=self.origin if self.origin and not origin else origin)

    def but(self, **changes) -> "Value":
        """``dataclasses.replace(self, **changes)`` without its checks and its call of
        ``__init__`` (which sets each field of a frozen instance through ``object.__setattr__``):
        values are copied with a change tens of thousands of times per file."""
        copy = object.__new__(Value)
        fields = copy.__dict__
        fields.update(self.__dict__)
        fields.update(changes)
        return copy

    def operand(self, index: int = 0) -> "Value":
        return self.operands[index] if len(self.operands) > index else UNKNOWN_VALUE


UNKNOWN_VALUE = Value(UNKNOWN)


def clamp_floor(value: Value) -> Value | None:
    """The lower bound a clamp sets: ``lo`` of ``clamp(x, min=lo)`` / ``clip(x, lo, hi)`` and of
    ``maximum(x, lo)``; None for any other value (or a clamp with no lower bound)."""
    if value.kind == "clamp" and isinstance(value.detail, tuple):
        return value.detail[0]
    if value.kind == "maximum":
        return value.operand(1)
    return None


class Term(NamedTuple):
    """One signed term of a sum: its value and the expression written for it."""

    sign: int
    value: Value
    node: ast.expr | None


def terms(value: Value, *, top: bool = True, depth: int = 0) -> list[Term]:
    """A sum as signed terms: ``a - b + 1`` -> [+a, -b, +1].

    The same formula written in another order (``high + 1 - low``, ``high - low + 1``)
    gets the same terms. Only the sum itself (at the use, or the definition a name at the
    use was bound to) is opened; a term that is a name stays that name.
    """
    parts = _written_operands(value) if depth < 16 and (top or not value.via) else None
    if parts is None:
        return [Term(1, value, None)]
    if value.kind == NEG:
        (inner,) = parts
        return [Term(-term.sign, term.value, term.node) for term in _opened(inner, depth)]
    left, right = parts
    sign = -1 if value.kind == SUB else 1
    return _opened(left, depth) + [Term(sign * term.sign, term.value, term.node) for term in _opened(right, depth)]


def _opened(part: tuple[Value, ast.expr | None], depth: int) -> list[Term]:
    value, node = part
    opened = terms(value, top=False, depth=depth + 1)
    if len(opened) == 1 and opened[0].value is value:
        return [Term(opened[0].sign, value, node)]
    return opened


def _written_operands(value: Value) -> list[tuple[Value, ast.expr | None]] | None:
    """The operands of a sum or a negation with the expressions written for them."""
    node = value.node
    if value.kind in (ADD, SUB) and len(value.operands) == 2:
        if isinstance(node, ast.BinOp):
            return [(value.operands[0], node.left), (value.operands[1], node.right)]
        if value.op is not None and value.op.input is not None:
            positional, _ = value.op.other_args()
            nodes = (positional[0], value.op.input) if value.op.kind == "rsub" else (value.op.input, positional[0])
            return [(value.operands[0], nodes[0]), (value.operands[1], nodes[1])]
        return None
    if value.kind == NEG and len(value.operands) == 1:
        if isinstance(node, ast.UnaryOp):
            return [(value.operands[0], node.operand)]
        if value.op is not None and value.op.input is not None:
            return [(value.operands[0], value.op.input)]
    return None
