"""STB1xx, continued: log/exp compositions of probability densities and their normalisers —
the tanh-squash log-det, interval probabilities of a logistic, gamma-function ratios,
log-mean-exp with an eps, and the logistic density written with ``exp``."""

from __future__ import annotations

import ast
import math

from stablelint import frameworks
from stablelint.analysis import intervals as iv
from stablelint.analysis import values as v
from stablelint.analysis.signs import is_nonpositive
from stablelint.analysis.values import Value
from stablelint.diagnostics import Fix
from stablelint.fixes import negated, operand
from stablelint.ir import Op, same_expression
from stablelint.rules.base import Context, Invalid, Rule, Valid
from stablelint.rules.matching import (
    _names_an_eps,
    exp_cannot_overflow,
    family,
    fixable,
    is_unit,
    one_plus_terms,
    stable_call,
    takes_only_input,
)
from stablelint.rules.statistics import squared

# Ops whose call a fix may write twice: pure functions of their operands (a random draw is not).
_PURE_KINDS = frozenset({
    "abs", "square", "neg", "exp", "log", "log1p", "expm1", "sqrt", "tanh", "sigmoid", "softplus", "add", "sub",
    "mul", "div", "pow", "clamp", "maximum", "minimum",
})


def is_eps(term: v.Term) -> bool:
    """A small positive constant added as a guard: ``1e-6``, ``eps``, ``self.epsilon``."""
    value = term.value
    if term.sign < 0:
        return False
    if value.kind == v.CONST:
        return value.const is not None and 0 < value.const < 1e-2
    return _names_an_eps(term.node)


def held_eps(ctx: Context, term: v.Term, log: Value) -> bool:
    """An eps guard the log's dtype holds (does not round to 0): a constant such as
    ``1e-6``, or a name for one whose value the code does not show (``self.epsilon``)."""
    if term.value.kind != v.CONST or term.value.const is None:
        return True
    return iv.rounded(term.value.const, ctx.dtype_of(log)) > 0


def held_floor(ctx: Context, floored: Value) -> bool:
    """``clamp(d, min=eps)`` / ``maximum(d, eps)``: a lower bound above 0 in the clamped value's
    dtype (1e-46 is 0 in float32), or one whose size the code does not show (``min=self.eps``,
    a parameter): it is there on purpose, and only a constant tells that it is 0."""
    interval = ctx.range(floored)
    if interval is not None and interval.lo > 0:
        return True
    low = v.clamp_floor(floored)
    return low is not None and low.kind not in (v.CONST, v.RANGED) and ctx.range(low) is None


def may_repeat(ctx: Context, expr: ast.expr) -> bool:
    """Can a fix write ``expr`` twice? Names, constants and pure known ops only."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Call):
            op = ctx.op(node)
            if op is None or op.kind not in _PURE_KINDS:
                return False
    return True


def squares_a_tanh(ctx: Context, value: Value) -> bool:
    """``tanh(u) ** 2``, ``y.pow(2)`` after ``y = tanh(u)``, ``square(tanh(u))``."""
    base = squared(value)
    return base is not None and ctx.value(base).kind == "tanh"


def _softplus_of(ctx: Context, framework: str, argument: str, like: Op) -> tuple[str, tuple] | None:
    """``softplus(argument)`` in the framework's own spelling (NumPy: ``logaddexp(0, ·)``)."""
    if framework == "numpy":
        return stable_call(ctx, "logaddexp", framework, ["0", argument], like=like)
    if ("softplus", framework) in frameworks.STABLE:
        return stable_call(ctx, "softplus", framework, [argument], like=None)
    return None


def _lost_half_the_digits_beyond(dtype: str) -> float:
    """|u| past which ``1 - tanh(u)**2`` keeps fewer than half of the dtype's digits:
    its relative rounding error is about eps·cosh²(u) ≈ eps·e^{2|u|}/4."""
    epsilon = iv.EPS.get(dtype, iv.EPS["float32"])
    return (math.log(4.0) + 0.5 * math.log(1.0 / epsilon)) / 2.0


