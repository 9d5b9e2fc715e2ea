"""STB4xx: hazards the interval engine proves reachable from what the code establishes.

A finding needs an interval the code itself sets up (a relu, a ``rand``, a clamp with a
lower bound of 0, a Linear layer's output, a std): ``log(x)`` of a parameter nobody
constrains is unknown, and unknown is not a finding.
"""

from __future__ import annotations

import ast
import math

from stablelint.analysis import constants
from stablelint.analysis import intervals as iv
from stablelint.analysis import values as v
from stablelint.analysis.values import Value
from stablelint.diagnostics import Fix
from stablelint.frameworks import keras_or_tf
from stablelint.rules.base import Context, Invalid, Rule, Valid
from stablelint.rules.matching import takes_only_input


def _describe(ctx: Context, value: Value, interval) -> str:
    """``relu(h) ranges over [0, inf]``: the value as written (shortened) and its range."""
    written = " ".join(ctx.text(value.node).split()) if value.node is not None and value.local else "it"
    if len(written) > 40:
        written = written[:37] + "..."
    return f"{written} ranges over {interval}"


def sum_of_exp(value: Value) -> bool:
    """``sum(exp(x))``: written out it is STB102's/STB103's; with the maximum subtracted one
    term is exp(0) = 1, so it is >= 1 — a relation intervals alone do not see."""
    if value.kind == v.INDEX:
        value = value.operand()
    return value.kind in ("sum", "mean", "cumsum") and value.operand().kind == "exp"


def through_division(value: Value, depth: int = 0) -> bool:
    """Is a finite range a quotient's? Interval division forgets how numerator and
    divisor relate (``(1 - a) / (1 - b)`` with a <= b is <= 1), so its bounds are too wide
    to prove a hazard with."""
    if depth > 8:
        return False
    if value.kind == v.DIV:
        return True
    return any(through_division(operand, depth + 1) for operand in value.operands)


def zero_only_at_a_point(ctx: Context, value: Value) -> bool:
    """``abs(x)``, ``x ** 2``, ``sqrt(x)``: 0 only where x is exactly 0, a single point
    that nothing here makes likely — not a proven hazard. So is ``norm(x)`` (0 only at
    x = 0) and ``std(x)`` (only for all-equal samples), unless x itself is 0 on a whole
    region the code sets up (``norm(relu(h))``: every unit dead at once)."""
    if value.kind == v.INDEX:
        value = value.operand()
    return value.kind in _ZERO_AT_A_POINT and not _zero_on_a_region(ctx, value)


# 0 only where their input is exactly 0 (or all equal, for a spread)...
_ZERO_AT_A_POINT = frozenset({v.POW, "square", "abs", "sqrt", "norm", "spread"})
# ...and sums, products and means of such values are 0 only where every term is.
_ZERO_WHERE_THEIR_TERMS_ARE = _ZERO_AT_A_POINT | {"sum", "mean", "cumsum", "matmul", v.INDEX, v.MUL}


def _zero_on_a_region(ctx: Context, value: Value, depth: int = 0) -> bool:
    """Is ``value`` 0 on a whole region of inputs the code sets up (``relu``, a clamp at 0,
    ``rand``), and not only where an input is exactly 0 (``x ** 2``, ``mm(a**2, b**2)``)?"""
    measured = ctx.range(value)
    if measured is None or measured.lo != 0 or not ctx.known_ends(value)[0] or depth > 8:
        return False
    if value.kind in _ZERO_WHERE_THEIR_TERMS_ARE and value.operands:
        return any(_zero_on_a_region(ctx, operand, depth + 1) for operand in value.operands)
    return value.kind not in _ZERO_AT_A_POINT


def only_under_a_constant(ctx: Context, node: ast.AST) -> bool:
    """Is ``node`` a term of ``c / (k + node)`` (a sigmoid written out), where an infinite
    ``node`` makes the quotient 0 rather than NaN?"""
    from stablelint.analysis.conditions import path_to

    path = path_to(ctx.env.function or ctx.model.tree, node) or []
    if len(path) < 3:
        return False
    total, quotient = path[-2], path[-3]
    return (
        isinstance(total, ast.BinOp) and isinstance(total.op, ast.Add)
        and isinstance(quotient, ast.BinOp) and isinstance(quotient.op, ast.Div) and quotient.right is total
        and isinstance(quotient.left, ast.Constant)
        and any(isinstance(side, ast.Constant) for side in (total.left, total.right))
    )


