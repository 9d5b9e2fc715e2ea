"""What a name means where it is used: one scope's definitions, walked in order.

``p = softmax(z)`` … ``log(p)`` is ``log(softmax(z))`` only if nothing changed ``p`` in
between.  The walker keeps, per scope, the last definition of each name and forgets it
whenever it becomes uncertain: bound in a branch or a loop, by unpacking, mutated in
place (``p.clamp_()``, ``p[m] = 0``, ``out=p``), or shadowed by a parameter, a lambda or
a comprehension variable.
"""

from __future__ import annotations

import ast
from bisect import bisect_left

from stablelint.ir import identifier_of
from stablelint.syntax import child_nodes

_EXPRESSION_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
# NumPy's functions and methods that write into their first argument (or receiver) in place:
# ``np.add.at(total, idx, v)``, ``np.copyto(a, b)``, ``a.fill(0)``, ``np.put(a, i, v)``.
NUMPY_IN_PLACE = frozenset({"at", "put", "copyto", "place", "putmask", "fill_diagonal", "fill", "itemset", "sort"})
# torch.distributed's collectives that write their result into the tensor they are given
# (``dist.all_reduce(t)``: t is now the sum over ranks), in the function form only.
COLLECTIVES_IN_PLACE = frozenset({
    "all_reduce", "all_reduce_coalesced", "broadcast", "all_gather_into_tensor", "reduce_scatter_tensor",
    "all_to_all_single", "recv", "irecv",
})
_MAX_FUNCTIONS = frozenset({"max", "amax", "reduce_max", "nanmax"})


class Env:
    """Definitions of one scope at one point of the walk.

    ``defs``: name -> (defining expression, line), or None when the name is bound but
    its value is unknown (a parameter, a loop variable, a mutated name).
    ``binding_lines``: every line binding each name, shared by all branches of the
    scope, so a fix can tell whether a definition's inputs were rebound before the use.
    ``shadowed``: names rebound by an enclosing lambda or comprehension.
    ``loops``: (first, last) lines of the loops around this point.
    """

    __slots__ = ("defs", "binding_lines", "shadowed", "loops", "written", "function", "owner", "version", "earlier")

    remote = False  # the scope being walked (analysis.evaluate.RemoteScope is the other kind)

    def __init__(self, function: ast.AST | None = None, owner: ast.ClassDef | None = None) -> None:
        self.defs: dict[str, tuple[ast.expr, int] | None] = {}
        self.binding_lines: dict[str, list[int]] = {}
        self.shadowed: frozenset[str] = frozenset()
        self.loops: tuple[tuple[int, int], ...] = ()
        self.written: set[str] = set()  # names this branch changed: all a merge must look at
        self.function = function  # the function whose body this is (None: module or class body)
        self.owner = owner  # the class of a method's body (or, with no function, of a class body)
        self.version = 0  # bumped at every change: values computed before it are stale
        # The definitions a name had before its current one, for ``x = f(x)``: inside its
        # own definition, x means the one before.
        self.earlier: dict[str, tuple[tuple[ast.expr, int], ...]] = {}

    def branch(self) -> "Env":
        child = Env(self.function, self.owner)
        child.defs = dict(self.defs)
        child.binding_lines = self.binding_lines
        child.shadowed = self.shadowed
        child.loops = self.loops
        child.earlier = dict(self.earlier)
        return child

    def definition(self, name: str) -> tuple[ast.expr, int] | None:
        """The expression ``name`` was last bound to, with the line of that binding."""
        return self.defs.get(name)

    def is_local(self, name: str) -> bool:
        """Bound in this scope (so not the module-level import of the same name)."""
        return name in self.defs

    def definitions(self, name: str) -> list[tuple[ast.expr, int]]:
        """The current definition of ``name`` and the ones before it, newest first."""
        current = self.defs.get(name)
        if current is None:
            return []
        return [current, *reversed(self.earlier.get(name, ()))]

    def bind(self, name: str, value: ast.expr | None, line: int) -> None:
        previous = self.defs.get(name)
        if value is None or previous is None:
            self.earlier[name] = ()
        else:
            self.earlier[name] = self.earlier.get(name, ())[-7:] + (previous,)
        self.defs[name] = None if value is None else (value, line)
        self.binding_lines.setdefault(name, []).append(line)
        self.written.add(name)
        self.version += 1

    def forget(self, name: str) -> None:
        self.defs[name] = None
        self.earlier[name] = ()
        self.written.add(name)
        self.version += 1

    def mutated(self, name: str, line: int) -> None:
        """``name``'s object changed in place: so did every alias of it (``q = p``)."""
        aliases = {name}
        definition = self.defs.get(name)
        while definition is not None and isinstance(definition[0], ast.Name) and definition[0].id not in aliases:
            aliases.add(definition[0].id)
            definition = self.defs.get(definition[0].id)
        for other, other_definition in self.defs.items():
            if other_definition is not None and isinstance(other_definition[0], ast.Name):
                if other_definition[0].id in aliases:
                    aliases.add(other)
        for alias in aliases:
            self.bind(alias, None, line)

    def rebound_since(self, names: set[str], since_line: int, use_line: int) -> bool:
        """Could any of ``names`` mean something else at ``use_line`` than at ``since_line``?

        Inside a loop that started after ``since_line``, a binding anywhere later in the
        loop body reaches the use on the next iteration.
        """
        if names & self.shadowed:
            return True
        until = max([use_line - 1] + [last for first, last in self.loops if first > since_line])
        return any(
            since_line <= line <= until
            for name in names
            for line in self.binding_lines.get(name, ())
        )


