"""Runs every rule over one file: prefilter, parse once, walk once, dispatch by op."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from typing import Callable, Container

from stablelint import frameworks, pieces
from stablelint.analysis import project as project_index
from stablelint.analysis.model import FileModel
from stablelint.analysis.registry import OpRegistry
from stablelint.dead_assignments import remove_dead_assignments
from stablelint.diagnostics import Diagnostic, ParseError
from stablelint.fixes import add_imports, apply_fixes
from stablelint.ir import ImportTable, SourceIndex
from stablelint.prefilter import (
    candidate_lines,
    half_precision_candidates,
    half_precision_lines,
    has_word,
    lines_of,
    loss_lines,
    may_be_half,
    mentions_a_loss,
    might_match,
)
from stablelint.rules import ALL_RULES
from stablelint.rules.base import Context
from stablelint.scopes import LineSet, ScopeWalker

_RULES = [rule() for rule in ALL_RULES]
# Rules by the canonical op of the value they start at, whatever its spelling:
# ``a - b``, ``a.sub(b)`` and ``np.subtract(a, b)`` all start the rules on "sub".
_RULES_ON: dict[str, list] = {}
for _rule in _RULES:
    for _kind in _rule.on:
        _RULES_ON.setdefault(_kind, []).append(_rule)
_BINOP_KINDS = {ast.Add: "add", ast.Sub: "sub", ast.Div: "div", ast.Mult: "mul", ast.Pow: "pow", ast.MatMult: "matmul"}
_DISPATCHED_BINOPS = {operator for operator, kind in _BINOP_KINDS.items() if kind in _RULES_ON}
_DISPATCHED_OPS = frozenset(_RULES_ON)
# The callee names that can mean one of those ops (``log``, ``log1p``, ``sub``, ``divide`` …).
_CALLEE_NAMES = frameworks.callee_names(_DISPATCHED_OPS)
# Outside files that may compute in half precision, the ops only half-precision rules start
# at (``masked_fill``, ``where``, a multiplication …) are not even evaluated.
_FULL_PRECISION_OPS = frozenset(kind for kind, rules in _RULES_ON.items() if not all(r.half_precision for r in rules))
_FULL_PRECISION_BINOPS = {operator for operator, kind in _BINOP_KINDS.items() if kind in _FULL_PRECISION_OPS}
_FULL_PRECISION_CALLEES = frameworks.callee_names(_FULL_PRECISION_OPS)
_FULL_PRECISION_KIND = {operator: kind in _FULL_PRECISION_OPS for operator, kind in _BINOP_KINDS.items()}


def parse(source: str, path: str = "<stdin>") -> ast.Module:
    try:
        return pieces.parse(source, path)  # a very large text in pieces: the same tree, a lower peak
    except SyntaxError as error:
        raise ParseError(f"syntax error: {error.msg}", error.lineno, error.offset) from None
    except RecursionError:
        raise ParseError("cannot parse: too deeply nested (beyond Python's recursion limit)") from None
    except MemoryError:
        # CPython's parser says MemoryError, without a message, when its stack is exhausted.
        raise ParseError("cannot parse: too deeply nested or too large (the parser ran out of memory)") from None
    except ValueError as error:  # e.g. a NUL character
        raise ParseError(f"cannot parse: {error}") from None


_WALRUS = re.compile(":=")
_BOM = "\ufeff"


def _has_constant_operand(node: ast.AST, names: frozenset[str]) -> bool:
    """Does a call or operation take a number written in the code, or a name bound to one,
    as an operand? (The cheap test before a half-precision rule evaluates anything.)"""
    if type(node) is ast.BinOp:
        operands = [node.left, node.right]
    else:
        operands = list(node.args) + [keyword.value for keyword in node.keywords]
    for operand in operands:
        if type(operand) is ast.UnaryOp:
            operand = operand.operand
        kind = type(operand)
        if kind is ast.Constant or (kind is ast.Name and operand.id in names) or (
            kind is ast.Attribute and operand.attr in names
        ) or (kind is ast.Call and type(operand.func) is ast.Name and operand.func.id == "float"):
            return True
    return False


def check_source(
    source: str, path: str = "<stdin>", *, tree: ast.Module | None = None, dtype: str | None = None,
    project=None,
) -> list[Diagnostic]:
    """All findings of all rules in ``source`` (no select/ignore/noqa filtering), sorted.

    ``project`` is the project index (``analysis.project``) the file belongs to; by default
    the one of ``path``'s project, ``False`` for none (the file alone)."""
    if source.startswith(_BOM):
        # The byte-order mark is not code: check what follows, then move the fixes'
        # offsets back onto the text as given.
        return [_shift(diagnostic, 1) for diagnostic in check_source(
            source[1:], path, tree=tree, dtype=dtype, project=project)]
    walk = plan_walk(source, path, tree=tree, dtype=dtype, project=project)
    return walk.findings() if walk is not None else []


