"""The project index: values, guards and precision across the files of a project.

Within one file the evaluator (``evaluate.py``) follows a value through assignments,
methods, helpers and call sites, using that file's summaries (``summaries.py``). The index
lets it go one step further: a name the file imports from another module of the project
(``from .layers import probs_of``, ``import pkg.losses as L``, ``from . import layers``, a
re-export in ``__init__.py``) resolves to that module's function, class (an nn/Keras/Flax
module whose call returns what its ``forward``/``call``/``__call__`` returns) or constant,
and the module's own evaluator says what it returns, given the arguments of the call at
hand. What comes back is *exported*: stripped of the other file's syntax nodes (a rule
can neither quote nor rewrite code it does not see), with the dtype its own autocast
regions give it, non-local, and saying where it came from
(``probs_of(...) comes from layers.probs_of (layers.py:12)``).

The index also holds the precision profile (``precision_profile.py``): the settings that
make the project compute in float16/bfloat16, and the modules they reach through the
project's imports.

Bounds (anything past them is unknown: no claim, never an error):
- a value crosses at most ``MAX_HOPS`` modules (``a.f`` returns ``b.g(...)`` returns …),
  and a module being summarized is not entered again (import cycles);
- at most ``MAX_MODULES`` modules are analysed per project and process, each at most
  ``MAX_FILE_BYTES`` long; the profile reads at most ``MAX_FILES`` files;
- star imports, ``importlib``/``__import__``, names bound twice and files that do not parse
  resolve to nothing.

The project root is the folder of the configuration (``pyproject.toml`` with
``[tool.stablelint]``), else the nearest folder above the file with a ``pyproject.toml``,
``setup.py``, ``setup.cfg``, ``.git`` or ``.hg`` (searched no higher than the current
folder, or the root a front-end gives -- the CLI: the common root of the paths it checks --
whichever is higher and holds the file), else the folder holding the file's top package (``root_for``). ``/``, the home
folder and the temporary folder are never a root without a configuration: a file directly
in one is checked alone. Only regular files are read (a FIFO named ``*.py`` would block).
Every front-end asks ``index_for(path)`` and gets the same index.

Across runs (the CLI's cache): a cached finding records what it rested on (``depends``: the
modules it read, the files that spell a function whose callers it followed, the profile's
verdict, and a stamp of the project's files); while the stamp holds, a re-run trusts the
finding without loading the index (``project_files.unchanged``), and after an edit it checks
again the files whose record names the edited module. What a file says by its text alone is
kept by the text's digest (``use_cache``): its precision-profile evidence. Summaries (what a
function returns) are not kept: they are derived for the arguments of the call at hand, and
rest on other modules in turn, so a file checked again derives those it needs again.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import weakref
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import compress, repeat
from operator import contains

from stablelint.analysis import precision_profile, project_files
from stablelint.analysis import values as v
from stablelint.analysis.autocast import FLOAT32, LOWER, OFF
from stablelint.analysis.evaluate import Evaluator, Ranges, is_affine
from stablelint.analysis.project_files import (  # noqa: F401  (the index's public names: DiskFiles, set_root ...)
    MAX_FILE_BYTES,
    MAX_FILES,
    ROOT_VARIABLE,
    DiskFiles,
    MemoryFiles,
    root_for,
    set_root,
)
from stablelint.analysis.values import ModuleSpec, Value
from stablelint.ir import ImportTable, Normalizer, SourceIndex
from stablelint.prefilter import loss_lines, mentions_a_loss
from stablelint.scopes import argument_for, parameters
from stablelint.syntax import nodes_on_lines, reference

MAX_HOPS = 4
MAX_REMOTE_CALLERS = 16  # calls of one function in other modules followed to its parameters
MAX_MODULES = 4000
_EXPORT_DEPTH = 12


# -- what a name the file imports stands for

@dataclass(frozen=True)
class Binding:
    """``local`` names ``module`` (dotted, searched from each of ``bases``), or its ``attr``."""

    bases: tuple[str, ...]  # folders relative to the root, "" for the root itself
    module: str
    attr: str | None


@dataclass
class Target:
    kind: str  # "function", "class", "constant", "module"
    analysis: "ModuleAnalysis"
    name: str = ""
    node: ast.AST | None = None
    line: int = 0

    @property
    def qualified(self) -> str:
        return f"{self.analysis.dotted}.{self.name}" if self.name else self.analysis.dotted


# Libraries whose modules a project may hand on under its own name (``mypkg.backend.np``).
_LIBRARIES = frozenset({
    "numpy", "scipy", "torch", "tensorflow", "jax", "keras", "autograd", "cupy", "cupyx", "trax", "math",
})


def _folder(relative: str) -> str:
    folder = os.path.dirname(relative)
    return folder.replace(os.sep, "/")


def bindings_of(tree: ast.Module, relative: str, files, stars: list | None = None) -> dict[str, Binding]:
    """Every name the module's imports bind, absolute and relative, resolved to where the
    project would find it (not yet whether it does)."""
    folder = _folder(relative)
    absolute_bases = _absolute_bases(folder, files)
    table: dict[str, Binding] = {}
    twice: set[str] = set()

    def bind(local: str, binding: Binding) -> None:
        if local in table and table[local] != binding:
            twice.add(local)
        table[local] = binding

    pending = list(tree.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    bind(alias.asname, Binding(absolute_bases, alias.name, None))
                else:
                    top = alias.name.split(".", 1)[0]
                    bind(top, Binding(absolute_bases, top, None))
        elif isinstance(statement, ast.ImportFrom):
            if statement.level:
                base = folder
                for _ in range(statement.level - 1):
                    if not base:
                        base = None
                        break
                    base = _folder(base)
                if base is None:
                    continue  # beyond the root
                bases, module = (base,), statement.module or ""
            else:
                bases, module = absolute_bases, statement.module or ""
            for alias in statement.names:
                if alias.name != "*":
                    bind(alias.asname or alias.name, Binding(bases, module, alias.name))
                elif stars is not None:
                    stars.append((bases, module))
        else:
            for child_field in ("body", "orelse", "finalbody", "handlers"):
                pending.extend(getattr(statement, child_field, None) or ())
    for local in twice:
        del table[local]
    return table


def _absolute_bases(folder: str, files) -> tuple[str, ...]:
    """Where ``import x`` is searched from a module in ``folder``: a package module's imports
    start at the root, then its own folder (a script run from there); a script's folder
    comes first (it is first on sys.path)."""
    if not folder:
        return ("",)
    in_package = files.exists(f"{folder}/__init__.py")
    return ("", folder) if in_package else (folder, "")


# -- one module of the project, analysed

@dataclass
class Occurrences:
    """Where a module spells some names (loaded) and attributes, with the function each
    stands in and the call it is the callee of (None when it is not called there)."""

    names: dict[str, list[tuple[ast.AST, ast.AST, ast.Call | None]]]
    attributes: dict[str, list[tuple[ast.AST, ast.AST, ast.Call | None]]]


class ModuleAnalysis:
    """A module's tree and evaluator (the file-level analysis), built on first use."""

    def occurrences(self, names: frozenset[str], attributes: frozenset[str]) -> Occurrences:
        """The loaded ``names`` and the ``attributes`` of that name the module spells. Only
        the statements on the lines whose text spells one of the words are walked."""
        key = (names, attributes)
        found = self._occurrences.get(key)
        if found is not None:
            return found
        words = names | attributes
        lines = _lines_spelling(self.source, words) if words else []
        called: dict[int, ast.Call] = {}
        by_name: dict[str, list] = {}
        by_attribute: dict[str, list] = {}
        for node, scope in nodes_on_lines(self.tree, lines):
            kind = type(node)
            if kind is ast.Call:
                called[id(node.func)] = node
            elif kind is ast.Name:
                if node.id in names and type(node.ctx) is ast.Load:
                    by_name.setdefault(node.id, []).append((node, scope, called.get(id(node))))
            elif kind is ast.Attribute and node.attr in attributes:
                # A callee is visited after its call (the walk is depth-first from the top).
                by_attribute.setdefault(node.attr, []).append((node, scope, called.get(id(node))))
        found = self._occurrences[key] = Occurrences(by_name, by_attribute)
        return found

    def __init__(self, index: "ProjectIndex", relative: str, source: str, tree: ast.Module):
        self.index = index
        self.relative = relative
        self.source = source
        self.tree = tree
        self.dotted = _dotted(relative)
        imports = ImportTable.from_tree(tree)
        self.evaluator = Evaluator(Normalizer(imports), tree, SourceIndex(source).text, source)
        self.evaluator.project = ProjectView(index, relative, tree)
        self._occurrences: dict[tuple[frozenset[str], frozenset[str]], Occurrences] = {}
        self._classes: list[ast.ClassDef] | None = None
        self._self_calls: dict[int, dict[str, list[tuple[ast.Call, ast.AST]]]] = {}

    @property
    def classes(self) -> list[ast.ClassDef]:
        """The module's classes at any depth, in ``ast.walk`` order (found once: every method
        whose callers are looked for in subclasses asks again)."""
        if self._classes is None:
            self._classes = [node for node in _statements_breadth_first(self.tree) if type(node) is ast.ClassDef]
        return self._classes

    def self_calls(self, node: ast.ClassDef) -> dict[str, list[tuple[ast.Call, ast.AST]]]:
        """The ``self.<name>(...)`` calls in the methods of class ``node`` (``self`` being
        each method's first parameter), by name, each with its method: walked once per
        class, not once for every method whose callers are looked for in subclasses."""
        from stablelint.scopes import parameters

        found = self._self_calls.get(id(node))
        if found is None:
            found = self._self_calls[id(node)] = {}
            for method in node.body:
                if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                arguments = parameters(method)
                if not arguments:
                    continue
                me = arguments[0].arg
                for inner in ast.walk(method):
                    if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and \
                            isinstance(inner.func.value, ast.Name) and inner.func.value.id == me:
                        found.setdefault(inner.func.attr, []).append((inner, method))
        return found


