"""STB1xx: compositions of log and exp that have a stable fused form."""

from __future__ import annotations

import ast
import math

from stablelint import frameworks
from stablelint.analysis import digits
from stablelint.analysis import intervals as iv
from stablelint.analysis import values as v
from stablelint.analysis.counts import looks_like_count
from stablelint.analysis.magnitudes import accumulates_logs
from stablelint.analysis.reductions import reduction_args
from stablelint.analysis.scales import used_as_scale
from stablelint.analysis.signs import is_nonpositive
from stablelint.analysis.values import Value
from stablelint.diagnostics import Fix
from stablelint.fixes import call_arguments, negated, operand
from stablelint.ir import Op, constant_value, identifier_of
from stablelint.prefilter import may_be_half
from stablelint.rules.base import Context, Invalid, Rule, Valid, proven_range
from stablelint.rules.distributions import squares_a_tanh
from stablelint.rules.matching import (
    activation_input,
    arguments_of,
    axis_arguments,
    clipped_apart,
    exp_cannot_overflow,
    family,
    fixable,
    is_constant_expression,
    is_true,
    is_unit,
    naive_softmax_parts,
    one_plus_terms,
    rewrapped,
    softmax_of,
    stable_call,
    takes_only_input,
    terms_text,
)


class LogSoftmax(Rule):
    """
    ## What it does
    Finds `log(softmax(x))`, in any framework and spelling (`torch.log(F.softmax(x, 1))`,
    `x.softmax(-1).log()`, `np.log(scipy.special.softmax(x))`,
    `tf.math.log(tf.nn.softmax(x))`, `jnp.log(jax.nn.softmax(x))`), also when the softmax
    is assigned to a name first (`p = F.softmax(z, -1)` … `torch.log(p)`).

    ## Why is this bad?
    Softmax rounds the probabilities of unlikely classes to exactly 0 once the logits
    differ by more than about 104 in float32 (17 in float16); their log is then `-inf`,
    and a loss or gradient built on it becomes `inf` or `nan`. `log_softmax` computes
    `x - logsumexp(x)` directly and stays finite.

    ## Fix safety
    Safe: `log_softmax` takes exactly the same arguments as the `softmax` it replaces (same
    axis, same default axis, same `dtype`) and returns the same value wherever the
    original is finite. When the softmax comes from an assignment, the fix moves the
    softmax arguments to the log: it is unsafe if they contain a call (which would run
    again), and not offered if one of their names is reassigned in between.

    ## References
    - Goodfellow, Bengio, Courville, *Deep Learning*, §4.1 (softmax and log-softmax).
    - [torch.nn.functional.log_softmax](https://pytorch.org/docs/stable/generated/torch.nn.functional.log_softmax.html),
      [scipy.special.log_softmax](https://docs.scipy.org/doc/scipy/reference/generated/scipy.special.log_softmax.html),
      [tf.nn.log_softmax](https://www.tensorflow.org/api_docs/python/tf/nn/log_softmax),
      [jax.nn.log_softmax](https://jax.readthedocs.io/en/latest/_autosummary/jax.nn.log_softmax.html)
    """

    code = "STB101"
    autocast = (
        "`log`, `softmax` and `log_softmax` are all on autocast's float32 list (CUDA): the original and "
        "the fix both compute in float32 and return float32. No change."
    )
    name = "log-of-softmax"
    message = "log(softmax(x)) underflows to -inf when a probability rounds to 0; use log_softmax(x)"
    fix_safety = "safe"
    on = ("log",)
    valid = [
        Valid("F.log_softmax(x, dim=-1)"),
        Valid("torch.log(F.softmax(x, dim=-1) + 1e-8)"),
        Valid("torch.log(torch.clamp(F.softmax(x, dim=-1), min=1e-8))"),
        Valid("p = F.softmax(x, dim=-1).clamp(min=1e-8)\ny = torch.log(p)"),
        Valid("p = F.softmax(x, dim=-1)\np = p + 1e-8\ny = p.log()"),
        Valid("p = F.softmax(x, dim=-1)\np.clamp_(min=1e-8)\ny = torch.log(p)"),
        Valid("np.log(scipy.special.softmax(x) + 1e-12)", "numpy"),
        Valid("jnp.log(jnp.maximum(jax.nn.softmax(x), 1e-12))", "jax"),
    ]
    invalid = [
        Invalid("torch.log(torch.softmax(x, dim=1))", "torch.log_softmax(x, dim=1)"),
        Invalid("torch.log(F.softmax(x, -1))", "F.log_softmax(x, -1)"),
        Invalid("x.softmax(dim=1).log()", "x.log_softmax(dim=1)"),
        Invalid("torch.log((2 * x).softmax(1))", "(2 * x).log_softmax(1)"),
        Invalid("np.log(scipy.special.softmax(log_lik, axis=1))", "scipy.special.log_softmax(log_lik, axis=1)",
                "numpy", variables=("log_lik",)),
        Invalid("tf.math.log(tf.nn.softmax(x, axis=-1))", "tf.nn.log_softmax(x, axis=-1)", "tf"),
        Invalid("keras.ops.log(keras.ops.softmax(x))", "keras.ops.log_softmax(x)", "keras"),
        Invalid("jnp.log(jax.nn.softmax(x, axis=1))", "jax.nn.log_softmax(x, axis=1)", "jax"),
        Invalid("torch.log(F.softmax(x, -1)[:, 0])", "F.log_softmax(x, -1)[:, 0]"),
        Invalid("torch.log(torch.softmax(x, 1).reshape(-1))", "torch.log_softmax(x, 1).reshape(-1)"),
        Invalid(
            "np.log(scipy.special.softmax(log_lik, axis=1)[:, 1])", "scipy.special.log_softmax(log_lik, axis=1)[:, 1]",
            "numpy", variables=("log_lik",),
        ),
    ]

    def check(self, node: ast.Call, log: Value, ctx: Context) -> None:
        if not takes_only_input(log.op):
            return
        argument = log.operand()
        indexed = argument if argument.kind == v.INDEX else None
        inner, layers = argument, 0
        while inner.kind == v.INDEX and layers < 4:  # tf.gather(tf.reshape(p, [-1]), i)
            inner, layers = inner.operand(), layers + 1
        softmax = softmax_of(inner)
        if softmax is None:
            return
        interval = ctx.range(softmax)
        dtypes = (ctx.dtype_of(softmax), ctx.dtype_of(argument))  # a cast after the softmax counts too
        parts = naive_softmax_parts(softmax)
        if parts is not None and ctx.range(parts[0].operand()) is not None:
            # exp(x) / sum(exp(x)): a softmax of x, whatever the division's interval says
            interval = iv.softmax(ctx.range(parts[0].operand()), dtypes[0])
        if interval is not None and all(interval.lo >= iv.SMALLEST_NORMAL[dtype] for dtype in dtypes):
            return  # its inputs are bounded: no probability can round to 0 (intervals)
        if ctx.only_sampled(node):
            return  # only sampled from (multinomial, categorical): -inf is a valid logit there
        if ctx.sampled_outcome_probability(indexed):
            return  # log(pi[a]) of the action a drawn from this policy: not 0 (analysis.outcomes)
        via = (indexed.via if indexed else ()) + softmax.via
        fix = None
        if softmax.kind == "softmax" and fixable(softmax) and layers <= 1 and (indexed is None or indexed.local):
            fix = self.fix(ctx, node, softmax.op, indexed, via)
        # The logits, where a softmax call is written (a layer's activation applies to its output),
        # or the exponent of a softmax written out.
        logits = {"x": softmax.operand()} if softmax.kind == "softmax" and softmax.op is not None else None
        if parts is not None:
            logits = {"x": parts[0].operand()}
        self.report(ctx, node, fix, via, origins=[indexed or softmax, softmax], operands=logits)

    def fix(self, ctx: Context, node: ast.Call, softmax: Op, indexed: Value | None = None, via=()) -> Fix | None:
        content, imports = self.log_softmax_call(ctx, softmax)
        if content is None:
            return None
        copied = arguments_of(softmax)
        if indexed is not None:
            # ``log(softmax(x)[..., i])`` -> ``log_softmax(x)[..., i]``: index the log instead.
            content = rewrapped(ctx, indexed, content)
            if content is None:
                return None
        return ctx.fix(node, content, imports=imports, via=list(via), copied=copied)

    def log_softmax_call(self, ctx: Context, softmax: Op):
        arguments = call_arguments(ctx.index, softmax.call)
        if softmax.method:
            content, imports = f"{operand(ctx.index, softmax.input)}.log_softmax{arguments}", ()
        else:
            target = frameworks.LOG_SOFTMAX_OF.get(softmax.qualified_name)
            if target is None:
                return None, ()
            if softmax.qualified_name == "torch.special.softmax" and len(softmax.call.args) > 2:
                return None, ()  # torch.special.log_softmax takes its dtype by keyword only
            function, imports = ctx.spell(target, like=softmax)
            content = function + arguments
        return content, imports


