"""STB2xx: statistics and normalisation written in a form that cancels, divides by 0 or
has a NaN gradient, and the framework's own functions that do not."""

from __future__ import annotations

import ast

from stablelint.analysis import intervals as iv
from stablelint.analysis import values as v
from stablelint.analysis.maxima import same_tensor
from stablelint.analysis.values import Value
from stablelint.analysis.zeros import zero_vector_reason
from stablelint.diagnostics import Fix
from stablelint.fixes import call_arguments, operand
from stablelint.ir import Op, identifier_of, same_expression
from stablelint.rules.base import Context, Invalid, Rule, Valid
from stablelint.rules.matching import _names_an_eps, family, fixable, takes_only_input

# The frameworks that differentiate: a NaN gradient is theirs (NumPy computes no gradient).
_AUTODIFF = frozenset({"torch", "jax", "tf", "keras"})
_FRAMEWORK_MODULES = {"torch": "torch", "numpy": "numpy", "jax": "jax", "tensorflow": "tf", "keras": "keras"}

# The population variance and the norm, by framework: qualified name, and the keyword that
# makes the variance biased (None where it is the default).
_VARIANCE = {
    "torch": ("torch.var", "correction=0"),
    "numpy": ("numpy.var", None),
    "jax": ("jax.numpy.var", None),
    "tf": ("tensorflow.math.reduce_variance", None),
    "keras": ("keras.ops.var", None),
}
_VARIANCE_OF_STD = {
    "jax.numpy.std": "jax.numpy.var",
    "tensorflow.math.reduce_std": "tensorflow.math.reduce_variance",
    "keras.ops.std": "keras.ops.var",
}
_SQRT = {"torch": "torch.sqrt", "jax": "jax.numpy.sqrt", "tf": "tensorflow.math.sqrt", "keras": "keras.ops.sqrt"}
_AXIS_KEYWORDS = frozenset({"dim", "axis"})
_KEEPDIMS_KEYWORDS = frozenset({"keepdim", "keepdims"})


# -- shapes of values


def squared(value: Value) -> ast.expr | None:
    """The base of ``x ** 2``, ``x * x``, ``x.pow(2)``, ``square(x)``; None otherwise."""
    if value.kind == "square" and value.op is not None and takes_only_input(value.op):
        return value.op.input
    node = value.node
    if value.kind == v.POW and len(value.operands) == 2:
        exponent = value.operand(1)
        if exponent.kind != v.CONST or exponent.const != 2.0:
            return None
        if isinstance(node, ast.BinOp):
            return node.left
        return value.op.input if value.op is not None else None
    if value.kind == v.MUL and len(value.operands) == 2:
        if isinstance(node, ast.BinOp):
            left, right = node.left, node.right
        elif value.op is not None and value.op.input is not None and len(value.op.other_args()[0]) == 1:
            left, right = value.op.input, value.op.other_args()[0][0]
        else:
            return None
        return left if same_expression(left, right) else None
    return None


def _reduction_text(ctx: Context, op: Op) -> tuple[list[str], str] | None:
    """A mean's or sum's axis and keep-dims arguments as written (at most one positional,
    the axis), and a key to compare two reductions by; None for anything else (dtype, out)."""
    positional, keywords = op.other_args()
    if len(positional) > 1 or any(isinstance(arg, ast.Starred) for arg in positional):
        return None
    rendered = [ctx.text(arg) for arg in positional]
    axis, keep = (ast.dump(positional[0]) if positional else "None"), "False"
    for keyword in keywords:
        if keyword.arg in _AXIS_KEYWORDS:
            axis = ast.dump(keyword.value)
        elif keyword.arg in _KEEPDIMS_KEYWORDS:
            keep = ast.dump(keyword.value)
        else:
            return None
        rendered.append(f"{keyword.arg}={ctx.text(keyword.value)}")
    return rendered, f"{axis}|{keep}"


def same_samples(ctx: Context, node: ast.AST, left: tuple[Value, ast.expr], right: tuple[Value, ast.expr]) -> bool:
    """Do two reductions (each a value and its input expression) read the same samples at
    ``node``? Not when a name of an input reached through a definition was rebound since."""
    for value, expr in (left, right):
        if value.via:
            names = {inner.id for inner in ast.walk(expr) if isinstance(inner, ast.Name)}
            since = min(line for _, line in value.via)
            if ctx.env.rebound_since(names, since, node.lineno):
                return False
    return same_tensor(ctx, left[1], right[1])


