"""API tables: which qualified names and Tensor methods mean which canonical op.

Frameworks are named ``torch``, ``numpy`` (NumPy and SciPy), ``tf`` (TensorFlow and
Keras), ``jax`` and ``math`` (the standard library).  Every table here is data; the
normalizer (``ir.py``) reads it and the rules never spell a framework's name.
"""

from __future__ import annotations

from dataclasses import dataclass

# qualified name -> (canonical op, framework)
_FUNCTIONS: dict[str, tuple[str, str]] = {}


def _register(op: str, framework: str, *names: str) -> None:
    for name in names:
        _FUNCTIONS[name] = (op, framework)


_register("log", "torch", "torch.log", "torch.Tensor.log")
_register("log", "numpy", "numpy.log", "numpy.lib.scimath.log")
_register("log", "math", "math.log")
_register("log", "tf", "tensorflow.math.log", "tensorflow.log", "keras.ops.log", "keras.backend.log")
_register("log", "jax", "jax.numpy.log")

_register("log1p", "torch", "torch.log1p", "torch.special.log1p")
_register("log1p", "numpy", "numpy.log1p")
_register("log1p", "math", "math.log1p")
_register("log1p", "tf", "tensorflow.math.log1p", "tensorflow.log1p", "keras.ops.log1p")
_register("log1p", "jax", "jax.numpy.log1p")

_register("exp", "torch", "torch.exp")
_register("exp", "numpy", "numpy.exp")
_register("exp", "math", "math.exp")
_register("exp", "tf", "tensorflow.math.exp", "tensorflow.exp", "keras.ops.exp", "keras.backend.exp")
_register("exp", "jax", "jax.numpy.exp")

_register("expm1", "torch", "torch.expm1", "torch.special.expm1")
_register("expm1", "numpy", "numpy.expm1")
_register("expm1", "math", "math.expm1")
_register("expm1", "tf", "tensorflow.math.expm1", "tensorflow.expm1", "keras.ops.expm1")
_register("expm1", "jax", "jax.numpy.expm1")

_register("sum", "torch", "torch.sum")
_register("sum", "numpy", "numpy.sum")
_register(
    "sum", "tf",
    "tensorflow.math.reduce_sum", "tensorflow.reduce_sum", "keras.ops.sum", "keras.backend.sum",
)
_register("sum", "jax", "jax.numpy.sum")

_register("mean", "torch", "torch.mean")
_register("mean", "numpy", "numpy.mean")
_register(
    "mean", "tf",
    "tensorflow.math.reduce_mean", "tensorflow.reduce_mean", "keras.ops.mean", "keras.backend.mean",
)
_register("mean", "jax", "jax.numpy.mean")

_register("cumsum", "torch", "torch.cumsum")
_register("cumsum", "numpy", "numpy.cumsum")
_register("cumsum", "tf", "tensorflow.math.cumsum", "tensorflow.cumsum", "keras.ops.cumsum")
_register("cumsum", "jax", "jax.numpy.cumsum")

