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
_register("square", "jax", "jax.numpy.square", "jax.lax.square")
_register("clamp", "torch", "torch.clamp", "torch.clip")
_register("clamp", "numpy", "numpy.clip")
_register("clamp", "tf", "tensorflow.clip_by_value", "keras.ops.clip", "keras.backend.clip")
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
_register("rand", "numpy", "numpy.random.rand", "numpy.random.random", "numpy.random.random_sample",
          "numpy.random.uniform")
_register("rand", "tf", "tensorflow.random.uniform", "tensorflow.random_uniform")
_register("rand", "jax", "jax.random.uniform")
_register("randn", "torch", "torch.randn", "torch.randn_like")
_register("randn", "numpy", "numpy.random.randn", "numpy.random.normal", "numpy.random.standard_normal")
_register("randn", "tf", "tensorflow.random.normal", "tensorflow.random_normal")
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

# Activations and reciprocals whose range the interval engine knows.
_register("rsqrt", "torch", "torch.rsqrt", "torch.special.rsqrt")
_register("rsqrt", "tf", "tensorflow.math.rsqrt", "tensorflow.rsqrt", "keras.ops.rsqrt")
_register("rsqrt", "jax", "jax.lax.rsqrt")
_register("reciprocal", "torch", "torch.reciprocal")
_register("reciprocal", "numpy", "numpy.reciprocal")
_register("reciprocal", "tf", "tensorflow.math.reciprocal", "tensorflow.reciprocal", "keras.ops.reciprocal")
_register("reciprocal", "jax", "jax.numpy.reciprocal")
_register("relu6", "torch", "torch.nn.functional.relu6")
_register("relu6", "tf", "tensorflow.nn.relu6", "keras.ops.relu6", "keras.activations.relu6")
_register("relu6", "jax", "jax.nn.relu6")
_register("elu", "torch", "torch.nn.functional.elu")
_register("elu", "tf", "tensorflow.nn.elu", "keras.ops.elu", "keras.activations.elu")
_register("elu", "jax", "jax.nn.elu")
_register("gelu", "torch", "torch.nn.functional.gelu")
_register("gelu", "tf", "tensorflow.nn.gelu", "keras.ops.gelu", "keras.activations.gelu")
_register("gelu", "jax", "jax.nn.gelu")
_register("silu", "torch", "torch.nn.functional.silu")
_register("silu", "tf", "tensorflow.nn.silu", "tensorflow.nn.swish", "keras.ops.silu", "keras.activations.silu",
          "keras.activations.swish")
_register("silu", "jax", "jax.nn.silu", "jax.nn.swish")
_register("softsign", "torch", "torch.nn.functional.softsign")
_register("softsign", "tf", "tensorflow.nn.softsign", "keras.ops.softsign", "keras.activations.softsign")
_register("softsign", "jax", "jax.nn.soft_sign")
_register("log_sigmoid", "torch", "torch.nn.functional.logsigmoid")
_register("log_sigmoid", "tf", "tensorflow.math.log_sigmoid", "keras.ops.log_sigmoid")
_register("log_sigmoid", "jax", "jax.nn.log_sigmoid")
_register("hardsigmoid", "torch", "torch.nn.functional.hardsigmoid")
_register("hardsigmoid", "jax", "jax.nn.hard_sigmoid")
_register("where", "torch", "torch.where")
_register("where", "numpy", "numpy.where")
_register("where", "tf", "tensorflow.where", "tensorflow.compat.v1.where_v2", "tensorflow.experimental.numpy.where",
          "keras.ops.where")
_register("where", "jax", "jax.numpy.where")
# Ops the activation rules (rules/activations.py) start at or read.
_register("atan", "torch", "torch.atan", "torch.arctan")
_register("atan", "numpy", "numpy.arctan")
_register("atan", "math", "math.atan")
_register("atan", "tf", "tensorflow.atan", "tensorflow.math.atan", "keras.ops.arctan")
_register("atan", "jax", "jax.numpy.arctan")

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