def bound_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in bound_names(element)]
    if isinstance(target, ast.Starred):
        return bound_names(target.value)
    if isinstance(target, (ast.Subscript, ast.Attribute)):
        # ``p[mask] = 0`` changes p's value: p no longer equals its definition.
        root = target.value
        while isinstance(root, (ast.Subscript, ast.Attribute)):
            root = root.value
        return [root.id] if isinstance(root, ast.Name) else []
    return []


def unpacked(target: ast.Tuple | ast.List, value: ast.expr) -> list[tuple[str, ast.expr]]:
    """(name, element) for ``a, b = value``: the element is ``value``'s own element when it
    is a tuple written out, else ``value[i]`` (a synthetic subscript at value's place)."""
    if any(isinstance(element, ast.Starred) for element in target.elts):
        return []
    written = value.elts if isinstance(value, (ast.Tuple, ast.List)) else None
    if written is not None and len(written) != len(target.elts):
        return []
    pairs = []
    for index, element in enumerate(target.elts):
        if not isinstance(element, ast.Name):
            continue
        if written is not None:
            if isinstance(written[index], ast.Starred):
                return []
            pairs.append((element.id, written[index]))
        else:
            subscript = ast.Subscript(value, ast.Constant(index), ast.Load())
            pairs.append((element.id, ast.copy_location(subscript, value)))
    return pairs


def _bindings_in(statement: ast.stmt, walrus_lines: "LineSet") -> list[tuple[str, int]]:
    """(name, line) of every binding inside ``statement``, nested blocks included.

    Only statements bind (comprehension variables stay in the comprehension), except a
    walrus, looked for only on the lines that have one.
    """
    bindings: list[tuple[str, int]] = []
    pending = [statement]
    while pending:
        current = pending.pop()
        kind = type(current)
        line = current.lineno
        if kind is ast.Assign:
            targets = current.targets
        elif kind in (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor):
            targets = [current.target]
        elif kind in (ast.With, ast.AsyncWith):
            targets = [item.optional_vars for item in current.items if item.optional_vars is not None]
        elif kind is ast.Delete:
            targets = current.targets
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            bindings.append((current.name, line))
            continue  # their bodies are other scopes
        else:
            targets = []
        for target in targets:
            bindings.extend((name, line) for name in bound_names(target))
        if walrus_lines.overlaps(current):
            for node in ast.walk(current):
                if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                    bindings.append((node.target.id, node.lineno))
        for field in ("body", "orelse", "finalbody"):
            pending.extend(getattr(current, field, ()))
        for handler in getattr(current, "handlers", ()):
            if handler.name:
                bindings.append((handler.name, handler.lineno))
            pending.extend(handler.body)
        for case in getattr(current, "cases", ()):
            bindings.extend((name, case.pattern.lineno) for name in _pattern_names(case.pattern))
            pending.extend(case.body)
    return bindings