# Arithmetic spelled as a function: the same canonical ops as the operators.
_register("add", "torch", "torch.add")
_register("add", "numpy", "numpy.add")
_register("add", "tf", "tensorflow.add", "tensorflow.math.add", "keras.ops.add")
_register("add", "jax", "jax.numpy.add")
_register("sub", "torch", "torch.sub", "torch.subtract")
_register("sub", "numpy", "numpy.subtract")
_register("sub", "tf", "tensorflow.subtract", "tensorflow.math.subtract", "keras.ops.subtract")
_register("sub", "jax", "jax.numpy.subtract")
_register("mul", "torch", "torch.mul", "torch.multiply")
_register("mul", "numpy", "numpy.multiply")
_register("mul", "tf", "tensorflow.multiply", "tensorflow.math.multiply", "keras.ops.multiply")
_register("mul", "jax", "jax.numpy.multiply")
_register("div", "torch", "torch.div", "torch.divide", "torch.true_divide")
_register("div", "numpy", "numpy.divide", "numpy.true_divide")
_register(
    "div", "tf",
    "tensorflow.div", "tensorflow.divide", "tensorflow.truediv", "tensorflow.math.divide",
    "tensorflow.math.truediv", "keras.ops.divide", "keras.ops.true_divide",
)
_register("div", "jax", "jax.numpy.divide", "jax.numpy.true_divide")
_register("neg", "torch", "torch.neg", "torch.negative")
_register("neg", "numpy", "numpy.negative")
_register("neg", "tf", "tensorflow.negative", "tensorflow.math.negative", "keras.ops.negative")
_register("neg", "jax", "jax.numpy.negative")
# Ops the interval engine models (their ranges, not a rule of their own).
_register("sqrt", "torch", "torch.sqrt")
_register("sqrt", "numpy", "numpy.sqrt")
_register("sqrt", "math", "math.sqrt")
_register("sqrt", "tf", "tensorflow.sqrt", "tensorflow.math.sqrt", "keras.ops.sqrt")
_register("sqrt", "jax", "jax.numpy.sqrt")
_register("abs", "torch", "torch.abs")
_register("abs", "numpy", "numpy.abs", "numpy.absolute")
_register("abs", "tf", "tensorflow.abs", "tensorflow.math.abs", "keras.ops.abs")
_register("abs", "jax", "jax.numpy.abs")
_register("tanh", "torch", "torch.tanh")
_register("tanh", "numpy", "numpy.tanh")
_register("tanh", "tf", "tensorflow.tanh", "tensorflow.math.tanh", "tensorflow.nn.tanh", "keras.ops.tanh")
_register("tanh", "jax", "jax.numpy.tanh", "jax.nn.tanh")
_register("square", "torch", "torch.square")
_register("square", "numpy", "numpy.square")
_register("square", "tf", "tensorflow.square", "tensorflow.math.square", "keras.ops.square")
_register("square", "jax", "jax.numpy.square")
_register("clamp", "torch", "torch.clamp", "torch.clip")
_register("clamp", "numpy", "numpy.clip")
_register("clamp", "tf", "tensorflow.clip_by_value", "keras.ops.clip")
_register("clamp", "jax", "jax.numpy.clip")
_register("maximum", "torch", "torch.maximum")
_register("maximum", "numpy", "numpy.maximum")
_register("maximum", "tf", "tensorflow.maximum", "tensorflow.math.maximum", "keras.ops.maximum")
_register("maximum", "jax", "jax.numpy.maximum")
_register("minimum", "torch", "torch.minimum")
_register("minimum", "numpy", "numpy.minimum")
_register("minimum", "tf", "tensorflow.minimum", "tensorflow.math.minimum", "keras.ops.minimum")
_register("minimum", "jax", "jax.numpy.minimum")
_register("spread", "torch", "torch.var", "torch.std")
_register("spread", "numpy", "numpy.var", "numpy.std")
_register("spread", "tf", "tensorflow.math.reduce_variance", "tensorflow.math.reduce_std", "keras.ops.var",
          "keras.ops.std")
