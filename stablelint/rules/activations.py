"""STB111-STB116: activations and entropy terms written out by hand, and the guards
around them that do not guard (a ``where`` evaluates both of its branches)."""

from __future__ import annotations

import ast

from stablelint import frameworks
from stablelint.analysis import values as v
from stablelint.analysis.counts import looks_like_count
from stablelint.analysis.signs import is_nonpositive
from stablelint.analysis.values import Value
from stablelint.diagnostics import Fix
from stablelint.fixes import negated, operand
from stablelint.frameworks import keras_or_tf
from stablelint.ir import Op, constant_value, same_expression
from stablelint.rules.base import Context, Invalid, Rule, Valid
from stablelint.rules.matching import (
    exp_cannot_overflow,
    family,
    fixable,
    is_constant_expression,
    is_unit,
    one_plus_terms,
    softmax_of,
    stable_call,
    takes_only_input,
)


def _written_operands(value: Value) -> tuple[ast.expr, ast.expr] | None:
    """The two operand expressions of a binary operation written with an operator."""
    node = value.node
    if isinstance(node, ast.BinOp):
        return node.left, node.right
    return None


def _negation_operand(ctx: Context, expr: ast.expr | None) -> ast.expr | None:
    """``x`` of ``-x`` or ``torch.neg(x)``; None for anything else."""
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        return expr.operand
    op = ctx.op(expr, "neg") if expr is not None else None
    return op.input if op is not None else None


def _safety_for(ctx: Context, framework: str | None) -> str:
    """SciPy's ufuncs (``expit``, ``xlogy``) have no float16 loop: a float16 array comes back
    float64. The NumPy fixes change the dtype there (and may add a SciPy dependency)."""
    return "unsafe" if framework == "numpy" else "safe"


class NaiveSigmoid(Rule):
    """
    ## What it does
    Finds the logistic sigmoid written out, `1 / (1 + exp(-x))` and
    `exp(x) / (1 + exp(x))`, in every framework (also `1 + exp(-x)` assigned to a name
    first). A sigmoid whose exponent cannot overflow (`x >= 0` in the first form, a
    bounded `x`, a logit of weights made with `torch.zeros(..., requires_grad=True)` and
    read before anything can train them) is not reported, nor is `1 / (1 + exp(-x))` in NumPy: without gradients,
    `1 / (1 + inf) = 0` is the right value. Python's `math` is not reported at all: it
    raises `OverflowError` rather than returning `nan`, and has no sigmoid to call.

    ## Why is this bad?
    `exp(-x)` overflows to `inf` for `x` below -88.7 in float32 (-11.1 in float16): the
    value `1 / inf = 0` survives, but its gradient is `inf / inf = nan`, and in float16
    every sigmoid below -11 is 0 although it is representable down to -17.
    `exp(x) / (1 + exp(x))` is `inf / inf = nan` already in the forward pass for
    `x` above 88.7 (11.1 in float16). The framework's `sigmoid` never overflows.

    ## Fix safety
    Safe: `torch.sigmoid`, `tf.math.sigmoid`, `keras.ops.sigmoid` and `jax.nn.sigmoid`
    equal the written-out formula wherever it is finite. For NumPy the fix calls
    `scipy.special.expit`: unsafe, because SciPy's ufunc has no float16 loop (a float16
    array comes back float64) and the file may not depend on SciPy yet. `math` has no
    sigmoid: reported without a fix. PyTorch's and SciPy's float32 sigmoid return 0
    below -88.7 (where the exact value is subnormal), as the written-out form does.

    ## References
    - Goodfellow, Bengio, Courville, *Deep Learning*, §3.10.
    - [torch.sigmoid](https://pytorch.org/docs/stable/generated/torch.sigmoid.html),
      [scipy.special.expit](https://docs.scipy.org/doc/scipy/reference/generated/scipy.special.expit.html),
      [tf.math.sigmoid](https://www.tensorflow.org/api_docs/python/tf/math/sigmoid),
      [jax.nn.sigmoid](https://jax.readthedocs.io/en/latest/_autosummary/jax.nn.sigmoid.html)
    """

    code = "STB111"
    autocast = (
        "`exp` is on autocast's float32 list (CUDA), `sigmoid` is not: the fix computes in the input dtype. "
        "In float16 it stays finite and accurate where the written-out form had lost its gradient."
    )
    name = "naive-sigmoid"
    message = "1 / (1 + exp(-x)) overflows in exp(-x) for very negative x: its gradient is nan there; use sigmoid(x)"
    fix_safety = "sometimes"
    on = ("sigmoid",)
    valid = [
        Valid("torch.sigmoid(x)"),
        Valid("1 / (1 + torch.exp(-torch.abs(x)))"),
        Valid("1 / (1 + torch.exp(-torch.clamp(x, -30, 30)))"),
        Valid("1 / (2 + torch.exp(-x))"),
        Valid("scipy.special.expit(x)", "numpy"),
        Valid("1 / (1 + np.exp(-x))", "numpy"),
        Valid("np.exp(x) / (1 + np.exp(y))", "numpy"),
        Valid("jnp.exp(-jnp.abs(x)) / (1 + jnp.exp(-jnp.abs(x)))", "jax"),
    ]
    invalid = [
        Invalid("1 / (1 + torch.exp(-x))", "torch.sigmoid(x)"),
        Invalid("1.0 / (1.0 + (-x).exp())", "torch.sigmoid(x)"),
        Invalid("torch.exp(x) / (1 + torch.exp(x))", "torch.sigmoid(x)"),
        Invalid("1 / (torch.exp(-x) + 1)", "torch.sigmoid(x)"),
        Invalid("1 / (1 + torch.exp(-alpha * x))", None),
        Invalid("np.exp(log_odds) / (np.exp(log_odds) + 1)", "scipy.special.expit(log_odds)",
                "numpy", unsafe=True, variables=("log_odds",)),
        Invalid("1 / (1 + tf.exp(-x))", "tf.math.sigmoid(x)", "tf"),
        Invalid("1 / (1 + keras.ops.exp(-x))", "keras.ops.sigmoid(x)", "keras"),
        Invalid("1 / (1 + jnp.exp(-x))", "jax.nn.sigmoid(x)", "jax"),
    ]

    def check(self, node: ast.AST, sigmoid: Value, ctx: Context) -> None:
        if sigmoid.detail != "written out" or id(node) in ctx.covered:
            return  # a sigmoid call, or inside a log that STB104/STB105 already reports
        parts = _sigmoid_parts(ctx, sigmoid)
        if parts is None:
            return
        exp, argument, denominator, quotient_of_exps = parts
        if exp.op is None or exp.op.input is None or exp_cannot_overflow(ctx, exp):
            return
        if exp.local and is_nonpositive(ctx, exp.op.input):
            return  # exp(-|x|): nothing can overflow
        if exp.framework == "math" or (not quotient_of_exps and exp.framework == "numpy"):
            # 1 / (1 + inf) = 0 is the right value, and NumPy has no gradient to spoil; Python's
            # math raises OverflowError instead of returning nan, and has no sigmoid to call.
            return
        if not quotient_of_exps and not ctx.gradient_flows(node, exp):
            return  # 1 / (1 + inf) = 0 is the right value; only the gradient would be NaN
        via = list(denominator.via + exp.via)
        fix = None
        if argument is not None and fixable(exp) and denominator.local:
            fix = self.fix(ctx, node, exp.op, argument, via)
        message = None
        if quotient_of_exps:
            message = "exp(x) / (1 + exp(x)) is inf / inf = nan for large x; use sigmoid(x)"
        # The model (1 / (1 + exp(-x)), x = -710 in float64) fails where exp's input is large:
        # its x is exp's input negated, in both forms.
        exponent = exp.operand()
        operands = {"x": Value(v.NEG, exponent.framework, (exponent,))}
        self.report(ctx, node, fix, via, origins=[exp], message=message, operands=operands)

    def fix(self, ctx: Context, node: ast.AST, exp: Op, argument: ast.expr, via: list) -> Fix | None:
        framework = family(exp)
        if ("sigmoid", framework) not in frameworks.STABLE:
            return None
        content, imports = stable_call(ctx, "sigmoid", framework, [ctx.text(argument)], like=exp)
        return ctx.fix(
            node, content, imports=imports, safety=_safety_for(ctx, framework), via=via, copied=[argument]
        )


