"""Learned outputs: values a trained layer computes, which training can move anywhere.

The output of an affine layer (``nn.Linear``, ``Dense``, a convolution, ``tf.layers.dense``
without an activation) or of a matmul with a trainable weight (``tf.matmul(h, W) + b`` with
``W = tf.Variable(...)``) is not only unbounded in principle: it is the value gradient descent
adjusts, with nothing in the code to keep it within a range. ``learned_output`` finds that
output under the operations that keep a value unbounded above and below — a scale by a
non-zero constant, a shift by a constant or a bias, a negation, taking elements — and
answers None for anything else (a clamp, an activation, a product of two unknowns, a
reduction), so that a finding resting on it rests on the layer itself.
"""

from __future__ import annotations

from stablelint.analysis import values as v
from stablelint.analysis.magnitudes import of_parameters_only
from stablelint.analysis.values import Value

# Where the output of a layer is the output of a matmul with a trainable weight.
_MATMUL = "matmul"


def learned_output(value: Value, depth: int = 0) -> Value | None:
    """The layer output that ``value`` is an affine image of (``0.5 * fc(h)``,
    ``-conv(x)[:, :k]``, ``h @ W + b``), or None."""
    if depth > 12:
        return None
    kind = value.kind
    if kind == v.LINEAR:
        return value
    if kind == _MATMUL and any(operand.kind == v.WEIGHT for operand in value.operands):
        if of_parameters_only(value):
            return None  # ``w.T @ u`` of two weights: no data flows in (``analysis.magnitudes``)
        return value
    operands = value.operands
    if kind in (v.NEG, v.INDEX) and operands:
        return learned_output(operands[0], depth + 1)
    if kind in (v.ADD, v.SUB) and len(operands) == 2:
        for term, shift in (operands, reversed(operands)):
            if shift.kind in (v.CONST, v.WEIGHT):
                found = learned_output(term, depth + 1)
                if found is not None:
                    return found
        return None
    if kind == v.MUL and len(operands) == 2:
        for factor, scale in (operands, reversed(operands)):
            if scale.kind == v.CONST and scale.const:
                found = learned_output(factor, depth + 1)
                if found is not None:
                    return found
        return None
    if kind == v.DIV and len(operands) == 2 and operands[1].kind == v.CONST and operands[1].const:
        return learned_output(operands[0], depth + 1)
    return None


def trained_weight(value: Value, depth: int = 0) -> Value | None:
    """The trainable weight (``nn.Parameter``, ``tf.Variable``) that ``value`` is, through
    casts, device moves and selections of its elements (``self.weight.double()``), or None."""
    if depth > 8:
        return None
    if value.kind == v.WEIGHT:
        return value
    if value.kind in (v.INDEX, "identity") and value.operands:
        return trained_weight(value.operands[0], depth + 1)
    return None
