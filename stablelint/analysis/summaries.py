"""Bounded per-file summaries: what a name, an attribute or a call means away from the use.

The scope walker (``scopes.py``) knows, flow-sensitively, what each name of the scope at
hand was last bound to. Values also reach a use from further away; these summaries,
built once per file and only when a rule asks, say how:

- ``FunctionFacts``: in one function (or the module body), the names bound exactly once
  and never changed in place — the only ones followed from outside the walk;
- ``ClassFacts``: the ``self.<attr> = …`` assignments of every method of a class, and its
  ``forward``/``__call__``;
- ``FileFacts``: the functions and classes of the file by name, and every call site of
  each, so that a parameter can take the value that every caller passes.

Everything is flow-insensitive and conservative: a name bound twice, an attribute set to
different kinds of value, a function passed around as a value — unknown.
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from stablelint.prefilter import word_offsets
from stablelint.scopes import COLLECTIVES_IN_PLACE, NUMPY_IN_PLACE, BranchJoin, bound_names, parameters, unpacked
from stablelint.syntax import child_nodes, nodes_on_lines

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _walk_scope(statements: list[ast.stmt], lines: list[int] | None = None):
    """Every node of a scope's body, not entering nested functions, classes or lambdas
    (their names are theirs), but yielding the nested definition itself. With ``lines``
    (sorted), only the nodes whose line range holds one of them: a name or attribute is
    bound or changed only on a line that spells it, so the rest need not be walked."""
    pending: list[ast.AST] = list(reversed(statements))
    while pending:
        node = pending.pop()
        if lines is not None:
            start = getattr(node, "lineno", None)
            if start is not None:
                index = bisect_left(lines, start)
                if index == len(lines) or lines[index] > node.end_lineno:
                    continue
        yield node
        if isinstance(node, _NESTED_SCOPES):
            # Decorators and defaults are evaluated in this scope.
            if not isinstance(node, ast.Lambda):
                pending.extend(node.decorator_list)
            if not isinstance(node, ast.ClassDef):
                pending.extend(node.args.defaults + [d for d in node.args.kw_defaults if d is not None])
            continue
        pending.extend(reversed(child_nodes(node)))


class SourceLines:
    """Where a word stands in the file's text, by line: the cheap test before a walk."""

    def __init__(self, source: str | None):
        self.source = source
        self._starts: list[int] | None = None
        self._patterns: dict[str, re.Pattern] = {}

    def of(self, pattern: str, start: int, end: int) -> list[int] | None:
        """Sorted lines in [start, end] matching ``pattern``; None without a source."""
        source = self.source
        if source is None:
            return None
        starts, begin, stop = self._span(start, end)
        regex = self._patterns.get(pattern)
        if regex is None:
            regex = self._patterns[pattern] = re.compile(pattern)
        return sorted({bisect_right(starts, match.start()) for match in regex.finditer(source, begin, stop)})

    def _span(self, start: int, end: int) -> tuple[list[int], int, int]:
        """The line starts, and the offsets where lines ``start`` to ``end`` begin and stop."""
        if self._starts is None:
            self._starts = [0] + [match.end() for match in re.finditer("\n", self.source)]
        starts = self._starts
        begin = starts[start - 1] if 0 < start <= len(starts) else 0
        stop = starts[end] if end < len(starts) else len(self.source)
        return starts, begin, stop

    def of_word(self, word: str, start: int, end: int) -> list[int] | None:
        """``of(r"\\bword\\b", start, end)`` for an identifier, with str.find: a regex that
        starts with ``\\b`` scans every position, find jumps to the candidates."""
        source = self.source
        if source is None:
            return None
        starts, begin, stop = self._span(start, end)
        found: list[int] = []
        for position in word_offsets(source, (word,), begin, stop):
            line = bisect_right(starts, position)
            if not found or found[-1] != line:
                found.append(line)
        return found


@dataclass
class _NameFacts:
    bindings: int = 0
    definition: tuple[ast.expr, int] | None = None
    changed: bool = False
    # Changed only by setting its own attributes (``loss.size_average = False``): an object
    # built once keeps computing what it computed.
    attributes_set_only: bool = True
    assignments: list[ast.Assign] = field(default_factory=list)  # the plain ``name = value`` statements
    joined: tuple[ast.expr, int] | None = None  # the two assignments' ``BranchJoin``, built once
    # Every binding as (first line, last line, value), in order, while each is a plain
    # assignment that is a statement of the scope's own body (not in a branch or loop).
    straight: list[tuple[int, int, ast.expr]] | None = field(default_factory=list)


# ``reaching``'s answer for a parameter read before the scope binds it again.
PARAMETER = "parameter"


