"""From Python syntax to canonical ops.

``torch.log(x)``, ``x.log()``, ``np.log(x)``, ``tf.math.log(x)`` and ``log(x)`` after
``from jax.numpy import log`` all become ``Op("log", framework, ...)``.  Names are followed
through simple assignments in the same scope, so ``p = softmax(z)`` … ``log(p)`` is
``log(softmax(z))``.

Detection runs on the standard library's ``ast`` (ten times faster to build than a
concrete syntax tree); fixes are computed as text edits on the original source, so the
formatting and comments outside the rewritten expression are untouched.  What a name
means at a given point comes from ``scopes.Env``.
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stablelint import frameworks
from stablelint.syntax import reference

if TYPE_CHECKING:
    from stablelint.scopes import Env

_NEWLINE = re.compile(r"\r\n|\r|\n")


class SourceIndex:
    """Converts ``ast`` positions (1-based line, UTF-8 byte column) into character offsets."""

    def __init__(self, source: str):
        self.source = source
        self._line_starts: list[int] | None = None

    @property
    def line_starts(self) -> list[int]:
        # Built on first use: most files that are walked have no finding to place.
        if self._line_starts is None:
            self._line_starts = [0] + [match.end() for match in _NEWLINE.finditer(self.source)]
        return self._line_starts

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


_MODULE_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def _imported_by_call(statement: ast.Assign) -> str | None:
    """``scipy.special`` of ``special = try_import("scipy.special")`` (any callee whose name
    says it imports: ``importlib.import_module``, ``optional_import``, ``lazy_import``)."""
    if len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name):
        return None
    call = statement.value
    if not isinstance(call, ast.Call) or not call.args:
        return None
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    first = call.args[0]
    if "import" not in name.lower() or not isinstance(first, ast.Constant) or not isinstance(first.value, str):
        return None
    return first.value if _MODULE_PATH.fullmatch(first.value) else None


class ImportTable:
    """Local name -> qualified name, from every import statement in the module."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.optional: set[str] = set()  # names bound by a call that imports (None if missing)
        self._conflicting: set[str] = set()

    def _add(self, local: str, qualified: str) -> None:
        # One name imported as two different things (``import mylib as math`` in a
        # function of a module that imports ``math``): trust neither.
        if local in self._conflicting:
            return
        known = self.names.get(local)
        if known is not None and known != qualified:
            self._conflicting.add(local)
            del self.names[local]
            return
        self.names[local] = qualified

    @classmethod
    def from_tree(cls, tree: ast.Module) -> "ImportTable":
        table = cls()
        pending = list(tree.body)
        while pending:
            statement = pending.pop()
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    if alias.asname:
                        table._add(alias.asname, alias.name)
                    else:
                        top = alias.name.split(".", 1)[0]
                        table._add(top, top)
            elif isinstance(statement, ast.ImportFrom):
                if statement.level or not statement.module:
                    continue
                for alias in statement.names:
                    if alias.name != "*":
                        table._add(alias.asname or alias.name, f"{statement.module}.{alias.name}")
            elif isinstance(statement, ast.Assign) and (module := _imported_by_call(statement)) is not None:
                # ``special = try_import("scipy.special")``: an optional import binds the module too.
                table._add(statement.targets[0].id, module)
                table.optional.add(statement.targets[0].id)
            else:
                # Imports also hide in if/try/with blocks and function bodies.
                for child_field in ("body", "orelse", "finalbody", "handlers"):
                    children = getattr(statement, child_field, None)
                    if children:
                        pending.extend(children)
        return table

    def adopt(self, handed_on: dict[str, str]) -> None:
        """Names a project module hands on from a library (``analysis.project``): ``np`` of
        ``from mypkg.backend import np`` is ``numpy`` itself (or ``autograd.numpy``)."""
        for local, qualified in handed_on.items():
            if local not in self._conflicting:
                self.names[local] = qualified

    def qualified_name(self, expr: ast.expr, env: "Env | None" = None) -> str | None:
        """``F.softmax`` -> ``torch.nn.functional.softmax`` when ``F`` is an import (and
        not a local name of the scope at hand, such as a parameter called ``log``)."""
        path = reference(expr)
        if path is None:
            return None
        name, attributes = path
        if env is not None and env.is_local(name):
            return None
        root = self.names.get(name)
        if root is None:
            return None
        return ".".join([root, *attributes])

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
    registered: bool = False  # reached through the file's own op registry: no fix rewrites it

    @property
    def method(self) -> bool:
        return self.qualified_name is None

    def other_args(self) -> tuple[list[ast.expr], list[ast.keyword]]:
        """Positional arguments after the input, and all keywords."""
        positional = list(self.call.args) if self.method else list(self.call.args[1:])
        return positional, list(self.call.keywords)


