"""Assignments a fix leaves behind with no use: ``probs = F.softmax(z, -1)`` once
``torch.log(probs)`` became ``F.log_softmax(z, -1)``.

A fix through a name copies the definition's value to the use; when that was the name's
last use, the assignment is dead code (pyflakes and ruff then report it). It is removed
when its right-hand side does nothing but compute the value: names, constants,
arithmetic, and calls of the frameworks' own functions and tensor methods. An assignment
whose right-hand side may do more (a call of the code's own function, an in-place
method, a random draw that advances a generator) stays; the fix says so
(``effect_free``'s callers).

Only function bodies are looked at: a module-level name may be imported elsewhere. The
one exception is a framework's import at the top of the module whose last use a fix
removed (``import torch`` once ``torch.log(p)`` became ``F.log_softmax(z)``), in a module
without ``__all__``: importing the framework again elsewhere is all it did.
"""

from __future__ import annotations

import ast
import collections

from stablelint import frameworks
from stablelint.ir import ImportTable

FRAMEWORK_ROOTS = frozenset({"torch", "numpy", "scipy", "jax", "tensorflow", "keras", "flax", "optax", "math"})
# Calls that draw random numbers advance a generator: removing one changes later draws.
_RANDOM_WORDS = ("rand", "normal", "uniform", "bernoulli", "multinomial", "shuffle", "permutation", "dropout",
                 "choice", "poisson", "sample")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef)


def effect_free(value: ast.expr, imports: ImportTable) -> bool:
    """Does evaluating ``value`` do nothing but compute it?"""
    for node in ast.walk(value):
        if isinstance(node, (ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom, ast.Lambda)):
            return False
        if isinstance(node, ast.Call) and not _effect_free_call(node, imports):
            return False
    return True


def _effect_free_call(call: ast.Call, imports: ImportTable) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name is None or name.endswith("_") or any(word in name.lower() for word in _RANDOM_WORDS):
        return False  # ``x.add_(1)``, ``torch.randn(3)``, ``fns[0](x)``
    qualified = imports.qualified_name(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
    if qualified is not None:
        return qualified.split(".")[0] in FRAMEWORK_ROOTS
    # A method of a tensor that computes a known op (``z.softmax(-1)``, ``x.exp()``).
    return isinstance(func, ast.Attribute) and name in frameworks.METHODS


def _scope_key(stack: list[ast.AST]) -> tuple:
    return tuple((type(node).__name__, node.name) for node in stack)


def _functions(tree: ast.Module) -> dict[tuple, ast.AST]:
    """Every function by its path of enclosing class and function names (first one wins)."""
    found: dict[tuple, ast.AST] = {}

    def visit(node: ast.AST, stack: list[ast.AST]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (*_SCOPES, ast.ClassDef)):
                path = stack + [child]
                if isinstance(child, _SCOPES):
                    found.setdefault(_scope_key(path), child)
                visit(child, path)
            else:
                visit(child, stack)

    visit(tree, [])
    return found


def _loads(function: ast.AST) -> collections.Counter:
    """How often each name is read in the function, nested scopes included (a closure
    reads it too), and the names declared global or nonlocal there (never removed)."""
    counts: collections.Counter = collections.Counter()
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store):
            counts[node.id] += 1
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                counts[name] += 1_000_000
    return counts


