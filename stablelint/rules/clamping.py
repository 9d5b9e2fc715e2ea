"""A clamp after the op it should guard: ``exp(x).clamp(max=c)`` (STB118, log/exp family) and
``sqrt(var).clamp(min=eps)`` (STB206, statistics family). The forward value is right; the
gradient is ``0 · inf = NaN`` where the op overflowed or its derivative was infinite."""

from __future__ import annotations

import ast

from stablelint.analysis import intervals as iv
from stablelint.analysis import uses
from stablelint.analysis import values as v
from stablelint.analysis.values import Value
from stablelint.diagnostics import Fix
from stablelint.fixes import ATOMS
from stablelint.ir import constant_value, identifier_of
from stablelint.rules.base import Context, Invalid, Rule, Valid
from stablelint.rules.distributions import is_eps
from stablelint.rules.matching import exp_cannot_overflow, family, fixable
from stablelint.rules.statistics import _sqrt_of_variance

# The frameworks that differentiate: NumPy's overflow to inf is clamped to the right value.
_AUTODIFF = frozenset({"torch", "jax", "tf", "keras"})


def clamped_operand(value: Value) -> tuple[Value, ast.expr | None, ast.expr | None] | None:
    """(what is clamped, its lower bound, its upper bound) of ``clamp``/``clip``/``clip_by_value``
    /``clamp_min``/``clamp_max``/``maximum``/``minimum``; None for anything else."""
    if value.kind == "clamp" and value.op is not None:
        from stablelint.analysis.evaluate import _clamp_bounds

        low, high = _clamp_bounds(value.op)
        return value.operand(), low, high
    if value.kind in ("maximum", "minimum") and value.op is not None and len(value.operands) == 2:
        positional, keywords = value.op.other_args()
        if keywords or len(positional) != 1 or value.op.input is None:
            return None
        bound = positional[0]
        return (value.operand(), bound, None) if value.kind == "maximum" else (value.operand(), None, bound)
    return None


def _text_with(ctx: Context, node: ast.AST, swaps: list[tuple[ast.AST, str]]) -> str | None:
    """The source of ``node`` with each (sub-node, text) swapped in; None if one is outside it."""
    start, end = ctx.index.span(node)
    pieces, cursor = [], start
    for inner, text in sorted(swaps, key=lambda swap: ctx.index.span(swap[0])[0]):
        inner_start, inner_end = ctx.index.span(inner)
        if not start <= cursor <= inner_start <= inner_end <= end:
            return None
        pieces += [ctx.index.source[cursor:inner_start], text]
        cursor = inner_end
    pieces.append(ctx.index.source[cursor:end])
    return "".join(pieces)


def _grouped(ctx: Context, node: ast.expr) -> str:
    text = ctx.text(node)
    return text if isinstance(node, ATOMS) else f"({text})"


def _wrapped(ctx: Context, op, inner: str) -> str:
    """``inner`` passed through the same function as ``op`` (``torch.exp(inner)``,
    ``(inner).exp()``)."""
    if op.method:
        return f"{inner}.{identifier_of(op.call.func)}()" if inner.endswith(")") and not inner.startswith("(") \
            else f"({inner}).{identifier_of(op.call.func)}()"
    return f"{ctx.text(op.call.func)}({inner})"