class TanhSquashLogDet(Rule):
    """
    ## What it does
    Finds the log-determinant of a tanh squash written as `log(1 - tanh(u)**2 + eps)`, the
    correction of a tanh-squashed Gaussian policy (SAC and its kin): `torch.log(1 - torch.tanh(u).pow(2) + 1e-6)`,
    `log_prob -= torch.log(1 - y.pow(2) + eps)` after `y = torch.tanh(u)`,
    `tf.math.log(1 - tf.square(tf.tanh(u)) + 1e-6)`, `jnp.log(1 - jnp.tanh(u) ** 2 + 1e-6)`,
    `np.log(1 - np.tanh(u) ** 2)`, also `log1p(-tanh(u)**2)` and the scaled form
    `log(scale * (1 - y**2) + eps)` (reported without a fix). Not reported where the analysis
    shows `|u|` small enough that `1 - tanh(u)**2` keeps at least half of its digits, nor
    where an eps the dtype holds is added inside the log (`log(1 - tanh(u)**2 + 1e-6)`, an
    `eps` or `self.epsilon` of a value the code does not show): the value is then finite at
    every `u` and so is its gradient — it is only flat (`log(eps)`) once `tanh` saturates. An
    eps the dtype rounds to 0 (`1e-46` in float32) guards nothing and is reported.

    ## Why is this bad?
    `tanh(u)` rounds to ±1 once `|u|` passes about 9 in float32 (4.5 in float16): `1 - tanh²`
    is then exactly 0, so the log is `log(eps)` — a constant with zero gradient — or `-inf`
    without the eps; well before that it keeps few correct digits (at `|u| = 6`, float32 has
    about 3 left). Policies push `u` there as soon as an action saturates. The identity
    `log(1 - tanh(u)**2) = 2 * (log(2) - u - softplus(-2 * u))` has no cancellation for large
    `|u|` and is exact where the original is.

    ## Fix safety
    Unsafe. With an eps the fix drops it, which changes the value where the eps mattered. And
    the stable form's terms are of the size of `log(2)` while the value near `u = 0` is about
    `-u²`: its absolute error stays within a few ulps of `log(2)` (what counts when it is added
    to a Gaussian log-density), but its relative digits for `|u| ≲ 1` are fewer than the
    original's. PyTorch's and Keras' `softplus` return `x` itself above 20, which is exact
    in float32 but not in float64. `u` is written twice in the fix; a call in it other than
    a known array function makes no fix.

    ## References
    - Haarnoja et al., *Soft Actor-Critic: Off-Policy Maximum Entropy Deep Reinforcement
      Learning with a Stochastic Actor*, ICML 2018, appendix C (the tanh correction).
    - OpenAI Spinning Up, SAC: `2*(np.log(2) - u - F.softplus(-2*u))`.
    - [tfp.bijectors.Tanh](https://www.tensorflow.org/probability/api_docs/python/tfp/bijectors/Tanh)
      (`forward_log_det_jacobian` in the same stable form).
    """

    code = "STB117"
    name = "tanh-squash-log-det"
    message = (
        "log(1 - tanh(u)**2) rounds to log(0) or log(eps) for large |u| (no value, no gradient); "
        "use 2 * (log(2) - u - softplus(-2 * u))"
    )
    fix_safety = "unsafe"
    on = ("log", "log1p")
    autocast = (
        "`log` runs in float32 under CUDA autocast but `tanh` in float16, where it already rounds to ±1 past "
        "|u| ≈ 4.5; `softplus` runs in float32."
    )
    valid = [
        Valid("2 * (math.log(2) - u - F.softplus(-2 * u))"),
        Valid("torch.log(1 - torch.tanh(u).clamp(-0.5, 0.5) ** 2)"),
        Valid("torch.log(1 - torch.sigmoid(u) ** 2 + 1e-6)"),
        Valid("torch.log(2 - torch.tanh(u) ** 2)"),
        Valid("jnp.log(1 - jnp.tanh(jnp.clip(u, -1, 1)) ** 2)", "jax"),
        Valid("torch.log(1 - torch.tanh(u).pow(2) + 1e-6)"),
        Valid("jnp.log(1 - jnp.tanh(u) ** 2 + 1e-6)", "jax"),
    ]
    invalid = [
        Invalid("torch.log(1 - torch.tanh(x) ** 2)", "2 * (math.log(2) - x - F.softplus(-2 * x))", unsafe=True),
        Invalid("torch.log(1 - torch.tanh(x).pow(2) + 1e-46)", "2 * (math.log(2) - x - F.softplus(-2 * x))",
                unsafe=True),
        Invalid("np.log(1 - np.tanh(x) ** 2)", "2 * (math.log(2) - x - np.logaddexp(0, -2 * x))", "numpy",
                unsafe=True),
        Invalid("tf.math.log(1 - tf.square(tf.tanh(x)))", "2 * (math.log(2) - x - tf.math.softplus(-2 * x))",
                "tf", unsafe=True),
        Invalid("jnp.log(1 - jnp.tanh(x) ** 2)", "2 * (math.log(2) - x - jax.nn.softplus(-2 * x))", "jax",
                unsafe=True),
        Invalid("torch.log1p(-torch.tanh(x) ** 2)", "2 * (math.log(2) - x - F.softplus(-2 * x))", unsafe=True),
        Invalid("torch.log(2.0 * (1 - torch.tanh(x) ** 2))", None),
    ]

    def check(self, node: ast.Call, log: Value, ctx: Context) -> None:
        if not takes_only_input(log.op):
            return
        argument = log.operand()
        found = v.terms(argument)
        if log.kind == "log1p":
            found = [v.Term(1, Value(v.CONST, const=1.0), None)] + found
        rest = [term for term in found if not is_eps(term)]
        if any(held_eps(ctx, term, log) for term in found if is_eps(term)):
            return  # log(1 - tanh(u)**2 + eps): finite, log(eps) at saturation, no NaN or inf
        tanh, scaled = self.squashed(ctx, rest), False
        if tanh is None and len(rest) == 1 and rest[0].sign > 0 and rest[0].value.kind == v.MUL:
            for factor in rest[0].value.operands:  # scale * (1 - tanh(u)**2)
                inner = self.squashed(ctx, v.terms(factor))
                if inner is not None:
                    tanh, scaled = inner, True
        if tanh is None:
            return
        if self.keeps_its_digits(ctx, tanh):
            return
        via = list(argument.via + tanh.via)
        fix = None
        if not scaled and fixable(tanh) and argument.local and tanh.op.input is not None:
            fix = self.fix(ctx, node, log.op, tanh.op, via)
        self.report(ctx, node, fix, via, origins=[tanh])

    @staticmethod
    def squashed(ctx: Context, found: list[v.Term]) -> Value | None:
        """The tanh of ``1 - tanh(u)**2`` written as these terms; None for other sums."""
        if len(found) != 2:
            return None
        units = [term for term in found if term.sign > 0 and term.value.kind == v.CONST and term.value.const == 1.0
                 and is_unit(term, found)]
        squares = [term for term in found if term.sign < 0]
        if len(units) != 1 or len(squares) != 1:
            return None
        base = squared(squares[0].value)
        if base is None:
            return None
        tanh = ctx.value(base)
        return tanh if tanh.kind == "tanh" else None


    @staticmethod
    def keeps_its_digits(ctx: Context, tanh: Value) -> bool:
        interval = ctx.range(tanh.operand())
        if interval is None:
            return False
        bound = _lost_half_the_digits_beyond(ctx.dtype_of(tanh))
        return -bound < interval.lo and interval.hi < bound

    def fix(self, ctx: Context, node: ast.Call, log: Op, tanh: Op, via: list) -> Fix | None:
        framework = family(log, tanh)
        if framework is None or not may_repeat(ctx, tanh.input):
            return None
        u = operand(ctx.index, tanh.input)
        softplus = _softplus_of(ctx, framework, f"-2 * {u}", like=log)
        if softplus is None:
            return None
        softplus_call, imports = softplus
        math_log, math_imports = ctx.spell("math.log")
        content = f"2 * ({math_log}(2) - {u} - {softplus_call})"
        return ctx.fix(node, content, imports=imports + math_imports, safety="unsafe", via=via, copied=[tanh.input])