# The log-gamma function (STB120 reads ``exp(lgamma(a)) / exp(lgamma(b))``).
_register("lgamma", "torch", "torch.lgamma", "torch.special.gammaln")
_register("lgamma", "numpy", "scipy.special.gammaln")
_register("lgamma", "math", "math.lgamma")
_register("lgamma", "tf", "tensorflow.math.lgamma", "tensorflow.lgamma")
_register("lgamma", "jax", "jax.scipy.special.gammaln", "jax.lax.lgamma")
# Mean and variance in one call, as a tuple: ``moments`` gives (mean, variance), PyTorch's
# ``var_mean`` (variance, mean). Unpacked, the variance is followed like ``var(x)``.
_register("moments", "tf", "tensorflow.nn.moments", "tensorflow.nn.weighted_moments", "keras.ops.moments")
_register("var_mean", "torch", "torch.var_mean")

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
    "uniform_": ("rand", "torch"),  # ``torch.empty(n).uniform_(a, b)``: a draw from [a, b)
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
    "rsqrt": ("rsqrt", "torch"),
    "reciprocal": ("reciprocal", "torch"),
    "abs": ("abs", None),
    "tanh": ("tanh", "torch"),
    "square": ("square", "torch"),
    "clamp": ("clamp", "torch"),
    "clip": ("clamp", None),
    "clamp_min": ("clamp", "torch"),
    "clamp_max": ("clamp", "torch"),
    "lgamma": ("lgamma", "torch"),
    "var": ("spread", None),
    "std": ("spread", None),
    "norm": ("norm", "torch"),
    "matmul": ("matmul", None),
    "atan": ("atan", "torch"),
    "arctan": ("atan", "torch"),
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
    "log", "exp", "log1p", "sqrt", "std", "reduce_std", "norm", "vector_norm", "rsqrt", "reciprocal", "atan", "arctan",
    "det", "inv", "inverse", "solve", "nan", "NaN", "NAN", "lgamma", "gammaln", "moments", "var_mean", "one_hot", "eye",
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
    "flax.linen": "jax.nn",
    "flax.linen.activation": "jax.nn",
    "flax.nnx": "jax.nn",
    "jax.scipy.special": "jax.scipy.special",
}

# -- shims: modules that stand in for NumPy, SciPy or jax.numpy under another name (autograd's
# differentiable NumPy, trax's backend-neutral fastmath, CuPy on the GPU). Code is read as the
# module they wrap; a fix is written through the shim, never by importing the wrapped module
# (``numpy.log1p`` in autograd code would silently stop the gradient). Each shim: the module it
# stands in for, and the names it re-exports (None: all of them).
@dataclass(frozen=True)
class Shim:
    wraps: str
    names: frozenset[str] | None = None


SHIMS: dict[str, Shim] = {
    "autograd.numpy": Shim("numpy"),
    "autograd.scipy.special": Shim("scipy.special", frozenset({
        "expit", "logit", "logsumexp", "gammaln", "gamma", "digamma", "polygamma", "erf", "erfc", "xlogy",
    })),
    "autograd.scipy.stats": Shim("scipy.stats"),
    "trax.fastmath.numpy": Shim("jax.numpy"),
    "trax.fastmath": Shim("jax.nn", frozenset({"logsumexp"})),
    "cupy": Shim("numpy"),
    "cupyx.scipy.special": Shim("scipy.special", frozenset({
        "expit", "logit", "log_expit", "logsumexp", "softmax", "log_softmax", "gammaln", "xlogy", "entr",
    })),
}
# trax.fastmath's own functions, read as the jax ones they call.
_register("sigmoid", "jax", "trax.fastmath.expit", "trax.fastmath.sigmoid")
_register("logsumexp", "jax", "trax.fastmath.logsumexp")
# The packages a shim stands in for: a fix in a file that uses the shim imports none of them.
SHIMMED_PACKAGES = {"autograd": frozenset({"numpy", "scipy"}), "trax": frozenset({"jax"}),
                    "cupy": frozenset({"numpy", "scipy"}), "cupyx": frozenset({"numpy", "scipy"})}


MODULE_ALIASES.update({module: shim.wraps for module, shim in SHIMS.items()})


def add_shims(modules: dict[str, str]) -> None:
    """Register the project's own shims (``numpy-like = ["mypkg.np"]`` in [tool.stablelint]):
    module -> the module it re-exports in full (``numpy``, ``jax.numpy`` …)."""
    for module, wraps in modules.items():
        if SHIMS.get(module) == Shim(wraps):
            continue
        SHIMS[module] = Shim(wraps)
        MODULE_ALIASES[module] = wraps
        SPELLING_ALIASES[module] = wraps
        SHIMMED_PACKAGES.setdefault(module.split(".")[0], frozenset({wraps.split(".")[0]}))


def shim_of(bound: str) -> Shim | None:
    """The shim a bound module is, or belongs to (``autograd.numpy.linalg``)."""
    module = bound
    while module:
        shim = SHIMS.get(module)
        if shim is not None:
            return shim
        module = module.rpartition(".")[0]
    return None


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

