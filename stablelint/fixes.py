"""Building and applying fixes.

A fix is a list of text edits on the original source plus the imports it needs (the
shape ruff uses).  Replacement text is spliced from the original source of the
sub-expressions it keeps, so their comments and formatting survive; only the rewritten
call itself is new.  Imports are added with libcst's ``AddImportsVisitor``; every result
is re-parsed before anyone sees it.
"""

from __future__ import annotations

import ast
import functools
from bisect import bisect_right, insort

from stablelint import frameworks
from stablelint.diagnostics import Edit, Fix, Import
from stablelint.ir import ImportTable, SourceIndex

# Expressions that can stand as a method receiver or after unary minus without parentheses.
ATOMS = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set)


def spell(
    qualified_name: str, imports: ImportTable, *, from_import: bool = False, shim_package: str | None = None
) -> tuple[str, tuple[Import, ...]]:
    """How this module can say ``qualified_name``, and the import it must add to say it.

    Uses an existing binding when there is one (``F.logsigmoid`` after
    ``import torch.nn.functional as F``); otherwise imports the module (``import
    scipy.special``) or, when the code at hand uses from-imports, the name itself.
    """
    best_local, best_module = None, ""
    # A shim's binding first: in autograd code `np.log1p` is autograd's, also where the file
    # imports NumPy itself under another name (the fix stays in the shim's namespace).
    bindings = sorted(imports.names.items(), key=lambda item: frameworks.shim_of(item[1]) is None)
    for local, bound in bindings:
        bound = frameworks.SPELLING_ALIASES.get(bound, bound)  # `from keras.src import ops`
        partial = frameworks.PARTIAL_SPELLING_ALIASES.get(bound)
        if partial is not None:
            # `import flax.linen as nn` re-exports some of jax.nn: spell those through it.
            target, names = partial
            rest = qualified_name[len(target) + 1:].split(".", 1)[0]
            if qualified_name.startswith(target + ".") and rest in names:
                bound = target
        if bound == qualified_name:
            return local, ()
        if qualified_name.startswith(bound + ".") and len(bound) > len(best_module):
            best_local, best_module = local, bound
    module, _, name = qualified_name.rpartition(".")
    if best_local is None:
        shimmed = _through_a_shim(qualified_name, imports, shim_package)
        if shimmed is not None:
            return shimmed
    if best_local is not None:
        spelled = best_local + qualified_name[len(best_module):]
        if module != best_module and module.split(".")[0] in frameworks.IMPORT_SUBMODULES_OF:
            return spelled, (Import(module),)
        return spelled, ()
    # One import style per module: a file that already says ``from scipy.special import
    # expit`` gets ``from scipy.special import log_expit``, never a second ``import``.
    from_imports_module = any(bound.rpartition(".")[0] == module for bound in imports.names.values())
    if (from_import or from_imports_module) and name not in imports.names:
        return name, (Import(module, name),)
    return qualified_name, (Import(module),)


def _through_a_shim(
    qualified_name: str, imports: ImportTable, package: str | None = None
) -> tuple[str, tuple[Import, ...]] | None:
    """``scipy.special.logsumexp`` in a file written against ``autograd.numpy``:
    ``autograd.scipy.special.logsumexp``, imported — the shim of the same package that has it.
    ``package``: the shim package the rewritten code was written with ("" for none)."""
    used = {bound.split(".")[0] for bound in imports.names.values() if frameworks.shim_of(bound) is not None}
    if package is not None:
        used &= {package}
    module, _, name = qualified_name.rpartition(".")
    for shim_module, shim in frameworks.SHIMS.items():
        if shim_module.split(".")[0] in used and shim.wraps == module and (shim.names is None or name in shim.names):
            return f"{shim_module}.{name}", (Import(shim_module),)
    return None


def imports_what_a_shim_stands_in_for(imports: ImportTable, added: tuple[Import, ...]) -> bool:
    """Would a fix import NumPy, SciPy or JAX into a file that reaches them through a shim?"""
    shimmed: set[str] = set()
    for bound in imports.names.values():
        if frameworks.shim_of(bound) is not None:
            shimmed |= frameworks.SHIMMED_PACKAGES.get(bound.split(".")[0], frozenset())
    return any(item.module.split(".")[0] in shimmed for item in added)


def operand(index: SourceIndex, node: ast.expr) -> str:
    """Source of ``node``, parenthesized when it is not an atom (``(a + b).log1p()``)."""
    text = index.text(node)
    return text if isinstance(node, ATOMS) else f"({text})"