class LogSigmoidDifference(Rule):
    """
    ## What it does
    Finds the log of a difference of two sigmoids — the probability of an interval under a
    logistic distribution, as in discretized logistic likelihoods (PixelCNN++, VQ-VAE decoders,
    ordinal regression): `torch.log(torch.sigmoid(a) - torch.sigmoid(b))`,
    `torch.log(cdf_plus - cdf_min)` after `cdf_plus = torch.sigmoid(a)`,
    `np.log(expit(a) - expit(b))`, `tf.math.log(tf.sigmoid(a) - tf.sigmoid(b))`,
    `jnp.log(jax.nn.sigmoid(a) - jax.nn.sigmoid(b))`. Not reported where an eps the dtype
    holds is added inside the log (`+ 1e-7`, `+ eps`) or the difference is floored
    (`clamp(d, min=1e-12)`, `maximum(d, 1e-12)`, a helper that floors it, a floor whose size
    the code does not show such as `min=self.min_prob`): the value is then
    at least `log(eps)` and its gradient at most `1 / eps` at every input — finite, only flat
    far in the tails (as for STB117's `log(1 - tanh(u)**2 + eps)`). An eps or floor that the
    dtype rounds to 0 (`1e-46` in float32) guards nothing and is reported.

    ## Why is this bad?
    In the tails both sigmoids round to the same number — to 1 once `b` passes about 17 in
    float32 (8 in float16), to 0 (or equally tiny) far below — and their difference is 0:
    the log is `-inf` and its gradient `1 / 0`, NaN through the sigmoids. The stable form subtracts in log space: for `a > b`,
    `log(σ(a) - σ(b)) = log_sigmoid(a) + log_sigmoid(-b) + log(-expm1(b - a))`, or the
    PixelCNN++ branches with `softplus`.

    ## Fix safety
    No fix: the stable rewrite needs to know which argument is larger (and an eps or clamp in
    the original changes the value where it bites), which the code rarely shows.

    ## References
    - Salimans et al., *PixelCNN++: Improving the PixelCNN with Discretized Logistic Mixture
      Likelihood and Other Modifications*, ICLR 2017 (the log-space branches).
    - Mächler, *Accurately Computing log(1 − exp(−|a|))*, Rmpfr vignette, 2012.
    """

    code = "STB119"
    name = "log-sigmoid-difference"
    message = (
        "log(sigmoid(a) - sigmoid(b)) cancels to 0 in the tails (log(0) = -inf, NaN gradient); "
        "use log_sigmoid(a) + log_sigmoid(-b) + log(-expm1(b - a)) for a > b"
    )
    fix_safety = "none"
    on = ("log",)
    autocast = "`sigmoid` runs in float16 under autocast, where it rounds to 1 past 8.3: the tails come sooner."
    valid = [
        Valid("F.logsigmoid(a) + F.logsigmoid(-b) + torch.log(-torch.expm1(b - a))"),
        Valid("torch.log(torch.sigmoid(a) + torch.sigmoid(b))"),
        Valid("torch.log(torch.sigmoid(a) - b + 1e-12)"),
        Valid("torch.log(torch.sigmoid(a.clamp(-5, 5)) - torch.sigmoid(b.clamp(-5, 5)) + 1e-12)"),
        Valid("torch.log(torch.sigmoid(a) - torch.sigmoid(b) + 1e-12)"),
        Valid("torch.log((torch.sigmoid(a) - torch.sigmoid(b)).clamp(min=1e-12))"),
        Valid("tf.math.log(tf.sigmoid(a) - tf.sigmoid(b) + 1e-7)", "tf"),
    ]
    invalid = [
        Invalid("torch.log(torch.sigmoid(a) - torch.sigmoid(b))", None, variables=("a", "b")),
        Invalid("torch.log(torch.sigmoid(a) - torch.sigmoid(b) + 1e-46)", None, variables=("a", "b")),
        Invalid("np.log(scipy.special.expit(a) - scipy.special.expit(b))", None, "numpy", variables=("a", "b")),
        Invalid("tf.math.log(tf.sigmoid(a) - tf.sigmoid(b))", None, "tf", variables=("a", "b")),
        Invalid("jnp.log(jax.nn.sigmoid(a) - jax.nn.sigmoid(b))", None, "jax", variables=("a", "b")),
    ]

    def check(self, node: ast.Call, log: Value, ctx: Context) -> None:
        if not takes_only_input(log.op):
            return
        argument = log.operand()
        difference = argument
        floored = argument.kind == "clamp" or argument.kind == "maximum"
        if floored:
            difference = argument.operand()  # log(clamp(σ(a) - σ(b), min=eps))
        terms = v.terms(difference)
        found = [term for term in terms if not is_eps(term)]
        if len(found) != 2 or sorted(term.sign for term in found) != [-1, 1]:
            return
        if any(term.value.kind != "sigmoid" for term in found):
            return
        if all(self.stays_inside(ctx, term.value) for term in found):
            return
        if any(held_eps(ctx, term, log) for term in terms if is_eps(term)) or floored and held_floor(ctx, argument):
            return  # + eps or a floor the dtype holds: value and gradient finite (flat at log(eps) in the tails)
        via = list(argument.via + difference.via) + [item for term in found for item in term.value.via]
        self.report(ctx, node, None, via, origins=[term.value for term in found])

    @staticmethod
    def stays_inside(ctx: Context, sigmoid: Value) -> bool:
        """The sigmoid's argument is bounded well inside the range where it rounds to 1."""
        interval = ctx.range(sigmoid.operand())
        if interval is None:
            return False
        bound = iv.SIGMOID_ONE[ctx.dtype_of(sigmoid)] / 2
        return -bound < interval.lo and interval.hi < bound