_STATEMENT_FIELDS = ("body", "handlers", "cases", "orelse", "finalbody")


def _statements_breadth_first(tree: ast.Module):
    """The statements of ``tree`` in ``ast.walk`` order (breadth first), without entering
    expressions, where no statement stands (handlers and match cases are levels, as there)."""
    pending = deque([tree])
    while pending:
        current = pending.popleft()
        yield current
        for name in current._fields:
            if name in _STATEMENT_FIELDS:
                pending.extend(getattr(current, name))


def _dotted(relative: str) -> str:
    name = relative[:-3] if relative.endswith(".py") else relative
    if name.endswith("/__init__"):
        name = name[: -len("/__init__")]
    return name.replace("/", ".")


class ProjectView:
    """What one file of the project sees of the others: its import bindings, resolved."""

    def __init__(self, index: "ProjectIndex", relative: str, tree: ast.Module):
        self.index = index
        self.relative = relative
        self.tree = tree
        self._bindings: dict[str, Binding] | None = None

    @property
    def bindings(self) -> dict[str, Binding]:
        if self._bindings is None:
            table, stars = self.index.bindings_in(self.relative, self.tree)
            self._stars: list[tuple[tuple[str, ...], str]] = list(stars)
            self._bindings = dict(table)  # ``binds`` adds what a ``*`` import brings
            self._not_starred: set[str] = set()
            self._own: set[str] | None = None
        return self._bindings

    def binds(self, name: str) -> bool:
        bindings = self.bindings
        if name in bindings:
            return True
        if not self._stars or name in self._not_starred:
            return False
        self._not_starred.add(name)
        if name in self._own_names():
            return False
        # ``from .model import *``: the one star-imported project module that defines it.
        found = [
            (bases, module) for bases, module in self._stars
            if (path := self.index.module_path(bases, module)) is not None
            and not path.endswith("__init__.py") and self.index.symbol(path, name) is not None
        ]
        if len(found) != 1 or any(self.index.module_path(b, m) is None for b, m in self._stars):
            return False  # two modules define it, or a star of a module the project lacks
        bases, module = found[0]
        bindings[name] = Binding(bases, module, name)
        return True

    def _own_names(self) -> set[str]:
        """The names the module binds itself at its top level (they hide a ``*`` import)."""
        if self._own is None:
            own: set[str] = set()
            pending = list(self.tree.body)
            while pending:
                statement = pending.pop()
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    own.add(statement.name)
                    continue
                for node in ast.walk(statement):
                    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                        own.add(node.id)
            self._own = own
        return self._own

    def spelled_elsewhere(self, word: str) -> bool:
        """Can another module of the project use ``word`` of this one (build the class there)?
        One that spells it and may import from this module: it names a part of its path
        (``models``, the package that re-exports it) or imports with ``*``."""
        index = self.index
        index.consulted.add(index.CALLERS + word)  # the answer rests on the files that spell it
        module_words = [part for part in _dotted(self.relative).split(".") if part]
        for other in index.files_spelling(word):
            if other == self.relative:
                continue
            text = index.files.read(other) or ""
            if _star_imports_from_project(text) or any(part in text for part in module_words):
                return True
        return False

    def remote_sites(self, function: ast.AST, owner: ast.ClassDef | None) -> list | None:
        """The calls of this file's ``function`` in other modules (None: not all in sight)."""
        return self.index.callers(self.relative, function, owner)

    # -- values for the evaluator

    def call_value(self, evaluator, func: ast.expr, call: ast.Call, scope) -> Value | None:
        """The value of ``call`` when ``func`` names a function or class of another module."""
        found = reference(func)
        if found is None or found[0] not in self.bindings:
            return None
        target = self.index.lookup(self, found[0], found[1])
        if target is None or target.kind not in ("function", "class"):
            return None
        index = self.index
        if index.hops >= MAX_HOPS or (target.analysis.relative, target.name) in index.active:
            return None
        index.hops += 1
        index.active.add((target.analysis.relative, target.name))
        try:
            if target.kind == "class":
                return self._instance(target, call)
            return self._returned(evaluator, target, call, scope)
        finally:
            index.hops -= 1
            index.active.discard((target.analysis.relative, target.name))

    def _returned(self, evaluator, target: Target, call: ast.Call, scope) -> Value | None:
        function = target.node
        callee = target.analysis.evaluator
        passed = set(map(id, call.args)) | {id(keyword.value) for keyword in call.keywords}
        arguments: dict[str, Value] = {}
        for position, arg in enumerate(parameters(function)):
            argument = argument_for(call, function, arg, position)
            if argument is None:
                continue
            if id(argument) in passed:
                # The caller's own value: its nodes stay until the result is exported.
                arguments[arg.arg] = evaluator.of(argument, scope)
            else:
                arguments[arg.arg] = callee.module_value(argument)  # a default, in its own module
        summary = callee.returned_value(function, arguments)
        if summary is None:
            return None
        value, line = summary
        if not value.known:
            return Value(v.UNKNOWN, node=call, integer=value.integer)
        where = f"{target.analysis.relative}:{line}"
        origin = f"{_short(ast.unparse(call.func))}(...) comes from {target.qualified} ({where})"
        return replace(export(value, callee.autocast), node=call).remote(origin)

    def _instance(self, target: Target, call: ast.Call) -> Value | None:
        value = target.analysis.evaluator.instance_value(target.node)
        if value is None or value.kind != v.MODULE or not isinstance(value.detail, ModuleSpec):
            return None
        spec = value.detail
        result = export(spec.result, target.analysis.evaluator.autocast) if spec.result is not None else None
        forward_with = None
        if spec.forward_with is not None:
            forward_with = partial(_exported_call, spec.forward_with, target.analysis.evaluator.autocast)
        attribute = None
        if spec.attribute is not None:
            attribute = partial(_exported_attribute, spec.attribute, target.analysis.evaluator.autocast,
                                target.analysis.relative)
        described = replace(spec, description=f"{target.qualified}(...)", result=result,
                            file=target.analysis.relative, forward_with=forward_with, attribute=attribute)
        return Value(v.MODULE, value.framework, node=call, detail=described)

    def name_value(self, name: str, attributes: list[str], expr: ast.expr) -> Value | None:
        """The value of a module-level name (a constant, a module object) of another module."""
        target = self.index.lookup(self, name, attributes)
        if target is None or target.kind != "constant":
            return None
        index = self.index
        key = (target.analysis.relative, target.name)
        if index.hops >= MAX_HOPS or key in index.active:
            return None
        index.hops += 1
        index.active.add(key)
        try:
            evaluator = target.analysis.evaluator
            value = evaluator.module_value(target.node)
        finally:
            index.hops -= 1
            index.active.discard(key)
        if not value.known:
            return Value(v.UNKNOWN, node=expr, integer=value.integer) if value.integer else None
        exported = export(value, evaluator.autocast, file=target.analysis.relative)
        if exported.kind == v.CONST:
            return replace(exported, node=expr)
        origin = f"{_short(ast.unparse(expr))} comes from {target.qualified} ({target.analysis.relative}:{target.line})"
        return replace(exported, node=expr).remote(origin)