class LogSumExp(Rule):
    """
    ## What it does
    Finds `log(sum(exp(x)))` written out: `torch.log(torch.sum(torch.exp(x), dim=1))`,
    `x.exp().sum(-1).log()`, `np.log(np.sum(np.exp(x), axis=1))`,
    `tf.math.log(tf.reduce_sum(tf.exp(x), axis=1))`, `jnp.log(jnp.sum(jnp.exp(x)))`.
    Code that subtracts the maximum first (`m + log(sum(exp(x - m)))`) is already stable
    and is not reported.

    ## Why is this bad?
    `exp` overflows to `inf` for inputs above 88.7 in float32 (11.1 in float16, 709.8 in
    float64), so the result is `inf` although the true value is finite; for very negative
    inputs every `exp` underflows to 0 and the result is `-inf`. `logsumexp` subtracts
    the maximum internally and is exact over the whole range.

    ## Fix safety
    Safe for PyTorch, TensorFlow, Keras and JAX: the same axis and keep-dims arguments are
    passed to the framework's `logsumexp` (`torch.logsumexp` needs a `dim`; a sum over all
    elements becomes `torch.logsumexp(x.flatten(), 0)`). For NumPy the fix calls
    `scipy.special.logsumexp`: safe when the file already imports SciPy, unsafe otherwise
    because it adds a dependency on SciPy (a module that binds SciPy optionally,
    `special = try_import("scipy.special")`, gets `special.logsumexp`, still unsafe), and
    unsafe in a module that uses pandas or xarray (SciPy returns an ndarray where NumPy
    keeps a DataFrame's labels). The mean form, `logsumexp(x, d) - log(n)`, is unsafe in a
    file that may compute in float16/bfloat16: near 0 it cancels two numbers near `log(n)`
    and is only as accurate as the original (about 1 % in float16). Sums with a `dtype`,
    `out` or `where` argument are reported without a fix.

    This overlaps TorchFix's TOR108, which reports the PyTorch form without a fix.

    ## References
    - Blanchard, Higham, Higham, *Accurately computing the log-sum-exp and softmax functions*,
      IMA Journal of Numerical Analysis 41(4), 2021 (shifting by the maximum, and its error bounds).
    - Goodfellow, Bengio, Courville, *Deep Learning*, §4.1.
    - [torch.logsumexp](https://pytorch.org/docs/stable/generated/torch.logsumexp.html),
      [scipy.special.logsumexp](https://docs.scipy.org/doc/scipy/reference/generated/scipy.special.logsumexp.html),
      [tf.math.reduce_logsumexp](https://www.tensorflow.org/api_docs/python/tf/math/reduce_logsumexp),
      [jax.nn.logsumexp](https://jax.readthedocs.io/en/latest/_autosummary/jax.nn.logsumexp.html)
    """

    code = "STB102"
    autocast = (
        "`exp`, `sum`, `log` and (in current PyTorch) `logsumexp` are all on autocast's float32 list "
        "(CUDA): both forms compute and return float32. No change."
    )
    name = "naive-logsumexp"
    message = "log(sum(exp(x))) overflows for large x; use logsumexp(x)"
    fix_safety = "sometimes"
    on = ("log",)
    valid = [
        Valid("torch.logsumexp(x, dim=1)"),
        Valid(
            "m = x.max(dim=1, keepdim=True).values\n"
            "y = m + torch.log(torch.sum(torch.exp(x - m), dim=1, keepdim=True))"
        ),
        Valid("y = torch.log(torch.exp(x - torch.amax(x, 1, keepdim=True)).sum(1))"),
        Valid(
            "x_max = np.max(x, axis=-1, keepdims=True)\n"
            "y = x_max + np.log(np.sum(np.exp(x - x_max), axis=-1, keepdims=True))",
            "numpy",
        ),
        Valid("np.log(np.sum(np.exp(x), axis=1) + 1e-12)", "numpy"),
        Valid("torch.log(torch.exp(-x.abs()).sum(1))"),
    ]
    invalid = [
        Invalid("torch.log(torch.sum(torch.exp(x), dim=1))", "torch.logsumexp(x, dim=1)"),
        Invalid("torch.log(torch.exp(x).sum(-1, keepdim=True))", "x.logsumexp(-1, keepdim=True)"),
        Invalid("x.exp().sum(1).log()", "x.logsumexp(1)"),
        Invalid("torch.log(torch.sum(torch.exp(x)))", "torch.logsumexp(x.flatten(), 0)"),
        Invalid("np.log(np.sum(np.exp(log_p), axis=1))", "scipy.special.logsumexp(log_p, axis=1)",
                "numpy", variables=("log_p",)),
        Invalid("np.log(np.exp(log_p).sum(-1, keepdims=True))", "scipy.special.logsumexp(log_p, -1, keepdims=True)",
                "numpy", variables=("log_p",)),
        Invalid("np.log(np.sum(np.exp(log_p)))", "scipy.special.logsumexp(log_p)", "numpy", variables=("log_p",)),
        Invalid("np.log(sum(np.exp(log_p)))", None, "numpy", variables=("log_p",)),
        Invalid("torch.log(torch.exp(x).mean(1))", "x.logsumexp(1) - math.log(x.shape[1])"),
        Invalid("torch.log(torch.mean(torch.exp(x), -1))", "torch.logsumexp(x, -1) - math.log(x.shape[-1])"),
        Invalid("np.log(np.mean(np.exp(log_p), axis=0))",
                "scipy.special.logsumexp(log_p, 0) - math.log(log_p.shape[0])", "numpy", variables=("log_p",)),
        Invalid("np.log(np.mean(np.exp(log_p)))", "scipy.special.logsumexp(log_p) - math.log(log_p.size)",
                "numpy", variables=("log_p",)),
        Invalid("tf.math.log(tf.reduce_sum(tf.exp(x), axis=1))", "tf.math.reduce_logsumexp(x, axis=1)", "tf"),
        Invalid("keras.ops.log(keras.ops.sum(keras.ops.exp(x), axis=1))", "keras.ops.logsumexp(x, axis=1)", "keras"),
        Invalid("jnp.log(jnp.sum(jnp.exp(x), axis=1))", "jax.nn.logsumexp(x, axis=1)", "jax"),
    ]

    def check(self, node: ast.Call, log: Value, ctx: Context) -> None:
        if not takes_only_input(log.op):
            return
        total = log.operand()
        exp = total.operand()
        generated = exp.kind == v.INDEX and isinstance(exp.node, (ast.GeneratorExp, ast.ListComp))
        if generated:
            exp = exp.operand()  # sum(exp(s) for s in xs): reported without a fix
        if total.kind not in ("sum", "mean") or exp.kind != "exp" or exp.op is None:
            return
        if exp.local and is_nonpositive(ctx, exp.op.input) or exp_cannot_overflow(ctx, exp):
            return
        via = list(total.via + exp.via)
        if total.kind == "mean":
            message = "log(mean(exp(x))) overflows for large x; use logsumexp(x) - log(n)"
            fix = self.mean_fix(ctx, node, log.op, total.op, exp.op, via) if fixable(total, exp) else None
            self.report(ctx, node, fix, via, origins=[total, exp], message=message, operands={"x": exp.operand()})
            return
        fixed = fixable(total, exp) and not generated
        fix = self.fix(ctx, node, log.op, total.op, exp.op, via) if fixed else None
        self.report(ctx, node, fix, via, origins=[total, exp], operands={"x": exp.operand()})

    def fix(self, ctx: Context, node: ast.Call, log: Op, total: Op, exp: Op, via: list) -> Fix | None:
        framework = family(log, total, exp)
        args = framework and reduction_args(total, framework)
        if not args or exp.input is None:
            return None
        copied = [exp.input, args.axis, args.keepdims]
        copied = [expr for expr in copied if expr is not None]
        if framework == "torch":
            source = operand(ctx.index, exp.input)
            # torch.sum reduces every element when its dim is missing, None, () or []; torch.logsumexp
            # accepts none of those (`dim=None` is a TypeError, pytorch#144339): flatten, reduce dim 0.
            every_element = (
                args.axis is None
                or (isinstance(args.axis, ast.Constant) and args.axis.value is None)
                or (isinstance(args.axis, (ast.Tuple, ast.List)) and not args.axis.elts)
            )
            if every_element:
                keeps_dims = args.keepdims is not None and not (
                    isinstance(args.keepdims, ast.Constant) and args.keepdims.value is False
                )
                if keeps_dims:
                    return None  # a 1 for each dim of x: no single call says that
                if len(ctx.shape(ctx.value(exp.input)) or "xx") == 1:
                    axis = ["0"]  # a vector (its shape says so): every element is dim 0
                else:
                    source, axis = f"{source}.flatten()", ["0"]
            else:
                axis = axis_arguments(ctx, args, framework)
            if exp.method or total.method:
                content, imports = f"{source}.logsumexp({', '.join(axis)})", ()
            else:
                inner = source if every_element else ctx.text(exp.input)
                content, imports = stable_call(ctx, "logsumexp", framework, [inner, *axis], like=log)
            return ctx.fix(node, content, imports=imports, via=via, copied=copied)
        if framework not in ("numpy", "tf", "keras", "jax"):
            return None
        content, imports = stable_call(
            ctx, "logsumexp", framework, [ctx.text(exp.input), *axis_arguments(ctx, args, framework)], like=log
        )
        safety = "safe" if framework != "numpy" or ctx.imports_scipy else "unsafe"
        note = ""
        if framework == "numpy" and ctx.may_hold_labeled_arrays:
            safety, note = "unsafe", LABELED_ARRAYS_NOTE.format(function="logsumexp")
        return ctx.fix(node, content, imports=imports, safety=safety, via=via, copied=copied, note=note)


    def mean_fix(self, ctx: Context, node: ast.Call, log: Op, total: Op, exp: Op, via: list) -> Fix | None:
        """``log(mean(exp(x), d))`` -> ``(logsumexp(x, d) - math.log(x.shape[d]))``, for one
        literal axis (or every element, NumPy) and no kept dims."""
        framework = family(log, total, exp)
        if framework not in ("torch", "numpy", "jax"):
            return None
        args = reduction_args(total, framework)
        if not args or exp.input is None or not (args.keepdims is None or constant_value(args.keepdims) == 0):
            return None
        axis = constant_value(args.axis) if args.axis is not None else None
        every_element = args.axis is None or (isinstance(args.axis, ast.Constant) and args.axis.value is None)
        if every_element and framework != "numpy":
            return None
        if not every_element and (axis is None or axis != int(axis)):
            return None
        source = operand(ctx.index, exp.input)
        count = f"{source}.size" if every_element else f"{source}.shape[{int(axis)}]"
        math_log, math_imports = ctx.spell("math.log")
        if framework == "torch" and (exp.method or total.method):
            lse, imports = f"{source}.logsumexp({ctx.text(args.axis)})", ()
        else:
            reduced = [] if every_element else [ctx.text(args.axis)]
            lse, imports = stable_call(ctx, "logsumexp", framework, [ctx.text(exp.input), *reduced], like=log)
        content = f"({lse} - {math_log}({count}))"
        # x is now written twice: a call in it would run twice.
        twice = any(isinstance(inner, ast.Call) for inner in ast.walk(exp.input))
        safety = "unsafe" if twice or (framework == "numpy" and not ctx.imports_scipy) else "safe"
        note = ""
        if may_be_half(ctx.index.source, ctx.assumed_dtype):
            # Near 0, logsumexp(x) - log(n) cancels two numbers near log(n): in float16 that
            # is ~1 % off (as the original's log of a mean near 1 is), not the exact value.
            safety, note = "unsafe", "in float16/bfloat16 the result near 0 is only as accurate as the original's"
        copied = [exp.input] + ([args.axis] if args.axis is not None else [])
        return ctx.fix(node, content, imports=imports + math_imports, safety=safety, via=via, copied=copied, note=note)