class FunctionFacts:
    """One scope's single-assignment names: ``definition(name)`` is (expression, line) for a
    name bound once, by a plain assignment, and never changed in place. Computed per name
    on demand, walking only the statements on the lines that spell the name."""

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Module | ast.ClassDef,
                 text: SourceLines | None = None):
        self.node = node
        self.text = text or SourceLines(None)
        self.parameters: dict[str, ast.arg] = {}
        if isinstance(node, _FUNCTIONS):
            self.parameters = {arg.arg: arg for arg in parameters(node)}
        self._names: dict[str, _NameFacts] = {}
        self._joins: dict[tuple[str, int], tuple[ast.expr, int]] = {}  # ``_one_arm_join``'s, kept
        self._reached: dict[tuple[str, int], tuple[ast.expr, int] | str | None] = {}  # ``reaching_in_block``'s

    def definition(self, name: str) -> tuple[ast.expr, int] | None:
        facts = self._facts(name)
        if facts.changed or name in self.parameters:
            return None
        if facts.bindings == 1:
            return facts.definition
        if facts.bindings == 2 and len(facts.assignments) == 2:
            if facts.joined is None:
                facts.joined = _branch_join(self.node, *facts.assignments) or (None, 0)
            return facts.joined if facts.joined[0] is not None else None
        return None

    def object_definition(self, name: str) -> tuple[ast.expr, int] | None:
        """``definition(name)``, also for a name whose only changes set its attributes
        (``criterion = nn.BCELoss()`` then ``criterion.size_average = False``): what an
        object so built computes when called (not what an array so changed holds)."""
        facts = self._facts(name)
        if facts.changed and facts.attributes_set_only and facts.bindings == 1 and name not in self.parameters:
            return facts.definition
        return self.definition(name)

    def binds(self, name: str) -> bool:
        return name in self.parameters or self._facts(name).bindings > 0

    def unchanged_parameter(self, name: str) -> bool:
        if name not in self.parameters:
            return False
        facts = self._facts(name)
        return facts.bindings == 0 and not facts.changed

    def reaching(self, name: str, line: int) -> tuple[ast.expr, int] | str | None:
        """The binding of ``name`` a read on ``line`` sees, for a name bound only by plain
        assignments that stand one after the other in the scope's own body (``x =
        self.fc1(x)``; ``x = x.view(-1)``; ``return x``): (expression, line) of the last
        one that ends before ``line``, ``PARAMETER`` for a parameter read before any, None
        when that is not known (a binding in a branch or a loop, a change in place)."""
        facts = self._facts(name)
        if facts.changed:
            return None
        if facts.bindings == 0:
            return PARAMETER if name in self.parameters else None
        if not facts.straight or facts.bindings != len(facts.straight):
            return None
        before = [(value, first) for first, last, value in facts.straight if last < line]
        if before:
            return before[-1]
        return PARAMETER if name in self.parameters else None

    def reaching_in_block(self, name: str, line: int) -> tuple[ast.expr, int] | str | None:
        """The binding a read on ``line`` sees where ``reaching`` cannot tell because the
        name is bound in a branch or a loop: the nearest plain assignment before the read in
        the innermost block holding it, or in a block around that one (``for x, y in data:``
        / ``mu, logvar = enc(x)`` / ``exp(logvar)``). None when a statement between them may
        bind it, when a loop around the read binds it after the read (its next turn would
        see that binding), or when it is changed in place; ``PARAMETER`` for a parameter
        that nothing binds before the read."""
        key = (name, line)
        if key in self._reached:
            return self._reached[key]
        found = self._reached[key] = self._reaching_in_block(name, line)
        return found

    def _reaching_in_block(self, name: str, line: int) -> tuple[ast.expr, int] | str | None:
        if self._facts(name).changed:
            return None
        node = self.node
        # Only a statement on a line that spells the name can bind it: the others are not walked.
        spelled = self.text.of_word(name, getattr(node, "lineno", 1), getattr(node, "end_lineno", None) or 10**9)

        def binds(statement: ast.stmt) -> bool:
            if spelled is not None:
                index = bisect_left(spelled, statement.lineno)
                if index == len(spelled) or spelled[index] > (statement.end_lineno or statement.lineno):
                    return False
            return _binds_in(statement, name)

        levels = _blocks_holding(getattr(node, "body", []), line)
        for block, position in reversed(levels):
            holding = block[position]
            if isinstance(holding, (ast.For, ast.AsyncFor, ast.While)) and binds(holding):
                return None  # a loop around the read (or its header) binds it again
            for statement in reversed(block[:position]):
                if not binds(statement):
                    continue
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                    target = statement.targets[0]
                    if isinstance(target, ast.Name):
                        return statement.value, statement.lineno
                    if isinstance(target, (ast.Tuple, ast.List)):
                        element = dict(unpacked(target, statement.value)).get(name)
                        return (element, statement.lineno) if element is not None else None
                if isinstance(statement, ast.If):
                    return self._one_arm_join(name, statement)
                return None  # bound there some other way, or inside a compound statement
        return PARAMETER if name in self.parameters else None

    def _one_arm_join(self, name: str, branch: ast.If) -> tuple[ast.expr, int] | None:
        """``if cuda: model = model.cuda()``: one arm binds the name once, by a plain
        assignment of its own body, the other not at all; after the ``if`` it is that
        value or the one that reached the ``if`` (``BranchJoin``, built once)."""
        arms = [[statement for statement in arm if _binds_in(statement, name)] for arm in (branch.body, branch.orelse)]
        binding = arms[0] or arms[1]
        if (arms[0] and arms[1]) or len(binding) != 1 or not isinstance(binding[0], ast.Assign):
            return None
        assignment = binding[0]
        if len(assignment.targets) != 1 or not isinstance(assignment.targets[0], ast.Name):
            return None
        if any(isinstance(node, ast.NamedExpr) for node in ast.walk(branch.test)):
            return None
        key = (name, id(branch))
        joined = self._joins.get(key)
        if joined is None:
            before = self.reaching_in_block(name, branch.lineno)
            if before is None:
                return None
            if before == PARAMETER:
                # ``if cuda: x = x.cuda()`` / ``return x``: the parameter as the call passed it
                # (read where nothing of the function has run yet: the ``def`` line).
                before = (ast.copy_location(ast.Name(name, ast.Load()), self.node), self.node.lineno)
            body, orelse = (assignment.value, before[0]) if arms[0] else (before[0], assignment.value)
            node = ast.copy_location(BranchJoin(test=branch.test, body=body, orelse=orelse), branch.test)
            node.end_lineno, node.end_col_offset = branch.test.end_lineno, branch.test.end_col_offset
            joined = self._joins[key] = (node, assignment.lineno)
        return joined

    def _facts(self, name: str) -> _NameFacts:
        found = self._names.get(name)
        if found is None:
            found = self._names[name] = self._scan(name)
        return found

    def _scan(self, name: str) -> _NameFacts:
        node = self.node
        start = getattr(node, "lineno", 1)
        end = getattr(node, "end_lineno", None) or 10**9
        lines = self.text.of_word(name, start, end)
        facts = _NameFacts()
        body = {id(statement) for statement in getattr(node, "body", ())}

        def bind(value: ast.expr | None, line: int, statement: ast.AST | None = None) -> None:
            facts.bindings += 1
            facts.definition = (value, line) if value is not None else None
            if facts.straight is not None and value is not None and statement is not None and id(statement) in body:
                facts.straight.append((statement.lineno, statement.end_lineno or statement.lineno, value))
            else:
                facts.straight = None

        for child in _walk_scope(node.body, lines):
            kind = type(child)
            if kind is ast.Assign:
                for target in child.targets:
                    if isinstance(target, ast.Name):
                        if target.id == name:
                            bind(child.value, child.lineno, child if len(child.targets) == 1 else None)
                            if len(child.targets) == 1:
                                facts.assignments.append(child)
                    elif name in bound_names(target):
                        if isinstance(target, (ast.Subscript, ast.Attribute)):
                            facts.changed = True
                            own_attribute = isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                            facts.attributes_set_only = facts.attributes_set_only and own_attribute
                        elif isinstance(target, (ast.Tuple, ast.List)):
                            element = dict(unpacked(target, child.value)).get(name)
                            bind(element, child.lineno, child if len(child.targets) == 1 else None)
                        else:
                            bind(None, child.lineno)
            elif kind is ast.AnnAssign:
                if isinstance(child.target, ast.Name):
                    if child.target.id == name:
                        bind(child.value, child.lineno, child)
                elif name in bound_names(child.target):
                    facts.changed = True
                    facts.attributes_set_only = False
            elif kind is ast.AugAssign:
                if name in bound_names(child.target):
                    bind(None, child.lineno)
                    facts.changed = True
                    facts.attributes_set_only = False
            elif kind in (ast.For, ast.AsyncFor, ast.comprehension):
                if name in bound_names(child.target):
                    bind(None, getattr(child, "lineno", 0))
            elif kind in (ast.With, ast.AsyncWith):
                for item in child.items:
                    if item.optional_vars is not None and name in bound_names(item.optional_vars):
                        bind(None, child.lineno)
            elif kind is ast.NamedExpr and isinstance(child.target, ast.Name):
                if child.target.id == name:
                    bind(None, child.lineno)
            elif kind is ast.ExceptHandler and child.name == name:
                bind(None, child.lineno)
            elif kind is ast.Delete:
                if any(name in bound_names(target) for target in child.targets):
                    facts.changed = True
                    facts.attributes_set_only = False
            elif kind in (ast.Import, ast.ImportFrom):
                if any((alias.asname or alias.name).split(".")[0] == name for alias in child.names):
                    bind(None, child.lineno)
            elif kind in (ast.Global, ast.Nonlocal):
                if name in child.names:
                    facts.changed = True
                    facts.attributes_set_only = False
            elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
                if child.name == name:
                    bind(None, child.lineno)
            elif kind is ast.Call:
                if name in _mutated_by(child, frozenset(self.parameters)):
                    facts.changed = True
                    facts.attributes_set_only = False
        return facts