# TF1's functional dense layers: (the activation's keyword, its position, the activation when
# none is given). ``tf.layers.dense(x, n, tf.nn.softmax)`` is a softmax of an affine map.
_DENSE_FUNCTIONS = {
    "tensorflow.layers.dense": ("activation", 2, "linear"),
    "tensorflow.contrib.layers.fully_connected": ("activation_fn", 2, "relu"),
    "tensorflow.contrib.layers.linear": ("activation_fn", 99, "linear"),
    "tf_slim.fully_connected": ("activation_fn", 2, "relu"),
    "tf_slim.layers.fully_connected": ("activation_fn", 2, "relu"),
}


def dense_function(qualified_name: str) -> tuple[str, int, str] | None:
    return _DENSE_FUNCTIONS.get(qualified_name) or _DENSE_FUNCTIONS.get(canonical_name(qualified_name))


# Keras activation names (``Dense(1, activation="sigmoid")``) and the op each computes.
ACTIVATIONS = {
    "sigmoid": "sigmoid", "softmax": "softmax", "relu": "relu", "softplus": "softplus",
    "exponential": "exp", "linear": "linear", "log_softmax": "log_softmax", "tanh": "tanh", "relu6": "relu6",
    "elu": "elu", "gelu": "gelu", "silu": "silu", "swish": "silu", "softsign": "softsign",
    "hard_sigmoid": "hardsigmoid", "log_sigmoid": "log_sigmoid",
}


# Modules that re-export the *whole* namespace of another, so a fix may spell any of the
# other's functions through them. ``keras.src.ops.core`` holds only part of ``keras.ops``
# (no softplus): reading through it is fine, writing through it is not.
SPELLING_ALIASES: dict[str, str] = {"keras.src.ops": "keras.ops", "tensorflow.compat.v2": "tensorflow"}
SPELLING_ALIASES.update({module: shim.wraps for module, shim in SHIMS.items() if shim.names is None})

# Modules that re-export only some of another's functions: a fix may spell these through
# them (``nn.log_softmax`` after ``import flax.linen as nn``).
PARTIAL_SPELLING_ALIASES: dict[str, tuple[str, frozenset[str]]] = {
    "flax.linen": ("jax.nn", frozenset({"log_softmax", "softmax", "log_sigmoid", "sigmoid", "softplus", "logsumexp"})),
    "tensorflow.compat.v1": ("tensorflow", frozenset({"log1p", "expm1", "nn", "math"})),
}
PARTIAL_SPELLING_ALIASES.update({module: (shim.wraps, shim.names) for module, shim in SHIMS.items() if shim.names})

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
    # rules/activations.py
    ("sigmoid", "torch"): "torch.sigmoid",
    ("sigmoid", "numpy"): "scipy.special.expit",
    ("sigmoid", "tf"): "tensorflow.math.sigmoid",
    ("sigmoid", "keras"): "keras.ops.sigmoid",
    ("sigmoid", "jax"): "jax.nn.sigmoid",
    ("tanh", "torch"): "torch.tanh",
    ("tanh", "numpy"): "numpy.tanh",
    ("tanh", "math"): "math.tanh",
    ("tanh", "tf"): "tensorflow.math.tanh",
    ("tanh", "keras"): "keras.ops.tanh",
    ("tanh", "jax"): "jax.numpy.tanh",
    ("xlogy", "torch"): "torch.xlogy",
    ("xlogy", "numpy"): "scipy.special.xlogy",
    ("xlogy", "tf"): "tensorflow.math.xlogy",
    ("xlogy", "jax"): "jax.scipy.special.xlogy",
    ("atan2", "torch"): "torch.atan2",
    ("atan2", "numpy"): "numpy.arctan2",
    ("atan2", "math"): "math.atan2",
    ("atan2", "tf"): "tensorflow.math.atan2",
    ("atan2", "keras"): "keras.ops.arctan2",
    ("atan2", "jax"): "jax.numpy.arctan2",
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


# -- losses (STB3xx). A loss call's prediction argument and what it expects there:
# "probabilities", "log_probabilities" or "logits"; ``activation`` is the one whose output
# it expects ("sigmoid" for binary losses, "softmax" for the categorical ones). Keras
# losses take ``from_logits`` (default False): given True, they expect logits.
@dataclass(frozen=True)
class LossSignature:
    expects: str
    activation: str
    prediction: int  # position of the prediction argument (of the call, or of a loss object's call)
    prediction_names: tuple[str, ...]  # its keyword names
    logits_form: str | None = None  # the with-logits function taking the same arguments (PyTorch)