# SciPy's softmax and logsumexp return ndarrays where NumPy's ufuncs keep a pandas Series or
# an xarray DataArray (``w.to_numpy()`` after the fix raises AttributeError).
LABELED_ARRAYS_NOTE = (
    "scipy.special.{function} returns an ndarray: a pandas or xarray operand (this module uses them) loses its type"
)


class NaiveSoftmax(Rule):
    """
    ## What it does
    Finds softmax written out as `exp(x) / sum(exp(x))`: `torch.exp(x) / torch.exp(x).sum(1,
    keepdim=True)`, `e / e.sum(-1, keepdims=True)` after `e = np.exp(x)`, and the same in
    TensorFlow, Keras and JAX. Code that subtracts the maximum first is not reported; a
    clip on one side only (`exp(clip(x, -87, 87)) / sum(exp(x))`) is, since the other side
    still overflows (no fix: the two sides disagree on what is normalised).

    ## Why is this bad?
    For inputs above 88.7 (float32), 11.1 (float16) or 709.8 (float64) `exp` overflows and
    the quotient is `inf / inf = nan`; for very negative inputs it is `0 / 0 = nan`. The
    framework's `softmax` subtracts the maximum first and never overflows.

    ## Fix safety
    Safe when the sum keeps its reduced dimension (`keepdim=True`) or sums every element
    (NumPy): the fix passes the same axis to `softmax`. Without `keepdim` the division
    broadcasts differently and no fix is offered; for NumPy the fix calls
    `scipy.special.softmax` and is unsafe when the file does not import SciPy yet, and in
    a module that uses pandas or xarray: SciPy's softmax returns an ndarray where the
    original keeps a Series or a DataArray (`w.to_numpy()` after it fails). When
    `exp(x)` is assigned to a name first, the fix is unsafe if `x` contains a call.

    ## References
    - Blanchard, Higham, Higham, *Accurately computing the log-sum-exp and softmax functions*,
      IMA Journal of Numerical Analysis 41(4), 2021 (shifting by the maximum, and its error bounds).
    - Goodfellow, Bengio, Courville, *Deep Learning*, §4.1.
    - [torch.softmax](https://pytorch.org/docs/stable/generated/torch.nn.functional.softmax.html),
      [scipy.special.softmax](https://docs.scipy.org/doc/scipy/reference/generated/scipy.special.softmax.html),
      [tf.nn.softmax](https://www.tensorflow.org/api_docs/python/tf/nn/softmax),
      [jax.nn.softmax](https://jax.readthedocs.io/en/latest/_autosummary/jax.nn.softmax.html)
    """

    code = "STB103"
    autocast = (
        "`exp`, `sum` and `softmax` are all on autocast's float32 list (CUDA): both forms compute and "
        "return float32. No change."
    )
    name = "naive-softmax"
    message = "exp(x) / sum(exp(x)) overflows to inf / inf = nan for large x; use softmax(x)"
    fix_safety = "sometimes"
    on = ("div",)
    valid = [
        Valid("torch.softmax(x, dim=1)"),
        Valid("e = torch.exp(x - x.max(dim=1, keepdim=True).values)\ny = e / e.sum(dim=1, keepdim=True)"),
        Valid("e = np.exp(x - np.max(x, axis=-1, keepdims=True))\ny = e / np.sum(e, axis=-1, keepdims=True)", "numpy"),
        Valid("y = torch.exp(x) / torch.exp(z).sum(1, keepdim=True)"),
        Valid("s2 = sigma * sigma\nk = np.exp(-0.5 / s2 * x ** 2)\nk = k / k.sum()", "numpy"),
        Valid("g = torch.exp(-x.pow(2.0) / (2 * sigma.pow(2.0)))\ny = g / g.sum(-1, keepdim=True)"),
        Valid("torch.exp(x.clamp(-20, 20)) / torch.exp(x.clamp(-30, 30)).sum(1, keepdim=True)"),
    ]
    invalid = [
        Invalid("torch.exp(x) / torch.exp(x).sum(dim=1, keepdim=True)", "torch.softmax(x, dim=1)"),
        Invalid("x.exp() / x.exp().sum(-1, keepdim=True)", "x.softmax(-1)"),
        Invalid("np.exp(log_lik) / np.sum(np.exp(log_lik), axis=1, keepdims=True)",
                "scipy.special.softmax(log_lik, axis=1)", "numpy", variables=("log_lik",)),
        Invalid("np.exp(log_lik) / np.sum(np.exp(log_lik))", "scipy.special.softmax(log_lik)",
                "numpy", variables=("log_lik",)),
        Invalid("tf.exp(x) / tf.reduce_sum(tf.exp(x), axis=-1, keepdims=True)", "tf.nn.softmax(x, axis=-1)", "tf"),
        Invalid("jnp.exp(x) / jnp.sum(jnp.exp(x), axis=1, keepdims=True)", "jax.nn.softmax(x, axis=1)", "jax"),
        # The numerator clipped, the sum not: the sum overflows all the same (no fix: which softmax?).
        Invalid("tf.exp(tf.clip_by_value(x, -87, 87)) / tf.reduce_sum(tf.exp(x), axis=1, keepdims=True)", None, "tf"),
    ]

    def check(self, node: ast.AST, quotient: Value, ctx: Context) -> None:
        numerator = naive_softmax_parts(quotient)
        if numerator is None:
            return
        exp, total, denominator_exp = numerator
        apart = clipped_apart(exp, denominator_exp)
        if all(is_nonpositive(ctx, each.op.input) or exp_cannot_overflow(ctx, each)
               for each in ((exp, denominator_exp) if apart else (exp,))):
            return  # shifted by the max, or bounded (a standard normal draw) so exp stays finite
        via = list(exp.via + total.via + denominator_exp.via)
        fixed = not apart and fixable(exp, total, denominator_exp)  # a clip on one side only: which softmax?
        fix = self.fix(ctx, node, exp.op, total.op, via) if fixed else None
        # The exponent's range and magnitude decide (where one side is clipped: neither's alone).
        operands = None if apart else {"x": exp.operand()}
        self.report(ctx, node, fix, via, origins=[exp, total], operands=operands)

    def fix(self, ctx: Context, node: ast.BinOp, exp: Op, total: Op, via: list) -> Fix | None:
        framework = family(exp, total)
        args = framework and reduction_args(total, framework)
        if not args:
            return None
        sums_everything = args.axis is None and framework == "numpy"
        if not sums_everything and (args.axis is None or not is_true(args.keepdims)):
            return None
        several_axes = isinstance(args.axis, (ast.Tuple, ast.List)) or (
            isinstance(args.axis, ast.Constant) and args.axis.value is None
        )
        if framework in ("torch", "tf", "keras") and several_axes:
            # Their softmax takes one axis (torch's rejects None, TensorFlow's reads None as -1);
            # NumPy's and JAX's take several, or None for all.
            return None
        axis = axis_arguments(ctx, args, framework, keep=False)
        copied = [exp.input] + ([args.axis] if args.axis is not None else [])
        if framework == "torch" and exp.method:
            content, imports = f"{operand(ctx.index, exp.input)}.softmax({', '.join(axis)})", ()
        elif framework in ("torch", "numpy", "tf", "keras", "jax"):
            content, imports = stable_call(ctx, "softmax", framework, [ctx.text(exp.input), *axis], like=exp)
        else:
            return None
        safety = "safe" if framework != "numpy" or ctx.imports_scipy else "unsafe"
        note = ""
        if framework == "numpy" and ctx.may_hold_labeled_arrays:
            safety, note = "unsafe", LABELED_ARRAYS_NOTE.format(function="softmax")
        return ctx.fix(node, content, imports=imports, safety=safety, via=via, copied=copied, note=note)