def _sigmoid_parts(ctx: Context, sigmoid: Value) -> tuple[Value, ast.expr | None, Value, bool] | None:
    """(the exp, the expression x — None for ``exp(-a * x)`` —, the denominator, whether it is
    the ``exp(x) / (1 + exp(x))`` form) of a sigmoid written out."""
    written = _written_operands(sigmoid)
    if written is None:
        return None
    numerator, denominator_expr = written
    denominator = ctx.value(denominator_expr)
    found = v.terms(denominator)
    exps = [term.value for term in found if term.value.kind == "exp"]
    if len(found) != 2 or len(exps) != 1:
        return None
    exp = exps[0]
    if exp.op is None:
        return None
    numerator_value = ctx.value(numerator)
    if numerator_value.kind == "exp":
        return exp, exp.op.input, denominator, True  # exp(x) / (1 + exp(x))
    return exp, _negation_operand(ctx, exp.op.input), denominator, False  # 1 / (1 + exp(-x))


class NaiveTanh(Rule):
    """
    ## What it does
    Finds tanh written out: `(exp(x) - exp(-x)) / (exp(x) + exp(-x))`,
    `(1 - exp(-2 * x)) / (1 + exp(-2 * x))` and `(exp(2 * x) - 1) / (exp(2 * x) + 1)`,
    in every framework and also when the exponentials are assigned to names first
    (`e2x = torch.exp(2 * x)` … `(e2x - 1) / (e2x + 1)`).

    ## Why is this bad?
    The exponentials overflow to `inf` for `|x|` above 44 to 89 in float32 (5.5 to 11 in
    float16), and the quotient is `inf / inf = nan` where tanh is ±1. Near 0 the
    numerator cancels: `exp(x) - exp(-x)` and `exp(2x) - 1` lose every digit once `|x|`
    is below the dtype's resolution (tanh(1e-9) comes out 0 in float32, and about half
    the digits are gone at 1e-4). `tanh` is accurate everywhere.

    ## Fix safety
    Safe: the framework's `tanh` (`torch.tanh`, `np.tanh`, `math.tanh`,
    `tf.math.tanh`, `keras.ops.tanh`, `jnp.tanh`) equals the written-out formula wherever
    it is finite and accurate. The `exp(c * x)` forms are fixed when `c` is ±2 (the
    `tanh` argument is then `±x`); others are reported without a fix.

    ## References
    - Higham, *Accuracy and Stability of Numerical Algorithms*, §1.14.
    - [torch.tanh](https://pytorch.org/docs/stable/generated/torch.tanh.html),
      [numpy.tanh](https://numpy.org/doc/stable/reference/generated/numpy.tanh.html),
      [tf.math.tanh](https://www.tensorflow.org/api_docs/python/tf/math/tanh)
    """

    code = "STB112"
    autocast = "`exp` is on autocast's float32 list (CUDA), `tanh` is not: the fix computes in the input dtype."
    name = "naive-tanh"
    message = "tanh written out with exp overflows to inf / inf = nan for large |x| and cancels near 0; use tanh(x)"
    fix_safety = "safe"
    on = ("div",)
    valid = [
        Valid("torch.tanh(x)"),
        Valid("(torch.exp(x) - torch.exp(y)) / (torch.exp(x) + torch.exp(y))"),
        Valid("(torch.exp(x) - 1) / (torch.exp(y) + 1)"),
        Valid("(1 - torch.exp(-2 * x)) / (2 + torch.exp(-2 * x))"),
        Valid("(np.exp(x) + np.exp(-x)) / 2", "numpy"),
    ]
    invalid = [
        Invalid("(torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))", "torch.tanh(x)"),
        Invalid("(1 - torch.exp(-2 * x)) / (1 + torch.exp(-2 * x))", "torch.tanh(x)"),
        Invalid("(torch.exp(2 * x) - 1) / (torch.exp(2 * x) + 1)", "torch.tanh(x)"),
        Invalid("(x.mul(2).exp() - 1) / (x.mul(2).exp() + 1)", None),
        Invalid("(torch.exp(-x) - torch.exp(x)) / (torch.exp(-x) + torch.exp(x))", "torch.tanh(-x)"),
        Invalid("(np.exp(log_ratio) - np.exp(-log_ratio)) / (np.exp(log_ratio) + np.exp(-log_ratio))",
                "np.tanh(log_ratio)", "numpy", variables=("log_ratio",)),
        Invalid("(np.exp(2 * log_ratio) - 1) / (np.exp(2 * log_ratio) + 1)", "np.tanh(log_ratio)",
                "numpy", variables=("log_ratio",)),
        Invalid("(1 - math.exp(-2 * log_ratio)) / (1 + math.exp(-2 * log_ratio))", "math.tanh(log_ratio)",
                "math", variables=("log_ratio",)),
        Invalid("(tf.exp(x) - tf.exp(-x)) / (tf.exp(x) + tf.exp(-x))", "tf.math.tanh(x)", "tf"),
        Invalid("(1 - jnp.exp(-2 * x)) / (1 + jnp.exp(-2 * x))", "jnp.tanh(x)", "jax"),
    ]

    def check(self, node: ast.AST, quotient: Value, ctx: Context) -> None:
        numerator, denominator = v.terms(quotient.operand(0)), v.terms(quotient.operand(1))
        if len(numerator) != 2 or len(denominator) != 2:
            return
        if any(term.sign < 0 for term in denominator):
            return
        found = self.exps_form(ctx, numerator, denominator) or self.unit_form(ctx, numerator, denominator)
        if found is None:
            return
        exps, argument, negate = found
        # The numerator's exp(u) - 1 is this finding's, not STB107's.
        ctx.covered.update(id(inner) for inner in ast.walk(node) if inner is not node)
        via = [pair for exp in exps for pair in exp.via] + list(quotient.operand(0).via + quotient.operand(1).via)
        fix = None
        if argument is not None and fixable(*exps) and quotient.operand(0).local and quotient.operand(1).local:
            fix = self.fix(ctx, node, exps[0].op, argument, negate, via)
        # The model fails where an exp's input passes the bound, whichever its sign.
        self.report(ctx, node, fix, via, origins=exps, operands={"x": exps[0].operand()})

    def exps_form(self, ctx: Context, numerator: list, denominator: list):
        """``(exp(a) - exp(-a)) / (exp(a) + exp(-a))`` = tanh(a): ([exps], a, False)."""
        if not all(term.value.kind == "exp" and term.value.op is not None for term in numerator + denominator):
            return None
        positive = [term for term in numerator if term.sign > 0]
        if len(positive) != 1:
            return None
        negative = next(term for term in numerator if term is not positive[0])
        first, second = positive[0].value.op.input, negative.value.op.input
        if first is None or second is None:
            return None
        opposite = _negation_operand(ctx, second)
        mirrored = _negation_operand(ctx, first)
        if not (
            (opposite is not None and same_expression(opposite, first))
            or (mirrored is not None and same_expression(mirrored, second))
        ):
            return None
        below = [term.value.op.input for term in denominator]
        if any(expr is None for expr in below):
            return None
        if not (
            (same_expression(below[0], first) and same_expression(below[1], second))
            or (same_expression(below[0], second) and same_expression(below[1], first))
        ):
            return None
        return [term.value for term in numerator + denominator], first, False

    def unit_form(self, ctx: Context, numerator: list, denominator: list):
        """``(exp(u) - 1) / (exp(u) + 1)`` = tanh(u / 2), ``(1 - exp(u)) / (1 + exp(u))`` =
        tanh(-u / 2): ([exps], x, negate) where u = ±2 x, x None for other u."""
        top_exps = [term for term in numerator if term.value.kind == "exp"]
        top_units = [term for term in numerator if is_unit(term, numerator)]
        low_exps = [term for term in denominator if term.value.kind == "exp"]
        low_units = [term for term in denominator if is_unit(term, denominator)]
        if not (len(top_exps) == len(top_units) == len(low_exps) == len(low_units) == 1):
            return None
        top, low = top_exps[0], low_exps[0]
        if top.sign * top_units[0].sign * top_units[0].value.const >= 0 or low_units[0].value.const != 1:
            return None  # exp(u) + 1 on top, or a -1 below
        if top.value.op is None or low.value.op is None or top.value.op.input is None:
            return None
        if not (top.value.node is low.value.node or (
            low.value.op.input is not None and same_expression(top.value.op.input, low.value.op.input)
        )):
            return None
        half, sign = _half_of(ctx, top.value.op.input)
        if half is None:
            return [top.value, low.value], None, False
        return [top.value, low.value], half, sign * top.sign < 0

    def fix(self, ctx: Context, node: ast.AST, exp: Op, argument: ast.expr, negate: bool, via: list) -> Fix | None:
        framework = family(exp)
        if ("tanh", framework) not in frameworks.STABLE:
            return None
        text = negated(ctx.index, argument) if negate else ctx.text(argument)
        content, imports = stable_call(ctx, "tanh", framework, [text], like=exp)
        return ctx.fix(node, content, imports=imports, via=via, copied=[argument])