_register("spread", "jax", "jax.numpy.var", "jax.numpy.std")
_register("norm", "torch", "torch.norm", "torch.linalg.norm", "torch.linalg.vector_norm")
_register("norm", "numpy", "numpy.linalg.norm")
_register("norm", "tf", "tensorflow.norm", "tensorflow.linalg.norm", "keras.ops.norm")
_register("norm", "jax", "jax.numpy.linalg.norm")
_register("rand", "torch", "torch.rand", "torch.rand_like")
_register("rand", "numpy", "numpy.random.rand", "numpy.random.random", "numpy.random.random_sample")
_register("rand", "tf", "tensorflow.random.uniform")
_register("rand", "jax", "jax.random.uniform")
_register("randn", "torch", "torch.randn", "torch.randn_like")
_register("randn", "numpy", "numpy.random.randn", "numpy.random.normal", "numpy.random.standard_normal")
_register("randn", "tf", "tensorflow.random.normal")
_register("randn", "jax", "jax.random.normal")
_register("matmul", "torch", "torch.matmul", "torch.mm", "torch.bmm", "torch.nn.functional.linear")
_register("matmul", "numpy", "numpy.matmul", "numpy.dot")
_register("matmul", "tf", "tensorflow.matmul", "tensorflow.linalg.matmul", "keras.ops.matmul")
_register("matmul", "jax", "jax.numpy.matmul", "jax.numpy.dot")
_register("pow", "torch", "torch.pow")
_register("pow", "numpy", "numpy.power")
_register("pow", "tf", "tensorflow.pow", "tensorflow.math.pow", "keras.ops.power")
_register("pow", "jax", "jax.numpy.power")

_register(
    "softmax", "torch",
    "torch.softmax", "torch.nn.functional.softmax", "torch.special.softmax",
)
_register("softmax", "numpy", "scipy.special.softmax")
_register(
    "softmax", "tf",
    "tensorflow.nn.softmax", "tensorflow.math.softmax", "keras.ops.softmax",
    "keras.activations.softmax", "tensorflow.keras.activations.softmax",
)
_register("softmax", "jax", "jax.nn.softmax")
_register("softmax", "tf", "keras.backend.softmax")

_register(
    "log_softmax", "torch",
    "torch.log_softmax", "torch.nn.functional.log_softmax", "torch.special.log_softmax",
)
_register("log_softmax", "numpy", "scipy.special.log_softmax")
_register(
    "log_softmax", "tf",
    "tensorflow.nn.log_softmax", "tensorflow.math.log_softmax", "keras.ops.log_softmax",
    "keras.activations.log_softmax",
)
_register("log_softmax", "jax", "jax.nn.log_softmax")

_register("logsumexp", "torch", "torch.logsumexp", "torch.special.logsumexp")
_register("logsumexp", "numpy", "scipy.special.logsumexp")
_register("logsumexp", "tf", "tensorflow.math.reduce_logsumexp", "tensorflow.reduce_logsumexp", "keras.ops.logsumexp")
_register("logsumexp", "jax", "jax.nn.logsumexp", "jax.scipy.special.logsumexp")

_register(
    "sigmoid", "torch",
    "torch.sigmoid", "torch.nn.functional.sigmoid", "torch.special.expit",
)
_register("sigmoid", "numpy", "scipy.special.expit")
_register(
    "sigmoid", "tf",
    "tensorflow.sigmoid", "tensorflow.math.sigmoid", "tensorflow.nn.sigmoid",
    "keras.ops.sigmoid", "keras.activations.sigmoid", "tensorflow.keras.activations.sigmoid",
)
_register("sigmoid", "jax", "jax.nn.sigmoid", "jax.scipy.special.expit")
_register("sigmoid", "tf", "keras.backend.sigmoid")

_register("softplus", "torch", "torch.nn.functional.softplus")
_register("softplus", "tf", "tensorflow.math.softplus", "tensorflow.nn.softplus", "keras.ops.softplus")
_register("softplus", "jax", "jax.nn.softplus")
_register("relu", "torch", "torch.relu", "torch.nn.functional.relu")
_register("relu", "tf", "tensorflow.nn.relu", "keras.ops.relu", "keras.activations.relu")
_register("relu", "jax", "jax.nn.relu")

# Reductions that make a subtraction a max-subtraction (the stable logsumexp trick).
_register("max", "torch", "torch.max", "torch.amax")
_register("max", "numpy", "numpy.max", "numpy.amax", "numpy.nanmax")
_register("max", "tf", "tensorflow.math.reduce_max", "tensorflow.reduce_max", "keras.ops.max", "keras.backend.max")
_register("max", "jax", "jax.numpy.max", "jax.numpy.amax", "jax.numpy.nanmax")