class LogSigmoid(Rule):
    """
    ## What it does
    Finds `log(sigmoid(x))`: `torch.log(torch.sigmoid(x))`, `x.sigmoid().log()`,
    `np.log(scipy.special.expit(x))`, `tf.math.log(tf.sigmoid(x))`,
    `jnp.log(jax.nn.sigmoid(x))`. Not of a value of trained parameters alone, such as a
    learned noise schedule at a constant time (`log(sigmoid(self.gamma(1.)))`): no data flows
    in, and the optimizer does not carry it past exp's bound (`analysis.magnitudes`).

    ## Why is this bad?
    `sigmoid(x)` underflows to 0 for `x` below about -88 in float32 (-17 in float16), so its
    log is `-inf` where the true value is simply about `x`; the gradient is `nan`. The
    fused `logsigmoid` computes `-softplus(-x)` and is exact everywhere.

    ## Fix safety
    Safe: `torch.nn.functional.logsigmoid`, `scipy.special.log_expit` (SciPy ≥ 1.8),
    `tf.math.log_sigmoid`, `keras.ops.log_sigmoid` and `jax.nn.log_sigmoid` return the same
    value wherever the original is finite.

    ## References
    - Goodfellow, Bengio, Courville, *Deep Learning*, §3.10 (softplus and log-sigmoid).
    - [torch.nn.functional.logsigmoid](https://pytorch.org/docs/stable/generated/torch.nn.functional.logsigmoid.html),
      [scipy.special.log_expit](https://docs.scipy.org/doc/scipy/reference/generated/scipy.special.log_expit.html),
      [tf.math.log_sigmoid](https://www.tensorflow.org/api_docs/python/tf/math/log_sigmoid),
      [jax.nn.log_sigmoid](https://jax.readthedocs.io/en/latest/_autosummary/jax.nn.log_sigmoid.html)
    """

    code = "STB104"
    autocast = (
        "`log` runs in float32 under CUDA autocast, `sigmoid` and `F.logsigmoid` in the input dtype: the "
        "fused form returns float16 where the original returned float32 — exact in float16 where the "
        "original had already lost the small probabilities."
    )
    name = "log-of-sigmoid"
    message = "log(sigmoid(x)) underflows to -inf for very negative x; use logsigmoid(x)"
    fix_safety = "safe"
    on = ("log",)
    valid = [
        Valid("F.logsigmoid(x)"),
        Valid("torch.log(torch.sigmoid(x) + 1e-7)"),
        Valid("torch.log(torch.sigmoid(x).clamp(min=1e-7))"),
        Valid("np.log(np.clip(scipy.special.expit(x), 1e-7, 1.0))", "numpy"),
    ]
    invalid = [
        Invalid("torch.log(torch.sigmoid(x))", "F.logsigmoid(x)"),
        Invalid("x.sigmoid().log()", "F.logsigmoid(x)"),
        Invalid("torch.log(torch.sigmoid(x).view(-1))", "F.logsigmoid(x).view(-1)"),
        Invalid("np.log(scipy.special.expit(log_odds))", "scipy.special.log_expit(log_odds)",
                "numpy", variables=("log_odds",)),
        Invalid("tf.math.log(tf.sigmoid(x))", "tf.math.log_sigmoid(x)", "tf"),
        Invalid("keras.ops.log(keras.ops.sigmoid(x))", "keras.ops.log_sigmoid(x)", "keras"),
        Invalid("jnp.log(jax.nn.sigmoid(x))", "jax.nn.log_sigmoid(x)", "jax"),
    ]

    def check(self, node: ast.Call, log: Value, ctx: Context) -> None:
        if not takes_only_input(log.op):
            return
        argument = log.operand()
        indexed = argument if argument.kind == v.INDEX else None
        sigmoid = indexed.operand() if indexed else argument
        if sigmoid.kind != "sigmoid":
            return
        interval = ctx.range(sigmoid)
        if interval is not None and interval.lo > 0:
            return  # its input is bounded below: the sigmoid cannot round to 0 (intervals)
        via = list((indexed.via if indexed else ()) + sigmoid.via)
        fix = None
        if fixable(sigmoid) and sigmoid.op.input is not None and (indexed is None or indexed.local):
            fix = log_sigmoid_fix(ctx, node, log.op, sigmoid.op, ctx.text(sigmoid.op.input), via, indexed)
        self.report(ctx, node, fix, via, origins=[indexed or sigmoid, sigmoid], operands=activation_input(sigmoid))


def log_sigmoid_fix(
    ctx: Context, node: ast.AST, log: Op, sigmoid: Op, argument: str, via: list, indexed: Value | None = None
) -> Fix | None:
    framework = family(log, sigmoid)
    if (("log_sigmoid", framework)) not in frameworks.STABLE:
        return None
    content, imports = stable_call(ctx, "log_sigmoid", framework, [argument], like=sigmoid)
    if indexed is not None:
        content = rewrapped(ctx, indexed, content)  # log(sigmoid(x)[i]) -> logsigmoid(x)[i]
        if content is None:
            return None
    return ctx.fix(node, content, imports=imports, via=via, copied=[sigmoid.input])


class LogOneMinusSigmoid(Rule):
    """
    ## What it does
    Finds `log(1 - sigmoid(x))`, the second half of a hand-written binary cross-entropy,
    in every framework, also through an assignment (`p = torch.sigmoid(z)` …
    `torch.log(1 - p)`).

    ## Why is this bad?
    For `x` above about 17 in float32 (8 in float16) `sigmoid(x)` rounds to exactly 1,
    so `1 - sigmoid(x)` is 0 and its log is `-inf`; the true value is about `-x`. Since
    `1 - sigmoid(x) = sigmoid(-x)`, the stable form is `logsigmoid(-x)`.

    ## Fix safety
    Safe: `logsigmoid(-x)` equals `log(1 - sigmoid(x))` wherever the original is finite.

    ## References
    - Goodfellow, Bengio, Courville, *Deep Learning*, §3.10.
    - [torch.nn.functional.logsigmoid](https://pytorch.org/docs/stable/generated/torch.nn.functional.logsigmoid.html),
      [scipy.special.log_expit](https://docs.scipy.org/doc/scipy/reference/generated/scipy.special.log_expit.html)
    """

    code = "STB105"
    autocast = (
        "As for STB104: `log` runs in float32 under CUDA autocast, `F.logsigmoid` in the input dtype, so "
        "the result can be float16 instead of float32."
    )
    name = "log-one-minus-sigmoid"
    message = "log(1 - sigmoid(x)) rounds to log(0) = -inf for large x; use logsigmoid(-x)"
    fix_safety = "safe"
    on = ("log", "log1p")
    valid = [
        Valid("F.logsigmoid(-x)"),
        Valid("torch.log(1 - torch.sigmoid(x) + 1e-7)"),
        Valid("torch.log((1 - torch.sigmoid(x)).clamp(min=1e-7))"),
        Valid("torch.log(2 - torch.sigmoid(x))"),
    ]
    invalid = [
        Invalid("torch.log(1 - torch.sigmoid(x))", "F.logsigmoid(-x)"),
        Invalid("torch.log(1.0 - x.sigmoid())", "F.logsigmoid(-x)"),
        Invalid("torch.log(1 - torch.sigmoid(-x))", "F.logsigmoid(x)"),
        Invalid("torch.log(1 - torch.sigmoid(2 * x))", "F.logsigmoid(-(2 * x))"),
        Invalid("torch.log(torch.ones_like(x) - torch.sigmoid(x))", "F.logsigmoid(-x)"),
        Invalid("np.log(1 - scipy.special.expit(x))", "scipy.special.log_expit(-x)", "numpy"),
        Invalid("tf.math.log(1 - tf.sigmoid(x))", "tf.math.log_sigmoid(-x)", "tf"),
        Invalid("jnp.log(1 - jax.nn.sigmoid(x))", "jax.nn.log_sigmoid(-x)", "jax"),
        Invalid("torch.log1p(-torch.sigmoid(x))", "F.logsigmoid(-x)"),
        Invalid("np.log1p(-scipy.special.expit(x))", "scipy.special.log_expit(-x)", "numpy"),
    ]

    def check(self, node: ast.Call, log: Value, ctx: Context) -> None:
        if not takes_only_input(log.op):
            return
        argument = log.operand()
        if log.kind == "log1p":
            found = v.terms(argument)  # log1p(-sigmoid(x))
            via = list(argument.via)
        else:
            split = one_plus_terms(argument)
            found = split[1] if split else []
            via = list(argument.via)
        if len(found) != 1 or found[0].sign != -1 or found[0].value.kind != "sigmoid":
            return
        sigmoid = found[0].value
        interval = ctx.range(sigmoid)
        if interval is not None and interval.hi < 1:
            return  # its input is bounded above: the sigmoid cannot round to 1 (intervals)
        via = via + list(sigmoid.via)
        fix = None
        if fixable(sigmoid) and argument.local and sigmoid.op.input is not None:
            fix = log_sigmoid_fix(ctx, node, log.op, sigmoid.op, negated(ctx.index, sigmoid.op.input), via)
        message = None
        if log.kind == "log1p":
            message = "log1p(-sigmoid(x)) rounds to log(0) = -inf for large x; use logsigmoid(-x)"
        self.report(ctx, node, fix, via, origins=[argument, sigmoid], message=message,
                    operands=activation_input(sigmoid))


