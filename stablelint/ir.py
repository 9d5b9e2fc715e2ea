"""From Python syntax to canonical ops.

``torch.log(x)``, ``x.log()``, ``np.log(x)``, ``tf.math.log(x)`` and ``log(x)`` after
``from jax.numpy import log`` all become ``Op("log", framework, ...)``.  Names are followed
through simple assignments in the same scope, so ``p = softmax(z)`` … ``log(p)`` is
``log(softmax(z))``.

Detection runs on the standard library's ``ast`` (ten times faster to build than a
concrete syntax tree); fixes are computed as text edits on the original source, so the
formatting and comments outside the rewritten expression are untouched.
"""

from __future__ import annotations

import ast
import builtins
import re
from bisect import bisect_left
from dataclasses import dataclass, field

from stablelint import frameworks

_NEWLINE = re.compile(r"\r\n|\r|\n")


class SourceIndex:
    """Converts ``ast`` positions (1-based line, UTF-8 byte column) into character offsets."""

    def __init__(self, source: str):
        self.source = source
        self.line_starts = [0] + [match.end() for match in _NEWLINE.finditer(source)]

    def offset(self, lineno: int, byte_col: int) -> int:
        start = self.line_starts[lineno - 1]
        end = self.line_starts[lineno] if lineno < len(self.line_starts) else len(self.source)
        line = self.source[start:end]
        if line.isascii():
            return start + byte_col
        return start + len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self.offset(node.lineno, node.col_offset),
            self.offset(node.end_lineno, node.end_col_offset),
        )

    def text(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.source[start:end]

    def column(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        line_index = bisect_left(self.line_starts, offset + 1) - 1
        return line_index + 1, offset - self.line_starts[line_index] + 1


class ImportTable:
    """Local name -> qualified name, from every import statement in the module."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    @classmethod
    def from_tree(cls, tree: ast.Module) -> "ImportTable":
        table = cls()
        pending = list(tree.body)
        while pending:
            statement = pending.pop()
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    if alias.asname:
                        table.names[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".", 1)[0]
                        table.names[top] = top
            elif isinstance(statement, ast.ImportFrom):
                if statement.level or not statement.module:
                    continue
                for alias in statement.names:
                    if alias.name != "*":
                        table.names[alias.asname or alias.name] = f"{statement.module}.{alias.name}"
            else:
                # Imports also hide in if/try/with blocks and function bodies.
                for child_field in ("body", "orelse", "finalbody", "handlers"):
                    children = getattr(statement, child_field, None)
                    if children:
                        pending.extend(children)
        return table

    def qualified_name(self, expr: ast.expr) -> str | None:
        """``F.softmax`` -> ``torch.nn.functional.softmax`` when ``F`` is an import."""
        parts: list[str] = []
        while isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return None
        root = self.names.get(expr.id)
        if root is None:
            return None
        parts.append(root)
        return ".".join(reversed(parts))

    def local_aliases(self, ops: frozenset[str]) -> set[str]:
        """Local names (other than the op's own name) bound to a function of ``ops``."""
        aliases = set()
        for local, qualified in self.names.items():
            known = frameworks.function_op(qualified)
            if known and known[0] in ops and local not in ops:
                aliases.add(local)
        return aliases


@dataclass
class Op:
    """One canonical operation: a call (function or method form) of a known function."""

    kind: str
    framework: str | None
    call: ast.Call
    qualified_name: str | None  # None for the method form
    input: ast.expr | None  # the array operand: first argument, or the method's receiver
    via: list[tuple[str, int]] = field(default_factory=list)  # names followed, with def line

    @property
    def method(self) -> bool:
        return self.qualified_name is None

    def other_args(self) -> tuple[list[ast.expr], list[ast.keyword]]:
        """Positional arguments after the input, and all keywords."""
        positional = list(self.call.args) if self.method else list(self.call.args[1:])
        return positional, list(self.call.keywords)


class Env:
    """Definitions of one scope while it is walked in order.

    ``defs``: name -> defining expression, or None once the name is ambiguous (bound in a
    branch or loop, by unpacking, or mutated in place).  ``binding_lines``: every line
    that binds each name in the scope, shared by all branches, so a fix can tell whether
    a definition's inputs were rebound before the use.
    """

    __slots__ = ("defs", "binding_lines")

    def __init__(self) -> None:
        self.defs: dict[str, tuple[ast.expr, int] | None] = {}
        self.binding_lines: dict[str, list[int]] = {}

    def branch(self) -> "Env":
        child = Env()
        child.defs = dict(self.defs)
        child.binding_lines = self.binding_lines
        return child

    def definition(self, name: str) -> tuple[ast.expr, int] | None:
        """The expression ``name`` was last bound to, with the line of that binding."""
        return self.defs.get(name)

    def bind(self, name: str, value: ast.expr | None, line: int) -> None:
        self.defs[name] = None if value is None else (value, line)
        self.binding_lines.setdefault(name, []).append(line)

    def forget(self, name: str) -> None:
        self.defs[name] = None

    def rebound_since(self, names: set[str], since_line: int, before_line: int) -> bool:
        """Was any of ``names`` bound on a line in ``[since_line, before_line)``?"""
        return any(
            since_line <= line < before_line
            for name in names
            for line in self.binding_lines.get(name, ())
        )


_BUILTIN_NAMES = frozenset(dir(builtins))


class Normalizer:
    def __init__(self, imports: ImportTable):
        self.imports = imports

    def resolve(self, expr: ast.expr, env: Env, via: list[tuple[str, int]] | None = None) -> ast.expr:
        """Follow ``name = value`` definitions and identity wrappers (``.detach()``)."""
        seen = 0
        while seen < 8:
            seen += 1
            if isinstance(expr, ast.Name):
                definition = env.definition(expr.id)
                if definition is None:
                    return expr
                if via is not None:
                    via.append((expr.id, definition[1]))
                expr = definition[0]
                continue
            op = self.op_of(expr, env, follow=False)
            if op is not None and op.kind == "identity" and op.input is not None:
                expr = op.input
                continue
            return expr
        return expr

    def op_of(self, expr: ast.expr, env: Env, *, follow: bool = True) -> Op | None:
        via: list[tuple[str, int]] = []
        if follow:
            expr = self.resolve(expr, env, via)
        if not isinstance(expr, ast.Call):
            return None
        func = expr.func
        qualified = self.imports.qualified_name(func)
        if qualified is not None:
            known = frameworks.function_op(qualified)
            if known is None:
                return None
            qualified = frameworks.canonical_name(qualified)
            kind, framework = known
            if kind in ("identity",) or expr.args:
                first = expr.args[0] if expr.args else None
            else:
                first = _keyword_value(expr, ("input", "x", "a", "logits", "input_tensor", "tensor"))
            if isinstance(first, ast.Starred):
                return None
            return Op(kind, framework, expr, qualified, first, via)
        if isinstance(func, ast.Attribute) and func.attr in frameworks.METHODS:
            kind, framework = frameworks.METHODS[func.attr]
            return Op(kind, framework, expr, None, func.value, via)
        if isinstance(func, ast.Name) and func.id == "max" and func.id not in self.imports.names:
            return Op("max", None, expr, None, expr.args[0] if expr.args else None, via)
        return None

    def is_op(self, expr: ast.expr | None, kind: str, env: Env) -> Op | None:
        if expr is None:
            return None
        op = self.op_of(expr, env)
        return op if op is not None and op.kind == kind else None


def _keyword_value(call: ast.Call, names: tuple[str, ...]) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg in names:
            return keyword.value
    return None


def constant_value(expr: ast.expr) -> float | None:
    """The numeric value of a literal such as ``1``, ``1.0``, ``-1``."""
    if isinstance(expr, ast.Constant) and type(expr.value) in (int, float):
        return float(expr.value)
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        inner = constant_value(expr.operand)
        return None if inner is None else -inner
    return None


def same_expression(left: ast.expr, right: ast.expr) -> bool:
    return left is right or ast.dump(left) == ast.dump(right)


# ---------------------------------------------------------------- walking a module


def bound_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in bound_names(element)]
    if isinstance(target, ast.Starred):
        return bound_names(target.value)
    if isinstance(target, ast.Subscript | ast.Attribute):
        # ``p[mask] = 0`` changes p's value: p no longer equals its definition.
        root = target.value
        while isinstance(root, ast.Subscript | ast.Attribute):
            root = root.value
        return [root.id] if isinstance(root, ast.Name) else []
    return []


def _names_bound_in(statements: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store):
                names.update(bound_names(node))
    return names


def _merge(env: Env, *branches: Env) -> None:
    """After a branch point, keep a definition only where every branch agrees."""
    keys = set().union(*(branch.defs for branch in branches))
    for key in keys:
        first = branches[0].defs.get(key)
        agree = all(branch.defs.get(key) == first for branch in branches[1:])
        env.defs[key] = first if agree else None


def _pattern_names(pattern: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(pattern):
        for attribute in ("name", "rest"):
            value = getattr(node, attribute, None)
            if isinstance(value, str):
                names.append(value)
    return names


class ScopeWalker:
    """Walks statements in order, keeping each scope's definitions, and hands every call
    and binary operation on a candidate line to ``visit(node, env)``."""

    def __init__(self, candidate_lines: list[int], visit, *, has_walrus: bool = True):
        self.candidate_lines = candidate_lines
        self.visit = visit
        self.has_walrus = has_walrus  # off when the source has no ":=", to skip a walk

    def run(self, tree: ast.Module) -> None:
        self.block(tree.body, Env())

    def block(self, statements: list[ast.stmt], env: Env) -> None:
        for statement in statements:
            self.statement(statement, env)

    def _is_candidate(self, node: ast.AST) -> bool:
        lines = self.candidate_lines
        index = bisect_left(lines, node.lineno)
        return index < len(lines) and lines[index] <= node.end_lineno

    def expressions(self, node: ast.AST | None, env: Env) -> None:
        if node is None or not hasattr(node, "lineno"):
            return
        if not self._is_candidate(node):
            if self.has_walrus:  # ``(p := softmax(z))`` binds p even on a quiet line
                for child in ast.walk(node):
                    if isinstance(child, ast.NamedExpr) and isinstance(child.target, ast.Name):
                        env.bind(child.target.id, child.value, child.lineno)
            return
        for child in ast.walk(node):
            if isinstance(child, (ast.Call, ast.BinOp)):
                self.visit(child, env)
            elif isinstance(child, ast.NamedExpr) and isinstance(child.target, ast.Name):
                env.bind(child.target.id, child.value, child.lineno)

    def _bind_target(self, target: ast.expr, value: ast.expr | None, env: Env, line: int) -> None:
        if isinstance(target, ast.Name):
            env.bind(target.id, value, line)
        else:
            for name in bound_names(target):
                env.bind(name, None, line)

    def statement(self, statement: ast.stmt, env: Env) -> None:
        kind = type(statement)
        line = statement.lineno
        if kind is ast.Assign:
            self.expressions(statement.value, env)
            for target in statement.targets:
                self._bind_target(target, statement.value, env, line)
        elif kind is ast.Expr:
            self.expressions(statement.value, env)
            _forget_mutated(statement.value, env, line)
        elif kind is ast.Return:
            self.expressions(statement.value, env)
        elif kind is ast.AnnAssign:
            self.expressions(statement.value, env)
            self._bind_target(statement.target, statement.value, env, line)
        elif kind is ast.AugAssign:
            self.expressions(statement, env)
            self._bind_target(statement.target, None, env, line)
            if isinstance(statement.target, ast.Name):
                env.forget(statement.target.id)
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef):
            for decorator in statement.decorator_list:
                self.expressions(decorator, env)
            for default in statement.args.defaults + statement.args.kw_defaults:
                self.expressions(default, env)
            env.bind(statement.name, None, line)
            self.block(statement.body, Env())
        elif kind is ast.ClassDef:
            env.bind(statement.name, None, line)
            self.block(statement.body, Env())
        elif kind is ast.If:
            self.expressions(statement.test, env)
            body_env, else_env = env.branch(), env.branch()
            self.block(statement.body, body_env)
            self.block(statement.orelse, else_env)
            _merge(env, body_env, else_env)
        elif kind in (ast.For, ast.AsyncFor, ast.While):
            self.expressions(statement.test if kind is ast.While else statement.iter, env)
            # Loop-carried values: whatever the loop binds is ambiguous at its top and after it.
            loop_bound = _names_bound_in([statement])
            for name in loop_bound:
                env.forget(name)
            if kind is not ast.While:
                self._bind_target(statement.target, None, env, line)
            self.block(statement.body, env.branch())
            for name in loop_bound:
                env.forget(name)
            self.block(statement.orelse, env)
        elif kind in (ast.With, ast.AsyncWith):
            for item in statement.items:
                self.expressions(item.context_expr, env)
                if item.optional_vars is not None:
                    self._bind_target(item.optional_vars, None, env, line)
            self.block(statement.body, env)
        elif kind is ast.Try or kind.__name__ == "TryStar":
            body_env = env.branch()
            self.block(statement.body, body_env)
            branches = [body_env]
            for handler in statement.handlers:
                handler_env = env.branch()
                if handler.name:
                    handler_env.bind(handler.name, None, handler.lineno)
                self.block(handler.body, handler_env)
                branches.append(handler_env)
            # A handler may run after any prefix of the body: only agreeing names survive.
            _merge(env, *branches)
            self.block(statement.orelse, env)
            self.block(statement.finalbody, env)
        elif kind.__name__ == "Match":
            self.expressions(statement.subject, env)
            branches = [env.branch()]  # no case may match
            for case in statement.cases:
                case_env = env.branch()
                for name in _pattern_names(case.pattern):
                    case_env.bind(name, None, case.pattern.lineno)
                self.expressions(case.guard, case_env)
                self.block(case.body, case_env)
                branches.append(case_env)
            _merge(env, *branches)
        elif kind is ast.Delete:
            for target in statement.targets:
                self._bind_target(target, None, env, line)
        elif kind in (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.Pass, ast.Break, ast.Continue):
            pass
        else:  # Raise, Assert, and anything newer: just look at its expressions.
            self.expressions(statement, env)


def _forget_mutated(expr: ast.expr, env: Env, line: int) -> None:
    """``p.clamp_(min=eps)`` changes p in place: p no longer equals its definition."""
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        attr = expr.func.attr
        if attr.endswith("_") and not attr.startswith("_"):
            for name in bound_names(expr.func.value) if not isinstance(expr.func.value, ast.Name) else [expr.func.value.id]:
                env.bind(name, None, line)