def _file_framework(ctx: Context, *values: Value, method: Op | None = None) -> str | None:
    """The framework of a method chain (``(x * x).mean(1)``): the one its values say, the
    one its keywords name (``dim=``/``keepdim=`` are PyTorch's, ``axis=``/``keepdims=``
    NumPy's and JAX's), else the only array framework the file imports; None if unclear."""
    said = {value.framework for value in values if value.framework is not None}
    if len(said) == 1:
        return said.pop()
    keywords = {keyword.arg for keyword in method.call.keywords} if method is not None else set()
    if keywords & {"dim", "keepdim"}:
        return "torch"
    imported = {_FRAMEWORK_MODULES.get(bound.split(".")[0]) for bound in ctx.imports.names.values()}
    imported.discard(None)
    return imported.pop() if len(imported) == 1 else None


def _mean_parts(value: Value) -> tuple[Value, ast.expr] | None:
    """``mean(x)`` as (the mean, x)."""
    if value.kind == "mean" and value.op is not None and value.op.input is not None:
        return value, value.op.input
    return None


def _is_eps(term: v.Term) -> bool:
    value = term.value
    if value.kind == v.CONST:
        return value.const is not None and 0 < value.const < 1
    return _names_an_eps(term.node)


def _sqrt_of_variance(value: Value) -> bool:
    """``sqrt(var(x))``, or of a variance written out: ``sqrt(mean((x - m) ** 2))``."""
    if value.kind != "sqrt" or value.op is None or not takes_only_input(value.op):
        return False
    inner = value.operand()
    if inner.kind == "spread" and (
        inner.detail == "variance" or identifier_of(inner.op.call.func) in ("var", "reduce_variance")
    ):
        return True
    if inner.kind == "mean":
        base = inner.operand()
        return squared(base) is not None and base.operand().kind == v.SUB
    return False


def _is_std(value: Value) -> bool:
    if value.kind != "spread" or value.op is None:
        return False
    return identifier_of(value.op.call.func) in ("std", "reduce_std")


def _measured(value: Value) -> ast.expr | None:
    """x of ``norm(x)``, ``std(x)``, ``sqrt(var(x))``."""
    if value.kind == "sqrt":
        value = value.operand()
    return value.op.input if value.op is not None else None


def _scales_its_own_samples(ctx: Context, node: ast.AST, quotient: Value, samples: ast.expr) -> bool:
    """``x / norm(x)``, ``(x - mean) / std(x)``: a normalisation of the measured samples."""
    numerator = node.left if isinstance(node, ast.BinOp) else quotient.op.input if quotient.op else None
    if numerator is None:
        return False
    centred = ctx.resolve(numerator)
    if isinstance(centred, ast.BinOp) and isinstance(centred.op, ast.Sub):
        numerator = centred.left
    return same_samples(ctx, node, (quotient, numerator), (quotient.operand(1), samples))


def _hand_written_norm(value: Value) -> ast.expr | None:
    """x of ``sqrt(sum(x ** 2))`` (any spelling of the square), None otherwise."""
    if value.kind != "sqrt" or value.op is None or not takes_only_input(value.op):
        return None
    total = value.operand()
    if total.kind != "sum" or total.op is None or total.op.qualified_name == "builtins.sum":
        return None
    return squared(total.operand())


# -- the rules