class LineSet:
    """Sorted line numbers, asked whether a node's line range holds one of them."""

    __slots__ = ("lines",)

    def __init__(self, lines: list[int]):
        self.lines = lines

    def overlaps(self, node: ast.AST) -> bool:
        lines = self.lines
        index = bisect_left(lines, node.lineno)
        return index < len(lines) and lines[index] <= node.end_lineno


def _scope_names(node: ast.expr) -> list[str]:
    """Names a lambda or comprehension binds for its own body."""
    if isinstance(node, ast.Lambda):
        return [arg.arg for arg in parameters(node)]
    return [name for generator in node.generators for name in bound_names(generator.target)]


def parameters(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> list[ast.arg]:
    """Every parameter of a function or lambda, in order, ``*args`` and ``**kwargs`` last."""
    arguments = function.args
    every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs
    return every + [arg for arg in (arguments.vararg, arguments.kwarg) if arg is not None]


def argument_for(call: ast.Call, function, arg: ast.arg, position: int) -> ast.expr | None:
    """The expression ``call`` passes to parameter ``arg`` (at ``position`` among the
    parameters the call fills), its default if it passes none, None if unclear."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    for keyword in call.keywords:
        if keyword.arg == arg.arg:
            return keyword.value
    arguments = function.args
    positional = arguments.posonlyargs + arguments.args
    if arg in positional and 0 <= position < len(call.args):
        return call.args[position]
    if arg in positional:
        defaults = arguments.defaults
        index = positional.index(arg) - (len(positional) - len(defaults))
        return defaults[index] if 0 <= index < len(defaults) else None
    if arg in arguments.kwonlyargs:
        return arguments.kw_defaults[arguments.kwonlyargs.index(arg)]
    return None


class LoopElement(ast.Subscript):
    """What ``for x in xs:`` binds ``x`` to: an element of ``xs`` (``xs[i]``, placed at the
    loop's ``for``: it is written nowhere, so no fix copies it)."""


def _element_of(loop: ast.For | ast.AsyncFor) -> ast.expr | None:
    """The element a loop binds its single-name target to (``for dist in dists``)."""
    if not isinstance(loop.target, ast.Name):
        return None
    element = LoopElement(value=loop.iter, slice=ast.Name(id=loop.target.id, ctx=ast.Load()), ctx=ast.Load())
    return ast.copy_location(element, loop)


class BranchJoin(ast.IfExp):
    """What a name is after ``if c: x = a`` / ``else: x = b``: ``a`` or ``b``, as the
    conditional expression ``a if c else b`` would be (placed at ``c``: it is written nowhere)."""


def _merge(env: Env, *branches: Env, at: ast.If | None = None) -> None:
    """After a branch point, keep a definition only where every branch agrees, or, after
    an ``if``/``else`` (``at``) whose two branches each bind it, their join."""
    for key in set().union(*(branch.written for branch in branches)):
        first = branches[0].defs.get(key)
        agree = all(branch.defs.get(key) == first for branch in branches[1:])
        if not agree and at is not None and len(branches) == 2 and first is not None and \
                branches[1].defs.get(key) is not None and key in branches[0].written and key in branches[1].written:
            second = branches[1].defs[key]
            joined = ast.copy_location(BranchJoin(test=at.test, body=first[0], orelse=second[0]), at.test)
            joined.end_lineno, joined.end_col_offset = at.test.end_lineno, at.test.end_col_offset
            env.defs[key] = (joined, max(first[1], second[1]))
            env.earlier[key] = ()
        else:
            env.defs[key] = first if agree else None
            if not agree:
                env.earlier[key] = ()
        env.written.add(key)
    env.version += 1


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
    binary operation and comparison on a candidate line to ``visit(node, env)``."""

    def __init__(self, candidate_lines: list[int], visit, imports, *, walrus_lines: list[int] = ()):
        self.candidates = LineSet(candidate_lines)
        # Nothing after the last candidate line is visited, so nothing there is walked.
        self.last_line = candidate_lines[-1] if candidate_lines else 0
        self.visit = visit
        self.imports = imports  # module names are not variables a call can mutate
        self.walrus = LineSet(list(walrus_lines))  # lines with ":=", the only ones walked for it

    def run(self, tree: ast.Module) -> None:
        self.block(tree.body, Env())

    def block(self, statements: list[ast.stmt], env: Env) -> None:
        last_line = self.last_line
        for statement in statements:
            if statement.lineno > last_line:
                return
            self.statement(statement, env)

    def expressions(self, node: ast.AST | None, env: Env) -> None:
        if node is None or not hasattr(node, "lineno"):
            return
        if not self.candidates.overlaps(node):
            if self.walrus.overlaps(node):  # ``(p := softmax(z))`` binds p on a quiet line too
                self._walrus_bindings(node, env)
            return
        pending: list[tuple[ast.AST, Env]] = [(node, env)]
        candidates, walrus = self.candidates, self.walrus
        while pending:
            current, current_env = pending.pop()
            kind = type(current)
            if kind is ast.Call:
                self.visit(current, current_env)
                self.forget_mutated(current, env, current.lineno)
            elif kind is ast.BinOp or kind is ast.Compare:
                self.visit(current, current_env)
            elif kind is ast.NamedExpr and isinstance(current.target, ast.Name):
                # A walrus binds in the function's scope, even inside a comprehension,
                # where its value may use the comprehension's own variables.
                inside = current_env is not env
                env.bind(current.target.id, None if inside else current.value, current.lineno)
            elif kind in _EXPRESSION_SCOPES:
                inner = current_env.branch()
                names = _scope_names(current)
                for name in names:
                    inner.bind(name, None, current.lineno)
                inner.shadowed = inner.shadowed | frozenset(names)
                current_env = inner
            # A statement spanning many lines (a call with a dozen arguments) is entered for
            # one candidate line; what stands on its other lines is not visited. (Everything
            # under a node on one candidate line is on that line.)
            if getattr(current, "end_lineno", 0) == getattr(current, "lineno", None):
                pending.extend((child, current_env) for child in child_nodes(current))
                continue
            for child in child_nodes(current):
                if hasattr(child, "lineno") and not candidates.overlaps(child):
                    if walrus.overlaps(child):
                        self._walrus_bindings(child, env, inside=current_env is not env)
                    continue
                pending.append((child, current_env))

    def _walrus_bindings(self, node: ast.AST, env: Env, *, inside: bool = False) -> None:
        pending: list[tuple[ast.AST, bool]] = [(node, inside)]
        while pending:
            current, inside = pending.pop()
            if isinstance(current, ast.NamedExpr) and isinstance(current.target, ast.Name):
                env.bind(current.target.id, None if inside else current.value, current.lineno)
            inside = inside or isinstance(current, _EXPRESSION_SCOPES)
            pending.extend((child, inside) for child in child_nodes(current))

    def forget_mutated(self, call: ast.Call, env: Env, line: int) -> None:
        """``p.clamp_()``, ``torch.nn.init.zeros_(p)``, ``np.clip(p, a, b, out=p)``."""
        for keyword in call.keywords:
            if keyword.arg == "out":
                for name in bound_names(keyword.value):
                    env.mutated(name, line)
        func = call.func
        if not isinstance(func, ast.Attribute):
            return
        attr = func.attr
        in_place = attr.endswith("_") and not attr.startswith("_")
        if not in_place and attr not in NUMPY_IN_PLACE and attr not in COLLECTIVES_IN_PLACE:
            return
        root = func.value
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        if isinstance(root, ast.Name) and root.id in self.imports.names and not env.is_local(root.id):
            mutated = call.args[0] if call.args else None  # function form: the first argument
        elif attr in COLLECTIVES_IN_PLACE:
            return  # a method of that name on an object of the code's own: not a collective
        else:
            mutated = func.value
        for name in bound_names(mutated) if mutated is not None else ():
            env.mutated(name, line)

    def _bind_target(self, target: ast.expr, value: ast.expr | None, env: Env, line: int) -> None:
        if isinstance(target, ast.Name):
            env.bind(target.id, value, line)
            return
        names = bound_names(target)
        if isinstance(target, (ast.Subscript, ast.Attribute)):
            # ``torch.backends.cudnn.benchmark = True`` sets a module's attribute: the name
            # ``torch`` still means the module.
            names = [name for name in names if env.is_local(name) or name not in self.imports.names]
        for name in names:
            env.bind(name, None, line)
        # ``m, _ = torch.max(x, dim=1)``: m is the max; nothing else is known.
        unpacks_max = isinstance(value, ast.Call) and identifier_of(value.func) in _MAX_FUNCTIONS
        if isinstance(target, ast.Tuple) and unpacks_max:
            first = target.elts[0] if target.elts else None
            if isinstance(first, ast.Name):
                env.bind(first.id, value, line)
        elif isinstance(target, (ast.Tuple, ast.List)) and value is not None:
            # ``prob, logit = discriminator(x)``: each name is that element of the value.
            for name, element in unpacked(target, value):
                env.bind(name, element, line)
        if isinstance(target, (ast.Subscript, ast.Attribute)):
            for name in names:
                env.mutated(name, line)

    def statement(self, statement: ast.stmt, env: Env) -> None:
        kind = type(statement)
        line = statement.lineno
        if kind is ast.Assign:
            self.expressions(statement.value, env)
            if isinstance(statement.value, ast.Call):
                self.forget_mutated(statement.value, env, line)
            for target in statement.targets:
                if isinstance(target, ast.Subscript):  # ``x[x == nan] = 0``: the index is computed
                    self.expressions(target.slice, env)
                self._bind_target(target, statement.value, env, line)
        elif kind is ast.Expr:
            self.expressions(statement.value, env)
            if isinstance(statement.value, ast.Call):
                self.forget_mutated(statement.value, env, line)
        elif kind is ast.Return:
            self.expressions(statement.value, env)
        elif kind is ast.AnnAssign:
            self.expressions(statement.value, env)
            self._bind_target(statement.target, statement.value, env, line)
        elif kind is ast.AugAssign:
            self.expressions(statement, env)
            target = statement.target
            if isinstance(target, ast.Name) and isinstance(statement.op, ast.Sub):
                # ``x -= x.max(...)`` is ``x = x - x.max(...)``: keep it, for the max.
                shifted = ast.copy_location(
                    ast.BinOp(ast.Name(target.id, ast.Load()), ast.Sub(), statement.value), statement
                )
                env.bind(target.id, shifted, line)
            else:
                self._bind_target(target, None, env, line)
                for name in bound_names(target):
                    env.mutated(name, line)
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef):
            for decorator in statement.decorator_list:
                self.expressions(decorator, env)
            for default in statement.args.defaults + statement.args.kw_defaults:
                self.expressions(default, env)
            env.bind(statement.name, None, line)
            if not self.candidates.overlaps(statement):
                return  # its body is a scope of its own, with nothing to visit
            # A def in a class body is a method: ``owner`` of the class body's env is the class.
            body_env = Env(statement, env.owner if env.function is None else None)
            for name in (arg.arg for arg in parameters(statement)):
                body_env.bind(name, None, line)
            self.block(statement.body, body_env)
        elif kind is ast.ClassDef:
            for decorator in statement.decorator_list:
                self.expressions(decorator, env)
            env.bind(statement.name, None, line)
            if self.candidates.overlaps(statement):
                self.block(statement.body, Env(None, statement))
        elif kind is ast.If:
            self.expressions(statement.test, env)
            body_env, else_env = env.branch(), env.branch()
            self.block(statement.body, body_env)
            self.block(statement.orelse, else_env)
            _merge(env, body_env, else_env, at=statement)
        elif kind in (ast.For, ast.AsyncFor, ast.While):
            self.expressions(statement.test if kind is ast.While else statement.iter, env)
            # Loop-carried values: whatever the loop binds is ambiguous at its top and after
            # it, and its bindings are known before the body is walked (the next iteration
            # sees the ones below the use).
            bindings = _bindings_in(statement, self.walrus)
            loop_bound = {name for name, _ in bindings}
            for name, binding_line in bindings:
                env.binding_lines.setdefault(name, []).append(binding_line)
            for name in loop_bound:
                env.forget(name)
            if kind is not ast.While:
                self._bind_target(statement.target, _element_of(statement), env, line)
            loop_env = env.branch()
            loop_env.loops = env.loops + ((statement.lineno, statement.end_lineno),)
            self.block(statement.body, loop_env)
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
        elif kind in (ast.Import, ast.ImportFrom):
            pass  # the import table knows them; a conflicting local import is ambiguous there
        elif kind in (ast.Global, ast.Nonlocal, ast.Pass, ast.Break, ast.Continue):
            pass
        else:  # Raise, Assert, and anything newer: just look at its expressions.
            self.expressions(statement, env)