def _simple_assignments(body: list[ast.stmt]):
    """(statement, name, value, the block it stands in) of ``name = value`` and
    ``name: T = value``, in every block of a function but not in nested scopes."""
    for statement in body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(
            statement.targets[0], ast.Name
        ):
            yield statement, statement.targets[0].id, statement.value, body
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value:
            yield statement, statement.target.id, statement.value, body
        if isinstance(statement, (*_SCOPES, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            block = getattr(statement, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield from _simple_assignments(block)
        for handler in getattr(statement, "handlers", ()):
            yield from _simple_assignments(handler.body)
        for case in getattr(statement, "cases", ()):
            yield from _simple_assignments(case.body)


def _line_span(source: str, lines: list[int], statement: ast.stmt) -> tuple[int, int] | None:
    """Offsets of the whole lines the statement fills, when nothing else stands on them
    (no ``;``, no comment); else None."""
    start = lines[statement.lineno - 1]
    end = lines[statement.end_lineno - 1] + statement.end_col_offset
    before = source[start:start + statement.col_offset]
    line_end = source.find("\n", end)
    line_end = len(source) if line_end == -1 else line_end + 1
    after = source[end:line_end]
    if before.strip() or after.strip():
        return None
    text = source[start:end]
    if "#" in text and any(token == "#" for token in _comment_marks(text)):
        return None
    return start, line_end


def _comment_marks(text: str) -> list[str]:
    import io
    import tokenize

    try:
        return ["#" for token in tokenize.generate_tokens(io.StringIO(text).readline) if token.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):
        return ["#"]


def _line_starts(source: str) -> list[int]:
    starts = [0]
    for index, character in enumerate(source):
        if character == "\n":
            starts.append(index + 1)
    return starts


def remove_dead_assignments(before: str, after: str) -> str:
    """``after`` (``before`` with fixes applied) without the dead code the fixes left
    (``dead_code_edits``)."""
    for start, end, content in sorted(dead_code_edits(before, after), reverse=True):
        after = after[:start] + content + after[end:]
    return after


def dead_code_edits(before: str, after: str) -> list[tuple[int, int, str]]:
    """Edits of ``after`` (``before`` with fixes applied), as (start, end, new text): the
    deletion of each assignment in a function body whose name was read in ``before`` and
    is read no more, when its right-hand side is effect-free, repeated until none is left
    (``q = p`` dead makes ``p = ...`` dead); then the framework imports, or the names of
    one, that are no longer read."""
    try:
        old_tree = ast.parse(before)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    old_loads = {key: _loads(function) for key, function in _functions(old_tree).items()}
    deleted: list[tuple[int, int]] = []  # spans of ``after``, sorted
    text = after
    while True:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return []
        imports = ImportTable.from_tree(tree)
        lines = _line_starts(text)
        spans = set()
        for key, function in _functions(tree).items():
            was_read = old_loads.get(key)
            if was_read is None:
                continue
            reads = _loads(function)
            for statement, name, value, block in _simple_assignments(function.body):
                if reads[name] or not was_read[name] or len(block) < 2 or not effect_free(value, imports):
                    continue
                span = _line_span(text, lines, statement)
                if span is not None:
                    spans.add(span)
        if not spans:
            break
        for start, end in sorted(spans, reverse=True):
            text = text[:start] + text[end:]
        found = [(_in_original(deleted, start), end - start) for start, end in spans]
        deleted = sorted([*deleted, *((start, start + length) for start, length in found)])
    edits = [(start, end, "") for start, end in deleted]
    for start, end, content in _dead_framework_imports(tree, text, lines, old_tree):
        original = _in_original(deleted, start)
        edits.append((original, original + end - start, content))
    return sorted(edits)


def _in_original(deleted: list[tuple[int, int]], position: int) -> int:
    """Where ``position`` of the text with ``deleted`` removed lies in the text before."""
    for start, end in deleted:
        if start <= position:
            position += end - start
        else:
            break
    return position


def _module_loads(tree: ast.Module) -> collections.Counter:
    return collections.Counter(
        node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store)
    )


def _defines_all(tree: ast.Module) -> bool:
    return any(
        isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign))
        and any(isinstance(target, ast.Name) and target.id == "__all__"
                for target in getattr(node, "targets", [getattr(node, "target", None)]))
        for node in tree.body
    )


def _dead_framework_imports(tree: ast.Module, source: str, lines: list[int], old_tree: ast.Module):
    """Edits (start, end, new text) of the top-level framework imports (``import torch``,
    ``from scipy.special import expit, log_expit``) some of whose names were read before the
    fixes and are read no more: the statement goes, or keeps only its names still read
    (when it stands on one line)."""
    if _defines_all(tree):
        return []
    reads, was_read = _module_loads(tree), _module_loads(old_tree)
    edits = []
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            modules = [alias.name for alias in statement.names]
            bound = [alias.asname or alias.name.split(".")[0] for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            modules = [statement.module]
            bound = [alias.asname or alias.name for alias in statement.names]
        else:
            continue
        if not all(module.split(".")[0] in FRAMEWORK_ROOTS for module in modules) or "*" in bound:
            continue
        dead = [was_read[name] > 0 and not reads[name] for name in bound]
        if not any(dead):
            continue
        span = _line_span(source, lines, statement)
        if span is None:
            continue
        if all(dead):
            edits.append((*span, ""))
        elif statement.lineno == statement.end_lineno:
            kept = [alias for alias, gone in zip(statement.names, dead) if not gone]
            names = ", ".join(alias.name + (f" as {alias.asname}" if alias.asname else "") for alias in kept)
            prefix = "import" if isinstance(statement, ast.Import) else f"from {statement.module} import"
            start = lines[statement.lineno - 1] + statement.col_offset
            end = lines[statement.end_lineno - 1] + statement.end_col_offset
            edits.append((start, end, f"{prefix} {names}"))
    return edits
