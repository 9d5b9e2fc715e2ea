"""STB5xx: constants the dtype cannot hold, and comparisons with NaN.

The dtype is the value model's (``dtype_of``): a cast or ``dtype=`` in the code, or the
``assume-dtype`` setting. Where neither says half precision, an eps of 1e-8 or a mask of
-1e9 is what the code means, and there is nothing to report.
"""

from __future__ import annotations

import ast
import math

from stablelint.analysis import intervals as iv
from stablelint.analysis import values as v
from stablelint.analysis.evaluate import dtype_of
from stablelint.analysis.precision_profile import stays_float32
from stablelint.analysis.tensor_code import TENSOR_FAMILIES, families_called, tensor_family_around
from stablelint.analysis.values import Value
from stablelint.frameworks import keras_or_tf
from stablelint.ir import identifier_of
from stablelint.rules.base import Context, Invalid, Rule, Valid

HALF = ("float16", "bfloat16")

# How each framework spells the limits of an array's dtype: (module function, attribute
# of the dtype itself). TensorFlow's DType has ``.min``/``.max`` but no ``tiny``.
_FINFO = {"torch": "torch.finfo", "numpy": "numpy.finfo", "jax": "jax.numpy.finfo"}
_DTYPE_LIMIT_ATTRIBUTES = ("tf",)
# Keras 3 has no finfo that works on every backend (``s.dtype.min`` is TensorFlow's alone):
# its fixes write the limit of the dtype the rule proved, as a number.
_KERAS_LIMITS = {
    ("float16", "min"): "-65504.0", ("float16", "max"): "65504.0", ("float16", "tiny"): "6.1035156e-05",
    ("bfloat16", "min"): "-3.3895314e38", ("bfloat16", "max"): "3.3895314e38", ("bfloat16", "tiny"): "1.1754944e-38",
}


_TORCH_CASTS = frozenset({"half", "bfloat16", "to", "type"})
_FRAMEWORK_OF_MODULE = {"torch": "torch", "numpy": "numpy", "jax": "jax", "tensorflow": "tf", "keras": "keras"}


def _cast_framework(ctx: Context, value: Value, depth: int = 0) -> str | None:
    """The framework of the cast that gave a value its dtype: ``x.half()`` is PyTorch's,
    ``x.astype(np.float16)`` NumPy's, ``tf.cast(x, tf.float16)`` TensorFlow's."""
    node = value.node
    if value.dtype is not None and isinstance(node, ast.Call):
        func = node.func
        qualified = ctx.imports.qualified_name(func, ctx.env)
        if qualified is not None:
            return _FRAMEWORK_OF_MODULE.get(qualified.split(".")[0])
        if isinstance(func, ast.Attribute) and func.attr in _TORCH_CASTS:
            return "torch"
        for argument in list(node.args) + [keyword.value for keyword in node.keywords]:
            module = ctx.imports.qualified_name(argument, ctx.env)
            if module is not None:
                return _FRAMEWORK_OF_MODULE.get(module.split(".")[0])
        return None
    if depth > 6:
        return None
    for operand in value.operands:
        found = _cast_framework(ctx, operand, depth + 1)
        if found is not None:
            return found
    return None


def _file_framework(ctx: Context, value: Value) -> str | None:
    """The framework a fix speaks: the value's, the one of the cast that made it half
    precision, else the one deep learning framework the file imports (``x + 1e-8`` of a
    parameter under ``assume-dtype``)."""
    if value.framework == "tf" and _keras_code(ctx, value):
        return "keras"
    if value.framework in ("torch", "numpy", "jax", "tf"):
        return value.framework
    cast = _cast_framework(ctx, value)
    if cast is not None:
        return cast
    found = set()
    for bound in ctx.imports.names.values():
        top = bound.split(".")[0]
        found.add({"tensorflow": "tf", "keras": "tf"}.get(top, top))
    deep = found & {"torch", "jax", "tf"}
    if deep == {"tf"} and _keras_code(ctx, value):
        return "keras"
    return next(iter(deep)) if len(deep) == 1 else None