@dataclass
class Walk:
    """What a check of one text walks: the lines rules can start at, and the file-wide
    switches that chose them and the ops visited there. A re-check of an edited text that
    walks only part of it (``findings(within=...)``) may reuse the rest's findings only while
    `switches` and the rest's lines stay the same (`stablelint.recheck`)."""

    source: str
    path: str
    tree: ast.Module
    dtype: str | None
    imports: ImportTable
    registry: OpRegistry
    index: object  # the project index, or None
    evidence: object  # the project's half-precision setting that reaches this file, or None
    half: bool
    lines: list[int]
    triggered: LineSet  # the lines of every rule; the others only half-precision rules start at
    walrus_lines: list[int]
    constant_names: frozenset[str]
    callee_names: frozenset[str]
    _model: FileModel | None = field(default=None, repr=False, compare=False)

    @property
    def switches(self) -> tuple:
        return (
            self.half, self.evidence, self.dtype, self.constant_names, self.callee_names,
            self.imports.names, self.imports.optional,
        )

    def model(self) -> FileModel:
        """The analysis of the text, built once: walks of parts of it share what it found."""
        if self._model is None:
            model = FileModel(
                self.path, SourceIndex(self.source), self.imports, self.tree, dtype=self.dtype, registry=self.registry
            )
            model.precision_evidence = self.evidence
            index = self.index
            relative = index.relative(self.path) if index is not None else None
            if relative is not None:
                model.evaluator.project = project_index.ProjectView(index, relative, self.tree)
            self._model = model
        return self._model

    def findings(self, within: Container[int] | None = None) -> list[Diagnostic]:
        """The findings of every rule, sorted; with ``within`` (line numbers), only those
        starting at a node on those lines (the rest is read as the analysis needs it)."""
        lines = self.lines if within is None else [line for line in self.lines if line in within]
        if not lines:
            return []
        tree, half, triggered = self.tree, self.half, self.triggered
        ctx = Context(self.model())
        callee_names, constant_names = self.callee_names, self.constant_names
        dispatched_binops = _DISPATCHED_BINOPS if half else _FULL_PRECISION_BINOPS
        value_of = ctx.model.value

        def visit(node: ast.AST, env) -> None:
            if type(node) is ast.Call:
                func = node.func
                if type(func) is ast.Attribute:
                    name = func.attr
                elif type(func) is ast.Name:
                    name = func.id
                elif type(func) is ast.Subscript and type(func.value) is ast.Name:
                    name = func.value.id  # ``OPS["log"](x)``: an op registry's entry
                elif type(func) is ast.Call and type(func.func) in (ast.Attribute, ast.Name):
                    name = getattr(func.func, "attr", None) or func.func.id  # ``nn.BCELoss()(p, y)``
                else:
                    return
                if name not in callee_names:
                    return
            elif type(node) is ast.Compare:
                if half and not triggered.overlaps(node):
                    return  # comparisons with nan are found on the lines that say nan
                ctx.env = env
                for rule in _RULES_ON.get("compare", ()):
                    rule.check(node, value_of(node, env), ctx)
                return
            elif type(node.op) not in dispatched_binops:
                return
            only_half = half and not triggered.overlaps(node)
            full_precision_kind = _FULL_PRECISION_KIND.get(type(node.op) if type(node) is ast.BinOp else None, True)
            if (only_half or not full_precision_kind) and not _has_constant_operand(node, constant_names):
                return  # only a half-precision rule could start here, and it needs a constant
            ctx.env = env
            value = value_of(node, env)
            for rule in _RULES_ON.get(value.kind, ()):
                if value.node is node and (rule.half_precision or not only_half):
                    rule.check(node, value, ctx)

        ScopeWalker(lines, visit, self.imports, walrus_lines=self.walrus_lines).run(tree)
        return sorted(set(ctx.diagnostics), key=Diagnostic.sort_key)


