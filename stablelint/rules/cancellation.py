"""Subtractions that cancel: ``sqrt(1 + u) - 1`` (STB123, beside log1p/expm1 in the log/exp
family) and a variance from running moments, ``v - m**2`` (STB207, statistics)."""

from __future__ import annotations

import ast

from stablelint.analysis import intervals as iv
from stablelint.analysis import values as v
from stablelint.analysis.counts import looks_like_count
from stablelint.analysis.values import Value
from stablelint.diagnostics import Fix
from stablelint.rules.base import Context, Invalid, Rule, Valid, proven_range
from stablelint.rules.distributions import may_repeat
from stablelint.rules.matching import fixable, is_constant_expression, one_plus_terms, terms_text
from stablelint.rules.statistics import squared


class SqrtOnePlusMinusOne(Rule):
    """
    ## What it does
    Finds `sqrt(1 + u) - 1` in every framework and in `math`, in function and method form
    (`(1 + u).sqrt() - 1`), also through an assignment — the value-function rescaling
    `h(x) = sign(x) * (sqrt(|x| + 1) - 1) + eps * x` of R2D2, Ape-X DQfD and MuZero, and its
    inverse, which holds `sqrt(1 + 4 * eps * (|x| + 1 + eps)) - 1`.

    ## Why is this bad?
    For small `u`, `sqrt(1 + u)` is `1 + u/2 + …` and the subtraction cancels the leading 1:
    below the dtype's resolution next to 1 (6e-8 in float32, 5e-4 in float16) the result is
    exactly 0, and for slightly larger `u` most digits are lost — `h(x)` of small returns,
    and the inverse's `4 * eps * (|x| + 1)` with `eps = 1e-3`, lose half of float32's digits.
    `u / (sqrt(1 + u) + 1)` is the same function without the cancellation.

    ## Fix safety
    Safe: `u / (sqrt(1 + u) + 1)` equals `sqrt(1 + u) - 1` wherever the original is accurate
    and is more accurate where it is not, with the same dtype and type. `u` is written twice:
    a call in it other than a known array function (`abs`, `square` …) makes no fix.

    When it reports by default: only where the code proves that `u` lies where more than half
    of the dtype's digits are lost (`|u| < 2.5e-4` in float32, `1e-8` in float64) over its
    whole range. An unknown `u` (the returns `h(x)` rescales) is no claim; nor is a whole
    number or a constant.

    ## References
    - Higham, *Accuracy and Stability of Numerical Algorithms*, §1.8 (rearranging to avoid
      cancellation).
    - Pohlen et al., *Observe and Look Further: Achieving Consistent Performance on Atari* (2018):
      `h(x) = sign(x)(sqrt(|x| + 1) - 1) + εx` and its inverse.
    """

    code = "STB123"
    name = "sqrt-one-plus-minus-one"
    message = "sqrt(1 + u) - 1 cancels when |u| is small; use u / (sqrt(1 + u) + 1)"
    fix_safety = "safe"
    on = ("sub",)
    autocast = "`sqrt` runs in the input dtype under autocast: the cancellation is float16's there."
    valid = [
        Valid("x / (torch.sqrt(1 + x) + 1)"),
        Valid("torch.sqrt(2 + x) - 1"),
        Valid("torch.sqrt(1 + x) - 2"),
        Valid("math.sqrt(1 + n) - 1", "math"),
        Valid("np.sqrt(1 + x) - x", "numpy"),
        Valid("torch.sqrt(1 + x) - 1"),
        Valid("math.sqrt(1 + x) - 1", "math"),
    ]
    invalid = [
        Invalid("torch.sqrt(1 + 1e-5 * torch.tanh(x)) - 1",
                "(1e-5 * torch.tanh(x)) / (torch.sqrt(1 + 1e-5 * torch.tanh(x)) + 1)"),
        Invalid("(torch.clamp(x, 0, 1e-5) + 1).sqrt() - 1",
                "torch.clamp(x, 0, 1e-5) / ((torch.clamp(x, 0, 1e-5) + 1).sqrt() + 1)"),
        Invalid("torch.sqrt(torch.abs(1e-5 * torch.tanh(x)) + 1) - 1",
                "torch.abs(1e-5 * torch.tanh(x)) / (torch.sqrt(torch.abs(1e-5 * torch.tanh(x)) + 1) + 1)"),
        Invalid("np.sqrt(1 + 1e-10 * np.tanh(x)) - 1", "(1e-10 * np.tanh(x)) / (np.sqrt(1 + 1e-10 * np.tanh(x)) + 1)",
                "numpy"),
        Invalid("tf.sqrt(1.0 + 1e-5 * tf.tanh(x)) - 1.0",
                "(1e-5 * tf.tanh(x)) / (tf.sqrt(1.0 + 1e-5 * tf.tanh(x)) + 1.0)", "tf"),
        Invalid("jnp.sqrt(jnp.clip(x, 0, 1e-5) + 1) - 1",
                "jnp.clip(x, 0, 1e-5) / (jnp.sqrt(jnp.clip(x, 0, 1e-5) + 1) + 1)", "jax"),
    ]

    def check(self, node: ast.AST, difference: Value, ctx: Context) -> None:
        found = v.terms(difference)
        if len(found) != 2 or sorted(term.sign for term in found) != [-1, 1]:
            return
        root, one = sorted(found, key=lambda term: -term.sign)
        if one.value.kind != v.CONST or one.value.const != 1.0 or root.value.kind != "sqrt" or root.value.op is None:
            return
        inside = root.value.operand()
        split = one_plus_terms(inside)
        if split is None:
            return
        rest = split[1]
        if all(term.value.integer for term in rest):
            return  # sqrt(1 + n) - 1 of a whole n >= 1 cancels nothing
        if any(term.node is None for term in rest) or all(
            looks_like_count(ctx, term.node) or is_constant_expression(ctx, term.node) for term in rest
        ):
            return
        via = list(difference.via + root.value.via + inside.via)
        fix = None
        if fixable(root.value) and difference.local and inside.local and root.node is not None:
            fix = self.fix(ctx, node, root, one, rest, via)
        one_plus_u = proven_range(ctx, inside)  # the range of u is that of 1 + u, less 1
        operands = {"x": iv.sub(one_plus_u, iv.point(1.0)) if one_plus_u is not None else None}
        self.report(ctx, node, fix, via, origins=[root.value], operands=operands)

    def fix(self, ctx: Context, node: ast.AST, root: v.Term, one: v.Term, rest: list, via) -> Fix | None:
        if len(rest) == 1 and rest[0].sign > 0:
            addend = rest[0].node
            numerator = ctx.text(addend) if isinstance(addend, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)) \
                else f"({ctx.text(addend)})"
        else:
            text = terms_text(ctx, rest)
            if text is None:
                return None
            numerator = f"({text})"
        if not all(may_repeat(ctx, term.node) for term in rest):
            return None
        one_text = ctx.text(one.node) if one.node is not None else "1"
        content = f"{numerator} / ({ctx.text(root.node)} + {one_text})"
        return ctx.fix(node, content, via=via, copied=[root.node] + [term.node for term in rest])