class LogOnePlus(Rule):
    """
    ## What it does
    Finds `log(1 + x)` (and `log(x + 1)`) in every framework and in the standard library's
    `math`, in function and method form (`(1 + x).log()`).

    ## Why is this bad?
    When `|x|` is below the dtype's resolution next to 1 (about 1e-16 in float64, 6e-8 in
    float32, 5e-4 in float16), `1 + x` rounds to exactly 1 and the log is 0: every digit
    of the answer (about `x`) is lost, and for slightly larger `x` most of them are.
    `log1p(x)` is accurate for all `x > -1`.

    Not reported where `x` is plainly a count (`len(...)`, `x.shape[0]`, `x.numel()`, or a
    name such as `n`, `num_tokens`, `seq_len`): for an integer `x >= 1`, `log(1 + x)` loses
    nothing. `log(1 + exp(x))` is STB108's (softplus), not this rule's.

    When it reports by default: only where the code proves that `x` lies where more than
    half of the dtype's digits are lost — `|x| < 2.5e-4` in float32, `4.7e-2` in float16,
    `1e-8` in float64 (NumPy, `math`, Python floats) — over its whole range (a constant, a
    clip or clamp to a small interval, a small scale times a bounded value), and the digits
    reach the result. An unknown `x` is no claim: most values are not that small, and where
    they are, the digits lost in one term of a log-likelihood or a log-determinant rarely
    matter. Also silent: a range that reaches larger `|x|` (a probability clipped to
    `[eps, 1 - eps]`), a uniform draw (`log(1 - torch.rand(n))`), and a result rounded or
    only compared with a threshold right after. `log(1 - p)` of a probability the code proves
    reaches 1 (a softmax, sigmoid or `tanh(x) ** 2`) is reported for its real hazard instead:
    `p` rounding to 1 gives `-inf`, which `log1p(-p)` does not avoid.

    ## Fix safety
    Safe: `log1p(x)` equals `log(1 + x)` wherever the original is accurate, and is more
    accurate where it is not.

    This overlaps TorchFix's TOR106, which reports the PyTorch form without a fix.

    ## References
    - Higham, *Accuracy and Stability of Numerical Algorithms*, §1.14.
    - [torch.log1p](https://pytorch.org/docs/stable/generated/torch.log1p.html),
      [numpy.log1p](https://numpy.org/doc/stable/reference/generated/numpy.log1p.html),
      [math.log1p](https://docs.python.org/3/library/math.html#math.log1p)
    """

    code = "STB106"
    autocast = (
        "`log` and `log1p` are both on autocast's float32 list (CUDA): no change."
    )
    name = "log-of-one-plus"
    message = "log(1 + x) loses precision when |x| is small; use log1p(x)"
    fix_safety = "safe"
    on = ("log",)
    valid = [
        Valid("torch.log1p(x)"),
        Valid("torch.log(2 + x)"),
        Valid("math.log(1 + 2)", "math"),
        Valid("math.log(1 + x, 10)", "math"),
        Valid("torch.log(1 + torch.exp(x))"),
        Valid("math.log(1 + len(tokens))", "math"),
        Valid("np.log(n + 1)", "numpy"),
        Valid("np.log(1 + x.shape[0])", "numpy"),
        Valid("torch.log(1 + torch.floor(t / period))"),
        Valid("np.log(1 + x)", "numpy"),
        Valid("math.log(1 + x)", "math"),
        Valid("torch.log(1 + torch.rand(n))"),
        Valid("int(torch.log(1 + x))"),
        Valid("torch.log(1 + x)"),
        Valid("(x + 1).log()"),
        Valid("torch.log(1 + torch.exp(-torch.abs(x)))"),
        Valid("torch.log(1 - torch.tanh(x) ** 2 / 2)"),
    ]
    invalid = [
        Invalid("torch.log(1 + 1e-5 * torch.tanh(x))", "torch.log1p(1e-5 * torch.tanh(x))"),
        Invalid("(1e-5 * torch.tanh(x) + 1).log()", "(1e-5 * torch.tanh(x)).log1p()"),
        Invalid("(1 + 2e-6 * torch.sigmoid(x)).log()", "(2e-6 * torch.sigmoid(x)).log1p()"),
        Invalid("np.log(1 + 1e-10 * np.tanh(x))", "np.log1p(1e-10 * np.tanh(x))", "numpy"),
        Invalid("np.log(1.0 + np.clip(x, -1e-9, 1e-9))", "np.log1p(np.clip(x, -1e-9, 1e-9))", "numpy"),
        Invalid("tf.math.log(1 + 1e-5 * tf.tanh(x))", "tf.math.log1p(1e-5 * tf.tanh(x))", "tf"),
        Invalid("jnp.log(1e-5 * jnp.tanh(x) + 1)", "jnp.log1p(1e-5 * jnp.tanh(x))", "jax"),
        Invalid("torch.log(1 - torch.clamp(x, 0, 1e-6))", "torch.log1p(-torch.clamp(x, 0, 1e-6))"),
        Invalid("np.log(1.0 - 1e-10 * np.tanh(x))", "np.log1p(-1e-10 * np.tanh(x))", "numpy"),
        Invalid("torch.log(torch.add(1e-5 * torch.tanh(x), 1))", "torch.log1p(1e-5 * torch.tanh(x))"),
    ]

    def check(self, node: ast.Call, log: Value, ctx: Context) -> None:
        if not takes_only_input(log.op):
            return
        argument = log.operand()
        split = one_plus_terms(argument)
        if split is None:
            return
        rest = split[1]
        if len(rest) == 1:
            sign, term = rest[0].sign, rest[0].value
            if term.kind == "exp" and (sign < 0 or term.op is None or not is_nonpositive(ctx, term.op.input)):
                return  # softplus (STB108), or log(1 - exp(x)) = log(-expm1(x)) (STB107 inside)
            if term.kind == "sigmoid" and sign < 0:
                return  # STB105
            if sign < 0 and squares_a_tanh(ctx, term):
                return  # log(1 - tanh(u)**2): STB117
            if term.kind == v.UNKNOWN and isinstance(term.node, ast.Call) and identifier_of(term.node.func) == "exp":
                return  # exp(*args): not analysable, and not a precision loss of log's
        if all(term.value.integer for term in rest):
            return  # whole numbers: 1 + n is exact, and log(1 + n) loses nothing
        nodes = [term.node for term in rest]
        if any(node_ is None for node_ in nodes):
            return
        if all(looks_like_count(ctx, node_) or is_constant_expression(ctx, node_) for node_ in nodes):
            return
        via = list(argument.via)
        dtype = ctx.dtype_of(log)
        if len(rest) == 1 and rest[0].sign < 0 and _reaches_one(ctx, rest[0].value, dtype):
            # log(1 - p) of a probability: the hazard is p rounding to 1 (-inf), which log1p(-p)
            # keeps; the small-p digits are not what goes wrong.
            message = (
                "log(1 - p) is -inf where p rounds to 1 (a saturated softmax, sigmoid or tanh), and log1p(-p) "
                "is too; compute it from the logits (log_softmax / logsigmoid / 2 * (log(2) - x - softplus(-2x)))"
            )
            self.report(ctx, node, None, via, origins=[argument], message=message)
            return
        small = rest[0].value if len(rest) == 1 else None
        interval = proven_range(ctx, small) if small is not None else _minus_one(proven_range(ctx, argument))
        if digits.near_one(small or argument, interval, dtype) is None:
            return  # x not proven to lie where more than half the digits go: no claim
        if not ctx.digits_reach_result(node, tuple(term.value.node for term in rest if term.value.node is not None)):
            return  # rounded, compared with a threshold or swamped right after: the digits reach nothing
        fix = self.fix(ctx, node, log.op, rest, via) if argument.local else None
        message = None
        if all(term.sign < 0 for term in rest):
            message = "log(1 - x) loses precision when |x| is small; use log1p(-x)"
        one_plus_x = proven_range(ctx, argument)  # the range of x is that of 1 + x, less 1
        operands = {"x": iv.sub(one_plus_x, iv.point(1.0))} if one_plus_x is not None else None
        self.report(ctx, node, fix, via, origins=[argument], message=message, operands=operands)

    def fix(self, ctx: Context, node: ast.Call, log: Op, rest: list, via: list) -> Fix | None:
        framework = family(log)
        if len(rest) == 1 and rest[0].sign > 0:
            addend = rest[0].node
            addend_text, addend_operand = ctx.text(addend), operand(ctx.index, addend)
        else:
            addend_text = terms_text(ctx, rest)
            if addend_text is None:
                return None
            addend_operand = f"({addend_text})"
        if log.method:
            content, imports = f"{addend_operand}.log1p()", ()
        elif ("log1p", framework) in frameworks.STABLE:
            content, imports = stable_call(ctx, "log1p", framework, [addend_text], like=log)
        else:
            return None
        return ctx.fix(node, content, imports=imports, via=via, copied=[term.node for term in rest])