def _exported_call(forward_with, autocast, positional: list[Value], keywords: dict[str, Value]) -> Value | None:
    """A module object's call result summarized in its own module, as the calling module sees it."""
    found = forward_with(positional, keywords)
    return export(found, autocast) if found is not None else None


def _loss_objects_in(text: str) -> frozenset[str]:
    return frozenset(loss_lines(text, set())[1]) if mentions_a_loss(text) else frozenset()


def _exported_attribute(attribute, autocast, file: str, name: str) -> Value | None:
    """An attribute of a module object of another module's class, as the calling module sees it."""
    found = attribute(name)
    return export(found, autocast, file=file) if found is not None else None


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def export(value: Value, autocast=None, depth: int = 0, *, file: str | None = None) -> Value:
    """A value as another file sees it: no syntax nodes of its own file (nothing to quote
    or rewrite), the dtype its autocast region gave it, non-local."""
    if depth > _EXPORT_DEPTH:
        return Value(v.UNKNOWN, integer=value.integer)
    if value.kind == v.ADD and value.node is not None:
        ranges = Ranges(None, autocast)
        if is_affine(value, [ranges.of(operand) for operand in value.operands]):
            # ``x @ w + b`` spans all of R; said by its own file, where the sum is written.
            return Value(v.LINEAR, value.framework, dtype=value.dtype, local=False)
    dtype = value.dtype
    if dtype is None and autocast is not None and value.node is not None and value.framework in (None, "torch"):
        region = autocast.at(value.node)
        if region is not None and region != OFF:
            dtype = region if value.kind in LOWER else "float32" if value.kind in FLOAT32 else None
    operands = tuple(export(operand, autocast, depth + 1, file=file) for operand in value.operands)
    detail = value.detail
    if isinstance(detail, ast.AST):
        detail = None
    elif isinstance(detail, ModuleSpec):
        result = export(detail.result, autocast, depth + 1, file=file) if detail.result is not None else None
        detail = replace(detail, result=result, file=detail.file or file)
    elif isinstance(detail, tuple):
        detail = tuple(
            export(item, autocast, depth + 1, file=file) if isinstance(item, Value)
            else None if isinstance(item, ast.AST) else item
            for item in detail
        )
    return replace(value, node=None, op=None, operands=operands, detail=detail, dtype=dtype, via=(), local=False)


# -- the index

@dataclass
class Reach:
    """Which modules the precision profile's evidence reaches."""

    evidence: list[precision_profile.Evidence] = field(default_factory=list)
    reached: dict[str, precision_profile.Evidence] = field(default_factory=dict)  # module -> its evidence