# -- running moments


def _same(left: ast.AST, right: ast.AST) -> bool:
    """The same expression, whether it is read or assigned (``ast.dump`` tells those apart)."""
    return ast.unparse(left) == ast.unparse(right)


def _updates(ctx: Context, target: ast.expr) -> list[ast.expr]:
    """The right-hand sides assigned to ``target`` (a name or ``self.<attr>``) in the function
    around the use, or — for an attribute — in any method of its class."""
    scope = ctx.env.function or ctx.evaluator.tree
    roots: list[ast.AST] = [scope]
    if isinstance(target, ast.Attribute):
        owner = ctx.evaluator.facts.owner_of(scope) if scope is not None else None
        if owner is not None:
            roots = [owner]
    found = []
    for root in roots:
        for statement in ast.walk(root):
            if isinstance(statement, ast.Assign) and any(_same(t, target) for t in statement.targets):
                found.append(statement.value)
            elif isinstance(statement, ast.AugAssign) and _same(statement.target, target):
                found.append(statement.value)
    return found


def _moving_average_of(update: ast.expr, target: ast.expr) -> list[ast.expr]:
    """The samples a running-average update adds: ``b * m + (1 - b) * x`` -> [x],
    ``m + (x - m) / n`` is not this (Welford's mean update is fine to square)."""
    terms = []
    pending = [update]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            pending += [node.left, node.right]
        else:
            terms.append(node)
    if not any(any(_same(inner, target) for inner in ast.walk(term) if isinstance(inner, ast.expr)) for term in terms):
        return []  # not a running update of target
    samples = []
    for term in terms:
        if any(_same(inner, target) for inner in ast.walk(term) if isinstance(inner, ast.expr)):
            continue
        factors = _factors(term)  # (1 - b) * x: one factor is the weight
        samples += factors
        samples += [factor for index, factor in enumerate(factors) if any(
            _same(factor, other) for other in factors[index + 1:]
        ) and not isinstance(factor, ast.Constant)]  # (1 - b) * x * x
    return samples


def _factors(term: ast.expr) -> list[ast.expr]:
    if isinstance(term, ast.BinOp) and isinstance(term.op, ast.Mult):
        return _factors(term.left) + _factors(term.right)
    return [term]


def _square_base(ctx: Context, expr: ast.expr) -> ast.expr | None:
    """x of ``x ** 2``, ``x * x``, ``square(x)``, ``mean(x ** 2)``."""
    value = ctx.value(expr)
    base = squared(value)
    if base is not None:
        return base
    if value.kind == "mean" and value.op is not None:
        inner = squared(value.operand())
        if inner is not None:
            return inner
    return None


