"""The command line is a thin layer: arguments (cli) -> commands -> a check session ->
the writer, and nothing imports upward. Read from the import statements, function-level
ones included, so that a late import cannot hide a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import stablelint

PACKAGE = Path(stablelint.__file__).parent

# Each module, and the modules of this layer it must never import (directly).
UPWARD = {
    "signals": {"writer", "session", "add_noqa", "commands", "cli", "server"},
    "writer": {"session", "add_noqa", "commands", "cli", "server"},
    "session": {"add_noqa", "commands", "cli", "server"},
    "add_noqa": {"commands", "cli", "server"},
    "commands": {"cli"},
    "server": {"commands", "cli"},
}


def imported_modules(module: str) -> set[str]:
    """The stablelint modules (first component below the package) that ``module`` imports."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "stablelint":
                names = [f"stablelint.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        else:
            continue
        found |= {name.split(".")[1] for name in names if name.startswith("stablelint.")}
    return found


def test_no_module_of_the_command_line_imports_upward():
    for module, above in UPWARD.items():
        assert not imported_modules(module) & above, module


def test_the_command_line_layer_has_no_import_circle():
    layer = set(UPWARD)
    graph = {module: imported_modules(module) & layer for module in layer}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    assert [module for module in layer if reaches(module, module, set())] == []
    assert "cli" not in imported_modules("add_noqa") and "add_noqa" not in imported_modules("cli")


def test_the_command_line_is_arguments_and_dispatch():
    # The writer and the session are not in cli.py: it neither writes files nor starts workers.
    source = (PACKAGE / "cli.py").read_text(encoding="utf-8")
    for absent in ("os.replace", "NamedTemporaryFile", "ProcessPoolExecutor"):
        assert absent not in source