def _half_of(ctx: Context, expr: ast.expr) -> tuple[ast.expr | None, int]:
    """(x, sign) for ``2 * x``, ``x * 2`` (+1) and ``-2 * x``, ``-(2 * x)`` (-1)."""
    sign = 1
    inner = _negation_operand(ctx, expr)
    if inner is not None:
        expr, sign = inner, -1
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult):
        for factor, other in ((expr.left, expr.right), (expr.right, expr.left)):
            number = constant_value(factor)
            if number in (2.0, -2.0):
                return other, sign * int(number / 2)
    return None, sign


# What makes a value the tensor type of a library whose exp accepts arrays and numbers.
_TO_TENSOR = {"tf": "tensorflow.convert_to_tensor", "jax": "jax.numpy.asarray", "keras": "keras.ops.convert_to_tensor"}


class LogOfExp(Rule):
    """
    ## What it does
    Finds `log(exp(x))` in every framework and spelling (`torch.log(torch.exp(x))`,
    `x.exp().log()`, `np.log(np.exp(x))`, `math.log(math.exp(x))`), also through an
    assignment (`e = torch.exp(x)` … `torch.log(e)`). An `exp` whose argument the code
    bounds (`exp(tanh(x))`, `exp(clamp(x, -20, 20))`) cannot overflow and is not reported,
    nor is the log of a helper's or another method's return that happens to be an `exp`
    (`log(self._survival_function(t))`): that is an API's linear-domain value.

    ## Why is this bad?
    `log(exp(x))` is `x`, but `exp(x)` overflows to `inf` for `x` above 88.7 in float32
    (11.1 in float16, 709.8 in float64) and underflows to 0 below -103 (-17, -745): the
    result is `inf` or `-inf` where the true value is simply `x`, and its gradient is
    `nan`. In between it only adds rounding error.

    ## Fix safety
    Safe: `x` is the exact value of `log(exp(x))` for every floating-point `x`; the dtype
    and shape are those of `x`. The type is kept too: TensorFlow's, JAX's and Keras' `exp`
    turn an ndarray or a Python number into a tensor, so there the fix writes
    `tf.convert_to_tensor(x)`, `jnp.asarray(x)`, `keras.ops.convert_to_tensor(x)` unless
    `x` is already that library's tensor; `math.log(math.exp(n))` is a float, so an `n`
    not known to be one becomes `float(n)`. Where `x` is visibly an integer (`n.astype(jnp.int32)`,
    a count), `exp` made it floating and `x` alone would not be: no fix is offered.

    ## References
    - Higham, *Accuracy and Stability of Numerical Algorithms*, §1.14.
    """

    code = "STB113"
    autocast = "`exp` and `log` run in float32 under CUDA autocast; the fix keeps `x`'s own dtype."
    name = "log-of-exp"
    message = "log(exp(x)) overflows to inf for large x and underflows to -inf for very negative x; use x"
    fix_safety = "safe"
    on = ("log",)
    valid = [
        Valid("torch.log(torch.exp(x) + 1e-8)"),
        Valid("torch.log(torch.exp(torch.tanh(x)))"),
        Valid("torch.log(torch.exp(x).sum(1))"),
        Valid("np.log(np.exp(np.clip(x, -20, 20)))", "numpy"),
    ]
    invalid = [
        Invalid("torch.log(torch.exp(x))", "x"),
        Invalid("x.exp().log()", "x"),
        Invalid("torch.log(torch.exp(2 * x))", "2 * x"),
        Invalid("torch.log(torch.exp(x + 1)) * 3", "(x + 1) * 3"),
        Invalid("np.log(np.exp(log_lik))", "log_lik", "numpy", variables=("log_lik",)),
        Invalid("math.log(math.exp(log_lik))", "float(log_lik)", "math", variables=("log_lik",)),
        Invalid("tf.math.log(tf.exp(x))", "tf.convert_to_tensor(x)", "tf"),
        Invalid("tf.math.log(tf.exp(tf.square(x)))", "tf.square(x)", "tf"),
        Invalid("jnp.log(jnp.exp(x))", "jnp.asarray(x)", "jax"),
        Invalid("keras.ops.log(keras.ops.exp(x))", "keras.ops.convert_to_tensor(x)", "keras"),
        Invalid("jnp.log(jnp.exp(x.astype(jnp.int32)))", None, "jax"),
    ]

    def check(self, node: ast.Call, log: Value, ctx: Context) -> None:
        if not takes_only_input(log.op):
            return
        exp = log.operand()
        if exp.kind != "exp" or exp.op is None or exp.op.input is None or not takes_only_input(exp.op):
            return
        if exp_cannot_overflow(ctx, exp) or not exp.local:
            return  # a helper returning exp(...) is a linear-domain API, not a round trip written here
        via = list(exp.via)
        fix = None
        argument = ctx.value(exp.op.input)
        if fixable(exp) and not argument.integer:
            content, imports = self._same_type(ctx, exp, argument)
            fix = ctx.fix(node, content, imports=imports, via=via, copied=[exp.op.input])
        self.report(ctx, node, fix, via, origins=[exp], operands={"x": exp.operand()})

    @staticmethod
    def _same_type(ctx: Context, exp: Value, argument: Value):
        """``x`` as the type ``log(exp(x))`` has: the library's tensor (or a float for
        ``math``) unless ``x`` is one already."""
        family = exp.op.framework
        if family == "tf":
            family = keras_or_tf(exp.op.qualified_name or "")
        known = argument.framework
        if known == "tf" and argument.op is not None:
            known = keras_or_tf(argument.op.qualified_name or "")
        text = ctx.text(exp.op.input)
        convert = _TO_TENSOR.get(family)
        if family == "math" and not (argument.kind == v.CONST and isinstance(argument.const, float)):
            return f"float({text})", ()
        if convert is None or known == family:
            return operand(ctx.index, exp.op.input), ()
        function, imports = ctx.spell(convert)
        return f"{function}({text})", imports