def _written_divisor(node: ast.AST) -> ast.expr | None:
    """The divisor as written at the division: ``b`` in ``a / b``, ``tf.div(a, b)``, ``a.div(b)``."""
    if isinstance(node, ast.BinOp):
        return node.right
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and len(node.args) == 1:
            return node.args[0]
        if len(node.args) >= 2:
            return node.args[1]
    return None


_MAXIMUM = {"numpy": "numpy.maximum", "tf": "tensorflow.maximum", "jax": "jax.numpy.maximum",
            "keras": "keras.ops.maximum"}


def _floored(ctx: Context, argument: ast.expr, framework: str | None, floor: str) -> Fix | None:
    """RANUM's repair: the argument clipped to the smallest range that removes the hazard,
    ``torch.clamp(a, min=floor)`` or the framework's ``maximum(a, floor)``; unsafe, since it
    turns what was -inf or nan into a finite number."""
    text = ctx.text(argument)
    if framework == "torch":
        name, imports = ctx.spell("torch.clamp")
        content = f"{name}({text}, min={floor})"
    elif framework in _MAXIMUM:
        name, imports = ctx.spell(_MAXIMUM[framework])
        content = f"{name}({text}, {floor})"
    elif framework == "math":
        name, imports = "max", ()
        content = f"max({text}, {floor})"
    else:
        return None
    return ctx.fix(argument, content, imports=imports, safety="unsafe")


class LogOfNonPositive(Rule):
    """
    ## What it does
    Finds `log(x)` where the code itself lets `x` reach 0 or below: the output of a
    `relu`, `rand()` (which can return exactly 0), a `clamp`/`clip` whose lower bound is
    0, `1 - y` with `y` the output of a Linear/Dense layer or a matmul, a `std` or `norm`.
    A log whose argument nobody constrains (a parameter) is not reported, nor one whose
    argument carries an eps or a positive clamp (`log(p + 1e-8)`, `log(p.clamp(min=1e-6))`).
    `log(softmax(x))`, `log(sigmoid(x))` and the like are STB101–STB110's.

    ## Why is this bad?
    `log(0)` is `-inf` and `log` of a negative number is NaN; both propagate through the
    loss, and the gradient `1/x` at 0 is infinite. Such values are reachable here by
    construction: relu is 0 on half its domain, `torch.rand` draws 0 with probability
    2^-24 per element, and an affine output is any real number.

    ## Fix safety
    No fix is offered: the right floor (an eps, `finfo(dtype).tiny`, a clamp of the input)
    depends on what the value means. RANUM's repair clamps the argument to the smallest
    range that removes the hazard, e.g. `torch.log(x.clamp(min=torch.finfo(x.dtype).tiny))`,
    but that changes the log of every subnormal argument (`log(1e-40)` becomes
    `log(1.2e-38)`), so the numeric harness rejects it as a rewrite, even an unsafe one.

    ## References
    - Zhang et al., *Detecting numerical bugs in neural network architectures* (DEBAR, FSE'20).
    - Li et al., *Reliability assurance for deep neural network architectures against
      numerical defects* (RANUM, ICSE'23).
    - Goodfellow, Bengio, Courville, *Deep Learning*, §4.1.
    """

    code = "STB401"
    name = "log-of-nonpositive"
    message = "log of a value that can be 0 or negative gives -inf or nan"
    fix_safety = "none"
    on = ("log",)
    autocast = "Not affected: the hazard is in the range of the argument, whatever the dtype."
    valid = [
        Valid("torch.log(x)"),
        Valid("torch.log(torch.relu(x) + 1e-6)"),
        Valid("torch.log(torch.clamp(x, min=1e-6))"),
        Valid("torch.log(torch.rand(3) * 0.9 + 0.1)"),
        Valid("torch.log(torch.exp(x))"),
        Valid("torch.where(torch.relu(x) > 0, torch.log(torch.relu(x)), x)"),
    ]
    invalid = [
        Invalid("torch.log(torch.relu(x))", None),
        Invalid("torch.log(torch.clamp(x, min=0))", None),
        Invalid("torch.log(torch.rand(3, 5))", None),
        Invalid("np.log(np.clip(x, 0, 1))", None, "numpy"),
        Invalid("torch.log(0.5 - x @ x.T)", None),
    ]

    def check(self, node: ast.Call, log: Value, ctx: Context) -> None:
        if id(node) in ctx.covered or not takes_only_input(log.op):
            return
        argument = log.operand()
        if argument.kind in _EXPLAINED_BY_STB1 or sum_of_exp(argument) or constants.is_literal(argument):
            return  # explained by a STB1xx rule, or zeros written out number by number on purpose
        interval = ctx.range(argument)
        if interval is None or interval.lo > 0 or zero_only_at_a_point(ctx, argument):
            return
        if not ctx.known_ends(argument)[0]:
            return  # the low end comes from something unknown: no claim
        if interval.lo < 0 and math.isfinite(interval.lo) and through_division(argument):
            return
        if ctx.branch_rules_out(node, log.op.input, "nonpositive"):
            return
        if ctx.sampled_outcome_probability(argument):
            return  # the probability of the action drawn from this policy: not 0 (analysis.outcomes)
        reach = "0" if interval.lo == 0 else "negative values"
        message = f"log of a value that can reach {reach} gives -inf or nan: {_describe(ctx, argument, interval)}"
        self.report(ctx, node, None, list(argument.via), origins=[argument], message=message, operands={"x": argument})


