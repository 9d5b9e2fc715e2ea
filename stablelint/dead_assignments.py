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
import bisect
import collections
import functools

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
        spans = _dead_assignment_spans(text, lines, _functions(tree), old_loads.get, lambda: imports)
        if not spans:
            break
        text, deleted = _cut(text, spans, deleted)
    edits = [(start, end, "") for start, end in deleted]
    for start, end, content in _dead_framework_imports(tree, text, lines, old_tree):
        original = _in_original(deleted, start)
        edits.append((original, original + end - start, content))
    return sorted(edits)


def fix_dead_code_edits(before: str, after: str, edits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """``dead_code_edits(before, after)`` when ``after`` is ``before`` with ``edits``
    (start, end, new text; sorted, not overlapping) applied: one fix's. When they all lie in
    one top-level statement, only that statement is parsed again; the rest of the file is
    read from an index of ``before`` built once for all its fixes, so a report of n fixes
    costs n times the statement, not n times the file."""
    original = _original(before)
    if original is None:
        return []  # ``before`` does not parse
    index = original.statement_holding(edits)
    if index is None:
        return dead_code_edits(before, after)
    if original.nothing_turns_unread(index, edits, after, len(after) - len(before)):
        return []
    found = _dead_code_edits_in_statement(original, index, after, len(after) - len(before))
    return dead_code_edits(before, after) if found is None else found


class _Original:
    """What ``dead_code_edits`` reads of the text before the fixes, once per text."""

    def __init__(self, source: str, tree: ast.Module) -> None:
        self.source = source
        self.tree = tree
        self.functions = _functions(tree)
        self._loads: dict[tuple, collections.Counter] = {}
        self._loads_by_function: dict[int, collections.Counter] = {}
        self._block_starts: dict[int, list[int]] = {}
        self.module_loads = _module_loads(tree)
        self.defines_all = _defines_all(tree)
        self.lines = _line_starts(source)
        self.imports = ImportTable.from_tree(tree)
        # Offsets of each top-level statement's whole lines, decorators included.
        self.starts: list[int] = []
        self.ends: list[int] = []
        for statement in tree.body:
            decorators = getattr(statement, "decorator_list", ())
            first = min([statement.lineno, *(decorator.lineno for decorator in decorators)])
            line_end = source.find("\n", self.lines[statement.end_lineno - 1] + statement.end_col_offset)
            self.starts.append(self.lines[first - 1])
            self.ends.append(len(source) if line_end == -1 else line_end + 1)

    def nothing_turns_unread(self, index: int, edits: list[tuple[int, int, str]], after: str, growth: int) -> bool:
        """Is no name that a function around the edits, or the module, read before read no
        more after them? Then nothing turns dead. Told from the one simple statement that
        holds the edits, parsed again alone; False when there is none."""
        first, last = min(start for start, _, _ in edits), max(end for _, end, _ in edits)
        statement, functions = self.tree.body[index], []
        while True:
            if isinstance(statement, _SCOPES):
                functions.append(statement)
            blocks = _blocks(statement)
            if not blocks:
                break
            statement = self._statement_at(blocks, first, last)
            if statement is None:
                return False  # in a header (a condition, a decorator): a statement list is not enough
        start, end = self._offsets(statement)
        if first < start or last > end:
            return False
        try:
            edited = ast.parse(after[start:end + growth])
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
        change = collections.Counter()
        for tree, sign in ((statement, -1), (edited, 1)):
            for node in ast.walk(tree):
                if isinstance(node, (*_SCOPES, ast.ClassDef, ast.Lambda, ast.Global, ast.Nonlocal)):
                    return False
                if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store):
                    change[node.id] += sign
        fewer = {name: count for name, count in change.items() if count < 0}
        if not fewer:
            return True
        counts = [self.module_loads, *(self._function_loads(function) for function in functions)]
        return all(count[name] + less > 0 for name, less in fewer.items() for count in counts)

    def _offsets(self, statement: ast.stmt) -> tuple[int, int]:
        return (self.lines[statement.lineno - 1] + statement.col_offset,
                self.lines[statement.end_lineno - 1] + statement.end_col_offset)

    def _statement_at(self, blocks: list[list[ast.stmt]], first: int, last: int) -> ast.stmt | None:
        for block in blocks:
            starts = self._block_starts.get(id(block))
            if starts is None:
                starts = self._block_starts[id(block)] = [self._offsets(statement)[0] for statement in block]
            position = bisect.bisect_right(starts, first) - 1
            if position >= 0 and self._offsets(block[position])[1] >= last:
                return block[position]
        return None

    def _function_loads(self, function: ast.AST) -> collections.Counter:
        if id(function) not in self._loads_by_function:
            self._loads_by_function[id(function)] = _loads(function)
        return self._loads_by_function[id(function)]

    def loads(self, key: tuple) -> collections.Counter:
        if key not in self._loads:
            self._loads[key] = _loads(self.functions[key])
        return self._loads[key]

    def statement_holding(self, edits: list[tuple[int, int, str]]) -> int | None:
        """The index of the top-level statement whose lines hold all the edits, when it
        shares no line with another statement; else None."""
        if not edits:
            return None
        first, last = min(start for start, _, _ in edits), max(end for _, end, _ in edits)
        index = bisect.bisect_right(self.starts, first) - 1
        if index < 0 or last > self.ends[index] or first >= self.ends[index]:
            return None
        if index > 0 and self.ends[index - 1] > self.starts[index]:
            return None
        if index + 1 < len(self.starts) and self.ends[index] > self.starts[index + 1]:
            return None
        if self.source[self.starts[index]:self.starts[index] + 1].isspace():
            return None  # continues a line above: its lines do not parse alone
        return index