class ExpMinusOne(Rule):
    """
    ## What it does
    Finds `exp(x) - 1` in every framework and in `math`, in function and method form
    (`x.exp() - 1`), also through an assignment (`e = torch.exp(x)` … `e - 1`).

    ## Why is this bad?
    For small `|x|`, `exp(x)` is `1 + x + …` and the subtraction cancels the leading 1:
    below the dtype's resolution next to 1 the result is exactly 0, and for slightly
    larger `x` most digits are lost. `expm1(x)` is accurate everywhere.

    When it reports by default: only where the code proves that `x` lies where more than
    half of the dtype's digits are lost — `|x| < 2.5e-4` in float32, `1e-8` in float64 (NumPy,
    `math`, Python floats) — over its whole range, and the digits reach the result. An
    unknown `x` is no claim, nor is a constant (`np.log(np.exp(1 - eps) - 1)` is a number
    computed once), a range that reaches larger `|x|`, or a result rounded or only compared
    with a threshold right after (`(ratio - 1).abs() > clip_coef`).

    ## Fix safety
    Safe: `expm1(x)` equals `exp(x) - 1` wherever the original is accurate, and is more
    accurate where it is not.

    This overlaps TorchFix's TOR107, which reports the PyTorch form without a fix.

    ## References
    - Higham, *Accuracy and Stability of Numerical Algorithms*, §1.14.
    - [torch.expm1](https://pytorch.org/docs/stable/generated/torch.expm1.html),
      [numpy.expm1](https://numpy.org/doc/stable/reference/generated/numpy.expm1.html),
      [math.expm1](https://docs.python.org/3/library/math.html#math.expm1)
    """

    code = "STB107"
    autocast = (
        "`exp` and `expm1` are both on autocast's float32 list (CUDA): no change."
    )
    name = "exp-minus-one"
    message = "exp(x) - 1 loses precision when |x| is small; use expm1(x)"
    fix_safety = "safe"
    on = ("sub", "add")
    valid = [
        Valid("torch.expm1(x)"),
        Valid("torch.exp(x) - 2"),
        Valid("2 - torch.exp(x)"),
        Valid("torch.exp(x - 1)"),
        Valid("math.exp(2) - 1", "math"),
        Valid("np.exp(np.pi / 2) - 1", "numpy"),
        Valid("np.exp(x) - 1", "numpy"),
        Valid("math.exp(x) - 1", "math"),
        Valid("(torch.exp(x) - 1).abs() > 0.2"),
        Valid("torch.exp(x) - 1"),
        Valid("1 - torch.exp(-torch.sigmoid(x))"),
    ]
    invalid = [
        Invalid("torch.exp(1e-5 * torch.tanh(x)) - 1", "torch.expm1(1e-5 * torch.tanh(x))"),
        Invalid("(1e-5 * torch.tanh(x)).exp() - 1.0", "(1e-5 * torch.tanh(x)).expm1()"),
        Invalid("(torch.clamp(x, -1e-6, 1e-6) / 2).exp() - 1", "(torch.clamp(x, -1e-6, 1e-6) / 2).expm1()"),
        Invalid("np.exp(1e-10 * np.tanh(x)) - 1", "np.expm1(1e-10 * np.tanh(x))", "numpy"),
        Invalid("tf.exp(1e-5 * tf.tanh(x)) - 1", "tf.math.expm1(1e-5 * tf.tanh(x))", "tf"),
        Invalid("jnp.exp(1e-5 * jnp.tanh(x)) - 1", "jnp.expm1(1e-5 * jnp.tanh(x))", "jax"),
        Invalid("1 - torch.exp(1e-5 * torch.sigmoid(x))", "-torch.expm1(1e-5 * torch.sigmoid(x))"),
        Invalid("torch.sub(torch.exp(1e-5 * torch.tanh(x)), 1)", "torch.expm1(1e-5 * torch.tanh(x))"),
        Invalid("1.0 - np.exp(-np.clip(x, 0, 1e-9))", "-np.expm1(-np.clip(x, 0, 1e-9))", "numpy"),
    ]

    def check(self, node: ast.AST, difference: Value, ctx: Context) -> None:
        if id(node) in ctx.covered:
            return  # part of a formula reported whole (a tanh written out, STB112)
        found = v.terms(difference)
        if len(found) > 2:
            self.check_longer_sum(ctx, node, found)
            return
        if len(found) != 2:
            return
        exps = [term for term in found if term.value.kind == "exp"]
        units = [term for term in found if is_unit(term, found)]
        if len(exps) != 1 or len(units) != 1:
            return
        exp_sign, exp = exps[0].sign, exps[0].value
        if units[0].sign * units[0].value.const != -exp_sign:
            return  # exp(x) - 1 or 1 - exp(x), nothing else
        if exp.op is None or exp.op.input is None or not takes_only_input(exp.op):
            return
        if exp.local and is_constant_expression(ctx, exp.op.input):
            return  # exp(2) - 1 is a number, computed once
        if not _loses_half_the_digits(ctx, node, exp):
            return
        fix = self.fix(ctx, node, exp.op, list(exp.via), negative=exp_sign < 0) if fixable(exp) else None
        message = "1 - exp(x) loses precision when |x| is small; use -expm1(x)" if exp_sign < 0 else None
        self.report(ctx, node, fix, list(exp.via), origins=[exp], message=message, operands={"x": exp.operand()})

    def check_longer_sum(self, ctx: Context, node: ast.AST, found: list) -> None:
        """``-1.0 + b - a + exp(a - b)``: the exp and the -1 cancel inside a longer sum.
        Reported at the whole sum (once: an inner sum of it is not a sum of its own)."""
        if id(node) in ctx.inside_reported_sums:
            return
        # The sum is judged whole, once: its partial sums are not sums of their own.
        inside = [child for child in ast.walk(node) if child is not node]
        ctx.inside_reported_sums.update(id(child) for child in inside)
        exps = [term for term in found if term.value.kind == "exp"]
        units = [term for term in found if is_unit(term, found)]
        if len(exps) != 1 or len(units) != 1 or units[0].sign * units[0].value.const != -exps[0].sign:
            return
        exp = exps[0].value
        if exp.op is None or exp.op.input is None or not takes_only_input(exp.op):
            return
        if exp.local and is_constant_expression(ctx, exp.op.input):
            return
        if not _loses_half_the_digits(ctx, node, exp):
            return
        pair = {id(exps[0].node), id(units[0].node)}
        if any(
            isinstance(inner, ast.BinOp) and {id(inner.left), id(inner.right)} == pair for inner in inside
        ):
            return  # ``(ratio - 1) - x``: the inner exp(x) - 1 is reported, and fixed, on its own
        argument = ctx.text(exp.op.input)
        if any(term.node is not None and term is not exps[0] and term is not units[0]
               and ctx.text(term.node) in argument for term in found):
            # ``1 + logvar - exp(logvar)`` (a Gaussian KL): exp(x) - 1 - x cancels at x**2 / 2,
            # and expm1(x) - x does too: expm1 alone is no fix there.
            return
        message = "exp(x) - 1 inside a sum loses precision when |x| is small; use expm1(x)"
        self.report(ctx, node, None, list(exp.via), origins=[exp], message=message)

    def fix(self, ctx: Context, node: ast.AST, exp: Op, via: list, negative: bool = False) -> Fix | None:
        if exp.method:
            content, imports = f"{operand(ctx.index, exp.input)}.expm1()", ()
        else:
            framework = family(exp)
            if ("expm1", framework) not in frameworks.STABLE:
                return None
            content, imports = stable_call(ctx, "expm1", framework, [ctx.text(exp.input)], like=exp)
        if negative:
            content = f"-{content}"  # 1 - exp(x) = -expm1(x)
        return ctx.fix(node, content, imports=imports, via=via, copied=[exp.input])


def _loses_half_the_digits(ctx: Context, node: ast.AST, exp: Value) -> bool:
    """``exp(x) - 1`` loses more than half the digits of its dtype at a plausible ``x``, and
    they reach the result (not rounded or only compared with a threshold right after)."""
    if digits.near_one(exp.operand(), proven_range(ctx, exp.operand()), ctx.dtype_of(exp)) is None:
        return False
    return ctx.digits_reach_result(node, (exp.op.input,) if exp.op is not None and exp.op.input is not None else ())


def _reaches_one(ctx: Context, term: Value, dtype: str) -> bool:
    """A value the code proves to lie in [0, 1] and to reach 1 in ``dtype`` (a softmax, a
    sigmoid, ``tanh(x) ** 2``): ``1 - term`` rounds to 0 there."""
    interval = ctx.range(term)
    if interval is None or interval.lo < -1e-12 or interval.hi > 1 + 1e-12 or not ctx.known_ends(term)[1]:
        return False
    return interval.hi >= 1.0  # rounded in the dtype: ``rand`` stops one ulp short of 1


def _minus_one(interval):
    return None if interval is None else iv.sub(interval, iv.point(1.0))