def _of_lgammas(value: Value, depth: int = 0) -> bool:
    """``lgamma(a)``, or a sum or difference of them (``lgamma(a) + lgamma(b)``)."""
    if value.kind == "lgamma":
        return True
    if value.kind in (v.ADD, v.SUB) and depth < 4 and len(value.operands) == 2:
        return all(_of_lgammas(operand, depth + 1) for operand in value.operands)
    return False


class GammaRatio(Rule):
    """
    ## What it does
    Finds a ratio of gamma functions computed as a ratio of exponentials of their logs:
    `torch.exp(torch.lgamma(a)) / torch.exp(torch.lgamma(b))`, `a.lgamma().exp() / b.lgamma().exp()`,
    `np.exp(gammaln(a)) / np.exp(gammaln(b))`, `tf.exp(tf.math.lgamma(a)) / tf.exp(tf.math.lgamma(b))`,
    `jnp.exp(gammaln(a)) / jnp.exp(gammaln(b))`, also when each side comes from a helper of
    the file (`def gamma(x): return torch.lgamma(x).exp()` … `gamma(a) / gamma(b)`).

    ## Why is this bad?
    `Γ(a)` overflows float32 for `a` above about 35 (float16 above about 9.7, float64 above
    171.6): the ratio is then `inf / inf = NaN` or `x / inf = 0`, although the ratio itself —
    a Beta-function normaliser, a Student-t or Dirichlet density — is an ordinary number.
    Subtracting the logs first never overflows: `exp(lgamma(a) - lgamma(b))`.

    ## Fix safety
    Safe: `exp(lgamma(a) - lgamma(b))` is the same value wherever the original is finite (both
    round `lgamma` once and `exp` once), the same dtype and type. A ratio whose sides come from a
    helper is reported without a fix.

    ## References
    - Press et al., *Numerical Recipes*, §6.1 (compute the log of the gamma function: it overflows).
    - [torch.lgamma](https://pytorch.org/docs/stable/generated/torch.lgamma.html),
      [scipy.special.gammaln](https://docs.scipy.org/doc/scipy/reference/generated/scipy.special.gammaln.html),
      [tf.math.lgamma](https://www.tensorflow.org/api_docs/python/tf/math/lgamma)
    """

    code = "STB120"
    name = "gamma-ratio-overflow"
    message = (
        "exp(lgamma(a)) / exp(lgamma(b)) overflows for large a, b (inf / inf = NaN); use exp(lgamma(a) - lgamma(b))"
    )
    fix_safety = "safe"
    on = ("div",)
    autocast = "`exp` runs in float32 under CUDA autocast; in float16 code Γ overflows above 9.7."
    valid = [
        Valid("torch.exp(torch.lgamma(a) - torch.lgamma(b))"),
        Valid("torch.exp(torch.lgamma(a)) / b"),
        Valid("torch.exp(torch.lgamma(a.clamp(1.0, 5.0))) / torch.exp(torch.lgamma(b.clamp(1.0, 5.0)))"),
        Valid("np.exp(scipy.special.gammaln(a) - scipy.special.gammaln(b))", "numpy"),
    ]
    invalid = [
        Invalid("torch.exp(torch.lgamma(a)) / torch.exp(torch.lgamma(b))",
                "torch.exp(torch.lgamma(a) - torch.lgamma(b))", domain="positive", variables=("a", "b")),
        Invalid("a.lgamma().exp() / b.lgamma().exp()", "(a.lgamma() - b.lgamma()).exp()", domain="positive",
                variables=("a", "b")),
        Invalid("np.exp(scipy.special.gammaln(a)) / np.exp(scipy.special.gammaln(b))",
                "np.exp(scipy.special.gammaln(a) - scipy.special.gammaln(b))", "numpy", domain="positive",
                variables=("a", "b")),
        Invalid("tf.exp(tf.math.lgamma(a)) / tf.exp(tf.math.lgamma(b))",
                "tf.exp(tf.math.lgamma(a) - tf.math.lgamma(b))", "tf", domain="positive", variables=("a", "b")),
        Invalid("jnp.exp(jax.scipy.special.gammaln(a)) / jnp.exp(jax.scipy.special.gammaln(b))",
                "jnp.exp(jax.scipy.special.gammaln(a) - jax.scipy.special.gammaln(b))", "jax", domain="positive",
                variables=("a", "b")),
    ]

    def check(self, node: ast.AST, quotient: Value, ctx: Context) -> None:
        if len(quotient.operands) != 2:
            return
        numerator, denominator = quotient.operands
        if any(side.kind != "exp" or not _of_lgammas(side.operand()) for side in (numerator, denominator)):
            return
        if all(self.cannot_overflow(ctx, side) for side in (numerator, denominator)):
            return
        via = list(quotient.via + numerator.via + denominator.via)
        fix = None
        if fixable(numerator, denominator) and quotient.local:
            fix = self.fix(ctx, node, numerator, denominator, via)
        self.report(ctx, node, fix, via, origins=[numerator, denominator])

    @staticmethod
    def cannot_overflow(ctx: Context, exp: Value) -> bool:
        """Γ of the argument's range stays below the dtype's largest number: lgamma is
        increasing from 1.4616, and at most lgamma(0.5) below it down to 0.5."""
        if exp_cannot_overflow(ctx, exp, underflow_matters=False):
            return True
        interval = ctx.range(exp.operand().operand())
        if interval is None or not interval.lo >= 0.5 or not math.isfinite(interval.hi):
            return False
        return max(math.lgamma(interval.hi), math.lgamma(0.5)) < iv.EXP_OVERFLOW[ctx.dtype_of(exp)] - 1

    def fix(self, ctx: Context, node: ast.AST, numerator: Value, denominator: Value, via) -> Fix | None:
        exp, logs = numerator.op, (numerator.operand(), denominator.operand())
        if family(exp, denominator.op) is None or any(log.node is None for log in logs):
            return None
        subtracted = ctx.text(logs[1].node)
        if isinstance(logs[1].node, ast.BinOp):
            subtracted = f"({subtracted})"  # exp(lgamma(a + b)) / exp(lgamma(a) + lgamma(b))
        difference = f"{ctx.text(logs[0].node)} - {subtracted}"
        if exp.method:
            content, imports = f"({difference}).exp()", ()
        else:
            content, imports = f"{ctx.text(exp.call.func)}({difference})", ()
        return ctx.fix(node, content, imports=imports, via=via, copied=[log.node for log in logs])