# Linear algebra (STB6xx) and masking (STB5xx): the calls those rules start at.
_register("det", "torch", "torch.det", "torch.linalg.det")
_register("det", "numpy", "numpy.linalg.det", "scipy.linalg.det")
_register("det", "tf", "tensorflow.linalg.det", "tensorflow.matrix_determinant")
_register("det", "jax", "jax.numpy.linalg.det", "jax.scipy.linalg.det")
_register("inv", "torch", "torch.inverse", "torch.linalg.inv")
_register("inv", "numpy", "numpy.linalg.inv", "scipy.linalg.inv")
_register("inv", "tf", "tensorflow.linalg.inv", "tensorflow.matrix_inverse")
_register("inv", "jax", "jax.numpy.linalg.inv", "jax.scipy.linalg.inv")
_register("solve", "torch", "torch.linalg.solve")
_register("solve", "numpy", "numpy.linalg.solve", "scipy.linalg.solve")
_register("solve", "tf", "tensorflow.linalg.solve")
_register("solve", "jax", "jax.numpy.linalg.solve", "jax.scipy.linalg.solve")
_register("masked_fill", "torch", "torch.masked_fill")
_register("where", "torch", "torch.where")
_register("where", "numpy", "numpy.where")
_register("where", "tf", "tensorflow.where", "keras.ops.where")
_register("where", "jax", "jax.numpy.where")

# Calls that return their argument's value unchanged for our purposes.
_register("identity", "torch", "torch.Tensor.detach")
_register("identity", "jax", "jax.lax.stop_gradient")
_register("identity", "tf", "tensorflow.stop_gradient")

# Tensor/ndarray methods.  Only PyTorch tensors have ``.log()``/``.exp()``/``.softmax()``;
# ``.sum()``/``.max()`` exist on every array type, so they take the framework of the
# expression around them.
METHODS: dict[str, tuple[str, str | None]] = {
    "log": ("log", "torch"),
    "log_": ("log", "torch"),
    "log1p": ("log1p", "torch"),
    "exp": ("exp", "torch"),
    "exp_": ("exp", "torch"),
    "expm1": ("expm1", "torch"),
    "softmax": ("softmax", "torch"),
    "log_softmax": ("log_softmax", "torch"),
    "logsumexp": ("logsumexp", "torch"),
    "sigmoid": ("sigmoid", "torch"),
    "sigmoid_": ("sigmoid", "torch"),
    "relu": ("relu", "torch"),
    "sum": ("sum", None),
    "mean": ("mean", None),
    "cumsum": ("cumsum", None),
    "max": ("max", None),
    "amax": ("max", None),
    "detach": ("identity", None),
    # Tensor arithmetic (``x.add(1)``): the receiver is the first operand.
    "add": ("add", "torch"),
    "sub": ("sub", "torch"),
    "subtract": ("sub", "torch"),
    "rsub": ("rsub", "torch"),
    "mul": ("mul", "torch"),
    "multiply": ("mul", "torch"),
    "div": ("div", "torch"),
    "divide": ("div", "torch"),
    "true_divide": ("div", "torch"),
    "neg": ("neg", "torch"),
    "negative": ("neg", "torch"),
    "pow": ("pow", "torch"),
    "sqrt": ("sqrt", "torch"),
    "abs": ("abs", None),
    "tanh": ("tanh", "torch"),
    "square": ("square", "torch"),
    "clamp": ("clamp", "torch"),
    "clip": ("clamp", None),
    "clamp_min": ("clamp", "torch"),
    "var": ("spread", None),
    "std": ("spread", None),
    "norm": ("norm", "torch"),
    "matmul": ("matmul", None),
    "dot": ("dot", None),  # ``inv(A).dot(b)``: its own kind, so ranges treat it as before
    "det": ("det", "torch"),
    "inverse": ("inv", "torch"),
    "masked_fill": ("masked_fill", "torch"),
    "masked_fill_": ("masked_fill", "torch"),
}