class EntropyTerm(Rule):
    """
    ## What it does
    Finds the entropy and relative-entropy terms written out, `x * log(x)` and
    `p * log(p / q)` (either operand first, also `-x * log(x)` and method forms
    such as `p * p.log()`), in every framework. Terms whose `x` the code keeps
    above 0 (`x * log(x + eps)`, `x * log(clamp(x, min=eps))`, `p` clipped to
    `[K.epsilon(), 1]` first, a proven range), counts (`n * log(n)`), Python's `math`
    (whose `log(0)` raises instead of returning `-inf`),
    and terms inside a `where` that picks another value at 0, are not reported.

    ## Why is this bad?
    The term's limit at `x = 0` is 0, but the formula computes `0 * log(0) = 0 * -inf =
    nan`: one probability that is exactly 0 (a one-hot target, a softmax that
    underflowed, an empty histogram bin) turns the whole entropy or KL divergence into
    `nan`. `xlogy(x, y)` is defined as 0 where `x == 0`.

    ## Fix safety
    Safe: `xlogy(x, x)` and `xlogy(p, p / q)` (`torch.xlogy`, `scipy.special.xlogy`,
    `tf.math.xlogy`, `jax.scipy.special.xlogy`) equal the original wherever it is
    finite and give the limit 0 where `x == 0`. The NumPy fix is unsafe: SciPy's
    `xlogy` has no float16 loop (float16 arrays come back float64), and it may add a
    SciPy dependency. Where the term is negated,
    `scipy.special.entr(x)` (`-x * log(x)`) and `scipy.special.rel_entr(p, q)` are the
    SciPy functions for the whole term; mind the sign. `xlogy(p, p) - xlogy(p, q)` is
    not offered: it cancels when `p` is close to `q`. Keras and `math` have no `xlogy`:
    reported without a fix.

    ## References
    - Cover, Thomas, *Elements of Information Theory*, §2.1 (0 log 0 = 0).
    - [torch.xlogy](https://pytorch.org/docs/stable/generated/torch.xlogy.html),
      [scipy.special.xlogy](https://docs.scipy.org/doc/scipy/reference/generated/scipy.special.xlogy.html),
      [scipy.special.entr](https://docs.scipy.org/doc/scipy/reference/generated/scipy.special.entr.html),
      [scipy.special.rel_entr](https://docs.scipy.org/doc/scipy/reference/generated/scipy.special.rel_entr.html),
      [tf.math.xlogy](https://www.tensorflow.org/api_docs/python/tf/math/xlogy),
      [jax.scipy.special.xlogy](https://jax.readthedocs.io/en/latest/_autosummary/jax.scipy.special.xlogy.html)
    """

    code = "STB114"
    autocast = "`log` runs in float32 under CUDA autocast, `torch.xlogy` in the promoted input dtype."
    name = "entropy-term"
    message = "x * log(x) is 0 * -inf = nan where x == 0 (its limit is 0); use xlogy(x, x)"
    fix_safety = "sometimes"
    on = ("mul",)
    valid = [
        Valid("torch.xlogy(x, x)"),
        Valid("x * torch.log(x + 1e-8)"),
        Valid("x * torch.log(torch.clamp(x, min=1e-8))"),
        Valid("p = keras.ops.clip(p, keras.backend.epsilon(), 1)\ny = p * keras.ops.log(p / q)", "keras"),
        Valid("x * torch.log(y)"),
        Valid("torch.where(x > 0, x * torch.log(x), torch.zeros_like(x))"),
        Valid("s = F.softplus(z) + 1e-3\ny = s * torch.log(s)"),
        Valid("scipy.special.entr(x)", "numpy"),
        Valid("n * math.log(n)", "math"),
        Valid("num_cols * np.log(num_cols)", "numpy"),
    ]
    invalid = [
        Invalid("x * torch.log(x)", "torch.xlogy(x, x)", domain="positive"),
        Invalid("torch.log(x) * x", "torch.xlogy(x, x)", domain="positive"),
        Invalid("x * x.log()", "torch.xlogy(x, x)", domain="positive"),
        Invalid("-x * torch.log(x)", "-torch.xlogy(x, x)", domain="positive"),
        Invalid("p * torch.log(p / q)", "torch.xlogy(p, p / q)", domain="positive", variables=("p", "q")),
        Invalid("x * np.log(x)", "scipy.special.xlogy(x, x)", "numpy", domain="positive", unsafe=True),
        Invalid("p * np.log(p / q)", "scipy.special.xlogy(p, p / q)", "numpy", domain="positive",
                variables=("p", "q"), unsafe=True),
        Invalid("x * tf.math.log(x)", "tf.math.xlogy(x, x)", "tf", domain="positive"),
        Invalid("x * jnp.log(x)", "jax.scipy.special.xlogy(x, x)", "jax", domain="positive"),
        Invalid("x * keras.ops.log(x)", None, "keras", domain="positive"),
    ]

    def check(self, node: ast.AST, product: Value, ctx: Context) -> None:
        if id(node) in ctx.covered:
            return  # inside a where that picks another value where x == 0
        written = _written_operands(product)
        if written is None or len(product.operands) != 2:
            return
        for index in (0, 1):
            log, factor = product.operands[1 - index], product.operands[index]
            factor_expr = written[index]
            if log.kind != "log" or log.op is None or log.op.input is None or not takes_only_input(log.op):
                continue
            if (
                log.framework == "math" or factor.integer or factor.kind == v.CONST
                or looks_like_count(ctx, factor_expr)
            ):
                return  # n * log(n) of a count; math.log(0) raises instead of giving nan
            if softmax_of(log.operand()) is not None or log.operand().kind == "sigmoid":
                return  # log(softmax) / log(sigmoid): STB101's and STB104's fixes remove the nan too
            negate = False
            inner = _negation_operand(ctx, factor_expr)
            if inner is not None:
                factor_expr, negate, factor = inner, True, factor.operand()
            argument = log.operand()
            quotient = None
            if same_expression(log.op.input, factor_expr):
                pass
            elif argument.kind == v.DIV and isinstance(argument.node, ast.BinOp) and same_expression(
                argument.node.left, factor_expr
            ):
                quotient = argument.node
            else:
                continue
            interval = ctx.range(factor)
            if interval is not None and interval.lo > 0 and ctx.known_ends(factor)[0]:
                return  # x is kept above 0: no 0 * log(0)
            if _clamped_above_zero(factor):
                return  # clip(p, backend.epsilon(), 1): a lower bound the code chose, not provably <= 0
            self.found(ctx, node, log, factor_expr, quotient, negate)
            return

    def found(self, ctx: Context, node: ast.AST, log: Value, factor: ast.expr, quotient, negate: bool) -> None:
        via = list(log.via)
        fix = None
        if fixable(log) and not log.via:
            fix = self.fix(ctx, node, log.op, factor, quotient, negate)
        message = None
        if quotient is not None:
            message = "p * log(p / q) is 0 * -inf = nan where p == 0 (its limit is 0); use xlogy(p, p / q) or rel_entr"
        self.report(ctx, node, fix, via, origins=[log], message=message)

    def fix(self, ctx: Context, node: ast.AST, log: Op, factor: ast.expr, quotient, negate: bool) -> Fix | None:
        framework = family(log)
        if ("xlogy", framework) not in frameworks.STABLE:
            return None
        second = ctx.text(quotient) if quotient is not None else ctx.text(factor)
        content, imports = stable_call(ctx, "xlogy", framework, [ctx.text(factor), second], like=None)
        if negate:
            content = f"-{content}"
        copied = [factor] + ([quotient] if quotient is not None else [])
        return ctx.fix(node, content, imports=imports, safety=_safety_for(ctx, framework), copied=copied)


