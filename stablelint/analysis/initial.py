"""Initial values: what a trained tensor holds where nothing can have trained it yet.

A tensor made to be trained (``W = torch.zeros((2, 1), requires_grad=True)``) has no range:
an optimizer may move it anywhere. But training needs the tensor: it is handed to an
optimizer, a function or a method, or changed in place, and each of those mentions its
name. A read that follows its binding in the same block, with no statement in between
that mentions the name, sees the value it was made with — a demo's
``1 / (1 + exp(-(x @ W + b)))`` on zero-initialised ``W`` and ``b`` is exactly 0.5.

The test is syntactic and conservative: the binding must be a plain ``name = call(...)``,
the read must sit in a later statement of the same block (not inside a function or a class
defined there, which may run at any later time, nor inside a loop, whose next round follows
what its body does), and nothing in between may mention the name at all.
"""

from __future__ import annotations

import ast

from stablelint.analysis.conditions import path_to

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def asks_for_gradient(call: ast.Call) -> bool:
    """``requires_grad=True`` among the call's keywords."""
    return any(
        keyword.arg == "requires_grad" and isinstance(keyword.value, ast.Constant) and keyword.value.value is True
        for keyword in call.keywords
    )


def read_before_any_use(root: ast.AST, made: ast.Call, read: ast.Name) -> bool:
    """Is ``read`` (a load of the name bound to ``made``) in a later statement of the block
    that binds it, with no statement between them that mentions the name?"""
    made_path = path_to(root, made)
    read_path = path_to(root, read)
    if made_path is None or read_path is None or len(made_path) < 2:
        return False
    binding = made_path[-2]
    if not (isinstance(binding, ast.Assign) and binding.value is made and len(binding.targets) == 1
            and isinstance(binding.targets[0], ast.Name) and binding.targets[0].id == read.id):
        return False
    block = _block_holding(made_path[-3] if len(made_path) >= 3 else None, binding)
    if block is None:
        return False
    # The statement of the read in the same block: walk up from the read, never leaving a
    # function, lambda or class (their bodies run later, when called) nor a loop (its next
    # round runs after whatever its body does to the name).
    for index in range(len(read_path) - 2, -1, -1):
        node = read_path[index]
        if isinstance(node, _SCOPES + _LOOPS):
            return False
        if isinstance(node, ast.stmt) and any(node is statement for statement in block):
            first = next(i for i, statement in enumerate(block) if statement is binding)
            last = next(i for i, statement in enumerate(block) if statement is node)
            if last <= first:
                return False
            return not any(_mentions(statement, read.id) for statement in block[first + 1:last])
    return False


def _block_holding(parent: ast.AST | None, statement: ast.stmt) -> list[ast.stmt] | None:
    """The statement list of ``parent`` (a body, an orelse, a handler's body) holding ``statement``."""
    if parent is None:
        return None
    for field in ("body", "orelse", "finalbody"):
        block = getattr(parent, field, None)
        if isinstance(block, list) and any(item is statement for item in block):
            return block
    return None


def _mentions(statement: ast.stmt, name: str) -> bool:
    return any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(statement))