class NaiveVariance(Rule):
    """
    ## What it does
    Finds the variance computed as the mean of the squares minus the square of the mean:
    `(x ** 2).mean() - x.mean() ** 2`, `(x * x).mean(d) - x.mean(d) ** 2`,
    `torch.mean(x * x, dim) - torch.mean(x, dim) ** 2`, `np.mean(np.square(x)) - np.mean(x) ** 2`,
    `tf.reduce_mean(tf.square(x), axis) - tf.square(tf.reduce_mean(x, axis))`, `jnp` alike,
    also when the means are assigned to names first (`u = x.mean(1)` … `(x * x).mean(1) - u * u`),
    and the running-sum form `sum_sq / n - (total / n) ** 2`. A clamp at 0 around it
    (`(...).clamp(min=0)`) is still reported: it hides the sign, not the lost digits. Not
    reported where the variance only sets where trained parameters start (ActNorm's
    data-dependent init writing `self.logs.data.copy_(...)`, clamped before its log):
    training moves them, so the lost digits reach no result (`analysis.data_init`). Nor in
    float64 (NumPy and Python floats where nothing casts them): there the mean must be about
    1e8 times the standard deviation before no digit is left, a magnitude reported only where
    the code establishes it.

    ## Why is this bad?
    Both terms are about `mean(x)**2`; when `|mean(x)|` is large next to the standard
    deviation their difference cancels: with a mean of 1000 and a standard deviation of 1,
    float32 keeps none of the variance's digits (the result is 0, or negative, and `sqrt`
    of it is NaN). `var` subtracts the mean first and is accurate whatever the mean.

    ## Fix safety
    Safe: the formula is the biased (population) variance, so the fix is the framework's
    `var` with the same dims and keep-dims and the biased correction —
    `torch.var(x, dim, correction=0)` (PyTorch divides by n - 1 by default), `np.var(x, axis)` and
    `jnp.var(x, axis)` (`ddof=0` is their default), `tf.math.reduce_variance(x, axis)` and
    `keras.ops.var(x, axis)` (population only). Same value wherever the original is
    accurate, the same dtype and shape. Reported without a fix: means with other arguments
    (`dtype`, a positional keep-dims), means of different dims, and the running-sum form,
    whose samples are not in the code.

    ## References
    - Chan, Golub, LeVeque, *Algorithms for computing the sample variance: analysis and
      recommendations*, The American Statistician 37 (1983).
    - Higham, *Accuracy and Stability of Numerical Algorithms*, §1.9.
    - [torch.var](https://pytorch.org/docs/stable/generated/torch.var.html),
      [numpy.var](https://numpy.org/doc/stable/reference/generated/numpy.var.html),
      [tf.math.reduce_variance](https://www.tensorflow.org/api_docs/python/tf/math/reduce_variance),
      [jax.numpy.var](https://jax.readthedocs.io/en/latest/_autosummary/jax.numpy.var.html)
    """

    code = "STB201"
    # NumPy's float64 lies outside the failure region unless the code casts (fixtures/STB201 has the casts).
    no_numpy_example = True
    name = "naive-variance"
    message = (
        "mean(x**2) - mean(x)**2 cancels when the mean is large next to the std (0, negative, NaN under sqrt); "
        "use var(x)"
    )
    fix_safety = "safe"
    on = ("sub",)
    autocast = "`mean` and `var` both run in float32 under CUDA autocast; the cancellation is float32's."
    valid = [
        Valid("torch.var(x, dim=1, correction=0)"),
        Valid("((x - x.mean(1, keepdim=True)) ** 2).mean(1)"),
        Valid("(x ** 2).mean(0) - x.mean(1) ** 2"),
        Valid("(x ** 2).mean() - y.mean() ** 2"),
        Valid("(x ** 3).mean() - x.mean() ** 2"),
        Valid("np.var(x, axis=0)", "numpy"),
        # NumPy's float64: the mean must be 1e8 times the spread (fixtures/STB201 has the float32 casts).
        Valid("np.mean(x ** 2, axis=0) - np.mean(x, axis=0) ** 2", "numpy"),
        Valid("np.mean(np.square(x)) - np.square(np.mean(x))", "numpy"),
    ]
    invalid = [
        Invalid("torch.mean(x ** 2) - torch.mean(x) ** 2", "torch.var(x, correction=0)"),
        Invalid("(x * x).mean(dim=1) - x.mean(dim=1) ** 2", "x.var(dim=1, correction=0)"),
        Invalid(
            "torch.mean(x * x, dim=1, keepdim=True) - torch.mean(x, dim=1, keepdim=True) ** 2",
            "torch.var(x, dim=1, keepdim=True, correction=0)",
        ),
        Invalid("jnp.mean(x ** 2, axis=-1) - jnp.mean(x, axis=-1) ** 2", "jnp.var(x, axis=-1)", "jax"),
        Invalid(
            "tf.reduce_mean(tf.square(x), axis=1) - tf.square(tf.reduce_mean(x, axis=1))",
            "tf.math.reduce_variance(x, axis=1)",
            "tf",
        ),
    ]

    def check(self, node: ast.AST, difference: Value, ctx: Context) -> None:
        found = v.terms(difference)
        if len(found) != 2 or sorted(term.sign for term in found) != [-1, 1]:
            return
        first, second = sorted(found, key=lambda term: -term.sign)
        mean_of_squares, square_of_mean = first.value, second.value
        inner = squared(square_of_mean)
        if inner is None:
            return
        mean_value = ctx.value(inner)
        written = _mean_parts(mean_of_squares), _mean_parts(mean_value)
        if written[0] is not None and written[1] is not None:
            self.check_means(ctx, node, difference, written[0], written[1], mean_value)
        elif mean_of_squares.kind == v.DIV and mean_value.kind == v.DIV:
            self.check_running_sums(ctx, node, difference, mean_of_squares, mean_value)

    def check_means(self, ctx, node, difference, outer, inner, mean_value) -> None:
        (mean_of_squares, _), (mean, samples) = outer, inner
        base = squared(mean_of_squares.operand())
        if base is None or not same_samples(ctx, node, (mean_of_squares, base), (mean_value, samples)):
            return
        reductions = _reduction_text(ctx, mean_of_squares.op), _reduction_text(ctx, mean.op)
        if None not in reductions and reductions[0][1] != reductions[1][1]:
            return  # means over different dims: not one variance
        via = list(difference.via + mean_of_squares.via + mean_value.via)
        fix = None
        if None not in reductions and fixable(mean_of_squares, mean):
            fix = self.fix(ctx, node, mean_of_squares.op, samples, reductions[0][0], via)
        self.report(ctx, node, fix, via, origins=[mean_of_squares, mean_value])

    def fix(self, ctx: Context, node: ast.AST, mean: Op, samples: ast.expr, axis: list[str], via) -> Fix | None:
        framework = family(mean) or _file_framework(ctx, ctx.value(samples), method=mean)
        if framework not in _VARIANCE:
            return None
        qualified, biased = _VARIANCE[framework]
        arguments = axis + ([biased] if biased else [])
        if mean.method and framework in ("torch", "numpy", "jax"):
            content, imports = f"{operand(ctx.index, samples)}.var({', '.join(arguments)})", ()
        else:
            function, imports = ctx.spell(qualified, like=mean)
            content = f"{function}({', '.join([ctx.text(samples)] + arguments)})"
        return ctx.fix(node, content, imports=imports, via=via, copied=[samples])

    def check_running_sums(self, ctx, node, difference, mean_of_squares, mean_value) -> None:
        """``sum_sq / n - (total / n) ** 2``: the same count divides both sums."""
        counts = [value.node.right for value in (mean_of_squares, mean_value) if isinstance(value.node, ast.BinOp)]
        if len(counts) != 2 or not same_tensor(ctx, counts[0], counts[1]):
            return
        sums = [value.node.left for value in (mean_of_squares, mean_value)]
        if same_expression(sums[0], sums[1]):
            return
        message = (
            "sum(x**2)/n - (sum(x)/n)**2 cancels when the mean is large next to the std (0, negative, NaN under sqrt); "
            "keep running means and squared deviations (Welford) or compute var(x)"
        )
        self.report(ctx, node, None, list(difference.via), origins=[mean_of_squares, mean_value], message=message)