def _keras_code(ctx: Context, value: Value) -> bool:
    """Keras 3 code: the value comes from ``keras.ops``, or the file imports Keras and not
    TensorFlow (its fixes must run on the JAX and torch backends too)."""
    if value.op is not None and value.op.qualified_name:
        return keras_or_tf(value.op.qualified_name) == "keras"
    roots = {bound.split(".")[0] for bound in ctx.imports.names.values()}
    return "keras" in roots and "tensorflow" not in roots


def _names_an_array(expr: ast.expr) -> bool:
    """``scores``, ``self.scores``: an expression whose ``.dtype`` a fix may read without
    computing anything twice."""
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return isinstance(expr, ast.Name)


def _dtype_carrier(ctx: Context, array: ast.expr, dtype: str) -> ast.expr | None:
    """A name whose ``.dtype`` is the array's: the array itself, or in an expression
    (``(1.0 - mask) * -1e9``) the first name in it of that dtype."""
    if _names_an_array(array):
        return array
    for node in ast.walk(array):
        if isinstance(node, ast.Name) and node.id not in ctx.imports.names and ctx.dtype_of(ctx.value(node)) == dtype:
            return node
    return None


def _limit(ctx: Context, framework: str | None, array: ast.expr, which: str, dtype: str):
    """``torch.finfo(x.dtype).min`` (which: min/max/tiny) as source and imports; None where
    the framework has no spelling for it."""
    if framework == "keras":
        literal = _KERAS_LIMITS.get((dtype, which))
        return (literal, ()) if literal is not None else None
    array = _dtype_carrier(ctx, array, dtype)
    if framework is None or array is None:
        return None
    if framework in _DTYPE_LIMIT_ATTRIBUTES:
        return (f"{ctx.text(array)}.dtype.{which}", ()) if which in ("min", "max") else None
    if framework not in _FINFO:
        return None
    finfo, imports = ctx.spell(_FINFO[framework])
    return f"{finfo}({ctx.text(array)}.dtype).{which}", imports


