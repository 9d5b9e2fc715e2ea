"""Which tensor library the code around an expression computes with.

A fix that calls NumPy on a value TensorFlow or JAX traces breaks under ``tf.function`` and
``jax.jit`` (a function may be traced later even where it is not decorated), and a fix in
Keras 3 code must stay in ``keras.ops`` to run on every backend. Where the value model does
not know an operand's library, the code around it says: the call it is an argument of
(``tf.cast(x == np.nan, ...)``), the function's tracing decorator (``@jax.jit``), or the one
tensor library the function's calls use.

Families: ``torch``, ``tf`` (TensorFlow), ``keras`` (Keras 3's ``keras.ops``), ``jax``,
``numpy``.
"""

from __future__ import annotations

import ast

from stablelint.ir import ImportTable

_FAMILY_OF_ROOT = {
    "tensorflow": "tf", "keras": "keras", "jax": "jax", "flax": "jax", "torch": "torch", "numpy": "numpy",
}
TENSOR_FAMILIES = frozenset({"torch", "tf", "keras", "jax"})
# Decorators that trace the function they decorate: NumPy cannot run on their values.
_TRACING = {"tensorflow.function": "tf", "jax.jit": "jax", "jax.vmap": "jax", "jax.grad": "jax",
            "jax.value_and_grad": "jax", "jax.pmap": "jax", "flax.linen.jit": "jax", "jax.checkpoint": "jax"}


def family_of(qualified_name: str | None) -> str | None:
    """``tensorflow.cast`` -> tf, ``keras.ops.where`` -> keras, ``jax.numpy.where`` -> jax."""
    if not qualified_name:
        return None
    if qualified_name.startswith(("tensorflow.keras.", "tf_keras.")):
        return "keras"
    return _FAMILY_OF_ROOT.get(qualified_name.split(".")[0])


def _parents(scope: ast.AST) -> dict[int, ast.AST]:
    return {id(child): parent for parent in ast.walk(scope) for child in ast.iter_child_nodes(parent)}


def surrounding_family(scope: ast.AST, node: ast.AST, imports: ImportTable) -> str | None:
    """The tensor library of the nearest enclosing call of a library function that ``node``
    feeds (through operators, comparisons and other calls), None if there is none."""
    parents = _parents(scope)
    current = parents.get(id(node))
    while current is not None and not isinstance(current, ast.stmt):
        if isinstance(current, ast.Call):
            family = family_of(imports.qualified_name(current.func))
            if family in TENSOR_FAMILIES:
                return family
        current = parents.get(id(current))
    return None


def tracing_family(function: ast.AST | None, imports: ImportTable) -> str | None:
    """``tf`` under ``@tf.function``, ``jax`` under ``@jax.jit`` (also called, or through
    ``functools.partial(jax.jit, ...)``)."""
    for decorator in getattr(function, "decorator_list", ()):
        target = decorator
        if isinstance(target, ast.Call):
            name = imports.qualified_name(target.func)
            target = target.args[0] if name == "functools.partial" and target.args else target.func
        family = _TRACING.get(imports.qualified_name(target) or "")
        if family is not None:
            return family
    return None


def families_called(scope: ast.AST, imports: ImportTable) -> set[str]:
    """The libraries whose functions the scope calls (its nested functions included)."""
    found = set()
    for node in ast.walk(scope):
        if isinstance(node, ast.Call):
            family = family_of(imports.qualified_name(node.func))
            if family is not None:
                found.add(family)
    return found


def tensor_family_around(scope: ast.AST, function: ast.AST | None, node: ast.AST, imports: ImportTable) -> str | None:
    """The tensor library the code around ``node`` computes with, or None where it shows
    none (NumPy code, or plain Python) or more than one."""
    family = surrounding_family(scope, node, imports) or tracing_family(function, imports)
    if family is not None:
        return family
    tensors = families_called(function, imports) & TENSOR_FAMILIES if function is not None else set()
    return tensors.pop() if len(tensors) == 1 else None