def last_appended(scope: ast.AST, name: str, line: int) -> ast.expr | None:
    """The element the last ``name.append(x)`` before ``line`` adds to the list ``name``,
    where the list is built in ``scope``'s own body (``layers.append(nn.Linear(h, k))`` after
    a loop of hidden layers, then ``nn.Sequential(*layers)``): that append must be a
    statement of the body itself, and no statement between it and the one on ``line`` may
    name the list. None otherwise."""
    body = getattr(scope, "body", [])
    position = _position_holding(body, line)
    if position is None or hasattr(body[position], "body"):
        return None  # the use stands in a block of its own: what that block appends first is not looked at
    for statement in reversed(body[:position]):
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            call = statement.value
            func = call.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == name:
                if func.attr == "append" and len(call.args) == 1 and not call.keywords and \
                        not isinstance(call.args[0], ast.Starred):
                    return call.args[0]
                return None
        if any(isinstance(node, ast.Name) and node.id == name for node in _walk_scope([statement])):
            return None  # changed, read or rebound there: the last element is not in sight
    return None


def _blocks_holding(body: list[ast.stmt], line: int) -> list[tuple[list[ast.stmt], int]]:
    """The statement lists from ``body`` inwards that hold ``line``, each with the position
    of the statement holding it (not entering nested functions or classes)."""
    levels = []
    block = body
    while block:
        position = _position_holding(block, line)
        if position is None:
            break
        levels.append((block, position))
        statement = block[position]
        if isinstance(statement, _NESTED_SCOPES):
            break
        inner = None
        blocks = [getattr(statement, name, None) for name in ("body", "orelse", "finalbody")]
        blocks += [handler.body for handler in getattr(statement, "handlers", ())]
        blocks += [case.body for case in getattr(statement, "cases", ())]
        for candidate in blocks:
            if candidate and candidate[0].lineno <= line <= (candidate[-1].end_lineno or candidate[-1].lineno):
                inner = candidate
                break
        block = inner
    return levels