class StdPlusEps(Rule):
    """
    ## What it does
    Finds an eps added outside the square root of a variance, where the gradient is
    taken: `torch.sqrt(var) + eps`, `x.var(-1, keepdim=True).sqrt() + eps`,
    `torch.sqrt(((x - m) ** 2).mean(-1)) + eps`, and in JAX, TensorFlow and Keras also
    `jnp.std(x) + eps`, `tf.math.reduce_std(x) + eps` — typically as a divisor,
    `(x - mean) / (std + eps)`. An eps inside the root (`sqrt(var + eps)`,
    `rsqrt(var + eps)`) is not reported, nor NumPy code (it takes no gradient), nor
    `torch.std(x) + eps`: PyTorch's `std` returns a zero gradient at zero variance.

    ## Why is this bad?
    The eps keeps the forward division finite, but the gradient of `sqrt(v)` is
    `1 / (2 sqrt(v))`: infinite at `v = 0`, and NaN once multiplied by the zero
    gradient of a constant input (pytorch#4320). A constant feature, a padded row or a
    zero-variance batch then turns every weight into NaN. With the eps inside the root the
    gradient is bounded by `1 / (2 sqrt(eps))` (pytorch_geometric#2917 made this change).

    ## Fix safety
    Unsafe: `sqrt(var + eps)` is not `sqrt(var) + eps`; the two differ by up to
    `sqrt(eps)` near zero variance, so the eps may need retuning (eps inside the root is
    usually the square of the one outside). The variance keeps the std's own arguments
    (dims, keep-dims, `ddof`/`correction`): `jnp.std(x, axis, ddof=1)` becomes
    `jnp.sqrt(jnp.var(x, axis, ddof=1) + eps)`.

    ## References
    - [pytorch/pytorch#4320](https://github.com/pytorch/pytorch/issues/4320): NaN gradient of std at zero variance.
    - [pyg-team/pytorch_geometric#2917](https://github.com/pyg-team/pytorch_geometric/pull/2917):
      `x / (var.sqrt() + eps)` → `x / (var + eps).sqrt()`.
    - Ba, Kiros, Hinton, *Layer Normalization* (2016): `sqrt(var + eps)`.
    """

    code = "STB202"
    name = "std-plus-eps"
    message = "eps added outside sqrt(var): the gradient at zero variance is inf/NaN; use sqrt(var + eps)"
    fix_safety = "unsafe"
    on = ("add",)
    gradient_only = True  # NumPy takes no gradient: no NumPy example
    autocast = "`sqrt` and `var` run in float32 under CUDA autocast: the gradient is infinite at 0 in every dtype."
    valid = [
        Valid("torch.sqrt(x.var(-1, keepdim=True) + 1e-5)"),
        Valid("torch.rsqrt(x.var(-1) + 1e-5)"),
        Valid("x.std(-1) + 1e-5"),
        Valid("torch.sqrt(x.var(0).clamp(min=1e-12)) + 1e-5"),
        Valid("torch.sqrt(v) + 1e-8"),
        Valid("np.sqrt(np.var(x, axis=0)) + 1e-8", "numpy"),
        Valid("jnp.sqrt(jnp.var(x) + 1e-5)", "jax"),
    ]
    invalid = [
        Invalid(
            "torch.sqrt(x.var(-1, keepdim=True)) + 1e-5", "torch.sqrt(x.var(-1, keepdim=True) + 1e-5)", unsafe=True
        ),
        Invalid("x.var(0).sqrt() + 1e-6", "(x.var(0) + 1e-6).sqrt()", unsafe=True),
        Invalid("jnp.std(x, axis=-1) + 1e-5", "jnp.sqrt(jnp.var(x, axis=-1) + 1e-5)", "jax", unsafe=True),
        Invalid(
            "tf.math.reduce_std(x, axis=1) + 1e-5", "tf.math.sqrt(tf.math.reduce_variance(x, axis=1) + 1e-5)", "tf",
            unsafe=True,
        ),
    ]

    def check(self, node: ast.AST, total: Value, ctx: Context) -> None:
        found = v.terms(total)
        if len(found) != 2 or any(term.sign < 0 for term in found):
            return
        roots = [term for term in found if _sqrt_of_variance(term.value) or _is_std(term.value)]
        eps = [term for term in found if _is_eps(term)]
        if len(roots) != 1 or len(eps) != 1 or roots[0] is eps[0]:
            return
        root = roots[0].value
        framework = family(root.op) or _file_framework(ctx, root, root.operand(), method=root.op)
        if framework not in _AUTODIFF or (_is_std(root) and (framework == "torch" or root.op.method)):
            # NumPy takes no gradient; torch.std's is 0 at zero variance; a ``.std()`` method
            # is NumPy's or PyTorch's (TensorFlow's tensors have none; JAX's is rarely used).
            return
        if not ctx.gradient_flows(node, root):
            return  # the hazard is the gradient's: no_grad, data preparation, a detached value
        via = list(total.via + root.via)
        fix = self.fix(ctx, node, root, eps[0], framework, via) if fixable(root) and roots[0].node else None
        self.report(ctx, node, fix, via, origins=[root])

    def fix(self, ctx: Context, node: ast.AST, root: Value, eps: v.Term, framework: str, via) -> Fix | None:
        eps_text = ctx.text(eps.node)
        if root.kind == "sqrt":
            variance = root.op.input
            inner = f"{ctx.text(variance)} + {eps_text}"
            if root.op.method:
                content, imports = f"({inner}).sqrt()", ()
            else:
                function, imports = ctx.spell(root.op.qualified_name, like=root.op)
                content = f"{function}({inner})"
            return ctx.fix(node, content, imports=imports, safety="unsafe", via=via, copied=[variance, eps.node])
        std = root.op
        variance_name = _VARIANCE_OF_STD.get(std.qualified_name or "")
        if variance_name is None:
            return None
        variance_function, imports = ctx.spell(variance_name, like=std)
        sqrt_function, sqrt_imports = ctx.spell(_SQRT[framework], like=std)
        content = f"{sqrt_function}({variance_function}{call_arguments(ctx.index, std.call)} + {eps_text})"
        copied = [std.call, eps.node]
        return ctx.fix(node, content, imports=imports + sqrt_imports, safety="unsafe", via=via, copied=copied)