def _clamped_above_zero(value: Value) -> bool:
    """``clamp(x, min=eps)``, ``clip(x, K.epsilon(), 1)``, ``maximum(x, tiny)``: a lower bound
    that is not a constant <= 0 (its size may be unknown, but it is there on purpose)."""
    if value.kind == v.INDEX:
        value = value.operand()
    low = v.clamp_floor(value)
    return low is not None and not (low.kind == v.CONST and low.const <= 0)


class AtanOfQuotient(Rule):
    """
    ## What it does
    Finds `atan(y / x)` (`torch.atan`, `np.arctan`, `math.atan`, `tf.math.atan`,
    `jnp.arctan`, `keras.ops.arctan`) where the code shows what `x` is: `x > 0` proven
    (a fix), or `x` reaching negative values (an affine layer's or a matmul's output,
    `randn`: reported). A quotient by something the code does not constrain
    (`atan(w / h)` of box sizes, `atan(v / c)`) is not reported: unknown is not a
    hazard. Quotients by a constant (`atan(x / 2)`) are not reported either.

    ## Why is this bad?
    `atan` of a quotient returns an angle in (-pi/2, pi/2): for `x < 0` the angle is off
    by pi (the quadrant is lost), at `x = y = 0` it is `atan(nan) = nan`, and `y / x`
    overflows for tiny `x`. `atan2(y, x)` takes the two coordinates apart and is right
    in every quadrant and at the axes.

    ## Fix safety
    Reported without a fix unless the code proves `x > 0` (a `clamp(x, min=eps)`, a
    positive range from the interval engine): there `atan2(y, x)` equals `atan(y / x)`,
    and the fix (`torch.atan2`, `np.arctan2`, `math.atan2`, `tf.math.atan2`,
    `keras.ops.arctan2`, `jnp.arctan2`) is safe. Elsewhere `atan2` returns a different
    angle for `x < 0`, which is usually the bug, but may be what the code relies on.

    ## References
    - [torch.atan2](https://pytorch.org/docs/stable/generated/torch.atan2.html),
      [numpy.arctan2](https://numpy.org/doc/stable/reference/generated/numpy.arctan2.html),
      [math.atan2](https://docs.python.org/3/library/math.html#math.atan2)
    """

    code = "STB115"
    autocast = "`atan` and `atan2` both run in the input dtype under CUDA autocast: no change."
    name = "atan-of-quotient"
    message = "atan(y / x) loses the quadrant for x < 0 and is nan at x = y = 0; use atan2(y, x)"
    fix_safety = "sometimes"
    on = ("atan",)
    valid = [
        Valid("torch.atan2(y, x)"),
        Valid("torch.atan(x / 2)"),
        Valid("torch.atan(w / h)"),
        Valid("np.arctan(y / np.abs(x))", "numpy"),
        Valid("np.arctan(x / np.pi)", "numpy"),
        Valid("math.atan(1 / 3)", "math"),
    ]
    invalid = [
        Invalid("torch.atan(y / (x @ w))", None, variables=("y", "x")),
        Invalid("torch.atan(y / x.clamp(min=1e-6))", "torch.atan2(y, x.clamp(min=1e-6))", variables=("y", "x")),
        Invalid("np.arctan(y / np.random.randn(3))", None, "numpy", variables=("y",)),
        Invalid("np.arctan(y / np.clip(x, 1e-6, None))", "np.arctan2(y, np.clip(x, 1e-6, None))", "numpy",
                variables=("y", "x")),
        Invalid("jnp.arctan(y / jnp.maximum(x, 1e-6))", "jnp.arctan2(y, jnp.maximum(x, 1e-6))", "jax",
                variables=("y", "x")),
        Invalid("tf.math.atan(y / tf.matmul(x, w))", None, "tf", variables=("y", "x")),
    ]

    def check(self, node: ast.Call, atan: Value, ctx: Context) -> None:
        if not takes_only_input(atan.op):
            return
        quotient = atan.operand()
        written = _written_operands(quotient) if quotient.kind == v.DIV else None
        if written is None:
            return
        numerator, denominator = written
        if is_constant_expression(ctx, denominator):
            return  # atan(x / 2): a scaled argument, not two coordinates
        divisor = quotient.operand(1)
        interval = ctx.range(divisor)
        lower_known = interval is not None and ctx.known_ends(divisor)[0]
        positive = lower_known and interval.lo > 0
        if not positive and not (lower_known and interval.lo < 0):
            return  # x unknown (a width, a speed …) or never negative: no quadrant to lose
        fix = None
        if positive and quotient.local:
            fix = self.fix(ctx, node, atan.op, numerator, denominator, list(quotient.via))
        message = None if positive else self.message + "; not fixed: x may be negative, where atan2 differs"
        self.report(ctx, node, fix, list(quotient.via), origins=[quotient], message=message)

    def fix(self, ctx: Context, node: ast.Call, atan: Op, numerator, denominator, via: list) -> Fix | None:
        framework = family(atan)
        if ("atan2", framework) not in frameworks.STABLE:
            return None
        arguments = [ctx.text(numerator), ctx.text(denominator)]
        content, imports = stable_call(ctx, "atan2", framework, arguments, like=atan)
        return ctx.fix(node, content, imports=imports, via=via, copied=[numerator, denominator])