def _plain(ctx: Context, expr: ast.expr) -> ast.expr:
    """``mean(x)`` -> x: a running average of a batch mean averages the batch's samples."""
    value = ctx.value(expr)
    if value.kind == "mean" and value.op is not None and value.op.input is not None:
        return value.op.input
    return expr


class RunningMomentsVariance(Rule):
    """
    ## What it does
    Finds a variance computed from running (exponentially averaged or accumulated) first and
    second moments: `v - m ** 2` where `m` is a moving average of `x` and `v` of `x ** 2` —
    centred RMSprop, PopArt and running reward/observation normalisers:
    `self.nu - self.mu ** 2` after `self.mu = b * self.mu + (1 - b) * x.mean()` and
    `self.nu = b * self.nu + (1 - b) * (x ** 2).mean()`, in any framework. The mean-of-squares
    form over samples at hand is STB201's. Not reported in float64 (NumPy and Python floats
    where nothing casts them): the mean must be about 1e8 times the spread there, a magnitude
    reported only where the code establishes it.

    ## Why is this bad?
    Both moments are about `mean(x)**2` when the mean is large next to the spread (returns of
    a long episode, pixel intensities, rewards with an offset): their difference cancels —
    float32 keeps none of the variance's digits once the mean is 4,000 times the standard
    deviation — and it can come out negative, so the `sqrt`/`rsqrt` after it is NaN. Track the
    centred second moment instead (Welford's update, or the Chan et al. merge of batch
    statistics), or at least take `maximum(v - m**2, 0)` before the root.

    ## Fix safety
    No fix: the stable form changes the state the code keeps (a centred moment instead of a
    raw one), which is not a local rewrite.

    ## References
    - Welford, *Note on a method for calculating corrected sums of squares and products*,
      Technometrics 4(3), 1962.
    - Chan, Golub, LeVeque, *Algorithms for computing the sample variance: analysis and
      recommendations*, The American Statistician 37 (1983).
    - van Hasselt et al., *Learning values across many orders of magnitude* (PopArt), NeurIPS 2016.
    """

    code = "STB207"
    name = "running-moments-variance"
    message = (
        "v - m**2 from running moments cancels when the mean is large next to the spread (0, negative, NaN "
        "under sqrt); track the centred second moment (Welford)"
    )
    fix_safety = "none"
    on = ("sub",)
    autocast = "Not affected: the moments are kept in the state's dtype."
    valid = [
        Valid("m = b * m + (1 - b) * x\nv = b * v + (1 - b) * (x - m) ** 2\ny = torch.sqrt(v)"),
        Valid("m = b * m + (1 - b) * x\nv = b * v + (1 - b) * y ** 2\ny = v - m ** 2"),
        Valid("y = v - m ** 2"),
        Valid("m = b * m + (1 - b) * x\nv = b * v + (1 - b) * x ** 2\ny = v - m", "numpy"),
    ]
    invalid = [
        Invalid("m = b * m + (1 - b) * x\nv = b * v + (1 - b) * x ** 2\ny = torch.sqrt(v - m ** 2)", None),
        Invalid("m = b * m + (1 - b) * x\nv = b * v + (1 - b) * x * x\ny = np.sqrt(v - m * m)", None, "numpy"),
        Invalid("m = b * m + (1 - b) * jnp.mean(x)\nv = b * v + (1 - b) * jnp.mean(x ** 2)\ny = v - m ** 2", None,
                "jax"),
    ]

    def check(self, node: ast.AST, difference: Value, ctx: Context) -> None:
        if not isinstance(node, ast.BinOp) or not isinstance(node.op, ast.Sub):
            return
        second, first = node.left, node.right
        mean = _square_base(ctx, first)
        if mean is None or not isinstance(mean, (ast.Name, ast.Attribute)) or not isinstance(
            second, (ast.Name, ast.Attribute)
        ):
            return
        mean_samples = [
            _plain(ctx, sample) for update in _updates(ctx, mean) for sample in _moving_average_of(update, mean)
        ]
        square_samples = []
        for update in _updates(ctx, second):
            samples = _moving_average_of(update, second)
            for sample in samples:
                base = _square_base(ctx, sample)
                if base is not None:
                    square_samples.append(_plain(ctx, base))
            # x * x among the factors: _moving_average_of lists a repeated factor once more
            square_samples += [sample for index, sample in enumerate(samples) if any(
                _same(sample, other) for other in samples[:index]
            )]
        if not any(_same(a, b) for a in mean_samples for b in square_samples):
            return
        self.report(ctx, node, None, list(difference.via))


CANCELLATION_LOG_EXP_RULES = [SqrtOnePlusMinusOne]
CANCELLATION_STATISTICS_RULES = [RunningMomentsVariance]