class NormalizeWithoutEps(Rule):
    """
    ## What it does
    Finds a normalisation by a norm or a standard deviation with no eps and no clamp,
    the samples divided by their own measure: `x / x.norm(dim=-1, keepdim=True)`,
    `v / np.linalg.norm(v)`, `x / torch.sqrt((x ** 2).sum(-1))`,
    `(x - x.mean(0)) / x.std(0)`, `x / jnp.std(x)`. An eps added to the divisor or a clamp
    (`x / (x.norm(dim=-1, keepdim=True) + 1e-8)`, `x / norm.clamp(min=1e-12)`,
    `F.normalize(x, dim=-1)`) is not reported; a division of something else by a norm
    (`1 / norm(x)`) is STB403's.

    ## Why is this bad?
    A norm is 0 for a zero vector (an all-zero embedding, a padded row, a dead feature)
    and a standard deviation is 0 for a constant sample: `0 / 0` is NaN, and it spreads
    through everything after it. The gradient of the norm there is infinite as well.

    ## Fix safety
    For PyTorch's `x / norm(x, dim=d, keepdim=True)` (2-norm, one dim) the fix is
    `F.normalize(x, dim=d)`, which divides by `max(norm, 1e-12)`: unsafe, because it
    changes the result where the norm is below 1e-12 (where the original was finite but
    huge, or NaN). Other forms are reported only: add an eps to the divisor, or
    `sqrt(var + eps)` for a standard deviation.

    ## References
    - [torch.nn.functional.normalize](https://pytorch.org/docs/stable/generated/torch.nn.functional.normalize.html),
      [tf.math.l2_normalize](https://www.tensorflow.org/api_docs/python/tf/math/l2_normalize)
    - Goodfellow, Bengio, Courville, *Deep Learning*, §4.1.
    """

    code = "STB203"
    name = "normalize-without-eps"
    message = (
        "division by a norm or std that is 0 for a zero or constant input gives NaN; "
        "add an eps or use normalize(x, eps=)"
    )
    fix_safety = "unsafe"
    on = ("div",)
    autocast = "Not affected: a zero norm is 0 in every dtype."
    valid = [
        Valid("F.normalize(x, dim=-1)"),
        Valid("x / (x.norm(dim=-1, keepdim=True) + 1e-8)"),
        Valid("x / x.norm(dim=-1, keepdim=True).clamp(min=1e-12)"),
        Valid("(x - x.mean(0)) / (x.std(0) + 1e-8)"),
        Valid("x / torch.sqrt(x.var(0) + 1e-5)"),
        Valid("v / max(np.linalg.norm(v), 1e-12)", "numpy"),
    ]
    invalid = [
        Invalid("x / x.norm(dim=-1, keepdim=True)", "F.normalize(x, dim=-1)", unsafe=True),
        Invalid("x / torch.norm(x, dim=1, keepdim=True)", "F.normalize(x, dim=1)", unsafe=True),
        Invalid("x / torch.linalg.vector_norm(x, dim=-1, keepdim=True)", "F.normalize(x, dim=-1)", unsafe=True),
        Invalid("(x - x.mean(0)) / x.std(0)", None),
        Invalid("x / np.linalg.norm(x)", None, "numpy"),
        Invalid("x / jnp.std(x, axis=0)", None, "jax"),
    ]

    def check(self, node: ast.AST, quotient: Value, ctx: Context) -> None:
        if len(quotient.operands) != 2:
            return
        divisor = quotient.operand(1)
        written_norm = _hand_written_norm(divisor)
        if divisor.kind == "norm":
            what = "norm"
        elif divisor.kind == "spread" and _is_std(divisor) or _sqrt_of_variance(divisor):
            what = "std"
        elif written_norm is not None:
            what = "norm"
        else:
            return
        interval = ctx.range(divisor)
        if divisor.kind in ("norm", "spread") and (interval is None or interval.lo > 0):
            return
        samples = written_norm if written_norm is not None else _measured(divisor)
        if not divisor.local or samples is None or not _scales_its_own_samples(ctx, node, quotient, samples):
            return  # ``1 / norm(x)``, ``y / std(x)``: the interval rule's (STB403)
        ctx.covered.add(id(node))  # the interval rule's division-by-zero says the same
        written = node.right if isinstance(node, ast.BinOp) else None
        if ctx.branch_rules_out(node, written, "zero"):
            return  # ``if s == 0: continue`` before it, ``where(n > 0, x / n, x)`` around it
        via = list(divisor.via)
        fix = self.fix(ctx, node, quotient, divisor) if what == "norm" and fixable(divisor) else None
        message = None
        if what == "std":
            message = (
                "division by a std that is 0 for a constant input gives NaN; divide by sqrt(var + eps)"
            )
        self.report(ctx, node, fix, via, origins=[divisor], message=message)

    def fix(self, ctx: Context, node: ast.AST, quotient: Value, divisor: Value) -> Fix | None:
        norm = divisor.op
        if family(norm) != "torch" or not isinstance(node, ast.BinOp) or norm.input is None:
            return None
        if not same_tensor(ctx, node.left, norm.input):
            return None
        positional, keywords = norm.other_args()
        given = {keyword.arg: keyword.value for keyword in keywords}
        if positional or set(given) - {"dim", "keepdim", "p", "ord"}:
            return None
        order = given.get("p", given.get("ord"))
        if order is not None and not (isinstance(order, ast.Constant) and order.value in (2, 2.0)):
            return None
        dim, keep = given.get("dim"), given.get("keepdim")
        if not (isinstance(keep, ast.Constant) and keep.value is True) or dim is None:
            return None
        if not isinstance(dim, ast.Constant) and not isinstance(dim, ast.UnaryOp):
            return None  # F.normalize reduces one dim: a tuple or a name might be several
        function, imports = ctx.spell("torch.nn.functional.normalize", like=norm)
        content = f"{function}({ctx.text(node.left)}, dim={ctx.text(dim)})"
        return ctx.fix(node, content, imports=imports, safety="unsafe", copied=[node.left, dim])