class ProjectIndex:
    """Module summaries and the precision profile of one project, built on demand."""

    def __init__(self, root: str, files=None):
        self.root = root
        self.files = files if files is not None else DiskFiles(root)
        self._analyses: dict[str, ModuleAnalysis | None] = {}
        self._reach: Reach | None = None
        self.hops = 0
        self.active: set[tuple[str, str]] = set()
        self.consulted: set[str] = set()  # modules read for the file being checked
        self._spelled: dict[str, set[bytes]] | None = None  # file -> the identifiers it spells
        self._spelling: dict[str, list[str]] = {}  # identifier -> the files that spell it (asked so far)
        self._prose: dict[str, tuple[str, list[int]]] = {}  # file -> (its text, its strings' and comments' spans)
        self._import_text: dict[str, tuple[str, str]] = {}  # file -> (its text, its lines that say "import")
        self._callers: dict[tuple, list | None] = {}
        self._imports_spelled: dict[str, frozenset[str]] = {}  # module -> the words of its imports
        self._last_bindings: tuple | None = None
        self._stamp: str | None = None  # of the project's files (``FILES``), once per run
        self._module_paths: dict[tuple[tuple[str, ...], str], str | None] = {}
        self._loss_objects: dict[str, frozenset[str]] | None = None  # file -> the names it binds loss objects to

    # -- files and modules

    def relative(self, path: str) -> str | None:
        """``path`` relative to the root (``/``-separated), None outside it."""
        if isinstance(self.files, MemoryFiles):
            return path if path in self.files.texts else None
        full = os.path.abspath(path)
        try:
            relative = os.path.relpath(full, self.root)
        except ValueError:
            return None
        if relative.startswith(".."):
            return None
        return relative.replace(os.sep, "/")

    def module_path(self, bases: tuple[str, ...], dotted: str) -> str | None:
        """The file of module ``dotted`` searched from each of ``bases`` (each asked once per
        run, or until an edit: the profile's reach and every import ask again)."""
        key = (bases, dotted)
        if key not in self._module_paths:
            self._module_paths[key] = self._module_path(bases, dotted)
        return self._module_paths[key]

    def _module_path(self, bases: tuple[str, ...], dotted: str) -> str | None:
        parts = [part for part in dotted.split(".") if part] if dotted else []
        for base in bases:
            stem = "/".join(([base] if base else []) + parts)
            candidates = [f"{stem}.py", f"{stem}/__init__.py"] if stem else ["__init__.py"]
            for candidate in candidates:
                if self.files.exists(candidate):
                    return candidate
        return None

    def analysis(self, relative: str, *, source: str | None = None, tree: ast.Module | None = None):
        if relative in self._analyses:
            return self._analyses[relative]
        if len(self._analyses) >= MAX_MODULES:
            return None
        analysis = None
        text = source if source is not None else self.files.read(relative)
        if text is not None and len(text) <= MAX_FILE_BYTES:
            try:
                parsed = tree if tree is not None else ast.parse(text)
                analysis = ModuleAnalysis(self, relative, text, parsed)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                analysis = None
        self._analyses[relative] = analysis
        return analysis

    def parsed(self, path: str, source: str) -> ast.Module | None:
        """The tree of ``path`` when the index has parsed this very text already."""
        relative = self.relative(path)
        analysis = self._analyses.get(relative) if relative is not None else None
        return analysis.tree if analysis is not None and analysis.source == source else None

    def forget(self, relative: str) -> None:
        """An edited module: its summary is derived again when next asked (the language
        server calls this on each change). Values other modules drew from it live in
        their own evaluators' memos: those are forgotten too."""
        if relative in self._analyses:
            self._analyses.clear()
        self._reach = None
        self._stamp = None
        self.files.forget()  # a module added or removed
        project_files.forget_stamp(self.root)
        self._module_paths.clear()  # a module added or removed beside it
        self._imports_spelled.pop(relative, None)
        self._callers.clear()  # a call added, removed or changed in it
        if self._spelled is not None:
            self._spelled[relative] = _identifiers(self.files.read(relative) or "")
            self._spelling.clear()
        if self._loss_objects is not None:
            self._loss_objects[relative] = _loss_objects_in(self.files.read(relative) or "")

    # -- names

    def lookup(self, view: ProjectView, name: str, attributes: list[str], depth: int = 0) -> Target | None:
        binding = view.bindings.get(name)
        if binding is None or depth > MAX_HOPS:
            return None
        if binding.attr is not None:
            path = self.module_path(binding.bases, binding.module)
            if path is not None:
                found = self.symbol(path, binding.attr, depth + 1)
                if found is not None:
                    if not attributes:
                        return found
                    if found.kind != "module":
                        return None  # an attribute of a class or a value: not followed
                    return self._within(found.analysis.relative, attributes, depth)
            dotted = f"{binding.module}.{binding.attr}" if binding.module else binding.attr
        else:
            dotted = binding.module
        path = self.module_path(binding.bases, dotted)
        if path is None:
            return None
        current = dotted
        while attributes:
            deeper = self.module_path(binding.bases, f"{current}.{attributes[0]}")
            if deeper is None:
                break
            current, path, attributes = f"{current}.{attributes[0]}", deeper, attributes[1:]
        return self._within(path, attributes, depth)

    def reexported_modules(self, relative: str, tree: ast.Module) -> dict[str, str]:
        """Local names of ``relative`` that a project module hands on from a library:
        ``from mypkg.backend import np`` where backend.py says ``import autograd.numpy as np``,
        ``from mypkg import np`` where mypkg/np.py says ``from numpy import *``.
        Local name -> the library module's qualified name."""
        found: dict[str, str] = {}
        for local, binding in self.bindings_in(relative, tree)[0].items():
            dotted = binding.module
            if binding.attr is not None:
                path = self.module_path(binding.bases, binding.module)
                handed_on = self._imported_there(path, binding.attr) if path is not None else None
                if handed_on is not None:
                    found[local] = handed_on
                    continue
                dotted = f"{binding.module}.{binding.attr}" if binding.module else binding.attr
            path = self.module_path(binding.bases, dotted)
            star = self._star_import_of(path) if path is not None else None
            if star is not None:
                found[local] = star
        return found

    def bindings_in(self, relative: str, tree: ast.Module) -> tuple[dict[str, Binding], list]:
        """``bindings_of`` the module, and its ``*`` imports; the last one asked is kept (the
        engine asks for the file it checks twice), by a weak reference to its tree: the
        tree of a checked file is not kept alive after its check."""
        last = self._last_bindings
        if last is None or last[0]() is not tree or last[1] != relative:
            stars: list[tuple[tuple[str, ...], str]] = []
            table = bindings_of(tree, relative, self.files, stars)
            last = self._last_bindings = (weakref.ref(tree), relative, table, stars)
        return last[2], last[3]

    def _imported_there(self, path: str, name: str) -> str | None:
        if name not in self._import_words(path):
            return None  # no import of the module spells it: nothing to parse the module for
        analysis = self.analysis(path)
        if analysis is None:
            return None
        qualified = analysis.evaluator.imports.names.get(name)
        if qualified is None or qualified.split(".")[0] not in _LIBRARIES:
            return None
        self.consulted.add(path)
        return qualified

    def _import_words(self, path: str) -> frozenset[str]:
        """The identifiers in the statements of module ``path`` that spell ``import``
        (``from numpy import (exp,\n log)``, ``np = try_import("numpy")``): a text search
        that holds every name an import there binds."""
        words = self._imports_spelled.get(path)
        if words is None:
            analysis = self._analyses.get(path)
            text = analysis.source if analysis is not None else self.files.read(path) or ""
            found: set[str] = set()
            for match in _IMPORT_WORD.finditer(text):
                found.update(_IDENTIFIER.findall(text, *_logical_line(text, match.start())))
            words = self._imports_spelled[path] = frozenset(found)
        return words

    def _star_import_of(self, path: str) -> str | None:
        known = self._analyses.get(path)
        if not _star_imports(known.source if known is not None else self.files.read(path) or ""):
            return None  # no ``from x import *``: nothing to parse the module for
        analysis = self.analysis(path)
        if analysis is None:
            return None
        stars = [
            statement.module for statement in analysis.tree.body
            if isinstance(statement, ast.ImportFrom) and not statement.level and statement.module
            and any(alias.name == "*" for alias in statement.names)
        ]
        if len(stars) != 1 or stars[0].split(".")[0] not in _LIBRARIES:
            return None
        self.consulted.add(path)
        return stars[0]

    def _within(self, path: str, attributes: list[str], depth: int) -> Target | None:
        if not attributes:
            analysis = self.analysis(path)
            if analysis is None:
                return None
            self.consulted.add(path)
            return Target("module", analysis)
        if len(attributes) == 1:
            return self.symbol(path, attributes[0], depth + 1)
        return None

    def symbol(self, path: str, name: str, depth: int = 0) -> Target | None:
        """A module-level function, class, constant or re-exported name of module ``path``."""
        analysis = self.analysis(path)
        if analysis is None or depth > MAX_HOPS:
            return None
        self.consulted.add(path)
        facts = analysis.evaluator.facts
        tree = analysis.tree
        function = facts.functions.get(name)
        if function is not None and facts.enclosing.get(id(function)) is tree:
            return Target("function", analysis, name, function, function.lineno)
        cls = facts.classes.get(name)
        if cls is not None and facts.enclosing.get(id(cls)) is tree:
            return Target("class", analysis, name, cls, cls.lineno)
        if function is not None or cls is not None:
            return None
        view = analysis.evaluator.project
        if name in view.bindings:
            return self.lookup(view, name, [], depth + 1)  # a re-export (``from .layers import f``)
        definition = facts.function_facts(tree).definition(name)
        if definition is not None:
            return Target("constant", analysis, name, definition[0], definition[1])
        if path.endswith("__init__.py"):
            # ``from pkg import layers`` where layers is a submodule of the package.
            submodule = self.module_path((_folder(path),), name)
            if submodule is not None:
                return self._within(submodule, [], depth)
        return None

    # -- callers in other modules (call-site facts for parameters)

    def loss_object_names(self) -> frozenset[str]:
        """The names the project's modules bind loss objects to (``self.loss =
        nn.BCELoss()``, ``criterion = nn.NLLLoss()``): another module may call one
        (``model.loss(pred, y)``) without naming a loss itself."""
        if self._loss_objects is None:
            self._loss_objects = {
                relative: _loss_objects_in(self.files.read(relative) or "") for relative in self.files.python_files()
            }
        self.consulted.add(self.LOSSES)
        return frozenset().union(*self._loss_objects.values())

    def files_spelling(self, word: str) -> list[str]:
        """The project files whose text has ``word`` as an identifier. The identifiers of
        each file are gathered the first time any word is asked; each word's files when
        it is asked (a few hundred words, not the tens of thousands a project spells)."""
        found = self._spelling.get(word)
        if found is None:
            if self._spelled is None:
                spelled: dict[str, set[bytes]] = {}
                for relative in self.files.python_files():
                    text = self.files.read(relative)
                    if text is not None:
                        spelled[relative] = _identifiers(text)
                self._spelled = spelled
            key = word.encode("utf-8", "surrogatepass")
            spelled = self._spelled
            found = self._spelling[word] = list(compress(spelled, map(contains, spelled.values(), repeat(key))))
        return found

    def callers(self, relative: str, function: ast.AST, owner: ast.ClassDef | None) -> list | None:
        """The calls of ``function`` (a module-level function, or a method of ``owner``) of
        module ``relative`` in the *other* modules of the project, or None when some other
        module uses it in a way that hides its callers (passes it as a value, imports it
        with ``*``)."""
        key = (relative, function.name, function.lineno, owner.name if owner is not None else None)
        word = owner.name if owner is not None else function.name
        # What the answer rests on, for the cache: every file that spells the word (an edit
        # there may add or change a call) and the list of them (a new file may call it).
        self.consulted.add(self.CALLERS + word)
        self.consulted.update(other for other in self.files_spelling(word) if other != relative)
        if key in self._callers:
            return self._callers[key]
        self._callers[key] = None  # while being found: a recursion finds nothing it can trust
        found = self._find_callers(relative, function, owner)
        self._callers[key] = found
        return found

    def _is(self, target: Target | None, relative: str, name: str, kind: str) -> bool:
        return target is not None and target.kind == kind and target.analysis.relative == relative and \
            target.name == name

    def _find_callers(self, relative: str, function: ast.AST, owner: ast.ClassDef | None) -> list | None:
        name = function.name
        word = owner.name if owner is not None else name
        # A module that imports from it names one of its path's parts (``layers``, or the
        # package that re-exports it).
        module_words = [part for part in _dotted(relative).split(".") if part]
        sites: list[RemoteSite] = []
        # (No ``\b`` before ``class``: a pattern that starts with a literal is searched fast.)
        derives = re.compile(r"class\s+\w+\s*\([^)]*\b" + re.escape(word) + r"\b") if owner is not None else None
        for other in self.files_spelling(word):
            if other == relative:
                continue
            text = self.files.read(other) or ""
            starred = _star_imports_from_project(text)
            if not starred and not any(part in text for part in module_words):
                continue  # does not name the module: it cannot import from it
            if derives is not None and not derives.search(text):
                continue  # derives no class from one of that name
            if owner is None and not starred and "." + name not in text and not any(
                spelled in self._import_lines(other, text) for spelled in (f"import {name}", f" {name},", f", {name}")
            ):
                continue  # neither imports the name nor spells ``m.name``: another function of that name
            if not self._spells_in_code(other, text, word):
                continue  # only a docstring, a comment or a string names it: no call, no base class
            analysis = self.analysis(other)
            if analysis is None:
                return None
            view = analysis.evaluator.project
            if owner is None:
                found = self._function_calls(analysis, view, relative, name, starred)
            else:
                found = self._subclass_calls(analysis, view, relative, owner, name)
            if found is None:
                return None
            sites.extend(found)
            if len(sites) > MAX_REMOTE_CALLERS:
                return None  # called from all over: no one value to claim, and costly to find out
        return sites

    def _import_lines(self, relative: str, text: str) -> str:
        """The lines of ``text`` that say "import", one text (joined by line breaks, which no
        searched word spells), kept per file: many functions' callers ask the same module."""
        known = self._import_text.get(relative)
        if known is None or known[0] is not text and known[0] != text:
            lines = "\n".join(line for line in text.splitlines() if "import" in line)
            known = self._import_text[relative] = (text, lines)
        return known[1]

    def _spells_in_code(self, relative: str, text: str, word: str) -> bool:
        """Does ``text`` spell ``word`` outside its comments and (non-f) strings? Found with
        one regex over the text (in C), kept per file, so that a module that names a function
        only in its docstrings is not parsed to find its calls."""
        known = self._prose.get(relative)
        if known is None or known[0] is not text and known[0] != text:
            known = self._prose[relative] = (text, _prose_spans(text))
        spans = known[1]
        return any(bisect_right(spans, match.start()) % 2 == 0
                   for match in re.finditer(r"\b" + re.escape(word) + r"\b", text))

    def _function_calls(self, analysis, view, relative: str, name: str, starred: bool) -> list | None:
        view.binds(name)  # a ``*`` import that brings it in unambiguously binds it
        aliases = {
            local for local, binding in view.bindings.items()
            if binding.attr is not None and self._may_hand_on(binding, name)
            and self._is(self.lookup(view, local, []), relative, name, "function")
        }
        facts = analysis.evaluator.facts
        # A bare ``name`` bound by nothing the file shows may come from a ``*`` import.
        hidden = starred and name not in view.bindings and name not in facts.functions and \
            name not in facts.classes
        occurrences = analysis.occurrences(frozenset(aliases | ({name} if hidden else set())), frozenset({name}))
        sites = []
        candidates = [item for alias in aliases for item in occurrences.names.get(alias, ())]
        candidates += occurrences.attributes.get(name, [])
        if hidden and occurrences.names.get(name):
            return None
        for node, scope, call in candidates:
            if isinstance(node, ast.Attribute):
                found = reference(node)
                if found is None or found[0] not in view.bindings or not self._is(
                        self.lookup(view, found[0], found[1]), relative, name, "function"):
                    continue
            if call is None:
                return None  # passed or stored: its callers are not all in sight
            sites.append(RemoteSite(call, 0, analysis, scope))
        return sites

    def _may_hand_on(self, binding: Binding, name: str) -> bool:
        """Can ``from <module> import <attr>`` bind a function called ``name``? Only when that
        module's text spells it (it defines it, or imports it from where it is defined)."""
        path = self.module_path(binding.bases, binding.module)
        if path is None:
            return False
        analysis = self._analyses.get(path)
        text = analysis.source if analysis is not None else self.files.read(path)
        return text is not None and name in text

    def _subclass_calls(self, analysis, view, relative: str, owner: ast.ClassDef, name: str) -> list | None:
        """``self.<name>(...)`` in the classes of ``analysis`` derived from ``owner`` (that do
        not define ``name`` themselves)."""
        sites = []
        for node in analysis.classes:
            derived = False
            for base in node.bases:
                found = reference(base)
                if found is not None and found[0] in view.bindings:
                    derived = derived or self._is(self.lookup(view, found[0], found[1]), relative, owner.name, "class")
                elif found is not None and (found[1] or [found[0]])[-1] == owner.name and \
                        found[0] not in analysis.evaluator.facts.classes:
                    return None  # a base of that name the imports do not show (``*``): cannot tell
            if not derived:
                continue
            if any(isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name
                   for item in node.body):
                continue  # overridden: its own calls go to its own method
            calls = analysis.self_calls(node).get(name, ())
            sites.extend(RemoteSite(call, 1, analysis, method) for call, method in calls)
        return sites

    # -- the precision profile

    def reach(self) -> Reach:
        if self._reach is None:
            self._reach = self._build_reach()
        return self._reach

    def _build_reach(self) -> Reach:
        reach = Reach()
        files = self.files.python_files()
        # Each file's evidence depends on its text alone: kept in the cache by the text's
        # digest, so a run after an edit derives it again for the edited files only.
        cache = _cache if isinstance(self.files, DiskFiles) else None
        record = _record_name(self.root) if cache is not None else ""
        stored = _evidence_record(cache.load_record(record)) if cache is not None else {}
        derived: dict[str, tuple[str, list[precision_profile.Evidence]]] = {}
        for relative in files:
            text = self.files.read(relative)
            if text is None:
                continue
            digest = _text_digest(text)
            known = stored.get(relative)
            evidence = known[1] if known is not None and known[0] == digest else \
                precision_profile.evidence_in(text, relative)
            derived[relative] = (digest, evidence)
            reach.evidence.extend(evidence)
        if cache is not None and derived != stored:
            cache.store_record(record, _evidence_body(derived))
        # From each file with evidence, its project imports, followed.
        edges: dict[str, list[str]] = {}
        for item in reach.evidence:
            pending = [item.path]
            seen: set[str] = set()
            if not item.local:
                reach.reached.setdefault(item.path, item)
            while pending and len(seen) < MAX_FILES:
                current = pending.pop()
                if current in seen:
                    continue
                seen.add(current)
                if current not in edges:
                    edges[current] = self._imported_modules(current)
                for module in edges[current]:
                    if module not in seen:
                        _prefer(reach.reached, module, item)
                        pending.append(module)
        return reach

    def _imported_modules(self, relative: str) -> list[str]:
        text = self.files.read(relative)
        if text is None:
            return []
        found = []
        for bases, dotted, names in _imports_in(text, relative, self.files):
            path = self.module_path(bases, dotted)
            if path is not None:
                found.append(path)
            for name in names:
                sub = self.module_path(bases, f"{dotted}.{name}" if dotted else name)
                if sub is not None:
                    found.append(sub)
        return found

    def precision_at(self, path: str) -> precision_profile.Evidence | None:
        """The evidence that the module at ``path`` computes in half precision, if any."""
        relative = self.relative(path)
        if relative is None:
            return None
        return self.reach().reached.get(relative)

    # -- what a file's findings rest on (for the cache)

    PROFILE = "<precision profile>"
    CALLERS = "<callers> "  # + a function's (or its class's) name: the files that spell it
    FILES = project_files.FILES  # every file's name, size and time: a cheap test that none changed
    LOSSES = "<loss objects>"  # the names the project binds loss objects to

    def depends(self, path: str) -> dict[str, str]:
        """The modules the last check of ``path`` read, each with a digest of its text; the
        precision profile's verdict on ``path`` when it was asked; for each function whose
        callers in other modules it looked for, the list of the files that spell its name."""
        found: dict[str, str] = {}
        for item in self.consulted:
            if item == self.PROFILE:
                found[item] = self._verdict(path)
            elif item == self.LOSSES:
                found[item] = " ".join(sorted(self.loss_object_names()))
            elif item.startswith(self.CALLERS):
                found[item] = self._spelling_digest(item[len(self.CALLERS):])
            else:
                found[item] = self.digest_of([item])
        if found:
            found[self.FILES] = self._files_stamp()
        return found

    def still(self, path: str, depends: dict[str, str]) -> bool:
        """Do the modules, the callers and the profile a cached finding rests on still say
        the same? When no file of the project changed name, size or time since, they do."""
        if self.FILES in depends and depends[self.FILES] == self._files_stamp():
            return True
        for item, digest in depends.items():
            if item == self.FILES:
                continue
            if item == self.PROFILE:
                now = self._verdict(path)
            elif item == self.LOSSES:
                now = " ".join(sorted(self.loss_object_names()))
            elif item.startswith(self.CALLERS):
                now = self._spelling_digest(item[len(self.CALLERS):])
            else:
                now = self.digest_of([item])
            if now != digest:
                return False
        return True

    def _spelling_digest(self, word: str) -> str:
        return hashlib.blake2b("\0".join(sorted(self.files_spelling(word))).encode(), digest_size=16).hexdigest()

    def _files_stamp(self) -> str:
        if self._stamp is None:
            if isinstance(self.files, DiskFiles):
                self._stamp = project_files.files_stamp(self.root, self.files)  # the cache's check asked it too
            else:
                self._stamp = self.files.stamp()
        return self._stamp

    def _verdict(self, path: str) -> str:
        evidence = self.precision_at(path)
        return evidence.said() if evidence is not None else ""

    def digest_of(self, relatives) -> str:
        """A digest of the texts of ``relatives``: what a cached finding that rests on
        them is keyed by."""
        digest = hashlib.blake2b(digest_size=16)
        for relative in sorted(relatives):
            text = self.files.read(relative) or ""
            digest.update(relative.encode() + b"\0" + text.encode("utf-8", "surrogatepass") + b"\0")
        return digest.hexdigest()


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Every byte that cannot be part of an ASCII identifier becomes a space: what stays, split,
# is the file's words, found in C (a regex's findall made a str of each, which cost more
# than parsing the file on a project of a few thousand modules).
_NOT_IDENTIFIER = bytes(
    code if chr(code).isascii() and (chr(code).isalnum() or chr(code) == "_") else ord(" ") for code in range(256)
)