class ExpThenClamp(Rule):
    """
    ## What it does
    Finds an upper clamp applied to `exp` after the fact, in code that takes gradients:
    `torch.exp(x).clamp(max=c)`, `x.exp().clamp_max(c)`, `torch.clamp(torch.exp(a), max=20.0)`,
    `tf.clip_by_value(tf.exp(x), 0.0, c)`, `tf.minimum(tf.exp(x), c)`, `jnp.clip(jnp.exp(x), None, c)`,
    `jnp.minimum(jnp.exp(x), c)` — the exponentiated-advantage weights of advantage-weighted
    regression, CRR, AWR and IQL — where the code establishes that `x` reaches past the
    dtype's overflow bound: `x` is a layer's or a matmul's output (`q(s) - v(s)`, `h @ w`,
    which span all of R), or a range of constants, or a clamp wider than the bound
    (`x.clamp(-100, 100)`). An `x` the code does not bound from above is unknown, not a
    proven overflow, and is not reported: the PPO ratio `exp(log_p - old_log_p)` of an action
    the old policy sampled, clipped right after, stays far below the bound. A clamp of the
    exponent (`exp(x.clamp(max=log(c)))`, `exp(minimum(x, log(c)))`) is not reported, nor NumPy
    code: it takes no gradient, and the clamp maps the overflowed `inf` to the right value.

    ## Why is this bad?
    `exp(x)` overflows to `inf` once `x` passes 88.7 in float32 (11.1 in float16) — an
    advantage divided by a small temperature gets there. The clamp turns the value back into
    `c`, but its backward pass multiplies the zero gradient of the clamped element by the
    `exp`'s derivative, `inf`: `0 · inf = NaN`, and the NaN reaches every weight. Clamping the
    exponent at `log(c)` gives the same forward value and a zero gradient there.

    ## Fix safety
    Unsafe: where the clamp bites, the fix gives `exp(log(c))` rather than `c` — the same in
    float16 and float32, a few ulps off in float64 (100.00000000000004 for `c = 100`). Offered
    when the bound is a number (a literal or a name bound to one) and the clamp has no lower
    bound (or one of 0, which `exp` never goes below): `clamp(exp(x), max=c)` becomes
    `exp(clamp(x, max=math.log(c)))` with the same clamp function, dtype and type. A bound that
    is a tensor, or a positive lower bound, is reported without a fix.

    ## References
    - Peng et al., *Advantage-Weighted Regression: Simple and Scalable Off-Policy Reinforcement
      Learning* (2019): weights `exp(A / β)` clipped at a maximum.
    - Wang et al., *Critic Regularized Regression*, NeurIPS 2020.
    - [pytorch/pytorch#15811](https://github.com/pytorch/pytorch/issues/15811) and the PyTorch FAQ
      on `torch.where`/`clamp` gradients: `0 · inf = nan` in the backward pass.
    """

    code = "STB118"
    name = "exp-then-clamp"
    message = (
        "exp(x) overflows to inf before the clamp, and the clamp's gradient 0 * inf is NaN; "
        "use exp(clamp(x, max=log(c)))"
    )
    fix_safety = "unsafe"
    on = ("clamp", "minimum")
    gradient_only = True  # NumPy's clip maps the overflowed inf to the bound: no NumPy example
    autocast = "`exp` runs in float32 under CUDA autocast; in float16 code it overflows past 11.1."
    valid = [
        Valid("torch.exp(x.clamp(max=math.log(20.0)))"),
        Valid("torch.exp(torch.clamp(x, max=3.0)).clamp(max=20.0)"),
        Valid("torch.exp(x.clamp(-100.0, 100.0)).clamp(min=1e-3)"),
        Valid("np.clip(np.exp(np.clip(x, -1000.0, 1000.0)), None, 20.0)", "numpy"),
        Valid("jnp.exp(jnp.minimum(x, 3.0))", "jax"),
        Valid("torch.exp(log_p - old_log_p).clamp(max=20.0)"),
    ]
    invalid = [
        Invalid("torch.exp(x.clamp(-100.0, 100.0)).clamp(max=20.0)",
                "torch.exp(x.clamp(-100.0, 100.0).clamp(max=math.log(20.0)))", unsafe=True),
        Invalid("x.clamp(-100.0, 100.0).exp().clamp_max(100.0)",
                "x.clamp(-100.0, 100.0).clamp_max(math.log(100.0)).exp()", unsafe=True),
        Invalid("torch.clamp(torch.exp(torch.clamp(x, -100.0, 100.0)), max=20.0)",
                "torch.exp(torch.clamp(torch.clamp(x, -100.0, 100.0), max=math.log(20.0)))", unsafe=True),
        Invalid("torch.exp(x.clamp(-100.0, 100.0)).clamp(0, 20.0)",
                "torch.exp(x.clamp(-100.0, 100.0).clamp(None, math.log(20.0)))", unsafe=True),
        Invalid("tf.minimum(tf.exp(100.0 * tf.tanh(x)), 20.0)",
                "tf.exp(tf.minimum(100.0 * tf.tanh(x), math.log(20.0)))", "tf", unsafe=True),
        Invalid("tf.clip_by_value(tf.exp(tf.clip_by_value(x, -100.0, 100.0)), 0.0, 20.0)", None, "tf"),
        Invalid("jnp.clip(jnp.exp(jnp.clip(x, -100.0, 100.0)), None, 20.0)",
                "jnp.exp(jnp.clip(jnp.clip(x, -100.0, 100.0), None, math.log(20.0)))", "jax", unsafe=True),
        Invalid("jnp.minimum(jnp.exp(jnp.clip(x, -100.0, 100.0)), 100.0)",
                "jnp.exp(jnp.minimum(jnp.clip(x, -100.0, 100.0), math.log(100.0)))", "jax", unsafe=True),
        Invalid("torch.exp(x.clamp(-100.0, 100.0)).clamp(max=limit)", None),
    ]

    def check(self, node: ast.AST, clamp: Value, ctx: Context) -> None:
        parts = clamped_operand(clamp)
        if parts is None:
            return
        exp, low, high = parts
        if exp.kind != "exp" or exp.op is None or high is None:
            return
        framework = family(clamp.op, exp.op)
        if framework not in _AUTODIFF and not (framework is None and {clamp.framework, exp.framework} & _AUTODIFF):
            return
        if exp_cannot_overflow(ctx, exp, underflow_matters=False):
            return
        exponent = self.exponent_range(ctx, exp)
        if exponent is None:
            return  # an x the code does not bound from above is unknown, not proven to overflow
        via = list(exp.via)
        fix = self.fix(ctx, node, clamp, exp, low, high, via) if fixable(clamp, exp) else None
        self.report(ctx, node, fix, via, origins=[exp], operands={"x": exponent})

    @staticmethod
    def exponent_range(ctx: Context, exp: Value) -> iv.Interval | None:
        """The range of exp's argument (narrowed by the branch it runs in) when the code
        establishes its upper end (``known_ends``: a layer's or a matmul's output reaches all
        of R, ``linspace(0, 100, n)`` reaches 100); None where that end is unknown."""
        argument = exp.operand()
        if exp.op is None or exp.op.input is None or not ctx.known_ends(argument)[1]:
            return None
        return ctx.range_at(exp.node, exp.op.input)

    def fix(self, ctx: Context, node: ast.AST, clamp: Value, exp: Value, low, high, via) -> Fix | None:
        bound = ctx.value(high)
        if bound.kind != v.CONST or bound.const is None or bound.const <= 0:
            return None  # log(c) of a tensor, or of c <= 0
        floor = ctx.value(low) if low is not None else None
        if floor is not None and not (floor.kind == v.CONST and floor.const == 0.0):
            return None  # exp(x) >= lo > 0 becomes x >= log(lo): another change to explain
        if floor is not None and family(clamp.op) in ("tf", "keras"):
            return None  # clip_by_value and keras.ops.clip take no None bound
        written = clamp.op.input  # the exp, or a name bound to it (``e = exp(x)`` … ``clamp(e, max=c)``)
        if exp.op.input is None or written is None:
            return None
        math_log, imports = ctx.spell("math.log")
        swaps = [(high, f"{math_log}({ctx.text(high)})")] + ([(low, "None")] if low is not None else [])
        # ``exp(x).clamp(max=c)``: the receiver is the exp; the method goes onto x.
        exponent = _grouped(ctx, exp.op.input) if clamp.op.method else ctx.text(exp.op.input)
        inner = _text_with(ctx, node, [(written, exponent), *swaps])
        if inner is None:
            return None
        content = _wrapped(ctx, exp.op, inner)
        return ctx.fix(node, content, imports=imports, safety="unsafe", via=via, copied=[exp.op.input, high])