# Binary arithmetic ops and their operators; ``rsub`` is ``other - self``.
ARITHMETIC = frozenset({"add", "sub", "rsub", "mul", "div", "neg", "pow"})

# Words that can start a finding (ops' names, and ``nan``); the text prefilter keys on these.
TRIGGER_OPS = frozenset({
    "log", "exp", "log1p", "sqrt", "std", "norm", "det", "inv", "inverse", "solve", "nan", "NaN", "NAN",
})
# Words that say a file may compute in half precision: there every line is checked (STB5xx).
HALF_PRECISION_WORDS = ("half", "float16", "bfloat16", "autocast")


# Modules that re-export another module's functions under a second name: the canonical
# name (right) is the one the tables above use.
MODULE_ALIASES: dict[str, str] = {
    "keras.src.ops.numpy": "keras.ops",
    "keras.src.ops.nn": "keras.ops",
    "keras.src.ops.math": "keras.ops",
    "keras.src.ops.core": "keras.ops",
    "keras.src.ops": "keras.ops",
    "keras.ops.numpy": "keras.ops",
    "keras.ops.nn": "keras.ops",
    "keras.src.activations": "keras.activations",
    "tensorflow.compat.v2": "tensorflow",
    "tensorflow.compat.v1": "tensorflow",
    "tf_keras.activations": "tensorflow.keras.activations",
    "tensorflow.keras.backend": "keras.backend",
    "tf_keras.backend": "keras.backend",
    "keras.src.backend": "keras.backend",
    "autograd.numpy": "numpy",
    "autograd.scipy.special": "scipy.special",
    "flax.linen": "jax.nn",
    "flax.linen.activation": "jax.nn",
    "flax.nnx": "jax.nn",
    "jax.scipy.special": "jax.scipy.special",
}

# Modules whose call makes an object that, called, computes one op: ``nn.Softmax(dim=1)``
# … ``self.act(x)`` is a softmax. ``linear`` marks an affine layer (its output spans R).
MODULES: dict[str, tuple[str, str]] = {}


def _module(output: str, framework: str, *names: str) -> None:
    for name in names:
        MODULES[name] = (output, framework)


_module("softmax", "torch", "torch.nn.Softmax", "torch.nn.modules.activation.Softmax")
_module("log_softmax", "torch", "torch.nn.LogSoftmax")
_module("sigmoid", "torch", "torch.nn.Sigmoid", "torch.nn.modules.activation.Sigmoid")
_module("softplus", "torch", "torch.nn.Softplus")
_module("relu", "torch", "torch.nn.ReLU")
_module(
    "linear", "torch",
    "torch.nn.Linear", "torch.nn.Bilinear", "torch.nn.Conv1d", "torch.nn.Conv2d", "torch.nn.Conv3d",
    "torch.nn.ConvTranspose1d", "torch.nn.ConvTranspose2d", "torch.nn.ConvTranspose3d", "torch.nn.LazyLinear",
)
_module("sequential", "torch", "torch.nn.Sequential")
_module("softmax", "tf", "keras.layers.Softmax", "tensorflow.keras.layers.Softmax")
_module("dense", "tf", "keras.layers.Dense", "tensorflow.keras.layers.Dense", "keras.layers.Conv2D",
        "tensorflow.keras.layers.Conv2D", "keras.layers.Conv1D", "tensorflow.keras.layers.Conv1D")
_module("activation", "tf", "keras.layers.Activation", "tensorflow.keras.layers.Activation")
_module(
    "sequential", "tf",
    "keras.Sequential", "keras.models.Sequential", "tensorflow.keras.Sequential",
    "tensorflow.keras.models.Sequential",
)
_module("linear", "jax", "flax.linen.Dense", "flax.linen.Conv", "flax.linen.DenseGeneral", "flax.nnx.Linear")
_module("sequential", "jax", "flax.linen.Sequential", "flax.nnx.Sequential")

