"""Exact zeros: where the code can compute a vector that is exactly 0.

A hand-written norm ``sqrt(sum(x ** 2))`` has a NaN gradient only at the zero vector, and a
quotient by a norm is 0 / 0 only there. A vector of continuous values is exactly zero only
by construction, so the witness ``x = 0`` is an input code plausibly computes only where
its provenance says how it gets there:

- a difference of two values that can coincide (``a - b``: two embeddings of the same item,
  an atom and itself, an orthogonality error that has converged);
- a gradient (``torch.autograd.grad``, ``tape.gradient``, ``jax.grad``, a name that says it
  holds one): 0 wherever the function is flat;
- the output of a ReLU (every unit inactive), a mask multiplied in (``x * mask``, a
  comparison), ``zeros``, a ``where`` with a zero branch;
- a layer (Linear, Dense, conv, a matmul) whose input can be exactly zero: it gives its
  bias, which many initialisations set to 0.

Anything else is not claimed: the continuous output of a trained layer or an embedding
(no ReLU, mask or padding in between), a random draw, a parameter nobody constrains — unknown
is not a hazard. ``zero_vector_reason`` says how a value can be the zero vector, or None.
"""

from __future__ import annotations

import ast
import re

from stablelint.analysis import values as v
from stablelint.analysis.values import Value
from stablelint.ir import identifier_of

# Calls whose result is a gradient: torch.autograd.grad, tape.gradient, tf.gradients, jax.grad(f)(x).
_GRADIENT_CALLS = frozenset({"grad", "gradient", "gradients", "vjp", "jacobian"})
# Names of gradients (matched on the lowercased name): grad, grads, gradient, x_grad, grad_norm_input …
_GRADIENT_NAME = re.compile(r"(?:\w*_)?(?:grad|grads|gradient|gradients)(?:_\w*)?|grad[a-z0-9]+")
_MASK_NAME = re.compile(r"(?:\w*_)?masks?(?:_\w*)?")
# Ops whose output is 0 wherever their input is not positive.
_RECTIFIERS = frozenset({"relu", "relu6"})
# Ops under which a zero vector stays one (elementwise of 0 is 0, a selection, a reduction, a cast).
_KEEPING_ZERO = frozenset({
    v.INDEX, v.NEG, "identity", "sum", "mean", "cumsum", "abs", "square", "sqrt", "tanh", "sin", "sinh", "atan",
    "clamp", "max", "min", "leaky_relu", "elu", "gelu", "silu", "pad",
})
_LAYERS = frozenset({v.LINEAR, "matmul", "dot"})


def zero_vector_reason(value: Value | None, written: ast.AST | None = None, depth: int = 0) -> str | None:
    """How ``value`` (written as ``written`` at the use) can be exactly the zero vector, in a
    phrase, or None when the code gives no way (module doc)."""
    if value is None or depth > 12:
        return None
    named = _named_reason(value, written)
    if named is not None:
        return named
    kind = value.kind
    node = value.node
    if kind == v.CONST:
        return "it is the constant 0" if value.const == 0 else None
    if kind == v.RANGED:
        interval = value.detail
        filled_with_zeros = getattr(interval, "lo", None) == 0 == getattr(interval, "hi", None)
        return "it is filled with zeros" if filled_with_zeros else None
    if isinstance(node, ast.Call) and _called_name(node) in _GRADIENT_CALLS and kind in (v.UNKNOWN, v.INDEX):
        return "it is a gradient, 0 where the function is flat"
    if isinstance(node, ast.Compare):
        return "it is a mask, 0 where the condition fails"
    if kind in _RECTIFIERS:
        return "it is a ReLU output, 0 where every unit is inactive"
    operands = value.operands
    if kind == v.SUB and len(operands) == 2:
        if all(operand.kind != v.CONST for operand in operands):
            return "it is a difference of two values that can coincide"
        return None
    if kind == v.MUL:
        return next((reason for reason in (zero_vector_reason(factor, None, depth + 1) for factor in operands)
                     if reason is not None), None)
    if kind == "where" and len(operands) == 2:
        return next((reason for reason in (zero_vector_reason(branch, None, depth + 1) for branch in operands)
                     if reason is not None), None)
    if kind == v.ADD and len(operands) == 2:
        reasons = [zero_vector_reason(term, None, depth + 1) for term in operands]
        return reasons[0] if all(reasons) else None
    if kind == v.DIV and operands:
        return zero_vector_reason(operands[0], None, depth + 1)
    if kind in _LAYERS:
        inner = next((reason for reason in (zero_vector_reason(operand, None, depth + 1) for operand in operands)
                      if reason is not None), None)
        return f"it is a layer's output of an input that can be 0 ({inner})" if inner is not None else None
    if kind in _KEEPING_ZERO and operands:
        return zero_vector_reason(operands[0], None, depth + 1)
    return None


def _named_reason(value: Value, written: ast.AST | None) -> str | None:
    """A gradient or a mask by its name: the names followed to ``value`` and those written at the use."""
    names = [name for name, _ in value.via] + [_name_of(value.node), _name_of(written)]
    for name in names:
        lowered = (name or "").lower()
        if not lowered:
            continue
        if _GRADIENT_NAME.fullmatch(lowered):
            return f"{name} holds a gradient, 0 where the function is flat"
        if _MASK_NAME.fullmatch(lowered):
            return f"{name} is masked, 0 where the mask is"
    return None


def _name_of(node: ast.AST | None) -> str:
    """The name a value is written as: ``grads``, ``self.grad_input``, ``mask[i]`` -> ``mask``."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return identifier_of(node) if isinstance(node, (ast.Name, ast.Attribute)) else ""


def _called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Call):  # jax.grad(f)(x)
        func = func.func
    return identifier_of(func) or ""
