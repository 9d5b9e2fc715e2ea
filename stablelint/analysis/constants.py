"""Arrays written out as literals: ``torch.tensor([1.0, 2.0, 3.0])``, ``np.array([[0, 1], [1, 0]])``,
``tf.constant([0.5, -0.5])``. Their values are known exactly, so their range is too: the
softmax of constant logits has no zero, the norm of a constant non-zero vector is not 0.
"""

from __future__ import annotations

import ast

from stablelint.analysis import intervals as iv

# Calls that build an array from the literal they are given (first argument).
ARRAY_BUILDERS = frozenset({"tensor", "array", "asarray", "as_tensor", "constant", "Tensor", "FloatTensor",
                            "DoubleTensor", "convert_to_tensor"})
_MAX_ELEMENTS = 4096


def literal_numbers(expr: ast.expr) -> list[float] | None:
    """The numbers of a (nested) list or tuple literal of numbers, or None."""
    numbers: list[float] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.List, ast.Tuple)):
            stack.extend(node.elts)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _is_number(node.operand):
            numbers.append(-float(node.operand.value))
        elif _is_number(node):
            numbers.append(float(node.value))
        else:
            return None
        if len(numbers) > _MAX_ELEMENTS:
            return None
    return numbers or None


def _number_node(node: ast.AST) -> ast.Constant:
    return node.operand if isinstance(node, ast.UnaryOp) else node


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def literal_range(call: ast.Call) -> tuple[iv.Interval, bool] | None:
    """The range of an array built from a literal (``torch.tensor(1e-7)`` too), and whether
    it holds whole numbers only."""
    if not call.args:
        return None
    argument = call.args[0]
    if _is_number(argument) or isinstance(argument, ast.UnaryOp) and _is_number(argument.operand):
        number = literal_numbers(ast.List([argument], ast.Load()))
        return (iv.point(number[0]), isinstance(_number_node(argument).value, int)) if number else None
    if not isinstance(argument, (ast.List, ast.Tuple)):
        return None
    numbers = literal_numbers(call.args[0])
    if numbers is None:
        return None
    whole = all(isinstance(node.value, int) for node in ast.walk(call.args[0]) if isinstance(node, ast.Constant))
    return iv.Interval(min(numbers), max(numbers)), whole


def largest_magnitude_of_vector(call: ast.AST | None) -> float | None:
    """max |x| of a one-dimensional literal array (the norm of the whole vector is at least
    that), or None for anything else."""
    if not isinstance(call, ast.Call) or not call.args or not isinstance(call.args[0], (ast.List, ast.Tuple)):
        return None
    if any(isinstance(element, (ast.List, ast.Tuple)) for element in call.args[0].elts):
        return None
    numbers = literal_numbers(call.args[0])
    return max(abs(number) for number in numbers) if numbers else None


def exact_vector(value, depth: int = 0) -> list[float] | None:
    """The elements of a one-dimensional array known exactly: a literal (``np.array([0, 1])``)
    or elementwise sums, differences, negations and products of literals and numbers
    (``ab = b - a``, the direction between two literal points), or None."""
    from stablelint.analysis import values as v

    if depth > 8:
        return None
    if value.kind == v.RANGED:
        numbers = largest_magnitude_of_vector(value.node) is not None and literal_numbers(value.node.args[0])
        return list(numbers) if numbers else None
    if value.kind == v.NEG and len(value.operands) == 1:
        inner = exact_vector(value.operand(), depth + 1)
        return [-x for x in inner] if inner is not None else None
    if value.kind in (v.ADD, v.SUB, v.MUL) and len(value.operands) == 2:
        sides = []
        for operand in value.operands:
            if operand.kind == v.CONST and operand.const is not None:
                sides.append(operand.const)
            else:
                sides.append(exact_vector(operand, depth + 1))
        if any(side is None for side in sides) or not any(isinstance(side, list) for side in sides):
            return None
        length = max(len(side) for side in sides if isinstance(side, list))
        columns = [side if isinstance(side, list) else [side] * length for side in sides]
        if any(len(column) != length for column in columns):
            return None  # broadcasting of other shapes: no claim
        combine = {v.ADD: lambda a, b: a + b, v.SUB: lambda a, b: a - b, v.MUL: lambda a, b: a * b}[value.kind]
        return [combine(a, b) for a, b in zip(*columns)]
    return None


def is_literal(value) -> bool:
    """An array the code writes out number by number (``np.array([1, 0, 0])``), reached through
    reshapes and casts: its zeros are written on purpose (a one-hot prior, a test of -inf)."""
    from stablelint.analysis import values as v

    for _ in range(4):
        if value.kind != v.INDEX or not value.operands:
            break
        value = value.operand()
    call = value.node
    if value.kind != v.RANGED or not isinstance(call, ast.Call) or not call.args:
        return False
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    return name in ARRAY_BUILDERS