class LogMeanExpWithEps(Rule):
    """
    ## What it does
    Finds a log-mean-exp or log-sum-exp written with an eps inside the reduction:
    `torch.log(torch.mean(torch.exp(x) + 1e-8, dim=0))`, `torch.log((w.exp() + eps).sum(-1))`,
    `np.log(np.mean(np.exp(x) + 1e-12))`, `tf.math.log(tf.reduce_mean(tf.exp(x) + eps, axis=1))`,
    `jnp.log(jnp.mean(jnp.exp(x) + 1e-8, axis=0))` — importance-weighted bounds, mutual
    information estimators (MINE), soft-min losses. Without the eps the formula is STB102's.

    ## Why is this bad?
    The eps keeps `log` away from `-inf` when every `exp(x)` underflows, but it hides the
    formula from the logsumexp rule and does not help the other end: `exp` still overflows
    past 88.7 in float32 (11.1 in float16), giving `inf`; and where the terms underflow, the
    result is pinned at `log(eps)` (about -18.4 for 1e-8) wherever the true value is lower —
    one measured case gave 46.05 where the truth was 201.09. `logsumexp(x) - log(n)` is exact
    over the whole range.

    ## Fix safety
    No fix: dropping the eps changes the value where it was pinning it, which is the point of
    the rewrite but a change the code's author must accept.

    ## References
    - Burda, Grosse, Salakhutdinov, *Importance Weighted Autoencoders*, ICLR 2016 (log-mean-exp of weights).
    - Blanchard, Higham, Higham, *Accurately computing the log-sum-exp and softmax functions*,
      IMA Journal of Numerical Analysis 41(4), 2021.
    """

    code = "STB121"
    name = "log-mean-exp-with-eps"
    message = (
        "log(mean(exp(x) + eps)) still overflows for large x and pins at log(eps) for small x; "
        "use logsumexp(x) - log(n)"
    )
    fix_safety = "none"
    on = ("log",)
    autocast = "`exp`, `mean` and `log` run in float32 under CUDA autocast: no change."
    valid = [
        Valid("torch.logsumexp(x, dim=0) - math.log(x.shape[0])"),
        Valid("torch.log(torch.mean(torch.exp(x - x.max()) + 1e-8))"),
        Valid("torch.log(torch.mean(torch.exp(-x.abs()) + 1e-8, dim=0))"),
        Valid("torch.log(torch.mean(x + 1e-8, dim=0))"),
    ]
    invalid = [
        Invalid("torch.log(torch.mean(torch.exp(x) + 1e-8, dim=0))", None),
        Invalid("torch.log((x.exp() + 1e-8).sum(-1))", None),
        Invalid("np.log(np.mean(np.exp(log_w) + 1e-12))", None, "numpy", variables=("log_w",)),
        Invalid("tf.math.log(tf.reduce_mean(tf.exp(x) + 1e-8, axis=1))", None, "tf"),
        Invalid("jnp.log(jnp.mean(jnp.exp(x) + 1e-8, axis=0))", None, "jax"),
    ]

    def check(self, node: ast.Call, log: Value, ctx: Context) -> None:
        if not takes_only_input(log.op):
            return
        total = log.operand()
        if total.kind not in ("sum", "mean") or total.op is None:
            return
        found = v.terms(total.operand())
        exps = [term for term in found if term.sign > 0 and term.value.kind == "exp" and term.value.op is not None]
        eps = [term for term in found if is_eps(term)]
        if len(exps) != 1 or len(eps) != 1 or len(found) != 2:
            return
        exp = exps[0].value
        if exp.local and is_nonpositive(ctx, exp.op.input) or exp_cannot_overflow(ctx, exp):
            return
        via = list(total.via + total.operand().via + exp.via)
        message = None
        if total.kind == "sum":
            message = (
                "log(sum(exp(x) + eps)) still overflows for large x and pins at log(n * eps) for small x; "
                "use logsumexp(x)"
            )
        self.report(ctx, node, None, via, origins=[total, exp], message=message, operands={"x": exp.operand()})