def _identifiers(text: str) -> set[bytes]:
    """The identifiers ``text`` spells, as UTF-8: those `_IDENTIFIER` finds, except that
    letters after digits stay with them (``1e5`` is a number, not the name ``e5``)."""
    return set(text.encode("utf-8", "surrogatepass").translate(_NOT_IDENTIFIER).split())
_IMPORT_WORD = re.compile(r"import")

# A comment or a string literal: possessive loops, so that an unterminated string fails fast;
# one cut off by a newline or the end of the text stops there. (Its prefix is read after: a
# pattern that starts at ``#``, a quote or a letter would try every letter of the text.)
_PROSE = re.compile(
    r"#[^\r\n]*+"
    r"|'''(?:[^'\\]++|\\.|'(?!''))*+(?:'''|\Z)"
    r'|"""(?:[^"\\]++|\\.|"(?!""))*+(?:"""|\Z)'
    r"|'(?:[^'\\\r\n]++|\\.)*+(?:'|(?=[\r\n])|\Z)"
    r'|"(?:[^"\\\r\n]++|\\.)*+(?:"|(?=[\r\n])|\Z)',
    re.S,
)


def _prose_spans(text: str) -> list[int]:
    """The comments and strings of ``text`` as sorted offsets ``[start, end, start, end, …]``
    (an offset inside one has an odd ``bisect_right``). An f-string is code, its braces hold
    expressions: a string with an ``f`` among the letters just before its quote (``if"…"`` too,
    which only errs on the side of code)."""
    spans: list[int] = []
    for match in _PROSE.finditer(text):
        start, end = match.span()
        before = text[max(0, start - 2):start]  # the prefix, if any, and what may precede it
        prefix = before if before.isalpha() else before[-1:] if before[-1:].isalpha() else ""
        if "f" in prefix.lower() and text[start] != "#":
            continue
        spans += start, end
    return spans