def _literal(node: ast.AST | None) -> bool:
    """A number written at the use (``1e-8``, ``-1e9``), not a name bound to one."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _half_dtype(ctx: Context, value: Value, *, said: bool = False) -> str | None:
    """float16/bfloat16 where the code (or, unless ``said``, ``assume-dtype`` or the
    project's precision profile) says the value computes in it; None for whole numbers and
    Python scalars, which are no tensors."""
    if value.integer or _python_scalar(value.node):
        return None
    dtype = dtype_of(value) if said else ctx.dtype_of(value)
    if dtype not in HALF and not said and _profile_applies(ctx):
        evidence = ctx.precision_evidence
        if evidence.mixed and stays_float32(value):
            return None  # autocast computes it in float32
        dtype = dtype_of(value, evidence.dtype, ctx.evaluator.autocast)
    return dtype if dtype in HALF else None


def _profile_applies(ctx: Context) -> bool:
    return ctx.precision_evidence is not None and ctx.assumed_dtype is None and not _numpy_only(ctx)


def _numpy_only(ctx: Context) -> bool:
    """Is the check inside a function that calls NumPy and no tensor library? Its arrays are
    float64 whatever the project trains in: autocast, ``.half()`` and a Keras policy reach
    tensors, not NumPy arrays (yolov5's box arithmetic beside a GradScaler)."""
    function = ctx.env.function
    if function is None:
        return False
    families = families_called(function, ctx.imports)
    return "numpy" in families and not families & TENSOR_FAMILIES


def _from_profile(ctx: Context, value: Value) -> str:
    """``; this project trains in float16: train.py:42 uses torch.autocast`` when the
    dtype comes from the project's settings, not from this file."""
    if not _profile_applies(ctx) or ctx.dtype_of(value) in HALF:
        return ""
    return f"; {ctx.precision_evidence.said()}"


def _python_scalar(node: ast.AST | None) -> bool:
    """``float(v)``, ``int(n)``, ``t.item()``: a Python number, whatever the tensors' dtype."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in ("float", "int", "len", "abs", "round")
    return isinstance(func, ast.Attribute) and func.attr in ("item", "tolist")


class EpsVanishesInHalf(Rule):
    """
    ## What it does
    Finds an eps added to or clamping a value that computes in float16 or bfloat16 (a
    `.half()`, `.to(torch.float16)`, `dtype=torch.bfloat16`, `astype(np.float16)` in the
    code, or `assume-dtype = "float16"`) that the dtype rounds to 0: `x + 1e-8`,
    `x.clamp(min=1e-10)`, `torch.maximum(x, 1e-12)` on a float16 `x`. float16's smallest
    number is 2^-24 ≈ 6e-8, so 1e-8, 1e-10, 1e-12 and 1e-15 all become exactly 0;
    bfloat16 holds them (its range is float32's), so there only eps below 1e-40 vanish.
    Code whose dtype is float32 or not known is not reported, nor an eps the dtype holds
    (`1e-4`, `torch.finfo(x.dtype).tiny`), nor an eps added to a Python number
    (`float(v) + 1e-12`), a whole number, or a NumPy array the code does not cast (NumPy
    computes in float64 whatever `assume-dtype` says). An eps absorbed by a *constant*
    next to it (`1e-10 + 1 - x`) is STB405's.

    ## Why is this bad?
    The guard is not there: `log(x + 1e-8)` is `log(0) = -inf` at `x = 0`, `y / (n + 1e-8)`
    is `inf` or NaN, `sqrt(v + 1e-12)` has an infinite gradient at 0 — in exactly the mixed
    precision runs where the code was meant to be safe.

    ## Fix safety
    Unsafe: the fix replaces the constant with the smallest normal number of the array's
    dtype, `torch.finfo(x.dtype).tiny` (`np.finfo`, `jnp.finfo`): 6.1e-5 in float16, but
    1.2e-38 in float32, so the value changes wherever the same code also runs in another
    dtype. TensorFlow's dtypes have no `tiny`: reported without a fix.

    ## References
    - Micikevicius et al., *Mixed Precision Training* (ICLR 2018), §3.
    - NVIDIA/apex#1052, fairseq#3575: constants that float16 cannot hold.
    - IEEE 754-2008, binary16.
    """

    code = "STB501"
    name = "eps-vanishes-in-half"
    message = "an eps that rounds to 0 in half precision guards nothing; use finfo(dtype).tiny"
    fix_safety = "unsafe"
    on = ("add", "clamp", "maximum")
    half_precision = True
    autocast = (
        "Under CUDA autocast the float16 ops are matmuls and convolutions; an eps added to their output is "
        "added in float16, so this applies to autocast code too."
    )
    valid = [
        Valid("y = x.half() + 1e-4"),
        Valid("y = x + 1e-8"),
        Valid("y = x.to(torch.bfloat16) + 1e-8"),
        Valid("h = x.half()\ny = h + torch.finfo(h.dtype).tiny"),
        Valid("y = x.double().clamp(min=1e-12)"),
    ]
    invalid = [
        Invalid("h = x.half()\ny = torch.log(h + 1e-8)", "h = x.half()\ny = torch.log(h + torch.finfo(h.dtype).tiny)",
                unsafe=True),
        Invalid("h = x.half()\ny = h.clamp(min=1e-10)", "h = x.half()\ny = h.clamp(min=torch.finfo(h.dtype).tiny)",
                unsafe=True),
        Invalid("h = x.astype(np.float16)\ny = h / (np.abs(h) + 1e-12)",
                "h = x.astype(np.float16)\ny = h / (np.abs(h) + np.finfo(h.dtype).tiny)", "numpy", unsafe=True),
        Invalid("h = x.astype(jnp.float16)\ny = jnp.sqrt(h + 1e-10)",
                "h = x.astype(jnp.float16)\ny = jnp.sqrt(h + jnp.finfo(h.dtype).tiny)", "jax", unsafe=True),
        Invalid("h = tf.cast(x, tf.float16)\ny = tf.math.log(h + 1e-8)", None, "tf"),
    ]

    def check(self, node: ast.AST, value: Value, ctx: Context) -> None:
        if value.kind == "clamp":
            guarded, eps = value.operand(), value.detail[0] if isinstance(value.detail, tuple) else None
            low_expr = self._clamp_low(value)
        else:
            sides = [(value.operand(0), value.operand(1)), (value.operand(1), value.operand(0))]
            found = [(g, e) for g, e in sides if e.kind == v.CONST and g.kind != v.CONST]
            if len(found) != 1:
                return
            guarded, eps = found[0]
            low_expr = eps.node
        if eps is None or eps.kind != v.CONST or eps.const is None or not 0 < eps.const < 1e-3:
            return
        # The op's dtype, not only the guarded operand's: NumPy computes in float64 unless told.
        dtype = _half_dtype(ctx, guarded) if _half_dtype(ctx, value) else None
        if dtype is None or iv.rounded(eps.const, dtype) != 0:
            return
        message = (
            f"{eps.const:g} rounds to 0 in {dtype}: the eps guards nothing; use the dtype's smallest normal "
            f"number, finfo(dtype).tiny ({iv.rounded(2.0 ** -14 if dtype == 'float16' else 2.0 ** -126, dtype):.3g})"
        ) + _from_profile(ctx, guarded)
        fix = None
        array = self._array_expr(value, guarded)
        if low_expr is not None and _literal(low_expr) and array is not None:
            limit = _limit(ctx, _file_framework(ctx, guarded), array, "tiny", dtype)
            if limit is not None and limit[0]:
                fix = ctx.fix(low_expr, limit[0], imports=limit[1], safety="unsafe")
        self.report(ctx, node, fix, list(guarded.via), origins=[guarded], message=message)

    @staticmethod
    def _clamp_low(value: Value) -> ast.expr | None:
        op = value.op
        if op is None:
            return None
        positional, keywords = op.other_args()
        for keyword in keywords:
            if keyword.arg in ("min", "a_min", "clip_value_min", "x_min"):
                return keyword.value
        return positional[0] if positional else None

    @staticmethod
    def _array_expr(value: Value, guarded: Value) -> ast.expr | None:
        """The expression the fix reads ``.dtype`` of: the clamped array or the other addend."""
        if value.kind == "clamp":
            return value.op.input if value.op is not None else None
        node = value.node
        if isinstance(node, ast.BinOp):
            return node.left if guarded is value.operand(0) else node.right
        if value.op is not None:
            positional, _ = value.op.other_args()
            if guarded is value.operand(0):
                return value.op.input
            return positional[0] if positional else None
        return None


class ConstantOverflowsHalf(Rule):
    """
    ## What it does
    Finds a constant beyond float16's range (|c| > 65504, e.g. the attention mask values
    `-1e9`, `-1e10`, `1e20`) filled into or combined with a float16 array:
    `scores.masked_fill(mask, -1e9)`, `torch.where(mask, scores, -1e9)`,
    `(1 - mask) * -1e9`, `scores - 1e9 * mask`. Reported where the code says the array is
    float16 (a cast, `dtype=`); for `masked_fill` and `where`, which fill a tensor, also
    where `assume-dtype = "float16"` says so (arithmetic with a large constant is as often
    a scale on integers or Python numbers). In bfloat16 and float32 these constants are
    finite and mean what they say. `-10000.0` fits float16 and is not reported, nor is
    `torch.finfo(scores.dtype).min`. `float("-inf")` is not reported either: whether a
    mask can cover a whole row (the case where `-inf` gives a NaN softmax) is not in the
    code.

    ## Why is this bad?
    float16 cannot hold the constant: PyTorch's `masked_fill` raises *value cannot be
    converted to type at::Half without overflow* (NVIDIA/apex#1052, fairseq#3575), and
    `where` and arithmetic turn it into `-inf`, so a fully masked row of a softmax is
    `-inf - (-inf)` = NaN, and `inf * 0` is NaN. `torch.finfo(scores.dtype).min` is the
    most negative finite number of whatever dtype the scores have.

    ## Fix safety
    Unsafe: the fix writes `torch.finfo(scores.dtype).min` (`.max` for a positive
    constant; `np.finfo`, `jnp.finfo`, TensorFlow's `scores.dtype.min`), which is
    -65504 in float16 but -3.4e38 in float32: a different number wherever the code runs
    in another dtype, and an additive mask of `finfo.min` can still reach `-inf` when
    added to negative scores. A fix is offered only where the array is a name.

    ## References
    - NVIDIA/apex#1052; facebookresearch/fairseq#3575; huggingface/transformers#17306.
    - Micikevicius et al., *Mixed Precision Training* (ICLR 2018).
    """

    code = "STB502"
    name = "constant-overflows-half"
    message = "a constant beyond float16's range becomes inf; use finfo(dtype).min"
    fix_safety = "unsafe"
    on = ("masked_fill", "where", "mul", "add", "sub")
    half_precision = True
    autocast = (
        "Attention scores from a matmul are float16 under CUDA autocast: a `masked_fill(mask, -1e9)` on them "
        "raises, which is how most reports of this bug begin."
    )
    valid = [
        Valid("s = x.half()\ny = s.masked_fill(x > 0, -1e4)"),
        Valid("y = x.masked_fill(x > 0, -1e9)"),
        Valid("s = x.half()\ny = s.masked_fill(x > 0, torch.finfo(s.dtype).min)"),
        Valid("s = x.to(torch.bfloat16)\ny = torch.where(x > 0, s, -1e9)"),
        Valid("s = x.half()\ny = s.masked_fill(x > 0, float('-inf'))"),
    ]
    invalid = [
        Invalid("s = x.half()\ny = s.masked_fill(x > 0, -1e9)",
                "s = x.half()\ny = s.masked_fill(x > 0, torch.finfo(s.dtype).min)", unsafe=True),
        Invalid("s = x.half()\ny = torch.where(x > 0, s, -1e9)",
                "s = x.half()\ny = torch.where(x > 0, s, torch.finfo(s.dtype).min)", unsafe=True),
        Invalid("m = x.half()\ny = (1.0 - m) * -1e10", "m = x.half()\ny = (1.0 - m) * torch.finfo(m.dtype).min",
                domain="unit", unsafe=True),
        Invalid("s = x.astype(np.float16)\ny = np.where(s > 0, s, -1e9)",
                "s = x.astype(np.float16)\ny = np.where(s > 0, s, np.finfo(s.dtype).min)", "numpy", unsafe=True),
        Invalid("s = x.astype(jnp.float16)\ny = jnp.where(s > 0, s, -1e9)",
                "s = x.astype(jnp.float16)\ny = jnp.where(s > 0, s, jnp.finfo(s.dtype).min)", "jax", unsafe=True),
        Invalid("s = tf.cast(x, tf.float16)\ny = tf.where(s > 0, s, -1e9)",
                "s = tf.cast(x, tf.float16)\ny = tf.where(s > 0, s, s.dtype.min)", "tf", unsafe=True),
        Invalid("s = keras.ops.cast(x, 'float16')\ny = keras.ops.where(s > 0, s, -1e9)",
                "s = keras.ops.cast(x, 'float16')\ny = keras.ops.where(s > 0, s, -65504.0)", "keras", unsafe=True),
    ]

    def check(self, node: ast.AST, value: Value, ctx: Context) -> None:
        pair = self._array_and_constant(value, ctx)
        if pair is None:
            return
        array_expr, array, constant_expr, constant = pair
        if constant.kind != v.CONST or constant.const is None or not math.isfinite(constant.const):
            return
        if array.kind == v.CONST or abs(constant.const) <= iv.MAX["float16"]:
            return
        # Arithmetic with a large constant is often a scale or an offset on integers or Python
        # numbers (``x * 65535.0``, ``seed - 0x80000000``): there the code must say float16;
        # masked_fill and where fill a tensor, so ``assume-dtype`` is enough.
        said = value.kind not in ("masked_fill", "where")
        if _half_dtype(ctx, array, said=said) != "float16" or not math.isinf(iv.rounded(constant.const, "float16")):
            return
        which = "min" if constant.const < 0 else "max"
        what = {
            "masked_fill": "masked_fill raises on it",
            "where": "it becomes inf, and a fully masked softmax row is nan",
        }.get(value.kind, "it becomes inf")
        message = f"{constant.const:g} is beyond float16's range (max 65504): {what}; use finfo(dtype).{which}"
        message += _from_profile(ctx, array)
        fix = None
        if array_expr is not None and _literal(constant_expr):
            limit = _limit(ctx, _file_framework(ctx, array), array_expr, which, "float16")
            if limit is not None:
                fix = ctx.fix(constant_expr, limit[0], imports=limit[1], safety="unsafe")
        self.report(ctx, node, fix, list(array.via), origins=[array], message=message)

    @staticmethod
    def _array_and_constant(value: Value, ctx: Context):
        """(array expression, its value, constant expression, its value) for the shapes
        this rule knows; None for others."""
        op = value.op
        if value.kind == "masked_fill" and op is not None:
            positional, keywords = op.other_args()
            fill = next((k.value for k in keywords if k.arg == "value"), positional[1] if len(positional) > 1 else None)
            if fill is None or op.input is None:
                return None
            return op.input, ctx.value(op.input), fill, ctx.value(fill)
        if value.kind == "where" and op is not None:
            positional, keywords = op.other_args()
            if keywords or len(positional) != 2:
                return None
            first, second = positional
            first_value, second_value = ctx.value(first), ctx.value(second)
            if second_value.kind == v.CONST:
                return first, first_value, second, second_value
            return second, second_value, first, first_value
        if value.kind in (v.MUL, v.ADD, v.SUB) and isinstance(value.node, ast.BinOp):
            left, right = value.operand(0), value.operand(1)
            node = value.node
            if right.kind == v.CONST:
                return node.left, left, node.right, right
            return node.right, right, node.left, left
        return None


_NAN_NAMES = frozenset({"nan", "NaN", "NAN"})
_NAN_MODULES = ("numpy", "math", "torch", "jax.numpy", "tensorflow.experimental.numpy", "cupy", "pandas")
# The framework's own isnan, by the module of the nan the code compares with.
_ISNAN = {
    "numpy": "numpy.isnan", "math": "math.isnan", "torch": "torch.isnan", "jax": "jax.numpy.isnan",
    "tf": "tensorflow.math.is_nan", "keras": "keras.ops.isnan",
}


def nan_constant(ctx: Context, expr: ast.expr) -> str | None:
    """The framework a NaN constant belongs to: ``np.nan`` → numpy, ``math.nan``,
    ``torch.nan``, ``float("nan")`` → math; None for anything else."""
    expr = ctx.resolve(expr)
    if isinstance(expr, (ast.Attribute, ast.Name)) and identifier_of(expr) in _NAN_NAMES:
        qualified = ctx.imports.qualified_name(expr, ctx.env) or ""
        module = qualified.rpartition(".")[0]
        if module in _NAN_MODULES:
            return {"jax.numpy": "jax", "tensorflow.experimental.numpy": "tf"}.get(module, module)
        return None
    if (
        isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "float"
        and "float" not in ctx.imports.names and len(expr.args) == 1 and not expr.keywords
        and isinstance(expr.args[0], ast.Constant) and isinstance(expr.args[0].value, str)
        and expr.args[0].value.strip().lower().lstrip("+-") == "nan"
    ):
        return "math"
    return None


class NanComparison(Rule):
    """
    ## What it does
    Finds `==` and `!=` comparisons with NaN: `x == np.nan`, `x != float("nan")`,
    `x == torch.nan`, `x == math.nan`, `jnp.nan == x`.

    ## Why is this bad?
    NaN is unequal to everything, itself included: `x == nan` is always False and
    `x != nan` always True, for every `x`. The check the code means — is `x` NaN? —
    never fires, so NaNs pass straight through it. Use the framework's `isnan`.

    ## Fix safety
    Unsafe: the fix writes the framework's `isnan` (`np.isnan(x)`, `torch.isnan(x)`,
    `math.isnan(x)`, `jnp.isnan(x)`, `tf.math.is_nan(x)`; `~` / `not` of it for `!=`). That
    is what the comparison means, but its value differs exactly where `x` is NaN — that is
    the point — and `isnan` raises on operands the comparison accepted (`None`, a string,
    a tensor given to `math.isnan`). The isnan is the one of the framework the NaN
    constant comes from, or of the array where the code shows it; `float("nan")` and
    `math.nan` get `math.isnan` (one number) only in a file that uses no array library,
    and no fix elsewhere.

    ## References
    - IEEE 754-2008, §5.11: NaN compares unordered with everything.
    - pylint `nan-comparison` (W0177).
    """

    code = "STB503"
    name = "nan-comparison"
    message = "a comparison with nan is always False (== ) or True (!=); use isnan"
    fix_safety = "unsafe"
    on = ("compare",)
    valid = [
        Valid("y = torch.isnan(x)"),
        Valid("y = x != x"),
        Valid("y = x is np.nan", "numpy"),
        Valid("y = x == np.inf", "numpy"),
        Valid("y = x == 'nan'"),
    ]
    invalid = [
        Invalid("y = x == torch.nan", "y = torch.isnan(x)", unsafe=True),
        Invalid("y = x == np.nan", "y = np.isnan(x)", "numpy", unsafe=True),
        Invalid("y = x != np.nan", "y = ~np.isnan(x)", "numpy", unsafe=True),
        Invalid("y = x == float('nan')", None, "math"),  # the examples' file imports arrays: no fix
        Invalid("y = math.nan != x", None, "math"),
        Invalid("y = x == jnp.nan", "y = jnp.isnan(x)", "jax", unsafe=True),
        # NumPy's NaN in TensorFlow, JAX and Keras code: the fix calls the library's own isnan
        # (NumPy's fails on a traced tensor, and Keras runs on backends without TensorFlow).
        Invalid("n = 0\ny = tf.cast(x == np.nan, tf.float32)", "n = 0\ny = tf.cast(tf.math.is_nan(x), tf.float32)",
                "tf", unsafe=True),
        Invalid("n = 0\ny = jnp.where(x != np.nan, 1.0, 0.0)", "n = 0\ny = jnp.where(~jnp.isnan(x), 1.0, 0.0)", "jax",
                unsafe=True),
        Invalid("n = 0\ny = keras.ops.cast(x == np.nan, 'float32')",
                "n = 0\ny = keras.ops.cast(keras.ops.isnan(x), 'float32')", "keras", unsafe=True),
    ]

    def check(self, node: ast.AST, value: Value, ctx: Context) -> None:
        if not isinstance(node, ast.Compare) or len(node.ops) != 1 or not isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            return
        left, right = node.left, node.comparators[0]
        framework = nan_constant(ctx, right)
        other = left
        if framework is None:
            framework, other = nan_constant(ctx, left), right
        if framework is None or nan_constant(ctx, other) is not None:
            return
        equal = isinstance(node.ops[0], ast.Eq)
        message = (
            f"{ctx.text(node)} is always {'False' if equal else 'True'}: nan equals nothing, itself included; "
            "use isnan"
        )
        framework = self._isnan_framework(ctx, node, framework, other)
        fix = None
        if framework is not None:
            isnan, imports = ctx.spell(_ISNAN[framework])
            content = f"{isnan}({ctx.text(other)})"
            if not equal:
                content = f"not {content}" if framework == "math" else f"~{content}"
            fix = ctx.fix(node, content, imports=imports, safety="unsafe")
        self.report(ctx, node, fix, message=message)

    @staticmethod
    def _isnan_framework(ctx: Context, node: ast.AST, framework: str, other: ast.expr) -> str | None:
        """Whose isnan the fix calls: the array's framework where the value model knows it;
        else the tensor library the code around computes with (``tf.cast(x == np.nan, ...)``,
        ``@jax.jit``, a function calling ``keras.ops``): NumPy's isnan fails on a traced
        tensor, and Keras 3 code runs on backends without TensorFlow; ``math.isnan`` for
        ``float("nan")``/``math.nan`` only in a file without arrays (it takes one number, and
        ``x[x == float("nan")]`` indexes a tensor); else no fix."""
        operand = ctx.value(other)
        known = operand.framework
        if known == "tf" and operand.op is not None:
            known = keras_or_tf(operand.op.qualified_name or "")
        if known in _ISNAN and known != "math":
            return known
        function = ctx.env.function
        around = tensor_family_around(function or ctx.evaluator.tree, function, node, ctx.imports)
        if around in _ISNAN:
            return around
        if framework != "math":
            return framework
        arrays = {bound.split(".")[0] for bound in ctx.imports.names.values()} & {
            "numpy", "torch", "jax", "tensorflow", "keras", "pandas", "cupy",
        }
        return None if arrays else "math"


RULES = [EpsVanishesInHalf, ConstantOverflowsHalf, NanComparison]