# Keras activation names (``Dense(1, activation="sigmoid")``) and the op each computes.
ACTIVATIONS = {
    "sigmoid": "sigmoid", "softmax": "softmax", "relu": "relu", "softplus": "softplus",
    "exponential": "exp", "linear": "linear", "log_softmax": "log_softmax",
}


# Modules that re-export the *whole* namespace of another, so a fix may spell any of the
# other's functions through them. ``keras.src.ops.core`` holds only part of ``keras.ops``
# (no softplus): reading through it is fine, writing through it is not.
SPELLING_ALIASES: dict[str, str] = {"keras.src.ops": "keras.ops", "tensorflow.compat.v2": "tensorflow"}

# Modules that re-export only some of another's functions: a fix may spell these through
# them (``nn.log_softmax`` after ``import flax.linen as nn``).
PARTIAL_SPELLING_ALIASES: dict[str, tuple[str, frozenset[str]]] = {
    "flax.linen": ("jax.nn", frozenset({"log_softmax", "softmax", "log_sigmoid", "sigmoid", "softplus", "logsumexp"})),
    "tensorflow.compat.v1": ("tensorflow", frozenset({"log1p", "expm1", "nn", "math"})),
}

# Packages whose submodules are not guaranteed loaded by importing the package (or a
# sibling): a fix that reaches ``scipy.special`` through ``import scipy.signal`` imports it.
IMPORT_SUBMODULES_OF = frozenset({"scipy"})


def canonical_name(qualified_name: str) -> str:
    """``tensorflow.compat.v1.nn.softmax`` -> ``tensorflow.nn.softmax``: the longest
    aliased module prefix is replaced by the module it re-exports."""
    module = qualified_name
    while "." in module:
        module = module.rpartition(".")[0]
        canonical_module = MODULE_ALIASES.get(module)
        if canonical_module is not None:
            return canonical_module + qualified_name[len(module):]
    return qualified_name


def module_op(qualified_name: str) -> tuple[str, str] | None:
    """What a module object built by this constructor computes when called."""
    return MODULES.get(qualified_name) or MODULES.get(canonical_name(qualified_name))


def function_op(qualified_name: str) -> tuple[str, str] | None:
    return _FUNCTIONS.get(qualified_name) or _FUNCTIONS.get(canonical_name(qualified_name))


def callee_names(ops: frozenset[str]) -> frozenset[str]:
    """The last names of every function and method that computes one of ``ops``."""
    names = {name.rpartition(".")[2] for name, (known_op, _) in _FUNCTIONS.items() if known_op in ops}
    names |= {method for method, (known_op, _) in METHODS.items() if known_op in ops}
    if "sub" in ops:
        names.add("rsub")
    return frozenset(names)


@dataclass(frozen=True)
class Reduction:
    """Where a reduction's axis and keep-dims arguments sit in one framework's signature."""

    axis_names: tuple[str, ...]
    keepdims_names: tuple[str, ...]
    positional: tuple[str, ...]  # parameter roles after the input: "axis", "keepdims", "other"


# Signatures of ``sum`` per framework (function form; the method form drops the input).
SUM_SIGNATURES: dict[str, Reduction] = {
    "torch": Reduction(("dim", "axis"), ("keepdim", "keepdims"), ("axis", "keepdims")),
    "numpy": Reduction(("axis",), ("keepdims",), ("axis", "other", "other", "keepdims")),
    "tf": Reduction(("axis",), ("keepdims",), ("axis", "keepdims")),
    "jax": Reduction(("axis",), ("keepdims",), ("axis", "other", "other", "keepdims")),
}

# Keyword names each framework's stable reductions use.
AXIS_KEYWORD = {"torch": "dim", "numpy": "axis", "tf": "axis", "jax": "axis"}
KEEPDIMS_KEYWORD = {"torch": "keepdim", "numpy": "keepdims", "tf": "keepdims", "jax": "keepdims"}