def _logical_line(text: str, offset: int) -> tuple[int, int]:
    """The start and end of the lines that hold ``offset`` and continue its statement
    (open brackets, a trailing backslash); a bracket in a comment only widens it."""
    start = text.rfind("\n", 0, offset) + 1
    end, depth = start, 0
    while True:
        newline = text.find("\n", end)
        if newline == -1:
            return start, len(text)
        segment = text[end:newline]
        depth += segment.count("(") + segment.count("[") - segment.count(")") - segment.count("]")
        if depth <= 0 and not segment.rstrip().endswith("\\"):
            return start, newline
        end = newline + 1


_STAR_WORDS = re.compile(r"import[ \t]+\*")
_STAR_IMPORT = re.compile(r"^[ \t]*from[ \t]+[.\w]+[ \t]+import[ \t]+\*", re.M)


def _star_imports(text: str) -> bool:
    """Does ``text`` hold a ``from x import *``? (A literal search first: it is fast.)"""
    return _STAR_WORDS.search(text) is not None and _STAR_IMPORT.search(text) is not None


# Top-level modules that are never the project's own: a ``from x import *`` of one brings no
# name of the project (a name apart from ``_LIBRARIES``, the modules a project may hand on
# under its own name, which it includes).
_OUTSIDE_PROJECT = _LIBRARIES | frozenset({
    "flax", "os", "sys", "matplotlib", "pylab", "pandas", "sklearn", "tkinter", "sympy", "theano",
    "lasagne", "chainer", "mxnet",
})