class NaiveCosineSimilarity(Rule):
    """
    ## What it does
    Finds cosine similarity written out without an eps: `(a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))`,
    `np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))`, with the norms spelled as
    `norm` calls or as `sqrt(sum(x ** 2))`. A product of norms with an eps or a clamp
    (`/ (na * nb + 1e-8)`, `/ torch.clamp(na * nb, min=1e-8)`) is not reported.

    ## Why is this bad?
    A zero vector has norm 0, so the similarity is `0 / 0 = NaN` (and its gradient
    too); in float16 the product of two norms overflows past 65504 — norms of 256 are
    enough.

    ## Fix safety
    No fix is offered: `F.cosine_similarity(a, b, dim=d, eps=1e-8)` (PyTorch) or an eps
    in the divisor are the stable forms, but which dims reduce and whether a 0 should
    map to 0 is the code's choice.

    ## References
    - [torch.nn.functional.cosine_similarity](https://pytorch.org/docs/stable/generated/torch.nn.functional.cosine_similarity.html)
    - [optax.cosine_similarity](https://optax.readthedocs.io/en/latest/api/losses.html#optax.cosine_similarity)
      (`epsilon=`)
    """

    code = "STB204"
    name = "naive-cosine-similarity"
    message = (
        "cosine similarity divided by norm(a) * norm(b) without eps is NaN for a zero vector; "
        "use cosine_similarity(a, b, eps=) or add an eps"
    )
    fix_safety = "none"
    on = ("div",)
    autocast = "Under autocast float16 the product of two norms overflows past 65504."
    valid = [
        Valid("F.cosine_similarity(a, b, dim=-1)"),
        Valid("(a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1) + 1e-8)"),
        Valid("(a * b).sum(-1) / torch.clamp(a.norm(dim=-1) * b.norm(dim=-1), min=1e-8)"),
        Valid("(a * b).sum(-1) / (x * y)"),
    ]
    invalid = [
        Invalid("(a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))", None),
        Invalid("np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))", None, "numpy"),
        Invalid("jnp.dot(a, b) / (jnp.linalg.norm(a) * jnp.linalg.norm(b))", None, "jax"),
    ]

    def check(self, node: ast.AST, quotient: Value, ctx: Context) -> None:
        if len(quotient.operands) != 2:
            return
        divisor = quotient.operand(1)
        if divisor.kind != v.MUL or len(divisor.operands) != 2:
            return
        if not all(factor.kind == "norm" or _hand_written_norm(factor) is not None for factor in divisor.operands):
            return
        if all((ctx.range(factor) or iv.UNBOUNDED).lo > 0 for factor in divisor.operands):
            return  # norms of constant non-zero vectors (or bounded away from 0): never 0 / 0
        ctx.covered.add(id(node))
        self.report(ctx, node, None, list(divisor.via), origins=list(divisor.operands))