class NaiveSoftplus(Rule):
    """
    ## What it does
    Finds `log(1 + exp(x))` (softplus written out) in every framework, in function and
    method form. `log(1 + exp(-abs(x)))`, whose `exp` cannot overflow, is STB106's instead.
    Python's `math.log(1 + math.exp(x))` is not reported: `math.exp` raises an OverflowError
    past 709.8 instead of carrying an `inf` on. Nor is a value of trained parameters alone
    (`log1p(exp(self.w @ self.u.t()))` of a planar flow, a posterior scale `log(1 + exp(rho))`):
    no data flows in, and the optimizer does not carry a parameter past exp's bound
    (`analysis.magnitudes`); a layer's output of data is reported.

    Where the result is a scale (bound to `sigma`, `std`, `scale` …, or passed as the scale of
    `Normal(mu, ·)`: `analysis.scales`), the finding is about its zero instead: below about
    -17 in float32 `1 + exp(x)` rounds to 1 and the scale is exactly 0 (`log(sigma)` is
    `-inf`, a division by it `inf`), where softplus gives `exp(x)`. `log1p(exp(x))` keeps
    `exp(x)` there, so only its overflow is reported.

    ## Why is this bad?
    `exp(x)` overflows to `inf` for `x` above 88.7 in float32 (11.1 in float16, 709.8 in
    float64), so the result is `inf` where the true value is about `x`; for very negative
    `x`, `1 + exp(x)` rounds to 1 and the small result is lost. `softplus(x)` (or
    `logaddexp(0, x)`) is accurate everywhere.

    ## Fix safety
    Safe for NumPy (`np.logaddexp(0, x)`), TensorFlow (`tf.math.softplus`) and JAX
    (`jax.nn.softplus`). Unsafe for PyTorch and Keras: `torch.nn.functional.softplus`
    returns `x` itself above its `threshold=20`, which differs from `log(1 + exp(x))` by up
    to 2e-9: below float32's resolution, but visible in float64. No fix for `math`, which
    has no softplus.

    ## References
    - Goodfellow, Bengio, Courville, *Deep Learning*, §3.10.
    - [torch.nn.functional.softplus](https://pytorch.org/docs/stable/generated/torch.nn.functional.softplus.html),
      [numpy.logaddexp](https://numpy.org/doc/stable/reference/generated/numpy.logaddexp.html),
      [tf.math.softplus](https://www.tensorflow.org/api_docs/python/tf/math/softplus),
      [jax.nn.softplus](https://jax.readthedocs.io/en/latest/_autosummary/jax.nn.softplus.html)
    """

    code = "STB108"
    autocast = (
        "`log`, `exp` and `softplus` are all on autocast's float32 list (CUDA): no change."
    )
    name = "naive-softplus"
    message = "log(1 + exp(x)) overflows to inf for large x; use softplus(x)"
    fix_safety = "sometimes"
    on = ("log", "log1p")
    valid = [
        Valid("F.softplus(x)"),
        Valid("torch.log(1 + torch.exp(-torch.abs(x)))"),
        Valid("np.logaddexp(0, x)", "numpy"),
        Valid("torch.log(2 + torch.exp(x))"),
    ]
    invalid = [
        Invalid("torch.log(1 + torch.exp(x))", "F.softplus(x)", unsafe=True),
        Invalid("(1 + x.exp()).log()", "F.softplus(x)", unsafe=True),
        Invalid("np.log(1 + np.exp(log_odds))", "np.logaddexp(0, log_odds)", "numpy", variables=("log_odds",)),
        Invalid("np.log(np.exp(log_odds) + 1)", "np.logaddexp(0, log_odds)", "numpy", variables=("log_odds",)),
        Invalid("np.log(np.ones_like(log_odds) + np.exp(log_odds))", "np.logaddexp(0, log_odds)",
                "numpy", variables=("log_odds",)),
        Invalid("keras.ops.log(1 + keras.ops.exp(x))", "keras.ops.softplus(x)", "keras", unsafe=True),
        Invalid("tf.math.log(1 + tf.exp(x))", "tf.math.softplus(x)", "tf"),
        Invalid("jnp.log(1 + jnp.exp(x))", "jax.nn.softplus(x)", "jax"),
        Invalid("np.log1p(np.exp(log_odds))", "np.logaddexp(0, log_odds)", "numpy", variables=("log_odds",)),
        Invalid("torch.log1p(torch.exp(x))", "F.softplus(x)", unsafe=True),
    ]

    def check(self, node: ast.Call, log: Value, ctx: Context) -> None:
        if not takes_only_input(log.op) or id(node) in ctx.covered:
            return  # covered: the branch of a where-guarded softplus (STB116)
        argument = log.operand()
        if log.kind == "log1p":
            exp, local = argument, True  # log1p(exp(x)): half-way to softplus
        else:
            split = one_plus_terms(argument)
            if split is None or len(split[1]) != 1 or split[1][0].sign != 1:
                return
            exp, local = split[1][0].value, argument.local
        if exp.kind != "exp" or exp.op is None or exp.op.input is None:
            return
        if exp.local and is_nonpositive(ctx, exp.op.input) or exp_cannot_overflow(ctx, exp, underflow_matters=False):
            return
        via = list(argument.via if log.kind == "log" else ()) + list(exp.via)
        fix = self.fix(ctx, node, log.op, exp.op, via) if fixable(exp) and local else None
        written = "log1p(exp(x))" if log.kind == "log1p" else "log(1 + exp(x))"
        overflow, underflow = self.failure_models()
        message, models = f"{written} overflows to inf for large x; use softplus(x)", (overflow,)
        # Where the result is a scale, a zero is the hazard (``analysis.scales``): said when
        # the code can reach it. log1p(exp(x)) keeps exp(x) and has no such zero.
        scale = used_as_scale(ctx.env.function or ctx.evaluator.tree, node) if log.kind == "log" else None
        if scale is not None and self.evidence(ctx, node, {"x": exp.operand()}, models=(underflow,))[0] is not None:
            message = (
                f"{written} is 0 once 1 + exp(x) rounds to 1 (x below about -17 in float32), and {scale}: "
                "log(sigma) = -inf, x / sigma = inf; use softplus(x)"
            )
            models = (underflow,)
        self.report(
            ctx, node, fix, via, origins=[argument, exp], message=message, operands={"x": exp.operand()},
            models=models,
        )

    def fix(self, ctx: Context, node: ast.Call, log: Op, exp: Op, via: list) -> Fix | None:
        framework = family(log, exp)
        argument = ctx.text(exp.input)
        if framework == "numpy":
            content, imports = stable_call(ctx, "logaddexp", framework, ["0", argument], like=log)
        elif ("softplus", framework) in frameworks.STABLE:
            content, imports = stable_call(ctx, "softplus", framework, [argument], like=None)
        else:
            return None
        safety = "unsafe" if framework in ("torch", "keras") else "safe"
        return ctx.fix(node, content, imports=imports, safety=safety, via=via, copied=[exp.input])