_BUILTIN_OPS = {"max": "max", "sum": "sum"}


class Normalizer:
    def __init__(self, imports: ImportTable):
        self.imports = imports
        self.registry = None  # an ``analysis.registry.OpRegistry`` once the file's facts exist

    def resolve(self, expr: ast.expr, env: Env, via: list[tuple[str, int]] | None = None) -> ast.expr:
        """Follow ``name = value`` definitions and identity wrappers (``.detach()``)."""
        seen = 0
        while seen < 8:
            seen += 1
            if isinstance(expr, ast.Name):
                definition = _definition_around(env, expr)
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
        qualified = self.imports.qualified_name(func, env)
        registered = False
        if qualified is None and isinstance(func, ast.Name):
            alias = env.definition(func.id)  # ``log = torch.log`` … ``log(x)``
            if alias is not None and isinstance(alias[0], (ast.Attribute, ast.Name)):
                qualified = self.imports.qualified_name(alias[0], env)
        if qualified is None and isinstance(func, (ast.Name, ast.Subscript)) and self.registry is not None:
            # ``Log = Op(math.log)``, ``OPS["log"]``, ``partial(np.log)`` of this file's own op registry
            found = self.registry.function_of(func, env)
            if found is not None:
                qualified, registered = found
        if qualified is not None:
            return self.op_named(qualified, expr, via, registered)
        if isinstance(func, ast.Attribute) and func.attr in frameworks.METHODS and not _is_instance(func.value):
            kind, framework = frameworks.METHODS[func.attr]
            return Op(kind, framework, expr, None, func.value, via)
        if isinstance(func, ast.Name) and func.id in _BUILTIN_OPS and func.id not in self.imports.names:
            if not env.is_local(func.id) and len(expr.args) == 1 and not expr.keywords:
                # Python's own max/sum over an array reduce its first axis.
                return Op(_BUILTIN_OPS[func.id], None, expr, f"builtins.{func.id}", expr.args[0], via)
        return None

    @staticmethod
    def op_named(qualified: str, call: ast.Call, via: list[tuple[str, int]] | None = None,
                 registered: bool = False) -> Op | None:
        """The op of ``call`` when its callee is the function ``qualified`` (written so, or
        known to be passed as it: ``activation(x)`` with ``tf.nn.relu`` at every call)."""
        known = frameworks.function_op(qualified)
        if known is None:
            return None
        qualified = frameworks.canonical_name(qualified)
        kind, framework = known
        if kind in ("identity",) or call.args:
            first = call.args[0] if call.args else None
        else:
            first = _keyword_value(call, ("input", "x", "a", "logits", "input_tensor", "tensor"))
        if isinstance(first, ast.Starred):
            return None
        return Op(kind, framework, call, qualified, first, via if via is not None else [], registered)


def _is_instance(receiver: ast.expr) -> bool:
    """``self`` (or ``cls``): ``self.var(h)`` calls the module's own layer or method (an
    ``nn.Linear`` named ``var``), not a tensor's variance."""
    return isinstance(receiver, ast.Name) and receiver.id in ("self", "cls")


def _definition_around(env: "Env", name: ast.Name) -> tuple[ast.expr, int] | None:
    """What ``name`` means where it stands: inside its own latest definition (``x =
    np.exp(x)``) it is the definition before that one."""
    if not hasattr(env, "definitions"):
        return env.definition(name.id)  # a remote scope: single assignments only
    definitions = env.definitions(name.id)
    if not hasattr(name, "lineno"):
        # A name the walker wrote itself (``x -= m`` as ``x = x - m``): the x before.
        return definitions[1] if len(definitions) > 1 else None
    for definition in definitions:
        if definition is None:
            return None
        node = definition[0]
        inside = (node.lineno, node.col_offset) <= (name.lineno, name.col_offset) and (
            (name.end_lineno, name.end_col_offset) <= (node.end_lineno, node.end_col_offset)
        )
        if not inside:
            return definition
    return None


def _keyword_value(call: ast.Call, names: tuple[str, ...]) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg in names:
            return keyword.value
    return None


def identifier_of(expr: ast.expr) -> str:
    """The last name of ``a.b.c`` or ``c`` (``""`` for anything else)."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return ""


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