class ExpOverflow(Rule):
    """
    ## What it does
    Finds `exp(x)` where the code lets `x` pass the largest argument whose exponential
    is finite in the dtype (88.72 in float32 and bfloat16, 11.09 in float16, 709.78 in
    float64): the output of a Linear/Dense layer or a matmul used unclamped
    (`torch.exp(0.5 * self.fc_logvar(h))`), or a constant range such as
    `exp(linspace(0, 100))`. Exponentials inside a formula that STB102/STB103/STB108–STB110
    rewrite are theirs. Normal draws (`randn`, `random.normal`) are taken to lie within ±16:
    every generator in use makes them from uniform draws of at most 64 bits, which bounds
    the tail (Box-Muller on doubles stops near 8.6), so `exp(randn(n))` is not reported and
    `exp(100 * randn(n))` is.

    ## Why is this bad?
    Past the bound `exp` returns `inf`; the next subtraction or division makes it NaN, and
    the gradient is `inf`. A VAE's `exp(0.5 * logvar)` with `logvar` straight from a
    Linear layer overflows as soon as one logit drifts above 177 in float32 — in float16
    (mixed precision) above 22.

    ## Fix safety
    No fix is offered: clamping the argument (`logvar.clamp(max=...)`, `softplus`
    parameterisations) changes the model. Say what bound the value has, and the finding
    goes away.

    ## References
    - Zhang et al., *Detecting numerical bugs in neural network architectures* (DEBAR, FSE'20).
    - Li et al., *Reliability assurance for deep neural network architectures against
      numerical defects* (RANUM, ICSE'23).
    - Goodfellow, Bengio, Courville, *Deep Learning*, §4.1.
    """

    code = "STB402"
    name = "exp-overflow"
    message = "exp of a value that can pass the dtype's overflow bound gives inf"
    fix_safety = "none"
    on = ("exp",)
    autocast = (
        "`exp` runs in float32 under CUDA autocast, so the float32 bound (88.72) applies to autocast code; "
        "outside autocast a float16 model overflows above 11.09."
    )
    valid = [
        Valid("torch.exp(x)"),
        Valid("torch.exp(torch.clamp(x @ x.T, max=20))"),
        Valid("torch.exp(-torch.relu(x))"),
        Valid("torch.exp(torch.linspace(0, 10, 5))"),
    ]
    invalid = [
        Invalid("torch.exp(0.5 * (x @ x.T))", None),
        Invalid("torch.exp(torch.linspace(0, 100, 5))", None),
        Invalid("np.exp(np.arange(0, 1000))", None, "numpy"),
    ]

    def check(self, node: ast.Call, exp: Value, ctx: Context) -> None:
        if id(node) in ctx.covered or not takes_only_input(exp.op):
            return
        argument = exp.operand()
        interval = ctx.range(argument)
        dtype = ctx.dtype_of(exp)
        if interval is None or interval.hi <= iv.EXP_OVERFLOW[dtype] or not ctx.known_ends(argument)[1]:
            return
        if only_under_a_constant(ctx, node):
            return  # 1 / (1 + exp(-z)): an infinite denominator gives 0, the right value
        narrowed = ctx.range_at(node, exp.op.input)
        if narrowed is not None and narrowed.hi <= iv.EXP_OVERFLOW[dtype]:
            return  # ``elif x < 18: exp(x)``: the branch's condition bounds it
        message = (
            f"exp overflows to inf past {iv.EXP_OVERFLOW[dtype]:.2f} in {dtype}: "
            f"{_describe(ctx, argument, interval)}"
        )
        self.report(ctx, node, None, list(argument.via), origins=[argument], message=message, operands={"x": argument})