_BCE_TORCH = LossSignature(
    "probabilities", "sigmoid", 0, ("input",), "torch.nn.functional.binary_cross_entropy_with_logits"
)
_BCE_KERAS = LossSignature("probabilities", "sigmoid", 1, ("y_pred", "output"))
_CCE_KERAS = LossSignature("probabilities", "softmax", 1, ("y_pred", "output"))
_NLL_TORCH = LossSignature("log_probabilities", "softmax", 0, ("input",))
_CE_TORCH = LossSignature("logits", "softmax", 0, ("input",))
_BCE_LOGITS_TORCH = LossSignature("logits", "sigmoid", 0, ("input",))
_TF_WITH_LOGITS = {"softmax": LossSignature("logits", "softmax", 1, ("logits",)),
                   "sigmoid": LossSignature("logits", "sigmoid", 1, ("logits",))}
_OPTAX = {"softmax": LossSignature("logits", "softmax", 0, ("logits",)),
          "sigmoid": LossSignature("logits", "sigmoid", 0, ("logits",))}

LOSS_FUNCTIONS: dict[str, LossSignature] = {
    "torch.nn.functional.binary_cross_entropy": _BCE_TORCH,
    "torch.nn.functional.nll_loss": _NLL_TORCH,
    "torch.nn.functional.cross_entropy": _CE_TORCH,
    "torch.nn.functional.binary_cross_entropy_with_logits": _BCE_LOGITS_TORCH,
    "tensorflow.nn.softmax_cross_entropy_with_logits": _TF_WITH_LOGITS["softmax"],
    "tensorflow.nn.sparse_softmax_cross_entropy_with_logits": _TF_WITH_LOGITS["softmax"],
    "tensorflow.nn.sigmoid_cross_entropy_with_logits": _TF_WITH_LOGITS["sigmoid"],
    "optax.softmax_cross_entropy": _OPTAX["softmax"],
    "optax.softmax_cross_entropy_with_integer_labels": _OPTAX["softmax"],
    "optax.sigmoid_binary_cross_entropy": _OPTAX["sigmoid"],
    "optax.losses.softmax_cross_entropy": _OPTAX["softmax"],
    "optax.losses.softmax_cross_entropy_with_integer_labels": _OPTAX["softmax"],
    "optax.losses.sigmoid_binary_cross_entropy": _OPTAX["sigmoid"],
}
for _prefix in ("keras.losses", "tensorflow.keras.losses", "keras.metrics", "tensorflow.keras.metrics",
                "keras.ops", "keras.backend"):
    LOSS_FUNCTIONS[f"{_prefix}.binary_crossentropy"] = _BCE_KERAS
    LOSS_FUNCTIONS[f"{_prefix}.categorical_crossentropy"] = _CCE_KERAS
    LOSS_FUNCTIONS[f"{_prefix}.sparse_categorical_crossentropy"] = _CCE_KERAS

# Loss objects: the constructor's name -> what their call expects.
LOSS_MODULES: dict[str, LossSignature] = {
    "torch.nn.BCELoss": _BCE_TORCH,
    "torch.nn.NLLLoss": _NLL_TORCH,
    "torch.nn.CrossEntropyLoss": _CE_TORCH,
    "torch.nn.BCEWithLogitsLoss": _BCE_LOGITS_TORCH,
}
for _prefix in ("keras.losses", "tensorflow.keras.losses"):
    LOSS_MODULES[f"{_prefix}.BinaryCrossentropy"] = _BCE_KERAS
    LOSS_MODULES[f"{_prefix}.CategoricalCrossentropy"] = _CCE_KERAS
    LOSS_MODULES[f"{_prefix}.SparseCategoricalCrossentropy"] = _CCE_KERAS
LOSS_MODULE_LOGITS_FORM = {"torch.nn.BCELoss": "torch.nn.BCEWithLogitsLoss"}

for _name in LOSS_FUNCTIONS:
    _register("loss", {"torch": "torch", "optax": "jax"}.get(_name.split(".")[0], "tf"), _name)
for _name in LOSS_MODULES:
    _module("loss", "torch" if _name.startswith("torch") else "tf", _name)
MODULE_ALIASES.update({"tf_keras.losses": "tensorflow.keras.losses", "keras.src.losses": "keras.losses",
                       "keras.src.losses.losses": "keras.losses", "optax.losses": "optax"})

# The words a file must hold for a loss rule to match (the prefilter's second test).
LOSS_WORDS = frozenset(name.rpartition(".")[2] for name in (*LOSS_FUNCTIONS, *LOSS_MODULES))
# Substrings of which every loss word holds one: a fast first test (``"ntropy" in source``).
LOSS_STEMS = ("ntropy", "nll_loss", "NLLLoss", "BCE")


def loss_signature(qualified_name: str, *, module: bool = False) -> LossSignature | None:
    table = LOSS_MODULES if module else LOSS_FUNCTIONS
    return table.get(qualified_name) or table.get(canonical_name(qualified_name))
