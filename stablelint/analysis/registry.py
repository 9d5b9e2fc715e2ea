"""Op objects built by a file's own op registry, followed to the function they wrap.

Autodiff and symbolic libraries build their ``log``/``exp`` from ``math.log``/``np.exp``:
``Log = Op(math.log)`` with a ``class Op`` of the file whose ``__call__`` returns
``self.fn(*args)``, ``OPS = {"log": math.log}`` … ``OPS["log"](x)``,
``log = functools.partial(np.log)``, ``log = np.vectorize(math.log)``. Where the registry is
defined in the file, a call of its op is a call of that function (reported, never rewritten:
the code is the registry's); where it is not (a class imported from elsewhere), the op stays
unknown.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from stablelint import frameworks

if TYPE_CHECKING:
    from stablelint.ir import ImportTable

# Wrappers that call their first argument element by element, with nothing else bound.
_WRAPPERS = frozenset({"functools.partial", "numpy.vectorize", "numpy.frompyfunc"})


class OpRegistry:
    """The module-level op definitions of one file (``tree.body``), and what each calls."""

    def __init__(self, tree: ast.Module, imports: "ImportTable"):
        self.imports = imports
        self.definitions: dict[str, ast.expr] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        twice: set[str] = set()
        for statement in tree.body:
            if isinstance(statement, ast.ClassDef):
                self.classes[statement.name] = statement
            elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
                if isinstance(target, ast.Name):
                    if target.id in self.definitions:
                        twice.add(target.id)
                    self.definitions[target.id] = statement.value
        for name in twice:  # rebound at module level: which one holds is unknown
            del self.definitions[name]

    def function_of(self, func: ast.expr, env=None) -> tuple[str, bool] | None:
        """(the qualified name of the function the op ``func`` calls, whether a wrapper,
        registry dict or op class was followed), or None."""
        built = self._built(func, env)
        wrapped = isinstance(func, ast.Subscript)
        for _ in range(3):
            if built is None:
                return None
            if isinstance(built, (ast.Name, ast.Attribute)):
                qualified = self.imports.qualified_name(built, env)
                return (qualified, wrapped) if qualified is not None else None
            built, wrapped = self._wrapped(built, env), True
        return None

    def names(self, ops: frozenset[str]) -> set[str]:
        """Module-level names whose calls compute one of ``ops`` (the prefilter's words)."""
        found = set()
        for name, value in self.definitions.items():
            entries = value.values if isinstance(value, ast.Dict) else [value]
            for entry in entries:
                target = self.function_of(entry) if isinstance(entry, ast.Call) else None
                if target is None and isinstance(entry, (ast.Name, ast.Attribute)):
                    qualified = self.imports.qualified_name(entry)
                    target = (qualified, False) if qualified else None
                known = frameworks.function_op(target[0]) if target else None
                if known is not None and known[0] in ops:
                    found.add(name)
        return found

    def _built(self, func: ast.expr, env) -> ast.expr | None:
        if isinstance(func, ast.Name):
            return self._definition(func.id, env)
        if isinstance(func, ast.Subscript) and isinstance(func.value, ast.Name):
            table = self._definition(func.value.id, env)
            key = func.slice
            if isinstance(table, ast.Dict) and isinstance(key, ast.Constant):
                for written_key, value in zip(table.keys, table.values):
                    if isinstance(written_key, ast.Constant) and written_key.value == key.value:
                        return value
            return None
        if isinstance(func, ast.Call):
            return func
        return None

    def _definition(self, name: str, env) -> ast.expr | None:
        if env is not None:
            definition = env.definition(name)
            if definition is not None:
                return definition[0]
            if env.is_local(name):
                return None
        return self.definitions.get(name)

    def _wrapped(self, built: ast.expr, env) -> ast.expr | None:
        """The function a wrapper call, or an instance of a registry class of the file, calls."""
        if not isinstance(built, ast.Call) or len(built.args) != 1 or built.keywords:
            return None
        callee = self.imports.qualified_name(built.func, env)
        if callee in _WRAPPERS:
            return built.args[0]
        if isinstance(built.func, ast.Name) and built.func.id in self.classes:
            if _calls_what_it_was_given(self.classes[built.func.id]):
                return built.args[0]
        return None


def _calls_what_it_was_given(cls: ast.ClassDef) -> bool:
    """``__init__(self, fn)`` stores ``self.<a> = fn``, and ``__call__`` returns ``self.<a>(…)``."""
    methods = {node.name: node for node in cls.body if isinstance(node, ast.FunctionDef)}
    init, call = methods.get("__init__"), methods.get("__call__")
    if init is None or call is None or len(init.args.args) < 2:
        return False
    given = init.args.args[1].arg
    stored = {
        target.attr
        for statement in init.body
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Name) and statement.value.id == given
        for target in statement.targets
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"
    }
    returns = [node for node in call.body if isinstance(node, ast.Return)]
    if len(returns) != 1 or not isinstance(returns[0].value, ast.Call):
        return False
    called = returns[0].value.func
    return isinstance(called, ast.Attribute) and called.attr in stored and (
        isinstance(called.value, ast.Name) and called.value.id == "self"
    )