_FLIPPED = {ast.Gt: ast.Lt, ast.GtE: ast.LtE, ast.Lt: ast.Gt, ast.LtE: ast.GtE}


class WhereGuardedSoftplus(Rule):
    """
    ## What it does
    Finds softplus "guarded" by a `where`: `where(x > 20, x, log(1 + exp(x)))`,
    `where(x > t, x, log1p(exp(x)))` and the mirrored `where(x < t, log1p(exp(x)), x)`,
    in PyTorch, TensorFlow, Keras and JAX, and in NumPy when the branch is
    `log(1 + exp(x))`.

    ## Why is this bad?
    The forward value is finite, but `where` evaluates both branches everywhere: `exp(x)`
    still overflows to `inf` where the other branch is picked, and the gradient of the
    unused branch, `0 * inf`, is `nan` — it reaches `x` through `where`'s backward pass
    (the "where trick" of JAX's FAQ). NumPy has no gradients, but `log(1 + exp(x))` loses
    every digit below x = -37 (float64) and the overflow still warns. `softplus(x)`
    computes both regimes without an overflow.

    ## Fix safety
    PyTorch: `F.softplus(x)` (`F.softplus(x, threshold=t)` for another threshold) returns
    `x` itself above its threshold, exactly like the `where`: safe for `x > t`, unsafe for
    `x >= t` (the two differ at `x == t`). TensorFlow, Keras, JAX (`softplus(x)`) and
    NumPy (`np.logaddexp(0, x)`) compute `x + log1p(exp(-x))` above the threshold: more
    accurate than the `where`, but different from it by up to `exp(-t)` (2e-9 at 20,
    visible in float64): unsafe, and offered only for a threshold of 15 and more, where
    that difference is below float32's rounding of `x` (at `x > 1.5`, `softplus` differs
    from the `where` by 0.2: that `where` is an approximation on purpose, reported only).
    Written the other way round, the branches must be the same `x` as the comparison, else
    nothing is reported.

    ## References
    - [JAX FAQ: gradients contain NaN where using where](https://jax.readthedocs.io/en/latest/faq.html#gradients-contain-nan-where-using-where),
      [torch.nn.functional.softplus](https://pytorch.org/docs/stable/generated/torch.nn.functional.softplus.html),
      [jax.nn.softplus](https://jax.readthedocs.io/en/latest/_autosummary/jax.nn.softplus.html)
    """

    code = "STB116"
    autocast = "`exp`, `log` and `softplus` are all on autocast's float32 list (CUDA): no change."
    name = "where-guarded-softplus"
    message = (
        "where(x > t, x, log(1 + exp(x))) still evaluates exp(x): it overflows and the gradient is nan; "
        "use softplus(x)"
    )
    fix_safety = "sometimes"
    on = ("where",)
    valid = [
        Valid("F.softplus(x)"),
        Valid("torch.where(x > 20, x, torch.log1p(torch.exp(torch.clamp(x, max=20))))"),
        Valid("torch.where(x > 20, y, torch.log1p(torch.exp(x)))"),
        Valid("np.where(x > 20, x, np.log1p(np.exp(x)))", "numpy"),
        Valid("jnp.where(x > 20, x, jnp.log1p(jnp.exp(-jnp.abs(x))))", "jax"),
    ]
    invalid = [
        Invalid("torch.where(x > 20, x, torch.log1p(torch.exp(x)))", "F.softplus(x)"),
        Invalid("torch.where(x > 15, x, torch.log(1 + torch.exp(x)))", "F.softplus(x, threshold=15)"),
        Invalid("torch.where(x <= 20, torch.log1p(torch.exp(x)), x)", "F.softplus(x)"),
        Invalid("torch.where(x >= 20, x, torch.log1p(torch.exp(x)))", "F.softplus(x)", unsafe=True),
        Invalid("np.where(log_odds > 20, log_odds, np.log(1 + np.exp(log_odds)))", "np.logaddexp(0, log_odds)",
                "numpy", unsafe=True, variables=("log_odds",)),
        Invalid("tf.where(x > 20.0, x, tf.math.log1p(tf.exp(x)))", "tf.math.softplus(x)", "tf", unsafe=True),
        Invalid("jnp.where(x > 20, x, jnp.log1p(jnp.exp(x)))", "jax.nn.softplus(x)", "jax", unsafe=True),
    ]

    def check(self, node: ast.Call, where: Value, ctx: Context) -> None:
        op = where.op
        if op is None or op.method or op.call.keywords or len(op.call.args) != 3:
            return
        condition, if_true, if_false = op.call.args
        for branch in (if_true, if_false):
            for inner in ast.walk(branch):
                if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Mult):
                    ctx.covered.add(id(inner))  # ``where(p > 0, p * log(p), 0)``: STB114's guard
        split = _threshold(condition)
        if split is None:
            return
        compared, threshold, strict, above_is_true = split
        linear, softplus = (if_true, if_false) if above_is_true else (if_false, if_true)
        if not same_expression(linear, compared):
            return
        softplus_value = ctx.value(softplus)
        exp = _softplus_exp(softplus_value)
        if exp is None or not same_expression(exp.op.input, compared):
            return
        framework = family(op, softplus_value.op, exp.op)
        written_log = softplus_value.kind == "log"
        ctx.covered.add(id(softplus))  # STB108 stays silent on the branch this where guards or we report
        if framework == "numpy" and not written_log:
            return  # np.where(x > t, x, np.log1p(np.exp(x))): exact; NumPy has no gradient to spoil
        if framework != "numpy" and not ctx.gradient_flows(node, exp):
            return  # the forward value is right; only the gradient of the unused branch is NaN
        via = list(softplus_value.via + exp.via)
        fix = None
        if fixable(softplus_value, exp) and not via:
            fix = self.fix(ctx, node, framework, compared, threshold, strict, like=op)
        message = None
        if framework == "numpy":
            message = (
                "np.where(x > t, x, log(1 + exp(x))) loses every digit of log(1 + exp(x)) for very negative x "
                "and still overflows in exp(x); use np.logaddexp(0, x)"
            )
        self.report(ctx, node, fix, via, origins=[softplus_value, exp], message=message,
                    operands={"x": exp.operand()})

    def fix(self, ctx: Context, node, framework, compared, threshold: float, strict: bool, like: Op) -> Fix | None:
        argument = ctx.text(compared)
        if framework != "torch" and threshold < _SOFTPLUS_ROUNDING_THRESHOLD:
            return None  # softplus keeps adding log1p(exp(-x)) there: more than rounding
        if framework == "numpy":
            content, imports = stable_call(ctx, "logaddexp", framework, ["0", argument], like=like)
            return ctx.fix(node, content, imports=imports, safety="unsafe", copied=[compared])
        if ("softplus", framework) not in frameworks.STABLE:
            return None
        arguments = [argument]
        if framework == "torch" and threshold != 20:
            arguments.append(f"threshold={threshold:g}")
        content, imports = stable_call(ctx, "softplus", framework, arguments, like=None)
        safety = "safe" if framework == "torch" and strict else "unsafe"
        return ctx.fix(node, content, imports=imports, safety=safety, copied=[compared])