class NaiveLogAddExp(Rule):
    """
    ## What it does
    Finds `log(exp(a) + exp(b))` — a two-term logsumexp written out — in every framework:
    `torch.log(torch.exp(a) + torch.exp(b))`, `np.log(np.exp(a) + np.exp(b))`,
    `jnp.log(jnp.exp(a) + jnp.exp(b))`, also through assignments. It also reports
    `log(exp(a) - exp(b))`, without a fix.

    ## Why is this bad?
    Either `exp` overflows to `inf` for inputs above 88.7 in float32 (11.1 in float16,
    709.8 in float64), and both underflow to 0 for very negative inputs, so the result is
    `inf` or `-inf` where the true value is finite. `logaddexp(a, b)` computes
    `max(a, b) + log1p(exp(-|a - b|))` and is exact everywhere. The difference form
    also cancels when `a` is close to `b`; when `a > b` it equals `a + log(-expm1(b - a))`.

    ## Fix safety
    Safe: `torch.logaddexp`, `np.logaddexp`, `jnp.logaddexp` and `keras.ops.logaddexp`
    broadcast their two arguments exactly as `+` does and return the same value wherever
    the original is finite. TensorFlow has no `logaddexp` (use
    `tf.math.reduce_logsumexp(tf.stack([a, b]), axis=0)`): reported without a fix, as is
    the difference form, whose stable rewrite depends on which of `a` and `b` is larger.

    ## References
    - Blanchard, Higham, Higham, *Accurately computing the log-sum-exp and softmax functions*,
      IMA Journal of Numerical Analysis 41(4), 2021 (shifting by the maximum, and its error bounds).
    - Goodfellow, Bengio, Courville, *Deep Learning*, §4.1.
    - [torch.logaddexp](https://pytorch.org/docs/stable/generated/torch.logaddexp.html),
      [numpy.logaddexp](https://numpy.org/doc/stable/reference/generated/numpy.logaddexp.html),
      [jax.numpy.logaddexp](https://jax.readthedocs.io/en/latest/_autosummary/jax.numpy.logaddexp.html)
    """

    code = "STB109"
    autocast = (
        "`exp` and `log` run in float32 under CUDA autocast; `torch.logaddexp` is not on the float32 "
        "list and runs in the promoted input dtype, so the result can be float16 instead of float32."
    )
    name = "naive-logaddexp"
    message = "log(exp(a) + exp(b)) overflows for large a or b; use logaddexp(a, b)"
    fix_safety = "sometimes"
    on = ("log",)
    valid = [
        Valid("torch.logaddexp(a, b)"),
        Valid("torch.log(torch.exp(a) + torch.exp(b) + 1e-8)"),
        Valid("np.logaddexp(a, b)", "numpy"),
        Valid("torch.log(torch.exp(a) * torch.exp(b))"),
        Valid("torch.log(1 + torch.exp(b))"),
    ]
    invalid = [
        Invalid("torch.log(torch.exp(a) + torch.exp(b))", "torch.logaddexp(a, b)", variables=("a", "b")),
        Invalid("torch.log(a.exp() + b.exp())", "torch.logaddexp(a, b)", variables=("a", "b")),
        Invalid("np.log(np.exp(log_p) + np.exp(log_q))", "np.logaddexp(log_p, log_q)", "numpy",
                variables=("log_p", "log_q")),
        Invalid("jnp.log(jnp.exp(a) + jnp.exp(b))", "jnp.logaddexp(a, b)", "jax", variables=("a", "b")),
        Invalid("keras.ops.log(keras.ops.exp(a) + keras.ops.exp(b))", "keras.ops.logaddexp(a, b)", "keras",
                variables=("a", "b")),
        Invalid("tf.math.log(tf.exp(a) + tf.exp(b))", None, "tf", variables=("a", "b")),
        Invalid("torch.log(torch.exp(a) - torch.exp(b))", None, variables=("a", "b")),
    ]

    def check(self, node: ast.Call, log: Value, ctx: Context) -> None:
        if not takes_only_input(log.op):
            return
        argument = log.operand()
        found = v.terms(argument)
        if len(found) != 2 or any(term.value.kind != "exp" or term.value.op is None for term in found):
            return
        if found[0].sign < 0 or any(term.value.op.input is None for term in found):
            return
        first, second = found[0].value, found[1].value
        if all(is_nonpositive(ctx, term.value.op.input) for term in found):
            return  # the maximum is already subtracted: neither exp overflows, one of them is 1
        if found[1].sign > 0 and all(exp_cannot_overflow(ctx, term.value) for term in found):
            return  # both arguments proven inside the dtype's exp range (``m = torch.rand(...)``)
        via = list(argument.via + first.via + second.via)
        if found[1].sign < 0:
            message = "log(exp(a) - exp(b)) overflows and cancels; use a + log(-expm1(b - a)) where a > b"
            self.report(ctx, node, None, via, origins=[argument, first, second], message=message)
            return
        fix = None
        if fixable(first, second) and argument.local:
            fix = self.fix(ctx, node, log.op, first.op, second.op, via)
        # The model's a is the exponent that goes past exp's bound: the one the code does not
        # bound above, or the log-probability of the two.
        exponents = sorted((first.operand(), second.operand()), key=lambda exponent: (
            _bounded_above(ctx, exponent), not accumulates_logs(exponent)))
        self.report(ctx, node, fix, via, origins=[argument, first, second],
                    operands={"a": exponents[0], "b": exponents[1]})

    def fix(self, ctx: Context, node: ast.Call, log: Op, first: Op, second: Op, via: list) -> Fix | None:
        framework = family(log, first, second)
        if ("logaddexp", framework) not in frameworks.STABLE:
            return None
        arguments = [ctx.text(first.input), ctx.text(second.input)]
        content, imports = stable_call(ctx, "logaddexp", framework, arguments, like=log)
        return ctx.fix(node, content, imports=imports, via=via, copied=[first.input, second.input])


class NaiveLogCumSumExp(Rule):
    """
    ## What it does
    Finds `log(cumsum(exp(x)))` — a running logsumexp written out:
    `torch.log(torch.cumsum(torch.exp(x), dim=1))`, `x.exp().cumsum(-1).log()`,
    `tf.math.log(tf.math.cumsum(tf.exp(x), axis=1))`, and the NumPy and JAX forms.

    ## Why is this bad?
    `exp` overflows to `inf` for inputs above 88.7 in float32 (11.1 in float16, 709.8 in
    float64), and every partial sum after it is `inf`; for very negative inputs the
    partial sums underflow to 0 and their log is `-inf`. The fused cumulative logsumexp
    keeps a running maximum and is exact over the whole range.

    ## Fix safety
    Safe for PyTorch (`torch.logcumsumexp(x, dim)`, which takes the same `dim`) and
    TensorFlow (`tf.math.cumulative_logsumexp`, which takes the same `axis`, `exclusive`
    and `reverse` as `tf.math.cumsum`). NumPy has no cumulative logsumexp, and JAX's
    (`jax.lax.cumlogsumexp`) needs an explicit axis where `jnp.cumsum` flattens by
    default: reported without a fix. A `cumsum` with a `dtype` is reported without a fix.

    ## References
    - Blanchard, Higham, Higham, *Accurately computing the log-sum-exp and softmax functions*,
      IMA Journal of Numerical Analysis 41(4), 2021 (shifting by the maximum, and its error bounds).
    - [torch.logcumsumexp](https://pytorch.org/docs/stable/generated/torch.logcumsumexp.html),
      [tf.math.cumulative_logsumexp](https://www.tensorflow.org/api_docs/python/tf/math/cumulative_logsumexp),
      [jax.lax.cumlogsumexp](https://jax.readthedocs.io/en/latest/_autosummary/jax.lax.cumlogsumexp.html)
    """

    code = "STB110"
    autocast = (
        "`exp`, `cumsum` and `log` run in float32 under CUDA autocast; `torch.logcumsumexp` is not on "
        "the float32 list and runs in the input dtype, so the result can be float16 instead of float32."
    )
    name = "naive-logcumsumexp"
    message = "log(cumsum(exp(x))) overflows for large x; use logcumsumexp(x)"
    fix_safety = "sometimes"
    on = ("log",)
    valid = [
        Valid("torch.logcumsumexp(x, dim=1)"),
        Valid("torch.log(torch.cumsum(torch.exp(x - x.max()), dim=1))"),
        Valid("torch.log(torch.cumsum(x, dim=1))"),
        Valid("np.log(np.cumsum(np.exp(-np.abs(x)), axis=0))", "numpy"),
    ]
    invalid = [
        Invalid("torch.log(torch.cumsum(torch.exp(x), dim=1))", "torch.logcumsumexp(x, dim=1)"),
        Invalid("torch.log(torch.cumsum(torch.exp(x), 1))", "torch.logcumsumexp(x, 1)"),
        Invalid("x.exp().cumsum(-1).log()", "x.logcumsumexp(-1)"),
        Invalid("torch.log(torch.exp(x).cumsum(dim=0))", "x.logcumsumexp(dim=0)"),
        Invalid("tf.math.log(tf.math.cumsum(tf.exp(x), axis=1))", "tf.math.cumulative_logsumexp(x, axis=1)", "tf"),
        Invalid("np.log(np.cumsum(np.exp(log_p), axis=1))", None, "numpy", variables=("log_p",)),
        Invalid("jnp.log(jnp.cumsum(jnp.exp(x), axis=1))", None, "jax"),
    ]

    def check(self, node: ast.Call, log: Value, ctx: Context) -> None:
        if not takes_only_input(log.op):
            return
        total, exp = log.operand(), log.operand().operand()
        if total.kind != "cumsum" or exp.kind != "exp" or exp.op is None or exp.op.input is None:
            return
        if exp.local and is_nonpositive(ctx, exp.op.input) or exp_cannot_overflow(ctx, exp):
            return
        via = list(total.via + exp.via)
        fix = self.fix(ctx, node, log.op, total.op, exp.op, via) if fixable(total, exp) else None
        self.report(ctx, node, fix, via, origins=[total, exp], operands={"x": exp.operand()})

    def fix(self, ctx: Context, node: ast.Call, log: Op, total: Op, exp: Op, via: list) -> Fix | None:
        framework = family(log, total, exp)
        positional, keywords = total.other_args()
        copied = [exp.input, *positional, *(keyword.value for keyword in keywords)]
        rest = [ctx.text(value) for value in positional] + [f"{k.arg}={ctx.text(k.value)}" for k in keywords]
        if framework == "torch":
            allowed = len(positional) + len(keywords) == 1 and all(k.arg == "dim" for k in keywords)
            if not allowed:
                return None
            if exp.method or total.method:
                content, imports = f"{operand(ctx.index, exp.input)}.logcumsumexp({', '.join(rest)})", ()
            else:
                content, imports = stable_call(ctx, "logcumsumexp", framework, [ctx.text(exp.input), *rest], like=log)
        elif framework == "tf" and not total.method and total.qualified_name in (
            "tensorflow.math.cumsum", "tensorflow.cumsum"
        ):
            if any(k.arg not in ("axis", "exclusive", "reverse") for k in keywords) or len(positional) > 3:
                return None
            content, imports = stable_call(ctx, "logcumsumexp", framework, [ctx.text(exp.input), *rest], like=log)
        else:
            return None
        return ctx.fix(node, content, imports=imports, via=via, copied=copied)


RULES = [
    LogSoftmax, LogSumExp, NaiveSoftmax, LogSigmoid, LogOneMinusSigmoid, LogOnePlus, ExpMinusOne, NaiveSoftplus,
    NaiveLogAddExp, NaiveLogCumSumExp,
]


def _bounded_above(ctx: Context, value: Value) -> bool:
    """Does the code establish a finite upper end of ``value``'s range?"""
    interval = ctx.range(value)
    return interval is not None and ctx.known_ends(value)[1] and math.isfinite(interval.hi)