class SqrtThenClamp(Rule):
    """
    ## What it does
    Finds a lower clamp applied to the square root of a variance, in code that takes
    gradients: `torch.sqrt(var).clamp_min(eps)`, `var.sqrt().clamp(min=eps)`,
    `torch.clamp(torch.sqrt(x.var(0)), min=1e-6)`, `tf.maximum(tf.sqrt(var), eps)`,
    `jnp.maximum(jnp.sqrt(jnp.var(x)), eps)` — typically the divisor of a normalisation. The
    variance may come from `var`, `tf.nn.moments`, `torch.var_mean` or be written out. A clamp
    of the variance (`sqrt(var.clamp_min(eps**2))`) or an eps inside the root
    (`sqrt(var + eps)`) is not reported, nor NumPy code, which takes no gradient.

    ## Why is this bad?
    The clamp keeps the forward value away from 0, but it comes after the root: at zero
    variance (a constant feature, a padded row) the gradient of `sqrt` is infinite, the
    clamp's gradient is 0, and their product is `0 · inf = NaN`. Clamping the variance
    before the root gives the same value and a zero gradient there.

    ## Fix safety
    Safe for `sqrt(var)` clamped by a lower bound alone: `clamp(sqrt(v), min=eps)` becomes
    `sqrt(clamp(v, min=eps ** 2))`, with the same clamp function — the same value (`sqrt` is
    increasing) up to the rounding of `eps ** 2`, the same dtype and type. A standard
    deviation call (`jnp.std(x).clip(eps)`) is reported without a fix.

    ## References
    - [pytorch/pytorch#4320](https://github.com/pytorch/pytorch/issues/4320): NaN gradient of std at zero variance.
    - Ba, Kiros, Hinton, *Layer Normalization* (2016): `sqrt(var + eps)`.
    """

    code = "STB206"
    name = "sqrt-then-clamp"
    message = (
        "clamp after sqrt(var): the gradient at zero variance is 0 * inf = NaN; "
        "use sqrt(clamp(var, min=eps**2)) or sqrt(var + eps)"
    )
    fix_safety = "safe"
    on = ("clamp", "maximum")
    gradient_only = True  # NumPy takes no gradient: no NumPy example
    autocast = "`sqrt` runs in float32 under CUDA autocast; the gradient is infinite at 0 in every dtype."
    valid = [
        Valid("torch.sqrt(x.var(0).clamp_min(1e-12))"),
        Valid("torch.sqrt(x.var(0) + 1e-5)"),
        Valid("torch.sqrt(v).clamp_min(1e-6)"),
        Valid("np.maximum(np.sqrt(np.var(x, axis=0)), 1e-6)", "numpy"),
        Valid("jnp.sqrt(jnp.maximum(jnp.var(x, axis=0), 1e-12))", "jax"),
    ]
    invalid = [
        Invalid("torch.sqrt(x.var(0)).clamp_min(1e-3)", "torch.sqrt(x.var(0).clamp_min(1e-3 ** 2))"),
        Invalid("x.var(0).sqrt().clamp(min=1e-3)", "x.var(0).clamp(min=1e-3 ** 2).sqrt()"),
        Invalid("torch.clamp(torch.sqrt(x.var(0)), min=1e-3)", "torch.sqrt(torch.clamp(x.var(0), min=1e-3 ** 2))"),
        Invalid("tf.maximum(tf.sqrt(tf.math.reduce_variance(x, axis=0)), 1e-3)",
                "tf.sqrt(tf.maximum(tf.math.reduce_variance(x, axis=0), 1e-3 ** 2))", "tf"),
        Invalid("jnp.maximum(jnp.sqrt(jnp.var(x, axis=0)), 1e-3)",
                "jnp.sqrt(jnp.maximum(jnp.var(x, axis=0), 1e-3 ** 2))", "jax"),
    ]

    def check(self, node: ast.AST, clamp: Value, ctx: Context) -> None:
        parts = clamped_operand(clamp)
        if parts is None:
            return
        root, low, high = parts
        if low is None or high is not None or not _sqrt_of_variance(root):
            return
        if not is_eps(v.Term(1, ctx.value(low), low)):
            return
        framework = family(clamp.op, root.op)
        if framework not in _AUTODIFF and not (framework is None and {clamp.framework, root.framework} & _AUTODIFF):
            return
        via = list(root.via)
        fix = self.fix(ctx, node, clamp, root, low, via) if fixable(clamp, root) else None
        self.report(ctx, node, fix, via, origins=[root])

    def fix(self, ctx: Context, node: ast.AST, clamp: Value, root: Value, low: ast.expr, via) -> Fix | None:
        variance, written = root.op.input, clamp.op.input
        if variance is None or written is None:
            return None
        squared_bound = f"{_grouped(ctx, low)} ** 2"
        radicand = _grouped(ctx, variance) if clamp.op.method else ctx.text(variance)
        inner = _text_with(ctx, node, [(written, radicand), (low, squared_bound)])
        if inner is None:
            return None
        return ctx.fix(node, _wrapped(ctx, root.op, inner), via=via, copied=[variance, low])


