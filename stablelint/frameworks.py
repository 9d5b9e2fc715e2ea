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
_register("log", "tf", "tensorflow.math.log", "tensorflow.log", "keras.ops.log")
_register("log", "jax", "jax.numpy.log")

_register("exp", "torch", "torch.exp")
_register("exp", "numpy", "numpy.exp")
_register("exp", "math", "math.exp")
_register("exp", "tf", "tensorflow.math.exp", "tensorflow.exp", "keras.ops.exp")
_register("exp", "jax", "jax.numpy.exp")

_register("sum", "torch", "torch.sum")
_register("sum", "numpy", "numpy.sum")
_register("sum", "tf", "tensorflow.math.reduce_sum", "tensorflow.reduce_sum", "keras.ops.sum")
_register("sum", "jax", "jax.numpy.sum")

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

# Reductions that make a subtraction a max-subtraction (the stable logsumexp trick).
_register("max", "torch", "torch.max", "torch.amax")
_register("max", "numpy", "numpy.max", "numpy.amax", "numpy.nanmax")
_register("max", "tf", "tensorflow.math.reduce_max", "tensorflow.reduce_max", "keras.ops.max")
_register("max", "jax", "jax.numpy.max", "jax.numpy.amax", "jax.numpy.nanmax")

# Calls that return their argument's value unchanged for our purposes.
_register("identity", "torch", "torch.Tensor.detach")
_register("identity", "jax", "jax.lax.stop_gradient")
_register("identity", "tf", "tensorflow.stop_gradient")

# Tensor/ndarray methods.  Only PyTorch tensors have ``.log()``/``.exp()``/``.softmax()``;
# ``.sum()``/``.max()`` exist on every array type, so they take the framework of the
# expression around them.
METHODS: dict[str, tuple[str, str | None]] = {
    "log": ("log", "torch"),
    "exp": ("exp", "torch"),
    "softmax": ("softmax", "torch"),
    "sigmoid": ("sigmoid", "torch"),
    "sum": ("sum", None),
    "max": ("max", None),
    "amax": ("max", None),
    "detach": ("identity", None),
}

# Ops whose call can start a finding; the text prefilter keys on these words.
TRIGGER_OPS = frozenset({"log", "exp"})


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
}


# Modules that re-export the *whole* namespace of another, so a fix may spell any of the
# other's functions through them. ``keras.src.ops.core`` holds only part of ``keras.ops``
# (no softplus): reading through it is fine, writing through it is not.
SPELLING_ALIASES: dict[str, str] = {"keras.src.ops": "keras.ops", "tensorflow.compat.v2": "tensorflow"}

# Packages whose submodules are not guaranteed loaded by importing the package (or a
# sibling): a fix that reaches ``scipy.special`` through ``import scipy.signal`` imports it.
IMPORT_SUBMODULES_OF = frozenset({"scipy"})


def canonical_name(qualified_name: str) -> str:
    module, _, name = qualified_name.rpartition(".")
    canonical_module = MODULE_ALIASES.get(module)
    return f"{canonical_module}.{name}" if canonical_module else qualified_name


def function_op(qualified_name: str) -> tuple[str, str] | None:
    return _FUNCTIONS.get(qualified_name) or _FUNCTIONS.get(canonical_name(qualified_name))


def names_of_op(op: str) -> list[str]:
    return [name for name, (known_op, _) in _FUNCTIONS.items() if known_op == op]


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