class LogisticDensity(Rule):
    """
    ## What it does
    Finds the logistic density (the derivative of the sigmoid) written with `exp`:
    `t / (1 + t) ** 2` after `t = torch.exp(z)`, `torch.exp(-z) / (1 + torch.exp(-z)) ** 2`,
    `np.exp(z) / (1 + np.exp(z)) ** 2`, `tf.exp(z) / tf.square(1 + tf.exp(z))`,
    `jnp.exp(z) / (1 + jnp.exp(z)) ** 2` — logistic likelihoods, link-function derivatives,
    the Jacobian of a sigmoid flow.

    ## Why is this bad?
    Once `z` passes the `exp` overflow bound (88.7 in float32, 11.1 in float16, 709.8 in
    float64) the quotient is `inf / inf = NaN` — its square overflows even sooner, at half the
    bound, giving 0 where the density is small but not 0. `sigmoid(z) * sigmoid(-z)` is the same
    function and never overflows.

    ## Fix safety
    Safe for PyTorch, TensorFlow, Keras and JAX: `sigmoid(z) * sigmoid(-z)` is the same value
    wherever the original is finite, the same dtype and type (PyTorch's CPU sigmoid flushes
    float32 results below 1e-38 to 0, where the original's exp still had them). For NumPy the
    fix calls `scipy.special.expit`: unsafe, because it turns float16 into float64 (SciPy has
    no float16 loop) and adds SciPy where the file did not import it. `z` is written twice: a call in it other than a
    known array function makes no fix.

    ## References
    - [Logistic distribution](https://en.wikipedia.org/wiki/Logistic_distribution) (density
      `σ(z)σ(−z)`).
    - [torch.sigmoid](https://pytorch.org/docs/stable/generated/torch.sigmoid.html),
      [scipy.special.expit](https://docs.scipy.org/doc/scipy/reference/generated/scipy.special.expit.html)
    """

    code = "STB122"
    name = "naive-logistic-density"
    message = "exp(z) / (1 + exp(z))**2 is inf / inf = NaN for large z; use sigmoid(z) * sigmoid(-z)"
    fix_safety = "sometimes"
    on = ("div",)
    autocast = "`exp` runs in float32 under CUDA autocast, `sigmoid` in float16: the fix returns the input dtype."
    valid = [
        Valid("torch.sigmoid(z) * torch.sigmoid(-z)"),
        Valid("torch.exp(z) / (1 + torch.exp(x)) ** 2"),
        Valid("torch.exp(-z.abs()) / (1 + torch.exp(-z.abs())) ** 2"),
        Valid("torch.exp(z) / (2 + torch.exp(z)) ** 2"),
    ]
    invalid = [
        Invalid("torch.exp(x) / (1 + torch.exp(x)) ** 2", "torch.sigmoid(x) * torch.sigmoid(-x)"),
        Invalid("torch.exp(-x) / (1 + torch.exp(-x)) ** 2", "torch.sigmoid(-x) * torch.sigmoid(x)"),
        Invalid("np.exp(log_odds) / (1 + np.exp(log_odds)) ** 2",
                "scipy.special.expit(log_odds) * scipy.special.expit(-log_odds)", "numpy",
                unsafe=True, variables=("log_odds",)),
        Invalid("tf.exp(x) / tf.square(1 + tf.exp(x))", "tf.math.sigmoid(x) * tf.math.sigmoid(-x)", "tf"),
        Invalid("jnp.exp(x) / (1 + jnp.exp(x)) ** 2", "jax.nn.sigmoid(x) * jax.nn.sigmoid(-x)", "jax"),
    ]

    def check(self, node: ast.AST, quotient: Value, ctx: Context) -> None:
        if len(quotient.operands) != 2:
            return
        exp, denominator = quotient.operands
        if exp.kind != "exp" or exp.op is None or exp.op.input is None:
            return
        base = squared(denominator)
        if base is None:
            return
        split = one_plus_terms(ctx.value(base))
        if split is None or len(split[1]) != 1 or split[1][0].sign < 0:
            return
        other = split[1][0].value
        if other.kind != "exp" or other.op is None or other.op.input is None:
            return
        if not (other.node is exp.node or same_expression(other.op.input, exp.op.input)):
            return
        if exp.local and is_nonpositive(ctx, exp.op.input) or exp_cannot_overflow(ctx, exp, underflow_matters=False):
            return
        via = list(exp.via + denominator.via + other.via)
        fix = self.fix(ctx, node, exp.op, other, via) if fixable(exp) and denominator.local else None
        self.report(ctx, node, fix, via, origins=[exp], operands={"x": exp.operand()})

    def fix(self, ctx: Context, node: ast.AST, exp: Op, other: Value, via) -> Fix | None:
        framework = family(exp, other.op)
        if ("sigmoid", framework) not in frameworks.STABLE or not may_repeat(ctx, exp.input):
            return None
        first, imports = stable_call(ctx, "sigmoid", framework, [ctx.text(exp.input)], like=None)
        second, _ = stable_call(ctx, "sigmoid", framework, [negated(ctx.index, exp.input)], like=None)
        safety = "unsafe" if framework == "numpy" else "safe"  # expit turns float16 into float64
        return ctx.fix(node, f"{first} * {second}", imports=imports, safety=safety, via=via, copied=[exp.input])


RULES = [TanhSquashLogDet, LogSigmoidDifference, GammaRatio, LogMeanExpWithEps, LogisticDensity]