def _one_minus(expr: ast.expr | None) -> float | None:
    """c of a bound written ``1 - c`` (``1.0 - 1e-20``) with a small positive c; None otherwise."""
    if not (isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Sub)):
        return None
    left, right = constant_value(expr.left), constant_value(expr.right)
    if left != 1.0 or right is None or not 0 < right < 1e-2:
        return None
    return right


class ClampBoundRoundsToOne(Rule):
    """
    ## What it does
    Finds an upper clamp bound written as `1 - eps` that the clamped value's dtype rounds to
    exactly 1: `F.softmax(z, 1).clamp(max=1 - 1e-20)`, `torch.clamp(p, 1e-8, 1 - 1e-8)` on
    float32, `np.clip(p, 1e-20, 1 - 1e-20)`, `tf.minimum(p, 1.0 - 1e-10)`, `jnp.clip(p, 0, 1 - 1e-9)`.
    The dtype is the value's (float32 for PyTorch, TensorFlow, Keras and JAX values where the
    code does not say, float64 for NumPy), so `np.clip(p, 0, 1 - 1e-8)` in float64 is not
    reported. Nor is a clamp whose value only goes into a log, written inside it
    (`np.log(np.clip(d, 1e-25, 1 - 1e-25))`) or through a name read only there: log(1) is 0,
    the upper bound protects nothing.

    ## Why is this bad?
    The clamp is there to keep a probability below 1 ("prevent 1s and hence NaNs"), but
    `1 - 1e-8` is exactly `1.0` in float32 (the floats next to 1 are 6e-8 apart) and
    `1 - 1e-20` is `1.0` already in Python's float64: the clamp does nothing, and the
    `log(1 - p)` or the division by `1 - p` it was meant to protect still reaches `log(0)`
    or `x / 0`. Outside the default rules STB405 reports the same constant wherever it is written.

    ## Fix safety
    No fix: the bound the dtype can hold (`1 - torch.finfo(p.dtype).eps`) clamps more than
    the code wrote; whether that is what it means is the author's call.

    ## References
    - [torch.finfo](https://pytorch.org/docs/stable/type_info.html#torch.finfo),
      [numpy.finfo](https://numpy.org/doc/stable/reference/generated/numpy.finfo.html)
    - Goldberg, *What Every Computer Scientist Should Know About Floating-Point Arithmetic* (1991).
    """

    code = "STB504"
    name = "clamp-bound-rounds-to-one"
    message = "the clamp's bound 1 - eps is exactly 1.0 in this dtype: the clamp does nothing; use 1 - finfo(dtype).eps"
    fix_safety = "none"
    on = ("clamp", "minimum")
    autocast = "In float16 (autocast) any eps below 2.4e-4 vanishes next to 1."
    valid = [
        Valid("F.softmax(x, 1).clamp(max=1 - 1e-6)"),
        Valid("torch.clamp(x, 1e-7, 1 - 1e-7)"),
        Valid("np.clip(x, 1e-12, 1 - 1e-12)", "numpy"),
        Valid("torch.clamp(x, max=1 - torch.finfo(x.dtype).eps)"),
    ]
    invalid = [
        Invalid("F.softmax(x, 1).clamp(max=1 - 1e-20)", None),
        Invalid("torch.clamp(torch.sigmoid(x), 1e-8, 1 - 1e-8)", None),
        Invalid("np.clip(x, 1e-20, 1 - 1e-20)", None, "numpy"),
        Invalid("tf.minimum(tf.sigmoid(x), 1.0 - 1e-10)", None, "tf"),
        Invalid("jnp.clip(jax.nn.sigmoid(x), 0.0, 1 - 1e-9)", None, "jax"),
    ]

    def check(self, node: ast.AST, clamp: Value, ctx: Context) -> None:
        parts = clamped_operand(clamp)
        if parts is None:
            return
        clamped, _, high = parts
        eps = _one_minus(high)
        if eps is None:
            return
        dtype = ctx.dtype_of(clamped) if clamped.known else ctx.written_number_dtype
        if clamp.framework == "numpy" and not clamped.dtype:
            dtype = "float64"
        if iv.rounded(1.0 - eps, dtype) != 1.0:
            return
        ctx.covered.add(id(high))  # STB405 (opt-in) would say the same of the constant
        if uses.only_logged(ctx.env.function, node):
            return  # only log(p) is taken of it: log(1) = 0, the upper bound protects nothing
        message = (
            f"{ctx.text(high)} is exactly 1.0 in {dtype}: the clamp does nothing; "
            "use 1 - finfo(dtype).eps"
        )
        self.report(ctx, node, None, list(clamped.via), message=message)


LOG_EXP_RULES = [ExpThenClamp]
STATISTICS_RULES = [SqrtThenClamp]
PRECISION_RULES = [ClampBoundRoundsToOne]