def plan_walk(
    source: str, path: str = "<stdin>", *, tree: ast.Module | None = None, dtype: str | None = None,
    project=None,
) -> Walk | None:
    """What `check_source` walks in ``source`` (without a byte-order mark); None where no
    rule can match."""
    index = project_index.index_for(path) if project is None else project or None
    evidence = None
    if index is not None:
        index.consulted = set()
        if dtype is None and half_precision_candidates(source):
            evidence = index.precision_at(path)
            index.consulted.add(index.PROFILE)
    half = evidence is not None or may_be_half(source, dtype)
    # Loss objects another module builds that this one may call (``model.loss(pred, y)``).
    project_losses = _project_loss_objects(source, index) if index is not None else frozenset()
    if not half and not might_match(source) and not project_losses:
        return None
    if tree is None and index is not None:
        tree = index.parsed(path, source)  # parsed already as a module another file imports
    if tree is None:
        tree = parse(source, path)
    imports = ImportTable.from_tree(tree)
    if index is not None and (relative := index.relative(path)) is not None:
        imports.adopt(index.reexported_modules(relative, tree))  # ``from mypkg.backend import np``
    registry = OpRegistry(tree, imports)
    aliases = imports.local_aliases(frameworks.TRIGGER_OPS) | registry.names(frameworks.TRIGGER_OPS)
    lines = candidate_lines(source, aliases)
    loss_objects: set[str] = set()
    loss_file = mentions_a_loss(source)
    if loss_file or project_losses:
        more, loss_objects = loss_lines(source, imports.local_aliases(frozenset({"loss"})) | project_losses)
        loss_objects |= project_losses
        lines = sorted(set(lines).union(more))
    # In a file that may compute in half precision the lines with constants are walked too,
    # for the rules that ask about dtypes (``half_precision``); the others see only theirs.
    triggered = LineSet(lines)
    constant_names: frozenset[str] = frozenset()
    if half:
        extra, constant_names = half_precision_lines(source)
        lines = sorted(set(lines) | set(extra))
    if not lines:
        return None
    dispatched_ops = _DISPATCHED_OPS if half else _FULL_PRECISION_OPS
    callee_names = (_CALLEE_NAMES if half else _FULL_PRECISION_CALLEES) | imports.local_aliases(dispatched_ops)
    callee_names |= registry.names(dispatched_ops)
    callee_names |= loss_objects
    if loss_file:
        callee_names |= frameworks.LOSS_WORDS
    walrus_lines = lines_of(source, (match.start() for match in _WALRUS.finditer(source))) if ":=" in source else []
    return Walk(
        source, path, tree, dtype, imports, registry, index, evidence, half, lines, triggered, walrus_lines,
        constant_names, frozenset(callee_names),
    )


def _project_loss_objects(source: str, index) -> frozenset[str]:
    """The names other modules of the project bind loss objects to that ``source`` spells
    (``self.loss = nn.BCELoss()`` in models.py, ``model.loss(pred, y)`` here); the file's
    findings then rest on those names."""
    spelled = frozenset(
        name for name in index.loss_object_names() - frameworks.LOSS_WORDS if has_word(source, name)
    )
    if spelled:
        index.consulted.add(index.LOSSES)
    return spelled


def _shift(diagnostic: Diagnostic, offset: int) -> Diagnostic:
    if diagnostic.fix is None:
        return diagnostic
    edits = tuple(replace(edit, start=edit.start + offset, end=edit.end + offset) for edit in diagnostic.fix.edits)
    return replace(diagnostic, fix=replace(diagnostic.fix, edits=edits))


@dataclass
class FixOutcome:
    source: str  # the fixed source (== input when nothing was fixed)
    applied: int  # how many fixes were applied
    remaining: list[Diagnostic]  # findings still in the fixed source (after filtering)
    applied_codes: tuple[str, ...] = ()  # the code of each applied fix (``--show-fixes``)