def negated(index: SourceIndex, node: ast.expr) -> str:
    """Source of ``-node``; ``-x`` becomes ``x`` rather than ``--x``."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return index.text(node.operand) if isinstance(node.operand, ATOMS) else f"({index.text(node.operand)})"
    return f"-{operand(index, node)}"


def call_arguments(index: SourceIndex, call: ast.Call) -> str:
    """The parenthesized argument list of ``call`` exactly as written.

    It starts at the first ``(`` after the callee, which may itself be parenthesized:
    ``(F.softmax)(z, 1)``.
    """
    start = index.offset(call.func.end_lineno, call.func.end_col_offset)
    end = index.offset(call.end_lineno, call.end_col_offset)
    text = index.source[start:end]
    return text[text.index("("):]


def replace(index: SourceIndex, node: ast.AST, content: str) -> Edit:
    start, end = index.span(node)
    return Edit(start, end, content)


def apply_fixes(source: str, fixes: list[Fix]) -> tuple[str, list[Fix]]:
    """Apply fixes whose edits do not overlap an earlier fix's; returns (text, applied).

    O(n log n) in the number of fixes: each edit is checked against its neighbours among
    the spans already taken (kept sorted), never against all of them.
    """
    applied: list[Fix] = []
    taken = _TakenSpans()
    for fix in sorted(fixes, key=lambda fix: min(edit.start for edit in fix.edits)):
        spans = [(edit.start, edit.end) for edit in fix.edits]
        if any(taken.overlaps(start, end) for start, end in spans):
            continue
        applied.append(fix)
        for start, end in spans:
            taken.add(start, end)
    edits = sorted((edit for fix in applied for edit in fix.edits), key=lambda edit: edit.start)
    pieces, cursor = [], 0
    for edit in edits:
        pieces.append(source[cursor:edit.start])
        pieces.append(edit.content)
        cursor = edit.end
    pieces.append(source[cursor:])
    return "".join(pieces), applied


class _TakenSpans:
    """Spans ``[start, end)`` already edited. Two spans overlap when
    ``start < other_end and other_start < end``: touching spans do not, and an insertion
    (``start == end``) overlaps only a span it falls strictly inside.

    Replacements that do not overlap are disjoint, so sorted by start they are sorted by
    end too, and the only one a new span can overlap first is the first that ends after
    the new span starts; insertions are kept apart, as points.
    """

    def __init__(self) -> None:
        self.starts: list[int] = []  # of the replacements, sorted
        self.ends: list[int] = []  # of the same replacements, in the same order
        self.points: list[int] = []  # the insertions, sorted

    def overlaps(self, start: int, end: int) -> bool:
        index = bisect_right(self.ends, start)  # the first replacement ending after `start`
        if index < len(self.starts) and self.starts[index] < end:
            return True
        if start == end:
            return False  # an insertion never overlaps another insertion
        index = bisect_right(self.points, start)  # the first insertion after `start`
        return index < len(self.points) and self.points[index] < end

    def add(self, start: int, end: int) -> None:
        if start == end:
            insort(self.points, start)
            return
        index = bisect_right(self.starts, start)
        # Fixes come sorted by their first edit: this is nearly always an append.
        self.starts.insert(index, start)
        self.ends.insert(index, end)


@functools.lru_cache(maxsize=4)
def _module_imports(source: str) -> frozenset[Import] | None:
    """The imports of the module's own top level, as fixes ask for them; None if it
    does not parse."""
    try:
        tree = ast.parse(source.removeprefix("\ufeff"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    present = set()
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            present.update(Import(alias.name, None, alias.asname) for alias in statement.names)
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            present.update(Import(statement.module, alias.name, alias.asname) for alias in statement.names)
    return frozenset(present)


def missing_imports(source: str, imports: set[Import] | frozenset[Import]) -> set[Import]:
    """The ones ``source`` does not already import at its top level, exactly as asked."""
    present = _module_imports(source)
    return set(imports) if present is None else set(imports) - present


def add_imports(source: str, imports: set[Import]) -> str:
    """Add the imports with libcst (keeps formatting). Those already imported are found
    with ast first: libcst parses a 5,000-line file in over a second, and most fixes need
    no import the file lacks."""
    return insert_imports(source, missing_imports(source, imports))


def insert_imports(source: str, imports: set[Import]) -> str:
    """Add these imports with libcst (keeps formatting), as they are: ``add_imports``
    first leaves out the ones the file has at its top level."""
    if not imports:
        return source
    import libcst
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor, ImportItem

    needed = [
        ImportItem(item.module, item.name, item.asname)
        for item in sorted(imports, key=lambda item: (item.module, item.name or ""))
    ]
    module = libcst.parse_module(source)
    return AddImportsVisitor(CodemodContext(), needed).transform_module(module).code