def keras_or_tf(qualified_name: str) -> str:
    """Keras 3 ops live in ``keras.ops``; the stable replacements should stay there."""
    return "keras" if qualified_name.startswith("keras.") else "tf"


# The stable replacements, by (target op, framework family) -> qualified name.
# ``keras`` is the Keras 3 ``keras.ops`` family inside the tf framework.
STABLE: dict[tuple[str, str], str] = {
    ("logsumexp", "torch"): "torch.logsumexp",
    ("logsumexp", "numpy"): "scipy.special.logsumexp",
    ("logsumexp", "tf"): "tensorflow.math.reduce_logsumexp",
    ("logsumexp", "keras"): "keras.ops.logsumexp",
    ("logsumexp", "jax"): "jax.nn.logsumexp",
    ("softmax", "torch"): "torch.softmax",
    ("softmax", "numpy"): "scipy.special.softmax",
    ("softmax", "tf"): "tensorflow.nn.softmax",
    ("softmax", "keras"): "keras.ops.softmax",
    ("softmax", "jax"): "jax.nn.softmax",
    ("log_sigmoid", "torch"): "torch.nn.functional.logsigmoid",
    ("log_sigmoid", "numpy"): "scipy.special.log_expit",
    ("log_sigmoid", "tf"): "tensorflow.math.log_sigmoid",
    ("log_sigmoid", "keras"): "keras.ops.log_sigmoid",
    ("log_sigmoid", "jax"): "jax.nn.log_sigmoid",
    ("log1p", "torch"): "torch.log1p",
    ("log1p", "numpy"): "numpy.log1p",
    ("log1p", "math"): "math.log1p",
    ("log1p", "tf"): "tensorflow.math.log1p",
    ("log1p", "keras"): "keras.ops.log1p",
    ("log1p", "jax"): "jax.numpy.log1p",
    ("expm1", "torch"): "torch.expm1",
    ("expm1", "numpy"): "numpy.expm1",
    ("expm1", "math"): "math.expm1",
    ("expm1", "tf"): "tensorflow.math.expm1",
    ("expm1", "keras"): "keras.ops.expm1",
    ("expm1", "jax"): "jax.numpy.expm1",
    ("softplus", "torch"): "torch.nn.functional.softplus",
    ("softplus", "tf"): "tensorflow.math.softplus",
    ("softplus", "keras"): "keras.ops.softplus",
    ("softplus", "jax"): "jax.nn.softplus",
    ("logaddexp", "numpy"): "numpy.logaddexp",
    ("logaddexp", "torch"): "torch.logaddexp",
    ("logaddexp", "jax"): "jax.numpy.logaddexp",
    ("logaddexp", "keras"): "keras.ops.logaddexp",
    ("logcumsumexp", "torch"): "torch.logcumsumexp",
    ("logcumsumexp", "tf"): "tensorflow.math.cumulative_logsumexp",
}

# log_softmax is the same call with the function renamed: every softmax above has a
# log_softmax twin with the same signature and the same default axis.
LOG_SOFTMAX_OF = {
    "torch.softmax": "torch.log_softmax",
    "torch.nn.functional.softmax": "torch.nn.functional.log_softmax",
    "torch.special.softmax": "torch.special.log_softmax",
    "scipy.special.softmax": "scipy.special.log_softmax",
    "tensorflow.nn.softmax": "tensorflow.nn.log_softmax",
    "tensorflow.math.softmax": "tensorflow.math.log_softmax",
    "keras.ops.softmax": "keras.ops.log_softmax",
    "keras.activations.softmax": "keras.activations.log_softmax",
    "jax.nn.softmax": "jax.nn.log_softmax",
}

# Tensor methods the fixes may emit (PyTorch only).
TORCH_METHODS = frozenset({"log_softmax", "logsumexp", "softmax", "log1p", "expm1"})