class DivisionByZero(Rule):
    """
    ## What it does
    Finds `a / b` where the code lets the divisor reach 0 on a whole region of inputs: a
    sum of non-negative terms that can all be 0 (`p / p.sum()` with `p = relu(...)`), a
    `clamp`/`clip` whose lower bound is 0, `rand()` (which draws 0), the norm of such a
    value; also `reciprocal(x)` and `rsqrt(x)`. A `norm(x)` or `std(x)` of a value the code
    does not constrain is 0 only at one point (x = 0, all samples equal), as `abs(x)` and
    `x ** 2` are, and is not reported; normalising by one (`x / x.norm(dim=-1)`) is
    STB203's. Divisions are checked on the lines the text prefilter lets through: those
    with a log, exp, sqrt, rsqrt, reciprocal, norm or std, or a name defined from one. A
    divisor with an eps or a positive clamp (`x / (x.std(0) + 1e-8)`) is not reported, nor one the
    code does not constrain, nor one a branch around the division tests: `np.nan if s == 0
    else x / s`, `if s == 0: continue` (or `return`, `raise`, `assert s > 0`) before it,
    `where(s > 0, x / s, 1.0)`. A softmax written out is STB103's; a normalisation of the
    divisor's own samples (`x / norm(x)`, `(x - mean) / x.std(0)`) is STB203's.

    ## Why is this bad?
    `x / 0` is `±inf` and `0 / 0` is NaN. A constant feature column, an all-zero
    gradient or an empty mask makes these divisors exactly 0 in ordinary training data.

    ## Fix safety
    No fix is offered: the eps to add (or the clamp) is a modelling choice; add it to the
    divisor, not to the result.

    ## References
    - Zhang et al., *Detecting numerical bugs in neural network architectures* (DEBAR, FSE'20).
    - Li et al., *Reliability assurance for deep neural network architectures against
      numerical defects* (RANUM, ICSE'23).
    - Goodfellow, Bengio, Courville, *Deep Learning*, §4.1.
    """

    code = "STB403"
    name = "division-by-zero"
    message = "division by a value that can be 0 gives inf or nan"
    fix_safety = "none"
    on = ("div", "reciprocal", "rsqrt")
    autocast = "Not affected: the hazard is in the range of the divisor, whatever the dtype."
    valid = [
        Valid("x / y"),
        Valid("x / (x.std(0) + 1e-8)"),
        Valid("x / torch.clamp(torch.norm(x), min=1e-12)"),
        Valid("1 / (1 + torch.exp(-x))"),
        Valid("np.nan if x.std() == 0 else x / x.std()", "numpy"),
        Valid("torch.where(torch.norm(x) > 0, x / torch.norm(x), x)"),
        Valid("1.0 / torch.norm(x)"),
        Valid("y / x.std(0)"),
    ]
    invalid = [
        Invalid("1.0 / torch.sqrt(torch.relu(x).sum(-1))", None),
        Invalid("np.ones(3) / np.sqrt(np.clip(x, 0, 1))", None, "numpy"),
        Invalid("1.0 / torch.norm(torch.relu(x), dim=-1)", None),
        Invalid("x / torch.exp(torch.linspace(-200, 0, 5))", None),
        Invalid("torch.rsqrt(torch.relu(x).sum(-1))", None),
        Invalid("tf.math.reciprocal(tf.nn.relu(x))", None, "tf"),
    ]

    def check(self, node: ast.AST, quotient: Value, ctx: Context) -> None:
        if id(node) in ctx.covered:
            return
        if quotient.kind == "div":
            if len(quotient.operands) != 2:
                return
            divisor, written = quotient.operand(1), _written_divisor(node)
            if constants.is_literal(divisor):
                return  # a divisor written out number by number: its zeros are on purpose
        elif quotient.operands and takes_only_input(quotient.op):
            divisor, written = quotient.operand(), quotient.op.input  # 1 / x, 1 / sqrt(x)
            if quotient.kind == "rsqrt" and (ctx.range(divisor) or iv.NONNEGATIVE).lo < 0:
                return  # negative too: STB404's
        else:
            return
        if divisor.kind == v.CONST:
            return
        if sum_of_exp(divisor):
            return  # a softmax's denominator: written out it is STB103's, max-shifted it is >= 1
        interval = ctx.range(divisor)
        if interval is None or not interval.reaches(0.0) or interval.unbounded or zero_only_at_a_point(ctx, divisor):
            return
        lo_known, hi_known = ctx.known_ends(divisor)
        if not (lo_known if interval.lo == 0 else hi_known if interval.hi == 0 else lo_known and hi_known):
            return  # the 0 comes from an end the code does not establish
        if ctx.branch_rules_out(node, written, "zero") or ctx.sampled_outcome_probability(divisor):
            return
        message = f"division by a value that can be 0 gives inf or nan: {_describe(ctx, divisor, interval)}"
        self.report(ctx, node, None, list(divisor.via), origins=[divisor], message=message, operands={"x": divisor})


