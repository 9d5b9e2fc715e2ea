"""STB208: a per-group mean divided by the group's count, where a group can be empty."""

from __future__ import annotations

import ast

from stablelint.analysis import values as v
from stablelint.analysis.values import Value
from stablelint.ir import identifier_of
from stablelint.rules.base import Context, Invalid, Rule, Valid

_INDICATOR_CALLS = frozenset({"one_hot"})
_IDENTITY_CALLS = frozenset({"eye", "identity"})
_CASTS = frozenset({"float", "double", "half", "astype", "to", "type", "cast"})


def indicator(ctx: Context, expr: ast.expr, depth: int = 0) -> str | None:
    """How ``expr`` is an indicator array (0/1 per sample and group), or None: ``eye(k)[labels]``,
    ``one_hot(labels, k)``, either cast to a float."""
    if depth > 4:
        return None
    expr = ctx.resolve(expr)
    if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Call):
        if identifier_of(expr.value.func) in _IDENTITY_CALLS:
            return f"rows of {ctx.text(expr.value)}"
    if isinstance(expr, ast.Call):
        name = identifier_of(expr.func)
        if name in _INDICATOR_CALLS:
            return f"{name}(...)"
        if name in _CASTS:
            inner = expr.func.value if isinstance(expr.func, ast.Attribute) and name != "cast" else (
                expr.args[0] if expr.args else None
            )
            if inner is not None:
                return indicator(ctx, inner, depth + 1)
    return None


class CountOfEmptyGroup(Rule):
    """
    ## What it does
    Finds a per-group mean divided by the number of samples in each group, counted from an
    indicator array: `(x[:, None] * onehot[:, :, None]).sum(0) / onehot.sum(0)[:, None]` with
    `onehot = np.eye(k)[labels]`, `F.one_hot(y, k)`, `tf.one_hot(y, k)` or `jax.nn.one_hot(y, k)`
    (also cast, `.float()`) — k-means centres, class prototypes, per-class accuracies,
    per-cluster statistics. A count with an eps or a floor (`count + 1e-8`,
    `np.maximum(count, 1)`, `count.clamp(min=1)`) or a `where(count > 0, …)` around it is not
    reported.

    ## Why is this bad?
    A group with no sample (an empty k-means cluster after a bad initialisation, a class absent
    from the batch) has a count of 0, and its mean is `0 / 0 = NaN` — which then spreads
    through every distance to that centre, or every loss term it feeds.

    ## Fix safety
    No fix: whether an empty group should keep its old centre, get 0, or be re-seeded is the
    algorithm's choice (`np.maximum(count, 1)` gives 0, the usual choice for a prototype).

    ## References
    - Bishop, *Pattern Recognition and Machine Learning*, §9.1 (k-means; empty clusters).
    - Arthur, Vassilvitskii, *k-means++: The Advantages of Careful Seeding*, SODA 2007.
    """

    code = "STB208"
    name = "mean-of-empty-group"
    message = (
        "a group's count can be 0 (an empty cluster or class): its mean is 0 / 0 = NaN; divide by max(count, 1)"
    )
    fix_safety = "none"
    on = ("div",)
    autocast = "Not affected: a zero count is 0 in every dtype."
    valid = [
        Valid("onehot = np.eye(k)[labels]\ncenters = onehot.T @ x / np.maximum(onehot.sum(0), 1)[:, None]", "numpy"),
        Valid("onehot = F.one_hot(y, 10).float()\nmeans = onehot.T @ x / (onehot.sum(0)[:, None] + 1e-8)"),
        Valid("onehot = F.one_hot(y, 10).float()\nmeans = onehot.T @ x / onehot.sum(0).clamp(min=1)[:, None]"),
        Valid("w = torch.rand(5, 3)\nmeans = w.T @ x / w.sum(0)[:, None]"),
    ]
    invalid = [
        Invalid("onehot = np.eye(k)[labels]\ncenters = onehot.T @ x / onehot.sum(0)[:, None]", None, "numpy"),
        Invalid("onehot = F.one_hot(y, 10).float()\nmeans = onehot.T @ x / onehot.sum(0)[:, None]", None),
        Invalid("onehot = tf.one_hot(y, 10)\nmeans = tf.matmul(onehot, x, transpose_a=True) / "
                "tf.reduce_sum(onehot, axis=0)[:, None]", None, "tf"),
        Invalid("onehot = jax.nn.one_hot(y, 10)\nmeans = onehot.T @ x / onehot.sum(0)[:, None]", None, "jax"),
    ]

    def check(self, node: ast.AST, quotient: Value, ctx: Context) -> None:
        if len(quotient.operands) != 2 or not isinstance(node, ast.BinOp):
            return
        count = quotient.operand(1)
        while count.kind == v.INDEX and count.operand().known:
            count = count.operand()  # counts[:, None]
        if count.kind != "sum" or count.op is None or count.op.input is None:
            return
        how = indicator(ctx, count.op.input)
        if how is None:
            return
        if ctx.branch_rules_out(node, node.right, "zero"):
            return
        message = (
            f"{self.message.split(';')[0]} (the count sums {how}); divide by max(count, 1)"
        )
        self.report(ctx, node, None, list(count.via), message=message)


RULES = [CountOfEmptyGroup]