def _position_holding(block: list[ast.stmt], line: int) -> int | None:
    """The position in ``block`` of the statement whose lines hold ``line`` (None: none)."""
    return next((index for index, statement in enumerate(block)
                 if statement.lineno <= line <= (statement.end_lineno or statement.lineno)), None)


def _binds_in(statement: ast.stmt, name: str) -> bool:
    """Does ``statement`` (with what it holds, not nested scopes) bind or change ``name``?"""
    for node in _walk_scope([statement]):
        kind = type(node)
        if kind is ast.Assign:
            if any(name in bound_names(target) for target in node.targets):
                return True
        elif kind in (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor):
            if name in bound_names(node.target):
                return True
        elif kind in (ast.With, ast.AsyncWith):
            if any(item.optional_vars is not None and name in bound_names(item.optional_vars) for item in node.items):
                return True
        elif kind is ast.NamedExpr:
            if isinstance(node.target, ast.Name) and node.target.id == name:
                return True
        elif kind is ast.ExceptHandler or kind in _NESTED_SCOPES:
            if getattr(node, "name", None) == name:
                return True
        elif kind in (ast.Import, ast.ImportFrom):
            if any((alias.asname or alias.name).split(".")[0] == name for alias in node.names):
                return True
        elif kind in (ast.Global, ast.Nonlocal, ast.Delete):
            if kind is not ast.Delete and name in node.names or kind is ast.Delete and any(
                    name in bound_names(target) for target in node.targets):
                return True
    return False


def _branch_join(scope: ast.AST, first: ast.Assign, second: ast.Assign) -> tuple[ast.expr, int] | None:
    """``if c: x = a`` / ``else: x = b``, the name's only two bindings: ``a if c else b``
    (``scopes.BranchJoin``, placed at ``c``), with the line of the later one; None when the
    two are not the arms of one ``if`` (statements of the arms themselves, not nested)."""
    pending = list(getattr(scope, "body", ()))
    while pending:
        statement = pending.pop()
        if isinstance(statement, ast.If):
            arms = [(statement.body, statement.orelse), (statement.orelse, statement.body)]
            if any(first in body and second in orelse for body, orelse in arms):
                body, orelse = (first, second) if first in statement.body else (second, first)
                joined = ast.copy_location(BranchJoin(test=statement.test, body=body.value, orelse=orelse.value),
                                           statement.test)
                joined.end_lineno, joined.end_col_offset = statement.test.end_lineno, statement.test.end_col_offset
                return joined, max(first.lineno, second.lineno)
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue  # another scope
        for field_name in ("body", "orelse", "finalbody"):
            pending.extend(getattr(statement, field_name, ()))
        for handler in getattr(statement, "handlers", ()):
            pending.extend(handler.body)
    return None