class SqrtOfNegative(Rule):
    """
    ## What it does
    Finds `sqrt(x)` where the code lets `x` be negative: a variance computed as
    `mean(x**2) - mean(x)**2` (rounding makes it slightly negative), `1 - y` with `y` an
    affine output, `sqrt` of a difference the code does not bound. A matmul of factors
    whose signs are known has a known sign (`mm(a ** 2, b ** 2) >= 0`), and a branch that
    tests the argument (`sqrt(v) if v >= 0 else 0`) rules the negative values out.
    Also `sqrt(exp(clip(z, -100, 87)))` where a gradient flows: the clip keeps exp positive in
    exact arithmetic, but exp(-100) is 0 in float32 where the framework flushes subnormals to 0
    (TensorFlow, JAX: from exp(-87.34)), or below the smallest subnormal elsewhere (exp(-103.97)).
    Clipped at -87 it stays a normal number, and PyTorch and NumPy keep exp(-100) as a subnormal:
    both are silent.

    ## Why is this bad?
    `sqrt` of a negative number is NaN, and it propagates through everything after it;
    the variance formula above loses all its digits when the mean is large next to the
    spread, and its rounding error is as likely negative as positive. At 0 the gradient of
    `sqrt` is inf; through exp's (0 there) it becomes NaN and reaches every weight.

    ## Fix safety
    The fix is RANUM's repair, the argument clipped at 0 (`torch.clamp(a, min=0)`,
    `np.maximum(a, 0)`, `tf.maximum`, `jnp.maximum`): wherever the original is defined it
    gives the same value, and where it was NaN it now gives 0. It is **unsafe**: a
    negative argument that is more than rounding (a sign error, a wrong formula) is hidden
    instead of surfacing as NaN. For a variance, the framework's `var`/`std` is the better
    rewrite; the gradient of `sqrt` at 0 is still infinite.

    ## References
    - Zhang et al., *Detecting numerical bugs in neural network architectures* (DEBAR, FSE'20).
    - Li et al., *Reliability assurance for deep neural network architectures against
      numerical defects* (RANUM, ICSE'23).
    - Goodfellow, Bengio, Courville, *Deep Learning*, §4.1.
    """

    code = "STB404"
    name = "sqrt-of-negative"
    message = "sqrt of a value that can be negative gives nan"
    fix_safety = "unsafe"
    on = ("sqrt", "rsqrt")
    autocast = "Not affected: the hazard is in the range of the argument, whatever the dtype."
    valid = [
        Valid("torch.sqrt(x)"),
        Valid("torch.sqrt(x.var(0) + 1e-5)"),
        Valid("torch.sqrt(torch.clamp(1 - x @ x.T, min=0))"),
        Valid("np.sqrt(np.square(x).sum())", "numpy"),
        Valid("torch.sqrt(torch.mm(x ** 2, x.T ** 2))"),
        Valid("tf.sqrt(tf.exp(tf.clip_by_value(x, -87.0, 87.0)))", "tf"),
        Valid("torch.sqrt(torch.exp(torch.clamp(x, -100.0, 87.0)))"),
    ]
    invalid = [
        Invalid("torch.sqrt(torch.sigmoid(x) - 0.25)", "torch.sqrt(torch.clamp(torch.sigmoid(x) - 0.25, min=0))",
                unsafe=True),
        Invalid("np.sqrt(scipy.special.expit(x) - 0.25)", "np.sqrt(np.maximum(scipy.special.expit(x) - 0.25, 0))",
                "numpy", unsafe=True),
        Invalid("jnp.sqrt(jax.nn.sigmoid(x) - 0.25)", "jnp.sqrt(jnp.maximum(jax.nn.sigmoid(x) - 0.25, 0))", "jax",
                unsafe=True),
        Invalid("tf.sqrt(tf.sigmoid(x) - 0.25)", "tf.sqrt(tf.maximum(tf.sigmoid(x) - 0.25, 0))", "tf", unsafe=True),
        Invalid("keras.ops.sqrt(keras.ops.sigmoid(x) - 0.25)",
                "keras.ops.sqrt(keras.ops.maximum(keras.ops.sigmoid(x) - 0.25, 0))", "keras", unsafe=True),
        Invalid("torch.rsqrt(torch.tanh(x))", None),
        Invalid("tf.sqrt(tf.exp(tf.clip_by_value(x, -100.0, 87.0)))", None, "tf"),
    ]

    def check(self, node: ast.Call, root: Value, ctx: Context) -> None:
        if id(node) in ctx.covered or not takes_only_input(root.op):
            return
        argument = root.operand()
        interval = ctx.range(argument)
        if interval is None or not ctx.known_ends(argument)[0]:
            return
        if interval.lo == 0 and root.kind == "sqrt":
            self._exp_rounded_to_zero(node, root, argument, ctx)
        if interval.lo >= 0:
            return
        if math.isfinite(interval.lo) and through_division(argument):
            return
        if ctx.branch_rules_out(node, root.op.input, "negative"):
            return
        message = f"{root.kind} of a value that can be negative gives nan: {_describe(ctx, argument, interval)}"
        written = root.op.input
        fix = None  # rsqrt(0) is inf: clipping at 0 would trade the nan for an inf
        if written is not None and root.kind == "sqrt":
            framework = root.op.framework
            if framework == "tf":  # Keras 3 code keeps to keras.ops: no TensorFlow on the JAX or torch backend
                framework = keras_or_tf(root.op.qualified_name or "")
            fix = _floored(ctx, written, framework, "0")
        self.report(ctx, node, fix, list(argument.via), origins=[argument], message=message, operands={"x": argument})

    def _exp_rounded_to_zero(self, node: ast.Call, root: Value, argument: Value, ctx: Context) -> None:
        """``sqrt(exp(clip(z, -100, 87)))``: the code bounds the exponent below, so exp is
        positive, but not far enough — exp of the bound rounds to 0 in the dtype (below the
        smallest normal number where the framework flushes subnormals). At 0 sqrt's gradient
        is inf, and exp's chain rule makes it inf * 0 = NaN where a gradient flows."""
        produced = argument.operand() if argument.kind == v.INDEX and argument.operands else argument
        if produced.kind != "exp" or not produced.operands:
            return
        exponent = ctx.range(produced.operand())
        if exponent is None or not math.isfinite(exponent.lo) or not ctx.known_ends(produced.operand())[0]:
            return  # exp of an unbounded value reaches 0 anyway: the bound's weakness is the point here
        if not ctx.gradient_flows(node, argument) or ctx.branch_rules_out(node, root.op.input, "zero"):
            return
        dtype = ctx.dtype_of(produced)
        flushed = produced.framework in iv.FLUSHES_SUBNORMALS
        below = iv.flush_underflow(dtype) if flushed else iv.EXP_UNDERFLOW[dtype]
        how = "subnormals flush to 0 in this framework" if flushed else "below its smallest subnormal"
        message = (
            f"sqrt of exp(x) with x down to {exponent.lo:g}: exp(x) is 0 in {dtype} below x = {below:.2f} "
            f"({how}), where sqrt's gradient is inf (nan through exp's)"
        )
        self.report(ctx, node, None, list(argument.via), origins=[argument], message=message, operands={"x": argument})