def _star_imports_from_project(text: str) -> bool:
    """Does ``text`` hold a ``from x import *`` that may bring a name of the project (x is
    not one of the libraries above: ``from keras.layers import *`` brings none)?"""
    if _STAR_WORDS.search(text) is None:
        return False
    return any(
        match.group(1).split(".")[0] not in _OUTSIDE_PROJECT for match in _STAR_MODULE.finditer(text)
    )


_WORD_CHARACTER = re.compile(r"\w")
_STAR_MODULE = re.compile(r"^[ \t]*from[ \t]+([.\w]+)[ \t]+import[ \t]+\*", re.M)


def _lines_spelling(text: str, words: frozenset[str]) -> list[int]:
    """The lines (1-based, sorted) on which ``text`` spells one of ``words`` as an identifier.
    (The pattern starts with the words, not ``\\b``, so that the regex engine looks for them
    in C; a match that ends a longer identifier is dropped after.)"""
    pattern = re.compile(r"(?:" + "|".join(map(re.escape, sorted(words))) + r")\b")
    lines, line, counted_to = [], 1, 0
    for match in pattern.finditer(text):
        if match.start() and _WORD_CHARACTER.match(text, match.start() - 1):
            continue  # inside a longer identifier
        line += text.count("\n", counted_to, match.start())
        counted_to = match.start()
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