def _mutated_by(call: ast.Call, arrays: frozenset[str] = frozenset()) -> list[str]:
    """Names a call changes in place: ``p.clamp_()``, ``out=p``, ``init.zeros_(p)``;
    ``arrays``: names known to hold arrays, not modules (the function's parameters)."""
    names = []
    for keyword in call.keywords:
        if keyword.arg == "out":
            names.extend(bound_names(keyword.value))
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in COLLECTIVES_IN_PLACE and call.args:
        names.extend(bound_names(call.args[0]))  # ``dist.all_reduce(t)``
    in_place = isinstance(func, ast.Attribute) and func.attr.endswith("_") and not func.attr.startswith("_")
    if in_place or isinstance(func, ast.Attribute) and func.attr in NUMPY_IN_PLACE:
        names.extend(bound_names(func.value))
        if call.args and _may_be_a_module(func.value, arrays):
            names.extend(bound_names(call.args[0]))  # ``init.zeros_(p)``, not ``x.add_(p)``
    return names


def _may_be_a_module(receiver: ast.expr, arrays: frozenset[str]) -> bool:
    """Can ``receiver`` of ``receiver.f_(a)`` be a module whose function changes ``a`` in
    place (``nn.init``)? Not a value computed there (``mu.pow(2).add_(logvar)`` changes the
    square, not logvar) nor one of ``arrays`` (the function's parameters)."""
    while isinstance(receiver, ast.Attribute):
        receiver = receiver.value
    return isinstance(receiver, ast.Name) and receiver.id not in arrays


@dataclass
class AttributeSet:
    """One ``self.<attr> = value`` in a method (or a class-level default)."""

    value: ast.expr
    line: int
    scope: ast.AST  # the method (or the class, for a class-level assignment)