@functools.lru_cache(maxsize=4)
def _original(source: str) -> _Original | None:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return _Original(source, tree)


def _blocks(statement: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists of a compound statement, [] for a simple one."""
    blocks = [getattr(statement, field, None) for field in ("body", "orelse", "finalbody")]
    blocks += [handler.body for handler in getattr(statement, "handlers", ())]
    blocks += [case.body for case in getattr(statement, "cases", ())]
    return [block for block in blocks if isinstance(block, list) and block and isinstance(block[0], ast.stmt)]


def _module_of(statement: ast.stmt) -> ast.Module:
    return ast.Module(body=[statement], type_ignores=[])


def _dead_assignment_spans(text: str, lines, functions, was_read_in, imports) -> set[tuple[int, int]]:
    """The line spans of ``text`` holding a simple assignment of one of ``functions`` whose name
    was read before (``was_read_in(key)``: the function's read counts in the original, None
    when it is not looked at) and is read no more, with an effect-free value; ``imports()``
    gives the import table that decides that, asked only when needed."""
    spans = set()
    for key, function in functions.items():
        was_read = was_read_in(key)
        if was_read is None:
            continue
        reads = _loads(function)
        for assignment, name, value, block in _simple_assignments(function.body):
            if reads[name] or not was_read[name] or len(block) < 2 or not effect_free(value, imports()):
                continue
            span = _line_span(text, lines, assignment)
            if span is not None:
                spans.add(span)
    return spans


def _cut(text: str, spans, deleted: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """``text`` without ``spans``, and ``deleted`` (spans already cut, in the coordinates of the
    text before any cut, sorted) with them added in those coordinates."""
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + text[end:]
    found = [(_in_original(deleted, start), end - start) for start, end in spans]
    return text, sorted([*deleted, *((start, start + length) for start, length in found)])

def _import_free(statement: ast.stmt) -> bool:
    table = ImportTable.from_tree(_module_of(statement))
    return not table.names and not table.optional and not table._conflicting


def _dead_code_edits_in_statement(original: _Original, index: int, after: str, growth: int):
    """``dead_code_edits`` of a text that differs from ``original`` only inside its top-level
    statement ``index`` (and is ``growth`` characters longer); None when that cannot be told
    from the statement alone. Functions elsewhere read what they read before: none of their
    assignments turns dead."""
    old_statement = original.tree.body[index]
    if isinstance(old_statement, (ast.Import, ast.ImportFrom)) or _defines_all(_module_of(old_statement)):
        return None  # an import or ``__all__``: the module-level part of the analysis
    base, end = original.starts[index], original.ends[index] + growth
    old_functions = _functions(_module_of(old_statement))
    # A function is looked at under its path when it is the first of that path in the file.
    mine = {key for key, function in old_functions.items() if original.functions.get(key) is function}
    text = after[base:end]
    deleted: list[tuple[int, int]] = []  # spans of the statement's text in ``after``, sorted
    while True:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return []
        if len(tree.body) != 1 or isinstance(tree.body[0], (ast.Import, ast.ImportFrom)) or _defines_all(tree):
            return None
        functions = _functions(tree)
        if list(functions) != list(old_functions):
            return None
        statement = tree.body[0]
        spans = _dead_assignment_spans(
            text, _line_starts(text), functions, lambda key: original.loads(key) if key in mine else None,
            functools.cache(lambda: _imports_with(original, index, statement)),
        )
        if not spans:
            break
        text, deleted = _cut(text, spans, deleted)
    edits = [(base + start, base + stop, "") for start, stop in deleted]
    edits.extend(_dead_framework_imports_around(original, index, growth, old_statement, statement))
    return sorted(edits)


def _imports_with(original: _Original, index: int, statement: ast.stmt) -> ImportTable:
    """The import table of the file with its statement ``index`` replaced by ``statement``."""
    if _import_free(original.tree.body[index]) and _import_free(statement):
        return original.imports
    body = original.tree.body
    return ImportTable.from_tree(ast.Module(body=[*body[:index], statement, *body[index + 1:]], type_ignores=[]))


def _dead_framework_imports_around(original: _Original, index: int, growth: int, old_statement: ast.stmt,
                                   statement: ast.stmt):
    """``_dead_framework_imports`` of the file with its statement ``index`` (not an import)
    replaced by ``statement``, as edits of that file before the dead assignments go."""
    if original.defines_all:
        return []
    old_reads = _module_loads(_module_of(old_statement))
    new_reads = _module_loads(_module_of(statement))
    changed = {name for name in old_reads.keys() | new_reads.keys() if old_reads[name] != new_reads[name]}
    if not changed:
        return []
    was_read = original.module_loads
    reads = collections.Counter({name: was_read[name] - old_reads[name] + new_reads[name] for name in changed})
    edits = []
    for position, (start, end, content) in _dead_framework_imports_of(original, was_read, reads, changed):
        shift = growth if position > index else 0
        edits.append((start + shift, end + shift, content))
    return edits


def _dead_framework_imports_of(original: _Original, was_read, reads, changed: set[str]):
    body = original.tree.body
    for position, statement in enumerate(body):
        if not isinstance(statement, (ast.Import, ast.ImportFrom)):
            continue
        bound = [alias.asname or (alias.name.split(".")[0] if isinstance(statement, ast.Import) else alias.name)
                 for alias in statement.names]
        if not changed.intersection(bound):
            continue
        current = {name: reads[name] if name in changed else was_read[name] for name in bound}
        for edit in _dead_framework_imports(_module_of(statement), original.source,
                                            original.lines, None, was_read, current):
            yield position, edit


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


def _dead_framework_imports(tree: ast.Module, source: str, lines: list[int], old_tree: ast.Module | None,
                            was_read=None, reads=None):
    """Edits (start, end, new text) of the top-level framework imports (``import torch``,
    ``from scipy.special import expit, log_expit``) some of whose names were read before the
    fixes and are read no more: the statement goes, or keeps only its names still read
    (when it stands on one line). ``was_read`` and ``reads`` count the names read before and
    after, when the caller knows them (then ``old_tree`` is not read)."""
    if _defines_all(tree):
        return []
    if reads is None:
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