@dataclass
class RemoteSite:
    """A call of a function of one module in another module."""

    call: ast.Call
    skip: int  # leading parameters the call does not pass (``self``)
    analysis: "ModuleAnalysis"
    scope: ast.AST  # the function (or module) the call stands in

    @property
    def where(self) -> str:
        return f"{self.analysis.relative}:{self.call.lineno}"

    def value_of(self, argument: ast.expr) -> Value | None:
        """The value the call passes, as the called module sees it (None past the bounds)."""
        index = self.analysis.index
        if index.hops >= MAX_HOPS:
            return None
        index.hops += 1
        try:
            evaluator = self.analysis.evaluator
            value = evaluator.of(argument, evaluator._scope_of(self.scope))
        finally:
            index.hops -= 1
        index.consulted.add(self.analysis.relative)
        return export(value, self.analysis.evaluator.autocast)


def _prefer(reached: dict, module: str, item) -> None:
    """float16 evidence wins over bfloat16 (its range is the narrower)."""
    known = reached.get(module)
    if known is None or (known.dtype != "float16" and item.dtype == "float16"):
        reached[module] = item


_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]+)|import[ \t]+([^\n#;]+))", re.M
)


def _imports_in(text: str, relative: str, files) -> list[tuple[tuple[str, ...], str, list[str]]]:
    """(bases, module, imported names) of every import statement, found by a text search
    (the reach of the profile needs no parse)."""
    folder = _folder(relative)
    absolute_bases = _absolute_bases(folder, files)
    found = []
    for match in _IMPORT.finditer(text):
        if match.group(3) is not None:
            for part in match.group(3).split(","):
                module = part.strip().split(" as ")[0].strip()
                if module:
                    found.append((absolute_bases, module, []))
            continue
        module, names = match.group(1), match.group(2)
        names = [name.strip().split(" as ")[0].strip() for name in names.strip("()").replace("\\", " ").split(",")]
        names = [name for name in names if name.isidentifier()]
        level = len(module) - len(module.lstrip("."))
        if level:
            base = folder
            for _ in range(level - 1):
                base = _folder(base) if base else None
                if base is None:
                    break
            if base is None:
                continue
            found.append(((base,), module.lstrip("."), names))
        else:
            found.append((absolute_bases, module, names))
    return found


# -- one index per project, for every front-end

_INDEXES: dict[str, ProjectIndex] = {}
_cache = None  # the results cache of the run (``stablelint.cache.Cache``): it keeps the index's records


def use_cache(cache) -> None:
    """The cache a run keeps its findings in (None: none): the index keeps there, by
    content, what it derives from each file alone (the precision profile's evidence)."""
    global _cache
    _cache = cache


def _record_name(root: str) -> str:
    return hashlib.blake2b(root.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _text_digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _evidence_body(derived: dict[str, tuple[str, list]]) -> bytes:
    """``{file: [digest of its text, [[line, dtype, what, local, mixed], ...]]}`` as JSON."""
    table = {
        relative: [digest, [[item.line, item.dtype, item.what, item.local, item.mixed] for item in evidence]]
        for relative, (digest, evidence) in derived.items()
    }
    return json.dumps(table, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")


def _evidence_record(body: bytes | None) -> dict[str, tuple[str, list]]:
    """What ``_evidence_body`` wrote, read back: anything else, whole or in part, is nothing."""
    if not body:
        return {}
    try:
        table = json.loads(body)
        found: dict[str, tuple[str, list]] = {}
        for relative, (digest, items) in table.items():
            if type(digest) is not str or type(items) is not list:
                return {}
            evidence = []
            for line, dtype, what, local, mixed in items:
                if type(line) is not int or dtype not in ("float16", "bfloat16") or type(what) is not str or \
                        type(local) is not bool or type(mixed) is not bool:
                    return {}
                evidence.append(precision_profile.Evidence(relative, line, dtype, what, local, mixed))
            found[relative] = (digest, evidence)
        return found
    except (ValueError, TypeError, AttributeError, RecursionError):
        return {}
def index_for(path: str) -> ProjectIndex | None:
    """The index of the project ``path`` belongs to (one per root and process)."""
    root = root_for(path)
    if root is None:
        return None
    index = _INDEXES.get(root)
    if index is None:
        index = _INDEXES[root] = ProjectIndex(root)
    return index


def reset() -> None:
    """Forget every index (a new run reads the projects as they are now)."""
    _INDEXES.clear()
    use_cache(None)
    project_files.reset()


def forget(path: str) -> None:
    """An edit of ``path`` (the language server): the index derives its summary again."""
    index = _INDEXES.get(root_for(path) or "")
    if index is not None:
        relative = index.relative(path)
        if relative is not None:
            index.forget(relative)