class ClassFacts:
    """A class's methods, and per attribute (on demand) every ``self.<attr> = …`` of its
    methods and class body — found on the lines that spell ``.attr``."""

    def __init__(self, node: ast.ClassDef, text: SourceLines | None = None):
        self.node = node
        self.text = text or SourceLines(None)
        self.methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self._class_level: dict[str, list[AttributeSet]] = {}
        for statement in node.body:
            if isinstance(statement, _FUNCTIONS):
                self.methods[statement.name] = statement
            elif isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        self._class_level.setdefault(target.id, []).append(
                            AttributeSet(statement.value, statement.lineno, node))
            elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                if statement.value is not None:
                    self._class_level.setdefault(statement.target.id, []).append(
                        AttributeSet(statement.value, statement.lineno, node))
        self._attributes: dict[str, tuple[list[AttributeSet], bool]] = {}
        # Per attribute: are its changes other than plain sets all stores into its own
        # attributes (``self.conv.weight.data = 0 * self.conv.weight.data``)?
        self._deep_changes_only: dict[str, bool] = {}
        self._setattr: list[str | None] | None = None  # what each setattr call's name starts with

    def sets_of(self, attr: str) -> list[AttributeSet] | None:
        """Every assignment of the attribute, or None when it is also changed some other
        way (augmented, in place, through ``setattr``, a subscript store)."""
        sets, changed = self._scan(attr)
        if changed or self._setattr_may_set(attr):
            return None
        return sets

    def object_sets_of(self, attr: str) -> list[AttributeSet] | None:
        """``sets_of``, also for an attribute whose other changes only store into its own
        attributes (``self.conv.weight.data = …``): what an object so set computes when
        called (not what an array so changed holds)."""
        sets, changed = self._scan(attr)
        if self._setattr_may_set(attr) or (changed and not self._deep_changes_only.get(attr, False)):
            return None
        return sets

    def assigned(self, attr: str) -> bool:
        sets, changed = self._scan(attr)
        return bool(sets) or changed

    def _setattr_may_set(self, attr: str) -> bool:
        """Can a ``setattr(self, name, …)`` of the class set ``attr``? Not one whose name
        is a constant, or a formatted name whose written start ``attr`` does not share
        (``setattr(self, "conv%d" % i, …)`` never sets ``fc1``)."""
        if self._setattr is None:
            lines = self.text.of(r"\bsetattr\b", self.node.lineno, self.node.end_lineno)
            calls = [
                child for child in ast.walk(self.node)
                if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id == "setattr"
            ] if lines is None or lines else []
            self._setattr = [_set_name_start(call) for call in calls]
        return any(start is None or attr.startswith(start) for start in self._setattr)

    def _scan(self, attr: str) -> tuple[list[AttributeSet], bool]:
        found = self._attributes.get(attr)
        if found is not None:
            return found
        sets = list(self._class_level.get(attr, ()))
        changed = False
        deep_only = True
        lines = self.text.of(r"\." + re.escape(attr) + r"\b", self.node.lineno, self.node.end_lineno)
        for method in self.methods.values():
            arguments = parameters(method)
            if not arguments or _is_static(method):
                continue
            me = arguments[0].arg
            for child in _walk_scope(method.body, lines):
                kind = type(child)
                if kind is ast.Assign:
                    for target in child.targets:
                        if _is_attribute_of(target, me) and target.attr == attr:
                            sets.append(AttributeSet(child.value, child.lineno, method))
                        elif (element := _unpacked_element(target, child.value, me, attr)) is not None:
                            # ``self.a_prob, self.v = self._build_net()``: element i of the value
                            sets.append(AttributeSet(element, child.lineno, method))
                        elif _changes(target, me, attr):
                            changed = True
                            deep_only = deep_only and _stores_into_attribute_of(target, me, attr)
                elif kind in (ast.AugAssign, ast.AnnAssign, ast.Delete, ast.For, ast.AsyncFor):
                    targets = child.targets if kind is ast.Delete else [child.target]
                    for target in targets:
                        own = _is_attribute_of(target, me) and target.attr == attr
                        if kind is ast.AnnAssign and own and child.value is not None:
                            sets.append(AttributeSet(child.value, child.lineno, method))
                        elif own or _changes(target, me, attr):
                            changed = True
                            deep_only = False
                elif kind is ast.Call:
                    func = child.func
                    # ``self.p.clamp_()`` changes the attribute in place.
                    if isinstance(func, ast.Attribute) and func.attr.endswith("_") and not func.attr.startswith("_"):
                        if _is_attribute_of(func.value, me) and func.value.attr == attr:
                            changed = True
                            deep_only = False
        self._deep_changes_only[attr] = deep_only
        found = self._attributes[attr] = (sets, changed)
        return found

    @property
    def forward(self) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The method that runs when an instance is called (PyTorch, Keras, Flax)."""
        for name in ("forward", "__call__", "call"):
            if name in self.methods:
                return self.methods[name]
        return None


def _set_name_start(call: ast.Call) -> str | None:
    """The start every name a ``setattr`` call sets begins with: the whole name for a
    constant, the text before the first placeholder of ``"conv%d" % i`` or
    ``f"conv{i}"``; None when it is not written out."""
    name = call.args[1] if len(call.args) > 1 else None
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        return name.value
    if isinstance(name, ast.BinOp) and isinstance(name.op, ast.Mod) and isinstance(name.left, ast.Constant) \
            and isinstance(name.left.value, str):
        return name.left.value.split("%", 1)[0] or None
    if isinstance(name, ast.Call) and isinstance(name.func, ast.Attribute) and name.func.attr == "format" \
            and isinstance(name.func.value, ast.Constant) and isinstance(name.func.value.value, str):
        return name.func.value.value.split("{", 1)[0] or None
    if isinstance(name, ast.JoinedStr) and name.values and isinstance(name.values[0], ast.Constant):
        return str(name.values[0].value) or None
    return None


def _unpacked_element(target: ast.expr, value: ast.expr, me: str, attr: str) -> ast.expr | None:
    """``value[i]`` (at value's place) where ``target`` is a flat tuple holding ``self.<attr>``
    at position i; None for anything else (starred, nested, the attribute twice)."""
    if not isinstance(target, (ast.Tuple, ast.List)) or any(isinstance(e, ast.Starred) for e in target.elts):
        return None
    positions = [i for i, e in enumerate(target.elts) if _is_attribute_of(e, me) and e.attr == attr]
    if len(positions) != 1 or any(_changes(e, me, attr) for e in target.elts if not _is_attribute_of(e, me)):
        return None
    if isinstance(value, (ast.Tuple, ast.List)):
        return value.elts[positions[0]] if len(value.elts) == len(target.elts) else None
    return ast.copy_location(ast.Subscript(value, ast.Constant(positions[0]), ast.Load()), value)


def _changes(target: ast.expr, me: str, attr: str) -> bool:
    """``self.p[mask] = 0`` or ``(self.p, self.q) = …`` leave ``self.p`` unknown."""
    return any(_is_attribute_of(node, me) and node.attr == attr for node in ast.walk(target))


def _stores_into_attribute_of(target: ast.expr, me: str, attr: str) -> bool:
    """``self.conv.weight.data = …``: a store into an attribute of ``self.<attr>`` (through
    attributes only: ``self.p[0] = …`` changes the array ``self.p`` itself)."""
    node = target
    while isinstance(node, ast.Attribute):
        node = node.value
        if _is_attribute_of(node, me) and node.attr == attr:
            return True
    return False


def _is_static(method: ast.AST) -> bool:
    return any(
        isinstance(decorator, ast.Name) and decorator.id in ("staticmethod", "classmethod")
        for decorator in method.decorator_list
    )


def _is_attribute_of(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name


@dataclass
class CallSite:
    call: ast.Call
    scope: ast.AST  # the function (or module) the call stands in
    skip: int  # leading parameters the call does not pass (``self`` for ``self.m(…)``)


@dataclass
class FileFacts:
    """Functions, classes and call sites of one file, built once and only when asked."""

    tree: ast.Module
    source: str | None = None
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    owner: dict[int, ast.ClassDef] = field(default_factory=dict)  # id(method) -> its class
    enclosing: dict[int, ast.AST] = field(default_factory=dict)  # id(function) -> enclosing scope
    _facts: dict[int, FunctionFacts] = field(default_factory=dict)
    _class_facts: dict[int, ClassFacts] = field(default_factory=dict)
    _calls: dict[str, list[CallSite] | None] = field(default_factory=dict)
    text: SourceLines = field(default_factory=lambda: SourceLines(None))

    @classmethod
    def of(cls, tree: ast.Module, source: str | None = None) -> "FileFacts":
        facts = cls(tree, source)
        facts.text = SourceLines(source)
        seen_twice: set[str] = set()
        pending: list[tuple[ast.AST, ast.AST]] = [(statement, tree) for statement in tree.body]
        while pending:
            node, scope = pending.pop()
            if isinstance(node, _FUNCTIONS):
                facts.enclosing[id(node)] = scope
                if isinstance(scope, ast.ClassDef):
                    facts.owner[id(node)] = scope
                else:
                    if node.name in facts.functions or node.name in facts.classes:
                        seen_twice.add(node.name)
                    facts.functions[node.name] = node
                pending.extend((child, node) for child in node.body)
            elif isinstance(node, ast.ClassDef):
                facts.enclosing[id(node)] = scope
                if node.name in facts.functions or node.name in facts.classes:
                    seen_twice.add(node.name)
                facts.classes[node.name] = node
                pending.extend((child, node) for child in node.body)
            else:
                for child_field in ("body", "orelse", "finalbody", "handlers"):
                    pending.extend((child, scope) for child in getattr(node, child_field, ()) or ())
        # A name defined twice (two branches, a redefinition) means either: trust neither.
        for name in seen_twice:
            facts.functions.pop(name, None)
            facts.classes.pop(name, None)
        return facts

    def function_facts(self, node: ast.AST) -> FunctionFacts:
        facts = self._facts.get(id(node))
        if facts is None:
            facts = self._facts[id(node)] = FunctionFacts(node, self.text)
        return facts

    def class_facts(self, node: ast.ClassDef) -> ClassFacts:
        facts = self._class_facts.get(id(node))
        if facts is None:
            facts = self._class_facts[id(node)] = ClassFacts(node, self.text)
        return facts

    def call_sites(self, function: ast.AST) -> list[CallSite] | None:
        """Every call of ``function`` in the file, or None when it is also used as a value
        (passed as a callback, stored, decorated): then its callers are not all here."""
        owner = self.owner.get(id(function))
        name = function.name
        if function.decorator_list and not all(_harmless_decorator(d) for d in function.decorator_list):
            return None
        if owner is None and self.functions.get(name) is not function:
            return None
        if owner is not None and name == "__init__":
            return self._constructions(owner)
        if owner is not None and name.startswith("__"):
            return None
        key = ("." + name) if owner is not None else name
        if key not in self._calls:
            self._calls[key] = self._find_calls(name, method=owner is not None)
        sites = self._calls[key]
        if sites is None:
            return None
        if owner is None:
            return [site for site in sites if site.skip == 0]
        own = [site for site in sites if self.owner_of(site.scope) is owner]
        if name in ("forward", "call") and self.class_facts(owner).forward is function:
            layers = self._layer_calls(owner)
            if layers is None:
                return None
            own.extend(layers)
        return own

    def _layer_calls(self, owner: ast.ClassDef) -> list[CallSite] | None:
        """A layer class called where it is built (Keras' functional style,
        ``Sampling(name="z")([z_mean, z_log_var])``): each such call runs its ``call`` /
        ``forward`` with those inputs. None when an instance is also kept (``layer =
        Sampling()``): its calls are not all found here."""
        constructions = self._constructions(owner)
        if constructions is None:
            return None
        sites = []
        for construction in constructions:
            built = construction.call
            layer_call = next((
                node for node, _ in nodes_on_lines(self.tree, [built.lineno])
                if isinstance(node, ast.Call) and node.func is built
            ), None)
            if layer_call is None:
                return None
            sites.append(CallSite(layer_call, construction.scope, 1))
        return sites

    def _constructions(self, owner: ast.ClassDef) -> list[CallSite] | None:
        """The calls that build an instance of ``owner`` (``VAE(encoder, decoder)``), as calls
        of its ``__init__`` (``self`` not passed); None when the class is also used as a value
        (subclassed, passed, stored) or is not the file's only class of that name."""
        if self.classes.get(owner.name) is not owner or self.enclosing.get(id(owner)) is not self.tree:
            return None
        key = "class " + owner.name
        if key not in self._calls:
            self._calls[key] = self._find_calls(owner.name, method=False)
        sites = self._calls[key]
        if sites is None:
            return None
        return [CallSite(site.call, site.scope, 1) for site in sites]

    def owner_of(self, scope: ast.AST) -> ast.ClassDef | None:
        return self.owner.get(id(scope))

    def _find_calls(self, name: str, *, method: bool) -> list[CallSite] | None:
        """The calls of ``name`` (``self.name`` for a method), found by a text search first:
        only the statements on the lines that call it are walked. None when the name is
        also used other than as a callee (passed, stored): its callers are not all here."""
        source = self.source if self.source is not None else ast.unparse(self.tree)
        lines: list[int] = []
        value_lines: list[int] = []
        line, counted_to = 1, 0  # line breaks counted from the last match on, not from 0 each time
        # ``.name`` for a method, ``name`` not after a dot for a function; found with
        # str.find (a regex starting with a lookbehind tries every position).
        for start in word_offsets(source, (name,)):
            before = source[start - 1] if start else ""
            if (before == ".") != method:
                continue
            if source[max(0, start - 6):start].endswith(("def ", "class ", "super(")):
                continue  # a definition, or ``super(VAE, self)``: not a call of the name
            line += source.count("\n", counted_to, start)
            counted_to = start
            if not _CALL_PARENTHESIS.match(source, start + len(name), start + len(name) + 64):
                value_lines.append(line)  # used as a value, or only spelled in a comment or string
                continue
            lines.append(line)
        sites: list[CallSite] = []
        if value_lines:
            value_lines = sorted(set(value_lines))
            layers = [] if method else _lambda_layer_calls(self.tree, value_lines, name)
            if _read_as_value(self.tree, value_lines, name, method, {id(site.call.func) for site in layers}):
                return None  # used as a value: its callers are not all here
            sites.extend(layers)
        if not lines:
            return sites
        lines = sorted(set(lines))
        for node, scope in nodes_on_lines(self.tree, lines):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if not method and isinstance(func, ast.Name) and func.id == name:
                sites.append(CallSite(node, scope, 0))
            elif method and isinstance(func, ast.Attribute) and func.attr == name and (
                isinstance(func.value, ast.Name)
            ):
                owner_parameters = parameters(scope) if isinstance(scope, _FUNCTIONS) else []
                if owner_parameters and func.value.id == owner_parameters[0].arg:
                    sites.append(CallSite(node, scope, 1))
        sites.sort(key=lambda site: (site.call.lineno, site.call.col_offset))
        return sites


_CALL_PARENTHESIS = re.compile(r"\s*\(")


def _lambda_layer_calls(tree: ast.Module, lines: list[int], name: str) -> list[CallSite]:
    """Keras ``Lambda(name, ...)(inputs)`` on ``lines``: the layer calls the function ``name``
    with ``inputs`` (``Lambda(sampling)([z_mean, z_log_var])`` is ``sampling([z_mean,
    z_log_var])``), as a call written out (at the layer call's place, the function's name as
    its callee)."""
    sites = []
    for node, scope in nodes_on_lines(tree, lines):
        layer = node.func if isinstance(node, ast.Call) else None
        if (
            isinstance(layer, ast.Call) and _last_name(layer.func) == "Lambda" and layer.args
            and isinstance(layer.args[0], ast.Name) and layer.args[0].id == name
            and len(node.args) == 1 and not node.keywords and not isinstance(node.args[0], ast.Starred)
        ):
            call = ast.copy_location(ast.Call(func=layer.args[0], args=list(node.args), keywords=[]), node)
            call.end_lineno, call.end_col_offset = node.end_lineno, node.end_col_offset
            sites.append(CallSite(call, scope, 0))
    return sites


def _last_name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _read_as_value(tree: ast.Module, lines: list[int], name: str, method: bool, passed: set[int] = frozenset()) -> bool:
    """Is ``name`` (``.name`` for a method) read on one of ``lines`` other than as the
    callee of a call — passed, stored, a base class — and not only spelled in a comment or
    a string there? ``passed``: reads that are a call's all the same (a Keras ``Lambda``'s)."""
    callees = set(passed)
    reads = []
    for node, _ in nodes_on_lines(tree, lines):
        if isinstance(node, ast.Call):
            callees.add(id(node.func))
        elif method and isinstance(node, ast.Attribute) and node.attr == name:
            reads.append(node)
        elif not method and isinstance(node, ast.Name) and node.id == name:
            reads.append(node)
    return any(id(read) not in callees for read in reads)


def _harmless_decorator(decorator: ast.expr) -> bool:
    """Decorators that keep the function's own call signature and callers."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return name in ("jit", "compile", "script", "staticmethod", "no_grad", "wraps", "lru_cache", "cache", "vmap",
                    "custom_jvp", "checkpoint", "remat", "tf_function", "function", "partial")