class NaiveNorm(Rule):
    """
    ## What it does
    Finds the Euclidean norm written out in PyTorch: `torch.sqrt(torch.sum(x ** 2, dim))`,
    `(x * x).sum(-1).sqrt()`, `torch.sqrt(torch.sum(torch.square(x)))`. A sum with an eps
    inside the root (`sqrt(sum(x ** 2) + eps)`) is not reported, nor Python's own `sum`
    over a generator, nor NumPy, JAX or TensorFlow: NumPy takes no gradient, and
    `np.linalg.norm`, `jnp.linalg.norm` and `tf.norm` square in the input's dtype and have
    the same NaN gradient at 0 (measured for JAX), so rewriting to them gains nothing.

    It reports where the code can compute the zero vector the gradient fails at: a
    difference of two values that can coincide (`a - b`), a gradient (`autograd.grad`, a
    name such as `grads`), a ReLU output, a masked value. The continuous output of a trained
    layer or of an embedding, a random draw and a parameter nobody constrains are never
    exactly zero: silent, unless the squares are computed in float16 (where they overflow).

    ## Why is this bad?
    The gradient of `sqrt` at 0 is infinite, so `sqrt(sum(x**2))` has a NaN gradient at
    `x = 0`; `torch.linalg.vector_norm` defines it as 0 there. In float16 the squares
    overflow as soon as `|x| > 256`, while `vector_norm` accumulates in float32 and returns
    the norm whenever it fits. Written out it also reads as what it is not.

    ## Fix safety
    Safe: `torch.linalg.vector_norm(x, dim=d, keepdim=k)` with the sum's dims and
    keep-dims as keywords (its second positional parameter is `ord`): the same value
    wherever the original is finite, the same dtype and shape.

    ## References
    - [torch.linalg.vector_norm](https://pytorch.org/docs/stable/generated/torch.linalg.vector_norm.html),
      [numpy.linalg.norm](https://numpy.org/doc/stable/reference/generated/numpy.linalg.norm.html),
      [tf.norm](https://www.tensorflow.org/api_docs/python/tf/norm),
      [jax.numpy.linalg.norm](https://jax.readthedocs.io/en/latest/_autosummary/jax.numpy.linalg.norm.html)
    """

    code = "STB205"
    name = "naive-norm"
    message = "sqrt(sum(x**2)) has a NaN gradient at 0 and its squares overflow in float16; use vector_norm(x)"
    fix_safety = "safe"
    on = ("sqrt",)
    autocast = "`sum` runs in float32 under autocast, but `x ** 2` is computed before it, in float16."
    gradient_only = True  # NumPy takes no gradient, and its norm squares alike: no NumPy example
    valid = [
        Valid("torch.linalg.vector_norm(x, dim=-1)"),
        Valid("torch.sqrt((x ** 2).sum(-1) + 1e-8)"),
        Valid("torch.sqrt((x ** 2).mean(-1))"),
        Valid("math.sqrt(sum(v * v for v in x))", "math"),
        Valid("torch.sqrt(torch.sum(torch.randn(8, 3) ** 2, dim=1))"),
        Valid("np.sqrt(np.sum(x ** 2, axis=1))", "numpy"),
        Valid("jnp.sqrt(jnp.sum(x ** 2, axis=1))", "jax"),
    ]
    invalid = [
        Invalid("torch.sqrt(torch.sum(grad ** 2, dim=1))", "torch.linalg.vector_norm(grad, dim=1)",
                variables=("grad",)),
        Invalid("((x - y) * (x - y)).sum(-1, keepdim=True).sqrt()",
                "torch.linalg.vector_norm(x - y, dim=-1, keepdim=True)", variables=("x", "y")),
        Invalid("torch.sqrt(torch.sum(torch.square(x * mask)))", "torch.linalg.vector_norm(x * mask)",
                variables=("x", "mask")),
    ]

    def check(self, node: ast.Call, root: Value, ctx: Context) -> None:
        samples = _hand_written_norm(root)
        if samples is None:
            return
        total = root.operand()
        if (family(root.op, total.op) or _file_framework(ctx, root, method=total.op)) != "torch":
            return
        half = ctx.dtype_of(total) in ("float16", "bfloat16")
        if not ctx.gradient_flows(node, root) and not half:
            return  # no gradient is taken, and the squares do not overflow outside half precision
        if not half and zero_vector_reason(total.operand().operand(0), samples) is None:
            return  # nothing makes it exactly the zero vector (a layer's continuous output, a draw, unknown)
        via = list(root.via + total.via)
        fix = self.fix(ctx, node, root, total, samples, via) if fixable(total) else None
        self.report(ctx, node, fix, via, origins=[total])

    def fix(self, ctx: Context, node: ast.Call, root: Value, total: Value, samples: ast.expr, via) -> Fix | None:
        if _reduction_text(ctx, total.op) is None:
            return None
        positional, keywords = total.op.other_args()
        arguments = [ctx.text(samples)] + [f"dim={ctx.text(value)}" for value in positional]
        for keyword in keywords:
            name = "dim" if keyword.arg in _AXIS_KEYWORDS else "keepdim"
            arguments.append(f"{name}={ctx.text(keyword.value)}")
        function, imports = ctx.spell("torch.linalg.vector_norm", like=root.op)
        return ctx.fix(node, f"{function}({', '.join(arguments)})", imports=imports, via=via, copied=[samples])


RULES = [NaiveVariance, StdPlusEps, NormalizeWithoutEps, NaiveCosineSimilarity, NaiveNorm]