Filter = Callable[[str, list[Diagnostic]], list[Diagnostic]]


def fix_source(
    source: str,
    path: str = "<stdin>",
    *,
    keep: Filter = lambda source, diagnostics: diagnostics,
    unsafe: bool = False,
    max_rounds: int = 1000,
    dtype: str | None = None,
) -> FixOutcome:
    """Apply the fixes of the findings ``keep`` lets through, round after round, until a
    round has nothing left to apply: a fix can expose another, e.g. in its own arguments,
    and nested formulas take a round per level. So fixing the result again changes nothing.

    ``keep(source, diagnostics)`` applies select/ignore/noqa against the current text.
    Every round's result must parse; fixes that break it are left out (see
    `_apply_verified`). ``max_rounds`` and the texts already seen only stop fixes that
    would undo each other forever; real nesting stays far below it (Python's parser
    stops at 200 nested brackets).
    """
    if source.startswith(_BOM):
        outcome = fix_source(source[1:], path, keep=keep, unsafe=unsafe, max_rounds=max_rounds, dtype=dtype)
        return FixOutcome(_BOM + outcome.source, outcome.applied, outcome.remaining, outcome.applied_codes)
    applied_count = 0
    applied_codes: list[str] = []
    seen = {hash(source)}
    for _ in range(max_rounds):
        diagnostics = keep(source, check_source(source, path, dtype=dtype))
        fixes = [d.fix for d in diagnostics if d.fix and (unsafe or d.fix.safety == "safe")]
        if not fixes:
            return FixOutcome(source, applied_count, diagnostics, tuple(applied_codes))
        fixed, applied = _apply_verified(source, fixes)
        if not applied or hash(fixed) in seen:
            return FixOutcome(source, applied_count, diagnostics, tuple(applied_codes))
        seen.add(hash(fixed))
        source, applied_count = fixed, applied_count + len(applied)
        code_of = {id(d.fix): d.code for d in diagnostics if d.fix}
        applied_codes.extend(code_of[id(fix)] for fix in applied)
    return FixOutcome(
        source, applied_count, keep(source, check_source(source, path, dtype=dtype)), tuple(applied_codes)
    )


def apply_fix(source: str, fix) -> str | None:
    """``source`` with this one fix applied and its imports added (an editor's quick
    fix); None when the result would not parse or the imports cannot be added."""
    return _apply_with_imports(source, [fix])[0]


def _apply_verified(source: str, fixes: list) -> tuple[str, list]:
    """Apply the fixes that do not overlap (see `apply_fixes`), leaving out any that would
    make the code not parse or whose imports cannot be added: ``(text, applied)``."""
    fixed, applied = _apply_with_imports(source, fixes)
    if fixed is not None:
        return fixed, applied
    # A fix broke the code (a rule's bug) or libcst could not add an import. Halving finds
    # the fixes that parse in a few parses per bad fix, not one parse of the file per fix.
    _, candidates = apply_fixes(source, fixes)
    parsing = _parsing_subset(source, candidates)
    for subset in (parsing, [fix for fix in parsing if not fix.imports]):
        if subset:
            fixed, applied = _apply_with_imports(source, subset)
            if fixed is not None:
                return fixed, applied
    return source, []


def _parsing_subset(source: str, fixes: list) -> list:
    """The largest subset found by halving whose edits, applied together, still parse
    (imports aside). ``fixes`` do not overlap."""
    if _parses(apply_fixes(source, fixes)[0]):
        return fixes
    if len(fixes) == 1:
        return []
    middle = len(fixes) // 2
    first, second = _parsing_subset(source, fixes[:middle]), _parsing_subset(source, fixes[middle:])
    if first and second and not _parses(apply_fixes(source, first + second)[0]):
        return max(first, second, key=len)  # each parses, together they do not: keep one
    return first + second


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _apply_with_imports(source: str, fixes: list) -> tuple[str | None, list]:
    fixed, applied = apply_fixes(source, fixes)
    imports = {item for fix in applied for item in fix.imports}
    try:
        fixed = remove_dead_assignments(source, add_imports(fixed, imports))
        ast.parse(fixed)
    except Exception:
        return None, []
    return fixed, applied
