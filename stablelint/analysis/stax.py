"""JAX stax networks: what ``apply_fun(params, x)`` of ``init_fun, apply_fun = stax.serial(...)``
computes.

A stax layer is a pair ``(init_fun, apply_fun)``: ``stax.Dense(n)`` and the convolutions
apply an affine map of trained weights (their output spans all of R, as an ``nn.Linear``'s
does), ``stax.Relu``, ``stax.Softmax`` ... are elementwise activations, ``stax.serial`` chains
layers (its output is the last one's) and ``stax.parallel`` applies one layer to each element
of its input (its output is the tuple of theirs). A pair is a ``TUPLE`` value (the init
function unknown, the apply function a ``MODULE`` whose call computes the layer's output), so
``init, apply = stax.serial(...)``, ``self.encoder_init, self.encoder = ...`` and the call
``apply(params, x)`` are followed as any tuple and module object are. Anything else (a
layer the table does not know, a network ending in a starred list of layers, ``FanOut``,
``BatchNorm``) is unknown.
"""

from __future__ import annotations

from stablelint.analysis import values as v
from stablelint.analysis.values import ModuleSpec, Value

MODULES = ("jax.example_libraries.stax", "jax.experimental.stax")

# Layers built by a call, whose output is an affine map of trained weights.
_AFFINE = frozenset({"Dense", "Conv", "ConvTranspose", "Conv1DTranspose", "GeneralConv", "GeneralConvTranspose"})
# Layers that are values (``stax.Relu``, not called): the op each applies elementwise.
_ACTIVATIONS = {
    "Relu": "relu", "Sigmoid": "sigmoid", "Softmax": "softmax", "LogSoftmax": "log_softmax",
    "Softplus": "softplus", "Tanh": "tanh", "Elu": "elu", "Exp": "exp", "Gelu": "gelu",
}
# A tuple whose length is not all known (``stax.parallel(a, b, *more)``): elements counted
# from the end are unknown.
OPEN = "open"


def layer_name(qualified: str) -> str | None:
    """``Dense`` for ``jax.example_libraries.stax.Dense``; None outside stax."""
    module, _, name = qualified.rpartition(".")
    return name if module in MODULES else None


def _pair(output: Value, description: str, line: int) -> Value:
    if len(description) > 64:
        description = description[:61] + "..."
    spec = ModuleSpec(output.kind, "jax", description, line, result=output)
    return Value(v.TUPLE, "jax", (Value(v.UNKNOWN), Value(v.MODULE, "jax", detail=spec)))


def activation(name: str, line: int) -> Value | None:
    """The pair ``stax.<name>`` is, for an activation layer written as a value."""
    kind = _ACTIVATIONS.get(name)
    if kind is None:
        return None
    return _pair(Value(kind, "jax", (Value(v.UNKNOWN),), local=False), f"stax.{name}", line)


def output_of(layer: Value) -> Value | None:
    """What the apply function of the pair ``layer`` computes, or None."""
    if layer.kind != v.TUPLE or len(layer.operands) != 2:
        return None
    apply = layer.operands[1]
    if apply.kind != v.MODULE or not isinstance(apply.detail, ModuleSpec) or apply.detail.framework != "jax":
        return None
    return apply.detail.result


def built(name: str, layers: list[Value | None], line: int) -> Value | None:
    """The pair ``stax.<name>(...)`` builds, given its arguments' values (None: a starred
    argument), or None when it is not known."""
    if name in _AFFINE:
        return _pair(Value(v.LINEAR, "jax", local=False), f"stax.{name}", line)
    if name == "serial":
        if not layers or layers[-1] is None:
            return None
        output = output_of(layers[-1])
        if output is None:
            return None
        return _pair(output, f"stax.serial(..., {layers[-1].operands[1].detail.description})", line)
    if name == "parallel":
        outputs = []
        for layer in layers:
            if layer is None:
                break  # ``*more``: the elements after it are not known, nor how many
            output = output_of(layer)
            if output is None:
                return None
            outputs.append(output)
        if not outputs:
            return None
        whole = Value(v.TUPLE, "jax", tuple(outputs), local=False,
                      detail=OPEN if len(outputs) < len(layers) else None)
        branches = ", ".join(layer.operands[1].detail.description for layer in layers if layer is not None)
        return _pair(whole, f"stax.parallel({branches})", line)
    return None