class AbsorbedEps(Rule):
    """
    ## What it does
    Finds a small constant added to or subtracted from a larger one that the dtype rounds
    it away from: `1e-10 + 1 - p` (the eps merges with the 1 before `p` is subtracted),
    `1 - 1e-8 - p`. The dtype is float32 where the file uses PyTorch, TensorFlow, Keras or
    JAX, float64 otherwise. A clamp's upper bound (`clip(p, 1e-8, 1 - 1e-8)`, exactly 1.0 in
    float32) is STB504's, a default rule.

    ## Why is this bad?
    In float32, `1 + 1e-10` is exactly `1.0` (the eps is below half an ulp of 1, about
    6e-8); in float16 anything below 4.9e-4 vanishes next to 1. The guard the code means
    to add is not there: `log(1e-10 + 1 - p)` is `log(0)` when `p` rounds to 1, and a clip
    to `1 - 1e-8` lets `log(1 - p)` reach `log(0)`. This exact line is in five of the
    GRIST subjects.

    ## Fix safety
    No fix is offered: move the eps next to the value it guards (`1 - p + 1e-7`) or use an
    eps the dtype holds (`torch.finfo(dtype).eps`).

    ## References
    - Zhang et al., *Detecting numerical bugs in neural network architectures* (DEBAR, FSE'20).
    - Li et al., *Reliability assurance for deep neural network architectures against
      numerical defects* (RANUM, ICSE'23).
    - Goodfellow, Bengio, Courville, *Deep Learning*, §4.1.
    """

    code = "STB405"
    name = "absorbed-eps"
    message = "a constant the dtype rounds away: the eps is lost"
    fix_safety = "none"
    on = ("const",)
    autocast = "In float16 (autocast) far larger constants are absorbed: anything below 4.9e-4 next to 1."
    valid = [
        Valid("torch.log(1 - x + 1e-7)"),
        Valid("torch.clamp(x, 1e-7, 1 - 1e-7)"),
        Valid("torch.log(1 + x)"),
        Valid("y = 2 ** 31 - 1"),
    ]
    invalid = [
        Invalid("loss = torch.log(1e-10 + 1 - x)", None),
        Invalid("loss = torch.log(1 - 1e-8 - x)", None),
        Invalid("loss = np.log(x * (1 - 1e-20))", None, "numpy"),
        Invalid("loss = tf.math.log(1e-10 + 1.0 - x)", None, "tf"),
    ]

    def check(self, node: ast.AST, folded: Value, ctx: Context) -> None:
        if not isinstance(node, ast.BinOp) or not isinstance(node.op, (ast.Add, ast.Sub)) or id(node) in ctx.covered:
            return  # covered: a clamp bound STB504 reports
        left, right = ctx.value(node.left), ctx.value(node.right)
        if left.kind != v.CONST or right.kind != v.CONST:
            return
        if isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant):
            if type(node.left.value) is int and type(node.right.value) is int:
                return  # Python ints are exact
        # The signed values as they are combined: ``1 - 5e-8`` is not ``1 + 5e-8``.
        signed_right = right.const if isinstance(node.op, ast.Add) else -right.const
        small, large = sorted((left.const, signed_right), key=abs)
        if small == 0 or math.isinf(large) or abs(large) < 1e-3 or abs(small) > 1e-3:
            return
        dtype = ctx.dtype_at(node)  # the dtype of the call the number is given to
        if not iv.absorbed(small, large, dtype):
            return
        sign = "+" if isinstance(node.op, ast.Add) else "-"
        message = (
            f"{ctx.text(node.left)} {sign} {ctx.text(node.right)} is exactly {large:g} in {dtype}: "
            "the eps is lost; add it to the value it guards"
        )
        self.report(ctx, node, None, message=message)


# Arguments whose log a STB1xx rule already explains (with a better message and a fix).
_EXPLAINED_BY_STB1 = frozenset({"softmax", "sigmoid", "exp", "log_softmax"})

RULES = [LogOfNonPositive, ExpOverflow, DivisionByZero, SqrtOfNegative, AbsorbedEps]
