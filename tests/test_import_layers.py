"""The package's modules import one way, down the layers (DESIGN.md, "Layers"): no module
imports, at module level, one that imports it back, directly or through others. (Imports
inside functions and under ``TYPE_CHECKING`` are left out: they do not run at import time.)"""

from __future__ import annotations

import ast
from pathlib import Path

import stablelint

PACKAGE = Path(stablelint.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _statements(body: list[ast.stmt], deferred: bool):
    """The statements that run when the module is imported (with ``deferred``: also those
    in its functions, which run later), without ``if TYPE_CHECKING:`` blocks."""
    for statement in body:
        if isinstance(statement, ast.If):
            test = statement.test
            if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING" or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
            ):
                yield from _statements(statement.orelse, deferred)
                continue
            yield from _statements(statement.body, deferred)
            yield from _statements(statement.orelse, deferred)
        elif isinstance(statement, ast.Try):
            for block in (statement.body, statement.orelse, statement.finalbody):
                yield from _statements(block, deferred)
            for handler in statement.handlers:
                yield from _statements(handler.body, deferred)
        elif deferred and isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.With)):
            yield from _statements(statement.body, deferred)
        else:
            yield statement


def module_imports(name: str, *, deferred: bool = False) -> set[str]:
    """The package's modules that ``name`` imports when it is imported (with ``deferred``,
    also those its functions import when they run)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for statement in _statements(ast.parse(path.read_text()).body, deferred):
        if isinstance(statement, ast.Import):
            found.update(alias.name for alias in statement.names)
        elif isinstance(statement, ast.ImportFrom):
            if statement.level:
                base = package.rsplit(".", statement.level - 1)[0] if statement.level > 1 else package
                module = f"{base}.{statement.module}" if statement.module else base
            else:
                module = statement.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in statement.names)  # ``from pkg import mod``
    return {module for module in found if module in MODULES and module != name}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_package_has_no_import_cycle():
    graph = {name: module_imports(name) for name in MODULES}
    assert import_cycles(graph) == []


def _layer(name: str) -> str:
    """``stablelint.analysis.x`` -> analysis, ``stablelint.rules.x`` -> rules, else the module."""
    parts = name.split(".")
    return parts[1] if len(parts) > 2 else name


def test_no_cycle_even_through_imports_deferred_into_functions():
    """A function-level import is a way around a circle, not out of it: what two modules
    both need lives below both (``syntax.reference``, ``scopes.argument_for``), so even the
    imports that run late form no circle, within a layer or across layers."""
    graph = {name: module_imports(name, deferred=True) for name in MODULES}
    assert import_cycles(graph) == []


def test_no_cycle_across_layers_even_through_imports_deferred_into_functions():
    """A function-level import that closes a circle between layers (analysis -> rules -> analysis)
    means a fact sits in the wrong layer. (A deferred circle inside one layer is that layer's own.)"""
    graph = {name: module_imports(name, deferred=True) for name in MODULES}
    crossing = [cycle for cycle in import_cycles(graph) if len({_layer(name) for name in cycle}) > 1]
    assert crossing == []


def test_the_analysis_imports_nothing_above_it_not_even_inside_a_function():
    above = (
        "stablelint.rules", "stablelint.engine", "stablelint.fixes", "stablelint.cli", "stablelint.format",
        "stablelint.sarif", "stablelint.server", "stablelint.docs",
    )
    for name in MODULES:
        if name.startswith("stablelint.analysis"):
            assert not [module for module in module_imports(name, deferred=True) if module.startswith(above)], name


def test_the_cycle_finder_finds_a_cycle_through_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c"]]


def test_a_from_import_of_a_submodule_counts_as_importing_it():
    assert "stablelint.frameworks" in module_imports("stablelint.engine")
    assert "stablelint.analysis.values" in module_imports("stablelint.analysis.shapes")