# Above this, softplus(x) - x = log1p(exp(-x)) < 3.1e-7 is below half of float32's ulp of x.
_SOFTPLUS_ROUNDING_THRESHOLD = 15


def _threshold(condition: ast.expr) -> tuple[ast.expr, float, bool, bool] | None:
    """``x > t`` as (x, t, strict, the true branch is the one above t)."""
    if not isinstance(condition, ast.Compare) or len(condition.ops) != 1:
        return None
    left, right, comparison = condition.left, condition.comparators[0], type(condition.ops[0])
    if comparison not in _FLIPPED:
        return None
    if constant_value(left) is not None and constant_value(right) is None:
        left, right, comparison = right, left, _FLIPPED[comparison]
    threshold = constant_value(right)
    if threshold is None or threshold <= 0:
        return None
    strict_above = comparison in (ast.Gt, ast.LtE)  # x > t picks x, or x <= t picks softplus
    return left, threshold, strict_above, comparison in (ast.Gt, ast.GtE)


def _softplus_exp(value: Value) -> Value | None:
    """The exp of ``log(1 + exp(x))`` or ``log1p(exp(x))``."""
    if value.op is None or not takes_only_input(value.op):
        return None
    if value.kind == "log1p":
        exp = value.operand()
    elif value.kind == "log":
        split = one_plus_terms(value.operand())
        if split is None or len(split[1]) != 1 or split[1][0].sign != 1:
            return None
        exp = split[1][0].value
    else:
        return None
    if exp.kind != "exp" or exp.op is None or exp.op.input is None:
        return None
    return exp


RULES = [NaiveSigmoid, NaiveTanh, LogOfExp, EntropyTerm, AtanOfQuotient, WhereGuardedSoftplus]
